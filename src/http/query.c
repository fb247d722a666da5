/* SPDX-License-Identifier: Apache-2.0 */
/* Percent-decoding and query strings (application/x-www-form-urlencoded). */
#include <strings.h>

#include "http/internal.h"

static int unhex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

char *http_url_decode(const char *s, size_t len, bool form)
{
	_cleanup_free_ char *d = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '%') {
			int hi, lo;

			if (len - i < 3)
				return NULL;
			hi = unhex(s[i + 1]);
			lo = unhex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			ch = (char)(hi << 4 | lo);
			i += 2;
		} else if (ch == '+' && form) {
			ch = ' ';
		}
		/* an embedded NUL would cut the C string short: refuse it */
		if (ch == '\0')
			return NULL;
		d[o++] = ch;
	}
	d[o] = 0;
	return TAKE_PTR(d);
}

char *http_query_get(const char *query, const char *name)
{
	const char *p = query;

	if (!p || !name)
		return NULL;
	while (*p) {
		const char *amp = strchrnul(p, '&');
		const char *eq = memchr(p, '=', amp - p);
		const char *kend = eq ? eq : amp;
		_cleanup_free_ char *key = NULL;

		if (kend > p) {
			key = http_url_decode(p, kend - p, true);
			if (key && streq(key, name)) {
				char *v =
				    eq ? http_url_decode(eq + 1, amp - eq - 1, true) : xstrdup("");
				/* an undecodable value counts as absent, as in Go's ParseQuery */
				if (v)
					return v;
			}
		}
		p = *amp ? amp + 1 : amp;
	}
	return NULL;
}

bool http_query_bool(const char *query, const char *name, bool def)
{
	_cleanup_free_ char *v = http_query_get(query, name);
	const char *s;
	size_t l;

	if (!v)
		return def;
	/* moby's httputils.BoolValue: trimmed, lowercased, these are false */
	s = v;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
		s++;
	l = strlen(s);
	while (l > 0 && strchr(" \t\n\r\v\f", s[l - 1]))
		l--;
	if (l == 0)
		return false;
	if ((l == 1 && s[0] == '0') || (l == 2 && strncasecmp(s, "no", 2) == 0) ||
	    (l == 4 && strncasecmp(s, "none", 4) == 0) ||
	    (l == 5 && strncasecmp(s, "false", 5) == 0))
		return false;
	return true;
}

int http_query_int(const char *query, const char *name, int64_t def, int64_t *ret)
{
	_cleanup_free_ char *v = http_query_get(query, name);
	const char *p;
	int64_t x = 0;
	int r;

	if (isempty(v)) {
		*ret = def;
		return 0;
	}
	p = v[0] == '-' || v[0] == '+' ? v + 1 : v;
	if (*p < '0' || *p > '9') /* strtoll would skip spaces */
		return -EINVAL;
	r = safe_atoi64(v, &x);
	if (r < 0)
		return -EINVAL;
	*ret = x;
	return 0;
}
