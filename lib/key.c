/*
 * key: one RSA signing key (GnuTLS for the private half and for
 * verification, nettle for the RFC 7638 thumbprint).
 *
 * A struct tsr_key is immutable once made, and GnuTLS allows read-only
 * use of one key object from many threads (GnuTLS manual, "Thread
 * safety"; a TLS server signs with one credentials key in every session
 * the same way), so tsr_key_sign and tsr_key_verify need no lock.
 */
#include "key.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/sha2.h>

#include "b64.h"
#include "fault.h"

/* Base64url of the largest modulus, and of an exponent of 4 bytes. */
#define KEY_N_B64_BUF	(TSR_B64_ENCODED_LEN(TSR_KEY_MAX_SIG) + 1)
#define KEY_MAX_E	4
#define KEY_E_B64_BUF	(TSR_B64_ENCODED_LEN(KEY_MAX_E) + 1)
/* "<dir>/<kid>.pem" and ".<kid>.<16 hex>.tmp" */
#define KEY_PATH_BUF	(TSR_KEY_MAX_PATH + 1 + TSR_KEY_KID_LEN + 5)
#define KEY_NAME_BUF	(TSR_KEY_KID_LEN + 5)
#define KEY_TMP_BUF	(1 + TSR_KEY_KID_LEN + 1 + 16 + 5)

struct tsr_key {
	gnutls_privkey_t	 priv;		/* NULL: public key only */
	gnutls_pubkey_t		 pub;
	int			 bits;
	size_t			 mod_len;	/* signature length in bytes */
	char			 kid[TSR_KEY_KID_BUF];
	char			 n_b64[KEY_N_B64_BUF];
	char			 e_b64[KEY_E_B64_BUF];
};

static void
wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

