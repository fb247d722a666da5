/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "basic.h"

ssize_t loop_write(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t left = n;

	while (left > 0) {
		ssize_t k = write(fd, p, left);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		left -= (size_t)k;
	}
	return (ssize_t)n;
}

ssize_t loop_read(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t k = read(fd, p + done, n - done);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	return (ssize_t)done;
}

int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 4096;

	if (fd < 0)
		return -errno;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t k;
		if (len == cap) {
			if (cap >= max)
				return -EFBIG;
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	buf[len] = 0;
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int write_file_at(int dirfd, const char *path, const char *s)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = loop_write(fd, s, strlen(s));
	return r < 0 ? (int)r : 0;
}

static int write_replace(const char *path, const char *data, size_t len, mode_t mode, bool durable)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd = -EBADF;
	ssize_t r;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	r = loop_write(fd, data, len);
	if (r < 0 || (durable && fsync(fd) < 0)) {
		int e = r < 0 ? (int)r : -errno;
		unlink(tmp);
		return e;
	}
	if (rename(tmp, path) < 0) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	return write_replace(path, data, len, mode, true);
}

int write_file_replace(const char *path, const char *data, size_t len, mode_t mode)
{
	return write_replace(path, data, len, mode, false);
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * rm -rf without recursion and with two directories open at most: a container can build a
 * tree as deep as it likes in its writable layer (mkdir and chdir in a loop), and removing
 * it must cost neither a stack frame nor a file descriptor per level (a recursive walk
 * holding each level open ran out of both). The walk keeps the names of the levels it went
 * down through, goes up by "..", and never leaves the filesystem of the top directory (a
 * mount below is left, with -EXDEV). Subdirectories that cannot be removed are remembered,
 * per level, so that they are not entered again.
 */
struct rm_level {
	char *name;  /* this directory's name in its parent */
	char **skip; /* subdirectories that could not be removed */
};

static bool rm_skipped(const struct rm_level *l, const char *name)
{
	return l->skip && strv_contains(l->skip, name);
}

int rm_rf_at(int dirfd, const char *name)
{
	struct rm_level *stack = NULL;
	size_t depth = 0, cap = 0;
	struct stat st;
	dev_t dev;
	int fd, r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	dev = st.st_dev;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	stack = xnew0(struct rm_level, 1);
	cap = 1;
	for (;;) {
		char *down = NULL;
		int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		struct dirent *de;

		if (!d) {
			if (dfd >= 0)
				close(dfd);
			if (!r)
				r = -errno;
		}
		while (d && (de = readdir(d))) {
			if (streq(de->d_name, ".") || streq(de->d_name, ".."))
				continue;
			if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (!S_ISDIR(st.st_mode)) {
				if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT && !r)
					r = -errno;
				continue;
			}
			if (rm_skipped(&stack[depth], de->d_name))
				continue;
			if (st.st_dev != dev) {
				stack[depth].skip = strv_append(stack[depth].skip, de->d_name);
				if (!r)
					r = -EXDEV;
				continue;
			}
			down = xstrdup(de->d_name);
			break;
		}
		if (d)
			closedir(d);
		if (down) {
			int nfd = openat(fd, down, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0) {
				if (!r)
					r = -errno;
				stack[depth].skip = strv_append(stack[depth].skip, down);
				free(down);
				continue;
			}
			close(fd);
			fd = nfd;
			if (++depth == cap) {
				stack = xrealloc(stack, 2 * cap * sizeof(*stack));
				memset(stack + cap, 0, cap * sizeof(*stack));
				cap *= 2;
			}
			stack[depth].name = down;
			continue;
		}
		/* this directory holds nothing more that can go: up, and remove it */
		if (depth == 0)
			break;
		{
			int pfd = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			struct rm_level *l = &stack[depth];
			if (pfd < 0) {
				if (!r)
					r = -errno;
				break;
			}
			close(fd);
			fd = pfd;
			depth--;
			if (unlinkat(fd, l->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
				if (!r)
					r = -errno;
				stack[depth].skip = strv_append(stack[depth].skip, l->name);
			}
			free(l->name);
			strv_free(l->skip);
			*l = (struct rm_level){0};
		}
	}
	close(fd);
	for (size_t i = 0; i <= depth && i < cap; i++) {
		free(stack[i].name);
		strv_free(stack[i].skip);
	}
	free(stack);
	if (depth == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

int rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

uint64_t now_usec(int clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm): gmtime_r would
 * load /etc/localtime first, which costs a file read on the container start path. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

char *format_rfc3339(const struct timespec *ts)
{
	int64_t secs = ts->tv_sec, days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	unsigned m, d;
	int y;

	civil_from_days(days, &y, &m, &d);
	return xasprintf("%04d-%02u-%02uT%02d:%02d:%02d.%09ldZ", y, m, d, (int)(rem / 3600),
			 (int)(rem / 60 % 60), (int)(rem % 60), (long)ts->tv_nsec);
}
