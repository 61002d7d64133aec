#include "keyvault.h"

#include <stdlib.h>
#include <string.h>

#include "keyfile.h"

static bool
sealed(const struct tsr_keyvault *v)
{
	return v->keks != NULL;
}

/* Next and active keys sign (or will); no other key keeps a private half. */
static bool
may_sign(const struct tsr_keyrow *r)
{
	return r->state == TSR_KEYSTATE_NEXT ||
	    r->state == TSR_KEYSTATE_ACTIVE;
}

enum tsr_err
tsr_keyvault_check(const struct tsr_keyvault *v, bool create,
    struct tsr_why *why)
{
	if (sealed(v))
		return TSR_OK;
	return tsr_keyfile_dir_check(v->dir, create, why);
}

/* Seal key's PEM under the first KEK, bound to its kid. */
static enum tsr_err
seal_key(const struct tsr_keyvault *v, const struct tsr_key *key,
    char **out, struct tsr_why *why)
{
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	enum tsr_err rc;

	if ((rc = tsr_key_to_pem(key, &pem, &pem_len, why)) != TSR_OK)
		return rc;
	rc = tsr_seal_wrap(v->keks, tsr_key_kid(key), pem, pem_len, out, why);
	tsr_key_pem_free(pem, pem_len);
	return rc;
}

enum tsr_err
tsr_keyvault_stage(const struct tsr_keyvault *v, const struct tsr_key *key,
    struct tsr_keyvault_staged *stg, struct tsr_why *why)
{
	enum tsr_err rc;

	memset(stg, 0, sizeof(*stg));
	if (sealed(v))
		rc = seal_key(v, key, &stg->sealed, why);
	else
		rc = tsr_keyfile_save(key, v->dir, why);
	if (rc == TSR_OK)
		memcpy(stg->kid, tsr_key_kid(key), sizeof(stg->kid));
	return rc;
}

enum tsr_err
tsr_keyvault_store(const struct tsr_keyvault *v, struct tsr_store *st,
    const struct tsr_keyvault_staged *stg, int64_t now, struct tsr_why *why)
{
	if (!sealed(v))
		return TSR_OK;
	return tsr_store_key_secret_put(st, stg->kid, stg->sealed, now, why);
}

void
tsr_keyvault_committed(struct tsr_keyvault_staged *stg)
{
	stg->kid[0] = '\0';
}

void
tsr_keyvault_unstage(const struct tsr_keyvault *v,
    struct tsr_keyvault_staged *stg)
{
	enum tsr_err ignored;

	/* Best effort: a file left behind has no row and can never sign;
	 * the sweep removes it. */
	if (!sealed(v) && stg->kid[0] != '\0') {
		ignored = tsr_keyfile_destroy(v->dir, stg->kid, NULL);
		(void)ignored;
	}
	free(stg->sealed);
	memset(stg, 0, sizeof(*stg));
}

static enum tsr_err
load_sealed(const struct tsr_keyvault *v, struct tsr_store *st,
    const char *kid, struct tsr_key **out, struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	char *text = NULL;
	enum tsr_err rc;

	if ((rc = tsr_store_key_secret_get(st, kid, &text, why)) != TSR_OK ||
	    (rc = tsr_seal_unwrap(v->keks, kid, text, &plain, &plain_len,
	    why)) != TSR_OK ||
	    (rc = tsr_key_from_pem(plain, plain_len, &key, why)) != TSR_OK)
		goto out;
	/* The AAD binds the text to kid; this binds the key to it too. */
	if (strcmp(tsr_key_kid(key), kid) != 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "sealed key for %s holds another key", kid);
		goto out;
	}
	*out = key;
	key = NULL;
out:
	tsr_seal_plain_free(plain, plain_len);
	tsr_key_destroy(key);
	free(text);
	return rc;
}

enum tsr_err
tsr_keyvault_load(const struct tsr_keyvault *v, struct tsr_store *st,
    const char *kid, struct tsr_key **out, struct tsr_why *why)
{
	*out = NULL;
	if (sealed(v))
		return load_sealed(v, st, kid, out, why);
	return tsr_keyfile_load(v->dir, kid, out, why);
}

bool
tsr_keyvault_lost(const struct tsr_keyvault *v, struct tsr_store *st,
    const char *kid, int64_t now)
{
	char *text = NULL;
	int64_t age;
	bool lost;

	if (!sealed(v))
		return tsr_keyfile_age(v->dir, kid, now, &age, NULL) ==
		    TSR_ERR_NOT_FOUND;
	lost = tsr_store_key_secret_get(st, kid, &text, NULL) ==
	    TSR_ERR_NOT_FOUND;
	free(text);
	return lost;
}

enum tsr_err
tsr_keyvault_drop_in_tx(const struct tsr_keyvault *v, struct tsr_store *st,
    const char *kid, struct tsr_why *why)
{
	if (!sealed(v))
		return TSR_OK;
	return tsr_store_key_secret_delete(st, kid, NULL, why);
}

enum tsr_err
tsr_keyvault_drop(const struct tsr_keyvault *v, const char *kid,
    struct tsr_why *why)
{
	if (sealed(v))
		return TSR_OK;
	return tsr_keyfile_destroy(v->dir, kid, why);
}

