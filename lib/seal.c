/*
 * seal: AES-256-GCM under key-encryption keys read from private files.
 * The blob layout and the file rules are in seal.h.  KEKs and plaintext
 * live only in buffers that are wiped before they are freed; error lines
 * name files, modes and AADs, never bytes of a key.
 */
#include "seal.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <nettle/gcm.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "b64.h"

/* Offsets in a sealed blob (seal.h). */
#define OFF_ID		1
#define OFF_NONCE	(OFF_ID + TSR_SEAL_KEK_ID_LEN)
#define OFF_CT		(OFF_NONCE + TSR_SEAL_NONCE_LEN)

/* ".<name>.<16 hex>.tmp" beside the target. */
#define TMP_BUF		(TSR_SEAL_MAX_PATH + 24)

struct seal_kek {
	uint8_t	key[TSR_SEAL_KEK_LEN];
	uint8_t	id[TSR_SEAL_KEK_ID_LEN];
};

struct tsr_seal_keks {
	size_t		n;
	struct seal_kek	kek[TSR_SEAL_MAX_KEKS];
};

static const char *
errstr(int err, char *buf, size_t len)
{
	/* GNU strerror_r (we build with _GNU_SOURCE): thread-safe. */
	return strerror_r(err, buf, len);
}

void
tsr_seal_gcm(const uint8_t key[TSR_SEAL_KEK_LEN],
    const uint8_t nonce[TSR_SEAL_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[TSR_SEAL_TAG_LEN], bool decrypt)
{
	struct gcm_aes256_ctx ctx;

	gcm_aes256_set_key(&ctx, key);
	gcm_aes256_set_iv(&ctx, TSR_SEAL_NONCE_LEN, nonce);
	if (aad_len > 0)
		gcm_aes256_update(&ctx, aad_len, aad);
	if (decrypt)
		gcm_aes256_decrypt(&ctx, len, out, in);
	else
		gcm_aes256_encrypt(&ctx, len, out, in);
	gcm_aes256_digest(&ctx, TSR_SEAL_TAG_LEN, tag);
	/* The context holds the expanded key. */
	explicit_bzero(&ctx, sizeof(ctx));
}

/* Open path and check that it is a private regular file of ours. */
static enum tsr_err
kek_open(const char *path, int *fd, struct tsr_why *why)
{
	char ebuf[128];
	struct stat st;

	/* O_NONBLOCK: a FIFO planted here must not hang us. */
	if ((*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return tsr_err_why(why, TSR_ERR_NOT_FOUND,
			    "key-encryption key %s does not exist", path);
		if (errno == ELOOP)
			return tsr_err_why(why, TSR_ERR_PERM,
			    "key-encryption key %s is a symbolic link", path);
		return tsr_err_why(why, TSR_ERR_IO,
		    "key-encryption key %s: %s", path,
		    errstr(errno, ebuf, sizeof(ebuf)));
	}
	if (fstat(*fd, &st) == -1)
		return tsr_err_why(why, TSR_ERR_IO,
		    "key-encryption key %s: %s", path,
		    errstr(errno, ebuf, sizeof(ebuf)));
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return tsr_err_why(why, TSR_ERR_PERM,
		    "key-encryption key %s is not a regular file owned by us "
		    "(uid %u)", path, (unsigned)geteuid());
	/* Like ssh with its private keys. */
	if ((st.st_mode & 077) != 0)
		return tsr_err_why(why, TSR_ERR_PERM,
		    "key-encryption key %s has mode %04o: group and others "
		    "must have no access; chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
	return TSR_OK;
}

/* SHA-256 of a KEK, with the digest context wiped after. */
static void
kek_digest(uint8_t d[SHA256_DIGEST_SIZE], const uint8_t *p, size_t len)
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, p);
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, d);
	explicit_bzero(&ctx, sizeof(ctx));
}

