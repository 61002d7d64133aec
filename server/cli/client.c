/* The client subcommands (client revoke-tokens is in revocation.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "duration.h"
#include "policy.h"
#include "store/store.h"

static json_t *
client_json(const void *row)
{
	const struct tsr_client *cl = row;
	return json_pack("{s:s,s:s,s:b,s:s,s:I}", "name", cl->name, "cn",
	    cl->cn, "enabled", cl->enabled, "description", cl->description,
	    "created_at", (json_int_t)cl->created_at);
}

/* --cert-ttl: 0 when absent, else the checked lifetime or -1 after
 * printing why not. */
static int64_t
cert_ttl_arg(const char *text)
{
	struct tsr_why why = { "" };
	int64_t ttl = 0;
	enum tsr_err rc;

	if (text == NULL)
		return 0;
	if ((rc = tsr_duration_parse(text, &ttl, &why)) != TSR_OK ||
	    (rc = tsr_policy_check_cert_ttl(ttl, &why)) != TSR_OK) {
		(void)cli_fail(rc, &why);
		return -1;
	}
	return ttl;
}

/* Add the client and set its certificate lifetime, both or neither. */
static enum tsr_err
client_add_tx(struct tsr_store *st, const char *name, const char *cn,
    const char *desc, int64_t cert_ttl, struct tsr_why *why)
{
	int64_t now = (int64_t)time(NULL);
	enum tsr_err rc;

	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK)
		return rc;
	if ((rc = tsr_policy_client_add(st, name, cn, desc, now, why)) !=
	    TSR_OK || (cert_ttl != 0 && (rc = tsr_policy_client_set(st, name,
	    cert_ttl, NULL, now, why)) != TSR_OK)) {
		tsr_store_rollback(st);
		return rc;
	}
	return tsr_store_commit(st, why);
}

static int
client_add(struct cli *c, int argc, char **argv)
{
	const char *cn = NULL, *desc = "", *ttl_text = NULL;
	struct args_opt opts[] = {
		{ .name = "cn", .value = &cn },
		{ .name = "description", .value = &desc },
		{ .name = "cert-ttl", .value = &ttl_text },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	enum tsr_err rc;
	int64_t cert_ttl;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 3, 3)) != 0)
		return ex;
	if (cn == NULL) {
		fprintf(stderr, "tessera: client add needs --cn\n");
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if ((cert_ttl = cert_ttl_arg(ttl_text)) < 0)
		return CLI_EXIT_ERR;
	if ((ex = cli_open(c, &st)) != 0)
		return ex;
	rc = client_add_tx(st, c->words[2], cn, desc, cert_ttl, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s}", "added",
		    c->words[2]));
	printf("client %s added (CN %s)\n", c->words[2], cn);
	return CLI_EXIT_OK;
}

static void
client_table(const void *rows, size_t n)
{
	const struct tsr_client *cls = rows;
	char at[32];
	size_t i;

	printf("%-24s %-24s %-8s %-21s %s\n", "NAME", "CN", "ENABLED",
	    "CREATED", "DESCRIPTION");
	for (i = 0; i < n; i++) {
		cli_format_time(cls[i].created_at, at, sizeof(at));
		printf("%-24s %-24s %-8s %-21s %s\n", cls[i].name, cls[i].cn,
		    cls[i].enabled ? "yes" : "no", at, cls[i].description);
	}
}

static int
client_list(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_client *cls = NULL;
	size_t n = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 2, 2)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_store_client_list(st, &cls, &n, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	ex = cli_print_list(c, "clients", cls, n, sizeof(*cls), client_table,
	    client_json);
	free(cls);
	return ex;
}

static int
client_show(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_client cl;
	struct tsr_grant *gs = NULL;
	char ttl[TSR_DURATION_BUF];
	size_t n = 0, i;
	enum tsr_err rc;
	json_t *doc, *arr;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 3, 3)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	if ((rc = tsr_store_client_get(st, c->words[2], &cl, &why)) ==
	    TSR_OK)
		rc = tsr_store_grant_list(st, c->words[2], NULL, &gs, &n, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (!c->json) {
		client_table(&cl, 1);
		tsr_duration_format(tsr_client_cert_ttl(&cl), ttl);
		printf("certificate lifetime %s\n\n", ttl);
		cli_grant_table(gs, n);
		free(gs);
		return CLI_EXIT_OK;
	}
	doc = client_json(&cl);
	json_object_set_new(doc, "cert_ttl_s",
	    json_integer(tsr_client_cert_ttl(&cl)));
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, cli_grant_json(&gs[i]));
	free(gs);
	json_object_set_new(doc, "grants", arr);
	return cli_print_json(doc);
}

static int
client_set(struct cli *c, int argc, char **argv)
{
	const char *desc = NULL, *ttl_text = NULL;
	struct args_opt opts[] = {
		{ .name = "description", .value = &desc },
		{ .name = "cert-ttl", .value = &ttl_text },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	enum tsr_err rc;
	int64_t cert_ttl;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 3, 3)) != 0)
		return ex;
	if (desc == NULL && ttl_text == NULL) {
		fprintf(stderr, "tessera: client set needs --cert-ttl or "
		    "--description\n");
		return CLI_EXIT_USAGE;
	}
	if ((cert_ttl = cert_ttl_arg(ttl_text)) < 0)
		return CLI_EXIT_ERR;
	if ((ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_policy_client_set(st, c->words[2], cert_ttl, desc,
	    (int64_t)time(NULL), &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s,s:s}", "client",
		    c->words[2], "done", "set"));
	printf("client %s changed\n", c->words[2]);
	return CLI_EXIT_OK;
}

/* enable, disable, remove: one client name, one verb. */
static int
client_change(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	const char *verb, *name;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 3, 3)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	verb = c->words[1];
	name = c->words[2];
	if (strcmp(verb, "remove") == 0)
		rc = tsr_policy_client_remove(st, name, &why);
	else
		rc = tsr_policy_client_set_enabled(st, name,
		    strcmp(verb, "enable") == 0, time(NULL), &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s,s:s}", "client", name,
		    "done", verb));
	printf("client %s %sd\n", name, verb);	/* enabled, removed */
	return CLI_EXIT_OK;
}

int
cli_client(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "add", client_add }, { "set", client_set },
		{ "list", client_list },
		{ "show", client_show }, { "enable", client_change },
		{ "disable", client_change }, { "remove", client_change },
		{ "revoke-tokens", cli_client_revoke_tokens },
		{ NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
