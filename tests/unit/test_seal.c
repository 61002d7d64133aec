#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "check.h"
#include "seal.h"

static char tmpdir[] = "/tmp/tsr_test_seal.XXXXXX";

static const char kid[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
static const char secret[] = "-----BEGIN PRIVATE KEY-----\nnot a real key\n"
    "-----END PRIVATE KEY-----\n";

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
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1 || write(fd, data, len) != (ssize_t)len || close(fd) == -1)
		abort();
	if (chmod(path, mode) == -1)
		abort();
}

static void
hex(const char *s, uint8_t *out, size_t len)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * len)
		abort();
	for (i = 0; i < len; i++) {
		v = 0;
		for (int j = 0; j < 2; j++) {
			char c = s[2 * i + j];
			v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (uint8_t)v;
	}
}

static void
check_why(const struct tsr_why *why, const char *want)
{
	CHECK(strstr(why->msg, want) != NULL);
	if (strstr(why->msg, want) == NULL)
		printf("#   why \"%s\", want \"%s\"\n", why->msg, want);
}

/*
 * McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test
 * cases 14 and 16 (AES-256): zero key and block; then a 256-bit key,
 * 60 bytes of plaintext and 20 bytes of AAD.
 */
static void
test_known_answers(void)
{
	uint8_t k[32], iv[12], a[20], p[60], c[60], t[16];
	uint8_t out[60], tag[16];

	memset(k, 0, sizeof(k));
	memset(iv, 0, sizeof(iv));
	memset(p, 0, 16);
	hex("cea7403d4d606b6e074ec5d3baf39d18", c, 16);
	hex("d0d1c8a799996bf0265b98b5d48ab919", t, 16);
	tsr_seal_gcm(k, iv, NULL, 0, p, 16, out, tag, false);
	CHECK_MEM(out, c, 16);
	CHECK_MEM(tag, t, 16);

	hex("feffe9928665731c6d6a8f9467308308"
	    "feffe9928665731c6d6a8f9467308308", k, 32);
	hex("cafebabefacedbaddecaf888", iv, 12);
	hex("feedfacedeadbeeffeedfacedeadbeefabaddad2", a, 20);
	hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
	    "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
	    "ba637b39", p, 60);
	hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
	    "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
	    "bcc9f662", c, 60);
	hex("76fc6ece0f4e1768cddf8853bb2d551b", t, 16);
	tsr_seal_gcm(k, iv, a, sizeof(a), p, sizeof(p), out, tag, false);
	CHECK_MEM(out, c, sizeof(c));
	CHECK_MEM(tag, t, sizeof(t));
	tsr_seal_gcm(k, iv, a, sizeof(a), c, sizeof(c), out, tag, true);
	CHECK_MEM(out, p, sizeof(p));
	CHECK_MEM(tag, t, sizeof(t));
}

static struct tsr_seal_keks *
load(const char *list, enum tsr_err want, const char *why_want)
{
	char buf[1024];
	struct tsr_seal_keks *keks = NULL;
	struct tsr_why why = { "" };
	const char *p;
	size_t o = 0;

	/* The list names files in tmpdir: "a,b" is "<tmpdir>/a,<tmpdir>/b". */
	for (p = list; *p != '\0'; p++) {
		if ((p == list || p[-1] == ',') && *p != ',')
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s/",
			    tmpdir);
		buf[o++] = *p;
	}
	buf[o] = '\0';
	CHECK_INT(tsr_seal_keks_load(buf, &keks, &why), want);
	if (why_want != NULL)
		check_why(&why, why_want);
	CHECK((keks != NULL) == (want == TSR_OK));
	return keks;
}

/* Unseal text with keks; check the result is secret, or the failure. */
static void
unseal(const struct tsr_seal_keks *keks, const char *aad, const char *text,
    enum tsr_err want)
{
	struct tsr_why why = { "" };
	uint8_t *plain = (uint8_t *)"x";
	size_t len = 1;
	char msg[256];

	CHECK_INT(tsr_seal_unwrap(keks, aad, text, &plain, &len, &why), want);
	if (want == TSR_OK) {
		CHECK_INT(len, strlen(secret));
		CHECK_STR((char *)plain, secret);
	} else {
		CHECK(plain == NULL && len == 0);
	}
	if (want == TSR_ERR_CRYPTO) {
		(void)snprintf(msg, sizeof(msg), "sealed key for %s cannot be "
		    "unsealed with the given key-encryption keys", aad);
		CHECK_STR(why.msg, msg);
	}
	tsr_seal_plain_free(plain, len);
}

