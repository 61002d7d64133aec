#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "check.h"
#include "key.h"

/* RFC 7638 §3.1: the example key and its thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aP"
    "FFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl9"
    "3lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
    "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
    "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_kid[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static void
test_bits(void)
{
	static const struct {
		int	bits;
		bool	ok;
	} t[] = {
		{ 2048, true }, { 3072, true }, { 4096, true }, { 2047, false },
		{ 4097, false }, { 1024, false }, { 8192, false }, { 0, false },
		{ -2048, false },
	};
	struct tsr_key *key = (struct tsr_key *)1;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_INT(tsr_key_bits_valid(t[i].bits), t[i].ok);
	CHECK_INT(tsr_key_generate(1024, &key, NULL), TSR_ERR_INVALID);
	CHECK(key == NULL);
}

/* A JWK like the RFC 7638 one with member name set to value. */
static json_t *
jwk_with(const char *name, const char *value)
{
	json_t *jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n",
	    rfc7638_n, "e", "AQAB");

	if (name != NULL && value != NULL)
		json_object_set_new(jwk, name, json_string(value));
	else if (name != NULL)
		json_object_del(jwk, name);
	return jwk;
}

static void
test_thumbprint(void)
{
	char kid[TSR_KEY_KID_BUF], n0[1024], small[256];
	uint8_t nb[512], sb[128];
	struct tsr_key *key;
	json_t *jwk;
	size_t i, len;
	static const struct {
		const char	*name, *value;
		enum tsr_err	 rc;
	} t[] = {
		{ NULL, NULL, TSR_OK },
		{ "kid", rfc7638_kid, TSR_OK },
		{ "alg", "RS256", TSR_OK },
		{ "use", "sig", TSR_OK },
		{ "kid", "2011-04-29", TSR_ERR_INVALID },  /* not a thumbprint */
		{ "kty", "EC", TSR_ERR_INVALID },
		{ "kty", NULL, TSR_ERR_INVALID },
		{ "n", NULL, TSR_ERR_INVALID },
		{ "e", NULL, TSR_ERR_INVALID },
		{ "e", "AQAB=", TSR_ERR_INVALID },
		{ "e", "AAEAAQ", TSR_ERR_INVALID },	/* leading zero */
		{ "e", "AQAA", TSR_ERR_INVALID },	/* even */
		{ "e", "AQ", TSR_ERR_INVALID },		/* 1 */
		{ "e", "AQAAAAE", TSR_ERR_INVALID },	/* 5 bytes */
		{ "use", "enc", TSR_ERR_INVALID },
		{ "alg", "RS512", TSR_ERR_INVALID },
		{ "alg", "none", TSR_ERR_INVALID },
	};

	/* RFC 7638 §3.1 */
	CHECK_INT(tsr_key_thumbprint(rfc7638_n, "AQAB", kid), TSR_OK);
	CHECK_STR(kid, rfc7638_kid);
	CHECK_INT(tsr_key_thumbprint("a+b", "AQAB", kid), TSR_ERR_INVALID);
	CHECK_INT(tsr_key_thumbprint(rfc7638_n, "AQAB\"", kid),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_key_thumbprint(rfc7638_n, "", kid), TSR_ERR_INVALID);

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		jwk = jwk_with(t[i].name, t[i].value);
		key = NULL;
		CHECK_INT(tsr_key_from_jwk(jwk, &key, NULL), t[i].rc);
		if (t[i].rc == TSR_OK && key != NULL) {
			CHECK_STR(tsr_key_kid(key), rfc7638_kid);
			CHECK_INT(tsr_key_bits(key), 2048);
			CHECK(!tsr_key_has_private(key));
		} else
			CHECK(key == NULL);
		tsr_key_destroy(key);
		json_decref(jwk);
	}

	/* n with a leading zero octet is not minimal (RFC 7518 §6.3.1.1). */
	nb[0] = 0;
	CHECK_INT(tsr_b64_decode(rfc7638_n, strlen(rfc7638_n), nb + 1,
	    sizeof(nb) - 1, &len), TSR_OK);
	CHECK_INT(tsr_b64_encode(nb, len + 1, n0, sizeof(n0), NULL), TSR_OK);
	jwk = jwk_with("n", n0);
	CHECK_INT(tsr_key_from_jwk(jwk, &key, NULL), TSR_ERR_INVALID);
	json_decref(jwk);
	/* A 1024-bit modulus is too small (RFC 7518 §3.3). */
	memset(sb, 0xc1, sizeof(sb));
	CHECK_INT(tsr_b64_encode(sb, sizeof(sb), small, sizeof(small), NULL),
	    TSR_OK);
	jwk = jwk_with("n", small);
	CHECK_INT(tsr_key_from_jwk(jwk, &key, NULL), TSR_ERR_INVALID);
	json_decref(jwk);
	CHECK_INT(tsr_key_from_jwk(json_null(), &key, NULL), TSR_ERR_INVALID);
}

