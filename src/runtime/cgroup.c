/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup: layout detection, path resolution, creation and removal, resources,
 * freezing and signalling. See cgroup.h for the contract and the fake-tree rules;
 * statistics live in cgroup-stats.c, the v2 device filter in cgroup-devices-bpf.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "cgroup-internal.h"

#define FREEZE_TIMEOUT_USEC (2 * 1000000ULL)
#define DESTROY_TIMEOUT_USEC (200 * 1000ULL)

/* v2 controllers berth enables in the ancestors of a container's cgroup. */
static const char *const v2_wanted[] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};

/* v1 mount options that name a controller (the rest are flags). */
static const char *const v1_known[] = {
    "cpu",     "cpuacct", "cpuset",   "memory",	    "devices", "freezer", "blkio", "pids",
    "hugetlb", "net_cls", "net_prio", "perf_event", "rdma",    "misc",	  "debug",
};

static cgroup_write_trace_fn trace_fn;
static void *trace_userdata;

void cgroup_set_write_trace(cgroup_write_trace_fn fn, void *userdata)
{
	trace_fn = fn;
	trace_userdata = userdata;
}

/* ---- small helpers -------------------------------------------------------------- */

char *cg_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (*b == '/')
		b++;
	while (la > 1 && a[la - 1] == '/')
		la--;
	if (!*b)
		return xstrndup(a, la);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

static void strip_trailing(char *s)
{
	size_t l = strlen(s);
	while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' ' || s[l - 1] == '\t'))
		s[--l] = 0;
}

int cg_read(const char *dir, const char *file, char **ret)
{
	_cleanup_free_ char *p = cg_join(dir, file);
	int r = read_file_at(AT_FDCWD, p, 4 << 20, ret, NULL);
	if (r < 0)
		return r;
	strip_trailing(*ret);
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, file, &s);
	if (r < 0)
		return r;
	if (streq(s, "max")) {
		*ret = UINT64_MAX;
		return 0;
	}
	return safe_atou64(s, ret);
}

bool cg_exists(const char *dir, const char *file)
{
	_cleanup_free_ char *p = cg_join(dir, file);
	return access(p, F_OK) == 0;
}

bool cg_has_token(const char *s, const char *tok)
{
	size_t l = strlen(tok);
	const char *p = s;

	while (p && *p) {
		p += strspn(p, " \t\n+");
		if (strncmp(p, tok, l) == 0 && (p[l] == 0 || strchr(" \t\n", p[l])))
			return true;
		p += strcspn(p, " \t\n");
	}
	return false;
}

/* Write value to dir/file: one write(2), as cgroupfs parses each write on its own. */
int cg_write(const struct cgroup *cg, const char *dir, const char *file, const char *value,
	     struct error **err)
{
	_cleanup_free_ char *p = cg_join(dir, file);
	_cleanup_close_ int fd = -EBADF;
	size_t len = strlen(value);
	ssize_t k;

	fd = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY | (cg->fake ? O_TRUNC : 0));
	if (fd < 0)
		return error_set(err, -errno, "write '%s' in '%s'", file, dir);
	do
		k = write(fd, value, len);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return error_set(err, -errno, "write '%s' in '%s'", file, dir);
	if ((size_t)k != len)
		return error_setx(err, -EIO, "write '%s' in '%s': short write", file, dir);
	if (trace_fn) {
		const char *rel = startswith(p, cg->root);
		trace_fn(rel ? rel + strspn(rel, "/") : p, value, trace_userdata);
	}
	return 0;
}

int cg_writef(const struct cgroup *cg, const char *dir, const char *file, struct error **err,
	      const char *fmt, ...)
{
	_cleanup_free_ char *v = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	return cg_write(cg, dir, file, v, err);
}

