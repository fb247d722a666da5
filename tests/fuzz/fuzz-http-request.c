/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: bytes -> request head -> the body after it, decoded as
 * chunked (when the head says so) in one piece and byte by byte: both must
 * agree. The response-head parser gets the same bytes.
 */
#include "http/http.h"

static size_t decode(const char *in, size_t len, size_t step, char *out, size_t cap, int *err)
{
	struct http_chunked c = {};
	size_t pos = 0, o = 0;

	*err = 0;
	while (pos < len && !c.done) {
		size_t n = len - pos < step ? len - pos : step, ol = cap - o;
		ssize_t k = http_chunked_decode(&c, in + pos, n, out + o, &ol);
		if (k < 0) {
			*err = (int)k;
			break;
		}
		if ((size_t)k > n || ol > cap - o)
			__builtin_trap();
		if (k == 0 && ol == 0)
			break;
		pos += k;
		o += ol;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_request req;
	struct http_response resp;
	ssize_t n;

	n = http_parse_request_head(buf, size, &req);
	if (n > (ssize_t)size)
		__builtin_trap();
	if (n > 0) {
		if (!req.path || !req.target || req.method[0] == 0 ||
		    req.n_headers > HTTP_MAX_HEADERS)
			__builtin_trap();
		if (req.chunked && req.content_length != -1)
			__builtin_trap();
		for (size_t i = 0; i < req.n_headers; i++)
			(void)http_request_header(&req, req.headers[i].name);
		if (req.chunked) {
			size_t rest = size - n;
			char *a = malloc(rest + 1), *b = malloc(rest + 1);
			int ea, eb;
			size_t la = decode(buf + n, rest, rest ? rest : 1, a, rest + 1, &ea);
			size_t lb = decode(buf + n, rest, 1, b, rest + 1, &eb);
			if (ea != eb || (!ea && (la != lb || memcmp(a, b, la) != 0)))
				__builtin_trap();
			free(a);
			free(b);
		}
	}
	http_request_release(&req);

	n = http_parse_response_head(buf, size, &resp);
	if (n > (ssize_t)size || (n < 0 && n != -EBADMSG))
		__builtin_trap();
	if (n > 0 && (!resp.reason || resp.status < 0 || resp.status > 999))
		__builtin_trap();
	http_response_release(&resp);
	return 0;
}
