/* SPDX-License-Identifier: Apache-2.0 */
/* /containers/... */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "api.h"

#define ID (r->params[0])

static int engine_result(struct api_req *r, int k, struct error *err, int ok_status)
{
	if (k < 0)
		return api_error(r, k, err);
	return api_no_content(r, ok_status);
}

int api_containers_create(struct api_req *r)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_free_ char *name = api_query(r, "name");
	_cleanup_error_ struct error *err = NULL;
	json_object *out = NULL;
	int k;

	if (api_body_json(r, &body, true) < 0)
		return -EINVAL;
	k = engine_container_create(r->e, name, body, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 201, out);
}

int api_containers_list(struct api_req *r)
{
	json_object *filters = NULL, *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *limit_s = api_query(r, "limit");
	int limit = limit_s ? atoi(limit_s) : 0, k;

	if (api_filters(r, &filters) < 0)
		return -EINVAL;
	k = engine_container_list(r->e, api_query_bool(r, "all", false), limit,
				  api_query_bool(r, "size", false), filters, &out, &err);
	if (filters)
		json_object_put(filters);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_containers_inspect(struct api_req *r)
{
	json_object *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k = engine_container_inspect(r->e, ID, api_query_bool(r, "size", false), &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_containers_start(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	int k = engine_container_start(r->e, ID, &err);
	return engine_result(r, k, err, 204);
}

static int timeout_param(struct api_req *r)
{
	_cleanup_free_ char *t = api_query(r, "t");
	int v;
	if (isempty(t) || safe_atoi(t, &v) < 0)
		return -1;
	return v;
}

int api_containers_stop(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *sig = api_query(r, "signal");
	int k = engine_container_stop(r->e, ID, timeout_param(r), sig, &err);
	return engine_result(r, k, err, 204);
}

int api_containers_restart(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *sig = api_query(r, "signal");
	int k = engine_container_restart(r->e, ID, timeout_param(r), sig, &err);
	return engine_result(r, k, err, 204);
}

int api_containers_kill(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *sig = api_query(r, "signal");
	int k = engine_container_kill(r->e, ID, sig, &err);
	return engine_result(r, k, err, 204);
}

int api_containers_wait(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *cond = api_query(r, "condition"), *id = NULL;
	json_object *out = NULL;
	struct api_watch w;
	int k;

	/* Errors (no such container, bad condition) come before the headers. */
	k = engine_container_resolve(r->e, ID, &id, &err);
	if (k < 0)
		return api_error(r, k, err);
	if (cond && !streq(cond, "") && !streq(cond, "not-running") && !streq(cond, "next-exit") &&
	    !streq(cond, "removed"))
		return api_errorf(r, 400, "invalid condition: \"%s\"", cond);
	/* Headers now: the CLI sends start only once it has them. */
	if (http_stream_begin(r->c, 200, "application/json", NULL) < 0)
		return -EPIPE;
	api_watch_start(&w, r->c->fd);
	k = engine_container_wait(r->e, id, cond, &w.cancel, &out, &err);
	api_watch_stop(&w);
	if (k < 0) {
		r->keep_alive = false;
		return k;
	}
	{
		_cleanup_free_ char *line =
		    xasprintf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
		http_stream_write(r->c, line, strlen(line));
		http_stream_end(r->c);
	}
	json_object_put(out);
	return 0;
}

static const char *stream_type(bool tty, int minor)
{
	return tty || minor < 42 ? "application/vnd.docker.raw-stream"
				 : "application/vnd.docker.multiplexed-stream";
}

int api_containers_attach(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *id = NULL;
	struct attach_opts o = {0};
	bool tty;
	int k;

	k = engine_container_tty(r->e, ID, &tty, &id, &err);
	if (k < 0)
		return api_error(r, k, err);
	o.stdin_ = api_query_bool(r, "stdin", false);
	o.stdout_ = api_query_bool(r, "stdout", false);
	o.stderr_ = api_query_bool(r, "stderr", false);
	o.logs = api_query_bool(r, "logs", false);
	o.stream = api_query_bool(r, "stream", false);
	if (http_conn_skip_body(r->c) < 0)
		return -EIO;
	if (http_hijack_begin(r->c, r->req->upgrade, stream_type(tty, r->version_minor)) < 0)
		return -EPIPE;
	r->hijacked = true;
	/* Bytes the client sent right after the head are stdin. */
	o.stdin_prefix = r->c->buf + r->c->start;
	o.stdin_prefix_len = r->c->end - r->c->start;
	engine_container_attach(r->e, id, &o, o.stdin_ ? r->c->fd : -1, r->c->fd, &err);
	r->c->start = r->c->end;
	return 0;
}

static int64_t ts_param(struct api_req *r, const char *name)
{
	_cleanup_free_ char *s = api_query(r, name);
	char *end;
	double d;
	struct tm tm = {0};
	if (isempty(s))
		return 0;
	d = strtod(s, &end);
	if (*end == 0 && s[strspn(s, "0123456789")] == '.' && s[0] != '.') {
		/* "<seconds>.<nanoseconds>" as the CLI sends: exact (a double is not). */
		const char *p = s + strspn(s, "0123456789") + 1;
		int64_t ns = 0;
		int digits = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			if (digits < 9) {
				ns = ns * 10 + (*p - '0');
				digits++;
			}
		while (digits++ < 9)
			ns *= 10;
		return strtoll(s, NULL, 10) * 1000000000LL + ns;
	}
	if (*end == 0)
		return (int64_t)(d * 1e9);
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return end ? (int64_t)timegm(&tm) * 1000000000LL : -1;
}

struct api_logs_job {
	struct engine *e;
	const char *id;
	const struct logs_opts *o;
	int fd;
	volatile bool *cancel;
};

static void *api_logs_thread(void *arg);
static void *api_logs_thread(void *arg)
{
	struct api_logs_job *j = arg;
	_cleanup_error_ struct error *err = NULL;
	engine_container_logs(j->e, j->id, j->o, j->fd, j->cancel, &err);
	close(j->fd);
	return NULL;
}

int api_containers_logs(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *tail = api_query(r, "tail"), *id = NULL;
	struct logs_opts o = {0};
	struct api_watch w;
	bool tty;
	int k;

	k = engine_container_tty(r->e, ID, &tty, &id, &err);
	if (k < 0)
		return api_error(r, k, err);
	o.stdout_ = api_query_bool(r, "stdout", false);
	o.stderr_ = api_query_bool(r, "stderr", false);
	if (!o.stdout_ && !o.stderr_)
		return api_errorf(r, 400, "Bad parameters: you must choose at least one stream");
	o.follow = api_query_bool(r, "follow", false);
	o.timestamps = api_query_bool(r, "timestamps", false);
	o.details = api_query_bool(r, "details", false);
	o.since_ns = ts_param(r, "since");
	o.until_ns = ts_param(r, "until");
	if (o.since_ns < 0 || o.until_ns < 0)
		return api_errorf(r, 400, "invalid time value");
	o.tail = -1;
	if (!isempty(tail) && !streq(tail, "all")) {
		int64_t t;
		if (safe_atoi64(tail, &t) < 0)
			return api_errorf(r, 400, "invalid tail value: %s", tail);
		o.tail = t < 0 ? -1 : t;
	}
	/* Errors (a driver that cannot be read) before the stream starts. */
	k = engine_container_logs(r->e, id, &o, -1, NULL, &err);
	if (k < 0)
		return api_error(r, k, err);
	if (http_stream_begin(r->c, 200, stream_type(tty, r->version_minor), NULL) < 0)
		return -EPIPE;
	/* The log reader writes frames to a fd: a pipe into the chunked stream. */
	{
		struct api_logs_job job;
		pthread_t t;
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		api_watch_start(&w, r->c->fd);
		job = (struct api_logs_job){r->e, id, &o, p[1], &w.cancel};
		if (pthread_create(&t, NULL, api_logs_thread, &job) != 0) {
			close(p[0]);
			close(p[1]);
			api_watch_stop(&w);
			return -EAGAIN;
		}
		for (;;) {
			char buf[32768];
			ssize_t n = read(p[0], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (http_stream_write(r->c, buf, (size_t)n) < 0) {
				w.cancel = true;
				break;
			}
		}
		close(p[0]);
		pthread_join(t, NULL);
		api_watch_stop(&w);
		if (!w.cancel)
			http_stream_end(r->c);
		else
			r->keep_alive = false;
	}
	return 0;
}

int api_containers_top(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *args = api_query(r, "ps_args");
	json_object *out = NULL;
	int k = engine_container_top(r->e, ID, args, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	engine_container_event(r->e, ID, "top", NULL, NULL, NULL, NULL);
	return api_json(r, 200, out);
}

int api_containers_stats(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	bool stream = api_query_bool(r, "stream", true) && !api_query_bool(r, "one-shot", false);
	json_object *out = NULL, *prev = NULL;
	struct api_watch w;
	int k = engine_container_stats(r->e, ID, &out, &err);

	if (k < 0)
		return api_error(r, k, err);
	if (!stream)
		return api_json(r, 200, out);
	if (http_stream_begin(r->c, 200, "application/json", NULL) < 0) {
		json_object_put(out);
		return -EPIPE;
	}
	api_watch_start(&w, r->c->fd);
	for (int i = 0; i < 100000 && !w.cancel; i++) {
		if (prev) {
			json_object *v;
			if (json_object_object_get_ex(prev, "cpu_stats", &v))
				json_object_object_add(out, "precpu_stats", json_object_get(v));
			if (json_object_object_get_ex(prev, "read", &v))
				json_object_object_add(out, "preread", json_object_get(v));
			json_object_put(prev);
		}
		_cleanup_free_ char *line =
		    xasprintf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
		if (http_stream_write(r->c, line, strlen(line)) < 0)
			break;
		prev = out;
		out = NULL;
		for (int t = 0; t < 10 && !w.cancel; t++)
			usleep(100000);
		if (engine_container_stats(r->e, ID, &out, NULL) < 0)
			break;
	}
	api_watch_stop(&w);
	if (prev)
		json_object_put(prev);
	if (out)
		json_object_put(out);
	r->keep_alive = false;
	http_stream_end(r->c);
	return 0;
}

int api_containers_resize(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *h = api_query(r, "h"), *w = api_query(r, "w");
	int hh, ww, k;
	if (!h || !w || safe_atoi(h, &hh) < 0 || safe_atoi(w, &ww) < 0 || hh < 0 || ww < 0)
		return api_errorf(r, 400, "invalid resize dimensions");
	k = engine_container_resize(r->e, ID, hh, ww, &err);
	if (k >= 0)
		engine_container_event(r->e, ID, "resize", "height", h, "width", w);
	return engine_result(r, k, err, 200);
}

int api_containers_pause(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	/* call first: err must be read after the call sets it */
	int k = engine_container_pause(r->e, ID, &err);
	return engine_result(r, k, err, 204);
}

int api_containers_unpause(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	/* call first: err must be read after the call sets it */
	int k = engine_container_unpause(r->e, ID, &err);
	return engine_result(r, k, err, 204);
}

int api_containers_rename(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *name = api_query(r, "name");
	/* call first: err must be read after the call sets it */
	int k = engine_container_rename(r->e, ID, name, &err);
	return engine_result(r, k, err, 204);
}

int api_containers_update(struct api_req *r)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_error_ struct error *err = NULL;
	json_object *out = NULL;
	int k;
	if (api_body_json(r, &body, true) < 0)
		return -EINVAL;
	k = engine_container_update(r->e, ID, body, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_containers_delete(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	int k;
	/* rm --link: the link goes, not the container */
	if (api_query_bool(r, "link", false))
		k = engine_link_remove(r->e, ID, &err);
	else
		k = engine_container_remove(r->e, ID, api_query_bool(r, "force", false),
					    api_query_bool(r, "v", false), &err);
	return engine_result(r, k, err, 204);
}

int api_containers_prune(struct api_req *r)
{
	json_object *filters = NULL, *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k;
	if (api_filters(r, &filters) < 0)
		return -EINVAL;
	k = engine_container_prune(r->e, filters, &out, &err);
	if (filters)
		json_object_put(filters);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}
