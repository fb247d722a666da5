/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seccomp: profiles are compiled and then installed in forked children, which
 * make the syscalls and report the first failed expectation as exit code.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/seccomp.h"
#include "test.h"

#define ALLOW_EXIT "{\"names\":[\"exit_group\",\"exit\"],\"action\":\"SCMP_ACT_ALLOW\"}"

static const char *const default_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

/* Parse a linux.seccomp object through the OCI parser. */
static struct oci_spec *spec_with(const char *seccomp_json)
{
	_cleanup_free_ char *doc_s = xasprintf(
	    "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"seccomp\":%s}}",
	    seccomp_json);
	_cleanup_json_ json_object *doc = NULL;
	_cleanup_error_ struct error *err = NULL;
	struct oci_spec *s = NULL;

	if (json_parse_buffer(doc_s, strlen(doc_s), &doc, &err) < 0 ||
	    oci_spec_parse(doc, &s, &err) < 0) {
		fprintf(stderr, "  bad test profile: %s\n", err ? err->msg : "?");
		oci_spec_free(s);
		return NULL;
	}
	return s;
}

/* Compile; on failure *msg holds the error (caller frees). */
static int prepare(const char *seccomp_json, const char *cache_dir, struct seccomp_program *p,
		   char **msg)
{
	_cleanup_(oci_spec_freep) struct oci_spec *s = spec_with(seccomp_json);
	_cleanup_error_ struct error *err = NULL;
	int r;

	*p = (struct seccomp_program){0};
	if (!s)
		return -EINVAL;
	r = seccomp_prepare(s->linux.seccomp, cache_dir, p, &err);
	if (msg)
		*msg = err ? xstrdup(err->msg) : NULL;
	else if (r < 0)
		fprintf(stderr, "  seccomp_prepare: %s\n", err ? err->msg : "?");
	return r;
}

/*
 * Leave a filtered child with the bare syscall: ASan's _exit interceptor makes
 * syscalls (sigaltstack, munmap) that a strict test profile denies.
 */
_noreturn_ static void child_exit(int code)
{
	for (;;)
		syscall(SYS_exit_group, code);
}

/* Fork, install p, run fn; returns the wait status. */
static int run_child(const struct seccomp_program *p, int (*fn)(void))
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		if (seccomp_install(p) < 0)
			_exit(200);
		child_exit(fn());
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

#define CHECK_CHILD_OK(p, fn)                                                                      \
	do {                                                                                       \
		int st_ = run_child((p), (fn));                                                    \
		if (!WIFEXITED(st_) || WEXITSTATUS(st_) != 0)                                      \
			fprintf(stderr, "  child %s: %s %d\n", #fn,                                \
				WIFEXITED(st_) ? "exit" : "signal",                                \
				WIFEXITED(st_) ? WEXITSTATUS(st_) : WTERMSIG(st_));                \
		CHECK(WIFEXITED(st_) && WEXITSTATUS(st_) == 0);                                    \
	} while (0)

/* In children: return code on the first expectation that fails. */
#define EXPECT_ERRNO(call, e, code)                                                                \
	do {                                                                                       \
		errno = 0;                                                                         \
		long r_ = (long)(call);                                                            \
		if (r_ != -1 || errno != (e))                                                      \
			return (code);                                                             \
	} while (0)
#define EXPECT_OK(call, code)                                                                      \
	do {                                                                                       \
		if ((long)(call) < 0)                                                              \
			return (code);                                                             \
	} while (0)

/* ---- actions ---------------------------------------------------------- */

static int child_errno_ret(void)
{
	EXPECT_ERRNO(syscall(SYS_getppid), 42, 1);
	EXPECT_ERRNO(syscall(SYS_getpgrp), EPERM, 2);
	EXPECT_OK(syscall(SYS_getpid), 3);
	return 0;
}

static void test_errno_ret(void)
{
	struct seccomp_program p;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		      "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42},"
		      "{\"names\":[\"getpgrp\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
		      NULL, &p, NULL) == 0);
	CHECK(p.len > 0 && !p.notify && p.flags == 0);
	CHECK_CHILD_OK(&p, child_errno_ret);
	seccomp_program_release(&p);
}

static int child_default_eacces(void)
{
	EXPECT_OK(syscall(SYS_getpid), 1);
	EXPECT_ERRNO(syscall(SYS_getppid), EACCES, 2);
	EXPECT_ERRNO(syscall(SYS_getuid), EACCES, 3);
	return 0;
}

