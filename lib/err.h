/*
 * err: the one error type of libtessera.
 *
 * Every fallible lib function returns an enum tsr_err (TSR_OK is 0) and,
 * when the reason is worth telling a person, fills an optional
 * struct tsr_why with one line of explanation.  The line never contains a
 * secret (no token, no key material).
 */
#ifndef TSR_ERR_H
#define TSR_ERR_H

#include <stddef.h>

/* One table gives the enum, the names and the messages. */
#define TSR_ERR_TABLE(X)						\
	X(TSR_OK,		"ok")					\
	X(TSR_ERR_NOMEM,	"out of memory")			\
	X(TSR_ERR_INVALID,	"invalid argument")			\
	X(TSR_ERR_TOO_LONG,	"input too long")			\
	X(TSR_ERR_NOT_FOUND,	"not found")				\
	X(TSR_ERR_EXISTS,	"already exists")			\
	X(TSR_ERR_IO,		"input/output error")			\
	X(TSR_ERR_PERM,		"unsafe file permissions")		\
	X(TSR_ERR_DB,		"database error")			\
	X(TSR_ERR_DB_NEWER,	"database is newer than this program")	\
	X(TSR_ERR_CRYPTO,	"cryptographic operation failed")	\
	X(TSR_ERR_MALFORMED,	"malformed token")			\
	X(TSR_ERR_BAD_SIG,	"bad signature")			\
	X(TSR_ERR_CONFLICT,	"changed concurrently")			\
	X(TSR_ERR_STATE,	"operation not allowed in this state")	\
	X(TSR_ERR_CSR,		"malformed certificate request")	\
	X(TSR_ERR_CSR_SIG,	"certificate request signature does not verify") \
	X(TSR_ERR_CSR_SUBJECT,	"certificate request subject is not the client's") \
	X(TSR_ERR_WEAK_KEY,	"key type or size not accepted")

enum tsr_err {
#define TSR_ERR_ENUM(name, msg) name,
	TSR_ERR_TABLE(TSR_ERR_ENUM)
#undef TSR_ERR_ENUM
	TSR_ERR__COUNT
};

#define TSR_ERR_MAX_WHY 256

/* One line for people; msg[0] == '\0' means nothing was said. */
struct tsr_why {
	char msg[TSR_ERR_MAX_WHY];
};

/* Static message of a code ("not found"); never NULL. */
const char *tsr_err_str(enum tsr_err rc);

/* Symbolic name of a code ("TSR_ERR_NOT_FOUND"); never NULL. */
const char *tsr_err_name(enum tsr_err rc);

/*
 * Fill why (may be NULL) with a formatted line, truncated to fit, and
 * return rc, so a failure reads: return tsr_err_why(why, rc, "...", ...);
 * An earlier, more precise line is kept: only an empty why is written.
 */
enum tsr_err tsr_err_why(struct tsr_why *why, enum tsr_err rc,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Empty why (may be NULL). */
void tsr_err_clear(struct tsr_why *why);

/* why's line if set, else the code's message. */
const char *tsr_err_text(const struct tsr_why *why, enum tsr_err rc);

#define TSR_MUST_CHECK __attribute__((warn_unused_result))

#endif
