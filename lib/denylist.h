/*
 * denylist: the revoked tokens, in memory, for the request path.
 *
 * A snapshot of the store's live revocations: token entries by jti and,
 * per client, the latest time up to which all its tokens are revoked.
 * Immutable once loaded and safe to share between threads; lookups are
 * binary searches, so introspection never queries the database.
 */
#ifndef TSR_DENYLIST_H
#define TSR_DENYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store/store.h"

struct tsr_denylist;

/* Load the entries live at now.  Free with tsr_denylist_destroy. */
TSR_MUST_CHECK enum tsr_err tsr_denylist_load(struct tsr_store *st,
    int64_t now, struct tsr_denylist **out, struct tsr_why *why);

/* Build from rows (copied); for tests and tools. */
TSR_MUST_CHECK enum tsr_err tsr_denylist_build(
    const struct tsr_revocation *rows, size_t n, struct tsr_denylist **out);

void tsr_denylist_destroy(struct tsr_denylist *dl);

/* Token entries a list derived by tsr_denylist_add holds apart before
 * they are merged into its sorted array. */
#define TSR_DENYLIST_RECENT_MAX	256

/*
 * A new list: dl plus the token entry r, for a revocation this process
 * just wrote, so that it counts at once without reloading the store.
 * It shares dl's loaded arrays (a copy of a few recent entries is all
 * it costs; every TSR_DENYLIST_RECENT_MAX additions one merge).
 * TSR_ERR_EXISTS when r's jti is listed already, TSR_ERR_INVALID for a
 * client entry (reload for those), TSR_ERR_NOMEM.
 */
TSR_MUST_CHECK enum tsr_err tsr_denylist_add(const struct tsr_denylist *dl,
    const struct tsr_revocation *r, struct tsr_denylist **out);

/*
 * Is the token with this jti, issued to client at iat, revoked?  When it
 * is and match is not NULL, *match points at the entry that says so
 * (borrowed, valid as long as dl).
 */
bool tsr_denylist_match(const struct tsr_denylist *dl, const char *jti,
    const char *client, int64_t iat, const struct tsr_revocation **match);

/* Number of entries. */
size_t tsr_denylist_size(const struct tsr_denylist *dl);

#endif
