#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seal.h"
#include "serveopts.h"
#include "store/store.h"

#define CLI_MAX_OPTS	32

static const char usage_head[] =
"usage: tessera [--db PATH|URI] [--key-dir DIR]\n"
"               [--key-encryption-key FILE[,FILE...]] [--json] COMMAND ...\n"
"       tessera --version | --help\n"
"\n";

/* After the serve line(s). */
static const char usage_text[] =
"  migrate\n"
"  client add NAME --cn CN [--description TEXT] [--cert-ttl 24h]\n"
"  client set NAME [--cert-ttl 24h] [--description TEXT]\n"
"  client list | show NAME | enable NAME | disable NAME | remove NAME\n"
"  grant add CLIENT AUDIENCE [--scope S]... [--ttl DURATION]\n"
"  grant list [--client C] [--audience A]\n"
"  grant remove CLIENT AUDIENCE\n"
"  key list [--as-stored] | rotate | revoke KID | reseal\n"
"  kek generate FILE\n"
"  ca init [--cn NAME] [--ttl 10y] | ca show\n"
"  cert issue CLIENT [--ttl 24h] [--out DIR]\n"
"  cert enroll-token CLIENT [--ttl 1h]\n"
"  cert list [--client C] [--expiring 7d]\n"
"  cert revoke SERIAL | --client NAME [--reason TEXT]\n"
"  policy export\n"
"  policy apply FILE [--dry-run] [--prune]\n"
"  token inspect [TOKEN]\n"
"  token revoke [TOKEN] [--jti JTI | --jti-file FILE] [--reason TEXT]\n"
"  client revoke-tokens NAME [--reason TEXT]\n"
"  revocation list [--include-expired]\n"
"  audit [--since 1h] [--client C] [--audience A] [--outcome O] [--limit N]\n"
"  agent --server URL --cert F --key F --ca F [--renew-at 0.66] [--exec CMD]\n"
"        [--token-audience A --token-file F]\n"
"\n"
"Global options may stand before or after the command.\n"
"  --db PATH|URI   database file, or a postgresql:// URI (TESSERA_DB,\n"
"                  default tessera.db)\n"
"  --key-dir DIR   signing key directory (TESSERA_KEY_DIR, default\n"
"                  keys/signing)\n"
"  --key-encryption-key FILE[,FILE...]\n"
"                  keep private keys sealed in the database under these\n"
"                  keys, the first sealing (TESSERA_KEY_ENCRYPTION_KEY;\n"
"                  required with PostgreSQL)\n"
"  --json          machine-readable output\n";

void
cli_usage(FILE *stream)
{
	fputs(usage_head, stream);
	serve_usage(stream);
	fputs(usage_text, stream);
}

void
cli_init(struct cli *c)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	c->db_path = (v = getenv("TESSERA_DB")) != NULL && *v ? v :
	    "tessera.db";
	c->key_dir = (v = getenv("TESSERA_KEY_DIR")) != NULL && *v ? v :
	    "keys/signing";
	c->kek_list = (v = getenv("TESSERA_KEY_ENCRYPTION_KEY")) != NULL &&
	    *v ? v : NULL;
}

