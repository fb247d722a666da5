/* SPDX-License-Identifier: Apache-2.0 */
/* src/basic/dirsize.c: a writable layer's size, as moby's directory.Size counts it. */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>

#include "basic/basic.h"
#include "test.h"

static char root[] = "/tmp/berth-dirsize-XXXXXX";

static void put(int dfd, const char *name, size_t n)
{
	_cleanup_free_ char *buf = xzalloc(n + 1);
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(loop_write(fd, buf, n) == (ssize_t)n);
	close(fd);
}

static uint64_t size_of(const char *path)
{
	uint64_t n = 0;
	int r = dir_size_at(AT_FDCWD, path, &n);
	CHECK_INT(r, 0);
	return r < 0 ? (uint64_t)-1 : n;
}

static void test_counts_like_moby(void)
{
	_cleanup_free_ char *d = xasprintf("%s/flat", root);
	_cleanup_close_ int fd = -EBADF;

	CHECK(mkdir(d, 0755) == 0);
	CHECK_INT(size_of(d), 0); /* an empty layer */
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(fd, "a", 1000);
	CHECK(mkdirat(fd, "sub", 0755) == 0);
	put(fd, "sub/b", 3000);
	/* hard links: one inode, counted once */
	CHECK(linkat(fd, "sub/b", fd, "c", 0) == 0);
	CHECK(linkat(fd, "sub/b", fd, "sub/d", 0) == 0);
	/* a symlink counts its own size (the target's length), not the target's */
	CHECK(symlinkat("sub/b", fd, "l") == 0);
	/* whiteouts, fifos and empty files are 0 */
	CHECK(mknodat(fd, "wh", S_IFCHR | 0000, makedev(0, 0)) == 0);
	CHECK(mkfifoat(fd, "fifo", 0600) == 0);
	put(fd, "empty", 0);
	CHECK_INT(size_of(d), 1000 + 3000 + 5);
}

static void test_missing_and_symlink(void)
{
	_cleanup_free_ char *miss = xasprintf("%s/none", root);
	_cleanup_free_ char *ln = xasprintf("%s/link", root);
	uint64_t n = 7;

	CHECK_INT(dir_size_at(AT_FDCWD, miss, &n), -ENOENT);
	CHECK_INT(n, 7);
	/* the tree's root itself is not followed either */
	CHECK(symlink("/usr", ln) == 0);
	CHECK(dir_size_at(AT_FDCWD, ln, &n) < 0);
}

/* Thousands of levels: no recursion and two fds at a time, whatever the depth. */
static void test_deep_tree(void)
{
	_cleanup_free_ char *d = xasprintf("%s/deep", root);
	struct rlimit old, low = {.rlim_cur = 16};
	int fd;

	CHECK(mkdir(d, 0755) == 0);
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < 3000 && fd >= 0; i++) {
		int next;
		put(fd, "f", 3);
		CHECK(mkdirat(fd, "d", 0755) == 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	CHECK(fd >= 0);
	put(fd, "bottom", 11);
	close(fd);
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low.rlim_max = old.rlim_max;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	CHECK_INT(size_of(d), 3000 * 3 + 11);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_counts_like_moby);
	RUN(test_missing_and_symlink);
	RUN(test_deep_tree);
	rm_rf(root);
	return TEST_SUMMARY();
}
