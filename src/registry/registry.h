/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry: a client of the OCI distribution spec (Docker Registry HTTP API v2) over libcurl:
 * pull into and push from the image store, login, search.
 *
 * Trust: every manifest, config and blob is checked against its digest (and its descriptor's
 * size: nothing is read past size+1 bytes), every layer's uncompressed digest against the
 * config's rootfs.diff_ids, before it is committed: a layer as soon as it and the layers under
 * it passed (a pull that stops keeps them, and the next one does not fetch them again), the
 * image when all did; the tag -> digest record is written last. Digests from the wire are
 * validated before they go into a URL.
 *
 * Transport: HTTPS with the system CAs, plus <certs_dir>/<host[:port]>/<name>.crt (and client.cert
 * / client.key) as Docker keeps them. Plain HTTP only for insecure registries (insecure_registries
 * plus 127.0.0.0/8 and ::1 unless no_default_insecure): for those HTTPS is tried first without
 * verification, then HTTP, as Docker does. Redirects are followed by hand: credentials (an
 * Authorization header) go only to the registry's own scheme://host:port, never across a
 * redirect to another host or scheme, and never into a log or an error message.
 *
 * Auth: anonymous, Basic, and the bearer-token flow (WWW-Authenticate: Bearer realm=...,
 * service=..., scope=...; the token service gets the credentials by Basic auth).
 *
 * Threads: registry_pull runs max_concurrent_downloads workers; the progress callback is called
 * from them, one call at a time. Every function is safe to call from several threads at once.
 */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include "basic/basic.h"
#include "image/image.h"

/* Credentials, as the Engine API's X-Registry-Auth carries them; any member may be NULL. */
struct registry_auth {
	const char *username;
	const char *password;
	const char *registry_token; /* a bearer token to send as it is */
};

struct registry_config {
	char **mirrors; /* for docker.io, tried in order before it: "https://m.example" */
	char **insecure_registries;	   /* "host", "host:port" or a CIDR "10.0.0.0/8" */
	bool no_default_insecure;	   /* 127.0.0.0/8 and ::1 are insecure unless this is set */
	const char *certs_dir;		   /* certs.d folder (NULL: none) */
	unsigned max_concurrent_downloads; /* 0: 3 */
	unsigned max_concurrent_uploads;   /* 0: 5 */
	unsigned max_retries;		   /* of one blob download; 0: 5 */
	unsigned retry_delay_ms;	   /* first retry delay, doubled each time; 0: 1000 */
	uint64_t chunk_size;		   /* push: larger blobs go in PATCH chunks; 0: 64 MiB */
	long timeout_sec;		   /* small requests (manifests, tokens); 0: 120 */
};

/*
 * `docker pull ref`: ref is any reference (busybox, host:5000/x:tag, x@sha256:...);
 * platform_or_null "os/arch[/variant]" (default: the host's). Progress lines are Docker's JSON
 * messages ("Pulling fs layer", "Downloading" with progressDetail, "Verifying Checksum",
 * "Download complete", "Extracting", "Pull complete", "Already exists", "Digest: ...",
 * "Status: Downloaded newer image for ..."). *ret_id (may be NULL) gets the image id.
 * Errors: -ENOENT (manifest unknown, no matching platform), -EACCES (401/403: "unauthorized:
 * ..."), -EINVAL (verification failed, malformed data), -EIO and network errnos.
 */
int registry_pull(struct image_store *store, const char *ref, const char *platform_or_null,
		  const struct registry_auth *auth_or_null, const struct registry_config *cfg,
		  image_progress_cb progress, void *ud, char **ret_id, struct error **err);

/*
 * `docker push ref`: ref names a local image and the repository (and tag, default latest) to
 * push it to. A layer goes as a blob of the registry the store knows (image_blobs_of) when the
 * repository has it or it can be mounted from another repository, else as its tar
 * (image_layer_tar) gzip compressed: skipped when the registry has it (HEAD), mounted from a
 * repository the image has a RepoDigest in when possible, in chunks when larger than
 * chunk_size. Pushed blobs are recorded (image_blob_record). The manifest is Docker's v2 schema 2
 * for images with a Docker config (docker_version or container_config in it), OCI otherwise. On
 * success the RepoDigest name@digest is recorded and *ret_digest (may be NULL) gets the manifest
 * digest.
 */
int registry_push(struct image_store *store, const char *ref,
		  const struct registry_auth *auth_or_null, const struct registry_config *cfg,
		  image_progress_cb progress, void *ud, char **ret_digest, struct error **err);

/*
 * `docker push --all-tags name`: every tag of the repository name (a tag given with it is
 * ignored), in lexical order, each as registry_push pushes it, after one "The push refers to
 * repository" line. -ENOENT "An image does not exist locally with the tag: name" when it has
 * none; the first failure ends the push.
 */
int registry_push_all(struct image_store *store, const char *name,
		      const struct registry_auth *auth_or_null, const struct registry_config *cfg,
		      image_progress_cb progress, void *ud, struct error **err);

/*
 * `docker login`: check the credentials against server ("host[:port]", a URL, or NULL/""
 * for docker.io) with GET /v2/ and its challenge. -EACCES with Docker's message when they are
 * refused.
 */
int registry_login(const char *server, const struct registry_auth *auth,
		   const struct registry_config *cfg, struct error **err);

/*
 * `docker search term` against a registry's catalog (GET /v2/_catalog): *ret is an array in
 * Docker Hub's /v1/search shape ({"name","description","star_count","is_official",
 * "is_automated"}) of repositories whose name contains term, at most limit (0: 25). term may
 * name a registry: "host:5000/busy".
 */
int registry_search(const char *term, unsigned limit, const struct registry_auth *auth_or_null,
		    const struct registry_config *cfg, json_object **ret, struct error **err);

#endif