static int child_default_eperm(void)
{
	EXPECT_OK(syscall(SYS_getpid), 1);
	EXPECT_ERRNO(syscall(SYS_getppid), EPERM, 2);
	return 0;
}

static void test_default_action(void)
{
	struct seccomp_program p;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":13,\"syscalls\":"
		      "[" ALLOW_EXIT ",{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
		      NULL, &p, NULL) == 0);
	CHECK_CHILD_OK(&p, child_default_eacces);
	seccomp_program_release(&p);

	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" ALLOW_EXIT
		      ",{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
		      NULL, &p, NULL) == 0);
	CHECK_CHILD_OK(&p, child_default_eperm);
	seccomp_program_release(&p);
}

static int child_trace_log(void)
{
	/* SCMP_ACT_TRACE without a tracer: the syscall is skipped with ENOSYS. */
	EXPECT_ERRNO(syscall(SYS_getppid), ENOSYS, 1);
	EXPECT_OK(syscall(SYS_getpgrp), 2);
	return 0;
}

static void test_trace_and_log(void)
{
	struct seccomp_program p;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		      "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":7},"
		      "{\"names\":[\"getpgrp\"],\"action\":\"SCMP_ACT_LOG\"}]}",
		      NULL, &p, NULL) == 0);
	CHECK_CHILD_OK(&p, child_trace_log);
	seccomp_program_release(&p);
}

static int child_getppid(void)
{
	syscall(SYS_getppid);
	return 0;
}

static void test_kill_actions(void)
{
	static const char *const actions[] = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
					      "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"};
	for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
		_cleanup_free_ char *prof =
		    xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
			      "{\"names\":[\"getppid\"],\"action\":\"%s\"}]}",
			      actions[i]);
		struct seccomp_program p;
		int st;

		CHECK(prepare(prof, NULL, &p, NULL) == 0);
		st = run_child(&p, child_getppid);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fprintf(stderr, "  %s: status 0x%x\n", actions[i], (unsigned int)st);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
		seccomp_program_release(&p);
	}
}

static const struct seccomp_program *notify_prog;

static int child_notify(void)
{
	/* run_child installed once already; install again to get a listener here. */
	int fd = seccomp_install(notify_prog);
	if (fd < 0)
		return 1;
	if (fcntl(fd, F_GETFD) != FD_CLOEXEC)
		return 2;
	/* With nobody listening any more, the notified syscall fails with ENOSYS. */
	close(fd);
	EXPECT_ERRNO(syscall(SYS_getppid), ENOSYS, 3);
	return 0;
}

static void test_notify(void)
{
	struct seccomp_program p, allow;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		      "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
		      NULL, &p, NULL) == 0);
	CHECK(p.notify);
	notify_prog = &p;
	/* The outer filter only allows getpgrp to fail, so the inner one decides. */
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		      "{\"names\":[\"getpgrp\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
		      NULL, &allow, NULL) == 0);
	CHECK_CHILD_OK(&allow, child_notify);
	seccomp_program_release(&p);
	seccomp_program_release(&allow);
}

/* ---- argument rules --------------------------------------------------- */

static int child_operators(void)
{
	/* getpid and friends ignore their arguments, but seccomp sees them. */
	EXPECT_OK(syscall(SYS_getpid, 5), 1); /* NE 5 */
	EXPECT_ERRNO(syscall(SYS_getpid, 6), 101, 2);
	EXPECT_ERRNO(syscall(SYS_getppid, 4), 102, 3); /* LT 5 */
	EXPECT_OK(syscall(SYS_getppid, 5), 4);
	EXPECT_ERRNO(syscall(SYS_getuid, 5), 103, 5); /* LE 5 */
	EXPECT_OK(syscall(SYS_getuid, 6), 6);
	EXPECT_ERRNO(syscall(SYS_geteuid, 5), 104, 7); /* EQ 5 */
	EXPECT_OK(syscall(SYS_geteuid, 4), 8);
	EXPECT_OK(syscall(SYS_geteuid, 0x100000005UL), 9); /* all 64 bits compared */
	EXPECT_ERRNO(syscall(SYS_getgid, 5), 105, 10);	   /* GE 5 */
	EXPECT_OK(syscall(SYS_getgid, 4), 11);
	EXPECT_ERRNO(syscall(SYS_getegid, 6), 106, 12); /* GT 5 */
	EXPECT_OK(syscall(SYS_getegid, 5), 13);
	EXPECT_ERRNO(syscall(SYS_gettid, 0x12f), 107, 14); /* (a & 0xf0) == 0x20 */
	EXPECT_OK(syscall(SYS_gettid, 0x13f), 15);
	return 0;
}

