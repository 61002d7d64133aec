/*
 * test_policyplan: applying a policy document: export -> apply ->
 * export, applying twice, dry runs, prune, CN conflicts with the store
 * and CN swaps.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "policy.h"
#include "policydoc.h"
#include "policyplan.h"

struct fixture {
	char	dir[64];
	char	db[128];
	struct tsr_store *st;
};

static void
fixture_init(struct fixture *f)
{
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tsr_policydoc.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	(void)snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	f->st = NULL;
	CHECK_INT(tsr_store_open(f->db, &f->st, NULL), TSR_OK);
	CHECK_INT(tsr_store_migrate(f->st, NULL, NULL), TSR_OK);
}

static void
fixture_finish(struct fixture *f)
{
	static const char *const files[] = { "t.db", "t.db-wal", "t.db-shm" };
	char path[192];
	size_t i;

	tsr_store_close(f->st);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		(void)unlink(path);
	}
	if (rmdir(f->dir) != 0)
		perror(f->dir);
}

/* Parse text (which must be good) and apply it; the plan's lines are
 * joined into lines (";"-separated); returns apply's code. */
static enum tsr_err
apply_text(struct tsr_store *st, const char *text, bool prune, bool dry,
    char *lines, size_t size, char *problem, size_t psize)
{
	struct tsr_policyplan_opts o = { .prune = prune, .dry_run = dry };
	struct tsr_policydoc_problems *pr = NULL;
	struct tsr_policyplan *plan = NULL;
	struct tsr_policydoc *doc = NULL;
	enum tsr_err rc;
	size_t i, len = 0;

	lines[0] = problem[0] = '\0';
	if (tsr_policydoc_problems_create(&pr) != TSR_OK ||
	    tsr_policydoc_parse(text, strlen(text), pr, &doc, NULL) !=
	    TSR_OK) {
		tsr_policydoc_problems_destroy(pr);
		return TSR_ERR_MALFORMED;
	}
	rc = tsr_policyplan_apply(st, doc, &o, 1000, pr, &plan, NULL);
	for (i = 0; plan != NULL && i < tsr_policyplan_count(plan); i++)
		len += (size_t)snprintf(lines + len, size - len, "%s%s",
		    i ? ";" : "", tsr_policyplan_line(plan, i));
	if (tsr_policydoc_problems_kept(pr) > 0)
		(void)snprintf(problem, psize, "%s",
		    tsr_policydoc_problems_line(pr, 0));
	tsr_policyplan_destroy(plan);
	tsr_policydoc_destroy(doc);
	tsr_policydoc_problems_destroy(pr);
	return rc;
}

static char *
export_text(struct tsr_store *st)
{
	char *text = NULL;
	size_t len = 0;

	CHECK_INT(tsr_policydoc_export(st, &text, &len, NULL), TSR_OK);
	CHECK(text != NULL && strlen(text) == len && len > 0 &&
	    text[len - 1] == '\n');
	return text;
}

static const char doc1[] =
    "{\"clients\":[{\"name\":\"order-service\",\"cn\":\"order-service\","
    "\"grants\":[{\"audience\":\"inventory\",\"scopes\":[\"stock:read\","
    "\"stock:deduct\"],\"ttl\":\"300s\"},{\"audience\":\"billing\"}]},"
    "{\"name\":\"billing\",\"cn\":\"Billing CN\",\"enabled\":false,"
    "\"description\":\"pays\"}]}";

