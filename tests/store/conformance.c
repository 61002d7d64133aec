/*
 * conformance: the store's contract, run against any engine.  The DSN
 * comes from TSR_TEST_DSN, which must name an empty database (the cases
 * run in order on it and leave their rows behind); without it, a fresh
 * SQLite file in a temporary directory.  Everything here goes through
 * store.h: what only one engine does is tested beside that engine
 * (tests/unit/test_store_sqlite.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "check.h"
#include "store/store.h"

static char tmpdir[64];
static char dsn[512];

static void
dsn_init(void)
{
	const char *env = getenv("TSR_TEST_DSN");

	if (env != NULL && *env != '\0') {
		(void)snprintf(dsn, sizeof(dsn), "%s", env);
		return;
	}
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/tsr_conform.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	(void)snprintf(dsn, sizeof(dsn), "%s/t.db", tmpdir);
}

/* Remove the temporary SQLite file and its companions, if we made one. */
static void
dsn_finish(void)
{
	static const char *const files[] = { "t.db", "t.db-wal", "t.db-shm" };
	char path[192];
	size_t i;

	if (tmpdir[0] == '\0')
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		(void)unlink(path);
	}
	if (rmdir(tmpdir) != 0)
		perror(tmpdir);
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

static uint64_t
digest_keys(struct tsr_store *st, uint64_t h)
{
	struct tsr_keyrow *ks = NULL;
	size_t i, n = 0;

	if (tsr_store_key_list(st, &ks, &n, NULL) != TSR_OK)
		return 0;
	for (i = 0; i < n; i++) {
		h = fnv_str(fnv_str(h, ks[i].kid), ks[i].jwk);
		h = fnv_int(fnv_int(fnv_int(h, ks[i].state), ks[i].bits),
		    ks[i].created_at);
		h = fnv_int(fnv_int(fnv_int(h, ks[i].activated_at),
		    ks[i].retired_at), ks[i].expires_at);
	}
	free(ks);
	return h;
}

/* FNV-1a over every client, grant and key and the change counters, read
 * through the store: "the store is unchanged". */
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
	free(cls);
	free(gs);
	if (h != 0)
		h = fnv_int(fnv_int(fnv_int(h, g.policy), g.keys),
		    g.revocations);
	return h != 0 ? digest_keys(st, h) : 0;
}

static struct tsr_client
mk_client(const char *name, const char *cn, int64_t at)
{
	struct tsr_client c;

	memset(&c, 0, sizeof(c));
	(void)snprintf(c.name, sizeof(c.name), "%s", name);
	(void)snprintf(c.cn, sizeof(c.cn), "%s", cn);
	(void)snprintf(c.description, sizeof(c.description), "d %s", name);
	c.enabled = true;
	c.created_at = c.updated_at = at;
	return c;
}

static struct tsr_grant
mk_grant(const char *client, const char *aud, const char *scopes)
{
	struct tsr_grant g;

	memset(&g, 0, sizeof(g));
	(void)snprintf(g.client, sizeof(g.client), "%s", client);
	(void)snprintf(g.audience, sizeof(g.audience), "%s", aud);
	(void)snprintf(g.scopes, sizeof(g.scopes), "%s", scopes);
	g.ttl_s = 300;
	g.created_at = 1000;
	return g;
}

static struct tsr_keyrow
mk_key(const char *kid, enum tsr_keystate state, int64_t created_at)
{
	struct tsr_keyrow k;

	memset(&k, 0, sizeof(k));
	(void)snprintf(k.kid, sizeof(k.kid), "%s", kid);
	(void)snprintf(k.jwk, sizeof(k.jwk), "{\"kid\":\"%s\"}", kid);
	k.state = state;
	k.bits = 2048;
	k.created_at = created_at;
	return k;
}

/* A fresh store: nothing applied, then everything, then nothing more. */
static struct tsr_store *
test_migrate(void)
{
	struct tsr_store *st = NULL;
	struct tsr_store_gens g;
	struct tsr_why why;
	int applied = -1, cur = -1, latest = -1;

	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("", &st, &why), TSR_ERR_INVALID);
	CHECK(st == NULL);
	tsr_store_close(NULL);		/* NULL-safe */

	tsr_err_clear(&why);
	if (tsr_store_open(dsn, &st, &why) != TSR_OK) {
		printf("Bail out! cannot open the store: %s\n", why.msg);
		exit(1);
	}
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, 0);
	CHECK(latest >= 2);
	CHECK_INT(tsr_store_migrate(st, &applied, NULL), TSR_OK);
	CHECK_INT(applied, latest);
	CHECK_INT(tsr_store_migrate(st, &applied, NULL), TSR_OK);
	CHECK_INT(applied, 0);
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, latest);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK_INT(g.policy, 1);
	CHECK_INT(g.keys, 1);
	CHECK_INT(g.revocations, 1);
	return st;
}

