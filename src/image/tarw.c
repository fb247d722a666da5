/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer tars from diff directories: entries sorted by name, whole-second mtimes, no user
 * or group names, overlay whiteouts turned back into Docker's .wh. files. The same
 * directory always gives the same bytes, so a layer unpacked from such a tar and written
 * again keeps its diff id.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "internal.h"

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct tarw {
	struct archive *a;
	int out_fd;
	struct digest *md; /* NULL: no diff id wanted */
	struct link_seen *links;
	size_t n_links;
	char buf[64 * 1024];
};

static la_ssize_t tarw_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct tarw *w = ud;

	if (w->out_fd >= 0 && loop_write(w->out_fd, buf, n) < 0) {
		archive_set_error(a, errno, "write: %s", strerror(errno));
		return -1;
	}
	if (w->md)
		digest_update(w->md, buf, n);
	return (la_ssize_t)n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(int dfd, char ***ret)
{
	_cleanup_close_ int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_strv_free_ char **l = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -EBADF;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		l = xrealloc(l, (n + 2) * sizeof(char *));
		l[n++] = xstrdup(de->d_name);
		l[n] = NULL;
	}
	closedir(d);
	if (n)
		qsort(l, n, sizeof(char *), cmp_str);
	*ret = l ? TAKE_PTR(l) : xnew0(char *, 1);
	return 0;
}

static void add_xattrs(struct archive_entry *e, int fd, bool *opaque)
{
	char names[16384], val[65536];
	_cleanup_strv_free_ char **l = NULL;
	ssize_t n = flistxattr(fd, names, sizeof(names));
	size_t k = 0;

	*opaque = false;
	for (ssize_t i = 0; i < n; i += strlen(names + i) + 1) {
		l = xrealloc(l, (k + 2) * sizeof(char *));
		l[k++] = xstrdup(names + i);
		l[k] = NULL;
	}
	if (k)
		qsort(l, k, sizeof(char *), cmp_str);
	for (size_t i = 0; i < k; i++) {
		ssize_t v = fgetxattr(fd, l[i], val, sizeof(val));
		if (v < 0)
			continue;
		if (streq(l[i], "trusted.overlay.opaque")) {
			*opaque = v == 1 && val[0] == 'y';
			continue;
		}
		if (startswith(l[i], "trusted.overlay.") || startswith(l[i], "user.overlay."))
			continue;
		archive_entry_xattr_add_entry(e, l[i], val, v);
	}
}

static struct archive_entry *entry_new(const char *path, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_copy_pathname(e, path);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_perm(e, st->st_mode & 07777);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
	return e;
}

static int put_header(struct tarw *w, struct archive_entry *e, struct error **err)
{
	int r = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return error_setx(err, -EIO, "write layer tar: %s", archive_error_string(w->a));
	return 0;
}

static int walk(struct tarw *w, int dfd, const char *prefix, struct error **err);

