/* SPDX-License-Identifier: Apache-2.0 */
/* berth port: the published ports from the container's inspect. */
#include "internal.h"

int cmd_port(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *c = NULL;
	const struct flag flags[] = {};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_range(cli, args, 1, 2));
	if (container_inspect(cli, args[0], &c, &err) < 0)
		return cli_fail(cli, err);
	json_object *ports = jget(c, "NetworkSettings.Ports");
	_cleanup_free_ char *want = NULL;
	if (args[1])
		want = strchr(args[1], '/') ? xstrdup(args[1]) : xasprintf("%s/tcp", args[1]);
	bool found = false;
	if (json_object_is_type(ports, json_type_object)) {
		json_object_object_foreach(ports, key, val)
		{
			if (want && !streq(key, want))
				continue;
			for (size_t i = 0; val && i < json_object_array_length(val); i++) {
				json_object *b = json_object_array_get_idx(val, i);
				const char *ip = jstr(b, "HostIp");
				bool v6 = strchr(ip, ':') != NULL;
				if (want)
					printf("%s%s%s:%s\n", v6 ? "[" : "", ip, v6 ? "]" : "",
					       jstr(b, "HostPort"));
				else
					printf("%s -> %s%s%s:%s\n", key, v6 ? "[" : "", ip,
					       v6 ? "]" : "", jstr(b, "HostPort"));
				found = true;
			}
		}
	}
	if (want && !found) {
		fprintf(stderr, "Error: No public port '%s' published for %s\n", want, args[0]);
		return 1;
	}
	return 0;
}
