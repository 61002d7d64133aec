/*
 * check.h: a tiny TAP producer for unit tests.  Every CHECK is one TAP
 * line; a failing one prints the expression and both values.
 *
 *	CHECK_INT(tsr_duration_parse("5m", &s, NULL), TSR_OK);
 *	CHECK_STR(buf, "5m");
 *	return check_done();
 */
#ifndef TSR_CHECK_H
#define TSR_CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_n, check_failed;

static inline void
check_report(int ok, const char *file, int line, const char *expr)
{
	check_n++;
	if (!ok)
		check_failed++;
	printf("%sok %d - %s:%d %s\n", ok ? "" : "not ", check_n, file, line,
	    expr);
}

#define CHECK(cond) check_report(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_INT(a, b) do {						\
	long long check_a_ = (long long)(a), check_b_ = (long long)(b);	\
	check_report(check_a_ == check_b_, __FILE__, __LINE__,		\
	    #a " == " #b);						\
	if (check_a_ != check_b_)					\
		printf("#   got %lld, want %lld\n", check_a_, check_b_);	\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *check_a_ = (a), *check_b_ = (b);			\
	int check_ok_ = check_a_ != NULL && check_b_ != NULL &&		\
	    strcmp(check_a_, check_b_) == 0;				\
	check_report(check_ok_, __FILE__, __LINE__, #a " == " #b);	\
	if (!check_ok_)							\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    check_a_ ? check_a_ : "(null)",			\
		    check_b_ ? check_b_ : "(null)");			\
} while (0)

#define CHECK_MEM(a, b, len) do {					\
	int check_ok_ = memcmp((a), (b), (len)) == 0;			\
	check_report(check_ok_, __FILE__, __LINE__,			\
	    "memcmp(" #a ", " #b ", " #len ") == 0");			\
} while (0)

/* Print the plan and return the exit status for main(). */
static inline int
check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}

#endif
