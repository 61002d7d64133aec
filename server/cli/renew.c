#include "renew.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>

#include "x509.h"

#define RENEW_MAX_CERTS	16	/* in one PKCS #7 answer */

char *
renew_read_file(const char *path, size_t *len, char *err, size_t err_len)
{
	char *buf;
	ssize_t n;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(RENEW_MAX_FILE + 1)) == NULL) {
		(void)close(fd);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	while ((n = read(fd, buf + *len, RENEW_MAX_FILE + 1 - *len)) > 0 &&
	    (*len += (size_t)n) <= RENEW_MAX_FILE)
		;
	(void)close(fd);
	if (n < 0 || *len > RENEW_MAX_FILE) {
		snprintf(err, err_len, "%s: %s", path, n < 0 ?
		    strerror(errno) : "file too large");
		renew_wipe(buf, RENEW_MAX_FILE + 1);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

void
renew_wipe(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* Fill out from a parsed certificate. */
static int
describe(gnutls_x509_crt_t crt, struct renew_cert *out, char *err,
    size_t err_len)
{
	unsigned char serial[20], fp[32];
	size_t slen = sizeof(serial), cnlen = sizeof(out->cn),
	    fplen = sizeof(fp);

	memset(out, 0, sizeof(*out));
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, out->cn, &cnlen) < 0 || out->cn[0] == '\0') {
		snprintf(err, err_len, "the certificate has no usable CN");
		return -1;
	}
	out->not_before = gnutls_x509_crt_get_activation_time(crt);
	out->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (out->not_before == -1 || out->not_after == -1 ||
	    out->not_after <= out->not_before ||
	    gnutls_x509_crt_get_serial(crt, serial, &slen) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp,
	    &fplen) < 0 || fplen != sizeof(fp)) {
		snprintf(err, err_len, "the certificate's validity, serial or "
		    "fingerprint cannot be read");
		return -1;
	}
	if (tsr_x509_hex(serial, slen, out->serial, sizeof(out->serial)) !=
	    TSR_OK || tsr_x509_hex(fp, fplen, out->sha256,
	    sizeof(out->sha256)) != TSR_OK) {
		snprintf(err, err_len, "the certificate's serial is too long");
		return -1;
	}
	return 0;
}

int
renew_cert_parse(const char *pem, size_t len, struct renew_cert *out,
    char *err, size_t err_len)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0, i;
	int ret, rc = -1;

	if ((ret = gnutls_x509_crt_list_import2(&list, &n, &d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || n == 0) {
		snprintf(err, err_len, "no certificate: %s", ret < 0 ?
		    gnutls_strerror(ret) : "empty");
		return -1;
	}
	rc = describe(list[0], out, err, err_len);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	return rc;
}

/* The algorithm and size for a key like the PEM key cur. */
static void
key_like(const char *cur, size_t len, gnutls_pk_algorithm_t *alg,
    unsigned *bits)
{
	gnutls_datum_t d = { (unsigned char *)cur, (unsigned)len };
	gnutls_x509_privkey_t k = NULL;
	gnutls_ecc_curve_t curve;
	unsigned b = 0;
	int a;

	*alg = GNUTLS_PK_ECDSA;
	*bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
	if (gnutls_x509_privkey_init(&k) < 0)
		return;
	if (gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN) < 0)
		goto out;
	a = gnutls_x509_privkey_get_pk_algorithm2(k, &b);
	if (a == GNUTLS_PK_ECDSA && gnutls_x509_privkey_export_ecc_raw(k,
	    &curve, NULL, NULL, NULL) >= 0 && (curve ==
	    GNUTLS_ECC_CURVE_SECP384R1 || curve == GNUTLS_ECC_CURVE_SECP521R1))
		*bits = GNUTLS_CURVE_TO_BITS(curve);
	else if (a == GNUTLS_PK_EDDSA_ED25519) {
		*alg = GNUTLS_PK_EDDSA_ED25519;
		*bits = 256;
	} else if (a == GNUTLS_PK_RSA) {
		*alg = GNUTLS_PK_RSA;
		*bits = b < 2048 ? 2048 : b > 8192 ? 8192 : b;
	}
out:
	gnutls_x509_privkey_deinit(k);
}

