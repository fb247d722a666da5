/* SPDX-License-Identifier: Apache-2.0 */
/* state, kill, delete, list, ps, pause, resume, update, events */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "cmd.h"

const char *arg_id(int argc, char **argv, const char *cmd)
{
	if (optind >= argc) {
		usage_error("\"%s\" requires a container id", cmd);
		return NULL;
	}
	return argv[optind];
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},	   {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT}, {"IOT", SIGIOT},	     {"BUS", SIGBUS},
    {"FPE", SIGFPE},	   {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},	   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},	   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int parse_signal(const char *s)
{
	int n;
	const char *name = startswith(s, "SIG") ? s + 3 : s;
	if (safe_atoi(s, &n) >= 0)
		return n > 0 && n < 65 ? n : -1;
	if (startswith(name, "RTMIN")) {
		int off = 0;
		if (name[5] == '+' && safe_atoi(name + 6, &off) < 0)
			return -1;
		return SIGRTMIN + off <= SIGRTMAX ? SIGRTMIN + off : -1;
	}
	for (size_t i = 0; i < ELEMENTSOF(signals); i++)
		if (strcasecmp(signals[i].name, name) == 0)
			return signals[i].sig;
	return -1;
}

static int no_options(int argc, char **argv)
{
	optind = 1;
	return getopt_long_only(argc, argv, "", (struct option[]){{NULL, 0, NULL, 0}}, NULL) != -1;
}

int cmd_state(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct error *err = NULL;
	json_object *o;
	const char *id;
	if (no_options(argc, argv) || !(id = arg_id(argc, argv, "state")))
		return 1;
	if (runtime_state(ctx, id, &o, &err) < 0)
		return fail(err);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

int cmd_kill(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"pid", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct error *err = NULL;
	bool all = false;
	int c, sig = SIGTERM;
	const char *id;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, "a", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c != 'p')
			return 1;
	}
	if (!(id = arg_id(argc, argv, "kill")))
		return 1;
	if (optind + 1 < argc) {
		sig = parse_signal(argv[optind + 1]);
		if (sig < 0)
			return usage_error("unknown signal '%s'", argv[optind + 1]);
	}
	if (runtime_kill(ctx, id, sig, all, &err) < 0)
		return fail(err);
	return 0;
}

int cmd_delete(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct error *err = NULL;
	bool force = false;
	int c;
	const char *id;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, "f", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else
			return 1;
	}
	if (!(id = arg_id(argc, argv, "delete")))
		return 1;
	if (runtime_delete(ctx, id, force, &err) < 0)
		return fail(err);
	return 0;
}

static int parse_format(int argc, char **argv, bool *json, bool *quiet)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f') {
			if (streq(optarg, "json"))
				*json = true;
			else if (!streq(optarg, "table"))
				return usage_error("invalid format '%s'", optarg);
		} else if (c == 'q' && quiet) {
			*quiet = true;
		} else {
			return 1;
		}
	}
	return 0;
}

int cmd_list(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct error *err = NULL;
	bool json = false, quiet = false;
	json_object *a;

	if (parse_format(argc, argv, &json, &quiet))
		return 1;
	if (runtime_list(ctx, &a, &err) < 0)
		return fail(err);
	if (json) {
		puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		if (!quiet)
			printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
			       "CREATED", "OWNER");
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *s = json_object_array_get_idx(a, i), *v;
			const char *f[5];
			const char *keys[] = {"id", "pid", "status", "bundle", "created"};
			for (int k = 0; k < 5; k++)
				f[k] = json_object_object_get_ex(s, keys[k], &v)
					   ? json_object_get_string(v)
					   : "";
			if (quiet)
				puts(f[0]);
			else
				printf("%-12s %-8s %-10s %-40s %-30s %s\n", f[0], f[1], f[2], f[3],
				       f[4], "root");
		}
	}
	json_object_put(a);
	return 0;
}

