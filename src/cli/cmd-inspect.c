/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth inspect / container inspect / image inspect: the raw JSON, re-indented
 * like docker's (4 spaces, wrapped in [ ]), or --format per object. Generic
 * inspect probes containers, images, networks and volumes in docker's order.
 */
#include "internal.h"

/* Go's json.Indent(prefix "", indent "    ") of a value. */
static void json_pretty(struct sbuf *b, json_object *o, int depth)
{
	int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		if (json_object_object_length(o) == 0) {
			sbuf_puts(b, "{}");
			return;
		}
		sbuf_puts(b, "{\n");
		int i = 0, n = json_object_object_length(o);
		json_object_object_foreach(o, k, v)
		{
			for (int d = 0; d <= depth; d++)
				sbuf_puts(b, "    ");
			json_object *ks = json_object_new_string(k);
			sbuf_puts(b, json_object_to_json_string_ext(ks, flags));
			json_object_put(ks);
			sbuf_puts(b, ": ");
			json_pretty(b, v, depth + 1);
			sbuf_puts(b, ++i < n ? ",\n" : "\n");
		}
		for (int d = 0; d < depth; d++)
			sbuf_puts(b, "    ");
		sbuf_puts(b, "}");
		return;
	}
	case json_type_array: {
		size_t n = json_object_array_length(o);
		if (n == 0) {
			sbuf_puts(b, "[]");
			return;
		}
		sbuf_puts(b, "[\n");
		for (size_t i = 0; i < n; i++) {
			for (int d = 0; d <= depth; d++)
				sbuf_puts(b, "    ");
			json_pretty(b, json_object_array_get_idx(o, i), depth + 1);
			sbuf_puts(b, i + 1 < n ? ",\n" : "\n");
		}
		for (int d = 0; d < depth; d++)
			sbuf_puts(b, "    ");
		sbuf_puts(b, "]");
		return;
	}
	default:
		sbuf_puts(b, json_object_to_json_string_ext(o, flags));
	}
}

enum inspect_kind { K_ANY, K_CONTAINER, K_IMAGE, K_NETWORK, K_VOLUME };

static int fetch(struct cli *cli, enum inspect_kind kind, const char *name, bool size, bool verbose,
		 json_object **ret, struct error **err)
{
	_cleanup_free_ char *e = url_escape(name, true);
	_cleanup_free_ char *path = NULL;
	switch (kind) {
	case K_CONTAINER:
		path = xasprintf("/containers/%s/json%s", e, size ? "?size=1" : "");
		break;
	case K_IMAGE:
		path = xasprintf("/images/%s/json", e);
		break;
	case K_NETWORK:
		path = xasprintf("/networks/%s%s", e, verbose ? "?verbose=true" : "");
		break;
	case K_VOLUME:
		path = xasprintf("/volumes/%s", e);
		break;
	default:
		return -EINVAL;
	}
	return cli_call(cli, "GET", path, NULL, ret, NULL, err);
}