static void
datum_wipe_free(gnutls_datum_t *d)
{
	if (d->data != NULL) {
		gnutls_memset(d->data, 0, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

static const char *
errstr(int err, char *buf, size_t len)
{
	/* GNU strerror_r (we build with _GNU_SOURCE): thread-safe. */
	return strerror_r(err, buf, len);
}

bool
tsr_key_bits_valid(int bits)
{
	return bits == 2048 || bits == 3072 || bits == 4096;
}

/* A kid is 43 characters of canonical base64url naming 32 bytes; this
 * also keeps '/' and ".." out of the file names we build from it. */
static bool
kid_is_valid(const char *kid)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	size_t len;

	if (kid == NULL || strnlen(kid, TSR_KEY_KID_BUF) != TSR_KEY_KID_LEN)
		return false;
	return tsr_b64_decode(kid, TSR_KEY_KID_LEN, d, sizeof(d), &len) ==
	    TSR_OK && len == sizeof(d);
}

/* A canonical base64url string of at most TSR_KEY_MAX_SIG bytes. */
static bool
b64_str_is_valid(const char *s)
{
	uint8_t buf[TSR_KEY_MAX_SIG];
	size_t len;

	if (s == NULL || s[0] == '\0')
		return false;
	return tsr_b64_decode(s, strnlen(s, KEY_N_B64_BUF), buf, sizeof(buf),
	    &len) == TSR_OK;
}

enum tsr_err
tsr_key_thumbprint(const char *n_b64, const char *e_b64,
    char kid[TSR_KEY_KID_BUF])
{
	static const char p1[] = "{\"e\":\"", p2[] = "\",\"kty\":\"RSA\",\"n\":\"",
	    p3[] = "\"}";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	kid[0] = '\0';
	/* Only base64url characters: nothing in them needs JSON escaping. */
	if (!b64_str_is_valid(n_b64) || !b64_str_is_valid(e_b64))
		return TSR_ERR_INVALID;
	/* RFC 7638 §3.2-3.3: the required members only, sorted by name,
	 * no whitespace, UTF-8. */
	sha256_init(&ctx);
	sha256_update(&ctx, sizeof(p1) - 1, (const uint8_t *)p1);
	sha256_update(&ctx, strlen(e_b64), (const uint8_t *)e_b64);
	sha256_update(&ctx, sizeof(p2) - 1, (const uint8_t *)p2);
	sha256_update(&ctx, strlen(n_b64), (const uint8_t *)n_b64);
	sha256_update(&ctx, sizeof(p3) - 1, (const uint8_t *)p3);
	sha256_digest(&ctx, sizeof(d), d);
	return tsr_b64_encode(d, sizeof(d), kid, TSR_KEY_KID_BUF, NULL);
}

static enum tsr_err
key_alloc(struct tsr_key **out)
{
	struct tsr_key *key;

	*out = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return TSR_ERR_NOMEM;
	if (gnutls_pubkey_init(&key->pub) < 0) {
		free(key);
		return TSR_ERR_NOMEM;
	}
	*out = key;
	return TSR_OK;
}

void
tsr_key_destroy(struct tsr_key *key)
{
	if (key == NULL)
		return;
	gnutls_privkey_deinit(key->priv);	/* wipes its parameters */
	gnutls_pubkey_deinit(key->pub);
	free(key);
}

/* Modulus and exponent as minimal big-endian bytes (RFC 7518 §6.3.1). */
static enum tsr_err
check_rsa_public(const gnutls_datum_t *n, const gnutls_datum_t *e,
    struct tsr_why *why)
{
	unsigned int bits;

	if (n->size == 0 || n->data[0] == 0 || e->size == 0 ||
	    e->data[0] == 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA modulus or exponent is not a minimal unsigned integer");
	bits = n->size * 8;
	for (unsigned char top = n->data[0]; (top & 0x80) == 0; top <<= 1)
		bits--;
	if (bits < TSR_KEY_MIN_BITS || bits > TSR_KEY_MAX_BITS)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA key of %u bits; want %d to %d", bits,
		    TSR_KEY_MIN_BITS, TSR_KEY_MAX_BITS);
	if (e->size > KEY_MAX_E || (e->data[e->size - 1] & 1) == 0 ||
	    (e->size == 1 && e->data[0] < 3))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA public exponent is not an odd number from 3 to 2^32");
	return TSR_OK;
}

/* Fill bits, mod_len, n, e and kid from key->pub. */
static enum tsr_err
key_set_public(struct tsr_key *key, struct tsr_why *why)
{
	gnutls_datum_t n = { NULL, 0 }, e = { NULL, 0 };
	enum tsr_err rc;

	if (gnutls_pubkey_get_pk_algorithm(key->pub, NULL) != GNUTLS_PK_RSA)
		return tsr_err_why(why, TSR_ERR_INVALID, "key is not RSA");
	if (gnutls_pubkey_export_rsa_raw2(key->pub, &n, &e,
	    GNUTLS_EXPORT_FLAG_NO_LZ) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot export the RSA public key");
		goto out;
	}
	if ((rc = check_rsa_public(&n, &e, why)) != TSR_OK)
		goto out;
	key->mod_len = n.size;
	gnutls_pubkey_get_pk_algorithm(key->pub, (unsigned int *)&key->bits);
	if ((rc = tsr_b64_encode(n.data, n.size, key->n_b64,
	    sizeof(key->n_b64), NULL)) != TSR_OK ||
	    (rc = tsr_b64_encode(e.data, e.size, key->e_b64,
	    sizeof(key->e_b64), NULL)) != TSR_OK ||
	    (rc = tsr_key_thumbprint(key->n_b64, key->e_b64,
	    key->kid)) != TSR_OK)
		goto out;
out:
	gnutls_free(n.data);
	gnutls_free(e.data);
	return rc;
}

/* Wrap *priv (which we then own, and *priv is NULL) in a tsr_key. */
static enum tsr_err
key_adopt(gnutls_privkey_t *priv, struct tsr_key **out, struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	enum tsr_err rc;

	*out = NULL;
	if ((rc = key_alloc(&key)) != TSR_OK)
		goto out;
	key->priv = *priv;
	*priv = NULL;
	if (gnutls_privkey_get_pk_algorithm(key->priv, NULL) !=
	    GNUTLS_PK_RSA) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO, "key is not RSA");
		goto out;
	}
	/* Refuse inconsistent parameters (p*q != n and the like). */
	if (gnutls_privkey_verify_params(key->priv) < 0 ||
	    gnutls_pubkey_import_privkey(key->pub, key->priv, 0, 0) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "RSA private key parameters are inconsistent");
		goto out;
	}
	if ((rc = key_set_public(key, why)) != TSR_OK)
		goto out;
	*out = key;
	key = NULL;
