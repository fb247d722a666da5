/* SPDX-License-Identifier: Apache-2.0 */
/* berthd: the daemon. Listens on its sockets and serves each connection on a thread. */
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <sqlite3.h>

#include "api/api.h"
#include "tls.h"

struct conn_job {
	struct engine *e;
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn_job *j = arg;
	api_serve_connection(j->e, j->fd);
	free(j);
	return NULL;
}

static bool group_lookup(const char *name, gid_t *ret)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/group", "re");
	char line[1024];
	size_t n = strlen(name);
	while (f && fgets(line, sizeof(line), f)) {
		char *p;
		if (strncmp(line, name, n) != 0 || line[n] != ':')
			continue;
		p = strchr(line + n + 1, ':');
		if (!p)
			return false;
		*ret = (gid_t)strtoul(p + 1, NULL, 10);
		return true;
	}
	return false;
}

static int listen_unix(const char *path, const char *group, struct error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (fd < 0)
		return error_set(err, -errno, "socket");
	if (strlen(path) >= sizeof(sa.sun_path))
		return error_setx(err, -ENAMETOOLONG, "socket path too long: '%s'", path);
	if (slash && slash != dir) {
		*slash = 0;
		mkdir_p(dir, 0711);
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return error_set(err, -errno, "listen on '%s'", path);
	/* 0660, group berth (like docker's group) when it exists. */
	chmod(path, 0660);
	{
		/* /etc/group read directly: getgrnam would load NSS modules into berthd for good.
		 */
		gid_t gid;
		if (group_lookup(group ? group : "berth", &gid))
			(void)!chown(path, 0, gid);
	}
	if (listen(fd, 128) < 0)
		return error_set(err, -errno, "listen on '%s'", path);
	return TAKE_FD(fd);
}

static volatile sig_atomic_t stop_requested;
static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	stop_requested = sig;
	(void)!write(stop_pipe[1], "x", 1);
}

