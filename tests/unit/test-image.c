/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/image.h"
#include "test.h"

static char root[] = "/tmp/berth-image-XXXXXX";

#define DIGEST_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* ---- tar building ------------------------------------------------------ */

struct m {
	const char *name;
	const char *data; /* NULL: directory */
};

static void add(struct archive *a, const char *name, const void *data, size_t len, bool dir)
{
	struct archive_entry *x = archive_entry_new();
	archive_entry_copy_pathname(x, name);
	archive_entry_set_filetype(x, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(x, dir ? 0755 : 0644);
	archive_entry_set_mtime(x, 1700000000, 0);
	archive_entry_set_size(x, dir ? 0 : (la_int64_t)len);
	archive_write_header(a, x);
	if (!dir && len)
		archive_write_data(a, data, len);
	archive_entry_free(x);
}

static int tar_of(const struct m *ms, bool gzip)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	archive_write_open_fd(a, fd);
	for (; ms->name; ms++)
		add(a, ms->name, ms->data, ms->data ? strlen(ms->data) : 0, !ms->data);
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static char *slurp(int fd, size_t *len)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *b = xmalloc(n + 1);
	(void)!pread(fd, b, n, 0);
	b[n] = 0;
	lseek(fd, 0, SEEK_SET);
	*len = n;
	return b;
}

static char *sha(const void *p, size_t n)
{
	unsigned char md[32];
	unsigned l;
	char *s = xmalloc(72);
	EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
	strcpy(s, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(s + 7 + 2 * i, "%02x", md[i]);
	return s;
}

/* An archive from (name, bytes) members. */
struct blob {
	const char *name;
	char *data;
	size_t len;
};

static int archive_of(struct blob *b, size_t n)
{
	int fd = memfd_create("a", MFD_CLOEXEC);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_fd(a, fd);
	for (size_t i = 0; i < n; i++)
		add(a, b[i].name, b[i].data, b[i].len, false);
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static const struct m layer1[] = {{"etc/", NULL},    {"etc/passwd", "root:x:0:0\n"},
				  {"d/", NULL},	     {"d/a", "a"},
				  {"d/b", "b"},	     {"rm/", NULL},
				  {"rm/me", "gone"}, {"rm/stay", "stay"},
				  {NULL, NULL}};
static const struct m layer2[] = {{"d/", NULL},	 {"d/.wh..wh..opq", ""}, {"d/c", "c"},
				  {"rm/", NULL}, {"rm/.wh.me", ""},	 {"new", "new"},
				  {NULL, NULL}};

/* A docker-archive with two layers; tamper changes the second diff id. */
static int docker_archive(const char *tag, bool tamper, char **ret_id)
{
	_cleanup_close_ int l1 = tar_of(layer1, false), l2 = tar_of(layer2, false);
	size_t n1, n2;
	char *b1 = slurp(l1, &n1), *b2 = slurp(l2, &n2);
	_cleanup_free_ char *d1 = sha(b1, n1), *d2 = sha(b2, n2), *cfg = NULL, *man = NULL,
			    *id = NULL, *cname = NULL;
	struct blob bl[4];
	int fd;

	if (tamper)
		d2[10] = d2[10] == 'a' ? 'b' : 'a';
	cfg = xasprintf(
	    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:"
	    "04:05Z\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"Labels\":"
	    "{\"a\":\"1\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]},"
	    "\"history\":[{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"ADD l1\"},"
	    "{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"CMD\",\"empty_layer\":"
	    "true},{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"ADD l2\"}]}",
	    d1, d2);
	id = sha(cfg, strlen(cfg));
	cname = xasprintf("%s.json", id + 7);
	man = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],\"Layers\":[\"one/layer.tar\","
			"\"two/layer.tar\"]}]",
			cname, tag);
	/* member order deliberately not manifest-first */
	bl[0] = (struct blob){"two/layer.tar", b2, n2};
	bl[1] = (struct blob){"manifest.json", man, strlen(man)};
	bl[2] = (struct blob){cname, cfg, strlen(cfg)};
	bl[3] = (struct blob){"one/layer.tar", b1, n1};
	fd = archive_of(bl, 4);
	free(b1);
	free(b2);
	if (ret_id)
		*ret_id = TAKE_PTR(id);
	return fd;
}

static struct image_store *open_store(void)
{
	struct image_store *s = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *p = xasprintf("%s/store", root);
	if (image_store_open(p, &s, &err) < 0) {
		fprintf(stderr, "open: %s\n", err->msg);
		abort();
	}
	return s;
}

/* ---- tests ------------------------------------------------------------- */

static void test_ref_normalize(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
	    {"busybox", "docker.io/library/busybox:latest"},
	    {"busybox:1.36", "docker.io/library/busybox:1.36"},
	    {"library/busybox", "docker.io/library/busybox:latest"},
	    {"docker.io/busybox", "docker.io/library/busybox:latest"},
	    {"index.docker.io/library/busybox", "docker.io/library/busybox:latest"},
	    {"user/app:v1", "docker.io/user/app:v1"},
	    {"localhost:5000/x", "localhost:5000/x:latest"},
	    {"localhost/x:y", "localhost/x:y"},
	    {"quay.io/a/b/c:1", "quay.io/a/b/c:1"},
	    {"127.0.0.1:5000/my-app_1.x:tag", "127.0.0.1:5000/my-app_1.x:tag"},
	    {"busybox@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     "docker.io/library/busybox@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	    {"a__b", "docker.io/library/a__b:latest"},
	    {"Busybox", NULL},
	    {"busybox:", NULL},
	    {"busybox:-x", NULL},
	    {"", NULL},
	    {"a//b", NULL},
	    {"-a", NULL},
	    {"a___b", NULL},
	    {"busybox@sha256:abc", NULL},
	    {"busybox@md5:0123", NULL},
	    {"busybox@sha256:../../etc/passwd", NULL},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL},
	    {"UPPER.io/x", "UPPER.io/x:latest"},
	};
	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *out = NULL;
		_cleanup_error_ struct error *err = NULL;
		int r = ref_normalize(t[i].in, &out, &err);
		if (t[i].out) {
			CHECK(r == 0);
			CHECK_STREQ(out, t[i].out);
		} else {
			if (r != -EINVAL)
				fprintf(stderr, "  accepted '%s'\n", t[i].in);
			CHECK(r == -EINVAL);
			CHECK(err && strstr(err->msg, "invalid"));
		}
	}
	{
		_cleanup_free_ char *f1 = ref_familiar("docker.io/library/busybox:latest"),
				    *f2 = ref_familiar("docker.io/user/x:1"),
				    *f3 = ref_familiar("localhost:5000/x:latest");
		CHECK_STREQ(f1, "busybox:latest");
		CHECK_STREQ(f2, "user/x:1");
		CHECK_STREQ(f3, "localhost:5000/x:latest");
	}
}

