/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl, loaded on first use: see lazy.h. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdarg.h>

#include "lazy.h"

#define SONAME "libcurl.so.4"

#define REAL(name) LAZY_REAL(SONAME, name)

CURLcode curl_global_init(long flags)
{
	REAL(curl_global_init);
	return fn(flags);
}

CURL *curl_easy_init(void)
{
	REAL(curl_easy_init);
	return fn();
}

void curl_easy_cleanup(CURL *curl)
{
	REAL(curl_easy_cleanup);
	fn(curl);
}

void curl_easy_reset(CURL *curl)
{
	REAL(curl_easy_reset);
	fn(curl);
}

CURLcode curl_easy_perform(CURL *curl)
{
	REAL(curl_easy_perform);
	return fn(curl);
}

const char *curl_easy_strerror(CURLcode c)
{
	REAL(curl_easy_strerror);
	return fn(c);
}

/* The one variadic argument's type follows from the option's number range (curl.h's
 * CURLOPTTYPE_*), as libcurl itself reads it. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode r;
	REAL(curl_easy_setopt);
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		r = fn(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		r = fn(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		r = fn(curl, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		r = fn(curl, option, va_arg(ap, curl_off_t));
	else
		r = fn(curl, option, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Every CURLINFO takes a pointer. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	CURLcode r;
	REAL(curl_easy_getinfo);
	va_start(ap, info);
	r = fn(curl, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
	REAL(curl_slist_append);
	return fn(list, data);
}

void curl_slist_free_all(struct curl_slist *list)
{
	REAL(curl_slist_free_all);
	fn(list);
}

void curl_free(void *p)
{
	REAL(curl_free);
	fn(p);
}

CURLU *curl_url(void)
{
	REAL(curl_url);
	return fn();
}

void curl_url_cleanup(CURLU *handle)
{
	REAL(curl_url_cleanup);
	fn(handle);
}

CURLUcode curl_url_get(CURLU *handle, CURLUPart what, char **part, unsigned int flags)
{
	REAL(curl_url_get);
	return fn(handle, what, part, flags);
}

CURLUcode curl_url_set(CURLU *handle, CURLUPart what, const char *part, unsigned int flags)
{
	REAL(curl_url_set);
	return fn(handle, what, part, flags);
}
