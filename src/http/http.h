/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: the HTTP/1.1 pieces berthd and the berth client need, over blocking
 * fds (berthd serves each connection on its own thread).
 *
 * - parsing is done by pure functions on buffers (fuzzed): request and
 *   response heads, chunked bodies, query strings, percent-decoding;
 * - struct http_conn wraps an fd with a read buffer for keep-alive, bodies
 *   (Content-Length or chunked) and the bytes that follow a hijack;
 * - responses: whole bodies, chunked streams, 101 upgrades for hijacked
 *   streams (docker attach/exec), Docker's JSON errors;
 * - stdcopy: Docker's 8-byte multiplexing frames.
 *
 * Limits: a request head larger than HTTP_MAX_HEAD bytes or with more than
 * HTTP_MAX_HEADERS headers is refused (431), a URI longer than HTTP_MAX_URI
 * too (414).
 */
#ifndef BERTH_HTTP_H
#define BERTH_HTTP_H

#include "json/json.h"

#define HTTP_MAX_HEAD (64 * 1024)
#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_URI 16384

struct http_header {
	char *name; /* as sent; compare case-insensitively */
	char *value;
};

struct http_request {
	char method[16];
	char *target;     /* raw request target: "/v1.50/containers/json?all=1" */
	char *path;       /* percent-decoded path without the query: "/v1.50/containers/json" */
	char *query;      /* raw query string without '?', or NULL */
	int version_minor; /* HTTP/1.x */
	struct http_header *headers;
	size_t n_headers;
	int64_t content_length; /* -1 when absent */
	bool chunked;           /* Transfer-Encoding: chunked */
	bool keep_alive;        /* after this request */
	bool upgrade;           /* Connection: Upgrade */
	bool expect_continue;
};

struct http_response {
	int status;
	char *reason;
	int version_minor;
	struct http_header *headers;
	size_t n_headers;
	int64_t content_length;
	bool chunked;
	bool keep_alive;
};

/*
 * Parse a request head from buf[0..len). Returns the number of bytes of the
 * head (through the blank line) when complete, 0 when more bytes are needed,
 * or a negative HTTP status (-400, -414, -431, -501 for an unsupported
 * Transfer-Encoding, -505 for a bad version) when it can never be valid.
 * On success *req is filled (release with http_request_release).
 */
ssize_t http_parse_request_head(const char *buf, size_t len, struct http_request *req);
void http_request_release(struct http_request *req);
const char *http_request_header(const struct http_request *req, const char *name);

/* The same for a response head (the client side). Errors are -EBADMSG. */
ssize_t http_parse_response_head(const char *buf, size_t len, struct http_response *resp);
void http_response_release(struct http_response *resp);
const char *http_response_header(const struct http_response *resp, const char *name);

/*
 * Incremental chunked-body decoder. Feed input; decoded bytes are written to
 * out (up to *out_len, which is updated). Returns input bytes consumed, or
 * -EBADMSG. done becomes true after the last chunk and its trailers.
 */
struct http_chunked {
	int state;
	uint64_t remaining;
	bool done;
	size_t line_len;
};
ssize_t http_chunked_decode(struct http_chunked *c, const char *in, size_t in_len, char *out,
			    size_t *out_len);

/* Percent-decode (and '+' to space when form is true). NULL on invalid escapes. */
char *http_url_decode(const char *s, size_t len, bool form);
/* The decoded value of a query parameter, or NULL. Caller frees. */
char *http_query_get(const char *query, const char *name);
/* Docker's query booleans: "1", "true", "True", "yes" are true; absent gives def. */
bool http_query_bool(const char *query, const char *name, bool def);
/* Integer query value; absent gives def; junk gives -EINVAL. */
int http_query_int(const char *query, const char *name, int64_t def, int64_t *ret);

/* ---- connections ---------------------------------------------------------- */

