#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* RFC 7638 §3.1: the example key and its thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aP"
    "FFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl9"
    "3lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
    "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
    "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_kid[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static char tmpdir[] = "/tmp/tsr_test_key.XXXXXX";

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
test_bits(void)
{
	static const struct {
		int	bits;
		bool	ok;
	} t[] = {
		{ 2048, true }, { 3072, true }, { 4096, true }, { 2047, false },
		{ 4097, false }, { 1024, false }, { 8192, false }, { 0, false },
		{ -2048, false },
	};
	struct tsr_key *key = (struct tsr_key *)1;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_INT(tsr_key_bits_valid(t[i].bits), t[i].ok);
	CHECK_INT(tsr_key_generate(1024, &key, NULL), TSR_ERR_INVALID);
	CHECK(key == NULL);
}

/* A JWK like the RFC 7638 one with member name set to value. */
static json_t *
jwk_with(const char *name, const char *value)
{
	json_t *jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n",
	    rfc7638_n, "e", "AQAB");

	if (name != NULL && value != NULL)
		json_object_set_new(jwk, name, json_string(value));
	else if (name != NULL)
		json_object_del(jwk, name);
	return jwk;
}

static void
test_thumbprint(void)
{
	char kid[TSR_KEY_KID_BUF], n0[1024], small[256];
	uint8_t nb[512], sb[128];
	struct tsr_key *key;
	json_t *jwk;
	size_t i, len;
	static const struct {
		const char	*name, *value;
		enum tsr_err	 rc;
	} t[] = {
		{ NULL, NULL, TSR_OK },
		{ "kid", rfc7638_kid, TSR_OK },
		{ "alg", "RS256", TSR_OK },
		{ "use", "sig", TSR_OK },
		{ "kid", "2011-04-29", TSR_ERR_INVALID },  /* not a thumbprint */
		{ "kty", "EC", TSR_ERR_INVALID },
		{ "kty", NULL, TSR_ERR_INVALID },
		{ "n", NULL, TSR_ERR_INVALID },
		{ "e", NULL, TSR_ERR_INVALID },
		{ "e", "AQAB=", TSR_ERR_INVALID },
		{ "e", "AAEAAQ", TSR_ERR_INVALID },	/* leading zero */
		{ "e", "AQAA", TSR_ERR_INVALID },	/* even */
		{ "e", "AQ", TSR_ERR_INVALID },		/* 1 */
		{ "e", "AQAAAAE", TSR_ERR_INVALID },	/* 5 bytes */
		{ "use", "enc", TSR_ERR_INVALID },
		{ "alg", "RS512", TSR_ERR_INVALID },
		{ "alg", "none", TSR_ERR_INVALID },
	};

	/* RFC 7638 §3.1 */
	CHECK_INT(tsr_key_thumbprint(rfc7638_n, "AQAB", kid), TSR_OK);
	CHECK_STR(kid, rfc7638_kid);
	CHECK_INT(tsr_key_thumbprint("a+b", "AQAB", kid), TSR_ERR_INVALID);
	CHECK_INT(tsr_key_thumbprint(rfc7638_n, "AQAB\"", kid),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_key_thumbprint(rfc7638_n, "", kid), TSR_ERR_INVALID);

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		jwk = jwk_with(t[i].name, t[i].value);
		key = NULL;
		CHECK_INT(tsr_key_from_jwk(jwk, &key, NULL), t[i].rc);
		if (t[i].rc == TSR_OK && key != NULL) {
			CHECK_STR(tsr_key_kid(key), rfc7638_kid);
			CHECK_INT(tsr_key_bits(key), 2048);
			CHECK(!tsr_key_has_private(key));
		} else
			CHECK(key == NULL);
		tsr_key_destroy(key);
		json_decref(jwk);
	}

	/* n with a leading zero octet is not minimal (RFC 7518 §6.3.1.1). */
	nb[0] = 0;
	CHECK_INT(tsr_b64_decode(rfc7638_n, strlen(rfc7638_n), nb + 1,
	    sizeof(nb) - 1, &len), TSR_OK);
	CHECK_INT(tsr_b64_encode(nb, len + 1, n0, sizeof(n0), NULL), TSR_OK);
	jwk = jwk_with("n", n0);
	CHECK_INT(tsr_key_from_jwk(jwk, &key, NULL), TSR_ERR_INVALID);
	json_decref(jwk);
	/* A 1024-bit modulus is too small (RFC 7518 §3.3). */
	memset(sb, 0xc1, sizeof(sb));
	CHECK_INT(tsr_b64_encode(sb, sizeof(sb), small, sizeof(small), NULL),
	    TSR_OK);
	jwk = jwk_with("n", small);
	CHECK_INT(tsr_key_from_jwk(jwk, &key, NULL), TSR_ERR_INVALID);
	json_decref(jwk);
	CHECK_INT(tsr_key_from_jwk(json_null(), &key, NULL), TSR_ERR_INVALID);
}

