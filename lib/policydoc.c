/*
 * policydoc: the policy as one JSON document (SPEC "Policy document"):
 * export, parse and check every field, plan against the store and apply
 * the plan in one transaction.
 */
#include "policydoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "policy.h"

#define PATH_BUF	96	/* "$.clients[9999].grants[999].scopes[99]" */
#define PROBLEM_BUF	512	/* a path, ": " and one why line */

struct tsr_policydoc_problems {
	char	*lines[TSR_POLICYDOC_MAX_PROBLEMS];
	size_t	 kept;
	size_t	 count;
	bool	 nomem;		/* a line could not be kept */
};

struct doc_client {
	struct tsr_client	 c;
	struct tsr_grant	*grants;	/* sorted by audience */
	size_t			 n_grants;
	size_t			 idx;		/* in the document, for paths */
};

struct tsr_policydoc {
	struct doc_client	*clients;	/* sorted by name */
	size_t			 n_clients;
};

enum change_op { OP_ADD, OP_CHANGE, OP_REMOVE };

#define F_CN		0x01u
#define F_DESCRIPTION	0x02u
#define F_ENABLED	0x04u
#define F_SCOPES	0x08u
#define F_TTL		0x10u

/* One row to add, change or remove: new from the document, old from the
 * store (NULL when absent). */
struct change {
	enum change_op		 op;
	bool			 is_grant;
	unsigned		 fields;	/* F_*, for OP_CHANGE */
	const struct tsr_client	*cl, *old_cl;
	const struct tsr_grant	*g, *old_g;
	char			*line;
};

struct tsr_policydoc_plan {
	struct tsr_client	*cls;	/* the store's, read in the transaction */
	size_t			 n_cls;
	struct tsr_grant	*gs;
	size_t			 n_gs;
	struct change		*v;
	size_t			 n, cap;
};

/* --- problems ------------------------------------------------------ */

enum tsr_err
tsr_policydoc_problems_create(struct tsr_policydoc_problems **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? TSR_ERR_NOMEM : TSR_OK;
}

void
tsr_policydoc_problems_destroy(struct tsr_policydoc_problems *pr)
{
	size_t i;

	if (pr == NULL)
		return;
	for (i = 0; i < pr->kept; i++)
		free(pr->lines[i]);
	free(pr);
}

size_t
tsr_policydoc_problems_count(const struct tsr_policydoc_problems *pr)
{
	return pr->count;
}

size_t
tsr_policydoc_problems_kept(const struct tsr_policydoc_problems *pr)
{
	return pr->kept;
}

const char *
tsr_policydoc_problems_line(const struct tsr_policydoc_problems *pr,
    size_t i)
{
	return i < pr->kept ? pr->lines[i] : NULL;
}

/*
 * Add "path: message" (path may be NULL).  A line is for people: one cut
 * short at PROBLEM_BUF still names the path, and any byte that is not
 * printable becomes '?', so it stays one line.
 */
static void __attribute__((format(printf, 3, 4)))
problem(struct tsr_policydoc_problems *pr, const char *path,
    const char *fmt, ...)
{
	char msg[PROBLEM_BUF];
	va_list ap;
	size_t i;
	int o = 0;

	pr->count++;
	if (pr->kept == TSR_POLICYDOC_MAX_PROBLEMS)
		return;
	if (path != NULL && (o = snprintf(msg, sizeof(msg), "%s: ", path)) <
	    0)
		o = 0;
	if ((size_t)o >= sizeof(msg))
		o = sizeof(msg) - 1;
	va_start(ap, fmt);
	(void)vsnprintf(msg + o, sizeof(msg) - (size_t)o, fmt, ap);
	va_end(ap);
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] > 0x7e)
			msg[i] = '?';
	if ((pr->lines[pr->kept] = strdup(msg)) == NULL)
		pr->nomem = true;
	else
		pr->kept++;
}

/* The verdict on a check that started with before problems. */
static enum tsr_err
verdict(const struct tsr_policydoc_problems *pr, size_t before,
    struct tsr_why *why)
{
	size_t n = pr->count - before;

	if (pr->nomem)
		return tsr_err_why(why, TSR_ERR_NOMEM, "policy document");
	if (n > 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "policy document has %zu problem%s", n, n == 1 ? "" : "s");
	return TSR_OK;
}

/* --- parsing: one value at a time ---------------------------------- */

/*
 * dst = base followed by the formatted rest.  Paths are short (indexes
 * are capped, field names fixed); one that did not fit would be cut, not
 * overrun.
 */
static void __attribute__((format(printf, 3, 4)))
path_fmt(char dst[PATH_BUF], const char *base, const char *fmt, ...)
{
	va_list ap;
	int o;

	if ((o = snprintf(dst, PATH_BUF, "%s", base)) < 0 || o >= PATH_BUF)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(dst + o, PATH_BUF - (size_t)o, fmt, ap);
	va_end(ap);
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static void
want(struct tsr_policydoc_problems *pr, const char *path, const char *what,
    const json_t *v)
{
	problem(pr, path, "want %s, got %s", what, type_name(v));
}

/* Report every field of obj that allowed (NULL-terminated) lacks. */
static void
check_fields(struct tsr_policydoc_problems *pr, const char *path,
    json_t *obj, const char *const *allowed)
{
	char b[TSR_POLICY_QUOTE_BUF];
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			problem(pr, path, "unknown field \"%s\"",
			    tsr_policy_quote(key, strlen(key), b));
	}
}

