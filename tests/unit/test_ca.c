/*
 * test_ca: the client-certificate CA.  Requests are made here with
 * GnuTLS for every key type we accept or refuse; what comes out is read
 * back with GnuTLS (tests/integration/ca_profile.sh checks the same
 * things with OpenSSL and python3-cryptography).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>

#include "ca.h"
#include "check.h"

#define NOW	((time_t)1760000000)	/* 2025-10-09 */

/* GnuTLS calls a CRL past its nextUpdate superseded whatever the flags,
 * so CRLs are made at the real time. */
static time_t crl_now;

static struct tsr_ca *ca;
static gnutls_x509_crt_t ca_crt;

/* A DER request for cn with a fresh key; NULL if GnuTLS cannot make
 * that key here.  tamper flips a bit of the signature. */
static gnutls_datum_t
make_csr(gnutls_pk_algorithm_t pk, unsigned int bits, const char *cn,
    bool tamper)
{
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	gnutls_x509_crq_t crq;
	gnutls_datum_t der = { NULL, 0 };

	gnutls_privkey_init(&key);
	gnutls_pubkey_init(&pub);
	gnutls_x509_crq_init(&crq);
	if (gnutls_privkey_generate2(key, pk, bits, 0, NULL, 0) < 0 ||
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0)
		goto out;
	if (gnutls_x509_crq_set_version(crq, 1) < 0 ||
	    gnutls_x509_crq_set_pubkey(crq, pub) < 0 ||
	    gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned int)strlen(cn)) < 0 ||
	    gnutls_x509_crq_set_key_usage(crq,
	    GNUTLS_KEY_KEY_CERT_SIGN) < 0 ||	/* must not be copied */
	    gnutls_x509_crq_privkey_sign(crq, key, pk == GNUTLS_PK_RSA ||
	    pk == GNUTLS_PK_ECDSA ? GNUTLS_DIG_SHA256 : 0, 0) < 0 ||
	    gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	if (tamper)
		der.data[der.size - 3] ^= 0x01;
out:
	gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	return der;
}

static void
check_issued(const struct tsr_ca_issued *is, const char *cn, bool rsa)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { is->der, (unsigned int)is->der_len };
	char buf[128];
	uint8_t serial[32];
	size_t len = sizeof(buf), slen = sizeof(serial);
	unsigned int status = 1, crit = 0, usage = 0, is_ca = 1;

	gnutls_x509_crt_init(&crt);
	CHECK_INT(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER), 0);
	CHECK_INT(gnutls_x509_crt_verify(crt, &ca_crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status), 0);
	CHECK_INT(status, 0);
	CHECK_INT(gnutls_x509_crt_get_dn(crt, buf, &len), 0);
	CHECK(strncmp(buf, "CN=", 3) == 0 && strcmp(buf + 3, cn) == 0);
	CHECK_INT(gnutls_x509_crt_get_serial(crt, serial, &slen), 0);
	CHECK_INT(slen, 16);
	CHECK(serial[0] != 0 && (serial[0] & 0x80) == 0);
	CHECK_INT(strlen(is->serial), 32);
	CHECK_INT(gnutls_x509_crt_get_version(crt), 3);
	CHECK_INT(gnutls_x509_crt_get_activation_time(crt), NOW - 60);
	CHECK_INT(gnutls_x509_crt_get_expiration_time(crt), NOW + 86400);
	CHECK_INT(is->not_after, NOW + 86400);
	CHECK_INT(gnutls_x509_crt_get_basic_constraints(crt, &crit, &is_ca,
	    NULL), 0);
	CHECK(crit == 1 && is_ca == 0);
	CHECK(gnutls_x509_crt_get_key_usage(crt, &usage, &crit) >= 0);
	CHECK_INT(usage, GNUTLS_KEY_DIGITAL_SIGNATURE |
	    (rsa ? GNUTLS_KEY_KEY_ENCIPHERMENT : 0));
	CHECK_INT(crit, 1);
	len = sizeof(buf);
	CHECK_INT(gnutls_x509_crt_get_key_purpose_oid(crt, 0, buf, &len,
	    NULL), 0);
	CHECK_STR(buf, GNUTLS_KP_TLS_WWW_CLIENT);
	len = sizeof(buf);
	CHECK_INT(gnutls_x509_crt_get_key_purpose_oid(crt, 1, buf, &len,
	    NULL), GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
	gnutls_x509_crt_deinit(crt);
}

