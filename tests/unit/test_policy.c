/*
 * test_policy: validators (both sides of every limit), the operations on
 * a real store in a temporary directory, and snapshot lookups.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "duration.h"
#include "policy.h"

struct fixture {
	char	dir[64];
	char	db[128];
	struct tsr_store *st;
};

static void
fixture_init(struct fixture *f)
{
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tsr_policy.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	(void)snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	f->st = NULL;
	CHECK_INT(tsr_store_open(f->db, &f->st, NULL), TSR_OK);
	CHECK_INT(tsr_store_migrate(f->st, NULL, NULL), TSR_OK);
}

static void
fixture_finish(struct fixture *f)
{
	static const char *const files[] = { "t.db", "t.db-wal", "t.db-shm" };
	char path[192];
	size_t i;

	tsr_store_close(f->st);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		(void)unlink(path);
	}
	if (rmdir(f->dir) != 0)
		perror(f->dir);
}

static uint64_t
fnv(uint64_t h, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n-- > 0)
		h = (h ^ *p++) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s));
}

static uint64_t
fnv_int(uint64_t h, int64_t v)
{
	return fnv(h, &v, sizeof(v));
}

/* FNV-1a over every policy row and the counters, read through the
 * store: "bad input changed nothing". */
static uint64_t
digest(struct tsr_store *st)
{
	struct tsr_client *cls = NULL;
	struct tsr_grant *gs = NULL;
	struct tsr_store_gens g;
	uint64_t h = 14695981039346656037ULL;
	size_t i, n_cls = 0, n_gs = 0;

	if (tsr_store_client_list(st, &cls, &n_cls, NULL) != TSR_OK ||
	    tsr_store_grant_list(st, NULL, NULL, &gs, &n_gs, NULL) != TSR_OK ||
	    tsr_store_generations(st, &g, NULL) != TSR_OK)
		h = 0;
	for (i = 0; h != 0 && i < n_cls; i++) {
		h = fnv_str(fnv_str(fnv_str(h, cls[i].name), cls[i].cn),
		    cls[i].description);
		h = fnv_int(fnv_int(fnv_int(h, cls[i].enabled),
		    cls[i].created_at), cls[i].updated_at);
	}
	for (i = 0; h != 0 && i < n_gs; i++) {
		h = fnv_str(fnv_str(fnv_str(h, gs[i].client), gs[i].audience),
		    gs[i].scopes);
		h = fnv_int(fnv_int(h, gs[i].ttl_s), gs[i].created_at);
	}
	if (h != 0)
		h = fnv_int(fnv_int(fnv_int(h, g.policy), g.keys),
		    g.revocations);
	free(cls);
	free(gs);
	return h;
}

/* n copies of c, then tail; in a static-size caller buffer. */
static const char *
rep(char *buf, size_t size, char c, size_t n, const char *tail)
{
	if (n >= size)
		n = size - 1;
	memset(buf, c, n);
	(void)snprintf(buf + n, size - n, "%s", tail);
	return buf;
}

static char n128[129], n129[130], c64[65], c65[66], s128[129], s129[130];
static char d256[257], d257[258];

static void
make_long_inputs(void)
{
	rep(n128, sizeof(n128), 'a', 128, "");
	rep(n129, sizeof(n129), 'a', 129, "");
	rep(c64, sizeof(c64), 'c', 64, "");
	rep(c65, sizeof(c65), 'c', 65, "");
	rep(s128, sizeof(s128), 's', 128, "");
	rep(s129, sizeof(s129), 's', 129, "");
	rep(d256, sizeof(d256), 'd', 256, "");
	rep(d257, sizeof(d257), 'd', 257, "");
}

