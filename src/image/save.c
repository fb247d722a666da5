/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `docker save`: one tar holding both formats Docker 25+ writes: an OCI image layout
 * (oci-layout, index.json, blobs/sha256/...) and the docker-archive manifest.json plus
 * repositories, whose paths point into the same blobs.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

struct saver {
	struct image_store *s;
	struct archive *a;
	int out_fd;
	char **written; /* digests already in blobs/ */
	char buf[64 * 1024];
};

static la_ssize_t out_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct saver *sv = ud;
	if (loop_write(sv->out_fd, buf, n) < 0) {
		archive_set_error(a, errno, "write: %s", strerror(errno));
		return -1;
	}
	return (la_ssize_t)n;
}

static int put_entry(struct saver *sv, const char *name, mode_t type, int64_t size,
		     struct error **err)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
	archive_entry_set_mtime(e, 0, 0);
	r = archive_write_header(sv->a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return error_setx(err, -EIO, "write archive: %s", archive_error_string(sv->a));
	return 0;
}

static int put_buf(struct saver *sv, const char *name, const char *data, size_t len,
		   struct error **err)
{
	int r = put_entry(sv, name, AE_IFREG, (int64_t)len, err);
	if (r < 0)
		return r;
	if (len && archive_write_data(sv->a, data, len) != (la_ssize_t)len)
		return error_setx(err, -EIO, "write archive: %s", archive_error_string(sv->a));
	return 0;
}

static int put_blob_buf(struct saver *sv, const char *digest, const char *data, size_t len,
			struct error **err)
{
	_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest + 7);
	if (strv_contains(sv->written, digest))
		return 0;
	sv->written = strv_append(sv->written, digest);
	return put_buf(sv, name, data, len, err);
}

static int put_blob_fd(struct saver *sv, const char *digest, int fd, struct error **err)
{
	_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest + 7);
	struct stat st;
	int r;

	if (strv_contains(sv->written, digest))
		return 0;
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return error_set(err, -errno, "read layer");
	sv->written = strv_append(sv->written, digest);
	r = put_entry(sv, name, AE_IFREG, st.st_size, err);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = read(fd, sv->buf, sizeof(sv->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, -errno, "read layer");
		if (n == 0)
			break;
		if (archive_write_data(sv->a, sv->buf, n) != n)
			return error_setx(err, -EIO, "write archive: %s",
					  archive_error_string(sv->a));
	}
	return 0;
}

static json_object *descriptor(const char *mt, const char *digest, int64_t size)
{
	json_object *d = json_object_new_object();
	json_add_str(d, "mediaType", mt);
	json_add_str(d, "digest", digest);
	json_add_int(d, "size", size);
	return d;
}

