/*
 * postgresql: the PostgreSQL engine of the store (see backend.h), over
 * libpq (loaded by pq.h).  The only file that calls libpq or holds
 * PostgreSQL's SQL.  Every statement takes its values as parameters
 * (PQexecParams); user text never becomes SQL.  The operations mean
 * exactly what the SQLite engine's do, errors and ordering included, so
 * that callers need not know which engine they talk to.
 *
 * Two differences of PostgreSQL are hidden here.  A failed statement
 * aborts the whole transaction, where SQLite fails only the statement:
 * inside a transaction each write runs under a savepoint, so a refused
 * insert leaves the transaction usable.  And a write transaction does
 * not lock the database as SQLite's BEGIN IMMEDIATE does: it takes one
 * transaction-scoped advisory lock first, so writers of every replica
 * run one after another and a read-then-write decision (a rotation's
 * compare-and-set, a policy plan) is never made on stale rows.
 *
 * A DSN may hold a password: no line written here contains it.  Lines
 * name the database by user, host, port and name only.
 */
#include "backend.h"
#include "audit.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migration.h"
#include "pq.h"
#include "refuse.h"

/* Advisory lock keys ("tsrW", "tsrM"): the write lock every write
 * transaction takes, and the session lock migrate holds. */
#define WRITE_LOCK	"1953723223"
#define MIGRATE_LOCK	"1953723213"

#define CONNECT_TIMEOUT_S	"10"
#define MIGRATE_LOCK_WAIT	"120s"

struct pg_store {
	struct tsr_store base;	/* first: ops */
	PGconn	*conn;
	char	 label[256];	/* user@host:port/db, no password */
	char	*password;	/* to strip from the server's messages */
};

static const struct pg_store *
pq(const struct tsr_store *st)
{
	return (const struct pg_store *)st;
}

/* Reads row i of res into the element at row. */
typedef enum tsr_err (*row_reader)(const PGresult *res, int i, void *row);

/*
 * Copy the first line of a server or libpq message into dst, printable
 * ASCII only, with every occurrence of secret (may be NULL) replaced.
 */
static void
clean_msg(const char *msg, const char *secret, char *dst, size_t size)
{
	size_t o = 0, slen = secret != NULL ? strlen(secret) : 0;
	unsigned char c;

	if (msg == NULL)
		msg = "";
	while (*msg != '\0' && *msg != '\n' && o + 4 < size) {
		if (slen > 0 && strncmp(msg, secret, slen) == 0) {
			memcpy(dst + o, "***", 3);
			o += 3;
			msg += slen;
			continue;
		}
		c = (unsigned char)*msg++;
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
	if (o > 0 && strncmp(dst, "ERROR:  ", 8) == 0)
		memmove(dst, dst + 8, o - 7);
}

/* A failure of the database itself: the label, what we did, why. */
static enum tsr_err
db_err(const struct tsr_store *st, const PGresult *res, const char *what,
    struct tsr_why *why)
{
	const char *m = NULL;
	char line[200];

	if (res != NULL)
		m = tsr_pq.resultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (m == NULL)
		m = tsr_pq.errorMessage(pq(st)->conn);
	clean_msg(m, pq(st)->password, line, sizeof(line));
	return tsr_err_why(why, TSR_ERR_DB, "%s: %s: %s", pq(st)->label, what,
	    line);
}

/* Map a failed write.  Uniqueness and reference failures get no line
 * here: the caller knows which name to blame. */
static enum tsr_err
write_err(const struct tsr_store *st, const PGresult *res, const char *what,
    struct tsr_why *why)
{
	const char *state = res != NULL ?
	    tsr_pq.resultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char line[200];

	if (state == NULL)
		return db_err(st, res, what, why);
	if (strcmp(state, "23505") == 0)	/* unique_violation */
		return TSR_ERR_EXISTS;
	if (strcmp(state, "23503") == 0)	/* foreign_key_violation */
		return TSR_ERR_NOT_FOUND;
	/* check, not null, value too long or out of range */
	if (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0 ||
	    strcmp(state, "22001") == 0 || strcmp(state, "22003") == 0) {
		clean_msg(tsr_pq.resultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
		    pq(st)->password, line, sizeof(line));
		return tsr_err_why(why, TSR_ERR_INVALID, "%s: %s", what, line);
	}
	return db_err(st, res, what, why);
}

/* --- parameters ---------------------------------------------------- */

#define MAX_PARAMS	14

/* The text values of one statement; NULL is SQL NULL. */
struct params {
	const char	*v[MAX_PARAMS];
	char		 num[MAX_PARAMS][24];
	int		 n;
	bool		 bad;		/* an unterminated field */
};

static void
p_str(struct params *p, const char *s)
{
	if (p->n < MAX_PARAMS)
		p->v[p->n++] = s;
	else
		p->bad = true;
}

static void
p_int(struct params *p, int64_t x)
{
	if (p->n >= MAX_PARAMS) {
		p->bad = true;
		return;
	}
	(void)snprintf(p->num[p->n], sizeof(p->num[p->n]), "%lld",
	    (long long)x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* Times: 0 in C is NULL in the database, "not reached". */
static void
p_time(struct params *p, int64_t at)
{
	if (at == 0)
		p_str(p, NULL);
	else
		p_int(p, at);
}

/* A NUL-terminated field of a row struct, refusing a full buffer without
 * its NUL rather than reading past it. */
static void
p_field(struct params *p, const char *field, size_t size)
{
	if (strnlen(field, size) == size) {
		p->bad = true;
		p_str(p, NULL);
	} else
		p_str(p, field);
}

/* "" is NULL: a token row has no client when its sub is unknown. */
static void
p_opt_field(struct params *p, const char *field, size_t size)
{
	if (field[0] == '\0')
		p_str(p, NULL);
	else
		p_field(p, field, size);
}

/* --- running statements -------------------------------------------- */

static bool
in_tx(const struct tsr_store *st)
{
	return tsr_pq.transactionStatus(pq(st)->conn) != PQTRANS_IDLE;
}

/* Run sql with p's values; *res is the result, NULL on failure to send. */
static PGresult *
run(const struct tsr_store *st, const char *sql, const struct params *p)
{
	return tsr_pq.execParams(pq(st)->conn, sql, p != NULL ? p->n : 0, NULL,
	    p != NULL ? p->v : NULL, NULL, NULL, 0);
}

/* A statement without values or rows (BEGIN, SAVEPOINT, DDL). */
static enum tsr_err
exec(const struct tsr_store *st, const char *sql, const char *what,
    struct tsr_why *why)
{
	PGresult *res = tsr_pq.exec(pq(st)->conn, sql);
	enum tsr_err rc = TSR_OK;

	if (tsr_pq.resultStatus(res) != PGRES_COMMAND_OK &&
	    tsr_pq.resultStatus(res) != PGRES_TUPLES_OK)
		rc = db_err(st, res, what, why);
	tsr_pq.clear(res);
	return rc;
}

/* A query returning rows: *res on success, which the caller tsr_pq.clear()s. */
static enum tsr_err
query(const struct tsr_store *st, const char *sql, const struct params *p,
    const char *what, PGresult **res, struct tsr_why *why)
{
	enum tsr_err rc;

	*res = NULL;
	if (p != NULL && p->bad)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "unterminated field in store row");
	*res = run(st, sql, p);
	if (tsr_pq.resultStatus(*res) == PGRES_TUPLES_OK)
		return TSR_OK;
	rc = db_err(st, *res, what, why);
	tsr_pq.clear(*res);
	*res = NULL;
	return rc;
}

static int
count_changes(const PGresult *res)
{
	const char *s = tsr_pq.cmdTuples((PGresult *)res);
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 || n > INT32_MAX)
		return 0;
	return (int)n;
}

/*
 * Run a write; *changes (may be NULL) gets the rows it changed itself.
 * Inside a transaction it runs under a savepoint, so that a refused write
 * fails alone, as in SQLite, and the transaction goes on.
 */
static enum tsr_err
run_write(const struct tsr_store *st, const char *sql,
    const struct params *p, const char *what, int *changes,
    struct tsr_why *why)
{
	bool sp = in_tx(st);
	PGresult *res;
	enum tsr_err rc = TSR_OK;

	if (changes != NULL)
		*changes = 0;
	if (p->bad)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "unterminated field in store row");
	if (sp && (rc = exec(st, "SAVEPOINT tsr_write", what, why)) != TSR_OK)
		return rc;
	res = run(st, sql, p);
	if (tsr_pq.resultStatus(res) != PGRES_COMMAND_OK &&
	    tsr_pq.resultStatus(res) != PGRES_TUPLES_OK)
		rc = write_err(st, res, what, why);
	else if (changes != NULL)
		*changes = count_changes(res);
	tsr_pq.clear(res);
	if (sp && rc != TSR_OK)
		(void)exec(st, "ROLLBACK TO SAVEPOINT tsr_write", what, NULL);
	if (sp && tsr_pq.transactionStatus(pq(st)->conn) == PQTRANS_INTRANS) {
		enum tsr_err rel = exec(st, "RELEASE SAVEPOINT tsr_write",
		    what, rc == TSR_OK ? why : NULL);

		if (rc == TSR_OK)
			rc = rel;
	}
	return rc;
}