out:
	gnutls_privkey_deinit(*priv);
	*priv = NULL;
	tsr_key_destroy(key);
	return rc;
}

enum tsr_err
tsr_key_generate(int bits, struct tsr_key **out, struct tsr_why *why)
{
	gnutls_privkey_t priv = NULL;
	int ret;

	*out = NULL;
	if (!tsr_key_bits_valid(bits))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA key size %d is not 2048, 3072 or 4096", bits);
	if (gnutls_privkey_init(&priv) < 0)
		return TSR_ERR_NOMEM;
	/* GnuTLS draws the primes from its GNUTLS_RND_KEY generator; e is
	 * 65537. */
	if ((ret = gnutls_privkey_generate2(priv, GNUTLS_PK_RSA,
	    (unsigned int)bits, 0, NULL, 0)) < 0) {
		gnutls_privkey_deinit(priv);
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "RSA key generation failed: %s", gnutls_strerror(ret));
	}
	return key_adopt(&priv, out, why);
}

static void
datum_set(gnutls_datum_t *d, const uint8_t *p, size_t len)
{
	d->data = (unsigned char *)p;	/* GnuTLS only reads it */
	d->size = len > UINT_MAX ? 0 : (unsigned int)len;
}

enum tsr_err
tsr_key_from_raw(const struct tsr_key_rsa_raw *raw, struct tsr_key **out,
    struct tsr_why *why)
{
	gnutls_datum_t n, e, d, p, q, dp, dq, qi;
	gnutls_privkey_t priv = NULL;

	*out = NULL;
	if (raw->n == NULL || raw->e == NULL || raw->d == NULL ||
	    raw->p == NULL || raw->q == NULL || raw->dp == NULL ||
	    raw->dq == NULL || raw->qi == NULL)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "RSA private key parameter missing");
	datum_set(&n, raw->n, raw->n_len);
	datum_set(&e, raw->e, raw->e_len);
	datum_set(&d, raw->d, raw->d_len);
	datum_set(&p, raw->p, raw->p_len);
	datum_set(&q, raw->q, raw->q_len);
	datum_set(&dp, raw->dp, raw->dp_len);
	datum_set(&dq, raw->dq, raw->dq_len);
	datum_set(&qi, raw->qi, raw->qi_len);
	if (gnutls_privkey_init(&priv) < 0)
		return TSR_ERR_NOMEM;
	/* GnuTLS's u is the PKCS #1 coefficient q^-1 mod p, the JWK "qi". */
	if (gnutls_privkey_import_rsa_raw(priv, &n, &e, &d, &p, &q, &qi, &dp,
	    &dq) < 0) {
		gnutls_privkey_deinit(priv);
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot import RSA private key parameters");
	}
	return key_adopt(&priv, out, why);
}

/* A public key from minimal big-endian n and e. */
static enum tsr_err
key_from_public(const uint8_t *n_bytes, size_t n_len, const uint8_t *e_bytes,
    size_t e_len, struct tsr_key **out, struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	gnutls_datum_t n, e;
	enum tsr_err rc;

	*out = NULL;
	datum_set(&n, n_bytes, n_len);
	datum_set(&e, e_bytes, e_len);
	if ((rc = check_rsa_public(&n, &e, why)) != TSR_OK ||
	    (rc = key_alloc(&key)) != TSR_OK)
		goto out;
	if (gnutls_pubkey_import_rsa_raw(key->pub, &n, &e) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "cannot import RSA public key");
		goto out;
	}
	if ((rc = key_set_public(key, why)) != TSR_OK)
		goto out;
	*out = key;
	key = NULL;
out:
	tsr_key_destroy(key);
	return rc;
}