static void test_operators(void)
{
	struct seccomp_program p;
	/* clang-format off */
#define OPRULE(name, op, v, e)                                                                     \
	"{\"names\":[\"" name "\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":" #e ","             \
	"\"args\":[{\"index\":0,\"value\":" #v ",\"op\":\"" op "\"}]}"
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		      OPRULE("getpid", "SCMP_CMP_NE", 5, 101) ","
		      OPRULE("getppid", "SCMP_CMP_LT", 5, 102) ","
		      OPRULE("getuid", "SCMP_CMP_LE", 5, 103) ","
		      OPRULE("geteuid", "SCMP_CMP_EQ", 5, 104) ","
		      OPRULE("getgid", "SCMP_CMP_GE", 5, 105) ","
		      OPRULE("getegid", "SCMP_CMP_GT", 5, 106) ","
		      "{\"names\":[\"gettid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":107,"
		      "\"args\":[{\"index\":0,\"value\":240,\"valueTwo\":32,"
		      "\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}",
		      NULL, &p, NULL) == 0);
#undef OPRULE
	/* clang-format on */
	CHECK_CHILD_OK(&p, child_operators);
	seccomp_program_release(&p);
}

/* Docker's personality, socket and clone rules, on their own. */
#define DOCKER_LIKE_RULES                                                                          \
	"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" ALLOW_EXIT ","                      \
	"{\"names\":[\"getpid\",\"close\",\"wait4\"],\"action\":\"SCMP_ACT_ALLOW\"},"              \
	"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","                              \
	"\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"                            \
	"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","                              \
	"\"args\":[{\"index\":0,\"value\":4294967295,\"op\":\"SCMP_CMP_EQ\"}]},"                   \
	"{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\","                                   \
	"\"args\":[{\"index\":0,\"value\":38,\"op\":\"SCMP_CMP_LT\"}]},"                           \
	"{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\","                                   \
	"\"args\":[{\"index\":0,\"value\":39,\"op\":\"SCMP_CMP_EQ\"}]},"                           \
	"{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\","                                   \
	"\"args\":[{\"index\":0,\"value\":40,\"op\":\"SCMP_CMP_GT\"}]},"                           \
	"{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\","                                    \
	"\"args\":[{\"index\":0,\"value\":2114060288,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}"

static int child_docker_like(void)
{
	int fd;
	long pid;

	EXPECT_OK(syscall(SYS_personality, 0xffffffffUL), 1);
	EXPECT_ERRNO(syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE), EPERM, 2);
	EXPECT_ERRNO(syscall(SYS_socket, 38, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), EPERM, 3);
	EXPECT_ERRNO(syscall(SYS_socket, 40, SOCK_STREAM | SOCK_CLOEXEC, 0), EPERM, 4);
	fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 5;
	close(fd);
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM, 6);
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0), EPERM, 7);
	pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		child_exit(0);
	if (pid < 0)
		return 8;
	EXPECT_OK(syscall(SYS_wait4, pid, 0, 0, 0), 9);
	return 0;
}

static void test_docker_like_arg_rules(void)
{
	struct seccomp_program p;
	CHECK(prepare(DOCKER_LIKE_RULES, NULL, &p, NULL) == 0);
	CHECK_CHILD_OK(&p, child_docker_like);
	seccomp_program_release(&p);
}

static int child_same_index(void)
{
	/* personality: two EQ on arg0 in one rule (OR); socket: arg0 AND arg1. */
	EXPECT_OK(syscall(SYS_personality, 0xffffffffUL), 1);
	EXPECT_OK(syscall(SYS_personality, 0UL), 2);
	EXPECT_ERRNO(syscall(SYS_personality, 8UL), EPERM, 3);
	int fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return 4;
	close(fd);
	EXPECT_ERRNO(syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0), EPERM, 5);
	EXPECT_ERRNO(syscall(SYS_socket, AF_NETLINK, SOCK_STREAM, 0), EPERM, 6);
	return 0;
}

