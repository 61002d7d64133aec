/*
 * serveopts: every option of `tessera serve` and its default, in one
 * table used both to parse the command line (serve.c) and to print the
 * usage (cli.c), so the two cannot drift apart.
 */
#ifndef TSR_CLI_SERVEOPTS_H
#define TSR_CLI_SERVEOPTS_H

#include <stdbool.h>
#include <stdio.h>

enum serve_kind {
	SERVE_TEXT,		/* checked on its own by serve.c */
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
	O_CONNS, O_PER_IP, O_ANON, O_TIMEOUT, O_HANDSHAKE, O_PORT_FILE, O_STALE,
	O_AUDIT_MAX, O_ANON_RATE, O_N
};

extern const struct serve_opt serve_opts[O_N];

/* The serve line(s) of the usage, options with their defaults. */
void serve_usage(FILE *stream);

#endif
