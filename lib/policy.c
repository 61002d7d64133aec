/*
 * policy: validation of names, CNs and scopes, the admin operations on
 * the store, and the read-only snapshot the request path looks callers
 * up in.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

struct tsr_policy {
	struct tsr_client	 *clients;	/* sorted by name */
	size_t			  n_clients;
	const struct tsr_client	**by_cn;	/* sorted by cn */
	struct tsr_grant	 *grants;	/* sorted by client, audience */
	size_t			  n_grants;
};

/* A (pointer, length) search key for the CN index. */
struct bytes {
	const char	*p;
	size_t		 len;
};

const char *
tsr_policy_quote(const char *s, size_t len, char buf[TSR_POLICY_QUOTE_BUF])
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < len && i < TSR_POLICY_QUOTE_MAX; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o,
			    TSR_POLICY_QUOTE_BUF - o, "\\x%02x", c);
	}
	if (i < len)
		o += (size_t)snprintf(buf + o, TSR_POLICY_QUOTE_BUF - o,
		    "...");
	buf[o] = '\0';
	return buf;
}

static bool
is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '/' || c == '-';
}

static bool
is_printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* RFC 6749 §3.3: NQCHAR = %x21 / %x23-5B / %x5D-7E. */
static bool
is_nqchar(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

/* Index of the first byte of s[0..len) failing ok, or len. */
static size_t
first_bad(const char *s, size_t len, bool (*ok)(unsigned char))
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!ok((unsigned char)s[i]))
			break;
	return i;
}

/*
 * The shared shape of every validator: s[0..len) must be min..max bytes,
 * each passing ok.  rule says what is allowed, for the line.
 */
static enum tsr_err
check_text(const char *what, const char *s, size_t len, size_t min,
    size_t max, bool (*ok)(unsigned char), const char *rule,
    struct tsr_why *why)
{
	char b[TSR_POLICY_QUOTE_BUF];
	size_t bad;

	if (len < min)
		return tsr_err_why(why, TSR_ERR_INVALID, "%s is empty", what);
	if (len > max)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "%s \"%s\" is longer than %zu characters", what,
		    tsr_policy_quote(s, len, b), max);
	if ((bad = first_bad(s, len, ok)) < len)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "%s \"%s\" has a bad character at %zu: want %s", what,
		    tsr_policy_quote(s, len, b), bad + 1, rule);
	return TSR_OK;
}

enum tsr_err
tsr_policy_check_name(const char *what, const char *name,
    struct tsr_why *why)
{
	if (what == NULL)
		what = "name";
	if (name == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "%s is missing", what);
	/* strnlen: never walk further than one past the limit. */
	return check_text(what, name, strnlen(name, TSR_POLICY_MAX_NAME + 1),
	    1, TSR_POLICY_MAX_NAME, is_name_char, "A-Z a-z 0-9 . _ : / -",
	    why);
}

enum tsr_err
tsr_policy_check_cn(const char *cn, struct tsr_why *why)
{
	if (cn == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "certificate CN is missing");
	return check_text("certificate CN", cn,
	    strnlen(cn, TSR_POLICY_MAX_CN + 1), 1, TSR_POLICY_MAX_CN,
	    is_printable, "printable ASCII", why);
}

enum tsr_err
tsr_policy_check_scope(const char *scope, size_t len, struct tsr_why *why)
{
	if (scope == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "scope is missing");
	return check_text("scope", scope, len, 1, TSR_POLICY_MAX_SCOPE,
	    is_nqchar, "printable ASCII except space, \" and \\", why);
}

enum tsr_err
tsr_policy_check_description(const char *text, struct tsr_why *why)
{
	if (text == NULL)	/* optional: absent is empty */
		return TSR_OK;
	return check_text("description", text,
	    strnlen(text, TSR_POLICY_MAX_DESCRIPTION + 1), 0,
	    TSR_POLICY_MAX_DESCRIPTION, is_printable, "printable ASCII", why);
}

static int
cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Join sorted, distinct scopes with single spaces; false if too long. */
static bool
join_scopes(const char **v, size_t n, char out[TSR_MAX_SCOPES_TEXT + 1])
{
	size_t i, len, o = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		len = strlen(v[i]);
		if (len + (i > 0) > TSR_MAX_SCOPES_TEXT - o)
			return false;
		if (i > 0)
			out[o++] = ' ';
		memcpy(out + o, v[i], len);
		o += len;
		out[o] = '\0';
	}
	return true;
}

