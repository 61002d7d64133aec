/*
 * keyring: the signing key lifecycle, on top of the store (rows) and key
 * (files).
 *
 *   next -> active -> retired -> expired;  any published key -> revoked.
 *
 * Exactly one key is active; one next key is always published so that a
 * rotation goes to a key verifiers have cached for a whole period.  The
 * private file of a key is written before its row commits and destroyed
 * after the row that retires it commits, so a crash between the two steps
 * leaves at worst an orphan file, which tsr_keyring_ensure removes.  The
 * key directory's lock (keyfile.h), held shared from writing a key file
 * to committing its row, tells ensure that no other process is about to
 * commit a row for a file it sees without one.
 *
 * A struct tsr_keyring is an immutable snapshot for serving: the active
 * private key, the published public keys and the JWKS document, made
 * once per key change.  Safe to share between threads.
 */
#ifndef TSR_KEYRING_H
#define TSR_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"
#include "seal.h"
#include "store/store.h"

/* Default verification window of a retired key when no server has said
 * its own (5 min token TTL + 60 s clock skew). */
#define TSR_KEYRING_DEFAULT_RETIRE_WINDOW_S	360
/* Setting names under which a server records its window and clock
 * skew, so that the admin commands act as the server would. */
#define TSR_KEYRING_SETTING_WINDOW		"retire_window_s"
#define TSR_KEYRING_SETTING_SKEW		"clock_skew_s"
#define TSR_KEYRING_DEFAULT_SKEW_S		60

struct tsr_keyring;

/* What a lifecycle operation needs to know. */
struct tsr_keyring_opts {
	const char	*key_dir;
	int		 bits;			/* for new keys */
	int64_t		 retire_window_s;	/* retired key stays up */
	/* Non-NULL: private keys are sealed in the store under these
	 * key-encryption keys (lib/keyvault.h), not files in key_dir. */
	const struct tsr_seal_keks *keks;
};

/* What tsr_keyring_ensure did. */
struct tsr_keyring_report {
	int	created;	/* new keys */
	int	expired;	/* retired keys past their window */
	int	destroyed;	/* private files of dead or orphan keys */
	char	note[TSR_ERR_MAX_WHY];	/* a repair worth telling, or "" */
};

/*
 * Make the store servable and repair what a crash can leave: an active
 * key whose private file is gone is retired, a next key whose file is
 * gone is revoked; create an active key when there is none (promoting
 * the next key if there is one) and a next key when there is none;
 * expire retired keys whose window has passed; destroy the private files
 * of keys that can no longer sign and of orphans (files no row names),
 * the latter only while no other process holds the key directory's lock
 * (a key being written).  rep may be NULL.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyring_ensure(struct tsr_store *st,
    const struct tsr_keyring_opts *o, int64_t now,
    struct tsr_keyring_report *rep, struct tsr_why *why);

/*
 * Rotate now: next -> active, active -> retired (published until now +
 * retire window), a new next key.  expect_active is the kid the caller
 * believes active (NULL: whatever is active); TSR_ERR_CONFLICT when
 * another process rotated first, and then nothing is changed.
 * *new_active (may be NULL) gets the new active kid.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyring_rotate(struct tsr_store *st,
    const struct tsr_keyring_opts *o, const char *expect_active, int64_t now,
    char new_active[TSR_KEY_KID_BUF], struct tsr_why *why);

/*
 * Revoke kid: unpublished at once.  The active key is first rotated away;
 * a revoked next key is replaced by a new one.  TSR_ERR_NOT_FOUND for an
 * unknown kid, TSR_ERR_STATE for one already revoked or expired.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyring_revoke(struct tsr_store *st,
    const struct tsr_keyring_opts *o, const char *kid, int64_t now,
    struct tsr_why *why);

/* Load the serving snapshot: active key with its private half (a file in
 * key_dir, or sealed in the store when keks is non-NULL), every published
 * key public.  TSR_ERR_STATE when there is no usable active key;
 * TSR_ERR_CRYPTO when no KEK of keks unseals it. */
TSR_MUST_CHECK enum tsr_err tsr_keyring_load(struct tsr_store *st,
    const char *key_dir, const struct tsr_seal_keks *keks,
    struct tsr_keyring **out, struct tsr_why *why);
void tsr_keyring_destroy(struct tsr_keyring *kr);

/* The published keys only, public halves, for tools that verify but never
 * sign: tsr_keyring_active() of the result is NULL. */
TSR_MUST_CHECK enum tsr_err tsr_keyring_load_public(struct tsr_store *st,
    struct tsr_keyring **out, struct tsr_why *why);

/* Borrowed, valid as long as kr; NULL for a public-only keyring. */
const struct tsr_key *tsr_keyring_active(const struct tsr_keyring *kr);
int64_t tsr_keyring_active_since(const struct tsr_keyring *kr);
/* A published key (next, active or retired in its window); NULL if none. */
const struct tsr_key *tsr_keyring_find(const struct tsr_keyring *kr,
    const char *kid);
/* {"keys":[...]} serialized once; NUL-terminated. */
const char *tsr_keyring_jwks(const struct tsr_keyring *kr, size_t *len);

#endif