static char *
seal(const struct tsr_seal_keks *keks, const char *aad)
{
	char *text = NULL;

	CHECK_INT(tsr_seal_wrap(keks, aad, (const uint8_t *)secret,
	    strlen(secret), &text, NULL), TSR_OK);
	return text;
}

/* text with the low bit of its decoded byte at off flipped, or with
 * its last byte dropped when off is SIZE_MAX. */
static char *
flipped(const char *text, size_t off)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	char *out = NULL;

	if (tsr_b64_decode_alloc(text, strlen(text), &blob, &len) != TSR_OK ||
	    (off >= len && off != SIZE_MAX) || len == 0)
		abort();
	if (off == SIZE_MAX)
		len--;
	else
		blob[off] ^= 0x01;
	if (tsr_b64_encode_alloc(blob, len, &out, NULL) != TSR_OK)
		abort();
	free(blob);
	return out;
}

static void
test_round_trip(void)
{
	struct tsr_seal_keks *a = load("a", TSR_OK, NULL);
	struct tsr_seal_keks *b = load("b", TSR_OK, NULL);
	char *text = seal(a, kid), *text2 = seal(a, kid), *bad;
	uint8_t *blob = NULL;
	size_t len = 0, n = strlen(secret);

	CHECK_INT(tsr_seal_keks_count(a), 1);
	/* The layout: version 1, then fresh nonces make equal seals differ. */
	CHECK_INT(tsr_b64_decode_alloc(text, strlen(text), &blob, &len),
	    TSR_OK);
	CHECK_INT(len, TSR_SEAL_OVERHEAD + n);
	CHECK_INT(blob[0], 1);
	CHECK(strcmp(text, text2) != 0);
	free(blob);
	unseal(a, kid, text, TSR_OK);
	unseal(a, kid, text2, TSR_OK);
	CHECK(tsr_seal_is_current(a, text));
	CHECK(!tsr_seal_is_current(b, text));

	unseal(a, "another-kid", text, TSR_ERR_CRYPTO);	/* wrong AAD */
	unseal(b, kid, text, TSR_ERR_CRYPTO);		/* wrong KEK */
	bad = flipped(text, 1 + 8 + 12 + 5);		/* ciphertext */
	unseal(a, kid, bad, TSR_ERR_CRYPTO);
	free(bad);
	bad = flipped(text, TSR_SEAL_OVERHEAD + n - 1);	/* tag */
	unseal(a, kid, bad, TSR_ERR_CRYPTO);
	free(bad);
	bad = flipped(text, 1 + 8 + 3);			/* nonce */
	unseal(a, kid, bad, TSR_ERR_CRYPTO);
	free(bad);
	bad = flipped(text, 0);				/* version */
	unseal(a, kid, bad, TSR_ERR_MALFORMED);
	free(bad);
	unseal(a, kid, "", TSR_ERR_MALFORMED);
	unseal(a, kid, "not base64!", TSR_ERR_MALFORMED);
	bad = flipped(text, SIZE_MAX);			/* truncated */
	unseal(a, kid, bad, TSR_ERR_CRYPTO);
	free(bad);
	unseal(a, "", text2, TSR_ERR_INVALID);
	unseal(a, "kid with spaces", text2, TSR_ERR_INVALID);
	free(text);
	free(text2);
	tsr_seal_keks_destroy(a);
	tsr_seal_keks_destroy(b);
}

/* The first KEK seals, every KEK unseals: what "a" sealed before the
 * rotation, "b,a" still opens, and reseals under "b". */
static void
test_rotation(void)
{
	struct tsr_seal_keks *a = load("a", TSR_OK, NULL);
	struct tsr_seal_keks *ba = load("b,a", TSR_OK, NULL);
	struct tsr_seal_keks *b = load("b", TSR_OK, NULL);
	char *old = seal(a, kid), *resealed;

	CHECK_INT(tsr_seal_keks_count(ba), 2);
	unseal(ba, kid, old, TSR_OK);
	CHECK(!tsr_seal_is_current(ba, old));
	resealed = seal(ba, kid);
	CHECK(tsr_seal_is_current(ba, resealed));
	unseal(b, kid, resealed, TSR_OK);
	unseal(a, kid, resealed, TSR_ERR_CRYPTO);
	free(old);
	free(resealed);
	tsr_seal_keks_destroy(a);
	tsr_seal_keks_destroy(ba);
	tsr_seal_keks_destroy(b);
}

