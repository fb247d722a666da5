/* SPDX-License-Identifier: Apache-2.0 */
/* berth rmi: DELETE /images/<name>[?force=1][&noprune=1], printing Untagged/Deleted lines. */
#include "internal.h"

struct rmi_args {
	bool force, no_prune;
};

static int rmi_one(struct cli *cli, const char *name, void *userdata, struct error **err)
{
	struct rmi_args *a = userdata;
	struct query q = {0};
	_cleanup_json_ json_object *o = NULL;
	_cleanup_free_ char *e = url_escape(name, true);
	_cleanup_free_ char *base = xasprintf("/images/%s", e);
	if (a->force)
		query_add(&q, "force", "1");
	if (a->no_prune)
		query_add(&q, "noprune", "1");
	_cleanup_free_ char *path = query_finish(&q, base);
	int r = cli_call(cli, "DELETE", path, NULL, &o, NULL, err);
	if (r < 0)
		return r;
	for (size_t i = 0; o && i < json_object_array_length(o); i++) {
		json_object *d = json_object_array_get_idx(o, i);
		if (*jstr(d, "Untagged"))
			printf("Untagged: %s\n", jstr(d, "Untagged"));
		else if (*jstr(d, "Deleted"))
			printf("Deleted: %s\n", jstr(d, "Deleted"));
	}
	fflush(stdout);
	return 0;
}

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	struct rmi_args a = {0};
	const struct flag flags[] = {
	    {"force", 'f', FLAG_BOOL, &a.force, "Force removal of the image"},
	    {"no-prune", 0, FLAG_BOOL, &a.no_prune, "Do not delete untagged parents"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	return for_each_container(cli, args, false, rmi_one, &a);
}
