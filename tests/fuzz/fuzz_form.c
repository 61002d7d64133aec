/*
 * fuzz_form: form_parse and form_get (server/daemon/form.c, linked as
 * the form library) on token, revoke and introspect request bodies.
 *
 * Properties: a body over FORM_MAX_BODY is refused; a failure says why;
 * on success there are at most FORM_MAX_PARAMS parameters, each name and
 * value a NUL-terminated string inside f.buf, names distinct, and
 * form_get finds each value by its name.
 */
#include <stdbool.h>
#include <string.h>

#include "form.h"
#include "fuzz.h"

static bool
in_buf(const struct form *f, const char *s)
{
	const char *end = f->buf + sizeof(f->buf);

	return s >= f->buf && s < end &&
	    memchr(s, '\0', (size_t)(end - s)) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f;
	const char *why = NULL;
	size_t i, j;

	memset(&f, 0xa5, sizeof(f));	/* no help from a zeroed buffer */
	if (!form_parse(&f, (const char *)data, size, &why)) {
		FUZZ_ASSERT(why != NULL && why[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(size <= FORM_MAX_BODY);
	FUZZ_ASSERT(f.n <= FORM_MAX_PARAMS);
	for (i = 0; i < f.n; i++) {
		FUZZ_ASSERT(in_buf(&f, f.p[i].name));
		FUZZ_ASSERT(in_buf(&f, f.p[i].value));
		FUZZ_ASSERT(form_get(&f, f.p[i].name) == f.p[i].value);
		for (j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(f.p[i].name, f.p[j].name) != 0);
	}
	/* A name only "%01" or a raw 0x01 byte can give. */
	if (memchr(data, '%', size) == NULL && memchr(data, 1, size) == NULL)
		FUZZ_ASSERT(form_get(&f, "\x01") == NULL);
	/* The same body again parses the same way (no hidden state). */
	FUZZ_ASSERT(form_parse(&f, (const char *)data, size, NULL));
	return 0;
}
