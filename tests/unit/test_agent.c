/*
 * The parts of tessera agent that need no server: URLs, HTTP response
 * parsing, the renewal schedule and backoff, new keys of the current
 * type, requests, and replacing the files.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "check.h"
#include "estc.h"
#include "renew.h"

static void
test_url(void)
{
	struct estc_url u;
	char err[256];

	CHECK_INT(estc_url_parse("https://tessera.internal", &u, err,
	    sizeof(err)), 0);
	CHECK_STR(u.host, "tessera.internal");
	CHECK_STR(u.port, "443");
	CHECK_STR(u.prefix, "");
	CHECK_INT(u.host_is_ip, 0);
	CHECK_INT(estc_url_parse("https://127.0.0.1:8443/base/", &u, err,
	    sizeof(err)), 0);
	CHECK_STR(u.host, "127.0.0.1");
	CHECK_STR(u.port, "8443");
	CHECK_STR(u.prefix, "/base");
	CHECK_INT(u.host_is_ip, 1);
	CHECK_INT(estc_url_parse("https://[::1]:9/", &u, err, sizeof(err)),
	    0);
	CHECK_STR(u.host, "::1");
	CHECK_INT(estc_url_parse("http://a", &u, err, sizeof(err)), -1);
	CHECK_INT(estc_url_parse("https://", &u, err, sizeof(err)), -1);
	CHECK_INT(estc_url_parse("https://a:0", &u, err, sizeof(err)), -1);
	CHECK_INT(estc_url_parse("https://a:65536", &u, err, sizeof(err)),
	    -1);
	CHECK_INT(estc_url_parse("https://a:+1", &u, err, sizeof(err)), -1);
	CHECK_INT(estc_url_parse("https://u@a", &u, err, sizeof(err)), -1);
	CHECK_INT(estc_url_parse("https://a/x?y", &u, err, sizeof(err)), -1);
	CHECK_INT(estc_url_parse("https://[a]:1", &u, err, sizeof(err)), -1);
}

static int
parse(const char *text, int ended, struct estc_response *r)
{
	char err[256];

	return estc_parse_response(text, strlen(text), ended, r, err,
	    sizeof(err));
}

static void
test_response(void)
{
	struct estc_response r;

	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 5\r\n\r\nhello", 0, &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "text/plain");
	CHECK_STR(r.body, "hello");
	estc_response_free(&r);
	/* Incomplete: more is needed, unless the connection ended. */
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 0,
	    &r), 1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 1,
	    &r), -1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Le", 0, &r), 1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Le", 1, &r), -1);
	/* No length: the body ends with the connection. */
	CHECK_INT(parse("HTTP/1.0 401 No\r\n\r\nno", 0, &r), 1);
	CHECK_INT(parse("HTTP/1.0 401 No\r\n\r\nno", 1, &r), 0);
	CHECK_INT(r.status, 401);
	CHECK_STR(r.body, "no");
	estc_response_free(&r);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", 0,
	    &r), -1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0,
	    &r), -1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
	    0, &r), -1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", 0, &r), -1);
	CHECK_INT(parse("SSH-2.0-OpenSSH_9.2p1 Debian\r\n\r\n", 1, &r), -1);
	CHECK_INT(parse("HTTP/1.1 20x OK\r\n\r\n", 1, &r), -1);
}

static void
test_schedule(void)
{
	int64_t d;

	/* A 24h certificate at 0.66: 57024 s in, give or take 10%. */
	CHECK_INT(renew_due(1000, 1000 + 86400, 0.66, 0.5), 1000 + 57024);
	d = renew_due(1000, 1000 + 86400, 0.66, 0.0);
	CHECK(d >= 1000 + 51321 && d <= 1000 + 51322);
	d = renew_due(1000, 1000 + 86400, 0.66, 0.999999);
	CHECK(d >= 1000 + 62726 && d <= 1000 + 62727);
	/* Near 1, never past halfway from the point to the expiry. */
	d = renew_due(0, 1000, 0.99, 0.999999);
	CHECK(d <= 995 && d < 1000);
	CHECK(renew_due(0, 1000, 0.01, 0.0) >= 9);
	CHECK_INT(renew_backoff(1, 0.0), 1);
	CHECK_INT(renew_backoff(1, 0.999), 1);
	CHECK_INT(renew_backoff(3, 0.0), 4);
	CHECK(renew_backoff(3, 0.999) <= 8);
	CHECK(renew_backoff(40, 0.999) <= RENEW_BACKOFF_MAX);
	CHECK(renew_backoff(40, 0.0) >= RENEW_BACKOFF_MAX / 2);
}