static void
test_names(void)
{
	const struct {
		const char	*in;
		enum tsr_err	 rc;
	} cases[] = {
		{ "a", TSR_OK },
		{ "order-service", TSR_OK },
		{ "A-Z.a_z:0/9-", TSR_OK },
		{ "https://api.example.com/v1", TSR_OK },
		{ n128, TSR_OK },			/* longest */
		{ n129, TSR_ERR_INVALID },		/* first too long */
		{ "", TSR_ERR_INVALID },
		{ NULL, TSR_ERR_INVALID },
		{ "a b", TSR_ERR_INVALID },
		{ "a\"b", TSR_ERR_INVALID },
		{ "a\\b", TSR_ERR_INVALID },
		{ "a\nb", TSR_ERR_INVALID },
		{ "a@b", TSR_ERR_INVALID },
		{ "a+b", TSR_ERR_INVALID },
		{ "caf\xc3\xa9", TSR_ERR_INVALID },	/* UTF-8 é */
		{ "a\x7f", TSR_ERR_INVALID },
		{ "a,b", TSR_ERR_INVALID },
	};
	struct tsr_why why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tsr_err_clear(&why);
		CHECK_INT(tsr_policy_check_name("audience", cases[i].in, &why),
		    cases[i].rc);
		if (cases[i].rc != TSR_OK)
			CHECK(strncmp(why.msg, "audience", 8) == 0);
	}
}

static void
test_cns(void)
{
	const struct {
		const char	*in;
		enum tsr_err	 rc;
	} cases[] = {
		{ "x", TSR_OK },
		{ "Order Service (prod) #1", TSR_OK },
		{ " ~!\"\\", TSR_OK },			/* 0x20 .. 0x7e */
		{ c64, TSR_OK },
		{ c65, TSR_ERR_INVALID },
		{ "", TSR_ERR_INVALID },
		{ NULL, TSR_ERR_INVALID },
		{ "a\tb", TSR_ERR_INVALID },
		{ "a\x1f", TSR_ERR_INVALID },
		{ "a\x7f", TSR_ERR_INVALID },
		{ "\xc3\xa9", TSR_ERR_INVALID },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(tsr_policy_check_cn(cases[i].in, NULL), cases[i].rc);
}

static void
test_scopes(void)
{
	const struct {
		const char	*in;
		size_t		 len;
		enum tsr_err	 rc;
	} cases[] = {
		{ "read", 4, TSR_OK },
		{ "orders:read", 11, TSR_OK },
		{ "!", 1, TSR_OK },			/* 0x21 */
		{ "#", 1, TSR_OK },			/* 0x23 */
		{ "[", 1, TSR_OK },			/* 0x5b */
		{ "]", 1, TSR_OK },			/* 0x5d */
		{ "~", 1, TSR_OK },			/* 0x7e */
		{ s128, 128, TSR_OK },
		{ s129, 129, TSR_ERR_INVALID },
		{ "", 0, TSR_ERR_INVALID },
		{ "a b", 3, TSR_ERR_INVALID },		/* 0x20 */
		{ "a\"b", 3, TSR_ERR_INVALID },		/* 0x22 */
		{ "a\\b", 3, TSR_ERR_INVALID },		/* 0x5c */
		{ "a\x7f", 2, TSR_ERR_INVALID },
		{ "a\x01", 2, TSR_ERR_INVALID },
		{ "ab\0c", 4, TSR_ERR_INVALID },	/* NUL inside len */
		{ "\xc3\xa9", 2, TSR_ERR_INVALID },
		{ NULL, 0, TSR_ERR_INVALID },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(tsr_policy_check_scope(cases[i].in, cases[i].len,
		    NULL), cases[i].rc);
	/* (pointer, length): bytes past len are not looked at. */
	CHECK_INT(tsr_policy_check_scope("read write", 4, NULL), TSR_OK);
}

static void
test_descriptions(void)
{
	CHECK_INT(tsr_policy_check_description("", NULL), TSR_OK);
	CHECK_INT(tsr_policy_check_description(NULL, NULL), TSR_OK);
	CHECK_INT(tsr_policy_check_description("Orders, EU (prod)", NULL),
	    TSR_OK);
	CHECK_INT(tsr_policy_check_description(d256, NULL), TSR_OK);
	CHECK_INT(tsr_policy_check_description(d257, NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_check_description("line\nbreak", NULL),
	    TSR_ERR_INVALID);
}

/* The why line quotes bad input escaped and cut short. */
static void
test_why_quoting(void)
{
	struct tsr_why why;
	char evil[600];

	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_check_name("client name", "bad\nname\"", &why),
	    TSR_ERR_INVALID);
	CHECK_STR(why.msg, "client name \"bad\\x0aname\\x22\" has a bad "
	    "character at 4: want A-Z a-z 0-9 . _ : / -");
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_check_name("client name", n129, &why),
	    TSR_ERR_INVALID);
	CHECK_STR(why.msg, "client name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaa...\" is longer than 128 characters");
	rep(evil, sizeof(evil), '\x1b', 500, "");
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_check_cn(evil, &why), TSR_ERR_INVALID);
	CHECK(strchr(why.msg, '\x1b') == NULL);
	CHECK(strstr(why.msg, "\\x1b\\x1b") != NULL);
	CHECK(strstr(why.msg, "...\" is longer than 64") != NULL);
	CHECK(strlen(why.msg) < 40 * 4 + 60);	/* 40 bytes quoted */
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_check_name("audience", "", &why),
	    TSR_ERR_INVALID);
	CHECK_STR(why.msg, "audience is empty");
}

