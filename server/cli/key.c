/* The key subcommands: list, rotate, revoke, reseal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "issuer.h"
#include "key.h"
#include "keyring.h"
#include "keyvault.h"
#include "store/store.h"

/* A setting recorded by the server, or its default when none has been. */
static enum tsr_err
setting_or(struct tsr_store *st, const char *name, int64_t dflt,
    int64_t *out, struct tsr_why *why)
{
	enum tsr_err rc = tsr_store_setting_get(st, name, out, why);

	if (rc == TSR_ERR_NOT_FOUND) {
		tsr_err_clear(why);
		*out = dflt;
		return TSR_OK;
	}
	return rc;
}

/*
 * Keyring options as the server recorded them, so that a rotation made
 * here keeps the server's key size and verification window; then make the
 * store servable (an active and a next key), as every key command does.
 */
static enum tsr_err
key_prepare(const struct cli *c, struct tsr_store *st,
    struct tsr_keyring_opts *o, struct tsr_why *why)
{
	int64_t bits = 0;
	enum tsr_err rc;

	memset(o, 0, sizeof(*o));
	o->key_dir = c->key_dir;
	o->keks = c->keks;
	if ((rc = setting_or(st, "key_bits", TSR_KEY_DEFAULT_BITS, &bits,
	    why)) != TSR_OK ||
	    (rc = setting_or(st, TSR_KEYRING_SETTING_WINDOW,
	    TSR_KEYRING_DEFAULT_RETIRE_WINDOW_S, &o->retire_window_s,
	    why)) != TSR_OK)
		return rc;
	o->bits = tsr_key_bits_valid((int)bits) ? (int)bits :
	    TSR_KEY_DEFAULT_BITS;
	return tsr_keyring_ensure(st, o, time(NULL), NULL, why);
}

static json_t *
keyrow_json(const void *row)
{
	const struct tsr_keyrow *k = row;
	return json_pack("{s:s,s:s,s:i,s:o,s:o,s:o,s:o}", "kid", k->kid,
	    "state", tsr_keystate_name(k->state), "bits", k->bits,
	    "created_at", cli_json_time(k->created_at), "activated_at",
	    cli_json_time(k->activated_at), "retired_at",
	    cli_json_time(k->retired_at), "expires_at",
	    cli_json_time(k->expires_at));
}

static void
key_table(const void *rows, size_t n)
{
	const struct tsr_keyrow *ks = rows;
	char cr[32], ac[32], re[32], ex[32];
	size_t i;

	printf("%-43s %-8s %-5s %-21s %-21s %-21s %s\n", "KID", "STATE",
	    "BITS", "CREATED", "ACTIVATED", "RETIRED", "EXPIRES");
	for (i = 0; i < n; i++) {
		cli_format_time(ks[i].created_at, cr, sizeof(cr));
		cli_format_time(ks[i].activated_at, ac, sizeof(ac));
		cli_format_time(ks[i].retired_at, re, sizeof(re));
		cli_format_time(ks[i].expires_at, ex, sizeof(ex));
		printf("%-43s %-8s %-5d %-21s %-21s %-21s %s\n", ks[i].kid,
		    tsr_keystate_name(ks[i].state), ks[i].bits, cr, ac,
		    re, ex);
	}
}

static int
key_list(struct cli *c, int argc, char **argv)
{
	struct tsr_keyring_opts o;
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	struct tsr_keyrow *ks = NULL;
	size_t n = 0;
	enum tsr_err rc = TSR_OK;
	bool as_stored = false;
	struct args_opt opts[] = {
		{ .name = "as-stored", .flag = &as_stored },
		{ .name = NULL },
	};
	int ex;

	if ((ex = cli_parse(c, argc, argv, opts, 2, 2)) != 0 ||
	    (!as_stored && (ex = cli_keks(c)) != 0) ||
	    (ex = cli_open(c, &st)) != 0)
		return ex;
	/* --as-stored: the rows as they are, without the upkeep (expiry,
	 * missing keys) a plain list does first: what a server left. */
	if (!as_stored)
		rc = key_prepare(c, st, &o, &why);
	if (rc == TSR_OK)
		rc = tsr_store_key_list(st, &ks, &n, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	ex = cli_print_list(c, "keys", ks, n, sizeof(*ks), key_table,
	    keyrow_json);
	free(ks);
	return ex;
}

static int
key_rotate(struct cli *c, int argc, char **argv)
{
	struct tsr_keyring_opts o;
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	char kid[TSR_KEY_KID_BUF] = "";
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 2, 2)) != 0 ||
	    (ex = cli_keks(c)) != 0 || (ex = cli_open(c, &st)) != 0)
		return ex;
	if ((rc = key_prepare(c, st, &o, &why)) == TSR_OK)
		rc = tsr_keyring_rotate(st, &o, NULL, time(NULL), kid, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s}", "active", kid));
	printf("rotated: %s is now the active key\n", kid);
	return CLI_EXIT_OK;
}

static int
key_revoke(struct cli *c, int argc, char **argv)
{
	struct tsr_keyring_opts o;
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 3, 3)) != 0 ||
	    (ex = cli_keks(c)) != 0 || (ex = cli_open(c, &st)) != 0)
		return ex;
	if ((rc = key_prepare(c, st, &o, &why)) == TSR_OK)
		rc = tsr_keyring_revoke(st, &o, c->words[2], time(NULL), &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s}", "revoked",
		    c->words[2]));
	printf("revoked key %s\n", c->words[2]);
	return CLI_EXIT_OK;
}

/* Seal every private key again under the first KEK: the second step
 * of a KEK rotation, after listing the new KEK first. */
static int
key_reseal(struct cli *c, int argc, char **argv)
{
	struct tsr_keyvault v;
	struct tsr_why why = { "" };
	struct tsr_store *st = NULL;
	enum tsr_err rc;
	int ex, n = 0;
	bool ca = false;

	if ((ex = cli_parse(c, argc, argv, NULL, 2, 2)) != 0)
		return ex;
	if (c->kek_list == NULL || *c->kek_list == '\0') {
		fprintf(stderr, "tessera: key reseal needs "
		    "--key-encryption-key NEW[,OLD...]\n");
		return CLI_EXIT_USAGE;
	}
	if ((ex = cli_keks(c)) != 0 || (ex = cli_open(c, &st)) != 0)
		return ex;
	v.dir = c->key_dir;
	v.keks = c->keks;
	if ((rc = tsr_keyvault_reseal(&v, st, time(NULL), &n, &why)) ==
	    TSR_OK)
		rc = tsr_issuer_reseal(st, &v, &ca, &why);
	tsr_store_close(st);
	if (rc != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:i,s:b}", "resealed", n,
		    "ca_resealed", ca));
	printf("resealed %d private key(s)%s under the first "
	    "key-encryption key\n", n, ca ? " and the CA key" : "");
	return CLI_EXIT_OK;
}

int
cli_key(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "list", key_list }, { "rotate", key_rotate },
		{ "revoke", key_revoke }, { "reseal", key_reseal },
		{ NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