int
cli_keks(struct cli *c)
{
	struct tsr_why why = { "" };
	enum tsr_err rc;

	if (c->keks != NULL)
		return CLI_EXIT_OK;
	if (c->kek_list == NULL || *c->kek_list == '\0') {
		if (!tsr_store_dsn_is_server(c->db_path))
			return CLI_EXIT_OK;	/* the key directory */
		fprintf(stderr, "tessera: a PostgreSQL store keeps the private "
		    "keys sealed in the database: give --key-encryption-key "
		    "FILE (TESSERA_KEY_ENCRYPTION_KEY)\n");
		return CLI_EXIT_ERR;
	}
	if ((rc = tsr_seal_keks_load(c->kek_list, &c->keks, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	return CLI_EXIT_OK;
}

struct tsr_keyvault
cli_vault(const struct cli *c)
{
	struct tsr_keyvault v = { c->key_dir, c->keks };

	return v;
}

void
cli_finish(struct cli *c)
{
	tsr_seal_keks_destroy(c->keks);
	c->keks = NULL;
}

void
cli_peek(struct cli *c, int argc, char **argv)
{
	int i;

	c->n_words = 0;
	for (i = 0; i < argc && c->n_words < 2; i++) {
		if (strcmp(argv[i], "--db") == 0 ||
		    strcmp(argv[i], "--key-dir") == 0 ||
		    strcmp(argv[i], "--key-encryption-key") == 0)
			i++;		/* skip the value */
		else if (strncmp(argv[i], "--", 2) != 0)
			c->words[c->n_words++] = argv[i];
	}
}

int
cli_dispatch(struct cli *c, int argc, char **argv,
    const struct cli_verb *verbs, size_t idx)
{
	const char *word = idx < c->n_words ? c->words[idx] : NULL;

	for (; word != NULL && verbs->name != NULL; verbs++)
		if (strcmp(word, verbs->name) == 0)
			return verbs->fn(c, argc, argv);
	if (word == NULL)
		fprintf(stderr, "tessera: missing command\n");
	else
		fprintf(stderr, "tessera: unknown command \"%s\"\n", word);
	cli_usage(stderr);
	return CLI_EXIT_USAGE;
}

int
cli_parse(struct cli *c, int argc, char **argv, const struct args_opt *opts,
    size_t n_min, size_t n_max)
{
	struct args_opt all[CLI_MAX_OPTS] = {
		{ .name = "db", .value = &c->db_path },
		{ .name = "key-dir", .value = &c->key_dir },
		{ .name = "json", .flag = &c->json },
		{ .name = "key-encryption-key", .value = &c->kek_list },
	};
	size_t n = 4, max = sizeof(c->words) / sizeof(c->words[0]);

	for (; opts != NULL && opts->name != NULL && n < CLI_MAX_OPTS - 1;
	    opts++)
		all[n++] = *opts;
	if (args_parse(argc, argv, all, c->words, max, &c->n_words) != 0)
		goto usage;
	if (c->n_words < n_min || c->n_words > n_max) {
		fprintf(stderr, "tessera: wrong number of arguments\n");
		goto usage;
	}
	return 0;
usage:
	cli_usage(stderr);
	return CLI_EXIT_USAGE;
}

int
cli_fail(enum tsr_err rc, const struct tsr_why *why)
{
	fprintf(stderr, "tessera: %s\n", tsr_err_text(why, rc));
	return CLI_EXIT_ERR;
}

int
cli_open(const struct cli *c, struct tsr_store **st)
{
	struct tsr_why why = { "" };
	enum tsr_err rc;

	if ((rc = tsr_store_open(c->db_path, st, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if ((rc = tsr_store_migrate(*st, NULL, &why)) != TSR_OK) {
		tsr_store_close(*st);
		*st = NULL;
		return cli_fail(rc, &why);
	}
	return CLI_EXIT_OK;
}

int
cli_print_json(json_t *doc)
{
	if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER) != 0) {
		json_decref(doc);
		return cli_fail(TSR_ERR_NOMEM, NULL);
	}
	putchar('\n');
	json_decref(doc);
	return CLI_EXIT_OK;
}

int
cli_print_list(const struct cli *c, const char *key, const void *rows,
    size_t n, size_t size, void (*table)(const void *, size_t),
    json_t *(*one)(const void *))
{
	const unsigned char *row = rows;
	json_t *arr;
	size_t i;

	if (!c->json) {
		table(rows, n);
		return CLI_EXIT_OK;
	}
	if ((arr = json_array()) == NULL)
		return cli_fail(TSR_ERR_NOMEM, NULL);
	for (i = 0; i < n; i++, row += size)
		json_array_append_new(arr, one(row));
	return cli_print_json(json_pack("{s:o}", key, arr));
}

void
cli_format_time(int64_t at, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)at;

	if (at == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "-");
}

json_t *
cli_json_time(int64_t at)
{
	return at == 0 ? json_null() : json_integer(at);
}

int
cli_migrate(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	int applied = 0, current = 0, latest = 0, ex;
	enum tsr_err rc;

	if ((ex = cli_parse(c, argc, argv, NULL, 1, 1)) != 0)
		return ex;
	if ((rc = tsr_store_open(c->db_path, &st, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if ((rc = tsr_store_migrate(st, &applied, &why)) != TSR_OK ||
	    (rc = tsr_store_schema_version(st, &current, &latest, &why)) !=
	    TSR_OK) {
		tsr_store_close(st);
		return cli_fail(rc, &why);
	}
	tsr_store_close(st);
	if (c->json)
		return cli_print_json(json_pack("{s:i,s:i}", "applied",
		    applied, "schema_version", current));
	printf("applied %d migration%s; schema version %d\n", applied,
	    applied == 1 ? "" : "s", current);
	return CLI_EXIT_OK;
}
