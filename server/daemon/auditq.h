/*
 * auditq: the audit writer thread.  It owns the server's audit queue and
 * its own database connection, and stores queued events in batches of
 * one transaction each, so that requests never wait on the database.
 *
 * Authenticated activity is stored event by event.  Failures of callers
 * that proved no identity (no or a refused certificate) are folded into
 * one row per (event, peer, reason) and interval, with a count, so that
 * an anonymous flood cannot grow the trail by a row a request.  The
 * trail is kept to at most --audit-max-rows rows, oldest dropped first.
 *
 * While the store is away the writer keeps its batch and tries again
 * (conn.h reconnects with a backoff); events meanwhile wait in the
 * bounded queue, and only those a full queue turns away are dropped and
 * counted.  The writer also tells health whether writes go through.
 */
#ifndef TSR_DAEMON_AUDITQ_H
#define TSR_DAEMON_AUDITQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "server.h"

/*
 * The queue only has to absorb the writer's stalls (a checkpoint, a
 * busy store): in batches of one transaction the writer drains tens of
 * thousands of events a second (scripts/bench measures it), several
 * times what the server can answer, so 4,096 events (7 MiB, allocated
 * once) are a fraction of a second of writing.  When a stall fills it,
 * requests wait for room (audit.h) rather than drop events.
 */
#define AUDITQ_QUEUE		4096
#define AUDITQ_BATCH		1024	/* events per transaction */
#define AUDITQ_AGG_INTERVAL_S	60	/* one row per key and interval */
#define AUDITQ_AGG_MAX		1024	/* keys held at once */
#define AUDITQ_RETRY_MS		100	/* between tries, store away */
#define AUDITQ_STOP_MS		3000	/* at shutdown, wait this long */

struct auditq_agg;

struct auditq {
	struct server		*s;
	struct conn		 conn;
	struct auditq_agg	*agg;
	int64_t			 trim_logged;	/* last cap log line */
	uint64_t		 trim_unlogged;	/* trimmed since */
	pthread_t		 thread;
	atomic_bool		 stop;
	bool			 running;
};

/* Create s->audit and start the thread; -1 after logging why. */
int auditq_start(struct auditq *w, struct server *s);

/* After the listener stopped: store what is queued and what is folded,
 * then free it all.  Safe after a failed auditq_start. */
void auditq_stop(struct auditq *w);

#endif
