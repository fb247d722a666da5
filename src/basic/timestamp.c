/* SPDX-License-Identifier: Apache-2.0 */
/* The time values of Docker's filters and queries (moby's timetypes.GetTimestamp). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic.h"

static int digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -EINVAL;
		v = v * 10 + (**p - '0');
	}
	*ret = v;
	return 0;
}

/* 2006-01-02, 2006-01-02T15, T15:04, T15:04:05[.999999999], each with Z, ±07:00 or nothing
 * (local time). */
static int parse_date(const char *p, int64_t *ret_ns)
{
	struct tm tm = {0};
	int64_t nsec = 0, off = 0, secs;
	bool zone = false;
	int v;

	if (digits(&p, 4, &v) < 0 || *p++ != '-')
		return -EINVAL;
	tm.tm_year = v - 1900;
	if (digits(&p, 2, &v) < 0 || *p++ != '-' || v < 1 || v > 12)
		return -EINVAL;
	tm.tm_mon = v - 1;
	if (digits(&p, 2, &tm.tm_mday) < 0 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return -EINVAL;
	if (*p == 'T') {
		p++;
		if (digits(&p, 2, &tm.tm_hour) < 0 || tm.tm_hour > 23)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &tm.tm_min) < 0 || tm.tm_min > 59)
				return -EINVAL;
			if (*p == ':') {
				p++;
				if (digits(&p, 2, &tm.tm_sec) < 0 || tm.tm_sec > 60)
					return -EINVAL;
				if (*p == '.') {
					int64_t scale = 100000000;
					p++;
					if (*p < '0' || *p > '9')
						return -EINVAL;
					for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
						nsec += scale * (*p - '0');
				}
			}
		}
	}
	if (*p == 'Z' || *p == 'z') {
		zone = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, h, m;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &m) < 0)
			return -EINVAL;
		zone = true;
		off = sign * (h * 3600 + m * 60);
	}
	if (*p)
		return -EINVAL;
	if (zone) {
		secs = (int64_t)timegm(&tm) - off;
	} else {
		tm.tm_isdst = -1;
		secs = (int64_t)mktime(&tm);
	}
	/* nanoseconds since 1970 fit in 64 bits from 1678 to 2262 */
	if (secs <= INT64_MIN / 1000000000LL || secs >= INT64_MAX / 1000000000LL)
		return -ERANGE;
	*ret_ns = secs * 1000000000LL + nsec;
	return 0;
}

int parse_timestamp(const char *v, int64_t *ret_ns)
{
	int64_t d;
	char *end;

	if (isempty(v))
		return -EINVAL;
	if (!streq(v, "0") && parse_go_duration(v, &d) >= 0) {
		struct timespec now;
		int64_t n;
		clock_gettime(CLOCK_REALTIME, &now);
		n = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
		if (__builtin_sub_overflow(n, d, ret_ns))
			return -ERANGE;
		return 0;
	}
	if (strchr(v, '-'))
		return parse_date(v, ret_ns);
	/* unix seconds, with up to nine decimals */
	errno = 0;
	d = strtoll(v, &end, 10);
	if (end == v || errno || d >= INT64_MAX / 1000000000LL || d <= INT64_MIN / 1000000000LL)
		return -EINVAL;
	*ret_ns = d * 1000000000LL;
	if (*end == '.') {
		int64_t scale = 100000000;
		const char *p = end + 1;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*ret_ns += scale * (*p - '0');
		end = (char *)p;
	}
	return *end ? -EINVAL : 0;
}
