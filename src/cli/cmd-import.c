/* SPDX-License-Identifier: Apache-2.0 */
/* berth import: POST /images/create?fromSrc=-|URL (the tarball as a chunked body). */
#include <fcntl.h>

#include "container-opts.h"

int cmd_import(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **changes = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *message = NULL, *platform = NULL, *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct cli_resp r = {.fd = -1};
	struct query q = {0};
	const struct flag flags[] = {
	    {"change", 'c', FLAG_LIST, &changes,
	     "Apply Dockerfile instruction to the created image"},
	    {"message", 'm', FLAG_STRING, &message, "Set commit message for imported image"},
	    {"platform", 0, FLAG_STRING, &platform,
	     "Set platform if server is multi-platform "
	     "capable"},
	};
	int k;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_range(cli, args, 1, 2));
	const char *src = args[0];
	bool url = startswith(src, "http://") || startswith(src, "https://");
	if (streq(src, "-"))
		fd = dup(STDIN_FILENO);
	else if (!url) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "open %s: %s\n", src, strerror(errno));
			return 1;
		}
	}
	for (char **c = changes; c && *c; c++)
		query_add(&q, "changes", *c);
	query_add(&q, "fromSrc", url ? src : "-");
	query_add(&q, "message", message ? message : "");
	if (platform)
		query_add(&q, "platform", platform);
	/* docker sends the repository verbatim, and an empty tag */
	query_add(&q, "repo", args[1] ? args[1] : "");
	query_add(&q, "tag", "");
	path = query_finish(&q, "/images/create");
	k = cli_request(cli, "POST", path, url ? NULL : "application/x-tar", NULL, 0, url ? -1 : fd,
			NULL, &r, &err);
	if (k < 0)
		return cli_fail(cli, err);
	k = cli_resp_check(&r, &err);
	if (k >= 0)
		k = stream_jsonmessages(&r.conn, stdout, term_isatty(STDOUT_FILENO), NULL, NULL,
					&err);
	cli_resp_close(&r);
	if (k < 0)
		return cli_fail(cli, err);
	return 0;
}
