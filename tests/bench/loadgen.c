/*
 * loadgen: an HTTPS load generator for tessera's benchmarks.
 *
 *	loadgen --connect HOST:PORT --ca CA.pem [--cert C.pem --key K.pem]
 *	    [--mode token|token-new|jwks|introspect] [-c N] [-d SECONDS]
 *	    [--path PATH] [--body FORM] [--expect TEXT]
 *
 * N worker threads each hold one mTLS connection (the server's certificate
 * is verified against --ca and HOST; verification is never turned off) and
 * send requests in a loop for the duration:
 *
 *	token		POST /token, keep-alive (body: --body, default
 *			grant_type=client_credentials&audience=inventory-service)
 *	token-new	the same with a new TCP connection and a full TLS
 *			handshake per request (no resumption), Connection: close
 *	jwks		GET /.well-known/jwks.json, keep-alive
 *	introspect	POST /introspect, keep-alive (--body token=...)
 *	probe		GET /healthz until it answers 200 (connection
 *			refused and errors are retried every millisecond for
 *			at most -d seconds); measures how long a starting
 *			server takes to come up.  Prints
 *			{"mode":"probe","up":true,"elapsed_ms":..}, exits 1
 *			when the server did not come up in time.  With
 *			--since-us T (CLOCK_REALTIME, microseconds, e.g.
 *			bash's $EPOCHREALTIME taken just before starting the
 *			server) elapsed_ms counts from T, not from our start.
 *
 * Requests are plain HTTP/1.1 written by hand; responses are parsed here
 * and must carry a Content-Length (no chunked encoding).  A request counts
 * only when the answer is 200 and, with --expect, its body contains TEXT;
 * anything else is an error.  The latency of every counted request (for
 * token-new including connect and handshake) goes into a per-thread array.
 *
 * Output, one JSON line on stdout:
 *	{"mode","concurrency","duration_s","count","errors","rate",
 *	 "mean_ms","p50_ms","p90_ms","p99_ms","max_ms","handshakes"}
 * The first few error reasons go to stderr.  Exit 0 when the run finished
 * (errors are reported, not fatal), 1 when it could not start, 2 on usage.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define LG_MAX_WORKERS		1024
#define LG_MAX_BODY		8192	/* request body */
#define LG_MAX_REQ		(LG_MAX_BODY + 1024)
#define LG_BUF			(64 * 1024)	/* response head + body */
#define LG_IO_TIMEOUT_S		10
/* Latency samples kept per thread; later ones are counted, not kept. */
#define LG_MAX_SAMPLES		(16u * 1024 * 1024)
#define LG_MAX_REPORTED_ERRORS	5

enum mode { MODE_TOKEN, MODE_TOKEN_NEW, MODE_JWKS, MODE_INTROSPECT,
	MODE_PROBE };

static const char *const mode_names[] = { "token", "token-new", "jwks",
	"introspect", "probe" };
#define LG_NMODES	(sizeof(mode_names) / sizeof(mode_names[0]))

struct shared {
	enum mode		 mode;
	const char		*host;		/* for verification and SNI */
	bool			 host_is_ip;
	struct sockaddr_storage	 addr;
	socklen_t		 addr_len;
	gnutls_certificate_credentials_t cred;
	char			 req[LG_MAX_REQ];
	size_t			 req_len;
	const char		*expect;	/* NULL: any 200 body */
	pthread_barrier_t	 ready, go;
	struct timespec		 deadline;
	atomic_int		 reported;	/* error lines printed */
};

struct conn {
	int			 fd;
	gnutls_session_t	 s;
	bool			 open;
	size_t			 have;
	char			 buf[LG_BUF];
};

struct worker {
	pthread_t		 tid;
	struct shared		*sh;
	uint64_t		*lat_ns;	/* one per counted request */
	size_t			 n, cap;
	uint64_t		 count, errors, handshakes;
	struct timespec		 end;
	struct conn		 c;
};

static uint64_t
ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ts_ns(&t);
}

static void
report(struct shared *sh, const char *fmt, const char *detail)
{
	if (atomic_fetch_add(&sh->reported, 1) < LG_MAX_REPORTED_ERRORS)
		fprintf(stderr, "loadgen: %s%s%s\n", fmt, detail ? ": " : "",
		    detail ? detail : "");
}

static void
conn_close(struct conn *c)
{
	if (!c->open)
		return;
	/* close_notify without waiting for the peer's. */
	(void)gnutls_bye(c->s, GNUTLS_SHUT_WR);
	gnutls_deinit(c->s);
	close(c->fd);
	c->open = false;
	c->have = 0;
}

