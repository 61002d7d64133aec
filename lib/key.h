/*
 * key: one RSA signing key.  Generation, the private key file, the public
 * JWK, the RFC 7638 thumbprint (our kid), RS256 signing and verification.
 *
 * No private-key material leaves this module: signing is one call, bytes
 * in, signature out.  A struct tsr_key made from a public JWK can verify
 * but not sign.  Private key files live in a key directory that must be
 * mode 0700 and owned by us; each file is <kid>.pem, mode 0600, written
 * via a temp file, fsync, rename, fsync of the directory.
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
/* A private key PEM file larger than this is refused unread. */
#define TSR_KEY_MAX_PEM		16384
/* Largest key directory path. */
#define TSR_KEY_MAX_PATH	1024
/* tsr_key_dir_list refuses a directory with more key files than this. */
#define TSR_KEY_MAX_FILES	1024

struct tsr_key;

/* bits is 2048, 3072 or 4096. */
bool tsr_key_bits_valid(int bits);

/* A fresh RSA key (e = 65537) from GnuTLS's key-grade RNG.  Free with
 * tsr_key_destroy.  TSR_ERR_INVALID for bad bits, TSR_ERR_CRYPTO. */
TSR_MUST_CHECK enum tsr_err tsr_key_generate(int bits, struct tsr_key **out,
    struct tsr_why *why);

/*
 * Check that dir exists, is a directory owned by us and has no group or
 * world permission bits (TSR_ERR_PERM, like ssh); with create, make it
 * (mode 0700) when missing.
 */
TSR_MUST_CHECK enum tsr_err tsr_key_dir_check(const char *dir, bool create,
    struct tsr_why *why);

/* Write key's private half to dir/<kid>.pem atomically, mode 0600.
 * TSR_ERR_EXISTS if the file is already there. */
TSR_MUST_CHECK enum tsr_err tsr_key_save(const struct tsr_key *key,
    const char *dir, struct tsr_why *why);

/*
 * Load dir/<kid>.pem.  Refuses a file that is not a regular file we own
 * with mode 0600 or stricter (TSR_ERR_PERM), is over TSR_KEY_MAX_PEM, does
 * not parse, or whose thumbprint is not kid (TSR_ERR_CRYPTO).
 * TSR_ERR_NOT_FOUND when absent.
 */
TSR_MUST_CHECK enum tsr_err tsr_key_load(const char *dir, const char *kid,
    struct tsr_key **out, struct tsr_why *why);

/* Overwrite dir/<kid>.pem with zeros, fsync, unlink, fsync the directory.
 * A missing file is TSR_OK (destroying is idempotent). */
TSR_MUST_CHECK enum tsr_err tsr_key_destroy_file(const char *dir,
    const char *kid, struct tsr_why *why);

/* Seconds since dir/<kid>.pem was written (now - mtime);
 * TSR_ERR_NOT_FOUND when there is no such file. */
TSR_MUST_CHECK enum tsr_err tsr_key_file_age(const char *dir, const char *kid,
    int64_t now, int64_t *age_s, struct tsr_why *why);

/*
 * The kids of the *.pem files in dir, malloc'd array of malloc'd strings;
 * free with tsr_key_kids_free.  Files whose name is not a kid are ignored.
 */
TSR_MUST_CHECK enum tsr_err tsr_key_dir_list(const char *dir, char ***out,
    size_t *out_n, struct tsr_why *why);
void tsr_key_kids_free(char **kids, size_t n);

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

#endif