int
renew_new_key(const char *cur, size_t cur_len, gnutls_x509_privkey_t *out,
    char *err, size_t err_len)
{
	gnutls_pk_algorithm_t alg;
	unsigned bits;
	int ret;

	key_like(cur, cur_len, &alg, &bits);
	if ((ret = gnutls_x509_privkey_init(out)) < 0 ||
	    (ret = gnutls_x509_privkey_generate(*out, alg, bits, 0)) < 0) {
		if (ret != GNUTLS_E_MEMORY_ERROR)
			gnutls_x509_privkey_deinit(*out);
		*out = NULL;
		snprintf(err, err_len, "new key: %s", gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

/* Standard base64 (RFC 4648 §4) of in, no line breaks, malloc'd. */
static char *
b64_encode(const unsigned char *in, size_t len, size_t *out_len)
{
	char *out;

	if (len > RENEW_MAX_FILE ||
	    (out = malloc(BASE64_ENCODE_RAW_LENGTH(len) + 1)) == NULL)
		return NULL;
	base64_encode_raw(out, len, in);
	*out_len = BASE64_ENCODE_RAW_LENGTH(len);
	out[*out_len] = '\0';
	return out;
}

/* SHA-256 or the key's own larger hash; Ed25519 takes none. */
static gnutls_digest_algorithm_t
hash_for(gnutls_privkey_t pk)
{
	switch (gnutls_privkey_get_pk_algorithm(pk, NULL)) {
	case GNUTLS_PK_EDDSA_ED25519:
		return GNUTLS_DIG_UNKNOWN;
	default:
		return GNUTLS_DIG_SHA256;
	}
}

int
renew_csr(gnutls_x509_privkey_t key, const char *cn, char **b64,
    size_t *b64_len, char *err, size_t err_len)
{
	gnutls_x509_crq_t q = NULL;
	gnutls_privkey_t pk = NULL;
	gnutls_datum_t der = { NULL, 0 };
	int ret;

	*b64 = NULL;
	if ((ret = gnutls_x509_crq_init(&q)) < 0 ||
	    (ret = gnutls_privkey_init(&pk)) < 0 ||
	    (ret = gnutls_privkey_import_x509(pk, key, 0)) < 0 ||
	    (ret = gnutls_x509_crq_set_version(q, 1)) < 0 ||
	    (ret = gnutls_x509_crq_set_dn_by_oid(q,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn))) < 0 ||
	    (ret = gnutls_x509_crq_set_key(q, key)) < 0 ||
	    (ret = gnutls_x509_crq_privkey_sign(q, pk, hash_for(pk), 0)) < 0 ||
	    (ret = gnutls_x509_crq_export2(q, GNUTLS_X509_FMT_DER, &der)) < 0)
		snprintf(err, err_len, "certificate request: %s",
		    gnutls_strerror(ret));
	else if ((*b64 = b64_encode(der.data, der.size, b64_len)) == NULL)
		snprintf(err, err_len, "certificate request: out of memory");
	gnutls_free(der.data);
	gnutls_privkey_deinit(pk);
	gnutls_x509_crq_deinit(q);
	return *b64 != NULL ? 0 : -1;
}

/* Base64 with any white space in between, to DER (malloc'd). */
static unsigned char *
b64_decode(const char *in, size_t len, size_t *out_len)
{
	struct base64_decode_ctx ctx;
	unsigned char *out;
	size_t n;

	if (len > RENEW_MAX_FILE ||
	    (out = malloc(BASE64_DECODE_LENGTH(len) + 1)) == NULL)
		return NULL;
	n = BASE64_DECODE_LENGTH(len);
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, out, len, in) ||
	    !base64_decode_final(&ctx) || n == 0) {
		free(out);
		return NULL;
	}
	*out_len = n;
	return out;
}

/* Whether crt carries key's public key. */
static int
same_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);

	return gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a,
	    &alen) >= 0 && gnutls_x509_privkey_get_key_id(key,
	    GNUTLS_KEYID_USE_SHA256, b, &blen) >= 0 && alen == blen &&
	    memcmp(a, b, alen) == 0;
}

