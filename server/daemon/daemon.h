/*
 * daemon: the long-running server.  The one entry point from outside:
 * whoever starts it (the `tessera serve` command) fills a configuration
 * and calls daemon_run, which returns when the server has stopped.
 */
#ifndef TSR_DAEMON_DAEMON_H
#define TSR_DAEMON_DAEMON_H

#include <stdint.h>

#include "log.h"
#include "tls.h"

#define DAEMON_MAX_ISSUER	512

struct daemon_config {
	const char	*db_path;
	const char	*key_dir;
	const char	*listen_addr;		/* IPv4, "127.0.0.1" */
	uint16_t	 listen_port;		/* 0: any free port */
	char		 issuer[DAEMON_MAX_ISSUER]; /* "": https://ADDR:PORT */
	struct tls_files tls;
	int64_t		 token_ttl_s;
	int64_t		 rotation_period_s;
	int64_t		 jwks_max_age_s;
	int64_t		 clock_skew_s;
	int64_t		 audit_retention_s;
	double		 rate_limit;		/* per client per s; 0 = off */
	int		 key_bits;
	unsigned	 threads;
	unsigned	 conn_limit;
	unsigned	 per_ip_limit;
	unsigned	 conn_timeout_s;
	unsigned	 handshake_timeout_s;	/* handshake + headers */
	unsigned	 max_anon_per_ip;	/* without a certificate */
	const char	*port_file;	/* NULL, or where to write the port */
	enum log_level	 log_level;
};

/*
 * Serve until SIGTERM or SIGINT, then drain the requests in flight.
 * The configuration is checked already (the command line's job); the
 * daemon keeps a copy.  Returns 0 after a clean stop, -1 when the server
 * could not start (why is logged).  Once per process.
 */
int daemon_run(const struct daemon_config *cfg);

#endif