int cmd_ps(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct error *err = NULL;
	bool json = false;
	pid_t *pids = NULL;
	size_t n = 0;
	const char *id;

	if (parse_format(argc, argv, &json, NULL) || !(id = arg_id(argc, argv, "ps")))
		return 1;
	if (runtime_ps(ctx, id, &pids, &n, &err) < 0)
		return fail(err);
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
	} else {
		/* runc runs ps(1) with the given options and keeps the container's rows. */
		_cleanup_free_ char *list = xstrdup("");
		for (size_t i = 0; i < n; i++) {
			char *nl = xasprintf("%s%s%d", list, i ? "," : "", (int)pids[i]);
			free(list);
			list = nl;
		}
		fflush(stdout);
		if (n == 0) {
			printf("PID   TTY      TIME CMD\n");
		} else {
			char *args[64] = {"ps", "-o", "pid,tty,time,cmd", "-p", list};
			int na = 5;
			if (optind + 1 < argc) {
				na = 1;
				for (int i = optind + 1; i < argc && na < 60; i++)
					args[na++] = argv[i];
				args[na++] = "-p";
				args[na++] = list;
			}
			args[na] = NULL;
			pid_t pid = fork();
			if (pid == 0) {
				execvp("ps", args);
				_exit(127);
			}
			int status;
			waitpid(pid, &status, 0);
		}
	}
	free(pids);
	return 0;
}

int cmd_pause(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct error *err = NULL;
	const char *id;
	if (no_options(argc, argv) || !(id = arg_id(argc, argv, "pause")))
		return 1;
	if (runtime_pause(ctx, id, &err) < 0)
		return fail(err);
	return 0;
}

int cmd_resume(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	struct error *err = NULL;
	const char *id;
	if (no_options(argc, argv) || !(id = arg_id(argc, argv, "resume")))
		return 1;
	if (runtime_resume(ctx, id, &err) < 0)
		return fail(err);
	return 0;
}

static int opt_i64(const char *s, struct opt_i64 *o, const char *name)
{
	if (safe_atoi64(s, &o->v) < 0)
		return usage_error("invalid value for --%s: '%s'", name, s);
	o->set = true;
	return 0;
}

/* A size as runc takes it (docker's RAMInBytes): "-1", "1024", "64m", "64MiB", "1g"... */
static int opt_bytes(const char *s, struct opt_i64 *o, const char *name)
{
	static const char units[] = "kmgtp";
	char *end;
	double v;
	int64_t mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || (!isdigit((unsigned char)s[0]) && s[0] != '-'))
		return usage_error("invalid value for --%s: '%s'", name, s);
	if (*end) {
		const char *u = strchr(units, tolower((unsigned char)*end));
		if (!u)
			return usage_error("invalid value for --%s: '%s'", name, s);
		for (const char *k = units; k <= u; k++)
			mult *= 1024;
		end++;
		if (strcasecmp(end, "") && strcasecmp(end, "b") && strcasecmp(end, "ib"))
			return usage_error("invalid value for --%s: '%s'", name, s);
	}
	if (v * (double)mult > 9.2e18)
		return usage_error("invalid value for --%s: '%s'", name, s);
	o->v = (int64_t)(v * (double)mult);
	o->set = true;
	return 0;
}

static int opt_u64(const char *s, struct opt_u64 *o, const char *name)
{
	if (safe_atou64(s, &o->v) < 0)
		return usage_error("invalid value for --%s: '%s'", name, s);
	o->set = true;
	return 0;
}

