/* SPDX-License-Identifier: Apache-2.0 */
/* Image configs: bounded parsing, diff ids, created time, `--change` lines. */
#include <ctype.h>
#include <inttypes.h>
#include <time.h>

#include "internal.h"

int parse_json_limited(const char *buf, size_t len, json_object **ret, const char *what,
		       struct error **err)
{
	int r;

	if (len > IMAGE_JSON_MAX)
		return error_setx(err, -EFBIG, "%s is too large (%zu bytes)", what, len);
	r = json_parse_buffer(buf, len, ret, err);
	if (r < 0)
		return error_prefix(err, r, "invalid %s", what);
	if (!json_object_is_type(*ret, json_type_object)) {
		json_object_put(*ret);
		*ret = NULL;
		return error_setx(err, -EINVAL, "invalid %s: not an object", what);
	}
	return 0;
}

int config_diff_ids(json_object *config, char ***ret, struct error **err)
{
	json_object *rootfs, *ids, *type;
	_cleanup_strv_free_ char **l = xnew0(char *, 1);
	size_t n;

	if (!json_object_object_get_ex(config, "rootfs", &rootfs) ||
	    !json_object_is_type(rootfs, json_type_object))
		return error_setx(err, -EINVAL, "invalid image config: no rootfs");
	if (json_object_object_get_ex(rootfs, "type", &type) &&
	    (!json_object_is_type(type, json_type_string) ||
	     !streq(json_object_get_string(type), "layers")))
		return error_setx(err, -EINVAL, "invalid image config: rootfs.type is not layers");
	if (!json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    json_object_is_type(ids, json_type_null)) {
		*ret = TAKE_PTR(l);
		return 0;
	}
	if (!json_object_is_type(ids, json_type_array))
		return error_setx(err, -EINVAL, "invalid image config: rootfs.diff_ids");
	n = json_object_array_length(ids);
	if (n > 1000)
		return error_setx(err, -EINVAL, "invalid image config: too many layers");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(ids, i);
		if (!json_object_is_type(d, json_type_string) ||
		    !digest_valid(json_object_get_string(d)))
			return error_setx(err, -EINVAL,
					  "invalid image config: rootfs.diff_ids[%zu]", i);
		l = strv_append(l, json_object_get_string(d));
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* RFC 3339 ("2024-01-02T03:04:05.123456789Z", "...+02:00") to unix seconds; 0 if bad. */
static int64_t parse_rfc3339(const char *s)
{
	struct tm tm = {0};
	int n = 0, oh = 0, om = 0;
	const char *p;
	int64_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm);
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
			t += (*p == '+' ? -1 : 1) * (oh * 3600 + om * 60);
	}
	return t;
}

int64_t config_created(json_object *config)
{
	json_object *c;
	if (json_object_object_get_ex(config, "created", &c) &&
	    json_object_is_type(c, json_type_string))
		return parse_rfc3339(json_object_get_string(c));
	return 0;
}

static json_object *obj_member(json_object *o, const char *k)
{
	json_object *v;
	if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_object))
		return v;
	v = json_object_new_object();
	json_object_object_add(o, k, v);
	return v;
}

/* The JSON array form (["a","b"]) or, failing that, the shell form (/bin/sh -c "..."). */
static json_object *cmd_value(const char *rest, bool shell)
{
	json_object *v = json_tokener_parse(rest);
	if (v && json_object_is_type(v, json_type_array)) {
		bool ok = true;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			ok = ok &&
			     json_object_is_type(json_object_array_get_idx(v, i), json_type_string);
		if (ok)
			return v;
	}
	if (v)
		json_object_put(v);
	v = json_object_new_array();
	if (shell) {
		json_object_array_add(v, json_object_new_string("/bin/sh"));
		json_object_array_add(v, json_object_new_string("-c"));
	}
	json_object_array_add(v, json_object_new_string(rest));
	return v;
}

/* Split "a=b c=d" / "a b" pairs. Quotes are not handled (as `docker import` rarely needs). */
static char **words(const char *s)
{
	char **l = xnew0(char *, 1);
	while (*s) {
		const char *e;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
		_cleanup_free_ char *w = xstrndup(s, e - s);
		l = strv_append(l, w);
		s = e;
	}
	return l;
}

static void env_set(json_object *cfg, const char *k, const char *v)
{
	json_object *env;
	_cleanup_free_ char *kv = xasprintf("%s=%s", k, v);
	size_t kl = strlen(k);

	if (!json_object_object_get_ex(cfg, "Env", &env) ||
	    !json_object_is_type(env, json_type_array)) {
		env = json_object_new_array();
		json_object_object_add(cfg, "Env", env);
	}
	for (size_t i = 0; i < json_object_array_length(env); i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(env, i));
		if (e && strncmp(e, k, kl) == 0 && e[kl] == '=') {
			json_object_array_put_idx(env, i, json_object_new_string(kv));
			return;
		}
	}
	json_object_array_add(env, json_object_new_string(kv));
}

