#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const err_msgs[] = {
#define TSR_ERR_MSG(name, msg) msg,
	TSR_ERR_TABLE(TSR_ERR_MSG)
#undef TSR_ERR_MSG
};

static const char *const err_names[] = {
#define TSR_ERR_NAME(name, msg) #name,
	TSR_ERR_TABLE(TSR_ERR_NAME)
#undef TSR_ERR_NAME
};

const char *
tsr_err_str(enum tsr_err rc)
{
	if ((unsigned)rc >= TSR_ERR__COUNT)
		return "unknown error";
	return err_msgs[rc];
}

const char *
tsr_err_name(enum tsr_err rc)
{
	if ((unsigned)rc >= TSR_ERR__COUNT)
		return "TSR_ERR_UNKNOWN";
	return err_names[rc];
}

enum tsr_err
tsr_err_why(struct tsr_why *why, enum tsr_err rc, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why->msg[0] != '\0')
		return rc;
	va_start(ap, fmt);
	/* Truncation is acceptable here: the line is for people. */
	(void)vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
	return rc;
}

void
tsr_err_clear(struct tsr_why *why)
{
	if (why != NULL)
		why->msg[0] = '\0';
}

const char *
tsr_err_text(const struct tsr_why *why, enum tsr_err rc)
{
	if (why != NULL && why->msg[0] != '\0')
		return why->msg;
	return tsr_err_str(rc);
}
