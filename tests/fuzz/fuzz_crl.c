/*
 * fuzz_crl: the client CRL as the server loads it at start and on every
 * reload: a client CA bundle (PEM), FUZZ_SEP, then a CRL file (PEM, as
 * --client-crl must be; a DER one is refused).  Both go through
 * tsr_trust_cas_describe and tsr_trust_crls_check, the calls of
 * server/daemon/tls.c, and an accepted pair into a GnuTLS trust list as
 * its load_trust() adds them (no date or signature check there).
 *
 * Properties: a refusal is one of the documented codes and leaves no
 * counts; an accepted file's CRL count, entries and earliest nextUpdate
 * agree with a second reading of the file (entries walked one by one
 * rather than counted); every accepted CRL carries a signature that
 * verifies, over its own tbsCertList, with the key of a certificate of
 * the bundle (checked here with the public-key API, not the CRL one);
 * the trust list takes the pair.
 */
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "fuzz.h"
#include "tls.h"
#include "trust.h"

/* Largest signature we read back (RSA-16384). */
#define FUZZ_MAX_SIG	2048

struct bundle {
	gnutls_x509_crt_t	*crt;
	unsigned int		 n;
};

/* The header of the DER SEQUENCE at p (n bytes): its header and content
 * lengths. */
static bool
der_seq(const uint8_t *p, size_t n, size_t *hdr, size_t *len)
{
	size_t k, i;

	if (n < 2 || p[0] != 0x30)
		return false;
	*hdr = 2;
	*len = p[1];
	if (*len & 0x80) {
		k = *len & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k)
			return false;
		for (*len = 0, i = 0; i < k; i++)
			*len = *len << 8 | p[2 + i];
		*hdr += k;
	}
	return *len <= n - *hdr;
}

/* tbsCertList: the first element of CertificateList (RFC 5280 §5.1). */
static bool
tbs_of(const gnutls_datum_t *der, gnutls_datum_t *tbs)
{
	size_t hdr, len, hdr2, len2;

	if (!der_seq(der->data, der->size, &hdr, &len) ||
	    !der_seq(der->data + hdr, len, &hdr2, &len2))
		return false;
	tbs->data = der->data + hdr;
	tbs->size = (unsigned int)(hdr2 + len2);
	return true;
}

/* Does a key of the bundle verify crl's signature over its tbsCertList?
 * Any algorithm GnuTLS knows: this asks whether the signature is good,
 * not whether it is strong. */
static bool
signed_by_bundle(gnutls_x509_crl_t crl, const struct bundle *b)
{
	gnutls_datum_t der = { NULL, 0 }, tbs, sig;
	gnutls_pubkey_t pub;
	char sigbuf[FUZZ_MAX_SIG];
	size_t sig_len;
	unsigned int i;
	int alg;
	bool ok = false;

	/* GnuTLS sets the length only when the buffer is too short. */
	alg = gnutls_x509_crl_get_signature_algorithm(crl);
	sig_len = 0;
	if (alg <= 0 || gnutls_x509_crl_get_signature(crl, NULL, &sig_len) !=
	    GNUTLS_E_SHORT_MEMORY_BUFFER || sig_len > sizeof(sigbuf) ||
	    gnutls_x509_crl_get_signature(crl, sigbuf, &sig_len) < 0 ||
	    gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    !tbs_of(&der, &tbs))
		goto out;
	sig.data = (unsigned char *)sigbuf;
	sig.size = (unsigned int)sig_len;
	for (i = 0; i < b->n && !ok; i++) {
		if (gnutls_pubkey_init(&pub) < 0)
			abort();
		ok = gnutls_pubkey_import_x509(pub, b->crt[i], 0) >= 0 &&
		    gnutls_pubkey_verify_data2(pub,
		    (gnutls_sign_algorithm_t)alg, GNUTLS_VERIFY_ALLOW_BROKEN |
		    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1, &tbs, &sig) >= 0;
		gnutls_pubkey_deinit(pub);
	}
out:
	gnutls_free(der.data);
	return ok;
}