static void
test_sign_verify(const struct tsr_key *key)
{
	static const uint8_t msg[] = "eyJhbGciOiJSUzI1NiJ9.e30";
	uint8_t sig[TSR_KEY_MAX_SIG], sig2[TSR_KEY_MAX_SIG];
	struct tsr_key *pub = NULL;
	size_t sig_len = 0, sig2_len = 0;
	json_t *jwk = NULL;

	CHECK_INT(tsr_key_sign(key, msg, sizeof(msg) - 1, sig, &sig_len),
	    TSR_OK);
	CHECK_INT(sig_len, 256);
	/* PKCS #1 v1.5 is deterministic. */
	CHECK_INT(tsr_key_sign(key, msg, sizeof(msg) - 1, sig2, &sig2_len),
	    TSR_OK);
	CHECK(sig_len == sig2_len && memcmp(sig, sig2, sig_len) == 0);
	CHECK_INT(tsr_key_verify(key, msg, sizeof(msg) - 1, sig, sig_len),
	    TSR_OK);

	CHECK_INT(tsr_key_public_jwk(key, &jwk), TSR_OK);
	CHECK_INT(tsr_key_from_jwk(jwk, &pub, NULL), TSR_OK);
	json_decref(jwk);
	CHECK_STR(tsr_key_kid(pub), tsr_key_kid(key));
	CHECK(!tsr_key_has_private(pub));
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 1, sig, sig_len),
	    TSR_OK);
	CHECK_INT(tsr_key_sign(pub, msg, sizeof(msg) - 1, sig2, &sig2_len),
	    TSR_ERR_STATE);
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 2, sig, sig_len),
	    TSR_ERR_BAD_SIG);
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 1, sig, sig_len - 1),
	    TSR_ERR_BAD_SIG);
	sig[100] ^= 0x01;
	CHECK_INT(tsr_key_verify(pub, msg, sizeof(msg) - 1, sig, sig_len),
	    TSR_ERR_BAD_SIG);
	tsr_key_destroy(pub);
}

struct thread_arg {
	const struct tsr_key	*key, *pub;
	int			 failures;
};

static void *
sign_verify_loop(void *p)
{
	struct thread_arg *arg = p;
	uint8_t msg[16], sig[TSR_KEY_MAX_SIG];
	size_t sig_len;
	int i;

	for (i = 0; i < 25; i++) {
		memset(msg, i, sizeof(msg));
		if (tsr_key_sign(arg->key, msg, sizeof(msg), sig,
		    &sig_len) != TSR_OK ||
		    tsr_key_verify(arg->pub, msg, sizeof(msg), sig,
		    sig_len) != TSR_OK ||
		    tsr_key_verify(arg->key, msg, sizeof(msg), sig,
		    sig_len) != TSR_OK)
			arg->failures++;
		sig[0] ^= 1;
		if (tsr_key_verify(arg->pub, msg, sizeof(msg), sig,
		    sig_len) != TSR_ERR_BAD_SIG)
			arg->failures++;
	}
	return NULL;
}

/* key.h: sign and verify are safe from many threads on one key. */
static void
test_threads(const struct tsr_key *key)
{
	struct thread_arg args[4];
	pthread_t t[4];
	struct tsr_key *pub = NULL;
	json_t *jwk = NULL;
	int i, failures = 0;

	CHECK_INT(tsr_key_public_jwk(key, &jwk), TSR_OK);
	CHECK_INT(tsr_key_from_jwk(jwk, &pub, NULL), TSR_OK);
	json_decref(jwk);
	for (i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ key, pub, 0 };
		if (pthread_create(&t[i], NULL, sign_verify_loop, &args[i]))
			abort();
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		failures += args[i].failures;
	}
	CHECK_INT(failures, 0);
	tsr_key_destroy(pub);
}

