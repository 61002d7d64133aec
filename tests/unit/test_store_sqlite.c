/*
 * test_store_sqlite: what only the SQLite engine does, against real
 * database files in a fresh temporary directory: file errors, WAL, a
 * schema from a newer tessera, rows planted with raw SQL, the busy
 * timeout.  sqlite3 is used directly only to look behind the store's
 * back and to plant rows the store would refuse to write.  The store's
 * contract for every engine is tests/store/conformance.c.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store/migration.h"
#include "store/store.h"

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

	/* A URI picks another engine, never a file of that name. */
#ifdef TSR_HAVE_POSTGRESQL
	/* Refused before any connection; the password never shown. */
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("postgresql://u:s3cret@db/x?bogus=1", &st,
	    &why), TSR_ERR_INVALID);
	CHECK(st == NULL);
	CHECK_WHY(why, "malformed PostgreSQL URI");
	CHECK(strstr(why.msg, "s3cret") == NULL);
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("postgres://u:s3%zzret@db/x", &st, &why),
	    TSR_ERR_INVALID);
	CHECK_WHY(why, "malformed PostgreSQL URI");
	CHECK(strstr(why.msg, "s3") == NULL);
	/* Nobody listens on port 1: one line naming the server. */
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("postgresql://u:s3cret@127.0.0.1:1/x"
	    "?connect_timeout=2", &st, &why), TSR_ERR_DB);
	CHECK(st == NULL);
	CHECK_WHY(why, "cannot connect to postgresql://u@127.0.0.1:1/x");
	CHECK(strstr(why.msg, "s3cret") == NULL);
	CHECK(strchr(why.msg, '\n') == NULL);
#else
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("postgresql://localhost/tessera", &st, &why),
	    TSR_ERR_INVALID);
	CHECK(st == NULL);
	CHECK_STR(why.msg, "PostgreSQL support is not built in");
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("postgres://u@db/tessera", &st, &why),
	    TSR_ERR_INVALID);
	CHECK_STR(why.msg, "PostgreSQL support is not built in");
#endif
	tsr_err_clear(&why);
	CHECK_INT(tsr_store_open("mysql://u:secret@db/x", &st, &why),
	    TSR_ERR_INVALID);
	CHECK_STR(why.msg, "unknown database URI scheme \"mysql\"");
	fixture_finish(&f);
}

static void
test_migrate(void)
{
	struct fixture f;
	struct tsr_store *st = NULL;
	struct tsr_why why;
	int applied = -1, cur = -1, latest = -1;
	struct tsr_store_gens g;
	uint64_t before;
	char want[128];

	fixture_init(&f);
	CHECK_INT(tsr_store_open(f.db, &st, NULL), TSR_OK);
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, 0);
	CHECK_INT(latest, tsr_migrations_sqlite_count);
	CHECK_INT(tsr_store_migrate(st, &applied, NULL), TSR_OK);
	CHECK_INT(applied, tsr_migrations_sqlite_count);
	CHECK_INT(tsr_store_migrate(st, &applied, NULL), TSR_OK);
	CHECK_INT(applied, 0);
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, tsr_migrations_sqlite_count);
	CHECK_INT(tsr_store_generations(st, &g, NULL), TSR_OK);
	CHECK_INT(g.policy, 1);
	CHECK_INT(g.keys, 1);
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
	    (int)tsr_migrations_sqlite_count);
	CHECK_WHY(why, want);
	CHECK(digest(f.db) == before);
	CHECK_INT(tsr_store_schema_version(st, &cur, &latest, NULL), TSR_OK);
	CHECK_INT(cur, 999);
	tsr_store_close(st);
	fixture_finish(&f);
}

/* Times of 0 are stored as NULL, "not reached", and read back as 0. */
static void
test_null_times(void)
{
	struct fixture f;
	struct tsr_store *st;
	struct tsr_keyrow k = mk_key("kid-1", TSR_KEYSTATE_ACTIVE, 100), got;

	fixture_init(&f);
	st = open_migrated(&f);
	k.activated_at = 150;
	CHECK_INT(tsr_store_key_insert(st, &k, NULL), TSR_OK);
	CHECK_INT(raw_int(f.db, "SELECT count(*) FROM signing_keys WHERE "
	    "kid = 'kid-1' AND retired_at IS NULL AND expires_at IS NULL"), 1);
	CHECK_INT(tsr_store_key_get(st, "kid-1", &got, NULL), TSR_OK);
	CHECK_INT(got.activated_at, 150);
	CHECK_INT(got.retired_at, 0);
	CHECK_INT(got.expires_at, 0);
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
	test_null_times();
	test_oversized_row();
	test_busy();
	return check_done();
}
