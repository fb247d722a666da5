"""Security rules of berth-runtime (DESIGN.md §9, security-notes.md §2), each one attacked.

Every test plays the attack from the CVE table and then asserts that the host side-effect
is absent (the host file, mount table, binary or directory is unchanged), not just that the
runtime printed an error. Rootfs variants are copies of the cached busybox rootfs.
"""

import hashlib
import json
import os
import platform
import shutil
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

import helpers

RUNTIME_BIN = Path(os.environ.get("BERTH_RUNTIME") or helpers.REPO / "build" / "bin" / "berth-runtime")
DOCKER_SECCOMP = helpers.REPO / "src" / "runtime" / "profiles" / "docker-default-seccomp.json"

DOCKER_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]
DOCKER_CAPS_MASK = "00000000a80425fb"

F_GET_SEALS = 1034
ALL_SEALS = 0x1 | 0x2 | 0x4 | 0x8  # SEAL, SHRINK, GROW, WRITE


# --------------------------------------------------------------------------- helpers

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_fingerprint(path):
    st = os.lstat(path)
    return (sha256(path), st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns)


def read_text(path):
    with open(path) as f:
        return f.read()


def host_mounts(pytest_root):
    """Host mount table as a set of (mountpoint, root, fstype, source), ignoring mounts that
    concurrent test runs make under pytest's own temporary folders."""
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            mp = helpers._unescape(fields[4])
            if mp.startswith(str(pytest_root)) or "/pytest-of-" in mp:
                continue
            # the container layers of test berthds running beside (engine.Berthd folders)
            if mp.startswith("/tmp/b") and "/data/containers/" in mp:
                continue
            out.add((mp, fields[3], fields[sep + 1], fields[sep + 2]))
    return out


@pytest.fixture
def pytest_root(tmp_path_factory):
    return tmp_path_factory.getbasetemp().parent


def drop_mount(bundle, dest):
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != dest]


def drop_mounts_under(bundle, prefix):
    bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                               if not (m["destination"] == prefix
                                       or m["destination"].startswith(prefix + "/"))]


def add_bind(bundle, src, dest, options=("rbind", "rw")):
    bundle.config["mounts"].append({"destination": dest, "type": "bind", "source": str(src),
                                    "options": list(options)})


def fd_numbers(ls_output):
    return sorted(int(x) for x in ls_output.split() if x.isdigit())