static const struct tsr_keyrow *
find_row(const struct tsr_keyrow *rows, size_t n, const char *kid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(rows[i].kid, kid) == 0)
			return &rows[i];
	return NULL;
}

/*
 * Files of keys that can no longer sign go at once.  A file with no row
 * goes only while we hold the directory's lock exclusively: no other
 * process is then between writing a key file and committing its row,
 * and the rows are read after taking the lock, so a row committed just
 * before is seen.
 */
static enum tsr_err
sweep_files(const struct tsr_keyvault *v, struct tsr_store *st,
    int *destroyed, struct tsr_why *why)
{
	const struct tsr_keyrow *row;
	struct tsr_keyrow *rows = NULL;
	size_t n_rows = 0, n = 0, i;
	char **kids = NULL;
	enum tsr_err rc;
	bool orphans;
	int lock = -1;

	orphans = tsr_keyfile_lock_exclusive(v->dir, &lock, NULL) == TSR_OK;
	if ((rc = tsr_store_key_list(st, &rows, &n_rows, why)) != TSR_OK ||
	    (rc = tsr_keyfile_list(v->dir, &kids, &n, why)) != TSR_OK)
		goto out;
	for (i = 0; i < n && rc == TSR_OK; i++) {
		row = find_row(rows, n_rows, kids[i]);
		if ((row != NULL && may_sign(row)) || (row == NULL && !orphans))
			continue;
		if ((rc = tsr_keyfile_destroy(v->dir, kids[i], why)) ==
		    TSR_OK)
			(*destroyed)++;
	}
out:
	tsr_keyfile_unlock(lock);
	tsr_keyfile_kids_free(kids, n);
	free(rows);
	return rc;
}

/* A sealed key has no orphans: its row is its foreign key. */
static enum tsr_err
sweep_sealed(struct tsr_store *st, int *destroyed, struct tsr_why *why)
{
	struct tsr_keyrow *rows = NULL;
	enum tsr_err rc;
	size_t n = 0, i;
	bool gone;

	if ((rc = tsr_store_key_list(st, &rows, &n, why)) != TSR_OK)
		return rc;
	for (i = 0; i < n && rc == TSR_OK; i++) {
		if (may_sign(&rows[i]))
			continue;
		rc = tsr_store_key_secret_delete(st, rows[i].kid, &gone, why);
		if (rc == TSR_OK && gone)
			(*destroyed)++;
	}
	free(rows);
	return rc;
}

enum tsr_err
tsr_keyvault_sweep(const struct tsr_keyvault *v, struct tsr_store *st,
    int *destroyed, struct tsr_why *why)
{
	if (!sealed(v))
		return sweep_files(v, st, destroyed, why);
	return sweep_sealed(st, destroyed, why);
}

enum tsr_err
tsr_keyvault_lock(const struct tsr_keyvault *v, int *lock,
    struct tsr_why *why)
{
	*lock = -1;
	if (sealed(v))
		return TSR_OK;
	return tsr_keyfile_lock_shared(v->dir, lock, why);
}

void
tsr_keyvault_unlock(int lock)
{
	tsr_keyfile_unlock(lock);
}

/* Seal kid's key again under the first KEK, unless it already is. */
static enum tsr_err
reseal_one(const struct tsr_keyvault *v, struct tsr_store *st,
    const char *kid, int64_t now, int *resealed, struct tsr_why *why)
{
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	char *text = NULL, *fresh = NULL;
	enum tsr_err rc;

	rc = tsr_store_key_secret_get(st, kid, &text, why);
	if (rc == TSR_ERR_NOT_FOUND)
		return TSR_OK;		/* a key with nothing sealed */
	if (rc != TSR_OK || tsr_seal_is_current(v->keks, text))
		goto out;
	if ((rc = tsr_seal_unwrap(v->keks, kid, text, &plain, &plain_len,
	    why)) != TSR_OK ||
	    (rc = tsr_seal_wrap(v->keks, kid, plain, plain_len, &fresh,
	    why)) != TSR_OK ||
	    (rc = tsr_store_key_secret_put(st, kid, fresh, now, why)) !=
	    TSR_OK)
		goto out;
	(*resealed)++;
out:
	tsr_seal_plain_free(plain, plain_len);
	free(text);
	free(fresh);
	return rc;
}

enum tsr_err
tsr_keyvault_reseal(const struct tsr_keyvault *v, struct tsr_store *st,
    int64_t now, int *resealed, struct tsr_why *why)
{
	struct tsr_keyrow *rows = NULL;
	size_t n = 0, i;
	enum tsr_err rc;

	*resealed = 0;
	if (!sealed(v))
		return tsr_err_why(why, TSR_ERR_STATE, "private keys are in "
		    "the key directory, not sealed: give "
		    "--key-encryption-key");
	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK)
		return rc;
	if ((rc = tsr_store_key_list(st, &rows, &n, why)) == TSR_OK)
		for (i = 0; i < n && rc == TSR_OK; i++)
			rc = reseal_one(v, st, rows[i].kid, now, resealed,
			    why);
	free(rows);
	if (rc == TSR_OK)
		rc = tsr_store_commit(st, why);
	if (rc != TSR_OK) {
		tsr_store_rollback(st);
		*resealed = 0;
	}
	return rc;
}
