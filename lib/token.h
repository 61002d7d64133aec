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
#include "jose.h"
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

/* Why a token is not valid, in the order the checks run. */
#define TSR_TOKEN_VERDICTS(X)						\
	X(TSR_TOKEN_VALID, "valid")					\
	X(TSR_TOKEN_TOO_LONG, "too long: over 8192 bytes")		\
	X(TSR_TOKEN_MALFORMED, "malformed: not a JWT we issue")		\
	X(TSR_TOKEN_BAD_ALG, "unsupported alg: only RS256 is accepted")	\
	X(TSR_TOKEN_WRONG_TYP, "wrong typ: not an at+jwt access token")	\
	X(TSR_TOKEN_UNKNOWN_KID, "signed by a key that is not published") \
	X(TSR_TOKEN_BAD_SIG, "bad signature")				\
	X(TSR_TOKEN_WRONG_ISS, "issued by another issuer")		\
	X(TSR_TOKEN_NOT_YET_VALID, "not yet valid")			\
	X(TSR_TOKEN_EXPIRED, "expired")

enum tsr_token_verdict {
#define TSR_TOKEN_VERDICT_ENUM(name, text) name,
	TSR_TOKEN_VERDICTS(TSR_TOKEN_VERDICT_ENUM)
#undef TSR_TOKEN_VERDICT_ENUM
};

/* "expired", ...; never NULL. */
const char *tsr_token_verdict_str(enum tsr_token_verdict v);

#define TSR_TOKEN_MAX_ISS	512

/* The claims of a token as tessera issues them, copied out. */
struct tsr_token_claims {
	char	kid[TSR_KEY_KID_BUF];
	char	iss[TSR_TOKEN_MAX_ISS + 1];
	char	sub[129];
	char	aud[129];
	char	scope[1025];			/* "" when absent */
	char	jti[TSR_TOKEN_JTI_BUF];
	char	x5t[TSR_TOKEN_X5T_BUF];
	int64_t	iat, nbf, exp;
};

/* The published key with this kid, or NULL.  Borrowed. */
typedef const struct tsr_key *(*tsr_token_key_fn)(void *arg,
    const char *kid);

/*
 * Check token[0..len) as a resource server would: at most
 * TSR_JOSE_MAX_TOKEN bytes, alg RS256, header typ "at+jwt", a kid that
 * find() knows,
 * an RS256 signature by that key, iss equal to iss (NULL: any), and
 * nbf - skew <= now < exp + skew.  out (may be NULL) is filled as far as
 * decoding got, so a caller can explain an expired or foreign token.
 */
enum tsr_token_verdict tsr_token_check(const char *token, size_t len,
    tsr_token_key_fn find, void *arg, const char *iss, int64_t now,
    int64_t skew, struct tsr_token_claims *out);

/* base64url SHA-256 of der: the x5t#S256 confirmation of a certificate. */
TSR_MUST_CHECK enum tsr_err tsr_token_x5t(const uint8_t *der, size_t der_len,
    char x5t[TSR_TOKEN_X5T_BUF]);

#endif