enum tsr_err
tsr_policy_scopes_join(const char *const *scopes, size_t n,
    char out[TSR_MAX_SCOPES_TEXT + 1], struct tsr_why *why)
{
	const char **v = NULL;
	enum tsr_err rc = TSR_OK;
	size_t i, m = 0;

	out[0] = '\0';
	for (i = 0; i < n && rc == TSR_OK; i++)
		rc = tsr_policy_check_scope(scopes[i], scopes[i] == NULL ? 0 :
		    strnlen(scopes[i], TSR_POLICY_MAX_SCOPE + 1), why);
	if (rc != TSR_OK || n == 0)
		return rc;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "scopes");
	memcpy(v, scopes, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_str_ptr);
	for (i = 0; i < n; i++)		/* drop duplicates, now adjacent */
		if (m == 0 || strcmp(v[m - 1], v[i]) != 0)
			v[m++] = v[i];
	if (m > TSR_POLICY_MAX_SCOPES)
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "%zu scopes: at most %d per grant", m,
		    TSR_POLICY_MAX_SCOPES);
	else if (!join_scopes(v, m, out))
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "scopes too long: at most %d bytes joined",
		    TSR_MAX_SCOPES_TEXT);
	if (rc != TSR_OK)
		out[0] = '\0';
	free(v);
	return rc;
}

/* Copy a validated string into a row field; refuses to truncate. */
static enum tsr_err
copy_field(char *dst, size_t size, const char *src, struct tsr_why *why)
{
	size_t len = strnlen(src, size);

	if (len == size)
		return tsr_err_why(why, TSR_ERR_TOO_LONG, "value too long");
	memcpy(dst, src, len + 1);
	return TSR_OK;
}

enum tsr_err
tsr_policy_client_add(struct tsr_store *st, const char *name, const char *cn,
    const char *description, int64_t now, struct tsr_why *why)
{
	struct tsr_client c;
	enum tsr_err rc;

	memset(&c, 0, sizeof(c));
	if (description == NULL)
		description = "";
	if ((rc = tsr_policy_check_name("client name", name, why)) !=
	    TSR_OK ||
	    (rc = tsr_policy_check_cn(cn, why)) != TSR_OK ||
	    (rc = tsr_policy_check_description(description, why)) != TSR_OK ||
	    (rc = copy_field(c.name, sizeof(c.name), name, why)) != TSR_OK ||
	    (rc = copy_field(c.cn, sizeof(c.cn), cn, why)) != TSR_OK ||
	    (rc = copy_field(c.description, sizeof(c.description),
	    description, why)) != TSR_OK)
		return rc;
	c.enabled = true;
	c.created_at = c.updated_at = now;
	return tsr_store_client_insert(st, &c, why);
}

enum tsr_err
tsr_policy_check_cert_ttl(int64_t ttl_s, struct tsr_why *why)
{
	if (ttl_s < TSR_CERT_TTL_MIN || ttl_s > TSR_CERT_TTL_MAX)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "certificate lifetime must be 5m..7d");
	return TSR_OK;
}

enum tsr_err
tsr_policy_client_set(struct tsr_store *st, const char *name,
    int64_t cert_ttl_s, const char *description, int64_t now,
    struct tsr_why *why)
{
	struct tsr_client c;
	enum tsr_err rc;

	if ((rc = tsr_policy_check_name("client name", name, why)) != TSR_OK)
		return rc;
	if (cert_ttl_s != 0 &&
	    (rc = tsr_policy_check_cert_ttl(cert_ttl_s, why)) != TSR_OK)
		return rc;
	if (description != NULL &&
	    (rc = tsr_policy_check_description(description, why)) != TSR_OK)
		return rc;
	if ((rc = tsr_store_client_get(st, name, &c, why)) != TSR_OK)
		return rc;
	if (cert_ttl_s != 0)
		c.cert_ttl_s = cert_ttl_s;
	if (description != NULL &&
	    (rc = copy_field(c.description, sizeof(c.description),
	    description, why)) != TSR_OK)
		return rc;
	c.updated_at = now;
	return tsr_store_client_update(st, &c, why);
}

