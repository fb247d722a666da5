/* SPDX-License-Identifier: Apache-2.0 */
/* /containers/{id}/exec, /exec/{id}/... */
#include "api.h"

int api_exec_create(struct api_req *r)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_error_ struct error *err = NULL;
	json_object *out = NULL;
	int k;
	if (api_body_json(r, &body, true) < 0)
		return -EINVAL;
	k = engine_exec_create(r->e, r->params[0], body, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 201, out);
}

int api_exec_start(struct api_req *r)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_error_ struct error *err = NULL;
	json_object *v;
	bool detach = false, tty = false;
	int k;

	if (api_body_json(r, &body, false) < 0)
		return -EINVAL;
	if (body && json_object_object_get_ex(body, "Detach", &v))
		detach = json_object_get_boolean(v);
	k = engine_exec_lookup(r->e, r->params[0], &tty, &err);
	if (k < 0)
		return api_error(r, k, err);
	if (detach) {
		k = engine_exec_start(r->e, r->params[0], true, -1, -1, NULL, 0, &err);
		if (k < 0)
			return api_error(r, k, err);
		return http_respond(r->c, 200, "application/json", "{}", 2, NULL, r->keep_alive);
	}
	if (http_hijack_begin(r->c, r->req->upgrade,
			      tty || r->version_minor < 42
				  ? "application/vnd.docker.raw-stream"
				  : "application/vnd.docker.multiplexed-stream") < 0)
		return -EPIPE;
	r->hijacked = true;
	k = engine_exec_start(r->e, r->params[0], false, r->c->fd, r->c->fd,
			      r->c->buf + r->c->start, r->c->end - r->c->start, &err);
	r->c->start = r->c->end;
	if (k < 0 && err) {
		/* After the hijack an error goes into the stream, as moby does. */
		_cleanup_free_ char *m = xasprintf("%s\r\n", err->msg);
		if (tty)
			(void)loop_write(r->c->fd, m, strlen(m));
		else
			(void)stdcopy_write(r->c->fd, STDCOPY_STDERR, m, strlen(m));
	}
	return 0;
}

int api_exec_resize(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *h = api_query(r, "h"), *w = api_query(r, "w");
	int hh, ww, k;
	if (!h || !w || safe_atoi(h, &hh) < 0 || safe_atoi(w, &ww) < 0 || hh < 0 || ww < 0)
		return api_errorf(r, 400, "invalid resize dimensions");
	k = engine_exec_resize(r->e, r->params[0], hh, ww, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_no_content(r, 200);
}

int api_exec_inspect(struct api_req *r)
{
	_cleanup_error_ struct error *err = NULL;
	json_object *out = NULL;
	int k = engine_exec_inspect(r->e, r->params[0], &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}
