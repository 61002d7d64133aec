#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "denylist.h"
#include "esc.h"
#include "est.h"
#include "form.h"
#include "guard.h"
#include "log.h"
#include "oauth.h"

#define HTTP_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define UNAVAILABLE	"{\"error\":\"temporarily_unavailable\"}"
/* Largest client certificate a connection remembers (DER bytes). */
#define HTTP_MAX_CERT		8192
/* A too big body whose Content-Length is at most this is read and
 * dropped before the 413; a bigger one is answered at once and the
 * connection closed, lingering (linger_run). */
#define HTTP_MAX_DRAIN		(2 * 1024 * 1024)
/* A too big body without a Content-Length is read and dropped up to
 * this size before the 413; past it the connection is closed. */
#define HTTP_MAX_CHUNKED_DRAIN	(16 * 1024 * 1024)
/* After a response sent before the body was read: how long and how much
 * to keep reading and dropping, and on how many connections at once. */
#define HTTP_LINGER_MS		3000
#define HTTP_LINGER_BYTES	(64 * 1024 * 1024)
#define HTTP_LINGER_MAX		64
/* Request headers and buffers of one connection. */
#define HTTP_CONN_MEMORY	(32 * 1024)

struct http {
	struct server		*s;
	struct MHD_Daemon	*d;
	struct guard		*guard;
};

enum route {
	ROUTE_NONE,
	ROUTE_TOKEN,
	ROUTE_REVOKE,
	ROUTE_INTROSPECT,
	ROUTE_JWKS,
	ROUTE_DISCOVERY,
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_EST_CACERTS,
	ROUTE_EST_ENROLL,
	ROUTE_EST_REENROLL,
	ROUTE_CRL,
};

static const struct {
	const char	*path;
	enum route	 route;
	bool		 post;		/* else GET and HEAD */
	const char	*metric;	/* route label in /metrics */
} routes[] = {
	{ "/token", ROUTE_TOKEN, true, "token" },
	{ "/revoke", ROUTE_REVOKE, true, "revoke" },
	{ "/introspect", ROUTE_INTROSPECT, true, "introspect" },
	{ "/.well-known/jwks.json", ROUTE_JWKS, false, "jwks" },
	{ "/.well-known/oauth-authorization-server", ROUTE_DISCOVERY, false,
	    "discovery" },
	{ "/.well-known/openid-configuration", ROUTE_DISCOVERY, false,
	    "discovery" },
	{ "/healthz", ROUTE_HEALTHZ, false, "healthz" },
	{ "/metrics", ROUTE_METRICS, false, "metrics" },
	{ "/.well-known/est/cacerts", ROUTE_EST_CACERTS, false, "cacerts" },
	{ "/.well-known/est/simpleenroll", ROUTE_EST_ENROLL, true,
	    "simpleenroll" },
	{ "/.well-known/est/simplereenroll", ROUTE_EST_REENROLL, true,
	    "simplereenroll" },
	{ "/crl", ROUTE_CRL, false, "crl" },
};

/* One request, kept by libmicrohttpd between calls. */
struct req {
	int		 route;		/* index into routes, -1 for none */
	struct timespec	 t0;
	size_t		 body_len;
	bool		 too_big;
	size_t		 dropped;	/* bytes of a too big body read */
	bool		 answered;
	unsigned	 status;
	const char	*method;
	char		 client[TSR_MAX_NAME + 1];
	char		*body;		/* FORM_MAX_BODY bytes, on first data */
};

struct reply {
	unsigned	 status;
	const char	*body;
	size_t		 body_len;
	const char	*content_type;
	const char	*cache;		/* Cache-Control, or NULL */
	const char	*allow;		/* Allow, or NULL */
	const char	*etag;		/* ETag, or NULL */
	unsigned	 retry_after;	/* Retry-After seconds, or 0 */
	bool		 close;		/* Connection: close */
};