/* Distinct scopes made of a letter prefix and x padding to len. */
static void
fill_scopes(char bufs[][TSR_POLICY_MAX_SCOPE + 1], const char **v,
    const size_t *lens, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		rep(bufs[i], TSR_POLICY_MAX_SCOPE + 1, 'x', lens[i], "");
		bufs[i][0] = (char)('a' + i / 26);
		bufs[i][1] = (char)('a' + i % 26);
		v[i] = bufs[i];
	}
}

static void
test_scopes_join(void)
{
	const char *abc[] = { "b", "a", "c", "b", "a" };
	const char *bad[] = { "ok", "no space" };
	char bufs[40][TSR_POLICY_MAX_SCOPE + 1];
	const char *v[40];
	size_t lens[40], i;
	char out[TSR_MAX_SCOPES_TEXT + 1];

	CHECK_INT(tsr_policy_scopes_join(abc, 5, out, NULL), TSR_OK);
	CHECK_STR(out, "a b c");
	CHECK_INT(tsr_policy_scopes_join(NULL, 0, out, NULL), TSR_OK);
	CHECK_STR(out, "");
	CHECK_INT(tsr_policy_scopes_join(bad, 2, out, NULL), TSR_ERR_INVALID);
	CHECK_STR(out, "");

	for (i = 0; i < 40; i++)
		lens[i] = 3;
	fill_scopes(bufs, v, lens, 40);
	CHECK_INT(tsr_policy_scopes_join(v, 32, out, NULL), TSR_OK);
	CHECK_INT(strlen(out), 32 * 3 + 31);
	CHECK_INT(tsr_policy_scopes_join(v, 33, out, NULL), TSR_ERR_INVALID);
	v[32] = v[0];				/* 33 given, 32 distinct */
	CHECK_INT(tsr_policy_scopes_join(v, 33, out, NULL), TSR_OK);

	/* Joined length: 7 x 127 + 128 + 7 spaces = 1024 fits... */
	for (i = 0; i < 8; i++)
		lens[i] = i < 7 ? 127 : 128;
	fill_scopes(bufs, v, lens, 8);
	CHECK_INT(tsr_policy_scopes_join(v, 8, out, NULL), TSR_OK);
	CHECK_INT(strlen(out), 1024);
	/* ...6 x 127 + 2 x 128 + 7 = 1025 does not. */
	lens[6] = 128;
	fill_scopes(bufs, v, lens, 8);
	CHECK_INT(tsr_policy_scopes_join(v, 8, out, NULL), TSR_ERR_INVALID);
}

