#include "guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

#define GUARD_SWEEP_MS	250

struct guard_conn {
	struct guard_conn	*prev, *next;
	int			 fd;
	uint32_t		 addr;
	int64_t			 deadline_ms;	/* 0: none */
	bool			 anon;
	bool			 cut;
};

struct guard {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 sweeper;
	bool			 stop;
	struct guard_conn	*head;
	int64_t			 headers_ms, idle_ms;
	unsigned		 max_anon;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Shut down (never close: the socket is libmicrohttpd's) the connections
 * past their deadline; it then sees the end and cleans up.  Under g->mu,
 * so a socket is never shut down after guard_remove() let it go. */
static void
sweep(struct guard *g)
{
	struct guard_conn *c;
	int64_t now = now_ms();
	unsigned n = 0;

	for (c = g->head; c != NULL; c = c->next)
		if (!c->cut && c->deadline_ms != 0 && now >= c->deadline_ms) {
			(void)shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			n++;
		}
	if (n > 0)
		log_debug("closed %u connection(s) past the handshake and "
		    "header deadline", n);
}

static void *
sweeper(void *arg)
{
	struct guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += GUARD_SWEEP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		sweep(g);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct guard *
guard_create(unsigned headers_s, unsigned idle_s, unsigned max_anon)
{
	struct guard *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->headers_ms = (int64_t)headers_s * 1000;
	g->idle_ms = (int64_t)idle_s * 1000;
	g->max_anon = max_anon;
	if (pthread_create(&g->sweeper, NULL, sweeper, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

void
guard_destroy(struct guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->sweeper, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

struct guard_conn *
guard_add(struct guard *g, int fd, uint32_t addr)
{
	struct guard_conn *c;

	if (g == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	c->addr = addr;
	c->deadline_ms = now_ms() + g->headers_ms;
	pthread_mutex_lock(&g->mu);
	c->next = g->head;
	if (g->head != NULL)
		g->head->prev = c;
	g->head = c;
	pthread_mutex_unlock(&g->mu);
	return c;
}

void
guard_remove(struct guard *g, struct guard_conn *c)
{
	if (g == NULL || c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	free(c);
}

bool
guard_request(struct guard *g, struct guard_conn *c, bool anon)
{
	struct guard_conn *o;
	unsigned n = 0;
	bool ok = true;

	if (g == NULL || c == NULL)
		return true;
	pthread_mutex_lock(&g->mu);
	c->deadline_ms = 0;
	if (anon && !c->anon) {
		for (o = g->head; o != NULL; o = o->next)
			if (o != c && o->anon && o->addr == c->addr)
				n++;
		if (n >= g->max_anon)
			ok = false;
		else
			c->anon = true;
	}
	pthread_mutex_unlock(&g->mu);
	return ok;
}

void
guard_request_done(struct guard *g, struct guard_conn *c)
{
	if (g == NULL || c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	/* The idle timer allows a pause before the next request; the
	 * headers of that request still have to follow promptly. */
	c->deadline_ms = now_ms() + g->idle_ms + g->headers_ms;
	pthread_mutex_unlock(&g->mu);
}
