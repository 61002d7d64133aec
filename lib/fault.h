/*
 * fault: named crash points and a switchable store outage for the
 * crash-safety and degraded-mode tests.
 *
 * In a build with -Dtest_hooks=true, tsr_fault("rotate.before_commit")
 * kills the process at once (SIGKILL, as a power cut would) when the
 * environment variable TSR_FAULT names that point, and
 * tsr_fault_store_down() is true while the file named by the environment
 * variable TSR_FAULT_STORE_DOWN_FILE exists: every store operation then
 * fails as if the database were unreachable, so a test can take the store
 * away from a running server and give it back.  In every build without
 * test hooks both do nothing.
 */
#ifndef TSR_FAULT_H
#define TSR_FAULT_H

#include <stdbool.h>

#ifdef TSR_TEST_HOOKS
void tsr_fault(const char *point);
bool tsr_fault_store_down(void);
#else
#define tsr_fault(point) ((void)0)
#define tsr_fault_store_down() false
#endif

#endif
