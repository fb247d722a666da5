/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Healthchecks, as dockerd runs them (moby daemon/health.go): Config.Healthcheck's command
 * runs in the container now and then as an exec (exec.c), and State.Health keeps what came
 * of it: "starting" until a probe passes, "healthy" after one, "unhealthy" after Retries
 * failures in a row (failures within StartPeriod do not count while it is starting), and
 * the last five results.
 *
 * One thread, the prober, runs the probes of every container: it exists while some
 * container has a healthcheck and runs, and goes when none has. It launches each probe
 * (the exec's shim, START: milliseconds), then waits for all of them at once on an epoll
 * set: the output and the exit come as frames on the shim's ATTACH connection, the
 * timeouts as the epoll timeout. The engine lock is held only to pick what is due and to
 * record a result. A probe that overruns its timeout is killed and counts as a failure at
 * once; its exit is still awaited (for its exec_die event) without holding up the others.
 */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "internal.h"

#define HEALTH_OUTPUT_MAX 4096 /* moby's maxOutputLen */
#define HEALTH_LOG_MAX 5       /* moby's maxLogEntries */
#define MIN_DURATION_NS 1000000LL

/* moby's defaults */
#define DEFAULT_INTERVAL_NS (30 * 1000000000LL)
#define DEFAULT_TIMEOUT_NS (30 * 1000000000LL)
#define DEFAULT_START_INTERVAL_NS (5 * 1000000000LL)
#define DEFAULT_RETRIES 3

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_object_get_ex(o, k, &v) && !json_object_is_type(v, json_type_null))
		return v;
	return NULL;
}

/* ---- the configuration ------------------------------------------------------------ */

static const char *const duration_fields[] = {"Interval", "Timeout", "StartPeriod",
					      "StartInterval"};

static int type_error(struct error **err, const char *field, json_object *v, const char *want)
{
	return error_setx(err, -EINVAL,
			  "json: cannot unmarshal %s into Go struct field "
			  "HealthConfig.Healthcheck.%s of type %s",
			  json_type_go(v), field, want);
}

/* The types json.Unmarshal insists on, then moby's validateHealthCheck. */
static int check_config(json_object *hc, struct error **err)
{
	json_object *test = get(hc, "Test"), *v;

	if (test) {
		bool ok = json_object_is_type(test, json_type_array);
		for (size_t i = 0; ok && i < json_object_array_length(test); i++)
			ok = json_object_is_type(json_object_array_get_idx(test, i),
						 json_type_string);
		if (!ok)
			return type_error(err, "Test", test, "[]string");
	}
	for (size_t i = 0; i < ELEMENTSOF(duration_fields); i++)
		if ((v = get(hc, duration_fields[i])) && !json_object_is_type(v, json_type_int))
			return type_error(err, duration_fields[i], v, "time.Duration");
	if ((v = get(hc, "Retries")) && !json_object_is_type(v, json_type_int))
		return type_error(err, "Retries", v, "int");

	for (size_t i = 0; i < ELEMENTSOF(duration_fields); i++) {
		int64_t d = (v = get(hc, duration_fields[i])) ? json_object_get_int64(v) : 0;
		/* dockerd checks Retries between Timeout and StartPeriod */
		if (i == 2 && (v = get(hc, "Retries")) && json_object_get_int64(v) < 0)
			return error_setx(err, -EINVAL,
					  "Retries in Healthcheck cannot be negative");
		if (d != 0 && d < MIN_DURATION_NS)
			return error_setx(err, -EINVAL, "%s in Healthcheck cannot be less than 1ms",
					  duration_fields[i]);
	}
	return 0;
}

static bool zero(json_object *hc, const char *k)
{
	json_object *v = get(hc, k);
	if (!v)
		return true;
	if (json_object_is_type(v, json_type_array))
		return json_object_array_length(v) == 0;
	return json_object_get_int64(v) == 0;
}

int health_config_merge(json_object *hc, json_object *image_hc, json_object **ret,
			struct error **err)
{
	static const char *const fields[] = {"Test",	    "Interval",	     "Timeout",
					     "StartPeriod", "StartInterval", "Retries"};
	json_object *out = NULL;
	int r;

