/* SPDX-License-Identifier: Apache-2.0 */
/* berth container prune: POST /containers/prune after docker's confirmation prompt. */
#include "internal.h"

/* docker's command.PromptForConfirmation */
bool prompt_confirm(const char *msg)
{
	char line[64] = {0};
	printf("%s Are you sure you want to continue? [y/N] ", msg);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		printf("\n");
		return false;
	}
	return streq(line, "y\n") || streq(line, "Y\n") || streq(line, "y") || streq(line, "Y");
}

/* "Total reclaimed space: 1.2MB" */
void print_reclaimed(int64_t bytes)
{
	_cleanup_free_ char *s = format_human_size((double)bytes, 3);
	printf("Total reclaimed space: %s\n", s);
}

int prune_run(struct cli *cli, const char *path, const char *list_key, const char *title,
	      int64_t *ret_space, struct error **err)
{
	_cleanup_json_ json_object *o = NULL;
	int r = cli_call(cli, "POST", path, NULL, &o, NULL, err);
	if (r < 0)
		return r;
	json_object *l = jget(o, list_key);
	if (json_object_is_type(l, json_type_array) && json_object_array_length(l) > 0) {
		printf("%s\n", title);
		for (size_t i = 0; i < json_object_array_length(l); i++) {
			json_object *e = json_object_array_get_idx(l, i);
			if (json_object_is_type(e, json_type_string))
				printf("%s\n", json_object_get_string(e));
			else if (*jstr(e, "Untagged"))
				printf("untagged: %s\n", jstr(e, "Untagged"));
			else if (*jstr(e, "Deleted"))
				printf("deleted: %s\n", jstr(e, "Deleted"));
		}
		printf("\n");
	}
	*ret_space += jint(o, "SpaceReclaimed");
	return 0;
}

int cmd_container_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *fjson = NULL, *path = NULL;
	bool force = false;
	struct query q = {0};
	int64_t space = 0;
	const struct flag flags[] = {
	    {"filter", 0, FLAG_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")",
	     "filter"},
	    {"force", 'f', FLAG_BOOL, &force, "Do not prompt for confirmation"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	if (!force && !prompt_confirm("WARNING! This will remove all stopped containers.")) {
		fprintf(stderr, "Error: container prune has been cancelled\n");
		return 1;
	}
	if (fjson)
		query_add(&q, "filters", fjson);
	path = query_finish(&q, "/containers/prune");
	if (prune_run(cli, path, "ContainersDeleted", "Deleted Containers:", &space, &err) < 0)
		return cli_fail(cli, err);
	print_reclaimed(space);
	return 0;
}
