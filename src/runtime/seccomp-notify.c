/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCMP_ACT_NOTIFY: hand the listener fd to linux.seccomp.listenerPath with the
 * container process state, as runtime-spec "containerProcessState" says.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include "internal.h"

int seccomp_connect_listener(const struct oci_seccomp *sc, struct error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -EBADF;

	if (isempty(sc->listener_path))
		return error_setx(err, -EINVAL,
				  "seccomp notify action without linux.seccomp.listenerPath");
	if (strlen(sc->listener_path) >= sizeof(sa.sun_path))
		return error_setx(err, -ENAMETOOLONG, "seccomp listenerPath too long");
	strcpy(sa.sun_path, sc->listener_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return error_set(err, -errno, "connect to seccomp listener '%s'",
				 sc->listener_path);
	return TAKE_FD(fd);
}

int seccomp_send_listener(const struct proc_plan *plan, int listener, char *errbuf, size_t errlen)
{
	const struct oci_seccomp *sc = plan->seccomp_cfg;
	_cleanup_json_ json_object *o = NULL;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = {0};
	struct iovec iov;
	struct cmsghdr *c;
	const char *txt;

	if (plan->listener_sock < 0)
		return errbuf_set(errbuf, errlen, EINVAL, "no seccomp listener connected");
	o = json_object_new_object();
	json_add_str(o, "ociVersion", OCI_VERSION);
	json_object_object_add(o, "fds", json_strv_new((char *[]){"seccompFd", NULL}));
	json_add_int(o, "pid", getpid());
	json_add_str(o, "metadata", sc && sc->listener_metadata ? sc->listener_metadata : "");
	if (plan->state_json) {
		json_object *st = json_tokener_parse(plan->state_json);
		if (st)
			json_object_object_add(o, "state", st);
	}
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	iov.iov_base = (void *)txt;
	iov.iov_len = strlen(txt);
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	if (sendmsg(plan->listener_sock, &mh, MSG_NOSIGNAL) < 0)
		return errbuf_set(errbuf, errlen, errno, "send seccomp listener fd");
	return 0;
}
