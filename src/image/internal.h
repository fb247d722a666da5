/* SPDX-License-Identifier: Apache-2.0 */
/* image: private declarations shared by the files of the module. */
#ifndef BERTH_IMAGE_INTERNAL_H
#define BERTH_IMAGE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "basic/digest.h"
#include "image.h"

#define IMAGE_JSON_MAX (8u << 20)	      /* manifest.json, index.json, configs */
#define IMAGE_LAYER_MAX_DEFAULT (64ull << 30) /* uncompressed bytes of one layer */
#define SHORT_LEN 12			      /* hex digits of a layer's link name in layers/l/ */

struct image_store {
	pthread_mutex_t lock;
	sqlite3 *db;
	char *root;	   /* data_root */
	char *layers_root; /* data_root/layers */
	int root_fd;
	int blobs_fd;  /* content/sha256 */
	int ingest_fd; /* content/ingest */
	int layers_fd; /* layers */
	uint64_t layer_limit;
	int64_t next_lease; /* numbers of struct image_lease (lock held) */
};

/* A lease of a running pull: rows of the temp table image_leases (see image.h). */
struct image_lease {
	struct image_store *s;
	int64_t id;
};

/* ---- digest.c ---------------------------------------------------------- */

/* true for "sha256:<64 lowercase hex>" */
bool digest_valid(const char *d);
bool hex64_valid(const char *h);
/* chain id of a parent chain id (NULL for the bottom) and a diff id */
char *chain_id(const char *parent_chain, const char *diff_id);

/* Make a temp file in the ingest dir (O_RDWR, O_CLOEXEC, unlinked unless ret_name). */
int ingest_tmpfile(struct image_store *s, char **ret_name);
/* Store a blob durably as content/sha256/<hex>; verifies it hashes to digest when given,
 * else *ret_digest gets its digest. */
int blob_put(struct image_store *s, const void *p, size_t n, const char *digest, char **ret_digest,
	     struct error **err);
int blob_read(struct image_store *s, const char *digest, char **ret, size_t *ret_len,
	      struct error **err);
int fsync_dir_at(int dirfd, const char *path);

/* ---- tar.c / tarw.c / tarsplit.c ---------------------------------------- */

/* The file beside a layer's diff/ that records its tar's layout (tarsplit.c). */
#define TAR_SPLIT "tar-split"

/* Records the layout of a tar stream fed to it, into fd (gzip compressed). */
struct tarsplit;
int tarsplit_new(int fd, struct tarsplit **ret);
struct tarsplit *tarsplit_free(struct tarsplit *t);
static inline void tarsplit_freep(struct tarsplit **t)
{
	tarsplit_free(*t);
}
/* The next bytes of the uncompressed stream, in order. */
void tarsplit_feed(struct tarsplit *t, const void *p, size_t n);
/* End the record with the stream's digest. -EBADMSG when the stream was not one it could
 * follow, or a write failed: the record is then useless. */
int tarsplit_finish(struct tarsplit *t, const char *diff_id);
/*
 * Write the recorded tar to out_fd, file content from the diff dir root_fd. *ret_diff_id (may
 * be NULL) gets its digest, which is checked against the recorded one (-EBADMSG when they
 * differ, the layout is broken or the dir does not hold what the tar had); on failure out_fd
 * may hold part of a tar.
 */
int tarsplit_assemble(int split_fd, int root_fd, int out_fd, char **ret_diff_id,
		      struct error **err);

/* image_untar, also recording the stream's layout into split (may be NULL). */
int untar_split(int in_fd, int root_fd, uint64_t max_bytes, struct tarsplit *split,
		uint64_t *ret_size, char **ret_diff_id, struct error **err);

struct archive;
/* Extract an already opened tar reader into root_fd. */
int untar_archive(struct archive *a, int root_fd, uint64_t *ret_size, struct error **err);
/* Open path (cleaned) inside root_fd with RESOLVE_IN_ROOT; returns the fd or -errno. */
int open_in_root(int root_fd, const char *path, int flags);

/* ---- store.c ----------------------------------------------------------- */

/* A layer of a new image: chain id, diff id, size and the temp dir holding diff/ (NULL when
 * the layer is already in the store). */
struct new_layer {
	char *chain;
	char *diff_id;
	uint64_t size;
	char *tmpdir; /* name under layers/ */
};

int store_lock(struct image_store *s);
void store_unlock(struct image_store *s);
static inline void store_unlockp(struct image_store **s)
{
	if (*s)
		store_unlock(*s);
}
#define _cleanup_unlock_ _cleanup_(store_unlockp) _unused_

/* true when the store has the layer committed (lock held). */
bool layer_exists_locked(struct image_store *s, const char *chain);
/* Size of a committed layer; false when the store does not have it (lock held). */
bool layer_size_locked(struct image_store *s, const char *chain, uint64_t *ret_size);
/*
 * Delete the rows of the layers no image, holder (container) or lease (running pull) uses,
 * in the caller's transaction: those among only (all of them when only is NULL), in only's
 * order. *ret_gone gets their chain ids; *freed (may be NULL) adds their sizes. The data goes
 * after the commit, with layers_remove_data.
 */
int layers_drop_unused_locked(struct image_store *s, char *const *only, char ***ret_gone,
			      int64_t *freed);
/* Remove the dirs and short links of layers whose rows are gone. */
void layers_remove_data(struct image_store *s, char *const *gone);
/* Unpack a tar stream into a fresh temp dir under layers/; returns its name. */
int layer_unpack_tmp(struct image_store *s, int in_fd, char **ret_tmpdir, uint64_t *ret_size,
		     char **ret_diff_id, struct error **err);

/* Commit an image: rename layer temp dirs into place, then one transaction recording the
 * layers, the image and its tags (normalised refs). The config blob must be stored. */
int image_commit(struct image_store *s, const char *config_digest, const char *config,
		 size_t config_len, struct new_layer *layers, size_t n_layers, char *const *tags,
		 struct error **err);
void new_layers_free(struct new_layer *l, size_t n);

/* Resolve a ref or id to the full image id (lock held). */
int resolve_locked(struct image_store *s, const char *ref_or_id, char **ret_id,
		   char **ret_normalized, struct error **err);
int info_load_locked(struct image_store *s, const char *id, struct image_info **ret,
		     struct error **err);
/* all image ids (lock held) */
int list_ids_locked(struct image_store *s, char ***ret);
/* refs (normalised) of an image (lock held) */
int refs_of_locked(struct image_store *s, const char *id, char ***ret);
int image_delete_locked(struct image_store *s, const char *id, json_object *items,
			int64_t *reclaimed, struct error **err);
int image_delete_check(struct image_store *s, const char *id, bool force, bool skip_refs,
		       image_in_use_cb in_use, void *ud, struct error **err);
int sql_exec(struct image_store *s, const char *sql, struct error **err);

/* ---- config.c ---------------------------------------------------------- */

int parse_json_limited(const char *buf, size_t len, json_object **ret, const char *what,
		       struct error **err);
/* diff_ids of a config (rootfs.diff_ids), validated */
int config_diff_ids(json_object *config, char ***ret, struct error **err);
int64_t config_created(json_object *config);
/* Apply `docker import --change` lines to a config's "config" object. */
int config_apply_changes(json_object *cfg, json_object *changes, struct error **err);

#endif
