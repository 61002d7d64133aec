/*
 * keyvault: where the private halves of signing keys are kept, for the
 * keyring.  Either files in a key directory (lib/keyfile: one 0600 PEM
 * file per key, the default with SQLite), or sealed in the store itself
 * (lib/seal: AES-256-GCM under key-encryption keys, AAD the kid), which
 * replicas without a shared disk need: every replica reads the same
 * sealed keys, and no private key is ever in a file.
 *
 * The keyring writes a new key in two steps so that a crash cannot
 * leave a row without its private key: stage it before the transaction
 * that inserts its row (a file is written; or the key is sealed in
 * memory), then, sealed, store it inside that transaction, after the
 * row.  A key that can no longer sign is dropped: sealed, in the
 * transaction that retires it; as a file, after that commit.
 *
 * No function here puts key material or a KEK in a why line.
 */
#ifndef TSR_KEYVAULT_H
#define TSR_KEYVAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"
#include "model.h"
#include "seal.h"
#include "store/store.h"

/* Files in dir when keks is NULL, else sealed in the store. */
struct tsr_keyvault {
	const char			*dir;
	const struct tsr_seal_keks	*keks;
};

/* A new private key between stage and its row's commit. */
struct tsr_keyvault_staged {
	char	 kid[TSR_KEY_KID_BUF];	/* "": the store owns it */
	char	*sealed;		/* sealed text; NULL for a file */
};

/* Ready to use: the key directory is there and private (with create,
 * made if missing).  Nothing to check for sealed keys. */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_check(const struct tsr_keyvault *v,
    bool create, struct tsr_why *why);

/* Before the transaction: write key's file, or seal it. */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_stage(const struct tsr_keyvault *v,
    const struct tsr_key *key, struct tsr_keyvault_staged *stg,
    struct tsr_why *why);

/* Inside the transaction, after the key's row: store the sealed key. */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_store(const struct tsr_keyvault *v,
    struct tsr_store *st, const struct tsr_keyvault_staged *stg,
    int64_t now, struct tsr_why *why);

/* After the commit: the store owns the staged key. */
void tsr_keyvault_committed(struct tsr_keyvault_staged *stg);

/* Undo a stage whose row never committed (its file is destroyed);
 * after tsr_keyvault_committed it only frees.  Safe on a zeroed stg. */
void tsr_keyvault_unstage(const struct tsr_keyvault *v,
    struct tsr_keyvault_staged *stg);

/* The private key of kid, checked to be kid's.  Sealed: TSR_ERR_CRYPTO
 * when no KEK given can unseal it. */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_load(const struct tsr_keyvault *v,
    struct tsr_store *st, const char *kid, struct tsr_key **out,
    struct tsr_why *why);

/* Whether kid's private key is gone (a crash, a lost file). */
bool tsr_keyvault_lost(const struct tsr_keyvault *v, struct tsr_store *st,
    const char *kid, int64_t now);

/* kid can no longer sign: inside the transaction that says so (sealed),
 * and after its commit (file).  Each does nothing for the other kind. */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_drop_in_tx(
    const struct tsr_keyvault *v, struct tsr_store *st, const char *kid,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_keyvault_drop(const struct tsr_keyvault *v,
    const char *kid, struct tsr_why *why);

/*
 * The key directory's lock, held shared from writing a key file until
 * its row commits or the file is gone (tsr_keyvault_unlock).  The sweep
 * removes a file that no row names only while it holds the lock
 * exclusively, so it never races a key another process is about to
 * commit.  Sealed keys need no lock: *lock is -1.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_lock(const struct tsr_keyvault *v,
    int *lock, struct tsr_why *why);
void tsr_keyvault_unlock(int lock);

/*
 * Destroy the private keys of rows that can no longer sign (not next or
 * active) and, in a key directory whose lock no one else holds, files
 * that no row names.  Reads the rows itself, after taking the lock;
 * outside any transaction.  *destroyed counts.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_sweep(const struct tsr_keyvault *v,
    struct tsr_store *st, int *destroyed, struct tsr_why *why);

/*
 * Seal every stored private key again under the first KEK, in one
 * transaction; *resealed counts those that were under another KEK.
 * TSR_ERR_STATE for a key directory.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyvault_reseal(const struct tsr_keyvault *v,
    struct tsr_store *st, int64_t now, int *resealed, struct tsr_why *why);

#endif
