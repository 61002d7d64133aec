#include "authz.h"

#include <string.h>

enum tsr_authz_decision
tsr_authz_identify(const struct tsr_policy *p, const char *cn,
    const struct tsr_client **client)
{
	const struct tsr_client *c;

	c = tsr_policy_client_by_cn(p, cn, strlen(cn));
	if (client != NULL)
		*client = c;
	if (c == NULL)
		return TSR_AUTHZ_UNKNOWN_CLIENT;
	return c->enabled ? TSR_AUTHZ_ALLOW : TSR_AUTHZ_CLIENT_DISABLED;
}

/*
 * The requested scopes, each of which must be granted (RFC 6749 §3.3),
 * sorted and deduplicated into out.
 */
static enum tsr_authz_decision
resolve_scope(const struct tsr_grant *g, const char *req,
    char out[TSR_MAX_SCOPES_TEXT + 1])
{
	const char *list[TSR_POLICY_MAX_SCOPES];
	char buf[TSR_MAX_SCOPES_TEXT + 1], *p, *sp;
	size_t n = 0, len;

	if ((len = strlen(req)) == 0 || len >= sizeof(buf))
		return TSR_AUTHZ_SCOPE_MALFORMED;
	memcpy(buf, req, len + 1);
	/* scope = scope-token *( SP scope-token ): one space between. */
	for (p = buf; p != NULL; p = sp) {
		if ((sp = strchr(p, ' ')) != NULL)
			*sp++ = '\0';
		if (tsr_policy_check_scope(p, strlen(p), NULL) != TSR_OK ||
		    n >= TSR_POLICY_MAX_SCOPES)
			return TSR_AUTHZ_SCOPE_MALFORMED;
		if (!tsr_policy_grant_has_scope(g, p, strlen(p)))
			return TSR_AUTHZ_SCOPE_DENIED;
		list[n++] = p;
	}
	if (tsr_policy_scopes_join(list, n, out, NULL) != TSR_OK)
		return TSR_AUTHZ_SCOPE_MALFORMED;
	return TSR_AUTHZ_ALLOW;
}

enum tsr_authz_decision
tsr_authz_decide(const struct tsr_policy *p, const char *cn,
    const char *audience, const char *scope, int64_t server_ttl_s,
    struct tsr_authz_result *res)
{
	const struct tsr_client *c;
	const struct tsr_grant *g;
	enum tsr_authz_decision d;

	memset(res, 0, sizeof(*res));
	d = tsr_authz_identify(p, cn, &c);
	if (c != NULL)
		memcpy(res->client, c->name, strlen(c->name) + 1);
	if (d != TSR_AUTHZ_ALLOW)
		return d;
	if ((g = tsr_policy_grant(p, c->name, audience)) == NULL)
		return TSR_AUTHZ_AUDIENCE_DENIED;
	if (scope == NULL)
		memcpy(res->scopes, g->scopes, strlen(g->scopes) + 1);
	else if ((d = resolve_scope(g, scope, res->scopes)) !=
	    TSR_AUTHZ_ALLOW) {
		res->scopes[0] = '\0';
		return d;
	}
	/* A grant's TTL shortens the server's, never lengthens it. */
	res->ttl_s = g->ttl_s > 0 && g->ttl_s < server_ttl_s ? g->ttl_s :
	    server_ttl_s;
	return TSR_AUTHZ_ALLOW;
}

const char *
tsr_authz_why(enum tsr_authz_decision d)
{
	switch (d) {
	case TSR_AUTHZ_ALLOW:
		return "allowed";
	case TSR_AUTHZ_UNKNOWN_CLIENT:
		return "no client with this certificate CN";
	case TSR_AUTHZ_CLIENT_DISABLED:
		return "client disabled";
	case TSR_AUTHZ_AUDIENCE_DENIED:
		return "audience not granted";
	case TSR_AUTHZ_SCOPE_MALFORMED:
		return "malformed scope";
	case TSR_AUTHZ_SCOPE_DENIED:
		return "scope not granted";
	}
	return "refused";
}