static void
test_client_ops(struct fixture *f)
{
	struct tsr_client c;
	struct tsr_why why;
	uint64_t before;

	CHECK_INT(tsr_policy_client_add(f->st, "orders", "orders.svc",
	    "Order service", 100, NULL), TSR_OK);
	CHECK_INT(tsr_policy_client_add(f->st, "stock", "stock.svc", NULL, 101,
	    NULL), TSR_OK);
	CHECK_INT(tsr_policy_client_add(f->st, n128, c64, d256, 102, NULL),
	    TSR_OK);
	CHECK_INT(tsr_store_client_get(f->st, "orders", &c, NULL), TSR_OK);
	CHECK_STR(c.cn, "orders.svc");
	CHECK_STR(c.description, "Order service");
	CHECK(c.enabled);
	CHECK_INT(c.created_at, 100);
	CHECK_INT(tsr_store_client_get(f->st, "stock", &c, NULL), TSR_OK);
	CHECK_STR(c.description, "");

	before = digest(f->st);
	CHECK_INT(tsr_policy_client_add(f->st, n129, "x", NULL, 1, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_client_add(f->st, "new", c65, NULL, 1, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_client_add(f->st, "new", "x", d257, 1, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_client_add(f->st, "bad name", "x", NULL, 1, NULL),
	    TSR_ERR_INVALID);
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_client_add(f->st, "orders", "other", NULL, 1,
	    &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "client \"orders\" already exists");
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_client_add(f->st, "other", "orders.svc", NULL, 1,
	    &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "certificate CN \"orders.svc\" is already used by "
	    "client \"orders\"");
	CHECK(digest(f->st) == before);

	CHECK_INT(tsr_policy_client_set_enabled(f->st, "stock", false, 200,
	    NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(f->st, "stock", &c, NULL), TSR_OK);
	CHECK(!c.enabled);
	CHECK_INT(c.updated_at, 200);
	before = digest(f->st);
	CHECK_INT(tsr_policy_client_set_enabled(f->st, "stock", false, 300,
	    NULL), TSR_OK);			/* already: no write */
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_client_set_enabled(f->st, "ghost", true, 300,
	    &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"ghost\"");
	CHECK_INT(tsr_policy_client_set_enabled(f->st, "a b", true, 300, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_client_remove(f->st, "ghost", NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_policy_client_remove(f->st, "", NULL), TSR_ERR_INVALID);
	CHECK(digest(f->st) == before);
}

static void
test_grant_ops(struct fixture *f)
{
	const char *sc[] = { "stock:read", "stock:deduct", "stock:read" };
	const char *bad_sc[] = { "ok", "not\"ok" };
	struct tsr_grant *list = NULL;
	struct tsr_why why;
	size_t n = 0;
	uint64_t before;

	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "stock", sc, 3, 300,
	    500, NULL), TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "billing", NULL, 0, 0,
	    500, NULL), TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f->st, "stock", "a", NULL, 0,
	    TSR_DURATION_MAX_S, 500, NULL), TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f->st, "stock", "b", NULL, 0, 1, 500,
	    NULL), TSR_OK);
	CHECK_INT(tsr_store_grant_list(f->st, "orders", "stock", &list, &n,
	    NULL), TSR_OK);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(list[0].scopes, "stock:deduct stock:read");
		CHECK_INT(list[0].ttl_s, 300);
		CHECK_INT(list[0].created_at, 500);
	}
	free(list);

	before = digest(f->st);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "x", NULL, 0, -1, 1,
	    NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "x", NULL, 0,
	    TSR_DURATION_MAX_S + 1, 1, NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "x y", NULL, 0, 0, 1,
	    NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", n129, NULL, 0, 0, 1,
	    NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "x", bad_sc, 2, 0, 1,
	    NULL), TSR_ERR_INVALID);
	/* Validation before the store: a bad scope wins over a bad client. */
	CHECK_INT(tsr_policy_grant_add(f->st, "ghost", "x", bad_sc, 2, 0, 1,
	    NULL), TSR_ERR_INVALID);
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_grant_add(f->st, "ghost", "x", NULL, 0, 0, 1,
	    &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"ghost\"");
	tsr_err_clear(&why);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "stock", NULL, 0, 0, 1,
	    &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "grant for client \"orders\" to audience \"stock\" "
	    "already exists");
	CHECK_INT(tsr_policy_grant_remove(f->st, "orders", "nowhere", NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_policy_grant_remove(f->st, "orders", "", NULL),
	    TSR_ERR_INVALID);
	CHECK(digest(f->st) == before);

	CHECK_INT(tsr_policy_grant_remove(f->st, "stock", "b", NULL), TSR_OK);
	CHECK(digest(f->st) != before);
}

