/* SPDX-License-Identifier: Apache-2.0 */
/* attach (through the shim's socket) and logs (from the json-file log). */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "http/http.h"
#include "internal.h"

/* ---- attach -------------------------------------------------------------------- */

/* stdin from the client to the shim as frames; a frame 4 at EOF. */
void *shim_stdin_pump(void *arg)
{
	struct shim_pump *p = arg;
	char buf[8192 + 5];
	size_t off = 0;
	for (;;) {
		ssize_t n;
		if (off < p->prefix_len) {
			/* what the HTTP layer read past the request head goes first */
			n = (ssize_t)(p->prefix_len - off < sizeof(buf) - 5 ? p->prefix_len - off
									    : sizeof(buf) - 5);
			memcpy(buf + 5, p->prefix + off, (size_t)n);
			off += (size_t)n;
		} else {
			n = read(p->in_fd, buf + 5, sizeof(buf) - 5);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			uint8_t eof[5] = {4, 0, 0, 0, 0};
			(void)send(p->shim_fd, eof, 5, MSG_NOSIGNAL);
			break;
		}
		buf[0] = 0;
		buf[1] = (char)((uint32_t)n >> 24);
		buf[2] = (char)((uint32_t)n >> 16);
		buf[3] = (char)((uint32_t)n >> 8);
		buf[4] = (char)n;
		if (send(p->shim_fd, buf, (size_t)n + 5, MSG_NOSIGNAL) < 0)
			break;
	}
	return NULL;
}

static int write_out(int out_fd, bool tty, uint8_t stream, const char *data, size_t len)
{
	if (tty)
		return loop_write(out_fd, data, len) < 0 ? -EPIPE : 0;
	return stdcopy_write(out_fd, stream == 2 ? STDCOPY_STDERR : STDCOPY_STDOUT, data, len);
}

/* Read frames from the shim until exit or EOF, writing them out. */
int shim_relay_frames(int shim_fd, int out_fd, bool tty, bool want_out, bool want_err)
{
	char hdr[5];
	char *buf = xmalloc(65536);
	int r = 0;
	for (;;) {
		ssize_t n = loop_read(shim_fd, hdr, 5);
		uint32_t len;
		if (n != 5)
			break;
		len = ((uint32_t)(uint8_t)hdr[1] << 24) | ((uint32_t)(uint8_t)hdr[2] << 16) |
		      ((uint32_t)(uint8_t)hdr[3] << 8) | (uint32_t)(uint8_t)hdr[4];
		if (len > 65536) {
			r = -EBADMSG;
			break;
		}
		if (loop_read(shim_fd, buf, len) != (ssize_t)len)
			break;
		if (hdr[0] == 9)
			break; /* exited */
		if ((hdr[0] == 1 && !want_out) || (hdr[0] == 2 && !want_err))
			continue;
		if (write_out(out_fd, tty, (uint8_t)hdr[0], buf, len) < 0) {
			r = -EPIPE;
			break;
		}
	}
	free(buf);
	return r;
}

static int replay_logs(struct engine *e, const char *id, bool tty, bool out, bool err_, int out_fd)
{
	struct logs_opts lo = {.stdout_ = out, .stderr_ = err_, .tail = -1};
	(void)tty;
	return engine_container_logs(e, id, &lo, out_fd, NULL, NULL);
}

