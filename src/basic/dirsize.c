/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The apparent size of a directory tree, counted as moby's directory.Size counts a
 * container's writable layer: the st_size of everything but directories, each inode once.
 *
 * The trees walked are written by containers, so the walk assumes nothing about them: it
 * holds at most two directory fds at a time and no recursion (a tree thousands of levels
 * deep costs memory for the names of its pending directories, not fds or stack), opens
 * each level relative to the one above with O_NOFOLLOW, climbs back through ".." only
 * after checking that it leads to the directory it came from, and leaves other
 * filesystems alone.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "basic.h"

/* Inodes with more than one link already counted: open addressing, 0 marks a free slot. */
struct ino_set {
	uint64_t *v;
	size_t cap, n;
	bool zero; /* inode 0 seen */
};

static bool ino_set_add(struct ino_set *s, uint64_t ino)
{
	if (ino == 0) {
		bool had = s->zero;
		s->zero = true;
		return !had;
	}
	if (2 * (s->n + 1) > s->cap) {
		struct ino_set g = {.cap = s->cap ? 2 * s->cap : 64, .zero = s->zero};
		g.v = xnew0(uint64_t, g.cap);
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i])
				ino_set_add(&g, s->v[i]);
		free(s->v);
		*s = g;
	}
	for (size_t i = (ino * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->v[i] == ino)
			return false;
		if (!s->v[i]) {
			s->v[i] = ino;
			s->n++;
			return true;
		}
	}
}

/* One directory of the walk: who it is, and the subdirectories still to visit. */
struct level {
	dev_t dev;
	ino_t ino;
	char **subdirs;
	size_t n, next;
};

static void level_release(struct level *l)
{
	for (size_t i = l->next; i < l->n; i++)
		free(l->subdirs[i]);
	free(l->subdirs);
	*l = (struct level){0};
}

/* Count the non-directories of the directory open at fd and note its subdirectories. */
static void scan(int fd, dev_t dev, struct level *l, struct ino_set *seen, uint64_t *sum)
{
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		/* Gone meanwhile: not counted, as moby ignores what disappears during a walk. */
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			/* A mount point: another filesystem. (Only directories are checked:
			 * overlayfs may report the st_dev of a lower layer for its files.) */
			if (st.st_dev != dev)
				continue;
			if (l->n == cap) {
				cap = cap ? 2 * cap : 8;
				l->subdirs = xrealloc(l->subdirs, cap * sizeof(char *));
			}
			l->subdirs[l->n++] = xstrdup(de->d_name);
			continue;
		}
		if (st.st_size <= 0)
			continue;
		if (st.st_nlink > 1 && !ino_set_add(seen, (uint64_t)st.st_ino))
			continue;
		*sum += (uint64_t)st.st_size;
	}
	closedir(d);
}

int dir_size_at(int dirfd, const char *path, uint64_t *ret)
{
	_cleanup_close_ int cur = -EBADF;
	struct ino_set seen = {0};
	struct level *stack = NULL;
	size_t depth = 0, cap = 0;
	uint64_t sum = 0;
	struct stat st;
	dev_t dev;

	cur = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	if (fstat(cur, &st) < 0)
		return -errno;
	dev = st.st_dev;
	cap = 16;
	stack = xnew0(struct level, cap);
	stack[0] = (struct level){.dev = st.st_dev, .ino = st.st_ino};
	scan(cur, dev, &stack[0], &seen, &sum);
	for (;;) {
		struct level *top = &stack[depth];

		if (top->next < top->n) {
			_cleanup_free_ char *name = top->subdirs[top->next++];
			int fd = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				continue; /* gone, or no longer a directory */
			if (fstat(fd, &st) < 0 || st.st_dev != dev) {
				close(fd);
				continue;
			}
			close(cur);
			cur = fd;
			if (++depth == cap) {
				cap *= 2;
				stack = xrealloc(stack, cap * sizeof(*stack));
			}
			stack[depth] = (struct level){.dev = st.st_dev, .ino = st.st_ino};
			scan(cur, dev, &stack[depth], &seen, &sum);
			continue;
		}
		level_release(top);
		if (depth == 0)
			break;
		depth--;
		{
			int fd = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			/* Moved while we were inside it: ".." is not where we came from. Stop
			 * with what was counted rather than walk a part twice or leave the tree. */
			if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != stack[depth].dev ||
			    st.st_ino != stack[depth].ino) {
				if (fd >= 0)
					close(fd);
				for (size_t i = 0; i <= depth; i++)
					level_release(&stack[i]);
				break;
			}
			close(cur);
			cur = fd;
		}
	}
	free(stack);
	free(seen.v);
	*ret = sum;
	return 0;
}
