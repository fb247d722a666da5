/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "http/http.h"
#include "test.h"

static ssize_t parse(const char *s, struct http_request *req)
{
	return http_parse_request_head(s, strlen(s), req);
}

static int parse_status(const char *s)
{
	struct http_request req;
	ssize_t n = parse(s, &req);
	http_request_release(&req);
	return n > 0 ? 0 : (int)n;
}

static void test_parse_good(void)
{
	const char *s = "POST /v1.50/containers/create?name=web&x=%2F HTTP/1.1\r\n"
			"Host: docker\r\n"
			"Content-Type:application/json \r\n"
			"content-length: 12\r\n"
			"X-Empty:\r\n"
			"\r\n"
			"{\"Image\":1}\n";
	struct http_request req;
	ssize_t n = parse(s, &req);

	CHECK_INT(n, strlen(s) - 12);
	CHECK_STREQ(req.method, "POST");
	CHECK_STREQ(req.target, "/v1.50/containers/create?name=web&x=%2F");
	CHECK_STREQ(req.path, "/v1.50/containers/create");
	CHECK_STREQ(req.query, "name=web&x=%2F");
	CHECK_INT(req.version_minor, 1);
	CHECK_INT(req.n_headers, 4);
	CHECK_STREQ(http_request_header(&req, "CONTENT-TYPE"), "application/json");
	CHECK_STREQ(http_request_header(&req, "x-empty"), "");
	CHECK(http_request_header(&req, "Missing") == NULL);
	CHECK_INT(req.content_length, 12);
	CHECK(!req.chunked && req.keep_alive && !req.upgrade && !req.expect_continue);
	http_request_release(&req);
	http_request_release(&req); /* twice is harmless */

	CHECK(parse("GET /a%20b%2fc+d HTTP/1.0\r\n\r\n", &req) > 0);
	CHECK_STREQ(req.path, "/a b/c+d");
	CHECK(req.query == NULL);
	CHECK_INT(req.version_minor, 0);
	CHECK(!req.keep_alive);
	CHECK_INT(req.content_length, -1);
	http_request_release(&req);

	/* empty lines before the request line, empty query, absolute-form */
	CHECK_INT(parse("\r\n\r\nGET /x? HTTP/1.1\r\n\r\n", &req), 24);
	CHECK_STREQ(req.query, "");
	http_request_release(&req);
	CHECK(parse("GET http://docker/v1.50/info?a=1 HTTP/1.1\r\n\r\n", &req) > 0);
	CHECK_STREQ(req.path, "/v1.50/info");
	CHECK_STREQ(req.query, "a=1");
	http_request_release(&req);
	CHECK(parse("GET HTTP://docker HTTP/1.1\r\n\r\n", &req) > 0);
	CHECK_STREQ(req.path, "/");
	http_request_release(&req);
	CHECK(parse("OPTIONS * HTTP/1.1\r\n\r\n", &req) > 0);
	CHECK_STREQ(req.path, "*");
	http_request_release(&req);

	/* HTTP/1.2 is still HTTP/1.x; obs-text in values is allowed */
	CHECK(parse("GET / HTTP/1.2\r\nX: caf\xc3\xa9\r\n\r\n", &req) > 0);
	CHECK_INT(req.version_minor, 2);
	http_request_release(&req);
	/* equal duplicate Content-Length and a list of equal values */
	CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n", &req) >
	      0);
	CHECK_INT(req.content_length, 5);
	http_request_release(&req);
}

