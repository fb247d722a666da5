/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `docker push`: each layer is made again from its diff dir (image_tar_layer, deterministic),
 * gzip compressed into a temp file of the store, then uploaded unless the registry has it
 * (HEAD) or can mount it from another repository; then the config and the manifest.
 *
 * A layer whose re-made tar differs from the config's diff id (an image loaded from a foreign
 * tar) is pushed as made, with a config that names it, as `save` does: the pushed image then
 * has another id, and no RepoDigest is recorded for the local one.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "internal.h"

#define CHUNK_DEFAULT (64ull << 20)
#define PROGRESS_INTERVAL_USEC 100000

static const struct registry_config default_cfg;

struct push_layer {
	const char *dir;
	char id[13];
	char *diff_id, *digest;
	uint64_t size;
	int fd;
	int r;
	struct error *err;
};

struct push {
	struct image_store *store;
	struct reg_session *sess;
	const struct registry_config *cfg;
	struct reg_progress prog;
	const char *repo;
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
	EVP_MD_CTX *md = reg_digest_new();
	z_stream z = {0};
	uint64_t total = 0;
	int flush = Z_NO_FLUSH, r = 0;

	/* windowBits 16+15: a gzip header with mtime 0, so the same tar gives the same blob */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		EVP_MD_CTX_free(md);
		return error_setx(err, -ENOMEM, "gzip: cannot initialise");
	}
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
			EVP_DigestUpdate(md, out, have);
			total += have;
		} while (z.avail_out == 0);
	}
	*ret_size = total;
	*ret_digest = reg_digest_final(TAKE_PTR(md));
out:
	deflateEnd(&z);
	if (md)
		EVP_MD_CTX_free(md);
	return r;
}

