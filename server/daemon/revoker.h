/*
 * revoker: the request threads' one database connection for writing
 * (revocations from /revoke), with the mutex that serializes its users.
 * Nothing else touches that connection.  It is opened again after an
 * error (conn.h).
 */
#ifndef TSR_DAEMON_REVOKER_H
#define TSR_DAEMON_REVOKER_H

#include <pthread.h>
#include <stdint.h>

#include "conn.h"
#include "err.h"
#include "store/store.h"

struct revoker {
	struct conn_shared	 db;
};

/* Called with the connection and the entry written, under the mutex,
 * after a write. */
typedef int (*revoker_publish_fn)(void *arg, struct tsr_store *st,
    const struct tsr_revocation *r);

void revoker_init(struct revoker *rv);
/* Open the connection; TSR_OK or why not. */
enum tsr_err revoker_open(struct revoker *rv, const char *db_path,
    struct tsr_why *why);
/* Close the connection; after the request threads stopped. */
void revoker_finish(struct revoker *rv);

/*
 * Store r, kept past r->expires_at by the largest clock skew of any
 * server sharing the store (at least skew_s), then call publish while
 * still holding the mutex, so that deny-lists are published in the
 * order of the writes.  0, or -1 after logging why (the store could not
 * be reached or refused the write).
 */
int revoker_add(struct revoker *rv, const struct tsr_revocation *r,
    int64_t skew_s, revoker_publish_fn publish, void *arg);

#endif
