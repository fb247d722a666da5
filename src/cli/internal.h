/* SPDX-License-Identifier: Apache-2.0 */
/* The client's private pieces: the command table, the daemon connection, streams. */
#ifndef BERTH_CLI_INTERNAL_H
#define BERTH_CLI_INTERNAL_H

#include <inttypes.h>

#include "cli.h"
#include "http/http.h"

#define BERTH_CLIENT_VERSION "0.1.0"
#define BERTH_API_VERSION "1.50"
#define BERTH_DEFAULT_HOST "unix:///run/berth/berthd.sock"
#define PROG "berth"

struct cli {
	char *host;
	char *config_dir;
	bool debug;
	char *log_level;
	/* after the first ping */
	bool pinged;
	char *api_version;
	bool api_downgraded;
	bool api_manual;
	char *server_ostype;
	/* the running command */
	const struct command *cmd;
	char *cmd_path; /* "berth container ls" */
};

struct command {
	const char *group; /* NULL at the top, or "container", "image", "network", "system" */
	const char *name;
	const char *aliases; /* space-separated */
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage; /* "[OPTIONS] CONTAINER [CONTAINER...]" */
	const char *desc;
	bool common; /* listed under "Common Commands" */
};

extern const struct command cli_commands[];
extern const size_t cli_n_commands;

/* ---- command helpers ----------------------------------------------------------------- */

/* Exit codes: docker's. */
#define EXIT_CLI 125

/*
 * Parse the command's flags. Returns 0 to go on, or a positive exit code to return
 * right away (0 is returned as -1 after --help: the caller returns 0). Prints docker's
 * messages: flag errors exit 125 with usage.
 */
int cli_flags(struct cli *cli, const struct flag *flags, size_t n, enum flags_mode mode, int argc,
	      char **argv, char ***ret_args);
#define CLI_FLAGS(cli, flags, mode, argc, argv, args)                                              \
	do {                                                                                       \
		int r_ = cli_flags(cli, flags, ELEMENTSOF(flags), mode, argc, argv, args);         \
		if (r_ != 0)                                                                       \
			return r_ < 0 ? 0 : r_;                                                    \
	} while (0)
/* docker's argument count checks: "'berth stop' requires at least 1 argument"; exit 1. */
int cli_args_min(struct cli *cli, char **args, size_t min);
int cli_args_exact(struct cli *cli, char **args, size_t n);
int cli_args_max(struct cli *cli, char **args, size_t max);
int cli_args_range(struct cli *cli, char **args, size_t min, size_t max);
#define CLI_ARGS(expr)                                                                             \
	do {                                                                                       \
		int r_ = (expr);                                                                   \
		if (r_ != 0)                                                                       \
			return r_;                                                                 \
	} while (0)

/* Print an error the way the docker CLI does and return the exit code (1). */
int cli_fail(struct cli *cli, struct error *err);
/* run/create: "berth: <msg>\n\nRun 'berth run --help' for more information", exit 125. */
int cli_fail_run(struct cli *cli, struct error *err);

/* ---- the daemon ------------------------------------------------------------------------ */

struct cli_resp {
	int fd;
	struct http_conn conn;
	struct http_response resp;
	int status;
};
void cli_resp_close(struct cli_resp *r);

/* HEAD /_ping (GET on a 404/405) and API version negotiation; once. */
int cli_ping(struct cli *cli, struct error **err);
/*
 * Send a request to /v<version><path> and read the response head. body/len (with
 * content_type) or a chunked body from body_fd >= 0. extra: "Name: v\r\n" lines.
 */
int cli_request(struct cli *cli, const char *method, const char *path, const char *content_type,
		const char *body, size_t len, int body_fd, const char *extra, struct cli_resp *ret,
		struct error **err);
/* A status >= 400 becomes an error: "Error response from daemon: <message>", with
 * -ENOENT for 404, -EEXIST for 409, -EINVAL for 400, -EACCES for 401/403, else -EIO. */
