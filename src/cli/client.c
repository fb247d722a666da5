/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Talking to the daemon: one connection a request (the docker CLI runs wait,
 * attach and start on separate connections too), API version negotiation by
 * HEAD /_ping, docker's error messages.
 */
#include <ctype.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

#define USER_AGENT "Berth-Client/" BERTH_CLIENT_VERSION " (linux)"
/* docker's DummyHost for unix sockets */
#define DUMMY_HOST "api.moby.localhost"

void cli_resp_close(struct cli_resp *r)
{
	if (r->fd >= 0 || r->conn.buf) {
		http_response_release(&r->resp);
		http_conn_release(&r->conn);
		if (r->fd >= 0)
			close(r->fd);
	}
	*r = (struct cli_resp){.fd = -1};
}

static int connect_error(struct cli *cli, int r, struct error **err)
{
	return error_setx(err, r,
			  "Cannot connect to the berth daemon at %s. Is the berth daemon running?",
			  cli->host);
}

static int do_request(struct cli *cli, const char *method, const char *target,
		      const char *content_type, const char *body, size_t len, int body_fd,
		      const char *extra, struct cli_resp *ret, struct error **err)
{
	_cleanup_free_ char *headers = NULL;
	_cleanup_error_ struct error *dial_err = NULL;
	struct cli_resp r = {.fd = -1};
	int k;

	r.fd = http_dial(cli->host, &dial_err);
	if (r.fd < 0) {
		if (dial_err && (dial_err->code == EINVAL || dial_err->code == EPROTONOSUPPORT))
			return error_setx(err, r.fd, "%s", dial_err->msg);
		return connect_error(cli, r.fd, err);
	}
	headers = xasprintf("User-Agent: " USER_AGENT "\r\n%s%s%s%s",
			    content_type ? "Content-Type: " : "", content_type ? content_type : "",
			    content_type ? "\r\n" : "", extra ? extra : "");
	log_debug("%s %s", method, target);
	k = http_send_request(r.fd, method, target, DUMMY_HOST, headers, body, len, body_fd);
	if (k < 0) {
		close(r.fd);
		return connect_error(cli, k, err);
	}
	http_conn_init(&r.conn, r.fd);
	k = http_conn_read_response(&r.conn, &r.resp, streq(method, "HEAD"));
	if (k < 0) {
		http_conn_release(&r.conn);
		close(r.fd);
		return error_set(err, k, "error during connect");
	}
	r.status = r.resp.status;
	*ret = r;
	return 0;
}

static bool version_less(const char *a, const char *b)
{
	int amaj = 0, amin = 0, bmaj = 0, bmin = 0;
	sscanf(a, "%d.%d", &amaj, &amin);
	sscanf(b, "%d.%d", &bmaj, &bmin);
	return amaj < bmaj || (amaj == bmaj && amin < bmin);
}

int cli_ping(struct cli *cli, struct error **err)
{
	struct cli_resp r = {.fd = -1};
	const char *env = getenv("BERTH_API_VERSION");
	const char *v;
	int k;

	if (cli->pinged)
		return 0;
	k = do_request(cli, "HEAD", "/_ping", NULL, NULL, 0, -1, NULL, &r, err);
	if (k < 0)
		return k;
	if (r.status != 200 && r.status != 500) {
		cli_resp_close(&r);
		k = do_request(cli, "GET", "/_ping", NULL, NULL, 0, -1, NULL, &r, err);
		if (k < 0)
			return k;
	}
	v = http_response_header(&r.resp, "Api-Version");
	free(cli->api_version);
	if (!isempty(env)) {
		cli->api_version = xstrdup(env);
		cli->api_manual = true;
	} else if (isempty(v))
		cli->api_version = xstrdup("1.24");
	else if (version_less(v, BERTH_API_VERSION)) {
		cli->api_version = xstrdup(v);
		cli->api_downgraded = true;
	} else
		cli->api_version = xstrdup(BERTH_API_VERSION);
	if (cli->api_version && !streq(cli->api_version, BERTH_API_VERSION) && !cli->api_manual)
		cli->api_downgraded = true;
	v = http_response_header(&r.resp, "Ostype");
	cli->server_ostype = xstrdup(v ? v : "");
	cli_resp_close(&r);
	cli->pinged = true;
	return 0;
}

