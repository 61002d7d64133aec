/*
 * policydoc: policy as code.  The whole policy (clients and their grants)
 * as one JSON document ("Policy document"): exported from the store,
 * parsed and checked.  lib/policyplan applies a document to the store.
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
#include "store/store.h"

#define TSR_POLICYDOC_MAX_BYTES		(4 * 1024 * 1024)	/* document */
#define TSR_POLICYDOC_MAX_CLIENTS	10000
#define TSR_POLICYDOC_MAX_GRANTS	1000	/* per client */
#define TSR_POLICYDOC_MAX_PROBLEMS	100	/* lines kept; more counted */

struct tsr_policydoc;		/* a parsed, valid document */
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
 * Add the problem "path: message" (path may be NULL).  Past
 * TSR_POLICYDOC_MAX_PROBLEMS it is only counted.  A line is for people:
 * one cut short still names the path, and any byte that is not
 * printable becomes '?', so it stays one line.
 */
void tsr_policydoc_problems_add(struct tsr_policydoc_problems *pr,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record that a check could not finish for want of memory. */
void tsr_policydoc_problems_add_nomem(struct tsr_policydoc_problems *pr);

/*
 * The verdict on a check that started when pr counted before problems:
 * TSR_ERR_NOMEM if memory ran out (ever, in pr), TSR_ERR_INVALID if
 * problems were added since, else TSR_OK; why says which.
 */
TSR_MUST_CHECK enum tsr_err tsr_policydoc_problems_verdict(
    const struct tsr_policydoc_problems *pr, size_t before,
    struct tsr_why *why);

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

/*
 * A parsed document, read-only, for lib/policyplan.  Clients are in
 * name order, i < tsr_policydoc_client_count; what is returned is
 * borrowed, valid as long as doc.
 */
size_t tsr_policydoc_client_count(const struct tsr_policydoc *doc);
const struct tsr_client *tsr_policydoc_client(
    const struct tsr_policydoc *doc, size_t i);
/* Client i's grants, in audience order; *n gets how many. */
const struct tsr_grant *tsr_policydoc_client_grants(
    const struct tsr_policydoc *doc, size_t i, size_t *n);
/* Client i's place in the document's "clients" array: the 7 of the
 * path $.clients[7] that problems about it name. */
size_t tsr_policydoc_client_pos(const struct tsr_policydoc *doc, size_t i);
bool tsr_policydoc_has_client(const struct tsr_policydoc *doc,
    const char *name);

/* A grant's scopes ("a b c") and ttl (0: none) as the document writes
 * them: ["a","b","c"] and "5m" or null.  New references; NULL when out
 * of memory. */
json_t *tsr_policydoc_scopes_json(const char *scopes);
json_t *tsr_policydoc_ttl_json(int64_t ttl_s);

#endif
