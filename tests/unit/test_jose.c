#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "check.h"
#include "jose.h"
#include "key.h"

extern char **environ;

/*
 * RFC 7515 Appendix A.2: the RSA key (A.2.1, as a JWK), the JWS Protected
 * Header and Payload octets, and the resulting compact serialization.
 */
static const char *const a2_jwk[8] = {
	/* n */
	"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
	"4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2"
	"jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7"
	"WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvU"
	"K-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
	/* e */
	"AQAB",
	/* d */
	"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKM"
	"gvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaY"
	"LU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0"
	"ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDV"
	"ZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
	/* p */
	"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58B"
	"Q3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn"
	"-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
	/* q */
	"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1"
	"ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTl"
	"tRJ11BKBBypeeF6689rjcJIDEz9RWdc",
	/* dp */
	"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9Ykx"
	"vuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vn"
	"eTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
	/* dq */
	"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB"
	"719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZ"
	"nOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
	/* qi */
	"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq"
	"2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgf"
	"p_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
};
static const char a2_header[] = "{\"alg\":\"RS256\"}";
static const char a2_payload[] = "{\"iss\":\"joe\",\r\n"
    " \"exp\":1300819380,\r\n"
    " \"http://example.com/is_root\":true}";
static const char a2_jws[] =
    "eyJhbGciOiJSUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

/* The A.2 key, from its JWK members decoded with tsr_b64_decode. */
static struct tsr_key *
a2_key(void)
{
	uint8_t buf[8][256];
	size_t len[8], i;
	struct tsr_key_rsa_raw raw;
	struct tsr_key *key = NULL;
	struct tsr_why why;

	for (i = 0; i < 8; i++)
		if (tsr_b64_decode(a2_jwk[i], strlen(a2_jwk[i]), buf[i],
		    sizeof(buf[i]), &len[i]) != TSR_OK)
			abort();
	raw = (struct tsr_key_rsa_raw){
		.n = buf[0], .n_len = len[0], .e = buf[1], .e_len = len[1],
		.d = buf[2], .d_len = len[2], .p = buf[3], .p_len = len[3],
		.q = buf[4], .q_len = len[4], .dp = buf[5], .dp_len = len[5],
		.dq = buf[6], .dq_len = len[6], .qi = buf[7], .qi_len = len[7],
	};
	tsr_err_clear(&why);
	CHECK_INT(tsr_key_from_raw(&raw, &key, &why), TSR_OK);
	if (key == NULL) {
		printf("# %s\n", why.msg);
		abort();
	}
	return key;
}

/* BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(sig), for
 * hand-made (and mostly bad) tokens. */
static char *
make_token(const char *header, const char *payload, const uint8_t *sig,
    size_t sig_len)
{
	char *h, *p, *s, *out;
	size_t len;

	if (tsr_b64_encode_alloc((const uint8_t *)header, strlen(header), &h,
	    NULL) != TSR_OK ||
	    tsr_b64_encode_alloc((const uint8_t *)payload, strlen(payload), &p,
	    NULL) != TSR_OK ||
	    tsr_b64_encode_alloc(sig, sig_len, &s, NULL) != TSR_OK)
		abort();
	len = strlen(h) + strlen(p) + strlen(s) + 3;
	if ((out = malloc(len)) == NULL)
		abort();
	snprintf(out, len, "%s.%s.%s", h, p, s);
	free(h);
	free(p);
	free(s);
	return out;
}

/* Decode and verify in one step, as a resource server would. */
static enum tsr_err
decode_verify(const char *token, size_t len, const struct tsr_key *key)
{
	struct tsr_jws *jws = NULL;
	enum tsr_err rc;

	if ((rc = tsr_jose_decode(token, len, &jws, NULL)) == TSR_OK)
		rc = tsr_jose_verify(jws, key, NULL);
	tsr_jose_free(jws);
	return rc;
}