/* Read exactly TSR_SEAL_KEK_LEN bytes from path into k. */
static enum tsr_err
kek_read(const char *path, struct seal_kek *k, struct tsr_why *why)
{
	uint8_t buf[TSR_SEAL_KEK_LEN + 1], d[SHA256_DIGEST_SIZE];
	size_t len = 0;
	ssize_t n = 0;
	int fd = -1;
	enum tsr_err rc;

	if ((rc = kek_open(path, &fd, why)) != TSR_OK)
		goto out;
	/* One byte past the size, to tell a longer file. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n == -1) {
		rc = tsr_err_why(why, TSR_ERR_IO,
		    "cannot read key-encryption key %s", path);
		goto out;
	}
	if (len > TSR_SEAL_KEK_LEN) {
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "key-encryption key %s is over %d bytes; it must be "
		    "exactly %d random bytes", path, TSR_SEAL_KEK_LEN,
		    TSR_SEAL_KEK_LEN);
		goto out;
	}
	if (len < TSR_SEAL_KEK_LEN) {
		rc = tsr_err_why(why, TSR_ERR_INVALID,
		    "key-encryption key %s is %zu bytes; it must be exactly "
		    "%d random bytes", path, len, TSR_SEAL_KEK_LEN);
		goto out;
	}
	memcpy(k->key, buf, TSR_SEAL_KEK_LEN);
	kek_digest(d, k->key, TSR_SEAL_KEK_LEN);
	memcpy(k->id, d, TSR_SEAL_KEK_ID_LEN);
out:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(d, sizeof(d));
	if (fd != -1)
		(void)close(fd);
	return rc;
}

/* Add the KEK at path to keks, refusing one already listed. */
static enum tsr_err
kek_add(struct tsr_seal_keks *keks, const char *path, struct tsr_why *why)
{
	struct seal_kek *k = &keks->kek[keks->n];
	size_t i;
	enum tsr_err rc;

	if (keks->n == TSR_SEAL_MAX_KEKS)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "more than %d key-encryption keys listed",
		    TSR_SEAL_MAX_KEKS);
	if ((rc = kek_read(path, k, why)) != TSR_OK)
		return rc;
	for (i = 0; i < keks->n; i++)
		if (memcmp(keks->kek[i].id, k->id, TSR_SEAL_KEK_ID_LEN) == 0) {
			explicit_bzero(k, sizeof(*k));
			return tsr_err_why(why, TSR_ERR_INVALID,
			    "key-encryption key %s is listed twice", path);
		}
	keks->n++;
	return TSR_OK;
}

enum tsr_err
tsr_seal_keks_load(const char *list, struct tsr_seal_keks **out,
    struct tsr_why *why)
{
	char path[TSR_SEAL_MAX_PATH + 1];
	struct tsr_seal_keks *keks = NULL;
	const char *p, *end;
	size_t len;
	enum tsr_err rc = TSR_OK;

	*out = NULL;
	if (list == NULL || list[0] == '\0' ||
	    strnlen(list, TSR_SEAL_MAX_LIST + 1) > TSR_SEAL_MAX_LIST)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "key-encryption key list is empty or over %d characters",
		    TSR_SEAL_MAX_LIST);
	if ((keks = calloc(1, sizeof(*keks))) == NULL)
		return TSR_ERR_NOMEM;
	for (p = list; rc == TSR_OK; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		if ((len = (size_t)(end - p)) == 0 || len > TSR_SEAL_MAX_PATH) {
			rc = tsr_err_why(why, TSR_ERR_INVALID,
			    "key-encryption key list \"%s\" has an empty or "
			    "too long file name", list);
			break;
		}
		memcpy(path, p, len);
		path[len] = '\0';
		rc = kek_add(keks, path, why);
		if (*end == '\0')
			break;
	}
	if (rc == TSR_OK) {
		*out = keks;
		keks = NULL;
	}
	tsr_seal_keks_destroy(keks);
	return rc;
}

void
tsr_seal_keks_destroy(struct tsr_seal_keks *keks)
{
	if (keks == NULL)
		return;
	explicit_bzero(keks, sizeof(*keks));
	free(keks);
}

size_t
tsr_seal_keks_count(const struct tsr_seal_keks *keks)
{
	return keks->n;
}

/* An AAD is 1..TSR_SEAL_MAX_AAD printable ASCII characters, so an error
 * line can show it. */
static bool
aad_is_valid(const char *aad, size_t *len)
{
	size_t i;

	if (aad == NULL ||
	    (*len = strnlen(aad, TSR_SEAL_MAX_AAD + 1)) == 0 ||
	    *len > TSR_SEAL_MAX_AAD)
		return false;
	for (i = 0; i < *len; i++)
		if (aad[i] < 0x21 || aad[i] > 0x7e)
			return false;
	return true;
}

