/*
 * key: one RSA signing key (GnuTLS for the private half and for
 * verification, nettle for the RFC 7638 thumbprint).
 *
 * A struct tsr_key is immutable once made, and GnuTLS allows read-only
 * use of one key object from many threads (GnuTLS manual, "Thread
 * safety"; a TLS server signs with one credentials key in every session
 * the same way), so tsr_key_sign and tsr_key_verify need no lock.
 */
#include "key.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/sha2.h>

#include "b64.h"

/* Base64url of the largest modulus, and of an exponent of 4 bytes. */
#define KEY_N_B64_BUF	(TSR_B64_ENCODED_LEN(TSR_KEY_MAX_SIG) + 1)
#define KEY_MAX_E	4
#define KEY_E_B64_BUF	(TSR_B64_ENCODED_LEN(KEY_MAX_E) + 1)

struct tsr_key {
	gnutls_privkey_t	 priv;		/* NULL: public key only */
	gnutls_pubkey_t		 pub;
	int			 bits;
	size_t			 mod_len;	/* signature length in bytes */
	char			 kid[TSR_KEY_KID_BUF];
	char			 n_b64[KEY_N_B64_BUF];
	char			 e_b64[KEY_E_B64_BUF];
};

bool
tsr_key_bits_valid(int bits)
{
	return bits == 2048 || bits == 3072 || bits == 4096;
}

/* A canonical base64url string of at most TSR_KEY_MAX_SIG bytes. */
static bool
b64_str_is_valid(const char *s)
{
	uint8_t buf[TSR_KEY_MAX_SIG];
	size_t len;

	if (s == NULL || s[0] == '\0')
		return false;
	return tsr_b64_decode(s, strnlen(s, KEY_N_B64_BUF), buf, sizeof(buf),
	    &len) == TSR_OK;
}

enum tsr_err
tsr_key_thumbprint(const char *n_b64, const char *e_b64,
    char kid[TSR_KEY_KID_BUF])
{
	/* RFC 7638 §3.2: the required members in lexicographic order. */
	static const char p1[] = "{\"e\":\"";
	static const char p2[] = "\",\"kty\":\"RSA\",\"n\":\"";
	static const char p3[] = "\"}";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	kid[0] = '\0';
	/* Only base64url characters: nothing in them needs JSON escaping. */
	if (!b64_str_is_valid(n_b64) || !b64_str_is_valid(e_b64))
		return TSR_ERR_INVALID;
	/* RFC 7638 §3.2-3.3: the required members only, sorted by name,
	 * no whitespace, UTF-8. */
	sha256_init(&ctx);
	sha256_update(&ctx, sizeof(p1) - 1, (const uint8_t *)p1);
	sha256_update(&ctx, strlen(e_b64), (const uint8_t *)e_b64);
	sha256_update(&ctx, sizeof(p2) - 1, (const uint8_t *)p2);
	sha256_update(&ctx, strlen(n_b64), (const uint8_t *)n_b64);
	sha256_update(&ctx, sizeof(p3) - 1, (const uint8_t *)p3);
	sha256_digest(&ctx, sizeof(d), d);
	return tsr_b64_encode(d, sizeof(d), kid, TSR_KEY_KID_BUF, NULL);
}

static enum tsr_err
key_alloc(struct tsr_key **out)
{
	struct tsr_key *key;

	*out = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return TSR_ERR_NOMEM;
	if (gnutls_pubkey_init(&key->pub) < 0) {
		free(key);
		return TSR_ERR_NOMEM;
	}
	*out = key;
	return TSR_OK;
}

void
tsr_key_destroy(struct tsr_key *key)
{
	if (key == NULL)
		return;
	gnutls_privkey_deinit(key->priv);	/* wipes its parameters */
	gnutls_pubkey_deinit(key->pub);
	free(key);
}

/* Modulus and exponent as minimal big-endian bytes (RFC 7518 §6.3.1). */
static enum tsr_err
check_rsa_public(const gnutls_datum_t *n, const gnutls_datum_t *e,
    struct tsr_why *why)
{
	unsigned int bits;

