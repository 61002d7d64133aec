/*
 * ca: the client-certificate authority (GnuTLS for keys, certificates,
 * requests and PKCS #7; the CRL is assembled here with der.h, see ca.h).
 */
#include "ca.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>

#include "der.h"
#include "x509.h"

/* SHA-1 key identifiers are 20 bytes; room for longer ones we load. */
#define CA_MAX_KEY_ID	64

struct tsr_ca {
	gnutls_x509_crt_t	 crt;
	gnutls_privkey_t	 key;
	gnutls_digest_algorithm_t dig;
	gnutls_sign_algorithm_t	 sign;
	gnutls_datum_t		 der;		/* the certificate */
	uint8_t			 ski[CA_MAX_KEY_ID];
	size_t			 ski_len;
	char			 fp[TSR_CA_FP_HEX_BUF];
};

void
tsr_ca_pem_free(uint8_t *pem, size_t pem_len)
{
	if (pem == NULL)
		return;
	explicit_bzero(pem, pem_len);
	free(pem);
}

void
tsr_ca_destroy(struct tsr_ca *ca)
{
	if (ca == NULL)
		return;
	gnutls_privkey_deinit(ca->key);		/* wipes its parameters */
	gnutls_x509_crt_deinit(ca->crt);
	gnutls_free(ca->der.data);
	free(ca);
}

void
tsr_ca_issued_free(struct tsr_ca_issued *issued)
{
	if (issued == NULL)
		return;
	free(issued->der);
	memset(issued, 0, sizeof(*issued));
}

const char *
tsr_ca_fingerprint(const struct tsr_ca *ca)
{
	return ca->fp;
}

/* A CN we put in a certificate: 1..TSR_CA_MAX_CN printable ASCII. */
static enum tsr_err
check_cn(const char *cn, struct tsr_why *why)
{
	size_t len, i;

	if (cn == NULL || (len = strnlen(cn, TSR_CA_MAX_CN + 1)) == 0 ||
	    len > TSR_CA_MAX_CN)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "a certificate CN is 1 to %d characters", TSR_CA_MAX_CN);
	for (i = 0; i < len; i++)
		if (cn[i] < 0x20 || cn[i] > 0x7e)
			return tsr_err_why(why, TSR_ERR_INVALID,
			    "a certificate CN is printable ASCII");
	return TSR_OK;
}

static enum tsr_err
check_ttl(int64_t ttl, time_t now, struct tsr_why *why)
{
	if (ttl <= 0 || ttl > TSR_CA_MAX_TTL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "certificate lifetime of %lld seconds; want 1 to %lld",
		    (long long)ttl, (long long)TSR_CA_MAX_TTL);
	if (now < TSR_CA_BACKDATE || (int64_t)now > INT64_MAX - ttl)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad current time");
	return TSR_OK;
}

/* 16 random bytes, top bit clear (a positive INTEGER) and first byte
 * nonzero (a fixed-length DER encoding). */
static enum tsr_err
random_serial(uint8_t serial[TSR_CA_SERIAL_LEN])
{
	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, TSR_CA_SERIAL_LEN) < 0)
		return TSR_ERR_CRYPTO;
	serial[0] &= 0x7f;
	if (serial[0] == 0)
		serial[0] = 1;
	return TSR_OK;
}

/*
 * The fields every certificate we make shares: v3, serial (hex into
 * serial_hex), CN-only subject, validity, public key, SKI.
 */
static enum tsr_err
crt_common(gnutls_x509_crt_t crt, const char *cn, gnutls_pubkey_t pub,
    time_t not_before, time_t not_after,
    char serial_hex[TSR_CA_SERIAL_HEX_BUF])
{
	uint8_t serial[TSR_CA_SERIAL_LEN], id[TSR_X509_KEY_ID_LEN];

	if (random_serial(serial) != TSR_OK ||
	    tsr_x509_hex(serial, sizeof(serial), serial_hex,
	    TSR_CA_SERIAL_HEX_BUF) != TSR_OK)
		return TSR_ERR_CRYPTO;
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned int)strlen(cn)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, not_before) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, not_after) < 0 ||
	    gnutls_x509_crt_set_pubkey(crt, pub) < 0)
		return TSR_ERR_CRYPTO;
	if (tsr_x509_key_id(pub, id) != TSR_OK ||
	    gnutls_x509_crt_set_subject_key_id(crt, id, sizeof(id)) < 0)
		return TSR_ERR_CRYPTO;
	return TSR_OK;
}