static void
test_clients(struct tsr_store *st)
{
	struct tsr_client a = mk_client("alpha", "cn-alpha", 100);
	struct tsr_client b = mk_client("beta", "cn-beta", 200);
	struct tsr_client c, *list = NULL;
	struct tsr_why why;
	size_t n = 0;
	uint64_t before;

	CHECK_INT(tsr_store_client_insert(st, &b, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_insert(st, &a, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(st, "alpha", &c, NULL), TSR_OK);
	CHECK_STR(c.name, "alpha");
	CHECK_STR(c.cn, "cn-alpha");
	CHECK_STR(c.description, "d alpha");
	CHECK(c.enabled);
	CHECK_INT(c.created_at, 100);
	CHECK_INT(c.updated_at, 100);

	before = digest(st);
	c = mk_client("alpha", "cn-other", 300);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_insert(st, &c, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "client \"alpha\" already exists");
	c = mk_client("gamma", "cn-alpha", 300);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_insert(st, &c, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "certificate CN \"cn-alpha\" is already used by "
	    "client \"alpha\"");
	CHECK(digest(st) == before);

	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_get(st, "nobody", &c, &why),
	    TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"nobody\"");
	CHECK_STR(c.name, "");		/* cleared on failure */

	CHECK_INT(tsr_store_client_list(st, &list, &n, NULL), TSR_OK);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0].name, "alpha");	/* sorted by name */
		CHECK_STR(list[1].name, "beta");
	}
	free(list);
}

static void
test_client_update(struct tsr_store *st)
{
	struct tsr_client b = mk_client("beta", "cn-beta", 200);
	struct tsr_client c;
	struct tsr_why why;

	/* Update: cn, description, enabled, updated_at; not created_at. */
	b.enabled = false;
	(void)snprintf(b.cn, sizeof(b.cn), "cn-beta-2");
	b.updated_at = 500;
	b.created_at = 9999;
	CHECK_INT(tsr_store_client_update(st, &b, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(st, "beta", &c, NULL), TSR_OK);
	CHECK(!c.enabled);
	CHECK_STR(c.cn, "cn-beta-2");
	CHECK_INT(c.updated_at, 500);
	CHECK_INT(c.created_at, 200);
	(void)snprintf(b.cn, sizeof(b.cn), "cn-alpha");
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_update(st, &b, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "certificate CN \"cn-alpha\" is already used by "
	    "client \"alpha\"");
	c = mk_client("ghost", "cn-ghost", 1);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_update(st, &c, &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"ghost\"");

	/* A row field without its NUL is refused, not over-read. */
	c = mk_client("x", "y", 1);
	memset(c.name, 'a', sizeof(c.name));
	CHECK_INT(tsr_store_client_insert(st, &c, NULL), TSR_ERR_INVALID);
}

static void
test_grants(struct tsr_store *st)
{
	struct tsr_grant g = mk_grant("alpha", "inventory", "a:read a:write");
	struct tsr_grant *list = NULL;
	struct tsr_why why;
	size_t n = 0;
	uint64_t before;

	CHECK_INT(tsr_store_grant_insert(st, &g, NULL), TSR_OK);
	g = mk_grant("alpha", "billing", "");
	CHECK_INT(tsr_store_grant_insert(st, &g, NULL), TSR_OK);
	g = mk_grant("beta", "inventory", "x");
	CHECK_INT(tsr_store_grant_insert(st, &g, NULL), TSR_OK);

	before = digest(st);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_grant_insert(st, &g, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "grant for client \"beta\" to audience "
	    "\"inventory\" already exists");
	g = mk_grant("nobody", "inventory", "");
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_grant_insert(st, &g, &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"nobody\"");
	CHECK(digest(st) == before);

	CHECK_INT(tsr_store_grant_list(st, NULL, NULL, &list, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(list[0].client, "alpha");
		CHECK_STR(list[0].audience, "billing");
		CHECK_STR(list[0].scopes, "");
		CHECK_STR(list[1].audience, "inventory");
		CHECK_STR(list[1].scopes, "a:read a:write");
		CHECK_INT(list[1].ttl_s, 300);
		CHECK_INT(list[1].created_at, 1000);
		CHECK_STR(list[2].client, "beta");
	}
	free(list);
	CHECK_INT(tsr_store_grant_list(st, "alpha", NULL, &list, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 2);
	free(list);
	CHECK_INT(tsr_store_grant_list(st, NULL, "inventory", &list, &n,
	    NULL), TSR_OK);
	CHECK_INT(n, 2);
	free(list);
	CHECK_INT(tsr_store_grant_list(st, "beta", "inventory", &list, &n,
	    NULL), TSR_OK);
	CHECK_INT(n, 1);
	free(list);
	CHECK_INT(tsr_store_grant_list(st, "nobody", NULL, &list, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 0);
	free(list);
}

static void
test_grant_changes(struct tsr_store *st)
{
	struct tsr_grant g = mk_grant("alpha", "billing", "pay");
	struct tsr_grant *list = NULL;
	struct tsr_why why;
	size_t n = 0;

	g.ttl_s = 60;
	CHECK_INT(tsr_store_grant_update(st, &g, NULL), TSR_OK);
	CHECK_INT(tsr_store_grant_list(st, "alpha", "billing", &list, &n,
	    NULL), TSR_OK);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(list[0].scopes, "pay");
		CHECK_INT(list[0].ttl_s, 60);
	}
	free(list);
	g = mk_grant("alpha", "nowhere", "");
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_grant_update(st, &g, &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no grant for client \"alpha\" to audience "
	    "\"nowhere\"");

	CHECK_INT(tsr_store_grant_delete(st, "alpha", "billing", NULL),
	    TSR_OK);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_grant_delete(st, "alpha", "billing", &why),
	    TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no grant for client \"alpha\" to audience "
	    "\"billing\"");
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_grant_delete(st, "nobody", "billing", &why),
	    TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"nobody\"");
}

static void
test_client_delete(struct tsr_store *st)
{
	struct tsr_grant *list = NULL;
	struct tsr_why why;
	size_t n = 9;

	CHECK_INT(tsr_store_client_delete(st, "alpha", NULL), TSR_OK);
	CHECK_INT(tsr_store_grant_list(st, "alpha", NULL, &list, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 0);			/* cascaded */
	free(list);
	CHECK_INT(tsr_store_grant_list(st, NULL, NULL, &list, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 1);			/* beta's stays */
	free(list);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_delete(st, "alpha", &why),
	    TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"alpha\"");
}

static void
test_policy_generations(struct tsr_store *st)
{
	struct tsr_store_gens g0, g;

	CHECK_INT(tsr_store_generations(st, &g0, NULL), TSR_OK);
	test_clients(st);
	test_client_update(st);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.policy > g0.policy);
	CHECK_INT(g.keys, g0.keys);
	g0 = g;
	test_grants(st);
	test_grant_changes(st);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.policy > g0.policy);
	g0 = g;
	test_client_delete(st);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.policy > g0.policy);
	CHECK_INT(g.keys, g0.keys);
}

