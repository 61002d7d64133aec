#include "token.h"

#include <stdbool.h>
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

static const char *const verdict_text[] = {
#define TSR_TOKEN_VERDICT_TEXT(name, text) text,
	TSR_TOKEN_VERDICTS(TSR_TOKEN_VERDICT_TEXT)
#undef TSR_TOKEN_VERDICT_TEXT
};

const char *
tsr_token_verdict_str(enum tsr_token_verdict v)
{
	if ((unsigned)v >= sizeof(verdict_text) / sizeof(verdict_text[0]))
		return "invalid";
	return verdict_text[v];
}

/* Copy a string member into buf; false if absent, not a string or too
 * long (a token we issued never is). */
static bool
copy_str(const json_t *obj, const char *name, char *buf, size_t size,
    bool required)
{
	const json_t *v = json_object_get(obj, name);
	size_t len;

	if (v == NULL)
		return !required;
	if (!json_is_string(v) || (len = json_string_length(v)) >= size ||
	    strlen(json_string_value(v)) != len)
		return false;
	memcpy(buf, json_string_value(v), len + 1);
	return true;
}

static bool
copy_time(const json_t *obj, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(obj, name);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

/* RFC 9068 §2.2 claims, with aud a string as we issue it. */
static bool
read_claims(const json_t *c, struct tsr_token_claims *out)
{
	const json_t *cnf = json_object_get(c, "cnf");

	return copy_str(c, "iss", out->iss, sizeof(out->iss), true) &&
	    copy_str(c, "sub", out->sub, sizeof(out->sub), true) &&
	    copy_str(c, "aud", out->aud, sizeof(out->aud), true) &&
	    copy_str(c, "jti", out->jti, sizeof(out->jti), true) &&
	    copy_str(c, "scope", out->scope, sizeof(out->scope), false) &&
	    copy_time(c, "iat", &out->iat) &&
	    copy_time(c, "exp", &out->exp) &&
	    copy_time(c, "nbf", &out->nbf) &&
	    json_is_object(cnf) &&
	    copy_str(cnf, "x5t#S256", out->x5t, sizeof(out->x5t), true);
}

static enum tsr_token_verdict
check_decoded(const struct tsr_jws *jws, tsr_token_key_fn find, void *arg,
    const char *iss, int64_t now, int64_t skew, struct tsr_token_claims *out)
{
	const struct tsr_key *key;
	const char *typ = tsr_jose_typ(jws), *kid = tsr_jose_kid(jws);
	const char *alg = tsr_jose_alg(jws);

	/* RFC 8725 §3.1: only the one algorithm we sign with. */
	if (alg == NULL || strcmp(alg, "RS256") != 0)
		return TSR_TOKEN_BAD_ALG;
	if (kid == NULL || strlen(kid) >= sizeof(out->kid))
		return TSR_TOKEN_MALFORMED;
	memcpy(out->kid, kid, strlen(kid) + 1);
	if (!read_claims(tsr_jose_claims(jws), out))
		return TSR_TOKEN_MALFORMED;
	/* RFC 9068 §4: typ must be at+jwt (the media type's short form). */
	if (typ == NULL || strcmp(typ, TSR_TOKEN_TYP) != 0)
		return TSR_TOKEN_WRONG_TYP;
	if ((key = find(arg, kid)) == NULL)
		return TSR_TOKEN_UNKNOWN_KID;
	if (tsr_jose_verify(jws, key, NULL) != TSR_OK)
		return TSR_TOKEN_BAD_SIG;
	if (iss != NULL && strcmp(out->iss, iss) != 0)
		return TSR_TOKEN_WRONG_ISS;
	if (out->nbf > now + skew)
		return TSR_TOKEN_NOT_YET_VALID;
	if (out->exp <= now - skew)
		return TSR_TOKEN_EXPIRED;
	return TSR_TOKEN_VALID;
}

enum tsr_token_verdict
tsr_token_check(const char *token, size_t len, tsr_token_key_fn find,
    void *arg, const char *iss, int64_t now, int64_t skew,
    struct tsr_token_claims *out)
{
	struct tsr_token_claims scratch;
	struct tsr_jws *jws = NULL;
	enum tsr_token_verdict v;

	if (out == NULL)
		out = &scratch;
	memset(out, 0, sizeof(*out));
	switch (tsr_jose_decode(token, len, &jws, NULL)) {
	case TSR_OK:
		break;
	case TSR_ERR_TOO_LONG:
		return TSR_TOKEN_TOO_LONG;
	default:
		return TSR_TOKEN_MALFORMED;
	}
	v = check_decoded(jws, find, arg, iss, now, skew, out);
	tsr_jose_free(jws);
	return v;
}
