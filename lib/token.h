/*
 * token: RFC 9068 JWT access tokens, as tessera mints them.
 *
 * Header {"alg":"RS256","typ":"at+jwt","kid":..}; claims iss, sub,
 * client_id (= sub), aud (a string), iat, nbf (= iat), exp, jti (128
 * random bits, base64url), scope (omitted when empty) and
 * cnf {"x5t#S256": ..} binding the token to the client certificate
 * (RFC 8705 §3.1).
 */
#ifndef TSR_TOKEN_H
#define TSR_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"

#define TSR_TOKEN_TYP		"at+jwt"
#define TSR_TOKEN_JTI_BYTES	16
#define TSR_TOKEN_JTI_BUF	(TSR_TOKEN_JTI_LEN + 1)
#define TSR_TOKEN_JTI_LEN		22	/* base64url of 16 bytes */
#define TSR_TOKEN_X5T_LEN	43	/* base64url of a SHA-256 */
#define TSR_TOKEN_X5T_BUF	(TSR_TOKEN_X5T_LEN + 1)

struct tsr_token_req {
	const char	*iss;
	const char	*sub;		/* the client's name */
	const char	*aud;
	const char	*scope;		/* sorted, space-separated; "" = none */
	const char	*x5t;		/* base64url SHA-256 of the cert DER */
	int64_t		 iat;
	int64_t		 ttl_s;		/* > 0 */
};

/*
 * Mint and sign a token with key.  *out is malloc'd (free()); *out_len may
 * be NULL; jti receives the token's id.  TSR_ERR_INVALID for a missing
 * field or a ttl that overflows, TSR_ERR_CRYPTO if randomness or signing
 * fails.
 */
TSR_MUST_CHECK enum tsr_err tsr_token_mint(const struct tsr_key *key,
    const struct tsr_token_req *r, char **out, size_t *out_len,
    char jti[TSR_TOKEN_JTI_BUF], struct tsr_why *why);

/* base64url SHA-256 of der: the x5t#S256 confirmation of a certificate. */
TSR_MUST_CHECK enum tsr_err tsr_token_x5t(const uint8_t *der, size_t der_len,
    char x5t[TSR_TOKEN_X5T_BUF]);

#endif
