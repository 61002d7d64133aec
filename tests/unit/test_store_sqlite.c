/*
 * test_store: the SQLite store against real database files in a fresh
 * temporary directory.  sqlite3 is used directly only to look behind the
 * store's back (NULL times, a digest of every row) and to plant rows the
 * store would refuse to write.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "migration.h"
#include "store.h"

struct fixture {
	char	dir[64];
	char	db[128];
};

static void
fixture_init(struct fixture *f)
{
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tsr_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	(void)snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
}

static void
fixture_finish(struct fixture *f)
{
	static const char *const files[] = { "t.db", "t.db-wal", "t.db-shm",
	    "garbage.db" };
	char path[192];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		(void)unlink(path);
	}
	if (rmdir(f->dir) != 0)
		perror(f->dir);
}

static int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

#define CHECK_WHY(why, text) do {					\
	CHECK(contains((why).msg, (text)));				\
	if (!contains((why).msg, (text)))				\
		printf("#   why \"%s\" lacks \"%s\"\n", (why).msg, (text));	\
} while (0)

/* Run SQL behind the store's back on its own connection. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		printf("# raw_exec: %s\n", sqlite3_errmsg(db));
	CHECK_INT(rc, SQLITE_OK);
	sqlite3_close(db);
}

/* One integer from a query, -1 when it fails or yields NULL. */
static long long
raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	long long v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

/* FNV-1a over every row of every table: "the database is unchanged". */
static uint64_t
digest(const char *path)
{
	static const char *const tables[] = { "clients", "grants",
	    "signing_keys", "settings", "generations", "schema_migrations" };
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt;
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;
	char sql[128];
	size_t t;
	int i, n;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return 0;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		(void)snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1",
		    tables[t]);
		if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
			continue;
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			for (i = 0; i < sqlite3_column_count(stmt); i++) {
				p = sqlite3_column_text(stmt, i);
				n = sqlite3_column_bytes(stmt, i);
				while (p != NULL && n-- > 0)
					h = (h ^ *p++) * 1099511628211ULL;
				h = (h ^ 0xff) * 1099511628211ULL;
			}
		}
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	return h;
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

static struct tsr_store *
open_migrated(const struct fixture *f)
{
	struct tsr_store *st = NULL;
	int applied = -1;

	CHECK_INT(tsr_store_open(f->db, &st, NULL), TSR_OK);
	CHECK_INT(tsr_store_migrate(st, &applied, NULL), TSR_OK);
	return st;
}

static void
test_open_errors(void)
{
	struct fixture f;
	struct tsr_store *st = NULL;
	struct tsr_why why;
	char path[192];
	FILE *fp;

	fixture_init(&f);
	tsr_err_clear(&why);
	(void)snprintf(path, sizeof(path), "%s/missing/t.db", f.dir);
	CHECK_INT(tsr_store_open(path, &st, &why), TSR_ERR_DB);
	CHECK(st == NULL);
	CHECK_WHY(why, path);

	(void)snprintf(path, sizeof(path), "%s/garbage.db", f.dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (fp != NULL) {
		for (int i = 0; i < 256; i++)
			fputs("this is not an SQLite database at all\n", fp);
		fclose(fp);
	}
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open(path, &st, &why), TSR_ERR_DB);
	CHECK(st == NULL);
	CHECK_WHY(why, path);
	CHECK_WHY(why, "not a database");

	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("", &st, &why), TSR_ERR_INVALID);
	tsr_store_close(NULL);		/* NULL-safe */
	fixture_finish(&f);
}

