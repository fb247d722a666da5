/* SPDX-License-Identifier: Apache-2.0 */
/* Go's time.Duration as text: ParseDuration and String, as Docker's API and tools write them. */
#include <ctype.h>
#include <inttypes.h>

#include "basic.h"

int parse_go_duration(const char *s, int64_t *ret_ns)
{
	const char *p = s;
	double total = 0;
	int sign = 1;

	if (*p == '-' || *p == '+') {
		sign = *p == '-' ? -1 : 1;
		p++;
	}
	if (streq(p, "0")) {
		*ret_ns = 0;
		return 0;
	}
	if (!*p)
		return -EINVAL;
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
		errno = 0;
		double v = strtod(p, &end);
		if (errno || end == p)
			return -EINVAL;
		p = end;
		double unit;
		if (startswith(p, "ns")) {
			unit = 1;
			p += 2;
		} else if (startswith(p, "us")) {
			unit = 1e3;
			p += 2;
		} else if (startswith(p, "µs")) {
			unit = 1e3;
			p += strlen("µs");
		} else if (startswith(p, "ms")) {
			unit = 1e6;
			p += 2;
		} else if (*p == 's') {
			unit = 1e9;
			p++;
		} else if (*p == 'm') {
			unit = 60e9;
			p++;
		} else if (*p == 'h') {
			unit = 3600e9;
			p++;
		} else
			return -EINVAL;
		total += v * unit;
	}
	if (total > 9.2e18)
		return -ERANGE;
	*ret_ns = (int64_t)sign * (int64_t)total;
	return 0;
}

/* ".5", ".25", "" for 0: the fraction v of digits places, without trailing zeros. */
static void frac(char *buf, size_t n, uint64_t v, int digits)
{
	int len;
	if (!v) {
		buf[0] = 0;
		return;
	}
	len = snprintf(buf, n, ".%0*" PRIu64, digits, v);
	while (len > 1 && buf[len - 1] == '0')
		buf[--len] = 0;
}

char *format_go_duration(int64_t ns)
{
	const char *sign = ns < 0 ? "-" : "";
	uint64_t u = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	char f[16];

	if (u == 0)
		return xstrdup("0s");
	if (u < 1000)
		return xasprintf("%s%" PRIu64 "ns", sign, u);
	if (u < 1000000) {
		frac(f, sizeof(f), u % 1000, 3);
		return xasprintf("%s%" PRIu64 "%sµs", sign, u / 1000, f);
	}
	if (u < 1000000000) {
		frac(f, sizeof(f), u % 1000000, 6);
		return xasprintf("%s%" PRIu64 "%sms", sign, u / 1000000, f);
	}
	frac(f, sizeof(f), u % 1000000000, 9);
	u /= 1000000000;
	if (u < 60)
		return xasprintf("%s%" PRIu64 "%ss", sign, u, f);
	if (u < 3600)
		return xasprintf("%s%" PRIu64 "m%" PRIu64 "%ss", sign, u / 60, u % 60, f);
	return xasprintf("%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", sign, u / 3600, u / 60 % 60,
			 u % 60, f);
}