/* Fill ca->der, ->fp, ->ski, ->dig and ->sign from ca->crt and ca->key. */
static enum tsr_err
ca_finish(struct tsr_ca *ca, struct tsr_why *why)
{
	uint8_t digest[32];
	unsigned int bits = 0, critical;
	size_t len = sizeof(ca->ski);

	if (gnutls_x509_crt_export2(ca->crt, GNUTLS_X509_FMT_DER,
	    &ca->der) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, ca->der.data, ca->der.size,
	    digest) < 0 ||
	    tsr_x509_hex(digest, sizeof(digest), ca->fp,
	    sizeof(ca->fp)) != TSR_OK)
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot export the CA certificate");
	if (gnutls_x509_crt_get_subject_key_id(ca->crt, ca->ski, &len,
	    &critical) < 0 || len == 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "the CA certificate has no subject key identifier");
	ca->ski_len = len;
	if (gnutls_privkey_get_pk_algorithm(ca->key, &bits) !=
	    GNUTLS_PK_ECDSA)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "the CA key is not ECDSA");
	ca->dig = bits > 256 ? GNUTLS_DIG_SHA384 : GNUTLS_DIG_SHA256;
	ca->sign = gnutls_pk_to_sign(GNUTLS_PK_ECDSA, ca->dig);
	return TSR_OK;
}

static enum tsr_err
ca_alloc(struct tsr_ca **out)
{
	struct tsr_ca *ca;

	*out = NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return TSR_ERR_NOMEM;
	if (gnutls_x509_crt_init(&ca->crt) < 0) {
		free(ca);
		return TSR_ERR_NOMEM;
	}
	if (gnutls_privkey_init(&ca->key) < 0) {
		gnutls_x509_crt_deinit(ca->crt);
		free(ca);
		return TSR_ERR_NOMEM;
	}
	*out = ca;
	return TSR_OK;
}

/* The self-signed certificate of a new CA whose key is ca->key. */
static enum tsr_err
ca_self_sign(struct tsr_ca *ca, const char *cn, int64_t ttl, time_t now,
    gnutls_digest_algorithm_t dig)
{
	gnutls_pubkey_t pub = NULL;
	char serial[TSR_CA_SERIAL_HEX_BUF];
	enum tsr_err rc = TSR_ERR_CRYPTO;

	if (gnutls_pubkey_init(&pub) < 0)
		return TSR_ERR_NOMEM;
	if (gnutls_pubkey_import_privkey(pub, ca->key, 0, 0) < 0)
		goto out;
	if ((rc = crt_common(ca->crt, cn, pub, now - TSR_CA_BACKDATE,
	    (time_t)(now + ttl), serial)) != TSR_OK)
		goto out;
	rc = TSR_ERR_CRYPTO;
	if (gnutls_x509_crt_set_basic_constraints(ca->crt, 1, 0) < 0 ||
	    gnutls_x509_crt_set_key_usage(ca->crt,
	    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) < 0 ||
	    gnutls_x509_crt_privkey_sign(ca->crt, ca->crt, ca->key, dig,
	    0) < 0)
		goto out;
	rc = TSR_OK;
out:
	gnutls_pubkey_deinit(pub);
	return rc;
}

enum tsr_err
tsr_ca_create(const char *cn, int64_t ttl, unsigned int curve_bits,
    time_t now, struct tsr_ca **out, struct tsr_why *why)
{
	struct tsr_ca *ca = NULL;
	gnutls_ecc_curve_t curve;
	enum tsr_err rc;

	*out = NULL;
	cn = cn != NULL ? cn : TSR_CA_DEFAULT_CN;
	ttl = ttl != 0 ? ttl : TSR_CA_DEFAULT_TTL;
	if (curve_bits != 0 && curve_bits != 256 && curve_bits != 384)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "a CA key is ECDSA P-256 or P-384");
	curve = curve_bits == 384 ? GNUTLS_ECC_CURVE_SECP384R1 :
	    GNUTLS_ECC_CURVE_SECP256R1;
	if ((rc = check_cn(cn, why)) != TSR_OK ||
	    (rc = check_ttl(ttl, now, why)) != TSR_OK)
		return rc;
	if ((rc = ca_alloc(&ca)) != TSR_OK)
		return rc;
	if (gnutls_privkey_generate2(ca->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(curve), 0, NULL, 0) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot generate the CA key");
		goto out;
	}
	if ((rc = ca_self_sign(ca, cn, ttl, now, curve_bits == 384 ?
	    GNUTLS_DIG_SHA384 : GNUTLS_DIG_SHA256)) != TSR_OK) {
		(void)tsr_err_why(why, rc, "cannot make the CA certificate");
		goto out;
	}
	if ((rc = ca_finish(ca, why)) != TSR_OK)
		goto out;
	*out = ca;
	ca = NULL;
