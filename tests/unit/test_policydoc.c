/*
 * test_policydoc: the policy document: bad documents and the exact
 * problem lines (paths included), and the limits.  Export and apply are
 * in test_policyplan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "policydoc.h"

/* Parse text; return the problem count, first and last lines in bufs. */
static size_t
problems_of(const char *text, char *first, char *last, size_t size)
{
	struct tsr_policydoc_problems *pr = NULL;
	struct tsr_policydoc *doc = NULL;
	enum tsr_err rc;
	size_t n;

	first[0] = last[0] = '\0';
	if (tsr_policydoc_problems_create(&pr) != TSR_OK)
		return SIZE_MAX;
	rc = tsr_policydoc_parse(text, strlen(text), pr, &doc, NULL);
	n = tsr_policydoc_problems_count(pr);
	CHECK_INT(rc, n == 0 ? TSR_OK : TSR_ERR_INVALID);
	CHECK(n == 0 ? doc != NULL : doc == NULL);
	if (n > 0) {
		(void)snprintf(first, size, "%s",
		    tsr_policydoc_problems_line(pr, 0));
		(void)snprintf(last, size, "%s",
		    tsr_policydoc_problems_line(pr,
		    tsr_policydoc_problems_kept(pr) - 1));
	}
	tsr_policydoc_destroy(doc);
	tsr_policydoc_problems_destroy(pr);
	return n;
}

static void
test_bad_documents(void)
{
	static const struct {
		const char	*doc;
		size_t		 n;		/* problems */
		const char	*first, *last;	/* last NULL: = first */
	} cases[] = {
		{ "{\"clients\":[{\"name\":\"a\",", 1,
		  "policy document is not valid JSON: line 1, column 24: "
		  "string or '}' expected near end of file", NULL },
		{ "", 1, "policy document is not valid JSON: line 1, column 0: "
		  "'[' or '{' expected near end of file", NULL },
		{ "{\"clients\":[],\"clients\":[]}", 1, "policy document is "
		  "not valid JSON: line 1, column 23: duplicate object key "
		  "near '\"clients\"'", NULL },
		{ "[]", 1, "$: want an object, got an array", NULL },
		{ "{}", 1, "$: missing field \"clients\"", NULL },
		{ "{\"clients\":{}}", 1, "$.clients: want an array, got an "
		  "object", NULL },
		{ "{\"clients\":[],\"client\":1}", 1,
		  "$: unknown field \"client\"", NULL },
		{ "{\"clients\":[7]}", 1,
		  "$.clients[0]: want an object, got a number", NULL },
		{ "{\"clients\":[{\"nmae\":\"x\",\"cn\":\"x\"}]}", 2,
		  "$.clients[0]: unknown field \"nmae\"",
		  "$.clients[0]: missing field \"name\"" },
		{ "{\"clients\":[{\"name\":\"x\",\"grants\":[]}]}", 1,
		  "$.clients[0]: missing field \"cn\"", NULL },
		{ "{\"clients\":[{\"name\":\"x y\",\"cn\":\"x\"}]}", 1,
		  "$.clients[0].name: client name \"x y\" has a bad character "
		  "at 2: want A-Z a-z 0-9 . _ : / -", NULL },
		{ "{\"clients\":[{\"name\":1,\"cn\":\"x\"}]}", 1,
		  "$.clients[0].name: want a string, got a number", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"\"}]}", 1,
		  "$.clients[0].cn: certificate CN is empty", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"a\\tb\"}]}", 1,
		  "$.clients[0].cn: certificate CN \"a\\x09b\" has a bad "
		  "character at 2: want printable ASCII", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"enabled\":1}]}",
		  1, "$.clients[0].enabled: want true or false, got a number",
		  NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\","
		  "\"description\":null}]}", 1,
		  "$.clients[0].description: want a string, got null", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":{}}]}",
		  1, "$.clients[0].grants: want an array, got an object",
		  NULL },
		{ "{\"clients\":[{\"name\":\"a\",\"cn\":\"a\"},"
		  "{\"name\":\"b\",\"cn\":\"b\"},{\"name\":\"c\",\"cn\":\"c\","
		  "\"grants\":[{\"audience\":\"s\",\"scopes\":[\"ok\","
		  "\"a\\\"b\"]}]}]}", 1,
		  "$.clients[2].grants[0].scopes[1]: scope \"a\\x22b\" has a "
		  "bad character at 2: want printable ASCII except space, \" "
		  "and \\", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"audience\":\"s\",\"scopes\":[1]}]}]}", 1,
		  "$.clients[0].grants[0].scopes[0]: want a string, got a "
		  "number", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"scopes\":[]}]}]}", 1,
		  "$.clients[0].grants[0]: missing field \"audience\"", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"audience\":\"s\",\"ttl\":\"5x\"}]}]}", 1,
		  "$.clients[0].grants[0].ttl: bad duration \"5x\": want a "
		  "number and s, m, h or d", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"audience\":\"s\",\"ttl\":\"0s\"}]}]}", 1,
		  "$.clients[0].grants[0].ttl: bad duration \"0s\": must be "
		  "positive", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"audience\":\"s\",\"ttl\":\"1\\n2s\"}]}]}", 1,
		  "$.clients[0].grants[0].ttl: bad duration \"1\\x0a2s\": "
		  "want a number and s, m, h or d", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"audience\":\"s\",\"ttl\":300}]}]}", 1,
		  "$.clients[0].grants[0].ttl: want a duration such as \"5m\", "
		  "got a number", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"audience\":\"s\"},{\"audience\":\"t\"},"
		  "{\"audience\":\"s\"}]}]}", 1,
		  "$.clients[0].grants[2].audience: duplicate audience \"s\", "
		  "also at $.clients[0].grants[0]", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"x\",\"grants\":"
		  "[{\"audience\":\"s\",\"scope\":[]}]}]}", 1,
		  "$.clients[0].grants[0]: unknown field \"scope\"", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"1\"},"
		  "{\"name\":\"y\",\"cn\":\"2\"},{\"name\":\"x\",\"cn\":\"3\"}]}",
		  1, "$.clients[2].name: duplicate client name \"x\", also at "
		  "$.clients[0]", NULL },
		{ "{\"clients\":[{\"name\":\"x\",\"cn\":\"same\"},"
		  "{\"name\":\"y\",\"cn\":\"same\"}]}", 1,
		  "$.clients[1].cn: duplicate certificate CN \"same\", also at "
		  "$.clients[0]", NULL },
		/* Every problem, not only the first. */
		{ "{\"x\":1,\"clients\":[{\"name\":\"\",\"cn\":\"c\","
		  "\"grants\":[{\"audience\":\"a\",\"ttl\":\"7w\"}]},"
		  "{\"name\":\"ok\",\"cn\":\"c\"}]}", 4,
		  "$: unknown field \"x\"",
		  "$.clients[1].cn: duplicate certificate CN \"c\", also at "
		  "$.clients[0]" },
	};
	char first[600], last[600];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = problems_of(cases[i].doc, first, last, sizeof(first));
		CHECK_INT(n, cases[i].n);
		CHECK_STR(first, cases[i].first);
		CHECK_STR(last, cases[i].last != NULL ? cases[i].last :
		    cases[i].first);
	}
}