static bool is_whiteout(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	return lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

static bool file_is(const char *p, const char *want)
{
	_cleanup_free_ char *b = NULL;
	size_t n;
	return read_file_at(AT_FDCWD, p, 4096, &b, &n) >= 0 && streq(b, want);
}

static void test_load_docker_archive(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_strv_free_ char **loaded = NULL;
	_cleanup_free_ char *id = NULL, *lower = NULL;
	_cleanup_close_ int fd = docker_archive("test/two:1", false, &id);

	CHECK(image_load(s, fd, NULL, NULL, &loaded, &err) == 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	CHECK(loaded && loaded[0] && streq(loaded[0], "Loaded image: test/two:1"));
	CHECK(image_lookup(s, "test/two:1", &i, &err) == 0);
	if (!i)
		return;
	CHECK_STREQ(i->id, id);
	CHECK_INT(i->n_layers, 2);
	CHECK_INT(i->created, 1704164645);
	CHECK_INT(i->size, 11 + 2 + 8 + 1 + 3);
	CHECK(i->repo_tags[0] && streq(i->repo_tags[0], "test/two:1"));
	lower = image_lowerdir(i);
	CHECK(lower && strchr(lower, ':'));
	if (lower) {
		/* top layer first */
		CHECK(strncmp(lower, i->layers[1], strlen(i->layers[1])) == 0);
	}
	/* the top layer carries overlay's whiteout and opaque marks */
	CHECK(is_whiteout(i->layers[1], "rm/me"));
	{
		_cleanup_free_ char *d = xasprintf("%s/d", i->layers[1]);
		char v[4] = {0};
		CHECK(getxattr(d, "trusted.overlay.opaque", v, 3) == 1 && v[0] == 'y');
	}
	/* a real overlay mount shows the merged view */
	if (geteuid() == 0 && lower) {
		_cleanup_free_ char *mnt = xasprintf("%s/mnt", root), *opts = NULL, *p = NULL;
		mkdir(mnt, 0755);
		opts = xasprintf("lowerdir=%s", lower);
		if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) == 0) {
			p = xasprintf("%s/etc/passwd", mnt);
			CHECK(file_is(p, "root:x:0:0\n"));
			free(p);
			p = xasprintf("%s/rm/me", mnt);
			CHECK(access(p, F_OK) < 0);
			free(p);
			p = xasprintf("%s/rm/stay", mnt);
			CHECK(file_is(p, "stay"));
			free(p);
			p = xasprintf("%s/d/a", mnt);
			CHECK(access(p, F_OK) < 0);
			free(p);
			p = xasprintf("%s/d/c", mnt);
			CHECK(file_is(p, "c"));
			CHECK(umount2(mnt, MNT_DETACH) == 0);
		} else {
			fprintf(stderr,
				"  (overlay mount unavailable: %m; merged view not checked)\n");
		}
		rmdir(mnt);
	}
	/* loading again is idempotent */
	{
		_cleanup_close_ int fd2 = docker_archive("test/two:1", false, NULL);
		_cleanup_strv_free_ char **l2 = NULL;
		CHECK(image_load(s, fd2, NULL, NULL, &l2, &err) == 0);
	}
}

static int count_layer_dirs(void)
{
	_cleanup_free_ char *cmd =
	    xasprintf("ls %s/store/layers | grep -v -x -e l -e empty | wc -l", root);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void test_load_tampered(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_error_ struct error *err = NULL;
	_cleanup_strv_free_ char **loaded = NULL;
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	_cleanup_close_ int fd = docker_archive("test/tampered:1", true, NULL);
	int before = image_count(s), dirs = count_layer_dirs();

	CHECK(image_load(s, fd, NULL, NULL, &loaded, &err) == -EINVAL);
	CHECK(err && strstr(err->msg, "layers from manifest don't match image configuration"));
	CHECK_INT(image_count(s), before);
	CHECK_INT(count_layer_dirs(), dirs);
	error_free(err);
	err = NULL;
	CHECK(image_lookup(s, "test/tampered:1", &i, &err) == -ENOENT);
	CHECK(err && streq(err->msg, "No such image: test/tampered:1"));
}

static void test_load_oci_layout(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_error_ struct error *err = NULL;
	_cleanup_strv_free_ char **loaded = NULL;
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	static const struct m l[] = {{"hello", "world"}, {NULL, NULL}};
	_cleanup_close_ int lz = tar_of(l, true), lu = tar_of(l, false), fd = -1;
	size_t nz, nu;
	_cleanup_free_ char *bz = slurp(lz, &nz), *bu = slurp(lu, &nu);
	_cleanup_free_ char *dz = sha(bz, nz), *du = sha(bu, nu), *cfg = NULL, *cd = NULL,
			    *man = NULL, *md = NULL, *idx = NULL, *p1 = NULL, *p2 = NULL,
			    *p3 = NULL;
	struct blob b[5];

	cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":"
			"{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
			du);
	cd = sha(cfg, strlen(cfg));
	man =
	    xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest."
		      "v1+json\",\"config\":{\"mediaType\":\"application/"
		      "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":"
		      "[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
		      "\"%s\",\"size\":%zu}]}",
		      cd, strlen(cfg), dz, nz);
	md = sha(man, strlen(man));
	idx = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
			"vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
			"\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/"
			"ocitest:v2\",\"org.opencontainers.image.ref.name\":\"v2\"}}]}",
			md, strlen(man));
	p1 = xasprintf("blobs/sha256/%s", dz + 7);
	p2 = xasprintf("blobs/sha256/%s", cd + 7);
	p3 = xasprintf("blobs/sha256/%s", md + 7);
	b[0] = (struct blob){"index.json", idx, strlen(idx)};
	b[1] = (struct blob){"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30};
	b[2] = (struct blob){p1, bz, nz};
	b[3] = (struct blob){p2, cfg, strlen(cfg)};
	b[4] = (struct blob){p3, man, strlen(man)};
	fd = archive_of(b, 5);
	CHECK(image_load(s, fd, NULL, NULL, &loaded, &err) == 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	CHECK(loaded && loaded[0] && streq(loaded[0], "Loaded image: ocitest:v2"));
	CHECK(image_lookup(s, "ocitest:v2", &i, &err) == 0);
	if (i)
		CHECK_STREQ(i->id, cd);

	/* the same layout with a corrupted layer blob fails and commits nothing */
	close(fd);
	bz[nz / 2] ^= 0x55;
	fd = archive_of(b, 5);
	strv_free(loaded);
	loaded = NULL;
	error_free(err);
	err = NULL;
	{
		int before = image_count(s);
		CHECK(image_load(s, fd, NULL, NULL, &loaded, &err) < 0);
		CHECK(err && strstr(err->msg, "verification failed"));
		CHECK_INT(image_count(s), before);
	}
}

static int import_dir_tar(struct image_store *s, const char *ref, json_object *changes,
			  char **ret_id)
{
	static int n;
	_cleanup_free_ char *content = xasprintf("#!/bin/sh\n# %d\n", n++);
	const struct m l[] = {{"bin/", NULL}, {"bin/x", content}, {NULL, NULL}};
	_cleanup_close_ int fd = tar_of(l, true);
	_cleanup_error_ struct error *err = NULL;
	int r = image_import(s, fd, ref, changes, "imported", ret_id, &err);
	if (r < 0)
		fprintf(stderr, "  import: %s\n", err->msg);
	return r;
}

static void test_import_changes(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_json_ json_object *ch = json_tokener_parse(
	    "[\"CMD [\\\"/bin/x\\\",\\\"-v\\\"]\",\"ENV A=1 B=2\",\"WORKDIR /srv\","
	    "\"EXPOSE 80\",\"LABEL k=v\",\"USER nobody\",\"ENTRYPOINT echo hi\"]");
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *id = NULL;
	json_object *c, *v;

	CHECK(import_dir_tar(s, "imp:1", ch, &id) == 0);
	CHECK(image_lookup(s, "imp:1", &i, &err) == 0);
	if (!i)
		return;
	CHECK_STREQ(i->id, id);
	CHECK_INT(i->n_layers, 1);
	CHECK(json_object_object_get_ex(i->config, "config", &c));
	CHECK(json_object_object_get_ex(c, "Cmd", &v) &&
	      streq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE),
		    "[\"/bin/x\",\"-v\"]"));
	CHECK(json_object_object_get_ex(c, "Entrypoint", &v) &&
	      streq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE),
		    "[\"/bin/sh\",\"-c\",\"echo hi\"]"));
	CHECK(json_object_object_get_ex(c, "Env", &v) && json_object_array_length(v) == 2);
	CHECK(json_object_object_get_ex(c, "WorkingDir", &v) &&
	      streq(json_object_get_string(v), "/srv"));
	CHECK(json_object_object_get_ex(c, "ExposedPorts", &v) &&
	      json_object_object_get_ex(v, "80/tcp", NULL));
	CHECK(json_object_object_get_ex(c, "User", &v) &&
	      streq(json_object_get_string(v), "nobody"));
	{
		/* HEALTHCHECK, as a Dockerfile has it: shell and JSON forms, NONE, flags */
		static const struct {
			const char *change, *want;
		} t[] = {
		    {"HEALTHCHECK --interval=5s --retries=2 CMD curl -f x || exit 1",
		     "{\"Test\":[\"CMD-SHELL\",\"curl -f x || exit 1\"],\"Interval\":5000000000,"
		     "\"Retries\":2}"},
		    {"HEALTHCHECK --timeout=1m30s --start-period=0 CMD [\"true\",\"x\"]",
		     "{\"Test\":[\"CMD\",\"true\",\"x\"],\"Timeout\":90000000000}"},
		    {"healthcheck none", "{\"Test\":[\"NONE\"]}"},
		};
		static const struct {
			const char *change, *err;
		} bad[] = {
		    {"HEALTHCHECK --interval=10us CMD true",
		     "Interval \"interval\" cannot be less than 1ms"},
		    {"HEALTHCHECK --retries=-1 CMD true", "--retries cannot be negative (-1)"},
		    {"HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"},
		    {"HEALTHCHECK RUN true", "Unknown type \"RUN\" in HEALTHCHECK (try CMD)"},
		    {"HEALTHCHECK CMD", "missing command after HEALTHCHECK CMD"},
		    {"HEALTHCHECK --every=1s CMD true", "Unknown flag: every"},
		};
		for (size_t k = 0; k < ELEMENTSOF(t); k++) {
			_cleanup_json_ json_object *chg = json_object_new_array();
			_cleanup_(image_info_freep) struct image_info *hi = NULL;
			_cleanup_free_ char *hid = NULL;
			json_object *hc, *hcfg;
			json_object_array_add(chg, json_object_new_string(t[k].change));
			CHECK(import_dir_tar(s, "imp:hc", chg, &hid) == 0);
			CHECK(image_lookup(s, "imp:hc", &hi, NULL) == 0);
			CHECK(hi && json_object_object_get_ex(hi->config, "config", &hcfg) &&
			      json_object_object_get_ex(hcfg, "Healthcheck", &hc) &&
			      streq(json_object_to_json_string_ext(hc, JSON_C_TO_STRING_PLAIN),
				    t[k].want));
		}
		for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
			_cleanup_json_ json_object *chg = json_object_new_array();
			_cleanup_error_ struct error *e2 = NULL;
			_cleanup_close_ int fd =
			    tar_of((const struct m[]){{"a", "b"}, {NULL, NULL}}, false);
			json_object_array_add(chg, json_object_new_string(bad[k].change));
			CHECK(image_import(s, fd, NULL, chg, NULL, NULL, &e2) == -EINVAL);
			CHECK(e2 && strstr(e2->msg, bad[k].err));
		}
	}
	{
		_cleanup_json_ json_object *bad = json_tokener_parse("[\"RUN rm -rf /\"]");
		_cleanup_close_ int fd =
		    tar_of((const struct m[]){{"a", "b"}, {NULL, NULL}}, false);
		CHECK(image_import(s, fd, NULL, bad, NULL, NULL, &err) == -EINVAL);
		CHECK(err && strstr(err->msg, "run is not a valid change command"));
	}
}

