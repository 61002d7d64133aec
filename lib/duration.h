/*
 * duration: parse and print durations written as a positive integer and
 * one unit: "90s", "5m", "24h", "7d".
 */
#ifndef TSR_DURATION_H
#define TSR_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Longest duration accepted: 100 years, far below INT64 overflow. */
#define TSR_DURATION_MAX_S	(100LL * 366 * 86400)
/* Longest text accepted, "3660000d" and then some. */
#define TSR_DURATION_MAX_TEXT	24
/* Room for any formatted duration, NUL included. */
#define TSR_DURATION_BUF	24

/*
 * Parse text into seconds.  Rejects empty text, signs, spaces, a missing
 * or unknown unit, zero, and anything over TSR_DURATION_MAX_S:
 * TSR_ERR_INVALID or TSR_ERR_TOO_LONG with a line in why.
 */
TSR_MUST_CHECK enum tsr_err tsr_duration_parse(const char *text,
    int64_t *out_s, struct tsr_why *why);

/*
 * Write s (>= 0) with the largest unit that divides it exactly:
 * 300 -> "5m", 90 -> "90s", 86400 -> "1d".  buf holds TSR_DURATION_BUF.
 */
void tsr_duration_format(int64_t s, char buf[TSR_DURATION_BUF]);

#endif
