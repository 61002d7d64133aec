#include "revoker.h"

#include <stddef.h>

#include "keyring.h"
#include "log.h"

void
revoker_init(struct revoker *rv)
{
	conn_shared_init(&rv->db);
}

enum tsr_err
revoker_open(struct revoker *rv, const char *db_path, struct tsr_why *why)
{
	return conn_open(&rv->db.conn, db_path, "revoker", why);
}

void
revoker_finish(struct revoker *rv)
{
	conn_shared_finish(&rv->db);
}

/* One try on the connection as it is; TSR_OK, or it was dropped. */
static enum tsr_err
try_add(struct revoker *rv, const struct tsr_revocation *r, int64_t skew_s,
    struct tsr_revocation *entry, struct tsr_why *why)
{
	struct tsr_store *st;
	int64_t skew = 0;
	enum tsr_err rc;

	if ((st = conn_get(&rv->db.conn)) == NULL)
		return tsr_err_why(why, TSR_ERR_DB, "the database is "
		    "unreachable");
	/* Keep it while any server sharing the store may accept the token. */
	if (tsr_store_setting_get(st, TSR_KEYRING_SETTING_SKEW, &skew,
	    NULL) != TSR_OK || skew < skew_s)
		skew = skew_s;
	*entry = *r;
	entry->expires_at = r->expires_at + skew;
	if ((rc = tsr_store_revocation_add(st, entry, NULL, why)) != TSR_OK)
		conn_fail(&rv->db.conn);
	return rc;
}

int
revoker_add(struct revoker *rv, const struct tsr_revocation *r,
    int64_t skew_s, revoker_publish_fn publish, void *arg)
{
	struct tsr_revocation entry;
	struct tsr_why why = { "" };
	int ret = -1;

	pthread_mutex_lock(&rv->db.mu);
	/* A connection idle since a database restart or failover fails
	 * once: the second try is on a new one. */
	if (try_add(rv, r, skew_s, &entry, &why) == TSR_OK ||
	    (tsr_err_clear(&why), try_add(rv, r, skew_s, &entry, &why)) ==
	    TSR_OK) {
		if ((ret = publish(arg, rv->db.conn.st, &entry)) != 0)
			conn_fail(&rv->db.conn);
	} else {
		log_warnx("cannot revoke: %s", why.msg);
	}
	pthread_mutex_unlock(&rv->db.mu);
	return ret;
}
