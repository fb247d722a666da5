/* SPDX-License-Identifier: Apache-2.0 */
/* berth push: POST /images/{name}/push?tag=, progress like docker's. */
#include "container-opts.h"

int cmd_push(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *platform = NULL;
	bool all_tags = false, quiet = false;
	const struct flag flags[] = {
	    {"all-tags", 'a', FLAG_BOOL, &all_tags, "Push all tags of an image to the repository"},
	    {"platform", 0, FLAG_STRING, &platform,
	     "Push a platform-specific manifest as a single-platform image to the registry"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Suppress verbose output"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 1));
	const char *slash = strrchr(args[0], '/');
	const char *colon = strrchr(args[0], ':');
	bool tagged = strchr(args[0], '@') || (colon && (!slash || colon > slash));
	if (all_tags && tagged) {
		fprintf(stderr, "tag can't be used with --all-tags/-a\n");
		return 1;
	}
	if (!tagged && !all_tags && !quiet)
		printf("Using default tag: latest\n");
	fflush(stdout);
	if (image_push(cli, args[0], quiet, stdout, &err) < 0)
		return cli_fail(cli, err);
	if (quiet)
		printf("%s\n", args[0]);
	return 0;
}