/* Copy a text column into dst; false when NULL or it would not fit. */
static bool
col_text(const PGresult *res, int i, int col, char *dst, size_t size)
{
	size_t len;

	if (tsr_pq.getisnull(res, i, col))
		return false;
	len = (size_t)tsr_pq.getlength(res, i, col);
	if (len >= size)
		return false;
	memcpy(dst, tsr_pq.getvalue(res, i, col), len);
	dst[len] = '\0';
	return strlen(dst) == len;
}

/* A text column that may be NULL (read as ""). */
static bool
col_opt_text(const PGresult *res, int i, int col, char *dst, size_t size)
{
	if (tsr_pq.getisnull(res, i, col)) {
		dst[0] = '\0';
		return true;
	}
	return col_text(res, i, col, dst, size);
}

/* An integer column; NULL reads as 0 ("not reached"); false if bad. */
static bool
col_int(const PGresult *res, int i, int col, int64_t *v)
{
	const char *s;
	char *end;
	long long x;

	*v = 0;
	if (tsr_pq.getisnull(res, i, col))
		return true;
	s = tsr_pq.getvalue(res, i, col);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	*v = (int64_t)x;
	return true;
}

/* Every row of a query, read by read into a malloc'd array. */
static enum tsr_err
collect(const struct tsr_store *st, const char *sql, const struct params *p,
    size_t size, row_reader read, void **out, size_t *out_n,
    struct tsr_why *why)
{
	PGresult *res;
	unsigned char *rows = NULL;
	enum tsr_err rc;
	size_t n, i;

	*out = NULL;
	*out_n = 0;
	if ((rc = query(st, sql, p, "read", &res, why)) != TSR_OK)
		return rc;
	n = (size_t)tsr_pq.ntuples(res);
	if (n > 0 && (n > SIZE_MAX / size ||
	    (rows = calloc(n, size)) == NULL)) {
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "list");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (read(res, (int)i, rows + i * size) != TSR_OK) {
			rc = tsr_err_why(why, TSR_ERR_DB,
			    "%s: bad row in database", pq(st)->label);
			goto out;
		}
	*out = rows;
	*out_n = n;
	rows = NULL;
out:
	free(rows);
	tsr_pq.clear(res);
	return rc;
}

/* Run a one-row query binding key at $1 and say whether it found a row. */
static enum tsr_err
has_row(const struct tsr_store *st, const char *sql, const char *key,
    bool *found, struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;

	*found = false;
	p_str(&p, key);
	if ((rc = query(st, sql, &p, "read", &res, why)) == TSR_OK)
		*found = tsr_pq.ntuples(res) > 0;
	tsr_pq.clear(res);
	return rc;
}

/* --- open, close, transactions ------------------------------------- */

/* The password of a URI, as written and percent-decoded, if any: its
 * userinfo after ':' and any password= query parameter. */
static void
uri_secrets(const char *dsn, char *raw, size_t size)
{
	const char *a = strstr(dsn, "://"), *end, *at, *colon, *q;
	size_t len;

	raw[0] = '\0';
	if (a == NULL)
		return;
	a += 3;
	end = a + strcspn(a, "/?#");
	for (at = NULL, q = a; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL || (colon = memchr(a, ':', (size_t)(at - a))) == NULL)
		return;
	len = (size_t)(at - colon - 1);
	if (len == 0 || len >= size)
		return;
	memcpy(raw, colon + 1, len);
	raw[len] = '\0';
}

/* The line that names this database: never the password. */
static void
make_label(struct pg_store *s, const PQconninfoOption *opts)
{
	const char *user = "", *host = "", *port = "", *db = "";
	const PQconninfoOption *o;

	for (o = opts; o != NULL && o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	(void)snprintf(s->label, sizeof(s->label),
	    "postgresql://%.48s%s%.96s%s%.8s/%.64s", user, *user ? "@" : "",
	    host, *port ? ":" : "", port, db);
	for (size_t i = 0; s->label[i] != '\0'; i++)
		if ((unsigned char)s->label[i] < 0x20 ||
		    (unsigned char)s->label[i] >= 0x7f)
			s->label[i] = '?';
}

/* Parse dsn: the label, the password to hide; a clear line if bad. */
static enum tsr_err
parse_dsn(struct pg_store *s, const char *dsn, struct tsr_why *why)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, raw[256], line[200];

	uri_secrets(dsn, raw, sizeof(raw));
	if ((opts = tsr_pq.conninfoParse(dsn, &err)) == NULL) {
		clean_msg(err != NULL ? err : "out of memory", raw[0] ? raw :
		    NULL, line, sizeof(line));
		tsr_pq.freemem(err);
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "malformed PostgreSQL URI: %s", line);
	}
	make_label(s, opts);
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    *o->val != '\0' && (s->password = strdup(o->val)) == NULL) {
			tsr_pq.conninfoFree(opts);
			return tsr_err_why(why, TSR_ERR_NOMEM, "open database");
		}
	tsr_pq.conninfoFree(opts);
	return TSR_OK;
}

static void pg_close(struct tsr_store *st);

static void
ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Session settings: wait for a writer as long as SQLite would; times
 * in UTC. */
static const char sql_session[] =
    "SET lock_timeout = 5000; SET TIME ZONE 'UTC'";

static enum tsr_err
pg_open(const char *dsn, struct tsr_store **out, struct tsr_why *why)
{
	/* Ours first: what the URI says overrides them. */
	static const char *const keys[] = { "connect_timeout",
		"application_name", "dbname", NULL };
	const char *vals[] = { CONNECT_TIMEOUT_S, "tessera", dsn, NULL };
	struct pg_store *s;
	enum tsr_err rc;
	char line[200];

	*out = NULL;
	if ((rc = tsr_pq_load(why)) != TSR_OK)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "open database");
	s->base.ops = &tsr_store_postgresql_ops;
	if ((rc = parse_dsn(s, dsn, why)) != TSR_OK)
		goto out;
	s->conn = tsr_pq.connectdbParams(keys, vals, 1);
	if (s->conn == NULL || tsr_pq.status(s->conn) != CONNECTION_OK) {
		clean_msg(s->conn != NULL ? tsr_pq.errorMessage(s->conn) :
		    "out of memory", s->password, line, sizeof(line));
		rc = tsr_err_why(why, TSR_ERR_DB, "cannot connect to %s: %s",
		    s->label, line);
		goto out;
	}
	/* The server's notices ("already exists, skipping") are not ours
	 * to print: a command says one line or nothing. */
	(void)tsr_pq.setNoticeProcessor(s->conn, ignore_notice, NULL);
	if ((rc = exec(&s->base, sql_session, "open", why)) != TSR_OK)
		goto out;
	*out = &s->base;
	s = NULL;
out:
	if (s != NULL)
		pg_close(&s->base);
	return rc;
}

static void
pg_close(struct tsr_store *st)
{
	struct pg_store *s = (struct pg_store *)st;

	if (s == NULL)
		return;
	if (s->conn != NULL)
		tsr_pq.finish(s->conn);
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
}

static void
pg_rollback(struct tsr_store *st)
{
	if (st != NULL && in_tx(st))
		(void)exec(st, "ROLLBACK", "rollback", NULL);
}

/*
 * A writer takes the write lock first, as SQLite's BEGIN IMMEDIATE
 * does, and then reads committed rows: no other writer can commit
 * while it holds the lock, so what it read stays true until it commits.
 * A reader gets one snapshot for the whole transaction.
 */
static enum tsr_err
pg_begin(struct tsr_store *st, int flags, struct tsr_why *why)
{
	enum tsr_err rc;

	if (flags & TSR_TX_WRITE) {
		rc = exec(st, "BEGIN ISOLATION LEVEL READ COMMITTED;"
		    " SELECT pg_advisory_xact_lock(" WRITE_LOCK ")",
		    "begin transaction", why);
		if (rc != TSR_OK)
			pg_rollback(st);
		return rc;
	}
	return exec(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    "begin transaction", why);
}

static enum tsr_err
pg_commit(struct tsr_store *st, struct tsr_why *why)
{
	PGresult *res = tsr_pq.exec(pq(st)->conn, "COMMIT");
	enum tsr_err rc = TSR_OK;

	/* COMMIT of a failed transaction rolls back and says so. */
	if (tsr_pq.resultStatus(res) != PGRES_COMMAND_OK)
		rc = db_err(st, res, "commit", why);
	else if (strcmp(tsr_pq.cmdStatus(res), "COMMIT") != 0)
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: commit: the transaction "
		    "failed and was rolled back", pq(st)->label);
	tsr_pq.clear(res);
	return rc;
}

