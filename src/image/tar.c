/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer extraction, confined to the layer's root.
 *
 * Every path of the archive is cleaned lexically as if rooted at "/" (so ".." cannot climb
 * out), then its parent is opened with openat2(RESOLVE_IN_ROOT): symlinks already in the
 * layer are followed as they would be inside the container, never outside it. The last
 * component is always handled with *at() calls on that parent fd without following it,
 * and metadata goes on fds or with AT_SYMLINK_NOFOLLOW.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "internal.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

struct dir_time {
	char *path;
	struct timespec ts[2];
};

struct untar {
	int root_fd;
	uint64_t size;
	struct dir_time *dirs;
	size_t n_dirs;
	bool root_user;
};

static int invalid(struct error **err, const char *what, const char *name)
{
	return error_setx(err, -EINVAL, "invalid archive: %s \"%s\"", what, name);
}

/* Clean name as filepath.Clean("/" + name) does, without the leading slash ("" is root). */
static char *clean_path(const char *name)
{
	size_t n = strlen(name), o = 0, i = 0;
	char *out = xmalloc(n + 1);

	while (i < n) {
		size_t j = i;
		while (j < n && name[j] != '/')
			j++;
		if (j == i || (j - i == 1 && name[i] == '.')) {
			/* empty or "." */
		} else if (j - i == 2 && name[i] == '.' && name[i + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, name + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	out[o] = 0;
	return out;
}

static int resolve(int root_fd, const char *rel, uint64_t flags, uint64_t extra, int *ret)
{
	struct open_how how = {
	    .flags = flags | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | extra,
	};
	int i;

	for (i = 0; i < 16; i++) {
		int fd = syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof(how));
		if (fd >= 0) {
			*ret = fd;
			return 0;
		}
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/* Open the directory rel inside the root, creating missing components (0755, like Docker). */
static int open_dir_create(int root_fd, const char *rel, uint64_t flags, int *ret)
{
	_cleanup_free_ char *prefix = NULL;
	_cleanup_close_ int prev = -EBADF;
	size_t n = strlen(rel), i;
	int r;

	r = resolve(root_fd, rel, flags | O_DIRECTORY, 0, ret);
	if (r != -ENOENT)
		return r;
	prefix = xstrdup(rel);
	r = resolve(root_fd, "", O_PATH | O_DIRECTORY, 0, &prev);
	if (r < 0)
		return r;
	for (i = 0; i <= n; i++) {
		int fd = -EBADF;
		const char *comp;
		if (prefix[i] != '/' && prefix[i] != 0)
			continue;
		prefix[i] = 0;
		comp = strrchr(prefix, '/');
		comp = comp ? comp + 1 : prefix;
		r = resolve(root_fd, prefix, O_PATH | O_DIRECTORY, 0, &fd);
		if (r == -ENOENT) {
			if (mkdirat(prev, comp, 0755) < 0 && errno != EEXIST)
				return -errno;
			r = resolve(root_fd, prefix, O_PATH | O_DIRECTORY, 0, &fd);
		}
		if (r < 0)
			return r;
		closep(&prev);
		prev = fd;
		if (i < n)
			prefix[i] = '/';
	}
	return resolve(root_fd, rel, flags | O_DIRECTORY, 0, ret);
}

static void split(char *rel, const char **parent, const char **base)
{
	char *s = strrchr(rel, '/');
	if (s) {
		*s = 0;
		*parent = rel;
		*base = s + 1;
	} else {
		*parent = "";
		*base = rel;
	}
}

static int set_xattrs(int fd, struct archive_entry *e)
{
	const char *name;
	const void *val;
	size_t len;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK) {
		/* overlay's own attributes (redirect, metacopy, opaque) never come from a tar */
		if (startswith(name, "trusted.overlay.") || startswith(name, "user.overlay."))
			continue;
		if (fsetxattr(fd, name, val, len, 0) < 0 && errno != ENOTSUP && errno != EPERM)
			return -errno;
	}
	return 0;
}

static int set_owner_fd(struct untar *u, int fd, struct archive_entry *e)
{
	if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0 &&
	    (u->root_user || (errno != EPERM && errno != EINVAL)))
		return -errno;
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

static int write_data(struct archive *a, int fd, struct archive_entry *e, struct error **err)
{
	const void *buf;
	size_t len;
	la_int64_t off, end = 0;
	int r;

	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		while (len > 0) {
			ssize_t w = pwrite(fd, p, len, off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return error_set(err, -errno, "write \"%s\"",
						 archive_entry_pathname(e));
			}
			p += w;
			len -= w;
			off += w;
		}
		if (off > end)
			end = off;
	}
	if (r != ARCHIVE_EOF)
		return error_setx(err, -EINVAL, "invalid archive: %s", archive_error_string(a));
	if (archive_entry_size(e) > end && ftruncate(fd, archive_entry_size(e)) < 0)
		return error_set(err, -errno, "truncate \"%s\"", archive_entry_pathname(e));
	return 0;
}

static int whiteout(struct untar *u, const char *parent, const char *base, const char *name,
		    struct error **err)
{
	_cleanup_close_ int pfd = -EBADF;
	const char *target;
	int r;

	if (streq(base, WHITEOUT_OPAQUE)) {
		r = open_dir_create(u->root_fd, parent, O_RDONLY, &pfd);
		if (r < 0)
			return error_set(err, r, "open \"%s\"", name);
		if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return error_set(err, -errno, "mark \"%s\" opaque", parent);
		return 0;
	}
	if (startswith(base, WHITEOUT_META_PREFIX))
		return 0; /* aufs metadata (.wh..wh.plnk, ...): nothing for overlay */
	target = base + strlen(WHITEOUT_PREFIX);
	if (!*target || streq(target, ".") || streq(target, ".."))
		return invalid(err, "invalid whiteout name", name);
	r = resolve(u->root_fd, parent, O_PATH | O_DIRECTORY, 0, &pfd);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0; /* nothing of this layer there; the path does not resolve to a dir */
	if (r < 0)
		return error_set(err, r, "open \"%s\"", name);
	r = rm_rf_at(pfd, target);
	if (r < 0)
		return error_set(err, r, "remove \"%s\"", target);
	if (mknodat(pfd, target, S_IFCHR | 0600, makedev(0, 0)) < 0)
		return error_set(err, -errno, "create whiteout \"%s\"", name);
	return 0;
}

static int extract_entry(struct untar *u, struct archive *a, struct archive_entry *e,
			 struct error **err)
{
	const char *name = archive_entry_pathname(e), *parent, *base, *hl;
	_cleanup_free_ char *rel = NULL, *relcopy = NULL;
	_cleanup_close_ int pfd = -EBADF, fd = -EBADF;
	mode_t type = archive_entry_filetype(e), perm = archive_entry_perm(e) & 07777;
	struct timespec ts[2];
	struct stat st;
	int r;

	if (!name)
		return error_setx(err, -EINVAL, "invalid archive: entry without a name");
	if (strlen(name) >= PATH_MAX)
		return invalid(err, "name too long", "...");
	rel = clean_path(name);
	hl = archive_entry_hardlink(e);
	entry_times(e, ts);

	if (!*rel) {
		/* the root itself: only a directory's metadata applies */
		if (type != AE_IFDIR || hl)
			return 0;
		r = set_owner_fd(u, u->root_fd, e);
		if (r >= 0 && fchmod(u->root_fd, perm) < 0)
			r = -errno;
		if (r >= 0)
			r = set_xattrs(u->root_fd, e);
		if (r < 0)
			return error_set(err, r, "set metadata of \"/\"");
		u->dirs = xrealloc(u->dirs, (u->n_dirs + 1) * sizeof(*u->dirs));
		u->dirs[u->n_dirs++] = (struct dir_time){xstrdup(""), {ts[0], ts[1]}};
		return 0;
	}

	relcopy = xstrdup(rel);
	split(relcopy, &parent, &base);
	if (startswith(base, WHITEOUT_PREFIX))
		return whiteout(u, parent, base, name, err);

	r = open_dir_create(u->root_fd, parent, O_PATH, &pfd);
	if (r < 0)
		return error_set(err, r, "open parent of \"%s\"", name);

	if (hl) {
		_cleanup_free_ char *trel = clean_path(hl);
		_cleanup_close_ int tfd = -EBADF;
		const char *tparent, *tbase;

		if (!*trel)
			return invalid(err, "hardlink to the root", name);
		if (streq(trel, rel))
			return 0; /* a link to itself: the file is there already */
		split(trel, &tparent, &tbase);
		r = resolve(u->root_fd, tparent, O_PATH | O_DIRECTORY, 0, &tfd);
		if (r < 0)
			return error_set(err, r, "invalid archive: hardlink target \"%s\"", hl);
		if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, -errno, "invalid archive: hardlink target \"%s\"",
					 hl);
		if (S_ISDIR(st.st_mode))
			return invalid(err, "hardlink to a directory", name);
		r = rm_rf_at(pfd, base);
		if (r < 0)
			return error_set(err, r, "remove \"%s\"", name);
		if (linkat(tfd, tbase, pfd, base, 0) < 0)
			return error_set(err, -errno, "link \"%s\" to \"%s\"", name, hl);
		return 0;
	}

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISDIR(st.st_mode) && type == AE_IFDIR)) {
		r = rm_rf_at(pfd, base);
		if (r < 0)
			return error_set(err, r, "remove \"%s\"", name);
	}

	switch (type) {
	case AE_IFREG:
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return error_set(err, -errno, "create \"%s\"", name);
		r = write_data(a, fd, e, err);
		if (r < 0)
			return r;
		u->size += archive_entry_size(e);
		break;
	case AE_IFDIR:
		if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
			return error_set(err, -errno, "mkdir \"%s\"", name);
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return error_set(err, -errno, "open \"%s\"", name);
		u->dirs = xrealloc(u->dirs, (u->n_dirs + 1) * sizeof(*u->dirs));
		u->dirs[u->n_dirs++] = (struct dir_time){xstrdup(rel), {ts[0], ts[1]}};
		break;
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(e);
		if (!t)
			return invalid(err, "symlink without target", name);
		if (symlinkat(t, pfd, base) < 0)
			return error_set(err, -errno, "symlink \"%s\"", name);
		if (fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
			     AT_SYMLINK_NOFOLLOW) < 0 &&
		    u->root_user)
			return error_set(err, -errno, "chown \"%s\"", name);
		if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, -errno, "set times of \"%s\"", name);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(pfd, base, type | perm, type == AE_IFIFO ? 0 : archive_entry_rdev(e)) <
		    0)
			return error_set(err, -errno, "mknod \"%s\"", name);
		/* O_PATH on the node we just made: metadata without opening a device */
		fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return error_set(err, -errno, "open \"%s\"", name);
		if (fchownat(fd, "", (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
			     AT_EMPTY_PATH) < 0 &&
		    u->root_user)
			return error_set(err, -errno, "chown \"%s\"", name);
		if (fchmodat(pfd, base, perm, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, -errno, "chmod \"%s\"", name);
		if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return error_set(err, -errno, "set times of \"%s\"", name);
		return 0;
	default:
		return 0; /* sockets and unknown types are skipped, as Docker does */
	}

	r = set_owner_fd(u, fd, e);
	if (r >= 0 && fchmod(fd, perm) < 0)
		r = -errno;
	if (r >= 0)
		r = set_xattrs(fd, e);
	if (r >= 0 && type == AE_IFREG && futimens(fd, ts) < 0)
		r = -errno;
	if (r < 0)
		return error_set(err, r, "set metadata of \"%s\"", name);
	return 0;
}

