/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "internal.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

static const struct {
	const char *name;
	int resource;
} rlimit_table[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int proc_set_rlimits(const struct oci_process *p, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct oci_rlimit *l = &p->rlimits[i];
		struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard};
		int res = -1;
		for (size_t j = 0; j < ELEMENTSOF(rlimit_table); j++)
			if (streq(rlimit_table[j].name, l->type))
				res = rlimit_table[j].resource;
		if (res < 0)
			return errbuf_set(errbuf, errlen, EINVAL, "unknown rlimit '%s'", l->type);
		if (setrlimit(res, &rl) < 0)
			return errbuf_set(errbuf, errlen, errno,
					  "setrlimit %s (soft %llu, hard %llu)", l->type,
					  (unsigned long long)l->soft, (unsigned long long)l->hard);
	}
	return 0;
}

/* Writes to procfs go through an fd checked to be on procfs (CVE-2019-16884). */
static int write_proc(const char *path, const char *val)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	struct statfs sf;
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sf) < 0)
		return -errno;
	if (sf.f_type != PROC_SUPER_MAGIC)
		return -EXDEV;
	if (write(fd, val, strlen(val)) < 0)
		return -errno;
	return 0;
}

static int set_oom_score_adj(int64_t v, char *errbuf, size_t errlen)
{
	char buf[32];
	int r;
	snprintf(buf, sizeof(buf), "%d", (int)v);
	r = write_proc("/proc/self/oom_score_adj", buf);
	if (r == -EXDEV)
		return errbuf_set(errbuf, errlen, EXDEV,
				  "/proc/self/oom_score_adj is not on procfs");
	if (r < 0) {
		/* Lowering needs CAP_SYS_RESOURCE; keeping the current value is fine. */
		char *cur = NULL;
		bool same =
		    read_file_at(AT_FDCWD, "/proc/self/oom_score_adj", 64, &cur, NULL) >= 0 &&
		    atoi(cur) == (int)v;
		free(cur);
		if (!same)
			return errbuf_set(errbuf, errlen, r, "set oom_score_adj to %d", (int)v);
	}
	return 0;
}

static int set_ioprio(const struct oci_io_priority *io, char *errbuf, size_t errlen)
{
	int cls;
	if (!io->present)
		return 0;
	if (streq(io->class, "IOPRIO_CLASS_RT"))
		cls = 1;
	else if (streq(io->class, "IOPRIO_CLASS_BE"))
		cls = 2;
	else if (streq(io->class, "IOPRIO_CLASS_IDLE"))
		cls = 3;
	else
		return errbuf_set(errbuf, errlen, EINVAL, "unknown ioPriority class '%s'",
				  io->class);
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (cls << 13) | io->priority) < 0)
		return errbuf_set(errbuf, errlen, errno, "set ioPriority");
	return 0;
}

/* chdir and check the result: a cwd outside the root shows as "(unreachable)/..."
 * (CVE-2024-21626: cwd /proc/self/fd/N of a leaked fd). */
static int safe_chdir(const char *cwd, char *errbuf, size_t errlen)
{
	char buf[4096];
	if (chdir(cwd) < 0)
		return -errno;
	if (!getcwd(buf, sizeof(buf)))
		return errbuf_set(errbuf, errlen, errno, "cwd '%s' is outside the container", cwd);
	if (buf[0] != '/')
		return errbuf_set(errbuf, errlen, EPERM, "cwd '%s' is outside the container", cwd);
	return 0;
}

int proc_finalize(struct proc_plan *plan, char *errbuf, size_t errlen)
{
	const struct oci_process *p = plan->p;
	int r;

	r = proc_set_rlimits(p, errbuf, errlen);
	if (r < 0)
		return r;
	if (p->oom_score_adj.set) {
		r = set_oom_score_adj(p->oom_score_adj.v, errbuf, errlen);
		if (r < 0)
			return r;
	}
	r = set_ioprio(&p->io_priority, errbuf, errlen);
	if (r < 0)
		return r;

	/* Try the cwd as root first: it may only be reachable before the uid change. */
	r = safe_chdir(p->cwd, errbuf, errlen);
	if (r < 0 && *errbuf)
		return r;

	if (plan->has_seccomp && !p->no_new_privileges) {
		/* Without no_new_privs the filter needs CAP_SYS_ADMIN: install it now. */
		r = seccomp_install(&plan->seccomp);
		if (r < 0)
			return errbuf_set(errbuf, errlen, r, "load seccomp filter");
		if (r > 0) {
			int k = seccomp_send_listener(plan, r, errbuf, errlen);
			close(r);
			if (k < 0)
				return k;
		}
	}
	if (plan->caps.present) {
		r = caps_apply_bounding(&plan->caps);
		if (r < 0)
			return errbuf_set(errbuf, errlen, r, "drop bounding capabilities");
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return errbuf_set(errbuf, errlen, errno, "keep capabilities");
	}
	if (setgroups(p->user.n_additional_gids, (gid_t *)p->user.additional_gids) < 0) {
		/* In a user namespace with setgroups denied, only an empty list is fine. */
		if (!(errno == EPERM && plan->in_userns && p->user.n_additional_gids == 0))
			return errbuf_set(errbuf, errlen, errno, "setgroups");
	}
	if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
		return errbuf_set(errbuf, errlen, errno, "setgid %u", p->user.gid);
	if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
		return errbuf_set(errbuf, errlen, errno, "setuid %u", p->user.uid);
	if (plan->caps.present) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return errbuf_set(errbuf, errlen, errno, "clear keep capabilities");
		r = caps_apply(&plan->caps);
		if (r < 0)
			return errbuf_set(errbuf, errlen, r, "set capabilities");
	}
	umask(p->user.umask.set ? (mode_t)p->user.umask.v : 022);
	r = safe_chdir(p->cwd, errbuf, errlen);
	if (r < 0)
		return *errbuf ? r : errbuf_set(errbuf, errlen, r, "chdir to cwd '%s'", p->cwd);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errbuf_set(errbuf, errlen, errno, "set no_new_privs");
	if (plan->has_seccomp && p->no_new_privileges) {
		r = seccomp_install(&plan->seccomp);
		if (r < 0)
			return errbuf_set(errbuf, errlen, r, "load seccomp filter");
		if (r > 0) {
			int k = seccomp_send_listener(plan, r, errbuf, errlen);
			close(r);
			if (k < 0)
				return k;
		}
	}
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t l = strlen(key);
	for (; env && *env; env++)
		if (strncmp(*env, key, l) == 0 && (*env)[l] == '=')
			return *env + l + 1;
	return NULL;
}

