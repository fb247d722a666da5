/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `docker pull`: manifest (index -> the platform's manifest), config, then the missing layers
 * in parallel. Each layer streams: curl -> sha256 and a socket -> a thread that decompresses
 * and unpacks it into a temp layer dir (image_layer_unpack). When the bytes stop, the blob
 * digest is checked, then the diff id against the config; a layer that passed is committed to
 * the store as soon as the layers under it are (image_layer_commit), so a pull that stops (an
 * error, a crash) keeps what it verified and the next one does not fetch it again. A lease
 * keeps those layers until the image is committed (image_commit_pulled), and only then does
 * the tag point at it.
 *
 * A failed transfer is resumed with a Range request (or, when the registry answers 200, the
 * bytes already seen are skipped), so the hash and the unpack simply go on. When the unpack
 * gives up early (a corrupt stream), the download still runs to the end, bounded by the
 * descriptor's size, so the error names the real cause: a blob that fails its digest.
 */
#include <inttypes.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

#define PROGRESS_INTERVAL_USEC 100000

static const struct registry_config default_cfg;

struct pull;

struct layer_job {
	struct pull *p;
	size_t idx;
	const struct reg_desc *desc;
	char id[13];
	char *chain;
	bool present;  /* in the store: found there, or committed by this pull */
	bool verified; /* tmp holds the verified layer; its commit waits for the one under it */

	/* download (the worker's thread) */
	struct digest md;
	uint64_t got, skip, last_report;
	bool over, started;
	int sock;

	/* unpack (its own thread) */
	pthread_t th;
	int rsock;
	int unpack_r;
	struct error *unpack_err;

	/* result */
	char *tmp, *diff_id;
	uint64_t size;
	int r;
	struct error *err;
};

struct pull {
	struct image_store *store;
	struct reg_session *sess;
	const struct registry_config *cfg;
	struct reg_progress *prog;
	const char *repo;
	char **diff_ids;
	struct image_lease *lease;
	struct layer_job *jobs;
	size_t n_jobs;
	pthread_mutex_t lock;
	size_t next;
	volatile bool failed;
	/* jobs[0..committed) are in the store; commit_lock orders the commits */
	pthread_mutex_t commit_lock;
	size_t committed;
};

static void *unpack_main(void *ud)
{
	struct layer_job *j = ud;

	j->unpack_r = image_layer_unpack(j->p->store, j->rsock, &j->tmp, &j->size, &j->diff_id,
					 &j->unpack_err);
	closep(&j->rsock);
	j->rsock = -EBADF;
	return NULL;
}

static size_t layer_sink(void *ud, long status, const char *p, size_t n)
{
	struct layer_job *j = ud;
	size_t orig = n;
	uint64_t now;

	if (!j->started) {
		/* a 200 to our Range request: the registry starts over, we skip what we have */
		j->started = true;
		j->skip = status == 200 ? j->got : 0;
	}
	if (j->skip) {
		size_t k = j->skip < n ? (size_t)j->skip : n;
		p += k;
		n -= k;
		j->skip -= k;
		if (!n)
			return orig;
	}
	if (j->got + n > (uint64_t)j->desc->size) {
		j->over = true;
		return 0;
	}
	digest_update(&j->md, p, n);
	j->got += n;
	while (n && j->sock >= 0) {
		ssize_t w = send(j->sock, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			/* the unpack stopped (its error comes later); keep hashing */
			closep(&j->sock);
			j->sock = -EBADF;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	now = now_usec(CLOCK_MONOTONIC);
	if (now - j->last_report >= PROGRESS_INTERVAL_USEC) {
		j->last_report = now;
		reg_progress(j->p->prog, j->id, "Downloading", (int64_t)j->got, j->desc->size);
	}
	return orig;
}

static bool retryable(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void job_discard(struct pull *p, struct layer_job *j)
{
	if (j->tmp) {
		image_layer_discard(p->store, j->tmp);
		free(j->tmp);
		j->tmp = NULL;
	}
}

static int pull_layer(struct pull *p, CURL *c, struct layer_job *j, struct error **err)
{
	_cleanup_free_ char *url = reg_url(p->sess->base, p->repo, "blobs", j->desc->digest),
			    *digest = NULL;
	_cleanup_error_ struct error *last = NULL;
	unsigned max_retries = p->cfg->max_retries ? p->cfg->max_retries : 5;
	unsigned delay = p->cfg->retry_delay_ms ? p->cfg->retry_delay_ms : 1000;
	int sv[2], r = 0;

	if (!url)
		return error_setx(err, -EINVAL, "invalid digest");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set(err, -errno, "socketpair");
	j->sock = sv[0];
	j->rsock = sv[1];
	digest_init(&j->md);
	r = -pthread_create(&j->th, NULL, unpack_main, j);
	if (r < 0) {
		closep(&j->sock);
		closep(&j->rsock);
		return error_set(err, r, "start layer unpack");
	}
	reg_progress(p->prog, j->id, "Downloading", 0, j->desc->size);
	for (unsigned attempt = 0;; attempt++) {
		_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
		_cleanup_free_ char *range =
		    j->got ? xasprintf("Range: bytes=%" PRIu64 "-", j->got) : NULL;
		struct reg_request rq = {
		    .method = "GET",
		    .url = url,
		    .header = range,
		    .body_fd = -1,
		    .sink = layer_sink,
		    .ud = j,
		    .cancel = &p->failed,
		};
		unsigned ms;
		int k;

		error_free(last);
		last = NULL;
		j->started = false;
		k = reg_do(p->sess, c, &rq, &rs, &last);
		if (j->over) {
			r = error_setx(err, -EINVAL,
				       "filesystem layer verification failed for digest %s: more "
				       "than %" PRId64 " bytes",
				       j->desc->digest, j->desc->size);
			break;
		}
		if (p->failed) {
			r = error_setx(err, -ECANCELED, "canceled");
			break;
		}
		if (k >= 0 && (rs.status == 200 || rs.status == 206)) {
			if (j->got == (uint64_t)j->desc->size)
				break;
			error_setx(&last, -EIO, "blob %s: unexpected EOF after %" PRIu64 " bytes",
				   j->desc->digest, j->got);
		} else if (k >= 0) {
			r = reg_status_error(&rs, "GET", url, &last);
			if (!retryable(rs.status)) {
				r = error_setx(err, r, "%s", last->msg);
				break;
			}
		}
		if (attempt >= max_retries) {
			r = error_setx(err, last ? -last->code : -EIO, "%s",
				       last ? last->msg : "download failed");
			break;
		}
		ms = delay << (attempt < 4 ? attempt : 4);
		if (ms > 10000)
			ms = 10000;
		{
			_cleanup_free_ char *m =
			    xasprintf("Retrying in %u second%s", (ms + 999) / 1000,
				      (ms + 999) / 1000 == 1 ? "" : "s");
			reg_progress(p->prog, j->id, m, -1, -1);
		}
		log_debug("registry: %s: %s; retrying", j->desc->digest,
			  last ? last->msg : "error");
		sleep_ms(ms);
	}
	/* end of the stream: the unpack sees EOF and finishes */
	closep(&j->sock);
	j->sock = -EBADF;
	pthread_join(j->th, NULL);
	digest = digest_final(&j->md);
	if (r < 0) {
		job_discard(p, j);
		return r;
	}
	if (!streq(digest, j->desc->digest)) {
		job_discard(p, j);
		return error_setx(err, -EINVAL,
				  "filesystem layer verification failed for digest %s",
				  j->desc->digest);
	}
	reg_progress(p->prog, j->id, "Verifying Checksum", -1, -1);
	reg_progress(p->prog, j->id, "Download complete", -1, -1);
	if (j->unpack_r < 0) {
		job_discard(p, j);
		r = error_setx(err, j->unpack_r, "%s",
			       j->unpack_err ? j->unpack_err->msg : "unpack failed");
		return error_prefix(err, r, "extract layer %s", j->desc->digest);
	}
	if (!streq_ptr(j->diff_id, p->diff_ids[j->idx])) {
		job_discard(p, j);
		return error_setx(err, -EINVAL,
				  "layers from manifest don't match image configuration");
	}
	reg_progress(p->prog, j->id, "Extracting", j->desc->size, j->desc->size);
	return 0;
}

static void fail_pull(struct pull *p)
{
	pthread_mutex_lock(&p->lock);
	p->failed = true;
	pthread_mutex_unlock(&p->lock);
}

/*
 * j is verified: commit it and the verified layers above it, bottom up, as far
 * as every layer under them is in the store. A layer whose parent failed is never committed
 * (pull_release discards it).
 */
static void commit_ready(struct pull *p, struct layer_job *j)
{
	pthread_mutex_lock(&p->commit_lock);
	j->verified = true;
	for (; p->committed < p->n_jobs; p->committed++) {
		struct layer_job *c = &p->jobs[p->committed];
		_cleanup_free_ char *chain = NULL;

		if (c->present)
			continue;
		if (!c->verified)
			break;
		c->verified = false;
		c->r =
		    image_layer_commit(p->lease, c->tmp, c->idx ? p->jobs[c->idx - 1].chain : NULL,
				       p->diff_ids[c->idx], &chain, &c->err);
		free(c->tmp);
		c->tmp = NULL;
		if (c->r >= 0 && !streq(chain, c->chain))
			c->r =
			    error_setx(&c->err, -EIO, "layer %s committed as %s", c->chain, chain);
		if (c->r < 0) {
			fail_pull(p);
			break;
		}
		c->present = true;
		reg_progress(p->prog, c->id, "Pull complete", -1, -1);
	}
	pthread_mutex_unlock(&p->commit_lock);
}

static void *worker(void *ud)
{
	struct pull *p = ud;
	_cleanup_(reg_curl_freep) CURL *c = reg_curl_new();

	for (;;) {
		struct layer_job *j;

		pthread_mutex_lock(&p->lock);
		if (p->failed || p->next >= p->n_jobs) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (j->present)
			continue;
		j->r = pull_layer(p, c, j, &j->err);
		if (j->r >= 0)
			commit_ready(p, j);
		else if (j->r != -ECANCELED)
			fail_pull(p);
	}
	return NULL;
}

/* ---- manifests and config ---------------------------------------------------- */

struct blob {
	char *buf;
	size_t len;
	char *content_type;
	char *digest;
};

static void blob_release(struct blob *b)
{
	free(b->buf);
	free(b->content_type);
	free(b->digest);
	*b = (struct blob){0};
}

/* GET a manifest (by tag or digest) or a small blob; expect_digest/size (may be NULL/-1)
 * bind it. */
static int fetch_small(struct reg_session *s, CURL *c, const char *repo, const char *kind,
		       const char *reference, const char *expect_digest, int64_t expect_size,
		       const char *what, struct blob *ret, struct error **err)
{
	_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
	_cleanup_free_ char *url = reg_url(s->base, repo, kind, reference), *d = NULL;
	bool manifest = streq(kind, "manifests");
	uint64_t max = manifest ? REG_MANIFEST_MAX : REG_CONFIG_MAX;
	struct reg_request rq = {
	    .method = "GET",
	    .body_fd = -1,
	    .accept = manifest ? MANIFEST_ACCEPT : NULL,
	    .timeout_sec = s->cfg->timeout_sec > 0 ? s->cfg->timeout_sec : 120,
	};
	int r;

	if (!url)
		return error_setx(err, -EINVAL, "invalid reference \"%s\"", reference);
	if (expect_size >= 0 && (uint64_t)expect_size < max)
		max = (uint64_t)expect_size;
	rq.url = url;
	rq.max = max ? max : 1;
	r = reg_do(s, c, &rq, &rs, err);
	if (r == -EFBIG && expect_digest)
		return error_prefix(err, -EINVAL, "%s verification failed for digest %s", what,
				    expect_digest);
	if (r < 0)
		return r;
	if (rs.status != 200)
		return reg_status_error(&rs, "GET", url, err);
	d = digest_buf(rs.body ? rs.body : "", rs.len);
	if (expect_digest &&
	    (!streq(d, expect_digest) || (expect_size >= 0 && rs.len != (uint64_t)expect_size)))
		return error_setx(err, -EINVAL, "%s verification failed for digest %s", what,
				  expect_digest);
	if (!expect_digest && rs.digest && image_digest_valid(rs.digest) && !streq(rs.digest, d))
		return error_setx(err, -EINVAL, "%s verification failed for digest %s", what,
				  rs.digest);
	ret->buf = rs.body ? TAKE_PTR(rs.body) : xstrdup("");
	ret->len = rs.len;
	ret->content_type = TAKE_PTR(rs.content_type);
	ret->digest = TAKE_PTR(d);
	return 0;
}

static int config_diff_ids(const struct blob *cfg, char ***ret, struct error **err)
{
	_cleanup_json_ json_object *o = NULL;
	_cleanup_strv_free_ char **l = xnew0(char *, 1);
	json_object *rootfs, *ids;
	size_t n;
	int r;

	r = json_parse_buffer(cfg->buf, cfg->len, &o, err);
	if (r < 0)
		return error_prefix(err, r, "invalid image config");
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "rootfs", &rootfs) ||
	    !json_object_is_type(rootfs, json_type_object))
		return error_setx(err, -EINVAL, "invalid image config: no rootfs");
	if (!json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    json_object_is_type(ids, json_type_null)) {
		*ret = TAKE_PTR(l);
		return 0;
	}
	if (!json_object_is_type(ids, json_type_array))
		return error_setx(err, -EINVAL, "invalid image config: rootfs.diff_ids");
	n = json_object_array_length(ids);
	if (n > REG_MAX_LAYERS)
		return error_setx(err, -EINVAL, "invalid image config: too many layers");
	for (size_t i = 0; i < n; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(ids, i));
		if (!image_digest_valid(d))
			return error_setx(err, -EINVAL,
					  "invalid image config: rootfs.diff_ids[%zu]", i);
		l = strv_append(l, d);
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* The image manifest for the platform: the top document, or the index's entry. */
static int resolve_manifest(struct reg_session *s, CURL *c, const struct reg_ref *rr,
			    const struct reg_platform *plat, const struct blob *top,
			    struct reg_manifest *ret, struct error **err)
{
	_cleanup_(reg_manifest_release) struct reg_manifest m = {0};
	_cleanup_(blob_release) struct blob sub = {0};
	const struct reg_desc *pick;
	int r;

	r = reg_manifest_parse(top->buf, top->len, top->content_type, &m, err);
	if (r < 0)
		return r;
	if (m.kind == REG_MANIFEST_IMAGE) {
		*ret = m;
		m = (struct reg_manifest){0};
		return 0;
	}
	pick = reg_index_pick(&m, plat);
	if (!pick)
		return error_setx(err, -ENOENT,
				  "no matching manifest for %s/%s%s%s in the manifest list entries",
				  plat->os, plat->arch, plat->variant ? "/" : "",
				  plat->variant ? plat->variant : "");
	r = fetch_small(s, c, rr->repo, "manifests", pick->digest, pick->digest, pick->size,
			"manifest", &sub, err);
	if (r < 0)
		return r;
	r = reg_manifest_parse(sub.buf, sub.len, sub.content_type, ret, err);
	if (r < 0)
		return r;
	if (ret->kind != REG_MANIFEST_IMAGE) {
		reg_manifest_release(ret);
		return error_setx(err, -EINVAL, "invalid manifest: an index inside an index");
	}
	return 0;
}

/* ---- registry_pull ----------------------------------------------------------- */

static void pull_release(struct pull *p)
{
	for (size_t i = 0; i < p->n_jobs; i++) {
		struct layer_job *j = &p->jobs[i];
		job_discard(p, j);
		free(j->chain);
		free(j->diff_id);
		error_free(j->unpack_err);
		error_free(j->err);
	}
	free(p->jobs);
	/* after the image commit: from now on the image keeps its layers */
	image_lease_free(p->lease);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->commit_lock);
}

/* Pull rr from the registry sess talks to, whose top manifest (rr's tag or digest) is top. */
static int pull_from(struct image_store *store, struct reg_session *sess, CURL *c,
		     const struct reg_ref *rr, const struct reg_platform *plat,
		     const struct blob *top, const struct registry_config *cfg,
		     struct reg_progress *prog, char **ret_id, struct error **err)
{
	_cleanup_(blob_release) struct blob config = {0};
	_cleanup_(reg_manifest_release) struct reg_manifest m = {0};
	_cleanup_strv_free_ char **diff_ids = NULL, **refs = NULL;
	_cleanup_free_ char *id = NULL, *familiar = NULL, *repo_digest = NULL;
	_cleanup_free_ pthread_t *threads = NULL;
	struct pull p = {.store = store, .sess = sess, .cfg = cfg, .prog = prog, .repo = rr->repo};
	size_t missing = 0, nthreads, started = 0;
	bool up_to_date = false;
	int r;

	pthread_mutex_init(&p.lock, NULL);
	pthread_mutex_init(&p.commit_lock, NULL);
	{
		/* "Pulling from library/busybox": the path, as Docker shows it once it has the
		 * manifest (an error before it is the API's answer, not a message of the stream) */
		_cleanup_free_ char *f = ref_familiar(rr->name);
		const char *slash = strchr(f, '/');
		_cleanup_free_ char *msg =
		    xasprintf("Pulling from %s",
			      streq(rr->domain, "docker.io") ? rr->repo : (slash ? slash + 1 : f));
		json_object *o = json_object_new_object();
		json_add_str(o, "status", msg);
		json_add_str(o, "id", rr->digest ? rr->digest : rr->tag);
		reg_progress_obj(prog, o);
	}
	r = resolve_manifest(sess, c, rr, plat, top, &m, err);
	if (r < 0)
		goto out;
	r = fetch_small(sess, c, rr->repo, "blobs", m.config.digest, m.config.digest, m.config.size,
			"config", &config, err);
	if (r < 0)
		goto out;
	r = config_diff_ids(&config, &diff_ids, err);
	if (r < 0)
		goto out;
	if (strv_length(diff_ids) != m.n_descs) {
		r = error_setx(err, -EINVAL,
			       "layers from manifest don't match image configuration");
		goto out;
	}
	p.diff_ids = diff_ids;

	/* from here to the image commit, no layer this pull finds or commits may go */
	image_lease_new(store, &p.lease);
	p.n_jobs = m.n_descs;
	p.jobs = xnew0(struct layer_job, p.n_jobs ? p.n_jobs : 1);
	for (size_t i = 0; i < p.n_jobs; i++) {
		struct layer_job *j = &p.jobs[i];
		j->p = &p;
		j->idx = i;
		j->desc = &m.descs[i];
		j->sock = j->rsock = -EBADF;
		memcpy(j->id, j->desc->digest + 7, 12);
		j->id[12] = 0;
		j->chain = image_chain_id(i ? p.jobs[i - 1].chain : NULL, diff_ids[i]);
		j->present = image_layer_acquire(p.lease, j->chain, &j->size);
		reg_progress(prog, j->id, j->present ? "Already exists" : "Pulling fs layer", -1,
			     -1);
		missing += !j->present;
	}

	nthreads = cfg->max_concurrent_downloads ? cfg->max_concurrent_downloads : 3;
	if (nthreads > missing)
		nthreads = missing;
	threads = xnew0(pthread_t, nthreads ? nthreads : 1);
	for (size_t i = 0, seen = 0; i < p.n_jobs; i++)
		if (!p.jobs[i].present && ++seen > nthreads)
			reg_progress(prog, p.jobs[i].id, "Waiting", -1, -1);
	for (; started < nthreads; started++)
		if (pthread_create(&threads[started], NULL, worker, &p) != 0)
			break;
	if (started == 0 && nthreads > 0) {
		r = error_setx(err, -EAGAIN, "cannot start download threads");
		goto out;
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	/* the first error in layer order, a cancellation only when nothing else failed */
	for (size_t i = 0, pass = 0; pass < 2 && r >= 0; pass++, i = 0)
		for (; i < p.n_jobs; i++) {
			struct layer_job *j = &p.jobs[i];
			if (j->r < 0 && (pass == 1 || j->r != -ECANCELED)) {
				r = error_setx(err, j->r, "%s", j->err ? j->err->msg : "failed");
				break;
			}
		}
	if (r < 0)
		goto out;

	/* everything is verified: commit, then point the names at it */
	repo_digest = xasprintf("%s@%s", rr->name, top->digest);
	refs = xnew0(char *, 1);
	if (rr->tag) {
		_cleanup_free_ char *t = xasprintf("%s:%s", rr->name, rr->tag);
		_cleanup_(image_info_freep) struct image_info *old = NULL;
		if (image_lookup(store, t, &old, NULL) >= 0 && streq(old->id, m.config.digest))
			up_to_date = true;
		refs = strv_append(refs, t);
	} else {
		_cleanup_(image_info_freep) struct image_info *old = NULL;
		if (image_lookup(store, repo_digest, &old, NULL) >= 0 &&
		    streq(old->id, m.config.digest))
			up_to_date = true;
	}
	refs = strv_append(refs, repo_digest);
	r = image_commit_pulled(store, config.buf, config.len, m.config.digest, refs, &id, err);
	if (r < 0)
		goto out;
	/* the blobs the layers came in: a push to this registry can use them again */
	for (size_t i = 0; i < m.n_descs; i++)
		(void)image_blob_record(store, diff_ids[i], m.descs[i].digest,
					m.descs[i].media_type, m.descs[i].size, rr->name);
	{
		_cleanup_free_ char *msg = xasprintf("Digest: %s", top->digest);
		reg_progress(prog, NULL, msg, -1, -1);
	}
	familiar = ref_familiar(rr->tag ? refs[0] : repo_digest);
	{
		_cleanup_free_ char *msg = xasprintf(
		    "Status: %s for %s",
		    up_to_date ? "Image is up to date" : "Downloaded newer image", familiar);
		reg_progress(prog, NULL, msg, -1, -1);
	}
	if (ret_id)
		*ret_id = TAKE_PTR(id);
	r = 0;
out:
	pull_release(&p);
	return r;
}

/* Pull from one endpoint: a mirror (its URL; anonymous, as the credentials are docker.io's) or,
 * with mirror NULL, the registry of rr itself. */
static int pull_endpoint(struct image_store *store, const char *mirror,
			 const struct registry_auth *auth, const struct registry_config *cfg,
			 const struct reg_ref *rr, const struct reg_platform *plat,
			 char *const *scopes, CURL *c, struct reg_progress *prog, char **ret_id,
			 struct error **err)
{
	_cleanup_(reg_session_freep) struct reg_session *s = NULL;
	_cleanup_(blob_release) struct blob top = {0};
	int r;

	r = reg_session_open(cfg, mirror ? NULL : auth, mirror ? NULL : reg_domain_host(rr->domain),
			     mirror, scopes, &s, err);
	if (r < 0)
		return r;
	r = fetch_small(s, c, rr->repo, "manifests", rr->digest ? rr->digest : rr->tag, rr->digest,
			-1, "manifest", &top, err);
	if (r == -ENOENT && !mirror) {
		_cleanup_free_ char *f = ref_familiar(rr->normalized);
		return error_prefix(err, r, "manifest for %s not found", f);
	}
	if (r < 0)
		return r;
	return pull_from(store, s, c, rr, plat, &top, cfg, prog, ret_id, err);
}

int registry_pull(struct image_store *store, const char *ref, const char *platform,
		  const struct registry_auth *auth, const struct registry_config *cfg,
		  image_progress_cb progress, void *ud, char **ret_id, struct error **err)
{
	_cleanup_(reg_ref_release) struct reg_ref rr = {0};
	_cleanup_(reg_platform_release) struct reg_platform plat = {0};
	_cleanup_(reg_curl_freep) CURL *c = NULL;
	_cleanup_strv_free_ char **scopes = NULL;
	struct reg_progress prog;
	int r;

	if (!cfg)
		cfg = &default_cfg;
	r = reg_ref_parse(ref, &rr, err);
	if (r < 0)
		return r;
	r = reg_platform_parse(platform, &plat, err);
	if (r < 0)
		return r;
	{
		_cleanup_free_ char *sc = xasprintf("repository:%s:pull", rr.repo);
		scopes = strv_append(NULL, sc);
	}
	reg_progress_init(&prog, progress, ud);
	c = reg_curl_new();
	/* docker.io's mirrors first, in order: anything a mirror cannot do, the next one or the
	 * origin may (what a failed attempt verified stays, and is not fetched again) */
	if (streq(rr.domain, "docker.io"))
		for (char **m = cfg->mirrors; m && *m; m++) {
			_cleanup_error_ struct error *e = NULL;
			r = pull_endpoint(store, *m, auth, cfg, &rr, &plat, scopes, c, &prog,
					  ret_id, &e);
			if (r >= 0)
				goto out;
			log_warn("registry mirror %s: %s: ignored", *m, e ? e->msg : "failed");
		}
	r = pull_endpoint(store, NULL, auth, cfg, &rr, &plat, scopes, c, &prog, ret_id, err);
out:
	reg_progress_release(&prog);
	return r < 0 ? r : 0;
}
