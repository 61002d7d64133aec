/*
 * authz: the authorization decision for a token request.  Given the
 * policy snapshot and who is asking (the certificate CN), for which
 * audience and scopes, it says whether to issue and what: the client's
 * name, the token's scopes and its lifetime.  No I/O: the HTTP layer
 * maps a decision to its status and OAuth error.
 */
#ifndef TSR_AUTHZ_H
#define TSR_AUTHZ_H

#include <stdint.h>

#include "policy.h"

enum tsr_authz_decision {
	TSR_AUTHZ_ALLOW,
	TSR_AUTHZ_UNKNOWN_CLIENT,	/* no client has this CN */
	TSR_AUTHZ_CLIENT_DISABLED,
	TSR_AUTHZ_AUDIENCE_DENIED,	/* no grant for this audience */
	TSR_AUTHZ_SCOPE_MALFORMED,	/* not RFC 6749 §3.3 scope syntax */
	TSR_AUTHZ_SCOPE_DENIED,		/* a scope the grant lacks */
};

struct tsr_authz_result {
	/* Set once the client is known, even when it is then refused, so
	 * that the audit trail names who was refused; "" otherwise. */
	char	client[TSR_POLICY_MAX_NAME + 1];
	/* On TSR_AUTHZ_ALLOW: sorted, deduplicated, space-separated. */
	char	scopes[TSR_MAX_SCOPES_TEXT + 1];
	int64_t	ttl_s;		/* min(grant's TTL, the server's) */
};

/*
 * Who is calling: TSR_AUTHZ_ALLOW when a client has this CN and is
 * enabled.  *client (may be NULL) gets the client whenever one has the CN
 * (borrowed from p), else NULL.
 */
enum tsr_authz_decision tsr_authz_identify(const struct tsr_policy *p,
    const char *cn, const struct tsr_client **client);

/*
 * The whole decision for a token request: the client behind cn, its
 * grant for audience, the scopes (scope is the requested space-separated
 * list, NULL when none was asked for: then every granted scope) and the
 * lifetime: the grant's TTL capped by server_ttl_s, whose value a grant
 * TTL of 0 means.  res is filled as far as the decision got.
 */
enum tsr_authz_decision tsr_authz_decide(const struct tsr_policy *p,
    const char *cn, const char *audience, const char *scope,
    int64_t server_ttl_s, struct tsr_authz_result *res);

/* Why, in words, for logs and the audit trail ("client disabled"...). */
const char *tsr_authz_why(enum tsr_authz_decision d);

#endif
