/*
 * refuse: the store's refusals, worded once for every engine, and the
 * quoting of a value inside them.
 */
#ifndef TSR_STORE_REFUSE_H
#define TSR_STORE_REFUSE_H

#include "err.h"

/* Room for a quoted, escaped, shortened value in a why line. */
#define TSR_REFUSE_SHOW_MAX	40
#define TSR_REFUSE_SHOW_BUF	(TSR_REFUSE_SHOW_MAX * 4 + 4)

/* s cut to TSR_REFUSE_SHOW_MAX characters, every byte outside printable
 * ASCII (and " and \\) as \\xNN, in buf; "(null)" for NULL. */
const char *tsr_refuse_show(const char *s, char buf[TSR_REFUSE_SHOW_BUF]);

/* TSR_ERR_NOT_FOUND, saying what is missing. */
enum tsr_err tsr_refuse_no_client(const char *name, struct tsr_why *why);
enum tsr_err tsr_refuse_no_key(const char *kid, struct tsr_why *why);
enum tsr_err tsr_refuse_no_cert(const char *serial, struct tsr_why *why);

#endif