	if (n->size == 0 || n->data[0] == 0 || e->size == 0 ||
	    e->data[0] == 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA modulus or exponent is not a minimal unsigned "
		    "integer");
	bits = n->size * 8;
	for (unsigned char top = n->data[0]; (top & 0x80) == 0; top <<= 1)
		bits--;
	if (bits < TSR_KEY_MIN_BITS || bits > TSR_KEY_MAX_BITS)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA key of %u bits; want %d to %d", bits,
		    TSR_KEY_MIN_BITS, TSR_KEY_MAX_BITS);
	if (e->size > KEY_MAX_E || (e->data[e->size - 1] & 1) == 0 ||
	    (e->size == 1 && e->data[0] < 3))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA public exponent is not an odd number from 3 to 2^32");
	return TSR_OK;
}

/* Fill bits, mod_len, n, e and kid from key->pub. */
static enum tsr_err
key_set_public(struct tsr_key *key, struct tsr_why *why)
{
	gnutls_datum_t n = { NULL, 0 }, e = { NULL, 0 };
	enum tsr_err rc;

	if (gnutls_pubkey_get_pk_algorithm(key->pub, NULL) != GNUTLS_PK_RSA)
		return tsr_err_why(why, TSR_ERR_INVALID, "key is not RSA");
	if (gnutls_pubkey_export_rsa_raw2(key->pub, &n, &e,
	    GNUTLS_EXPORT_FLAG_NO_LZ) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot export the RSA public key");
		goto out;
	}
	if ((rc = check_rsa_public(&n, &e, why)) != TSR_OK)
		goto out;
	key->mod_len = n.size;
	gnutls_pubkey_get_pk_algorithm(key->pub, (unsigned int *)&key->bits);
	if ((rc = tsr_b64_encode(n.data, n.size, key->n_b64,
	    sizeof(key->n_b64), NULL)) != TSR_OK ||
	    (rc = tsr_b64_encode(e.data, e.size, key->e_b64,
	    sizeof(key->e_b64), NULL)) != TSR_OK ||
	    (rc = tsr_key_thumbprint(key->n_b64, key->e_b64,
	    key->kid)) != TSR_OK)
		goto out;
out:
	gnutls_free(n.data);
	gnutls_free(e.data);
	return rc;
}

/* Wrap *priv (which we then own, and *priv is NULL) in a tsr_key. */
static enum tsr_err
key_adopt(gnutls_privkey_t *priv, struct tsr_key **out, struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	enum tsr_err rc;

	*out = NULL;
	if ((rc = key_alloc(&key)) != TSR_OK)
		goto out;
	key->priv = *priv;
	*priv = NULL;
	if (gnutls_privkey_get_pk_algorithm(key->priv, NULL) !=
	    GNUTLS_PK_RSA) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO, "key is not RSA");
		goto out;
	}
	/* Refuse inconsistent parameters (p*q != n and the like). */
	if (gnutls_privkey_verify_params(key->priv) < 0 ||
	    gnutls_pubkey_import_privkey(key->pub, key->priv, 0, 0) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "RSA private key parameters are inconsistent");
		goto out;
	}
	if ((rc = key_set_public(key, why)) != TSR_OK)
		goto out;
	*out = key;
	key = NULL;
out:
	gnutls_privkey_deinit(*priv);
	*priv = NULL;
	tsr_key_destroy(key);
	return rc;
}

enum tsr_err
tsr_key_generate(int bits, struct tsr_key **out, struct tsr_why *why)
{
	gnutls_privkey_t priv = NULL;
	int ret;

	*out = NULL;
	if (!tsr_key_bits_valid(bits))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA key size %d is not 2048, 3072 or 4096", bits);
	if (gnutls_privkey_init(&priv) < 0)
		return TSR_ERR_NOMEM;
	/* GnuTLS draws the primes from its GNUTLS_RND_KEY generator; e is
	 * 65537. */
	if ((ret = gnutls_privkey_generate2(priv, GNUTLS_PK_RSA,
	    (unsigned int)bits, 0, NULL, 0)) < 0) {
		gnutls_privkey_deinit(priv);
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "RSA key generation failed: %s", gnutls_strerror(ret));
	}
	return key_adopt(&priv, out, why);
}

static void
datum_set(gnutls_datum_t *d, const uint8_t *p, size_t len)
{
	d->data = (unsigned char *)p;	/* GnuTLS only reads it */
	d->size = len > UINT_MAX ? 0 : (unsigned int)len;
}

enum tsr_err
tsr_key_from_raw(const struct tsr_key_rsa_raw *raw, struct tsr_key **out,
    struct tsr_why *why)
{
	gnutls_datum_t n, e, d, p, q, dp, dq, qi;
	gnutls_privkey_t priv = NULL;

