"""berth-runtime process config: args, env, cwd, user, umask, additionalGids, terminal and
consoleSize, rlimits, capabilities, noNewPrivileges, oomScoreAdj, seccomp."""

import json

import pytest

from rtutil import (ConsoleSocket, create, decode_caps, run, sh, status_fields, uid,
                    wait_for)


def test_args_env_cwd(bundle, rt):
    bundle.config["process"]["env"] += ["FOO=bar baz", "EMPTY="]
    bundle.config["process"]["cwd"] = "/tmp"
    out = sh(rt, bundle, 'echo "$FOO"; echo "[$EMPTY]"; pwd; echo "$0 $#"; echo "$HOME"')
    assert out.splitlines() == ["bar baz", "[]", "/tmp", "sh 0", "/root"]


def test_cwd_created_if_missing(bundle, rt):
    bundle.config["process"]["cwd"] = "/does/not/exist/yet"
    assert sh(rt, bundle, "pwd") == "/does/not/exist/yet\n"


def test_path_lookup_uses_container_env(bundle, rt):
    bundle.config["process"]["env"] = ["PATH=/usr/bin"]
    # `id` lives in /usr/bin, `echo` only in /bin.
    p = run(rt, bundle, uid("path"), "id", "-u")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "0\n"
    p = run(rt, bundle, uid("path"), "echo", "x")
    assert p.returncode != 0
    assert "echo" in p.stderr


def test_exec_missing_binary(bundle, rt):
    cid = uid("nobin")
    p = run(rt, bundle, cid, "/bin/no-such-binary")
    assert p.returncode != 0
    assert "no-such-binary" in p.stderr
    assert rt("state", cid).returncode != 0


def test_user_uid_gid_umask_additional_gids(bundle, rt):
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1001, "umask": 0o077,
                                        "additionalGids": [10, 20]}
    out = sh(rt, bundle, "id -u; id -g; id -G; touch /tmp/f; mkdir /tmp/d; "
             "stat -c %a /tmp/f /tmp/d; stat -c '%u %g' /tmp/f")
    lines = out.splitlines()
    assert lines[0] == "1000"
    assert lines[1] == "1001"
    assert set(lines[2].split()) == {"1001", "10", "20"}
    assert lines[3:5] == ["600", "700"]
    assert lines[5] == "1000 1001"


def test_umask_default_022(bundle, rt):
    assert sh(rt, bundle, "umask") == "0022\n"


def test_user_home_from_passwd_and_default(bundle, rt):
    bundle.config["process"]["user"] = {"uid": 65534, "gid": 65534}
    out = sh(rt, bundle, 'echo "$HOME"')
    # nobody's home in /etc/passwd, or "/" when there is none.
    with open(bundle.rootfs / "etc" / "passwd") as f:
        homes = {ln.split(":")[2]: ln.split(":")[5] for ln in f if ln.count(":") >= 6}
    assert out.strip() == homes.get("65534", "/")


def test_terminal_console_size(bundle, rt, tmp_path):
    bundle.config["process"]["terminal"] = True
    bundle.config["process"]["consoleSize"] = {"height": 33, "width": 111}
    bundle.set_args("sh", "-c", "stty size; tty; test -t 0 && test -t 1 && echo is-a-tty").write()
    cid = uid("tty")
    with ConsoleSocket(tmp_path / "console.sock") as cs:
        p = rt("create", "--console-socket", cs.path, "--bundle", bundle.path, cid,
               timeout=20)
        assert p.returncode == 0, p.stderr
        assert cs.got_fd.wait(10) and cs.error is None, cs.error
        p = rt("start", cid)
        assert p.returncode == 0, p.stderr
        out = cs.wait_output(b"is-a-tty")
        assert cs.error is None, cs.error
    text = out.decode(errors="replace").replace("\r", "")
    assert "33 111\n" in text
    assert "/dev/console" in text or "/dev/pts/" in text
    assert "is-a-tty" in text


def test_terminal_create_without_console_socket_refused(bundle, rt):
    bundle.config["process"]["terminal"] = True
    bundle.set_args("true").write()
    cid = uid("tty")
    p = rt("create", "--bundle", bundle.path, cid)
    assert p.returncode != 0
    assert "console" in p.stderr
    assert rt("state", cid).returncode != 0


def test_rlimits(bundle, rt):
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    out = sh(rt, bundle, "ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -c; "
             "grep 'Max open files' /proc/self/limits")
    lines = out.splitlines()
    assert lines[:5] == ["512", "1024", "300", "400", "0"]
    assert lines[5].split()[3:5] == ["512", "1024"]


