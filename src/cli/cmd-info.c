/* SPDX-License-Identifier: Apache-2.0 */
/* berth info: GET /info printed like docker's prettyPrintInfo (or --format). */
#include <ctype.h>

#include "internal.h"

static void print_list(const char *title, json_object *a, const char *indent)
{
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) == 0)
		return;
	printf("%s%s:", indent, title);
	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(a, i)));
	printf("\n");
}

static void print_server(json_object *o)
{
	printf("Server:\n");
	printf(" Containers: %" PRId64 "\n", jint(o, "Containers"));
	printf("  Running: %" PRId64 "\n", jint(o, "ContainersRunning"));
	printf("  Paused: %" PRId64 "\n", jint(o, "ContainersPaused"));
	printf("  Stopped: %" PRId64 "\n", jint(o, "ContainersStopped"));
	printf(" Images: %" PRId64 "\n", jint(o, "Images"));
	printf(" Server Version: %s\n", jstr(o, "ServerVersion"));
	printf(" Storage Driver: %s\n", jstr(o, "Driver"));
	json_object *ds = jget(o, "DriverStatus");
	for (size_t i = 0;
	     json_object_is_type(ds, json_type_array) && i < json_object_array_length(ds); i++) {
		json_object *p = json_object_array_get_idx(ds, i);
		if (json_object_array_length(p) >= 2)
			printf("  %s: %s\n",
			       json_object_get_string(json_object_array_get_idx(p, 0)),
			       json_object_get_string(json_object_array_get_idx(p, 1)));
	}
	printf(" Logging Driver: %s\n", jstr(o, "LoggingDriver"));
	printf(" Cgroup Driver: %s\n", jstr(o, "CgroupDriver"));
	printf(" Cgroup Version: %s\n", jstr(o, "CgroupVersion"));
	printf(" Plugins:\n");
	print_list("Volume", jget(o, "Plugins.Volume"), "  ");
	print_list("Network", jget(o, "Plugins.Network"), "  ");
	print_list("Authorization", jget(o, "Plugins.Authorization"), "  ");
	print_list("Log", jget(o, "Plugins.Log"), "  ");
	printf(" Swarm: %s\n",
	       *jstr(o, "Swarm.LocalNodeState") ? jstr(o, "Swarm.LocalNodeState") : "inactive");
	json_object *rt = jget(o, "Runtimes");
	if (json_object_is_type(rt, json_type_object)) {
		printf(" Runtimes:");
		json_object_object_foreach(rt, k, v)
		{
			(void)v;
			printf(" %s", k);
		}
		printf("\n");
	}
	printf(" Default Runtime: %s\n", jstr(o, "DefaultRuntime"));
	printf(" Init Binary: %s\n", jstr(o, "InitBinary"));
	printf(" containerd version: %s\n", jstr(o, "ContainerdCommit.ID"));
	printf(" runc version: %s\n", jstr(o, "RuncCommit.ID"));
	printf(" init version: %s\n", jstr(o, "InitCommit.ID"));
	json_object *so = jget(o, "SecurityOptions");
	if (json_object_is_type(so, json_type_array) && json_object_array_length(so)) {
		printf(" Security Options:\n");
		for (size_t i = 0; i < json_object_array_length(so); i++) {
			_cleanup_free_ char *s =
			    xstrdup(json_object_get_string(json_object_array_get_idx(so, i)));
			/* "name=seccomp,profile=builtin" */
			bool first = true;
			for (char *kv = strtok(s, ","); kv; kv = strtok(NULL, ",")) {
				char *eq = strchr(kv, '=');
				if (!eq)
					continue;
				*eq = 0;
				if (first && streq(kv, "name"))
					printf("  %s\n", eq + 1);
				else if (*(eq + 1)) {
					kv[0] = (char)toupper((unsigned char)kv[0]);
					printf("   %s: %s\n", kv, eq + 1);
				}
				first = false;
			}
		}
	}
	printf(" Kernel Version: %s\n", jstr(o, "KernelVersion"));
	printf(" Operating System: %s\n", jstr(o, "OperatingSystem"));
	printf(" OSType: %s\n", jstr(o, "OSType"));
	printf(" Architecture: %s\n", jstr(o, "Architecture"));
	printf(" CPUs: %" PRId64 "\n", jint(o, "NCPU"));
	_cleanup_free_ char *mem = format_bytes_size((double)jint(o, "MemTotal"));
	printf(" Total Memory: %s\n", mem);
	printf(" Name: %s\n", jstr(o, "Name"));
	printf(" ID: %s\n", jstr(o, "ID"));
	printf(" Docker Root Dir: %s\n", jstr(o, "DockerRootDir"));
	printf(" Debug Mode: %s\n", jbool(o, "Debug") ? "true" : "false");
	if (*jstr(o, "HttpProxy"))
		printf(" HTTP Proxy: %s\n", jstr(o, "HttpProxy"));
	if (*jstr(o, "HttpsProxy"))
		printf(" HTTPS Proxy: %s\n", jstr(o, "HttpsProxy"));
	if (*jstr(o, "NoProxy"))
		printf(" No Proxy: %s\n", jstr(o, "NoProxy"));
	json_object *labels = jget(o, "Labels");
	if (json_object_is_type(labels, json_type_array) && json_object_array_length(labels)) {
		printf(" Labels:\n");
		for (size_t i = 0; i < json_object_array_length(labels); i++)
			printf("  %s\n",
			       json_object_get_string(json_object_array_get_idx(labels, i)));
	}
	printf(" Experimental: %s\n", jbool(o, "ExperimentalBuild") ? "true" : "false");
	json_object *ins = jget(o, "RegistryConfig.InsecureRegistryCIDRs");
	if (json_object_is_type(ins, json_type_array) && json_object_array_length(ins)) {
		printf(" Insecure Registries:\n");
		for (size_t i = 0; i < json_object_array_length(ins); i++)
			printf("  %s\n", json_object_get_string(json_object_array_get_idx(ins, i)));
	}
	json_object *mir = jget(o, "RegistryConfig.Mirrors");
	if (json_object_is_type(mir, json_type_array) && json_object_array_length(mir)) {
		printf(" Registry Mirrors:\n");
		for (size_t i = 0; i < json_object_array_length(mir); i++)
			printf("  %s\n", json_object_get_string(json_object_array_get_idx(mir, i)));
	}
	printf(" Live Restore Enabled: %s\n", jbool(o, "LiveRestoreEnabled") ? "true" : "false");
	json_object *pools = jget(o, "DefaultAddressPools");
	if (json_object_is_type(pools, json_type_array) && json_object_array_length(pools)) {
		printf(" Default Address Pools:\n");
		for (size_t i = 0; i < json_object_array_length(pools); i++) {
			json_object *p = json_object_array_get_idx(pools, i);
			printf("   Base: %s, Size: %" PRId64 "\n", jstr(p, "Base"),
			       jint(p, "Size"));
		}
	}
	printf("\n");
	fflush(stdout);
	json_object *w = jget(o, "Warnings");
	for (size_t i = 0;
	     json_object_is_type(w, json_type_array) && i < json_object_array_length(w); i++)
		fprintf(stderr, "%s\n", json_object_get_string(json_object_array_get_idx(w, i)));
}

int cmd_info(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *format = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *o = NULL;
	const struct flag flags[] = {
	    {"format", 'f', FLAG_STRING, &format, "Format output using a custom template"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));
	int r = cli_call(cli, "GET", "/info", NULL, &o, NULL, &err);
	if (format) {
		_cleanup_(formatter_freep) struct formatter *f = NULL;
		struct error *e = NULL;
		if (r < 0)
			return cli_fail(cli, err);
		if (formatter_new(format, "{{json .}}", NULL, 0, &f, &e) < 0 ||
		    formatter_row(f, o, &e) < 0) {
			fprintf(stderr, "%s\n", e->msg);
			error_free(e);
			return 1;
		}
		formatter_finish(f, stdout);
		return 0;
	}
	printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: %s\n\n",
	       BERTH_CLIENT_VERSION, cli->debug ? "true" : "false");
	if (r < 0) {
		printf("Server:\n");
		fflush(stdout);
		fprintf(stderr, "ERROR: %s\nerrors pretty printing info\n", err->msg);
		return 1;
	}
	print_server(o);
	return 0;
}
