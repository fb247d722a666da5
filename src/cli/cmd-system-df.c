/* SPDX-License-Identifier: Apache-2.0 */
/* berth system df: GET /system/df summarised like docker's disk usage formatter. */
#include "internal.h"

#define DF_DEFAULT "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"

static json_object *df_row(const char *type, int64_t total, int64_t active, int64_t size,
			   int64_t reclaimable, bool pct)
{
	json_object *row = json_object_new_object();
	char buf[32];
	json_add_str(row, "Type", type);
	snprintf(buf, sizeof(buf), "%" PRId64, total);
	json_add_str(row, "TotalCount", buf);
	snprintf(buf, sizeof(buf), "%" PRId64, active);
	json_add_str(row, "Active", buf);
	_cleanup_free_ char *s = format_human_size((double)size, 4);
	json_add_str(row, "Size", s);
	_cleanup_free_ char *rs = format_human_size((double)reclaimable, 4);
	_cleanup_free_ char *rp =
	    pct && size > 0 ? xasprintf("%s (%" PRId64 "%%)", rs, reclaimable * 100 / size)
			    : xstrdup(rs);
	json_add_str(row, "Reclaimable", rp);
	return row;
}

static size_t alen(json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

int cmd_system_df(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *format = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *o = NULL, *hdr = json_object_new_object();
	_cleanup_(formatter_freep) struct formatter *f = NULL;
	bool verbose = false;
	const struct flag flags[] = {
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"verbose", 'v', FLAG_BOOL, &verbose, "Show detailed information on space usage"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (cli_call(cli, "GET", "/system/df", NULL, &o, NULL, &err) < 0)
		return cli_fail(cli, err);
	json_add_str(hdr, "Type", "TYPE");
	json_add_str(hdr, "TotalCount", "TOTAL");
	json_add_str(hdr, "Active", "ACTIVE");
	json_add_str(hdr, "Size", "SIZE");
	json_add_str(hdr, "Reclaimable", "RECLAIMABLE");

	json_object *imgs = jget(o, "Images"), *cts = jget(o, "Containers"),
		    *vols = jget(o, "Volumes"), *bc = jget(o, "BuildCache");
	int64_t active = 0, used = 0, total = jint(o, "LayersSize");
	for (size_t i = 0; i < alen(imgs); i++) {
		json_object *m = json_object_array_get_idx(imgs, i);
		if (jint(m, "Containers") > 0)
			active++;
		/* docker counts "unknown" (-1) as in use for the reclaimable size */
		if (jint(m, "Containers") != 0 && jint(m, "Size") != -1 &&
		    jint(m, "SharedSize") != -1)
			used += jint(m, "Size") - jint(m, "SharedSize");
	}
	if (verbose) {
		printf("Images space usage:\n\n");
		struct sbuf t = {0}, out = {0};
		sbuf_puts(&t, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE "
			      "SIZE\tCONTAINERS\n");
		int64_t now = now_ns();
		for (size_t i = 0; i < alen(imgs); i++) {
			json_object *m = json_object_array_get_idx(imgs, i);
			json_object *tags = jget(m, "RepoTags");
			const char *rt =
			    alen(tags) ? json_object_get_string(json_object_array_get_idx(tags, 0))
				       : "<none>:<none>";
			const char *c = strrchr(rt, ':');
			_cleanup_free_ char *repo =
			    c ? xstrndup(rt, (size_t)(c - rt)) : xstrdup(rt);
			_cleanup_free_ char *id = format_truncate_id(jstr(m, "Id"));
			_cleanup_free_ char *d =
			    format_human_duration(now - jint(m, "Created") * 1000000000LL);
			_cleanup_free_ char *sz = format_human_size((double)jint(m, "Size"), 3);
			/* docker's imageContext: HumanSize (4 digits), -1 is "N/A" */
			int64_t shared = jint(m, "SharedSize"), size = jint(m, "Size");
			_cleanup_free_ char *sh =
			    shared == -1 ? xstrdup("N/A") : format_human_size((double)shared, 4);
			_cleanup_free_ char *un =
			    shared == -1 || size == -1
				? xstrdup("N/A")
				: format_human_size((double)(size - shared), 4);
			_cleanup_free_ char *cn =
			    jint(m, "Containers") == -1
				? xstrdup("N/A")
				: xasprintf("%" PRId64, jint(m, "Containers"));
			sbuf_printf(&t, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\t%s\n", repo,
				    c ? c + 1 : "<none>", id, d, sz, sh, un, cn);
		}
		tabwriter_format(t.s, t.len, 10, 3, &out);
		fwrite(out.s, 1, out.len, stdout);
		sbuf_release(&t);
		sbuf_release(&out);
		printf("\nContainers space usage:\n\n");
		sbuf_puts(
		    &t,
		    "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES\n");
		for (size_t i = 0; i < alen(cts); i++) {
			json_object *c = json_object_array_get_idx(cts, i);
			_cleanup_free_ char *id = format_truncate_id(jstr(c, "Id"));
			_cleanup_free_ char *cmd = format_ellipsis(jstr(c, "Command"), 20);
			_cleanup_free_ char *qc = format_quote(cmd);
			_cleanup_free_ char *sz = format_human_size((double)jint(c, "SizeRw"), 3);
			_cleanup_free_ char *d =
			    format_human_duration(now - jint(c, "Created") * 1000000000LL);
			const char *name =
			    json_object_get_string(json_object_array_get_idx(jget(c, "Names"), 0));
			sbuf_printf(&t, "%s\t%s\t%s\t%zu\t%s\t%s ago\t%s\t%s\n", id,
				    jstr(c, "Image"), qc, alen(jget(c, "Mounts")), sz, d,
				    jstr(c, "Status"),
				    name ? (*name == '/' ? name + 1 : name) : "");
		}
		tabwriter_format(t.s, t.len, 10, 3, &out);
		fwrite(out.s, 1, out.len, stdout);
		sbuf_release(&t);
		sbuf_release(&out);
		printf("\nLocal Volumes space usage:\n\n");
		sbuf_puts(&t, "VOLUME NAME\tLINKS\tSIZE\n");
		for (size_t i = 0; i < alen(vols); i++) {
			json_object *v = json_object_array_get_idx(vols, i);
			_cleanup_free_ char *sz =
			    format_human_size((double)jint(v, "UsageData.Size"), 3);
			sbuf_printf(&t, "%s\t%" PRId64 "\t%s\n", jstr(v, "Name"),
				    jint(v, "UsageData.RefCount"), sz);
		}
		tabwriter_format(t.s, t.len, 10, 3, &out);
		fwrite(out.s, 1, out.len, stdout);
		sbuf_release(&t);
		sbuf_release(&out);
		int64_t bsize = 0;
		for (size_t i = 0; i < alen(bc); i++)
			bsize += jint(json_object_array_get_idx(bc, i), "Size");
		_cleanup_free_ char *bs = format_human_size((double)bsize, 3);
		printf("\nBuild cache usage: %s\n\n", bs);
		printf(
		    "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n");
		return 0;
	}

	if (formatter_new(format, DF_DEFAULT, hdr, TEMPLATE_STRICT, &f, &err) < 0)
		return cli_fail(cli, err);
	json_object *rows[4];
	rows[0] = df_row("Images", (int64_t)alen(imgs), active, total, total - used, true);
	int64_t cact = 0, csize = 0, crec = 0;
	for (size_t i = 0; i < alen(cts); i++) {
		json_object *c = json_object_array_get_idx(cts, i);
		const char *st = jstr(c, "State");
		csize += jint(c, "SizeRw");
		if (strstr(st, "running") || strstr(st, "paused") || strstr(st, "restarting"))
			cact++;
		else
			crec += jint(c, "SizeRw");
	}
	rows[1] = df_row("Containers", (int64_t)alen(cts), cact, csize, crec, true);
	int64_t vact = 0, vsize = 0, vrec = 0;
	for (size_t i = 0; i < alen(vols); i++) {
		json_object *v = json_object_array_get_idx(vols, i);
		int64_t s = jint(v, "UsageData.Size");
		if (s > 0)
			vsize += s;
		if (jint(v, "UsageData.RefCount") > 0)
			vact++;
		else if (s > 0)
			vrec += s;
	}
	rows[2] = df_row("Local Volumes", (int64_t)alen(vols), vact, vsize, vrec, true);
	int64_t bact = 0, bsize = 0, brec = 0;
	for (size_t i = 0; i < alen(bc); i++) {
		json_object *b = json_object_array_get_idx(bc, i);
		if (!jbool(b, "Shared"))
			bsize += jint(b, "Size");
		if (jbool(b, "InUse"))
			bact++;
		else if (!jbool(b, "Shared"))
			brec += jint(b, "Size");
	}
	rows[3] = df_row("Build Cache", (int64_t)alen(bc), bact, bsize, brec, false);
	int ret = 0;
	for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
		if (ret == 0 && formatter_row(f, rows[i], &err) < 0)
			ret = cli_fail(cli, err);
		json_object_put(rows[i]);
	}
	if (ret == 0)
		formatter_finish(f, stdout);
	return ret;
}
