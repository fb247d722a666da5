/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streams between the daemon and the terminal: stdcopy demultiplexing, raw
 * copies, hijacked attach sessions (stdin pump, detach keys, raw terminal),
 * resize and signal proxying, and docker's JSON progress messages.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

#include "internal.h"

static ssize_t conn_read(struct http_conn *c, bool raw, void *buf, size_t n)
{
	return raw ? http_conn_read_raw(c, buf, n) : http_conn_read_body(c, buf, n);
}

/* Read exactly n bytes; 0 at a clean EOF before the first byte, -EPIPE after. */
static ssize_t conn_read_full(struct http_conn *c, bool raw, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = conn_read(c, raw, (char *)buf + got, n - got);
		if (k < 0)
			return k;
		if (k == 0)
			return got == 0 ? 0 : -EPIPE;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

int stream_demux(struct http_conn *c, bool raw_read, int out_fd, int err_fd, struct error **err)
{
	uint8_t h[8];
	char *buf = NULL;
	size_t cap = 0;

	for (;;) {
		ssize_t k = conn_read_full(c, raw_read, h, sizeof(h));
		if (k == 0)
			break;
		if (k < 0) {
			free(buf);
			return error_set(err, (int)k, "error reading stream");
		}
		size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
		if (len > cap) {
			cap = len;
			buf = xrealloc(buf, cap);
		}
		if (len > 0) {
			k = conn_read_full(c, raw_read, buf, len);
			if (k <= 0) {
				free(buf);
				return error_set(err, k ? (int)k : -EPIPE, "error reading stream");
			}
		}
		switch (h[0]) {
		case 0:
		case 1:
			(void)loop_write(out_fd, buf, len);
			break;
		case 2:
			(void)loop_write(err_fd, buf, len);
			break;
		case 3: {
			int r = error_setx(err, -EIO, "error from daemon in stream: %.*s", (int)len,
					   buf);
			free(buf);
			return r;
		}
		default:
			free(buf);
			return error_setx(err, -EBADMSG, "Unrecognized input header: %d", h[0]);
		}
	}
	free(buf);
	return 0;
}

int stream_copy(struct http_conn *c, bool raw_read, int out_fd, struct error **err)
{
	char buf[32768];
	for (;;) {
		ssize_t k = conn_read(c, raw_read, buf, sizeof(buf));
		if (k == 0)
			return 0;
		if (k < 0) {
			if (k == -ECONNRESET || k == -EPIPE)
				return 0;
			return error_set(err, (int)k, "error reading stream");
		}
		(void)loop_write(out_fd, buf, (size_t)k);
	}
}

/* ---- JSON messages ------------------------------------------------------------------ */

static char *progress_string(json_object *pd, int width)
{
	int64_t cur = jint(pd, "current"), total = jint(pd, "total");
	const char *units = jstr(pd, "units");
	struct sbuf b = {0};

	if (cur <= 0 && total <= 0)
		return NULL;
	if (total <= 0) {
		if (!*units) {
			_cleanup_free_ char *s = format_human_size((double)cur, 4);
			return xasprintf("%8s", s);
		}
		return xasprintf("%" PRId64 " %s", cur, units);
	}
	int pct = (int)((double)cur / (double)total * 100) / 2;
	if (pct > 50)
		pct = 50;
	if (width > 110) {
		sbuf_puts(&b, "[");
		for (int i = 0; i < pct; i++)
			sbuf_puts(&b, "=");
		sbuf_puts(&b, ">");
		for (int i = pct; i < 50; i++)
			sbuf_puts(&b, " ");
		sbuf_puts(&b, "] ");
	}
	if (!jbool(pd, "hidecounts")) {
		if (!*units) {
			_cleanup_free_ char *c = format_human_size((double)cur, 4);
			_cleanup_free_ char *t = format_human_size((double)total, 4);
			if (cur > total)
				sbuf_printf(&b, "%8s", c);
			else
				sbuf_printf(&b, "%8s/%s", c, t);
		} else
			sbuf_printf(&b, "%" PRId64 "/%" PRId64 " %s", cur, total, units);
	}
	return sbuf_take(&b);
}

int stream_jsonmessages(struct http_conn *c, FILE *out, bool tty,
			void (*aux_cb)(json_object *aux, void *userdata), void *userdata,
			struct error **err)
{
	json_tokener *tok = json_tokener_new();
	_cleanup_strv_free_ char **ids = NULL;
	char buf[8192];
	int width = 80, rows;
	int ret = 0;

	if (tty)
		(void)term_size(fileno(out), &rows, &width);
	for (;;) {
		ssize_t k = http_conn_read_body(c, buf, sizeof(buf));
		if (k <= 0) {
			if (k < 0)
				ret = error_set(err, (int)k, "error reading progress stream");
			break;
		}
		size_t off = 0;
		while (off < (size_t)k && ret == 0) {
			/* skip whitespace between messages */
			while (off < (size_t)k && strchr(" \t\r\n", buf[off]))
				off++;
			if (off >= (size_t)k)
				break;
			json_object *m =
			    json_tokener_parse_ex(tok, buf + off, (int)((size_t)k - off));
			enum json_tokener_error je = json_tokener_get_error(tok);
			if (je == json_tokener_continue) {
				off = (size_t)k;
				break;
			}
			if (je != json_tokener_success) {
				ret = error_setx(err, -EBADMSG, "invalid progress message: %s",
						 json_tokener_error_desc(je));
				break;
			}
			off += (size_t)json_tokener_get_parse_end(tok);
			json_tokener_reset(tok);

			json_object *aux = jget(m, "aux");
			if (aux) {
				if (aux_cb)
					aux_cb(aux, userdata);
				json_object_put(m);
				continue;
			}
			json_object *ed = jget(m, "errorDetail");
			if (ed || jget(m, "error")) {
				const char *msg = ed ? jstr(ed, "message") : jstr(m, "error");
				ret = error_setx(err, -EIO, "%s", msg);
				json_object_put(m);
				break;
			}
			const char *id = jstr(m, "id");
			json_object *pd = jget(m, "progressDetail");
			_cleanup_free_ char *prog = pd ? progress_string(pd, width) : NULL;
			size_t diff = 0;
			if (*id && (pd || *jstr(m, "progress"))) {
				size_t line = 0, n = strv_length(ids);
				bool found = false;
				for (; line < n; line++)
					if (streq(ids[line], id)) {
						found = true;
						break;
					}
				if (!found) {
					ids = strv_append(ids, id);
					line = n;
					if (tty)
						fputs("\n", out);
				}
				diff = strv_length(ids) - line;
				if (tty && diff)
					fprintf(out, "\033[%zuA", diff);
			} else {
				strv_free(ids);
				ids = NULL;
			}
			const char *endl = "";
			const char *stream = jstr(m, "stream");
			if (tty && !*stream && pd) {
				fputs("\033[2K\r", out);
				endl = "\r";
			} else if (prog && *prog) {
				json_object_put(m);
				continue;
			}
			if (*id)
				fprintf(out, "%s: ", id);
			if (*jstr(m, "from"))
				fprintf(out, "(from %s) ", jstr(m, "from"));
			if (pd && tty)
				fprintf(out, "%s %s%s", jstr(m, "status"), prog ? prog : "", endl);
			else if (*stream)
				fprintf(out, "%s%s", stream, endl);
			else
				fprintf(out, "%s%s\n", jstr(m, "status"), endl);
			if (tty && *id && diff)
				fprintf(out, "\033[%zuB", diff);
			fflush(out);
			json_object_put(m);
		}
		if (ret < 0)
			break;
	}
	json_tokener_free(tok);
	return ret;
}

/* ---- terminals -------------------------------------------------------------------------- */

bool term_isatty(int fd)
{
	return isatty(fd) == 1;
}

int term_size(int fd, int *rows, int *cols)
{
	struct winsize ws;
	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return -errno;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}

int term_make_raw(int fd, void *saved, size_t saved_len)
{
	struct termios t;
	if (saved_len < sizeof(t) || tcgetattr(fd, &t) < 0)
		return -errno;
	memcpy(saved, &t, sizeof(t));
	cfmakeraw(&t); /* docker's MakeRaw also clears OPOST on the (shared) terminal */
	if (tcsetattr(fd, TCSADRAIN, &t) < 0)
		return -errno;
	return 0;
}

void term_restore(int fd, const void *saved)
{
	(void)tcsetattr(fd, TCSADRAIN, (const struct termios *)saved);
}

/* ---- signals ----------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM},     {"BUS", SIGBUS},	     {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"FPE", SIGFPE},	      {"HUP", SIGHUP},	     {"ILL", SIGILL},
    {"INT", SIGINT},   {"IO", SIGIO},	      {"IOT", SIGIOT},	     {"KILL", SIGKILL},
    {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},     {"PWR", SIGPWR},
    {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP},
    {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},     {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},	     {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
};

int signal_parse(const char *s)
{
	int n;
	const char *p = s;
	if (safe_atoi(s, &n) >= 0)
		return n > 0 && n < 65 ? n : -EINVAL;
	if (strncasecmp(p, "SIG", 3) == 0)
		p += 3;
	for (size_t i = 0; i < ELEMENTSOF(signals); i++)
		if (strcasecmp(signals[i].name, p) == 0)
			return signals[i].sig;
	if (strncasecmp(p, "RTMIN", 5) == 0) {
		int off = 0;
		if (p[5] == '+' && safe_atoi(p + 6, &off) < 0)
			return -EINVAL;
		return SIGRTMIN + off <= SIGRTMAX ? SIGRTMIN + off : -EINVAL;
	}
	return -EINVAL;
}

const char *signal_name(int sig)
{
	for (size_t i = 0; i < ELEMENTSOF(signals); i++)
		if (signals[i].sig == sig && !streq(signals[i].name, "IOT") &&
		    !streq(signals[i].name, "POLL"))
			return signals[i].name;
	return NULL;
}

static int sig_pipe[2] = {-1, -1};
static pthread_t sig_thread;
static bool sig_running;
static struct cli *sig_cli;
static char *sig_id;

static void sig_handler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

static void *sig_loop(void *arg)
{
	for (;;) {
		unsigned char b;
		ssize_t k = read(sig_pipe[0], &b, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || b == 0)
			break;
		if (b == SIGWINCH)
			resize_tty(sig_cli, "containers", sig_id);
		const char *name = signal_name(b);
		_cleanup_free_ char *num = NULL;
		if (!name)
			name = num = xasprintf("%d", b);
		_cleanup_free_ char *path =
		    xasprintf("/containers/%s/kill?signal=%s", sig_id, name);
		struct error *err = NULL;
		if (cli_call(sig_cli, "POST", path, NULL, NULL, NULL, &err) < 0)
			log_debug("error sending signal: %s", err->msg);
		error_free(err);
	}
	return NULL;
}

void sigproxy_start(struct cli *cli, const char *id)
{
	struct sigaction sa = {.sa_handler = sig_handler, .sa_flags = SA_RESTART};

	if (sig_running || pipe2(sig_pipe, O_CLOEXEC) < 0)
		return;
	sig_cli = cli;
	sig_id = xstrdup(id);
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < 32; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD || s == SIGPIPE || s == SIGURG ||
		    s == SIGSEGV || s == SIGBUS || s == SIGFPE || s == SIGILL || s == SIGTRAP ||
		    s == SIGABRT || s == SIGTTIN || s == SIGTTOU || s == SIGTSTP)
			continue;
		(void)sigaction(s, &sa, NULL);
	}
	if (pthread_create(&sig_thread, NULL, sig_loop, NULL) == 0)
		sig_running = true;
}

void sigproxy_stop(void)
{
	if (!sig_running)
		return;
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGPIPE)
			signal(s, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	unsigned char z = 0;
	(void)!write(sig_pipe[1], &z, 1);
	pthread_join(sig_thread, NULL);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	free(sig_id);
	sig_id = NULL;
	sig_running = false;
}

void resize_tty(struct cli *cli, const char *kind, const char *id)
{
	int rows = 0, cols = 0;
	if (term_size(STDOUT_FILENO, &rows, &cols) < 0 || rows == 0 || cols == 0)
		return;
	_cleanup_free_ char *path = xasprintf("/%s/%s/resize?h=%d&w=%d", kind, id, rows, cols);
	struct error *err = NULL;
	if (cli_call(cli, "POST", path, NULL, NULL, NULL, &err) < 0)
		log_debug("failed to resize tty: %s", err->msg);
	error_free(err);
}

/* ---- attach sessions ------------------------------------------------------------------------ */

struct pump {
	int in_fd, sock;
	bool tty;
	unsigned char keys[16];
	size_t n_keys;
	volatile bool detached;
};

/* "ctrl-p,ctrl-q" -> bytes */
static int parse_detach_keys(const char *s, unsigned char *out, size_t *n)
{
	_cleanup_free_ char *d = xstrdup(s);
	*n = 0;
	for (char *t = strtok(d, ","); t; t = strtok(NULL, ",")) {
		if (*n >= 16)
			return -EINVAL;
		if (strlen(t) == 1)
			out[(*n)++] = (unsigned char)t[0];
		else if (startswith(t, "ctrl-") && strlen(t) == 6) {
			char c = t[5];
			if (c >= 'a' && c <= 'z')
				out[(*n)++] = (unsigned char)(c - 'a' + 1);
			else if (c == '@')
				out[(*n)++] = 0;
			else if (c == '[')
				out[(*n)++] = 27;
			else if (c == '\\')
				out[(*n)++] = 28;
			else if (c == ']')
				out[(*n)++] = 29;
			else if (c == '^')
				out[(*n)++] = 30;
			else if (c == '_')
				out[(*n)++] = 31;
			else
				return -EINVAL;
		} else
			return -EINVAL;
	}
	return 0;
}

static void *stdin_loop(void *arg)
{
	struct pump *p = arg;
	unsigned char buf[4096];
	size_t matched = 0;

	for (;;) {
		ssize_t k = read(p->in_fd, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (p->tty && p->n_keys) {
			/* the detach sequence is swallowed; a partial match is replayed */
			unsigned char outb[4096 + 16];
			size_t o = 0;
			for (ssize_t i = 0; i < k; i++) {
				if (buf[i] == p->keys[matched]) {
					if (++matched == p->n_keys) {
						p->detached = true;
						shutdown(p->sock, SHUT_RDWR);
						return NULL;
					}
					continue;
				}
				if (matched) {
					memcpy(outb + o, p->keys, matched);
					o += matched;
					matched = 0;
				}
				if (buf[i] == p->keys[0]) {
					matched = 1;
					if (p->n_keys == 1) {
						p->detached = true;
						shutdown(p->sock, SHUT_RDWR);
						return NULL;
					}
					continue;
				}
				outb[o++] = buf[i];
			}
			if (o && loop_write(p->sock, outb, o) < 0)
				break;
			continue;
		}
		if (loop_write(p->sock, buf, (size_t)k) < 0)
			break;
	}
	shutdown(p->sock, SHUT_WR);
	return NULL;
}

static struct pump the_pump; /* the stdin thread may outlive the session */

int attach_pump_begin(struct cli_resp *r, bool tty, int stdin_fd, const char *detach_keys,
		      struct error **err)
{
	struct pump *p = &the_pump;
	pthread_t th;

	*p = (struct pump){.in_fd = stdin_fd, .sock = r->fd, .tty = tty};
	if (parse_detach_keys(detach_keys ? detach_keys : "ctrl-p,ctrl-q", p->keys, &p->n_keys) < 0)
		(void)parse_detach_keys("ctrl-p,ctrl-q", p->keys, &p->n_keys);
	if (stdin_fd >= 0) {
		if (pthread_create(&th, NULL, stdin_loop, p) != 0)
			return error_set(err, -EAGAIN, "failed to start the stdin pump");
		pthread_detach(th);
	} else
		shutdown(r->fd, SHUT_WR);
	return 0;
}

int attach_pump_output(struct cli_resp *r, bool tty, bool *detached, struct error **err)
{
	int ret;

	*detached = false;
	if (tty)
		ret = stream_copy(&r->conn, true, STDOUT_FILENO, err);
	else
		ret = stream_demux(&r->conn, true, STDOUT_FILENO, STDERR_FILENO, err);
	if (the_pump.detached || ret == -ECONNRESET || ret == -EPIPE) {
		*detached = the_pump.detached;
		error_free(err ? *err : NULL);
		if (err)
			*err = NULL;
		return 0;
	}
	return ret;
}