static void test_save_load_roundtrip(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_free_ char *id = NULL, *id2 = NULL, *sid = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *items = NULL;
	_cleanup_strv_free_ char **loaded = NULL;
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	int fd = memfd_create("save", MFD_CLOEXEC);
	char *refs[] = {"rt:1", NULL};

	CHECK(import_dir_tar(s, "rt:1", NULL, &id) == 0);
	CHECK(image_save(s, refs, fd, &err) == 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	CHECK(image_remove(s, "rt:1", false, false, NULL, NULL, &items, &err) == 0);
	CHECK(image_lookup(s, id, &i, &err) == -ENOENT);
	error_free(err);
	err = NULL;
	lseek(fd, 0, SEEK_SET);
	CHECK(image_load(s, fd, NULL, NULL, &loaded, &err) == 0);
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	CHECK(loaded && loaded[0] && streq(loaded[0], "Loaded image: rt:1"));
	CHECK(image_lookup(s, "rt:1", &i, &err) == 0);
	if (i)
		CHECK_STREQ(i->id, id);
	close(fd);

	/* a foreign image (test/two:1) saves with re-made layers; loading that again and
	 * saving once more is stable */
	{
		int f1 = memfd_create("s1", MFD_CLOEXEC), f2 = memfd_create("s2", MFD_CLOEXEC);
		char *r2[] = {"test/two:1", NULL};
		_cleanup_(image_info_freep) struct image_info *a = NULL, *b = NULL;
		_cleanup_strv_free_ char **l1 = NULL, **l2 = NULL;
		_cleanup_json_ json_object *it = NULL;
		CHECK(image_save(s, r2, f1, &err) == 0);
		lseek(f1, 0, SEEK_SET);
		CHECK(image_remove(s, "test/two:1", false, false, NULL, NULL, &it, &err) == 0);
		CHECK(image_load(s, f1, NULL, NULL, &l1, &err) == 0);
		if (err)
			fprintf(stderr, "  %s\n", err->msg);
		CHECK(image_lookup(s, "test/two:1", &a, &err) == 0);
		CHECK(image_save(s, r2, f2, &err) == 0);
		lseek(f2, 0, SEEK_SET);
		CHECK(image_load(s, f2, NULL, NULL, &l2, &err) == 0);
		CHECK(image_lookup(s, "test/two:1", &b, &err) == 0);
		if (a && b) {
			CHECK_STREQ(a->id, b->id);
			CHECK(is_whiteout(a->layers[1], "rm/me"));
		}
		close(f1);
		close(f2);
	}
	(void)id2;
	(void)sid;
}

static int in_use_cb(const char *image_id, void *ud, char **ret_container, bool *ret_running)
{
	const char *busy = ud;
	if (busy && streq(image_id, busy)) {
		*ret_container = xstrdup("c0ffee0123456789c0ffee0123456789");
		*ret_running = false;
		return 1;
	}
	return 0;
}

static void test_tag_remove_prune(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_free_ char *id = NULL, *msg = NULL, *short12 = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *items = NULL, *pr = NULL;
	_cleanup_(image_info_freep) struct image_info *i = NULL;

	CHECK(import_dir_tar(s, "rmtest:1", NULL, &id) == 0);
	short12 = xstrndup(id + 7, 12);
	CHECK(image_tag(s, "rmtest:1", "rmtest:2", &err) == 0);
	CHECK(image_tag(s, "rmtest:1", "other/repo", &err) == 0);
	CHECK(image_tag(s, "nosuch", "x", &err) == -ENOENT);
	CHECK(err && streq(err->msg, "No such image: nosuch:latest"));
	error_free(err);
	err = NULL;

	/* by id with names in several repositories: must be forced */
	CHECK(image_remove(s, id, false, false, NULL, NULL, &items, &err) == -EBUSY);
	msg = xasprintf("conflict: unable to delete %s (must be forced) - image is referenced in "
			"multiple repositories",
			short12);
	CHECK(err && streq(err->msg, msg));
	error_free(err);
	err = NULL;

	/* untag while other names remain */
	CHECK(image_remove(s, "other/repo", false, false, NULL, NULL, &items, &err) == 0);
	CHECK(items && json_object_array_length(items) == 1);
	CHECK(items && streq(json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN),
			     "[{\"Untagged\":\"other\\/repo:latest\"}]"));
	json_object_put(items);
	items = NULL;
	CHECK(image_remove(s, "rmtest:2", false, false, NULL, NULL, &items, &err) == 0);
	json_object_put(items);
	items = NULL;

	/* the last name of an image a container uses */
	CHECK(image_remove(s, "rmtest:1", false, false, in_use_cb, id, &items, &err) == -EBUSY);
	free(msg);
	msg = xasprintf("conflict: unable to remove repository reference \"rmtest:1\" (must force) "
			"- container c0ffee012345 is using its referenced image %s",
			short12);
	CHECK(err && streq(err->msg, msg));
	error_free(err);
	err = NULL;

	/* forced past a stopped container: untagged and deleted, but the container keeps the
	 * layers until it is released */
	CHECK(image_remove(s, "rmtest:1", true, false, in_use_cb, id, &items, &err) == 0);
	CHECK(items && json_object_array_length(items) >= 2);
	json_object_put(items);
	items = NULL;
	CHECK(image_lookup(s, short12, &i, &err) == -ENOENT);
	error_free(err);
	err = NULL;
	{
		_cleanup_free_ char *cmd = xasprintf("ls -d %s/store/layers/*/diff | wc -l", root);
		FILE *f;
		int before = -1, after = -1;
		f = popen(cmd, "r");
		CHECK(fscanf(f, "%d", &before) == 1);
		pclose(f);
		CHECK(image_layers_release(s, "c0ffee0123456789c0ffee0123456789", &err) == 0);
		f = popen(cmd, "r");
		CHECK(fscanf(f, "%d", &after) == 1);
		pclose(f);
		CHECK_INT(after, before - 1);
	}

	/* prune: dangling images only, skipping those in use */
	free(id);
	id = NULL;
	CHECK(import_dir_tar(s, NULL, NULL, &id) == 0);
	CHECK(image_prune(s, NULL, in_use_cb, id, &pr, &err) == 0);
	CHECK(image_lookup(s, id, &i, &err) == 0);
	json_object_put(pr);
	pr = NULL;
	image_info_free(i);
	i = NULL;
	CHECK(image_prune(s, NULL, in_use_cb, NULL, &pr, &err) == 0);
	{
		json_object *del, *sr;
		CHECK(json_object_object_get_ex(pr, "ImagesDeleted", &del) && del &&
		      json_object_array_length(del) >= 1);
		CHECK(json_object_object_get_ex(pr, "SpaceReclaimed", &sr) &&
		      json_object_get_int64(sr) > 0);
	}
	CHECK(image_lookup(s, id, &i, &err) == -ENOENT);
	error_free(err);
	err = NULL;
	/* tagged images survive a default prune */
	{
		_cleanup_(image_info_freep) struct image_info *t = NULL;
		CHECK(image_lookup(s, "imp:1", &t, &err) == 0);
	}
	CHECK(image_remove(s, "gone:1", false, false, NULL, NULL, &items, &err) == -ENOENT);
	CHECK(err && streq(err->msg, "No such image: gone:1"));
}