static void
test_key_rows(struct tsr_store *st)
{
	struct tsr_keyrow k1 = mk_key("kid-1", TSR_KEYSTATE_ACTIVE, 100);
	struct tsr_keyrow k2 = mk_key("kid-2", TSR_KEYSTATE_NEXT, 200);
	struct tsr_keyrow k, *list = NULL;
	struct tsr_why why;
	size_t n = 0;
	uint64_t before;

	k1.activated_at = 150;
	CHECK_INT(tsr_store_key_insert(st, &k2, NULL), TSR_OK);
	CHECK_INT(tsr_store_key_insert(st, &k1, NULL), TSR_OK);
	before = digest(st);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_key_insert(st, &k1, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "signing key \"kid-1\" already exists");
	k = mk_key("kid-3", TSR_KEYSTATE_ACTIVE, 300);	/* one active only */
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_key_insert(st, &k, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "another signing key is already active");
	k = mk_key("kid-4", TSR_KEYSTATE_NEXT, 300);
	k.bits = 1024;				/* schema CHECK */
	CHECK_INT(tsr_store_key_insert(st, &k, NULL), TSR_ERR_INVALID);
	k.state = (enum tsr_keystate)42;
	CHECK_INT(tsr_store_key_insert(st, &k, NULL), TSR_ERR_INVALID);
	CHECK(digest(st) == before);

	CHECK_INT(tsr_store_key_get(st, "kid-1", &k, NULL), TSR_OK);
	CHECK_STR(k.kid, "kid-1");
	CHECK_INT(k.state, TSR_KEYSTATE_ACTIVE);
	CHECK_INT(k.bits, 2048);
	CHECK_STR(k.jwk, "{\"kid\":\"kid-1\"}");
	CHECK_INT(k.created_at, 100);
	CHECK_INT(k.activated_at, 150);
	CHECK_INT(k.retired_at, 0);
	CHECK_INT(k.expires_at, 0);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_key_get(st, "nokid", &k, &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no signing key \"nokid\"");

	CHECK_INT(tsr_store_key_list(st, &list, &n, NULL), TSR_OK);
	CHECK_INT(n, 2);
	if (n == 2) {				/* by created_at */
		CHECK_STR(list[0].kid, "kid-1");
		CHECK_STR(list[1].kid, "kid-2");
		CHECK_INT(list[1].state, TSR_KEYSTATE_NEXT);
	}
	free(list);
}

