/* SPDX-License-Identifier: Apache-2.0 */
/* The client's entry point: global options, the command tree, usage and errors. */
#include <signal.h>

#include "internal.h"

static void print_usage_line(struct cli *cli, FILE *f)
{
	fprintf(f, "Usage:  %s %s\n", cli->cmd_path, cli->cmd ? cli->cmd->usage : "COMMAND");
}

int cli_flags(struct cli *cli, const struct flag *flags, size_t n, enum flags_mode mode, int argc,
	      char **argv, char ***ret_args)
{
	_cleanup_error_ struct error *err = NULL;
	bool help = false;

	if (flags_parse(flags, n, mode, argc, argv, ret_args, &help, &err) < 0) {
		fprintf(stderr, "%s\n\n", err->msg);
		print_usage_line(cli, stderr);
		fprintf(stderr, "\nRun '%s --help' for more information\n", cli->cmd_path);
		return EXIT_CLI;
	}
	if (help) {
		print_usage_line(cli, stdout);
		printf("\n%s\n", cli->cmd->desc);
		/* aliases: every row with the same function */
		size_t n_alias = 0;
		for (size_t i = 0; i < cli_n_commands; i++)
			if (cli_commands[i].run == cli->cmd->run)
				n_alias++;
		if (n_alias > 1 || cli->cmd->aliases) {
			printf("\nAliases:\n  ");
			bool first = true;
			/* docker lists the management command's forms first */
			for (int pass = 0; pass < 2; pass++)
				for (size_t i = 0; i < cli_n_commands; i++) {
					const struct command *c = &cli_commands[i];
					if (c->run != cli->cmd->run || (pass == 0) != !!c->group)
						continue;
					printf("%s%s%s%s %s", first ? "" : ", ", PROG,
					       c->group ? " " : "", c->group ? c->group : "",
					       c->name);
					first = false;
					if (c->aliases) {
						_cleanup_free_ char *al = xstrdup(c->aliases);
						for (char *s = strtok(al, " "); s;
						     s = strtok(NULL, " "))
							printf(", %s%s%s %s", PROG,
							       c->group ? " " : "",
							       c->group ? c->group : "", s);
					}
				}
			printf("\n");
		}
		if (n) {
			printf("\nOptions:\n");
			flags_usage(flags, n, stdout);
		}
		strv_free(*ret_args);
		*ret_args = NULL;
		return -1;
	}
	return 0;
}

/* docker 28's wording (cli/required.go): only "at least" still says "See ...". */
static int args_error(struct cli *cli, const char *what, size_t n)
{
	if (!*what && n == 0)
		fprintf(stderr, "%s: '%s' accepts no arguments\n\n", PROG, cli->cmd_path);
	else
		fprintf(stderr, "%s: '%s' requires %s%s%zu argument%s\n\n", PROG, cli->cmd_path,
			what, *what ? " " : "", n, n == 1 ? "" : "s");
	print_usage_line(cli, stderr);
	fprintf(stderr, "\n%s '%s --help' for more information\n",
		streq(what, "at least") ? "See" : "Run", cli->cmd_path);
	return 1;
}

int cli_args_min(struct cli *cli, char **args, size_t min)
{
	return strv_length(args) < min ? args_error(cli, "at least", min) : 0;
}

int cli_args_exact(struct cli *cli, char **args, size_t n)
{
	return strv_length(args) != n ? args_error(cli, "", n) : 0;
}

int cli_args_max(struct cli *cli, char **args, size_t max)
{
	return strv_length(args) > max ? args_error(cli, "at most", max) : 0;
}

int cli_args_range(struct cli *cli, char **args, size_t min, size_t max)
{
	size_t n = strv_length(args);
	if (n < min || n > max) {
		fprintf(stderr, "%s: '%s' requires at least %zu and at most %zu arguments\n\n",
			PROG, cli->cmd_path, min, max);
		print_usage_line(cli, stderr);
		fprintf(stderr, "\nRun '%s --help' for more information\n", cli->cmd_path);
		return 1;
	}
	return 0;
}

