/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth stats: GET /containers/<id>/stats?stream=0 per container, computed and
 * printed like docker's stats formatter; without --no-stream the table is
 * redrawn every second.
 */
#include <time.h>

#include "internal.h"

#define STATS_DEFAULT                                                                              \
	"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{."     \
	"BlockIO}}\t{{.PIDs}}"

static json_object *stats_header(void)
{
	json_object *h = json_object_new_object();
	static const char *const kv[][2] = {
	    {"ID", "CONTAINER ID"}, {"Container", "CONTAINER"},	       {"Name", "NAME"},
	    {"CPUPerc", "CPU %"},   {"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"},
	    {"NetIO", "NET I/O"},   {"BlockIO", "BLOCK I/O"},	       {"PIDs", "PIDS"},
	};
	for (size_t i = 0; i < ELEMENTSOF(kv); i++)
		json_add_str(h, kv[i][0], kv[i][1]);
	return h;
}

static json_object *stats_row(const char *arg, json_object *s)
{
	json_object *row = json_object_new_object();
	_cleanup_free_ char *tid = format_truncate_id(jstr(s, "id"));
	const char *name = jstr(s, "name");
	char buf[64];

	json_add_str(row, "ID", tid);
	json_add_str(row, "Container", arg ? arg : tid);
	json_add_str(row, "Name", *name == '/' ? name + 1 : name);

	double cpu = 0;
	double cpu_delta = (double)jint(s, "cpu_stats.cpu_usage.total_usage") -
			   (double)jint(s, "precpu_stats.cpu_usage.total_usage");
	double sys_delta = (double)jint(s, "cpu_stats.system_cpu_usage") -
			   (double)jint(s, "precpu_stats.system_cpu_usage");
	int64_t online = jint(s, "cpu_stats.online_cpus");
	if (online == 0) {
		json_object *per = jget(s, "cpu_stats.cpu_usage.percpu_usage");
		online = per ? (int64_t)json_object_array_length(per) : 0;
	}
	if (sys_delta > 0 && cpu_delta > 0)
		cpu = cpu_delta / sys_delta * (double)online * 100.0;
	snprintf(buf, sizeof(buf), "%.2f%%", cpu);
	json_add_str(row, "CPUPerc", buf);

	double usage = (double)jint(s, "memory_stats.usage");
	json_object *st = jget(s, "memory_stats.stats");
	if (jget(st, "total_inactive_file")) {
		double v = (double)jint(st, "total_inactive_file");
		if (v < usage)
			usage -= v;
	} else if (jget(st, "inactive_file")) {
		double v = (double)jint(st, "inactive_file");
		if (v < usage)
			usage -= v;
	}
	double limit = (double)jint(s, "memory_stats.limit");
	_cleanup_free_ char *mu = format_bytes_size(usage), *ml = format_bytes_size(limit);
	_cleanup_free_ char *mem = xasprintf("%s / %s", mu, ml);
	json_add_str(row, "MemUsage", mem);
	snprintf(buf, sizeof(buf), "%.2f%%", limit > 0 ? usage / limit * 100.0 : 0.0);
	json_add_str(row, "MemPerc", buf);

	double rx = 0, tx = 0;
	json_object *nets = jget(s, "networks");
	if (json_object_is_type(nets, json_type_object)) {
		json_object_object_foreach(nets, k, v)
		{
			(void)k;
			rx += (double)jint(v, "rx_bytes");
			tx += (double)jint(v, "tx_bytes");
		}
	}
	_cleanup_free_ char *rxs = format_human_size(rx, 3), *txs = format_human_size(tx, 3);
	_cleanup_free_ char *net = xasprintf("%s / %s", rxs, txs);
	json_add_str(row, "NetIO", net);

	double rd = 0, wr = 0;
	json_object *io = jget(s, "blkio_stats.io_service_bytes_recursive");
	for (size_t i = 0;
	     json_object_is_type(io, json_type_array) && i < json_object_array_length(io); i++) {
		json_object *e = json_object_array_get_idx(io, i);
		const char *op = jstr(e, "op");
		if (strcasecmp(op, "read") == 0)
			rd += (double)jint(e, "value");
		else if (strcasecmp(op, "write") == 0)
			wr += (double)jint(e, "value");
	}
	_cleanup_free_ char *rds = format_human_size(rd, 3), *wrs = format_human_size(wr, 3);
	_cleanup_free_ char *blk = xasprintf("%s / %s", rds, wrs);
	json_add_str(row, "BlockIO", blk);
	snprintf(buf, sizeof(buf), "%" PRId64, jint(s, "pids_stats.current"));
	json_add_str(row, "PIDs", buf);
	return row;
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *format = NULL;
	_cleanup_json_ json_object *hdr = stats_header();
	bool all = false, no_stream = false, no_trunc = false;
	const struct flag flags[] = {
	    {"all", 'a', FLAG_BOOL, &all, "Show all containers (default shows just running)"},
	    {"format", 0, FLAG_STRING, &format, "Format output using a custom template"},
	    {"no-stream", 0, FLAG_BOOL, &no_stream,
	     "Disable streaming stats and only pull the "
	     "first result"},
	    {"no-trunc", 0, FLAG_BOOL, &no_trunc, "Do not truncate output"},
	};
	int ret = 0;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	bool tty = term_isatty(STDOUT_FILENO);
	for (;;) {
		_cleanup_strv_free_ char **ids = NULL;
		_cleanup_(formatter_freep) struct formatter *f = NULL;
		struct error *err = NULL;

		if (args[0])
			ids = strv_copy(args);
		else {
			_cleanup_json_ json_object *list = NULL;
			if (cli_call(cli, "GET",
				     all ? "/containers/json?all=1" : "/containers/json", NULL,
				     &list, NULL, &err) < 0) {
				ret = cli_fail(cli, err);
				error_free(err);
				return ret;
			}
			for (size_t i = 0; list && i < json_object_array_length(list); i++)
				ids = strv_append(ids,
						  jstr(json_object_array_get_idx(list, i), "Id"));
		}
		if (formatter_new(format, STATS_DEFAULT, hdr, TEMPLATE_STRICT, &f, &err) < 0) {
			ret = cli_fail(cli, err);
			error_free(err);
			return ret;
		}
		_cleanup_strv_free_ char **errors = NULL;
		for (char **id = ids; id && *id; id++) {
			_cleanup_json_ json_object *s = NULL;
			_cleanup_free_ char *e = url_escape(*id, true);
			_cleanup_free_ char *path = xasprintf("/containers/%s/stats?stream=0", e);
			if (cli_call(cli, "GET", path, NULL, &s, NULL, &err) < 0) {
				errors = strv_append(errors, err->msg);
				error_free(err);
				err = NULL;
				ret = 1;
				continue;
			}
			_cleanup_json_ json_object *row = stats_row(args[0] ? *id : NULL, s);
			if (no_trunc)
				json_add_str(row, "ID", jstr(s, "id"));
			if (formatter_row(f, row, &err) < 0) {
				ret = cli_fail(cli, err);
				error_free(err);
				return ret;
			}
		}
		if (!no_stream && tty)
			fputs("\033[2J\033[H", stdout);
		formatter_finish(f, stdout);
		for (char **e = errors; e && *e; e++)
			fprintf(stderr, "%s\n", *e);
		if (no_stream)
			break;
		if (errors && args[0])
			break;
		sleep(1);
	}
	return ret;
}
