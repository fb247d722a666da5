/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One registry: the ping that picks the scheme, TLS settings from certs.d, the auth state
 * (Basic or a bearer token for the session's scopes) and requests.
 *
 * curl never follows a redirect itself: reg_do does, so that it decides for every hop whether
 * the Authorization header goes along (only to the registry's own scheme://host:port:
 * CVE-2020-15157, containerd b51deb800 / e67c3724e), and never builds a URL with userinfo.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>

#include "internal.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CONNECT_TIMEOUT_SEC 30
#define STALL_SEC 60
#define HEADER_VALUE_MAX (16u << 10)
#define USER_AGENT "berth/0.1"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
}

CURL *reg_curl_new(void)
{
	CURL *c;

	pthread_once(&curl_once, curl_init_once);
	c = curl_easy_init();
	if (!c)
		abort();
	return c;
}

void reg_response_release(struct reg_response *r)
{
	free(r->body);
	free(r->content_type);
	free(r->location);
	free(r->digest);
	free(r->www_authenticate);
	*r = (struct reg_response){.content_length = -1};
}

/* ---- one HTTP exchange --------------------------------------------------- */

struct xfer {
	const struct reg_request *rq;
	struct reg_response *rs;
	CURL *c;
	bool decided, to_sink, too_big;
	uint64_t sent;
	size_t cap;
};

static void header_reset(struct reg_response *rs)
{
	free(rs->content_type);
	free(rs->location);
	free(rs->digest);
	free(rs->www_authenticate);
	rs->content_type = rs->location = rs->digest = rs->www_authenticate = NULL;
	rs->content_length = -1;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	size_t n = sz * nm, kl, vl;
	const char *colon, *v;
	_cleanup_free_ char *val = NULL;

	if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new answer (after "100 Continue"): forget the previous headers */
		header_reset(x->rs);
		return n;
	}
	colon = memchr(p, ':', n);
	if (!colon)
		return n;
	kl = colon - p;
	v = colon + 1;
	vl = n - (v - p);
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (vl > HEADER_VALUE_MAX)
		return n;
	val = xstrndup(v, vl);
#define IS(name) (kl == strlen(name) && !strncasecmp(p, name, kl))
	if (IS("Content-Type")) {
		free(x->rs->content_type);
		x->rs->content_type = TAKE_PTR(val);
	} else if (IS("Location")) {
		free(x->rs->location);
		x->rs->location = TAKE_PTR(val);
	} else if (IS("Docker-Content-Digest")) {
		free(x->rs->digest);
		x->rs->digest = TAKE_PTR(val);
	} else if (IS("WWW-Authenticate")) {
		char *o = x->rs->www_authenticate;
		if (!o)
			x->rs->www_authenticate = TAKE_PTR(val);
		else if (strlen(o) < HEADER_VALUE_MAX) {
			x->rs->www_authenticate = xasprintf("%s, %s", o, val);
			free(o);
		}
	} else if (IS("Content-Length")) {
		int64_t l;
		if (safe_atoi64(val, &l) >= 0 && l >= 0)
			x->rs->content_length = l;
	}
#undef IS
	return n;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	size_t n = sz * nm;
	uint64_t limit;

	if (!x->decided) {
		long code = 0;
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
		x->rs->status = code;
		x->to_sink = x->rq->sink && code >= 200 && code < 300;
		x->decided = true;
	}
	if (x->to_sink) {
		size_t k = x->rq->sink(x->rq->ud, x->rs->status, p, n);
		if (k != n)
			x->rs->sink_aborted = true;
		return k;
	}
	limit = x->rs->status >= 200 && x->rs->status < 300 && x->rq->max ? x->rq->max
									  : REG_ERROR_BODY_MAX;
	if (x->rs->len + n > limit) {
		x->too_big = x->rs->status >= 200 && x->rs->status < 300;
		if (!x->too_big)
			return n; /* an error body: keep what we have */
		return 0;
	}
	if (x->rs->len + n + 1 > x->cap) {
		x->cap = (x->rs->len + n + 1) * 2;
		x->rs->body = xrealloc(x->rs->body, x->cap);
	}
	memcpy(x->rs->body + x->rs->len, p, n);
	x->rs->len += n;
	x->rs->body[x->rs->len] = 0;
	return n;
}

