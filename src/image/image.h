/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image: the local image store of berthd.
 *
 * Layout under data_root (0711):
 *   content/sha256/<hex>     verified blobs (image configs), written temp+fsync+rename
 *   content/ingest/          spool and temp files; emptied at open
 *   layers/<chain hex>/diff  unpacked layers (layers/<chain hex> is 0710); a pull commits
 *                            each one when it is verified, so some may belong to no image
 *   layers/<chain hex>/tar-split  the layout of the tar the layer came in (pulled, loaded),
 *                            to write that very tar again (image_layer_tar)
 *   layers/tmp-XXXXXX/       layers being unpacked; never trusted: removed at open
 *   layers/l/<short>         short symlinks to layer diffs, for long overlay lowerdir= values
 *   layers/empty             an empty directory: the lower dir of an image without layers
 *   state.db                 SQLite (WAL); this module owns the tables named image_*,
 *                            image_blobs among them: which registry blobs hold which layers
 *
 * Crash safety comes from ordering: data first (temp name, fsync, rename, fsync dir), then
 * metadata in one transaction. Removal deletes metadata first and data after. At open a
 * sweep removes ingest leftovers and layer dirs that no metadata names (temp dirs of a pull or
 * a load that did not finish among them); committed layers no image uses are kept for the next
 * pull.
 *
 * Every function is thread-safe: a store serialises its metadata work on one mutex; long
 * work (spooling, unpacking, hashing) runs outside it.
 *
 * Names: the store keeps references normalised (docker.io/library/busybox:latest); what it
 * hands out in image_info and in the JSON is Docker's familiar form (busybox:latest), as
 * the Engine API does. Image ids are "sha256:<64 hex>", the digest of the config blob.
 *
 * Errors: -errno with a message in *err in Docker's wording where Docker has one:
 * -ENOENT "No such image: x", -EINVAL "invalid reference format", -EEXIST/-EBUSY conflicts.
 */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include "basic/basic.h"
#include "json/json.h"

struct image_store;

/* Open (creating when missing) the store under data_root and run the startup sweep. */
int image_store_open(const char *data_root, struct image_store **ret, struct error **err);
/* Close the store; accepts NULL and returns NULL. No call may be running on it. */
struct image_store *image_store_close(struct image_store *s);
static inline void image_store_closep(struct image_store **s)
{
	image_store_close(*s);
}
/* Give back the memory of the store's database page cache (it refills from the file on the
 * next query); thread-safe. berthd's janitor calls it once a removal is done. */
void image_store_release_memory(struct image_store *s);

/* Limit on the uncompressed bytes of one layer (decompression bombs; default 64 GiB). */
void image_store_set_layer_limit(struct image_store *s, uint64_t max_bytes);

/* ---- references ------------------------------------------------------- */

/*
 * Normalise a reference as Docker does: "busybox" -> "docker.io/library/busybox:latest",
 * "localhost:5000/x" -> "localhost:5000/x:latest", "name@sha256:<64 hex>" keeps the digest
 * (and a tag given with it: "name:tag@sha256:..."). Uppercase repository names, bad tags,
 * bad digests and empty input fail with -EINVAL "invalid reference format". A bare 64-hex
 * string is refused too (Docker: it would be an id).
 */
int ref_normalize(const char *in, char **ret, struct error **err);
/* The familiar form of a normalised reference: docker.io/library/busybox:latest ->
 * busybox:latest, docker.io/u/x:1 -> u/x:1. Returns a new string. */
char *ref_familiar(const char *normalized);
/* Split a normalised reference: repository name (docker.io/library/busybox), tag or NULL,
 * digest or NULL. Each out parameter may be NULL. */
int ref_split(const char *normalized, char **ret_name, char **ret_tag, char **ret_digest);

/* ---- images ----------------------------------------------------------- */