/* --- migrations ---------------------------------------------------- */

static const char sql_mig_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";
static const char sql_mig_has_table[] =
    "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL";
static const char sql_mig_max[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char sql_mig_has[] =
    "SELECT 1 FROM schema_migrations WHERE version = $1::integer";
static const char sql_mig_record[] =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES ($1::integer, $2, extract(epoch FROM now())::bigint)";

/* Highest applied version; 0 for a database never migrated. */
static enum tsr_err
current_version(struct tsr_store *st, int *version, struct tsr_why *why)
{
	PGresult *res = NULL;
	enum tsr_err rc;
	int64_t v;

	*version = 0;
	if ((rc = query(st, sql_mig_has_table, NULL, "read schema version",
	    &res, why)) != TSR_OK || tsr_pq.ntuples(res) == 0)
		goto out;
	tsr_pq.clear(res);
	if ((rc = query(st, sql_mig_max, NULL, "read schema version", &res,
	    why)) != TSR_OK)
		goto out;
	if (tsr_pq.ntuples(res) != 1 || !col_int(res, 0, 0, &v) || v < 0 ||
	    v > INT32_MAX)
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad schema version",
		    pq(st)->label);
	else
		*version = (int)v;
out:
	tsr_pq.clear(res);
	return rc;
}

/* One migration and its record in one transaction, unless another
 * process applied it first. */
static enum tsr_err
apply_one(struct tsr_store *st, const struct tsr_migration *m, int *applied,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	bool done = false;
	char what[64], v[16];

	(void)snprintf(what, sizeof(what), "migration %04d_%.32s", m->version,
	    m->name);
	(void)snprintf(v, sizeof(v), "%d", m->version);
	if ((rc = pg_begin(st, TSR_TX_WRITE, why)) != TSR_OK)
		return rc;
	if ((rc = has_row(st, sql_mig_has, v, &done, why)) != TSR_OK || done)
		goto out;
	p_int(&p, m->version);
	p_str(&p, m->name);
	/* The file may hold several statements: the simple protocol. */
	if ((rc = exec(st, m->sql, what, why)) != TSR_OK ||
	    (rc = run_write(st, sql_mig_record, &p, "record migration", NULL,
	    why)) != TSR_OK || (rc = pg_commit(st, why)) != TSR_OK)
		goto out;
	(*applied)++;
out:
	pg_rollback(st);		/* no-op after a commit */
	return rc;
}

static enum tsr_err
migrate_locked(struct tsr_store *st, int *applied, struct tsr_why *why)
{
	enum tsr_err rc;
	int current;
	size_t i;

	/* Read before creating anything: a newer database stays untouched. */
	if ((rc = current_version(st, &current, why)) != TSR_OK)
		return rc;
	if ((size_t)current > tsr_migrations_postgresql_count)
		return tsr_err_why(why, TSR_ERR_DB_NEWER,
		    "database schema version %d is newer than this tessera "
		    "(knows %zu); upgrade tessera", current,
		    tsr_migrations_postgresql_count);
	if ((rc = exec(st, sql_mig_table, "create schema_migrations", why)) !=
	    TSR_OK)
		return rc;
	for (i = 0; i < tsr_migrations_postgresql_count && rc == TSR_OK; i++)
		rc = apply_one(st, &tsr_migrations_postgresql[i], applied, why);
	return rc;
}

/*
 * Replicas starting at once all migrate: a session lock lets one do the
 * work while the others wait, then find nothing left to do.
 */
static enum tsr_err
pg_migrate(struct tsr_store *st, int *applied, struct tsr_why *why)
{
	enum tsr_err rc;
	int n = 0;

	if (applied != NULL)
		*applied = 0;
	if ((rc = exec(st, "SET lock_timeout = '" MIGRATE_LOCK_WAIT "';"
	    " SELECT pg_advisory_lock(" MIGRATE_LOCK ");"
	    " SET lock_timeout = 5000", "wait for other migrations", why)) !=
	    TSR_OK) {
		(void)exec(st, "SET lock_timeout = 5000", "migrate", NULL);
		return rc;
	}
	rc = migrate_locked(st, &n, why);
	(void)exec(st, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")",
	    "migrate", NULL);
	if (applied != NULL)
		*applied = n;
	return rc;
}

static enum tsr_err
pg_schema_version(struct tsr_store *st, int *current, int *latest,
    struct tsr_why *why)
{
	*latest = (int)tsr_migrations_postgresql_count;
	return current_version(st, current, why);
}

/* --- generations and settings -------------------------------------- */

static const char sql_generations[] =
    "SELECT (SELECT value FROM generations WHERE name = 'policy'),"
    " (SELECT value FROM generations WHERE name = 'keys'),"
    " (SELECT value FROM generations WHERE name = 'revocations'),"
    " (SELECT value FROM generations WHERE name = 'certs')";

static enum tsr_err
pg_generations(struct tsr_store *st, struct tsr_store_gens *out,
    struct tsr_why *why)
{
	PGresult *res;
	enum tsr_err rc;
	int i;

	memset(out, 0, sizeof(*out));
	if ((rc = query(st, sql_generations, NULL, "read generations", &res,
	    why)) != TSR_OK)
		return rc;
	for (i = 0; i < 4 && tsr_pq.ntuples(res) == 1; i++)
		if (tsr_pq.getisnull(res, 0, i))
			break;
	if (tsr_pq.ntuples(res) != 1 || i < 4 || !col_int(res, 0, 0, &out->policy) ||
	    !col_int(res, 0, 1, &out->keys) ||
	    !col_int(res, 0, 2, &out->revocations) ||
	    !col_int(res, 0, 3, &out->certs)) {
		memset(out, 0, sizeof(*out));
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: no generation counters",
		    pq(st)->label);
	}
	tsr_pq.clear(res);
	return rc;
}

static const char sql_setting_get[] =
    "SELECT value FROM settings WHERE name = $1";
static const char sql_setting_set[] =
    "INSERT INTO settings (name, value) VALUES ($1, $2::bigint)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value";
static const char sql_setting_raise[] =
    "INSERT INTO settings (name, value) VALUES ($1, $2::bigint)"
    " ON CONFLICT (name) DO UPDATE"
    " SET value = greatest(settings.value, excluded.value)";

static enum tsr_err
pg_setting_get(struct tsr_store *st, const char *name, int64_t *value,
    struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;
	char b[TSR_REFUSE_SHOW_BUF];

	*value = 0;
	p_str(&p, name);
	if ((rc = query(st, sql_setting_get, &p, "read setting", &res, why)) !=
	    TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 0)
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND, "no setting \"%s\"",
		    tsr_refuse_show(name, b));
	else if (!col_int(res, 0, 0, value))
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad setting row",
		    pq(st)->label);
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
setting_write(struct tsr_store *st, const char *sql, const char *name,
    int64_t value, struct tsr_why *why)
{
	struct params p = { 0 };

	if (name == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "no setting name");
	p_str(&p, name);
	p_int(&p, value);
	return run_write(st, sql, &p, "write setting", NULL, why);
}

static enum tsr_err
pg_setting_set(struct tsr_store *st, const char *name, int64_t value,
    struct tsr_why *why)
{
	return setting_write(st, sql_setting_set, name, value, why);
}

static enum tsr_err
pg_setting_raise(struct tsr_store *st, const char *name, int64_t value,
    struct tsr_why *why)
{
	return setting_write(st, sql_setting_raise, name, value, why);
}

/* --- clients ------------------------------------------------------- */

#define CLIENT_COLS "name, cn, description, enabled, created_at, updated_at," \
	" cert_ttl_s"

static const char sql_client_insert[] =
    "INSERT INTO clients (" CLIENT_COLS ")"
    " VALUES ($1, $2, $3, $4::integer, $5::bigint, $6::bigint, $7::bigint)";
static const char sql_client_get[] =
    "SELECT " CLIENT_COLS " FROM clients WHERE name = $1";
static const char sql_client_list[] =
    "SELECT " CLIENT_COLS " FROM clients ORDER BY name COLLATE \"C\"";
/* created_at is never rewritten: $5 is updated_at. */
static const char sql_client_update[] =
    "UPDATE clients SET cn = $2, description = $3, enabled = $4::integer,"
    " updated_at = $5::bigint, cert_ttl_s = $6::bigint WHERE name = $1";
static const char sql_client_delete[] =
    "DELETE FROM clients WHERE name = $1";
static const char sql_client_exists[] =
    "SELECT 1 FROM clients WHERE name = $1";