out:
	tsr_ca_destroy(ca);
	return rc;
}

/* The certificate is a CA and its key is ca->key. */
static enum tsr_err
ca_check_pair(struct tsr_ca *ca, struct tsr_why *why)
{
	gnutls_pubkey_t pub = NULL;
	uint8_t a[CA_MAX_KEY_ID], b[CA_MAX_KEY_ID];
	size_t a_len = sizeof(a), b_len = sizeof(b);
	unsigned int critical = 0, is_ca = 0;
	int pathlen = -1;
	enum tsr_err rc = TSR_OK;

	if (gnutls_x509_crt_get_basic_constraints(ca->crt, &critical, &is_ca,
	    &pathlen) < 0 || !is_ca)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "the CA certificate is not a CA (basicConstraints)");
	if (gnutls_pubkey_init(&pub) < 0)
		return TSR_ERR_NOMEM;
	if (gnutls_privkey_verify_params(ca->key) < 0 ||
	    gnutls_pubkey_import_privkey(pub, ca->key, 0, 0) < 0 ||
	    gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a,
	    &a_len) < 0 ||
	    gnutls_x509_crt_get_key_id(ca->crt, GNUTLS_KEYID_USE_SHA256, b,
	    &b_len) < 0 || a_len != b_len || memcmp(a, b, a_len) != 0)
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "the CA key does not match the CA certificate");
	gnutls_pubkey_deinit(pub);
	return rc;
}

enum tsr_err
tsr_ca_load(const uint8_t *cert_pem, size_t cert_len, const uint8_t *key_pem,
    size_t key_len, struct tsr_ca **out, struct tsr_why *why)
{
	struct tsr_ca *ca = NULL;
	gnutls_datum_t c, k;
	enum tsr_err rc;

	*out = NULL;
	if (cert_len > TSR_CA_MAX_PEM || key_len > TSR_CA_MAX_PEM)
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "a CA certificate or key over %d bytes", TSR_CA_MAX_PEM);
	if ((rc = ca_alloc(&ca)) != TSR_OK)
		return rc;
	c.data = (unsigned char *)(uintptr_t)cert_pem;
	c.size = (unsigned int)cert_len;
	k.data = (unsigned char *)(uintptr_t)key_pem;
	k.size = (unsigned int)key_len;
	if (gnutls_x509_crt_import(ca->crt, &c, GNUTLS_X509_FMT_PEM) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "the CA certificate does not parse");
		goto out;
	}
	if (gnutls_privkey_import_x509_raw(ca->key, &k, GNUTLS_X509_FMT_PEM,
	    NULL, 0) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "the CA key does not parse");
		goto out;
	}
	if ((rc = ca_check_pair(ca, why)) != TSR_OK ||
	    (rc = ca_finish(ca, why)) != TSR_OK)
		goto out;
	*out = ca;
	ca = NULL;
out:
	tsr_ca_destroy(ca);
	return rc;
}

/* A malloc'd copy of d (one NUL byte after it). */
static enum tsr_err
dup_datum(const gnutls_datum_t *d, uint8_t **out, size_t *out_len)
{
	if ((*out = malloc((size_t)d->size + 1)) == NULL)
		return TSR_ERR_NOMEM;
	memcpy(*out, d->data, d->size);
	(*out)[d->size] = '\0';
	*out_len = d->size;
	return TSR_OK;
}

enum tsr_err
tsr_ca_cert_der(const struct tsr_ca *ca, uint8_t **out, size_t *out_len)
{
	return dup_datum(&ca->der, out, out_len);
}

enum tsr_err
tsr_ca_cert_pem(const struct tsr_ca *ca, char **out, size_t *out_len)
{
	gnutls_datum_t pem = { NULL, 0 };
	enum tsr_err rc;

	*out = NULL;
	if (gnutls_pem_base64_encode2("CERTIFICATE", &ca->der, &pem) < 0)
		return TSR_ERR_NOMEM;
	rc = dup_datum(&pem, (uint8_t **)out, out_len);
	gnutls_free(pem.data);
	return rc;
}

enum tsr_err
tsr_ca_key_pem(const struct tsr_ca *ca, uint8_t **pem, size_t *pem_len,
    struct tsr_why *why)
{
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t d = { NULL, 0 };
	enum tsr_err rc = TSR_ERR_CRYPTO;

	*pem = NULL;
	*pem_len = 0;
	if (gnutls_privkey_export_x509(ca->key, &xk) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &d) < 0) {
		(void)tsr_err_why(why, rc, "cannot export the CA key");
		goto out;
	}
	rc = dup_datum(&d, pem, pem_len);
