/*
 * conn: a store connection that comes back by itself.  After an error the
 * connection is closed (a connection to a PostgreSQL primary that went
 * away is useless, even when a new primary answers at the same address)
 * and opened again on a later conn_get, no sooner than a backoff that
 * doubles from CONN_BACKOFF_MIN_MS to CONN_BACKOFF_MAX_MS.
 * One thread uses a conn at a time.
 */
#ifndef TSR_DAEMON_CONN_H
#define TSR_DAEMON_CONN_H

#include <pthread.h>
#include <stdint.h>

#include "store/store.h"

#define CONN_BACKOFF_MIN_MS	100
#define CONN_BACKOFF_MAX_MS	2000

struct conn {
	const char		*dsn;
	const char		*who;		/* for the log: "poller"... */
	struct tsr_store	*st;
	int64_t			 retry_at_ms;	/* monotonic */
	int64_t			 backoff_ms;
};

/* Open the connection now; TSR_OK or why not (start-up: fatal). */
enum tsr_err conn_open(struct conn *c, const char *dsn, const char *who,
    struct tsr_why *why);
/* The connection, opened again if it was dropped and its backoff is
 * over; NULL while the store cannot be reached. */
struct tsr_store *conn_get(struct conn *c);
/* The last operation failed: drop the connection. */
void conn_fail(struct conn *c);
/* NULL-safe on a conn never opened. */
void conn_close(struct conn *c);

/* A conn that several threads write on, one at a time under mu; it is
 * opened with conn_open on its conn. */
struct conn_shared {
	pthread_mutex_t	 mu;
	struct conn	 conn;
};

void conn_shared_init(struct conn_shared *c);
/* Close it; after its users stopped. */
void conn_shared_finish(struct conn_shared *c);

/* Milliseconds on the monotonic clock. */
int64_t conn_now_ms(void);

#endif