static void
test_key_transitions(struct tsr_store *st)
{
	struct tsr_keyrow k;
	struct tsr_why why;

	/* next -> active while another is active: the index says no. */
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_key_transition(st, "kid-2", TSR_KEYSTATE_NEXT,
	    TSR_KEYSTATE_ACTIVE, 500, 0, 0, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "another signing key is already active");
	CHECK_INT(tsr_store_key_transition(st, "kid-1", TSR_KEYSTATE_ACTIVE,
	    TSR_KEYSTATE_RETIRED, 0, 500, 900, NULL), TSR_OK);
	CHECK_INT(tsr_store_key_transition(st, "kid-2", TSR_KEYSTATE_NEXT,
	    TSR_KEYSTATE_ACTIVE, 500, 0, 0, NULL), TSR_OK);
	CHECK_INT(tsr_store_key_get(st, "kid-1", &k, NULL), TSR_OK);
	CHECK_INT(k.state, TSR_KEYSTATE_RETIRED);
	CHECK_INT(k.activated_at, 150);		/* 0 keeps the old value */
	CHECK_INT(k.retired_at, 500);
	CHECK_INT(k.expires_at, 900);
	CHECK_INT(tsr_store_key_get(st, "kid-2", &k, NULL), TSR_OK);
	CHECK_INT(k.state, TSR_KEYSTATE_ACTIVE);
	CHECK_INT(k.activated_at, 500);

	/* Someone else moved it first. */
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_key_transition(st, "kid-2", TSR_KEYSTATE_NEXT,
	    TSR_KEYSTATE_ACTIVE, 600, 0, 0, &why), TSR_ERR_CONFLICT);
	CHECK_STR(why.msg, "signing key \"kid-2\" is active, not next");
	CHECK_INT(tsr_store_key_get(st, "kid-2", &k, NULL), TSR_OK);
	CHECK_INT(k.activated_at, 500);		/* unchanged */
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_key_transition(st, "nokid", TSR_KEYSTATE_NEXT,
	    TSR_KEYSTATE_ACTIVE, 600, 0, 0, &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no signing key \"nokid\"");
	CHECK_INT(tsr_store_key_transition(st, "kid-2", (enum tsr_keystate)9,
	    TSR_KEYSTATE_ACTIVE, 0, 0, 0, NULL), TSR_ERR_INVALID);
}

static void
test_keys(struct tsr_store *st)
{
	struct tsr_store_gens g0, g;

	CHECK_STR(tsr_keystate_name(TSR_KEYSTATE_NEXT), "next");
	CHECK_STR(tsr_keystate_name(TSR_KEYSTATE_REVOKED), "revoked");
	CHECK(tsr_keystate_name((enum tsr_keystate)5) == NULL);
	CHECK(tsr_keystate_name((enum tsr_keystate)-1) == NULL);
	CHECK_INT(tsr_store_generations(st, &g0, NULL), TSR_OK);
	test_key_rows(st);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.keys > g0.keys);
	CHECK_INT(g.policy, g0.policy);
	g0 = g;
	test_key_transitions(st);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.keys > g0.keys);
}

/* Sealed private keys: opaque text, tied to a key row, never a PEM. */
static void
test_key_secrets(struct tsr_store *st)
{
	struct tsr_store_gens g0, g;
	struct tsr_why why;
	char *text = NULL;
	bool deleted = false;

	CHECK_INT(tsr_store_generations(st, &g0, NULL), TSR_OK);
	CHECK_INT(tsr_store_key_secret_put(st, "kid-2", "AQID-_x", 10, NULL),
	    TSR_OK);
	CHECK_INT(tsr_store_key_secret_get(st, "kid-2", &text, NULL), TSR_OK);
	CHECK_STR(text != NULL ? text : "", "AQID-_x");
	free(text);
	CHECK_INT(tsr_store_key_secret_put(st, "kid-2", "BBBB", 11, NULL),
	    TSR_OK);			/* resealed: replaced */
	CHECK_INT(tsr_store_key_secret_get(st, "kid-2", &text, NULL), TSR_OK);
	CHECK_STR(text != NULL ? text : "", "BBBB");
	free(text);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.keys > g0.keys);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_key_secret_put(st, "nokid", "AQID", 10, &why),
	    TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no signing key \"nokid\"");
	CHECK_INT(tsr_store_key_secret_put(st, "kid-1",
	    "-----BEGIN PRIVATE KEY-----\nMII\n", 10, NULL), TSR_ERR_INVALID);
	tsr_err_clear(&why);
	text = NULL;
	CHECK_INT(tsr_store_key_secret_get(st, "kid-1", &text, &why),
	    TSR_ERR_NOT_FOUND);
	CHECK(text == NULL);
	CHECK_STR(why.msg, "no sealed private key for signing key \"kid-1\"");
	CHECK_INT(tsr_store_key_secret_delete(st, "kid-2", &deleted, NULL),
	    TSR_OK);
	CHECK(deleted);
	CHECK_INT(tsr_store_key_secret_delete(st, "kid-2", &deleted, NULL),
	    TSR_OK);
	CHECK(!deleted);
	/* In a transaction, a refused put leaves it usable. */
	CHECK_INT(tsr_store_begin(st, TSR_TX_WRITE, NULL), TSR_OK);
	CHECK_INT(tsr_store_key_secret_put(st, "nokid", "AQID", 10, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_store_key_secret_put(st, "kid-2", "CCCC", 12, NULL),
	    TSR_OK);
	CHECK_INT(tsr_store_commit(st, NULL), TSR_OK);
	CHECK_INT(tsr_store_key_secret_get(st, "kid-2", &text, NULL), TSR_OK);
	CHECK_STR(text != NULL ? text : "", "CCCC");
	free(text);
}

