/* SPDX-License-Identifier: Apache-2.0 */
/* berth save: GET /images/get?names=... → a tar to -o FILE or a non-terminal stdout. */
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

int cmd_save(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *output = NULL, *platform = NULL, *path = NULL, *tmp = NULL;
	struct cli_resp r = {.fd = -1};
	struct query q = {0};
	int out = STDOUT_FILENO;
	const struct flag flags[] = {
	    {"output", 'o', FLAG_STRING, &output, "Write to a file, instead of STDOUT"},
	    {"platform", 0, FLAG_STRING, &platform, "Save only the given platform variant"},
	};
	int k;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	if (!output && term_isatty(STDOUT_FILENO)) {
		fprintf(stderr, "cowardly refusing to save to a terminal. Use the -o flag or "
				"redirect\n");
		return 1;
	}
	for (char **a = args; *a; a++)
		query_add(&q, "names", *a);
	if (platform)
		query_add(&q, "platform", platform);
	path = query_finish(&q, "/images/get");
	k = cli_request(cli, "GET", path, NULL, NULL, 0, -1, NULL, &r, &err);
	if (k < 0)
		return cli_fail(cli, err);
	k = cli_resp_check(&r, &err);
	if (k < 0) {
		cli_resp_close(&r);
		return cli_fail(cli, err);
	}
	if (output) {
		/* docker writes through a temp file renamed into place */
		tmp = xasprintf("%s.berth-save.XXXXXX", output);
		out = mkostemp(tmp, O_CLOEXEC);
		if (out < 0) {
			fprintf(stderr, "failed to save image: %s\n", strerror(errno));
			cli_resp_close(&r);
			return 1;
		}
	}
	k = stream_copy(&r.conn, false, out, &err);
	cli_resp_close(&r);
	if (output) {
		if (k >= 0 && (fsync(out) < 0 || close(out) < 0 || rename(tmp, output) < 0))
			k = error_set(&err, -errno, "failed to save image");
		if (k < 0) {
			unlink(tmp);
			if (out >= 0)
				close(out);
		}
		(void)chmod(output, 0644);
	}
	if (k < 0)
		return cli_fail(cli, err);
	return 0;
}