static int
find_route(const char *url)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0)
			return (int)i;
	return -1;
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, const struct reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->body_len, (void *)r->body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    r->content_type ? r->content_type : "application/json");
	if (r->cache != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		    r->cache);
	if (r->cache != NULL && strcmp(r->cache, "no-store") == 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_PRAGMA,
		    "no-cache");
	if (r->allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->etag != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	if (r->retry_after > 0) {
		char secs[16];

		(void)snprintf(secs, sizeof(secs), "%u", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    secs);
	}
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
simple_reply(struct reply *r, unsigned status, const char *body)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->body = body;
	r->body_len = strlen(body);
}

static enum MHD_Result
serve_jwks(struct http *h, struct MHD_Connection *conn, unsigned *status)
{
	const struct keys_view *kv;
	const char *inm;
	struct snap *ks;
	char cache[64];
	struct reply r;
	enum MHD_Result ret;

	if ((kv = server_keys_acquire(h->s, &ks)) == NULL) {
		simple_reply(&r, 503, UNAVAILABLE);
		*status = r.status;
		return send_reply(conn, &r);
	}
	simple_reply(&r, 200, "");
	r.body = tsr_keyring_jwks(kv->kr, &r.body_len);
	(void)snprintf(cache, sizeof(cache), "public, max-age=%lld",
	    (long long)server_config(h->s)->jwks_max_age_s);
	r.cache = cache;
	r.etag = kv->etag;
	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	/* RFC 9110 §13.1.2: a matching tag, or "*", means not modified. */
	if (inm != NULL && (strstr(inm, kv->etag) != NULL ||
	    strcmp(inm, "*") == 0)) {
		r.status = 304;
		r.body_len = 0;
	}
	*status = r.status;
	ret = send_reply(conn, &r);
	server_release(ks);
	return ret;
}

static enum MHD_Result
serve_discovery(struct http *h, struct MHD_Connection *conn,
    unsigned *status)
{
	struct reply r;

	simple_reply(&r, 200, h->s->discovery);
	r.cache = "public, max-age=3600";
	*status = r.status;
	return send_reply(conn, &r);
}

/* ok with a signing key and a store that answers; degraded while the
 * store is away but within --max-staleness; unavailable otherwise. */
static enum MHD_Result
serve_healthz(struct http *h, struct MHD_Connection *conn, unsigned *status)
{
	struct snap *ks;
	struct reply r;
	char body[96];
	int64_t stale_s;
	enum health_state st;

	st = health_get(&h->s->health, time(NULL), &stale_s);
	if (server_keys_acquire(h->s, &ks) == NULL || st == HEALTH_STALE)
		simple_reply(&r, 503, "{\"status\":\"unavailable\"}");
	else if (st == HEALTH_OK)
		simple_reply(&r, 200, "{\"status\":\"ok\"}");
	else {
		(void)snprintf(body, sizeof(body), "{\"status\":\"degraded\","
		    "\"database\":\"down\",\"stale_s\":%lld}",
		    (long long)stale_s);
		simple_reply(&r, 200, body);
	}
	r.cache = "no-store";
	server_release(ks);
	*status = r.status;
	return send_reply(conn, &r);
}

static void
sample_gauges(struct server *s, struct metrics_gauges *g)
{
	const struct keys_view *kv;
	const struct tls_creds *creds;
	const struct tsr_denylist *dl;
	struct snap *ks, *cs, *ds;
	int64_t now = time(NULL);

	memset(g, 0, sizeof(*g));
	if ((kv = server_keys_acquire(s, &ks)) != NULL)
		g->active_key_age_s = now - tsr_keyring_active_since(kv->kr);
	if ((creds = server_creds_acquire(s, &cs)) != NULL) {
		g->tls_cert_expiry_s = tls_creds_cert_expiry(creds) - now;
		if (tls_creds_crl_next_update(creds, &g->crl_next_update_s)) {
			g->has_crl_next_update = 1;
			g->crl_next_update_s -= now;
		}
	}
	if ((dl = server_deny_acquire(s, &ds)) != NULL)
		g->denylist_entries = (int64_t)tsr_denylist_size(dl);
	g->certs_expiring_7d = atomic_load(&s->certs_expiring);
	if (s->audit != NULL) {
		struct tsr_audit_stats qs;

		tsr_audit_stats(s->audit, &qs);
		g->audit_dropped = qs.dropped;
		g->audit_waits = qs.waited;
		g->audit_depth = qs.depth;
		g->audit_capacity = qs.capacity;
	}
	g->db_ok = health_get(&s->health, now, NULL) == HEALTH_OK;
	server_release(ks);
	server_release(cs);
	server_release(ds);
}