out:
	if (d.data != NULL) {
		explicit_bzero(d.data, d.size);
		gnutls_free(d.data);
	}
	gnutls_x509_privkey_deinit(xk);
	return rc;
}

/* ---- issuing ---------------------------------------------------------- */

enum tsr_err
tsr_ca_csr_decode(const char *b64, size_t len, uint8_t **der,
    size_t *der_len, struct tsr_why *why)
{
	struct base64_decode_ctx ctx;
	uint8_t *buf;
	size_t n;

	*der = NULL;
	*der_len = 0;
	if (len > TSR_CA_MAX_CSR_B64)
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "certificate request over %d characters",
		    TSR_CA_MAX_CSR_B64);
	if ((buf = malloc(BASE64_DECODE_LENGTH(len) + 1)) == NULL)
		return TSR_ERR_NOMEM;
	/* Nettle skips white space (RFC 7030 bodies have line breaks) and
	 * the final call refuses a truncated last group. */
	base64_decode_init(&ctx);
	n = BASE64_DECODE_LENGTH(len);
	if (!base64_decode_update(&ctx, &n, buf, len, b64) ||
	    !base64_decode_final(&ctx) || n == 0) {
		free(buf);
		return tsr_err_why(why, TSR_ERR_CSR,
		    "certificate request is not base64");
	}
	if (n > TSR_CA_MAX_CSR) {
		free(buf);
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "certificate request over %d bytes", TSR_CA_MAX_CSR);
	}
	*der = buf;
	*der_len = n;
	return TSR_OK;
}

/* The request's subject has exactly one CN, and it is cn. */
static enum tsr_err
csr_check_subject(gnutls_x509_crq_t crq, const char *cn,
    struct tsr_why *why)
{
	char got[TSR_CA_MAX_CN + 2];
	size_t len = sizeof(got), want = strlen(cn);
	int ret;

	ret = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, got, &len);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return tsr_err_why(why, TSR_ERR_CSR_SUBJECT,
		    "certificate request has no CN");
	if (ret < 0 || len != want || memcmp(got, cn, want) != 0)
		return tsr_err_why(why, TSR_ERR_CSR_SUBJECT,
		    "certificate request CN is not the client's");
	len = sizeof(got);
	if (gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    1, 0, got, &len) != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return tsr_err_why(why, TSR_ERR_CSR_SUBJECT,
		    "certificate request has more than one CN");
	return TSR_OK;
}

/*
 * Parse and judge a request: its key (into pub, *kind), its signature,
 * its subject.  The key is judged first so that no work is spent
 * verifying a signature by a key we would refuse anyway.
 */
static enum tsr_err
csr_check(const uint8_t *csr, size_t csr_len, const char *cn,
    gnutls_pubkey_t pub, enum tsr_x509_key_kind *kind, struct tsr_why *why)
{
	gnutls_x509_crq_t crq;
	gnutls_datum_t d;
	enum tsr_err rc;

	if (csr_len > TSR_CA_MAX_CSR)
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "certificate request over %d bytes", TSR_CA_MAX_CSR);
	if (gnutls_x509_crq_init(&crq) < 0)
		return TSR_ERR_NOMEM;
	d.data = (unsigned char *)(uintptr_t)csr;
	d.size = (unsigned int)csr_len;
	if (gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_pubkey_import_x509_crq(pub, crq, 0) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CSR,
		    "certificate request does not parse");
		goto out;
	}
	if ((rc = tsr_x509_check_key(pub, kind, why)) != TSR_OK)
		goto out;
	if (gnutls_x509_crq_verify(crq, 0) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CSR_SIG,
		    "certificate request signature does not verify");
		goto out;
	}
	rc = csr_check_subject(crq, cn, why);
out:
	gnutls_x509_crq_deinit(crq);
	return rc;
}

/* Build and sign the client certificate for pub. */
static enum tsr_err
issue_crt(const struct tsr_ca *ca, gnutls_x509_crt_t crt,
    gnutls_pubkey_t pub, enum tsr_x509_key_kind kind, const char *cn,
    struct tsr_ca_issued *out)
{
	unsigned int usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	enum tsr_err rc;

	if (kind == TSR_X509_KEY_RSA)
		usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	if ((rc = crt_common(crt, cn, pub, (time_t)out->not_before,
	    (time_t)out->not_after, out->serial)) != TSR_OK)
		return rc;
	/* basicConstraints and keyUsage: GnuTLS marks both critical. */
	if (gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, usage) < 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT,
	    0) < 0 ||
	    gnutls_x509_crt_set_authority_key_id(crt, ca->ski,
	    ca->ski_len) < 0 ||
	    gnutls_x509_crt_privkey_sign(crt, ca->crt, ca->key, ca->dig,
	    0) < 0)
		return TSR_ERR_CRYPTO;
	return TSR_OK;
}

