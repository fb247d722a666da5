/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "monitor.h"

#define LOG_LINE_MAX (16 * 1024)
#define LOG_BUF_SIZE (64 * 1024)

/* epoll keys; clients are KEY_CLIENT + their slot */
enum { KEY_SIGNAL = 1, KEY_LISTEN, KEY_OUT, KEY_ERR, KEY_PTY, KEY_STDIN, KEY_CLIENT = 100 };

void monitor_init(struct monitor *m, const struct shim_opts *o)
{
	*m = (struct monitor){.o = o,
			      .epfd = -1,
			      .sigfd = -1,
			      .listen_fd = -1,
			      .out_r = -1,
			      .err_r = -1,
			      .in_w = -1,
			      .pty = -1,
			      .log_fd = -1,
			      .in_wait_fd = -1};
	/* calloc: pages of clients that never connect are never touched (RSS). */
	m->clients = xnew0(struct client, MONITOR_MAX_CLIENTS);
	m->sock_path = o->exec_id ? xasprintf("%s/x-%.12s.sock", o->dir, o->exec_id)
				  : xasprintf("%s/shim.sock", o->dir);
	m->exit_path = o->exec_id ? xasprintf("%s/x-%.12s.exit", o->dir, o->exec_id)
				  : xasprintf("%s/exit", o->dir);
}

void monitor_release(struct monitor *m)
{
	free(m->in_pend);
	if (m->in_wait_fd >= 0)
		close(m->in_wait_fd);
	free(m->clients);
	free(m->log_buf);
	free(m->lb_out.data);
	free(m->lb_err.data);
	free(m->sock_path);
	free(m->exit_path);
}

/* ---- the json-file log ----------------------------------------------------- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void monitor_open_log(struct monitor *m)
{
	struct stat st;

	if (!m->o->log_path)
		return;
	m->log_fd = open(m->o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (m->log_fd >= 0 && fstat(m->log_fd, &st) == 0)
		m->log_size = (uint64_t)st.st_size;
}

static void log_flush(struct monitor *m)
{
	if (m->log_buf_len && m->log_fd >= 0)
		(void)loop_write(m->log_fd, m->log_buf, m->log_buf_len);
	m->log_buf_len = 0;
}

static void log_rotate(struct monitor *m)
{
	const struct shim_opts *o = m->o;
	if (m->log_fd >= 0)
		close(m->log_fd);
	/* Docker truncates when only one file is kept. */
	for (int i = o->log_max_files - 1; i >= 1; i--) {
		_cleanup_free_ char *from =
		    i == 1 ? xstrdup(o->log_path) : xasprintf("%s.%d", o->log_path, i - 1);
		_cleanup_free_ char *to = xasprintf("%s.%d", o->log_path, i);
		(void)rename(from, to);
	}
	m->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	m->log_size = 0;
}

/*
 * A JSON string's contents, escaped as json-c escapes them (berthd reads the log with it):
 * the two-letter escapes, \u00xx for the other control bytes, the rest as it is.
 */
static size_t json_escape(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e = c == '"'    ? '"'
			 : c == '\\' ? '\\'
			 : c == '\b' ? 'b'
			 : c == '\f' ? 'f'
			 : c == '\n' ? 'n'
			 : c == '\r' ? 'r'
			 : c == '\t' ? 't'
				     : 0;
		if (e) {
			if (out) {
				out[n] = '\\';
				out[n + 1] = e;
			}
			n += 2;
		} else if (c < 0x20) {
			if (out)
				memcpy(out + n,
				       (char[]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}, 6);
			n += 6;
		} else {
			if (out)
				out[n] = (char)c;
			n++;
		}
	}
	return n;
}

