/* SPDX-License-Identifier: Apache-2.0 */
/* berth image prune: POST /images/prune?filters={"dangling":{"true"|"false":true}} */
#include "internal.h"

int cmd_image_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *fjson = NULL, *path = NULL;
	bool force = false, all = false;
	struct query q = {0};
	int64_t space = 0;
	const struct flag flags[] = {
	    {"all", 'a', FLAG_BOOL, &all, "Remove all unused images, not just dangling ones"},
	    {"filter", 0, FLAG_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")",
	     "filter"},
	    {"force", 'f', FLAG_BOOL, &force, "Do not prompt for confirmation"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	filters = strv_append(filters, all ? "dangling=false" : "dangling=true");
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	if (!force &&
	    !prompt_confirm(all ? "WARNING! This will remove all images without at least one "
				  "container associated to them."
				: "WARNING! This will remove all dangling images.")) {
		fprintf(stderr, "Error: image prune has been cancelled\n");
		return 1;
	}
	query_add(&q, "filters", fjson);
	path = query_finish(&q, "/images/prune");
	if (prune_run(cli, path, "ImagesDeleted", "Deleted Images:", &space, &err) < 0)
		return cli_fail(cli, err);
	print_reclaimed(space);
	return 0;
}
