#include "issuer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "seal.h"

/* The CA key's PEM as row keeps it: a file of the key directory, or
 * sealed in the row (AAD "ca"). */
static enum tsr_err
key_read(const struct tsr_keyvault *v, const struct tsr_carow *row,
    uint8_t **pem, size_t *pem_len, bool *sealed, struct tsr_why *why)
{
	*sealed = strcmp(row->key_ref, TSR_ISSUER_KEY_SEALED) == 0;
	if (*sealed) {
		if (v->keks == NULL)
			return tsr_err_why(why, TSR_ERR_STATE, "the CA key is "
			    "sealed in the store: give --key-encryption-key");
		return tsr_seal_unwrap(v->keks, TSR_ISSUER_KEY_AAD,
		    row->key_sealed, pem, pem_len, why);
	}
	if (strcmp(row->key_ref, TSR_ISSUER_KEY_REF) != 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "the CA key is kept where this program cannot read it");
	return tsr_keyfile_load_pem(v->dir, TSR_ISSUER_KEY_BASE, pem, pem_len,
	    why);
}

enum tsr_err
tsr_issuer_load(struct tsr_store *st, const struct tsr_keyvault *v,
    struct tsr_ca **out, struct tsr_why *why)
{
	struct tsr_carow *row;
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	enum tsr_err rc;
	bool sealed = false;

	*out = NULL;
	if ((row = malloc(sizeof(*row))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "CA");
	if ((rc = tsr_store_ca_get(st, row, why)) != TSR_OK ||
	    (rc = key_read(v, row, &pem, &pem_len, &sealed, why)) != TSR_OK)
		goto out;
	rc = tsr_ca_load((const uint8_t *)row->cert_pem,
	    strlen(row->cert_pem), pem, pem_len, out, why);
out:
	if (sealed)
		tsr_seal_plain_free(pem, pem_len);
	else
		tsr_keyfile_pem_free(pem);
	free(row);
	return rc;
}

/* Keep the CA key: sealed into row with KEKs, else in its file. */
static enum tsr_err
key_keep(const struct tsr_keyvault *v, const uint8_t *key, size_t key_len,
    struct tsr_carow *row, struct tsr_why *why)
{
	char *text = NULL;
	enum tsr_err rc;

	if (v->keks == NULL) {
		(void)snprintf(row->key_ref, sizeof(row->key_ref), "%s",
		    TSR_ISSUER_KEY_REF);
		return tsr_keyfile_save_pem(v->dir, TSR_ISSUER_KEY_BASE, key,
		    key_len, why);
	}
	if ((rc = tsr_seal_wrap(v->keks, TSR_ISSUER_KEY_AAD, key, key_len,
	    &text, why)) != TSR_OK)
		return rc;
	if (strlen(text) >= sizeof(row->key_sealed))
		rc = tsr_err_why(why, TSR_ERR_TOO_LONG, "sealed CA key");
	else {
		memcpy(row->key_sealed, text, strlen(text) + 1);
		(void)snprintf(row->key_ref, sizeof(row->key_ref), "%s",
		    TSR_ISSUER_KEY_SEALED);
	}
	free(text);
	return rc;
}

/* Fill row from ca and keep its key. */
static enum tsr_err
init_row(const struct tsr_ca *ca, const struct tsr_keyvault *v, time_t now,
    struct tsr_carow *row, struct tsr_why *why)
{
	uint8_t *key = NULL;
	size_t key_len = 0;
	char *pem = NULL;
	size_t pem_len = 0;
	enum tsr_err rc;

