#include "revoker.h"

#include <stddef.h>

#include "keyring.h"
#include "log.h"

void
revoker_init(struct revoker *rv)
{
	pthread_mutex_init(&rv->mu, NULL);
	rv->st = NULL;
}

enum tsr_err
revoker_open(struct revoker *rv, const char *db_path, struct tsr_why *why)
{
	return tsr_store_open(db_path, &rv->st, why);
}

void
revoker_finish(struct revoker *rv)
{
	tsr_store_close(rv->st);
	rv->st = NULL;
	pthread_mutex_destroy(&rv->mu);
}

int
revoker_add(struct revoker *rv, const struct tsr_revocation *r,
    int64_t skew_s, revoker_publish_fn publish, void *arg)
{
	struct tsr_revocation entry = *r;
	struct tsr_why why = { "" };
	int64_t skew = 0;
	int ret = -1;

	pthread_mutex_lock(&rv->mu);
	/* Keep it while any server sharing the store may accept the token. */
	if (tsr_store_setting_get(rv->st, TSR_KEYRING_SETTING_SKEW, &skew,
	    NULL) != TSR_OK || skew < skew_s)
		skew = skew_s;
	entry.expires_at = r->expires_at + skew;
	if (tsr_store_revocation_add(rv->st, &entry, NULL, &why) != TSR_OK)
		log_warnx("cannot revoke: %s", why.msg);
	else
		ret = publish(arg, rv->st, &entry);
	pthread_mutex_unlock(&rv->mu);
	return ret;
}
