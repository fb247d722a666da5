/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start, stop, kill, wait, pause, the exit monitor, restart policies and the
 * startup reconciliation (live-restore).
 *
 * Start: mount the overlay, write the spec, spawn the shim (which creates the
 * container and waits), let pending attaches connect, send START. The monitor
 * thread keeps a WAIT connection to every shim and records exits.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "internal.h"

extern char **environ;

void container_remove_locked(struct engine *e, struct container *c);
void lifecycle_shutdown(struct engine *e);

/* Set while engine_close stops the containers: those stops are not the user's (an
 * unless-stopped container comes back with the daemon), and nothing restarts. */
static struct engine *shutting_down;

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_object_get_ex(o, k, &v) && !json_object_is_type(v, json_type_null))
		return v;
	return NULL;
}

static const char *get_s(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* ---- shims ------------------------------------------------------------------ */

int shim_spawn(struct engine *e, char *const *argv, pid_t *ret_pid, struct error **err)
{
	int pipefd[2];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char buf[1200];
	size_t len = 0;
	int r, status;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_set(err, -errno, "pipe");
	posix_spawn_file_actions_init(&fa);
	/* fd 3 is the status pipe; everything else of ours closes on exec. */
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 3);
	r = posix_spawn(&pid, e->shim_path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return error_set(err, -r, "start shim '%s'", e->shim_path);
	}
	/* The first process exits once the shim has double-forked. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	for (;;) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int k = poll(&p, 1, 60000);
		ssize_t n;
		if (k <= 0) {
			close(pipefd[0]);
			return error_setx(err, -ETIMEDOUT, "shim did not answer");
		}
		n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) || len >= sizeof(buf) - 1)
			break;
	}
	close(pipefd[0]);
	buf[len] = 0;
	{
		char *nl = strchr(buf, '\n');
		if (nl)
			*nl = 0;
	}
	if (startswith(buf, "ready ")) {
		*ret_pid = (pid_t)atoi(buf + 6);
		return 0;
	}
	if (startswith(buf, "error "))
		return error_setx(err, -EINVAL, "%s", buf + 6);
	return error_setx(err, -EIO, "shim exited without a status");
}

int shim_connect(const char *sock, const char *line, struct error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, -errno, "socket");
	if (strlen(sock) >= sizeof(sa.sun_path))
		return error_setx(err, -ENAMETOOLONG, "shim socket path too long");
	strcpy(sa.sun_path, sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return error_set(err, -errno, "connect to shim");
	if (loop_write(fd, line, strlen(line)) < 0)
		return error_set(err, -errno, "talk to shim");
	return TAKE_FD(fd);
}

int shim_request(const char *sock, const char *line, char *reply, size_t n, struct error **err)
{
	_cleanup_close_ int fd = shim_connect(sock, line, err);
	size_t len = 0;
	if (fd < 0)
		return fd;
	while (len + 1 < n) {
		ssize_t k = read(fd, reply + len, n - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (memchr(reply, '\n', len))
			break;
	}
	reply[len] = 0;
	{
		char *nl = strchr(reply, '\n');
		if (nl)
			*nl = 0;
	}
	return len ? 0 : error_setx(err, -EPIPE, "shim closed the connection");
}

static char *shim_sock(struct engine *e, const char *id)
{
	_cleanup_free_ char *run = container_rundir(e, id);
	return xasprintf("%s/shim.sock", run);
}

static int mount_rootfs(struct engine *e, struct container *c, char **ret_rootfs,
			struct error **err)
{
	_cleanup_(image_info_freep) struct image_info *img = NULL;
	_cleanup_free_ char *dir = container_dir(e, c->id);
	_cleanup_free_ char *merged = xasprintf("%s/merged", dir);
	_cleanup_free_ char *lower = NULL, *opts = NULL;
	int r;

	if (is_mountpoint(merged)) {
		*ret_rootfs = TAKE_PTR(merged);
		return 0;
	}
	r = image_lookup(e->images, c->image_id, &img, err);
	if (r < 0)
		return r;
	lower = image_lowerdir(img);
	if (!lower)
		return error_set(err, -errno, "image layers of %s", c->image_id);
	opts = xasprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, dir, dir);
	/*
	 * An AutoRemove container's writable layer is deleted when it exits: "volatile" spares
	 * it the sync of the upper filesystem (with a disk cache flush) that its unmount would
	 * otherwise do, which clients of `run --rm` waited for. After a crash such a layer
	 * cannot be mounted again, which it never is (the container is removed at exit, at
	 * the latest when the daemon starts again). Kernels before 5.10 lack the option.
	 */
	if (json_object_get_boolean(get(c->host_config, "AutoRemove"))) {
		_cleanup_free_ char *vopts = xasprintf("%s,volatile", opts);
		if (mount("overlay", merged, "overlay", 0, vopts) == 0) {
			*ret_rootfs = TAKE_PTR(merged);
			return 0;
		}
		if (errno != EINVAL)
			return error_set(err, -errno, "mount overlay for '%s'", c->name + 1);
	}
	if (mount("overlay", merged, "overlay", 0, opts) < 0)
		return error_set(err, -errno, "mount overlay for '%s'", c->name + 1);
	*ret_rootfs = TAKE_PTR(merged);
	return 0;
}

void container_unmount(struct engine *e, struct container *c)
{
	_cleanup_free_ char *dir = container_dir(e, c->id);
	_cleanup_free_ char *merged = xasprintf("%s/merged", dir);
	unmount_all(merged);
}

/* ---- start ------------------------------------------------------------------- */

/* go-units RAMInBytes, as json-file's max-size: "10m", "1.5k", "2 MiB", "100b"; binary. */
static int log_opt_size(const char *s, uint64_t *ret)
{
	char *end;
	double v;
	uint64_t mul = 1;
	if (!(*s >= '0' && *s <= '9'))
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || v < 0)
		return -EINVAL;
	if (*end == ' ')
		end++;
	if (*end && strchr("kKmMgGtTpP", *end)) {
		static const char units[] = "kmgtp";
		const char *u = strchr(units, *end | 0x20);
		for (long i = 0; i <= u - units; i++)
			mul *= 1024;
		end++;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*ret = (uint64_t)(v * (double)mul);
	return 0;
}