static int
tcp_connect(struct shared *sh)
{
	struct timeval tv = { LG_IO_TIMEOUT_S, 0 };
	int fd, on = 1;

	if ((fd = socket(sh->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sh->addr, sh->addr_len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A new TCP connection and a full, verified TLS handshake. */
static int
conn_open(struct shared *sh, struct conn *c)
{
	int rc;

	c->have = 0;
	if ((c->fd = tcp_connect(sh)) == -1) {
		report(sh, "connect", strerror(errno));
		return -1;
	}
	if (gnutls_init(&c->s, GNUTLS_CLIENT) < 0) {
		close(c->fd);
		report(sh, "gnutls_init failed", NULL);
		return -1;
	}
	if (gnutls_set_default_priority(c->s) < 0 ||
	    gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, sh->cred) < 0 ||
	    (!sh->host_is_ip && gnutls_server_name_set(c->s, GNUTLS_NAME_DNS,
	    sh->host, strlen(sh->host)) < 0)) {
		rc = -1;
		goto fail;
	}
	/* The server must present a certificate for host, from our CA. */
	gnutls_session_set_verify_cert(c->s, sh->host, 0);
	gnutls_transport_set_int(c->s, c->fd);
	gnutls_handshake_set_timeout(c->s, LG_IO_TIMEOUT_S * 1000);
	do {
		rc = gnutls_handshake(c->s);
	} while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
	if (rc < 0)
		goto fail;
	c->open = true;
	return 0;
fail:
	report(sh, "TLS handshake", rc < 0 ? gnutls_strerror(rc) : NULL);
	gnutls_deinit(c->s);
	close(c->fd);
	return -1;
}

static int
conn_send(struct conn *c, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = gnutls_record_send(c->s, p, len);
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read more into c->buf; -1 on error, timeout or EOF. */
static int
conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->have >= sizeof(c->buf))
		return -1;
	do {
		n = gnutls_record_recv(c->s, c->buf + c->have,
		    sizeof(c->buf) - c->have);
	} while (n == GNUTLS_E_INTERRUPTED);
	if (n <= 0)
		return -1;
	c->have += (size_t)n;
	return 0;
}

/* Does the header line [p, end) name hdr (with its colon)?  Its value. */
static const char *
header_value(const char *p, const char *end, const char *hdr)
{
	size_t n = strlen(hdr);

	if ((size_t)(end - p) < n || strncasecmp(p, hdr, n) != 0)
		return NULL;
	for (p += n; p < end && (*p == ' ' || *p == '\t'); p++)
		continue;
	return p;
}

struct resp {
	unsigned	 status;
	size_t		 head_len, body_len;
	bool		 close;
};

/* Parse the status line and headers in c->buf[0..head_len). */
static const char *
parse_head(const struct conn *c, struct resp *r)
{
	const char *p = c->buf, *end = c->buf + r->head_len, *eol, *v;
	char *num_end;
	unsigned long long cl;
	bool have_cl = false;

	if (r->head_len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    p[9] < '0' || p[9] > '9' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9')
		return "bad status line";
	r->status = (unsigned)(p[9] - '0') * 100 + (unsigned)(p[10] - '0') *
	    10 + (unsigned)(p[11] - '0');
	for (; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			break;
		if ((v = header_value(p, eol, "content-length:")) != NULL) {
			errno = 0;
			cl = strtoull(v, &num_end, 10);
			if (errno != 0 || num_end == v || num_end > eol ||
			    have_cl)
				return "bad Content-Length";
			have_cl = true;
			r->body_len = (size_t)cl;
			if (cl > LG_BUF)
				return "response too large";
		} else if ((v = header_value(p, eol, "connection:")) != NULL &&
		    eol - v >= 5 && strncasecmp(v, "close", 5) == 0) {
			r->close = true;
		} else if (header_value(p, eol, "transfer-encoding:") != NULL) {
			return "Transfer-Encoding not supported";
		}
	}
	return have_cl ? NULL : "no Content-Length";
}

/*
 * Send the request and read one response.  NULL when a whole response
 * arrived (then r is filled), else why not; the connection is then
 * unusable.
 */
static const char *
exchange(struct shared *sh, struct conn *c, struct resp *r)
{
	const char *end, *why;

	memset(r, 0, sizeof(*r));
	if (conn_send(c, sh->req, sh->req_len) != 0)
		return "send failed";
	while ((end = memmem(c->buf, c->have, "\r\n\r\n", 4)) == NULL)
		if (conn_fill(c) != 0)
			return "connection lost before the response head";
	r->head_len = (size_t)(end - c->buf) + 4;
	if ((why = parse_head(c, r)) != NULL)
		return why;
	if (r->body_len > sizeof(c->buf) - r->head_len)
		return "response too large";
	while (c->have < r->head_len + r->body_len)
		if (conn_fill(c) != 0)
			return "connection lost in the response body";
	return NULL;
}

static bool
body_ok(const struct shared *sh, const struct conn *c, const struct resp *r)
{
	return sh->expect == NULL || memmem(c->buf + r->head_len, r->body_len,
	    sh->expect, strlen(sh->expect)) != NULL;
}

/* Drop the answered response, keeping anything after it. */
static void
consume(struct conn *c, const struct resp *r)
{
	size_t used = r->head_len + r->body_len;

	memmove(c->buf, c->buf + used, c->have - used);
	c->have -= used;
}

static void
record(struct worker *w, uint64_t ns)
{
	uint64_t *p;
	size_t cap;

	w->count++;
	if (w->n == w->cap) {
		if (w->cap >= LG_MAX_SAMPLES)
			return;
		cap = w->cap ? w->cap * 2 : 4096;
		if ((p = realloc(w->lat_ns, cap * sizeof(*p))) == NULL)
			return;
		w->lat_ns = p;
		w->cap = cap;
	}
	w->lat_ns[w->n++] = ns;
}

static bool
past(const struct timespec *deadline)
{
	return now_ns() >= ts_ns(deadline);
}

/* One request (and, if needed, a connection); counts its outcome. */
static void
one_request(struct worker *w)
{
	struct shared *sh = w->sh;
	struct conn *c = &w->c;
	struct resp r;
	const char *why;
	char detail[64];
	uint64_t t0 = now_ns();

	if (!c->open) {
		if (conn_open(sh, c) != 0) {
			w->errors++;
			usleep(1000);	/* do not spin on a dead server */
			return;
		}
		w->handshakes++;
	}
	if ((why = exchange(sh, c, &r)) != NULL) {
		report(sh, why, NULL);
		w->errors++;
		conn_close(c);
		return;
	}
	if (r.status == 200 && body_ok(sh, c, &r)) {
		record(w, now_ns() - t0);
	} else {
		(void)snprintf(detail, sizeof(detail), "status %u", r.status);
		report(sh, r.status == 200 ? "unexpected body" :
		    "unexpected status", detail);
		w->errors++;
	}
	consume(c, &r);
	if (r.close || sh->mode == MODE_TOKEN_NEW)
		conn_close(c);
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	/* Keep-alive modes connect before the clock starts. */
	if (sh->mode != MODE_TOKEN_NEW) {
		if (conn_open(sh, &w->c) == 0)
			w->handshakes++;
		else
			w->errors++;
	}
	pthread_barrier_wait(&sh->ready);
	pthread_barrier_wait(&sh->go);
	while (!past(&sh->deadline))
		one_request(w);
	clock_gettime(CLOCK_MONOTONIC, &w->end);
	conn_close(&w->c);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n), in ms. */
static double
pct_ms(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)n + 0.999999);
	i = i == 0 ? 0 : i - 1;
	return (double)v[i < n ? i : n - 1] / 1e6;
}

static void
print_result(const struct shared *sh, struct worker *w, int nw,
    const struct timespec *start)
{
	uint64_t count = 0, errors = 0, hs = 0, end = ts_ns(start), sum = 0;
	uint64_t *all;
	size_t n = 0, i;
	double secs;
	int k;

	for (k = 0; k < nw; k++) {
		count += w[k].count;
		errors += w[k].errors;
		hs += w[k].handshakes;
		n += w[k].n;
		if (ts_ns(&w[k].end) > end)
			end = ts_ns(&w[k].end);
	}
	if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	for (n = 0, k = 0; k < nw; k++) {
		if (w[k].n > 0)
			memcpy(all + n, w[k].lat_ns, w[k].n * sizeof(*all));
		n += w[k].n;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	for (i = 0; i < n; i++)
		sum += all[i];
	secs = (double)(end - ts_ns(start)) / 1e9;
	printf("{\"mode\":\"%s\",\"concurrency\":%d,\"duration_s\":%.3f,"
	    "\"count\":%llu,\"errors\":%llu,\"rate\":%.1f,\"mean_ms\":%.3f,"
	    "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
	    "\"handshakes\":%llu}\n", mode_names[sh->mode], nw, secs,
	    (unsigned long long)count, (unsigned long long)errors,
	    secs > 0 ? (double)count / secs : 0.0,
	    n ? (double)sum / (double)n / 1e6 : 0.0, pct_ms(all, n, 0.50),
	    pct_ms(all, n, 0.90), pct_ms(all, n, 0.99),
	    n ? (double)all[n - 1] / 1e6 : 0.0, (unsigned long long)hs);
	free(all);
}

struct opts {
	const char	*connect, *ca, *cert, *key, *path, *body, *expect;
	enum mode	 mode;
	long		 workers, secs;
	long long	 since_us;	/* probe: count from here; 0: our start */
};

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen --connect HOST:PORT --ca CA.pem "
	    "[--cert CERT.pem --key KEY.pem]\n"
	    "\t[--mode token|token-new|jwks|introspect|probe] [-c WORKERS] "
	    "[-d SECONDS]\n"
	    "\t[--path PATH] [--body FORM] [--expect TEXT]\n");
	exit(2);
}

