#include "oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"
#include "authz.h"
#include "denylist.h"
#include "form.h"
#include "policy.h"
#include "token.h"

void
oauth_error(struct oauth_reply *rp, unsigned status, const char *code,
    const char *reason)
{
	json_t *doc = json_pack("{s:s}", "error", code);

	rp->status = status;
	rp->reason = reason;
	rp->error = code;
	rp->outcome = "denied";
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

/* The client behind a verified certificate, if it may ask for tokens. */
static const struct tsr_client *
authenticate(const struct tsr_policy *pol, const struct oauth_request *rq,
    struct oauth_reply *rp)
{
	const struct tsr_client *c;
	enum tsr_authz_decision d;

	if (!rq->peer_ok) {
		oauth_error(rp, 401, "invalid_client", rq->peer_reason);
		return NULL;
	}
	d = tsr_authz_identify(pol, rq->peer->cn, &c);
	/* Known even when disabled: the audit trail names who was refused. */
	if (c != NULL)
		memcpy(rp->client, c->name, strlen(c->name) + 1);
	if (d != TSR_AUTHZ_ALLOW) {
		oauth_error(rp, 401, "invalid_client", tsr_authz_why(d));
		return NULL;
	}
	return c;
}

/* --rate-limit: a client over its rate waits; others are unaffected. */
static bool
within_rate(struct server *s, const struct tsr_client *c,
    struct oauth_reply *rp)
{
	struct timespec ts;

	if (s->ratelimit == NULL)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ratelimit_allow(s->ratelimit, c->name, (double)ts.tv_sec +
	    (double)ts.tv_nsec / 1e9))
		return true;
	oauth_error(rp, 429, "rate_limited", "client over its rate limit");
	rp->retry_after = 1;
	return false;
}

/* Content type and encoding of a form body. */
static bool
parse_form(const struct oauth_request *rq, struct form *f,
    struct oauth_reply *rp)
{
	const char *why = NULL;

	if (!is_form_type(rq->content_type)) {
		oauth_error(rp, 400, "invalid_request", "wrong content type");
		return false;
	}
	if (!form_parse(f, rq->body, rq->body_len, &why)) {
		oauth_error(rp, 400, "invalid_request", why);
		return false;
	}
	return true;
}

/* Content type, encoding, grant_type, audience: in the documented order. */
static const char *
check_form(const struct oauth_request *rq, struct form *f,
    struct oauth_reply *rp)
{
	const char *gt, *aud, *res;

	if (!parse_form(rq, f, rp))
		return NULL;
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

/* A 200 whose body is doc (consumed) plus "scope" unless it is empty;
 * a 503 when memory ran out.  True on success. */
static bool
json_reply(struct oauth_reply *rp, json_t *doc, const char *scope,
    const char *outcome)
{
	if (doc != NULL && scope[0] != '\0')
		json_object_set_new(doc, "scope", json_string(scope));
	rp->body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (rp->body == NULL) {
		oauth_error(rp, 503, "temporarily_unavailable",
		    "out of memory");
		return false;
	}
	rp->status = 200;
	rp->body_len = strlen(rp->body);
	rp->outcome = outcome;
	return true;
}

/* The success body of RFC 6749 §5.1. */
static void
token_reply(struct oauth_reply *rp, const char *token, int64_t ttl_s,
    const char *scope)
{
	json_t *doc;

	doc = json_pack("{s:s,s:s,s:I}", "access_token", token, "token_type",
	    "Bearer", "expires_in", (json_int_t)ttl_s);
	if (json_reply(rp, doc, scope, "issued"))
		tsr_audit_set(rp->scope, sizeof(rp->scope), scope);
}

static void
mint(struct server *s, const struct tsr_authz_result *az, const char *aud,
    const struct oauth_request *rq, struct oauth_reply *rp)
{
	const struct daemon_config *cfg = server_config(s);
	const struct keys_view *kv;
	const struct tsr_key *key;
	struct tsr_token_req tr;
	struct snap *ks;
	char *token = NULL;

	kv = server_keys_acquire(s, &ks);
	if (kv == NULL || !atomic_load(&s->db_ok)) {
		oauth_error(rp, 503, "temporarily_unavailable",
		    kv ? "database unreachable" : "no signing key");
		server_release(ks);
		return;
	}
	memset(&tr, 0, sizeof(tr));
	tr.iss = cfg->issuer;
	tr.sub = az->client;
	tr.aud = aud;
	tr.scope = az->scopes;
	tr.x5t = rq->peer->x5t;
	tr.iat = time(NULL);
	tr.ttl_s = az->ttl_s;
	key = tsr_keyring_active(kv->kr);
	tsr_audit_set(rp->kid, sizeof(rp->kid), tsr_key_kid(key));
	if (tsr_token_mint(key, &tr, &token, NULL, rp->jti, NULL) != TSR_OK)
		oauth_error(rp, 503, "temporarily_unavailable",
		    "signing failed");
	else
		token_reply(rp, token, tr.ttl_s, az->scopes);
	free(token);
	server_release(ks);
}

/* The policy's answer as an OAuth error, or NULL to issue. */
static const char *
refusal(enum tsr_authz_decision d, unsigned *status)
{
	*status = 400;
	switch (d) {
	case TSR_AUTHZ_ALLOW:
		return NULL;
	case TSR_AUTHZ_UNKNOWN_CLIENT:
	case TSR_AUTHZ_CLIENT_DISABLED:
		*status = 401;
		return "invalid_client";
	case TSR_AUTHZ_AUDIENCE_DENIED:
		return "invalid_target";
	case TSR_AUTHZ_SCOPE_MALFORMED:
	case TSR_AUTHZ_SCOPE_DENIED:
		return "invalid_scope";
	}
	return "invalid_request";
}

void
oauth_token(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp)
{
	struct tsr_authz_result az;
	enum tsr_authz_decision d;
	const struct tsr_policy *pol;
	const struct tsr_client *c;
	struct form *f = NULL;
	const char *aud, *code;
	struct snap *ps;
	unsigned status;

	memset(rp, 0, sizeof(*rp));
	rp->no_store = true;
	pol = server_policy_acquire(s, &ps);
	if (pol == NULL || (f = malloc(sizeof(*f))) == NULL) {
		oauth_error(rp, 503, "temporarily_unavailable", "no policy");
		goto out;
	}
	if ((c = authenticate(pol, rq, rp)) == NULL ||
	    !within_rate(s, c, rp) || (aud = check_form(rq, f, rp)) == NULL)
		goto out;
	(void)snprintf(rp->audience, sizeof(rp->audience), "%s", aud);
	d = tsr_authz_decide(pol, rq->peer->cn, aud, form_get(f, "scope"),
	    server_config(s)->token_ttl_s, &az);
	if ((code = refusal(d, &status)) != NULL)
		oauth_error(rp, status, code, tsr_authz_why(d));
	else
		mint(s, &az, aud, rq, rp);
out:
	free(f);
	server_release(ps);
}

/* The one `token` parameter of /revoke and /introspect (RFC 7009 §2.1,
 * RFC 7662 §2.1); token_type_hint is ignored. */
static const char *
token_param(const struct oauth_request *rq, struct form *f,
    struct oauth_reply *rp)
{
	const char *t;