static int start_locked_released(struct engine *e, const char *id, struct error **err)
{
	struct container *c;
	_cleanup_free_ char *rootfs = NULL, *run = NULL, *cfgpath = NULL, *sock = NULL;
	_cleanup_free_ char *logpath = NULL, *maxsize = NULL, *maxfile = NULL;
	_cleanup_json_ json_object *spec = NULL;
	char *argv[32];
	int argc = 0, r = 0;
	pid_t shim_pid = 0;
	_cleanup_close_ int wait_fd = -EBADF;
	_cleanup_close_ int netfd = -EBADF;
	bool own_netns = false, pooled = false;
	pid_t old_shim;
	char reply[1200];
	bool tty, open_stdin, stdin_once;

	/* Called with the lock held and c->starting set; drops the lock for the slow parts. */
	c = container_find(e, id);
	tty = c->tty;
	old_shim = c->old_shim_pid;
	c->old_shim_pid = 0;
	{
		json_object *v = get(c->config, "OpenStdin");
		open_stdin = v && json_object_get_boolean(v);
		v = get(c->config, "StdinOnce");
		stdin_once = v && json_object_get_boolean(v);
	}
	run = container_rundir(e, c->id);
	sock = shim_sock(e, c->id);
	logpath = container_log_path(e, c->id);
	{
		json_object *lc = get(c->host_config, "LogConfig"), *lcc = get(lc, "Config");
		const char *ms = get_s(lcc, "max-size"), *mf = get_s(lcc, "max-file");
		const char *type = get_s(lc, "Type");
		uint64_t sz = 0;
		if (!ms)
			ms = kv_list_get(&e->cfg->log_opts, "max-size");
		if (!mf)
			mf = kv_list_get(&e->cfg->log_opts, "max-file");
		int nf = 1;
		if (ms && log_opt_size(ms, &sz) < 0)
			r = error_setx(err, -EINVAL, "invalid value for log opt max-size: %s", ms);
		else if (mf && (safe_atoi(mf, &nf) < 0 || nf < 1))
			r = error_setx(err, -EINVAL, "max-file cannot be less than 1: %s", mf);
		if (sz)
			maxsize = xasprintf("%" PRIu64, sz);
		if (mf)
			maxfile = xstrdup(mf);
		if (type && streq(type, "none")) {
			free(logpath);
			logpath = NULL;
		}
	}
	/* Addresses and host ports now, under the lock; the interfaces after create. */
	if (r >= 0)
		r = container_net_prepare(e, c, err);
	if (r >= 0) {
		strv_free(c->link_env);
		free(c->link_hosts);
		r = links_for_start_locked(e, c, &c->link_env, &c->link_hosts, err);
	}
	pthread_mutex_unlock(&e->lock);

	if (r >= 0)
		r = mounts_make_sources(c->host_config, err);
	if (r >= 0)
		r = mount_rootfs(e, c, &rootfs, err);
	if (r >= 0)
		r = container_net_etc_files(e, c, err);
	if (r >= 0) {
		pthread_mutex_lock(&e->lock);
		r = spec_build(e, c, rootfs, &spec, err);
		pthread_mutex_unlock(&e->lock);
	}
	if (r >= 0)
		own_netns = spec_new_netns(spec);
	if (own_netns) {
		/* a namespace made ahead (netpool.c): the runtime joins it instead */
		netfd = netpool_take(e);
		pooled = netfd >= 0;
		if (pooled)
			spec_set_netns_path(spec, netfd);
	}
	if (r >= 0) {
		const char *txt = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
		r = mkdir_p(run, 0700);
		cfgpath = xasprintf("%s/config.json", run);
		if (r >= 0)
			r = write_file_replace(cfgpath, txt, strlen(txt), 0600);
		if (r < 0)
			error_set(err, r, "write the container's spec");
	}
	if (r >= 0) {
		argv[argc++] = "berth-shim";
		argv[argc++] = "--id";
		argv[argc++] = c->id;
		argv[argc++] = "--bundle";
		argv[argc++] = run;
		argv[argc++] = "--dir";
		argv[argc++] = run;
		argv[argc++] = "--runtime-root";
		argv[argc++] = e->runtime_root;
		argv[argc++] = "--status-fd";
		argv[argc++] = "3";
		if (logpath) {
			argv[argc++] = "--log-path";
			argv[argc++] = logpath;
		}
		if (maxsize) {
			argv[argc++] = "--log-max-size";
			argv[argc++] = maxsize;
		}
		if (maxfile) {
			argv[argc++] = "--log-max-files";
			argv[argc++] = maxfile;
		}
		if (tty)
			argv[argc++] = "--tty";
		if (open_stdin)
			argv[argc++] = "--open-stdin";
		if (stdin_once)
			argv[argc++] = "--stdin-once";
		argv[argc] = NULL;
		/* The last run's shim deletes its runtime state after reporting the exit: a
		 * start right after a wait must let it finish (bounded). */
		if (old_shim > 0) {
			int pfd = (int)syscall(SYS_pidfd_open, old_shim, 0);
			if (pfd >= 0) {
				struct pollfd p = {.fd = pfd, .events = POLLIN};
				(void)poll(&p, 1, 5000);
				close(pfd);
			}
		}
		r = shim_spawn(e, argv, &shim_pid, err);
	}
	/* the container holds the pooled namespace now (or the start failed) */
	closep(&netfd);

	pthread_mutex_lock(&e->lock);
	if (r >= 0) {
		/* Let attaches that were waiting for this start connect first. */
		c->shim_pid = shim_pid;
		c->start_gen++;
		pthread_cond_broadcast(&e->cond);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 2;
		while (c->attached < c->pending_attach && !e->closing)
			if (pthread_cond_timedwait(&e->cond, &e->lock, &until) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&e->lock);
		/* The container exists, its process waits for START: its network now. */
		r = container_net_attach(e, c, 0, own_netns && !pooled, err);
		/* The exit watch first: a process that exits at once must not be missed. */
		if (r >= 0)
			wait_fd = shim_connect(sock, "WAIT\n", NULL);
		if (r >= 0)
			r = shim_request(sock, "START\n", reply, sizeof(reply), err);
		if (r >= 0 && !startswith(reply, "OK "))
			r = error_setx(err, -EINVAL, "%s",
				       startswith(reply, "ERR ") ? reply + 4 : reply);
		pthread_mutex_lock(&e->lock);
	}
	if (r < 0) {
		if (shim_pid > 0)
			kill(shim_pid, SIGKILL);
		{
			_cleanup_error_ struct error *e2 = NULL;
			(void)runtime_delete(&e->rt, c->id, true, &e2);
		}
		container_unmount(e, c);
		container_net_release(e, c);
		free(c->error);
		c->error = xstrdup(*err ? (*err)->msg : "start failed");
		/* Docker: 127 for a missing executable, 126 when it cannot run, else 128. */
		c->exit_code = strstr(c->error, "not found") || strstr(c->error, "no such file")
				   ? 127
			       : strstr(c->error, "ermission denied") ? 126
								      : 128;
		c->shim_pid = 0;
		c->starting = false;
		c->pending_attach = c->attached = 0;
		c->exit_gen++;
		c->start_gen++; /* attaches waiting for this start give up */
		if (c->status != C_CREATED)
			c->status = C_EXITED;
		c->finished_ns = now_ns();
		store_save(e, c);
		pthread_cond_broadcast(&e->cond);
		/* --rm: a container that cannot start goes too, as with Docker. */
		if (get(c->host_config, "AutoRemove") &&
		    json_object_get_boolean(get(c->host_config, "AutoRemove")) && !c->removing) {
			c->removing = true;
			container_remove_locked(e, c);
		}
		return r;
	}
	c->pid = (pid_t)atoi(reply + 3);
	c->status = C_RUNNING;
	c->started_ns = now_ns();
	c->starting = false;
	c->stopping = false;
	c->pending_attach = c->attached = 0;
	free(c->error);
	c->error = NULL;
	c->exit_code = 0;
	health_start_locked(e, c);
	store_save(e, c);
	{
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "name", c->name + 1);
		json_add_str(attrs, "image", c->image);
		event_emit_locked(e, "container", "start", c->id, attrs);
	}
	pthread_cond_broadcast(&e->cond);
	if (wait_fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = wait_fd};
		c->watch_fd = TAKE_FD(wait_fd);
		epoll_ctl(e->monitor_epfd, EPOLL_CTL_ADD, c->watch_fd, &ev);
	} else {
		monitor_watch(e, c); /* last: c may be gone after it */
	}
	return 0;
}

