#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "b64.h"
#include "check.h"
#include "key.h"
#include "keyfile.h"

/* RFC 7638 §3.1: the example key's thumbprint. */
static const char rfc7638_kid[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static char tmpdir[] = "/tmp/tsr_test_keyfile.XXXXXX";

static void
path_of(char *buf, size_t len, const char *name)
{
	if (snprintf(buf, len, "%s/%s", tmpdir, name) >= (int)len)
		abort();
}

static void
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[256];
	int fd;

	path_of(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1 || write(fd, data, len) != (ssize_t)len || close(fd) == -1)
		abort();
	if (chmod(path, mode) == -1)
		abort();
}

static mode_t
mode_of(const char *name)
{
	char path[256];
	struct stat st;

	path_of(path, sizeof(path), name);
	if (lstat(path, &st) == -1)
		return (mode_t)-1;
	return st.st_mode;
}

static void
check_why(const struct tsr_why *why, const char *want)
{
	CHECK(strstr(why->msg, want) != NULL);
	if (strstr(why->msg, want) == NULL)
		printf("#   why \"%s\", want \"%s\"\n", why->msg, want);
}

static void
test_save_load(const struct tsr_key *key)
{
	char name[64], other[64], path[256], path2[256];
	uint8_t sig[TSR_KEY_MAX_SIG], sig2[TSR_KEY_MAX_SIG];
	struct tsr_key *loaded = NULL;
	struct tsr_why why;
	char **kids = NULL;
	size_t n = 0, sig_len, sig2_len;

	snprintf(name, sizeof(name), "%s.pem", tsr_key_kid(key));
	snprintf(other, sizeof(other), "%s.pem", rfc7638_kid);
	CHECK_INT(tsr_keyfile_dir_check(tmpdir, false, NULL), TSR_OK);
	CHECK_INT(tsr_keyfile_save(key, tmpdir, NULL), TSR_OK);
	CHECK_INT(mode_of(name), S_IFREG | 0600);
	tsr_err_clear(&why);
	CHECK_INT(tsr_keyfile_save(key, tmpdir, &why), TSR_ERR_EXISTS);
	check_why(&why, "already exists");

	/* Noise that is not a key file is ignored by the listing. */
	write_file("README", "x", 1, 0600);
	write_file("x.pem", "x", 1, 0600);
	CHECK_INT(tsr_keyfile_list(tmpdir, &kids, &n, NULL), TSR_OK);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(kids[0], tsr_key_kid(key));
	tsr_keyfile_kids_free(kids, n);

	CHECK_INT(tsr_keyfile_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_OK);
	if (loaded == NULL)
		abort();
	CHECK_STR(tsr_key_kid(loaded), tsr_key_kid(key));
	CHECK(tsr_key_has_private(loaded));
	CHECK_INT(tsr_key_sign(key, (const uint8_t *)"m", 1, sig, &sig_len),
	    TSR_OK);
	CHECK_INT(tsr_key_sign(loaded, (const uint8_t *)"m", 1, sig2,
	    &sig2_len), TSR_OK);
	CHECK(sig_len == sig2_len && memcmp(sig, sig2, sig_len) == 0);
	tsr_key_destroy(loaded);
	loaded = NULL;

	/* A file whose name is not its thumbprint is refused. */
	path_of(path, sizeof(path), name);
	path_of(path2, sizeof(path2), other);
	CHECK_INT(rename(path, path2), 0);
	tsr_err_clear(&why);
	CHECK_INT(tsr_keyfile_load(tmpdir, rfc7638_kid, &loaded, &why),
	    TSR_ERR_CRYPTO);
	CHECK(loaded == NULL);
	check_why(&why, tsr_key_kid(key));
	/* A symlink to a key file is refused. */
	CHECK_INT(symlink(other, path), 0);
	tsr_err_clear(&why);
	CHECK_INT(tsr_keyfile_load(tmpdir, tsr_key_kid(key), &loaded, &why),
	    TSR_ERR_PERM);
	check_why(&why, "symbolic link");
	CHECK_INT(unlink(path), 0);
	CHECK_INT(rename(path2, path), 0);

	/* Looser file modes are refused. */
	CHECK_INT(chmod(path, 0640), 0);
	tsr_err_clear(&why);
	CHECK_INT(tsr_keyfile_load(tmpdir, tsr_key_kid(key), &loaded, &why),
	    TSR_ERR_PERM);
	check_why(&why, "(mode 0640); chmod 600 it");
	CHECK_INT(chmod(path, 0604), 0);
	CHECK_INT(tsr_keyfile_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_ERR_PERM);
	CHECK_INT(chmod(path, 0400), 0);	/* stricter is fine */
	CHECK_INT(tsr_keyfile_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_OK);
	tsr_key_destroy(loaded);
	loaded = NULL;
	CHECK_INT(chmod(path, 0600), 0);
}

