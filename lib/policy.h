/*
 * policy: who may call which audience with which scopes.
 *
 * Validation rules (checked before the store is touched, so bad input
 * changes nothing):
 *   client names and audiences: 1-128 of [A-Za-z0-9._:/-];
 *   certificate CN: 1-64 printable ASCII characters (0x20-0x7e);
 *   scopes: RFC 6749 §3.3 scope-tokens, 1*( %x21 / %x23-5B / %x5D-7E ),
 *           at most TSR_POLICY_MAX_SCOPE each and TSR_POLICY_MAX_SCOPES;
 *   description: at most 256 printable characters.
 *
 * The operations validate, then call the store.  A struct tsr_policy is a
 * read-only in-memory snapshot for the request path: safe to share
 * between threads once loaded.
 */
#ifndef TSR_POLICY_H
#define TSR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store/store.h"

#define TSR_POLICY_MAX_NAME		TSR_MAX_NAME
#define TSR_POLICY_MAX_CN		TSR_MAX_CN
#define TSR_POLICY_MAX_DESCRIPTION	TSR_MAX_DESCRIPTION
#define TSR_POLICY_MAX_SCOPE		128	/* one scope-token */
#define TSR_POLICY_MAX_SCOPES		32	/* per grant */

/* Bad input is quoted in why lines cut to this many bytes, escaped. */
#define TSR_POLICY_QUOTE_MAX		40
#define TSR_POLICY_QUOTE_BUF		(TSR_POLICY_QUOTE_MAX * 4 + 4)

struct tsr_policy;

/*
 * Quote untrusted bytes s[0..len) for a why line, without the quote
 * marks: at most TSR_POLICY_QUOTE_MAX of them, with '"', '\\' and anything
 * unprintable as \xNN, "..." appended when cut.  Returns buf.
 */
const char *tsr_policy_quote(const char *s, size_t len,
    char buf[TSR_POLICY_QUOTE_BUF]);

/* Validators: TSR_OK or TSR_ERR_INVALID with a line quoting the value
 * (cut to a safe length).  what names the value in that line. */
TSR_MUST_CHECK enum tsr_err tsr_policy_check_name(const char *what,
    const char *name, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_policy_check_cn(const char *cn,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_policy_check_scope(const char *scope,
    size_t len, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_policy_check_description(const char *text,
    struct tsr_why *why);

/*
 * Validate scopes[0..n), drop duplicates, sort them (byte order) and join
 * them with single spaces into out.  n may be 0 (out is "").
 */
TSR_MUST_CHECK enum tsr_err tsr_policy_scopes_join(const char *const *scopes,
    size_t n, char out[TSR_MAX_SCOPES_TEXT + 1], struct tsr_why *why);

/* Operations on the store, each validating all input first. */
TSR_MUST_CHECK enum tsr_err tsr_policy_client_add(struct tsr_store *st,
    const char *name, const char *cn, const char *description, int64_t now,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_policy_client_set_enabled(
    struct tsr_store *st, const char *name, bool enabled, int64_t now,
    struct tsr_why *why);
/* A client's certificate lifetime: TSR_CERT_TTL_MIN..TSR_CERT_TTL_MAX. */
TSR_MUST_CHECK enum tsr_err tsr_policy_check_cert_ttl(int64_t ttl_s,
    struct tsr_why *why);
/* Change what is given: cert_ttl_s (0: leave it), description (NULL:
 * leave it). */
TSR_MUST_CHECK enum tsr_err tsr_policy_client_set(struct tsr_store *st,
    const char *name, int64_t cert_ttl_s, const char *description,
    int64_t now, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_policy_client_remove(struct tsr_store *st,
    const char *name, struct tsr_why *why);
/* ttl_s 0 means the server's token TTL; otherwise 1..TSR_DURATION_MAX_S. */
TSR_MUST_CHECK enum tsr_err tsr_policy_grant_add(struct tsr_store *st,
    const char *client, const char *audience, const char *const *scopes,
    size_t n_scopes, int64_t ttl_s, int64_t now, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_policy_grant_remove(struct tsr_store *st,
    const char *client, const char *audience, struct tsr_why *why);

/* Snapshot of all clients and grants.  Free with tsr_policy_destroy. */
TSR_MUST_CHECK enum tsr_err tsr_policy_load(struct tsr_store *st,
    struct tsr_policy **out, struct tsr_why *why);
void tsr_policy_destroy(struct tsr_policy *p);

/* Lookups in a snapshot; NULL when absent.  Borrowed, valid as long as
 * the snapshot.  cn is (pointer, length), not NUL-terminated. */
const struct tsr_client *tsr_policy_client_by_cn(const struct tsr_policy *p,
    const char *cn, size_t cn_len);
const struct tsr_client *tsr_policy_client_by_name(
    const struct tsr_policy *p, const char *name);
const struct tsr_grant *tsr_policy_grant(const struct tsr_policy *p,
    const char *client, const char *audience);

/*
 * Walk grants sorted by client, then audience (as tsr_store_grant_list
 * returns them): skip to client name from *cur on and return how many
 * grants it has, leaving *cur past them.  Names must be asked for in
 * increasing order.
 */
size_t tsr_policy_grants_of(const struct tsr_grant *gs, size_t n,
    const char *name, size_t *cur);

/* Is scope one of the space-separated scopes of g? */
bool tsr_policy_grant_has_scope(const struct tsr_grant *g, const char *scope,
    size_t scope_len);

#endif
