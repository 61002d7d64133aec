/* serve: the `tessera serve` command, which starts the daemon. */
#ifndef TSR_CLI_SERVE_H
#define TSR_CLI_SERVE_H

#include <stdio.h>

#include "cli.h"

int cli_serve(struct cli *c, int argc, char **argv);

/* The serve line(s) of the usage, options with their defaults. */
void cli_serve_usage(FILE *stream);

#endif