def wait_for(pred, timeout=10.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def state_pid(rt, cid):
    p = rt("state", cid)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["pid"]


def start_detached(rt, bundle, cid, *args):
    bundle.set_args(*args).write()
    p = rt("run", "-d", "--bundle", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    return state_pid(rt, cid)


def host_dir_ids(paths, exclude_under=()):
    """(st_dev, st_ino) of host directories, minus those inside exclude_under."""
    excl = set()
    for root in exclude_under:
        for dirpath, dirnames, _ in os.walk(root):
            for d in [dirpath] + [os.path.join(dirpath, x) for x in dirnames]:
                try:
                    st = os.lstat(d)
                    excl.add((st.st_dev, st.st_ino))
                except OSError:
                    pass
    ids = {}
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) not in excl:
            ids[(st.st_dev, st.st_ino)] = str(p)
    return ids


def cgroup_dirs(limit=400):
    out = []
    for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup"):
        out.append(dirpath)
        if dirpath.count("/") > 6:
            dirnames[:] = []
        if len(out) >= limit:
            break
    return out


@pytest.fixture
def tracker(_berth_tracker):
    return _berth_tracker


@pytest.fixture
def runtime_copy(tmp_path, tracker):
    """A private copy of berth-runtime (so a successful CVE-2019-5736 overwrite would hit the
    copy, not the build) with its own --root, cleaned up like the runtime fixture."""
    copy = tmp_path / "berth-runtime-copy"
    shutil.copy2(RUNTIME_BIN, copy)
    r = helpers.Runtime(copy, tmp_path / "rt-copy-root")
    tracker.runtimes.append(r)
    return r, copy


class ConsoleSocket:
    """A console-socket server: receives the pty master (SCM_RIGHTS) and reads it."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.sock.settimeout(30)
        self.masters = []
        self.output = b""
        self.error = None
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(30)
                msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
                self.masters.extend(fds)
            if not self.masters:
                return
            m = self.masters[0]
            os.set_blocking(m, False)
            deadline = time.monotonic() + 30
            while not self._stop and time.monotonic() < deadline:
                try:
                    b = os.read(m, 4096)
                except BlockingIOError:
                    time.sleep(0.02)
                    continue
                except OSError:  # EIO: every slave closed
                    break
                if not b:
                    break
                self.output += b
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def close(self):
        self._stop = True
        self.thread.join(timeout=10)
        for fd in self.masters:
            try:
                os.close(fd)
            except OSError:
                pass
        self.sock.close()


# ------------------------------------------------------- rule 1: no fd reaches the container

def test_fd_run_shows_only_stdio(bundle, rt):
    bundle.set_args("ls", "/proc/self/fd").write()
    p = rt("run", "--bundle", bundle.path, "fd-run")
    assert p.returncode == 0, p.stderr
    # 0, 1, 2 and the directory ls opened to list them.
    assert fd_numbers(p.stdout) == [0, 1, 2, 3], p.stdout


def test_fd_run_ignores_unpassed_fds(bundle, runtime, tmp_path):
    """fds the caller left open (not CLOEXEC) but did not pass must not reach the container."""
    secret = tmp_path / "secret"
    secret.write_text("host secret\n")
    bundle.set_args("sh", "-c", "ls /proc/self/fd; cat /proc/self/fd/5 2>&1; true").write()
    cmd = (f'exec 5<"{secret}" 6<"{tmp_path}"; exec "{runtime.binary}" --root "{runtime.root}" '
           f'run --bundle "{bundle.path}" fd-unpassed')
    runtime.created.append("fd-unpassed")
    p = subprocess.run(["bash", "-c", cmd], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    # sh -c runs ls in a child: 0,1,2 and ls's directory fd 3.
    assert fd_numbers(" ".join(lines[:-1] if len(lines) > 1 else lines)) == [0, 1, 2, 3], p.stdout
    assert "host secret" not in p.stdout


def test_fd_exec_shows_only_stdio(bundle, rt):
    start_detached(rt, bundle, "fd-exec", "sleep", "30")
    p = rt("exec", "fd-exec", "ls", "/proc/self/fd")
    assert p.returncode == 0, p.stderr
    assert fd_numbers(p.stdout) == [0, 1, 2, 3], p.stdout
    # The init (sleep) holds only its stdio.
    p = rt("exec", "fd-exec", "ls", "/proc/1/fd")
    assert p.returncode == 0, p.stderr
    assert fd_numbers(p.stdout) == [0, 1, 2], p.stdout


def _fd_allowed(target, state_dir):
    if target.startswith(("pipe:[", "socket:[", "anon_inode:")):
        return True
    if target == "/dev/null" or target.startswith("/dev/pts/"):
        return True
    if target == f"{state_dir}/exec.fifo" or target.startswith(f"{state_dir}/exec.fifo"):
        return True
    return False


@pytest.mark.parametrize("log", [False, True], ids=["plain", "with-log"])
def test_fd_created_init_holds_no_host_fds(bundle, rt, runtime, tmp_path, log):
    """runc create.bats "detect fd leak as comprehensively as possible": between create and
    start, the init may hold only stdio, the exec fifo, pipes, sockets and ptys. A directory fd
    of the host (the cgroup, the state root, the bundle) is what CVE-2024-21626 abused; the
    --log file (containerd and podman always pass one) is a host file too."""
    bundle.set_args("true").write()
    logopt = ["--log", str(tmp_path / "rt.log")] if log else []
    p = rt(*logopt, "create", "--bundle", bundle.path, "fd-create")
    assert p.returncode == 0, p.stderr
    pid = state_pid(rt, "fd-create")
    state_dir = str(runtime.root / "fd-create")
    bad = {}
    for e in os.scandir(f"/proc/{pid}/fd"):
        n = int(e.name)
        try:
            target = os.readlink(e.path)
        except OSError:
            continue
        if n <= 2:
            continue
        if not _fd_allowed(target, state_dir):
            bad[n] = target
    assert not bad, f"created init {pid} holds host fds: {bad}"


@pytest.mark.parametrize("how", ["preserve-fds", "listen-fds"])
def test_fd_preserve_exactly(bundle, runtime, tmp_path, how):
    one, two, three = tmp_path / "one", tmp_path / "two", tmp_path / "three"
    one.write_text("ONE\n")
    two.write_text("TWO\n")
    three.write_text("THREE\n")
    bundle.set_args("sh", "-c",
                    "cat <&3; cat <&4; echo LISTEN=$LISTEN_FDS:$LISTEN_PID; "
                    "exec ls /proc/self/fd").write()
    cid = f"fd-{how}"
    extra = "--preserve-fds 2" if how == "preserve-fds" else ""
    env = "LISTEN_FDS=2" if how == "listen-fds" else ""
    cmd = (f'exec 3<"{one}" 4<"{two}" 5<"{three}"; {env} exec "{runtime.binary}" '
           f'--root "{runtime.root}" run {extra} --bundle "{bundle.path}" {cid}')
    runtime.created.append(cid)
    p = subprocess.run(["bash", "-c", cmd], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "ONE" and lines[1] == "TWO", p.stdout
    if how == "listen-fds":
        assert lines[2] == "LISTEN=2:1", p.stdout
    assert "THREE" not in p.stdout
    # 0-2, the two passed fds, and ls's directory fd: fd 5 of the caller must not appear
    # as itself (ls's own directory takes the lowest free number, 5).
    assert fd_numbers(" ".join(lines[3:])) == [0, 1, 2, 3, 4, 5], p.stdout


def test_fd_exec_preserve_fds(bundle, runtime, rt, tmp_path):
    start_detached(rt, bundle, "fd-exec-pres", "sleep", "30")
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_text("ONE\n")
    two.write_text("TWO\n")
    cmd = (f'exec 3<"{one}" 4<"{two}" 5<"{tmp_path}"; exec "{runtime.binary}" '
           f'--root "{runtime.root}" exec --preserve-fds 1 fd-exec-pres '
           f'sh -c "cat <&3; exec ls /proc/self/fd"')
    p = subprocess.run(["bash", "-c", cmd], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "ONE", p.stdout
    assert fd_numbers(" ".join(lines[1:])) == [0, 1, 2, 3, 4], p.stdout


# ------------------------------------------------- rule 2: CVE-2024-21626, no host cwd

CWD_PROBE = 'stat -c "%d %i" .; pwd; ls -d ../../../../../../etc/host-canary* 2>/dev/null; true'


def _check_cwd_result(p, host_ids, what):
    """The run/exec failed, or its cwd is not a host directory."""
    if p.returncode != 0:
        return "failed"
    lines = p.stdout.splitlines()
    assert lines, f"{what}: no output, stderr {p.stderr!r}"
    dev, ino = (int(x) for x in lines[0].split())
    assert (dev, ino) not in host_ids, \
        f"{what}: cwd is the host directory {host_ids[(dev, ino)]}: {p.stdout!r}"
    assert len(lines) > 1 and lines[1].startswith("/") and "unreachable" not in lines[1], \
        f"{what}: cwd outside the container: {p.stdout!r}"
    assert "host-canary" not in p.stdout, f"{what}: reached the host /etc: {p.stdout!r}"
    return "ran"


def _host_ids_for(runtime, bundle, tmp_path):
    paths = ["/", "/etc", "/tmp", "/run", "/sys", "/sys/fs/cgroup", "/proc", str(runtime.root),
             str(tmp_path), str(bundle.path), str(helpers.REPO), str(RUNTIME_BIN.parent)]
    for e in runtime.root.iterdir():
        paths.append(str(e))
    paths += cgroup_dirs()
    return host_dir_ids(paths, exclude_under=[bundle.rootfs])


def test_cwd_proc_self_fd_config(bundle, rt, runtime, tmp_path):
    outcomes = {}
    for n in range(3, 21):
        bundle.config["process"]["cwd"] = f"/proc/self/fd/{n}"
        bundle.set_args("sh", "-c", CWD_PROBE).write()
        cid = f"cwd-cfg-{n}"
        p = rt("run", "--bundle", bundle.path, cid)
        host_ids = _host_ids_for(runtime, bundle, tmp_path)
        outcomes[n] = _check_cwd_result(p, host_ids, f"process.cwd=/proc/self/fd/{n}")
        rt("delete", "--force", cid)
    # Sanity: the probe itself works with an ordinary cwd.
    bundle.config["process"]["cwd"] = "/tmp"
    bundle.set_args("sh", "-c", CWD_PROBE).write()
    p = rt("run", "--bundle", bundle.path, "cwd-cfg-ok")
    assert p.returncode == 0 and p.stdout.splitlines()[1] == "/tmp", (p.stdout, p.stderr)


def test_cwd_proc_self_fd_exec(bundle, rt, runtime, tmp_path):
    start_detached(rt, bundle, "cwd-exec", "sleep", "60")
    host_ids = _host_ids_for(runtime, bundle, tmp_path)
    for n in range(3, 21):
        p = rt("exec", "--cwd", f"/proc/self/fd/{n}", "cwd-exec", "sh", "-c", CWD_PROBE)
        _check_cwd_result(p, host_ids, f"exec --cwd /proc/self/fd/{n}")
    p = rt("exec", "--cwd", "/etc", "cwd-exec", "sh", "-c", CWD_PROBE)
    assert p.returncode == 0 and p.stdout.splitlines()[1] == "/etc", (p.stdout, p.stderr)


# ------------------------------------------ rule 3: CVE-2019-5736, /proc/self/exe overwrite

ATTACK_C = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* CVE-2019-5736 attacker: for every new pid, grab /proc/PID/exe (O_PATH, kept) and try to
 * open it for writing; keep retrying the kept handles through /proc/self/fd/N (the runtime
 * may have exited and released the text lock). Any successful write is logged as WROTE. */
static char seen[1 << 16];
static int held[512], held_pid[512], nheld;
static const char payload[] = "#!/bin/sh\necho CVE-2019-5736 pwned\n";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int try_write(FILE *log, const char *path, int pid)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return 0;
	struct stat st;
	if (write(fd, payload, sizeof(payload) - 1) > 0 && fstat(fd, &st) == 0)
		fprintf(log, "WROTE pid %d via %s dev %lu ino %lu\n", pid, path,
			(unsigned long)st.st_dev, (unsigned long)st.st_ino);
	else
		fprintf(log, "OPENED pid %d via %s (write: %s)\n", pid, path, strerror(errno));
	fflush(log);
	close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? atof(argv[1]) : 10);
	FILE *log = fopen(argc > 2 ? argv[2] : "/out/attack.log", "a");
	const char *fifo = argc > 3 ? argv[3] : NULL;
	pid_t self = getpid();
	if (!log)
		return 2;
	setvbuf(log, NULL, _IOLBF, 0);
	fprintf(log, "START %d\n", self);
	while (now() < end) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		if (!d)
			return 3;
		while ((de = readdir(d))) {
			int pid = atoi(de->d_name);
			char p[64], target[256];
			ssize_t n;
			if (pid <= 0 || pid == self || pid >= (int)sizeof(seen) || seen[pid])
				continue;
			seen[pid] = 1;
			snprintf(p, sizeof(p), "/proc/%d/exe", pid);
			n = readlink(p, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = 0;
			fprintf(log, "SEEN %d %s\n", pid, n > 0 ? target : strerror(errno));
			/* The container's own binaries are the container's to write: skip them. */
			if (n > 0 && target[0] == '/') {
				struct stat a, b;
				if (stat(p, &a) == 0 && lstat(target, &b) == 0 &&
				    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
					continue;
			}
			try_write(log, p, pid);
			if (nheld < 512) {
				int fd = open(p, O_PATH);
				if (fd >= 0) {
					held_pid[nheld] = pid;
					held[nheld++] = fd;
				}
			}
			if (fifo) {
				/* Unblock a runtime waiting to open its --log fifo. */
				int f = open(fifo, O_RDONLY | O_NONBLOCK);
				if (f >= 0) {
					usleep(20000);
					close(f);
				}
			}
		}
		closedir(d);
		for (int i = 0; i < nheld; i++) {
			char p[64];
			if (held[i] < 0)
				continue;
			snprintf(p, sizeof(p), "/proc/self/fd/%d", held[i]);
			if (try_write(log, p, held_pid[i])) {
				close(held[i]);
				held[i] = -1;
			}
		}
		/* The scan only catches pids that live long enough; keep it tight. */
		usleep(500);
	}
	fprintf(log, "END\n");
	return 0;
}
"""


@pytest.fixture(scope="session")
def attack_binary(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc needed to build the static attack helper")
    d = tmp_path_factory.mktemp("attack")
    (d / "attack.c").write_text(ATTACK_C)
    p = subprocess.run(["gcc", "-O2", "-static", "-o", str(d / "attack"), str(d / "attack.c")],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        pytest.skip(f"gcc -static failed: {p.stderr[:300]}")
    return d / "attack"


def test_exe_overwrite_during_exec(bundle, runtime_copy, attack_binary, tmp_path):
    rtc, binary = runtime_copy
    before = sha256(binary)
    before_build = sha256(RUNTIME_BIN)
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy2(attack_binary, bundle.rootfs / "attack")
    # The #!/proc/self/exe trick: a binary in the image that is the runtime itself.
    os.symlink("/proc/self/exe", bundle.rootfs / "bin" / "evil")
    subprocess.run(["mkfifo", str(bundle.rootfs / "logfifo")], check=True)
    add_bind(bundle, out, "/out")
    bundle.config["process"]["args"] = ["/attack", "12", "/out/attack.log", "/logfifo"]
    bundle.write()
    p = rtc.rt("run", "-d", "--bundle", bundle.path, "exe-attack")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: (out / "attack.log").exists(), 10)
    deadline = time.monotonic() + 10
    for i in range(20):
        if time.monotonic() > deadline:
            break
        # The runtime binary running inside the container, blocked opening its --log fifo
        # until the attacker opens the fifo, so the attacker has it in view.
        # (Kernels that refuse execve of a memfd through /proc/self/exe fail these fast.)
        for args in (["/bin/evil", "--log", "/logfifo", "state", "x"], ["/bin/evil"], ["true"]):
            try:
                rtc.rt("exec", "exe-attack", *args, timeout=15)
            except subprocess.TimeoutExpired:
                pass
    rtc.rt("delete", "--force", "exe-attack")
    log = (out / "attack.log").read_text()
    assert "START" in log, log
    # A write may land on the container's own files (pid 7 exec'd the image's busybox,
    # which the container may rewrite); it must never land on a runtime binary.
    forbidden = {(os.stat(b).st_dev, os.stat(b).st_ino) for b in (binary, RUNTIME_BIN)}
    for line in log.splitlines():
        if line.startswith("WROTE"):
            f = line.split()
            assert (int(f[-3]), int(f[-1])) not in forbidden, line
    # The attacker was live and had the runtime's processes in view (a non-dumpable exec
    # child shows as "Permission denied", a runtime exec'd inside as the memfd).
    assert any(line.startswith("SEEN ") for line in log.splitlines()), log
    assert sha256(binary) == before, "the runtime binary was overwritten through /proc/PID/exe"
    assert sha256(RUNTIME_BIN) == before_build
    # The attacker saw the runtime binary run in the container: it was the sealed memfd.
    seen_runtime = [line for line in log.splitlines() if "berth-runtime" in line]
    for line in seen_runtime:
        assert "memfd:" in line or "berth-runtime-copy" not in line, line


def _check_sealed_exe(pid):
    target = os.readlink(f"/proc/{pid}/exe")
    assert "memfd:berth-runtime:cloned" in target, target
    fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY)
    try:
        import fcntl
        seals = fcntl.fcntl(fd, getattr(fcntl, "F_GET_SEALS", F_GET_SEALS))
    finally:
        os.close(fd)
    assert seals & ALL_SEALS == ALL_SEALS, hex(seals)
    with pytest.raises(OSError):
        fd = os.open(f"/proc/{pid}/exe", os.O_WRONLY)
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)
    return target


