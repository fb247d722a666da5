/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing: responses, chunked streams, hijack answers, stdcopy frames. Every
 * write loops over short writes and never raises SIGPIPE: clients drop
 * connections mid-response all the time (docker run -d abandons its /wait).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include "http/internal.h"

/* Set once at startup, before any connection thread runs. */
static char *common_headers;

static int writev_socket(int fd, struct iovec *iov, int n);

static void iov_advance(struct iovec **iov, int *n, size_t k)
{
	while (*n > 0 && k >= (*iov)->iov_len) {
		k -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + k;
		(*iov)->iov_len -= k;
	}
}

static int writev_other(int fd, struct iovec *iov, int n)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	int r = 0;

	/* A pipe has no MSG_NOSIGNAL: block SIGPIPE for this thread, and swallow
	 * the one our write raised (unless one was pending already). */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);

	while (n > 0) {
		ssize_t k = writev(fd, iov, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		iov_advance(&iov, &n, k);
	}

	if (r == -EPIPE && !was_pending) {
		struct timespec zero = {};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int writev_socket(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n};
		ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOTSOCK)
				return writev_other(fd, iov, n);
			return -errno;
		}
		iov_advance(&iov, &n, k);
	}
	return 0;
}

int http_writev_all(int fd, struct iovec *iov, int n)
{
	/* skip empty leading iovecs so that an all-empty write is no syscall */
	while (n > 0 && iov->iov_len == 0) {
		iov++;
		n--;
	}
	if (n == 0)
		return 0;
	return writev_socket(fd, iov, n);
}

/* Header blocks must end in CRLF; be forgiving about a missing last one. */
static char *crlf_terminated(const char *h)
{
	size_t l;

	if (isempty(h))
		return xstrdup("");
	l = strlen(h);
	if (l >= 2 && h[l - 2] == '\r' && h[l - 1] == '\n')
		return xstrdup(h);
	return xasprintf("%s\r\n", h);
}

void http_set_common_headers(const char *headers_crlf)
{
	free(common_headers);
	common_headers = headers_crlf ? crlf_terminated(headers_crlf) : NULL;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Range Not Satisfiable";
	case 417:
		return "Expectation Failed";
	case 422:
		return "Unprocessable Content";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		break;
	}
	if (status >= 100 && status < 200)
		return "Informational";
	if (status >= 200 && status < 300)
		return "OK";
	if (status >= 300 && status < 400)
		return "Redirection";
	if (status >= 400 && status < 500)
		return "Client Error";
	return "Server Error";
}

/*
 * Whether the connection can take another request after this response: not
 * after an error, nor when the client still waits for a 100 Continue that
 * will not come (it may or may not send the body now: RFC 9110 §10.1.1).
 */
static bool may_keep_alive(struct http_conn *c)
{
	if (c->broken || c->hijacked)
		return false;
	if (c->continue_pending && !http_conn_body_done(c))
		return false;
	return true;
}

/* The Connection header for a response, and the note that we close after it. */
static const char *connection_header(struct http_conn *c, bool keep_alive)
{
	if (keep_alive && may_keep_alive(c))
		return c->version_minor == 0 ? "Connection: keep-alive\r\n" : "";
	c->broken = true; /* no further request on this connection */
	return "Connection: close\r\n";
}

static int respond_iov(struct http_conn *c, int status, const char *content_type,
		       struct iovec *body, int n_body, const char *extra, bool keep_alive)
{
	_cleanup_free_ char *head = NULL, *extra_t = crlf_terminated(extra);
	char ct[512] = "", cl[64] = "";
	struct iovec iov[4];
	size_t len = 0;
	bool no_body = (status >= 100 && status < 200) || status == 204 || status == 304;
	int r;

	for (int i = 0; i < n_body; i++)
		len += body[i].iov_len;
	if (content_type && !no_body)
		snprintf(ct, sizeof(ct), "Content-Type: %s\r\n", content_type);
	if (!no_body)
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", len);
	head = xasprintf("HTTP/1.1 %d %s\r\n%s%s%s%s%s\r\n", status, http_status_text(status), ct,
			 cl, common_headers ?: "", extra_t, connection_header(c, keep_alive));
	iov[0] = (struct iovec){.iov_base = head, .iov_len = strlen(head)};
	if (no_body)
		n_body = 0;
	for (int i = 0; i < n_body && i < 3; i++)
		iov[1 + i] = body[i];
	r = http_writev_all(c->fd, iov, 1 + (n_body < 3 ? n_body : 3));
	if (r < 0)
		c->broken = true;
	return r;
}

int http_respond(struct http_conn *c, int status, const char *content_type, const char *body,
		 size_t len, const char *extra_headers_crlf, bool keep_alive)
{
	struct iovec b = {.iov_base = (void *)body, .iov_len = body ? len : 0};

	return respond_iov(c, status, content_type, &b, 1, extra_headers_crlf, keep_alive);
}

