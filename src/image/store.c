/* SPDX-License-Identifier: Apache-2.0 */
/* The store: directories, SQLite tables, the startup sweep, commit and lookup. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS image_images(id TEXT PRIMARY KEY, created INTEGER NOT NULL,"
    " size INTEGER NOT NULL, parent TEXT NOT NULL DEFAULT '', added INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS image_layers(chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL,"
    " size INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS image_image_layers(image_id TEXT NOT NULL, idx INTEGER NOT "
    "NULL, chain_id TEXT NOT NULL, PRIMARY KEY(image_id, idx));"
    "CREATE INDEX IF NOT EXISTS image_image_layers_chain ON image_image_layers(chain_id);"
    "CREATE TABLE IF NOT EXISTS image_refs(ref TEXT PRIMARY KEY, image_id TEXT NOT NULL,"
    " is_digest INTEGER NOT NULL, added INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS image_refs_image ON image_refs(image_id);"
    "CREATE TABLE IF NOT EXISTS image_holds(holder TEXT NOT NULL, chain_id TEXT NOT NULL,"
    " PRIMARY KEY(holder, chain_id));"
    /* blobs registries hold for layers (image_blob_record) */
    "CREATE TABLE IF NOT EXISTS image_blobs(diff_id TEXT NOT NULL, digest TEXT NOT NULL,"
    " media_type TEXT NOT NULL, size INTEGER NOT NULL, repository TEXT NOT NULL,"
    " added INTEGER NOT NULL, PRIMARY KEY(diff_id, digest, repository));"
    /* leases of running pulls: per connection, gone with the process (see image.h) */
    "CREATE TEMP TABLE IF NOT EXISTS image_leases(lease INTEGER NOT NULL, chain_id TEXT NOT "
    "NULL, PRIMARY KEY(lease, chain_id));";

int store_lock(struct image_store *s)
{
	pthread_mutex_lock(&s->lock);
	return 0;
}

void store_unlock(struct image_store *s)
{
	pthread_mutex_unlock(&s->lock);
}

static void stmt_finalizep(sqlite3_stmt **st)
{
	if (*st)
		sqlite3_finalize(*st);
}
#define _cleanup_stmt_ _cleanup_(stmt_finalizep)

static int sql_err(struct image_store *s, struct error **err, const char *what)
{
	return error_setx(err, -EIO, "%s: %s", what, sqlite3_errmsg(s->db));
}