/* {"log":"...","stream":"stdout","time":"..."}\n into out (NULL: only the length). */
static size_t log_format(char *out, const char *stream, const char *data, size_t len,
			 const char *time)
{
	size_t n = 0;
#define PUT(s, l)                                                                                  \
	do {                                                                                       \
		if (out)                                                                           \
			memcpy(out + n, s, l);                                                     \
		n += l;                                                                            \
	} while (0)
	PUT("{\"log\":\"", 8);
	n += json_escape(out ? out + n : NULL, data, len);
	PUT("\",\"stream\":\"", 12);
	PUT(stream, strlen(stream));
	PUT("\",\"time\":\"", 10);
	PUT(time, strlen(time));
	PUT("\"}\n", 3);
#undef PUT
	return n;
}

static void log_emit(struct monitor *m, const char *stream, const char *data, size_t len)
{
	struct timespec ts;
	_cleanup_free_ char *t = NULL;
	size_t n;

	if (m->log_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	t = format_rfc3339(&ts);
	n = log_format(NULL, stream, data, len, t);
	if (m->o->log_max_size && m->log_size + n > m->o->log_max_size && m->log_size > 0) {
		log_flush(m);
		log_rotate(m);
	}
	if (m->log_fd < 0)
		return;
	if (!m->log_buf)
		m->log_buf = xmalloc(LOG_BUF_SIZE);
	if (m->log_buf_len + n > LOG_BUF_SIZE)
		log_flush(m);
	if (n > LOG_BUF_SIZE) {
		_cleanup_free_ char *line = xmalloc(n);
		log_format(line, stream, data, len, t);
		if (loop_write(m->log_fd, line, n) > 0)
			m->log_size += n;
		return;
	}
	log_format(m->log_buf + m->log_buf_len, stream, data, len, t);
	m->log_buf_len += n;
	m->log_size += n;
}

/* Split into lines as Docker does: a message per line, long lines in 16 KiB pieces. */
static void log_feed(struct monitor *m, struct logbuf *lb, const char *stream, const char *data,
		     size_t len, bool flush)
{
	if (len && !lb->data)
		lb->data = xmalloc(LOG_LINE_MAX);
	while (len > 0) {
		size_t take = len < LOG_LINE_MAX - lb->len ? len : LOG_LINE_MAX - lb->len;
		memcpy(lb->data + lb->len, data, take);
		lb->len += take;
		data += take;
		len -= take;
		for (;;) {
			char *nl = memchr(lb->data, '\n', lb->len);
			size_t n;
			if (!nl) {
				if (lb->len == LOG_LINE_MAX) {
					log_emit(m, stream, lb->data, lb->len);
					lb->len = 0;
				}
				break;
			}
			n = (size_t)(nl - lb->data) + 1;
			log_emit(m, stream, lb->data, n);
			memmove(lb->data, lb->data + n, lb->len - n);
			lb->len -= n;
		}
	}
	if (flush && lb->len) {
		log_emit(m, stream, lb->data, lb->len);
		lb->len = 0;
	}
}

/* ---- clients ------------------------------------------------------------------ */

static void watch_fd(struct monitor *m, int fd, uint32_t key)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = key};
	if (fd >= 0)
		epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void client_drop(struct monitor *m, struct client *c)
{
	if (!c->used)
		return;
	if (!c->parked)
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->used = false;
	c->parked = false;
}

/* Stop reading c until the process's stdin takes what waits (stdin_resume). */
static void client_park(struct monitor *m, struct client *c)
{
	if (c->parked)
		return;
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->parked = true;
}

static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int send_frame(int fd, uint8_t stream, const void *data, size_t len)
{
	uint8_t h[5] = {stream, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			(uint8_t)len};
	int r = send_all(fd, h, sizeof(h));
	return r < 0 ? r : send_all(fd, data, len);
}

static void fan_out(struct monitor *m, uint8_t stream, const char *data, size_t len)
{
	for (int i = 0; i < MONITOR_MAX_CLIENTS; i++) {
		struct client *c = &m->clients[i];
		if (!c->used || c->kind != CLIENT_ATTACH)
			continue;
		if ((stream == 1 && !c->want_out) || (stream == 2 && !c->want_err))
			continue;
		if (send_frame(c->fd, stream, data, len) < 0)
			client_drop(m, c);
	}
}

