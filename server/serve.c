/*
 * serve: the server's life: options, start-up checks, the loop that polls
 * the store, rotates keys and reloads TLS credentials, and a draining
 * shutdown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "b64.h"
#include "cli.h"
#include "denylist.h"
#include "duration.h"
#include "http.h"
#include "key.h"
#include "keyring.h"
#include "log.h"
#include "policy.h"
#include "serve.h"
#include "server.h"
#include "store.h"
#include "watch.h"
#include "writer.h"

#define SERVE_POLL_MS		250	/* changes seen within 1 s */
#define SERVE_ENSURE_S		2	/* expiry of retired keys */
#define SERVE_DRAIN_S		10	/* SIGTERM: wait for requests */
#define SERVE_KEYGEN_NICE	10	/* key generation yields to requests */
#define SERVE_OLD_DAEMON_S	60	/* a replaced daemon's grace */

static volatile sig_atomic_t got_term, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
keys_view_free(void *p)
{
	struct keys_view *kv = p;

	tsr_keyring_destroy(kv->kr);
	free(kv);
}

struct snap *
server_keys_snap(struct tsr_keyring *kr)
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

static void
policy_free(void *p)
{
	tsr_policy_destroy(p);
}

static void
creds_free(void *p)
{
	tls_creds_free(p);
}

/* Raw option text of `tessera serve`, before checking. */
struct serve_args {
	const char *listen, *cert, *key, *ca, *crl, *issuer, *ttl, *period;
	const char *max_age, *skew, *bits, *threads, *log_level, *retention;
	const char *rate, *max_conns, *max_per_ip, *conn_timeout;
	const char *hs_timeout, *max_anon;
};

static int
parse_duration_opt(const char *name, const char *text, int64_t dflt,
    int64_t *out)
{
	struct tsr_why why = { "" };

	if (text == NULL) {
		*out = dflt;
		return 0;
	}
	if (tsr_duration_parse(text, out, &why) != TSR_OK) {
		fprintf(stderr, "tessera: --%s: %s\n", name, why.msg);
		return -1;
	}
	return 0;
}

static int
parse_uint_opt(const char *name, const char *text, long lo, long hi,
    long *out)
{
	char *end;

	if (text == NULL)
		return 0;
	errno = 0;
	*out = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || *out < lo ||
	    *out > hi) {
		fprintf(stderr, "tessera: --%s must be a number from %ld to "
		    "%ld\n", name, lo, hi);
		return -1;
	}
	return 0;
}

/* "ADDR:PORT", IPv4 only. */
static int
parse_listen(const char *text, struct server_cfg *cfg, char *addr,
    size_t addr_len)
{
	const char *colon = strrchr(text, ':');
	long port = -1;

	if (colon == NULL || (size_t)(colon - text) >= addr_len ||
	    colon == text ||
	    parse_uint_opt("listen port", colon + 1, 0, 65535, &port) != 0 ||
	    port < 0) {
		fprintf(stderr, "tessera: --listen wants ADDR:PORT\n");
		return -1;
	}
	memcpy(addr, text, (size_t)(colon - text));
	addr[colon - text] = '\0';
	cfg->listen_addr = addr;
	cfg->listen_port = (uint16_t)port;
	return 0;
}

/* Connection limits: defaults that suit one busy issuer. */
static int
check_limits(const struct serve_args *a, struct server_cfg *cfg)
{
	long conns = 1024, per_ip = 256, anon = 32;
	int64_t timeout = 30, hs = 10;

	if (parse_uint_opt("max-connections", a->max_conns, 1, 65536,
	    &conns) ||
	    parse_uint_opt("max-connections-per-ip", a->max_per_ip, 1, 65536,
	    &per_ip) ||
	    parse_uint_opt("max-anon-connections-per-ip", a->max_anon, 1,
	    65536, &anon) ||
	    parse_duration_opt("connection-timeout", a->conn_timeout, 30,
	    &timeout) ||
	    parse_duration_opt("handshake-timeout", a->hs_timeout, 10, &hs))
		return -1;
	if (timeout > 3600 || hs < 1 || hs > 3600) {
		fprintf(stderr, "tessera: --%s is at most 1h%s\n",
		    timeout > 3600 ? "connection-timeout" : "handshake-timeout",
		    timeout > 3600 ? "" : " and at least 1s");
		return -1;
	}
	cfg->handshake_timeout_s = (unsigned)hs;
	cfg->max_anon_per_ip = (unsigned)anon;
	cfg->conn_limit = (unsigned)conns;
	cfg->per_ip_limit = (unsigned)per_ip;
	cfg->conn_timeout_s = (unsigned)timeout;
	return 0;
}

