/* SPDX-License-Identifier: Apache-2.0 */
/* berth history: GET /images/<name>/history through docker's history formatter. */
#include <time.h>

#include "internal.h"

#define HISTORY_DEFAULT "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"

int cmd_history(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *list = NULL, *hdr = json_object_new_object();
	_cleanup_free_ char *format = NULL;
	_cleanup_(formatter_freep) struct formatter *f = NULL;
	bool human = true, no_trunc = false, quiet = false;
	const struct flag flags[] = {
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"human", 'H', FLAG_BOOL, &human,
	     "Print sizes and dates in human readable format "
	     "(default true)"},
	    {"no-trunc", 0, FLAG_BOOL, &no_trunc, "Don't truncate output"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Only show image IDs"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 1));
	json_add_str(hdr, "ID", "IMAGE");
	json_add_str(hdr, "CreatedSince", "CREATED");
	json_add_str(hdr, "CreatedAt", "CREATED AT");
	json_add_str(hdr, "CreatedBy", "CREATED BY");
	json_add_str(hdr, "Size", "SIZE");
	json_add_str(hdr, "Comment", "COMMENT");
	_cleanup_free_ char *e = url_escape(args[0], true);
	_cleanup_free_ char *path = xasprintf("/images/%s/history", e);
	if (cli_call(cli, "GET", path, NULL, &list, NULL, &err) < 0)
		return cli_fail(cli, err);
	if (formatter_new(quiet ? "{{.ID}}" : format, HISTORY_DEFAULT, hdr, TEMPLATE_STRICT, &f,
			  &err) < 0)
		return cli_fail(cli, err);
	int64_t now = now_ns();
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *h = json_object_array_get_idx(list, i);
		_cleanup_json_ json_object *row = json_object_new_object();
		const char *id = jstr(h, "Id");
		_cleanup_free_ char *tid =
		    startswith(id, "sha256:") || !no_trunc ? format_truncate_id(id) : xstrdup(id);
		if (streq(id, "<missing>"))
			json_add_str(row, "ID", id);
		else
			json_add_str(row, "ID", no_trunc ? id : tid);
		int64_t created = jint(h, "Created");
		char tbuf[64];
		time_t t = (time_t)created;
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S%z", &tm);
		/* RFC 3339 wants a colon in the offset, or Z for UTC */
		size_t tl = strlen(tbuf);
		_cleanup_free_ char *rfc = NULL;
		if (tm.tm_gmtoff == 0)
			rfc = xasprintf("%.*sZ", (int)tl - 5, tbuf);
		else
			rfc = xasprintf("%.*s:%s", (int)tl - 2, tbuf, tbuf + tl - 2);
		_cleanup_free_ char *d = format_human_duration(now - created * 1000000000LL);
		_cleanup_free_ char *since = xasprintf("%s ago", d);
		json_add_str(row, "CreatedSince", human ? since : rfc);
		json_add_str(row, "CreatedAt", rfc);
		_cleanup_free_ char *by = xstrdup(jstr(h, "CreatedBy"));
		for (char *p = by; *p; p++)
			if (*p == '\t')
				*p = ' ';
		_cleanup_free_ char *byt = no_trunc ? xstrdup(by) : format_ellipsis(by, 45);
		json_add_str(row, "CreatedBy", byt);
		_cleanup_free_ char *size = human ? format_human_size((double)jint(h, "Size"), 3)
						  : xasprintf("%" PRId64, jint(h, "Size"));
		json_add_str(row, "Size", size);
		json_add_str(row, "Comment", jstr(h, "Comment"));
		if (formatter_row(f, row, &err) < 0)
			return cli_fail(cli, err);
	}
	formatter_finish(f, stdout);
	return 0;
}