	*ret = NULL;
	if (hc && !json_object_is_type(hc, json_type_object))
		return error_setx(
		    err, -EINVAL,
		    "json: cannot unmarshal %s into Go struct field "
		    "ContainerConfigWrapper.Healthcheck of type container.HealthConfig",
		    json_type_go(hc));
	if (hc) {
		r = check_config(hc, err);
		if (r < 0)
			return r;
	}
	/* An image's healthcheck that is not what dockerd would write is left out. */
	if (image_hc &&
	    (!json_object_is_type(image_hc, json_type_object) || check_config(image_hc, NULL) < 0))
		image_hc = NULL;
	if (!hc && !image_hc)
		return 0;
	if (json_object_deep_copy(hc ? hc : image_hc, &out, NULL) < 0)
		return error_setx(err, -ENOMEM, "copy Healthcheck");
	/* moby's merge: what the request leaves zero, the image's gives */
	for (size_t i = 0; hc && image_hc && i < ELEMENTSOF(fields); i++)
		if (zero(out, fields[i]) && !zero(image_hc, fields[i])) {
			json_object *copy = NULL;
			if (json_object_deep_copy(get(image_hc, fields[i]), &copy, NULL) >= 0)
				json_object_object_add(out, fields[i], copy);
		}
	*ret = out;
	return 0;
}

struct params {
	int64_t interval, timeout, start_period, start_interval;
	int retries;
};

static int64_t duration_or(json_object *hc, const char *k, int64_t def)
{
	json_object *v = get(hc, k);
	int64_t d = v ? json_object_get_int64(v) : 0;
	return d > 0 ? d : def;
}

static void params_of(const struct container *c, struct params *p)
{
	json_object *hc = get(c->config, "Healthcheck"), *v = get(hc, "Retries");
	p->interval = duration_or(hc, "Interval", DEFAULT_INTERVAL_NS);
	p->timeout = duration_or(hc, "Timeout", DEFAULT_TIMEOUT_NS);
	p->start_period = duration_or(hc, "StartPeriod", 0);
	p->start_interval = duration_or(hc, "StartInterval", DEFAULT_START_INTERVAL_NS);
	p->retries = v && json_object_get_int64(v) > 0 && json_object_get_int64(v) <= INT_MAX
			 ? (int)json_object_get_int64(v)
			 : DEFAULT_RETRIES;
}

/*
 * The probe's command: ["CMD", args...] runs args, ["CMD-SHELL", cmd] runs cmd with the
 * container's shell (Config.Shell, else /bin/sh -c); NONE, an unknown type or no command:
 * NULL (no probe). A new reference.
 */
static json_object *probe_cmd(const struct container *c)
{
	json_object *test = get(get(c->config, "Healthcheck"), "Test"), *shell, *cmd;
	const char *kind;
	size_t n;

	if (!test || !json_object_is_type(test, json_type_array))
		return NULL;
	n = json_object_array_length(test);
	kind = n ? json_object_get_string(json_object_array_get_idx(test, 0)) : NULL;
	if (n < 2 || !kind || (!streq(kind, "CMD") && !streq(kind, "CMD-SHELL")))
		return NULL;
	cmd = json_object_new_array();
	if (streq(kind, "CMD-SHELL")) {
		shell = get(c->config, "Shell");
		if (shell && json_object_is_type(shell, json_type_array) &&
		    json_object_array_length(shell) > 0) {
			for (size_t i = 0; i < json_object_array_length(shell); i++)
				json_object_array_add(
				    cmd, json_object_get(json_object_array_get_idx(shell, i)));
		} else {
			json_object_array_add(cmd, json_object_new_string("/bin/sh"));
			json_object_array_add(cmd, json_object_new_string("-c"));
		}
	}
	for (size_t i = 1; i < n; i++)
		json_object_array_add(cmd, json_object_get(json_object_array_get_idx(test, i)));
	return cmd;
}