/* A new key like one of alg/bits: the same type again. */
static void
check_like(gnutls_pk_algorithm_t alg, unsigned bits, unsigned want_bits)
{
	gnutls_x509_privkey_t k = NULL, n = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	char err[256], *csr = NULL;
	size_t csr_len = 0;
	unsigned got = 0;

	CHECK(gnutls_x509_privkey_init(&k) >= 0 &&
	    gnutls_x509_privkey_generate(k, alg, bits, 0) >= 0 &&
	    gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &pem) >= 0);
	CHECK_INT(renew_new_key((char *)pem.data, pem.size, &n, err,
	    sizeof(err)), 0);
	CHECK_INT(gnutls_x509_privkey_get_pk_algorithm2(n, &got), (int)alg);
	CHECK_INT(got, want_bits);
	CHECK_INT(renew_csr(n, "svc", &csr, &csr_len, err, sizeof(err)), 0);
	CHECK(csr != NULL && csr_len > 100 && strchr(csr, '\n') == NULL);
	free(csr);
	gnutls_free(pem.data);
	gnutls_x509_privkey_deinit(n);
	gnutls_x509_privkey_deinit(k);
}

static void
test_keys(void)
{
	gnutls_x509_privkey_t n = NULL;
	char err[256];
	unsigned bits = 0;

	check_like(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 256);
	check_like(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), 384);
	check_like(GNUTLS_PK_EDDSA_ED25519, 256, 256);
	check_like(GNUTLS_PK_RSA, 2048, 2048);
	/* Not a key at all: P-256. */
	CHECK_INT(renew_new_key("junk", 4, &n, err, sizeof(err)), 0);
	CHECK_INT(gnutls_x509_privkey_get_pk_algorithm2(n, &bits),
	    GNUTLS_PK_ECDSA);
	CHECK_INT(bits, 256);
	gnutls_x509_privkey_deinit(n);
}

static void
test_files(void)
{
	char dir[] = "/tmp/test_agent.XXXXXX", cert[128], key[128], tok[128];
	char err[256], *got;
	size_t len = 0;
	struct stat sb;

	CHECK(mkdtemp(dir) != NULL);
	(void)snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	(void)snprintf(key, sizeof(key), "%s/k.pem", dir);
	(void)snprintf(tok, sizeof(tok), "%s/t", dir);
	CHECK_INT(renew_write_file(tok, "abc", 3, 0600, err, sizeof(err)), 0);
	CHECK(stat(tok, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	got = renew_read_file(tok, &len, err, sizeof(err));
	CHECK(got != NULL && len == 3 && strcmp(got, "abc") == 0);
	free(got);
	CHECK_INT(renew_install(cert, "C", 1, key, "K", 1, err, sizeof(err)),
	    0);
	CHECK(stat(key, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(stat(cert, &sb) == 0 && (sb.st_mode & 0777) == 0644);
	/* Stale .new files from a stopped run that do not match: removed. */
	CHECK_INT(renew_write_file(cert, "C", 1, 0644, err, sizeof(err)), 0);
	{
		FILE *f;
		char p[160];

		(void)snprintf(p, sizeof(p), "%s.new", cert);
		if ((f = fopen(p, "w")) != NULL) {
			fputs("not a certificate", f);
			fclose(f);
		}
		CHECK_INT(renew_recover(cert, key), 0);
		CHECK(access(p, F_OK) != 0);
	}
	(void)unlink(cert);
	(void)unlink(key);
	(void)unlink(tok);
	(void)rmdir(dir);
}

int
main(void)
{
	gnutls_global_init();
	test_url();
	test_response();
	test_schedule();
	test_keys();
	test_files();
	gnutls_global_deinit();
	return check_done();
}