static long
number(const char *text, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

/* A CLOCK_REALTIME instant in microseconds, not in the future. */
static long long
since(const char *text)
{
	struct timespec now;
	char *end;
	long long v;

	clock_gettime(CLOCK_REALTIME, &now);
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v <= 0 ||
	    v > (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000)
		usage();
	return v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	int i, m;

	memset(o, 0, sizeof(*o));
	o->workers = 1;
	o->secs = 5;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--connect") == 0)
			o->connect = v;
		else if (strcmp(a, "--ca") == 0)
			o->ca = v;
		else if (strcmp(a, "--cert") == 0)
			o->cert = v;
		else if (strcmp(a, "--key") == 0)
			o->key = v;
		else if (strcmp(a, "--path") == 0)
			o->path = v;
		else if (strcmp(a, "--body") == 0)
			o->body = v;
		else if (strcmp(a, "--expect") == 0)
			o->expect = v;
		else if (strcmp(a, "-c") == 0 || strcmp(a, "--concurrency") == 0)
			o->workers = number(v, 1, LG_MAX_WORKERS);
		else if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0)
			o->secs = number(v, 1, 3600);
		else if (strcmp(a, "--since-us") == 0)
			o->since_us = since(v);
		else if (strcmp(a, "--mode") == 0) {
			for (m = 0; m < (int)LG_NMODES; m++)
				if (strcmp(v, mode_names[m]) == 0)
					break;
			if (m == (int)LG_NMODES)
				usage();
			o->mode = (enum mode)m;
		} else
			usage();
	}
	if (o->connect == NULL || o->ca == NULL ||
	    (o->cert == NULL) != (o->key == NULL))
		usage();
	if (o->body != NULL && strlen(o->body) > LG_MAX_BODY) {
		fprintf(stderr, "loadgen: --body is over %d bytes\n",
		    LG_MAX_BODY);
		exit(2);
	}
}

