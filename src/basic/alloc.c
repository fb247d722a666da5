/* SPDX-License-Identifier: Apache-2.0 */
#include "basic.h"

static _noreturn_ void oom(void)
{
	static const char msg[] = "berth: out of memory\n";
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	/* memchr, not strndup: s need not be NUL-terminated after n bytes (request buffers),
	 * and ASan's strict string checks read strndup's source as a C string. */
	const char *nul = memchr(s, 0, n);
	size_t len = nul ? (size_t)(nul - s) : n;
	char *p = malloc(len + 1);
	if (!p)
		oom();
	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	va_end(ap);
	return p;
}