/* out->der, ->sha256 from the signed crt. */
static enum tsr_err
issued_export(gnutls_x509_crt_t crt, struct tsr_ca_issued *out)
{
	gnutls_datum_t der = { NULL, 0 };
	uint8_t digest[32];
	enum tsr_err rc = TSR_ERR_CRYPTO;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size,
	    digest) < 0 ||
	    tsr_x509_hex(digest, sizeof(digest), out->sha256,
	    sizeof(out->sha256)) != TSR_OK)
		goto out;
	rc = dup_datum(&der, &out->der, &out->der_len);
out:
	gnutls_free(der.data);
	return rc;
}

enum tsr_err
tsr_ca_issue(const struct tsr_ca *ca, const uint8_t *csr, size_t csr_len,
    const char *cn, int64_t ttl, time_t now, struct tsr_ca_issued *out,
    struct tsr_why *why)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_x509_crt_t crt = NULL;
	enum tsr_x509_key_kind kind;
	enum tsr_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_cn(cn, why)) != TSR_OK ||
	    (rc = check_ttl(ttl, now, why)) != TSR_OK)
		return rc;
	if (gnutls_pubkey_init(&pub) < 0)
		return TSR_ERR_NOMEM;
	if ((rc = csr_check(csr, csr_len, cn, pub, &kind, why)) != TSR_OK)
		goto out;
	if (gnutls_x509_crt_init(&crt) < 0) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	out->not_before = (int64_t)now - TSR_CA_BACKDATE;
	out->not_after = (int64_t)now + ttl;
	if ((rc = issue_crt(ca, crt, pub, kind, cn, out)) != TSR_OK ||
	    (rc = issued_export(crt, out)) != TSR_OK)
		(void)tsr_err_why(why, rc, "cannot sign the certificate");
out:
	if (rc != TSR_OK)
		tsr_ca_issued_free(out);
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	return rc;
}

enum tsr_err
tsr_ca_issue_b64(const struct tsr_ca *ca, const char *csr_b64,
    size_t b64_len, const char *cn, int64_t ttl, time_t now,
    struct tsr_ca_issued *out, struct tsr_why *why)
{
	uint8_t *der;
	size_t der_len;
	enum tsr_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = tsr_ca_csr_decode(csr_b64, b64_len, &der, &der_len,
	    why)) != TSR_OK)
		return rc;
	rc = tsr_ca_issue(ca, der, der_len, cn, ttl, now, out, why);
	free(der);
	return rc;
}

/* ---- PKCS #7 ---------------------------------------------------------- */

enum tsr_err
tsr_ca_pkcs7_der(const struct tsr_ca_der *certs, size_t n, uint8_t **out,
    size_t *out_len, struct tsr_why *why)
{
	gnutls_pkcs7_t p7;
	gnutls_datum_t d = { NULL, 0 };
	enum tsr_err rc = TSR_ERR_CRYPTO;
	size_t i;

	*out = NULL;
	*out_len = 0;
	if (n == 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "a PKCS #7 message with no certificate");
	if (gnutls_pkcs7_init(&p7) < 0)
		return TSR_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		d.data = (unsigned char *)(uintptr_t)certs[i].der;
		d.size = (unsigned int)certs[i].len;
		if (certs[i].len > UINT32_MAX / 2 ||
		    gnutls_pkcs7_set_crt_raw(p7, &d) < 0) {
			rc = tsr_err_why(why, TSR_ERR_INVALID,
			    "certificate %zu does not go into PKCS #7", i);
			goto out;
		}
	}
	d.data = NULL;
	if (gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_DER, &d) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot encode the PKCS #7 message");
		goto out;
	}
	rc = dup_datum(&d, out, out_len);
out:
	gnutls_free(d.data);
	gnutls_pkcs7_deinit(p7);
	return rc;
}

/* Base64 (RFC 4648 §4, padded, no line breaks) of in, NUL-terminated. */
static enum tsr_err
b64_std(const uint8_t *in, size_t len, char **out, size_t *out_len)
{
	size_t n;

	*out = NULL;
	if (len > (SIZE_MAX - 4) / 4 * 3 - 3)
		return TSR_ERR_TOO_LONG;
	n = BASE64_ENCODE_RAW_LENGTH(len);
	if ((*out = malloc(n + 1)) == NULL)
		return TSR_ERR_NOMEM;
	base64_encode_raw(*out, len, in);
	(*out)[n] = '\0';
	*out_len = n;
	return TSR_OK;
}

