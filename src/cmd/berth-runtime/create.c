/* SPDX-License-Identifier: Apache-2.0 */
/* create, run, start */
#include <getopt.h>

#include "cmd.h"

static int parse_create(int argc, char **argv, struct runtime_create_opts *o, bool run)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'k'},
	    {"preserve-fds", required_argument, NULL, 'f'},
	    {"detach", no_argument, NULL, 'd'},
	    {"keep", no_argument, NULL, 'K'},
	    {"config", required_argument, NULL, 'C'},
	    {"no-subreaper", no_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, "b:dp:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'c':
			o->console_socket = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'P':
			o->no_pivot = true;
			break;
		case 'k':
			o->no_new_keyring = true;
			break;
		case 'f':
			if (safe_atoi(optarg, &o->preserve_fds) < 0 || o->preserve_fds < 0)
				return usage_error("invalid --preserve-fds '%s'", optarg);
			break;
		case 'd':
			if (!run)
				return usage_error("unknown option --detach");
			o->detach = true;
			break;
		case 'K':
			o->keep = true;
			break;
		case 'C':
			o->config_path = optarg;
			break;
		case 'S':
			break;
		default:
			return 1;
		}
	}
	o->id = arg_id(argc, argv, argv[0]);
	return o->id ? 0 : 1;
}

int cmd_create(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct runtime_create_opts o = {0};
	struct error *err = NULL;
	if (parse_create(argc, argv, &o, false))
		return 1;
	if (runtime_create(ctx, &o, &err) < 0)
		return fail(err);
	return 0;
}

int cmd_run(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct runtime_create_opts o = {0};
	struct error *err = NULL;
	int status = 0;
	if (parse_create(argc, argv, &o, true))
		return 1;
	if (runtime_run(ctx, &o, &status, &err) < 0)
		return fail(err);
	return status;
}

int cmd_start(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct error *err = NULL;
	const char *id;
	optind = 1;
	if (getopt_long_only(argc, argv, "", (struct option[]){{NULL, 0, NULL, 0}}, NULL) != -1)
		return 1;
	id = arg_id(argc, argv, "start");
	if (!id)
		return 1;
	if (runtime_start(ctx, id, &err) < 0)
		return fail(err);
	return 0;
}