/* obj's string field key, or NULL: absent (a problem when required) or
 * not a string (a problem).  fpath gets the field's path. */
static const char *
str_field(struct tsr_policydoc_problems *pr, const char *path, json_t *obj,
    const char *key, bool required, char fpath[PATH_BUF])
{
	json_t *v = json_object_get(obj, key);

	path_fmt(fpath, path, ".%s", key);
	if (v == NULL) {
		if (required)
			problem(pr, path, "missing field \"%s\"", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		want(pr, fpath, "a string", v);
		return NULL;
	}
	return json_string_value(v);
}

enum rule { RULE_NAME, RULE_AUDIENCE, RULE_CN, RULE_DESCRIPTION };

/* Check s by rule, then copy it into dst (size bytes) or report it. */
static void
take(struct tsr_policydoc_problems *pr, const char *path, enum rule rule,
    const char *s, char *dst, size_t size)
{
	struct tsr_why why = { "" };
	enum tsr_err rc;
	size_t len;

	if (s == NULL)
		return;
	if (rule == RULE_NAME)
		rc = tsr_policy_check_name("client name", s, &why);
	else if (rule == RULE_AUDIENCE)
		rc = tsr_policy_check_name("audience", s, &why);
	else if (rule == RULE_CN)
		rc = tsr_policy_check_cn(s, &why);
	else
		rc = tsr_policy_check_description(s, &why);
	if (rc == TSR_OK && (len = strnlen(s, size)) < size)
		memcpy(dst, s, len + 1);
	else
		problem(pr, path, "%s", tsr_err_text(&why, rc == TSR_OK ?
		    TSR_ERR_TOO_LONG : rc));
}

static void
parse_scopes(struct tsr_policydoc_problems *pr, json_t *arr,
    const char *gpath, char out[TSR_STORE_MAX_SCOPES + 1])
{
	char path[PATH_BUF], epath[PATH_BUF];
	struct tsr_why why = { "" };
	const char **v = NULL;
	enum tsr_err rc;
	size_t i, n;
	json_t *e;
	bool ok = true;

	out[0] = '\0';
	path_fmt(path, gpath, ".scopes");
	if (arr == NULL)
		return;
	if (!json_is_array(arr)) {
		want(pr, path, "an array", arr);
		return;
	}
	if ((n = json_array_size(arr)) == 0)
		return;
	if ((v = calloc(n, sizeof(*v))) == NULL) {
		pr->nomem = true;
		return;
	}
	json_array_foreach(arr, i, e) {
		path_fmt(epath, path, "[%zu]", i);
		tsr_err_clear(&why);
		if (!json_is_string(e)) {
			want(pr, epath, "a string", e);
			ok = false;
		} else if ((rc = tsr_policy_check_scope(json_string_value(e),
		    json_string_length(e), &why)) != TSR_OK) {
			problem(pr, epath, "%s", tsr_err_text(&why, rc));
			ok = false;
		} else
			v[i] = json_string_value(e);
	}
	tsr_err_clear(&why);
	if (ok && (rc = tsr_policy_scopes_join(v, n, out, &why)) != TSR_OK) {
		if (rc == TSR_ERR_NOMEM)
			pr->nomem = true;
		else
			problem(pr, path, "%s", tsr_err_text(&why, rc));
	}
	free(v);
}

static bool
is_duration_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* Absent or null: no ttl of its own (the server's --token-ttl). */
static void
parse_ttl(struct tsr_policydoc_problems *pr, json_t *v, const char *gpath,
    int64_t *ttl_s)
{
	char path[PATH_BUF], b[TSR_POLICY_QUOTE_BUF];
	struct tsr_why why = { "" };
	enum tsr_err rc;
	const char *s;
	size_t len, i;

	*ttl_s = 0;
	path_fmt(path, gpath, ".ttl");
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		want(pr, path, "a duration such as \"5m\"", v);
		return;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	/* tsr_duration_parse quotes its input as is: give it tame bytes. */
	for (i = 0; i < len && is_duration_char((unsigned char)s[i]); i++)
		;
	if (i < len || len > TSR_DURATION_MAX_TEXT)
		problem(pr, path, "bad duration \"%s\": want a number and s, "
		    "m, h or d", tsr_policy_quote(s, len, b));
	else if ((rc = tsr_duration_parse(s, ttl_s, &why)) != TSR_OK)
		problem(pr, path, "%s", tsr_err_text(&why, rc));
}

static void
parse_grant(struct tsr_policydoc_problems *pr, json_t *v, const char *path,
    const char *client, struct tsr_grant *g)
{
	static const char *const fields[] = { "audience", "scopes", "ttl",
	    NULL };
	char fpath[PATH_BUF];

	memcpy(g->client, client, sizeof(g->client));
	if (!json_is_object(v)) {
		want(pr, path, "an object", v);
		return;
	}
	check_fields(pr, path, v, fields);
	take(pr, fpath, RULE_AUDIENCE, str_field(pr, path, v, "audience",
	    true, fpath), g->audience, sizeof(g->audience));
	parse_scopes(pr, json_object_get(v, "scopes"), path, g->scopes);
	parse_ttl(pr, json_object_get(v, "ttl"), path, &g->ttl_s);
}

/* An element of a list and its key, to find duplicates. */
struct keyed {
	const char	*key;
	size_t		 idx;
};

static int
cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * Report each of v[0..n) whose key repeats an earlier element's, at
 * "<list>[idx].<field>".  Empty keys (bad values, already reported) are
 * no duplicates.
 */
static void
report_dups(struct tsr_policydoc_problems *pr, struct keyed *v, size_t n,
    const char *list, const char *field, const char *what)
{
	char path[PATH_BUF], b[TSR_POLICY_QUOTE_BUF];
	size_t i, first = 0;

	qsort(v, n, sizeof(*v), cmp_keyed);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i].key, v[first].key) != 0) {
			first = i;
			continue;
		}
		if (v[i].key[0] == '\0')
			continue;
		path_fmt(path, list, "[%zu].%s", v[i].idx, field);
		problem(pr, path, "duplicate %s \"%s\", also at %s[%zu]", what,
		    tsr_policy_quote(v[i].key, strlen(v[i].key), b), list,
		    v[first].idx);
	}
}