static void
test_rfc7515_a2(const struct tsr_key *key)
{
	struct tsr_key *pub = NULL;
	struct tsr_jws *jws = NULL;
	json_t *jwk;
	char *out = NULL;
	size_t out_len = 0;

	/* RFC 7515 A.2.1: RS256 is deterministic, so the JWS must match. */
	CHECK_INT(tsr_jose_sign_raw(key, (const uint8_t *)a2_header,
	    strlen(a2_header), (const uint8_t *)a2_payload, strlen(a2_payload),
	    &out, &out_len), TSR_OK);
	CHECK_STR(out, a2_jws);
	CHECK_INT(out_len, strlen(a2_jws));
	free(out);

	/* RFC 7515 A.2.2: validation, with the public key only. */
	jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", a2_jwk[0], "e",
	    a2_jwk[1]);
	CHECK_INT(tsr_key_from_jwk(jwk, &pub, NULL), TSR_OK);
	json_decref(jwk);
	if (pub == NULL)
		abort();
	CHECK_STR(tsr_key_kid(pub), tsr_key_kid(key));
	CHECK_INT(tsr_jose_decode(a2_jws, strlen(a2_jws), &jws, NULL), TSR_OK);
	if (jws == NULL)
		abort();
	CHECK_STR(tsr_jose_alg(jws), "RS256");
	CHECK(tsr_jose_typ(jws) == NULL);
	CHECK(tsr_jose_kid(jws) == NULL);
	CHECK_STR(json_string_value(json_object_get(tsr_jose_claims(jws),
	    "iss")), "joe");
	CHECK_INT(json_integer_value(json_object_get(tsr_jose_claims(jws),
	    "exp")), 1300819380);
	CHECK(json_is_true(json_object_get(tsr_jose_claims(jws),
	    "http://example.com/is_root")));
	CHECK_INT(tsr_jose_verify(jws, pub, NULL), TSR_OK);
	CHECK_INT(tsr_jose_verify(jws, key, NULL), TSR_OK);
	tsr_jose_free(jws);
	tsr_key_destroy(pub);
}

/* Tokens that must not verify with the A.2 key. */
static void
test_tamper(const struct tsr_key *key, const struct tsr_key *other)
{
	uint8_t sig[TSR_KEY_MAX_SIG], hmac[32];
	char *tok, *signed_tok;
	size_t sig_len, i;
	struct tsr_why why;
	static const char *const bad_alg[] = {
		"{\"alg\":\"none\"}", "{\"alg\":\"HS256\"}",
		"{\"alg\":\"rs256\"}", "{\"alg\":\"RS256 \"}",
		"{\"alg\":\"RS512\"}", "{\"alg\":\"PS256\"}",
		"{\"alg\":null}", "{\"alg\":[\"RS256\"]}", "{}",
		"{\"typ\":\"at+jwt\"}",
	};

	CHECK_INT(tsr_b64_decode(strrchr(a2_jws, '.') + 1,
	    strlen(strrchr(a2_jws, '.') + 1), sig, sizeof(sig), &sig_len),
	    TSR_OK);
	tok = make_token(a2_header, a2_payload, sig, sig_len);
	CHECK_STR(tok, a2_jws);			/* the helper is right */
	CHECK_INT(decode_verify(tok, strlen(tok), key), TSR_OK);
	CHECK_INT(decode_verify(tok, strlen(tok), other), TSR_ERR_BAD_SIG);
	free(tok);

	sig[17] ^= 0x04;			/* one bit of the signature */
	tok = make_token(a2_header, a2_payload, sig, sig_len);
	CHECK_INT(decode_verify(tok, strlen(tok), key), TSR_ERR_BAD_SIG);
	free(tok);
	sig[17] ^= 0x04;
	/* one bit of the payload: exp 1300819380 -> 1300819381 */
	tok = make_token(a2_header, "{\"iss\":\"joe\",\r\n \"exp\":1300819381,"
	    "\r\n \"http://example.com/is_root\":true}", sig, sig_len);
	CHECK_INT(decode_verify(tok, strlen(tok), key), TSR_ERR_BAD_SIG);
	free(tok);
	tok = make_token(a2_header, a2_payload, sig, sig_len - 1);
	CHECK_INT(decode_verify(tok, strlen(tok), key), TSR_ERR_BAD_SIG);
	free(tok);

	/* alg "none", HMAC and anything but exactly RS256 (RFC 8725 §2.1). */
	memset(hmac, 0x5a, sizeof(hmac));
	for (i = 0; i < sizeof(bad_alg) / sizeof(bad_alg[0]); i++) {
		tok = make_token(bad_alg[i], a2_payload, sig, sig_len);
		tsr_err_clear(&why);
		CHECK_INT(decode_verify(tok, strlen(tok), key),
		    TSR_ERR_MALFORMED);
		free(tok);
		tok = make_token(bad_alg[i], a2_payload, hmac, 0);
		CHECK_INT(decode_verify(tok, strlen(tok), key),
		    TSR_ERR_MALFORMED);
		free(tok);
		tok = make_token(bad_alg[i], a2_payload, hmac, sizeof(hmac));
		CHECK_INT(decode_verify(tok, strlen(tok), key),
		    TSR_ERR_MALFORMED);
		free(tok);
		/* Properly signed by us, but the header still names a
		 * wrong alg: refused before the signature is looked at. */
		CHECK_INT(tsr_jose_sign_raw(key, (const uint8_t *)bad_alg[i],
		    strlen(bad_alg[i]), (const uint8_t *)a2_payload,
		    strlen(a2_payload), &signed_tok, NULL), TSR_OK);
		CHECK_INT(decode_verify(signed_tok, strlen(signed_tok), key),
		    TSR_ERR_MALFORMED);
		free(signed_tok);
	}

	/* RFC 7515 §4.1.11: "crit" with a correct signature. */
	static const char crit[] = "{\"alg\":\"RS256\",\"crit\":[\"exp\"],"
	    "\"exp\":1}";
	CHECK_INT(tsr_jose_sign_raw(key, (const uint8_t *)crit, strlen(crit),
	    (const uint8_t *)a2_payload, strlen(a2_payload), &signed_tok,
	    NULL), TSR_OK);
	CHECK_INT(decode_verify(signed_tok, strlen(signed_tok), key),
	    TSR_ERR_MALFORMED);
	free(signed_tok);
	/* A kid that does not name the key given. */
	static const char kid[] = "{\"alg\":\"RS256\",\"kid\":\"other\"}";
	CHECK_INT(tsr_jose_sign_raw(key, (const uint8_t *)kid, strlen(kid),
	    (const uint8_t *)a2_payload, strlen(a2_payload), &signed_tok,
	    NULL), TSR_OK);
	CHECK_INT(decode_verify(signed_tok, strlen(signed_tok), key),
	    TSR_ERR_BAD_SIG);
	free(signed_tok);
}

