#include "auditq.h"

#include <stdlib.h>
#include <time.h>

#include "log.h"

/*
 * Store n events (n == 0: an empty write transaction, which tells
 * whether writes go through again).  True when stored.  A database
 * failure keeps the batch for the next try; any other refusal (a batch
 * that can never be stored) drops and counts it rather than block the
 * queue for ever.
 */
static bool
write_batch(struct auditq *w, const struct tsr_audit_event *batch, size_t n)
{
	struct tsr_why why = { "" };
	struct tsr_store *st;
	enum tsr_err rc = TSR_ERR_DB;
	int tries;

	/* A connection idle since a database restart or failover fails
	 * once: the second try is on a new one. */
	for (tries = 0; tries < 2; tries++) {
		if ((st = conn_get(&w->conn)) == NULL) {
			health_write(&w->s->health, false);
			return false;
		}
		tsr_err_clear(&why);
		if ((rc = tsr_store_audit_add(st, batch, n, &why)) == TSR_OK) {
			health_write(&w->s->health, true);
			return true;
		}
		if (rc != TSR_ERR_DB) {
			log_warnx("audit: %zu event(s) refused and lost: %s",
			    n, tsr_err_text(&why, rc));
			tsr_audit_count_dropped(w->s->audit, n);
			return true;
		}
		conn_fail(&w->conn);
	}
	if (health_write_ok(&w->s->health))
		log_warnx("audit: cannot write, keeping %zu event(s) until "
		    "the database is back: %s", n, why.msg);
	health_write(&w->s->health, false);
	return false;
}

/* Shutdown with the store away: what is left is lost, and counted. */
static void
give_up(struct auditq *w, struct tsr_audit_event *batch, size_t n)
{
	size_t lost = n, k;

	while ((k = tsr_audit_pop(w->s->audit, batch, AUDITQ_BATCH, 0)) > 0)
		lost += k;
	if (lost > 0) {
		log_warnx("audit: %zu event(s) lost at shutdown: the database "
		    "is unreachable", lost);
		tsr_audit_count_dropped(w->s->audit, lost);
	}
}

static void *
auditq_main(void *arg)
{
	struct timespec pause = { 0, AUDITQ_RETRY_MS * 1000000L };
	struct auditq *w = arg;
	struct tsr_audit_event *batch;
	int64_t stop_at = 0;
	size_t n = 0;
	bool idle;

	if ((batch = calloc(AUDITQ_BATCH, sizeof(*batch))) == NULL)
		return NULL;
	for (;;) {
		idle = false;
		if (n == 0) {
			n = tsr_audit_pop(w->s->audit, batch, AUDITQ_BATCH,
			    200);
			idle = n == 0;
		}
		/* Nothing to write while writes fail: probe, to recover. */
		if (n > 0 || !health_write_ok(&w->s->health)) {
			if (write_batch(w, batch, n))
				n = 0;
			else
				nanosleep(&pause, NULL);
		}
		if (atomic_load(&w->stop) && stop_at == 0)
			stop_at = conn_now_ms() + AUDITQ_STOP_MS;
		/* On stop, leave once the queue is empty, or the store has
		 * stayed away too long. */
		if (stop_at != 0 && idle && health_write_ok(&w->s->health))
			break;
		if (stop_at != 0 && conn_now_ms() >= stop_at) {
			give_up(w, batch, n);
			break;
		}
	}
	free(batch);
	return NULL;
}

int
auditq_start(struct auditq *w, struct server *s)
{
	struct tsr_why why = { "" };

	w->s = s;
	if ((s->audit = tsr_audit_queue_create(AUDITQ_QUEUE)) == NULL ||
	    conn_open(&w->conn, server_config(s)->db_path, "audit writer",
	    &why) != TSR_OK) {
		log_warnx("audit: %s", why.msg[0] ? why.msg : "out of memory");
		return -1;
	}
	if (pthread_create(&w->thread, NULL, auditq_main, w) != 0) {
		log_warnx("audit: cannot start the writer thread");
		return -1;
	}
	w->running = true;
	return 0;
}

void
auditq_stop(struct auditq *w)
{
	if (w->running) {
		atomic_store(&w->stop, true);
		pthread_join(w->thread, NULL);
	}
	conn_close(&w->conn);
	if (w->s != NULL) {
		if (w->s->audit != NULL &&
		    tsr_audit_dropped(w->s->audit) > 0)
			log_warnx("audit: %llu event(s) dropped, queue full",
			    (unsigned long long)tsr_audit_dropped(
			    w->s->audit));
		tsr_audit_queue_destroy(w->s->audit);
		w->s->audit = NULL;
	}
}
