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
 *
 * Threads: every function works on its arguments only; the one global is
 * http_set_common_headers, set once before any connection is served. Writes
 * never raise SIGPIPE (send(MSG_NOSIGNAL) on sockets; SIGPIPE blocked and
 * swallowed around writes to pipes): a peer that went away gives -EPIPE.
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
	char *target;	   /* raw request target: "/v1.50/containers/json?all=1" */
	char *path;	   /* percent-decoded path without the query: "/v1.50/containers/json" */
	char *query;	   /* raw query string without '?', or NULL */
	int version_minor; /* HTTP/1.x */
	struct http_header *headers;
	size_t n_headers;
	int64_t content_length; /* -1 when absent */
	bool chunked;		/* Transfer-Encoding: chunked */
	bool keep_alive;	/* after this request */
	bool upgrade;		/* Connection: Upgrade */
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
 * On success *req is filled (release with http_request_release); on any
 * other return *req is empty (releasing it is harmless).
 *
 * Errors are reported as soon as the bytes so far can never become valid
 * (a bad method or request line is refused before its head is complete).
 * -400: bad request line, bare LF, obs-fold, whitespace before a colon,
 *       invalid header names or values (CTLs, NUL), bad or conflicting
 *       Content-Length (or above 10^18 - 1), Content-Length together with
 *       Transfer-Encoding, "chunked" twice, two Host headers, bad percent
 *       escapes or %00 in the path;
 * -414: request-target over HTTP_MAX_URI; -431: head over HTTP_MAX_HEAD or
 *       over HTTP_MAX_HEADERS headers; -501: a transfer coding other than
 *       chunked, or a method longer than 15; -505: HTTP major version != 1.
 * Tolerated: empty lines before the request line, absent Host, the
 * absolute-form ("http://h/p": path is "/p"), "OPTIONS *" (path "*").
 * keep_alive follows the version (1.1 yes, 1.0 no) and the Connection
 * tokens "close"/"keep-alive"; upgrade needs both Connection: upgrade and a
 * non-empty Upgrade header; expect_continue is "Expect: 100-continue" on
 * HTTP/1.1. query is NULL without '?', "" for a bare '?'.
 */
ssize_t http_parse_request_head(const char *buf, size_t len, struct http_request *req);
void http_request_release(struct http_request *req);
const char *http_request_header(const struct http_request *req, const char *name);

/*
 * The same for a response head (the client side). Errors are -EBADMSG.
 * Transfer-Encoding overrides Content-Length; content_length is -1 when the
 * body is chunked or has no length (http_conn_read_response then reads it
 * until close and sets keep_alive false). reason may be "" but never NULL.
 */
ssize_t http_parse_response_head(const char *buf, size_t len, struct http_response *resp);
void http_response_release(struct http_response *resp);
const char *http_response_header(const struct http_response *resp, const char *name);

/*
 * Incremental chunked-body decoder. Feed input; decoded bytes are written to
 * out (up to *out_len, which is updated). Returns input bytes consumed, or
 * -EBADMSG. done becomes true after the last chunk and its trailers.
 * Zero-initialise the struct to start. Input may be split at any byte. It
 * stops consuming when out is full or at the end of the body (what follows
 * belongs to the next message). Chunk extensions and trailer fields are
 * skipped; bad hex, a size of 2^60 or more, a missing CRLF (a bare LF
 * too), CTLs in extensions, a size line over 4 KiB or trailers over
 * HTTP_MAX_HEAD are -EBADMSG. The fields are the decoder's private state.
 */
struct http_chunked {
	int state;
	uint64_t remaining;
	bool done;
	size_t line_len;
};
ssize_t http_chunked_decode(struct http_chunked *c, const char *in, size_t in_len, char *out,
			    size_t *out_len);

/*
 * Percent-decode (and '+' to space when form is true). NULL on invalid
 * escapes, and on a NUL (raw or %00), which a C string cannot carry.
 */
char *http_url_decode(const char *s, size_t len, bool form);
/*
 * The decoded value of a query parameter, or NULL. Caller frees. query may be
 * NULL. Form decoding ('+' is a space) of names and values; the first of
 * repeated keys wins; "a" and "a=" give ""; a pair that does not decode is
 * skipped (as Go's ParseQuery does).
 */
