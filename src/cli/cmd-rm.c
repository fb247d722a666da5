/* SPDX-License-Identifier: Apache-2.0 */
/* berth rm: DELETE /containers/<id>[?force=1][&v=1][&link=1] */
#include "internal.h"

struct rm_args {
	bool force, volumes, link;
};

static int rm_one(struct cli *cli, const char *id, void *userdata, struct error **err)
{
	struct rm_args *a = userdata;
	struct query q = {0};
	_cleanup_free_ char *e = url_escape(id, true);
	_cleanup_free_ char *base = xasprintf("/containers/%s", e);
	if (a->force)
		query_add(&q, "force", "1");
	if (a->link)
		query_add(&q, "link", "1");
	if (a->volumes)
		query_add(&q, "v", "1");
	_cleanup_free_ char *path = query_finish(&q, base);
	return cli_call(cli, "DELETE", path, NULL, NULL, NULL, err);
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	struct rm_args a = {0};
	const struct flag flags[] = {
	    {"force", 'f', FLAG_BOOL, &a.force,
	     "Force the removal of a running container (uses "
	     "SIGKILL)"},
	    {"link", 'l', FLAG_BOOL, &a.link, "Remove the specified link"},
	    {"volumes", 'v', FLAG_BOOL, &a.volumes,
	     "Remove anonymous volumes associated with the container"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	int ret = 0;
	for (char **id = args; *id; id++) {
		struct error *err = NULL;
		int r = rm_one(cli, *id, &a, &err);
		if (r < 0) {
			fprintf(stderr, "%s\n", err ? err->msg : "error");
			/* docker rm -f reports missing containers but doesn't fail on them */
			if (!(r == -ENOENT && a.force))
				ret = 1;
		} else
			printf("%s\n", *id);
		fflush(stdout);
		error_free(err);
	}
	return ret;
}
