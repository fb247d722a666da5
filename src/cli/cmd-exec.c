/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth exec: inspect → POST /containers/<id>/exec → POST /exec/<id>/start
 * (hijacked unless -d) → resize → GET /exec/<id>/json for the exit code.
 */
#include <termios.h>

#include "internal.h"

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **env = NULL, **env_files = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *c = NULL, *body = NULL, *resp = NULL, *start = NULL,
				   *ins = NULL;
	_cleanup_free_ char *user = NULL, *workdir = NULL, *detach_keys = NULL;
	bool interactive = false, tty = false, detach = false, privileged = false;
	struct cli_resp r = {.fd = -1};
	struct termios saved;
	bool raw = false, detached = false;
	const struct flag flags[] = {
	    {"detach", 'd', FLAG_BOOL, &detach, "Detached mode: run command in the background"},
	    {"detach-keys", 0, FLAG_STRING, &detach_keys,
	     "Override the key sequence for detaching a container"},
	    {"env", 'e', FLAG_LIST, &env, "Set environment variables"},
	    {"env-file", 0, FLAG_LIST, &env_files, "Read in a file of environment variables"},
	    {"interactive", 'i', FLAG_BOOL, &interactive, "Keep STDIN open even if not attached"},
	    {"privileged", 0, FLAG_BOOL, &privileged, "Give extended privileges to the command"},
	    {"tty", 't', FLAG_BOOL, &tty, "Allocate a pseudo-TTY"},
	    {"user", 'u', FLAG_STRING, &user,
	     "Username or UID (format: "
	     "\"<name|uid>[:<group|gid>]\")"},
	    {"workdir", 'w', FLAG_STRING, &workdir, "Working directory inside the container"},
	};
	int rows = 0, cols = 0;
	int k;

	CLI_FLAGS(cli, flags, FLAGS_STOP_AT_ARG, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 2));
	if (interactive && tty && !detach && !term_isatty(STDIN_FILENO)) {
		fprintf(stderr, "the input device is not a TTY\n");
		return 1;
	}
	if (container_inspect(cli, args[0], &c, &err) < 0)
		return cli_fail(cli, err);
	const char *id = jstr(c, "Id");
	if (!jbool(c, "State.Running")) {
		fprintf(stderr, "Error response from daemon: container %s is not running\n", id);
		return 1;
	}
	if (tty && term_isatty(STDOUT_FILENO))
		(void)term_size(STDOUT_FILENO, &rows, &cols);

	body = json_object_new_object();
	json_add_str(body, "User", user ? user : "");
	json_add_bool(body, "Privileged", privileged);
	json_add_bool(body, "Tty", tty);
	json_object *cs = json_object_new_array();
	json_object_array_add(cs, json_object_new_int(rows));
	json_object_array_add(cs, json_object_new_int(cols));
	json_object_object_add(body, "ConsoleSize", cs);
	json_add_bool(body, "AttachStdin", interactive && !detach);
	json_add_bool(body, "AttachStderr", !detach);
	json_add_bool(body, "AttachStdout", !detach);
	json_add_bool(body, "Detach", detach);
	json_add_str(body, "DetachKeys", detach_keys ? detach_keys : "");
	json_object_object_add(body, "Env", env ? json_strv_new(env) : NULL);
	json_add_str(body, "WorkingDir", workdir ? workdir : "");
	json_object_object_add(body, "Cmd", json_strv_new(args + 1));

	_cleanup_free_ char *cpath = xasprintf("/containers/%s/exec", id);
	if (cli_call(cli, "POST", cpath, body, &resp, NULL, &err) < 0)
		return cli_fail(cli, err);
	const char *eid = jstr(resp, "Id");
	if (!*eid) {
		fprintf(stderr, "exec ID empty\n");
		return 1;
	}
	_cleanup_free_ char *spath = xasprintf("/exec/%s/start", eid);
	start = json_object_new_object();
	json_add_bool(start, "Detach", detach);
	json_add_bool(start, "Tty", tty);
	json_object_object_add(start, "ConsoleSize", json_object_get(cs));
	if (detach) {
		if (cli_call(cli, "POST", spath, start, NULL, NULL, &err) < 0)
			return cli_fail(cli, err);
		return 0;
	}
	if (tty && interactive && term_isatty(STDIN_FILENO))
		raw = term_make_raw(STDIN_FILENO, &saved, sizeof(saved)) >= 0;
	k = cli_hijack(cli, spath, start, &r, &err);
	if (k >= 0)
		k = attach_pump_begin(&r, tty, interactive ? STDIN_FILENO : -1, detach_keys, &err);
	if (k >= 0) {
		if (tty && term_isatty(STDOUT_FILENO))
			resize_tty(cli, "exec", eid);
		k = attach_pump_output(&r, tty, &detached, &err);
	}
	if (raw)
		term_restore(STDIN_FILENO, &saved);
	cli_resp_close(&r);
	if (k < 0)
		return cli_fail(cli, err);
	if (detached)
		return 0;
	_cleanup_free_ char *ipath = xasprintf("/exec/%s/json", eid);
	if (cli_call(cli, "GET", ipath, NULL, &ins, NULL, &err) < 0)
		return cli_fail(cli, err);
	return (int)jint(ins, "ExitCode");
}