static void
test_migrate(void)
{
	struct fixture f;
	struct tsr_store *st = NULL;
	struct tsr_why why;
	int applied = -1, cur = -1, latest = -1;
	int64_t pg = 0, kg = 0;
	uint64_t before;
	char want[128];

	fixture_init(&f);
	CHECK_INT(tsr_store_open(f.db, &st, NULL), TSR_OK);
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, 0);
	CHECK_INT(latest, tsr_migration_count);
	CHECK_INT(tsr_store_migrate(st, &applied, NULL), TSR_OK);
	CHECK_INT(applied, tsr_migration_count);
	CHECK_INT(tsr_store_migrate(st, &applied, NULL), TSR_OK);
	CHECK_INT(applied, 0);
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, tsr_migration_count);
	CHECK_INT(tsr_store_generations(st, &pg, &kg, NULL), TSR_OK);
	CHECK_INT(pg, 1);
	CHECK_INT(kg, 1);
	CHECK_INT(raw_int(f.db, "SELECT journal_mode = 'wal' FROM "
	    "pragma_journal_mode"), 1);
	CHECK_INT(raw_int(f.db, "SELECT applied_at > 1600000000 FROM "
	    "schema_migrations WHERE version = 1"), 1);

	/* A database from a future tessera: refused, left alone. */
	raw_exec(f.db, "INSERT INTO schema_migrations VALUES (999, 'x', 1)");
	before = digest(f.db);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_migrate(st, &applied, &why), TSR_ERR_DB_NEWER);
	CHECK_INT(applied, 0);
	(void)snprintf(want, sizeof(want), "database schema version 999 is "
	    "newer than this tessera (knows %d); upgrade tessera",
	    (int)tsr_migration_count);
	CHECK_WHY(why, want);
	CHECK(digest(f.db) == before);
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, 999);
	tsr_store_close(st);
	fixture_finish(&f);
}

