/* SPDX-License-Identifier: Apache-2.0 */
/* berth rename: POST /containers/<id>/rename?name= */
#include "internal.h"

int cmd_rename(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	const struct flag flags[] = {};
	struct query q = {0};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 2));
	if (isempty(args[1])) {
		fprintf(stderr, "Error: neither old nor new names may be empty\n");
		return 1;
	}
	_cleanup_free_ char *e = url_escape(args[0], true);
	_cleanup_free_ char *base = xasprintf("/containers/%s/rename", e);
	query_add(&q, "name", args[1]);
	_cleanup_free_ char *path = query_finish(&q, base);
	if (cli_call(cli, "POST", path, NULL, NULL, NULL, &err) < 0) {
		fprintf(stderr, "%s\nError: failed to rename container named %s\n", err->msg,
			args[0]);
		return 1;
	}
	return 0;
}
