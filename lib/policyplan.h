/*
 * policyplan: plan and apply a policy document (lib/policydoc) against
 * the store.
 *
 * Apply converges the store to the document in one transaction.  A
 * client in the document is described completely by it: its cn,
 * enabled and description are set, and grants the document does not
 * list for it are removed.  A client in the store but not in the
 * document is left alone (with its grants), or removed with prune.
 * Nothing is written for a row that already matches, so applying the
 * same document twice changes nothing the second time.
 */
#ifndef TSR_POLICYPLAN_H
#define TSR_POLICYPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "policydoc.h"
#include "store/store.h"

struct tsr_policyplan;		/* the changes an apply makes */

struct tsr_policyplan_opts {
	bool	prune;		/* remove store clients the document omits */
	bool	dry_run;	/* plan only; roll back, change nothing */
};

/*
 * Converge the store to doc in one transaction: read the store, check
 * what depends on it (a certificate CN of the document held by a store
 * client the document does not mention and that prune does not remove),
 * plan, and unless opts->dry_run write the plan and commit.  now stamps
 * new and changed rows.
 *
 * TSR_OK: *out is the plan (possibly empty), free it with
 * tsr_policyplan_destroy before doc: it points into doc.  TSR_ERR_INVALID:
 * problems were added to pr, the store is unchanged and *out is NULL.
 * Store errors (the transaction is rolled back, nothing changed):
 * TSR_ERR_DB, ... with why.
 */
TSR_MUST_CHECK enum tsr_err tsr_policyplan_apply(struct tsr_store *st,
    const struct tsr_policydoc *doc, const struct tsr_policyplan_opts *opts,
    int64_t now, struct tsr_policydoc_problems *pr,
    struct tsr_policyplan **out, struct tsr_why *why);

/* NULL-safe. */
void tsr_policyplan_destroy(struct tsr_policyplan *plan);

/* Number of changes; 0 means the store already matched. */
size_t tsr_policyplan_count(const struct tsr_policyplan *plan);

/*
 * Change i as one line for people, borrowed (valid as long as plan):
 *	+ client billing-service: cn "billing", enabled true
 *	~ client order-service: enabled true -> false
 *	- client old-service
 *	+ grant order-service -> inventory: scopes [stock:read], ttl 5m
 *	~ grant order-service -> inventory: scopes [a] -> [a b]
 *	- grant order-service -> billing
 */
const char *tsr_policyplan_line(const struct tsr_policyplan *plan,
    size_t i);

/*
 * The changes as a new JSON array (NULL when out of memory), each
 * {"op":"add"|"change"|"remove","kind":"client"|"grant","client":...}
 * with "audience" for grants, the new values for an add and
 * {"field":{"from":old,"to":new}} under "fields" for a change.
 */
json_t *tsr_policyplan_json(const struct tsr_policyplan *plan);

#endif