int cli_fail(struct cli *cli, struct error *err)
{
	fprintf(stderr, "%s\n", err && err->msg ? err->msg : "unknown error");
	return 1;
}

int cli_fail_run(struct cli *cli, struct error *err)
{
	fprintf(stderr, "%s: %s\n\nRun '%s --help' for more information\n", PROG,
		err && err->msg ? err->msg : "unknown error", cli->cmd_path);
	return EXIT_CLI;
}

static void print_commands(FILE *f, const char *group, bool common)
{
	for (size_t i = 0; i < cli_n_commands; i++) {
		const struct command *c = &cli_commands[i];
		if (!streq_ptr(c->group, group) || (common && !c->common))
			continue;
		fprintf(f, "  %-11s %s\n", c->name, c->desc);
	}
}

static const struct {
	const char *name, *desc;
} groups[] = {
    {"container", "Manage containers"}, {"image", "Manage images"},
    {"network", "Manage networks"},	{"system", "Manage berth"},
    {"volume", "Manage volumes"},
};

static void main_usage(FILE *f)
{
	fprintf(f,
		"Usage:  %s [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\n"
		"Common Commands:\n",
		PROG);
	print_commands(f, NULL, true);
	fprintf(f, "\nManagement Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(groups); i++)
		fprintf(f, "  %-11s %s\n", groups[i].name, groups[i].desc);
	fprintf(f, "\nCommands:\n");
	for (size_t i = 0; i < cli_n_commands; i++) {
		const struct command *c = &cli_commands[i];
		if (!c->group && !c->common)
			fprintf(f, "  %-11s %s\n", c->name, c->desc);
	}
	fprintf(
	    f,
	    "\nGlobal Options:\n"
	    "      --config string      Location of client config files (default \"~/.berth\")\n"
	    "  -D, --debug              Enable debug mode\n"
	    "  -H, --host list          Daemon socket to connect to\n"
	    "  -l, --log-level string   Set the logging level (\"debug\", \"info\", \"warn\", "
	    "\"error\", \"fatal\") (default \"info\")\n"
	    "  -v, --version            Print version information and quit\n"
	    "\nRun '%s COMMAND --help' for more information on a command.\n",
	    PROG);
}

static bool name_matches(const struct command *c, const char *name)
{
	if (streq(c->name, name))
		return true;
	if (c->aliases) {
		const char *p = c->aliases;
		size_t l = strlen(name);
		while (*p) {
			const char *e = strchr(p, ' ');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			if (n == l && strncmp(p, name, l) == 0)
				return true;
			if (!e)
				break;
			p = e + 1;
		}
	}
	return false;
}

static const struct command *find_command(const char *group, const char *name)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		if (streq_ptr(cli_commands[i].group, group) && name_matches(&cli_commands[i], name))
			return &cli_commands[i];
	return NULL;
}

static void cli_release(struct cli *cli)
{
	free(cli->host);
	free(cli->config_dir);
	free(cli->log_level);
	free(cli->api_version);
	free(cli->server_ostype);
	free(cli->cmd_path);
}

