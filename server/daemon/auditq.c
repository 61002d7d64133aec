#include "auditq.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Slots of the fold's hash index: twice the keys, so probes stay short. */
#define AGG_SLOTS	(2 * AUDITQ_AGG_MAX)

/* Anonymous failures of the current interval, one row per key. */
struct auditq_agg {
	struct tsr_audit_event	rows[AUDITQ_AGG_MAX];
	size_t			n;
	int			slot[AGG_SLOTS];	/* row + 1; 0 free */
	int64_t			window;			/* at / interval */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
events_of(const struct tsr_audit_event *rows, size_t n)
{
	uint64_t events = 0;
	size_t i;

	for (i = 0; i < n; i++)
		events += rows[i].count > 1 ? (uint64_t)rows[i].count : 1;
	return events;
}

/* Whether writes go through; the queue stops waiting for room if not. */
static void
set_write_ok(struct auditq *w, bool ok)
{
	health_write(&w->s->health, ok);
	tsr_audit_writer_down(w->s->audit, !ok);
}

/*
 * Store n rows (n == 0: an empty write transaction, which tells whether
 * writes go through again).  True when stored.  A database failure keeps
 * the rows for the next try; any other refusal (rows that can never be
 * stored) drops and counts them rather than block the queue for ever.
 */
static bool
write_rows(struct auditq *w, const struct tsr_audit_event *rows, size_t n)
{
	struct tsr_why why = { "" };
	struct tsr_store *st;
	enum tsr_err rc = TSR_ERR_DB;
	double t0 = now_s();
	int tries;

	/* A connection idle since a database restart or failover fails
	 * once: the second try is on a new one. */
	for (tries = 0; tries < 2; tries++) {
		if ((st = conn_get(&w->conn)) == NULL) {
			set_write_ok(w, false);
			return false;
		}
		tsr_err_clear(&why);
		if ((rc = tsr_store_audit_add(st, rows, n, &why)) == TSR_OK) {
			set_write_ok(w, true);
			metrics_audit_written(w->s->metrics, n,
			    events_of(rows, n), now_s() - t0);
			return true;
		}
		if (rc != TSR_ERR_DB) {
			log_warnx("audit: %zu row(s) refused and lost: %s", n,
			    tsr_err_text(&why, rc));
			metrics_audit_lost(w->s->metrics, events_of(rows, n));
			return true;
		}
		conn_fail(&w->conn);
	}
	if (health_write_ok(&w->s->health))
		log_warnx("audit: cannot write, keeping %zu row(s) until "
		    "the database is back: %s", n, why.msg);
	set_write_ok(w, false);
	return false;
}

/* Store the folded rows.  While the store is away they stay, and go on
 * counting. */
static void
agg_flush(struct auditq *w)
{
	struct auditq_agg *a = w->agg;

	if (a->n == 0 || !write_rows(w, a->rows, a->n))
		return;
	a->n = 0;
	memset(a->slot, 0, sizeof(a->slot));
}

/* FNV-1a over the fields that make a key. */
static size_t
agg_hash(const struct tsr_audit_event *e)
{
	const char *parts[3] = { e->event, e->peer, e->reason };
	uint64_t h = 1469598103934665603ULL;
	const char *p;
	size_t i;

	for (i = 0; i < 3; i++) {
		for (p = parts[i]; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;	/* separator */
	}
	return (size_t)(h % AGG_SLOTS);
}

static bool
agg_same(const struct tsr_audit_event *a, const struct tsr_audit_event *b)
{
	return strcmp(a->event, b->event) == 0 &&
	    strcmp(a->peer, b->peer) == 0 && strcmp(a->reason, b->reason) == 0;
}

/* Count e in its row; a new interval or a full table stores first.  A
 * new key that finds the table still full (the store is away) is lost,
 * and counted. */
static void
agg_fold(struct auditq *w, const struct tsr_audit_event *e)
{
	struct auditq_agg *a = w->agg;
	int64_t window = e->at / AUDITQ_AGG_INTERVAL_S;
	size_t i;

	if (a->n > 0 && (window != a->window || a->n == AUDITQ_AGG_MAX))
		agg_flush(w);
	if (a->n == 0)
		a->window = window;
	for (i = agg_hash(e); a->slot[i] != 0; i = (i + 1) % AGG_SLOTS) {
		if (agg_same(&a->rows[a->slot[i] - 1], e)) {
			a->rows[a->slot[i] - 1].count++;
			return;
		}
	}
	if (a->n == AUDITQ_AGG_MAX) {
		tsr_audit_count_dropped(w->s->audit, 1);
		return;
	}
	a->rows[a->n] = *e;
	a->rows[a->n].count = 1;
	a->slot[i] = (int)++a->n;
}

/* Keep the trail to its cap, oldest first; say so when it bites. */
static void
trim(struct auditq *w)
{
	int64_t max = server_config(w->s)->audit_max_rows, t = time(NULL);
	struct tsr_why why = { "" };
	struct tsr_store *st;
	int64_t trimmed = 0;

	if (max <= 0 || (st = conn_get(&w->conn)) == NULL)
		return;
	if (tsr_store_audit_trim(st, max, &trimmed, &why) != TSR_OK) {
		log_warnx("audit: cannot keep the trail to its cap: %s",
		    why.msg);
		return;
	}
	if (trimmed <= 0)
		return;
	metrics_audit_trimmed(w->s->metrics, (uint64_t)trimmed);
	w->trim_unlogged += (uint64_t)trimmed;
	/* One line a minute at most: a full trail trims on every batch. */
	if (t - w->trim_logged >= 60) {
		log_warnx("audit: trail at its cap of %lld rows "
		    "(--audit-max-rows): dropped the %llu oldest",
		    (long long)max, (unsigned long long)w->trim_unlogged);
		w->trim_logged = t;
		w->trim_unlogged = 0;
	}
}

/* Fold the anonymous events of a batch; return how many others are
 * left, moved to its front. */
static size_t
fold(struct auditq *w, struct tsr_audit_event *batch, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		if (batch[i].anonymous)
			agg_fold(w, &batch[i]);
		else if (kept++ != i)
			batch[kept - 1] = batch[i];
	}
	return kept;
}

/* Shutdown with the store away: what is left is lost, and counted. */
static void
give_up(struct auditq *w, struct tsr_audit_event *batch, size_t n)
{
	uint64_t lost = n + events_of(w->agg->rows, w->agg->n);
	size_t k;

	w->agg->n = 0;
	while ((k = tsr_audit_pop(w->s->audit, batch, AUDITQ_BATCH, 0)) > 0)
		lost += k;
	if (lost > 0) {
		log_warnx("audit: %llu event(s) lost at shutdown: the "
		    "database is unreachable", (unsigned long long)lost);
		tsr_audit_count_dropped(w->s->audit, lost);
	}
}

/* One turn of the writer: take a batch unless one is pending, store it
 * (or probe the store while writes fail).  *idle: the queue was empty. */
static size_t
turn(struct auditq *w, struct tsr_audit_event *batch, size_t n, bool *idle)
{
	struct timespec pause = { 0, AUDITQ_RETRY_MS * 1000000L };
	size_t popped;

	*idle = false;
	if (n == 0) {
		popped = tsr_audit_pop(w->s->audit, batch, AUDITQ_BATCH, 200);
		*idle = popped == 0;
		n = fold(w, batch, popped);
	}
	if (n > 0 || !health_write_ok(&w->s->health)) {
		if (!write_rows(w, batch, n)) {
			nanosleep(&pause, NULL);
			return n;
		}
		if (n > 0)
			trim(w);
		n = 0;
	}
	/* An interval that has ended is stored even when all is quiet. */
	if (w->agg->n > 0 &&
	    time(NULL) / AUDITQ_AGG_INTERVAL_S != w->agg->window)
		agg_flush(w);
	return n;
}

static void *
auditq_main(void *arg)
{
	struct auditq *w = arg;
	struct tsr_audit_event *batch;
	int64_t stop_at = 0;
	size_t n = 0;
	bool idle;

	if ((batch = calloc(AUDITQ_BATCH, sizeof(*batch))) == NULL) {
		log_warnx("audit: out of memory: the writer stops");
		return NULL;
	}
	for (;;) {
		n = turn(w, batch, n, &idle);
		if (atomic_load(&w->stop) && stop_at == 0)
			stop_at = conn_now_ms() + AUDITQ_STOP_MS;
		/* On stop, leave once the queue is empty and the folded rows
		 * stored, or once the store has stayed away too long. */
		if (stop_at != 0 && idle && health_write_ok(&w->s->health)) {
			agg_flush(w);
			if (w->agg->n == 0)
				break;
		}
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
	    (w->agg = calloc(1, sizeof(*w->agg))) == NULL ||
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
	struct tsr_audit_stats qs;

	if (w->running) {
		atomic_store(&w->stop, true);
		pthread_join(w->thread, NULL);
	}
	conn_close(&w->conn);
	free(w->agg);
	w->agg = NULL;
	if (w->s != NULL) {
		if (w->s->audit != NULL) {
			tsr_audit_stats(w->s->audit, &qs);
			if (qs.dropped > 0)
				log_warnx("audit: %llu event(s) dropped, "
				    "queue full", (unsigned long long)
				    qs.dropped);
		}
		tsr_audit_queue_destroy(w->s->audit);
		w->s->audit = NULL;
	}
}