static void test_lookup_and_list(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_free_ char *id = NULL, *pfx = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	_cleanup_json_ json_object *l = NULL, *f = NULL, *ins = NULL, *hist = NULL, *df = NULL;

	CHECK(import_dir_tar(s, "look/up:v1", NULL, &id) == 0);
	pfx = xstrndup(id + 7, 10);
	CHECK(image_lookup(s, pfx, &i, &err) == 0);
	image_info_free(i);
	i = NULL;
	CHECK(image_lookup(s, id, &i, &err) == 0);
	image_info_free(i);
	i = NULL;
	CHECK(image_lookup(s, id + 7, &i, &err) == 0);
	image_info_free(i);
	i = NULL;
	CHECK(image_lookup(s, "docker.io/look/up:v1", &i, &err) == 0);
	image_info_free(i);
	i = NULL;
	CHECK(image_lookup(s, "look/up", &i, &err) == -ENOENT);
	error_free(err);
	err = NULL;
	CHECK(image_lookup(s, "Bad/Name", &i, &err) == -EINVAL);
	error_free(err);
	err = NULL;

	f = json_tokener_parse("{\"reference\":{\"look/*\":true}}");
	CHECK(image_list_json(s, f, false, &l, &err) == 0);
	CHECK(l && json_object_array_length(l) == 1);
	json_object_put(l);
	json_object_put(f);
	f = json_tokener_parse("{\"reference\":[\"nomatch*\"]}");
	CHECK(image_list_json(s, f, false, &l, &err) == 0);
	CHECK(l && json_object_array_length(l) == 0);
	json_object_put(l);
	json_object_put(f);
	f = json_tokener_parse("{\"dangling\":[\"true\"]}");
	CHECK(image_list_json(s, f, false, &l, &err) == 0);
	for (size_t k = 0; l && k < json_object_array_length(l); k++) {
		json_object *t;
		json_object_object_get_ex(json_object_array_get_idx(l, k), "RepoTags", &t);
		CHECK(json_object_array_length(t) == 0);
	}
	json_object_put(l);
	json_object_put(f);
	f = json_tokener_parse("{\"label\":[\"a=1\"]}");
	CHECK(image_list_json(s, f, false, &l, &err) == 0);
	for (size_t k = 0; l && k < json_object_array_length(l); k++) {
		json_object *id2;
		json_object_object_get_ex(json_object_array_get_idx(l, k), "Id", &id2);
		CHECK(!streq(json_object_get_string(id2), id));
	}
	json_object_put(l);
	json_object_put(f);
	f = json_tokener_parse("{\"bogus\":[\"x\"]}");
	CHECK(image_list_json(s, f, false, &l, &err) == -EINVAL);
	l = NULL;

	CHECK(image_inspect_json(s, "look/up:v1", false, &ins, &err) == 0);
	{
		json_object *v;
		CHECK(json_object_object_get_ex(ins, "Id", &v) &&
		      streq(json_object_get_string(v), id));
		CHECK(json_object_object_get_ex(ins, "RootFS", &v));
		CHECK(json_object_object_get_ex(ins, "Config", &v) &&
		      json_object_is_type(v, json_type_object));
		/* API 1.45 and later: no ContainerConfig, as dockerd */
		CHECK(!json_object_object_get_ex(ins, "ContainerConfig", &v));
	}
	json_object_put(ins);
	/* below 1.45 the zero config (an imported image has none): compose 1.x reads it */
	CHECK(image_inspect_json(s, "look/up:v1", true, &ins, &err) == 0);
	{
		json_object *v, *vol;
		CHECK(json_object_object_get_ex(ins, "ContainerConfig", &v) &&
		      json_object_is_type(v, json_type_object));
		CHECK(json_object_object_get_ex(v, "Volumes", &vol) && vol == NULL);
		CHECK(json_object_object_get_ex(ins, "Container", &v) &&
		      streq(json_object_get_string(v), ""));
	}
	json_object_put(ins);
	ins = NULL;
	CHECK(image_history_json(s, "look/up:v1", &hist, &err) == 0);
	CHECK(hist && json_object_array_length(hist) == 1);
	{
		json_object *row = json_object_array_get_idx(hist, 0), *v;
		CHECK(json_object_object_get_ex(row, "Id", &v) &&
		      streq(json_object_get_string(v), id));
		CHECK(json_object_object_get_ex(row, "Comment", &v) &&
		      streq(json_object_get_string(v), "imported"));
	}
	CHECK(image_disk_usage_json(s, &df, &err) == 0);
	{
		json_object *v;
		CHECK(json_object_object_get_ex(df, "LayersSize", &v) &&
		      json_object_get_int64(v) > 0);
	}
}

