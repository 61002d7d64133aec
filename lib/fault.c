#include "fault.h"

#ifdef TSR_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
tsr_fault(const char *point)
{
	const char *want = getenv("TSR_FAULT");

	if (want != NULL && strcmp(want, point) == 0)
		raise(SIGKILL);
}

bool
tsr_fault_store_down(void)
{
	const char *path = getenv("TSR_FAULT_STORE_DOWN_FILE");

	return path != NULL && *path != '\0' && access(path, F_OK) == 0;
}
#endif
