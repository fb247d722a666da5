/* SPDX-License-Identifier: Apache-2.0 */
/* registry: private declarations shared by the files of the module. */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>

#include "basic/digest.h"
#include "registry.h"

#define REG_MANIFEST_MAX (4u << 20)    /* manifests and indexes, as containerd */
#define REG_CONFIG_MAX (8u << 20)      /* image configs (the store's limit) */
#define REG_TOKEN_MAX (1u << 20)       /* token service answers */
#define REG_ERROR_BODY_MAX (64u << 10) /* bodies of error answers we keep */
#define REG_CATALOG_MAX (8u << 20)
#define REG_MAX_REDIRECTS 5
#define REG_MAX_LAYERS 1000

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP MT_OCI_LAYER "+gzip"
#define MT_OCI_LAYER_ZSTD MT_OCI_LAYER "+zstd"
#define MT_OCI_ND_LAYER "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define MANIFEST_ACCEPT                                                                            \
	MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST

/* ---- auth.c: WWW-Authenticate ------------------------------------------- */

enum reg_auth_scheme { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct reg_challenge {
	enum reg_auth_scheme scheme;
	char *realm, *service, *scope, *error;
};

/*
 * Parse WWW-Authenticate values (several headers joined with ", "): challenges are
 * `scheme param=value, param="quoted \" value", ...`. Picks the Bearer challenge, else Basic.
 * -EINVAL when the syntax is broken, -ENOENT when neither scheme is offered, -E2BIG past 16 KiB.
 */
int reg_challenge_parse(const char *header, struct reg_challenge *ret);
void reg_challenge_release(struct reg_challenge *c);
/* "Basic base64(user:pass)" */
char *reg_basic_credentials(const char *user, const char *pass);

/* ---- ref.c: references, URLs, hosts -------------------------------------- */

struct reg_ref {
	char *normalized; /* docker.io/library/busybox:latest */
	char *domain;	  /* docker.io */
	char *repo;	  /* library/busybox: the path in /v2/<repo>/... */
	char *name;	  /* docker.io/library/busybox */
	char *tag;	  /* or NULL (pull by digest) */
	char *digest;	  /* or NULL */
};
int reg_ref_parse(const char *in, struct reg_ref *ret, struct error **err);
void reg_ref_release(struct reg_ref *r);
/* The host serving a domain: docker.io -> registry-1.docker.io. */
const char *reg_domain_host(const char *domain);
/* Server argument of login/search: "", NULL, "docker.io", "https://index.docker.io/v1/" ->
 * docker.io; "https://h:5000/" -> h:5000. NULL when it is not a host. */
char *reg_server_domain(const char *server);

/* base + "/v2/" + repo + "/" + kind + "/" + ref; ref must be a tag or a valid digest. */
char *reg_url(const char *base, const char *repo, const char *kind, const char *ref);
/* "scheme://host:port" of an http(s) URL, lowercased, with the default port made explicit;
 * NULL for anything else. Credentials may go only where this equals the registry's. */
char *reg_url_origin(const char *url);
/* Resolve a Location value against the URL it came from; NULL when unusable. */
char *reg_url_resolve(const char *base, const char *location);
/* Append key=value (escaped) to the query of url. */
char *reg_url_add_query(const char *url, const char *key, const char *value);
/* Whether host ("h", "h:port", "[v6]:port") is an insecure registry under cfg. */
bool reg_host_insecure(const struct registry_config *cfg, const char *host);

struct reg_platform {
	char *os, *arch, *variant; /* variant may be NULL */
};
/* "os/arch[/variant]"; NULL or "" is the host's platform. */
int reg_platform_parse(const char *s, struct reg_platform *ret, struct error **err);
void reg_platform_release(struct reg_platform *p);

/* ---- manifest.c ---------------------------------------------------------- */

struct reg_desc {
	char *media_type;
	char *digest; /* validated */
	int64_t size; /* >= 0 */
	char *os, *arch, *variant;
};

enum reg_manifest_kind { REG_MANIFEST_IMAGE, REG_MANIFEST_INDEX };

struct reg_manifest {
	enum reg_manifest_kind kind;
	char *media_type;
	struct reg_desc config; /* images */
	struct reg_desc *descs; /* layers of an image, manifests of an index */
	size_t n_descs;
};

/*
 * Parse a manifest or index. content_type (may be NULL) is the answer's Content-Type; when both
 * it and the document's mediaType name a manifest type they must agree. A document with both
 * "layers" and "manifests", a schema 1 manifest, a bad digest or size, or an unknown layer type
 * is refused.
 */
int reg_manifest_parse(const char *buf, size_t len, const char *content_type,
		       struct reg_manifest *ret, struct error **err);
void reg_manifest_release(struct reg_manifest *m);
/* The index entry for platform p, or NULL. */
const struct reg_desc *reg_index_pick(const struct reg_manifest *idx, const struct reg_platform *p);

/* ---- client.c: one registry, its auth, requests --------------------------- */

struct reg_session {
	const struct registry_config *cfg;
	const struct registry_auth *auth; /* NULL: anonymous */
	char *host;			  /* host[:port] */
	char *base;			  /* scheme://host[:port] */
	char *origin;			  /* reg_url_origin(base) */
	bool insecure, verify;
	char **scopes; /* repository:x:pull,push ... */
	char *ca_pem;  /* system CAs + certs.d/<host>/ *.crt, or NULL */
	size_t ca_len;
	char *client_cert, *client_key;