static void test_history_rows(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *h = NULL;
	_cleanup_strv_free_ char **loaded = NULL;
	_cleanup_close_ int fd = docker_archive("hist:1", false, NULL);

	CHECK(image_load(s, fd, NULL, NULL, &loaded, &err) == 0);
	CHECK(image_history_json(s, "hist:1", &h, &err) == 0);
	CHECK(h && json_object_array_length(h) == 3);
	if (h && json_object_array_length(h) == 3) {
		json_object *v;
		CHECK(json_object_object_get_ex(json_object_array_get_idx(h, 1), "Id", &v) &&
		      streq(json_object_get_string(v), "<missing>"));
		CHECK(json_object_object_get_ex(json_object_array_get_idx(h, 1), "Size", &v) &&
		      json_object_get_int64(v) == 0);
		CHECK(json_object_object_get_ex(json_object_array_get_idx(h, 0), "CreatedBy", &v) &&
		      streq(json_object_get_string(v), "ADD l2"));
	}
}

/* Unpack a layer tar into a temp dir of the store (image_layer_unpack). */
static char *unpack(struct image_store *s, const struct m *layer, char **ret_diff_id)
{
	_cleanup_close_ int fd = tar_of(layer, true);
	_cleanup_error_ struct error *err = NULL;
	char *tmp = NULL;

	CHECK(image_layer_unpack(s, fd, &tmp, NULL, ret_diff_id, &err) == 0);
	return tmp;
}

static bool layer_dir(const char *store, const char *chain)
{
	_cleanup_free_ char *p = xasprintf("%s/layers/%s/diff", store, chain + 7);
	return access(p, F_OK) == 0;
}

/* Layers committed one by one (a pull), leases, the image on top, prune and reopen. */
static void test_pulled_layers(void)
{
	_cleanup_free_ char *store = xasprintf("%s/pulled", root), *d1 = NULL, *d2 = NULL,
			    *c1 = NULL, *c2 = NULL, *tmp = NULL, *tmp_path = NULL, *cfg = NULL,
			    *cdig = NULL, *id = NULL, *dx = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *pr = NULL, *items = NULL;
	struct image_store *s = NULL;
	struct image_lease *l = NULL, *l2 = NULL;
	char *refs[] = {"docker.io/library/pulled:1", NULL};
	uint64_t size = 0;

	CHECK(image_store_open(store, &s, &err) == 0);
	image_lease_new(s, &l);

	/* what the unpack measured binds the commit: another diff id is refused, the dir goes */
	tmp = unpack(s, layer1, &d1);
	tmp_path = xasprintf("%s/layers/%s", store, tmp);
	CHECK(image_layer_commit(l, tmp, NULL,
				 "sha256:"
				 "1111111111111111111111111111111111111111111111111111111111111111",
				 NULL, &err) == -EINVAL);
	CHECK(err && strstr(err->msg, "don't match"));
	CHECK(access(tmp_path, F_OK) < 0);
	error_free(TAKE_PTR(err));
	free(TAKE_PTR(tmp));
	free(TAKE_PTR(tmp_path));

	/* a layer over a parent the store does not have is refused */
	tmp = unpack(s, layer2, &d2);
	c1 = image_chain_id(NULL, d1);
	CHECK(image_layer_commit(l, tmp, c1, d2, NULL, &err) == -ENOENT);
	error_free(TAKE_PTR(err));
	free(TAKE_PTR(tmp));

	/* bottom, then top: both committed before any image names them */
	tmp = unpack(s, layer1, &dx);
	free(TAKE_PTR(c1));
	CHECK(image_layer_commit(l, tmp, NULL, d1, &c1, &err) == 0);
	CHECK_STREQ(c1, d1);
	free(TAKE_PTR(tmp));
	free(TAKE_PTR(dx));
	tmp = unpack(s, layer2, &dx);
	CHECK(image_layer_commit(l, tmp, c1, d2, &c2, &err) == 0);
	free(TAKE_PTR(tmp));
	CHECK(c2 && layer_dir(store, c2));
	CHECK(image_layer_acquire(l, c1, &size) && size > 0);

	/* a committed layer outlives a restart; a temp dir does not */
	tmp = unpack(s, layer1, NULL);
	tmp_path = xasprintf("%s/layers/%s", store, tmp);
	image_lease_free(TAKE_PTR(l));
	image_store_close(TAKE_PTR(s));
	CHECK(image_store_open(store, &s, &err) == 0);
	CHECK(access(tmp_path, F_OK) < 0);
	image_lease_new(s, &l);
	CHECK(image_layer_acquire(l, c1, NULL));
	CHECK(image_layer_acquire(l, c2, NULL));

	/* a prune deletes no leased layer */
	CHECK(image_prune(s, NULL, NULL, NULL, &pr, &err) == 0);
	CHECK(layer_dir(store, c1) && layer_dir(store, c2));
	json_object_put(TAKE_PTR(pr));

	/* the image on top of them */
	cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
			"\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}",
			d1, d2);
	cdig = xasprintf("sha256:%s",
			 "0000000000000000000000000000000000000000000000000000000000000000");
	CHECK(image_commit_pulled(s, cfg, strlen(cfg), cdig, refs, NULL, &err) == -EINVAL);
	error_free(TAKE_PTR(err));
	free(cdig);
	{
		_cleanup_free_ char *h = sha(cfg, strlen(cfg));
		cdig = xstrdup(h);
	}
	CHECK(image_commit_pulled(s, cfg, strlen(cfg), cdig, refs, &id, &err) == 0);
	CHECK_STREQ(id, cdig);
	image_lease_free(TAKE_PTR(l));
	{
		_cleanup_(image_info_freep) struct image_info *i = NULL;
		CHECK(image_lookup(s, "pulled:1", &i, &err) == 0);
		CHECK(i && i->n_layers == 2);
	}
	/* rmi takes them with the image, unless a running pull holds one */
	image_lease_new(s, &l2);
	CHECK(image_layer_acquire(l2, c1, NULL));
	CHECK(image_remove(s, "pulled:1", false, false, NULL, NULL, &items, &err) == 0);
	CHECK(layer_dir(store, c1) && !layer_dir(store, c2));
	image_lease_free(TAKE_PTR(l2));
	/* then a prune finds it in no image */
	CHECK(image_prune(s, NULL, NULL, NULL, &pr, &err) == 0);
	CHECK(!layer_dir(store, c1));
	{
		json_object *del = NULL, *sr = NULL;
		CHECK(json_object_object_get_ex(pr, "ImagesDeleted", &del) && del &&
		      json_object_array_length(del) == 1);
		CHECK(json_object_object_get_ex(pr, "SpaceReclaimed", &sr) &&
		      json_object_get_int64(sr) > 0);
	}
	/* an image whose layers are not in the store is refused */
	CHECK(image_commit_pulled(s, cfg, strlen(cfg), cdig, refs, NULL, &err) == -ENOENT);
	CHECK(err && strstr(err->msg, "is not in the store"));
	image_store_close(s);
}

