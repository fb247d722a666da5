/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth run: create → attach (hijack) → wait?condition=next-exit|removed →
 * start, then pump the streams and exit with the container's status, in the
 * order the docker CLI uses (docker-api-notes.md §3).
 */
#include <termios.h>

#include "container-opts.h"

/* docker's runStartContainerErr: 127 for a missing command, 126 for one that can't run. */
static int start_error_code(const char *msg)
{
	if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
	    strstr(msg, "system cannot find the file specified"))
		return 127;
	if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
		return 126;
	return EXIT_CLI;
}

/* Read the /wait result: {"StatusCode":N,"Error":{"Message":...}}. */
int container_wait_result(struct cli_resp *w, int *ret_code, struct error **err)
{
	_cleanup_free_ char *body = NULL;
	_cleanup_json_ json_object *o = NULL;
	size_t len = 0;
	int r;

	r = http_conn_read_body_all(&w->conn, 1 << 20, &body, &len);
	if (r < 0)
		return error_set(err, r, "error waiting for container");
	o = json_tokener_parse(body ? body : "");
	if (!o)
		return error_setx(err, -EBADMSG,
				  "error waiting for container: unexpected response");
	const char *m = jstr(o, "Error.Message");
	if (*m)
		return error_setx(err, -EIO, "error waiting for container: %s", m);
	*ret_code = (int)jint(o, "StatusCode");
	return 0;
}

int container_wait_begin(struct cli *cli, const char *id, const char *condition,
			 struct cli_resp *ret, struct error **err)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/wait?condition=%s", id, condition);
	int r = cli_request(cli, "POST", path, NULL, NULL, 0, -1, NULL, ret, err);
	if (r < 0)
		return r;
	r = cli_resp_check(ret, err);
	if (r < 0)
		cli_resp_close(ret);
	return r;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	_cleanup_(container_opts_release) struct container_opts o = {.sig_proxy = true};
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *body = NULL;
	_cleanup_free_ char *id = NULL;
	struct cli_resp att = {.fd = -1}, wait = {.fd = -1};
	const struct flag flags[] = {
	    {"detach", 'd', FLAG_BOOL, &o.detach,
	     "Run container in background and print container ID"},
	    {"sig-proxy", 0, FLAG_BOOL, &o.sig_proxy, "Proxy received signals to the process"},
	    CONTAINER_FLAGS(&o),
	};
	struct termios saved;
	bool raw = false, detached = false;
	int r, code = 0;

	CLI_FLAGS(cli, flags, FLAGS_STOP_AT_ARG, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));

	r = container_opts_body(&o, args[0], args + 1, o.detach, &body, &err);
	if (r < 0)
		return cli_fail_run(cli, err);
	if (o.attach_stdin && o.tty && !term_isatty(STDIN_FILENO)) {
		fprintf(stderr, "the input device is not a TTY\n");
		return 1;
	}
	r = container_create(cli, &o, body, args[0], &id, &err);
	if (r < 0)
		return cli_fail_run(cli, err);

	if (!o.detach) {
		struct query q = {0};
		if (o.attach_stderr)
			query_add(&q, "stderr", "1");
		if (o.attach_stdin)
			query_add(&q, "stdin", "1");
		if (o.attach_stdout)
			query_add(&q, "stdout", "1");
		query_add(&q, "stream", "1");
		if (o.detach_keys)
			query_add(&q, "detachKeys", o.detach_keys);
		_cleanup_free_ char *base = xasprintf("/containers/%s/attach", id);
		_cleanup_free_ char *path = query_finish(&q, base);
		if (o.tty && o.attach_stdin && term_isatty(STDIN_FILENO))
			raw = term_make_raw(STDIN_FILENO, &saved, sizeof(saved)) >= 0;
		r = cli_hijack(cli, path, NULL, &att, &err);
		if (r < 0) {
			if (raw)
				term_restore(STDIN_FILENO, &saved);
			return cli_fail_run(cli, err);
		}
	}

	r = container_wait_begin(cli, id, o.rm ? "removed" : "next-exit", &wait, &err);
	if (r < 0) {
		if (raw)
			term_restore(STDIN_FILENO, &saved);
		cli_resp_close(&att);
		return cli_fail_run(cli, err);
	}

	/* stdin is pumped before start: docker sends piped stdin (and its EOF) early */
	_cleanup_free_ char *start = xasprintf("/containers/%s/start", id);
	if (!o.detach) {
		r = attach_pump_begin(&att, o.tty, o.attach_stdin ? STDIN_FILENO : -1,
				      o.detach_keys, &err);
		if (r < 0) {
			if (raw)
				term_restore(STDIN_FILENO, &saved);
			return cli_fail_run(cli, err);
		}
	}
	r = cli_call(cli, "POST", start, NULL, NULL, NULL, &err);
	if (r < 0) {
		if (raw)
			term_restore(STDIN_FILENO, &saved);
		cli_resp_close(&att);
		cli_resp_close(&wait);
		fprintf(stderr, "%s: %s\n\nRun '%s --help' for more information\n", PROG, err->msg,
			cli->cmd_path);
		return start_error_code(err->msg);
	}
	if (o.detach) {
		cli_resp_close(&wait);
		printf("%s\n", id);
		return 0;
	}

	if (o.tty && term_isatty(STDOUT_FILENO))
		resize_tty(cli, "containers", id);
	if (o.sig_proxy)
		sigproxy_start(cli, id);
	r = attach_pump_output(&att, o.tty, &detached, &err);
	sigproxy_stop();
	if (raw)
		term_restore(STDIN_FILENO, &saved);
	cli_resp_close(&att);
	if (detached) {
		cli_resp_close(&wait);
		return 0;
	}
	if (r < 0) {
		cli_resp_close(&wait);
		return cli_fail_run(cli, err);
	}
	r = container_wait_result(&wait, &code, &err);
	cli_resp_close(&wait);
	if (r < 0)
		return cli_fail_run(cli, err);
	return code;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	_cleanup_(container_opts_release) struct container_opts o = {0};
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *body = NULL;
	_cleanup_free_ char *id = NULL;
	const struct flag flags[] = {CONTAINER_FLAGS(&o)};
	int r;

	CLI_FLAGS(cli, flags, FLAGS_STOP_AT_ARG, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	r = container_opts_body(&o, args[0], args + 1, false, &body, &err);
	if (r < 0)
		return cli_fail_run(cli, err);
	r = container_create(cli, &o, body, args[0], &id, &err);
	if (r < 0)
		return cli_fail_run(cli, err);
	printf("%s\n", id);
	return 0;
}