static void close_stdin(struct monitor *m)
{
	if (m->in_pend_len) {
		/* after what the process has not taken yet */
		m->in_close_after = true;
		return;
	}
	if (m->pty >= 0) {
		/* A pty cannot be half-closed: end-of-file is ^D at the line discipline. */
		(void)!write(m->pty, "\x04", 1);
		return;
	}
	if (m->in_w >= 0) {
		close(m->in_w);
		m->in_w = -1;
	}
}

static int stdin_fd(const struct monitor *m)
{
	return m->pty >= 0 ? m->pty : m->in_w;
}

/* Write what the fd takes now; the number of bytes, or -1 when the process is gone (the
 * rest is dropped, as a write to a closed pipe loses it). */
static ssize_t stdin_write_some(int fd, const char *data, size_t len)
{
	size_t off = 0;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			break;
		else
			return -1;
	}
	return (ssize_t)off;
}

/* Frame data for the process's stdin. false: it is full, the rest waits (in_pend) and c is
 * parked; the caller stops handling c's frames. */
static bool write_stdin(struct monitor *m, struct client *c, const char *data, size_t len)
{
	int fd = stdin_fd(m);
	ssize_t n;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = KEY_STDIN};

	if (fd < 0 || !len)
		return true;
	n = stdin_write_some(fd, data, len);
	if (n < 0 || (size_t)n == len)
		return true;
	m->in_pend = xmalloc(len - (size_t)n);
	memcpy(m->in_pend, data + n, len - (size_t)n);
	m->in_pend_off = 0;
	m->in_pend_len = len - (size_t)n;
	/* a dup: the pty master is in the set already, for its output */
	m->in_wait_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (m->in_wait_fd >= 0)
		epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->in_wait_fd, &ev);
	client_park(m, c);
	return false;
}

static void client_process(struct monitor *m, struct client *c);

/* EPOLLOUT: the process took some stdin. Once all that waited is written, the parked
 * clients are read again and their frames handled (which may fill stdin again). */
static void stdin_resume(struct monitor *m)
{
	int fd = stdin_fd(m);
	ssize_t n =
	    fd >= 0 ? stdin_write_some(fd, m->in_pend + m->in_pend_off, m->in_pend_len) : -1;
	if (n >= 0 && (size_t)n < m->in_pend_len) {
		m->in_pend_off += (size_t)n;
		m->in_pend_len -= (size_t)n;
		return;
	}
	free(m->in_pend);
	m->in_pend = NULL;
	m->in_pend_off = m->in_pend_len = 0;
	if (m->in_wait_fd >= 0) {
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->in_wait_fd, NULL);
		close(m->in_wait_fd);
		m->in_wait_fd = -1;
	}
	if (m->in_close_after) {
		m->in_close_after = false;
		close_stdin(m);
	}
	for (int i = 0; i < MONITOR_MAX_CLIENTS && !m->in_pend_len; i++) {
		struct client *c = &m->clients[i];
		if (!c->used || !c->parked)
			continue;
		c->parked = false;
		watch_fd(m, c->fd, KEY_CLIENT + (uint32_t)i);
		client_process(m, c);
	}
}

static void reply(struct client *c, const char *fmt, ...) _printf_(2, 3);
static void reply(struct client *c, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)send_all(c->fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void send_exit_frame(struct monitor *m, struct client *c)
{
	char code[16];
	int n = snprintf(code, sizeof(code), "%d", m->exit_code);
	send_frame(c->fd, 9, code, (size_t)n);
}

/* "<h> <w>" */
static bool parse_size(const char *s, unsigned *h, unsigned *w)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;
	if (end == s || *end != ' ')
		return false;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || a > UINT_MAX || b > UINT_MAX)
		return false;
	*h = (unsigned)a;
	*w = (unsigned)b;
	return true;
}

