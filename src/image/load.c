/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `docker load` (docker-archive and OCI image layout) and `docker import`.
 *
 * The archive is first spooled into a temp dir under content/ingest (members may come in
 * any order), then every image in it is verified and unpacked into temp layer dirs, and
 * only then committed (layers renamed into place, one transaction).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

struct spool {
	struct image_store *s;
	char *name; /* under content/ingest */
	int fd;
};

static void spool_release(struct spool *sp)
{
	closep(&sp->fd);
	if (sp->name)
		rm_rf_at(sp->s->ingest_fd, sp->name);
	free(sp->name);
}

static int spool_open(struct image_store *s, int fd, struct spool *sp, struct error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/content/ingest/load-XXXXXX", s->root);
	int r;

	sp->s = s;
	sp->fd = -EBADF;
	if (!mkdtemp(path))
		return error_set(err, -errno, "create spool dir");
	sp->name = xstrdup(strrchr(path, '/') + 1);
	sp->fd = openat(s->ingest_fd, sp->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sp->fd < 0)
		return error_set(err, -errno, "open spool dir");
	r = image_untar(fd, sp->fd, s->layer_limit, NULL, NULL, err);
	if (r < 0)
		return error_prefix(err, r, "read archive");
	return 0;
}

/* Read a small member (manifest, index, config) inside the spool. */
static int read_member(int root_fd, const char *path, char **ret, size_t *ret_len,
		       struct error **err)
{
	_cleanup_close_ int fd = open_in_root(root_fd, path, O_RDONLY | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return error_set(err, fd, "open \"%s\" in archive", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return error_setx(err, -EINVAL, "invalid archive: \"%s\" is not a file", path);
	if ((uint64_t)st.st_size > IMAGE_JSON_MAX)
		return error_setx(err, -EFBIG, "\"%s\" is too large", path);
	{
		char *buf = xmalloc(st.st_size + 1);
		ssize_t n = pread(fd, buf, st.st_size, 0);
		if (n != st.st_size) {
			free(buf);
			return error_set(err, n < 0 ? -errno : -EIO, "read \"%s\"", path);
		}
		buf[n] = 0;
		*ret = buf;
		*ret_len = n;
	}
	return 0;
}

/* sha256 of a member (for blobs named by digest) */
static int hash_fd(int fd, char **ret)
{
	struct digest md;
	char buf[65536];
	ssize_t n;

	digest_init(&md);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		digest_update(&md, buf, n);
	}
	*ret = digest_final(&md);
	return 0;
}

static json_object *progress_msg(const char *status, const char *id)
{
	json_object *o = json_object_new_object();
	json_add_str(o, "status", status);
	if (id)
		json_add_str(o, "id", id);
	return o;
}

static void progress(image_progress_cb cb, void *ud, const char *status, const char *id)
{
	json_object *o;
	if (!cb)
		return;
	o = progress_msg(status, id);
	cb(ud, o);
	json_object_put(o);
}

/*
 * Verify and unpack the layers of one image and commit it. layer_paths are members of the
 * spool; expect_digests (may be NULL, or NULL entries) are the descriptors' blob digests.
 */
static int load_one(struct image_store *s, int spool_fd, const char *config_path,
		    const char *expect_config, char *const *layer_paths,
		    char *const *expect_digests, char *const *tags, image_progress_cb cb, void *ud,
		    char **ret_id, struct error **err)
{
	_cleanup_free_ char *cfg = NULL, *id = NULL;
	_cleanup_json_ json_object *cfgj = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	struct new_layer *layers = NULL;
	size_t len = 0, n, i;
	int r;

	r = read_member(spool_fd, config_path, &cfg, &len, err);
	if (r < 0)
		return r;
	id = digest_buf(cfg, len);
	if (expect_config && !streq(id, expect_config))
		return error_setx(err, -EINVAL, "config verification failed for digest %s",
				  expect_config);
	r = parse_json_limited(cfg, len, &cfgj, "image config", err);
	if (r < 0)
		return r;
	r = config_diff_ids(cfgj, &diff_ids, err);
	if (r < 0)
		return r;
	n = strv_length(diff_ids);
	if (strv_length(layer_paths) != n)
		return error_setx(err, -EINVAL,
				  "layers from manifest don't match image configuration");

	layers = xnew0(struct new_layer, n ? n : 1);
	for (i = 0; i < n; i++) {
		_cleanup_close_ int fd = -EBADF;
		_cleanup_free_ char *diff = NULL, *short_id = NULL;
		bool have;

		layers[i].chain = chain_id(i ? layers[i - 1].chain : NULL, diff_ids[i]);
		layers[i].diff_id = xstrdup(diff_ids[i]);
		short_id = xstrndup(diff_ids[i] + 7, 12);
		fd = open_in_root(spool_fd, layer_paths[i], O_RDONLY | O_NOFOLLOW);
		if (fd < 0) {
			r = error_set(err, fd, "open layer \"%s\"", layer_paths[i]);
			goto fail;
		}
		/* a blob named by digest is verified even when its layer is here already */
		if (expect_digests && expect_digests[i]) {
			_cleanup_free_ char *d = NULL;
			r = hash_fd(fd, &d);
			if (r < 0) {
				r = error_set(err, r, "read layer \"%s\"", layer_paths[i]);
				goto fail;
			}
			if (!streq(d, expect_digests[i])) {
				r = error_setx(err, -EINVAL,
					       "filesystem layer verification failed for digest %s",
					       expect_digests[i]);
				goto fail;
			}
			if (lseek(fd, 0, SEEK_SET) < 0) {
				r = error_set(err, -errno, "read layer");
				goto fail;
			}
		}
		store_lock(s);
		have = layer_exists_locked(s, layers[i].chain);
		store_unlock(s);
		if (have) {
			progress(cb, ud, "Layer already exists", short_id);
			continue;
		}
		progress(cb, ud, "Loading layer", short_id);
		r = layer_unpack_tmp(s, fd, &layers[i].tmpdir, &layers[i].size, &diff, err);
		if (r < 0) {
			r = error_prefix(err, r, "load layer \"%s\"", layer_paths[i]);
			goto fail;
		}
		if (!streq(diff, diff_ids[i])) {
			r = error_setx(err, -EINVAL,
				       "layers from manifest don't match image configuration");
			goto fail;
		}
	}
	/* sizes of layers we already had */
	store_lock(s);
	for (i = 0; i < n; i++)
		if (!layers[i].tmpdir) {
			sqlite3_stmt *st = NULL;
			if (sqlite3_prepare_v2(s->db,
					       "SELECT size FROM image_layers WHERE chain_id=?", -1,
					       &st, NULL) == SQLITE_OK) {
				sqlite3_bind_text(st, 1, layers[i].chain, -1, SQLITE_TRANSIENT);
				if (sqlite3_step(st) == SQLITE_ROW)
					layers[i].size = sqlite3_column_int64(st, 0);
			}
			sqlite3_finalize(st);
		}
	store_unlock(s);

	r = blob_put(s, cfg, len, id, NULL, err);
	if (r >= 0)
		r = image_commit(s, id, cfg, len, layers, n, tags, err);
	if (r < 0)
		goto fail;
	new_layers_free(layers, n);
	*ret_id = TAKE_PTR(id);
	return 0;
fail:
	for (i = 0; i < n; i++)
		if (layers[i].tmpdir)
			rm_rf_at(s->layers_fd, layers[i].tmpdir);
	new_layers_free(layers, n);
	return r;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static int normalize_tags(json_object *arr, char ***ret, struct error **err)
{
	_cleanup_strv_free_ char **l = xnew0(char *, 1);
	size_t n =
	    arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(arr, i));
		_cleanup_free_ char *norm = NULL;
		int r;
		if (!t)
			continue;
		r = ref_normalize(t, &norm, err);
		if (r < 0)
			return error_prefix(err, r, "invalid tag \"%s\" in manifest.json", t);
		if (strchr(norm, '@'))
			continue;
		l = strv_append(l, norm);
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* The ids the tags name before a load ("" for none), to tell which ones move. */
static char **tag_owners(struct image_store *s, char *const *tags)
{
	char **owners = xnew0(char *, 1);
	for (char *const *t = tags; t && *t; t++) {
		_cleanup_(image_info_freep) struct image_info *old = NULL;
		owners = strv_append(owners, image_lookup(s, *t, &old, NULL) >= 0 ? old->id : "");
	}
	return owners;
}

static void add_loaded(char ***loaded, const char *id, char *const *tags, char *const *owners)
{
	/* dockerd's line when a tag moves to the loaded image */
	for (size_t i = 0; tags && tags[i] && owners && owners[i]; i++)
		if (*owners[i] && !streq(owners[i], id)) {
			_cleanup_free_ char *f = ref_familiar(tags[i]);
			_cleanup_free_ char *line = xasprintf(
			    "The image %s already exists, renaming the old one with ID %s to empty "
			    "string",
			    f, owners[i]);
			*loaded = strv_append(*loaded, line);
		}
	if (!tags || !*tags) {
		_cleanup_free_ char *line = xasprintf("Loaded image ID: %s", id);
		*loaded = strv_append(*loaded, line);
		return;
	}
	for (char *const *t = tags; *t; t++) {
		_cleanup_free_ char *f = ref_familiar(*t);
		_cleanup_free_ char *line = xasprintf("Loaded image: %s", f);
		*loaded = strv_append(*loaded, line);
	}
}

static int load_docker(struct image_store *s, int spool_fd, image_progress_cb cb, void *ud,
		       char ***loaded, struct error **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ json_object *m = NULL;
	size_t len = 0, n;
	int r;

	r = read_member(spool_fd, "manifest.json", &buf, &len, err);
	if (r < 0)
		return r;
	if (len > IMAGE_JSON_MAX)
		return error_setx(err, -EFBIG, "manifest.json is too large");
	r = json_parse_buffer(buf, len, &m, err);
	if (r < 0)
		return error_prefix(err, r, "invalid manifest.json");
	if (!json_object_is_type(m, json_type_array))
		return error_setx(err, -EINVAL, "invalid manifest.json: not a list");
	n = json_object_array_length(m);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(m, i), *jl = NULL, *jt = NULL;
		const char *config = jstr(e, "Config");
		_cleanup_strv_free_ char **paths = xnew0(char *, 1), **digests = NULL,
					 **tags = NULL, **owners = NULL;
		_cleanup_free_ char *expect = NULL, *id = NULL;
		size_t nl;

		if (!config)
			return error_setx(err, -EINVAL, "invalid manifest.json: no Config");
		if (startswith(config, "blobs/sha256/")) {
			expect = xasprintf("sha256:%s", config + strlen("blobs/sha256/"));
			if (!digest_valid(expect))
				return error_setx(err, -EINVAL, "invalid digest in \"%s\"", config);
		}
		json_object_object_get_ex(e, "Layers", &jl);
		nl = jl && json_object_is_type(jl, json_type_array) ? json_object_array_length(jl)
								    : 0;
		digests = xnew0(char *, nl + 1);
		for (size_t k = 0; k < nl; k++) {
			const char *p = json_object_get_string(json_object_array_get_idx(jl, k));
			const char *h;
			if (!p)
				return error_setx(err, -EINVAL, "invalid manifest.json: Layers");
			paths = strv_append(paths, p);
			h = startswith(p, "blobs/sha256/");
			if (h) {
				digests[k] = xasprintf("sha256:%s", h);
				if (!digest_valid(digests[k]))
					return error_setx(err, -EINVAL, "invalid digest in \"%s\"",
							  p);
			}
		}
		json_object_object_get_ex(e, "RepoTags", &jt);
		r = normalize_tags(jt, &tags, err);
		if (r < 0)
			return r;
		owners = tag_owners(s, tags);
		/* digests[] has holes: pass a dense view only when every layer has one */
		r = load_one(s, spool_fd, config, expect, paths, digests, tags, cb, ud, &id, err);
		for (size_t k = 0; k < nl; k++)
			free(digests[k]), digests[k] = NULL;
		if (r < 0)
			return r;
		add_loaded(loaded, id, tags, owners);
	}
	return 0;
}

static int read_blob_json(int spool_fd, const char *digest, int64_t size, json_object **ret,
			  struct error **err)
{
	_cleanup_free_ char *path = NULL, *buf = NULL, *d = NULL;
	size_t len = 0;
	int r;

