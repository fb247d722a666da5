/* SPDX-License-Identifier: Apache-2.0 */
/* /_ping, /version, /info, /events, /system/df */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>

#include "api.h"

int api_system_ping(struct api_req *r)
{
	static const char extra[] = "Builder-Version: 1\r\nSwarm: inactive\r\n"
				    "Cache-Control: no-cache, no-store, must-revalidate\r\n"
				    "Pragma: no-cache\r\n";
	if (streq(r->req->method, "HEAD"))
		return http_respond(r->c, 200, "text/plain; charset=utf-8", NULL, 0, extra,
				    r->keep_alive);
	return http_respond(r->c, 200, "text/plain; charset=utf-8", "OK", 2, extra, r->keep_alive);
}

int api_system_version(struct api_req *r)
{
	return api_json(r, 200, engine_version_json(r->e));
}

int api_system_info(struct api_req *r)
{
	return api_json(r, 200, engine_info_json(r->e));
}

int api_system_df(struct api_req *r)
{
	json_object *o = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k = engine_system_df(r->e, &o, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, o);
}

/* berth has no user networks, volumes or build cache yet: their prunes (docker system
 * prune calls them) find nothing, as moby's do on a daemon without any. */
int api_system_prune_empty(struct api_req *r)
{
	const char *p = r->path;
	json_object *o = json_object_new_object();
	if (strstr(p, "/networks/"))
		json_object_object_add(o, "NetworksDeleted", NULL);
	else {
		json_object_object_add(
		    o, strstr(p, "/volumes/") ? "VolumesDeleted" : "CachesDeleted", NULL);
		json_object_object_add(o, "SpaceReclaimed", json_object_new_int64(0));
	}
	return api_json(r, 200, o);
}

/*
 * Named volumes are not in berth yet (host binds and tmpfs are): the volume routes answer
 * as a Docker daemon without volumes does, so that `docker volume ls`, `inspect` and
 * compose's checks read "none" rather than "page not found", and creating one says why.
 */
int api_volumes_list(struct api_req *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "Volumes", json_object_new_array());
	json_object_object_add(o, "Warnings", NULL);
	return api_json(r, 200, o);
}

int api_volumes_get(struct api_req *r)
{
	return api_errorf(r, 404, "get %s: no such volume", r->params[0]);
}

int api_volumes_delete(struct api_req *r)
{
	/* dockerd: with force, a volume that does not exist is no error */
	if (api_query_bool(r, "force", false))
		return api_no_content(r, 204);
	return api_errorf(r, 404, "get %s: no such volume", r->params[0]);
}

int api_volumes_create(struct api_req *r)
{
	return api_errorf(r, 501,
			  "named volumes are not supported by berth yet: use a bind "
			  "mount (-v /host/path:/path) or --tmpfs");
}

/* Docker's time parameters: unix seconds with an optional fraction, or RFC 3339. */
static int parse_ts(const char *s, int64_t *ret)
{
	char *end;
	double d;
	struct tm tm = {0};
	if (isempty(s)) {
		*ret = 0;
		return 0;
	}
	d = strtod(s, &end);
	if (*end == 0) {
		*ret = (int64_t)(d * 1e9);
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	*ret = (int64_t)timegm(&tm) * 1000000000LL;
	return 0;
}

struct ev_ctx {
	struct api_req *r;
};

static int send_event(void *ud, json_object *ev)
{
	struct ev_ctx *x = ud;
	const char *txt = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN);
	_cleanup_free_ char *line = xasprintf("%s\n", txt);
	return http_stream_write(x->r->c, line, strlen(line));
}

int api_system_events(struct api_req *r)
{
	_cleanup_free_ char *since = api_query(r, "since"), *until = api_query(r, "until");
	json_object *filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	int64_t s = 0, u = 0;
	struct ev_ctx x = {r};
	struct api_watch w;

	if (parse_ts(since, &s) < 0 || parse_ts(until, &u) < 0)
		return api_errorf(r, 400, "invalid time value");
	if (api_filters(r, &filters) < 0)
		return -EINVAL;
	{
		static const char *const allowed[] = {"config", "container", "daemon",	"event",
						      "image",	"label",     "network", "node",
						      "plugin", "scope",     "secret",	"service",
						      "type",	"volume",    NULL};
		if (json_filters_check(filters, allowed, &err) < 0) {
			json_object_put(filters);
			return api_error(r, -EINVAL, err);
		}
	}
	if (http_stream_begin(r->c, 200, "application/json", NULL) < 0) {
		if (filters)
			json_object_put(filters);
		return -EPIPE;
	}
	api_watch_start(&w, r->c->fd);
	engine_events(r->e, s, u, filters, send_event, &x, &w.cancel, &err);
	api_watch_stop(&w);
	if (!w.cancel)
		http_stream_end(r->c);
	else
		r->keep_alive = false;
	if (filters)
		json_object_put(filters);
	return 0;
}
