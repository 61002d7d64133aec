/*
 * signrate: the raw RS256 signing and verification rate of libtessera's
 * signer on one thread, the ceiling of the token endpoint.
 *
 *	signrate [--bits 2048] [--seconds 2]
 *	signrate --handshake --cert S.pem --key SK.pem --ca CA.pem
 *	    --client-cert C.pem --client-key CK.pem [--seconds 2]
 *	signrate --ecdsa [--seconds 2]
 *
 * Generates a key with tsr_key_generate, then calls tsr_key_sign (and
 * afterwards tsr_key_verify) in a loop for about --seconds each over a
 * message the size of a typical JWS signing input.  Prints one JSON line:
 *
 *	{"bits":2048,"sign_n":..,"sign_per_s":..,"sign_ms":..,
 *	 "sign_per_cpu_s":..,"verify_n":..,"verify_per_s":..,"verify_us":..,
 *	 "verify_per_cpu_s":..}
 *
 * With --handshake it measures instead the other part of a token on a new
 * connection: full TLS handshakes with a client certificate over a
 * socketpair, the server side as tessera does it (the same priorities,
 * the client certificate required and its chain verified against --ca),
 * a client thread on the other end.  Only the server thread's CPU time
 * counts.  Prints {"handshake_n":..,"handshake_per_s":..,
 * "handshake_us":..,"handshake_per_cpu_s":..}.
 *
 * With --ecdsa it measures the CA's part of a certificate instead: ECDSA
 * P-256 signatures (SHA-256) by GnuTLS over a message the size of a
 * client certificate's TBSCertificate, the CA's default key.  Prints
 * {"ecdsa_n":..,"ecdsa_per_s":..,"ecdsa_us":..,"ecdsa_per_cpu_s":..}.
 *
 * The *_per_s figures are per wall-clock second, *_per_cpu_s per second of
 * this thread's CPU time: on a busy machine only the latter is stable.
 *
 * Exit 0 on success, 1 when the key cannot be made or an operation fails,
 * 2 on a usage error.  Run it under taskset to pin it to one core.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "err.h"
#include "key.h"

/* The server's TLS priorities (server/daemon/http.c). */
#define SIGNRATE_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* About the length of a tessera JWS signing input (header.claims). */
#define SIGNRATE_MSG_LEN	420
/* Check the clock every this many operations. */
#define SIGNRATE_BATCH		16

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
usage(void)
{
	fprintf(stderr, "usage: signrate [--bits 2048|3072|4096] "
	    "[--seconds S]\n"
	    "       signrate --handshake --cert S.pem --key SK.pem --ca CA.pem "
	    "--client-cert C.pem --client-key CK.pem [--seconds S]\n"
	    "       signrate --ecdsa [--seconds S]\n");
	return 2;
}

struct hs_files {
	const char	*cert, *key, *ca, *client_cert, *client_key;
};

/* The client end: one handshake per socket read from the pipe, until -1. */
struct hs_client {
	gnutls_certificate_credentials_t cred;
	int				 pipe_rd;
};

static void *
hs_client_main(void *arg)
{
	struct hs_client *c = arg;
	gnutls_session_t s;
	int fd, rc;

	while (read(c->pipe_rd, &fd, sizeof(fd)) == sizeof(fd) && fd >= 0) {
		if (gnutls_init(&s, GNUTLS_CLIENT) < 0) {
			close(fd);
			continue;
		}
		if (gnutls_set_default_priority(s) >= 0 &&
		    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
		    c->cred) >= 0) {
			gnutls_transport_set_int(s, fd);
			do {
				rc = gnutls_handshake(s);
			} while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
		}
		gnutls_deinit(s);
		close(fd);
	}
	return NULL;
}

/* One server-side handshake on fd, the client certificate verified. */
static int
hs_serve(gnutls_certificate_credentials_t cred, gnutls_priority_t prio,
    int fd)
{
	gnutls_session_t s;
	unsigned status = 1;
	int rc;

	if (gnutls_init(&s, GNUTLS_SERVER) < 0)
		return -1;
	if (gnutls_priority_set(s, prio) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0) {
		gnutls_deinit(s);
		return -1;
	}
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	gnutls_transport_set_int(s, fd);
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
	if (rc >= 0)
		rc = gnutls_certificate_verify_peers2(s, &status);
	gnutls_deinit(s);
	return rc < 0 || status != 0 ? -1 : 0;
}

