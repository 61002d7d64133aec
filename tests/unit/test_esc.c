#include <string.h>

#include "check.h"
#include "esc.h"

static const struct {
	const char	*in;
	const char	*out;
} cases[] = {
	{ "", "" },
	{ "inventory", "inventory" },
	{ "a b~!", "a b~!" },
	{ "x\nFORGED line", "x\\x0aFORGED line" },
	{ "\r\t", "\\x0d\\x09" },
	{ "\x1b[31mred", "\\x1b[31mred" },
	{ "del\x7f", "del\\x7f" },
	{ "back\\slash", "back\\\\slash" },
	{ "\\x41", "\\\\x41" },			/* not mistaken for an escape */
	{ "caf\xc3\xa9", "caf\\xc3\\xa9" },
	{ "\xc2\x9b" "2J", "\\xc2\\x9b2J" },	/* C1 CSI in UTF-8 */
	{ "\xff", "\\xff" },
};

static void
test_cases(void)
{
	char buf[TSR_ESC_BUF(32)];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(tsr_esc(cases[i].in, buf, sizeof(buf)),
		    cases[i].out);
	CHECK_STR(tsr_esc(NULL, buf, sizeof(buf)), "");
}

/* Truncation never splits an escape and always terminates. */
static void
test_truncation(void)
{
	char buf[8];

	memset(buf, 'z', sizeof(buf));
	CHECK_STR(tsr_esc("abcdefghij", buf, sizeof(buf)), "abcdefg");
	CHECK_STR(tsr_esc("abcde\n", buf, sizeof(buf)), "abcde");
	CHECK_STR(tsr_esc("abc\ndef", buf, sizeof(buf)), "abc\\x0a");
	CHECK_STR(tsr_esc("abcdef\\", buf, sizeof(buf)), "abcdef");
	CHECK_STR(tsr_esc("abcd\\", buf, sizeof(buf)), "abcd\\\\");
	CHECK_STR(tsr_esc("\n", buf, 4), "");
	CHECK_STR(tsr_esc("\n", buf, 5), "\\x0a");
	CHECK_STR(tsr_esc("a", buf, 1), "");
}

/* Every byte value: the output is printable ASCII only, and as long as
 * TSR_ESC_BUF promises at most. */
static void
test_all_bytes(void)
{
	char in[256], out[TSR_ESC_BUF(255)];
	const char *p;
	int i, ok = 1;

	for (i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	tsr_esc(in, out, sizeof(out));
	for (p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			ok = 0;
	CHECK(ok);
	CHECK_INT(strlen(out), 95 + 1 + 4 * 160);
}

int
main(void)
{
	test_cases();
	test_truncation();
	test_all_bytes();
	return check_done();
}