static int
check_cfg(const struct serve_args *a, struct server_cfg *cfg, char *addr,
    size_t addr_len)
{
	long bits = TSR_KEY_DEFAULT_BITS;
	long threads = sysconf(_SC_NPROCESSORS_ONLN);

	if (a->cert == NULL || a->key == NULL || a->ca == NULL) {
		fprintf(stderr, "tessera: serve needs --tls-cert, --tls-key "
		    "and --client-ca\n");
		return -1;
	}
	cfg->tls = (struct tls_files){ a->cert, a->key, a->ca, a->crl };
	if (parse_listen(a->listen ? a->listen : "127.0.0.1:8443", cfg, addr,
	    addr_len) != 0 ||
	    parse_duration_opt("token-ttl", a->ttl, 300, &cfg->token_ttl_s) ||
	    parse_duration_opt("rotation-period", a->period, 86400,
	    &cfg->rotation_period_s) ||
	    parse_duration_opt("jwks-max-age", a->max_age, 300,
	    &cfg->jwks_max_age_s) ||
	    parse_duration_opt("clock-skew", a->skew, 60, &cfg->clock_skew_s) ||
	    parse_duration_opt("audit-retention", a->retention, 30 * 86400,
	    &cfg->audit_retention_s) ||
	    parse_uint_opt("key-bits", a->bits, 2048, 4096, &bits) ||
	    parse_uint_opt("threads", a->threads, 1, 256, &threads))
		return -1;
	if (!tsr_key_bits_valid((int)bits)) {
		fprintf(stderr, "tessera: --key-bits must be 2048, 3072 or "
		    "4096\n");
		return -1;
	}
	cfg->key_bits = (int)bits;
	if (a->rate != NULL && (cfg->rate_limit = ratelimit_parse(a->rate)) <
	    0) {
		fprintf(stderr, "tessera: --rate-limit wants N/s, N from 1 to "
		    "%d\n", RATELIMIT_MAX_RATE);
		return -1;
	}
	cfg->threads = threads > 0 ? (unsigned)threads : 1;
	if (check_limits(a, cfg) != 0)
		return -1;
	if (a->issuer != NULL &&
	    (strlen(a->issuer) >= sizeof(cfg->issuer) ||
	    strncmp(a->issuer, "https://", 8) != 0)) {
		fprintf(stderr, "tessera: --issuer must be an https URL\n");
		return -1;
	}
	return 0;
}

/* RFC 8414 metadata, also served as OpenID discovery. */
static int
build_discovery(struct server *s)
{
	const char *iss = s->cfg.issuer;
	char tok[SERVER_MAX_ISSUER + 32], jwks[SERVER_MAX_ISSUER + 32];
	char rev[SERVER_MAX_ISSUER + 32], intro[SERVER_MAX_ISSUER + 32];
	json_t *doc;

	(void)snprintf(tok, sizeof(tok), "%s/token", iss);
	(void)snprintf(jwks, sizeof(jwks), "%s/.well-known/jwks.json", iss);
	(void)snprintf(rev, sizeof(rev), "%s/revoke", iss);
	(void)snprintf(intro, sizeof(intro), "%s/introspect", iss);
	doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[s],s:[s],s:[s],s:[s],s:b,"
	    "s:[s],s:[s],s:[s]}",
	    "issuer", iss, "token_endpoint", tok, "jwks_uri", jwks,
	    "revocation_endpoint", rev, "introspection_endpoint", intro,
	    "grant_types_supported", "client_credentials",
	    "token_endpoint_auth_methods_supported", "tls_client_auth",
	    "revocation_endpoint_auth_methods_supported", "tls_client_auth",
	    "introspection_endpoint_auth_methods_supported",
	    "tls_client_auth",
	    "tls_client_certificate_bound_access_tokens", 1,
	    "response_types_supported", "token",
	    "subject_types_supported", "public",
	    "id_token_signing_alg_values_supported", "RS256");
	if (doc == NULL)
		return -1;
	s->discovery = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (s->discovery == NULL)
		return -1;
	s->discovery_len = strlen(s->discovery);
	return 0;
}

