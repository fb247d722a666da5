/* SPDX-License-Identifier: Apache-2.0 */
/* berth ps: GET /containers/json, through docker's container formatter. */
#include <time.h>

#include "internal.h"

#define PS_DEFAULT                                                                                 \
	"table "                                                                                   \
	"{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

static json_object *ps_header(void)
{
	json_object *h = json_object_new_object();
	static const char *const kv[][2] = {
	    {"ID", "CONTAINER ID"},    {"Image", "IMAGE"},
	    {"Command", "COMMAND"},    {"CreatedAt", "CREATED AT"},
	    {"RunningFor", "CREATED"}, {"Status", "STATUS"},
	    {"Ports", "PORTS"},	       {"Names", "NAMES"},
	    {"Size", "SIZE"},	       {"Labels", "LABELS"},
	    {"Label", "LABEL"},	       {"Mounts", "MOUNTS"},
	    {"Networks", "NETWORKS"},  {"LocalVolumes", "LOCAL VOLUMES"},
	    {"State", "STATE"},	       {"Platform", "PLATFORM"},
	};
	for (size_t i = 0; i < ELEMENTSOF(kv); i++)
		json_add_str(h, kv[i][0], kv[i][1]);
	return h;
}

/*
 * Whether the --format template shows sizes, as docker decides it: it executes the
 * template over a context that notes which fields are read, so .Size and the whole
 * context given to json ask for sizes (dockerd's walk of every writable layer); "json"
 * and "table" alone do not. The probe here: a row whose Size no other value can be.
 */
static bool format_uses_size(const char *format)
{
	static const char probe[] = "berth-ps-size-probe-6b1f";
	_cleanup_(template_freep) struct template *t = NULL;
	_cleanup_json_ json_object *row = ps_header();
	struct sbuf out = {0};
	bool used;

	if (isempty(format))
		return false;
	if (strstr(format, ".Size")) /* read, maybe not printed: {{if .Size}} */
		return true;
	if (template_parse(format, &t, NULL) < 0)
		return false;
	json_add_str(row, "Size", probe);
	json_object_set_userdata(row, TEMPLATE_CONTEXT_MARK, NULL);
	used = template_execute(t, row, 0, &out, NULL) >= 0 && out.s && strstr(out.s, probe);
	sbuf_release(&out);
	return used;
}

