/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct http_conn: a blocking fd with a read buffer. Heads are parsed from
 * the buffer; bytes after a head (a body, a pipelined request, the start of
 * a hijacked stream) stay in it for the next reader.
 */
#include <sys/socket.h>

#include "http/internal.h"

#define BUF_INITIAL 8192
/* Room for the largest head plus a little, so that parse can say 431. */
#define BUF_MAX (HTTP_MAX_HEAD + 4096)
/* Body reads larger than this bypass the buffer. */
#define BUF_BYPASS 4096

void http_conn_init(struct http_conn *c, int fd)
{
	*c = (struct http_conn){.fd = fd, .version_minor = 1};
}

void http_conn_release(struct http_conn *c)
{
	if (!c)
		return;
	free(c->buf);
	c->buf = NULL;
	c->start = c->end = c->cap = 0;
}

static ssize_t read_eintr(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t k = read(fd, buf, n);
		if (k >= 0)
			return k;
		if (errno != EINTR)
			return -errno;
	}
}

/* Read more into the buffer: bytes read, 0 at EOF, -ENOBUFS when full at BUF_MAX. */
static ssize_t fill(struct http_conn *c)
{
	ssize_t k;

	if (c->start > 0 && c->start == c->end)
		c->start = c->end = 0;
	if (c->end == c->cap && c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : BUF_INITIAL;
		if (cap > BUF_MAX)
			cap = BUF_MAX;
		if (cap <= c->cap)
			return -ENOBUFS;
		c->buf = xrealloc(c->buf, cap);
		c->cap = cap;
	}
	k = read_eintr(c->fd, c->buf + c->end, c->cap - c->end);
	if (k < 0) {
		c->broken = true;
		return k;
	}
	c->end += k;
	return k;
}

static bool body_done(const struct http_conn *c)
{
	if (c->body_chunked)
		return c->chunk.done;
	if (c->body_until_close)
		return false;
	return c->body_left <= 0;
}

bool http_conn_body_done(const struct http_conn *c)
{
	return body_done(c);
}

static void set_no_body(struct http_conn *c)
{
	c->body_left = 0;
	c->body_chunked = false;
	c->body_until_close = false;
	c->chunk = (struct http_chunked){};
}

/* Only CR/LF buffered: the peer closed between messages. */
static bool only_blank_lines(const struct http_conn *c)
{
	for (size_t i = c->start; i < c->end; i++)
		if (c->buf[i] != '\r' && c->buf[i] != '\n')
			return false;
	return true;
}

int http_conn_read_request(struct http_conn *c, struct http_request *req)
{
	int r;

	*req = (struct http_request){.content_length = -1};
	if (c->broken || c->hijacked)
		return -EPIPE;
	if (!body_done(c)) {
		/* the response told the client to close rather than send the body */
		if (c->continue_pending)
			return -EPIPE;
		r = http_conn_skip_body(c);
		if (r < 0)
			return r;
	}
	set_no_body(c);

	for (;;) {
		ssize_t n = c->end > c->start
				? http_parse_request_head(c->buf + c->start, c->end - c->start, req)
				: 0;
		ssize_t k;

		if (n < 0) {
			c->broken = true;
			return (int)n;
		}
		if (n > 0) {
			c->start += n;
			break;
		}
		k = fill(c);
		if (k == -ENOBUFS) { /* cannot happen: parse says 431 first */
			c->broken = true;
			return -431;
		}
		if (k < 0)
			return (int)k;
		if (k == 0) {
			c->broken = true;
			return only_blank_lines(c) ? -EPIPE : -ECONNRESET;
		}
	}

	c->version_minor = req->version_minor;
	if (req->chunked) {
		c->body_chunked = true;
		c->body_left = -1;
	} else if (req->content_length > 0) {
		c->body_left = req->content_length;
	}
	c->continue_pending = req->expect_continue && !body_done(c);
	return 0;
}

int http_conn_read_response(struct http_conn *c, struct http_response *resp, bool head_request)
{
	*resp = (struct http_response){.content_length = -1};
	if (c->broken)
		return -EPIPE;
	if (!body_done(c)) {
		int r = http_conn_skip_body(c);
		if (r < 0)
			return r;
	}
	set_no_body(c);

	for (;;) {
		ssize_t n = c->end > c->start ? http_parse_response_head(c->buf + c->start,
									 c->end - c->start, resp)
					      : 0;
		ssize_t k;

		if (n < 0) {
			c->broken = true;
			return (int)n;
		}
		if (n > 0) {
			c->start += n;
			/* interim responses (100 Continue, 103) precede the real one */
			if (resp->status >= 100 && resp->status < 200 && resp->status != 101) {
				http_response_release(resp);
				continue;
			}
			break;
		}
		k = fill(c);
		if (k == -ENOBUFS) {
			c->broken = true;
			return -EBADMSG;
		}
		if (k < 0)
			return (int)k;
		if (k == 0) {
			c->broken = true;
			return c->end == c->start ? -EPIPE : -ECONNRESET;
		}
	}

	if (head_request || resp->status < 200 || resp->status == 204 || resp->status == 304)
		return 0;
	if (resp->chunked) {
		c->body_chunked = true;
		c->body_left = -1;
	} else if (resp->content_length >= 0) {
		c->body_left = resp->content_length;
	} else {
		c->body_until_close = true;
		c->body_left = -1;
		resp->keep_alive = false;
	}
	return 0;
}