int engine_container_attach(struct engine *e, const char *id, const struct attach_opts *o,
			    int in_fd, int out_fd, struct error **err)
{
	struct container *c;
	_cleanup_free_ char *sock = NULL;
	_cleanup_close_ int fd = -EBADF;
	bool tty, counted = false;
	uint64_t start_gen;
	char line[32];
	int r = 0;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, id);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", id);
	}
	tty = c->tty;
	{
		_cleanup_free_ char *run = container_rundir(e, c->id);
		sock = xasprintf("%s/shim.sock", run);
	}
	pthread_mutex_unlock(&e->lock);

	if (o->logs)
		replay_logs(e, id, tty, o->stdout_, o->stderr_, out_fd);
	engine_container_event(e, id, "attach", NULL, NULL, NULL, NULL); /* as dockerd */
	if (!o->stream)
		return 0;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, id);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	if (c->status != C_RUNNING && c->status != C_PAUSED) {
		/* Not running: wait for the next start (docker run attaches first). */
		start_gen = c->start_gen;
		c->pending_attach++;
		counted = true;
		while (!e->closing) {
			c = container_find(e, id);
			if (!c || c->start_gen != start_gen)
				break;
			pthread_cond_wait(&e->cond, &e->lock);
		}
		if (!c || e->closing) {
			pthread_mutex_unlock(&e->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&e->lock);

	snprintf(line, sizeof(line), "ATTACH %s%s%s\n", o->stdin_ && in_fd >= 0 ? "i" : "",
		 o->stdout_ ? "o" : "", o->stderr_ ? "e" : "");
	fd = shim_connect(sock, line, err);
	pthread_mutex_lock(&e->lock);
	c = container_find(e, id);
	if (counted && c) {
		c->attached++;
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	if (fd < 0) {
		/* It may have exited already: nothing to stream. */
		if (err && *err) {
			error_free(*err);
			*err = NULL;
		}
		return 0;
	}
	if (o->stdin_ && in_fd >= 0) {
		pthread_t t;
		struct shim_pump p = {.in_fd = in_fd,
				      .shim_fd = fd,
				      .prefix = o->stdin_prefix,
				      .prefix_len = o->stdin_prefix_len};
		if (pthread_create(&t, NULL, shim_stdin_pump, &p) == 0) {
			r = shim_relay_frames(fd, out_fd, tty, o->stdout_, o->stderr_);
			/* Unblock the stdin reader: the stream is over. */
			shutdown(fd, SHUT_RDWR);
			shutdown(in_fd, SHUT_RD);
			pthread_join(t, NULL);
			return r;
		}
	}
	r = shim_relay_frames(fd, out_fd, tty, o->stdout_, o->stderr_);
	return r;
}

/* ---- logs ---------------------------------------------------------------------- */

static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t ns = 0;
	if (!p)
		return 0;
	if (*p == '.') {
		int digits = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 9) {
				ns = ns * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		while (digits++ < 9)
			ns *= 10;
	}
	return (int64_t)timegm(&tm) * 1000000000LL + ns;
}

struct logline {
	char *log;
	size_t len;
	int stream;
	char *time;
	int64_t t;
	char *attrs; /* for --details: "k=v,k2=v2 " (keys sorted, query-escaped), or " " */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Go's url.QueryEscape */
static char *query_escape(const char *s)
{
	char *out = xmalloc(3 * strlen(s) + 1), *p = out;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			*p++ = (char)c;
		else if (c == ' ')
			*p++ = '+';
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = 0;
	return out;
}

/* dockerd's details prefix: the line's attributes (json-file's "attrs"), then a space. */
static char *details_prefix(json_object *attrs)
{
	_cleanup_strv_free_ char **kv = NULL;
	char *out;
	size_t n;
	if (!attrs || !json_object_is_type(attrs, json_type_object))
		return xstrdup(" ");
	json_object_object_foreach(attrs, k, v)
	{
		_cleanup_free_ char *ek = query_escape(k);
		_cleanup_free_ char *ev = query_escape(json_object_get_string(v));
		_cleanup_free_ char *pair = xasprintf("%s=%s", ek, ev);
		kv = strv_append(kv, pair);
	}
	n = strv_length(kv);
	if (n == 0)
		return xstrdup(" ");
	qsort(kv, n, sizeof(*kv), cmp_str);
	out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *x = xasprintf("%s%s%s", out, i ? "," : "", kv[i]);
		free(out);
		out = x;
	}
	{
		char *x = xasprintf("%s ", out);
		free(out);
		out = x;
	}
	return out;
}

static bool parse_line(const char *line, struct logline *l, bool details)
{
	_cleanup_json_ json_object *o = json_tokener_parse(line);
	json_object *v;
	if (!o)
		return false;
	if (!json_object_object_get_ex(o, "log", &v))
		return false;
	l->len = (size_t)json_object_get_string_len(v);
	l->log = xmalloc(l->len + 1);
	memcpy(l->log, json_object_get_string(v), l->len);
	l->stream =
	    json_object_object_get_ex(o, "stream", &v) && streq(json_object_get_string(v), "stderr")
		? 2
		: 1;
	l->time = json_object_object_get_ex(o, "time", &v) ? xstrdup(json_object_get_string(v))
							   : xstrdup("");
	l->t = parse_time(l->time);
	if (details)
		l->attrs = details_prefix(json_object_object_get_ex(o, "attrs", &v) ? v : NULL);
	return true;
}

/* Output of logs: frames gathered in a buffer, written in large pieces. */
struct logout {
	int fd;
	bool tty;
	char *buf;
	size_t len, cap;
};

static int logout_flush(struct logout *w)
{
	if (w->len && loop_write(w->fd, w->buf, w->len) < 0) {
		w->len = 0;
		return -EPIPE;
	}
	w->len = 0;
	return 0;
}

static int logout_add(struct logout *w, int stream, const char *a, size_t alen, const char *b,
		      size_t blen)
{
	size_t need = alen + blen + (w->tty ? 0 : 8);
	if (w->len + need > w->cap) {
		int r = logout_flush(w);
		if (r < 0)
			return r;
		if (need > w->cap) {
			w->cap = need;
			w->buf = xrealloc(w->buf, w->cap);
		}
	}
	if (!w->tty) {
		stdcopy_header((uint8_t *)w->buf + w->len,
			       stream == 2 ? STDCOPY_STDERR : STDCOPY_STDOUT,
			       (uint32_t)(alen + blen));
		w->len += 8;
	}
	if (alen)
		memcpy(w->buf + w->len, a, alen);
	if (blen)
		memcpy(w->buf + w->len + alen, b, blen);
	w->len += alen + blen;
	return w->len >= 65536 ? logout_flush(w) : 0;
}

static int emit_line(const struct logs_opts *o, struct logout *w, struct logline *l)
{
	if ((l->stream == 1 && !o->stdout_) || (l->stream == 2 && !o->stderr_))
		return 0;
	if (o->since_ns && l->t < o->since_ns)
		return 0;
	if (o->until_ns && l->t > o->until_ns)
		return 0;
	if (o->timestamps || o->details) {
		/* Docker: RFC3339Nano with a fixed 9-digit fraction, then a space; then the
		 * details (attributes) and a space. */
		_cleanup_free_ char *ts = o->timestamps ? format_time_ns(l->t) : NULL;
		_cleanup_free_ char *pre =
		    xasprintf("%s%s%s", o->timestamps ? (l->t ? ts : l->time) : "",
			      o->timestamps ? " " : "", o->details ? l->attrs : "");
		return logout_add(w, l->stream, pre, strlen(pre), l->log, l->len);
	}
	return logout_add(w, l->stream, l->log, l->len, NULL, 0);
}

static void logline_free(struct logline *l)
{
	free(l->log);
	free(l->time);
	free(l->attrs);
	l->log = l->time = l->attrs = NULL;
}

/* The log files, oldest first: <log>.N ... <log>.1, <log> (json-file's rotation). */
static char **log_files(const char *path)
{
	char **files = NULL;
	int n = 0;
	while (n < 1000) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, n + 1);
		if (access(p, F_OK) != 0)
			break;
		n++;
	}
	for (int i = n; i >= 1; i--) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, i);
		files = strv_append(files, p);
	}
	return strv_append(files, path);
}

