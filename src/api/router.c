/* SPDX-License-Identifier: Apache-2.0 */
/* The connection loop, API versions, routing, and the helpers handlers share. */
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/socket.h>

#include "api.h"

/* src/lazy, when linked (berthd): see lazy.h. */
extern void lazy_trim(void) __attribute__((weak));
extern void lazy_enter(void) __attribute__((weak));
extern void lazy_leave(void) __attribute__((weak));

struct route {
	const char *method;
	const char *pattern; /* "{}" matches one path segment */
	api_handler fn;
	/* A stream that may last (events, logs -f, attach, …) and never touches the image
	 * libraries: not counted in flight by src/lazy, so it does not keep them loaded. */
	bool stream;
};

static const struct route routes[] = {
    {"GET", "/_ping", api_system_ping},
    {"HEAD", "/_ping", api_system_ping},
    {"GET", "/version", api_system_version},
    {"GET", "/info", api_system_info},
    {"GET", "/events", api_system_events, true},
    {"GET", "/system/df", api_system_df},
    {"GET", "/networks", api_networks_list},
    {"POST", "/networks/create", api_networks_create},
    {"POST", "/networks/prune", api_networks_prune},
    {"GET", "/networks/{}", api_networks_inspect},
    {"DELETE", "/networks/{}", api_networks_delete},
    {"POST", "/networks/{}/connect", api_networks_connect},
    {"POST", "/networks/{}/disconnect", api_networks_disconnect},
    {"POST", "/volumes/prune", api_system_prune_empty},
    {"GET", "/volumes", api_volumes_list},
    {"POST", "/volumes/create", api_volumes_create},
    {"GET", "/volumes/{}", api_volumes_get},
    {"DELETE", "/volumes/{}", api_volumes_delete},
    {"POST", "/build/prune", api_system_prune_empty},

    {"POST", "/containers/create", api_containers_create},
    {"GET", "/containers/json", api_containers_list},
    {"POST", "/containers/prune", api_containers_prune},
    {"GET", "/containers/{}/json", api_containers_inspect},
    {"POST", "/containers/{}/start", api_containers_start},
    {"POST", "/containers/{}/stop", api_containers_stop},
    {"POST", "/containers/{}/restart", api_containers_restart},
    {"POST", "/containers/{}/kill", api_containers_kill},
    {"POST", "/containers/{}/wait", api_containers_wait, true},
    {"POST", "/containers/{}/attach", api_containers_attach, true},
    {"GET", "/containers/{}/logs", api_containers_logs, true},
    {"GET", "/containers/{}/top", api_containers_top},
    {"GET", "/containers/{}/stats", api_containers_stats, true},
    {"POST", "/containers/{}/resize", api_containers_resize},
    {"POST", "/containers/{}/pause", api_containers_pause},
    {"POST", "/containers/{}/unpause", api_containers_unpause},
    {"POST", "/containers/{}/rename", api_containers_rename},
    {"POST", "/containers/{}/update", api_containers_update},
    {"DELETE", "/containers/{*}", api_containers_delete}, /* rm --link: /parent/alias */
    {"POST", "/containers/{}/exec", api_exec_create},
    {"POST", "/exec/{}/start", api_exec_start, true},
    {"POST", "/exec/{}/resize", api_exec_resize},
    {"GET", "/exec/{}/json", api_exec_inspect},

    {"GET", "/images/json", api_images_list},
    {"GET", "/images/search", api_images_search},
    {"POST", "/auth", api_auth},
    {"POST", "/images/create", api_images_create},
    {"POST", "/images/load", api_images_load},
    {"GET", "/images/get", api_images_get},
    {"POST", "/images/prune", api_images_prune},
    /* Image names contain slashes: these match the rest of the path. */
    {"GET", "/images/{*}/json", api_images_inspect},
    {"GET", "/images/{*}/history", api_images_history},
    {"GET", "/images/{*}/get", api_images_get},
    {"POST", "/images/{*}/tag", api_images_tag},
    {"POST", "/images/{*}/push", api_images_push},
    {"DELETE", "/images/{*}", api_images_delete},
};

