/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "shim.h"
#include "oci/oci.h"

#define MAX_CLIENTS 64
#define LOG_LINE_MAX (16 * 1024)

enum client_kind { CLIENT_NEW, CLIENT_ATTACH, CLIENT_WAIT };

struct client {
	bool used;
	int fd;
	enum client_kind kind;
	bool want_in, want_out, want_err;
	char buf[8192 + 5];
	size_t len;
};

struct logbuf {
	char data[LOG_LINE_MAX];
	size_t len;
};

struct shim {
	const struct shim_opts *o;
	struct runtime_ctx rt;
	int epfd, sigfd, listen_fd;
	int out_r, err_r; /* container stdout/stderr (read ends), -1 when closed */
	int in_w;	  /* container stdin (write end), -1 when none */
	int pty;	  /* pty master, -1 without a tty */
	pid_t pid;	  /* the process we watch */
	bool started, exited;
	int exit_code;
	uint64_t finished_ns;
	bool stdin_closed_once;
	struct client *clients; /* MAX_CLIENTS */
	int log_fd;
	uint64_t log_size;
	char *log_buf; /* lines not written yet: flushed after each read of the output */
	size_t log_buf_len;
	struct logbuf lb_out, lb_err;
	char *sock_path, *exit_path;
};

/* ---- arguments --------------------------------------------------------------- */

int shim_parse_args(int argc, char **argv, struct shim_opts *o, struct error **err)
{
	static const struct option opts[] = {
	    {"id", required_argument, NULL, 'i'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"dir", required_argument, NULL, 'd'},
	    {"runtime-root", required_argument, NULL, 'r'},
	    {"cgroup-root", required_argument, NULL, 'c'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"log-path", required_argument, NULL, 'l'},
	    {"log-max-size", required_argument, NULL, 'm'},
	    {"log-max-files", required_argument, NULL, 'n'},
	    {"tty", no_argument, NULL, 't'},
	    {"open-stdin", no_argument, NULL, 'I'},
	    {"stdin-once", no_argument, NULL, 'O'},
	    {"exec-id", required_argument, NULL, 'e'},
	    {"process", required_argument, NULL, 'p'},
	    {"status-fd", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->status_fd = -1;
	o->log_max_files = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->id = optarg;
			break;
		case 'b':
			o->bundle = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'r':
			o->runtime_root = optarg;
			break;
		case 'c':
			o->cgroup_root = optarg;
			break;
		case 's':
			o->systemd_cgroup = true;
			break;
		case 'l':
			o->log_path = optarg;
			break;
		case 'm':
			if (safe_atou64(optarg, &o->log_max_size) < 0)
				return error_setx(err, -EINVAL, "invalid --log-max-size '%s'",
						  optarg);
			break;
		case 'n':
			if (safe_atoi(optarg, &o->log_max_files) < 0 || o->log_max_files < 1)
				return error_setx(err, -EINVAL, "invalid --log-max-files '%s'",
						  optarg);
			break;
		case 't':
			o->tty = true;
			break;
		case 'I':
			o->open_stdin = true;
			break;
		case 'O':
			o->stdin_once = true;
			break;
		case 'e':
			o->exec_id = optarg;
			break;
		case 'p':
			o->process_path = optarg;
			break;
		case 'S':
			if (safe_atoi(optarg, &o->status_fd) < 0)
				return error_setx(err, -EINVAL, "invalid --status-fd '%s'", optarg);
			break;
		default:
			return error_setx(err, -EINVAL, "unknown option");
		}
	}
	if (!o->id || !o->dir || !o->runtime_root)
		return error_setx(err, -EINVAL, "--id, --dir and --runtime-root are required");
	if (!o->exec_id && !o->bundle)
		return error_setx(err, -EINVAL, "--bundle is required");
	if (o->exec_id && !o->process_path)
		return error_setx(err, -EINVAL, "--process is required with --exec-id");
	return 0;
}