struct image_info {
	char *id;	     /* "sha256:<hex>" */
	char **repo_tags;    /* familiar "busybox:latest", sorted; never NULL */
	char **repo_digests; /* familiar "busybox@sha256:...", sorted; never NULL */
	json_object *config; /* the whole image config (config.Env, .Cmd, rootfs, history, ...) */
	int64_t created;     /* unix seconds from the config's "created" (0 when missing) */
	int64_t size;	     /* bytes of all layers' content */
	char *parent;	     /* parent image id or "" */
	char **layers;	     /* absolute diff dirs, bottom -> top; may be empty, never NULL */
	size_t n_layers;
	char *layers_root; /* data_root/layers (for image_lowerdir) */
};
struct image_info *image_info_free(struct image_info *i);
static inline void image_info_freep(struct image_info **i)
{
	image_info_free(*i);
}

/*
 * Find an image by full id ("sha256:<hex>" or "<hex>"), unique id prefix (hex, with or
 * without "sha256:"), name[:tag] or name@digest. -ENOENT "No such image: <ref>".
 */
int image_lookup(struct image_store *s, const char *ref_or_id, struct image_info **ret,
		 struct error **err);

/*
 * The tags of the repository name ("busybox", "host:5000/x"; a tag or digest given with it is
 * ignored): normalised references "docker.io/library/busybox:latest", in lexical order, as
 * `docker push --all-tags` pushes them. An empty list when there are none.
 */
int image_repository_tags(struct image_store *s, const char *name, char ***ret, struct error **err);

/*
 * overlayfs's lowerdir= value for the image: top layer first, colon separated. When the
 * plain paths would pass ~3500 bytes it uses short links under layers/l/. An image without
 * layers gives layers/empty. Returns NULL with errno set on failure (E2BIG: too many).
 */
char *image_lowerdir(const struct image_info *i);

/* Progress of long operations, as Docker's JSON message lines: {"status":"..."} or
 * {"stream":"..."}; ud is the caller's. */
typedef void (*image_progress_cb)(void *ud, json_object *msg);

/*
 * `docker load`: read a docker-archive (manifest.json) or OCI image layout (index.json)
 * tarball, maybe gzip/zstd compressed, from fd. Everything is verified (blob digests,
 * layers against rootfs.diff_ids) before any metadata is committed; tags are then applied.
 * *ret_loaded gets lines "Loaded image: busybox:latest" / "Loaded image ID: sha256:...".
 */
int image_load(struct image_store *s, int fd, image_progress_cb progress, void *ud,
	       char ***ret_loaded, struct error **err);

/*
 * `docker save`: write a tarball with manifest.json, repositories and an OCI layout of the
 * images refs name (names keep their tags; ids save untagged) to out_fd. Layers are written
 * by image_layer_tar: the tars they came in when the store kept their layout, else tars made
 * from the diff dirs (deterministic). When such a layer differs from the recorded diff_id (a
 * layer from a foreign tar whose layout was not kept), the saved config carries the new
 * diff_ids and so a different id.
 */
int image_save(struct image_store *s, char *const *refs, int out_fd, struct error **err);

/*
 * `docker import`: the rootfs tarball on fd (maybe compressed) becomes a one-layer image,
 * tagged ref_or_null. changes_or_null is a JSON array of Dockerfile lines (CMD, ENTRYPOINT,
 * ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD) applied to the config;
 * message_or_null becomes the history comment. *ret_id gets "sha256:<hex>".
 */
int image_import(struct image_store *s, int fd, const char *ref_or_null,
		 json_object *changes_or_null, const char *message_or_null, char **ret_id,
		 struct error **err);

/* `docker tag src dst`: src is a ref or id; dst is normalised (a digest is refused). */
int image_tag(struct image_store *s, const char *src, const char *dst, struct error **err);

/*
 * Who uses an image: return 0 when no container does; 1 when one does, with its id in
 * *ret_container (caller frees) and whether it runs in *ret_running; or -errno.
 */
typedef int (*image_in_use_cb)(const char *image_id, void *ud, char **ret_container,
			       bool *ret_running);

/*
 * `docker rmi`: Docker's semantics: a name untags (deleting the image with its last
 * reference), an id deletes with all its names. Conflicts (-EBUSY... reported as -EEXIST
 * for HTTP 409) use Docker's messages. *ret_items: [{"Untagged":...},{"Deleted":...}].
 * Layers no other image, container or running pull uses go with the image; noprune keeps the
 * parent chain.
 */