/* The certificate of the message p7 for key; checked and exported. */
static int
pick_cert(gnutls_pkcs7_t p7, gnutls_x509_privkey_t key, const char *cn,
    char **pem, size_t *pem_len, struct renew_cert *info, char *err,
    size_t err_len)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t der = { NULL, 0 }, out = { NULL, 0 };
	int i, n, rc = -1;

	snprintf(err, err_len, "the answer holds no certificate for the new "
	    "key");
	n = gnutls_pkcs7_get_crt_count(p7);
	for (i = 0; i < n && i < RENEW_MAX_CERTS && rc != 0; i++) {
		if (gnutls_pkcs7_get_crt_raw2(p7, (unsigned)i, &der) < 0)
			break;
		if (gnutls_x509_crt_init(&crt) >= 0 &&
		    gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) >= 0 &&
		    same_key(crt, key) &&
		    describe(crt, info, err, err_len) == 0) {
			if (strcmp(info->cn, cn) != 0)
				snprintf(err, err_len, "the new certificate "
				    "names CN \"%.64s\", not \"%s\"", info->cn,
				    cn);
			else if (gnutls_x509_crt_export2(crt,
			    GNUTLS_X509_FMT_PEM, &out) >= 0 &&
			    (*pem = malloc(out.size + 1)) != NULL) {
				memcpy(*pem, out.data, out.size);
				(*pem)[out.size] = '\0';
				*pem_len = out.size;
				rc = 0;
			}
		}
		gnutls_free(out.data);
		out.data = NULL;
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
		gnutls_free(der.data);
		der.data = NULL;
	}
	return rc;
}

int
renew_take_cert(const char *b64, size_t len, gnutls_x509_privkey_t key,
    const char *cn, char **pem, size_t *pem_len, struct renew_cert *info,
    char *err, size_t err_len)
{
	gnutls_pkcs7_t p7 = NULL;
	gnutls_datum_t d;
	unsigned char *der;
	size_t der_len = 0;
	int rc = -1;

	*pem = NULL;
	if ((der = b64_decode(b64, len, &der_len)) == NULL) {
		snprintf(err, err_len, "the answer is not base64");
		return -1;
	}
	d.data = der;
	d.size = (unsigned)der_len;
	if (gnutls_pkcs7_init(&p7) < 0 ||
	    gnutls_pkcs7_import(p7, &d, GNUTLS_X509_FMT_DER) < 0)
		snprintf(err, err_len, "the answer is not PKCS #7");
	else
		rc = pick_cert(p7, key, cn, pem, pem_len, info, err, err_len);
	gnutls_pkcs7_deinit(p7);
	free(der);
	return rc;
}

int
renew_key_pem(gnutls_x509_privkey_t key, char **pem, size_t *len)
{
	gnutls_datum_t d = { NULL, 0 };

	*pem = NULL;
	if (gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &d) < 0)
		return -1;
	if ((*pem = malloc(d.size + 1)) != NULL) {
		memcpy(*pem, d.data, d.size);
		(*pem)[d.size] = '\0';
		*len = d.size;
	}
	explicit_bzero(d.data, d.size);
	gnutls_free(d.data);
	return *pem != NULL ? 0 : -1;
}

