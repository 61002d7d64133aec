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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
