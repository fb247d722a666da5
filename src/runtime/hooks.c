/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

static int hook_run(const struct oci_hook *h, const char *state, struct error **err)
{
	int pipefd[2], status;
	_cleanup_close_ int pidfd = -EBADF, errfd = -EBADF;
	pid_t pid;
	int64_t timeout_ms = h->timeout.set ? h->timeout.v * 1000 : -1;
	char errtxt[512] = "";

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_set(err, -errno, "pipe");
	errfd = memfd_create("hook-stderr", MFD_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return error_set(err, -errno, "fork hook");
	}
	if (pid == 0) {
		char *const empty[] = {NULL};
		char *const argv0[] = {(char *)h->path, NULL};
		dup2(pipefd[0], 0);
		if (errfd >= 0)
			dup2(errfd, 2);
		/* Hooks must not inherit the runtime's fds either. */
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(h->path, h->args ? h->args : argv0, h->env ? h->env : empty);
		_exit(127);
	}
	close(pipefd[0]);
	/* The hook may not read stdin: ignore EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	(void)loop_write(pipefd[1], state, strlen(state));
	close(pipefd[1]);

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0 && timeout_ms > 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int k;
		do
			k = poll(&p, 1, (int)timeout_ms);
		while (k < 0 && errno == EINTR);
		if (k == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return error_setx(err, -ETIMEDOUT, "hook '%s' timed out after %" PRId64 "s",
					  h->path, h->timeout.v);
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_set(err, -errno, "wait for hook '%s'", h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (errfd >= 0) {
		ssize_t n = pread(errfd, errtxt, sizeof(errtxt) - 1, 0);
		errtxt[n > 0 ? n : 0] = 0;
		char *nl = strrchr(errtxt, '\n');
		if (nl && nl[1] == 0)
			*nl = 0;
	}
	if (WIFSIGNALED(status))
		return error_setx(err, -EIO, "hook '%s' killed by signal %d%s%s", h->path,
				  WTERMSIG(status), *errtxt ? ": " : "", errtxt);
	return error_setx(err, -EIO, "hook '%s' exited with status %d%s%s", h->path,
			  WEXITSTATUS(status), *errtxt ? ": " : "", errtxt);
}

int hooks_run(const struct oci_hook *hooks, size_t n, const char *state_json, const char *kind,
	      struct error **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = hook_run(&hooks[i], state_json, err);
		if (r < 0)
			return error_prefix(err, r, "%s hook #%zu", kind, i);
	}
	return 0;
}