def test_exe_runtime_runs_from_sealed_memfd(bundle, rt, runtime):
    before = sha256(RUNTIME_BIN)
    # create: the init, blocked on exec.fifo until start, is the runtime's clone.
    bundle.set_args("sleep", "30").write()
    p = rt("create", "--bundle", bundle.path, "exe-memfd")
    assert p.returncode == 0, p.stderr
    _check_sealed_exe(state_pid(rt, "exe-memfd"))
    p = rt("start", "exe-memfd")
    assert p.returncode == 0, p.stderr
    # exec in flight: the foreground `exec` waits for its process from the memfd copy.
    proc = subprocess.Popen([runtime.binary, "--root", str(runtime.root), "exec", "exe-memfd",
                             "sleep", "3"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        target = wait_for(lambda: _readlink_or_none(f"/proc/{proc.pid}/exe", "memfd:"), 5)
        assert target, _readlink_or_none(f"/proc/{proc.pid}/exe", "")
        _check_sealed_exe(proc.pid)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert sha256(RUNTIME_BIN) == before


def _readlink_or_none(path, needle):
    try:
        t = os.readlink(path)
    except OSError:
        return None
    return t if needle in t else None


def test_exe_write_proc1_exe_from_inside(bundle, runtime_copy):
    rtc, binary = runtime_copy
    before = sha256(binary)
    busybox_before = sha256(bundle.rootfs / "bin" / "busybox")
    probe = ("for i in 1 2 3; do if echo x > /proc/1/exe; then echo WROTE-1; fi; done; "
             "if echo x >> /proc/self/exe; then echo WROTE-SELF; fi; echo done")
    # A started container: pid 1 is busybox sh.
    bundle.set_args("sleep", "30").write()
    p = rtc.rt("run", "-d", "--bundle", bundle.path, "exe-proc1")
    assert p.returncode == 0, p.stderr
    p = rtc.rt("exec", "exe-proc1", "sh", "-c", probe)
    assert p.returncode == 0 and "done" in p.stdout, (p.stdout, p.stderr)
    assert "WROTE" not in p.stdout, p.stdout
    # A created container: pid 1 is still the runtime (the memfd) waiting for start.
    bundle.set_args("true").write()
    p = rtc.rt("create", "--bundle", bundle.path, "exe-proc1-created")
    assert p.returncode == 0, p.stderr
    p = rtc.rt("exec", "exe-proc1-created", "sh", "-c", probe)
    assert "WROTE" not in p.stdout, p.stdout
    rtc.rt("delete", "--force", "exe-proc1-created")
    rtc.rt("delete", "--force", "exe-proc1")
    assert sha256(binary) == before
    assert sha256(bundle.rootfs / "bin" / "busybox") == busybox_before


# ---------------------------------- rule 4: masked paths take the host's /dev/null (CVE-2025-31133)

def _make_evil_null(dev, kind):
    dev.mkdir(exist_ok=True)
    null = dev / "null"
    if null.exists() or null.is_symlink():
        null.unlink()
    if kind == "symlink":
        os.symlink("/proc/sys/kernel/core_pattern", null)
    elif kind == "file":
        null.write_text("evil regular file\n")
    elif kind == "fifo":
        os.mkfifo(null)
    elif kind == "chardev":
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 5))


