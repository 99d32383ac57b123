/* SPDX-License-Identifier: MIT */
/*
 * Minimal test harness for the unit tests: CHECK() counts, names the
 * failing expression and its line, and check_done() prints the closing
 * "N passed, N failed" line that tests/run.sh sums.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <string.h>

static int check_pass, check_fail;

#define CHECK(cond) \
	do { \
		if (cond) { \
			check_pass++; \
		} else { \
			check_fail++; \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, \
			    __LINE__, #cond); \
		} \
	} while (0)

#define CHECK_STR(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) { \
			check_pass++; \
		} else { \
			check_fail++; \
			fprintf(stderr, \
			    "FAIL %s:%d: %s\n  got:  [%s]\n  want: [%s]\n", \
			    __FILE__, __LINE__, #got, g_ ? g_ : "(null)", \
			    w_ ? w_ : "(null)"); \
		} \
	} while (0)

static inline int
check_done(void)
{
	printf("%d passed, %d failed\n", check_pass, check_fail);
	return check_fail == 0 ? 0 : 1;
}

#endif
