/*
 * estc: the small HTTPS client of `tessera agent`.  One request per
 * connection (HTTP/1.1, "Connection: close"), over TLS 1.2 or later with
 * GnuTLS: the server's certificate must chain to the given CA bundle and
 * name the URL's host; the client presents its certificate and key
 * (mutual TLS).  Responses are bounded (ESTC_MAX_RESPONSE) and must carry
 * a Content-Length or end with the connection; every wait is bounded by
 * a deadline and ends early when *stop becomes nonzero.
 */
#ifndef TSR_CLI_ESTC_H
#define TSR_CLI_ESTC_H

#include <signal.h>
#include <stddef.h>

#define ESTC_MAX_RESPONSE	65536	/* status line, headers and body */
#define ESTC_MAX_HOST		255
#define ESTC_MAX_PATH		1024
#define ESTC_TIMEOUT_MS		30000	/* one whole request */

/* https://HOST[:PORT][/PREFIX] split up. */
struct estc_url {
	char	host[ESTC_MAX_HOST + 1];	/* brackets of [v6] removed */
	char	port[8];
	char	prefix[ESTC_MAX_PATH];		/* "" or "/...", no trailing / */
	int	host_is_ip;
};

/* What a request needs besides its method, path and body. */
struct estc_conf {
	const struct estc_url	*url;
	const char		*ca_file;	/* trusted for the server */
	const char		*cert_pem;	/* client certificate (chain) */
	size_t			 cert_len;
	const char		*key_pem;	/* its private key */
	size_t			 key_len;
	const sigset_t		*wait_mask;	/* signals let in while waiting */
	volatile sig_atomic_t	*stop;		/* nonzero: give up now */
	int			 timeout_ms;	/* 0: ESTC_TIMEOUT_MS */
};

struct estc_response {
	int	 status;			/* 200, 401... */
	char	 content_type[128];
	char	*body;				/* malloc'd, NUL-terminated */
	size_t	 body_len;
};

/* 0, or -1 with a line in err: only https, a host, an optional port
 * 1..65535 and path, no query, fragment or user. */
int estc_url_parse(const char *text, struct estc_url *u, char *err,
    size_t err_len);

/*
 * Parse the HTTP/1.x response received so far, buf[0..len); ended says
 * the connection has ended.  Fills r (body malloc'd) and returns 0 once
 * the response is whole (Content-Length bytes, or the connection ended
 * without one), 1 when more bytes are needed, or -1 with a line in err
 * (malformed, cut short, chunked).
 */
int estc_parse_response(const char *buf, size_t len, int ended,
    struct estc_response *r, char *err, size_t err_len);

/*
 * One request: method path (appended to the URL's prefix) with body of
 * content_type (both NULL for none).  0 with r filled (any status), or -1
 * with a line in err (connection, TLS, verification, timeout, a
 * malformed or oversized answer, or *stop).
 */
int estc_request(const struct estc_conf *c, const char *method,
    const char *path, const char *content_type, const char *body,
    size_t body_len, struct estc_response *r, char *err, size_t err_len);

void estc_response_free(struct estc_response *r);

#endif
