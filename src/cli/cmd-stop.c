/* SPDX-License-Identifier: Apache-2.0 */
/* berth stop: POST /containers/<id>/stop[?signal=&t=] */
#include "internal.h"

struct stop_args {
	const char *verb;
	char *signal;
	int64_t timeout;
	bool timeout_set;
};

static int stop_one(struct cli *cli, const char *id, void *userdata, struct error **err)
{
	struct stop_args *a = userdata;
	struct query q = {0};
	_cleanup_free_ char *e = url_escape(id, true);
	_cleanup_free_ char *base = xasprintf("/containers/%s/%s", e, a->verb);
	if (a->signal)
		query_add(&q, "signal", a->signal);
	if (a->timeout_set)
		query_addf(&q, "t", "%" PRId64, a->timeout);
	_cleanup_free_ char *path = query_finish(&q, base);
	return cli_call(cli, "POST", path, NULL, NULL, NULL, err);
}

static int stop_or_restart(struct cli *cli, int argc, char **argv, const char *verb)
{
	_cleanup_strv_free_ char **args = NULL;
	struct stop_args a = {.verb = verb};
	const struct flag flags[] = {
	    {"signal", 's', FLAG_STRING, &a.signal, "Signal to send to the container"},
	    {"timeout", 't', FLAG_INT, &a.timeout, "Seconds to wait before killing the container",
	     NULL, &a.timeout_set},
	    {"time", 0, FLAG_INT, &a.timeout, NULL, NULL, &a.timeout_set},
	};
	int r;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	r = for_each_container(cli, args, true, stop_one, &a);
	free(a.signal);
	return r;
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	return stop_or_restart(cli, argc, argv, "stop");
}

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	return stop_or_restart(cli, argc, argv, "restart");
}
