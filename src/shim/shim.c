/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-shim's own part: create the container (or prepare the exec) and start it through
 * the runtime library, then hand the rest over to berth-shim-monitor (monitor.h).
 */
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "monitor.h"
#include "oci/oci.h"
#include "runtime/runtime.h"

struct shim {
	struct monitor m; /* first: START gets &s->m */
	struct runtime_ctx rt;
	int monitor_exe; /* O_PATH fd of berth-shim-monitor, -1 without one */
};

/* ---- the process ---------------------------------------------------------------- */

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))], payload[256];
	struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *c;
	int fd = -1;
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd >= 0 ? fd : -EBADMSG;
}

/*
 * The process inherits fds 0-2 from us at clone time: put its pipes there for the
 * duration of the create (or exec), then take them back.
 */
struct stdio_swap {
	int saved[3];
};

static int setup_stdio(struct shim *s, struct stdio_swap *sw, char *errbuf, size_t errlen)
{
	int in[2] = {-1, -1}, out[2], err[2];
	int child[3];

	if (s->m.o->tty) {
		/* The runtime gives the process a pty; stdin/out/err come from it. */
		child[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
		child[1] = dup(child[0]);
		child[2] = dup(child[0]);
	} else {
		if (s->m.o->open_stdin) {
			if (pipe2(in, O_CLOEXEC) < 0)
				return errbuf_set(errbuf, errlen, errno, "pipe");
		}
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			return errbuf_set(errbuf, errlen, errno, "pipe");
		child[0] = in[0] >= 0 ? in[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
		child[1] = out[1];
		child[2] = err[1];
		s->m.in_w = in[1];
		s->m.out_r = out[0];
		s->m.err_r = err[0];
	}
	for (int i = 0; i < 3; i++) {
		sw->saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
		if (dup2(child[i], i) < 0)
			return errbuf_set(errbuf, errlen, errno, "dup2");
		close(child[i]);
	}
	return 0;
}

static void restore_stdio(struct stdio_swap *sw)
{
	for (int i = 0; i < 3; i++)
		if (sw->saved[i] >= 0) {
			dup2(sw->saved[i], i);
			close(sw->saved[i]);
		}
}

/* exec mode: the process is made at START. */
static int do_start(struct shim *s, char *errbuf, size_t errlen)
{
	struct stdio_swap sw = {{-1, -1, -1}};
	_cleanup_error_ struct error *e = NULL;
	int r, sp[2] = {-1, -1};

	if (!s->m.o->exec_id) {
		r = runtime_start(&s->rt, s->m.o->id, &e);
		if (r < 0)
			return errbuf_set(errbuf, errlen, 0, "%s", e->msg) + r;
		s->m.started = true;
		return 0;
	}

	_cleanup_json_ json_object *doc = NULL;
	struct oci_process *p = NULL;
	struct runtime_exec_opts eo = {.detach = true};
	int status = 0;
	_cleanup_free_ char *pidfile = xasprintf("%s/x-%.12s.pid", s->m.o->dir, s->m.o->exec_id);

	if (json_parse_file(s->m.o->process_path, 1 << 20, &doc, &e) < 0 ||
	    oci_process_parse(doc, &p, &e) < 0)
		return errbuf_set(errbuf, errlen, 0, "%s", e->msg) - EINVAL;
	if (s->m.o->tty) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
			oci_process_free(p);
			return errbuf_set(errbuf, errlen, errno, "socketpair");
		}
		eo.use_console_fd = true;
		eo.console_fd = sp[1];
	}
	eo.pid_file = pidfile;
	r = setup_stdio(s, &sw, errbuf, errlen);
	if (r >= 0) {
		r = runtime_exec(&s->rt, s->m.o->id, p, &eo, &status, &e);
		restore_stdio(&sw);
		if (r < 0)
			errbuf_set(errbuf, errlen, 0, "%s", e->msg);
	}
	oci_process_free(p);
	if (sp[1] >= 0)
		close(sp[1]);
	if (r >= 0 && s->m.o->tty) {
		s->m.pty = recv_fd(sp[0]);
		if (s->m.pty < 0)
			r = errbuf_set(errbuf, errlen, s->m.pty, "receive the pty");
	}
	if (sp[0] >= 0)
		close(sp[0]);
	if (r < 0)
		return r;
	{
		char *txt = NULL;
		if (read_file_at(AT_FDCWD, pidfile, 64, &txt, NULL) >= 0)
			s->m.pid = atoi(txt);
		free(txt);
		unlink(pidfile);
	}
	s->m.started = true;
	return 0;
}

/*
 * Once started, serving is all that is left, and berth-shim-monitor does it in less memory.
 * Not at once: a process that is done within HAND_OVER_DELAY_USEC (run --rm ... true, most
 * execs) costs neither its execve() nor the one into berth-shim --delete after the exit.
 */
#define HAND_OVER_DELAY_USEC (500 * 1000)