static void test_reopen_sweeps(void)
{
	_cleanup_free_ char *junk = xasprintf("%s/store/layers/tmp-junk", root),
			    *ing = xasprintf("%s/store/content/ingest/tmp-x", root);
	struct image_store *s;
	int n;

	mkdir(junk, 0700);
	write_file_atomic(ing, "x", 1, 0600);
	s = open_store();
	n = image_count(s);
	CHECK(n > 0);
	CHECK(access(junk, F_OK) < 0);
	CHECK(access(ing, F_OK) < 0);
	image_store_close(s);
}

static void test_many_layers_lowerdir(void)
{
	struct image_info i = {0};
	char *paths[130];
	_cleanup_free_ char *lower = NULL, *lr = xasprintf("%s/store/layers", root);

	/* 60 layers: the plain paths pass the limit, the short links fit */
	for (int k = 0; k < 60; k++)
		paths[k] = xasprintf("%s/%012d%052d/diff", lr, k, 0);
	paths[60] = NULL;
	i.layers = paths;
	i.n_layers = 60;
	i.layers_root = lr;
	lower = image_lowerdir(&i);
	if (!lower)
		fprintf(stderr, "  image_lowerdir: %m\n");
	CHECK(lower && strlen(lower) < 4000);
	CHECK(lower && strstr(lower, "/l/"));
	for (int k = 0; k < 60; k++)
		free(paths[k]);
	i.n_layers = 0;
	free(lower);
	lower = image_lowerdir(&i);
	CHECK(lower && endswith(lower, "/empty"));
}

/* A layer tar in one of libarchive's formats: long names, a hard link, a symlink, a whiteout,
 * padding; gzip when asked. */
static int foreign_tar(int format, bool gzip, bool dup)
{
	int fd = memfd_create("f", MFD_CLOEXEC);
	struct archive *a = archive_write_new();
	_cleanup_free_ char *big = xmalloc(5000), *deep = NULL, *longname = NULL;
	struct {
		const char *name, *data, *link;
		bool dir, sym;
	} es[] = {
	    {"a/", NULL, NULL, true, false},	 {"a/f", "hello\n", NULL, false, false},
	    {"a/empty", "", NULL, false, false}, {"a/hard", NULL, "a/f", false, false},
	    {"a/sym", NULL, "f", false, true},	 {"a/.wh.gone", "", NULL, false, false},
	};

	memset(big, 'x', 4999);
	big[4999] = 0;
	/* 130 bytes in dirs + a name: ustar puts it in the prefix, others use long names */
	deep =
	    xasprintf("%s/%s/file", "d123456789012345678901234567890123456789012345678901234567890",
		      "e12345678901234567890123456789012345678901234567890123456789");
	longname = xasprintf("a/%0150d", 7);
	archive_write_set_format(a, format);
	if (gzip)
		archive_write_add_filter_gzip(a);
	archive_write_open_fd(a, fd);
	for (size_t i = 0; i < ELEMENTSOF(es); i++) {
		struct archive_entry *x = archive_entry_new();
		archive_entry_copy_pathname(x, es[i].name);
		archive_entry_set_mtime(x, 1700000000, 0);
		archive_entry_set_uid(x, 1000);
		archive_entry_set_gid(x, 1000);
		archive_entry_copy_uname(x, "someone");
		if (es[i].dir) {
			archive_entry_set_filetype(x, AE_IFDIR);
			archive_entry_set_perm(x, 0755);
		} else if (es[i].sym) {
			archive_entry_set_filetype(x, AE_IFLNK);
			archive_entry_set_perm(x, 0777);
			archive_entry_copy_symlink(x, es[i].link);
		} else {
			archive_entry_set_filetype(x, AE_IFREG);
			archive_entry_set_perm(x, 0644);
			if (es[i].link)
				archive_entry_copy_hardlink(x, es[i].link);
			else
				archive_entry_set_size(x, (la_int64_t)strlen(es[i].data));
		}
		archive_write_header(a, x);
		if (es[i].data && *es[i].data)
			archive_write_data(a, es[i].data, strlen(es[i].data));
		archive_entry_free(x);
	}
	{
		const char *names[] = {"a/big", deep,
				       format == ARCHIVE_FORMAT_TAR_USTAR ? NULL : longname};
		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			struct archive_entry *x = archive_entry_new();
			if (!names[i]) {
				archive_entry_free(x);
				continue;
			}
			archive_entry_copy_pathname(x, names[i]);
			archive_entry_set_filetype(x, AE_IFREG);
			archive_entry_set_perm(x, 0600);
			archive_entry_set_mtime(x, 1700000001, 0);
			archive_entry_set_size(x, (la_int64_t)strlen(big) - i);
			archive_write_header(a, x);
			archive_write_data(a, big, strlen(big) - i);
			archive_entry_free(x);
		}
	}
	if (dup) {
		/* the same name twice: the diff dir has the second, the tar both */
		for (int k = 0; k < 2; k++) {
			struct archive_entry *x = archive_entry_new();
			archive_entry_copy_pathname(x, "a/dup");
			archive_entry_set_filetype(x, AE_IFREG);
			archive_entry_set_perm(x, 0644);
			archive_entry_set_size(x, 3);
			archive_write_header(a, x);
			archive_write_data(a, k ? "two" : "one", 3);
			archive_entry_free(x);
		}
	}
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* A docker-archive of one layer, given as it goes into the archive. */
static int docker_archive_of(int layer_fd, const char *tag, char **ret_id, char **ret_diff_id)
{
	size_t n = 0;
	_cleanup_free_ char *b = slurp(layer_fd, &n), *cfg = NULL, *man = NULL, *cname = NULL,
			    *id = NULL, *plain = NULL;
	struct blob bl[3];

	{
		/* the diff id is of the uncompressed tar */
		struct archive *a = archive_read_new();
		struct archive_entry *e;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char d[32], buf[4096];
		unsigned l;
		la_ssize_t k;
		archive_read_support_filter_all(a);
		archive_read_support_format_raw(a);
		archive_read_open_memory(a, b, n);
		archive_read_next_header(a, &e);
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		while ((k = archive_read_data(a, buf, sizeof(buf))) > 0)
			EVP_DigestUpdate(md, buf, (size_t)k);
		EVP_DigestFinal_ex(md, d, &l);
		EVP_MD_CTX_free(md);
		archive_read_free(a);
		plain = xmalloc(72);
		strcpy(plain, "sha256:");
		for (int i = 0; i < 32; i++)
			sprintf(plain + 7 + 2 * i, "%02x", d[i]);
	}
	cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":"
			"{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
			plain);
	id = sha(cfg, strlen(cfg));
	cname = xasprintf("%s.json", id + 7);
	man = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],\"Layers\":[\"l/layer.tar\"]}]",
			cname, tag);
	bl[0] = (struct blob){"manifest.json", man, strlen(man)};
	bl[1] = (struct blob){cname, cfg, strlen(cfg)};
	bl[2] = (struct blob){"l/layer.tar", b, n};
	if (ret_id)
		*ret_id = TAKE_PTR(id);
	if (ret_diff_id)
		*ret_diff_id = TAKE_PTR(plain);
	return archive_of(bl, 3);
}

