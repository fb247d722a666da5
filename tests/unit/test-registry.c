/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the registry module (no arguments), and a small CLI over it for
 * tests/integration/test_registry.py:
 *
 *   test-registry cli [options] import STORE TARFILE REF
 *   test-registry cli [options] pull STORE REF        progress lines, then "ID sha256:..."
 *   test-registry cli [options] push STORE REF        progress lines, then "DIGEST sha256:..."
 *   test-registry cli [options] inspect STORE REF     {"Id","RepoTags","RepoDigests"}
 *   test-registry cli [options] images STORE          one image id a line
 *   test-registry cli [options] tag STORE SRC DST
 *   test-registry cli [options] login SERVER
 *   test-registry cli [options] search TERM
 *
 * options: --user U, --password P (or $REGISTRY_PASSWORD), --certs-dir D, --secure (no default
 * insecure loopback), --insecure HOST, --mirror URL, --platform P, --chunk-size N,
 * --retries N, --retry-delay-ms N, --concurrency N. Errors: "error: ..." on stderr, exit 1.
 */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "registry/internal.h"
#include "test.h"

/* ---- unit tests -------------------------------------------------------------- */

static void test_challenge_bearer(void)
{
	struct reg_challenge c = {0};
	CHECK_INT(reg_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
				      "service=\"registry.docker.io\",scope=\"repository:library/"
				      "busybox:pull\"",
				      &c),
		  0);
	CHECK_INT(c.scheme, REG_AUTH_BEARER);
	CHECK_STREQ(c.realm, "https://auth.docker.io/token");
	CHECK_STREQ(c.service, "registry.docker.io");
	CHECK_STREQ(c.scope, "repository:library/busybox:pull");
	reg_challenge_release(&c);

	/* several challenges, Bearer preferred; escapes; case of names; spaces */
	CHECK_INT(reg_challenge_parse("Basic realm=\"r\", BEARER  Realm = \"http://a/t\\\"x\" , "
				      "error=\"invalid_token\"",
				      &c),
		  0);
	CHECK_INT(c.scheme, REG_AUTH_BEARER);
	CHECK_STREQ(c.realm, "http://a/t\"x");
	CHECK_STREQ(c.error, "invalid_token");
	CHECK(c.service == NULL);
	reg_challenge_release(&c);

	/* token68 of another scheme before ours */
	CHECK_INT(reg_challenge_parse("Negotiate abc==, Bearer realm=\"https://x/t\"", &c), 0);
	CHECK_STREQ(c.realm, "https://x/t");
	reg_challenge_release(&c);
}

