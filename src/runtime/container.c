/* SPDX-License-Identifier: Apache-2.0 */
/*
 * create / start / run: the runtime process clones the container's init with
 * its new namespaces, places it in its cgroup, writes its id maps and then
 * talks to it over a SOCK_SEQPACKET pair (internal.h, enum sync_type):
 *
 *   parent                          child (the container's init)
 *   clone3 ─────────────────────────▶ waits for GO
 *   uid/gid maps, cgroup, GO ───────▶ joins namespaces, mounts, devices, console
 *                        ◀────────── HOOKS (only with createRuntime/prestart hooks)
 *   runs the hooks, GO ─────────────▶ createContainer hooks, pivot_root, finish,
 *                                     user, caps, seccomp
 *                        ◀────────── READY
 *   writes state.json, exits (create)  blocks reading exec.fifo until `start`
 *   or GO (run) ────────────────────▶ execve
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "internal.h"

struct create_ctx {
	const struct runtime_ctx *ctx;
	const struct runtime_create_opts *o;
	struct oci_spec *spec;
	char *config_buf;
	size_t config_len;
	char *bundle;
	char *rootfs;
	char *state_dir;
	char *cg_path;
	struct cgroup *cg;
	struct proc_plan plan;
	int sync_parent, sync_child;
	int console_sock;
	int fifo_fd;
	int listen_fds;
	pid_t pid;
	bool run;
	bool userns_new;
	bool state_dir_made;
	bool into_cgroup; /* cloned with CLONE_INTO_CGROUP */
	/* v1: the init moves itself into these `tasks` files (cgroup_open_self_enter) */
	int *enter_fds;
	size_t n_enter_fds;
	bool enter_fds_sent; /* the init has them (in the parent they are closed) */
	bool hook_failed;    /* a prestart/createRuntime hook failed: poststop runs */
	int pty_master;
	char *created;
	int *idmap_fds; /* per mount: user namespace fd for idmapped mounts, or -1 */
};

static void close_enter_fds(struct create_ctx *c)
{
	for (size_t i = 0; i < c->n_enter_fds; i++)
		closep(&c->enter_fds[i]);
	free(c->enter_fds);
	c->enter_fds = NULL;
	c->n_enter_fds = 0;
}

static void create_ctx_release(struct create_ctx *c)
{
	close_enter_fds(c);
	for (size_t i = 0; c->idmap_fds && c->spec && i < c->spec->n_mounts; i++)
		closep(&c->idmap_fds[i]);
	free(c->idmap_fds);
	c->idmap_fds = NULL;
	oci_spec_free(c->spec);
	free(c->config_buf);
	free(c->bundle);
	free(c->rootfs);
	free(c->state_dir);
	free(c->cg_path);
	cgroup_free(c->cg);
	seccomp_program_release(&c->plan.seccomp);
	free(c->plan.exec_path);
	closep(&c->plan.listener_sock);
	free(c->created);
	closep(&c->sync_parent);
	closep(&c->sync_child);
	closep(&c->console_sock);
	closep(&c->fifo_fd);
	closep(&c->pty_master);
}

static bool ns_new(const struct oci_spec *s, enum oci_ns ns)
{
	const struct oci_namespace *n = oci_spec_find_ns(s, ns);
	return n && isempty(n->path);
}

static const char *ns_path(const struct oci_spec *s, enum oci_ns ns)
{
	const struct oci_namespace *n = oci_spec_find_ns(s, ns);
	return n && !isempty(n->path) ? n->path : NULL;
}

static char *state_json_string(const struct create_ctx *c, const char *status)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_add_str(o, "ociVersion", OCI_VERSION);
	json_add_str(o, "id", c->o->id);
	json_add_str(o, "status", status);
	json_add_int(o, "pid", c->pid);
	json_add_str(o, "bundle", c->bundle);
	json_object *ann = json_object_new_object();
	for (size_t i = 0; i < c->spec->annotations.n; i++)
		json_add_str(ann, c->spec->annotations.items[i].key,
			     c->spec->annotations.items[i].value);
	json_object_object_add(o, "annotations", ann);
	return xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* ---- the child ------------------------------------------------------------ */

static int join_ns(const char *path, int type, char *err, size_t errlen)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errbuf_set(err, errlen, errno, "open namespace '%s'", path);
	if (setns(fd, type) < 0)
		return errbuf_set(err, errlen, errno, "join namespace '%s'", path);
	return 0;
}

static int wait_go(int fd, char *err, size_t errlen)
{
	struct sync_msg m;
	int r = sync_recv(fd, &m, NULL);
	if (r < 0)
		return errbuf_set(err, errlen, r, "read from the runtime");
	if (m.type != SYNC_GO)
		return errbuf_set(err, errlen, EPROTO, "unexpected message %d from the runtime",
				  m.type);
	return 0;
}

