/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `docker push`: for each layer, a blob the registry holds already is used when the store knows
 * one (image_blobs_of: the blob a pull got the layer in, or an earlier push put there): found
 * in the repository with a HEAD, or mounted from another repository of the registry; the
 * manifest then names the very blob the layer came in. Otherwise the layer's tar is written
 * (image_layer_tar: the tar it came in, byte for byte, when the store kept its layout), gzip
 * compressed into a temp file of the store and uploaded unless the registry has it. Then the
 * config and the manifest.
 *
 * A layer whose tar cannot be written again as the config's diff id says (a layer loaded or
 * pulled before the store kept tar layouts) is pushed as made, with a config that names it, as
 * `save` does: the pushed image then has another id, and no RepoDigest is recorded for the
 * local one.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <zlib.h>

#include "internal.h"

#define CHUNK_DEFAULT (64ull << 20)
#define PROGRESS_INTERVAL_USEC 100000

static const struct registry_config default_cfg;

#define MAX_CANDIDATES 4 /* known blobs of a layer a push tries */

struct push_layer {
	size_t idx;
	char id[13];
	const char *config_diff_id;
	char *diff_id;	  /* of the pushed tar; the config's when a known blob is used */
	char *digest;	  /* of the pushed blob */
	char *media_type; /* of a known blob used; NULL: gzip made here */
	uint64_t size;
	struct image_blob *known; /* blobs of this registry the store knows for the layer */
	size_t n_known;
	int fd;
	int r;
	struct error *err;
};

struct push {
	struct image_store *store;
	struct reg_session *sess;
	const struct registry_config *cfg;
	struct reg_progress *prog;
	const struct image_info *info;
	const char *repo;
	bool oci;		/* the manifest is OCI's: OCI layer types are welcome as they are */
	const char *mount_from; /* a repository of the same registry that has the blobs */
	struct push_layer *layers;
	size_t n_layers;
	pthread_mutex_t lock;
	size_t next;
	volatile bool failed;
};

/* ---- making a layer blob --------------------------------------------------------- */