/* ---- the json-file log ----------------------------------------------------- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#define LOG_BUF_SIZE (64 * 1024)

static void log_flush(struct shim *s)
{
	if (s->log_buf_len && s->log_fd >= 0)
		(void)loop_write(s->log_fd, s->log_buf, s->log_buf_len);
	s->log_buf_len = 0;
}

static void log_rotate(struct shim *s)
{
	const struct shim_opts *o = s->o;
	if (s->log_fd >= 0)
		close(s->log_fd);
	s->log_fd = -1;
	if (o->log_max_files <= 1) {
		/* Docker truncates when only one file is kept. */
		s->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	} else {
		for (int i = o->log_max_files - 1; i >= 1; i--) {
			_cleanup_free_ char *from =
			    i == 1 ? xstrdup(o->log_path) : xasprintf("%s.%d", o->log_path, i - 1);
			_cleanup_free_ char *to = xasprintf("%s.%d", o->log_path, i);
			(void)rename(from, to);
		}
		s->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	}
	s->log_size = 0;
}

static void log_emit(struct shim *s, const char *stream, const char *data, size_t len)
{
	struct timespec ts;
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_free_ char *t = NULL;
	const char *line;
	size_t n;

	if (s->log_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	t = format_rfc3339(&ts);
	json_object_object_add(o, "log", json_object_new_string_len(data, (int)len));
	json_add_str(o, "stream", stream);
	json_add_str(o, "time", t);
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(line);
	if (s->o->log_max_size && s->log_size + n + 1 > s->o->log_max_size && s->log_size > 0) {
		log_flush(s);
		log_rotate(s);
	}
	if (s->log_fd < 0)
		return;
	if (!s->log_buf)
		s->log_buf = xmalloc(LOG_BUF_SIZE);
	if (s->log_buf_len + n + 1 > LOG_BUF_SIZE)
		log_flush(s);
	if (n + 1 > LOG_BUF_SIZE) {
		struct iovec iov[2] = {{(void *)line, n}, {"\n", 1}};
		if (writev(s->log_fd, iov, 2) > 0)
			s->log_size += n + 1;
		return;
	}
	memcpy(s->log_buf + s->log_buf_len, line, n);
	s->log_buf[s->log_buf_len + n] = '\n';
	s->log_buf_len += n + 1;
	s->log_size += n + 1;
}

/* Split into lines as Docker does: a message per line, long lines in 16 KiB pieces. */
static void log_feed(struct shim *s, struct logbuf *lb, const char *stream, const char *data,
		     size_t len, bool flush)
{
	while (len > 0) {
		size_t take = len < sizeof(lb->data) - lb->len ? len : sizeof(lb->data) - lb->len;
		memcpy(lb->data + lb->len, data, take);
		lb->len += take;
		data += take;
		len -= take;
		for (;;) {
			char *nl = memchr(lb->data, '\n', lb->len);
			size_t n;
			if (!nl) {
				if (lb->len == sizeof(lb->data)) {
					log_emit(s, stream, lb->data, lb->len);
					lb->len = 0;
				}
				break;
			}
			n = (size_t)(nl - lb->data) + 1;
			log_emit(s, stream, lb->data, n);
			memmove(lb->data, lb->data + n, lb->len - n);
			lb->len -= n;
		}
	}
	if (flush && lb->len) {
		log_emit(s, stream, lb->data, lb->len);
		lb->len = 0;
	}
}

/* ---- clients ------------------------------------------------------------------ */

static void client_drop(struct shim *s, struct client *c)
{
	if (!c->used)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->used = false;
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

static void fan_out(struct shim *s, uint8_t stream, const char *data, size_t len)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];
		if (!c->used || c->kind != CLIENT_ATTACH)
			continue;
		if ((stream == 1 && !c->want_out) || (stream == 2 && !c->want_err))
			continue;
		if (send_frame(c->fd, stream, data, len) < 0)
			client_drop(s, c);
	}
}

static void close_stdin(struct shim *s)
{
	if (s->pty >= 0) {
		/* A pty cannot be half-closed: end-of-file is ^D at the line discipline. */
		(void)!write(s->pty, "\x04", 1);
		return;
	}
	if (s->in_w >= 0) {
		close(s->in_w);
		s->in_w = -1;
	}
}