static int enter_cgroup_ns(const struct oci_spec *s, char *err, size_t errlen)
{
	const char *p = ns_path(s, OCI_NS_CGROUP);
	if (p)
		return join_ns(p, CLONE_NEWCGROUP, err, errlen);
	if (ns_new(s, OCI_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return errbuf_set(err, errlen, errno, "create cgroup namespace");
	return 0;
}

/*
 * create: the init reports ready before its last steps (the seccomp filter, which the
 * kernel takes half a millisecond to check and compile, capabilities, the user), and takes
 * them while the caller goes on towards start; they are done before it opens exec.fifo, and
 * an error in them travels through the fifo to start ('E' and the message instead of '0').
 * Not with startContainer hooks (those run first) or a seccomp agent (it gets its listener
 * during create), and not for run, which has no fifo.
 */
static bool finalize_late(const struct create_ctx *c)
{
	return !c->run && !c->spec->hooks.n_start_container &&
	       !(c->plan.has_seccomp && c->plan.seccomp.notify);
}

static int child_setup(struct create_ctx *c, char *err, size_t errlen)
{
	const struct oci_spec *s = c->spec;
	const char *p;
	struct rootfs_ctx rc = {
	    .spec = s,
	    .bundle = c->bundle,
	    .rootfs = c->rootfs,
	    .cg = c->cg,
	    .console_socket = c->console_sock,
	    .sync_fd = c->console_sock >= 0 ? -1 : c->sync_child,
	    .devnull_fd = -1,
	    .null_tree = -1,
	};
	int r;

	r = wait_go(c->sync_child, err, errlen);
	if (r < 0)
		return r;
	if (c->userns_new) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return errbuf_set(err, errlen, errno, "become root in the user namespace");
	}
	if ((p = ns_path(s, OCI_NS_USER))) {
		r = join_ns(p, CLONE_NEWUSER, err, errlen);
		if (r < 0)
			return r;
	}
	if ((p = ns_path(s, OCI_NS_MNT))) {
		r = join_ns(p, CLONE_NEWNS, err, errlen);
		if (r < 0)
			return r;
	}
	/* Born in its cgroup (v2), the init enters its cgroup namespace now, so a cgroup2
	 * mount shows the container's cgroup as its root. Otherwise (v1) the runtime moves
	 * it while it sets up the rootfs (the first cgroup.procs write waits for an RCU grace
	 * period, milliseconds), and it enters the namespace once the runtime says so. */
	if (c->into_cgroup) {
		r = enter_cgroup_ns(s, err, errlen);
		if (r < 0)
			return r;
	}
	rc.userns = c->userns_new || ns_path(s, OCI_NS_USER);
	rc.new_mntns = ns_new(s, OCI_NS_MNT);
	rc.no_pivot = c->o->no_pivot;
	rc.idmap_fds = c->idmap_fds;
	c->plan.in_userns = rc.userns;
	r = rootfs_setup(&rc, err, errlen);
	if (r < 0)
		return r;
	if (!c->into_cgroup) {
		if (c->enter_fds) {
			/* v1: move itself, one thread, without the global lock (cgroup.h) */
			for (size_t i = 0; i < c->n_enter_fds; i++) {
				ssize_t k;
				do
					k = write(c->enter_fds[i], "0", 1);
				while (k < 0 && errno == EINTR);
				if (k != 1)
					return errbuf_set(err, errlen, k < 0 ? errno : EIO,
							  "enter the container's cgroup");
			}
			close_enter_fds(c);
		} else if (c->cg) {
			r = wait_go(c->sync_child, err, errlen);
			if (r < 0)
				return r;
		}
		r = enter_cgroup_ns(s, err, errlen);
		if (r < 0)
			return r;
	}

	if (s->hooks.n_prestart || s->hooks.n_create_runtime) {
		r = sync_send(c->sync_child, SYNC_HOOKS, 0, NULL);
		if (r < 0)
			return errbuf_set(err, errlen, r, "talk to the runtime");
		r = wait_go(c->sync_child, err, errlen);
		if (r < 0)
			return r;
	}
	if (s->hooks.n_create_container) {
		_cleanup_error_ struct error *e = NULL;
		_cleanup_free_ char *st = state_json_string(c, "created");
		r = hooks_run(s->hooks.create_container, s->hooks.n_create_container, st,
			      "createContainer", &e);
		if (r < 0)
			return errbuf_set(err, errlen, 0, "%s", e->msg) + r;
	}

	r = rootfs_pivot(&rc, err, errlen);
	if (r < 0)
		return r;
	r = rootfs_finish(&rc, err, errlen);
	if (r < 0)
		return r;
	r = proc_resolve_exec(&c->plan, err, errlen);
	if (r < 0)
		return r;
	if (c->plan.has_seccomp && c->plan.seccomp.notify)
		c->plan.state_json = state_json_string(c, "creating");
	if (!s->hooks.n_start_container && !finalize_late(c)) {
		r = proc_finalize(&c->plan, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static _noreturn_ void child_main(struct create_ctx *c)
{
	char err[1024] = "";
	int r;

	closep(&c->sync_parent);
	/* Our pid for the state given to createContainer/startContainer hooks and a seccomp
	 * agent: the host's, as runc gives (the host's /proc is still mounted here). */
	{
		char self[32] = "";
		ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
		if (n <= 0 || safe_atoi(self, &c->pid) < 0)
			c->pid = getpid();
	}
	/* Nobody but root may look at us through /proc before execve (runc does the same). */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	r = child_setup(c, err, sizeof(err));
	if (r < 0) {
		sync_send(c->sync_child, SYNC_ERROR, -r, err[0] ? err : strerror(-r));
		_exit(1);
	}
	if (sync_send(c->sync_child, SYNC_READY, 0, NULL) < 0)
		_exit(1);
	log_close();

	/* Wait for start: run sends GO; create leaves us reading exec.fifo. */
	if (c->run) {
		if (wait_go(c->sync_child, err, sizeof(err)) < 0)
			_exit(1);
	} else {
		/* exec.fifo the runc way: opening it for writing blocks until `start` opens it
		 * for reading; we write one byte and keep the fd (close-on-exec) so `start`
		 * sees EOF exactly when the user's process is exec'd. */
		char p[64], ferr[1024] = "";
		int w, fr = finalize_late(c) ? proc_finalize(&c->plan, ferr, sizeof(ferr)) : 0;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", c->fifo_fd);
		do
			w = open(p, O_WRONLY | O_CLOEXEC);
		while (w < 0 && errno == EINTR);
		if (w >= 0 && fr < 0) {
			if (!ferr[0])
				snprintf(ferr, sizeof(ferr), "%s", strerror(-fr));
			(void)!write(w, "E", 1);
			(void)!write(w, ferr, strlen(ferr));
			_exit(1);
		}
		if (w < 0 || write(w, "0", 1) != 1)
			_exit(1);
		closep(&c->fifo_fd);
	}
	if (c->spec->hooks.n_start_container) {
		_cleanup_error_ struct error *e = NULL;
		_cleanup_free_ char *st = state_json_string(c, "running");
		if (hooks_run(c->spec->hooks.start_container, c->spec->hooks.n_start_container, st,
			      "startContainer", &e) < 0) {
			dprintf(2, "berth-runtime: %s\n", e->msg);
			_exit(1);
		}
		if (proc_finalize(&c->plan, err, sizeof(err)) < 0) {
			dprintf(2, "berth-runtime: %s\n", err);
			_exit(1);
		}
	}
	c->plan.listen_fds = c->listen_fds;
	r = proc_exec(&c->plan, err, sizeof(err));
	/* Reached only when execve failed. */
	if (c->run)
		sync_send(c->sync_child, SYNC_ERROR, -r, err);
	dprintf(2, "berth-runtime: %s\n", err);
	_exit(r == -ENOENT ? 127 : 126);
}

/* ---- the parent ----------------------------------------------------------- */

static int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
			struct error **err)
{
	char path[64], buf[4096];
	size_t used = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		int k = snprintf(buf + used, sizeof(buf) - used, "%u %u %u\n", m[i].container_id,
				 m[i].host_id, m[i].size);
		if (k < 0 || (size_t)k >= sizeof(buf) - used)
			return error_setx(err, -E2BIG, "too many id mappings");
		used += (size_t)k;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	r = write_file_at(AT_FDCWD, path, buf);
	if (r < 0)
		return error_set(err, r, "write %s", file);
	return 0;
}

static void kill_child(struct create_ctx *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
}

/* Undo a failed create: nothing may be left behind. */
static void create_cleanup(struct create_ctx *c)
{
	kill_child(c);
	if (c->hook_failed && c->spec->hooks.n_poststop) {
		/* runtime-spec lifecycle: stop the container, continue at the poststop hooks. */
		_cleanup_error_ struct error *e = NULL;
		_cleanup_free_ char *st = state_json_string(c, "stopped");
		if (hooks_run(c->spec->hooks.poststop, c->spec->hooks.n_poststop, st, "poststop",
			      &e) < 0)
			log_warn("warning: %s", e->msg);
	}
	if (c->cg) {
		cgroup_destroy(c->cg);
	}
	if (c->state_dir_made)
		rm_rf(c->state_dir);
}

static int setns_path(const char *path, int type, int *saved, const char *self, struct error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, -errno, "open namespace '%s'", path);
	if (saved) {
		*saved = open(self, O_RDONLY | O_CLOEXEC);
		if (*saved < 0)
			return error_set(err, -errno, "open '%s'", self);
	}
	if (setns(fd, type) < 0)
		return error_set(err, -errno, "join namespace '%s'", path);
	return 0;
}

static int do_clone(struct create_ctx *c, struct error **err)
{
	const struct oci_spec *s = c->spec;
	struct clone_args args = {.exit_signal = SIGCHLD};
	static const struct {
		enum oci_ns ns;
		int type;
		const char *self;
	} parent_joins[] = {
	    {OCI_NS_NET, CLONE_NEWNET, "/proc/self/ns/net"},
	    {OCI_NS_IPC, CLONE_NEWIPC, "/proc/self/ns/ipc"},
	    {OCI_NS_UTS, CLONE_NEWUTS, "/proc/self/ns/uts"},
	    {OCI_NS_PID, CLONE_NEWPID, "/proc/self/ns/pid_for_children"},
	    {OCI_NS_TIME, 0x80, "/proc/self/ns/time_for_children"},
	};
	int saved[ELEMENTSOF(parent_joins)];
	_cleanup_close_ int cgfd = -EBADF;
	int r = 0;
	long pid;

	for (size_t i = 0; i < ELEMENTSOF(parent_joins); i++)
		saved[i] = -1;
	/* Namespaces joined by path: joined here, inherited by the child, so they work with
	 * a new user namespace too; the runtime's own are restored right after the clone. */
	for (size_t i = 0; i < ELEMENTSOF(parent_joins) && r >= 0; i++) {
		const char *p = ns_path(s, parent_joins[i].ns);
		if (p)
			r = setns_path(p, parent_joins[i].type, &saved[i], parent_joins[i].self,
				       err);
	}
	if (r >= 0 && ns_new(s, OCI_NS_TIME)) {
		/* Offsets can be written only before a process enters the namespace. */
		if (unshare(0x80 /* CLONE_NEWTIME */) < 0) {
			r = error_set(err, -errno, "create time namespace");
		} else {
			for (size_t i = 0; i < s->linux.time_offsets.n && r >= 0; i++) {
				const char *k = s->linux.time_offsets.items[i].key;
				_cleanup_free_ char *line = xasprintf(
				    "%s %s\n", streq(k, "boottime") ? "boottime" : "monotonic",
				    s->linux.time_offsets.items[i].value);
				r = write_file_at(AT_FDCWD, "/proc/self/timens_offsets", line);
				if (r < 0)
					error_set(err, r, "write time offsets");
			}
		}
	}
	if (r < 0)
		goto restore;

	for (int ns = 0; ns < _OCI_NS_MAX; ns++)
		if (ns != OCI_NS_CGROUP && ns != OCI_NS_TIME && ns_new(s, (enum oci_ns)ns))
			args.flags |= (uint64_t)oci_ns_clone_flag((enum oci_ns)ns);
	cgfd = c->cg ? cgroup_open_v2_fd(c->cg) : -EOPNOTSUPP;
	if (cgfd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	} else if (c->cg && cgroup_open_self_enter(c->cg, &c->enter_fds, &c->n_enter_fds) >= 0) {
		/* v1 or hybrid: born into the unified part when there is one, the init moves
		 * itself into the v1 hierarchies */
		cgfd = cgroup_open_unified_fd(c->cg);
		if (cgfd >= 0) {
			args.flags |= CLONE_INTO_CGROUP;
			args.cgroup = (uint64_t)cgfd;
		} else if (cgfd != -EOPNOTSUPP) {
			close_enter_fds(c); /* hybrid without its unified part: cgroup_enter */
		}
	}
	c->into_cgroup = cgfd >= 0 && !c->enter_fds;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && (args.flags & CLONE_INTO_CGROUP)) {
		/* the runtime moves it (cgroup_enter) instead */
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		closep(&cgfd);
		c->into_cgroup = false;
		close_enter_fds(c);
		pid = syscall(SYS_clone3, &args, sizeof(args));
	}
	/* the init has its copies of the `tasks` fds; ours go (not before a failed clone) */
	if (pid > 0 && c->enter_fds) {
		for (size_t i = 0; i < c->n_enter_fds; i++)
			closep(&c->enter_fds[i]);
		c->enter_fds_sent = true;
	}
	if (pid < 0 && errno == ENOSYS) {
		/* Old kernels: plain clone semantics through fork + unshare in the child
		 * would differ for pid namespaces; refuse clearly instead. */
		r = error_set(err, -ENOSYS, "clone3");
		goto restore;
	}
	if (pid < 0) {
		r = error_set(err, -errno, "create the container's namespaces (clone3)");
		goto restore;
	}
	if (pid == 0) {
		/* The init keeps nothing of the runtime's: not the cgroup directory it was born
		 * into (a host directory fd is what CVE-2024-21626 abused), not the runtime's
		 * own namespaces. */
		closep(&cgfd);
		for (size_t i = 0; i < ELEMENTSOF(parent_joins); i++)
			closep(&saved[i]);
		child_main(c);
	}
	c->pid = (pid_t)pid;
	r = 0;
restore:
	for (size_t i = 0; i < ELEMENTSOF(parent_joins); i++)
		if (saved[i] >= 0) {
			if (setns(saved[i], parent_joins[i].type) < 0 && r >= 0)
				r = error_set(err, -errno, "restore the runtime's namespace");
			close(saved[i]);
		}
	return r;
}

/*
 * The devices every container gets on top of the spec's rules, as runc adds them:
 * mknod of anything (access stays denied), the default nodes, ptys, and
 * /dev/net/tun; then each device the spec creates.
 */
static void add_default_device_rules(struct oci_spec *s)
{
	static const struct {
		char type;
		int64_t major, minor;
		const char *access;
	} rules[] = {
	    {'c', -1, -1, "m"},	   {'b', -1, -1, "m"}, {'c', 1, 3, "rwm"},    {'c', 1, 8, "rwm"},
	    {'c', 1, 7, "rwm"},	   {'c', 5, 0, "rwm"}, {'c', 1, 5, "rwm"},    {'c', 1, 9, "rwm"},
	    {'c', 136, -1, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 10, 200, "rwm"},
	};
	struct oci_resources *res = &s->linux.resources;
	size_t n = res->n_devices + ELEMENTSOF(rules) + s->linux.n_devices;
	bool privileged_all = false;

	/* A spec that already allows everything needs nothing more. */
	for (size_t i = 0; i < res->n_devices; i++)
		if (res->devices[i].allow &&
		    (!res->devices[i].type || streq(res->devices[i].type, "a")) &&
		    !res->devices[i].major.set && !res->devices[i].minor.set)
			privileged_all = true;
	if (privileged_all)
		return;
	res->devices = xrealloc(res->devices, sizeof(*res->devices) * n);
	for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
		struct oci_device_cgroup *d = &res->devices[res->n_devices++];
		memset(d, 0, sizeof(*d));
		d->allow = true;
		d->type = xasprintf("%c", rules[i].type);
		d->major = (struct opt_i64){rules[i].major >= 0, rules[i].major};
		d->minor = (struct opt_i64){rules[i].minor >= 0, rules[i].minor};
		d->access = xstrdup(rules[i].access);
	}
	for (size_t i = 0; i < s->linux.n_devices; i++) {
		const struct oci_device *dev = &s->linux.devices[i];
		struct oci_device_cgroup *d = &res->devices[res->n_devices++];
		memset(d, 0, sizeof(*d));
		d->allow = true;
		d->type = xstrdup(dev->type[0] == 'b' ? "b" : "c");
		d->major = (struct opt_i64){true, dev->major};
		d->minor = (struct opt_i64){true, dev->minor};
		d->access = xstrdup("rwm");
	}
	res->present = true;
}