static void
test_sign_verify(const struct tsr_key *key)
{
	static const uint8_t msg[] = "eyJhbGciOiJSUzI1NiJ9.e30";
	uint8_t sig[TSR_KEY_MAX_SIG], sig2[TSR_KEY_MAX_SIG];
	struct tsr_key *pub = NULL;
	size_t sig_len = 0, sig2_len = 0;
	json_t *jwk = NULL;

	CHECK_INT(tsr_key_sign(key, msg, sizeof(msg) - 1, sig, &sig_len),
	    TSR_OK);
	CHECK_INT(sig_len, 256);
	/* PKCS #1 v1.5 is deterministic. */
	CHECK_INT(tsr_key_sign(key, msg, sizeof(msg) - 1, sig2, &sig2_len),
	    TSR_OK);
	CHECK(sig_len == sig2_len && memcmp(sig, sig2, sig_len) == 0);
	CHECK_INT(tsr_key_verify(key, msg, sizeof(msg) - 1, sig, sig_len),
	    TSR_OK);

	CHECK_INT(tsr_key_public_jwk(key, &jwk), TSR_OK);
	CHECK_INT(tsr_key_from_jwk(jwk, &pub, NULL), TSR_OK);
	json_decref(jwk);
	CHECK_STR(tsr_key_kid(pub), tsr_key_kid(key));
	CHECK(!tsr_key_has_private(pub));
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 1, sig, sig_len),
	    TSR_OK);
	CHECK_INT(tsr_key_sign(pub, msg, sizeof(msg) - 1, sig2, &sig2_len),
	    TSR_ERR_STATE);
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 2, sig, sig_len),
	    TSR_ERR_BAD_SIG);
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 1, sig, sig_len - 1),
	    TSR_ERR_BAD_SIG);
	sig[100] ^= 0x01;
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 1, sig, sig_len),
	    TSR_ERR_BAD_SIG);
	tsr_key_destroy(pub);
}

struct thread_arg {
	const struct tsr_key	*key, *pub;
	int			 failures;
};

static void *
sign_verify_loop(void *p)
{
	struct thread_arg *arg = p;
	uint8_t msg[16], sig[TSR_KEY_MAX_SIG];
	size_t sig_len;
	int i;

	for (i = 0; i < 25; i++) {
		memset(msg, i, sizeof(msg));
		if (tsr_key_sign(arg->key, msg, sizeof(msg), sig,
		    &sig_len) != TSR_OK ||
		    tsr_key_verify(arg->pub, msg, sizeof(msg), sig,
		    sig_len) != TSR_OK ||
		    tsr_key_verify(arg->key, msg, sizeof(msg), sig,
		    sig_len) != TSR_OK)
			arg->failures++;
		sig[0] ^= 1;
		if (tsr_key_verify(arg->pub, msg, sizeof(msg), sig,
		    sig_len) != TSR_ERR_BAD_SIG)
			arg->failures++;
	}
	return NULL;
}

/* key.h: sign and verify are safe from many threads on one key. */
static void
test_threads(const struct tsr_key *key)
{
	struct thread_arg args[4];
	pthread_t t[4];
	struct tsr_key *pub = NULL;
	json_t *jwk = NULL;
	int i, failures = 0;

	CHECK_INT(tsr_key_public_jwk(key, &jwk), TSR_OK);
	CHECK_INT(tsr_key_from_jwk(jwk, &pub, NULL), TSR_OK);
	json_decref(jwk);
	for (i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ key, pub, 0 };
		if (pthread_create(&t[i], NULL, sign_verify_loop, &args[i]))
			abort();
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		failures += args[i].failures;
	}
	CHECK_INT(failures, 0);
	tsr_key_destroy(pub);
}

