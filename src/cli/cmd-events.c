/* SPDX-License-Identifier: Apache-2.0 */
/* berth events: GET /events, a line per event like docker's prettyPrintEvent (or --format). */
#include <time.h>

#include "internal.h"

/* jsonmessage.RFC3339NanoFixed in local time */
static void print_time(int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[64], off[48];
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (tm.tm_gmtoff == 0)
		snprintf(off, sizeof(off), "Z");
	else
		snprintf(off, sizeof(off), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
			 labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) % 3600 / 60);
	printf("%s.%09" PRId64 "%s ", buf, ns % 1000000000, off);
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_event(json_object *e)
{
	if (jint(e, "timeNano"))
		print_time(jint(e, "timeNano"));
	else if (jint(e, "time"))
		print_time(jint(e, "time") * 1000000000);
	printf("%s %s %s", jstr(e, "Type"), jstr(e, "Action"), jstr(e, "Actor.ID"));
	json_object *attrs = jget(e, "Actor.Attributes");
	if (json_object_is_type(attrs, json_type_object) && json_object_object_length(attrs)) {
		_cleanup_strv_free_ char **keys = NULL;
		json_object_object_foreach(attrs, k, v)
		{
			(void)v;
			keys = strv_append(keys, k);
		}
		qsort(keys, strv_length(keys), sizeof(char *), strcmp_p);
		printf(" (");
		for (char **key = keys; *key; key++)
			printf("%s%s=%s", key == keys ? "" : ", ", *key, jstr(attrs, *key));
		printf(")");
	}
	printf("\n");
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_free_ char *since = NULL, *until = NULL, *format = NULL, *fjson = NULL,
			    *path = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_(template_freep) struct template *t = NULL;
	struct cli_resp r = {.fd = -1};
	struct query q = {0};
	const struct flag flags[] = {
	    {"filter", 'f', FLAG_LIST, &filters, "Filter output based on conditions provided",
	     "filter"},
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"since", 0, FLAG_STRING, &since, "Show all events created since timestamp"},
	    {"until", 0, FLAG_STRING, &until, "Stream events until this timestamp"},
	};
	int k;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (format) {
		const char *src = streq(format, "json") ? "{{json .}}" : format;
		if (template_parse(src, &t, &err) < 0) {
			fprintf(stderr, "template parsing error: %s\n", err->msg);
			return 1;
		}
	}
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	int64_t now = now_ns();
	if (fjson)
		query_add(&q, "filters", fjson);
	struct {
		const char *name, *v;
	} times[] = {{"since", since}, {"until", until}};
	for (size_t i = 0; i < ELEMENTSOF(times); i++) {
		_cleanup_free_ char *v = NULL;
		if (!times[i].v)
			continue;
		if (parse_timestamp_arg(times[i].v, now, &v) < 0) {
			fprintf(stderr, "failed to parse value as time or duration: \"%s\"\n",
				times[i].v);
			strv_free(q.kv);
			return 1;
		}
		query_add(&q, times[i].name, v);
	}
	path = query_finish(&q, "/events");
	k = cli_request(cli, "GET", path, NULL, NULL, 0, -1, NULL, &r, &err);
	if (k < 0)
		return cli_fail(cli, err);
	k = cli_resp_check(&r, &err);
	if (k < 0) {
		cli_resp_close(&r);
		return cli_fail(cli, err);
	}
	json_tokener *tok = json_tokener_new();
	char buf[8192];
	for (;;) {
		ssize_t n = http_conn_read_body(&r.conn, buf, sizeof(buf));
		if (n <= 0)
			break;
		size_t off = 0;
		while (off < (size_t)n) {
			while (off < (size_t)n && strchr(" \t\r\n", buf[off]))
				off++;
			if (off >= (size_t)n)
				break;
			json_object *e =
			    json_tokener_parse_ex(tok, buf + off, (int)((size_t)n - off));
			enum json_tokener_error je = json_tokener_get_error(tok);
			if (je == json_tokener_continue)
				break;
			if (je != json_tokener_success) {
				json_tokener_free(tok);
				cli_resp_close(&r);
				fprintf(stderr, "invalid event: %s\n", json_tokener_error_desc(je));
				return 1;
			}
			off += (size_t)json_tokener_get_parse_end(tok);
			json_tokener_reset(tok);
			if (t) {
				struct sbuf out = {0};
				struct error *e2 = NULL;
				if (template_execute(t, e, 0, &out, &e2) < 0) {
					fprintf(stderr, "%s\n", e2->msg);
					error_free(e2);
				} else
					printf("%s\n", out.s ? out.s : "");
				sbuf_release(&out);
			} else
				print_event(e);
			fflush(stdout);
			json_object_put(e);
			if (json_tokener_get_error(tok) != json_tokener_success &&
			    json_tokener_get_error(tok) != json_tokener_continue)
				break;
		}
	}
	json_tokener_free(tok);
	cli_resp_close(&r);
	return 0;
}
