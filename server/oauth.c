#include "oauth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "form.h"
#include "policy.h"
#include "token.h"

#define OAUTH_MAX_SCOPES	TSR_POLICY_MAX_SCOPES

void
oauth_error(struct oauth_reply *rp, unsigned status, const char *code,
    const char *reason)
{
	json_t *doc = json_pack("{s:s}", "error", code);

	rp->status = status;
	rp->reason = reason;
	rp->body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	rp->body_len = rp->body ? strlen(rp->body) : 0;
	json_decref(doc);
}

/* application/x-www-form-urlencoded, parameters (charset) allowed. */
static bool
is_form_type(const char *ct)
{
	static const char want[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(want) - 1;

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/*
 * The scope of the token: every granted scope when none was asked for,
 * else the requested ones, each of which must be granted (RFC 6749 §3.3).
 * out is sorted and deduplicated.
 */
static bool
resolve_scope(const struct tsr_grant *g, const char *req,
    char out[TSR_STORE_MAX_SCOPES + 1], const char **reason)
{
	const char *list[OAUTH_MAX_SCOPES];
	char buf[TSR_STORE_MAX_SCOPES + 1], *p, *sp;
	size_t n = 0, len;

	if (req == NULL) {
		memcpy(out, g->scopes, strlen(g->scopes) + 1);
		return true;
	}
	*reason = "malformed scope";
	if ((len = strlen(req)) == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, req, len + 1);
	/* scope = scope-token *( SP scope-token ): one space between. */
	for (p = buf; p != NULL; p = sp) {
		if ((sp = strchr(p, ' ')) != NULL)
			*sp++ = '\0';
		if (tsr_policy_check_scope(p, strlen(p), NULL) != TSR_OK ||
		    n >= OAUTH_MAX_SCOPES)
			return false;
		if (!tsr_policy_grant_has_scope(g, p, strlen(p))) {
			*reason = "scope not granted";
			return false;
		}
		list[n++] = p;
	}
	return tsr_policy_scopes_join(list, n, out, NULL) == TSR_OK;
}

/* The client behind a verified certificate, if it may ask for tokens. */
static const struct tsr_client *
authenticate(const struct tsr_policy *pol, const struct oauth_request *rq,
    struct oauth_reply *rp)
{
	const struct tsr_client *c;

	if (!rq->peer_ok) {
		oauth_error(rp, 401, "invalid_client", rq->peer_reason);
		return NULL;
	}
	c = tsr_policy_client_by_cn(pol, rq->peer->cn, strlen(rq->peer->cn));
	if (c == NULL || !c->enabled) {
		oauth_error(rp, 401, "invalid_client", c == NULL ?
		    "no client with this certificate CN" : "client disabled");
		return NULL;
	}
	memcpy(rp->client, c->name, strlen(c->name) + 1);
	return c;
}

/* Content type, encoding, grant_type, audience: in SPEC order. */
static const char *
check_form(const struct oauth_request *rq, struct form *f,
    struct oauth_reply *rp)
{
	const char *why = NULL, *gt, *aud, *res;

	if (!is_form_type(rq->content_type)) {
		oauth_error(rp, 400, "invalid_request", "wrong content type");
		return NULL;
	}
	if (!form_parse(f, rq->body, rq->body_len, &why)) {
		oauth_error(rp, 400, "invalid_request", why);
		return NULL;
	}
	if ((gt = form_get(f, "grant_type")) == NULL) {
		oauth_error(rp, 400, "invalid_request", "grant_type missing");
		return NULL;
	}
	if (strcmp(gt, "client_credentials") != 0) {
		oauth_error(rp, 400, "unsupported_grant_type",
		    "grant_type not client_credentials");
		return NULL;
	}
	aud = form_get(f, "audience");
	res = form_get(f, "resource");	/* RFC 8707 name, a synonym */
	if ((aud != NULL && res != NULL) || (aud == NULL && res == NULL) ||
	    *(aud ? aud : res) == '\0') {
		oauth_error(rp, 400, "invalid_request", aud && res ?
		    "audience and resource together" : "audience missing");
		return NULL;
	}
	return aud ? aud : res;
}

/* The success body of RFC 6749 §5.1. */
static void
token_reply(struct oauth_reply *rp, const char *token, int64_t ttl_s,
    const char *scope)
{
	json_t *doc;

	doc = json_pack("{s:s,s:s,s:I}", "access_token", token, "token_type",
	    "Bearer", "expires_in", (json_int_t)ttl_s);
	if (doc != NULL && scope[0] != '\0')
		json_object_set_new(doc, "scope", json_string(scope));
	rp->body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (rp->body == NULL) {
		oauth_error(rp, 503, "temporarily_unavailable",
		    "out of memory");
		return;
	}
	rp->status = 200;
	rp->body_len = strlen(rp->body);
}

static void
mint(struct server *s, const struct tsr_client *c, const struct tsr_grant *g,
    const char *scope, const struct oauth_request *rq, struct oauth_reply *rp)
{
	struct snap *ks = snap_get(&s->keys);
	struct tsr_token_req tr;
	char *token = NULL;

	if (ks == NULL || !atomic_load(&s->db_ok)) {
		oauth_error(rp, 503, "temporarily_unavailable",
		    ks ? "database unreachable" : "no signing key");
		snap_put(ks);
		return;
	}
	memset(&tr, 0, sizeof(tr));
	tr.iss = s->cfg.issuer;
	tr.sub = c->name;
	tr.aud = g->audience;
	tr.scope = scope;
	tr.x5t = rq->peer->x5t;
	tr.iat = time(NULL);
	/* SPEC: exp = iat + min(grant's ttl, server's --token-ttl). */
	tr.ttl_s = g->ttl_s > 0 && g->ttl_s < s->cfg.token_ttl_s ? g->ttl_s :
	    s->cfg.token_ttl_s;
	if (tsr_token_mint(((struct keys_view *)snap_obj(ks))->kr ?
	    tsr_keyring_active(((struct keys_view *)snap_obj(ks))->kr) : NULL,
	    &tr, &token, NULL, rp->jti, NULL) != TSR_OK)
		oauth_error(rp, 503, "temporarily_unavailable",
		    "signing failed");
	else
		token_reply(rp, token, tr.ttl_s, scope);
	free(token);
	snap_put(ks);
}

void
oauth_token(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp)
{
	char scope[TSR_STORE_MAX_SCOPES + 1];
	struct snap *ps = snap_get(&s->policy);
	const struct tsr_policy *pol;
	const struct tsr_client *c;
	const struct tsr_grant *g;
	struct form *f = NULL;
	const char *aud;

	memset(rp, 0, sizeof(*rp));
	rp->no_store = true;
	if (ps == NULL || (f = malloc(sizeof(*f))) == NULL) {
		oauth_error(rp, 503, "temporarily_unavailable", "no policy");
		goto out;
	}
	pol = snap_obj(ps);
	if ((c = authenticate(pol, rq, rp)) == NULL ||
	    (aud = check_form(rq, f, rp)) == NULL)
		goto out;
	(void)snprintf(rp->audience, sizeof(rp->audience), "%s", aud);
	if ((g = tsr_policy_grant(pol, c->name, aud)) == NULL) {
		oauth_error(rp, 400, "invalid_target", "audience not granted");
		goto out;
	}
	if (!resolve_scope(g, form_get(f, "scope"), scope, &rp->reason)) {
		oauth_error(rp, 400, "invalid_scope", rp->reason);
		goto out;
	}
	mint(s, c, g, scope, rq, rp);
out:
	free(f);
	snap_put(ps);
}
