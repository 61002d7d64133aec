/*
 * form: application/x-www-form-urlencoded bodies (WHATWG URL §5, as
 * RFC 6749 §3.2 uses them), parsed strictly: a malformed percent-escape,
 * a NUL byte, bytes that are not UTF-8 or a parameter given twice make the
 * whole body invalid (RFC 6749 §3.1: parameters MUST NOT repeat).
 */
#ifndef TSR_DAEMON_FORM_H
#define TSR_DAEMON_FORM_H

#include <stdbool.h>
#include <stddef.h>

#define FORM_MAX_BODY	4096	/* body at most 4 KiB */
#define FORM_MAX_PARAMS	16

struct form_param {
	const char	*name;		/* decoded, NUL-terminated */
	const char	*value;
};

struct form {
	/* Decoding never grows a segment; each parameter adds at most a
	 * NUL for a missing '=' and one more for its end. */
	char			buf[FORM_MAX_BODY + 2 * FORM_MAX_PARAMS + 2];
	struct form_param	p[FORM_MAX_PARAMS];
	size_t			n;
};

/* Parse body[0..len) (len <= FORM_MAX_BODY) into f.  false when invalid;
 * why (may be NULL) then names the problem for the audit trail. */
bool form_parse(struct form *f, const char *body, size_t len,
    const char **why);

/* The value of name, or NULL when absent.  Borrowed from f. */
const char *form_get(const struct form *f, const char *name);

#endif
