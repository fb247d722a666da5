/* SPDX-License-Identifier: Apache-2.0 */
/* Engine API shapes: /images/json, /images/{name}/json, history, prune, /system/df. */
#include <fnmatch.h>
#include <time.h>

#include "internal.h"

/* Values of one filter: {"name":{"v":true}} or {"name":["v"]}. NULL when absent. */
static char **filter_values(json_object *filters, const char *name)
{
	json_object *v;
	char **l;

	if (!filters || !json_object_object_get_ex(filters, name, &v))
		return NULL;
	l = xnew0(char *, 1);
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(v, i));
			if (s)
				l = strv_append(l, s);
		}
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, val)
		{
			if (json_object_get_boolean(val))
				l = strv_append(l, k);
		}
	} else if (json_object_is_type(v, json_type_string)) {
		l = strv_append(l, json_object_get_string(v));
	}
	return l;
}

static int parse_bool_filter(char **vals, const char *name, int *ret, struct error **err)
{
	*ret = -1;
	for (char **p = vals; p && *p; p++) {
		if (streq(*p, "true") || streq(*p, "1"))
			*ret = 1;
		else if (streq(*p, "false") || streq(*p, "0"))
			*ret = 0;
		else
			return error_setx(err, -EINVAL,
					  "invalid filter '%s=%s': must be true or false", name,
					  *p);
	}
	return 0;
}

static json_object *config_member(json_object *config, const char *k)
{
	json_object *c, *v;
	if (json_object_object_get_ex(config, "config", &c) && json_object_object_get_ex(c, k, &v))
		return v;
	return NULL;
}

static bool labels_match(json_object *config, char **want)
{
	json_object *labels = config_member(config, "Labels");
	for (char **p = want; p && *p; p++) {
		_cleanup_free_ char *k = xstrdup(*p);
		char *eq = strchr(k, '=');
		json_object *v;
		if (eq)
			*eq = 0;
		if (!labels || !json_object_is_type(labels, json_type_object) ||
		    !json_object_object_get_ex(labels, k, &v))
			return false;
		if (eq && !streq_ptr(json_object_get_string(v), eq + 1))
			return false;
	}
	return true;
}

/* Docker's reference filter (FamiliarMatch): path.Match against "name:tag" (or
 * "name@digest") and against "name". */