static int
publish_policy(struct server *s, struct tsr_store *st)
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

static int
publish_keys(struct server *s, struct tsr_store *st)
{
	struct tsr_why why = { "" };
	struct tsr_keyring *kr;
	struct snap *sn;

	if (tsr_keyring_load(st, s->cfg.key_dir, &kr, &why) != TSR_OK) {
		log_warnx("cannot load the signing keys: %s", why.msg);
		return -1;
	}
	if ((sn = server_keys_snap(kr)) == NULL)
		return -1;
	log_info("signing with key %s", tsr_key_kid(tsr_keyring_active(kr)));
	snap_set(&s->keys, sn);
	return 0;
}

static void
denylist_free(void *p)
{
	tsr_denylist_destroy(p);
}

static int
publish_denylist(struct server *s, struct tsr_store *st)
{
	struct tsr_why why = { "" };
	struct tsr_denylist *dl;
	struct snap *sn;

	if (tsr_denylist_load(st, time(NULL), &dl, &why) != TSR_OK) {
		log_warnx("cannot load the deny-list: %s", why.msg);
		return -1;
	}
	if ((sn = snap_new(dl, denylist_free)) == NULL)
		return -1;
	snap_set(&s->deny, sn);
	return 0;
}

int
server_revoke(struct server *s, const struct tsr_revocation *r)
{
	struct tsr_revocation entry = *r;
	struct tsr_why why = { "" };
	int64_t skew = 0;
	int ret = -1;

	pthread_mutex_lock(&s->writer_mu);
	/* Keep it while any server sharing the store may accept the token. */
	if (tsr_store_setting_get(s->writer, TSR_KEYRING_SETTING_SKEW, &skew,
	    NULL) != TSR_OK || skew < s->cfg.clock_skew_s)
		skew = s->cfg.clock_skew_s;
	entry.expires_at = r->expires_at + skew;
	if (tsr_store_revocation_add(s->writer, &entry, NULL, &why) != TSR_OK)
		log_warnx("cannot revoke: %s", why.msg);
	else
		ret = publish_denylist(s, s->writer);
	pthread_mutex_unlock(&s->writer_mu);
	if (ret == 0)
		log_info("revoked jti=%s client=%s", r->jti, r->client);
	return ret;
}

static struct tsr_keyring_opts
keyring_opts(const struct server *s)
{
	struct tsr_keyring_opts o = {
		.key_dir = s->cfg.key_dir,
		.bits = s->cfg.key_bits,
		/* retired keys stay for max token TTL + clock skew. */
		.retire_window_s = s->cfg.token_ttl_s + s->cfg.clock_skew_s,
	};

	return o;
}

static void
report_keys(const struct tsr_keyring_report *rep)
{
	if (rep->note[0] != '\0')
		log_warnx("signing keys repaired: %s", rep->note);
	if (rep->created > 0)
		log_info("created %d signing key(s)", rep->created);
	if (rep->expired > 0)
		log_info("%d retired key(s) expired", rep->expired);
	if (rep->destroyed > 0)
		log_info("destroyed %d private key file(s) of keys that can no "
		    "longer sign", rep->destroyed);
}

