#include "caview.h"

#include <stdlib.h>
#include <string.h>

#include "issuer.h"
#include "log.h"

void
caview_free(void *view)
{
	struct caview *v = view;

	if (v == NULL)
		return;
	tsr_ca_destroy(v->ca);
	free(v->ca_pem);
	free(v->cacerts);
	free(v->crl_der);
	free(v->crl_pem);
	free(v);
}

/* The PKCS #7 of the CA certificate and the CRL in both forms. */
static enum tsr_err
view_fill(struct tsr_store *st, struct caview *v, struct tsr_why *why)
{
	struct tsr_ca_der one;
	struct tsr_crlrow crl;
	uint8_t *der = NULL;
	size_t der_len = 0, pem_len = 0;
	enum tsr_err rc;

	if ((rc = tsr_ca_cert_pem(v->ca, &v->ca_pem, &pem_len)) != TSR_OK ||
	    (rc = tsr_ca_cert_der(v->ca, &der, &der_len)) != TSR_OK)
		return tsr_err_why(why, rc, "CA certificate");
	one.der = der;
	one.len = der_len;
	rc = tsr_ca_pkcs7_b64(&one, 1, &v->cacerts, &v->cacerts_len, why);
	free(der);
	if (rc != TSR_OK)
		return rc;
	if ((rc = tsr_store_crl_get(st, &crl, why)) == TSR_ERR_NOT_FOUND)
		return TSR_OK;
	if (rc != TSR_OK)
		return rc;
	v->crl_der = crl.der;
	v->crl_len = crl.der_len;
	v->crl_this_update = crl.this_update;
	if ((rc = tsr_ca_crl_pem(crl.der, crl.der_len, &v->crl_pem,
	    &v->crl_pem_len)) != TSR_OK)
		return tsr_err_why(why, rc, "CRL");
	return TSR_OK;
}

int
caview_load(struct tsr_store *st, const char *key_dir,
    const struct tsr_seal_keks *keks, struct caview **out)
{
	struct tsr_keyvault vault = { key_dir, keks };
	struct tsr_why why = { "" };
	struct caview *v;
	enum tsr_err rc;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -1;
	rc = tsr_issuer_load(st, &vault, &v->ca, &why);
	if (rc == TSR_ERR_NOT_FOUND && v->ca == NULL &&
	    strncmp(why.msg, "no CA", 5) == 0) {
		caview_free(v);
		return 1;
	}
	if (rc == TSR_OK)
		rc = view_fill(st, v, &why);
	if (rc != TSR_OK) {
		log_warnx("cannot load the CA: %s", tsr_err_text(&why, rc));
		caview_free(v);
		return -1;
	}
	*out = v;
	return 0;
}
