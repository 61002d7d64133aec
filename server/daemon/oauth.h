/*
 * oauth: the OAuth endpoints behind the HTTP layer.  They take a request
 * already reduced to its parts and fill a reply; they know no sockets.
 */
#ifndef TSR_DAEMON_OAUTH_H
#define TSR_DAEMON_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"
#include "tls.h"

struct oauth_request {
	const char		*content_type;	/* NULL when absent */
	const char		*body;
	size_t			 body_len;
	/* Client authentication by the TLS layer. */
	bool			 peer_ok;
	const struct tls_peer	*peer;
	const char		*peer_reason;	/* why peer_ok is false */
};

struct oauth_reply {
	unsigned	 status;
	char		*body;		/* malloc'd JSON; free() */
	size_t		 body_len;
	bool		 no_store;	/* Cache-Control: no-store */
	unsigned	 retry_after;	/* seconds, for 429, 503; 0: none */
	/* For the request log and audit trail. */
	char		 client[TSR_MAX_NAME + 1];
	char		 audience[TSR_MAX_NAME + 1];
	char		 jti[TSR_TOKEN_JTI_BUF];
	char		 kid[TSR_KEY_KID_BUF];
	char		 scope[TSR_MAX_SCOPES_TEXT + 1];
	const char	*outcome;	/* static: issued, denied, active... */
	const char	*error;		/* static: the OAuth error code */
	const char	*reason;	/* static: why a request was denied */
};

/* POST /token (RFC 6749 §4.4, RFC 8705): checks in the documented order. */
void oauth_token(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp);

/* POST /revoke (RFC 7009): a client revokes one of its own tokens. */
void oauth_revoke(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp);

/* POST /introspect (RFC 7662): a resource server asks about a token
 * meant for it. */
void oauth_introspect(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp);

/* Fill rp with {"error":code} and status; reason goes to the logs. */
void oauth_error(struct oauth_reply *rp, unsigned status, const char *code,
    const char *reason);

#endif