static void handle_command(struct monitor *m, struct client *c, char *line)
{
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = 0;
	if (streq(line, "START")) {
		char err[1024] = "";
		int r = m->started ? 0 : m->start ? m->start(m, err, sizeof(err)) : -EINVAL;
		if (r >= 0)
			reply(c, "OK %d\n", (int)m->pid);
		else
			reply(c, "ERR %s\n", err[0] ? err : strerror(-r));
		client_drop(m, c);
	} else if (startswith(line, "ATTACH")) {
		const char *f = line + 6;
		c->kind = CLIENT_ATTACH;
		c->want_in = strchr(f, 'i') != NULL;
		c->want_out = strchr(f, 'o') != NULL;
		c->want_err = strchr(f, 'e') != NULL;
		if (m->exited) {
			send_exit_frame(m, c);
			client_drop(m, c);
		}
	} else if (startswith(line, "RESIZE ")) {
		unsigned h, w;
		if (parse_size(line + 7, &h, &w) && m->pty >= 0) {
			struct winsize ws = {.ws_row = (unsigned short)h,
					     .ws_col = (unsigned short)w};
			ioctl(m->pty, TIOCSWINSZ, &ws);
		}
		reply(c, "OK\n");
		client_drop(m, c);
	} else if (streq(line, "WAIT")) {
		c->kind = CLIENT_WAIT;
		if (m->exited) {
			reply(c, "EXIT %d %llu\n", m->exit_code,
			      (unsigned long long)m->finished_ns);
			client_drop(m, c);
		}
	} else if (streq(line, "CLOSESTDIN")) {
		close_stdin(m);
		reply(c, "OK\n");
		client_drop(m, c);
	} else {
		reply(c, "ERR unknown command\n");
		client_drop(m, c);
	}
}

/* What a client sent: a command line first, then (attach) stdin frames. */
static void client_process(struct monitor *m, struct client *c)
{
	if (c->kind == CLIENT_NEW) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (!nl) {
			if (c->len == sizeof(c->buf))
				client_drop(m, c);
			return;
		}
		size_t used = (size_t)(nl - c->buf) + 1;
		char line[256];
		snprintf(line, sizeof(line), "%.*s", (int)used, c->buf);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		handle_command(m, c, line);
		if (!c->used)
			return;
	}
	if (c->kind != CLIENT_ATTACH)
		return;
	/* stdin frames, in order behind what the process has not taken yet */
	while (c->len >= 5) {
		bool taken = true;
		if (m->in_pend_len) {
			client_park(m, c);
			return;
		}
		uint32_t len = ((uint32_t)(uint8_t)c->buf[1] << 24) |
			       ((uint32_t)(uint8_t)c->buf[2] << 16) |
			       ((uint32_t)(uint8_t)c->buf[3] << 8) | (uint32_t)(uint8_t)c->buf[4];
		if (len > sizeof(c->buf) - 5) {
			client_drop(m, c);
			return;
		}
		if (c->len < 5 + len)
			break;
		if (c->buf[0] == 0 && c->want_in)
			taken = write_stdin(m, c, c->buf + 5, len);
		else if (c->buf[0] == 4 && c->want_in && (m->o->stdin_once || m->pty < 0))
			close_stdin(m);
		memmove(c->buf, c->buf + 5 + len, c->len - 5 - len);
		c->len -= 5 + len;
		if (!taken)
			return;
	}
}

static void client_input(struct monitor *m, struct client *c)
{
	ssize_t n;
	if (c->parked) /* an event of the batch that parked it */
		return;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n <= 0) {
		if (c->kind == CLIENT_ATTACH && c->want_in && m->o->stdin_once &&
		    !m->stdin_closed_once) {
			m->stdin_closed_once = true;
			close_stdin(m);
		}
		client_drop(m, c);
		return;
	}
	c->len += (size_t)n;
	client_process(m, c);
}