char *http_query_get(const char *query, const char *name);
/*
 * Docker's query booleans (moby httputils.BoolValueOrDefault): absent gives
 * def; present, the trimmed value "", "0", "no", "false", "none" (any case)
 * is false and anything else ("1", "true", "True", "yes") is true.
 */
bool http_query_bool(const char *query, const char *name, bool def);
/*
 * Integer query value (decimal, optional sign); absent or empty gives def;
 * junk or out of range gives -EINVAL and leaves *ret alone.
 */
int http_query_int(const char *query, const char *name, int64_t def, int64_t *ret);

/* ---- connections ---------------------------------------------------------- */

struct http_conn {
	int fd;
	char *buf; /* read buffer: buf[start..end) unread */
	size_t start, end, cap;
	/* body state of the current request or response */
	int64_t body_left; /* Content-Length bytes left, -1 when chunked or until close */
	bool body_chunked;
	bool body_until_close;
	struct http_chunked chunk;
	bool broken; /* an I/O error happened, or a response said Connection:
			close: close it (http_conn_read_request gives -EPIPE) */
	/* added: */
	int version_minor;     /* of the last request: a 1.0 client gets no chunked stream */
	bool continue_pending; /* Expect: 100-continue, not answered yet */
	bool hijacked;	       /* after http_hijack_begin: only raw reads and writes */
	bool stream_raw;       /* the stream runs until close (HTTP/1.0 client) */
};

void http_conn_init(struct http_conn *c, int fd);
void http_conn_release(struct http_conn *c); /* frees the buffer; does not close fd */

/*
 * Read the next request head (blocking). 0 and *req filled; -EPIPE on a clean
 * close before any byte; a negative HTTP status (see http_parse_request_head)
 * for an invalid request, after which the caller answers and closes; other
 * -errno on I/O errors. Prepares the body reader from the head.
 * Pipelined bytes stay buffered for the next call. Whatever the previous
 * request's handler left of its body is read and dropped first; -EPIPE when
 * the connection must close instead (broken, hijacked, a response that said
 * Connection: close). -ECONNRESET when the peer closed mid-head. With
 * SO_RCVTIMEO set, a timeout gives -EAGAIN.
 *
 * Expect: 100-continue: "HTTP/1.1 100 Continue" goes out by itself on the
 * first body read (http_conn_read_body/_all/skip_body), so a handler that
 * refuses the request first never invites the body; its response then
 * carries Connection: close. http_conn_send_continue sends it earlier.
 */
int http_conn_read_request(struct http_conn *c, struct http_request *req);
/*
 * Read the response head (client side) and prepare the body reader. Interim
 * 1xx responses other than 101 are skipped. No body after a HEAD request,
 * 1xx, 204 and 304; after 101 the stream follows (http_conn_read_raw).
 * -EPIPE when the server closed before any byte (an idle keep-alive
 * connection it dropped), -ECONNRESET mid-head, -EBADMSG for garbage. The
 * unread rest of the previous response's body is skipped first.
 */
int http_conn_read_response(struct http_conn *c, struct http_response *resp, bool head_request);
/* Send "HTTP/1.1 100 Continue" now if the request expects it (once). */
int http_conn_send_continue(struct http_conn *c);
/* Whether the current body has been read to its end. */
bool http_conn_body_done(const struct http_conn *c);

/*
 * Read body bytes: >0 bytes, 0 at the end of the body, -errno. A peer that
 * closes before a Content-Length or chunked body ends gives -ECONNRESET;
 * malformed chunking -EBADMSG.
 */
ssize_t http_conn_read_body(struct http_conn *c, void *buf, size_t n);
/*
 * The whole body into memory; more than max is -EFBIG (the caller answers 413).
 * *ret is NUL-terminated (not counted in *ret_len; ret_len may be NULL).
 */
int http_conn_read_body_all(struct http_conn *c, size_t max, char **ret, size_t *ret_len);
/*
 * Discard the rest of the body (to keep the connection usable). -EPIPE
 * without reading when the connection closes anyway (broken, hijacked).
 */