static void test_same_index_args(void)
{
	struct seccomp_program p;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" ALLOW_EXIT ","
		      "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
		      "{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},"
		      "{\"index\":0,\"value\":4294967295,\"op\":\"SCMP_CMP_EQ\"}]},"
		      "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
		      "{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
		      "{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		      NULL, &p, NULL) == 0);
	CHECK_CHILD_OK(&p, child_same_index);
	seccomp_program_release(&p);
}

/* ---- names, ENOSYS, flags, errors ------------------------------------- */

static int child_unknown_names(void)
{
	EXPECT_ERRNO(syscall(SYS_getppid), 9, 1);
	return 0;
}

static void test_unknown_syscalls_skipped(void)
{
	struct seccomp_program p;
	char *msg = NULL;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		      "{\"names\":[\"no_such_syscall\",\"getppid\",\"mseal_from_2040\"],"
		      "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":9},"
		      "{\"names\":[\"another_unknown\"],\"action\":\"SCMP_ACT_KILL\"}]}",
		      NULL, &p, &msg) == 0);
	CHECK(msg == NULL);
	free(msg);
	CHECK_CHILD_OK(&p, child_unknown_names);
	seccomp_program_release(&p);
}

static int child_enosys(void)
{
	EXPECT_OK(syscall(SYS_getpid), 1);
	/* Known to the profile's range (below exit_group): the default errno. */
	EXPECT_ERRNO(syscall(SYS_getppid), EPERM, 2);
	/* Above anything the profile names: ENOSYS, so libc would fall back. */
	EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS, 3);
	EXPECT_ERRNO(syscall(1000), ENOSYS, 4);
	return 0;
}

static int child_enosys_x32(void)
{
	/* An x32 number above the profile's: ENOSYS too; below it: the default. */
	EXPECT_ERRNO(syscall(0x40000000 | 1000), ENOSYS, 1);
	EXPECT_ERRNO(syscall(0x40000000 | SYS_getppid), EPERM, 2);
	return 0;
}

static void test_enosys_for_newer_syscalls(void)
{
	struct seccomp_program p;
	const char *prof =
	    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":"
	    "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
	    "\"syscalls\":[" ALLOW_EXIT ",{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
	CHECK(prepare(prof, NULL, &p, NULL) == 0);
	CHECK_CHILD_OK(&p, child_enosys);
	CHECK_CHILD_OK(&p, child_enosys_x32);
	seccomp_program_release(&p);
}

static int child_flags(void)
{
	EXPECT_ERRNO(syscall(SYS_getppid), EPERM, 1);
	return 0;
}

static void test_flags(void)
{
	struct seccomp_program p;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
		      "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
		      "\"SECCOMP_FILTER_FLAG_TSYNC\"],\"syscalls\":["
		      "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
		      NULL, &p, NULL) == 0);
	CHECK_INT(p.flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
			       SECCOMP_FILTER_FLAG_TSYNC);
	CHECK_CHILD_OK(&p, child_flags);
	seccomp_program_release(&p);
}

static void test_errors_name_the_field(void)
{
	static const struct {
		const char *profile;
		const char *msg;
	} cases[] = {
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
	     "{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ERRNO\"},"
	     "{\"names\":[\"b\"],\"action\":\"SCMP_ACT_ERRNO\"},"
	     "{\"names\":[\"c\"],\"action\":\"SCMP_ACT_ERRNO\"},"
	     "{\"names\":[\"d\"],\"action\":\"SCMP_ACT_FOO\"}]}",
	     "invalid value for 'linux.seccomp.syscalls[3].action': unknown action "
	     "'SCMP_ACT_FOO'"},
	    {"{\"defaultAction\":\"SCMP_ACT_BAR\"}",
	     "invalid value for 'linux.seccomp.defaultAction': unknown action 'SCMP_ACT_BAR'"},
	    {"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}",
	     "invalid value for 'linux.seccomp.defaultAction': SCMP_ACT_NOTIFY cannot be the "
	     "default action"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
	     "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":"
	     "\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}]}",
	     "invalid value for 'linux.seccomp.syscalls[0].args[1].op': unknown operator "
	     "'SCMP_CMP_FOO'"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
	     "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":"
	     "\"SCMP_CMP_EQ\"}]}]}",
	     "invalid value for 'linux.seccomp.syscalls[0].args[0].index': 6 is not a syscall "
	     "argument (0 to 5)"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\","
	     "\"SCMP_ARCH_FOO\"]}",
	     "invalid value for 'linux.seccomp.architectures[1]': unknown architecture "
	     "'SCMP_ARCH_FOO'"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FOO\"]}",
	     "invalid value for 'linux.seccomp.flags[0]': unknown flag "
	     "'SECCOMP_FILTER_FLAG_FOO'"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
	     "\"action\":\"SCMP_ACT_KILL\",\"errnoRet\":1}]}",
	     "invalid value for 'linux.seccomp.syscalls[0].errnoRet': only SCMP_ACT_ERRNO and "
	     "SCMP_ACT_TRACE take an errno, not 'SCMP_ACT_KILL'"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
	     "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5000}]}",
	     "invalid value for 'linux.seccomp.syscalls[0].errnoRet': 5000 is not an errno (at "
	     "most 4095)"},
	    {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}",
	     "invalid value for 'linux.seccomp.defaultErrnoRet': 70000 is not an errno (at most "
	     "4095)"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct seccomp_program p;
		_cleanup_free_ char *msg = NULL;
		CHECK(prepare(cases[i].profile, NULL, &p, &msg) < 0);
		CHECK_STREQ(msg, cases[i].msg);
		CHECK(p.filter == NULL);
	}
}

