/*
 * daemon: the server's life: start-up checks, the loop that polls
 * the store, rotates keys and reloads TLS credentials, and a draining
 * shutdown.  The store must answer at start; later it may go away: the
 * loop then keeps the snapshots it has, says so through health, and
 * reconnects by itself.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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

#include "auditq.h"
#include "conn.h"
#include "http.h"
#include "issuer.h"
#include "key.h"
#include "keyring.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "store/store.h"
#include "watch.h"

#define DAEMON_POLL_MS		250	/* changes seen within 1 s */
/* With a listener, changes arrive as they are committed; the generation
 * poll is a safety net for a notification lost with its connection. */
#define DAEMON_SAFETY_POLL_MS	2000
#define DAEMON_ENSURE_S		2	/* expiry of retired keys */
#define DAEMON_DRAIN_S		10	/* SIGTERM: wait for requests */
#define DAEMON_KEYGEN_NICE	10	/* key generation yields to requests */
#define DAEMON_OLD_DAEMON_S	60	/* a replaced daemon's grace */

static volatile sig_atomic_t got_term, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

/* RFC 8414 metadata, also served as OpenID discovery. */
static int
build_discovery(struct server *s)
{
	const char *iss = s->cfg.issuer;
	char tok[DAEMON_MAX_ISSUER + 32], jwks[DAEMON_MAX_ISSUER + 32];
	char rev[DAEMON_MAX_ISSUER + 32], intro[DAEMON_MAX_ISSUER + 32];
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

static struct tsr_keyring_opts
keyring_opts(const struct server *s)
{
	struct tsr_keyring_opts o = {
		.key_dir = s->cfg.key_dir,
		.keks = s->cfg.keks,
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
	if (server_policy_load(s, st) != 0 || server_keys_load(s, st) != 0 ||
	    server_deny_load(s, st) != 0)
		return -1;
	health_read(&s->health, true, time(NULL));
	return 0;
}

/* What the loop keeps between ticks. */
struct loop {
	struct server	*s;
	struct conn	 poll;		/* the poller's connection */
	struct http	*http;
	struct http	*old;		/* replaced daemon, draining */
	time_t		 old_since;
	struct tsr_store_gens gens;	/* as last published */
	int64_t		 next_poll_ms;	/* monotonic */
	int64_t		 next_tick_ms;
	/* Pushed changes (PostgreSQL): a connection of its own. */
	struct conn	 lconn;
	int		 lfd;		/* readable on a change; -1: none */
	bool		 can_listen;	/* the engine notifies changes */
	struct watch	 watch;
	/* Key upkeep runs beside the loop, on a connection of its own, so
	 * that polling never waits for a key to be generated. */
	struct conn	 tend;
	struct tsr_store *tend_st;	/* tend's, while a run is on */
	bool		 tend_db_err;	/* the run met a database error */
	pthread_t	 tend_thread;
	bool		 tend_started;
	atomic_bool	 tend_busy;
	time_t		 tend_now;
	time_t		 last_ensure;
	/* The store's CA and CRL as the TLS trust was last built with. */
	char		*own_ca_pem;
	char		*own_crl_pem;
};

/* Copy the published CA view's PEMs into l; *ca_changed says whether
 * the CA certificate itself changed (the listener must restart to name
 * it in its certificate requests). */
static void
own_trust_update(struct loop *l, bool *ca_changed)
{
	const struct caview *v;
	struct snap *ref;
	char *ca = NULL, *crl = NULL;

	*ca_changed = false;
	if ((v = server_ca_acquire(l->s, &ref)) != NULL) {
		ca = strdup(v->ca_pem);
		crl = v->crl_pem != NULL ? strdup(v->crl_pem) : NULL;
	}
	server_release(ref);
	if (v != NULL && (ca == NULL || (v->crl_pem != NULL && crl == NULL))) {
		free(ca);
		free(crl);
		return;			/* out of memory: keep the old */
	}
	*ca_changed = (ca == NULL) != (l->own_ca_pem == NULL) ||
	    (ca != NULL && strcmp(ca, l->own_ca_pem) != 0);
	free(l->own_ca_pem);
	free(l->own_crl_pem);
	l->own_ca_pem = ca;
	l->own_crl_pem = crl;
}

/* The TLS credentials from the files and the store's CA. */
static int
creds_load(struct loop *l, struct tls_creds **out, char *err, size_t len)
{
	struct tls_files f = l->s->cfg.tls;

	f.own_ca_pem = l->own_ca_pem;
	f.own_crl_pem = l->own_crl_pem;
	return tls_creds_load(&f, out, err, len);
}

static void reload_tls(struct loop *l);

/* The CA, its CRL or a certificate's revocation changed: publish the CA
 * view and trust it, so a revoked certificate is refused at once. */
static int
certs_reload(struct loop *l, struct tsr_store *st)
{
	struct tls_creds *creds;
	struct snap *sn;
	char err[512];
	bool ca_changed;

	if (server_ca_load(l->s, st) != 0)
		return -1;
	own_trust_update(l, &ca_changed);
	if (ca_changed) {
		reload_tls(l);
		return 0;
	}
	if (creds_load(l, &creds, err, sizeof(err)) != 0) {
		log_warnx("cannot trust the new CRL: %s", err);
		return -1;
	}
	if ((sn = server_creds_wrap(creds)) == NULL)
		return -1;
	server_creds_publish(l->s, sn);
	return 0;
}

/* Reload the snapshots whose counters moved; -1 when a load failed. */
static int
refresh(struct loop *l, struct tsr_store *st, const struct tsr_store_gens *g)
{
	int ret = 0;

	if (g->policy != l->gens.policy) {
		if (server_policy_load(l->s, st) == 0)
			l->gens.policy = g->policy;
		else
			ret = -1;
	}
	if (g->keys != l->gens.keys) {
		if (server_keys_load(l->s, st) == 0)
			l->gens.keys = g->keys;
		else
			ret = -1;
	}
	if (g->revocations != l->gens.revocations) {
		if (server_deny_load(l->s, st) == 0)
			l->gens.revocations = g->revocations;
		else
			ret = -1;
	}
	if (g->certs != l->gens.certs) {
		if (certs_reload(l, st) == 0)
			l->gens.certs = g->certs;
		else
			ret = -1;
	}
	return ret;
}

/* Reload the snapshots whose tables changed (CLI, another server); a
 * failure drops the connection, to be opened again. */
static void
poll_store(struct loop *l)
{
	struct tsr_why why = { "" };
	struct tsr_store_gens g;
	struct tsr_store *st;
	bool ok = false;

	if ((st = conn_get(&l->poll)) != NULL) {
		ok = tsr_store_generations(st, &g, &why) == TSR_OK &&
		    refresh(l, st, &g) == 0;
		if (!ok) {
			if (why.msg[0] != '\0')
				log_warnx("poll: %s", why.msg);
			conn_fail(&l->poll);
		}
	}
	health_read(&l->s->health, ok, time(NULL));
}

/* A listener on a connection of its own; false when there is none. */
static bool
listen_on(struct loop *l)
{
	struct tsr_why why = { "" };
	struct tsr_store *st;
	enum tsr_err rc;
	int fd;

	if (!l->can_listen || l->lfd >= 0 || (st = conn_get(&l->lconn)) == NULL)
		return false;
	if ((rc = tsr_store_listen(st, &fd, &why)) == TSR_ERR_STATE) {
		l->can_listen = false;		/* SQLite: the poll alone */
		conn_close(&l->lconn);
		return false;
	}
	if (rc != TSR_OK) {
		log_warnx("listener: %s", why.msg);
		conn_fail(&l->lconn);
		return false;
	}
	l->lfd = fd;
	return true;
}

/* (Re)start the listener.  Notifications sent while it was away are
 * gone: reload every snapshot at once. */
static void
listen_again(struct loop *l)
{
	if (!listen_on(l))
		return;
	log_info("listener: listening for changes again; full reload");
	l->gens.policy = l->gens.keys = l->gens.revocations = -1;
	l->gens.certs = -1;
	l->next_poll_ms = 0;
}

/* The listener's socket is readable: a change, or a lost connection. */
static void
on_notify(struct loop *l)
{
	struct tsr_why why = { "" };
	unsigned areas = 0;

	if (tsr_store_listen_drain(l->lconn.st, &areas, &why) != TSR_OK) {
		log_warnx("listener lost: %s", why.msg);
		l->lfd = -1;
		conn_fail(&l->lconn);
		l->next_poll_ms = 0;	/* is the store away? */
		return;
	}
	/* The counters say which snapshots to reload, and keep the safety
	 * poll from loading them a second time. */
	if (areas != 0)
		poll_store(l);
}

/* Entries whose tokens have all expired leave the deny-list; audit
 * events older than the retention go. */
static void
purge_old(struct loop *l, time_t now)
{
	struct tsr_why why = { "" };
	int purged = 0;

	if (tsr_store_revocation_purge(l->tend_st, now, &purged, &why) !=
	    TSR_OK) {
		log_warnx("cannot purge the deny-list: %s", why.msg);
		l->tend_db_err = true;
		return;
	}
	if (purged > 0)
		log_info("purged %d expired deny-list entries", purged);
	if (tsr_store_audit_purge(l->tend_st,
	    now - l->s->cfg.audit_retention_s, &purged, &why) != TSR_OK) {
		log_warnx("cannot purge the audit trail: %s", why.msg);
		l->tend_db_err = true;
	} else if (purged > 0)
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

	if ((kv = server_keys_acquire(l->s, &ks)) == NULL)
		return false;
	due = tsr_keyring_active_since(kv->kr) + l->s->cfg.rotation_period_s
	    <= now;
	memcpy(active, tsr_key_kid(tsr_keyring_active(kv->kr)),
	    sizeof(active));
	server_release(ks);
	if (!due)
		return false;
	/* Another server may rotate first: then ours is a no-op. */
	rc = tsr_keyring_rotate(l->tend_st, &o, active, now, NULL, &why);
	if (rc == TSR_OK)
		log_info("rotated signing keys: %s retired", active);
	else if (rc != TSR_ERR_CONFLICT)
		log_warnx("rotation failed: %s", tsr_err_text(&why, rc));
	l->tend_db_err |= rc == TSR_ERR_DB;
	return rc == TSR_OK;
}

/* Sign the CRL again when it is TSR_ISSUER_CRL_REFRESH old (of several
 * servers one wins), and count the certificates about to expire. */
static void
tend_certs(struct loop *l, time_t now)
{
	const struct caview *v;
	struct tsr_why why = { "" };
	struct snap *ref;
	int64_t n = 0;

	if ((v = server_ca_acquire(l->s, &ref)) != NULL &&
	    (v->crl_der == NULL ||
	    now - v->crl_this_update >= TSR_ISSUER_CRL_REFRESH) &&
	    tsr_issuer_crl_refresh(l->tend_st, v->ca, now, true, &why) !=
	    TSR_OK)
		log_warnx("cannot sign the CRL: %s", why.msg);
	server_release(ref);
	if (tsr_store_cert_count_expiring(l->tend_st, now, now + 7 * 86400,
	    &n, NULL) == TSR_OK)
		atomic_store(&l->s->certs_expiring, n);
}

/* Expire retired keys, repair the key set, purge old rows. */
static bool
upkeep_if_due(struct loop *l, time_t now)
{
	struct tsr_keyring_opts o = keyring_opts(l->s);
	struct tsr_keyring_report rep;
	struct tsr_why why = { "" };
	enum tsr_err rc;

	if (now - l->last_ensure < DAEMON_ENSURE_S)
		return false;
	l->last_ensure = now;
	purge_old(l, now);
	tend_certs(l, now);
	rc = tsr_keyring_ensure(l->tend_st, &o, now, &rep, &why);
	if (rc == TSR_OK)
		report_keys(&rep);
	else if (rc != TSR_ERR_CONFLICT)
		log_warnx("key upkeep failed: %s", tsr_err_text(&why, rc));
	l->tend_db_err |= rc == TSR_ERR_DB;
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
	    DAEMON_KEYGEN_NICE);
	/* Scheduled rotation and upkeep wait for the store: a rotation
	 * half seen by the other servers is worse than a late one. */
	if (health_get(&l->s->health, l->tend_now, NULL) != HEALTH_OK ||
	    (l->tend_st = conn_get(&l->tend)) == NULL) {
		atomic_store(&l->tend_busy, false);
		return NULL;
	}
	l->tend_db_err = false;
	changed = rotate_if_due(l, l->tend_now);
	changed |= upkeep_if_due(l, l->tend_now);
	/* Publish at once: the JWKS must not lag the store by a poll. */
	if (changed && !l->tend_db_err &&
	    server_keys_load(l->s, l->tend_st) != 0)
		l->tend_db_err = true;
	if (l->tend_db_err)
		conn_fail(&l->tend);
	l->tend_st = NULL;
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

	if (creds_load(l, &creds, err, sizeof(err)) != 0) {
		log_warnx("TLS reload failed, keeping the old credentials: %s",
		    err);
		return;
	}
	if ((sn = server_creds_wrap(creds)) == NULL)
		return;
	/* The new daemon shares the socket before the old one lets go of
	 * it, so no connection attempt meets a closed port. */
	fd = http_listen_fd(l->http);
	if ((fresh = http_start(l->s, creds, fd)) == NULL) {
		log_warnx("TLS reload failed: cannot start a new listener");
		server_release(sn);
		return;
	}
	server_creds_publish(l->s, sn);
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
		(void)notify_reloading();
		reload_tls(l);
		(void)notify_ready();
	}
	if (l->old != NULL && (http_connections(l->old) == 0 ||
	    now - l->old_since >= DAEMON_OLD_DAEMON_S)) {
		http_stop(l->old);
		l->old = NULL;
	}
	if (l->lfd < 0)
		listen_again(l);
	if (conn_now_ms() >= l->next_poll_ms) {
		poll_store(l);
		l->next_poll_ms = conn_now_ms() + (l->lfd >= 0 ?
		    DAEMON_SAFETY_POLL_MS : DAEMON_POLL_MS);
	}
	tend_keys(l, now);
}