static int
cmp_grant(const void *a, const void *b)
{
	return strcmp(((const struct tsr_grant *)a)->audience,
	    ((const struct tsr_grant *)b)->audience);
}

static void
parse_grants(struct tsr_policydoc_problems *pr, json_t *arr,
    const char *cpath, size_t *total, struct doc_client *dc)
{
	char list[PATH_BUF], path[PATH_BUF];
	struct keyed *k = NULL;
	size_t j, n;

	path_fmt(list, cpath, ".grants");
	if (arr == NULL)
		return;
	if (!json_is_array(arr)) {
		want(pr, list, "an array", arr);
		return;
	}
	if ((n = json_array_size(arr)) > TSR_POLICYDOC_MAX_GRANTS - *total) {
		problem(pr, list, "too many grants: at most %d in a document",
		    TSR_POLICYDOC_MAX_GRANTS);
		return;
	}
	*total += n;
	if (n == 0)
		return;
	if ((dc->grants = calloc(n, sizeof(*dc->grants))) == NULL ||
	    (k = calloc(n, sizeof(*k))) == NULL) {
		pr->nomem = true;
		return;
	}
	dc->n_grants = n;
	for (j = 0; j < n; j++) {
		path_fmt(path, list, "[%zu]", j);
		parse_grant(pr, json_array_get(arr, j), path, dc->c.name,
		    &dc->grants[j]);
		k[j].key = dc->grants[j].audience;
		k[j].idx = j;
	}
	report_dups(pr, k, n, list, "audience", "audience");
	qsort(dc->grants, n, sizeof(*dc->grants), cmp_grant);
	free(k);
}

static void
parse_client(struct tsr_policydoc_problems *pr, json_t *v, size_t i,
    size_t *total, struct doc_client *dc)
{
	static const char *const fields[] = { "name", "cn", "enabled",
	    "description", "grants", NULL };
	char path[PATH_BUF], fpath[PATH_BUF];
	json_t *e;

	dc->idx = i;
	dc->c.enabled = true;
	path_fmt(path, "$.clients", "[%zu]", i);
	if (!json_is_object(v)) {
		want(pr, path, "an object", v);
		return;
	}
	check_fields(pr, path, v, fields);
	take(pr, fpath, RULE_NAME, str_field(pr, path, v, "name", true,
	    fpath), dc->c.name, sizeof(dc->c.name));
	take(pr, fpath, RULE_CN, str_field(pr, path, v, "cn", true, fpath),
	    dc->c.cn, sizeof(dc->c.cn));
	take(pr, fpath, RULE_DESCRIPTION, str_field(pr, path, v,
	    "description", false, fpath), dc->c.description,
	    sizeof(dc->c.description));
	if ((e = json_object_get(v, "enabled")) != NULL) {
		path_fmt(fpath, path, ".enabled");
		if (json_is_boolean(e))
			dc->c.enabled = json_is_true(e);
		else
			want(pr, fpath, "true or false", e);
	}
	parse_grants(pr, json_object_get(v, "grants"), path, total, dc);
}

static int
cmp_doc_client(const void *a, const void *b)
{
	return strcmp(((const struct doc_client *)a)->c.name,
	    ((const struct doc_client *)b)->c.name);
}

/* Names and CNs must be unique within the document. */
static void
check_unique(struct tsr_policydoc_problems *pr, struct tsr_policydoc *doc)
{
	struct keyed *names, *cns;
	size_t i, n = doc->n_clients;

	names = calloc(n, sizeof(*names));
	cns = calloc(n, sizeof(*cns));
	if (names == NULL || cns == NULL) {
		pr->nomem = true;
		goto out;
	}
	for (i = 0; i < n; i++) {
		names[i].key = doc->clients[i].c.name;
		cns[i].key = doc->clients[i].c.cn;
		names[i].idx = cns[i].idx = i;
	}
	report_dups(pr, names, n, "$.clients", "name", "client name");
	report_dups(pr, cns, n, "$.clients", "cn", "certificate CN");
out:
	free(names);
	free(cns);
}