static int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
			struct error **err);

/* A user namespace with the given mappings, as an fd, for mount_setattr(MOUNT_ATTR_IDMAP):
 * a child is born in a new user namespace, its maps are written, its ns fd kept. */
static int make_userns_fd(const struct oci_id_mapping *u, size_t nu, const struct oci_id_mapping *g,
			  size_t ng, struct error **err)
{
	struct clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
	int p[2], fd, r;
	char path[64];
	long pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return error_set(err, -errno, "pipe");
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		char b;
		close(p[1]);
		(void)!read(p[0], &b, 1);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return error_set(err, -errno, "create user namespace for an idmapped mount");
	}
	r = write_id_map((pid_t)pid, "uid_map", u, nu, err);
	if (r >= 0)
		r = write_id_map((pid_t)pid, "gid_map", g, ng, err);
	snprintf(path, sizeof(path), "/proc/%ld/ns/user", pid);
	fd = r < 0 ? r : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && r >= 0)
		r = error_set(err, -errno, "open '%s'", path);
	close(p[1]);
	while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

static int prepare_idmaps(struct create_ctx *c, struct error **err)
{
	const struct oci_spec *s = c->spec;
	c->idmap_fds = xnew0(int, s->n_mounts + 1);
	for (size_t i = 0; i < s->n_mounts; i++)
		c->idmap_fds[i] = -1;
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct oci_mount *m = &s->mounts[i];
		const struct oci_id_mapping *u = m->uid_mappings, *g = m->gid_mappings;
		size_t nu = m->n_uid_mappings, ng = m->n_gid_mappings;
		if (!mount_wants_idmap(m))
			continue;
		/* Without mappings of its own a mount takes the container's. */
		if (!nu) {
			u = s->linux.uid_mappings;
			nu = s->linux.n_uid_mappings;
		}
		if (!ng) {
			g = s->linux.gid_mappings;
			ng = s->linux.n_gid_mappings;
		}
		if (!nu || !ng)
			return error_setx(
			    err, -EINVAL,
			    "invalid value for 'mounts[%zu]': an idmapped mount needs uid "
			    "and gid mappings (its own or the container's)",
			    i);
		c->idmap_fds[i] = make_userns_fd(u, nu, g, ng, err);
		if (c->idmap_fds[i] < 0)
			return error_prefix(err, c->idmap_fds[i], "mounts[%zu]", i);
	}
	return 0;
}

