#include <stdint.h>

#include "check.h"
#include "duration.h"

static const struct {
	const char	*in;
	enum tsr_err	 rc;
	int64_t		 s;
} cases[] = {
	{ "90s", TSR_OK, 90 },
	{ "5m", TSR_OK, 300 },
	{ "24h", TSR_OK, 86400 },
	{ "7d", TSR_OK, 604800 },
	{ "1s", TSR_OK, 1 },
	{ "36600d", TSR_OK, TSR_DURATION_MAX_S },	/* largest valid */
	{ "3162240001s", TSR_ERR_INVALID, 0 },		/* first invalid */
	{ "36601d", TSR_ERR_INVALID, 0 },
	{ "0s", TSR_ERR_INVALID, 0 },
	{ "", TSR_ERR_INVALID, 0 },
	{ "s", TSR_ERR_INVALID, 0 },
	{ "5", TSR_ERR_INVALID, 0 },
	{ "5x", TSR_ERR_INVALID, 0 },
	{ "-5m", TSR_ERR_INVALID, 0 },
	{ "+5m", TSR_ERR_INVALID, 0 },
	{ " 5m", TSR_ERR_INVALID, 0 },
	{ "5 m", TSR_ERR_INVALID, 0 },
	{ "5M", TSR_ERR_INVALID, 0 },
	{ "1h30m", TSR_ERR_INVALID, 0 },
	{ "99999999999999999999d", TSR_ERR_INVALID, 0 },	/* overflow */
	{ "9223372036854775807s", TSR_ERR_INVALID, 0 },
	{ "1000000000000000000000000s", TSR_ERR_TOO_LONG, 0 },
};

int
main(void)
{
	struct tsr_why why;
	char buf[TSR_DURATION_BUF];
	int64_t s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tsr_err_clear(&why);
		CHECK_INT(tsr_duration_parse(cases[i].in, &s, &why),
		    cases[i].rc);
		CHECK_INT(s, cases[i].s);
		if (cases[i].rc != TSR_OK)
			CHECK(why.msg[0] != '\0');
	}

	tsr_duration_format(300, buf);
	CHECK_STR(buf, "5m");
	tsr_duration_format(90, buf);
	CHECK_STR(buf, "90s");
	tsr_duration_format(86400, buf);
	CHECK_STR(buf, "1d");
	tsr_duration_format(7200, buf);
	CHECK_STR(buf, "2h");
	tsr_duration_format(0, buf);
	CHECK_STR(buf, "0s");
	return check_done();
}
