/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer extraction against hostile tars: the case list of containerd's TestBreakouts
 * (pkg/archive/tar_test.go) plus go-archive's invalid whiteout names and a bomb limit.
 * Each tar is written here with libarchive, extracted into a fresh dest/ whose siblings are
 * canaries; afterwards everything outside dest/ must be unchanged.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/image.h"
#include "test.h"

enum kind { F, D, L, H, END };
struct ent {
	enum kind k;
	const char *name;
	const char *arg; /* content, or link target */
	mode_t mode;
};

static int make_tar(const struct ent *e)
{
	int fd = memfd_create("tar", MFD_CLOEXEC);
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	archive_write_open_fd(a, fd);
	for (; e->k != END; e++) {
		struct archive_entry *x = archive_entry_new();
		archive_entry_copy_pathname(x, e->name);
		archive_entry_set_perm(x, e->mode ? e->mode : 0644);
		archive_entry_set_mtime(x, 1000000000, 0);
		switch (e->k) {
		case F:
			archive_entry_set_filetype(x, AE_IFREG);
			archive_entry_set_size(x, e->arg ? strlen(e->arg) : 0);
			break;
		case D:
			archive_entry_set_filetype(x, AE_IFDIR);
			break;
		case L:
			archive_entry_set_filetype(x, AE_IFLNK);
			archive_entry_copy_symlink(x, e->arg);
			break;
		case H:
			archive_entry_set_filetype(x, AE_IFREG);
			archive_entry_copy_hardlink(x, e->arg);
			break;
		default:
			break;
		}
		archive_write_header(a, x);
		if (e->k == F && e->arg)
			archive_write_data(a, e->arg, strlen(e->arg));
		archive_entry_free(x);
	}
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static char base[] = "/tmp/berth-tar-XXXXXX";
static int dest_fd = -1;

/* A fingerprint of everything under base except dest/: names, modes, sizes, contents. */
static void fingerprint(int dfd, const char *prefix, FILE *out)
{
	_cleanup_close_ int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	struct dirent *de;
	char *names[256];
	size_t n = 0;

	fd = -1;
	while (d && (de = readdir(d)) && n < 256)
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
		    !(streq(prefix, "") && streq(de->d_name, "dest")))
			names[n++] = xstrdup(de->d_name);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW);
		fprintf(out, "%s%s %o %ld %ld\n", prefix, names[i], st.st_mode, (long)st.st_size,
			(long)st.st_mtime);
		if (S_ISREG(st.st_mode)) {
			char *buf = NULL;
			size_t len;
			if (read_file_at(dirfd(d), names[i], 1 << 20, &buf, &len) >= 0)
				fprintf(out, "%s\n", buf);
			free(buf);
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_free_ char *p = xasprintf("%s%s/", prefix, names[i]);
			_cleanup_close_ int sub =
			    openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			fingerprint(sub, p, out);
		}
		free(names[i]);
	}
	if (d)
		closedir(d);
}

static char *snapshot(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	_cleanup_close_ int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	fingerprint(fd, "", f);
	if (stat("/etc/passwd", &st) == 0)
		fprintf(f, "passwd %o %d %ld\n", st.st_mode, st.st_uid, (long)st.st_mtime);
	fclose(f);
	return buf;
}

static int in_root(const char *p, int flags)
{
	struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	return syscall(SYS_openat2, dest_fd, p, &how, sizeof(how));
}

static bool same_file(const char *a, const char *b)
{
	_cleanup_close_ int x = in_root(a, O_RDONLY), y = in_root(b, O_RDONLY);
	struct stat s1, s2;
	return x >= 0 && y >= 0 && fstat(x, &s1) == 0 && fstat(y, &s2) == 0 &&
	       s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev;
}

static bool exists(const char *p)
{
	_cleanup_close_ int x = in_root(p, O_PATH);
	return x >= 0;
}