static int sleep_usec(uint64_t usec)
{
	struct timespec ts = {.tv_sec = (time_t)(usec / 1000000),
			      .tv_nsec = (long)(usec % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

/*
 * In a fake tree, stand in for the kernel: a new directory gets its parent's files,
 * with the contents a new cgroup starts with (the parent's limits; empty v1 cpuset
 * and process lists, no enabled subtree controllers).
 */
static int fake_populate(const char *parent, const char *child)
{
	static const char *const empty[] = {"cgroup.procs", "tasks", "cgroup.subtree_control",
					    "cpuset.cpus", "cpuset.mems"};
	_cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int cfd = -EBADF;
	DIR *d;
	struct dirent *de;

	if (pfd < 0)
		return -errno;
	cfd = open(child, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return -errno;
	d = fdopendir(TAKE_FD(pfd));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *data = NULL;
		struct stat st;
		bool keep_empty = false;
		int fd;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		for (size_t i = 0; i < ELEMENTSOF(empty); i++)
			keep_empty = keep_empty || streq(de->d_name, empty[i]);
		if (!keep_empty)
			(void)read_file_at(dirfd(d), de->d_name, 1 << 20, &data, NULL);
		fd = openat(cfd, de->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			continue;
		if (data)
			(void)loop_write(fd, data, strlen(data));
		close(fd);
	}
	closedir(d);
	return 0;
}

/* rmdir a cgroup directory; in a fake tree its plain files go first. */
static int cg_rmdir(const struct cgroup *cg, const char *dir)
{
	if (cg->fake) {
		_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d;
		struct dirent *de;

		if (fd < 0)
			return -errno;
		d = fdopendir(TAKE_FD(fd));
		if (!d)
			return -errno;
		while ((de = readdir(d))) {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    !S_ISDIR(st.st_mode))
				unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	}
	return rmdir(dir) < 0 ? -errno : 0;
}

/* Remove dir and what is below it, children first; retries EBUSY until deadline. */
static int remove_tree(const struct cgroup *cg, const char *dir, uint64_t deadline)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t backoff = 1000;
	int r = 0;
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(TAKE_FD(fd));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		_cleanup_free_ char *sub = NULL;
		int k;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR &&
		    (de->d_type != DT_UNKNOWN ||
		     fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		     !S_ISDIR(st.st_mode)))
			continue;
		sub = cg_join(dir, de->d_name);
		k = remove_tree(cg, sub, deadline);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);

	for (;;) {
		int k = cg_rmdir(cg, dir);
		if (k == 0 || k == -ENOENT)
			return r;
		if (k != -EBUSY || now_usec(CLOCK_MONOTONIC) >= deadline)
			return r < 0 ? r : k;
		sleep_usec(backoff);
		if (backoff < 32000)
			backoff *= 2;
	}
}

/* ---- layout ----------------------------------------------------------------------- */

static void hier_free_all(struct cgroup_hierarchy *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].dir);
		strv_free(h[i].controllers);
	}
	free(h);
}

static bool hier_same(const struct cgroup_hierarchy *h, size_t n, char *const *controllers)
{
	for (size_t i = 0; i < n; i++) {
		size_t a = strv_length(h[i].controllers), b = strv_length(controllers);
		bool same = a == b;
		for (size_t j = 0; same && j < b; j++)
			same = strv_contains(h[i].controllers, controllers[j]);
		if (same)
			return true;
	}
	return false;
}

static void hier_add(struct cgroup_hierarchy **h, size_t *n, const char *dir, char **controllers)
{
	if (!controllers || hier_same(*h, *n, controllers)) {
		strv_free(controllers);
		return;
	}
	*h = xrealloc(*h, sizeof(**h) * (*n + 1));
	(*h)[*n].dir = xstrdup(dir);
	(*h)[*n].controllers = controllers;
	(*n)++;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*w++ = *p;
		}
	}
	*w = 0;
}

static char **v1_controllers_from_options(const char *opts)
{
	_cleanup_free_ char *copy = xstrdup(opts);
	char **l = NULL, *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const char *name = startswith(t, "name=");
		if (name) {
			l = strv_append(l, name);
			continue;
		}
		for (size_t i = 0; i < ELEMENTSOF(v1_known); i++)
			if (streq(t, v1_known[i]))
				l = strv_append(l, t);
	}
	return l;
}

/*
 * Scan mountinfo for cgroup mounts directly below root. Returns 1 when any was found
 * (a real layout), 0 when none.
 */