static void test_parse_flags(void)
{
	struct http_request req;

	CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req) > 0);
	CHECK(req.keep_alive);
	http_request_release(&req);
	CHECK(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &req) > 0);
	CHECK(!req.keep_alive);
	http_request_release(&req);
	CHECK(parse("POST /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &req) > 0);
	CHECK(req.chunked && req.keep_alive && req.content_length == -1);
	http_request_release(&req);
	CHECK(parse("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &req) > 0);
	CHECK(req.chunked && !req.keep_alive);
	http_request_release(&req);

	CHECK(parse("POST /containers/x/attach HTTP/1.1\r\nConnection: Upgrade\r\n"
		    "Upgrade: tcp\r\n\r\n",
		    &req) > 0);
	CHECK(req.upgrade && req.keep_alive);
	http_request_release(&req);
	CHECK(parse("POST /x HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", &req) > 0);
	CHECK(!req.upgrade);
	http_request_release(&req);
	CHECK(parse("POST /x HTTP/1.1\r\nUpgrade: tcp\r\n\r\n", &req) > 0);
	CHECK(!req.upgrade);
	http_request_release(&req);

	CHECK(parse("PUT /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", &req) >
	      0);
	CHECK(req.expect_continue);
	http_request_release(&req);
	CHECK(parse("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &req) > 0);
	CHECK(!req.expect_continue);
	http_request_release(&req);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
	    {"GET  / HTTP/1.1\r\n\r\n", -400},
	    {"GET / HTTP/1.1 \r\n\r\n", -400},
	    {" GET / HTTP/1.1\r\n\r\n", -400},
	    {"G(T / HTTP/1.1\r\n\r\n", -400},
	    {"GET / http/1.1\r\n\r\n", -400},
	    {"GET / HTTP/1.10\r\n\r\n", -400},
	    {"GET / HTTP/2.0\r\n\r\n", -505},
	    {"GET / HTTP/0.9\r\n\r\n", -505},
	    {"GET\r\n\r\n", -400},
	    {"GET /\r\n\r\n", -400},
	    {"GET x HTTP/1.1\r\n\r\n", -400},
	    {"GET ftp://x/ HTTP/1.1\r\n\r\n", -400},
	    {"GET * HTTP/1.1\r\n\r\n", -400},
	    {"GET /a#b HTTP/1.1\r\n\r\n", -400},
	    {"GET /a\x7f HTTP/1.1\r\n\r\n", -400},
	    {"GET /a\xc3\xa9 HTTP/1.1\r\n\r\n", -400},
	    {"GET /%00 HTTP/1.1\r\n\r\n", -400},
	    {"GET /%zz HTTP/1.1\r\n\r\n", -400},
	    {"GET /%4 HTTP/1.1\r\n\r\n", -400},
	    {"ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", -501},
	    {"GET / HTTP/1.1\nHost: x\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: x\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\n Host: x\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\n: x\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -501},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", -501},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	     -501},
	    {"\n", -400},
	    {"\x16\x03\x01\x02\x00\x01", -400}, /* TLS to a plain port: refused early */
	    {"GET / HTTP/1.1\n", -400},		/* bare LF before the head is complete */
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r = parse_status(cases[i].req);
		if (r != cases[i].status)
			fprintf(stderr, "  case %zu: %d, expected %d\n", i, r, cases[i].status);
		CHECK_INT(r, cases[i].status);
	}
}

static void test_parse_incomplete(void)
{
	const char *s = "POST /build?t=x HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct http_request req;
	size_t l = strlen(s);

	for (size_t i = 0; i < l; i++) {
		CHECK_INT(http_parse_request_head(s, i, &req), 0);
		http_request_release(&req);
	}
	CHECK_INT(http_parse_request_head(s, l, &req), l);
	http_request_release(&req);
	/* the CRLF some clients send after a body, split */
	CHECK_INT(http_parse_request_head("\r", 1, &req), 0);
	CHECK_INT(http_parse_request_head("\r\n\r", 3, &req), 0);
	CHECK_INT(http_parse_request_head("\r\nG", 3, &req), 0);
}

static void test_parse_limits(void)
{
	_cleanup_free_ char *big = xmalloc(HTTP_MAX_HEAD + 100);
	_cleanup_free_ char *uri = xmalloc(HTTP_MAX_URI + 100);
	struct http_request req;
	size_t l;

	/* a URI of exactly the limit is fine, one more is 414 */
	memset(uri, 'a', HTTP_MAX_URI + 99);
	uri[0] = '/';
	uri[HTTP_MAX_URI] = 0;
	_cleanup_free_ char *ok = xasprintf("GET %s HTTP/1.1\r\n\r\n", uri);
	CHECK(parse(ok, &req) > 0);
	http_request_release(&req);
	uri[HTTP_MAX_URI] = 'a';
	uri[HTTP_MAX_URI + 1] = 0;
	_cleanup_free_ char *long_uri = xasprintf("GET %s HTTP/1.1\r\n\r\n", uri);
	CHECK_INT(parse_status(long_uri), -414);
	/* ... noticed before the request line ends */
	CHECK_INT(http_parse_request_head(long_uri, strlen(long_uri) - 13, &req), -414);
	CHECK_INT(http_parse_request_head(long_uri, 100, &req), 0);

	/* a head that never ends within HTTP_MAX_HEAD */
	l = snprintf(big, HTTP_MAX_HEAD + 100, "GET / HTTP/1.1\r\nX: ");
	memset(big + l, 'x', HTTP_MAX_HEAD + 100 - l);
	CHECK_INT(http_parse_request_head(big, HTTP_MAX_HEAD - 1, &req), 0);
	CHECK_INT(http_parse_request_head(big, HTTP_MAX_HEAD, &req), -431);
	CHECK_INT(http_parse_request_head(big, HTTP_MAX_HEAD + 100, &req), -431);
	/* exactly HTTP_MAX_HEAD with its blank line is fine */
	memcpy(big + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	CHECK_INT(http_parse_request_head(big, HTTP_MAX_HEAD, &req), HTTP_MAX_HEAD);
	http_request_release(&req);

	/* header count */
	for (int n = HTTP_MAX_HEADERS; n <= HTTP_MAX_HEADERS + 1; n++) {
		size_t o = snprintf(big, HTTP_MAX_HEAD, "GET / HTTP/1.1\r\n");
		for (int i = 0; i < n; i++)
			o += snprintf(big + o, HTTP_MAX_HEAD - o, "X-%d: v\r\n", i);
		o += snprintf(big + o, HTTP_MAX_HEAD - o, "\r\n");
		ssize_t r = http_parse_request_head(big, o, &req);
		CHECK_INT(r, n == HTTP_MAX_HEADERS ? (ssize_t)o : -431);
		if (r > 0)
			CHECK_INT(req.n_headers, HTTP_MAX_HEADERS);
		http_request_release(&req);
	}
}

static void test_parse_response(void)
{
	struct http_response resp;
	const char *s = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
			"Content-Length: 29\r\nApi-Version: 1.50\r\n\r\n";

	CHECK_INT(http_parse_response_head(s, strlen(s), &resp), strlen(s));
	CHECK_INT(resp.status, 404);
	CHECK_STREQ(resp.reason, "Not Found");
	CHECK_INT(resp.content_length, 29);
	CHECK(resp.keep_alive && !resp.chunked);
	CHECK_STREQ(http_response_header(&resp, "api-version"), "1.50");
	http_response_release(&resp);

	s = "HTTP/1.0 200\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n";
	CHECK(http_parse_response_head(s, strlen(s), &resp) > 0);
	CHECK_STREQ(resp.reason, "");
	CHECK(!resp.chunked && resp.content_length == -1 && !resp.keep_alive);
	http_response_release(&resp);

	s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	CHECK(http_parse_response_head(s, strlen(s), &resp) > 0);
	CHECK(resp.chunked && !resp.keep_alive);
	http_response_release(&resp);

	CHECK_INT(http_parse_response_head("HTTP/1.1 200 OK\r\n", 17, &resp), 0);
	CHECK_INT(http_parse_response_head("HTTP/1.1 2x0 OK\r\n\r\n", 19, &resp), -EBADMSG);
	CHECK_INT(http_parse_response_head("HTTP/1.1 200OK\r\n\r\n", 18, &resp), -EBADMSG);
	CHECK_INT(http_parse_response_head("SSH-2.0\r\n\r\n", 11, &resp), -EBADMSG);
	s = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
	CHECK_INT(http_parse_response_head(s, strlen(s), &resp), -EBADMSG);
}

/* Decode all of in, fed in pieces split at the given points. */
static int decode_split(const char *in, size_t len, const size_t *splits, size_t n_splits,
			char *out, size_t out_cap, size_t *out_len, size_t *consumed, bool *done)
{
	struct http_chunked c = {};
	size_t pos = 0, o = 0;

	for (size_t s = 0; s <= n_splits; s++) {
		size_t end = s < n_splits ? splits[s] : len;
		while (pos < end && !c.done) {
			size_t ol = out_cap - o < 3 ? out_cap - o : 3; /* tiny output too */
			ssize_t k = http_chunked_decode(&c, in + pos, end - pos, out + o, &ol);
			if (k < 0)
				return (int)k;
			if (k == 0 && ol == 0)
				break;
			pos += k;
			o += ol;
		}
	}
	*out_len = o;
	*consumed = pos;
	*done = c.done;
	return 0;
}

static void test_chunked_splits(void)
{
	const char *in = "5\r\nhello\r\n6;name=\"v\" ; x\r\n world\r\n"
			 "000a  \r\n0123456789\r\n0\r\nTrailer: x\r\nT2: y\r\n\r\nNEXT";
	const char *want = "hello world0123456789";
	size_t len = strlen(in), body_len = len - 4;
	char out[64];

	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b++) {
			size_t splits[2] = {a, b}, ol = 0, used = 0;
			bool done = false;
			int r =
			    decode_split(in, len, splits, 2, out, sizeof(out), &ol, &used, &done);
			CHECK_INT(r, 0);
			CHECK(done);
			CHECK_INT(used, body_len);
			CHECK(ol == strlen(want) && memcmp(out, want, ol) == 0);
			if (test_failures_)
				return;
		}
	}
}

static int decode_all(const char *in, bool *done)
{
	struct http_chunked c = {};
	char out[256];
	size_t ol = sizeof(out);
	ssize_t k = http_chunked_decode(&c, in, strlen(in), out, &ol);
	*done = c.done;
	return k < 0 ? (int)k : 0;
}

static void test_chunked_errors(void)
{
	static const char *bad[] = {
	    "x\r\n",
	    "\r\n",
	    ";ext\r\n",
	    "5\nhello\r\n",
	    "5\r\nhelloX\r\n",
	    "5\r\nhello\r\r\n",
	    "5\r\nhello\n0\r\n\r\n",
	    "5 x\r\n",
	    "5;a\x01\r\n",
	    "0\r\nX: y\n\r\n",
	    "0\r\n\n",
	    "0\r\n\r\r",
	    "10000000000000000\r\n",
	    "1000000000000000\r\n", /* 2^60 */
	    "-1\r\n",
	    " 1\r\n",
	};
	bool done;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int r = decode_all(bad[i], &done);
		if (r != -EBADMSG)
			fprintf(stderr, "  case %zu accepted\n", i);
		CHECK_INT(r, -EBADMSG);
	}
	CHECK_INT(decode_all("FFFFFFFFFFFFFFF\r\n", &done), 0); /* 2^60 - 1 */
	CHECK(!done);

	/* an endless extension is refused */
	_cleanup_free_ char *ext = xmalloc(10000);
	memset(ext, 'a', 9999);
	ext[0] = '1';
	ext[1] = ';';
	ext[9999] = 0;
	CHECK_INT(decode_all(ext, &done), -EBADMSG);
}

static void test_url_decode(void)
{
	_cleanup_free_ char *a = http_url_decode("a%2Fb+c%41%e2%82%ac", 19, false);
	_cleanup_free_ char *b = http_url_decode("a+b%2B", 6, true);
	CHECK_STREQ(a, "a/b+cA\xe2\x82\xac");
	CHECK_STREQ(b, "a b+");
	CHECK(http_url_decode("%", 1, true) == NULL);
	CHECK(http_url_decode("%a", 2, true) == NULL);
	CHECK(http_url_decode("%ag", 3, true) == NULL);
	CHECK(http_url_decode("%00", 3, true) == NULL);
	CHECK(http_url_decode("a\0b", 3, true) == NULL);
	/* len bounds the input: a '%' beyond it is not read */
	_cleanup_free_ char *c = http_url_decode("ab%41", 2, true);
	CHECK_STREQ(c, "ab");
}

static void test_query(void)
{
	const char *q = "all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&t=a+b&all=0&empty=&"
			"flag&bad=%zz&bad=ok&n=-42&big=99999999999999999999&j=12x&sp=%201";
	char *v;
	int64_t n = 7;

	v = http_query_get(q, "all");
	CHECK_STREQ(v, "1");
	free(v);
	v = http_query_get(q, "filters");
	CHECK_STREQ(v, "{\"label\":[\"a=b\"]}");
	free(v);
	v = http_query_get(q, "t");
	CHECK_STREQ(v, "a b");
	free(v);
	v = http_query_get(q, "empty");
	CHECK_STREQ(v, "");
	free(v);
	v = http_query_get(q, "flag");
	CHECK_STREQ(v, "");
	free(v);
	v = http_query_get(q, "bad");
	CHECK_STREQ(v, "ok");
	free(v);
	CHECK(http_query_get(q, "missing") == NULL);
	CHECK(http_query_get(NULL, "all") == NULL);
	CHECK(http_query_get("", "all") == NULL);
	v = http_query_get("&&=&a", "a");
	CHECK_STREQ(v, "");
	free(v);
	v = http_query_get("a%20b=c", "a b");
	CHECK_STREQ(v, "c");
	free(v);

	CHECK(http_query_bool(q, "all", false));
	CHECK(!http_query_bool(q, "empty", true));
	CHECK(!http_query_bool(q, "flag", true));
	CHECK(http_query_bool(q, "missing", true));
	CHECK(!http_query_bool(q, "missing", false));
	static const char *truths[] = {"1", "true", "True", "yes", "TRUE", "on"};
	static const char *lies[] = {"0", "false", "False", "no", "none", "", "%20"};
	for (size_t i = 0; i < ELEMENTSOF(truths); i++) {
		_cleanup_free_ char *s = xasprintf("x=%s", truths[i]);
		CHECK(http_query_bool(s, "x", false));
	}
	for (size_t i = 0; i < ELEMENTSOF(lies); i++) {
		_cleanup_free_ char *s = xasprintf("x=%s", lies[i]);
		CHECK(!http_query_bool(s, "x", true));
	}

	CHECK_INT(http_query_int(q, "n", 0, &n), 0);
	CHECK_INT(n, -42);
	CHECK_INT(http_query_int(q, "missing", 5, &n), 0);
	CHECK_INT(n, 5);
	CHECK_INT(http_query_int(q, "empty", 6, &n), 0);
	CHECK_INT(n, 6);
	CHECK_INT(http_query_int(q, "big", 0, &n), -EINVAL);
	CHECK_INT(http_query_int(q, "j", 0, &n), -EINVAL);
	CHECK_INT(http_query_int(q, "sp", 0, &n), -EINVAL);
	CHECK_INT(http_query_int(q, "t", 0, &n), -EINVAL);
	CHECK_INT(n, 6);
}

static void sockpair(int type, int sv[2])
{
	int r = socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv);
	CHECK(r == 0);
}