int cli_main(int argc, char **argv)
{
	_cleanup_(cli_release) struct cli cli = {0};
	_cleanup_strv_free_ char **hosts = NULL;
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	bool version = false, help = false, tls = false;
	char *context = NULL, *tlscacert = NULL, *tlscert = NULL, *tlskey = NULL;
	bool tlsverify = false;
	const struct flag global[] = {
	    {"config", 0, FLAG_STRING, &cli.config_dir, "Location of client config files"},
	    {"context", 'c', FLAG_STRING, &context, NULL},
	    {"debug", 'D', FLAG_BOOL, &cli.debug, "Enable debug mode"},
	    {"host", 'H', FLAG_LIST, &hosts, "Daemon socket to connect to"},
	    {"log-level", 'l', FLAG_STRING, &cli.log_level, "Set the logging level"},
	    {"tls", 0, FLAG_BOOL, &tls, NULL},
	    {"tlscacert", 0, FLAG_STRING, &tlscacert, NULL},
	    {"tlscert", 0, FLAG_STRING, &tlscert, NULL},
	    {"tlskey", 0, FLAG_STRING, &tlskey, NULL},
	    {"tlsverify", 0, FLAG_BOOL, &tlsverify, NULL},
	    {"version", 'v', FLAG_BOOL, &version, "Print version information and quit"},
	};
	const struct command *cmd;
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = flags_parse(global, ELEMENTSOF(global), FLAGS_STOP_AT_ARG, argc - 1, argv + 1, &args,
			&help, &err);
	free(context);
	free(tlscacert);
	free(tlscert);
	free(tlskey);
	if (r < 0) {
		fprintf(stderr,
			"%s\n\nUsage:  %s [OPTIONS] COMMAND\n\nRun '%s --help' for more "
			"information\n",
			err->msg, PROG, PROG);
		return EXIT_CLI;
	}
	if (version) {
		printf("%s version %s, build berth\n", PROG, BERTH_CLIENT_VERSION);
		return 0;
	}
	if (help || !args[0]) {
		main_usage(stdout);
		return 0;
	}
	if (cli.log_level && !streq(cli.log_level, "debug") && !streq(cli.log_level, "info") &&
	    !streq(cli.log_level, "warn") && !streq(cli.log_level, "error") &&
	    !streq(cli.log_level, "fatal")) {
		fprintf(stderr, "Unable to parse logging level: %s\n", cli.log_level);
		return 1;
	}
	if (cli.debug || streq_ptr(cli.log_level, "debug"))
		log_setup(STDERR_FILENO, LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);

	if (strv_length(hosts) > 1) {
		fprintf(stderr, "Specify only one -H\n");
		return 1;
	}
	if (hosts)
		cli.host = xstrdup(hosts[0]);
	else if (!isempty(getenv("BERTH_HOST")))
		cli.host = xstrdup(getenv("BERTH_HOST"));
	else
		cli.host = xstrdup(BERTH_DEFAULT_HOST);
	if (!cli.config_dir) {
		const char *e = getenv("BERTH_CONFIG");
		const char *home = getenv("HOME");
		cli.config_dir =
		    !isempty(e) ? xstrdup(e) : xasprintf("%s/.berth", home ? home : "");
	}

	/* a management command ("container ls") or a top-level one ("ps") */
	size_t used = 1;
	const char *group = NULL;
	for (size_t i = 0; i < ELEMENTSOF(groups); i++)
		if (streq(args[0], groups[i].name))
			group = groups[i].name;
	if (group) {
		if (!args[1] || streq(args[1], "--help") || streq(args[1], "-h")) {
			/* docker: asked-for help goes to stdout, a bare "berth network" to stderr
			 */
			FILE *out = args[1] ? stdout : stderr;
			const char *desc = "";
			for (size_t i = 0; i < ELEMENTSOF(groups); i++)
				if (streq(groups[i].name, group))
					desc = groups[i].desc;
			fprintf(out, "Usage:  %s %s COMMAND\n\n%s\n\nCommands:\n", PROG, group,
				desc);
			print_commands(out, group, false);
			fprintf(out,
				"\nRun '%s %s COMMAND --help' for more information on a command.\n",
				PROG, group);
			return 0;
		}
		cmd = find_command(group, args[1]);
		if (!cmd) {
			fprintf(stderr,
				"%s: unknown command: %s %s %s\n\nUsage:  %s %s\n\nRun '%s %s "
				"--help' for more information\n",
				PROG, PROG, group, args[1], PROG, group, PROG, group);
			return 1;
		}
		used = 2;
		cli.cmd_path = xasprintf("%s %s %s", PROG, group, cmd->name);
	} else {
		cmd = find_command(NULL, args[0]);
		if (!cmd) {
			fprintf(
			    stderr,
			    "%s: unknown command: %s %s\n\nRun '%s --help' for more information\n",
			    PROG, PROG, args[0], PROG);
			return 1;
		}
		cli.cmd_path = xasprintf("%s %s", PROG, cmd->name);
	}
	cli.cmd = cmd;
	return cmd->run(&cli, (int)(strv_length(args) - used), args + used);
}
