/*
 * sqlite: the SQLite engine of the store (see backend.h).  The only file
 * that includes sqlite3.h or holds SQLite's SQL.  Every statement is
 * prepared and takes its values as bound parameters; user text never
 * becomes SQL.
 */
#include "backend.h"
#include "audit.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migration.h"
#include "refuse.h"

struct sqlite_store {
	struct tsr_store base;	/* first: ops */
	sqlite3	*db;
	char	*path;		/* for the lines we write */
};

/* A struct tsr_store of this engine is the head of a struct sqlite_store. */
static const struct sqlite_store *
sq(const struct tsr_store *st)
{
	return (const struct sqlite_store *)st;
}

/* Reads the current row of stmt into the element at row. */
typedef enum tsr_err (*row_reader)(sqlite3_stmt *stmt, void *row);


/* A failure of the database itself: the path, what we did, SQLite's why. */
static enum tsr_err
db_err(const struct tsr_store *st, const char *what, struct tsr_why *why)
{
	return tsr_err_why(why, TSR_ERR_DB, "%s: %s: %s", sq(st)->path, what,
	    sqlite3_errmsg(sq(st)->db));
}

/*
 * Map the result of a failed write.  Uniqueness and reference failures
 * get no line here: the caller knows which name to blame.
 */
static enum tsr_err
write_err(const struct tsr_store *st, int rc, const char *what,
    struct tsr_why *why)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return TSR_ERR_EXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return TSR_ERR_NOT_FOUND;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		return tsr_err_why(why, TSR_ERR_INVALID, "%s: %s", what,
		    sqlite3_errmsg(sq(st)->db));
	default:
		return db_err(st, what, why);
	}
}

static enum tsr_err
prep(const struct tsr_store *st, const char *sql, sqlite3_stmt **stmt,
    struct tsr_why *why)
{
	*stmt = NULL;
	if (sqlite3_prepare_v2(sq(st)->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return db_err(st, "prepare", why);
	return TSR_OK;
}

static enum tsr_err
exec(const struct tsr_store *st, const char *sql, const char *what,
    struct tsr_why *why)
{
	if (sqlite3_exec(sq(st)->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(st, what, why);
	return TSR_OK;
}

/* Bind a NUL-terminated field of a row struct, refusing a full buffer
 * without its NUL rather than reading past it. */
static enum tsr_err
bind_field(sqlite3_stmt *stmt, int idx, const char *field, size_t size,
    struct tsr_why *why)
{
	size_t len = strnlen(field, size);

	if (len == size)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "unterminated field in store row");
	if (sqlite3_bind_text(stmt, idx, field, (int)len, SQLITE_STATIC) !=
	    SQLITE_OK)
		return tsr_err_why(why, TSR_ERR_DB, "cannot bind field");
	return TSR_OK;
}

/* Bind a caller's string; NULL binds SQL NULL (an absent filter). */
static enum tsr_err
bind_str(sqlite3_stmt *stmt, int idx, const char *s, struct tsr_why *why)
{
	int rc;

	if (s == NULL)
		rc = sqlite3_bind_null(stmt, idx);
	else
		rc = sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return tsr_err_why(why, TSR_ERR_DB, "cannot bind value");
	return TSR_OK;
}

/* Times: 0 in C is NULL in the database, "not reached". */
static enum tsr_err
bind_time(sqlite3_stmt *stmt, int idx, int64_t at, struct tsr_why *why)
{
	int rc;

	if (at == 0)
		rc = sqlite3_bind_null(stmt, idx);
	else
		rc = sqlite3_bind_int64(stmt, idx, at);
	if (rc != SQLITE_OK)
		return tsr_err_why(why, TSR_ERR_DB, "cannot bind value");
	return TSR_OK;
}

static enum tsr_err
bind_int(sqlite3_stmt *stmt, int idx, int64_t v, struct tsr_why *why)
{
	if (sqlite3_bind_int64(stmt, idx, v) != SQLITE_OK)
		return tsr_err_why(why, TSR_ERR_DB, "cannot bind value");
	return TSR_OK;
}

/* Copy a text column into dst; false when NULL or it would not fit. */
static bool
col_text(sqlite3_stmt *stmt, int col, char *dst, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);
	size_t len = (size_t)sqlite3_column_bytes(stmt, col);

	if (text == NULL || len >= size || memchr(text, '\0', len) != NULL)
		return false;
	memcpy(dst, text, len);
	dst[len] = '\0';
	return true;
}

/* NULL reads as 0, "not reached". */
static int64_t
col_time(sqlite3_stmt *stmt, int col)
{
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return 0;
	return sqlite3_column_int64(stmt, col);
}

/*
 * Step stmt to the end, appending each row (read by read) to a malloc'd
 * array of elements of size bytes.
 */
static enum tsr_err
collect(const struct tsr_store *st, sqlite3_stmt *stmt, size_t size,
    row_reader read, void **out, size_t *out_n, struct tsr_why *why)
{
	unsigned char *rows = NULL, *grown;
	size_t n = 0, cap = 0;
	enum tsr_err rc = TSR_OK;
	int step;

	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if (cap > SIZE_MAX / size / 2 ||
			    (grown = realloc(rows, cap * size)) == NULL) {
				rc = tsr_err_why(why, TSR_ERR_NOMEM, "list");
				goto out;
			}
			rows = grown;
		}
		if ((rc = read(stmt, rows + n * size)) != TSR_OK) {
			rc = tsr_err_why(why, rc, "%s: bad row in database",
			    sq(st)->path);
			goto out;
		}
		n++;
	}
	if (step != SQLITE_DONE) {
		rc = db_err(st, "read", why);
		goto out;
	}
	*out = rows;
	*out_n = n;
	rows = NULL;
out:
	free(rows);
	return rc;
}

/* Step stmt expecting exactly zero or one row; *found says which. */
static enum tsr_err
step_one(const struct tsr_store *st, sqlite3_stmt *stmt, const char *what,
    bool *found, struct tsr_why *why)
{
	int step = sqlite3_step(stmt);

	*found = step == SQLITE_ROW;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_err(st, what, why);
	return TSR_OK;
}

/* --- open, close, transactions ------------------------------------- */

static void sqlite_close(struct tsr_store *st);

static enum tsr_err
open_fail(const struct tsr_store *st, int rc, struct tsr_why *why)
{
	return tsr_err_why(why, TSR_ERR_DB, "cannot open database \"%s\": %s",
	    sq(st)->path, sq(st)->db != NULL ? sqlite3_errmsg(sq(st)->db) :
	    sqlite3_errstr(rc));
}

/* A read proves the file is an SQLite database before we write to it. */
static const char sql_probe[] = "SELECT count(*) FROM sqlite_master";
/*
 * page_size takes effect only on a new database.  16 KiB pages, not the
 * default 4 KiB, because of the CRL: a revocation rewrites it whole, and
 * with 100,000 entries (4.4 MB) a quarter of the page reads and writes
 * halve the revocation's time.  Small rows do not notice.
 */
static const char sql_pragmas[] =
    "PRAGMA page_size = 16384;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;";

static enum tsr_err
sqlite_open(const char *path, struct tsr_store **out, struct tsr_why *why)
{
	struct sqlite_store *s = NULL;
	enum tsr_err rc = TSR_OK;
	int src;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return tsr_err_why(why, TSR_ERR_INVALID, "no database path");
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "open database");
		goto out;
	}
	s->base.ops = &tsr_store_sqlite_ops;
	src = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = open_fail(&s->base, src, why);
		goto out;
	}
	(void)sqlite3_extended_result_codes(s->db, 1);
	(void)sqlite3_busy_timeout(s->db, TSR_STORE_BUSY_TIMEOUT_MS);
	if ((src = sqlite3_exec(s->db, sql_probe, NULL, NULL, NULL)) !=
	    SQLITE_OK || (src = sqlite3_exec(s->db, sql_pragmas, NULL, NULL,
	    NULL)) != SQLITE_OK) {
		rc = open_fail(&s->base, src, why);
		goto out;
	}
	*out = &s->base;
	s = NULL;
out:
	if (s != NULL)
		sqlite_close(&s->base);
	return rc;
}

