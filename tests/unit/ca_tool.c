/*
 * ca_tool: lib/ca on the command line, for tests/integration/ca_profile.sh
 * (built for tests only).
 *
 *	ca_tool init DIR			DIR/ca.pem, DIR/ca-key.pem
 *	ca_tool issue DIR CN CSR.der TTL OUT.der	prints the serial
 *	ca_tool p7 OUT.der CERT.der...		PKCS #7 certs-only
 *	ca_tool crl DIR NUMBER OUT.der SERIAL[:REASON]...
 *	ca_tool crl-many DIR N OUT.der		N made-up entries
 *
 * A refusal prints the error's symbolic name and exits 2.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"

#define MAX_FILE	(1 << 20)

static int
refuse(enum tsr_err rc, const struct tsr_why *why)
{
	fprintf(stderr, "%s: %s\n", tsr_err_name(rc), tsr_err_text(why, rc));
	return 2;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(MAX_FILE);

	if (f == NULL || buf == NULL) {
		perror(path);
		exit(1);
	}
	*len = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	return buf;
}

static void
spit(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0) {
		perror(path);
		exit(1);
	}
}

static char *
join(const char *dir, const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static struct tsr_ca *
load(const char *dir)
{
	struct tsr_ca *ca;
	struct tsr_why why = { "" };
	uint8_t *c, *k;
	size_t cl, kl;
	enum tsr_err rc;

	c = slurp(join(dir, "ca.pem"), &cl);
	k = slurp(join(dir, "ca-key.pem"), &kl);
	rc = tsr_ca_load(c, cl, k, kl, &ca, &why);
	free(c);
	tsr_ca_pem_free(k, MAX_FILE);
	if (rc != TSR_OK)
		exit(refuse(rc, &why));
	return ca;
}

static int
cmd_init(const char *dir)
{
	struct tsr_ca *ca;
	struct tsr_why why = { "" };
	enum tsr_err rc;
	uint8_t *key;
	char *pem;
	size_t len;

	if ((rc = tsr_ca_create(NULL, 0, 0, time(NULL), &ca, &why)) != TSR_OK)
		return refuse(rc, &why);
	if (tsr_ca_cert_pem(ca, &pem, &len) != TSR_OK ||
	    tsr_ca_key_pem(ca, &key, &len, NULL) != TSR_OK)
		return 1;
	spit(join(dir, "ca-key.pem"), key, len, 0600);
	tsr_ca_pem_free(key, len);
	spit(join(dir, "ca.pem"), pem, strlen(pem), 0644);
	free(pem);
	printf("%s\n", tsr_ca_fingerprint(ca));
	tsr_ca_destroy(ca);
	return 0;
}

static int
cmd_issue(char **argv)
{
	struct tsr_ca *ca = load(argv[0]);
	struct tsr_ca_issued is;
	struct tsr_why why = { "" };
	enum tsr_err rc;
	uint8_t *csr;
	size_t len;

	csr = slurp(argv[2], &len);
	rc = tsr_ca_issue(ca, csr, len, argv[1], strtoll(argv[3], NULL, 10),
	    time(NULL), &is, &why);
	free(csr);
	tsr_ca_destroy(ca);
	if (rc != TSR_OK)
		return refuse(rc, &why);
	spit(argv[4], is.der, is.der_len, 0644);
	printf("%s %lld %lld %s\n", is.serial, (long long)is.not_before,
	    (long long)is.not_after, is.sha256);
	tsr_ca_issued_free(&is);
	return 0;
}

static int
cmd_p7(int argc, char **argv)
{
	struct tsr_ca_der certs[16];
	struct tsr_why why = { "" };
	enum tsr_err rc;
	uint8_t *out;
	size_t len;
	int i, n = argc - 1;

	if (n < 1 || n > 16)
		return 1;
	for (i = 0; i < n; i++)
		certs[i].der = slurp(argv[i + 1], &certs[i].len);
	if ((rc = tsr_ca_pkcs7_der(certs, (size_t)n, &out, &len,
	    &why)) != TSR_OK)
		return refuse(rc, &why);
	spit(argv[0], out, len, 0644);
	free(out);
	for (i = 0; i < n; i++)
		free((void *)(uintptr_t)certs[i].der);
	return 0;
}

static int
crl_out(struct tsr_ca *ca, struct tsr_ca_revoked *r, size_t n,
    uint64_t number, const char *path)
{
	struct tsr_why why = { "" };
	enum tsr_err rc;
	uint8_t *der;
	size_t len;

	rc = tsr_ca_crl(ca, r, n, number, time(NULL), &der, &len, &why);
	tsr_ca_destroy(ca);
	if (rc != TSR_OK)
		return refuse(rc, &why);
	spit(path, der, len, 0644);
	free(der);
	return 0;
}

static int
cmd_crl(int argc, char **argv)
{
	struct tsr_ca_revoked r[64];
	char *colon;
	int i, n = argc - 3, rc;

	if (n < 0 || n > 64)
		return 1;
	for (i = 0; i < n; i++) {
		r[i].serial = argv[i + 3];
		r[i].when = time(NULL) - 100 * i;
		r[i].reason = TSR_CA_REASON_NONE;
		if ((colon = strchr(argv[i + 3], ':')) != NULL) {
			*colon = '\0';
			r[i].reason = (enum tsr_ca_reason)strtol(colon + 1,
			    NULL, 10);
		}
	}
	rc = crl_out(load(argv[0]), r, (size_t)n,
	    strtoull(argv[1], NULL, 10), argv[2]);
	return rc;
}

static int
cmd_crl_many(char **argv)
{
	size_t n = strtoul(argv[1], NULL, 10), i;
	struct tsr_ca_revoked *r = calloc(n + 1, sizeof(*r));
	char (*hex)[TSR_CA_SERIAL_HEX_BUF] = calloc(n + 1, sizeof(*hex));
	int rc;

	for (i = 0; i < n; i++) {
		snprintf(hex[i], sizeof(hex[i]), "1%031zx", i);
		r[i].serial = hex[i];
		r[i].when = time(NULL) - (int64_t)i;
		r[i].reason = TSR_CA_REASON_NONE;
	}
	rc = crl_out(load(argv[0]), r, n, 1, argv[2]);
	free(hex);
	free(r);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "init") == 0)
		return cmd_init(argv[2]);
	if (argc == 7 && strcmp(argv[1], "issue") == 0)
		return cmd_issue(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "p7") == 0)
		return cmd_p7(argc - 2, argv + 2);
	if (argc >= 5 && strcmp(argv[1], "crl") == 0)
		return cmd_crl(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "crl-many") == 0)
		return cmd_crl_many(argv + 2);
	fprintf(stderr, "usage: ca_tool init|issue|p7|crl|crl-many ...\n");
	return 1;
}