static int prepare(struct create_ctx *c, struct error **err)
{
	const struct runtime_ctx *ctx = c->ctx;
	const struct runtime_create_opts *o = c->o;
	_cleanup_free_ char *cfg = NULL;
	_cleanup_json_ json_object *doc = NULL;
	char *rp;
	int r;

	if (!runtime_id_valid(o->id))
		return error_setx(err, -EINVAL, "invalid container id '%s'", o->id ? o->id : "");
	rp = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!rp)
		return error_set(err, -errno, "bundle '%s'", o->bundle ? o->bundle : ".");
	c->bundle = rp;
	cfg = o->config_path ? xstrdup(o->config_path) : xasprintf("%s/config.json", c->bundle);
	r = read_file_at(AT_FDCWD, cfg, 16 << 20, &c->config_buf, &c->config_len);
	if (r < 0)
		return error_set(err, r, "read '%s'", cfg);
	r = json_parse_buffer(c->config_buf, c->config_len, &doc, err);
	if (r >= 0)
		r = oci_spec_parse(doc, &c->spec, err);
	if (r >= 0)
		r = oci_spec_validate(c->spec, err);
	if (r < 0)
		return error_prefix(err, r, "invalid config '%s'", cfg);
	if (!c->spec->process)
		return error_setx(err, -EINVAL,
				  "invalid config '%s': missing required field 'process'", cfg);
	{
		_cleanup_free_ char *rootp =
		    c->spec->root.path[0] == '/'
			? xstrdup(c->spec->root.path)
			: xasprintf("%s/%s", c->bundle, c->spec->root.path);
		c->rootfs = realpath(rootp, NULL);
		if (!c->rootfs)
			return error_set(err, -errno, "rootfs '%s'", rootp);
	}
	if (c->spec->process->terminal && !o->console_socket && !o->use_console_fd &&
	    !(c->run && !o->detach))
		return error_setx(
		    err, -EINVAL,
		    "cannot allocate tty if berth-runtime will detach without setting "
		    "console socket");
	if (!c->spec->process->terminal && o->console_socket)
		return error_setx(err, -EINVAL,
				  "cannot use console socket if berth-runtime will not detach or "
				  "allocate tty");

	/* The state directory doubles as the lock against a second create of the id. */
	r = mkdir_p(ctx->state_root, 0700);
	if (r < 0)
		return error_set(err, r, "create state root '%s'", ctx->state_root);
	c->state_dir = rt_state_dir(ctx, o->id);
	if (mkdir(c->state_dir, 0700) < 0) {
		if (errno == EEXIST)
			return error_setx(err, -EEXIST, "container with id exists: %s", o->id);
		return error_set(err, -errno, "create '%s'", c->state_dir);
	}
	c->state_dir_made = true;
	{
		_cleanup_free_ char *copy = xasprintf("%s/config.json", c->state_dir);
		r = write_file_replace(copy, c->config_buf, c->config_len, 0600);
		if (r < 0)
			return error_set(err, r, "save config");
	}

	c->plan.p = c->spec->process;
	c->plan.preserve_fds = o->preserve_fds;
	caps_parse(&c->spec->process->capabilities, &c->plan.caps);
	if (c->spec->linux.seccomp) {
		_cleanup_free_ char *cache = xasprintf("%s/.seccomp", ctx->state_root);
		(void)mkdir(cache, 0700);
		r = seccomp_prepare(c->spec->linux.seccomp, cache, &c->plan.seccomp, err);
		if (r < 0)
			return error_prefix(err, r, "seccomp");
		c->plan.has_seccomp = true;
		c->plan.seccomp_cfg = c->spec->linux.seccomp;
		if (c->plan.seccomp.notify) {
			c->plan.listener_sock =
			    seccomp_connect_listener(c->spec->linux.seccomp, err);
			if (c->plan.listener_sock < 0)
				return c->plan.listener_sock;
		}
	}
	{
		const char *lf = getenv("LISTEN_FDS");
		int n;
		if (lf && safe_atoi(lf, &n) >= 0 && n > 0)
			c->listen_fds = n;
	}
	if (o->use_console_fd) {
		c->console_sock = fcntl(o->console_fd, F_DUPFD_CLOEXEC, 3);
		if (c->console_sock < 0)
			return error_set(err, -errno, "console fd");
	} else if (o->console_socket) {
		c->console_sock = terminal_connect_socket(o->console_socket, err);
		if (c->console_sock < 0)
			return c->console_sock;
	}
	if (!c->run) {
		_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", c->state_dir);
		/* 0622: the init may have dropped to another user (or be in a user namespace)
		 * when it opens it; the state directory (0700) keeps everyone else out. */
		if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0)
			return error_set(err, -errno, "create '%s'", fifo);
		c->fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
		if (c->fifo_fd < 0)
			return error_set(err, -errno, "open '%s'", fifo);
	}

	/* The cgroup exists before the clone so the child can be born in it (v2). */
	add_default_device_rules(c->spec);
	if (c->spec->linux.cgroups_path || ctx->cgroup_root) {
		r = cgroup_resolve_path(c->spec->linux.cgroups_path, o->id, ctx->systemd_cgroup,
					&c->cg_path, err);
		if (r < 0)
			return r;
		r = cgroup_create(ctx->cgroup_root ? ctx->cgroup_root : "/sys/fs/cgroup",
				  c->cg_path, &c->spec->linux.resources, &c->cg, err);
		if (r < 0)
			return error_prefix(err, r, "cgroup");
	}
	r = prepare_idmaps(c, err);
	if (r < 0)
		return r;
	c->userns_new = ns_new(c->spec, OCI_NS_USER);
	{
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			return error_set(err, -errno, "socketpair");
		c->sync_parent = sp[0];
		c->sync_child = sp[1];
	}
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		c->created = format_rfc3339(&ts);
	}
	return 0;
}