/* The monitor's START. */
static int start(struct monitor *m, char *errbuf, size_t errlen)
{
	struct shim *s = (struct shim *)m;
	int r = do_start(s, errbuf, errlen);
	if (r >= 0 && s->monitor_exe >= 0)
		m->hand_over_usec = now_usec(CLOCK_MONOTONIC) + HAND_OVER_DELAY_USEC;
	return r;
}

static int do_create(struct shim *s, char *errbuf, size_t errlen)
{
	struct runtime_create_opts co = {.id = s->m.o->id, .bundle = s->m.o->bundle};
	struct stdio_swap sw = {{-1, -1, -1}};
	_cleanup_error_ struct error *e = NULL;
	_cleanup_free_ char *pidfile = xasprintf("%s/init.pid", s->m.o->dir);
	int r, sp[2] = {-1, -1};

	if (s->m.o->tty) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
			return errbuf_set(errbuf, errlen, errno, "socketpair");
		co.use_console_fd = true;
		co.console_fd = sp[1];
	}
	co.pid_file = pidfile;
	r = setup_stdio(s, &sw, errbuf, errlen);
	if (r >= 0) {
		r = runtime_create(&s->rt, &co, &e);
		restore_stdio(&sw);
		if (r < 0)
			errbuf_set(errbuf, errlen, 0, "%s", e->msg);
	}
	if (sp[1] >= 0)
		close(sp[1]);
	if (r >= 0 && s->m.o->tty) {
		s->m.pty = recv_fd(sp[0]);
		if (s->m.pty < 0)
			r = errbuf_set(errbuf, errlen, s->m.pty, "receive the pty");
	}
	if (sp[0] >= 0)
		close(sp[0]);
	if (r < 0)
		return r;
	{
		char *txt = NULL;
		if (read_file_at(AT_FDCWD, pidfile, 64, &txt, NULL) >= 0)
			s->m.pid = atoi(txt);
		free(txt);
	}
	return 0;
}

/*
 * berth-shim-monitor beside us, opened now: the hand-over needs the monitor of our own
 * build even if the installation changes while the container is created.
 */
static int open_monitor(void)
{
	_cleanup_free_ char *path = shim_image_path("berth-shim-monitor");
	int fd;

	if (!path)
		return -ENOENT;
	fd = open(path, O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* --delete: what berth-shim-monitor executes once the container has exited. */
static int shim_delete(const struct runtime_ctx *rt, const char *id)
{
	_cleanup_error_ struct error *e = NULL;
	if (runtime_delete(rt, id, true, &e) < 0) {
		log_warn("berth-shim %s: %s", id, e->msg);
		return 1;
	}
	return 0;
}

static int shim_run(struct shim *s, int status_fd)
{
	const struct shim_opts *o = s->m.o;
	char err[1024] = "";
	int r;

	r = monitor_listen(&s->m, err, sizeof(err));
	if (r >= 0 && !o->exec_id)
		r = do_create(s, err, sizeof(err));
	if (r < 0) {
		dprintf(status_fd, "error %s\n", err[0] ? err : strerror(-r));
		close(status_fd);
		unlink(s->m.sock_path);
		return 1;
	}
	monitor_open_log(&s->m);
	dprintf(status_fd, "ready %d\n", (int)getpid());
	close(status_fd);

	while (monitor_run(&s->m) > 0) {
		/* Returns only if the monitor could not be executed: we serve on ourselves. */
		r = monitor_hand_over(&s->m, s->monitor_exe);
		log_debug("berth-shim %s: hand-over to berth-shim-monitor: %s", o->id,
			  strerror(-r));
		s->m.hand_over_usec = 0;
	}
	monitor_finish(&s->m);
	return o->exec_id ? 0 : shim_delete(&s->rt, o->id);
}

int shim_main(const struct shim_opts *o)
{
	struct shim s = {.monitor_exe = -1};
	pid_t pid;
	int status_fd = o->status_fd >= 0 ? o->status_fd : STDOUT_FILENO;
	int rc;

	s.rt.state_root = o->runtime_root;
	s.rt.cgroup_root = o->cgroup_root ? o->cgroup_root : "/sys/fs/cgroup";
	s.rt.systemd_cgroup = o->systemd_cgroup;
	if (o->delete_only)
		_exit(shim_delete(&s.rt, o->id)); /* like the shim's other ends: no exit handlers */
	monitor_init(&s.m, o);
	s.m.start = start;
	unlink(s.m.exit_path);

	/* Double fork: the shim is nobody's child, in its own session, and outlives berthd. */
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0) {
		int st;
		monitor_release(&s.m);
		waitpid(pid, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (status_fd < 3) {
		/* Out of the way of the stdio the process inherits from us. */
		int moved = fcntl(status_fd, F_DUPFD_CLOEXEC, 3);
		if (moved >= 0)
			status_fd = moved;
	}
	{
		/* Detach our own stdio; errors go to the status fd. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			for (int i = 0; i < 3; i++)
				if (i != status_fd)
					dup2(null, i);
			close(null);
		}
	}
	s.monitor_exe = open_monitor();
	rc = shim_run(&s, status_fd);
	monitor_release(&s.m);
	_exit(rc);
}
