/*
 * fuzz_clientca: the client CA bundle and a client certificate as the
 * server loads and checks them: a bundle (PEM, as --client-ca), FUZZ_SEP,
 * then one certificate, DER, as the TLS handshake hands it over.
 *
 * The bundle goes through tsr_trust_cas_describe (what
 * server/daemon/tls.c logs about it) and into a GnuTLS trust list as its
 * load_trust() adds it; the certificate through tsr_trust_leaf_check,
 * the client-certificate policy of tls_verify_peer(), and the chain
 * verification tls_verify_peer() makes (one call, repeated here with the
 * same purpose and profile: it needs a live session there).
 *
 * Properties: the bundle's count, earliest notAfter and fingerprint
 * agree with a second reading (the fingerprint of the bytes of the
 * file: GnuTLS's own hashes a re-encoding); a certificate the policy
 * accepts, read again through the extension API, has basicConstraints
 * and keyUsage that parse (if any), no CA:TRUE, no keyCertSign, the
 * clientAuth OID in any EKU extension, and a key of at least 112-bit
 * strength by GnuTLS's own table; a refusal gives one of the audit
 * reasons; a certificate that would authenticate (chain and policy) is
 * issued by a certificate of the bundle, or is one, and is within its
 * validity.
 */
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

#include "fuzz.h"
#include "tls.h"
#include "trust.h"
#include "x509.h"

struct bundle {
	gnutls_x509_crt_t	*crt;
	unsigned int		 n;
};

/* The DER of extension oid of crt, if it has one. */
static bool
ext_of(gnutls_x509_crt_t crt, const char *oid, gnutls_datum_t *ext)
{
	unsigned int critical;

	return gnutls_x509_crt_get_extension_by_oid2(crt, oid, 0, ext,
	    &critical) >= 0;
}

/* basicConstraints CA:FALSE or absent, and no keyCertSign. */
static bool
is_end_entity(gnutls_x509_crt_t crt)
{
	gnutls_datum_t ext;
	unsigned int ca = 0, usage = 0;
	int pathlen;
	bool ok = true;

	if (ext_of(crt, GNUTLS_X509EXT_OID_BASIC_CONSTRAINTS, &ext)) {
		ok = gnutls_x509_ext_import_basic_constraints(&ext, &ca,
		    &pathlen) >= 0 && !ca;
		gnutls_free(ext.data);
	}
	if (ok && ext_of(crt, GNUTLS_X509EXT_OID_KEY_USAGE, &ext)) {
		ok = gnutls_x509_ext_import_key_usage(&ext, &usage) >= 0 &&
		    !(usage & GNUTLS_KEY_KEY_CERT_SIGN);
		gnutls_free(ext.data);
	}
	return ok;
}

/* No EKU extension, or one that names clientAuth. */
static bool
eku_allows_client(gnutls_x509_crt_t crt)
{
	gnutls_x509_key_purposes_t kp;
	gnutls_datum_t ext, oid;
	unsigned int i;
	bool ok = false;

	if (!ext_of(crt, GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE, &ext))
		return true;
	if (gnutls_x509_key_purpose_init(&kp) < 0)
		abort();
	if (gnutls_x509_ext_import_key_purposes(&ext, kp, 0) >= 0)
		for (i = 0; !ok && gnutls_x509_key_purpose_get(kp, i,
		    &oid) >= 0; i++)
			ok = strlen(GNUTLS_KP_TLS_WWW_CLIENT) == oid.size &&
			    memcmp(oid.data, GNUTLS_KP_TLS_WWW_CLIENT,
			    oid.size) == 0;
	gnutls_x509_key_purpose_deinit(kp);
	gnutls_free(ext.data);
	return ok;
}

static bool
key_is_medium(gnutls_x509_crt_t crt)
{
	unsigned int bits = 0;
	int alg;

	alg = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	return alg > 0 && gnutls_pk_bits_to_sec_param(alg, bits) >=
	    GNUTLS_SEC_PARAM_MEDIUM;
}

static void
check_policy(gnutls_x509_crt_t leaf, enum tsr_err rc, const char *reason)
{
	if (rc == TSR_OK) {
		FUZZ_ASSERT(reason == NULL);
		FUZZ_ASSERT(is_end_entity(leaf));
		FUZZ_ASSERT(eku_allows_client(leaf));
		FUZZ_ASSERT(key_is_medium(leaf));
		return;
	}
	FUZZ_ASSERT(reason != NULL);
	if (rc == TSR_ERR_WEAK_KEY)
		FUZZ_ASSERT(strcmp(reason,
		    "certificate key or signature too weak") == 0);
	else
		FUZZ_ASSERT(rc == TSR_ERR_INVALID && (strcmp(reason,
		    "certificate is a CA certificate") == 0 || strcmp(reason,
		    "certificate lacks the clientAuth extended key usage") ==
		    0 || strcmp(reason,
		    "certificate basicConstraints does not parse") == 0 ||
		    strcmp(reason, "certificate keyUsage does not parse") ==
		    0));
}