int untar_archive(struct archive *a, int root_fd, uint64_t *ret_size, struct error **err)
{
	struct untar u = {.root_fd = root_fd, .root_user = geteuid() == 0};
	struct archive_entry *e;
	int r = 0, k;
	size_t i;

	for (;;) {
		k = archive_read_next_header(a, &e);
		if (k == ARCHIVE_EOF)
			break;
		if (k != ARCHIVE_OK && k != ARCHIVE_WARN) {
			r = error_setx(err, -EINVAL, "invalid archive: %s",
				       archive_error_string(a) ?: "bad header");
			break;
		}
		r = extract_entry(&u, a, e, err);
		if (r < 0)
			break;
	}
	/* Directory times last, deepest first, and only where no symlink is in the way now. */
	for (i = u.n_dirs; i > 0; i--) {
		struct dir_time *d = &u.dirs[i - 1];
		_cleanup_close_ int fd = -EBADF;
		if (r >= 0 && resolve(root_fd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
				      RESOLVE_NO_SYMLINKS, &fd) >= 0)
			(void)futimens(fd, d->ts);
		free(d->path);
	}
	free(u.dirs);
	if (r >= 0 && ret_size)
		*ret_size = u.size;
	return r;
}

/* The uncompressed stream feeds the tar reader through this callback, hashed and counted. */
struct stream {
	struct archive *raw;
	struct digest md;
	struct tarsplit *split;
	uint64_t total, max;
	bool over;
	char buf[64 * 1024];
};