static enum MHD_Result
serve_metrics(struct http *h, struct MHD_Connection *conn, unsigned *status)
{
	struct metrics_gauges g;
	struct reply r;
	enum MHD_Result ret;
	char *text;
	size_t len = 0;

	sample_gauges(h->s, &g);
	if ((text = metrics_render(h->s->metrics, &g, &len)) == NULL) {
		simple_reply(&r, 503, UNAVAILABLE);
		*status = r.status;
		return send_reply(conn, &r);
	}
	simple_reply(&r, 200, "");
	r.body = text;
	r.body_len = len;
	r.content_type = "text/plain; version=0.0.4; charset=utf-8";
	r.cache = "no-store";
	*status = 200;
	ret = send_reply(conn, &r);
	free(text);
	return ret;
}

/*
 * What one connection's client certificate proved, so that keep-alive
 * requests do not verify the chain again.  The result stands while the
 * peer presents the same certificate (compared byte for byte), the
 * credentials it was checked against are current (a reload of the CA or
 * CRL starts over) and the chain has not expired.
 */
struct conn_ctx {
	struct snap	*creds;		/* checked against; NULL: nothing yet */
	unsigned char	 der[HTTP_MAX_CERT];
	size_t		 der_len;
	int64_t		 until;
	bool		 ok;
	const char	*reason;
	struct tls_peer	 peer;
	bool		 linger;	/* answered with a body unread */
	struct guard_conn *gc;
};

static atomic_int lingering;

static int
conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci != NULL ? ci->connect_fd : -1;
}

/* The client's IPv4 address, network order; 0 when unknown. */
static uint32_t
conn_addr(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr_in *sin;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL ||
	    ci->client_addr->sa_family != AF_INET)
		return 0;
	sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
	return sin->sin_addr.s_addr;
}

/* Did the peer present no certificate at all? */
static bool
conn_anonymous(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	unsigned n = 0;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return ci == NULL || gnutls_certificate_get_peers(
	    (gnutls_session_t)ci->tls_session, &n) == NULL || n == 0;
}

/*
 * Read and drop what the client still sends, then close.  Closing a
 * socket with unread data makes the kernel answer with a reset, and a
 * client still sending its body (most do not read until they are done)
 * then loses the response it was sent.  The socket stays non-blocking:
 * libmicrohttpd shares its flags until it has closed its descriptor.
 */
static void *
linger_run(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec t0, t;
	char buf[16384];
	size_t total = 0;
	ssize_t r;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	(void)shutdown(fd, SHUT_WR);
	while (total < HTTP_LINGER_BYTES) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = HTTP_LINGER_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		if ((r = read(fd, buf, sizeof(buf))) == 0 ||
		    (r < 0 && errno != EAGAIN && errno != EINTR))
			break;
		if (r > 0)
			total += (size_t)r;
	}
	close(fd);
	atomic_fetch_sub(&lingering, 1);
	return NULL;
}

/* Hand a copy of the connection's socket to a lingering thread. */
static void
linger_start(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	pthread_attr_t attr;
	pthread_t t;
	int fd;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || atomic_fetch_add(&lingering, 1) >= HTTP_LINGER_MAX) {
		if (ci != NULL)
			atomic_fetch_sub(&lingering, 1);
		return;
	}
	if ((fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		atomic_fetch_sub(&lingering, 1);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, linger_run, (void *)(intptr_t)fd) !=
	    0) {
		close(fd);
		atomic_fetch_sub(&lingering, 1);
	}
	pthread_attr_destroy(&attr);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct conn_ctx *cc = *socket_ctx;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((cc = calloc(1, sizeof(*cc))) != NULL)
			cc->gc = guard_add(h->guard, conn_fd(conn),
			    conn_addr(conn));
		*socket_ctx = cc;
	} else if (cc != NULL) {
		if (cc->linger)
			linger_start(conn);
		guard_remove(h->guard, cc->gc);
		server_release(cc->creds);
		free(cc);
		*socket_ctx = NULL;
	}
}