/* HOST:PORT into sh->addr; sh->host keeps HOST (a malloc'd copy). */
static int
resolve(const char *hostport, struct shared *sh)
{
	struct addrinfo hints, *res = NULL;
	const char *colon = strrchr(hostport, ':');
	unsigned char tmp[sizeof(struct in6_addr)];
	char *host;
	int rc;

	if (colon == NULL || colon == hostport || colon[1] == '\0')
		return -1;
	if ((host = strndup(hostport, (size_t)(colon - hostport))) == NULL)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0 ||
	    res->ai_addrlen > sizeof(sh->addr)) {
		fprintf(stderr, "loadgen: %s: %s\n", hostport,
		    rc ? gai_strerror(rc) : "address too long");
		if (res)
			freeaddrinfo(res);
		free(host);
		return -1;
	}
	memcpy(&sh->addr, res->ai_addr, res->ai_addrlen);
	sh->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	sh->host = host;
	sh->host_is_ip = inet_pton(AF_INET, host, tmp) == 1 ||
	    inet_pton(AF_INET6, host, tmp) == 1;
	return 0;
}

static int
build_request(const struct opts *o, struct shared *sh)
{
	static const char *const paths[] = { "/token", "/token",
		"/.well-known/jwks.json", "/introspect", "/healthz" };
	const char *body = o->body, *path = o->path ? o->path :
	    paths[o->mode];
	int n;

	if (o->mode == MODE_JWKS || o->mode == MODE_PROBE) {
		n = snprintf(sh->req, sizeof(sh->req), "GET %s HTTP/1.1\r\n"
		    "Host: %s\r\n\r\n", path, o->connect);
	} else {
		if (body == NULL && o->mode == MODE_INTROSPECT) {
			fprintf(stderr, "loadgen: introspect needs --body "
			    "token=...\n");
			return -1;
		}
		if (body == NULL)
			body = "grant_type=client_credentials&"
			    "audience=inventory-service";
		n = snprintf(sh->req, sizeof(sh->req), "POST %s HTTP/1.1\r\n"
		    "Host: %s\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %zu\r\n%s\r\n%s", path, o->connect,
		    strlen(body), o->mode == MODE_TOKEN_NEW ?
		    "Connection: close\r\n" : "", body);
	}
	if (n < 0 || (size_t)n >= sizeof(sh->req)) {
		fprintf(stderr, "loadgen: request too long\n");
		return -1;
	}
	sh->req_len = (size_t)n;
	return 0;
}