/* Read everything from fd until EOF into a string. */
static char *read_all(int fd)
{
	size_t cap = 4096, len = 0;
	char *b = xmalloc(cap);
	for (;;) {
		ssize_t k;
		if (cap - len < 1024)
			b = xrealloc(b, cap *= 2);
		k = read(fd, b + len, cap - len - 1);
		if (k <= 0)
			break;
		len += k;
	}
	b[len] = 0;
	return b;
}

static void test_pipelining(void)
{
	int sv[2];
	struct http_conn c;
	struct http_request req;
	char body[16];
	const char *reqs =
	    "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
	    "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	    "GET /c HTTP/1.1\r\n\r\n"
	    "POST /d HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
	    "GET /e HTTP/1.1\r\nConnection: close\r\n\r\n";

	sockpair(SOCK_STREAM, sv);
	CHECK(write(sv[1], reqs, strlen(reqs)) == (ssize_t)strlen(reqs));
	shutdown(sv[1], SHUT_WR);
	http_conn_init(&c, sv[0]);

	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_STREQ(req.path, "/a");
	CHECK_INT(http_conn_read_body(&c, body, 2), 2);
	CHECK_INT(http_conn_read_body(&c, body + 2, sizeof(body)), 3);
	CHECK_INT(http_conn_read_body(&c, body, sizeof(body)), 0);
	CHECK(memcmp(body, "hello", 5) == 0);
	http_request_release(&req);

	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_STREQ(req.path, "/b");
	char *all = NULL;
	size_t all_len = 0;
	CHECK_INT(http_conn_read_body_all(&c, 100, &all, &all_len), 0);
	CHECK_STREQ(all, "abc");
	CHECK_INT(all_len, 3);
	free(all);
	http_request_release(&req);

	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_STREQ(req.path, "/c");
	CHECK_INT(http_conn_read_body(&c, body, sizeof(body)), 0);
	CHECK_INT(http_conn_read_body_all(&c, 0, &all, &all_len), 0);
	CHECK_INT(all_len, 0);
	free(all);
	http_request_release(&req);

	/* a body the handler did not read is skipped */
	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_STREQ(req.path, "/d");
	http_request_release(&req);
	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_STREQ(req.path, "/e");
	CHECK(!req.keep_alive);
	http_request_release(&req);

	CHECK_INT(http_conn_read_request(&c, &req), -EPIPE);
	http_conn_release(&c);
	close(sv[0]);
	close(sv[1]);
}