static const char sql_client_by_cn[] =
    "SELECT name FROM clients WHERE cn = $1";

static enum tsr_err
read_client(const PGresult *res, int i, void *row)
{
	struct tsr_client *c = row;
	int64_t enabled;

	memset(c, 0, sizeof(*c));
	if (!col_text(res, i, 0, c->name, sizeof(c->name)) ||
	    !col_text(res, i, 1, c->cn, sizeof(c->cn)) ||
	    !col_text(res, i, 2, c->description, sizeof(c->description)) ||
	    !col_int(res, i, 3, &enabled) ||
	    !col_int(res, i, 4, &c->created_at) ||
	    !col_int(res, i, 5, &c->updated_at) ||
	    !col_int(res, i, 6, &c->cert_ttl_s))
		return TSR_ERR_DB;
	c->enabled = enabled != 0;
	return TSR_OK;
}

/* created_at only for an insert: an update never rewrites it. */
static void
p_client(struct params *p, const struct tsr_client *c, bool insert)
{
	p_field(p, c->name, sizeof(c->name));
	p_field(p, c->cn, sizeof(c->cn));
	p_field(p, c->description, sizeof(c->description));
	p_int(p, c->enabled ? 1 : 0);
	if (insert)
		p_int(p, c->created_at);
	p_int(p, c->updated_at);
	p_int(p, c->cert_ttl_s);
}

/* A write of c broke a uniqueness rule: say which.  by_name is false for
 * an update, where the name is the row's own. */
