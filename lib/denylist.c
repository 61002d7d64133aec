#include "denylist.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* What a load built: shared by the lists that tsr_denylist_add derives
 * from it, freed with the last of them. */
struct base {
	atomic_int		  refs;
	struct tsr_revocation	 *tokens;	/* sorted by jti */
	size_t			  n_tokens;
	struct tsr_revocation	 *clients;	/* sorted by client, one each:
						 * the latest revoked_at */
	size_t			  n_clients;
};

struct tsr_denylist {
	struct base		 *base;
	struct tsr_revocation	 *recent;	/* added since, sorted by jti */
	size_t			  n_recent;
};

static int
by_jti(const void *a, const void *b)
{
	return strcmp(((const struct tsr_revocation *)a)->jti,
	    ((const struct tsr_revocation *)b)->jti);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct tsr_revocation *)a)->client,
	    ((const struct tsr_revocation *)b)->client);
}

static int
by_client(const void *a, const void *b)
{
	const struct tsr_revocation *x = a, *y = b;
	int c = by_name(a, b);

	if (c != 0)
		return c;
	/* Latest first, so the first entry of a client is the one kept. */
	return (y->revoked_at > x->revoked_at) -
	    (y->revoked_at < x->revoked_at);
}

/* Keep the first (latest) entry of each client in a sorted array. */
static size_t
dedupe_clients(struct tsr_revocation *c, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++)
		if (o == 0 || strcmp(c[o - 1].client, c[i].client) != 0)
			c[o++] = c[i];
	return o;
}

