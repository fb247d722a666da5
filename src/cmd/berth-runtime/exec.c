/* SPDX-License-Identifier: Apache-2.0 */
/* exec */
#include <getopt.h>

#include "cmd.h"

static int parse_user(const char *s, struct oci_user *u)
{
	_cleanup_free_ char *d = xstrdup(s);
	char *colon = strchr(d, ':');
	uint64_t v;

	if (colon)
		*colon = 0;
	if (safe_atou64(d, &v) < 0 || v > UINT32_MAX - 1)
		return usage_error("invalid user '%s': must be uid[:gid] with numeric ids", s);
	u->uid = (uint32_t)v;
	if (colon) {
		if (safe_atou64(colon + 1, &v) < 0 || v > UINT32_MAX - 1)
			return usage_error("invalid user '%s': must be uid[:gid] with numeric ids",
					   s);
		u->gid = (uint32_t)v;
	}
	return 0;
}

int cmd_exec(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
	    {"console-socket", required_argument, NULL, 'S'},
	    {"cwd", required_argument, NULL, 'w'},
	    {"env", required_argument, NULL, 'e'},
	    {"tty", no_argument, NULL, 't'},
	    {"user", required_argument, NULL, 'u'},
	    {"additional-gids", required_argument, NULL, 'g'},
	    {"process", required_argument, NULL, 'p'},
	    {"detach", no_argument, NULL, 'd'},
	    {"pid-file", required_argument, NULL, 'P'},
	    {"process-label", required_argument, NULL, 'l'},
	    {"apparmor", required_argument, NULL, 'a'},
	    {"no-new-privs", no_argument, NULL, 'n'},
	    {"cap", required_argument, NULL, 'c'},
	    {"preserve-fds", required_argument, NULL, 'f'},
	    {"ignore-paused", no_argument, NULL, 'i'},
	    {"cgroup", required_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	struct runtime_exec_opts o = {0};
	struct error *err = NULL;
	_cleanup_(oci_spec_freep) struct oci_spec *spec = NULL;
	struct oci_process *p = NULL;
	_cleanup_strv_free_ char **envs = NULL, **caps = NULL;
	_cleanup_free_ uint32_t *gids = NULL;
	size_t n_gids = 0;
	const char *process_file = NULL, *cwd = NULL, *user = NULL, *id;
	bool tty = false, nnp = false;
	int c, status = 0, r;

	optind = 1;
	/* '+': the command's own arguments after the id are not ours. */
	while ((c = getopt_long_only(argc, argv, "+e:tu:g:p:dc:", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			o.console_socket = optarg;
			break;
		case 'w':
			cwd = optarg;
			break;
		case 'e':
			envs = strv_append(envs, optarg);
			break;
		case 't':
			tty = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'g': {
			uint64_t v;
			if (safe_atou64(optarg, &v) < 0 || v > UINT32_MAX)
				return usage_error("invalid additional gid '%s'", optarg);
			gids = xrealloc(gids, sizeof(uint32_t) * (n_gids + 1));
			gids[n_gids++] = (uint32_t)v;
			break;
		}
		case 'p':
			process_file = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'P':
			o.pid_file = optarg;
			break;
		case 'n':
			nnp = true;
			break;
		case 'c':
			caps = strv_append(caps, optarg);
			break;
		case 'f':
			if (safe_atoi(optarg, &o.preserve_fds) < 0 || o.preserve_fds < 0)
				return usage_error("invalid --preserve-fds '%s'", optarg);
			break;
		case 'l':
		case 'a':
		case 'i':
		case 'C':
			break;
		default:
			return 1;
		}
	}
	if (!(id = arg_id(argc, argv, "exec")))
		return 1;

	if (process_file) {
		_cleanup_json_ json_object *doc = NULL;
		if (json_parse_file(process_file, 16 << 20, &doc, &err) < 0 ||
		    oci_process_parse(doc, &p, &err) < 0)
			return fail(err);
		if (o.console_socket && !p->terminal)
			p->terminal = false;
	} else {
		if (optind + 1 >= argc)
			return usage_error("exec: no command given");
		if (runtime_load_spec(ctx, id, &spec, &err) < 0)
			return fail(err);
		p = TAKE_PTR(spec->process);
		if (!p)
			return usage_error("container '%s' has no process to base exec on", id);
		strv_free(p->args);
		p->args = strv_copy(argv + optind + 1);
		p->terminal = tty;
		p->has_console_size = false;
		for (char **e = envs; e && *e; e++)
			p->env = strv_append(p->env, *e);
		if (cwd) {
			free(p->cwd);
			p->cwd = xstrdup(cwd);
		}
		if (user && parse_user(user, &p->user))
			goto fail;
		if (n_gids) {
			free(p->user.additional_gids);
			p->user.additional_gids = TAKE_PTR(gids);
			p->user.n_additional_gids = n_gids;
		}
		if (nnp)
			p->no_new_privileges = true;
		for (char **cp = caps; cp && *cp; cp++) {
			struct oci_capabilities *cs = &p->capabilities;
			cs->present = true;
			cs->bounding = strv_append(cs->bounding, *cp);
			cs->effective = strv_append(cs->effective, *cp);
			cs->permitted = strv_append(cs->permitted, *cp);
			cs->ambient = strv_append(cs->ambient, *cp);
			cs->inheritable = strv_append(cs->inheritable, *cp);
		}
	}
	r = runtime_exec(ctx, id, p, &o, &status, &err);
	oci_process_free(p);
	if (r < 0)
		return fail(err);
	return status;
fail:
	oci_process_free(p);
	return 1;
}
