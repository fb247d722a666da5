/* SPDX-License-Identifier: Apache-2.0 */
/* berth port: the published ports from the container's inspect, as docker lists them. */
#include "internal.h"

static int line_cmp(const void *a, const void *b)
{
	return natural_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* net.JoinHostPort */
static char *join_host_port(json_object *binding)
{
	const char *ip = jstr(binding, "HostIp");
	bool v6 = strchr(ip, ':') != NULL;
	return xasprintf("%s%s%s:%s", v6 ? "[" : "", ip, v6 ? "]" : "", jstr(binding, "HostPort"));
}

int cmd_port(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL, **out = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *c = NULL;
	_cleanup_free_ char *want = NULL;
	const struct flag flags[] = {};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_range(cli, args, 1, 2));
	if (container_inspect(cli, args[0], &c, &err) < 0)
		return cli_fail(cli, err);
	json_object *ports = jget(c, "NetworkSettings.Ports");
	if (!json_object_is_type(ports, json_type_object))
		ports = NULL;

	if (args[1]) {
		/* "80", "80/udp": the port must be a number (strconv.ParseUint, 16 bits) */
		size_t n = strcspn(args[1], "/");
		_cleanup_free_ char *port = xstrndup(args[1], n);
		const char *proto = args[1][n] && args[1][n + 1] ? args[1] + n + 1 : "tcp";
		uint64_t v;
		if (!*port || strspn(port, "0123456789") != n) {
			fprintf(
			    stderr,
			    "Error: invalid port (%s): strconv.ParseUint: parsing \"%s\": invalid "
			    "syntax\n",
			    port, port);
			return 1;
		}
		if (safe_atou64(port, &v) < 0 || v > 65535) {
			fprintf(stderr,
				"Error: invalid port (%s): strconv.ParseUint: parsing \"%s\": "
				"value out "
				"of range\n",
				port, port);
			return 1;
		}
		want = xasprintf("%s/%s", port, proto);
		json_object *frontends = ports ? json_object_object_get(ports, want) : NULL;
		size_t nf = json_object_is_type(frontends, json_type_array)
				? json_object_array_length(frontends)
				: 0;
		if (nf == 0) {
			fprintf(stderr, "Error: No public port '%s' published for %s\n", args[1],
				args[0]);
			return 1;
		}
		for (size_t i = 0; i < nf; i++) {
			_cleanup_free_ char *hp =
			    join_host_port(json_object_array_get_idx(frontends, i));
			out = strv_append(out, hp);
		}
	} else if (ports) {
		json_object_object_foreach(ports, key, val)
		{
			if (!json_object_is_type(val, json_type_array))
				continue;
			for (size_t i = 0; i < json_object_array_length(val); i++) {
				_cleanup_free_ char *hp =
				    join_host_port(json_object_array_get_idx(val, i));
				_cleanup_free_ char *line = xasprintf("%s -> %s", key, hp);
				out = strv_append(out, line);
			}
		}
	}
	if (out)
		qsort(out, strv_length(out), sizeof(char *), line_cmp);
	for (char **l = out; l && *l; l++)
		printf("%s\n", *l);
	return 0;
}
