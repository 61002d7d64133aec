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

/* Store n rows standing for `events` events; counted in the metrics. */
static void
write_rows(struct auditq *w, const struct tsr_audit_event *rows, size_t n)
{
	struct tsr_why why = { "" };
	uint64_t events = 0;
	double t0 = now_s();
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		events += rows[i].count > 1 ? (uint64_t)rows[i].count : 1;
	if (tsr_store_audit_add(w->st, rows, n, &why) != TSR_OK) {
		log_warnx("audit: %zu row(s) lost: %s", n, why.msg);
		metrics_audit_lost(w->s->metrics, events);
		return;
	}
	metrics_audit_written(w->s->metrics, n, events, now_s() - t0);
}

static void
agg_flush(struct auditq *w)
{
	struct auditq_agg *a = w->agg;

	write_rows(w, a->rows, a->n);
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

/* Count e in its row; a new interval or a full table stores first. */
static void
agg_fold(struct auditq *w, const struct tsr_audit_event *e)
{
	struct auditq_agg *a = w->agg;
	int64_t window = e->at / AUDITQ_AGG_INTERVAL_S;
	size_t i;

	if (a->n > 0 && (window != a->window || a->n == AUDITQ_AGG_MAX))
		agg_flush(w);
	a->window = window;
	for (i = agg_hash(e); a->slot[i] != 0; i = (i + 1) % AGG_SLOTS) {
		if (agg_same(&a->rows[a->slot[i] - 1], e)) {
			a->rows[a->slot[i] - 1].count++;
			return;
		}
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
	int64_t trimmed = 0;

	if (max <= 0)
		return;
	if (tsr_store_audit_trim(w->st, max, &trimmed, &why) != TSR_OK) {
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

/* Fold the anonymous events of a batch, store the others. */
static void
drain(struct auditq *w, struct tsr_audit_event *batch, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		if (batch[i].anonymous)
			agg_fold(w, &batch[i]);
		else if (kept++ != i)
			batch[kept - 1] = batch[i];
	}
	write_rows(w, batch, kept);
	/* An interval that has ended is stored even when all is quiet. */
	if (w->agg->n > 0 &&
	    time(NULL) / AUDITQ_AGG_INTERVAL_S != w->agg->window)
		agg_flush(w);
}

static void *
auditq_main(void *arg)
{
	struct auditq *w = arg;
	struct tsr_audit_event *batch;
	size_t n;

	if ((batch = calloc(AUDITQ_BATCH, sizeof(*batch))) == NULL) {
		log_warnx("audit: out of memory: the writer stops");
		return NULL;
	}
	for (;;) {
		n = tsr_audit_pop(w->s->audit, batch, AUDITQ_BATCH, 200);
		drain(w, batch, n);
		if (n > 0)
			trim(w);
		/* On stop, leave only once the queue is empty. */
		if (n == 0 && atomic_load(&w->stop))
			break;
	}
	agg_flush(w);
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
	    tsr_store_open(server_config(s)->db_path, &w->st, &why) != TSR_OK) {
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
	tsr_store_close(w->st);
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