static void accept_client(struct monitor *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct timeval tv = {.tv_sec = 10};
	if (fd < 0)
		return;
	for (int i = 0; i < MONITOR_MAX_CLIENTS; i++) {
		struct client *c = &m->clients[i];
		if (c->used)
			continue;
		c->fd = fd;
		c->used = true;
		c->kind = CLIENT_NEW;
		c->want_in = c->want_out = c->want_err = false;
		c->len = 0;
		/* A stuck reader must not stall the container's output forever. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		watch_fd(m, fd, KEY_CLIENT + (uint32_t)i);
		return;
	}
	close(fd);
}

/* ---- the process ---------------------------------------------------------------- */

static void on_exit_status(struct monitor *m, int status)
{
	m->exited = true;
	m->finished_ns = realtime_ns();
	if (WIFEXITED(status))
		m->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		m->exit_code = 128 + WTERMSIG(status);
	else
		m->exit_code = 255;
}

static void reap(struct monitor *m)
{
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);
		if (p <= 0)
			return;
		if (p == m->pid && !m->exited)
			on_exit_status(m, status);
	}
}

/* Read what a pipe (or the pty) has; at EOF close it. */
static void pump(struct monitor *m, int *fd, uint8_t stream)
{
	char buf[32768];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n > 0) {
		struct logbuf *lb = stream == 2 ? &m->lb_err : &m->lb_out;
		log_feed(m, lb, stream == 2 ? "stderr" : "stdout", buf, (size_t)n, false);
		log_flush(m);
		fan_out(m, stream, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF; a pty master reads EIO once the last holder of the other side is gone. */
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

void monitor_finish(struct monitor *m)
{
	char line[64];
	int n;

	log_feed(m, &m->lb_out, "stdout", NULL, 0, true);
	log_feed(m, &m->lb_err, "stderr", NULL, 0, true);
	log_flush(m);
	n = snprintf(line, sizeof(line), "%d %llu\n", m->exit_code,
		     (unsigned long long)m->finished_ns);
	/* Renamed into place, not fsynced: it lives in the exec-root (runtime state, gone at a
	 * reboot with the containers themselves), and only a crash of berthd or of this
	 * process must not lose it. The waiters hear the exit right after. */
	(void)write_file_replace(m->exit_path, line, (size_t)n, 0600);
	for (int i = 0; i < MONITOR_MAX_CLIENTS; i++) {
		struct client *c = &m->clients[i];
		if (!c->used)
			continue;
		if (c->kind == CLIENT_WAIT)
			reply(c, "EXIT %d %llu\n", m->exit_code,
			      (unsigned long long)m->finished_ns);
		else if (c->kind == CLIENT_ATTACH)
			send_exit_frame(m, c);
		client_drop(m, c);
	}
	/* Late clients get a refusal (and read the exit file) instead of waiting for the
	 * runtime's clean-up. */
	if (m->listen_fd >= 0) {
		close(m->listen_fd);
		m->listen_fd = -1;
	}
	unlink(m->sock_path);
	/* No unlink of the exit file later: a new shim of the same container may own the
	 * path by then. */
}

/* ---- the loop ------------------------------------------------------------------- */

/* Signals, the epoll set, and the signalfd in it. */
static int setup_loop(struct monitor *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->sigfd < 0 || m->epfd < 0)
		return -errno;
	watch_fd(m, m->sigfd, KEY_SIGNAL);
	return 0;
}

static int listen_on(const char *path, char *errbuf, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errbuf_set(errbuf, errlen, errno, "socket");
	if (strlen(path) >= sizeof(sa.sun_path))
		return errbuf_set(errbuf, errlen, ENAMETOOLONG, "socket path '%s'", path);
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		return errbuf_set(errbuf, errlen, errno, "listen on '%s'", path);
	chmod(path, 0600);
	return TAKE_FD(fd);
}

int monitor_listen(struct monitor *m, char *errbuf, size_t errlen)
{
	int r = setup_loop(m);
	if (r < 0)
		return errbuf_set(errbuf, errlen, -r, "signalfd or epoll");
	m->listen_fd = listen_on(m->sock_path, errbuf, errlen);
	if (m->listen_fd < 0)
		return m->listen_fd;
	watch_fd(m, m->listen_fd, KEY_LISTEN);
	return 0;
}

/* A client still feeds the process's stdin. */
static bool stdin_streaming(const struct monitor *m)
{
	if (m->in_w < 0 && m->pty < 0)
		return false;
	if (m->in_pend_len)
		return true;
	for (int i = 0; i < MONITOR_MAX_CLIENTS; i++)
		if (m->clients[i].used && m->clients[i].kind == CLIENT_ATTACH &&
		    m->clients[i].want_in)
			return true;
	return false;
}

#define HAND_OVER_RETRY_USEC (500 * 1000ULL)

int monitor_run(struct monitor *m)
{
	uint64_t drain_deadline = 0;

	reap(m);
	for (;;) {
		struct epoll_event evs[16];
		int timeout = -1, n;

		if (!m->watching && (m->started || !m->o->exec_id)) {
			/* A container's pipes exist from the create, an exec's from START. */
			watch_fd(m, m->out_r, KEY_OUT);
			watch_fd(m, m->err_r, KEY_ERR);
			watch_fd(m, m->pty, KEY_PTY);
			m->watching = true;
		}
		if (m->exited) {
			bool open_out = m->out_r >= 0 || m->err_r >= 0 || m->pty >= 0;
			uint64_t now = now_usec(CLOCK_MONOTONIC);
			if (!drain_deadline)
				drain_deadline = now + 2000000;
			if (!open_out || now >= drain_deadline)
				return 0;
			timeout = (int)((drain_deadline - now) / 1000) + 1;
		} else if (m->hand_over_usec) {
			uint64_t now = now_usec(CLOCK_MONOTONIC);
			if (now >= m->hand_over_usec && stdin_streaming(m))
				/* Not in the middle of a client's stdin (frames in flight, its
				 * EOF still to come): look again later. */
				m->hand_over_usec = now + HAND_OVER_RETRY_USEC;
			if (now >= m->hand_over_usec)
				return 1;
			timeout = (int)((m->hand_over_usec - now) / 1000) + 1;
		}
		n = epoll_wait(m->epfd, evs, ELEMENTSOF(evs), timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			uint32_t k = evs[i].data.u32;
			if (k == KEY_SIGNAL) {
				struct signalfd_siginfo si;
				while (read(m->sigfd, &si, sizeof(si)) == sizeof(si))
					;
				reap(m);
			} else if (k == KEY_LISTEN) {
				accept_client(m);
			} else if (k == KEY_OUT && m->out_r >= 0) {
				pump(m, &m->out_r, 1);
			} else if (k == KEY_ERR && m->err_r >= 0) {
				pump(m, &m->err_r, 2);
			} else if (k == KEY_PTY && m->pty >= 0) {
				pump(m, &m->pty, 1);
			} else if (k == KEY_STDIN && m->in_pend_len) {
				stdin_resume(m);
			} else if (k >= KEY_CLIENT && k < KEY_CLIENT + MONITOR_MAX_CLIENTS) {
				struct client *c = &m->clients[k - KEY_CLIENT];
				if (c->used)
					client_input(m, c);
			}
		}
	}
}

/* ---- the hand-over -------------------------------------------------------------- */

/*
 * What crosses the execve() besides the fds, in a memfd: this, the partial log lines
 * (out_len, err_len bytes), then each client and what it sent that is not handled yet.
 * Both images come from one build (berth-shim opens berth-shim-monitor when it starts), so
 * the layout is checked, not negotiated.
 */
#define HANDOVER_MAGIC 0x62736801u /* "bsh", version 1 */

struct handover {
	uint32_t magic, size;
	int32_t pid, listen_fd, out_r, err_r, in_w, pty, log_fd;
	int32_t exit_code;
	uint64_t log_size, finished_ns;
	uint32_t exited, stdin_closed_once;
	uint32_t out_len, err_len;
	uint32_t n_clients, reserved; /* no padding: every byte written is initialised */
};

struct handover_client {
	int32_t fd;
	uint8_t kind, want_in, want_out, want_err;
	uint32_t len;
};

static void set_cloexec(int fd, bool on)
{
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0);
}