MASKED_FILES = ["/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug"]
MASK_PROBE = ('for f in %s; do [ -e $f ] && stat -c "$f %%t:%%T %%F" $f; done; '
              'if echo "|/tmp/pwned %%p" > /proc/sys/kernel/core_pattern; then echo CORE-WRITTEN; fi; '
              'for f in %s; do [ -e $f ] || continue; '
              'if [ -p $f ]; then echo "FIFO $f"; else echo masked > $f; fi; done; '
              'echo done' % (" ".join(MASKED_FILES), " ".join(MASKED_FILES)))


@pytest.mark.parametrize("kind", ["symlink", "file", "fifo", "chardev"])
@pytest.mark.parametrize("dev", ["no-dev-mount", "dev-bind"])
def test_masked_paths_use_host_dev_null(bundle, rt, tmp_path, kind, dev):
    core_before = read_text("/proc/sys/kernel/core_pattern")
    drop_mount(bundle, "/dev")
    if dev == "no-dev-mount":
        _make_evil_null(bundle.rootfs / "dev", kind)
        evil = bundle.rootfs / "dev" / "null"
    else:
        devdir = tmp_path / "devvol"
        _make_evil_null(devdir, kind)
        evil = devdir / "null"
        bundle.config["mounts"].insert(1, {"destination": "/dev", "type": "bind",
                                           "source": str(devdir), "options": ["rbind", "rw"]})
    evil_before = os.readlink(evil) if evil.is_symlink() else (
        read_text(evil) if kind == "file" else None)
    bundle.set_args("sh", "-c", MASK_PROBE).write()
    p = rt("run", "--bundle", bundle.path, f"mask-{kind}-{dev}")
    assert read_text("/proc/sys/kernel/core_pattern") == core_before
    if p.returncode != 0:
        return  # refused: fine, as long as nothing changed
    lines = p.stdout.splitlines()
    assert lines and lines[-1] == "done", (p.stdout, p.stderr)
    assert "CORE-WRITTEN" not in p.stdout and "FIFO" not in p.stdout, p.stdout
    expect = [f"{f} 1:3 character special file" for f in MASKED_FILES if os.path.isfile(f)]
    assert expect, "no masked /proc file exists on this host"
    got = [line for line in lines if line.startswith("/proc/")]
    assert got == expect, p.stdout
    if kind == "file" and evil.is_file() and not evil.is_symlink():
        # Replaced by a device node (no /dev mount), or kept: never written through.
        assert read_text(evil) == evil_before
    if kind == "symlink" and evil.is_symlink():
        assert os.readlink(evil) == evil_before