static void test_layer_tar_as_loaded(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	const struct {
		int format;
		bool gzip, dup;
	} cases[] = {
	    {ARCHIVE_FORMAT_TAR_GNUTAR, false, false},
	    {ARCHIVE_FORMAT_TAR_USTAR, false, false},
	    {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, false, false},
	    {ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, true, false},
	    {ARCHIVE_FORMAT_TAR_GNUTAR, true, true},
	};

	for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
		_cleanup_close_ int layer =
		    foreign_tar(cases[c].format, cases[c].gzip, cases[c].dup);
		_cleanup_free_ char *id = NULL, *diff_id = NULL, *tag = xasprintf("foreign:%zu", c),
				    *got = NULL, *split = NULL;
		_cleanup_close_ int arch = docker_archive_of(layer, tag, &id, &diff_id);
		_cleanup_close_ int out = memfd_create("out", MFD_CLOEXEC);
		_cleanup_(image_info_freep) struct image_info *i = NULL;
		_cleanup_strv_free_ char **loaded = NULL;
		_cleanup_error_ struct error *err = NULL;
		char *refs[] = {tag, NULL};

		CHECK(image_load(s, arch, NULL, NULL, &loaded, &err) == 0);
		if (err)
			fprintf(stderr, "  case %zu: %s\n", c, err->msg);
		CHECK(image_lookup(s, tag, &i, &err) == 0);
		if (!i)
			continue;
		CHECK_STREQ(i->id, id);
		split = xasprintf("%s/../tar-split", i->layers[0]);
		CHECK(access(split, F_OK) == 0);
		/* twice: the file is rewound and truncated as needed */
		for (int k = 0; k < 2; k++) {
			free(got);
			got = NULL;
			CHECK(image_layer_tar(i, 0, out, &got, &err) == 0);
		}
		if (cases[c].dup) {
			/* the first a/dup is not in the diff dir: a tar made anew */
			CHECK(got && !streq(got, diff_id));
		} else if (c == 0) {
			/* a damaged layout (cut short, or bytes changed) is only a missed chance */
			_cleanup_free_ char *buf = NULL, *canon = NULL;
			size_t len = 0;
			CHECK(read_file_at(AT_FDCWD, split, 1 << 20, &buf, &len) >= 0);
			for (int k = 0; k < 3; k++) {
				_cleanup_close_ int w =
				    open(split, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
				if (k == 0)
					CHECK(write(w, buf, len / 2) == (ssize_t)(len / 2));
				else if (k == 1) {
					buf[len / 2] ^= 0x55;
					CHECK(write(w, buf, len) == (ssize_t)len);
				} else {
					CHECK(write(w, "junk", 4) == 4);
				}
				free(canon);
				canon = NULL;
				CHECK(image_layer_tar(i, 0, out, &canon, &err) == 0);
				CHECK(canon && !streq(canon, diff_id));
			}
		} else {
			CHECK_STREQ(got, diff_id);
			/* save keeps the config, hence the id */
			int f = memfd_create("save", MFD_CLOEXEC);
			_cleanup_json_ json_object *items = NULL;
			_cleanup_strv_free_ char **l2 = NULL;
			_cleanup_(image_info_freep) struct image_info *j = NULL;
			CHECK(image_save(s, refs, f, &err) == 0);
			CHECK(image_remove(s, tag, false, false, NULL, NULL, &items, &err) == 0);
			lseek(f, 0, SEEK_SET);
			CHECK(image_load(s, f, NULL, NULL, &l2, &err) == 0);
			CHECK(image_lookup(s, tag, &j, &err) == 0);
			if (j)
				CHECK_STREQ(j->id, id);
			close(f);
		}
		if (err)
			fprintf(stderr, "  case %zu: %s\n", c, err->msg);
	}
	/* a file the tar replaces by a fifo: its content is not in the layer, and the fifo is
	 * never opened for reading (that would block); bounded by an alarm */
	{
		int fd = memfd_create("fifo", MFD_CLOEXEC);
		struct archive *a = archive_write_new();
		_cleanup_free_ char *id = NULL, *diff_id = NULL, *got = NULL;
		_cleanup_close_ int arch = -EBADF, out = memfd_create("out", MFD_CLOEXEC);
		_cleanup_(image_info_freep) struct image_info *i = NULL;
		_cleanup_strv_free_ char **loaded = NULL;
		_cleanup_error_ struct error *err = NULL;

		archive_write_set_format_pax_restricted(a);
		archive_write_open_fd(a, fd);
		for (int k = 0; k < 2; k++) {
			struct archive_entry *x = archive_entry_new();
			archive_entry_copy_pathname(x, "p");
			archive_entry_set_filetype(x, k ? AE_IFIFO : AE_IFREG);
			archive_entry_set_perm(x, 0644);
			archive_entry_set_size(x, k ? 0 : 3);
			archive_write_header(a, x);
			if (!k)
				archive_write_data(a, "abc", 3);
			archive_entry_free(x);
		}
		archive_write_close(a);
		archive_write_free(a);
		lseek(fd, 0, SEEK_SET);
		arch = docker_archive_of(fd, "fifo:1", &id, &diff_id);
		close(fd);
		CHECK(image_load(s, arch, NULL, NULL, &loaded, &err) == 0);
		CHECK(image_lookup(s, "fifo:1", &i, &err) == 0);
		if (i) {
			_cleanup_free_ char *p = xasprintf("%s/p", i->layers[0]);
			struct stat st;
			CHECK(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode));
			alarm(30);
			CHECK(image_layer_tar(i, 0, out, &got, &err) == 0);
			alarm(0);
			CHECK(got && !streq(got, diff_id));
		}
	}
	/* GNU tar's own output, sparse files (an old GNU sparse map with extension blocks, and
	 * pax's GNU.sparse 1.0) among them */
	for (int f = 0; f < 2; f++) {
		const char *format = f ? "posix" : "gnu";
		_cleanup_free_ char *dir = xasprintf("%s/sparse-%s", root, format),
				    *tarp = xasprintf("%s/sparse-%s.tar", root, format),
				    *cmd = NULL, *file = NULL,
				    *tag = xasprintf("sparse:%s", format), *id = NULL,
				    *diff_id = NULL, *got = NULL;
		_cleanup_close_ int layer = -EBADF, arch = -EBADF, fd = -EBADF, out = -EBADF;
		_cleanup_(image_info_freep) struct image_info *i = NULL;
		_cleanup_strv_free_ char **loaded = NULL;
		_cleanup_error_ struct error *err = NULL;

		CHECK(mkdir(dir, 0755) == 0);
		file = xasprintf("%s/holes", dir);
		fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		for (int k = 0; k < 8; k++)
			CHECK(pwrite(fd, "data", 4, (off_t)k * 65536) == 4);
		CHECK(ftruncate(fd, 9 * 65536) == 0);
		closep(&fd);
		cmd = xasprintf("tar -C %s --format=%s --sparse --owner=u:5 --group=g:6 -cf %s .",
				dir, format, tarp);
		CHECK(system(cmd) == 0);
		layer = open(tarp, O_RDONLY | O_CLOEXEC);
		arch = docker_archive_of(layer, tag, &id, &diff_id);
		CHECK(image_load(s, arch, NULL, NULL, &loaded, &err) == 0);
		if (err)
			fprintf(stderr, "  sparse %s: %s\n", format, err->msg);
		CHECK(image_lookup(s, tag, &i, &err) == 0);
		if (!i)
			continue;
		out = memfd_create("out", MFD_CLOEXEC);
		CHECK(image_layer_tar(i, 0, out, &got, &err) == 0);
		CHECK_STREQ(got, diff_id);
		{
			_cleanup_free_ char *h = xasprintf("%s/holes", i->layers[0]);
			struct stat st;
			CHECK(stat(h, &st) == 0 && st.st_size == 9 * 65536);
		}
	}
	/* an imported layer has the diff id of the tar berth makes: no layout kept */
	{
		_cleanup_close_ int layer = foreign_tar(ARCHIVE_FORMAT_TAR_GNUTAR, false, false);
		_cleanup_free_ char *id = NULL, *split = NULL;
		_cleanup_(image_info_freep) struct image_info *i = NULL;
		_cleanup_error_ struct error *err = NULL;
		CHECK(image_import(s, layer, "imported:1", NULL, NULL, &id, &err) == 0);
		CHECK(image_lookup(s, "imported:1", &i, &err) == 0);
		if (i) {
			_cleanup_close_ int out = memfd_create("out", MFD_CLOEXEC);
			_cleanup_free_ char *got = NULL;
			split = xasprintf("%s/../tar-split", i->layers[0]);
			CHECK(access(split, F_OK) < 0);
			CHECK(image_layer_tar(i, 0, out, &got, &err) == 0);
			CHECK(got && streq(got, json_object_get_string(json_object_array_get_idx(
						    json_object_object_get(
							json_object_object_get(i->config, "rootfs"),
							"diff_ids"),
						    0))));
		}
	}
}

