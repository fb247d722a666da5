/* SPDX-License-Identifier: Apache-2.0 */
/* berth load: POST /images/load?quiet=0|1 with the tar as a chunked body. */
#include <fcntl.h>

#include "internal.h"

int cmd_load(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *input = NULL, *platform = NULL, *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	bool quiet = false;
	struct cli_resp r = {.fd = -1};
	struct query q = {0};
	const struct flag flags[] = {
	    {"input", 'i', FLAG_STRING, &input, "Read from tar archive file, instead of STDIN"},
	    {"platform", 0, FLAG_STRING, &platform, "Load only the given platform variant"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Suppress the load output"},
	};
	int k;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (input) {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "open %s: %s\n", input, strerror(errno));
			return 1;
		}
	} else {
		if (term_isatty(STDIN_FILENO)) {
			fprintf(stderr, "requested load from stdin, but stdin is empty\n");
			return 1;
		}
		fd = dup(STDIN_FILENO);
	}
	if (platform)
		query_add(&q, "platform", platform);
	/* docker's CLI turns progress off when stdout isn't a terminal */
	query_add(&q, "quiet", quiet || !term_isatty(STDOUT_FILENO) ? "1" : "0");
	path = query_finish(&q, "/images/load");
	k = cli_request(cli, "POST", path, "application/x-tar", NULL, 0, fd, NULL, &r, &err);
	if (k < 0)
		return cli_fail(cli, err);
	k = cli_resp_check(&r, &err);
	if (k >= 0) {
		const char *ct = http_response_header(&r.resp, "Content-Type");
		if (ct && streq(ct, "application/json"))
			k = stream_jsonmessages(&r.conn, stdout, term_isatty(STDOUT_FILENO), NULL,
						NULL, &err);
		else
			k = stream_copy(&r.conn, false, STDOUT_FILENO, &err);
	}
	cli_resp_close(&r);
	if (k < 0)
		return cli_fail(cli, err);
	return 0;
}
