/* SPDX-License-Identifier: Apache-2.0 */
/* Tags and removal, with Docker's semantics (moby daemon/images/image_delete.go). */
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

static char *short_id(const char *id)
{
	const char *h = startswith(id, "sha256:");
	return xstrndup(h ? h : id, 12);
}

int image_tag(struct image_store *s, const char *src, const char *dst, struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_free_ char *id = NULL, *norm = NULL;
	char *tags[2] = {NULL, NULL};
	sqlite3_stmt *st = NULL;
	int r;

	r = ref_normalize(dst, &norm, err);
	if (r < 0)
		return r;
	if (strchr(norm, '@'))
		return error_setx(err, -EINVAL, "refusing to create a tag with a digest reference");
	store_lock(s);
	r = resolve_locked(s, src, &id, NULL, err);
	if (r < 0)
		return r;
	tags[0] = norm;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO image_refs(ref, image_id, is_digest, added) "
			       "VALUES(?,?,0,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return error_setx(err, -EIO, "tag image: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, tags[0], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)now_usec(CLOCK_REALTIME));
	r = sqlite3_step(st) == SQLITE_DONE
		? 0
		: error_setx(err, -EIO, "tag image: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return r;
}

static int del_ref(struct image_store *s, const char *ref)
{
	sqlite3_stmt *st = NULL;
	int r;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM image_refs WHERE ref=?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return r;
}

static void add_item(json_object *items, const char *k, const char *v)
{
	json_object *o = json_object_new_object();
	json_add_str(o, k, v);
	json_object_array_add(items, o);
}

static int untag(struct image_store *s, const char *ref, json_object *items)
{
	_cleanup_free_ char *f = ref_familiar(ref);
	int r = del_ref(s, ref);
	if (r >= 0)
		add_item(items, "Untagged", f);
	return r;
}

/* All references in one repository and at most one tag (moby isSingleReference). */
static bool is_single_reference(char *const *refs)
{
	_cleanup_free_ char *name = NULL;
	size_t n = strv_length(refs), tags = 0;

	if (n <= 1)
		return n == 1;
	for (char *const *r = refs; *r; r++) {
		_cleanup_free_ char *nm = NULL;
		ref_split(*r, &nm, NULL, NULL);
		if (!strchr(*r, '@') && ++tags > 1)
			return false;
		if (!name)
			name = TAKE_PTR(nm);
		else if (!streq(name, nm))
			return false;
	}
	return true;
}

static bool has_children(struct image_store *s, const char *id)
{
	sqlite3_stmt *st = NULL;
	bool r = false;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM image_images WHERE parent=? LIMIT 1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		r = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return r;
}

enum conflict {
	CONFLICT_CHILD = 1,
	CONFLICT_RUNNING = 2,
	CONFLICT_REFERENCE = 4,
	CONFLICT_STOPPED = 8,
	CONFLICT_HARD = CONFLICT_CHILD | CONFLICT_RUNNING,
	CONFLICT_SOFT = CONFLICT_REFERENCE | CONFLICT_STOPPED,
};

/* 0: no conflict; -EBUSY with the message (*used tells a container is the cause). */
static int check_conflict(struct image_store *s, const char *id, int mask, image_in_use_cb in_use,
			  void *ud, bool *used, struct error **err)
{
	_cleanup_free_ char *sid = short_id(id), *ctr = NULL;
	bool running = false;
	int r = 0;

	*used = false;
	if ((mask & CONFLICT_CHILD) && has_children(s, id))
		return error_setx(err, -EBUSY,
				  "conflict: unable to delete %s (cannot be forced) - image has "
				  "dependent child images",
				  sid);
	if (in_use && (mask & (CONFLICT_RUNNING | CONFLICT_STOPPED))) {
		r = in_use(id, ud, &ctr, &running);
		if (r < 0)
			return error_set(err, r, "check containers of image %s", sid);
	}
	if (r > 0 && running && (mask & CONFLICT_RUNNING)) {
		_cleanup_free_ char *cs = short_id(ctr);
		*used = true;
		return error_setx(
		    err, -EBUSY,
		    "conflict: unable to delete %s (cannot be forced) - image is being "
		    "used by running container %s",
		    sid, cs);
	}
	if (mask & CONFLICT_REFERENCE) {
		_cleanup_strv_free_ char **refs = NULL;
		if (refs_of_locked(s, id, &refs) >= 0 && refs[0])
			return error_setx(
			    err, -EBUSY,
			    "conflict: unable to delete %s (must be forced) - image is "
			    "referenced in one or more repositories",
			    sid);
	}
	if (r > 0 && !running && (mask & CONFLICT_STOPPED)) {
		_cleanup_free_ char *cs = short_id(ctr);
		*used = true;
		return error_setx(err, -EBUSY,
				  "conflict: unable to delete %s (must be forced) - image is being "
				  "used by stopped container %s",
				  sid, cs);
	}
	return 0;
}

