/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the registry module needs from the store: layers unpacked from a stream into temp
 * dirs, each committed by itself once verified (so that a pull that stops keeps them), leases
 * that keep them while the pull runs, and the commit of the image once every layer is in.
 * The checks that bind a layer to what it is committed as (its diff id, as the store measured
 * it, over a committed parent) and the layers to the config are made here again, so no caller
 * can commit a layer under a name its content does not have, or an image whose layers its
 * config does not name.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "internal.h"

/* In a temp layer dir beside diff/: the diff id and size the unpack measured. */
#define MEASURED "measured"

bool image_digest_valid(const char *digest)
{
	return digest_valid(digest);
}

char *image_chain_id(const char *parent_chain, const char *diff_id)
{
	return chain_id(parent_chain, diff_id);
}

/* ---- leases ------------------------------------------------------------- */

int image_lease_new(struct image_store *s, struct image_lease **ret)
{
	struct image_lease *l = xnew0(struct image_lease, 1);

	l->s = s;
	store_lock(s);
	l->id = ++s->next_lease;
	store_unlock(s);
	*ret = l;
	return 0;
}

struct image_lease *image_lease_free(struct image_lease *l)
{
	sqlite3_stmt *st = NULL;

	if (!l)
		return NULL;
	store_lock(l->s);
	if (sqlite3_prepare_v2(l->s->db, "DELETE FROM temp.image_leases WHERE lease=?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, l->id);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_warn("image store: release lease %" PRId64 ": %s", l->id,
				 sqlite3_errmsg(l->s->db));
	}
	sqlite3_finalize(st);
	store_unlock(l->s);
	free(l);
	return NULL;
}