/* ---- State.Health ------------------------------------------------------------------ */

static const char *status_name(enum health_status s)
{
	static const char *const n[] = {"starting", "healthy", "unhealthy"};
	return n[s];
}

const char *health_status_name(const struct health *h)
{
	return h ? status_name(h->status) : "none";
}

json_object *health_json(const struct health *h)
{
	json_object *o;
	if (!h)
		return NULL;
	o = json_object_new_object();
	json_add_str(o, "Status", status_name(h->status));
	json_add_int(o, "FailingStreak", h->failing_streak);
	json_object_object_add(o, "Log", h->log ? json_object_get(h->log) : NULL);
	return o;
}

struct health *health_from_json(json_object *o)
{
	struct health *h;
	const char *s;
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	h = xnew0(struct health, 1);
	s = (v = get(o, "Status")) ? json_object_get_string(v) : "";
	h->status = streq(s, "healthy")	   ? HEALTH_HEALTHY
		    : streq(s, "starting") ? HEALTH_STARTING
					   : HEALTH_UNHEALTHY;
	h->failing_streak = (v = get(o, "FailingStreak")) ? json_object_get_int(v) : 0;
	if ((v = get(o, "Log")) && json_object_is_type(v, json_type_array))
		h->log = json_object_get(v);
	return h;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	if (h->log)
		json_object_put(h->log);
	free(h);
}

