#include "serveopts.h"

#include <string.h>

#include "key.h"

#define SERVE_STR(x)	#x
#define SERVE_XSTR(x)	SERVE_STR(x)
#define SERVE_USAGE_COLS 78	/* the usage lines wrap before this */

/* In the order of the usage.  Connection limits suit one busy issuer;
 * --threads defaults to the number of processors online. */
const struct serve_opt serve_opts[O_N] = {
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
	/* How long a store outage is ridden out from memory. */
	[O_STALE] = { "max-staleness", NULL, "5m", SERVE_DURATION, 0,
	    86400 },
	[O_AUDIT_MAX] = { "audit-max-rows", "N", "1000000", SERVE_NUMBER,
	    1000, 1000000000 },
	[O_ANON_RATE] = { "anonymous-rate-limit", "N/s", "100/s",
	    SERVE_TEXT },
};

void
serve_usage(FILE *stream)
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
