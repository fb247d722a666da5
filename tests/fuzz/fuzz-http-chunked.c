/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a chunked body decoded whole, byte by byte, and with
 * split points and output sizes taken from the input: all must agree on
 * the bytes, the error and where the body ends.
 */
#include "http/http.h"

struct result {
	size_t out_len, used;
	int err;
	bool done;
};

static struct result decode(const char *in, size_t len, size_t in_step, size_t out_step, char *out,
			    size_t cap)
{
	struct http_chunked c = {};
	struct result r = {};
	size_t pos = 0;

	while (pos < len && !c.done) {
		size_t n = len - pos < in_step ? len - pos : in_step;
		size_t ol = cap - r.out_len < out_step ? cap - r.out_len : out_step;
		ssize_t k = http_chunked_decode(&c, in + pos, n, out + r.out_len, &ol);
		if (k < 0) {
			r.err = (int)k;
			break;
		}
		if ((size_t)k > n)
			__builtin_trap();
		if (k == 0 && ol == 0)
			break; /* out is full */
		pos += k;
		r.out_len += ol;
	}
	r.used = pos;
	r.done = c.done;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t in_step, out_step;
	const char *in;
	char *a, *b, *c;
	struct result ra, rb, rc;

	if (size < 2)
		return 0;
	in_step = data[0] % 17 + 1;
	out_step = data[1] % 13 + 1;
	in = (const char *)data + 2;
	size -= 2;
	a = malloc(size + 1);
	b = malloc(size + 1);
	c = malloc(size + 1);
	ra = decode(in, size, size ? size : 1, size + 1, a, size + 1);
	rb = decode(in, size, 1, 1, b, size + 1);
	rc = decode(in, size, in_step, out_step, c, size + 1);
	if (ra.out_len > size || ra.used > size)
		__builtin_trap();
	/* on an error the output of the failing call is not counted: compare errors only */
	if (ra.err != rb.err || ra.err != rc.err)
		__builtin_trap();
	if (!ra.err && (ra.out_len != rb.out_len || ra.done != rb.done || ra.used != rb.used ||
			memcmp(a, b, ra.out_len) != 0))
		__builtin_trap();
	if (!ra.err && (ra.out_len != rc.out_len || ra.done != rc.done || ra.used != rc.used ||
			memcmp(a, c, ra.out_len) != 0))
		__builtin_trap();
	free(a);
	free(b);
	free(c);
	return 0;
}
