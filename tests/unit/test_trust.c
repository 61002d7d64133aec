/*
 * test_trust: the client CA bundle, its CRLs and the client-certificate
 * policy as the server checks them on load.  CAs and CRLs come from
 * lib/ca; the certificates the policy judges are made here with GnuTLS,
 * one per rule.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "check.h"
#include "trust.h"

static time_t now;

static char *
ca_pem(const struct tsr_ca *ca)
{
	char *pem = NULL;
	size_t len;

	if (tsr_ca_cert_pem(ca, &pem, &len) != TSR_OK)
		abort();
	return pem;
}

/* A PEM CRL by ca, revoking n serials, thisUpdate at this_update. */
static char *
crl_pem(const struct tsr_ca *ca, size_t n, int64_t this_update)
{
	static const struct tsr_ca_revoked r[] = {
		{ "0a", 1700000000, TSR_CA_REASON_NONE },
		{ "0b", 1700000000, TSR_CA_REASON_KEY_COMPROMISE },
	};
	uint8_t *der;
	size_t len;
	char *pem;

	if (tsr_ca_crl(ca, r, n, 1, this_update, &der, &len, NULL) !=
	    TSR_OK || tsr_ca_crl_pem(der, len, &pem, &len) != TSR_OK)
		abort();
	free(der);
	return pem;
}

/* Two PEM texts as one file. */
static char *
cat2(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s;

	if ((s = malloc(la + lb + 1)) == NULL)
		abort();
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

static gnutls_datum_t
datum(const char *s)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)s,
		(unsigned int)strlen(s) };

	return d;
}

static enum tsr_err
crls(const char *ca, const char *crl, struct tsr_trust_crls *out)
{
	gnutls_datum_t a = datum(ca), c = datum(crl);

	return tsr_trust_crls_check(&a, &c, out, NULL);
}

static void
test_cas(const struct tsr_ca *a, const char *pa, const char *pb)
{
	struct tsr_trust_cas cas;
	gnutls_datum_t d = datum(pa);
	char *both = cat2(pa, pb);

	CHECK_INT(tsr_trust_cas_describe(&d, &cas, NULL), TSR_OK);
	CHECK_INT(cas.count, 1);
	CHECK_STR(cas.sha256, tsr_ca_fingerprint(a));
	CHECK(cas.expiry > now);
	d = datum(both);
	CHECK_INT(tsr_trust_cas_describe(&d, &cas, NULL), TSR_OK);
	CHECK_INT(cas.count, 2);
	CHECK_STR(cas.sha256, tsr_ca_fingerprint(a));
	d = datum("no certificate here\n");
	CHECK_INT(tsr_trust_cas_describe(&d, &cas, NULL), TSR_ERR_NOT_FOUND);
	CHECK_INT(cas.count, 0);
	free(both);
}

static void
test_crls(const char *pa, const struct tsr_ca *a, const struct tsr_ca *same)
{
	struct tsr_trust_crls out;
	char *good = crl_pem(a, 2, now), *stale = crl_pem(a, 1, now - 864000);
	char *foreign = crl_pem(same, 1, now), *two = cat2(good, stale);
	char *bad2 = cat2(good, foreign);

	CHECK_INT(crls(pa, good, &out), TSR_OK);
	CHECK_INT(out.count, 1);
	CHECK_INT(out.entries, 2);
	CHECK(out.has_next_update);
	CHECK_INT(out.next_update, now + TSR_CA_CRL_VALIDITY);
	/* past its nextUpdate: still loaded, so its revocations still apply */
	CHECK_INT(crls(pa, stale, &out), TSR_OK);
	CHECK_INT(out.entries, 1);
	CHECK(out.next_update < now);
	CHECK_INT(crls(pa, two, &out), TSR_OK);
	CHECK_INT(out.count, 2);
	CHECK_INT(out.entries, 3);
	CHECK_INT(out.next_update, now - 864000 + TSR_CA_CRL_VALIDITY);
	/* the same CA name, another key: refused, never dropped */
	CHECK_INT(crls(pa, foreign, &out), TSR_ERR_BAD_SIG);
	CHECK_INT(out.bad, 1);
	CHECK_INT(out.count, 0);
	CHECK_INT(crls(pa, bad2, &out), TSR_ERR_BAD_SIG);
	CHECK_INT(out.bad, 2);
	CHECK_INT(crls(pa, "-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n"
	    "-----END X509 CRL-----\n", &out), TSR_ERR_INVALID);
	CHECK_INT(crls(pa, "", &out), TSR_ERR_INVALID);
	CHECK_INT(crls("", good, &out), TSR_ERR_NOT_FOUND);
	free(good);
	free(stale);
	free(foreign);
	free(two);
	free(bad2);
}