static int container_start_internal(struct engine *e, const char *ref, bool user,
				    struct error **err)
{
	struct container *c;
	_cleanup_free_ char *id = NULL;
	int r;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	if (c->status == C_RUNNING || c->status == C_PAUSED || c->starting) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -EALREADY, "container already started");
	}
	if (c->removing) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -EEXIST,
				  "container is marked for removal and cannot be "
				  "started");
	}
	if (user) {
		/* Docker: a start by the user resets the restart manager and its count. */
		c->manually_stopped = false;
		c->restart_count = 0;
	}
	c->starting = true;
	id = xstrdup(c->id);
	r = start_locked_released(e, id, err);
	pthread_mutex_unlock(&e->lock);
	return r;
}

int engine_container_start(struct engine *e, const char *ref, struct error **err)
{
	return container_start_internal(e, ref, true, err);
}

/* ---- kill, stop, restart --------------------------------------------------------- */

int signal_parse(const char *s)
{
	static const struct {
		const char *n;
		int v;
	} t[] = {{"HUP", 1},	 {"INT", 2},   {"QUIT", 3},   {"ILL", 4},   {"TRAP", 5},
		 {"ABRT", 6},	 {"BUS", 7},   {"FPE", 8},    {"KILL", 9},  {"USR1", 10},
		 {"SEGV", 11},	 {"USR2", 12}, {"PIPE", 13},  {"ALRM", 14}, {"TERM", 15},
		 {"STKFLT", 16}, {"CHLD", 17}, {"CONT", 18},  {"STOP", 19}, {"TSTP", 20},
		 {"TTIN", 21},	 {"TTOU", 22}, {"URG", 23},   {"XCPU", 24}, {"XFSZ", 25},
		 {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28}, {"IO", 29},   {"PWR", 30},
		 {"SYS", 31}};
	int n;
	if (isempty(s))
		return -1;
	if (safe_atoi(s, &n) >= 0)
		return n > 0 && n <= 64 ? n : -1;
	if (startswith(s, "SIG") || startswith(s, "sig"))
		s += 3;
	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		if (strcasecmp(t[i].n, s) == 0)
			return t[i].v;
	return -1;
}

static int kill_locked(struct engine *e, struct container *c, int sig, struct error **err)
{
	_cleanup_error_ struct error *e2 = NULL;
	int r;
	if (c->status != C_RUNNING && c->status != C_PAUSED)
		return error_setx(err, -EEXIST,
				  "Cannot kill container: %s: container %s is not "
				  "running",
				  c->name + 1, c->id);
	/* The whole cgroup for KILL (a shell's children die too), the init otherwise. */
	r = runtime_kill(&e->rt, c->id, sig, sig == SIGKILL, &e2);
	if (r < 0 && r != -ESRCH)
		return error_setx(err, r, "Cannot kill container: %s: %s", c->name + 1, e2->msg);
	if (c->status == C_PAUSED && sig == SIGKILL)
		(void)runtime_resume(&e->rt, c->id, NULL);
	{
		json_object *attrs = json_object_new_object();
		char num[16];
		snprintf(num, sizeof(num), "%d", sig);
		json_add_str(attrs, "name", c->name + 1);
		json_add_str(attrs, "signal", num);
		event_emit_locked(e, "container", "kill", c->id, attrs);
	}
	return 0;
}

