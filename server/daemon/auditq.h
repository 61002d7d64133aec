/*
 * auditq: the audit writer thread.  It owns the server's audit queue and
 * its own database connection, and stores queued events in batches of
 * one transaction each, so that requests never wait on the database.
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

#include "conn.h"
#include "server.h"

#define AUDITQ_QUEUE	4096	/* events waiting for the writer */
#define AUDITQ_BATCH	256	/* events per transaction */
#define AUDITQ_RETRY_MS	100	/* between tries while the store is away */
#define AUDITQ_STOP_MS	3000	/* at shutdown, wait this long for it */

struct auditq {
	struct server		*s;
	struct conn		 conn;
	pthread_t		 thread;
	atomic_bool		 stop;
	bool			 running;
};

/* Create s->audit and start the thread; -1 after logging why. */
int auditq_start(struct auditq *w, struct server *s);

/* After the listener stopped: store what is queued, then free it all.
 * Safe after a failed auditq_start. */
void auditq_stop(struct auditq *w);

#endif
