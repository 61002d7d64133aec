/*
 * ratelimit: a token bucket per client, so one broken service cannot
 * starve the others.  Each client may make `rate` requests a second on
 * average, with bursts of up to `rate`.  Thread-safe.
 */
#ifndef TSR_DAEMON_RATELIMIT_H
#define TSR_DAEMON_RATELIMIT_H

#include <stdbool.h>

#define RATELIMIT_MAX_CLIENTS	4096	/* beyond: one shared bucket */
#define RATELIMIT_MAX_RATE	1000000

struct ratelimit;

/* rate > 0 requests per second.  NULL when out of memory. */
struct ratelimit *ratelimit_create(double rate);
void ratelimit_destroy(struct ratelimit *rl);

/* May client make a request at time now (seconds, monotonic)?  Takes a
 * token from its bucket when it may. */
bool ratelimit_allow(struct ratelimit *rl, const char *client, double now);

/* Parse "N/s" (1 <= N <= RATELIMIT_MAX_RATE); -1 when malformed. */
double ratelimit_parse(const char *text);

#endif
