/* SPDX-License-Identifier: Apache-2.0 */
/* berth pull: POST /images/create?fromImage=<normalized>&tag=<tag>, progress like docker's. */
#include "container-opts.h"

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *platform = NULL, *name = NULL, *tag = NULL;
	bool all_tags = false, quiet = false;
	const struct flag flags[] = {
	    {"all-tags", 'a', FLAG_BOOL, &all_tags, "Download all tagged images in the repository"},
	    {"platform", 0, FLAG_STRING, &platform,
	     "Set platform if server is multi-platform "
	     "capable"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Suppress verbose output"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 1));
	if (image_ref_split(args[0], &name, &tag) < 0) {
		fprintf(stderr, "invalid reference format\n");
		return 1;
	}
	const char *slash = strrchr(args[0], '/');
	const char *colon = strrchr(args[0], ':');
	bool tagged = strchr(args[0], '@') || (colon && (!slash || colon > slash));
	if (!tagged && !all_tags && !quiet)
		printf("Using default tag: latest\n");
	fflush(stdout);
	if (image_pull(cli, args[0], platform, quiet, stdout, &err) < 0)
		return cli_fail(cli, err);
	if (strchr(args[0], '@'))
		printf("%s@%s\n", name, tag);
	else
		printf("%s:%s\n", name, tag);
	return 0;
}
