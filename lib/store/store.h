/*
 * store: where tessera keeps its policy, keys, revocations and audit
 * trail.  The engine is chosen by the DSN given to tsr_store_open: a file
 * path is an SQLite database (lib/store/sqlite.c); a postgresql:// URI
 * names a PostgreSQL server.  Each engine fills in the operations table
 * of backend.h; this header is all the rest of tessera sees.
 *
 * A struct tsr_store is one connection and must be used by one thread at a
 * time.  Writers in other processes are waited for (busy timeout).
 * Row structs (model.h) are plain values; lists are malloc'd arrays the
 * caller free()s.  Validation of names, CNs and scopes is the caller's
 * (see policy.h); the store enforces uniqueness and references and
 * reports them as TSR_ERR_EXISTS and TSR_ERR_NOT_FOUND.
 */
#ifndef TSR_STORE_H
#define TSR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"

#define TSR_STORE_BUSY_TIMEOUT_MS	5000

struct tsr_store;

/* What a transaction does: a write transaction takes the write lock when
 * it begins, so a read-then-write cannot fail half-way on a lock. */
#define TSR_TX_READ	0x1
#define TSR_TX_WRITE	0x2

/* Every change counter at once (see tsr_store_generations). */
struct tsr_store_gens {
	int64_t	policy;		/* clients, grants */
	int64_t	keys;		/* signing keys */
	int64_t	revocations;	/* the deny-list */
	int64_t	certs;		/* the CA, certificate revocations, CRL */
};

/*
 * Open the store named by dsn: a file path (created if absent) for
 * SQLite, or a postgresql:// (postgres://) URI.  Checks that the store is
 * readable.  Does not migrate.  TSR_ERR_INVALID for an empty DSN or an
 * engine this build lacks; TSR_ERR_DB with a line naming the store.
 */
TSR_MUST_CHECK enum tsr_err tsr_store_open(const char *dsn,
    struct tsr_store **out, struct tsr_why *why);

/* NULL-safe. */
void tsr_store_close(struct tsr_store *st);

/* Whether dsn names a database server (a URI) that several hosts may
 * share, rather than a local file: their private keys must be sealed
 * in it, since they share no disk. */
bool tsr_store_dsn_is_server(const char *dsn);

/*
 * Apply the pending embedded migrations in order, each in one
 * transaction, recording them in schema_migrations.  *applied (may be
 * NULL) gets how many ran.  TSR_ERR_DB_NEWER when the database holds a
 * migration this program does not know; nothing is changed then.
 */
TSR_MUST_CHECK enum tsr_err tsr_store_migrate(struct tsr_store *st,
    int *applied, struct tsr_why *why);

/* Highest applied migration and the highest this program embeds. */
TSR_MUST_CHECK enum tsr_err tsr_store_schema_version(struct tsr_store *st,
    int *current, int *latest, struct tsr_why *why);

/*
 * Begin a transaction; flags is TSR_TX_READ, TSR_TX_WRITE or both.  A
 * transaction that may write says TSR_TX_WRITE.  Rollback is safe to call
 * when no transaction is open.
 */
