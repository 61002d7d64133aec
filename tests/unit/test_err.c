#include <string.h>

#include "check.h"
#include "err.h"

int
main(void)
{
	struct tsr_why why = { "" };

	CHECK_INT(TSR_OK, 0);
	CHECK_STR(tsr_err_str(TSR_ERR_NOT_FOUND), "not found");
	CHECK_STR(tsr_err_name(TSR_ERR_EXISTS), "TSR_ERR_EXISTS");
	CHECK_STR(tsr_err_str((enum tsr_err)9999), "unknown error");
	CHECK_STR(tsr_err_text(NULL, TSR_ERR_IO), "input/output error");

	CHECK_INT(tsr_err_why(&why, TSR_ERR_INVALID, "bad %s", "name"),
	    TSR_ERR_INVALID);
	CHECK_STR(why.msg, "bad name");
	/* The first, more precise line is kept. */
	(void)tsr_err_why(&why, TSR_ERR_DB, "later");
	CHECK_STR(why.msg, "bad name");
	CHECK_STR(tsr_err_text(&why, TSR_ERR_DB), "bad name");
	tsr_err_clear(&why);
	CHECK_STR(why.msg, "");
	/* NULL why is allowed everywhere. */
	CHECK_INT(tsr_err_why(NULL, TSR_ERR_IO, "x"), TSR_ERR_IO);
	return check_done();
}