static void
test_create(void)
{
	struct tsr_ca *c = NULL, *loaded = NULL;
	struct tsr_why why = { "" };
	uint8_t *key = NULL, *der = NULL;
	char *pem = NULL;
	size_t key_len, pem_len, der_len;
	gnutls_datum_t d;
	unsigned int crit, is_ca = 0, usage = 0;
	int pathlen = -1;

	CHECK_INT(tsr_ca_create(NULL, 0, 0, NOW, &ca, &why), TSR_OK);
	CHECK_INT(tsr_ca_cert_der(ca, &der, &der_len), TSR_OK);
	d.data = der;
	d.size = (unsigned int)der_len;
	gnutls_x509_crt_init(&ca_crt);
	CHECK_INT(gnutls_x509_crt_import(ca_crt, &d, GNUTLS_X509_FMT_DER), 0);
	CHECK_INT(gnutls_x509_crt_get_basic_constraints(ca_crt, &crit, &is_ca,
	    &pathlen), 1);
	CHECK(is_ca == 1 && pathlen == 0);
	CHECK(gnutls_x509_crt_get_key_usage(ca_crt, &usage, &crit) >= 0);
	CHECK_INT(usage, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	CHECK_INT(gnutls_x509_crt_get_expiration_time(ca_crt),
	    NOW + TSR_CA_DEFAULT_TTL);
	CHECK_INT(strlen(tsr_ca_fingerprint(ca)), 64);
	free(der);

	/* Round trip through PEM; a key that is not the CA's is refused. */
	CHECK_INT(tsr_ca_cert_pem(ca, &pem, &pem_len), TSR_OK);
	CHECK_INT(tsr_ca_key_pem(ca, &key, &key_len, NULL), TSR_OK);
	CHECK(strstr(pem, "BEGIN CERTIFICATE") != NULL);
	CHECK_INT(tsr_ca_load((uint8_t *)pem, pem_len, key, key_len, &loaded,
	    NULL), TSR_OK);
	CHECK_STR(tsr_ca_fingerprint(loaded), tsr_ca_fingerprint(ca));
	tsr_ca_destroy(loaded);
	tsr_ca_pem_free(key, key_len);
	CHECK_INT(tsr_ca_create("other", 3600, 384, NOW, &c, NULL), TSR_OK);
	CHECK_INT(tsr_ca_key_pem(c, &key, &key_len, NULL), TSR_OK);
	CHECK_INT(tsr_ca_load((uint8_t *)pem, pem_len, key, key_len, &loaded,
	    NULL), TSR_ERR_INVALID);
	CHECK(loaded == NULL);
	tsr_ca_pem_free(key, key_len);
	tsr_ca_destroy(c);
	free(pem);

	CHECK_INT(tsr_ca_create("", 0, 0, NOW, &c, NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_ca_create(NULL, -1, 0, NOW, &c, NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_ca_create(NULL, 0, 521, NOW, &c, NULL), TSR_ERR_INVALID);
}

static void
test_issue(void)
{
	static const struct {
		const char		*what;
		gnutls_pk_algorithm_t	 pk;
		unsigned int		 bits;
		enum tsr_err		 want;
	} t[] = {
		{ "P-256", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), TSR_OK },
		{ "P-384", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), TSR_OK },
		{ "Ed25519", GNUTLS_PK_EDDSA_ED25519, 256, TSR_OK },
		{ "RSA-2048", GNUTLS_PK_RSA, 2048, TSR_OK },
		{ "RSA-1024", GNUTLS_PK_RSA, 1024, TSR_ERR_WEAK_KEY },
		{ "P-192", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP192R1),
		  TSR_ERR_WEAK_KEY },
		{ "P-521", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1),
		  TSR_ERR_WEAK_KEY },
	};
	struct tsr_ca_issued is;
	struct tsr_why why;
	gnutls_datum_t csr;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		printf("# %s\n", t[i].what);
		csr = make_csr(t[i].pk, t[i].bits, "billing", false);
		if (csr.data == NULL) {
			printf("# cannot make a %s key here; skipped\n",
			    t[i].what);
			continue;
		}
		tsr_err_clear(&why);
		CHECK_INT(tsr_ca_issue(ca, csr.data, csr.size, "billing",
		    86400, NOW, &is, &why), t[i].want);
		if (t[i].want == TSR_OK)
			check_issued(&is, "billing", t[i].pk == GNUTLS_PK_RSA);
		else
			CHECK(is.der == NULL && why.msg[0] != '\0');
		tsr_ca_issued_free(&is);
		gnutls_free(csr.data);
	}
}