static void test_conn_errors(void)
{
	int sv[2];
	struct http_conn c;
	struct http_request req;
	char *all = NULL;

	/* a bad request is its status */
	sockpair(SOCK_STREAM, sv);
	http_conn_init(&c, sv[0]);
	CHECK(write(sv[1], "GET / HTTP/3.0\r\n\r\n", 18) == 18);
	CHECK_INT(http_conn_read_request(&c, &req), -505);
	CHECK(c.broken);
	http_conn_release(&c);
	close(sv[0]);
	close(sv[1]);

	/* a close mid-head, mid-body */
	sockpair(SOCK_STREAM, sv);
	http_conn_init(&c, sv[0]);
	CHECK(write(sv[1], "GET / HT", 8) == 8);
	shutdown(sv[1], SHUT_WR);
	CHECK_INT(http_conn_read_request(&c, &req), -ECONNRESET);
	http_conn_release(&c);
	close(sv[0]);
	close(sv[1]);

	sockpair(SOCK_STREAM, sv);
	http_conn_init(&c, sv[0]);
	const char *s = "PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	shutdown(sv[1], SHUT_WR);
	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_INT(http_conn_read_body_all(&c, 100, &all, NULL), -ECONNRESET);
	http_request_release(&req);
	http_conn_release(&c);
	close(sv[0]);
	close(sv[1]);

	/* too large for the caller: -EFBIG, from the header or while reading */
	sockpair(SOCK_STREAM, sv);
	http_conn_init(&c, sv[0]);
	s = "PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
	    "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n";
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_INT(http_conn_read_body_all(&c, 9, &all, NULL), -EFBIG);
	http_request_release(&req);
	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_INT(http_conn_read_body_all(&c, 9, &all, NULL), -EFBIG);
	http_request_release(&req);
	http_conn_release(&c);
	close(sv[0]);
	close(sv[1]);

	/* bad chunking */
	sockpair(SOCK_STREAM, sv);
	http_conn_init(&c, sv[0]);
	s = "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	CHECK_INT(http_conn_read_request(&c, &req), 0);
	CHECK_INT(http_conn_read_body_all(&c, 100, &all, NULL), -EBADMSG);
	http_request_release(&req);
	CHECK_INT(http_conn_read_request(&c, &req), -EPIPE);
	http_conn_release(&c);
	close(sv[0]);
	close(sv[1]);
}

