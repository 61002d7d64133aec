/*
 * server: what the running server shares between its threads: the
 * configuration, the snapshots the request threads read (policy, keys,
 * TLS credentials, deny-list), the revocation connection and a few
 * counters.  Each resource has one owner: this module for the
 * snapshots, the revoker for the connection, auditq for the audit queue,
 * health for the store's reachability.
 */
#ifndef TSR_DAEMON_SERVER_H
#define TSR_DAEMON_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "caview.h"
#include "conn.h"
#include "daemon.h"
#include "health.h"
#include "keyring.h"
#include "metrics.h"
#include "ratelimit.h"
#include "revoker.h"
#include "snap.h"
#include "store/store.h"
#include "tls.h"

/* The published signing keys as the request path needs them. */
struct keys_view {
	struct tsr_keyring	*kr;
	char			 etag[48];	/* "\"<base64url>\"" */
};

/*
 * The published snapshots are reached only through the functions below,
 * typed: acquire returns the object (NULL when none is published yet)
 * and a reference in *ref that server_release drops.  The revocation
 * connection belongs to the revoker.
 */
struct server {
	struct daemon_config	 cfg;	/* the daemon's copy */
	struct snap_slot	 policy;	/* struct tsr_policy */
	struct snap_slot	 keys;		/* struct keys_view */
	struct snap_slot	 creds;		/* struct tls_creds */
	struct snap_slot	 deny;		/* struct tsr_denylist */
	pthread_mutex_t		 deny_mu;	/* orders deny-list publishing:
						 * a reload, then additions */
	struct snap_slot	 ca;		/* struct caview */
	struct conn_shared	 est_db;	/* issuance writes here */
	atomic_llong		 certs_expiring;	/* within 7 days */
	struct tsr_audit_queue	*audit;
	struct metrics		*metrics;
	struct ratelimit	*ratelimit;	/* NULL: no limit */
	struct ratelimit	*anon_limit;	/* by address, for callers with
						 * no verified certificate */
	struct revoker		 revoker;
	char			*discovery;	/* RFC 8414 document */
	size_t			 discovery_len;
	struct health		 health;	/* is the store reachable */
	atomic_long		 inflight;	/* requests being answered */
};

/* Copy cfg and set up the slots; server_finish frees what is left. */
void server_init(struct server *s, const struct daemon_config *cfg);
void server_finish(struct server *s);

const struct daemon_config *server_config(const struct server *s);

const struct tsr_policy *server_policy_acquire(struct server *s,
    struct snap **ref);
const struct keys_view *server_keys_acquire(struct server *s,
    struct snap **ref);
const struct tls_creds *server_creds_acquire(struct server *s,
    struct snap **ref);
const struct tsr_denylist *server_deny_acquire(struct server *s,
    struct snap **ref);
/* NULL when the store has no CA. */
const struct caview *server_ca_acquire(struct server *s,
    struct snap **ref);

/* Drop a reference from an acquire; NULL-safe. */
void server_release(struct snap *ref);

/* Load from st and publish; 0, or -1 after logging why (the old
 * snapshot stays). */
int server_policy_load(struct server *s, struct tsr_store *st);
int server_keys_load(struct server *s, struct tsr_store *st);
int server_deny_load(struct server *s, struct tsr_store *st);
/* The CA view (est.h); with no CA in the store, none is published. */
int server_ca_load(struct server *s, struct tsr_store *st);

/*
 * TLS credentials are published in two steps, so that a reload can start
 * its listener between them: wrap (NULL on allocation failure, creds are
 * then freed), then publish (the slot takes the reference).
 */
struct snap *server_creds_wrap(struct tls_creds *creds);
void server_creds_publish(struct server *s, struct snap *sn);

/* Write a revocation and publish the new deny-list at once; 0 on
 * success.  Called from request threads.  r->expires_at is the token's
 * exp: the entry is kept past it by the largest clock skew of any server
 * sharing the store. */
int server_revoke(struct server *s, const struct tsr_revocation *r);

#endif
