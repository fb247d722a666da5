/* SPDX-License-Identifier: Apache-2.0 */
/* Registries: pull (POST /images/create?fromImage), push, /auth, /images/search. */
#include "api.h"
#include "basic/base64.h"
#include "registry/registry.h"

/* X-Registry-Auth: base64url(JSON AuthConfig). Fills *a with strings owned by *holder. */
static int decode_auth(struct api_req *r, struct registry_auth *a, json_object **holder)
{
	const char *h = http_request_header(r->req, "X-Registry-Auth");
	_cleanup_free_ char *out = NULL;
	size_t len;
	json_object *v;

	memset(a, 0, sizeof(*a));
	*holder = NULL;
	if (isempty(h))
		return 0;
	/* URL-safe or standard alphabet, with or without padding */
	if (base64_decode(h, strlen(h), &out, &len) < 0)
		return -EINVAL;
	*holder = json_tokener_parse(out);
	if (!*holder || !json_object_is_type(*holder, json_type_object)) {
		if (*holder)
			json_object_put(*holder);
		*holder = NULL;
		return 0; /* "{}" or junk: anonymous, as Docker does */
	}
	if (json_object_object_get_ex(*holder, "username", &v))
		a->username = json_object_get_string(v);
	if (json_object_object_get_ex(*holder, "password", &v))
		a->password = json_object_get_string(v);
	if (json_object_object_get_ex(*holder, "registrytoken", &v))
		a->registry_token = json_object_get_string(v);
	if (isempty(a->username) && isempty(a->password) && isempty(a->registry_token))
		memset(a, 0, sizeof(*a));
	return 0;
}

struct stream_ctx {
	struct api_req *r;
	bool started;
	bool broken;
};

static void progress(void *ud, json_object *msg)
{
	struct stream_ctx *x = ud;
	if (x->broken)
		return;
	if (!x->started) {
		if (http_stream_begin(x->r->c, 200, "application/json", NULL) < 0) {
			x->broken = true;
			return;
		}
		x->started = true;
	}
	_cleanup_free_ char *line =
	    xasprintf("%s\r\n", json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
	if (http_stream_write(x->r->c, line, strlen(line)) < 0)
		x->broken = true;
}

/*
 * Before any output an error is an HTTP status; after, a JSON message in the stream. A registry
 * that refuses us is a 500, as dockerd answers it (errdefs.Unknown): a 401 would make the docker
 * CLI ask for credentials on its terminal.
 */
static int finish(struct stream_ctx *x, int k, struct error *err)
{
	if (k >= 0 || !x->started) {
		if (k < 0) {
			int status = k == -ENOENT ? 404 : k == -EINVAL ? 400 : 500;
			return http_respond_error(x->r->c, status, err ? err->msg : strerror(-k),
						  x->r->keep_alive);
		}
		return http_stream_end(x->r->c);
	}
	json_object *m = json_object_new_object(), *d = json_object_new_object();
	json_add_str(d, "message", err ? err->msg : strerror(-k));
	json_object_object_add(m, "errorDetail", d);
	json_add_str(m, "error", err ? err->msg : strerror(-k));
	progress(x, m);
	json_object_put(m);
	return http_stream_end(x->r->c);
}

int api_images_pull(struct api_req *r, const char *from_image)
{
	_cleanup_free_ char *tag = api_query(r, "tag"), *platform = api_query(r, "platform");
	_cleanup_free_ char *ref = NULL, *id = NULL;
	_cleanup_json_ json_object *holder = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct registry_auth auth;
	struct stream_ctx x = {.r = r};
	int k;

	if (decode_auth(r, &auth, &holder) < 0)
		return api_errorf(r, 400, "invalid X-Registry-Auth header");
	if (isempty(tag))
		ref = xstrdup(from_image);
	else if (startswith(tag, "sha256:"))
		ref = xasprintf("%s@%s", from_image, tag);
	else
		ref = xasprintf("%s:%s", from_image, tag);
	k = registry_pull(engine_images(r->e), ref, isempty(platform) ? NULL : platform,
			  auth.username || auth.registry_token ? &auth : NULL,
			  engine_registry_config(r->e), progress, &x, &id, &err);
	if (k >= 0)
		engine_image_event(r->e, "pull", ref, ref);
	return finish(&x, k, err);
}

/* Whether a name as the API gets it carries a tag or digest: "host:5000/x:1", "x@sha256:..." */
static bool name_is_tagged(const char *name)
{
	const char *slash = strrchr(name, '/'), *colon = strrchr(name, ':');
	return strchr(name, '@') || (colon && (!slash || colon > slash));
}

/* POST /images/{name}/push?tag=: without a tag (and none in the name), every tag of the
 * repository, as `docker push --all-tags` asks. */
int api_images_push(struct api_req *r)
{
	_cleanup_free_ char *tag = api_query(r, "tag"), *ref = NULL, *digest = NULL;
	_cleanup_json_ json_object *holder = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct registry_auth auth;
	struct stream_ctx x = {.r = r};
	bool all = isempty(tag) && !name_is_tagged(r->params[0]);
	int k;

	if (decode_auth(r, &auth, &holder) < 0)
		return api_errorf(r, 400, "invalid X-Registry-Auth header");
	ref = isempty(tag) ? xstrdup(r->params[0]) : xasprintf("%s:%s", r->params[0], tag);
	{
		/* A missing image is a plain 404 before any output. */
		_cleanup_(image_info_freep) struct image_info *img = NULL;
		_cleanup_strv_free_ char **tags = NULL;
		_cleanup_error_ struct error *e2 = NULL;
		if (all)
			k = image_repository_tags(engine_images(r->e), ref, &tags, &e2);
		else
			k = image_lookup(engine_images(r->e), ref, &img, &e2);
		if (k == -EINVAL)
			return api_error(r, k, e2);
		if (k < 0 || (all && !tags[0]))
			return api_errorf(r, 404,
					  "An image does not exist locally with the tag: %s",
					  r->params[0]);
	}
	if (all)
		k = registry_push_all(engine_images(r->e), ref,
				      auth.username || auth.registry_token ? &auth : NULL,
				      engine_registry_config(r->e), progress, &x, &err);
	else
		k = registry_push(engine_images(r->e), ref,
				  auth.username || auth.registry_token ? &auth : NULL,
				  engine_registry_config(r->e), progress, &x, &digest, &err);
	if (k >= 0)
		engine_image_event(r->e, "push", ref, ref);
	return finish(&x, k, err);
}

int api_auth(struct api_req *r)
{
	_cleanup_json_ json_object *body = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct registry_auth auth = {0};
	const char *server = NULL;
	json_object *v;
	int k;

	if (api_body_json(r, &body, true) < 0)
		return -EINVAL;
	if (json_object_object_get_ex(body, "username", &v))
		auth.username = json_object_get_string(v);
	if (json_object_object_get_ex(body, "password", &v))
		auth.password = json_object_get_string(v);
	if (json_object_object_get_ex(body, "serveraddress", &v))
		server = json_object_get_string(v);
	k = registry_login(isempty(server) ? "docker.io" : server, &auth,
			   engine_registry_config(r->e), &err);
	if (k < 0)
		return http_respond_error(r->c, k == -EACCES || k == -EPERM ? 401 : 500,
					  err ? err->msg : strerror(-k), r->keep_alive);
	{
		json_object *o = json_object_new_object();
		json_add_str(o, "Status", "Login Succeeded");
		json_add_str(o, "IdentityToken", "");
		return api_json(r, 200, o);
	}
}

/* The values of one filters= key: {"k":{"v":true}} or the older {"k":["v"]}. */
static char **filter_values(json_object *filters, const char *key)
{
	json_object *v;
	char **out = NULL;

	if (!filters || !json_object_object_get_ex(filters, key, &v))
		return NULL;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			out = strv_append(out,
					  json_object_get_string(json_object_array_get_idx(v, i)));
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, x)
		{
			if (json_object_get_boolean(x))
				out = strv_append(out, k);
		}
	}
	return out;
}