static void
test_apply(void)
{
	struct fixture f;
	char lines[2048], prob[600];
	char *e1, *e2;
	struct tsr_store_gens g;
	int64_t gen1, gen2;

	fixture_init(&f);
	e1 = export_text(f.st);
	CHECK_STR(e1, "{\n  \"clients\": []\n}\n");
	free(e1);

	/* Dry run: the plan, no write. */
	CHECK_INT(tsr_store_generations(f.st, &g, NULL), TSR_OK);
	gen1 = g.policy;
	CHECK_INT(apply_text(f.st, doc1, false, true, lines, sizeof(lines),
	    prob, sizeof(prob)), TSR_OK);
	CHECK_STR(lines, "+ client billing: cn \"Billing CN\", enabled false,"
	    " description \"pays\";"
	    "+ client order-service: cn \"order-service\", enabled true;"
	    "+ grant order-service -> billing: scopes [];"
	    "+ grant order-service -> inventory: scopes [stock:deduct "
	    "stock:read], ttl 5m");
	CHECK_INT(tsr_store_generations(f.st, &g, NULL), TSR_OK);
	gen2 = g.policy;
	CHECK_INT(gen2, gen1);

	/* Apply, then again: nothing the second time. */
	CHECK_INT(apply_text(f.st, doc1, false, false, lines, sizeof(lines),
	    prob, sizeof(prob)), TSR_OK);
	CHECK_INT(tsr_store_generations(f.st, &g, NULL), TSR_OK);
	gen1 = g.policy;
	CHECK(gen1 > gen2);
	CHECK_INT(apply_text(f.st, doc1, false, false, lines, sizeof(lines),
	    prob, sizeof(prob)), TSR_OK);
	CHECK_STR(lines, "");
	CHECK_INT(tsr_store_generations(f.st, &g, NULL), TSR_OK);
	gen2 = g.policy;
	CHECK_INT(gen2, gen1);

	/* export -> apply -> export: the same bytes. */
	e1 = export_text(f.st);
	CHECK_INT(apply_text(f.st, e1, false, false, lines, sizeof(lines),
	    prob, sizeof(prob)), TSR_OK);
	CHECK_STR(lines, "");
	e2 = export_text(f.st);
	CHECK_STR(e2, e1);
	free(e2);

	/* Swap CNs, change a grant, drop one: the document rules its
	 * clients' grants. */
	CHECK_INT(apply_text(f.st, "{\"clients\":[{\"name\":\"order-service\","
	    "\"cn\":\"Billing CN\",\"grants\":[{\"audience\":\"inventory\","
	    "\"scopes\":[\"stock:read\"]}]},{\"name\":\"billing\","
	    "\"cn\":\"order-service\",\"description\":\"pays\"}]}", false,
	    false, lines, sizeof(lines), prob, sizeof(prob)), TSR_OK);
	CHECK_STR(lines, "~ client billing: cn \"Billing CN\" -> "
	    "\"order-service\", enabled false -> true;"
	    "~ client order-service: cn \"order-service\" -> \"Billing CN\";"
	    "- grant order-service -> billing;"
	    "~ grant order-service -> inventory: scopes [stock:deduct "
	    "stock:read] -> [stock:read], ttl 5m -> none");

	/* Back to doc1; an unmentioned client stays without prune. */
	CHECK_INT(tsr_policy_client_add(f.st, "extra", "extra-cn", "", 5,
	    NULL), TSR_OK);
	CHECK_INT(apply_text(f.st, e1, false, false, lines, sizeof(lines),
	    prob, sizeof(prob)), TSR_OK);
	e2 = export_text(f.st);
	CHECK(strstr(e2, "\"extra\"") != NULL);
	free(e2);

	/* A CN the unmentioned client holds: a problem, unless pruned. */
	CHECK_INT(apply_text(f.st, "{\"clients\":[{\"name\":\"new\","
	    "\"cn\":\"extra-cn\"}]}", false, false, lines, sizeof(lines), prob,
	    sizeof(prob)), TSR_ERR_INVALID);
	CHECK_STR(prob, "$.clients[0].cn: certificate CN \"extra-cn\" is "
	    "used by client \"extra\", which the document does not mention "
	    "(--prune would remove it)");
	CHECK_INT(apply_text(f.st, "{\"clients\":[{\"name\":\"new\","
	    "\"cn\":\"extra-cn\"}]}", true, false, lines, sizeof(lines), prob,
	    sizeof(prob)), TSR_OK);
	CHECK_STR(lines, "- client billing;- client extra;"
	    "+ client new: cn \"extra-cn\", enabled true;"
	    "- client order-service");
	e2 = export_text(f.st);
	CHECK_STR(e2, "{\n  \"clients\": [\n    {\n      \"name\": \"new\",\n"
	    "      \"cn\": \"extra-cn\",\n      \"enabled\": true,\n"
	    "      \"description\": \"\",\n      \"grants\": []\n    }\n  ]\n"
	    "}\n");
	free(e2);
	free(e1);
	fixture_finish(&f);
}

int
main(void)
{
	test_apply();
	return check_done();
}