def test_rlimit_raise_refused(bundle, rt):
    # Root here lacks CAP_SYS_RESOURCE: raising the hard limit above the current one fails.
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024,
                                            "hard": 1 << 30}]
    cid = uid("rl")
    p = run(rt, bundle, cid, "true")
    assert p.returncode != 0
    assert "RLIMIT_NOFILE" in p.stderr
    assert rt("state", cid).returncode != 0


def test_late_setup_error_reaches_start(bundle, rt):
    """create reports ready before the init's last steps (rlimits, seccomp, capabilities,
    the user; src/runtime/container.c finalize_late): when one of them fails, start fails
    with its message, and the container is stopped."""
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024,
                                            "hard": 1 << 30}]
    cid = create(rt, bundle, args=("true",))
    p = rt("start", cid)
    assert p.returncode != 0
    assert "RLIMIT_NOFILE" in p.stderr, p.stderr
    wait_for(lambda: json.loads(rt("state", cid).stdout)["status"] == "stopped", 5,
             what="the init to go")
    assert rt("delete", cid).returncode == 0


def test_seccomp_and_caps_in_place_after_create_start(bundle, rt):
    """The late steps are done before the user's process runs."""
    bundle.config["process"]["capabilities"] = {k: ["CAP_CHOWN"] for k in
                                                ("bounding", "effective", "permitted")}
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["sethostname"], "action": "SCMP_ACT_ERRNO"}]}
    cid = create(rt, bundle, args=("sh", "-c", "grep -E '^(Seccomp|CapBnd|CapEff):' "
                                   "/proc/self/status > /tmp/out; sleep 10"))
    p = rt("start", cid)
    assert p.returncode == 0, p.stderr
    out = wait_for(lambda: rt("exec", cid, "cat", "/tmp/out").stdout or None, 5,
                   what="the status lines")
    f = status_fields(out)
    assert f["Seccomp"] == "2"
    assert f["CapBnd"] == f["CapEff"] == "0000000000000001"
    rt("kill", cid, "KILL")
    wait_for(lambda: json.loads(rt("state", cid).stdout)["status"] == "stopped", 5,
             what="the container to stop")
    assert rt("delete", cid).returncode == 0


def test_rlimit_unknown_type(bundle, rt):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    p = run(rt, bundle, uid("rl"), "true")
    assert p.returncode != 0
    assert "RLIMIT_BOGUS" in p.stderr


def _caps(out):
    f = status_fields(out)
    return {k: decode_caps(f[k]) for k in ("CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb")}


def test_capabilities_five_sets_non_root(bundle, rt):
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.config["process"]["capabilities"] = {
        "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW", "CAP_SETUID"],
        "inheritable": ["CAP_KILL", "CAP_CHOWN"],
        "permitted": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
        "effective": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
        "ambient": ["CAP_KILL", "CAP_CHOWN"],
    }
    caps = _caps(sh(rt, bundle, "cat /proc/self/status"))
    assert caps["CapBnd"] == {"CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW", "CAP_SETUID"}
    assert caps["CapInh"] == {"CAP_KILL", "CAP_CHOWN"}
    # After execve as non-root without file capabilities: permitted = effective = ambient.
    assert caps["CapAmb"] == {"CAP_KILL", "CAP_CHOWN"}
    assert caps["CapPrm"] == {"CAP_KILL", "CAP_CHOWN"}
    assert caps["CapEff"] == {"CAP_KILL", "CAP_CHOWN"}