static int
hs_creds(const struct hs_files *f, gnutls_certificate_credentials_t *srv,
    gnutls_certificate_credentials_t *cli)
{
	*srv = *cli = NULL;
	if (gnutls_certificate_allocate_credentials(srv) < 0 ||
	    gnutls_certificate_allocate_credentials(cli) < 0)
		return -1;
	if (gnutls_certificate_set_x509_key_file(*srv, f->cert, f->key,
	    GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_certificate_set_x509_trust_file(*srv, f->ca,
	    GNUTLS_X509_FMT_PEM) <= 0 ||
	    gnutls_certificate_set_x509_key_file(*cli, f->client_cert,
	    f->client_key, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_certificate_set_x509_trust_file(*cli, f->ca,
	    GNUTLS_X509_FMT_PEM) <= 0)
		return -1;
	return 0;
}

/* Handshakes for about secs on this thread; the JSON line on stdout. */
static int
run_handshakes(const struct hs_files *f, long secs)
{
	gnutls_certificate_credentials_t srv, cli;
	gnutls_priority_t prio = NULL;
	struct hs_client c;
	pthread_t th;
	int p[2], sv[2], stop = -1, ok = 0;
	long n = 0;
	double t0, c0, t, cpu = 0;

	if (hs_creds(f, &srv, &cli) != 0 ||
	    gnutls_priority_init(&prio, SIGNRATE_PRIORITIES, NULL) < 0 ||
	    pipe(p) != 0) {
		fprintf(stderr, "signrate: cannot load the certificates\n");
		return 1;
	}
	c.cred = cli;
	c.pipe_rd = p[0];
	if (pthread_create(&th, NULL, hs_client_main, &c) != 0)
		return 1;
	t0 = now_s();
	do {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
		    write(p[1], &sv[1], sizeof(sv[1])) != sizeof(sv[1])) {
			ok = -1;
			break;
		}
		c0 = cpu_s();
		ok = hs_serve(srv, prio, sv[0]);
		cpu += cpu_s() - c0;
		close(sv[0]);
		n++;
		t = now_s();
	} while (ok == 0 && t - t0 < (double)secs);
	(void)write(p[1], &stop, sizeof(stop));
	pthread_join(th, NULL);
	close(p[0]);
	close(p[1]);
	gnutls_priority_deinit(prio);
	gnutls_certificate_free_credentials(srv);
	gnutls_certificate_free_credentials(cli);
	if (ok != 0) {
		fprintf(stderr, "signrate: a handshake failed\n");
		return 1;
	}
	printf("{\"handshake_n\":%ld,\"handshake_per_s\":%.1f,"
	    "\"handshake_us\":%.1f,\"handshake_per_cpu_s\":%.1f}\n", n,
	    (double)n / (now_s() - t0), cpu * 1e6 / (double)n,
	    (double)n / cpu);
	return 0;
}

static bool
parse_long(const char *text, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && *out >= lo &&
	    *out <= hi;
}

/* About the length of a client certificate's TBSCertificate. */
#define SIGNRATE_TBS_LEN	400

/* ECDSA P-256 signatures for about secs on this thread; the JSON line. */
static int
run_ecdsa(long secs)
{
	gnutls_privkey_t key = NULL;
	gnutls_datum_t data, sig;
	uint8_t tbs[SIGNRATE_TBS_LEN];
	double t0, c0, t;
	long n = 0;
	int i;

	memset(tbs, 0x5a, sizeof(tbs));
	data.data = tbs;
	data.size = sizeof(tbs);
	if (gnutls_privkey_init(&key) < 0 || gnutls_privkey_generate2(key,
	    GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
	    0, NULL, 0) < 0) {
		fprintf(stderr, "signrate: cannot make a P-256 key\n");
		gnutls_privkey_deinit(key);
		return 1;
	}
	t0 = now_s();
	c0 = cpu_s();
	do {
		for (i = 0; i < SIGNRATE_BATCH; i++, n++) {
			if (gnutls_privkey_sign_data2(key,
			    GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig) < 0) {
				gnutls_privkey_deinit(key);
				return 1;
			}
			gnutls_free(sig.data);
		}
		t = now_s();
	} while (t - t0 < (double)secs);
	c0 = cpu_s() - c0;
	gnutls_privkey_deinit(key);
	printf("{\"ecdsa_n\":%ld,\"ecdsa_per_s\":%.1f,\"ecdsa_us\":%.2f,"
	    "\"ecdsa_per_cpu_s\":%.1f}\n", n, (double)n / (t - t0),
	    1e6 * c0 / (double)n, (double)n / c0);
	return 0;
}

/* Sign msg repeatedly for about secs; *n operations in *elapsed s. */
static int
run_sign(const struct tsr_key *key, const uint8_t *msg, double secs,
    uint8_t sig[TSR_KEY_MAX_SIG], size_t *sig_len, long *n, double *elapsed)
{
	double t0 = now_s(), t;
	int i;

	*n = 0;
	do {
		for (i = 0; i < SIGNRATE_BATCH; i++) {
			if (tsr_key_sign(key, msg, SIGNRATE_MSG_LEN, sig,
			    sig_len) != TSR_OK)
				return -1;
			(*n)++;
		}
		t = now_s();
	} while (t - t0 < secs);
	*elapsed = t - t0;
	return 0;
}

static int
run_verify(const struct tsr_key *key, const uint8_t *msg, double secs,
    const uint8_t *sig, size_t sig_len, long *n, double *elapsed)
{
	double t0 = now_s(), t;
	int i;

	*n = 0;
	do {
		for (i = 0; i < SIGNRATE_BATCH; i++) {
			if (tsr_key_verify(key, msg, SIGNRATE_MSG_LEN, sig,
			    sig_len) != TSR_OK)
				return -1;
			(*n)++;
		}
		t = now_s();
	} while (t - t0 < secs);
	*elapsed = t - t0;
	return 0;
}

int
main(int argc, char **argv)
{
	struct tsr_why why = { "" };
	struct hs_files hf = { NULL, NULL, NULL, NULL, NULL };
	struct tsr_key *key = NULL;
	uint8_t msg[SIGNRATE_MSG_LEN], sig[TSR_KEY_MAX_SIG];
	size_t sig_len = 0;
	long bits = TSR_KEY_DEFAULT_BITS, secs = 2, sn = 0, vn = 0;
	double st = 0, vt = 0, sc, vc;
	bool ok, handshake = false, ecdsa = false;
	enum tsr_err rc;
	int i;

	for (i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--bits") == 0) {
			if (!parse_long(argv[++i], 2048, 4096, &bits) ||
			    !tsr_key_bits_valid((int)bits))
				return usage();
		} else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0) {
			if (!parse_long(argv[++i], 1, 60, &secs))
				return usage();
		} else if (strcmp(argv[i], "--handshake") == 0) {
			handshake = true;
		} else if (strcmp(argv[i], "--ecdsa") == 0) {
			ecdsa = true;
		} else if (i + 1 < argc && strcmp(argv[i], "--cert") == 0) {
			hf.cert = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--key") == 0) {
			hf.key = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--ca") == 0) {
			hf.ca = argv[++i];
		} else if (i + 1 < argc &&
		    strcmp(argv[i], "--client-cert") == 0) {
			hf.client_cert = argv[++i];
		} else if (i + 1 < argc &&
		    strcmp(argv[i], "--client-key") == 0) {
			hf.client_key = argv[++i];
		} else {
			return usage();
		}
	}
	if (ecdsa)
		return run_ecdsa(secs);
	if (handshake) {
		if (hf.cert == NULL || hf.key == NULL || hf.ca == NULL ||
		    hf.client_cert == NULL || hf.client_key == NULL)
			return usage();
		return run_handshakes(&hf, secs);
	}
	if ((rc = tsr_key_generate((int)bits, &key, &why)) != TSR_OK) {
		fprintf(stderr, "signrate: %s\n", tsr_err_text(&why, rc));
		return 1;
	}
	/* A fixed, JWT-like message: base64url characters and one dot. */
	for (i = 0; i < SIGNRATE_MSG_LEN; i++)
		msg[i] = (uint8_t)"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
		    "rstuvwxyz0123456789-_"[i % 64];
	msg[SIGNRATE_MSG_LEN / 3] = '.';
	sc = cpu_s();
	ok = run_sign(key, msg, (double)secs, sig, &sig_len, &sn, &st) == 0;
	sc = cpu_s() - sc;
	vc = cpu_s();
	ok = ok && run_verify(key, msg, (double)secs, sig, sig_len, &vn,
	    &vt) == 0;
	vc = cpu_s() - vc;
	tsr_key_destroy(key);
	if (!ok) {
		fprintf(stderr, "signrate: signing or verification failed\n");
		return 1;
	}
	printf("{\"bits\":%ld,\"sign_n\":%ld,\"sign_per_s\":%.1f,"
	    "\"sign_ms\":%.4f,\"sign_per_cpu_s\":%.1f,\"verify_n\":%ld,"
	    "\"verify_per_s\":%.1f,\"verify_us\":%.2f,"
	    "\"verify_per_cpu_s\":%.1f}\n", bits, sn, (double)sn / st,
	    st * 1e3 / (double)sn, (double)sn / sc, vn, (double)vn / vt,
	    vt * 1e6 / (double)vn, (double)vn / vc);
	return 0;
}
