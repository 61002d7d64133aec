#include "refuse.h"

#include <stdio.h>

/*
 * Names reach the store already validated by policy.c, but the store has
 * other callers: never let a value put a newline or a megabyte into a
 * why line.
 */
const char *
tsr_refuse_show(const char *s, char buf[TSR_REFUSE_SHOW_BUF])
{
	size_t i, o = 0;
	unsigned char c;

	if (s == NULL)
		return "(null)";
	for (i = 0; s[i] != '\0' && i < TSR_REFUSE_SHOW_MAX; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, TSR_REFUSE_SHOW_BUF - o,
			    "\\x%02x", c);
	}
	if (s[i] != '\0')
		o += (size_t)snprintf(buf + o, TSR_REFUSE_SHOW_BUF - o, "...");
	buf[o] = '\0';
	return buf;
}

enum tsr_err
tsr_refuse_no_client(const char *name, struct tsr_why *why)
{
	char b[TSR_REFUSE_SHOW_BUF];

	return tsr_err_why(why, TSR_ERR_NOT_FOUND, "no client \"%s\"",
	    tsr_refuse_show(name, b));
}

enum tsr_err
tsr_refuse_no_key(const char *kid, struct tsr_why *why)
{
	char b[TSR_REFUSE_SHOW_BUF];

	return tsr_err_why(why, TSR_ERR_NOT_FOUND, "no signing key \"%s\"",
	    tsr_refuse_show(kid, b));
}

enum tsr_err
tsr_refuse_no_cert(const char *serial, struct tsr_why *why)
{
	char b[TSR_REFUSE_SHOW_BUF];

	return tsr_err_why(why, TSR_ERR_NOT_FOUND, "no certificate %s",
	    tsr_refuse_show(serial, b));
}
