/* SPDX-License-Identifier: Apache-2.0 */
/* berth top: GET /containers/<id>/top[?ps_args=], printed as a table. */
#include "internal.h"

int cmd_top(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *o = NULL;
	const struct flag flags[] = {};
	struct query q = {0};
	struct sbuf t = {0}, out = {0};

	CLI_FLAGS(cli, flags, FLAGS_STOP_AT_ARG, argc, argv, &args);
	CLI_ARGS(cli_args_min(cli, args, 1));
	_cleanup_free_ char *e = url_escape(args[0], true);
	_cleanup_free_ char *base = xasprintf("/containers/%s/top", e);
	if (args[1]) {
		struct sbuf ps = {0};
		for (char **a = args + 1; *a; a++) {
			if (a > args + 1)
				sbuf_puts(&ps, " ");
			sbuf_puts(&ps, *a);
		}
		query_add(&q, "ps_args", ps.s);
		sbuf_release(&ps);
	}
	_cleanup_free_ char *path = query_finish(&q, base);
	if (cli_call(cli, "GET", path, NULL, &o, NULL, &err) < 0)
		return cli_fail(cli, err);
	json_object *titles = jget(o, "Titles"), *procs = jget(o, "Processes");
	for (size_t i = 0; titles && i < json_object_array_length(titles); i++) {
		if (i) /* docker joins the cells with tabs: the last one is not padded */
			sbuf_puts(&t, "\t");
		sbuf_puts(&t, json_object_get_string(json_object_array_get_idx(titles, i)));
	}
	sbuf_puts(&t, "\n");
	for (size_t i = 0; procs && i < json_object_array_length(procs); i++) {
		json_object *p = json_object_array_get_idx(procs, i);
		for (size_t k = 0; k < json_object_array_length(p); k++) {
			if (k)
				sbuf_puts(&t, "\t");
			sbuf_puts(&t, json_object_get_string(json_object_array_get_idx(p, k)));
		}
		sbuf_puts(&t, "\n");
	}
	/* docker's top uses tabwriter.NewWriter(out, 20, 1, 3, ' ', 0) */
	tabwriter_format(t.s, t.len, 20, 3, &out);
	fwrite(out.s, 1, out.len, stdout);
	sbuf_release(&t);
	sbuf_release(&out);
	return 0;
}
