#include "ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct bucket {
	char	client[TSR_MAX_NAME + 1];	/* "" = free slot */
	double	tokens;
	double	at;				/* last refill */
};

struct ratelimit {
	pthread_mutex_t	 mu;
	double		 rate;
	struct bucket	*slots;		/* open addressing */
	struct bucket	 shared;	/* when the table is full */
	size_t		 used;
};

struct ratelimit *
ratelimit_create(double rate)
{
	struct ratelimit *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->slots = calloc(RATELIMIT_MAX_CLIENTS,
	    sizeof(*rl->slots))) == NULL) {
		free(rl);
		return NULL;
	}
	rl->rate = rate;
	rl->shared.tokens = rate;
	pthread_mutex_init(&rl->mu, NULL);
	return rl;
}

void
ratelimit_destroy(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->slots);
	free(rl);
}

/* FNV-1a: client names are short and come from the policy. */
static size_t
slot_of(const char *client)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *client != '\0'; client++)
		h = (h ^ (unsigned char)*client) * 1099511628211ULL;
	return (size_t)(h % RATELIMIT_MAX_CLIENTS);
}

static struct bucket *
find_bucket(struct ratelimit *rl, const char *client, double now)
{
	size_t i = slot_of(client), probes;
	struct bucket *b;

	for (probes = 0; probes < RATELIMIT_MAX_CLIENTS; probes++) {
		b = &rl->slots[(i + probes) % RATELIMIT_MAX_CLIENTS];
		if (strcmp(b->client, client) == 0)
			return b;
		if (b->client[0] == '\0')
			break;
	}
	/* Keep a slot free so probing always ends. */
	if (probes == RATELIMIT_MAX_CLIENTS || rl->used + 1 >=
	    RATELIMIT_MAX_CLIENTS || strlen(client) >= sizeof(b->client))
		return &rl->shared;
	memcpy(b->client, client, strlen(client) + 1);
	b->tokens = rl->rate;
	b->at = now;
	rl->used++;
	return b;
}

bool
ratelimit_allow(struct ratelimit *rl, const char *client, double now)
{
	struct bucket *b;
	bool ok;

	pthread_mutex_lock(&rl->mu);
	b = find_bucket(rl, client, now);
	if (now > b->at) {
		b->tokens += (now - b->at) * rl->rate;
		if (b->tokens > rl->rate)
			b->tokens = rl->rate;
		b->at = now;
	}
	if ((ok = b->tokens >= 1.0))
		b->tokens -= 1.0;
	pthread_mutex_unlock(&rl->mu);
	return ok;
}

double
ratelimit_parse(const char *text)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || end == text || strcmp(end, "/s") != 0 || n < 1 ||
	    n > RATELIMIT_MAX_RATE)
		return -1;
	return (double)n;
}
