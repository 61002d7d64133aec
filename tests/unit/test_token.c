/* token: minted tokens carry exactly the RFC 9068 claims documented in the README. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "jose.h"
#include "key.h"
#include "token.h"

static void
test_claims(const struct tsr_key *key)
{
	struct tsr_token_req r = { "https://issuer.example", "order-service",
		"inventory", "a b", "X5T", 1000, 300 };
	char jti[TSR_TOKEN_JTI_BUF], jti2[TSR_TOKEN_JTI_BUF];
	struct tsr_jws *jws = NULL;
	const json_t *c;
	char *tok = NULL, *tok2 = NULL;
	size_t len = 0;

	CHECK_INT(tsr_token_mint(key, &r, &tok, &len, jti, NULL), TSR_OK);
	CHECK_INT(strlen(jti), TSR_TOKEN_JTI_LEN);
	CHECK_INT(tsr_jose_decode(tok, len, &jws, NULL), TSR_OK);
	CHECK_INT(tsr_jose_verify(jws, key, NULL), TSR_OK);
	CHECK_STR(tsr_jose_typ(jws), "at+jwt");
	CHECK_STR(tsr_jose_kid(jws), tsr_key_kid(key));
	c = tsr_jose_claims(jws);
	CHECK_INT(json_object_size(c), 10);
	CHECK_STR(json_string_value(json_object_get(c, "iss")),
	    "https://issuer.example");
	CHECK_STR(json_string_value(json_object_get(c, "sub")),
	    "order-service");
	CHECK_STR(json_string_value(json_object_get(c, "client_id")),
	    "order-service");
	CHECK_STR(json_string_value(json_object_get(c, "aud")), "inventory");
	CHECK_INT(json_integer_value(json_object_get(c, "iat")), 1000);
	CHECK_INT(json_integer_value(json_object_get(c, "nbf")), 1000);
	CHECK_INT(json_integer_value(json_object_get(c, "exp")), 1300);
	CHECK_STR(json_string_value(json_object_get(c, "jti")), jti);
	CHECK_STR(json_string_value(json_object_get(c, "scope")), "a b");
	CHECK_STR(json_string_value(json_object_get(json_object_get(c, "cnf"),
	    "x5t#S256")), "X5T");
	tsr_jose_free(jws);

	/* No scope: no claim.  And every token has its own jti. */
	r.scope = "";
	CHECK_INT(tsr_token_mint(key, &r, &tok2, &len, jti2, NULL), TSR_OK);
	CHECK(strcmp(jti, jti2) != 0);
	CHECK_INT(tsr_jose_decode(tok2, len, &jws, NULL), TSR_OK);
	CHECK(json_object_get(tsr_jose_claims(jws), "scope") == NULL);
	tsr_jose_free(jws);
	free(tok);
	free(tok2);
}

static void
test_bad_requests(const struct tsr_key *key)
{
	struct tsr_token_req r = { "i", "s", "a", "", "x", INT64_MAX - 10,
		300 };
	char jti[TSR_TOKEN_JTI_BUF];
	char *tok = NULL;

	/* iat + ttl would overflow. */
	CHECK_INT(tsr_token_mint(key, &r, &tok, NULL, jti, NULL),
	    TSR_ERR_INVALID);
	r.iat = 1000;
	r.ttl_s = 0;
	CHECK_INT(tsr_token_mint(key, &r, &tok, NULL, jti, NULL),
	    TSR_ERR_INVALID);
	r.ttl_s = 1;
	r.aud = NULL;
	CHECK_INT(tsr_token_mint(key, &r, &tok, NULL, jti, NULL),
	    TSR_ERR_INVALID);
	CHECK(tok == NULL);
}