static void write_stdin(struct shim *s, const char *data, size_t len)
{
	int fd = s->pty >= 0 ? s->pty : s->in_w;
	if (fd >= 0 && len)
		(void)loop_write(fd, data, len);
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

static int do_start(struct shim *s, char *errbuf, size_t errlen);

static void handle_command(struct shim *s, struct client *c, char *line)
{
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = 0;
	if (streq(line, "START")) {
		char err[1024] = "";
		if (s->started || do_start(s, err, sizeof(err)) >= 0)
			reply(c, "OK %d\n", (int)s->pid);
		else
			reply(c, "ERR %s\n", err);
		client_drop(s, c);
	} else if (startswith(line, "ATTACH")) {
		const char *f = line + 6;
		c->kind = CLIENT_ATTACH;
		c->want_in = strchr(f, 'i') != NULL;
		c->want_out = strchr(f, 'o') != NULL;
		c->want_err = strchr(f, 'e') != NULL;
		if (s->exited) {
			char code[16];
			int n = snprintf(code, sizeof(code), "%d", s->exit_code);
			send_frame(c->fd, 9, code, (size_t)n);
			client_drop(s, c);
		}
	} else if (startswith(line, "RESIZE ")) {
		unsigned h = 0, w = 0;
		if (sscanf(line + 7, "%u %u", &h, &w) == 2 && s->pty >= 0) {
			struct winsize ws = {.ws_row = (unsigned short)h,
					     .ws_col = (unsigned short)w};
			ioctl(s->pty, TIOCSWINSZ, &ws);
		}
		reply(c, "OK\n");
		client_drop(s, c);
	} else if (streq(line, "WAIT")) {
		c->kind = CLIENT_WAIT;
		if (s->exited) {
			reply(c, "EXIT %d %llu\n", s->exit_code,
			      (unsigned long long)s->finished_ns);
			client_drop(s, c);
		}
	} else if (streq(line, "CLOSESTDIN")) {
		close_stdin(s);
		reply(c, "OK\n");
		client_drop(s, c);
	} else {
		reply(c, "ERR unknown command\n");
		client_drop(s, c);
	}
}

/* Bytes from a client: a command line first, then (attach) stdin frames. */
static void client_input(struct shim *s, struct client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n <= 0) {
		if (c->kind == CLIENT_ATTACH && c->want_in && s->o->stdin_once &&
		    !s->stdin_closed_once) {
			s->stdin_closed_once = true;
			close_stdin(s);
		}
		client_drop(s, c);
		return;
	}
	c->len += (size_t)n;
	if (c->kind == CLIENT_NEW) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (!nl) {
			if (c->len == sizeof(c->buf))
				client_drop(s, c);
			return;
		}
		size_t used = (size_t)(nl - c->buf) + 1;
		char line[256];
		snprintf(line, sizeof(line), "%.*s", (int)used, c->buf);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		handle_command(s, c, line);
		if (!c->used)
			return;
	}
	if (c->kind != CLIENT_ATTACH)
		return;
	/* stdin frames */
	while (c->len >= 5) {
		uint32_t len = ((uint32_t)(uint8_t)c->buf[1] << 24) |
			       ((uint32_t)(uint8_t)c->buf[2] << 16) |
			       ((uint32_t)(uint8_t)c->buf[3] << 8) | (uint32_t)(uint8_t)c->buf[4];
		if (len > sizeof(c->buf) - 5) {
			client_drop(s, c);
			return;
		}
		if (c->len < 5 + len)
			break;
		if (c->buf[0] == 0 && c->want_in)
			write_stdin(s, c->buf + 5, len);
		else if (c->buf[0] == 4 && c->want_in && (s->o->stdin_once || s->pty < 0))
			close_stdin(s);
		memmove(c->buf, c->buf + 5 + len, c->len - 5 - len);
		c->len -= 5 + len;
	}
}

static void accept_client(struct shim *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	struct timeval tv = {.tv_sec = 10};
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];
		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->used = true;
		c->kind = CLIENT_NEW;
		/* A stuck reader must not stall the container's output forever. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		ev.data.u32 = 100 + (uint32_t)i;
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
		return;
	}
	close(fd);
}

/* ---- the process ---------------------------------------------------------------- */

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))], payload[256];
	struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *c;
	int fd = -1;
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd >= 0 ? fd : -EBADMSG;
}

/*
 * The process inherits fds 0-2 from us at clone time: put its pipes there for the
 * duration of the create (or exec), then take them back.
 */
struct stdio_swap {
	int saved[3];
};

