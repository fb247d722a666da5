/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request and response heads (RFC 9112 §2-§6): pure functions on buffers.
 * Strict where leniency lets two parsers disagree about where a message
 * ends (request smuggling): bare LF, obs-fold, space before the colon,
 * Content-Length with Transfer-Encoding, conflicting lengths.
 */
#include <strings.h>

#include "http/internal.h"

/* Longest request line we wait for before deciding that the URI is too long. */
#define MAX_REQUEST_LINE (HTTP_MAX_URI + sizeof(((struct http_request *)0)->method) + 16)

bool http_list_has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);
	const char *p = value;

	while (*p) {
		const char *e;
		size_t l;

		while (*p == ',' || http_is_ows(*p))
			p++;
		e = p;
		while (*e && *e != ',')
			e++;
		l = e - p;
		while (l > 0 && http_is_ows(p[l - 1]))
			l--;
		if (l == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p = e;
	}
	return false;
}

static bool is_field_vchar(unsigned char ch)
{
	return ch == '\t' || ch == ' ' || (ch >= 0x21 && ch != 0x7f);
}

static void headers_free(struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static const char *headers_get(const struct http_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

/*
 * Find the end of a head that starts at buf: the offset just past the blank
 * line, 0 when not complete yet, -400 on a bare LF, -431 when it does not
 * end within max bytes.
 */
static ssize_t find_head_end(const char *buf, size_t len, size_t max)
{
	size_t scan = len < max ? len : max;
	const char *p = buf, *end = buf + scan;

	while ((p = memchr(p, '\n', end - p))) {
		if (p == buf || p[-1] != '\r')
			return -400;
		/* "\r\n\r\n": this LF ends an empty line */
		if (p - buf >= 3 && p[-2] == '\n')
			return p + 1 - buf;
		if (p - buf == 1)
			return 2; /* an empty head: only the blank line */
		p++;
	}
	return len >= max ? -431 : 0;
}

/*
 * Split header lines buf[0..len) (each ending in CRLF, the blank line not
 * included) into headers. Returns 0, -400 or -431.
 */
static int parse_fields(const char *p, const char *end, struct http_header **ret, size_t *ret_n)
{
	struct http_header *h = NULL;
	size_t n = 0;

	while (p < end) {
		const char *eol = memchr(p, '\r', end - p), *colon, *v, *ve;

		/* find_head_end checked that every LF follows a CR, not the reverse */
		if (!eol || eol[1] != '\n')
			goto bad;
		if (http_is_ows(*p)) /* obs-fold, or whitespace before the first header */
			goto bad;
		colon = memchr(p, ':', eol - p);
		if (!colon || colon == p)
			goto bad;
		for (const char *q = p; q < colon; q++)
			if (!http_is_tchar(*q))
				goto bad;
		v = colon + 1;
		while (v < eol && http_is_ows(*v))
			v++;
		ve = eol;
		while (ve > v && http_is_ows(ve[-1]))
			ve--;
		for (const char *q = v; q < ve; q++)
			if (!is_field_vchar(*q))
				goto bad;
		if (n >= HTTP_MAX_HEADERS) {
			headers_free(h, n);
			return -431;
		}
		if (n % 16 == 0)
			h = xrealloc(h, (n + 16) * sizeof(*h));
		h[n].name = xstrndup(p, colon - p);
		h[n].value = xstrndup(v, ve - v);
		n++;
		p = eol + 2;
	}
	*ret = h;
	*ret_n = n;
	return 0;
bad:
	headers_free(h, n);
	return -400;
}

/*
 * Content-Length from all its headers: -1 when absent; -400 when malformed,
 * too large, or the copies disagree. A list of equal values ("5, 5") is one
 * value (RFC 9110 §8.6).
 */
static int64_t content_length(const struct http_header *h, size_t n)
{
	int64_t cl = -1;

	for (size_t i = 0; i < n; i++) {
		const char *p;

		if (strcasecmp(h[i].name, "Content-Length") != 0)
			continue;
		p = h[i].value;
		do {
			int64_t v = 0;
			size_t digits = 0;

			while (http_is_ows(*p))
				p++;
			for (; *p >= '0' && *p <= '9'; p++, digits++) {
				if (digits >= 18) /* 10^18 - 1 at most: no overflow */
					return -400;
				v = v * 10 + (*p - '0');
			}
			while (http_is_ows(*p))
				p++;
			if (digits == 0 || (*p && *p != ','))
				return -400;
			if (cl >= 0 && v != cl)
				return -400;
			cl = v;
		} while (*p++ == ',');
	}
	return cl;
}

/*
 * Transfer-Encoding from all its headers: 0 when absent, 1 for chunked,
 * -501 for a coding we do not implement, -400 for nonsense.
 */
static int transfer_encoding(const struct http_header *h, size_t n)
{
	int chunked = 0, others = 0;
	bool present = false;

	for (size_t i = 0; i < n; i++) {
		const char *p;

		if (strcasecmp(h[i].name, "Transfer-Encoding") != 0)
			continue;
		present = true;
		p = h[i].value;
		while (*p) {
			const char *e;
			size_t l;

			while (*p == ',' || http_is_ows(*p))
				p++;
			if (!*p)
				break;
			e = p;
			while (*e && *e != ',')
				e++;
			l = e - p;
			while (l > 0 && http_is_ows(p[l - 1]))
				l--;
			if (l == 7 && strncasecmp(p, "chunked", 7) == 0)
				chunked++;
			else
				others++;
			p = e;
		}
	}
	if (!present)
		return 0;
	if (chunked == 0 && others == 0)
		return -400;
	if (others > 0)
		return -501;
	if (chunked > 1)
		return -400;
	return 1;
}

/* Percent-decode a path: %00 and bad escapes are refused, '+' stays. */
static char *decode_path(const char *s, size_t len)
{
	return http_url_decode(s, len, false);
}

static int parse_version(const char *v, size_t len, int *minor)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return -400;
	if (v[5] != '1')
		return -505;
	*minor = v[7] - '0';
	return 0;
}

/*
 * The request line line[0..len) (without CRLF). With req NULL only
 * validates (used to refuse a bad request before its head is complete).
 */
static int parse_request_line(const char *line, size_t len, struct http_request *req)
{
	const char *end = line + len, *sp1, *sp2, *t, *path, *q;
	size_t ml, tl;
	int minor, r;

	sp1 = memchr(line, ' ', len);
	if (!sp1 || sp1 == line)
		return -400;
	for (const char *p = line; p < sp1; p++)
		if (!http_is_tchar(*p))
			return -400;
	ml = sp1 - line;
	if (ml >= sizeof(req->method))
		return -501;
	t = sp1 + 1;
	sp2 = memchr(t, ' ', end - t);
	if (!sp2 || sp2 == t)
		return -400;
	tl = sp2 - t;
	if (tl > HTTP_MAX_URI)
		return -414;
	for (const char *p = t; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return -400;
	r = parse_version(sp2 + 1, end - sp2 - 1, &minor);
	if (r < 0)
		return r;

	/* origin-form; absolute-form (a proxy's form) tolerated; '*' for OPTIONS */
	if (*t == '/')
		path = t;
	else if (tl == 1 && *t == '*' && ml == 7 && memcmp(line, "OPTIONS", 7) == 0)
		path = t;
	else {
		const char *a;

		if (tl > 7 && strncasecmp(t, "http://", 7) == 0)
			a = t + 7;
		else if (tl > 8 && strncasecmp(t, "https://", 8) == 0)
			a = t + 8;
		else
			return -400;
		path = a;
		while (path < sp2 && *path != '/' && *path != '?')
			path++;
		if (path == a)
			return -400;
	}
	q = memchr(path, '?', sp2 - path);

	{
		_cleanup_free_ char *decoded = NULL;

		if (path == q || path == sp2) /* absolute-form without a path */
			decoded = xstrdup("/");
		else
			decoded = decode_path(path, (q ? q : sp2) - path);
		if (!decoded)
			return -400;
		if (!req)
			return 0;
		memcpy(req->method, line, ml);
		req->method[ml] = 0;
		req->target = xstrndup(t, tl);
		req->path = TAKE_PTR(decoded);
		req->query = q ? xstrndup(q + 1, sp2 - q - 1) : NULL;
		req->version_minor = minor;
	}
	return 0;
}

/* A request line not complete yet: can it still become valid? */
static int check_partial_request_line(const char *buf, size_t len)
{
	const char *sp = memchr(buf, ' ', len);
	size_t ml = sp ? (size_t)(sp - buf) : len;

	for (size_t i = 0; i < ml; i++)
		if (!http_is_tchar(buf[i]))
			return -400;
	if (ml >= sizeof(((struct http_request *)0)->method))
		return -501;
	if (sp && sp == buf)
		return -400;
	if (sp) {
		const char *t = sp + 1, *sp2 = memchr(t, ' ', buf + len - t);

		if ((size_t)((sp2 ? sp2 : buf + len) - t) > HTTP_MAX_URI)
			return -414;
	}
	if (len > MAX_REQUEST_LINE)
		return -414;
	return 0;
}

ssize_t http_parse_request_head(const char *buf, size_t len, struct http_request *req)
{
	size_t skip = 0, max;
	ssize_t head;
	const char *line_end;
	const char *upgrade, *expect;
	bool keep_alive = false, conn_close = false;
	int64_t cl;
	int te, r, hosts = 0;

	*req = (struct http_request){.content_length = -1};

	/* RFC 9112 §2.2: ignore empty lines before the request line */
	while (skip + 1 < len && buf[skip] == '\r' && buf[skip + 1] == '\n' && skip < 64)
		skip += 2;
	if (skip < len && buf[skip] == '\n')
		return -400;
	buf += skip;
	len -= skip;
	if (len == 1 && buf[0] == '\r') /* half of another empty line */
		return 0;
	max = HTTP_MAX_HEAD > skip ? HTTP_MAX_HEAD - skip : 0;

	head = find_head_end(buf, len, max);
	line_end = memmem(buf, len < max ? len : max, "\r\n", 2);
	if (head <= 0) {
		/* refuse early what can never become valid */
		if (head == -400)
			return -400;
		if (line_end)
			r = parse_request_line(buf, line_end - buf, NULL);
		else
			r = check_partial_request_line(buf, len);
		if (r < 0)
			return r;
		return head;
	}
	if (!line_end || line_end == buf)
		return -400;

	r = parse_request_line(buf, line_end - buf, req);
	if (r < 0)
		return r;
	r = parse_fields(line_end + 2, buf + head - 2, &req->headers, &req->n_headers);
	if (r < 0)
		goto fail;

	r = -400;
	cl = content_length(req->headers, req->n_headers);
	if (cl < -1)
		goto fail;
	te = transfer_encoding(req->headers, req->n_headers);
	if (te != 0 && cl >= 0) /* RFC 9112 §6.3: a smuggling attempt */
		goto fail;
	if (te < 0) {
		r = te;
		goto fail;
	}
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, "Host") == 0)
			hosts++;
	if (hosts > 1)
		goto fail;

	req->content_length = cl;
	req->chunked = te == 1;
	req->keep_alive = req->version_minor >= 1;
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *v = req->headers[i].value;

		if (strcasecmp(req->headers[i].name, "Connection") != 0)
			continue;
		if (http_list_has_token(v, "keep-alive"))
			keep_alive = true;
		if (http_list_has_token(v, "close"))
			conn_close = true;
		if (http_list_has_token(v, "upgrade"))
			req->upgrade = true;
	}
	if (keep_alive)
		req->keep_alive = true;
	if (conn_close)
		req->keep_alive = false;
	/* RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing */
	if (req->chunked && req->version_minor == 0)
		req->keep_alive = false;
	upgrade = http_request_header(req, "Upgrade");
	if (isempty(upgrade))
		req->upgrade = false;
	expect = http_request_header(req, "Expect");
	req->expect_continue =
	    expect && req->version_minor >= 1 && strcasecmp(expect, "100-continue") == 0;
	return skip + head;
