/* SPDX-License-Identifier: Apache-2.0 */
/*
 * monitor: the shim's event loop, private to the shim module. It holds the process's stdio
 * (pipes or the pty master), writes the json-file log, serves the socket protocol of shim.h
 * and writes the exit file. berth-shim runs it until a moment after START, then hands it
 * over to berth-shim-monitor with execve(): the fds stay open across it, the rest of the state
 * (the clients and what they sent so far, partial log lines, the exit if it came already)
 * crosses in a memfd. The monitor links only this, opts.c and basic, statically, so that
 * the pages of the runtime library and of libc.so are not held for the container's life.
 *
 * Nothing here uses the runtime library: START is a callback of berth-shim's, and the
 * runtime state is removed after the exit by berth-shim --delete.
 */
#ifndef BERTH_SHIM_MONITOR_H
#define BERTH_SHIM_MONITOR_H

#include "shim.h"

#define MONITOR_MAX_CLIENTS 64

enum client_kind { CLIENT_NEW, CLIENT_ATTACH, CLIENT_WAIT };

struct client {
	bool used;
	int fd;
	enum client_kind kind;
	bool want_in, want_out, want_err;
	char buf[8192 + 5];
	size_t len;
	bool parked; /* out of the epoll set while the process's stdin is full */
};

/* A log line not complete yet; data is allocated at the first byte. */
struct logbuf {
	char *data; /* 16 KiB: Docker splits longer lines */
	size_t len;
};

struct monitor {
	const struct shim_opts *o;
	int epfd, sigfd, listen_fd;
	int out_r, err_r; /* the process's stdout/stderr (read ends), -1 when closed */
	int in_w;	  /* its stdin (write end), -1 when none */
	int pty;	  /* the pty master, -1 without a tty */
	pid_t pid;	  /* the process we watch */
	bool started, exited, watching;
	int exit_code;
	uint64_t finished_ns;
	bool stdin_closed_once;
	struct client *clients; /* MONITOR_MAX_CLIENTS */
	int log_fd;
	uint64_t log_size;
	char *log_buf; /* lines not written yet: flushed after each read of the output */
	size_t log_buf_len;
	struct logbuf lb_out, lb_err;
	char *sock_path, *exit_path;
	/*
	 * berth-shim's START: create the exec, or release the container (the runtime
	 * library); sets pid and started, and may set hand_over_usec.
	 */
	int (*start)(struct monitor *m, char *errbuf, size_t errlen);
	uint64_t hand_over_usec; /* CLOCK_MONOTONIC: monitor_run() returns for the hand-over
				    then, if the process still runs; 0: never */
	/*
	 * stdin the process has not taken yet. Its pipe (or pty) is written without blocking:
	 * a container's init waits for START with its stdin pipe filling up, and a blocked
	 * write here would never read that START. The rest of a frame waits here, the
	 * client's socket leaves the epoll set (parked), and EPOLLOUT on in_wait_fd (a dup of
	 * the stdin fd) resumes them.
	 */
	char *in_pend;
	size_t in_pend_off, in_pend_len;
	int in_wait_fd;
	bool in_close_after; /* close stdin once in_pend is written */
};

/* Paths from o; every fd -1. */
void monitor_init(struct monitor *m, const struct shim_opts *o);
void monitor_release(struct monitor *m);
/* Block SIGCHLD (a signalfd gets it) and SIGPIPE, make the epoll set, listen on the socket. */
int monitor_listen(struct monitor *m, char *errbuf, size_t errlen);
/* Open the json-file log for appending (o->log_path, if any). */
void monitor_open_log(struct monitor *m);
/*
 * Serve until the process has exited and its output is drained (returns 0), or until
 * hand_over_usec has come with the process still running (returns 1). The output is
 * watched once started, or at once for a container (its pipes exist after the create).
 */
int monitor_run(struct monitor *m);
/* After the exit: the last log lines, the exit file, the waiters and attachers told;
 * the socket goes. */
void monitor_finish(struct monitor *m);
/*
 * execve() berth-shim-monitor (exe_fd, an O_PATH fd) with the state of m. Returns only on
 * failure, with m as it was: the caller serves on itself.
 */
int monitor_hand_over(struct monitor *m, int exe_fd);

/* o as a command line (argv[0] "berth-shim") for the next image of the shim; strv_free. */
char **shim_opts_to_argv(const struct shim_opts *o);
/* The shim's image called name (berth-shim, berth-shim-monitor): beside the running one.
 * NULL if /proc/self/exe cannot tell. */
char *shim_image_path(const char *name);

#endif
