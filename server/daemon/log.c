#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Written once before the server starts its threads, read after. */
static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = { "error", "warn", "info",
	"debug" };

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static void
vlog(enum log_level level, const char *fmt, va_list ap, const char *tail)
{
	char line[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* A long line is cut: it is a diagnostic, not data. */
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line keeps lines whole across threads. */
	fprintf(stderr, "%s.%03ldZ %s %s%s%s\n", stamp, ts.tv_nsec / 1000000,
	    level_names[level], line, tail ? ": " : "", tail ? tail : "");
}

void
log_warn(const char *fmt, ...)
{
	char err[128];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, fmt, ap, strerror_r(saved, err, sizeof(err)));
	va_end(ap);
}

#define LOG_FN(fn, level)						\
void									\
fn(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	vlog(level, fmt, ap, NULL);					\
	va_end(ap);							\
}

LOG_FN(log_warnx, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
