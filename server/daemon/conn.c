#include "conn.h"

#include <stddef.h>
#include <time.h>

#include "log.h"

int64_t
conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum tsr_err
conn_open(struct conn *c, const char *dsn, const char *who,
    struct tsr_why *why)
{
	c->dsn = dsn;
	c->who = who;
	c->st = NULL;
	c->retry_at_ms = 0;
	c->backoff_ms = CONN_BACKOFF_MIN_MS;
	return tsr_store_open(dsn, &c->st, why);
}

struct tsr_store *
conn_get(struct conn *c)
{
	struct tsr_why why = { "" };
	int64_t now;

	if (c->st != NULL)
		return c->st;
	if (c->dsn == NULL || (now = conn_now_ms()) < c->retry_at_ms)
		return NULL;
	if (tsr_store_open(c->dsn, &c->st, &why) != TSR_OK) {
		c->st = NULL;
		log_debug("%s: cannot reconnect: %s", c->who, why.msg);
		c->retry_at_ms = now + c->backoff_ms;
		if ((c->backoff_ms *= 2) > CONN_BACKOFF_MAX_MS)
			c->backoff_ms = CONN_BACKOFF_MAX_MS;
		return NULL;
	}
	log_info("%s: reconnected to the database", c->who);
	c->backoff_ms = CONN_BACKOFF_MIN_MS;
	return c->st;
}

void
conn_fail(struct conn *c)
{
	if (c->st == NULL)
		return;
	tsr_store_rollback(c->st);
	tsr_store_close(c->st);
	c->st = NULL;
	/* The first reconnection is tried at once: a failover or a dropped
	 * idle connection usually answers again straight away. */
	c->retry_at_ms = 0;
}

void
conn_close(struct conn *c)
{
	tsr_store_close(c->st);
	c->st = NULL;
	c->dsn = NULL;
}

void
conn_shared_init(struct conn_shared *c)
{
	pthread_mutex_init(&c->mu, NULL);
	c->conn.st = NULL;
	c->conn.dsn = NULL;
}

void
conn_shared_finish(struct conn_shared *c)
{
	conn_close(&c->conn);
	pthread_mutex_destroy(&c->mu);
}