int cli_request(struct cli *cli, const char *method, const char *path, const char *content_type,
		const char *body, size_t len, int body_fd, const char *extra, struct cli_resp *ret,
		struct error **err)
{
	_cleanup_free_ char *target = NULL;
	int r;

	r = cli_ping(cli, err);
	if (r < 0)
		return r;
	target = xasprintf("/v%s%s", cli->api_version, path);
	return do_request(cli, method, target, content_type, body, len, body_fd, extra, ret, err);
}

int cli_resp_check(struct cli_resp *r, struct error **err)
{
	_cleanup_free_ char *body = NULL;
	_cleanup_json_ json_object *o = NULL;
	size_t len = 0;
	int code;

	if (r->status < 400)
		return 0;
	code = r->status == 404			      ? -ENOENT
	       : r->status == 409		      ? -EEXIST
	       : r->status == 400		      ? -EINVAL
	       : r->status == 401 || r->status == 403 ? -EACCES
						      : -EIO;
	(void)http_conn_read_body_all(&r->conn, 1 << 20, &body, &len);
	const char *ct = http_response_header(&r->resp, "Content-Type");
	if (body && ct && streq(ct, "application/json")) {
		o = json_tokener_parse(body);
		json_object *m;
		if (o && json_object_object_get_ex(o, "message", &m))
			return error_setx(err, code, "Error response from daemon: %s",
					  json_object_get_string(m));
	}
	if (body && *body) {
		size_t n = strlen(body);
		while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r'))
			body[--n] = 0;
		return error_setx(err, code, "Error response from daemon: %s", body);
	}
	return error_setx(err, code, "Error response from daemon: %s", http_status_text(r->status));
}

int cli_call(struct cli *cli, const char *method, const char *path, json_object *body,
	     json_object **ret, int *ret_status, struct error **err)
{
	struct cli_resp r = {.fd = -1};
	_cleanup_free_ char *data = NULL;
	const char *b = NULL;
	size_t len = 0;
	int k;

	if (body) {
		b = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
		len = strlen(b);
	}
	k = cli_request(cli, method, path, body ? "application/json" : NULL, b, len, -1, NULL, &r,
			err);
	if (k < 0)
		return k;
	if (ret_status)
		*ret_status = r.status;
	k = cli_resp_check(&r, err);
	if (k < 0) {
		cli_resp_close(&r);
		return k;
	}
	if (ret) {
		*ret = NULL;
		k = http_conn_read_body_all(&r.conn, 256 << 20, &data, &len);
		if (k < 0) {
			cli_resp_close(&r);
			return error_set(err, k, "error reading response");
		}
		if (len > 0) {
			struct error *e = NULL;
			k = json_parse_buffer(data, len, ret, &e);
			if (k < 0) {
				error_free(e);
				cli_resp_close(&r);
				return error_setx(err, -EBADMSG,
						  "error decoding response from daemon: %.200s",
						  data);
			}
		}
	} else
		(void)http_conn_skip_body(&r.conn);
	cli_resp_close(&r);
	return 0;
}

int cli_hijack(struct cli *cli, const char *path, json_object *body, struct cli_resp *ret,
	       struct error **err)
{
	const char *b = NULL;
	size_t len = 0;
	int k;

	if (body) {
		b = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
		len = strlen(b);
	}
	k = cli_request(cli, "POST", path, body ? "application/json" : "text/plain", b, len, -1,
			"Connection: Upgrade\r\nUpgrade: tcp\r\n", ret, err);
	if (k < 0)
		return k;
	k = cli_resp_check(ret, err);
	if (k < 0) {
		cli_resp_close(ret);
		return k;
	}
	if (ret->status != 101) {
		int s = ret->status;
		cli_resp_close(ret);
		return error_setx(err, -EPROTO, "unable to upgrade to tcp, received %d", s);
	}
	return 0;
}

