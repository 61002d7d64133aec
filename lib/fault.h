/*
 * fault: named crash points for the crash-safety tests.
 *
 * In a build with -Dtest_hooks=true, tsr_fault("rotate.before_commit")
 * kills the process at once (SIGKILL, as a power cut would) when the
 * environment variable TSR_FAULT names that point; otherwise, and in every
 * build without test hooks, it does nothing.
 */
#ifndef TSR_FAULT_H
#define TSR_FAULT_H

#ifdef TSR_TEST_HOOKS
void tsr_fault(const char *point);
#else
#define tsr_fault(point) ((void)0)
#endif

#endif