	if (!parse_form(rq, f, rp))
		return NULL;
	if ((t = form_get(f, "token")) == NULL || *t == '\0') {
		oauth_error(rp, 400, "invalid_request", "token missing");
		return NULL;
	}
	return t;
}

static const struct tsr_key *
find_published(void *arg, const char *kid)
{
	return tsr_keyring_find(arg, kid);
}

/* Check a presented token against the published keys and our issuer. */
static enum tsr_token_verdict
check_token(struct server *s, const char *token, int64_t now,
    struct tsr_token_claims *c)
{
	const struct daemon_config *cfg = server_config(s);
	enum tsr_token_verdict v = TSR_TOKEN_UNKNOWN_KID;
	const struct keys_view *kv;
	struct snap *ks;

	if ((kv = server_keys_acquire(s, &ks)) != NULL)
		v = tsr_token_check(token, strlen(token), find_published,
		    kv->kr, cfg->issuer, now, cfg->clock_skew_s, c);
	server_release(ks);
	return v;
}

/* Did the token's signature verify against a published key?  Only then
 * are its claims ours and fit for the audit trail: a forged token's
 * claims say whatever its author wants. */
static bool
signature_verified(enum tsr_token_verdict v)
{
	return v == TSR_TOKEN_VALID || v == TSR_TOKEN_WRONG_ISS ||
	    v == TSR_TOKEN_NOT_YET_VALID || v == TSR_TOKEN_EXPIRED;
}

/* Is the token on the deny-list?  *why gets the reason for the audit. */
static bool
is_revoked(struct server *s, const struct tsr_token_claims *c,
    const char **why)
{
	const struct tsr_revocation *m = NULL;
	const struct tsr_denylist *dl;
	struct snap *ds;
	bool hit = false;

	if ((dl = server_deny_acquire(s, &ds)) != NULL)
		hit = tsr_denylist_match(dl, c->jti, c->sub, c->iat, &m);
	if (hit)
		*why = m->kind == TSR_REVKIND_TOKEN ? "token revoked" :
		    "issued before its client's revocation";
	server_release(ds);
	return hit;
}

static void
empty_reply(struct oauth_reply *rp, unsigned status)
{
	rp->status = status;
	rp->body = strdup("");
	rp->body_len = 0;
}

/* Put a caller's own live token on the deny-list until its exp. */
static void
deny_token(struct server *s, const struct tsr_token_claims *c,
    struct oauth_reply *rp)
{
	struct tsr_revocation r;