static int inspect_main(struct cli *cli, int argc, char **argv, enum inspect_kind fixed)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *format = NULL, *type = NULL;
	_cleanup_(template_freep) struct template *t = NULL;
	_cleanup_json_ json_object *found = json_object_new_array();
	_cleanup_strv_free_ char **errors = NULL;
	bool size = false, verbose = false;
	enum inspect_kind kind = fixed;
	const struct flag flags_any[] = {
	    {"format", 'f', FLAG_STRING, &format, "Format output using a custom template"},
	    {"size", 's', FLAG_BOOL, &size, "Display total file sizes if the type is container"},
	    {"type", 0, FLAG_STRING, &type, "Only inspect objects of the given type"},
	};
	const struct flag flags_container[] = {
	    {"format", 'f', FLAG_STRING, &format, "Format output using a custom template"},
	    {"size", 's', FLAG_BOOL, &size, "Display total file sizes"},
	};
	const struct flag flags_image[] = {
	    {"format", 'f', FLAG_STRING, &format, "Format output using a custom template"},
	};
	const struct flag flags_network[] = {
	    {"format", 'f', FLAG_STRING, &format, "Format output using a custom template"},
	    {"verbose", 'v', FLAG_BOOL, &verbose, "Verbose output for diagnostics"},
	};
	int ret = 0;

	if (fixed == K_ANY) {
		CLI_FLAGS(cli, flags_any, FLAGS_INTERSPERSED, argc, argv, &args);
	} else if (fixed == K_CONTAINER) {
		CLI_FLAGS(cli, flags_container, FLAGS_INTERSPERSED, argc, argv, &args);
	} else if (fixed == K_NETWORK) {
		CLI_FLAGS(cli, flags_network, FLAGS_INTERSPERSED, argc, argv, &args);
	} else {
		CLI_FLAGS(cli, flags_image, FLAGS_INTERSPERSED, argc, argv, &args);
	}
	CLI_ARGS(cli_args_min(cli, args, 1));
	if (type) {
		if (streq(type, "container"))
			kind = K_CONTAINER;
		else if (streq(type, "image"))
			kind = K_IMAGE;
		else if (streq(type, "network"))
			kind = K_NETWORK;
		else if (streq(type, "volume"))
			kind = K_VOLUME;
		else {
			fprintf(stderr, "\"%s\" is not a valid value for --type\n", type);
			return 1;
		}
	}
	if (format && !streq(format, "json") && !isempty(format)) {
		struct error *err = NULL;
		if (template_parse(format, &t, &err) < 0) {
			fprintf(stderr, "template parsing error: %s\n", err->msg);
			error_free(err);
			return 1;
		}
	}

	for (char **a = args; *a; a++) {
		json_object *o = NULL;
		struct error *err = NULL;
		int r = -ENOENT;
		if (kind != K_ANY)
			r = fetch(cli, kind, *a, size, verbose, &o, &err);
		else {
			static const enum inspect_kind order[] = {K_CONTAINER, K_IMAGE, K_NETWORK,
								  K_VOLUME};
			for (size_t i = 0; i < ELEMENTSOF(order); i++) {
				error_free(err);
				err = NULL;
				r = fetch(cli, order[i], *a, size, false, &o, &err);
				if (r >= 0)
					break;
				/* only "not found"-like errors move on to the next type */
				if (r != -ENOENT && r != -EINVAL)
					break;
			}
			if (r == -ENOENT || r == -EINVAL) {
				error_free(err);
				err = NULL;
				r = error_setx(&err, -ENOENT, "Error: No such object: %s", *a);
			}
		}
		if (r < 0) {
			/* docker 28 prints the error as is ("Error response from daemon: ...") */
			errors = strv_append(errors, err ? err->msg : "error");
			error_free(err);
			ret = 1;
			continue;
		}
		json_object_array_add(found, o);
	}

	if (t) {
		for (size_t i = 0; i < json_object_array_length(found); i++) {
			struct sbuf out = {0};
			struct error *err = NULL;
			if (template_execute(t, json_object_array_get_idx(found, i), 0, &out,
					     &err) < 0) {
				fflush(stdout);
				fprintf(stderr, "%s\n", err->msg);
				error_free(err);
				sbuf_release(&out);
				return 1;
			}
			sbuf_puts(&out, "\n");
			fwrite(out.s, 1, out.len, stdout);
			sbuf_release(&out);
		}
		/* docker's template inspector writes a lone newline when nothing came out */
		if (json_object_array_length(found) == 0)
			printf("\n");
	} else if (format && streq(format, "json")) {
		/* docker's JSON inspector: one compact array */
		printf("%s\n", json_object_to_json_string_ext(
				   found, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		struct sbuf out = {0};
		json_pretty(&out, found, 0);
		sbuf_puts(&out, "\n");
		fwrite(out.s, 1, out.len, stdout);
		sbuf_release(&out);
	}
	fflush(stdout);
	for (char **e = errors; e && *e; e++)
		fprintf(stderr, "%s\n", *e);
	return ret;
}

int cmd_inspect(struct cli *cli, int argc, char **argv)
{
	return inspect_main(cli, argc, argv, K_ANY);
}

int cmd_container_inspect(struct cli *cli, int argc, char **argv)
{
	return inspect_main(cli, argc, argv, K_CONTAINER);
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv)
{
	return inspect_main(cli, argc, argv, K_IMAGE);
}

int cmd_network_inspect(struct cli *cli, int argc, char **argv)
{
	return inspect_main(cli, argc, argv, K_NETWORK);
}

int cmd_volume_inspect(struct cli *cli, int argc, char **argv)
{
	return inspect_main(cli, argc, argv, K_VOLUME);
}