/* Migrate, record what the CLI must know, make and load the keys. */
static int
prepare_store(struct server *s, struct tsr_store *st)
{
	struct tsr_keyring_opts o = keyring_opts(s);
	struct tsr_keyring_report rep;
	struct tsr_why why = { "" };
	enum tsr_err rc;

	if ((rc = tsr_store_migrate(st, NULL, &why)) != TSR_OK ||
	    (rc = tsr_store_setting_set(st, "key_bits", s->cfg.key_bits,
	    &why)) != TSR_OK ||
	    /* Raised, never lowered: the admin commands and the deny-list
	     * must cover the longest-lived tokens of any server. */
	    (rc = tsr_store_setting_raise(st, TSR_KEYRING_SETTING_WINDOW,
	    o.retire_window_s, &why)) != TSR_OK ||
	    (rc = tsr_store_setting_raise(st, TSR_KEYRING_SETTING_SKEW,
	    s->cfg.clock_skew_s, &why)) != TSR_OK ||
	    (rc = tsr_keyring_ensure(st, &o, time(NULL), &rep, &why)) !=
	    TSR_OK) {
		log_warnx("%s", tsr_err_text(&why, rc));
		return -1;
	}
	report_keys(&rep);
	if (publish_policy(s, st) != 0 || publish_keys(s, st) != 0 ||
	    publish_denylist(s, st) != 0)
		return -1;
	atomic_store(&s->db_ok, true);
	return 0;
}

/* What the loop keeps between ticks. */
struct loop {
	struct server	*s;
	struct tsr_store *st;
	struct http	*http;
	struct http	*old;		/* replaced daemon, draining */
	time_t		 old_since;
	int64_t		 policy_gen, keys_gen, deny_gen;
	struct watch	 watch;
	/* Key upkeep runs beside the loop, on a connection of its own, so
	 * that polling never waits for a key to be generated. */
	struct tsr_store *tend_st;
	pthread_t	 tend_thread;
	bool		 tend_started;
	atomic_bool	 tend_busy;
	time_t		 tend_now;
	time_t		 last_ensure;
};

/* Reload the snapshots whose tables changed (CLI, another server). */
static void
poll_store(struct loop *l)
{
	struct tsr_why why = { "" };
	int64_t pg, kg, dg;

	if (tsr_store_generations(l->st, &pg, &kg, &why) != TSR_OK) {
		if (atomic_exchange(&l->s->db_ok, false))
			log_warnx("database unreachable: %s", why.msg);
		return;
	}
	if (!atomic_exchange(&l->s->db_ok, true))
		log_info("database reachable again");
	if (pg != l->policy_gen && publish_policy(l->s, l->st) == 0)
		l->policy_gen = pg;
	if (kg != l->keys_gen && publish_keys(l->s, l->st) == 0)
		l->keys_gen = kg;
	if (tsr_store_generation(l->st, "revocations", &dg, &why) == TSR_OK &&
	    dg != l->deny_gen && publish_denylist(l->s, l->st) == 0)
		l->deny_gen = dg;
}

/* Entries whose tokens have all expired leave the deny-list; audit
 * events older than the retention go. */
static void
purge_old(struct loop *l, time_t now)
{
	struct tsr_why why = { "" };
	int purged = 0;

	if (tsr_store_revocation_purge(l->tend_st, now, &purged, &why) != TSR_OK)
		log_warnx("cannot purge the deny-list: %s", why.msg);
	else if (purged > 0)
		log_info("purged %d expired deny-list entries", purged);
	tsr_err_clear(&why);
	if (tsr_store_audit_purge(l->tend_st, now - l->s->cfg.audit_retention_s,
	    &purged, &why) != TSR_OK)
		log_warnx("cannot purge the audit trail: %s", why.msg);
	else if (purged > 0)
		log_info("purged %d audit event(s) past retention", purged);
}