static void
test_refuse(void)
{
	struct tsr_ca_issued is;
	gnutls_datum_t csr;
	char b64[TSR_CA_MAX_CSR_B64 + 2];
	uint8_t big[TSR_CA_MAX_CSR + 1];

	csr = make_csr(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), "billing", true);
	CHECK_INT(tsr_ca_issue(ca, csr.data, csr.size, "billing", 86400, NOW,
	    &is, NULL), TSR_ERR_CSR_SIG);
	gnutls_free(csr.data);
	csr = make_csr(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), "billing", false);
	CHECK_INT(tsr_ca_issue(ca, csr.data, csr.size, "orders", 86400, NOW,
	    &is, NULL), TSR_ERR_CSR_SUBJECT);
	CHECK_INT(tsr_ca_issue(ca, csr.data, csr.size, "billin", 86400, NOW,
	    &is, NULL), TSR_ERR_CSR_SUBJECT);
	CHECK_INT(tsr_ca_issue(ca, csr.data, csr.size - 1, "billing", 86400,
	    NOW, &is, NULL), TSR_ERR_CSR);
	CHECK_INT(tsr_ca_issue(ca, csr.data, csr.size, "billing", 0, NOW,
	    &is, NULL), TSR_ERR_INVALID);
	CHECK_INT(tsr_ca_issue(ca, csr.data, csr.size, "bad\ncn", 60, NOW,
	    &is, NULL), TSR_ERR_INVALID);

	/* Base64 as EST sends it: line breaks allowed. */
	base64_encode_raw(b64, csr.size, csr.data);
	b64[BASE64_ENCODE_RAW_LENGTH(csr.size)] = '\0';
	memmove(b64 + 11, b64 + 10, strlen(b64 + 10) + 1);
	b64[10] = '\n';
	CHECK_INT(tsr_ca_issue_b64(ca, b64, strlen(b64), "billing", 60, NOW,
	    &is, NULL), TSR_OK);
	tsr_ca_issued_free(&is);
	CHECK_INT(tsr_ca_issue_b64(ca, b64, strlen(b64) - 2, "billing", 60,
	    NOW, &is, NULL), TSR_ERR_CSR);
	CHECK_INT(tsr_ca_issue_b64(ca, "not base64!", 11, "billing", 60, NOW,
	    &is, NULL), TSR_ERR_CSR);
	CHECK_INT(tsr_ca_issue_b64(ca, "", 0, "billing", 60, NOW, &is, NULL),
	    TSR_ERR_CSR);
	CHECK_INT(tsr_ca_issue_b64(ca, "AAAA", 4, "billing", 60, NOW, &is,
	    NULL), TSR_ERR_CSR);
	memset(b64, 'A', sizeof(b64));
	CHECK_INT(tsr_ca_issue_b64(ca, b64, sizeof(b64), "billing", 60, NOW,
	    &is, NULL), TSR_ERR_TOO_LONG);
	memset(big, 0x30, sizeof(big));
	CHECK_INT(tsr_ca_issue(ca, big, sizeof(big), "billing", 60, NOW, &is,
	    NULL), TSR_ERR_TOO_LONG);
	gnutls_free(csr.data);
}

/* Serials of many certificates are all different. */
static void
test_serials(void)
{
	enum { N = 64 };
	char seen[N][TSR_CA_SERIAL_HEX_BUF];
	struct tsr_ca_issued is;
	gnutls_datum_t csr;
	int i, j, dup = 0, fail = 0;

	csr = make_csr(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), "s", false);
	for (i = 0; i < N; i++) {
		if (tsr_ca_issue(ca, csr.data, csr.size, "s", 60, NOW, &is,
		    NULL) != TSR_OK)
			fail++;
		memcpy(seen[i], is.serial, sizeof(seen[i]));
		for (j = 0; j < i; j++)
			dup += strcmp(seen[i], seen[j]) == 0;
		tsr_ca_issued_free(&is);
	}
	CHECK_INT(fail, 0);
	CHECK_INT(dup, 0);
	gnutls_free(csr.data);
}

