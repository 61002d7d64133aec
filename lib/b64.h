/*
 * b64: base64url without padding (RFC 4648 §5, RFC 7515 §2), as JOSE
 * uses it.  Decoding is strict: no padding, no whitespace, no characters
 * outside the URL-safe alphabet, no length of 1 mod 4, and the unused
 * bits of the last character must be zero (one encoding per value).
 */
#ifndef TSR_B64_H
#define TSR_B64_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Characters needed to encode n bytes, without the NUL. */
#define TSR_B64_ENCODED_LEN(n)	(((n) / 3) * 4 + (((n) % 3) * 4 + 2) / 3)
/* Bytes that decoding n characters can yield at most. */
#define TSR_B64_DECODED_MAX(n)	(((n) / 4) * 3 + 2)

/*
 * Encode in[0..in_len) into dst, which has room for dst_size bytes;
 * writes TSR_B64_ENCODED_LEN(in_len) characters and a NUL.
 * TSR_ERR_TOO_LONG if dst is too small (dst then holds "").
 * *out_len (may be NULL) gets the characters written.
 */
TSR_MUST_CHECK enum tsr_err tsr_b64_encode(const uint8_t *in, size_t in_len,
    char *dst, size_t dst_size, size_t *out_len);

/* As tsr_b64_encode, into a malloc'd NUL-terminated string; free(). */
TSR_MUST_CHECK enum tsr_err tsr_b64_encode_alloc(const uint8_t *in,
    size_t in_len, char **out, size_t *out_len);

/*
 * Decode in[0..in_len) (not NUL-terminated) into dst of dst_size bytes.
 * TSR_ERR_MALFORMED for anything but canonical unpadded base64url,
 * TSR_ERR_TOO_LONG if dst is too small.
 */
TSR_MUST_CHECK enum tsr_err tsr_b64_decode(const char *in, size_t in_len,
    uint8_t *dst, size_t dst_size, size_t *out_len);

/* As tsr_b64_decode into a malloc'd buffer (one spare NUL byte at the
 * end, so decoded JSON can be handed to a parser); free(). */
TSR_MUST_CHECK enum tsr_err tsr_b64_decode_alloc(const char *in,
    size_t in_len, uint8_t **out, size_t *out_len);

#endif
