/*
 * The cert subcommands: issue (a key and certificate made here, for
 * bootstrapping), enroll-token (a one-time secret for EST simpleenroll),
 * list and revoke.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "cli.h"
#include "duration.h"
#include "issuer.h"
#include "policy.h"
#include "store/store.h"
#include "x509.h"

/* An enrollment secret lives 1h by default, 7d at most. */
#define ENROLL_TTL_DEFAULT	3600
#define ENROLL_TTL_MAX		(7 * 86400)
#define ENROLL_SECRET_LEN	32	/* random bytes */

/* Write data to dir/name (mode), replacing it atomically. */
static enum tsr_err
write_out(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, struct tsr_why *why)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	const char *p = data;
	ssize_t n;
	int fd, ok = 1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp",
	    dir, name) >= sizeof(tmp))
		return tsr_err_why(why, TSR_ERR_TOO_LONG, "path too long");
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		return tsr_err_why(why, TSR_ERR_IO, "cannot write %s: %s", tmp,
		    strerror(errno));
	while (ok && len > 0) {
		if ((n = write(fd, p, len)) <= 0) {
			ok = n == -1 && errno == EINTR;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0;
	if (close(fd) == -1 || !ok || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return tsr_err_why(why, TSR_ERR_IO, "cannot write %s", path);
	}
	return TSR_OK;
}

/* A new P-256 key (PKCS #8 PEM in *key) and a request for cn signed by
 * it (DER in *csr); gnutls_free both. */
static enum tsr_err
make_key_csr(const char *cn, gnutls_datum_t *key, gnutls_datum_t *csr)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_x509_crq_t q = NULL;
	enum tsr_err rc = TSR_ERR_CRYPTO;

	key->data = csr->data = NULL;
	if (gnutls_x509_privkey_init(&k) < 0 || gnutls_x509_crq_init(&q) < 0)
		goto out;
	if (gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crq_set_dn_by_oid(q, GNUTLS_OID_X520_COMMON_NAME, 0,
	    cn, (unsigned)strlen(cn)) < 0 ||
	    gnutls_x509_crq_set_key(q, k) < 0 ||
	    gnutls_x509_crq_sign2(q, k, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crq_export2(q, GNUTLS_X509_FMT_DER, csr) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, key) < 0)
		goto out;
	rc = TSR_OK;
out:
	if (rc != TSR_OK) {
		gnutls_free(csr->data);
		csr->data = NULL;
	}
	gnutls_x509_crq_deinit(q);
	gnutls_x509_privkey_deinit(k);
	return rc;
}

/* Write CLIENT.pem, CLIENT-key.pem (0600) and ca.pem into dir. */
static enum tsr_err
issue_write(const char *dir, const char *client, const struct tsr_ca *ca,
    const struct tsr_ca_issued *iss, const gnutls_datum_t *key,
    struct tsr_why *why)
{
	gnutls_datum_t der = { iss->der, (unsigned)iss->der_len }, pem = { 0 };
	char name[TSR_MAX_NAME + 16], *ca_pem = NULL;
	size_t ca_len = 0;
	enum tsr_err rc;

	if (gnutls_pem_base64_encode2("CERTIFICATE", &der, &pem) < 0 ||
	    tsr_ca_cert_pem(ca, &ca_pem, &ca_len) != TSR_OK) {
		rc = tsr_err_why(why, TSR_ERR_NOMEM, "PEM");
		goto out;
	}
	(void)snprintf(name, sizeof(name), "%s-key.pem", client);
	if ((rc = write_out(dir, name, key->data, key->size, 0600, why)) !=
	    TSR_OK)
		goto out;
	(void)snprintf(name, sizeof(name), "%s.pem", client);
	if ((rc = write_out(dir, name, pem.data, pem.size, 0644, why)) ==
	    TSR_OK)
		rc = write_out(dir, "ca.pem", ca_pem, ca_len, 0644, why);
out:
	gnutls_free(pem.data);
	free(ca_pem);
	return rc;
}

/* Load the CA and the client, make a key, issue and write the files. */
static enum tsr_err
issue_run(const struct cli *c, struct tsr_store *st, const char *client,
    int64_t ttl, const char *dir, struct tsr_ca_issued *iss,
    struct tsr_why *why)
{
	struct tsr_keyvault v = cli_vault(c);
	gnutls_datum_t key = { 0 }, csr = { 0 };
	struct tsr_ca *ca = NULL;
	struct tsr_client cl;
	enum tsr_err rc;

