#include "keyring.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fault.h"
#include "key.h"
#include "keyvault.h"
#include "store/store.h"

struct tsr_keyring {
	struct tsr_key	 *active;	/* with its private half */
	int64_t		  active_since;
	struct tsr_key	**published;	/* public halves, active included */
	size_t		  n_published;
	char		 *jwks;
	size_t		  jwks_len;
};

/* The rows that matter for a transition, found in one listing. */
struct keyset {
	struct tsr_keyrow	*rows;
	size_t			 n;
	const struct tsr_keyrow	*active;
	const struct tsr_keyrow	*next;
};

/* Where o keeps private keys. */
static struct tsr_keyvault
vault_of(const struct tsr_keyring_opts *o)
{
	struct tsr_keyvault v = { o->key_dir, o->keks };

	return v;
}

static void
keyset_free(struct keyset *ks)
{
	free(ks->rows);
	memset(ks, 0, sizeof(*ks));
}

static enum tsr_err
keyset_read(struct tsr_store *st, struct keyset *ks, struct tsr_why *why)
{
	enum tsr_err rc;
	size_t i;

	memset(ks, 0, sizeof(*ks));
	if ((rc = tsr_store_key_list(st, &ks->rows, &ks->n, why)) != TSR_OK)
		return rc;
	for (i = 0; i < ks->n; i++) {
		if (ks->rows[i].state == TSR_KEYSTATE_ACTIVE)
			ks->active = &ks->rows[i];
		else if (ks->rows[i].state == TSR_KEYSTATE_NEXT)
			ks->next = &ks->rows[i];
	}
	return TSR_OK;
}

/*
 * Generate a key, stage its private half (a file written, or the key
 * sealed) and describe it as a row in `state`.  A file exists before any
 * row names it: a crash leaves an orphan file (removed later), never a
 * row without its key; a sealed key is stored with its row.
 */
static enum tsr_err
key_create(const struct tsr_keyring_opts *o, enum tsr_keystate state,
    int64_t now, struct tsr_keyrow *row, struct tsr_keyvault_staged *stg,
    struct tsr_why *why)
{
	struct tsr_keyvault v = vault_of(o);
	struct tsr_key *key = NULL;
	json_t *jwk = NULL;
	char *text = NULL;
	enum tsr_err rc;

	memset(row, 0, sizeof(*row));
	if ((rc = tsr_key_generate(o->bits, &key, why)) != TSR_OK ||
	    (rc = tsr_key_public_jwk(key, &jwk)) != TSR_OK)
		goto out;
	if ((text = json_dumps(jwk, JSON_COMPACT)) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	if (strlen(text) > TSR_MAX_JWK) {
		rc = tsr_err_why(why, TSR_ERR_TOO_LONG, "public JWK too long");
		goto out;
	}
	memcpy(row->jwk, text, strlen(text) + 1);
	memcpy(row->kid, tsr_key_kid(key), TSR_KEY_KID_BUF);
	row->state = state;
	row->bits = tsr_key_bits(key);
	row->created_at = now;
	if (state == TSR_KEYSTATE_ACTIVE)
		row->activated_at = now;
	if ((rc = tsr_keyvault_stage(&v, key, stg, why)) == TSR_OK)
		tsr_fault("keyring.after_keyfile");
out:
	free(text);
	json_decref(jwk);
	tsr_key_destroy(key);
	return rc;
}

/* Drop a key staged for a row that never committed. */
static void
key_abandon(const struct tsr_keyring_opts *o, struct tsr_keyvault_staged *stg)
{
	struct tsr_keyvault v = vault_of(o);

	tsr_keyvault_unstage(&v, stg);
}

/* Insert a new key's row and, sealed, its private key, in the caller's
 * transaction. */
static enum tsr_err
key_insert(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const struct tsr_keyrow *row, const struct tsr_keyvault_staged *stg,
    int64_t now, struct tsr_why *why)
{
	struct tsr_keyvault v = vault_of(o);
	enum tsr_err rc;

	if ((rc = tsr_store_key_insert(st, row, why)) != TSR_OK)
		return rc;
	return tsr_keyvault_store(&v, st, stg, now, why);
}

/* A key that can no longer sign loses its private half: sealed, in the
 * transaction that says so. */
static enum tsr_err
key_drop_in_tx(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const char *kid, struct tsr_why *why)
{
	struct tsr_keyvault v = vault_of(o);

	return tsr_keyvault_drop_in_tx(&v, st, kid, why);
}

/* ... and as a file, once that transaction has committed. */
static enum tsr_err
key_drop(const struct tsr_keyring_opts *o, const char *kid,
    struct tsr_why *why)
{
	struct tsr_keyvault v = vault_of(o);

