/* SPDX-License-Identifier: Apache-2.0 */
/* berth start: POST /containers/<id>/start; with -a like run's attached half. */
#include <termios.h>

#include "internal.h"

static int start_one(struct cli *cli, const char *id, void *userdata, struct error **err)
{
	_cleanup_free_ char *e = url_escape(id, true);
	_cleanup_free_ char *path = xasprintf("/containers/%s/start", e);
	return cli_call(cli, "POST", path, NULL, NULL, NULL, err);
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *c = NULL;
	_cleanup_free_ char *detach_keys = NULL;
	bool attach = false, interactive = false;
	struct cli_resp r = {.fd = -1}, w = {.fd = -1};
	struct query q = {0};
	struct termios saved;
	bool raw = false, detached = false;
	int k, code = 0;
	const struct flag flags[] = {
	    {"attach", 'a', FLAG_BOOL, &attach, "Attach STDOUT/STDERR and forward signals"},
	    {"detach-keys", 0, FLAG_STRING, &detach_keys,
	     "Override the key sequence for detaching a container"},
	    {"interactive", 'i', FLAG_BOOL, &interactive, "Attach container's STDIN"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	if (!attach && !interactive) {
		/* docker prints each error, then names the failed ones */
		struct sbuf failed = {0};
		for (char **a = args; *a; a++) {
			char *one[] = {*a, NULL};
			if (for_each_container(cli, one, true, start_one, NULL) == 0)
				continue;
			if (failed.len)
				sbuf_puts(&failed, ", ");
			sbuf_puts(&failed, *a);
		}
		if (!failed.len)
			return 0;
		fprintf(stderr, "Error: failed to start containers: %s\n", failed.s);
		sbuf_release(&failed);
		return 1;
	}
	if (args[1]) {
		fprintf(stderr, "you cannot start and attach multiple containers at once\n");
		return 1;
	}
	if (container_inspect(cli, args[0], &c, &err) < 0)
		return cli_fail(cli, err);
	const char *id = jstr(c, "Id");
	bool tty = jbool(c, "Config.Tty");
	bool in = interactive && jbool(c, "Config.OpenStdin");
	if (detach_keys)
		query_add(&q, "detachKeys", detach_keys);
	query_add(&q, "stderr", "1");
	if (in)
		query_add(&q, "stdin", "1");
	query_add(&q, "stdout", "1");
	query_add(&q, "stream", "1");
	_cleanup_free_ char *base = xasprintf("/containers/%s/attach", id);
	_cleanup_free_ char *path = query_finish(&q, base);
	if (in && tty && term_isatty(STDIN_FILENO))
		raw = term_make_raw(STDIN_FILENO, &saved, sizeof(saved)) >= 0;
	k = cli_hijack(cli, path, NULL, &r, &err);
	if (k >= 0)
		k = attach_pump_begin(&r, tty, in ? STDIN_FILENO : -1, detach_keys, &err);
	if (k >= 0)
		k = container_wait_begin(
		    cli, id, jbool(c, "HostConfig.AutoRemove") ? "removed" : "next-exit", &w, &err);
	if (k >= 0)
		k = start_one(cli, id, NULL, &err);
	if (k >= 0) {
		if (tty && term_isatty(STDOUT_FILENO))
			resize_tty(cli, "containers", id);
		if (!tty)
			sigproxy_start(cli, id);
		k = attach_pump_output(&r, tty, &detached, &err);
		sigproxy_stop();
	}
	if (raw)
		term_restore(STDIN_FILENO, &saved);
	cli_resp_close(&r);
	if (k >= 0 && !detached)
		k = container_wait_result(&w, &code, &err);
	cli_resp_close(&w);
	if (k < 0)
		return cli_fail(cli, err);
	return detached ? 0 : code;
}
