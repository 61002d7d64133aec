/*
 * log: the only place tessera writes diagnostics.  One line per event on
 * stderr, with a UTC timestamp and level.  Never pass a token, a key or
 * PEM text: log jti, kid and certificate fingerprints instead.
 */
#ifndef TSR_DAEMON_LOG_H
#define TSR_DAEMON_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Set once at start, before threads exist. */
void log_set_level(enum log_level level);
/* "error", "warn", "info", "debug"; -1 for anything else. */
int log_level_parse(const char *name);

void log_warn(const char *fmt, ...)		/* appends strerror(errno) */
    __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