	return tsr_keyvault_drop(&v, kid, why);
}

/* active -> `to` (retired or revoked), next -> active, new next inserted:
 * inside the caller's transaction. */
static enum tsr_err
promote_next(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const struct keyset *ks, enum tsr_keystate to,
    const struct tsr_keyrow *new_next,
    const struct tsr_keyvault_staged *stg, int64_t now, struct tsr_why *why)
{
	enum tsr_err rc;
	int64_t expires_at;

	if (ks->next == NULL)
		return tsr_err_why(why, TSR_ERR_STATE,
		    "no next key to rotate to");
	expires_at = to == TSR_KEYSTATE_RETIRED ? now + o->retire_window_s :
	    0;
	/* Retire first: the schema allows one active key at a time. */
	if (ks->active != NULL &&
	    ((rc = tsr_store_key_transition(st, ks->active->kid,
	    TSR_KEYSTATE_ACTIVE, to, 0, now, expires_at, why)) != TSR_OK ||
	    (rc = key_drop_in_tx(st, o, ks->active->kid, why)) != TSR_OK))
		return rc;
	if ((rc = tsr_store_key_transition(st, ks->next->kid,
	    TSR_KEYSTATE_NEXT, TSR_KEYSTATE_ACTIVE, now, 0, 0, why)) != TSR_OK)
		return rc;
	return key_insert(st, o, new_next, stg, now, why);
}

enum tsr_err
tsr_keyring_rotate(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const char *expect_active, int64_t now,
    char new_active[TSR_KEY_KID_BUF], struct tsr_why *why)
{
	struct tsr_keyvault v = vault_of(o);
	struct tsr_keyvault_staged stg = { 0 };
	struct tsr_keyrow fresh;
	struct keyset ks = { 0 };
	char old[TSR_MAX_KID + 1] = "";
	enum tsr_err rc;
	int lock = -1;

	memset(&fresh, 0, sizeof(fresh));
	if (new_active != NULL)
		new_active[0] = '\0';
	if ((rc = tsr_keyvault_check(&v, false, why)) != TSR_OK)
		return rc;
	/* The slow part, RSA generation, happens outside the transaction;
	 * the lock says a file is on its way to a row until the commit. */
	if ((rc = tsr_keyvault_lock(&v, &lock, why)) != TSR_OK ||
	    (rc = key_create(o, TSR_KEYSTATE_NEXT, now, &fresh, &stg, why)) !=
	    TSR_OK)
		goto out;
	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK ||
	    (rc = keyset_read(st, &ks, why)) != TSR_OK)
		goto out;
	if (expect_active != NULL && (ks.active == NULL ||
	    strcmp(ks.active->kid, expect_active) != 0)) {
		rc = tsr_err_why(why, TSR_ERR_CONFLICT,
		    "key %s is no longer active: rotated concurrently",
		    expect_active);
		goto out;
	}
	if (ks.active != NULL)
		memcpy(old, ks.active->kid, sizeof(old));
	if ((rc = promote_next(st, o, &ks, TSR_KEYSTATE_RETIRED, &fresh,
	    &stg, now, why)) != TSR_OK)
		goto out;
	tsr_fault("keyring.rotate.before_commit");
	if ((rc = tsr_store_commit(st, why)) != TSR_OK)
		goto out;
	tsr_keyvault_committed(&stg);	/* the store owns it */
	tsr_fault("keyring.rotate.after_commit");
	if (new_active != NULL)
		memcpy(new_active, ks.next->kid, TSR_KEY_KID_BUF);
	/* The retired key must never sign again. */
	if (old[0] != '\0')
		rc = key_drop(o, old, why);
out:
	if (rc != TSR_OK)
		tsr_store_rollback(st);
	key_abandon(o, &stg);
	tsr_keyvault_unlock(lock);
	keyset_free(&ks);
	return rc;
}

