/* SPDX-License-Identifier: Apache-2.0 */
/* /images/... (local images; registries come with issue 4) */
#include <fcntl.h>
#include <pthread.h>

#include "api.h"
#include "image/image.h"

#define NAME (r->params[0])

int api_images_list(struct api_req *r)
{
	json_object *filters = NULL, *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k;
	if (api_filters(r, &filters) < 0)
		return -EINVAL;
	k = image_list_json(engine_images(r->e), filters, api_query_bool(r, "all", false), &out,
			    &err);
	if (filters)
		json_object_put(filters);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_images_inspect(struct api_req *r)
{
	json_object *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	/* docker-compose 1.x reads ContainerConfig.Volumes when it recreates a container */
	int k = image_inspect_json(engine_images(r->e), NAME, r->version_minor < 45, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_images_history(struct api_req *r)
{
	json_object *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k = image_history_json(engine_images(r->e), NAME, &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

int api_images_tag(struct api_req *r)
{
	_cleanup_free_ char *repo = api_query(r, "repo"), *tag = api_query(r, "tag"), *dst = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k;
	if (isempty(repo))
		return api_errorf(r, 400, "repository name must have at least one component");
	dst = isempty(tag) ? xstrdup(repo) : xasprintf("%s:%s", repo, tag);
	k = image_tag(engine_images(r->e), NAME, dst, &err);
	if (k < 0)
		return api_error(r, k, err);
	{
		/* dockerd: the image's id as the actor, the new tag in its familiar form */
		_cleanup_(image_info_freep) struct image_info *img = NULL;
		_cleanup_free_ char *norm = NULL, *fam = NULL;
		if (ref_normalize(dst, &norm, NULL) >= 0)
			fam = ref_familiar(norm);
		if (image_lookup(engine_images(r->e), dst, &img, NULL) >= 0)
			engine_image_event(r->e, "tag", img->id, fam ? fam : dst);
	}
	return api_no_content(r, 201);
}

int api_images_delete(struct api_req *r)
{
	json_object *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_(image_info_freep) struct image_info *img = NULL;
	const char *id = image_lookup(engine_images(r->e), NAME, &img, NULL) >= 0 ? img->id : NULL;
	int k = image_remove(engine_images(r->e), NAME, api_query_bool(r, "force", false),
			     api_query_bool(r, "noprune", false), engine_image_in_use, r->e, &out,
			     &err);
	if (k < 0)
		return api_error(r, k, err);
	for (size_t i = 0; i < json_object_array_length(out); i++) {
		json_object *it = json_object_array_get_idx(out, i), *v;
		/* dockerd names both by the image's id */
		if (json_object_object_get_ex(it, "Untagged", &v))
			engine_image_event(r->e, "untag", id ? id : json_object_get_string(v),
					   id ? id : json_object_get_string(v));
		if (json_object_object_get_ex(it, "Deleted", &v))
			engine_image_event(r->e, "delete", json_object_get_string(v),
					   json_object_get_string(v));
	}
	return api_json(r, 200, out);
}

int api_images_prune(struct api_req *r)
{
	json_object *filters = NULL, *out = NULL;
	_cleanup_error_ struct error *err = NULL;
	int k;
	if (api_filters(r, &filters) < 0)
		return -EINVAL;
	k = image_prune(engine_images(r->e), filters, engine_image_in_use, r->e, &out, &err);
	if (filters)
		json_object_put(filters);
	if (k < 0)
		return api_error(r, k, err);
	return api_json(r, 200, out);
}

/* The request body (Content-Length or chunked) into a pipe for the image store. */
struct body_pump {
	struct http_conn *c;
	int fd;
	int result;
};

static void *body_pump_main(void *arg)
{
	struct body_pump *p = arg;
	char buf[65536];
	for (;;) {
		ssize_t n = http_conn_read_body(p->c, buf, sizeof(buf));
		if (n < 0) {
			p->result = (int)n;
			break;
		}
		if (n == 0)
			break;
		if (loop_write(p->fd, buf, (size_t)n) < 0) {
			/* the reader stopped early: drain the rest so the connection stays sane */
			while (http_conn_read_body(p->c, buf, sizeof(buf)) > 0)
				;
			break;
		}
	}
	close(p->fd);
	return NULL;
}

struct progress_ctx {
	struct api_req *r;
	bool quiet;
};

static void progress(void *ud, json_object *msg)
{
	struct progress_ctx *x = ud;
	if (x->quiet)
		return;
	_cleanup_free_ char *line =
	    xasprintf("%s\r\n", json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
	(void)http_stream_write(x->r->c, line, strlen(line));
}

int api_images_load(struct api_req *r)
{
	struct body_pump bp = {.c = r->c};
	struct progress_ctx px = {.r = r, .quiet = api_query_bool(r, "quiet", false)};
	_cleanup_error_ struct error *err = NULL;
	char **loaded = NULL;
	pthread_t t;
	int p[2], k;

	if (pipe2(p, O_CLOEXEC) < 0)
		return api_errorf(r, 500, "pipe: %s", strerror(errno));
	bp.fd = p[1];
	if (pthread_create(&t, NULL, body_pump_main, &bp) != 0) {
		close(p[0]);
		close(p[1]);
		return api_errorf(r, 500, "cannot start the load");
	}
	if (http_stream_begin(r->c, 200, "application/json", NULL) < 0) {
		close(p[0]);
		pthread_join(t, NULL);
		return -EPIPE;
	}
	k = image_load(engine_images(r->e), p[0], progress, &px, &loaded, &err);
	close(p[0]);
	pthread_join(t, NULL);
	if (k < 0) {
		json_object *m = json_object_new_object();
		json_add_str(m, "errorDetail", "");
		json_object_object_add(m, "errorDetail", json_object_new_object());
		json_object_object_add(json_object_object_get(m, "errorDetail"), "message",
				       json_object_new_string(err ? err->msg : "load failed"));
		json_add_str(m, "error", err ? err->msg : "load failed");
		progress(&(struct progress_ctx){.r = r}, m);
		json_object_put(m);
	} else {
		for (char **l = loaded; l && *l; l++) {
			json_object *m = json_object_new_object();
			_cleanup_free_ char *s = xasprintf("%s\n", *l);
			json_add_str(m, "stream", s);
			progress(&(struct progress_ctx){.r = r}, m);
			json_object_put(m);
			/* dockerd names a load event by the image's id */
			const char *ref = startswith(*l, "Loaded image: ");
			const char *id = startswith(*l, "Loaded image ID: ");
			_cleanup_(image_info_freep) struct image_info *img = NULL;
			if (ref && image_lookup(engine_images(r->e), ref, &img, NULL) >= 0)
				id = img->id;
			if (id)
				engine_image_event(r->e, "load", id, id);
		}
	}
	strv_free(loaded);
	http_stream_end(r->c);
	return 0;
}

struct save_job {
	struct image_store *s;
	char **refs;
	int fd;
	int result;
	struct error *err;
};

static void *save_main(void *arg)
{
	struct save_job *j = arg;
	j->result = image_save(j->s, j->refs, j->fd, &j->err);
	close(j->fd);
	return NULL;
}

int api_images_get(struct api_req *r)
{
	struct save_job j = {.s = engine_images(r->e)};
	char **refs = NULL;
	pthread_t t;
	int p[2];
	bool started = false;

	if (NAME)
		refs = strv_append(refs, NAME);
	if (r->req->query) {
		/* names=a&names=b */
		const char *q = r->req->query;
		while (q && *q) {
			const char *amp = strchr(q, '&');
			size_t len = amp ? (size_t)(amp - q) : strlen(q);
			if (len > 6 && strncmp(q, "names=", 6) == 0) {
				char *v = http_url_decode(q + 6, len - 6, true);
				if (v) {
					refs = strv_append(refs, v);
					free(v);
				}
			}
			q = amp ? amp + 1 : NULL;
		}
	}
	if (!refs)
		return api_errorf(r, 400, "no image names given");
	/* Resolve first so a missing image is a clean 404 before any byte of the tar. */
	for (char **p2 = refs; *p2; p2++) {
		_cleanup_(image_info_freep) struct image_info *img = NULL;
		_cleanup_error_ struct error *err = NULL;
		int k = image_lookup(j.s, *p2, &img, &err);
		if (k < 0) {
			strv_free(refs);
			return api_error(r, k, err);
		}
	}
	j.refs = refs;
	if (pipe2(p, O_CLOEXEC) < 0) {
		strv_free(refs);
		return api_errorf(r, 500, "pipe: %s", strerror(errno));
	}
	j.fd = p[1];
	if (pthread_create(&t, NULL, save_main, &j) != 0) {
		close(p[0]);
		close(p[1]);
		strv_free(refs);
		return api_errorf(r, 500, "cannot start the save");
	}
	for (;;) {
		char buf[65536];
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!started) {
			if (http_stream_begin(r->c, 200, "application/x-tar", NULL) < 0)
				break;
			started = true;
		}
		if (http_stream_write(r->c, buf, (size_t)n) < 0) {
			r->keep_alive = false;
			break;
		}
	}
	close(p[0]);
	pthread_join(t, NULL);
	if (!started) {
		if (j.result < 0)
			api_error(r, j.result, j.err);
		else
			api_errorf(r, 500, "empty archive");
	} else {
		http_stream_end(r->c);
	}
	error_free(j.err);
	strv_free(refs);
	return 0;
}

int api_images_create(struct api_req *r)
{
	_cleanup_free_ char *src = api_query(r, "fromSrc"), *img = api_query(r, "fromImage");
	_cleanup_free_ char *repo = api_query(r, "repo"), *tag = api_query(r, "tag");
	_cleanup_free_ char *message = api_query(r, "message");
	_cleanup_error_ struct error *err = NULL;
	json_object *changes = NULL;
	_cleanup_free_ char *ref = NULL, *id = NULL;
	struct body_pump bp = {.c = r->c};
	pthread_t t;
	int p[2], k;

	if (!isempty(img))
		return api_images_pull(r, img);
	if (isempty(src))
		return api_errorf(r, 400, "fromImage or fromSrc is required");
	if (!streq(src, "-"))
		return api_errorf(r, 400, "importing from a URL is not supported");
	if (!isempty(repo))
		ref = isempty(tag) ? xstrdup(repo) : xasprintf("%s:%s", repo, tag);
	{
		/* changes=CMD ["sh"]&changes=ENV A=b (repeated) */
		const char *q = r->req->query;
		while (q && *q) {
			const char *amp = strchr(q, '&');
			size_t len = amp ? (size_t)(amp - q) : strlen(q);
			if (len > 8 && strncmp(q, "changes=", 8) == 0) {
				char *v = http_url_decode(q + 8, len - 8, true);
				if (v) {
					if (!changes)
						changes = json_object_new_array();
					json_object_array_add(changes, json_object_new_string(v));
					free(v);
				}
			}
			q = amp ? amp + 1 : NULL;
		}
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return api_errorf(r, 500, "pipe: %s", strerror(errno));
	bp.fd = p[1];
	if (pthread_create(&t, NULL, body_pump_main, &bp) != 0) {
		close(p[0]);
		close(p[1]);
		return api_errorf(r, 500, "cannot start the import");
	}
	k = image_import(engine_images(r->e), p[0], ref, changes, message, &id, &err);
	close(p[0]);
	pthread_join(t, NULL);
	if (changes)
		json_object_put(changes);
	if (k < 0)
		return api_error(r, k, err);
	engine_image_event(r->e, "import", id, ref);
	{
		json_object *m = json_object_new_object();
		json_add_str(m, "status", id);
		_cleanup_free_ char *line =
		    xasprintf("%s\r\n", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
		json_object_put(m);
		return http_respond(r->c, 200, "application/json", line, strlen(line), NULL,
				    r->keep_alive);
	}
}
