/* SPDX-License-Identifier: Apache-2.0 */
/* exec: an exec is a berth-shim in exec mode, attached like a container. */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "http/http.h"
#include "internal.h"

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_object_get_ex(o, k, &v) && !json_object_is_type(v, json_type_null))
		return v;
	return NULL;
}

static bool get_b(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_get_boolean(v);
}

/* With the lock held. */
static struct exec_proc *exec_find(struct engine *e, const char *id, struct container **ret_c)
{
	for (struct container *c = e->containers; c; c = c->next)
		for (struct exec_proc *x = c->execs; x; x = x->next)
			if (streq(x->id, id)) {
				if (ret_c)
					*ret_c = c;
				return x;
			}
	return NULL;
}

int engine_exec_create(struct engine *e, const char *ref, json_object *body, json_object **ret,
		       struct error **err)
{
	struct container *c;
	struct exec_proc *x;
	json_object *proc = NULL, *cmd = get(body, "Cmd");
	uint8_t b[32];
	char id[65];
	int r;

	if (!cmd || !json_object_is_type(cmd, json_type_array) || !json_object_array_length(cmd))
		return error_setx(err, -EINVAL, "No exec command specified");
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	if (c->status == C_PAUSED) {
		r = error_setx(err, -EEXIST,
			       "Container %s is paused, unpause the container before "
			       "exec",
			       c->id);
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	if (c->status != C_RUNNING) {
		r = error_setx(err, -EEXIST, "container %s is not running", c->id);
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	r = spec_exec_process(e, c, body, &proc, err);
	if (r < 0) {
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, 7, sizeof(b));
	for (size_t i = 0; i < 32; i++)
		sprintf(id + 2 * i, "%02x", b[i]);
	x = xnew0(struct exec_proc, 1);
	x->id = xstrdup(id);
	x->container_id = xstrdup(c->id);
	x->config = json_object_get(body);
	x->process = proc;
	x->tty = get_b(body, "Tty");
	x->open_stdin = get_b(body, "AttachStdin");
	x->open_stdout = get_b(body, "AttachStdout");
	x->open_stderr = get_b(body, "AttachStderr");
	x->dir = container_rundir(e, c->id);
	x->next = c->execs;
	c->execs = x;
	{
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "name", c->name + 1);
		json_add_str(attrs, "execID", id);
		event_emit_locked(e, "container", "exec_create", c->id, attrs);
	}
	pthread_mutex_unlock(&e->lock);
	*ret = json_object_new_object();
	json_add_str(*ret, "Id", id);
	return 0;
}

int engine_exec_lookup(struct engine *e, const char *exec_id, bool *ret_tty, struct error **err)
{
	struct exec_proc *x;
	int r = 0;
	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, NULL);
	if (!x)
		r = error_setx(err, -ENOENT, "No such exec instance: %s", exec_id);
	else
		*ret_tty = x->tty;
	pthread_mutex_unlock(&e->lock);
	return r;
}

static void exec_finished(struct engine *e, const char *exec_id, int code)
{
	struct exec_proc *x;
	struct container *c = NULL;
	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, &c);
	if (x) {
		x->running = false;
		x->exited = true;
		x->exit_code = code;
		json_object *attrs = json_object_new_object();
		char num[16];
		snprintf(num, sizeof(num), "%d", code);
		json_add_str(attrs, "execID", exec_id);
		json_add_str(attrs, "exitCode", num);
		event_emit_locked(e, "container", "exec_die", c->id, attrs);
	}
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

struct exec_waiter {
	struct engine *e;
	char *exec_id;
	int fd;
};

static void *exec_wait_thread(void *arg)
{
	struct exec_waiter *w = arg;
	char buf[128] = "";
	int code = 255;
	ssize_t n = read(w->fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = 0;
		sscanf(buf, "EXIT %d", &code);
	}
	close(w->fd);
	exec_finished(w->e, w->exec_id, code);
	free(w->exec_id);
	free(w);
	return NULL;
}