static void test_architectures(void)
{
	struct seccomp_program a, b;
	CHECK(prepare(
		  "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":"
		  "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\",\"SCMP_ARCH_AARCH64\","
		  "\"SCMP_ARCH_ARM\",\"SCMP_ARCH_PPC64LE\","
		  "\"SCMP_ARCH_RISCV64\",\"SCMP_ARCH_MIPSEL64\"],\"syscalls\":[" ALLOW_EXIT "]}",
		  NULL, &a, NULL) == 0);
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" ALLOW_EXIT "]}", NULL,
		      &b, NULL) == 0);
	CHECK(a.len > b.len);
	seccomp_program_release(&a);
	seccomp_program_release(&b);

	/* libseccomp cannot mix byte orders in one filter. */
	_cleanup_free_ char *msg = NULL;
	CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":"
		      "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_S390X\"]}",
		      NULL, &a, &msg) < 0);
	CHECK(msg && strstr(msg, "'linux.seccomp.architectures[1]'"));
}

/* ---- cache ------------------------------------------------------------ */

/* The one *.bpf file in dir (caller frees), NULL unless exactly one. */
static char *cache_file(const char *dir, size_t *ret_count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *found = NULL;
	size_t n = 0;

	if (!d)
		return NULL;
	while ((de = readdir(d)))
		if (endswith(de->d_name, ".bpf")) {
			n++;
			free(found);
			found = xasprintf("%s/%s", dir, de->d_name);
		}
	closedir(d);
	if (ret_count)
		*ret_count = n;
	return found;
}

static bool same_program(const struct seccomp_program *a, const struct seccomp_program *b)
{
	return a->len == b->len && a->len > 0 && a->filter && b->filter &&
	       memcmp(a->filter, b->filter, a->len * sizeof(*a->filter)) == 0 &&
	       a->flags == b->flags && a->notify == b->notify;
}

static char *slurp(const char *path, size_t *len)
{
	char *s = NULL;
	if (read_file_at(AT_FDCWD, path, 1 << 20, &s, len) < 0)
		return NULL;
	return s;
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? 0 : st.st_ino;
}

/* Damage the cache entry, prepare again: the program must be the fresh one. */
static void check_rebuilt(const char *prof, const char *dir, const char *path,
			  const struct seccomp_program *fresh, const char *good, size_t good_len)
{
	struct seccomp_program p;
	_cleanup_free_ char *now = NULL;
	size_t now_len = 0;

	CHECK(prepare(prof, dir, &p, NULL) == 0);
	CHECK(same_program(&p, fresh));
	now = slurp(path, &now_len);
	CHECK(now && now_len == good_len && memcmp(now, good, good_len) == 0);
	seccomp_program_release(&p);
}

