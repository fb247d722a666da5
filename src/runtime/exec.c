/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec: a new process in a running container. The runtime joins the
 * container's pid (and time) namespace for its children, clones, and the child
 * joins the rest from /proc/<init>/ns before it sets up the process as init's
 * was set up: cgroup, console, user, capabilities, seccomp.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

/* Present only in sanitizer builds. */
extern void __lsan_do_leak_check(void) __attribute__((weak));

static const struct {
	enum oci_ns ns;
	const char *name;
	int type;
} join_order[] = {
    /* user first: the others are owned by it */
    {OCI_NS_USER, "user", CLONE_NEWUSER},	{OCI_NS_IPC, "ipc", CLONE_NEWIPC},
    {OCI_NS_UTS, "uts", CLONE_NEWUTS},		{OCI_NS_NET, "net", CLONE_NEWNET},
    {OCI_NS_CGROUP, "cgroup", CLONE_NEWCGROUP}, {OCI_NS_MNT, "mnt", CLONE_NEWNS},
};

struct exec_ctx {
	struct proc_plan plan;
	int ns_fds[ELEMENTSOF(join_order)];
	int sync_parent, sync_child;
	int console_sock;
	bool terminal;
};

/* An fd for the container's namespace, or -1 when it is the one we are in already. */
static int open_ns(pid_t pid, const char *name)
{
	char a[64], b[64];
	struct stat sa, sb;
	int fd;
	snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, name);
	snprintf(b, sizeof(b), "/proc/self/ns/%s", name);
	if (stat(a, &sa) < 0)
		return -errno;
	if (stat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev)
		return -1;
	fd = open(a, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static _noreturn_ void exec_child(struct exec_ctx *e)
{
	char err[1024] = "";
	struct sync_msg m;
	int r;

	closep(&e->sync_parent);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (sync_recv(e->sync_child, &m, NULL) < 0 || m.type != SYNC_GO)
		_exit(1);
	for (size_t i = 0; i < ELEMENTSOF(join_order); i++) {
		if (e->ns_fds[i] < 0)
			continue;
		if (setns(e->ns_fds[i], join_order[i].type) < 0) {
			r = errbuf_set(err, sizeof(err), errno, "join %s namespace",
				       join_order[i].name);
			goto fail;
		}
		if (join_order[i].type == CLONE_NEWUSER) {
			e->plan.in_userns = true;
			if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
				r = errbuf_set(err, sizeof(err), errno,
					       "become root in the user namespace");
				goto fail;
			}
		}
		closep(&e->ns_fds[i]);
	}
	if (e->terminal) {
		_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		r = terminal_setup(rootfd, e->console_sock,
				   e->console_sock >= 0 ? -1 : e->sync_child, e->plan.p, err,
				   sizeof(err));
		if (r < 0)
			goto fail;
		close(r);
		closep(&e->console_sock);
	}
	r = proc_resolve_exec(&e->plan, err, sizeof(err));
	if (r < 0)
		goto fail;
	r = proc_finalize(&e->plan, err, sizeof(err));
	if (r < 0)
		goto fail;
	r = proc_exec(&e->plan, err, sizeof(err));
fail:
	sync_send(e->sync_child, SYNC_ERROR, -r, err[0] ? err : strerror(-r));
	_exit(r == -ENOENT ? 127 : 126);
}