/* The bundle read again: count, earliest notAfter, and the fingerprint
 * of the first certificate's bytes as the file has them (its first PEM
 * block decoded here, when that is the certificate GnuTLS took first). */
static void
check_bundle(const gnutls_datum_t *pem, const struct bundle *b,
    const struct tsr_trust_cas *cas)
{
	gnutls_datum_t der = { NULL, 0 };
	uint8_t digest[32];
	char hex[TSR_TRUST_FP_HEX_BUF];
	int64_t earliest = INT64_MAX, t;
	unsigned int i;

	FUZZ_ASSERT(b->n >= 1 && b->n == cas->count);
	for (i = 0; i < b->n; i++)
		if ((t = gnutls_x509_crt_get_expiration_time(b->crt[i])) <
		    earliest)
			earliest = t;
	FUZZ_ASSERT(earliest == cas->expiry);
	if (gnutls_pem_base64_decode2("CERTIFICATE", pem, &der) < 0)
		return;
	if (gnutls_x509_crt_equals2(b->crt[0], &der) &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size,
	    digest) == 0 && tsr_x509_hex(digest, sizeof(digest), hex,
	    sizeof(hex)) == TSR_OK)
		FUZZ_ASSERT(strcmp(hex, cas->sha256) == 0);
	gnutls_free(der.data);
}

/* Issued by a certificate of the bundle, or one of them. */
static bool
from_bundle(gnutls_x509_crt_t leaf, const struct bundle *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		if (gnutls_x509_crt_check_issuer(leaf, b->crt[i]) ||
		    gnutls_x509_crt_equals(leaf, b->crt[i]))
			return true;
	return false;
}

/* As tls_verify_peer(): the leaf alone against the bundle, clientAuth
 * where an EKU is present, 112-bit keys and signatures. */
static bool
chain_verifies(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t leaf)
{
	gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID,
		(unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0 };
	unsigned int status = 0;

	return gnutls_x509_trust_list_verify_crt2(tl, &leaf, 1, &purpose, 1,
	    GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_MEDIUM), &status,
	    NULL) >= 0 && status == 0;
}

static void
check_leaf(const gnutls_datum_t *ca, const struct bundle *b,
    const gnutls_datum_t *der)
{
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t leaf;
	const char *reason = "unset";
	time_t before = time(NULL);
	enum tsr_err rc;

	if (gnutls_x509_crt_init(&leaf) < 0 ||
	    gnutls_x509_trust_list_init(&tl, 0) < 0)
		abort();
	if (gnutls_x509_crt_import(leaf, der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	rc = tsr_trust_leaf_check(leaf, &reason);
	check_policy(leaf, rc, reason);
	/* load_trust(): the server does not start without one CA */
	if (b->n == 0 || gnutls_x509_trust_list_add_trust_mem(tl, ca, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0) <= 0)
		goto out;
	if (chain_verifies(tl, leaf) && rc == TSR_OK) {
		FUZZ_ASSERT(from_bundle(leaf, b));
		FUZZ_ASSERT(gnutls_x509_crt_get_activation_time(leaf) <=
		    time(NULL));
		FUZZ_ASSERT(gnutls_x509_crt_get_expiration_time(leaf) >
		    before);
	}
out:
	gnutls_x509_trust_list_deinit(tl, 1);
	gnutls_x509_crt_deinit(leaf);
}

static void
run(const gnutls_datum_t *ca, const gnutls_datum_t *der)
{
	struct tsr_trust_cas cas;
	struct bundle b = { NULL, 0 };
	unsigned int i;

	if (tsr_trust_cas_describe(ca, &cas, NULL) == TSR_OK) {
		FUZZ_ASSERT(gnutls_x509_crt_list_import2(&b.crt, &b.n, ca,
		    GNUTLS_X509_FMT_PEM, 0) >= 0);
		check_bundle(ca, &b, &cas);
	} else
		FUZZ_ASSERT(cas.count == 0 && cas.sha256[0] == '\0');
	check_leaf(ca, &b, der);
	for (i = 0; i < b.n; i++)
		gnutls_x509_crt_deinit(b.crt[i]);
	gnutls_free(b.crt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* tls.c reads no file past TLS_MAX_FILE bytes */
	FUZZ_PAIR(data, size, TLS_MAX_FILE, run);
}