/* Revoke the active key: it leaves at once, the next key takes over. */
static enum tsr_err
revoke_in_tx(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const struct keyset *ks, const struct tsr_keyrow *row,
    const struct tsr_keyrow *fresh, const struct tsr_keyvault_staged *stg,
    int64_t now, struct tsr_why *why)
{
	enum tsr_err rc;

	switch (row->state) {
	case TSR_KEYSTATE_ACTIVE:
		return promote_next(st, o, ks, TSR_KEYSTATE_REVOKED, fresh,
		    stg, now, why);
	case TSR_KEYSTATE_NEXT:
		if ((rc = tsr_store_key_transition(st, row->kid,
		    TSR_KEYSTATE_NEXT, TSR_KEYSTATE_REVOKED, 0, now, 0,
		    why)) != TSR_OK ||
		    (rc = key_drop_in_tx(st, o, row->kid, why)) != TSR_OK)
			return rc;
		return key_insert(st, o, fresh, stg, now, why);
	case TSR_KEYSTATE_RETIRED:
		return tsr_store_key_transition(st, row->kid,
		    TSR_KEYSTATE_RETIRED, TSR_KEYSTATE_REVOKED, 0, 0, 0, why);
	default:
		return tsr_err_why(why, TSR_ERR_STATE,
		    "key %s is already %s", row->kid,
		    tsr_keystate_name(row->state));
	}
}

/* Revoking the active or the next key needs a new next key. */
static bool
needs_fresh(const struct tsr_keyrow *row)
{
	return row->state == TSR_KEYSTATE_ACTIVE ||
	    row->state == TSR_KEYSTATE_NEXT;
}

static const struct tsr_keyrow *
keyset_find(const struct keyset *ks, const char *kid)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->rows[i].kid, kid) == 0)
			return &ks->rows[i];
	return NULL;
}

enum tsr_err
tsr_keyring_revoke(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const char *kid, int64_t now, struct tsr_why *why)
{
	struct tsr_keyvault v = vault_of(o);
	struct tsr_keyvault_staged stg = { 0 };
	struct tsr_keyrow fresh, target;
	const struct tsr_keyrow *row;
	struct keyset ks = { 0 };
	enum tsr_err rc;
	int lock = -1;

	memset(&fresh, 0, sizeof(fresh));
	if ((rc = tsr_keyvault_check(&v, false, why)) != TSR_OK ||
	    (rc = tsr_store_key_get(st, kid, &target, why)) != TSR_OK)
		return rc;
	if (needs_fresh(&target) &&
	    ((rc = tsr_keyvault_lock(&v, &lock, why)) != TSR_OK ||
	    (rc = key_create(o, TSR_KEYSTATE_NEXT, now, &fresh, &stg,
	    why)) != TSR_OK))
		goto out;
	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK ||
	    (rc = keyset_read(st, &ks, why)) != TSR_OK)
		goto out;
	if ((row = keyset_find(&ks, kid)) == NULL) {
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND, "no signing key %s",
		    kid);
		goto out;
	}
	if (needs_fresh(row) && fresh.kid[0] == '\0') {
		rc = tsr_err_why(why, TSR_ERR_CONFLICT,
		    "key %s changed state concurrently; try again", kid);
		goto out;
	}
	if ((rc = revoke_in_tx(st, o, &ks, row, &fresh, &stg, now, why)) !=
	    TSR_OK)
		goto out;
	if (row->state == TSR_KEYSTATE_RETIRED &&
	    (rc = key_drop_in_tx(st, o, kid, why)) != TSR_OK)
		goto out;
	tsr_fault("keyring.revoke.before_commit");
	if ((rc = tsr_store_commit(st, why)) != TSR_OK)
		goto out;
	tsr_fault("keyring.revoke.after_commit");
	if (needs_fresh(row))
		tsr_keyvault_committed(&stg);	/* the store owns it */
	rc = key_drop(o, kid, why);
out:
	if (rc != TSR_OK)
		tsr_store_rollback(st);
	key_abandon(o, &stg);
	tsr_keyvault_unlock(lock);
	keyset_free(&ks);
	return rc;
}

/* A key whose private half is gone can no longer be what its row says. */
static bool
file_lost(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const struct tsr_keyrow *r, int64_t now)
{
	struct tsr_keyvault v = vault_of(o);

	return r != NULL && tsr_keyvault_lost(&v, st, r->kid, now);
}