int cli_resp_check(struct cli_resp *r, struct error **err);
/* Whole-body JSON call. body may be NULL. *ret may be NULL (then the body is dropped);
 * ret_status may be NULL. */
int cli_call(struct cli *cli, const char *method, const char *path, json_object *body,
	     json_object **ret, int *ret_status, struct error **err);
/* A hijacked stream (attach, exec start): 101 expected. The caller reads with
 * http_conn_read_raw and writes to r->fd. */
int cli_hijack(struct cli *cli, const char *path, json_object *body, struct cli_resp *ret,
	       struct error **err);

/* Query strings, keys sorted like Go's url.Values.Encode. */
struct query {
	char **kv; /* key, value, key, value, ... */
};
void query_add(struct query *q, const char *key, const char *value);
void query_addf(struct query *q, const char *key, const char *fmt, ...) _printf_(3, 4);
/* "path?k=v&..." (just path when empty); frees the query. */
char *query_finish(struct query *q, const char *path);
/* Go's url.QueryEscape / url.PathEscape. */
char *url_escape(const char *s, bool path);
/* docker's filters= value from "key=value" flags: {"key":{"value":true}}. NULL if none. */
int filters_json(char **filters, char **ret, struct error **err);

/* ---- streams ---------------------------------------------------------------------------- */

/* Copy a stdcopy-multiplexed stream to out/err until EOF. */
int stream_demux(struct http_conn *c, bool raw_read, int out_fd, int err_fd, struct error **err);
/* Copy raw bytes to out_fd until EOF. */
int stream_copy(struct http_conn *c, bool raw_read, int out_fd, struct error **err);
/* Print a JSON progress stream (pull/load/import) like docker's jsonmessage. Returns
 * the error message's code (1 when none given) as a negative errno-like -EIO on an
 * error message, with err set. aux_cb, if set, sees aux members. */
int stream_jsonmessages(struct http_conn *c, FILE *out, bool tty,
			void (*aux_cb)(json_object *aux, void *userdata), void *userdata,
			struct error **err);

/* Terminal helpers. */
bool term_isatty(int fd);
int term_size(int fd, int *rows, int *cols);
int term_make_raw(int fd, void *saved, size_t saved_len);
void term_restore(int fd, const void *saved);

/* ---- JSON helpers ----------------------------------------------------------------------- */

/* A member by dotted path ("State.Running"); NULL when absent. */
json_object *jget(json_object *o, const char *path);
const char *jstr(json_object *o, const char *path); /* "" when absent or not a string */
int64_t jint(json_object *o, const char *path);
bool jbool(json_object *o, const char *path);

/* ---- addresses (netaddr.c): Go's net package, as the docker CLI checks flags ---------------- */

struct cli_ip {
	int family; /* 4 or 6; an IPv4-in-IPv6 address is 4, as Go's To4() makes it */
	unsigned char a[16];
};
/* net.ParseIP */
int cli_ip_parse(const char *s, struct cli_ip *ret);
/* net.ParseCIDR: the address as written (host bits kept) and the prefix length. */
int cli_cidr_parse(const char *s, struct cli_ip *ret_ip, int *ret_bits);
/* IPNet.Contains */
bool cli_cidr_contains(const struct cli_ip *net, int bits, const struct cli_ip *ip);
/* net.ParseMAC */
bool cli_mac_valid(const char *s);
/* Flag validators (struct flag.check), docker's opts.ValidateX with its messages. */
int cli_check_ip(const char *v, char **ret, struct error **err);
int cli_check_extra_host(const char *v, char **ret, struct error **err);
int cli_check_dns_search(const char *v, char **ret, struct error **err);
int cli_check_label(const char *v, char **ret, struct error **err);
int cli_check_link(const char *v, char **ret, struct error **err);
/* sortorder.NaturalLess as a comparison: "n9" < "n10", digits before other bytes. */
int natural_cmp(const char *a, const char *b);

/* ---- shared command pieces ------------------------------------------------------------------ */

