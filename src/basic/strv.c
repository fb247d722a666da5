/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <limits.h>

#include "basic.h"

void strv_free(char **l)
{
	if (!l)
		return;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

size_t strv_length(char *const *l)
{
	size_t n = 0;
	if (l)
		while (l[n])
			n++;
	return n;
}

char **strv_append(char **l, const char *s)
{
	size_t n = strv_length(l);
	l = xrealloc(l, sizeof(char *) * (n + 2));
	l[n] = xstrdup(s);
	l[n + 1] = NULL;
	return l;
}

char **strv_copy(char *const *l)
{
	size_t n = strv_length(l);
	char **c = xnew0(char *, n + 1);
	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(l[i]);
	return c;
}

bool strv_contains(char *const *l, const char *s)
{
	if (l)
		for (; *l; l++)
			if (streq(*l, s))
				return true;
	return false;
}

bool endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int safe_atoi64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	if (isempty(s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int safe_atou64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (isempty(s) || *s == '-' || *s == ' ' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int safe_atoi(const char *s, int *ret)
{
	int64_t v = 0;
	int r = safe_atoi64(s, &v);
	if (r < 0)
		return r;
	if (v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	*ret = (int)v;
	return 0;
}