static enum tsr_err
client_taken(struct tsr_store *st, const struct tsr_client *c, bool by_name,
    struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;
	bool found;
	char b1[TSR_REFUSE_SHOW_BUF], b2[TSR_REFUSE_SHOW_BUF];

	if (by_name && has_row(st, sql_client_exists, c->name, &found,
	    NULL) == TSR_OK && found)
		return tsr_err_why(why, TSR_ERR_EXISTS,
		    "client \"%s\" already exists",
		    tsr_refuse_show(c->name, b1));
	p_str(&p, c->cn);
	if ((rc = query(st, sql_client_by_cn, &p, "read", &res, why)) !=
	    TSR_OK)
		return rc;
	rc = tsr_err_why(why, TSR_ERR_EXISTS, "certificate CN \"%s\" "
	    "is already used by client \"%s\"", tsr_refuse_show(c->cn, b1),
	    tsr_pq.ntuples(res) > 0 ? tsr_refuse_show(tsr_pq.getvalue(res, 0, 0),
	    b2) : "?");
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
pg_client_insert(struct tsr_store *st, const struct tsr_client *c,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;

	p_client(&p, c, true);
	rc = run_write(st, sql_client_insert, &p, "add client", NULL, why);
	if (rc == TSR_ERR_EXISTS)
		rc = client_taken(st, c, true, why);
	return rc;
}

static enum tsr_err
pg_client_get(struct tsr_store *st, const char *name, struct tsr_client *out,
    struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;

	memset(out, 0, sizeof(*out));
	p_str(&p, name);
	if ((rc = query(st, sql_client_get, &p, "read client", &res, why)) !=
	    TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 0)
		rc = tsr_refuse_no_client(name, why);
	else if (read_client(res, 0, out) != TSR_OK) {
		memset(out, 0, sizeof(*out));
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad client row",
		    pq(st)->label);
	}
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
pg_client_list(struct tsr_store *st, struct tsr_client **out, size_t *out_n,
    struct tsr_why *why)
{
	void *rows = NULL;
	enum tsr_err rc;

	rc = collect(st, sql_client_list, NULL, sizeof(**out), read_client,
	    &rows, out_n, why);
	*out = rows;
	return rc;
}

static enum tsr_err
pg_client_update(struct tsr_store *st, const struct tsr_client *c,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	p_client(&p, c, false);
	rc = run_write(st, sql_client_update, &p, "update client", &changes,
	    why);
	if (rc == TSR_ERR_EXISTS)
		return client_taken(st, c, false, why);
	if (rc == TSR_OK && changes == 0)
		return tsr_refuse_no_client(c->name, why);
	return rc;
}

static enum tsr_err
pg_client_delete(struct tsr_store *st, const char *name, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	/* Grants go with it: ON DELETE CASCADE. */
	p_str(&p, name);
	rc = run_write(st, sql_client_delete, &p, "remove client", &changes,
	    why);
	if (rc == TSR_OK && changes == 0)
		return tsr_refuse_no_client(name, why);
	return rc;
}

/* --- grants -------------------------------------------------------- */

/* Rows name their client by id; the interface names it by name. */
static const char sql_grant_insert[] =
    "INSERT INTO grants (client_id, audience, scopes, ttl_s, created_at)"
    " SELECT id, $2::text, $3::text, $4::bigint, $5::bigint FROM clients"
    " WHERE name = $1";
static const char sql_grant_update[] =
    "UPDATE grants SET scopes = $3, ttl_s = $4::bigint WHERE audience = $2"
    " AND client_id = (SELECT id FROM clients WHERE name = $1)";
static const char sql_grant_list[] =
    "SELECT c.name, g.audience, g.scopes, g.ttl_s, g.created_at"
    " FROM grants g JOIN clients c ON c.id = g.client_id"
    " WHERE ($1::text IS NULL OR c.name = $1)"
    " AND ($2::text IS NULL OR g.audience = $2)"
    " ORDER BY c.name COLLATE \"C\", g.audience COLLATE \"C\"";
static const char sql_grant_delete[] =
    "DELETE FROM grants WHERE audience = $2"
    " AND client_id = (SELECT id FROM clients WHERE name = $1)";

static enum tsr_err
read_grant(const PGresult *res, int i, void *row)
{
	struct tsr_grant *g = row;

	memset(g, 0, sizeof(*g));
	if (!col_text(res, i, 0, g->client, sizeof(g->client)) ||
	    !col_text(res, i, 1, g->audience, sizeof(g->audience)) ||
	    !col_text(res, i, 2, g->scopes, sizeof(g->scopes)) ||
	    !col_int(res, i, 3, &g->ttl_s) ||
	    !col_int(res, i, 4, &g->created_at))
		return TSR_ERR_DB;
	return TSR_OK;
}

/* created_at only for an insert: an update never rewrites it. */
static void
p_grant(struct params *p, const struct tsr_grant *g, bool insert)
{
	p_field(p, g->client, sizeof(g->client));
	p_field(p, g->audience, sizeof(g->audience));
	p_field(p, g->scopes, sizeof(g->scopes));
	p_int(p, g->ttl_s);
	if (insert)
		p_int(p, g->created_at);
}

/* Nothing matched (client, audience): is the client missing or only the
 * grant? */
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
pg_grant_insert(struct tsr_store *st, const struct tsr_grant *g,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;
	char b1[TSR_REFUSE_SHOW_BUF], b2[TSR_REFUSE_SHOW_BUF];

	p_grant(&p, g, true);
	rc = run_write(st, sql_grant_insert, &p, "add grant", &changes, why);
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
pg_grant_update(struct tsr_store *st, const struct tsr_grant *g,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	p_grant(&p, g, false);
	rc = run_write(st, sql_grant_update, &p, "update grant", &changes,
	    why);
	if (rc == TSR_OK && changes == 0)
		return no_grant(st, g->client, g->audience, why);
	return rc;
}

static enum tsr_err
pg_grant_list(struct tsr_store *st, const char *client, const char *audience,
    struct tsr_grant **out, size_t *out_n, struct tsr_why *why)
{
	struct params p = { 0 };
	void *rows = NULL;
	enum tsr_err rc;

	p_str(&p, client);
	p_str(&p, audience);
	rc = collect(st, sql_grant_list, &p, sizeof(**out), read_grant, &rows,
	    out_n, why);
	*out = rows;
	return rc;
}

static enum tsr_err
pg_grant_delete(struct tsr_store *st, const char *client,
    const char *audience, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	if (client == NULL || audience == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "no client or audience");
	p_str(&p, client);
	p_str(&p, audience);
	rc = run_write(st, sql_grant_delete, &p, "remove grant", &changes,
	    why);
	if (rc == TSR_OK && changes == 0)
		return no_grant(st, client, audience, why);
	return rc;
}

/* --- signing keys -------------------------------------------------- */

#define KEY_COLS "kid, state, bits, jwk, created_at, activated_at," \
	" retired_at, expires_at"

static const char sql_key_insert[] =
    "INSERT INTO signing_keys (" KEY_COLS ") VALUES ($1, $2, $3::integer,"
    " $4, $5::bigint, $6::bigint, $7::bigint, $8::bigint)";
static const char sql_key_get[] =
    "SELECT " KEY_COLS " FROM signing_keys WHERE kid = $1";
static const char sql_key_list[] =
    "SELECT " KEY_COLS " FROM signing_keys"
    " ORDER BY created_at, kid COLLATE \"C\"";
static const char sql_key_exists[] =
    "SELECT 1 FROM signing_keys WHERE kid = $1";
/* Conditional on the state we read: a concurrent rotation changes no
 * row here.  NULL times keep their old value. */
static const char sql_key_transition[] =
    "UPDATE signing_keys SET state = $3,"
    " activated_at = coalesce($4::bigint, activated_at),"
    " retired_at = coalesce($5::bigint, retired_at),"
    " expires_at = coalesce($6::bigint, expires_at)"
    " WHERE kid = $1 AND state = $2";

static enum tsr_err
read_key(const PGresult *res, int i, void *row)
{
	struct tsr_keyrow *k = row;
	char state[16];
	int64_t bits;

	memset(k, 0, sizeof(*k));
	if (!col_text(res, i, 0, k->kid, sizeof(k->kid)) ||
	    !col_text(res, i, 1, state, sizeof(state)) ||
	    !tsr_keystate_parse(state, &k->state) ||
	    !col_int(res, i, 2, &bits) || bits < 0 || bits > 65536 ||
	    !col_text(res, i, 3, k->jwk, sizeof(k->jwk)) ||
	    !col_int(res, i, 4, &k->created_at) ||
	    !col_int(res, i, 5, &k->activated_at) ||
	    !col_int(res, i, 6, &k->retired_at) ||
	    !col_int(res, i, 7, &k->expires_at))
		return TSR_ERR_DB;
	k->bits = (int)bits;
	return TSR_OK;
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
pg_key_insert(struct tsr_store *st, const struct tsr_keyrow *k,
    struct tsr_why *why)
{
	const char *state = tsr_keystate_name(k->state);
	struct params p = { 0 };
	enum tsr_err rc;

	if (state == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad key state %d",
		    (int)k->state);
	p_field(&p, k->kid, sizeof(k->kid));
	p_str(&p, state);
	p_int(&p, k->bits);
	p_field(&p, k->jwk, sizeof(k->jwk));
	p_int(&p, k->created_at);
	p_time(&p, k->activated_at);
	p_time(&p, k->retired_at);
	p_time(&p, k->expires_at);
	rc = run_write(st, sql_key_insert, &p, "add signing key", NULL, why);
	if (rc == TSR_ERR_EXISTS)
		return key_taken(st, k->kid, true, why);
	return rc;
}

static enum tsr_err
pg_key_get(struct tsr_store *st, const char *kid, struct tsr_keyrow *out,
    struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;

	memset(out, 0, sizeof(*out));
	p_str(&p, kid);
	if ((rc = query(st, sql_key_get, &p, "read signing key", &res,
	    why)) != TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 0)
		rc = tsr_refuse_no_key(kid, why);
	else if (read_key(res, 0, out) != TSR_OK) {
		memset(out, 0, sizeof(*out));
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad signing key row",
		    pq(st)->label);
	}
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
pg_key_list(struct tsr_store *st, struct tsr_keyrow **out, size_t *out_n,
    struct tsr_why *why)
{
	void *rows = NULL;
	enum tsr_err rc;

	rc = collect(st, sql_key_list, NULL, sizeof(**out), read_key, &rows,
	    out_n, why);
	*out = rows;
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

	if ((rc = pg_key_get(st, kid, &k, why)) != TSR_OK)
		return rc;
	return tsr_err_why(why, TSR_ERR_CONFLICT,
	    "signing key \"%s\" is %s, not %s", tsr_refuse_show(kid, b),
	    tsr_keystate_name(k.state), tsr_keystate_name(from));
}

static enum tsr_err
pg_key_transition(struct tsr_store *st, const char *kid,
    enum tsr_keystate from, enum tsr_keystate to, int64_t activated_at,
    int64_t retired_at, int64_t expires_at, struct tsr_why *why)
{
	const char *from_name = tsr_keystate_name(from);
	const char *to_name = tsr_keystate_name(to);
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	if (kid == NULL || from_name == NULL || to_name == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "bad key transition");
	p_str(&p, kid);
	p_str(&p, from_name);
	p_str(&p, to_name);
	p_time(&p, activated_at);
	p_time(&p, retired_at);
	p_time(&p, expires_at);
	rc = run_write(st, sql_key_transition, &p, "change signing key",
	    &changes, why);
	if (rc == TSR_ERR_EXISTS)
		return key_taken(st, kid, false, why);
	if (rc == TSR_OK && changes == 0)
		return transition_missed(st, kid, from, why);
	return rc;
}

/* --- sealed private keys ------------------------------------------ */

static const char sql_secret_put[] =
    "INSERT INTO sealed_keys (kid, sealed, sealed_at)"
    " VALUES ($1, $2, $3::bigint)"
    " ON CONFLICT (kid) DO UPDATE SET sealed = excluded.sealed,"
    " sealed_at = excluded.sealed_at";
static const char sql_secret_get[] =
    "SELECT sealed FROM sealed_keys WHERE kid = $1";
static const char sql_secret_delete[] =
    "DELETE FROM sealed_keys WHERE kid = $1";

static enum tsr_err
pg_key_secret_put(struct tsr_store *st, const char *kid, const char *sealed,
    int64_t sealed_at, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;

	if (kid == NULL || sealed == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID, "no sealed key");
	p_str(&p, kid);
	p_str(&p, sealed);
	p_int(&p, sealed_at);
	rc = run_write(st, sql_secret_put, &p, "store sealed key", NULL, why);
	if (rc == TSR_ERR_NOT_FOUND)
		return tsr_refuse_no_key(kid, why);
	return rc;
}

static enum tsr_err
pg_key_secret_get(struct tsr_store *st, const char *kid, char **sealed,
    struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;
	char b[TSR_REFUSE_SHOW_BUF];

	*sealed = NULL;
	p_str(&p, kid);
	if ((rc = query(st, sql_secret_get, &p, "read sealed key", &res,
	    why)) != TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 0)
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND,
		    "no sealed private key for signing key \"%s\"",
		    tsr_refuse_show(kid, b));
	else if (tsr_pq.getisnull(res, 0, 0) ||
	    (*sealed = strdup(tsr_pq.getvalue(res, 0, 0))) == NULL)
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "read sealed key");
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
pg_key_secret_delete(struct tsr_store *st, const char *kid, bool *deleted,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	p_str(&p, kid);
	rc = run_write(st, sql_secret_delete, &p, "remove sealed key",
	    &changes, why);
	if (deleted != NULL)
		*deleted = rc == TSR_OK && changes > 0;
	return rc;
}

/* --- the deny-list ------------------------------------------------- */

#define REV_COLS "kind, jti, client, reason, revoked_at, expires_at"

/* A jti already listed stays as it was (revoking twice is harmless). */
static const char sql_rev_add[] =
    "INSERT INTO revocations (" REV_COLS ")"
    " VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint) ON CONFLICT DO NOTHING";
static const char sql_rev_list[] =
    "SELECT " REV_COLS " FROM revocations WHERE expires_at > $1::bigint"
    " ORDER BY revoked_at, id";
static const char sql_rev_purge[] =
    "DELETE FROM revocations WHERE expires_at <= $1::bigint";

static const char *const revkind_names[] = { "token", "client" };

static enum tsr_err
read_revocation(const PGresult *res, int i, void *row)
{
	struct tsr_revocation *r = row;
	char kind[16];

	memset(r, 0, sizeof(*r));
	if (!col_text(res, i, 0, kind, sizeof(kind)) ||
	    !col_opt_text(res, i, 1, r->jti, sizeof(r->jti)) ||
	    !col_opt_text(res, i, 2, r->client, sizeof(r->client)) ||
	    !col_text(res, i, 3, r->reason, sizeof(r->reason)) ||
	    !col_int(res, i, 4, &r->revoked_at) ||
	    !col_int(res, i, 5, &r->expires_at))
		return TSR_ERR_DB;
	if (strcmp(kind, revkind_names[TSR_REVKIND_TOKEN]) == 0)
		r->kind = TSR_REVKIND_TOKEN;
	else if (strcmp(kind, revkind_names[TSR_REVKIND_CLIENT]) == 0)
		r->kind = TSR_REVKIND_CLIENT;
	else
		return TSR_ERR_DB;
	return TSR_OK;
}

static enum tsr_err
pg_revocation_add(struct tsr_store *st, const struct tsr_revocation *r,
    bool *added, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	if (added != NULL)
		*added = false;
	if ((unsigned)r->kind > TSR_REVKIND_CLIENT)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad revocation kind");
	p_str(&p, revkind_names[r->kind]);
	p_opt_field(&p, r->jti, sizeof(r->jti));
	p_opt_field(&p, r->client, sizeof(r->client));
	p_field(&p, r->reason, sizeof(r->reason));
	p_int(&p, r->revoked_at);
	p_int(&p, r->expires_at);
	rc = run_write(st, sql_rev_add, &p, "add revocation", &changes, why);
	if (rc == TSR_OK && added != NULL)
		*added = changes > 0;
	return rc;
}

static enum tsr_err
pg_revocation_list(struct tsr_store *st, int64_t now,
    struct tsr_revocation **out, size_t *out_n, struct tsr_why *why)
{
	struct params p = { 0 };
	void *rows = NULL;
	enum tsr_err rc;

	p_int(&p, now);
	rc = collect(st, sql_rev_list, &p, sizeof(**out), read_revocation,
	    &rows, out_n, why);
	*out = rows;
	return rc;
}

static enum tsr_err
pg_revocation_purge(struct tsr_store *st, int64_t now, int *purged,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	p_int(&p, now);
	rc = run_write(st, sql_rev_purge, &p, "purge revocations", &changes,
	    why);
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
    " VALUES (1, $1, $2, $3, $4, $5::bigint)";

static enum tsr_err
pg_ca_get(struct tsr_store *st, struct tsr_carow *out, struct tsr_why *why)
{
	PGresult *res;
	enum tsr_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = query(st, sql_ca_get, NULL, "read CA", &res, why)) !=
	    TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 0)
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND,
		    "no CA (tessera ca init creates one)");
	else if (!col_text(res, 0, 0, out->cert_pem, sizeof(out->cert_pem)) ||
	    !col_text(res, 0, 1, out->key_ref, sizeof(out->key_ref)) ||
	    !col_text(res, 0, 2, out->key_sealed, sizeof(out->key_sealed)) ||
	    !col_text(res, 0, 3, out->sha256, sizeof(out->sha256)) ||
	    !col_int(res, 0, 4, &out->created_at))
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad CA row",
		    pq(st)->label);
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
pg_ca_insert(struct tsr_store *st, const struct tsr_carow *ca,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;

	p_field(&p, ca->cert_pem, sizeof(ca->cert_pem));
	p_field(&p, ca->key_ref, sizeof(ca->key_ref));
	p_opt_field(&p, ca->key_sealed, sizeof(ca->key_sealed));
	p_field(&p, ca->sha256, sizeof(ca->sha256));
	p_int(&p, ca->created_at);
	rc = run_write(st, sql_ca_insert, &p, "add CA", NULL, why);
	if (rc == TSR_ERR_EXISTS)
		rc = tsr_err_why(why, rc, "the store already has a CA");
	return rc;
}