static int setup_stdio(struct shim *s, struct stdio_swap *sw, char *errbuf, size_t errlen)
{
	int in[2] = {-1, -1}, out[2], err[2];
	int child[3];

	if (s->o->tty) {
		/* The runtime gives the process a pty; stdin/out/err come from it. */
		child[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
		child[1] = dup(child[0]);
		child[2] = dup(child[0]);
	} else {
		if (s->o->open_stdin) {
			if (pipe2(in, O_CLOEXEC) < 0)
				return errbuf_set(errbuf, errlen, errno, "pipe");
		}
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			return errbuf_set(errbuf, errlen, errno, "pipe");
		child[0] = in[0] >= 0 ? in[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
		child[1] = out[1];
		child[2] = err[1];
		s->in_w = in[1];
		s->out_r = out[0];
		s->err_r = err[0];
	}
	for (int i = 0; i < 3; i++) {
		sw->saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
		if (dup2(child[i], i) < 0)
			return errbuf_set(errbuf, errlen, errno, "dup2");
		close(child[i]);
	}
	return 0;
}

static void restore_stdio(struct stdio_swap *sw)
{
	for (int i = 0; i < 3; i++)
		if (sw->saved[i] >= 0) {
			dup2(sw->saved[i], i);
			close(sw->saved[i]);
		}
}

/* exec mode: the process is made at START. */
static int do_start(struct shim *s, char *errbuf, size_t errlen)
{
	struct stdio_swap sw = {{-1, -1, -1}};
	_cleanup_error_ struct error *e = NULL;
	int r, sp[2] = {-1, -1};

	if (!s->o->exec_id) {
		r = runtime_start(&s->rt, s->o->id, &e);
		if (r < 0)
			return errbuf_set(errbuf, errlen, 0, "%s", e->msg) + r;
		s->started = true;
		return 0;
	}

	_cleanup_json_ json_object *doc = NULL;
	struct oci_process *p = NULL;
	struct runtime_exec_opts eo = {.detach = true};
	int status = 0;
	_cleanup_free_ char *pidfile = xasprintf("%s/x-%.12s.pid", s->o->dir, s->o->exec_id);

	if (json_parse_file(s->o->process_path, 1 << 20, &doc, &e) < 0 ||
	    oci_process_parse(doc, &p, &e) < 0)
		return errbuf_set(errbuf, errlen, 0, "%s", e->msg) - EINVAL;
	if (s->o->tty) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
			oci_process_free(p);
			return errbuf_set(errbuf, errlen, errno, "socketpair");
		}
		eo.use_console_fd = true;
		eo.console_fd = sp[1];
	}
	eo.pid_file = pidfile;
	r = setup_stdio(s, &sw, errbuf, errlen);
	if (r >= 0) {
		r = runtime_exec(&s->rt, s->o->id, p, &eo, &status, &e);
		restore_stdio(&sw);
		if (r < 0)
			errbuf_set(errbuf, errlen, 0, "%s", e->msg);
	}
	oci_process_free(p);
	if (sp[1] >= 0)
		close(sp[1]);
	if (r >= 0 && s->o->tty) {
		s->pty = recv_fd(sp[0]);
		if (s->pty < 0)
			r = errbuf_set(errbuf, errlen, s->pty, "receive the pty");
	}
	if (sp[0] >= 0)
		close(sp[0]);
	if (r < 0)
		return r;
	{
		char *txt = NULL;
		if (read_file_at(AT_FDCWD, pidfile, 64, &txt, NULL) >= 0)
			s->pid = atoi(txt);
		free(txt);
		unlink(pidfile);
	}
	s->started = true;
	return 0;
}

static int do_create(struct shim *s, char *errbuf, size_t errlen)
{
	struct runtime_create_opts co = {.id = s->o->id, .bundle = s->o->bundle};
	struct stdio_swap sw = {{-1, -1, -1}};
	_cleanup_error_ struct error *e = NULL;
	_cleanup_free_ char *pidfile = xasprintf("%s/init.pid", s->o->dir);
	int r, sp[2] = {-1, -1};

	if (s->o->tty) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
			return errbuf_set(errbuf, errlen, errno, "socketpair");
		co.use_console_fd = true;
		co.console_fd = sp[1];
	}
	co.pid_file = pidfile;
	r = setup_stdio(s, &sw, errbuf, errlen);
	if (r >= 0) {
		r = runtime_create(&s->rt, &co, &e);
		restore_stdio(&sw);
		if (r < 0)
			errbuf_set(errbuf, errlen, 0, "%s", e->msg);
	}
	if (sp[1] >= 0)
		close(sp[1]);
	if (r >= 0 && s->o->tty) {
		s->pty = recv_fd(sp[0]);
		if (s->pty < 0)
			r = errbuf_set(errbuf, errlen, s->pty, "receive the pty");
	}
	if (sp[0] >= 0)
		close(sp[0]);
	if (r < 0)
		return r;
	{
		char *txt = NULL;
		if (read_file_at(AT_FDCWD, pidfile, 64, &txt, NULL) >= 0)
			s->pid = atoi(txt);
		free(txt);
	}
	return 0;
}

