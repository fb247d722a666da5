/* SPDX-License-Identifier: Apache-2.0 */
/*
 * basic: the helpers every module uses: cleanup macros, the error object,
 * strings and string lists, fd and path helpers, logging.
 *
 * Conventions: functions return >= 0 on success and -errno on failure.
 * Where the user must learn what failed, the last parameter is
 * `struct error **err`, filled on failure with a message built on the way up.
 */
#ifndef BERTH_BASIC_H
#define BERTH_BASIC_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- cleanup ---------------------------------------------------------- */

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes *fd and marks it closed, so that a later closep (a cleanup) cannot close whatever
 * took the number meanwhile. */
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -EBADF;
	}
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

void strv_free(char **l);
static inline void strv_freep(char ***l)
{
	strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Take ownership: return the pointer and leave NULL behind. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -EBADF;                                                                     \
		_fd;                                                                               \
	})

/* ---- allocation ------------------------------------------------------- */

/* Allocation failure is not recoverable in berth's processes: abort. */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
#define xnew0(type, n) ((type *)xzalloc(sizeof(type) * (n)))

/* ---- errors ----------------------------------------------------------- */

struct error {
	int code; /* positive errno */
	char *msg;
};

/*
 * Set *err (when err != NULL and *err is empty) to a message; returns -abs(code)
 * so callers can `return error_set(err, -EINVAL, "...")`. When code carries an
 * errno, ": strerror" is appended.
 */
int error_set(struct error **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Like error_set, but without the ": strerror" suffix. */
int error_setx(struct error **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Prepend "prefix: " to an existing error; returns -abs(code). */
int error_prefix(struct error **err, int code, const char *fmt, ...) _printf_(3, 4);
void error_free(struct error *e);
/*
 * The same into a fixed buffer, for code that must not allocate (a container's init
 * after fork): "msg: strerror(code)" when code != 0. Returns -abs(code).
 */
int errbuf_set(char *buf, size_t len, int code, const char *fmt, ...) _printf_(4, 5);
static inline void error_freep(struct error **e)
{
	error_free(*e);
}
#define _cleanup_error_ _cleanup_(error_freep)

/* ---- strings ---------------------------------------------------------- */

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}
static inline const char *startswith(const char *s, const char *prefix)
{
	size_t l = strlen(prefix);
	return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}
bool endswith(const char *s, const char *suffix);
static inline bool isempty(const char *s)
{
	return !s || !*s;
}

size_t strv_length(char *const *l);
/* Append a copy of s; l may be NULL. Returns the new list. */
char **strv_append(char **l, const char *s);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);

/* Parse integers; reject junk, overflow and empty input. */
int safe_atoi64(const char *s, int64_t *ret);
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi(const char *s, int *ret);

/* ---- files and fds ---------------------------------------------------- */

/* Read a whole file (at most max bytes; more is -EFBIG). NUL-terminated. */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Write a whole string to an existing file (O_WRONLY|O_TRUNC, no O_CREAT). */
int write_file_at(int dirfd, const char *path, const char *s);
/* Write atomically: temp file, fsync, rename, in the same directory. */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* Temp file and rename without fsync: readers never see a partial file, but a crash
 * may lose it. For state on tmpfs (/run), where fsync buys nothing. */
int write_file_replace(const char *path, const char *data, size_t len, mode_t mode);
/* mkdir -p with mode; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);
/* Write all of buf, retrying on EINTR and short writes. */
ssize_t loop_write(int fd, const void *buf, size_t n);
/* Read until n bytes or EOF; returns bytes read. */
ssize_t loop_read(int fd, void *buf, size_t n);
/* Remove a directory tree (does not follow symlinks, stays on one fs; no recursion, two
 * directories open at most, whatever the depth). */
int rm_rf(const char *path);
int rm_rf_at(int dirfd, const char *name);
/*
 * The apparent size of the tree at path (relative to dirfd), as moby's directory.Size
 * counts a container's writable layer: the st_size of every entry but directories
 * (symlinks and whiteouts too), a hard-linked inode once. Symlinks are not followed and
 * directories of other filesystems are not entered. Fds and stack stay bounded however
 * deep the tree. Entries that vanish during the walk are not counted; a directory moved
 * out from under the walk ends it with what was counted so far. -errno only when path
 * itself cannot be opened (-ENOENT, -ENOTDIR, -ELOOP for a symlink).
 */
int dir_size_at(int dirfd, const char *path, uint64_t *ret);

/* ---- time ------------------------------------------------------------- */

uint64_t now_usec(int clock);
/* RFC 3339 with nanoseconds, UTC: 2024-01-02T03:04:05.123456789Z */
char *format_rfc3339(const struct timespec *ts);
/* A time as Docker's filters take it (moby's timetypes.GetTimestamp), in ns since the epoch:
 * unix seconds with up to nine decimals ("1700000000.5"), a date or RFC 3339 time
 * ("2024-01-02", "2024-01-02T15:04:05Z", "…+02:00"; local time without a zone), or a Go
 * duration before now ("10m", "1h30m", "1.5h"). -EINVAL when it is none of these. */
int parse_timestamp(const char *v, int64_t *ret_ns);
/* Go's time.ParseDuration: "1h30m", "10s", "1.5s", "300ms", "0", to the nanosecond as Go
 * computes it. */
int parse_go_duration(const char *s, int64_t *ret_ns);
/* The same, with Go's message in err on failure: time: invalid duration "x", time: missing
 * unit in duration "1", time: unknown unit "x" in duration "1x". */
int parse_go_duration_err(const char *s, int64_t *ret_ns, struct error **err);
/* Go's time.Duration.String(): "1.5s", "200ms", "2m0s", "1h0m0s", "0s". */
char *format_go_duration(int64_t ns);

/* ---- logging ---------------------------------------------------------- */

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Where logs go: fd (default 2), level and format. */
void log_setup(int fd, enum log_level level, enum log_format format);
extern enum log_level log_max_level;
/* Close the log file (if not stderr) and log to stderr from now on: a container's
 * init must not hold the host's log file while it waits to be started. */
void log_close(void);
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (_unlikely_(log_max_level >= LOG_LEVEL_DEBUG))                                  \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
