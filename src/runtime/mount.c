/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's root filesystem: spec mounts, devices, the console,
 * pivot_root, masked and read-only paths, sysctls.
 *
 * Every path inside the rootfs is resolved relative to a dirfd with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) and mounts target the
 * resolved fd through /proc/self/fd/N, never a string joined onto the host
 * path, so symlinks planted in the image cannot send a mount or a device node
 * outside the rootfs (CVE-2021-30465, CVE-2026-41579, CVE-2025-52565).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <termios.h>

#include "internal.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

static int open_in_root(int rootfd, const char *path, uint64_t flags)
{
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return sys_openat2(rootfd, path, flags | O_CLOEXEC,
			   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int mkdir_open_in_root(int rootfd, const char *path, bool file, mode_t mode)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int parent = -EBADF;
	char *s, *slash;
	int fd;

	fd = open_in_root(rootfd, path, O_PATH);
	if (fd != -ENOENT)
		return fd;

	p = xstrdup(path);
	s = p;
	while (*s == '/')
		s++;
	parent = open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
	if (parent < 0)
		return parent;
	for (;;) {
		bool last;
		slash = strchr(s, '/');
		if (slash)
			*slash = 0;
		last = !slash || !slash[1 + strspn(slash + 1, "/")];
		if (*s && !streq(s, ".")) {
			/* Resolve this prefix from the root again, so symlinks stay confined. */
			_cleanup_close_ int next = open_in_root(rootfd, p, O_PATH);
			if (next == -ENOENT) {
				if (last && file) {
					int c = openat(parent, s,
						       O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY |
							   O_CLOEXEC,
						       mode & 0777);
					if (c < 0 && errno != EEXIST)
						return -errno;
					if (c >= 0)
						close(c);
				} else if (mkdirat(parent, s, mode) < 0 && errno != EEXIST) {
					return -errno;
				}
				next = open_in_root(rootfd, p, O_PATH);
				if (next == -ENOENT)
					/* A dangling symlink stands there. */
					return -ELOOP;
			}
			if (next < 0)
				return next;
			closep(&parent);
			parent = TAKE_FD(next);
		}
		if (!slash || last)
			break;
		*slash = '/';
		s = slash + 1;
	}
	return TAKE_FD(parent);
}

/* ---- mount options -------------------------------------------------------- */

enum opt_kind { OPT_FLAG, OPT_PROPAGATION, OPT_RECURSIVE, OPT_IGNORE };

static const struct {
	const char *name;
	enum opt_kind kind;
	bool clear;
	unsigned long flag; /* MS_* (or MOUNT_ATTR_* for recursive) */
} mount_opts[] = {
    {"defaults", OPT_IGNORE, false, 0},
    {"ro", OPT_FLAG, false, MS_RDONLY},
    {"rw", OPT_FLAG, true, MS_RDONLY},
    {"nosuid", OPT_FLAG, false, MS_NOSUID},
    {"suid", OPT_FLAG, true, MS_NOSUID},
    {"nodev", OPT_FLAG, false, MS_NODEV},
    {"dev", OPT_FLAG, true, MS_NODEV},
    {"noexec", OPT_FLAG, false, MS_NOEXEC},
    {"exec", OPT_FLAG, true, MS_NOEXEC},
    {"sync", OPT_FLAG, false, MS_SYNCHRONOUS},
    {"async", OPT_FLAG, true, MS_SYNCHRONOUS},
    {"dirsync", OPT_FLAG, false, MS_DIRSYNC},
    {"remount", OPT_FLAG, false, MS_REMOUNT},
    {"mand", OPT_FLAG, false, MS_MANDLOCK},
    {"nomand", OPT_FLAG, true, MS_MANDLOCK},
    {"atime", OPT_FLAG, true, MS_NOATIME},
    {"noatime", OPT_FLAG, false, MS_NOATIME},
    {"diratime", OPT_FLAG, true, MS_NODIRATIME},
    {"nodiratime", OPT_FLAG, false, MS_NODIRATIME},
    {"relatime", OPT_FLAG, false, MS_RELATIME},
    {"norelatime", OPT_FLAG, true, MS_RELATIME},
    {"strictatime", OPT_FLAG, false, MS_STRICTATIME},
    {"nostrictatime", OPT_FLAG, true, MS_STRICTATIME},
    {"lazytime", OPT_FLAG, false, MS_LAZYTIME},
    {"nolazytime", OPT_FLAG, true, MS_LAZYTIME},
    {"nosymfollow", OPT_FLAG, false, MS_NOSYMFOLLOW},
    {"symfollow", OPT_FLAG, true, MS_NOSYMFOLLOW},
    {"bind", OPT_FLAG, false, MS_BIND},
    {"rbind", OPT_FLAG, false, MS_BIND | MS_REC},
    {"private", OPT_PROPAGATION, false, MS_PRIVATE},
    {"rprivate", OPT_PROPAGATION, false, MS_PRIVATE | MS_REC},
    {"shared", OPT_PROPAGATION, false, MS_SHARED},
    {"rshared", OPT_PROPAGATION, false, MS_SHARED | MS_REC},
    {"slave", OPT_PROPAGATION, false, MS_SLAVE},
    {"rslave", OPT_PROPAGATION, false, MS_SLAVE | MS_REC},
    {"unbindable", OPT_PROPAGATION, false, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAGATION, false, MS_UNBINDABLE | MS_REC},
    {"rro", OPT_RECURSIVE, false, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_RECURSIVE, true, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_RECURSIVE, false, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_RECURSIVE, true, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_RECURSIVE, false, MOUNT_ATTR_NODEV},
    {"rdev", OPT_RECURSIVE, true, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_RECURSIVE, false, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_RECURSIVE, true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_RECURSIVE, false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_RECURSIVE, true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", OPT_RECURSIVE, false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_RECURSIVE, true, MOUNT_ATTR_NOSYMFOLLOW},
    {"tmpcopyup", OPT_IGNORE, false, 0},
    {"notmpcopyup", OPT_IGNORE, false, 0},
    {"copy-symlink", OPT_IGNORE, false, 0},
    {"nocopy", OPT_IGNORE, false, 0},
    {"z", OPT_IGNORE, false, 0},
    {"Z", OPT_IGNORE, false, 0},
};

struct mount_plan {
	unsigned long flags;
	unsigned long propagation[4];
	size_t n_prop;
	uint64_t attr_set, attr_clr;
	bool tmpcopyup;
	bool idmap;
	bool idmap_rec;
	char data[1024];
};

static int parse_options(char **opts, struct mount_plan *mp, char *errbuf, size_t errlen)
{
	memset(mp, 0, sizeof(*mp));
	for (char **o = opts; o && *o; o++) {
		bool found = false;
		if (streq(*o, "idmap") || streq(*o, "ridmap")) {
			mp->idmap = true;
			mp->idmap_rec = streq(*o, "ridmap");
			continue;
		}
		for (size_t i = 0; i < ELEMENTSOF(mount_opts); i++) {
			if (!streq(mount_opts[i].name, *o))
				continue;
			found = true;
			switch (mount_opts[i].kind) {
			case OPT_FLAG:
				if (mount_opts[i].clear)
					mp->flags &= ~mount_opts[i].flag;
				else
					mp->flags |= mount_opts[i].flag;
				break;
			case OPT_PROPAGATION:
				if (mp->n_prop < ELEMENTSOF(mp->propagation))
					mp->propagation[mp->n_prop++] = mount_opts[i].flag;
				break;
			case OPT_RECURSIVE:
				if (mount_opts[i].clear)
					mp->attr_clr |= mount_opts[i].flag;
				else
					mp->attr_set |= mount_opts[i].flag;
				break;
			case OPT_IGNORE:
				if (streq(*o, "tmpcopyup"))
					mp->tmpcopyup = true;
				break;
			}
			break;
		}
		if (found)
			continue;
		/* Everything else is filesystem data ("size=64m", "mode=755"). */
		size_t used = strlen(mp->data);
		if (used + strlen(*o) + 2 >= sizeof(mp->data))
			return errbuf_set(errbuf, errlen, E2BIG, "mount options too long");
		if (used)
			mp->data[used++] = ',';
		strcpy(mp->data + used, *o);
	}
	return 0;
}

static void fdpath(char *buf, size_t n, int fd)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

/* Flags the kernel locks on a mount seen from a user namespace: keep them on remount. */
static unsigned long locked_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Apply propagation and recursive attributes to the mount now at target. */
static int finish_mount(int rootfd, const char *dest, const struct mount_plan *mp, char *errbuf,
			size_t errlen)
{
	char p[64];
	_cleanup_close_ int fd = -EBADF;

	if (!mp->n_prop && !mp->attr_set && !mp->attr_clr)
		return 0;
	/* Reopen: the fd taken before mounting points below the new mount. */
	fd = open_in_root(rootfd, dest, O_PATH);
	if (fd < 0)
		return errbuf_set(errbuf, errlen, fd, "reopen mount '%s'", dest);
	fdpath(p, sizeof(p), fd);
	for (size_t i = 0; i < mp->n_prop; i++)
		if (mount(NULL, p, NULL, mp->propagation[i], NULL) < 0)
			return errbuf_set(errbuf, errlen, errno, "set propagation of '%s'", dest);
	if (mp->attr_set || mp->attr_clr) {
		struct mount_attr attr = {.attr_set = mp->attr_set, .attr_clr = mp->attr_clr};
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			    sizeof(attr)) < 0)
			return errbuf_set(errbuf, errlen, errno, "set recursive attributes of '%s'",
					  dest);
	}
	return 0;
}