/* A string member that, when present, must equal want. */
static bool
member_is(const json_t *obj, const char *name, const char *want,
    bool required)
{
	const json_t *v = json_object_get(obj, name);

	if (v == NULL)
		return !required;
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

enum tsr_err
tsr_key_from_jwk(const json_t *jwk, struct tsr_key **out,
    struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	uint8_t *n = NULL, *e = NULL;
	size_t n_len = 0, e_len = 0;
	const char *n_b64, *e_b64;
	enum tsr_err rc;

	*out = NULL;
	if (!json_is_object(jwk))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK is not a JSON object");
	/* RFC 7517 §4: a key for another use or algorithm is not ours. */
	if (!member_is(jwk, "kty", "RSA", true) ||
	    !member_is(jwk, "use", "sig", false) ||
	    !member_is(jwk, "alg", "RS256", false))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK is not an RSA signing key for RS256");
	n_b64 = json_string_value(json_object_get(jwk, "n"));
	e_b64 = json_string_value(json_object_get(jwk, "e"));
	if (n_b64 == NULL || e_b64 == NULL ||
	    tsr_b64_decode_alloc(n_b64, strlen(n_b64), &n, &n_len) != TSR_OK ||
	    tsr_b64_decode_alloc(e_b64, strlen(e_b64), &e, &e_len) != TSR_OK) {
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK n or e is missing or not base64url");
		goto out;
	}
	if ((rc = key_from_public(n, n_len, e, e_len, &key, why)) != TSR_OK)
		goto out;
	if (!member_is(jwk, "kid", key->kid, false)) {
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "JWK kid is not its RFC 7638 thumbprint %s", key->kid);
		goto out;
	}
	*out = key;
	key = NULL;
out:
	free(n);
	free(e);
	tsr_key_destroy(key);
	return rc;
}

const char *
tsr_key_kid(const struct tsr_key *key)
{
	return key->kid;
}

int
tsr_key_bits(const struct tsr_key *key)
{
	return key->bits;
}

bool
tsr_key_has_private(const struct tsr_key *key)
{
	return key->priv != NULL;
}

enum tsr_err
tsr_key_public_jwk(const struct tsr_key *key, json_t **out)
{
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA",
	    "use", "sig", "alg", "RS256", "kid", key->kid, "n", key->n_b64,
	    "e", key->e_b64);
	return *out == NULL ? TSR_ERR_NOMEM : TSR_OK;
}

enum tsr_err
tsr_key_sign(const struct tsr_key *key, const uint8_t *msg, size_t msg_len,
    uint8_t *sig, size_t *sig_len)
{
	gnutls_datum_t data, s = { NULL, 0 };
	size_t pad;

	*sig_len = 0;
	if (key->priv == NULL)
		return TSR_ERR_STATE;
	if (msg_len > UINT_MAX)
		return TSR_ERR_TOO_LONG;
	datum_set(&data, msg, msg_len);
	/* RFC 7518 §3.3: RS256 is RSASSA-PKCS1-v1_5 with SHA-256. */
	if (gnutls_privkey_sign_data2(key->priv, GNUTLS_SIGN_RSA_SHA256, 0,
	    &data, &s) < 0)
		return TSR_ERR_CRYPTO;
	if (s.size > key->mod_len || key->mod_len > TSR_KEY_MAX_SIG) {
		gnutls_free(s.data);
		return TSR_ERR_CRYPTO;
	}
	/* RFC 8017 §8.2.1: the signature is exactly k octets long. */
	pad = key->mod_len - s.size;
	memset(sig, 0, pad);
	memcpy(sig + pad, s.data, s.size);
	*sig_len = key->mod_len;
	gnutls_free(s.data);
	return TSR_OK;
}

enum tsr_err
tsr_key_verify(const struct tsr_key *key, const uint8_t *msg, size_t msg_len,
    const uint8_t *sig, size_t sig_len)
{
	gnutls_datum_t data, s;

	/* RFC 8017 §8.2.2 step 1: the length must be exactly k. */
	if (sig_len != key->mod_len || msg_len > UINT_MAX)
		return TSR_ERR_BAD_SIG;
	datum_set(&data, msg, msg_len);
	datum_set(&s, sig, sig_len);
	if (gnutls_pubkey_verify_data2(key->pub, GNUTLS_SIGN_RSA_SHA256, 0,
	    &data, &s) < 0)
		return TSR_ERR_BAD_SIG;
	return TSR_OK;
}

