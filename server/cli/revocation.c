/*
 * Revocations: writing them (token revoke, client revoke-tokens) and
 * the revocation list command.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "esc.h"
#include "keyring.h"
#include "policy.h"
#include "store/store.h"

/* How long a deny-list entry that cannot know the token's exp must live:
 * the longest a token lives plus the clock skew, as the server said. */
int64_t
cli_revocation_lifetime(struct tsr_store *st)
{
	int64_t window = 0;

	if (tsr_store_setting_get(st, TSR_KEYRING_SETTING_WINDOW, &window,
	    NULL) != TSR_OK || window <= 0)
		window = TSR_KEYRING_DEFAULT_RETIRE_WINDOW_S;
	return window;
}

int
cli_revocation_check_reason(const char *reason)
{
	struct tsr_why why = { "" };
	enum tsr_err rc;

	if ((rc = tsr_policy_check_description(reason, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	return 0;
}

int
cli_revocation_write(const struct cli *c, struct tsr_store *st,
    const struct tsr_revocation *r)
{
	struct tsr_why why = { "" };
	enum tsr_err rc;
	bool added = false;

	if ((rc = tsr_store_revocation_add(st, r, &added, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s,s:s,s:b,s:I}", "kind",
		    r->kind == TSR_REVKIND_TOKEN ? "token" : "client",
		    r->kind == TSR_REVKIND_TOKEN ? "jti" : "client",
		    r->kind == TSR_REVKIND_TOKEN ? r->jti : r->client,
		    "added", added, "expires_at", (json_int_t)r->expires_at));
	if (r->kind == TSR_REVKIND_CLIENT)
		printf("revoked every token of %s issued until now\n",
		    r->client);
	else
		printf(added ? "revoked token %s\n" :
		    "token %s was already revoked\n", r->jti);
	return CLI_EXIT_OK;
}

int
cli_client_revoke_tokens(struct cli *c, int argc, char **argv)
{
	const char *reason = "revoked by an operator";
	struct args_opt opts[] = {
		{ .name = "reason", .value = &reason },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_revocation r;
	struct tsr_client cl;
	struct tsr_store *st = NULL;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 3, 3)) != 0 ||
	    (ex = cli_revocation_check_reason(reason)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	if ((rc = tsr_store_client_get(st, c->words[2], &cl, &why)) !=
	    TSR_OK) {
		tsr_store_close(st);
		return cli_fail(rc, &why);
	}
	memset(&r, 0, sizeof(r));
	r.kind = TSR_REVKIND_CLIENT;
	memcpy(r.client, cl.name, sizeof(cl.name));
	(void)snprintf(r.reason, sizeof(r.reason), "%s", reason);
	r.revoked_at = time(NULL);
	/* Every token it matches is issued by now and expired by then. */
	r.expires_at = r.revoked_at + cli_revocation_lifetime(st);
	ex = cli_revocation_write(c, st, &r);
	tsr_store_close(st);
	return ex;
}

json_t *
cli_revocation_json(const void *row)
{
	const struct tsr_revocation *r = row;
	bool is_token = r->kind == TSR_REVKIND_TOKEN;

	return json_pack("{s:s,s:s,s:s,s:I,s:I}", "kind",
	    is_token ? "token" : "client", is_token ? "jti" : "client",
	    is_token ? r->jti : r->client, "reason", r->reason, "revoked_at",
	    (json_int_t)r->revoked_at, "expires_at",
	    (json_int_t)r->expires_at);
}

static void
revocation_table(const void *rows, size_t n)
{
	const struct tsr_revocation *rs = rows;
	char at[32], until[32], who[TSR_ESC_BUF(TSR_MAX_NAME)];
	char why[TSR_ESC_BUF(TSR_MAX_REASON)];
	size_t i;

	printf("%-7s %-24s %-21s %-21s %s\n", "KIND", "JTI/CLIENT", "REVOKED",
	    "EXPIRES", "REASON");
	for (i = 0; i < n; i++) {
		cli_format_time(rs[i].revoked_at, at, sizeof(at));
		cli_format_time(rs[i].expires_at, until, sizeof(until));
		printf("%-7s %-24s %-21s %-21s %s\n",
		    rs[i].kind == TSR_REVKIND_TOKEN ? "token" : "client",
		    tsr_esc(rs[i].kind == TSR_REVKIND_TOKEN ? rs[i].jti :
		    rs[i].client, who, sizeof(who)), at, until,
		    tsr_esc(rs[i].reason, why, sizeof(why)));
	}
}

static int
revocation_list(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_revocation *rs = NULL;
	struct tsr_store *st = NULL;
	size_t n = 0;
	enum tsr_err rc;
	bool expired = false;
	struct args_opt opts[] = {
		{ .name = "include-expired", .flag = &expired },
		{ .name = NULL },
	};
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 2, 2)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	/* --include-expired: also the entries past their expiry that the
	 * server has not purged yet, i.e. every row stored. */
	rc = tsr_store_revocation_list(st, expired ? INT64_MIN : time(NULL),
	    &rs, &n, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	ex = cli_print_list(c, "revocations", rs, n, sizeof(*rs),
	    revocation_table, cli_revocation_json);
	free(rs);
	return ex;
}

int
cli_revocation(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "list", revocation_list }, { NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