static void
test_x5t(void)
{
	/* SHA-256 of "abc" (FIPS 180-2 B.1), base64url. */
	char x5t[TSR_TOKEN_X5T_BUF];

	CHECK_INT(tsr_token_x5t((const uint8_t *)"abc", 3, x5t), TSR_OK);
	CHECK_STR(x5t, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

/* The key table of a test: one key known by its kid. */
static const struct tsr_key *
find_key(void *arg, const char *kid)
{
	const struct tsr_key *key = arg;

	return strcmp(tsr_key_kid(key), kid) == 0 ? key : NULL;
}

/* A key that answers to every kid: a signature it cannot check. */
static const struct tsr_key *
any_key(void *arg, const char *kid)
{
	return arg;
}

/* {"alg":"none","typ":"at+jwt","kid":"k"} with valid-looking claims. */
#define ALG_NONE_TOKEN							\
	"eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0Iiwia2lkIjoiayJ9."	\
	"eyJpc3MiOiJodHRwczovL2kiLCJzdWIiOiJzdmMiLCJhdWQiOiJhdWQiLCJqdGki" \
	"OiJqIiwiaWF0IjoxMDAwLCJuYmYiOjEwMDAsImV4cCI6MTMwMCwiY25mIjp7Ing1" \
	"dCNTMjU2IjoiWCJ9fQ."

static void
test_check(const struct tsr_key *key, const struct tsr_key *other)
{
	struct tsr_token_req r = { "https://i", "svc", "aud", "x", "X5T",
		1000, 300 };
	struct tsr_token_claims c;
	char jti[TSR_TOKEN_JTI_BUF], *tok = NULL, *jwt = NULL, *big;
	json_t *claims;
	void *k = (void *)key;

	CHECK_INT(tsr_token_mint(key, &r, &tok, NULL, jti, NULL), TSR_OK);
	if (tok == NULL)
		return;
	CHECK_INT(tsr_token_check(tok, strlen(tok), find_key, k, "https://i",
	    1100, 60, &c), TSR_TOKEN_VALID);
	CHECK_STR(c.sub, "svc");
	CHECK_STR(c.aud, "aud");
	CHECK_STR(c.jti, jti);
	CHECK_STR(c.x5t, "X5T");
	CHECK_STR(c.kid, tsr_key_kid(key));
	CHECK_INT(c.exp, 1300);
	/* Time: valid from nbf - skew until exp + skew. */
	CHECK_INT(tsr_token_check(tok, strlen(tok), find_key, k, NULL, 939,
	    60, &c), TSR_TOKEN_NOT_YET_VALID);
	CHECK_INT(tsr_token_check(tok, strlen(tok), find_key, k, NULL, 940,
	    60, &c), TSR_TOKEN_VALID);
	CHECK_INT(tsr_token_check(tok, strlen(tok), find_key, k, NULL, 1359,
	    60, &c), TSR_TOKEN_VALID);
	CHECK_INT(tsr_token_check(tok, strlen(tok), find_key, k, NULL, 1360,
	    60, &c), TSR_TOKEN_EXPIRED);
	CHECK_INT(tsr_token_check(tok, strlen(tok), find_key, k, "https://j",
	    1100, 60, &c), TSR_TOKEN_WRONG_ISS);
	CHECK_INT(tsr_token_check(tok, strlen(tok), find_key, (void *)other,
	    NULL, 1100, 60, &c), TSR_TOKEN_UNKNOWN_KID);
	CHECK_INT(tsr_token_check(tok, strlen(tok), any_key, (void *)other,
	    NULL, 1100, 60, &c), TSR_TOKEN_BAD_SIG);
	CHECK_INT(tsr_token_check("garbage", 7, find_key, k, NULL, 1100, 60,
	    &c), TSR_TOKEN_MALFORMED);
	if ((big = malloc(TSR_JOSE_MAX_TOKEN + 1)) != NULL) {
		memset(big, 'a', TSR_JOSE_MAX_TOKEN + 1);
		CHECK_INT(tsr_token_check(big, TSR_JOSE_MAX_TOKEN + 1,
		    find_key, k, NULL, 1100, 60, &c), TSR_TOKEN_TOO_LONG);
		free(big);
	}
	/* alg none, with or without our signature: only RS256 counts. */
	CHECK_INT(tsr_token_check(ALG_NONE_TOKEN, strlen(ALG_NONE_TOKEN),
	    any_key, k, NULL, 1100, 60, &c), TSR_TOKEN_BAD_ALG);
	CHECK_STR(tsr_token_verdict_str(TSR_TOKEN_EXPIRED), "expired");

	/* A JWT that is not an access token (typ JWT) is refused. */
	claims = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:{s:s}}", "iss",
	    "https://i", "sub", "svc", "aud", "aud", "jti", "j", "iat", 1000,
	    "nbf", 1000, "exp", 1300, "cnf", "x5t#S256", "X");
	CHECK_INT(tsr_jose_sign(key, "JWT", claims, &jwt, NULL), TSR_OK);
	CHECK_INT(tsr_token_check(jwt, strlen(jwt), find_key, k, NULL, 1100,
	    60, &c), TSR_TOKEN_WRONG_TYP);
	json_decref(claims);
	free(jwt);
	free(tok);
}

int
main(void)
{
	struct tsr_key *key = NULL;

	struct tsr_key *other = NULL;

	CHECK_INT(tsr_key_generate(2048, &key, NULL), TSR_OK);
	CHECK_INT(tsr_key_generate(2048, &other, NULL), TSR_OK);
	if (key != NULL && other != NULL) {
		test_claims(key);
		test_bad_requests(key);
		test_check(key, other);
	}
	tsr_key_destroy(other);
	test_x5t();
	tsr_key_destroy(key);
	return check_done();
}
