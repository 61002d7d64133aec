/*
 * renew: what `tessera agent` does to a certificate, apart from the
 * network: read the current one, make a new key of the same type and a
 * request for the same CN (PKCS #10, base64 DER as EST sends it), take
 * the new certificate out of the server's PKCS #7 answer after checking
 * it is for that key and CN, and replace the files so that a reader never
 * sees a partial file.
 *
 * Files are replaced in this order: both new files are written in full
 * and synced as KEY.new and CERT.new, then KEY.new is renamed over the
 * key, then CERT.new over the certificate, then the directory is synced.
 * A service that reloads when the certificate file changes therefore
 * always finds the matching key.  Should the agent stop between the two
 * renames, renew_recover() completes the change at the next start.
 */
#ifndef TSR_CLI_RENEW_H
#define TSR_CLI_RENEW_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/x509.h>

#define RENEW_MAX_FILE	65536	/* certificate, key, CA bundle */
#define RENEW_MAX_CN	64

/* What the agent needs to know of a certificate. */
struct renew_cert {
	char	cn[RENEW_MAX_CN + 1];
	int64_t	not_before;
	int64_t	not_after;
	char	serial[2 * 20 + 1];	/* lowercase hex */
	char	sha256[65];		/* of the DER, lowercase hex */
};

/* Read a whole file of at most RENEW_MAX_FILE bytes, NUL-terminated,
 * malloc'd; NULL with a line in err. */
char *renew_read_file(const char *path, size_t *len, char *err,
    size_t err_len);

/* The first certificate of PEM text; 0, or -1 with a line in err. */
int renew_cert_parse(const char *pem, size_t len, struct renew_cert *out,
    char *err, size_t err_len);

/*
 * A new private key of the type of the PEM key cur (ECDSA on the same
 * curve, Ed25519, or RSA of the same size, at least 2048 bits); ECDSA
 * P-256 when cur is of another type.  0, or -1 with a line in err.
 */
int renew_new_key(const char *cur, size_t cur_len,
    gnutls_x509_privkey_t *out, char *err, size_t err_len);

/* A PKCS #10 request for cn signed by key, as base64 of its DER
 * (malloc'd, NUL-terminated). */
int renew_csr(gnutls_x509_privkey_t key, const char *cn, char **b64,
    size_t *b64_len, char *err, size_t err_len);

/*
 * From a base64 PKCS #7 certs-only message, the certificate for key's
 * public key, which must name cn: as PEM in *pem (malloc'd) and
 * described in *info.  0, or -1 with a line in err.
 */
int renew_take_cert(const char *b64, size_t len, gnutls_x509_privkey_t key,
    const char *cn, char **pem, size_t *pem_len, struct renew_cert *info,
    char *err, size_t err_len);

/* key as unencrypted PKCS #8 PEM (malloc'd); renew_wipe it. */
int renew_key_pem(gnutls_x509_privkey_t key, char **pem, size_t *len);

/* Zero and free (NULL-safe). */
void renew_wipe(char *p, size_t len);

/* Whether the certificate PEM cert and the private key PEM key go
 * together. */
int renew_pair_matches(const char *cert, size_t cert_len, const char *key,
    size_t key_len);

/* Replace path with data atomically: path.new written (mode), synced,
 * renamed, then the directory synced. */
int renew_write_file(const char *path, const void *data, size_t len,
    unsigned mode, char *err, size_t err_len);

/* Replace the key (0600) and the certificate in the order above. */
int renew_install(const char *cert_path, const char *cert_pem,
    size_t cert_len, const char *key_path, const char *key_pem,
    size_t key_len, char *err, size_t err_len);

/*
 * At start: if the key file holds the key of CERT.new (the agent stopped
 * between the renames), rename CERT.new into place; then remove any
 * stale KEY.new and CERT.new.  1 when it completed a change, else 0.
 */
int renew_recover(const char *cert_path, const char *key_path);

/*
 * When to renew a certificate valid from not_before to not_after: at
 * fraction of its lifetime, moved by up to 10% of that either way as r
 * (0 <= r < 1) says, so that services started together spread their
 * renewals; never later than halfway from that point to not_after.
 */
int64_t renew_due(int64_t not_before, int64_t not_after, double fraction,
    double r);

/* Seconds to wait after fails (>= 1) failures in a row: doubling from
 * RENEW_BACKOFF_MIN up to RENEW_BACKOFF_MAX, the upper half drawn by r. */
#define RENEW_BACKOFF_MIN	2
#define RENEW_BACKOFF_MAX	300
int64_t renew_backoff(unsigned fails, double r);

#endif
