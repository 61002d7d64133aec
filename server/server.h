/*
 * server: what the running server shares between its threads: the
 * configuration, the snapshots the request threads read (policy, keys,
 * TLS credentials) and a few counters.
 */
#ifndef TSR_SERVER_SERVER_H
#define TSR_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "keyring.h"
#include "metrics.h"
#include "ratelimit.h"
#include "snap.h"
#include "store.h"
#include "tls.h"

#define SERVER_MAX_ISSUER	512

struct server_cfg {
	const char	*db_path;
	const char	*key_dir;
	const char	*listen_addr;		/* "127.0.0.1" */
	uint16_t	 listen_port;
	char		 issuer[SERVER_MAX_ISSUER];
	struct tls_files tls;
	int64_t		 token_ttl_s;
	int64_t		 rotation_period_s;
	int64_t		 jwks_max_age_s;
	int64_t		 clock_skew_s;
	int64_t		 audit_retention_s;
	double		 rate_limit;		/* per client per s; 0 = off */
	int		 key_bits;
	unsigned	 threads;
	unsigned	 conn_limit;
	unsigned	 per_ip_limit;
	unsigned	 conn_timeout_s;
	unsigned	 handshake_timeout_s;	/* handshake + headers */
	unsigned	 max_anon_per_ip;	/* without a certificate */
};

/* The published signing keys as the request path needs them. */
struct keys_view {
	struct tsr_keyring	*kr;
	char			 etag[48];	/* "\"<base64url>\"" */
};

struct server {
	struct server_cfg	 cfg;
	struct snap_slot	 policy;	/* struct tsr_policy */
	struct snap_slot	 keys;		/* struct keys_view */
	struct snap_slot	 creds;		/* struct tls_creds */
	struct snap_slot	 deny;		/* struct tsr_denylist */
	struct tsr_audit_queue	*audit;
	struct metrics		*metrics;
	struct ratelimit	*ratelimit;	/* NULL: no limit */
	/* The request threads' one connection for writing (revocations). */
	pthread_mutex_t		 writer_mu;
	struct tsr_store	*writer;
	char			*discovery;	/* RFC 8414 document */
	size_t			 discovery_len;
	atomic_bool		 db_ok;		/* last poll reached the db */
	atomic_long		 inflight;	/* requests being answered */
};

/* Write a revocation and publish the new deny-list at once; 0 on
 * success.  Called from request threads.  r->expires_at is the token's
 * exp: the entry is kept past it by the largest clock skew of any server
 * sharing the store. */
int server_revoke(struct server *s, const struct tsr_revocation *r);

/* Wrap a loaded keyring for publishing; NULL on allocation failure. */
struct snap *server_keys_snap(struct tsr_keyring *kr);

#endif