/*
 * The keys a store can serve with: the active and next rows whose private
 * files are on disk.  A lost active key is retired (the tokens it signed
 * still verify); a lost next key is revoked (it never signed).
 */
static void
keyset_usable(struct tsr_store *st, const struct tsr_keyring_opts *o,
    struct keyset *ks, int64_t now, const struct tsr_keyrow **lost_active,
    const struct tsr_keyrow **lost_next)
{
	*lost_active = file_lost(st, o, ks->active, now) ? ks->active : NULL;
	*lost_next = file_lost(st, o, ks->next, now) ? ks->next : NULL;
	if (*lost_active != NULL)
		ks->active = NULL;
	if (*lost_next != NULL)
		ks->next = NULL;
}

/* How many new keys the store needs to have an active and a next key. */
static int
keys_missing(const struct keyset *ks)
{
	return (ks->active == NULL) + (ks->next == NULL);
}

static enum tsr_err
retire_lost(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const struct tsr_keyrow *lost_active, const struct tsr_keyrow *lost_next,
    int64_t now, struct tsr_keyring_report *rep, struct tsr_why *why)
{
	enum tsr_err rc;

	if (lost_active != NULL) {
		if ((rc = tsr_store_key_transition(st, lost_active->kid,
		    TSR_KEYSTATE_ACTIVE, TSR_KEYSTATE_RETIRED, 0, now,
		    now + o->retire_window_s, why)) != TSR_OK)
			return rc;
		(void)snprintf(rep->note, sizeof(rep->note), "active key %s "
		    "had no private key file: retired it", lost_active->kid);
	}
	if (lost_next != NULL) {
		if ((rc = tsr_store_key_transition(st, lost_next->kid,
		    TSR_KEYSTATE_NEXT, TSR_KEYSTATE_REVOKED, 0, now, 0,
		    why)) != TSR_OK)
			return rc;
		(void)snprintf(rep->note, sizeof(rep->note), "next key %s "
		    "had no private key file: revoked it", lost_next->kid);
	}
	return TSR_OK;
}

/* Fill the gaps with the fresh keys, inside the caller's transaction. */
static enum tsr_err
fill_gaps(struct tsr_store *st, const struct tsr_keyring_opts *o,
    const struct keyset *ks, struct tsr_keyrow fresh[2],
    const struct tsr_keyvault_staged stg[2], int64_t now,
    struct tsr_why *why)
{
	struct tsr_keyrow *f = fresh;
	enum tsr_err rc;

	if (ks->active == NULL && ks->next != NULL) {
		/* The next key has been published: it can take over. */
		if ((rc = tsr_store_key_transition(st, ks->next->kid,
		    TSR_KEYSTATE_NEXT, TSR_KEYSTATE_ACTIVE, now, 0, 0,
		    why)) != TSR_OK)
			return rc;
	} else if (ks->active == NULL) {
		f->state = TSR_KEYSTATE_ACTIVE;
		f->activated_at = now;
		if ((rc = key_insert(st, o, f, &stg[0], now, why)) != TSR_OK)
			return rc;
		f++;
	}
	if (ks->next == NULL || ks->active == NULL)
		return key_insert(st, o, f, &stg[f - fresh], now, why);
	return TSR_OK;
}

/* Retired keys whose verification window has passed leave the JWKS. */
static enum tsr_err
expire_retired(struct tsr_store *st, const struct keyset *ks, int64_t now,
    struct tsr_keyring_report *rep, struct tsr_why *why)
{
	enum tsr_err rc;
	size_t i;

	for (i = 0; i < ks->n; i++) {
		const struct tsr_keyrow *r = &ks->rows[i];

		if (r->state != TSR_KEYSTATE_RETIRED || r->expires_at > now)
			continue;
		if ((rc = tsr_store_key_transition(st, r->kid,
		    TSR_KEYSTATE_RETIRED, TSR_KEYSTATE_EXPIRED, 0, 0, 0,
		    why)) != TSR_OK)
			return rc;
		rep->expired++;
	}
	return TSR_OK;
}

/*
 * A key that can no longer sign must not keep a private half: a crash
 * after the commit that retired it, or before the commit that would have
 * recorded it, can leave one behind (see tsr_keyvault_sweep).
 */
static enum tsr_err
destroy_dead_files(struct tsr_store *st, const struct tsr_keyring_opts *o,
    struct tsr_keyring_report *rep, struct tsr_why *why)
{
	struct tsr_keyvault v = vault_of(o);