int http_conn_send_continue(struct http_conn *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = sizeof(msg) - 1};
	int r;

	if (!c->continue_pending)
		return 0;
	c->continue_pending = false;
	r = http_writev_all(c->fd, &iov, 1);
	if (r < 0)
		c->broken = true;
	return r;
}

/* Copy buffered bytes out: how many. */
static size_t take_buffered(struct http_conn *c, void *buf, size_t n)
{
	size_t avail = c->end - c->start;

	if (n > avail)
		n = avail;
	memcpy(buf, c->buf + c->start, n);
	c->start += n;
	return n;
}

static ssize_t read_chunked(struct http_conn *c, void *buf, size_t n)
{
	for (;;) {
		ssize_t k;

		if (c->end > c->start) {
			size_t out = n;
			ssize_t used = http_chunked_decode(&c->chunk, c->buf + c->start,
							   c->end - c->start, buf, &out);
			if (used < 0) {
				c->broken = true;
				return used;
			}
			c->start += used;
			if (out > 0)
				return out;
			if (c->chunk.done)
				return 0;
		}
		k = fill(c);
		if (k < 0)
			return k;
		if (k == 0) {
			c->broken = true;
			return -ECONNRESET;
		}
	}
}

ssize_t http_conn_read_body(struct http_conn *c, void *buf, size_t n)
{
	ssize_t k;
	int r;

	if (n == 0 || body_done(c))
		return 0;
	if (c->continue_pending) {
		if (c->broken) /* the response said close: the client sends nothing */
			return -EPIPE;
		r = http_conn_send_continue(c);
		if (r < 0)
			return r;
	}
	if (c->body_chunked)
		return read_chunked(c, buf, n);

	if (!c->body_until_close && (uint64_t)n > (uint64_t)c->body_left)
		n = c->body_left;
	if (c->end > c->start) {
		k = take_buffered(c, buf, n);
	} else if (n >= BUF_BYPASS) {
		k = read_eintr(c->fd, buf, n);
	} else {
		k = fill(c);
		if (k > 0)
			k = take_buffered(c, buf, n);
	}
	if (k < 0) {
		c->broken = true;
		return k;
	}
	if (k == 0) {
		if (c->body_until_close) {
			c->body_until_close = false;
			c->body_left = 0;
			c->broken = true; /* nothing more can come */
			return 0;
		}
		c->broken = true;
		return -ECONNRESET;
	}
	if (!c->body_until_close)
		c->body_left -= k;
	return k;
}

int http_conn_read_body_all(struct http_conn *c, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *b = NULL;
	size_t len = 0, cap = 0, lim = max < SIZE_MAX - 1 ? max + 1 : max;

	if (!c->body_chunked && !c->body_until_close) {
		if ((uint64_t)c->body_left > (uint64_t)max)
			return -EFBIG;
		cap = c->body_left; /* exact: one allocation */
		b = xmalloc(cap + 1);
	}
	for (;;) {
		ssize_t k;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 8192;

			if (body_done(c))
				break;
			if (ncap > lim || ncap < cap)
				ncap = lim;
			b = xrealloc(b, ncap + 1);
			cap = ncap;
		}
		k = http_conn_read_body(c, b + len, cap - len);
		if (k < 0)
			return (int)k;
		if (k == 0)
			break;
		len += k;
		if (len > max)
			return -EFBIG;
	}
	if (!b)
		b = xmalloc(1);
	b[len] = 0;
	*ret = TAKE_PTR(b);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int http_conn_skip_body(struct http_conn *c)
{
	char tmp[16384];

	/* closing anyway: do not invite (100 Continue) or wait for a body */
	if ((c->broken || c->hijacked) && !body_done(c))
		return -EPIPE;

	for (;;) {
		ssize_t k = http_conn_read_body(c, tmp, sizeof(tmp));
		if (k < 0)
			return (int)k;
		if (k == 0)
			return 0;
	}
}

ssize_t http_conn_read_raw(struct http_conn *c, void *buf, size_t n)
{
	if (n == 0)
		return 0;
	if (c->end > c->start)
		return take_buffered(c, buf, n);
	return read_eintr(c->fd, buf, n);
}
