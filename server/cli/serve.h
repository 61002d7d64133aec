/* serve: the `tessera serve` command. */
#ifndef TSR_SERVER_SERVE_H
#define TSR_SERVER_SERVE_H

#include "cli.h"

int cli_serve(struct cli *c, int argc, char **argv);

#endif
