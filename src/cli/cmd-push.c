/* SPDX-License-Identifier: Apache-2.0 */
/* berth push: POST /images/{name}/push?tag=, progress like docker's; --all-tags sends no tag,
 * as docker does, and the daemon pushes every tag of the repository. */
#include "container-opts.h"

/* docker sends the familiar name: "busybox", "user/x", "host:5000/x" */
static const char *familiar(const char *name)
{
	if (startswith(name, "docker.io/library/"))
		return name + strlen("docker.io/library/");
	if (startswith(name, "docker.io/"))
		return name + strlen("docker.io/");
	return name;
}

static int push_all_tags(struct cli *cli, const char *ref, bool quiet, FILE *out,
			 struct error **err)
{
	_cleanup_free_ char *name = NULL, *tag = NULL, *esc = NULL, *path = NULL, *key = NULL,
			    *hdr = NULL;
	struct cli_resp r = {.fd = -1};
	int k;

	if (image_ref_split(ref, &name, &tag) < 0)
		return error_setx(err, -EINVAL, "invalid reference format");
	esc = url_escape(familiar(name), true);
	path = xasprintf("/images/%s/push", esc);
	key = cli_registry_of_ref(ref);
	hdr = cli_auth_header(cli, key);
	k = cli_request(cli, "POST", path, NULL, NULL, 0, -1, hdr, &r, err);
	if (k < 0)
		return k;
	k = cli_resp_check(&r, err);
	if (k >= 0) {
		FILE *o = quiet ? fopen("/dev/null", "we") : out;
		k = stream_jsonmessages(&r.conn, o ? o : out, !quiet && term_isatty(fileno(out)),
					NULL, NULL, err);
		if (quiet && o)
			fclose(o);
	}
	cli_resp_close(&r);
	return k;
}

int cmd_push(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *platform = NULL;
	bool all_tags = false, quiet = false;
	const struct flag flags[] = {
	    {"all-tags", 'a', FLAG_BOOL, &all_tags, "Push all tags of an image to the repository"},
	    {"platform", 0, FLAG_STRING, &platform,
	     "Push a platform-specific manifest as a single-platform image to the registry"},
	    {"quiet", 'q', FLAG_BOOL, &quiet, "Suppress verbose output"},
	};
	int r;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_exact(cli, args, 1));
	const char *slash = strrchr(args[0], '/');
	const char *colon = strrchr(args[0], ':');
	bool tagged = strchr(args[0], '@') || (colon && (!slash || colon > slash));
	if (all_tags && tagged) {
		fprintf(stderr, "tag can't be used with --all-tags/-a\n");
		return 1;
	}
	if (!tagged && !all_tags && !quiet)
		printf("Using default tag: latest\n");
	fflush(stdout);
	if (all_tags)
		r = push_all_tags(cli, args[0], quiet, stdout, &err);
	else
		r = image_push(cli, args[0], quiet, stdout, &err);
	if (r < 0)
		return cli_fail(cli, err);
	if (quiet) {
		/* the reference as docker prints it: normalised, the default tag made explicit */
		_cleanup_free_ char *name = NULL, *tag = NULL;
		if (image_ref_split(args[0], &name, &tag) < 0)
			printf("%s\n", args[0]);
		else if (all_tags)
			printf("%s\n", name);
		else
			printf("%s%s%s\n", name, strchr(args[0], '@') ? "@" : ":", tag);
	}
	return 0;
}