static void
test_snapshot(struct fixture *f)
{
	struct tsr_policy *p = NULL;
	const struct tsr_client *c;
	const struct tsr_grant *g;
	const char cnbuf[] = { 'o', 'r', 'd', 'e', 'r', 's', '.', 's', 'v',
	    'c', 'X' };			/* not NUL-terminated after len */

	CHECK_INT(tsr_policy_load(f->st, &p, NULL), TSR_OK);
	tsr_store_close(f->st);		/* the snapshot stands alone */
	f->st = NULL;

	c = tsr_policy_client_by_cn(p, cnbuf, 10);
	CHECK(c != NULL && strcmp(c->name, "orders") == 0);
	CHECK(tsr_policy_client_by_cn(p, cnbuf, 11) == NULL);
	CHECK(tsr_policy_client_by_cn(p, cnbuf, 9) == NULL);	/* prefix */
	CHECK(tsr_policy_client_by_cn(p, "orders.svc\0", 11) == NULL);
	CHECK(tsr_policy_client_by_cn(p, "ORDERS.SVC", 10) == NULL);
	CHECK(tsr_policy_client_by_cn(p, "", 0) == NULL);
	c = tsr_policy_client_by_cn(p, c64, 64);
	CHECK(c != NULL && strcmp(c->name, n128) == 0);
	c = tsr_policy_client_by_cn(p, "stock.svc", 9);
	CHECK(c != NULL && !c->enabled);	/* disabled, still found */

	c = tsr_policy_client_by_name(p, "stock");
	CHECK(c != NULL && strcmp(c->cn, "stock.svc") == 0);
	CHECK(tsr_policy_client_by_name(p, "stoc") == NULL);
	CHECK(tsr_policy_client_by_name(p, "ghost") == NULL);

	g = tsr_policy_grant(p, "orders", "stock");
	CHECK(g != NULL && g->ttl_s == 300);
	CHECK(tsr_policy_grant(p, "orders", "billing") != NULL);
	CHECK(tsr_policy_grant(p, "stock", "a") != NULL);
	CHECK(tsr_policy_grant(p, "stock", "b") == NULL);	/* removed */
	CHECK(tsr_policy_grant(p, "stock", "stock") == NULL);
	CHECK(tsr_policy_grant(p, "billing", "orders") == NULL);

	CHECK(tsr_policy_grant_has_scope(g, "stock:read", 10));
	CHECK(tsr_policy_grant_has_scope(g, "stock:deduct", 12));
	CHECK(tsr_policy_grant_has_scope(g, "stock:readX", 10));  /* len */
	CHECK(!tsr_policy_grant_has_scope(g, "stock:rea", 9));	/* prefix */
	CHECK(!tsr_policy_grant_has_scope(g, "stock", 5));
	CHECK(!tsr_policy_grant_has_scope(g, "stock:reads", 11));
	CHECK(!tsr_policy_grant_has_scope(g, "deduct stock:read", 17));
	CHECK(!tsr_policy_grant_has_scope(g, "", 0));
	CHECK(!tsr_policy_grant_has_scope(tsr_policy_grant(p, "orders",
	    "billing"), "stock:read", 10));	/* grant with no scopes */
	CHECK(!tsr_policy_grant_has_scope(NULL, "x", 1));
	tsr_policy_destroy(p);
	tsr_policy_destroy(NULL);
}

static void
test_operations(void)
{
	struct fixture f;
	struct tsr_grant *list = NULL;
	struct tsr_policy *p = NULL;
	struct tsr_store_gens g0, g;
	size_t n = 9;

	fixture_init(&f);
	CHECK_INT(tsr_policy_load(f.st, &p, NULL), TSR_OK);	/* empty */
	CHECK(tsr_policy_client_by_cn(p, "x", 1) == NULL);
	CHECK(tsr_policy_client_by_name(p, "x") == NULL);
	CHECK(tsr_policy_grant(p, "x", "y") == NULL);
	tsr_policy_destroy(p);

	CHECK_INT(tsr_store_generations(f.st, &g0, NULL), TSR_OK);
	test_client_ops(&f);
	test_grant_ops(&f);
	CHECK_INT(tsr_store_generations(f.st, &g, NULL), TSR_OK);
	CHECK(g.policy > g0.policy);
	CHECK_INT(g.keys, g0.keys);

	/* Removing a client removes its grants. */
	CHECK_INT(tsr_policy_client_add(f.st, "tmp", "tmp.svc", NULL, 1, NULL),
	    TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f.st, "tmp", "stock", NULL, 0, 0, 1,
	    NULL), TSR_OK);
	CHECK_INT(tsr_policy_client_remove(f.st, "tmp", NULL), TSR_OK);
	CHECK_INT(tsr_store_grant_list(f.st, "tmp", NULL, &list, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 0);
	free(list);

	test_snapshot(&f);
	fixture_finish(&f);
}

int
main(void)
{
	make_long_inputs();
	test_names();
	test_cns();
	test_scopes();
	test_descriptions();
	test_why_quoting();
	test_scopes_join();
	test_operations();
	return check_done();
}