def test_capabilities_root(bundle, rt):
    bundle.config["process"]["capabilities"] = {
        "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_FOWNER"],
        "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_FOWNER"],
        "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_FOWNER"],
    }
    out = sh(rt, bundle, "cat /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f 2>&1; true")
    caps = _caps(out)
    assert caps["CapBnd"] == {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_FOWNER"}
    assert caps["CapEff"] == caps["CapPrm"] == caps["CapBnd"]
    assert caps["CapInh"] == set() and caps["CapAmb"] == set()
    # No CAP_CHOWN: even root cannot chown.
    assert "Operation not permitted" in out


def test_capabilities_none(bundle, rt):
    bundle.config["process"]["capabilities"] = {}
    caps = _caps(sh(rt, bundle, "cat /proc/self/status"))
    assert all(v == set() for v in caps.values()), caps


def test_capability_unknown_warns(bundle, rt):
    # As runc: an unknown capability is reported and ignored.
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_MAKE_COFFEE")
    p = run(rt, bundle, uid("cap"), "cat", "/proc/self/status")
    assert p.returncode == 0, p.stderr
    assert "CAP_MAKE_COFFEE" in p.stderr
    assert decode_caps(status_fields(p.stdout)["CapBnd"]) == {
        "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}


@pytest.mark.parametrize("nnp,expect", [(True, "1"), (False, "0")])
def test_no_new_privileges(bundle, rt, nnp, expect):
    bundle.config["process"]["noNewPrivileges"] = nnp
    out = sh(rt, bundle, "cat /proc/self/status")
    assert status_fields(out)["NoNewPrivs"] == expect


def test_oom_score_adj(bundle, rt):
    bundle.config["process"]["oomScoreAdj"] = 500
    assert sh(rt, bundle, "cat /proc/self/oom_score_adj") == "500\n"


def test_hostname_domainname(bundle, rt):
    bundle.config["hostname"] = "box-one"
    bundle.config["domainname"] = "example.test"
    out = sh(rt, bundle, "hostname; cat /proc/sys/kernel/domainname")
    assert out == "box-one\nexample.test\n"


# ------------------------------------------------------------------ seccomp

def _seccomp(bundle, *rules, default="SCMP_ACT_ALLOW"):
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": default,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": list(rules),
    }


def test_seccomp_errno(bundle, rt):
    _seccomp(bundle, {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 13})
    out = sh(rt, bundle, "mkdir /tmp/x 2>&1; echo rc=$?; test -d /tmp/x || echo no-dir; "
             "touch /tmp/y && echo touch-ok")
    assert "Permission denied" in out
    assert "rc=1" in out and "no-dir" in out and "touch-ok" in out


def test_seccomp_errno_default_eperm(bundle, rt):
    _seccomp(bundle, {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"})
    out = sh(rt, bundle, "mkdir /tmp/x 2>&1; true")
    assert "Operation not permitted" in out


def test_seccomp_arg_rule(bundle, rt):
    rules = [{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
              "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]},
             {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
              "args": [{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"}]}]
    _seccomp(bundle, *rules)
    out = sh(rt, bundle, "touch /tmp/f; chmod 700 /tmp/f 2>&1; echo rc=$?; "
             "chmod 750 /tmp/f && stat -c %a /tmp/f")
    lines = out.splitlines()
    assert "Operation not permitted" in lines[0]
    assert lines[1] == "rc=1"
    assert lines[2] == "750"


def test_seccomp_kill(bundle, rt):
    _seccomp(bundle, {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"})
    out = sh(rt, bundle, "mkdir /tmp/x; echo rc=$?")
    assert out.strip().splitlines()[-1] == "rc=159"  # 128 + SIGSYS


def test_seccomp_default_errno_allowlist(bundle, rt):
    # Deny by default; allow what sh and echo need but not mkdir.
    allowed = ["read", "write", "exit", "exit_group", "brk", "mmap", "munmap", "mprotect",
               "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "getpid", "getppid", "getuid",
               "geteuid", "getgid", "getegid", "fcntl", "dup2", "dup3", "close", "arch_prctl",
               "set_tid_address", "set_robust_list", "rseq", "prlimit64", "uname", "ioctl",
               "newfstatat", "fstat", "stat", "lstat", "readlink", "getcwd", "execve",
               "wait4", "fork", "vfork", "clone", "clone3", "access", "openat", "open",
               "getrandom", "statx", "lseek", "getpgrp", "setpgid", "getpgid", "sigaltstack",
               "futex", "pread64", "faccessat", "faccessat2", "sendmsg", "recvmsg", "sendto",
               "recvfrom", "close_range", "fstatfs", "statfs", "getdents64", "capget", "capset",
               "prctl", "setgroups", "setresuid", "setresgid", "setuid", "setgid", "chdir",
               "fchdir", "umask", "poll", "ppoll", "nanosleep", "clock_nanosleep", "kill",
               "tgkill", "gettid", "madvise", "pipe2", "sched_getaffinity", "sched_yield",
               "getdents", "readlinkat", "exit", "seccomp", "setsid", "getsid", "dup",
               "pidfd_open", "pidfd_send_signal", "socket", "connect", "write", "writev"]
    _seccomp(bundle, {"names": allowed, "action": "SCMP_ACT_ALLOW"},
             default="SCMP_ACT_ERRNO")
    out = sh(rt, bundle, "echo alive; mkdir /tmp/x 2>&1; true")
    assert "alive" in out
    assert "Operation not permitted" in out


def test_seccomp_invalid_action(bundle, rt):
    _seccomp(bundle, {"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"})
    p = run(rt, bundle, uid("sc"), "true")
    assert p.returncode != 0
    assert "SCMP_ACT_EXPLODE" in p.stderr


def test_seccomp_unknown_syscall_ignored(bundle, rt):
    _seccomp(bundle, {"names": ["no_such_syscall_xyz", "mkdirat", "mkdir"],
                      "action": "SCMP_ACT_ERRNO"})
    out = sh(rt, bundle, "mkdir /tmp/x 2>&1; true")
    assert "Operation not permitted" in out
