/* SPDX-License-Identifier: Apache-2.0 */
/* berth logs: inspect (Tty) → GET /containers/<id>/logs, demultiplexed unless a TTY. */
#include "internal.h"

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *c = NULL;
	_cleanup_free_ char *since = NULL, *until = NULL, *tail = NULL, *path = NULL;
	bool follow = false, timestamps = false, details = false;
	struct cli_resp r = {.fd = -1};
	struct query q = {0};
	const struct flag flags[] = {
	    {"details", 0, FLAG_BOOL, &details, "Show extra details provided to logs"},
	    {"follow", 'f', FLAG_BOOL, &follow, "Follow log output"},
	    {"since", 0, FLAG_STRING, &since,
	     "Show logs since timestamp (e.g. "
	     "\"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" "
	     "for 42 minutes)"},
	    {"tail", 'n', FLAG_STRING, &tail,
	     "Number of lines to show from the end of the logs "
	     "(default \"all\")"},
	    {"timestamps", 't', FLAG_BOOL, &timestamps, "Show timestamps"},
	    {"until", 0, FLAG_STRING, &until,
	     "Show logs before a timestamp (e.g. "
	     "\"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" "
	     "for 42 minutes)"},
	};
	int k;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 1));
	if (container_inspect(cli, args[0], &c, &err) < 0)
		return cli_fail(cli, err);
	if (details)
		query_add(&q, "details", "1");
	if (follow)
		query_add(&q, "follow", "1");
	int64_t now = now_ns();
	if (since) {
		_cleanup_free_ char *v = NULL;
		if (parse_timestamp_arg(since, now, &v) < 0) {
			fprintf(stderr,
				"invalid value for \"since\": failed to parse value as time or "
				"duration: \"%s\"\n",
				since);
			strv_free(q.kv);
			return 1;
		}
		query_add(&q, "since", v);
	}
	query_add(&q, "stderr", "1");
	query_add(&q, "stdout", "1");
	query_add(&q, "tail", tail ? tail : "all");
	if (timestamps)
		query_add(&q, "timestamps", "1");
	if (until) {
		_cleanup_free_ char *v = NULL;
		if (parse_timestamp_arg(until, now, &v) < 0) {
			fprintf(stderr,
				"invalid value for \"until\": failed to parse value as time or "
				"duration: \"%s\"\n",
				until);
			strv_free(q.kv);
			return 1;
		}
		query_add(&q, "until", v);
	}
	_cleanup_free_ char *base = xasprintf("/containers/%s/logs", jstr(c, "Id"));
	path = query_finish(&q, base);
	k = cli_request(cli, "GET", path, NULL, NULL, 0, -1, NULL, &r, &err);
	if (k < 0)
		return cli_fail(cli, err);
	k = cli_resp_check(&r, &err);
	if (k >= 0) {
		if (jbool(c, "Config.Tty"))
			k = stream_copy(&r.conn, false, STDOUT_FILENO, &err);
		else
			k = stream_demux(&r.conn, false, STDOUT_FILENO, STDERR_FILENO, &err);
	}
	cli_resp_close(&r);
	if (k < 0)
		return cli_fail(cli, err);
	return 0;
}