enum tsr_err
tsr_ca_pkcs7_b64(const struct tsr_ca_der *certs, size_t n, char **out,
    size_t *out_len, struct tsr_why *why)
{
	uint8_t *der;
	size_t der_len;
	enum tsr_err rc;

	*out = NULL;
	*out_len = 0;
	if ((rc = tsr_ca_pkcs7_der(certs, n, &der, &der_len, why)) != TSR_OK)
		return rc;
	rc = b64_std(der, der_len, out, out_len);
	free(der);
	return rc;
}

/* ---- CRL -------------------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex serial to big-endian bytes; false unless 1..40 digits, not 0. */
static bool
serial_bytes(const char *hex, uint8_t b[TSR_CA_MAX_SERIAL_HEX / 2],
    size_t *n)
{
	size_t len, i, j;
	int v;
	bool nonzero = false;

	if (hex == NULL || (len = strnlen(hex, TSR_CA_MAX_SERIAL_HEX + 1)) ==
	    0 || len > TSR_CA_MAX_SERIAL_HEX)
		return false;
	*n = (len + 1) / 2;
	memset(b, 0, *n);
	for (i = 0; i < len; i++) {
		if ((v = hexval(hex[i])) < 0)
			return false;
		nonzero |= v != 0;
		j = (len - 1 - i) / 2;		/* byte index from the end */
		b[*n - 1 - j] |= (uint8_t)((len - 1 - i) % 2 ? v << 4 : v);
	}
	return nonzero;
}

/* One revokedCertificates entry (RFC 5280 §5.1). */
static bool
crl_entry(struct tsr_der *d, struct tsr_der *e, const struct tsr_ca_revoked *r)
{
	/* crlEntryExtensions: one reasonCode (2.5.29.21), ENUMERATED. */
	uint8_t ext[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
	    0x15, 0x04, 0x03, 0x0a, 0x01, 0x00 };
	uint8_t b[TSR_CA_MAX_SERIAL_HEX / 2];
	bool ok;
	size_t n;

	if (!serial_bytes(r->serial, b, &n))
		return false;
	/* e is scratch space the caller reuses for every entry. */
	e->len = 0;
	tsr_der_uint(e, b, n);
	ok = tsr_der_time(e, r->when);
	if (r->reason < TSR_CA_REASON_NONE || r->reason > 10 ||
	    r->reason == 7)
		ok = false;
	/* §5.3.1: unspecified is said by leaving the reason out. */
	if (r->reason > TSR_CA_REASON_UNSPECIFIED) {
		ext[sizeof(ext) - 1] = (uint8_t)r->reason;
		tsr_der_put(e, ext, sizeof(ext));
	}
	if (ok && !e->bad)
		tsr_der_tlv(d, 0x30, e->p, e->len);
	return ok && !e->bad;
}

/* AlgorithmIdentifier of ca's signatures: ecdsa-with-SHA256 or -SHA384
 * (RFC 5758 §3.2: no parameters). */
static void
crl_sig_alg(struct tsr_der *d, const struct tsr_ca *ca)
{
	uint8_t alg[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	    0x3d, 0x04, 0x03, 0x02 };

	if (ca->dig == GNUTLS_DIG_SHA384)
		alg[sizeof(alg) - 1] = 0x03;
	tsr_der_put(d, alg, sizeof(alg));
}

/* crlExtensions [0]: authorityKeyIdentifier and cRLNumber (§5.2). */
static void
crl_extensions(struct tsr_der *d, const struct tsr_ca *ca, uint64_t number)
{
	static const uint8_t aki_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x23 };
	static const uint8_t num_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x14 };
	struct tsr_der v = { NULL, 0, 0, false }, x = { NULL, 0, 0, false };
	struct tsr_der all = { NULL, 0, 0, false };

	/* AKI: SEQUENCE { [0] keyIdentifier } in an OCTET STRING. */
	tsr_der_head(&v, 0x30, ca->ski_len + 2);
	tsr_der_tlv(&v, 0x80, ca->ski, ca->ski_len);
	tsr_der_put(&x, aki_oid, sizeof(aki_oid));
	tsr_der_tlv(&x, 0x04, v.p, v.len);
	tsr_der_tlv(&all, 0x30, x.p, x.len);
	v.len = x.len = 0;
	tsr_der_u64(&v, number);
	tsr_der_put(&x, num_oid, sizeof(num_oid));
	tsr_der_tlv(&x, 0x04, v.p, v.len);
	tsr_der_tlv(&all, 0x30, x.p, x.len);
	v.len = 0;
	tsr_der_tlv(&v, 0x30, all.p, all.len);
	tsr_der_tlv(d, 0xa0, v.p, v.len);
	d->bad |= v.bad || x.bad || all.bad;
	free(v.p);
	free(x.p);
	free(all.p);
}