static void
test_limits(void)
{
	struct tsr_policydoc_problems *pr = NULL;
	struct tsr_policydoc *doc = NULL;
	char first[600], last[600];
	size_t i, len, cap = 64 * 1024;
	char *big;

	/* Good minimal documents. */
	CHECK_INT(problems_of("{\"clients\":[]}", first, last, 600), 0);
	CHECK_INT(problems_of("{\"clients\":[{\"name\":\"a\",\"cn\":\"a\","
	    "\"grants\":[{\"audience\":\"b\",\"ttl\":null,\"scopes\":"
	    "[\"x\",\"x\"]}]}]}", first, last, 600), 0);

	/* Over the size cap: one problem, no parse. */
	CHECK_INT(tsr_policydoc_problems_create(&pr), TSR_OK);
	big = calloc(1, (size_t)TSR_POLICYDOC_MAX_BYTES + 1);
	CHECK(big != NULL);
	if (big != NULL) {
		memset(big, ' ', TSR_POLICYDOC_MAX_BYTES + 1);
		CHECK_INT(tsr_policydoc_parse(big,
		    (size_t)TSR_POLICYDOC_MAX_BYTES + 1, pr, &doc, NULL),
		    TSR_ERR_INVALID);
		CHECK_STR(tsr_policydoc_problems_line(pr, 0),
		    "policy document is larger than 4194304 bytes");
	}
	free(big);
	tsr_policydoc_problems_destroy(pr);

	/* 33 distinct scopes: one over the per-grant cap. */
	big = malloc(cap);
	len = (size_t)snprintf(big, cap, "{\"clients\":[{\"name\":\"a\","
	    "\"cn\":\"a\",\"grants\":[{\"audience\":\"b\",\"scopes\":[");
	for (i = 0; i < 33; i++)
		len += (size_t)snprintf(big + len, cap - len, "%s\"s%zu\"",
		    i ? "," : "", i);
	(void)snprintf(big + len, cap - len, "]}]}]}");
	CHECK_INT(problems_of(big, first, last, 600), 1);
	CHECK_STR(first, "$.clients[0].grants[0].scopes: 33 scopes: at most "
	    "32 per grant");

	/* Many problems: the first TSR_POLICYDOC_MAX_PROBLEMS are kept. */
	len = (size_t)snprintf(big, cap, "{\"clients\":[");
	for (i = 0; i < 150; i++)
		len += (size_t)snprintf(big + len, cap - len,
		    "%s{\"name\":\"n%zu\"}", i ? "," : "", i);
	(void)snprintf(big + len, cap - len, "]}");
	CHECK_INT(tsr_policydoc_problems_create(&pr), TSR_OK);
	CHECK_INT(tsr_policydoc_parse(big, strlen(big), pr, &doc, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_policydoc_problems_count(pr), 150);
	CHECK_INT(tsr_policydoc_problems_kept(pr),
	    TSR_POLICYDOC_MAX_PROBLEMS);
	CHECK_STR(tsr_policydoc_problems_line(pr, 99),
	    "$.clients[99]: missing field \"cn\"");
	tsr_policydoc_problems_destroy(pr);
	free(big);
}

int
main(void)
{
	test_bad_documents();
	test_limits();
	return check_done();
}