int image_remove(struct image_store *s, const char *ref, bool force, bool noprune,
		 image_in_use_cb in_use, void *ud, json_object **ret_items, struct error **err);

/*
 * Layers a container runs on: holder (a container id) keeps the image's layers even when
 * the image is removed (`rmi -f` past a stopped container does this by itself through the
 * in_use callback). Release when the container is removed: those of its layers no image,
 * other holder or lease uses are then deleted.
 */
int image_layers_hold(struct image_store *s, const char *holder, const char *ref_or_id,
		      struct error **err);
int image_layers_release(struct image_store *s, const char *holder, struct error **err);

/* ---- JSON for the Engine API --------------------------------------------- */

/* GET /images/json: filters is the decoded `filters` (map of name -> [values] or
 * {value: true}) or NULL; filters: dangling, label, reference, before, since. */
int image_list_json(struct image_store *s, json_object *filters, bool all, json_object **ret,
		    struct error **err);
/* GET /images/{name}/json. legacy: also the Container and ContainerConfig dockerd sends
 * below API 1.45 (the image's own, or the zero container config when it has none). */
int image_inspect_json(struct image_store *s, const char *ref, bool legacy, json_object **ret,
		       struct error **err);
/* GET /images/{name}/history */
int image_history_json(struct image_store *s, const char *ref, json_object **ret,
		       struct error **err);
/* POST /images/prune: {"ImagesDeleted":[...]|null,"SpaceReclaimed":N}; dangling images
 * only, unless filters say dangling=false; also label and until. Layers no image, container
 * or running pull uses (left by pulls that did not finish) go too, unless a label filter is
 * given (they have no labels). */
int image_prune(struct image_store *s, json_object *filters, image_in_use_cb in_use, void *ud,
		json_object **ret, struct error **err);
/* GET /system/df: {"LayersSize":N,"Images":[ImageSummary...]} (the caller moves the members
 * into its reply). LayersSize counts every committed layer, those no image uses too. */
int image_disk_usage_json(struct image_store *s, json_object **ret, struct error **err);
/* Number of images (for /info). */
int image_count(struct image_store *s);

/* ---- layers ------------------------------------------------------------- */

/*
 * Unpack a layer tar (plain, gzip, zstd, xz, bzip2) from in_fd into the directory root_fd,
 * confined to it: every path is resolved with RESOLVE_IN_ROOT, nothing follows a symlink,
 * hardlinks stay inside, Docker whiteouts become overlay whiteouts (char 0:0 and
 * trusted.overlay.opaque=y), malformed whiteout names are "invalid archive". At most
 * max_bytes uncompressed bytes (0: 64 GiB). *ret_size (may be NULL) gets the content size,
 * *ret_diff_id (may be NULL) the sha256 of the uncompressed stream.
 */
int image_untar(int in_fd, int root_fd, uint64_t max_bytes, uint64_t *ret_size, char **ret_diff_id,
		struct error **err);

/*
 * Write the directory root_fd as a layer tar to out_fd: sorted entries, mtimes kept (whole
 * seconds), overlay whiteouts back to .wh. files. *ret_diff_id (may be NULL) gets its sha256.
 */
int image_tar_layer(int root_fd, int out_fd, char **ret_diff_id, struct error **err);

/*
 * Write layer idx of an image as a tar to out_fd, a regular file (which this truncates and
 * rewinds as it needs): the tar the layer was unpacked from, byte for byte, when the store kept
 * its layout (layers pulled or loaded), so that its digest is the config's diff id; else one
 * made from the diff dir (image_tar_layer), whose digest differs from the diff id when the
 * layer came from a tar not made that way. *ret_diff_id gets the digest of what was written.
 */
int image_layer_tar(const struct image_info *info, size_t idx, int out_fd, char **ret_diff_id,
		    struct error **err);

/* ---- pulling and pushing (the registry module) ---------------------------- */

/* true for "sha256:<64 lowercase hex>", the only digest form the store accepts; check every
 * digest from the outside with it before it goes into a path or a URL. */
bool image_digest_valid(const char *digest);
/* The chain id of a layer over its parent's chain id (NULL for the bottom layer). */
char *image_chain_id(const char *parent_chain, const char *diff_id);

