#include "pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct tsr_pq tsr_pq;

static const struct {
	const char	*name;
	size_t		 at;
} syms[] = {
#define SYM(m)	{ "PQ" #m, offsetof(struct tsr_pq, m) }
	SYM(connectdbParams), SYM(finish), SYM(status), SYM(errorMessage),
	SYM(socket), SYM(transactionStatus), SYM(setNoticeProcessor),
	SYM(exec), SYM(execParams), SYM(resultStatus), SYM(resultErrorField),
	SYM(ntuples), SYM(getvalue), SYM(getisnull), SYM(getlength),
	SYM(cmdTuples), SYM(cmdStatus), SYM(clear), SYM(consumeInput),
	SYM(notifies), SYM(freemem), SYM(conninfoParse), SYM(conninfoFree),
	SYM(unescapeBytea),
#undef SYM
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failed[200];	/* why loading failed; "" if it did not */

static void
load(void)
{
	void *lib, *fn;
	size_t i;

	/* RTLD_NOW: a symbol missing is known here, not at its first call. */
	if ((lib = dlopen(TSR_PQ_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		(void)snprintf(failed, sizeof(failed), "%s", dlerror());
		return;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if ((fn = dlsym(lib, syms[i].name)) == NULL) {
			(void)snprintf(failed, sizeof(failed), "%s has no %s",
			    TSR_PQ_SONAME, syms[i].name);
			return;
		}
		/* A function pointer from dlsym's object pointer, as POSIX
		 * allows: copied, not cast. */
		memcpy((char *)&tsr_pq + syms[i].at, &fn, sizeof(fn));
	}
	/* The library stays loaded for the life of the process. */
}

enum tsr_err
tsr_pq_load(struct tsr_why *why)
{
	(void)pthread_once(&once, load);
	if (failed[0] != '\0')
		return tsr_err_why(why, TSR_ERR_DB, "cannot load the "
		    "PostgreSQL client library (Debian package libpq5): %s",
		    failed);
	return TSR_OK;
}
