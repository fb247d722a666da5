/* SPDX-License-Identifier: Apache-2.0 */
#include "basic.h"

_printf_(4, 0) static int error_vset(struct error **err, int code, bool with_errno, const char *fmt,
				     va_list ap)
{
	int c = code < 0 ? -code : code;
	char *m;

	if (!err || *err)
		return -c;
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	if (m && with_errno && c) {
		char *n = xasprintf("%s: %s", m, strerror(c));
		free(m);
		m = n;
	}
	*err = xnew0(struct error, 1);
	(*err)->code = c;
	(*err)->msg = m ? m : xstrdup("out of memory");
	return -c;
}

int error_set(struct error **err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = error_vset(err, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int error_setx(struct error **err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = error_vset(err, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int error_prefix(struct error **err, int code, const char *fmt, ...)
{
	int c = code < 0 ? -code : code;
	char *p;
	va_list ap;

	if (!err)
		return -c;
	if (!*err) {
		va_start(ap, fmt);
		error_vset(err, code, true, fmt, ap);
		va_end(ap);
		return -c;
	}
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) >= 0) {
		char *n = xasprintf("%s: %s", p, (*err)->msg);
		free(p);
		free((*err)->msg);
		(*err)->msg = n;
	}
	va_end(ap);
	return -c;
}

void error_free(struct error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

int errbuf_set(char *buf, size_t len, int code, const char *fmt, ...)
{
	va_list ap;
	int c = code < 0 ? -code : code;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	n = strlen(buf);
	if (c && n + 3 < len)
		snprintf(buf + n, len - n, ": %s", strerror(c));
	return -c;
}
