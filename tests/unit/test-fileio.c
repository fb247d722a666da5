/* SPDX-License-Identifier: Apache-2.0 */
/* src/basic/fileio.c: rm_rf on trees a container can make. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/basic.h"
#include "test.h"

static char *tmpdir(void)
{
	char *t = xstrdup("/tmp/berth-rmrf-XXXXXX");
	if (!mkdtemp(t))
		abort();
	return t;
}

/* A chain of depth directories below top, with a file and a symlink at each level. */
static void make_deep(const char *top, int depth)
{
	int fd = open(top, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < depth && fd >= 0; i++) {
		int f = openat(fd, "file", O_CREAT | O_WRONLY, 0600), nfd;
		if (f >= 0)
			close(f);
		if (symlinkat("/etc/passwd", fd, "link") < 0)
			abort();
		mkdirat(fd, "d", 0700);
		nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = nfd;
	}
	if (fd >= 0)
		close(fd);
}

static void test_rm_rf_deep_tree_few_fds(void)
{
	_cleanup_free_ char *top = tmpdir();
	struct rlimit old, low = {.rlim_cur = 16};
	struct stat st;

	make_deep(top, 5000);
	getrlimit(RLIMIT_NOFILE, &old);
	low.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_NOFILE, &low); /* a level-per-fd walk fails at 16 */
	CHECK_INT(rm_rf(top), 0);
	setrlimit(RLIMIT_NOFILE, &old);
	CHECK(lstat(top, &st) < 0);
	CHECK(stat("/etc/passwd", &st) == 0); /* symlinks are removed, not followed */
	if (lstat(top, &st) == 0) {	      /* failed: leave nothing behind all the same */
		_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", top);
		CHECK(system(cmd) == 0);
	}
}

static void test_rm_rf_wide_and_missing(void)
{
	_cleanup_free_ char *top = tmpdir();
	struct stat st;
	for (int i = 0; i < 200; i++) {
		_cleanup_free_ char *p = xasprintf("%s/d%d", top, i), *f = xasprintf("%s/f", p);
		mkdir(p, 0700);
		close(open(f, O_CREAT | O_WRONLY, 0600));
	}
	CHECK_INT(rm_rf(top), 0);
	CHECK(lstat(top, &st) < 0);
	CHECK_INT(rm_rf(top), 0); /* gone already: nothing to do */
	{
		_cleanup_free_ char *f = xasprintf("%s.file", top);
		close(open(f, O_CREAT | O_WRONLY, 0600));
		CHECK_INT(rm_rf(f), 0);
		CHECK(lstat(f, &st) < 0);
	}
}

int main(void)
{
	RUN(test_rm_rf_deep_tree_few_fds);
	RUN(test_rm_rf_wide_and_missing);
	return TEST_SUMMARY();
}
