#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "b64.h"
#include "denylist.h"
#include "log.h"
#include "policy.h"

void
server_init(struct server *s, const struct daemon_config *cfg)
{
	s->cfg = *cfg;
	snap_slot_init(&s->policy);
	snap_slot_init(&s->keys);
	snap_slot_init(&s->creds);
	snap_slot_init(&s->deny);
	pthread_mutex_init(&s->deny_mu, NULL);
	revoker_init(&s->revoker);
	health_init(&s->health, cfg->max_staleness_s, time(NULL));
	snap_slot_init(&s->ca);
	conn_shared_init(&s->est_db);
}

void
server_finish(struct server *s)
{
	revoker_finish(&s->revoker);
	conn_shared_finish(&s->est_db);
	snap_slot_finish(&s->ca);
	snap_slot_finish(&s->deny);
	pthread_mutex_destroy(&s->deny_mu);
	snap_slot_finish(&s->policy);
	snap_slot_finish(&s->keys);
	snap_slot_finish(&s->creds);
	free(s->discovery);
	s->discovery = NULL;
}

const struct daemon_config *
server_config(const struct server *s)
{
	return &s->cfg;
}

static const void *
acquire(struct snap_slot *slot, struct snap **ref)
{
	*ref = snap_get(slot);
	return *ref != NULL ? snap_obj(*ref) : NULL;
}

const struct tsr_policy *
server_policy_acquire(struct server *s, struct snap **ref)
{
	return acquire(&s->policy, ref);
}

const struct keys_view *
server_keys_acquire(struct server *s, struct snap **ref)
{
	return acquire(&s->keys, ref);
}

const struct tls_creds *
server_creds_acquire(struct server *s, struct snap **ref)
{
	return acquire(&s->creds, ref);
}

const struct tsr_denylist *
server_deny_acquire(struct server *s, struct snap **ref)
{
	return acquire(&s->deny, ref);
}

const struct caview *
server_ca_acquire(struct server *s, struct snap **ref)
{
	return acquire(&s->ca, ref);
}

int
server_ca_load(struct server *s, struct tsr_store *st)
{
	struct caview *v = NULL;
	struct snap *sn;
	int ret;

	if ((ret = caview_load(st, s->cfg.key_dir, s->cfg.keks, &v)) != 0)
		return ret > 0 ? 0 : -1;
	if ((sn = snap_new(v, caview_free)) == NULL)
		return -1;
	snap_set(&s->ca, sn);
	return 0;
}

void
server_release(struct snap *ref)
{
	snap_put(ref);
}

static void
policy_free(void *p)
{
	tsr_policy_destroy(p);
}

static void
keys_view_free(void *p)
{
	struct keys_view *kv = p;

	tsr_keyring_destroy(kv->kr);
	free(kv);
}

static void
creds_free(void *p)
{
	tls_creds_free(p);
}

static void
denylist_free(void *p)
{
	tsr_denylist_destroy(p);
}

int
server_policy_load(struct server *s, struct tsr_store *st)
{
	struct tsr_why why = { "" };
	struct tsr_policy *p;
	struct snap *sn;

	if (tsr_policy_load(st, &p, &why) != TSR_OK) {
		log_warnx("cannot load the policy: %s", why.msg);
		return -1;
	}
	if ((sn = snap_new(p, policy_free)) == NULL)
		return -1;
	snap_set(&s->policy, sn);
	return 0;
}

/* Wrap a loaded keyring for publishing; NULL on allocation failure. */
static struct snap *
keys_snap(struct tsr_keyring *kr)
{
	struct keys_view *kv;
	uint8_t digest[32];
	char tag[TSR_B64_ENCODED_LEN(12) + 1];
	size_t len;
	const char *jwks = tsr_keyring_jwks(kr, &len);

	if ((kv = calloc(1, sizeof(*kv))) == NULL) {
		tsr_keyring_destroy(kr);
		return NULL;
	}
	kv->kr = kr;
	/* A strong ETag: a prefix of the document's SHA-256. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, jwks, len, digest) < 0 ||
	    tsr_b64_encode(digest, 12, tag, sizeof(tag), NULL) != TSR_OK) {
		keys_view_free(kv);
		return NULL;
	}
	(void)snprintf(kv->etag, sizeof(kv->etag), "\"%s\"", tag);
	return snap_new(kv, keys_view_free);
}

int
server_keys_load(struct server *s, struct tsr_store *st)
{
	struct tsr_why why = { "" };
	struct tsr_keyring *kr;
	struct snap *sn;

	if (tsr_keyring_load(st, s->cfg.key_dir, s->cfg.keks, &kr, &why) !=
	    TSR_OK) {
		log_warnx("cannot load the signing keys: %s", why.msg);
		return -1;
	}
	if ((sn = keys_snap(kr)) == NULL)
		return -1;
	log_info("signing with key %s", tsr_key_kid(tsr_keyring_active(kr)));
	snap_set(&s->keys, sn);
	return 0;
}

int
server_deny_load(struct server *s, struct tsr_store *st)
{
	struct tsr_why why = { "" };
	struct tsr_denylist *dl;
	struct snap *sn;
	int ret = -1;

	/* Read under the lock: an addition published after this load
	 * committed before it or is added on top. */
	pthread_mutex_lock(&s->deny_mu);
	if (tsr_denylist_load(st, time(NULL), &dl, &why) != TSR_OK)
		log_warnx("cannot load the deny-list: %s", why.msg);
	else if ((sn = snap_new(dl, denylist_free)) != NULL) {
		snap_set(&s->deny, sn);
		ret = 0;
	}
	pthread_mutex_unlock(&s->deny_mu);
	return ret;
}

/* Publish the current deny-list plus r, without reading the store. */
static int
deny_add(struct server *s, struct tsr_store *st,
    const struct tsr_revocation *r)
{
	const struct tsr_denylist *cur;
	struct tsr_denylist *dl = NULL;
	struct snap *ref, *sn;
	enum tsr_err rc = TSR_ERR_INVALID;

	pthread_mutex_lock(&s->deny_mu);
	if ((cur = server_deny_acquire(s, &ref)) != NULL)
		rc = tsr_denylist_add(cur, r, &dl);
	server_release(ref);
	if (rc == TSR_OK && (sn = snap_new(dl, denylist_free)) != NULL)
		snap_set(&s->deny, sn);
	pthread_mutex_unlock(&s->deny_mu);
	if (rc == TSR_OK || rc == TSR_ERR_EXISTS)
		return 0;
	/* No list yet, or out of memory: the slow way. */
	return server_deny_load(s, st);
}

struct snap *
server_creds_wrap(struct tls_creds *creds)
{
	return snap_new(creds, creds_free);
}

void
server_creds_publish(struct server *s, struct snap *sn)
{
	snap_set(&s->creds, sn);
}

/* The poller reloads the whole list when it sees the write; until
 * then, this server adds the entry to what it publishes. */
static int
publish_deny(void *arg, struct tsr_store *st, const struct tsr_revocation *r)
{
	return deny_add(arg, st, r);
}

int
server_revoke(struct server *s, const struct tsr_revocation *r)
{
	int ret;

	ret = revoker_add(&s->revoker, r, s->cfg.clock_skew_s, publish_deny,
	    s);
	if (ret == 0)
		log_info("revoked jti=%s client=%s", r->jti, r->client);
	else
		health_write(&s->health, false);	/* the writer probes */
	return ret;
}
