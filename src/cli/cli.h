/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli: the berth client. docker's command tree, flags, environment and
 * output, talking the Docker Engine API to berthd.
 *
 * The pieces that carry no I/O are public so that unit tests and fuzzers can
 * reach them: a Go text/template subset (the language of docker's --format),
 * tabwriter-style column alignment, docker's human units (go-units) and the
 * flag parser the commands share.
 */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include "json/json.h"

/* Run the client: the whole of berth's main(). Returns the exit code. */
int cli_main(int argc, char **argv);

/* ---- growable buffer --------------------------------------------------- */

struct sbuf {
	char *s; /* NUL-terminated when non-NULL */
	size_t len, cap;
};
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) _printf_(2, 3);
void sbuf_release(struct sbuf *b);
/* Hand the string over (never NULL); the buffer is empty afterwards. */
char *sbuf_take(struct sbuf *b);

/* ---- templates ------------------------------------------------------------ */

/*
 * A subset of Go's text/template over json-c values: fields (.A.B), variables,
 * pipelines, parentheses, if/else if/else, range (arrays and maps, with
 * $i, $v :=), with, comments, {{- -}} trimming, and docker's functions (json,
 * join, split, upper, lower, title, pad, truncate) besides Go's (printf,
 * print, println, index, len, eq, ne, lt, le, gt, ge, and, or, not, slice).
 * JSON null and missing members are Go's nil: printed "<no value>".
 *
 * Parse errors read like Go's: "template: :1: function \"foo\" not defined";
 * docker prefixes them with "template parsing error: ".
 */
struct template;
int template_parse(const char *src, struct template **ret, struct error **err);
struct template *template_free(struct template *t);
static inline void template_freep(struct template **t)
{
	template_free(*t);
}

enum template_flags {
	/* Execute over a header map: docker's HeaderFunctions (json, upper, ... return their
	 * argument unchanged) and missing fields print as nothing. */
	TEMPLATE_HEADER = 1 << 0,
	/* A missing member of the top-level object is an error, as a missing field of a Go
	 * struct is (docker's ps/images contexts). */
	TEMPLATE_STRICT = 1 << 1,
};
/* json_object userdata on a formatter row (a docker formatter context): the json
 * function then marshals it as Go marshals a context (sorted keys). */
#define TEMPLATE_CONTEXT_MARK ((void *)&template_execute)
/* Execute over data, appending to out. Errors read like Go's ("template: :1:2: executing ..."). */
int template_execute(struct template *t, json_object *data, unsigned flags, struct sbuf *out,
		     struct error **err);

/* Go's fmt %v of a value: strings raw, [a b] for arrays, map[k:v] for objects. */
void template_print_value(struct sbuf *out, json_object *v);

/* ---- tables --------------------------------------------------------------- */

/*
 * Go's text/tabwriter with docker's settings (minwidth 10, tabwidth 1, padding 3,
 * padchar ' '): cells are tab-terminated, the last cell of a line is not aligned,
 * widths count UTF-8 code points. Appends the aligned text to out.
 */
void tabwriter_format(const char *text, size_t len, size_t minwidth, size_t padding,
		      struct sbuf *out);

/*
 * docker's formatter.Context: "table ..." (header row + aligned rows), "json"
 * ({{json .}} per line), or a plain template (one execution per row, newline-terminated).
 * An empty format or plain "table" means default_format.
 * header maps field names to column titles ({"ID":"CONTAINER ID",...}); borrowed.
 */
struct formatter;
int formatter_new(const char *format, const char *default_format, json_object *header,
		  unsigned flags, struct formatter **ret, struct error **err);
int formatter_row(struct formatter *f, json_object *row, struct error **err);
/* Write everything out; returns the number of rows. */
int formatter_finish(struct formatter *f, FILE *out);
struct formatter *formatter_free(struct formatter *f);
static inline void formatter_freep(struct formatter **f)
{
	formatter_free(*f);
}

/* ---- human units (go-units, docker's formatters) ---------------------------- */

