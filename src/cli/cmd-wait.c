/* SPDX-License-Identifier: Apache-2.0 */
/* berth wait: POST /containers/<id>/wait, printing each exit code. */
#include "internal.h"

static int wait_one(struct cli *cli, const char *id, void *userdata, struct error **err)
{
	struct cli_resp w = {.fd = -1};
	_cleanup_free_ char *e = url_escape(id, true);
	int code = 0, r;

	r = container_wait_begin(cli, e, "not-running", &w, err);
	if (r < 0)
		return r;
	r = container_wait_result(&w, &code, err);
	cli_resp_close(&w);
	if (r < 0)
		return r;
	printf("%d\n", code);
	fflush(stdout);
	return 0;
}

int cmd_wait(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	const struct flag flags[] = {};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	return for_each_container(cli, args, false, wait_one, NULL);
}
