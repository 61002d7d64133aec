/*
 * fuzz_csr: what EST enrollment does with a request body: the input as
 * a base64 body (tsr_ca_issue_b64) and as DER (tsr_ca_issue), for the
 * client "fuzz", by a CA made once.
 *
 * Properties: a refusal carries one of the refusal codes and no
 * certificate; an issued certificate parses, has subject CN=fuzz only,
 * is signed by the CA, and its serial is 32 hex digits.
 */
#include <stdbool.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "fuzz.h"

#define NOW	((time_t)1760000000)

static struct tsr_ca *ca;
static gnutls_x509_crt_t ca_crt;

static void
setup(void)
{
	uint8_t *der;
	size_t len;
	gnutls_datum_t d;

	if (ca != NULL)
		return;
	if (tsr_ca_create(NULL, 0, 0, NOW, &ca, NULL) != TSR_OK ||
	    tsr_ca_cert_der(ca, &der, &len) != TSR_OK ||
	    gnutls_x509_crt_init(&ca_crt) < 0)
		abort();
	d.data = der;
	d.size = (unsigned int)len;
	if (gnutls_x509_crt_import(ca_crt, &d, GNUTLS_X509_FMT_DER) < 0)
		abort();
	free(der);
}

static void
check_issued(const struct tsr_ca_issued *is)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { is->der, (unsigned int)is->der_len };
	char dn[256];
	size_t len = sizeof(dn);
	unsigned int status = 1;

	FUZZ_ASSERT(is->der != NULL && strlen(is->serial) == 32);
	FUZZ_ASSERT(gnutls_x509_crt_init(&crt) == 0);
	FUZZ_ASSERT(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) ==
	    0);
	FUZZ_ASSERT(gnutls_x509_crt_get_dn(crt, dn, &len) == 0);
	FUZZ_ASSERT(strcmp(dn, "CN=fuzz") == 0);
	FUZZ_ASSERT(gnutls_x509_crt_verify(crt, &ca_crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) == 0 && status == 0);
	gnutls_x509_crt_deinit(crt);
}

static void
check(enum tsr_err rc, const struct tsr_ca_issued *is)
{
	if (rc == TSR_OK) {
		check_issued(is);
		return;
	}
	FUZZ_ASSERT(rc == TSR_ERR_CSR || rc == TSR_ERR_CSR_SIG ||
	    rc == TSR_ERR_CSR_SUBJECT || rc == TSR_ERR_WEAK_KEY ||
	    rc == TSR_ERR_TOO_LONG);
	FUZZ_ASSERT(is->der == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_ca_issued is;
	enum tsr_err rc;

	setup();
	rc = tsr_ca_issue(ca, data, size, "fuzz", 3600, NOW, &is, NULL);
	check(rc, &is);
	tsr_ca_issued_free(&is);
	rc = tsr_ca_issue_b64(ca, (const char *)data, size, "fuzz", 3600, NOW,
	    &is, NULL);
	check(rc, &is);
	tsr_ca_issued_free(&is);
	return 0;
}
