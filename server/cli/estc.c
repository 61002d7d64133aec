#include "estc.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define ESTC_MAX_HEAD	4096	/* request line and headers we send */

/* One request's connection and where it stands. */
struct estc_conn {
	const struct estc_conf	*c;
	int			 fd;
	int64_t			 deadline_ms;	/* CLOCK_MONOTONIC */
	gnutls_session_t	 s;
	gnutls_certificate_credentials_t cred;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
split_port(const char *p, struct estc_url *u, char *err, size_t err_len)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(p, &end, 10);
	if (*p < '0' || *p > '9' || errno != 0 || *end != '\0' || v < 1 ||
	    v > 65535) {
		snprintf(err, err_len, "--server: bad port \"%.8s\"", p);
		return -1;
	}
	(void)snprintf(u->port, sizeof(u->port), "%ld", v);
	return 0;
}

/* host[:port] or [v6][:port], in authority (NUL-terminated). */
static int
split_authority(char *a, struct estc_url *u, char *err, size_t err_len)
{
	char *colon = NULL, *host = a, *end;
	unsigned char ip[16];

	if (*a == '[') {
		if ((end = strchr(a, ']')) == NULL)
			goto bad;
		*end = '\0';
		host = a + 1;
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0')
			goto bad;
	} else if ((colon = strchr(a, ':')) != NULL)
		*colon = '\0';
	if (*host == '\0' || strlen(host) > ESTC_MAX_HOST ||
	    strcspn(host, "@ \t\r\n") != strlen(host))
		goto bad;
	(void)snprintf(u->host, sizeof(u->host), "%s", host);
	u->host_is_ip = inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
	if (*a == '[' && !u->host_is_ip)
		goto bad;
	if (colon == NULL) {
		(void)snprintf(u->port, sizeof(u->port), "443");
		return 0;
	}
	return split_port(colon + 1, u, err, err_len);
bad:
	snprintf(err, err_len, "--server: bad host in the URL");
	return -1;
}

int
estc_url_parse(const char *text, struct estc_url *u, char *err,
    size_t err_len)
{
	char buf[ESTC_MAX_HOST + 16];
	const char *rest, *slash;
	size_t alen, plen;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(text, "https://", 8) != 0) {
		snprintf(err, err_len, "--server must be an https:// URL");
		return -1;
	}
	rest = text + 8;
	slash = strchr(rest, '/');
	alen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (alen == 0 || alen >= sizeof(buf)) {
		snprintf(err, err_len, "--server: bad host in the URL");
		return -1;
	}
	memcpy(buf, rest, alen);
	buf[alen] = '\0';
	if (split_authority(buf, u, err, err_len) != 0)
		return -1;
	if (slash == NULL)
		return 0;
	plen = strlen(slash);
	while (plen > 0 && slash[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(u->prefix) || strcspn(slash, "?# \t\r\n") !=
	    strlen(slash)) {
		snprintf(err, err_len, "--server: the URL may only have a "
		    "path, without a query or fragment");
		return -1;
	}
	memcpy(u->prefix, slash, plen);
	u->prefix[plen] = '\0';
	return 0;
}

/* Milliseconds left, at least 0. */
static int
left_ms(const struct estc_conn *k)
{
	int64_t d = k->deadline_ms - now_ms();

	return d < 0 ? 0 : d > INT32_MAX ? INT32_MAX : (int)d;
}

/* Wait for events on the socket, letting in the signals of wait_mask.
 * 1 ready, 0 timed out, -1 error or stopped (errno EINTR). */
static int
wait_fd(struct estc_conn *k, short events, int ms)
{
	struct pollfd p = { .fd = k->fd, .events = events };
	struct timespec ts;
	int n;

	for (;;) {
		if (*k->c->stop) {
			errno = EINTR;
			return -1;
		}
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		n = ppoll(&p, 1, &ts, k->c->wait_mask);
		if (n >= 0)
			return n > 0 ? 1 : 0;
		if (errno != EINTR)
			return -1;
		ms = left_ms(k);
	}
}

/* GnuTLS waits for data through this: the deadline and *stop apply. */
static int
pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct estc_conn *k = ptr;
	int left = left_ms(k);

	(void)ms;	/* our own deadline rules */
	return wait_fd(k, POLLIN, left);
}