/* Go's encoding/json writes each byte of invalid UTF-8 as U+FFFD. */
static json_object *json_string_utf8(const char *s, size_t n)
{
	char *out = xmalloc(n * 3 + 1);
	size_t o = 0;
	json_object *j;

	for (size_t i = 0; i < n;) {
		const uint8_t *b = (const uint8_t *)s + i;
		size_t left = n - i, len = 0;
		if (b[0] < 0x80)
			len = 1;
		else if (b[0] >= 0xc2 && b[0] <= 0xdf && left >= 2 && (b[1] & 0xc0) == 0x80)
			len = 2;
		else if (b[0] >= 0xe0 && b[0] <= 0xef && left >= 3 && (b[1] & 0xc0) == 0x80 &&
			 (b[2] & 0xc0) == 0x80 && !(b[0] == 0xe0 && b[1] < 0xa0) &&
			 !(b[0] == 0xed && b[1] > 0x9f))
			len = 3;
		else if (b[0] >= 0xf0 && b[0] <= 0xf4 && left >= 4 && (b[1] & 0xc0) == 0x80 &&
			 (b[2] & 0xc0) == 0x80 && (b[3] & 0xc0) == 0x80 &&
			 !(b[0] == 0xf0 && b[1] < 0x90) && !(b[0] == 0xf4 && b[1] > 0x8f))
			len = 4;
		if (len) {
			memcpy(out + o, b, len);
			o += len;
			i += len;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_object_new_string_len(out, (int)o);
	free(out);
	return j;
}

/* The interval before the next probe (moby's getInterval): StartInterval while starting
 * within StartPeriod, and no later than the end of StartPeriod; Interval otherwise. */
static int64_t next_interval(const struct container *c, const struct params *p, int64_t now)
{
	int64_t elapsed = now - c->started_ns, left, d;
	if (elapsed >= p->start_period)
		return p->interval;
	left = p->start_period - elapsed;
	d = c->health && c->health->status == HEALTH_STARTING ? p->start_interval : p->interval;
	return d < left ? d : left;
}

/* With the lock: a probe's result (moby's handleProbeResult). */
static void record_locked(struct engine *e, struct container *c, int64_t start_ns, int64_t end_ns,
			  int code, json_object *output /* taken */)
{
	struct health *h = c->health;
	enum health_status old = h->status;
	json_object *r = json_object_new_object();
	struct params p;

	params_of(c, &p);
	{
		_cleanup_free_ char *s = format_time_ns(start_ns), *t = format_time_ns(end_ns);
		json_add_str(r, "Start", s);
		json_add_str(r, "End", t);
	}
	json_add_int(r, "ExitCode", code);
	json_object_object_add(r, "Output", output);
	if (!h->log)
		h->log = json_object_new_array();
	if (json_object_array_length(h->log) >= HEALTH_LOG_MAX)
		json_object_array_del_idx(h->log, 0,
					  json_object_array_length(h->log) + 1 - HEALTH_LOG_MAX);
	json_object_array_add(h->log, r);

	if (code == 0) {
		h->failing_streak = 0;
		h->status = HEALTH_HEALTHY;
	} else if (h->status != HEALTH_STARTING || start_ns - c->started_ns >= p.start_period) {
		/* failures within the start period do not count while it is starting */
		h->failing_streak++;
		if (h->failing_streak >= p.retries)
			h->status = HEALTH_UNHEALTHY;
	}
	h->probing = false;
	h->next_ns = end_ns + next_interval(c, &p, end_ns);
	if (h->status != old) {
		_cleanup_free_ char *action =
		    xasprintf("health_status: %s", status_name(h->status));
		json_object *attrs = json_object_new_object();
		json_add_str(attrs, "image", c->image);
		json_add_str(attrs, "name", c->name + 1);
		event_emit_locked(e, "container", action, c->id, attrs);
		/* Written when the status changes, not at every probe (dockerd keeps the health
		 * state on disk as best effort too). */
		store_save(e, c);
	}
}

/* ---- the prober -------------------------------------------------------------------- */

struct probe {
	struct probe *next;
	char *cid, *exec_id;
	uint64_t gen;
	int fd;	   /* the shim's ATTACH connection */
	int pidfd; /* the process, -1 */
	pid_t pid;
	int64_t start_ns, deadline_ns, timeout_ns;
	bool done;     /* its result is in (or was dropped): only its exit is awaited */
	bool finished; /* exited: it goes */
	bool exited;   /* the exit frame came */
	/* frames: [kind u8][length u32 BE][payload]; 1 stdout, 2 stderr, 9 exit (the code) */
	uint8_t hdr[5];
	size_t hdr_len;
	uint32_t left;
	char out[HEALTH_OUTPUT_MAX];
	size_t out_len;
	bool truncated;
	char code[16];
	size_t code_len;
};

struct prober {
	pthread_t thread;
	bool running;  /* its thread runs (with the engine lock) */
	bool joinable; /* a thread ran: joined before the next */
	int epfd, wake;
	struct probe *probes; /* the thread's own */
};

struct due {
	char *cid;
	json_object *cmd;
	uint64_t gen;
	int64_t timeout_ns;
};

static void *prober_main(void *arg);

/* With the lock: the prober looks again (its thread is made when there is none). */
static void prober_kick_locked(struct engine *e, bool create)
{
	struct prober *p = e->prober;
	uint64_t one = 1;

	if (e->closing)
		return;
	if (!p) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
		if (!create)
			return;
		p = xnew0(struct prober, 1);
		p->epfd = epoll_create1(EPOLL_CLOEXEC);
		p->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->epfd < 0 || p->wake < 0 ||
		    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wake, &ev) < 0) {
			log_warn("healthchecks: cannot make the prober's epoll set: %m");
			if (p->epfd >= 0)
				close(p->epfd);
			if (p->wake >= 0)
				close(p->wake);
			free(p);
			return;
		}
		e->prober = p;
	}
	if (p->running) {
		(void)!write(p->wake, &one, sizeof(one));
		return;
	}
	if (!create)
		return;
	/* A thread that ended set running to false under the lock and takes it no more. */
	if (p->joinable)
		pthread_join(p->thread, NULL);
	p->joinable = false;
	if (pthread_create(&p->thread, NULL, prober_main, e) != 0) {
		log_warn("healthchecks: cannot start the prober's thread");
		return;
	}
	p->running = p->joinable = true;
}

static void probe_kill(struct probe *pr)
{
	if (pr->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, pr->pidfd, SIGKILL, NULL, 0);
	else if (pr->pid > 0)
		(void)kill(pr->pid, SIGKILL);
}