static void test_cache(void)
{
	const char *prof = DOCKER_LIKE_RULES;
	const char *other = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
			    "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
	char tmpl[] = "/tmp/berth-test-seccomp-XXXXXX";
	char *dir = mkdtemp(tmpl);
	_cleanup_free_ char *cdir = NULL, *path = NULL, *good = NULL, *other_path = NULL;
	_cleanup_free_ char *other_data = NULL;
	struct seccomp_program fresh, p1, p2;
	size_t good_len = 0, n = 0, other_len = 0;
	ino_t ino;
	int fd;

	CHECK(dir != NULL);
	if (!dir)
		return;
	/* A missing cache directory is created. */
	cdir = xasprintf("%s/cache", dir);
	CHECK(prepare(prof, NULL, &fresh, NULL) == 0);
	CHECK(prepare(prof, cdir, &p1, NULL) == 0);
	CHECK(same_program(&p1, &fresh));
	path = cache_file(cdir, &n);
	CHECK(path && n == 1);
	if (!path)
		goto out;
	good = slurp(path, &good_len);
	CHECK(good && good_len > fresh.len * sizeof(*fresh.filter));
	ino = inode_of(path);

	/* A hit neither rewrites the entry nor changes the program. */
	CHECK(prepare(prof, cdir, &p2, NULL) == 0);
	CHECK(same_program(&p2, &fresh));
	CHECK(inode_of(path) == ino);
	seccomp_program_release(&p1);
	seccomp_program_release(&p2);

	/* A flipped bit in the program. */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0 && pwrite(fd, "\x5a", 1, (off_t)good_len - 3) == 1);
	close(fd);
	check_rebuilt(prof, cdir, path, &fresh, good, good_len);
	CHECK(inode_of(path) != ino);

	/* A flipped bit in the serialisation. */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0 && pwrite(fd, "\x01", 1, 40) == 1);
	close(fd);
	check_rebuilt(prof, cdir, path, &fresh, good, good_len);

	/* Truncated, empty, garbage. */
	CHECK(truncate(path, (off_t)good_len / 2) == 0);
	check_rebuilt(prof, cdir, path, &fresh, good, good_len);
	CHECK(truncate(path, 0) == 0);
	check_rebuilt(prof, cdir, path, &fresh, good, good_len);
	CHECK(write_file_atomic(path, "BRTHSCMPgarbage", 15, 0600) == 0);
	check_rebuilt(prof, cdir, path, &fresh, good, good_len);

	/* Writable by others: not trusted. */
	CHECK(chmod(path, 0666) == 0);
	ino = inode_of(path);
	check_rebuilt(prof, cdir, path, &fresh, good, good_len);
	CHECK(inode_of(path) != ino);

	/* Another profile's valid entry under this profile's name: not used. */
	CHECK(prepare(other, cdir, &p1, NULL) == 0);
	seccomp_program_release(&p1);
	free(cache_file(cdir, &n));
	CHECK(n == 2);
	other_path = xasprintf("%s.other", path);
	{
		DIR *d = opendir(cdir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			_cleanup_free_ char *f = xasprintf("%s/%s", cdir, de->d_name);
			if (endswith(de->d_name, ".bpf") && !streq(f, path))
				other_data = slurp(f, &other_len);
		}
		if (d)
			closedir(d);
	}
	CHECK(other_data != NULL);
	if (other_data) {
		CHECK(write_file_atomic(path, other_data, other_len, 0600) == 0);
		check_rebuilt(prof, cdir, path, &fresh, good, good_len);
	}
out:
	seccomp_program_release(&fresh);
	CHECK(rm_rf(dir) == 0);
}

/* ---- Docker's default profile ------------------------------------------ */

/* The copy in the repo; else BERTH_SHARED (default ../shared) /reference. */
static json_object *load_docker_profile(void)
{
	const char *srcdir = getenv("BERTH_SRCDIR");
	const char *shared = getenv("BERTH_SHARED");
	_cleanup_free_ char *p1 =
	    xasprintf("%s/src/runtime/profiles/docker-default-seccomp.json", srcdir ? srcdir : ".");
	_cleanup_free_ char *p2 =
	    xasprintf("%s/reference/docker-default-seccomp.json", shared ? shared : "../shared");
	const char *paths[] = {p1, p2};

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		json_object *o = NULL;
		_cleanup_error_ struct error *err = NULL;
		if (access(paths[i], R_OK) < 0)
			continue;
		if (json_parse_file(paths[i], 1 << 20, &o, &err) < 0) {
			fprintf(stderr, "  %s: %s\n", paths[i], err ? err->msg : "?");
			return NULL;
		}
		return o;
	}
	return NULL;
}