/* "exec: \"x\": permission denied": Go's lowercase wording, which the docker CLI matches to
 * choose its exit code (126 or 127). */
static int exec_error(char *errbuf, size_t errlen, const char *what, int e)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "%s", strerror(e));
	if (msg[0] >= 'A' && msg[0] <= 'Z')
		msg[0] = (char)(msg[0] + 32);
	errbuf_set(errbuf, errlen, 0, "exec: \"%s\": %s", what, msg);
	return -e;
}

int proc_resolve_exec(struct proc_plan *plan, char *errbuf, size_t errlen)
{
	const char *arg0 = plan->p->args ? plan->p->args[0] : NULL;
	const char *path;
	struct stat st;

	if (!arg0)
		return errbuf_set(errbuf, errlen, EINVAL, "process.args is empty");
	if (strchr(arg0, '/')) {
		if (stat(arg0, &st) < 0)
			return exec_error(errbuf, errlen, arg0, errno);
		if (S_ISDIR(st.st_mode))
			return errbuf_set(errbuf, errlen, 0, "exec: \"%s\": is a directory", arg0) -
			       EACCES;
		/* Not executable by anyone: say so now, at create, as runc does. */
		if (!(st.st_mode & 0111))
			return exec_error(errbuf, errlen, arg0, EACCES);
		plan->exec_path = xstrdup(arg0);
		return 0;
	}
	path = env_get(plan->p->env, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *dup = xstrdup(path);
	for (char *save = NULL, *dir = strtok_r(dup, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", arg0);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
			plan->exec_path = TAKE_PTR(cand);
			return 0;
		}
	}
	return errbuf_set(errbuf, errlen, 0, "exec: \"%s\": executable file not found in $PATH",
			  arg0) -
	       ENOENT;
}

int proc_exec(struct proc_plan *plan, char *errbuf, size_t errlen)
{
	const struct oci_process *p = plan->p;
	unsigned int first =
	    3 + (unsigned int)(plan->preserve_fds > plan->listen_fds ? plan->preserve_fds
								     : plan->listen_fds);
	char **env = p->env;
	_cleanup_strv_free_ char **extra = NULL;

	if (!env_get(p->env, "HOME") || plan->listen_fds > 0) {
		extra = strv_copy(p->env);
		if (!env_get(p->env, "HOME")) {
			const char *home = "/";
			_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
			char line[1024];
			static char found[512];
			while (f && fgets(line, sizeof(line), f)) {
				char *fields[7] = {0};
				char *s = line, *save = NULL;
				int n = 0;
				for (char *t = strsep(&s, ":"); t && n < 7; t = strsep(&s, ":"))
					fields[n++] = t;
				(void)save;
				if (n >= 6 &&
				    (uint32_t)strtoul(fields[2], NULL, 10) == p->user.uid) {
					snprintf(found, sizeof(found), "%s", fields[5]);
					home = found;
					break;
				}
			}
			_cleanup_free_ char *h = xasprintf("HOME=%s", home);
			extra = strv_append(extra, h);
		}
		if (plan->listen_fds > 0) {
			_cleanup_free_ char *a = xasprintf("LISTEN_FDS=%d", plan->listen_fds);
			extra = strv_append(extra, a);
			extra = strv_append(extra, "LISTEN_PID=1");
		}
		env = extra;
	}
	/* Nothing of ours may reach the container: everything above the passed fds closes on exec.
	 */
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = (int)first; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	execve(plan->exec_path, p->args, env ? env : (char *[]){NULL});
	return exec_error(errbuf, errlen, p->args[0], errno);
}
