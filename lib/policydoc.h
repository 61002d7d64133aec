/*
 * policydoc: policy as code.  The whole policy (clients and their grants)
 * as one JSON document (SPEC "Policy document"), exported from the store
 * and applied to it.
 *
 *	{"clients":[{"name":"order-service","cn":"order-service",
 *	  "enabled":true,"description":"",
 *	  "grants":[{"audience":"inventory-service",
 *	    "scopes":["stock:deduct","stock:read"],"ttl":"5m"}]}]}
 *
 * Fields: a client needs "name" and "cn"; "enabled" defaults to true,
 * "description" to "", "grants" to [].  A grant needs "audience";
 * "scopes" defaults to [] (duplicates are dropped, as by "grant add"),
 * "ttl" to none (the server's --token-ttl; null means none too).  Any
 * other field is a problem.  Export always writes "enabled" and
 * "description" and writes "ttl" only when the grant has one, with
 * clients sorted by name, grants by audience and scopes in byte order,
 * so that export -> apply -> export gives the same bytes.
 *
 * Apply converges the store to the document in one transaction.  A
 * client in the document is described completely by it: its cn,
 * enabled and description are set, and grants the document does not
 * list for it are removed.  A client in the store but not in the
 * document is left alone (with its grants), or removed with prune.
 * Nothing is written for a row that already matches, so applying the
 * same document twice changes nothing the second time.
 *
 * Problems with a document are collected, all of them, in a
 * struct tsr_policydoc_problems: one line each, starting with the JSON
 * path of the value at fault, e.g.
 *	$.clients[2].grants[0].scopes[1]: scope "a\x22b" has a bad character ...
 */
#ifndef TSR_POLICYDOC_H
#define TSR_POLICYDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "store.h"

#define TSR_POLICYDOC_MAX_BYTES		(4 * 1024 * 1024)	/* document */
#define TSR_POLICYDOC_MAX_CLIENTS	10000
#define TSR_POLICYDOC_MAX_GRANTS	1000	/* per client */
#define TSR_POLICYDOC_MAX_PROBLEMS	100	/* lines kept; more counted */

struct tsr_policydoc;		/* a parsed, valid document */
struct tsr_policydoc_plan;	/* the changes an apply makes */
struct tsr_policydoc_problems;	/* what is wrong with a document */

/* An empty problem list.  Free with tsr_policydoc_problems_destroy. */
TSR_MUST_CHECK enum tsr_err tsr_policydoc_problems_create(
    struct tsr_policydoc_problems **out);
void tsr_policydoc_problems_destroy(struct tsr_policydoc_problems *pr);

/* Problems found in all; lines kept (at most TSR_POLICYDOC_MAX_PROBLEMS). */
size_t tsr_policydoc_problems_count(const struct tsr_policydoc_problems *pr);
size_t tsr_policydoc_problems_kept(const struct tsr_policydoc_problems *pr);
/* Line i < kept, without a newline; borrowed, valid as long as pr. */
const char *tsr_policydoc_problems_line(
    const struct tsr_policydoc_problems *pr, size_t i);

/*
 * The store's policy as a document: *out is malloc'd NUL-terminated
 * text ending in a newline, *out_len its length; free() it.  Reads in
 * one transaction, so it is a consistent snapshot.
 */
TSR_MUST_CHECK enum tsr_err tsr_policydoc_export(struct tsr_store *st,
    char **out, size_t *out_len, struct tsr_why *why);

/*
 * Parse and check text[0..len) on its own (no store).  TSR_OK: *out is
 * the document, free it with tsr_policydoc_destroy.  TSR_ERR_INVALID:
 * every problem is added to pr (malformed JSON is one problem giving
 * jansson's line and column) and *out is NULL.  TSR_ERR_NOMEM.
 */
TSR_MUST_CHECK enum tsr_err tsr_policydoc_parse(const char *text,
    size_t len, struct tsr_policydoc_problems *pr,
    struct tsr_policydoc **out, struct tsr_why *why);
void tsr_policydoc_destroy(struct tsr_policydoc *doc);

struct tsr_policydoc_opts {
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
 * tsr_policydoc_plan_destroy before doc: it points into doc.  TSR_ERR_INVALID: problems were added to
 * pr, the store is unchanged and *out is NULL.  Store errors (the
 * transaction is rolled back, nothing changed): TSR_ERR_DB, ... with why.
 */
TSR_MUST_CHECK enum tsr_err tsr_policydoc_apply(struct tsr_store *st,
    const struct tsr_policydoc *doc, const struct tsr_policydoc_opts *opts,
    int64_t now, struct tsr_policydoc_problems *pr,
    struct tsr_policydoc_plan **out, struct tsr_why *why);

void tsr_policydoc_plan_destroy(struct tsr_policydoc_plan *plan);

/* Number of changes; 0 means the store already matched. */
size_t tsr_policydoc_plan_count(const struct tsr_policydoc_plan *plan);

/*
 * Change i as one line for people, borrowed (valid as long as plan):
 *	+ client billing-service: cn "billing", enabled true
 *	~ client order-service: enabled true -> false
 *	- client old-service
 *	+ grant order-service -> inventory: scopes [stock:read], ttl 5m
 *	~ grant order-service -> inventory: scopes [a] -> [a b]
 *	- grant order-service -> billing
 */
const char *tsr_policydoc_plan_line(const struct tsr_policydoc_plan *plan,
    size_t i);

/*
 * The changes as a new JSON array (NULL when out of memory), each
 * {"op":"add"|"change"|"remove","kind":"client"|"grant","client":...}
 * with "audience" for grants, the new values for an add and
 * {"field":{"from":old,"to":new}} under "fields" for a change.
 */
json_t *tsr_policydoc_plan_json(const struct tsr_policydoc_plan *plan);

#endif