/* The entries of a CRL already signed, to be copied as they are. */
struct crl_prior {
	const uint8_t	*p;
	size_t		 len;
};

/* revokedCertificates: the prior entries, then revoked[0..n); omitted
 * when there is none (§5.1.2.6). */
static enum tsr_err
crl_revoked(struct tsr_der *d, const struct crl_prior *prior,
    const struct tsr_ca_revoked *revoked, size_t n, struct tsr_why *why)
{
	struct tsr_der e = { NULL, 0, 0, false };
	enum tsr_err rc = TSR_OK;
	size_t i, at;

	if (n == 0 && prior->len == 0)
		return TSR_OK;
	/* An entry is at most 23 + 17 + 14 bytes and its header. */
	if (n < SIZE_MAX / 64 && prior->len < SIZE_MAX / 2 - n * 56 - 1024)
		tsr_der_reserve(d, prior->len + n * 56 + 1024);
	at = tsr_der_open(d);
	tsr_der_put(d, prior->p, prior->len);
	for (i = 0; i < n; i++)
		if (!crl_entry(d, &e, &revoked[i])) {
			rc = d->bad || e.bad ? TSR_ERR_NOMEM :
			    tsr_err_why(why, TSR_ERR_INVALID,
			    "revoked entry %zu: bad serial, time or reason",
			    i);
			goto out;
		}
	tsr_der_close(d, at, 0x30);
out:
	free(e.p);
	return rc;
}

/* TBSCertList (RFC 5280 §5.1.2), appended to d. */
static enum tsr_err
crl_tbs(const struct tsr_ca *ca, const struct crl_prior *prior,
    const struct tsr_ca_revoked *revoked, size_t n, uint64_t number,
    int64_t this_update, struct tsr_der *d, struct tsr_why *why)
{
	static const uint8_t v2[] = { 0x02, 0x01, 0x01 };
	gnutls_datum_t issuer = { NULL, 0 };
	enum tsr_err rc = TSR_ERR_INVALID;
	size_t at;

	if (this_update > INT64_MAX - TSR_CA_CRL_VALIDITY)
		return tsr_err_why(why, rc, "bad CRL time");
	if (gnutls_x509_crt_get_raw_dn(ca->crt, &issuer) < 0)
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot read the CA's name");
	at = tsr_der_open(d);
	tsr_der_put(d, v2, sizeof(v2));
	crl_sig_alg(d, ca);
	tsr_der_put(d, issuer.data, issuer.size);
	if (!tsr_der_time(d, this_update) ||
	    !tsr_der_time(d, this_update + TSR_CA_CRL_VALIDITY)) {
		rc = tsr_err_why(why, rc, "CRL time out of range");
		goto out;
	}
	if ((rc = crl_revoked(d, prior, revoked, n, why)) != TSR_OK)
		goto out;
	crl_extensions(d, ca, number);
	tsr_der_close(d, at, 0x30);
	rc = d->bad ? TSR_ERR_NOMEM : TSR_OK;
out:
	gnutls_free(issuer.data);
	return rc;
}

static enum tsr_err
crl_build(const struct tsr_ca *ca, const struct crl_prior *prior,
    const struct tsr_ca_revoked *revoked, size_t n, uint64_t number,
    int64_t this_update, uint8_t **out, size_t *out_len,
    struct tsr_why *why)
{
	struct tsr_der crl = { NULL, 0, 0, false };
	gnutls_datum_t data, sig = { NULL, 0 };
	size_t at, tbs;
	enum tsr_err rc;

	*out = NULL;
	*out_len = 0;
	/* CertificateList: tbs, algorithm, BIT STRING (no unused bits). */
	at = tsr_der_open(&crl);
	tbs = crl.len;
	if ((rc = crl_tbs(ca, prior, revoked, n, number, this_update, &crl,
	    why)) != TSR_OK)
		goto out;
	data.data = crl.p + tbs;
	data.size = (unsigned int)(crl.len - tbs);
	if (crl.len - tbs > UINT32_MAX || gnutls_privkey_sign_data2(ca->key,
	    ca->sign, 0, &data, &sig) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO, "cannot sign the CRL");
		goto out;
	}
	crl_sig_alg(&crl, ca);
	tsr_der_head(&crl, 0x03, (size_t)sig.size + 1);
	tsr_der_put(&crl, "", 1);
	tsr_der_put(&crl, sig.data, sig.size);
	tsr_der_close(&crl, at, 0x30);
	if (crl.bad) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	*out = crl.p;
	*out_len = crl.len;
	crl.p = NULL;