static int docker_oci(char *const *caps, struct oci_seccomp **ret)
{
	_cleanup_json_ json_object *o = load_docker_profile();
	_cleanup_error_ struct error *err = NULL;
	int r;

	if (!o)
		return -ENOENT;
	r = seccomp_docker_profile_to_oci(o, caps, ret, &err);
	if (r < 0)
		fprintf(stderr, "  docker profile: %s\n", err ? err->msg : "?");
	return r;
}

static bool has_rule_for(const struct oci_seccomp *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (strv_contains(sc->syscalls[i].names, name))
			return true;
	return false;
}

static int child_docker_default(void)
{
	int fd;

	EXPECT_OK(syscall(SYS_getpid), 1);
	EXPECT_ERRNO(syscall(SYS_unshare, CLONE_NEWUSER), EPERM, 2);
	EXPECT_ERRNO(syscall(SYS_unshare, 0), EPERM, 3);
	EXPECT_ERRNO(syscall(SYS_socket, 38, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), EPERM, 4);
	EXPECT_ERRNO(syscall(SYS_socket, 40, SOCK_STREAM | SOCK_CLOEXEC, 0), EPERM, 5);
	fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 6;
	close(fd);
	EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS, 7);
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0), EPERM, 8);
	EXPECT_ERRNO(syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL), EPERM, 9);
	EXPECT_ERRNO(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM, 10);
	EXPECT_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), EPERM, 11);
	EXPECT_OK(syscall(SYS_personality, 0xffffffffUL), 12);
	EXPECT_ERRNO(syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE), EPERM, 13);
	/* Newer than anything libseccomp resolved in the profile: ENOSYS. */
	EXPECT_ERRNO(syscall(1000), ENOSYS, 14);
	/* CAP_SYS_CHROOT is one of the 14. */
	EXPECT_OK(syscall(SYS_chroot, "/"), 15);
	return 0;
}

static int child_docker_sys_admin(void)
{
	/* clone3 is allowed now: it fails on its bad arguments instead. */
	EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), EINVAL, 1);
	EXPECT_OK(syscall(SYS_unshare, 0), 2);
	EXPECT_ERRNO(syscall(SYS_socket, 38, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), EPERM, 3);
	return 0;
}

static void test_docker_default_profile(void)
{
	_cleanup_(seccomp_oci_freep) struct oci_seccomp *sc = NULL, *admin = NULL;
	_cleanup_strv_free_ char **caps = strv_copy((char *const *)default_caps);
	_cleanup_error_ struct error *err = NULL;
	struct seccomp_program p;
	int r;

	r = docker_oci(caps, &sc);
	if (r == -ENOENT) {
		printf("ok - test_docker_default_profile # skip docker-default-seccomp.json not "
		       "found\n");
		return;
	}
	CHECK(r == 0);
	if (r < 0)
		return;
	CHECK_STREQ(sc->default_action, "SCMP_ACT_ERRNO");
	CHECK(sc->default_errno_ret.set && sc->default_errno_ret.v == EPERM);
	CHECK(strv_length(sc->architectures) == 3);
	CHECK(sc->architectures && streq(sc->architectures[0], "SCMP_ARCH_X86_64"));
	CHECK(has_rule_for(sc, "chroot"));     /* CAP_SYS_CHROOT */
	CHECK(has_rule_for(sc, "ptrace"));     /* minKernel 4.8 */
	CHECK(has_rule_for(sc, "arch_prctl")); /* amd64 */
	CHECK(!has_rule_for(sc, "s390_runtime_instr"));
	CHECK(!has_rule_for(sc, "mount"));
	CHECK(!has_rule_for(sc, "reboot"));
	/* Groups 0-9, 12, 13, 18, 20 and 22 apply. */
	CHECK_INT(sc->n_syscalls, 15);

	CHECK(seccomp_prepare(sc, NULL, &p, &err) == 0);
	CHECK(!p.notify);
	CHECK_CHILD_OK(&p, child_docker_default);
	seccomp_program_release(&p);

	caps = strv_append(caps, "CAP_SYS_ADMIN");
	CHECK(docker_oci(caps, &admin) == 0);
	CHECK(admin && has_rule_for(admin, "mount"));
	CHECK(admin && seccomp_prepare(admin, NULL, &p, &err) == 0);
	CHECK_CHILD_OK(&p, child_docker_sys_admin);
	seccomp_program_release(&p);
}