int http_conn_skip_body(struct http_conn *c);
/* After a hijack: read raw bytes (buffered ones first). */
ssize_t http_conn_read_raw(struct http_conn *c, void *buf, size_t n);

/* ---- responses (server side) --------------------------------------------- */

/*
 * Extra headers every berthd response carries (Server, Api-Version, ...): set
 * once, before serving. Each header ends in "\r\n" (a missing last one is added).
 * All header arguments below follow the same rule and may be NULL.
 */
void http_set_common_headers(const char *headers_crlf);

/*
 * A complete response, in one write. content_type may be NULL when there is
 * no body. 1xx, 204 and 304 carry neither body nor Content-Length. For a
 * HEAD request pass body NULL and len 0. keep_alive false (or a connection
 * that cannot go on, see http_conn_read_request) adds Connection: close and
 * makes the next http_conn_read_request return -EPIPE; pass req->keep_alive.
 * All writers return 0 or -errno (-EPIPE when the client went away).
 */
int http_respond(struct http_conn *c, int status, const char *content_type, const char *body,
		 size_t len, const char *extra_headers_crlf, bool keep_alive);
/* body as compact JSON plus "\n" (as moby writes it); body is borrowed, NULL is null. */
int http_respond_json(struct http_conn *c, int status, json_object *body, bool keep_alive);
/* Docker's error: {"message":"..."} with Content-Type: application/json. */
int http_respond_error(struct http_conn *c, int status, const char *message, bool keep_alive);

/*
 * A chunked stream: begin (headers), write chunks, end. Each call flushes
 * (one write each; a zero-length write sends nothing). To an HTTP/1.0
 * client the stream goes unchunked with Connection: close instead.
 */
int http_stream_begin(struct http_conn *c, int status, const char *content_type,
		      const char *extra_headers_crlf);
int http_stream_write(struct http_conn *c, const void *data, size_t len);
int http_stream_end(struct http_conn *c);

/*
 * Answer a hijack: "HTTP/1.1 101 UPGRADED" with Content-Type, Connection and
 * Upgrade headers, in a write of its own (docker-py drops stream bytes that
 * arrive in the same read as the 101). Without upgrade requested, a 200 with
 * the content type and no length (the stream runs until close). The
 * common headers are included. content_type NULL is
 * application/vnd.docker.raw-stream. Afterwards read with http_conn_read_raw
 * (bytes that came with the request come first) and write to c->fd.
 */
int http_hijack_begin(struct http_conn *c, bool upgrade, const char *content_type);

/* The reason phrase for a status ("Not Found"). */
const char *http_status_text(int status);

/* ---- stdcopy ----------------------------------------------------------- */

enum stdcopy_stream {
	STDCOPY_STDIN = 0,
	STDCOPY_STDOUT = 1,
	STDCOPY_STDERR = 2,
	STDCOPY_SYSERR = 3
};
/*
 * Write one frame (header + payload) to fd, in one write. len 0 writes
 * nothing; more than 4 GiB - 1 becomes several frames.
 */
int stdcopy_write(int fd, enum stdcopy_stream s, const void *data, size_t len);
void stdcopy_header(uint8_t out[8], enum stdcopy_stream s, uint32_t len);

/* ---- client side --------------------------------------------------------- */

/*
 * Connect to "unix:///path", "/path", or "tcp://host:port" ("[v6]:port";
 * port 2375 when absent). Returns a blocking SOCK_CLOEXEC fd (TCP_NODELAY on
 * TCP) or -errno with *err saying what failed.
 */
int http_dial(const char *addr, struct error **err);
/*
 * Send a request (method, target, extra headers, body of len bytes or a
 * chunked body when body_fd >= 0 is given instead). Host: is added.
 * host NULL is "localhost". A buffer body (and any POST/PUT/PATCH) gets
 * Content-Length; body_fd is read to EOF (not closed). For a hijack pass
 * "Connection: Upgrade\r\nUpgrade: tcp\r\n" as extra headers.
 */
int http_send_request(int fd, const char *method, const char *target, const char *host,
		      const char *extra_headers_crlf, const char *body, size_t len, int body_fd);

#endif
