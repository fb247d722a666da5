/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/socket.h>

#include "internal.h"

int sync_send(int fd, int type, int code, const char *msg)
{
	struct sync_msg m = {.type = type, .code = code};
	if (msg)
		snprintf(m.msg, sizeof(m.msg), "%s", msg);
	for (;;) {
		ssize_t n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : 0;
	}
}

int send_fd(int sock, int fd, const char *name)
{
	char buf[CMSG_SPACE(sizeof(int))];
	char payload[256];
	struct iovec iov;
	struct msghdr mh = {0};
	struct cmsghdr *c;

	memset(buf, 0, sizeof(buf));
	snprintf(payload, sizeof(payload), "%s", name ? name : "");
	iov.iov_base = payload;
	iov.iov_len = strlen(payload) + 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = buf;
	mh.msg_controllen = sizeof(buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : 0;
	}
}

int sync_send_fd(int fd, int type, int passfd)
{
	struct sync_msg m = {.type = type};
	char buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *c;

	memset(buf, 0, sizeof(buf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int sync_recv(int fd, struct sync_msg *m, int *ret_fd)
{
	char buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *c;
	ssize_t n;

	if (ret_fd)
		*ret_fd = -1;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n < offsetof(struct sync_msg, msg))
		return -EBADMSG;
	m->msg[sizeof(m->msg) - 1] = 0;
	if ((size_t)n < sizeof(*m))
		m->msg[0] = 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (ret_fd)
				*ret_fd = got;
			else
				close(got);
		}
	return 0;
}

bool runtime_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 1024 ||
	    !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') ||
	      (id[0] >= '0' && id[0] <= '9')))
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == '+'))
			return false;
	return true;
}
