/*
 * policydoc: the policy as one JSON document ("Policy document"):
 * export, parse and check every field.  Planning and applying are
 * lib/policyplan's.
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

void
tsr_policydoc_problems_add(struct tsr_policydoc_problems *pr,
    const char *path, const char *fmt, ...)
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
		if ((unsigned char)msg[i] < 0x20 ||
		    (unsigned char)msg[i] > 0x7e)
			msg[i] = '?';
	if ((pr->lines[pr->kept] = strdup(msg)) == NULL)
		pr->nomem = true;
	else
		pr->kept++;
}

void
tsr_policydoc_problems_add_nomem(struct tsr_policydoc_problems *pr)
{
	pr->nomem = true;
}

enum tsr_err
tsr_policydoc_problems_verdict(const struct tsr_policydoc_problems *pr,
    size_t before, struct tsr_why *why)
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
	tsr_policydoc_problems_add(pr, path, "want %s, got %s", what,
	    type_name(v));
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
			tsr_policydoc_problems_add(pr, path,
			    "unknown field \"%s\"",
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
			tsr_policydoc_problems_add(pr, path,
			    "missing field \"%s\"", key);
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
		tsr_policydoc_problems_add(pr, path, "%s", tsr_err_text(&why,
		    rc == TSR_OK ? TSR_ERR_TOO_LONG : rc));
}

static void
parse_scopes(struct tsr_policydoc_problems *pr, json_t *arr,
    const char *gpath, char out[TSR_MAX_SCOPES_TEXT + 1])
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
			tsr_policydoc_problems_add(pr, epath, "%s",
			    tsr_err_text(&why, rc));
			ok = false;
		} else
			v[i] = json_string_value(e);
	}
	tsr_err_clear(&why);
	if (ok && (rc = tsr_policy_scopes_join(v, n, out, &why)) != TSR_OK) {
		if (rc == TSR_ERR_NOMEM)
			pr->nomem = true;
		else
			tsr_policydoc_problems_add(pr, path, "%s",
			    tsr_err_text(&why, rc));
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
		tsr_policydoc_problems_add(pr, path, "bad duration \"%s\": "
		    "want a number and s, m, h or d",
		    tsr_policy_quote(s, len, b));
	else if ((rc = tsr_duration_parse(s, ttl_s, &why)) != TSR_OK)
		tsr_policydoc_problems_add(pr, path, "%s",
		    tsr_err_text(&why, rc));
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
		tsr_policydoc_problems_add(pr, path,
		    "duplicate %s \"%s\", also at %s[%zu]", what,
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
		tsr_policydoc_problems_add(pr, list,
		    "too many grants: at most %d in a document",
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
		tsr_policydoc_problems_add(pr, "$",
		    "missing field \"clients\"");
		return;
	}
	if (!json_is_array(arr)) {
		want(pr, "$.clients", "an array", arr);
		return;
	}
	if ((n = json_array_size(arr)) > TSR_POLICYDOC_MAX_CLIENTS) {
		tsr_policydoc_problems_add(pr, "$.clients",
		    "%zu clients: at most %d", n, TSR_POLICYDOC_MAX_CLIENTS);
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
		tsr_policydoc_problems_add(pr, NULL,
		    "policy document is larger than %d bytes",
		    TSR_POLICYDOC_MAX_BYTES);
	else if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		tsr_policydoc_problems_add(pr, NULL,
		    "policy document is not valid JSON: line %d, "
		    "column %d: %s", jerr.line, jerr.column, jerr.text);
	else if ((doc = calloc(1, sizeof(*doc))) == NULL)
		pr->nomem = true;
	else
		parse_root(pr, root, doc);
	if ((rc = tsr_policydoc_problems_verdict(pr, before, why)) ==
	    TSR_OK) {
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

/* --- the parsed document, read-only ------------------------------- */

size_t
tsr_policydoc_client_count(const struct tsr_policydoc *doc)
{
	return doc->n_clients;
}

const struct tsr_client *
tsr_policydoc_client(const struct tsr_policydoc *doc, size_t i)
{
	return &doc->clients[i].c;
}

const struct tsr_grant *
tsr_policydoc_client_grants(const struct tsr_policydoc *doc, size_t i,
    size_t *n)
{
	*n = doc->clients[i].n_grants;
	return doc->clients[i].grants;
}

size_t
tsr_policydoc_client_pos(const struct tsr_policydoc *doc, size_t i)
{
	return doc->clients[i].idx;
}

bool
tsr_policydoc_has_client(const struct tsr_policydoc *doc, const char *name)
{
	struct doc_client key;	/* cmp_doc_client reads only c.name */

	if (strlen(name) >= sizeof(key.c.name))
		return false;
	memcpy(key.c.name, name, strlen(name) + 1);
	return bsearch(&key, doc->clients, doc->n_clients,
	    sizeof(*doc->clients), cmp_doc_client) != NULL;
}

/* --- export -------------------------------------------------------- */

json_t *
tsr_policydoc_scopes_json(const char *scopes)
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

json_t *
tsr_policydoc_ttl_json(int64_t ttl_s)
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
	    !set(o, "scopes", tsr_policydoc_scopes_json(g->scopes)) ||
	    (g->ttl_s != 0 && !set(o, "ttl",
	    tsr_policydoc_ttl_json(g->ttl_s)))) {
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

static json_t *
export_doc(const struct tsr_client *cls, size_t n_cls,
    const struct tsr_grant *gs, size_t n_gs)
{
	json_t *arr = json_array(), *doc = json_object();
	size_t i, cur = 0, n;

	for (i = 0; arr != NULL && i < n_cls; i++) {
		n = tsr_policy_grants_of(gs, n_gs, cls[i].name, &cur);
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
	if ((rc = tsr_store_begin(st, TSR_TX_READ, why)) != TSR_OK)
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
