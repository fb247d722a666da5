/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chunked transfer coding (RFC 9112 §7.1), decoded incrementally: input may
 * be split anywhere, so every piece of framing is a state.
 */
#include "http/internal.h"

enum chunked_state {
	CH_SIZE_START = 0, /* before the first hex digit */
	CH_SIZE,	   /* in the hex digits */
	CH_SIZE_BWS,	   /* whitespace after the size, before ';' or CR */
	CH_EXT,		   /* chunk extensions, ignored */
	CH_SIZE_LF,	   /* the LF ending the size line */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START, /* start of a trailer line or the final blank line */
	CH_TRAILER,	  /* in a trailer line, ignored */
	CH_TRAILER_LF,
	CH_END_LF, /* the LF of the final blank line */
	CH_DONE,
};

/* A size line (digits and extensions) and the trailer section are bounded. */
#define MAX_SIZE_LINE 4096
#define MAX_TRAILERS HTTP_MAX_HEAD

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool is_ext_char(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

ssize_t http_chunked_decode(struct http_chunked *c, const char *in, size_t in_len, char *out,
			    size_t *out_len)
{
	size_t i = 0, o = 0, cap = *out_len;

	while (i < in_len && c->state != CH_DONE) {
		char ch = in[i];
		int h;

		switch (c->state) {
		case CH_SIZE_START:
		case CH_SIZE:
			h = hexval(ch);
			if (h >= 0) {
				/* at most 2^60 - 1: no overflow, and no chunk that big */
				if (c->remaining >> 56)
					return -EBADMSG;
				c->remaining = c->remaining << 4 | (uint64_t)h;
				c->state = CH_SIZE;
			} else if (c->state == CH_SIZE_START) {
				return -EBADMSG;
			} else if (ch == ';') {
				c->state = CH_EXT;
			} else if (http_is_ows(ch)) {
				c->state = CH_SIZE_BWS;
			} else if (ch == '\r') {
				c->state = CH_SIZE_LF;
			} else {
				return -EBADMSG;
			}
			break;
		case CH_SIZE_BWS:
			if (ch == ';')
				c->state = CH_EXT;
			else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (!http_is_ows(ch))
				return -EBADMSG;
			break;
		case CH_EXT:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (!is_ext_char(ch))
				return -EBADMSG;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return -EBADMSG;
			c->line_len = 0;
			c->state = c->remaining ? CH_DATA : CH_TRAILER_START;
			i++;
			continue;
		case CH_DATA: {
			size_t n = in_len - i;

			if (n > c->remaining)
				n = c->remaining;
			if (n > cap - o)
				n = cap - o;
			if (n == 0)
				goto out; /* out is full */
			memcpy(out + o, in + i, n);
			o += n;
			i += n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		case CH_DATA_CR:
			if (ch != '\r')
				return -EBADMSG;
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return -EBADMSG;
			c->state = CH_SIZE_START;
			c->line_len = 0;
			i++;
			continue;
		case CH_TRAILER_START:
			if (ch == '\r')
				c->state = CH_END_LF;
			else if (ch == '\n' || ch == '\0')
				return -EBADMSG;
			else
				c->state = CH_TRAILER;
			break;
		case CH_TRAILER:
			if (ch == '\r')
				c->state = CH_TRAILER_LF;
			else if (ch == '\n' || ch == '\0')
				return -EBADMSG;
			break;
		case CH_TRAILER_LF:
			if (ch != '\n')
				return -EBADMSG;
			c->state = CH_TRAILER_START;
			break;
		case CH_END_LF:
			if (ch != '\n')
				return -EBADMSG;
			c->state = CH_DONE;
			c->done = true;
			break;
		default:
			return -EBADMSG;
		}
		/* framing bytes: bound the size line and the trailers */
		c->line_len++;
		if (c->state <= CH_SIZE_LF ? c->line_len > MAX_SIZE_LINE
					   : c->line_len > MAX_TRAILERS)
			return -EBADMSG;
		i++;
	}
out:
	*out_len = o;
	return i;
}
