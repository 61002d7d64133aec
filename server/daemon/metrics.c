#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const route_names[] = { "token", "revoke", "introspect",
	"jwks", "discovery", "healthz", "metrics", "other" };
#define N_ROUTES (sizeof(route_names) / sizeof(route_names[0]))

static const unsigned status_codes[] = { 200, 304, 400, 401, 404, 405, 413,
	429, 500, 503, 0 };	/* 0: any other */
#define N_STATUS (sizeof(status_codes) / sizeof(status_codes[0]))

/* Latency buckets in seconds (upper bounds), then +Inf. */
static const double buckets[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *const token_outcomes[] = { "issued", "invalid_client",
	"invalid_request", "unsupported_grant_type", "invalid_target",
	"invalid_scope", "rate_limited", "temporarily_unavailable", "other" };
#define N_TOKEN (sizeof(token_outcomes) / sizeof(token_outcomes[0]))

static const char *const revoke_outcomes[] = { "revoked", "ignored",
	"denied", "other" };
static const char *const introspect_outcomes[] = { "active", "inactive",
	"denied", "other" };
#define N_SMALL 4

struct audience_count {
	char		 name[129];
	atomic_ulong	 n;
};

struct metrics {
	atomic_ulong		 requests[N_ROUTES][N_STATUS];
	atomic_ulong		 latency[N_BUCKETS + 1];
	atomic_ulong		 latency_count;
	atomic_ulong		 latency_sum_us;
	atomic_ulong		 tokens[N_TOKEN];
	atomic_ulong		 revocations[N_SMALL];
	atomic_ulong		 introspections[N_SMALL];
	pthread_mutex_t		 aud_mu;	/* guards adding audiences */
	struct audience_count	 aud[METRICS_MAX_AUDIENCES];
	atomic_size_t		 n_aud;
	atomic_ulong		 aud_other;
	atomic_ulong		 audit_rows;	/* rows stored */
	atomic_ulong		 audit_events;	/* events they stand for */
	atomic_ulong		 audit_write_us; /* time spent storing */
	atomic_ulong		 audit_lost;	/* store refused */
	atomic_ulong		 audit_trimmed;	/* over --audit-max-rows */
	atomic_ulong		 anon_limited;	/* per-address limit hit */
};

struct metrics *
metrics_create(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(&m->aud_mu, NULL);
	return m;
}

void
metrics_destroy(struct metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->aud_mu);
	free(m);
}

/* Index of name in names[0..n), or n - 1 (the "other" slot). */
static size_t
index_of(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < n - 1; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n - 1;
}

static size_t
status_index(unsigned status)
{
	size_t i;

	for (i = 0; i < N_STATUS - 1; i++)
		if (status_codes[i] == status)
			return i;
	return N_STATUS - 1;
}

void
metrics_request(struct metrics *m, const char *route, unsigned status,
    double seconds)
{
	size_t b;

	atomic_fetch_add(&m->requests[index_of(route_names, N_ROUTES, route)]
	    [status_index(status)], 1);
	for (b = 0; b < N_BUCKETS && seconds > buckets[b]; b++)
		;
	atomic_fetch_add(&m->latency[b], 1);
	atomic_fetch_add(&m->latency_count, 1);
	atomic_fetch_add(&m->latency_sum_us, (unsigned long)(seconds * 1e6));
}

/* The counter of an audience, added on first sight while there is room.
 * Readers scan only the published prefix [0, n_aud). */
static atomic_ulong *
audience_counter(struct metrics *m, const char *audience)
{
	size_t i, n = atomic_load(&m->n_aud);

	for (i = 0; i < n; i++)
		if (strcmp(m->aud[i].name, audience) == 0)
			return &m->aud[i].n;
	pthread_mutex_lock(&m->aud_mu);
	n = atomic_load(&m->n_aud);
	for (i = 0; i < n && strcmp(m->aud[i].name, audience) != 0; i++)
		;
	if (i == n) {
		if (n == METRICS_MAX_AUDIENCES ||
		    strlen(audience) >= sizeof(m->aud[n].name)) {
			pthread_mutex_unlock(&m->aud_mu);
			return &m->aud_other;
		}
		memcpy(m->aud[n].name, audience, strlen(audience) + 1);
		atomic_store(&m->n_aud, n + 1);
	}
	pthread_mutex_unlock(&m->aud_mu);
	return &m->aud[i].n;
}