int engine_container_kill(struct engine *e, const char *ref, const char *signal, struct error **err)
{
	struct container *c;
	int sig = isempty(signal) ? SIGKILL : signal_parse(signal), r;
	if (sig < 0)
		return error_setx(err, -EINVAL, "Invalid signal: %s", signal);
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c)
		r = error_setx(err, -ENOENT, "No such container: %s", ref);
	else {
		c->stopping = true;
		if (shutting_down != e)
			c->manually_stopped = true; /* unless-stopped: as dockerd's kill */
		if (c->status == C_RESTARTING) {
			c->status = C_EXITED;
			store_save(e, c);
			pthread_cond_broadcast(&e->cond);
			r = 0;
		} else {
			r = kill_locked(e, c, sig, err);
		}
		if (r < 0)
			c->stopping = false;
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

/* Wait (lock held) until the container is not running (or gone) or the deadline passes. */
static bool wait_not_running_locked(struct engine *e, const char *id, uint64_t gen,
				    int64_t deadline_ns)
{
	for (;;) {
		struct container *c = container_find(e, id);
		struct timespec ts;
		if (!c || c->exit_gen != gen || (c->status != C_RUNNING && c->status != C_PAUSED))
			return true;
		ts.tv_sec = deadline_ns / 1000000000LL;
		ts.tv_nsec = deadline_ns % 1000000000LL;
		if (pthread_cond_timedwait(&e->cond, &e->lock, &ts) == ETIMEDOUT) {
			c = container_find(e, id);
			return !c || c->exit_gen != gen ||
			       (c->status != C_RUNNING && c->status != C_PAUSED);
		}
	}
}

int engine_container_stop(struct engine *e, const char *ref, int timeout, const char *signal,
			  struct error **err)
{
	struct container *c;
	_cleanup_free_ char *id = NULL;
	int sig, r = 0;
	uint64_t gen;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	if (shutting_down != e)
		c->manually_stopped = true;
	if (c->status == C_RESTARTING) {
		c->stopping = true;
		c->status = C_EXITED;
		store_save(e, c);
		pthread_cond_broadcast(&e->cond);
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	if (c->status != C_RUNNING && c->status != C_PAUSED) {
		store_save(e, c);
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -EALREADY, "container already stopped");
	}
	id = xstrdup(c->id);
	c->stopping = true;
	if (timeout < 0) {
		json_object *st = get(c->config, "StopTimeout");
		timeout = st ? json_object_get_int(st) : 10;
	}
	{
		const char *ss = !isempty(signal) ? signal : get_s(c->config, "StopSignal");
		sig = ss ? signal_parse(ss) : SIGTERM;
		if (sig < 0)
			sig = SIGTERM;
	}
	gen = c->exit_gen;
	if (c->status == C_PAUSED)
		(void)runtime_resume(&e->rt, c->id, NULL);
	if (sig != SIGKILL)
		(void)kill_locked(e, c, sig, NULL);
	if (sig == SIGKILL ||
	    !wait_not_running_locked(e, id, gen, now_ns() + (int64_t)timeout * 1000000000LL)) {
		c = container_find(e, id);
		if (c)
			(void)kill_locked(e, c, SIGKILL, NULL);
		if (!wait_not_running_locked(e, id, gen, now_ns() + 30LL * 1000000000LL))
			r = error_setx(err, -ETIMEDOUT, "container %s did not exit", id);
	}
	if (r >= 0) {
		c = container_find(e, id);
		if (c) {
			json_object *attrs = json_object_new_object();
			json_add_str(attrs, "name", c->name + 1);
			event_emit_locked(e, "container", "stop", c->id, attrs);
		}
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

int engine_container_restart(struct engine *e, const char *ref, int timeout, const char *signal,
			     struct error **err)
{
	int r = engine_container_stop(e, ref, timeout, signal, err);
	if (r < 0 && r != -EALREADY)
		return r;
	if (r == -EALREADY && err && *err) {
		error_free(*err);
		*err = NULL;
	}
	r = engine_container_start(e, ref, err);
	if (r == -EALREADY)
		return 0;
	if (r >= 0) {
		pthread_mutex_lock(&e->lock);
		struct container *c = container_find(e, ref);
		if (c) {
			json_object *attrs = json_object_new_object();
			json_add_str(attrs, "name", c->name + 1);
			event_emit_locked(e, "container", "restart", c->id, attrs);
		}
		pthread_mutex_unlock(&e->lock);
	}
	return r;
}

/* ---- wait ------------------------------------------------------------------- */

int engine_container_wait(struct engine *e, const char *ref, const char *condition,
			  volatile bool *cancel, json_object **ret, struct error **err)
{
	struct container *c;
	_cleanup_free_ char *id = NULL;
	enum { NOT_RUNNING, NEXT_EXIT, REMOVED } cond = NOT_RUNNING;
	uint64_t gen;
	int code = 0;
	char *errmsg = NULL;

	if (!isempty(condition)) {
		if (streq(condition, "next-exit"))
			cond = NEXT_EXIT;
		else if (streq(condition, "removed"))
			cond = REMOVED;
		else if (!streq(condition, "not-running"))
			return error_setx(err, -EINVAL, "invalid condition: \"%s\"", condition);
	}
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	id = xstrdup(c->id);
	gen = c->exit_gen;
	for (;;) {
		struct timespec ts;
		c = container_find(e, id);
		if (!c) {
			/* removed: the code it left */
			int t = tombstone_code(e, id);
			if (t >= 0)
				code = t;
			break;
		} else {
			bool running = c->status == C_RUNNING || c->status == C_PAUSED ||
				       c->status == C_RESTARTING || c->starting;
			code = c->exit_code;
			if (cond == NOT_RUNNING && !running)
				break;
			if (cond == NEXT_EXIT && c->exit_gen != gen)
				break;
			if (cond == REMOVED && c->removed)
				break;
		}
		if (cancel && *cancel) {
			pthread_mutex_unlock(&e->lock);
			return error_setx(err, -ECANCELED, "wait cancelled");
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	if (c && c->error && c->exit_code)
		errmsg = xstrdup(c->error);
	pthread_mutex_unlock(&e->lock);
	*ret = json_object_new_object();
	json_add_int(*ret, "StatusCode", code);
	if (errmsg) {
		json_object *eo = json_object_new_object();
		json_add_str(eo, "Message", errmsg);
		json_object_object_add(*ret, "Error", eo);
		free(errmsg);
	} else {
		json_object_object_add(*ret, "Error", NULL);
	}
	return 0;
}

/* ---- pause, update, top, stats, resize ---------------------------------------- */

int engine_container_pause(struct engine *e, const char *ref, struct error **err)
{
	struct container *c;
	_cleanup_error_ struct error *e2 = NULL;
	int r = 0;
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c)
		r = error_setx(err, -ENOENT, "No such container: %s", ref);
	else if (c->status == C_PAUSED)
		r = error_setx(err, -EEXIST, "Container %s is already paused", c->id);
	else if (c->status != C_RUNNING)
		r = error_setx(err, -EEXIST, "Container %s is not running", c->id);
	else if (runtime_pause(&e->rt, c->id, &e2) < 0)
		r = error_setx(err, -EIO, "Cannot pause container %s: %s", c->id, e2->msg);
	else {
		c->status = C_PAUSED;
		health_stop_locked(e, c); /* as dockerd: no probes, "unhealthy" */
		store_save(e, c);
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "name", c->name + 1);
		event_emit_locked(e, "container", "pause", c->id, attrs);
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

int engine_container_unpause(struct engine *e, const char *ref, struct error **err)
{
	struct container *c;
	_cleanup_error_ struct error *e2 = NULL;
	int r = 0;
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c)
		r = error_setx(err, -ENOENT, "No such container: %s", ref);
	else if (c->status != C_PAUSED)
		r = error_setx(err, -EEXIST, "Container %s is not paused", c->id);
	else if (runtime_resume(&e->rt, c->id, &e2) < 0)
		r = error_setx(err, -EIO, "Cannot unpause container %s: %s", c->id, e2->msg);
	else {
		c->status = C_RUNNING;
		health_resume_locked(e, c);
		store_save(e, c);
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "name", c->name + 1);
		event_emit_locked(e, "container", "unpause", c->id, attrs);
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

static int64_t hc_i64(json_object *hc, const char *k)
{
	json_object *v = get(hc, k);
	return v ? json_object_get_int64(v) : 0;
}

/*
 * docker update sends every field, most of them 0: as dockerd (UpdateContainer), a 0 or an
 * empty string leaves the container's value alone, PidsLimit changes when it is sent (not
 * null), and RestartPolicy when it has a name. The merged values go to the cgroups of a
 * running container and, at the next start, into its spec.
 */
int engine_container_update(struct engine *e, const char *ref, json_object *body, json_object **ret,
			    struct error **err)
{
	static const char *const nonzero_keys[] = {
	    "BlkioWeight", "CpuShares",		"NanoCpus",   "CpuPeriod",
	    "CpuQuota",	   "CpusetCpus",	"CpusetMems", "Memory",
	    "MemorySwap",  "MemoryReservation", "PidsLimit",  "RestartPolicy"};
	struct container *c;
	struct oci_resources res = {0};
	_cleanup_error_ struct error *e2 = NULL;
	json_object *v, *hc;
	const char *rpn = NULL;
	int r = 0;

	if (!body || !json_object_is_type(body, json_type_object))
		return error_setx(err, -EINVAL, "invalid update body");
	if (hc_i64(body, "Memory") != 0 && hc_i64(body, "Memory") < 6 * 1024 * 1024)
		return error_setx(err, -EINVAL, "Minimum memory limit allowed is 6MB");
	if ((v = get(body, "PidsLimit")) && json_object_get_int64(v) < -1)
		return error_setx(err, -EINVAL, "invalid PidsLimit");
	if (hc_i64(body, "CpuShares") < 0)
		return error_setx(err, -EINVAL, "invalid CPU shares: must not be negative");
	if ((v = get(body, "RestartPolicy")))
		rpn = get_s(v, "Name");
	if (rpn && !streq(rpn, "") && !streq(rpn, "no") && !streq(rpn, "always") &&
	    !streq(rpn, "on-failure") && !streq(rpn, "unless-stopped"))
		return error_setx(err, -EINVAL,
				  "invalid restart policy: unknown policy '%s'; use one of 'no', "
				  "'always', 'on-failure', or 'unless-stopped'",
				  rpn);
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	hc = c->host_config;
	/* dockerd's conflicts: NanoCpus and CpuPeriod/CpuQuota both set the CFS quota */
	if (hc_i64(body, "NanoCpus") > 0 && hc_i64(hc, "CpuPeriod") > 0)
		r = error_setx(err, -EINVAL,
			       "Conflicting options: Nano CPUs cannot be updated as CPU Period has "
			       "already been set");
	else if (hc_i64(body, "NanoCpus") > 0 && hc_i64(hc, "CpuQuota") > 0)
		r = error_setx(err, -EINVAL,
			       "Conflicting options: Nano CPUs cannot be updated as CPU Quota has "
			       "already been set");
	else if (hc_i64(body, "CpuPeriod") > 0 && hc_i64(hc, "NanoCpus") > 0)
		r = error_setx(err, -EINVAL,
			       "Conflicting options: CPU Period cannot be updated as NanoCPUs has "
			       "already been set");
	else if (hc_i64(body, "CpuQuota") > 0 && hc_i64(hc, "NanoCpus") > 0)
		r = error_setx(err, -EINVAL,
			       "Conflicting options: CPU Quota cannot be updated as NanoCPUs has "
			       "already been set");
	/* A swap limit already set must stay above the memory limit (an unlimited one, 0 or
	 * -1, always does). */
	else if (hc_i64(body, "Memory") > 0 && hc_i64(body, "MemorySwap") == 0 &&
		 hc_i64(hc, "MemorySwap") > 0 && hc_i64(body, "Memory") > hc_i64(hc, "MemorySwap"))
		r = error_setx(err, -EINVAL,
			       "Memory limit should be smaller than already set memoryswap limit, "
			       "update the memoryswap at the same time");
	else if (rpn && !streq(rpn, "") && !streq(rpn, "no") && get(hc, "AutoRemove") &&
		 json_object_get_boolean(get(hc, "AutoRemove")))
		r = error_setx(
		    err, -EINVAL,
		    "Restart policy cannot be updated because AutoRemove is enabled for the "
		    "container");
	if (r < 0) {
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	if (hc_i64(body, "Memory") > 0) {
		res.memory.present = true;
		res.memory.limit = (struct opt_i64){true, hc_i64(body, "Memory")};
	}
	if (hc_i64(body, "MemorySwap") != 0) {
		res.memory.present = true;
		res.memory.swap = (struct opt_i64){true, hc_i64(body, "MemorySwap")};
	}
	if (hc_i64(body, "MemoryReservation") > 0) {
		res.memory.present = true;
		res.memory.reservation = (struct opt_i64){true, hc_i64(body, "MemoryReservation")};
	}
	if (hc_i64(body, "CpuShares") > 0) {
		res.cpu.present = true;
		res.cpu.shares = (struct opt_u64){true, (uint64_t)hc_i64(body, "CpuShares")};
	}
	if (hc_i64(body, "NanoCpus") > 0) {
		res.cpu.present = true;
		res.cpu.period = (struct opt_u64){true, 100000};
		res.cpu.quota =
		    (struct opt_i64){true, hc_i64(body, "NanoCpus") * 100000 / 1000000000};
	}
	if (hc_i64(body, "CpuQuota") != 0) {
		res.cpu.present = true;
		res.cpu.quota = (struct opt_i64){true, hc_i64(body, "CpuQuota")};
	}
	if (hc_i64(body, "CpuPeriod") > 0) {
		res.cpu.present = true;
		res.cpu.period = (struct opt_u64){true, (uint64_t)hc_i64(body, "CpuPeriod")};
	}
	if ((v = get(body, "CpusetCpus")) && !isempty(json_object_get_string(v))) {
		res.cpu.present = true;
		res.cpu.cpus = (char *)json_object_get_string(v);
	}
	if ((v = get(body, "CpusetMems")) && !isempty(json_object_get_string(v))) {
		res.cpu.present = true;
		res.cpu.mems = (char *)json_object_get_string(v);
	}
	if ((v = get(body, "PidsLimit"))) {
		res.pids.present = true;
		res.pids.limit = (struct opt_i64){true, json_object_get_int64(v)};
	}
	if ((c->status == C_RUNNING || c->status == C_PAUSED) &&
	    (res.memory.present || res.cpu.present || res.pids.present) &&
	    runtime_update(&e->rt, c->id, &res, &e2) < 0) {
		r = error_setx(err, -EINVAL, "Cannot update container %s: %s", c->id, e2->msg);
	} else {
		for (size_t i = 0; i < ELEMENTSOF(nonzero_keys); i++) {
			const char *k = nonzero_keys[i];
			if (!(v = get(body, k)))
				continue;
			if (streq(k, "RestartPolicy") ? !rpn || isempty(rpn)
			    : json_object_is_type(v, json_type_string)
				? isempty(json_object_get_string(v))
				: !streq(k, "PidsLimit") && json_object_get_int64(v) == 0)
				continue;
			json_object_object_add(hc, k, json_object_get(v));
		}
		store_save(e, c);
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "name", c->name + 1);
		event_emit_locked(e, "container", "update", c->id, attrs);
		*ret = json_object_new_object();
		json_object_object_add(*ret, "Warnings", json_object_new_array());
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

int engine_container_top(struct engine *e, const char *ref, const char *ps_args, json_object **ret,
			 struct error **err)
{
	struct container *c;
	pid_t *pids = NULL;
	size_t n = 0;
	_cleanup_error_ struct error *e2 = NULL;
	_cleanup_free_ char *list = xstrdup(""), *out = NULL;
	int r;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	if (c->status != C_RUNNING && c->status != C_PAUSED) {
		r = error_setx(err, -EEXIST, "container %s is not running", c->id);
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	r = runtime_ps(&e->rt, c->id, &pids, &n, &e2);
	pthread_mutex_unlock(&e->lock);
	if (r < 0)
		return error_setx(err, r, "%s", e2->msg);
	for (size_t i = 0; i < n; i++) {
		char *x = xasprintf("%s%s%d", list, i ? "," : "", (int)pids[i]);
		free(list);
		list = x;
	}
	free(pids);
	/* ps runs on the host, like dockerd does; arguments are checked. */
	if (ps_args && strpbrk(ps_args, ";&|`$<>\\\"'\n"))
		return error_setx(err, -EINVAL, "invalid ps arguments");
	{
		int pfd[2];
		posix_spawn_file_actions_t fa;
		pid_t pid;
		char *argv[40];
		int ac = 0, st;
		_cleanup_free_ char *copy = xstrdup(isempty(ps_args) ? "-ef" : ps_args);
		argv[ac++] = "ps";
		for (char *sv = NULL, *t = strtok_r(copy, " ", &sv); t && ac < 36;
		     t = strtok_r(NULL, " ", &sv))
			argv[ac++] = t;
		argv[ac] = NULL;
		if (pipe2(pfd, O_CLOEXEC) < 0)
			return error_set(err, -errno, "pipe");
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		r = posix_spawnp(&pid, "ps", &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[1]);
		if (r != 0) {
			close(pfd[0]);
			return error_set(err, -r, "run ps");
		}
		{
			char *b = NULL;
			size_t bl = 0;
			FILE *f = fdopen(pfd[0], "r");
			char line[4096];
			while (f && fgets(line, sizeof(line), f)) {
				size_t l = strlen(line);
				b = xrealloc(b, bl + l + 1);
				memcpy(b + bl, line, l + 1);
				bl += l;
			}
			if (f)
				fclose(f);
			out = b ? b : xstrdup("");
		}
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return error_setx(err, -EINVAL, "ps: invalid arguments '%s'", ps_args);
	}
	{
		json_object *o = json_object_new_object(), *titles = json_object_new_array();
		json_object *procs = json_object_new_array();
		char *save = NULL, *line = strtok_r(out, "\n", &save);
		int pidcol = -1, ncols = 0;
		char *hdr[64];
		if (!line) {
			json_object_put(o);
			json_object_put(titles);
			json_object_put(procs);
			return error_setx(err, -EIO, "ps printed nothing");
		}
		for (char *sv = NULL, *t = strtok_r(line, " \t", &sv); t && ncols < 64;
		     t = strtok_r(NULL, " \t", &sv)) {
			hdr[ncols] = t;
			if (streq(t, "PID"))
				pidcol = ncols;
			json_object_array_add(titles, json_object_new_string(t));
			ncols++;
		}
		if (pidcol < 0) {
			json_object_put(o);
			json_object_put(titles);
			json_object_put(procs);
			return error_setx(err, -EINVAL, "Couldn't find PID field in ps output");
		}
		(void)hdr;
		_cleanup_free_ char *wanted = xasprintf(",%s,", list);
		while ((line = strtok_r(NULL, "\n", &save))) {
			json_object *row = json_object_new_array();
			char *p = line;
			bool keep = false;
			for (int col = 0; col < ncols; col++) {
				while (*p == ' ' || *p == '\t')
					p++;
				char *start = p;
				if (col == ncols - 1) {
					json_object_array_add(row, json_object_new_string(start));
					break;
				}
				while (*p && *p != ' ' && *p != '\t')
					p++;
				char save_c = *p;
				*p = 0;
				json_object_array_add(row, json_object_new_string(start));
				if (col == pidcol) {
					_cleanup_free_ char *needle = xasprintf(",%s,", start);
					keep = strstr(wanted, needle) != NULL;
				}
				*p = save_c;
			}
			if (keep)
				json_object_array_add(procs, row);
			else
				json_object_put(row);
		}
		json_object_object_add(o, "Titles", titles);
		json_object_object_add(o, "Processes", procs);
		*ret = o;
	}
	return 0;
}

int engine_container_stats(struct engine *e, const char *ref, json_object **ret, struct error **err)
{
	struct container *c;
	_cleanup_error_ struct error *e2 = NULL;
	json_object *raw = NULL, *o;
	int r = 0;
	char *id, *name;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	id = xstrdup(c->id);
	name = xstrdup(c->name);
	if (c->status == C_RUNNING || c->status == C_PAUSED)
		r = runtime_stats(&e->rt, c->id, &raw, &e2);
	pthread_mutex_unlock(&e->lock);
	o = json_object_new_object();
	{
		_cleanup_free_ char *t = format_time_ns(now_ns());
		json_add_str(o, "read", t);
		json_add_str(o, "preread", "0001-01-01T00:00:00Z");
	}
	json_add_str(o, "id", id);
	json_add_str(o, "name", name);
	free(id);
	free(name);
	{
		json_object *cpu = json_object_new_object(), *usage = json_object_new_object();
		json_object *mem = json_object_new_object(), *pids = json_object_new_object();
		json_object *rc = raw && r >= 0 ? raw : NULL, *x, *y;
		uint64_t total = 0, musage = 0, mlimit = 0, current = 0;
		if (rc && json_object_object_get_ex(rc, "cpu", &x) &&
		    json_object_object_get_ex(x, "usage", &y) &&
		    json_object_object_get_ex(y, "total", &x))
			total = json_object_get_uint64(x);
		if (rc && json_object_object_get_ex(rc, "memory", &x) &&
		    json_object_object_get_ex(x, "usage", &y)) {
			json_object *u, *l;
			if (json_object_object_get_ex(y, "usage", &u))
				musage = json_object_get_uint64(u);
			if (json_object_object_get_ex(y, "limit", &l))
				mlimit = json_object_get_uint64(l);
		}
		if (rc && json_object_object_get_ex(rc, "pids", &x) &&
		    json_object_object_get_ex(x, "current", &y))
			current = json_object_get_uint64(y);
		json_object_object_add(usage, "total_usage", json_object_new_uint64(total));
		json_object_object_add(usage, "usage_in_kernelmode", json_object_new_uint64(0));
		json_object_object_add(usage, "usage_in_usermode", json_object_new_uint64(0));
		json_object_object_add(cpu, "cpu_usage", usage);
		{
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			json_object_object_add(
			    cpu, "system_cpu_usage",
			    json_object_new_uint64((uint64_t)ts.tv_sec * 1000000000ULL *
						       (uint64_t)sysconf(_SC_NPROCESSORS_ONLN) +
						   (uint64_t)ts.tv_nsec));
		}
		json_add_int(cpu, "online_cpus", sysconf(_SC_NPROCESSORS_ONLN));
		json_object_object_add(cpu, "throttling_data", json_object_new_object());
		json_object_object_add(o, "cpu_stats", cpu);
		json_object_object_add(o, "precpu_stats",
				       json_tokener_parse("{\"cpu_usage\":{\"total_usage\":0},"
							  "\"throttling_data\":{}}"));
		json_object_object_add(mem, "usage", json_object_new_uint64(musage));
		if (mlimit == 0 || mlimit > (1ULL << 62)) {
			long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
			mlimit = (uint64_t)pages * (uint64_t)psz;
		}
		json_object_object_add(mem, "limit", json_object_new_uint64(mlimit));
		json_object_object_add(mem, "stats", json_object_new_object());
		json_object_object_add(o, "memory_stats", mem);
		json_object_object_add(pids, "current", json_object_new_uint64(current));
		json_object_object_add(o, "pids_stats", pids);
		json_object_object_add(o, "blkio_stats", json_object_new_object());
		json_object_object_add(o, "networks", json_object_new_object());
	}
	if (raw)
		json_object_put(raw);
	*ret = o;
	return 0;
}

int engine_container_resize(struct engine *e, const char *ref, int h, int w, struct error **err)
{
	struct container *c;
	_cleanup_free_ char *sock = NULL;
	char line[64], reply[64];
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	if (c->status != C_RUNNING && c->status != C_PAUSED) {
		int r = error_setx(err, -EEXIST, "Container %s is not running", c->id);
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	sock = shim_sock(e, c->id);
	pthread_mutex_unlock(&e->lock);
	snprintf(line, sizeof(line), "RESIZE %d %d\n", h, w);
	return shim_request(sock, line, reply, sizeof(reply), err);
}

/* ---- the monitor: exits, restart policies -------------------------------------- */

struct restart_job {
	struct engine *e;
	char *id;
	int64_t delay_ms;
};

static void *restart_thread(void *arg)
{
	struct restart_job *j = arg;
	struct timespec ts = {j->delay_ms / 1000, (j->delay_ms % 1000) * 1000000};
	_cleanup_error_ struct error *err = NULL;
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&j->e->lock);
	struct container *c = container_find(j->e, j->id);
	bool go = c && c->status == C_RESTARTING && !c->stopping && !j->e->closing;
	pthread_mutex_unlock(&j->e->lock);
	if (go && container_start_internal(j->e, j->id, false, &err) < 0)
		log_warn("restart %s: %s", j->id, err ? err->msg : "failed");
	free(j->id);
	free(j);
	return NULL;
}

/* The restart thread of a container: status restarting, started after the delay. */
static void schedule_restart_locked(struct engine *e, struct container *c, int64_t delay_ms)
{
	struct restart_job *j = xnew0(struct restart_job, 1);
	pthread_t t;
	if (delay_ms > 60000)
		delay_ms = 60000;
	c->status = C_RESTARTING;
	j->e = e;
	j->id = xstrdup(c->id);
	j->delay_ms = delay_ms;
	if (pthread_create(&t, NULL, restart_thread, j) == 0) {
		pthread_detach(t);
	} else {
		c->status = C_EXITED;
		free(j->id);
		free(j);
	}
}

/* Decide, with the lock held, whether an exited container restarts. */
static bool should_restart(struct container *c)
{
	json_object *rp = get(c->host_config, "RestartPolicy");
	const char *name = get_s(rp, "Name");
	int max = rp && get(rp, "MaximumRetryCount")
		      ? json_object_get_int(get(rp, "MaximumRetryCount"))
		      : 0;
	if (c->stopping || !name)
		return false;
	if (streq(name, "always"))
		return true;
	if (streq(name, "unless-stopped"))
		return !c->manually_stopped;
	if (streq(name, "on-failure"))
		return c->exit_code != 0 && (max == 0 || c->restart_count < max);
	return false;
}

static void handle_exit_locked(struct engine *e, struct container *c, int code, int64_t when)
{
	bool autoremove = get(c->host_config, "AutoRemove") &&
			  json_object_get_boolean(get(c->host_config, "AutoRemove"));
	if (c->status != C_RUNNING && c->status != C_PAUSED)
		return;
	if (c->watch_fd >= 0) {
		epoll_ctl(e->monitor_epfd, EPOLL_CTL_DEL, c->watch_fd, NULL);
		close(c->watch_fd);
		c->watch_fd = -1;
	}
	health_stop_locked(e, c); /* restarted with the container, if it restarts */
	c->exit_code = code;
	c->finished_ns = when > 0 ? when : now_ns();
	c->status = C_EXITED;
	c->pid = 0;
	c->old_shim_pid = c->shim_pid;
	c->shim_pid = 0;
	c->exit_gen++;
	/* An AutoRemove container is removed below, and its overlay unmounted with it, after
	 * the waiters were answered (janitor.c). */
	if (!autoremove)
		container_unmount(e, c);
	container_net_release(e, c);
	{
		json_object *attrs = json_object_new_object();
		char num[16];
		snprintf(num, sizeof(num), "%d", code);
		json_add_str(attrs, "exitCode", num);
		json_add_str(attrs, "name", c->name + 1);
		json_add_str(attrs, "image", c->image);
		event_emit_locked(e, "container", "die", c->id, attrs);
	}
	if (!autoremove && !e->closing && shutting_down != e && should_restart(c)) {
		/* Docker's back-off: 100 ms doubling, reset after 10 s of running. */
		int64_t ran = c->finished_ns - c->started_ns;
		if (ran > 10LL * 1000000000LL || c->backoff_ms <= 0)
			c->backoff_ms = 100;
		else
			c->backoff_ms = c->backoff_ms * 2 > 60000 ? 60000 : c->backoff_ms * 2;
		c->restart_count++;
		schedule_restart_locked(e, c, c->backoff_ms);
	}
	/* An AutoRemove container's record goes below: no write of its exit first (after a
	 * crash in between, the restart finds it exited and removes it). */
	if (!autoremove || c->removing)
		store_save(e, c);
	pthread_cond_broadcast(&e->cond);
	if (autoremove && !c->removing) {
		c->removing = true;
		container_remove_locked(e, c);
	}
}

/* Read the exit file of a shim that is gone: "<code> <ns>". */
static bool read_exit_file(struct engine *e, const char *id, int *code, int64_t *when)
{
	_cleanup_free_ char *run = container_rundir(e, id);
	_cleanup_free_ char *p = xasprintf("%s/exit", run);
	_cleanup_free_ char *txt = NULL;
	long long ns = 0;
	if (read_file_at(AT_FDCWD, p, 128, &txt, NULL) < 0)
		return false;
	if (sscanf(txt, "%d %lld", code, &ns) < 1)
		return false;
	*when = ns;
	return true;
}

/*
 * The shim is gone without telling us the exit: its exit file has the code, else
 * (the shim was killed) 255. A shim that died did not delete the container from the
 * runtime: do it (it kills what is left, frees the cgroup) so it can start again.
 */
static void shim_gone_locked(struct engine *e, struct container *c, int *code, int64_t *when)
{
	_cleanup_error_ struct error *e2 = NULL;
	*when = 0;
	if (!read_exit_file(e, c->id, code, when)) {
		*code = 255;
		*when = 0;
	}
	(void)runtime_delete(&e->rt, c->id, true, &e2);
}

static void *monitor_main(void *arg)
{
	struct engine *e = arg;
	for (;;) {
		struct epoll_event evs[32];
		int n = epoll_wait(e->monitor_epfd, evs, ELEMENTSOF(evs), -1);
		if (n < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&e->lock);
		if (e->closing) {
			pthread_mutex_unlock(&e->lock);
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct container *c;
			char buf[256];
			ssize_t k;
			int code = 255;
			long long ns = 0;

			if (fd == e->monitor_wake[0]) {
				while (read(fd, buf, sizeof(buf)) > 0)
					;
				continue;
			}
			for (c = e->containers; c; c = c->next)
				if (c->watch_fd == fd)
					break;
			if (!c) {
				epoll_ctl(e->monitor_epfd, EPOLL_CTL_DEL, fd, NULL);
				continue;
			}
			k = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			if (k < 0 && errno == EAGAIN)
				continue;
			if (k > 0) {
				buf[k] = 0;
				if (sscanf(buf, "EXIT %d %lld", &code, &ns) < 1)
					code = 255;
			} else {
				int64_t w = 0;
				/* The shim is gone without a word: its exit file, or 255. */
				shim_gone_locked(e, c, &code, &w);
				ns = w;
			}
			handle_exit_locked(e, c, code, ns);
		}
		pthread_mutex_unlock(&e->lock);
	}
	return NULL;
}

bool monitor_watch(struct engine *e, struct container *c)
{
	_cleanup_free_ char *sock = shim_sock(e, c->id);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	int fd = shim_connect(sock, "WAIT\n", NULL);
	if (fd < 0) {
		int code = 255;
		int64_t when = 0;
		_cleanup_free_ char *id = xstrdup(c->id);
		shim_gone_locked(e, c, &code, &when);
		handle_exit_locked(e, c, code, when);
		return container_find(e, id) == NULL;
	}
	c->watch_fd = fd;
	ev.data.fd = fd;
	epoll_ctl(e->monitor_epfd, EPOLL_CTL_ADD, fd, &ev);
	return false;
}

int monitor_start(struct engine *e, struct error **err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	e->monitor_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->monitor_epfd < 0 || pipe2(e->monitor_wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return error_set(err, -errno, "monitor");
	ev.data.fd = e->monitor_wake[0];
	epoll_ctl(e->monitor_epfd, EPOLL_CTL_ADD, e->monitor_wake[0], &ev);
	if (pthread_create(&e->monitor, NULL, monitor_main, e) != 0)
		return error_setx(err, -EAGAIN, "start the monitor thread");
	return 0;
}

/*
 * A container we have as not running, but that runs (berthd died between START and
 * recording it): adopt it when its shim answers. True when adopted.
 */
static bool adopt_locked(struct engine *e, struct container *c)
{
	_cleanup_json_ json_object *st = NULL;
	_cleanup_free_ char *sock = shim_sock(e, c->id);
	json_object *v;
	const char *status;
	int fd;
	if (runtime_state(&e->rt, c->id, &st, NULL) < 0 ||
	    !json_object_object_get_ex(st, "status", &v))
		return false;
	status = json_object_get_string(v);
	if (!streq(status, "running") && !streq(status, "paused"))
		return false;
	fd = shim_connect(sock, "WAIT\n", NULL);
	if (fd < 0)
		return false;
	close(fd);
	c->status = streq(status, "paused") ? C_PAUSED : C_RUNNING;
	c->pid = json_object_object_get_ex(st, "pid", &v) ? json_object_get_int(v) : 0;
	if (!c->started_ns)
		c->started_ns = now_ns();
	c->exit_code = 0;
	store_save(e, c);
	return true;
}

/*
 * After a (re)start of berthd: containers whose shim still runs are re-adopted
 * (live-restore); the others exited while we were away: their exit file tells the
 * code, else 255. Restart policies apply as after any exit. Like dockerd, containers
 * that were stopped (by an exit or a daemon shutdown) restart when their policy says
 * so: always, unless-stopped unless the user stopped them, on-failure after a failure.
 */
int lifecycle_reconcile(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
	for (struct container *c = e->containers, *next; c; c = next) {
		next = c->next;
		c->starting = false;
		c->stopping = false;
		if (c->status != C_RUNNING && c->status != C_PAUSED && !adopt_locked(e, c)) {
			/* Not running for us: what the runtime still has of it (a start that
			 * berthd died in) goes, so that it can start again. */
			_cleanup_error_ struct error *e2 = NULL;
			_cleanup_json_ json_object *st = NULL;
			if (runtime_state(&e->rt, c->id, &st, NULL) >= 0) {
				(void)runtime_delete(&e->rt, c->id, true, &e2);
				container_unmount(e, c);
			}
		}
		if (c->status == C_RESTARTING) {
			/* It was waiting to restart: do it now. */
			schedule_restart_locked(e, c, 0);
			continue;
		}
		if (c->status == C_EXITED && c->started_ns && !c->removing) {
			/* An AutoRemove container the daemon died before removing goes now, as
			 * dockerd does (its volatile layer could not be mounted again anyway). */
			if (json_object_get_boolean(get(c->host_config, "AutoRemove"))) {
				c->removing = true;
				container_remove_locked(e, c);
				continue;
			}
			if (should_restart(c)) {
				c->restart_count++;
				schedule_restart_locked(e, c, 0);
			}
			continue;
		}
		if (c->status != C_RUNNING && c->status != C_PAUSED)
			continue;
		if (monitor_watch(e, c))
			continue;
		if (c->status == C_RUNNING || c->status == C_PAUSED) {
			/* Re-adopted: the runtime still knows whether it is paused. */
			json_object *st = NULL;
			if (runtime_state(&e->rt, c->id, &st, NULL) >= 0) {
				json_object *s;
				if (json_object_object_get_ex(st, "status", &s))
					c->status = streq(json_object_get_string(s), "paused")
							? C_PAUSED
							: C_RUNNING;
				json_object_put(st);
			}
			/* dockerd restores the probes of a running container, its status
			 * starting over */
			if (c->status == C_RUNNING)
				health_start_locked(e, c);
		}
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

struct shutdown_job {
	struct engine *e;
	char *id;
	int timeout;
	pthread_t t;
	bool started;
};

static void *shutdown_stop_thread(void *arg)
{
	struct shutdown_job *j = arg;
	_cleanup_error_ struct error *err = NULL;
	if (engine_container_stop(j->e, j->id, j->timeout, NULL, &err) < 0 && err &&
	    err->code != -EALREADY)
		log_warn("stop %s: %s", j->id, err->msg);
	return NULL;
}

/*
 * Daemon shutdown without live-restore: stop the running containers, all at once
 * (each with its own stop timeout, as dockerd does). These are not user stops: an
 * unless-stopped container comes back with the daemon, and nothing restarts now.
 */
void lifecycle_shutdown(struct engine *e)
{
	struct shutdown_job *jobs = NULL;
	size_t n = 0;

	pthread_mutex_lock(&e->lock);
	shutting_down = e;
	for (struct container *c = e->containers; c; c = c->next)
		if (c->status == C_RUNNING || c->status == C_PAUSED || c->status == C_RESTARTING)
			n++;
	jobs = xnew0(struct shutdown_job, n ? n : 1);
	n = 0;
	for (struct container *c = e->containers; c; c = c->next)
		if (c->status == C_RUNNING || c->status == C_PAUSED || c->status == C_RESTARTING) {
			/* its stop timeout, within the daemon's --shutdown-timeout */
			json_object *st = get(c->config, "StopTimeout");
			int t = st ? json_object_get_int(st) : 10;
			if (e->cfg->shutdown_timeout >= 0 &&
			    (t < 0 || t > e->cfg->shutdown_timeout))
				t = e->cfg->shutdown_timeout;
			jobs[n++] =
			    (struct shutdown_job){.e = e, .id = xstrdup(c->id), .timeout = t};
		}
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; i < n; i++)
		jobs[i].started =
		    pthread_create(&jobs[i].t, NULL, shutdown_stop_thread, &jobs[i]) == 0;
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].t, NULL);
		else
			shutdown_stop_thread(&jobs[i]);
		free(jobs[i].id);
	}
	free(jobs);
}
