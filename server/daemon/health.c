#include "health.h"

#include <stddef.h>

#include "log.h"

void
health_init(struct health *h, int64_t max_staleness_s, int64_t now)
{
	atomic_init(&h->read_ok, true);
	atomic_init(&h->write_ok, true);
	atomic_init(&h->ok_at, (long long)now);
	h->max_staleness_s = max_staleness_s;
}

void
health_read(struct health *h, bool ok, int64_t now)
{
	bool was = atomic_exchange(&h->read_ok, ok);

	if (ok && atomic_load(&h->write_ok))
		atomic_store(&h->ok_at, (long long)now);
	if (was && !ok)
		log_warnx("database unreachable: serving from memory for at "
		    "most %llds", (long long)h->max_staleness_s);
	else if (!was && ok)
		log_info("database reachable again");
}

void
health_write(struct health *h, bool ok)
{
	bool was = atomic_exchange(&h->write_ok, ok);

	if (was && !ok)
		log_warnx("database writes failing: serving from memory for "
		    "at most %llds", (long long)h->max_staleness_s);
	else if (!was && ok)
		log_info("database writes go through again");
}

bool
health_write_ok(struct health *h)
{
	return atomic_load(&h->write_ok);
}

enum health_state
health_get(struct health *h, int64_t now, int64_t *stale_s)
{
	int64_t stale = 0;
	enum health_state st = HEALTH_OK;

	if (!atomic_load(&h->read_ok) || !atomic_load(&h->write_ok)) {
		stale = now - (int64_t)atomic_load(&h->ok_at);
		if (stale < 0)
			stale = 0;
		st = stale <= h->max_staleness_s ? HEALTH_DEGRADED :
		    HEALTH_STALE;
	}
	if (stale_s != NULL)
		*stale_s = stale;
	return st;
}
