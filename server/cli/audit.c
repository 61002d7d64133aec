/* The audit subcommand: what happened, with the reasons responses omit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "cli.h"
#include "duration.h"
#include "esc.h"
#include "store/store.h"

#define CLI_AUDIT_MAX_LIMIT	100000

static json_t *
event_json(const void *row)
{
	const struct tsr_audit_event *e = row;
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:s}", "at", (json_int_t)e->at, "event", e->event, "peer",
	    e->peer, "cert_sha256", e->cert_sha256, "cn", e->cn, "client",
	    e->client, "audience", e->audience, "scopes", e->scopes, "jti",
	    e->jti, "kid", e->kid, "outcome", e->outcome, "error", e->error,
	    "reason", e->reason);
}

/* An escaped column value, "-" when empty: the values come from
 * requests (an audience, a reason quoting the client) and must not move
 * the cursor or forge a line. */
static const char *
col(const char *v, char *buf, size_t len)
{
	return v[0] != '\0' ? tsr_esc(v, buf, len) : "-";
}

static void
event_table(const void *rows, size_t n)
{
	const struct tsr_audit_event *es = rows;
	char at[32], ev[TSR_ESC_BUF(16)], out[TSR_ESC_BUF(16)];
	char cl[TSR_ESC_BUF(TSR_MAX_NAME)];
	char aud[TSR_ESC_BUF(TSR_MAX_NAME)], err[TSR_ESC_BUF(32)];
	char why[TSR_ESC_BUF(TSR_AUDIT_MAX_REASON)];
	size_t i;

	printf("%-21s %-10s %-9s %-20s %-20s %-22s %s\n", "AT", "EVENT",
	    "OUTCOME", "CLIENT", "AUDIENCE", "ERROR", "REASON");
	for (i = 0; i < n; i++) {
		cli_format_time(es[i].at, at, sizeof(at));
		printf("%-21s %-10s %-9s %-20s %-20s %-22s %s\n", at,
		    col(es[i].event, ev, sizeof(ev)),
		    col(es[i].outcome, out, sizeof(out)),
		    col(es[i].client, cl, sizeof(cl)),
		    col(es[i].audience, aud, sizeof(aud)),
		    col(es[i].error, err, sizeof(err)),
		    tsr_esc(es[i].reason, why, sizeof(why)));
	}
}

static int
parse_limit(const char *text, size_t *out)
{
	char *end;
	long long v;

	if (text == NULL)
		return 0;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 1 ||
	    v > CLI_AUDIT_MAX_LIMIT) {
		fprintf(stderr, "tessera: --limit must be 1 to %d\n",
		    CLI_AUDIT_MAX_LIMIT);
		return CLI_EXIT_ERR;
	}
	*out = (size_t)v;
	return 0;
}

int
cli_audit(struct cli *c, int argc, char **argv)
{
	const char *since = NULL, *limit = NULL;
	struct tsr_audit_filter f = { 0 };
	struct args_opt opts[] = {
		{ .name = "since", .value = &since },
		{ .name = "client", .value = &f.client },
		{ .name = "audience", .value = &f.audience },
		{ .name = "outcome", .value = &f.outcome },
		{ .name = "limit", .value = &limit },
		{ .name = NULL },
	};
	struct tsr_audit_event *es = NULL;
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	int64_t since_s = 0;
	size_t n = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 1, 1)) != 0)
		return ex;
	if (since != NULL &&
	    (rc = tsr_duration_parse(since, &since_s, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if ((ex = parse_limit(limit, &f.limit)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	f.since = since != NULL ? time(NULL) - since_s : 0;
	rc = tsr_store_audit_list(st, &f, &es, &n, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	ex = cli_print_list(c, "events", es, n, sizeof(*es), event_table,
	    event_json);
	free(es);
	return ex;
}