static void
test_decode_bad(void)
{
	static const struct {
		const char	*header, *payload;
	} objs[] = {
		{ "[]", "{}" },
		{ "\"RS256\"", "{}" },
		{ "{\"alg\":\"RS256\"}", "123" },
		{ "{\"alg\":\"RS256\"}", "null" },
		{ "{\"alg\":\"RS256\"}", "[{}]" },
		{ "{\"alg\":\"RS256\"", "{}" },
		{ "{\"alg\":\"RS256\"} x", "{}" },
		{ "{\"alg\":\"RS256\"}", "" },
		{ "", "{}" },
		{ "{\"alg\":\"RS256\",\"alg\":\"none\"}", "{}" },  /* twice */
		{ "{\"alg\":\"RS256\"}", "{\"sub\":\"a\",\"sub\":\"b\"}" },
		{ "{\"alg\":\"RS\\u0000256\"}", "{}" },
		{ "{\"alg\":\"\xff\"}", "{}" },			/* not UTF-8 */
	};
	static const struct {
		const char	*tok;
		enum tsr_err	 rc;
	} raw[] = {
		{ "", TSR_ERR_MALFORMED },
		{ ".", TSR_ERR_MALFORMED },
		{ "..", TSR_ERR_MALFORMED },
		{ "eyJhbGciOiJSUzI1NiJ9.e30", TSR_ERR_MALFORMED },  /* 2 */
		{ "eyJhbGciOiJSUzI1NiJ9.e30.AAAA.AAAA", TSR_ERR_MALFORMED },
		{ "eyJhbGciOiJSUzI1NiJ9.e30.AAAA.", TSR_ERR_MALFORMED },
		{ "eyJhbGciOiJSUzI1NiJ9.e30.AA+A", TSR_ERR_MALFORMED },
		{ "eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", TSR_ERR_MALFORMED },
		{ "eyJhbGciOiJSUzI1NiJ9 .e30.AAAA", TSR_ERR_MALFORMED },
		{ "eyJhbGciOiJSUzI1NiJ9.e30.A", TSR_ERR_MALFORMED },
		{ "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", TSR_OK },
		{ "eyJhbGciOiJSUzI1NiJ9.e30.", TSR_OK },	/* verify says no */
	};
	struct tsr_jws *jws;
	struct tsr_why why;
	uint8_t sig[4] = { 0 };
	char *tok;
	size_t i;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		tok = make_token(objs[i].header, objs[i].payload, sig, 4);
		jws = (struct tsr_jws *)1;
		tsr_err_clear(&why);
		CHECK_INT(tsr_jose_decode(tok, strlen(tok), &jws, &why),
		    TSR_ERR_MALFORMED);
		CHECK(jws == NULL);
		CHECK(why.msg[0] != '\0');
		free(tok);
	}
	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		CHECK_INT(tsr_jose_decode(raw[i].tok, strlen(raw[i].tok), &jws,
		    NULL), raw[i].rc);
		tsr_jose_free(jws);
	}
	/* A NUL inside is not a shorter token. */
	CHECK_INT(tsr_jose_decode("eyJhbGciOiJSUzI1NiJ9.e30.AA\0A", 29, &jws,
	    NULL), TSR_ERR_MALFORMED);
	tsr_jose_free(NULL);
}