TSR_MUST_CHECK enum tsr_err tsr_store_begin(struct tsr_store *st, int flags,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_commit(struct tsr_store *st,
    struct tsr_why *why);
void tsr_store_rollback(struct tsr_store *st);

/*
 * Change counters, bumped on every write to the policy (clients, grants),
 * the signing keys and the deny-list.  A reader polls them to see,
 * cheaply, whether it must reload.
 */
TSR_MUST_CHECK enum tsr_err tsr_store_generations(struct tsr_store *st,
    struct tsr_store_gens *out, struct tsr_why *why);

/*
 * Change notification, for engines that push changes (PostgreSQL's
 * LISTEN/NOTIFY).  tsr_store_listen turns st into a listening
 * connection (give it one of its own): *fd becomes readable whenever a
 * write to the policy, the keys, the deny-list or the CA has been
 * committed, by any process.  TSR_ERR_STATE when the engine cannot (SQLite: poll the
 * generations instead).  tsr_store_listen_drain never blocks: *areas gets
 * the TSR_STORE_AREA_* bits of what changed since the last drain (0 for
 * nothing); TSR_ERR_DB when the connection is lost, after which the
 * caller opens a new one, listens again and reloads everything, since
 * notifications sent meanwhile are gone.
 */
#define TSR_STORE_AREA_POLICY		0x1
#define TSR_STORE_AREA_KEYS		0x2
#define TSR_STORE_AREA_REVOCATIONS	0x4
#define TSR_STORE_AREA_CERTS		0x8
#define TSR_STORE_AREA_ALL		0xf
TSR_MUST_CHECK enum tsr_err tsr_store_listen(struct tsr_store *st, int *fd,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_listen_drain(struct tsr_store *st,
    unsigned *areas, struct tsr_why *why);

/* Settings: small integer values by name (e.g. "retire_window_s"). */
TSR_MUST_CHECK enum tsr_err tsr_store_setting_get(struct tsr_store *st,
    const char *name, int64_t *value, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_setting_set(struct tsr_store *st,
    const char *name, int64_t value, struct tsr_why *why);
/* Set name to value unless it already holds a larger one: for limits
 * that must cover every server sharing the store. */
TSR_MUST_CHECK enum tsr_err tsr_store_setting_raise(struct tsr_store *st,
    const char *name, int64_t value, struct tsr_why *why);

/* Clients.  EXISTS for a taken name or CN, NOT_FOUND for an unknown one. */
TSR_MUST_CHECK enum tsr_err tsr_store_client_insert(struct tsr_store *st,
    const struct tsr_client *c, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_client_get(struct tsr_store *st,
    const char *name, struct tsr_client *out, struct tsr_why *why);
/* Sorted by name. */
TSR_MUST_CHECK enum tsr_err tsr_store_client_list(struct tsr_store *st,
    struct tsr_client **out, size_t *out_n, struct tsr_why *why);
/* Rewrites cn, description, enabled and updated_at of the named row. */
TSR_MUST_CHECK enum tsr_err tsr_store_client_update(struct tsr_store *st,
    const struct tsr_client *c, struct tsr_why *why);
/* Removes the client and its grants. */
TSR_MUST_CHECK enum tsr_err tsr_store_client_delete(struct tsr_store *st,
    const char *name, struct tsr_why *why);

/* Grants.  insert: NOT_FOUND for an unknown client, EXISTS for a taken
 * (client, audience). */
TSR_MUST_CHECK enum tsr_err tsr_store_grant_insert(struct tsr_store *st,
    const struct tsr_grant *g, struct tsr_why *why);
/* Rewrites scopes and ttl_s of (client, audience). */
TSR_MUST_CHECK enum tsr_err tsr_store_grant_update(struct tsr_store *st,
    const struct tsr_grant *g, struct tsr_why *why);
/* client and audience filters may be NULL; sorted by client, audience. */
TSR_MUST_CHECK enum tsr_err tsr_store_grant_list(struct tsr_store *st,
    const char *client, const char *audience, struct tsr_grant **out,
    size_t *out_n, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_grant_delete(struct tsr_store *st,
    const char *client, const char *audience, struct tsr_why *why);

/* Signing key rows.  insert: EXISTS for a known kid. */
TSR_MUST_CHECK enum tsr_err tsr_store_key_insert(struct tsr_store *st,
    const struct tsr_keyrow *k, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_key_get(struct tsr_store *st,
    const char *kid, struct tsr_keyrow *out, struct tsr_why *why);
/* Sorted by created_at, then kid. */
TSR_MUST_CHECK enum tsr_err tsr_store_key_list(struct tsr_store *st,
    struct tsr_keyrow **out, size_t *out_n, struct tsr_why *why);
/*
 * Move kid from state `from` to `to`, setting the timestamps of k that are
 * non-zero (activated_at, retired_at, expires_at).  TSR_ERR_CONFLICT when
 * the row is not in state `from` (someone else moved it first),
 * NOT_FOUND when there is no such kid.  The schema allows one active key.
 */
TSR_MUST_CHECK enum tsr_err tsr_store_key_transition(struct tsr_store *st,
    const char *kid, enum tsr_keystate from, enum tsr_keystate to,
    int64_t activated_at, int64_t retired_at, int64_t expires_at,
    struct tsr_why *why);

/*
 * Sealed private keys (lib/seal.h): text that is never a key in clear.
 * put: add or replace kid's sealed key; NOT_FOUND when there is no
 * signing key kid, INVALID for text that is not sealed.  get: *sealed is
 * malloc'd, NOT_FOUND when kid has none.  delete: *deleted (may be NULL)
 * says whether there was one; none is not an error.
 */
TSR_MUST_CHECK enum tsr_err tsr_store_key_secret_put(struct tsr_store *st,
    const char *kid, const char *sealed, int64_t sealed_at,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_key_secret_get(struct tsr_store *st,
    const char *kid, char **sealed, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_store_key_secret_delete(struct tsr_store *st,
    const char *kid, bool *deleted, struct tsr_why *why);

/* --- the deny-list ------------------------------------------------- */

/* Add an entry.  A jti already on the list is left as it is: *added
 * (may be NULL) says whether a row was written. */
TSR_MUST_CHECK enum tsr_err tsr_store_revocation_add(struct tsr_store *st,
    const struct tsr_revocation *r, bool *added, struct tsr_why *why);

/* The entries still live at now (expires_at > now), oldest first. */
TSR_MUST_CHECK enum tsr_err tsr_store_revocation_list(struct tsr_store *st,
    int64_t now, struct tsr_revocation **out, size_t *out_n,
    struct tsr_why *why);

/* Drop entries with expires_at <= now; *purged (may be NULL) counts. */
TSR_MUST_CHECK enum tsr_err tsr_store_revocation_purge(struct tsr_store *st,
    int64_t now, int *purged, struct tsr_why *why);

/* --- the certificate authority (README, "Service certificates") -- */

/* The CA row; NOT_FOUND when no CA was created. */
TSR_MUST_CHECK enum tsr_err tsr_store_ca_get(struct tsr_store *st,
    struct tsr_carow *out, struct tsr_why *why);

/* EXISTS when the store already has a CA. */
TSR_MUST_CHECK enum tsr_err tsr_store_ca_insert(struct tsr_store *st,
    const struct tsr_carow *ca, struct tsr_why *why);

/* Record an issued certificate.  EXISTS for a known serial. */
TSR_MUST_CHECK enum tsr_err tsr_store_cert_insert(struct tsr_store *st,
    const struct tsr_certrow *c, struct tsr_why *why);

/* NOT_FOUND for an unknown serial. */
TSR_MUST_CHECK enum tsr_err tsr_store_cert_get(struct tsr_store *st,
    const char *serial, struct tsr_certrow *out, struct tsr_why *why);

/* Certificates with after < not_after and, when before != 0,
 * not_after <= before; client may be NULL.  Sorted by not_after, serial. */
TSR_MUST_CHECK enum tsr_err tsr_store_cert_list(struct tsr_store *st,
    const char *client, int64_t after, int64_t before,
    struct tsr_certrow **out, size_t *out_n, struct tsr_why *why);

/* Revoke one certificate; *changed (may be NULL) is false when it was
 * already revoked.  NOT_FOUND for an unknown serial. */
TSR_MUST_CHECK enum tsr_err tsr_store_cert_revoke(struct tsr_store *st,
    const char *serial, int64_t at, const char *reason,
    int crl_reason, bool *changed, struct tsr_why *why);

/* Revoke every unrevoked certificate of client not expired at `at`;
 * *count (may be NULL) says how many. */
TSR_MUST_CHECK enum tsr_err tsr_store_cert_revoke_client(struct tsr_store *st,
    const char *client, int64_t at,
    const char *reason, int crl_reason, int *count, struct tsr_why *why);

/* The CRL's entries: revoked certificates with not_after > now, sorted
 * by serial. */
TSR_MUST_CHECK enum tsr_err tsr_store_cert_revoked(struct tsr_store *st,
    int64_t now, struct tsr_crlentry **out,
    size_t *out_n, struct tsr_why *why);

/* Unrevoked certificates with now < not_after <= before. */
TSR_MUST_CHECK enum tsr_err tsr_store_cert_count_expiring(struct tsr_store *st,
    int64_t now, int64_t before,
    int64_t *count, struct tsr_why *why);

/* Record an enrollment secret (its hash).  EXISTS for a known id. */
TSR_MUST_CHECK enum tsr_err tsr_store_enroll_insert(struct tsr_store *st,
    const struct tsr_enrollrow *e, struct tsr_why *why);

/* The unused enrollment secrets of client that expire after now. */
TSR_MUST_CHECK enum tsr_err tsr_store_enroll_live(struct tsr_store *st,
    const char *client, int64_t now,
    struct tsr_enrollrow **out, size_t *out_n, struct tsr_why *why);

/* Spend the secret id: CONFLICT when it is used or expired at now
 * (someone spent it first), NOT_FOUND when unknown. */
TSR_MUST_CHECK enum tsr_err tsr_store_enroll_use(struct tsr_store *st,
    const char *id, int64_t now, struct tsr_why *why);

/* The current CRL (free out->der); NOT_FOUND before the first. */
TSR_MUST_CHECK enum tsr_err tsr_store_crl_get(struct tsr_store *st,
    struct tsr_crlrow *out, struct tsr_why *why);

/* The current CRL's number and thisUpdate, without its DER (0 and 0
 * before the first). */
TSR_MUST_CHECK enum tsr_err tsr_store_crl_state(struct tsr_store *st,
    int64_t *number, int64_t *this_update, struct tsr_why *why);

/* Replace the CRL by a newer one: CONFLICT unless number is larger than
 * the current CRL's (another writer won). */
TSR_MUST_CHECK enum tsr_err tsr_store_crl_put(struct tsr_store *st,
    int64_t number, int64_t this_update,
    const uint8_t *der, size_t der_len, struct tsr_why *why);

/* --- the audit trail ---------------------------------------------- */

struct tsr_audit_event;		/* audit.h */

/* Which events to list; NULL or 0 members do not filter. */
struct tsr_audit_filter {
	int64_t		 since;		/* at >= since */
	const char	*client;
	const char	*audience;
	const char	*outcome;
	size_t		 limit;		/* newest first; 0 = 100 */
};

/* Write n events in one transaction. */
TSR_MUST_CHECK enum tsr_err tsr_store_audit_add(struct tsr_store *st,
    const struct tsr_audit_event *evs, size_t n, struct tsr_why *why);

/* Matching events, newest first; free(*out). */
TSR_MUST_CHECK enum tsr_err tsr_store_audit_list(struct tsr_store *st,
    const struct tsr_audit_filter *f, struct tsr_audit_event **out,
    size_t *out_n, struct tsr_why *why);

/* Delete events older than before; *purged (may be NULL) counts. */
TSR_MUST_CHECK enum tsr_err tsr_store_audit_purge(struct tsr_store *st,
    int64_t before, int *purged, struct tsr_why *why);

/* Keep the max_rows newest rows (by insertion order), deleting the
 * others; *trimmed (may be NULL) counts them.  Cheap when under the cap. */
TSR_MUST_CHECK enum tsr_err tsr_store_audit_trim(struct tsr_store *st,
    int64_t max_rows, int64_t *trimmed, struct tsr_why *why);

#endif