static int apply_pairs(json_object *cfg, const char *what, const char *rest, bool env,
		       struct error **err)
{
	_cleanup_strv_free_ char **w = words(rest);
	json_object *labels = env ? NULL : obj_member(cfg, "Labels");

	if (!w[0])
		return error_setx(err, -EINVAL, "%s requires at least one argument", what);
	if (!strchr(w[0], '=')) {
		/* legacy form: KEY value with spaces */
		const char *v = rest;
		while (isspace((unsigned char)*v))
			v++;
		v += strlen(w[0]);
		while (isspace((unsigned char)*v))
			v++;
		if (env)
			env_set(cfg, w[0], v);
		else
			json_object_object_add(labels, w[0], json_object_new_string(v));
		return 0;
	}
	for (char **p = w; *p; p++) {
		char *eq = strchr(*p, '=');
		if (!eq)
			return error_setx(err, -EINVAL, "%s names can not be blank", what);
		*eq = 0;
		if (env)
			env_set(cfg, *p, eq + 1);
		else
			json_object_object_add(labels, *p, json_object_new_string(eq + 1));
	}
	return 0;
}

/* HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D]
 * [--retries=N] CMD command | NONE, as a Dockerfile has it (dockerd's wording for errors). */
static int apply_healthcheck(json_object *cfg, const char *rest, struct error **err)
{
	static const char *const flags[] = {"interval", "timeout", "start-period",
					    "start-interval"};
	static const char *const keys[] = {"Interval", "Timeout", "StartPeriod", "StartInterval"};
	int64_t d[ELEMENTSOF(flags)] = {0}, retries = 0;
	_cleanup_free_ char *type = NULL;
	json_object *hc, *test;
	size_t k;

	while (startswith(rest, "--")) {
		_cleanup_free_ char *flag = NULL;
		const char *eq;
		size_t i;
		for (k = 0; rest[k] && !isspace((unsigned char)rest[k]); k++)
			;
		flag = xstrndup(rest + 2, k - 2);
		rest += k;
		while (isspace((unsigned char)*rest))
			rest++;
		eq = strchr(flag, '=');
		if (!eq)
			return error_setx(err, -EINVAL, "Missing a value on flag: --%s", flag);
		flag[eq - flag] = 0;
		if (streq(flag, "retries")) {
			if (safe_atoi64(eq + 1, &retries) < 0 || retries > INT32_MAX)
				return error_setx(
				    err, -EINVAL,
				    "strconv.ParseInt: parsing \"%s\": invalid syntax", eq + 1);
			if (retries < 0)
				return error_setx(err, -EINVAL,
						  "--retries cannot be negative (%" PRId64 ")",
						  retries);
			continue;
		}
		for (i = 0; i < ELEMENTSOF(flags) && !streq(flags[i], flag); i++)
			;
		if (i == ELEMENTSOF(flags))
			return error_setx(err, -EINVAL, "Unknown flag: %s", flag);
		if (eq[1] && parse_go_duration(eq + 1, &d[i]) < 0)
			return error_setx(err, -EINVAL, "time: invalid duration \"%s\"", eq + 1);
		if (d[i] != 0 && d[i] < 1000000)
			return error_setx(err, -EINVAL, "Interval \"%s\" cannot be less than 1ms",
					  flag);
	}
	for (k = 0; rest[k] && !isspace((unsigned char)rest[k]); k++)
		;
	if (k == 0)
		return error_setx(err, -EINVAL, "HEALTHCHECK requires at least one argument");
	type = xstrndup(rest, k);
	for (char *c = type; *c; c++)
		*c = toupper((unsigned char)*c);
	rest += k;
	while (isspace((unsigned char)*rest))
		rest++;
	hc = json_object_new_object();
	if (streq(type, "NONE")) {
		if (*rest) {
			json_object_put(hc);
			return error_setx(err, -EINVAL, "HEALTHCHECK NONE takes no arguments");
		}
		test = json_object_new_array();
		json_object_array_add(test, json_object_new_string("NONE"));
		json_object_object_add(hc, "Test", test);
		json_object_object_add(cfg, "Healthcheck", hc);
		return 0;
	}
	if (!streq(type, "CMD")) {
		json_object_put(hc);
		return error_setx(err, -EINVAL, "Unknown type \"%s\" in HEALTHCHECK (try CMD)",
				  type);
	}
	if (!*rest) {
		json_object_put(hc);
		return error_setx(err, -EINVAL, "missing command after HEALTHCHECK CMD");
	}
	/* The JSON form runs as it is, the shell form through the container's shell. */
	test = json_object_new_array();
	{
		_cleanup_json_ json_object *argv = cmd_value(rest, false);
		bool shell =
		    json_object_array_length(argv) == 1 &&
		    streq(json_object_get_string(json_object_array_get_idx(argv, 0)), rest);
		json_object_array_add(test, json_object_new_string(shell ? "CMD-SHELL" : "CMD"));
		for (size_t i = 0; i < json_object_array_length(argv); i++)
			json_object_array_add(test,
					      json_object_get(json_object_array_get_idx(argv, i)));
	}
	json_object_object_add(hc, "Test", test);
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (d[i])
			json_object_object_add(hc, keys[i], json_object_new_int64(d[i]));
	if (retries)
		json_object_object_add(hc, "Retries", json_object_new_int64(retries));
	json_object_object_add(cfg, "Healthcheck", hc);
	return 0;
}