/* TSR_JOSE_MAX_TOKEN: the largest token verifies, one more is refused
 * unread. */
static void
test_max_len(const struct tsr_key *key)
{
	/* 20 + 1 + BASE64URL(5871 bytes) = 7828 + 1 + 342 = 8192 */
	static char payload[5871 + 1], big[TSR_JOSE_MAX_TOKEN + 2];
	char *tok = NULL;
	size_t len = 0;
	struct tsr_why why;
	struct tsr_jws *jws = NULL;

	memset(payload, 'a', sizeof(payload) - 1);
	memcpy(payload, "{\"x\":\"", 6);
	memcpy(payload + sizeof(payload) - 3, "\"}", 2);
	CHECK_INT(tsr_jose_sign_raw(key, (const uint8_t *)a2_header,
	    strlen(a2_header), (const uint8_t *)payload, strlen(payload), &tok,
	    &len), TSR_OK);
	CHECK_INT(len, TSR_JOSE_MAX_TOKEN);
	if (tok == NULL)
		abort();
	CHECK_INT(decode_verify(tok, len, key), TSR_OK);
	memcpy(big, tok, len);
	big[len] = 'A';
	tsr_err_clear(&why);
	CHECK_INT(tsr_jose_decode(big, len + 1, &jws, &why), TSR_ERR_TOO_LONG);
	CHECK(why.msg[0] != '\0');
	CHECK(jws == NULL);
	memset(big, 'A', sizeof(big));
	CHECK_INT(tsr_jose_decode(big, sizeof(big), &jws, NULL),
	    TSR_ERR_TOO_LONG);
	free(tok);
	tok = (char *)1;
	/* One payload byte more would make an 8194-byte token. */
	payload[sizeof(payload) - 2] = ' ';
	CHECK_INT(tsr_jose_sign_raw(key, (const uint8_t *)a2_header,
	    strlen(a2_header), (const uint8_t *)payload, strlen(payload) + 1,
	    &tok, &len), TSR_ERR_TOO_LONG);
	CHECK(tok == NULL);
}

static json_t *
sample_claims(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s,"
	    " s:{s:s}}",
	    "iss", "https://tessera.test", "sub", "order-service",
	    "client_id", "order-service", "aud", "inventory-service",
	    "iat", (json_int_t)1700000000, "nbf", (json_int_t)1700000000,
	    "exp", (json_int_t)1700000300, "jti", "3q2-7wAAAAAAAAAAAAAAAA",
	    "scope", "stock:deduct stock:read",
	    "cnf", "x5t#S256", "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2");
}