static int talk_to_child(struct create_ctx *c, struct error **err)
{
	const struct oci_spec *s = c->spec;
	struct sync_msg m;
	int r, fd;

	closep(&c->sync_child);
	if (c->userns_new) {
		r = write_id_map(c->pid, "uid_map", s->linux.uid_mappings, s->linux.n_uid_mappings,
				 err);
		if (r >= 0)
			r = write_id_map(c->pid, "gid_map", s->linux.gid_mappings,
					 s->linux.n_gid_mappings, err);
		if (r < 0)
			return r;
	}
	r = sync_send(c->sync_parent, SYNC_GO, 0, NULL);
	if (r < 0)
		return error_set(err, r, "start the container's init");
	if (c->cg && !c->into_cgroup && !c->enter_fds_sent) {
		/* While the init sets up its rootfs; it waits for this GO before it enters
		 * its cgroup namespace. */
		r = cgroup_enter(c->cg, c->pid, err);
		if (r < 0)
			return r;
		/* If this fails the init has exited: its SYNC_ERROR, if any, is still
		 * queued for the loop below to report. */
		(void)sync_send(c->sync_parent, SYNC_GO, 0, NULL);
	}
	for (bool reset = false;;) {
		r = sync_recv(c->sync_parent, &m, &fd);
		/* The init exited with our GO unread: the error it sent comes next. */
		if (r == -ECONNRESET && !reset) {
			reset = true;
			continue;
		}
		if (r == -EPIPE)
			return error_setx(err, -EIO, "the container's init exited during setup");
		if (r < 0)
			return error_set(err, r, "read from the container's init");
		switch (m.type) {
		case SYNC_ERROR:
			return error_setx(err, -(m.code ? m.code : EIO), "%s", m.msg);
		case SYNC_PTY:
			closep(&c->pty_master);
			c->pty_master = fd;
			break;
		case SYNC_HOOKS: {
			_cleanup_free_ char *st = state_json_string(c, "creating");
			r = hooks_run(s->hooks.prestart, s->hooks.n_prestart, st, "prestart", err);
			if (r >= 0)
				r = hooks_run(s->hooks.create_runtime, s->hooks.n_create_runtime,
					      st, "createRuntime", err);
			if (r < 0) {
				c->hook_failed = true;
				return r;
			}
			r = sync_send(c->sync_parent, SYNC_GO, 0, NULL);
			if (r < 0)
				return error_set(err, r, "continue the container's init");
			break;
		}
		case SYNC_READY:
			if (fd >= 0)
				close(fd);
			return 0;
		default:
			if (fd >= 0)
				close(fd);
			return error_setx(err, -EPROTO, "unexpected message %d from init", m.type);
		}
	}
}