struct http_conn {
	int fd;
	char *buf; /* read buffer: buf[start..end) unread */
	size_t start, end, cap;
	/* body state of the current request or response */
	int64_t body_left;   /* Content-Length bytes left, -1 when chunked or until close */
	bool body_chunked;
	bool body_until_close;
	struct http_chunked chunk;
	bool broken;         /* an I/O error happened: close it */
};

void http_conn_init(struct http_conn *c, int fd);
void http_conn_release(struct http_conn *c); /* frees the buffer; does not close fd */

/*
 * Read the next request head (blocking). 0 and *req filled; -EPIPE on a clean
 * close before any byte; a negative HTTP status (see http_parse_request_head)
 * for an invalid request, after which the caller answers and closes; other
 * -errno on I/O errors. Prepares the body reader from the head.
 */
int http_conn_read_request(struct http_conn *c, struct http_request *req);
/* Read the response head (client side) and prepare the body reader. */
int http_conn_read_response(struct http_conn *c, struct http_response *resp, bool head_request);

/* Read body bytes: >0 bytes, 0 at the end of the body, -errno. */
ssize_t http_conn_read_body(struct http_conn *c, void *buf, size_t n);
/* The whole body into memory; more than max is -EFBIG (the caller answers 413). */
int http_conn_read_body_all(struct http_conn *c, size_t max, char **ret, size_t *ret_len);
/* Discard the rest of the body (to keep the connection usable). */
int http_conn_skip_body(struct http_conn *c);
/* After a hijack: read raw bytes (buffered ones first). */
ssize_t http_conn_read_raw(struct http_conn *c, void *buf, size_t n);

/* ---- responses (server side) --------------------------------------------- */

/* Extra headers every berthd response carries (Server, Api-Version, ...): set once. */
void http_set_common_headers(const char *headers_crlf);

/* A complete response. content_type may be NULL when there is no body. */
int http_respond(struct http_conn *c, int status, const char *content_type, const char *body,
		 size_t len, const char *extra_headers_crlf, bool keep_alive);
int http_respond_json(struct http_conn *c, int status, json_object *body, bool keep_alive);
/* Docker's error: {"message":"..."} with Content-Type: application/json. */
int http_respond_error(struct http_conn *c, int status, const char *message, bool keep_alive);

/* A chunked stream: begin (headers), write chunks, end. Each call flushes. */
int http_stream_begin(struct http_conn *c, int status, const char *content_type,
		      const char *extra_headers_crlf);
int http_stream_write(struct http_conn *c, const void *data, size_t len);
int http_stream_end(struct http_conn *c);

/*
 * Answer a hijack: "HTTP/1.1 101 UPGRADED" with Content-Type, Connection and
 * Upgrade headers, in a write of its own (docker-py drops stream bytes that
 * arrive in the same read as the 101). Without upgrade requested, a 200 with
 * the content type and no length (the stream runs until close).
 */
int http_hijack_begin(struct http_conn *c, bool upgrade, const char *content_type);

/* The reason phrase for a status ("Not Found"). */
const char *http_status_text(int status);

/* ---- stdcopy ----------------------------------------------------------- */

enum stdcopy_stream { STDCOPY_STDIN = 0, STDCOPY_STDOUT = 1, STDCOPY_STDERR = 2, STDCOPY_SYSERR = 3 };
/* Write one frame (header + payload) to fd. */
int stdcopy_write(int fd, enum stdcopy_stream s, const void *data, size_t len);
void stdcopy_header(uint8_t out[8], enum stdcopy_stream s, uint32_t len);

/* ---- client side --------------------------------------------------------- */

/* Connect to "unix:///path", "/path", or "tcp://host:port". Returns an fd. */
int http_dial(const char *addr, struct error **err);
/*
 * Send a request (method, target, extra headers, body of len bytes or a
 * chunked body when body_fd >= 0 is given instead). Host: is added.
 */
int http_send_request(int fd, const char *method, const char *target, const char *host,
		      const char *extra_headers_crlf, const char *body, size_t len, int body_fd);

#endif