static int one(struct tarw *w, int dfd, const char *name, const char *prefix, struct error **err)
{
	_cleanup_free_ char *path = xasprintf("%s%s", prefix, name);
	_cleanup_close_ int fd = -EBADF;
	struct archive_entry *e;
	struct stat st;
	bool opaque = false;
	int r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return error_set(err, -errno, "stat \"%s\"", path);

	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		/* an overlay whiteout */
		_cleanup_free_ char *wh = xasprintf("%s.wh.%s", prefix, name);
		e = entry_new(wh, &st);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, 0);
		return put_header(w, e, err);
	}

	e = entry_new(path, &st);
	if (S_ISREG(st.st_mode)) {
		if (st.st_nlink > 1) {
			for (size_t i = 0; i < w->n_links; i++)
				if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino) {
					archive_entry_set_filetype(e, AE_IFREG);
					archive_entry_copy_hardlink(e, w->links[i].path);
					archive_entry_set_size(e, 0);
					return put_header(w, e, err);
				}
			w->links = xrealloc(w->links, (w->n_links + 1) * sizeof(*w->links));
			w->links[w->n_links++] =
			    (struct link_seen){st.st_dev, st.st_ino, xstrdup(path)};
		}
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			archive_entry_free(e);
			return error_set(err, -errno, "open \"%s\"", path);
		}
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, st.st_size);
		add_xattrs(e, fd, &opaque);
		r = put_header(w, e, err);
		if (r < 0)
			return r;
		for (off_t left = st.st_size; left > 0;) {
			ssize_t n = read(fd, w->buf, sizeof(w->buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return error_set(err, -errno, "read \"%s\"", path);
			if (n == 0) /* shrank under us: pad with zeros to the size written */
				memset(w->buf, 0,
				       n = left < (off_t)sizeof(w->buf) ? left
									: (off_t)sizeof(w->buf));
			if (n > left)
				n = left;
			if (archive_write_data(w->a, w->buf, n) != n)
				return error_setx(err, -EIO, "write layer tar: %s",
						  archive_error_string(w->a));
			left -= n;
		}
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *dpath = xasprintf("%s/", path);
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			archive_entry_free(e);
			return error_set(err, -errno, "open \"%s\"", path);
		}
		archive_entry_copy_pathname(e, dpath);
		archive_entry_set_filetype(e, AE_IFDIR);
		add_xattrs(e, fd, &opaque);
		r = put_header(w, e, err);
		if (r < 0)
			return r;
		if (opaque) {
			_cleanup_free_ char *op = xasprintf("%s.wh..wh..opq", dpath);
			e = entry_new(op, &st);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, 0);
			r = put_header(w, e, err);
			if (r < 0)
				return r;
		}
		return walk(w, fd, dpath, err);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(dfd, name, target, PATH_MAX);
		if (n < 0) {
			archive_entry_free(e);
			return error_set(err, -errno, "readlink \"%s\"", path);
		}
		target[n] = 0;
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		archive_entry_copy_symlink(e, target);
		return put_header(w, e, err);
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		archive_entry_set_filetype(e, st.st_mode & S_IFMT);
		archive_entry_set_rdev(e, st.st_rdev);
		return put_header(w, e, err);
	}
	archive_entry_free(e); /* sockets are not archived */
	return 0;
}

static int walk(struct tarw *w, int dfd, const char *prefix, struct error **err)
{
	_cleanup_strv_free_ char **names = NULL;
	int r = list_dir(dfd, &names);

	if (r < 0)
		return error_set(err, r, "read directory \"%s\"", *prefix ? prefix : "/");
	for (char **n = names; *n; n++) {
		r = one(w, dfd, *n, prefix, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int image_tar_layer(int root_fd, int out_fd, char **ret_diff_id, struct error **err)
{
	struct tarw *w = xnew0(struct tarw, 1);
	struct digest md;
	int r;

	digest_init(&md);
	w->out_fd = out_fd;
	w->md = ret_diff_id ? &md : NULL;
	w->a = archive_write_new();
	archive_write_set_format_pax_restricted(w->a);
	archive_write_set_bytes_per_block(w->a, 10240);
	archive_write_set_bytes_in_last_block(w->a, 1);
	if (archive_write_open(w->a, w, NULL, tarw_write, NULL) != ARCHIVE_OK) {
		r = error_setx(err, -EIO, "write layer tar: %s", archive_error_string(w->a));
		goto out;
	}
	r = walk(w, root_fd, "", err);
	if (r >= 0 && archive_write_close(w->a) != ARCHIVE_OK)
		r = error_setx(err, -EIO, "write layer tar: %s", archive_error_string(w->a));
	if (r >= 0 && ret_diff_id)
		*ret_diff_id = digest_final(&md);
out:
	archive_write_free(w->a);
	for (size_t i = 0; i < w->n_links; i++)
		free(w->links[i].path);
	free(w->links);
	free(w);
	return r;
}