static void probe_free(struct prober *p, struct probe *pr)
{
	if (pr->fd >= 0) {
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, pr->fd, NULL);
		close(pr->fd);
	}
	if (pr->pidfd >= 0)
		close(pr->pidfd);
	free(pr->cid);
	free(pr->exec_id);
	free(pr);
}

/* Without the lock: a result for the container's current run of probes (else dropped). */
static void probe_result(struct engine *e, const char *cid, uint64_t gen, int64_t start_ns,
			 int code, json_object *output /* taken */)
{
	struct container *c;
	pthread_mutex_lock(&e->lock);
	c = container_find(e, cid);
	if (c && c->health && c->health->monitoring && c->health->gen == gen)
		record_locked(e, c, start_ns, now_ns(), code, output);
	else
		json_object_put(output);
	pthread_mutex_unlock(&e->lock);
}

static void probe_launch(struct engine *e, struct prober *p, struct due *d)
{
	_cleanup_error_ struct error *err = NULL;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	int64_t start = now_ns();
	struct probe *pr;
	char *exec_id = NULL;
	pid_t pid = 0;
	int fd = -1;

	if (exec_probe_start(e, d->cid, d->cmd, &exec_id, &fd, &pid, &err) < 0) {
		const char *m = err ? err->msg : "the probe did not start";
		probe_result(e, d->cid, d->gen, start, -1, json_string_utf8(m, strlen(m)));
		return;
	}
	pr = xnew0(struct probe, 1);
	pr->cid = xstrdup(d->cid);
	pr->exec_id = exec_id;
	pr->gen = d->gen;
	pr->fd = fd;
	pr->pid = pid;
	/* a pidfd, so that a kill at the timeout cannot hit a reused pid */
	pr->pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pr->pidfd < 0 && errno == ESRCH)
		pr->pid = 0; /* gone already */
	pr->start_ns = start;
	pr->timeout_ns = d->timeout_ns;
	/* the time the exec took to start does not count (as dockerd's) */
	pr->deadline_ns = now_ns() + d->timeout_ns;
	ev.data.ptr = pr;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		const char *m = "cannot watch the health check's process";
		probe_kill(pr);
		probe_result(e, d->cid, d->gen, start, -1, json_string_utf8(m, strlen(m)));
		exec_probe_done(e, exec_id, 255);
		probe_free(p, pr);
		return;
	}
	pr->next = p->probes;
	p->probes = pr;
}

static void probe_feed(struct probe *pr, const char *b, size_t n)
{
	while (n > 0 && !pr->exited) {
		size_t take;
		if (pr->hdr_len < 5) {
			take = 5 - pr->hdr_len < n ? 5 - pr->hdr_len : n;
			memcpy(pr->hdr + pr->hdr_len, b, take);
			pr->hdr_len += take;
			b += take;
			n -= take;
			if (pr->hdr_len == 5)
				pr->left = (uint32_t)pr->hdr[1] << 24 | (uint32_t)pr->hdr[2] << 16 |
					   (uint32_t)pr->hdr[3] << 8 | (uint32_t)pr->hdr[4];
		} else {
			take = pr->left < n ? pr->left : n;
			if (pr->hdr[0] == 1 || pr->hdr[0] == 2) {
				/* stdout and stderr together, the first 4096 bytes */
				size_t keep = HEALTH_OUTPUT_MAX - pr->out_len;
				if (keep > take)
					keep = take;
				memcpy(pr->out + pr->out_len, b, keep);
				pr->out_len += keep;
				pr->truncated |= keep < take;
			} else if (pr->hdr[0] == 9) {
				size_t keep = sizeof(pr->code) - 1 - pr->code_len;
				if (keep > take)
					keep = take;
				memcpy(pr->code + pr->code_len, b, keep);
				pr->code_len += keep;
			}
			pr->left -= (uint32_t)take;
			b += take;
			n -= take;
		}
		if (pr->hdr_len == 5 && pr->left == 0) {
			pr->exited = pr->hdr[0] == 9;
			pr->hdr_len = 0;
		}
	}
}