int http_respond_json(struct http_conn *c, int status, json_object *body, bool keep_alive)
{
	const char *s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	/* Go's json.Encoder, which moby uses, ends every document with a newline */
	struct iovec b[2] = {
	    {.iov_base = (void *)s, .iov_len = strlen(s)},
	    {.iov_base = (void *)"\n", .iov_len = 1},
	};

	return respond_iov(c, status, "application/json", b, 2, NULL, keep_alive);
}

int http_respond_error(struct http_conn *c, int status, const char *message, bool keep_alive)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o)
		abort();
	json_add_str(o, "message", message ?: "");
	return http_respond_json(c, status, o, keep_alive);
}

int http_stream_begin(struct http_conn *c, int status, const char *content_type,
		      const char *extra_headers_crlf)
{
	_cleanup_free_ char *head = NULL, *extra_t = crlf_terminated(extra_headers_crlf);
	_cleanup_free_ char *ct =
	    content_type ? xasprintf("Content-Type: %s\r\n", content_type) : xstrdup("");
	struct iovec iov;
	const char *framing;
	int r;

	/* HTTP/1.0 has no chunked coding: the body runs until we close */
	c->stream_raw = c->version_minor == 0;
	framing = c->stream_raw ? "" : "Transfer-Encoding: chunked\r\n";
	head =
	    xasprintf("HTTP/1.1 %d %s\r\n%s%s%s%s%s\r\n", status, http_status_text(status), ct,
		      framing, common_headers ?: "", extra_t, connection_header(c, !c->stream_raw));
	iov = (struct iovec){.iov_base = head, .iov_len = strlen(head)};
	r = http_writev_all(c->fd, &iov, 1);
	if (r < 0)
		c->broken = true;
	return r;
}

int http_stream_write(struct http_conn *c, const void *data, size_t len)
{
	char size[32];
	struct iovec iov[3];
	int r;

	if (len == 0) /* an empty chunk would end the stream */
		return 0;
	if (c->stream_raw) {
		iov[0] = (struct iovec){.iov_base = (void *)data, .iov_len = len};
		r = http_writev_all(c->fd, iov, 1);
	} else {
		snprintf(size, sizeof(size), "%zx\r\n", len);
		iov[0] = (struct iovec){.iov_base = size, .iov_len = strlen(size)};
		iov[1] = (struct iovec){.iov_base = (void *)data, .iov_len = len};
		iov[2] = (struct iovec){.iov_base = (void *)"\r\n", .iov_len = 2};
		r = http_writev_all(c->fd, iov, 3);
	}
	if (r < 0)
		c->broken = true;
	return r;
}

int http_stream_end(struct http_conn *c)
{
	struct iovec iov = {.iov_base = (void *)"0\r\n\r\n", .iov_len = 5};
	int r;

	if (c->stream_raw) {
		c->broken = true; /* the close ends the body */
		return 0;
	}
	r = http_writev_all(c->fd, &iov, 1);
	if (r < 0)
		c->broken = true;
	return r;
}

int http_hijack_begin(struct http_conn *c, bool upgrade, const char *content_type)
{
	_cleanup_free_ char *head = NULL;
	const char *ct = content_type ?: "application/vnd.docker.raw-stream";
	struct iovec iov;

	/* from here on the connection carries a raw stream, not HTTP */
	c->hijacked = true;
	c->continue_pending = false;
	if (upgrade)
		head = xasprintf("HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\n"
				 "Connection: Upgrade\r\nUpgrade: tcp\r\n%s\r\n",
				 ct, common_headers ?: "");
	else
		head = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\n%s\r\n", ct,
				 common_headers ?: "");
	iov = (struct iovec){.iov_base = head, .iov_len = strlen(head)};
	return http_writev_all(c->fd, &iov, 1);
}

void stdcopy_header(uint8_t out[8], enum stdcopy_stream s, uint32_t len)
{
	out[0] = (uint8_t)s;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(len >> 24);
	out[5] = (uint8_t)(len >> 16);
	out[6] = (uint8_t)(len >> 8);
	out[7] = (uint8_t)len;
}

int stdcopy_write(int fd, enum stdcopy_stream s, const void *data, size_t len)
{
	const char *p = data;

	/* an empty frame says nothing (docker-py skips them): send none */
	while (len > 0) {
		uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
		uint8_t hdr[8];
		struct iovec iov[2] = {
		    {.iov_base = hdr, .iov_len = 8},
		    {.iov_base = (void *)p, .iov_len = n},
		};
		int r;

		stdcopy_header(hdr, s, n);
		r = http_writev_all(fd, iov, 2);
		if (r < 0)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}