fail:
	http_request_release(req);
	return r;
}

void http_request_release(struct http_request *req)
{
	if (!req)
		return;
	free(req->target);
	free(req->path);
	free(req->query);
	headers_free(req->headers, req->n_headers);
	*req = (struct http_request){.content_length = -1};
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	return headers_get(req->headers, req->n_headers, name);
}

ssize_t http_parse_response_head(const char *buf, size_t len, struct http_response *resp)
{
	const char *line_end, *p;
	ssize_t head;
	int64_t cl;
	int minor, te, r;

	*resp = (struct http_response){.content_length = -1};

	head = find_head_end(buf, len, HTTP_MAX_HEAD);
	if (head == 0)
		return 0;
	if (head < 0)
		return -EBADMSG;
	line_end = memmem(buf, head, "\r\n", 2);
	/* "HTTP/1.1 200 OK", the reason may be empty or (tolerated) missing */
	if (!line_end || line_end - buf < 12 || buf[8] != ' ')
		return -EBADMSG;
	if (parse_version(buf, 8, &minor) < 0)
		return -EBADMSG;
	p = buf + 9;
	for (int i = 0; i < 3; i++)
		if (p[i] < '0' || p[i] > '9')
			return -EBADMSG;
	if (p + 3 < line_end && p[3] != ' ')
		return -EBADMSG;
	for (const char *q = p + 3; q < line_end; q++)
		if (!is_field_vchar(*q))
			return -EBADMSG;

	r = parse_fields(line_end + 2, buf + head - 2, &resp->headers, &resp->n_headers);
	if (r < 0)
		return -EBADMSG;
	resp->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	resp->reason = p + 3 < line_end ? xstrndup(p + 4, line_end - p - 4) : xstrdup("");
	resp->version_minor = minor;

	cl = content_length(resp->headers, resp->n_headers);
	te = transfer_encoding(resp->headers, resp->n_headers);
	if (te == -400 || (te == 0 && cl < -1)) {
		http_response_release(resp);
		return -EBADMSG;
	}
	/* RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; a coding
	 * other than chunked last means the body runs until close */
	resp->chunked = te == 1;
	resp->content_length = te == 0 ? cl : -1;
	resp->keep_alive = minor >= 1;
	for (size_t i = 0; i < resp->n_headers; i++) {
		if (strcasecmp(resp->headers[i].name, "Connection") != 0)
			continue;
		if (http_list_has_token(resp->headers[i].value, "keep-alive"))
			resp->keep_alive = true;
	}
	for (size_t i = 0; i < resp->n_headers; i++)
		if (strcasecmp(resp->headers[i].name, "Connection") == 0 &&
		    http_list_has_token(resp->headers[i].value, "close"))
			resp->keep_alive = false;
	if (te != 0 && !resp->chunked)
		resp->keep_alive = false;
	return head;
}

void http_response_release(struct http_response *resp)
{
	if (!resp)
		return;
	free(resp->reason);
	headers_free(resp->headers, resp->n_headers);
	*resp = (struct http_response){.content_length = -1};
}

const char *http_response_header(const struct http_response *resp, const char *name)
{
	return headers_get(resp->headers, resp->n_headers, name);
}
