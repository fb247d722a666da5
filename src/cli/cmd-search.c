/* SPDX-License-Identifier: Apache-2.0 */
/* berth search: GET /images/search?term=&limit=&filters=, docker's table. */
#include "container-opts.h"

#define SEARCH_DEFAULT "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"

int cmd_search(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *list = NULL, *hdr = json_object_new_object();
	_cleanup_free_ char *format = NULL, *fj = NULL, *path = NULL, *key = NULL, *auth = NULL;
	_cleanup_(formatter_freep) struct formatter *f = NULL;
	struct query q = {0};
	struct cli_resp r = {.fd = -1};
	int64_t limit = 0, min_stars = 0;
	bool no_trunc = false, official_only = false, automated_only = false;
	const struct flag flags[] = {
	    {"filter", 'f', FLAG_LIST, &filters, "Filter output based on conditions provided"},
	    {"format", 0, FLAG_STRING, &format, "Pretty-print search using a Go template"},
	    {"limit", 0, FLAG_INT, &limit, "Max number of search results"},
	    {"no-trunc", 0, FLAG_BOOL, &no_trunc, "Don't truncate output"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 1));
	for (char **fl = filters; fl && *fl; fl++) {
		const char *eq = strchr(*fl, '=');
		if (!eq) {
			fprintf(stderr, "bad format of filter (expected name=value)\n");
			return 125;
		}
		if (startswith(*fl, "stars=")) {
			char *end;
			long long v = strtoll(eq + 1, &end, 10);
			if (*end || end == eq + 1) {
				fprintf(stderr,
					"Error response from daemon: invalid filter 'stars=%s'\n",
					eq + 1);
				return 1;
			}
			min_stars = v > min_stars ? v : min_stars;
		} else if (startswith(*fl, "is-official=") || startswith(*fl, "is-automated=")) {
			bool want;
			if (streq(eq + 1, "true") || streq(eq + 1, "1"))
				want = true;
			else if (streq(eq + 1, "false") || streq(eq + 1, "0"))
				want = false;
			else {
				fprintf(stderr,
					"Error response from daemon: invalid filter '%.*s=%s'\n",
					(int)(eq - *fl), *fl, eq + 1);
				return 1;
			}
			if (startswith(*fl, "is-official="))
				official_only = want;
			else
				automated_only = want;
		} else {
			fprintf(stderr, "Error response from daemon: invalid filter '%.*s'\n",
				(int)(eq - *fl), *fl);
			return 1;
		}
	}
	if (filters_json(filters, &fj, &err) < 0)
		return cli_fail(cli, err);
	query_add(&q, "term", args[0]);
	if (limit)
		query_addf(&q, "limit", "%" PRId64, limit);
	if (fj)
		query_add(&q, "filters", fj);
	path = query_finish(&q, "/images/search");
	{
		/* the registry the term names ("host:5000/busy"), else docker.io */
		const char *slash = strchr(args[0], '/');
		_cleanup_free_ char *dom =
		    slash ? xstrndup(args[0], (size_t)(slash - args[0])) : NULL;
		bool is_host =
		    dom && (strchr(dom, '.') || strchr(dom, ':') || streq(dom, "localhost"));
		key = cli_registry_key(is_host ? dom : NULL);
	}
	auth = cli_auth_header(cli, key);
	if (cli_request(cli, "GET", path, NULL, NULL, 0, -1, auth, &r, &err) < 0)
		return cli_fail(cli, err);
	if (cli_resp_check(&r, &err) < 0) {
		cli_resp_close(&r);
		return cli_fail(cli, err);
	}
	{
		struct sbuf b = {0};
		char buf[8192];
		for (int guard = 0; guard < 1 << 16; guard++) {
			ssize_t k = http_conn_read_body(&r.conn, buf, sizeof(buf));
			if (k <= 0)
				break;
			sbuf_add(&b, buf, (size_t)k);
		}
		_cleanup_free_ char *text = sbuf_take(&b);
		cli_resp_close(&r);
		list = json_tokener_parse(text ? text : "");
		if (!list || !json_object_is_type(list, json_type_array)) {
			fprintf(stderr, "Error response from daemon: invalid search result\n");
			return 1;
		}
	}
	json_add_str(hdr, "Name", "NAME");
	json_add_str(hdr, "Description", "DESCRIPTION");
	json_add_str(hdr, "StarCount", "STARS");
	json_add_str(hdr, "IsOfficial", "OFFICIAL");
	json_add_str(hdr, "IsAutomated", "AUTOMATED");
	if (formatter_new(format, SEARCH_DEFAULT, hdr, TEMPLATE_STRICT, &f, &err) < 0)
		return cli_fail(cli, err);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		if (jint(e, "star_count") < min_stars)
			continue;
		if (official_only && !jbool(e, "is_official"))
			continue;
		if (automated_only && !jbool(e, "is_automated"))
			continue;
		_cleanup_json_ json_object *row = json_object_new_object();
		_cleanup_free_ char *desc = xstrdup(jstr(e, "description"));
		for (char *p = desc; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		_cleanup_free_ char *d = no_trunc ? xstrdup(desc) : format_ellipsis(desc, 45);
		_cleanup_free_ char *stars = xasprintf("%" PRId64, jint(e, "star_count"));
		json_add_str(row, "Name", jstr(e, "name"));
		json_add_str(row, "Description", d);
		json_add_str(row, "StarCount", stars);
		json_add_str(row, "IsOfficial", jbool(e, "is_official") ? "[OK]" : "");
		json_add_str(row, "IsAutomated", jbool(e, "is_automated") ? "[OK]" : "");
		if (formatter_row(f, row, &err) < 0)
			return cli_fail(cli, err);
	}
	formatter_finish(f, stdout);
	return 0;
}
