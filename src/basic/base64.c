/* SPDX-License-Identifier: Apache-2.0 */
#include "base64.h"
#include "basic.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(char *out, const void *p, size_t n)
{
	const unsigned char *in = p;
	char *o = out;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? alphabet[v & 63] : '=';
	}
	*o = 0;
	return (size_t)(o - out);
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int base64_decode(const char *s, size_t n, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0, pad = 0;
	uint32_t v = 0;
	unsigned bits = 0;

	while (pad < n && pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	n -= pad;
	/* a last group of four has 2 to 4 characters; '=' only pads out one of 2 or 3 */
	if (n % 4 == 1 || (pad && (n % 4 == 0 || n % 4 + pad > 4)))
		return -EINVAL;
	out = xmalloc(n / 4 * 3 + 3);
	for (size_t i = 0; i < n; i++) {
		int d = value(s[i]);
		if (d < 0)
			return -EINVAL;
		v = (v << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	out[len] = 0;
	*ret = TAKE_PTR(out);
	*ret_len = len;
	return 0;
}
