/*
 * tessera: the authorization server and its admin commands.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "cli.h"
#include "serve.h"

static int
help(struct cli *c, int argc, char **argv)
{
	cli_usage(stdout);
	return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb commands[] = {
		{ "serve", cli_serve },
		{ "migrate", cli_migrate },
		{ "client", cli_client },
		{ "grant", cli_grant },
		{ "key", cli_key },
		{ "kek", cli_kek },
		{ "ca", cli_ca },
		{ "cert", cli_cert },
		{ "policy", cli_policy },
		{ "token", cli_token },
		{ "audit", cli_audit },
		{ "revocation", cli_revocation },
		{ "agent", cli_agent },
		{ "help", help },
		{ NULL, NULL },
	};
	struct cli c;
	int ex;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("tessera %s\n", TSR_VERSION);
		return CLI_EXIT_OK;
	}
	if (gnutls_global_init() < 0) {
		fprintf(stderr, "tessera: cannot initialize GnuTLS\n");
		return CLI_EXIT_ERR;
	}
	cli_init(&c);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return help(&c, argc - 1, argv + 1);
	cli_peek(&c, argc - 1, argv + 1);
	ex = cli_dispatch(&c, argc - 1, argv + 1, commands, 0);
	cli_finish(&c);
	gnutls_global_deinit();
	return ex;
}
