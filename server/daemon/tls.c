#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "log.h"
#include "policy.h"
#include "token.h"
#include "trust.h"
#include "x509.h"

struct tls_creds {
	char			*cert_pem;
	char			*key_pem;
	char			*ca_pem;
	gnutls_x509_trust_list_t trust;
	int64_t			 cert_not_before;
	int64_t			 cert_expiry;
	char			 cert_sha256[65];
	int64_t			 ca_expiry;	/* the earliest in the bundle */
	unsigned		 ca_count;
	char			 ca_sha256[65];	/* of the first */
	bool			 has_crl;
	unsigned		 crl_count;
	unsigned long		 crl_entries;	/* revoked serials, all CRLs */
	int64_t			 crl_next_update; /* the earliest; 0: none */
};

/* Read a whole file, NUL-terminated, at most TLS_MAX_FILE bytes. */
static char *
read_file(const char *path, size_t *len, char *err, size_t err_len)
{
	struct stat sb;
	char *buf = NULL;
	ssize_t r;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > TLS_MAX_FILE) {
		snprintf(err, err_len, "%s: not a regular file of at most %d "
		    "bytes", path, TLS_MAX_FILE);
		goto fail;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)sb.st_size &&
	    (r = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	*len = got;
	close(fd);
	return buf;
fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

/* Hex SHA-256 of a certificate's DER, for logs. */
static void
crt_fingerprint(gnutls_x509_crt_t crt, char hex[65])
{
	uint8_t digest[32];
	size_t len = sizeof(digest), i;

	hex[0] = '\0';
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest,
	    &len) < 0 || len != sizeof(digest))
		return;
	for (i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

/* The server certificate must parse and be valid now; keep its dates. */
static int
check_cert(struct tls_creds *c, const char *path, size_t len, char *err,
    size_t err_len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)c->cert_pem, (unsigned)len };
	time_t now = time(NULL);
	int ret;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if ((ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0)
		snprintf(err, err_len, "%s: %s", path, gnutls_strerror(ret));
	else {
		c->cert_not_before = gnutls_x509_crt_get_activation_time(crt);
		c->cert_expiry = gnutls_x509_crt_get_expiration_time(crt);
		crt_fingerprint(crt, c->cert_sha256);
		if (c->cert_expiry <= now || c->cert_not_before > now) {
			snprintf(err, err_len, "%s: certificate %s", path,
			    c->cert_expiry <= now ? "has expired" :
			    "is not yet valid");
			ret = -1;
		}
	}
	gnutls_x509_crt_deinit(crt);
	return ret < 0 ? -1 : 0;
}

/* The key must parse and belong to the certificate: a half-replaced
 * pair is refused here rather than by the listener. */
static int
check_pair(const struct tls_creds *c, const struct tls_files *f,
    size_t cert_len, size_t key_len, char *err, size_t err_len)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cd = { (unsigned char *)c->cert_pem,
		(unsigned)cert_len };
	gnutls_datum_t kd = { (unsigned char *)c->key_pem, (unsigned)key_len };
	int ret;

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return -1;
	ret = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd,
	    GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (ret < 0)
		snprintf(err, err_len, "%s and %s: %s", f->cert, f->key,
		    gnutls_strerror(ret));
	return ret < 0 ? -1 : 0;
}

/* Dates and fingerprints of the client CA bundle, for the logs. */
static int
describe_ca(struct tls_creds *c, const char *path, size_t len, char *err,
    size_t err_len)
{
	gnutls_datum_t d = { (unsigned char *)c->ca_pem, (unsigned)len };
	struct tsr_trust_cas cas;

	if (tsr_trust_cas_describe(&d, &cas, NULL) != TSR_OK) {
		snprintf(err, err_len, "%s: no CA certificate in the file",
		    path);
		return -1;
	}
	c->ca_count = cas.count;
	c->ca_expiry = cas.expiry;
	memcpy(c->ca_sha256, cas.sha256, sizeof(c->ca_sha256));
	return 0;
}

/*
 * Every CRL in the file must be signed by a CA of the bundle: one that is
 * not would otherwise be dropped without a word, and the certificates it
 * revokes would authenticate again.  Dates are not checked here: a CRL
 * past its nextUpdate still revokes what it lists (better stale than
 * nothing), and tls_creds_log() warns about it.
 */
