/* The policy subcommands: export and apply (policy as code). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "policydoc.h"
#include "policyplan.h"
#include "store/store.h"

static int
policy_export(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	char *text = NULL;
	size_t len = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 2, 2)) != 0 ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_policydoc_export(st, &text, &len, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	/* The document is JSON already: --json changes nothing. */
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		free(text);
		fprintf(stderr, "tessera: cannot write the policy document: "
		    "%s\n", strerror(errno));
		return CLI_EXIT_ERR;
	}
	free(text);
	return CLI_EXIT_OK;
}

/*
 * Read path ("-": stdin) into a malloc'd buffer, at most one byte more
 * than a document may have, so that the parser reports one too large.
 */
static int
read_document(const char *path, char **out, size_t *out_len)
{
	const size_t cap = (size_t)TSR_POLICYDOC_MAX_BYTES + 1;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	int ex = CLI_EXIT_OK;

	*out = NULL;
	*out_len = 0;
	if (f == NULL || (buf = malloc(cap)) == NULL) {
		fprintf(stderr, "tessera: cannot read %s: %s\n", path,
		    strerror(errno));
		ex = CLI_EXIT_ERR;
		goto out;
	}
	len = fread(buf, 1, cap, f);
	if (ferror(f)) {
		fprintf(stderr, "tessera: cannot read %s: %s\n", path,
		    strerror(errno));
		ex = CLI_EXIT_ERR;
		goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	if (f != NULL && f != stdin)
		(void)fclose(f);
	free(buf);
	return ex;
}

/* Every problem on its own "tessera: " line; exit 1. */
static int
print_problems(const struct tsr_policydoc_problems *pr)
{
	size_t i, kept = tsr_policydoc_problems_kept(pr),
	    n = tsr_policydoc_problems_count(pr);

	for (i = 0; i < kept; i++)
		fprintf(stderr, "tessera: %s\n",
		    tsr_policydoc_problems_line(pr, i));
	if (n > kept)
		fprintf(stderr, "tessera: and %zu more problem%s\n", n - kept,
		    n - kept == 1 ? "" : "s");
	return CLI_EXIT_ERR;
}

static int
print_plan(const struct cli *c, const struct tsr_policyplan *plan,
    bool applied)
{
	size_t i, n = tsr_policyplan_count(plan);

	if (c->json)
		return cli_print_json(json_pack("{s:o,s:b}", "changes",
		    tsr_policyplan_json(plan), "applied", applied));
	if (n == 0) {
		printf("no changes\n");
		return CLI_EXIT_OK;
	}
	for (i = 0; i < n; i++)
		printf("%s\n", tsr_policyplan_line(plan, i));
	if (applied)
		printf("applied %zu change%s\n", n, n == 1 ? "" : "s");
	else
		printf("dry run: %zu change%s, nothing applied\n", n,
		    n == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

/* Parse the file, then converge the store to it in one transaction. */
static int
apply_file(const struct cli *c, const struct tsr_policyplan_opts *o,
    const char *text, size_t len, struct tsr_policydoc_problems *pr)
{
	struct tsr_why why = { "" };
	struct tsr_policydoc *doc = NULL;
	struct tsr_policyplan *plan = NULL;
	struct tsr_store *st = NULL;
	enum tsr_err rc;
	int ex;

	/* Check what needs no store before opening it. */
	rc = tsr_policydoc_parse(text, len, pr, &doc, &why);
	if (rc == TSR_ERR_INVALID)
		return print_problems(pr);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if ((ex = cli_open(c, &st)) != 0) {
		tsr_policydoc_destroy(doc);
		return ex;
	}
	rc = tsr_policyplan_apply(st, doc, o, time(NULL), pr, &plan, &why);
	tsr_store_close(st);
	if (rc == TSR_OK)
		ex = print_plan(c, plan, !o->dry_run);
	else if (rc == TSR_ERR_INVALID)
		ex = print_problems(pr);
	else
		ex = cli_fail(rc, &why);
	tsr_policyplan_destroy(plan);
	tsr_policydoc_destroy(doc);
	return ex;
}

static int
policy_apply(struct cli *c, int argc, char **argv)
{
	struct tsr_policyplan_opts o = { .prune = false, .dry_run = false };
	struct args_opt opts[] = {
		{ .name = "dry-run", .flag = &o.dry_run },
		{ .name = "prune", .flag = &o.prune },
		{ .name = NULL },
	};
	struct tsr_policydoc_problems *pr = NULL;
	char *text = NULL;
	size_t len = 0;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 3, 3)) != 0 ||
	    (ex = read_document(c->words[2], &text, &len)) != 0)
		return ex;
	if (tsr_policydoc_problems_create(&pr) != TSR_OK)
		ex = cli_fail(TSR_ERR_NOMEM, NULL);
	else
		ex = apply_file(c, &o, text, len, pr);
	tsr_policydoc_problems_destroy(pr);
	free(text);
	return ex;
}

int
cli_policy(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "export", policy_export }, { "apply", policy_apply },
		{ NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