int runtime_exec(const struct runtime_ctx *ctx, const char *id, const struct oci_process *p,
		 const struct runtime_exec_opts *o, int *ret_status, struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(oci_spec_freep) struct oci_spec *spec = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_close_ int pidns = -EBADF, timens = -EBADF, cgfd = -EBADF;
	struct exec_ctx e = {
	    .sync_parent = -1, .sync_child = -1, .console_sock = -1, .plan.listener_sock = -1};
	struct clone_args args = {.exit_signal = SIGCHLD};
	enum rt_status status;
	struct sync_msg m;
	long pid;
	int r, sp[2], pty = -1;

	*ret_status = 0;
	for (size_t i = 0; i < ELEMENTSOF(join_order); i++)
		e.ns_fds[i] = -1;
	r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	status = rt_state_status(ctx, st);
	if (status == RT_STOPPED)
		return error_setx(err, -EINVAL, "cannot exec in a stopped container");
	if (status == RT_PAUSED)
		return error_setx(err, -EINVAL, "cannot exec in a paused container");
	r = runtime_load_spec(ctx, id, &spec, err);
	if (r < 0)
		return r;
	if (!p->args || !p->args[0])
		return error_setx(err, -EINVAL, "exec: process args must not be empty");
	if (isempty(p->cwd) || p->cwd[0] != '/')
		return error_setx(err, -EINVAL, "exec: cwd must be an absolute path");
	if (p->terminal && !o->console_socket && !o->use_console_fd && o->detach)
		return error_setx(
		    err, -EINVAL,
		    "cannot allocate tty if berth-runtime will detach without setting "
		    "console socket");

	e.plan.p = p;
	e.plan.preserve_fds = o->preserve_fds;
	e.terminal = p->terminal;
	caps_parse(&p->capabilities, &e.plan.caps);
	if (spec->linux.seccomp) {
		_cleanup_free_ char *cache = xasprintf("%s/.seccomp", ctx->state_root);
		r = seccomp_prepare(spec->linux.seccomp, cache, &e.plan.seccomp, err);
		if (r < 0)
			return error_prefix(err, r, "seccomp");
		e.plan.has_seccomp = true;
		e.plan.seccomp_cfg = spec->linux.seccomp;
		if (e.plan.seccomp.notify) {
			e.plan.listener_sock = seccomp_connect_listener(spec->linux.seccomp, err);
			if (e.plan.listener_sock < 0) {
				r = e.plan.listener_sock;
				goto out;
			}
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(join_order); i++) {
		e.ns_fds[i] = open_ns(st->pid, join_order[i].name);
		if (e.ns_fds[i] < -1) {
			r = error_set(err, e.ns_fds[i], "open %s namespace of '%s'",
				      join_order[i].name, id);
			goto out;
		}
	}
	/* LeakSanitizer checks at exit from a helper it clones; once this process has
	 * joined the container's pid namespace for its children, that helper cannot trace
	 * us and the exit hangs. In sanitizer builds, check for leaks now instead. */
	if (__lsan_do_leak_check)
		__lsan_do_leak_check();
	/* pid and time namespaces apply to children: join them here, before the clone. */
	pidns = open_ns(st->pid, "pid");
	if (pidns >= 0 && setns(pidns, CLONE_NEWPID) < 0) {
		r = error_set(err, -errno, "join pid namespace of '%s'", id);
		goto out;
	}
	timens = open_ns(st->pid, "time");
	if (timens >= 0 && setns(timens, 0x80) < 0) {
		r = error_set(err, -errno, "join time namespace of '%s'", id);
		goto out;
	}
	if (o->use_console_fd) {
		e.console_sock = fcntl(o->console_fd, F_DUPFD_CLOEXEC, 3);
		if (e.console_sock < 0) {
			r = error_set(err, -errno, "console fd");
			goto out;
		}
	} else if (o->console_socket) {
		e.console_sock = terminal_connect_socket(o->console_socket, err);
		if (e.console_sock < 0) {
			r = e.console_sock;
			goto out;
		}
	}
	if (st->cgroup_path && cgroup_open(ctx->cgroup_root ? ctx->cgroup_root : "/sys/fs/cgroup",
					   st->cgroup_path, &cg) >= 0) {
		cgfd = cgroup_open_v2_fd(cg);
		if (cgfd >= 0) {
			args.flags |= CLONE_INTO_CGROUP;
			args.cgroup = (uint64_t)cgfd;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		r = error_set(err, -errno, "socketpair");
		goto out;
	}
	e.sync_parent = sp[0];
	e.sync_child = sp[1];

	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && (args.flags & CLONE_INTO_CGROUP)) {
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		closep(&cgfd);
		pid = syscall(SYS_clone3, &args, sizeof(args));
	}
	if (pid < 0) {
		r = error_set(err, -errno, "clone3");
		goto out;
	}
	if (pid == 0)
		exec_child(&e);
	closep(&e.sync_child);
	if (cg && !(args.flags & CLONE_INTO_CGROUP)) {
		r = cgroup_enter(cg, (pid_t)pid, err);
		if (r < 0) {
			kill((pid_t)pid, SIGKILL);
			waitpid((pid_t)pid, NULL, 0);
			goto out;
		}
	}
	r = sync_send(e.sync_parent, SYNC_GO, 0, NULL);
	/* EOF: the exec went through; a message: a pty master or an error. */
	for (;;) {
		int fd;
		r = sync_recv(e.sync_parent, &m, &fd);
		if (r < 0)
			break;
		if (m.type == SYNC_PTY) {
			pty = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (m.type == SYNC_ERROR) {
			waitpid((pid_t)pid, NULL, 0);
			r = error_setx(err, -(m.code ? m.code : EIO), "%s", m.msg);
			goto out;
		}
	}
	r = 0;
	if (o->pid_file) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%ld", pid);
		int k = write_file_replace(o->pid_file, buf, (size_t)n, 0644);
		if (k < 0) {
			r = error_set(err, k, "write pid file '%s'", o->pid_file);
			goto out;
		}
	}
	if (o->detach)
		goto out;
	/* Foreground: forward signals and, without a console socket, copy the terminal. */
	wait_foreground((pid_t)pid, pty, ret_status);
out:
	if (pty >= 0)
		close(pty);
	for (size_t i = 0; i < ELEMENTSOF(join_order); i++)
		closep(&e.ns_fds[i]);
	closep(&e.sync_parent);
	closep(&e.sync_child);
	closep(&e.console_sock);
	seccomp_program_release(&e.plan.seccomp);
	free(e.plan.exec_path);
	closep(&e.plan.listener_sock);
	return r;
}