# --------------------------------------- rule 5: mounts and /dev stay inside the rootfs

def _watch_dirs():
    return {d: set(os.listdir(d)) for d in ("/", "/etc")}


def test_mount_destinations_through_symlinks(bundle, rt, tmp_path, pytest_root):
    for host in ("/tmp/x", "/x", "/etc/x"):
        if os.path.lexists(host):
            pytest.skip(f"{host} exists on the host")
    r = bundle.rootfs
    os.symlink("/", r / "a")
    os.symlink("../" * 12, r / "b")
    (r / "c").mkdir()
    os.symlink("/etc", r / "c" / "d")
    src = tmp_path / "bindsrc"
    src.mkdir()
    (src / "marker").write_text("bound\n")
    bundle.config["mounts"] += [
        {"destination": "/a/tmp/x", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/b/x", "type": "bind", "source": str(src), "options": ["rbind"]},
        {"destination": "/c/d/x", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/c/d/y", "type": "bind", "source": str(src), "options": ["rbind", "ro"]},
    ]
    bundle.set_args("sh", "-c", "cat /proc/self/mountinfo; echo ===; cat /x/marker /etc/y/marker;"
                    " touch /tmp/x/inside /etc/x/inside && echo touched").write()
    mounts_before = host_mounts(pytest_root)
    dirs_before = _watch_dirs()
    p = rt("run", "--bundle", bundle.path, "mnt-symlinks")
    assert host_mounts(pytest_root) - mounts_before == set()
    assert _watch_dirs() == dirs_before
    for host in ("/tmp/x", "/x", "/etc/x", "/etc/y"):
        assert not os.path.lexists(host), f"{host} was created on the host"
    assert p.returncode == 0, p.stderr
    info, _, rest = p.stdout.partition("===\n")
    mps = {line.split()[4] for line in info.splitlines()}
    assert {"/tmp/x", "/x", "/etc/x", "/etc/y"} <= mps, info
    assert rest.splitlines() == ["bound", "bound", "touched"], p.stdout
    # The mount points were made inside the rootfs.
    for d in ("tmp/x", "x", "etc/x", "etc/y"):
        assert (r / d).is_dir(), d


@pytest.mark.parametrize("dev_mounts", ["none", "template"])
def test_dev_symlink_does_not_populate_outside_rootfs(bundle, rt, tmp_path, pytest_root, dev_mounts):
    """crun test_devices.py test_dev_symlink_does_not_populate_outside_rootfs (CVE-2026-41579)."""
    outside = tmp_path / "outside-dev"
    outside.mkdir()
    (outside / "ptmx").write_text("marker\n")
    shutil.rmtree(bundle.rootfs / "dev")
    os.symlink(str(outside), bundle.rootfs / "dev")
    bundle.config["root"]["readonly"] = True
    if dev_mounts == "none":
        drop_mounts_under(bundle, "/dev")
    else:
        drop_mount(bundle, "/dev")
    bundle.set_args("true").write()
    before = host_mounts(pytest_root)
    rt("run", "--bundle", bundle.path, f"devlink-{dev_mounts}")
    assert host_mounts(pytest_root) - before == set()
    assert sorted(os.listdir(outside)) == ["ptmx"]
    st = os.lstat(outside / "ptmx")
    assert stat.S_ISREG(st.st_mode)
    assert (outside / "ptmx").read_text() == "marker\n"


@pytest.mark.parametrize("name,target", [("proc", "/bad"), ("proc", "/"), ("sys", "/"),
                                         ("sys", "/symlink")])
def test_proc_sys_symlink_refused(bundle, rt, tmp_path, pytest_root, name, target):
    shutil.rmtree(bundle.rootfs / name)
    os.symlink(target, bundle.rootfs / name)
    out = tmp_path / "out"
    out.mkdir()
    add_bind(bundle, out, "/out")
    bundle.set_args("sh", "-c", "touch /out/ran").write()
    before = host_mounts(pytest_root)
    p = rt("run", "--bundle", bundle.path, f"link-{name}")
    assert p.returncode != 0, p.stdout
    assert "ordinary directory" in p.stderr, p.stderr
    assert not (out / "ran").exists()
    assert host_mounts(pytest_root) - before == set()
    assert not os.path.lexists("/bad") and not os.path.lexists("/symlink")


@pytest.mark.parametrize("mount", [
    {"destination": "/proc", "type": "tmpfs", "source": "tmpfs"},
    {"destination": "/proc/self", "type": "bind", "source": "SRC", "options": ["rbind"]},
    {"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"},
    {"destination": "/proc//self/attr", "type": "tmpfs", "source": "tmpfs"},
    {"destination": "/proc/", "type": "bind", "source": "SRC", "options": ["rbind"]},
], ids=["tmpfs-proc", "bind-proc-self", "tmpfs-proc-sys", "tmpfs-proc-self-attr", "bind-proc"])
def test_mount_over_proc_refused(bundle, rt, tmp_path, mount):
    """CVE-2019-16884: nothing but procfs on /proc, nothing under it."""
    out = tmp_path / "out"
    out.mkdir()
    src = tmp_path / "fakeproc"
    src.mkdir()
    m = dict(mount)
    if m["source"] == "SRC":
        m["source"] = str(src)
    if m["destination"].rstrip("/") == "/proc":
        drop_mount(bundle, "/proc")
    bundle.config["mounts"].append(m)
    add_bind(bundle, out, "/out")
    bundle.set_args("sh", "-c", "touch /out/ran").write()
    p = rt("run", "--bundle", bundle.path, "proc-over")
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "proc" in p.stderr, p.stderr
    assert not (out / "ran").exists()
    assert os.listdir(src) == []


# ----------------------------------------------------- rule 6: /dev/console (CVE-2025-52565)

@pytest.mark.parametrize("variant", ["dev-tmpfs", "no-dev-tmpfs", "readonly-no-dev-tmpfs"])
def test_console_symlinks(bundle, rt, tmp_path, pytest_root, variant):
    passwd_before = file_fingerprint("/etc/passwd")
    dev = bundle.rootfs / "dev"
    (dev / "pts").mkdir(parents=True, exist_ok=True)
    os.symlink("/proc/sysrq-trigger", dev / "console")
    os.symlink("/etc/passwd", dev / "pts" / "0")
    os.symlink("/etc/passwd", dev / "ptmx")
    if variant != "dev-tmpfs":
        drop_mount(bundle, "/dev")
    if variant.startswith("readonly"):
        bundle.config["root"]["readonly"] = True
    bundle.config["process"]["terminal"] = True
    bundle.set_args("sh", "-c", 'stat -c "CONSOLE %t %F" /dev/console; '
                    'stat -c "SYSRQ %F %s" /proc/sysrq-trigger; echo hi-console > /dev/console; '
                    'readlink /proc/self/fd/0; head -c 4 /etc/passwd >/dev/null; echo END').write()
    server = ConsoleSocket(tmp_path / "console.sock")
    before = host_mounts(pytest_root)
    try:
        p = rt("run", "--console-socket", server.path, "--bundle", bundle.path, f"console-{variant}")
        if p.returncode == 0:
            wait_for(lambda: b"END" in server.output, 10)
    finally:
        server.close()
    assert file_fingerprint("/etc/passwd") == passwd_before
    assert host_mounts(pytest_root) - before == set()
    if p.returncode != 0:
        return  # refused: fine
    assert server.error is None, server.error
    out = server.output.decode(errors="replace").replace("\r", "")
    assert "CONSOLE 88 character special file" in out, out  # major 136
    if os.path.exists("/proc/sysrq-trigger"):
        assert "SYSRQ regular file" in out, out
    assert "SYSRQ character" not in out, out
    assert "hi-console" in out, out
    assert "/dev/pts/" in out, out
    # The image's links were replaced, not followed.
    assert not os.path.islink(dev / "console") or os.readlink(dev / "console") != "/etc/passwd"


# --------------------------------------------- rule 7: Docker's seccomp profile and 14 caps

def _kernel_at_least(v):
    want = tuple(int(x) for x in v.split(".")[:2])
    have = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2])
    return have >= want