static bool
conn_remembers(const struct conn_ctx *cc, const struct snap *cs,
    const gnutls_datum_t *leaf, int64_t now)
{
	return cc != NULL && cc->creds == cs && leaf->size == cc->der_len &&
	    memcmp(leaf->data, cc->der, cc->der_len) == 0 && now < cc->until;
}

/* Remember a verification; true when cc took the reference to cs. */
static bool
conn_remember(struct conn_ctx *cc, struct snap *cs,
    const gnutls_datum_t *leaf, const struct oauth_request *rq, int64_t now)
{
	if (cc == NULL || leaf->size > sizeof(cc->der))
		return false;
	server_release(cc->creds);
	cc->creds = cs;			/* keeps the caller's reference */
	memcpy(cc->der, leaf->data, leaf->size);
	cc->der_len = leaf->size;
	cc->ok = rq->peer_ok;
	cc->reason = rq->peer_reason;
	cc->peer = *rq->peer;
	/* A refusal may change with time (not yet valid): retry soon. */
	cc->until = rq->peer_ok ? rq->peer->valid_until : now + 1;
	return true;
}

static struct conn_ctx *
conn_ctx_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* The verified identity of the TLS peer, if any. */
static void
peer_identity(struct http *h, struct MHD_Connection *conn,
    struct oauth_request *rq, struct tls_peer *peer)
{
	const union MHD_ConnectionInfo *ci;
	struct conn_ctx *cc = conn_ctx_of(conn);
	const struct tls_creds *creds;
	const gnutls_datum_t *der = NULL;
	int64_t now = time(NULL);
	unsigned n = 0;
	struct snap *cs;

	creds = server_creds_acquire(h->s, &cs);
	rq->peer = peer;
	rq->peer_ok = false;
	rq->peer_reason = "no TLS session";
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci != NULL)
		der = gnutls_certificate_get_peers(ci->tls_session, &n);
	if (n > 0 && conn_remembers(cc, cs, &der[0], now)) {
		*peer = cc->peer;
		rq->peer_ok = cc->ok;
		rq->peer_reason = cc->reason;
	} else if (ci != NULL && creds != NULL) {
		rq->peer_ok = tls_verify_peer(creds, ci->tls_session,
		    peer, &rq->peer_reason) == 0;
		if (rq->peer_ok && peer->valid_until - now < 86400)
			log_info("client certificate cn=%s serial=%s sha256=%s "
			    "expires within a day (in %llds)", peer->cn,
			    peer->serial, peer->sha256_hex,
			    (long long)(peer->valid_until - now));
		if (n > 0 && conn_remember(cc, cs, &der[0], rq, now))
			return;		/* the context took the reference */
	}
	server_release(cs);
}

/* The caller's address, for the audit trail. */
static void
peer_address(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	buf[0] = '\0';
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		    (socklen_t)len);
}

