/*
 * serve: the options of `tessera serve` (serveopts.h), checked into a
 * daemon configuration, and the daemon started with it.
 */
#include "serve.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "duration.h"
#include "key.h"
#include "log.h"
#include "ratelimit.h"
#include "serveopts.h"

/* The options' text, defaults filled in, and the numbers in it. */
struct serve_vals {
	const char	*text[O_N];
	int64_t		 num[O_N];
};

static int
parse_number(const char *name, const char *text, long lo, long hi,
    int64_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "tessera: --%s must be a number from %ld to "
		    "%ld\n", name, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_duration(const struct serve_opt *o, const char *text, int64_t *out)
{
	struct tsr_why why = { "" };
	char max[TSR_DURATION_BUF];

	if (tsr_duration_parse(text, out, &why) != TSR_OK) {
		fprintf(stderr, "tessera: --%s: %s\n", o->name, why.msg);
		return -1;
	}
	if (o->hi > 0 && *out > o->hi) {
		tsr_duration_format(o->hi, max);
		fprintf(stderr, "tessera: --%s is at most %s\n", o->name,
		    max);
		return -1;
	}
	if (*out < o->lo) {
		tsr_duration_format(o->lo, max);
		fprintf(stderr, "tessera: --%s is at least %s\n", o->name,
		    max);
		return -1;
	}
	return 0;
}

/* Defaults in, then every duration and number checked and converted. */
static int
parse_vals(struct serve_vals *v)
{
	const struct serve_opt *o;
	size_t i;

	for (i = 0; i < O_N; i++) {
		o = &serve_opts[i];
		if (v->text[i] == NULL)
			v->text[i] = o->dflt;
		if (o->required && v->text[i] == NULL) {
			fprintf(stderr, "tessera: serve needs --tls-cert and "
			    "--tls-key\n");
			return -1;
		}
	}
	for (i = 0; i < O_N; i++) {
		o = &serve_opts[i];
		if (v->text[i] == NULL || o->kind == SERVE_TEXT)
			continue;
		if (o->kind == SERVE_DURATION ?
		    parse_duration(o, v->text[i], &v->num[i]) :
		    parse_number(o->name, v->text[i], o->lo, o->hi,
		    &v->num[i]))
			return -1;
	}
	return 0;
}

/* "ADDR:PORT", IPv4 only. */
static int
parse_listen(const char *text, struct daemon_config *cfg, char *addr,
    size_t addr_len)
{
	const char *colon = strrchr(text, ':');
	int64_t port = -1;

	if (colon == NULL || (size_t)(colon - text) >= addr_len ||
	    colon == text ||
	    parse_number("listen port", colon + 1, 0, 65535, &port) != 0) {
		fprintf(stderr, "tessera: --listen wants ADDR:PORT\n");
		return -1;
	}
	memcpy(addr, text, (size_t)(colon - text));
	addr[colon - text] = '\0';
	cfg->listen_addr = addr;
	cfg->listen_port = (uint16_t)port;
	return 0;
}

/* What the table cannot check: values with a syntax of their own. */
static int
check_text(const struct serve_vals *v, struct daemon_config *cfg)
{
	int level;

	if (!tsr_key_bits_valid((int)v->num[O_BITS])) {
		fprintf(stderr, "tessera: --key-bits must be 2048, 3072 or "
		    "4096\n");
		return -1;
	}
	if (v->text[O_RATE] != NULL &&
	    (cfg->rate_limit = ratelimit_parse(v->text[O_RATE])) < 0) {
		fprintf(stderr, "tessera: --rate-limit wants N/s, N from 1 to "
		    "%d\n", RATELIMIT_MAX_RATE);
		return -1;
	}
	if ((cfg->anon_rate_limit = ratelimit_parse(v->text[O_ANON_RATE])) <
	    0) {
		fprintf(stderr, "tessera: --anonymous-rate-limit wants N/s, N "
		    "from 1 to %d\n", RATELIMIT_MAX_RATE);
		return -1;
	}
	if (v->text[O_ISSUER] != NULL &&
	    (strlen(v->text[O_ISSUER]) >= sizeof(cfg->issuer) ||
	    strncmp(v->text[O_ISSUER], "https://", 8) != 0)) {
		fprintf(stderr, "tessera: --issuer must be an https URL\n");
		return -1;
	}
	if ((level = log_level_parse(v->text[O_LOG])) < 0) {
		fprintf(stderr, "tessera: --log-level wants error, warn, info "
		    "or debug\n");
		return -1;
	}
	cfg->log_level = (enum log_level)level;
	return 0;
}

static int
make_config(struct serve_vals *v, struct daemon_config *cfg, char *addr,
    size_t addr_len)
{
	long threads = sysconf(_SC_NPROCESSORS_ONLN);

	if (parse_vals(v) != 0 ||
	    parse_listen(v->text[O_LISTEN], cfg, addr, addr_len) != 0 ||
	    check_text(v, cfg) != 0)
		return -1;
	if (v->text[O_THREADS] != NULL)
		threads = (long)v->num[O_THREADS];
	cfg->tls = (struct tls_files){ v->text[O_CERT], v->text[O_KEY],
	    v->text[O_CA], v->text[O_CRL], NULL, NULL };
	if (v->text[O_ISSUER] != NULL)
		(void)snprintf(cfg->issuer, sizeof(cfg->issuer), "%s",
		    v->text[O_ISSUER]);
	cfg->token_ttl_s = v->num[O_TTL];
	cfg->rotation_period_s = v->num[O_PERIOD];
	cfg->jwks_max_age_s = v->num[O_MAX_AGE];
	cfg->clock_skew_s = v->num[O_SKEW];
	cfg->audit_retention_s = v->num[O_RETENTION];
	cfg->key_bits = (int)v->num[O_BITS];
	cfg->threads = threads > 0 ? (unsigned)threads : 1;
	cfg->conn_limit = (unsigned)v->num[O_CONNS];
	cfg->per_ip_limit = (unsigned)v->num[O_PER_IP];
	cfg->conn_timeout_s = (unsigned)v->num[O_TIMEOUT];
	cfg->handshake_timeout_s = (unsigned)v->num[O_HANDSHAKE];
	cfg->max_anon_per_ip = (unsigned)v->num[O_ANON];
	cfg->port_file = v->text[O_PORT_FILE];
	cfg->max_staleness_s = v->num[O_STALE];
	cfg->audit_max_rows = v->num[O_AUDIT_MAX];
	return 0;
}

int
cli_serve(struct cli *c, int argc, char **argv)
{
	static struct daemon_config cfg;	/* large: not on the stack */
	struct args_opt opts[O_N + 1];
	struct serve_vals v;
	char addr[64];
	size_t i;
	int ex;

	memset(&v, 0, sizeof(v));
	memset(opts, 0, sizeof(opts));
	for (i = 0; i < O_N; i++) {
		opts[i].name = serve_opts[i].name;
		opts[i].value = &v.text[i];
	}
	if ((ex = cli_parse(c, argc, argv, opts, 1, 1)) != 0)
		return ex;
	memset(&cfg, 0, sizeof(cfg));
	if (make_config(&v, &cfg, addr, sizeof(addr)) != 0)
		return CLI_EXIT_USAGE;
	cfg.db_path = c->db_path;
	cfg.key_dir = c->key_dir;
	if ((ex = cli_keks(c)) != 0)
		return ex;
	cfg.keks = c->keks;
	return daemon_run(&cfg) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERR;
}
