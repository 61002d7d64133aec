#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "check.h"

/* RFC 4648 §10 test vectors; base64url without the padding. */
static const struct {
	const char	*in;
	const char	*out;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg" },
	{ "fo", "Zm8" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" },
	{ "fooba", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy" },
};

/* Bytes whose encoding needs the two URL-safe characters (RFC 4648 §5). */
static const struct {
	uint8_t		 in[3];
	size_t		 len;
	const char	*out;
} urlsafe[] = {
	{ { 0xfb, 0xef, 0xbe }, 3, "----" },
	{ { 0xff, 0xff, 0xff }, 3, "____" },
	{ { 0xfb, 0xff }, 2, "-_8" },
	{ { 0xff }, 1, "_w" },
	{ { 0x00 }, 1, "AA" },
	{ { 0x3e }, 1, "Pg" },
};

static const struct {
	const char	*in;
	size_t		 len;
	enum tsr_err	 rc;
} bad[] = {
	{ "Zg==", 4, TSR_ERR_MALFORMED },	/* padding */
	{ "Zg=", 3, TSR_ERR_MALFORMED },
	{ "Zm9vYg==", 8, TSR_ERR_MALFORMED },
	{ "+/8", 3, TSR_ERR_MALFORMED },	/* standard alphabet */
	{ "Zm9+", 4, TSR_ERR_MALFORMED },
	{ "Zm9/", 4, TSR_ERR_MALFORMED },
	{ "Zm 9v", 5, TSR_ERR_MALFORMED },	/* whitespace */
	{ "Zm9v\n", 5, TSR_ERR_MALFORMED },
	{ " Zm9v", 5, TSR_ERR_MALFORMED },
	{ "Zm9v\t", 5, TSR_ERR_MALFORMED },
	{ "Zm\r\n", 4, TSR_ERR_MALFORMED },
	{ "Z", 1, TSR_ERR_MALFORMED },		/* length 1 mod 4 */
	{ "Zm9vY", 5, TSR_ERR_MALFORMED },
	{ "Zm9vYmFyZ", 9, TSR_ERR_MALFORMED },
	{ "Zh", 2, TSR_ERR_MALFORMED },		/* non-zero trailing bits */
	{ "Zm9", 3, TSR_ERR_MALFORMED },
	{ "Zm9vYh", 6, TSR_ERR_MALFORMED },
	{ "Zm9vYmF", 7, TSR_ERR_MALFORMED },
	{ "_x", 2, TSR_ERR_MALFORMED },
	{ "Zm\0v", 4, TSR_ERR_MALFORMED },	/* NUL inside */
	{ "Zm9\xff", 4, TSR_ERR_MALFORMED },	/* not ASCII */
	{ "Zm.v", 4, TSR_ERR_MALFORMED },
	{ "Zm8", 3, TSR_OK },			/* the canonical neighbours */
	{ "Zg", 2, TSR_OK },
	{ "_w", 2, TSR_OK },
	{ "", 0, TSR_OK },
};

static void
test_known_answers(void)
{
	char enc[64], *s;
	uint8_t dec[64], *d;
	size_t i, len, in_len;

	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		in_len = strlen(rfc4648[i].in);
		CHECK_INT(tsr_b64_encode((const uint8_t *)rfc4648[i].in,
		    in_len, enc, sizeof(enc), &len), TSR_OK);
		CHECK_STR(enc, rfc4648[i].out);
		CHECK_INT(len, strlen(rfc4648[i].out));
		CHECK_INT(TSR_B64_ENCODED_LEN(in_len), len);
		CHECK_INT(tsr_b64_decode(rfc4648[i].out, len, dec, sizeof(dec),
		    &len), TSR_OK);
		CHECK_INT(len, in_len);
		CHECK_MEM(dec, rfc4648[i].in, in_len);
		CHECK_INT(tsr_b64_encode_alloc((const uint8_t *)rfc4648[i].in,
		    in_len, &s, &len), TSR_OK);
		CHECK_STR(s, rfc4648[i].out);
		free(s);
		CHECK_INT(tsr_b64_decode_alloc(rfc4648[i].out,
		    strlen(rfc4648[i].out), &d, &len), TSR_OK);
		CHECK_STR((char *)d, rfc4648[i].in);	/* NUL-terminated */
		free(d);
	}
	for (i = 0; i < sizeof(urlsafe) / sizeof(urlsafe[0]); i++) {
		CHECK_INT(tsr_b64_encode(urlsafe[i].in, urlsafe[i].len, enc,
		    sizeof(enc), &len), TSR_OK);
		CHECK_STR(enc, urlsafe[i].out);
		CHECK_INT(tsr_b64_decode(enc, len, dec, sizeof(dec), &len),
		    TSR_OK);
		CHECK_INT(len, urlsafe[i].len);
		CHECK_MEM(dec, urlsafe[i].in, urlsafe[i].len);
	}
}

static void
test_bad_input(void)
{
	uint8_t dec[64], *d;
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = 99;
		CHECK_INT(tsr_b64_decode(bad[i].in, bad[i].len, dec,
		    sizeof(dec), &len), bad[i].rc);
		if (bad[i].rc != TSR_OK)
			CHECK_INT(len, 0);
		d = (uint8_t *)"x";
		CHECK_INT(tsr_b64_decode_alloc(bad[i].in, bad[i].len, &d,
		    &len), bad[i].rc);
		if (bad[i].rc != TSR_OK)
			CHECK(d == NULL);
		free(d);
	}
}

