/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>

#include "json.h"

void kv_list_release(struct kv_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

const char *kv_list_get(const struct kv_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->items[i].key, key))
			return l->items[i].value;
	return NULL;
}

char *json_path_join(const char *path, const char *name)
{
	if (isempty(path))
		return xstrdup(name);
	return xasprintf("%s.%s", path, name);
}

char *json_path_index(const char *path, size_t i)
{
	return xasprintf("%s[%zu]", path ? path : "", i);
}

static const char *type_name(enum json_field_type t)
{
	switch (t) {
	case JF_STRING:
		return "a string";
	case JF_BOOL:
		return "a boolean";
	case JF_INT:
	case JF_UINT32:
	case JF_INT64:
	case JF_UINT64:
	case JF_OPT_I64:
	case JF_OPT_U64:
		return "a number";
	case JF_STRV:
		return "an array of strings";
	case JF_STRMAP:
	case JF_OBJECT:
		return "an object";
	case JF_ARRAY:
		return "an array";
	}
	return "?";
}

static int bad_type(const char *path, enum json_field_type t, struct error **err)
{
	return error_setx(err, -EINVAL, "invalid value for '%s': must be %s", path, type_name(t));
}

static int get_int64(json_object *v, const char *path, int64_t *ret, struct error **err)
{
	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		*ret = json_object_get_int64(v);
		if (errno == EINVAL)
			return error_setx(err, -ERANGE, "invalid value for '%s': out of range",
					  path);
		/* json-c clamps values beyond int64 to INT64_MIN/MAX: detect via uint64. */
		if (*ret == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
			return error_setx(err, -ERANGE, "invalid value for '%s': out of range",
					  path);
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		/* range first: converting an out-of-range (or NaN) double is undefined */
		if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(int64_t)d)
			return error_setx(err, -EINVAL,
					  "invalid value for '%s': must be an integer", path);
		*ret = (int64_t)d;
		return 0;
	}
	return -EINVAL;
}

static int get_uint64(json_object *v, const char *path, uint64_t *ret, struct error **err)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t s = json_object_get_int64(v);
		if (s < 0)
			return error_setx(err, -ERANGE,
					  "invalid value for '%s': must not be negative", path);
		*ret = json_object_get_uint64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (!(d >= 0 && d <= 1.8e19) || d != (double)(uint64_t)d)
			return error_setx(err, -EINVAL,
					  "invalid value for '%s': must be an integer", path);
		*ret = (uint64_t)d;
		return 0;
	}
	return -EINVAL;
}

static int parse_one(json_object *v, const struct json_field *f, void *dst, const char *path,
		     struct error **err)
{
	char *p = (char *)dst + f->offset;
	int r;

	switch (f->type) {
	case JF_STRING:
		if (!json_object_is_type(v, json_type_string))
			return bad_type(path, f->type, err);
		free(*(char **)p);
		*(char **)p = xstrdup(json_object_get_string(v));
		return 0;
	case JF_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return bad_type(path, f->type, err);
		*(bool *)p = json_object_get_boolean(v);
		return 0;
	case JF_INT:
	case JF_INT64:
	case JF_OPT_I64: {
		int64_t x = 0;
		r = get_int64(v, path, &x, err);
		if (r == -EINVAL && !(err && *err))
			return bad_type(path, f->type, err);
		if (r < 0)
			return r;
		if (f->type == JF_INT) {
			if (x < INT_MIN || x > INT_MAX)
				return error_setx(err, -ERANGE,
						  "invalid value for '%s': out of range", path);
			*(int *)p = (int)x;
		} else if (f->type == JF_INT64) {
			*(int64_t *)p = x;
		} else {
			((struct opt_i64 *)p)->set = true;
			((struct opt_i64 *)p)->v = x;
		}
		return 0;
	}
	case JF_UINT32:
	case JF_UINT64:
	case JF_OPT_U64: {
		uint64_t x = 0;
		r = get_uint64(v, path, &x, err);
		if (r == -EINVAL && !(err && *err))
			return bad_type(path, f->type, err);
		if (r < 0)
			return r;
		if (f->type == JF_UINT32) {
			if (x > UINT32_MAX)
				return error_setx(err, -ERANGE,
						  "invalid value for '%s': out of range", path);
			*(uint32_t *)p = (uint32_t)x;
		} else if (f->type == JF_UINT64) {
			*(uint64_t *)p = x;
		} else {
			((struct opt_u64 *)p)->set = true;
			((struct opt_u64 *)p)->v = x;
		}
		return 0;
	}
	case JF_STRV: {
		size_t n;
		char **l;
		if (!json_object_is_type(v, json_type_array))
			return bad_type(path, f->type, err);
		n = json_object_array_length(v);
		l = xnew0(char *, n + 1);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);
			if (!json_object_is_type(e, json_type_string)) {
				strv_free(l);
				_cleanup_free_ char *ip = json_path_index(path, i);
				return error_setx(err, -EINVAL,
						  "invalid value for '%s': must be a string", ip);
			}
			l[i] = xstrdup(json_object_get_string(e));
		}
		strv_free(*(char ***)p);
		*(char ***)p = l;
		return 0;
	}
	case JF_STRMAP: {
		struct kv_list *kl = (struct kv_list *)p;
		if (!json_object_is_type(v, json_type_object))
			return bad_type(path, f->type, err);
		kv_list_release(kl);
		kl->items = xnew0(struct kv, (size_t)json_object_object_length(v) + 1);
		json_object_object_foreach(v, key, val)
		{
			if (!json_object_is_type(val, json_type_string)) {
				_cleanup_free_ char *kp = json_path_join(path, key);
				return error_setx(err, -EINVAL,
						  "invalid value for '%s': must be a string", kp);
			}
			kl->items[kl->n].key = xstrdup(key);
			kl->items[kl->n].value = xstrdup(json_object_get_string(val));
			kl->n++;
		}
		return 0;
	}
	case JF_OBJECT:
		if (!json_object_is_type(v, json_type_object))
			return bad_type(path, f->type, err);
		return f->parse(v, p, path, err);
	case JF_ARRAY: {
		size_t n;
		char *items;
		if (!json_object_is_type(v, json_type_array))
			return bad_type(path, f->type, err);
		n = json_object_array_length(v);
		items = xzalloc(f->elem_size * (n ? n : 1));
		/* Store first so the caller's release frees partial arrays too. */
		*(void **)p = items;
		*(size_t *)((char *)dst + f->count_offset) = 0;
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *ip = json_path_index(path, i);
			json_object *e = json_object_array_get_idx(v, i);
			r = f->parse(e, items + i * f->elem_size, ip, err);
			*(size_t *)((char *)dst + f->count_offset) = i + 1;
			if (r < 0)
				return r;
		}
		return 0;
	}
	}
	return -EINVAL;
}