/* SIGTERM: stop accepting, let requests in flight finish, then stop. */
static void
drain(struct loop *l)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int i;

	(void)notify_stopping();
	log_info("shutting down: draining %ld request(s)",
	    atomic_load(&l->s->inflight));
	tend_finish(l);
	(void)http_quiesce(l->http);
	if (l->old != NULL)
		(void)http_quiesce(l->old);
	for (i = 0; i < DAEMON_DRAIN_S * 50 &&
	    atomic_load(&l->s->inflight) > 0; i++)
		nanosleep(&pause, NULL);
	http_stop(l->old);
	http_stop(l->http);
}

/* Wait for a change or the next tick; a signal cuts the wait short. */
static void
run_loop(struct loop *l)
{
	struct pollfd pfd;
	int n;

	while (!got_term) {
		pfd.fd = l->lfd;	/* -1: poll only waits */
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, DAEMON_POLL_MS);
		if (got_term)
			break;
		if (n > 0 && l->lfd >= 0)
			on_notify(l);
		if (conn_now_ms() >= l->next_tick_ms) {
			l->next_tick_ms = conn_now_ms() + DAEMON_POLL_MS;
			tick(l);
		}
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
open_listener(struct daemon_config *cfg)
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

/* The connections: the store must answer at start. */
static int
open_store(struct server *s, struct loop *l)
{
	const char *dsn = s->cfg.db_path;
	struct tsr_why why = { "" };

	if (conn_open(&l->poll, dsn, "poller", &why) != TSR_OK ||
	    conn_open(&l->tend, dsn, "key upkeep", &why) != TSR_OK ||
	    revoker_open(&s->revoker, dsn, &why) != TSR_OK ||
	    conn_open(&s->est_db.conn, dsn, "issuer", &why) != TSR_OK ||
	    tsr_store_migrate(l->poll.st, NULL, &why) != TSR_OK ||
	    conn_open(&l->lconn, dsn, "listener", &why) != TSR_OK) {
		log_warnx("%s", why.msg);
		return -1;
	}
	/* The listener, then the counters, then the snapshots: a change
	 * after them is notified or seen by the first poll. */
	l->lfd = -1;
	l->can_listen = true;
	if (listen_on(l))
		log_info("listening for changes; polling every %d ms as a "
		    "safety net", DAEMON_SAFETY_POLL_MS);
	if (tsr_store_generations(l->poll.st, &l->gens, &why) != TSR_OK) {
		log_warnx("%s", why.msg);
		return -1;
	}
	return 0;
}

/*
 * --port-file: the port actually bound, for scripts that listen on port 0.
 * Written to a temporary name and renamed, so a reader never sees a
 * partial file, and only once the listener accepts connections.
 */
static int
write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		log_warnx("--port-file: path too long");
		return -1;
	}
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("--port-file: %s", tmp);
		return -1;
	}
	if (fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) == -1) {
		log_warn("--port-file: %s", path);
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/* The store, the TLS trust (which needs the store's CA), the keys and
 * the policy, then the listener. */
static int
start(struct server *s, struct loop *l)
{
	struct tls_creds *creds;
	struct snap *sn;
	char err[512];
	bool changed;
	int fd;

	if (open_store(s, l) != 0)
		return -1;
	/* The CA before the TLS trust, which names it; a bad TLS file is
	 * still refused before the keys and the policy are touched. */
	if (server_ca_load(s, l->poll.st) != 0)
		return -1;
	own_trust_update(l, &changed);
	if (creds_load(l, &creds, err, sizeof(err)) != 0) {
		fprintf(stderr, "tessera: TLS: %s\n", err);
		return -1;
	}
	if ((sn = server_creds_wrap(creds)) == NULL)
		return -1;
	server_creds_publish(s, sn);
	tls_creds_log(creds);
	watch_open(&l->watch, &s->cfg.tls);
	if (prepare_store(s, l->poll.st) != 0 ||
	    (fd = open_listener(&s->cfg)) < 0)
		return -1;
	if (s->cfg.issuer[0] == '\0')
		(void)snprintf(s->cfg.issuer, sizeof(s->cfg.issuer),
		    "https://%s:%u", s->cfg.listen_addr, s->cfg.listen_port);
	if (build_discovery(s) != 0 ||
	    (l->http = http_start(s, creds, fd)) == NULL) {
		close(fd);
		return -1;
	}
	/* The daemon's own word on the port: the real one for port 0. */
	log_info("serving on https://%s:%u issuer=%s threads=%u",
	    s->cfg.listen_addr, http_port(l->http), s->cfg.issuer,
	    s->cfg.threads);
	if (s->cfg.port_file != NULL &&
	    write_port_file(s->cfg.port_file, http_port(l->http)) != 0) {
		http_stop(l->http);
		l->http = NULL;
		return -1;
	}
	return 0;
}

int
daemon_run(const struct daemon_config *cfg)
{
	static struct server s;	/* one per process, shared by threads */
	struct auditq aw = { 0 };
	struct loop l = { 0 };
	int ret;

	log_set_level(cfg->log_level);
	server_init(&s, cfg);
	l.s = &s;
	install_signals();
	s.metrics = metrics_create();
	if (s.cfg.rate_limit > 0)
		s.ratelimit = ratelimit_create(s.cfg.rate_limit);
	if (s.cfg.anon_rate_limit > 0)
		s.anon_limit = ratelimit_create(s.cfg.anon_rate_limit);
	ret = s.metrics != NULL && (s.cfg.rate_limit == 0 || s.ratelimit) &&
	    (s.cfg.anon_rate_limit == 0 || s.anon_limit) &&
	    auditq_start(&aw, &s) == 0 && start(&s, &l) == 0 ? 0 : -1;
	if (ret == 0) {
		(void)notify_ready();	/* /healthz answers from here on */
		run_loop(&l);
	}
	auditq_stop(&aw);
	if (ret == 0)
		log_info("stopped");
	watch_close(&l.watch);
	conn_close(&l.poll);
	conn_close(&l.tend);
	conn_close(&l.lconn);
	free(l.own_ca_pem);
	free(l.own_crl_pem);
	metrics_destroy(s.metrics);
	ratelimit_destroy(s.ratelimit);
	ratelimit_destroy(s.anon_limit);
	server_finish(&s);
	return ret;
}