static size_t on_read(char *buf, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	const struct reg_request *rq = x->rq;
	uint64_t left = rq->body_len - x->sent;
	size_t want = sz * nm < left ? sz * nm : (size_t)left;
	ssize_t k;

	if (want == 0)
		return 0;
	if (rq->body) {
		memcpy(buf, (const char *)rq->body + x->sent, want);
		k = (ssize_t)want;
	} else {
		do
			k = pread(rq->body_fd, buf, want, (off_t)(rq->body_off + x->sent));
		while (k < 0 && errno == EINTR);
		if (k <= 0)
			return CURL_READFUNC_ABORT;
	}
	x->sent += (uint64_t)k;
	if (rq->on_progress)
		rq->on_progress(rq->ud, x->sent, rq->body_len);
	return (size_t)k;
}

static int on_xferinfo(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = ud;
	return x->rq->cancel && *x->rq->cancel ? 1 : 0;
}

static void set_tls(struct reg_session *s, CURL *c, const char *origin)
{
	bool own = streq(origin, s->origin), verify;

	if (own) {
		verify = s->verify;
	} else {
		/* a redirect target: verified unless it is an insecure registry itself */
		_cleanup_free_ char *host = xstrdup(strstr(origin, "://") + 3);
		verify = !reg_host_insecure(s->cfg, host);
	}
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (own && s->ca_pem) {
		struct curl_blob b = {
		    .data = s->ca_pem, .len = s->ca_len, .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
	}
	if (own && s->client_cert && s->client_key) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, s->client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, s->client_key);
	}
}

static void slist_freep(struct curl_slist **l)
{
	if (*l)
		curl_slist_free_all(*l);
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *v)
{
	_cleanup_free_ char *h = NULL;
	struct curl_slist *n;

	if (!v)
		return l;
	h = xasprintf("%s: %s", name, v);
	n = curl_slist_append(l, h);
	explicit_bzero(h, strlen(h));
	if (!n)
		abort();
	return n;
}

/* One exchange with url; authz (may be NULL) is the Authorization value to send. */
static CURLcode perform(struct reg_session *s, CURL *c, const struct reg_request *rq,
			const char *url, const char *origin, const char *authz,
			struct reg_response *rs, char *errbuf, bool *too_big)
{
	_cleanup_(slist_freep) struct curl_slist *hdrs = NULL;
	struct xfer x = {.rq = rq, .rs = rs, .c = c};
	bool head = streq(rq->method, "HEAD"), get = streq(rq->method, "GET");
	CURLcode rc;

	curl_easy_reset(c);
	errbuf[0] = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_SEC);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)STALL_SEC);
	if (rq->timeout_sec > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->timeout_sec);
	hdrs = add_header(hdrs, "Accept", rq->accept);
	hdrs = add_header(hdrs, "Content-Type", rq->content_type);
	hdrs = add_header(hdrs, "Authorization", authz);
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (rq->header)
		hdrs = curl_slist_append(hdrs, rq->header);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!get) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(rq->body || rq->body_fd >= 0 ? rq->body_len : 0));
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	if (rq->cancel) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	}
	if (startswith(url, "https:"))
		set_tls(s, c, origin);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	/* the header list held the credentials: gone with it, the handle keeps no copy */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	*too_big = x.too_big;
	return rc;
}