/* Both sides of every buffer boundary. */
static void
test_sizes(void)
{
	char enc[16];
	uint8_t dec[16];
	size_t len;

	/* "foobar" needs 8 characters and a NUL. */
	CHECK_INT(tsr_b64_encode((const uint8_t *)"foobar", 6, enc, 9, &len),
	    TSR_OK);
	CHECK_STR(enc, "Zm9vYmFy");
	CHECK_INT(tsr_b64_encode((const uint8_t *)"foobar", 6, enc, 8, &len),
	    TSR_ERR_TOO_LONG);
	CHECK_STR(enc, "");
	CHECK_INT(len, 0);
	CHECK_INT(tsr_b64_encode((const uint8_t *)"", 0, enc, 1, &len), TSR_OK);
	CHECK_INT(tsr_b64_encode((const uint8_t *)"", 0, enc, 0, &len),
	    TSR_ERR_TOO_LONG);
	/* "Zm9vYmE" decodes to 5 bytes. */
	CHECK_INT(tsr_b64_decode("Zm9vYmE", 7, dec, 5, &len), TSR_OK);
	CHECK_INT(len, 5);
	CHECK_INT(tsr_b64_decode("Zm9vYmE", 7, dec, 4, &len),
	    TSR_ERR_TOO_LONG);
	CHECK_INT(len, 0);
	CHECK(TSR_B64_DECODED_MAX(7) >= 5);
	CHECK_INT(TSR_B64_ENCODED_LEN(32), 43);	/* a kid */
	CHECK_INT(TSR_B64_ENCODED_LEN(256), 342);	/* an RSA-2048 signature */
}

/* Every length 0..65 and every byte value round-trips. */
static void
test_round_trip(void)
{
	uint8_t in[66], dec[66];
	char enc[TSR_B64_ENCODED_LEN(66) + 1];
	size_t i, n, len, elen;
	int ok = 1;

	for (n = 0; n <= sizeof(in); n++) {
		for (i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 97 + n * 31 + 0xc5);
		if (tsr_b64_encode(in, n, enc, sizeof(enc), &elen) != TSR_OK ||
		    elen != TSR_B64_ENCODED_LEN(n) ||
		    strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_") != elen ||
		    tsr_b64_decode(enc, elen, dec, sizeof(dec), &len) != TSR_OK ||
		    len != n || memcmp(in, dec, n) != 0 ||
		    len > TSR_B64_DECODED_MAX(elen))
			ok = 0;
	}
	CHECK(ok);
}

int
main(void)
{
	test_known_answers();
	test_bad_input();
	test_sizes();
	test_round_trip();
	return check_done();
}
