/* SPDX-License-Identifier: Apache-2.0 */
/* The client side: connect to a daemon address and send requests. */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "http/internal.h"

/* connect(2), finishing a connect that a signal interrupted. */
static int connect_eintr(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	socklen_t sl = sizeof(int);
	int e = 0;

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINTR)
		return -errno;
	/* the connect goes on in the background: wait for its outcome */
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
		return -errno;
	return -e;
}

static int dial_unix(const char *path, struct error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -EBADF;
	size_t l = strlen(path);
	int r;

	if (l == 0)
		return error_setx(err, -EINVAL, "empty socket path");
	if (l >= sizeof(sa.sun_path))
		return error_setx(err, -ENAMETOOLONG, "socket path '%s' is too long", path);
	memcpy(sa.sun_path, path, l);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, -errno, "failed to create socket");
	r = connect_eintr(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + l);
	if (r < 0)
		return error_set(err, r, "failed to connect to '%s'", path);
	return TAKE_FD(fd);
}

static int dial_tcp(const char *hostport, struct error **err)
{
	_cleanup_free_ char *host = NULL;
	const char *port = "2375", *colon;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int r, last = -ECONNREFUSED;

	/* host:port, [v6]:port, or a host alone (Docker's default port) */
	if (hostport[0] == '[') {
		const char *rb = strchr(hostport, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return error_setx(err, -EINVAL, "invalid address 'tcp://%s'", hostport);
		host = xstrndup(hostport + 1, rb - hostport - 1);
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		colon = strrchr(hostport, ':');
		host = colon ? xstrndup(hostport, colon - hostport) : xstrdup(hostport);
		if (colon)
			port = colon + 1;
	}
	/* a trailing path ("tcp://h:2375/") is not ours to interpret */
	if (isempty(host) || isempty(port) || strchr(port, '/'))
		return error_setx(err, -EINVAL, "invalid address 'tcp://%s'", hostport);

	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0)
		return error_setx(err, r == EAI_SYSTEM ? -errno : -EHOSTUNREACH,
				  "failed to resolve '%s': %s", host, gai_strerror(r));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		int one = 1;

		if (fd < 0) {
			last = -errno;
			continue;
		}
		r = connect_eintr(fd, ai->ai_addr, ai->ai_addrlen);
		if (r == 0) {
			/* request/response traffic: do not wait to coalesce small writes */
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			freeaddrinfo(res);
			return fd;
		}
		last = r;
		close(fd);
	}
	freeaddrinfo(res);
	return error_set(err, last, "failed to connect to '%s'", hostport);
}

int http_dial(const char *addr, struct error **err)
{
	const char *rest;

	if (isempty(addr))
		return error_setx(err, -EINVAL, "empty daemon address");
	if ((rest = startswith(addr, "unix://")))
		return dial_unix(rest, err);
	if (addr[0] == '/')
		return dial_unix(addr, err);
	if ((rest = startswith(addr, "tcp://")))
		return dial_tcp(rest, err);
	return error_setx(err, -EPROTONOSUPPORT, "unsupported daemon address '%s'", addr);
}

static bool method_has_body(const char *method)
{
	return streq(method, "POST") || streq(method, "PUT") || streq(method, "PATCH");
}

/* Stream body_fd as chunks until EOF, then the last chunk. */
static int send_chunked_fd(int fd, int body_fd)
{
	char buf[65536], size[32];

	for (;;) {
		ssize_t k = read(body_fd, buf, sizeof(buf));
		struct iovec iov[3];
		int r;

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		snprintf(size, sizeof(size), "%zx\r\n", (size_t)k);
		iov[0] = (struct iovec){.iov_base = size, .iov_len = strlen(size)};
		iov[1] = (struct iovec){.iov_base = buf, .iov_len = k};
		iov[2] = (struct iovec){.iov_base = (void *)"\r\n", .iov_len = 2};
		r = http_writev_all(fd, iov, 3);
		if (r < 0)
			return r;
	}
	struct iovec end = {.iov_base = (void *)"0\r\n\r\n", .iov_len = 5};
	return http_writev_all(fd, &end, 1);
}

int http_send_request(int fd, const char *method, const char *target, const char *host,
		      const char *extra_headers_crlf, const char *body, size_t len, int body_fd)
{
	_cleanup_free_ char *head = NULL, *framing = NULL;
	const char *extra = extra_headers_crlf ?: "";
	size_t el = strlen(extra);
	struct iovec iov[2];
	int r;

	if (body_fd >= 0)
		framing = xstrdup("Transfer-Encoding: chunked\r\n");
	else if (body || len > 0 || method_has_body(method))
		framing = xasprintf("Content-Length: %zu\r\n", body ? len : 0);
	else
		framing = xstrdup("");
	head = xasprintf("%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", method, target,
			 host ?: "localhost", extra,
			 el > 0 && (el < 2 || !endswith(extra, "\r\n")) ? "\r\n" : "", framing);
	iov[0] = (struct iovec){.iov_base = head, .iov_len = strlen(head)};
	iov[1] = (struct iovec){.iov_base = (void *)body, .iov_len = body && body_fd < 0 ? len : 0};
	r = http_writev_all(fd, iov, 2);
	if (r < 0 || body_fd < 0)
		return r;
	return send_chunked_fd(fd, body_fd);
}
