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

/* dockerd names exec events by their command: "exec_create: sh -c true" (the first word, a
 * space, the others joined: "exec_start: true " for a lone word). */
static char *exec_action(const char *verb, json_object *cmd)
{
	size_t n = json_object_array_length(cmd), len = strlen(verb) + 4;
	char *s;
	for (size_t i = 0; i < n; i++)
		len += strlen(json_object_get_string(json_object_array_get_idx(cmd, i)) ?: "") + 1;
	s = xzalloc(len);
	strcat(s, verb);
	strcat(s, ": ");
	for (size_t i = 0; i < n; i++) {
		strcat(s, json_object_get_string(json_object_array_get_idx(cmd, i)) ?: "");
		if (i == 0 || i + 1 < n)
			strcat(s, " ");
	}
	return s;
}

/* With the lock: an exec event of c's, with dockerd's attributes. */
static void exec_event_locked(struct engine *e, struct container *c, const char *action,
			      const char *exec_id, const char *exit_code)
{
	json_object *attrs = json_object_new_object();
	json_add_str(attrs, "execID", exec_id);
	if (exit_code)
		json_add_str(attrs, "exitCode", exit_code);
	json_add_str(attrs, "image", c->image);
	json_add_str(attrs, "name", c->name + 1);
	event_emit_locked(e, "container", action, c->id, attrs);
}

/* With the lock; c runs. A new exec of body (its Cmd checked) in c. */
static int exec_new_locked(struct engine *e, struct container *c, json_object *body,
			   struct exec_proc **ret, struct error **err)
{
	struct exec_proc *x;
	json_object *proc = NULL;
	_cleanup_free_ char *action = NULL;
	uint8_t b[32];
	char id[65];
	int r;

	_cleanup_error_ struct error *user_err = NULL;

	r = spec_exec_process(e, c, body, &proc, &user_err);
	if (r < 0 && !startswith(user_err->msg, "unable to find user") &&
	    !startswith(user_err->msg, "unable to find group")) {
		if (err) {
			*err = user_err;
			user_err = NULL;
		}
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
	x->start_error = user_err ? xstrdup(user_err->msg) : NULL;
	x->tty = get_b(body, "Tty");
	x->open_stdin = get_b(body, "AttachStdin");
	x->open_stdout = get_b(body, "AttachStdout");
	x->open_stderr = get_b(body, "AttachStderr");
	x->dir = container_rundir(e, c->id);
	x->next = c->execs;
	c->execs = x;
	action = exec_action("exec_create", get(body, "Cmd"));
	exec_event_locked(e, c, action, id, NULL);
	*ret = x;
	return 0;
}

int engine_exec_create(struct engine *e, const char *ref, json_object *body, json_object **ret,
		       struct error **err)
{
	struct container *c;
	struct exec_proc *x = NULL;
	json_object *cmd = get(body, "Cmd");
	int r;