static void test_repository_tags_and_blobs(void)
{
	_cleanup_(image_store_closep) struct image_store *s = open_store();
	_cleanup_free_ char *id = NULL, *diff = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_strv_free_ char **tags = NULL, **none = NULL;
	_cleanup_json_ json_object *items = NULL;
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	const char *names[] = {"h:5000/team/app:2",   "h:5000/team/app:1",
			       "h:5000/team/app-x:1", "h:5000/team/app/sub:1",
			       "h:5000/team/ap:1",    "h:5000/team/app:latest"};
	struct image_blob *b = NULL;
	size_t n = 0;

	CHECK(import_dir_tar(s, NULL, NULL, &id) == 0);
	for (size_t k = 0; k < ELEMENTSOF(names); k++)
		CHECK(image_tag(s, id, names[k], &err) == 0);
	CHECK(image_add_ref(s, id, "h:5000/team/app@sha256:" DIGEST_A, &err) == 0);
	CHECK(image_repository_tags(s, "h:5000/team/app:ignored", &tags, &err) == 0);
	CHECK(tags && strv_length(tags) == 3);
	if (tags && strv_length(tags) == 3) {
		CHECK_STREQ(tags[0], "h:5000/team/app:1");
		CHECK_STREQ(tags[1], "h:5000/team/app:2");
		CHECK_STREQ(tags[2], "h:5000/team/app:latest");
	}
	CHECK(image_repository_tags(s, "h:5000/nothing", &none, &err) == 0);
	CHECK(none && !none[0]);

	/* blobs registries hold for the layer: most recent first, gone with the layer */
	CHECK(image_lookup(s, id, &i, &err) == 0);
	if (!i)
		return;
	diff = xstrdup(json_object_get_string(json_object_array_get_idx(
	    json_object_object_get(json_object_object_get(i->config, "rootfs"), "diff_ids"), 0)));
	CHECK(image_blob_record(s, diff, "sha256:" DIGEST_A, "application/x", 10, "h:5000/a") == 0);
	usleep(2000);
	CHECK(image_blob_record(s, diff, "sha256:" DIGEST_B, "application/y", 20, "h:5000/b") == 0);
	CHECK(image_blob_record(s, diff, "sha256:../x", "application/y", 20, "h:5000/b") ==
	      -EINVAL);
	CHECK(image_blobs_of(s, diff, &b, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STREQ(b[0].digest, "sha256:" DIGEST_B);
		CHECK_STREQ(b[0].repository, "h:5000/b");
		CHECK_INT(b[0].size, 20);
		CHECK_STREQ(b[1].media_type, "application/x");
	}
	image_blobs_free(b, n);
	CHECK(image_remove(s, id, true, false, NULL, NULL, &items, &err) == 0);
	CHECK(image_blobs_of(s, diff, &b, &n) == 0);
	CHECK_INT(n, 0);
	image_blobs_free(b, n);
}

static void test_busybox(void)
{
	_cleanup_(image_store_closep) struct image_store *s = NULL;
	_cleanup_free_ char *id = NULL, *cmd = NULL, *tarp = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_strv_free_ char **loaded = NULL;
	_cleanup_(image_info_freep) struct image_info *i = NULL;
	_cleanup_json_ json_object *items = NULL;
	const char *rootfs = ".cache/busybox/rootfs";
	char *refs[] = {"busybox:test", NULL};
	int fd, out;

	if (access(rootfs, F_OK) < 0) {
		printf("# busybox rootfs not built; skipped\n");
		return;
	}
	s = open_store();
	tarp = xasprintf("%s/busybox.tar", root);
	cmd = xasprintf("tar -C %s --numeric-owner -cf %s .", rootfs, tarp);
	CHECK(system(cmd) == 0);
	fd = open(tarp, O_RDONLY | O_CLOEXEC);
	CHECK(image_import(s, fd, "busybox:test", NULL, NULL, &id, &err) == 0);
	close(fd);
	out = memfd_create("bb", MFD_CLOEXEC);
	CHECK(image_save(s, refs, out, &err) == 0);
	CHECK(image_remove(s, "busybox:test", false, false, NULL, NULL, &items, &err) == 0);
	lseek(out, 0, SEEK_SET);
	CHECK(image_load(s, out, NULL, NULL, &loaded, &err) == 0);
	CHECK(image_lookup(s, "busybox:test", &i, &err) == 0);
	if (i) {
		_cleanup_free_ char *sh = xasprintf("%s/bin/sh", i->layers[0]);
		struct stat st;
		CHECK_STREQ(i->id, id);
		CHECK(lstat(sh, &st) == 0 && S_ISLNK(st.st_mode));
	}
	if (err)
		fprintf(stderr, "  %s\n", err->msg);
	close(out);
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	RUN(test_ref_normalize);
	if (geteuid() != 0) {
		printf("# not root: store tests skipped (whiteouts need CAP_MKNOD)\n");
		rm_rf(root);
		return TEST_SUMMARY();
	}
	RUN(test_load_docker_archive);
	RUN(test_load_tampered);
	RUN(test_load_oci_layout);
	RUN(test_import_changes);
	RUN(test_save_load_roundtrip);
	RUN(test_tag_remove_prune);
	RUN(test_lookup_and_list);
	RUN(test_history_rows);
	RUN(test_reopen_sweeps);
	RUN(test_pulled_layers);
	RUN(test_many_layers_lowerdir);
	RUN(test_layer_tar_as_loaded);
	RUN(test_repository_tags_and_blobs);
	RUN(test_busybox);
	rm_rf(root);
	return TEST_SUMMARY();
}