def docker_seccomp_to_oci(caps):
    """What moby's seccomp.GetDefaultProfile does for amd64: keep the rule groups whose
    includes match (caps, arches, minKernel) and whose excludes do not."""
    with open(DOCKER_SECCOMP) as f:
        prof = json.load(f)
    arch, goarch = "SCMP_ARCH_X86_64", "amd64"
    if platform.machine() != "x86_64":
        pytest.skip("profile conversion written for x86_64")
    archs = []
    for m in prof.get("archMap") or []:
        if m["architecture"] == arch:
            archs = [arch] + list(m.get("subArchitectures") or [])
    out = {"defaultAction": prof["defaultAction"], "architectures": archs, "syscalls": []}
    if "defaultErrnoRet" in prof:
        out["defaultErrnoRet"] = prof["defaultErrnoRet"]
    caps = set(caps)
    for s in prof["syscalls"]:
        inc, exc = s.get("includes") or {}, s.get("excludes") or {}
        if inc.get("arches") and goarch not in inc["arches"]:
            continue
        if exc.get("arches") and goarch in exc["arches"]:
            continue
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            continue
        if exc.get("caps") and set(exc["caps"]) & caps:
            continue
        if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"]):
            continue
        if exc.get("minKernel") and _kernel_at_least(exc["minKernel"]):
            continue
        rule = {"names": s.get("names") or [s["name"]], "action": s["action"]}
        if s.get("args"):
            rule["args"] = s["args"]
        if s.get("errnoRet") is not None:
            rule["errnoRet"] = s["errnoRet"]
        out["syscalls"].append(rule)
    return out


