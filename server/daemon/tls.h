/*
 * tls: the server's TLS material and client certificate verification
 * (RFC 8705 §2.1.1, tls_client_auth).
 *
 * A struct tls_creds is loaded from files as a whole and is immutable
 * afterwards, so a reload builds a new one and a failed reload keeps the
 * old.  The client CA bundle (and CRL) form our own trust list: the
 * system store is never consulted.
 */
#ifndef TSR_DAEMON_TLS_H
#define TSR_DAEMON_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "model.h"
#include "token.h"

#define TLS_MAX_FILE	(1024 * 1024)	/* PEM, CA bundle or CRL */
#define TLS_MAX_CHAIN	8		/* peer certificates looked at */
#define TLS_WARN_DAYS	7

struct tls_files {
	const char	*cert;
	const char	*key;
	const char	*ca;		/* client CA bundle; may be NULL */
	const char	*crl;		/* may be NULL */
	/* tessera's own CA and its CRL (PEM text from the store), trusted
	 * besides the bundle; NULL when the store has no CA. */
	const char	*own_ca_pem;
	const char	*own_crl_pem;
};

struct tls_creds;

/* The identity a verified client certificate proves. */
struct tls_peer {
	char	cn[TSR_MAX_CN + 1];
	char	x5t[TSR_TOKEN_X5T_BUF];		/* base64url SHA-256 of DER */
	char	sha256_hex[65];			/* for logs and audit */
	int64_t	valid_until;			/* earliest notAfter in chain */
	char	serial[TSR_MAX_SERIAL + 1];	/* the leaf's, lowercase hex */
};

/*
 * Load and check every file: the server certificate must be valid now
 * and match its key, the CA bundle must hold a certificate, every CRL
 * must parse and be signed by a CA of the bundle (its dates are not
 * checked: a stale CRL still revokes).  On failure err says which file
 * and why.
 */
int tls_creds_load(const struct tls_files *f, struct tls_creds **out,
    char *err, size_t err_len);
void tls_creds_free(struct tls_creds *c);

/* NUL-terminated PEM text for libmicrohttpd; borrowed from c. */
const char *tls_creds_cert_pem(const struct tls_creds *c);
const char *tls_creds_key_pem(const struct tls_creds *c);
const char *tls_creds_ca_pem(const struct tls_creds *c);
/* Server certificate's notAfter, Unix seconds. */
int64_t tls_creds_cert_expiry(const struct tls_creds *c);

/* The earliest nextUpdate of the client CRLs, Unix seconds; false when
 * there is no CRL or none has a nextUpdate. */
bool tls_creds_crl_next_update(const struct tls_creds *c, int64_t *next);

/* Log fingerprints and expiry (never key material); warn when the
 * server or a client CA certificate has less than TLS_WARN_DAYS left. */
void tls_creds_log(const struct tls_creds *c);

/*
 * Verify the peer's certificate of session against c's client CA: issued
 * by a CA of the bundle itself (intermediates the peer sends are not
 * trusted), validity period, CRL, not a CA, the clientAuth OID itself
 * when an EKU extension is present, a key of at least 112-bit strength,
 * exactly one CN.  0 and *peer filled on success;
 * -1 and *reason (a static string for the audit trail) on failure, with
 * only peer->sha256_hex and x5t filled when a certificate was presented.
 */
int tls_verify_peer(const struct tls_creds *c, gnutls_session_t session,
    struct tls_peer *peer, const char **reason);

#endif