static void on_exit_status(struct shim *s, int status)
{
	s->exited = true;
	s->finished_ns = realtime_ns();
	if (WIFEXITED(status))
		s->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		s->exit_code = 128 + WTERMSIG(status);
	else
		s->exit_code = 255;
}

static void reap(struct shim *s)
{
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);
		if (p <= 0)
			return;
		if (p == s->pid && !s->exited)
			on_exit_status(s, status);
	}
}

/* Read what a pipe (or the pty) has; false at EOF. */
static bool pump(struct shim *s, int *fd, uint8_t stream)
{
	char buf[32768];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n > 0) {
		struct logbuf *lb = stream == 2 ? &s->lb_err : &s->lb_out;
		log_feed(s, lb, stream == 2 ? "stderr" : "stdout", buf, (size_t)n, false);
		log_flush(s);
		fan_out(s, stream, buf, (size_t)n);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, *fd, NULL);
	if (*fd != s->pty)
		close(*fd);
	*fd = -1;
	return false;
}

static void finish(struct shim *s)
{
	char line[64];
	int n;

	log_feed(s, &s->lb_out, "stdout", NULL, 0, true);
	log_feed(s, &s->lb_err, "stderr", NULL, 0, true);
	log_flush(s);
	n = snprintf(line, sizeof(line), "%d %llu\n", s->exit_code,
		     (unsigned long long)s->finished_ns);
	(void)write_file_atomic(s->exit_path, line, (size_t)n, 0600);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];
		if (!c->used)
			continue;
		if (c->kind == CLIENT_WAIT) {
			reply(c, "EXIT %d %llu\n", s->exit_code,
			      (unsigned long long)s->finished_ns);
		} else if (c->kind == CLIENT_ATTACH) {
			char code[16];
			int k = snprintf(code, sizeof(code), "%d", s->exit_code);
			send_frame(c->fd, 9, code, (size_t)k);
		}
		client_drop(s, c);
	}
	/* Late clients get a refusal (and read the exit file) instead of waiting for the
	 * cleanup below. */
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
	}
	unlink(s->sock_path);
	if (!s->o->exec_id) {
		_cleanup_error_ struct error *e = NULL;
		if (runtime_delete(&s->rt, s->o->id, true, &e) < 0)
			log_warn("berth-shim %s: %s", s->o->id, e->msg);
	}
	/* No unlink here: a new shim of the same container may own the path by now. */
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

