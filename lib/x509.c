#include "x509.h"

#include <stdbool.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static enum tsr_err
check_ec(gnutls_pubkey_t pub, struct tsr_why *why)
{
	gnutls_ecc_curve_t curve;

	if (gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0) < 0)
		return tsr_err_why(why, TSR_ERR_WEAK_KEY,
		    "cannot read the curve of an ECDSA key");
	if (curve != GNUTLS_ECC_CURVE_SECP256R1 &&
	    curve != GNUTLS_ECC_CURVE_SECP384R1)
		return tsr_err_why(why, TSR_ERR_WEAK_KEY,
		    "ECDSA key on curve %s; want P-256 or P-384",
		    gnutls_ecc_curve_get_name(curve) != NULL ?
		    gnutls_ecc_curve_get_name(curve) : "(unknown)");
	return TSR_OK;
}

enum tsr_err
tsr_x509_check_key(gnutls_pubkey_t pub, enum tsr_x509_key_kind *kind,
    struct tsr_why *why)
{
	unsigned int bits = 0;
	int pk;
	enum tsr_err rc;

	pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	switch (pk) {
	case GNUTLS_PK_ECDSA:
		if ((rc = check_ec(pub, why)) != TSR_OK)
			return rc;
		if (kind != NULL)
			*kind = TSR_X509_KEY_EC;
		return TSR_OK;
	case GNUTLS_PK_EDDSA_ED25519:
		if (kind != NULL)
			*kind = TSR_X509_KEY_ED25519;
		return TSR_OK;
	case GNUTLS_PK_RSA:
		if (bits < TSR_X509_MIN_RSA_BITS ||
		    bits > TSR_X509_MAX_RSA_BITS)
			return tsr_err_why(why, TSR_ERR_WEAK_KEY,
			    "RSA key of %u bits; want %d to %d", bits,
			    TSR_X509_MIN_RSA_BITS, TSR_X509_MAX_RSA_BITS);
		if (kind != NULL)
			*kind = TSR_X509_KEY_RSA;
		return TSR_OK;
	default:
		return tsr_err_why(why, TSR_ERR_WEAK_KEY,
		    "%s key; want ECDSA P-256/P-384, Ed25519 or RSA",
		    pk >= 0 && gnutls_pk_get_name(pk) != NULL ?
		    gnutls_pk_get_name(pk) : "unknown");
	}
}

enum tsr_err
tsr_x509_hex(const uint8_t *in, size_t len, char *out, size_t out_size)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (out_size == 0)
		return TSR_ERR_TOO_LONG;
	if (len > (out_size - 1) / 2) {
		out[0] = '\0';
		return TSR_ERR_TOO_LONG;
	}
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return TSR_OK;
}

/*
 * One DER TLV at *p (n bytes left): its tag, and its value in *v,
 * *v_len; *p moves past it.  Definite lengths of up to 4 bytes.
 */
static bool
der_next(const uint8_t **p, size_t *n, uint8_t *tag, const uint8_t **v,
    size_t *v_len)
{
	size_t len, i, hl = 2, k;

	if (*n < 2)
		return false;
	*tag = (*p)[0];
	len = (*p)[1];
	if (len & 0x80) {
		k = len & 0x7f;
		if (k == 0 || k > 4 || *n < 2 + k)
			return false;
		for (len = 0, i = 0; i < k; i++)
			len = len << 8 | (*p)[2 + i];
		hl += k;
	}
	if (len > *n - hl)
		return false;
	*v = *p + hl;
	*v_len = len;
	*p += hl + len;
	*n -= hl + len;
	return true;
}

enum tsr_err
tsr_x509_key_id(gnutls_pubkey_t pub, uint8_t id[TSR_X509_KEY_ID_LEN])
{
	gnutls_datum_t spki = { NULL, 0 };
	const uint8_t *p, *v, *bits;
	size_t n, v_len, bits_len;
	uint8_t tag;
	enum tsr_err rc = TSR_ERR_CRYPTO;

	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		return rc;
	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm, BIT STRING } */
	p = spki.data;
	n = spki.size;
	if (!der_next(&p, &n, &tag, &v, &v_len) || tag != 0x30)
		goto out;
	p = v;
	n = v_len;
	if (!der_next(&p, &n, &tag, &v, &v_len) || tag != 0x30 ||
	    !der_next(&p, &n, &tag, &bits, &bits_len) || tag != 0x03 ||
	    bits_len < 1 || bits[0] != 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, bits + 1, bits_len - 1,
	    id) < 0)
		goto out;
	rc = TSR_OK;
out:
	gnutls_free(spki.data);
	return rc;
}
