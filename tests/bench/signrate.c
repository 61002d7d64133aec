/*
 * signrate: the raw RS256 signing and verification rate of libtessera's
 * signer on one thread, the ceiling of the token endpoint.
 *
 *	signrate [--bits 2048] [--seconds 2]
 *
 * Generates a key with tsr_key_generate, then calls tsr_key_sign (and
 * afterwards tsr_key_verify) in a loop for about --seconds each over a
 * message the size of a typical JWS signing input.  Prints one JSON line:
 *
 *	{"bits":2048,"sign_n":..,"sign_per_s":..,"sign_ms":..,
 *	 "sign_per_cpu_s":..,"verify_n":..,"verify_per_s":..,"verify_us":..,
 *	 "verify_per_cpu_s":..}
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

#include "err.h"
#include "key.h"

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
	    "[--seconds S]\n");
	return 2;
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
	struct tsr_key *key = NULL;
	uint8_t msg[SIGNRATE_MSG_LEN], sig[TSR_KEY_MAX_SIG];
	size_t sig_len = 0;
	long bits = TSR_KEY_DEFAULT_BITS, secs = 2, sn = 0, vn = 0;
	double st = 0, vt = 0, sc, vc;
	bool ok;
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
		} else {
			return usage();
		}
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