static void
test_generate(struct tsr_key **out)
{
	char kid[TSR_KEY_KID_BUF];
	struct tsr_key *key = NULL;
	json_t *jwk = NULL;

	CHECK_INT(tsr_key_generate(2048, &key, NULL), TSR_OK);
	*out = key;
	if (key == NULL)
		abort();
	CHECK_INT(tsr_key_bits(key), 2048);
	CHECK(tsr_key_has_private(key));
	CHECK_INT(strlen(tsr_key_kid(key)), TSR_KEY_KID_LEN);
	CHECK_INT(tsr_key_public_jwk(key, &jwk), TSR_OK);
	CHECK_STR(json_string_value(json_object_get(jwk, "kty")), "RSA");
	CHECK_STR(json_string_value(json_object_get(jwk, "use")), "sig");
	CHECK_STR(json_string_value(json_object_get(jwk, "alg")), "RS256");
	CHECK_STR(json_string_value(json_object_get(jwk, "e")), "AQAB");
	CHECK_STR(json_string_value(json_object_get(jwk, "kid")),
	    tsr_key_kid(key));
	CHECK_INT(strlen(json_string_value(json_object_get(jwk, "n"))), 342);
	CHECK_INT(json_object_size(jwk), 6);	/* nothing private */
	CHECK_INT(tsr_key_thumbprint(json_string_value(json_object_get(jwk,
	    "n")), "AQAB", kid), TSR_OK);
	CHECK_STR(kid, tsr_key_kid(key));
	json_decref(jwk);
	test_sign_verify(key);
	test_threads(key);
}

/* tsr_key_to_pem and tsr_key_from_pem, which lib/keyfile uses, give the
 * same key back. */
static void
test_pem(const struct tsr_key *key)
{
	static uint8_t big[TSR_KEY_MAX_PEM + 1];
	struct tsr_key *back = NULL, *pub = NULL;
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	json_t *jwk = NULL;

	CHECK_INT(tsr_key_to_pem(key, &pem, &pem_len, NULL), TSR_OK);
	CHECK(pem != NULL && pem_len > 28 &&
	    memcmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	CHECK_INT(tsr_key_from_pem(pem, pem_len, &back, NULL), TSR_OK);
	CHECK(back != NULL && tsr_key_has_private(back) &&
	    strcmp(tsr_key_kid(back), tsr_key_kid(key)) == 0);
	tsr_key_destroy(back);
	back = NULL;
	CHECK_INT(tsr_key_from_pem(pem, pem_len / 2, &back, NULL),
	    TSR_ERR_CRYPTO);
	CHECK(back == NULL);
	tsr_key_pem_free(pem, pem_len);
	tsr_key_pem_free(NULL, 0);
	memset(big, 'A', sizeof(big));
	CHECK_INT(tsr_key_from_pem(big, sizeof(big), &back, NULL),
	    TSR_ERR_TOO_LONG);
	CHECK_INT(tsr_key_from_pem(big, sizeof(big) - 1, &back, NULL),
	    TSR_ERR_CRYPTO);

	/* A public key has no private half to export. */
	if (tsr_key_public_jwk(key, &jwk) != TSR_OK ||
	    tsr_key_from_jwk(jwk, &pub, NULL) != TSR_OK)
		abort();
	json_decref(jwk);
	pem = (uint8_t *)1;
	CHECK_INT(tsr_key_to_pem(pub, &pem, &pem_len, NULL), TSR_ERR_STATE);
	CHECK(pem == NULL && pem_len == 0);
	tsr_key_destroy(pub);
}

static void
test_from_raw_missing(void)
{
	static const uint8_t one[1] = { 1 };
	struct tsr_key_rsa_raw raw = { .n = one, .n_len = 1, .e = one,
	    .e_len = 1 };
	struct tsr_key *key = NULL;

	CHECK_INT(tsr_key_from_raw(&raw, &key, NULL), TSR_ERR_INVALID);
	CHECK(key == NULL);
}

int
main(void)
{
	struct tsr_key *key = NULL;

	test_bits();
	test_thumbprint();
	test_from_raw_missing();
	test_generate(&key);
	test_pem(key);
	tsr_key_destroy(key);
	tsr_key_destroy(NULL);
	return check_done();
}
