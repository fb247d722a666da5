/* SPDX-License-Identifier: Apache-2.0 */
/* state, kill, delete, pause, resume, update, ps: operations on an existing container. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>

#include "internal.h"

int terminal_connect_socket(const char *path, struct error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return error_set(err, -errno, "socket");
	if (strlen(path) >= sizeof(sa.sun_path))
		return error_setx(err, -ENAMETOOLONG, "console socket path too long: '%s'", path);
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return error_set(err, -errno, "connect to console socket '%s'", path);
	return TAKE_FD(fd);
}

int runtime_state(const struct runtime_ctx *ctx, const char *id, json_object **ret,
		  struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	int r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	*ret = rt_state_json(st, rt_state_status(ctx, st));
	return 0;
}

static int open_cgroup(const struct runtime_ctx *ctx, const struct rt_state *st,
		       struct cgroup **ret, struct error **err)
{
	int r;
	if (!st->cgroup_path)
		return error_setx(err, -ENOENT, "container '%s' has no cgroup", st->id);
	r = cgroup_open(ctx->cgroup_root ? ctx->cgroup_root : "/sys/fs/cgroup", st->cgroup_path,
			ret);
	if (r < 0)
		return error_set(err, r, "open cgroup of '%s'", st->id);
	return 0;
}

/* Signal the init through a pidfd checked against the recorded start time, so a
 * recycled pid is never hit. */
static int signal_init(const struct rt_state *st, int sig)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (pidfd < 0)
		return -errno;
	if (proc_start_time(st->pid, NULL) != st->pid_start)
		return -ESRCH;
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

int runtime_kill(const struct runtime_ctx *ctx, const char *id, int sig, bool all,
		 struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	enum rt_status status;
	int r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	status = rt_state_status(ctx, st);
	if (status == RT_STOPPED)
		return error_setx(err, -ESRCH, "container not running");
	if (all && st->cgroup_path) {
		_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
		if (open_cgroup(ctx, st, &cg, NULL) >= 0) {
			r = cgroup_kill(cg, sig);
			if (r < 0)
				return error_set(err, r, "signal the processes of '%s'", id);
			return 0;
		}
	}
	r = signal_init(st, sig);
	if (r == -ESRCH)
		return error_setx(err, -ESRCH, "container not running");
	if (r < 0)
		return error_set(err, r, "signal container '%s'", id);
	return 0;
}

/* Wait (bounded) until the init is gone: a zombie counts as gone. */
static void wait_gone(const struct rt_state *st, int timeout_ms)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	uint64_t end = now_usec(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000;
	while (now_usec(CLOCK_MONOTONIC) < end) {
		bool zombie;
		uint64_t s = proc_start_time(st->pid, &zombie);
		if (s != st->pid_start || zombie)
			return;
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			if (poll(&p, 1, 20) > 0)
				return;
		} else {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
}

int runtime_delete(const struct runtime_ctx *ctx, const char *id, bool force, struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(oci_spec_freep) struct oci_spec *spec = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_free_ char *dir = NULL;
	enum rt_status status;
	int r;

	r = rt_state_load(ctx, id, &st, err);
	if (r == -ENOENT && force) {
		/* delete --force of a half-created container: remove what is there */
		if (runtime_id_valid(id)) {
			dir = rt_state_dir(ctx, id);
			rm_rf(dir);
		}
		error_free(*err);
		*err = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	status = rt_state_status(ctx, st);
	if (status != RT_STOPPED && !force)
		return error_setx(err, -EBUSY, "cannot delete container %s that is not stopped: %s",
				  id, rt_status_name(status));
	if (st->cgroup_path)
		(void)open_cgroup(ctx, st, &cg, NULL);
	if (status != RT_STOPPED) {
		if (cg) {
			if (status == RT_PAUSED)
				(void)cgroup_freeze(cg, false, NULL);
			(void)cgroup_kill(cg, SIGKILL);
		}
		(void)signal_init(st, SIGKILL);
		wait_gone(st, 5000);
	}
	if (runtime_load_spec(ctx, id, &spec, NULL) >= 0 && spec->hooks.n_poststop) {
		_cleanup_error_ struct error *e = NULL;
		_cleanup_json_ json_object *o = rt_state_json(st, RT_STOPPED);
		if (hooks_run(spec->hooks.poststop, spec->hooks.n_poststop,
			      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "poststop",
			      &e) < 0)
			log_warn("warning: %s", e->msg);
	}
	if (cg) {
		/* Stragglers (a forked daemon in the host pid namespace) go too. */
		(void)cgroup_kill(cg, SIGKILL);
		r = cgroup_destroy(cg);
		if (r < 0 && r != -ENOENT)
			log_warn("warning: remove cgroup %s: %s", st->cgroup_path, strerror(-r));
	}
	dir = rt_state_dir(ctx, id);
	r = rm_rf(dir);
	if (r < 0)
		return error_set(err, r, "remove '%s'", dir);
	return 0;
}

int runtime_pause(const struct runtime_ctx *ctx, const char *id, struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	enum rt_status status;
	int r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	status = rt_state_status(ctx, st);
	if (status != RT_RUNNING && status != RT_CREATED)
		return error_setx(err, -EINVAL, "container not running");
	r = open_cgroup(ctx, st, &cg, err);
	if (r < 0)
		return r;
	return cgroup_freeze(cg, true, err);
}

int runtime_resume(const struct runtime_ctx *ctx, const char *id, struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	int r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	if (rt_state_status(ctx, st) != RT_PAUSED)
		return error_setx(err, -EINVAL, "container not paused");
	r = open_cgroup(ctx, st, &cg, err);
	if (r < 0)
		return r;
	return cgroup_freeze(cg, false, err);
}

int runtime_update(const struct runtime_ctx *ctx, const char *id, const struct oci_resources *res,
		   struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	int r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	if (rt_state_status(ctx, st) == RT_STOPPED)
		return error_setx(err, -EINVAL, "container not running");
	r = open_cgroup(ctx, st, &cg, err);
	if (r < 0)
		return r;
	return cgroup_apply(cg, res, err);
}

int runtime_ps(const struct runtime_ctx *ctx, const char *id, pid_t **ret, size_t *n,
	       struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	int r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	r = open_cgroup(ctx, st, &cg, err);
	if (r < 0)
		return r;
	r = cgroup_pids(cg, ret, n);
	if (r < 0)
		return error_set(err, r, "list processes of '%s'", id);
	return 0;
}

int runtime_stats(const struct runtime_ctx *ctx, const char *id, json_object **ret,
		  struct error **err)
{
	_cleanup_(rt_state_freep) struct rt_state *st = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	int r = rt_state_load(ctx, id, &st, err);
	if (r < 0)
		return r;
	if (rt_state_status(ctx, st) == RT_STOPPED)
		return error_setx(err, -EINVAL, "container not running");
	r = open_cgroup(ctx, st, &cg, err);
	if (r < 0)
		return r;
	r = cgroup_stats(cg, ret);
	if (r < 0)
		return error_set(err, r, "read statistics of '%s'", id);
	return 0;
}