/* Rotate when the active key has served its period. */
static bool
rotate_if_due(struct loop *l, time_t now)
{
	struct tsr_keyring_opts o = keyring_opts(l->s);
	struct tsr_why why = { "" };
	char active[TSR_KEY_KID_BUF];
	const struct keys_view *kv;
	struct snap *ks;
	enum tsr_err rc;
	bool due;

	if ((ks = snap_get(&l->s->keys)) == NULL)
		return false;
	kv = snap_obj(ks);
	due = tsr_keyring_active_since(kv->kr) + l->s->cfg.rotation_period_s
	    <= now;
	memcpy(active, tsr_key_kid(tsr_keyring_active(kv->kr)),
	    sizeof(active));
	snap_put(ks);
	if (!due)
		return false;
	/* Another server may rotate first: then ours is a no-op. */
	rc = tsr_keyring_rotate(l->tend_st, &o, active, now, NULL, &why);
	if (rc == TSR_OK)
		log_info("rotated signing keys: %s retired", active);
	else if (rc != TSR_ERR_CONFLICT)
		log_warnx("rotation failed: %s", tsr_err_text(&why, rc));
	return rc == TSR_OK;
}

/* Expire retired keys, repair the key set, purge old rows. */
static bool
upkeep_if_due(struct loop *l, time_t now)
{
	struct tsr_keyring_opts o = keyring_opts(l->s);
	struct tsr_keyring_report rep;
	struct tsr_why why = { "" };
	enum tsr_err rc;

	if (now - l->last_ensure < SERVE_ENSURE_S)
		return false;
	l->last_ensure = now;
	purge_old(l, now);
	rc = tsr_keyring_ensure(l->tend_st, &o, now, &rep, &why);
	if (rc == TSR_OK)
		report_keys(&rep);
	else if (rc != TSR_ERR_CONFLICT)
		log_warnx("key upkeep failed: %s", tsr_err_text(&why, rc));
	return rc == TSR_OK && (rep.created > 0 || rep.expired > 0 ||
	    rep.note[0] != '\0');
}

static void *
tend_main(void *arg)
{
	struct loop *l = arg;
	bool changed;

	/* RSA key generation takes a few hundred milliseconds of CPU: at a
	 * low priority it waits for the request threads, not they for it.
	 * (A thread of its own, so the listener threads a reload starts
	 * from the loop keep the normal priority.) */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
	    SERVE_KEYGEN_NICE);
	changed = rotate_if_due(l, l->tend_now);
	changed |= upkeep_if_due(l, l->tend_now);
	/* Publish at once: the JWKS must not lag the store by a poll. */
	if (changed)
		(void)publish_keys(l->s, l->tend_st);
	atomic_store(&l->tend_busy, false);
	return NULL;
}

/* Start scheduled rotation and upkeep unless the last run is still busy. */
static void
tend_keys(struct loop *l, time_t now)
{
	if (atomic_load(&l->tend_busy))
		return;
	if (l->tend_started)
		pthread_join(l->tend_thread, NULL);
	l->tend_started = false;
	l->tend_now = now;
	atomic_store(&l->tend_busy, true);
	if (pthread_create(&l->tend_thread, NULL, tend_main, l) != 0) {
		atomic_store(&l->tend_busy, false);
		log_warnx("cannot start key upkeep");
		return;
	}
	l->tend_started = true;
}

/* Wait for key upkeep in flight (shutdown). */
static void
tend_finish(struct loop *l)
{
	if (l->tend_started)
		pthread_join(l->tend_thread, NULL);
	l->tend_started = false;
}

/* SIGHUP: new credentials, a new daemon on the same socket. */
static void
reload_tls(struct loop *l)
{
	struct tls_creds *creds;
	struct http *fresh;
	struct snap *sn;
	char err[512];
	int fd;

	if (tls_creds_load(&l->s->cfg.tls, &creds, err, sizeof(err)) != 0) {
		log_warnx("TLS reload failed, keeping the old credentials: %s",
		    err);
		return;
	}
	if ((sn = snap_new(creds, creds_free)) == NULL)
		return;
	/* The new daemon shares the socket before the old one lets go of
	 * it, so no connection attempt meets a closed port. */
	fd = http_listen_fd(l->http);
	if ((fresh = http_start(l->s, creds, fd)) == NULL) {
		log_warnx("TLS reload failed: cannot start a new listener");
		snap_put(sn);
		return;
	}
	snap_set(&l->s->creds, sn);
	tls_creds_log(creds);
	if (l->old != NULL)
		http_stop(l->old);	/* a second reload in a row */
	(void)http_quiesce(l->http);
	l->old = l->http;
	l->old_since = time(NULL);
	l->http = fresh;
	log_info("TLS credentials reloaded");
}