int cmd_update(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'r'},
	    {"memory", required_argument, NULL, 'm'},
	    {"memory-reservation", required_argument, NULL, 'M'},
	    {"memory-swap", required_argument, NULL, 's'},
	    {"cpu-shares", required_argument, NULL, 'S'},
	    {"cpu-quota", required_argument, NULL, 'q'},
	    {"cpu-period", required_argument, NULL, 'P'},
	    {"cpuset-cpus", required_argument, NULL, 'c'},
	    {"cpuset-mems", required_argument, NULL, 'e'},
	    {"pids-limit", required_argument, NULL, 'p'},
	    {"blkio-weight", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct error *err = NULL;
	struct oci_resources res = {0};
	_cleanup_(oci_spec_freep) struct oci_spec *holder = NULL;
	const char *resources = NULL, *id;
	int c, r = 0;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, "r:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			resources = optarg;
			break;
		case 'm':
			r = opt_bytes(optarg, &res.memory.limit, "memory");
			res.memory.present = true;
			break;
		case 'M':
			r = opt_bytes(optarg, &res.memory.reservation, "memory-reservation");
			res.memory.present = true;
			break;
		case 's':
			r = opt_bytes(optarg, &res.memory.swap, "memory-swap");
			res.memory.present = true;
			break;
		case 'S':
			r = opt_u64(optarg, &res.cpu.shares, "cpu-shares");
			res.cpu.present = true;
			break;
		case 'q':
			r = opt_i64(optarg, &res.cpu.quota, "cpu-quota");
			res.cpu.present = true;
			break;
		case 'P':
			r = opt_u64(optarg, &res.cpu.period, "cpu-period");
			res.cpu.present = true;
			break;
		case 'c':
			free(res.cpu.cpus);
			res.cpu.cpus = xstrdup(optarg);
			res.cpu.present = true;
			break;
		case 'e':
			free(res.cpu.mems);
			res.cpu.mems = xstrdup(optarg);
			res.cpu.present = true;
			break;
		case 'p':
			r = opt_i64(optarg, &res.pids.limit, "pids-limit");
			res.pids.present = true;
			break;
		case 'w':
			r = opt_u64(optarg, &res.block_io.weight, "blkio-weight");
			res.block_io.present = true;
			break;
		default:
			return 1;
		}
		if (r)
			return 1;
	}
	if (!(id = arg_id(argc, argv, "update")))
		return 1;
	if (resources) {
		/* Parse the resources document through the spec parser's own tables. */
		_cleanup_free_ char *buf = NULL, *doc = NULL;
		_cleanup_json_ json_object *o = NULL;
		size_t len;
		int k = streq(resources, "-")
			    ? read_file_at(AT_FDCWD, "/dev/stdin", 1 << 20, &buf, &len)
			    : read_file_at(AT_FDCWD, resources, 1 << 20, &buf, &len);
		if (k < 0)
			return usage_error("read '%s': %s", resources, strerror(-k));
		doc = xasprintf("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/\"},"
				"\"linux\":{\"resources\":%s}}",
				buf);
		if (json_parse_buffer(doc, strlen(doc), &o, &err) < 0 ||
		    oci_spec_parse(o, &holder, &err) < 0)
			return fail(err);
		res = holder->linux.resources;
		if (runtime_update(ctx, id, &res, &err) < 0)
			return fail(err);
		return 0;
	}
	r = runtime_update(ctx, id, &res, &err);
	free(res.cpu.cpus);
	free(res.cpu.mems);
	if (r < 0)
		return fail(err);
	return 0;
}

int cmd_events(const struct runtime_ctx *ctx, int argc, char **argv, char **envp)
{
	static const struct option opts[] = {
	    {"stats", no_argument, NULL, 's'},
	    {"interval", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	struct error *err = NULL;
	bool stats = false;
	int c, interval = 5;
	const char *id;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			stats = true;
		else if (c == 'i')
			interval = atoi(optarg) > 0 ? atoi(optarg) : 5;
		else
			return 1;
	}
	if (!(id = arg_id(argc, argv, "events")))
		return 1;
	for (;;) {
		json_object *data, *ev;
		if (runtime_stats(ctx, id, &data, &err) < 0)
			return fail(err);
		ev = json_object_new_object();
		json_add_str(ev, "type", "stats");
		json_add_str(ev, "id", id);
		json_object_object_add(ev, "data", data);
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(ev);
		if (stats)
			return 0;
		sleep((unsigned int)interval);
	}
}