/* Entries of crl walked one by one; -1 if the walk stops on an error. */
static long
walk_entries(gnutls_x509_crl_t crl)
{
	gnutls_x509_crl_iter_t iter = NULL;
	unsigned char serial[512];
	size_t len;
	time_t t;
	long n = 0;
	int ret;

	for (;;) {
		len = sizeof(serial);
		ret = gnutls_x509_crl_iter_crt_serial(crl, &iter, serial, &len,
		    &t);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0) {
			n = -1;
			break;
		}
		n++;
	}
	gnutls_x509_crl_iter_deinit(iter);
	return n;
}

/* The accepted file read again: counts, nextUpdate and signatures. */
static void
check_accepted(const gnutls_datum_t *crl_pem, const struct bundle *b,
    const struct tsr_trust_crls *info)
{
	gnutls_x509_crl_t *crls = NULL;
	unsigned int n = 0, i;
	unsigned long entries = 0;
	bool all_walked = true, has_next = false;
	int64_t next = 0;
	time_t t;
	long walked;

	FUZZ_ASSERT(gnutls_x509_crl_list_import2(&crls, &n, crl_pem,
	    GNUTLS_X509_FMT_PEM, 0) >= 0);
	FUZZ_ASSERT(n >= 1 && n == info->count && info->bad == 0);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(signed_by_bundle(crls[i], b));
		if ((walked = walk_entries(crls[i])) < 0)
			all_walked = false;
		else
			entries += (unsigned long)walked;
		t = gnutls_x509_crl_get_next_update(crls[i]);
		if (t != (time_t)-1 && (!has_next || t < next)) {
			has_next = true;
			next = t;
		}
		gnutls_x509_crl_deinit(crls[i]);
	}
	gnutls_free(crls);
	if (all_walked)
		FUZZ_ASSERT(entries == info->entries);
	FUZZ_ASSERT(has_next == info->has_next_update);
	FUZZ_ASSERT(!has_next || next == info->next_update);
}

/* As load_trust() in server/daemon/tls.c: the CAs, then the CRLs
 * unchecked (their signatures were checked above). */
static void
check_trust_list(const gnutls_datum_t *ca, const gnutls_datum_t *crl)
{
	gnutls_x509_trust_list_t tl;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		abort();
	if (gnutls_x509_trust_list_add_trust_mem(tl, ca, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0) > 0)
		FUZZ_ASSERT(gnutls_x509_trust_list_add_trust_mem(tl, NULL, crl,
		    GNUTLS_X509_FMT_PEM, 0, 0) >= 0);
	gnutls_x509_trust_list_deinit(tl, 1);
}

static void
run(const gnutls_datum_t *ca, const gnutls_datum_t *crl)
{
	struct tsr_trust_cas cas;
	struct tsr_trust_crls info;
	struct tsr_why why;
	struct bundle b = { NULL, 0 };
	enum tsr_err rc;
	unsigned int i;

	tsr_err_clear(&why);
	rc = tsr_trust_crls_check(ca, crl, &info, &why);
	if (tsr_trust_cas_describe(ca, &cas, NULL) != TSR_OK) {
		/* tls.c refuses the bundle before it reads a CRL */
		FUZZ_ASSERT(rc == TSR_ERR_NOT_FOUND);
		return;
	}
	if (rc != TSR_OK) {
		FUZZ_ASSERT(rc == TSR_ERR_INVALID || rc == TSR_ERR_BAD_SIG);
		FUZZ_ASSERT(why.msg[0] != '\0');
		FUZZ_ASSERT(info.count == 0 && info.entries == 0 &&
		    !info.has_next_update);
		FUZZ_ASSERT((rc == TSR_ERR_BAD_SIG) == (info.bad >= 1));
		return;
	}
	FUZZ_ASSERT(gnutls_x509_crt_list_import2(&b.crt, &b.n, ca,
	    GNUTLS_X509_FMT_PEM, 0) >= 0 && b.n == cas.count);
	check_accepted(crl, &b, &info);
	check_trust_list(ca, crl);
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