static int lease_add_locked(struct image_lease *l, const char *chain)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(
		l->s->db, "INSERT OR IGNORE INTO temp.image_leases(lease, chain_id) VALUES(?,?)",
		-1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, l->id);
	sqlite3_bind_text(st, 2, chain, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

bool image_layer_acquire(struct image_lease *l, const char *chain, uint64_t *ret_size)
{
	bool found;

	if (!digest_valid(chain))
		return false;
	store_lock(l->s);
	found = layer_size_locked(l->s, chain, ret_size) && lease_add_locked(l, chain) >= 0;
	store_unlock(l->s);
	return found;
}

/* ---- one layer ------------------------------------------------------------ */

static bool tmp_name_valid(const char *tmp)
{
	/* only our own temp names: never a committed layer */
	return tmp && startswith(tmp, "tmp-") && !strchr(tmp, '/');
}

int image_layer_unpack(struct image_store *s, int in_fd, char **ret_tmp, uint64_t *ret_size,
		       char **ret_diff_id, struct error **err)
{
	_cleanup_free_ char *tmp = NULL, *diff_id = NULL, *path = NULL, *line = NULL;
	_cleanup_close_ int fd = -EBADF;
	uint64_t size = 0;
	int r;

	r = layer_unpack_tmp(s, in_fd, &tmp, &size, &diff_id, err);
	if (r < 0)
		return r;
	path = xasprintf("%s/" MEASURED, tmp);
	line = xasprintf("%s %" PRIu64 "\n", diff_id, size);
	fd = openat(s->layers_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || loop_write(fd, line, strlen(line)) < 0) {
		r = error_set(err, fd < 0 ? -errno : -EIO, "record layer %s", diff_id);
		rm_rf_at(s->layers_fd, tmp);
		return r;
	}
	*ret_tmp = TAKE_PTR(tmp);
	if (ret_size)
		*ret_size = size;
	if (ret_diff_id)
		*ret_diff_id = TAKE_PTR(diff_id);
	return 0;
}

void image_layer_discard(struct image_store *s, const char *tmp)
{
	if (tmp_name_valid(tmp))
		rm_rf_at(s->layers_fd, tmp);
}

/* What image_layer_unpack measured for tmp; removes the record (it is not part of a layer). */
static int measured_take(struct image_store *s, const char *tmp, char **ret_diff_id,
			 uint64_t *ret_size)
{
	_cleanup_free_ char *path = xasprintf("%s/" MEASURED, tmp);
	_cleanup_close_ int fd = -EBADF;
	char buf[DIGEST_LEN + 32], *sp;
	ssize_t n;

	fd = openat(s->layers_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	sp = strchr(buf, ' ');
	if (!sp)
		return -EINVAL;
	*sp++ = 0;
	sp[strcspn(sp, "\n")] = 0;
	if (!digest_valid(buf) || safe_atou64(sp, ret_size) < 0)
		return -EINVAL;
	if (unlinkat(s->layers_fd, path, 0) < 0)
		return -errno;
	*ret_diff_id = xstrdup(buf);
	return 0;
}

static int record_locked(struct image_store *s, const char *chain, const char *diff_id,
			 uint64_t size)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO image_layers(chain_id, diff_id, size) VALUES(?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, chain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, diff_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)size);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

int image_layer_commit(struct image_lease *l, const char *tmp, const char *parent_chain,
		       const char *diff_id, char **ret_chain, struct error **err)
{
	struct image_store *s = l->s;
	_cleanup_unlock_ struct image_store *locked = NULL;
	_cleanup_free_ char *measured = NULL, *chain = NULL;
	uint64_t size = 0;
	struct stat sb;
	int r;

	if (!tmp_name_valid(tmp))
		return error_setx(err, -EINVAL, "invalid layer dir \"%s\"", tmp ? tmp : "");
	if (!digest_valid(diff_id) || (parent_chain && !digest_valid(parent_chain))) {
		r = error_setx(err, -EINVAL, "invalid layer digest");
		goto discard;
	}
	r = measured_take(s, tmp, &measured, &size);
	if (r < 0) {
		r = error_set(err, r, "read what layer dir \"%s\" holds", tmp);
		goto discard;
	}
	if (!streq(measured, diff_id)) {
		r = error_setx(err, -EINVAL,
			       "layers from manifest don't match image configuration");
		goto discard;
	}
	chain = chain_id(parent_chain, diff_id);
	/* the data is on disk before the rename makes it a layer (outside the lock: slow) */
	if (syncfs(s->layers_fd) < 0) {
		r = error_set(err, -errno, "sync layer %s", chain);
		goto discard;
	}

	store_lock(s);
	locked = s;
	if (parent_chain && !layer_exists_locked(s, parent_chain)) {
		r = error_setx(err, -ENOENT, "parent layer %s is not in the store", parent_chain);
		goto discard;
	}
	if (layer_exists_locked(s, chain)) {
		/* another pull was quicker */
		rm_rf_at(s->layers_fd, tmp);
	} else {
		/* a dir without a row is a leftover of a commit that did not finish: ours is
		 * verified, that one may not be */
		if (fstatat(s->layers_fd, chain + 7, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			rm_rf_at(s->layers_fd, chain + 7);
		if (renameat(s->layers_fd, tmp, s->layers_fd, chain + 7) < 0) {
			r = error_set(err, -errno, "commit layer %s", chain);
			goto discard;
		}
		r = fsync_dir_at(s->layers_fd, ".");
		if (r < 0)
			error_set(err, r, "sync layers dir");
		else if (record_locked(s, chain, diff_id, size) < 0)
			r = error_setx(err, -EIO, "record layer %s: %s", chain,
				       sqlite3_errmsg(s->db));
		if (r < 0) {
			/* no row names it: this dir is ours to remove */
			rm_rf_at(s->layers_fd, chain + 7);
			return r;
		}
	}
	r = lease_add_locked(l, chain);
	if (r < 0)
		return error_setx(err, r, "lease layer %s: %s", chain, sqlite3_errmsg(s->db));
	if (ret_chain)
		*ret_chain = TAKE_PTR(chain);
	return 0;
discard:
	rm_rf_at(s->layers_fd, tmp);
	return r;
}

/* ---- the image ------------------------------------------------------------ */

int image_commit_pulled(struct image_store *s, const char *config, size_t config_len,
			const char *config_digest, char *const *refs, char **ret_id,
			struct error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_json_ json_object *cfg = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	struct new_layer *nl = NULL;
	size_t i, n;
	int r;

	id = digest_buf(config, config_len);
	if (!digest_valid(config_digest) || !streq(id, config_digest))
		return error_setx(err, -EINVAL, "config verification failed for digest %s",
				  config_digest ? config_digest : "");
	for (char *const *p = refs; p && *p; p++) {
		_cleanup_free_ char *norm = NULL;
		if (ref_normalize(*p, &norm, err) < 0 || !streq(norm, *p))
			return error_setx(err, -EINVAL, "invalid reference \"%s\"", *p);
	}
	r = parse_json_limited(config, config_len, &cfg, "image config", err);
	if (r < 0)
		return r;
	r = config_diff_ids(cfg, &diff_ids, err);
	if (r < 0)
		return r;
	n = strv_length(diff_ids);
	nl = xnew0(struct new_layer, n ? n : 1);
	store_lock(s);
	for (i = 0; i < n; i++) {
		nl[i].chain = chain_id(i ? nl[i - 1].chain : NULL, diff_ids[i]);
		nl[i].diff_id = xstrdup(diff_ids[i]);
		if (!layer_size_locked(s, nl[i].chain, &nl[i].size))
			break;
	}
	store_unlock(s);
	if (i < n)
		r = error_setx(err, -ENOENT, "layer %s is not in the store", nl[i].chain);
	else
		r = blob_put(s, config, config_len, id, NULL, err);
	/* image_commit checks again, under the lock, that every layer is still there */
	if (r >= 0)
		r = image_commit(s, id, config, config_len, nl, n, refs, err);
	new_layers_free(nl, n);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = TAKE_PTR(id);
	return 0;
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

/* ---- blobs registries hold ---------------------------------------------------- */

#define BLOBS_PER_LAYER 16

int image_blob_record(struct image_store *s, const char *diff_id, const char *digest,
		      const char *media_type, int64_t size, const char *repository)
{
	_cleanup_unlock_ struct image_store *locked = s;
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (!digest_valid(diff_id) || !digest_valid(digest) || isempty(media_type) ||
	    isempty(repository) || size < 0)
		return -EINVAL;
	store_lock(s);
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO image_blobs(diff_id, digest, media_type, "
			       "size, repository, added) VALUES(?1,?2,?3,?4,?5,?6);",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, diff_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, media_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_text(st, 5, repository, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, (int64_t)now_usec(CLOCK_REALTIME));
	if (sqlite3_step(st) != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	st = NULL;
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(
		s->db,
		"DELETE FROM image_blobs WHERE diff_id=?1 AND rowid NOT IN (SELECT "
		"rowid FROM image_blobs WHERE diff_id=?1 ORDER BY added DESC LIMIT ?2)",
		-1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, diff_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, BLOBS_PER_LAYER);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

int image_blobs_of(struct image_store *s, const char *diff_id, struct image_blob **ret,
		   size_t *ret_n)
{
	_cleanup_unlock_ struct image_store *locked = s;
	struct image_blob *b = NULL;
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	store_lock(s);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT digest, media_type, size, repository FROM image_blobs WHERE "
			       "diff_id=? ORDER BY added DESC, repository",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, diff_id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW && n < BLOBS_PER_LAYER) {
		b = xrealloc(b, (n + 1) * sizeof(*b));
		b[n].digest = xstrdup((const char *)sqlite3_column_text(st, 0));
		b[n].media_type = xstrdup((const char *)sqlite3_column_text(st, 1));
		b[n].size = sqlite3_column_int64(st, 2);
		b[n].repository = xstrdup((const char *)sqlite3_column_text(st, 3));
		n++;
	}
	sqlite3_finalize(st);
	*ret = b;
	*ret_n = n;
	return 0;
}

void image_blobs_free(struct image_blob *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(b[i].digest);
		free(b[i].media_type);
		free(b[i].repository);
	}
	free(b);
}