void
metrics_token(struct metrics *m, const char *outcome, const char *audience)
{
	atomic_fetch_add(&m->tokens[index_of(token_outcomes, N_TOKEN,
	    outcome)], 1);
	if (audience != NULL)
		atomic_fetch_add(audience_counter(m, audience), 1);
}

void
metrics_revocation(struct metrics *m, const char *outcome)
{
	atomic_fetch_add(&m->revocations[index_of(revoke_outcomes, N_SMALL,
	    outcome)], 1);
}

void
metrics_introspection(struct metrics *m, const char *outcome)
{
	atomic_fetch_add(&m->introspections[index_of(introspect_outcomes,
	    N_SMALL, outcome)], 1);
}

void
metrics_audit_written(struct metrics *m, uint64_t rows, uint64_t events,
    double seconds)
{
	atomic_fetch_add(&m->audit_rows, rows);
	atomic_fetch_add(&m->audit_events, events);
	atomic_fetch_add(&m->audit_write_us, (unsigned long)(seconds * 1e6));
}

void
metrics_audit_lost(struct metrics *m, uint64_t events)
{
	atomic_fetch_add(&m->audit_lost, events);
}

void
metrics_audit_trimmed(struct metrics *m, uint64_t rows)
{
	atomic_fetch_add(&m->audit_trimmed, rows);
}

void
metrics_anonymous_limited(struct metrics *m)
{
	atomic_fetch_add(&m->anon_limited, 1);
}

static void
render_requests(FILE *f, struct metrics *m)
{
	char status[16];
	unsigned long n;
	size_t r, i;

	fputs("# HELP tessera_http_requests_total HTTP requests answered, by "
	    "route and status.\n# TYPE tessera_http_requests_total counter\n",
	    f);
	for (r = 0; r < N_ROUTES; r++) {
		for (i = 0; i < N_STATUS; i++) {
			if ((n = atomic_load(&m->requests[r][i])) == 0)
				continue;
			if (status_codes[i] == 0)
				(void)snprintf(status, sizeof(status), "other");
			else
				(void)snprintf(status, sizeof(status), "%u",
				    status_codes[i]);
			fprintf(f, "tessera_http_requests_total{route=\"%s\","
			    "status=\"%s\"} %lu\n", route_names[r], status, n);
		}
	}
}

static void
render_latency(FILE *f, struct metrics *m)
{
	unsigned long cum = 0;
	size_t b;

	fputs("# HELP tessera_http_request_duration_seconds Time from the "
	    "request to its answer.\n# TYPE "
	    "tessera_http_request_duration_seconds histogram\n", f);
	for (b = 0; b < N_BUCKETS; b++) {
		cum += atomic_load(&m->latency[b]);
		fprintf(f, "tessera_http_request_duration_seconds_bucket"
		    "{le=\"%g\"} %lu\n", buckets[b], cum);
	}
	cum += atomic_load(&m->latency[N_BUCKETS]);
	fprintf(f, "tessera_http_request_duration_seconds_bucket{le=\"+Inf\"} "
	    "%lu\n", cum);
	fprintf(f, "tessera_http_request_duration_seconds_sum %.6f\n",
	    (double)atomic_load(&m->latency_sum_us) / 1e6);
	fprintf(f, "tessera_http_request_duration_seconds_count %lu\n",
	    atomic_load(&m->latency_count));
}

static void
render_counter(FILE *f, const char *name, const char *help,
    const char *const *labels, atomic_ulong *v, size_t n)
{
	size_t i;

	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s{outcome=\"%s\"} %lu\n", name, labels[i],
		    atomic_load(&v[i]));
}

static void
render_audiences(FILE *f, struct metrics *m)
{
	size_t i, n = atomic_load(&m->n_aud);

	fputs("# HELP tessera_tokens_issued_total Tokens issued, by "
	    "audience.\n# TYPE tessera_tokens_issued_total counter\n", f);
	/* Names were validated as [A-Za-z0-9._:/-]: no label escaping. */
	for (i = 0; i < n; i++)
		fprintf(f, "tessera_tokens_issued_total{audience=\"%s\"} %lu\n",
		    m->aud[i].name, atomic_load(&m->aud[i].n));
	if (atomic_load(&m->aud_other) > 0)
		fprintf(f, "tessera_tokens_issued_total{audience=\"_other\"} "
		    "%lu\n", atomic_load(&m->aud_other));
}