	pthread_mutex_t lock;
	char *authz;	     /* "Bearer x" / "Basic x" or NULL; never logged */
	unsigned generation; /* bumped each time authz changes */
};

/* A request. The body is a buffer, or body_len bytes of body_fd from body_off. */
struct reg_request {
	const char *method; /* GET HEAD PUT POST PATCH DELETE */
	const char *url;
	const char *accept;
	const char *content_type;
	const char *header; /* one more header line ("Range: bytes=5-"), or NULL */
	const void *body;
	int body_fd; /* -1: none (0 is never a body) */
	uint64_t body_off, body_len;
	/* The body of a 2xx answer goes to sink when set (a return != n aborts), else into
	 * reg_response.body up to max bytes (more is -EFBIG). Other answers are kept up to
	 * REG_ERROR_BODY_MAX for the error message. */
	size_t (*sink)(void *ud, long status, const char *p, size_t n);
	void *ud;
	uint64_t max;
	long timeout_sec;	     /* whole request; 0: none, but a stall of 60 s aborts */
	const volatile bool *cancel; /* polled during the transfer */
	void (*on_progress)(void *ud, uint64_t now, uint64_t total); /* uploads */
};

struct reg_response {
	long status;
	char *body;
	size_t len;
	char *content_type, *location, *digest, *www_authenticate;
	int64_t content_length; /* -1 when not given */
	bool sink_aborted;
};
void reg_response_release(struct reg_response *r);

/*
 * Open a session with the registry at host (base_or_null forces scheme://host, for mirrors):
 * ping /v2/, pick the scheme (HTTPS; HTTP only when insecure), and when it asks for auth get
 * the token for scopes now. The session borrows cfg and auth.
 */
int reg_session_open(const struct registry_config *cfg, const struct registry_auth *auth,
		     const char *host, const char *base_or_null, char *const *scopes,
		     struct reg_session **ret, struct error **err);
struct reg_session *reg_session_free(struct reg_session *s);
static inline void reg_session_freep(struct reg_session **s)
{
	reg_session_free(*s);
}

/* A curl handle for one thread; reg_do resets it between requests. */
CURL *reg_curl_new(void);
static inline void reg_curl_freep(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}

/*
 * Do a request: follow redirects of GET/HEAD by hand (at most 5; Authorization only to the
 * registry's own origin), answer one 401 by authenticating again. Returns 0 with any HTTP
 * answer in rs, or -errno when none came (with Docker's `Get "url": reason` message).
 */
int reg_do(struct reg_session *s, CURL *c, const struct reg_request *rq, struct reg_response *rs,
	   struct error **err);
/* The error for a non-2xx answer: the registry's {"errors":[{code,message}]} as Docker prints
 * it ("unauthorized: authentication required"), else the status. -EACCES for 401/403, -ENOENT
 * for 404, -EIO otherwise. */
int reg_status_error(const struct reg_response *rs, const char *method, const char *url,
		     struct error **err);

/* ---- progress.c: Docker's JSON messages ------------------------------------ */

struct reg_progress {
	image_progress_cb cb;
	void *ud;
	pthread_mutex_t lock;
};
void reg_progress_init(struct reg_progress *p, image_progress_cb cb, void *ud);
void reg_progress_release(struct reg_progress *p);
/* {"status":status,"progressDetail":{...},"id":id}; id NULL: a plain status line without
 * progressDetail. current/total < 0: an empty progressDetail. */
void reg_progress(struct reg_progress *p, const char *id, const char *status, int64_t current,
		  int64_t total);
/* Any object (aux lines). Takes o. */
void reg_progress_obj(struct reg_progress *p, json_object *o);

#endif