static bool is_whiteout(const char *p)
{
	struct stat st;
	return fstatat(dest_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(0, 0);
}

static bool not_regular(const char *p)
{
	_cleanup_close_ int x = in_root(p, O_PATH);
	struct stat st;
	return x < 0 || (fstat(x, &st) == 0 && !S_ISREG(st.st_mode));
}

struct tcase {
	const char *name;
	struct ent ents[8];
	int err;
	bool (*check)(void);
};

static bool c_abs(void)
{
	return same_file("localetc/unfortunate-file", "etc/unfortunate-file");
}
static bool c_passwd_local(void)
{
	return same_file("localpasswd", "etc/passwd");
}
static bool c_breakouts(void)
{
	return same_file("breakouts/mypasswd", "etc/passwd");
}
static bool c_localetc_local(void)
{
	return same_file("localetc/localpasswd", "etc/passwd");
}
static bool c_dup(void)
{
	return same_file("localpasswd-dup", "etc/passwd");
}
static bool c_symhard(void)
{
	return same_file("localpasswd", "etc/passwd") && same_file("localpasswd", "passwdlink");
}
static bool c_wh_symlink(void)
{
	return exists("etc/passwd") && is_whiteout("localetc");
}
static bool c_wh_symlink_path(void)
{
	return exists("etc/passwd") && is_whiteout("etc/whitedout");
}
static bool c_wh_dirname(void)
{
	return exists("etc/passwd") && exists(".wh.etc/somefile");
}
static bool c_wh_dead(void)
{
	return exists("etc/passwd");
}
static bool c_wh_rel(void)
{
	return is_whiteout("etc") && not_regular("etc/passwd");
}
static bool c_chmod(void)
{
	struct stat st;
	_cleanup_free_ char *p = xasprintf("%s/perm-test", base);
	return stat(p, &st) == 0 && (st.st_mode & 07777) == 0644 && exists("localpasswd");
}
static bool c_dotdot(void)
{
	return exists("outside") && exists("etc/x");
}
static bool c_opaque(void)
{
	char v[4] = {0};
	_cleanup_close_ int fd = in_root("d", O_RDONLY | O_DIRECTORY);
	return fd >= 0 && fgetxattr(fd, "trusted.overlay.opaque", v, 3) == 1 && v[0] == 'y' &&
	       exists("d/keep");
}

static char perm_target[128];

static const struct tcase cases[] = {
    {"SymlinkAbsolute",
     {{D, "etc", 0, 0755},
      {L, "localetc", "/etc"},
      {F, "/localetc/unfortunate-file", "bad"},
      {END}},
     0,
     c_abs},
    {"SymlinkUpAndOut",
     {{D, "etc", 0, 0755},
      {D, "dummy", 0, 0755},
      {L, "localetc", "/dummy/../etc"},
      {F, "/localetc/unfortunate-file", "bad"},
      {END}},
     0,
     c_abs},
    {"SymlinkMultipleAbsolute",
     {{D, "etc", 0, 0755},
      {D, "dummy", 0, 0755},
      {L, "/dummy/etc", "/etc"},
      {L, "localetc", "/dummy/etc"},
      {F, "/dummy/etc/unfortunate-file", "bad"},
      {END}},
     0,
     c_abs},
    {"SymlinkMultipleRelative",
     {{D, "etc", 0, 0755},
      {D, "dummy", 0, 0755},
      {L, "/dummy/etc", "../../../../../../../../../../../../../../../../etc"},
      {L, "localetc", "./dummy/etc"},
      {F, "/dummy/etc/unfortunate-file", "bad"},
      {END}},
     0,
     c_abs},
    {"SymlinkEmptyFile",
     {{D, "etc", 0, 0755}, {L, "localetc", "/etc"}, {F, "/localetc/unfortunate-file", NULL}, {END}},
     0,
     c_abs},
    {"HardlinkRelative",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {D, "breakouts", 0, 0700},
      {L, "breakouts/d1", "../../etc"},
      {H, "breakouts/mypasswd", "/breakouts/d1/passwd"},
      {END}},
     0,
     c_breakouts},
    {"HardlinkDownAndOut",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {D, "breakouts", 0, 0700},
      {D, "downandout", 0, 0755},
      {L, "breakouts/d1", "../downandout/../../../../../../../../../../../../../etc"},
      {H, "breakouts/mypasswd", "/breakouts/d1/passwd"},
      {END}},
     0,
     c_breakouts},
    {"HardlinkAbsolute",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "localetc", "/etc"},
      {H, "localpasswd", "/localetc/passwd"},
      {END}},
     0,
     c_passwd_local},
    {"HardlinkRelativeLong",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "localetc", "../../../../../../../etc"},
      {H, "localpasswd", "/localetc/passwd"},
      {END}},
     0,
     c_passwd_local},
    {"HardlinkRelativeUpAndOut",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "localetc", "upandout/../../../etc"},
      {H, "localpasswd", "/localetc/passwd"},
      {END}},
     /* the kernel resolves "upandout/.." only when upandout exists (Go's lexical walk in
      * containerd does not care): the target does not resolve, nothing is written */
     -ENOENT,
     NULL},
    {"HardlinkDirectRelative",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {H, "localpasswd", "../../../../../etc/passwd"},
      {END}},
     0,
     c_passwd_local},
    {"HardlinkDirectAbsolute",
     {{D, "etc", 0, 0770}, {F, "/etc/passwd", "inside"}, {H, "localpasswd", "/etc/passwd"}, {END}},
     0,
     c_passwd_local},
    {"SymlinkParentDirectory",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "..", "/etc/"},
      {H, "localpasswd", "/etc/passwd"},
      {END}},
     0,
     c_passwd_local},
    {"SymlinkEmptyFilename",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "", "/etc/"},
      {H, "localpasswd", "/etc/passwd"},
      {END}},
     0,
     c_passwd_local},
    {"SymlinkParentRelative",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "localetc/..", "/etc/"},
      {H, "localpasswd", "/etc/passwd"},
      {END}},
     0,
     c_passwd_local},
    {"SymlinkSlashEnded",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {D, "localetc/", 0, 0770},
      {H, "/localetc/localpasswd/", "/etc/passwd"},
      {END}},
     0,
     c_localetc_local},
    {"SymlinkOverrideDirectory",
     {{D, "etc", 0, 0755},
      {F, "/etc/passwd", "inside"},
      {D, "localetc/", 0, 0755},
      {L, "localetc", "/etc"},
      {H, "/localetc/localpasswd", "/etc/passwd"},
      {END}},
     0,
     c_localetc_local},
    {"SymlinkOverrideDirectoryRelative",
     {{D, "etc", 0, 0755},
      {F, "/etc/passwd", "inside"},
      {D, "localetc/", 0, 0755},
      {L, "localetc", "../../etc"},
      {H, "/localetc/localpasswd", "/etc/passwd"},
      {END}},
     0,
     c_localetc_local},
    {"DirectoryOverrideSymlink",
     {{D, "etc", 0, 0755},
      {F, "/etc/passwd", "inside"},
      {L, "localetc", "/etc"},
      {D, "localetc/", 0, 0755},
      {H, "/localetc/localpasswd", "/etc/passwd"},
      {END}},
     0,
     c_localetc_local},
    {"DirectoryOverrideSymlinkAndHardlink",
     {{D, "etc", 0, 0755},
      {F, "etc/passwd", "inside"},
      {L, "localetc", "etc"},
      {D, "localetc", 0, 0755},
      {H, "localetc/localpasswd", "etc/passwd"},
      {END}},
     0,
     c_localetc_local},
    {"HardlinkSymlinkBeforeCreateTarget",
     {{D, "etc", 0, 0770},
      {L, "localpasswd", "/etc/passwd"},
      {H, "localpasswd-dup", "localpasswd"},
      {F, "/etc/passwd", "after"},
      {END}},
     0,
     c_dup},
    {"HardlinkSymlinkRelative",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "passwdlink", "../../../../../etc/passwd"},
      {H, "localpasswd", "/passwdlink"},
      {END}},
     0,
     c_symhard},
    {"HardlinkSymlinkAbsolute",
     {{D, "etc", 0, 0770},
      {F, "/etc/passwd", "inside"},
      {L, "passwdlink", "/etc/passwd"},
      {H, "localpasswd", "/passwdlink"},
      {END}},
     0,
     c_symhard},
    {"HardlinkSymlinkChmod",
     {{L, "passwdlink", perm_target},
      {H, "localpasswd", "passwdlink"},
      {F, "localpasswd", "hello", 0777},
      {END}},
     0,
     c_chmod},
    {"WhiteoutRootParent", {{F, ".wh...", ""}, {END}}, -EINVAL, NULL},
    {"WhiteoutParent",
     {{D, "etc", 0, 0755}, {F, "etc/passwd", "all users"}, {F, "etc/.wh...", ""}, {END}},
     -EINVAL,
     NULL},
    {"WhiteoutRoot",
     {{D, "etc", 0, 0755}, {F, "etc/passwd", "all users"}, {F, ".wh...", ""}, {END}},
     -EINVAL,
     NULL},
    {"WhiteoutCurrentDirectory",
     {{D, "etc", 0, 0755}, {F, "etc/passwd", "all users"}, {F, "etc/.wh..", ""}, {END}},
     -EINVAL,
     NULL},
    {"WhiteoutEmptyName", {{F, "etc/.wh.", ""}, {END}}, -EINVAL, NULL},
    {"WhiteoutSymlink",
     {{D, "etc", 0, 0755},
      {F, "etc/passwd", "all users"},
      {L, "localetc", "/etc"},
      {F, ".wh.localetc", ""},
      {END}},
     0,
     c_wh_symlink},
    {"WhiteoutSymlinkPath",
     {{D, "etc", 0, 0755},
      {F, "etc/passwd", "all users"},
      {F, "etc/whitedout", "ahhhh whiteout"},
      {L, "localetc", "/etc"},
      {F, "localetc/.wh.whitedout", ""},
      {END}},
     0,
     c_wh_symlink_path},
    {"WhiteoutDirectoryName",
     {{D, "etc", 0, 0755},
      {F, "etc/passwd", "all users"},
      {F, ".wh.etc/somefile", "non-empty"},
      {END}},
     0,
     c_wh_dirname},
    {"WhiteoutDeadSymlinkParent",
     {{D, "etc", 0, 0755},
      {F, "etc/passwd", "all users"},
      {L, "localetc", "/dne"},
      {F, "localetc/.wh.etc", ""},
      {END}},
     0,
     c_wh_dead},
    {"WhiteoutRelativePath",
     {{D, "etc", 0, 0755},
      {F, "etc/passwd", "all users"},
      {D, "dne", 0, 0755},
      {F, "dne/../.wh.etc", ""},
      {END}},
     0,
     c_wh_rel},
    {"DotDotNamesConfined",
     {{F, "../outside", "x"}, {F, "../../etc/x", "y"}, {F, "/../dest-evil/secret", "z"}, {END}},
     0,
     c_dotdot},
    {"OpaqueDirectory",
     {{D, "d", 0, 0755}, {F, "d/.wh..wh..opq", ""}, {F, "d/keep", "k"}, {END}},
     0,
     c_opaque},
    {"HardlinkMissingTarget", {{H, "x", "nope"}, {END}}, -ENOENT, NULL},
};

