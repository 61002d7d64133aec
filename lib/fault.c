#include "fault.h"

#ifdef TSR_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void
tsr_fault(const char *point)
{
	const char *want = getenv("TSR_FAULT");

	if (want != NULL && strcmp(want, point) == 0)
		raise(SIGKILL);
}
#endif