/*
 * The file that follows f after a rotation: f is <log>.k now, its successor <log>.(k-1)
 * (or <log>); when f was rotated away entirely, the oldest file left.
 */
static FILE *next_log_file(const char *path, FILE *f)
{
	struct stat b, a;
	int oldest = 0;
	if (fstat(fileno(f), &b) < 0)
		return fopen(path, "re");
	for (int k = 1; k < 1000; k++) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, k);
		if (stat(p, &a) < 0)
			break;
		oldest = k;
		if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			_cleanup_free_ char *q = k > 1 ? xasprintf("%s.%d", path, k - 1) : NULL;
			return fopen(q ? q : path, "re");
		}
	}
	if (oldest) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, oldest);
		return fopen(p, "re");
	}
	return fopen(path, "re");
}

/* Emit the complete lines f has from where it is; a partial last line stays unread. */
static int drain_file(const struct logs_opts *o, struct logout *w, FILE *f, char **line,
		      size_t *cap, bool partial_ok)
{
	ssize_t k;
	int r = 0;
	while ((k = getline(line, cap, f)) > 0) {
		struct logline l = {0};
		if ((*line)[k - 1] != '\n' && !partial_ok) {
			/* A partial line: wait for the rest. */
			fseek(f, -k, SEEK_CUR);
			break;
		}
		if (!parse_line(*line, &l, o->details))
			continue;
		r = emit_line(o, w, &l);
		logline_free(&l);
		if (r < 0)
			break;
	}
	clearerr(f);
	return r;
}