static void
test_settings_and_tx(struct tsr_store *st)
{
	struct tsr_client c = mk_client("tx", "cn-tx", 1), got;
	struct tsr_why why;
	int64_t v = 7;

	tsr_err_clear(&why);
	CHECK_INT(tsr_store_setting_get(st, "retire_window_s", &v, &why),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(v, 0);
	CHECK_STR(why.msg, "no setting \"retire_window_s\"");
	CHECK_INT(tsr_store_setting_set(st, "retire_window_s", 360, NULL),
	    TSR_OK);
	CHECK_INT(tsr_store_setting_get(st, "retire_window_s", &v, NULL),
	    TSR_OK);
	CHECK_INT(v, 360);
	CHECK_INT(tsr_store_setting_set(st, "retire_window_s", INT64_MIN,
	    NULL), TSR_OK);
	CHECK_INT(tsr_store_setting_get(st, "retire_window_s", &v, NULL),
	    TSR_OK);
	CHECK(v == INT64_MIN);

	tsr_store_rollback(st);			/* none open: harmless */
	CHECK_INT(tsr_store_begin(st, TSR_TX_WRITE, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_insert(st, &c, NULL), TSR_OK);
	tsr_store_rollback(st);
	CHECK_INT(tsr_store_client_get(st, "tx", &got, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_store_begin(st, TSR_TX_WRITE, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_insert(st, &c, NULL), TSR_OK);
	CHECK_INT(tsr_store_commit(st, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(st, "tx", &got, NULL), TSR_OK);
}

/* A read transaction sees the rows; a second connection sees what the
 * first committed, and the counters it bumped (what a poller relies on). */
static void
test_read_tx_and_second_connection(struct tsr_store *st)
{
	struct tsr_store *other = NULL;
	struct tsr_client c = mk_client("seen", "cn-seen", 7), got;
	struct tsr_store_gens g0, g;

	CHECK_INT(tsr_store_open(dsn, &other, NULL), TSR_OK);
	if (other == NULL)
		return;
	CHECK_INT(tsr_store_generations(other, &g0, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_insert(st, &c, NULL), TSR_OK);
	CHECK_INT(tsr_store_begin(other, TSR_TX_READ, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(other, "seen", &got, NULL), TSR_OK);
	CHECK_STR(got.cn, "cn-seen");
	CHECK_INT(tsr_store_generations(other, &g, NULL), TSR_OK);
	CHECK(g.policy > g0.policy);
	CHECK_INT(g.keys, g0.keys);
	CHECK_INT(g.revocations, g0.revocations);
	CHECK_INT(tsr_store_commit(other, NULL), TSR_OK);
	CHECK_INT(tsr_store_begin(other, TSR_TX_READ | TSR_TX_WRITE, NULL),
	    TSR_OK);
	CHECK_INT(tsr_store_client_delete(other, "seen", NULL), TSR_OK);
	CHECK_INT(tsr_store_commit(other, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(st, "seen", &got, NULL),
	    TSR_ERR_NOT_FOUND);
	tsr_store_close(other);
}

static struct tsr_revocation
mk_rev(enum tsr_revkind kind, const char *jti, const char *client,
    int64_t at, int64_t exp)
{
	struct tsr_revocation r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	(void)snprintf(r.jti, sizeof(r.jti), "%s", jti);
	(void)snprintf(r.client, sizeof(r.client), "%s", client);
	(void)snprintf(r.reason, sizeof(r.reason), "r %s", jti);
	r.revoked_at = at;
	r.expires_at = exp;
	return r;
}

static void
test_revocations(struct tsr_store *st)
{
	struct tsr_revocation r, *rows = NULL;
	struct tsr_store_gens g0, g;
	size_t n = 9;
	bool added = false;
	int purged = -1;

	CHECK_INT(tsr_store_generations(st, &g0, NULL), TSR_OK);
	r = mk_rev(TSR_REVKIND_TOKEN, "jti-1", "svc", 100, 400);
	CHECK_INT(tsr_store_revocation_add(st, &r, &added, NULL), TSR_OK);
	CHECK(added);
	CHECK_INT(tsr_store_revocation_add(st, &r, &added, NULL), TSR_OK);
	CHECK(!added);				/* the same jti twice */
	r = mk_rev(TSR_REVKIND_CLIENT, "", "billing", 200, 500);
	CHECK_INT(tsr_store_revocation_add(st, &r, NULL, NULL), TSR_OK);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.revocations > g0.revocations);
	CHECK_INT(g.policy, g0.policy);
	CHECK_INT(g.keys, g0.keys);

	CHECK_INT(tsr_store_revocation_list(st, 399, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 2);
	if (n == 2) {				/* oldest first */
		CHECK_INT(rows[0].kind, TSR_REVKIND_TOKEN);
		CHECK_STR(rows[0].jti, "jti-1");
		CHECK_STR(rows[0].client, "svc");
		CHECK_STR(rows[0].reason, "r jti-1");
		CHECK_INT(rows[0].revoked_at, 100);
		CHECK_INT(rows[0].expires_at, 400);
		CHECK_INT(rows[1].kind, TSR_REVKIND_CLIENT);
		CHECK_STR(rows[1].jti, "");
		CHECK_STR(rows[1].client, "billing");
	}
	free(rows);
	CHECK_INT(tsr_store_revocation_list(st, 400, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 1);			/* expires_at > now only */
	free(rows);
	CHECK_INT(tsr_store_revocation_purge(st, 400, &purged, NULL), TSR_OK);
	CHECK_INT(purged, 1);
	CHECK_INT(tsr_store_revocation_list(st, 0, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 1);
	free(rows);
}

static struct tsr_audit_event
mk_event(int64_t at, const char *client, const char *outcome)
{
	struct tsr_audit_event e;

	memset(&e, 0, sizeof(e));
	e.at = at;
	(void)snprintf(e.event, sizeof(e.event), "token");
	(void)snprintf(e.peer, sizeof(e.peer), "127.0.0.1");
	(void)snprintf(e.cn, sizeof(e.cn), "cn-%s", client);
	(void)snprintf(e.client, sizeof(e.client), "%s", client);
	(void)snprintf(e.audience, sizeof(e.audience), "inventory");
	(void)snprintf(e.scopes, sizeof(e.scopes), "a:read");
	(void)snprintf(e.outcome, sizeof(e.outcome), "%s", outcome);
	return e;
}

static void
test_audit(struct tsr_store *st)
{
	struct tsr_audit_event evs[3], *rows = NULL;
	struct tsr_audit_filter f;
	size_t n = 9;
	int purged = -1;

	evs[0] = mk_event(100, "alpha", "issued");
	evs[1] = mk_event(200, "beta", "denied");
	evs[2] = mk_event(300, "alpha", "issued");
	CHECK_INT(tsr_store_audit_add(st, evs, 3, NULL), TSR_OK);
	memset(&f, 0, sizeof(f));
	CHECK_INT(tsr_store_audit_list(st, &f, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 3);
	if (n == 3) {				/* newest first */
		CHECK_INT(rows[0].at, 300);
		CHECK_STR(rows[0].client, "alpha");
		CHECK_STR(rows[0].cn, "cn-alpha");
		CHECK_STR(rows[0].scopes, "a:read");
		CHECK_STR(rows[0].cert_sha256, "");
		CHECK_INT(rows[2].at, 100);
	}
	free(rows);
	f.client = "alpha";
	f.since = 150;
	CHECK_INT(tsr_store_audit_list(st, &f, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 1);
	free(rows);
	memset(&f, 0, sizeof(f));
	f.outcome = "denied";
	CHECK_INT(tsr_store_audit_list(st, &f, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 1);
	free(rows);
	f.outcome = NULL;
	f.limit = 2;
	CHECK_INT(tsr_store_audit_list(st, &f, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 2);
	free(rows);
	CHECK_INT(tsr_store_audit_purge(st, 200, &purged, NULL), TSR_OK);
	CHECK_INT(purged, 1);			/* at < before */
	memset(&f, 0, sizeof(f));
	CHECK_INT(tsr_store_audit_list(st, &f, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 2);
	free(rows);
}

/* A folded row keeps its count; the cap keeps the newest rows. */
static void
test_audit_count_and_trim(struct tsr_store *st)
{
	struct tsr_audit_event evs[4], *rows = NULL;
	struct tsr_audit_filter f;
	int64_t trimmed = -1;
	size_t n = 0, i;

	for (i = 0; i < 4; i++)
		evs[i] = mk_event(1000 + (int64_t)i, "gamma", "denied");
	evs[3].count = 42;
	CHECK_INT(tsr_store_audit_add(st, evs, 4, NULL), TSR_OK);
	CHECK_INT(tsr_store_audit_trim(st, 0, &trimmed, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_store_audit_trim(st, 3, &trimmed, NULL), TSR_OK);
	CHECK_INT(trimmed, 3);		/* 2 earlier rows and this run's first */
	CHECK_INT(tsr_store_audit_trim(st, 3, &trimmed, NULL), TSR_OK);
	CHECK_INT(trimmed, 0);		/* under the cap: nothing */
	memset(&f, 0, sizeof(f));
	CHECK_INT(tsr_store_audit_list(st, &f, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(rows[0].at, 1003);
		CHECK_INT(rows[0].count, 42);
		CHECK_INT(rows[1].count, 1);
		CHECK_INT(rows[2].at, 1001);
	}
	free(rows);
}

static struct tsr_certrow
mk_cert(const char *serial, const char *client, int64_t not_after)
{
	struct tsr_certrow c;

	memset(&c, 0, sizeof(c));
	(void)snprintf(c.serial, sizeof(c.serial), "%s", serial);
	(void)snprintf(c.client, sizeof(c.client), "%s", client);
	c.not_before = not_after - 1000;
	c.not_after = not_after;
	c.issued_at = c.not_before;
	(void)snprintf(c.sha256, sizeof(c.sha256), "%064d", (int)not_after);
	memcpy(c.sha256, serial, strlen(serial) < 8 ? strlen(serial) : 8);
	c.crl_reason = -1;
	return c;
}

static void
test_ca_row(struct tsr_store *st)
{
	struct tsr_carow *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct tsr_store_gens g0, g;

	if (a == NULL || b == NULL)
		abort();
	CHECK_INT(tsr_store_generations(st, &g0, NULL), TSR_OK);
	CHECK_INT(tsr_store_ca_get(st, b, NULL), TSR_ERR_NOT_FOUND);
	(void)snprintf(a->cert_pem, sizeof(a->cert_pem), "-----BEGIN X-----");
	(void)snprintf(a->key_ref, sizeof(a->key_ref), "file:ca-key.pem");
	(void)snprintf(a->sha256, sizeof(a->sha256), "%064d", 7);
	a->created_at = 123;
	CHECK_INT(tsr_store_ca_insert(st, a, NULL), TSR_OK);
	CHECK_INT(tsr_store_ca_insert(st, a, NULL), TSR_ERR_EXISTS);
	CHECK_INT(tsr_store_ca_get(st, b, NULL), TSR_OK);
	CHECK_STR(b->cert_pem, a->cert_pem);
	CHECK_STR(b->key_ref, "file:ca-key.pem");
	CHECK_STR(b->key_sealed, "");
	CHECK_STR(b->sha256, a->sha256);
	CHECK_INT(b->created_at, 123);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.certs > g0.certs);
	free(a);
	free(b);
}

static void
test_certs(struct tsr_store *st)
{
	struct tsr_certrow c, *rows = NULL;
	struct tsr_crlentry *ents = NULL;
	struct tsr_store_gens g0, g;
	size_t n = 9;
	int64_t cnt = -1;
	int count = -1;
	bool changed = false;

	c = mk_cert("0a01", "svc", 5000);
	CHECK_INT(tsr_store_cert_insert(st, &c, NULL), TSR_OK);
	CHECK_INT(tsr_store_cert_insert(st, &c, NULL), TSR_ERR_EXISTS);
	c = mk_cert("0b02", "svc", 3000);
	CHECK_INT(tsr_store_cert_insert(st, &c, NULL), TSR_OK);
	c = mk_cert("0c03", "other", 4000);
	CHECK_INT(tsr_store_cert_insert(st, &c, NULL), TSR_OK);
	CHECK_INT(tsr_store_cert_get(st, "0a01", &c, NULL), TSR_OK);
	CHECK_STR(c.client, "svc");
	CHECK_INT(c.not_after, 5000);
	CHECK_INT(c.revoked_at, 0);
	CHECK_INT(tsr_store_cert_get(st, "ffff", &c, NULL), TSR_ERR_NOT_FOUND);

	CHECK_INT(tsr_store_cert_list(st, NULL, 0, 0, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 3);
	if (n == 3) {			/* by not_after */
		CHECK_STR(rows[0].serial, "0b02");
		CHECK_STR(rows[2].serial, "0a01");
	}
	free(rows);
	CHECK_INT(tsr_store_cert_list(st, "svc", 3000, 0, &rows, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 1);
	free(rows);
	CHECK_INT(tsr_store_cert_list(st, NULL, 0, 4000, &rows, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 2);
	free(rows);
	CHECK_INT(tsr_store_cert_count_expiring(st, 2000, 4500, &cnt, NULL),
	    TSR_OK);
	CHECK_INT(cnt, 2);

	CHECK_INT(tsr_store_generations(st, &g0, NULL), TSR_OK);
	CHECK_INT(tsr_store_cert_revoke(st, "0a01", 2500, "lost", 1, &changed,
	    NULL), TSR_OK);
	CHECK(changed);
	CHECK_INT(tsr_store_cert_revoke(st, "0a01", 2600, "again", 1, &changed,
	    NULL), TSR_OK);
	CHECK(!changed);
	CHECK_INT(tsr_store_cert_revoke(st, "dead", 2600, "", -1, NULL, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK(g.certs > g0.certs);
	CHECK_INT(tsr_store_cert_get(st, "0a01", &c, NULL), TSR_OK);
	CHECK_INT(c.revoked_at, 2500);
	CHECK_STR(c.reason, "lost");
	CHECK_INT(c.crl_reason, 1);
	/* At 3000 the 0b02 certificate has expired: not revoked again. */
	CHECK_INT(tsr_store_cert_revoke_client(st, "svc", 3000, "", -1, &count,
	    NULL), TSR_OK);
	CHECK_INT(count, 0);
	CHECK_INT(tsr_store_cert_revoke_client(st, "other", 2900, "x", -1,
	    &count, NULL), TSR_OK);
	CHECK_INT(count, 1);
	CHECK_INT(tsr_store_cert_revoked(st, 2900, &ents, &n, NULL), TSR_OK);
	CHECK_INT(n, 2);
	if (n == 2) {			/* by serial */
		CHECK_STR(ents[0].serial, "0a01");
		CHECK_INT(ents[0].revoked_at, 2500);
		CHECK_INT(ents[0].crl_reason, 1);
		CHECK_STR(ents[1].serial, "0c03");
		CHECK_INT(ents[1].crl_reason, -1);
	}
	free(ents);
	CHECK_INT(tsr_store_cert_revoked(st, 4000, &ents, &n, NULL), TSR_OK);
	CHECK_INT(n, 1);		/* entries leave after notAfter */
	free(ents);
	CHECK_INT(tsr_store_cert_count_expiring(st, 2000, 9000, &cnt, NULL),
	    TSR_OK);
	CHECK_INT(cnt, 1);		/* revoked ones do not count */
}

static void
test_enroll(struct tsr_store *st)
{
	struct tsr_enrollrow e, *rows = NULL;
	size_t n = 9;

	memset(&e, 0, sizeof(e));
	(void)snprintf(e.id, sizeof(e.id), "e1");
	(void)snprintf(e.client, sizeof(e.client), "svc");
	(void)snprintf(e.secret_sha256, sizeof(e.secret_sha256), "%064d", 1);
	e.created_at = 100;
	e.expires_at = 200;
	CHECK_INT(tsr_store_enroll_insert(st, &e, NULL), TSR_OK);
	CHECK_INT(tsr_store_enroll_insert(st, &e, NULL), TSR_ERR_EXISTS);
	(void)snprintf(e.id, sizeof(e.id), "e2");
	e.expires_at = 150;
	CHECK_INT(tsr_store_enroll_insert(st, &e, NULL), TSR_OK);
	CHECK_INT(tsr_store_enroll_live(st, "svc", 120, &rows, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(rows[0].secret_sha256, e.secret_sha256);
		CHECK_INT(rows[0].used_at, 0);
	}
	free(rows);
	CHECK_INT(tsr_store_enroll_live(st, "svc", 160, &rows, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 1);
	free(rows);
	CHECK_INT(tsr_store_enroll_use(st, "e2", 160, NULL), TSR_ERR_CONFLICT);
	CHECK_INT(tsr_store_enroll_use(st, "e1", 160, NULL), TSR_OK);
	CHECK_INT(tsr_store_enroll_use(st, "e1", 161, NULL), TSR_ERR_CONFLICT);
	CHECK_INT(tsr_store_enroll_use(st, "nope", 161, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_store_enroll_live(st, "svc", 120, &rows, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 1);
	free(rows);
}

static void
test_crl(struct tsr_store *st)
{
	static const uint8_t d1[] = { 1, 2, 3 }, d2[] = { 4, 5 };
	struct tsr_crlrow r;
	int64_t num = -1, at = -1;

	CHECK_INT(tsr_store_crl_get(st, &r, NULL), TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_store_crl_state(st, &num, &at, NULL), TSR_OK);
	CHECK_INT(num, 0);
	CHECK_INT(at, 0);
	CHECK_INT(tsr_store_crl_put(st, 1, 100, d1, sizeof(d1), NULL), TSR_OK);
	CHECK_INT(tsr_store_crl_put(st, 1, 101, d2, sizeof(d2), NULL),
	    TSR_ERR_CONFLICT);		/* the number must grow */
	CHECK_INT(tsr_store_crl_put(st, 2, 102, d2, sizeof(d2), NULL), TSR_OK);
	CHECK_INT(tsr_store_crl_get(st, &r, NULL), TSR_OK);
	CHECK_INT(r.number, 2);
	CHECK_INT(r.this_update, 102);
	CHECK_INT(tsr_store_crl_state(st, &num, &at, NULL), TSR_OK);
	CHECK_INT(num, 2);
	CHECK_INT(at, 102);
	CHECK_INT(r.der_len, sizeof(d2));
	if (r.der_len == sizeof(d2))
		CHECK_MEM(r.der, d2, sizeof(d2));
	free(r.der);
}

static void
test_client_cert_ttl(struct tsr_store *st)
{
	struct tsr_client c = mk_client("ttl", "cn-ttl", 100);

	c.cert_ttl_s = 3600;
	CHECK_INT(tsr_store_client_insert(st, &c, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(st, "ttl", &c, NULL), TSR_OK);
	CHECK_INT(c.cert_ttl_s, 3600);
	c.cert_ttl_s = 0;
	CHECK_INT(tsr_store_client_update(st, &c, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(st, "ttl", &c, NULL), TSR_OK);
	CHECK_INT(tsr_client_cert_ttl(&c), TSR_CERT_TTL_DEFAULT);
	c.cert_ttl_s = 10;		/* under the floor */
	CHECK(tsr_store_client_update(st, &c, NULL) != TSR_OK);
}

int
main(void)
{
	struct tsr_store *st;

	dsn_init();
	st = test_migrate();
	test_policy_generations(st);
	test_keys(st);
	test_key_secrets(st);
	test_settings_and_tx(st);
	test_read_tx_and_second_connection(st);
	test_revocations(st);
	test_audit(st);
	test_audit_count_and_trim(st);
	test_ca_row(st);
	test_certs(st);
	test_enroll(st);
	test_crl(st);
	test_client_cert_ttl(st);
	tsr_store_close(st);
	dsn_finish();
	return check_done();
}