/* inspect a container: GET /containers/<id>/json */
int container_inspect(struct cli *cli, const char *id, json_object **ret, struct error **err);
/* docker's attach/run stream pump: stdin to the connection (a thread; or a half-close
 * right away when stdin_fd < 0), then output to stdout/stderr (demultiplexed unless tty)
 * until it ends. Detach keys (tty) end the session with *detached set. */
int attach_pump_begin(struct cli_resp *r, bool tty, int stdin_fd, const char *detach_keys,
		      struct error **err);
int attach_pump_output(struct cli_resp *r, bool tty, bool *detached, struct error **err);
/* Send the terminal's size to /containers/<id>/resize or /exec/<id>/resize. */
void resize_tty(struct cli *cli, const char *kind, const char *id);
/* Forward signals to the container (sig-proxy) while a run/start -a is attached. */
void sigproxy_start(struct cli *cli, const char *id);
void sigproxy_stop(void);
/* Parse a signal name or number ("TERM", "SIGKILL", "9"). */
int signal_parse(const char *s);
const char *signal_name(int sig);

/* POST /containers/<id>/wait?condition=..., returning once the headers are in. */
int container_wait_begin(struct cli *cli, const char *id, const char *condition,
			 struct cli_resp *ret, struct error **err);
/* The status code from a wait response body. */
int container_wait_result(struct cli_resp *w, int *ret_code, struct error **err);
/* Run op on each container argument; print the argument after each success (when print),
 * errors to stderr. Returns the exit code: 1 if any failed. */
int for_each_container(struct cli *cli, char **ids, bool print,
		       int (*op)(struct cli *cli, const char *id, void *userdata,
				 struct error **err),
		       void *userdata);
/* "now" in unix nanoseconds. */
int64_t now_ns(void);

/* Go's time.Time.String() of a unix time, local: "2006-01-02 15:04:05 -0700 MST". */
char *format_go_time(int64_t unix_sec);
/* Labels as "k=v,k=v" (sorted). */
char *format_labels(json_object *labels);
/* reference.FamiliarName: "docker.io/library/busybox" -> "busybox". */
char *image_familiar_name(const char *name);
/* docker's "Are you sure you want to continue? [y/N]". */
bool prompt_confirm(const char *msg);
void print_reclaimed(int64_t bytes);
/* POST a prune endpoint; print the deleted list under title; add SpaceReclaimed. */
int prune_run(struct cli *cli, const char *path, const char *list_key, const char *title,
	      int64_t *ret_space, struct error **err);

/* The commands. */
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_restart(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_attach(struct cli *cli, int argc, char **argv);
int cmd_top(struct cli *cli, int argc, char **argv);
int cmd_inspect(struct cli *cli, int argc, char **argv);
int cmd_container_inspect(struct cli *cli, int argc, char **argv);
int cmd_image_inspect(struct cli *cli, int argc, char **argv);
int cmd_network_inspect(struct cli *cli, int argc, char **argv);
int cmd_volume_create(struct cli *cli, int argc, char **argv);
int cmd_volume_inspect(struct cli *cli, int argc, char **argv);
int cmd_volume_ls(struct cli *cli, int argc, char **argv);
int cmd_volume_prune(struct cli *cli, int argc, char **argv);
int cmd_volume_rm(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_rename(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_unpause(struct cli *cli, int argc, char **argv);
int cmd_port(struct cli *cli, int argc, char **argv);
int cmd_container_prune(struct cli *cli, int argc, char **argv);
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_image_prune(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_load(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_push(struct cli *cli, int argc, char **argv);
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);
int cmd_search(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_system_df(struct cli *cli, int argc, char **argv);
int cmd_system_prune(struct cli *cli, int argc, char **argv);
int cmd_network_connect(struct cli *cli, int argc, char **argv);
int cmd_network_create(struct cli *cli, int argc, char **argv);
int cmd_network_disconnect(struct cli *cli, int argc, char **argv);
int cmd_network_ls(struct cli *cli, int argc, char **argv);
int cmd_network_prune(struct cli *cli, int argc, char **argv);
int cmd_network_rm(struct cli *cli, int argc, char **argv);

#endif
