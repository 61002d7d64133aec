/*
 * fuzz.h: the one entry point every fuzz target defines (libFuzzer's
 * LLVMFuzzerTestOneInput), and a check that aborts, so that a broken
 * property is a crash both under libFuzzer and in the corpus replay.
 *
 * A target must not leak, must not keep state between inputs except
 * what it sets up once, and returns 0.
 */
#ifndef TSR_FUZZ_H
#define TSR_FUZZ_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * Two files in one input, for targets that load a pair (a CA bundle and
 * a CRL, a CA bundle and a certificate): the bytes before the first
 * FUZZ_SEP and those after it.  Each is copied into a buffer of its
 * own, with a NUL after it as the server reads a file, so an over-read
 * of one is not hidden by the other.  No separator: all of it is the
 * first file and the second is empty.  Free both; false if out of memory.
 */
#define FUZZ_SEP	"\n%%\n"

static inline bool
fuzz_split(const uint8_t *data, size_t size, char **a, size_t *a_len,
    char **b, size_t *b_len)
{
	const uint8_t *sep;
	size_t sep_len = sizeof(FUZZ_SEP) - 1;

	sep = memmem(data, size, FUZZ_SEP, sep_len);
	*a_len = sep != NULL ? (size_t)(sep - data) : size;
	*b_len = sep != NULL ? size - *a_len - sep_len : 0;
	*a = malloc(*a_len + 1);
	*b = malloc(*b_len + 1);
	if (*a == NULL || *b == NULL) {
		free(*a);
		free(*b);
		return false;
	}
	memcpy(*a, data, *a_len);
	(*a)[*a_len] = '\0';
	if (*b_len > 0)
		memcpy(*b, sep + sep_len, *b_len);
	(*b)[*b_len] = '\0';
	return true;
}

/* A target's whole entry point for a pair of files: split data, then
 * run(first, second), both as gnutls_datum_t (the target includes
 * gnutls.h), unless either is longer than max: the server reads no such
 * file. */
#define FUZZ_PAIR(data, size, max, run) do {				\
	char *fa_, *fb_;						\
	size_t fa_len_, fb_len_;					\
									\
	if (!fuzz_split(data, size, &fa_, &fa_len_, &fb_, &fb_len_))	\
		return 0;						\
	if (fa_len_ <= (max) && fb_len_ <= (max)) {			\
		gnutls_datum_t a_ = { (unsigned char *)fa_,		\
		    (unsigned int)fa_len_ };				\
		gnutls_datum_t b_ = { (unsigned char *)fb_,		\
		    (unsigned int)fb_len_ };				\
		run(&a_, &b_);						\
	}								\
	free(fa_);							\
	free(fb_);							\
	return 0;							\
} while (0)

#endif
