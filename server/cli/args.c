#include "args.h"

#include <stdio.h>
#include <string.h>

static const struct args_opt *
find_opt(const struct args_opt *opts, const char *name, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static int
store_value(const struct args_opt *o, const char *value)
{
	if (o->value != NULL) {
		*o->value = value;
		return 0;
	}
	if (*o->n_list >= ARGS_MAX_LIST) {
		fprintf(stderr, "tessera: too many --%s options\n", o->name);
		return -1;
	}
	o->list[(*o->n_list)++] = value;
	return 0;
}

/* One "--name[=value]" word at argv[*i]; may consume the next word. */
static int
parse_option(int argc, char **argv, int *i, const struct args_opt *opts)
{
	const char *word = argv[*i] + 2, *eq = strchr(word, '=');
	size_t len = eq ? (size_t)(eq - word) : strlen(word);
	const struct args_opt *o = find_opt(opts, word, len);

	if (o == NULL) {
		fprintf(stderr, "tessera: unknown option --%.*s\n", (int)len,
		    word);
		return -1;
	}
	if (o->flag != NULL) {
		if (eq != NULL) {
			fprintf(stderr, "tessera: --%s takes no value\n",
			    o->name);
			return -1;
		}
		*o->flag = true;
		return 0;
	}
	if (eq != NULL)
		return store_value(o, eq + 1);
	if (*i + 1 >= argc) {
		fprintf(stderr, "tessera: --%s needs a value\n", o->name);
		return -1;
	}
	return store_value(o, argv[++*i]);
}

int
args_parse(int argc, char **argv, const struct args_opt *opts,
    const char **pos, size_t max_pos, size_t *n_pos)
{
	bool only_words = false;
	int i;

	*n_pos = 0;
	for (i = 0; i < argc; i++) {
		if (!only_words && strcmp(argv[i], "--") == 0) {
			only_words = true;
			continue;
		}
		if (!only_words && strncmp(argv[i], "--", 2) == 0) {
			if (parse_option(argc, argv, &i, opts) != 0)
				return -1;
			continue;
		}
		if (*n_pos >= max_pos) {
			fprintf(stderr, "tessera: unexpected argument \"%s\"\n",
			    argv[i]);
			return -1;
		}
		pos[(*n_pos)++] = argv[i];
	}
	return 0;
}