static const char sql_ca_reseal[] =
    "UPDATE ca SET key_sealed = $1 WHERE id = 1 AND key_sealed IS NOT NULL";

static enum tsr_err
pg_ca_reseal(struct tsr_store *st, const char *sealed, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	p_str(&p, sealed);
	rc = run_write(st, sql_ca_reseal, &p, "reseal CA key", &changes, why);
	if (rc == TSR_OK && changes == 0)
		rc = tsr_err_why(why, TSR_ERR_STATE, "no sealed CA key");
	return rc;
}

#define CERT_COLS "serial, client, not_before, not_after, sha256," \
	" issued_at, revoked_at, reason, crl_reason"

static const char sql_cert_insert[] =
    "INSERT INTO certificates (" CERT_COLS ") VALUES ($1, $2, $3::bigint,"
    " $4::bigint, $5, $6::bigint, $7::bigint, $8, $9::integer)";
static const char sql_cert_get[] =
    "SELECT " CERT_COLS " FROM certificates WHERE serial = $1";
static const char sql_cert_list[] =
    "SELECT " CERT_COLS " FROM certificates"
    " WHERE ($1::text IS NULL OR client = $1) AND not_after > $2::bigint"
    " AND ($3::bigint = 0 OR not_after <= $3::bigint)"
    " ORDER BY not_after, serial COLLATE \"C\"";
static const char sql_cert_revoke[] =
    "UPDATE certificates SET revoked_at = $2::bigint, reason = $3,"
    " crl_reason = $4::integer WHERE serial = $1 AND revoked_at IS NULL";
static const char sql_cert_revoke_client[] =
    "UPDATE certificates SET revoked_at = $2::bigint, reason = $3,"
    " crl_reason = $4::integer"
    " WHERE client = $1 AND revoked_at IS NULL AND not_after > $2::bigint";
static const char sql_cert_revoked[] =
    "SELECT serial, revoked_at, crl_reason FROM certificates"
    " WHERE revoked_at IS NOT NULL AND not_after > $1::bigint"
    " ORDER BY serial COLLATE \"C\"";
static const char sql_cert_expiring[] =
    "SELECT count(*) FROM certificates WHERE revoked_at IS NULL"
    " AND not_after > $1::bigint AND not_after <= $2::bigint";
static const char sql_cert_exists[] =
    "SELECT 1 FROM certificates WHERE serial = $1";

static enum tsr_err
read_cert(const PGresult *res, int i, void *row)
{
	struct tsr_certrow *c = row;
	int64_t crl_reason;

	memset(c, 0, sizeof(*c));
	if (!col_text(res, i, 0, c->serial, sizeof(c->serial)) ||
	    !col_text(res, i, 1, c->client, sizeof(c->client)) ||
	    !col_int(res, i, 2, &c->not_before) ||
	    !col_int(res, i, 3, &c->not_after) ||
	    !col_text(res, i, 4, c->sha256, sizeof(c->sha256)) ||
	    !col_int(res, i, 5, &c->issued_at) ||
	    !col_int(res, i, 6, &c->revoked_at) ||
	    !col_text(res, i, 7, c->reason, sizeof(c->reason)) ||
	    !col_int(res, i, 8, &crl_reason) || crl_reason < -1 ||
	    crl_reason > 10)
		return TSR_ERR_DB;
	c->crl_reason = (int)crl_reason;
	return TSR_OK;
}

static enum tsr_err
pg_cert_insert(struct tsr_store *st, const struct tsr_certrow *c,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	char b[TSR_REFUSE_SHOW_BUF];

	p_field(&p, c->serial, sizeof(c->serial));
	p_field(&p, c->client, sizeof(c->client));
	p_int(&p, c->not_before);
	p_int(&p, c->not_after);
	p_field(&p, c->sha256, sizeof(c->sha256));
	p_int(&p, c->issued_at);
	p_time(&p, c->revoked_at);
	p_field(&p, c->reason, sizeof(c->reason));
	p_int(&p, c->crl_reason);
	rc = run_write(st, sql_cert_insert, &p, "add certificate", NULL, why);
	if (rc == TSR_ERR_EXISTS)
		rc = tsr_err_why(why, rc, "certificate %s already recorded",
		    tsr_refuse_show(c->serial, b));
	return rc;
}

static enum tsr_err
pg_cert_get(struct tsr_store *st, const char *serial,
    struct tsr_certrow *out, struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;

	memset(out, 0, sizeof(*out));
	p_str(&p, serial);
	if ((rc = query(st, sql_cert_get, &p, "read certificate", &res,
	    why)) != TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 0)
		rc = tsr_refuse_no_cert(serial, why);
	else if (read_cert(res, 0, out) != TSR_OK)
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad certificate row",
		    pq(st)->label);
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
pg_cert_list(struct tsr_store *st, const char *client, int64_t after,
    int64_t before, struct tsr_certrow **out, size_t *out_n,
    struct tsr_why *why)
{
	struct params p = { 0 };
	void *rows = NULL;
	enum tsr_err rc;

	p_str(&p, client);
	p_int(&p, after);
	p_int(&p, before);
	rc = collect(st, sql_cert_list, &p, sizeof(**out), read_cert, &rows,
	    out_n, why);
	*out = rows;
	return rc;
}

/* The key, revoked_at, reason and CRL reason of a revocation. */
static enum tsr_err
p_cert_revoke(struct params *p, const char *key, int64_t at,
    const char *reason, int crl_reason, struct tsr_why *why)
{
	if (reason == NULL)
		reason = "";
	if (strlen(reason) > TSR_MAX_REASON)
		return tsr_err_why(why, TSR_ERR_TOO_LONG, "reason too long");
	p_str(p, key);
	p_int(p, at);
	p_str(p, reason);
	p_int(p, crl_reason);
	return TSR_OK;
}