int engine_exec_start(struct engine *e, const char *exec_id, bool detach, int in_fd, int out_fd,
		      const char *stdin_prefix, size_t stdin_prefix_len, struct error **err)
{
	struct exec_proc *x;
	struct container *c = NULL;
	_cleanup_free_ char *procpath = NULL, *sock = NULL, *cid = NULL, *dir = NULL;
	_cleanup_close_ int afd = -EBADF, wfd = -EBADF;
	char *argv[24];
	int argc = 0, r;
	pid_t shim_pid;
	char reply[1200], line[32];
	bool tty, want_in, want_out, want_err;

	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, &c);
	if (!x) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such exec instance: %s", exec_id);
	}
	if (x->started) {
		r = error_setx(err, -EEXIST, "Error: Exec command %s has already run", exec_id);
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	if (c->status != C_RUNNING) {
		r = error_setx(err, -EEXIST, "container %s is not running", c->id);
		pthread_mutex_unlock(&e->lock);
		return r;
	}
	x->started = true;
	x->running = true;
	tty = x->tty;
	want_in = x->open_stdin && !detach && in_fd >= 0;
	want_out = x->open_stdout && !detach;
	want_err = x->open_stderr && !detach;
	cid = xstrdup(c->id);
	dir = xstrdup(x->dir);
	procpath = xasprintf("%s/x-%.12s.json", dir, exec_id);
	{
		const char *txt =
		    json_object_to_json_string_ext(x->process, JSON_C_TO_STRING_PLAIN);
		r = write_file_replace(procpath, txt, strlen(txt), 0600);
	}
	pthread_mutex_unlock(&e->lock);
	if (r < 0) {
		exec_finished(e, exec_id, 126);
		return error_set(err, r, "write exec process");
	}
	argv[argc++] = "berth-shim";
	argv[argc++] = "--id";
	argv[argc++] = cid;
	argv[argc++] = "--dir";
	argv[argc++] = dir;
	argv[argc++] = "--runtime-root";
	argv[argc++] = e->runtime_root;
	argv[argc++] = "--exec-id";
	argv[argc++] = (char *)exec_id;
	argv[argc++] = "--process";
	argv[argc++] = procpath;
	argv[argc++] = "--status-fd";
	argv[argc++] = "3";
	if (tty)
		argv[argc++] = "--tty";
	if (want_in) {
		argv[argc++] = "--open-stdin";
		argv[argc++] = "--stdin-once";
	}
	argv[argc] = NULL;
	r = shim_spawn(e, argv, &shim_pid, err);
	if (r < 0) {
		unlink(procpath);
		exec_finished(e, exec_id, 126);
		return r;
	}
	sock = xasprintf("%s/x-%.12s.sock", dir, exec_id);
	if (!detach) {
		snprintf(line, sizeof(line), "ATTACH %s%s%s\n", want_in ? "i" : "",
			 want_out ? "o" : "", want_err ? "e" : "");
		afd = shim_connect(sock, line, err);
	}
	wfd = shim_connect(sock, "WAIT\n", NULL);
	r = shim_request(sock, "START\n", reply, sizeof(reply), err);
	unlink(procpath);
	if (r >= 0 && !startswith(reply, "OK ")) {
		const char *m = startswith(reply, "ERR ") ? reply + 4 : reply;
		r = error_setx(err, -EINVAL, "%s", m);
	}
	if (r < 0) {
		kill(shim_pid, SIGKILL);
		exec_finished(e, exec_id, strstr((*err)->msg, "not found") ? 127 : 126);
		if (!detach && out_fd >= 0 && afd >= 0) {
			/* Docker writes the failure into the stream after the hijack. */
			_cleanup_free_ char *m = xasprintf("%s\r\n", (*err)->msg);
			if (tty)
				(void)loop_write(out_fd, m, strlen(m));
			else
				(void)stdcopy_write(out_fd, STDCOPY_STDERR, m, strlen(m));
			error_free(*err);
			*err = NULL;
			return 0;
		}
		return r;
	}
	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, NULL);
	if (x)
		x->pid = (pid_t)atoi(reply + 3);
	{
		struct container *cc = container_find(e, cid);
		if (cc) {
			json_object *attrs = json_object_new_object();
			json_add_str(attrs, "name", cc->name + 1);
			json_add_str(attrs, "execID", exec_id);
			event_emit_locked(e, "container", "exec_start", cid, attrs);
		}
	}
	pthread_mutex_unlock(&e->lock);

	if (detach || afd < 0) {
		/* Someone must record the exit: a thread on the WAIT connection. */
		struct exec_waiter *w = xnew0(struct exec_waiter, 1);
		pthread_t t;
		w->e = e;
		w->exec_id = xstrdup(exec_id);
		w->fd = TAKE_FD(wfd);
		if (w->fd < 0 || pthread_create(&t, NULL, exec_wait_thread, w) != 0) {
			if (w->fd >= 0)
				close(w->fd);
			exec_finished(e, exec_id, 255);
			free(w->exec_id);
			free(w);
		} else {
			pthread_detach(t);
		}
		return 0;
	}
	{
		pthread_t t;
		struct shim_pump p = {.in_fd = in_fd,
				      .shim_fd = afd,
				      .prefix = stdin_prefix,
				      .prefix_len = stdin_prefix_len};
		bool pumping = want_in && pthread_create(&t, NULL, shim_stdin_pump, &p) == 0;
		shim_relay_frames(afd, out_fd, tty, true, true);
		if (pumping) {
			shutdown(afd, SHUT_RDWR);
			shutdown(in_fd, SHUT_RD);
			pthread_join(t, NULL);
		}
	}
	{
		char buf[128] = "";
		int code = 255;
		ssize_t n = wfd >= 0 ? read(wfd, buf, sizeof(buf) - 1) : -1;
		if (n > 0) {
			buf[n] = 0;
			sscanf(buf, "EXIT %d", &code);
		}
		exec_finished(e, exec_id, code);
	}
	return 0;
}