	if ((rc = tsr_store_client_get(st, client, &cl, why)) != TSR_OK ||
	    (rc = tsr_issuer_load(st, &v, &ca, why)) != TSR_OK)
		goto out;
	if ((rc = make_key_csr(cl.cn, &key, &csr)) != TSR_OK) {
		(void)tsr_err_why(why, rc, "cannot make a key");
		goto out;
	}
	if ((rc = tsr_issuer_issue(st, ca, &cl, csr.data, csr.size, ttl,
	    time(NULL), iss, why)) == TSR_OK)
		rc = issue_write(dir, client, ca, iss, &key, why);
out:
	if (key.data != NULL) {
		explicit_bzero(key.data, key.size);
		gnutls_free(key.data);
	}
	gnutls_free(csr.data);
	tsr_ca_destroy(ca);
	return rc;
}

static int
cert_issue(struct cli *c, int argc, char **argv)
{
	const char *ttl_text = NULL, *dir = ".";
	struct args_opt opts[] = {
		{ .name = "ttl", .value = &ttl_text },
		{ .name = "out", .value = &dir },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_ca_issued iss = { 0 };
	int64_t ttl = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 3, 3)) != 0 ||
	    (ex = cli_keks(c)) != 0)
		return ex;
	if (ttl_text != NULL &&
	    ((rc = tsr_duration_parse(ttl_text, &ttl, &why)) != TSR_OK ||
	    (rc = tsr_policy_check_cert_ttl(ttl, &why)) != TSR_OK))
		return cli_fail(rc, &why);
	if ((ex = cli_open(c, &st)) != 0)
		return ex;
	rc = issue_run(c, st, c->words[2], ttl, dir, &iss, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		ex = cli_print_json(json_pack("{s:s,s:s,s:I,s:I,s:s}",
		    "client", c->words[2], "serial", iss.serial, "not_before",
		    (json_int_t)iss.not_before, "not_after",
		    (json_int_t)iss.not_after, "sha256", iss.sha256));
	else
		printf("issued %s for %s, serial %s, SHA-256 %s; files in "
		    "%s\n", c->words[2], c->words[2], iss.serial, iss.sha256,
		    dir);
	tsr_ca_issued_free(&iss);
	return ex;
}

/*
 * A new secret: ENROLL_SECRET_LEN random bytes as hex in secret; its
 * row (random id, SHA-256 of the secret text) in e.
 */
static enum tsr_err
enroll_make(const char *client, int64_t ttl, char *secret,
    struct tsr_enrollrow *e)
{
	uint8_t raw[ENROLL_SECRET_LEN], id[8], h[32];
	time_t now = time(NULL);
	enum tsr_err rc;

	memset(e, 0, sizeof(*e));
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id)) < 0)
		return TSR_ERR_CRYPTO;
	rc = tsr_x509_hex(raw, sizeof(raw), secret, 2 * sizeof(raw) + 1);
	explicit_bzero(raw, sizeof(raw));
	if (rc != TSR_OK || gnutls_hash_fast(GNUTLS_DIG_SHA256, secret,
	    strlen(secret), h) < 0)
		return TSR_ERR_CRYPTO;
	if ((rc = tsr_x509_hex(id, sizeof(id), e->id, sizeof(e->id))) !=
	    TSR_OK || (rc = tsr_x509_hex(h, sizeof(h), e->secret_sha256,
	    sizeof(e->secret_sha256))) != TSR_OK)
		return rc;
	(void)snprintf(e->client, sizeof(e->client), "%s", client);
	e->created_at = (int64_t)now;
	e->expires_at = (int64_t)now + ttl;
	return TSR_OK;
}

