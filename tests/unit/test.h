/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny unit-test harness. Each test binary lists its tests in main() with
 * RUN(name); each prints "ok - name" or "not ok - name" (TAP-like), and the
 * binary ends with "N passed, N failed" and exits non-zero on any failure.
 */
#ifndef BERTH_TEST_H
#define BERTH_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_ = 0;
static int tests_passed_ = 0, tests_failed_ = 0;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			test_failures_++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STREQ(a, b)                                                                          \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			fprintf(stderr, "  %s:%d: '%s' != '%s'\n", __FILE__, __LINE__,             \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");                           \
			test_failures_++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__,          \
				__LINE__, #a, a_, b_);                                             \
			test_failures_++;                                                          \
		}                                                                                  \
	} while (0)

#define RUN(name)                                                                                  \
	do {                                                                                       \
		int before_ = test_failures_;                                                      \
		name();                                                                            \
		if (test_failures_ == before_) {                                                   \
			tests_passed_++;                                                           \
			printf("ok - %s\n", #name);                                                \
		} else {                                                                           \
			tests_failed_++;                                                           \
			printf("not ok - %s\n", #name);                                            \
		}                                                                                  \
		fflush(stdout);                                                                    \
	} while (0)

#define TEST_SUMMARY()                                                                             \
	({                                                                                         \
		printf("%d passed, %d failed\n", tests_passed_, tests_failed_);                    \
		tests_failed_ ? 1 : 0;                                                             \
	})

#endif