static void
render_gauge(FILE *f, const char *name, const char *help, long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help,
	    name, name, v);
}

static void
render_total(FILE *f, const char *name, const char *help,
    unsigned long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
	    name, name, v);
}

static void
render_audit(FILE *f, struct metrics *m, const struct metrics_gauges *g)
{
	render_total(f, "tessera_audit_dropped_events_total", "Audit events "
	    "dropped because the queue stayed full.", g->audit_dropped);
	render_total(f, "tessera_audit_waits_total", "Requests that waited "
	    "for room in a full audit queue.", g->audit_waits);
	render_gauge(f, "tessera_audit_queue_depth", "Audit events waiting "
	    "for the writer.", (long long)g->audit_depth);
	render_gauge(f, "tessera_audit_queue_capacity", "Audit events the "
	    "queue holds now (it grows under load).",
	    (long long)g->audit_capacity);
	render_total(f, "tessera_audit_rows_written_total", "Rows stored in "
	    "the audit trail.", atomic_load(&m->audit_rows));
	render_total(f, "tessera_audit_events_written_total", "Events those "
	    "rows stand for (a folded row counts many).",
	    atomic_load(&m->audit_events));
	fprintf(f, "# HELP tessera_audit_write_seconds_total Time the audit "
	    "writer spent storing.\n# TYPE tessera_audit_write_seconds_total "
	    "counter\ntessera_audit_write_seconds_total %.6f\n",
	    (double)atomic_load(&m->audit_write_us) / 1e6);
	render_total(f, "tessera_audit_lost_events_total", "Audit events the "
	    "store refused.", atomic_load(&m->audit_lost));
	render_total(f, "tessera_audit_trimmed_rows_total", "Oldest audit "
	    "rows deleted to keep the trail under --audit-max-rows.",
	    atomic_load(&m->audit_trimmed));
	render_total(f, "tessera_anonymous_limited_total", "Requests without "
	    "a verified certificate refused by the per-address limit.",
	    atomic_load(&m->anon_limited));
}

char *
metrics_render(struct metrics *m, const struct metrics_gauges *g,
    size_t *len)
{
	char *buf = NULL;
	FILE *f;

	if ((f = open_memstream(&buf, len)) == NULL)
		return NULL;
	render_requests(f, m);
	render_latency(f, m);
	render_counter(f, "tessera_tokens_total", "Token requests, by "
	    "outcome (issued or the OAuth error).", token_outcomes,
	    m->tokens, N_TOKEN);
	render_audiences(f, m);
	render_counter(f, "tessera_revocations_total", "Revocation requests, "
	    "by outcome.", revoke_outcomes, m->revocations, N_SMALL);
	render_counter(f, "tessera_introspections_total", "Introspection "
	    "requests, by outcome.", introspect_outcomes, m->introspections,
	    N_SMALL);
	render_gauge(f, "tessera_signing_key_age_seconds", "Age of the "
	    "active signing key.", (long long)g->active_key_age_s);
	render_gauge(f, "tessera_tls_certificate_expiry_seconds", "Seconds "
	    "until the server certificate expires.",
	    (long long)g->tls_cert_expiry_s);
	if (g->has_crl_next_update)
		render_gauge(f, "tessera_crl_next_update_seconds", "Seconds "
		    "until the earliest nextUpdate of the client CRLs "
		    "(negative once stale).", (long long)g->crl_next_update_s);
	render_gauge(f, "tessera_denylist_entries", "Live deny-list entries.",
	    (long long)g->denylist_entries);
	render_gauge(f, "tessera_certificates_expiring_7d",
	    "Issued client certificates, not revoked, expiring within 7 days.",
	    (long long)g->certs_expiring_7d);
	render_audit(f, m, g);
	render_gauge(f, "tessera_database_up", "1 when the database answers "
	    "reads and writes.", g->db_ok);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
