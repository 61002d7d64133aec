/*
 * keyfile: private key files.  A key directory must be mode 0700 and
 * owned by us; each key is <kid>.pem in it, mode 0600, unencrypted
 * PKCS #8 PEM, written via a temp file, fsync, rename, fsync of the
 * directory, and retired by overwriting, then unlinking.
 *
 * The PEM bytes never leave this module and lib/key: every buffer that
 * held them is wiped before it is freed.  A file's name is its key's
 * RFC 7638 thumbprint (tsr_key_kid), checked on load.
 */
#ifndef TSR_KEYFILE_H
#define TSR_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"

/* Largest key directory path. */
#define TSR_KEYFILE_MAX_PATH	1024
/* tsr_keyfile_list refuses a directory with more key files than this. */
#define TSR_KEYFILE_MAX_FILES	1024

/*
 * Check that dir exists, is a directory owned by us and has no group or
 * world permission bits (TSR_ERR_PERM, like ssh); with create, make it
 * (mode 0700) when missing.  TSR_ERR_INVALID for an empty path or one
 * over TSR_KEYFILE_MAX_PATH; TSR_ERR_NOT_FOUND, TSR_ERR_IO.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_dir_check(const char *dir,
    bool create, struct tsr_why *why);

/*
 * The key directory's lock (flock on the directory itself).  A process
 * that writes a new key file holds it shared from before the write until
 * the row naming the key is committed (or the file removed): many may.
 * Whoever removes orphans (files no row names) takes it exclusive
 * without waiting, so it never removes a file whose row is about to
 * commit; TSR_ERR_CONFLICT when someone holds it.  A crash releases it.
 * *fd is -1 after a failure; tsr_keyfile_unlock(-1) does nothing.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_lock_shared(const char *dir, int *fd,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_keyfile_lock_exclusive(const char *dir,
    int *fd, struct tsr_why *why);
void tsr_keyfile_unlock(int fd);

/* Write key's private half to dir/<kid>.pem atomically, mode 0600.
 * TSR_ERR_EXISTS if the file is already there; TSR_ERR_STATE if key has
 * no private half; dir is checked as by tsr_keyfile_dir_check. */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_save(const struct tsr_key *key,
    const char *dir, struct tsr_why *why);

/*
 * Load dir/<kid>.pem.  Refuses a file that is not a regular file we own
 * with mode 0600 or stricter (TSR_ERR_PERM), is over TSR_KEY_MAX_PEM
 * (TSR_ERR_TOO_LONG), does not parse, or whose thumbprint is not kid
 * (TSR_ERR_CRYPTO).  TSR_ERR_NOT_FOUND when absent; TSR_ERR_INVALID when
 * kid is not a kid.  On success free *out with tsr_key_destroy.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_load(const char *dir, const char *kid,
    struct tsr_key **out, struct tsr_why *why);

/* Overwrite dir/<kid>.pem with zeros, fsync, unlink, fsync the directory.
 * A missing file is TSR_OK (destroying is idempotent). */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_destroy(const char *dir,
    const char *kid, struct tsr_why *why);

/* Seconds since dir/<kid>.pem was written (now - mtime);
 * TSR_ERR_NOT_FOUND when there is no such file. */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_age(const char *dir, const char *kid,
    int64_t now, int64_t *age_s, struct tsr_why *why);

/*
 * The kids of the *.pem files in dir, sorted, as a malloc'd array of
 * malloc'd strings; free with tsr_keyfile_kids_free.  Files whose name
 * is not a kid are ignored.  TSR_ERR_TOO_LONG over TSR_KEYFILE_MAX_FILES.
 */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_list(const char *dir, char ***out,
    size_t *out_n, struct tsr_why *why);
/* NULL-safe. */
void tsr_keyfile_kids_free(char **kids, size_t n);

/*
 * Another private key kept like a signing key (the CA's): dir/<base>.pem,
 * base of [a-z-] only, at most TSR_KEY_MAX_PEM bytes.  save_pem writes
 * it as tsr_keyfile_save does (the directory made 0700 when missing;
 * TSR_ERR_EXISTS for an existing file); load_pem checks it as
 * tsr_keyfile_load does and gives the bytes in *pem, to be wiped and
 * freed with tsr_keyfile_pem_free (NULL-safe).
 */
TSR_MUST_CHECK enum tsr_err tsr_keyfile_save_pem(const char *dir,
    const char *base, const uint8_t *pem, size_t pem_len,
    struct tsr_why *why);
TSR_MUST_CHECK enum tsr_err tsr_keyfile_load_pem(const char *dir,
    const char *base, uint8_t **pem, size_t *pem_len, struct tsr_why *why);
void tsr_keyfile_pem_free(uint8_t *pem);

#endif