static void test_docker_profile_errors(void)
{
	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
	    {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
	     "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4.x\"}}]}",
	     "invalid value for 'syscalls[0].includes.minKernel': '4.x' is not a kernel version "
	     "(expected <major>.<minor>)"},
	    {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
	     "\"action\":\"SCMP_ACT_ALLOW\"},{\"name\":\"a\",\"names\":[\"b\"],"
	     "\"action\":\"SCMP_ACT_ALLOW\"}]}",
	     "invalid value for 'syscalls[1]': both 'name' and 'names' are given, use one of "
	     "them"},
	    {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
	     "\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":\"CAP_X\"}}]}",
	     "invalid value for 'syscalls[0].excludes.caps': must be an array of strings"},
	    {"{\"syscalls\":[]}", "missing required field 'defaultAction'"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *o = NULL;
		_cleanup_error_ struct error *err = NULL;
		struct oci_seccomp *sc = NULL;

		CHECK(json_parse_buffer(cases[i].json, strlen(cases[i].json), &o, &err) == 0);
		CHECK(seccomp_docker_profile_to_oci(o, NULL, &sc, &err) < 0);
		CHECK(sc == NULL);
		CHECK_STREQ(err ? err->msg : NULL, cases[i].msg);
	}
}

static double usec_since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e6 + (double)(b.tv_nsec - a->tv_nsec) / 1e3;
}

/* Not a pass/fail test: prints what the cache saves on Docker's profile. */
static void test_timing_compile_vs_cache(void)
{
	_cleanup_(seccomp_oci_freep) struct oci_seccomp *sc = NULL;
	_cleanup_strv_free_ char **caps = strv_copy((char *const *)default_caps);
	char tmpl[] = "/tmp/berth-test-seccomp-XXXXXX";
	char *dir;
	struct timespec t;
	double compile_us, cached_us, install_us;
	struct seccomp_program p;
	const int n_compile = 20, n_cached = 500;

	if (docker_oci(caps, &sc) < 0) {
		printf("ok - test_timing_compile_vs_cache # skip no profile\n");
		return;
	}
	dir = mkdtemp(tmpl);
	CHECK(dir != NULL);
	if (!dir)
		return;

	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int i = 0; i < n_compile; i++) {
		CHECK(seccomp_prepare(sc, NULL, &p, NULL) == 0);
		seccomp_program_release(&p);
	}
	compile_us = usec_since(&t) / n_compile;

	CHECK(seccomp_prepare(sc, dir, &p, NULL) == 0);
	seccomp_program_release(&p);
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int i = 0; i < n_cached; i++) {
		CHECK(seccomp_prepare(sc, dir, &p, NULL) == 0);
		if (i < n_cached - 1)
			seccomp_program_release(&p);
	}
	cached_us = usec_since(&t) / n_cached;

	/* Installing in a child: fork + install + exit, minus fork + exit. */
	{
		struct timespec t0;
		double with = 0, without = 0;
		for (int i = 0; i < 20; i++) {
			pid_t pid;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			pid = fork();
			if (pid == 0)
				_exit(seccomp_install(&p) < 0);
			waitpid(pid, NULL, 0);
			with += usec_since(&t0);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			pid = fork();
			if (pid == 0)
				_exit(0);
			waitpid(pid, NULL, 0);
			without += usec_since(&t0);
		}
		install_us = (with - without) / 20;
	}
	printf("# docker default profile: %zu instructions; compile %.0f us, cache hit %.1f us, "
	       "install ~%.0f us\n",
	       p.len, compile_us, cached_us, install_us);
	seccomp_program_release(&p);
	CHECK(rm_rf(dir) == 0);
}

int main(void)
{
	if (geteuid() != 0)
		fprintf(stderr, "# not root: installing without no_new_privs may fail\n");
	RUN(test_errno_ret);
	RUN(test_default_action);
	RUN(test_trace_and_log);
	RUN(test_kill_actions);
	RUN(test_notify);
	RUN(test_operators);
	RUN(test_docker_like_arg_rules);
	RUN(test_same_index_args);
	RUN(test_unknown_syscalls_skipped);
	RUN(test_enosys_for_newer_syscalls);
	RUN(test_flags);
	RUN(test_errors_name_the_field);
	RUN(test_architectures);
	RUN(test_cache);
	RUN(test_docker_default_profile);
	RUN(test_docker_profile_errors);
	RUN(test_timing_compile_vs_cache);
	return TEST_SUMMARY();
}
