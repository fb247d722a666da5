/* SPDX-License-Identifier: Apache-2.0 */
/* Go's time.Duration as text: ParseDuration and String, as Docker's API and tools write them. */
#include <ctype.h>
#include <inttypes.h>

#include "basic.h"

/* time.quote: '"' and '\\' escaped, bytes outside printable ASCII as \xNN. */
static char *go_quote(const char *s)
{
	size_t n = strlen(s);
	char *q = xnew0(char, n * 4 + 3), *o = q;

	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80 || *p < ' ')
			o += sprintf(o, "\\x%02x", *p);
		else {
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	return q;
}

static int invalid_duration(struct error **err, const char *orig)
{
	_cleanup_free_ char *q = go_quote(orig);
	return error_setx(err, -EINVAL, "time: invalid duration %s", q);
}

/* time.leadingFraction: digits after the point; past 2^63 it stops adding precision. */
static const char *leading_fraction(const char *s, uint64_t *ret_x, double *ret_scale)
{
	uint64_t x = 0;
	double scale = 1;
	bool overflow = false;

	for (; isdigit((unsigned char)*s); s++) {
		if (overflow)
			continue;
		if (x > (UINT64_C(1) << 63) / 10 || x * 10 + (uint64_t)(*s - '0') > UINT64_C(1)
											<< 63) {
			overflow = true;
			continue;
		}
		x = x * 10 + (uint64_t)(*s - '0');
		scale *= 10;
	}
	*ret_x = x;
	*ret_scale = scale;
	return s;
}

/* Go's time.ParseDuration, step for step: integer nanoseconds, a fraction through a double as
 * Go computes it, and Go's overflow limits. */
int parse_go_duration_err(const char *s, int64_t *ret_ns, struct error **err)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {{"ns", 1},	      {"us", 1000},	 {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
		     {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000}};
	const uint64_t max = UINT64_C(1) << 63;
	const char *orig = s;
	uint64_t d = 0;
	bool neg = false;

	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (streq(s, "0")) {
		*ret_ns = 0;
		return 0;
	}
	if (!*s)
		return invalid_duration(err, orig);
	while (*s) {
		uint64_t v = 0, f = 0;
		double scale = 1;
		const char *start = s;
		bool pre, post = false;

		if (*s != '.' && !isdigit((unsigned char)*s))
			return invalid_duration(err, orig);
		for (; isdigit((unsigned char)*s); s++) {
			if (v > max / 10)
				return invalid_duration(err, orig);
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > max)
				return invalid_duration(err, orig);
		}
		pre = s != start;
		if (*s == '.') {
			const char *fs = ++s;
			s = leading_fraction(s, &f, &scale);
			post = s != fs;
		}
		if (!pre && !post)
			return invalid_duration(err, orig);

		size_t ulen = strcspn(s, ".0123456789");
		if (ulen == 0) {
			_cleanup_free_ char *q = go_quote(orig);
			return error_setx(err, -EINVAL, "time: missing unit in duration %s", q);
		}
		uint64_t unit = 0;
		for (size_t i = 0; i < ELEMENTSOF(units); i++)
			if (strlen(units[i].name) == ulen && strncmp(units[i].name, s, ulen) == 0)
				unit = units[i].ns;
		if (!unit) {
			_cleanup_free_ char *u = xstrndup(s, ulen);
			_cleanup_free_ char *qu = go_quote(u), *q = go_quote(orig);
			return error_setx(err, -EINVAL, "time: unknown unit %s in duration %s", qu,
					  q);
		}
		s += ulen;
		if (v > max / unit)
			return invalid_duration(err, orig);
		v *= unit;
		if (f > 0) {
			/* float64 keeps fractions of hours accurate to the nanosecond */
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > max)
				return invalid_duration(err, orig);
		}
		d += v;
		if (d > max)
			return invalid_duration(err, orig);
	}
	if (neg) {
		*ret_ns = (int64_t)(0 - d);
		return 0;
	}
	if (d > max - 1)
		return invalid_duration(err, orig);
	*ret_ns = (int64_t)d;
	return 0;
}

int parse_go_duration(const char *s, int64_t *ret_ns)
{
	return parse_go_duration_err(s, ret_ns, NULL);
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