static void
parse_root(struct tsr_policydoc_problems *pr, json_t *root,
    struct tsr_policydoc *doc)
{
	static const char *const fields[] = { "clients", NULL };
	size_t i, n, total = 0;
	json_t *arr;

	if (!json_is_object(root)) {
		want(pr, "$", "an object", root);
		return;
	}
	check_fields(pr, "$", root, fields);
	if ((arr = json_object_get(root, "clients")) == NULL) {
		problem(pr, "$", "missing field \"clients\"");
		return;
	}
	if (!json_is_array(arr)) {
		want(pr, "$.clients", "an array", arr);
		return;
	}
	if ((n = json_array_size(arr)) > TSR_POLICYDOC_MAX_CLIENTS) {
		problem(pr, "$.clients", "%zu clients: at most %d", n,
		    TSR_POLICYDOC_MAX_CLIENTS);
		return;
	}
	if (n == 0)
		return;
	if ((doc->clients = calloc(n, sizeof(*doc->clients))) == NULL) {
		pr->nomem = true;
		return;
	}
	doc->n_clients = n;
	for (i = 0; i < n; i++)
		parse_client(pr, json_array_get(arr, i), i, &total,
		    &doc->clients[i]);
	check_unique(pr, doc);
	qsort(doc->clients, n, sizeof(*doc->clients), cmp_doc_client);
}

enum tsr_err
tsr_policydoc_parse(const char *text, size_t len,
    struct tsr_policydoc_problems *pr, struct tsr_policydoc **out,
    struct tsr_why *why)
{
	struct tsr_policydoc *doc = NULL;
	size_t before = pr->count;
	json_t *root = NULL;
	json_error_t jerr;
	enum tsr_err rc;

	*out = NULL;
	if (len > TSR_POLICYDOC_MAX_BYTES)
		problem(pr, NULL, "policy document is larger than %d bytes",
		    TSR_POLICYDOC_MAX_BYTES);
	else if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		problem(pr, NULL, "policy document is not valid JSON: line %d, "
		    "column %d: %s", jerr.line, jerr.column, jerr.text);
	else if ((doc = calloc(1, sizeof(*doc))) == NULL)
		pr->nomem = true;
	else
		parse_root(pr, root, doc);
	if ((rc = verdict(pr, before, why)) == TSR_OK) {
		*out = doc;
		doc = NULL;
	}
	json_decref(root);
	tsr_policydoc_destroy(doc);
	return rc;
}

void
tsr_policydoc_destroy(struct tsr_policydoc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->n_clients; i++)
		free(doc->clients[i].grants);
	free(doc->clients);
	free(doc);
}

/* --- export -------------------------------------------------------- */

/* "a b c" -> ["a","b","c"]; NULL when out of memory. */
static json_t *
scopes_json(const char *scopes)
{
	json_t *arr = json_array();
	const char *p = scopes, *sp;

	while (arr != NULL && *p != '\0') {
		if ((sp = strchr(p, ' ')) == NULL)
			sp = p + strlen(p);
		if (json_array_append_new(arr, json_stringn(p,
		    (size_t)(sp - p))) != 0) {
			json_decref(arr);
			return NULL;
		}
		p = *sp == ' ' ? sp + 1 : sp;
	}
	return arr;
}

/* "5m", or JSON null for no ttl of its own. */
static json_t *
ttl_json(int64_t ttl_s)
{
	char buf[TSR_DURATION_BUF];

	if (ttl_s == 0)
		return json_null();
	tsr_duration_format(ttl_s, buf);
	return json_string(buf);
}

/* Set obj[key] = v (stolen); false (and v freed) on failure or NULL. */
static bool
set(json_t *obj, const char *key, json_t *v)
{
	return obj != NULL && json_object_set_new(obj, key, v) == 0;
}