	if (!cmd || !json_object_is_type(cmd, json_type_array) || !json_object_array_length(cmd))
		return error_setx(err, -EINVAL, "No exec command specified");
	pthread_mutex_lock(&e->lock);
	c = container_find(e, ref);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", ref);
	}
	if (c->status == C_PAUSED)
		r = error_setx(err, -EEXIST,
			       "Container %s is paused, unpause the container before "
			       "exec",
			       c->id);
	else if (c->status != C_RUNNING)
		r = error_setx(err, -EEXIST, "container %s is not running", c->id);
	else
		r = exec_new_locked(e, c, body, &x, err);
	if (r >= 0) {
		*ret = json_object_new_object();
		json_add_str(*ret, "Id", x->id);
	}
	pthread_mutex_unlock(&e->lock);
	return r;
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

void exec_proc_free(struct exec_proc *x)
{
	free(x->start_error);
	free(x->id);
	free(x->container_id);
	free(x->dir);
	if (x->config)
		json_object_put(x->config);
	if (x->process)
		json_object_put(x->process);
	free(x);
}

static void exec_finished(struct engine *e, const char *exec_id, int code)
{
	struct exec_proc *x;
	struct container *c = NULL;
	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, &c);
	if (x) {
		char num[16];
		/* The shim's exit file has been read (or there is none): it must not pile up
		 * in the run directory of a container that runs execs all day (probes). */
		_cleanup_free_ char *exit_path = xasprintf("%s/x-%.12s.exit", x->dir, exec_id);
		(void)unlink(exit_path);
		x->running = false;
		x->exited = true;
		x->exit_code = code;
		snprintf(num, sizeof(num), "%d", code);
		exec_event_locked(e, c, "exec_die", exec_id, num);
		if (x->probe) {
			/* dockerd forgets a probe's exec once it exited */
			for (struct exec_proc **pp = &c->execs; *pp; pp = &(*pp)->next)
				if (*pp == x) {
					*pp = x->next;
					break;
				}
			exec_proc_free(x);
		}
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

/* An exec's shim and its connections, from exec_launch(). */
struct launch {
	bool tty, want_in, want_out, want_err;
	bool attach; /* asked for: an ATTACH connection (before START: no output is lost) */
	bool wait;   /* asked for: a WAIT connection */
	int afd, wfd;
	pid_t shim_pid, pid;
};

static void launch_release(struct launch *l)
{
	if (l->afd >= 0)
		close(l->afd);
	if (l->wfd >= 0)
		close(l->wfd);
	l->afd = l->wfd = -1;
}

/*
 * Starts exec_id: its shim (berth-shim in exec mode), the connections l asks for, START.
 * On failure the exec has finished (126, 127 for a missing command) and its shim is killed;
 * l->afd stays, for the caller to tell the client on the stream.
 */
static int exec_launch(struct engine *e, const char *exec_id, bool detach, bool have_stdin,
		       struct launch *l, struct error **err)
{
	struct exec_proc *x;
	struct container *c = NULL;
	_cleanup_free_ char *procpath = NULL, *sock = NULL, *cid = NULL, *dir = NULL;
	_cleanup_free_ char *action = NULL;
	char *argv[24];
	int argc = 0, r;
	char reply[1200], line[32];

	l->afd = l->wfd = -1;
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
	if (x->start_error) {
		r = error_setx(err, -EINVAL, "%s", x->start_error);
		pthread_mutex_unlock(&e->lock);
		exec_finished(e, exec_id, 126);
		return r;
	}
	l->tty = x->tty;
	l->want_in = x->open_stdin && !detach && have_stdin;
	l->want_out = x->open_stdout && !detach;
	l->want_err = x->open_stderr && !detach;
	action = exec_action("exec_start", get(x->config, "Cmd"));
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
	if (l->tty)
		argv[argc++] = "--tty";
	if (l->want_in) {
		argv[argc++] = "--open-stdin";
		argv[argc++] = "--stdin-once";
	}
	argv[argc] = NULL;
	r = shim_spawn(e, argv, &l->shim_pid, err);
	if (r < 0) {
		unlink(procpath);
		exec_finished(e, exec_id, 126);
		return r;
	}
	sock = xasprintf("%s/x-%.12s.sock", dir, exec_id);
	if (l->attach) {
		snprintf(line, sizeof(line), "ATTACH %s%s%s\n", l->want_in ? "i" : "",
			 l->want_out ? "o" : "", l->want_err ? "e" : "");
		l->afd = shim_connect(sock, line, err);
	}
	if (l->wait)
		l->wfd = shim_connect(sock, "WAIT\n", NULL);
	r = shim_request(sock, "START\n", reply, sizeof(reply), err);
	unlink(procpath);
	if (r >= 0 && !startswith(reply, "OK "))
		r = error_setx(err, -EINVAL, "%s", startswith(reply, "ERR ") ? reply + 4 : reply);
	if (r < 0) {
		kill(l->shim_pid, SIGKILL);
		if (l->wfd >= 0)
			close(l->wfd);
		l->wfd = -1;
		exec_finished(e, exec_id, strstr((*err)->msg, "not found") ? 127 : 126);
		return r;
	}
	l->pid = (pid_t)atoi(reply + 3);
	pthread_mutex_lock(&e->lock);
	x = exec_find(e, exec_id, &c);
	if (x) {
		x->pid = l->pid;
		exec_event_locked(e, c, action, exec_id, NULL);
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

int engine_exec_start(struct engine *e, const char *exec_id, bool detach, int in_fd, int out_fd,
		      const char *stdin_prefix, size_t stdin_prefix_len, struct error **err)
{
	struct launch l = {.attach = !detach, .wait = true};
	int r;

	r = exec_launch(e, exec_id, detach, in_fd >= 0, &l, err);
	if (r < 0) {
		if (!detach && out_fd >= 0 && l.afd >= 0 && err && *err) {
			/* Docker writes the failure into the stream after the hijack. */
			_cleanup_free_ char *m = xasprintf("%s\r\n", (*err)->msg);
			if (l.tty)
				(void)loop_write(out_fd, m, strlen(m));
			else
				(void)stdcopy_write(out_fd, STDCOPY_STDERR, m, strlen(m));
			error_free(*err);
			*err = NULL;
			r = 0;
		}
		launch_release(&l);
		return r;
	}
	if (detach || l.afd < 0) {
		/* Someone must record the exit: a thread on the WAIT connection. */
		struct exec_waiter *w = xnew0(struct exec_waiter, 1);
		pthread_t t;
		w->e = e;
		w->exec_id = xstrdup(exec_id);
		w->fd = TAKE_FD(l.wfd);
		if (w->fd < 0 || pthread_create(&t, NULL, exec_wait_thread, w) != 0) {
			if (w->fd >= 0)
				close(w->fd);
			exec_finished(e, exec_id, 255);
			free(w->exec_id);
			free(w);
		} else {
			pthread_detach(t);
		}
		launch_release(&l);
		return 0;
	}
	{
		pthread_t t;
		struct shim_pump p = {.in_fd = in_fd,
				      .shim_fd = l.afd,
				      .prefix = stdin_prefix,
				      .prefix_len = stdin_prefix_len};
		bool pumping = l.want_in && pthread_create(&t, NULL, shim_stdin_pump, &p) == 0;
		shim_relay_frames(l.afd, out_fd, l.tty, true, true);
		if (pumping) {
			shutdown(l.afd, SHUT_RDWR);
			shutdown(in_fd, SHUT_RD);
			pthread_join(t, NULL);
		}
	}
	{
		char buf[128] = "";
		int code = 255;
		ssize_t n = l.wfd >= 0 ? read(l.wfd, buf, sizeof(buf) - 1) : -1;
		if (n > 0) {
			buf[n] = 0;
			sscanf(buf, "EXIT %d", &code);
		}
		exec_finished(e, exec_id, code);
	}
	launch_release(&l);
	return 0;
}

int exec_probe_start(struct engine *e, const char *cid, json_object *cmd, char **ret_exec_id,
		     int *ret_fd, pid_t *ret_pid, struct error **err)
{
	_cleanup_json_ json_object *body = json_object_new_object();
	struct launch l = {.attach = true};
	struct container *c;
	struct exec_proc *x = NULL;
	_cleanup_free_ char *id = NULL;
	int r;

	json_object_object_add(body, "Cmd", json_object_get(cmd));
	json_add_bool(body, "AttachStdout", true);
	json_add_bool(body, "AttachStderr", true);
	pthread_mutex_lock(&e->lock);
	c = container_find(e, cid);
	if (!c || c->status != C_RUNNING)
		r = error_setx(err, -EEXIST, "container %s is not running", cid);
	else
		r = exec_new_locked(e, c, body, &x, err);
	if (r >= 0) {
		x->probe = true;
		id = xstrdup(x->id);
	}
	pthread_mutex_unlock(&e->lock);
	if (r < 0)
		return r;
	r = exec_launch(e, id, false, false, &l, err);
	if (r < 0) {
		launch_release(&l);
		return r;
	}
	*ret_fd = TAKE_FD(l.afd);
	*ret_pid = l.pid;
	*ret_exec_id = TAKE_PTR(id);
	return 0;
}

void exec_probe_done(struct engine *e, const char *exec_id, int code)
{
	exec_finished(e, exec_id, code);
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
