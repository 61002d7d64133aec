/*
 * fuzz_token: decoding and checking a JWT as "tessera token inspect"
 * does: tsr_jose_decode, tsr_jose_verify and tsr_token_check against one
 * published key, at a fixed "now".
 *
 * The key is the public half of the RFC 7515 A.2 RSA key (a published
 * test vector), so seed tokens signed with it (the .jwt files of corpus/token) get
 * past the signature check to the issuer and time checks.  now is
 * FUZZ_NOW, inside the seeds' validity.
 *
 * Properties: decode fails only with TSR_ERR_TOO_LONG/MALFORMED and then
 * check says TOO_LONG or MALFORMED; a decoded token has object header and claims and
 * verifies to OK, MALFORMED or BAD_SIG; the verdict is a known one with a
 * text; copied claims are NUL-terminated in their fields; VALID implies
 * our kid and a good signature, and nbf - skew <= now < exp + skew.
 */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jose.h"
#include "token.h"

#define FUZZ_NOW	1700000100
#define FUZZ_SKEW_S	60		/* as server/cli/token.c */

/* RFC 7515 A.2.1, n and e. */
static const char a2_n[] =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
    "4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2"
    "jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7"
    "WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvU"
    "K-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
static const char a2_e[] = "AQAB";

/* Made once, kept for the process (reachable: not a leak). */
static struct tsr_key *
published_key(void)
{
	static struct tsr_key *key;
	json_t *jwk;

	if (key != NULL)
		return key;
	if ((jwk = json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", a2_n, "e",
	    a2_e)) == NULL || tsr_key_from_jwk(jwk, &key, NULL) != TSR_OK)
		abort();
	json_decref(jwk);
	return key;
}

static const struct tsr_key *
find_key(void *arg, const char *kid)
{
	FUZZ_ASSERT(kid != NULL);
	return strcmp(kid, tsr_key_kid(arg)) == 0 ? arg : NULL;
}

#define TERMINATED(field) \
	(memchr((field), '\0', sizeof(field)) != NULL)

static void
check_claims(const struct tsr_token_claims *c)
{
	FUZZ_ASSERT(TERMINATED(c->kid) && TERMINATED(c->iss) &&
	    TERMINATED(c->sub) && TERMINATED(c->aud) &&
	    TERMINATED(c->scope) && TERMINATED(c->jti) && TERMINATED(c->x5t));
}

/* Decode and verify by hand; whether it decoded. */
static bool
decode(const uint8_t *data, size_t size, const struct tsr_key *key,
    bool *verified)
{
	static char sentinel;	/* *out must be set, even on failure */
	struct tsr_jws *jws = (struct tsr_jws *)(void *)&sentinel;
	enum tsr_err rc;

	*verified = false;
	rc = tsr_jose_decode((const char *)data, size, &jws, NULL);
	if (rc != TSR_OK) {
		FUZZ_ASSERT(rc == TSR_ERR_TOO_LONG || rc == TSR_ERR_MALFORMED);
		FUZZ_ASSERT(jws == NULL);
		FUZZ_ASSERT(size <= TSR_JOSE_MAX_TOKEN ||
		    rc == TSR_ERR_TOO_LONG);
		return false;
	}
	FUZZ_ASSERT(size <= TSR_JOSE_MAX_TOKEN);
	FUZZ_ASSERT(json_is_object(tsr_jose_header(jws)));
	FUZZ_ASSERT(json_is_object(tsr_jose_claims(jws)));
	(void)tsr_jose_alg(jws);
	(void)tsr_jose_typ(jws);
	(void)tsr_jose_kid(jws);
	rc = tsr_jose_verify(jws, key, NULL);
	FUZZ_ASSERT(rc == TSR_OK || rc == TSR_ERR_MALFORMED ||
	    rc == TSR_ERR_BAD_SIG);
	if (rc == TSR_OK)
		FUZZ_ASSERT(strcmp(tsr_jose_alg(jws), "RS256") == 0);
	*verified = rc == TSR_OK;
	tsr_jose_free(jws);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tsr_key *key = published_key();
	struct tsr_token_claims c;
	enum tsr_token_verdict v;
	bool decoded, verified;

	decoded = decode(data, size, key, &verified);
	memset(&c, 0x5a, sizeof(c));
	v = tsr_token_check((const char *)data, size, find_key, (void *)key,
	    NULL, FUZZ_NOW, FUZZ_SKEW_S, &c);
	FUZZ_ASSERT((unsigned)v <= TSR_TOKEN_EXPIRED);
	FUZZ_ASSERT(strcmp(tsr_token_verdict_str(v), "invalid") != 0);
	check_claims(&c);
	if (!decoded)
		FUZZ_ASSERT(v == TSR_TOKEN_MALFORMED ||
		    v == TSR_TOKEN_TOO_LONG);
	if (v > TSR_TOKEN_BAD_SIG)	/* the signature was checked */
		FUZZ_ASSERT(verified &&
		    strcmp(c.kid, tsr_key_kid(key)) == 0);
	if (v == TSR_TOKEN_VALID) {
		FUZZ_ASSERT(verified && strcmp(c.kid, tsr_key_kid(key)) == 0);
		FUZZ_ASSERT(c.nbf <= FUZZ_NOW + FUZZ_SKEW_S);
		FUZZ_ASSERT(c.exp > FUZZ_NOW - FUZZ_SKEW_S);
	}
	/* A foreign issuer: a good signature now fails on iss. */
	if (v == TSR_TOKEN_VALID)
		FUZZ_ASSERT(tsr_token_check((const char *)data, size,
		    find_key, (void *)key, "https://elsewhere.example",
		    FUZZ_NOW, FUZZ_SKEW_S, NULL) == TSR_TOKEN_WRONG_ISS ||
		    strcmp(c.iss, "https://elsewhere.example") == 0);
	return 0;
}
