#include "duration.h"

#include <stdio.h>
#include <string.h>

static int64_t
unit_seconds(char unit)
{
	switch (unit) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	default:
		return 0;
	}
}

enum tsr_err
tsr_duration_parse(const char *text, int64_t *out_s, struct tsr_why *why)
{
	size_t len, i;
	int64_t n = 0, unit, total;

	*out_s = 0;
	len = strnlen(text, TSR_DURATION_MAX_TEXT + 1);
	if (len > TSR_DURATION_MAX_TEXT)
		return tsr_err_why(why, TSR_ERR_TOO_LONG, "duration too long");
	if (len < 2 || (unit = unit_seconds(text[len - 1])) == 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "bad duration \"%s\": want a number and s, m, h or d",
		    text);
	for (i = 0; i < len - 1; i++) {
		if (text[i] < '0' || text[i] > '9')
			return tsr_err_why(why, TSR_ERR_INVALID,
			    "bad duration \"%s\": want a number and s, m, h "
			    "or d", text);
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, text[i] - '0', &n))
			goto range;
	}
	if (__builtin_mul_overflow(n, unit, &total) ||
	    total > TSR_DURATION_MAX_S)
		goto range;
	if (total == 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "bad duration \"%s\": must be positive", text);
	*out_s = total;
	return TSR_OK;
range:
	return tsr_err_why(why, TSR_ERR_INVALID,
	    "duration \"%s\" out of range (at most 36600d)", text);
}

void
tsr_duration_format(int64_t s, char buf[TSR_DURATION_BUF])
{
	static const struct {
		int64_t s;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	size_t i;

	for (i = 0; s > 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (s % units[i].s == 0) {
			(void)snprintf(buf, TSR_DURATION_BUF, "%lld%c",
			    (long long)(s / units[i].s), units[i].unit);
			return;
		}
	}
	(void)snprintf(buf, TSR_DURATION_BUF, "%llds", (long long)s);
}
