#include "snap.h"

#include <stdatomic.h>
#include <stdlib.h>

struct snap {
	atomic_int	  refs;
	void		 *obj;
	void		(*destroy)(void *);
};

struct snap *
snap_new(void *obj, void (*destroy)(void *))
{
	struct snap *s;

	if ((s = malloc(sizeof(*s))) == NULL) {
		destroy(obj);
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->obj = obj;
	s->destroy = destroy;
	return s;
}

void *
snap_obj(const struct snap *s)
{
	return s->obj;
}

void
snap_slot_init(struct snap_slot *slot)
{
	pthread_mutex_init(&slot->mu, NULL);
	slot->cur = NULL;
}

void
snap_slot_finish(struct snap_slot *slot)
{
	snap_put(slot->cur);
	slot->cur = NULL;
	pthread_mutex_destroy(&slot->mu);
}

struct snap *
snap_get(struct snap_slot *slot)
{
	struct snap *s;

	pthread_mutex_lock(&slot->mu);
	if ((s = slot->cur) != NULL)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&slot->mu);
	return s;
}

void
snap_put(struct snap *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1) {
		s->destroy(s->obj);
		free(s);
	}
}

void
snap_set(struct snap_slot *slot, struct snap *s)
{
	struct snap *old;

	pthread_mutex_lock(&slot->mu);
	old = slot->cur;
	slot->cur = s;
	pthread_mutex_unlock(&slot->mu);
	snap_put(old);
}
