/*
 * The token subcommands: token revoke (by token or jti) and token
 * inspect.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "cli.h"
#include "denylist.h"
#include "esc.h"
#include "jose.h"
#include "keyring.h"
#include "policy.h"
#include "store/store.h"
#include "token.h"

/* The clock skew the server allows, as it recorded it (60 s default). */
static int64_t
clock_skew(struct tsr_store *st)
{
	int64_t skew = 0;

	if (tsr_store_setting_get(st, TSR_KEYRING_SETTING_SKEW, &skew,
	    NULL) != TSR_OK || skew < 0)
		skew = TSR_KEYRING_DEFAULT_SKEW_S;
	return skew;
}

/* The token from the command line, or else one line of stdin.  A line
 * too long for buf is passed on cut to one byte over the limit, so that
 * the check calls it too long, as it does an argument. */
static int
read_token(const char *arg, char *buf, size_t size, const char **out)
{
	if (arg != NULL) {
		*out = arg;
		return 0;
	}
	if (fgets(buf, (int)size, stdin) == NULL) {
		fprintf(stderr, "tessera: no token on standard input\n");
		return CLI_EXIT_ERR;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = buf;
	return 0;
}

static const struct tsr_key *
find_key(void *arg, const char *kid)
{
	return tsr_keyring_find(arg, kid);
}

/* Check token against the keys the store publishes. */
static int
check_published(struct tsr_store *st, const char *token,
    enum tsr_token_verdict *v, struct tsr_token_claims *c)
{
	struct tsr_why why = { "" };
	struct tsr_keyring *kr = NULL;
	enum tsr_err rc;

	if ((rc = tsr_keyring_load_public(st, &kr, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	*v = tsr_token_check(token, strlen(token), find_key, kr, NULL,
	    time(NULL), clock_skew(st), c);
	tsr_keyring_destroy(kr);
	return 0;
}

/* Our jtis are 128 bits in base64url: 22 characters. */
static int
check_jti(const char *jti)
{
	uint8_t raw[TSR_TOKEN_JTI_BYTES];
	char buf[TSR_ESC_BUF(40)];
	size_t len = 0;

	if (strlen(jti) != TSR_TOKEN_JTI_LEN ||
	    tsr_b64_decode(jti, strlen(jti), raw, sizeof(raw), &len) !=
	    TSR_OK || len != sizeof(raw)) {
		fprintf(stderr, "tessera: malformed jti \"%.40s\": want 22 "
		    "base64url characters\n", tsr_esc(jti, buf, sizeof(buf)));
		return CLI_EXIT_ERR;
	}
	return 0;
}

/* Fill r from a presented token: it must verify against our keys. */
static int
revocation_of_token(struct tsr_store *st, const char *token,
    struct tsr_revocation *r, bool *expired)
{
	struct tsr_token_claims tc;
	enum tsr_token_verdict v;
	int ex;

	*expired = false;
	if ((ex = check_published(st, token, &v, &tc)) != 0)
		return ex;
	if (v == TSR_TOKEN_EXPIRED) {
		*expired = true;
		return 0;
	}
	if (v != TSR_TOKEN_VALID) {
		fprintf(stderr, "tessera: cannot revoke: %s\n",
		    tsr_token_verdict_str(v));
		return CLI_EXIT_ERR;
	}
	memcpy(r->jti, tc.jti, sizeof(tc.jti));
	memcpy(r->client, tc.sub, sizeof(tc.sub));
	r->expires_at = tc.exp + clock_skew(st);
	return 0;
}

static int
token_revoke(struct cli *c, int argc, char **argv)
{
	const char *jti = NULL, *reason = "revoked by an operator", *token;
	struct args_opt opts[] = {
		{ .name = "jti", .value = &jti },
		{ .name = "reason", .value = &reason },
		{ .name = NULL },
	};
	char buf[TSR_JOSE_MAX_TOKEN + 2];
	struct tsr_revocation r;
	struct tsr_store *st = NULL;
	bool expired = false;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 2, 3)) != 0)
		return ex;
	if (jti != NULL && c->n_words == 3) {
		fprintf(stderr, "tessera: give a token or --jti, not both\n");
		return CLI_EXIT_USAGE;
	}
	if ((ex = cli_revocation_check_reason(reason)) != 0 ||
	    (jti != NULL && (ex = check_jti(jti)) != 0) ||
	    (jti == NULL && (ex = read_token(c->n_words == 3 ? c->words[2] :
	    NULL, buf, sizeof(buf), &token)) != 0) ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	memset(&r, 0, sizeof(r));
	r.kind = TSR_REVKIND_TOKEN;
	r.revoked_at = time(NULL);
	(void)snprintf(r.reason, sizeof(r.reason), "%s", reason);
	if (jti != NULL) {
		(void)snprintf(r.jti, sizeof(r.jti), "%s", jti);
		r.expires_at = r.revoked_at + cli_revocation_lifetime(st);
	} else if ((ex = revocation_of_token(st, token, &r, &expired)) != 0) {
		goto out;
	}
	if (expired)
		printf("token already expired: nothing to revoke\n");
	else
		ex = cli_revocation_write(c, st, &r);
out:
	tsr_store_close(st);
	return ex;
}

/* What inspect found out about a token. */
struct inspection {
	enum tsr_token_verdict	 verdict;
	struct tsr_token_claims	 claims;
	struct tsr_keyrow	 key;		/* key.kid "" when unknown */
	struct tsr_revocation	 revoked;	/* revoked_at 0 when not */
	const char		*why;		/* the verdict in words */
};

/* "in 4m12s" or "3m ago". */
static void
relative(int64_t at, int64_t now, char *buf, size_t len)
{
	int64_t d = at > now ? at - now : now - at;

	if (d >= 86400)
		(void)snprintf(buf, len, "%s%lldd%lldh%s", at > now ? "in " :
		    "", (long long)(d / 86400), (long long)(d % 86400 / 3600),
		    at > now ? "" : " ago");
	else
		(void)snprintf(buf, len, "%s%lldh%02lldm%02llds%s",
		    at > now ? "in " : "", (long long)(d / 3600),
		    (long long)(d % 3600 / 60), (long long)(d % 60),
		    at > now ? "" : " ago");
}

static int
inspect_token(struct tsr_store *st, const char *token, struct inspection *in)
{
	struct tsr_denylist *dl = NULL;
	const struct tsr_revocation *m = NULL;
	int ex;

	memset(in, 0, sizeof(*in));
	if ((ex = check_published(st, token, &in->verdict, &in->claims)) != 0)
		return ex;
	in->why = tsr_token_verdict_str(in->verdict);
	if (in->claims.kid[0] != '\0' &&
	    tsr_store_key_get(st, in->claims.kid, &in->key, NULL) != TSR_OK)
		in->key.kid[0] = '\0';
	if (in->verdict == TSR_TOKEN_UNKNOWN_KID && in->key.kid[0] != '\0')
		in->why = in->key.state == TSR_KEYSTATE_REVOKED ?
		    "signed by a revoked key" : "signed by an expired key";
	if (in->claims.jti[0] != '\0' &&
	    tsr_denylist_load(st, time(NULL), &dl, NULL) == TSR_OK &&
	    tsr_denylist_match(dl, in->claims.jti, in->claims.sub,
	    in->claims.iat, &m))
		in->revoked = *m;
	tsr_denylist_destroy(dl);
	if (in->verdict == TSR_TOKEN_VALID && in->revoked.revoked_at != 0)
		in->why = "revoked";
	return 0;
}

/* Did the token decode into claims at all? */
static bool
was_decoded(const struct inspection *in)
{
	return in->verdict != TSR_TOKEN_MALFORMED &&
	    in->verdict != TSR_TOKEN_TOO_LONG;
}

/* Did its signature verify with a key of ours?  The checks that come
 * after the signature (issuer, time) run only when it did. */
static bool
was_verified(const struct inspection *in)
{
	switch (in->verdict) {
	case TSR_TOKEN_VALID:
	case TSR_TOKEN_WRONG_ISS:
	case TSR_TOKEN_NOT_YET_VALID:
	case TSR_TOKEN_EXPIRED:
		return true;
	default:
		return false;
	}
}

static json_t *
inspection_json(const struct inspection *in)
{
	const struct tsr_token_claims *c = &in->claims;
	json_t *doc;

	doc = json_pack("{s:b,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,"
	    "s:s}}", "valid", in->verdict == TSR_TOKEN_VALID &&
	    in->revoked.revoked_at == 0, "reason", in->why, "claims", "iss",
	    c->iss, "sub", c->sub, "aud", c->aud, "scope", c->scope, "jti",
	    c->jti, "kid", c->kid, "iat", (json_int_t)c->iat, "nbf",
	    (json_int_t)c->nbf, "exp", (json_int_t)c->exp, "x5t#S256", c->x5t);
	if (doc == NULL)
		return NULL;
	if (!was_decoded(in))
		json_object_set_new(doc, "claims", json_null());
	json_object_set_new(doc, "verified", json_boolean(was_verified(in)));
	json_object_set_new(doc, "key", in->key.kid[0] == '\0' ? json_null() :
	    json_pack("{s:s,s:s}", "kid", in->key.kid, "state",
	    tsr_keystate_name(in->key.state)));
	json_object_set_new(doc, "revoked", in->revoked.revoked_at == 0 ?
	    json_null() : cli_revocation_json(&in->revoked));
	return doc;
}

/* One "label: value" line; the value escaped, as an unverified token
 * says whatever its author wants (a newline, a terminal escape). */
static void
line(const char *label, const char *value, const char *note)
{
	char buf[TSR_ESC_BUF(1024)], nbuf[TSR_ESC_BUF(TSR_MAX_REASON)];

	printf("%-11s %s%s%s%s\n", label, tsr_esc(value, buf, sizeof(buf)),
	    note ? " (" : "", note ? tsr_esc(note, nbuf, sizeof(nbuf)) : "",
	    note ? ")" : "");
}

static void
time_line(const char *label, int64_t t, int64_t now)
{
	char at[32], rel[48];

	cli_format_time(t, at, sizeof(at));
	relative(t, now, rel, sizeof(rel));
	printf("%-11s %s (%s)\n", label, at, rel);
}

static void
inspection_print(const struct inspection *in, int64_t now)
{
	const struct tsr_token_claims *c = &in->claims;
	char at[32], x5t[TSR_ESC_BUF(TSR_TOKEN_X5T_BUF)];

	line("verdict:", in->verdict == TSR_TOKEN_VALID &&
	    in->revoked.revoked_at == 0 ? "valid" : in->why, NULL);
	if (!was_decoded(in))
		return;
	if (!was_verified(in))
		printf("claims:     NOT VERIFIED, shown as decoded\n");
	line("issued to:", c->sub, NULL);
	line("audience:", c->aud, NULL);
	line("scope:", c->scope[0] ? c->scope : "(none)", NULL);
	time_line("issued at:", c->iat, now);
	time_line("expires at:", c->exp, now);
	line("issuer:", c->iss, NULL);
	line("key:", c->kid, in->key.kid[0] ? tsr_keystate_name(
	    in->key.state) : "unknown to this store");
	line("jti:", c->jti, NULL);
	printf("bound to:   client certificate with x5t#S256 %s\n",
	    tsr_esc(c->x5t, x5t, sizeof(x5t)));
	if (in->revoked.revoked_at != 0) {
		cli_format_time(in->revoked.revoked_at, at, sizeof(at));
		line("revoked:", at, in->revoked.reason);
	}
}

static int
token_inspect(struct cli *c, int argc, char **argv)
{
	char buf[TSR_JOSE_MAX_TOKEN + 2], why[TSR_ESC_BUF(256)];
	struct tsr_store *st = NULL;
	struct inspection in;
	const char *token;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 2, 3)) != 0 ||
	    (ex = read_token(c->n_words == 3 ? c->words[2] : NULL, buf,
	    sizeof(buf), &token)) != 0 || (ex = cli_open(c, &st)) != 0)
		return ex;
	ex = inspect_token(st, token, &in);
	tsr_store_close(st);
	if (ex != 0)
		return ex;
	if (c->json)
		ex = cli_print_json(inspection_json(&in));
	else
		inspection_print(&in, time(NULL));
	if (ex == 0 && (in.verdict != TSR_TOKEN_VALID ||
	    in.revoked.revoked_at != 0)) {
		fprintf(stderr, "tessera: token is not valid: %s\n",
		    tsr_esc(in.why, why, sizeof(why)));
		return CLI_EXIT_ERR;
	}
	return ex;
}

int
cli_token(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "revoke", token_revoke }, { "inspect", token_inspect },
		{ NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