/*
 * Key files.
 */

enum tsr_err
tsr_key_dir_check(const char *dir, bool create, struct tsr_why *why)
{
	char ebuf[128];
	struct stat st;

	if (dir == NULL || dir[0] == '\0' ||
	    strnlen(dir, TSR_KEY_MAX_PATH + 1) > TSR_KEY_MAX_PATH)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "key directory path is empty or too long");
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT)
			return tsr_err_why(why, TSR_ERR_IO, "key directory %s: %s",
			    dir, errstr(errno, ebuf, sizeof(ebuf)));
		if (!create)
			return tsr_err_why(why, TSR_ERR_NOT_FOUND,
			    "key directory %s does not exist", dir);
		if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
		    stat(dir, &st) == -1)
			return tsr_err_why(why, TSR_ERR_IO,
			    "cannot create key directory %s: %s", dir,
			    errstr(errno, ebuf, sizeof(ebuf)));
	}
	if (!S_ISDIR(st.st_mode))
		return tsr_err_why(why, TSR_ERR_PERM,
		    "key directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return tsr_err_why(why, TSR_ERR_PERM,
		    "key directory %s is owned by uid %u, not by us (uid %u)",
		    dir, (unsigned)st.st_uid, (unsigned)geteuid());
	/* Like ssh: a key others can list or enter is not private. */
	if ((st.st_mode & 077) != 0)
		return tsr_err_why(why, TSR_ERR_PERM,
		    "key directory %s is group/world accessible (mode %04o); "
		    "chmod 700 it", dir, (unsigned)(st.st_mode & 07777));
	return TSR_OK;
}

