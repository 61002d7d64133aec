/*
 * serve: the options of `tessera serve`, checked into a daemon
 * configuration.  Every option and its default is in one table, used
 * both to parse the command line and to print the usage.
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

#define SERVE_STR(x)	#x
#define SERVE_XSTR(x)	SERVE_STR(x)
#define SERVE_USAGE_COLS 78	/* the usage lines wrap before this */

enum serve_kind {
	SERVE_TEXT,		/* checked on its own below */
	SERVE_DURATION,		/* "90s", "5m"...; lo.., at most hi when hi > 0 */
	SERVE_NUMBER,		/* decimal, lo..hi */
};

struct serve_opt {
	const char	*name;
	const char	*meta;		/* in the usage; NULL: the default */
	const char	*dflt;		/* parsed as if given; NULL: none */
	enum serve_kind	 kind;
	long		 lo, hi;
	bool		 required;
};

enum serve_id {
	O_LISTEN, O_CERT, O_KEY, O_CA, O_CRL, O_ISSUER, O_TTL, O_PERIOD,
	O_MAX_AGE, O_SKEW, O_BITS, O_THREADS, O_LOG, O_RETENTION, O_RATE,
	O_CONNS, O_PER_IP, O_ANON, O_TIMEOUT, O_HANDSHAKE, O_PORT_FILE, O_N
};

/* In the order of the usage.  Connection limits suit one busy issuer;
 * --threads defaults to the number of processors online. */
static const struct serve_opt serve_opts[O_N] = {
	[O_LISTEN] = { "listen", "ADDR:PORT", "127.0.0.1:8443", SERVE_TEXT },
	[O_CERT] = { "tls-cert", "F", NULL, SERVE_TEXT, .required = true },
	[O_KEY] = { "tls-key", "F", NULL, SERVE_TEXT, .required = true },
	[O_CA] = { "client-ca", "F", NULL, SERVE_TEXT },
	[O_CRL] = { "client-crl", "F", NULL, SERVE_TEXT },
	[O_ISSUER] = { "issuer", "URL", NULL, SERVE_TEXT },
	[O_TTL] = { "token-ttl", NULL, "5m", SERVE_DURATION },
	[O_PERIOD] = { "rotation-period", NULL, "24h", SERVE_DURATION },
	[O_MAX_AGE] = { "jwks-max-age", NULL, "5m", SERVE_DURATION },
	[O_SKEW] = { "clock-skew", NULL, "60s", SERVE_DURATION },
	[O_BITS] = { "key-bits", NULL, SERVE_XSTR(TSR_KEY_DEFAULT_BITS),
	    SERVE_NUMBER, 2048, 4096 },
	[O_THREADS] = { "threads", "N", NULL, SERVE_NUMBER, 1, 256 },
	[O_LOG] = { "log-level", NULL, "info", SERVE_TEXT },
	[O_RETENTION] = { "audit-retention", NULL, "30d", SERVE_DURATION },
	[O_RATE] = { "rate-limit", "N/s", NULL, SERVE_TEXT },
	[O_CONNS] = { "max-connections", "N", "1024", SERVE_NUMBER, 1,
	    65536 },
	[O_PER_IP] = { "max-connections-per-ip", "N", "256", SERVE_NUMBER, 1,
	    65536 },
	[O_ANON] = { "max-anon-connections-per-ip", "N", "32", SERVE_NUMBER,
	    1, 65536 },
	[O_TIMEOUT] = { "connection-timeout", NULL, "30s", SERVE_DURATION, 0,
	    3600 },
	[O_HANDSHAKE] = { "handshake-timeout", NULL, "10s", SERVE_DURATION, 1,
	    3600 },
	[O_PORT_FILE] = { "port-file", "FILE", NULL, SERVE_TEXT },
};

/* The options' text, defaults filled in, and the numbers in it. */
struct serve_vals {
	const char	*text[O_N];
	int64_t		 num[O_N];
};

void
cli_serve_usage(FILE *stream)
{
	const struct serve_opt *o;
	char item[128];
	size_t col;
	int n;

	fputs("  serve", stream);
	col = strlen("  serve");
	for (o = serve_opts; o < serve_opts + O_N; o++) {
		n = snprintf(item, sizeof(item), o->required ? "--%s %s" :
		    "[--%s %s]", o->name, o->meta ? o->meta : o->dflt);
		if (n < 0 || (size_t)n >= sizeof(item))
			continue;
		if (col + 1 + (size_t)n > SERVE_USAGE_COLS) {
			fputs("\n       ", stream);
			col = 7;
		}
		fprintf(stream, " %s", item);
		col += 1 + (size_t)n;
	}
	fputc('\n', stream);
}

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
	return daemon_run(&cfg) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERR;
}