static void
tick(struct loop *l)
{
	time_t now = time(NULL);

	/* SIGHUP, or a TLS file that changed on disk. */
	if (got_hup || (watch_events(&l->watch) &&
	    watch_changed(&l->watch, &l->s->cfg.tls))) {
		got_hup = 0;
		reload_tls(l);
	}
	if (l->old != NULL && (http_connections(l->old) == 0 ||
	    now - l->old_since >= SERVE_OLD_DAEMON_S)) {
		http_stop(l->old);
		l->old = NULL;
	}
	poll_store(l);
	tend_keys(l, now);
}

/* SIGTERM: stop accepting, let requests in flight finish, then stop. */
static void
drain(struct loop *l)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int i;

	log_info("shutting down: draining %ld request(s)",
	    atomic_load(&l->s->inflight));
	tend_finish(l);
	(void)http_quiesce(l->http);
	if (l->old != NULL)
		(void)http_quiesce(l->old);
	for (i = 0; i < SERVE_DRAIN_S * 50 &&
	    atomic_load(&l->s->inflight) > 0; i++)
		nanosleep(&pause, NULL);
	http_stop(l->old);
	http_stop(l->http);
}

static void
run_loop(struct loop *l)
{
	struct timespec pause = { 0, SERVE_POLL_MS * 1000 * 1000 };

	while (!got_term) {
		nanosleep(&pause, NULL);	/* a signal cuts it short */
		if (!got_term)
			tick(l);
	}
	drain(l);
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* A listening TCP socket on the configured IPv4 address. */
static int
open_listener(struct server_cfg *cfg)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, on = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(cfg->listen_port);
	if (inet_pton(AF_INET, cfg->listen_addr, &sa.sin_addr) != 1) {
		log_warnx("--listen: %s is not an IPv4 address",
		    cfg->listen_addr);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 512) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		log_warn("cannot listen on %s:%u", cfg->listen_addr,
		    cfg->listen_port);
		if (fd != -1)
			close(fd);
		return -1;
	}
	cfg->listen_port = ntohs(sa.sin_port);	/* the real one for port 0 */
	return fd;
}

static int
start(struct server *s, struct loop *l, const struct serve_args *a)
{
	struct tls_creds *creds;
	struct tsr_why why = { "" };
	struct snap *sn;
	char err[512];
	int fd;

	if (tls_creds_load(&s->cfg.tls, &creds, err, sizeof(err)) != 0) {
		fprintf(stderr, "tessera: TLS: %s\n", err);
		return -1;
	}
	if ((sn = snap_new(creds, creds_free)) == NULL)
		return -1;
	snap_set(&s->creds, sn);
	tls_creds_log(creds);
	watch_open(&l->watch, &s->cfg.tls);
	if (tsr_store_open(s->cfg.db_path, &l->st, &why) != TSR_OK ||
	    tsr_store_open(s->cfg.db_path, &l->tend_st, &why) != TSR_OK ||
	    tsr_store_open(s->cfg.db_path, &s->writer, &why) != TSR_OK) {
		log_warnx("%s", why.msg);
		return -1;
	}
	/* The counters first: a change after them is seen by the first poll. */
	if (tsr_store_migrate(l->st, NULL, &why) != TSR_OK ||
	    tsr_store_generations(l->st, &l->policy_gen, &l->keys_gen,
	    &why) != TSR_OK ||
	    tsr_store_generation(l->st, "revocations", &l->deny_gen, &why) !=
	    TSR_OK) {
		log_warnx("%s", why.msg);
		return -1;
	}
	if (prepare_store(s, l->st) != 0 || (fd = open_listener(&s->cfg)) < 0)
		return -1;
	if (a->issuer != NULL)
		(void)snprintf(s->cfg.issuer, sizeof(s->cfg.issuer), "%s",
		    a->issuer);
	else
		(void)snprintf(s->cfg.issuer, sizeof(s->cfg.issuer),
		    "https://%s:%u", s->cfg.listen_addr, s->cfg.listen_port);
	if (build_discovery(s) != 0 ||
	    (l->http = http_start(s, creds, fd)) == NULL) {
		close(fd);
		return -1;
	}
	log_info("serving on https://%s:%u issuer=%s threads=%u",
	    s->cfg.listen_addr, s->cfg.listen_port, s->cfg.issuer,
	    s->cfg.threads);
	return 0;
}