/* go-units HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks". */
char *format_human_duration(int64_t nsec);
/* go-units HumanSizeWithPrecision (decimal units: "1.23MB", "2.1kB", "0B"). */
char *format_human_size(double size, int precision);
/* go-units BytesSize (binary units with %.4g: "1.5MiB"). */
char *format_bytes_size(double size);
/* go-units RAMInBytes / FromHumanSize: "512m", "1g", "1.5GB" -> bytes. binary: k=1024. */
int parse_size(const char *s, bool binary, int64_t *ret);
/* docker's TruncateID: strip "sha256:" (or any "algo:"), keep 12 characters. */
char *format_truncate_id(const char *id);
/* docker's Ellipsis: at most max code points, the last one "…" when cut. */
char *format_ellipsis(const char *s, size_t max);
/* Go strconv.Quote. */
char *format_quote(const char *s);
/* The container status docker's ps shows: "Up 5 seconds", "Exited (0) 3 seconds ago",
 * "Up 2 hours (Paused)", "Created", "Restarting (1) 2 seconds ago". Times are unix ns. */
char *format_container_status(const char *state, int exit_code, int64_t started_ns,
			      int64_t finished_ns, int64_t now_ns);
/* docker's DisplayablePorts over the Ports array of a container list entry. */
char *format_ports(json_object *ports);
/* Parse an RFC 3339 time ("2024-01-02T03:04:05.123456789Z", offsets too) to unix ns. */
int parse_rfc3339(const char *s, int64_t *ret_ns);
/* docker's "since"/"until" values: RFC 3339 (or date only), unix seconds[.nanos], or a
 * Go duration relative to now ("10m", "1h30m"). Returns "sec.nanos" as docker sends it. */
int parse_timestamp_arg(const char *s, int64_t now_ns, char **ret);

/* ---- flags ---------------------------------------------------------------- */

enum flag_type {
	FLAG_BOOL,     /* bool *; "--x=false" accepted */
	FLAG_STRING,   /* char ** (last wins) */
	FLAG_LIST,     /* char *** (repeatable, appended) */
	FLAG_INT,      /* int64_t * */
	FLAG_COUNT,    /* only for internal use */
	FLAG_CSV,      /* char *** like FLAG_LIST, each value split at commas (pflag's "strings") */
	FLAG_DURATION, /* int64_t * nanoseconds, a Go duration ("1m30s") */
};

struct flag {
	const char *name; /* long name without dashes */
	char short_name;  /* 0 when none */
	enum flag_type type;
	void *dst;
	const char *help;
	const char *metavar; /* shown in --help ("string", "list", "int"); NULL picks one */
	bool *set;	     /* optional: set to true when given */
	/* optional: docker's flag validators (opts.ValidateX). Return < 0 with the reason in
	 * err (printed as `invalid argument "v" for "--x" flag: <reason>`); *ret may be set
	 * to the value to store instead (owned). FLAG_STRING and FLAG_LIST only. */
	int (*check)(const char *value, char **ret, struct error **err);
};

enum flags_mode {
	FLAGS_INTERSPERSED = 0, /* flags anywhere (docker's default) */
	FLAGS_STOP_AT_ARG = 1,	/* flags end at the first argument (run, create, exec) */
};

/*
 * Parse argv[0..argc) (argv[0] is the first argument, not the program name) by the
 * table; positional arguments land in *ret_args (NULL-terminated). "--help" sets
 * *ret_help. Errors read like cobra's: "unknown flag: --foo", "unknown shorthand flag:
 * 'z' in -z", "flag needs an argument: --name", "invalid argument \"x\" for \"-n, --last\" flag:
 * ..."
 */
int flags_parse(const struct flag *flags, size_t n, enum flags_mode mode, int argc, char **argv,
		char ***ret_args, bool *ret_help, struct error **err);
/* Print cobra-style flag help lines. */
void flags_usage(const struct flag *flags, size_t n, FILE *f);

#endif