/* What the shim sent; true once the probe exited (or its shim went). */
static bool probe_read(struct probe *pr)
{
	char buf[8192];
	for (;;) {
		ssize_t n = recv(pr->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0)
			return true;
		probe_feed(pr, buf, (size_t)n);
		if (pr->exited)
			return true;
	}
}

static json_object *probe_output(struct probe *pr, const char *prefix)
{
	size_t pl = prefix ? strlen(prefix) : 0;
	char *s = xmalloc(pl + 2 + pr->out_len + 4);
	size_t n = 0;
	json_object *j;

	if (prefix) {
		memcpy(s, prefix, pl);
		n = pl;
		if (pr->out_len || pr->truncated) {
			memcpy(s + n, ": ", 2);
			n += 2;
		}
	}
	memcpy(s + n, pr->out, pr->out_len);
	n += pr->out_len;
	if (pr->truncated) {
		memcpy(s + n, "...", 3);
		n += 3;
	}
	j = json_string_utf8(s, n);
	free(s);
	return j;
}

static void probe_exited(struct engine *e, struct probe *pr)
{
	int code = -1;
	if (pr->exited) {
		pr->code[pr->code_len] = 0;
		if (safe_atoi(pr->code, &code) < 0)
			code = -1;
	}
	/* dockerd's order: the exec's exit, then the health status it brings */
	exec_probe_done(e, pr->exec_id, pr->exited ? code : 255);
	if (!pr->done) {
		json_object *out;
		if (pr->exited) {
			out = probe_output(pr, NULL);
		} else {
			_cleanup_free_ char *m =
			    xasprintf("healthcheck for container %s has no exit code", pr->cid);
			out = json_string_utf8(m, strlen(m));
			code = -1;
		}
		probe_result(e, pr->cid, pr->gen, pr->start_ns, code, out);
	}
	pr->done = pr->finished = true;
}

static void probe_timeout(struct engine *e, struct probe *pr)
{
	_cleanup_free_ char *d = format_go_duration(pr->timeout_ns);
	_cleanup_free_ char *m = xasprintf("Health check exceeded timeout (%s)", d);
	probe_kill(pr);
	probe_result(e, pr->cid, pr->gen, pr->start_ns, -1, probe_output(pr, m));
	pr->done = true;
}

/* With the lock: whether the probe's container still wants its result. */
static bool probe_wanted_locked(struct engine *e, struct probe *pr)
{
	struct container *c = container_find(e, pr->cid);
	return c && c->health && c->health->monitoring && c->health->gen == pr->gen;
}

