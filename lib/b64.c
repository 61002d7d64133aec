/*
 * b64: base64url without padding (RFC 4648 §5, RFC 7515 §2).
 *
 * Hand-coded rather than nettle's base64url: nettle's decoder skips
 * whitespace and accepts padding, and JOSE wants one encoding per value.
 */
#include "b64.h"

#include <stdint.h>
#include <stdlib.h>

/* RFC 4648 §5, Table 2. */
static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encoding n bytes needs this + 1 for the NUL; SIZE_MAX if too large. */
static size_t
encoded_size(size_t n)
{
	if (n > (SIZE_MAX - 4) / 4 * 3 - 3)
		return SIZE_MAX;
	return TSR_B64_ENCODED_LEN(n) + 1;
}

enum tsr_err
tsr_b64_encode(const uint8_t *in, size_t in_len, char *dst, size_t dst_size,
    size_t *out_len)
{
	size_t i, o = 0;
	uint32_t v;

	if (out_len != NULL)
		*out_len = 0;
	if (dst_size > 0)
		dst[0] = '\0';
	if (encoded_size(in_len) > dst_size)
		return TSR_ERR_TOO_LONG;
	for (i = 0; i + 3 <= in_len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		dst[o++] = b64_alphabet[v >> 18 & 63];
		dst[o++] = b64_alphabet[v >> 12 & 63];
		dst[o++] = b64_alphabet[v >> 6 & 63];
		dst[o++] = b64_alphabet[v & 63];
	}
	if (in_len - i == 1) {
		v = (uint32_t)in[i] << 16;
		dst[o++] = b64_alphabet[v >> 18 & 63];
		dst[o++] = b64_alphabet[v >> 12 & 63];
	} else if (in_len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		dst[o++] = b64_alphabet[v >> 18 & 63];
		dst[o++] = b64_alphabet[v >> 12 & 63];
		dst[o++] = b64_alphabet[v >> 6 & 63];
	}
	dst[o] = '\0';
	if (out_len != NULL)
		*out_len = o;
	return TSR_OK;
}

enum tsr_err
tsr_b64_encode_alloc(const uint8_t *in, size_t in_len, char **out,
    size_t *out_len)
{
	size_t size;
	char *buf;
	enum tsr_err rc;

	*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if ((size = encoded_size(in_len)) == SIZE_MAX)
		return TSR_ERR_TOO_LONG;
	if ((buf = malloc(size)) == NULL)
		return TSR_ERR_NOMEM;
	if ((rc = tsr_b64_encode(in, in_len, buf, size, out_len)) != TSR_OK) {
		free(buf);
		return rc;
	}
	*out = buf;
	return TSR_OK;
}

/* The 6-bit value of c, or -1 outside the URL-safe alphabet. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Bytes that in_len characters decode to; SIZE_MAX if 1 mod 4, which no
 * byte string encodes to (RFC 4648 §4: a final group has 2-4 chars). */
static size_t
decoded_len(size_t in_len)
{
	switch (in_len % 4) {
	case 1:
		return SIZE_MAX;
	case 2:
		return in_len / 4 * 3 + 1;
	case 3:
		return in_len / 4 * 3 + 2;
	default:
		return in_len / 4 * 3;
	}
}

enum tsr_err
tsr_b64_decode(const char *in, size_t in_len, uint8_t *dst, size_t dst_size,
    size_t *out_len)
{
	size_t i, o = 0, need;
	uint32_t acc = 0;
	int v, bits = 0;

	if (out_len != NULL)
		*out_len = 0;
	if ((need = decoded_len(in_len)) == SIZE_MAX)
		return TSR_ERR_MALFORMED;
	if (need > dst_size)
		return TSR_ERR_TOO_LONG;
	for (i = 0; i < in_len; i++) {
		/* No padding, whitespace or '+' '/': all land here. */
		if ((v = b64_value((unsigned char)in[i])) < 0)
			return TSR_ERR_MALFORMED;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			dst[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* RFC 4648 §3.5: the pad bits must be zero, else two strings would
	 * decode to the same bytes. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return TSR_ERR_MALFORMED;
	if (out_len != NULL)
		*out_len = o;
	return TSR_OK;
}

enum tsr_err
tsr_b64_decode_alloc(const char *in, size_t in_len, uint8_t **out,
    size_t *out_len)
{
	size_t need, len;
	uint8_t *buf;
	enum tsr_err rc;

	*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if ((need = decoded_len(in_len)) == SIZE_MAX)
		return TSR_ERR_MALFORMED;
	/* need < in_len unless in_len is 0, so need + 1 cannot wrap. */
	if ((buf = malloc(need + 1)) == NULL)
		return TSR_ERR_NOMEM;
	if ((rc = tsr_b64_decode(in, in_len, buf, need, &len)) != TSR_OK) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	if (out_len != NULL)
		*out_len = len;
	return TSR_OK;
}