static int
check_crls(struct tls_creds *c, const char *ca_path, size_t ca_len,
    const char *path, const gnutls_datum_t *crl, char *err, size_t err_len)
{
	gnutls_datum_t ca = { (unsigned char *)c->ca_pem, (unsigned)ca_len };
	struct tsr_trust_crls crls;
	struct tsr_why why = { "" };
	int rc = -1;

	switch (tsr_trust_crls_check(&ca, crl, &crls, &why)) {
	case TSR_OK:
		c->has_crl = true;
		c->crl_count = crls.count;
		c->crl_entries = crls.entries;
		/* 0 means "none" here; a nextUpdate of 1970 is stale anyway */
		c->crl_next_update = crls.has_next_update ?
		    crls.next_update : 0;
		rc = 0;
		break;
	case TSR_ERR_NOT_FOUND:
		snprintf(err, err_len, "%s: no CA certificate in the file",
		    ca_path);
		break;
	case TSR_ERR_BAD_SIG:
		snprintf(err, err_len, "%s: CRL %u is not signed by a CA of %s",
		    path, crls.bad, ca_path);
		break;
	default:
		snprintf(err, err_len, "%s: %s", path, why.msg);
		break;
	}
	return rc;
}

/* The --client-ca bundle and its --client-crl. */
static int
load_file_trust(struct tls_creds *c, const struct tls_files *f,
    size_t ca_len, char *err, size_t err_len)
{
	gnutls_datum_t ca = { (unsigned char *)c->ca_pem, (unsigned)ca_len };
	gnutls_datum_t crl = { NULL, 0 };
	char *crl_pem = NULL;
	size_t crl_len = 0;
	int ret = -1;

	if (f->crl != NULL) {
		if ((crl_pem = read_file(f->crl, &crl_len, err, err_len)) ==
		    NULL)
			return -1;
		crl.data = (unsigned char *)crl_pem;
		crl.size = (unsigned)crl_len;
		if (check_crls(c, f->ca, ca_len, f->crl, &crl, err,
		    err_len) != 0)
			goto out;
	}
	/* The CAs first, then the CRLs: an error names the file it is in. */
	ret = gnutls_x509_trust_list_add_trust_mem(c->trust, &ca, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0);
	if (ret <= 0) {
		snprintf(err, err_len, "%s: %s", f->ca, ret < 0 ?
		    gnutls_strerror(ret) : "no CA certificate in the file");
		ret = -1;
		goto out;
	}
	/* check_crls() verified the signatures; GnuTLS's own check
	 * (GNUTLS_TL_VERIFY_CRL) would drop a CRL past its nextUpdate and
	 * with it the revocations. */
	if (f->crl != NULL && (ret = gnutls_x509_trust_list_add_trust_mem(
	    c->trust, NULL, &crl, GNUTLS_X509_FMT_PEM, 0, 0)) < 0) {
		snprintf(err, err_len, "%s: %s", f->crl, gnutls_strerror(ret));
		goto out;
	}
	ret = 0;
out:
	free(crl_pem);
	return ret < 0 ? -1 : 0;
}