enum tsr_err
tsr_seal_wrap(const struct tsr_seal_keks *keks, const char *aad,
    const uint8_t *plain, size_t plain_len, char **out, struct tsr_why *why)
{
	const struct seal_kek *k = &keks->kek[0];
	uint8_t *blob = NULL;
	size_t aad_len = 0, blob_len;
	enum tsr_err rc;

	*out = NULL;
	if (!aad_is_valid(aad, &aad_len))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "sealing needs 1 to %d printable characters of AAD",
		    TSR_SEAL_MAX_AAD);
	if (plain_len > TSR_SEAL_MAX_PLAIN)
		return tsr_err_why(why, TSR_ERR_TOO_LONG,
		    "a key to seal is over %d bytes", TSR_SEAL_MAX_PLAIN);
	blob_len = TSR_SEAL_OVERHEAD + plain_len;
	if ((blob = malloc(blob_len)) == NULL)
		return TSR_ERR_NOMEM;
	blob[0] = TSR_SEAL_VERSION;
	memcpy(blob + OFF_ID, k->id, TSR_SEAL_KEK_ID_LEN);
	/* 96 random bits per seal: a nonce never repeats under one KEK in
	 * any realistic number of seals (NIST SP 800-38D §8.3). */
	if (gnutls_rnd(GNUTLS_RND_KEY, blob + OFF_NONCE,
	    TSR_SEAL_NONCE_LEN) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "no random nonce for sealing");
		goto out;
	}
	tsr_seal_gcm(k->key, blob + OFF_NONCE, (const uint8_t *)aad, aad_len,
	    plain, plain_len, blob + OFF_CT, blob + OFF_CT + plain_len, false);
	rc = tsr_b64_encode_alloc(blob, blob_len, out, NULL);
out:
	free(blob);		/* ciphertext only: nothing to wipe */
	return rc;
}

static const struct seal_kek *
kek_find(const struct tsr_seal_keks *keks, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < keks->n; i++)
		if (memcmp(keks->kek[i].id, id, TSR_SEAL_KEK_ID_LEN) == 0)
			return &keks->kek[i];
	return NULL;
}

/* Decode text into a blob of a known version with room for a tag. */
static enum tsr_err
blob_decode(const char *text, uint8_t **blob, size_t *blob_len)
{
	size_t len;

	*blob = NULL;
	if (text == NULL ||
	    (len = strnlen(text, TSR_SEAL_MAX_TEXT + 1)) > TSR_SEAL_MAX_TEXT ||
	    tsr_b64_decode_alloc(text, len, blob, blob_len) != TSR_OK)
		return TSR_ERR_MALFORMED;
	if (*blob_len < TSR_SEAL_OVERHEAD || (*blob)[0] != TSR_SEAL_VERSION) {
		free(*blob);
		*blob = NULL;
		return TSR_ERR_MALFORMED;
	}
	return TSR_OK;
}

enum tsr_err
tsr_seal_unwrap(const struct tsr_seal_keks *keks, const char *aad,
    const char *text, uint8_t **plain, size_t *plain_len, struct tsr_why *why)
{
	const struct seal_kek *k;
	uint8_t *blob = NULL, *buf = NULL, tag[TSR_SEAL_TAG_LEN];
	size_t aad_len = 0, blob_len = 0, n = 0;
	enum tsr_err rc = TSR_OK;

	*plain = NULL;
	*plain_len = 0;
	if (!aad_is_valid(aad, &aad_len))
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "unsealing needs 1 to %d printable characters of AAD",
		    TSR_SEAL_MAX_AAD);
	if (blob_decode(text, &blob, &blob_len) != TSR_OK)
		return tsr_err_why(why, TSR_ERR_MALFORMED,
		    "sealed key for %s is not a sealed value this program "
		    "reads", aad);
	if ((k = kek_find(keks, blob + OFF_ID)) == NULL)
		goto fail;
	n = blob_len - TSR_SEAL_OVERHEAD;
	if ((buf = malloc(n + 1)) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	tsr_seal_gcm(k->key, blob + OFF_NONCE, (const uint8_t *)aad, aad_len,
	    blob + OFF_CT, n, buf, tag, true);
	/* Constant time: the comparison must not say how much matched. */
	if (!memeql_sec(tag, blob + OFF_CT + n, TSR_SEAL_TAG_LEN))
		goto fail;
	buf[n] = '\0';
	*plain = buf;
	*plain_len = n;
	buf = NULL;
	goto out;
fail:
	rc = tsr_err_why(why, TSR_ERR_CRYPTO, "sealed key for %s cannot be "
	    "unsealed with the given key-encryption keys", aad);
out:
	tsr_seal_plain_free(buf, n);
	free(blob);
	explicit_bzero(tag, sizeof(tag));
	return rc;
}

void
tsr_seal_plain_free(uint8_t *plain, size_t plain_len)
{
	if (plain == NULL)
		return;
	explicit_bzero(plain, plain_len + 1);
	free(plain);
}

bool
tsr_seal_is_current(const struct tsr_seal_keks *keks, const char *text)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	bool cur;

	if (blob_decode(text, &blob, &blob_len) != TSR_OK)
		return false;
	cur = memcmp(blob + OFF_ID, keks->kek[0].id, TSR_SEAL_KEK_ID_LEN) == 0;
	free(blob);
	return cur;
}