struct client_args {
	int fd;
	int body_fd;
	char *response;
	int r;
};

static void *client_thread(void *p)
{
	struct client_args *a = p;

	a->r = http_send_request(a->fd, "POST", "/build?t=x", "docker", "X-Test: 1\r\n", NULL, 0,
				 a->body_fd);
	return NULL;
}

struct feeder_args {
	int fd;
	const char *data;
	size_t len;
};

static void *feeder_thread(void *p)
{
	struct feeder_args *f = p;

	for (size_t o = 0; o < f->len;) {
		size_t n = f->len - o < 7777 ? f->len - o : 7777;
		if (write(f->fd, f->data + o, n) != (ssize_t)n)
			break;
		o += n;
	}
	close(f->fd);
	return NULL;
}

static void test_round_trip(void)
{
	int sv[2], pfd[2];
	pthread_t t, ft;
	struct client_args a = {};
	struct http_conn sc, cc;
	struct http_request req;
	struct http_response resp;
	char *body = NULL, *got = NULL;
	size_t body_len = 0, got_len = 0;
	const size_t N = 300000;
	_cleanup_free_ char *payload = xmalloc(N);

	for (size_t i = 0; i < N; i++)
		payload[i] = (char)('a' + i % 26);
	sockpair(SOCK_STREAM, sv);
	CHECK(pipe2(pfd, O_CLOEXEC) == 0);
	a.fd = sv[1];
	a.body_fd = pfd[0];
	http_set_common_headers("Server: berth-test\r\nApi-Version: 1.50");
	CHECK(pthread_create(&t, NULL, client_thread, &a) == 0);
	/* the body comes through the pipe in pieces, as docker build's context would */
	struct feeder_args f = {.fd = pfd[1], .data = payload, .len = N};
	CHECK(pthread_create(&ft, NULL, feeder_thread, &f) == 0);

	http_conn_init(&sc, sv[0]);
	CHECK_INT(http_conn_read_request(&sc, &req), 0);
	CHECK_STREQ(req.method, "POST");
	CHECK_STREQ(req.target, "/build?t=x");
	CHECK_STREQ(http_request_header(&req, "Host"), "docker");
	CHECK_STREQ(http_request_header(&req, "X-Test"), "1");
	CHECK(req.chunked && req.keep_alive);
	CHECK_INT(http_conn_read_body_all(&sc, N, &body, &body_len), 0);
	CHECK(body_len == N && memcmp(body, payload, N) == 0);
	free(body);
	http_request_release(&req);
	pthread_join(t, NULL);
	pthread_join(ft, NULL);
	CHECK_INT(a.r, 0);
	close(pfd[0]);

	/* the server streams back; the client decodes */
	CHECK_INT(http_stream_begin(&sc, 200, "application/json", "X-Stream: yes\r\n"), 0);
	for (int i = 0; i < 100; i++) {
		char line[64];
		int l = snprintf(line, sizeof(line), "{\"status\":\"%d\"}\r\n", i);
		CHECK_INT(http_stream_write(&sc, line, l), 0);
	}
	CHECK_INT(http_stream_write(&sc, "", 0), 0);
	CHECK_INT(http_stream_end(&sc), 0);
	/* and the connection goes on: a plain response, then an error that closes */
	CHECK_INT(http_respond(&sc, 200, "text/plain", "OK", 2, NULL, true), 0);
	CHECK_INT(http_respond_error(&sc, 404, "No such container: \"x\"\n", false), 0);
	CHECK(sc.broken);

	http_conn_init(&cc, sv[1]);
	CHECK_INT(http_conn_read_response(&cc, &resp, false), 0);
	CHECK_INT(resp.status, 200);
	CHECK(resp.chunked && resp.keep_alive);
	CHECK_STREQ(http_response_header(&resp, "Content-Type"), "application/json");
	CHECK_STREQ(http_response_header(&resp, "X-Stream"), "yes");
	CHECK_STREQ(http_response_header(&resp, "Api-Version"), "1.50");
	CHECK_STREQ(http_response_header(&resp, "Server"), "berth-test");
	CHECK_INT(http_conn_read_body_all(&cc, 1 << 20, &got, &got_len), 0);
	CHECK(got && strncmp(got, "{\"status\":\"0\"}\r\n{\"status\":\"1\"}", 30) == 0);
	CHECK(got && endswith(got, "{\"status\":\"99\"}\r\n"));
	free(got);
	http_response_release(&resp);

	CHECK_INT(http_conn_read_response(&cc, &resp, false), 0);
	CHECK_INT(resp.content_length, 2);
	CHECK_INT(http_conn_read_body_all(&cc, 100, &got, NULL), 0);
	CHECK_STREQ(got, "OK");
	free(got);
	http_response_release(&resp);

	CHECK_INT(http_conn_read_response(&cc, &resp, false), 0);
	CHECK_INT(resp.status, 404);
	CHECK_STREQ(resp.reason, "Not Found");
	CHECK(!resp.keep_alive);
	CHECK_STREQ(http_response_header(&resp, "Content-Type"), "application/json");
	CHECK_INT(http_conn_read_body_all(&cc, 100, &got, NULL), 0);
	CHECK_STREQ(got, "{\"message\":\"No such container: \\\"x\\\"\\n\"}\n");
	free(got);
	http_response_release(&resp);

	http_conn_release(&sc);
	http_conn_release(&cc);
	close(sv[0]);
	close(sv[1]);
	http_set_common_headers(NULL);
}

