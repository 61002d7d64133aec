/*
 * esc: text from outside (a request, a token, the database) made safe to
 * print for a human.  Every byte outside printable ASCII (0x20-0x7e),
 * which includes the escape sequences a terminal obeys and the newline
 * that would forge a second log or table line, and the backslash, which
 * would make an escape ambiguous, is written as \xNN or \\.
 */
#ifndef TSR_ESC_H
#define TSR_ESC_H

#include <stddef.h>

/* Room for any escape of n bytes, with the NUL. */
#define TSR_ESC_BUF(n)	(4 * (n) + 1)

/*
 * Escape the NUL-terminated s (NULL reads as "") into buf of size len
 * (at least 1).  Never splits an escape: when buf is too small the text
 * ends before the escape that does not fit.  Returns buf.
 */
const char *tsr_esc(const char *s, char *buf, size_t len);

#endif