	*out = NULL;
	if (raw->n == NULL || raw->e == NULL || raw->d == NULL ||
	    raw->p == NULL || raw->q == NULL || raw->dp == NULL ||
	    raw->dq == NULL || raw->qi == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA private key parameter missing");
	datum_set(&n, raw->n, raw->n_len);
	datum_set(&e, raw->e, raw->e_len);
	datum_set(&d, raw->d, raw->d_len);
	datum_set(&p, raw->p, raw->p_len);
	datum_set(&q, raw->q, raw->q_len);
	datum_set(&dp, raw->dp, raw->dp_len);
	datum_set(&dq, raw->dq, raw->dq_len);
	datum_set(&qi, raw->qi, raw->qi_len);
	if (gnutls_privkey_init(&priv) < 0)
		return TSR_ERR_NOMEM;
	/* GnuTLS's u is the PKCS #1 coefficient q^-1 mod p, the JWK "qi". */
	if (gnutls_privkey_import_rsa_raw(priv, &n, &e, &d, &p, &q, &qi, &dp,
	    &dq) < 0) {
		gnutls_privkey_deinit(priv);
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot import RSA private key parameters");
	}
	return key_adopt(&priv, out, why);
}

/* A public key from minimal big-endian n and e. */
static enum tsr_err
key_from_public(const uint8_t *n_bytes, size_t n_len, const uint8_t *e_bytes,
    size_t e_len, struct tsr_key **out, struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	gnutls_datum_t n, e;
	enum tsr_err rc;

	*out = NULL;
	datum_set(&n, n_bytes, n_len);
	datum_set(&e, e_bytes, e_len);
	if ((rc = check_rsa_public(&n, &e, why)) != TSR_OK ||
	    (rc = key_alloc(&key)) != TSR_OK)
		goto out;
	if (gnutls_pubkey_import_rsa_raw(key->pub, &n, &e) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot import RSA public key");
		goto out;
	}
	if ((rc = key_set_public(key, why)) != TSR_OK)
		goto out;
	*out = key;
	key = NULL;
out:
	tsr_key_destroy(key);
	return rc;
}

/* A string member that, when present, must equal want. */
static bool
member_is(const json_t *obj, const char *name, const char *want,
    bool required)
{
	const json_t *v = json_object_get(obj, name);

	if (v == NULL)
		return !required;
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

enum tsr_err
tsr_key_from_jwk(const json_t *jwk, struct tsr_key **out,
    struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	uint8_t *n = NULL, *e = NULL;
	size_t n_len = 0, e_len = 0;
	const char *n_b64, *e_b64;
	enum tsr_err rc;

	*out = NULL;
	if (!json_is_object(jwk))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK is not a JSON object");
	/* RFC 7517 §4: a key for another use or algorithm is not ours. */
	if (!member_is(jwk, "kty", "RSA", true) ||
	    !member_is(jwk, "use", "sig", false) ||
	    !member_is(jwk, "alg", "RS256", false))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK is not an RSA signing key for RS256");
	n_b64 = json_string_value(json_object_get(jwk, "n"));
	e_b64 = json_string_value(json_object_get(jwk, "e"));
	if (n_b64 == NULL || e_b64 == NULL ||
	    tsr_b64_decode_alloc(n_b64, strlen(n_b64), &n, &n_len) != TSR_OK ||
	    tsr_b64_decode_alloc(e_b64, strlen(e_b64), &e, &e_len) != TSR_OK) {
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK n or e is missing or not base64url");
		goto out;
	}
	if ((rc = key_from_public(n, n_len, e, e_len, &key, why)) != TSR_OK)
		goto out;
	if (!member_is(jwk, "kid", key->kid, false)) {
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK kid is not its RFC 7638 thumbprint %s", key->kid);
		goto out;
	}
	*out = key;
	key = NULL;
out:
	free(n);
	free(e);
	tsr_key_destroy(key);
	return rc;
}

const char *
tsr_key_kid(const struct tsr_key *key)
{
	return key->kid;
}

int
tsr_key_bits(const struct tsr_key *key)
{
	return key->bits;
}

bool
tsr_key_has_private(const struct tsr_key *key)
{
	return key->priv != NULL;
}

enum tsr_err
tsr_key_public_jwk(const struct tsr_key *key, json_t **out)
{
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA",
	    "use", "sig", "alg", "RS256", "kid", key->kid, "n", key->n_b64,
	    "e", key->e_b64);
	return *out == NULL ? TSR_ERR_NOMEM : TSR_OK;
}

enum tsr_err
tsr_key_sign(const struct tsr_key *key, const uint8_t *msg, size_t msg_len,
    uint8_t *sig, size_t *sig_len)
{
	gnutls_datum_t data, s = { NULL, 0 };
	size_t pad;

	*sig_len = 0;
	if (key->priv == NULL)
		return TSR_ERR_STATE;
	if (msg_len > UINT_MAX)
		return TSR_ERR_TOO_LONG;
	datum_set(&data, msg, msg_len);
	/* RFC 7518 §3.3: RS256 is RSASSA-PKCS1-v1_5 with SHA-256. */
	if (gnutls_privkey_sign_data2(key->priv, GNUTLS_SIGN_RSA_SHA256, 0,
	    &data, &s) < 0)
		return TSR_ERR_CRYPTO;
	if (s.size > key->mod_len || key->mod_len > TSR_KEY_MAX_SIG) {
		gnutls_free(s.data);
		return TSR_ERR_CRYPTO;
	}
	/* RFC 8017 §8.2.1: the signature is exactly k octets long. */
	pad = key->mod_len - s.size;
	memset(sig, 0, pad);
	memcpy(sig + pad, s.data, s.size);
	*sig_len = key->mod_len;
	gnutls_free(s.data);
	return TSR_OK;
}

enum tsr_err
tsr_key_verify(const struct tsr_key *key, const uint8_t *msg, size_t msg_len,
    const uint8_t *sig, size_t sig_len)
{
	gnutls_datum_t data, s;

	/* RFC 8017 §8.2.2 step 1: the length must be exactly k. */
	if (sig_len != key->mod_len || msg_len > UINT_MAX)
		return TSR_ERR_BAD_SIG;
	datum_set(&data, msg, msg_len);
	datum_set(&s, sig, sig_len);
	if (gnutls_pubkey_verify_data2(key->pub, GNUTLS_SIGN_RSA_SHA256, 0,
	    &data, &s) < 0)
		return TSR_ERR_BAD_SIG;
	return TSR_OK;
}

/*
 * PEM, for lib/keyfile only.
 */

enum tsr_err
tsr_key_to_pem(const struct tsr_key *key, uint8_t **pem, size_t *pem_len,
    struct tsr_why *why)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	*pem = NULL;
	*pem_len = 0;
	if (key->priv == NULL)
		return tsr_err_why(why, TSR_ERR_STATE,
		    "key %s has no private half", key->kid);
	if (gnutls_privkey_export_x509(key->priv, &x) < 0)
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot export the RSA private key");
	ret = gnutls_x509_privkey_export2_pkcs8(x, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &d);
	gnutls_x509_privkey_deinit(x);
	if (ret < 0)
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot export the RSA private key: %s",
		    gnutls_strerror(ret));
	*pem = d.data;		/* gnutls_malloc'd: tsr_key_pem_free */
	*pem_len = d.size;
	return TSR_OK;
}