/* The store's CA and the CRL it signed (tsr_issuer keeps both). */
static int
load_own_trust(struct tls_creds *c, const struct tls_files *f, char *err,
    size_t err_len)
{
	gnutls_datum_t ca = { (unsigned char *)f->own_ca_pem,
	    (unsigned)strlen(f->own_ca_pem) };
	gnutls_datum_t crl = { (unsigned char *)f->own_crl_pem,
	    f->own_crl_pem ? (unsigned)strlen(f->own_crl_pem) : 0 };
	int ret;

	ret = gnutls_x509_trust_list_add_trust_mem(c->trust, &ca, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0);
	if (ret > 0 && f->own_crl_pem != NULL)
		ret = gnutls_x509_trust_list_add_trust_mem(c->trust, NULL, &crl,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	if (ret < 0 || (ret == 0 && f->own_crl_pem == NULL)) {
		snprintf(err, err_len, "the store's CA: %s", ret < 0 ?
		    gnutls_strerror(ret) : "no certificate");
		return -1;
	}
	return 0;
}

static int
load_trust(struct tls_creds *c, const struct tls_files *f, size_t file_len,
    char *err, size_t err_len)
{
	if (gnutls_x509_trust_list_init(&c->trust, 0) < 0)
		return -1;
	if (f->ca != NULL && load_file_trust(c, f, file_len, err, err_len) != 0)
		return -1;
	if (f->own_ca_pem != NULL && load_own_trust(c, f, err, err_len) != 0)
		return -1;
	return 0;
}

/* The client CA bundle file, then the store's CA: one PEM text, the
 * list of CAs libmicrohttpd names when it asks for a certificate. */
static int
read_cas(struct tls_creds *c, const struct tls_files *f, size_t *file_len,
    size_t *all_len, char *err, size_t err_len)
{
	size_t own = f->own_ca_pem ? strlen(f->own_ca_pem) : 0;
	char *all;

	*file_len = 0;
	if (f->ca == NULL && own == 0) {
		snprintf(err, err_len, "no client CA: give --client-ca or "
		    "create one with tessera ca init");
		return -1;
	}
	if (f->ca != NULL &&
	    (c->ca_pem = read_file(f->ca, file_len, err, err_len)) == NULL)
		return -1;
	if (own == 0) {
		*all_len = *file_len;
		return 0;
	}
	if ((all = realloc(c->ca_pem, *file_len + own + 2)) == NULL)
		return -1;
	all[*file_len] = '\n';
	memcpy(all + *file_len + 1, f->own_ca_pem, own + 1);
	c->ca_pem = all;
	*all_len = *file_len + 1 + own;
	return 0;
}

int
tls_creds_load(const struct tls_files *f, struct tls_creds **out, char *err,
    size_t err_len)
{
	struct tls_creds *c;
	size_t cert_len = 0, key_len = 0, ca_len = 0, all_len = 0;

	*out = NULL;
	snprintf(err, err_len, "out of memory");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if ((c->cert_pem = read_file(f->cert, &cert_len, err, err_len)) ==
	    NULL ||
	    (c->key_pem = read_file(f->key, &key_len, err, err_len)) == NULL ||
	    read_cas(c, f, &ca_len, &all_len, err, err_len) != 0 ||
	    check_cert(c, f->cert, cert_len, err, err_len) != 0 ||
	    check_pair(c, f, cert_len, key_len, err, err_len) != 0 ||
	    describe_ca(c, f->ca ? f->ca : "the store's CA", all_len, err,
	    err_len) != 0 ||
	    load_trust(c, f, ca_len, err, err_len) != 0) {
		tls_creds_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
tls_creds_free(struct tls_creds *c)
{
	if (c == NULL)
		return;
	if (c->key_pem != NULL) {
		gnutls_memset(c->key_pem, 0, strlen(c->key_pem));
		free(c->key_pem);
	}
	free(c->cert_pem);
	free(c->ca_pem);
	if (c->trust != NULL)
		gnutls_x509_trust_list_deinit(c->trust, 1);
	free(c);
}

const char *
tls_creds_cert_pem(const struct tls_creds *c)
{
	return c->cert_pem;
}

const char *
tls_creds_key_pem(const struct tls_creds *c)
{
	return c->key_pem;
}

const char *
tls_creds_ca_pem(const struct tls_creds *c)
{
	return c->ca_pem;
}

int64_t
tls_creds_cert_expiry(const struct tls_creds *c)
{
	return c->cert_expiry;
}

bool
tls_creds_crl_next_update(const struct tls_creds *c, int64_t *next)
{
	*next = c->crl_next_update;
	return c->has_crl && c->crl_next_update != 0;
}

static void
log_crl(const struct tls_creds *c, int64_t now)
{
	if (!c->has_crl)
		return;
	log_info("client CRL: %u CRL(s), %lu revoked certificate(s)",
	    c->crl_count, c->crl_entries);
	if (c->crl_next_update != 0 && c->crl_next_update <= now)
		log_warnx("the client CRL is past its nextUpdate by %lld "
		    "second(s): its revocations still apply, but publish a "
		    "fresh one", (long long)(now - c->crl_next_update));
}

void
tls_creds_log(const struct tls_creds *c)
{
	int64_t now = time(NULL);

	log_info("TLS certificate sha256=%s expires in %lld day(s)",
	    c->cert_sha256, (long long)((c->cert_expiry - now) / 86400));
	if (c->cert_expiry - now < TLS_WARN_DAYS * 86400)
		log_warnx("TLS certificate expires in less than %d days: "
		    "renew it (the server reloads it when the file changes)",
		    TLS_WARN_DAYS);
	log_info("client CA bundle: %u certificate(s), first sha256=%s",
	    c->ca_count, c->ca_sha256);
	if (c->ca_expiry <= now)
		log_warnx("a client CA certificate has expired: clients it "
		    "issued cannot authenticate");
	else if (c->ca_expiry - now < TLS_WARN_DAYS * 86400)
		log_warnx("a client CA certificate expires in less than %d "
		    "days", TLS_WARN_DAYS);
	log_crl(c, now);
}

/* The audit reason for a failed chain verification. */
static const char *
verify_reason(unsigned status)
{
	if (status & GNUTLS_CERT_REVOKED)
		return "certificate revoked";
	if (status & GNUTLS_CERT_EXPIRED)
		return "certificate expired";
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return "certificate not yet valid";
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		return "certificate key or signature too weak";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "certificate lacks the clientAuth extended key usage";
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND |
	    GNUTLS_CERT_SIGNATURE_FAILURE | GNUTLS_CERT_SIGNER_NOT_CA))
		return "certificate not issued by the client CA";
	return "certificate chain does not verify";
}

/* Exactly one CN, 1-64 printable characters. */
static int
peer_cn(gnutls_x509_crt_t leaf, struct tls_peer *peer, const char **reason)
{
	char extra[TSR_MAX_CN + 2];
	size_t len = sizeof(peer->cn), extra_len = sizeof(extra);
	int ret;

	ret = gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, peer->cn, &len);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		*reason = "certificate has no CommonName";
		return -1;
	}
	if (ret < 0 || tsr_policy_check_cn(peer->cn, NULL) != TSR_OK ||
	    strlen(peer->cn) != len) {
		*reason = "certificate CommonName is not a valid client CN";
		return -1;
	}
	ret = gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME,
	    1, 0, extra, &extra_len);
	if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		*reason = "certificate has more than one CommonName";
		return -1;
	}
	return 0;
}

