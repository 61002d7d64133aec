/*
 * args: the command line, GNU style: "--name value", "--name=value",
 * flags, repeated options, positional words; "--" ends the options.
 */
#ifndef TSR_CLI_ARGS_H
#define TSR_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define ARGS_MAX_LIST	64	/* values of one repeated option */

struct args_opt {
	const char	 *name;		/* without the leading "--" */
	const char	**value;	/* takes a value, last one wins */
	bool		 *flag;		/* a flag: set to true */
	const char	**list;		/* repeated: up to ARGS_MAX_LIST */
	size_t		 *n_list;
};

/*
 * Parse argv[0..argc) against opts (terminated by a NULL name), putting
 * the other words into pos (at most max_pos).  Returns 0, or -1 after
 * printing "tessera: <problem>" on stderr (a usage error).
 */
int args_parse(int argc, char **argv, const struct args_opt *opts,
    const char **pos, size_t max_pos, size_t *n_pos);

#endif