static void
test_clients(struct tsr_store *st, const char *path)
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

	before = digest(path);
	c = mk_client("alpha", "cn-other", 300);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_insert(st, &c, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "client \"alpha\" already exists");
	c = mk_client("gamma", "cn-alpha", 300);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_client_insert(st, &c, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "certificate CN \"cn-alpha\" is already used by "
	    "client \"alpha\"");
	CHECK(digest(path) == before);

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
test_grants(struct tsr_store *st, const char *path)
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

	before = digest(path);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_grant_insert(st, &g, &why), TSR_ERR_EXISTS);
	CHECK_STR(why.msg, "grant for client \"beta\" to audience "
	    "\"inventory\" already exists");
	g = mk_grant("nobody", "inventory", "");
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_grant_insert(st, &g, &why), TSR_ERR_NOT_FOUND);
	CHECK_STR(why.msg, "no client \"nobody\"");
	CHECK(digest(path) == before);

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
test_client_delete(struct tsr_store *st, const char *path)
{
	struct tsr_grant *list = NULL;
	struct tsr_why why;
	size_t n = 9;

	CHECK_INT(tsr_store_client_delete(st, "alpha", NULL), TSR_OK);
	CHECK_INT(tsr_store_grant_list(st, "alpha", NULL, &list, &n, NULL),
	    TSR_OK);
	CHECK_INT(n, 0);			/* cascaded */
	free(list);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM grants"), 1);
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
test_policy_generations(void)
{
	struct fixture f;
	struct tsr_store *st;
	int64_t pg0, kg0, pg, kg;

	fixture_init(&f);
	st = open_migrated(&f);
	CHECK_INT(tsr_store_generations(st, &pg0, &kg0, NULL), TSR_OK);
	test_clients(st, f.db);
	test_client_update(st);
	CHECK_INT(tsr_store_generations(st, &pg, &kg, NULL), TSR_OK);
	CHECK(pg > pg0);
	CHECK_INT(kg, kg0);
	pg0 = pg;
	test_grants(st, f.db);
	test_grant_changes(st);
	CHECK_INT(tsr_store_generations(st, &pg, &kg, NULL), TSR_OK);
	CHECK(pg > pg0);
	pg0 = pg;
	test_client_delete(st, f.db);
	CHECK_INT(tsr_store_generations(st, &pg, &kg, NULL), TSR_OK);
	CHECK(pg > pg0);
	CHECK_INT(kg, kg0);
	tsr_store_close(st);
	fixture_finish(&f);
}

static void
test_key_rows(struct tsr_store *st, const char *path)
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
	before = digest(path);
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
	CHECK(digest(path) == before);

	CHECK_INT(tsr_store_key_get(st, "kid-1", &k, NULL), TSR_OK);
	CHECK_STR(k.kid, "kid-1");
	CHECK_INT(k.state, TSR_KEYSTATE_ACTIVE);
	CHECK_INT(k.bits, 2048);
	CHECK_STR(k.jwk, "{\"kid\":\"kid-1\"}");
	CHECK_INT(k.created_at, 100);
	CHECK_INT(k.activated_at, 150);
	CHECK_INT(k.retired_at, 0);
	CHECK_INT(k.expires_at, 0);
	/* 0 is stored as NULL, "not reached". */
	CHECK_INT(raw_int(path, "SELECT count(*) FROM signing_keys WHERE "
	    "kid = 'kid-1' AND retired_at IS NULL AND expires_at IS NULL"), 1);
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
test_keys(void)
{
	struct fixture f;
	struct tsr_store *st;
	int64_t pg0, kg0, pg, kg;

	CHECK_STR(tsr_store_keystate_name(TSR_KEYSTATE_NEXT), "next");
	CHECK_STR(tsr_store_keystate_name(TSR_KEYSTATE_REVOKED), "revoked");
	CHECK(tsr_store_keystate_name((enum tsr_keystate)5) == NULL);
	CHECK(tsr_store_keystate_name((enum tsr_keystate)-1) == NULL);
	fixture_init(&f);
	st = open_migrated(&f);
	CHECK_INT(tsr_store_generations(st, &pg0, &kg0, NULL), TSR_OK);
	test_key_rows(st, f.db);
	CHECK_INT(tsr_store_generations(st, &pg, &kg, NULL), TSR_OK);
	CHECK(kg > kg0);
	CHECK_INT(pg, pg0);
	kg0 = kg;
	test_key_transitions(st);
	CHECK_INT(tsr_store_generations(st, &pg, &kg, NULL), TSR_OK);
	CHECK(kg > kg0);
	tsr_store_close(st);
	fixture_finish(&f);
}

static void
test_settings_and_tx(void)
{
	struct fixture f;
	struct tsr_store *st;
	struct tsr_client c = mk_client("tx", "cn-tx", 1), got;
	struct tsr_why why;
	int64_t v = 7;

	fixture_init(&f);
	st = open_migrated(&f);
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
	CHECK_INT(tsr_store_begin(st, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_insert(st, &c, NULL), TSR_OK);
	tsr_store_rollback(st);
	CHECK_INT(tsr_store_client_get(st, "tx", &got, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_store_begin(st, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_insert(st, &c, NULL), TSR_OK);
	CHECK_INT(tsr_store_commit(st, NULL), TSR_OK);
	CHECK_INT(tsr_store_client_get(st, "tx", &got, NULL), TSR_OK);
	tsr_store_close(st);
	fixture_finish(&f);
}

/* A row longer than our buffers (planted with CHECKs off) is an error,
 * not a truncated value. */
static void
test_oversized_row(void)
{
	struct fixture f;
	struct tsr_store *st;
	struct tsr_client *list = NULL, c;
	size_t n = 5;

	fixture_init(&f);
	st = open_migrated(&f);
	raw_exec(f.db, "PRAGMA ignore_check_constraints = ON;"
	    "INSERT INTO clients (name, cn, description, created_at,"
	    " updated_at) VALUES ('big', 'cn-big', printf('%.300c', 'x'),"
	    " 1, 1)");
	CHECK_INT(tsr_store_client_list(st, &list, &n, NULL), TSR_ERR_DB);
	CHECK(list == NULL);
	CHECK_INT(n, 0);
	CHECK_INT(tsr_store_client_get(st, "big", &c, NULL), TSR_ERR_DB);
	tsr_store_close(st);
	fixture_finish(&f);
}

/* Another writer holds the lock past the busy timeout. */
static void
test_busy(void)
{
	struct fixture f;
	struct tsr_store *st;
	struct tsr_why why;
	sqlite3 *other = NULL;

	fixture_init(&f);
	st = open_migrated(&f);
	CHECK_INT(sqlite3_open(f.db, &other), SQLITE_OK);
	CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_setting_set(st, "x", 1, &why), TSR_ERR_DB);
	CHECK_WHY(why, f.db);
	CHECK_WHY(why, "locked");
	(void)sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	CHECK_INT(tsr_store_setting_set(st, "x", 1, NULL), TSR_OK);
	tsr_store_close(st);
	fixture_finish(&f);
}

int
main(void)
{
	test_open_errors();
	test_migrate();
	test_policy_generations();
	test_keys();
	test_settings_and_tx();
	test_oversized_row();
	test_busy();
	return check_done();
}
