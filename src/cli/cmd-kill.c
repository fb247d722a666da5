/* SPDX-License-Identifier: Apache-2.0 */
/* berth kill: POST /containers/<id>/kill[?signal=] */
#include "internal.h"

static int kill_one(struct cli *cli, const char *id, void *userdata, struct error **err)
{
	const char *sig = userdata;
	struct query q = {0};
	_cleanup_free_ char *e = url_escape(id, true);
	_cleanup_free_ char *base = xasprintf("/containers/%s/kill", e);
	if (sig)
		query_add(&q, "signal", sig);
	_cleanup_free_ char *path = query_finish(&q, base);
	return cli_call(cli, "POST", path, NULL, NULL, NULL, err);
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *sig = NULL;
	const struct flag flags[] = {
	    {"signal", 's', FLAG_STRING, &sig, "Signal to send to the container"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	return for_each_container(cli, args, true, kill_one, sig);
}