/* One audit event per OAuth request; never the token itself. */
static void
audit(struct http *h, struct MHD_Connection *conn, const struct req *rq,
    const struct oauth_request *orq, const struct oauth_reply *orp)
{
	struct tsr_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = time(NULL);
	tsr_audit_set(ev.event, sizeof(ev.event), routes[rq->route].path + 1);
	peer_address(conn, ev.peer, sizeof(ev.peer));
	tsr_audit_set(ev.cert_sha256, sizeof(ev.cert_sha256),
	    orq->peer->sha256_hex);
	tsr_audit_set(ev.cn, sizeof(ev.cn), orq->peer->cn);
	tsr_audit_set(ev.client, sizeof(ev.client), orp->client);
	tsr_audit_set(ev.audience, sizeof(ev.audience), orp->audience);
	tsr_audit_set(ev.scopes, sizeof(ev.scopes), orp->scope);
	tsr_audit_set(ev.jti, sizeof(ev.jti), orp->jti);
	tsr_audit_set(ev.kid, sizeof(ev.kid), orp->kid);
	tsr_audit_set(ev.outcome, sizeof(ev.outcome), orp->outcome);
	tsr_audit_set(ev.error, sizeof(ev.error), orp->error);
	tsr_audit_set(ev.reason, sizeof(ev.reason), orp->reason);
	/* No verified identity: folded into a counted row (auditq.h). */
	ev.anonymous = !orq->peer_ok;
	if (h->s->audit != NULL)
		(void)tsr_audit_push(h->s->audit, &ev);
}

static void
count_outcome(struct metrics *m, enum route route,
    const struct oauth_reply *orp)
{
	if (route == ROUTE_TOKEN)
		metrics_token(m, orp->error ? orp->error : "issued",
		    orp->error ? NULL : orp->audience);
	else if (route == ROUTE_REVOKE)
		metrics_revocation(m, orp->outcome);
	else if (route == ROUTE_INTROSPECT)
		metrics_introspection(m, orp->outcome);
}

typedef void (*oauth_fn)(struct server *, const struct oauth_request *,
    struct oauth_reply *);

/*
 * --anonymous-rate-limit: requests that prove no identity are failures
 * whatever they ask; past its address's rate such a request gets a 429
 * and its connection is closed, so a flood costs a handshake each.
 */
static bool
anonymous_over_limit(struct http *h, struct MHD_Connection *conn,
    const struct oauth_request *orq, struct oauth_reply *orp)
{
	struct timespec ts;
	char peer[TSR_AUDIT_MAX_PEER];

	if (orq->peer_ok || h->s->anon_limit == NULL)
		return false;
	peer_address(conn, peer, sizeof(peer));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ratelimit_allow(h->s->anon_limit, peer, (double)ts.tv_sec +
	    (double)ts.tv_nsec / 1e9))
		return false;
	memset(orp, 0, sizeof(*orp));
	oauth_error(orp, 429, "rate_limited",
	    "no certificate, over the per-address limit");
	orp->retry_after = 1;
	metrics_anonymous_limited(h->s->metrics);
	return true;
}

/* The OAuth endpoints: mTLS identity, form body, JSON or empty reply. */
static enum MHD_Result
serve_oauth(struct http *h, struct MHD_Connection *conn, struct req *rq,
    oauth_fn endpoint)
{
	struct oauth_request orq;
	struct oauth_reply orp;
	struct tls_peer peer;
	struct reply r;
	enum MHD_Result ret;

	memset(&orq, 0, sizeof(orq));
	peer_identity(h, conn, &orq, &peer);
	orq.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	orq.body = rq->body ? rq->body : "";
	orq.body_len = rq->body_len;
	if (!anonymous_over_limit(h, conn, &orq, &orp))
		endpoint(h->s, &orq, &orp);
	simple_reply(&r, orp.status, "");
	r.body = orp.body ? orp.body : "{\"error\":\"server_error\"}";
	r.body_len = orp.body ? orp.body_len : strlen(r.body);
	if (orp.body == NULL)
		r.status = 500;
	r.cache = "no-store";
	r.retry_after = orp.retry_after;
	r.close = orp.status == 429 && !orq.peer_ok;
	rq->status = r.status;
	(void)snprintf(rq->client, sizeof(rq->client), "%s", orp.client);
	if (orp.reason != NULL)
		log_debug("%s: client=%s cn=%s reason=%s",
		    routes[rq->route].path,
		    orp.client[0] ? orp.client : "-",
		    orq.peer_ok ? peer.cn : "-", orp.reason ? orp.reason : "-");
	audit(h, conn, rq, &orq, &orp);
	count_outcome(h->s->metrics, routes[rq->route].route, &orp);
	ret = send_reply(conn, &r);
	free(orp.body);
	return ret;
}

