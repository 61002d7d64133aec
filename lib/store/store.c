/*
 * store: picks the engine from the DSN and dispatches to it.  A DSN that
 * begins with "scheme://" names a server; anything else is an SQLite
 * file path.  An open refused here names the scheme only, never the
 * rest of the URI: it may hold a password.
 */
#include "store/store.h"

#include <stddef.h>
#include <string.h>

#include "backend.h"
#include "fault.h"

/* The engines named by a URI scheme; NULL ops: not in this build. */
static const struct {
	const char			*scheme;
	const char			*engine;
	const struct tsr_store_ops	*ops;
} engines[] = {
#ifdef TSR_HAVE_POSTGRESQL
	{ "postgresql",	"PostgreSQL",	&tsr_store_postgresql_ops },
	{ "postgres",	"PostgreSQL",	&tsr_store_postgresql_ops },
#else
	{ "postgresql",	"PostgreSQL",	NULL },
	{ "postgres",	"PostgreSQL",	NULL },
#endif
};

/* A test build can take the store away (fault.h): every operation then
 * fails as an unreachable database would. */
static bool
faulted(struct tsr_why *why)
{
	if (!tsr_fault_store_down())
		return false;
	(void)tsr_err_why(why, TSR_ERR_DB, "database unreachable "
	    "(test fault)");
	return true;
}

/* Length of dsn's URI scheme when it begins with "scheme://", else 0. */
static size_t
scheme_len(const char *dsn)
{
	size_t n = 0;

	while ((dsn[n] >= 'a' && dsn[n] <= 'z') || (n > 0 &&
	    ((dsn[n] >= '0' && dsn[n] <= '9') || dsn[n] == '+' ||
	    dsn[n] == '-' || dsn[n] == '.')))
		n++;
	return n > 0 && strncmp(dsn + n, "://", 3) == 0 ? n : 0;
}

enum tsr_err
tsr_store_open(const char *dsn, struct tsr_store **out, struct tsr_why *why)
{
	size_t i, n;

	*out = NULL;
	if (dsn == NULL || *dsn == '\0')
		return tsr_err_why(why, TSR_ERR_INVALID, "no database path");
	if (faulted(why))
		return TSR_ERR_DB;
	if ((n = scheme_len(dsn)) == 0)
		return tsr_store_sqlite_ops.open(dsn, out, why);
	for (i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		if (strlen(engines[i].scheme) != n ||
		    strncmp(dsn, engines[i].scheme, n) != 0)
			continue;
		if (engines[i].ops == NULL)
			return tsr_err_why(why, TSR_ERR_INVALID,
			    "%s support is not built in", engines[i].engine);
		return engines[i].ops->open(dsn, out, why);
	}
	return tsr_err_why(why, TSR_ERR_INVALID, "unknown database URI "
	    "scheme \"%.*s\"", (int)n, dsn);
}

bool
tsr_store_dsn_is_server(const char *dsn)
{
	return dsn != NULL && scheme_len(dsn) > 0;
}