static enum tsr_err
pg_cert_revoke(struct tsr_store *st, const char *serial, int64_t at,
    const char *reason, int crl_reason, bool *changed, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;
	bool found;

	if (changed != NULL)
		*changed = false;
	if ((rc = p_cert_revoke(&p, serial, at, reason, crl_reason, why)) !=
	    TSR_OK || (rc = run_write(st, sql_cert_revoke, &p,
	    "revoke certificate", &changes, why)) != TSR_OK)
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
pg_cert_revoke_client(struct tsr_store *st, const char *client, int64_t at,
    const char *reason, int crl_reason, int *count, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	if ((rc = p_cert_revoke(&p, client, at, reason, crl_reason, why)) ==
	    TSR_OK)
		rc = run_write(st, sql_cert_revoke_client, &p,
		    "revoke certificates", &changes, why);
	if (count != NULL)
		*count = rc == TSR_OK ? changes : 0;
	return rc;
}

static enum tsr_err
read_crlentry(const PGresult *res, int i, void *row)
{
	struct tsr_crlentry *e = row;
	int64_t crl_reason;

	if (!col_text(res, i, 0, e->serial, sizeof(e->serial)) ||
	    !col_int(res, i, 1, &e->revoked_at) ||
	    !col_int(res, i, 2, &crl_reason) || crl_reason < -1 ||
	    crl_reason > 10)
		return TSR_ERR_DB;
	e->crl_reason = (int)crl_reason;
	return TSR_OK;
}

static enum tsr_err
pg_cert_revoked(struct tsr_store *st, int64_t now, struct tsr_crlentry **out,
    size_t *out_n, struct tsr_why *why)
{
	struct params p = { 0 };
	void *rows = NULL;
	enum tsr_err rc;

	p_int(&p, now);
	rc = collect(st, sql_cert_revoked, &p, sizeof(**out), read_crlentry,
	    &rows, out_n, why);
	*out = rows;
	return rc;
}

static enum tsr_err
pg_cert_count_expiring(struct tsr_store *st, int64_t now, int64_t before,
    int64_t *count, struct tsr_why *why)
{
	struct params p = { 0 };
	PGresult *res;
	enum tsr_err rc;

	*count = 0;
	p_int(&p, now);
	p_int(&p, before);
	if ((rc = query(st, sql_cert_expiring, &p, "count certificates", &res,
	    why)) != TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) != 1 || !col_int(res, 0, 0, count))
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad count",
		    pq(st)->label);
	tsr_pq.clear(res);
	return rc;
}

#define ENROLL_COLS "id, client, secret_sha256, created_at, expires_at," \
	" used_at"

static const char sql_enroll_insert[] =
    "INSERT INTO enroll_tokens (" ENROLL_COLS ")"
    " VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6::bigint)";
static const char sql_enroll_live[] =
    "SELECT " ENROLL_COLS " FROM enroll_tokens WHERE client = $1"
    " AND used_at IS NULL AND expires_at > $2::bigint"
    " ORDER BY created_at, id COLLATE \"C\"";
static const char sql_enroll_use[] =
    "UPDATE enroll_tokens SET used_at = $2::bigint"
    " WHERE id = $1 AND used_at IS NULL AND expires_at > $2::bigint";
static const char sql_enroll_exists[] =
    "SELECT 1 FROM enroll_tokens WHERE id = $1";

static enum tsr_err
read_enroll(const PGresult *res, int i, void *row)
{
	struct tsr_enrollrow *e = row;

	memset(e, 0, sizeof(*e));
	if (!col_text(res, i, 0, e->id, sizeof(e->id)) ||
	    !col_text(res, i, 1, e->client, sizeof(e->client)) ||
	    !col_text(res, i, 2, e->secret_sha256, sizeof(e->secret_sha256)) ||
	    !col_int(res, i, 3, &e->created_at) ||
	    !col_int(res, i, 4, &e->expires_at) ||
	    !col_int(res, i, 5, &e->used_at))
		return TSR_ERR_DB;
	return TSR_OK;
}

static enum tsr_err
pg_enroll_insert(struct tsr_store *st, const struct tsr_enrollrow *e,
    struct tsr_why *why)
{
	struct params p = { 0 };

	p_field(&p, e->id, sizeof(e->id));
	p_field(&p, e->client, sizeof(e->client));
	p_field(&p, e->secret_sha256, sizeof(e->secret_sha256));
	p_int(&p, e->created_at);
	p_int(&p, e->expires_at);
	p_time(&p, e->used_at);
	return run_write(st, sql_enroll_insert, &p, "add enrollment secret",
	    NULL, why);
}

static enum tsr_err
pg_enroll_live(struct tsr_store *st, const char *client, int64_t now,
    struct tsr_enrollrow **out, size_t *out_n, struct tsr_why *why)
{
	struct params p = { 0 };
	void *rows = NULL;
	enum tsr_err rc;

	p_str(&p, client);
	p_int(&p, now);
	rc = collect(st, sql_enroll_live, &p, sizeof(**out), read_enroll,
	    &rows, out_n, why);
	*out = rows;
	return rc;
}

static enum tsr_err
pg_enroll_use(struct tsr_store *st, const char *id, int64_t now,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;
	bool found;

	p_str(&p, id);
	p_int(&p, now);
	rc = run_write(st, sql_enroll_use, &p, "use enrollment secret",
	    &changes, why);
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

/* The DER travels as bytea in its hex text form: \x then two digits a
 * byte. */
static const char sql_crl_get[] =
    "SELECT crl_number, this_update, der FROM crl WHERE id = 1";
static const char sql_crl_state[] =
    "SELECT crl_number, this_update FROM crl WHERE id = 1";
static const char sql_crl_put[] =
    "INSERT INTO crl (id, crl_number, this_update, der)"
    " VALUES (1, $1::bigint, $2::bigint, $3::bytea)"
    " ON CONFLICT (id) DO UPDATE SET crl_number = excluded.crl_number,"
    " this_update = excluded.this_update, der = excluded.der"
    " WHERE excluded.crl_number > crl.crl_number";

/* Largest CRL we read back (some 30 bytes an entry). */
#define CRL_MAX_DER	(64 * 1024 * 1024)

static enum tsr_err
crl_der(const PGresult *res, struct tsr_crlrow *out)
{
	unsigned char *raw;
	size_t len = 0;

	if (tsr_pq.getisnull(res, 0, 2) || (raw = tsr_pq.unescapeBytea(
	    (const unsigned char *)tsr_pq.getvalue(res, 0, 2), &len)) == NULL)
		return TSR_ERR_DB;
	if (len == 0 || len > CRL_MAX_DER ||
	    (out->der = malloc(len)) == NULL) {
		tsr_pq.freemem(raw);
		return len == 0 || len > CRL_MAX_DER ? TSR_ERR_DB :
		    TSR_ERR_NOMEM;
	}
	memcpy(out->der, raw, len);
	out->der_len = len;
	tsr_pq.freemem(raw);
	return TSR_OK;
}

static enum tsr_err
pg_crl_get(struct tsr_store *st, struct tsr_crlrow *out, struct tsr_why *why)
{
	PGresult *res;
	enum tsr_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = query(st, sql_crl_get, NULL, "read CRL", &res, why)) !=
	    TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 0)
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND, "no CRL yet");
	else if (!col_int(res, 0, 0, &out->number) ||
	    !col_int(res, 0, 1, &out->this_update) ||
	    (rc = crl_der(res, out)) != TSR_OK)
		rc = tsr_err_why(why, rc == TSR_ERR_NOMEM ? rc : TSR_ERR_DB,
		    "%s: bad CRL row", pq(st)->label);
	tsr_pq.clear(res);
	return rc;
}

static enum tsr_err
pg_crl_state(struct tsr_store *st, int64_t *number, int64_t *this_update,
    struct tsr_why *why)
{
	PGresult *res;
	enum tsr_err rc;

	*number = *this_update = 0;
	if ((rc = query(st, sql_crl_state, NULL, "read CRL", &res, why)) !=
	    TSR_OK)
		return rc;
	if (tsr_pq.ntuples(res) == 1 && (!col_int(res, 0, 0, number) ||
	    !col_int(res, 0, 1, this_update)))
		rc = tsr_err_why(why, TSR_ERR_DB, "%s: bad CRL row",
		    pq(st)->label);
	tsr_pq.clear(res);
	return rc;
}

/* der as bytea's hex text: "\x" and two digits a byte. */
static char *
bytea_hex(const uint8_t *der, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *hex;
	size_t i;

	if ((hex = malloc(2 * len + 3)) == NULL)
		return NULL;
	hex[0] = '\\';
	hex[1] = 'x';
	for (i = 0; i < len; i++) {
		hex[2 + 2 * i] = digits[der[i] >> 4];
		hex[3 + 2 * i] = digits[der[i] & 0xf];
	}
	hex[2 + 2 * len] = '\0';
	return hex;
}

