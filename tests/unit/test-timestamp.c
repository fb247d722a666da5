/* SPDX-License-Identifier: Apache-2.0 */
/* src/basic/timestamp.c: the time values of Docker's filters (moby's GetTimestamp). */
#include <stdlib.h>
#include <time.h>

#include "basic/basic.h"
#include "test.h"

static int64_t ts(const char *v)
{
	int64_t ns = 0;
	return parse_timestamp(v, &ns) < 0 ? -1 : ns;
}

static int64_t now_ns_(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void test_unix_seconds(void)
{
	CHECK_INT(ts("0"), 0);
	CHECK_INT(ts("1700000000"), 1700000000LL * 1000000000LL);
	CHECK_INT(ts("1700000000.5"), 1700000000LL * 1000000000LL + 500000000);
	CHECK_INT(ts("1700000000.000000001"), 1700000000LL * 1000000000LL + 1);
	CHECK_INT(ts("1700000000."), -1);
	CHECK_INT(ts("17x"), -1);
	CHECK_INT(ts(""), -1);
	CHECK_INT(ts("99999999999999999999"), -1);
}

static void test_rfc3339(void)
{
	CHECK_INT(ts("2001-02-03T04:05:06Z"), 981173106LL * 1000000000LL);
	CHECK_INT(ts("2001-02-03T04:05:06.25Z"), 981173106LL * 1000000000LL + 250000000);
	CHECK_INT(ts("2001-02-03T06:05:06+02:00"), 981173106LL * 1000000000LL);
	CHECK_INT(ts("2001-02-03T04:05Z"), 981173100LL * 1000000000LL);
	CHECK_INT(ts("2001-02-03Z"), 981158400LL * 1000000000LL);
	CHECK_INT(ts("2001-13-03T04:05:06Z"), -1);
	CHECK_INT(ts("2001-02-03T04:05:06"), ts("2001-02-03T04:05:06")); /* local time */
	CHECK(ts("2001-02-03") > 0);
	CHECK_INT(ts("2001-02-03T"), -1);
	CHECK_INT(ts("2001-02-03T04:05:06+0200"), -1);
	CHECK_INT(ts("2001-02-03T04:05:06Zjunk"), -1);
	CHECK_INT(ts("2800-10-20"), -1); /* past 2262: no 64-bit nanoseconds (fuzz) */
	CHECK_INT(ts("1600-10-20Z"), -1);
}

static void test_durations(void)
{
	int64_t now = now_ns_(), h = ts("1h"), mixed = ts("1h30m"), frac = ts("1.5h"), ms;
	CHECK(h >= now - 3600LL * 1000000000LL && h < now - 3590LL * 1000000000LL);
	CHECK(mixed - frac < 5000000000LL && frac - mixed < 5000000000LL);
	ms = ts("300ms");
	CHECK(ms <= now_ns_() - 300000000LL);
	CHECK(ts("-10m") > now); /* ten minutes ahead */
	CHECK(ts("0s") >= now);
	CHECK_INT(ts("10"), 10LL * 1000000000LL); /* a number alone is unix seconds */
	CHECK_INT(ts("1x"), -1);
	CHECK_INT(ts("h"), -1);
	CHECK_INT(ts("1h-"), -1);
	CHECK_INT(ts("-2562047h"), -1); /* now + that overflows */
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	RUN(test_unix_seconds);
	RUN(test_rfc3339);
	RUN(test_durations);
	return TEST_SUMMARY();
}