/* Split path into its directory (opened as *dfd) and its last name. */
static enum tsr_err
path_split(const char *path, int *dfd, const char **name, struct tsr_why *why)
{
	char dir[TSR_SEAL_MAX_PATH + 1], ebuf[128];
	const char *slash = strrchr(path, '/');
	size_t len;

	if (slash == NULL) {
		(void)snprintf(dir, sizeof(dir), ".");
		*name = path;
	} else {
		/* "/k" lives in "/"; "a/b/k" in "a/b". */
		len = slash == path ? 1 : (size_t)(slash - path);
		memcpy(dir, path, len);
		dir[len] = '\0';
		*name = slash + 1;
	}
	if (**name == '\0' || strcmp(*name, ".") == 0 ||
	    strcmp(*name, "..") == 0)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "key-encryption key path %s does not name a file", path);
	if ((*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return tsr_err_why(why, TSR_ERR_IO,
		    "cannot write key-encryption key %s: %s", path,
		    errstr(errno, ebuf, sizeof(ebuf)));
	return TSR_OK;
}

/* Zero and unlink a temp file we made; best effort. */
static void
tmp_discard(int dfd, const char *tmp)
{
	static const uint8_t zeros[TSR_SEAL_KEK_LEN];
	int fd;

	if ((fd = openat(dfd, tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		(void)!write(fd, zeros, sizeof(zeros));
		(void)fsync(fd);
		(void)close(fd);
	}
	(void)unlinkat(dfd, tmp, 0);
}

/* Create dfd/tmp, mode 0600 (never an existing file or a symlink), with
 * the key in it, on disk. */
static int
tmp_write(int dfd, const char *tmp, const uint8_t *key)
{
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return errno;
	/* fchmod: the umask could only have narrowed it, but be exact. */
	if (fchmod(fd, 0600) == -1)
		err = errno;
	while (err == 0 && len < TSR_SEAL_KEK_LEN) {
		if ((n = write(fd, key + len, TSR_SEAL_KEK_LEN - len)) == -1) {
			if (errno != EINTR)
				err = errno;
			continue;
		}
		len += (size_t)n;
	}
	if (err == 0 && fsync(fd) == -1)
		err = errno;
	if (close(fd) == -1 && err == 0)
		err = errno;
	if (err != 0)
		tmp_discard(dfd, tmp);
	return err;
}

/* Move tmp to name unless name exists; then make it durable. */
static int
tmp_publish(int dfd, const char *tmp, const char *name)
{
	int err;

	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == -1) {
		err = errno;
		/* A file system without RENAME_NOREPLACE: link(2) also
		 * refuses an existing target. */
		if ((err != EINVAL && err != ENOSYS) ||
		    linkat(dfd, tmp, dfd, name, 0) == -1) {
			err = err == EINVAL || err == ENOSYS ? errno : err;
			tmp_discard(dfd, tmp);
			return err;
		}
		(void)unlinkat(dfd, tmp, 0);
	}
	return fsync(dfd) == -1 ? errno : 0;
}

enum tsr_err
tsr_seal_kek_generate(const char *path, struct tsr_why *why)
{
	char tmp[TMP_BUF], ebuf[128];
	uint8_t key[TSR_SEAL_KEK_LEN], r[8];
	const char *name = NULL;
	struct stat st;
	int dfd = -1, err = 0;
	enum tsr_err rc;

	if (path == NULL || path[0] == '\0' ||
	    strnlen(path, TSR_SEAL_MAX_PATH + 1) > TSR_SEAL_MAX_PATH)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "key-encryption key path is empty or over %d characters",
		    TSR_SEAL_MAX_PATH);
	if ((rc = path_split(path, &dfd, &name, why)) != TSR_OK)
		goto out;
	/* Checked first for a clear message; the rename checks again. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		err = EEXIST;
		goto out;
	}
	/* A random temp name, so one left by a crash never blocks us. */
	if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof(key)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r)) < 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "no random bytes for a key-encryption key");
		goto out;
	}
	(void)snprintf(tmp, sizeof(tmp),
	    ".%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", name, r[0], r[1], r[2],
	    r[3], r[4], r[5], r[6], r[7]);
	if ((err = tmp_write(dfd, tmp, key)) == 0)
		err = tmp_publish(dfd, tmp, name);
out:
	if (err == EEXIST)
		rc = tsr_err_why(why, TSR_ERR_EXISTS, "key-encryption key %s "
		    "already exists; it is never overwritten", path);
	else if (err != 0)
		rc = tsr_err_why(why, TSR_ERR_IO,
		    "cannot write key-encryption key %s: %s", path,
		    errstr(err, ebuf, sizeof(ebuf)));
	explicit_bzero(key, sizeof(key));
	if (dfd != -1)
		(void)close(dfd);
	return rc;
}