out:
	gnutls_free(sig.data);
	free(crl.p);
	return rc;
}

enum tsr_err
tsr_ca_crl(const struct tsr_ca *ca, const struct tsr_ca_revoked *revoked,
    size_t n, uint64_t number, int64_t this_update, uint8_t **out,
    size_t *out_len, struct tsr_why *why)
{
	const struct crl_prior none = { NULL, 0 };

	return crl_build(ca, &none, revoked, n, number, this_update, out,
	    out_len, why);
}

/* One revokedCertificates entry as crl_entry writes it, and nothing
 * else: a positive serial in minimal form of at most 21 bytes, a time,
 * then a reasonCode extension or nothing. */
static bool
crl_entry_ok(struct tsr_der_in *list)
{
	static const uint8_t reason[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06,
	    0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01 };
	struct tsr_der_in e, v;
	size_t n;
	uint8_t code;

	if (!tsr_der_next(list, 0x30, &e) || !tsr_der_next(&e, 0x02, &v))
		return false;
	n = (size_t)(v.end - v.p);
	if (n == 0 || n > 21 || (v.p[0] & 0x80) != 0 ||
	    (n > 1 && v.p[0] == 0 && (v.p[1] & 0x80) == 0) ||
	    (n == 1 && v.p[0] == 0) || !tsr_der_next_time(&e))
		return false;
	if (e.p == e.end)
		return true;
	if ((size_t)(e.end - e.p) != sizeof(reason) + 1 ||
	    memcmp(e.p, reason, sizeof(reason)) != 0)
		return false;
	code = e.p[sizeof(reason)];
	return code >= 1 && code <= 10 && code != 7;
}

/* The revokedCertificates of a TBSCertList after its version; each
 * entry must be one crl_entry could have written, and the CRL must be
 * ca's. */
static bool
crl_prior_entries(const struct tsr_ca *ca, struct tsr_der_in *tbs,
    struct crl_prior *out)
{
	struct tsr_der_in v, list;
	gnutls_datum_t issuer = { NULL, 0 };
	const uint8_t *at;
	bool same;

	if (!tsr_der_next(tbs, 0x30, &v))		/* signature */
		return false;
	at = tbs->p;
	if (!tsr_der_next(tbs, 0x30, &v) ||
	    gnutls_x509_crt_get_raw_dn(ca->crt, &issuer) < 0)
		return false;
	same = issuer.size == (size_t)(tbs->p - at) &&
	    memcmp(issuer.data, at, issuer.size) == 0;
	gnutls_free(issuer.data);
	if (!same || !tsr_der_next_time(tbs) || !tsr_der_next_time(tbs))
		return false;
	out->p = NULL;
	out->len = 0;
	if (tsr_der_next(tbs, 0x30, &list)) {
		out->p = list.p;
		out->len = (size_t)(list.end - list.p);
		while (list.p < list.end)
			if (!crl_entry_ok(&list))
				return false;
	}
	return tbs->p < tbs->end && tbs->p[0] == 0xa0;	/* crlExtensions */
}

enum tsr_err
tsr_ca_crl_append(const struct tsr_ca *ca, const uint8_t *prior,
    size_t prior_len, const struct tsr_ca_revoked *revoked, size_t n,
    uint64_t number, int64_t this_update, uint8_t **out, size_t *out_len,
    struct tsr_why *why)
{
	struct tsr_der_in in, cl, tbs, v;
	struct crl_prior entries;

	*out = NULL;
	*out_len = 0;
	in.p = prior;
	in.end = prior != NULL ? prior + prior_len : prior;
	if (!tsr_der_next(&in, 0x30, &cl) || in.p != in.end ||
	    !tsr_der_next(&cl, 0x30, &tbs) || !tsr_der_next(&tbs, 0x02, &v) ||
	    v.end - v.p != 1 || v.p[0] != 0x01 ||		/* v2 */
	    !crl_prior_entries(ca, &tbs, &entries))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "the current CRL is not one this CA signed");
	return crl_build(ca, &entries, revoked, n, number, this_update, out,
	    out_len, why);
}

enum tsr_err
tsr_ca_crl_pem(const uint8_t *der, size_t len, char **out, size_t *out_len)
{
	gnutls_datum_t d, pem = { NULL, 0 };
	enum tsr_err rc;

	*out = NULL;
	if (len > UINT32_MAX / 2)
		return TSR_ERR_TOO_LONG;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned int)len;
	if (gnutls_pem_base64_encode2("X509 CRL", &d, &pem) < 0)
		return TSR_ERR_NOMEM;
	rc = dup_datum(&pem, (uint8_t **)out, out_len);
	gnutls_free(pem.data);
	return rc;
}