static int write_pid_file(const char *path, pid_t pid, struct error **err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	int r = write_file_replace(path, buf, (size_t)n, 0644);
	if (r < 0)
		return error_set(err, r, "write pid file '%s'", path);
	return 0;
}

static int save_state(struct create_ctx *c, struct error **err)
{
	struct rt_state st = {
	    .id = (char *)c->o->id,
	    .pid = c->pid,
	    .pid_start = proc_start_time(c->pid, NULL),
	    .bundle = c->bundle,
	    .rootfs = c->rootfs,
	    .created = c->created,
	    .cgroup_path = c->cg ? c->cg->path : NULL,
	    .systemd_cgroup = c->ctx->systemd_cgroup,
	};
	json_object *ann = json_object_new_object();
	int r;
	for (size_t i = 0; i < c->spec->annotations.n; i++)
		json_add_str(ann, c->spec->annotations.items[i].key,
			     c->spec->annotations.items[i].value);
	st.annotations = ann;
	r = rt_state_save(c->ctx, &st, err);
	json_object_put(ann);
	if (r < 0)
		return r;
	if (c->o->pid_file)
		return write_pid_file(c->o->pid_file, c->pid, err);
	return 0;
}

static int do_create(struct create_ctx *c, struct error **err)
{
	int r = prepare(c, err);
	if (r < 0)
		return r;
	r = do_clone(c, err);
	if (r < 0)
		return r;
	r = talk_to_child(c, err);
	if (r < 0)
		return r;
	return save_state(c, err);
}

