/*
 * key: one RSA signing key.  Generation, the public JWK, the RFC 7638
 * thumbprint (our kid), RS256 signing and verification.  Private key
 * files are lib/keyfile's.
 *
 * No private-key material leaves lib/: signing is one call, bytes in,
 * signature out.  The one way out is the PEM pair below, which exists
 * for lib/keyfile alone; nothing outside lib/ calls it.  A struct tsr_key
 * made from a public JWK can verify but not sign.
 */
#ifndef TSR_KEY_H
#define TSR_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* RFC 7638 SHA-256 thumbprint, base64url: 43 characters. */
#define TSR_KEY_KID_LEN		43
#define TSR_KEY_KID_BUF		(TSR_KEY_KID_LEN + 1)
#define TSR_KEY_DEFAULT_BITS	2048
/* Smallest RSA key we load or accept from a JWK (RFC 7518 §3.3). */
#define TSR_KEY_MIN_BITS	2048
#define TSR_KEY_MAX_BITS	4096
/* Largest RSA signature we make or accept, in bytes. */
#define TSR_KEY_MAX_SIG		(TSR_KEY_MAX_BITS / 8)
/* Largest private key PEM we parse (a key file larger is refused
 * unread). */
#define TSR_KEY_MAX_PEM		16384

struct tsr_key;

/* bits is 2048, 3072 or 4096. */
bool tsr_key_bits_valid(int bits);

/* A fresh RSA key (e = 65537) from GnuTLS's key-grade RNG.  Free with
 * tsr_key_destroy.  TSR_ERR_INVALID for bad bits, TSR_ERR_CRYPTO. */
TSR_MUST_CHECK enum tsr_err tsr_key_generate(int bits, struct tsr_key **out,
    struct tsr_why *why);

/* Public key from a JWK object: kty RSA, n, e, kid optional (if present it
 * must equal the thumbprint).  Can verify, cannot sign. */
TSR_MUST_CHECK enum tsr_err tsr_key_from_jwk(const json_t *jwk,
    struct tsr_key **out, struct tsr_why *why);

/* Private key from raw RSA parameters (big-endian bytes), used by tests
 * to load published vectors such as RFC 7515 A.2. */
struct tsr_key_rsa_raw {
	const uint8_t *n, *e, *d, *p, *q, *dp, *dq, *qi;
	size_t n_len, e_len, d_len, p_len, q_len, dp_len, dq_len, qi_len;
};
TSR_MUST_CHECK enum tsr_err tsr_key_from_raw(const struct tsr_key_rsa_raw *raw,
    struct tsr_key **out, struct tsr_why *why);

/* NULL-safe; wipes and frees the private half. */
void tsr_key_destroy(struct tsr_key *key);

/* The kid: RFC 7638 §3 thumbprint, valid as long as key. */
const char *tsr_key_kid(const struct tsr_key *key);
int tsr_key_bits(const struct tsr_key *key);
bool tsr_key_has_private(const struct tsr_key *key);

/* New reference to the public JWK {"kty","use":"sig","alg":"RS256","kid",
 * "n","e"}; json_decref it. */
TSR_MUST_CHECK enum tsr_err tsr_key_public_jwk(const struct tsr_key *key,
    json_t **out);

/*
 * RFC 7638 thumbprint of an RSA public key given as base64url n and e:
 * SHA-256 over {"e":..,"kty":"RSA","n":..}, base64url into kid.
 */
TSR_MUST_CHECK enum tsr_err tsr_key_thumbprint(const char *n_b64,
    const char *e_b64, char kid[TSR_KEY_KID_BUF]);

/*
 * RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over msg.  sig has room for
 * TSR_KEY_MAX_SIG bytes; *sig_len gets the modulus size.
 * TSR_ERR_STATE if key has no private half.  Safe to call from many
 * threads at once on one key.
 */
TSR_MUST_CHECK enum tsr_err tsr_key_sign(const struct tsr_key *key,
    const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len);

/* TSR_OK if sig is a valid RS256 signature of msg, TSR_ERR_BAD_SIG if
 * not.  Thread-safe. */
TSR_MUST_CHECK enum tsr_err tsr_key_verify(const struct tsr_key *key,
    const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

/*
 * PEM, for lib/keyfile only: private-key material, never to leave lib/.
 *
 * tsr_key_to_pem: key's private half as unencrypted PKCS #8 PEM in *pem
 * (*pem_len bytes, not NUL-terminated).  The caller must free it with
 * tsr_key_pem_free, which wipes it; on failure *pem is NULL.
 * TSR_ERR_STATE if key has no private half, TSR_ERR_CRYPTO.
 */
TSR_MUST_CHECK enum tsr_err tsr_key_to_pem(const struct tsr_key *key,
    uint8_t **pem, size_t *pem_len, struct tsr_why *why);

/* Zero pem[0..pem_len), then free it.  NULL-safe. */
void tsr_key_pem_free(uint8_t *pem, size_t pem_len);

/*
 * Private key from PKCS #8 or PKCS #1 PEM, unencrypted.  pem stays the
 * caller's, who must wipe it before freeing it (explicit_bzero).  Free
 * *out with tsr_key_destroy.  TSR_ERR_TOO_LONG over TSR_KEY_MAX_PEM;
 * TSR_ERR_CRYPTO when it does not parse or is not a consistent RSA key;
 * TSR_ERR_INVALID for a key size outside TSR_KEY_MIN_BITS..MAX_BITS.
 */
TSR_MUST_CHECK enum tsr_err tsr_key_from_pem(const uint8_t *pem,
    size_t pem_len, struct tsr_key **out, struct tsr_why *why);

#endif