static void setup_base(void)
{
	_cleanup_free_ char *p = NULL;
	if (!mkdtemp(base))
		abort();
	p = xasprintf("%s/dest-evil", base);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/dest-evil/secret", base);
	write_file_atomic(p, "secret", 6, 0644);
	free(p);
	p = xasprintf("%s/victim", base);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/victim/hello", base);
	write_file_atomic(p, "hello", 5, 0644);
	free(p);
	p = xasprintf("%s/outside", base);
	write_file_atomic(p, "outside", 7, 0644);
	snprintf(perm_target, sizeof(perm_target), "%s/perm-test", base);
	write_file_atomic(perm_target, "perm", 4, 0644);
	chmod(perm_target, 0644);
}

static void test_breakouts(void)
{
	_cleanup_free_ char *before = snapshot();
	_cleanup_free_ char *dest = xasprintf("%s/dest", base);

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_error_ struct error *err = NULL;
		_cleanup_close_ int tar = make_tar(cases[i].ents);
		_cleanup_free_ char *after = NULL;
		int r;

		rm_rf(dest);
		mkdir(dest, 0755);
		dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = image_untar(tar, dest_fd, 0, NULL, NULL, &err);
		if (cases[i].err ? r != cases[i].err : r < 0) {
			fprintf(stderr, "  %s: r=%d (%s), expected %d\n", cases[i].name, r,
				err ? err->msg : "", cases[i].err);
			test_failures_++;
		} else if (cases[i].check && !cases[i].check()) {
			fprintf(stderr, "  %s: result check failed\n", cases[i].name);
			test_failures_++;
		}
		if (cases[i].err == -EINVAL && err)
			CHECK(strstr(err->msg, "invalid") != NULL);
		after = snapshot();
		if (!streq(before, after)) {
			fprintf(stderr, "  %s: something outside dest changed\n", cases[i].name);
			test_failures_++;
		}
		close(dest_fd);
	}
	rm_rf(dest);
}