static int scan_mountinfo(const char *root, bool *ret_v2_root, bool *ret_v2_unified,
			  struct cgroup_hierarchy **ret_h, size_t *ret_n)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ char *unified = cg_join(root, "unified");
	struct cgroup_hierarchy *h = NULL;
	size_t n = 0, cap = 0;
	bool any = false;

	*ret_v2_root = *ret_v2_unified = false;
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *fields[6], *save = NULL, *sep, *fstype, *superopts, *slash;
		size_t k = 0;

		strip_trailing(line);
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = 0;
		for (char *t = strtok_r(line, " ", &save); t && k < 6;
		     t = strtok_r(NULL, " ", &save))
			fields[k++] = t;
		if (k < 5)
			continue;
		save = NULL;
		fstype = strtok_r(sep + 3, " ", &save);
		if (!fstype || (!streq(fstype, "cgroup") && !streq(fstype, "cgroup2")))
			continue;
		(void)strtok_r(NULL, " ", &save); /* source */
		superopts = strtok_r(NULL, " ", &save);
		unescape_octal(fields[4]);
		if (streq(fstype, "cgroup2")) {
			if (streq(fields[4], root))
				*ret_v2_root = any = true;
			else if (streq(fields[4], unified))
				*ret_v2_unified = any = true;
			continue;
		}
		slash = strrchr(fields[4], '/');
		if (!slash || slash == fields[4] || (size_t)(slash - fields[4]) != strlen(root) ||
		    strncmp(fields[4], root, strlen(root)) != 0)
			continue;
		any = true;
		hier_add(&h, &n, fields[4],
			 superopts ? v1_controllers_from_options(superopts) : NULL);
	}
	*ret_h = h;
	*ret_n = n;
	return any;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fake v1 layout: one directory per hierarchy; symlinks are aliases of co-mounts. */
static int scan_fake_v1(const char *root, struct cgroup_hierarchy **ret_h, size_t *ret_n)
{
	_cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_strv_free_ char **names = NULL;
	struct cgroup_hierarchy *h = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return -errno;
	d = fdopendir(TAKE_FD(fd));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || streq(de->d_name, "unified"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		names = strv_append(names, de->d_name);
	}
	closedir(d);
	if (names)
		qsort(names, strv_length(names), sizeof(char *), cmp_str);
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_free_ char *dir = cg_join(root, names[i]);
		char **ctl = NULL, *save = NULL;
		_cleanup_free_ char *copy = xstrdup(names[i]);
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			const char *nm = startswith(t, "name=");
			ctl = strv_append(ctl, nm ? nm : t);
		}
		hier_add(&h, &n, dir, ctl);
	}
	*ret_h = h;
	*ret_n = n;
	return 0;
}

static char *normalize_root(const char *root)
{
	size_t l = strlen(root);
	while (l > 1 && root[l - 1] == '/')
		l--;
	return xstrndup(root, l);
}

static int detect_full(const char *root, enum cgroup_mode *ret_mode, bool *ret_fake,
		       struct cgroup_hierarchy **ret_h, size_t *ret_n)
{
	_cleanup_free_ char *unified = NULL;
	struct cgroup_hierarchy *h = NULL;
	size_t n = 0;
	bool v2_root = false, v2_unified = false;
	struct statfs sfs;
	int r;

	*ret_h = NULL;
	*ret_n = 0;
	if (statfs(root, &sfs) < 0)
		return -errno;
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		*ret_mode = CGROUP_MODE_V2;
		*ret_fake = false;
		return 0;
	}
	r = scan_mountinfo(root, &v2_root, &v2_unified, &h, &n);
	if (r < 0)
		return r;
	if (r > 0) {
		*ret_fake = false;
		if (n == 0) {
			hier_free_all(h, n);
			return -ENOMEDIUM;
		}
		*ret_mode = v2_unified ? CGROUP_MODE_HYBRID : CGROUP_MODE_V1;
		*ret_h = h;
		*ret_n = n;
		return 0;
	}

	/* a fake tree declares its layout */
	*ret_fake = true;
	if (cg_exists(root, "cgroup.controllers")) {
		*ret_mode = CGROUP_MODE_V2;
		return 0;
	}
	r = scan_fake_v1(root, &h, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		hier_free_all(h, n);
		return -ENOMEDIUM;
	}
	unified = cg_join(root, "unified");
	*ret_mode = cg_exists(unified, "cgroup.controllers") ? CGROUP_MODE_HYBRID : CGROUP_MODE_V1;
	*ret_h = h;
	*ret_n = n;
	return 0;
}

int cgroup_detect(const char *root, enum cgroup_mode *ret)
{
	_cleanup_free_ char *r0 = normalize_root(root);
	struct cgroup_hierarchy *h = NULL;
	size_t n = 0;
	bool fake;
	int r = detect_full(r0, ret, &fake, &h, &n);

	hier_free_all(h, n);
	return r;
}

const struct cgroup_hierarchy *cg_find_hier(const struct cgroup *cg, const char *controller)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (strv_contains(cg->hier[i].controllers, controller))
			return &cg->hier[i];
	return NULL;
}

