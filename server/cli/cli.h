/*
 * cli: what every admin subcommand shares: global options, the store,
 * printing results as a table or JSON, and the exit statuses documented
 * in the README (0 success, 1 error with one "tessera: ..." line, 2
 * usage).
 */
#ifndef TSR_CLI_CLI_H
#define TSR_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "args.h"
#include "err.h"
#include "keyvault.h"
#include "store/store.h"

#define CLI_EXIT_OK	0
#define CLI_EXIT_ERR	1
#define CLI_EXIT_USAGE	2

struct cli {
	const char	*db_path;	/* --db, TESSERA_DB */
	const char	*key_dir;	/* --key-dir, TESSERA_KEY_DIR */
	/* --key-encryption-key FILE[,FILE...], TESSERA_KEY_ENCRYPTION_KEY */
	const char	*kek_list;
	struct tsr_seal_keks *keks;	/* loaded by cli_keks */
	bool		 json;		/* --json */
	const char	*words[8];	/* positional words, command first */
	size_t		 n_words;
};

/* A subcommand: its words after the command ("add", ...) and its run. */
typedef int (*cli_fn)(struct cli *c, int argc, char **argv);

struct cli_verb {
	const char	*name;
	cli_fn		 fn;
};

/*
 * Find the command words before any parsing: words[0] is the command,
 * words[1] the subcommand.  Global options may stand before them.
 */
void cli_peek(struct cli *c, int argc, char **argv);

/* Run the verb named by c->words[idx]; unknown or missing: usage, 2. */
int cli_dispatch(struct cli *c, int argc, char **argv,
    const struct cli_verb *verbs, size_t idx);

/* Defaults from the environment. */
void cli_init(struct cli *c);

/*
 * Parse argv with the global options plus opts (NULL-terminated, may be
 * NULL) into c->words; require n_min..n_max words in all (command
 * included).  Returns 0, or CLI_EXIT_USAGE after printing the usage.
 */
int cli_parse(struct cli *c, int argc, char **argv,
    const struct args_opt *opts, size_t n_min, size_t n_max);

/* Print "tessera: <why or rc's text>" and return CLI_EXIT_ERR. */
int cli_fail(enum tsr_err rc, const struct tsr_why *why);

/* Open the store and apply pending migrations; on failure prints and
 * returns CLI_EXIT_ERR (and *st is NULL). */
int cli_open(const struct cli *c, struct tsr_store **st);

/*
 * The key-encryption keys for private keys sealed in the store: loaded
 * from --key-encryption-key into c->keks (freed by cli_finish), or NULL
 * for the key directory.  A database server needs them (no shared
 * disk).  Prints and returns CLI_EXIT_ERR on failure.
 */
int cli_keks(struct cli *c);
/* Where c keeps private keys: its key directory, or sealed under its
 * KEKs once cli_keks loaded them. */
struct tsr_keyvault cli_vault(const struct cli *c);

/* Free what the command loaded. */
void cli_finish(struct cli *c);

/* Print doc (stolen) as one JSON document on stdout. */
int cli_print_json(json_t *doc);

/*
 * Print n rows of size bytes each: table(rows, n) for people, or with
 * --json {"<key>":[one(row), ...]}.  Returns the exit status.
 */
int cli_print_list(const struct cli *c, const char *key, const void *rows,
    size_t n, size_t size, void (*table)(const void *, size_t),
    json_t *(*one)(const void *));

/* Print the usage on stream. */
void cli_usage(FILE *stream);

/* Unix seconds to "2026-11-30 08:38:15Z", or "-" for 0. */
void cli_format_time(int64_t at, char *buf, size_t len);

/* JSON number, or null for 0 (a time not reached). */
json_t *cli_json_time(int64_t at);

/* A grant list as a table, one grant as JSON: for `grant list` and
 * `client show`. */
void cli_grant_table(const void *rows, size_t n);
json_t *cli_grant_json(const void *row);

/* How long a deny-list entry that cannot know its token's exp lives: the
 * longest a token lives plus the clock skew, as the server recorded. */
int64_t cli_revocation_lifetime(struct tsr_store *st);
/* A --reason: 0, or the exit status after printing why not. */
int cli_revocation_check_reason(const char *reason);
/* Store r and print what happened; the exit status. */
int cli_revocation_write(const struct cli *c, struct tsr_store *st,
    const struct tsr_revocation *r);
/* One deny-list entry as JSON (revocation list, token inspect). */
json_t *cli_revocation_json(const void *row);

int cli_migrate(struct cli *c, int argc, char **argv);
int cli_client(struct cli *c, int argc, char **argv);
int cli_ca(struct cli *c, int argc, char **argv);
int cli_cert(struct cli *c, int argc, char **argv);
int cli_grant(struct cli *c, int argc, char **argv);
int cli_key(struct cli *c, int argc, char **argv);
int cli_kek(struct cli *c, int argc, char **argv);
int cli_policy(struct cli *c, int argc, char **argv);
int cli_token(struct cli *c, int argc, char **argv);
int cli_audit(struct cli *c, int argc, char **argv);
int cli_revocation(struct cli *c, int argc, char **argv);
int cli_agent(struct cli *c, int argc, char **argv);
int cli_client_revoke_tokens(struct cli *c, int argc, char **argv);

#endif
