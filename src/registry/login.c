/* SPDX-License-Identifier: Apache-2.0 */
/* `docker login` (check credentials against /v2/) and `docker search` over a catalog. */
#include "internal.h"

static const struct registry_config default_cfg;

int registry_login(const char *server, const struct registry_auth *auth,
		   const struct registry_config *cfg, struct error **err)
{
	_cleanup_(reg_session_freep) struct reg_session *s = NULL;
	_cleanup_(reg_curl_freep) CURL *c = NULL;
	_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
	_cleanup_free_ char *domain = reg_server_domain(server), *url = NULL;
	struct reg_request rq = {.method = "GET", .body_fd = -1, .max = REG_ERROR_BODY_MAX};
	int r;

	if (!cfg)
		cfg = &default_cfg;
	if (!domain)
		return error_setx(err, -EINVAL, "invalid registry \"%s\"", server);
	if (!auth || (isempty(auth->username) && isempty(auth->registry_token)))
		return error_setx(err, -EINVAL, "login needs a username and a password");
	r = reg_session_open(cfg, auth, reg_domain_host(domain), NULL, NULL, &s, err);
	if (r == -EACCES) {
		/* the token service refused the credentials */
		_cleanup_free_ char *v2 = xasprintf("https://%s/v2/", reg_domain_host(domain));
		if (err && *err) {
			error_free(*err);
			*err = NULL;
		}
		return error_setx(err, -EACCES,
				  "login attempt to %s failed with status: 401 Unauthorized", v2);
	}
	if (r < 0)
		return r;
	url = xasprintf("%s/v2/", s->base);
	rq.url = url;
	rq.timeout_sec = cfg->timeout_sec > 0 ? cfg->timeout_sec : 120;
	c = reg_curl_new();
	r = reg_do(s, c, &rq, &rs, err);
	if (r < 0)
		return r;
	if (rs.status == 401 || rs.status == 403)
		return error_setx(err, -EACCES, "login attempt to %s failed with status: %ld %s",
				  url, rs.status, rs.status == 401 ? "Unauthorized" : "Forbidden");
	if (rs.status != 200)
		return reg_status_error(&rs, "GET", url, err);
	return 0;
}

int registry_search(const char *term, unsigned limit, const struct registry_auth *auth,
		    const struct registry_config *cfg, json_object **ret, struct error **err)
{
	_cleanup_(reg_session_freep) struct reg_session *s = NULL;
	_cleanup_(reg_curl_freep) CURL *c = NULL;
	_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
	_cleanup_json_ json_object *o = NULL, *out = NULL;
	_cleanup_free_ char *domain = NULL, *url = NULL;
	char *scopes[] = {(char *)"registry:catalog:*", NULL};
	struct reg_request rq = {.method = "GET", .body_fd = -1, .max = REG_CATALOG_MAX};
	json_object *repos;
	const char *slash, *needle;
	size_t n;
	int r;

	if (!cfg)
		cfg = &default_cfg;
	if (!term)
		term = "";
	if (!limit)
		limit = 25;
	/* "host:5000/busy" searches host:5000 for "busy"; a bare term searches docker.io */
	slash = strchr(term, '/');
	if (slash && (memchr(term, '.', slash - term) || memchr(term, ':', slash - term) ||
		      (slash - term == 9 && !strncmp(term, "localhost", 9)))) {
		_cleanup_free_ char *h = xstrndup(term, slash - term);
		domain = reg_server_domain(h);
		needle = slash + 1;
	} else {
		domain = xstrdup("docker.io");
		needle = term;
	}
	if (!domain)
		return error_setx(err, -EINVAL, "invalid registry in \"%s\"", term);
	r = reg_session_open(cfg, auth, reg_domain_host(domain), NULL, scopes, &s, err);
	if (r < 0)
		return r;
	url = xasprintf("%s/v2/_catalog?n=1000", s->base);
	rq.url = url;
	rq.timeout_sec = cfg->timeout_sec > 0 ? cfg->timeout_sec : 120;
	c = reg_curl_new();
	r = reg_do(s, c, &rq, &rs, err);
	if (r < 0)
		return r;
	if (rs.status != 200)
		return reg_status_error(&rs, "GET", url, err);
	r = json_parse_buffer(rs.body ? rs.body : "", rs.len, &o, err);
	if (r < 0)
		return error_prefix(err, r, "invalid catalog");
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "repositories", &repos) ||
	    !json_object_is_type(repos, json_type_array))
		return error_setx(err, -EINVAL, "invalid catalog: no repositories");
	out = json_object_new_array();
	n = json_object_array_length(repos);
	for (size_t i = 0; i < n && json_object_array_length(out) < limit; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(repos, i));
		json_object *e;
		if (!name || !strstr(name, needle))
			continue;
		e = json_object_new_object();
		if (streq(domain, "docker.io")) {
			json_add_str(e, "name", startswith(name, "library/") ? name + 8 : name);
		} else {
			_cleanup_free_ char *full = xasprintf("%s/%s", domain, name);
			json_add_str(e, "name", full);
		}
		json_add_str(e, "description", "");
		json_add_int(e, "star_count", 0);
		json_add_bool(e, "is_official", false);
		json_add_bool(e, "is_automated", false);
		json_object_array_add(out, e);
	}
	*ret = TAKE_PTR(out);
	return 0;
}