char *cg_hier_dir(const struct cgroup *cg, const struct cgroup_hierarchy *h)
{
	return cg_join(h->dir, cg->path);
}

char *cg_v2_dir(const struct cgroup *cg)
{
	_cleanup_free_ char *base = NULL;

	if (cg->mode == CGROUP_MODE_V2)
		return cg_join(cg->root, cg->path);
	if (cg->mode != CGROUP_MODE_HYBRID)
		return NULL;
	base = cg_join(cg->root, "unified");
	return cg_join(base, cg->path);
}

/* The v2 hierarchy's root directory, NULL on v1. */
static char *v2_root_dir(const struct cgroup *cg)
{
	if (cg->mode == CGROUP_MODE_V2)
		return xstrdup(cg->root);
	if (cg->mode == CGROUP_MODE_HYBRID)
		return cg_join(cg->root, "unified");
	return NULL;
}

/* The controllers of the v2 hierarchy's root (cgroup.controllers), "" on v1. */
char *cg_v2_controllers(const struct cgroup *cg)
{
	_cleanup_free_ char *dir = v2_root_dir(cg);
	char *s = NULL;

	if (!dir || cg_read(dir, "cgroup.controllers", &s) < 0)
		return xstrdup("");
	return s;
}

int cg_no_controller(const struct cgroup *cg, const char *name, struct error **err)
{
	return error_setx(err, -EOPNOTSUPP, "the %s controller is not available under '%s'", name,
			  cg->root);
}

/* ---- paths ------------------------------------------------------------------------ */

bool cg_has_control_chars(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Rebuild "/a/b" from path's components: no empty or "." ones, ".." refused. */
static int clean_path(const char *path, char **ret, struct error **err)
{
	_cleanup_free_ char *copy = xstrdup(path), *out = xstrdup("");
	char *save = NULL;

	if (cg_has_control_chars(path))
		return error_setx(err, -EINVAL, "invalid cgroup path '%s': control character",
				  path);
	if (strlen(path) >= PATH_MAX)
		return error_setx(err, -ENAMETOOLONG, "invalid cgroup path: too long");
	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		char *n;
		if (streq(t, "."))
			continue;
		if (streq(t, ".."))
			return error_setx(err, -EINVAL, "invalid cgroup path '%s': '..' component",
					  path);
		n = xasprintf("%s/%s", out, t);
		free(out);
		out = n;
	}
	if (!*out)
		return error_setx(err, -EINVAL, "invalid cgroup path '%s': the root cgroup", path);
	*ret = TAKE_PTR(out);
	return 0;
}

static int check_id(const char *id, struct error **err)
{
	if (isempty(id) || strchr(id, '/') || streq(id, ".") || streq(id, "..") ||
	    cg_has_control_chars(id))
		return error_setx(err, -EINVAL, "invalid container id '%s' for a cgroup path",
				  id ? id : "");
	return 0;
}

/* The caller's own cgroup: the v2 entry on pure v2, else name=systemd, else the first. */
static char *own_cgroup(void)
{
	_cleanup_free_ char *s = NULL, *v2 = NULL, *sd = NULL, *first = NULL;
	size_t lines = 0;
	char *save = NULL;

	if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &s, NULL) < 0)
		return xstrdup("/");
	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		lines++;
		*c2 = 0;
		if (startswith(l, "0:") && c1[1] == 0 && !v2)
			v2 = xstrdup(c2 + 1);
		else if (streq(c1 + 1, "name=systemd") && !sd)
			sd = xstrdup(c2 + 1);
		else if (!first && c1[1] != 0)
			first = xstrdup(c2 + 1);
	}
	if (v2 && lines == 1)
		return TAKE_PTR(v2);
	if (sd)
		return TAKE_PTR(sd);
	if (first)
		return TAKE_PTR(first);
	return v2 ? TAKE_PTR(v2) : xstrdup("/");
}

