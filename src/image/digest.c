/* SPDX-License-Identifier: Apache-2.0 */
/* Digests, blobs in content/sha256 and small fd helpers. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

bool hex64_valid(const char *h)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return h[64] == 0;
}

bool digest_valid(const char *d)
{
	const char *h = d ? startswith(d, "sha256:") : NULL;
	return h && strlen(h) == 64 && hex64_valid(h);
}

char *chain_id(const char *parent_chain, const char *diff_id)
{
	_cleanup_free_ char *s = NULL;

	if (!parent_chain)
		return xstrdup(diff_id);
	s = xasprintf("%s %s", parent_chain, diff_id);
	return digest_buf(s, strlen(s));
}

int fsync_dir_at(int dirfd, const char *path)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int ingest_tmpfile(struct image_store *s, char **ret_name)
{
	char name[] = "tmp-XXXXXX";
	_cleanup_free_ char *path = NULL;
	int fd;

	if (!ret_name) {
		fd = openat(s->ingest_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
			return fd < 0 ? -errno : fd;
	}
	path = xasprintf("%s/content/ingest/%s", s->root, name);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ret_name)
		*ret_name = xstrdup(strrchr(path, '/') + 1);
	else
		unlink(path);
	return fd;
}

int blob_put(struct image_store *s, const void *p, size_t n, const char *digest, char **ret_digest,
	     struct error **err)
{
	_cleanup_free_ char *d = digest_buf(p, n), *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	if (digest && !streq(d, digest))
		return error_setx(err, -EINVAL, "unexpected commit digest %s, expected %s", d,
				  digest);
	if (fstatat(s->blobs_fd, d + 7, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size == n)
		goto done;
	fd = ingest_tmpfile(s, &tmp);
	if (fd < 0)
		return error_set(err, fd, "create blob temp file");
	if (loop_write(fd, p, n) < 0 || fsync(fd) < 0) {
		r = -errno;
		unlinkat(s->ingest_fd, tmp, 0);
		return error_set(err, r, "write blob %s", d);
	}
	if (renameat(s->ingest_fd, tmp, s->blobs_fd, d + 7) < 0) {
		r = -errno;
		unlinkat(s->ingest_fd, tmp, 0);
		return error_set(err, r, "commit blob %s", d);
	}
	r = fsync_dir_at(s->blobs_fd, ".");
	if (r < 0)
		return error_set(err, r, "sync blob dir");
done:
	if (ret_digest)
		*ret_digest = TAKE_PTR(d);
	return 0;
}

int blob_read(struct image_store *s, const char *digest, char **ret, size_t *ret_len,
	      struct error **err)
{
	_cleanup_free_ char *buf = NULL, *d = NULL;
	size_t len = 0;
	int r;

	if (!digest_valid(digest))
		return error_setx(err, -EINVAL, "invalid digest \"%s\"", digest);
	r = read_file_at(s->blobs_fd, digest + 7, IMAGE_JSON_MAX, &buf, &len);
	if (r < 0)
		return error_set(err, r, "read blob %s", digest);
	d = digest_buf(buf, len);
	if (!streq(d, digest))
		return error_setx(err, -EIO, "blob %s is corrupt (digest %s)", digest, d);
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}
