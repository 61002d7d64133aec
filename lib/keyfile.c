/*
 * keyfile: private key files in a key directory we own: checked like ssh checks its own, written atomically, retired
 * by overwriting, then unlinking.  The PEM itself is made and parsed by
 * lib/key (tsr_key_to_pem, tsr_key_from_pem); every buffer here that
 * holds it is wiped before it is freed.
 */
#include "keyfile.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <nettle/sha2.h>

#include "b64.h"
#include "fault.h"

/* "<dir>/<kid>.pem" and ".<kid>.<16 hex>.tmp" */
#define KEY_PATH_BUF	(TSR_KEYFILE_MAX_PATH + 1 + TSR_KEY_KID_LEN + 5)
#define KEY_NAME_BUF	(TSR_KEY_KID_LEN + 5)
#define KEY_TMP_BUF	(1 + TSR_KEY_KID_LEN + 1 + 16 + 5)

static void
wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

static const char *
errstr(int err, char *buf, size_t len)
{
	/* GNU strerror_r (we build with _GNU_SOURCE): thread-safe. */
	return strerror_r(err, buf, len);
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

enum tsr_err
tsr_keyfile_dir_check(const char *dir, bool create, struct tsr_why *why)
{
	char ebuf[128];
	struct stat st;

	if (dir == NULL || dir[0] == '\0' ||
	    strnlen(dir, TSR_KEYFILE_MAX_PATH + 1) > TSR_KEYFILE_MAX_PATH)
		return tsr_err_why(why, TSR_ERR_INVALID,
		    "key directory path is empty or too long");
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT)
			return tsr_err_why(why, TSR_ERR_IO,
			    "key directory %s: %s", dir,
			    errstr(errno, ebuf, sizeof(ebuf)));
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

static enum tsr_err
dir_lock(const char *dir, int op, int *fd, struct tsr_why *why)
{
	char ebuf[128];
	enum tsr_err rc;

	if ((rc = dir_open(dir, fd, why)) != TSR_OK) {
		*fd = -1;
		return rc;
	}
	while (flock(*fd, op) == -1) {
		if (errno == EINTR)
			continue;
		rc = errno == EWOULDBLOCK ? tsr_err_why(why, TSR_ERR_CONFLICT,
		    "key directory %s: a key is being written", dir) :
		    tsr_err_why(why, TSR_ERR_IO, "key directory %s: lock: %s",
		    dir, errstr(errno, ebuf, sizeof(ebuf)));
		close(*fd);
		*fd = -1;
		return rc;
	}
	return TSR_OK;
}

enum tsr_err
tsr_keyfile_lock_shared(const char *dir, int *fd, struct tsr_why *why)
{
	return dir_lock(dir, LOCK_SH, fd, why);
}

enum tsr_err
tsr_keyfile_lock_exclusive(const char *dir, int *fd, struct tsr_why *why)
{
	return dir_lock(dir, LOCK_EX | LOCK_NB, fd, why);
}

void
tsr_keyfile_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* releases the lock */
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
tsr_keyfile_save(const struct tsr_key *key, const char *dir,
    struct tsr_why *why)
{
	const char *kid = tsr_key_kid(key);
	char name[KEY_NAME_BUF], tmp[KEY_TMP_BUF];
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	int dfd = -1;
	enum tsr_err rc;

	if (!tsr_key_has_private(key))
		return tsr_err_why(why, TSR_ERR_STATE,
		    "key %s has no private half to save", kid);
	if ((rc = tsr_keyfile_dir_check(dir, false, why)) != TSR_OK ||
	    (rc = dir_open(dir, &dfd, why)) != TSR_OK)
		goto out;
	file_name(kid, name);
	/* NULL why: the line below says which file could not be written. */
	if ((rc = tsr_key_to_pem(key, &pem, &pem_len, NULL)) != TSR_OK ||
	    (rc = tmp_name(kid, tmp)) != TSR_OK ||
	    (rc = write_new_file(dfd, tmp, pem, pem_len)) != TSR_OK ||
	    (rc = publish(dfd, tmp, name)) != TSR_OK)
		(void)tsr_err_why(why, rc, "cannot write key file %s/%s: %s",
		    dir, name, rc == TSR_ERR_EXISTS ? "it already exists" :
		    tsr_err_str(rc));
out:
	tsr_key_pem_free(pem, pem_len);		/* wipes it */
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

enum tsr_err
tsr_keyfile_load(const char *dir, const char *kid, struct tsr_key **out,
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
	if ((rc = tsr_keyfile_dir_check(dir, false, why)) != TSR_OK ||
	    (rc = read_key_file(dir, kid, &pem, &pem_len, why)) != TSR_OK ||
	    (rc = tsr_key_from_pem(pem, pem_len, &key, why)) != TSR_OK)
		goto out;
	/* The name is the thumbprint: a renamed or swapped file is refused. */
	if (strcmp(tsr_key_kid(key), kid) != 0) {
		rc = tsr_err_why(why, TSR_ERR_CRYPTO,
		    "key file %s/%s.pem holds key %s", dir, kid,
		    tsr_key_kid(key));
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
tsr_keyfile_destroy(const char *dir, const char *kid, struct tsr_why *why)
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
	/* Another process destroying the same key may unlink it first. */
	if ((unlinkat(dfd, name, 0) == -1 && errno != ENOENT) ||
	    fsync(dfd) == -1)
		goto fail;
	goto out;
fail:
	rc = tsr_err_why(why, TSR_ERR_IO, "cannot destroy key file %s/%s: %s",
	    dir, name, errstr(errno, ebuf, sizeof(ebuf)));
out:
	if (fd != -1)
		(void)close(fd);
	if (dfd != -1)
		(void)close(dfd);
	return rc;
}

enum tsr_err
tsr_keyfile_age(const char *dir, const char *kid, int64_t now,
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
tsr_keyfile_kids_free(char **kids, size_t n)
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
tsr_keyfile_list(const char *dir, char ***out, size_t *out_n,
    struct tsr_why *why)
{
	char **kids = NULL, kid[TSR_KEY_KID_BUF], ebuf[128];
	size_t n = 0;
	struct dirent *de;
	DIR *d = NULL;
	enum tsr_err rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = tsr_keyfile_dir_check(dir, false, why)) != TSR_OK)
		goto out;
	if ((d = opendir(dir)) == NULL) {
		rc = tsr_err_why(why, TSR_ERR_IO, "key directory %s: %s", dir,
		    errstr(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	if ((kids = calloc(TSR_KEYFILE_MAX_FILES, sizeof(*kids))) == NULL) {
		rc = TSR_ERR_NOMEM;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!name_kid(de->d_name, kid))
			continue;
		if (n == TSR_KEYFILE_MAX_FILES) {
			rc = tsr_err_why(why, TSR_ERR_TOO_LONG,
			    "key directory %s holds over %d keys", dir,
			    TSR_KEYFILE_MAX_FILES);
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
	tsr_keyfile_kids_free(kids, n);
	if (d != NULL)
		(void)closedir(d);
	return rc;
}

/* A private file that is not a signing key: a short [a-z-] base name. */
static bool
base_is_valid(const char *base)
{
	size_t i, len = strnlen(base, TSR_KEY_KID_LEN + 1);

	if (len == 0 || len > TSR_KEY_KID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if ((base[i] < 'a' || base[i] > 'z') && base[i] != '-')
			return false;
	return true;
}

enum tsr_err
tsr_keyfile_save_pem(const char *dir, const char *base, const uint8_t *pem,
    size_t pem_len, struct tsr_why *why)
{
	char name[KEY_NAME_BUF], tmp[KEY_TMP_BUF];
	int dfd = -1;
	enum tsr_err rc;

	if (!base_is_valid(base) || pem_len > TSR_KEY_MAX_PEM)
		return tsr_err_why(why, TSR_ERR_INVALID, "bad key file");
	if ((rc = tsr_keyfile_dir_check(dir, true, why)) != TSR_OK ||
	    (rc = dir_open(dir, &dfd, why)) != TSR_OK)
		return rc;
	file_name(base, name);
	if ((rc = tmp_name(base, tmp)) != TSR_OK ||
	    (rc = write_new_file(dfd, tmp, pem, pem_len)) != TSR_OK ||
	    (rc = publish(dfd, tmp, name)) != TSR_OK)
		(void)tsr_err_why(why, rc, "cannot write key file %s/%s: %s",
		    dir, name, rc == TSR_ERR_EXISTS ? "it already exists" :
		    tsr_err_str(rc));
	(void)close(dfd);
	return rc;
}

enum tsr_err
tsr_keyfile_load_pem(const char *dir, const char *base, uint8_t **pem,
    size_t *pem_len, struct tsr_why *why)
{
	*pem = NULL;
	*pem_len = 0;
	if (!base_is_valid(base))
		return tsr_err_why(why, TSR_ERR_INVALID, "bad key file");
	return read_key_file(dir, base, pem, pem_len, why);
}

void
tsr_keyfile_pem_free(uint8_t *pem)
{
	wipe_free(pem, TSR_KEY_MAX_PEM + 1);
}