static void
test_pkcs7(void)
{
	struct tsr_ca_der certs[2];
	gnutls_pkcs7_t p7;
	gnutls_datum_t d;
	uint8_t *der, *p7der;
	size_t der_len, p7_len;
	char *b64;

	CHECK_INT(tsr_ca_cert_der(ca, &der, &der_len), TSR_OK);
	certs[0].der = certs[1].der = der;
	certs[0].len = certs[1].len = der_len;
	CHECK_INT(tsr_ca_pkcs7_der(certs, 2, &p7der, &p7_len, NULL), TSR_OK);
	gnutls_pkcs7_init(&p7);
	d.data = p7der;
	d.size = (unsigned int)p7_len;
	CHECK_INT(gnutls_pkcs7_import(p7, &d, GNUTLS_X509_FMT_DER), 0);
	CHECK_INT(gnutls_pkcs7_get_crt_count(p7), 2);
	CHECK_INT(gnutls_pkcs7_get_signature_count(p7), 0);
	gnutls_pkcs7_deinit(p7);
	free(p7der);
	CHECK_INT(tsr_ca_pkcs7_b64(certs, 1, &b64, &p7_len, NULL), TSR_OK);
	CHECK(p7_len > 0 && strchr(b64, '\n') == NULL);
	CHECK_INT(tsr_ca_pkcs7_der(certs, 0, &p7der, &p7_len, NULL),
	    TSR_ERR_INVALID);
	CHECK(p7der == NULL);
	free(b64);
	free(der);
}

static gnutls_x509_crl_t
crl_parse(const uint8_t *der, size_t len)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der,
	    (unsigned int)len };
	unsigned int verify = 1;

	gnutls_x509_crl_init(&crl);
	CHECK_INT(gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER), 0);
	CHECK_INT(gnutls_x509_crl_verify(crl, &ca_crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &verify), 0);
	CHECK_INT(verify, 0);
	return crl;
}

