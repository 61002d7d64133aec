/*
 * snap: reference-counted, immutable snapshots published to the request
 * threads.  The poller builds a new object off the request path and swaps
 * it in; a request holds a reference for as long as it uses one, so an
 * object is destroyed only when the last request using it is done.
 */
#ifndef TSR_DAEMON_SNAP_H
#define TSR_DAEMON_SNAP_H

#include <pthread.h>

struct snap;

struct snap_slot {
	pthread_mutex_t	 mu;
	struct snap	*cur;
};

/* Wrap obj; destroy(obj) runs when the last reference goes.  NULL on
 * allocation failure (obj is then destroyed). */
struct snap *snap_new(void *obj, void (*destroy)(void *));
/* The object of a reference. */
void *snap_obj(const struct snap *s);

void snap_slot_init(struct snap_slot *slot);
/* Drop the slot's reference. */
void snap_slot_finish(struct snap_slot *slot);
/* A new reference to the current snapshot, or NULL if none yet. */
struct snap *snap_get(struct snap_slot *slot);
/* Drop a reference; NULL-safe. */
void snap_put(struct snap *s);
/* Publish s (the slot takes the caller's reference). */
void snap_set(struct snap_slot *slot, struct snap *s);

#endif