static void
base_put(struct base *b)
{
	if (b == NULL || atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	free(b->tokens);
	free(b->clients);
	free(b);
}

/* A list of base (whose reference it takes) and nothing recent. */
static struct tsr_denylist *
wrap(struct base *b)
{
	struct tsr_denylist *dl;

	if ((dl = calloc(1, sizeof(*dl))) == NULL) {
		base_put(b);
		return NULL;
	}
	dl->base = b;
	return dl;
}

enum tsr_err
tsr_denylist_build(const struct tsr_revocation *rows, size_t n,
    struct tsr_denylist **out)
{
	struct base *b;
	size_t i;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return TSR_ERR_NOMEM;
	atomic_init(&b->refs, 1);
	if ((b->tokens = calloc(n ? n : 1, sizeof(*rows))) == NULL ||
	    (b->clients = calloc(n ? n : 1, sizeof(*rows))) == NULL) {
		base_put(b);
		return TSR_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if (rows[i].kind == TSR_REVKIND_TOKEN)
			b->tokens[b->n_tokens++] = rows[i];
		else
			b->clients[b->n_clients++] = rows[i];
	}
	qsort(b->tokens, b->n_tokens, sizeof(*rows), by_jti);
	qsort(b->clients, b->n_clients, sizeof(*rows), by_client);
	b->n_clients = dedupe_clients(b->clients, b->n_clients);
	return (*out = wrap(b)) != NULL ? TSR_OK : TSR_ERR_NOMEM;
}

/* Where r goes in a jti-sorted array. */
static size_t
insert_at(const struct tsr_revocation *a, size_t n,
    const struct tsr_revocation *r)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (by_jti(&a[mid], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A copy of the n sorted rows of a with r inserted; NULL on no memory. */
static struct tsr_revocation *
with_row(const struct tsr_revocation *a, size_t n,
    const struct tsr_revocation *r)
{
	struct tsr_revocation *c;
	size_t at = insert_at(a, n, r);

	if ((c = calloc(n + 1, sizeof(*c))) == NULL)
		return NULL;
	/* An empty list may have no array at all: memcpy wants a pointer
	 * even for zero bytes. */
	if (n > 0) {
		memcpy(c, a, at * sizeof(*c));
		memcpy(c + at + 1, a + at, (n - at) * sizeof(*c));
	}
	c[at] = *r;
	return c;
}

/* A new base: dl's tokens and recent ones merged, its clients shared by
 * copy.  Runs once every TSR_DENYLIST_RECENT_MAX additions. */
static struct base *
merge(const struct tsr_denylist *dl)
{
	const struct base *o = dl->base;
	struct base *b;
	size_t i = 0, j = 0, k = 0;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	atomic_init(&b->refs, 1);
	b->tokens = calloc(o->n_tokens + dl->n_recent + 1, sizeof(*b->tokens));
	b->clients = calloc(o->n_clients + 1, sizeof(*b->clients));
	if (b->tokens == NULL || b->clients == NULL) {
		base_put(b);
		return NULL;
	}
	while (i < o->n_tokens || j < dl->n_recent)
		b->tokens[k++] = j == dl->n_recent || (i < o->n_tokens &&
		    by_jti(&o->tokens[i], &dl->recent[j]) < 0) ?
		    o->tokens[i++] : dl->recent[j++];
	b->n_tokens = k;
	memcpy(b->clients, o->clients, o->n_clients * sizeof(*b->clients));
	b->n_clients = o->n_clients;
	return b;
}

enum tsr_err
tsr_denylist_add(const struct tsr_denylist *dl,
    const struct tsr_revocation *r, struct tsr_denylist **out)
{
	struct tsr_denylist *n;
	struct base *b;
	enum tsr_err rc;

	*out = NULL;
	if (r->kind != TSR_REVKIND_TOKEN)
		return TSR_ERR_INVALID;
	if (tsr_denylist_match(dl, r->jti, "", 0, NULL))
		return TSR_ERR_EXISTS;
	if (dl->n_recent >= TSR_DENYLIST_RECENT_MAX) {
		/* Fold the recent ones in, then add r to the result. */
		if ((b = merge(dl)) == NULL || (n = wrap(b)) == NULL)
			return TSR_ERR_NOMEM;
		rc = tsr_denylist_add(n, r, out);
		tsr_denylist_destroy(n);
		return rc;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return TSR_ERR_NOMEM;
	if ((n->recent = with_row(dl->recent, dl->n_recent, r)) == NULL) {
		free(n);
		return TSR_ERR_NOMEM;
	}
	n->n_recent = dl->n_recent + 1;
	n->base = dl->base;
	atomic_fetch_add(&n->base->refs, 1);
	*out = n;
	return TSR_OK;
}

enum tsr_err
tsr_denylist_load(struct tsr_store *st, int64_t now,
    struct tsr_denylist **out, struct tsr_why *why)
{
	struct tsr_revocation *rows = NULL;
	size_t n = 0;
	enum tsr_err rc;

	*out = NULL;
	if ((rc = tsr_store_revocation_list(st, now, &rows, &n, why)) ==
	    TSR_OK)
		rc = tsr_denylist_build(rows, n, out);
	free(rows);
	return rc;
}

void
tsr_denylist_destroy(struct tsr_denylist *dl)
{
	if (dl == NULL)
		return;
	base_put(dl->base);
	free(dl->recent);
	free(dl);
}

/* bsearch, which must not be handed a NULL array even when it is empty. */
static const struct tsr_revocation *
find(const struct tsr_revocation *key, const struct tsr_revocation *base,
    size_t n, int (*cmp)(const void *, const void *))
{
	if (n == 0)
		return NULL;
	return bsearch(key, base, n, sizeof(*key), cmp);
}

bool
tsr_denylist_match(const struct tsr_denylist *dl, const char *jti,
    const char *client, int64_t iat, const struct tsr_revocation **match)
{
	struct tsr_revocation key;
	const struct tsr_revocation *hit;

	memset(&key, 0, sizeof(key));
	if (match != NULL)
		*match = NULL;
	if (strlen(jti) < sizeof(key.jti)) {
		memcpy(key.jti, jti, strlen(jti) + 1);
		hit = find(&key, dl->base->tokens, dl->base->n_tokens, by_jti);
		if (hit == NULL)
			hit = find(&key, dl->recent, dl->n_recent, by_jti);
		if (hit != NULL)
			goto found;
	}
	if (strlen(client) < sizeof(key.client)) {
		memcpy(key.client, client, strlen(client) + 1);
		/* by_client also orders by time: compare names only here. */
		hit = find(&key, dl->base->clients, dl->base->n_clients,
		    by_name);
		/* tokens issued at or before the revocation time. */
		if (hit != NULL && iat <= hit->revoked_at)
			goto found;
	}
	return false;
found:
	if (match != NULL)
		*match = hit;
	return true;
}

size_t
tsr_denylist_size(const struct tsr_denylist *dl)
{
	return dl->base->n_tokens + dl->n_recent + dl->base->n_clients;
}