static char *method_word(const char *m)
{
	char *w = xstrdup(m);
	for (char *p = w + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return w;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_WRITE_ERROR:
		return -ECANCELED;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* "host:port" of an http(s) URL, the port made explicit; without the port when !port */
static char *url_host(const char *url, bool port)
{
	_cleanup_free_ char *o = reg_url_origin(url);
	const char *h = o ? strstr(o, "://") : NULL;
	char *r = h ? xstrdup(h + 3) : xstrdup(url), *colon = strrchr(r, ':');

	if (!port && colon && !strchr(colon, ']'))
		*colon = 0;
	return r;
}

/* What went wrong, as Go's net/http and crypto/tls word it in Docker's messages, where curl
 * tells us enough to say it; else curl's words. */
static char *transport_reason(CURL *c, const char *url, CURLcode rc, const char *errbuf)
{
	_cleanup_free_ char *hp = url_host(url, true), *h = url_host(url, false);
	const char *why = *errbuf ? errbuf : curl_easy_strerror(rc), *alert;
	long verify = 0, os_errno = 0;

	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify);
		/* curl checks the name itself: "no alternative certificate subject name matches
		 * target host name 'x'", "subject name 'y' does not match target host name 'x'" */
		if (verify == 62 /* X509_V_ERR_HOSTNAME_MISMATCH */ ||
		    verify == 64 /* X509_V_ERR_IP_ADDRESS_MISMATCH */ ||
		    (strstr(why, "subject name") && strstr(why, "match")))
			return xasprintf(
			    "tls: failed to verify certificate: x509: certificate is not "
			    "valid for %s",
			    h);
		switch (verify) {
		case 2:	 /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT */
		case 18: /* X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT */
		case 19: /* X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN */
		case 20: /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY */
		case 21: /* X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE */
			return xstrdup("tls: failed to verify certificate: x509: certificate "
				       "signed by unknown authority");
		case 9:	 /* X509_V_ERR_CERT_NOT_YET_VALID */
		case 10: /* X509_V_ERR_CERT_HAS_EXPIRED */
			return xstrdup("tls: failed to verify certificate: x509: certificate has "
				       "expired or is not yet valid");
		default:
			return xasprintf("tls: failed to verify certificate: %s", why);
		}
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		if (strstr(why, "wrong version number"))
			return xstrdup("http: server gave HTTP response to HTTPS client");
		/* "...:SSL routines::sslv3 alert bad certificate, errno 0": the peer's alert */
		alert = strstr(why, "SSL routines") ? strstr(why, " alert ") : NULL;
		if (alert) {
			alert += strlen(" alert ");
			return xasprintf("remote error: tls: %.*s", (int)strcspn(alert, ","),
					 alert);
		}
		return xstrdup(why);
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno > 0) {
			_cleanup_free_ char *e = xstrdup(strerror((int)os_errno));
			e[0] = (char)tolower((unsigned char)e[0]);
			return xasprintf("dial tcp %s: connect: %s", hp, e);
		}
		return xstrdup(why);
	case CURLE_COULDNT_RESOLVE_HOST:
		return xasprintf("dial tcp: lookup %s: could not resolve host", h);
	default:
		return xstrdup(why);
	}
}

static int transport_error(CURL *c, const char *method, const char *url, CURLcode rc,
			   const char *errbuf, struct error **err)
{
	_cleanup_free_ char *m = method_word(method), *why = transport_reason(c, url, rc, errbuf);
	if (*errbuf)
		log_debug("registry: %s %s: %s", method, url, errbuf);
	return error_setx(err, curl_errno(rc), "%s \"%s\": %s", m, url, why);
}

/* ---- auth ------------------------------------------------------------------ */

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* GET realm?service=...&scope=... with the credentials (Basic) when we have them. */
static int fetch_token(struct reg_session *s, const struct reg_challenge *ch, char **ret,
		       struct error **err)
{
	_cleanup_(reg_curl_freep) CURL *c = reg_curl_new();
	_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
	_cleanup_free_ char *origin = reg_url_origin(ch->realm), *url = NULL, *creds = NULL;
	_cleanup_json_ json_object *o = NULL;
	const struct registry_auth *a = s->auth;
	struct reg_request rq = {.method = "GET", .body_fd = -1, .max = REG_TOKEN_MAX};
	char errbuf[CURL_ERROR_SIZE];
	const char *tok;
	bool too_big = false, have_scope = false;
	CURLcode rc;