static enum tsr_err
pg_crl_put(struct tsr_store *st, int64_t number, int64_t this_update,
    const uint8_t *der, size_t der_len, struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;
	char *hex;

	if (der_len == 0 || der_len > CRL_MAX_DER)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad CRL size");
	if ((hex = bytea_hex(der, der_len)) == NULL)
		return tsr_err_why(why, TSR_ERR_NOMEM, "CRL");
	p_int(&p, number);
	p_int(&p, this_update);
	p_str(&p, hex);
	rc = run_write(st, sql_crl_put, &p, "write CRL", &changes, why);
	free(hex);
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
    "INSERT INTO audit_events (" AUDIT_COLS ") VALUES ($1::bigint,"
    " $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::bigint)";
/* NULL parameters do not filter. */
static const char sql_audit_list[] =
    "SELECT " AUDIT_COLS " FROM audit_events"
    " WHERE at >= $1::bigint AND ($2::text IS NULL OR client = $2)"
    " AND ($3::text IS NULL OR audience = $3)"
    " AND ($4::text IS NULL OR outcome = $4)"
    " ORDER BY at DESC, id DESC LIMIT $5::bigint";
static const char sql_audit_purge[] =
    "DELETE FROM audit_events WHERE at < $1::bigint";
/* Rows get ever larger ids, and purges take the oldest: the newest
 * max_rows are those within max_rows of the largest id. */
static const char sql_audit_trim[] =
    "DELETE FROM audit_events"
    " WHERE id <= (SELECT max(id) FROM audit_events) - $1::bigint";

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
audit_insert(struct tsr_store *st, const struct tsr_audit_event *e,
    struct tsr_why *why)
{
	struct params p = { 0 };
	const char *f[12];
	size_t sz[12];
	int i;

	audit_fields(e, f, sz);
	p_int(&p, e->at);
	for (i = 0; i < 12; i++)
		p_opt_field(&p, f[i], sz[i]);
	p_int(&p, e->count > 1 ? e->count : 1);
	return run_write(st, sql_audit_add, &p, "write audit event", NULL,
	    why);
}

/* Events only add rows: their transaction needs no write lock. */
static enum tsr_err
pg_audit_add(struct tsr_store *st, const struct tsr_audit_event *evs,
    size_t n, struct tsr_why *why)
{
	enum tsr_err rc;
	size_t i;

	if ((rc = exec(st, "BEGIN", "begin transaction", why)) != TSR_OK)
		return rc;
	for (i = 0; i < n && rc == TSR_OK; i++)
		rc = audit_insert(st, &evs[i], why);
	if (rc == TSR_OK)
		return pg_commit(st, why);
	pg_rollback(st);
	return rc;
}

static enum tsr_err
read_audit(const PGresult *res, int i, void *row)
{
	struct tsr_audit_event *e = row;
	char *f[12];
	const char *cf[12];
	size_t sz[12];
	int c;

	memset(e, 0, sizeof(*e));
	audit_fields(e, cf, sz);
	memcpy(f, cf, sizeof(f));	/* the same fields, writable */
	if (!col_int(res, i, 0, &e->at))
		return TSR_ERR_DB;
	for (c = 0; c < 12; c++)
		if (!col_opt_text(res, i, c + 1, f[c], sz[c]))
			return TSR_ERR_DB;
	if (!col_int(res, i, 13, &e->count))
		return TSR_ERR_DB;
	return TSR_OK;
}

static enum tsr_err
pg_audit_list(struct tsr_store *st, const struct tsr_audit_filter *f,
    struct tsr_audit_event **out, size_t *out_n, struct tsr_why *why)
{
	struct params p = { 0 };
	void *rows = NULL;
	enum tsr_err rc;

	p_int(&p, f->since);
	p_str(&p, f->client);
	p_str(&p, f->audience);
	p_str(&p, f->outcome);
	p_int(&p, f->limit && f->limit <= INT64_MAX ? (int64_t)f->limit :
	    AUDIT_DEFAULT_LIMIT);
	rc = collect(st, sql_audit_list, &p, sizeof(**out), read_audit, &rows,
	    out_n, why);
	*out = rows;
	return rc;
}

static enum tsr_err
pg_audit_purge(struct tsr_store *st, int64_t before, int *purged,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	p_int(&p, before);
	rc = run_write(st, sql_audit_purge, &p, "purge audit events",
	    &changes, why);
	if (purged != NULL)
		*purged = rc == TSR_OK ? changes : 0;
	return rc;
}

static enum tsr_err
pg_audit_trim(struct tsr_store *st, int64_t max_rows, int64_t *trimmed,
    struct tsr_why *why)
{
	struct params p = { 0 };
	enum tsr_err rc;
	int changes = 0;

	if (trimmed != NULL)
		*trimmed = 0;
	if (max_rows < 1)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "audit cap must be at least 1 row");
	p_int(&p, max_rows);
	rc = run_write(st, sql_audit_trim, &p, "trim audit events", &changes,
	    why);
	if (rc == TSR_OK && trimmed != NULL)
		*trimmed = changes;
	return rc;
}

/* --- change notification ------------------------------------------ */

/*
 * The migrations' triggers send NOTIFY tessera with the name of the
 * counter they bump ('policy', 'keys', 'revocations') in the writer's
 * own transaction: it arrives at commit, never for a rollback.
 */
static enum tsr_err
pg_listen(struct tsr_store *st, int *fd, struct tsr_why *why)
{
	enum tsr_err rc;

	*fd = -1;
	if ((rc = exec(st, "LISTEN tessera", "listen", why)) != TSR_OK)
		return rc;
	if ((*fd = tsr_pq.socket(pq(st)->conn)) < 0)
		return tsr_err_why(why, TSR_ERR_DB, "%s: listen: no socket",
		    pq(st)->label);
	return TSR_OK;
}

static unsigned
notify_area(const char *payload)
{
	if (strcmp(payload, "policy") == 0)
		return TSR_STORE_AREA_POLICY;
	if (strcmp(payload, "keys") == 0)
		return TSR_STORE_AREA_KEYS;
	if (strcmp(payload, "revocations") == 0)
		return TSR_STORE_AREA_REVOCATIONS;
	if (strcmp(payload, "certs") == 0)
		return TSR_STORE_AREA_CERTS;
	return TSR_STORE_AREA_ALL;	/* a newer writer: reload it all */
}

static enum tsr_err
pg_listen_drain(struct tsr_store *st, unsigned *areas, struct tsr_why *why)
{
	PGconn *c = pq(st)->conn;
	PGnotify *n;

	*areas = 0;
	/* Reads what the socket holds without blocking; a closed
	 * connection (server gone, backend terminated) fails here. */
	if (tsr_pq.consumeInput(c) == 0 || tsr_pq.status(c) != CONNECTION_OK)
		return db_err(st, NULL, "listen", why);
	while ((n = tsr_pq.notifies(c)) != NULL) {
		*areas |= notify_area(n->extra);
		tsr_pq.freemem(n);
	}
	return TSR_OK;
}

const struct tsr_store_ops tsr_store_postgresql_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.migrate = pg_migrate,
	.schema_version = pg_schema_version,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.generations = pg_generations,
	.setting_get = pg_setting_get,
	.setting_set = pg_setting_set,
	.setting_raise = pg_setting_raise,
	.client_insert = pg_client_insert,
	.client_get = pg_client_get,
	.client_list = pg_client_list,
	.client_update = pg_client_update,
	.client_delete = pg_client_delete,
	.grant_insert = pg_grant_insert,
	.grant_update = pg_grant_update,
	.grant_list = pg_grant_list,
	.grant_delete = pg_grant_delete,
	.key_insert = pg_key_insert,
	.key_get = pg_key_get,
	.key_list = pg_key_list,
	.key_transition = pg_key_transition,
	.key_secret_put = pg_key_secret_put,
	.key_secret_get = pg_key_secret_get,
	.key_secret_delete = pg_key_secret_delete,
	.revocation_add = pg_revocation_add,
	.revocation_list = pg_revocation_list,
	.revocation_purge = pg_revocation_purge,
	.audit_add = pg_audit_add,
	.audit_list = pg_audit_list,
	.audit_purge = pg_audit_purge,
	.audit_trim = pg_audit_trim,
	.ca_get = pg_ca_get,
	.ca_insert = pg_ca_insert,
	.ca_reseal = pg_ca_reseal,
	.cert_insert = pg_cert_insert,
	.cert_get = pg_cert_get,
	.cert_list = pg_cert_list,
	.cert_revoke = pg_cert_revoke,
	.cert_revoke_client = pg_cert_revoke_client,
	.cert_revoked = pg_cert_revoked,
	.cert_count_expiring = pg_cert_count_expiring,
	.enroll_insert = pg_enroll_insert,
	.enroll_live = pg_enroll_live,
	.enroll_use = pg_enroll_use,
	.crl_get = pg_crl_get,
	.crl_state = pg_crl_state,
	.crl_put = pg_crl_put,
	.listen = pg_listen,
	.listen_drain = pg_listen_drain,
};
