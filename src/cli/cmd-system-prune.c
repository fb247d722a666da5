/* SPDX-License-Identifier: Apache-2.0 */
/* berth system prune: containers, networks, (volumes), images and build cache. */
#include "internal.h"

int cmd_system_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL, **ifilters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *fjson = NULL, *ifjson = NULL;
	bool force = false, all = false, volumes = false;
	int64_t space = 0;
	struct sbuf msg = {0};
	const struct flag flags[] = {
	    {"all", 'a', FLAG_BOOL, &all, "Remove all unused images not just dangling ones"},
	    {"filter", 0, FLAG_LIST, &filters,
	     "Provide filter values (e.g. \"label=<key>=<value>\")", "filter"},
	    {"force", 'f', FLAG_BOOL, &force, "Do not prompt for confirmation"},
	    {"volumes", 0, FLAG_BOOL, &volumes, "Prune anonymous volumes"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	ifilters = strv_copy(filters);
	ifilters = strv_append(ifilters, all ? "dangling=false" : "dangling=true");
	if (filters_json(ifilters, &ifjson, &err) < 0)
		return cli_fail(cli, err);
	sbuf_puts(&msg, "WARNING! This will remove:\n  - all stopped containers\n");
	sbuf_puts(&msg, "  - all networks not used by at least one container\n");
	if (volumes)
		sbuf_puts(&msg, "  - all anonymous volumes not used by at least one container\n");
	sbuf_puts(&msg, all ? "  - all images without at least one container associated to them\n"
			      "  - all build cache\n"
			    : "  - all dangling images\n  - unused build cache\n");
	if (!force) {
		bool ok = prompt_confirm(msg.s);
		sbuf_release(&msg);
		if (!ok) {
			fprintf(stderr, "Error: system prune has been cancelled\n");
			return 1;
		}
	}
	sbuf_release(&msg);

	struct {
		const char *path, *key, *title;
		bool use_images_filter;
		bool on;
	} steps[] = {
	    {"/containers/prune", "ContainersDeleted", "Deleted Containers:", false, true},
	    {"/networks/prune", "NetworksDeleted", "Deleted Networks:", false, true},
	    {"/volumes/prune", "VolumesDeleted", "Deleted Volumes:", false, volumes},
	    {"/images/prune", "ImagesDeleted", "Deleted Images:", true, true},
	    {"/build/prune", "CachesDeleted", "Deleted build cache objects:", false, true},
	};
	for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
		struct query q = {0};
		if (!steps[i].on)
			continue;
		const char *fj = steps[i].use_images_filter ? ifjson : fjson;
		if (fj)
			query_add(&q, "filters", fj);
		if (streq(steps[i].path, "/build/prune") && all)
			query_add(&q, "all", "1");
		_cleanup_free_ char *path = query_finish(&q, steps[i].path);
		if (prune_run(cli, path, steps[i].key, steps[i].title, &space, &err) < 0)
			return cli_fail(cli, err);
	}
	print_reclaimed(space);
	return 0;
}