/* The CA's endpoints (est.c): EST and the CRL. */
static enum MHD_Result
serve_est(struct http *h, struct MHD_Connection *conn, struct req *rq)
{
	enum route route = routes[rq->route].route;
	struct oauth_request orq;
	struct est_answer a;
	struct est_call c;
	struct tls_peer peer;
	struct MHD_Response *resp;
	char addr[64];
	enum MHD_Result ret;

	memset(&c, 0, sizeof(c));
	if (route == ROUTE_EST_CACERTS)
		est_cacerts(h->s, &a);
	else if (route == ROUTE_CRL)
		est_crl(h->s, MHD_lookup_connection_value_n(conn,
		    MHD_GET_ARGUMENT_KIND, "pem", 3, NULL, NULL) == MHD_YES,
		    &a);
	else {
		memset(&orq, 0, sizeof(orq));
		peer_identity(h, conn, &orq, &peer);
		peer_address(conn, addr, sizeof(addr));
		c.authorization = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		c.body = rq->body ? rq->body : "";
		c.body_len = rq->body_len;
		c.peer = &peer;
		c.peer_ok = orq.peer_ok;
		c.peer_reason = orq.peer_reason;
		c.address = addr;
		est_enroll(h->s, &c, route == ROUTE_EST_REENROLL, &a);
	}
	rq->status = a.body != NULL ? a.status : 500;
	(void)snprintf(rq->client, sizeof(rq->client), "%s", a.client);
	resp = MHD_create_response_from_buffer(a.body_len,
	    a.body ? a.body : "", MHD_RESPMEM_MUST_COPY);
	free(a.body);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    a.content_type ? a.content_type : "text/plain");
	if (a.base64)
		MHD_add_response_header(resp, "Content-Transfer-Encoding",
		    "base64");
	if (a.challenge)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Basic realm=\"tessera EST\"");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    route == ROUTE_CRL || route == ROUTE_EST_CACERTS ? "max-age=60" :
	    "no-store");
	ret = MHD_queue_response(conn, rq->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
answer_static(struct MHD_Connection *conn, struct req *rq, unsigned status,
    const char *body, const char *allow)
{
	struct reply r;

	simple_reply(&r, status, body);
	r.allow = allow;
	rq->status = status;
	rq->answered = true;
	return send_reply(conn, &r);
}

/* OAuth requests answered before their body: still an audit event. */
static void
audit_early(struct http *h, struct MHD_Connection *conn,
    const struct req *rq, unsigned status, const char *reason)
{
	struct oauth_request orq;
	struct oauth_reply orp;
	struct tls_peer none;

	if (rq->route < 0 || !routes[rq->route].post)
		return;
	memset(&orq, 0, sizeof(orq));
	memset(&none, 0, sizeof(none));
	orq.peer = &none;
	memset(&orp, 0, sizeof(orp));
	orp.status = status;
	orp.outcome = "denied";
	orp.error = "invalid_request";
	orp.reason = reason;
	audit(h, conn, rq, &orq, &orp);
	count_outcome(h->s->metrics, routes[rq->route].route, &orp);
}

static bool
expects_continue(struct MHD_Connection *conn)
{
	const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_EXPECT);

	return e != NULL && strcasecmp(e, "100-continue") == 0;
}

/* 413 before the whole body was read: the connection closes after it,
 * lingering so that the client gets to read it. */
static enum MHD_Result
answer_too_big(struct http *h, struct MHD_Connection *conn, struct req *rq)
{
	struct conn_ctx *cc = conn_ctx_of(conn);

	if (cc != NULL)
		cc->linger = true;
	audit_early(h, conn, rq, 413, "body too large");
	return answer_static(conn, rq, 413, "{\"error\":\"invalid_request\"}",
	    NULL);
}