static la_ssize_t stream_read(struct archive *a, void *ud, const void **buf)
{
	struct stream *s = ud;
	la_ssize_t n = archive_read_data(s->raw, s->buf, sizeof(s->buf));

	if (n < 0) {
		archive_set_error(a, archive_errno(s->raw) ?: EIO, "%s",
				  archive_error_string(s->raw) ?: "read error");
		return -1;
	}
	s->total += n;
	if (s->total > s->max) {
		s->over = true;
		archive_set_error(a, EFBIG, "layer exceeds the size limit");
		return -1;
	}
	digest_update(&s->md, s->buf, n);
	if (s->split)
		tarsplit_feed(s->split, s->buf, n);
	*buf = s->buf;
	return n;
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

int image_untar(int in_fd, int root_fd, uint64_t max_bytes, uint64_t *ret_size, char **ret_diff_id,
		struct error **err)
{
	return untar_split(in_fd, root_fd, max_bytes, NULL, ret_size, ret_diff_id, err);
}

int untar_split(int in_fd, int root_fd, uint64_t max_bytes, struct tarsplit *split,
		uint64_t *ret_size, char **ret_diff_id, struct error **err)
{
	_cleanup_(archive_freep) struct archive *raw = NULL, *tar = NULL;
	_cleanup_free_ struct stream *s = xnew0(struct stream, 1);
	struct archive_entry *e;
	uint64_t size = 0;
	int r;

	s->max = max_bytes ? max_bytes : IMAGE_LAYER_MAX_DEFAULT;
	digest_init(&s->md);
	s->split = split;
	raw = archive_read_new();
	archive_read_support_filter_all(raw);
	archive_read_support_format_raw(raw);
	archive_read_support_format_empty(raw);
	if (archive_read_open_fd(raw, in_fd, 64 * 1024) != ARCHIVE_OK)
		return error_setx(err, -EINVAL, "invalid archive: %s",
				  archive_error_string(raw) ?: "cannot read");
	r = archive_read_next_header(raw, &e);
	if (r == ARCHIVE_EOF)
		goto done; /* an empty stream is an empty layer */
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return error_setx(err, -EINVAL, "invalid archive: %s",
				  archive_error_string(raw) ?: "cannot read");
	s->raw = raw;
	tar = archive_read_new();
	archive_read_support_format_tar(tar);
	archive_read_support_format_empty(tar);
	if (archive_read_open(tar, s, NULL, stream_read, NULL) != ARCHIVE_OK) {
		if (s->over)
			return error_setx(err, -EFBIG,
					  "layer exceeds the size limit of %" PRIu64 " bytes",
					  s->max);
		return error_setx(err, -EINVAL, "invalid archive: %s",
				  archive_error_string(tar) ?: "cannot read");
	}
	r = untar_archive(tar, root_fd, &size, err);
	if (r < 0) {
		if (s->over) {
			if (err) {
				error_free(*err);
				*err = NULL;
			}
			return error_setx(err, -EFBIG,
					  "layer exceeds the size limit of %" PRIu64 " bytes",
					  s->max);
		}
		return r;
	}
	/* the rest of the stream (padding after the end blocks) belongs to the diff id too */
	for (;;) {
		const void *b;
		la_ssize_t n = stream_read(tar, s, &b);
		if (n < 0)
			return error_setx(err, s->over ? -EFBIG : -EINVAL, "invalid archive: %s",
					  archive_error_string(tar) ?: "read error");
		if (n == 0)
			break;
	}
done:
	if (ret_size)
		*ret_size = size;
	if (ret_diff_id)
		*ret_diff_id = digest_final(&s->md);
	return 0;
}

int open_in_root(int root_fd, const char *path, int flags)
{
	_cleanup_free_ char *rel = clean_path(path);
	int fd = -EBADF, r;

	r = resolve(root_fd, rel, (uint64_t)flags, 0, &fd);
	return r < 0 ? r : fd;
}