/* The fds that must survive the execve(); returns how many. */
static size_t handover_fds(struct monitor *m, int *fds)
{
	size_t n = 0;
	int own[] = {m->listen_fd, m->out_r, m->err_r, m->in_w, m->pty, m->log_fd};
	for (size_t i = 0; i < ELEMENTSOF(own); i++)
		if (own[i] >= 0)
			fds[n++] = own[i];
	for (int i = 0; i < MONITOR_MAX_CLIENTS; i++)
		if (m->clients[i].used)
			fds[n++] = m->clients[i].fd;
	return n;
}

static int handover_write(struct monitor *m, int fd)
{
	struct handover h = {.magic = HANDOVER_MAGIC,
			     .size = sizeof(h),
			     .pid = m->pid,
			     .listen_fd = m->listen_fd,
			     .out_r = m->out_r,
			     .err_r = m->err_r,
			     .in_w = m->in_w,
			     .pty = m->pty,
			     .log_fd = m->log_fd,
			     .exit_code = m->exit_code,
			     .log_size = m->log_size,
			     .finished_ns = m->finished_ns,
			     .exited = m->exited,
			     .stdin_closed_once = m->stdin_closed_once,
			     .out_len = (uint32_t)m->lb_out.len,
			     .err_len = (uint32_t)m->lb_err.len};
	ssize_t r;

	for (int i = 0; i < MONITOR_MAX_CLIENTS; i++)
		h.n_clients += m->clients[i].used;
	r = loop_write(fd, &h, sizeof(h));
	if (r >= 0 && m->lb_out.len)
		r = loop_write(fd, m->lb_out.data, m->lb_out.len);
	if (r >= 0 && m->lb_err.len)
		r = loop_write(fd, m->lb_err.data, m->lb_err.len);
	for (int i = 0; i < MONITOR_MAX_CLIENTS && r >= 0; i++) {
		struct client *c = &m->clients[i];
		struct handover_client hc = {.fd = c->fd,
					     .kind = (uint8_t)c->kind,
					     .want_in = c->want_in,
					     .want_out = c->want_out,
					     .want_err = c->want_err,
					     .len = (uint32_t)c->len};
		if (!c->used)
			continue;
		r = loop_write(fd, &hc, sizeof(hc));
		if (r >= 0 && c->len)
			r = loop_write(fd, c->buf, c->len);
	}
	if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	return r < 0 ? (int)r : 0;
}