/* The checks that need no body: path, method, declared size. */
static bool
early_answer(struct http *h, struct MHD_Connection *conn, struct req *rq,
    const char *method, enum MHD_Result *ret)
{
	const char *cl;
	bool is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if (rq->route < 0) {
		*ret = answer_static(conn, rq, 404, "{\"error\":\"not_found\"}",
		    NULL);
		return true;
	}
	if (routes[rq->route].post ? !is_post : !is_get) {
		audit_early(h, conn, rq, 405, "method not allowed");
		*ret = answer_static(conn, rq, 405,
		    "{\"error\":\"invalid_request\"}",
		    routes[rq->route].post ? "POST" : "GET, HEAD");
		return true;
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL || (strlen(cl) <= 9 &&
	    strtoul(cl, NULL, 10) <= FORM_MAX_BODY))
		return false;
	/*
	 * a body over 4 KiB is refused.  A client that waits for
	 * 100-continue has sent nothing yet and is answered now; otherwise
	 * a modest body is read and dropped first, since closing on unread
	 * data makes the kernel reset the connection, 413 and all.
	 */
	rq->too_big = true;
	if (!expects_continue(conn) && strlen(cl) <= 9 &&
	    strtoul(cl, NULL, 10) <= HTTP_MAX_DRAIN)
		return false;
	*ret = answer_too_big(h, conn, rq);
	return true;
}

static enum MHD_Result
dispatch(struct http *h, struct MHD_Connection *conn, struct req *rq)
{
	rq->answered = true;
	if (rq->too_big) {
		audit_early(h, conn, rq, 413, "body too large");
		return answer_static(conn, rq, 413,
		    "{\"error\":\"invalid_request\"}", NULL);
	}
	switch (routes[rq->route].route) {
	case ROUTE_TOKEN:
		return serve_oauth(h, conn, rq, oauth_token);
	case ROUTE_REVOKE:
		return serve_oauth(h, conn, rq, oauth_revoke);
	case ROUTE_INTROSPECT:
		return serve_oauth(h, conn, rq, oauth_introspect);
	case ROUTE_JWKS:
		return serve_jwks(h, conn, &rq->status);
	case ROUTE_DISCOVERY:
		return serve_discovery(h, conn, &rq->status);
	case ROUTE_HEALTHZ:
		return serve_healthz(h, conn, &rq->status);
	case ROUTE_METRICS:
		return serve_metrics(h, conn, &rq->status);
	case ROUTE_EST_CACERTS:
	case ROUTE_EST_ENROLL:
	case ROUTE_EST_REENROLL:
	case ROUTE_CRL:
		return serve_est(h, conn, rq);
	default:
		return answer_static(conn, rq, 404, "{\"error\":\"not_found\"}",
		    NULL);
	}
}

/* Keep up to FORM_MAX_BODY bytes; past that, drop (up to a cap). */
static enum MHD_Result
take_body(struct http *h, struct MHD_Connection *conn, struct req *rq,
    const char *data, size_t *size)
{
	/* GETs never need the buffer: allocate it for the first bytes. */
	if (rq->body == NULL && !rq->too_big &&
	    (rq->body = malloc(FORM_MAX_BODY)) == NULL)
		return MHD_NO;
	if (!rq->too_big && *size <= FORM_MAX_BODY - rq->body_len) {
		memcpy(rq->body + rq->body_len, data, *size);
		rq->body_len += *size;
	} else {
		rq->too_big = true;
		rq->dropped += *size;
	}
	*size = 0;
	/* libmicrohttpd cannot queue an answer in the middle of a body:
	 * drop up to a cap (the 413 follows at its end), then give up. */
	if (rq->dropped <= HTTP_MAX_CHUNKED_DRAIN)
		return MHD_YES;
	audit_early(h, conn, rq, 413, "body too large");
	rq->status = 413;
	return MHD_NO;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http *h = cls;
	struct req *rq = *req_cls;
	struct conn_ctx *cc;
	enum MHD_Result ret;

	if (rq == NULL) {
		cc = conn_ctx_of(conn);
		if (cc != NULL && !guard_request(h->guard, cc->gc,
		    conn_anonymous(conn))) {
			log_debug("refused a connection without a client "
			    "certificate: its address has %u already",
			    h->s->cfg.max_anon_per_ip);
			return MHD_NO;
		}
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*req_cls = rq;
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		rq->route = find_route(url);
		rq->method = method;
		atomic_fetch_add(&h->s->inflight, 1);
		if (early_answer(h, conn, rq, method, &ret))
			return ret;
		return MHD_YES;
	}
	if (rq->answered) {
		*upload_data_size = 0;	/* drop the rest of the body */
		return MHD_YES;
	}
	if (*upload_data_size > 0)
		return take_body(h, conn, rq, upload_data, upload_data_size);
	return dispatch(h, conn, rq);
}

