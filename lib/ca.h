/*
 * ca: tessera as the certificate authority of its clients' TLS
 * certificates, which services get and renew over EST (RFC 7030).
 *
 * A struct tsr_ca is an ECDSA (P-256 or P-384) private key and its
 * self-signed CA certificate.  It issues client certificates from PKCS
 * #10 requests, setting every field itself (only the public key comes
 * from the request), wraps certificates in PKCS #7 certs-only messages
 * and signs CRLs.
 *
 * The private key leaves lib/ only as PEM from tsr_ca_key_pem, for the
 * caller to keep in a 0600 key file or sealed; it wipes that buffer with
 * tsr_ca_pem_free.  A struct tsr_ca is immutable once made, so one may
 * issue from many threads at once.
 */
#ifndef TSR_CA_H
#define TSR_CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define TSR_CA_DEFAULT_CN	"tessera CA"
#define TSR_CA_DEFAULT_TTL	((int64_t)10 * 365 * 86400)
/* Longest CA and certificate lifetime we accept (100 years). */
#define TSR_CA_MAX_TTL		((int64_t)100 * 365 * 86400)
/* notBefore is this many seconds before now, for clocks a little
 * behind ours. */
#define TSR_CA_BACKDATE		60
/* A CRL's nextUpdate is its thisUpdate plus this. */
#define TSR_CA_CRL_VALIDITY	86400
/* Largest DER request we parse, and its base64 form (line breaks
 * included). */
#define TSR_CA_MAX_CSR		16384
#define TSR_CA_MAX_CSR_B64	(2 * TSR_CA_MAX_CSR)
/* Largest CA certificate or key PEM we load. */
#define TSR_CA_MAX_PEM		16384
/* Serials are 16 bytes, top bit clear (positive), first byte nonzero
 * (so the DER integer is always 16 bytes): 32 lowercase hex digits. */
#define TSR_CA_SERIAL_LEN	16
#define TSR_CA_SERIAL_HEX_BUF	(2 * TSR_CA_SERIAL_LEN + 1)
/* Longest serial a CRL entry may name (RFC 5280 §4.1.2.2: 20 bytes). */
#define TSR_CA_MAX_SERIAL_HEX	40
/* SHA-256 fingerprint as lowercase hex. */
#define TSR_CA_FP_HEX_BUF	65
#define TSR_CA_MAX_CN		64

struct tsr_ca;

/*
 * A new CA: an ECDSA key on P-256 (curve_bits 0 or 256) or P-384 (384)
 * and a self-signed certificate: subject CN = cn (NULL: TSR_CA_DEFAULT_CN),
 * valid from now - TSR_CA_BACKDATE for ttl seconds (0: the default),
 * CA:TRUE pathlen 0 (critical), keyCertSign and cRLSign, SKI.
 * TSR_ERR_INVALID for a bad cn, ttl or curve; TSR_ERR_CRYPTO.
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_create(const char *cn, int64_t ttl,
    unsigned int curve_bits, time_t now, struct tsr_ca **out,
    struct tsr_why *why);

/*
 * A CA from its certificate and private key, both PEM (the key PKCS #8
 * or SEC1, unencrypted; key_pem stays the caller's to wipe).  The key
 * must be ECDSA P-256/P-384 and match the certificate, which must be a
 * CA with an SKI.  TSR_ERR_TOO_LONG over TSR_CA_MAX_PEM, TSR_ERR_INVALID,
 * TSR_ERR_CRYPTO.
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_load(const uint8_t *cert_pem,
    size_t cert_len, const uint8_t *key_pem, size_t key_len,
    struct tsr_ca **out, struct tsr_why *why);

/* NULL-safe; wipes the private key. */
void tsr_ca_destroy(struct tsr_ca *ca);

/* The CA certificate's SHA-256 fingerprint, lowercase hex. */
const char *tsr_ca_fingerprint(const struct tsr_ca *ca);

/* The CA certificate, DER or PEM, malloc'd into *out (*out_len bytes;
 * the PEM is also NUL-terminated); free().  TSR_ERR_NOMEM. */
TSR_MUST_CHECK enum tsr_err tsr_ca_cert_der(const struct tsr_ca *ca,
    uint8_t **out, size_t *out_len);
TSR_MUST_CHECK enum tsr_err tsr_ca_cert_pem(const struct tsr_ca *ca,
    char **out, size_t *out_len);

/*
 * The private key as unencrypted PKCS #8 PEM in *pem (*pem_len bytes,
 * not NUL-terminated), to be stored by the caller in a 0600 file or
 * sealed and never logged.  Free with tsr_ca_pem_free, which wipes it.
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_key_pem(const struct tsr_ca *ca,
    uint8_t **pem, size_t *pem_len, struct tsr_why *why);

/* Zero pem[0..pem_len), then free it.  NULL-safe. */
void tsr_ca_pem_free(uint8_t *pem, size_t pem_len);

/* One issued certificate. */
struct tsr_ca_issued {
	uint8_t	*der;			/* malloc'd; tsr_ca_issued_free */
	size_t	 der_len;
	char	 serial[TSR_CA_SERIAL_HEX_BUF];
	int64_t	 not_before;		/* Unix seconds */
	int64_t	 not_after;
	char	 sha256[TSR_CA_FP_HEX_BUF];
};

/* Free issued->der and zero *issued; NULL-safe. */
void tsr_ca_issued_free(struct tsr_ca_issued *issued);

