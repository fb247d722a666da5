/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: query strings and percent-decoding. The first byte
 * picks how much of the rest is the parameter name; the rest is the query.
 */
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nl;
	char *name, *query, *v, *d;
	int64_t n = 0;

	if (size < 1)
		return 0;
	nl = data[0] % 8;
	data++;
	size--;
	if (nl > size)
		nl = size;
	name = xstrndup((const char *)data, nl);
	query = xstrndup((const char *)data + nl, size - nl);
	if (!name || !query)
		abort();

	v = http_query_get(query, name);
	if (v && strlen(v) > strlen(query))
		__builtin_trap();
	free(v);
	(void)http_query_bool(query, name, true);
	(void)http_query_int(query, name, -1, &n);

	for (int form = 0; form < 2; form++) {
		d = http_url_decode((const char *)data, size, form);
		if (d && strlen(d) > size)
			__builtin_trap();
		if (d && memchr(data, 0, size))
			__builtin_trap(); /* a NUL never decodes */
		free(d);
	}
	free(name);
	free(query);
	return 0;
}