	if (!origin)
		return error_setx(err, -EINVAL, "invalid token service realm \"%s\"", ch->realm);
	if (a && !isempty(a->username)) {
		if (startswith(origin, "http:") &&
		    !reg_host_insecure(s->cfg, strstr(origin, "://") + 3))
			return error_setx(err, -EPERM,
					  "refusing to send credentials to the token service %s "
					  "over plain HTTP",
					  origin);
		creds = reg_basic_credentials(a->username, a->password);
	}
	if (!streq(origin, s->origin))
		log_debug("registry %s: token service at %s", s->host, origin);
	url = xstrdup(ch->realm);
	if (ch->service) {
		char *n = reg_url_add_query(url, "service", ch->service);
		if (!n)
			return error_setx(err, -EINVAL, "invalid token service realm");
		free(url);
		url = n;
	}
	for (char **sc = s->scopes; sc && *sc; sc++) {
		char *n = reg_url_add_query(url, "scope", *sc);
		if (!n)
			return error_setx(err, -EINVAL, "invalid token service realm");
		free(url);
		url = n;
		have_scope = have_scope || streq_ptr(ch->scope, *sc);
	}
	if (ch->scope && !have_scope) {
		char *n = reg_url_add_query(url, "scope", ch->scope);
		if (!n)
			return error_setx(err, -EINVAL, "invalid token service realm");
		free(url);
		url = n;
	}
	rq.url = url;
	rq.timeout_sec = s->cfg->timeout_sec > 0 ? s->cfg->timeout_sec : 120;
	rc = perform(s, c, &rq, url, origin, creds, &rs, errbuf, &too_big);
	if (creds)
		explicit_bzero(creds, strlen(creds));
	if (rc != CURLE_OK)
		return too_big ? error_setx(err, -EFBIG, "token service answer is too large")
			       : transport_error(c, "GET", url, rc, errbuf, err);
	if (rs.status == 401 || rs.status == 403)
		return error_setx(err, -EACCES, "unauthorized: %s",
				  creds ? "incorrect username or password"
					: "authentication required");
	if (rs.status != 200)
		return reg_status_error(&rs, "GET", ch->realm, err);
	if (json_parse_buffer(rs.body ? rs.body : "", rs.len, &o, NULL) < 0 ||
	    !json_object_is_type(o, json_type_object))
		return error_setx(err, -EINVAL, "invalid answer from the token service %s", origin);
	tok = jstr(o, "token");
	if (isempty(tok))
		tok = jstr(o, "access_token");
	if (isempty(tok) || strpbrk(tok, "\r\n"))
		return error_setx(err, -EINVAL, "no token in the answer of the token service %s",
				  origin);
	*ret = xstrdup(tok);
	return 0;
}

/*
 * Answer a 401's challenge. 0: authz changed (or another thread changed it since gen): retry;
 * 1: nothing more to try, the 401 stands; or -errno.
 */
static int authenticate(struct reg_session *s, const char *header, unsigned gen, struct error **err)
{
	_cleanup_(reg_challenge_release) struct reg_challenge ch = {0};
	const struct registry_auth *a = s->auth;
	char *authz = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (s->generation != gen) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	if (reg_challenge_parse(header, &ch) < 0) {
		pthread_mutex_unlock(&s->lock);
		return 1;
	}
	if (ch.scheme == REG_AUTH_BASIC) {
		if (!a || isempty(a->username) || (s->authz && startswith(s->authz, "Basic "))) {
			pthread_mutex_unlock(&s->lock);
			return 1;
		}
		authz = reg_basic_credentials(a->username, a->password);
	} else if (a && !isempty(a->registry_token) && !s->authz) {
		authz = xasprintf("Bearer %s", a->registry_token);
	} else {
		_cleanup_free_ char *tok = NULL;
		r = fetch_token(s, &ch, &tok, err);
		if (r < 0) {
			pthread_mutex_unlock(&s->lock);
			return r;
		}
		authz = xasprintf("Bearer %s", tok);
		explicit_bzero(tok, strlen(tok));
	}
	if (s->authz) {
		explicit_bzero(s->authz, strlen(s->authz));
		free(s->authz);
	}
	s->authz = authz;
	s->generation++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* ---- requests -------------------------------------------------------------- */

int reg_do(struct reg_session *s, CURL *c, const struct reg_request *rq, struct reg_response *rs,
	   struct error **err)
{
	_cleanup_free_ char *url = xstrdup(rq->url);
	char errbuf[CURL_ERROR_SIZE];
	bool reauthed = false;
	unsigned hops = 0;
	int r;

	*rs = (struct reg_response){.content_length = -1};
	for (unsigned guard = 0; guard < REG_MAX_REDIRECTS + 3; guard++) {
		_cleanup_free_ char *origin = reg_url_origin(url), *authz = NULL;
		bool own, too_big = false;
		unsigned gen;
		CURLcode rc;

		if (!origin)
			return error_setx(err, -EINVAL, "refusing to fetch \"%s\"", url);
		own = streq(origin, s->origin);
		pthread_mutex_lock(&s->lock);
		authz = own && s->authz ? xstrdup(s->authz) : NULL;
		gen = s->generation;
		pthread_mutex_unlock(&s->lock);
		reg_response_release(rs);
		rc = perform(s, c, rq, url, origin, authz, rs, errbuf, &too_big);
		if (authz)
			explicit_bzero(authz, strlen(authz));
		if (rc != CURLE_OK) {
			if (too_big) {
				_cleanup_free_ char *m = method_word(rq->method);
				return error_setx(err, -EFBIG, "%s \"%s\": answer is too large", m,
						  url);
			}
			return transport_error(c, rq->method, url, rc, errbuf, err);
		}
		if (rs->status == 401 && own && !reauthed && rs->www_authenticate) {
			reauthed = true;
			r = authenticate(s, rs->www_authenticate, gen, err);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			return 0;
		}
		if ((rs->status == 301 || rs->status == 302 || rs->status == 303 ||
		     rs->status == 307 || rs->status == 308) &&
		    (streq(rq->method, "GET") || streq(rq->method, "HEAD")) && rs->location) {
			char *next = reg_url_resolve(url, rs->location);
			if (!next)
				return error_setx(err, -EINVAL,
						  "refusing to follow a redirect to "
						  "\"%s\"",
						  rs->location);
			if (++hops > REG_MAX_REDIRECTS) {
				free(next);
				return error_setx(err, -ELOOP, "\"%s\": stopped after %d redirects",
						  rq->url, REG_MAX_REDIRECTS);
			}
			free(url);
			url = next;
			continue;
		}
		return 0;
	}
	return error_setx(err, -ELOOP, "\"%s\": too many redirects", rq->url);
}

static const char *status_text(long st)
{
	switch (st) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 416:
		return "Requested Range Not Satisfiable";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return "";
	}
}