/*
 * Decode a base64 request body (RFC 7030 §4.2.1: base64 DER, line breaks
 * and other white space allowed, padding required) into *der (malloc'd;
 * free()).  TSR_ERR_TOO_LONG over TSR_CA_MAX_CSR_B64 characters or
 * TSR_CA_MAX_CSR bytes; TSR_ERR_CSR when it is not base64.
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_csr_decode(const char *b64, size_t len,
    uint8_t **der, size_t *der_len, struct tsr_why *why);

/*
 * Issue a client certificate from the DER PKCS #10 request csr for the
 * client whose CN (from policy) is cn, valid from now - TSR_CA_BACKDATE
 * to now + ttl.  Refusals, each with its own code: TSR_ERR_TOO_LONG (over
 * TSR_CA_MAX_CSR), TSR_ERR_CSR (does not parse), TSR_ERR_WEAK_KEY (see
 * tsr_x509_check_key), TSR_ERR_CSR_SIG (the request's signature does not
 * verify), TSR_ERR_CSR_SUBJECT (its subject CN is not exactly cn).
 * TSR_ERR_INVALID for a bad cn or ttl; TSR_ERR_CRYPTO.
 *
 * The certificate: v3, random serial, subject CN = cn only, issuer the
 * CA, CA:FALSE (critical), keyUsage digitalSignature (RSA keys: also
 * keyEncipherment; critical), extKeyUsage clientAuth only, SKI of the
 * key, AKI = the CA's SKI; signed with SHA-256 (SHA-384 by a P-384 CA).
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_issue(const struct tsr_ca *ca,
    const uint8_t *csr, size_t csr_len, const char *cn, int64_t ttl,
    time_t now, struct tsr_ca_issued *out, struct tsr_why *why);

/* tsr_ca_csr_decode, then tsr_ca_issue. */
TSR_MUST_CHECK enum tsr_err tsr_ca_issue_b64(const struct tsr_ca *ca,
    const char *csr_b64, size_t b64_len, const char *cn, int64_t ttl,
    time_t now, struct tsr_ca_issued *out, struct tsr_why *why);

/* A DER certificate, for the lists below. */
struct tsr_ca_der {
	const uint8_t	*der;
	size_t		 len;
};

/*
 * PKCS #7 certs-only (degenerate SignedData, RFC 5652 §5 and RFC 7030
 * §4.1.3) holding certs[0..n), n >= 1, as DER, or as base64 without line
 * breaks (NUL-terminated), malloc'd; free().  TSR_ERR_INVALID,
 * TSR_ERR_CRYPTO.
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_pkcs7_der(const struct tsr_ca_der *certs,
    size_t n, uint8_t **out, size_t *out_len, struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_ca_pkcs7_b64(const struct tsr_ca_der *certs,
    size_t n, char **out, size_t *out_len, struct tsr_why *why);

/* CRLReason (RFC 5280 §5.3.1); NONE leaves the entry without one, and so
 * does UNSPECIFIED, as §5.3.1 asks.  Other values of §5.3.1 (8, 10) are
 * accepted too; 7 and anything else are refused. */
enum tsr_ca_reason {
	TSR_CA_REASON_NONE = -1,
	TSR_CA_REASON_UNSPECIFIED = 0,
	TSR_CA_REASON_KEY_COMPROMISE = 1,
	TSR_CA_REASON_CA_COMPROMISE = 2,
	TSR_CA_REASON_AFFILIATION_CHANGED = 3,
	TSR_CA_REASON_SUPERSEDED = 4,
	TSR_CA_REASON_CESSATION_OF_OPERATION = 5,
	TSR_CA_REASON_CERTIFICATE_HOLD = 6,
	TSR_CA_REASON_PRIVILEGE_WITHDRAWN = 9,
};

struct tsr_ca_revoked {
	const char		*serial;	/* hex, 1..40 digits */
	int64_t			 when;		/* Unix seconds */
	enum tsr_ca_reason	 reason;
};

/*
 * A CRL v2 (RFC 5280 §5) signed by ca listing revoked[0..n) (n may be
 * 0), thisUpdate = this_update, nextUpdate = this_update +
 * TSR_CA_CRL_VALIDITY, with the CRLNumber number and the AKI of the CA,
 * as DER, malloc'd into *out; free().  Serials must be positive (hex,
 * at most 20 bytes).  TSR_ERR_INVALID, TSR_ERR_NOMEM, TSR_ERR_CRYPTO.
 *
 * The DER is built here rather than through gnutls_x509_crl_set_crt_serial,
 * which takes time quadratic in the number of entries (a minute for
 * 32,000) and cannot give a reason; 100,000 entries (4.4 MB) take some
 * 30 ms of CPU, most of it the SHA-256 of the list and memory traffic.
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_crl(const struct tsr_ca *ca,
    const struct tsr_ca_revoked *revoked, size_t n, uint64_t number,
    int64_t this_update, uint8_t **out, size_t *out_len,
    struct tsr_why *why);

/*
 * The same CRL built on prior, a CRL DER this CA signed: its entries
 * copied as they are, then revoked[0..n).  A revocation so costs a
 * copy and a signature, not the reading of every entry again; entries
 * past their certificate's notAfter leave at the next tsr_ca_crl.
 * TSR_ERR_INVALID if prior is not a CRL of this CA's name.
 */
TSR_MUST_CHECK enum tsr_err tsr_ca_crl_append(const struct tsr_ca *ca,
    const uint8_t *prior, size_t prior_len,
    const struct tsr_ca_revoked *revoked, size_t n, uint64_t number,
    int64_t this_update, uint8_t **out, size_t *out_len,
    struct tsr_why *why);

/* A DER CRL as PEM ("X509 CRL"), NUL-terminated, malloc'd; free(). */
TSR_MUST_CHECK enum tsr_err tsr_ca_crl_pem(const uint8_t *der, size_t len,
    char **out, size_t *out_len);

#endif