static void *prober_main(void *arg)
{
	struct engine *e = arg;
	struct prober *p = e->prober;

	for (;;) {
		struct due *due = NULL;
		size_t n_due = 0;
		int64_t now, wake_at = INT64_MAX;
		struct epoll_event evs[16];
		bool busy = false;
		int n, timeout_ms;

		pthread_mutex_lock(&e->lock);
		if (e->closing) {
			p->running = false;
			pthread_mutex_unlock(&e->lock);
			break;
		}
		now = now_ns();
		for (struct probe *pr = p->probes; pr; pr = pr->next) {
			busy = true;
			/* the container stopped, paused or started over: its probe goes */
			if (!pr->done && !probe_wanted_locked(e, pr)) {
				probe_kill(pr);
				pr->done = true;
			}
		}
		for (struct container *c = e->containers; c; c = c->next) {
			struct health *h = c->health;
			struct params prm;
			json_object *cmd;
			if (!h || !h->monitoring)
				continue;
			busy = true;
			if (h->probing)
				continue;
			if (h->next_ns > now) {
				wake_at = h->next_ns < wake_at ? h->next_ns : wake_at;
				continue;
			}
			cmd = probe_cmd(c);
			if (!cmd) {
				h->monitoring = false;
				continue;
			}
			params_of(c, &prm);
			h->probing = true;
			due = xrealloc(due, (n_due + 1) * sizeof(*due));
			due[n_due++] = (struct due){.cid = xstrdup(c->id),
						    .cmd = cmd,
						    .gen = h->gen,
						    .timeout_ns = prm.timeout};
		}
		if (!busy) {
			/* No container has a probe to run: the thread goes (and comes back with
			 * the next one). */
			p->running = false;
			pthread_mutex_unlock(&e->lock);
			free(due);
			break;
		}
		pthread_mutex_unlock(&e->lock);

		for (size_t i = 0; i < n_due; i++) {
			probe_launch(e, p, &due[i]);
			free(due[i].cid);
			json_object_put(due[i].cmd);
		}
		free(due);

		for (struct probe *pr = p->probes; pr; pr = pr->next)
			if (!pr->done && pr->deadline_ns < wake_at)
				wake_at = pr->deadline_ns;
		now = now_ns();
		timeout_ms = wake_at == INT64_MAX ? -1
			     : wake_at <= now	  ? 0
			     : (wake_at - now) / 1000000 >= INT_MAX
				 ? INT_MAX
				 : (int)((wake_at - now + 999999) / 1000000);
		n = epoll_wait(p->epfd, evs, ELEMENTSOF(evs), timeout_ms);
		for (int i = 0; i < n; i++) {
			struct probe *pr = evs[i].data.ptr;
			if (!pr) {
				uint64_t v;
				(void)!read(p->wake, &v, sizeof(v));
				continue;
			}
			if (!pr->finished && probe_read(pr))
				probe_exited(e, pr);
		}
		now = now_ns();
		for (struct probe *pr = p->probes; pr; pr = pr->next)
			if (!pr->done && pr->deadline_ns <= now)
				probe_timeout(e, pr);
		for (struct probe **pp = &p->probes; *pp;) {
			struct probe *pr = *pp;
			if (pr->finished) {
				*pp = pr->next;
				probe_free(p, pr);
			} else {
				pp = &pr->next;
			}
		}
	}
	return NULL;
}

/* ---- the container's side ---------------------------------------------------------- */

/* Monitoring (again) from now: a new generation, the first probe an interval away. */
static void monitor_arm_locked(struct engine *e, struct container *c)
{
	struct health *h = c->health;
	struct params p;
	int64_t now = now_ns();

	h->monitoring = true;
	h->probing = false;
	h->gen++;
	params_of(c, &p);
	h->next_ns = now + next_interval(c, &p, now);
	prober_kick_locked(e, true);
}

void health_start_locked(struct engine *e, struct container *c)
{
	_cleanup_json_ json_object *cmd = probe_cmd(c);
	struct health *h;

	if (!cmd)
		return; /* no healthcheck, or NONE */
	if (!c->health)
		c->health = xnew0(struct health, 1);
	h = c->health;
	h->status = HEALTH_STARTING;
	h->failing_streak = 0;
	monitor_arm_locked(e, c);
}

void health_stop_locked(struct engine *e, struct container *c)
{
	struct health *h = c->health;
	if (!h || !h->monitoring)
		return;
	h->monitoring = false;
	h->probing = false;
	h->gen++;
	/* moby: "unhealthy when the monitor has stopped for compatibility reasons" */
	h->status = HEALTH_UNHEALTHY;
	prober_kick_locked(e, false); /* a probe in flight is killed */
}

void health_resume_locked(struct engine *e, struct container *c)
{
	struct health *h = c->health;
	_cleanup_json_ json_object *cmd = NULL;

	if (!h || h->monitoring || !(cmd = probe_cmd(c)))
		return;
	monitor_arm_locked(e, c);
}

void health_shutdown(struct engine *e)
{
	struct prober *p = e->prober;
	uint64_t one = 1;

	if (!p)
		return;
	if (p->joinable) {
		/* e->closing is set: the thread ends at its next look */
		(void)!write(p->wake, &one, sizeof(one));
		pthread_join(p->thread, NULL);
	}
	while (p->probes) {
		struct probe *pr = p->probes;
		p->probes = pr->next;
		if (!pr->done)
			probe_kill(pr);
		probe_free(p, pr);
	}
	close(p->epfd);
	close(p->wake);
	free(p);
	e->prober = NULL;
}