int engine_exec_inspect(struct engine *e, const char *exec_id, json_object **ret,
			struct error **err)
{
	struct exec_proc *x;
	struct container *c = NULL;
	json_object *o, *pc;
	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, &c);
	if (!x) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such exec instance: %s", exec_id);
	}
	o = json_object_new_object();
	pc = json_object_new_object();
	json_add_str(o, "ID", x->id);
	json_add_bool(o, "Running", x->running);
	if (x->exited)
		json_add_int(o, "ExitCode", x->exit_code);
	else
		json_object_object_add(o, "ExitCode", NULL);
	json_add_bool(pc, "tty", x->tty);
	{
		json_object *cmd = get(x->config, "Cmd"), *args = json_object_new_array();
		json_add_str(pc, "entrypoint",
			     json_object_get_string(json_object_array_get_idx(cmd, 0)));
		for (size_t i = 1; i < json_object_array_length(cmd); i++)
			json_object_array_add(args,
					      json_object_get(json_object_array_get_idx(cmd, i)));
		json_object_object_add(pc, "arguments", args);
	}
	json_add_bool(pc, "privileged", get_b(x->config, "Privileged"));
	json_add_str(pc, "user",
		     get(x->config, "User") ? json_object_get_string(get(x->config, "User")) : "");
	json_object_object_add(o, "ProcessConfig", pc);
	json_add_bool(o, "OpenStdin", x->open_stdin);
	json_add_bool(o, "OpenStderr", x->open_stderr);
	json_add_bool(o, "OpenStdout", x->open_stdout);
	json_add_bool(o, "CanRemove", false);
	json_add_str(o, "ContainerID", c->id);
	json_add_str(o, "DetachKeys", "");
	json_add_int(o, "Pid", x->pid);
	pthread_mutex_unlock(&e->lock);
	*ret = o;
	return 0;
}

int engine_exec_resize(struct engine *e, const char *exec_id, int h, int w, struct error **err)
{
	struct exec_proc *x;
	_cleanup_free_ char *sock = NULL;
	char line[64], reply[64];
	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, NULL);
	if (!x) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such exec instance: %s", exec_id);
	}
	sock = xasprintf("%s/x-%.12s.sock", x->dir, exec_id);
	pthread_mutex_unlock(&e->lock);
	snprintf(line, sizeof(line), "RESIZE %d %d\n", h, w);
	return shim_request(sock, line, reply, sizeof(reply), err);
}
