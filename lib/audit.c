#include "audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tsr_audit_queue {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* an event arrived */
	pthread_cond_t		 room;		/* the writer took some */
	struct tsr_audit_event	*ring;
	size_t			 cap, head, len;
	uint64_t		 pushed, waited, dropped;
	bool			 writer_down;	/* full: drop, do not wait */
};

struct tsr_audit_queue *
tsr_audit_queue_create(size_t capacity)
{
	struct tsr_audit_queue *q;

	if (capacity == 0 || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->ring = calloc(capacity, sizeof(*q->ring))) == NULL) {
		free(q);
		return NULL;
	}
	q->cap = capacity;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	pthread_cond_init(&q->room, NULL);
	return q;
}

void
tsr_audit_queue_destroy(struct tsr_audit_queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	pthread_cond_destroy(&q->room);
	free(q->ring);
	free(q);
}

static void
deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

bool
tsr_audit_push(struct tsr_audit_queue *q, const struct tsr_audit_event *ev)
{
	struct timespec until;
	bool ok;

	pthread_mutex_lock(&q->mu);
	if (q->len == q->cap && !q->writer_down) {
		/* Back-pressure, the last resort: wait for the writer. */
		q->waited++;
		deadline_in(&until, TSR_AUDIT_WAIT_MS);
		while (q->len == q->cap && pthread_cond_timedwait(&q->room,
		    &q->mu, &until) != ETIMEDOUT)
			;
	}
	if ((ok = q->len < q->cap)) {
		q->ring[(q->head + q->len) % q->cap] = *ev;
		q->len++;
		q->pushed++;
		if (q->len >= TSR_AUDIT_WAKE || q->len == q->cap)
			pthread_cond_signal(&q->cv);
	} else {
		q->dropped++;
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

size_t
tsr_audit_pop(struct tsr_audit_queue *q, struct tsr_audit_event *out,
    size_t max, int wait_ms)
{
	struct timespec until;
	size_t n = 0;

	deadline_in(&until, wait_ms);
	pthread_mutex_lock(&q->mu);
	while (q->len == 0 && wait_ms > 0 &&
	    pthread_cond_timedwait(&q->cv, &q->mu, &until) != ETIMEDOUT)
		;
	while (n < max && q->len > 0) {
		out[n++] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	if (n > 0)
		pthread_cond_broadcast(&q->room);
	/* Empty: start again at slot 0, so that the slots in use stay the
	 * same few, warm in the cache, instead of walking the whole ring
	 * (megabytes) and touching every page of it. */
	if (q->len == 0)
		q->head = 0;
	pthread_mutex_unlock(&q->mu);
	return n;
}

uint64_t
tsr_audit_dropped(struct tsr_audit_queue *q)
{
	uint64_t d;

	pthread_mutex_lock(&q->mu);
	d = q->dropped;
	pthread_mutex_unlock(&q->mu);
	return d;
}

void
tsr_audit_count_dropped(struct tsr_audit_queue *q, uint64_t n)
{
	pthread_mutex_lock(&q->mu);
	q->dropped += n;
	pthread_mutex_unlock(&q->mu);
}

void
tsr_audit_writer_down(struct tsr_audit_queue *q, bool down)
{
	pthread_mutex_lock(&q->mu);
	q->writer_down = down;
	pthread_mutex_unlock(&q->mu);
}

void
tsr_audit_stats(struct tsr_audit_queue *q, struct tsr_audit_stats *out)
{
	pthread_mutex_lock(&q->mu);
	out->pushed = q->pushed;
	out->waited = q->waited;
	out->dropped = q->dropped;
	out->depth = q->len;
	out->capacity = q->cap;
	pthread_mutex_unlock(&q->mu);
}

void
tsr_audit_set(char *dst, size_t size, const char *src)
{
	size_t len;

	if (src == NULL)
		src = "";
	len = strnlen(src, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}