static void
test_sign(const struct tsr_key *key, const struct tsr_key *pub)
{
	struct tsr_jws *jws = NULL;
	char *tok = NULL, want[256];
	uint8_t *hdr = NULL;
	size_t len = 0, hdr_len = 0;
	json_t *claims = sample_claims(), *arr = json_array();

	CHECK_INT(tsr_jose_sign(key, "at+jwt", claims, &tok, &len), TSR_OK);
	if (tok == NULL)
		abort();
	CHECK_INT(len, strlen(tok));
	/* The header bytes exactly: RFC 9068 §2.1 order, compact. */
	CHECK_INT(tsr_b64_decode_alloc(tok, strchr(tok, '.') - tok, &hdr,
	    &hdr_len), TSR_OK);
	snprintf(want, sizeof(want),
	    "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
	    tsr_key_kid(key));
	CHECK_STR((char *)hdr, want);
	free(hdr);
	CHECK_INT(tsr_jose_decode(tok, len, &jws, NULL), TSR_OK);
	if (jws == NULL)
		abort();
	CHECK_STR(tsr_jose_typ(jws), "at+jwt");
	CHECK_STR(tsr_jose_kid(jws), tsr_key_kid(key));
	CHECK(json_equal((json_t *)tsr_jose_claims(jws), claims));
	CHECK_INT(json_object_size(tsr_jose_header(jws)), 3);
	CHECK_INT(tsr_jose_verify(jws, pub, NULL), TSR_OK);
	tsr_jose_free(jws);
	free(tok);

	tok = (char *)1;
	CHECK_INT(tsr_jose_sign(pub, "at+jwt", claims, &tok, &len),
	    TSR_ERR_STATE);
	CHECK(tok == NULL);
	CHECK_INT(tsr_jose_sign(key, "at+jwt", arr, &tok, &len),
	    TSR_ERR_INVALID);
	json_decref(arr);
	json_decref(claims);
}

/*
 * Cross-check with an independent implementation: Debian's
 * python3-jwcrypto verifies a token of ours, and signs one we verify.
 */
static const char jwcrypto_script[] =
    "import json, sys\n"
    "from jwcrypto import jwk, jws\n"
    "mode, d = sys.argv[1], sys.argv[2]\n"
    "def rd(n):\n"
    "    with open(d + '/' + n) as f: return f.read()\n"
    "def wr(n, s):\n"
    "    with open(d + '/' + n, 'w') as f: f.write(s)\n"
    "if mode == 'verify':\n"
    "    pub = json.loads(rd('jwk.json'))\n"
    "    key = jwk.JWK(**pub)\n"
    "    assert key.thumbprint() == pub['kid'], 'RFC 7638 kid differs'\n"
    "    t = jws.JWS()\n"
    "    t.deserialize(rd('token'))\n"
    "    t.verify(key, alg='RS256')\n"
    "    h = t.jose_header\n"
    "    assert h == {'alg': 'RS256', 'typ': 'at+jwt',\n"
    "                 'kid': pub['kid']}, h\n"
    "    assert json.loads(t.payload) == json.loads(rd('claims.json'))\n"
    "    bad = rd('token')[:-4] + ('AAAA' if rd('token')[-4:] != 'AAAA'\n"
    "                              else 'BBBB')\n"
    "    t = jws.JWS()\n"
    "    t.deserialize(bad)\n"
    "    try:\n"
    "        t.verify(key, alg='RS256')\n"
    "        sys.exit('tampered token verified')\n"
    "    except jws.InvalidJWSSignature:\n"
    "        pass\n"
    "else:\n"
    "    key = jwk.JWK.generate(kty='RSA', size=2048)\n"
    "    kid = key.thumbprint()\n"
    "    t = jws.JWS(json.dumps({'sub': 'py', 'n': 1}).encode())\n"
    "    t.add_signature(key, None, json.dumps({'alg': 'RS256',\n"
    "                    'typ': 'at+jwt', 'kid': kid}))\n"
    "    wr('token', t.serialize(compact=True))\n"
    "    pub = json.loads(key.export_public())\n"
    "    pub['kid'] = kid\n"
    "    wr('jwk.json', json.dumps(pub))\n";