/* systemd's slice expansion: "a-b.slice" -> "/a.slice/a-b.slice", "-.slice" -> "". */
static int expand_slice(const char *slice, char **ret, struct error **err)
{
	_cleanup_free_ char *out = xstrdup("");
	size_t base;

	if (streq(slice, "-.slice")) {
		*ret = TAKE_PTR(out);
		return 0;
	}
	if (!endswith(slice, ".slice") || strchr(slice, '/') || slice[0] == '-' ||
	    strstr(slice, "--") || streq(slice, ".slice"))
		goto invalid;
	base = strlen(slice) - strlen(".slice");
	if (slice[base - 1] == '-')
		goto invalid;
	for (size_t i = 0; i <= base; i++) {
		char *n;
		if (i < base && slice[i] != '-')
			continue;
		n = xasprintf("%s/%.*s.slice", out, (int)i, slice);
		free(out);
		out = n;
	}
	*ret = TAKE_PTR(out);
	return 0;
invalid:
	return error_setx(err, -EINVAL, "invalid systemd slice '%s'", slice);
}

static int resolve_systemd(const char *cgroups_path, const char *id, char **ret, struct error **err)
{
	_cleanup_free_ char *copy = NULL, *expanded = NULL, *path = NULL;
	char *slice, *prefix, *name, *c1, *c2;
	int r;

	if (isempty(cgroups_path)) {
		r = check_id(id, err);
		if (r < 0)
			return r;
		path = xasprintf("/system.slice/berth-%s.scope", id);
		return clean_path(path, ret, err);
	}
	copy = xstrdup(cgroups_path);
	c1 = strchr(copy, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':'))
		return error_setx(err, -EINVAL,
				  "cgroupsPath '%s' must be of the form slice:prefix:name with "
				  "systemd cgroups",
				  cgroups_path);
	*c1 = *c2 = 0;
	slice = copy;
	prefix = c1 + 1;
	name = c2 + 1;
	if (isempty(name) || strchr(name, '/') || strchr(prefix, '/') || streq(name, "..") ||
	    cg_has_control_chars(cgroups_path))
		return error_setx(err, -EINVAL, "invalid cgroupsPath '%s'", cgroups_path);
	r = expand_slice(isempty(slice) ? "system.slice" : slice, &expanded, err);
	if (r < 0)
		return r;
	if (endswith(name, ".slice"))
		path = xasprintf("%s/%s", expanded, name);
	else if (isempty(prefix))
		path = xasprintf("%s/%s.scope", expanded, name);
	else
		path = xasprintf("%s/%s-%s.scope", expanded, prefix, name);
	return clean_path(path, ret, err);
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **ret,
			struct error **err)
{
	_cleanup_free_ char *path = NULL, *own = NULL;
	int r;

	if (systemd)
		return resolve_systemd(cgroups_path, id, ret, err);
	if (isempty(cgroups_path)) {
		r = check_id(id, err);
		if (r < 0)
			return r;
		path = xasprintf("/berth/%s", id);
		return clean_path(path, ret, err);
	}
	if (cgroups_path[0] == '/')
		return clean_path(cgroups_path, ret, err);
	own = own_cgroup();
	path = xasprintf("%s/%s", own, cgroups_path);
	return clean_path(path, ret, err);
}

/* ---- lifecycle -------------------------------------------------------------------- */

void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	free(cg->root);
	free(cg->path);
	hier_free_all(cg->hier, cg->n_hier);
	free(cg);
}

static int cg_new(const char *root, const char *path, struct cgroup **ret, struct error **err)
{
	_cleanup_(cgroup_freep) struct cgroup *cg = xnew0(struct cgroup, 1);
	int r;

	if (!path || path[0] != '/' || cg_has_control_chars(path) || strstr(path, "/../") ||
	    endswith(path, "/..") || strspn(path, "/") == strlen(path))
		return error_setx(err, -EINVAL, "invalid cgroup path '%s'", path ? path : "");
	cg->root = normalize_root(root);
	cg->path = xstrdup(path);
	r = detect_full(cg->root, &cg->mode, &cg->fake, &cg->hier, &cg->n_hier);
	if (r == -ENOMEDIUM)
		return error_setx(err, r, "no cgroup hierarchy found under '%s'", cg->root);
	if (r < 0)
		return error_set(err, r, "detect the cgroup layout under '%s'", cg->root);
	*ret = TAKE_PTR(cg);
	return 0;
}

int cgroup_open(const char *root, const char *path, struct cgroup **ret)
{
	return cg_new(root, path, ret, NULL);
}

