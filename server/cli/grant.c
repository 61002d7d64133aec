/* The grant subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "duration.h"
#include "policy.h"
#include "store/store.h"

void
cli_grant_table(const void *rows, size_t n)
{
	const struct tsr_grant *gs = rows;
	char ttl[TSR_DURATION_BUF];
	size_t i;

	printf("%-24s %-24s %-8s %s\n", "CLIENT", "AUDIENCE", "TTL",
	    "SCOPES");
	for (i = 0; i < n; i++) {
		if (gs[i].ttl_s == 0)
			(void)snprintf(ttl, sizeof(ttl), "-");
		else
			tsr_duration_format(gs[i].ttl_s, ttl);
		printf("%-24s %-24s %-8s %s\n", gs[i].client, gs[i].audience,
		    ttl, gs[i].scopes);
	}
}

/* "a b c" -> ["a","b","c"] */
static json_t *
scopes_json(const char *scopes)
{
	json_t *arr = json_array();
	const char *p = scopes, *sp;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		json_array_append_new(arr, json_stringn(p, (size_t)(sp - p)));
		p = *sp == ' ' ? sp + 1 : sp;
	}
	return arr;
}

json_t *
cli_grant_json(const void *row)
{
	const struct tsr_grant *g = row;
	return json_pack("{s:s,s:s,s:o,s:o}", "client", g->client, "audience",
	    g->audience, "scopes", scopes_json(g->scopes), "ttl_s",
	    g->ttl_s == 0 ? json_null() : json_integer(g->ttl_s));
}

static int
grant_add(struct cli *c, int argc, char **argv)
{
	const char *scopes[ARGS_MAX_LIST], *ttl = NULL;
	size_t n_scopes = 0;
	struct args_opt opts[] = {
		{ .name = "scope", .list = scopes, .n_list = &n_scopes },
		{ .name = "ttl", .value = &ttl },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	int64_t ttl_s = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 4, 4)) != 0)
		return ex;
	/* Validate what needs no store before opening it. */
	if (ttl != NULL &&
	    (rc = tsr_duration_parse(ttl, &ttl_s, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if ((ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_policy_grant_add(st, c->words[2], c->words[3], scopes,
	    n_scopes, ttl_s, time(NULL), &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s,s:s}", "client",
		    c->words[2], "audience", c->words[3]));
	printf("granted %s access to %s\n", c->words[2], c->words[3]);
	return CLI_EXIT_OK;
}

static int
grant_list(struct cli *c, int argc, char **argv)
{
	const char *client = NULL, *audience = NULL;
	struct args_opt opts[] = {
		{ .name = "client", .value = &client },
		{ .name = "audience", .value = &audience },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_grant *gs = NULL;
	size_t n = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 2, 2)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_store_grant_list(st, client, audience, &gs, &n, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	ex = cli_print_list(c, "grants", gs, n, sizeof(*gs), cli_grant_table,
	    cli_grant_json);
	free(gs);
	return ex;
}

static int
grant_remove(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 4, 4)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_policy_grant_remove(st, c->words[2], c->words[3], &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s,s:s,s:b}", "client",
		    c->words[2], "audience", c->words[3], "removed", 1));
	printf("grant of %s to %s removed\n", c->words[2], c->words[3]);
	return CLI_EXIT_OK;
}

int
cli_grant(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "add", grant_add }, { "list", grant_list },
		{ "remove", grant_remove }, { NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
