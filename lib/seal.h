/*
 * seal: private keys sealed under key-encryption keys (KEKs), so that
 * replicas without a shared disk can keep signing keys in a shared
 * database without the database ever holding one in clear.
 *
 * A KEK file holds exactly 32 raw random bytes (no text, no newline), is
 * a regular file owned by us, and has no group or other permission bits
 * (mode 0600 or stricter), or it is refused.  A KEK list is
 * "FILE[,FILE...]": the first KEK seals, every KEK unseals, so a KEK is
 * rotated by listing the new one first and sealing everything again.
 *
 * A sealed value is AES-256-GCM (NIST SP 800-38D) with a 96-bit random
 * nonce and the caller's AAD (for a signing key, its kid, so a sealed key
 * cannot be moved to another kid's row).  Stored as unpadded base64url
 * (RFC 4648 §5) text of:
 *
 *	offset	length	field
 *	0	1	version, TSR_SEAL_VERSION (1)
 *	1	8	KEK id: the first 8 bytes of SHA-256(KEK)
 *	9	12	nonce
 *	21	n	ciphertext (n = plaintext length)
 *	21+n	16	GCM tag
 *
 * The KEK id only picks which KEK of the list to try; it reveals nothing
 * usable about the KEK.  No function here puts key material, plaintext
 * or a KEK id into a struct tsr_why line; every buffer that held a KEK or
 * plaintext is wiped before it is freed.
 */
#ifndef TSR_SEAL_H
#define TSR_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TSR_SEAL_KEK_LEN	32	/* AES-256 */
#define TSR_SEAL_KEK_ID_LEN	8
#define TSR_SEAL_NONCE_LEN	12	/* GCM's 96-bit IV */
#define TSR_SEAL_TAG_LEN	16
#define TSR_SEAL_VERSION	1
/* Bytes of a sealed blob around the ciphertext. */
#define TSR_SEAL_OVERHEAD	(1 + TSR_SEAL_KEK_ID_LEN + TSR_SEAL_NONCE_LEN + \
				 TSR_SEAL_TAG_LEN)

/* Most KEK files in one list. */
#define TSR_SEAL_MAX_KEKS	8
/* Longest KEK file path, and longest whole list. */
#define TSR_SEAL_MAX_PATH	1024
#define TSR_SEAL_MAX_LIST	4096
/* Largest plaintext (an RSA-4096 PKCS #8 PEM is about 3.3 KiB). */
#define TSR_SEAL_MAX_PLAIN	65536
/* Longest AAD. */
#define TSR_SEAL_MAX_AAD	256
/* Longest sealed text, without the NUL. */
#define TSR_SEAL_MAX_TEXT	(((TSR_SEAL_MAX_PLAIN + TSR_SEAL_OVERHEAD) \
				  / 3 + 1) * 4)

/* The loaded KEKs, in list order; opaque because it holds secrets. */
struct tsr_seal_keks;

/*
 * Load every KEK of list ("FILE[,FILE...]", no empty element, at most
 * TSR_SEAL_MAX_KEKS).  TSR_ERR_PERM for a file that is not a regular
 * file owned by us or has group/other mode bits (the line names the file
 * and its mode); TSR_ERR_INVALID for a file that is not exactly
 * TSR_SEAL_KEK_LEN bytes, a KEK listed twice, or a malformed list;
 * TSR_ERR_NOT_FOUND, TSR_ERR_IO.  On success free *out with
 * tsr_seal_keks_destroy.
 */
TSR_MUST_CHECK enum tsr_err tsr_seal_keks_load(const char *list,
    struct tsr_seal_keks **out, struct tsr_why *why);

/* Wipe and free; NULL-safe. */
void tsr_seal_keks_destroy(struct tsr_seal_keks *keks);

/* How many KEKs were loaded (at least 1). */
size_t tsr_seal_keks_count(const struct tsr_seal_keks *keks);

/*
 * Write a new KEK of TSR_SEAL_KEK_LEN random bytes to path, mode 0600,
 * atomically (a temp file in the same directory, fsync, rename that never
 * replaces, fsync of the directory).  TSR_ERR_EXISTS if path exists (an
 * existing KEK is never overwritten: data sealed under it would be lost);
 * TSR_ERR_INVALID for an empty or too long path; TSR_ERR_IO.
 */
TSR_MUST_CHECK enum tsr_err tsr_seal_kek_generate(const char *path,
    struct tsr_why *why);

/*
 * Seal plain[0..plain_len) under the first KEK, binding aad (a NUL-
 * terminated string of 1..TSR_SEAL_MAX_AAD printable ASCII characters,
 * such as a kid).  *out gets the
 * malloc'd NUL-terminated base64url text; free() it (it holds no secret).
 * TSR_ERR_TOO_LONG over TSR_SEAL_MAX_PLAIN; TSR_ERR_INVALID for a bad
 * aad; TSR_ERR_CRYPTO if no random nonce could be had; TSR_ERR_NOMEM.
 */
TSR_MUST_CHECK enum tsr_err tsr_seal_wrap(const struct tsr_seal_keks *keks,
    const char *aad, const uint8_t *plain, size_t plain_len, char **out,
    struct tsr_why *why);

/*
 * Unseal text (as tsr_seal_wrap made it) with whichever loaded KEK it
 * names, checking the tag in constant time against aad.  On success
 * *plain is malloc'd with one spare NUL byte after *plain_len bytes (so
 * a PEM can be parsed as a string); free it with tsr_seal_plain_free.
 * TSR_ERR_MALFORMED for text that is not a sealed blob of a known
 * version; TSR_ERR_CRYPTO when no loaded KEK is the one named, or the
 * tag does not verify (wrong KEK, wrong aad, altered text): the line
 * says "sealed key for <aad> cannot be unsealed with the given
 * key-encryption keys" and nothing more.
 */
TSR_MUST_CHECK enum tsr_err tsr_seal_unwrap(const struct tsr_seal_keks *keks,
    const char *aad, const char *text, uint8_t **plain, size_t *plain_len,
    struct tsr_why *why);

/* Wipe plain_len bytes (and the spare NUL) and free; NULL-safe. */
void tsr_seal_plain_free(uint8_t *plain, size_t plain_len);

/*
 * Whether text is sealed under the first KEK, i.e. needs no resealing
 * after a KEK rotation.  false for malformed text.  Checks only the KEK
 * id, not the tag.
 */
bool tsr_seal_is_current(const struct tsr_seal_keks *keks, const char *text);

/*
 * AES-256-GCM with an explicit nonce, the primitive under tsr_seal_wrap:
 * encrypt (or, with decrypt, decrypt) in[0..len) into out (may equal in)
 * and write the tag.  Exposed so the known-answer tests can prove it
 * against published vectors; everything else uses wrap/unwrap, which
 * never reuse a nonce.
 */
void tsr_seal_gcm(const uint8_t key[TSR_SEAL_KEK_LEN],
    const uint8_t nonce[TSR_SEAL_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[TSR_SEAL_TAG_LEN], bool decrypt);

#endif