int image_delete_locked(struct image_store *s, const char *id, json_object *items,
			int64_t *reclaimed, struct error **err)
{
	_cleanup_strv_free_ char **refs = NULL, **chains = NULL, **gone = NULL;
	sqlite3_stmt *st = NULL;
	int64_t freed = 0;
	int r;

	r = sql_exec(s, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	if (refs_of_locked(s, id, &refs) < 0)
		goto fail;
	for (char **p = refs; *p; p++)
		if (untag(s, *p, items) < 0)
			goto fail;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT chain_id FROM image_image_layers WHERE image_id=? ORDER BY "
			       "idx DESC",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	chains = xnew0(char *, 1);
	while (sqlite3_step(st) == SQLITE_ROW)
		chains = strv_append(chains, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db,
			       "DELETE FROM image_image_layers WHERE image_id=?1;"
			       "",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM image_images WHERE id=?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (layers_drop_unused_locked(s, chains, &gone, &freed) < 0)
		goto fail;
	r = sql_exec(s, "COMMIT", err);
	if (r < 0) {
		sql_exec(s, "ROLLBACK", NULL);
		return r;
	}
	/* metadata is gone: now the data (a crash here leaves garbage for the sweep) */
	add_item(items, "Deleted", id);
	(void)unlinkat(s->blobs_fd, id + 7, 0);
	layers_remove_data(s, gone);
	for (char **c = gone; *c; c++)
		add_item(items, "Deleted", *c);
	if (reclaimed)
		*reclaimed += freed;
	return 0;
fail:
	r = error_setx(err, -EIO, "delete image: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	sql_exec(s, "ROLLBACK", NULL);
	return r;
}

static bool is_dangling(struct image_store *s, const char *id)
{
	_cleanup_strv_free_ char **refs = NULL;
	return refs_of_locked(s, id, &refs) >= 0 && !refs[0];
}

static char *parent_of(struct image_store *s, const char *id)
{
	sqlite3_stmt *st = NULL;
	char *p = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT parent FROM image_images WHERE id=?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0)
			p = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return p;
}

static int hold_locked(struct image_store *s, const char *holder, const char *id,
		       struct error **err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR IGNORE INTO image_holds(holder, chain_id) SELECT ?1, "
			       "chain_id FROM image_image_layers WHERE image_id=?2",
			       -1, &st, NULL) != SQLITE_OK)
		return error_setx(err, -EIO, "hold layers: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, holder, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = error_setx(err, -EIO, "hold layers: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return r;
}

int image_layers_hold(struct image_store *s, const char *holder, const char *ref_or_id,
		      struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_free_ char *id = NULL;
	int r;

	store_lock(s);
	r = resolve_locked(s, ref_or_id, &id, NULL, err);
	if (r < 0)
		return r;
	return hold_locked(s, holder, id, err);
}

int image_layers_release(struct image_store *s, const char *holder, struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_strv_free_ char **held = NULL, **gone = NULL;
	sqlite3_stmt *st = NULL;
	int r;

	store_lock(s);
	r = sql_exec(s, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(s->db, "SELECT chain_id FROM image_holds WHERE holder=?", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, holder, -1, SQLITE_TRANSIENT);
	held = xnew0(char *, 1);
	while (sqlite3_step(st) == SQLITE_ROW)
		held = strv_append(held, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM image_holds WHERE holder=?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, holder, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	/* only the holder's layers: others no image uses (a pull's) are not its to delete */
	if (layers_drop_unused_locked(s, held, &gone, NULL) < 0)
		goto fail;
	if (sql_exec(s, "COMMIT", err) < 0) {
		sql_exec(s, "ROLLBACK", NULL);
		return -EIO;
	}
	layers_remove_data(s, gone);
	return 0;
fail:
	r = error_setx(err, -EIO, "release layers: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	sql_exec(s, "ROLLBACK", NULL);
	return r;
}

/* moby imageDeleteHelper */
static int delete_helper(struct image_store *s, const char *id, json_object *items, bool force,
			 bool prune, bool quiet, image_in_use_cb in_use, void *ud,
			 struct error **err)
{
	_cleanup_error_ struct error *cerr = NULL;
	_cleanup_free_ char *parent = NULL;
	bool used = false;
	int r;

	r = check_conflict(s, id, CONFLICT_HARD | (force ? 0 : CONFLICT_SOFT), in_use, ud, &used,
			   &cerr);
	if (r < 0) {
		if (quiet && (!is_dangling(s, id) || used))
			return 0;
		return error_setx(err, r, "%s", cerr->msg);
	}
	parent = parent_of(s, id);
	if (force && in_use) {
		/* forced past a stopped container: it keeps the layers it runs on */
		_cleanup_free_ char *ctr = NULL;
		bool running = false;
		if (in_use(id, ud, &ctr, &running) > 0) {
			r = hold_locked(s, ctr, id, err);
			if (r < 0)
				return r;
		}
	}
	r = image_delete_locked(s, id, items, NULL, err);
	if (r < 0 || !prune || !parent)
		return r;
	return delete_helper(s, parent, items, false, true, true, in_use, ud, err);
}

int image_remove(struct image_store *s, const char *ref, bool force, bool noprune,
		 image_in_use_cb in_use, void *ud, json_object **ret_items, struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_json_ json_object *items = json_object_new_array();
	_cleanup_free_ char *id = NULL, *norm = NULL;
	_cleanup_strv_free_ char **refs = NULL;
	bool removed_ref = false;
	int r;

	store_lock(s);
	r = resolve_locked(s, ref, &id, &norm, err);
	if (r < 0)
		return r;
	if (refs_of_locked(s, id, &refs) < 0)
		return error_setx(err, -EIO, "delete image: %s", sqlite3_errmsg(s->db));

	if (norm) {
		_cleanup_free_ char *name = NULL;
		if (!force && is_single_reference(refs) && in_use) {
			_cleanup_free_ char *ctr = NULL;
			bool running = false;
			r = in_use(id, ud, &ctr, &running);
			if (r < 0)
				return error_set(err, r, "check containers of image");
			if (r > 0) {
				_cleanup_free_ char *cs = short_id(ctr), *is = short_id(id);
				return error_setx(err, -EBUSY,
						  "conflict: unable to remove repository reference "
						  "\"%s\" (must force) - container %s is using its "
						  "referenced image %s",
						  ref, cs, is);
			}
		}
		if (untag(s, norm, items) < 0)
			return error_setx(err, -EIO, "untag: %s", sqlite3_errmsg(s->db));
		strv_free(refs);
		refs = NULL;
		refs_of_locked(s, id, &refs);
		ref_split(norm, &name, NULL, NULL);
		if (!strchr(norm, '@')) {
			bool tag_left = false;
			for (char **p = refs; *p; p++) {
				_cleanup_free_ char *n = NULL;
				ref_split(*p, &n, NULL, NULL);
				tag_left = tag_left || (!strchr(*p, '@') && streq(n, name));
			}
			if (!tag_left)
				for (char **p = refs; *p; p++) {
					_cleanup_free_ char *n = NULL;
					ref_split(*p, &n, NULL, NULL);
					if (strchr(*p, '@') && streq(n, name))
						untag(s, *p, items);
				}
			strv_free(refs);
			refs = NULL;
			refs_of_locked(s, id, &refs);
		}
		if (refs[0]) {
			*ret_items = TAKE_PTR(items);
			return 0;
		}
		removed_ref = true;
	} else if (is_single_reference(refs)) {
		_cleanup_error_ struct error *cerr = NULL;
		bool used;
		r = check_conflict(s, id, CONFLICT_HARD | (force ? 0 : CONFLICT_STOPPED), in_use,
				   ud, &used, &cerr);
		if (r < 0)
			return error_setx(err, r, "%s", cerr->msg);
		for (char **p = refs; *p; p++)
			untag(s, *p, items);
	} else if (refs[0] && !force) {
		_cleanup_free_ char *is = short_id(id);
		return error_setx(err, -EBUSY,
				  "conflict: unable to delete %s (must be forced) - image is "
				  "referenced in multiple repositories",
				  is);
	}
	r = delete_helper(s, id, items, force, !noprune, removed_ref, in_use, ud, err);
	if (r < 0)
		return r;
	*ret_items = TAKE_PTR(items);
	return 0;
}
