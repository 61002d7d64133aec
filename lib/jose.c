/*
 * jose: compact JWS with RS256 (RFC 7515 §7.1, RFC 7518 §3.3).
 */
#include "jose.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"

struct tsr_jws {
	json_t		*header;
	json_t		*claims;
	uint8_t		*sig;
	size_t		 sig_len;
	/* RFC 7515 §5.2 step 8: the signature covers the encoded header
	 * and payload exactly as received. */
	char		*signing_input;
	size_t		 signing_input_len;
};

/*
 * Signing.
 */

enum tsr_err
tsr_jose_sign_raw(const struct tsr_key *key, const uint8_t *header,
    size_t header_len, const uint8_t *payload, size_t payload_len, char **out,
    size_t *out_len)
{
	uint8_t sig[TSR_KEY_MAX_SIG];
	size_t h_len, p_len, s_len = 0, total;
	char *buf;
	enum tsr_err rc;

	*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	/* We make nothing we would refuse to decode; this bound also keeps
	 * the sums below from overflowing. */
	if (header_len > TSR_JOSE_MAX_TOKEN || payload_len > TSR_JOSE_MAX_TOKEN)
		return TSR_ERR_TOO_LONG;
	h_len = TSR_B64_ENCODED_LEN(header_len);
	p_len = TSR_B64_ENCODED_LEN(payload_len);
	total = h_len + 1 + p_len + 1 + TSR_B64_ENCODED_LEN(TSR_KEY_MAX_SIG);
	if ((buf = malloc(total + 1)) == NULL)
		return TSR_ERR_NOMEM;
	/* RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload) ... */
	if ((rc = tsr_b64_encode(header, header_len, buf, h_len + 1,
	    NULL)) != TSR_OK ||
	    (rc = tsr_b64_encode(payload, payload_len, buf + h_len + 1,
	    p_len + 1, NULL)) != TSR_OK)
		goto out;
	buf[h_len] = '.';
	/* ... and the signature over those ASCII bytes. */
	if ((rc = tsr_key_sign(key, (const uint8_t *)buf, h_len + 1 + p_len,
	    sig, &s_len)) != TSR_OK)
		goto out;
	buf[h_len + 1 + p_len] = '.';
	total = h_len + 1 + p_len + 1;
	if ((rc = tsr_b64_encode(sig, s_len, buf + total,
	    TSR_B64_ENCODED_LEN(TSR_KEY_MAX_SIG) + 1, &s_len)) != TSR_OK)
		goto out;
	total += s_len;
	if (total > TSR_JOSE_MAX_TOKEN) {
		rc = TSR_ERR_TOO_LONG;
		goto out;
	}
	*out = buf;
	buf = NULL;
	if (out_len != NULL)
		*out_len = total;
out:
	free(buf);
	return rc;
}

enum tsr_err
tsr_jose_sign(const struct tsr_key *key, const char *typ,
    const json_t *claims, char **out, size_t *out_len)
{
	json_t *header = NULL;
	char *h = NULL, *p = NULL;
	enum tsr_err rc = TSR_ERR_NOMEM;

	*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (!json_is_object(claims))
		return TSR_ERR_INVALID;
	/* RFC 9068 §2.1: alg, typ, kid; jansson keeps insertion order. */
	header = typ != NULL ?
	    json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", typ, "kid",
	    tsr_key_kid(key)) :
	    json_pack("{s:s, s:s}", "alg", "RS256", "kid", tsr_key_kid(key));
	if (header == NULL ||
	    (h = json_dumps(header, JSON_COMPACT)) == NULL ||
	    (p = json_dumps(claims, JSON_COMPACT)) == NULL)
		goto out;
	rc = tsr_jose_sign_raw(key, (const uint8_t *)h, strlen(h),
	    (const uint8_t *)p, strlen(p), out, out_len);
out:
	free(h);
	free(p);
	json_decref(header);
	return rc;
}

/*
 * Decoding and verification.
 */

void
tsr_jose_free(struct tsr_jws *jws)
{
	if (jws == NULL)
		return;
	json_decref(jws->header);
	json_decref(jws->claims);
	free(jws->sig);
	free(jws->signing_input);
	free(jws);
}

/* Decode one base64url part holding a JSON object. */
static enum tsr_err
decode_object(const char *part, size_t len, const char *what, json_t **out,
    struct tsr_why *why)
{
	uint8_t *buf = NULL;
	size_t buf_len;
	json_error_t jerr;

	*out = NULL;
	if (tsr_b64_decode_alloc(part, len, &buf, &buf_len) != TSR_OK)
		return tsr_err_why(why, TSR_ERR_MALFORMED,
		    "token %s is not base64url", what);
	/* Duplicate names are refused (RFC 7515 §5.2 step 4 allows it):
	 * two parsers must never read two different "alg"s. */
	*out = json_loadb((const char *)buf, buf_len, JSON_REJECT_DUPLICATES,
	    &jerr);
	free(buf);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return tsr_err_why(why, TSR_ERR_MALFORMED,
		    "token %s is not a JSON object", what);
	}
	return TSR_OK;
}

