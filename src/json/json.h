/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: a thin layer over json-c.
 *
 * Parsing goes through field tables: each row names a JSON member, its type,
 * where it lands in the C struct and whether it is required. Unknown members
 * are ignored (as Docker and the OCI runtimes do); a member of the wrong type
 * is an error that names the member by its full path ("process.user.uid").
 */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <json-c/json.h>

#include "basic/basic.h"

/* An optional number: set tells whether the member was present. */
struct opt_i64 {
	bool set;
	int64_t v;
};
struct opt_u64 {
	bool set;
	uint64_t v;
};

/* A list of key/value pairs in document order (maps, annotations, sysctls). */
struct kv {
	char *key;
	char *value;
};
struct kv_list {
	struct kv *items;
	size_t n;
};
void kv_list_release(struct kv_list *l);
const char *kv_list_get(const struct kv_list *l, const char *key);

enum json_field_type {
	JF_STRING,  /* char * */
	JF_BOOL,    /* bool */
	JF_INT,	    /* int, range checked */
	JF_UINT32,  /* uint32_t, range checked */
	JF_INT64,   /* int64_t */
	JF_UINT64,  /* uint64_t (negative numbers rejected) */
	JF_OPT_I64, /* struct opt_i64 */
	JF_OPT_U64, /* struct opt_u64 */
	JF_STRV,    /* char ** NULL-terminated, from an array of strings */
	JF_STRMAP,  /* struct kv_list, from an object of strings */
	JF_OBJECT,  /* custom: parse(obj, dst + offset, path, err) */
	JF_ARRAY,   /* array of elem_size structs, each parsed by parse(); count at count_offset */
};

struct json_field {
	const char *name;
	enum json_field_type type;
	size_t offset;
	bool required;
	int (*parse)(json_object *o, void *dst, const char *path, struct error **err);
	size_t elem_size;
	size_t count_offset;
};

#define JSON_FIELD_END                                                                             \
	{                                                                                          \
		NULL, 0, 0, false, NULL, 0, 0                                                      \
	}

/*
 * Fill dst from obj by the table. path is the JSON path of obj, used in error
 * messages ("" for the top level). obj must be an object.
 */
int json_parse_fields(json_object *obj, const struct json_field *fields, void *dst,
		      const char *path, struct error **err);

/* Parse a whole buffer; the error says where the syntax broke. */
int json_parse_buffer(const char *buf, size_t len, json_object **ret, struct error **err);
int json_parse_file(const char *path, size_t max, json_object **ret, struct error **err);

/* Join path and member name for messages: "a.b" / "a[3]". Caller frees. */
char *json_path_join(const char *path, const char *name);
char *json_path_index(const char *path, size_t i);

static inline void json_object_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Builders that cannot fail (they abort on OOM like x*alloc). */
void json_add_str(json_object *o, const char *k, const char *v);
void json_add_int(json_object *o, const char *k, int64_t v);
void json_add_bool(json_object *o, const char *k, bool v);
json_object *json_strv_new(char *const *l);
/* The keys of a filters object ({"key": [...]} or {"key": {"v": true}}) are all in the
 * NULL-terminated allowed list; else Docker's "invalid filter 'key'" (-EINVAL). */
int json_filters_check(json_object *filters, const char *const *allowed, struct error **err);

#endif
