/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth volume create / ls / rm / prune: the /volumes endpoints, with docker 28's request
 * bodies, output and messages. berthd has no named volumes yet (it lists none and refuses
 * to create one, saying so); the commands are the docker CLI's all the same, so that
 * scripts get docker's answers. (volume inspect lives with the other inspects.)
 */
#include "internal.h"

#define VOLUMES_DEFAULT "table {{.Driver}}\t{{.Name}}"

static json_object *volumes_header(void)
{
	json_object *h = json_object_new_object();
	static const char *const kv[][2] = {
	    {"Name", "VOLUME NAME"},
	    {"Driver", "DRIVER"},
	    {"Scope", "SCOPE"},
	    {"Mountpoint", "MOUNTPOINT"},
	    {"Labels", "LABELS"},
	    {"Links", "LINKS"},
	    {"Size", "SIZE"},
	    {"Group", "GROUP"},
	    {"Availability", "AVAILABILITY"},
	    {"Status", "STATUS"},
	};
	for (size_t i = 0; i < ELEMENTSOF(kv); i++)
		json_add_str(h, kv[i][0], kv[i][1]);
	return h;
}

static json_object *volume_row(json_object *v)
{
	json_object *row = json_object_new_object();
	_cleanup_free_ char *labels = format_labels(jget(v, "Labels"));
	json_add_str(row, "Name", jstr(v, "Name"));
	json_add_str(row, "Driver", jstr(v, "Driver"));
	json_add_str(row, "Scope", jstr(v, "Scope"));
	json_add_str(row, "Mountpoint", jstr(v, "Mountpoint"));
	json_add_str(row, "Labels", labels);
	json_add_str(row, "Links", "N/A");
	json_add_str(row, "Size", "N/A");
	json_add_str(row, "Group", "N/A");
	json_add_str(row, "Availability", "N/A");
	json_add_str(row, "Status", "N/A");
	return row;
}

int cmd_volume_ls(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *resp = NULL, *hdr = volumes_header();
	_cleanup_free_ char *format = NULL, *fjson = NULL, *path = NULL;
	_cleanup_(formatter_freep) struct formatter *f = NULL;
	bool quiet = false, cluster = false;
	struct query q = {0};
	const struct flag flags[] = {
	    {"cluster", 0, FLAG_BOOL, &cluster,
	     "Display only cluster volumes, and use cluster "
	     "volume list formatting"},
	    {"filter", 'f', FLAG_LIST, &filters, "Provide filter values (e.g. \"dangling=true\")",
	     "filter"},
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Only display volume names"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	if (fjson)
		query_add(&q, "filters", fjson);
	path = query_finish(&q, "/volumes");
	if (cli_call(cli, "GET", path, NULL, &resp, NULL, &err) < 0)
		return cli_fail(cli, err);
	const char *fmt = format;
	if (isempty(fmt) || streq(fmt, "table"))
		fmt = quiet ? "{{.Name}}" : VOLUMES_DEFAULT;
	if (formatter_new(fmt, VOLUMES_DEFAULT, hdr, TEMPLATE_STRICT, &f, &err) < 0) {
		fprintf(stderr, "%s\n", err && err->msg ? err->msg : "template parsing error");
		return 1;
	}
	json_object *l = jget(resp, "Volumes");
	size_t n = json_object_is_type(l, json_type_array) ? json_object_array_length(l) : 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_json_ json_object *row = volume_row(json_object_array_get_idx(l, i));
		if (formatter_row(f, row, &err) < 0) {
			fprintf(stderr, "%s\n", err->msg);
			return 1;
		}
	}
	formatter_finish(f, stdout);
	return 0;
}

int cmd_volume_create(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **labels = NULL, **opts = NULL;
	_cleanup_free_ char *driver = xstrdup("local"), *name = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *body = json_object_new_object(), *resp = NULL;
	json_object *jl = json_object_new_object(), *jo = json_object_new_object();
	const struct flag flags[] = {
	    {"driver", 'd', FLAG_STRING, &driver, "Specify volume driver name"},
	    {"label", 0, FLAG_LIST, &labels, "Set metadata for a volume"},
	    {"name", 0, FLAG_STRING, &name, "Specify volume name"},
	    {"opt", 'o', FLAG_LIST, &opts, "Set driver specific options"},
	};

	json_object_object_add(body, "DriverOpts", jo);
	json_object_object_add(body, "Labels", jl);
	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_max(cli, args, 1));
	if (args[0] && !isempty(name) && !streq(name, args[0])) {
		fprintf(stderr, "conflicting options: cannot specify a volume-name through both "
				"--name and as a positional arg\n");
		return 1;
	}
	for (char **p = labels; p && *p; p++) {
		size_t k = strcspn(*p, "=");
		_cleanup_free_ char *key = xstrndup(*p, k);
		json_add_str(jl, key, (*p)[k] ? *p + k + 1 : "");
	}
	for (char **p = opts; p && *p; p++) {
		size_t k = strcspn(*p, "=");
		_cleanup_free_ char *key = xstrndup(*p, k);
		json_add_str(jo, key, (*p)[k] ? *p + k + 1 : "");
	}
	json_add_str(body, "Driver", driver);
	json_add_str(body, "Name", args[0] ? args[0] : (name ? name : ""));
	if (cli_call(cli, "POST", "/volumes/create", body, &resp, NULL, &err) < 0)
		return cli_fail(cli, err);
	printf("%s\n", jstr(resp, "Name"));
	return 0;
}

int cmd_volume_rm(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	bool force = false;
	int status = 0;
	const struct flag flags[] = {
	    {"force", 'f', FLAG_BOOL, &force, "Force the removal of one or more volumes"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	for (char **a = args; *a; a++) {
		_cleanup_error_ struct error *err = NULL;
		_cleanup_free_ char *name = url_escape(*a, true), *base = NULL, *path = NULL;
		struct query q = {0};
		if (force)
			query_add(&q, "force", "1");
		base = xasprintf("/volumes/%s", name);
		path = query_finish(&q, base);
		if (cli_call(cli, "DELETE", path, NULL, NULL, NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err->msg);
			status = 1;
			continue;
		}
		printf("%s\n", *a);
	}
	return status;
}

int cmd_volume_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *fjson = NULL, *path = NULL;
	bool force = false, all = false;
	struct query q = {0};
	int64_t space = 0;
	const struct flag flags[] = {
	    {"all", 'a', FLAG_BOOL, &all, "Remove all unused volumes, not just anonymous ones"},
	    {"filter", 0, FLAG_LIST, &filters, "Provide filter values (e.g. \"label=<label>\")",
	     "filter"},
	    {"force", 'f', FLAG_BOOL, &force, "Do not prompt for confirmation"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (all)
		filters = strv_append(filters, "all=true");
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	if (!force && !prompt_confirm(all ? "WARNING! This will remove all local volumes not used "
					    "by at least one container."
					  : "WARNING! This will remove anonymous local volumes not "
					    "used by at least one container.")) {
		fprintf(stderr, "Error: volume prune has been cancelled\n");
		return 1;
	}
	if (fjson)
		query_add(&q, "filters", fjson);
	path = query_finish(&q, "/volumes/prune");
	if (prune_run(cli, path, "VolumesDeleted", "Deleted Volumes:", &space, &err) < 0)
		return cli_fail(cli, err);
	print_reclaimed(space);
	return 0;
}