static bool under(const char *path, const char *dir)
{
	const char *r = startswith(path, dir);
	return r && (*r == 0 || *r == '/');
}

/* Collapse "//" and a trailing "/" so destination checks compare clean paths. */
static void clean_dest(const char *in, char *out, size_t n)
{
	size_t o = 0;
	out[o++] = '/';
	for (const char *s = in; *s && o + 1 < n; s++) {
		if (*s == '/' && out[o - 1] == '/')
			continue;
		out[o++] = *s;
	}
	if (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = 0;
}

/* CVE-2019-16884 and friends: nothing may be mounted over /proc but procfs itself,
 * except the lxcfs-style files runc allows. */
static int check_proc_dest(const char *dest, const char *type, char *errbuf, size_t errlen)
{
	static const char *const allowed[] = {
	    "/proc/cpuinfo",
	    "/proc/diskstats",
	    "/proc/meminfo",
	    "/proc/stat",
	    "/proc/swaps",
	    "/proc/uptime",
	    "/proc/loadavg",
	    "/proc/slabinfo",
	    "/proc/sys/kernel/ns_last_pid",
	    "/proc/sys/crypto/fips_enabled",
	};
	if (!under(dest, "/proc"))
		return 0;
	if (streq(dest, "/proc")) {
		if (type && streq(type, "proc"))
			return 0;
		return errbuf_set(errbuf, errlen, EINVAL,
				  "%s cannot be mounted on /proc: only procfs is allowed there",
				  type ? type : "bind mount");
	}
	for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
		if (streq(dest, allowed[i]))
			return 0;
	return errbuf_set(errbuf, errlen, EINVAL, "mount destination '%s' is inside /proc", dest);
}

/* /proc and /sys must be real directories in the rootfs (CVE-2019-19921, CVE-2023-27561). */
static int check_not_symlink(int rootfd, const char *dest, char *errbuf, size_t errlen)
{
	struct stat st;
	if (fstatat(rootfd, dest + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		return errbuf_set(errbuf, errlen, EINVAL,
				  "'%s' must be mounted on an ordinary directory", dest);
	return 0;
}

static int mount_cgroup(struct rootfs_ctx *rc, int rootfd, const char *dest, int tfd,
			const struct mount_plan *mp, char *errbuf, size_t errlen)
{
	char tp[64];
	const struct cgroup *cg = rc->cg;
	const char *croot = cg ? cg->root : "/sys/fs/cgroup";
	const char *cpath = cg ? cg->path : "/";
	unsigned long f = mp->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	DIR *d;
	struct dirent *de;
	int r = 0;

	fdpath(tp, sizeof(tp), tfd);
	if (cg && cg->mode == CGROUP_MODE_V2) {
		if (oci_spec_find_ns(rc->spec, OCI_NS_CGROUP) &&
		    mount("cgroup2", tp, "cgroup2", f, NULL) == 0)
			return 0;
		_cleanup_free_ char *src = xasprintf("%s%s", croot, cpath);
		if (mount(src, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
			return errbuf_set(errbuf, errlen, errno, "bind cgroup '%s'", src);
		if (f & MS_RDONLY) {
			_cleanup_close_ int fd2 = open_in_root(rootfd, dest, O_PATH);
			char p2[64];
			fdpath(p2, sizeof(p2), fd2);
			if (mount(NULL, p2, NULL, MS_BIND | MS_REMOUNT | f | locked_flags(fd2),
				  NULL) < 0)
				return errbuf_set(errbuf, errlen, errno,
						  "remount cgroup read-only");
		}
		return 0;
	}

	/* v1 and hybrid: a tmpfs holding each hierarchy's container cgroup, as runc does. */
	if (mount("tmpfs", tp, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		return errbuf_set(errbuf, errlen, errno, "mount tmpfs on '%s'", dest);
	_cleanup_close_ int dirfd_ = open_in_root(rootfd, dest, O_PATH | O_DIRECTORY);
	if (dirfd_ < 0)
		return errbuf_set(errbuf, errlen, dirfd_, "open '%s'", dest);
	d = opendir(croot);
	if (!d)
		return errbuf_set(errbuf, errlen, errno, "open '%s'", croot);
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *host = xasprintf("%s/%s", croot, de->d_name);
		if (lstat(host, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[256];
			ssize_t n = readlink(host, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = 0;
				if (symlinkat(target, dirfd_, de->d_name) < 0 && errno != EEXIST)
					log_debug("symlink cgroup %s: %m", de->d_name);
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		_cleanup_free_ char *src = xasprintf("%s%s", host, cpath);
		if (access(src, F_OK) < 0) {
			free(src);
			src = xstrdup(host);
		}
		if (mkdirat(dirfd_, de->d_name, 0755) < 0 && errno != EEXIST) {
			r = errbuf_set(errbuf, errlen, errno, "mkdir cgroup '%s'", de->d_name);
			break;
		}
		_cleanup_close_ int sub =
		    openat(dirfd_, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		char sp[64];
		if (sub < 0) {
			r = errbuf_set(errbuf, errlen, errno, "open cgroup '%s'", de->d_name);
			break;
		}
		fdpath(sp, sizeof(sp), sub);
		if (mount(src, sp, NULL, MS_BIND | MS_REC, NULL) < 0) {
			r = errbuf_set(errbuf, errlen, errno, "bind cgroup '%s'", src);
			break;
		}
		if (f & MS_RDONLY) {
			_cleanup_close_ int again = openat(
			    dirfd_, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			fdpath(sp, sizeof(sp), again);
			if (mount(NULL, sp, NULL,
				  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
				      MS_NOEXEC,
				  NULL) < 0) {
				r = errbuf_set(errbuf, errlen, errno,
					       "remount cgroup '%s' read-only", de->d_name);
				break;
			}
		}
	}
	closedir(d);
	if (r < 0)
		return r;
	if (f & MS_RDONLY) {
		_cleanup_close_ int again = open_in_root(rootfd, dest, O_PATH | O_DIRECTORY);
		fdpath(tp, sizeof(tp), again);
		if (mount(NULL, tp, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=755") < 0)
			return errbuf_set(errbuf, errlen, errno, "remount '%s' read-only", dest);
	}
	return 0;
}

bool mount_wants_idmap(const struct oci_mount *m)
{
	if (m->n_uid_mappings || m->n_gid_mappings)
		return true;
	for (char **o = m->options; o && *o; o++)
		if (streq(*o, "idmap") || streq(*o, "ridmap"))
			return true;
	return false;
}

/* Clone the source mount detached, give it the user namespace's id mapping, and attach
 * it on the target by fd (kernel 5.12+). */
static int idmapped_bind(const char *src, int tfd, int usernsfd, bool recursive)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)usernsfd};
	unsigned int rec = recursive ? AT_RECURSIVE : 0;
	_cleanup_close_ int tree =
	    (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (tree < 0)
		return -errno;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0)
		return -errno;
	if (syscall(SYS_move_mount, tree, "", tfd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

static int do_mount(struct rootfs_ctx *rc, int rootfd, const struct oci_mount *m, char *errbuf,
		    size_t errlen)
{
	struct mount_plan mp;
	char dest[4096], tp[64];
	const char *type = m->type;
	bool bind;
	bool src_is_dir = true;
	_cleanup_free_ char *src = NULL;
	_cleanup_close_ int tfd = -EBADF;
	int r;

	clean_dest(m->destination, dest, sizeof(dest));
	r = parse_options(m->options, &mp, errbuf, errlen);
	if (r < 0)
		return r;
	bind = (mp.flags & MS_BIND) || (type && streq(type, "bind"));
	if (mount_wants_idmap(m) && !bind)
		return errbuf_set(errbuf, errlen, EINVAL,
				  "idmapped mount '%s': only bind mounts can be idmapped", dest);
	if (type && (streq(type, "bind") || streq(type, "none")))
		type = NULL;
	r = check_proc_dest(dest, bind ? NULL : type, errbuf, errlen);
	if (r < 0)
		return r;
	if (streq(dest, "/proc") || streq(dest, "/sys")) {
		r = check_not_symlink(rootfd, dest, errbuf, errlen);
		if (r < 0)
			return r;
	}

	if (bind) {
		struct stat st;
		const char *s = m->source ? m->source : "";
		src = s[0] == '/' ? xstrdup(s) : xasprintf("%s/%s", rc->bundle, s);
		if (stat(src, &st) < 0)
			return errbuf_set(errbuf, errlen, errno, "mount source '%s' for '%s'", src,
					  dest);
		src_is_dir = S_ISDIR(st.st_mode);
		mp.flags |= MS_BIND;
	}
	tfd = mkdir_open_in_root(rootfd, dest, !src_is_dir, 0755);
	if (tfd < 0)
		return errbuf_set(errbuf, errlen, tfd, "create mount destination '%s'", dest);
	fdpath(tp, sizeof(tp), tfd);

	if (type && streq(type, "cgroup"))
		return mount_cgroup(rc, rootfd, dest, tfd, &mp, errbuf, errlen);

	if (bind) {
		unsigned long rest = mp.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
		int usernsfd = rc->idmap_fds ? rc->idmap_fds[m - rc->spec->mounts] : -1;
		if (usernsfd >= 0) {
			r = idmapped_bind(src, tfd, usernsfd, (mp.flags & MS_REC) || mp.idmap_rec);
			if (r < 0)
				return errbuf_set(errbuf, errlen, r, "idmapped mount '%s' on '%s'",
						  src, dest);
		} else if (mount(src, tp, NULL, MS_BIND | (mp.flags & MS_REC), NULL) < 0) {
			return errbuf_set(errbuf, errlen, errno, "bind mount '%s' on '%s'", src,
					  dest);
		}
		if (rest) {
			_cleanup_close_ int nfd = open_in_root(rootfd, dest, O_PATH);
			char np[64];
			if (nfd < 0)
				return errbuf_set(errbuf, errlen, nfd, "reopen '%s'", dest);
			fdpath(np, sizeof(np), nfd);
			if (rc->userns)
				rest |= locked_flags(nfd) & ~(rest & MS_RDONLY ? 0 : MS_RDONLY);
			if (mount(NULL, np, NULL, MS_BIND | MS_REMOUNT | rest, NULL) < 0)
				return errbuf_set(errbuf, errlen, errno, "remount '%s'", dest);
		}
	} else {
		const char *fstype = type ? type : "none";
		const char *source = m->source ? m->source : fstype;
		if (mount(source, tp, fstype, mp.flags & ~MS_REMOUNT, mp.data[0] ? mp.data : NULL) <
		    0) {
			int e = errno;
			/* Without its own network namespace a user namespace cannot mount
			 * sysfs or mqueue: bind the host's, as runc does. */
			if (rc->userns && e == EPERM &&
			    (streq(fstype, "sysfs") || streq(fstype, "mqueue"))) {
				const char *hs = streq(fstype, "sysfs") ? "/sys" : "/dev/mqueue";
				if (mount(hs, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
					return errbuf_set(errbuf, errlen, errno,
							  "bind '%s' on '%s'", hs, dest);
				if (mp.flags & MS_RDONLY) {
					_cleanup_close_ int nfd =
					    open_in_root(rootfd, dest, O_PATH);
					char np[64];
					fdpath(np, sizeof(np), nfd);
					(void)mount(NULL, np, NULL,
						    MS_BIND | MS_REMOUNT | MS_RDONLY |
							locked_flags(nfd),
						    NULL);
				}
			} else {
				return errbuf_set(errbuf, errlen, e, "mount %s on '%s'", fstype,
						  dest);
			}
		}
	}
	return finish_mount(rootfd, dest, &mp, errbuf, errlen);
}

/* ---- devices ---------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned int major, minor;
} default_devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* Create one device node at path (relative to /dev) through devfd. */
static int make_device(struct rootfs_ctx *rc, int rootfd, const char *path, char type,
		       unsigned int major, unsigned int minor, mode_t mode, int64_t uid,
		       int64_t gid, char *errbuf, size_t errlen)
{
	_cleanup_free_ char *full = xasprintf("/dev/%s", path);
	_cleanup_free_ char *dir = xstrdup(full);
	_cleanup_close_ int dfd = -EBADF;
	char *slash = strrchr(dir, '/');
	const char *name = strrchr(full, '/') + 1;
	mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;

	*slash = 0;
	dfd = mkdir_open_in_root(rootfd, dir, false, 0755);
	if (dfd < 0)
		return errbuf_set(errbuf, errlen, dfd, "create '%s'", dir);
	/* Reopen as a real directory fd: mknodat refuses O_PATH on some kernels. */
	_cleanup_close_ int realdir = open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY);
	if (realdir < 0)
		return errbuf_set(errbuf, errlen, realdir, "open '%s'", dir);
	/* Whatever the image put there (a symlink to the host, a file) goes. */
	if (unlinkat(realdir, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
		return errbuf_set(errbuf, errlen, errno, "remove '%s'", full);

	if (!rc->userns || kind == S_IFIFO) {
		if (mknodat(realdir, name, kind | (mode & 07777), makedev(major, minor)) < 0)
			return errbuf_set(errbuf, errlen, errno, "mknod '%s'", full);
	} else {
		/* A user namespace cannot mknod: bind the host's node onto an empty file. */
		_cleanup_free_ char *host = xasprintf("/dev/%s", path);
		_cleanup_close_ int f = openat(
		    realdir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
		char tp[64];
		if (f < 0)
			return errbuf_set(errbuf, errlen, errno, "create '%s'", full);
		closep(&f);
		f = openat(realdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		fdpath(tp, sizeof(tp), f);
		if (mount(host, tp, NULL, MS_BIND, NULL) < 0)
			return errbuf_set(errbuf, errlen, errno, "bind device '%s'", host);
		return 0;
	}
	if ((uid >= 0 || gid >= 0) &&
	    fchownat(realdir, name, uid >= 0 ? (uid_t)uid : (uid_t)-1,
		     gid >= 0 ? (gid_t)gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
		return errbuf_set(errbuf, errlen, errno, "chown '%s'", full);
	return 0;
}

static bool spec_has_mount(const struct oci_spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		char d[4096];
		clean_dest(s->mounts[i].destination, d, sizeof(d));
		if (streq(d, dest))
			return true;
	}
	return false;
}

static bool dev_is_bind(const struct oci_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		char d[4096];
		clean_dest(s->mounts[i].destination, d, sizeof(d));
		if (!streq(d, "/dev"))
			continue;
		if (s->mounts[i].type && streq(s->mounts[i].type, "bind"))
			return true;
		for (char **o = s->mounts[i].options; o && *o; o++)
			if (streq(*o, "bind") || streq(*o, "rbind"))
				return true;
	}
	return false;
}

static int setup_devices(struct rootfs_ctx *rc, int rootfd, char *errbuf, size_t errlen)
{
	const struct oci_linux *l = &rc->spec->linux;
	_cleanup_close_ int devfd = -EBADF;
	mode_t old = umask(0);
	int r = 0;

	if (dev_is_bind(rc->spec))
		goto out;
	devfd = mkdir_open_in_root(rootfd, "/dev", false, 0755);
	if (devfd < 0) {
		r = errbuf_set(errbuf, errlen, devfd, "open /dev in the rootfs");
		goto out;
	}
	for (size_t i = 0; i < ELEMENTSOF(default_devices); i++) {
		bool in_spec = false;
		for (size_t j = 0; j < l->n_devices; j++)
			if (streq(l->devices[j].path + 5, default_devices[i].name))
				in_spec = true;
		if (in_spec)
			continue;
		r = make_device(rc, rootfd, default_devices[i].name, 'c', default_devices[i].major,
				default_devices[i].minor, 0666, -1, -1, errbuf, errlen);
		if (r < 0)
			goto out;
	}
	for (size_t j = 0; j < l->n_devices; j++) {
		const struct oci_device *d = &l->devices[j];
		mode_t mode = d->file_mode.set ? (mode_t)d->file_mode.v : 0666;
		r = make_device(rc, rootfd, d->path + 5, d->type[0] == 'u' ? 'c' : d->type[0],
				(unsigned int)d->major, (unsigned int)d->minor, mode,
				d->uid.set ? (int64_t)d->uid.v : -1,
				d->gid.set ? (int64_t)d->gid.v : -1, errbuf, errlen);
		if (r < 0)
			goto out;
	}
	{
		static const struct {
			const char *target, *name;
		} links[] = {
		    {"/proc/self/fd", "fd"},	   {"/proc/self/fd/0", "stdin"},
		    {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		    {"/proc/kcore", "core"},
		};
		_cleanup_close_ int realdev = open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
		if (realdev < 0) {
			r = errbuf_set(errbuf, errlen, realdev, "open /dev");
			goto out;
		}
		for (size_t i = 0; i < ELEMENTSOF(links); i++)
			if (symlinkat(links[i].target, realdev, links[i].name) < 0 &&
			    errno != EEXIST) {
				r = errbuf_set(errbuf, errlen, errno, "symlink /dev/%s",
					       links[i].name);
				goto out;
			}
		if (spec_has_mount(rc->spec, "/dev/pts")) {
			(void)unlinkat(realdev, "ptmx", 0);
			if (symlinkat("pts/ptmx", realdev, "ptmx") < 0) {
				r = errbuf_set(errbuf, errlen, errno, "symlink /dev/ptmx");
				goto out;
			}
		}
	}
out:
	umask(old);
	return r;
}

/* ---- the console ------------------------------------------------------------ */

int terminal_setup(int rootfd, int console_sock, int sync_fd, const struct oci_process *p,
		   char *errbuf, size_t errlen)
{
	_cleanup_close_ int master = -EBADF, slave = -EBADF;
	struct stat st;
	struct statfs sf;
	int unlock = 0;

	master = open_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0)
		return errbuf_set(errbuf, errlen, master, "open /dev/pts/ptmx");
	/* It must be the devpts instance's own ptmx, not something the image planted. */
	if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2 || fstatfs(master, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC)
		return errbuf_set(errbuf, errlen, EPERM, "/dev/pts/ptmx is not a devpts ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return errbuf_set(errbuf, errlen, errno, "unlock pty");
	/* The peer by fd, never by a path in the container (CVE-2025-52565). */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return errbuf_set(errbuf, errlen, errno, "open pty peer");
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_size.height,
				     .ws_col = (unsigned short)p->console_size.width};
		(void)ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (console_sock >= 0) {
		int r = send_fd(console_sock, master, "/dev/ptmx");
		if (r < 0)
			return errbuf_set(errbuf, errlen, r,
					  "send pty master to the console socket");
	} else if (sync_fd >= 0) {
		int r = sync_send_fd(sync_fd, SYNC_PTY, master);
		if (r < 0)
			return errbuf_set(errbuf, errlen, r, "send pty master");
	}
	if (setsid() < 0 && errno != EPERM)
		return errbuf_set(errbuf, errlen, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return errbuf_set(errbuf, errlen, errno, "set controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return errbuf_set(errbuf, errlen, errno, "dup2 pty");
	return TAKE_FD(slave);
}

static int setup_console(struct rootfs_ctx *rc, int rootfd, char *errbuf, size_t errlen)
{
	_cleanup_close_ int slave = -EBADF, devfd = -EBADF, cfd = -EBADF;
	char sp[64], cp[64];

	slave = terminal_setup(rootfd, rc->console_socket, rc->sync_fd, rc->spec->process, errbuf,
			       errlen);
	if (slave < 0)
		return slave;
	/* /dev/console: an empty file created O_EXCL|O_NOFOLLOW with the pty bound on it. */
	devfd = open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
	if (devfd < 0)
		return errbuf_set(errbuf, errlen, devfd, "open /dev");
	if (unlinkat(devfd, "console", 0) < 0 && errno != ENOENT)
		return errbuf_set(errbuf, errlen, errno, "remove /dev/console");
	cfd = openat(devfd, "console", O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
	if (cfd < 0)
		return errbuf_set(errbuf, errlen, errno, "create /dev/console");
	fdpath(sp, sizeof(sp), slave);
	fdpath(cp, sizeof(cp), cfd);
	if (mount(sp, cp, NULL, MS_BIND, NULL) < 0)
		return errbuf_set(errbuf, errlen, errno, "bind the pty on /dev/console");
	return 0;
}

/* ---- the root ------------------------------------------------------------ */

static unsigned long propagation_flags(const char *s)
{
	if (!s)
		return MS_SLAVE | MS_REC;
	if (streq(s, "private"))
		return MS_PRIVATE;
	if (streq(s, "rprivate"))
		return MS_PRIVATE | MS_REC;
	if (streq(s, "slave"))
		return MS_SLAVE;
	if (streq(s, "rslave"))
		return MS_SLAVE | MS_REC;
	if (streq(s, "shared"))
		return MS_SHARED;
	if (streq(s, "rshared"))
		return MS_SHARED | MS_REC;
	if (streq(s, "unbindable"))
		return MS_UNBINDABLE;
	return MS_UNBINDABLE | MS_REC;
}

int rootfs_setup(struct rootfs_ctx *rc, char *errbuf, size_t errlen)
{
	const struct oci_spec *s = rc->spec;
	_cleanup_close_ int rootfd = -EBADF, devnull = -EBADF;
	struct stat st;
	int r;

	/* The host's /dev/null for masked paths, verified now, before anything of the
	 * container's can stand in for it. */
	devnull = open("/dev/null", O_PATH | O_CLOEXEC);
	if (devnull < 0 || fstat(devnull, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 3))
		return errbuf_set(errbuf, errlen, EPERM, "host /dev/null is not the null device");

	if (rc->new_mntns) {
		unsigned long prop = propagation_flags(s->linux.rootfs_propagation);
		/* A shared root would leak the setup's mounts to the host: stay a slave until
		 * rootfs_finish() applies the requested propagation. */
		if (prop & MS_SHARED)
			prop = MS_SLAVE | MS_REC;
		if (mount(NULL, "/", NULL, prop, NULL) < 0)
			return errbuf_set(errbuf, errlen, errno, "set propagation of /");
		if (mount(rc->rootfs, rc->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
			return errbuf_set(errbuf, errlen, errno, "bind rootfs '%s'", rc->rootfs);
	}
	rootfd = open(rc->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errbuf_set(errbuf, errlen, errno, "open rootfs '%s'", rc->rootfs);

	if (rc->new_mntns) {
		for (size_t i = 0; i < s->n_mounts; i++) {
			r = do_mount(rc, rootfd, &s->mounts[i], errbuf, errlen);
			if (r < 0)
				return r;
		}
		r = setup_devices(rc, rootfd, errbuf, errlen);
		if (r < 0)
			return r;
		/* A missing cwd is created, as runc and Docker do. */
		if (s->process && s->process->cwd) {
			int cfd = mkdir_open_in_root(rootfd, s->process->cwd, false, 0755);
			if (cfd >= 0)
				close(cfd);
		}
		if (s->process && s->process->terminal) {
			r = setup_console(rc, rootfd, errbuf, errlen);
			if (r < 0)
				return r;
		}
	} else if (s->process && s->process->terminal) {
		r = setup_console(rc, rootfd, errbuf, errlen);
		if (r < 0)
			return r;
	}
	/*
	 * Masked files get the host's /dev/null, checked above. After pivot_root the host's
	 * mounts are gone, so clone the node's mount now, as a detached tree that the first
	 * masked file gets with move_mount; the others are bound from it, attached by then.
	 * One clone, not one per masked path: each clone left unattached (a masked path
	 * that is missing or a directory) costs an RCU grace period when it is closed.
	 */
	rc->null_tree = -EBADF;
	rc->null_attached = false;
	if (rc->new_mntns && s->linux.masked_paths && s->linux.masked_paths[0])
		rc->null_tree = (int)syscall(SYS_open_tree, devnull, "",
					     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	rc->devnull_fd = TAKE_FD(devnull);
	return 0;
}

int rootfs_pivot(struct rootfs_ctx *rc, char *errbuf, size_t errlen)
{
	_cleanup_close_ int newroot = open(rc->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (newroot < 0)
		return errbuf_set(errbuf, errlen, errno, "open rootfs");
	if (fchdir(newroot) < 0)
		return errbuf_set(errbuf, errlen, errno, "chdir to rootfs");
	if (rc->no_pivot && rc->new_mntns) {
		/* --no-pivot (for roots on a ramfs, where pivot_root fails): move the rootfs
		 * over / and chroot into it. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return errbuf_set(errbuf, errlen, errno, "move rootfs to /");
		if (chroot(".") < 0)
			return errbuf_set(errbuf, errlen, errno, "chroot");
		return chdir("/") < 0 ? errbuf_set(errbuf, errlen, errno, "chdir /") : 0;
	}
	if (!rc->new_mntns) {
		if (chroot(".") < 0)
			return errbuf_set(errbuf, errlen, errno, "chroot");
		return chdir("/") < 0 ? errbuf_set(errbuf, errlen, errno, "chdir /") : 0;
	}
	/* pivot_root(".", ".") stacks the old root on top of the new one; detach it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return errbuf_set(errbuf, errlen, errno, "pivot_root");
	/* The old root is a slave already (rootfs_setup made / rslave or rprivate), so its
	 * detach cannot propagate to the host; making "." a slave here would also turn
	 * the container's own shared mounts into slaves. */
	if (umount2(".", MNT_DETACH) < 0)
		return errbuf_set(errbuf, errlen, errno, "detach old root");
	if (chdir("/") < 0)
		return errbuf_set(errbuf, errlen, errno, "chdir /");
	return 0;
}

static int mask_path(struct rootfs_ctx *rc, const char *path, char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	char tp[64], np[64];

	fd = sys_openat2(AT_FDCWD, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_NO_MAGICLINKS);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return errbuf_set(errbuf, errlen, fd, "open masked path '%s'", path);
	if (fstat(fd, &st) < 0)
		return errbuf_set(errbuf, errlen, errno, "stat masked path '%s'", path);
	fdpath(tp, sizeof(tp), fd);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", tp, "tmpfs", MS_RDONLY, "size=0,mode=755") < 0)
			return errbuf_set(errbuf, errlen, errno, "mask '%s'", path);
		return 0;
	}
	if (rc->null_tree >= 0 && !rc->null_attached) {
		if (syscall(SYS_move_mount, rc->null_tree, "", fd, "",
			    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return errbuf_set(errbuf, errlen, errno, "mask '%s'", path);
		rc->null_attached = true;
		return 0;
	}
	/* The attached clone (or, without open_tree before Linux 5.2, the host's node while
	 * it is still reachable), bound by fd. */
	fdpath(np, sizeof(np), rc->null_tree >= 0 ? rc->null_tree : rc->devnull_fd);
	if (mount(np, tp, NULL, MS_BIND, NULL) < 0)
		return errbuf_set(errbuf, errlen, errno, "mask '%s'", path);
	return 0;
}

static int readonly_path(const char *path, char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = -EBADF, again = -EBADF;
	char tp[64];

	fd = sys_openat2(AT_FDCWD, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_NO_MAGICLINKS);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return errbuf_set(errbuf, errlen, fd, "open read-only path '%s'", path);
	fdpath(tp, sizeof(tp), fd);
	if (mount(tp, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errbuf_set(errbuf, errlen, errno, "bind read-only path '%s'", path);
	again = sys_openat2(AT_FDCWD, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_NO_MAGICLINKS);
	if (again < 0)
		return errbuf_set(errbuf, errlen, again, "reopen read-only path '%s'", path);
	fdpath(tp, sizeof(tp), again);
	if (mount(NULL, tp, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(again), NULL) < 0)
		return errbuf_set(errbuf, errlen, errno, "remount '%s' read-only", path);
	return 0;
}

static int write_sysctl(int procsys, const char *key, const char *value, char *errbuf,
			size_t errlen)
{
	char path[512];
	_cleanup_close_ int fd = -EBADF;
	struct statfs sf;

	if ((size_t)snprintf(path, sizeof(path), "%s", key) >= sizeof(path))
		return errbuf_set(errbuf, errlen, ENAMETOOLONG, "sysctl '%s'", key);
	for (char *p = path; *p; p++)
		if (*p == '.')
			*p = '/';
	/* CVE-2025-52881: the write must land in this procfs, whatever was mounted or
	 * linked around it: beneath /proc/sys, no symlinks, no mount crossings. */
	fd = sys_openat2(procsys, path, O_WRONLY | O_CLOEXEC,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			     RESOLVE_NO_XDEV);
	if (fd < 0)
		return errbuf_set(errbuf, errlen, fd, "open sysctl '%s'", key);
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return errbuf_set(errbuf, errlen, EXDEV, "sysctl '%s' is not on procfs", key);
	if (write(fd, value, strlen(value)) < 0)
		return errbuf_set(errbuf, errlen, errno, "write sysctl '%s'", key);
	return 0;
}

static int write_sysctls(const struct oci_spec *s, char *errbuf, size_t errlen)
{
	_cleanup_close_ int procsys = -EBADF;
	struct statfs sf;

	if (!s->linux.sysctl.n)
		return 0;
	procsys = open("/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (procsys < 0)
		return errbuf_set(errbuf, errlen, errno, "open /proc/sys");
	if (fstatfs(procsys, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return errbuf_set(errbuf, errlen, EXDEV, "/proc/sys is not on procfs");
	for (size_t i = 0; i < s->linux.sysctl.n; i++) {
		int r = write_sysctl(procsys, s->linux.sysctl.items[i].key,
				     s->linux.sysctl.items[i].value, errbuf, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

int rootfs_finish(struct rootfs_ctx *rc, char *errbuf, size_t errlen)
{
	const struct oci_spec *s = rc->spec;
	int r;

	/* Before the read-only paths: /proc/sys is one of them. */
	r = write_sysctls(s, errbuf, errlen);
	if (r < 0)
		return r;
	if (rc->new_mntns) {
		for (char **p = s->linux.masked_paths; p && *p; p++) {
			r = mask_path(rc, *p, errbuf, errlen);
			if (r < 0)
				return r;
		}
		for (char **p = s->linux.readonly_paths; p && *p; p++) {
			r = readonly_path(*p, errbuf, errlen);
			if (r < 0)
				return r;
		}
	}
	if (rc->new_mntns && s->root.readonly) {
		_cleanup_close_ int fd = open("/", O_PATH | O_CLOEXEC);
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(fd),
			  NULL) < 0)
			return errbuf_set(errbuf, errlen, errno, "remount root read-only");
	}
	if (rc->new_mntns && s->linux.rootfs_propagation &&
	    mount(NULL, "/", NULL, propagation_flags(s->linux.rootfs_propagation), NULL) < 0)
		return errbuf_set(errbuf, errlen, errno, "set root propagation");
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return errbuf_set(errbuf, errlen, errno, "sethostname");
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return errbuf_set(errbuf, errlen, errno, "setdomainname");
	if (s->linux.personality) {
		unsigned long pers =
		    streq(s->linux.personality->domain, "LINUX32") ? PER_LINUX32 : PER_LINUX;
		if (personality(pers) < 0)
			return errbuf_set(errbuf, errlen, errno, "personality");
	}
	closep(&rc->devnull_fd);
	closep(&rc->null_tree);
	return 0;
}