void
tsr_key_pem_free(uint8_t *pem, size_t pem_len)
{
	if (pem == NULL)
		return;
	gnutls_memset(pem, 0, pem_len);
	gnutls_free(pem);
}

enum tsr_err
tsr_key_from_pem(const uint8_t *pem, size_t pem_len, struct tsr_key **out,
    struct tsr_why *why)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t priv = NULL;
	gnutls_datum_t d;

	*out = NULL;
	if (pem_len > TSR_KEY_MAX_PEM)
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "private key PEM is over %d bytes", TSR_KEY_MAX_PEM);
	datum_set(&d, pem, pem_len);
	if (gnutls_x509_privkey_init(&x) < 0)
		return TSR_ERR_NOMEM;
	/* PKCS #8 or PKCS #1 PEM: GnuTLS tries both. */
	if (gnutls_x509_privkey_import2(x, &d, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN) < 0 || gnutls_privkey_init(&priv) < 0) {
		gnutls_x509_privkey_deinit(x);
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "key file is not an unencrypted RSA private key PEM");
	}
	/* AUTO_RELEASE: priv owns x from here on. */
	if (gnutls_privkey_import_x509(priv, x,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0) {
		gnutls_x509_privkey_deinit(x);
		gnutls_privkey_deinit(priv);
		return TSR_ERR_CRYPTO;
	}
	return key_adopt(&priv, out, why);
}