static void test_response_bodies(void)
{
	int sv[2];
	struct http_conn cc;
	struct http_response resp;
	char *got = NULL;
	const char *s = "HTTP/1.1 100 Continue\r\n\r\n"
			"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
			"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc"
			"HTTP/1.1 200 OK\r\n\r\nuntil close";

	sockpair(SOCK_STREAM, sv);
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	shutdown(sv[1], SHUT_WR);
	http_conn_init(&cc, sv[0]);
	CHECK_INT(http_conn_read_response(&cc, &resp, false), 0);
	CHECK_INT(resp.status, 204); /* the 100 is skipped; 204 has no body */
	CHECK_INT(http_conn_read_body_all(&cc, 100, &got, NULL), 0);
	CHECK_STREQ(got, "");
	free(got);
	http_response_release(&resp);
	CHECK_INT(http_conn_read_response(&cc, &resp, true), 0); /* HEAD: no body */
	CHECK_INT(http_conn_read_body_all(&cc, 100, &got, NULL), 0);
	CHECK_STREQ(got, "");
	free(got);
	http_response_release(&resp);
	CHECK_INT(http_conn_read_response(&cc, &resp, false), 0);
	CHECK_INT(resp.status, 201); /* its body is left unread, then skipped */
	http_response_release(&resp);
	CHECK_INT(http_conn_read_response(&cc, &resp, false), 0);
	CHECK_INT(resp.status, 200);
	CHECK(!resp.keep_alive);
	CHECK_INT(http_conn_read_body_all(&cc, 100, &got, NULL), 0);
	CHECK_STREQ(got, "until close");
	free(got);
	http_response_release(&resp);
	CHECK_INT(http_conn_read_response(&cc, &resp, false), -EPIPE);
	http_conn_release(&cc);
	close(sv[0]);
	close(sv[1]);
}