int runtime_create(const struct runtime_ctx *ctx, const struct runtime_create_opts *o,
		   struct error **err)
{
	struct create_ctx c = {.ctx = ctx,
			       .o = o,
			       .sync_parent = -1,
			       .sync_child = -1,
			       .console_sock = -1,
			       .fifo_fd = -1,
			       .pty_master = -1,
			       .plan.listener_sock = -1};
	int r = do_create(&c, err);
	if (r < 0)
		create_cleanup(&c);
	create_ctx_release(&c);
	return r;
}

/* ---- start ------------------------------------------------------------------ */

static int load_saved_spec(const struct runtime_ctx *ctx, const char *id, struct oci_spec **ret,
			   struct error **err)
{
	_cleanup_free_ char *dir = rt_state_dir(ctx, id);
	_cleanup_free_ char *path = xasprintf("%s/config.json", dir);
	return oci_spec_load(path, ret, err);
}

int runtime_load_spec(const struct runtime_ctx *ctx, const char *id, struct oci_spec **ret,
		      struct error **err)
{
	return load_saved_spec(ctx, id, ret, err);
}

static void run_poststart(const struct runtime_ctx *ctx, const struct rt_state *st,
			  const struct oci_spec *spec)
{
	_cleanup_error_ struct error *e = NULL;
	_cleanup_json_ json_object *o = rt_state_json(st, RT_RUNNING);
	if (!spec->hooks.n_poststart)
		return;
	if (hooks_run(spec->hooks.poststart, spec->hooks.n_poststart,
		      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "poststart",
		      &e) < 0)
		log_warn("warning: %s", e->msg);
}

/*
 * The init writes one byte into exec.fifo once it is released and keeps the write end
 * until execve: read the byte, then wait for EOF, so poststart hooks run after the
 * user's process started. The init's pidfd ends the wait if it dies instead.
 */
static int wait_exec_fifo(int fd, const struct rt_state *st, char *msg, size_t msg_len)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	bool got_byte = false, failed = false;
	size_t n_msg = 0;

	if (pidfd < 0 || proc_start_time(st->pid, NULL) != st->pid_start)
		return -ESRCH;
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = pidfd, .events = POLLIN}};
		char b;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			n = read(fd, &b, 1);
			if (n == 1 && !got_byte) {
				got_byte = true;
				failed = b == 'E'; /* its last steps failed: the message follows */
				continue;
			}
			if (n == 1) {
				if (failed && n_msg + 1 < msg_len)
					msg[n_msg++] = b;
				continue;
			}
			if (n == 0 && failed) {
				msg[n_msg] = 0;
				return -EPERM;
			}
			if (n == 0 && got_byte)
				return 0; /* exec'd: the init's write end closed */
			if (n == 0)
				return -ESRCH; /* it opened the fifo and died */
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		if ((p[1].revents & POLLIN) && !(p[0].revents & (POLLIN | POLLHUP)))
			return got_byte && !failed ? 0 : -ESRCH;
	}
}

