/*
 * auditq: the audit writer thread.  It owns the server's audit queue and
 * its own database connection, and stores queued events in batches of
 * one transaction each, so that requests never wait on the database.
 */
#ifndef TSR_DAEMON_AUDITQ_H
#define TSR_DAEMON_AUDITQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "server.h"
#include "store/store.h"

#define AUDITQ_QUEUE	4096	/* events waiting for the writer */
#define AUDITQ_BATCH	256	/* events per transaction */

struct auditq {
	struct server		*s;
	struct tsr_store	*st;
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