static void
test_crl(void)
{
	const struct tsr_ca_revoked r[] = {
		{ "7f0102030405060708090a0b0c0d0e0f", crl_now - 10,
		  TSR_CA_REASON_KEY_COMPROMISE },
		{ "80", crl_now - 20, TSR_CA_REASON_NONE },
		{ "0001", 2524608000, TSR_CA_REASON_SUPERSEDED },  /* 2050 */
	};
	struct tsr_ca_revoked bad = { "00", crl_now, TSR_CA_REASON_NONE };
	gnutls_x509_crl_t crl;
	uint8_t *der, serial[32], num[8];
	size_t len, slen = sizeof(serial), nlen = sizeof(num);
	time_t when;
	char *pem;

	CHECK_INT(tsr_ca_crl(ca, r, 3, 7, crl_now, &der, &len, NULL),
	    TSR_OK);
	crl = crl_parse(der, len);
	CHECK_INT(gnutls_x509_crl_get_version(crl), 2);
	CHECK_INT(gnutls_x509_crl_get_crt_count(crl), 3);
	CHECK_INT(gnutls_x509_crl_get_this_update(crl), crl_now);
	CHECK_INT(gnutls_x509_crl_get_next_update(crl), crl_now + 86400);
	CHECK_INT(gnutls_x509_crl_get_number(crl, num, &nlen, NULL), 0);
	CHECK(nlen == 1 && num[0] == 7);
	CHECK_INT(gnutls_x509_crl_get_crt_serial(crl, 0, serial, &slen,
	    &when), 0);
	CHECK(slen == 16 && serial[0] == 0x7f && serial[15] == 0x0f);
	CHECK_INT(when, crl_now - 10);
	slen = sizeof(serial);
	CHECK_INT(gnutls_x509_crl_get_crt_serial(crl, 1, serial, &slen,
	    &when), 0);
	CHECK(slen == 2 && serial[0] == 0 && serial[1] == 0x80);
	slen = sizeof(serial);
	CHECK_INT(gnutls_x509_crl_get_crt_serial(crl, 2, serial, &slen,
	    &when), 0);
	CHECK(slen == 1 && serial[0] == 1);
	CHECK_INT(when, 2524608000);
	gnutls_x509_crl_deinit(crl);
	CHECK_INT(tsr_ca_crl_pem(der, len, &pem, &len), TSR_OK);
	CHECK(strstr(pem, "-----BEGIN X509 CRL-----") != NULL);
	free(pem);
	free(der);

	/* Empty, and refused entries. */
	CHECK_INT(tsr_ca_crl(ca, NULL, 0, 1, crl_now, &der, &len, NULL),
	    TSR_OK);
	crl = crl_parse(der, len);
	CHECK_INT(gnutls_x509_crl_get_crt_count(crl), 0);
	gnutls_x509_crl_deinit(crl);
	free(der);
	CHECK_INT(tsr_ca_crl(ca, &bad, 1, 1, crl_now, &der, &len, NULL),
	    TSR_ERR_INVALID);
	bad.serial = "0g";
	CHECK_INT(tsr_ca_crl(ca, &bad, 1, 1, crl_now, &der, &len, NULL),
	    TSR_ERR_INVALID);
	bad.serial = "01";
	bad.reason = 7;
	CHECK_INT(tsr_ca_crl(ca, &bad, 1, 1, crl_now, &der, &len, NULL),
	    TSR_ERR_INVALID);
	bad.reason = (enum tsr_ca_reason)-2;
	CHECK_INT(tsr_ca_crl(ca, &bad, 1, 1, crl_now, &der, &len, NULL),
	    TSR_ERR_INVALID);
	bad.reason = TSR_CA_REASON_UNSPECIFIED;
	bad.when = -1000000000;		/* 1938: no time encoding for it */
	CHECK_INT(tsr_ca_crl(ca, &bad, 1, 1, crl_now, &der, &len, NULL),
	    TSR_ERR_INVALID);
	bad.when = 0;
	CHECK_INT(tsr_ca_crl(ca, &bad, 1, 1, crl_now, &der, &len, NULL),
	    TSR_OK);
	crl = crl_parse(der, len);
	slen = sizeof(serial);
	CHECK_INT(gnutls_x509_crl_get_crt_serial(crl, 0, serial, &slen,
	    &when), 0);
	CHECK_INT(when, 0);
	gnutls_x509_crl_deinit(crl);
	free(der);
}

/* Serial i of crl into b, its revocation time into *when. */
static size_t
crl_serial(gnutls_x509_crl_t crl, unsigned int i, uint8_t *b, time_t *when)
{
	size_t n = 32;

	CHECK_INT(gnutls_x509_crl_get_crt_serial(crl, i, b, &n, when), 0);
	return n;
}

/* A CRL extended by one entry: the old entries as they were, the new
 * one last, a new number and time, and a good signature; a CRL of
 * another CA, or no CRL at all, cannot be extended. */