static void
test_bad_files(void)
{
	static char big[TSR_KEY_MAX_PEM + 1];
	struct tsr_key *key = NULL;
	struct tsr_why why;
	char name[64];

	snprintf(name, sizeof(name), "%s.pem", rfc7638_kid);
	CHECK_INT(tsr_keyfile_load(tmpdir, rfc7638_kid, &key, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_keyfile_load(tmpdir, "../../etc/passwd", &key, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_keyfile_load(tmpdir, "", &key, NULL), TSR_ERR_INVALID);
	/* 43 characters, but not canonical base64url of 32 bytes. */
	CHECK_INT(tsr_keyfile_load(tmpdir,
	    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xt", &key, NULL),
	    TSR_ERR_INVALID);

	memset(big, 'A', sizeof(big));
	write_file(name, big, TSR_KEY_MAX_PEM + 1, 0600);	/* first too big */
	tsr_err_clear(&why);
	CHECK_INT(tsr_keyfile_load(tmpdir, rfc7638_kid, &key, &why),
	    TSR_ERR_TOO_LONG);
	CHECK(why.msg[0] != '\0');
	write_file(name, big, TSR_KEY_MAX_PEM, 0600);	/* largest: parses? */
	CHECK_INT(tsr_keyfile_load(tmpdir, rfc7638_kid, &key, NULL),
	    TSR_ERR_CRYPTO);
	write_file(name, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n", 60, 0600);
	CHECK_INT(tsr_keyfile_load(tmpdir, rfc7638_kid, &key, NULL),
	    TSR_ERR_CRYPTO);
	CHECK(key == NULL);
	CHECK_INT(tsr_keyfile_destroy(tmpdir, rfc7638_kid, NULL), TSR_OK);
}

static void
test_dir_perms(const struct tsr_key *key)
{
	char sub[256], file[256];
	struct tsr_key *loaded = NULL;
	struct tsr_why why;
	char **kids = NULL;
	size_t n = 0;

	CHECK_INT(chmod(tmpdir, 0755), 0);
	tsr_err_clear(&why);
	CHECK_INT(tsr_keyfile_dir_check(tmpdir, false, &why), TSR_ERR_PERM);
	check_why(&why, "is group/world accessible (mode 0755); chmod 700 it");
	CHECK_INT(tsr_keyfile_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_ERR_PERM);
	CHECK(loaded == NULL);
	CHECK_INT(tsr_keyfile_save(key, tmpdir, NULL), TSR_ERR_PERM);
	CHECK_INT(tsr_keyfile_list(tmpdir, &kids, &n, NULL), TSR_ERR_PERM);
	CHECK_INT(chmod(tmpdir, 0710), 0);
	CHECK_INT(tsr_keyfile_dir_check(tmpdir, false, NULL), TSR_ERR_PERM);
	CHECK_INT(chmod(tmpdir, 0700), 0);
	CHECK_INT(tsr_keyfile_dir_check(tmpdir, false, NULL), TSR_OK);

	path_of(sub, sizeof(sub), "signing");
	tsr_err_clear(&why);
	CHECK_INT(tsr_keyfile_dir_check(sub, false, &why), TSR_ERR_NOT_FOUND);
	check_why(&why, "does not exist");
	CHECK_INT(tsr_keyfile_dir_check(sub, true, NULL), TSR_OK);
	CHECK_INT(mode_of("signing"), S_IFDIR | 0700);
	CHECK_INT(tsr_keyfile_dir_check(sub, true, NULL), TSR_OK);
	CHECK_INT(rmdir(sub), 0);
	path_of(file, sizeof(file), "README");
	CHECK_INT(tsr_keyfile_dir_check(file, false, NULL), TSR_ERR_PERM);
	CHECK_INT(tsr_keyfile_dir_check("", false, NULL), TSR_ERR_INVALID);
}

static void
test_destroy(const struct tsr_key *key)
{
	struct tsr_key *loaded = NULL;
	char name[64];

	snprintf(name, sizeof(name), "%s.pem", tsr_key_kid(key));
	CHECK_INT(tsr_keyfile_destroy(tmpdir, tsr_key_kid(key), NULL),
	    TSR_OK);
	CHECK_INT(mode_of(name), (mode_t)-1);
	CHECK_INT(errno, ENOENT);
	CHECK_INT(tsr_keyfile_destroy(tmpdir, tsr_key_kid(key), NULL),
	    TSR_OK);	/* idempotent */
	CHECK_INT(tsr_keyfile_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_keyfile_destroy(tmpdir, "../README", NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(mode_of("README"), S_IFREG | 0600);
}

/* A PKCS #1 ("BEGIN RSA PRIVATE KEY") file, as other tools write it,
 * loads too. */
static void
test_pkcs1(void)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t priv = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 }, m = { NULL, 0 }, e = { NULL, 0 };
	char kid[TSR_KEY_KID_BUF], *n_b64 = NULL, *e_b64 = NULL, name[64];
	struct tsr_key *key = NULL;

	if (gnutls_x509_privkey_init(&x) < 0 ||
	    gnutls_x509_privkey_generate(x, GNUTLS_PK_RSA, 2048, 0) < 0 ||
	    gnutls_x509_privkey_export2(x, GNUTLS_X509_FMT_PEM, &pem) < 0 ||
	    gnutls_privkey_init(&priv) < 0 ||
	    gnutls_privkey_import_x509(priv, x,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, priv, 0, 0) < 0 ||
	    gnutls_pubkey_export_rsa_raw2(pub, &m, &e,
	    GNUTLS_EXPORT_FLAG_NO_LZ) < 0)
		abort();
	CHECK(strstr((char *)pem.data, "BEGIN RSA PRIVATE KEY") != NULL);
	CHECK_INT(tsr_b64_encode_alloc(m.data, m.size, &n_b64, NULL), TSR_OK);
	CHECK_INT(tsr_b64_encode_alloc(e.data, e.size, &e_b64, NULL), TSR_OK);
	CHECK_INT(tsr_key_thumbprint(n_b64, e_b64, kid), TSR_OK);
	snprintf(name, sizeof(name), "%s.pem", kid);
	write_file(name, pem.data, pem.size, 0600);
	CHECK_INT(tsr_keyfile_load(tmpdir, kid, &key, NULL), TSR_OK);
	CHECK(key != NULL && strcmp(tsr_key_kid(key), kid) == 0);
	tsr_key_destroy(key);
	CHECK_INT(tsr_keyfile_destroy(tmpdir, kid, NULL), TSR_OK);
	free(n_b64);
	free(e_b64);
	gnutls_free(m.data);
	gnutls_free(e.data);
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
}

int
main(void)
{
	struct tsr_key *key = NULL;
	char path[256];

	if (mkdtemp(tmpdir) == NULL)
		abort();
	/* The key's own checks are in test_key. */
	if (tsr_key_generate(2048, &key, NULL) != TSR_OK)
		abort();
	test_save_load(key);
	test_bad_files();
	test_dir_perms(key);
	test_destroy(key);
	test_pkcs1();
	tsr_key_destroy(key);

	path_of(path, sizeof(path), "README");
	(void)unlink(path);
	path_of(path, sizeof(path), "x.pem");
	(void)unlink(path);
	CHECK_INT(rmdir(tmpdir), 0);	/* nothing else left behind */
	return check_done();
}
