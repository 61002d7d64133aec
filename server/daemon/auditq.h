/*
 * writer: the audit writer thread.  It owns the server's audit queue and
 * its own database connection, and stores queued events in batches of
 * one transaction each, so that requests never wait on the database.
 */
#ifndef TSR_SERVER_WRITER_H
#define TSR_SERVER_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "server.h"
#include "store.h"

#define WRITER_QUEUE	4096	/* events waiting for the writer */
#define WRITER_BATCH	256	/* events per transaction */

struct writer {
	struct server		*s;
	struct tsr_store	*st;
	pthread_t		 thread;
	atomic_bool		 stop;
	bool			 running;
};

/* Create s->audit and start the thread; -1 after logging why. */
int writer_start(struct writer *w, struct server *s);

/* After the listener stopped: store what is queued, then free it all.
 * Safe after a failed writer_start. */
void writer_stop(struct writer *w);

#endif