static int make_layer(struct push *p, struct push_layer *l, struct error **err)
{
	_cleanup_close_ int dfd = -EBADF, tar = -EBADF;
	int r;

	dfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return error_set(err, -errno, "open layer \"%s\"", l->dir);
	tar = image_tmpfile(p->store);
	if (tar < 0)
		return error_set(err, tar, "create temp file");
	r = image_tar_layer(dfd, tar, &l->diff_id, err);
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
	struct up_progress up = {.prog = &p->prog, .id = id, .total = size};
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

static int push_layer(struct push *p, CURL *c, struct push_layer *l, struct error **err)
{
	bool mounted = false;
	int r;

	r = make_layer(p, l, err);
	if (r < 0)
		return r;
	r = blob_exists(p->sess, c, p->repo, l->digest, err);
	if (r < 0)
		return r;
	if (r == 1) {
		reg_progress(&p->prog, l->id, "Layer already exists", -1, -1);
		return 0;
	}
	reg_progress(&p->prog, l->id, "Pushing", 0, (int64_t)l->size);
	r = upload_blob(p, c, l->digest, l->fd, NULL, l->size, p->mount_from, l->id, &mounted, err);
	if (r < 0)
		return r;
	if (mounted) {
		_cleanup_free_ char *m = xasprintf("Mounted from %s", p->mount_from);
		reg_progress(&p->prog, l->id, m, -1, -1);
	} else {
		reg_progress(&p->prog, l->id, "Pushed", -1, -1);
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

/* ---- registry_push ------------------------------------------------------------- */

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

int registry_push(struct image_store *store, const char *ref, const struct registry_auth *auth,
		  const struct registry_config *cfg, image_progress_cb progress, void *ud,
		  char **ret_digest, struct error **err)
{
	_cleanup_(reg_ref_release) struct reg_ref rr = {0};
	_cleanup_(image_info_freep) struct image_info *info = NULL;
	_cleanup_(reg_session_freep) struct reg_session *sess = NULL;
	_cleanup_(reg_curl_freep) CURL *c = NULL;
	_cleanup_json_ json_object *config = NULL, *manifest = NULL;
	_cleanup_strv_free_ char **scopes = NULL;
	_cleanup_free_ char *cfg_buf = NULL, *mount = NULL, *new_cfg = NULL, *cfg_digest = NULL,
			    *mdigest = NULL, *tagref = NULL;
	_cleanup_free_ pthread_t *threads = NULL;
	struct push p = {.store = store};
	json_object *rootfs = NULL, *ids = NULL, *layers;
	const char *cfg_bytes, *mbytes;
	size_t cfg_len = 0, nthreads, started = 0;
	bool docker, changed = false;
	int r;

	if (!cfg)
		cfg = &default_cfg;
	r = reg_ref_parse(ref, &rr, err);
	if (r < 0)
		return r;
	if (rr.digest)
		return error_setx(err, -EINVAL, "cannot push a digest reference");
	tagref = xasprintf("%s:%s", rr.name, rr.tag);
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
	reg_progress_init(&p.prog, progress, ud);
	p.cfg = cfg;
	p.repo = rr.repo;
	mount = mount_source(info, &rr);
	p.mount_from = mount;
	{
		_cleanup_free_ char *sc = xasprintf("repository:%s:pull,push", rr.repo);
		scopes = strv_append(NULL, sc);
		if (mount) {
			_cleanup_free_ char *ms = xasprintf("repository:%s:pull", mount);
			scopes = strv_append(scopes, ms);
		}
	}
	{
		_cleanup_free_ char *msg = xasprintf("The push refers to repository [%s]", rr.name);
		reg_progress(&p.prog, NULL, msg, -1, -1);
	}
	r = reg_session_open(cfg, auth, reg_domain_host(rr.domain), NULL, scopes, &sess, err);
	if (r < 0)
		goto out;
	p.sess = sess;

	p.n_layers = info->n_layers;
	p.layers = xnew0(struct push_layer, p.n_layers ? p.n_layers : 1);
	for (size_t i = p.n_layers; i > 0; i--) {
		struct push_layer *l = &p.layers[i - 1];
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i - 1));
		l->dir = info->layers[i - 1];
		l->fd = -EBADF;
		snprintf(l->id, sizeof(l->id), "%.12s", d && strlen(d) > 7 ? d + 7 : "");
		reg_progress(&p.prog, l->id, "Preparing", -1, -1);
	}
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

	/* the config: as stored, unless a re-made layer has another diff id */
	for (size_t i = 0; i < p.n_layers; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
		if (!streq_ptr(d, p.layers[i].diff_id)) {
			json_object_array_put_idx(ids, i,
						  json_object_new_string(p.layers[i].diff_id));
			changed = true;
		}
	}
	if (changed) {
		log_info("push %s: layers made again differ from the image's diff ids; pushing a "
			 "config that names them",
			 ref);
		new_cfg = xstrdup(plain(config));
		cfg_bytes = new_cfg;
		cfg_len = strlen(new_cfg);
	} else {
		cfg_bytes = cfg_buf;
	}
	cfg_digest = reg_digest_buf(cfg_bytes, cfg_len);
	c = reg_curl_new();
	r = blob_exists(sess, c, rr.repo, cfg_digest, err);
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
	for (size_t i = 0; i < p.n_layers; i++)
		json_object_array_add(layers,
				      descriptor(docker ? MT_DOCKER_LAYER : MT_OCI_LAYER_GZIP,
						 p.layers[i].digest, p.layers[i].size));
	json_object_object_add(manifest, "layers", layers);
	mbytes = plain(manifest);
	mdigest = reg_digest_buf(mbytes, strlen(mbytes));
	{
		_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
		_cleanup_free_ char *url = reg_url(sess->base, rr.repo, "manifests", rr.tag);
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
			log_warn("push %s: registry says the manifest digest is %s, not %s", ref,
				 rs.digest, mdigest);
	}
	{
		_cleanup_free_ char *msg =
		    xasprintf("%s: digest: %s size: %zu", rr.tag, mdigest, strlen(mbytes));
		json_object *aux = json_object_new_object(), *o = json_object_new_object();
		reg_progress(&p.prog, NULL, msg, -1, -1);
		json_add_str(aux, "Tag", rr.tag);
		json_add_str(aux, "Digest", mdigest);
		json_add_int(aux, "Size", (int64_t)strlen(mbytes));
		json_object_object_add(o, "progressDetail", json_object_new_object());
		json_object_object_add(o, "aux", aux);
		reg_progress_obj(&p.prog, o);
	}
	if (!changed) {
		_cleanup_free_ char *rd = xasprintf("%s@%s", rr.name, mdigest);
		_cleanup_error_ struct error *e = NULL;
		if (image_add_ref(store, info->id, rd, &e) < 0)
			log_warn("push %s: cannot record %s: %s", ref, rd, e ? e->msg : "");
	}
	if (ret_digest)
		*ret_digest = TAKE_PTR(mdigest);
	r = 0;
out:
	for (size_t i = 0; i < p.n_layers; i++) {
		closep(&p.layers[i].fd);
		free(p.layers[i].diff_id);
		free(p.layers[i].digest);
		error_free(p.layers[i].err);
	}
	free(p.layers);
	pthread_mutex_destroy(&p.lock);
	reg_progress_release(&p.prog);
	return r;
}