int engine_container_logs(struct engine *e, const char *id, const struct logs_opts *o, int out_fd,
			  volatile bool *cancel, struct error **err)
{
	struct container *c;
	_cleanup_free_ char *path = NULL, *cid = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_strv_free_ char **files = NULL;
	struct logout w = {.fd = out_fd};
	char *line = NULL;
	size_t cap = 0;
	int r = 0;

	pthread_mutex_lock(&e->lock);
	c = container_find(e, id);
	if (!c) {
		pthread_mutex_unlock(&e->lock);
		return error_setx(err, -ENOENT, "No such container: %s", id);
	}
	{
		json_object *lc, *t;
		if (json_object_object_get_ex(c->host_config, "LogConfig", &lc) &&
		    json_object_object_get_ex(lc, "Type", &t) &&
		    streq(json_object_get_string(t), "none")) {
			pthread_mutex_unlock(&e->lock);
			return error_setx(err, -EINVAL,
					  "configured logging driver does not support reading");
		}
	}
	w.tty = c->tty;
	cid = xstrdup(c->id);
	path = container_log_path(e, c->id);
	pthread_mutex_unlock(&e->lock);
	if (out_fd < 0)
		return 0; /* a check only: the container exists and its logs can be read */

	w.cap = 65536 + 1024;
	w.buf = xmalloc(w.cap);
	files = log_files(path);
	if (o->tail != 0) {
		/* tail: keep the last N lines in a ring, then emit (since/until apply after). */
		struct logline *ring = NULL;
		size_t n = 0, max = o->tail > 0 ? (size_t)o->tail : 0, head = 0;
		if (max)
			ring = xnew0(struct logline, max);
		for (char **p = files; *p && r >= 0; p++) {
			_cleanup_fclose_ FILE *g = fopen(*p, "re");
			while (g && getline(&line, &cap, g) > 0) {
				struct logline l = {0};
				if (!parse_line(line, &l, o->details))
					continue;
				if (!max) {
					r = emit_line(o, &w, &l);
					logline_free(&l);
					if (r < 0)
						break;
					continue;
				}
				if (n == max)
					logline_free(&ring[head]);
				else
					n++;
				ring[head] = l;
				head = (head + 1) % max;
			}
		}
		for (size_t i = 0; max && i < n; i++) {
			struct logline *l = &ring[(head + max - n + i) % max];
			if (r >= 0)
				r = emit_line(o, &w, l);
			logline_free(l);
		}
		free(ring);
	}
	if (r >= 0)
		r = logout_flush(&w);
	if (r < 0 || !o->follow)
		goto out;
	/* follow: from the end of the current file; poll it while the container runs. */
	f = fopen(path, "re");
	if (f)
		fseek(f, 0, SEEK_END);
	for (;;) {
		bool running;
		struct stat a, b;
		if (cancel && *cancel)
			break;
		if (!f)
			f = fopen(path, "re"); /* not there yet: the shim makes it */
		if (f && (r = drain_file(o, &w, f, &line, &cap, false)) < 0)
			break;
		if (f && stat(path, &a) == 0 && fstat(fileno(f), &b) == 0 &&
		    (a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
			/* Rotated: finish the old file, go on with the next one from its start. */
			FILE *next;
			if ((r = drain_file(o, &w, f, &line, &cap, true)) < 0)
				break;
			next = next_log_file(path, f);
			fclose(f);
			f = next;
			if ((r = logout_flush(&w)) < 0)
				break;
			continue;
		}
		if ((r = logout_flush(&w)) < 0)
			break;
		pthread_mutex_lock(&e->lock);
		c = container_find(e, cid);
		running = c && (c->status == C_RUNNING || c->status == C_PAUSED ||
				c->status == C_RESTARTING || c->starting);
		pthread_mutex_unlock(&e->lock);
		if (!running) {
			/* one last read after the exit (the shim wrote everything before) */
			for (int i = 0; f && i < 1000; i++) {
				FILE *next;
				(void)drain_file(o, &w, f, &line, &cap, true);
				if (stat(path, &a) < 0 || fstat(fileno(f), &b) < 0 ||
				    (a.st_ino == b.st_ino && a.st_dev == b.st_dev))
					break;
				next = next_log_file(path, f);
				fclose(f);
				f = next;
			}
			(void)logout_flush(&w);
			break;
		}
		{
			/* A closed client shows as POLLHUP/POLLERR on the output. */
			struct pollfd p = {.fd = out_fd, .events = 0};
			if (poll(&p, 1, 100) > 0 && (p.revents & (POLLHUP | POLLERR)))
				break;
		}
		if (o->until_ns && now_ns() > o->until_ns)
			break;
	}
out:
	free(line);
	free(w.buf);
	return 0;
}