int config_apply_changes(json_object *cfg, json_object *changes, struct error **err)
{
	size_t n;

	if (!changes)
		return 0;
	if (!json_object_is_type(changes, json_type_array))
		return error_setx(err, -EINVAL,
				  "changes must be a list of Dockerfile instructions");
	n = json_object_array_length(changes);
	for (size_t i = 0; i < n; i++) {
		const char *line = json_object_get_string(json_object_array_get_idx(changes, i));
		_cleanup_free_ char *instr = NULL;
		const char *rest;
		size_t k = 0;
		int r = 0;

		if (!line)
			continue;
		while (isspace((unsigned char)*line))
			line++;
		while (line[k] && !isspace((unsigned char)line[k]))
			k++;
		if (k == 0)
			continue;
		instr = xstrndup(line, k);
		for (char *c = instr; *c; c++)
			*c = toupper((unsigned char)*c);
		rest = line + k;
		while (isspace((unsigned char)*rest))
			rest++;

		if (streq(instr, "CMD") || streq(instr, "ENTRYPOINT")) {
			json_object_object_add(cfg, streq(instr, "CMD") ? "Cmd" : "Entrypoint",
					       cmd_value(rest, true));
		} else if (streq(instr, "ENV")) {
			r = apply_pairs(cfg, "ENV", rest, true, err);
		} else if (streq(instr, "LABEL")) {
			r = apply_pairs(cfg, "LABEL", rest, false, err);
		} else if (streq(instr, "WORKDIR") || streq(instr, "USER") ||
			   streq(instr, "STOPSIGNAL")) {
			const char *key = streq(instr, "WORKDIR") ? "WorkingDir"
					  : streq(instr, "USER")  ? "User"
								  : "StopSignal";
			if (!*rest)
				return error_setx(err, -EINVAL, "%s requires exactly one argument",
						  instr);
			json_object_object_add(cfg, key, json_object_new_string(rest));
		} else if (streq(instr, "EXPOSE") || streq(instr, "VOLUME")) {
			bool expose = streq(instr, "EXPOSE");
			json_object *m = obj_member(cfg, expose ? "ExposedPorts" : "Volumes");
			_cleanup_json_ json_object *arr = cmd_value(rest, false);
			_cleanup_strv_free_ char **w = NULL;
			if (json_object_array_length(arr) == 1)
				w = words(rest);
			else {
				w = xnew0(char *, 1);
				for (size_t j = 0; j < json_object_array_length(arr); j++)
					w = strv_append(w, json_object_get_string(
							       json_object_array_get_idx(arr, j)));
			}
			for (char **p = w; *p; p++) {
				_cleanup_free_ char *key = expose && !strchr(*p, '/')
							       ? xasprintf("%s/tcp", *p)
							       : xstrdup(*p);
				json_object_object_add(m, key, json_object_new_object());
			}
		} else if (streq(instr, "ONBUILD")) {
			json_object *ob;
			if (!json_object_object_get_ex(cfg, "OnBuild", &ob) ||
			    !json_object_is_type(ob, json_type_array)) {
				ob = json_object_new_array();
				json_object_object_add(cfg, "OnBuild", ob);
			}
			json_object_array_add(ob, json_object_new_string(rest));
		} else if (streq(instr, "HEALTHCHECK")) {
			r = apply_healthcheck(cfg, rest, err);
		} else {
			/* dockerd names it as its parser keeps it, in lowercase */
			_cleanup_free_ char *lower = xstrdup(instr);
			for (char *q = lower; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			return error_setx(err, -EINVAL, "%s is not a valid change command", lower);
		}
		if (r < 0)
			return r;
	}
	return 0;
}
