/*
 * http: the HTTPS listener (libmicrohttpd over GnuTLS) and routing.
 *
 * TLS 1.2 and 1.3 only.  The server asks for a client certificate without
 * requiring one, so JWKS, discovery and health stay public; /token checks
 * the certificate itself.  A daemon is bound to one set of TLS
 * credentials: a reload starts a new daemon on the same listening socket
 * and lets the old one finish the connections it has.
 */
#ifndef TSR_DAEMON_HTTP_H
#define TSR_DAEMON_HTTP_H

#include "server.h"
#include "tls.h"

struct http;

/*
 * Start serving with creds on the listening socket listen_fd (possibly
 * shared with a daemon being replaced).  Returns NULL after logging why.
 */
struct http *http_start(struct server *s, const struct tls_creds *creds,
    int listen_fd);

/* The listening socket. */
int http_listen_fd(struct http *h);

/* Stop accepting and return the listening socket for a successor. */
int http_quiesce(struct http *h);

/* Connections still open on h. */
unsigned http_connections(struct http *h);

/* Stop h, closing whatever connections remain; NULL-safe. */
void http_stop(struct http *h);

/* The port actually bound (for --listen with port 0). */
unsigned http_port(struct http *h);

#endif