static void
test_crl_append(void)
{
	const struct tsr_ca_revoked r[] = {
		{ "7f01", crl_now - 10, TSR_CA_REASON_KEY_COMPROMISE },
		{ "80", crl_now - 20, TSR_CA_REASON_NONE },
		{ "0abc", crl_now, TSR_CA_REASON_SUPERSEDED },
	};
	gnutls_x509_crl_t crl;
	struct tsr_ca *other;
	uint8_t *der, *der2, b[32], num[8];
	size_t len, len2, nlen = sizeof(num);
	time_t when;

	CHECK_INT(tsr_ca_crl(ca, r, 2, 7, crl_now - 60, &der, &len, NULL),
	    TSR_OK);
	CHECK_INT(tsr_ca_crl_append(ca, der, len, &r[2], 1, 8, crl_now,
	    &der2, &len2, NULL), TSR_OK);
	crl = crl_parse(der2, len2);
	CHECK_INT(gnutls_x509_crl_get_crt_count(crl), 3);
	CHECK_INT(gnutls_x509_crl_get_this_update(crl), crl_now);
	CHECK_INT(gnutls_x509_crl_get_number(crl, num, &nlen, NULL), 0);
	CHECK(nlen == 1 && num[0] == 8);
	CHECK(crl_serial(crl, 0, b, &when) == 2 && b[0] == 0x7f);
	CHECK_INT(when, crl_now - 10);
	CHECK(crl_serial(crl, 1, b, &when) == 2 && b[1] == 0x80);
	CHECK(crl_serial(crl, 2, b, &when) == 2 && b[0] == 0x0a);
	CHECK_INT(when, crl_now);
	gnutls_x509_crl_deinit(crl);
	free(der2);
	/* Not a CRL: cut short, a byte too many, none. */
	CHECK_INT(tsr_ca_crl_append(ca, der, len - 1, &r[2], 1, 8, crl_now,
	    &der2, &len2, NULL), TSR_ERR_INVALID);
	CHECK(der2 == NULL);
	CHECK_INT(tsr_ca_crl_append(ca, NULL, 0, &r[2], 1, 8, crl_now, &der2,
	    &len2, NULL), TSR_ERR_INVALID);
	free(der);
	/* Another CA's CRL. */
	CHECK_INT(tsr_ca_create("other", 3600, 256, NOW, &other, NULL),
	    TSR_OK);
	CHECK_INT(tsr_ca_crl(other, r, 2, 7, crl_now, &der, &len, NULL),
	    TSR_OK);
	CHECK_INT(tsr_ca_crl_append(ca, der, len, &r[2], 1, 8, crl_now,
	    &der2, &len2, NULL), TSR_ERR_INVALID);
	free(der);
	tsr_ca_destroy(other);
	/* An empty CRL gets its first entry. */
	CHECK_INT(tsr_ca_crl(ca, NULL, 0, 1, crl_now, &der, &len, NULL),
	    TSR_OK);
	CHECK_INT(tsr_ca_crl_append(ca, der, len, r, 1, 2, crl_now, &der2,
	    &len2, NULL), TSR_OK);
	crl = crl_parse(der2, len2);
	CHECK_INT(gnutls_x509_crl_get_crt_count(crl), 1);
	gnutls_x509_crl_deinit(crl);
	free(der2);
	free(der);
}

/*
 * n entries: built and signed fast.  GnuTLS takes time quadratic in the
 * number of entries to read a CRL, so it reads only the smaller ones
 * (ca_profile.sh has OpenSSL read a large one).
 */
static void
test_crl_big(size_t n)
{
	struct tsr_ca_revoked *r = calloc(n, sizeof(*r));
	char (*hex)[TSR_CA_SERIAL_HEX_BUF] = calloc(n, sizeof(*hex));
	struct timespec t0, t1, c0, c1;
	gnutls_x509_crl_t crl;
	uint8_t *der;
	size_t len, i;
	double ms;

	for (i = 0; i < n; i++) {
		snprintf(hex[i], sizeof(hex[i]), "4%015zx%016zx", i, i * 7919);
		r[i].serial = hex[i];
		r[i].when = crl_now - (int64_t)i;
		r[i].reason = i % 3 == 0 ? TSR_CA_REASON_NONE :
		    TSR_CA_REASON_SUPERSEDED;
	}
	/* CPU time as well as wall time: the machine may be busy. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	CHECK_INT(tsr_ca_crl(ca, r, n, 42, crl_now, &der, &len, NULL),
	    TSR_OK);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# CRL of %zu entries: %zu bytes, built and signed in %.1f ms "
	    "(%.1f ms CPU)\n", n, len, ms, (double)(c1.tv_sec - c0.tv_sec) *
	    1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6);
	CHECK(len > n * 40);
	if (n <= 2000) {
		crl = crl_parse(der, len);
		CHECK_INT(gnutls_x509_crl_get_crt_count(crl), (int)n);
		gnutls_x509_crl_deinit(crl);
	}
	free(der);
	free(hex);
	free(r);
}

int
main(void)
{
	crl_now = time(NULL);
	test_create();
	test_issue();
	test_refuse();
	test_serials();
	test_pkcs7();
	test_crl();
	test_crl_append();
	test_crl_big(2000);
	test_crl_big(100000);
	gnutls_x509_crt_deinit(ca_crt);
	tsr_ca_destroy(ca);
	return check_done();
}
