/*
 * est: the CA's endpoints (README, "Service certificates"): EST
 * (RFC 7030) cacerts, simpleenroll with a one-time secret over HTTP
 * Basic, simplereenroll over mTLS with the current certificate; and the
 * CRL.  http.c routes here; this module answers.
 */
#ifndef TSR_DAEMON_EST_H
#define TSR_DAEMON_EST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "conn.h"
#include "seal.h"
#include "store/store.h"
#include "tls.h"

struct server;

/* What the server publishes of the store's CA (one snapshot). */
struct est_view {
	struct tsr_ca	*ca;
	char		*ca_pem;		/* the CA certificate */
	char		*cacerts;		/* base64 PKCS #7 certs-only */
	size_t		 cacerts_len;
	uint8_t		*crl_der;		/* NULL before the first */
	size_t		 crl_len;
	char		*crl_pem;
	size_t		 crl_pem_len;
	int64_t		 crl_this_update;
};

/* The view of st's CA (key from key_dir, or sealed under keks when not
 * NULL): 0, 1 when the store has no CA
 * (*out NULL), -1 after logging why. */
int est_view_load(struct tsr_store *st, const char *key_dir,
    const struct tsr_seal_keks *keks, struct est_view **out);
void est_view_free(void *view);

/* The connection issuance writes on, with its mutex; it comes back by
 * itself after a database restart (conn.h). */
struct est_db {
	pthread_mutex_t	 mu;
	struct conn	 conn;		/* unset until est_db_open */
};

void est_db_init(struct est_db *db);
enum tsr_err est_db_open(struct est_db *db, const char *db_path,
    struct tsr_why *why);
void est_db_finish(struct est_db *db);

struct est_call {
	const char		*authorization;	/* header, or NULL */
	const char		*body;
	size_t			 body_len;
	const struct tls_peer	*peer;
	bool			 peer_ok;
	const char		*peer_reason;
	const char		*address;	/* for the audit trail */
};

struct est_answer {
	unsigned	 status;
	char		*body;			/* malloc'd */
	size_t		 body_len;
	const char	*content_type;
	bool		 base64;		/* Content-Transfer-Encoding */
	bool		 challenge;		/* WWW-Authenticate: Basic */
	char		 client[TSR_MAX_NAME + 1];
};

/* GET /.well-known/est/cacerts and GET /crl (pem: ?pem). */
void est_cacerts(struct server *s, struct est_answer *a);
void est_crl(struct server *s, bool pem, struct est_answer *a);

/* POST /.well-known/est/simpleenroll (reenroll false) and
 * simplereenroll (true).  Audited. */
void est_enroll(struct server *s, const struct est_call *c, bool reenroll,
    struct est_answer *a);

#endif