int sql_exec(struct image_store *s, const char *sql, struct error **err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = error_setx(err, -EIO, "image store: %s", msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

/* Prepare sql and bind the NULL-terminated text arguments. */
static int prep(struct image_store *s, const char *sql, sqlite3_stmt **ret, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	const char *a;
	int i = 1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	va_start(ap, ret);
	while ((a = va_arg(ap, const char *)))
		sqlite3_bind_text(st, i++, a, -1, SQLITE_TRANSIENT);
	va_end(ap);
	*ret = st;
	return 0;
}

static char **col_strv(sqlite3_stmt *st)
{
	char **l = xnew0(char *, 1);
	while (sqlite3_step(st) == SQLITE_ROW)
		l = strv_append(l, (const char *)sqlite3_column_text(st, 0));
	return l;
}

int list_ids_locked(struct image_store *s, char ***ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (prep(s, "SELECT id FROM image_images ORDER BY added DESC, id", &st, NULL) < 0)
		return -EIO;
	*ret = col_strv(st);
	return 0;
}

int refs_of_locked(struct image_store *s, const char *id, char ***ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (prep(s, "SELECT ref FROM image_refs WHERE image_id=? ORDER BY ref", &st, id, NULL) < 0)
		return -EIO;
	*ret = col_strv(st);
	return 0;
}

static int64_t query_i64(struct image_store *s, const char *sql, const char *a1)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (prep(s, sql, &st, a1, NULL) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		return -1;
	return sqlite3_column_int64(st, 0);
}

bool layer_exists_locked(struct image_store *s, const char *chain)
{
	return query_i64(s, "SELECT 1 FROM image_layers WHERE chain_id=?", chain) == 1;
}

bool layer_size_locked(struct image_store *s, const char *chain, uint64_t *ret_size)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;

	if (prep(s, "SELECT size FROM image_layers WHERE chain_id=?", &st, chain, NULL) < 0 ||
	    sqlite3_step(st) != SQLITE_ROW)
		return false;
	if (ret_size)
		*ret_size = (uint64_t)sqlite3_column_int64(st, 0);
	return true;
}

int layers_drop_unused_locked(struct image_store *s, char *const *only, char ***ret_gone,
			      int64_t *freed)
{
	_cleanup_strv_free_ char **unused = xnew0(char *, 1), **gone = xnew0(char *, 1);
	_cleanup_free_ int64_t *sizes = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	size_t n = 0;

	if (prep(s,
		 "SELECT chain_id, size FROM image_layers WHERE chain_id NOT IN (SELECT chain_id "
		 "FROM image_image_layers) AND chain_id NOT IN (SELECT chain_id FROM image_holds) "
		 "AND chain_id NOT IN (SELECT chain_id FROM temp.image_leases)",
		 &st, NULL) < 0)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		sizes = xrealloc(sizes, (n + 1) * sizeof(*sizes));
		sizes[n++] = sqlite3_column_int64(st, 1);
		unused = strv_append(unused, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	st = NULL;
	for (char *const *c = only ? only : unused; *c; c++) {
		size_t i = 0;

		while (i < n && !streq(unused[i], *c))
			i++;
		if (i == n || strv_contains(gone, *c))
			continue;
		if (prep(s, "DELETE FROM image_layers WHERE chain_id=?", &st, *c, NULL) < 0 ||
		    sqlite3_step(st) != SQLITE_DONE)
			return -EIO;
		sqlite3_finalize(st);
		st = NULL;
		gone = strv_append(gone, *c);
		if (freed)
			*freed += sizes[i];
	}
	if (gone[0] && sql_exec(s,
				"DELETE FROM image_blobs WHERE diff_id NOT IN (SELECT diff_id FROM "
				"image_layers)",
				NULL) < 0)
		return -EIO;
	*ret_gone = TAKE_PTR(gone);
	return 0;
}

void layers_remove_data(struct image_store *s, char *const *gone)
{
	for (char *const *c = gone; c && *c; c++) {
		_cleanup_free_ char *ln = xasprintf("l/%.*s", SHORT_LEN, *c + 7);
		(void)unlinkat(s->layers_fd, ln, 0);
		(void)rm_rf_at(s->layers_fd, *c + 7);
	}
}

int image_count(struct image_store *s)
{
	int64_t n;
	store_lock(s);
	n = query_i64(s, "SELECT count(*) FROM image_images", NULL);
	store_unlock(s);
	return (int)n;
}

static void sweep(struct image_store *s)
{
	_cleanup_close_ int lfd = -EBADF;
	DIR *d;
	struct dirent *de;

	d = fdopendir(openat(s->ingest_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (d) {
		while ((de = readdir(d)))
			if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
				rm_rf_at(s->ingest_fd, de->d_name);
		closedir(d);
	}
	d = fdopendir(openat(s->layers_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (d) {
		while ((de = readdir(d))) {
			_cleanup_free_ char *chain = NULL;
			if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
			    streq(de->d_name, "l") || streq(de->d_name, "empty"))
				continue;
			chain = xasprintf("sha256:%s", de->d_name);
			if (hex64_valid(de->d_name) && layer_exists_locked(s, chain))
				continue;
			log_debug("image store: removing leftover layers/%s", de->d_name);
			rm_rf_at(s->layers_fd, de->d_name);
		}
		closedir(d);
	}
	/* short links whose layer is gone */
	lfd = openat(s->layers_fd, "l", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = lfd >= 0 ? fdopendir(dup(lfd)) : NULL;
	if (d) {
		while ((de = readdir(d))) {
			struct stat st;
			if (de->d_type == DT_LNK && fstatat(lfd, de->d_name, &st, 0) < 0)
				unlinkat(lfd, de->d_name, 0);
		}
		closedir(d);
	}
}

static int open_dir(int dfd, const char *p, mode_t mode, int *ret)
{
	if (mkdirat(dfd, p, mode) < 0 && errno != EEXIST)
		return -errno;
	*ret = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return *ret < 0 ? -errno : 0;
}

int image_store_open(const char *data_root, struct image_store **ret, struct error **err)
{
	struct image_store *s;
	_cleanup_free_ char *db = NULL;
	_cleanup_close_ int content = -EBADF, fd = -EBADF;
	int r;

	r = mkdir_p(data_root, 0711);
	if (r < 0)
		return error_set(err, r, "create \"%s\"", data_root);
	s = xnew0(struct image_store, 1);
	pthread_mutex_init(&s->lock, NULL);
	s->root = xstrdup(data_root);
	s->layers_root = xasprintf("%s/layers", data_root);
	s->root_fd = s->blobs_fd = s->ingest_fd = s->layers_fd = -EBADF;
	s->layer_limit = IMAGE_LAYER_MAX_DEFAULT;
	s->root_fd = open(data_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		r = error_set(err, -errno, "open \"%s\"", data_root);
		goto fail;
	}
	(void)fchmod(s->root_fd, 0711);
	if ((r = open_dir(s->root_fd, "content", 0711, &content)) < 0 ||
	    (r = open_dir(content, "sha256", 0700, &s->blobs_fd)) < 0 ||
	    (r = open_dir(content, "ingest", 0700, &s->ingest_fd)) < 0 ||
	    (r = open_dir(s->root_fd, "layers", 0711, &s->layers_fd)) < 0 ||
	    (r = open_dir(s->layers_fd, "l", 0711, &fd)) < 0) {
		r = error_set(err, r, "create the image store in \"%s\"", data_root);
		goto fail;
	}
	closep(&fd);
	if ((r = open_dir(s->layers_fd, "empty", 0755, &fd)) < 0) {
		r = error_set(err, r, "create the image store in \"%s\"", data_root);
		goto fail;
	}
	db = xasprintf("%s/state.db", data_root);
	if (sqlite3_open_v2(db, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		r = error_setx(err, -EIO, "open \"%s\": %s", db,
			       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/* a 64 KiB page cache, as berthd's own connection (src/daemon/store.c) */
	(void)sqlite3_exec(s->db, "PRAGMA cache_size=-64;", NULL, NULL, NULL);
	if ((r = sql_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err)) < 0 ||
	    (r = sql_exec(s, schema, err)) < 0)
		goto fail;
	sweep(s);
	*ret = s;
	return 0;
fail:
	image_store_close(s);
	return r;
}

void image_store_release_memory(struct image_store *s)
{
	if (s && s->db)
		(void)sqlite3_db_release_memory(s->db);
}

struct image_store *image_store_close(struct image_store *s)
{
	if (!s)
		return NULL;
	if (s->db)
		sqlite3_close_v2(s->db);
	closep(&s->root_fd);
	closep(&s->blobs_fd);
	closep(&s->ingest_fd);
	closep(&s->layers_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->root);
	free(s->layers_root);
	free(s);
	return NULL;
}

void image_store_set_layer_limit(struct image_store *s, uint64_t max_bytes)
{
	s->layer_limit = max_bytes ? max_bytes : IMAGE_LAYER_MAX_DEFAULT;
}

/* ---- layers ------------------------------------------------------------ */

int layer_unpack_tmp(struct image_store *s, int in_fd, char **ret_tmpdir, uint64_t *ret_size,
		     char **ret_diff_id, struct error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/tmp-XXXXXX", s->layers_root), *diff_id = NULL;
	_cleanup_close_ int dfd = -EBADF, sfd = -EBADF;
	_cleanup_(tarsplit_freep) struct tarsplit *split = NULL;
	int r;

	if (!mkdtemp(path))
		return error_set(err, -errno, "create layer dir");
	(void)chmod(path, 0710);
	r = open_dir(s->layers_fd, strrchr(path, '/') + 1, 0710, &dfd);
	if (r >= 0) {
		int diff = -EBADF;
		/* the tar's layout beside diff/, to write the same tar again (tarsplit.c) */
		sfd = openat(dfd, TAR_SPLIT, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
		if (sfd < 0 || tarsplit_new(sfd, &split) < 0)
			log_debug("image store: cannot record the layout of a layer tar: %m");
		r = open_dir(dfd, "diff", 0755, &diff);
		closep(&dfd);
		dfd = diff;
	}
	if (r < 0) {
		rm_rf(path);
		return error_set(err, r, "create layer dir");
	}
	r = untar_split(in_fd, dfd, s->layer_limit, split, ret_size, &diff_id, err);
	if (r < 0) {
		rm_rf(path);
		return r;
	}
	if (!split || tarsplit_finish(split, diff_id) < 0) {
		_cleanup_free_ char *sp = xasprintf("%s/" TAR_SPLIT, strrchr(path, '/') + 1);
		(void)unlinkat(s->layers_fd, sp, 0);
	}
	*ret_tmpdir = xstrdup(strrchr(path, '/') + 1);
	if (ret_diff_id)
		*ret_diff_id = TAKE_PTR(diff_id);
	return 0;
}

void new_layers_free(struct new_layer *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].chain);
		free(l[i].diff_id);
		free(l[i].tmpdir);
	}
	free(l);
}

static int txn(struct image_store *s, const char *what, struct error **err)
{
	return sql_exec(s, what, err);
}

int image_commit(struct image_store *s, const char *config_digest, const char *config,
		 size_t config_len, struct new_layer *layers, size_t n_layers, char *const *tags,
		 struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_json_ json_object *cfg = NULL;
	int64_t size = 0, created;
	uint64_t now = now_usec(CLOCK_REALTIME);
	bool synced = false;
	size_t i;
	int r;

	r = parse_json_limited(config, config_len, &cfg, "image config", err);
	if (r < 0)
		return r;
	created = config_created(cfg);
	store_lock(s);

	/* a layer the caller found in the store must still be there: no row without its data */
	for (i = 0; i < n_layers; i++)
		if (!layers[i].tmpdir && !layer_exists_locked(s, layers[i].chain))
			return error_setx(err, -ENOENT, "layer %s is not in the store",
					  layers[i].chain);

	/* data first: move the verified layer dirs into place */
	for (i = 0; i < n_layers; i++) {
		struct stat st;
		size += layers[i].size;
		if (!layers[i].tmpdir)
			continue;
		if (layer_exists_locked(s, layers[i].chain) ||
		    fstatat(s->layers_fd, layers[i].chain + 7, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			rm_rf_at(s->layers_fd, layers[i].tmpdir);
		} else {
			if (!synced) {
				(void)syncfs(s->layers_fd);
				synced = true;
			}
			if (renameat(s->layers_fd, layers[i].tmpdir, s->layers_fd,
				     layers[i].chain + 7) < 0)
				return error_set(err, -errno, "commit layer %s", layers[i].chain);
		}
		free(layers[i].tmpdir);
		layers[i].tmpdir = NULL;
	}
	if (synced) {
		r = fsync_dir_at(s->layers_fd, ".");
		if (r < 0)
			return error_set(err, r, "sync layers dir");
	}

	/* then the metadata, in one transaction */
	r = txn(s, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	for (i = 0; i < n_layers; i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		if (prep(
			s,
			"INSERT OR IGNORE INTO image_layers(chain_id, diff_id, size) VALUES(?,?,?)",
			&st, layers[i].chain, layers[i].diff_id, NULL) < 0)
			goto sqlfail;
		sqlite3_bind_int64(st, 3, (int64_t)layers[i].size);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
	}
	if (query_i64(s, "SELECT 1 FROM image_images WHERE id=?", config_digest) != 1) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		if (prep(s, "INSERT INTO image_images(id, created, size, added) VALUES(?,?,?,?)",
			 &st, config_digest, NULL) < 0)
			goto sqlfail;
		sqlite3_bind_int64(st, 2, created);
		sqlite3_bind_int64(st, 3, size);
		sqlite3_bind_int64(st, 4, (int64_t)now);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
		for (i = 0; i < n_layers; i++) {
			_cleanup_stmt_ sqlite3_stmt *st2 = NULL;
			if (prep(s,
				 "INSERT INTO image_image_layers(image_id, idx, chain_id) "
				 "VALUES(?,?,?)",
				 &st2, config_digest, NULL) < 0)
				goto sqlfail;
			sqlite3_bind_int64(st2, 2, (int64_t)i);
			sqlite3_bind_text(st2, 3, layers[i].chain, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st2) != SQLITE_DONE)
				goto sqlfail;
		}
	}
	for (char *const *t = tags; t && *t; t++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		if (prep(s,
			 "INSERT OR REPLACE INTO image_refs(ref, image_id, is_digest, added) "
			 "VALUES(?,?,?,?)",
			 &st, *t, config_digest, NULL) < 0)
			goto sqlfail;
		sqlite3_bind_int(st, 3, strchr(*t, '@') != NULL);
		sqlite3_bind_int64(st, 4, (int64_t)now);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
	}
	return txn(s, "COMMIT", err);
sqlfail:
	r = sql_err(s, err, "record image");
	sql_exec(s, "ROLLBACK", NULL);
	return r;
}

/* ---- lookup ------------------------------------------------------------ */

static int id_prefix_locked(struct image_store *s, const char *hex, char **ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *pat = NULL;
	int n = 0;

	for (const char *p = hex; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -ENOENT;
	if (!*hex || strlen(hex) > 64)
		return -ENOENT;
	pat = xasprintf("sha256:%s*", hex);
	if (prep(s, "SELECT id FROM image_images WHERE id GLOB ? LIMIT 2", &st, pat, NULL) < 0)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == 0)
			*ret = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	if (n > 1) {
		free(*ret);
		*ret = NULL;
		return -ENOENT; /* ambiguous: Docker does not pick one either */
	}
	return n == 1 ? 0 : -ENOENT;
}

int resolve_locked(struct image_store *s, const char *ref_or_id, char **ret_id,
		   char **ret_normalized, struct error **err)
{
	_cleanup_free_ char *norm = NULL, *id = NULL;
	_cleanup_error_ struct error *nerr = NULL;
	const char *hex;

	if (!ref_or_id)
		return error_setx(err, -ENOENT, "No such image: ");
	hex = startswith(ref_or_id, "sha256:");
	if (hex) {
		if (id_prefix_locked(s, hex, &id) == 0)
			goto found_id;
		return error_setx(err, -ENOENT, "No such image: %s", ref_or_id);
	}
	if (ref_normalize(ref_or_id, &norm, &nerr) >= 0) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		if (prep(s, "SELECT image_id FROM image_refs WHERE ref=?", &st, norm, NULL) < 0)
			return sql_err(s, err, "look up image");
		if (sqlite3_step(st) == SQLITE_ROW) {
			*ret_id = xstrdup((const char *)sqlite3_column_text(st, 0));
			if (ret_normalized)
				*ret_normalized = TAKE_PTR(norm);
			return 0;
		}
	}
	if (id_prefix_locked(s, ref_or_id, &id) == 0)
		goto found_id;
	if (nerr && !(strlen(ref_or_id) == 64 && hex64_valid(ref_or_id)))
		return error_setx(err, -EINVAL, "%s", nerr->msg);
	if (norm) {
		/* moby: the familiar form with the tag filled in ("x" -> "x:latest") */
		_cleanup_free_ char *fam = ref_familiar(norm);
		return error_setx(err, -ENOENT, "No such image: %s", fam ? fam : ref_or_id);
	}
	return error_setx(err, -ENOENT, "No such image: %s", ref_or_id);
found_id:
	*ret_id = TAKE_PTR(id);
	if (ret_normalized)
		*ret_normalized = NULL;
	return 0;
}

int info_load_locked(struct image_store *s, const char *id, struct image_info **ret,
		     struct error **err)
{
	_cleanup_(image_info_freep) struct image_info *i = xnew0(struct image_info, 1);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *cfg = NULL;
	_cleanup_strv_free_ char **refs = NULL;
	size_t len = 0;
	int r;

	if (prep(s, "SELECT created, size, parent FROM image_images WHERE id=?", &st, id, NULL) <
		0 ||
	    sqlite3_step(st) != SQLITE_ROW)
		return error_setx(err, -ENOENT, "No such image: %s", id);
	i->id = xstrdup(id);
	i->created = sqlite3_column_int64(st, 0);
	i->size = sqlite3_column_int64(st, 1);
	i->parent = xstrdup((const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	st = NULL;
	r = blob_read(s, id, &cfg, &len, err);
	if (r < 0)
		return r;
	r = parse_json_limited(cfg, len, &i->config, "image config", err);
	if (r < 0)
		return r;
	r = refs_of_locked(s, id, &refs);
	if (r < 0)
		return sql_err(s, err, "look up image");
	i->repo_tags = xnew0(char *, 1);
	i->repo_digests = xnew0(char *, 1);
	for (char **p = refs; *p; p++) {
		_cleanup_free_ char *f = ref_familiar(*p);
		if (strchr(*p, '@'))
			i->repo_digests = strv_append(i->repo_digests, f);
		else
			i->repo_tags = strv_append(i->repo_tags, f);
	}
	i->layers_root = xstrdup(s->layers_root);
	if (prep(s, "SELECT chain_id FROM image_image_layers WHERE image_id=? ORDER BY idx", &st,
		 id, NULL) < 0)
		return sql_err(s, err, "look up image");
	i->layers = xnew0(char *, 1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		_cleanup_free_ char *p = xasprintf("%s/%s/diff", s->layers_root, c + 7);
		i->layers = strv_append(i->layers, p);
		i->n_layers++;
	}
	*ret = TAKE_PTR(i);
	return 0;
}

struct image_info *image_info_free(struct image_info *i)
{
	if (!i)
		return NULL;
	free(i->id);
	strv_free(i->repo_tags);
	strv_free(i->repo_digests);
	if (i->config)
		json_object_put(i->config);
	free(i->parent);
	strv_free(i->layers);
	free(i->layers_root);
	free(i);
	return NULL;
}

int image_lookup(struct image_store *s, const char *ref_or_id, struct image_info **ret,
		 struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_free_ char *id = NULL;
	int r;

	store_lock(s);
	r = resolve_locked(s, ref_or_id, &id, NULL, err);
	if (r < 0)
		return r;
	return info_load_locked(s, id, ret, err);
}

int image_repository_tags(struct image_store *s, const char *name, char ***ret, struct error **err)
{
	_cleanup_unlock_ struct image_store *locked = s;
	_cleanup_free_ char *norm = NULL, *repo = NULL, *tag = NULL, *digest = NULL, *prefix = NULL;
	_cleanup_strv_free_ char **all = NULL, **out = xnew0(char *, 1);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = ref_normalize(name, &norm, err);
	if (r < 0)
		return r;
	r = ref_split(norm, &repo, &tag, &digest);
	if (r < 0)
		return error_setx(err, r, "invalid reference format");
	prefix = xasprintf("%s:", repo);
	store_lock(s);
	if (prep(s,
		 "SELECT ref FROM image_refs WHERE is_digest=0 AND substr(ref, 1, length(?1)) = ?1 "
		 "ORDER BY ref",
		 &st, prefix, NULL) < 0)
		return sql_err(s, err, "list tags");
	all = col_strv(st);
	for (char **p = all; *p; p++) {
		const char *t = *p + strlen(prefix);
		if (*t && !strpbrk(t, "/:@"))
			out = strv_append(out, *p);
	}
	*ret = TAKE_PTR(out);
	return 0;
}

char *image_lowerdir(const struct image_info *i)
{
	_cleanup_free_ char *lpath = NULL;
	_cleanup_close_ int lfd = -EBADF;
	size_t len = 0;
	char *out, *p;

	if (i->n_layers == 0)
		return xasprintf("%s/empty", i->layers_root);
	for (size_t k = 0; k < i->n_layers; k++)
		len += strlen(i->layers[k]) + 1;
	if (len <= 3500) {
		out = p = xmalloc(len);
		for (size_t k = i->n_layers; k > 0; k--)
			p = stpcpy(stpcpy(p, i->layers[k - 1]), k > 1 ? ":" : "");
		return out;
	}
	lpath = xasprintf("%s/l", i->layers_root);
	lfd = open(lpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return NULL;
	len = i->n_layers * (strlen(lpath) + 2 + SHORT_LEN) + 1;
	if (len > 3500) {
		errno = E2BIG;
		return NULL;
	}
	out = p = xmalloc(len);
	for (size_t k = i->n_layers; k > 0; k--) {
		/* layers/<hex>/diff -> l/<12 hex> -> ../<hex>/diff */
		const char *path = i->layers[k - 1];
		size_t pl = strlen(path);
		_cleanup_free_ char *hex = NULL, *target = NULL, *name = NULL;
		char buf[256];
		ssize_t n;

		if (pl < 70) {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		hex = xstrndup(path + pl - 69, 64);
		target = xasprintf("../%s/diff", hex);
		name = xstrndup(hex, SHORT_LEN);
		if (symlinkat(target, lfd, name) < 0) {
			int e = errno;
			n = readlinkat(lfd, name, buf, sizeof(buf) - 1);
			if (e != EEXIST || n < 0 || (buf[n] = 0, !streq(buf, target))) {
				free(out);
				errno = EEXIST;
				return NULL;
			}
		}
		p = stpcpy(stpcpy(stpcpy(stpcpy(p, lpath), "/"), name), k > 1 ? ":" : "");
	}
	return out;
}
