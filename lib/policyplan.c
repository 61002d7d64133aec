/*
 * policyplan: plan a policy document against the store, describe the
 * plan for people and as JSON, and apply it in one transaction.
 */
#include "policyplan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "policy.h"

#define PATH_BUF	40	/* "$.clients[<size_t>].cn" */

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

struct tsr_policyplan {
	struct tsr_client	*cls;	/* the store's, read in the tx */
	size_t			 n_cls;
	struct tsr_grant	*gs;
	size_t			 n_gs;
	struct change		*v;
	size_t			 n, cap;
};

/* Set obj[key] = v (stolen); false (and v freed) on failure or NULL. */
static bool
set(json_t *obj, const char *key, json_t *v)
{
	return obj != NULL && json_object_set_new(obj, key, v) == 0;
}

/* --- the plan ------------------------------------------------------ */

static struct change *
push(struct tsr_policyplan *p, enum change_op op, bool is_grant)
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
push_client(struct tsr_policyplan *p, enum change_op op,
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
push_grant(struct tsr_policyplan *p, enum change_op op,
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

/* Merge the document's grants of a client, dg[0..n_dg), with the
 * store's, sg[0..n_sg), both sorted by audience. */
static enum tsr_err
plan_grants(struct tsr_policyplan *p, const struct tsr_grant *dg,
    size_t n_dg, const struct tsr_grant *sg, size_t n_sg,
    struct tsr_why *why)
{
	const struct tsr_grant *d;
	size_t i = 0, j = 0;
	enum tsr_err rc = TSR_OK;
	unsigned f;
	int c;

	while (rc == TSR_OK && (i < n_dg || j < n_sg)) {
		d = i < n_dg ? &dg[i] : NULL;
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
plan_build(struct tsr_policyplan *p, const struct tsr_policydoc *doc,
    bool prune, struct tsr_why *why)
{
	size_t i = 0, j = 0, cur = 0, n_sg, n_dg;
	size_t n_doc = tsr_policydoc_client_count(doc);
	const struct tsr_client *d, *s;
	const struct tsr_grant *dg;
	enum tsr_err rc = TSR_OK;
	unsigned f;
	int c;

	while (rc == TSR_OK && (i < n_doc || j < p->n_cls)) {
		d = i < n_doc ? tsr_policydoc_client(doc, i) : NULL;
		s = j < p->n_cls ? &p->cls[j] : NULL;
		c = d == NULL ? 1 : s == NULL ? -1 : strcmp(d->name, s->name);
		if (c > 0 && prune)
			rc = push_client(p, OP_REMOVE, 0, NULL, s, why);
		else if (c < 0)
			rc = push_client(p, OP_ADD, 0, d, NULL, why);
		else if (c == 0 && (f = client_diff(d, s)) != 0)
			rc = push_client(p, OP_CHANGE, f, d, s, why);
		if (rc == TSR_OK && c <= 0) {
			dg = tsr_policydoc_client_grants(doc, i, &n_dg);
			n_sg = tsr_policy_grants_of(p->gs, p->n_gs, d->name,
			    &cur);
			rc = plan_grants(p, dg, n_dg, p->gs + cur - n_sg, n_sg,
			    why);
		}
		i += c <= 0;
		j += c >= 0;
	}
	return rc;
}

/* A document client's CN and its place in the document. */
struct cn_pos {
	const char	*cn;
	size_t		 pos;
};

static int
cmp_cn_pos(const void *a, const void *b)
{
	return strcmp(((const struct cn_pos *)a)->cn,
	    ((const struct cn_pos *)b)->cn);
}

/*
 * Without prune, a store client the document does not mention stays, and
 * so does its CN: no client of the document may take it.
 */
static void
check_store_cns(struct tsr_policydoc_problems *pr,
    const struct tsr_policyplan *p, const struct tsr_policydoc *doc)
{
	char path[PATH_BUF], b[TSR_POLICY_QUOTE_BUF];
	size_t i, n = tsr_policydoc_client_count(doc);
	const struct tsr_client *s;
	struct cn_pos *by_cn, key, *hit;

	if (n == 0)
		return;
	if ((by_cn = calloc(n, sizeof(*by_cn))) == NULL) {
		tsr_policydoc_problems_add_nomem(pr);
		return;
	}
	for (i = 0; i < n; i++) {
		by_cn[i].cn = tsr_policydoc_client(doc, i)->cn;
		by_cn[i].pos = tsr_policydoc_client_pos(doc, i);
	}
	qsort(by_cn, n, sizeof(*by_cn), cmp_cn_pos);
	for (i = 0; i < p->n_cls; i++) {
		s = &p->cls[i];
		key.cn = s->cn;
		if (tsr_policydoc_has_client(doc, s->name) ||
		    (hit = bsearch(&key, by_cn, n, sizeof(*by_cn),
		    cmp_cn_pos)) == NULL)
			continue;
		(void)snprintf(path, sizeof(path), "$.clients[%zu].cn",
		    hit->pos);
		tsr_policydoc_problems_add(pr, path, "certificate CN \"%s\" is "
		    "used by client \"%s\", which the document does not "
		    "mention (--prune would remove it)", tsr_policy_quote(s->cn,
		    strlen(s->cn), b), s->name);
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
plan_describe(struct tsr_policyplan *p, struct tsr_why *why)
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
		ok = set_diff(f, "scopes",
		    tsr_policydoc_scopes_json(ch->old_g->scopes),
		    tsr_policydoc_scopes_json(ch->g->scopes));
	if (ok && (ch->fields & F_TTL))
		ok = set_diff(f, "ttl",
		    tsr_policydoc_ttl_json(ch->old_g->ttl_s),
		    tsr_policydoc_ttl_json(ch->g->ttl_s));
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
			ok = set(o, "scopes",
			    tsr_policydoc_scopes_json(g->scopes)) &&
			    set(o, "ttl", tsr_policydoc_ttl_json(g->ttl_s));
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
tsr_policyplan_json(const struct tsr_policyplan *plan)
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
tsr_policyplan_count(const struct tsr_policyplan *plan)
{
	return plan->n;
}

const char *
tsr_policyplan_line(const struct tsr_policyplan *plan, size_t i)
{
	return i < plan->n ? plan->v[i].line : NULL;
}

void
tsr_policyplan_destroy(struct tsr_policyplan *plan)
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
plan_execute(struct tsr_store *st, const struct tsr_policyplan *p,
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
tsr_policyplan_apply(struct tsr_store *st, const struct tsr_policydoc *doc,
    const struct tsr_policyplan_opts *opts, int64_t now,
    struct tsr_policydoc_problems *pr, struct tsr_policyplan **out,
    struct tsr_why *why)
{
	struct tsr_policyplan *p;
	size_t before = tsr_policydoc_problems_count(pr);
	enum tsr_err rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "policy plan");
	/* Read, plan and write in one transaction: nobody slips between. */
	if ((rc = tsr_store_begin(st, TSR_TX_WRITE, why)) != TSR_OK ||
	    (rc = tsr_store_client_list(st, &p->cls, &p->n_cls, why)) !=
	    TSR_OK ||
	    (rc = tsr_store_grant_list(st, NULL, NULL, &p->gs, &p->n_gs,
	    why)) != TSR_OK)
		goto out;
	if (!opts->prune)
		check_store_cns(pr, p, doc);
	if ((rc = tsr_policydoc_problems_verdict(pr, before,
	    why)) != TSR_OK ||
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
	tsr_policyplan_destroy(p);
	return rc;
}