int runtime_start(const struct runtime_ctx *ctx, const char *id, struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(oci_spec_freep) struct oci_spec *spec = NULL;
	_cleanup_free_ char *fifo = NULL;
	_cleanup_close_ int fd = -EBADF;
	enum rt_status status;
	int r;

	r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	status = rt_state_status(ctx, st);
	if (status == RT_STOPPED)
		return error_setx(err, -EINVAL, "cannot start a container that has stopped");
	if (status != RT_CREATED)
		return error_setx(err, -EINVAL, "cannot start an already running container");
	fifo = xasprintf("%s/%s/exec.fifo", ctx->state_root, id);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, -errno, "open '%s'", fifo);
	char msg[1024] = "";
	r = wait_exec_fifo(fd, st, msg, sizeof(msg));
	if (r == -EPERM)
		return error_setx(err, -EINVAL, "%s", msg[0] ? msg : "container init failed");
	if (r == -ESRCH)
		return error_setx(err, -EINVAL, "cannot start a container that has stopped");
	if (r < 0)
		return error_set(err, r, "start container");
	unlink(fifo);
	r = load_saved_spec(ctx, id, &spec, err);
	if (r < 0)
		return r;
	run_poststart(ctx, st, spec);
	return 0;
}

/* ---- run: wait, forward signals, copy the terminal ------------------------- */

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

int wait_foreground(pid_t pid, int pty, int *ret_status)
{
	static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	sigset_t set, old;
	_cleanup_close_ int sfd = -EBADF;
	int status;
	bool in_open = pty >= 0;

	sigemptyset(&set);
	for (size_t i = 0; i < ELEMENTSOF(fwd); i++)
		sigaddset(&set, fwd[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	if (pty >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		struct winsize ws;
		tio_saved = true;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			ioctl(pty, TIOCSWINSZ, &ws);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
				      {.fd = pty, .events = POLLIN},
				      {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN}};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if ((int)si.ssi_signo == SIGCHLD)
					continue;
				if ((int)si.ssi_signo == SIGWINCH && pty >= 0) {
					struct winsize ws;
					if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
						ioctl(pty, TIOCSWINSZ, &ws);
					continue;
				}
				kill(pid, (int)si.ssi_signo);
			}
		}
		if (pty >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			char buf[8192];
			ssize_t n = read(pty, buf, sizeof(buf));
			if (n > 0)
				(void)loop_write(STDOUT_FILENO, buf, (size_t)n);
			else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				pty = -1; /* the child hung up; keep waiting for it */
		}
		if (in_open && (p[2].revents & (POLLIN | POLLHUP))) {
			char buf[8192];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0 && pty >= 0)
				(void)loop_write(pty, buf, (size_t)n);
			else if (n <= 0)
				in_open = false;
		}
	}
	restore_tty();
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (WIFEXITED(status))
		*ret_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*ret_status = 128 + WTERMSIG(status);
	else
		*ret_status = 255;
	return 0;
}

int runtime_run(const struct runtime_ctx *ctx, const struct runtime_create_opts *o, int *ret_status,
		struct error **err)
{
	struct create_ctx c = {.ctx = ctx,
			       .o = o,
			       .sync_parent = -1,
			       .sync_child = -1,
			       .console_sock = -1,
			       .fifo_fd = -1,
			       .pty_master = -1,
			       .run = true,
			       .plan.listener_sock = -1};
	struct sync_msg m;
	int r, fd;

	*ret_status = 0;
	r = do_create(&c, err);
	if (r < 0)
		goto fail;
	r = sync_send(c.sync_parent, SYNC_GO, 0, NULL);
	if (r < 0) {
		error_set(err, r, "start container");
		goto fail;
	}
	/* EOF: the exec went through (the socket closed on exec); a message: it failed. */
	r = sync_recv(c.sync_parent, &m, &fd);
	if (r == 0 && m.type == SYNC_ERROR) {
		error_setx(err, -(m.code ? m.code : EIO), "%s", m.msg);
		r = -(m.code ? m.code : EIO);
		goto fail;
	}
	if (c.spec->hooks.n_poststart) {
		struct rt_state st = {.id = (char *)o->id,
				      .pid = c.pid,
				      .bundle = c.bundle,
				      .rootfs = c.rootfs,
				      .created = c.created};
		run_poststart(ctx, &st, c.spec);
	}
	if (o->detach) {
		create_ctx_release(&c);
		return 0;
	}
	wait_foreground(c.pid, c.pty_master, ret_status);
	c.pid = 0;
	if (!o->keep) {
		_cleanup_error_ struct error *e = NULL;
		if (runtime_delete(ctx, o->id, true, &e) < 0)
			log_warn("warning: %s", e->msg);
	}
	create_ctx_release(&c);
	return 0;
fail:
	create_cleanup(&c);
	create_ctx_release(&c);
	return r;
}