struct leaf_spec {
	gnutls_pk_algorithm_t	 pk;
	unsigned int		 bits;
	bool			 ca;
	unsigned int		 usage;		/* 0: no keyUsage */
	const char		*eku;		/* NULL: no EKU */
	bool			 bad_usage;	/* a keyUsage that won't parse */
};

/* A self-signed certificate as spec says; the policy looks at the leaf
 * alone, so who signed it does not matter here. */
static gnutls_x509_crt_t
make_leaf(const struct leaf_spec *s)
{
	static const unsigned char junk[] = { 0x04, 0x01, 0xff };
	gnutls_x509_crt_t crt;
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	unsigned char serial[] = { 0x01 };

	if (gnutls_privkey_init(&key) < 0 || gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_privkey_generate2(key, s->pk, s->bits, 0, NULL, 0) < 0 ||
	    gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ||
	    gnutls_x509_crt_set_pubkey(crt, pub) < 0 ||
	    gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    "order-service", 13) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 3600) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(crt, s->ca, -1) < 0 ||
	    (s->usage != 0 && gnutls_x509_crt_set_key_usage(crt,
	    s->usage) < 0) ||
	    (s->bad_usage && gnutls_x509_crt_set_extension_by_oid(crt,
	    "2.5.29.15", junk, sizeof(junk), 1) < 0) ||
	    (s->eku != NULL && gnutls_x509_crt_set_key_purpose_oid(crt,
	    s->eku, 0) < 0) ||
	    gnutls_x509_crt_privkey_sign(crt, crt, key, 0, 0) < 0)
		abort();
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	return crt;
}

static void
check_leaf(const struct leaf_spec *s, enum tsr_err want, const char *why)
{
	gnutls_x509_crt_t crt = make_leaf(s);
	const char *reason = "unset";

	CHECK_INT(tsr_trust_leaf_check(crt, &reason), want);
	if (why == NULL)
		CHECK(reason == NULL);
	else
		CHECK_STR(reason, why);
	gnutls_x509_crt_deinit(crt);
}

static void
test_leaf(void)
{
	const unsigned int ds = GNUTLS_KEY_DIGITAL_SIGNATURE;
	const char *client = GNUTLS_KP_TLS_WWW_CLIENT, *is_ca =
	    "certificate is a CA certificate", *no_eku =
	    "certificate lacks the clientAuth extended key usage", *weak =
	    "certificate key or signature too weak";
	struct leaf_spec ok = { GNUTLS_PK_ECDSA, 256, false, ds, client,
		false }, s;

	check_leaf(&ok, TSR_OK, NULL);
	s = ok;
	s.eku = NULL;
	check_leaf(&s, TSR_OK, NULL);
	s = ok;
	s.ca = true;
	check_leaf(&s, TSR_ERR_INVALID, is_ca);
	s = ok;
	s.usage = ds | GNUTLS_KEY_KEY_CERT_SIGN;
	check_leaf(&s, TSR_ERR_INVALID, is_ca);
	s = ok;
	s.usage = 0;
	s.bad_usage = true;
	check_leaf(&s, TSR_ERR_INVALID, "certificate keyUsage does not parse");
	s = ok;
	s.eku = "2.5.29.37.0";	/* anyExtendedKeyUsage */
	check_leaf(&s, TSR_ERR_INVALID, no_eku);
	s = ok;
	s.eku = GNUTLS_KP_TLS_WWW_SERVER;
	check_leaf(&s, TSR_ERR_INVALID, no_eku);
	s = ok;
	s.pk = GNUTLS_PK_RSA;
	s.bits = 1024;
	check_leaf(&s, TSR_ERR_WEAK_KEY, weak);
	s.bits = 2048;
	check_leaf(&s, TSR_OK, NULL);
	s = ok;
	s.pk = GNUTLS_PK_EDDSA_ED25519;
	check_leaf(&s, TSR_OK, NULL);
}

int
main(void)
{
	struct tsr_ca *a, *b, *same;
	char *pa, *pb;

	now = time(NULL);
	if (tsr_ca_create("fuzz CA", 0, 0, now, &a, NULL) != TSR_OK ||
	    tsr_ca_create("fuzz CA two", 0, 0, now, &b, NULL) != TSR_OK ||
	    tsr_ca_create("fuzz CA", 0, 0, now, &same, NULL) != TSR_OK)
		abort();
	pa = ca_pem(a);
	pb = ca_pem(b);
	test_cas(a, pa, pb);
	test_crls(pa, a, same);
	test_leaf();
	free(pa);
	free(pb);
	tsr_ca_destroy(a);
	tsr_ca_destroy(b);
	tsr_ca_destroy(same);
	return check_done();
}