	return tsr_keyvault_sweep(&v, st, &rep->destroyed, why);
}

/* Inside the transaction: repair, fill the gaps, expire. */
static enum tsr_err
ensure_in_tx(struct tsr_store *st, const struct tsr_keyring_opts *o,
    struct keyset *ks, struct tsr_keyrow fresh[2],
    const struct tsr_keyvault_staged stg[2], int n_fresh, int64_t now,
    struct tsr_keyring_report *rep, struct tsr_why *why)
{
	const struct tsr_keyrow *lost_active, *lost_next;
	enum tsr_err rc;

	keyset_usable(st, o, ks, now, &lost_active, &lost_next);
	if (keys_missing(ks) > n_fresh)
		return tsr_err_why(why, TSR_ERR_CONFLICT,
		    "signing keys changed concurrently; try again");
	rep->created = keys_missing(ks);
	if ((rc = retire_lost(st, o, lost_active, lost_next, now, rep,
	    why)) != TSR_OK ||
	    (rc = fill_gaps(st, o, ks, fresh, stg, now, why)) != TSR_OK ||
	    (rc = expire_retired(st, ks, now, rep, why)) != TSR_OK)
		return rc;
	tsr_fault("keyring.ensure.before_commit");
	return tsr_store_commit(st, why);
}

enum tsr_err
tsr_keyring_ensure(struct tsr_store *st, const struct tsr_keyring_opts *o,
    int64_t now, struct tsr_keyring_report *rep, struct tsr_why *why)
{
	const struct tsr_keyrow *lost_active, *lost_next;
	struct tsr_keyvault v = vault_of(o);
	struct tsr_keyvault_staged stg[2];
	struct tsr_keyring_report dummy;
	struct tsr_keyrow fresh[2];
	struct keyset ks = { 0 };
	int n_fresh = 0, i, lock = -1;
	enum tsr_err rc;

	if (rep == NULL)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	memset(fresh, 0, sizeof(fresh));
	memset(stg, 0, sizeof(stg));
	if ((rc = tsr_keyvault_check(&v, true, why)) != TSR_OK ||
	    (rc = tsr_keyvault_lock(&v, &lock, why)) != TSR_OK ||
	    (rc = keyset_read(st, &ks, why)) != TSR_OK)
		goto out;
	keyset_usable(st, o, &ks, now, &lost_active, &lost_next);
	/* Generate outside the transaction: it is the slow part. */
	for (n_fresh = 0; n_fresh < keys_missing(&ks); n_fresh++)
		if ((rc = key_create(o, TSR_KEYSTATE_NEXT, now,
		    &fresh[n_fresh], &stg[n_fresh], why)) != TSR_OK)
			goto out;
	keyset_free(&ks);
	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK ||
	    (rc = keyset_read(st, &ks, why)) != TSR_OK ||
	    (rc = ensure_in_tx(st, o, &ks, fresh, stg, n_fresh, now, rep,
	    why)) != TSR_OK)
		goto out;
	/* Keys that filled a gap now belong to the store. */
	for (i = 0; i < rep->created; i++)
		tsr_keyvault_committed(&stg[i]);
out:
	if (rc != TSR_OK)
		tsr_store_rollback(st);
	for (i = 0; i < 2; i++)
		key_abandon(o, &stg[i]);
	/* Ours are committed or gone: let the sweep take the lock. */
	tsr_keyvault_unlock(lock);
	if (rc == TSR_OK)
		rc = destroy_dead_files(st, o, rep, why);
	keyset_free(&ks);
	return rc;
}

static bool
is_published(enum tsr_keystate state)
{
	return state == TSR_KEYSTATE_NEXT || state == TSR_KEYSTATE_ACTIVE ||
	    state == TSR_KEYSTATE_RETIRED;
}

/* Parse one stored public JWK, add it to the JWKS array and the list. */
static enum tsr_err
publish_row(struct tsr_keyring *kr, json_t *keys, const struct tsr_keyrow *r,
    struct tsr_why *why)
{
	json_error_t jerr;
	json_t *jwk;
	enum tsr_err rc;