static void
test_kek_files(void)
{
	uint8_t k[33];
	char msg[512];

	memset(k, 0x5a, sizeof(k));
	write_file("loose", k, 32, 0644);
	(void)snprintf(msg, sizeof(msg), "key-encryption key %s/loose has "
	    "mode 0644", tmpdir);
	tsr_seal_keks_destroy(load("loose", TSR_ERR_PERM, msg));
	write_file("group", k, 32, 0640);
	tsr_seal_keks_destroy(load("group", TSR_ERR_PERM, "mode 0640"));
	write_file("short", k, 31, 0600);
	tsr_seal_keks_destroy(load("short", TSR_ERR_INVALID, "is 31 bytes"));
	write_file("long", k, 33, 0600);
	tsr_seal_keks_destroy(load("long", TSR_ERR_INVALID,
	    "is over 32 bytes"));
	write_file("empty", k, 0, 0600);
	tsr_seal_keks_destroy(load("empty", TSR_ERR_INVALID, "is 0 bytes"));
	write_file("strict", k, 32, 0400);
	tsr_seal_keks_destroy(load("strict", TSR_OK, NULL));
	tsr_seal_keks_destroy(load("missing", TSR_ERR_NOT_FOUND,
	    "does not exist"));
	tsr_seal_keks_destroy(load("a,a", TSR_ERR_INVALID, "listed twice"));
	/* a good KEK does not excuse a bad one in the same list */
	tsr_seal_keks_destroy(load("a,loose", TSR_ERR_PERM, "mode 0644"));
	tsr_seal_keks_destroy(load("a,,b", TSR_ERR_INVALID, "empty"));
	for (k[0] = '1'; k[0] <= '9'; k[0]++)
		write_file((char[]){ 'k', (char)k[0], '\0' }, k, 32, 0600);
	tsr_seal_keks_destroy(load("k1,k2,k3,k4,k5,k6,k7,k8", TSR_OK, NULL));
	tsr_seal_keks_destroy(load("k1,k2,k3,k4,k5,k6,k7,k8,k9",
	    TSR_ERR_INVALID, "more than 8"));
}

static void
test_generate(void)
{
	char path[256], path2[256];
	uint8_t k1[40], k2[40];
	struct stat st;
	struct tsr_why why = { "" };
	int fd;

	path_of(path, sizeof(path), "gen");
	path_of(path2, sizeof(path2), "gen2");
	CHECK_INT(tsr_seal_kek_generate(path, NULL), TSR_OK);
	CHECK_INT(tsr_seal_kek_generate(path2, NULL), TSR_OK);
	CHECK(lstat(path, &st) == 0 && st.st_mode == (S_IFREG | 0600) &&
	    st.st_size == 32);
	fd = open(path, O_RDONLY);
	CHECK(read(fd, k1, sizeof(k1)) == 32);
	close(fd);
	fd = open(path2, O_RDONLY);
	CHECK(read(fd, k2, sizeof(k2)) == 32);
	close(fd);
	CHECK(memcmp(k1, k2, 32) != 0);
	CHECK_INT(tsr_seal_kek_generate(path, &why), TSR_ERR_EXISTS);
	check_why(&why, "already exists");
	fd = open(path, O_RDONLY);
	CHECK(read(fd, k2, sizeof(k2)) == 32 && memcmp(k1, k2, 32) == 0);
	close(fd);
	tsr_seal_keks_destroy(load("gen,gen2", TSR_OK, NULL));
	CHECK_INT(tsr_seal_kek_generate("", NULL), TSR_ERR_INVALID);
	path_of(path, sizeof(path), "nodir/k");
	CHECK_INT(tsr_seal_kek_generate(path, NULL), TSR_ERR_IO);
	path_of(path, sizeof(path), "");
	CHECK_INT(tsr_seal_kek_generate(path, NULL), TSR_ERR_INVALID);
}

static void
remove_all(void)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	(void)rmdir(tmpdir);
}

int
main(void)
{
	uint8_t k[32];

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_known_answers();
	memset(k, 0xa1, sizeof(k));
	write_file("a", k, sizeof(k), 0600);
	memset(k, 0xb2, sizeof(k));
	write_file("b", k, sizeof(k), 0600);
	test_round_trip();
	test_rotation();
	test_kek_files();
	test_generate();
	remove_all();
	return check_done();
}