static int
cert_enroll_token(struct cli *c, int argc, char **argv)
{
	const char *ttl_text = NULL;
	struct args_opt opts[] = {
		{ .name = "ttl", .value = &ttl_text },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_enrollrow e;
	struct tsr_client cl;
	char secret[2 * ENROLL_SECRET_LEN + 1];
	int64_t ttl = ENROLL_TTL_DEFAULT;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 3, 3)) != 0)
		return ex;
	if (ttl_text != NULL &&
	    (rc = tsr_duration_parse(ttl_text, &ttl, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if (ttl > ENROLL_TTL_MAX) {
		fprintf(stderr, "tessera: an enrollment secret lives 7d at "
		    "most\n");
		return CLI_EXIT_ERR;
	}
	if ((ex = cli_open(c, &st)) != 0)
		return ex;
	if ((rc = tsr_store_client_get(st, c->words[2], &cl, &why)) == TSR_OK &&
	    (rc = enroll_make(cl.name, ttl, secret, &e)) == TSR_OK)
		rc = tsr_store_enroll_insert(st, &e, &why);
	tsr_store_close(st);
	if (rc != TSR_OK) {
		explicit_bzero(secret, sizeof(secret));
		return cli_fail(rc, &why);
	}
	if (c->json)
		ex = cli_print_json(json_pack("{s:s,s:s,s:I}", "client",
		    cl.name, "secret", secret, "expires_at",
		    (json_int_t)e.expires_at));
	else
		printf("%s\n", secret);
	explicit_bzero(secret, sizeof(secret));
	return ex;
}

static void
cert_table(const void *rows, size_t n)
{
	const struct tsr_certrow *cs = rows;
	char nb[32], na[32];
	size_t i;

	printf("%-32s %-20s %-21s %-21s %s\n", "SERIAL", "CLIENT",
	    "NOT BEFORE", "NOT AFTER", "STATE");
	for (i = 0; i < n; i++) {
		cli_format_time(cs[i].not_before, nb, sizeof(nb));
		cli_format_time(cs[i].not_after, na, sizeof(na));
		printf("%-32s %-20s %-21s %-21s %s\n", cs[i].serial,
		    cs[i].client, nb, na, cs[i].revoked_at != 0 ? "revoked" :
		    cs[i].not_after <= (int64_t)time(NULL) ? "expired" :
		    "valid");
	}
}

static json_t *
cert_json(const void *row)
{
	const struct tsr_certrow *r = row;

	return json_pack("{s:s,s:s,s:I,s:I,s:s,s:I,s:o,s:s}", "serial",
	    r->serial, "client", r->client, "not_before",
	    (json_int_t)r->not_before, "not_after", (json_int_t)r->not_after,
	    "sha256", r->sha256, "issued_at", (json_int_t)r->issued_at,
	    "revoked_at", cli_json_time(r->revoked_at), "reason", r->reason);
}

/* Keep the unrevoked rows only (for --expiring). */
static size_t
drop_revoked(struct tsr_certrow *rows, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (rows[i].revoked_at == 0)
			rows[k++] = rows[i];
	return k;
}

static int
cert_list(struct cli *c, int argc, char **argv)
{
	const char *client = NULL, *exp_text = NULL;
	struct args_opt opts[] = {
		{ .name = "client", .value = &client },
		{ .name = "expiring", .value = &exp_text },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_certrow *rows = NULL;
	int64_t within = 0, now = (int64_t)time(NULL);
	size_t n = 0;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 2, 2)) != 0)
		return ex;
	if (exp_text != NULL &&
	    (rc = tsr_duration_parse(exp_text, &within, &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if ((ex = cli_open(c, &st)) != 0)
		return ex;
	rc = tsr_store_cert_list(st, client, exp_text != NULL ? now : 0,
	    exp_text != NULL ? now + within : 0, &rows, &n, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (exp_text != NULL)
		n = drop_revoked(rows, n);
	ex = cli_print_list(c, "certificates", rows, n, sizeof(*rows),
	    cert_table, cert_json);
	free(rows);
	return ex;
}

/* Milliseconds of clock since t0 (CLOCK_MONOTONIC or, for the CPU time
 * this process used, CLOCK_PROCESS_CPUTIME_ID). */
static double
ms_since(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;

	(void)clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int
cert_revoke(struct cli *c, int argc, char **argv)
{
	const char *client = NULL, *reason = "", *serial;
	struct args_opt opts[] = {
		{ .name = "client", .value = &client },
		{ .name = "reason", .value = &reason },
		{ .name = NULL },
	};
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_keyvault v;
	struct tsr_ca *ca = NULL;
	struct timespec t0, c0;
	double wall, cpu;
	enum tsr_err rc;
	int ex, count = 0;

	if ((ex = cli_parse(c, argc, argv, opts, 2, 3)) != 0)
		return ex;
	serial = c->n_words == 3 ? c->words[2] : NULL;
	if ((serial == NULL) == (client == NULL)) {
		fprintf(stderr, "tessera: cert revoke needs a SERIAL or "
		    "--client NAME\n");
		return CLI_EXIT_USAGE;
	}
	if ((ex = cli_revocation_check_reason(reason)) != 0 ||
	    (ex = cli_keks(c)) != 0 || (ex = cli_open(c, &st)) != 0)
		return ex;
	v = cli_vault(c);
	if ((rc = tsr_issuer_load(st, &v, &ca, &why)) == TSR_OK) {
		/* The revocation and the new CRL, in one transaction. */
		(void)clock_gettime(CLOCK_MONOTONIC, &t0);
		(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
		rc = tsr_issuer_revoke(st, ca, serial, client, reason,
		    time(NULL), &count, &why);
		wall = ms_since(CLOCK_MONOTONIC, &t0);
		cpu = ms_since(CLOCK_PROCESS_CPUTIME_ID, &c0);
	}
	tsr_ca_destroy(ca);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:i,s:f,s:f}", "revoked",
		    count, "ms", wall, "cpu_ms", cpu));
	printf("%d certificate%s revoked; CRL signed again (%.1f ms, %.1f ms "
	    "of CPU)\n", count, count == 1 ? "" : "s", wall, cpu);
	return CLI_EXIT_OK;
}

int
cli_cert(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "issue", cert_issue }, { "enroll-token", cert_enroll_token },
		{ "list", cert_list }, { "revoke", cert_revoke },
		{ NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
