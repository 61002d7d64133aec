#include "trust.h"

#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "x509.h"

/*
 * Hex SHA-256 of a certificate's DER as it came; "" if it cannot be
 * hashed.  Not gnutls_x509_crt_get_fingerprint(), which hashes its own
 * re-encoding: for a certificate not in canonical DER that is not the
 * fingerprint anyone else computes from the file.
 */
static void
fingerprint(gnutls_x509_crt_t crt, char hex[TSR_TRUST_FP_HEX_BUF])
{
	gnutls_datum_t der = { NULL, 0 };
	uint8_t digest[32];

	hex[0] = '\0';
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		return;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size,
	    digest) < 0 || tsr_x509_hex(digest, sizeof(digest), hex,
	    TSR_TRUST_FP_HEX_BUF) != TSR_OK)
		hex[0] = '\0';
	gnutls_free(der.data);
}

static void
free_crts(gnutls_x509_crt_t *list, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
}

static void
free_crls(gnutls_x509_crl_t *list, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		gnutls_x509_crl_deinit(list[i]);
	gnutls_free(list);
}

enum tsr_err
tsr_trust_cas_describe(const gnutls_datum_t *pem, struct tsr_trust_cas *out,
    struct tsr_why *why)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned int n = 0, i;
	int64_t exp;

	memset(out, 0, sizeof(*out));
	if (gnutls_x509_crt_list_import2(&list, &n, pem, GNUTLS_X509_FMT_PEM,
	    0) < 0 || n == 0) {
		free_crts(list, n);
		return tsr_err_why(why, TSR_ERR_NOT_FOUND,
		    "no CA certificate in the bundle");
	}
	out->count = n;
	fingerprint(list[0], out->sha256);
	for (i = 0; i < n; i++) {
		exp = gnutls_x509_crt_get_expiration_time(list[i]);
		if (i == 0 || exp < out->expiry)
			out->expiry = exp;
	}
	free_crts(list, n);
	return TSR_OK;
}

#define CRL_TIME_STATUS	(GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | \
	GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE)

/* Is crl signed by a CA of cas[0..n)?  GnuTLS checks the dates whatever
 * the flags say; only the signature counts here. */
static bool
is_signed_by(gnutls_x509_crl_t crl, gnutls_x509_crt_t *cas, unsigned int n)
{
	unsigned int status = 0;
	int ret;

	ret = gnutls_x509_crl_verify(crl, cas, n, 0, &status);
	if (status & CRL_TIME_STATUS)
		status &= ~(CRL_TIME_STATUS | GNUTLS_CERT_INVALID);
	return ret >= 0 && status == 0;
}

/* Entries and the earliest nextUpdate of crls[0..n).  The sum cannot
 * wrap: each entry takes bytes of a file of bounded size. */
static void
count_crls(gnutls_x509_crl_t *crls, unsigned int n, struct tsr_trust_crls *out)
{
	unsigned int i;
	int count;
	time_t next;

	out->count = n;
	for (i = 0; i < n; i++) {
		if ((count = gnutls_x509_crl_get_crt_count(crls[i])) > 0)
			out->entries += (unsigned long)count;
		/* (time_t)-1: the CRL has no nextUpdate */
		next = gnutls_x509_crl_get_next_update(crls[i]);
		if (next != (time_t)-1 && (!out->has_next_update ||
		    next < out->next_update)) {
			out->has_next_update = true;
			out->next_update = next;
		}
	}
}

enum tsr_err
tsr_trust_crls_check(const gnutls_datum_t *ca_pem,
    const gnutls_datum_t *crl_pem, struct tsr_trust_crls *out,
    struct tsr_why *why)
{
	gnutls_x509_crt_t *cas = NULL;
	gnutls_x509_crl_t *crls = NULL;
	unsigned int n_ca = 0, n = 0, i;
	enum tsr_err rc = TSR_OK;
	int ret;

	memset(out, 0, sizeof(*out));
	if (gnutls_x509_crt_list_import2(&cas, &n_ca, ca_pem,
	    GNUTLS_X509_FMT_PEM, 0) < 0 || n_ca == 0) {
		rc = tsr_err_why(why, TSR_ERR_NOT_FOUND,
		    "no CA certificate in the bundle");
		goto out;
	}
	if ((ret = gnutls_x509_crl_list_import2(&crls, &n, crl_pem,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || n == 0) {
		rc = tsr_err_why(why, TSR_ERR_INVALID, "%s", ret < 0 ?
		    gnutls_strerror(ret) : "no CRL in the file");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (is_signed_by(crls[i], cas, n_ca))
			continue;
		out->bad = i + 1;
		rc = tsr_err_why(why, TSR_ERR_BAD_SIG,
		    "CRL %u is not signed by a CA of the bundle", i + 1);
		goto out;
	}
	count_crls(crls, n, out);
out:
	free_crls(crls, n);
	free_crts(cas, n_ca);
	return rc;
}

/*
 * Why leaf is not an end entity, or NULL: CA:TRUE or keyCertSign.  An
 * extension that is there but does not parse refuses the certificate
 * rather than count as absent.
 */
static const char *
why_not_end_entity(gnutls_x509_crt_t leaf)
{
	unsigned int ca = 0, usage = 0;
	int ret;

	ret = gnutls_x509_crt_get_basic_constraints(leaf, NULL, &ca, NULL);
	if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		if (ret < 0)
			return "certificate basicConstraints does not parse";
		if (ca)
			return "certificate is a CA certificate";
	}
	ret = gnutls_x509_crt_get_key_usage(leaf, &usage, NULL);
	if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		if (ret < 0)
			return "certificate keyUsage does not parse";
		if (usage & GNUTLS_KEY_KEY_CERT_SIGN)
			return "certificate is a CA certificate";
	}
	return NULL;
}

/* With an EKU extension, the clientAuth OID itself: GnuTLS would also
 * take anyExtendedKeyUsage, which names no purpose at all. */
static bool
has_client_auth_eku(gnutls_x509_crt_t leaf)
{
	char oid[128];
	size_t len;
	unsigned int i;
	int ret;
	bool seen = false;

	for (i = 0; i < 64; i++) {
		len = sizeof(oid);
		ret = gnutls_x509_crt_get_key_purpose_oid(leaf, i, oid, &len,
		    NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return false;
		seen = true;
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			return true;
	}
	return !seen;
}

/* At least RSA-2048 or a 256-bit curve. */
static bool
is_key_strong(gnutls_x509_crt_t leaf)
{
	unsigned int bits = 0;

	switch (gnutls_x509_crt_get_pk_algorithm(leaf, &bits)) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		return bits >= 2048;
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
	case GNUTLS_PK_EDDSA_ED448:
		return bits >= 256;
	default:
		return false;
	}
}

enum tsr_err
tsr_trust_leaf_check(gnutls_x509_crt_t leaf, const char **reason)
{
	if ((*reason = why_not_end_entity(leaf)) != NULL)
		return TSR_ERR_INVALID;
	if (!has_client_auth_eku(leaf)) {
		*reason = "certificate lacks the clientAuth extended key usage";
		return TSR_ERR_INVALID;
	}
	if (!is_key_strong(leaf)) {
		*reason = "certificate key or signature too weak";
		return TSR_ERR_WEAK_KEY;
	}
	return TSR_OK;
}