/* The method for the log: the request line is the client's, so only the
 * methods HTTP defines are written as sent. */
static const char *
log_method(const char *method)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT",
		"DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH" };
	size_t i;

	for (i = 0; method != NULL && i < sizeof(known) / sizeof(known[0]);
	    i++)
		if (strcmp(method, known[i]) == 0)
			return known[i];
	return "OTHER";
}

/* One line per request: method, path, status, client, latency. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct req *rq = *req_cls;
	struct conn_ctx *cc;
	struct timespec t1;
	double ms;

	if (rq == NULL)
		return;
	if ((cc = conn_ctx_of(conn)) != NULL)
		guard_request_done(h->guard, cc->gc);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - rq->t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - rq->t0.tv_nsec) / 1e6;
	metrics_request(h->s->metrics, rq->route >= 0 ?
	    routes[rq->route].metric : "other", rq->status, ms / 1e3);
	log_info("request method=%s path=%s status=%u client=%s "
	    "latency_ms=%.2f%s", log_method(rq->method),
	    rq->route >= 0 ? routes[rq->route].path : "-", rq->status,
	    rq->client[0] ? rq->client : "-", ms,
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	atomic_fetch_sub(&h->s->inflight, 1);
	free(rq->body);
	free(rq);
	*req_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512], esc[TSR_ESC_BUF(sizeof(line))];
	size_t len;

	/* libmicrohttpd's messages end in a newline, and may quote what
	 * the client sent: one line, escaped. */
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	log_debug("http: %s", tsr_esc(line, esc, sizeof(esc)));
}

struct http *
http_start(struct server *s, const struct tls_creds *creds, int listen_fd)
{
	struct http *h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_TLS | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->s = s;
	if ((h->guard = guard_create(s->cfg.handshake_timeout_s,
	    s->cfg.conn_timeout_s, s->cfg.max_anon_per_ip)) == NULL) {
		free(h);
		return NULL;
	}
	h->d = MHD_start_daemon(flags, 0, NULL, NULL,
	    on_access, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
	    MHD_OPTION_HTTPS_MEM_CERT, tls_creds_cert_pem(creds),
	    MHD_OPTION_HTTPS_MEM_KEY, tls_creds_key_pem(creds),
	    /* A trust list makes the server request a client certificate. */
	    MHD_OPTION_HTTPS_MEM_TRUST, tls_creds_ca_pem(creds),
	    MHD_OPTION_HTTPS_PRIORITIES, HTTP_PRIORITIES,
	    MHD_OPTION_THREAD_POOL_SIZE, server_config(s)->threads,
	    MHD_OPTION_CONNECTION_LIMIT, server_config(s)->conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, server_config(s)->per_ip_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, server_config(s)->conn_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		log_warnx("cannot start the HTTPS listener");
		guard_destroy(h->guard);
		free(h);
		return NULL;
	}
	return h;
}

int
http_quiesce(struct http *h)
{
	return (int)MHD_quiesce_daemon(h->d);
}

unsigned
http_connections(struct http *h)
{
	const union MHD_DaemonInfo *di;

	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return di ? di->num_connections : 0;
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	guard_destroy(h->guard);
	free(h);
}

unsigned
http_port(struct http *h)
{
	const union MHD_DaemonInfo *di;

	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

int
http_listen_fd(struct http *h)
{
	const union MHD_DaemonInfo *di;

	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_LISTEN_FD);
	return di ? (int)di->listen_fd : -1;
}
