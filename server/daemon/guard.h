/*
 * guard: limits on connections that libmicrohttpd's idle timer and
 * per-address limit do not give.  A peer that sends one byte every few
 * seconds is never idle, so the TLS handshake and each request's headers
 * get an absolute deadline; past it the connection is shut down.  And a
 * connection that presented no client certificate counts against a lower
 * per-address limit than one that did.
 */
#ifndef TSR_SERVER_GUARD_H
#define TSR_SERVER_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct guard;
struct guard_conn;

/* headers_s: the deadline for handshake and headers; idle_s: the idle
 * timeout, added to it between keep-alive requests; max_anon: open
 * connections without a certificate per client address. */
struct guard *guard_create(unsigned headers_s, unsigned idle_s,
    unsigned max_anon);
/* After every connection has been removed. */
void guard_destroy(struct guard *g);

/* A new connection (socket fd, IPv4 address in network order); its
 * deadline starts now.  NULL when out of memory (the connection then
 * goes unguarded). */
struct guard_conn *guard_add(struct guard *g, int fd, uint32_t addr);
/* Before libmicrohttpd closes the socket. */
void guard_remove(struct guard *g, struct guard_conn *c);

/* A request's headers have arrived: the deadline is off.  anon: no
 * client certificate.  false when the address already has max_anon
 * other such connections: refuse it. */
bool guard_request(struct guard *g, struct guard_conn *c, bool anon);
/* A request is done: the next one's headers get a new deadline. */
void guard_request_done(struct guard *g, struct guard_conn *c);

#endif