/*
 * A lease keeps committed layers in the store while a pull that will name them in an image
 * runs: rmi, prune and the release of a container's layers delete no layer a lease holds.
 * Leases live in memory only; a crash drops them, and what they kept is then a layer no image
 * uses, which the next pull of an image with it reuses and a prune removes.
 */
struct image_lease;
int image_lease_new(struct image_store *s, struct image_lease **ret);
/* Drop the lease (its layers stay); accepts NULL and returns NULL. */
struct image_lease *image_lease_free(struct image_lease *l);
static inline void image_lease_freep(struct image_lease **l)
{
	image_lease_free(*l);
}
/* Whether the store has the layer with this chain id; when it has, the lease holds it from
 * now on. *ret_size (may be NULL) gets its size. */
bool image_layer_acquire(struct image_lease *l, const char *chain_id, uint64_t *ret_size);

/*
 * Unpack a layer tar stream (plain, gzip, zstd) from in_fd into a new temp dir of the store,
 * as image_untar does. *ret_tmp names the dir for image_layer_commit, which takes it, or
 * image_layer_discard, which removes it. Nothing is visible to lookups until committed, and a
 * crash leaves only what the sweep at open removes.
 */
int image_layer_unpack(struct image_store *s, int in_fd, char **ret_tmp, uint64_t *ret_size,
		       char **ret_diff_id, struct error **err);
void image_layer_discard(struct image_store *s, const char *tmp);

/*
 * Commit one verified layer by itself, before any image names it: tmp (from
 * image_layer_unpack, consumed whether this succeeds or not) must have unpacked to diff_id
 * (the config's entry; else "layers from manifest don't match image configuration"), and the
 * layer under it, parent_chain (NULL for the bottom layer), must be committed (-ENOENT). Its
 * data is synced and moved into place, then its row recorded, and the lease holds it. A layer
 * the store has already is kept as it is. *ret_chain (may be NULL) gets its chain id.
 */
int image_layer_commit(struct image_lease *l, const char *tmp, const char *parent_chain,
		       const char *diff_id, char **ret_chain, struct error **err);

/*
 * Commit a pulled image whose layers are all committed (image_layer_commit; a lease must keep
 * them until this returns): config is the config blob's bytes, which must hash to
 * config_digest; its rootfs.diff_ids name the layers (-ENOENT when one is not in the store).
 * refs are normalised: name:tag and name@digest (the manifest's digest, a RepoDigest).
 * *ret_id (may be NULL) gets the image id.
 */
int image_commit_pulled(struct image_store *s, const char *config, size_t config_len,
			const char *config_digest, char *const *refs, char **ret_id,
			struct error **err);

/*
 * What registries hold (Docker's "v2 metadata"): repository (a normalised name,
 * "host:5000/team/x") has the blob digest (media_type, size bytes), whose uncompressed content
 * is the layer tar diff_id; a pull verified it or a push put it there. A push of the layer to the
 * same registry can then find or mount that blob instead of compressing the layer again, and
 * the pushed manifest names the blob the layer came in. Recording is best effort and keeps
 * the 16 most recent blobs of a layer; they go with the layer.
 */
struct image_blob {
	char *digest, *media_type, *repository;
	int64_t size;
};
int image_blob_record(struct image_store *s, const char *diff_id, const char *digest,
		      const char *media_type, int64_t size, const char *repository);
/* The blobs recorded for diff_id, the most recent first: *ret has *ret_n entries. */
int image_blobs_of(struct image_store *s, const char *diff_id, struct image_blob **ret,
		   size_t *ret_n);
void image_blobs_free(struct image_blob *b, size_t n);

/* The config blob of an image, byte for byte (what its id is the digest of). */
int image_config_blob(struct image_store *s, const char *id, char **ret, size_t *ret_len,
		      struct error **err);
/* Point the normalised reference ref (name:tag or name@digest) at the image id. */
int image_add_ref(struct image_store *s, const char *id, const char *ref, struct error **err);
/* A temp file in the store's ingest dir (same filesystem as the store), already unlinked. */
int image_tmpfile(struct image_store *s);

#endif
