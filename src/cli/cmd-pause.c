/* SPDX-License-Identifier: Apache-2.0 */
/* berth pause / unpause: POST /containers/<id>/pause|unpause */
#include "internal.h"

static int verb_one(struct cli *cli, const char *id, void *userdata, struct error **err)
{
	_cleanup_free_ char *e = url_escape(id, true);
	_cleanup_free_ char *path = xasprintf("/containers/%s/%s", e, (const char *)userdata);
	return cli_call(cli, "POST", path, NULL, NULL, NULL, err);
}

static int pause_or_unpause(struct cli *cli, int argc, char **argv, const char *verb)
{
	_cleanup_strv_free_ char **args = NULL;
	const struct flag flags[] = {};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	return for_each_container(cli, args, true, verb_one, (void *)verb);
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return pause_or_unpause(cli, argc, argv, "pause");
}

int cmd_unpause(struct cli *cli, int argc, char **argv)
{
	return pause_or_unpause(cli, argc, argv, "unpause");
}