int json_parse_fields(json_object *obj, const struct json_field *fields, void *dst,
		      const char *path, struct error **err)
{
	if (!json_object_is_type(obj, json_type_object))
		return error_setx(err, -EINVAL, "invalid value for '%s': must be an object",
				  isempty(path) ? "(root)" : path);
	for (const struct json_field *f = fields; f->name; f++) {
		json_object *v;
		_cleanup_free_ char *fp = json_path_join(path, f->name);
		int r;

		if (!json_object_object_get_ex(obj, f->name, &v) || !v) {
			if (f->required)
				return error_setx(err, -EINVAL, "missing required field '%s'", fp);
			continue;
		}
		r = parse_one(v, f, dst, fp, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int json_parse_buffer(const char *buf, size_t len, json_object **ret, struct error **err)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *o;
	enum json_tokener_error jerr;

	if (!tok)
		return error_set(err, -ENOMEM, "json");
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!o || jerr != json_tokener_success) {
		int r;
		if (jerr == json_tokener_continue)
			r = error_setx(err, -EINVAL, "invalid JSON: unexpected end of input");
		else
			r = error_setx(err, -EINVAL, "invalid JSON at offset %zu: %s",
				       json_tokener_get_parse_end(tok),
				       json_tokener_error_desc(jerr));
		if (o)
			json_object_put(o);
		json_tokener_free(tok);
		return r;
	}
	/* Trailing garbage other than whitespace is an error. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (!strchr(" \t\r\n", buf[i])) {
			json_object_put(o);
			json_tokener_free(tok);
			return error_setx(err, -EINVAL, "invalid JSON at offset %zu: trailing data",
					  i);
		}
	json_tokener_free(tok);
	*ret = o;
	return 0;
}

int json_parse_file(const char *path, size_t max, json_object **ret, struct error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, path, max, &buf, &len);
	if (r < 0)
		return error_set(err, r, "read '%s'", path);
	r = json_parse_buffer(buf, len, ret, err);
	if (r < 0)
		return error_prefix(err, r, "parse '%s'", path);
	return 0;
}

void json_add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

void json_add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

void json_add_bool(json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

json_object *json_strv_new(char *const *l)
{
	json_object *a = json_object_new_array();
	if (l)
		for (; *l; l++)
			json_object_array_add(a, json_object_new_string(*l));
	return a;
}

int json_filters_check(json_object *filters, const char *const *allowed, struct error **err)
{
	if (!filters)
		return 0;
	if (!json_object_is_type(filters, json_type_object))
		return error_setx(err, -EINVAL, "invalid filter");
	json_object_object_foreach(filters, k, v)
	{
		bool ok = false;
		(void)v;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = streq(*a, k);
		if (!ok)
			return error_setx(err, -EINVAL, "invalid filter '%s'", k);
	}
	return 0;
}