static void test_challenge_basic_and_bad(void)
{
	struct reg_challenge c = {0};

	CHECK_INT(reg_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
	CHECK_INT(c.scheme, REG_AUTH_BASIC);
	CHECK_STREQ(c.realm, "Registry Realm");
	reg_challenge_release(&c);

	CHECK_INT(reg_challenge_parse("Basic", &c), 0);
	CHECK_INT(c.scheme, REG_AUTH_BASIC);
	reg_challenge_release(&c);

	CHECK_INT(reg_challenge_parse("Digest realm=\"x\"", &c), -ENOENT);
	CHECK_INT(reg_challenge_parse("", &c), -ENOENT);
	CHECK_INT(reg_challenge_parse(NULL, &c), -ENOENT);
	CHECK_INT(reg_challenge_parse("Bearer realm=\"unterminated", &c), -EINVAL);
	CHECK_INT(reg_challenge_parse("Bearer service=\"x\"", &c), -EINVAL); /* no realm */
	CHECK_INT(reg_challenge_parse("Bearer realm=x y=z", &c), -EINVAL);
	CHECK_INT(reg_challenge_parse("Bearer realm=", &c), -EINVAL);
	{
		char *big = xmalloc(20000);
		memset(big, 'a', 19999);
		big[19999] = 0;
		CHECK_INT(reg_challenge_parse(big, &c), -E2BIG);
		free(big);
	}
}

static void test_basic_credentials(void)
{
	_cleanup_free_ char *b = reg_basic_credentials("user", "pass");
	CHECK_STREQ(b, "Basic dXNlcjpwYXNz");
}

static void test_refs_and_urls(void)
{
	struct reg_ref r = {0};
	_cleanup_free_ char *u = NULL, *u2 = NULL, *o = NULL, *q = NULL;
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	CHECK_INT(reg_ref_parse("busybox", &r, NULL), 0);
	CHECK_STREQ(r.domain, "docker.io");
	CHECK_STREQ(r.repo, "library/busybox");
	CHECK_STREQ(r.name, "docker.io/library/busybox");
	CHECK_STREQ(r.tag, "latest");
	CHECK(r.digest == NULL);
	CHECK_STREQ(reg_domain_host(r.domain), "registry-1.docker.io");
	reg_ref_release(&r);

	CHECK_INT(reg_ref_parse("127.0.0.1:5000/a/b:v1", &r, NULL), 0);
	CHECK_STREQ(r.domain, "127.0.0.1:5000");
	CHECK_STREQ(r.repo, "a/b");
	CHECK_STREQ(r.tag, "v1");
	u = reg_url("https://127.0.0.1:5000", r.repo, "manifests", r.tag);
	CHECK_STREQ(u, "https://127.0.0.1:5000/v2/a/b/manifests/v1");
	reg_ref_release(&r);

	{
		_cleanup_free_ char *in = xasprintf("localhost:5000/x:t@%s", d);
		CHECK_INT(reg_ref_parse(in, &r, NULL), 0);
		CHECK_STREQ(r.digest, d);
		CHECK(r.tag == NULL);
		reg_ref_release(&r);
	}
	CHECK_INT(reg_ref_parse("x@sha256:../../etc", &r, NULL), -EINVAL);
	CHECK_INT(reg_ref_parse("x@sha256:ABC", &r, NULL), -EINVAL);
	CHECK_INT(reg_ref_parse("UPPER", &r, NULL), -EINVAL);

	/* digests and tags only: no path tricks into a URL */
	CHECK(reg_url("https://h", "r", "blobs", "sha256:../../x") == NULL);
	CHECK(reg_url("https://h", "r", "blobs", "../x") == NULL);
	CHECK(reg_url("https://h", "r", "blobs", "md5:00") == NULL);
	u2 = reg_url("https://h", "r", "blobs", d);
	CHECK(u2 && endswith(u2, d));

	o = reg_url_origin("HTTPS://Example.COM/v2/x");
	CHECK_STREQ(o, "https://example.com:443");
	free(o);
	o = reg_url_origin("http://127.0.0.1:5000/v2/");
	CHECK_STREQ(o, "http://127.0.0.1:5000");
	free(o);
	o = reg_url_origin("http://127.0.0.1/");
	CHECK_STREQ(o, "http://127.0.0.1:80");
	free(o);
	CHECK(reg_url_origin("ftp://x/") == NULL);
	CHECK(reg_url_origin("https://user:pw@x/") == NULL);
	CHECK(reg_url_origin("file:///etc/passwd") == NULL);
	o = NULL;

	q = reg_url_resolve("https://h:5000/v2/r/blobs/uploads/", "/v2/r/blobs/uploads/u?_state=a");
	CHECK_STREQ(q, "https://h:5000/v2/r/blobs/uploads/u?_state=a");
	free(q);
	q = reg_url_resolve("https://h/v2/x", "http://other:81/y");
	CHECK_STREQ(q, "http://other:81/y");
	free(q);
	CHECK(reg_url_resolve("https://h/v2/x", "gopher://h/") == NULL);
	CHECK(reg_url_resolve("https://h/v2/x", "https://u:p@h/") == NULL);
	q = reg_url_add_query("https://h/u?_state=a", "digest", d);
	CHECK(q && strstr(q, "_state=a&digest=sha256"));
	free(q);
	q = reg_url_add_query("https://h/t", "scope", "repository:a/b:pull,push");
	CHECK(q && strstr(q, "?scope=repository"));
	free(q);
	q = NULL;

	{
		_cleanup_free_ char *a = reg_server_domain(NULL),
				    *b = reg_server_domain("https://index.docker.io/v1/"),
				    *c = reg_server_domain("https://127.0.0.1:5000/"),
				    *e = reg_server_domain("u@h");
		CHECK_STREQ(a, "docker.io");
		CHECK_STREQ(b, "docker.io");
		CHECK_STREQ(c, "127.0.0.1:5000");
		CHECK(e == NULL);
	}
}

static void test_insecure_hosts(void)
{
	char *list[] = {(char *)"10.1.0.0/16", (char *)"reg.local:5000", (char *)"plain.host",
			NULL};
	struct registry_config cfg = {.insecure_registries = list};

	CHECK(reg_host_insecure(&cfg, "127.0.0.1:5000"));
	CHECK(reg_host_insecure(&cfg, "127.1.2.3"));
	CHECK(reg_host_insecure(&cfg, "localhost:5000"));
	CHECK(reg_host_insecure(&cfg, "[::1]:5000"));
	CHECK(reg_host_insecure(&cfg, "10.1.200.3:443"));
	CHECK(!reg_host_insecure(&cfg, "10.2.0.1"));
	CHECK(reg_host_insecure(&cfg, "reg.local:5000"));
	CHECK(!reg_host_insecure(&cfg, "reg.local:5001"));
	CHECK(reg_host_insecure(&cfg, "plain.host:1234"));
	CHECK(!reg_host_insecure(&cfg, "registry-1.docker.io"));
	cfg.no_default_insecure = true;
	CHECK(!reg_host_insecure(&cfg, "127.0.0.1:5000"));
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static int parse(const char *s, const char *ct, struct reg_manifest *m, struct error **err)
{
	return reg_manifest_parse(s, strlen(s), ct, m, err);
}

static void test_manifest_parse(void)
{
	struct reg_manifest m = {0};
	struct error *err = NULL;
	const char *img = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
			  "\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"size\":10,"
			  "\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER
			  "\",\"size\":20,\"digest\":\"" D2 "\"}],\"extra\":1}";

	CHECK_INT(parse(img, MT_DOCKER_MANIFEST, &m, &err), 0);
	CHECK_INT(m.kind, REG_MANIFEST_IMAGE);
	CHECK_STREQ(m.config.digest, D1);
	CHECK_INT(m.config.size, 10);
	CHECK_INT(m.n_descs, 1);
	CHECK_STREQ(m.descs[0].digest, D2);
	reg_manifest_release(&m);

	/* Content-Type with parameters; no Content-Type at all */
	CHECK_INT(parse(img, MT_DOCKER_MANIFEST "; charset=utf-8", &m, NULL), 0);
	reg_manifest_release(&m);
	CHECK_INT(parse(img, NULL, &m, NULL), 0);
	reg_manifest_release(&m);

	/* mediaType disagreeing with the Content-Type */
	CHECK_INT(parse(img, MT_OCI_INDEX, &m, &err), -EINVAL);
	CHECK(err && strstr(err->msg, "does not match"));
	error_free(err);
	err = NULL;

	/* both layers and manifests (CVE-2021-41190) */
	CHECK_INT(parse("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},"
			"\"layers\":[],\"manifests\":[]}",
			NULL, &m, NULL),
		  -EINVAL);
	/* schema 1, bad digests, negative and missing sizes, unknown layer types */
	CHECK_INT(parse("{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, &m, NULL), -EINVAL);
	CHECK_INT(parse("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"sha256:../../"
			"x\"},\"layers\":[]}",
			NULL, &m, NULL),
		  -EINVAL);
	CHECK_INT(parse("{\"schemaVersion\":2,\"config\":{\"size\":-1,\"digest\":\"" D1 "\"},"
			"\"layers\":[]}",
			NULL, &m, NULL),
		  -EINVAL);
	CHECK_INT(parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[]}",
			NULL, &m, NULL),
		  -EINVAL);
	CHECK_INT(parse("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},"
			"\"layers\":[{\"mediaType\":\"text/plain\",\"size\":1,\"digest\":\"" D2
			"\"}]}",
			NULL, &m, NULL),
		  -EINVAL);
	CHECK_INT(parse("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},"
			"\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"size\":1,"
			"\"digest\":\"SHA256:" D2 "\"}]}",
			NULL, &m, NULL),
		  -EINVAL);
	CHECK_INT(parse("[1]", NULL, &m, NULL), -EINVAL);
	CHECK_INT(parse("{", NULL, &m, NULL), -EINVAL);
	CHECK_INT(parse("{\"schemaVersion\":\"2\"}", NULL, &m, NULL), -EINVAL);
	/* an image manifest served as an index */
	CHECK_INT(parse("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
			"\"manifests\":[]}",
			NULL, &m, NULL),
		  -EINVAL);
}

static void test_index_pick(void)
{
	struct reg_manifest m = {0};
	struct reg_platform p = {0};
	const struct reg_desc *d;
	const char *idx =
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
	    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":5,\"digest\":\"" D1 "\","
	    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
	    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":6,\"digest\":\"" D2 "\","
	    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
	    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":7,\"digest\":\"" D3 "\","
	    "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";

	CHECK_INT(parse(idx, MT_OCI_INDEX, &m, NULL), 0);
	CHECK_INT(m.kind, REG_MANIFEST_INDEX);
	CHECK_INT(m.n_descs, 3);

	CHECK_INT(reg_platform_parse("linux/amd64", &p, NULL), 0);
	d = reg_index_pick(&m, &p);
	CHECK(d && streq(d->digest, D1));
	reg_platform_release(&p);

	CHECK_INT(reg_platform_parse("Linux/AArch64", &p, NULL), 0);
	CHECK_STREQ(p.arch, "arm64");
	d = reg_index_pick(&m, &p);
	CHECK(d && streq(d->digest, D2));
	reg_platform_release(&p);

	CHECK_INT(reg_platform_parse("linux/arm64/v8", &p, NULL), 0);
	d = reg_index_pick(&m, &p);
	CHECK(d && streq(d->digest, D2));
	reg_platform_release(&p);

	CHECK_INT(reg_platform_parse("linux/s390x", &p, NULL), 0);
	CHECK(reg_index_pick(&m, &p) == NULL);
	reg_platform_release(&p);

	CHECK_INT(reg_platform_parse(NULL, &p, NULL), 0);
	CHECK_STREQ(p.os, "linux");
	CHECK(reg_index_pick(&m, &p) != NULL || !streq(p.arch, "amd64"));
	reg_platform_release(&p);

	CHECK_INT(reg_platform_parse("linux", &p, NULL), -EINVAL);
	CHECK_INT(reg_platform_parse("a/b/c/d", &p, NULL), -EINVAL);
	reg_manifest_release(&m);
}

static void test_pull_bad_ref(void)
{
	struct error *err = NULL;
	CHECK_INT(registry_pull(NULL, "x@sha256:../../x", NULL, NULL, NULL, NULL, NULL, NULL, &err),
		  -EINVAL);
	CHECK(err && strstr(err->msg, "invalid reference format"));
	error_free(err);
	err = NULL;
	/* nothing listens on port 1: a clean transport error, no crash */
	CHECK(registry_pull(NULL, "127.0.0.1:1/x:y", NULL, NULL, NULL, NULL, NULL, NULL, &err) < 0);
	CHECK(err && strstr(err->msg, "127.0.0.1:1"));
	error_free(err);
}

static int unit_main(void)
{
	RUN(test_challenge_bearer);
	RUN(test_challenge_basic_and_bad);
	RUN(test_basic_credentials);
	RUN(test_refs_and_urls);
	RUN(test_insecure_hosts);
	RUN(test_manifest_parse);
	RUN(test_index_pick);
	RUN(test_pull_bad_ref);
	return TEST_SUMMARY();
}

/* ---- the CLI for the integration tests ------------------------------------------ */

static void print_progress(void *ud, json_object *msg)
{
	printf("%s\n", json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
}

static int fail(struct error *err, int r)
{
	fprintf(stderr, "error: %s\n", err && err->msg ? err->msg : strerror(-r));
	error_free(err);
	return 1;
}

static int open_store(const char *dir, struct image_store **s)
{
	struct error *err = NULL;
	int r = image_store_open(dir, s, &err);
	if (r < 0)
		return fail(err, r);
	return 0;
}

static int cli_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"user", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"certs-dir", required_argument, NULL, 'c'},
	    {"secure", no_argument, NULL, 's'},
	    {"insecure", required_argument, NULL, 'i'},
	    {"mirror", required_argument, NULL, 'm'},
	    {"platform", required_argument, NULL, 'P'},
	    {"chunk-size", required_argument, NULL, 'C'},
	    {"retries", required_argument, NULL, 'r'},
	    {"retry-delay-ms", required_argument, NULL, 'd'},
	    {"concurrency", required_argument, NULL, 'n'},
	    {0},
	};
	_cleanup_strv_free_ char **insecure = NULL, **mirrors = NULL;
	struct registry_config cfg = {0};
	struct registry_auth auth = {.password = getenv("REGISTRY_PASSWORD")};
	_cleanup_(image_store_closep) struct image_store *store = NULL;
	const char *platform = NULL, *cmd;
	struct error *err = NULL;
	bool have_auth = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint64_t v = 0;
		switch (c) {
		case 'u':
			auth.username = optarg;
			have_auth = true;
			break;
		case 'p':
			auth.password = optarg;
			break;
		case 'c':
			cfg.certs_dir = optarg;
			break;
		case 's':
			cfg.no_default_insecure = true;
			break;
		case 'i':
			insecure = strv_append(insecure, optarg);
			break;
		case 'm':
			mirrors = strv_append(mirrors, optarg);
			break;
		case 'P':
			platform = optarg;
			break;
		case 'C':
		case 'r':
		case 'd':
		case 'n':
			if (safe_atou64(optarg, &v) < 0) {
				fprintf(stderr, "error: bad number \"%s\"\n", optarg);
				return 2;
			}
			if (c == 'C')
				cfg.chunk_size = v;
			else if (c == 'r')
				cfg.max_retries = (unsigned)v;
			else if (c == 'd')
				cfg.retry_delay_ms = (unsigned)v;
			else
				cfg.max_concurrent_downloads = cfg.max_concurrent_uploads =
				    (unsigned)v;
			break;
		default:
			return 2;
		}
	}
	cfg.insecure_registries = insecure;
	cfg.mirrors = mirrors;
	if (optind >= argc)
		return 2;
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if (getenv("REGISTRY_DEBUG"))
		log_setup(2, LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);

	if (streq(cmd, "import") && argc == 3) {
		_cleanup_close_ int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		_cleanup_free_ char *id = NULL;
		if (fd < 0 || open_store(argv[0], &store))
			return 1;
		r = image_import(store, fd, argv[2], NULL, NULL, &id, &err);
		if (r < 0)
			return fail(err, r);
		printf("%s\n", id);
		return 0;
	}
	if (streq(cmd, "pull") && argc == 2) {
		_cleanup_free_ char *id = NULL;
		if (open_store(argv[0], &store))
			return 1;
		r = registry_pull(store, argv[1], platform, have_auth ? &auth : NULL, &cfg,
				  print_progress, NULL, &id, &err);
		if (r < 0)
			return fail(err, r);
		printf("ID %s\n", id);
		return 0;
	}
	if (streq(cmd, "push") && argc == 2) {
		_cleanup_free_ char *digest = NULL;
		if (open_store(argv[0], &store))
			return 1;
		r = registry_push(store, argv[1], have_auth ? &auth : NULL, &cfg, print_progress,
				  NULL, &digest, &err);
		if (r < 0)
			return fail(err, r);
		printf("DIGEST %s\n", digest);
		return 0;
	}
	if (streq(cmd, "inspect") && argc == 2) {
		_cleanup_(image_info_freep) struct image_info *info = NULL;
		_cleanup_json_ json_object *o = json_object_new_object();
		if (open_store(argv[0], &store))
			return 1;
		r = image_lookup(store, argv[1], &info, &err);
		if (r < 0)
			return fail(err, r);
		json_add_str(o, "Id", info->id);
		json_object_object_add(o, "RepoTags", json_strv_new(info->repo_tags));
		json_object_object_add(o, "RepoDigests", json_strv_new(info->repo_digests));
		json_add_int(o, "Layers", (int64_t)info->n_layers);
		json_add_int(o, "Size", info->size);
		print_progress(NULL, o);
		return 0;
	}
	if (streq(cmd, "images") && argc == 1) {
		_cleanup_json_ json_object *l = NULL;
		if (open_store(argv[0], &store))
			return 1;
		r = image_list_json(store, NULL, true, &l, &err);
		if (r < 0)
			return fail(err, r);
		for (size_t i = 0; i < json_object_array_length(l); i++) {
			json_object *id = NULL;
			json_object_object_get_ex(json_object_array_get_idx(l, i), "Id", &id);
			printf("%s\n", json_object_get_string(id));
		}
		return 0;
	}
	if (streq(cmd, "tag") && argc == 3) {
		if (open_store(argv[0], &store))
			return 1;
		r = image_tag(store, argv[1], argv[2], &err);
		if (r < 0)
			return fail(err, r);
		return 0;
	}
	if (streq(cmd, "login") && argc == 1) {
		r = registry_login(argv[0], &auth, &cfg, &err);
		if (r < 0)
			return fail(err, r);
		printf("Login Succeeded\n");
		return 0;
	}
	if (streq(cmd, "search") && argc == 1) {
		_cleanup_json_ json_object *res = NULL;
		r = registry_search(argv[0], 0, have_auth ? &auth : NULL, &cfg, &res, &err);
		if (r < 0)
			return fail(err, r);
		print_progress(NULL, res);
		return 0;
	}
	fprintf(stderr, "error: unknown command or arguments\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc > 1 && streq(argv[1], "cli"))
		return cli_main(argc - 1, argv + 1);
	return unit_main();
}