	memset(&r, 0, sizeof(r));
	r.kind = TSR_REVKIND_TOKEN;
	memcpy(r.jti, c->jti, sizeof(c->jti));
	memcpy(r.client, c->sub, sizeof(c->sub));
	(void)snprintf(r.reason, sizeof(r.reason), "revoked by %s", c->sub);
	r.revoked_at = time(NULL);
	r.expires_at = c->exp;		/* server_revoke adds the skew */
	if (server_revoke(s, &r) != 0) {
		oauth_error(rp, 503, "temporarily_unavailable",
		    "cannot write the deny-list");
		return;
	}
	rp->reason = "token revoked";
	rp->outcome = "revoked";
	empty_reply(rp, 200);
}

/* Revoke a caller's token: only its own, and silently nothing for a
 * token that is not valid (RFC 7009 §2.2). */
static void
revoke_token(struct server *s, const struct tsr_client *cl,
    const char *token, struct oauth_reply *rp)
{
	struct tsr_token_claims c;
	enum tsr_token_verdict v;

	v = check_token(s, token, time(NULL), &c);
	if (signature_verified(v))
		memcpy(rp->jti, c.jti, sizeof(rp->jti));
	if (v != TSR_TOKEN_VALID) {
		rp->reason = "invalid or expired token: nothing to revoke";
		rp->outcome = "ignored";
		empty_reply(rp, 200);
	} else if (strcmp(c.sub, cl->name) != 0) {
		oauth_error(rp, 400, "invalid_request",
		    "token belongs to another client");
	} else {
		deny_token(s, &c, rp);
	}
}

typedef void (*token_fn)(struct server *, const struct tsr_client *,
    const char *, struct oauth_reply *);

/* /revoke and /introspect: authenticate, read `token`, then act. */
static void
token_endpoint(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp, token_fn act)
{
	const struct tsr_policy *pol;
	const struct tsr_client *cl;
	struct form *f = NULL;
	const char *token;
	struct snap *ps;

	memset(rp, 0, sizeof(*rp));
	rp->no_store = true;
	pol = server_policy_acquire(s, &ps);
	if (pol == NULL || (f = malloc(sizeof(*f))) == NULL)
		oauth_error(rp, 503, "temporarily_unavailable", "no policy");
	else if ((cl = authenticate(pol, rq, rp)) != NULL &&
	    (token = token_param(rq, f, rp)) != NULL)
		act(s, cl, token, rp);
	free(f);
	server_release(ps);
}

void
oauth_revoke(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp)
{
	token_endpoint(s, rq, rp, revoke_token);
}

/* RFC 7662 §2.2: the claims of a live token. */
static void
active_reply(const struct tsr_token_claims *c, struct oauth_reply *rp)
{
	json_t *doc;

	doc = json_pack("{s:b,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:{s:s}}",
	    "active", 1, "iss", c->iss, "sub", c->sub, "client_id", c->sub,
	    "aud", c->aud, "exp", (json_int_t)c->exp, "iat",
	    (json_int_t)c->iat, "nbf", (json_int_t)c->nbf, "jti", c->jti,
	    "token_type", "Bearer", "cnf", "x5t#S256", c->x5t);
	(void)json_reply(rp, doc, c->scope, "active");
}

/* Is the token live and meant for the caller?  Why not, if not.
 * *verified: whether c holds claims whose signature verified. */
static const char *
introspect_reason(struct server *s, const char *token, const char *caller,
    struct tsr_token_claims *c, bool *verified)
{
	enum tsr_token_verdict v = check_token(s, token, time(NULL), c);
	const char *why = NULL;

	*verified = signature_verified(v);
	if (v != TSR_TOKEN_VALID)
		return tsr_token_verdict_str(v);
	if (strcmp(c->aud, caller) != 0)
		return "token is for another audience";
	if (is_revoked(s, c, &why))
		return why;
	return NULL;
}

/* Answer for a token meant for the caller; inactive for anything else. */
static void
introspect_token(struct server *s, const struct tsr_client *cl,
    const char *token, struct oauth_reply *rp)
{
	struct tsr_token_claims c;
	bool verified;

	rp->reason = introspect_reason(s, token, cl->name, &c, &verified);
	if (rp->reason != NULL) {
		rp->outcome = "inactive";
		rp->status = 200;
		rp->body = strdup("{\"active\":false}");
		rp->body_len = rp->body ? strlen(rp->body) : 0;
	} else {
		active_reply(&c, rp);
	}
	if (!verified)
		return;
	memcpy(rp->jti, c.jti, sizeof(rp->jti));
	memcpy(rp->kid, c.kid, sizeof(rp->kid));
	tsr_audit_set(rp->audience, sizeof(rp->audience), c.aud);
}

void
oauth_introspect(struct server *s, const struct oauth_request *rq,
    struct oauth_reply *rp)
{
	token_endpoint(s, rq, rp, introspect_token);
}
