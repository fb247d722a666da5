/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's command line: parsed by each of its images (berth-shim, berth-shim-monitor,
 * berth-shim --delete) and rebuilt by the one that executes the next.
 */
#include <getopt.h>
#include <limits.h>

#include "monitor.h"

int shim_parse_args(int argc, char **argv, struct shim_opts *o, struct error **err)
{
	static const struct option opts[] = {
	    {"id", required_argument, NULL, 'i'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"dir", required_argument, NULL, 'd'},
	    {"runtime-root", required_argument, NULL, 'r'},
	    {"cgroup-root", required_argument, NULL, 'c'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"log-path", required_argument, NULL, 'l'},
	    {"log-max-size", required_argument, NULL, 'm'},
	    {"log-max-files", required_argument, NULL, 'n'},
	    {"tty", no_argument, NULL, 't'},
	    {"open-stdin", no_argument, NULL, 'I'},
	    {"stdin-once", no_argument, NULL, 'O'},
	    {"exec-id", required_argument, NULL, 'e'},
	    {"process", required_argument, NULL, 'p'},
	    {"status-fd", required_argument, NULL, 'S'},
	    {"handover-fd", required_argument, NULL, 'H'},
	    {"delete", no_argument, NULL, 'D'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->status_fd = -1;
	o->handover_fd = -1;
	o->log_max_files = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->id = optarg;
			break;
		case 'b':
			o->bundle = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'r':
			o->runtime_root = optarg;
			break;
		case 'c':
			o->cgroup_root = optarg;
			break;
		case 's':
			o->systemd_cgroup = true;
			break;
		case 'l':
			o->log_path = optarg;
			break;
		case 'm':
			if (safe_atou64(optarg, &o->log_max_size) < 0)
				return error_setx(err, -EINVAL, "invalid --log-max-size '%s'",
						  optarg);
			break;
		case 'n':
			if (safe_atoi(optarg, &o->log_max_files) < 0 || o->log_max_files < 1)
				return error_setx(err, -EINVAL, "invalid --log-max-files '%s'",
						  optarg);
			break;
		case 't':
			o->tty = true;
			break;
		case 'I':
			o->open_stdin = true;
			break;
		case 'O':
			o->stdin_once = true;
			break;
		case 'e':
			o->exec_id = optarg;
			break;
		case 'p':
			o->process_path = optarg;
			break;
		case 'S':
			if (safe_atoi(optarg, &o->status_fd) < 0)
				return error_setx(err, -EINVAL, "invalid --status-fd '%s'", optarg);
			break;
		case 'H':
			if (safe_atoi(optarg, &o->handover_fd) < 0 || o->handover_fd < 0)
				return error_setx(err, -EINVAL, "invalid --handover-fd '%s'",
						  optarg);
			break;
		case 'D':
			o->delete_only = true;
			break;
		default:
			return error_setx(err, -EINVAL, "unknown option");
		}
	}
	if (!o->id || !o->dir || !o->runtime_root)
		return error_setx(err, -EINVAL, "--id, --dir and --runtime-root are required");
	if (!o->exec_id && !o->bundle)
		return error_setx(err, -EINVAL, "--bundle is required");
	if (o->exec_id && !o->process_path)
		return error_setx(err, -EINVAL, "--process is required with --exec-id");
	return 0;
}

static char **add(char **l, const char *name, const char *value)
{
	l = strv_append(l, name);
	return value ? strv_append(l, value) : l;
}

char **shim_opts_to_argv(const struct shim_opts *o)
{
	/* argv[0] stays: tools (and berthd's tests) know a container's shim by it. */
	char **l = strv_append(NULL, "berth-shim");
	char num[32];

	l = add(l, "--id", o->id);
	if (o->bundle)
		l = add(l, "--bundle", o->bundle);
	l = add(l, "--dir", o->dir);
	l = add(l, "--runtime-root", o->runtime_root);
	if (o->cgroup_root)
		l = add(l, "--cgroup-root", o->cgroup_root);
	if (o->systemd_cgroup)
		l = add(l, "--systemd-cgroup", NULL);
	if (o->log_path)
		l = add(l, "--log-path", o->log_path);
	if (o->log_max_size) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)o->log_max_size);
		l = add(l, "--log-max-size", num);
	}
	if (o->log_max_files != 1) {
		snprintf(num, sizeof(num), "%d", o->log_max_files);
		l = add(l, "--log-max-files", num);
	}
	if (o->tty)
		l = add(l, "--tty", NULL);
	if (o->open_stdin)
		l = add(l, "--open-stdin", NULL);
	if (o->stdin_once)
		l = add(l, "--stdin-once", NULL);
	if (o->exec_id)
		l = add(l, "--exec-id", o->exec_id);
	if (o->process_path)
		l = add(l, "--process", o->process_path);
	return l;
}

char *shim_image_path(const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return xasprintf("%s/%s", self, name);
}