static void test_hijack(void)
{
	int sv[2];
	struct http_conn sc;
	struct http_request req;
	char buf[1024];
	ssize_t k;
	const char *s = "POST /containers/x/attach?stream=1&stdin=1 HTTP/1.1\r\n"
			"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
			"early stdin";

	/* SOCK_SEQPACKET keeps write boundaries: each read is exactly one write */
	sockpair(SOCK_SEQPACKET, sv);
	http_set_common_headers("Api-Version: 1.50\r\n");
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	http_conn_init(&sc, sv[0]);
	CHECK_INT(http_conn_read_request(&sc, &req), 0);
	CHECK(req.upgrade);
	CHECK_INT(http_hijack_begin(&sc, req.upgrade, "application/vnd.docker.multiplexed-stream"),
		  0);
	http_request_release(&req);
	CHECK_INT(stdcopy_write(sc.fd, STDCOPY_STDOUT, "out", 3), 0);

	k = read(sv[1], buf, sizeof(buf) - 1);
	CHECK(k > 0);
	buf[k > 0 ? k : 0] = 0;
	CHECK_STREQ(buf, "HTTP/1.1 101 UPGRADED\r\n"
			 "Content-Type: application/vnd.docker.multiplexed-stream\r\n"
			 "Connection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: 1.50\r\n\r\n");
	k = read(sv[1], buf, sizeof(buf));
	CHECK_INT(k, 11);
	CHECK(memcmp(buf, "\1\0\0\0\0\0\0\3out", 11) == 0);

	/* what came with the request is read first */
	k = http_conn_read_raw(&sc, buf, 5);
	CHECK(k == 5 && memcmp(buf, "early", 5) == 0);
	k = http_conn_read_raw(&sc, buf, sizeof(buf));
	CHECK(k == 6 && memcmp(buf, " stdin", 6) == 0);
	CHECK(write(sv[1], "more", 4) == 4);
	k = http_conn_read_raw(&sc, buf, sizeof(buf));
	CHECK(k == 4 && memcmp(buf, "more", 4) == 0);
	CHECK_INT(http_conn_read_request(&sc, &req), -EPIPE);
	http_request_release(&req);
	http_conn_release(&sc);

	/* no upgrade asked: 200 and a stream until close */
	http_conn_init(&sc, sv[0]);
	CHECK_INT(http_hijack_begin(&sc, false, NULL), 0);
	k = read(sv[1], buf, sizeof(buf) - 1);
	buf[k > 0 ? k : 0] = 0;
	CHECK_STREQ(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
			 "Api-Version: 1.50\r\n\r\n");
	http_conn_release(&sc);
	close(sv[0]);
	close(sv[1]);
	http_set_common_headers(NULL);
}

static void test_epipe(void)
{
	int sv[2], pfd[2];
	struct http_conn sc;
	char big[65536] = {};
	int r = 0;
	void (*old)(int) = signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill us */

	sockpair(SOCK_STREAM, sv);
	http_conn_init(&sc, sv[0]);
	CHECK_INT(http_stream_begin(&sc, 200, "application/json", NULL), 0);
	close(sv[1]);
	for (int i = 0; i < 100 && r == 0; i++)
		r = http_stream_write(&sc, big, sizeof(big));
	CHECK(r == -EPIPE || r == -ECONNRESET);
	CHECK(sc.broken);
	CHECK(http_respond(&sc, 200, NULL, NULL, 0, NULL, true) < 0);
	CHECK_INT(stdcopy_write(sv[0], STDCOPY_STDERR, "x", 1), -EPIPE);
	http_conn_release(&sc);
	close(sv[0]);

	/* a pipe has no MSG_NOSIGNAL: the write blocks SIGPIPE and swallows it */
	CHECK(pipe2(pfd, O_CLOEXEC) == 0);
	close(pfd[0]);
	CHECK_INT(stdcopy_write(pfd[1], STDCOPY_STDOUT, "x", 1), -EPIPE);
	close(pfd[1]);
	sigset_t pending;
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGPIPE));
	signal(SIGPIPE, old);
}