int monitor_hand_over(struct monitor *m, int exe_fd)
{
	_cleanup_close_ int mfd = memfd_create("berth-shim-handover", MFD_CLOEXEC);
	_cleanup_strv_free_ char **argv = NULL;
	int fds[6 + MONITOR_MAX_CLIENTS];
	char num[16];
	size_t n;
	int r;

	if (mfd < 0)
		return -errno;
	log_flush(m);
	r = handover_write(m, mfd);
	if (r < 0)
		return r;
	argv = shim_opts_to_argv(m->o);
	snprintf(num, sizeof(num), "%d", mfd);
	argv = strv_append(argv, "--handover-fd");
	argv = strv_append(argv, num);
	n = handover_fds(m, fds);
	for (size_t i = 0; i < n; i++)
		set_cloexec(fds[i], false);
	set_cloexec(mfd, false);
	execveat(exe_fd, "", argv, environ, AT_EMPTY_PATH);
	r = -errno;
	for (size_t i = 0; i < n; i++)
		set_cloexec(fds[i], true);
	return r;
}

static bool read_all(int fd, void *buf, size_t n)
{
	return loop_read(fd, buf, n) == (ssize_t)n;
}

static int read_partial_line(int fd, struct logbuf *lb, uint32_t len)
{
	if (!len)
		return 0;
	if (len > LOG_LINE_MAX)
		return -EBADMSG;
	lb->data = xmalloc(LOG_LINE_MAX);
	lb->len = len;
	return read_all(fd, lb->data, len) ? 0 : -EBADMSG;
}

