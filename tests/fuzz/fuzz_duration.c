/*
 * fuzz_duration: tsr_duration_parse against a reference model, and the
 * round trip through tsr_duration_format.
 *
 * The input is made a C string (the parser's contract; it stops at the
 * first NUL).  Properties: TSR_OK exactly when the text is 1 to
 * TSR_DURATION_MAX_TEXT bytes of digits and one unit s/m/h/d with a value
 * in 1..TSR_DURATION_MAX_S, and then the seconds match the model's;
 * otherwise TSR_ERR_INVALID or TSR_ERR_TOO_LONG, *out_s 0 and a why line.
 * On TSR_OK, format and parse again give the same seconds.
 */
#include <string.h>

#include "duration.h"
#include "fuzz.h"

/* The rule as the header states it, saturating instead of overflowing. */
static int64_t
model(const char *text, enum tsr_err *rc)
{
	size_t len = strlen(text), i;
	int64_t n = 0, unit;

	*rc = TSR_ERR_INVALID;
	if (len > TSR_DURATION_MAX_TEXT) {
		*rc = TSR_ERR_TOO_LONG;
		return 0;
	}
	if (len < 2)
		return 0;
	switch (text[len - 1]) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return 0;
	}
	for (i = 0; i + 1 < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return 0;
		if (n <= TSR_DURATION_MAX_S)	/* past it stays past it */
			n = n * 10 + (text[i] - '0');
	}
	if (n < 1 || n > TSR_DURATION_MAX_S / unit)
		return 0;
	*rc = TSR_OK;
	return n * unit;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_why why;
	char *text, buf[TSR_DURATION_BUF];
	int64_t s = -1, again = -1, want;
	enum tsr_err rc, want_rc;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	tsr_err_clear(&why);
	rc = tsr_duration_parse(text, &s, &why);
	want = model(text, &want_rc);
	FUZZ_ASSERT(rc == want_rc);
	if (rc != TSR_OK) {
		FUZZ_ASSERT(s == 0);
		FUZZ_ASSERT(why.msg[0] != '\0');
		FUZZ_ASSERT(memchr(why.msg, '\0', sizeof(why.msg)) != NULL);
		goto out;
	}
	FUZZ_ASSERT(s == want);
	FUZZ_ASSERT(s >= 1 && s <= TSR_DURATION_MAX_S);
	memset(buf, 0x5a, sizeof(buf));
	tsr_duration_format(s, buf);
	FUZZ_ASSERT(memchr(buf, '\0', sizeof(buf)) != NULL);
	FUZZ_ASSERT(tsr_duration_parse(buf, &again, NULL) == TSR_OK);
	FUZZ_ASSERT(again == s);
out:
	free(text);
	return 0;
}
