/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-init: the init of `run --init` (Docker's docker-init/tini role). As PID 1 of the
 * container it starts the command, forwards the signals it gets to it, reaps every
 * orphan, and exits with the command's status (128+signal when killed).
 *
 * Built static and without berth's libraries: it is bind-mounted into any image.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t all, old;
	pid_t child;
	int status = 0;

	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "berth-init: usage: berth-init COMMAND [ARG...]\n");
		return 2;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "berth-init: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* Its own process group, so a TTY's ^C reaches it as it would without us. */
		setpgid(0, 0);
		if (isatty(STDIN_FILENO))
			tcsetpgrp(STDIN_FILENO, getpid());
		execvp(argv[1], argv + 1);
		fprintf(stderr, "berth-init: exec %s: %s\n", argv[1], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig == SIGCHLD) {
			for (;;) {
				int st;
				pid_t p = waitpid(-1, &st, WNOHANG);
				if (p <= 0)
					break;
				if (p == child) {
					status =
					    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
					/* Orphans go with the namespace when we exit. */
					return status;
				}
			}
			continue;
		}
		/* Job-control signals from a TTY stay with the group; the rest go to the child. */
		if (sig == SIGTTIN || sig == SIGTTOU)
			continue;
		kill(child, sig);
	}
}