static void test_metadata_and_devices(void)
{
	_cleanup_free_ char *dest = xasprintf("%s/meta", base);
	_cleanup_error_ struct error *err = NULL;
	int fd = memfd_create("tar", MFD_CLOEXEC);
	struct archive *a = archive_write_new();
	struct archive_entry *x;
	struct stat st;
	_cleanup_close_ int dfd = -1;
	uint64_t size = 0;

	archive_write_set_format_pax_restricted(a);
	archive_write_open_fd(a, fd);
	x = archive_entry_new();
	archive_entry_copy_pathname(x, "bin/su");
	archive_entry_set_filetype(x, AE_IFREG);
	archive_entry_set_perm(x, 04755);
	archive_entry_set_uid(x, 0);
	archive_entry_set_gid(x, 0);
	archive_entry_set_size(x, 3);
	archive_entry_set_mtime(x, 12345, 0);
	archive_entry_xattr_add_entry(x, "user.test", "v", 1);
	archive_entry_xattr_add_entry(x, "trusted.overlay.redirect", "/etc", 4);
	archive_write_header(a, x);
	archive_write_data(a, "abc", 3);
	archive_entry_clear(x);
	archive_entry_copy_pathname(x, "dev/null");
	archive_entry_set_filetype(x, AE_IFCHR);
	archive_entry_set_perm(x, 0666);
	archive_entry_set_rdev(x, makedev(1, 3));
	archive_write_header(a, x);
	archive_entry_clear(x);
	archive_entry_copy_pathname(x, "fifo");
	archive_entry_set_filetype(x, AE_IFIFO);
	archive_entry_set_perm(x, 0600);
	archive_write_header(a, x);
	archive_entry_free(x);
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);

	mkdir(dest, 0755);
	dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(image_untar(fd, dfd, 0, &size, NULL, &err) == 0);
	CHECK_INT(size, 3);
	CHECK(fstatat(dfd, "bin/su", &st, AT_SYMLINK_NOFOLLOW) == 0);
	CHECK_INT(st.st_mode & 07777, 04755);
	CHECK_INT(st.st_mtime, 12345);
	CHECK(fstatat(dfd, "dev/null", &st, AT_SYMLINK_NOFOLLOW) == 0);
	CHECK(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	CHECK(fstatat(dfd, "fifo", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISFIFO(st.st_mode));
	{
		_cleanup_close_ int f = openat(dfd, "bin/su", O_RDONLY | O_CLOEXEC);
		char v[8];
		CHECK(fgetxattr(f, "trusted.overlay.redirect", v, sizeof(v)) < 0);
	}
	close(fd);
	rm_rf(dest);
}

static void test_bomb_limit(void)
{
	_cleanup_free_ char *dest = xasprintf("%s/bomb", base);
	_cleanup_error_ struct error *err = NULL;
	_cleanup_close_ int dfd = -1;
	int fd = memfd_create("tar", MFD_CLOEXEC);
	struct archive *a = archive_write_new();
	struct archive_entry *x = archive_entry_new();
	static char zeros[1 << 16];

	/* 8 MiB of zeros, gzip'd to a few KiB; the limit is 1 MiB */
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	archive_write_open_fd(a, fd);
	archive_entry_copy_pathname(x, "big");
	archive_entry_set_filetype(x, AE_IFREG);
	archive_entry_set_perm(x, 0644);
	archive_entry_set_size(x, 8 << 20);
	archive_write_header(a, x);
	for (int i = 0; i < 128; i++)
		archive_write_data(a, zeros, sizeof(zeros));
	archive_entry_free(x);
	archive_write_close(a);
	archive_write_free(a);
	CHECK(lseek(fd, 0, SEEK_END) < 200000);
	lseek(fd, 0, SEEK_SET);
	mkdir(dest, 0755);
	dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_INT(image_untar(fd, dfd, 1 << 20, NULL, NULL, &err), -EFBIG);
	CHECK(err && strstr(err->msg, "size limit"));
	close(fd);
	rm_rf(dest);
}

static void test_garbage(void)
{
	_cleanup_error_ struct error *err = NULL;
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *dest = xasprintf("%s/garbage", base);
	int fd = memfd_create("tar", MFD_CLOEXEC);

	(void)!write(fd, "this is not a tar archive at all, not even close......", 54);
	lseek(fd, 0, SEEK_SET);
	mkdir(dest, 0755);
	dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(image_untar(fd, dfd, 0, NULL, NULL, &err) == -EINVAL);
	close(fd);
	rm_rf(dest);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("ok - skipped (needs root for whiteouts and devices)\n");
		return 0;
	}
	setup_base();
	RUN(test_breakouts);
	RUN(test_metadata_and_devices);
	RUN(test_bomb_limit);
	RUN(test_garbage);
	rm_rf(base);
	return TEST_SUMMARY();
}
