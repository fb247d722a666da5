/* SPDX-License-Identifier: Apache-2.0 */
/* berth version: the client section, then GET /version as docker prints it. */
#include <sys/utsname.h>
#include <time.h>

#include "internal.h"

static const char VERSION_TEMPLATE[] =
    "{{with .Client -}}\n"
    "Client:{{if ne .Platform.Name \"\"}} {{.Platform.Name}}{{end}}\n"
    " Version:\t{{.Version}}\n"
    " API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from "
    "{{.DefaultAPIVersion}}){{end}}\n"
    " Go version:\t{{.GoVersion}}\n"
    " Git commit:\t{{.GitCommit}}\n"
    " Built:\t{{.BuildTime}}\n"
    " OS/Arch:\t{{.Os}}/{{.Arch}}\n"
    " Context:\t{{.Context}}\n"
    "{{- end}}\n"
    "\n"
    "{{- if .ServerOK}}{{with .Server}}\n"
    "\n"
    "Server:{{if ne .Platform.Name \"\"}} {{.Platform.Name}}{{end}}\n"
    " {{- range $component := .Components}}\n"
    " {{$component.Name}}:\n"
    "  {{- if eq $component.Name \"Engine\" }}\n"
    "  Version:\t{{.Version}}\n"
    "  API version:\t{{index .Details \"ApiVersion\"}} (minimum version {{index .Details "
    "\"MinAPIVersion\"}})\n"
    "  Go version:\t{{index .Details \"GoVersion\"}}\n"
    "  Git commit:\t{{index .Details \"GitCommit\"}}\n"
    "  Built:\t{{index .Details \"BuildTime\"}}\n"
    "  OS/Arch:\t{{index .Details \"Os\"}}/{{index .Details \"Arch\"}}\n"
    "  Experimental:\t{{index .Details \"Experimental\"}}\n"
    "  {{- else }}\n"
    "  Version:\t{{$component.Version}}\n"
    "  {{- range $key, $value := $component.Details}}\n"
    "  {{$key}}:\t{{$value}}\n"
    "   {{- end}}\n"
    "  {{- end}}\n"
    " {{- end}}\n"
    " {{- end}}{{- end}}";

static const char *go_arch(void)
{
	static struct utsname u;
	if (uname(&u) < 0)
		return "unknown";
	if (streq(u.machine, "x86_64"))
		return "amd64";
	if (streq(u.machine, "aarch64"))
		return "arm64";
	if (startswith(u.machine, "armv7"))
		return "arm";
	return u.machine;
}

/* RFC 3339 → Go's time.ANSIC ("Mon Jan  2 15:04:05 2006"), as docker reformats BuildTime. */
static char *ansic(const char *rfc)
{
	int64_t ns;
	char buf[64];
	if (parse_rfc3339(rfc, &ns) < 0 || ns == 0)
		return xstrdup(rfc);
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
	return xstrdup(buf);
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_free_ char *format = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *data = json_object_new_object(), *server = NULL;
	_cleanup_(template_freep) struct template *t = NULL;
	struct sbuf out = {0}, aligned = {0};
	const struct flag flags[] = {
	    {"format", 'f', FLAG_STRING, &format, "Format output using a custom template"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 0));

	int r = cli_call(cli, "GET", "/version", NULL, &server, NULL, &err);
	json_object *client = json_object_new_object();
	json_object *plat = json_object_new_object();
	json_add_str(plat, "Name", "");
	json_object_object_add(client, "Platform", plat);
	json_add_str(client, "Version", BERTH_CLIENT_VERSION);
	json_add_str(client, "APIVersion", cli->api_version ? cli->api_version : BERTH_API_VERSION);
	json_add_str(client, "DefaultAPIVersion", BERTH_API_VERSION);
	json_add_str(client, "GoVersion", "n/a (C, " __VERSION__ ")");
	json_add_str(client, "GitCommit", "berth");
	json_add_str(client, "BuildTime", __DATE__ " " __TIME__);
	json_add_str(client, "Os", "linux");
	json_add_str(client, "Arch", go_arch());
	json_add_str(client, "Context", "default");
	json_object_object_add(data, "Client", client);
	json_add_bool(data, "ServerOK", r >= 0);
	if (r >= 0) {
		json_object *comps = jget(server, "Components");
		if (!json_object_is_type(comps, json_type_array) ||
		    json_object_array_length(comps) == 0) {
			/* synthesize the Engine component from the top-level fields */
			comps = json_object_new_array();
			json_object *eng = json_object_new_object(),
				    *det = json_object_new_object();
			json_add_str(eng, "Name", "Engine");
			json_add_str(eng, "Version", jstr(server, "Version"));
			static const char *const keys[] = {
			    "ApiVersion", "MinAPIVersion", "GitCommit", "GoVersion",
			    "Os",	  "Arch",	   "BuildTime", "KernelVersion"};
			for (size_t i = 0; i < ELEMENTSOF(keys); i++)
				json_add_str(det, keys[i], jstr(server, keys[i]));
			json_add_str(det, "Experimental",
				     jbool(server, "Experimental") ? "true" : "false");
			json_object_object_add(eng, "Details", det);
			json_object_array_add(comps, eng);
			json_object_object_add(server, "Components", comps);
		}
		for (size_t i = 0; i < json_object_array_length(comps); i++) {
			json_object *c = json_object_array_get_idx(comps, i);
			json_object *det = jget(c, "Details");
			if (streq(jstr(c, "Name"), "Engine") && det && *jstr(det, "BuildTime")) {
				_cleanup_free_ char *b = ansic(jstr(det, "BuildTime"));
				json_add_str(det, "BuildTime", b);
			}
		}
		if (!jget(server, "Platform")) {
			json_object *p = json_object_new_object();
			json_add_str(p, "Name", "");
			json_object_object_add(server, "Platform", p);
		}
		json_object_object_add(data, "Server", json_object_get(server));
	}

	struct error *terr = NULL;
	if (template_parse(format ? format : VERSION_TEMPLATE, &t, &terr) < 0) {
		fprintf(stderr, "template parsing error: %s\n", terr->msg);
		error_free(terr);
		return 1;
	}
	if (template_execute(t, data, 0, &out, &terr) < 0) {
		fprintf(stderr, "%s\n", terr->msg);
		error_free(terr);
		sbuf_release(&out);
		return 1;
	}
	sbuf_puts(&out, "\n");
	if (format)
		fwrite(out.s, 1, out.len, stdout);
	else {
		tabwriter_format(out.s, out.len, 20, 1, &aligned);
		fwrite(aligned.s, 1, aligned.len, stdout);
	}
	fflush(stdout);
	sbuf_release(&out);
	sbuf_release(&aligned);
	if (r < 0)
		return cli_fail(cli, err);
	return 0;
}