static json_t *
grant_doc(const struct tsr_grant *g)
{
	json_t *o = json_object();

	if (!set(o, "audience", json_string(g->audience)) ||
	    !set(o, "scopes", scopes_json(g->scopes)) ||
	    (g->ttl_s != 0 && !set(o, "ttl", ttl_json(g->ttl_s)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A client and its grants, gs[0..n). */
static json_t *
client_doc(const struct tsr_client *c, const struct tsr_grant *gs, size_t n)
{
	json_t *o = json_object(), *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, grant_doc(&gs[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (!set(o, "name", json_string(c->name)) ||
	    !set(o, "cn", json_string(c->cn)) ||
	    !set(o, "enabled", json_boolean(c->enabled)) ||
	    !set(o, "description", json_string(c->description)) ||
	    !set(o, "grants", arr)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The grants of client name in gs (sorted by client, then audience),
 * from *cur on; names are asked for in increasing order. */
static size_t
grants_of(const struct tsr_grant *gs, size_t n, const char *name,
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

static json_t *
export_doc(const struct tsr_client *cls, size_t n_cls,
    const struct tsr_grant *gs, size_t n_gs)
{
	json_t *arr = json_array(), *doc = json_object();
	size_t i, cur = 0, n;

	for (i = 0; arr != NULL && i < n_cls; i++) {
		n = grants_of(gs, n_gs, cls[i].name, &cur);
		if (json_array_append_new(arr, client_doc(&cls[i],
		    gs + cur - n, n)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (!set(doc, "clients", arr)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

enum tsr_err
tsr_policydoc_export(struct tsr_store *st, char **out, size_t *out_len,
    struct tsr_why *why)
{
	struct tsr_client *cls = NULL;
	struct tsr_grant *gs = NULL;
	size_t n_cls = 0, n_gs = 0, len;
	char *text = NULL;
	json_t *doc = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_len = 0;
	/* One snapshot: no client without the grants it had. */
	if ((rc = tsr_store_begin(st, why)) != TSR_OK)
		return rc;
	rc = tsr_store_client_list(st, &cls, &n_cls, why);
	if (rc == TSR_OK)
		rc = tsr_store_grant_list(st, NULL, NULL, &gs, &n_gs, why);
	tsr_store_rollback(st);		/* read only */
	if (rc != TSR_OK)
		goto out;
	if ((doc = export_doc(cls, n_cls, gs, n_gs)) == NULL ||
	    (text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL || (*out = malloc((len = strlen(text)) + 2)) == NULL) {
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "policy export");
		goto out;
	}
	memcpy(*out, text, len);
	(*out)[len] = '\n';
	(*out)[len + 1] = '\0';
	*out_len = len + 1;
out:
	free(text);
	json_decref(doc);
	free(gs);
	free(cls);
	return rc;
}

/* --- the plan ------------------------------------------------------ */

static struct change *
push(struct tsr_policydoc_plan *p, enum change_op op, bool is_grant)
{
	struct change *grown;
	size_t cap;

	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*grown) ||
		    (grown = realloc(p->v, cap * sizeof(*grown))) == NULL)
			return NULL;
		p->v = grown;
		p->cap = cap;
	}
	memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
	p->v[p->n].op = op;
	p->v[p->n].is_grant = is_grant;
	return &p->v[p->n++];
}

static enum tsr_err
push_client(struct tsr_policydoc_plan *p, enum change_op op,
    unsigned fields, const struct tsr_client *cl,
    const struct tsr_client *old, struct tsr_why *why)
{
	struct change *ch;

	if ((ch = push(p, op, false)) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "policy plan");
	ch->fields = fields;
	ch->cl = cl;
	ch->old_cl = old;
	return TSR_OK;
}

static enum tsr_err
push_grant(struct tsr_policydoc_plan *p, enum change_op op,
    unsigned fields, const struct tsr_grant *g, const struct tsr_grant *old,
    struct tsr_why *why)
{
	struct change *ch;

	if ((ch = push(p, op, true)) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "policy plan");
	ch->fields = fields;
	ch->g = g;
	ch->old_g = old;
	return TSR_OK;
}

/* Merge the document's grants of a client with the store's, both sorted
 * by audience. */
static enum tsr_err
plan_grants(struct tsr_policydoc_plan *p, const struct doc_client *dc,
    const struct tsr_grant *sg, size_t n_sg, struct tsr_why *why)
{
	const struct tsr_grant *d;
	size_t i = 0, j = 0;
	enum tsr_err rc = TSR_OK;
	unsigned f;
	int c;

	while (rc == TSR_OK && (i < dc->n_grants || j < n_sg)) {
		d = i < dc->n_grants ? &dc->grants[i] : NULL;
		c = d == NULL ? 1 : j == n_sg ? -1 :
		    strcmp(d->audience, sg[j].audience);
		if (c < 0)
			rc = push_grant(p, OP_ADD, 0, d, NULL, why);
		else if (c > 0)
			rc = push_grant(p, OP_REMOVE, 0, NULL, &sg[j], why);
		else {
			f = (strcmp(d->scopes, sg[j].scopes) != 0 ? F_SCOPES :
			    0) | (d->ttl_s != sg[j].ttl_s ? F_TTL : 0);
			if (f != 0)
				rc = push_grant(p, OP_CHANGE, f, d, &sg[j],
				    why);
		}
		i += c <= 0;
		j += c >= 0;
	}
	return rc;
}

static unsigned
client_diff(const struct tsr_client *a, const struct tsr_client *b)
{
	return (strcmp(a->cn, b->cn) != 0 ? F_CN : 0) |
	    (strcmp(a->description, b->description) != 0 ? F_DESCRIPTION :
	    0) | (a->enabled != b->enabled ? F_ENABLED : 0);
}

/* Every client in the document or the store, in name order. */
static enum tsr_err
plan_build(struct tsr_policydoc_plan *p, const struct tsr_policydoc *doc,
    bool prune, struct tsr_why *why)
{
	const struct doc_client *d;
	const struct tsr_client *s;
	size_t i = 0, j = 0, cur = 0, n_sg;
	enum tsr_err rc = TSR_OK;
	unsigned f;
	int c;

	while (rc == TSR_OK && (i < doc->n_clients || j < p->n_cls)) {
		d = i < doc->n_clients ? &doc->clients[i] : NULL;
		s = j < p->n_cls ? &p->cls[j] : NULL;
		c = d == NULL ? 1 : s == NULL ? -1 :
		    strcmp(d->c.name, s->name);
		if (c > 0 && prune)
			rc = push_client(p, OP_REMOVE, 0, NULL, s, why);
		else if (c < 0)
			rc = push_client(p, OP_ADD, 0, &d->c, NULL, why);
		else if (c == 0 && (f = client_diff(&d->c, s)) != 0)
			rc = push_client(p, OP_CHANGE, f, &d->c, s, why);
		if (rc == TSR_OK && c <= 0) {
			n_sg = grants_of(p->gs, p->n_gs, d->c.name, &cur);
			rc = plan_grants(p, d, p->gs + cur - n_sg, n_sg, why);
		}
		i += c <= 0;
		j += c >= 0;
	}
	return rc;
}

static const struct doc_client *
doc_client_by_name(const struct tsr_policydoc *doc, const char *name)
{
	struct doc_client key;

	memset(&key, 0, sizeof(key));
	if (strlen(name) >= sizeof(key.c.name))
		return NULL;
	memcpy(key.c.name, name, strlen(name) + 1);
	return bsearch(&key, doc->clients, doc->n_clients,
	    sizeof(*doc->clients), cmp_doc_client);
}

static int
cmp_cn_ptr(const void *a, const void *b)
{
	return strcmp((*(const struct doc_client *const *)a)->c.cn,
	    (*(const struct doc_client *const *)b)->c.cn);
}

/*
 * Without prune, a store client the document does not mention stays, and
 * so does its CN: no client of the document may take it.
 */
static void
check_store_cns(struct tsr_policydoc_problems *pr,
    const struct tsr_policydoc_plan *p, const struct tsr_policydoc *doc)
{
	char path[PATH_BUF], b[TSR_POLICY_QUOTE_BUF];
	const struct doc_client **by_cn, *key, **hit;
	const struct tsr_client *s;
	struct doc_client key_dc;
	size_t i;

	if (doc->n_clients == 0)
		return;
	if ((by_cn = calloc(doc->n_clients, sizeof(*by_cn))) == NULL) {
		pr->nomem = true;
		return;
	}
	for (i = 0; i < doc->n_clients; i++)
		by_cn[i] = &doc->clients[i];
	qsort(by_cn, doc->n_clients, sizeof(*by_cn), cmp_cn_ptr);
	memset(&key_dc, 0, sizeof(key_dc));
	key = &key_dc;
	for (i = 0; i < p->n_cls; i++) {
		s = &p->cls[i];
		memcpy(key_dc.c.cn, s->cn, sizeof(key_dc.c.cn));
		if (doc_client_by_name(doc, s->name) != NULL ||
		    (hit = bsearch(&key, by_cn, doc->n_clients,
		    sizeof(*by_cn), cmp_cn_ptr)) == NULL)
			continue;
		path_fmt(path, "$.clients", "[%zu].cn", (*hit)->idx);
		problem(pr, path, "certificate CN \"%s\" is used by client "
		    "\"%s\", which the document does not mention (--prune "
		    "would remove it)", tsr_policy_quote(s->cn, strlen(s->cn),
		    b), s->name);
	}
	free(by_cn);
}

/* --- describing the plan ------------------------------------------- */

/* A growing line; on failure s is NULL and stays so. */
struct text {
	char	*s;
	size_t	 len;
	bool	 failed;
};

static void __attribute__((format(printf, 2, 3)))
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *grown;
	int n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (grown = realloc(t->s, t->len + (size_t)n + 1)) ==
	    NULL) {
		free(t->s);
		t->s = NULL;
		t->failed = true;
		return;
	}
	t->s = grown;
	va_start(ap, fmt);
	(void)vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static const char *
ttl_text(int64_t ttl_s, char buf[TSR_DURATION_BUF])
{
	if (ttl_s == 0)
		return "none";
	tsr_duration_format(ttl_s, buf);
	return buf;
}

static const char *
bool_text(bool b)
{
	return b ? "true" : "false";
}

static void
describe_client(struct text *t, const struct change *ch)
{
	const struct tsr_client *c = ch->cl, *o = ch->old_cl;
	char b1[TSR_POLICY_QUOTE_BUF], b2[TSR_POLICY_QUOTE_BUF];
	const char *sep = "";

	if (ch->op == OP_REMOVE) {
		text_add(t, "- client %s", o->name);
		return;
	}
	if (ch->op == OP_ADD) {
		text_add(t, "+ client %s: cn \"%s\", enabled %s", c->name,
		    tsr_policy_quote(c->cn, strlen(c->cn), b1),
		    bool_text(c->enabled));
		if (c->description[0] != '\0')
			text_add(t, ", description \"%s\"", tsr_policy_quote(
			    c->description, strlen(c->description), b1));
		return;
	}
	text_add(t, "~ client %s:", c->name);
	if (ch->fields & F_CN) {
		text_add(t, " cn \"%s\" -> \"%s\"", tsr_policy_quote(o->cn,
		    strlen(o->cn), b1), tsr_policy_quote(c->cn, strlen(c->cn),
		    b2));
		sep = ",";
	}
	if (ch->fields & F_ENABLED) {
		text_add(t, "%s enabled %s -> %s", sep, bool_text(o->enabled),
		    bool_text(c->enabled));
		sep = ",";
	}
	if (ch->fields & F_DESCRIPTION)
		text_add(t, "%s description \"%s\" -> \"%s\"", sep,
		    tsr_policy_quote(o->description, strlen(o->description),
		    b1), tsr_policy_quote(c->description,
		    strlen(c->description), b2));
}

static void
describe_grant(struct text *t, const struct change *ch)
{
	const struct tsr_grant *g = ch->g, *o = ch->old_g;
	char d1[TSR_DURATION_BUF], d2[TSR_DURATION_BUF];

	if (ch->op == OP_REMOVE) {
		text_add(t, "- grant %s -> %s", o->client, o->audience);
		return;
	}
	if (ch->op == OP_ADD) {
		text_add(t, "+ grant %s -> %s: scopes [%s]", g->client,
		    g->audience, g->scopes);
		if (g->ttl_s != 0)
			text_add(t, ", ttl %s", ttl_text(g->ttl_s, d1));
		return;
	}
	text_add(t, "~ grant %s -> %s:", g->client, g->audience);
	if (ch->fields & F_SCOPES)
		text_add(t, " scopes [%s] -> [%s]", o->scopes, g->scopes);
	if (ch->fields & F_TTL)
		text_add(t, "%s ttl %s -> %s", ch->fields & F_SCOPES ? "," :
		    "", ttl_text(o->ttl_s, d1), ttl_text(g->ttl_s, d2));
}

static enum tsr_err
plan_describe(struct tsr_policydoc_plan *p, struct tsr_why *why)
{
	struct text t;
	size_t i;

	for (i = 0; i < p->n; i++) {
		memset(&t, 0, sizeof(t));
		if (p->v[i].is_grant)
			describe_grant(&t, &p->v[i]);
		else
			describe_client(&t, &p->v[i]);
		if (t.s == NULL)
			return tsr_err_why(why, TSR_ERR_NOMEM, "policy plan");
		p->v[i].line = t.s;
	}
	return TSR_OK;
}

/* --- the plan as JSON ---------------------------------------------- */

/* fields[name] = {"from": from, "to": to}, both stolen. */
static bool
set_diff(json_t *fields, const char *name, json_t *from, json_t *to)
{
	json_t *o = json_object();

	if (!set(o, "from", from)) {
		json_decref(to);
		json_decref(o);
		return false;
	}
	return set(o, "to", to) && set(fields, name, o);
}

static json_t *
client_fields(const struct change *ch)
{
	const struct tsr_client *c = ch->cl, *o = ch->old_cl;
	json_t *f = json_object();
	bool ok = f != NULL;

	if (ok && (ch->fields & F_CN))
		ok = set_diff(f, "cn", json_string(o->cn), json_string(c->cn));
	if (ok && (ch->fields & F_ENABLED))
		ok = set_diff(f, "enabled", json_boolean(o->enabled),
		    json_boolean(c->enabled));
	if (ok && (ch->fields & F_DESCRIPTION))
		ok = set_diff(f, "description", json_string(o->description),
		    json_string(c->description));
	if (!ok) {
		json_decref(f);
		return NULL;
	}
	return f;
}

static json_t *
grant_fields(const struct change *ch)
{
	json_t *f = json_object();
	bool ok = f != NULL;

	if (ok && (ch->fields & F_SCOPES))
		ok = set_diff(f, "scopes", scopes_json(ch->old_g->scopes),
		    scopes_json(ch->g->scopes));
	if (ok && (ch->fields & F_TTL))
		ok = set_diff(f, "ttl", ttl_json(ch->old_g->ttl_s),
		    ttl_json(ch->g->ttl_s));
	if (!ok) {
		json_decref(f);
		return NULL;
	}
	return f;
}

static json_t *
change_json(const struct change *ch)
{
	static const char *const ops[] = { "add", "change", "remove" };
	const struct tsr_client *c = ch->cl != NULL ? ch->cl : ch->old_cl;
	const struct tsr_grant *g = ch->g != NULL ? ch->g : ch->old_g;
	json_t *o = json_object();
	bool ok;

	ok = set(o, "op", json_string(ops[ch->op])) &&
	    set(o, "kind", json_string(ch->is_grant ? "grant" : "client"));
	if (ok && !ch->is_grant) {
		ok = set(o, "client", json_string(c->name));
		if (ok && ch->op == OP_ADD)
			ok = set(o, "cn", json_string(c->cn)) &&
			    set(o, "enabled", json_boolean(c->enabled)) &&
			    set(o, "description", json_string(c->description));
	} else if (ok) {
		ok = set(o, "client", json_string(g->client)) &&
		    set(o, "audience", json_string(g->audience));
		if (ok && ch->op == OP_ADD)
			ok = set(o, "scopes", scopes_json(g->scopes)) &&
			    set(o, "ttl", ttl_json(g->ttl_s));
	}
	if (ok && ch->op == OP_CHANGE)
		ok = set(o, "fields", ch->is_grant ? grant_fields(ch) :
		    client_fields(ch));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
tsr_policydoc_plan_json(const struct tsr_policydoc_plan *plan)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < plan->n; i++)
		if (json_array_append_new(arr, change_json(&plan->v[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	return arr;
}

size_t
tsr_policydoc_plan_count(const struct tsr_policydoc_plan *plan)
{
	return plan->n;
}

const char *
tsr_policydoc_plan_line(const struct tsr_policydoc_plan *plan, size_t i)
{
	return i < plan->n ? plan->v[i].line : NULL;
}

void
tsr_policydoc_plan_destroy(struct tsr_policydoc_plan *plan)
{
	size_t i;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->n; i++)
		free(plan->v[i].line);
	free(plan->v);
	free(plan->gs);
	free(plan->cls);
	free(plan);
}

/* --- applying the plan --------------------------------------------- */

/*
 * The passes, in order.  Removals free names and CNs; a client whose CN
 * changes first parks it on a placeholder no valid CN can equal (0x7f is
 * not printable), so that clients may swap CNs; then the changes, the new
 * clients, and last the grants, whose clients now all exist.
 */
enum pass { PASS_REMOVE, PASS_PARK_CN, PASS_CHANGE, PASS_ADD, PASS_GRANTS,
	PASS__COUNT };

static enum tsr_err
exec_client(struct tsr_store *st, const struct change *ch, enum pass pass,
    size_t i, int64_t now, struct tsr_why *why)
{
	struct tsr_client row;

	if (pass == PASS_REMOVE && ch->op == OP_REMOVE)
		return tsr_store_client_delete(st, ch->old_cl->name, why);
	if (pass == PASS_PARK_CN && ch->op == OP_CHANGE &&
	    (ch->fields & F_CN)) {
		row = *ch->old_cl;
		(void)snprintf(row.cn, sizeof(row.cn), "\x7f" "policydoc %zu",
		    i);
		return tsr_store_client_update(st, &row, why);
	}
	if ((pass == PASS_CHANGE && ch->op == OP_CHANGE) ||
	    (pass == PASS_ADD && ch->op == OP_ADD)) {
		row = *ch->cl;
		row.created_at = ch->old_cl != NULL ? ch->old_cl->created_at :
		    now;
		row.updated_at = now;
		return ch->op == OP_ADD ? tsr_store_client_insert(st, &row,
		    why) : tsr_store_client_update(st, &row, why);
	}
	return TSR_OK;
}

static enum tsr_err
exec_grant(struct tsr_store *st, const struct change *ch, enum pass pass,
    int64_t now, struct tsr_why *why)
{
	struct tsr_grant row;

	if (pass == PASS_REMOVE && ch->op == OP_REMOVE)
		return tsr_store_grant_delete(st, ch->old_g->client,
		    ch->old_g->audience, why);
	if (pass != PASS_GRANTS || ch->op == OP_REMOVE)
		return TSR_OK;
	row = *ch->g;
	row.created_at = ch->old_g != NULL ? ch->old_g->created_at : now;
	return ch->op == OP_ADD ? tsr_store_grant_insert(st, &row, why) :
	    tsr_store_grant_update(st, &row, why);
}

static enum tsr_err
plan_execute(struct tsr_store *st, const struct tsr_policydoc_plan *p,
    int64_t now, struct tsr_why *why)
{
	enum tsr_err rc = TSR_OK;
	size_t i;
	int pass;

	for (pass = 0; pass < PASS__COUNT && rc == TSR_OK; pass++)
		for (i = 0; i < p->n && rc == TSR_OK; i++)
			rc = p->v[i].is_grant ? exec_grant(st, &p->v[i],
			    (enum pass)pass, now, why) : exec_client(st,
			    &p->v[i], (enum pass)pass, i, now, why);
	return rc;
}

enum tsr_err
tsr_policydoc_apply(struct tsr_store *st, const struct tsr_policydoc *doc,
    const struct tsr_policydoc_opts *opts, int64_t now,
    struct tsr_policydoc_problems *pr, struct tsr_policydoc_plan **out,
    struct tsr_why *why)
{
	struct tsr_policydoc_plan *p;
	size_t before = pr->count;
	enum tsr_err rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "policy plan");
	/* Read, plan and write in one transaction: nobody slips between. */
	if ((rc = tsr_store_begin(st, why)) != TSR_OK ||
	    (rc = tsr_store_client_list(st, &p->cls, &p->n_cls, why)) !=
	    TSR_OK ||
	    (rc = tsr_store_grant_list(st, NULL, NULL, &p->gs, &p->n_gs,
	    why)) != TSR_OK)
		goto out;
	if (!opts->prune)
		check_store_cns(pr, p, doc);
	if ((rc = verdict(pr, before, why)) != TSR_OK ||
	    (rc = plan_build(p, doc, opts->prune, why)) != TSR_OK ||
	    (rc = plan_describe(p, why)) != TSR_OK)
		goto out;
	if (!opts->dry_run &&
	    ((rc = plan_execute(st, p, now, why)) != TSR_OK ||
	    (rc = tsr_store_commit(st, why)) != TSR_OK))
		goto out;
	*out = p;
	p = NULL;
out:
	if (rc != TSR_OK || opts->dry_run)
		tsr_store_rollback(st);
	tsr_policydoc_plan_destroy(p);
	return rc;
}
