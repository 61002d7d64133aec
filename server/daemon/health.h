/*
 * health: is the store reachable, and how stale is what the server
 * holds in memory?  The poller reports its reads, the writers (audit
 * writer, revoker) their writes; the request threads ask.
 *
 * While the store is unreachable the server keeps answering from its
 * snapshots, but only for max_staleness seconds after the last moment it
 * knew them current: past that a revoked token or a removed grant could
 * still be honoured, so issuing and introspection stop (503).
 */
#ifndef TSR_DAEMON_HEALTH_H
#define TSR_DAEMON_HEALTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum health_state {
	HEALTH_OK,		/* the store answers reads and writes */
	HEALTH_DEGRADED,	/* unreachable, within max-staleness */
	HEALTH_STALE,		/* unreachable for longer: refuse */
};

struct health {
	atomic_bool	 read_ok;	/* the last poll reached the store */
	atomic_bool	 write_ok;	/* the last write went through */
	atomic_llong	 ok_at;		/* last time both were true */
	int64_t		 max_staleness_s;
};

/* The store answered at now (the server has just loaded from it). */
void health_init(struct health *h, int64_t max_staleness_s, int64_t now);

/* A poll (read) at now reached the store or not; logs the transitions. */
void health_read(struct health *h, bool ok, int64_t now);
/* A write went through or not; logs the transitions. */
void health_write(struct health *h, bool ok);
bool health_write_ok(struct health *h);

/* The state at now; *stale_s (may be NULL) gets the seconds since the
 * store last answered (0 when it does). */
enum health_state health_get(struct health *h, int64_t now,
    int64_t *stale_s);

#endif
