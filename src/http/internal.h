/* SPDX-License-Identifier: Apache-2.0 */
/* http: helpers shared by the files of the module (not part of its interface). */
#ifndef BERTH_HTTP_INTERNAL_H
#define BERTH_HTTP_INTERNAL_H

#include <sys/uio.h>

#include "http/http.h"

/* RFC 9110 tchar: the characters of a token (method, header name). */
static inline bool http_is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	return ch && strchr("!#$%&'*+-.^_`|~", ch);
}

static inline bool http_is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Whether a comma-separated header value (Connection, Transfer-Encoding)
 * holds token, compared case-insensitively.
 */
bool http_list_has_token(const char *value, const char *token);

/*
 * Write all iovecs: send(MSG_NOSIGNAL) on sockets, so that a peer that went
 * away gives -EPIPE instead of SIGPIPE; writev on other fds with SIGPIPE
 * blocked for the calling thread and any SIGPIPE it raised consumed. Loops
 * over short writes and EINTR. iov is modified.
 */
int http_writev_all(int fd, struct iovec *iov, int n);

#endif