static int loop(struct shim *s)
{
	uint64_t drain_deadline = 0;

	for (;;) {
		struct epoll_event evs[16];
		int timeout = -1, n;

		if (s->exited) {
			bool open_out = s->out_r >= 0 || s->err_r >= 0 || s->pty >= 0;
			uint64_t now = now_usec(CLOCK_MONOTONIC);
			if (!drain_deadline)
				drain_deadline = now + 2000000;
			if (!open_out || now >= drain_deadline)
				break;
			timeout = (int)((drain_deadline - now) / 1000) + 1;
		}
		n = epoll_wait(s->epfd, evs, ELEMENTSOF(evs), timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			uint32_t k = evs[i].data.u32;
			if (k == 1) {
				struct signalfd_siginfo si;
				while (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
					;
				reap(s);
			} else if (k == 2) {
				accept_client(s);
			} else if (k == 3 && s->out_r >= 0) {
				pump(s, &s->out_r, 1);
			} else if (k == 4 && s->err_r >= 0) {
				pump(s, &s->err_r, 2);
			} else if (k == 5 && s->pty >= 0) {
				if (!pump(s, &s->pty, 1)) {
					close(s->pty);
					s->pty = -1;
				}
			} else if (k >= 100 && k < 100 + MAX_CLIENTS) {
				struct client *c = &s->clients[k - 100];
				if (c->used)
					client_input(s, c);
			}
		}
		/* Output pipes registered once the process exists. */
	}
	return 0;
}

static void watch_fd(struct shim *s, int fd, uint32_t key)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = key};
	if (fd >= 0)
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int shim_run(struct shim *s, int status_fd)
{
	const struct shim_opts *o = s->o;
	char err[1024] = "";
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->listen_fd = listen_on(s->sock_path, err, sizeof(err));
	r = s->listen_fd;
	if (r >= 0 && !o->exec_id)
		r = do_create(s, err, sizeof(err));
	if (r < 0) {
		dprintf(status_fd, "error %s\n", err[0] ? err : strerror(-r));
		close(status_fd);
		unlink(s->sock_path);
		return 1;
	}
	if (o->log_path) {
		s->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		struct stat st;
		if (s->log_fd >= 0 && fstat(s->log_fd, &st) == 0)
			s->log_size = (uint64_t)st.st_size;
	}
	watch_fd(s, s->sigfd, 1);
	watch_fd(s, s->listen_fd, 2);
	dprintf(status_fd, "ready %d\n", (int)getpid());
	close(status_fd);

	/* Container mode: the pipes exist now; exec mode: after START. */
	bool watched = false;
	for (;;) {
		if (!watched && (s->started || !o->exec_id)) {
			watch_fd(s, s->out_r, 3);
			watch_fd(s, s->err_r, 4);
			watch_fd(s, s->pty, 5);
			watched = true;
		}
		if (!watched) {
			/* Wait for START in exec mode: serve the socket until it comes. */
			struct epoll_event ev;
			int n = epoll_wait(s->epfd, &ev, 1, -1);
			if (n == 1 && ev.data.u32 == 2)
				accept_client(s);
			else if (n == 1 && ev.data.u32 >= 100 && ev.data.u32 < 100 + MAX_CLIENTS) {
				struct client *c = &s->clients[ev.data.u32 - 100];
				if (c->used)
					client_input(s, c);
			} else if (n == 1 && ev.data.u32 == 1) {
				struct signalfd_siginfo si;
				while (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
					;
				reap(s);
			}
			continue;
		}
		break;
	}
	reap(s);
	loop(s);
	finish(s);
	return 0;
}

int shim_main(const struct shim_opts *o)
{
	struct shim s = {.o = o, .out_r = -1, .err_r = -1, .in_w = -1, .pty = -1, .log_fd = -1};
	pid_t pid;
	int status_fd = o->status_fd >= 0 ? o->status_fd : STDOUT_FILENO;

	/* calloc: pages of clients that never connect are never touched (RSS). */
	s.clients = xnew0(struct client, MAX_CLIENTS);
	s.rt.state_root = o->runtime_root;
	s.rt.cgroup_root = o->cgroup_root ? o->cgroup_root : "/sys/fs/cgroup";
	s.rt.systemd_cgroup = o->systemd_cgroup;
	s.sock_path = o->exec_id ? xasprintf("%s/x-%.12s.sock", o->dir, o->exec_id)
				 : xasprintf("%s/shim.sock", o->dir);
	s.exit_path = o->exec_id ? xasprintf("%s/x-%.12s.exit", o->dir, o->exec_id)
				 : xasprintf("%s/exit", o->dir);
	unlink(s.exit_path);

	/* Double fork: the shim is nobody's child, in its own session, and outlives berthd. */
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0) {
		int st;
		free(s.clients);
		free(s.sock_path);
		free(s.exit_path);
		waitpid(pid, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (status_fd < 3) {
		/* Out of the way of the stdio the process inherits from us. */
		int moved = fcntl(status_fd, F_DUPFD_CLOEXEC, 3);
		if (moved >= 0)
			status_fd = moved;
	}
	{
		/* Detach our own stdio; errors go to the status fd. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			for (int i = 0; i < 3; i++)
				if (i != status_fd)
					dup2(null, i);
			close(null);
		}
	}
	{
		int rc = shim_run(&s, status_fd);
		free(s.clients);
		free(s.sock_path);
		free(s.exit_path);
		_exit(rc);
	}
}
