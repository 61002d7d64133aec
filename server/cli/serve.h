/* serve: the `tessera serve` command, which starts the daemon. */
#ifndef TSR_CLI_SERVE_H
#define TSR_CLI_SERVE_H

#include "cli.h"

int cli_serve(struct cli *c, int argc, char **argv);

#endif