static int parse_bool_filter(const char *s, bool *ret)
{
	if (streq(s, "true") || streq(s, "1"))
		*ret = true;
	else if (streq(s, "false") || streq(s, "0"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

int api_images_search(struct api_req *r)
{
	_cleanup_free_ char *term = api_query(r, "term"), *limit = api_query(r, "limit");
	_cleanup_free_ char *filters_s = api_query(r, "filters");
	_cleanup_json_ json_object *filters = NULL;
	int64_t min_stars = 0;
	int official = -1, automated = -1;
	_cleanup_json_ json_object *holder = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct registry_auth auth;
	json_object *out = NULL;
	int k;

	if (isempty(term))
		return api_errorf(r, 400, "term is required");
	if (!isempty(filters_s)) {
		filters = json_tokener_parse(filters_s);
		if (!filters || !json_object_is_type(filters, json_type_object))
			return api_errorf(r, 400, "invalid filter");
		json_object_object_foreach(filters, fk, fv)
		{
			(void)fv;
			if (!streq(fk, "stars") && !streq(fk, "is-official") &&
			    !streq(fk, "is-automated"))
				return api_errorf(r, 400, "invalid filter '%s'", fk);
		}
		_cleanup_strv_free_ char **st = filter_values(filters, "stars");
		for (char **p = st; p && *p; p++) {
			int64_t n;
			char *end;
			errno = 0;
			n = strtoll(*p, &end, 10);
			if (errno || end == *p || *end)
				return api_errorf(r, 400, "invalid filter 'stars=%s'", *p);
			if (n > min_stars)
				min_stars = n;
		}
		const char *bkeys[] = {"is-official", "is-automated"};
		for (size_t i = 0; i < ELEMENTSOF(bkeys); i++) {
			_cleanup_strv_free_ char **vals = filter_values(filters, bkeys[i]);
			for (char **p = vals; p && *p; p++) {
				bool b;
				if (parse_bool_filter(*p, &b) < 0)
					return api_errorf(r, 400, "invalid filter '%s=%s'",
							  bkeys[i], *p);
				if (i == 0)
					official = b;
				else
					automated = b;
			}
		}
	}
	if (limit && (atoi(limit) < 0 || atoi(limit) > 100))
		return api_errorf(r, 400, "limit %s is outside the range of [1, 100]", limit);
	if (decode_auth(r, &auth, &holder) < 0)
		return api_errorf(r, 400, "invalid X-Registry-Auth header");
	k = registry_search(term, limit ? (unsigned)atoi(limit) : 25,
			    auth.username || auth.registry_token ? &auth : NULL,
			    engine_registry_config(r->e), &out, &err);
	if (k < 0)
		return api_error(r, k, err);
	if (filters) {
		json_object *kept = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(out); i++) {
			json_object *e = json_object_array_get_idx(out, i), *v;
			int64_t stars = json_object_object_get_ex(e, "star_count", &v)
					    ? json_object_get_int64(v)
					    : 0;
			bool off = json_object_object_get_ex(e, "is_official", &v) &&
				   json_object_get_boolean(v);
			bool aut = json_object_object_get_ex(e, "is_automated", &v) &&
				   json_object_get_boolean(v);
			if (stars < min_stars || (official >= 0 && off != (bool)official) ||
			    (automated >= 0 && aut != (bool)automated))
				continue;
			json_object_array_add(kept, json_object_get(e));
		}
		json_object_put(out);
		out = kept;
	}
	return api_json(r, 200, out);
}
