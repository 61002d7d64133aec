#include "token.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <nettle/sha2.h>

#include "b64.h"
#include "jose.h"

enum tsr_err
tsr_token_x5t(const uint8_t *der, size_t der_len, char x5t[TSR_TOKEN_X5T_BUF])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, der_len, der);
	sha256_digest(&ctx, sizeof(digest), digest);
	return tsr_b64_encode(digest, sizeof(digest), x5t, TSR_TOKEN_X5T_BUF,
	    NULL);
}

static enum tsr_err
new_jti(char jti[TSR_TOKEN_JTI_BUF])
{
	uint8_t raw[TSR_TOKEN_JTI_BYTES];

	/* RFC 9068 §2.2: unique per token; 128 random bits make it so. */
	if (gnutls_rnd(GNUTLS_RND_RANDOM, raw, sizeof(raw)) != 0)
		return TSR_ERR_CRYPTO;
	return tsr_b64_encode(raw, sizeof(raw), jti, TSR_TOKEN_JTI_BUF, NULL);
}

/* Claims in a fixed order, so tokens read the same every time. */
static json_t *
build_claims(const struct tsr_token_req *r, const char *jti, int64_t exp)
{
	json_t *c;

	c = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", r->iss,
	    "sub", r->sub, "client_id", r->sub, "aud", r->aud, "iat",
	    (json_int_t)r->iat, "nbf", (json_int_t)r->iat, "exp",
	    (json_int_t)exp, "jti", jti);
	if (c == NULL)
		return NULL;
	if ((r->scope[0] != '\0' &&
	    json_object_set_new(c, "scope", json_string(r->scope)) != 0) ||
	    json_object_set_new(c, "cnf", json_pack("{s:s}", "x5t#S256",
	    r->x5t)) != 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

enum tsr_err
tsr_token_mint(const struct tsr_key *key, const struct tsr_token_req *r,
    char **out, size_t *out_len, char jti[TSR_TOKEN_JTI_BUF],
    struct tsr_why *why)
{
	json_t *claims = NULL;
	int64_t exp;
	enum tsr_err rc;

	*out = NULL;
	jti[0] = '\0';
	if (r->iss == NULL || r->sub == NULL || r->aud == NULL ||
	    r->scope == NULL || r->x5t == NULL || r->ttl_s <= 0 ||
	    __builtin_add_overflow(r->iat, r->ttl_s, &exp))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "incomplete token request");
	if ((rc = new_jti(jti)) != TSR_OK)
		return tsr_err_why(why, rc, "no randomness for jti");
	if ((claims = build_claims(r, jti, exp)) == NULL)
		return TSR_ERR_NOMEM;
	rc = tsr_jose_sign(key, TSR_TOKEN_TYP, claims, out, out_len);
	json_decref(claims);
	return rc;
}