def docker_like(bundle, nnp):
    proc = bundle.config["process"]
    proc["capabilities"] = {"bounding": list(DOCKER_CAPS), "effective": list(DOCKER_CAPS),
                            "permitted": list(DOCKER_CAPS)}
    proc["noNewPrivileges"] = nnp
    bundle.config["linux"]["seccomp"] = docker_seccomp_to_oci(DOCKER_CAPS)
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})


FLOOR_PROBE = r"""
grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
if busybox unshare -U true 2>/dev/null; then echo UNSHARE-U-OK; fi
if busybox unshare -m true 2>/dev/null; then echo UNSHARE-M-OK; fi
if busybox unshare -Urm true 2>/dev/null; then echo UNSHARE-URM-OK; fi
mkdir -p /tmp/cg
if mount -t cgroup -o rdma cgroup /tmp/cg 2>/dev/null; then echo MOUNT-CGROUP-OK; fi
if mount -t cgroup2 cgroup2 /tmp/cg 2>/dev/null; then echo MOUNT-CGROUP2-OK; fi
if mount -t tmpfs tmpfs /tmp/cg 2>/dev/null; then echo MOUNT-TMPFS-OK; fi
for f in /sys/fs/cgroup/release_agent /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/x; do
  if echo /tmp/pwn > "$f" 2>/dev/null; then echo "WROTE $f"; fi
done
if touch /sys/fs/cgroup/newfile 2>/dev/null; then echo CGROUP-WRITABLE; fi
echo ===
cat /proc/self/mountinfo
"""


