/*
 * audit: the trail of every token request, revocation and introspection,
 * with the internal reason a response deliberately does not give.
 *
 * Request threads push events into a bounded in-memory queue without
 * waiting on the database; one writer drains it in batches into the store
 * (tsr_store_audit_add).  A full queue makes the request wait for room
 * (up to TSR_AUDIT_WAIT_MS) rather than lose the event, and only then
 * drops and counts it.  Events
 * never hold a token or key: a jti, a kid and a certificate fingerprint
 * identify what happened.
 */
#ifndef TSR_AUDIT_H
#define TSR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store/store.h"

#define TSR_AUDIT_MAX_REASON	128
#define TSR_AUDIT_MAX_PEER	64
#define TSR_AUDIT_MAX_SCOPES	TSR_MAX_SCOPES_TEXT
/* Longest a request waits for room in a full queue before its event is
 * dropped: the store's own busy timeout, the longest a healthy writer
 * stalls. */
#define TSR_AUDIT_WAIT_MS	TSR_STORE_BUSY_TIMEOUT_MS
/* Waiting events that wake the writer before its timeout. */
#define TSR_AUDIT_WAKE		64

struct tsr_audit_event {
	int64_t	at;
	char	event[16];			/* token, revoke, introspect */
	char	peer[TSR_AUDIT_MAX_PEER];	/* address of the caller */
	char	cert_sha256[65];		/* hex, "" without a cert */
	char	cn[TSR_MAX_CN + 1];
	char	client[TSR_MAX_NAME + 1];
	char	audience[TSR_MAX_NAME + 1];
	char	scopes[TSR_AUDIT_MAX_SCOPES + 1];
	char	jti[TSR_MAX_JTI + 1];
	char	kid[TSR_MAX_KID + 1];
	char	outcome[16];			/* issued, denied, ... */
	char	error[32];			/* OAuth error code or "" */
	char	reason[TSR_AUDIT_MAX_REASON];
	int64_t	count;			/* events this row stands for; 0 = 1 */
	bool	anonymous;		/* caller proved no identity: folded
					 * into a counted row, not stored */
};

/* What the queue has seen, since creation. */
struct tsr_audit_stats {
	uint64_t	pushed;		/* events taken in */
	uint64_t	waited;		/* pushes that waited for room */
	uint64_t	dropped;	/* events lost: no room in time */
	size_t		depth;		/* waiting now */
	size_t		capacity;
};

struct tsr_audit_queue;

/* A queue of at most capacity events.  NULL when out of memory. */
struct tsr_audit_queue *tsr_audit_queue_create(size_t capacity);
void tsr_audit_queue_destroy(struct tsr_audit_queue *q);

/*
 * Copy ev in, waiting for room when the queue is full; false (and one
 * more drop counted) when no room came within TSR_AUDIT_WAIT_MS.
 * Thread-safe.  The writer is woken only once TSR_AUDIT_WAKE events wait
 * (or the queue is full): below that it finds them at its next timeout.
 * A wake-up per event would cost a context switch and a transaction per
 * request; this way one transaction carries many events.
 */
bool tsr_audit_push(struct tsr_audit_queue *q,
    const struct tsr_audit_event *ev);

/*
 * Move up to max events into out, waiting up to wait_ms for the first
 * one (pushes wake the wait only in bunches, see tsr_audit_push).  Returns how many.  Thread-safe; meant for one writer.
 */
size_t tsr_audit_pop(struct tsr_audit_queue *q, struct tsr_audit_event *out,
    size_t max, int wait_ms);

/* Events dropped because the queue was full, since creation, plus
 * those the writer gave up on (tsr_audit_count_dropped). */
uint64_t tsr_audit_dropped(struct tsr_audit_queue *q);
/* The writer lost n events it had taken (its store stayed away). */
void tsr_audit_count_dropped(struct tsr_audit_queue *q, uint64_t n);
/* The writer cannot store (its store is away), or can again.  While it
 * cannot, a full queue drops at once: waiting for room would only hold
 * request threads for nothing. */
void tsr_audit_writer_down(struct tsr_audit_queue *q, bool down);
void tsr_audit_stats(struct tsr_audit_queue *q, struct tsr_audit_stats *out);

/* Copy src into a fixed field, cutting it to fit: audit fields are for
 * people, and a cut value is better than no event. */
void tsr_audit_set(char *dst, size_t size, const char *src);

#endif
