/*
 * est: the CA's endpoints (README, "Service certificates"): EST
 * (RFC 7030) cacerts, simpleenroll with a one-time secret over HTTP
 * Basic, simplereenroll over mTLS with the current certificate; and the
 * CRL.  http.c routes here; this module answers.
 */
#ifndef TSR_DAEMON_EST_H
#define TSR_DAEMON_EST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "tls.h"

struct server;

struct est_call {
	const char		*authorization;	/* header, or NULL */
	const char		*body;
	size_t			 body_len;
	const struct tls_peer	*peer;
	bool			 peer_ok;
	const char		*peer_reason;
	const char		*address;	/* for the audit trail */
};

struct est_answer {
	unsigned	 status;
	char		*body;			/* malloc'd */
	size_t		 body_len;
	const char	*content_type;
	bool		 base64;		/* Content-Transfer-Encoding */
	bool		 challenge;		/* WWW-Authenticate: Basic */
	char		 client[TSR_MAX_NAME + 1];
};

/* GET /.well-known/est/cacerts and GET /crl (pem: ?pem). */
void est_cacerts(struct server *s, struct est_answer *a);
void est_crl(struct server *s, bool pem, struct est_answer *a);

/* POST /.well-known/est/simpleenroll (reenroll false) and
 * simplereenroll (true).  Audited. */
void est_enroll(struct server *s, const struct est_call *c, bool reenroll,
    struct est_answer *a);

#endif
