/*
 * backend: what a storage engine provides.  Each engine (sqlite.c,
 * postgresql.c) fills in one struct tsr_store_ops, in the manner of
 * SQLite's VFS, and its connections begin with a struct tsr_store whose
 * ops point at that table.  store.c picks the engine from the DSN and
 * calls through the table; the operations mean what store.h says of the
 * tsr_store_* function of the same name.  Only store.c and the engines
 * include this header.
 */
#ifndef TSR_STORE_BACKEND_H
#define TSR_STORE_BACKEND_H

#include "store/store.h"

struct tsr_audit_event;
struct tsr_audit_filter;

struct tsr_store_ops {
	const char *name;	/* "sqlite", for messages */
	enum tsr_err (*open)(const char *dsn, struct tsr_store **out,
	    struct tsr_why *why);
	void (*close)(struct tsr_store *st);
	enum tsr_err (*migrate)(struct tsr_store *st, int *applied,
	    struct tsr_why *why);
	enum tsr_err (*schema_version)(struct tsr_store *st, int *current,
	    int *latest, struct tsr_why *why);
	enum tsr_err (*begin)(struct tsr_store *st, int flags,
	    struct tsr_why *why);
	enum tsr_err (*commit)(struct tsr_store *st, struct tsr_why *why);
	void (*rollback)(struct tsr_store *st);
	enum tsr_err (*generations)(struct tsr_store *st,
	    struct tsr_store_gens *out, struct tsr_why *why);
	enum tsr_err (*setting_get)(struct tsr_store *st, const char *name,
	    int64_t *value, struct tsr_why *why);
	enum tsr_err (*setting_set)(struct tsr_store *st, const char *name,
	    int64_t value, struct tsr_why *why);
	enum tsr_err (*setting_raise)(struct tsr_store *st, const char *name,
	    int64_t value, struct tsr_why *why);
	enum tsr_err (*client_insert)(struct tsr_store *st,
	    const struct tsr_client *c, struct tsr_why *why);
	enum tsr_err (*client_get)(struct tsr_store *st, const char *name,
	    struct tsr_client *out, struct tsr_why *why);
	enum tsr_err (*client_list)(struct tsr_store *st,
	    struct tsr_client **out, size_t *out_n, struct tsr_why *why);
	enum tsr_err (*client_update)(struct tsr_store *st,
	    const struct tsr_client *c, struct tsr_why *why);
	enum tsr_err (*client_delete)(struct tsr_store *st, const char *name,
	    struct tsr_why *why);
	enum tsr_err (*grant_insert)(struct tsr_store *st,
	    const struct tsr_grant *g, struct tsr_why *why);
	enum tsr_err (*grant_update)(struct tsr_store *st,
	    const struct tsr_grant *g, struct tsr_why *why);
	enum tsr_err (*grant_list)(struct tsr_store *st, const char *client,
	    const char *audience, struct tsr_grant **out, size_t *out_n,
	    struct tsr_why *why);
	enum tsr_err (*grant_delete)(struct tsr_store *st, const char *client,
	    const char *audience, struct tsr_why *why);
	enum tsr_err (*key_insert)(struct tsr_store *st,
	    const struct tsr_keyrow *k, struct tsr_why *why);
	enum tsr_err (*key_get)(struct tsr_store *st, const char *kid,
	    struct tsr_keyrow *out, struct tsr_why *why);
	enum tsr_err (*key_list)(struct tsr_store *st, struct tsr_keyrow **out,
	    size_t *out_n, struct tsr_why *why);
	enum tsr_err (*key_transition)(struct tsr_store *st, const char *kid,
	    enum tsr_keystate from, enum tsr_keystate to, int64_t activated_at,
	    int64_t retired_at, int64_t expires_at, struct tsr_why *why);
	enum tsr_err (*key_secret_put)(struct tsr_store *st, const char *kid,
	    const char *sealed, int64_t sealed_at, struct tsr_why *why);
	enum tsr_err (*key_secret_get)(struct tsr_store *st, const char *kid,
	    char **sealed, struct tsr_why *why);
	enum tsr_err (*key_secret_delete)(struct tsr_store *st,
	    const char *kid, bool *deleted, struct tsr_why *why);
	enum tsr_err (*revocation_add)(struct tsr_store *st,
	    const struct tsr_revocation *r, bool *added, struct tsr_why *why);
	enum tsr_err (*revocation_list)(struct tsr_store *st, int64_t now,
	    struct tsr_revocation **out, size_t *out_n, struct tsr_why *why);
	enum tsr_err (*revocation_purge)(struct tsr_store *st, int64_t now,
	    int *purged, struct tsr_why *why);
	enum tsr_err (*ca_get)(
	    struct tsr_store *st, struct tsr_carow *out, struct tsr_why *why);
	enum tsr_err (*ca_insert)(struct tsr_store *st,
	    const struct tsr_carow *ca, struct tsr_why *why);
	enum tsr_err (*cert_insert)(struct tsr_store *st,
	    const struct tsr_certrow *c, struct tsr_why *why);
	enum tsr_err (*cert_get)(struct tsr_store *st, const char *serial,
	    struct tsr_certrow *out, struct tsr_why *why);
	enum tsr_err (*cert_list)(struct tsr_store *st, const char *client,
	    int64_t after, int64_t before, struct tsr_certrow **out,
	    size_t *out_n, struct tsr_why *why);
	enum tsr_err (*cert_revoke)(struct tsr_store *st, const char *serial,
	    int64_t at, const char *reason, int crl_reason, bool *changed,
	    struct tsr_why *why);
	enum tsr_err (*cert_revoke_client)(struct tsr_store *st,
	    const char *client, int64_t at, const char *reason, int crl_reason,
	    int *count, struct tsr_why *why);
	enum tsr_err (*cert_revoked)(struct tsr_store *st, int64_t now,
	    struct tsr_crlentry **out, size_t *out_n, struct tsr_why *why);
	enum tsr_err (*cert_count_expiring)(struct tsr_store *st, int64_t now,
	    int64_t before, int64_t *count, struct tsr_why *why);
	enum tsr_err (*enroll_insert)(struct tsr_store *st,
	    const struct tsr_enrollrow *e, struct tsr_why *why);
	enum tsr_err (*enroll_live)(struct tsr_store *st, const char *client,
	    int64_t now, struct tsr_enrollrow **out, size_t *out_n,
	    struct tsr_why *why);
	enum tsr_err (*enroll_use)(struct tsr_store *st, const char *id,
	    int64_t now, struct tsr_why *why);
	enum tsr_err (*crl_get)(
	    struct tsr_store *st, struct tsr_crlrow *out, struct tsr_why *why);
	enum tsr_err (*crl_state)(struct tsr_store *st, int64_t *number,
	    int64_t *this_update, struct tsr_why *why);
	enum tsr_err (*crl_put)(struct tsr_store *st, int64_t number,
	    int64_t this_update, const uint8_t *der, size_t der_len,
	    struct tsr_why *why);
	enum tsr_err (*audit_add)(struct tsr_store *st,
	    const struct tsr_audit_event *evs, size_t n, struct tsr_why *why);
	enum tsr_err (*audit_list)(struct tsr_store *st,
	    const struct tsr_audit_filter *f, struct tsr_audit_event **out,
	    size_t *out_n, struct tsr_why *why);
	enum tsr_err (*audit_purge)(struct tsr_store *st, int64_t before,
	    int *purged, struct tsr_why *why);
	/* NULL when the engine cannot push changes (SQLite: readers poll
	 * the generations); store.c then answers TSR_ERR_STATE. */
	enum tsr_err (*listen)(struct tsr_store *st, int *fd,
	    struct tsr_why *why);
	enum tsr_err (*listen_drain)(struct tsr_store *st, unsigned *areas,
	    struct tsr_why *why);
	enum tsr_err (*audit_trim)(struct tsr_store *st, int64_t max_rows,
	    int64_t *trimmed, struct tsr_why *why);
};

/* The head of every engine's connection struct. */
struct tsr_store {
	const struct tsr_store_ops *ops;
};

extern const struct tsr_store_ops tsr_store_sqlite_ops;
/* Only in a build with libpq (TSR_HAVE_POSTGRESQL). */
extern const struct tsr_store_ops tsr_store_postgresql_ops;

#endif
