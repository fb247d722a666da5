/* SPDX-License-Identifier: Apache-2.0 */
/* berth login / logout: POST /auth, then the credentials go to <config dir>/config.json
 * "auths" as docker keeps them. */
#include <termios.h>
#include <unistd.h>

#include "container-opts.h"

static char *read_line(FILE *f)
{
	char *line = NULL;
	size_t n = 0;
	ssize_t k = getline(&line, &n, f);
	if (k < 0) {
		free(line);
		return NULL;
	}
	while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
		line[--k] = 0;
	return line;
}

int cmd_login(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_free_ char *user = NULL, *pass = NULL, *key = NULL;
	_cleanup_json_ json_object *body = json_object_new_object(), *resp = NULL, *doc = NULL;
	bool pass_stdin = false;
	const struct flag flags[] = {
	    {"password", 'p', FLAG_STRING, &pass, "Password or Personal Access Token (PAT)"},
	    {"password-stdin", 0, FLAG_BOOL, &pass_stdin,
	     "Take the Password or Personal Access Token (PAT) from stdin"},
	    {"username", 'u', FLAG_STRING, &user, "Username"},
	};

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_max(cli, args, 1));
	key = cli_registry_key(args[0]);
	if (pass && pass_stdin) {
		fprintf(stderr, "--password and --password-stdin are mutually exclusive\n");
		return 1;
	}
	if (pass_stdin) {
		if (!user) {
			fprintf(stderr, "Must provide --username with --password-stdin\n");
			return 1;
		}
		pass = read_line(stdin);
		if (!pass)
			pass = xstrdup("");
	} else if (pass)
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
				"--password-stdin.\n");
	if (!user || !pass) {
		/* stored credentials, else a prompt on a terminal */
		_cleanup_free_ char *su = NULL, *sp = NULL;
		if (!user && !pass && cli_auth_get(cli, key, &su, &sp) > 0) {
			user = TAKE_PTR(su);
			pass = TAKE_PTR(sp);
		} else {
			if (!term_isatty(STDIN_FILENO)) {
				fprintf(stderr,
					"Error: Cannot perform an interactive login from a non TTY "
					"device\n");
				return 1;
			}
			if (!user) {
				printf("Username: ");
				fflush(stdout);
				user = read_line(stdin);
				if (isempty(user)) {
					fprintf(stderr, "Error: Non-null Username Required\n");
					return 1;
				}
			}
			if (!pass) {
				struct termios old, raw;
				bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
				printf("Password: ");
				fflush(stdout);
				if (tty) {
					raw = old;
					raw.c_lflag &= ~(tcflag_t)ECHO;
					(void)tcsetattr(STDIN_FILENO, TCSANOW, &raw);
				}
				pass = read_line(stdin);
				if (tty)
					(void)tcsetattr(STDIN_FILENO, TCSANOW, &old);
				printf("\n");
				if (isempty(pass)) {
					fprintf(stderr, "Error: Password Required\n");
					return 1;
				}
			}
		}
	}
	json_add_str(body, "username", user);
	json_add_str(body, "password", pass);
	json_add_str(body, "serveraddress", key);
	if (cli_call(cli, "POST", "/auth", body, &resp, NULL, &err) < 0)
		return cli_fail(cli, err);
	if (cli_config_load(cli, &doc, &err) < 0)
		return cli_fail(cli, err);
	json_object *auths = jget(doc, "auths");
	if (!auths || !json_object_is_type(auths, json_type_object)) {
		auths = json_object_new_object();
		json_object_object_add(doc, "auths", auths);
	}
	_cleanup_free_ char *up = xasprintf("%s:%s", user, pass);
	_cleanup_free_ char *b = cli_base64(up, strlen(up), false);
	json_object *ent = json_object_new_object();
	json_add_str(ent, "auth", b);
	json_object_object_add(auths, key, ent);
	explicit_bzero(up, strlen(up));
	explicit_bzero(pass, strlen(pass));
	if (cli_config_save(cli, doc, &err) < 0)
		return cli_fail(cli, err);
	fprintf(stderr,
		"WARNING! Your credentials are stored unencrypted in '%s/config.json'.\n"
		"Configure a credential helper to remove this warning.\n\n",
		cli->config_dir);
	printf("%s\n", *jstr(resp, "Status") ? jstr(resp, "Status") : "Login Succeeded");
	return 0;
}

int cmd_logout(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **args = NULL;
	_cleanup_error_ struct error *err = NULL;
	_cleanup_json_ json_object *doc = NULL;
	_cleanup_free_ char *key = NULL, *shown = NULL;
	const struct flag flags[] = {};
	bool found = false;

	CLI_FLAGS(cli, flags, FLAGS_INTERSPERSED, argc, argv, &args);
	CLI_ARGS(cli_args_max(cli, args, 1));
	key = cli_registry_key(args[0]);
	if (cli_config_load(cli, &doc, &err) < 0)
		return cli_fail(cli, err);
	json_object *auths = jget(doc, "auths");
	if (auths && json_object_is_type(auths, json_type_object)) {
		/* the key as given, and any of the same host ("https://host", "host/v1/") */
		_cleanup_strv_free_ char **drop = NULL;
		_cleanup_free_ char *want = cli_registry_key(key);
		json_object_object_foreach(auths, k, v)
		{
			(void)v;
			const char *h = k;
			if (startswith(h, "https://"))
				h += 8;
			else if (startswith(h, "http://"))
				h += 7;
			const char *w = want;
			if (startswith(w, "https://"))
				w += 8;
			size_t hl = strcspn(h, "/"), wl = strcspn(w, "/");
			if (streq(k, key) || (hl == wl && strncmp(h, w, hl) == 0))
				drop = strv_append(drop, k);
		}
		for (char **d = drop; d && *d; d++) {
			json_object_object_del(auths, *d);
			found = true;
		}
	}
	shown = xstrdup(streq(key, CLI_DOCKER_IO_KEY) ? CLI_DOCKER_IO_KEY : key);
	if (!found) {
		printf("Not logged in to %s\n", shown);
		return 0;
	}
	printf("Removing login credentials for %s\n", shown);
	if (cli_config_save(cli, doc, &err) < 0)
		return cli_fail(cli, err);
	return 0;
}