static ssize_t
pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct estc_conn *k = ptr;
	ssize_t n;
	int w;

	while ((n = recv(k->fd, data, len, 0)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if ((w = wait_fd(k, POLLIN, left_ms(k))) != 1) {
			if (w == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return n;
}

static ssize_t
push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct estc_conn *k = ptr;
	ssize_t n;

	int w;

	while ((n = send(k->fd, data, len, MSG_NOSIGNAL)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if ((w = wait_fd(k, POLLOUT, left_ms(k))) != 1) {
			if (w == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return n;
}

/* A non-blocking connect to one address, within the deadline. */
static int
connect_one(struct estc_conn *k, const struct addrinfo *ai)
{
	socklen_t sl = sizeof(int);
	int soerr = 0;

	if ((k->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol)) == -1)
		return -1;
	if (connect(k->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno == EINPROGRESS && wait_fd(k, POLLOUT, left_ms(k)) == 1 &&
	    getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
	    soerr == 0)
		return 0;
	if (soerr != 0)
		errno = soerr;
	else if (errno != EINTR)
		errno = ETIMEDOUT;
	(void)close(k->fd);
	k->fd = -1;
	return -1;
}

static int
connect_tcp(struct estc_conn *k, char *err, size_t err_len)
{
	const struct estc_url *u = k->c->url;
	struct addrinfo hints, *res = NULL, *ai;
	int rc, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
		snprintf(err, err_len, "%s: %s", u->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && !*k->c->stop; ai = ai->ai_next) {
		if (connect_one(k, ai) == 0)
			break;
		saved = errno;
	}
	freeaddrinfo(res);
	if (k->fd == -1) {
		snprintf(err, err_len, "connect to %s port %s: %s", u->host,
		    u->port, *k->c->stop ? "interrupted" : strerror(saved));
		return -1;
	}
	return 0;
}

static int
tls_fail(const char *what, int ret, char *err, size_t err_len)
{
	snprintf(err, err_len, "TLS: %s: %s", what, gnutls_strerror(ret));
	return -1;
}

/* Credentials: the CA bundle to verify the server, our certificate. */
static int
tls_creds(struct estc_conn *k, char *err, size_t err_len)
{
	const struct estc_conf *c = k->c;
	gnutls_datum_t cert = { (unsigned char *)c->cert_pem,
		(unsigned)c->cert_len };
	gnutls_datum_t key = { (unsigned char *)c->key_pem,
		(unsigned)c->key_len };
	int ret;

	if ((ret = gnutls_certificate_allocate_credentials(&k->cred)) < 0)
		return tls_fail("credentials", ret, err, err_len);
	if ((ret = gnutls_certificate_set_x509_trust_file(k->cred,
	    c->ca_file, GNUTLS_X509_FMT_PEM)) <= 0) {
		snprintf(err, err_len, "--ca %s: %s", c->ca_file, ret < 0 ?
		    gnutls_strerror(ret) : "no certificate in the file");
		return -1;
	}
	if ((ret = gnutls_certificate_set_x509_key_mem2(k->cred, &cert, &key,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
		return tls_fail("client certificate and key", ret, err,
		    err_len);
	return 0;
}

static int
tls_open(struct estc_conn *k, char *err, size_t err_len)
{
	const struct estc_url *u = k->c->url;
	int ret;

	if (tls_creds(k, err, err_len) != 0)
		return -1;
	if ((ret = gnutls_init(&k->s, GNUTLS_CLIENT)) < 0)
		return tls_fail("init", ret, err, err_len);
	if ((ret = gnutls_set_default_priority_append(k->s,
	    "-VERS-TLS1.1:-VERS-TLS1.0", NULL, 0)) < 0 ||
	    (ret = gnutls_credentials_set(k->s, GNUTLS_CRD_CERTIFICATE,
	    k->cred)) < 0)
		return tls_fail("session", ret, err, err_len);
	/* A name, not an address, goes into SNI (RFC 6066 §3). */
	if (!u->host_is_ip && (ret = gnutls_server_name_set(k->s,
	    GNUTLS_NAME_DNS, u->host, strlen(u->host))) < 0)
		return tls_fail("server name", ret, err, err_len);
	/* The chain to the CA bundle and the host name (or address). */
	gnutls_session_set_verify_cert(k->s, u->host, 0);
	gnutls_transport_set_ptr(k->s, k);
	gnutls_transport_set_pull_function(k->s, pull);
	gnutls_transport_set_push_function(k->s, push);
	gnutls_transport_set_pull_timeout_function(k->s, pull_timeout);
	return 0;
}

static int
tls_handshake(struct estc_conn *k, char *err, size_t err_len)
{
	gnutls_datum_t out = { NULL, 0 };
	unsigned status;
	int ret;

	do {
		ret = gnutls_handshake(k->s);
	} while (ret == GNUTLS_E_AGAIN || (ret == GNUTLS_E_INTERRUPTED &&
	    !*k->c->stop));
	if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		status = gnutls_session_get_verify_cert_status(k->s);
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0) {
			snprintf(err, err_len, "the server's certificate: %s",
			    (char *)out.data);
			gnutls_free(out.data);
			return -1;
		}
	}
	if (ret < 0)
		return tls_fail(*k->c->stop ? "interrupted" : "handshake",
		    ret, err, err_len);
	return 0;
}

static int
send_all(struct estc_conn *k, const char *p, size_t len, char *err,
    size_t err_len)
{
	ssize_t n;

	while (len > 0) {
		n = gnutls_record_send(k->s, p, len);
		if (n == GNUTLS_E_AGAIN || (n == GNUTLS_E_INTERRUPTED &&
		    !*k->c->stop))
			continue;
		if (n < 0)
			return tls_fail("send", (int)n, err, err_len);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
send_request(struct estc_conn *k, const char *method, const char *path,
    const char *type, const char *body, size_t body_len, char *err,
    size_t err_len)
{
	const struct estc_url *u = k->c->url;
	char head[ESTC_MAX_HEAD], hostport[ESTC_MAX_HOST + 16];
	int n;

	n = snprintf(hostport, sizeof(hostport), u->host_is_ip &&
	    strchr(u->host, ':') ? "[%s]%s%s" : "%s%s%s", u->host,
	    strcmp(u->port, "443") == 0 ? "" : ":",
	    strcmp(u->port, "443") == 0 ? "" : u->port);
	if (n < 0 || (size_t)n >= sizeof(hostport))
		return -1;
	n = snprintf(head, sizeof(head), "%s %s%s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: tessera-agent/%s\r\nAccept: */*\r\n"
	    "Connection: close\r\n", method, u->prefix, path, hostport,
	    TSR_VERSION);
	if (n > 0 && (size_t)n < sizeof(head) && type != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Type: %s\r\nContent-Length: %zu\r\n", type,
		    body_len);
	if (n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		snprintf(err, err_len, "request too long");
		return -1;
	}
	if (send_all(k, head, (size_t)n, err, err_len) != 0)
		return -1;
	return body != NULL ? send_all(k, body, body_len, err, err_len) : 0;
}

/* Read until the response is whole, the peer closes or the bound. */
static int
read_response(struct estc_conn *k, struct estc_response *r, char *err,
    size_t err_len)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int rc = -1, eof = 0;

	if ((buf = malloc(ESTC_MAX_RESPONSE + 1)) == NULL)
		return -1;
	for (;;) {
		n = gnutls_record_recv(k->s, buf + len,
		    ESTC_MAX_RESPONSE + 1 - len);
		if (n == GNUTLS_E_AGAIN || (n == GNUTLS_E_INTERRUPTED &&
		    !*k->c->stop))
			continue;
		/* Many servers close without close_notify; the length
		 * check below still catches a cut response. */
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
			eof = 1;
		else if (n < 0) {
			tls_fail(n == GNUTLS_E_PULL_ERROR && left_ms(k) == 0 ?
			    "timed out" : "receive", (int)n, err, err_len);
			break;
		} else if ((len += (size_t)n) > ESTC_MAX_RESPONSE) {
			snprintf(err, err_len, "response over %d bytes",
			    ESTC_MAX_RESPONSE);
			break;
		}
		buf[len] = '\0';
		if ((rc = estc_parse_response(buf, len, eof, r, err,
		    err_len)) != 1)
			break;
		rc = -1;
	}
	free(buf);
	return rc;
}

static void
conn_close(struct estc_conn *k)
{
	if (k->s != NULL) {
		gnutls_deinit(k->s);
		k->s = NULL;
	}
	if (k->cred != NULL) {
		gnutls_certificate_free_credentials(k->cred);
		k->cred = NULL;
	}
	if (k->fd != -1)
		(void)close(k->fd);
	k->fd = -1;
}

int
estc_request(const struct estc_conf *c, const char *method, const char *path,
    const char *content_type, const char *body, size_t body_len,
    struct estc_response *r, char *err, size_t err_len)
{
	struct estc_conn k = { .c = c, .fd = -1 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	k.deadline_ms = now_ms() + (c->timeout_ms > 0 ? c->timeout_ms :
	    ESTC_TIMEOUT_MS);
	if (connect_tcp(&k, err, err_len) == 0 &&
	    tls_open(&k, err, err_len) == 0 &&
	    tls_handshake(&k, err, err_len) == 0 &&
	    send_request(&k, method, path, content_type, body, body_len, err,
	    err_len) == 0 &&
	    read_response(&k, r, err, err_len) == 0)
		rc = 0;
	if (rc == 0)
		(void)gnutls_bye(k.s, GNUTLS_SHUT_WR);
	conn_close(&k);
	return rc;
}

void
estc_response_free(struct estc_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The value of header name in head[0..len) (one line each, CRLF), or
 * NULL; its length in *vlen, surrounding blanks trimmed. */
static const char *
header(const char *head, size_t len, const char *name, size_t *vlen)
{
	const char *p = head, *end = head + len, *eol, *v;
	size_t nlen = strlen(name);

	while (p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			while (*vlen > 0 && (v[*vlen - 1] == '\r' ||
			    v[*vlen - 1] == ' ' || v[*vlen - 1] == '\t'))
				(*vlen)--;
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

/* "HTTP/1.x NNN ...": the status, or -1. */
static int
status_line(const char *buf, size_t len)
{
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' ||
	    buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9')
		return -1;
	return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}

/* Content-Length: digits only, at most the bound; -1 otherwise. */
static long
content_length(const char *v, size_t vlen)
{
	long n = 0;
	size_t i;

	if (vlen == 0 || vlen > 9)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return n > ESTC_MAX_RESPONSE ? -1 : n;
}

/* Copy the body and the Content-Type into r. */
static int
take_body(const char *head, size_t hlen, const char *body, size_t blen,
    struct estc_response *r)
{
	const char *v;
	size_t vlen;

	if ((v = header(head, hlen, "Content-Type", &vlen)) != NULL &&
	    vlen < sizeof(r->content_type)) {
		memcpy(r->content_type, v, vlen);
		r->content_type[vlen] = '\0';
	}
	if ((r->body = malloc(blen + 1)) == NULL)
		return -1;
	memcpy(r->body, body, blen);
	r->body[blen] = '\0';
	r->body_len = blen;
	return 0;
}

int
estc_parse_response(const char *buf, size_t len, int ended,
    struct estc_response *r, char *err, size_t err_len)
{
	const char *hend, *v;
	size_t hlen, blen, vlen;
	long clen = -1;

	memset(r, 0, sizeof(*r));
	if (len >= 12 && (r->status = status_line(buf, len)) < 0) {
		snprintf(err, err_len, "not an HTTP/1.x response");
		return -1;
	}
	if ((hend = memmem(buf, len, "\r\n\r\n", 4)) == NULL) {
		if (!ended)
			return 1;
		snprintf(err, err_len, "response cut short");
		return -1;
	}
	if (len < 12) {
		snprintf(err, err_len, "not an HTTP/1.x response");
		return -1;
	}
	hlen = (size_t)(hend - buf) + 2;	/* through the last CRLF */
	blen = len - hlen - 2;
	if ((v = header(buf, hlen, "Transfer-Encoding", &vlen)) != NULL &&
	    !(vlen == 8 && strncasecmp(v, "identity", 8) == 0)) {
		snprintf(err, err_len, "unsupported Transfer-Encoding");
		return -1;
	}
	if ((v = header(buf, hlen, "Content-Length", &vlen)) != NULL &&
	    (clen = content_length(v, vlen)) < 0) {
		snprintf(err, err_len, "bad Content-Length");
		return -1;
	}
	if (clen >= 0 && blen > (size_t)clen) {
		snprintf(err, err_len, "more body than its Content-Length");
		return -1;
	}
	/* Without a length, the body ends with the connection. */
	if ((clen >= 0 && blen < (size_t)clen) || (clen < 0 && !ended)) {
		if (!ended)
			return 1;
		snprintf(err, err_len, "response cut short");
		return -1;
	}
	if (take_body(buf, hlen, hend + 4, blen, r) != 0) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}