static int
load_creds(const struct opts *o, struct shared *sh)
{
	int rc;

	if (gnutls_certificate_allocate_credentials(&sh->cred) < 0)
		return -1;
	if ((rc = gnutls_certificate_set_x509_trust_file(sh->cred, o->ca,
	    GNUTLS_X509_FMT_PEM)) <= 0) {
		fprintf(stderr, "loadgen: %s: %s\n", o->ca, rc < 0 ?
		    gnutls_strerror(rc) : "no certificates");
		return -1;
	}
	if (o->cert != NULL && (rc = gnutls_certificate_set_x509_key_file(
	    sh->cred, o->cert, o->key, GNUTLS_X509_FMT_PEM)) < 0) {
		fprintf(stderr, "loadgen: %s: %s\n", o->cert,
		    gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

/* --mode probe: how long until the server answers /healthz with 200? */
static int
probe(struct shared *sh, long secs, long long since_us)
{
	struct conn *c;
	struct resp r;
	struct timespec rt;
	uint64_t t0 = now_ns(), limit = (uint64_t)secs * 1000000000u;
	double ms;
	bool up = false;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return 1;
	/* Refused connections are expected until the server listens. */
	atomic_store(&sh->reported, LG_MAX_REPORTED_ERRORS);
	while (!up && now_ns() - t0 < limit) {
		if (conn_open(sh, c) != 0) {
			usleep(1000);
			continue;
		}
		up = exchange(sh, c, &r) == NULL && r.status == 200;
		conn_close(c);
		if (!up)
			usleep(1000);
	}
	ms = (double)(now_ns() - t0) / 1e6;
	if (since_us > 0) {
		clock_gettime(CLOCK_REALTIME, &rt);
		ms = (double)((long long)rt.tv_sec * 1000000 +
		    rt.tv_nsec / 1000 - since_us) / 1e3;
	}
	printf("{\"mode\":\"probe\",\"up\":%s,\"elapsed_ms\":%.3f}\n",
	    up ? "true" : "false", ms);
	free(c);
	return up ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static struct shared sh;
	struct worker *w;
	struct timespec start;
	struct opts o;
	int i, nw;

	parse_opts(argc, argv, &o);
	/* A peer that closed first must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	nw = (int)o.workers;
	sh.mode = o.mode;
	sh.expect = o.expect;
	if (resolve(o.connect, &sh) != 0 || build_request(&o, &sh) != 0 ||
	    load_creds(&o, &sh) != 0)
		return 1;
	if (sh.mode == MODE_PROBE) {
		i = probe(&sh, o.secs, o.since_us);
		gnutls_certificate_free_credentials(sh.cred);
		free((char *)sh.host);
		return i;
	}
	if ((w = calloc((size_t)nw, sizeof(*w))) == NULL)
		return 1;
	pthread_barrier_init(&sh.ready, NULL, (unsigned)nw + 1);
	pthread_barrier_init(&sh.go, NULL, (unsigned)nw + 1);
	for (i = 0; i < nw; i++) {
		w[i].sh = &sh;
		if (pthread_create(&w[i].tid, NULL, work, &w[i]) != 0) {
			fprintf(stderr, "loadgen: cannot start a thread\n");
			return 1;
		}
	}
	pthread_barrier_wait(&sh.ready);
	clock_gettime(CLOCK_MONOTONIC, &start);
	sh.deadline = start;
	sh.deadline.tv_sec += o.secs;
	pthread_barrier_wait(&sh.go);
	for (i = 0; i < nw; i++)
		pthread_join(w[i].tid, NULL);
	print_result(&sh, w, nw, &start);
	for (i = 0; i < nw; i++)
		free(w[i].lat_ns);
	free(w);
	gnutls_certificate_free_credentials(sh.cred);
	free((char *)sh.host);
	return 0;
}