	if ((jwk = json_loads(r->jwk, 0, &jerr)) == NULL)
		return tsr_err_why(why, TSR_ERR_DB,
		    "stored JWK of key %s does not parse", r->kid);
	rc = tsr_key_from_jwk(jwk, &kr->published[kr->n_published], why);
	if (rc == TSR_OK) {
		kr->n_published++;
		if (json_array_append(keys, jwk) != 0)
			rc = TSR_ERR_NOMEM;
	}
	json_decref(jwk);
	return rc;
}

static enum tsr_err
build_published(struct tsr_keyring *kr, const struct keyset *ks,
    struct tsr_why *why)
{
	json_t *doc = NULL, *keys;
	enum tsr_err rc = TSR_OK;
	size_t i;

	kr->published = calloc(ks->n ? ks->n : 1, sizeof(*kr->published));
	doc = json_object();
	keys = json_array();
	if (kr->published == NULL || doc == NULL || keys == NULL ||
	    json_object_set_new(doc, "keys", keys) != 0) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < ks->n && rc == TSR_OK; i++)
		if (is_published(ks->rows[i].state))
			rc = publish_row(kr, keys, &ks->rows[i], why);
	if (rc == TSR_OK &&
	    (kr->jwks = json_dumps(doc, JSON_COMPACT)) == NULL)
		rc = TSR_ERR_NOMEM;
	if (rc == TSR_OK)
		kr->jwks_len = strlen(kr->jwks);
out:
	json_decref(doc);
	return rc;
}

enum tsr_err
tsr_keyring_load(struct tsr_store *st, const char *key_dir,
    const struct tsr_seal_keks *keks, struct tsr_keyring **out,
    struct tsr_why *why)
{
	struct tsr_keyvault v = { key_dir, keks };
	struct tsr_keyring *kr = NULL;
	struct keyset ks = { 0 };
	enum tsr_err rc;

	*out = NULL;
	if ((rc = tsr_keyvault_check(&v, false, why)) != TSR_OK ||
	    (rc = keyset_read(st, &ks, why)) != TSR_OK)
		goto out;
	if (ks.active == NULL) {
		rc = tsr_err_why(why, TSR_ERR_STATE, "no active signing key");
		goto out;
	}
	if ((kr = calloc(1, sizeof(*kr))) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	kr->active_since = ks.active->activated_at;
	if ((rc = tsr_keyvault_load(&v, st, ks.active->kid, &kr->active,
	    why)) != TSR_OK ||
	    (rc = build_published(kr, &ks, why)) != TSR_OK)
		goto out;
	*out = kr;
	kr = NULL;
out:
	tsr_keyring_destroy(kr);
	keyset_free(&ks);
	return rc;
}

enum tsr_err
tsr_keyring_load_public(struct tsr_store *st, struct tsr_keyring **out,
    struct tsr_why *why)
{
	struct tsr_keyring *kr = NULL;
	struct keyset ks = { 0 };
	enum tsr_err rc;

	*out = NULL;
	if ((rc = keyset_read(st, &ks, why)) != TSR_OK)
		goto out;
	if ((kr = calloc(1, sizeof(*kr))) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	if ((rc = build_published(kr, &ks, why)) != TSR_OK)
		goto out;
	*out = kr;
	kr = NULL;
out:
	tsr_keyring_destroy(kr);
	keyset_free(&ks);
	return rc;
}

void
tsr_keyring_destroy(struct tsr_keyring *kr)
{
	size_t i;

	if (kr == NULL)
		return;
	tsr_key_destroy(kr->active);
	for (i = 0; i < kr->n_published; i++)
		tsr_key_destroy(kr->published[i]);
	free(kr->published);
	free(kr->jwks);
	free(kr);
}

const struct tsr_key *
tsr_keyring_active(const struct tsr_keyring *kr)
{
	return kr->active;
}

int64_t
tsr_keyring_active_since(const struct tsr_keyring *kr)
{
	return kr->active_since;
}

const struct tsr_key *
tsr_keyring_find(const struct tsr_keyring *kr, const char *kid)
{
	size_t i;

	for (i = 0; i < kr->n_published; i++)
		if (strcmp(tsr_key_kid(kr->published[i]), kid) == 0)
			return kr->published[i];
	return NULL;
}

const char *
tsr_keyring_jwks(const struct tsr_keyring *kr, size_t *len)
{
	if (len != NULL)
		*len = kr->jwks_len;
	return kr->jwks;
}
