/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the registry module needs from the store: layers unpacked from a stream into temp
 * dirs, and the commit of a pulled image once the registry side has verified every blob.
 * The checks that bind the layers to the config (diff ids, their number) are made here
 * again, so no caller can commit an image whose layers its config does not name.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

bool image_digest_valid(const char *digest)
{
	return digest_valid(digest);
}

char *image_chain_id(const char *parent_chain, const char *diff_id)
{
	return chain_id(parent_chain, diff_id);
}

static bool layer_size_locked(struct image_store *s, const char *chain, uint64_t *ret_size)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(s->db, "SELECT size FROM image_layers WHERE chain_id=?", -1, &st,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, chain, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = true;
		if (ret_size)
			*ret_size = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return found;
}

bool image_layer_exists(struct image_store *s, const char *chain, uint64_t *ret_size)
{
	bool found;

	if (!digest_valid(chain))
		return false;
	store_lock(s);
	found = layer_size_locked(s, chain, ret_size);
	store_unlock(s);
	return found;
}

int image_layer_unpack(struct image_store *s, int in_fd, char **ret_tmp, uint64_t *ret_size,
		       char **ret_diff_id, struct error **err)
{
	return layer_unpack_tmp(s, in_fd, ret_tmp, ret_size, ret_diff_id, err);
}

void image_layer_discard(struct image_store *s, const char *tmp)
{
	/* only our own temp names: never a committed layer */
	if (tmp && startswith(tmp, "tmp-") && !strchr(tmp, '/'))
		rm_rf_at_fd(s->layers_fd, tmp);
}

static void pulled_discard(struct image_store *s, struct image_pulled_layer *layers, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (layers[i].tmp) {
			image_layer_discard(s, layers[i].tmp);
			free(layers[i].tmp);
			layers[i].tmp = NULL;
		}
}

int image_commit_pulled(struct image_store *s, const char *config, size_t config_len,
			const char *config_digest, struct image_pulled_layer *layers,
			size_t n_layers, char *const *refs, char **ret_id, struct error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_json_ json_object *cfg = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	struct new_layer *nl = NULL;
	size_t i;
	int r;

	id = digest_buf(config, config_len);
	if (!digest_valid(config_digest) || !streq(id, config_digest)) {
		r = error_setx(err, -EINVAL, "config verification failed for digest %s",
			       config_digest ? config_digest : "");
		goto fail;
	}
	for (char *const *p = refs; p && *p; p++) {
		_cleanup_free_ char *norm = NULL;
		if (ref_normalize(*p, &norm, err) < 0 || !streq(norm, *p)) {
			r = error_setx(err, -EINVAL, "invalid reference \"%s\"", *p);
			goto fail;
		}
	}
	r = parse_json_limited(config, config_len, &cfg, "image config", err);
	if (r < 0)
		goto fail;
	r = config_diff_ids(cfg, &diff_ids, err);
	if (r < 0)
		goto fail;
	if (strv_length(diff_ids) != n_layers) {
		r = error_setx(err, -EINVAL,
			       "layers from manifest don't match image configuration");
		goto fail;
	}
	nl = xnew0(struct new_layer, n_layers ? n_layers : 1);
	for (i = 0; i < n_layers; i++) {
		nl[i].chain = chain_id(i ? nl[i - 1].chain : NULL, diff_ids[i]);
		nl[i].diff_id = xstrdup(diff_ids[i]);
		if (layers[i].tmp) {
			if (!streq_ptr(layers[i].diff_id, diff_ids[i])) {
				r = error_setx(
				    err, -EINVAL,
				    "layers from manifest don't match image configuration");
				goto fail;
			}
			nl[i].size = layers[i].size;
			continue;
		}
		if (!image_layer_exists(s, nl[i].chain, &nl[i].size)) {
			r = error_setx(err, -ENOENT, "layer %s is not in the store", nl[i].chain);
			goto fail;
		}
	}
	/* from here the layer dirs belong to image_commit */
	for (i = 0; i < n_layers; i++)
		nl[i].tmpdir = TAKE_PTR(layers[i].tmp);
	r = blob_put(s, config, config_len, id, NULL, err);
	if (r >= 0)
		r = image_commit(s, id, config, config_len, nl, n_layers, refs, err);
	for (i = 0; i < n_layers; i++)
		if (nl[i].tmpdir)
			rm_rf_at_fd(s->layers_fd, nl[i].tmpdir);
	new_layers_free(nl, n_layers);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = TAKE_PTR(id);
	return 0;
fail:
	if (nl)
		new_layers_free(nl, n_layers);
	pulled_discard(s, layers, n_layers);
	return r;
}

int image_config_blob(struct image_store *s, const char *id, char **ret, size_t *ret_len,
		      struct error **err)
{
	return blob_read(s, id, ret, ret_len, err);
}

int image_add_ref(struct image_store *s, const char *id, const char *ref, struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_free_ char *norm = NULL;
	sqlite3_stmt *st = NULL;
	int r;

	r = ref_normalize(ref, &norm, err);
	if (r < 0)
		return r;
	if (!digest_valid(id))
		return error_setx(err, -EINVAL, "invalid image id \"%s\"", id);
	store_lock(s);
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO image_refs(ref, image_id, is_digest, added) "
			       "SELECT ?1, id, ?2, ?3 FROM image_images WHERE id=?4",
			       -1, &st, NULL) != SQLITE_OK)
		return error_setx(err, -EIO, "record reference: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, norm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, strchr(norm, '@') != NULL);
	sqlite3_bind_int64(st, 3, (int64_t)now_usec(CLOCK_REALTIME));
	sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	if (r < 0)
		r = error_setx(err, r, "record reference: %s", sqlite3_errmsg(s->db));
	else if (sqlite3_changes(s->db) == 0)
		r = error_setx(err, -ENOENT, "No such image: %s", id);
	sqlite3_finalize(st);
	return r;
}

int image_tmpfile(struct image_store *s)
{
	return ingest_tmpfile(s, NULL);
}