int
renew_pair_matches(const char *cert, size_t cert_len, const char *key,
    size_t key_len)
{
	gnutls_datum_t c = { (unsigned char *)cert, (unsigned)cert_len };
	gnutls_datum_t k = { (unsigned char *)key, (unsigned)key_len };
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t pk = NULL;
	int ok = 0;

	if (gnutls_x509_crt_init(&crt) >= 0 &&
	    gnutls_x509_privkey_init(&pk) >= 0 &&
	    gnutls_x509_crt_import(crt, &c, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_x509_privkey_import2(pk, &k, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN) >= 0)
		ok = same_key(crt, pk);
	gnutls_x509_privkey_deinit(pk);
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* path + ".new" into buf. */
static int
new_name(const char *path, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s.new", path);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Write data to path.new (mode) in full and sync it. */
static int
stage(const char *path, const void *data, size_t len, unsigned mode,
    char *err, size_t err_len)
{
	char tmp[PATH_MAX];
	const char *p = data;
	ssize_t n;
	int fd, ok = 1;

	if (new_name(path, tmp, sizeof(tmp)) != 0) {
		snprintf(err, err_len, "%s: path too long", path);
		return -1;
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, (mode_t)mode)) == -1) {
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (ok && len > 0) {
		if ((n = write(fd, p, len)) <= 0) {
			ok = n == -1 && errno == EINTR;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	/* The mode exactly, whatever the umask. */
	ok = ok && fchmod(fd, (mode_t)mode) == 0 && fsync(fd) == 0;
	if (close(fd) == -1 || !ok) {
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static int
commit(const char *path, char *err, size_t err_len)
{
	char tmp[PATH_MAX];

	if (new_name(path, tmp, sizeof(tmp)) != 0 || rename(tmp, path) == -1) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Sync the directory of path, so that the renames survive a crash. */
static int
sync_dir(const char *path, char *err, size_t err_len)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -1;
	else
		(void)snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	rc = fsync(fd);
	(void)close(fd);
	if (rc == -1)
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
	return rc;
}

int
renew_write_file(const char *path, const void *data, size_t len,
    unsigned mode, char *err, size_t err_len)
{
	if (stage(path, data, len, mode, err, err_len) != 0)
		return -1;
	if (commit(path, err, err_len) != 0) {
		char tmp[PATH_MAX];

		if (new_name(path, tmp, sizeof(tmp)) == 0)
			(void)unlink(tmp);
		return -1;
	}
	return sync_dir(path, err, err_len);
}

/* The mode of the certificate file now, to keep it; 0644 if none. */
static unsigned
cert_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (unsigned)(sb.st_mode & 0777) : 0644;
}

int
renew_install(const char *cert_path, const char *cert_pem, size_t cert_len,
    const char *key_path, const char *key_pem, size_t key_len, char *err,
    size_t err_len)
{
	char tmp[PATH_MAX];

	if (stage(key_path, key_pem, key_len, 0600, err, err_len) != 0)
		return -1;
	if (stage(cert_path, cert_pem, cert_len, cert_mode(cert_path), err,
	    err_len) != 0) {
		if (new_name(key_path, tmp, sizeof(tmp)) == 0)
			(void)unlink(tmp);
		return -1;
	}
	/* The key first: a reader woken by the certificate's change finds
	 * its key already in place. */
	if (commit(key_path, err, err_len) != 0) {
		if (new_name(key_path, tmp, sizeof(tmp)) == 0)
			(void)unlink(tmp);
		if (new_name(cert_path, tmp, sizeof(tmp)) == 0)
			(void)unlink(tmp);
		return -1;
	}
	if (commit(cert_path, err, err_len) != 0)
		return -1;	/* renew_recover() finishes at the next start */
	if (sync_dir(key_path, err, err_len) != 0)
		return -1;
	return strcmp(key_path, cert_path) == 0 ? 0 :
	    sync_dir(cert_path, err, err_len);
}

int
renew_recover(const char *cert_path, const char *key_path)
{
	char tmp[PATH_MAX], err[256], *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int done = 0;

	if (new_name(cert_path, tmp, sizeof(tmp)) != 0)
		return 0;
	if ((cert = renew_read_file(tmp, &cert_len, err, sizeof(err))) !=
	    NULL && (key = renew_read_file(key_path, &key_len, err,
	    sizeof(err))) != NULL && renew_pair_matches(cert, cert_len, key,
	    key_len))
		done = commit(cert_path, err, sizeof(err)) == 0 &&
		    sync_dir(cert_path, err, sizeof(err)) == 0;
	free(cert);
	renew_wipe(key, key_len);
	(void)unlink(tmp);
	if (new_name(key_path, tmp, sizeof(tmp)) == 0)
		(void)unlink(tmp);
	return done;
}

int64_t
renew_due(int64_t not_before, int64_t not_after, double fraction, double r)
{
	double life = (double)(not_after - not_before), at, latest;

	at = fraction * life * (1.0 + (2.0 * r - 1.0) * 0.1);
	latest = fraction * life + (1.0 - fraction) * life / 2.0;
	if (at > latest)
		at = latest;
	if (at < 0)
		at = 0;
	return not_before + (int64_t)at;
}

int64_t
renew_backoff(unsigned fails, double r)
{
	int64_t d = RENEW_BACKOFF_MIN;

	while (fails-- > 1 && d < RENEW_BACKOFF_MAX)
		d *= 2;
	if (d > RENEW_BACKOFF_MAX)
		d = RENEW_BACKOFF_MAX;
	return d / 2 + (int64_t)((double)(d - d / 2) * r);
}
