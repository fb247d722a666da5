/* SPDX-License-Identifier: Apache-2.0 */
/* libarchive, loaded on first use: see lazy.h. */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>

#include "lazy.h"

#define SONAME "libarchive.so.13"

LAZY_STUB(SONAME, time_t, archive_entry_atime, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, int, archive_entry_atime_is_set, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, long, archive_entry_atime_nsec, (struct archive_entry * e), (e))
LAZY_STUB_VOID(SONAME, archive_entry_copy_hardlink, (struct archive_entry * e, const char *s),
	       (e, s))
LAZY_STUB_VOID(SONAME, archive_entry_copy_pathname, (struct archive_entry * e, const char *s),
	       (e, s))
LAZY_STUB_VOID(SONAME, archive_entry_copy_symlink, (struct archive_entry * e, const char *s),
	       (e, s))
LAZY_STUB(SONAME, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
LAZY_STUB_VOID(SONAME, archive_entry_free, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, const char *, archive_entry_hardlink, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, time_t, archive_entry_mtime, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, long, archive_entry_mtime_nsec, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, struct archive_entry *, archive_entry_new, (void), ())
LAZY_STUB(SONAME, const char *, archive_entry_pathname, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, dev_t, archive_entry_rdev, (struct archive_entry * e), (e))
LAZY_STUB_VOID(SONAME, archive_entry_set_filetype, (struct archive_entry * e, unsigned int t),
	       (e, t))
LAZY_STUB_VOID(SONAME, archive_entry_set_gid, (struct archive_entry * e, la_int64_t v), (e, v))
LAZY_STUB_VOID(SONAME, archive_entry_set_mtime, (struct archive_entry * e, time_t t, long ns),
	       (e, t, ns))
LAZY_STUB_VOID(SONAME, archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T m), (e, m))
LAZY_STUB_VOID(SONAME, archive_entry_set_rdev, (struct archive_entry * e, dev_t d), (e, d))
LAZY_STUB_VOID(SONAME, archive_entry_set_size, (struct archive_entry * e, la_int64_t v), (e, v))
LAZY_STUB_VOID(SONAME, archive_entry_set_uid, (struct archive_entry * e, la_int64_t v), (e, v))
LAZY_STUB(SONAME, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, const char *, archive_entry_symlink, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))
LAZY_STUB_VOID(SONAME, archive_entry_xattr_add_entry,
	       (struct archive_entry * e, const char *name, const void *value, size_t size),
	       (e, name, value, size))
LAZY_STUB(SONAME, int, archive_entry_xattr_next,
	  (struct archive_entry * e, const char **name, const void **value, size_t *size),
	  (e, name, value, size))
LAZY_STUB(SONAME, int, archive_entry_xattr_reset, (struct archive_entry * e), (e))
LAZY_STUB(SONAME, int, archive_errno, (struct archive * a), (a))
LAZY_STUB(SONAME, const char *, archive_error_string, (struct archive * a), (a))
LAZY_STUB(SONAME, la_ssize_t, archive_read_data, (struct archive * a, void *buf, size_t n),
	  (a, buf, n))
LAZY_STUB(SONAME, int, archive_read_data_block,
	  (struct archive * a, const void **buf, size_t *n, la_int64_t *off), (a, buf, n, off))
LAZY_STUB(SONAME, int, archive_read_free, (struct archive * a), (a))
LAZY_STUB(SONAME, struct archive *, archive_read_new, (void), ())
LAZY_STUB(SONAME, int, archive_read_next_header, (struct archive * a, struct archive_entry **e),
	  (a, e))
LAZY_STUB(SONAME, int, archive_read_open,
	  (struct archive * a, void *d, archive_open_callback *o, archive_read_callback *r,
	   archive_close_callback *c),
	  (a, d, o, r, c))
LAZY_STUB(SONAME, int, archive_read_open_fd, (struct archive * a, int fd, size_t bs), (a, fd, bs))
LAZY_STUB(SONAME, int, archive_read_support_filter_all, (struct archive * a), (a))
LAZY_STUB(SONAME, int, archive_read_support_format_empty, (struct archive * a), (a))
LAZY_STUB(SONAME, int, archive_read_support_format_raw, (struct archive * a), (a))
LAZY_STUB(SONAME, int, archive_read_support_format_tar, (struct archive * a), (a))
LAZY_STUB(SONAME, int, archive_write_close, (struct archive * a), (a))
LAZY_STUB(SONAME, la_ssize_t, archive_write_data, (struct archive * a, const void *buf, size_t n),
	  (a, buf, n))
LAZY_STUB(SONAME, int, archive_write_free, (struct archive * a), (a))
LAZY_STUB(SONAME, int, archive_write_header, (struct archive * a, struct archive_entry *e), (a, e))
LAZY_STUB(SONAME, struct archive *, archive_write_new, (void), ())
LAZY_STUB(SONAME, int, archive_write_open,
	  (struct archive * a, void *d, archive_open_callback *o, archive_write_callback *w,
	   archive_close_callback *c),
	  (a, d, o, w, c))
LAZY_STUB(SONAME, int, archive_write_set_bytes_in_last_block, (struct archive * a, int n), (a, n))
LAZY_STUB(SONAME, int, archive_write_set_bytes_per_block, (struct archive * a, int n), (a, n))
LAZY_STUB(SONAME, int, archive_write_set_format_pax_restricted, (struct archive * a), (a))

/* Variadic: formatted here, passed on as one string. */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	LAZY_REAL(SONAME, archive_set_error);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn(a, err, "%s", buf);
}
