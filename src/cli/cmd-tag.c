/* SPDX-License-Identifier: Apache-2.0 */
/* berth tag: POST /images/<source>/tag?repo=<normalized name>&tag=<tag> */
#include <ctype.h>

#include "container-opts.h"

int cmd_tag(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *name = NULL, *tag = NULL;
	const struct flag flags[] = {};
	struct query q = {0};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 2));
	if (strchr(args[1], '@') || image_ref_split(args[1], &name, &tag) < 0) {
		fprintf(stderr,
			"Error parsing reference: \"%s\" is not a valid repository/tag: "
			"invalid reference format\n",
			args[1]);
		return 1;
	}
	for (const char *p = name; *p; p++)
		if (isupper((unsigned char)*p)) {
			fprintf(
			    stderr,
			    "Error parsing reference: \"%s\" is not a valid repository/tag: "
			    "invalid reference format: repository name (%s) must be lowercase\n",
			    args[1], name);
			return 1;
		}
	_cleanup_free_ char *e = url_escape(args[0], true);
	_cleanup_free_ char *base = xasprintf("/images/%s/tag", e);
	query_add(&q, "repo", name);
	query_add(&q, "tag", tag);
	_cleanup_free_ char *path = query_finish(&q, base);
	if (cli_call(cli, "POST", path, NULL, NULL, NULL, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