int reg_status_error(const struct reg_response *rs, const char *method, const char *url,
		     struct error **err)
{
	_cleanup_json_ json_object *o = NULL;
	json_object *errs;
	int code = rs->status == 401 || rs->status == 403 ? -EACCES
		   : rs->status == 404			  ? -ENOENT
							  : -EIO;

	if (rs->body && json_parse_buffer(rs->body, rs->len, &o, NULL) >= 0 &&
	    json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "errors", &errs) &&
	    json_object_is_type(errs, json_type_array) && json_object_array_length(errs) > 0) {
		json_object *e = json_object_array_get_idx(errs, 0);
		const char *c = jstr(e, "code"), *m = jstr(e, "message");
		_cleanup_free_ char *lc = xstrdup(c ? c : "unknown");
		for (char *p = lc; *p; p++)
			*p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
		return error_setx(err, code, "%s: %s", lc, m ? m : "");
	}
	{
		_cleanup_free_ char *m = method_word(method);
		return error_setx(err, code, "%s \"%s\": unexpected status: %ld %s", m, url,
				  rs->status, status_text(rs->status));
	}
}

/* ---- sessions ---------------------------------------------------------------- */

/* certs.d/<host>/: *.crt are extra CAs (with the system's), client.cert + client.key */
static void load_certs(struct reg_session *s)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -EBADF;
	char *pem = NULL;
	size_t len = 0;
	bool extra = false;
	struct dirent *de;
	DIR *d;

	if (!s->cfg->certs_dir || strchr(s->host, '/') || streq(s->host, "..") ||
	    streq(s->host, "."))
		return;
	dir = xasprintf("%s/%s", s->cfg->certs_dir, s->host);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	d = fdopendir(dup(dfd));
	if (!d)
		return;
	{
		char *sys = NULL;
		size_t sl = 0;
		if (read_file_at(AT_FDCWD, SYSTEM_CA_BUNDLE, 16u << 20, &sys, &sl) >= 0) {
			pem = sys;
			len = sl;
		}
	}
	while ((de = readdir(d))) {
		char *c = NULL;
		size_t cl = 0;
		if (!endswith(de->d_name, ".crt"))
			continue;
		if (read_file_at(dfd, de->d_name, 1u << 20, &c, &cl) < 0) {
			log_warn("registry %s: cannot read %s/%s: ignored", s->host, dir,
				 de->d_name);
			continue;
		}
		pem = xrealloc(pem, len + cl + 2);
		pem[len++] = '\n';
		memcpy(pem + len, c, cl);
		len += cl;
		pem[len] = 0;
		free(c);
		extra = true;
	}
	closedir(d);
	if (extra) {
		s->ca_pem = pem;
		s->ca_len = len;
	} else {
		free(pem);
	}
	if (faccessat(dfd, "client.cert", R_OK, 0) == 0 &&
	    faccessat(dfd, "client.key", R_OK, 0) == 0) {
		s->client_cert = xasprintf("%s/client.cert", dir);
		s->client_key = xasprintf("%s/client.key", dir);
	}
}