int main(int argc, char **argv)
{
	struct daemon_config cfg;
	struct error *err = NULL;
	struct engine *e = NULL;
	int fds[16], nfds = 0;
	bool is_tls[16] = {false};
	SSL_CTX *tls_ctx = NULL;
	char *paths[16] = {NULL};
	_cleanup_close_ int pidfd = -EBADF;
	int rc = 0;

	/*
	 * SQLite's memory, sized for berthd's small database: no page cache allocated in bulk
	 * (20 pages for each of the main and temp databases of both connections, read once)
	 * and no lookaside slabs (120 KiB a connection); both before SQLite initialises.
	 * Together 0.3 MiB of heap that a daemon which is mostly idle does not need.
	 */
	if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) != SQLITE_OK)
		log_debug("sqlite3_config refused: SQLite was initialised already");
	if (daemon_config_load(argc, argv, &cfg, &err) < 0) {
		bool info = err->code == ECANCELED;
		fprintf(info ? stdout : stderr, "%s%s\n", info ? "" : "berthd: ", err->msg);
		error_free(err);
		return info ? 0 : 1;
	}
	log_setup(STDERR_FILENO, cfg.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	/* One malloc arena: a thread per connection would otherwise each get its own and keep
	 * its memory after the connection ends (idle RSS is a feature). */
	mallopt(M_ARENA_MAX, 1);
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(stop_pipe, O_CLOEXEC) < 0)
		return 1;
	{
		struct sigaction sa = {.sa_handler = on_signal};
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	/* One berthd per exec-root: the pid file is also a lock. */
	mkdir_p(cfg.exec_root, 0711);
	pidfd = open(cfg.pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pidfd < 0 || flock(pidfd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr,
			"berthd: pid file found, ensure berthd is not running or delete %s\n",
			cfg.pidfile);
		daemon_config_release(&cfg);
		return 1;
	}
	{
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
		(void)!ftruncate(pidfd, 0);
		(void)!pwrite(pidfd, buf, (size_t)n, 0);
	}
	for (char **h = cfg.hosts; h && *h && nfds < 16; h++) {
		const char *path = startswith(*h, "unix://") ? *h + 7 : (*h[0] == '/' ? *h : NULL);
		int fd;
		if (startswith(*h, "fd://")) {
			/* systemd socket activation (contrib/systemd/berthd.socket) */
			const char *lf = getenv("LISTEN_FDS"), *lp = getenv("LISTEN_PID");
			int n = 0;
			if (!lf || !lp || atoi(lp) != getpid() || safe_atoi(lf, &n) < 0 || n < 1) {
				fprintf(stderr, "berthd: -H fd:// needs systemd socket activation "
						"(LISTEN_FDS)\n");
				rc = 1;
				goto out;
			}
			for (int i = 0; i < n && nfds < 16; i++) {
				fcntl(3 + i, F_SETFD, FD_CLOEXEC);
				paths[nfds] = NULL;
				fds[nfds++] = 3 + i;
			}
			continue;
		}
		if (!path && startswith(*h, "tcp://")) {
			/* TCP only with TLS: the API gives root on this machine. */
			if (!cfg.tls && !cfg.tls_verify) {
				fprintf(stderr,
					"berthd: refusing to listen on '%s' without TLS: use "
					"--tlsverify with --tlscacert, --tlscert and --tlskey\n",
					*h);
				rc = 1;
				goto out;
			}
			if (!tls_ctx && !(tls_ctx = tls_server_ctx(&cfg, &err))) {
				fprintf(stderr, "berthd: %s\n", err->msg);
				error_free(err);
				rc = 1;
				goto out;
			}
			fd = tls_listen_tcp(*h + 6, &err);
			if (fd < 0) {
				fprintf(stderr, "berthd: %s\n", err->msg);
				error_free(err);
				rc = 1;
				goto out;
			}
			paths[nfds] = NULL;
			is_tls[nfds] = true;
			fds[nfds++] = fd;
			continue;
		}
		if (!path) {
			fprintf(stderr,
				"berthd: unsupported host '%s' (unix://, fd:// or tcp:// with "
				"TLS)\n",
				*h);
			rc = 1;
			goto out;
		}
		fd = listen_unix(path, cfg.group, &err);
		if (fd < 0) {
			fprintf(stderr, "berthd: %s\n", err->msg);
			error_free(err);
			rc = 1;
			goto out;
		}
		paths[nfds] = xstrdup(path);
		fds[nfds++] = fd;
	}
	if (engine_open(&cfg, &e, &err) < 0) {
		fprintf(stderr, "berthd: %s\n", err->msg);
		error_free(err);
		rc = 1;
		goto out;
	}
	api_init();
	log_info("berthd %s serving on %s", BERTH_VERSION, cfg.hosts[0]);
	{
		/* systemd Type=notify */
		const char *ns = getenv("NOTIFY_SOCKET");
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		if (ns && strlen(ns) < sizeof(sa.sun_path)) {
			int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			strcpy(sa.sun_path, ns);
			if (sa.sun_path[0] == '@')
				sa.sun_path[0] = 0;
			if (nfd >= 0) {
				(void)!sendto(nfd, "READY=1", 7, MSG_NOSIGNAL,
					      (struct sockaddr *)&sa, sizeof(sa));
				close(nfd);
			}
		}
	}

	while (!stop_requested) {
		struct pollfd p[17];
		for (int i = 0; i < nfds; i++)
			p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
		p[nfds] = (struct pollfd){.fd = stop_pipe[0], .events = POLLIN};
		if (poll(p, (nfds_t)nfds + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < nfds; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			int c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			if (is_tls[i]) {
				c = tls_accept(tls_ctx, c);
				if (c < 0)
					continue;
			}
			struct conn_job *j = xnew0(struct conn_job, 1);
			pthread_t t;
			pthread_attr_t at;
			j->e = e;
			j->fd = c;
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			/* Small stacks: a connection needs little, and idle RSS is a feature. */
			pthread_attr_setstacksize(&at, 256 * 1024);
			if (pthread_create(&t, &at, conn_main, j) != 0) {
				close(c);
				free(j);
			}
			pthread_attr_destroy(&at);
		}
	}
	log_info("berthd: shutting down");
out:
	for (int i = 0; i < nfds; i++) {
		close(fds[i]);
		if (paths[i])
			unlink(paths[i]);
		free(paths[i]);
	}
	engine_close(e);
	if (tls_ctx)
		SSL_CTX_free(tls_ctx);
	unlink(cfg.pidfile);
	daemon_config_release(&cfg);
	return rc;
}