static enum tsr_err
dir_open(const char *dir, int *dfd, struct tsr_why *why)
{
	char ebuf[128];

	if ((*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return tsr_err_why(why, TSR_ERR_IO, "key directory %s: %s", dir,
		    errstr(errno, ebuf, sizeof(ebuf)));
	return TSR_OK;
}

static void
file_name(const char *kid, char name[KEY_NAME_BUF])
{
	/* kid_is_valid: exactly TSR_KEY_KID_LEN characters, so this fits. */
	(void)snprintf(name, KEY_NAME_BUF, "%s.pem", kid);
}

static enum tsr_err
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return TSR_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return TSR_OK;
}

/* Overwrite an open file's contents with zeros and fsync it. */
static enum tsr_err
zero_file(int fd)
{
	static const uint8_t zeros[4096];
	struct stat st;
	off_t left;
	size_t n;

	if (fstat(fd, &st) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		return TSR_ERR_IO;
	for (left = st.st_size; left > 0; left -= (off_t)n) {
		n = left < (off_t)sizeof(zeros) ? (size_t)left : sizeof(zeros);
		if (write_all(fd, zeros, n) != TSR_OK)
			return TSR_ERR_IO;
	}
	return fsync(fd) == -1 ? TSR_ERR_IO : TSR_OK;
}

/* Zero and unlink dfd/name; best effort, for cleaning up a temp file. */
static void
wipe_unlink(int dfd, const char *name)
{
	int fd;

	if ((fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		(void)zero_file(fd);
		(void)close(fd);
	}
	(void)unlinkat(dfd, name, 0);
}

/* Create dfd/tmp (mode 0600, never an existing file or a symlink) and
 * write data to disk. */
static enum tsr_err
write_new_file(int dfd, const char *tmp, const uint8_t *data, size_t len)
{
	int fd;
	enum tsr_err rc = TSR_OK;

	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return TSR_ERR_IO;
	if (fchmod(fd, 0600) == -1 || write_all(fd, data, len) != TSR_OK ||
	    fsync(fd) == -1)
		rc = TSR_ERR_IO;
	if (close(fd) == -1)
		rc = TSR_ERR_IO;
	if (rc != TSR_OK)
		wipe_unlink(dfd, tmp);
	return rc;
}

/* Move tmp to name unless name exists, then make the rename durable. */
static enum tsr_err
publish(int dfd, const char *tmp, const char *name)
{
	int err;

	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == -1) {
		err = errno;
		/* A file system without RENAME_NOREPLACE: link(2) also
		 * refuses an existing target. */
		if ((err == EINVAL || err == ENOSYS) &&
		    linkat(dfd, tmp, dfd, name, 0) == 0)
			(void)unlinkat(dfd, tmp, 0);
		else {
			wipe_unlink(dfd, tmp);
			return err == EEXIST ? TSR_ERR_EXISTS : TSR_ERR_IO;
		}
	}
	return fsync(dfd) == -1 ? TSR_ERR_IO : TSR_OK;
}

/* The private key as unencrypted PKCS #8 PEM; datum_wipe_free it. */
static enum tsr_err
key_export_pem(const struct tsr_key *key, gnutls_datum_t *pem)
{
	gnutls_x509_privkey_t x = NULL;
	int ret;

	pem->data = NULL;
	pem->size = 0;
	if (gnutls_privkey_export_x509(key->priv, &x) < 0)
		return TSR_ERR_CRYPTO;
	ret = gnutls_x509_privkey_export2_pkcs8(x, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, pem);
	gnutls_x509_privkey_deinit(x);
	return ret < 0 ? TSR_ERR_CRYPTO : TSR_OK;
}

static enum tsr_err
tmp_name(const char *kid, char tmp[KEY_TMP_BUF])
{
	uint8_t r[8];

	/* A random name, so a temp file left by a crash never blocks us. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r)) < 0)
		return TSR_ERR_CRYPTO;
	(void)snprintf(tmp, KEY_TMP_BUF,
	    ".%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", kid, r[0], r[1], r[2],
	    r[3], r[4], r[5], r[6], r[7]);
	return TSR_OK;
}

enum tsr_err
tsr_key_save(const struct tsr_key *key, const char *dir, struct tsr_why *why)
{
	gnutls_datum_t pem = { NULL, 0 };
	char name[KEY_NAME_BUF], tmp[KEY_TMP_BUF];
	int dfd = -1;
	enum tsr_err rc;

	if (key->priv == NULL)
		return tsr_err_why(why, TSR_ERR_STATE,
		    "key %s has no private half to save", key->kid);
	if ((rc = tsr_key_dir_check(dir, false, why)) != TSR_OK ||
	    (rc = dir_open(dir, &dfd, why)) != TSR_OK)
		goto out;
	file_name(key->kid, name);
	if ((rc = key_export_pem(key, &pem)) != TSR_OK ||
	    (rc = tmp_name(key->kid, tmp)) != TSR_OK ||
	    (rc = write_new_file(dfd, tmp, pem.data, pem.size)) != TSR_OK ||
	    (rc = publish(dfd, tmp, name)) != TSR_OK)
		(void)tsr_err_why(why, rc, "cannot write key file %s/%s: %s", dir,
		    name, rc == TSR_ERR_EXISTS ? "it already exists" :
		    tsr_err_str(rc));
out:
	datum_wipe_free(&pem);
	if (dfd != -1)
		(void)close(dfd);
	return rc;
}

/* Open dir/<kid>.pem and check it is a private file of ours. */
static enum tsr_err
open_key_file(const char *dir, const char *kid, int *fd, struct tsr_why *why)
{
	char path[KEY_PATH_BUF], ebuf[128];
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/%s.pem", dir, kid);
	/* O_NONBLOCK: a FIFO planted here must not hang us. */
	if ((*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return tsr_err_why(why, TSR_ERR_NOT_FOUND,
			    "key file %s does not exist", path);
		if (errno == ELOOP)
			return tsr_err_why(why, TSR_ERR_PERM,
			    "key file %s is a symbolic link", path);
		return tsr_err_why(why, TSR_ERR_IO, "key file %s: %s", path,
		    errstr(errno, ebuf, sizeof(ebuf)));
	}
	if (fstat(*fd, &st) == -1)
		return tsr_err_why(why, TSR_ERR_IO, "key file %s: %s", path,
		    errstr(errno, ebuf, sizeof(ebuf)));
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return tsr_err_why(why, TSR_ERR_PERM,
		    "key file %s is not a regular file owned by us", path);
	if ((st.st_mode & 077) != 0)
		return tsr_err_why(why, TSR_ERR_PERM,
		    "key file %s is group/world accessible (mode %04o); "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
	if (st.st_size > TSR_KEY_MAX_PEM)
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "key file %s is over %d bytes", path, TSR_KEY_MAX_PEM);
	return TSR_OK;
}

/* Read the whole key file into a TSR_KEY_MAX_PEM + 1 byte buffer. */
static enum tsr_err
read_key_file(const char *dir, const char *kid, uint8_t **pem,
    size_t *pem_len, struct tsr_why *why)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	ssize_t n = 0;
	int fd = -1;
	enum tsr_err rc;

	*pem = NULL;
	*pem_len = 0;
	if ((rc = open_key_file(dir, kid, &fd, why)) != TSR_OK)
		goto out;
	if ((buf = malloc(TSR_KEY_MAX_PEM + 1)) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	/* Read to EOF, one byte past the cap: the file may have grown. */
	while (len <= TSR_KEY_MAX_PEM) {
		n = read(fd, buf + len, TSR_KEY_MAX_PEM + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n == -1 || len > TSR_KEY_MAX_PEM) {
		rc = tsr_err_why(why, n == -1 ? TSR_ERR_IO : TSR_ERR_TOO_LONG,
		    "cannot read key file %s/%s.pem", dir, kid);
		goto out;
	}
	*pem = buf;
	*pem_len = len;
	buf = NULL;
out:
	wipe_free(buf, TSR_KEY_MAX_PEM + 1);
	if (fd != -1)
		(void)close(fd);
	return rc;
}

/* Parse PKCS #8 or PKCS #1 PEM (GnuTLS tries both). */
static enum tsr_err
key_from_pem(const uint8_t *pem, size_t pem_len, struct tsr_key **out,
    struct tsr_why *why)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t priv = NULL;
	gnutls_datum_t d;

	*out = NULL;
	datum_set(&d, pem, pem_len);
	if (gnutls_x509_privkey_init(&x) < 0)
		return TSR_ERR_NOMEM;
	if (gnutls_x509_privkey_import2(x, &d, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN) < 0 || gnutls_privkey_init(&priv) < 0) {
		gnutls_x509_privkey_deinit(x);
		return tsr_err_why(why, TSR_ERR_CRYPTO,
		    "key file is not an unencrypted RSA private key PEM");
	}
	/* AUTO_RELEASE: priv owns x from here on. */
	if (gnutls_privkey_import_x509(priv, x,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0) {
		gnutls_x509_privkey_deinit(x);
		gnutls_privkey_deinit(priv);
		return TSR_ERR_CRYPTO;
	}
	return key_adopt(&priv, out, why);
}

enum tsr_err
tsr_key_load(const char *dir, const char *kid, struct tsr_key **out,
    struct tsr_why *why)
{
	struct tsr_key *key = NULL;
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	enum tsr_err rc;

	*out = NULL;
	if (!kid_is_valid(kid))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "not a key id (43 base64url characters)");
	if ((rc = tsr_key_dir_check(dir, false, why)) != TSR_OK ||
	    (rc = read_key_file(dir, kid, &pem, &pem_len, why)) != TSR_OK ||
	    (rc = key_from_pem(pem, pem_len, &key, why)) != TSR_OK)
		goto out;
	/* The name is the thumbprint: a renamed or swapped file is refused. */
	if (strcmp(key->kid, kid) != 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "key file %s/%s.pem holds key %s", dir, kid, key->kid);
		goto out;
	}
	*out = key;
	key = NULL;
out:
	wipe_free(pem, TSR_KEY_MAX_PEM + 1);
	tsr_key_destroy(key);
	return rc;
}

enum tsr_err
tsr_key_destroy_file(const char *dir, const char *kid, struct tsr_why *why)
{
	char name[KEY_NAME_BUF], ebuf[128];
	int dfd = -1, fd = -1;
	enum tsr_err rc;

	if (!kid_is_valid(kid))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "not a key id (43 base64url characters)");
	file_name(kid, name);
	if ((rc = dir_open(dir, &dfd, why)) != TSR_OK)
		goto out;
	if ((fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		if (errno != ENOENT)
			rc = tsr_err_why(why, TSR_ERR_IO, "key file %s/%s: %s",
			    dir, name, errstr(errno, ebuf, sizeof(ebuf)));
		goto out;	/* already gone: destroying is idempotent */
	}
	/* Overwrite before unlinking, so the key does not linger in the
	 * freed blocks of an ordinary file system. */
	if (zero_file(fd) != TSR_OK)
		goto fail;
	tsr_fault("key.destroy.after_overwrite");
	if (unlinkat(dfd, name, 0) == -1 || fsync(dfd) == -1)
fail:
		rc = tsr_err_why(why, TSR_ERR_IO,
		    "cannot destroy key file %s/%s: %s", dir, name,
		    errstr(errno, ebuf, sizeof(ebuf)));
out:
	if (fd != -1)
		(void)close(fd);
	if (dfd != -1)
		(void)close(dfd);
	return rc;
}

enum tsr_err
tsr_key_file_age(const char *dir, const char *kid, int64_t now,
    int64_t *age_s, struct tsr_why *why)
{
	char name[KEY_NAME_BUF], ebuf[128];
	struct stat sb;
	int dfd = -1;
	enum tsr_err rc;

	*age_s = 0;
	if (!kid_is_valid(kid))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "not a key id (43 base64url characters)");
	file_name(kid, name);
	if ((rc = dir_open(dir, &dfd, why)) != TSR_OK)
		return rc;
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		rc = errno == ENOENT ? TSR_ERR_NOT_FOUND : tsr_err_why(why,
		    TSR_ERR_IO, "key file %s/%s: %s", dir, name,
		    errstr(errno, ebuf, sizeof(ebuf)));
	else
		*age_s = now - (int64_t)sb.st_mtime;
	(void)close(dfd);
	return rc;
}

void
tsr_key_kids_free(char **kids, size_t n)
{
	size_t i;

	if (kids == NULL)
		return;
	for (i = 0; i < n; i++)
		free(kids[i]);
	free(kids);
}

/* Whether name is "<kid>.pem"; if so, kid gets the kid. */
static bool
name_kid(const char *name, char kid[TSR_KEY_KID_BUF])
{
	if (strnlen(name, KEY_NAME_BUF) != KEY_NAME_BUF - 1 ||
	    strcmp(name + TSR_KEY_KID_LEN, ".pem") != 0)
		return false;
	memcpy(kid, name, TSR_KEY_KID_LEN);
	kid[TSR_KEY_KID_LEN] = '\0';
	return kid_is_valid(kid);
}

static int
kid_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum tsr_err
tsr_key_dir_list(const char *dir, char ***out, size_t *out_n,
    struct tsr_why *why)
{
	char **kids = NULL, kid[TSR_KEY_KID_BUF], ebuf[128];
	size_t n = 0;
	struct dirent *de;
	DIR *d = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = tsr_key_dir_check(dir, false, why)) != TSR_OK)
		goto out;
	if ((d = opendir(dir)) == NULL) {
		rc = tsr_err_why(why, TSR_ERR_IO, "key directory %s: %s", dir,
		    errstr(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	if ((kids = calloc(TSR_KEY_MAX_FILES, sizeof(*kids))) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!name_kid(de->d_name, kid))
			continue;
		if (n == TSR_KEY_MAX_FILES) {
			rc = tsr_err_why(why, TSR_ERR_TOO_LONG,
			    "key directory %s holds over %d keys", dir,
			    TSR_KEY_MAX_FILES);
			goto out;
		}
		if ((kids[n] = strdup(kid)) == NULL) {
			rc = TSR_ERR_NOMEM;
			goto out;
		}
		n++;
	}
	qsort(kids, n, sizeof(*kids), kid_cmp);
	*out = kids;
	*out_n = n;
	kids = NULL;
out:
	tsr_key_kids_free(kids, n);
	if (d != NULL)
		(void)closedir(d);
	return rc;
}