	memset(row, 0, sizeof(*row));
	if ((rc = tsr_ca_cert_pem(ca, &pem, &pem_len)) != TSR_OK)
		return tsr_err_why(why, rc, "CA certificate");
	if (pem_len >= sizeof(row->cert_pem)) {
		free(pem);
		return tsr_err_why(why, TSR_ERR_TOO_LONG, "CA certificate");
	}
	memcpy(row->cert_pem, pem, pem_len);
	free(pem);
	(void)snprintf(row->sha256, sizeof(row->sha256), "%s",
	    tsr_ca_fingerprint(ca));
	row->created_at = (int64_t)now;
	if ((rc = tsr_ca_key_pem(ca, &key, &key_len, why)) != TSR_OK)
		return rc;
	rc = key_keep(v, key, key_len, row, why);
	tsr_ca_pem_free(key, key_len);
	return rc;
}

enum tsr_err
tsr_issuer_init(struct tsr_store *st, const struct tsr_keyvault *v,
    const char *cn,
    int64_t ttl, time_t now, struct tsr_ca **out, struct tsr_why *why)
{
	struct tsr_carow *row = NULL;
	struct tsr_ca *ca = NULL;
	enum tsr_err rc;

	if (out != NULL)
		*out = NULL;
	if ((row = malloc(sizeof(*row))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "CA");
	/* Refuse before making a key file that would then be in the way. */
	if ((rc = tsr_store_ca_get(st, row, NULL)) != TSR_ERR_NOT_FOUND) {
		if (rc == TSR_OK)
			rc = tsr_err_why(why, TSR_ERR_EXISTS,
			    "the store already has a CA");
		else
			rc = tsr_store_ca_get(st, row, why);
		goto out;
	}
	if ((rc = tsr_ca_create(cn, ttl, 256, now, &ca, why)) != TSR_OK ||
	    (rc = init_row(ca, v, now, row, why)) != TSR_OK ||
	    (rc = tsr_store_ca_insert(st, row, why)) != TSR_OK ||
	    (rc = tsr_issuer_crl_refresh(st, ca, now, false, why)) != TSR_OK)
		goto out;
	if (out != NULL) {
		*out = ca;
		ca = NULL;
	}
out:
	tsr_ca_destroy(ca);
	free(row);
	return rc;
}

/* row's sealed CA key, sealed again under the first KEK. */
static enum tsr_err
reseal_row(struct tsr_store *st, const struct tsr_keyvault *v,
    const struct tsr_carow *row, struct tsr_why *why)
{
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	char *text = NULL;
	enum tsr_err rc;

	if ((rc = tsr_seal_unwrap(v->keks, TSR_ISSUER_KEY_AAD,
	    row->key_sealed, &pem, &pem_len, why)) == TSR_OK &&
	    (rc = tsr_seal_wrap(v->keks, TSR_ISSUER_KEY_AAD, pem, pem_len,
	    &text, why)) == TSR_OK)
		rc = tsr_store_ca_reseal(st, text, why);
	tsr_seal_plain_free(pem, pem_len);
	free(text);
	return rc;
}

enum tsr_err
tsr_issuer_reseal(struct tsr_store *st, const struct tsr_keyvault *v,
    bool *resealed, struct tsr_why *why)
{
	struct tsr_carow *row;
	enum tsr_err rc;

	if (resealed != NULL)
		*resealed = false;
	if (v->keks == NULL)
		return tsr_err_why(why, TSR_ERR_STATE,
		    "resealing needs key-encryption keys");
	if ((row = malloc(sizeof(*row))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "CA");
	if ((rc = tsr_store_ca_get(st, row, NULL)) == TSR_ERR_NOT_FOUND)
		rc = TSR_OK;			/* no CA: nothing to do */
	else if (rc != TSR_OK)
		rc = tsr_store_ca_get(st, row, why);
	else if (strcmp(row->key_ref, TSR_ISSUER_KEY_SEALED) == 0 &&
	    !tsr_seal_is_current(v->keks, row->key_sealed) &&
	    (rc = reseal_row(st, v, row, why)) == TSR_OK && resealed != NULL)
		*resealed = true;
	free(row);
	return rc;
}

enum tsr_err
tsr_issuer_record(struct tsr_store *st, const struct tsr_client *cl,
    const struct tsr_ca_issued *iss, time_t now, struct tsr_why *why)
{
	struct tsr_certrow row;

	memset(&row, 0, sizeof(row));
	(void)snprintf(row.serial, sizeof(row.serial), "%s", iss->serial);
	(void)snprintf(row.client, sizeof(row.client), "%s", cl->name);
	(void)snprintf(row.sha256, sizeof(row.sha256), "%s", iss->sha256);
	row.not_before = iss->not_before;
	row.not_after = iss->not_after;
	row.issued_at = (int64_t)now;
	row.crl_reason = TSR_CA_REASON_NONE;
	return tsr_store_cert_insert(st, &row, why);
}

enum tsr_err
tsr_issuer_issue(struct tsr_store *st, const struct tsr_ca *ca,
    const struct tsr_client *cl, const uint8_t *csr, size_t csr_len,
    int64_t ttl, time_t now, struct tsr_ca_issued *out, struct tsr_why *why)
{
	enum tsr_err rc;

	if (ttl == 0)
		ttl = tsr_client_cert_ttl(cl);
	if ((rc = tsr_ca_issue(ca, csr, csr_len, cl->cn, ttl, now, out,
	    why)) != TSR_OK)
		return rc;
	if ((rc = tsr_issuer_record(st, cl, out, now, why)) != TSR_OK)
		tsr_ca_issued_free(out);
	return rc;
}

/* Sign and store the next CRL; the caller holds the write transaction. */
static enum tsr_err
crl_sign(struct tsr_store *st, const struct tsr_ca *ca, time_t now,
    int64_t number, struct tsr_why *why)
{
	struct tsr_crlentry *ents = NULL;
	struct tsr_ca_revoked *rev = NULL;
	uint8_t *der = NULL;
	size_t n = 0, i, der_len = 0;
	enum tsr_err rc;

	if ((rc = tsr_store_cert_revoked(st, (int64_t)now, &ents, &n, why)) !=
	    TSR_OK)
		return rc;
	if (n > 0 && (rev = calloc(n, sizeof(*rev))) == NULL) {
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "CRL");
		goto out;
	}
	for (i = 0; i < n; i++) {
		rev[i].serial = ents[i].serial;
		rev[i].when = ents[i].revoked_at;
		rev[i].reason = (enum tsr_ca_reason)ents[i].crl_reason;
	}
	if ((rc = tsr_ca_crl(ca, rev, n, (uint64_t)number, (int64_t)now, &der,
	    &der_len, why)) == TSR_OK)
		rc = tsr_store_crl_put(st, number, (int64_t)now, der, der_len,
		    why);
out:
	free(der);
	free(rev);
	free(ents);
	return rc;
}

/*
 * Sign and store the next CRL as the current one and serial's entry: the
 * cost of a revocation stays that of a copy and a signature however
 * long the list.  A current CRL that cannot be extended (none yet, or
 * not this CA's) is replaced by a whole new one.
 */
static enum tsr_err
crl_add(struct tsr_store *st, const struct tsr_ca *ca, const char *serial,
    enum tsr_ca_reason code, time_t now, int64_t number,
    struct tsr_why *why)
{
	struct tsr_ca_revoked r = { serial, (int64_t)now, code };
	struct tsr_crlrow cur = { 0, 0, NULL, 0 };
	uint8_t *der = NULL;
	size_t der_len = 0;
	enum tsr_err rc;

	/* number is one past cur's: crl_next read it in this transaction. */
	rc = tsr_store_crl_get(st, &cur, why);
	if (rc == TSR_OK)
		rc = tsr_ca_crl_append(ca, cur.der, cur.der_len, &r, 1,
		    (uint64_t)number, (int64_t)now, &der, &der_len, why);
	else if (rc == TSR_ERR_NOT_FOUND)
		rc = TSR_ERR_INVALID;
	free(cur.der);
	if (rc == TSR_ERR_INVALID)
		return crl_sign(st, ca, now, number, why);
	if (rc == TSR_OK)
		rc = tsr_store_crl_put(st, number, (int64_t)now, der, der_len,
		    why);
	free(der);
	return rc;
}

/* The number the next CRL gets; *due says whether one is due at now. */
static enum tsr_err
crl_next(struct tsr_store *st, time_t now, int64_t *number, bool *due,
    struct tsr_why *why)
{
	int64_t cur = 0, this_update = 0;
	enum tsr_err rc;

	if ((rc = tsr_store_crl_state(st, &cur, &this_update, why)) != TSR_OK)
		return rc;
	if (cur == INT64_MAX)
		return tsr_err_why(why, TSR_ERR_STATE, "CRL number exhausted");
	*number = cur + 1;
	*due = cur == 0 ||
	    (int64_t)now - this_update >= TSR_ISSUER_CRL_REFRESH;
	return TSR_OK;
}

enum tsr_err
tsr_issuer_crl_refresh(struct tsr_store *st, const struct tsr_ca *ca,
    time_t now, bool only_if_due, struct tsr_why *why)
{
	int64_t number;
	bool due;
	enum tsr_err rc;

	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK)
		return rc;
	if ((rc = crl_next(st, now, &number, &due, why)) == TSR_OK &&
	    (due || !only_if_due) &&
	    (rc = crl_sign(st, ca, now, number, why)) != TSR_OK) {
		tsr_store_rollback(st);
		/* Another server signed this number first: its CRL stands. */
		return rc == TSR_ERR_CONFLICT ? TSR_OK : rc;
	}
	if (rc != TSR_OK) {
		tsr_store_rollback(st);
		return rc;
	}
	return tsr_store_commit(st, why);
}

enum tsr_err
tsr_issuer_revoke(struct tsr_store *st, const struct tsr_ca *ca,
    const char *serial, const char *client, const char *reason, time_t now,
    int *count, struct tsr_why *why)
{
	enum tsr_ca_reason code = tsr_issuer_reason_code(reason);
	int64_t number;
	bool due, changed = false;
	int n = 0;
	enum tsr_err rc;

	if (count != NULL)
		*count = 0;
	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK)
		return rc;
	if (serial != NULL) {
		rc = tsr_store_cert_revoke(st, serial, (int64_t)now, reason,
		    (int)code, &changed, why);
		n = changed ? 1 : 0;
	} else
		rc = tsr_store_cert_revoke_client(st, client, (int64_t)now,
		    reason, (int)code, &n, why);
	/* A CRL due anyway is built whole, which drops expired entries. */
	if (rc == TSR_OK && n > 0 &&
	    (rc = crl_next(st, now, &number, &due, why)) == TSR_OK)
		rc = serial != NULL && !due ?
		    crl_add(st, ca, serial, code, now, number, why) :
		    crl_sign(st, ca, now, number, why);
	if (rc != TSR_OK) {
		tsr_store_rollback(st);
		return rc;
	}
	if ((rc = tsr_store_commit(st, why)) == TSR_OK && count != NULL)
		*count = n;
	return rc;
}

static const struct {
	const char		*name;
	enum tsr_ca_reason	 code;
} reason_names[] = {
	{ "unspecified", TSR_CA_REASON_UNSPECIFIED },
	{ "keyCompromise", TSR_CA_REASON_KEY_COMPROMISE },
	{ "cACompromise", TSR_CA_REASON_CA_COMPROMISE },
	{ "affiliationChanged", TSR_CA_REASON_AFFILIATION_CHANGED },
	{ "superseded", TSR_CA_REASON_SUPERSEDED },
	{ "cessationOfOperation", TSR_CA_REASON_CESSATION_OF_OPERATION },
	{ "certificateHold", TSR_CA_REASON_CERTIFICATE_HOLD },
	{ "privilegeWithdrawn", TSR_CA_REASON_PRIVILEGE_WITHDRAWN },
};

enum tsr_ca_reason
tsr_issuer_reason_code(const char *reason)
{
	size_t i;

	for (i = 0; reason != NULL &&
	    i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
		if (strcmp(reason, reason_names[i].name) == 0)
			return reason_names[i].code;
	return TSR_CA_REASON_NONE;
}