static void *watch_main(void *arg)
{
	struct api_watch *w = arg;
	while (!w->done) {
		struct pollfd p[2] = {{.fd = w->fd, .events = POLLRDHUP},
				      {.fd = w->wake[0], .events = POLLIN}};
		int k = poll(p, 2, 1000);
		if (k > 0 && (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			w->cancel = true;
			break;
		}
	}
	return NULL;
}

void api_watch_start(struct api_watch *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->wake[0] = w->wake[1] = -1;
	if (pipe2(w->wake, O_CLOEXEC) < 0)
		return;
	w->started = pthread_create(&w->t, NULL, watch_main, w) == 0;
}

void api_watch_stop(struct api_watch *w)
{
	w->done = true;
	/* wake the watcher now rather than at its next poll timeout */
	if (w->wake[1] >= 0)
		(void)!write(w->wake[1], "x", 1);
	if (w->started)
		pthread_join(w->t, NULL);
	w->started = false;
	for (int i = 0; i < 2; i++)
		if (w->wake[i] >= 0) {
			close(w->wake[i]);
			w->wake[i] = -1;
		}
}

void api_init(void)
{
	http_set_common_headers("Server: Docker/28.2.2 (linux) berth/" BERTH_VERSION "\r\n"
				"Api-Version: " BERTH_API_VERSION "\r\n"
				"Ostype: linux\r\n"
				"Docker-Experimental: false\r\n");
}

/* Match path against pattern, capturing "{}" (one segment) and "{*}" (greedy, up to the
 * pattern's remaining literal suffix). */
static bool match(const char *pattern, const char *path, char **caps, size_t *n)
{
	while (*pattern) {
		if (startswith(pattern, "{*}")) {
			const char *rest = pattern + 3;
			size_t pl = strlen(path), rl = strlen(rest);
			if (rl == 0) {
				if (!*path)
					return false;
				caps[(*n)++] = xstrdup(path);
				return true;
			}
			if (pl <= rl || !streq(path + pl - rl, rest))
				return false;
			caps[(*n)++] = xstrndup(path, pl - rl);
			return true;
		}
		if (startswith(pattern, "{}")) {
			const char *slash = strchr(path, '/');
			size_t len = slash ? (size_t)(slash - path) : strlen(path);
			if (len == 0)
				return false;
			caps[(*n)++] = xstrndup(path, len);
			path += len;
			pattern += 2;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *path == 0;
}

int api_json(struct api_req *r, int status, json_object *body)
{
	int k = http_respond_json(r->c, status, body, r->keep_alive);
	json_object_put(body);
	return k;
}

int api_no_content(struct api_req *r, int status)
{
	return http_respond(r->c, status, NULL, NULL, 0, NULL, r->keep_alive);
}

int api_errorf(struct api_req *r, int status, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return http_respond_error(r->c, status, buf, r->keep_alive);
}

int api_error(struct api_req *r, int code, const struct error *err)
{
	int status;
	switch (-code) {
	case ENOENT:
		status = 404;
		break;
	case EEXIST:
	case EBUSY:
		status = 409;
		break;
	case EINVAL:
	case ERANGE:
		status = 400;
		break;
	case EPERM:
	case EACCES:
		status = 403;
		break;
	case EALREADY:
		return api_no_content(r, 304);
	case EFBIG:
		status = 413;
		break;
	default:
		status = 500;
	}
	return http_respond_error(r->c, status, err && err->msg ? err->msg : strerror(-code),
				  r->keep_alive);
}

char *api_query(struct api_req *r, const char *name)
{
	return r->req->query ? http_query_get(r->req->query, name) : NULL;
}

bool api_query_bool(struct api_req *r, const char *name, bool def)
{
	return r->req->query ? http_query_bool(r->req->query, name, def) : def;
}

int api_body_json(struct api_req *r, json_object **ret, bool required)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	_cleanup_error_ struct error *err = NULL;
	const char *ct = http_request_header(r->req, "Content-Type");
	int k;

	*ret = NULL;
	k = http_conn_read_body_all(r->c, 16 << 20, &body, &len);
	if (k == -EFBIG)
		return api_errorf(r, 413, "request body too large"), -EFBIG;
	if (k == -EBADMSG) /* bad chunking: answer, then the connection closes (broken) */
		return api_errorf(r, 400, "invalid chunked request body"), -EBADMSG;
	if (k < 0)
		return k;
	if (len == 0) {
		if (required)
			return api_errorf(r, 400, "bad parameter: request body is empty"), -EINVAL;
		return 0;
	}
	if (ct && !startswith(ct, "application/json"))
		return api_errorf(r, 400,
				  "unsupported Content-Type header (%s): must be "
				  "'application/json'",
				  ct),
		       -EINVAL;
	k = json_parse_buffer(body, len, ret, &err);
	if (k < 0)
		return api_errorf(r, 400, "%s", err->msg), -EINVAL;
	if (!json_object_is_type(*ret, json_type_object)) {
		json_object_put(*ret);
		*ret = NULL;
		return api_errorf(r, 400, "invalid JSON: the body must be an object"), -EINVAL;
	}
	return 0;
}

int api_filters(struct api_req *r, json_object **ret)
{
	_cleanup_free_ char *f = api_query(r, "filters");
	_cleanup_error_ struct error *err = NULL;
	*ret = NULL;
	if (isempty(f))
		return 0;
	if (json_parse_buffer(f, strlen(f), ret, &err) < 0 ||
	    !json_object_is_type(*ret, json_type_object)) {
		if (*ret)
			json_object_put(*ret);
		*ret = NULL;
		return api_errorf(r, 400, "invalid filter: %s", err ? err->msg : "not an object"),
		       -EINVAL;
	}
	return 0;
}

/* "/v1.50/containers/json" -> minor 50 and "/containers/json"; -1 for a bad version. */
static const char *strip_version(const char *path, int *minor, char *verbuf, size_t n)
{
	const char *p;
	int major;
	*minor = 50;
	if (!startswith(path, "/v"))
		return path;
	p = path + 2;
	if (sscanf(p, "%d.%d", &major, minor) != 2)
		return path;
	while (*p && *p != '/')
		p++;
	snprintf(verbuf, n, "%.*s", (int)(p - path - 2), path + 2);
	if (major != 1)
		*minor = major > 1 ? 1000 : -1;
	return *p ? p : "/";
}

static void serve_one(struct engine *e, struct http_conn *c, struct http_request *req,
		      bool *keep_alive)
{
	struct api_req r = {.e = e, .c = c, .req = req, .keep_alive = req->keep_alive};
	char ver[32] = "";
	const struct route *found = NULL;
	bool path_matched = false;
	size_t n = 0;

	r.path = strip_version(req->path, &r.version_minor, ver, sizeof(ver));
	if (r.version_minor > 50) {
		api_errorf(&r, 400,
			   "client version %s is too new. Maximum supported API version is "
			   "%s",
			   ver, BERTH_API_VERSION);
		goto done;
	}
	if (r.version_minor < 24) {
		api_errorf(&r, 400,
			   "client version %s is too old. Minimum supported API version is "
			   "%s, please upgrade your client to a newer version",
			   ver, BERTH_MIN_API_VERSION);
		goto done;
	}
	for (size_t i = 0; i < ELEMENTSOF(routes) && !found; i++) {
		char *caps[4] = {NULL};
		size_t k = 0;
		if (!match(routes[i].pattern, r.path, caps, &k)) {
			for (size_t j = 0; j < k; j++)
				free(caps[j]);
			continue;
		}
		path_matched = true;
		if (!streq(routes[i].method, req->method)) {
			for (size_t j = 0; j < k; j++)
				free(caps[j]);
			continue;
		}
		found = &routes[i];
		memcpy(r.params, caps, sizeof(caps));
		n = k;
	}
	if (!found) {
		if (path_matched)
			api_errorf(&r, 405, "method %s not allowed for %s", req->method, r.path);
		else
			api_errorf(&r, 404, "page not found");
		goto done;
	}
	log_debug("%s %s", req->method, req->target);
	if (lazy_enter && !found->stream)
		lazy_enter();
	found->fn(&r);
	if (lazy_leave && !found->stream)
		lazy_leave();
	/* Image and registry work is over: the libraries it loaded are closed or give their
	 * pages back (src/lazy; only berthd links it). */
	if (lazy_trim && (startswith(r.path, "/images/") || streq(r.path, "/auth")))
		lazy_trim();
done:
	for (size_t j = 0; j < n; j++)
		free(r.params[j]);
	if (r.hijacked)
		*keep_alive = false;
	else {
		/* Unread body bytes would be taken for the next request. */
		if (http_conn_skip_body(c) < 0)
			*keep_alive = false;
		else
			*keep_alive = r.keep_alive && !c->broken;
	}
}

void api_serve_connection(struct engine *e, int fd)
{
	struct http_conn c;
	http_conn_init(&c, fd);
	for (;;) {
		struct http_request req = {0};
		bool keep = false;
		int r = http_conn_read_request(&c, &req);
		if (r < 0) {
			if (r <= -400 && r > -600) {
				int status = -r;
				http_respond_error(&c, status,
						   status == 431 ? "request header fields too large"
						   : status == 414 ? "request URI too long"
						   : status == 501 ? "unsupported transfer encoding"
								   : "bad request",
						   false);
			}
			http_request_release(&req);
			break;
		}
		serve_one(e, &c, &req, &keep);
		http_request_release(&req);
		if (!keep)
			break;
	}
	http_conn_release(&c);
	close(fd);
}
