/* The ca subcommands: init creates the CA of client certificates, show
 * prints its certificate and fingerprint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "cli.h"
#include "duration.h"
#include "issuer.h"
#include "store/store.h"

/* A CA lifetime: a duration, or whole years written "10y". */
static enum tsr_err
ca_ttl_parse(const char *text, int64_t *ttl, struct tsr_why *why)
{
	char buf[TSR_DURATION_MAX_TEXT + 1];
	size_t len = strnlen(text, sizeof(buf));
	enum tsr_err rc;

	if (len == 0 || len >= sizeof(buf) || text[len - 1] != 'y')
		return tsr_duration_parse(text, ttl, why);
	memcpy(buf, text, len + 1);
	buf[len - 1] = 'd';
	if ((rc = tsr_duration_parse(buf, ttl, why)) != TSR_OK)
		return rc;
	if (*ttl / 86400 > TSR_CA_MAX_TTL / 365 / 86400)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "CA lifetime over 100 years");
	*ttl = *ttl / 86400 * 365 * 86400;
	return TSR_OK;
}

static int
ca_init(struct cli *c, int argc, char **argv)
{
	const char *cn = NULL, *ttl_text = NULL;
	struct args_opt opts[] = {
		{ .name = "cn", .value = &cn },
		{ .name = "ttl", .value = &ttl_text },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_keyvault v;
	struct tsr_ca *ca = NULL;
	int64_t ttl = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 2, 2)) != 0 ||
	    (ex = cli_keks(c)) != 0)
		return ex;
	v = cli_vault(c);
	if (ttl_text != NULL &&
	    (rc = ca_ttl_parse(ttl_text, &ttl, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if ((ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_issuer_init(st, &v, cn, ttl, time(NULL), &ca, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		ex = cli_print_json(json_pack("{s:s}", "sha256",
		    tsr_ca_fingerprint(ca)));
	else if (v.keks != NULL)
		printf("CA created, SHA-256 %s; its key is sealed in the "
		    "store\n", tsr_ca_fingerprint(ca));
	else
		printf("CA created, SHA-256 %s; its key is %s/%s.pem\n",
		    tsr_ca_fingerprint(ca), c->key_dir, TSR_ISSUER_KEY_BASE);
	tsr_ca_destroy(ca);
	return ex;
}

static int
ca_show(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_carow *row;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 2, 2)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	if ((row = malloc(sizeof(*row))) == NULL)
		rc = tsr_err_why(&why, TSR_ERR_NOMEM, "CA");
	else
		rc = tsr_store_ca_get(st, row, &why);
	tsr_store_close(st);
	if (rc != TSR_OK) {
		free(row);
		return cli_fail(rc, &why);
	}
	if (c->json)
		ex = cli_print_json(json_pack("{s:s,s:s,s:I}", "sha256",
		    row->sha256, "pem", row->cert_pem, "created_at",
		    (json_int_t)row->created_at));
	else
		printf("SHA-256 %s\n%s", row->sha256, row->cert_pem);
	free(row);
	return ex;
}

int
cli_ca(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "init", ca_init }, { "show", ca_show }, { NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