void
tsr_store_close(struct tsr_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

void
tsr_store_rollback(struct tsr_store *st)
{
	if (st != NULL)
		st->ops->rollback(st);
}

enum tsr_err
tsr_store_migrate(struct tsr_store *st, int *applied, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->migrate(st, applied, why);
}

enum tsr_err
tsr_store_schema_version(struct tsr_store *st, int *current, int *latest,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->schema_version(st, current, latest, why);
}

enum tsr_err
tsr_store_begin(struct tsr_store *st, int flags, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->begin(st, flags, why);
}

enum tsr_err
tsr_store_commit(struct tsr_store *st, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->commit(st, why);
}

enum tsr_err
tsr_store_generations(struct tsr_store *st, struct tsr_store_gens *out,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->generations(st, out, why);
}

enum tsr_err
tsr_store_setting_get(struct tsr_store *st, const char *name, int64_t *value,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->setting_get(st, name, value, why);
}

enum tsr_err
tsr_store_setting_set(struct tsr_store *st, const char *name, int64_t value,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->setting_set(st, name, value, why);
}

enum tsr_err
tsr_store_setting_raise(struct tsr_store *st, const char *name, int64_t value,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->setting_raise(st, name, value, why);
}

enum tsr_err
tsr_store_client_insert(struct tsr_store *st, const struct tsr_client *c,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->client_insert(st, c, why);
}

enum tsr_err
tsr_store_client_get(struct tsr_store *st, const char *name,
    struct tsr_client *out, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->client_get(st, name, out, why);
}

enum tsr_err
tsr_store_client_list(struct tsr_store *st, struct tsr_client **out,
    size_t *out_n, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->client_list(st, out, out_n, why);
}

enum tsr_err
tsr_store_client_update(struct tsr_store *st, const struct tsr_client *c,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->client_update(st, c, why);
}

enum tsr_err
tsr_store_client_delete(struct tsr_store *st, const char *name,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->client_delete(st, name, why);
}

enum tsr_err
tsr_store_grant_insert(struct tsr_store *st, const struct tsr_grant *g,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->grant_insert(st, g, why);
}

enum tsr_err
tsr_store_grant_update(struct tsr_store *st, const struct tsr_grant *g,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->grant_update(st, g, why);
}

enum tsr_err
tsr_store_grant_list(struct tsr_store *st, const char *client,
    const char *audience, struct tsr_grant **out, size_t *out_n,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->grant_list(st, client, audience, out, out_n, why);
}

enum tsr_err
tsr_store_grant_delete(struct tsr_store *st, const char *client,
    const char *audience, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->grant_delete(st, client, audience, why);
}

enum tsr_err
tsr_store_key_insert(struct tsr_store *st, const struct tsr_keyrow *k,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->key_insert(st, k, why);
}

enum tsr_err
tsr_store_key_get(struct tsr_store *st, const char *kid,
    struct tsr_keyrow *out, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->key_get(st, kid, out, why);
}

enum tsr_err
tsr_store_key_list(struct tsr_store *st, struct tsr_keyrow **out,
    size_t *out_n, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->key_list(st, out, out_n, why);
}

enum tsr_err
tsr_store_key_transition(struct tsr_store *st, const char *kid,
    enum tsr_keystate from, enum tsr_keystate to, int64_t activated_at,
    int64_t retired_at, int64_t expires_at, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->key_transition(st, kid, from, to, activated_at,
	    retired_at, expires_at, why);
}

enum tsr_err
tsr_store_key_secret_put(struct tsr_store *st, const char *kid,
    const char *sealed, int64_t sealed_at, struct tsr_why *why)
{
	return st->ops->key_secret_put(st, kid, sealed, sealed_at, why);
}

enum tsr_err
tsr_store_key_secret_get(struct tsr_store *st, const char *kid, char **sealed,
    struct tsr_why *why)
{
	return st->ops->key_secret_get(st, kid, sealed, why);
}

enum tsr_err
tsr_store_key_secret_delete(struct tsr_store *st, const char *kid,
    bool *deleted, struct tsr_why *why)
{
	return st->ops->key_secret_delete(st, kid, deleted, why);
}

enum tsr_err
tsr_store_revocation_add(struct tsr_store *st, const struct tsr_revocation *r,
    bool *added, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->revocation_add(st, r, added, why);
}

enum tsr_err
tsr_store_revocation_list(struct tsr_store *st, int64_t now,
    struct tsr_revocation **out, size_t *out_n, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->revocation_list(st, now, out, out_n, why);
}

enum tsr_err
tsr_store_revocation_purge(struct tsr_store *st, int64_t now, int *purged,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->revocation_purge(st, now, purged, why);
}

enum tsr_err
tsr_store_audit_add(struct tsr_store *st, const struct tsr_audit_event *evs,
    size_t n, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->audit_add(st, evs, n, why);
}

enum tsr_err
tsr_store_audit_list(struct tsr_store *st, const struct tsr_audit_filter *f,
    struct tsr_audit_event **out, size_t *out_n, struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->audit_list(st, f, out, out_n, why);
}

enum tsr_err
tsr_store_audit_purge(struct tsr_store *st, int64_t before, int *purged,
    struct tsr_why *why)
{
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->audit_purge(st, before, purged, why);
}

enum tsr_err
tsr_store_listen(struct tsr_store *st, int *fd, struct tsr_why *why)
{
	*fd = -1;
	if (st->ops->listen == NULL)
		return tsr_err_why(why, TSR_ERR_STATE, "the %s store does not "
		    "notify changes", st->ops->name);
	return faulted(why) ? TSR_ERR_DB : st->ops->listen(st, fd, why);
}

enum tsr_err
tsr_store_listen_drain(struct tsr_store *st, unsigned *areas,
    struct tsr_why *why)
{
	*areas = 0;
	if (st->ops->listen_drain == NULL)
		return tsr_err_why(why, TSR_ERR_STATE, "the %s store does not "
		    "notify changes", st->ops->name);
	return faulted(why) ? TSR_ERR_DB :
	    st->ops->listen_drain(st, areas, why);
}

enum tsr_err
tsr_store_audit_trim(struct tsr_store *st, int64_t max_rows,
    int64_t *trimmed, struct tsr_why *why)
{
	return st->ops->audit_trim(st, max_rows, trimmed, why);
}

enum tsr_err
tsr_store_ca_get(
    struct tsr_store *st, struct tsr_carow *out, struct tsr_why *why)
{
	return st->ops->ca_get(st, out, why);
}

enum tsr_err
tsr_store_ca_insert(
    struct tsr_store *st, const struct tsr_carow *ca, struct tsr_why *why)
{
	return st->ops->ca_insert(st, ca, why);
}

enum tsr_err
tsr_store_cert_insert(
    struct tsr_store *st, const struct tsr_certrow *c, struct tsr_why *why)
{
	return st->ops->cert_insert(st, c, why);
}

enum tsr_err
tsr_store_cert_get(struct tsr_store *st, const char *serial,
    struct tsr_certrow *out, struct tsr_why *why)
{
	return st->ops->cert_get(st, serial, out, why);
}

enum tsr_err
tsr_store_cert_list(struct tsr_store *st, const char *client, int64_t after,
    int64_t before, struct tsr_certrow **out, size_t *out_n,
    struct tsr_why *why)
{
	return st->ops->cert_list(st, client, after, before, out, out_n, why);
}

enum tsr_err
tsr_store_cert_revoke(struct tsr_store *st, const char *serial, int64_t at,
    const char *reason, int crl_reason, bool *changed, struct tsr_why *why)
{
	return st->ops->cert_revoke(
	    st, serial, at, reason, crl_reason, changed, why);
}

enum tsr_err
tsr_store_cert_revoke_client(struct tsr_store *st, const char *client,
    int64_t at, const char *reason, int crl_reason, int *count,
    struct tsr_why *why)
{
	return st->ops->cert_revoke_client(
	    st, client, at, reason, crl_reason, count, why);
}

enum tsr_err
tsr_store_cert_revoked(struct tsr_store *st, int64_t now,
    struct tsr_crlentry **out, size_t *out_n, struct tsr_why *why)
{
	return st->ops->cert_revoked(st, now, out, out_n, why);
}

enum tsr_err
tsr_store_cert_count_expiring(struct tsr_store *st, int64_t now, int64_t before,
    int64_t *count, struct tsr_why *why)
{
	return st->ops->cert_count_expiring(st, now, before, count, why);
}

enum tsr_err
tsr_store_enroll_insert(
    struct tsr_store *st, const struct tsr_enrollrow *e, struct tsr_why *why)
{
	return st->ops->enroll_insert(st, e, why);
}

enum tsr_err
tsr_store_enroll_live(struct tsr_store *st, const char *client, int64_t now,
    struct tsr_enrollrow **out, size_t *out_n, struct tsr_why *why)
{
	return st->ops->enroll_live(st, client, now, out, out_n, why);
}

enum tsr_err
tsr_store_enroll_use(
    struct tsr_store *st, const char *id, int64_t now, struct tsr_why *why)
{
	return st->ops->enroll_use(st, id, now, why);
}

enum tsr_err
tsr_store_crl_get(
    struct tsr_store *st, struct tsr_crlrow *out, struct tsr_why *why)
{
	return st->ops->crl_get(st, out, why);
}

enum tsr_err
tsr_store_crl_put(struct tsr_store *st, int64_t number, int64_t this_update,
    const uint8_t *der, size_t der_len, struct tsr_why *why)
{
	return st->ops->crl_put(st, number, this_update, der, der_len, why);
}

enum tsr_err
tsr_store_crl_state(struct tsr_store *st, int64_t *number,
    int64_t *this_update, struct tsr_why *why)
{
	return st->ops->crl_state(st, number, this_update, why);
}