/* ---- queries ----------------------------------------------------------------------------- */

void query_add(struct query *q, const char *key, const char *value)
{
	q->kv = strv_append(q->kv, key);
	q->kv = strv_append(q->kv, value);
}

void query_addf(struct query *q, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *v = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		abort();
	va_end(ap);
	query_add(q, key, v);
}

char *url_escape(const char *s, bool path)
{
	struct sbuf b = {0};
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-_.~", *p))
			sbuf_add(&b, (const char *)p, 1);
		else if (*p == ' ' && !path)
			sbuf_add(&b, "+", 1);
		else if (path && strchr("/:@!$&'()*+,;=", *p))
			sbuf_add(&b, (const char *)p, 1);
		else
			sbuf_printf(&b, "%%%02X", *p);
	}
	return sbuf_take(&b);
}

char *query_finish(struct query *q, const char *path)
{
	size_t n = strv_length(q->kv) / 2;
	size_t *order = xnew0(size_t, n + 1);
	struct sbuf b = {0};

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	/* stable insertion sort by key: Go's Encode sorts keys, values keep their order */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i;
		     j > 0 && strcmp(q->kv[order[j - 1] * 2], q->kv[order[j] * 2]) > 0; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	sbuf_puts(&b, path);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *k = url_escape(q->kv[order[i] * 2], false);
		_cleanup_free_ char *v = url_escape(q->kv[order[i] * 2 + 1], false);
		sbuf_printf(&b, "%s%s=%s", i ? "&" : "?", k, v);
	}
	free(order);
	strv_free(q->kv);
	q->kv = NULL;
	return sbuf_take(&b);
}

int filters_json(char **filters, char **ret, struct error **err)
{
	_cleanup_json_ json_object *o = NULL;

	*ret = NULL;
	if (!filters || !filters[0])
		return 0;
	o = json_object_new_object();
	for (char **f = filters; *f; f++) {
		const char *eq = strchr(*f, '=');
		if (!eq)
			return error_setx(err, -EINVAL,
					  "bad format of filter (expected name=value)");
		_cleanup_free_ char *k = xstrndup(*f, (size_t)(eq - *f));
		/* docker lowercases and trims the key */
		for (char *p = k; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_object *m;
		if (!json_object_object_get_ex(o, k, &m)) {
			m = json_object_new_object();
			json_object_object_add(o, k, m);
		}
		json_object_object_add(m, eq + 1, json_object_new_boolean(true));
	}
	*ret = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

/* ---- JSON helpers ------------------------------------------------------------------------------
 */

json_object *jget(json_object *o, const char *path)
{
	const char *p = path;
	while (o && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		_cleanup_free_ char *k = xstrndup(p, n);
		json_object *m = NULL;
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, k, &m))
			return NULL;
		o = m;
		p += n;
		if (*p == '.')
			p++;
	}
	return o;
}

const char *jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

int64_t jint(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return v ? json_object_get_int64(v) : 0;
}

bool jbool(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return v ? json_object_get_boolean(v) : false;
}

int container_inspect(struct cli *cli, const char *id, json_object **ret, struct error **err)
{
	_cleanup_free_ char *e = url_escape(id, true);
	_cleanup_free_ char *path = xasprintf("/containers/%s/json", e);
	return cli_call(cli, "GET", path, NULL, ret, NULL, err);
}

int for_each_container(struct cli *cli, char **ids, bool print,
		       int (*op)(struct cli *cli, const char *id, void *userdata,
				 struct error **err),
		       void *userdata)
{
	int ret = 0;
	for (char **id = ids; id && *id; id++) {
		struct error *err = NULL;
		if (op(cli, *id, userdata, &err) < 0) {
			fprintf(stderr, "%s\n", err && err->msg ? err->msg : "error");
			ret = 1;
			/* a daemon that isn't there fails every argument the same way */
			if (err && startswith(err->msg, "Cannot connect")) {
				error_free(err);
				break;
			}
		} else if (print) {
			printf("%s\n", *id);
			fflush(stdout);
		}
		error_free(err);
	}
	return ret;
}

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