/* Split token into exactly three parts at the two dots. */
static enum tsr_err
split(const char *token, size_t len, size_t *dot1, size_t *dot2,
    struct tsr_why *why)
{
	const char *p1, *p2;

	p1 = memchr(token, '.', len);
	p2 = p1 == NULL ? NULL :
	    memchr(p1 + 1, '.', len - (size_t)(p1 + 1 - token));
	if (p2 == NULL ||
	    memchr(p2 + 1, '.', len - (size_t)(p2 + 1 - token)) != NULL)
		return tsr_err_why(why, TSR_ERR_MALFORMED,
		    "token is not three dot-separated parts");
	*dot1 = (size_t)(p1 - token);
	*dot2 = (size_t)(p2 - token);
	return TSR_OK;
}

enum tsr_err
tsr_jose_decode(const char *token, size_t len, struct tsr_jws **out,
    struct tsr_why *why)
{
	struct tsr_jws *jws = NULL;
	size_t dot1 = 0, dot2 = 0;
	enum tsr_err rc;

	*out = NULL;
	/* cap the length before decoding anything. */
	if (len > TSR_JOSE_MAX_TOKEN)
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "token is over %d bytes", TSR_JOSE_MAX_TOKEN);
	if (token == NULL)
		return tsr_err_why(why, TSR_ERR_MALFORMED, "no token");
	if ((rc = split(token, len, &dot1, &dot2, why)) != TSR_OK)
		return rc;
	if ((jws = calloc(1, sizeof(*jws))) == NULL ||
	    (jws->signing_input = malloc(dot2 + 1)) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	memcpy(jws->signing_input, token, dot2);
	jws->signing_input[dot2] = '\0';
	jws->signing_input_len = dot2;
	if ((rc = decode_object(token, dot1, "header", &jws->header,
	    why)) != TSR_OK ||
	    (rc = decode_object(token + dot1 + 1, dot2 - dot1 - 1, "payload",
	    &jws->claims, why)) != TSR_OK)
		goto out;
	if (tsr_b64_decode_alloc(token + dot2 + 1, len - dot2 - 1, &jws->sig,
	    &jws->sig_len) != TSR_OK) {
		rc = tsr_err_why(why, TSR_ERR_MALFORMED,
		    "token signature is not base64url");
		goto out;
	}
	*out = jws;
	jws = NULL;
out:
	tsr_jose_free(jws);
	return rc;
}

const json_t *
tsr_jose_header(const struct tsr_jws *jws)
{
	return jws->header;
}

const json_t *
tsr_jose_claims(const struct tsr_jws *jws)
{
	return jws->claims;
}

static const char *
header_string(const struct tsr_jws *jws, const char *name)
{
	return json_string_value(json_object_get(jws->header, name));
}

const char *
tsr_jose_alg(const struct tsr_jws *jws)
{
	return header_string(jws, "alg");
}

const char *
tsr_jose_typ(const struct tsr_jws *jws)
{
	return header_string(jws, "typ");
}

const char *
tsr_jose_kid(const struct tsr_jws *jws)
{
	return header_string(jws, "kid");
}

enum tsr_err
tsr_jose_verify(const struct tsr_jws *jws, const struct tsr_key *key,
    struct tsr_why *why)
{
	const char *alg = tsr_jose_alg(jws), *kid = tsr_jose_kid(jws);

	/* RFC 8725 §3.1: the algorithm is ours to choose, never the
	 * token's: exactly RS256, so no "none" and no HMAC keyed with our
	 * public key. */
	if (alg == NULL || strcmp(alg, "RS256") != 0)
		return tsr_err_why(why, TSR_ERR_MALFORMED,
		    "token alg is not RS256");
	/* RFC 7515 §4.1.11: we understand no extension, so any "crit"
	 * makes the token one we must reject. */
	if (json_object_get(jws->header, "crit") != NULL)
		return tsr_err_why(why, TSR_ERR_MALFORMED,
		    "token header has \"crit\"");
	if (json_object_get(jws->header, "kid") != NULL &&
	    (kid == NULL || strcmp(kid, tsr_key_kid(key)) != 0))
		return tsr_err_why(why, TSR_ERR_BAD_SIG,
		    "token kid does not name the key given");
	if (tsr_key_verify(key, (const uint8_t *)jws->signing_input,
	    jws->signing_input_len, jws->sig, jws->sig_len) != TSR_OK)
		return tsr_err_why(why, TSR_ERR_BAD_SIG,
		    "token signature does not verify");
	return TSR_OK;
}