static bool reference_match_one(const char *ref, char **patterns)
{
	_cleanup_free_ char *name = xstrdup(ref);
	char *sep = strchr(name, '@');
	if (!sep) {
		char *slash = strrchr(name, '/');
		sep = strrchr(slash ? slash : name, ':');
	}
	if (sep)
		*sep = 0;
	for (char **p = patterns; p && *p; p++)
		if (fnmatch(*p, ref, FNM_PATHNAME) == 0 || fnmatch(*p, name, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* The references of a list that match: as dockerd, an image listed under a reference
 * filter shows only the tags and digests that matched. */
static char **references_matching(char *const *refs, char **patterns)
{
	char **out = xnew0(char *, 1);
	for (char *const *t = refs; t && *t; t++)
		if (reference_match_one(*t, patterns))
			out = strv_append(out, *t);
	return out;
}

static json_object *labels_of(json_object *config)
{
	json_object *l = config_member(config, "Labels");
	if (l && json_object_is_type(l, json_type_object))
		return json_object_get(l);
	return json_object_new_object();
}

static json_object *summary(const struct image_info *i, int64_t shared)
{
	json_object *o = json_object_new_object();
	json_add_str(o, "Id", i->id);
	json_add_str(o, "ParentId", i->parent ? i->parent : "");
	json_object_object_add(o, "RepoTags", json_strv_new(i->repo_tags));
	json_object_object_add(o, "RepoDigests", json_strv_new(i->repo_digests));
	json_add_int(o, "Created", i->created);
	json_add_int(o, "Size", i->size);
	json_add_int(o, "SharedSize", shared);
	json_object_object_add(o, "Labels", labels_of(i->config));
	json_add_int(o, "Containers", -1);
	return o;
}

static int load_all_locked(struct image_store *s, struct image_info ***ret, size_t *ret_n,
			   struct error **err)
{
	_cleanup_strv_free_ char **ids = NULL;
	struct image_info **l;
	size_t n = 0;
	int r;

	if (list_ids_locked(s, &ids) < 0)
		return error_setx(err, -EIO, "list images");
	l = xnew0(struct image_info *, strv_length(ids) + 1);
	for (char **p = ids; *p; p++) {
		r = info_load_locked(s, *p, &l[n], err);
		if (r < 0) {
			while (n > 0)
				image_info_free(l[--n]);
			free(l);
			return r;
		}
		n++;
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

static void free_all(struct image_info **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_info_free(l[i]);
	free(l);
}

static int cmp_created(const void *a, const void *b)
{
	const struct image_info *x = *(struct image_info *const *)a,
				*y = *(struct image_info *const *)b;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

int image_list_json(struct image_store *s, json_object *filters, bool all, json_object **ret,
		    struct error **err)
{
	static const char *const allowed[] = {"dangling", "label", "reference", "before",
					      "since",	  "until", NULL};
	_cleanup_strv_free_ char **dangling = filter_values(filters, "dangling"),
				 **labels = filter_values(filters, "label"),
				 **refs = filter_values(filters, "reference"),
				 **before = filter_values(filters, "before"),
				 **since = filter_values(filters, "since");
	_cleanup_unlock_ struct image_store *locked = s;
	struct image_info **l = NULL;
	int64_t before_t = INT64_MAX, since_t = INT64_MIN;
	json_object *out;
	size_t n = 0;
	int want_dangling, r;

	r = json_filters_check(filters, allowed, err);
	if (r < 0)
		return r;
	r = parse_bool_filter(dangling, "dangling", &want_dangling, err);
	if (r < 0)
		return r;
	store_lock(s);
	for (int k = 0; k < 2; k++) {
		char **v = k ? since : before;
		if (v && v[0]) {
			_cleanup_(image_info_freep) struct image_info *ref = NULL;
			_cleanup_free_ char *id = NULL;
			r = resolve_locked(s, v[0], &id, NULL, err);
			if (r >= 0)
				r = info_load_locked(s, id, &ref, err);
			if (r < 0)
				return r;
			if (k)
				since_t = ref->created;
			else
				before_t = ref->created;
		}
	}
	r = load_all_locked(s, &l, &n, err);
	if (r < 0)
		return r;
	qsort(l, n, sizeof(*l), cmp_created);
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		bool is_dangling = !l[i]->repo_tags[0] && !l[i]->repo_digests[0];
		if (want_dangling == 1 && !is_dangling)
			continue;
		if (want_dangling == 0 && is_dangling)
			continue;
		if (labels && !labels_match(l[i]->config, labels))
			continue;
		if (l[i]->created >= before_t || l[i]->created <= since_t)
			continue;
		if (refs && refs[0]) {
			_cleanup_strv_free_ char **tags =
			    references_matching(l[i]->repo_tags, refs);
			_cleanup_strv_free_ char **digests =
			    references_matching(l[i]->repo_digests, refs);
			json_object *row;
			if (!tags[0] && !digests[0])
				continue;
			row = summary(l[i], -1);
			json_object_object_add(row, "RepoTags", json_strv_new(tags));
			json_object_object_add(row, "RepoDigests", json_strv_new(digests));
			json_object_array_add(out, row);
			continue;
		}
		json_object_array_add(out, summary(l[i], -1));
	}
	(void)all; /* no intermediate build images to hide yet */
	free_all(l, n);
	*ret = out;
	return 0;
}

static const char *cfg_str(json_object *config, const char *k)
{
	json_object *v;
	if (json_object_object_get_ex(config, k, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

/* The zero container.Config as dockerd marshals it: the fields without omitempty. */
static json_object *empty_container_config(void)
{
	static const char *const strs[] = {"Hostname", "Domainname", "User"};
	static const char *const bools[] = {"AttachStdin", "AttachStdout", "AttachStderr",
					    "Tty",	   "OpenStdin",	   "StdinOnce"};
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < ELEMENTSOF(strs); i++)
		json_add_str(o, strs[i], "");
	for (size_t i = 0; i < ELEMENTSOF(bools); i++)
		json_object_object_add(o, bools[i], json_object_new_boolean(false));
	json_object_object_add(o, "Env", NULL);
	json_object_object_add(o, "Cmd", NULL);
	json_add_str(o, "Image", "");
	json_object_object_add(o, "Volumes", NULL);
	json_add_str(o, "WorkingDir", "");
	json_object_object_add(o, "Entrypoint", NULL);
	json_object_object_add(o, "OnBuild", NULL);
	json_object_object_add(o, "Labels", NULL);
	return o;
}

int image_inspect_json(struct image_store *s, const char *ref, bool legacy, json_object **ret,
		       struct error **err)
{
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	_cleanup_free_ char *lower = NULL;
	json_object *o, *c, *rootfs, *gd, *data, *layers, *meta, *ids = NULL, *rf;
	int r;

	r = image_lookup(s, ref, &i, err);
	if (r < 0)
		return r;
	o = json_object_new_object();
	json_add_str(o, "Id", i->id);
	json_object_object_add(o, "RepoTags", json_strv_new(i->repo_tags));
	json_object_object_add(o, "RepoDigests", json_strv_new(i->repo_digests));
	json_add_str(o, "Parent", i->parent);
	json_add_str(o, "Comment", cfg_str(i->config, "comment"));
	json_add_str(o, "Created", cfg_str(i->config, "created"));
	if (legacy) {
		json_add_str(o, "Container", cfg_str(i->config, "container"));
		if (json_object_object_get_ex(i->config, "container_config", &c) &&
		    json_object_is_type(c, json_type_object))
			json_object_object_add(o, "ContainerConfig", json_object_get(c));
		else
			json_object_object_add(o, "ContainerConfig", empty_container_config());
	}
	json_add_str(o, "DockerVersion", cfg_str(i->config, "docker_version"));
	json_add_str(o, "Author", cfg_str(i->config, "author"));
	if (json_object_object_get_ex(i->config, "config", &c) &&
	    json_object_is_type(c, json_type_object))
		json_object_object_add(o, "Config", json_object_get(c));
	else
		json_object_object_add(o, "Config", json_object_new_object());
	json_add_str(o, "Architecture", cfg_str(i->config, "architecture"));
	if (*cfg_str(i->config, "variant"))
		json_add_str(o, "Variant", cfg_str(i->config, "variant"));
	json_add_str(o, "Os", cfg_str(i->config, "os"));
	if (*cfg_str(i->config, "os.version"))
		json_add_str(o, "OsVersion", cfg_str(i->config, "os.version"));
	json_add_int(o, "Size", i->size);
	gd = json_object_new_object();
	data = json_object_new_object();
	json_add_str(gd, "Name", "overlay2");
	lower = image_lowerdir(i);
	if (i->n_layers > 0) {
		json_add_str(data, "MergedDir", "");
		json_add_str(data, "UpperDir", i->layers[i->n_layers - 1]);
		if (i->n_layers > 1 && lower) {
			char *colon = strchr(lower, ':');
			json_add_str(data, "LowerDir", colon ? colon + 1 : "");
		}
	}
	json_object_object_add(gd, "Data", data);
	json_object_object_add(o, "GraphDriver", gd);
	rootfs = json_object_new_object();
	json_add_str(rootfs, "Type", "layers");
	layers = json_object_new_array();
	if (json_object_object_get_ex(i->config, "rootfs", &rf))
		json_object_object_get_ex(rf, "diff_ids", &ids);
	for (size_t k = 0; ids && k < json_object_array_length(ids); k++)
		json_object_array_add(layers, json_object_get(json_object_array_get_idx(ids, k)));
	json_object_object_add(rootfs, "Layers", layers);
	json_object_object_add(o, "RootFS", rootfs);
	meta = json_object_new_object();
	json_add_str(meta, "LastTagTime", "0001-01-01T00:00:00Z");
	json_object_object_add(o, "Metadata", meta);
	*ret = o;
	return 0;
}

int image_history_json(struct image_store *s, const char *ref, json_object **ret,
		       struct error **err)
{
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	_cleanup_free_ int64_t *sizes = NULL;
	size_t n_sizes = 0, li = 0;
	json_object *hist = NULL, *out;
	sqlite3_stmt *st = NULL;
	int r;

	r = image_lookup(s, ref, &i, err);
	if (r < 0)
		return r;
	store_lock(s);
	sizes = xnew0(int64_t, i->n_layers + 1);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT l.size FROM image_image_layers il JOIN image_layers l ON "
			       "l.chain_id = il.chain_id WHERE il.image_id=? ORDER BY il.idx",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, i->id, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW && n_sizes < i->n_layers)
			sizes[n_sizes++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	store_unlock(s);

	json_object_object_get_ex(i->config, "history", &hist);
	size_t n =
	    hist && json_object_is_type(hist, json_type_array) ? json_object_array_length(hist) : 0;
	json_object **rows = xnew0(json_object *, n + 1);
	for (size_t k = 0; k < n; k++) {
		json_object *h = json_object_array_get_idx(hist, k), *empty = NULL, *row;
		bool is_empty = json_object_object_get_ex(h, "empty_layer", &empty) &&
				json_object_get_boolean(empty);
		const char *created = cfg_str(h, "created");
		_cleanup_free_ char *tmp = NULL;
		json_object *tj;

		row = json_object_new_object();
		json_add_str(row, "Id", "<missing>");
		tmp = xasprintf("{\"created\":\"%s\"}", created);
		tj = json_tokener_parse(tmp);
		json_add_int(row, "Created", tj ? config_created(tj) : 0);
		if (tj)
			json_object_put(tj);
		json_add_str(row, "CreatedBy", cfg_str(h, "created_by"));
		json_object_object_add(row, "Tags", NULL);
		json_add_int(row, "Size", !is_empty && li < n_sizes ? sizes[li] : 0);
		if (!is_empty)
			li++;
		json_add_str(row, "Comment", cfg_str(h, "comment"));
		rows[k] = row;
	}
	if (n == 0) {
		json_object *row = json_object_new_object();
		json_add_str(row, "Id", "<missing>");
		json_add_int(row, "Created", i->created);
		json_add_str(row, "CreatedBy", "");
		json_object_object_add(row, "Tags", NULL);
		json_add_int(row, "Size", i->size);
		json_add_str(row, "Comment", "");
		rows[n++] = row;
	}
	/* newest first; the top row is the image itself */
	out = json_object_new_array();
	for (size_t k = n; k > 0; k--) {
		if (k == n) {
			json_add_str(rows[k - 1], "Id", i->id);
			json_object_object_add(rows[k - 1], "Tags", json_strv_new(i->repo_tags));
		}
		json_object_array_add(out, rows[k - 1]);
	}
	free(rows);
	*ret = out;
	return 0;
}

static int prune_layers_locked(struct image_store *s, json_object *items, int64_t *reclaimed,
			       struct error **err)
{
	_cleanup_strv_free_ char **gone = NULL;
	int r;

	r = sql_exec(s, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	if (layers_drop_unused_locked(s, NULL, &gone, reclaimed) < 0) {
		r = error_setx(err, -EIO, "prune layers: %s", sqlite3_errmsg(s->db));
		sql_exec(s, "ROLLBACK", NULL);
		return r;
	}
	r = sql_exec(s, "COMMIT", err);
	if (r < 0) {
		sql_exec(s, "ROLLBACK", NULL);
		return r;
	}
	layers_remove_data(s, gone);
	for (char **c = gone; *c; c++) {
		json_object *o = json_object_new_object();
		json_add_str(o, "Deleted", *c);
		json_object_array_add(items, o);
	}
	return 0;
}

int image_prune(struct image_store *s, json_object *filters, image_in_use_cb in_use, void *ud,
		json_object **ret, struct error **err)
{
	static const char *const allowed[] = {"dangling", "label", "label!", "until", NULL};
	_cleanup_strv_free_ char **dangling = filter_values(filters, "dangling"),
				 **labels = filter_values(filters, "label"),
				 **nlabels = filter_values(filters, "label!"),
				 **until = filter_values(filters, "until");
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_json_ json_object *items = json_object_new_array();
	struct image_info **l = NULL;
	int64_t reclaimed = 0, until_t = INT64_MAX;
	size_t n = 0;
	int want_dangling, r;

	r = json_filters_check(filters, allowed, err);
	if (r < 0)
		return r;
	r = parse_bool_filter(dangling, "dangling", &want_dangling, err);
	if (r < 0)
		return r;
	if (until && until[0]) {
		int64_t ns;
		if (parse_timestamp(until[0], &ns) < 0)
			return error_setx(err, -EINVAL,
					  "failed to parse value as time or duration: \"%s\"",
					  until[0]);
		until_t = ns / 1000000000LL;
	}
	store_lock(s);
	r = load_all_locked(s, &l, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		bool is_dangling = !l[i]->repo_tags[0] && !l[i]->repo_digests[0];
		_cleanup_free_ char *ctr = NULL;
		bool running = false;

		if (want_dangling != 0 && !is_dangling)
			continue;
		if (labels && !labels_match(l[i]->config, labels))
			continue;
		if (nlabels && nlabels[0] && labels_match(l[i]->config, nlabels))
			continue;
		if (l[i]->created >= until_t)
			continue;
		if (in_use) {
			r = in_use(l[i]->id, ud, &ctr, &running);
			if (r != 0)
				continue;
		}
		r = image_delete_locked(s, l[i]->id, items, &reclaimed, err);
		if (r < 0) {
			free_all(l, n);
			return r;
		}
	}
	free_all(l, n);
	/* layers no image, container or running pull uses (a pull that failed or was killed
	 * left them for the next one to reuse); they carry no labels: a label filter keeps them */
	if (!labels && !(nlabels && nlabels[0])) {
		r = prune_layers_locked(s, items, &reclaimed, err);
		if (r < 0)
			return r;
	}
	*ret = json_object_new_object();
	json_object_object_add(*ret, "ImagesDeleted",
			       json_object_array_length(items) ? json_object_get(items) : NULL);
	json_add_int(*ret, "SpaceReclaimed", reclaimed);
	return 0;
}

int image_disk_usage_json(struct image_store *s, json_object **ret, struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	struct image_info **l = NULL;
	json_object *images, *o;
	sqlite3_stmt *st = NULL;
	int64_t total = 0;
	size_t n = 0;
	int r;

	store_lock(s);
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(size),0) FROM image_layers", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	r = load_all_locked(s, &l, &n, err);
	if (r < 0)
		return r;
	qsort(l, n, sizeof(*l), cmp_created);
	images = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		int64_t shared = 0;
		st = NULL;
		if (sqlite3_prepare_v2(
			s->db,
			"SELECT coalesce(sum(l.size),0) FROM image_image_layers il JOIN "
			"image_layers l ON l.chain_id=il.chain_id WHERE il.image_id=?1 "
			"AND (SELECT count(DISTINCT image_id) FROM image_image_layers "
			"x WHERE x.chain_id=il.chain_id) > 1",
			-1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, l[i]->id, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				shared = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		json_object_array_add(images, summary(l[i], shared));
	}
	free_all(l, n);
	o = json_object_new_object();
	json_add_int(o, "LayersSize", total);
	json_object_object_add(o, "Images", images);
	*ret = o;
	return 0;
}