int cgroup_open_v2_fd(const struct cgroup *cg)
{
	_cleanup_free_ char *dir = NULL;
	int fd;

	if (cg->mode != CGROUP_MODE_V2)
		return -EOPNOTSUPP;
	dir = cg_join(cg->root, cg->path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cgroup_open_unified_fd(const struct cgroup *cg)
{
	_cleanup_free_ char *dir = NULL;
	int fd;

	if (cg->mode != CGROUP_MODE_HYBRID || cg->fake)
		return -EOPNOTSUPP;
	dir = cg_v2_dir(cg);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cgroup_open_self_enter(const struct cgroup *cg, int **ret_fds, size_t *ret_n)
{
	int *fds;

	if (cg->mode == CGROUP_MODE_V2 || cg->fake || cg->n_hier == 0)
		return -EOPNOTSUPP;
	fds = xnew0(int, cg->n_hier);
	for (size_t i = 0; i < cg->n_hier; i++) {
		_cleanup_free_ char *dir = cg_hier_dir(cg, &cg->hier[i]);
		_cleanup_free_ char *p = cg_join(dir, "tasks");
		fds[i] = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fds[i] < 0) {
			int r = -errno;
			for (size_t j = 0; j < i; j++)
				close(fds[j]);
			free(fds);
			return r;
		}
	}
	*ret_fds = fds;
	*ret_n = cg->n_hier;
	return 0;
}

/* v1 cpuset: a new cgroup starts with empty cpus / mems and refuses tasks until set. */
static int cpuset_copy_parent(const struct cgroup *cg, const char *parent, const char *dir,
			      struct error **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *cur = NULL, *val = NULL;
		int r = cg_read(dir, files[i], &cur);
		if (r < 0)
			return error_set(err, r, "read '%s' in '%s'", files[i], dir);
		if (*cur)
			continue;
		r = cg_read(parent, files[i], &val);
		if (r < 0)
			return error_set(err, r, "read '%s' in '%s'", files[i], parent);
		if (!*val)
			continue;
		r = cg_write(cg, dir, files[i], val, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Enable the controllers in want (space-separated) that dir's subtree_control lacks. */
static int enable_controllers(const struct cgroup *cg, const char *dir, char *const *want,
			      struct error **err)
{
	_cleanup_free_ char *cur = NULL, *add = xstrdup("");
	int r;

	r = cg_read(dir, "cgroup.subtree_control", &cur);
	if (r < 0)
		return error_set(err, r, "read 'cgroup.subtree_control' in '%s'", dir);
	for (size_t i = 0; want && want[i]; i++) {
		char *n;
		if (cg_has_token(cur, want[i]))
			continue;
		n = xasprintf("%s%s+%s", add, *add ? " " : "", want[i]);
		free(add);
		add = n;
	}
	if (!*add)
		return 0;
	return cg_write(cg, dir, "cgroup.subtree_control", add, err);
}

/*
 * mkdir each component of cg->path below base, recording what was made. cpuset fills
 * empty v1 cpuset files from the parent; want (v2, may be NULL) is enabled in every
 * ancestor.
 */
static int make_levels(const struct cgroup *cg, const char *base, bool cpuset, char *const *want,
		       char ***created, struct error **err)
{
	_cleanup_free_ char *copy = xstrdup(cg->path), *cur = xstrdup(base);
	char *save = NULL, *t;
	int r;

	t = strtok_r(copy, "/", &save);
	while (t) {
		_cleanup_free_ char *next = cg_join(cur, t);
		char *following = strtok_r(NULL, "/", &save);

		if (want) {
			r = enable_controllers(cg, cur, want, err);
			if (r < 0)
				return r;
		}
		if (mkdir(next, 0755) == 0) {
			*created = strv_append(*created, next);
			if (cg->fake)
				(void)fake_populate(cur, next);
		} else if (errno != EEXIST) {
			return error_set(err, -errno, "create cgroup '%s'", next);
		}
		if (cpuset) {
			r = cpuset_copy_parent(cg, cur, next, err);
			if (r < 0)
				return r;
		}
		free(cur);
		cur = TAKE_PTR(next);
		t = following;
	}
	return 0;
}

/* The v2 controllers to enable: the wanted ones the hierarchy has, in its order. */
static char **v2_enable_list(const struct cgroup *cg)
{
	_cleanup_free_ char *avail = cg_v2_controllers(cg);
	char **l = NULL, *save = NULL;

	for (char *t = strtok_r(avail, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
		for (size_t i = 0; i < ELEMENTSOF(v2_wanted); i++)
			if (streq(t, v2_wanted[i]))
				l = strv_append(l, t);
	return l;
}

int cgroup_create(const char *root, const char *path, const struct oci_resources *res,
		  struct cgroup **ret, struct error **err)
{
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_strv_free_ char **created = NULL;
	int r;

	r = cg_new(root, path, &cg, err);
	if (r < 0)
		return r;

	for (size_t i = 0; r >= 0 && i < cg->n_hier; i++) {
		bool cpuset = strv_contains(cg->hier[i].controllers, "cpuset");
		r = make_levels(cg, cg->hier[i].dir, cpuset, NULL, &created, err);
	}
	if (r >= 0 && cg->mode != CGROUP_MODE_V1) {
		_cleanup_free_ char *base = v2_root_dir(cg);
		_cleanup_strv_free_ char **want = v2_enable_list(cg);
		r = make_levels(cg, base, false, want, &created, err);
	}
	if (r >= 0 && res)
		r = cgroup_apply(cg, res, err);
	if (r < 0) {
		for (size_t i = strv_length(created); i > 0; i--)
			(void)cg_rmdir(cg, created[i - 1]);
		return error_prefix(err, r, "create cgroup '%s'", cg->path);
	}
	*ret = TAKE_PTR(cg);
	return 0;
}

/* ---- processes -------------------------------------------------------------------- */

int cgroup_enter(const struct cgroup *cg, pid_t pid, struct error **err)
{
	_cleanup_free_ char *v2dir = cg_v2_dir(cg);
	char buf[24];
	int r;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < cg->n_hier; i++) {
		_cleanup_free_ char *dir = cg_hier_dir(cg, &cg->hier[i]);
		r = cg_write(cg, dir, "cgroup.procs", buf, err);
		if (r < 0)
			return r;
	}
	if (v2dir) {
		r = cg_write(cg, v2dir, "cgroup.procs", buf, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Poll dir/file until it reads want; -ETIMEDOUT after FREEZE_TIMEOUT_USEC. */
static int wait_state(const char *dir, const char *file, const char *want)
{
	uint64_t deadline = now_usec(CLOCK_MONOTONIC) + FREEZE_TIMEOUT_USEC, backoff = 100;

	for (;;) {
		_cleanup_free_ char *s = NULL;
		int r = cg_read(dir, file, &s);
		if (r < 0)
			return r;
		if (streq(s, want))
			return 0;
		if (now_usec(CLOCK_MONOTONIC) >= deadline)
			return -ETIMEDOUT;
		sleep_usec(backoff);
		if (backoff < 20000)
			backoff *= 2;
	}
}

/* cgroup.events holds "frozen 0|1" among other lines. */
static int events_frozen(const char *dir)
{
	_cleanup_free_ char *s = NULL;
	const char *p;
	int r = cg_read(dir, "cgroup.events", &s);

	if (r < 0)
		return r;
	for (p = s; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *v = startswith(p, "frozen ");
		if (v)
			return *v == '1';
	}
	return -ENODATA;
}

static int wait_events_frozen(const char *dir, bool frozen)
{
	uint64_t deadline = now_usec(CLOCK_MONOTONIC) + FREEZE_TIMEOUT_USEC, backoff = 100;

	for (;;) {
		int r = events_frozen(dir);
		if (r < 0)
			return r;
		if (r == frozen)
			return 0;
		if (now_usec(CLOCK_MONOTONIC) >= deadline)
			return -ETIMEDOUT;
		sleep_usec(backoff);
		if (backoff < 20000)
			backoff *= 2;
	}
}

int cgroup_freeze(const struct cgroup *cg, bool frozen, struct error **err)
{
	const struct cgroup_hierarchy *h = cg_find_hier(cg, "freezer");
	_cleanup_free_ char *dir = NULL;
	const char *state = frozen ? "FROZEN" : "THAWED";
	int r;

	if (h) {
		dir = cg_hier_dir(cg, h);
		r = cg_write(cg, dir, "freezer.state", state, err);
		if (r < 0)
			return r;
		r = wait_state(dir, "freezer.state", state);
		if (r == -ETIMEDOUT && frozen)
			(void)cg_write(cg, dir, "freezer.state", "THAWED", NULL);
		if (r < 0)
			return error_set(err, r, "wait for '%s' in '%s'", state, dir);
		return 0;
	}
	dir = cg_v2_dir(cg);
	if (!dir)
		return cg_no_controller(cg, "freezer", err);
	r = cg_write(cg, dir, "cgroup.freeze", frozen ? "1" : "0", err);
	if (r < 0)
		return r;
	r = wait_events_frozen(dir, frozen);
	if (r == -ETIMEDOUT && frozen)
		(void)cg_write(cg, dir, "cgroup.freeze", "0", NULL);
	if (r < 0)
		return error_set(err, r, "wait for 'frozen %d' in '%s/cgroup.events'", frozen, dir);
	return 0;
}

int cgroup_is_frozen(const struct cgroup *cg)
{
	const struct cgroup_hierarchy *h = cg_find_hier(cg, "freezer");
	_cleanup_free_ char *dir = NULL, *s = NULL;
	int r;

	if (h) {
		dir = cg_hier_dir(cg, h);
		r = cg_read(dir, "freezer.state", &s);
		if (r < 0)
			return r;
		return streq(s, "FROZEN");
	}
	dir = cg_v2_dir(cg);
	if (!dir)
		return -EOPNOTSUPP;
	return events_frozen(dir);
}

static int collect_pids(const char *dir, pid_t **pids, size_t *n)
{
	_cleanup_free_ char *s = NULL;
	_cleanup_close_ int fd = -EBADF;
	char *save = NULL;
	DIR *d;
	struct dirent *de;
	int r;

	r = cg_read(dir, "cgroup.procs", &s);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (char *t = strtok_r(s, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		int p;
		if (safe_atoi(t, &p) < 0 || p <= 0)
			continue;
		*pids = xrealloc(*pids, sizeof(**pids) * (*n + 1));
		(*pids)[(*n)++] = p;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(TAKE_FD(fd));
	if (!d)
		return -errno;
	r = 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		struct stat st;
		int k;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		sub = cg_join(dir, de->d_name);
		k = collect_pids(sub, pids, n);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	return r;
}

/* The directory that lists the processes: v1 pids, freezer, memory or any; else v2. */
static char *procs_dir(const struct cgroup *cg)
{
	static const char *const pref[] = {"pids", "freezer", "memory", "cpu", "systemd"};

	for (size_t i = 0; i < ELEMENTSOF(pref); i++) {
		const struct cgroup_hierarchy *h = cg_find_hier(cg, pref[i]);
		if (h)
			return cg_hier_dir(cg, h);
	}
	if (cg->n_hier > 0)
		return cg_hier_dir(cg, &cg->hier[0]);
	return cg_v2_dir(cg);
}

int cgroup_pids(const struct cgroup *cg, pid_t **ret, size_t *n)
{
	_cleanup_free_ char *dir = procs_dir(cg);
	pid_t *pids = NULL;
	size_t k = 0;
	int r;

	if (!dir)
		return -ENOENT;
	r = collect_pids(dir, &pids, &k);
	if (r < 0) {
		free(pids);
		return r;
	}
	*ret = pids;
	*n = k;
	return 0;
}

int cgroup_kill(const struct cgroup *cg, int sig)
{
	_cleanup_free_ char *v2dir = cg_v2_dir(cg);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	bool thaw = false;
	int r, ret = 0;

	if (sig == SIGKILL && v2dir && cg_exists(v2dir, "cgroup.kill"))
		return cg_write(cg, v2dir, "cgroup.kill", "1", NULL);

	/* freeze so that nothing forks past the list; a paused cgroup must thaw to die */
	if (sig == SIGKILL) {
		int frozen = cgroup_is_frozen(cg);
		if (frozen == 1)
			thaw = true;
		else if (frozen == 0)
			thaw = cgroup_freeze(cg, true, NULL) >= 0;
	}
	r = cgroup_pids(cg, &pids, &n);
	if (r < 0)
		ret = r;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH && ret == 0)
			ret = -errno;
	if (thaw) {
		r = cgroup_freeze(cg, false, NULL);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

int cgroup_destroy(const struct cgroup *cg)
{
	uint64_t deadline = now_usec(CLOCK_MONOTONIC) + DESTROY_TIMEOUT_USEC;
	_cleanup_free_ char *v2dir = cg_v2_dir(cg);
	int r = 0, k;

	for (size_t i = 0; i < cg->n_hier; i++) {
		_cleanup_free_ char *dir = cg_hier_dir(cg, &cg->hier[i]);
		k = remove_tree(cg, dir, deadline);
		if (k < 0 && r == 0)
			r = k;
	}
	if (v2dir) {
		k = remove_tree(cg, v2dir, deadline);
		if (k < 0 && r == 0)
			r = k;
	}
	return r;
}