int reg_session_open(const struct registry_config *cfg, const struct registry_auth *auth,
		     const char *host, const char *base_or_null, char *const *scopes,
		     struct reg_session **ret, struct error **err)
{
	_cleanup_(reg_session_freep) struct reg_session *s = xnew0(struct reg_session, 1);
	_cleanup_(reg_curl_freep) CURL *c = reg_curl_new();
	_cleanup_(reg_response_release) struct reg_response rs = {.content_length = -1};
	const char *bases[2];
	size_t nb = 0;
	int r;

	pthread_mutex_init(&s->lock, NULL);
	s->cfg = cfg;
	s->auth = auth;
	s->scopes = strv_copy(scopes ? scopes : (char *const[]){NULL});
	if (base_or_null) {
		_cleanup_free_ char *o = reg_url_origin(base_or_null);
		if (!o)
			return error_setx(err, -EINVAL, "invalid registry URL \"%s\"",
					  base_or_null);
		s->host = xstrdup(strstr(base_or_null, "://") + 3);
		s->host[strcspn(s->host, "/")] = 0;
	} else {
		s->host = xstrdup(host);
	}
	s->insecure = reg_host_insecure(cfg, s->host);
	s->verify = !s->insecure;
	load_certs(s);

	_cleanup_free_ char *https = xasprintf("https://%s", s->host),
			    *http = xasprintf("http://%s", s->host);
	if (base_or_null) {
		bases[nb++] = base_or_null;
	} else {
		bases[nb++] = https;
		if (s->insecure)
			bases[nb++] = http; /* Docker's fallback, for insecure registries only */
	}
	for (size_t i = 0; i < nb; i++) {
		_cleanup_free_ char *url = NULL;
		struct reg_request rq = {.method = "GET", .body_fd = -1, .max = REG_ERROR_BODY_MAX};
		char errbuf[CURL_ERROR_SIZE];
		bool too_big;
		CURLcode rc;

		free(s->base);
		free(s->origin);
		s->base = xstrdup(bases[i]);
		if (endswith(s->base, "/"))
			s->base[strlen(s->base) - 1] = 0;
		s->origin = reg_url_origin(s->base);
		if (!s->origin)
			return error_setx(err, -EINVAL, "invalid registry URL \"%s\"", bases[i]);
		url = xasprintf("%s/v2/", s->base);
		rq.url = url;
		rq.timeout_sec = cfg->timeout_sec > 0 ? cfg->timeout_sec : 120;
		reg_response_release(&rs);
		rc = perform(s, c, &rq, url, s->origin, NULL, &rs, errbuf, &too_big);
		if (rc == CURLE_OK)
			break;
		if (i + 1 == nb)
			return transport_error(c, "GET", url, rc, errbuf, err);
		log_debug("registry %s: %s failed (%s), trying %s", s->host, url,
			  *errbuf ? errbuf : curl_easy_strerror(rc), bases[i + 1]);
	}
	if (rs.status == 401 && rs.www_authenticate) {
		r = authenticate(s, rs.www_authenticate, s->generation, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

struct reg_session *reg_session_free(struct reg_session *s)
{
	if (!s)
		return NULL;
	if (s->authz) {
		explicit_bzero(s->authz, strlen(s->authz));
		free(s->authz);
	}
	free(s->host);
	free(s->base);
	free(s->origin);
	strv_free(s->scopes);
	free(s->ca_pem);
	free(s->client_cert);
	free(s->client_key);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}
