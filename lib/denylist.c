#include "denylist.h"

#include <stdlib.h>
#include <string.h>

struct tsr_denylist {
	struct tsr_revocation	 *tokens;	/* sorted by jti */
	size_t			  n_tokens;
	struct tsr_revocation	 *clients;	/* sorted by client, one each:
						 * the latest revoked_at */
	size_t			  n_clients;
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

enum tsr_err
tsr_denylist_build(const struct tsr_revocation *rows, size_t n,
    struct tsr_denylist **out)
{
	struct tsr_denylist *dl;
	size_t i;

	*out = NULL;
	if ((dl = calloc(1, sizeof(*dl))) == NULL ||
	    (dl->tokens = calloc(n ? n : 1, sizeof(*rows))) == NULL ||
	    (dl->clients = calloc(n ? n : 1, sizeof(*rows))) == NULL) {
		tsr_denylist_destroy(dl);
		return TSR_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if (rows[i].kind == TSR_REVKIND_TOKEN)
			dl->tokens[dl->n_tokens++] = rows[i];
		else
			dl->clients[dl->n_clients++] = rows[i];
	}
	qsort(dl->tokens, dl->n_tokens, sizeof(*rows), by_jti);
	qsort(dl->clients, dl->n_clients, sizeof(*rows), by_client);
	dl->n_clients = dedupe_clients(dl->clients, dl->n_clients);
	*out = dl;
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
	free(dl->tokens);
	free(dl->clients);
	free(dl);
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
		hit = bsearch(&key, dl->tokens, dl->n_tokens, sizeof(key),
		    by_jti);
		if (hit != NULL)
			goto found;
	}
	if (strlen(client) < sizeof(key.client)) {
		memcpy(key.client, client, strlen(client) + 1);
		/* by_client also orders by time: compare names only here. */
		hit = bsearch(&key, dl->clients, dl->n_clients, sizeof(key),
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
	return dl->n_tokens + dl->n_clients;
}
