/*
 * agent: `tessera agent`, which runs beside a service and keeps its
 * client certificate (and optionally an access token) fresh: it renews
 * the certificate over EST simplereenroll (RFC 7030 §4.2.2) with a new
 * key at a fraction of its lifetime, replaces the files (see renew.h for
 * the order), runs a hook, and retries with backoff while the server
 * fails.  SIGTERM or SIGINT end it with status 0; a certificate that has
 * expired ends it with status 1, since only an operator can bootstrap a
 * new one.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "cli.h"
#include "esc.h"
#include "estc.h"
#include "log.h"
#include "renew.h"

#define AGENT_DEFAULT_RENEW_AT	0.66
#define AGENT_MAX_SLEEP		60	/* look at the files this often */
#define AGENT_HOOK_TIMEOUT	60	/* then the hook is killed */
/* A certificate just renewed is not renewed again sooner than this,
 * whatever the fraction says (its notBefore is backdated). */
#define AGENT_MIN_INTERVAL	5
#define AGENT_MAX_TOKEN		16384

static volatile sig_atomic_t agent_stop;
static volatile sig_atomic_t agent_child;

struct agent {
	const char	*cert_path, *key_path, *ca_path;
	const char	*exec, *audience, *token_path;
	double		 renew_at;
	struct estc_url	 url;
	sigset_t	 old_mask, wait_mask;
	char		 serial[sizeof(((struct renew_cert *)0)->serial)];
	int64_t		 due;		/* renew the certificate from then */
	int64_t		 not_before;	/* no renewal before then */
	unsigned	 cert_fails;
	int64_t		 token_due;	/* fetch a token from then */
	unsigned	 token_fails;
};

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		agent_child = 1;
	else
		agent_stop = 1;
}

/* Uniform in [0, 1). */
static double
agent_random(void)
{
	uint32_t u = 0;

	(void)gnutls_rnd(GNUTLS_RND_NONCE, &u, sizeof(u));
	return (double)u / 4294967296.0;
}

/*
 * The signals stay blocked but while the agent waits (ppoll with
 * wait_mask), so that one arriving just before a wait is not lost.
 */
static void
signals_setup(struct agent *a)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &block, &a->old_mask);
	a->wait_mask = a->old_mask;
	sigdelset(&a->wait_mask, SIGTERM);
	sigdelset(&a->wait_mask, SIGINT);
	sigdelset(&a->wait_mask, SIGCHLD);
}

/* Sleep until the clock says at (at most AGENT_MAX_SLEEP) or a signal. */
static void
sleep_until(const struct agent *a, int64_t at)
{
	int64_t d = at - (int64_t)time(NULL);
	struct timespec ts;

	if (d > AGENT_MAX_SLEEP)
		d = AGENT_MAX_SLEEP;
	if (d < 0)
		d = 0;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = d == 0 ? 100000000 : 0;
	(void)ppoll(NULL, 0, &ts, &a->wait_mask);
}

static void
format_time(int64_t at, char *buf, size_t len)
{
	cli_format_time(at, buf, len);
}

/* The request's connection settings, with the current files. */
static void
conf_fill(const struct agent *a, struct estc_conf *c, const char *cert,
    size_t cert_len, const char *key, size_t key_len)
{
	memset(c, 0, sizeof(*c));
	c->url = &a->url;
	c->ca_file = a->ca_path;
	c->cert_pem = cert;
	c->cert_len = cert_len;
	c->key_pem = key;
	c->key_len = key_len;
	c->wait_mask = &a->wait_mask;
	c->stop = &agent_stop;
}

/* The start of a refusal's body, escaped, for the log. */
static const char *
body_excerpt(const struct estc_response *r, char *buf, size_t len)
{
	char cut[121];

	(void)snprintf(cut, sizeof(cut), "%s", r->body ? r->body : "");
	cut[strcspn(cut, "\r\n")] = '\0';
	return tsr_esc(cut, buf, len);
}

