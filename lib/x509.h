/*
 * x509: checks on X.509 material that more than one part of tessera
 * makes: which public keys a certificate we issue (or a client
 * certificate we accept) may carry, and lowercase hex of bytes.
 */
#ifndef TSR_X509_H
#define TSR_X509_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>

#include "err.h"

/* RSA moduli we accept: at least 2048 bits (NIST SP 800-131A), and at
 * most 8192, so that verifying a request stays cheap. */
#define TSR_X509_MIN_RSA_BITS	2048
#define TSR_X509_MAX_RSA_BITS	8192

enum tsr_x509_key_kind {
	TSR_X509_KEY_EC,	/* ECDSA on P-256 or P-384 */
	TSR_X509_KEY_ED25519,
	TSR_X509_KEY_RSA,
};

/*
 * TSR_OK if pub is ECDSA P-256/P-384, Ed25519 or RSA of
 * TSR_X509_MIN_RSA_BITS..TSR_X509_MAX_RSA_BITS, and *kind (may be NULL)
 * says which; else TSR_ERR_WEAK_KEY with a line naming the key.
 */
TSR_MUST_CHECK enum tsr_err tsr_x509_check_key(gnutls_pubkey_t pub,
    enum tsr_x509_key_kind *kind, struct tsr_why *why);

/* A key identifier: SHA-1 of the subjectPublicKey BIT STRING's bits
 * (RFC 5280 §4.2.1.2, method 1), as OpenSSL and most CAs compute it.
 * (GnuTLS's own key IDs hash the whole SubjectPublicKeyInfo.) */
#define TSR_X509_KEY_ID_LEN	20
TSR_MUST_CHECK enum tsr_err tsr_x509_key_id(gnutls_pubkey_t pub,
    uint8_t id[TSR_X509_KEY_ID_LEN]);

/* Lowercase hex of in[0..len) and a NUL into out (2 * len + 1 bytes);
 * TSR_ERR_TOO_LONG (out then "") if out_size is too small. */
TSR_MUST_CHECK enum tsr_err tsr_x509_hex(const uint8_t *in, size_t len,
    char *out, size_t out_size);

#endif
