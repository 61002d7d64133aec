/*
 * jose: compact JWS with RS256 (RFC 7515, RFC 7518 §3.3).
 *
 * Signing builds the protected header {"alg":"RS256","typ":..,"kid":..}
 * itself.  Decoding splits and decodes a compact JWS without trusting it;
 * verification accepts only alg RS256 (never "none", never HMAC) and a key
 * the caller chose by kid.  Nothing here fetches jku or x5u.
 */
#ifndef TSR_JOSE_H
#define TSR_JOSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "key.h"

/* Longest compact JWS we decode; longer input is refused unread. */
#define TSR_JOSE_MAX_TOKEN	8192

struct tsr_jws;

/*
 * Sign claims (a JSON object, serialized compactly in key insertion order)
 * under the header {"alg":"RS256","typ":typ,"kid":<key's kid>}.
 * *out is a malloc'd NUL-terminated compact JWS; free().  *out_len may be
 * NULL.
 */
TSR_MUST_CHECK enum tsr_err tsr_jose_sign(const struct tsr_key *key,
    const char *typ, const json_t *claims, char **out, size_t *out_len);

/*
 * Sign exact header and payload bytes (for known-answer tests):
 * BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(RS256 signature).
 */
TSR_MUST_CHECK enum tsr_err tsr_jose_sign_raw(const struct tsr_key *key,
    const uint8_t *header, size_t header_len, const uint8_t *payload,
    size_t payload_len, char **out, size_t *out_len);

/*
 * Split token[0..len) into three parts, decode the header and payload as
 * JSON objects and the signature as bytes.  Nothing is verified yet.
 * TSR_ERR_TOO_LONG over TSR_JOSE_MAX_TOKEN, TSR_ERR_MALFORMED otherwise.
 * Free with tsr_jose_free.
 */
TSR_MUST_CHECK enum tsr_err tsr_jose_decode(const char *token, size_t len,
    struct tsr_jws **out, struct tsr_why *why);

void tsr_jose_free(struct tsr_jws *jws);

/* Borrowed views, valid as long as jws. */
const json_t *tsr_jose_header(const struct tsr_jws *jws);
const json_t *tsr_jose_claims(const struct tsr_jws *jws);
/* Header string members, NULL when absent or not a string. */
const char *tsr_jose_alg(const struct tsr_jws *jws);
const char *tsr_jose_typ(const struct tsr_jws *jws);
const char *tsr_jose_kid(const struct tsr_jws *jws);

/*
 * Verify jws with key: alg must be exactly "RS256" and the header must
 * carry no "crit" (TSR_ERR_MALFORMED), the signature must match
 * (TSR_ERR_BAD_SIG).  The caller picks key by tsr_jose_kid.
 */
TSR_MUST_CHECK enum tsr_err tsr_jose_verify(const struct tsr_jws *jws,
    const struct tsr_key *key, struct tsr_why *why);

#endif
