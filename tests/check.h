/* check: the tiny assertion layer of the C tests.  A test program calls
 * CHECK/CHECK_CLOSE as often as it likes, every failure is printed with its
 * location, and check_done() turns the count into the exit status (0 = all
 * passed).  Tolerances are always explicit. */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		check_count++;                                              \
		if (!(cond)) {                                              \
			check_failures++;                                   \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, \
				__LINE__, #cond);                           \
			fprintf(stderr, __VA_ARGS__);                       \
			fprintf(stderr, "\n");                              \
		}                                                           \
	} while (0)

/* |a - b| <= tol, NaN fails */
#define CHECK_CLOSE(a, b, tol, what)                                        \
	do {                                                                \
		double check_a_ = (a), check_b_ = (b);                      \
		CHECK(fabs(check_a_ - check_b_) <= (tol),                   \
		      "%s: %.12g vs %.12g (diff %.3g > %.3g)", (what),      \
		      check_a_, check_b_, fabs(check_a_ - check_b_),        \
		      (double)(tol));                                       \
	} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count,
	       check_failures);
	return check_failures ? 1 : 0;
}

/* A kernel call that must succeed (returns KZ_OK = 0): otherwise the
 * failure is counted with the kernel's message -- the test file's `err`
 * buffer, in scope where OK is used -- and the program ends, since what
 * follows would use the missing result. */
#define OK(call)                                                            \
	do {                                                                \
		int rc_ = (call);                                           \
		CHECK(rc_ == 0, "%s -> %d: %s", #call, rc_, err);           \
		if (rc_)                                                    \
			exit(check_done(__FILE__));                         \
	} while (0)

/* A kernel call that must fail with a message in the test file's `err`
 * (a negative kernel error code and a non-empty err). */
#define FAILS(call)                                                         \
	do {                                                                \
		err[0] = 0;                                                 \
		int rc_ = (call);                                           \
		CHECK(rc_ < 0 && err[0], "%s should fail (rc %d)", #call,   \
		      rc_);                                                 \
	} while (0)

#endif
