/*
 * metrics: counters for GET /metrics, in the Prometheus text format
 * (version 0.0.4).  Counting is lock-free atomics on the request path;
 * audience labels come only from grants that exist, so their number is
 * bounded by the policy (and capped at METRICS_MAX_AUDIENCES).
 */
#ifndef TSR_DAEMON_METRICS_H
#define TSR_DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_AUDIENCES	256

struct metrics;

struct metrics *metrics_create(void);
void metrics_destroy(struct metrics *m);

/* One answered request: its route name ("token", "jwks", ...), status
 * and latency. */
void metrics_request(struct metrics *m, const char *route, unsigned status,
    double seconds);

/* One /token answer: outcome is "issued" or an OAuth error code;
 * audience only for issued tokens (NULL otherwise). */
void metrics_token(struct metrics *m, const char *outcome,
    const char *audience);

/* One /revoke or /introspect answer, by outcome (revoked, ignored,
 * denied, active, inactive). */
void metrics_revocation(struct metrics *m, const char *outcome);
void metrics_introspection(struct metrics *m, const char *outcome);

/* The audit writer stored rows standing for events, in seconds. */
void metrics_audit_written(struct metrics *m, uint64_t rows, uint64_t events,
    double seconds);
/* Events the store refused. */
void metrics_audit_lost(struct metrics *m, uint64_t events);
/* Oldest rows deleted to keep the trail to its cap. */
void metrics_audit_trimmed(struct metrics *m, uint64_t rows);
/* A request without a verified certificate over its address's limit. */
void metrics_anonymous_limited(struct metrics *m);

/* The gauges, sampled when /metrics is asked. */
struct metrics_gauges {
	int64_t	 active_key_age_s;
	int64_t	 tls_cert_expiry_s;	/* seconds until notAfter */
	int64_t	 crl_next_update_s;	/* negative once stale */
	int	 has_crl_next_update;
	int64_t	 denylist_entries;
	int64_t	 certs_expiring_7d;	/* unrevoked, expiring within 7 d */
	uint64_t audit_dropped;
	uint64_t audit_waits;
	uint64_t audit_depth;
	uint64_t audit_capacity;
	int	 db_ok;
};

/* The whole exposition, malloc'd (free()); NULL when out of memory. */
char *metrics_render(struct metrics *m, const struct metrics_gauges *g,
    size_t *len);

#endif