enum tsr_err
tsr_policy_client_set_enabled(struct tsr_store *st, const char *name,
    bool enabled, int64_t now, struct tsr_why *why)
{
	struct tsr_client c;
	enum tsr_err rc;

	if ((rc = tsr_policy_check_name("client name", name, why)) !=
	    TSR_OK ||
	    (rc = tsr_store_client_get(st, name, &c, why)) != TSR_OK)
		return rc;
	if (c.enabled == enabled)	/* no write, no reload for nothing */
		return TSR_OK;
	c.enabled = enabled;
	c.updated_at = now;
	return tsr_store_client_update(st, &c, why);
}

enum tsr_err
tsr_policy_client_remove(struct tsr_store *st, const char *name,
    struct tsr_why *why)
{
	enum tsr_err rc;

	if ((rc = tsr_policy_check_name("client name", name, why)) != TSR_OK)
		return rc;
	return tsr_store_client_delete(st, name, why);
}

enum tsr_err
tsr_policy_grant_add(struct tsr_store *st, const char *client,
    const char *audience, const char *const *scopes, size_t n_scopes,
    int64_t ttl_s, int64_t now, struct tsr_why *why)
{
	struct tsr_grant g;
	enum tsr_err rc;

	memset(&g, 0, sizeof(g));
	if (ttl_s < 0 || ttl_s > TSR_DURATION_MAX_S)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "grant ttl %lld s out of range (0 or 1..%lld)",
		    (long long)ttl_s, (long long)TSR_DURATION_MAX_S);
	if ((rc = tsr_policy_check_name("client name", client, why)) !=
	    TSR_OK ||
	    (rc = tsr_policy_check_name("audience", audience, why)) !=
	    TSR_OK ||
	    (rc = tsr_policy_scopes_join(scopes, n_scopes, g.scopes, why)) !=
	    TSR_OK ||
	    (rc = copy_field(g.client, sizeof(g.client), client, why)) !=
	    TSR_OK ||
	    (rc = copy_field(g.audience, sizeof(g.audience), audience,
	    why)) != TSR_OK)
		return rc;
	g.ttl_s = ttl_s;
	g.created_at = now;
	return tsr_store_grant_insert(st, &g, why);
}

enum tsr_err
tsr_policy_grant_remove(struct tsr_store *st, const char *client,
    const char *audience, struct tsr_why *why)
{
	enum tsr_err rc;

	if ((rc = tsr_policy_check_name("client name", client, why)) !=
	    TSR_OK ||
	    (rc = tsr_policy_check_name("audience", audience, why)) != TSR_OK)
		return rc;
	return tsr_store_grant_delete(st, client, audience, why);
}

/* --- the snapshot -------------------------------------------------- */

/* Byte order over (pointer, length): the order strcmp gives C strings. */
static int
cmp_bytes(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (c != 0)
		return c;
	return (a_len > b_len) - (a_len < b_len);
}

static int
cmp_client_name(const void *a, const void *b)
{
	return strcmp(((const struct tsr_client *)a)->name,
	    ((const struct tsr_client *)b)->name);
}

static int
cmp_client_cn(const void *a, const void *b)
{
	const struct tsr_client *x = *(const struct tsr_client *const *)a;
	const struct tsr_client *y = *(const struct tsr_client *const *)b;

	return strcmp(x->cn, y->cn);
}

static int
cmp_grant(const void *a, const void *b)
{
	const struct tsr_grant *x = a, *y = b;
	int c = strcmp(x->client, y->client);

	return c != 0 ? c : strcmp(x->audience, y->audience);
}

/* Sort what we look up in, rather than trust the store's ORDER BY to
 * match our comparisons. */