static const char *plain(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Write one image's blobs; returns its manifest descriptor and manifest.json entry. */
static int save_image(struct saver *sv, struct image_info *info, char *const *tags,
		      json_object *index, json_object *mjson, json_object *repos,
		      struct error **err)
{
	_cleanup_json_ json_object *manifest = json_object_new_object();
	_cleanup_free_ char *cfgd = NULL, *mand = NULL;
	json_object *layers = json_object_new_array(), *paths = json_object_new_array(), *rootfs,
		    *ids = NULL, *entry, *rt;
	bool changed = false;
	const char *js;
	int r;

	json_add_int(manifest, "schemaVersion", 2);
	json_add_str(manifest, "mediaType", MT_MANIFEST);
	json_object_object_add(manifest, "layers", layers);
	if (json_object_object_get_ex(info->config, "rootfs", &rootfs))
		json_object_object_get_ex(rootfs, "diff_ids", &ids);

	for (size_t i = 0; i < info->n_layers; i++) {
		_cleanup_close_ int tfd = -EBADF;
		_cleanup_free_ char *d = NULL, *p = NULL;
		struct stat st;
		json_object *old = ids ? json_object_array_get_idx(ids, i) : NULL;

		tfd = ingest_tmpfile(sv->s, NULL);
		if (tfd < 0)
			return error_set(err, tfd, "create temp file");
		r = image_layer_tar(info, i, tfd, &d, err);
		if (r < 0)
			return r;
		if (!old || !streq_ptr(json_object_get_string(old), d)) {
			/* a layer we cannot re-make byte for byte: record what we write */
			if (ids)
				json_object_array_put_idx(ids, i, json_object_new_string(d));
			changed = true;
		}
		r = put_blob_fd(sv, d, tfd, err);
		if (r < 0)
			return r;
		if (fstat(tfd, &st) < 0)
			return error_set(err, -errno, "stat layer");
		json_object_array_add(layers, descriptor(MT_LAYER, d, st.st_size));
		p = xasprintf("blobs/sha256/%s", d + 7);
		json_object_array_add(paths, json_object_new_string(p));
	}
	(void)changed;
	{
		/* the config as stored, unless a diff id had to change */
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (!changed) {
			r = blob_read(sv->s, info->id, &buf, &len, err);
			if (r < 0)
				return r;
		} else {
			const char *c = plain(info->config);
			buf = xstrdup(c);
			len = strlen(c);
		}
		cfgd = digest_buf(buf, len);
		r = put_blob_buf(sv, cfgd, buf, len, err);
		if (r < 0)
			return r;
		json_object_object_add(manifest, "config", descriptor(MT_CONFIG, cfgd, len));
	}
	js = plain(manifest);
	mand = digest_buf(js, strlen(js));
	r = put_blob_buf(sv, mand, js, strlen(js), err);
	if (r < 0)
		return r;

	entry = json_object_new_object();
	{
		_cleanup_free_ char *cp = xasprintf("blobs/sha256/%s", cfgd + 7);
		json_add_str(entry, "Config", cp);
	}
	rt = json_object_new_array();
	json_object_object_add(entry, "RepoTags", rt);
	json_object_object_add(entry, "Layers", paths);
	json_object_array_add(mjson, entry);

	if (!tags || !tags[0])
		json_object_array_add(index, descriptor(MT_MANIFEST, mand, strlen(js)));
	for (char *const *t = tags; t && *t; t++) {
		_cleanup_free_ char *f = ref_familiar(*t), *name = NULL, *tag = NULL, *fn = NULL;
		json_object *d = descriptor(MT_MANIFEST, mand, strlen(js)), *ann;
		json_object *repo;

		ann = json_object_new_object();
		json_add_str(ann, "io.containerd.image.name", *t);
		ref_split(*t, &name, &tag, NULL);
		json_add_str(ann, "org.opencontainers.image.ref.name", tag ? tag : "latest");
		json_object_object_add(d, "annotations", ann);
		json_object_array_add(index, d);
		json_object_array_add(rt, json_object_new_string(f));
		fn = ref_familiar(name);
		if (!json_object_object_get_ex(repos, fn, &repo)) {
			repo = json_object_new_object();
			json_object_object_add(repos, fn, repo);
		}
		json_add_str(repo, tag ? tag : "latest", cfgd + 7);
	}
	return 0;
}

int image_save(struct image_store *s, char *const *refs, int out_fd, struct error **err)
{
	_cleanup_json_ json_object *index = json_object_new_object(),
				   *mjson = json_object_new_array(),
				   *repos = json_object_new_object();
	json_object *manifests = json_object_new_array();
	_cleanup_strv_free_ char **ids = xnew0(char *, 1);
	char ***tags = NULL;
	struct saver *sv = xnew0(struct saver, 1);
	size_t n = 0;
	int r = 0;

	sv->s = s;
	sv->out_fd = out_fd;
	sv->written = xnew0(char *, 1);
	json_add_int(index, "schemaVersion", 2);
	json_add_str(index, "mediaType", "application/vnd.oci.image.index.v1+json");
	json_object_object_add(index, "manifests", manifests);

	/* resolve every name first: a bad one fails before anything is written */
	store_lock(s);
	for (char *const *p = refs; p && *p; p++) {
		_cleanup_free_ char *id = NULL, *norm = NULL;
		size_t k;
		r = resolve_locked(s, *p, &id, &norm, err);
		if (r < 0)
			break;
		for (k = 0; k < n && !streq(ids[k], id); k++)
			;
		if (k == n) {
			ids = strv_append(ids, id);
			tags = xrealloc(tags, (n + 1) * sizeof(char **));
			tags[n++] = xnew0(char *, 1);
		}
		if (norm && !strchr(norm, '@') && !strv_contains(tags[k], norm))
			tags[k] = strv_append(tags[k], norm);
	}
	store_unlock(s);
	if (r >= 0 && n == 0)
		r = error_setx(err, -EINVAL, "no images specified");
	if (r < 0)
		goto out;

	sv->a = archive_write_new();
	archive_write_set_format_pax_restricted(sv->a);
	if (archive_write_open(sv->a, sv, NULL, out_write, NULL) != ARCHIVE_OK) {
		r = error_setx(err, -EIO, "write archive: %s", archive_error_string(sv->a));
		goto out;
	}
	if ((r = put_entry(sv, "blobs/", AE_IFDIR, 0, err)) < 0 ||
	    (r = put_entry(sv, "blobs/sha256/", AE_IFDIR, 0, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(image_info_freep) struct image_info *info = NULL;
		store_lock(s);
		r = info_load_locked(s, ids[i], &info, err);
		store_unlock(s);
		if (r < 0)
			goto out;
		r = save_image(sv, info, tags[i], manifests, mjson, repos, err);
		if (r < 0)
			goto out;
	}
	{
		const char *js = plain(index);
		if ((r = put_buf(sv, "index.json", js, strlen(js), err)) < 0)
			goto out;
		js = plain(mjson);
		if ((r = put_buf(sv, "manifest.json", js, strlen(js), err)) < 0)
			goto out;
		js = "{\"imageLayoutVersion\":\"1.0.0\"}";
		if ((r = put_buf(sv, "oci-layout", js, strlen(js), err)) < 0)
			goto out;
		js = plain(repos);
		if ((r = put_buf(sv, "repositories", js, strlen(js), err)) < 0)
			goto out;
	}
	if (archive_write_close(sv->a) != ARCHIVE_OK)
		r = error_setx(err, -EIO, "write archive: %s", archive_error_string(sv->a));
out:
	if (sv->a)
		archive_write_free(sv->a);
	strv_free(sv->written);
	free(sv);
	for (size_t i = 0; i < n; i++)
		strv_free(tags[i]);
	free(tags);
	return r;
}