static int gzip_fd(int in_fd, int out_fd, char **ret_digest, uint64_t *ret_size, struct error **err)
{
	_cleanup_free_ unsigned char *in = xmalloc(1 << 16), *out = xmalloc(1 << 16);
	struct digest md;
	z_stream z = {0};
	uint64_t total = 0;
	int flush = Z_NO_FLUSH, r = 0;

	/* windowBits 16+15: a gzip header with mtime 0, so the same tar gives the same blob */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return error_setx(err, -ENOMEM, "gzip: cannot initialise");
	digest_init(&md);
	if (lseek(in_fd, 0, SEEK_SET) < 0) {
		r = error_set(err, -errno, "read layer");
		goto out;
	}
	while (flush != Z_FINISH) {
		ssize_t n = read(in_fd, in, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_set(err, -errno, "read layer");
			goto out;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = in;
		z.avail_in = (uInt)n;
		do {
			size_t have;
			z.next_out = out;
			z.avail_out = 1 << 16;
			if (deflate(&z, flush) == Z_STREAM_ERROR) {
				r = error_setx(err, -EIO, "gzip failed");
				goto out;
			}
			have = (1 << 16) - z.avail_out;
			if (have && loop_write(out_fd, out, have) < 0) {
				r = error_set(err, -errno, "write compressed layer");
				goto out;
			}
			digest_update(&md, out, have);
			total += have;
		} while (z.avail_out == 0);
	}
	*ret_size = total;
	*ret_digest = digest_final(&md);
out:
	deflateEnd(&z);
	return r;
}

static int make_layer(struct push *p, struct push_layer *l, struct error **err)
{
	_cleanup_close_ int tar = -EBADF;
	int r;

	tar = image_tmpfile(p->store);
	if (tar < 0)
		return error_set(err, tar, "create temp file");
	r = image_layer_tar(p->info, l->idx, tar, &l->diff_id, err);
	if (r < 0)
		return r;
	l->fd = image_tmpfile(p->store);
	if (l->fd < 0)
		return error_set(err, l->fd, "create temp file");
	return gzip_fd(tar, l->fd, &l->digest, &l->size, err);
}

/* ---- uploads ----------------------------------------------------------------- */

struct up_progress {
	struct reg_progress *prog;
	const char *id;
	uint64_t base, total, last;
};

static void on_upload(void *ud, uint64_t now, uint64_t total)
{
	struct up_progress *u = ud;
	uint64_t t = now_usec(CLOCK_MONOTONIC);

	if (u->id && t - u->last >= PROGRESS_INTERVAL_USEC) {
		u->last = t;
		reg_progress(u->prog, u->id, "Pushing", (int64_t)(u->base + now),
			     (int64_t)u->total);
	}
}

/* HEAD the blob: 1 when the registry has it, 0 when not. */
static int blob_exists(struct reg_session *s, CURL *c, const char *repo, const char *digest,
		       struct error **err)
{
	_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
	_cleanup_free_ char *url = reg_url(s->base, repo, "blobs", digest);
	struct reg_request rq = {.method = "HEAD", .url = url, .body_fd = -1, .timeout_sec = 120};
	int r;

	if (!url)
		return error_setx(err, -EINVAL, "invalid digest");
	r = reg_do(s, c, &rq, &rs, err);
	if (r < 0)
		return r;
	if (rs.status == 200)
		return 1;
	if (rs.status == 404)
		return 0;
	return reg_status_error(&rs, "HEAD", url, err);
}

static int next_location(const char *url, const struct reg_response *rs, char **ret,
			 struct error **err)
{
	char *loc = rs->location ? reg_url_resolve(url, rs->location) : NULL;
	if (!loc)
		return error_setx(err, -EIO, "registry gave no usable upload location");
	*ret = loc;
	return 0;
}

/*
 * Upload size bytes (from fd, or buf) as digest. mount_from: try a cross-repository mount
 * first; *ret_mounted tells whether it worked.
 */
static int upload_blob(struct push *p, CURL *c, const char *digest, int fd, const void *buf,
		       uint64_t size, const char *mount_from, const char *id, bool *ret_mounted,
		       struct error **err)
{
	struct reg_session *s = p->sess;
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/uploads/", s->base, p->repo),
			    *loc = NULL;
	uint64_t chunk = p->cfg->chunk_size ? p->cfg->chunk_size : CHUNK_DEFAULT;
	struct up_progress up = {.prog = p->prog, .id = id, .total = size};
	int r;

	if (ret_mounted)
		*ret_mounted = false;
	if (mount_from) {
		char *u = reg_url_add_query(url, "mount", digest), *u2;
		u2 = u ? reg_url_add_query(u, "from", mount_from) : NULL;
		free(u);
		if (!u2)
			return error_setx(err, -EINVAL, "invalid upload URL");
		free(url);
		url = u2;
	}
	{
		_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
		struct reg_request rq = {
		    .method = "POST", .url = url, .body_fd = -1, .timeout_sec = 120};
		r = reg_do(s, c, &rq, &rs, err);
		if (r < 0)
			return r;
		if (rs.status == 201 && mount_from) {
			if (ret_mounted)
				*ret_mounted = true;
			return 0;
		}
		if (rs.status != 202)
			return reg_status_error(&rs, "POST", url, err);
		r = next_location(url, &rs, &loc, err);
		if (r < 0)
			return r;
	}
	if (size > chunk) {
		for (uint64_t off = 0; off < size;) {
			_cleanup_(reg_response_release) struct reg_response rs = {.content_length =
										      -1};
			uint64_t n = size - off < chunk ? size - off : chunk;
			_cleanup_free_ char *range =
			    xasprintf("Content-Range: %" PRIu64 "-%" PRIu64, off, off + n - 1);
			struct reg_request rq = {
			    .method = "PATCH",
			    .url = loc,
			    .content_type = "application/octet-stream",
			    .header = range,
			    .body = buf ? (const char *)buf + off : NULL,
			    .body_fd = buf ? -1 : fd,
			    .body_off = buf ? 0 : off,
			    .body_len = n,
			    .on_progress = on_upload,
			    .ud = &up,
			    .cancel = &p->failed,
			};
			up.base = off;
			r = reg_do(s, c, &rq, &rs, err);
			if (r < 0)
				return r;
			if (rs.status != 202)
				return reg_status_error(&rs, "PATCH", loc, err);
			{
				char *nl = NULL;
				r = next_location(loc, &rs, &nl, err);
				if (r < 0)
					return r;
				free(loc);
				loc = nl;
			}
			off += n;
		}
		buf = NULL;
		fd = -1;
		size = 0;
	}
	{
		_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
		_cleanup_free_ char *put = reg_url_add_query(loc, "digest", digest);
		struct reg_request rq = {
		    .method = "PUT",
		    .url = put,
		    .content_type = "application/octet-stream",
		    .body = buf,
		    .body_fd = buf ? -1 : fd,
		    .body_len = size,
		    .on_progress = on_upload,
		    .ud = &up,
		    .cancel = &p->failed,
		};
		if (!put)
			return error_setx(err, -EINVAL, "invalid upload URL");
		up.base = 0;
		r = reg_do(s, c, &rq, &rs, err);
		if (r < 0)
			return r;
		if (rs.status != 201)
			return reg_status_error(&rs, "PUT", put, err);
	}
	return 0;
}

/* Ask the registry to mount digest from another repository: 1 when it did, 0 when not. */
static int mount_blob(struct push *p, CURL *c, const char *digest, const char *from)
{
	_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
	_cleanup_free_ char *base = xasprintf("%s/v2/%s/blobs/uploads/", p->sess->base, p->repo),
			    *u1 = reg_url_add_query(base, "mount", digest),
			    *url = u1 ? reg_url_add_query(u1, "from", from) : NULL;
	_cleanup_error_ struct error *e = NULL;
	struct reg_request rq = {.method = "POST", .url = url, .body_fd = -1, .timeout_sec = 120};

	if (!url || reg_do(p->sess, c, &rq, &rs, &e) < 0)
		return 0;
	if (rs.status == 201)
		return 1;
	if (rs.status == 202 && rs.location) {
		/* the registry started an upload instead: we have nothing to send to it */
		_cleanup_(reg_response_release) struct reg_response rs2 = {.content_length = -1};
		_cleanup_free_ char *loc = reg_url_resolve(url, rs.location);
		_cleanup_error_ struct error *e2 = NULL;
		struct reg_request del = {
		    .method = "DELETE", .url = loc, .body_fd = -1, .timeout_sec = 30};
		if (loc)
			(void)reg_do(p->sess, c, &del, &rs2, &e2);
	}
	return 0;
}

/* The media type a known blob goes into our manifest with; NULL when it cannot. */
static const char *known_type(const struct push *p, const char *mt)
{
	if (streq(mt, MT_DOCKER_LAYER) || streq(mt, MT_OCI_LAYER_GZIP))
		return p->oci ? MT_OCI_LAYER_GZIP : MT_DOCKER_LAYER;
	if (p->oci && (streq(mt, MT_OCI_LAYER) || streq(mt, MT_OCI_LAYER_ZSTD)))
		return mt;
	return NULL;
}

static void use_known(struct push_layer *l, const struct image_blob *b, const char *mt)
{
	l->digest = xstrdup(b->digest);
	l->media_type = xstrdup(mt);
	l->size = (uint64_t)b->size;
	l->diff_id = xstrdup(l->config_diff_id);
}

/* A blob the registry holds for the layer: 1 when one is used, 0 when none. */
static int use_known_blob(struct push *p, CURL *c, struct push_layer *l)
{
	_cleanup_strv_free_ char **tried = NULL;

	/* in the repository already */
	for (size_t i = 0; i < l->n_known; i++) {
		const struct image_blob *b = &l->known[i];
		_cleanup_error_ struct error *e = NULL;
		const char *mt = known_type(p, b->media_type);
		if (!mt || strv_contains(tried, b->digest))
			continue;
		tried = strv_append(tried, b->digest);
		if (blob_exists(p->sess, c, p->repo, b->digest, &e) == 1) {
			use_known(l, b, mt);
			reg_progress(p->prog, l->id, "Layer already exists", -1, -1);
			return 1;
		}
	}
	/* in another repository of the registry */
	for (size_t i = 0; i < l->n_known; i++) {
		const struct image_blob *b = &l->known[i];
		_cleanup_(reg_ref_release) struct reg_ref o = {0};
		const char *mt = known_type(p, b->media_type);
		if (!mt || reg_ref_parse(b->repository, &o, NULL) < 0 || streq(o.repo, p->repo))
			continue;
		if (mount_blob(p, c, b->digest, o.repo) == 1) {
			_cleanup_free_ char *m = xasprintf("Mounted from %s", o.repo);
			use_known(l, b, mt);
			reg_progress(p->prog, l->id, m, -1, -1);
			return 1;
		}
	}
	return 0;
}

static int push_layer(struct push *p, CURL *c, struct push_layer *l, struct error **err)
{
	bool mounted = false;
	int r;

	if (use_known_blob(p, c, l) == 1)
		return 0;
	r = make_layer(p, l, err);
	if (r < 0)
		return r;
	r = blob_exists(p->sess, c, p->repo, l->digest, err);
	if (r < 0)
		return r;
	if (r == 1) {
		reg_progress(p->prog, l->id, "Layer already exists", -1, -1);
		return 0;
	}
	reg_progress(p->prog, l->id, "Pushing", 0, (int64_t)l->size);
	r = upload_blob(p, c, l->digest, l->fd, NULL, l->size, p->mount_from, l->id, &mounted, err);
	if (r < 0)
		return r;
	if (mounted) {
		_cleanup_free_ char *m = xasprintf("Mounted from %s", p->mount_from);
		reg_progress(p->prog, l->id, m, -1, -1);
	} else {
		reg_progress(p->prog, l->id, "Pushed", -1, -1);
	}
	return 0;
}

static void *worker(void *ud)
{
	struct push *p = ud;
	_cleanup_(reg_curl_freep) CURL *c = reg_curl_new();

	for (;;) {
		struct push_layer *l;
		pthread_mutex_lock(&p->lock);
		if (p->failed || p->next >= p->n_layers) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		l = &p->layers[p->next++];
		pthread_mutex_unlock(&p->lock);
		l->r = push_layer(p, c, l, &l->err);
		if (l->r < 0) {
			pthread_mutex_lock(&p->lock);
			p->failed = true;
			pthread_mutex_unlock(&p->lock);
		}
	}
	return NULL;
}

/* ---- one tag ------------------------------------------------------------------- */

static json_object *descriptor(const char *mt, const char *digest, uint64_t size)
{
	json_object *d = json_object_new_object();
	json_add_str(d, "mediaType", mt);
	json_add_int(d, "size", (int64_t)size);
	json_add_str(d, "digest", digest);
	return d;
}

static const char *plain(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* A repository of the same registry the image came from, to mount blobs from. */
static char *mount_source(const struct image_info *info, const struct reg_ref *rr)
{
	for (char **d = info->repo_digests; d && *d; d++) {
		_cleanup_(reg_ref_release) struct reg_ref o = {0};
		if (reg_ref_parse(*d, &o, NULL) < 0)
			continue;
		if (streq(o.domain, rr->domain) && !streq(o.repo, rr->repo))
			return xstrdup(o.repo);
	}
	return NULL;
}

/* The blobs of rr's registry the store knows for the layer, at most MAX_CANDIDATES; their
 * repositories join *scopes (pull), for the mounts. */
static void find_known(struct image_store *store, const struct reg_ref *rr, struct push_layer *l,
		       char ***scopes)
{
	struct image_blob *all = NULL;
	size_t n = 0;

	if (image_blobs_of(store, l->config_diff_id, &all, &n) < 0)
		return;
	l->known = xnew0(struct image_blob, MAX_CANDIDATES);
	for (size_t i = 0; i < n && l->n_known < MAX_CANDIDATES; i++) {
		_cleanup_(reg_ref_release) struct reg_ref o = {0};
		if (reg_ref_parse(all[i].repository, &o, NULL) < 0 ||
		    !streq(o.domain, rr->domain) || !image_digest_valid(all[i].digest) ||
		    all[i].size < 0)
			continue;
		if (!streq(o.repo, rr->repo)) {
			_cleanup_free_ char *sc = xasprintf("repository:%s:pull", o.repo);
			if (!strv_contains(*scopes, sc))
				*scopes = strv_append(*scopes, sc);
		}
		l->known[l->n_known++] = all[i];
		all[i] = (struct image_blob){0};
	}
	image_blobs_free(all, n);
}

/* Push the image tagged rr (a name:tag) to its repository. */
static int push_tag(struct image_store *store, const struct reg_ref *rr,
		    const struct registry_auth *auth, const struct registry_config *cfg,
		    struct reg_progress *prog, char **ret_digest, struct error **err)
{
	_cleanup_(image_info_freep) struct image_info *info = NULL;
	_cleanup_(reg_session_freep) struct reg_session *sess = NULL;
	_cleanup_(reg_curl_freep) CURL *c = NULL;
	_cleanup_json_ json_object *config = NULL, *manifest = NULL;
	_cleanup_strv_free_ char **scopes = NULL;
	_cleanup_free_ char *cfg_buf = NULL, *mount = NULL, *new_cfg = NULL, *cfg_digest = NULL,
			    *mdigest = NULL, *tagref = NULL;
	_cleanup_free_ pthread_t *threads = NULL;
	struct push p = {.store = store, .prog = prog};
	json_object *rootfs = NULL, *ids = NULL, *layers;
	const char *cfg_bytes, *mbytes;
	size_t cfg_len = 0, nthreads, started = 0;
	bool docker, changed = false;
	int r;

	tagref = xasprintf("%s:%s", rr->name, rr->tag);
	if (image_lookup(store, tagref, &info, NULL) < 0) {
		_cleanup_free_ char *f = ref_familiar(tagref);
		return error_setx(err, -ENOENT, "An image does not exist locally with the tag: %s",
				  f);
	}
	r = image_config_blob(store, info->id, &cfg_buf, &cfg_len, err);
	if (r < 0)
		return r;
	r = json_parse_buffer(cfg_buf, cfg_len, &config, err);
	if (r < 0)
		return r;
	docker = json_object_object_get_ex(config, "container_config", NULL) ||
		 json_object_object_get_ex(config, "docker_version", NULL);
	if (json_object_object_get_ex(config, "rootfs", &rootfs))
		json_object_object_get_ex(rootfs, "diff_ids", &ids);
	if (info->n_layers && (!ids || !json_object_is_type(ids, json_type_array) ||
			       json_object_array_length(ids) != info->n_layers))
		return error_setx(err, -EINVAL, "image %s: layers don't match its configuration",
				  info->id);

	pthread_mutex_init(&p.lock, NULL);
	p.cfg = cfg;
	p.info = info;
	p.repo = rr->repo;
	p.oci = !docker;
	mount = mount_source(info, rr);
	p.mount_from = mount;
	{
		_cleanup_free_ char *sc = xasprintf("repository:%s:pull,push", rr->repo);
		scopes = strv_append(NULL, sc);
		if (mount) {
			_cleanup_free_ char *ms = xasprintf("repository:%s:pull", mount);
			scopes = strv_append(scopes, ms);
		}
	}
	p.n_layers = info->n_layers;
	p.layers = xnew0(struct push_layer, p.n_layers ? p.n_layers : 1);
	for (size_t i = 0; i < p.n_layers; i++) {
		struct push_layer *l = &p.layers[i];
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
		if (!image_digest_valid(d)) {
			r = error_setx(err, -EINVAL, "image %s: invalid diff id", info->id);
			goto out;
		}
		l->idx = i;
		l->fd = -EBADF;
		l->config_diff_id = d;
		snprintf(l->id, sizeof(l->id), "%.12s", d + 7);
		find_known(store, rr, l, &scopes);
	}
	r = reg_session_open(cfg, auth, reg_domain_host(rr->domain), NULL, scopes, &sess, err);
	if (r < 0)
		goto out;
	p.sess = sess;
	for (size_t i = p.n_layers; i > 0; i--)
		reg_progress(prog, p.layers[i - 1].id, "Preparing", -1, -1);
	nthreads = cfg->max_concurrent_uploads ? cfg->max_concurrent_uploads : 5;
	if (nthreads > p.n_layers)
		nthreads = p.n_layers;
	threads = xnew0(pthread_t, nthreads ? nthreads : 1);
	for (; started < nthreads; started++)
		if (pthread_create(&threads[started], NULL, worker, &p) != 0)
			break;
	if (started == 0 && nthreads > 0) {
		r = error_setx(err, -EAGAIN, "cannot start upload threads");
		goto out;
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < p.n_layers; i++)
		if (p.layers[i].r < 0) {
			r = error_setx(err, p.layers[i].r, "%s",
				       p.layers[i].err ? p.layers[i].err->msg : "failed");
			goto out;
		}

	/* the config: as stored, unless a layer made again has another diff id */
	for (size_t i = 0; i < p.n_layers; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
		if (!streq_ptr(d, p.layers[i].diff_id)) {
			json_object_array_put_idx(ids, i,
						  json_object_new_string(p.layers[i].diff_id));
			changed = true;
		}
	}
	if (changed) {
		_cleanup_free_ char *f = ref_familiar(tagref);
		log_info("push %s: layers made again differ from the image's diff ids; pushing a "
			 "config that names them",
			 f);
		new_cfg = xstrdup(plain(config));
		cfg_bytes = new_cfg;
		cfg_len = strlen(new_cfg);
	} else {
		cfg_bytes = cfg_buf;
	}
	cfg_digest = digest_buf(cfg_bytes, cfg_len);
	c = reg_curl_new();
	r = blob_exists(sess, c, rr->repo, cfg_digest, err);
	if (r == 0)
		r = upload_blob(&p, c, cfg_digest, -1, cfg_bytes, cfg_len, NULL, NULL, NULL, err);
	if (r < 0)
		goto out;

	manifest = json_object_new_object();
	json_add_int(manifest, "schemaVersion", 2);
	json_add_str(manifest, "mediaType", docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST);
	json_object_object_add(
	    manifest, "config",
	    descriptor(docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, cfg_digest, cfg_len));
	layers = json_object_new_array();
	for (size_t i = 0; i < p.n_layers; i++) {
		const char *mt = p.layers[i].media_type ? p.layers[i].media_type
				 : docker		? MT_DOCKER_LAYER
							: MT_OCI_LAYER_GZIP;
		json_object_array_add(layers, descriptor(mt, p.layers[i].digest, p.layers[i].size));
	}
	json_object_object_add(manifest, "layers", layers);
	mbytes = plain(manifest);
	mdigest = digest_buf(mbytes, strlen(mbytes));
	{
		_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
		_cleanup_free_ char *url = reg_url(sess->base, rr->repo, "manifests", rr->tag);
		struct reg_request rq = {
		    .method = "PUT",
		    .url = url,
		    .content_type = docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST,
		    .body = mbytes,
		    .body_fd = -1,
		    .body_len = strlen(mbytes),
		    .timeout_sec = cfg->timeout_sec > 0 ? cfg->timeout_sec : 120,
		};
		r = reg_do(sess, c, &rq, &rs, err);
		if (r < 0)
			goto out;
		if (rs.status != 201 && rs.status != 200) {
			r = reg_status_error(&rs, "PUT", url, err);
			goto out;
		}
		if (rs.digest && !streq(rs.digest, mdigest))
			log_warn("push %s: registry says the manifest digest is %s, not %s",
				 rr->normalized, rs.digest, mdigest);
	}
	{
		_cleanup_free_ char *msg =
		    xasprintf("%s: digest: %s size: %zu", rr->tag, mdigest, strlen(mbytes));
		json_object *aux = json_object_new_object(), *o = json_object_new_object();
		reg_progress(prog, NULL, msg, -1, -1);
		json_add_str(aux, "Tag", rr->tag);
		json_add_str(aux, "Digest", mdigest);
		json_add_int(aux, "Size", (int64_t)strlen(mbytes));
		json_object_object_add(o, "progressDetail", json_object_new_object());
		json_object_object_add(o, "aux", aux);
		reg_progress_obj(prog, o);
	}
	/* what the repository holds now, for the next push of these layers */
	for (size_t i = 0; i < p.n_layers; i++) {
		const struct push_layer *l = &p.layers[i];
		(void)image_blob_record(store, l->diff_id, l->digest,
					l->media_type ? l->media_type
					: docker      ? MT_DOCKER_LAYER
						      : MT_OCI_LAYER_GZIP,
					(int64_t)l->size, rr->name);
	}
	if (!changed) {
		_cleanup_free_ char *rd = xasprintf("%s@%s", rr->name, mdigest);
		_cleanup_error_ struct error *e = NULL;
		if (image_add_ref(store, info->id, rd, &e) < 0)
			log_warn("push %s: cannot record %s: %s", rr->normalized, rd,
				 e ? e->msg : "");
	}
	if (ret_digest)
		*ret_digest = TAKE_PTR(mdigest);
	r = 0;
out:
	for (size_t i = 0; i < p.n_layers; i++) {
		closep(&p.layers[i].fd);
		free(p.layers[i].diff_id);
		free(p.layers[i].digest);
		free(p.layers[i].media_type);
		image_blobs_free(p.layers[i].known, p.layers[i].n_known);
		error_free(p.layers[i].err);
	}
	free(p.layers);
	pthread_mutex_destroy(&p.lock);
	return r;
}

/* ---- registry_push, registry_push_all ---------------------------------------------- */

static void refers_to(struct reg_progress *prog, const struct reg_ref *rr)
{
	_cleanup_free_ char *msg = xasprintf("The push refers to repository [%s]", rr->name);
	reg_progress(prog, NULL, msg, -1, -1);
}

int registry_push(struct image_store *store, const char *ref, const struct registry_auth *auth,
		  const struct registry_config *cfg, image_progress_cb progress, void *ud,
		  char **ret_digest, struct error **err)
{
	_cleanup_(reg_ref_release) struct reg_ref rr = {0};
	_cleanup_(image_info_freep) struct image_info *info = NULL;
	struct reg_progress prog;
	int r;

	if (!cfg)
		cfg = &default_cfg;
	r = reg_ref_parse(ref, &rr, err);
	if (r < 0)
		return r;
	if (rr.digest)
		return error_setx(err, -EINVAL, "cannot push a digest reference");
	{
		_cleanup_free_ char *tagref = xasprintf("%s:%s", rr.name, rr.tag);
		if (image_lookup(store, tagref, &info, NULL) < 0) {
			_cleanup_free_ char *f = ref_familiar(tagref);
			return error_setx(err, -ENOENT,
					  "An image does not exist locally with the tag: %s", f);
		}
	}
	reg_progress_init(&prog, progress, ud);
	refers_to(&prog, &rr);
	r = push_tag(store, &rr, auth, cfg, &prog, ret_digest, err);
	reg_progress_release(&prog);
	return r;
}

int registry_push_all(struct image_store *store, const char *name, const struct registry_auth *auth,
		      const struct registry_config *cfg, image_progress_cb progress, void *ud,
		      struct error **err)
{
	_cleanup_(reg_ref_release) struct reg_ref rr = {0};
	_cleanup_strv_free_ char **tags = NULL;
	struct reg_progress prog;
	int r;

	if (!cfg)
		cfg = &default_cfg;
	r = reg_ref_parse(name, &rr, err);
	if (r < 0)
		return r;
	if (rr.digest)
		return error_setx(err, -EINVAL, "cannot push a digest reference");
	r = image_repository_tags(store, rr.name, &tags, err);
	if (r < 0)
		return r;
	if (!tags[0]) {
		_cleanup_free_ char *f = ref_familiar(rr.name);
		return error_setx(err, -ENOENT, "An image does not exist locally with the tag: %s",
				  f);
	}
	reg_progress_init(&prog, progress, ud);
	refers_to(&prog, &rr);
	for (char **t = tags; *t && r >= 0; t++) {
		_cleanup_(reg_ref_release) struct reg_ref one = {0};
		r = reg_ref_parse(*t, &one, err);
		if (r >= 0)
			r = push_tag(store, &one, auth, cfg, &prog, NULL, err);
	}
	reg_progress_release(&prog);
	return r < 0 ? r : 0;
}