static int
peer_digests(const gnutls_datum_t *der, struct tls_peer *peer)
{
	uint8_t digest[32];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size,
	    digest) < 0 ||
	    tsr_token_x5t(der->data, der->size, peer->x5t) != TSR_OK)
		return -1;
	for (i = 0; i < sizeof(digest); i++)
		snprintf(peer->sha256_hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* The earliest notAfter of a chain: the result holds until then. */
static int64_t
chain_expiry(gnutls_x509_crt_t *chain, unsigned n)
{
	int64_t until = INT64_MAX, t;
	unsigned i;

	for (i = 0; i < n; i++)
		if ((t = gnutls_x509_crt_get_expiration_time(chain[i])) < until)
			until = t;
	return until;
}

/* What a client certificate must be beyond a verified chain: see
 * tsr_trust_leaf_check(). */
static int
peer_policy(gnutls_x509_crt_t leaf, const char **reason)
{
	if (tsr_trust_leaf_check(leaf, reason) != TSR_OK)
		return -1;
	return 0;
}

/* The leaf's serial as the CA's inventory writes it; "" if too long. */
static void
leaf_serial(gnutls_x509_crt_t leaf, struct tls_peer *peer)
{
	unsigned char raw[TSR_MAX_SERIAL / 2];
	size_t len = sizeof(raw);

	if (gnutls_x509_crt_get_serial(leaf, raw, &len) < 0 ||
	    tsr_x509_hex(raw, len, peer->serial, sizeof(peer->serial)) !=
	    TSR_OK)
		peer->serial[0] = '\0';
}

int
tls_verify_peer(const struct tls_creds *c, gnutls_session_t session,
    struct tls_peer *peer, const char **reason)
{
	gnutls_x509_crt_t chain[TLS_MAX_CHAIN];
	const gnutls_datum_t *der;
	gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID,
		(unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0 };
	unsigned n = 0, i, imported = 0, status = 0;
	int rc = -1;

	/* On failure peer keeps only the fingerprint, never a CN we did not
	 * verify. */
	memset(peer, 0, sizeof(*peer));
	*reason = "no client certificate";
	if ((der = gnutls_certificate_get_peers(session, &n)) == NULL ||
	    n == 0)
		return -1;
	*reason = "client certificate does not parse";
	if (n > TLS_MAX_CHAIN)
		n = TLS_MAX_CHAIN;
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&chain[i]) < 0)
			goto out;
		imported++;
		if (gnutls_x509_crt_import(chain[i], &der[i],
		    GNUTLS_X509_FMT_DER) < 0)
			goto out;
	}
	/* Fingerprint first: the audit trail names refused certificates. */
	*reason = "cannot hash the certificate";
	if (peer_digests(&der[0], peer) != 0)
		goto out;
	/*
	 * Only the leaf: it must be issued by a CA of the bundle itself.
	 * Intermediates the client sends are not trusted, so a certificate
	 * that happens to be able to sign cannot make a CA of its holder.
	 * Checks the signature, the validity periods, the CRLs, clientAuth
	 * where an EKU is present and, through the profile, keys and
	 * signature algorithms of at least 112-bit strength.
	 */
	if (gnutls_x509_trust_list_verify_crt2(c->trust, chain, 1, &purpose,
	    1, GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_MEDIUM), &status,
	    NULL) < 0 || status != 0) {
		*reason = verify_reason(status);
		goto out;
	}
	if (peer_policy(chain[0], reason) != 0 ||
	    peer_cn(chain[0], peer, reason) != 0)
		goto out;
	peer->valid_until = chain_expiry(chain, 1);
	leaf_serial(chain[0], peer);
	*reason = NULL;
	rc = 0;
out:
	for (i = 0; i < imported; i++)
		gnutls_x509_crt_deinit(chain[i]);
	return rc;
}
