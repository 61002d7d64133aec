/*
 * trust: what the server trusts for client authentication, checked
 * each time it loads its TLS files (at start and on every reload): the
 * client CA bundle (--client-ca), the CRLs signed by those CAs
 * (--client-crl), and what a client certificate must be beyond a chain
 * that verifies (README "Certificates").
 *
 * Everything here works on memory: reading the files, and the GnuTLS
 * trust list the listener verifies against, stay with the caller.
 */
#ifndef TSR_TRUST_H
#define TSR_TRUST_H

#include <stdbool.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "err.h"

#define TSR_TRUST_FP_HEX_BUF	65	/* SHA-256, lowercase hex */

/* A client CA bundle, for the logs. */
struct tsr_trust_cas {
	unsigned int	count;		/* certificates in the bundle */
	int64_t		expiry;		/* the earliest notAfter */
	char		sha256[TSR_TRUST_FP_HEX_BUF];	/* of the first; "" if
						 * it cannot be hashed */
};

/*
 * Read the PEM bundle pem into *out.  TSR_ERR_NOT_FOUND when it holds
 * no certificate that parses (then *out is zeroed).
 */
TSR_MUST_CHECK enum tsr_err tsr_trust_cas_describe(const gnutls_datum_t *pem,
    struct tsr_trust_cas *out, struct tsr_why *why);

/* The CRLs of one file, for the logs and the metrics. */
struct tsr_trust_crls {
	unsigned int	count;		/* CRLs in the file */
	unsigned long	entries;	/* revoked serials, all CRLs */
	bool		has_next_update;
	int64_t		next_update;	/* the earliest nextUpdate, if any */
	unsigned int	bad;		/* TSR_ERR_BAD_SIG: which CRL, from 1 */
};

/*
 * Parse the PEM CRLs of crl_pem and check that each is signed by a CA of
 * the PEM bundle ca_pem; fill *out (zeroed first).  Dates are not
 * checked: a CRL past its nextUpdate still revokes what it lists, and
 * one that does not verify must be refused rather than dropped, lest
 * the certificates it revokes authenticate again.
 *
 * TSR_ERR_NOT_FOUND: ca_pem holds no certificate; TSR_ERR_INVALID:
 * crl_pem holds no CRL or one that does not parse (why says what GnuTLS
 * said); TSR_ERR_BAD_SIG: CRL number out->bad is not signed by a CA of
 * the bundle.  Only TSR_OK fills the counts.
 */
TSR_MUST_CHECK enum tsr_err tsr_trust_crls_check(const gnutls_datum_t *ca_pem,
    const gnutls_datum_t *crl_pem, struct tsr_trust_crls *out,
    struct tsr_why *why);

/*
 * What a client certificate must be beyond a verified chain: an end
 * entity, neither CA:TRUE nor keyCertSign (a CA certificate could issue
 * certificates for other clients), whose basicConstraints and keyUsage,
 * when present, parse; with an EKU extension, the clientAuth
 * OID itself (anyExtendedKeyUsage names no purpose); a key of at least
 * 112-bit strength (RSA-2048, a 256-bit curve).
 *
 * TSR_OK, or TSR_ERR_INVALID (a CA, no clientAuth) or TSR_ERR_WEAK_KEY
 * with *reason, a static string for the audit trail.
 */
TSR_MUST_CHECK enum tsr_err tsr_trust_leaf_check(gnutls_x509_crt_t leaf,
    const char **reason);

#endif
