/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-runtime: an OCI runtime with runc's and crun's command line, so that
 * podman, containerd and CRI-O can drive it in their place.
 */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"

#define BERTH_VERSION "0.1.0"

static const struct command commands[] = {
    {"create", cmd_create, "create a container"},
    {"start", cmd_start, "start a created container"},
    {"run", cmd_run, "create and start a container"},
    {"state", cmd_state, "print the state of a container"},
    {"kill", cmd_kill, "send a signal to the container's init"},
    {"delete", cmd_delete, "delete a container"},
    {"exec", cmd_exec, "run a process in a container"},
    {"ps", cmd_ps, "list the processes of a container"},
    {"list", cmd_list, "list containers"},
    {"pause", cmd_pause, "freeze every process of a container"},
    {"resume", cmd_resume, "thaw a paused container"},
    {"update", cmd_update, "change a container's resources"},
    {"events", cmd_events, "print container statistics"},
    {"spec", cmd_spec, "write a default config.json"},
    {"features", cmd_features, "print what this runtime supports"},
};

static int log_fd_opened = -1;
static enum log_format log_format_opt = LOG_FORMAT_TEXT;

int fail(struct error *err)
{
	const char *msg = err && err->msg ? err->msg : "unknown error";
	if (log_fd_opened >= 0)
		log_error("%s", msg);
	fprintf(stderr, "berth-runtime: %s\n", msg);
	error_free(err);
	return 1;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	char buf[512];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_fd_opened >= 0)
		log_error("%s", buf);
	fprintf(stderr, "berth-runtime: %s\n", buf);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: berth-runtime [global options] COMMAND [options] [ID]\n\n"
		   "An OCI runtime (runc and crun compatible command line).\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR            state directory (default /run/berth-runtime)\n"
		   "  --log FILE            log file\n"
		   "  --log-format FORMAT   text or json\n"
		   "  --debug               debug logging\n"
		   "  --systemd-cgroup      cgroupsPath is slice:prefix:name\n"
		   "  --cgroup-manager MGR  cgroupfs, systemd or disabled\n"
		   "  --version             print the version\n");
}

int main(int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"debug", no_argument, NULL, 'd'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"cgroup-manager", required_argument, NULL, 'c'},
	    {"rootless", required_argument, NULL, 'R'},
	    {"criu", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct runtime_ctx ctx = {.state_root = "/run/berth-runtime",
				  .cgroup_root = "/sys/fs/cgroup"};
	const char *log_path = NULL;
	bool debug = false;
	int c;

	/* Stop at the command name: its options are parsed by the command. */
	while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			ctx.state_root = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'f':
			if (streq(optarg, "json"))
				log_format_opt = LOG_FORMAT_JSON;
			else if (streq(optarg, "text"))
				log_format_opt = LOG_FORMAT_TEXT;
			else
				return usage_error("unknown log format '%s'", optarg);
			break;
		case 'L':
			debug = streq(optarg, "debug");
			break;
		case 'd':
			debug = true;
			break;
		case 's':
			ctx.systemd_cgroup = true;
			break;
		case 'c':
			if (streq(optarg, "systemd"))
				ctx.systemd_cgroup = true;
			else if (streq(optarg, "disabled"))
				ctx.cgroup_root = NULL;
			else if (!streq(optarg, "cgroupfs"))
				return usage_error("unknown cgroup manager '%s'", optarg);
			break;
		case 'R':
		case 'C':
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION, OCI_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (log_path) {
		log_fd_opened = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd_opened < 0)
			return usage_error("open log file '%s': %s", log_path, strerror(errno));
		log_setup(log_fd_opened, debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, log_format_opt);
	} else {
		log_setup(STDERR_FILENO, debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	}
	ctx.debug = debug;
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(commands[i].name, name)) {
			/* Commands that enter a container run from a sealed copy of the
			 * binary (CVE-2019-5736). */
			if (streq(name, "create") || streq(name, "run") || streq(name, "exec")) {
				int k = runtime_ensure_cloned_binary(argv, envp);
				if (k < 0)
					return usage_error("cannot run from a sealed copy of the "
							   "binary: %s",
							   strerror(-k));
			}
			/* The command sees its own name as argv[0]. */
			return commands[i].fn(&ctx, argc - optind, argv + optind, envp);
		}
	if (streq(name, "version") || streq(name, "--version")) {
		printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION, OCI_VERSION);
		return 0;
	}
	if (streq(name, "help")) {
		usage(stdout);
		return 0;
	}
	return usage_error("unknown command '%s'", name);
}