/* The other side of monitor_hand_over(). */
static int take_over(struct monitor *m, int fd)
{
	struct handover h;
	int r;

	if (!read_all(fd, &h, sizeof(h)) || h.magic != HANDOVER_MAGIC || h.size != sizeof(h) ||
	    h.n_clients > MONITOR_MAX_CLIENTS)
		return -EBADMSG;
	m->pid = h.pid;
	m->started = true;
	m->listen_fd = h.listen_fd;
	m->out_r = h.out_r;
	m->err_r = h.err_r;
	m->in_w = h.in_w;
	m->pty = h.pty;
	m->log_fd = h.log_fd;
	m->log_size = h.log_size;
	m->exited = h.exited;
	m->exit_code = h.exit_code;
	m->finished_ns = h.finished_ns;
	m->stdin_closed_once = h.stdin_closed_once;
	r = read_partial_line(fd, &m->lb_out, h.out_len);
	if (r >= 0)
		r = read_partial_line(fd, &m->lb_err, h.err_len);
	for (uint32_t i = 0; i < h.n_clients && r >= 0; i++) {
		struct client *c = &m->clients[i];
		struct handover_client hc;
		if (!read_all(fd, &hc, sizeof(hc)) || hc.len > sizeof(c->buf) ||
		    hc.kind > CLIENT_WAIT || !read_all(fd, c->buf, hc.len)) {
			r = -EBADMSG;
			break;
		}
		c->used = true;
		c->fd = hc.fd;
		c->kind = hc.kind;
		c->want_in = hc.want_in;
		c->want_out = hc.want_out;
		c->want_err = hc.want_err;
		c->len = hc.len;
	}
	{
		int fds[6 + MONITOR_MAX_CLIENTS];
		size_t n = handover_fds(m, fds);
		for (size_t i = 0; i < n; i++)
			set_cloexec(fds[i], true);
	}
	return r;
}

/* berth-shim --delete: the runtime state goes (same pid: berthd waits for it before it
 * starts the container again). */
static void exec_delete(const struct shim_opts *o)
{
	_cleanup_free_ char *path = shim_image_path("berth-shim");
	_cleanup_strv_free_ char **argv = NULL;

	if (!path)
		return;
	argv = strv_append(shim_opts_to_argv(o), "--delete");
	execv(path, argv);
}

int shim_monitor_main(int argc, char **argv)
{
	struct shim_opts o;
	struct monitor m;
	struct error *err = NULL;
	int r;

	if (shim_parse_args(argc, argv, &o, &err) < 0 || o.handover_fd < 0) {
		fprintf(stderr, "berth-shim-monitor: %s\n",
			err ? err->msg : "--handover-fd is required");
		error_free(err);
		return 2;
	}
	/* Kept across execve(), but cheap to be sure of: orphans of the process are ours. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	monitor_init(&m, &o);
	r = take_over(&m, o.handover_fd);
	close(o.handover_fd);
	if (r >= 0)
		r = setup_loop(&m);
	if (r < 0) {
		/* berthd finds the socket gone: exit 255, and it deletes the container. */
		monitor_release(&m);
		return 1;
	}
	watch_fd(&m, m.listen_fd, KEY_LISTEN);
	for (int i = 0; i < MONITOR_MAX_CLIENTS; i++) {
		struct client *c = &m.clients[i];
		if (!c->used)
			continue;
		watch_fd(&m, c->fd, KEY_CLIENT + (uint32_t)i);
		/* What berth-shim had received but not acted on: normally part of a line or
		 * frame that waits for the rest. */
		client_process(&m, c);
	}
	monitor_run(&m);
	monitor_finish(&m);
	if (!o.exec_id) {
		monitor_release(&m);
		exec_delete(&o);
		return 1;
	}
	monitor_release(&m);
	return 0;
}