static void
sqlite_close(struct tsr_store *st)
{
	struct sqlite_store *s = (struct sqlite_store *)st;

	if (s == NULL)
		return;
	(void)sqlite3_close(s->db);	/* statements are finalized by now */
	free(s->path);
	free(s);
}

static enum tsr_err
sqlite_begin(struct tsr_store *st, int flags, struct tsr_why *why)
{
	/* IMMEDIATE: a writer takes the write lock now, so a read-then-write
	 * transaction cannot fail half-way with SQLITE_BUSY.  A reader's
	 * DEFERRED transaction sees one snapshot from its first read. */
	if (flags & TSR_TX_WRITE)
		return exec(st, "BEGIN IMMEDIATE", "begin transaction", why);
	return exec(st, "BEGIN DEFERRED", "begin transaction", why);
}

static enum tsr_err
sqlite_commit(struct tsr_store *st, struct tsr_why *why)
{
	return exec(st, "COMMIT", "commit", why);
}

static void
sqlite_rollback(struct tsr_store *st)
{
	if (st != NULL && !sqlite3_get_autocommit(sq(st)->db))
		(void)sqlite3_exec(sq(st)->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- migrations ---------------------------------------------------- */

static const char sql_mig_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";
static const char sql_mig_has_table[] =
    "SELECT 1 FROM sqlite_master"
    " WHERE type = 'table' AND name = 'schema_migrations'";
static const char sql_mig_max[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char sql_mig_has[] =
    "SELECT 1 FROM schema_migrations WHERE version = ?";
static const char sql_mig_record[] =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER))";

/* Highest applied version; 0 for a database never migrated. */
static enum tsr_err
current_version(struct tsr_store *st, int *version, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;

	*version = 0;
	if ((rc = prep(st, sql_mig_has_table, &stmt, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read schema version", &found, why)) !=
	    TSR_OK || !found)
		goto out;
	sqlite3_finalize(stmt);
	if ((rc = prep(st, sql_mig_max, &stmt, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read schema version", &found, why)) !=
	    TSR_OK)
		goto out;
	if (found && sqlite3_column_int64(stmt, 0) > INT32_MAX)
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad schema version",
		    sq(st)->path);
	else if (found)
		*version = sqlite3_column_int(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return rc;
}

/* Is version recorded?  Asked inside the migration's transaction, so
 * two processes migrating at once apply it once. */
static enum tsr_err
is_applied(struct tsr_store *st, int version, bool *applied,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	if ((rc = prep(st, sql_mig_has, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, version, why)) == TSR_OK)
		rc = step_one(st, stmt, "read migrations", applied, why);
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
record_migration(struct tsr_store *st, const struct tsr_migration *m,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	if ((rc = prep(st, sql_mig_record, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, m->version, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 2, m->name, why)) == TSR_OK &&
	    sqlite3_step(stmt) != SQLITE_DONE)
		rc = db_err(st, "record migration", why);
	sqlite3_finalize(stmt);
	return rc;
}

/* One migration and its record in one transaction. */
static enum tsr_err
apply_one(struct tsr_store *st, const struct tsr_migration *m, int *applied,
    struct tsr_why *why)
{
	enum tsr_err rc;
	bool done = false;
	char what[64];

	(void)snprintf(what, sizeof(what), "migration %04d_%.32s", m->version,
	    m->name);
	if ((rc = sqlite_begin(st, TSR_TX_WRITE, why)) != TSR_OK)
		return rc;
	if ((rc = is_applied(st, m->version, &done, why)) != TSR_OK || done)
		goto out;
	if ((rc = exec(st, m->sql, what, why)) != TSR_OK ||
	    (rc = record_migration(st, m, why)) != TSR_OK ||
	    (rc = sqlite_commit(st, why)) != TSR_OK)
		goto out;
	(*applied)++;
out:
	sqlite_rollback(st);		/* no-op after a commit */
	return rc;
}

static enum tsr_err
sqlite_migrate(struct tsr_store *st, int *applied, struct tsr_why *why)
{
	enum tsr_err rc;
	int current, n = 0;
	size_t i;

	if (applied != NULL)
		*applied = 0;
	/* Read before creating anything: a newer database stays untouched. */
	if ((rc = current_version(st, &current, why)) != TSR_OK)
		return rc;
	if ((size_t)current > tsr_migrations_sqlite_count)
		return tsr_err_why(why, TSR_ERR_DB_NEWER,
		    "database schema version %d is newer than this tessera "
		    "(knows %zu); upgrade tessera", current,
		    tsr_migrations_sqlite_count);
	if ((rc = exec(st, sql_mig_table, "create schema_migrations", why)) !=
	    TSR_OK)
		return rc;
	for (i = 0; i < tsr_migrations_sqlite_count && rc == TSR_OK; i++)
		rc = apply_one(st, &tsr_migrations_sqlite[i], &n, why);
	if (applied != NULL)
		*applied = n;
	return rc;
}

static enum tsr_err
sqlite_schema_version(struct tsr_store *st, int *current, int *latest,
    struct tsr_why *why)
{
	*latest = (int)tsr_migrations_sqlite_count;
	return current_version(st, current, why);
}

/* --- generations and settings -------------------------------------- */

static const char sql_generations[] =
    "SELECT (SELECT value FROM generations WHERE name = 'policy'),"
    " (SELECT value FROM generations WHERE name = 'keys'),"
    " (SELECT value FROM generations WHERE name = 'revocations'),"
    " (SELECT value FROM generations WHERE name = 'certs')";

static enum tsr_err
sqlite_generations(struct tsr_store *st, struct tsr_store_gens *out,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;
	int i;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(st, sql_generations, &stmt, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read generations", &found, why)) !=
	    TSR_OK)
		goto out;
	for (i = 0; i < 4 && found; i++)
		found = sqlite3_column_type(stmt, i) == SQLITE_INTEGER;
	if (!found) {
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: no generation counters",
		    sq(st)->path);
		goto out;
	}
	out->policy = sqlite3_column_int64(stmt, 0);
	out->keys = sqlite3_column_int64(stmt, 1);
	out->revocations = sqlite3_column_int64(stmt, 2);
	out->certs = sqlite3_column_int64(stmt, 3);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static const char sql_setting_get[] =
    "SELECT value FROM settings WHERE name = ?";
static const char sql_setting_set[] =
    "INSERT INTO settings (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value";
static const char sql_setting_raise[] =
    "INSERT INTO settings (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)";

static enum tsr_err
sqlite_setting_get(struct tsr_store *st, const char *name, int64_t *value,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;
	char b[TSR_REFUSE_SHOW_BUF];

	*value = 0;
	if ((rc = prep(st, sql_setting_get, &stmt, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 1, name, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read setting", &found, why)) != TSR_OK)
		goto out;
	if (!found)
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND, "no setting \"%s\"",
		    tsr_refuse_show(name, b));
	else
		*value = sqlite3_column_int64(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
setting_write(struct tsr_store *st, const char *sql, const char *name,
    int64_t value, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int step;

	if (name == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "no setting name");
	if ((rc = prep(st, sql, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, name, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 2, value, why)) == TSR_OK &&
	    (step = sqlite3_step(stmt)) != SQLITE_DONE)
		rc = write_err(st, step, "write setting", why);
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_setting_set(struct tsr_store *st, const char *name, int64_t value,
    struct tsr_why *why)
{
	return setting_write(st, sql_setting_set, name, value, why);
}

static enum tsr_err
sqlite_setting_raise(struct tsr_store *st, const char *name,
    int64_t value, struct tsr_why *why)
{
	return setting_write(st, sql_setting_raise, name, value, why);
}


/* Step a write; *changes (may be NULL) gets the rows it changed itself,
 * not counting those changed by triggers. */
static enum tsr_err
run_write(const struct tsr_store *st, sqlite3_stmt *stmt, const char *what,
    int *changes, struct tsr_why *why)
{
	int step = sqlite3_step(stmt);

	if (step != SQLITE_DONE)
		return write_err(st, step, what, why);
	if (changes != NULL)
		*changes = sqlite3_changes(sq(st)->db);
	return TSR_OK;
}

/* Run a one-row query binding text at 1 and say whether it found a row. */
static enum tsr_err
has_row(struct tsr_store *st, const char *sql, const char *key, bool *found,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	*found = false;
	if ((rc = prep(st, sql, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, key, why)) == TSR_OK)
		rc = step_one(st, stmt, "read", found, why);
	sqlite3_finalize(stmt);
	return rc;
}

/* --- clients ------------------------------------------------------- */

#define CLIENT_COLS "name, cn, description, enabled, created_at, updated_at," \
	" cert_ttl_s"

static const char sql_client_insert[] =
    "INSERT INTO clients (" CLIENT_COLS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_client_get[] =
    "SELECT " CLIENT_COLS " FROM clients WHERE name = ?1";
static const char sql_client_list[] =
    "SELECT " CLIENT_COLS " FROM clients ORDER BY name";
/* ?5, created_at, is bound but never rewritten. */
static const char sql_client_update[] =
    "UPDATE clients SET cn = ?2, description = ?3, enabled = ?4,"
    " updated_at = ?6, cert_ttl_s = ?7 WHERE name = ?1";
static const char sql_client_delete[] =
    "DELETE FROM clients WHERE name = ?1";
static const char sql_client_exists[] =
    "SELECT 1 FROM clients WHERE name = ?1";
static const char sql_client_by_cn[] =
    "SELECT name FROM clients WHERE cn = ?1";

static enum tsr_err
read_client(sqlite3_stmt *stmt, void *row)
{
	struct tsr_client *c = row;

	memset(c, 0, sizeof(*c));
	if (!col_text(stmt, 0, c->name, sizeof(c->name)) ||
	    !col_text(stmt, 1, c->cn, sizeof(c->cn)) ||
	    !col_text(stmt, 2, c->description, sizeof(c->description)))
		return TSR_ERR_DB;
	c->enabled = sqlite3_column_int64(stmt, 3) != 0;
	c->created_at = sqlite3_column_int64(stmt, 4);
	c->updated_at = sqlite3_column_int64(stmt, 5);
	c->cert_ttl_s = sqlite3_column_int64(stmt, 6);
	return TSR_OK;
}

static enum tsr_err
bind_client(sqlite3_stmt *stmt, const struct tsr_client *c,
    struct tsr_why *why)
{
	enum tsr_err rc;

	if ((rc = bind_field(stmt, 1, c->name, sizeof(c->name), why)) !=
	    TSR_OK ||
	    (rc = bind_field(stmt, 2, c->cn, sizeof(c->cn), why)) != TSR_OK ||
	    (rc = bind_field(stmt, 3, c->description, sizeof(c->description),
	    why)) != TSR_OK ||
	    (rc = bind_int(stmt, 4, c->enabled ? 1 : 0, why)) != TSR_OK ||
	    (rc = bind_int(stmt, 5, c->created_at, why)) != TSR_OK ||
	    (rc = bind_int(stmt, 6, c->updated_at, why)) != TSR_OK)
		return rc;
	return bind_int(stmt, 7, c->cert_ttl_s, why);
}

/*
 * A write of c broke a uniqueness rule: say which.  by_name is false for
 * an update, where the name is the row's own.
 */
static enum tsr_err
client_taken(struct tsr_store *st, const struct tsr_client *c, bool by_name,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;
	char b1[TSR_REFUSE_SHOW_BUF], b2[TSR_REFUSE_SHOW_BUF];

	if (by_name && has_row(st, sql_client_exists, c->name, &found,
	    NULL) == TSR_OK && found)
		return tsr_err_why(why, TSR_ERR_EXISTS,
		    "client \"%s\" already exists",
		    tsr_refuse_show(c->name, b1));
	if ((rc = prep(st, sql_client_by_cn, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, c->cn, why)) == TSR_OK &&
	    (rc = step_one(st, stmt, "read", &found, why)) == TSR_OK) {
		rc = tsr_err_why(why, TSR_ERR_EXISTS, "certificate CN \"%s\" "
		    "is already used by client \"%s\"",
		    tsr_refuse_show(c->cn, b1),
		    found ? tsr_refuse_show(
		    (const char *)sqlite3_column_text(stmt, 0), b2) : "?");
	}
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_client_insert(struct tsr_store *st, const struct tsr_client *c,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	if ((rc = prep(st, sql_client_insert, &stmt, why)) == TSR_OK &&
	    (rc = bind_client(stmt, c, why)) == TSR_OK)
		rc = run_write(st, stmt, "add client", NULL, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_EXISTS)
		rc = client_taken(st, c, true, why);
	return rc;
}

static enum tsr_err
sqlite_client_get(struct tsr_store *st, const char *name,
    struct tsr_client *out, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(st, sql_client_get, &stmt, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 1, name, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read client", &found, why)) != TSR_OK)
		goto out;
	if (!found)
		rc = tsr_refuse_no_client(name, why);
	else if ((rc = read_client(stmt, out)) != TSR_OK)
		rc = tsr_err_why(why, rc, "%s: bad client row", sq(st)->path);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_client_list(struct tsr_store *st, struct tsr_client **out,
    size_t *out_n, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_client_list, &stmt, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_client, &rows, out_n,
	    why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_client_update(struct tsr_store *st, const struct tsr_client *c,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if ((rc = prep(st, sql_client_update, &stmt, why)) == TSR_OK &&
	    (rc = bind_client(stmt, c, why)) == TSR_OK)
		rc = run_write(st, stmt, "update client", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_EXISTS)
		return client_taken(st, c, false, why);
	if (rc == TSR_OK && changes == 0)
		return tsr_refuse_no_client(c->name, why);
	return rc;
}

static enum tsr_err
sqlite_client_delete(struct tsr_store *st, const char *name,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	/* Grants go with it: ON DELETE CASCADE, foreign_keys is on. */
	if ((rc = prep(st, sql_client_delete, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, name, why)) == TSR_OK)
		rc = run_write(st, stmt, "remove client", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_OK && changes == 0)
		return tsr_refuse_no_client(name, why);
	return rc;
}

/* --- grants -------------------------------------------------------- */

/* Rows name their client by id; the interface names it by name. */
static const char sql_grant_insert[] =
    "INSERT INTO grants (client_id, audience, scopes, ttl_s, created_at)"
    " SELECT id, ?2, ?3, ?4, ?5 FROM clients WHERE name = ?1";
static const char sql_grant_update[] =
    "UPDATE grants SET scopes = ?3, ttl_s = ?4 WHERE audience = ?2"
    " AND client_id = (SELECT id FROM clients WHERE name = ?1)";
static const char sql_grant_list[] =
    "SELECT c.name, g.audience, g.scopes, g.ttl_s, g.created_at"
    " FROM grants g JOIN clients c ON c.id = g.client_id"
    " WHERE (?1 IS NULL OR c.name = ?1) AND (?2 IS NULL OR g.audience = ?2)"
    " ORDER BY c.name, g.audience";
static const char sql_grant_delete[] =
    "DELETE FROM grants WHERE audience = ?2"
    " AND client_id = (SELECT id FROM clients WHERE name = ?1)";

static enum tsr_err
read_grant(sqlite3_stmt *stmt, void *row)
{
	struct tsr_grant *g = row;

	memset(g, 0, sizeof(*g));
	if (!col_text(stmt, 0, g->client, sizeof(g->client)) ||
	    !col_text(stmt, 1, g->audience, sizeof(g->audience)) ||
	    !col_text(stmt, 2, g->scopes, sizeof(g->scopes)))
		return TSR_ERR_DB;
	g->ttl_s = sqlite3_column_int64(stmt, 3);
	g->created_at = sqlite3_column_int64(stmt, 4);
	return TSR_OK;
}

static enum tsr_err
bind_grant(sqlite3_stmt *stmt, const struct tsr_grant *g,
    struct tsr_why *why)
{
	enum tsr_err rc;

	if ((rc = bind_field(stmt, 1, g->client, sizeof(g->client), why)) !=
	    TSR_OK ||
	    (rc = bind_field(stmt, 2, g->audience, sizeof(g->audience),
	    why)) != TSR_OK ||
	    (rc = bind_field(stmt, 3, g->scopes, sizeof(g->scopes), why)) !=
	    TSR_OK ||
	    (rc = bind_int(stmt, 4, g->ttl_s, why)) != TSR_OK)
		return rc;
	/* The update has no ?5: created_at is never rewritten. */
	if (sqlite3_bind_parameter_count(stmt) < 5)
		return TSR_OK;
	return bind_int(stmt, 5, g->created_at, why);
}

/* Nothing matched (client, audience): say whether the client is missing
 * or only the grant. */
static enum tsr_err
no_grant(struct tsr_store *st, const char *client, const char *audience,
    struct tsr_why *why)
{
	enum tsr_err rc;
	bool found;
	char b1[TSR_REFUSE_SHOW_BUF], b2[TSR_REFUSE_SHOW_BUF];

	if ((rc = has_row(st, sql_client_exists, client, &found, why)) !=
	    TSR_OK)
		return rc;
	if (!found)
		return tsr_refuse_no_client(client, why);
	return tsr_err_why(why, TSR_ERR_NOT_FOUND,
	    "no grant for client \"%s\" to audience \"%s\"",
	    tsr_refuse_show(client, b1),
	    tsr_refuse_show(audience, b2));
}

static enum tsr_err
sqlite_grant_insert(struct tsr_store *st, const struct tsr_grant *g,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;
	char b1[TSR_REFUSE_SHOW_BUF], b2[TSR_REFUSE_SHOW_BUF];

	if ((rc = prep(st, sql_grant_insert, &stmt, why)) == TSR_OK &&
	    (rc = bind_grant(stmt, g, why)) == TSR_OK)
		rc = run_write(st, stmt, "add grant", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_EXISTS)
		return tsr_err_why(why, rc, "grant for client \"%s\" to "
		    "audience \"%s\" already exists",
		    tsr_refuse_show(g->client, b1),
		    tsr_refuse_show(g->audience, b2));
	if (rc == TSR_OK && changes == 0)	/* SELECT found no client */
		return tsr_refuse_no_client(g->client, why);
	return rc;
}

static enum tsr_err
sqlite_grant_update(struct tsr_store *st, const struct tsr_grant *g,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if ((rc = prep(st, sql_grant_update, &stmt, why)) == TSR_OK &&
	    (rc = bind_grant(stmt, g, why)) == TSR_OK)
		rc = run_write(st, stmt, "update grant", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_OK && changes == 0)
		return no_grant(st, g->client, g->audience, why);
	return rc;
}

static enum tsr_err
sqlite_grant_list(struct tsr_store *st, const char *client,
    const char *audience, struct tsr_grant **out, size_t *out_n,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_grant_list, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, client, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 2, audience, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_grant, &rows, out_n,
	    why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_grant_delete(struct tsr_store *st, const char *client,
    const char *audience, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if (client == NULL || audience == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "no client or audience");
	if ((rc = prep(st, sql_grant_delete, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, client, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 2, audience, why)) == TSR_OK)
		rc = run_write(st, stmt, "remove grant", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_OK && changes == 0)
		return no_grant(st, client, audience, why);
	return rc;
}

/* --- signing keys -------------------------------------------------- */

#define KEY_COLS "kid, state, bits, jwk, created_at, activated_at," \
	" retired_at, expires_at"

static const char sql_key_insert[] =
    "INSERT INTO signing_keys (" KEY_COLS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char sql_key_get[] =
    "SELECT " KEY_COLS " FROM signing_keys WHERE kid = ?1";
static const char sql_key_list[] =
    "SELECT " KEY_COLS " FROM signing_keys ORDER BY created_at, kid";
static const char sql_key_exists[] =
    "SELECT 1 FROM signing_keys WHERE kid = ?1";
/* Conditional on the state we read: a concurrent rotation changes no
 * row here.  NULL times keep their old value. */
static const char sql_key_transition[] =
    "UPDATE signing_keys SET state = ?3,"
    " activated_at = coalesce(?4, activated_at),"
    " retired_at = coalesce(?5, retired_at),"
    " expires_at = coalesce(?6, expires_at)"
    " WHERE kid = ?1 AND state = ?2";

static enum tsr_err
read_key(sqlite3_stmt *stmt, void *row)
{
	struct tsr_keyrow *k = row;
	char state[16];

	memset(k, 0, sizeof(*k));
	if (!col_text(stmt, 0, k->kid, sizeof(k->kid)) ||
	    !col_text(stmt, 1, state, sizeof(state)) ||
	    !tsr_keystate_parse(state, &k->state) ||
	    !col_text(stmt, 3, k->jwk, sizeof(k->jwk)))
		return TSR_ERR_DB;
	k->bits = sqlite3_column_int(stmt, 2);
	k->created_at = sqlite3_column_int64(stmt, 4);
	k->activated_at = col_time(stmt, 5);
	k->retired_at = col_time(stmt, 6);
	k->expires_at = col_time(stmt, 7);
	return TSR_OK;
}

static enum tsr_err
bind_key(sqlite3_stmt *stmt, const struct tsr_keyrow *k, struct tsr_why *why)
{
	const char *state = tsr_keystate_name(k->state);
	enum tsr_err rc;

	if (state == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad key state %d",
		    (int)k->state);
	if ((rc = bind_field(stmt, 1, k->kid, sizeof(k->kid), why)) !=
	    TSR_OK ||
	    (rc = bind_str(stmt, 2, state, why)) != TSR_OK ||
	    (rc = bind_int(stmt, 3, k->bits, why)) != TSR_OK ||
	    (rc = bind_field(stmt, 4, k->jwk, sizeof(k->jwk), why)) !=
	    TSR_OK ||
	    (rc = bind_int(stmt, 5, k->created_at, why)) != TSR_OK ||
	    (rc = bind_time(stmt, 6, k->activated_at, why)) != TSR_OK ||
	    (rc = bind_time(stmt, 7, k->retired_at, why)) != TSR_OK)
		return rc;
	return bind_time(stmt, 8, k->expires_at, why);
}

/* A key write broke a uniqueness rule: the kid, or the one active key. */
static enum tsr_err
key_taken(struct tsr_store *st, const char *kid, bool by_kid,
    struct tsr_why *why)
{
	bool found = false;
	char b[TSR_REFUSE_SHOW_BUF];

	if (by_kid && has_row(st, sql_key_exists, kid, &found, NULL) ==
	    TSR_OK && found)
		return tsr_err_why(why, TSR_ERR_EXISTS,
		    "signing key \"%s\" already exists",
		    tsr_refuse_show(kid, b));
	return tsr_err_why(why, TSR_ERR_EXISTS,
	    "another signing key is already active");
}

static enum tsr_err
sqlite_key_insert(struct tsr_store *st, const struct tsr_keyrow *k,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	if ((rc = prep(st, sql_key_insert, &stmt, why)) == TSR_OK &&
	    (rc = bind_key(stmt, k, why)) == TSR_OK)
		rc = run_write(st, stmt, "add signing key", NULL, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_EXISTS)
		return key_taken(st, k->kid, true, why);
	return rc;
}

static enum tsr_err
sqlite_key_get(struct tsr_store *st, const char *kid,
    struct tsr_keyrow *out, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(st, sql_key_get, &stmt, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 1, kid, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read signing key", &found, why)) !=
	    TSR_OK)
		goto out;
	if (!found)
		rc = tsr_refuse_no_key(kid, why);
	else if ((rc = read_key(stmt, out)) != TSR_OK)
		rc = tsr_err_why(why, rc, "%s: bad signing key row",
		    sq(st)->path);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_key_list(struct tsr_store *st, struct tsr_keyrow **out,
    size_t *out_n, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_key_list, &stmt, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_key, &rows, out_n,
	    why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

/* The conditional update changed nothing: is the kid unknown, or was it
 * moved out of `from` by someone else? */
static enum tsr_err
transition_missed(struct tsr_store *st, const char *kid,
    enum tsr_keystate from, struct tsr_why *why)
{
	struct tsr_keyrow k;
	enum tsr_err rc;
	char b[TSR_REFUSE_SHOW_BUF];

	if ((rc = sqlite_key_get(st, kid, &k, why)) != TSR_OK)
		return rc;
	return tsr_err_why(why, TSR_ERR_CONFLICT,
	    "signing key \"%s\" is %s, not %s", tsr_refuse_show(kid, b),
	    tsr_keystate_name(k.state), tsr_keystate_name(from));
}

static enum tsr_err
bind_transition(sqlite3_stmt *stmt, const char *kid, const char *from,
    const char *to, const int64_t at[3], struct tsr_why *why)
{
	enum tsr_err rc;

	if ((rc = bind_str(stmt, 1, kid, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 2, from, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 3, to, why)) != TSR_OK ||
	    (rc = bind_time(stmt, 4, at[0], why)) != TSR_OK ||
	    (rc = bind_time(stmt, 5, at[1], why)) != TSR_OK)
		return rc;
	return bind_time(stmt, 6, at[2], why);
}

static enum tsr_err
sqlite_key_transition(struct tsr_store *st, const char *kid,
    enum tsr_keystate from, enum tsr_keystate to, int64_t activated_at,
    int64_t retired_at, int64_t expires_at, struct tsr_why *why)
{
	const char *from_name = tsr_keystate_name(from);
	const char *to_name = tsr_keystate_name(to);
	const int64_t at[3] = { activated_at, retired_at, expires_at };
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if (kid == NULL || from_name == NULL || to_name == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "bad key transition");
	if ((rc = prep(st, sql_key_transition, &stmt, why)) == TSR_OK &&
	    (rc = bind_transition(stmt, kid, from_name, to_name, at, why)) ==
	    TSR_OK)
		rc = run_write(st, stmt, "change signing key", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_EXISTS)
		return key_taken(st, kid, false, why);
	if (rc == TSR_OK && changes == 0)
		return transition_missed(st, kid, from, why);
	return rc;
}

/* --- sealed private keys ------------------------------------------ */

static const char sql_secret_put[] =
    "INSERT INTO sealed_keys (kid, sealed, sealed_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (kid) DO UPDATE SET sealed = excluded.sealed,"
    " sealed_at = excluded.sealed_at";
static const char sql_secret_get[] =
    "SELECT sealed FROM sealed_keys WHERE kid = ?1";
static const char sql_secret_delete[] =
    "DELETE FROM sealed_keys WHERE kid = ?1";

static enum tsr_err
sqlite_key_secret_put(struct tsr_store *st, const char *kid,
    const char *sealed, int64_t sealed_at, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	if (kid == NULL || sealed == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "no sealed key");
	if ((rc = prep(st, sql_secret_put, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, kid, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 2, sealed, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 3, sealed_at, why)) == TSR_OK)
		rc = run_write(st, stmt, "store sealed key", NULL, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_NOT_FOUND)
		return tsr_refuse_no_key(kid, why);
	return rc;
}

static enum tsr_err
sqlite_key_secret_get(struct tsr_store *st, const char *kid, char **sealed,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;
	char b[TSR_REFUSE_SHOW_BUF];

	*sealed = NULL;
	if ((rc = prep(st, sql_secret_get, &stmt, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 1, kid, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read sealed key", &found, why)) !=
	    TSR_OK)
		goto out;
	if (!found)
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND,
		    "no sealed private key for signing key \"%s\"",
		    tsr_refuse_show(kid, b));
	else if (sqlite3_column_type(stmt, 0) != SQLITE_TEXT ||
	    (*sealed = strdup((const char *)sqlite3_column_text(stmt, 0))) ==
	    NULL)
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "read sealed key");
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_key_secret_delete(struct tsr_store *st, const char *kid, bool *deleted,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if ((rc = prep(st, sql_secret_delete, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, kid, why)) == TSR_OK)
		rc = run_write(st, stmt, "remove sealed key", &changes, why);
	sqlite3_finalize(stmt);
	if (deleted != NULL)
		*deleted = rc == TSR_OK && changes > 0;
	return rc;
}

/* --- the deny-list ------------------------------------------------- */

#define REV_COLS "kind, jti, client, reason, revoked_at, expires_at"

/* A jti already listed stays as it was (revoking twice is harmless). */
static const char sql_rev_add[] =
    "INSERT INTO revocations (" REV_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT DO NOTHING";
static const char sql_rev_list[] =
    "SELECT " REV_COLS " FROM revocations WHERE expires_at > ?1"
    " ORDER BY revoked_at, id";
static const char sql_rev_purge[] =
    "DELETE FROM revocations WHERE expires_at <= ?1";

static const char *const revkind_names[] = { "token", "client" };

/* Text column that may be NULL (read as ""). */
static bool
col_opt_text(sqlite3_stmt *stmt, int col, char *dst, size_t size)
{
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL) {
		dst[0] = '\0';
		return true;
	}
	return col_text(stmt, col, dst, size);
}

static enum tsr_err
read_revocation(sqlite3_stmt *stmt, void *row)
{
	struct tsr_revocation *r = row;
	char kind[16];

	memset(r, 0, sizeof(*r));
	if (!col_text(stmt, 0, kind, sizeof(kind)) ||
	    !col_opt_text(stmt, 1, r->jti, sizeof(r->jti)) ||
	    !col_opt_text(stmt, 2, r->client, sizeof(r->client)) ||
	    !col_text(stmt, 3, r->reason, sizeof(r->reason)))
		return TSR_ERR_DB;
	if (strcmp(kind, revkind_names[TSR_REVKIND_TOKEN]) == 0)
		r->kind = TSR_REVKIND_TOKEN;
	else if (strcmp(kind, revkind_names[TSR_REVKIND_CLIENT]) == 0)
		r->kind = TSR_REVKIND_CLIENT;
	else
		return TSR_ERR_DB;
	r->revoked_at = sqlite3_column_int64(stmt, 4);
	r->expires_at = sqlite3_column_int64(stmt, 5);
	return TSR_OK;
}

/* "" binds NULL: a token row has no client when its sub is unknown. */
static enum tsr_err
bind_opt_field(sqlite3_stmt *stmt, int idx, const char *field, size_t size,
    struct tsr_why *why)
{
	if (field[0] == '\0')
		return bind_str(stmt, idx, NULL, why);
	return bind_field(stmt, idx, field, size, why);
}

static enum tsr_err
bind_revocation(sqlite3_stmt *stmt, const struct tsr_revocation *r,
    struct tsr_why *why)
{
	enum tsr_err rc;

	if ((unsigned)r->kind > TSR_REVKIND_CLIENT)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad revocation kind");
	if ((rc = bind_str(stmt, 1, revkind_names[r->kind], why)) != TSR_OK ||
	    (rc = bind_opt_field(stmt, 2, r->jti, sizeof(r->jti), why)) !=
	    TSR_OK ||
	    (rc = bind_opt_field(stmt, 3, r->client, sizeof(r->client),
	    why)) != TSR_OK ||
	    (rc = bind_field(stmt, 4, r->reason, sizeof(r->reason), why)) !=
	    TSR_OK ||
	    (rc = bind_int(stmt, 5, r->revoked_at, why)) != TSR_OK)
		return rc;
	return bind_int(stmt, 6, r->expires_at, why);
}

static enum tsr_err
sqlite_revocation_add(struct tsr_store *st, const struct tsr_revocation *r,
    bool *added, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if (added != NULL)
		*added = false;
	if ((rc = prep(st, sql_rev_add, &stmt, why)) == TSR_OK &&
	    (rc = bind_revocation(stmt, r, why)) == TSR_OK)
		rc = run_write(st, stmt, "add revocation", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_OK && added != NULL)
		*added = changes > 0;
	return rc;
}

static enum tsr_err
sqlite_revocation_list(struct tsr_store *st, int64_t now,
    struct tsr_revocation **out, size_t *out_n, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_rev_list, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, now, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_revocation, &rows,
	    out_n, why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_revocation_purge(struct tsr_store *st, int64_t now, int *purged,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if ((rc = prep(st, sql_rev_purge, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, now, why)) == TSR_OK)
		rc = run_write(st, stmt, "purge revocations", &changes, why);
	sqlite3_finalize(stmt);
	if (purged != NULL)
		*purged = rc == TSR_OK ? changes : 0;
	return rc;
}

/* --- the certificate authority ------------------------------------- */

static const char sql_ca_get[] =
    "SELECT cert_pem, key_ref, coalesce(key_sealed, ''), sha256, created_at"
    " FROM ca WHERE id = 1";
static const char sql_ca_insert[] =
    "INSERT INTO ca (id, cert_pem, key_ref, key_sealed, sha256, created_at)"
    " VALUES (1, ?1, ?2, ?3, ?4, ?5)";

static enum tsr_err
sqlite_ca_get(struct tsr_store *st, struct tsr_carow *out,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(st, sql_ca_get, &stmt, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read CA", &found, why)) != TSR_OK)
		goto out;
	if (!found)
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND,
		    "no CA (tessera ca init creates one)");
	else if (!col_text(stmt, 0, out->cert_pem, sizeof(out->cert_pem)) ||
	    !col_text(stmt, 1, out->key_ref, sizeof(out->key_ref)) ||
	    !col_text(stmt, 2, out->key_sealed, sizeof(out->key_sealed)) ||
	    !col_text(stmt, 3, out->sha256, sizeof(out->sha256)))
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad CA row",
		    sq(st)->path);
	else
		out->created_at = sqlite3_column_int64(stmt, 4);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_ca_insert(struct tsr_store *st, const struct tsr_carow *ca,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	if ((rc = prep(st, sql_ca_insert, &stmt, why)) == TSR_OK &&
	    (rc = bind_field(stmt, 1, ca->cert_pem, sizeof(ca->cert_pem),
	    why)) == TSR_OK &&
	    (rc = bind_field(stmt, 2, ca->key_ref, sizeof(ca->key_ref),
	    why)) == TSR_OK &&
	    (rc = bind_opt_field(stmt, 3, ca->key_sealed,
	    sizeof(ca->key_sealed), why)) == TSR_OK &&
	    (rc = bind_field(stmt, 4, ca->sha256, sizeof(ca->sha256),
	    why)) == TSR_OK &&
	    (rc = bind_int(stmt, 5, ca->created_at, why)) == TSR_OK)
		rc = run_write(st, stmt, "add CA", NULL, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_EXISTS)
		rc = tsr_err_why(why, rc, "the store already has a CA");
	return rc;
}

static const char sql_ca_reseal[] =
    "UPDATE ca SET key_sealed = ?1 WHERE id = 1 AND key_sealed IS NOT NULL";

static enum tsr_err
sqlite_ca_reseal(struct tsr_store *st, const char *sealed,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if ((rc = prep(st, sql_ca_reseal, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, sealed, why)) == TSR_OK)
		rc = run_write(st, stmt, "reseal CA key", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_OK && changes == 0)
		rc = tsr_err_why(why, TSR_ERR_STATE, "no sealed CA key");
	return rc;
}

#define CERT_COLS "serial, client, not_before, not_after, sha256," \
	" issued_at, revoked_at, reason, crl_reason"

static const char sql_cert_insert[] =
    "INSERT INTO certificates (" CERT_COLS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char sql_cert_get[] =
    "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1";
static const char sql_cert_list[] =
    "SELECT " CERT_COLS " FROM certificates"
    " WHERE (?1 IS NULL OR client = ?1) AND not_after > ?2"
    " AND (?3 = 0 OR not_after <= ?3) ORDER BY not_after, serial";
static const char sql_cert_revoke[] =
    "UPDATE certificates SET revoked_at = ?2, reason = ?3, crl_reason = ?4"
    " WHERE serial = ?1 AND revoked_at IS NULL";
static const char sql_cert_revoke_client[] =
    "UPDATE certificates SET revoked_at = ?2, reason = ?3, crl_reason = ?4"
    " WHERE client = ?1 AND revoked_at IS NULL AND not_after > ?2";
static const char sql_cert_revoked[] =
    "SELECT serial, revoked_at, crl_reason FROM certificates"
    " WHERE revoked_at IS NOT NULL AND not_after > ?1 ORDER BY serial";
static const char sql_cert_expiring[] =
    "SELECT count(*) FROM certificates WHERE revoked_at IS NULL"
    " AND not_after > ?1 AND not_after <= ?2";
static const char sql_cert_exists[] =
    "SELECT 1 FROM certificates WHERE serial = ?1";

static enum tsr_err
read_cert(sqlite3_stmt *stmt, void *row)
{
	struct tsr_certrow *c = row;

	memset(c, 0, sizeof(*c));
	if (!col_text(stmt, 0, c->serial, sizeof(c->serial)) ||
	    !col_text(stmt, 1, c->client, sizeof(c->client)) ||
	    !col_text(stmt, 4, c->sha256, sizeof(c->sha256)) ||
	    !col_text(stmt, 7, c->reason, sizeof(c->reason)))
		return TSR_ERR_DB;
	c->not_before = sqlite3_column_int64(stmt, 2);
	c->not_after = sqlite3_column_int64(stmt, 3);
	c->issued_at = sqlite3_column_int64(stmt, 5);
	c->revoked_at = col_time(stmt, 6);
	c->crl_reason = sqlite3_column_int(stmt, 8);
	return TSR_OK;
}

static enum tsr_err
sqlite_cert_insert(struct tsr_store *st, const struct tsr_certrow *c,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	char b[TSR_REFUSE_SHOW_BUF];

	if ((rc = prep(st, sql_cert_insert, &stmt, why)) == TSR_OK &&
	    (rc = bind_field(stmt, 1, c->serial, sizeof(c->serial), why)) ==
	    TSR_OK &&
	    (rc = bind_field(stmt, 2, c->client, sizeof(c->client), why)) ==
	    TSR_OK &&
	    (rc = bind_int(stmt, 3, c->not_before, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 4, c->not_after, why)) == TSR_OK &&
	    (rc = bind_field(stmt, 5, c->sha256, sizeof(c->sha256), why)) ==
	    TSR_OK &&
	    (rc = bind_int(stmt, 6, c->issued_at, why)) == TSR_OK &&
	    (rc = bind_time(stmt, 7, c->revoked_at, why)) == TSR_OK &&
	    (rc = bind_field(stmt, 8, c->reason, sizeof(c->reason), why)) ==
	    TSR_OK &&
	    (rc = bind_int(stmt, 9, c->crl_reason, why)) == TSR_OK)
		rc = run_write(st, stmt, "add certificate", NULL, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_ERR_EXISTS)
		rc = tsr_err_why(why, rc, "certificate %s already recorded",
		    tsr_refuse_show(c->serial, b));
	return rc;
}

static enum tsr_err
sqlite_cert_get(struct tsr_store *st, const char *serial,
    struct tsr_certrow *out, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(st, sql_cert_get, &stmt, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 1, serial, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read certificate", &found, why)) !=
	    TSR_OK)
		goto out;
	if (!found)
		rc = tsr_refuse_no_cert(serial, why);
	else if ((rc = read_cert(stmt, out)) != TSR_OK)
		rc = tsr_err_why(why, rc, "%s: bad certificate row",
		    sq(st)->path);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_cert_list(struct tsr_store *st, const char *client, int64_t after,
    int64_t before, struct tsr_certrow **out, size_t *out_n,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_cert_list, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, client, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 2, after, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 3, before, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_cert, &rows, out_n,
	    why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

/* Bind the key, revoked_at, reason and CRL reason of a revocation. */
static enum tsr_err
bind_cert_revoke(sqlite3_stmt *stmt, const char *key, int64_t at,
    const char *reason, int crl_reason, struct tsr_why *why)
{
	enum tsr_err rc;

	if (reason == NULL)
		reason = "";
	if (strlen(reason) > TSR_MAX_REASON)
		return tsr_err_why(why, TSR_ERR_TOO_LONG, "reason too long");
	if ((rc = bind_str(stmt, 1, key, why)) != TSR_OK ||
	    (rc = bind_int(stmt, 2, at, why)) != TSR_OK ||
	    (rc = bind_str(stmt, 3, reason, why)) != TSR_OK)
		return rc;
	return bind_int(stmt, 4, crl_reason, why);
}

static enum tsr_err
sqlite_cert_revoke(struct tsr_store *st, const char *serial, int64_t at,
    const char *reason, int crl_reason, bool *changed, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;
	bool found;

	if (changed != NULL)
		*changed = false;
	if ((rc = prep(st, sql_cert_revoke, &stmt, why)) == TSR_OK &&
	    (rc = bind_cert_revoke(stmt, serial, at, reason, crl_reason,
	    why)) == TSR_OK)
		rc = run_write(st, stmt, "revoke certificate", &changes, why);
	sqlite3_finalize(stmt);
	if (rc != TSR_OK)
		return rc;
	if (changes == 0) {
		if ((rc = has_row(st, sql_cert_exists, serial, &found, why)) !=
		    TSR_OK)
			return rc;
		if (!found)
			return tsr_refuse_no_cert(serial, why);
	}
	if (changed != NULL)
		*changed = changes > 0;
	return TSR_OK;
}

static enum tsr_err
sqlite_cert_revoke_client(struct tsr_store *st, const char *client,
    int64_t at, const char *reason, int crl_reason, int *count,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if ((rc = prep(st, sql_cert_revoke_client, &stmt, why)) == TSR_OK &&
	    (rc = bind_cert_revoke(stmt, client, at, reason, crl_reason,
	    why)) == TSR_OK)
		rc = run_write(st, stmt, "revoke certificates", &changes, why);
	sqlite3_finalize(stmt);
	if (count != NULL)
		*count = rc == TSR_OK ? changes : 0;
	return rc;
}

static enum tsr_err
read_crlentry(sqlite3_stmt *stmt, void *row)
{
	struct tsr_crlentry *e = row;

	if (!col_text(stmt, 0, e->serial, sizeof(e->serial)))
		return TSR_ERR_DB;
	e->revoked_at = sqlite3_column_int64(stmt, 1);
	e->crl_reason = sqlite3_column_int(stmt, 2);
	return TSR_OK;
}

static enum tsr_err
sqlite_cert_revoked(struct tsr_store *st, int64_t now,
    struct tsr_crlentry **out, size_t *out_n, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_cert_revoked, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, now, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_crlentry, &rows,
	    out_n, why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_cert_count_expiring(struct tsr_store *st, int64_t now, int64_t before,
    int64_t *count, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;

	*count = 0;
	if ((rc = prep(st, sql_cert_expiring, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, now, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 2, before, why)) == TSR_OK &&
	    (rc = step_one(st, stmt, "count certificates", &found, why)) ==
	    TSR_OK && found)
		*count = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc;
}

#define ENROLL_COLS "id, client, secret_sha256, created_at, expires_at," \
	" used_at"

static const char sql_enroll_insert[] =
    "INSERT INTO enroll_tokens (" ENROLL_COLS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_enroll_live[] =
    "SELECT " ENROLL_COLS " FROM enroll_tokens WHERE client = ?1"
    " AND used_at IS NULL AND expires_at > ?2 ORDER BY created_at, id";
static const char sql_enroll_use[] =
    "UPDATE enroll_tokens SET used_at = ?2"
    " WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2";
static const char sql_enroll_exists[] =
    "SELECT 1 FROM enroll_tokens WHERE id = ?1";

static enum tsr_err
read_enroll(sqlite3_stmt *stmt, void *row)
{
	struct tsr_enrollrow *e = row;

	memset(e, 0, sizeof(*e));
	if (!col_text(stmt, 0, e->id, sizeof(e->id)) ||
	    !col_text(stmt, 1, e->client, sizeof(e->client)) ||
	    !col_text(stmt, 2, e->secret_sha256, sizeof(e->secret_sha256)))
		return TSR_ERR_DB;
	e->created_at = sqlite3_column_int64(stmt, 3);
	e->expires_at = sqlite3_column_int64(stmt, 4);
	e->used_at = col_time(stmt, 5);
	return TSR_OK;
}

static enum tsr_err
sqlite_enroll_insert(struct tsr_store *st, const struct tsr_enrollrow *e,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;

	if ((rc = prep(st, sql_enroll_insert, &stmt, why)) == TSR_OK &&
	    (rc = bind_field(stmt, 1, e->id, sizeof(e->id), why)) == TSR_OK &&
	    (rc = bind_field(stmt, 2, e->client, sizeof(e->client), why)) ==
	    TSR_OK &&
	    (rc = bind_field(stmt, 3, e->secret_sha256,
	    sizeof(e->secret_sha256), why)) == TSR_OK &&
	    (rc = bind_int(stmt, 4, e->created_at, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 5, e->expires_at, why)) == TSR_OK &&
	    (rc = bind_time(stmt, 6, e->used_at, why)) == TSR_OK)
		rc = run_write(st, stmt, "add enrollment secret", NULL, why);
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_enroll_live(struct tsr_store *st, const char *client, int64_t now,
    struct tsr_enrollrow **out, size_t *out_n, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_enroll_live, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, client, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 2, now, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_enroll, &rows, out_n,
	    why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_enroll_use(struct tsr_store *st, const char *id, int64_t now,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;
	bool found;

	if ((rc = prep(st, sql_enroll_use, &stmt, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 1, id, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 2, now, why)) == TSR_OK)
		rc = run_write(st, stmt, "use enrollment secret", &changes,
		    why);
	sqlite3_finalize(stmt);
	if (rc != TSR_OK || changes > 0)
		return rc;
	if ((rc = has_row(st, sql_enroll_exists, id, &found, why)) != TSR_OK)
		return rc;
	if (!found)
		return tsr_err_why(why, TSR_ERR_NOT_FOUND,
		    "no such enrollment secret");
	return tsr_err_why(why, TSR_ERR_CONFLICT,
	    "enrollment secret used or expired");
}

static const char sql_crl_get[] =
    "SELECT crl_number, this_update, der FROM crl WHERE id = 1";
static const char sql_crl_state[] =
    "SELECT crl_number, this_update FROM crl WHERE id = 1";
static const char sql_crl_put[] =
    "INSERT INTO crl (id, crl_number, this_update, der) VALUES (1, ?1, ?2, ?3)"
    " ON CONFLICT (id) DO UPDATE SET crl_number = excluded.crl_number,"
    " this_update = excluded.this_update, der = excluded.der"
    " WHERE excluded.crl_number > crl.crl_number";

/* Largest CRL we read back (some 30 bytes an entry). */
#define CRL_MAX_DER	(64 * 1024 * 1024)

static enum tsr_err
sqlite_crl_get(struct tsr_store *st, struct tsr_crlrow *out,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	const void *blob;
	int len;
	bool found;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(st, sql_crl_get, &stmt, why)) != TSR_OK ||
	    (rc = step_one(st, stmt, "read CRL", &found, why)) != TSR_OK)
		goto out;
	if (!found) {
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND, "no CRL yet");
		goto out;
	}
	blob = sqlite3_column_blob(stmt, 2);
	len = sqlite3_column_bytes(stmt, 2);
	if (blob == NULL || len <= 0 || len > CRL_MAX_DER) {
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad CRL row",
		    sq(st)->path);
		goto out;
	}
	if ((out->der = malloc((size_t)len)) == NULL) {
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "CRL");
		goto out;
	}
	memcpy(out->der, blob, (size_t)len);
	out->der_len = (size_t)len;
	out->number = sqlite3_column_int64(stmt, 0);
	out->this_update = sqlite3_column_int64(stmt, 1);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_crl_state(struct tsr_store *st, int64_t *number, int64_t *this_update,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	bool found;

	*number = *this_update = 0;
	if ((rc = prep(st, sql_crl_state, &stmt, why)) == TSR_OK &&
	    (rc = step_one(st, stmt, "read CRL", &found, why)) == TSR_OK &&
	    found) {
		*number = sqlite3_column_int64(stmt, 0);
		*this_update = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_crl_put(struct tsr_store *st, int64_t number, int64_t this_update,
    const uint8_t *der, size_t der_len, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if (der_len == 0 || der_len > CRL_MAX_DER)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad CRL size");
	if ((rc = prep(st, sql_crl_put, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, number, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 2, this_update, why)) == TSR_OK) {
		if (sqlite3_bind_blob(stmt, 3, der, (int)der_len,
		    SQLITE_STATIC) != SQLITE_OK)
			rc = tsr_err_why(why, TSR_ERR_DB, "cannot bind CRL");
		else
			rc = run_write(st, stmt, "write CRL", &changes, why);
	}
	sqlite3_finalize(stmt);
	if (rc == TSR_OK && changes == 0)
		rc = tsr_err_why(why, TSR_ERR_CONFLICT,
		    "a newer CRL was written first");
	return rc;
}


/* --- the audit trail ---------------------------------------------- */

#define AUDIT_COLS "at, event, peer, cert_sha256, cn, client, audience," \
	" scopes, jti, kid, outcome, error, reason, count"
#define AUDIT_DEFAULT_LIMIT	100

static const char sql_audit_add[] =
    "INSERT INTO audit_events (" AUDIT_COLS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
/* NULL parameters do not filter. */
static const char sql_audit_list[] =
    "SELECT " AUDIT_COLS " FROM audit_events"
    " WHERE at >= ?1 AND (?2 IS NULL OR client = ?2)"
    " AND (?3 IS NULL OR audience = ?3) AND (?4 IS NULL OR outcome = ?4)"
    " ORDER BY at DESC, id DESC LIMIT ?5";
static const char sql_audit_purge[] =
    "DELETE FROM audit_events WHERE at < ?1";
/* Rows get ever larger ids, and purges take the oldest: the newest
 * max_rows are those within max_rows of the largest id. */
static const char sql_audit_trim[] =
    "DELETE FROM audit_events"
    " WHERE id <= (SELECT max(id) FROM audit_events) - ?1";

/* The text fields of an event, in column order after `at`. */
static void
audit_fields(const struct tsr_audit_event *e, const char *f[12],
    size_t sz[12])
{
	const char *v[12] = { e->event, e->peer, e->cert_sha256, e->cn,
		e->client, e->audience, e->scopes, e->jti, e->kid, e->outcome,
		e->error, e->reason };
	const size_t s[12] = { sizeof(e->event), sizeof(e->peer),
		sizeof(e->cert_sha256), sizeof(e->cn), sizeof(e->client),
		sizeof(e->audience), sizeof(e->scopes), sizeof(e->jti),
		sizeof(e->kid), sizeof(e->outcome), sizeof(e->error),
		sizeof(e->reason) };

	memcpy(f, v, sizeof(v));
	memcpy(sz, s, sizeof(s));
}

static enum tsr_err
audit_insert(struct tsr_store *st, sqlite3_stmt *stmt,
    const struct tsr_audit_event *e, struct tsr_why *why)
{
	const char *f[12];
	size_t sz[12];
	enum tsr_err rc;
	int i;

	audit_fields(e, f, sz);
	sqlite3_reset(stmt);
	if ((rc = bind_int(stmt, 1, e->at, why)) != TSR_OK)
		return rc;
	for (i = 0; i < 12; i++)
		if ((rc = bind_opt_field(stmt, i + 2, f[i], sz[i], why)) !=
		    TSR_OK)
			return rc;
	if ((rc = bind_int(stmt, 14, e->count > 1 ? e->count : 1, why)) !=
	    TSR_OK)
		return rc;
	return run_write(st, stmt, "write audit event", NULL, why);
}

static enum tsr_err
sqlite_audit_add(struct tsr_store *st, const struct tsr_audit_event *evs,
    size_t n, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	size_t i;

	if ((rc = sqlite_begin(st, TSR_TX_WRITE, why)) != TSR_OK)
		return rc;
	if ((rc = prep(st, sql_audit_add, &stmt, why)) == TSR_OK)
		for (i = 0; i < n && rc == TSR_OK; i++)
			rc = audit_insert(st, stmt, &evs[i], why);
	sqlite3_finalize(stmt);
	if (rc == TSR_OK)
		return sqlite_commit(st, why);
	sqlite_rollback(st);
	return rc;
}

static enum tsr_err
read_audit(sqlite3_stmt *stmt, void *row)
{
	struct tsr_audit_event *e = row;
	char *f[12];
	const char *cf[12];
	size_t sz[12];
	int i;

	memset(e, 0, sizeof(*e));
	audit_fields(e, cf, sz);
	memcpy(f, cf, sizeof(f));	/* the same fields, writable */
	e->at = sqlite3_column_int64(stmt, 0);
	for (i = 0; i < 12; i++)
		if (!col_opt_text(stmt, i + 1, f[i], sz[i]))
			return TSR_ERR_DB;
	e->count = sqlite3_column_int64(stmt, 13);
	return TSR_OK;
}

static enum tsr_err
sqlite_audit_list(struct tsr_store *st, const struct tsr_audit_filter *f,
    struct tsr_audit_event **out, size_t *out_n, struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = prep(st, sql_audit_list, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, f->since, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 2, f->client, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 3, f->audience, why)) == TSR_OK &&
	    (rc = bind_str(stmt, 4, f->outcome, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 5, f->limit ? (int64_t)f->limit :
	    AUDIT_DEFAULT_LIMIT, why)) == TSR_OK &&
	    (rc = collect(st, stmt, sizeof(**out), read_audit, &rows, out_n,
	    why)) == TSR_OK)
		*out = rows;
	sqlite3_finalize(stmt);
	return rc;
}

static enum tsr_err
sqlite_audit_purge(struct tsr_store *st, int64_t before, int *purged,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if ((rc = prep(st, sql_audit_purge, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, before, why)) == TSR_OK)
		rc = run_write(st, stmt, "purge audit events", &changes, why);
	sqlite3_finalize(stmt);
	if (purged != NULL)
		*purged = rc == TSR_OK ? changes : 0;
	return rc;
}

static enum tsr_err
sqlite_audit_trim(struct tsr_store *st, int64_t max_rows, int64_t *trimmed,
    struct tsr_why *why)
{
	sqlite3_stmt *stmt = NULL;
	enum tsr_err rc;
	int changes = 0;

	if (trimmed != NULL)
		*trimmed = 0;
	if (max_rows < 1)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "audit cap must be at least 1 row");
	if ((rc = prep(st, sql_audit_trim, &stmt, why)) == TSR_OK &&
	    (rc = bind_int(stmt, 1, max_rows, why)) == TSR_OK)
		rc = run_write(st, stmt, "trim audit events", &changes, why);
	sqlite3_finalize(stmt);
	if (rc == TSR_OK && trimmed != NULL)
		*trimmed = changes;
	return rc;
}

const struct tsr_store_ops tsr_store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.migrate = sqlite_migrate,
	.schema_version = sqlite_schema_version,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.generations = sqlite_generations,
	.setting_get = sqlite_setting_get,
	.setting_set = sqlite_setting_set,
	.setting_raise = sqlite_setting_raise,
	.client_insert = sqlite_client_insert,
	.client_get = sqlite_client_get,
	.client_list = sqlite_client_list,
	.client_update = sqlite_client_update,
	.client_delete = sqlite_client_delete,
	.grant_insert = sqlite_grant_insert,
	.grant_update = sqlite_grant_update,
	.grant_list = sqlite_grant_list,
	.grant_delete = sqlite_grant_delete,
	.key_insert = sqlite_key_insert,
	.key_get = sqlite_key_get,
	.key_list = sqlite_key_list,
	.key_transition = sqlite_key_transition,
	.key_secret_put = sqlite_key_secret_put,
	.key_secret_get = sqlite_key_secret_get,
	.key_secret_delete = sqlite_key_secret_delete,
	.revocation_add = sqlite_revocation_add,
	.revocation_list = sqlite_revocation_list,
	.revocation_purge = sqlite_revocation_purge,
	.ca_get = sqlite_ca_get,
	.ca_insert = sqlite_ca_insert,
	.ca_reseal = sqlite_ca_reseal,
	.cert_insert = sqlite_cert_insert,
	.cert_get = sqlite_cert_get,
	.cert_list = sqlite_cert_list,
	.cert_revoke = sqlite_cert_revoke,
	.cert_revoke_client = sqlite_cert_revoke_client,
	.cert_revoked = sqlite_cert_revoked,
	.cert_count_expiring = sqlite_cert_count_expiring,
	.enroll_insert = sqlite_enroll_insert,
	.enroll_live = sqlite_enroll_live,
	.enroll_use = sqlite_enroll_use,
	.crl_get = sqlite_crl_get,
	.crl_state = sqlite_crl_state,
	.crl_put = sqlite_crl_put,
	.audit_add = sqlite_audit_add,
	.audit_list = sqlite_audit_list,
	.audit_purge = sqlite_audit_purge,
	.audit_trim = sqlite_audit_trim,
};