static void test_keep_alive(void)
{
	int sv[2];
	struct http_conn sc;
	struct http_request req;
	_cleanup_free_ char *out = NULL;
	const char *s = "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
			"GET /b HTTP/1.0\r\n\r\n";

	/* HTTP/1.0: keep-alive must be said; the second request closes */
	sockpair(SOCK_STREAM, sv);
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	http_conn_init(&sc, sv[0]);
	CHECK_INT(http_conn_read_request(&sc, &req), 0);
	CHECK(req.keep_alive);
	CHECK_INT(http_respond(&sc, 200, "text/plain", "a", 1, NULL, req.keep_alive), 0);
	http_request_release(&req);
	CHECK_INT(http_conn_read_request(&sc, &req), 0);
	CHECK(!req.keep_alive);
	/* a stream to a 1.0 client is not chunked and ends with the connection */
	CHECK_INT(http_stream_begin(&sc, 200, "text/plain", NULL), 0);
	CHECK_INT(http_stream_write(&sc, "xyz", 3), 0);
	CHECK_INT(http_stream_end(&sc), 0);
	http_request_release(&req);
	CHECK_INT(http_conn_read_request(&sc, &req), -EPIPE);
	http_conn_release(&sc);
	close(sv[0]);
	out = read_all(sv[1]);
	CHECK_STREQ(out,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n"
		    "Connection: keep-alive\r\n\r\na"
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nxyz");
	close(sv[1]);
	free(TAKE_PTR(out));

	/* HTTP/1.1: no header for keep-alive, Connection: close otherwise; 204 has no length */
	sockpair(SOCK_STREAM, sv);
	s = "GET /a HTTP/1.1\r\n\r\n";
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	http_conn_init(&sc, sv[0]);
	CHECK_INT(http_conn_read_request(&sc, &req), 0);
	http_request_release(&req);
	CHECK_INT(http_respond(&sc, 204, NULL, NULL, 0, "X-A: 1", true), 0);
	CHECK_INT(http_respond(&sc, 304, NULL, NULL, 0, NULL, false), 0);
	http_conn_release(&sc);
	close(sv[0]);
	out = read_all(sv[1]);
	CHECK_STREQ(out, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"
			 "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
	close(sv[1]);
}

static void test_expect_continue(void)
{
	int sv[2];
	struct http_conn sc;
	struct http_request req;
	char buf[256];
	char *body = NULL;
	ssize_t k;
	const char *s = "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";

	sockpair(SOCK_STREAM, sv);
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	http_conn_init(&sc, sv[0]);
	CHECK_INT(http_conn_read_request(&sc, &req), 0);
	CHECK(req.expect_continue && sc.continue_pending);
	http_request_release(&req);
	/* nothing was sent yet: the handler may still refuse */
	CHECK(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	CHECK(write(sv[1], "data", 4) == 4);
	CHECK_INT(http_conn_read_body_all(&sc, 100, &body, NULL), 0);
	CHECK_STREQ(body, "data");
	free(body);
	k = read(sv[1], buf, sizeof(buf) - 1);
	buf[k > 0 ? k : 0] = 0;
	CHECK_STREQ(buf, "HTTP/1.1 100 Continue\r\n\r\n");

	/* refused before the body: the response closes the connection */
	CHECK(write(sv[1], s, strlen(s)) == (ssize_t)strlen(s));
	CHECK_INT(http_conn_read_request(&sc, &req), 0);
	http_request_release(&req);
	CHECK_INT(http_respond_error(&sc, 413, "too big", true), 0);
	k = read(sv[1], buf, sizeof(buf) - 1);
	buf[k > 0 ? k : 0] = 0;
	CHECK(strstr(buf, "HTTP/1.1 413 Content Too Large\r\n") == buf);
	CHECK(strstr(buf, "Connection: close\r\n") != NULL);
	/* no 100 Continue after that, and no waiting for the body */
	CHECK_INT(http_conn_skip_body(&sc), -EPIPE);
	CHECK(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	CHECK_INT(http_conn_read_request(&sc, &req), -EPIPE);
	http_conn_release(&sc);
	close(sv[0]);
	close(sv[1]);
}

static void test_stdcopy_header(void)
{
	uint8_t h[8];
	stdcopy_header(h, STDCOPY_STDERR, 0x01020304);
	CHECK(memcmp(h, "\2\0\0\0\1\2\3\4", 8) == 0);
	stdcopy_header(h, STDCOPY_SYSERR, 0);
	CHECK(memcmp(h, "\3\0\0\0\0\0\0\0", 8) == 0);
	CHECK_STREQ(http_status_text(409), "Conflict");
	CHECK_STREQ(http_status_text(599), "Server Error");
}

static void test_dial(void)
{
	char dir[] = "/tmp/test-http-XXXXXX";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct error *err = NULL;
	int l, fd, c;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s.sock", dir);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(l, 4) == 0);

	_cleanup_free_ char *url = xasprintf("unix://%s", sa.sun_path);
	fd = http_dial(url, &err);
	CHECK(fd >= 0);
	CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	CHECK(c >= 0);
	CHECK_INT(http_send_request(fd, "GET", "/_ping", NULL, NULL, NULL, 0, -1), 0);
	CHECK_INT(http_send_request(fd, "POST", "/x", "h", "A: b\r\n", "{}", 2, -1), 0);
	close(fd);
	_cleanup_free_ char *got = read_all(c);
	CHECK_STREQ(got, "GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n"
			 "POST /x HTTP/1.1\r\nHost: h\r\nA: b\r\nContent-Length: 2\r\n\r\n{}");
	close(c);

	fd = http_dial(sa.sun_path, &err);
	CHECK(fd >= 0);
	close(fd);
	unlink(sa.sun_path);
	CHECK(http_dial(sa.sun_path, &err) == -ENOENT);
	CHECK(err && strstr(err->msg, "s.sock"));
	error_free(TAKE_PTR(err));
	CHECK_INT(http_dial("ssh://host", &err), -EPROTONOSUPPORT);
	error_free(TAKE_PTR(err));
	CHECK_INT(http_dial("tcp://[::1", &err), -EINVAL);
	error_free(TAKE_PTR(err));
	close(l);
	rmdir(dir);

	/* tcp on loopback, to a port from the kernel */
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(in);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(bind(l, (struct sockaddr *)&in, sizeof(in)) == 0);
	CHECK(listen(l, 4) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&in, &sl) == 0);
	_cleanup_free_ char *tcp = xasprintf("tcp://127.0.0.1:%d", ntohs(in.sin_port));
	fd = http_dial(tcp, &err);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	close(l);
	error_free(err);
}

int main(void)
{
	RUN(test_parse_good);
	RUN(test_parse_flags);
	RUN(test_parse_errors);
	RUN(test_parse_incomplete);
	RUN(test_parse_limits);
	RUN(test_parse_response);
	RUN(test_chunked_splits);
	RUN(test_chunked_errors);
	RUN(test_url_decode);
	RUN(test_query);
	RUN(test_pipelining);
	RUN(test_conn_errors);
	RUN(test_round_trip);
	RUN(test_response_bodies);
	RUN(test_hijack);
	RUN(test_epipe);
	RUN(test_keep_alive);
	RUN(test_expect_continue);
	RUN(test_stdcopy_header);
	RUN(test_dial);
	return TEST_SUMMARY();
}
