/*
 * The kek subcommand: generate FILE writes a new key-encryption key (32
 * random bytes, mode 0600) for sealing signing keys; an existing file is
 * never overwritten.
 */
#include <stdio.h>

#include "cli.h"
#include "seal.h"

static int
kek_generate(struct cli *c, int argc, char **argv)
{
	struct tsr_why why = { "" };
	enum tsr_err rc;
	int ex;

	if ((ex = cli_parse(c, argc, argv, NULL, 3, 3)) != 0)
		return ex;
	if ((rc = tsr_seal_kek_generate(c->words[2], &why)) != TSR_OK)
		return cli_fail(rc, &why);
	if (c->json)
		return cli_print_json(json_pack("{s:s,s:i}", "kek",
		    c->words[2], "bytes", TSR_SEAL_KEK_LEN));
	printf("wrote key-encryption key %s (%d random bytes, mode 0600)\n",
	    c->words[2], TSR_SEAL_KEK_LEN);
	return CLI_EXIT_OK;
}

int
cli_kek(struct cli *c, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "generate", kek_generate }, { NULL, NULL },
	};

	return cli_dispatch(c, argc, argv, verbs, 1);
}