/* Go's time.Time.String() in local time: "2006-01-02 15:04:05 -0700 MST". */
char *format_go_time(int64_t unix_sec)
{
	char buf[128];
	time_t t = (time_t)unix_sec;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
	return xstrdup(buf);
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "k=v,k=v" sorted (docker's order is Go's map order; sorted is at least stable) */
char *format_labels(json_object *labels)
{
	_cleanup_strv_free_ char **l = NULL;
	struct sbuf b = {0};
	if (json_object_is_type(labels, json_type_object)) {
		json_object_object_foreach(labels, k, v)
		{
			_cleanup_free_ char *kv = xasprintf("%s=%s", k, json_object_get_string(v));
			l = strv_append(l, kv);
		}
	}
	if (l)
		qsort(l, strv_length(l), sizeof(char *), strcmp_p);
	for (char **p = l; p && *p; p++) {
		if (p > l)
			sbuf_puts(&b, ",");
		sbuf_puts(&b, *p);
	}
	return sbuf_take(&b);
}

static json_object *ps_row(json_object *c, bool trunc, int64_t now)
{
	json_object *row = json_object_new_object();
	const char *id = jstr(c, "Id");
	_cleanup_free_ char *tid = format_truncate_id(id);
	struct sbuf b = {0};

	json_add_str(row, "ID", trunc ? tid : id);

	/* Image: an ID is shortened; a digest is dropped */
	const char *image = jstr(c, "Image");
	if (!*image)
		json_add_str(row, "Image", "<no image>");
	else if (trunc) {
		_cleanup_free_ char *ti = format_truncate_id(jstr(c, "ImageID"));
		_cleanup_free_ char *timg = format_truncate_id(image);
		const char *at = strchr(image, '@');
		if (*jstr(c, "ImageID") && streq(ti, timg))
			json_add_str(row, "Image", ti);
		else if (at) {
			_cleanup_free_ char *s = xstrndup(image, (size_t)(at - image));
			json_add_str(row, "Image", s);
		} else
			json_add_str(row, "Image", image);
	} else
		json_add_str(row, "Image", image);

	_cleanup_free_ char *cmd =
	    trunc ? format_ellipsis(jstr(c, "Command"), 20) : xstrdup(jstr(c, "Command"));
	_cleanup_free_ char *qcmd = format_quote(cmd);
	json_add_str(row, "Command", qcmd);

	int64_t created = jint(c, "Created");
	_cleanup_free_ char *ca = format_go_time(created);
	json_add_str(row, "CreatedAt", ca);
	_cleanup_free_ char *rf = format_human_duration(now - created * 1000000000LL);
	_cleanup_free_ char *rfa = xasprintf("%s ago", rf);
	json_add_str(row, "RunningFor", rfa);
	json_add_str(row, "Status", jstr(c, "Status"));
	json_add_str(row, "State", jstr(c, "State"));
	_cleanup_free_ char *ports = format_ports(jget(c, "Ports"));
	json_add_str(row, "Ports", ports);

	/* Names: without the leading "/", and with trunc only the first one that isn't a link */
	json_object *names = jget(c, "Names");
	size_t nn = names ? json_object_array_length(names) : 0;
	const char *chosen = NULL;
	if (trunc)
		for (size_t i = 0; i < nn; i++) {
			const char *n = json_object_get_string(json_object_array_get_idx(names, i));
			if (*n == '/')
				n++;
			if (!strchr(n, '/')) {
				chosen = n;
				break;
			}
		}
	if (chosen)
		sbuf_puts(&b, chosen);
	else
		for (size_t i = 0; i < nn; i++) {
			const char *n = json_object_get_string(json_object_array_get_idx(names, i));
			if (i)
				sbuf_puts(&b, ",");
			sbuf_puts(&b, *n == '/' ? n + 1 : n);
		}
	json_add_str(row, "Names", b.s ? b.s : "");
	sbuf_release(&b);

	/* Size */
	if (jget(c, "SizeRw") || jget(c, "SizeRootFs")) {
		_cleanup_free_ char *srw = format_human_size((double)jint(c, "SizeRw"), 3);
		_cleanup_free_ char *sv = format_human_size((double)jint(c, "SizeRootFs"), 3);
		_cleanup_free_ char *s = jint(c, "SizeRootFs") > 0
					     ? xasprintf("%s (virtual %s)", srw, sv)
					     : xstrdup(srw);
		json_add_str(row, "Size", s);
	} else
		json_add_str(row, "Size", "0B");

	_cleanup_free_ char *labels = format_labels(jget(c, "Labels"));
	json_add_str(row, "Labels", labels);
	json_object *lab = jget(c, "Labels");
	json_object_object_add(row, "Label", lab ? json_object_get(lab) : json_object_new_object());

	json_object *mounts = jget(c, "Mounts");
	int64_t local = 0;
	for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		const char *name = *jstr(m, "Name") ? jstr(m, "Name") : jstr(m, "Source");
		_cleanup_free_ char *nm = trunc ? format_ellipsis(name, 15) : xstrdup(name);
		if (i)
			sbuf_puts(&b, ",");
		sbuf_puts(&b, nm);
		if (streq(jstr(m, "Driver"), "local"))
			local++;
	}
	json_add_str(row, "Mounts", b.s ? b.s : "");
	sbuf_release(&b);
	_cleanup_free_ char *lv = xasprintf("%" PRId64, local);
	json_add_str(row, "LocalVolumes", lv);

	json_object *nets = jget(c, "NetworkSettings.Networks");
	_cleanup_strv_free_ char **nl = NULL;
	if (json_object_is_type(nets, json_type_object)) {
		json_object_object_foreach(nets, k, v)
		{
			(void)v;
			nl = strv_append(nl, k);
		}
	}
	if (nl)
		qsort(nl, strv_length(nl), sizeof(char *), strcmp_p);
	for (char **p = nl; p && *p; p++) {
		if (p > nl)
			sbuf_puts(&b, ",");
		sbuf_puts(&b, *p);
	}
	json_add_str(row, "Networks", b.s ? b.s : "");
	sbuf_release(&b);
	json_object_object_add(row, "Platform", NULL); /* docker: a nil *Platform */
	return row;
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **filters = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *list = NULL, *hdr = ps_header();
	_cleanup_free_ char *format = NULL, *fjson = NULL, *path = NULL;
	_cleanup_(formatter_freep) struct formatter *f = NULL;
	bool all = false, quiet = false, size = false, size_set = false, latest = false,
	     no_trunc = false;
	int64_t last = -1;
	struct query q = {0};
	const struct flag flags[] = {
	    {"all", 'a', FLAG_BOOL, &all, "Show all containers (default shows just running)"},
	    {"filter", 'f', FLAG_LIST, &filters, "Filter output based on conditions provided",
	     "filter"},
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"last", 'n', FLAG_INT, &last,
	     "Show n last created containers (includes all states) "
	     "(default -1)"},
	    {"latest", 'l', FLAG_BOOL, &latest,
	     "Show the latest created container (includes all "
	     "states)"},
	    {"no-trunc", 0, FLAG_BOOL, &no_trunc, "Don't truncate output"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Only display container IDs"},
	    {"size", 's', FLAG_BOOL, &size, "Display total file sizes", NULL, &size_set},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	if (filters_json(filters, &fjson, &err) < 0)
		return cli_fail(cli, err);
	if (latest && last == -1)
		last = 1;
	/* docker: unless --size=false was given */
	if (!quiet && !size && !size_set && format_uses_size(format))
		size = true;
	if (all)
		query_add(&q, "all", "1");
	if (fjson)
		query_add(&q, "filters", fjson);
	if (last > 0)
		query_addf(&q, "limit", "%" PRId64, last);
	if (size && !quiet)
		query_add(&q, "size", "1");
	path = query_finish(&q, "/containers/json");
	if (cli_call(cli, "GET", path, NULL, &list, NULL, &err) < 0)
		return cli_fail(cli, err);

	const char *fmt = quiet ? "{{.ID}}" : format;
	const char *def = size ? PS_DEFAULT "\t{{.Size}}" : PS_DEFAULT;
	if (formatter_new(fmt, def, hdr, TEMPLATE_STRICT, &f, &err) < 0)
		return cli_fail(cli, err);
	int64_t now = now_ns();
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		_cleanup_json_ json_object *row =
		    ps_row(json_object_array_get_idx(list, i), !no_trunc, now);
		if (formatter_row(f, row, &err) < 0)
			return cli_fail(cli, err);
	}
	formatter_finish(f, stdout);
	return 0;
}
