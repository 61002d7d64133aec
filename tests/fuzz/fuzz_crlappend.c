/*
 * fuzz_crlappend: tsr_ca_crl_append, which a revocation runs on the CRL
 * the store holds, with one entry to add.  The CA is made once, under
 * the default name, which the seeds' CRLs carry too.
 *
 * Properties: a refusal is TSR_ERR_INVALID and hands back nothing; an
 * accepted CRL gives a new one that GnuTLS reads, whose signature
 * verifies with the CA, whose last entry is the one added, and which
 * lists one entry more than the old one whenever GnuTLS reads that.
 */
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "fuzz.h"

#define FUZZ_SERIAL	"0123456789abcdef"

static struct tsr_ca *ca;
static gnutls_x509_crt_t ca_crt;
static time_t now;

static void
setup(void)
{
	uint8_t *der;
	size_t len;
	gnutls_datum_t d;

	now = time(NULL);
	FUZZ_ASSERT(tsr_ca_create(NULL, 86400, 256, now, &ca, NULL) ==
	    TSR_OK);
	FUZZ_ASSERT(tsr_ca_cert_der(ca, &der, &len) == TSR_OK);
	d.data = der;
	d.size = (unsigned int)len;
	FUZZ_ASSERT(gnutls_x509_crt_init(&ca_crt) == 0 &&
	    gnutls_x509_crt_import(ca_crt, &d, GNUTLS_X509_FMT_DER) == 0);
	free(der);
}

/* Entries of the DER CRL data, or -1 if GnuTLS does not read it. */
static int
entries(const uint8_t *data, size_t size, gnutls_x509_crl_t *keep)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data,
	    (unsigned int)size };
	gnutls_x509_crl_t crl;
	int n;

	if (gnutls_x509_crl_init(&crl) != 0)
		return -1;
	n = gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER) == 0 ?
	    gnutls_x509_crl_get_crt_count(crl) : -1;
	if (keep != NULL && n >= 0)
		*keep = crl;
	else
		gnutls_x509_crl_deinit(crl);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_ca_revoked add = { FUZZ_SERIAL, 0,
	    TSR_CA_REASON_KEY_COMPROMISE };
	gnutls_x509_crl_t crl = NULL;
	uint8_t *out = NULL, serial[32];
	size_t len = 0, slen = sizeof(serial);
	unsigned int verify = 1;
	enum tsr_err rc;
	int before, after;

	if (ca == NULL)
		setup();
	if (size > (1 << 20))
		return 0;
	add.when = now;
	rc = tsr_ca_crl_append(ca, data, size, &add, 1, 2, now, &out, &len,
	    NULL);
	FUZZ_ASSERT(rc == TSR_OK || rc == TSR_ERR_INVALID);
	if (rc != TSR_OK) {
		FUZZ_ASSERT(out == NULL && len == 0);
		return 0;
	}
	before = entries(data, size, NULL);
	after = entries(out, len, &crl);
	FUZZ_ASSERT(after >= 1);
	FUZZ_ASSERT(before < 0 || after == before + 1);
	FUZZ_ASSERT(gnutls_x509_crl_verify(crl, &ca_crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &verify) == 0 && verify == 0);
	FUZZ_ASSERT(gnutls_x509_crl_get_crt_serial(crl, (unsigned)after - 1,
	    serial, &slen, NULL) == 0);
	FUZZ_ASSERT(slen == 8 && serial[0] == 0x01 && serial[7] == 0xef);
	gnutls_x509_crl_deinit(crl);
	free(out);
	return 0;
}