static enum tsr_err
index_snapshot(struct tsr_policy *p, struct tsr_why *why)
{
	size_t i;

	if (p->n_grants > 0)	/* qsort(NULL, 0, ...) is undefined */
		qsort(p->grants, p->n_grants, sizeof(*p->grants), cmp_grant);
	if (p->n_clients == 0)
		return TSR_OK;
	qsort(p->clients, p->n_clients, sizeof(*p->clients), cmp_client_name);
	if ((p->by_cn = calloc(p->n_clients, sizeof(*p->by_cn))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "policy snapshot");
	for (i = 0; i < p->n_clients; i++)
		p->by_cn[i] = &p->clients[i];
	qsort(p->by_cn, p->n_clients, sizeof(*p->by_cn), cmp_client_cn);
	return TSR_OK;
}

enum tsr_err
tsr_policy_load(struct tsr_store *st, struct tsr_policy **out,
    struct tsr_why *why)
{
	struct tsr_policy *p = NULL;
	enum tsr_err rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "policy snapshot");
	/* One read transaction would make the two lists agree; a grant
	 * whose client vanished in between is simply never looked up. */
	if ((rc = tsr_store_client_list(st, &p->clients, &p->n_clients,
	    why)) != TSR_OK ||
	    (rc = tsr_store_grant_list(st, NULL, NULL, &p->grants,
	    &p->n_grants, why)) != TSR_OK ||
	    (rc = index_snapshot(p, why)) != TSR_OK)
		goto out;
	*out = p;
	p = NULL;
out:
	tsr_policy_destroy(p);
	return rc;
}

void
tsr_policy_destroy(struct tsr_policy *p)
{
	if (p == NULL)
		return;
	free(p->clients);
	free(p->by_cn);
	free(p->grants);
	free(p);
}

static int
cmp_cn_key(const void *key, const void *elem)
{
	const struct bytes *k = key;
	const struct tsr_client *c = *(const struct tsr_client *const *)elem;

	return cmp_bytes(k->p, k->len, c->cn, strlen(c->cn));
}

const struct tsr_client *
tsr_policy_client_by_cn(const struct tsr_policy *p, const char *cn,
    size_t cn_len)
{
	const struct bytes key = { cn, cn_len };
	const struct tsr_client *const *hit;

	if (p == NULL || cn == NULL || p->n_clients == 0)
		return NULL;
	hit = bsearch(&key, p->by_cn, p->n_clients, sizeof(*p->by_cn),
	    cmp_cn_key);
	return hit != NULL ? *hit : NULL;
}

static int
cmp_name_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tsr_client *)elem)->name);
}

const struct tsr_client *
tsr_policy_client_by_name(const struct tsr_policy *p, const char *name)
{
	if (p == NULL || name == NULL || p->n_clients == 0)
		return NULL;
	return bsearch(name, p->clients, p->n_clients, sizeof(*p->clients),
	    cmp_name_key);
}

static int
cmp_grant_key(const void *key, const void *elem)
{
	const char *const *k = key;	/* { client, audience } */
	const struct tsr_grant *g = elem;
	int c = strcmp(k[0], g->client);

	return c != 0 ? c : strcmp(k[1], g->audience);
}

const struct tsr_grant *
tsr_policy_grant(const struct tsr_policy *p, const char *client,
    const char *audience)
{
	const char *key[2] = { client, audience };

	if (p == NULL || client == NULL || audience == NULL ||
	    p->n_grants == 0)
		return NULL;
	return bsearch(key, p->grants, p->n_grants, sizeof(*p->grants),
	    cmp_grant_key);
}

bool
tsr_policy_grant_has_scope(const struct tsr_grant *g, const char *scope,
    size_t scope_len)
{
	const char *s, *end;
	size_t len;

	if (g == NULL || scope == NULL || scope_len == 0)
		return false;
	/* Whole tokens only: "read" is not in "read:all". */
	for (s = g->scopes; *s != '\0'; s = *end == ' ' ? end + 1 : end) {
		end = strchr(s, ' ');
		if (end == NULL)
			end = s + strlen(s);
		len = (size_t)(end - s);
		if (len == scope_len && memcmp(s, scope, len) == 0)
			return true;
	}
	return false;
}

size_t
tsr_policy_grants_of(const struct tsr_grant *gs, size_t n, const char *name,
    size_t *cur)
{
	size_t start;

	while (*cur < n && strcmp(gs[*cur].client, name) < 0)
		(*cur)++;
	start = *cur;
	while (*cur < n && strcmp(gs[*cur].client, name) == 0)
		(*cur)++;
	return *cur - start;
}