int
cli_serve(struct cli *c, int argc, char **argv)
{
	struct serve_args a = { 0 };
	struct args_opt opts[] = {
		{ .name = "listen", .value = &a.listen },
		{ .name = "tls-cert", .value = &a.cert },
		{ .name = "tls-key", .value = &a.key },
		{ .name = "client-ca", .value = &a.ca },
		{ .name = "client-crl", .value = &a.crl },
		{ .name = "issuer", .value = &a.issuer },
		{ .name = "token-ttl", .value = &a.ttl },
		{ .name = "rotation-period", .value = &a.period },
		{ .name = "jwks-max-age", .value = &a.max_age },
		{ .name = "clock-skew", .value = &a.skew },
		{ .name = "key-bits", .value = &a.bits },
		{ .name = "threads", .value = &a.threads },
		{ .name = "log-level", .value = &a.log_level },
		{ .name = "audit-retention", .value = &a.retention },
		{ .name = "rate-limit", .value = &a.rate },
		{ .name = "max-connections", .value = &a.max_conns },
		{ .name = "max-connections-per-ip", .value = &a.max_per_ip },
		{ .name = "connection-timeout", .value = &a.conn_timeout },
		{ .name = "handshake-timeout", .value = &a.hs_timeout },
		{ .name = "max-anon-connections-per-ip", .value = &a.max_anon },
		{ .name = NULL },
	};
	static struct server s;	/* one per process, shared by threads */
	struct writer aw = { 0 };
	struct loop l = { 0 };
	char addr[64];
	int ex, level = LOG_LEVEL_INFO;

	if ((ex = cli_parse(c, argc, argv, opts, 1, 1)) != 0)
		return ex;
	if (check_cfg(&a, &s.cfg, addr, sizeof(addr)) != 0 ||
	    (a.log_level && (level = log_level_parse(a.log_level)) < 0)) {
		if (a.log_level && level < 0)
			fprintf(stderr, "tessera: --log-level wants error, "
			    "warn, info or debug\n");
		return CLI_EXIT_USAGE;
	}
	log_set_level((enum log_level)level);
	s.cfg.db_path = c->db_path;
	s.cfg.key_dir = c->key_dir;
	snap_slot_init(&s.policy);
	snap_slot_init(&s.keys);
	snap_slot_init(&s.creds);
	snap_slot_init(&s.deny);
	pthread_mutex_init(&s.writer_mu, NULL);
	l.s = &s;
	install_signals();
	s.metrics = metrics_create();
	if (s.cfg.rate_limit > 0)
		s.ratelimit = ratelimit_create(s.cfg.rate_limit);
	ex = s.metrics != NULL && (s.cfg.rate_limit == 0 || s.ratelimit) &&
	    writer_start(&aw, &s) == 0 && start(&s, &l, &a) == 0 ?
	    CLI_EXIT_OK : CLI_EXIT_ERR;
	if (ex == CLI_EXIT_OK)
		run_loop(&l);
	writer_stop(&aw);
	if (ex == CLI_EXIT_OK)
		log_info("stopped");
	watch_close(&l.watch);
	tsr_store_close(l.st);
	tsr_store_close(l.tend_st);
	tsr_store_close(s.writer);
	pthread_mutex_destroy(&s.writer_mu);
	snap_slot_finish(&s.deny);
	metrics_destroy(s.metrics);
	ratelimit_destroy(s.ratelimit);
	snap_slot_finish(&s.policy);
	snap_slot_finish(&s.keys);
	snap_slot_finish(&s.creds);
	free(s.discovery);
	return ex;
}