	if (!digest_valid(digest))
		return error_setx(err, -EINVAL, "invalid digest \"%s\"", digest ? digest : "");
	path = xasprintf("blobs/sha256/%s", digest + 7);
	r = read_member(spool_fd, path, &buf, &len, err);
	if (r < 0)
		return r;
	d = digest_buf(buf, len);
	if (!streq(d, digest) || (size >= 0 && (size_t)size != len))
		return error_setx(err, -EINVAL, "manifest verification failed for digest %s",
				  digest);
	return parse_json_limited(buf, len, ret, "manifest", err);
}

static int64_t jsize(json_object *desc)
{
	json_object *v;
	if (json_object_object_get_ex(desc, "size", &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return -1;
}

/* One OCI manifest (or index: the first linux manifest for our architecture). */
static int load_oci_desc(struct image_store *s, int spool_fd, json_object *desc, char **tags,
			 image_progress_cb cb, void *ud, char ***loaded, int depth,
			 struct error **err)
{
	_cleanup_json_ json_object *m = NULL;
	json_object *cfg, *layers, *manifests;
	_cleanup_strv_free_ char **paths = xnew0(char *, 1), **digests = xnew0(char *, 1),
				 **owners = NULL;
	_cleanup_free_ char *id = NULL, *cfgpath = NULL;
	const char *cfgd;
	int r;

	if (depth > 4)
		return error_setx(err, -EINVAL, "invalid archive: indexes nested too deep");
	r = read_blob_json(spool_fd, jstr(desc, "digest"), jsize(desc), &m, err);
	if (r < 0)
		return r;
	bool has_m = json_object_object_get_ex(m, "manifests", &manifests);
	bool has_l = json_object_object_get_ex(m, "layers", &layers);
	if (has_m && has_l)
		return error_setx(err, -EINVAL,
				  "invalid manifest: both \"manifests\" and \"layers\"");
	if (has_m) {
		const char *arch =
#if defined(__x86_64__)
		    "amd64";
#elif defined(__aarch64__)
		    "arm64";
#else
		    "";
#endif
		json_object *pick = NULL;
		size_t n = json_object_is_type(manifests, json_type_array)
			       ? json_object_array_length(manifests)
			       : 0;
		for (size_t i = 0; i < n && !pick; i++) {
			json_object *d = json_object_array_get_idx(manifests, i), *p = NULL;
			json_object_object_get_ex(d, "platform", &p);
			if (!p || (streq_ptr(jstr(p, "os"), "linux") &&
				   streq_ptr(jstr(p, "architecture"), arch)))
				pick = d;
		}
		if (!pick && n == 1)
			pick = json_object_array_get_idx(manifests, 0);
		if (!pick)
			return error_setx(err, -ENOENT,
					  "no matching manifest for linux/%s in the manifest list "
					  "entries",
					  arch);
		return load_oci_desc(s, spool_fd, pick, tags, cb, ud, loaded, depth + 1, err);
	}
	if (!json_object_object_get_ex(m, "config", &cfg) ||
	    !json_object_is_type(cfg, json_type_object))
		return error_setx(err, -EINVAL, "invalid manifest: no config");
	cfgd = jstr(cfg, "digest");
	if (!digest_valid(cfgd))
		return error_setx(err, -EINVAL, "invalid manifest: bad config digest");
	cfgpath = xasprintf("blobs/sha256/%s", cfgd + 7);
	size_t n = has_l && json_object_is_type(layers, json_type_array)
		       ? json_object_array_length(layers)
		       : 0;
	for (size_t i = 0; i < n; i++) {
		const char *d = jstr(json_object_array_get_idx(layers, i), "digest");
		_cleanup_free_ char *p = NULL;
		if (!digest_valid(d))
			return error_setx(err, -EINVAL, "invalid manifest: bad layer digest");
		p = xasprintf("blobs/sha256/%s", d + 7);
		paths = strv_append(paths, p);
		digests = strv_append(digests, d);
	}
	owners = tag_owners(s, tags);
	r = load_one(s, spool_fd, cfgpath, cfgd, paths, digests, tags, cb, ud, &id, err);
	if (r < 0)
		return r;
	add_loaded(loaded, id, tags, owners);
	return 0;
}

static int load_oci(struct image_store *s, int spool_fd, image_progress_cb cb, void *ud,
		    char ***loaded, struct error **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ json_object *idx = NULL;
	json_object *manifests;
	size_t len = 0, n;
	int r;

	r = read_member(spool_fd, "index.json", &buf, &len, err);
	if (r < 0)
		return r;
	r = parse_json_limited(buf, len, &idx, "index.json", err);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(idx, "manifests", &manifests) ||
	    !json_object_is_type(manifests, json_type_array))
		return error_setx(err, -EINVAL, "invalid index.json: no manifests");
	n = json_object_array_length(manifests);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(manifests, i), *ann = NULL;
		_cleanup_strv_free_ char **tags = xnew0(char *, 1);
		const char *name = NULL;
		_cleanup_free_ char *norm = NULL;

		json_object_object_get_ex(d, "annotations", &ann);
		name = jstr(ann, "io.containerd.image.name");
		if (!name) {
			name = jstr(ann, "org.opencontainers.image.ref.name");
			/* a bare tag names no repository */
			if (name && !strchr(name, '/') && !strchr(name, ':'))
				name = NULL;
		}
		if (name && ref_normalize(name, &norm, NULL) >= 0 && !strchr(norm, '@'))
			tags = strv_append(tags, norm);
		r = load_oci_desc(s, spool_fd, d, tags, cb, ud, loaded, 0, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int image_load(struct image_store *s, int fd, image_progress_cb cb, void *ud, char ***ret_loaded,
	       struct error **err)
{
	_cleanup_(spool_release) struct spool sp = {.fd = -EBADF};
	_cleanup_strv_free_ char **loaded = xnew0(char *, 1);
	struct stat st;
	int r;

	r = spool_open(s, fd, &sp, err);
	if (r < 0)
		return r;
	if (fstatat(sp.fd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0)
		r = load_docker(s, sp.fd, cb, ud, &loaded, err);
	else if (fstatat(sp.fd, "index.json", &st, AT_SYMLINK_NOFOLLOW) == 0)
		r = load_oci(s, sp.fd, cb, ud, &loaded, err);
	else
		r = error_setx(err, -EINVAL,
			       "invalid archive: no manifest.json or index.json (is it an image "
			       "archive?)");
	if (r < 0)
		return r;
	if (ret_loaded)
		*ret_loaded = TAKE_PTR(loaded);
	return 0;
}

int image_import(struct image_store *s, int fd, const char *ref_or_null,
		 json_object *changes_or_null, const char *message_or_null, char **ret_id,
		 struct error **err)
{
	_cleanup_free_ char *tmp = NULL, *diff = NULL, *canon = NULL, *norm = NULL, *id = NULL,
			    *created = NULL, *layer_path = NULL;
	_cleanup_json_ json_object *cfg = json_object_new_object();
	_cleanup_close_ int dfd = -EBADF;
	struct new_layer *layer = NULL;
	char *tags[2] = {NULL, NULL};
	const char *js;
	uint64_t size = 0;
	struct timespec ts;
	int r;

	if (ref_or_null && *ref_or_null) {
		r = ref_normalize(ref_or_null, &norm, err);
		if (r < 0)
			return r;
		if (strchr(norm, '@'))
			return error_setx(err, -EINVAL,
					  "refusing to create a tag with a digest reference");
		tags[0] = norm;
	}
	json_object *c = json_object_new_object();
	r = config_apply_changes(c, changes_or_null, err);
	if (r < 0) {
		json_object_put(c);
		return r;
	}
	r = layer_unpack_tmp(s, fd, &tmp, &size, &diff, err);
	if (r < 0) {
		json_object_put(c);
		return r;
	}
	/* The layer's diff id is that of the tar we would write for it, so `save` re-makes it
	 * byte for byte and the image keeps its id; the input tar's layout is of no use. */
	{
		_cleanup_free_ char *sp = xasprintf("%s/" TAR_SPLIT, tmp);
		(void)unlinkat(s->layers_fd, sp, 0);
	}
	layer_path = xasprintf("%s/diff", tmp);
	dfd = openat(s->layers_fd, layer_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		r = error_set(err, -errno, "open layer");
	else
		r = image_tar_layer(dfd, -1, &canon, err);
	if (r < 0) {
		json_object_put(c);
		rm_rf_at(s->layers_fd, tmp);
		return r;
	}

	clock_gettime(CLOCK_REALTIME, &ts);
	created = format_rfc3339(&ts);
	json_add_str(cfg, "architecture",
#if defined(__x86_64__)
		     "amd64"
#elif defined(__aarch64__)
		     "arm64"
#else
		     "unknown"
#endif
	);
	json_object_object_add(cfg, "config", c);
	json_add_str(cfg, "created", created);
	json_object *hist = json_object_new_array(), *h = json_object_new_object();
	json_add_str(h, "created", created);
	json_add_str(h, "created_by", "");
	if (message_or_null && *message_or_null)
		json_add_str(h, "comment", message_or_null);
	json_object_array_add(hist, h);
	json_object_object_add(cfg, "history", hist);
	if (message_or_null && *message_or_null)
		json_add_str(cfg, "comment", message_or_null);
	json_add_str(cfg, "os", "linux");
	json_object *rootfs = json_object_new_object(), *ids = json_object_new_array();
	json_add_str(rootfs, "type", "layers");
	json_object_array_add(ids, json_object_new_string(canon));
	json_object_object_add(rootfs, "diff_ids", ids);
	json_object_object_add(cfg, "rootfs", rootfs);
	js = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);

	layer = xnew0(struct new_layer, 1);
	layer->chain = xstrdup(canon);
	layer->diff_id = xstrdup(canon);
	layer->size = size;
	layer->tmpdir = TAKE_PTR(tmp);
	r = blob_put(s, js, strlen(js), NULL, &id, err);
	if (r >= 0)
		r = image_commit(s, id, js, strlen(js), layer, 1, tags, err);
	if (r < 0) {
		if (layer->tmpdir)
			rm_rf_at(s->layers_fd, layer->tmpdir);
		new_layers_free(layer, 1);
		return r;
	}
	new_layers_free(layer, 1);
	if (ret_id)
		*ret_id = TAKE_PTR(id);
	return 0;
}