@pytest.mark.parametrize("nnp", [False, True], ids=["docker-default", "no-new-privs"])
def test_docker_seccomp_and_caps_floor(bundle, rt, pytest_root, nnp):
    if not DOCKER_SECCOMP.exists():
        pytest.skip("no Docker seccomp profile in the tree")
    docker_like(bundle, nnp)
    bundle.set_args("sh", "-c", FLOOR_PROBE).write()
    before = host_mounts(pytest_root)
    p = rt("run", "--bundle", bundle.path, "floor")
    assert host_mounts(pytest_root) - before == set()
    assert p.returncode == 0, p.stderr
    head, _, info = p.stdout.partition("===\n")
    caps = dict(line.split(":\t") for line in head.splitlines() if line.startswith("Cap"))
    assert caps == {"CapInh": "0000000000000000", "CapPrm": DOCKER_CAPS_MASK,
                    "CapEff": DOCKER_CAPS_MASK, "CapBnd": DOCKER_CAPS_MASK,
                    "CapAmb": "0000000000000000"}, head
    for bad in ("UNSHARE", "MOUNT-", "WROTE", "CGROUP-WRITABLE"):
        assert bad not in head, head
    cg = [line.split() for line in info.splitlines()
          if line.split()[4] == "/sys/fs/cgroup" or line.split()[4].startswith("/sys/fs/cgroup/")]
    assert cg, info
    for fields in cg:
        opts = fields[5].split(",")
        assert "ro" in opts, f"{fields[4]} is not read-only: {' '.join(fields)}"
    assert not any(line.split()[4] == "/tmp/cg" for line in info.splitlines())