static int
run_python(const char *mode, const char *dir)
{
	const char *python = getenv("TSR_PYTHON");
	char *argv[6];
	pid_t pid;
	int status;

	if (python == NULL || python[0] == '\0')
		python = "/usr/bin/python3";
	argv[0] = (char *)python;
	argv[1] = (char *)"-c";
	argv[2] = (char *)jwcrypto_script;
	argv[3] = (char *)mode;
	argv[4] = (char *)dir;
	argv[5] = NULL;
	fflush(stdout);
	if (posix_spawn(&pid, python, NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF)
		abort();
}

static char *
get(const char *dir, const char *name)
{
	char path[256], *buf;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL || (buf = calloc(1, 65536)) == NULL)
		abort();
	len = fread(buf, 1, 65535, f);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static int
file_exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, R_OK) == 0;
}

static void
remove_files(const char *dir)
{
	static const char *const names[] = { "token", "jwk.json",
	    "claims.json" };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
}

static void
test_jwcrypto_verifies_ours(const struct tsr_key *key, const char *dir)
{
	json_t *claims = sample_claims(), *jwk = NULL;
	char *tok = NULL, *text;

	CHECK_INT(tsr_jose_sign(key, "at+jwt", claims, &tok, NULL), TSR_OK);
	CHECK_INT(tsr_key_public_jwk(key, &jwk), TSR_OK);
	if (tok == NULL || jwk == NULL)
		abort();
	put(dir, "token", tok);
	text = json_dumps(jwk, 0);
	put(dir, "jwk.json", text);
	free(text);
	text = json_dumps(claims, 0);
	put(dir, "claims.json", text);
	free(text);
	CHECK_INT(run_python("verify", dir), 0);
	remove_files(dir);
	free(tok);
	json_decref(jwk);
	json_decref(claims);
}

static void
test_we_verify_jwcrypto(const struct tsr_key *ours, const char *dir)
{
	struct tsr_key *key = NULL;
	struct tsr_jws *jws = NULL;
	json_t *jwk;
	char *tok, *text;
	struct tsr_why why;

	CHECK_INT(run_python("sign", dir), 0);
	if (!file_exists(dir, "token") || !file_exists(dir, "jwk.json")) {
		remove_files(dir);
		return;		/* already reported: no token to check */
	}
	text = get(dir, "jwk.json");
	tok = get(dir, "token");
	jwk = json_loads(text, 0, NULL);
	/* from_jwk also checks jwcrypto's kid is our RFC 7638 thumbprint. */
	tsr_err_clear(&why);
	CHECK_INT(tsr_key_from_jwk(jwk, &key, &why), TSR_OK);
	CHECK_INT(tsr_jose_decode(tok, strlen(tok), &jws, NULL), TSR_OK);
	if (key == NULL || jws == NULL) {
		printf("# %s\n", why.msg);
		abort();
	}
	CHECK_STR(tsr_jose_kid(jws), tsr_key_kid(key));
	CHECK_STR(tsr_jose_typ(jws), "at+jwt");
	CHECK_INT(tsr_jose_verify(jws, key, NULL), TSR_OK);
	CHECK_STR(json_string_value(json_object_get(tsr_jose_claims(jws),
	    "sub")), "py");
	CHECK_INT(tsr_jose_verify(jws, ours, NULL), TSR_ERR_BAD_SIG);
	tsr_jose_free(jws);
	tsr_key_destroy(key);
	json_decref(jwk);
	free(text);
	free(tok);
	remove_files(dir);
}

int
main(void)
{
	struct tsr_key *a2, *gen = NULL, *pub = NULL;
	char dir[] = "/tmp/tsr_test_jose.XXXXXX";
	json_t *jwk = NULL;

	a2 = a2_key();
	test_rfc7515_a2(a2);
	CHECK_INT(tsr_key_generate(2048, &gen, NULL), TSR_OK);
	CHECK_INT(tsr_key_public_jwk(gen, &jwk), TSR_OK);
	CHECK_INT(tsr_key_from_jwk(jwk, &pub, NULL), TSR_OK);
	json_decref(jwk);
	if (gen == NULL || pub == NULL)
		abort();
	test_tamper(a2, pub);
	test_decode_bad();
	test_max_len(a2);
	test_sign(gen, pub);

	if (mkdtemp(dir) == NULL)
		abort();
	test_jwcrypto_verifies_ours(gen, dir);
	test_we_verify_jwcrypto(gen, dir);
	CHECK_INT(rmdir(dir), 0);

	tsr_key_destroy(pub);
	tsr_key_destroy(gen);
	tsr_key_destroy(a2);
	return check_done();
}
