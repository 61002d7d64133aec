/*
 * fuzz_policydoc: tsr_policydoc_parse, the parse-and-check half of
 * "policy apply" (lib/policydoc.h).  No store: nothing is applied.
 *
 * Properties: TSR_OK gives a document and no problem; TSR_ERR_INVALID
 * gives no document and at least one problem; every kept line is
 * non-empty printable ASCII (it goes to a terminal and the audit trail)
 * starting with a JSON path "$" or "policy document"; kept <= count and
 * kept <= TSR_POLICYDOC_MAX_PROBLEMS.
 */
#include <string.h>

#include "fuzz.h"
#include "policydoc.h"

static void
check_line(const char *line)
{
	size_t i;

	FUZZ_ASSERT(line != NULL && line[0] != '\0');
	for (i = 0; line[i] != '\0'; i++)
		FUZZ_ASSERT((unsigned char)line[i] >= 0x20 &&
		    (unsigned char)line[i] <= 0x7e);
	FUZZ_ASSERT(line[0] == '$' ||
	    strncmp(line, "policy document", 15) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_policydoc_problems *pr = NULL;
	static char sentinel;	/* *out must be set, even on failure */
	struct tsr_policydoc *doc = (struct tsr_policydoc *)(void *)&sentinel;
	struct tsr_why why;
	size_t i, count, kept;
	enum tsr_err rc;

	if (tsr_policydoc_problems_create(&pr) != TSR_OK)
		return 0;
	tsr_err_clear(&why);
	rc = tsr_policydoc_parse((const char *)data, size, pr, &doc, &why);
	count = tsr_policydoc_problems_count(pr);
	kept = tsr_policydoc_problems_kept(pr);
	FUZZ_ASSERT(kept <= count && kept <= TSR_POLICYDOC_MAX_PROBLEMS);
	for (i = 0; i < kept; i++)
		check_line(tsr_policydoc_problems_line(pr, i));
	switch (rc) {
	case TSR_OK:
		FUZZ_ASSERT(doc != NULL);
		FUZZ_ASSERT(count == 0);
		break;
	case TSR_ERR_INVALID:
		FUZZ_ASSERT(doc == NULL);
		FUZZ_ASSERT(count >= 1 && kept >= 1);
		FUZZ_ASSERT(why.msg[0] != '\0');
		break;
	case TSR_ERR_NOMEM:
		FUZZ_ASSERT(doc == NULL);
		break;
	default:
		FUZZ_ASSERT(!"tsr_policydoc_parse: unexpected code");
	}
	tsr_policydoc_destroy(doc);
	tsr_policydoc_problems_destroy(pr);
	return 0;
}