/* Wait for the hook (its own process group) for AGENT_HOOK_TIMEOUT s. */
static int
hook_wait(const struct agent *a, pid_t pid)
{
	time_t end = time(NULL) + AGENT_HOOK_TIMEOUT;
	struct timespec ts = { 1, 0 };
	int status;
	pid_t w;

	for (;;) {
		agent_child = 0;
		if ((w = waitpid(pid, &status, WNOHANG)) == pid)
			return status;
		if (w == -1 && errno != EINTR)
			return -1;
		if (time(NULL) >= end) {
			log_warnx("--exec: still running after %ds: killed",
			    AGENT_HOOK_TIMEOUT);
			(void)kill(-pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		if (!agent_child)
			(void)ppoll(NULL, 0, &ts, &a->wait_mask);
	}
}

/* Run --exec with /bin/sh -c, as the service manager would. */
static void
run_hook(const struct agent *a)
{
	char *argv[] = { "sh", "-c", (char *)a->exec, NULL };
	pid_t pid;
	int status;

	if ((pid = fork()) == -1) {
		log_warn("--exec: fork");
		return;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		(void)signal(SIGTERM, SIG_DFL);
		(void)signal(SIGINT, SIG_DFL);
		(void)signal(SIGCHLD, SIG_DFL);
		(void)sigprocmask(SIG_SETMASK, &a->old_mask, NULL);
		execvp("/bin/sh", argv);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	status = hook_wait(a, pid);
	if (status == -1)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("--exec: the hook exited 0");
	else if (WIFEXITED(status))
		log_warnx("--exec: the hook exited %d", WEXITSTATUS(status));
	else
		log_warnx("--exec: the hook was killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* audience, percent-encoded (RFC 3986 unreserved characters as is). */
static int
form_body(const char *audience, char *buf, size_t size)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)audience;
	size_t n;
	int len;

	len = snprintf(buf, size, "grant_type=client_credentials&audience=");
	if (len < 0 || (size_t)len >= size)
		return -1;
	for (n = (size_t)len; *p != '\0'; p++) {
		if (n + 4 > size)
			return -1;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf[n++] = (char)*p;
		else {
			buf[n++] = '%';
			buf[n++] = hexd[*p >> 4];
			buf[n++] = hexd[*p & 15];
		}
	}
	buf[n] = '\0';
	return (int)n;
}

/* The token and its lifetime out of a 200 answer of /token. */
static int
token_parse(const struct estc_response *r, const char **token,
    json_int_t *expires_in, json_t **doc)
{
	const char *t;

	if ((*doc = json_loadb(r->body, r->body_len, 0, NULL)) == NULL ||
	    json_unpack(*doc, "{s:s,s:I}", "access_token", &t, "expires_in",
	    expires_in) != 0 || *expires_in <= 0 || *expires_in > 86400 * 366)
		return -1;
	/* A JWS compact serialization: base64url and dots only. */
	if (strlen(t) == 0 || strlen(t) > AGENT_MAX_TOKEN || strspn(t,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "-_.") != strlen(t))
		return -1;
	*token = t;
	return 0;
}

/* POST /token and write the token file; 0 or -1 (logged). */
static int
fetch_token(struct agent *a, const struct estc_conf *c)
{
	struct estc_response r;
	char body[1024], err[512], ex[TSR_ESC_BUF(120)];
	const char *token;
	json_int_t expires_in = 0;
	json_t *doc = NULL;
	int len, rc = -1;

	if ((len = form_body(a->audience, body, sizeof(body))) < 0) {
		log_warnx("token: --token-audience too long");
		return -1;
	}
	if (estc_request(c, "POST", "/token",
	    "application/x-www-form-urlencoded", body, (size_t)len, &r, err,
	    sizeof(err)) != 0) {
		log_warnx("token: %s", err);
		return -1;
	}
	if (r.status != 200)
		log_warnx("token: HTTP %d: %s", r.status,
		    body_excerpt(&r, ex, sizeof(ex)));
	else if (token_parse(&r, &token, &expires_in, &doc) != 0)
		log_warnx("token: malformed answer");
	else if (renew_write_file(a->token_path, token, strlen(token), 0600,
	    err, sizeof(err)) != 0)
		log_warnx("token: %s", err);
	else {
		/* Renewed at 2/3 of its lifetime. */
		a->token_due = (int64_t)time(NULL) + expires_in * 2 / 3;
		log_info("token for %s written to %s: expires in %llds",
		    tsr_esc(a->audience, ex, sizeof(ex)), a->token_path,
		    (long long)expires_in);
		rc = 0;
	}
	json_decref(doc);
	estc_response_free(&r);
	return rc;
}

/* The new key's certificate out of a 200 answer, then the files. */
static int
install(struct agent *a, const struct estc_response *r,
    gnutls_x509_privkey_t key, const struct renew_cert *cur)
{
	struct renew_cert info;
	char err[512], *pem = NULL, *key_pem = NULL, na[32];
	size_t pem_len = 0, key_len = 0;
	int rc = -1;

	if (renew_take_cert(r->body, r->body_len, key, cur->cn, &pem,
	    &pem_len, &info, err, sizeof(err)) != 0)
		log_warnx("simplereenroll: %s", err);
	else if (renew_key_pem(key, &key_pem, &key_len) != 0)
		log_warnx("simplereenroll: cannot export the new key");
	else if (renew_install(a->cert_path, pem, pem_len, a->key_path,
	    key_pem, key_len, err, sizeof(err)) != 0)
		log_warnx("cannot replace the files: %s", err);
	else {
		format_time(info.not_after, na, sizeof(na));
		log_info("renewed %s: serial %s, notAfter %s, sha256 %s",
		    cur->cn, info.serial, na, info.sha256);
		rc = 0;
	}
	free(pem);
	renew_wipe(key_pem, key_len);
	return rc;
}

/* One renewal: a new key, a request, simplereenroll, the files. */
static int
renew_cert(struct agent *a, const struct estc_conf *c, const char *key_pem,
    size_t key_len, const struct renew_cert *cur)
{
	gnutls_x509_privkey_t key = NULL;
	struct estc_response r = { 0 };
	char err[512], ex[TSR_ESC_BUF(120)], *csr = NULL;
	size_t csr_len = 0;
	int rc = -1;

	if (renew_new_key(key_pem, key_len, &key, err, sizeof(err)) != 0 ||
	    renew_csr(key, cur->cn, &csr, &csr_len, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (estc_request(c, "POST", "/.well-known/est/simplereenroll",
	    "application/pkcs10", csr, csr_len, &r, err, sizeof(err)) != 0)
		log_warnx("simplereenroll: %s", err);
	else if (r.status != 200)
		log_warnx("simplereenroll: HTTP %d: %s", r.status,
		    body_excerpt(&r, ex, sizeof(ex)));
	else
		rc = install(a, &r, key, cur);
out:
	estc_response_free(&r);
	free(csr);
	gnutls_x509_privkey_deinit(key);
	return rc;
}

/* After a failure: when to try again (never past the expiry). */
static int64_t
retry_at(unsigned *fails, int64_t not_after)
{
	int64_t at;

	if (*fails < 64)
		(*fails)++;
	at = (int64_t)time(NULL) + renew_backoff(*fails, agent_random());
	return at < not_after ? at : not_after;
}

/*
 * One round: read the files, renew or fetch a token if due.  Returns -1
 * to go on (*wake set), or an exit status.
 */
static int
agent_round(struct agent *a, int64_t *wake)
{
	struct renew_cert cur;
	struct estc_conf c;
	char err[512], *cert = NULL, *key = NULL, na[32];
	size_t cert_len = 0, key_len = 0;
	int64_t now = time(NULL);
	int ex = -1;

	if ((cert = renew_read_file(a->cert_path, &cert_len, err,
	    sizeof(err))) == NULL || (key = renew_read_file(a->key_path,
	    &key_len, err, sizeof(err))) == NULL ||
	    renew_cert_parse(cert, cert_len, &cur, err, sizeof(err)) != 0) {
		log_warnx("cannot read the certificate: %s", err);
		ex = CLI_EXIT_ERR;
		goto out;
	}
	if (now >= cur.not_after) {
		format_time(cur.not_after, na, sizeof(na));
		log_warnx("certificate %s expired at %s; re-bootstrap with "
		    "tessera cert enroll-token", a->cert_path, na);
		ex = CLI_EXIT_ERR;
		goto out;
	}
	if (strcmp(cur.serial, a->serial) != 0) {
		/* A new certificate (ours or an operator's): its schedule. */
		(void)snprintf(a->serial, sizeof(a->serial), "%s", cur.serial);
		a->due = renew_due(cur.not_before, cur.not_after, a->renew_at,
		    agent_random());
		if (a->due < a->not_before)
			a->due = a->not_before;
		a->cert_fails = 0;
		format_time(a->due, na, sizeof(na));
		log_info("certificate %s serial %s: renewal at %s",
		    cur.cn, cur.serial, na);
	}
	conf_fill(a, &c, cert, cert_len, key, key_len);
	if (now >= a->due) {
		if (renew_cert(a, &c, key, key_len, &cur) == 0) {
			a->token_due = 0;	/* bound to the old certificate */
			a->not_before = (int64_t)time(NULL) +
			    AGENT_MIN_INTERVAL;
			ex = -2;		/* re-read the files, then hook */
			goto out;
		}
		a->due = retry_at(&a->cert_fails, cur.not_after);
	}
	if (a->audience != NULL && now >= a->token_due && !agent_stop) {
		if (fetch_token(a, &c) == 0)
			a->token_fails = 0;
		else
			a->token_due = retry_at(&a->token_fails, INT64_MAX);
	}
	*wake = a->due < cur.not_after ? a->due : cur.not_after;
	if (a->audience != NULL && a->token_due < *wake)
		*wake = a->token_due;
out:
	free(cert);
	renew_wipe(key, key_len);
	return ex;
}

static int
agent_loop(struct agent *a)
{
	int64_t wake = 0;
	bool hook = false;
	int ex;

	if (renew_recover(a->cert_path, a->key_path))
		log_info("completed the replacement of %s an earlier run "
		    "left half done", a->cert_path);
	log_info("tessera agent %s: %s for %s", TSR_VERSION, a->cert_path,
	    a->url.host);
	while (!agent_stop) {
		if ((ex = agent_round(a, &wake)) >= 0)
			return ex;
		if (ex == -2) {
			hook = a->exec != NULL;
			continue;
		}
		/* After the token that goes with the new certificate. */
		if (hook && !agent_stop)
			run_hook(a);
		hook = false;
		if (!agent_stop)
			sleep_until(a, wake);
	}
	log_info("stopping on a signal");
	return CLI_EXIT_OK;
}

/* --renew-at: a fraction strictly between 0 and 1. */
static int
parse_fraction(const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !isfinite(v) ||
	    v <= 0.0 || v >= 1.0) {
		fprintf(stderr, "tessera: --renew-at must be a fraction "
		    "between 0 and 1, such as 0.66\n");
		return -1;
	}
	*out = v;
	return 0;
}

/* The options that must be there, and go together. */
static int
check_options(struct agent *a, const char *server, const char *renew_at)
{
	char err[256];

	if (server == NULL || a->cert_path == NULL || a->key_path == NULL ||
	    a->ca_path == NULL) {
		fprintf(stderr, "tessera: agent needs --server, --cert, --key "
		    "and --ca\n");
		return CLI_EXIT_USAGE;
	}
	if ((a->audience == NULL) != (a->token_path == NULL)) {
		fprintf(stderr, "tessera: --token-audience and --token-file "
		    "go together\n");
		return CLI_EXIT_USAGE;
	}
	if (a->audience != NULL && (a->audience[0] == '\0' ||
	    strlen(a->audience) > 200)) {
		fprintf(stderr, "tessera: --token-audience must be 1 to 200 "
		    "characters\n");
		return CLI_EXIT_USAGE;
	}
	if (renew_at != NULL && parse_fraction(renew_at, &a->renew_at) != 0)
		return CLI_EXIT_USAGE;
	if (estc_url_parse(server, &a->url, err, sizeof(err)) != 0) {
		fprintf(stderr, "tessera: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* The files must be there before the agent settles down. */
static int
check_files(const struct agent *a)
{
	struct renew_cert cur;
	char err[512], *buf;
	size_t len = 0;

	if ((buf = renew_read_file(a->ca_path, &len, err, sizeof(err))) ==
	    NULL || renew_cert_parse(buf, len, &cur, err, sizeof(err)) != 0) {
		fprintf(stderr, "tessera: --ca: %s\n", err);
		free(buf);
		return CLI_EXIT_ERR;
	}
	free(buf);
	if ((buf = renew_read_file(a->key_path, &len, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "tessera: --key: %s\n", err);
		return CLI_EXIT_ERR;
	}
	renew_wipe(buf, len);
	if ((buf = renew_read_file(a->cert_path, &len, err, sizeof(err))) ==
	    NULL || renew_cert_parse(buf, len, &cur, err, sizeof(err)) != 0) {
		fprintf(stderr, "tessera: --cert: %s\n", err);
		free(buf);
		return CLI_EXIT_ERR;
	}
	free(buf);
	return 0;
}

int
cli_agent(struct cli *c, int argc, char **argv)
{
	struct agent a = { .renew_at = AGENT_DEFAULT_RENEW_AT };
	const char *server = NULL, *renew_at = NULL;
	struct args_opt opts[] = {
		{ .name = "server", .value = &server },
		{ .name = "cert", .value = &a.cert_path },
		{ .name = "key", .value = &a.key_path },
		{ .name = "ca", .value = &a.ca_path },
		{ .name = "renew-at", .value = &renew_at },
		{ .name = "exec", .value = &a.exec },
		{ .name = "token-audience", .value = &a.audience },
		{ .name = "token-file", .value = &a.token_path },
		{ .name = NULL },
	};
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 1, 1)) != 0)
		return ex;
	if ((ex = check_options(&a, server, renew_at)) != 0) {
		if (ex == CLI_EXIT_USAGE)
			cli_usage(stderr);
		return ex;
	}
	if ((ex = check_files(&a)) != 0)
		return ex;
	signals_setup(&a);
	return agent_loop(&a);
}