static void
test_generate(struct tsr_key **out)
{
	char kid[TSR_KEY_KID_BUF];
	struct tsr_key *key = NULL;
	json_t *jwk = NULL;

	CHECK_INT(tsr_key_generate(2048, &key, NULL), TSR_OK);
	*out = key;
	if (key == NULL)
		abort();
	CHECK_INT(tsr_key_bits(key), 2048);
	CHECK(tsr_key_has_private(key));
	CHECK_INT(strlen(tsr_key_kid(key)), TSR_KEY_KID_LEN);
	CHECK_INT(tsr_key_public_jwk(key, &jwk), TSR_OK);
	CHECK_STR(json_string_value(json_object_get(jwk, "kty")), "RSA");
	CHECK_STR(json_string_value(json_object_get(jwk, "use")), "sig");
	CHECK_STR(json_string_value(json_object_get(jwk, "alg")), "RS256");
	CHECK_STR(json_string_value(json_object_get(jwk, "e")), "AQAB");
	CHECK_STR(json_string_value(json_object_get(jwk, "kid")),
	    tsr_key_kid(key));
	CHECK_INT(strlen(json_string_value(json_object_get(jwk, "n"))), 342);
	CHECK_INT(json_object_size(jwk), 6);	/* nothing private */
	CHECK_INT(tsr_key_thumbprint(json_string_value(json_object_get(jwk,
	    "n")), "AQAB", kid), TSR_OK);
	CHECK_STR(kid, tsr_key_kid(key));
	json_decref(jwk);
	test_sign_verify(key);
	test_threads(key);
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
	CHECK_INT(tsr_key_dir_check(tmpdir, false, NULL), TSR_OK);
	CHECK_INT(tsr_key_save(key, tmpdir, NULL), TSR_OK);
	CHECK_INT(mode_of(name), S_IFREG | 0600);
	tsr_err_clear(&why);
	CHECK_INT(tsr_key_save(key, tmpdir, &why), TSR_ERR_EXISTS);
	check_why(&why, "already exists");

	/* Noise that is not a key file is ignored by the listing. */
	write_file("README", "x", 1, 0600);
	write_file("x.pem", "x", 1, 0600);
	CHECK_INT(tsr_key_dir_list(tmpdir, &kids, &n, NULL), TSR_OK);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(kids[0], tsr_key_kid(key));
	tsr_key_kids_free(kids, n);

	CHECK_INT(tsr_key_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
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
	CHECK_INT(tsr_key_load(tmpdir, rfc7638_kid, &loaded, &why),
	    TSR_ERR_CRYPTO);
	CHECK(loaded == NULL);
	check_why(&why, tsr_key_kid(key));
	/* A symlink to a key file is refused. */
	CHECK_INT(symlink(other, path), 0);
	tsr_err_clear(&why);
	CHECK_INT(tsr_key_load(tmpdir, tsr_key_kid(key), &loaded, &why),
	    TSR_ERR_PERM);
	check_why(&why, "symbolic link");
	CHECK_INT(unlink(path), 0);
	CHECK_INT(rename(path2, path), 0);

	/* Looser file modes are refused. */
	CHECK_INT(chmod(path, 0640), 0);
	tsr_err_clear(&why);
	CHECK_INT(tsr_key_load(tmpdir, tsr_key_kid(key), &loaded, &why),
	    TSR_ERR_PERM);
	check_why(&why, "(mode 0640); chmod 600 it");
	CHECK_INT(chmod(path, 0604), 0);
	CHECK_INT(tsr_key_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_ERR_PERM);
	CHECK_INT(chmod(path, 0400), 0);	/* stricter is fine */
	CHECK_INT(tsr_key_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
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
	CHECK_INT(tsr_key_load(tmpdir, rfc7638_kid, &key, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_key_load(tmpdir, "../../etc/passwd", &key, NULL),
	    TSR_ERR_INVALID);
	CHECK_INT(tsr_key_load(tmpdir, "", &key, NULL), TSR_ERR_INVALID);
	/* 43 characters, but not canonical base64url of 32 bytes. */
	CHECK_INT(tsr_key_load(tmpdir,
	    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xt", &key, NULL),
	    TSR_ERR_INVALID);

	memset(big, 'A', sizeof(big));
	write_file(name, big, TSR_KEY_MAX_PEM + 1, 0600);	/* first too big */
	tsr_err_clear(&why);
	CHECK_INT(tsr_key_load(tmpdir, rfc7638_kid, &key, &why),
	    TSR_ERR_TOO_LONG);
	CHECK(why.msg[0] != '\0');
	write_file(name, big, TSR_KEY_MAX_PEM, 0600);	/* largest: parses? */
	CHECK_INT(tsr_key_load(tmpdir, rfc7638_kid, &key, NULL),
	    TSR_ERR_CRYPTO);
	write_file(name, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n", 60, 0600);
	CHECK_INT(tsr_key_load(tmpdir, rfc7638_kid, &key, NULL),
	    TSR_ERR_CRYPTO);
	CHECK(key == NULL);
	CHECK_INT(tsr_key_destroy_file(tmpdir, rfc7638_kid, NULL), TSR_OK);
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
	CHECK_INT(tsr_key_dir_check(tmpdir, false, &why), TSR_ERR_PERM);
	check_why(&why, "is group/world accessible (mode 0755); chmod 700 it");
	CHECK_INT(tsr_key_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_ERR_PERM);
	CHECK(loaded == NULL);
	CHECK_INT(tsr_key_save(key, tmpdir, NULL), TSR_ERR_PERM);
	CHECK_INT(tsr_key_dir_list(tmpdir, &kids, &n, NULL), TSR_ERR_PERM);
	CHECK_INT(chmod(tmpdir, 0710), 0);
	CHECK_INT(tsr_key_dir_check(tmpdir, false, NULL), TSR_ERR_PERM);
	CHECK_INT(chmod(tmpdir, 0700), 0);
	CHECK_INT(tsr_key_dir_check(tmpdir, false, NULL), TSR_OK);

	path_of(sub, sizeof(sub), "signing");
	tsr_err_clear(&why);
	CHECK_INT(tsr_key_dir_check(sub, false, &why), TSR_ERR_NOT_FOUND);
	check_why(&why, "does not exist");
	CHECK_INT(tsr_key_dir_check(sub, true, NULL), TSR_OK);
	CHECK_INT(mode_of("signing"), S_IFDIR | 0700);
	CHECK_INT(tsr_key_dir_check(sub, true, NULL), TSR_OK);
	CHECK_INT(rmdir(sub), 0);
	path_of(file, sizeof(file), "README");
	CHECK_INT(tsr_key_dir_check(file, false, NULL), TSR_ERR_PERM);
	CHECK_INT(tsr_key_dir_check("", false, NULL), TSR_ERR_INVALID);
}

static void
test_destroy(const struct tsr_key *key)
{
	struct tsr_key *loaded = NULL;
	char name[64];

	snprintf(name, sizeof(name), "%s.pem", tsr_key_kid(key));
	CHECK_INT(tsr_key_destroy_file(tmpdir, tsr_key_kid(key), NULL),
	    TSR_OK);
	CHECK_INT(mode_of(name), (mode_t)-1);
	CHECK_INT(errno, ENOENT);
	CHECK_INT(tsr_key_destroy_file(tmpdir, tsr_key_kid(key), NULL),
	    TSR_OK);	/* idempotent */
	CHECK_INT(tsr_key_load(tmpdir, tsr_key_kid(key), &loaded, NULL),
	    TSR_ERR_NOT_FOUND);
	CHECK_INT(tsr_key_destroy_file(tmpdir, "../README", NULL),
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
	CHECK_INT(tsr_key_load(tmpdir, kid, &key, NULL), TSR_OK);
	CHECK(key != NULL && strcmp(tsr_key_kid(key), kid) == 0);
	tsr_key_destroy(key);
	CHECK_INT(tsr_key_destroy_file(tmpdir, kid, NULL), TSR_OK);
	free(n_b64);
	free(e_b64);
	gnutls_free(m.data);
	gnutls_free(e.data);
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
}

static void
test_from_raw_missing(void)
{
	static const uint8_t one[1] = { 1 };
	struct tsr_key_rsa_raw raw = { .n = one, .n_len = 1, .e = one,
	    .e_len = 1 };
	struct tsr_key *key = NULL;

	CHECK_INT(tsr_key_from_raw(&raw, &key, NULL), TSR_ERR_INVALID);
	CHECK(key == NULL);
}

int
main(void)
{
	struct tsr_key *key = NULL;
	char path[256];

	if (mkdtemp(tmpdir) == NULL)
		abort();
	test_bits();
	test_thumbprint();
	test_from_raw_missing();
	test_generate(&key);
	test_save_load(key);
	test_bad_files();
	test_dir_perms(key);
	test_destroy(key);
	test_pkcs1();
	tsr_key_destroy(key);
	tsr_key_destroy(NULL);

	path_of(path, sizeof(path), "README");
	(void)unlink(path);
	path_of(path, sizeof(path), "x.pem");
	(void)unlink(path);
	CHECK_INT(rmdir(tmpdir), 0);	/* nothing else left behind */
	return check_done();
}
