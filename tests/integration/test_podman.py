"""podman (Debian 4.3) running containers with berth-runtime as its OCI runtime.

Everything podman makes lives in a private folder under /tmp: the image store (--root,
vfs driver), the run root, libpod's tmpdir and the network config dir. Containers run with
--network none so netavark never touches the machine's firewall or bridges. berth-runtime
keeps its state in its default root (/run/berth-runtime): podman's exit command
(`podman container cleanup`) does not pass --runtime-flag on, so a private --root would
leave state behind that podman itself cannot delete.

Module teardown removes every container and image, resets the store, and fails if any
mount, process or libpod-* cgroup made here is left behind.
"""

import fcntl
import os
import pty
import select
import shutil
import subprocess
import tempfile
import termios
import time
from pathlib import Path

import pytest

import helpers

PODMAN = shutil.which("podman")
if PODMAN is None:
    pytest.skip("podman is not installed (scripts/install-deps.sh installs it)",
                allow_module_level=True)

RUNTIME = Path(os.environ.get("BERTH_RUNTIME") or helpers.REPO / "build" / "bin" / "berth-runtime")
RUNTIME_ROOT = Path("/run/berth-runtime")
IMAGE = "localhost/berth-busybox:latest"
# Root lacks CAP_SYS_RESOURCE on these machines, so podman's default rlimits fail.
RUN_OPTS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
            "--network", "none"]
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _libpod_cgroups():
    """Every cgroup folder named libpod-* (v1 controllers and the v2 tree), depth <= 3."""
    found = set()
    if not CGROUP_ROOT.is_dir():
        return found
    for dirpath, dirnames, _ in os.walk(CGROUP_ROOT):
        depth = Path(dirpath).relative_to(CGROUP_ROOT).parts
        for d in dirnames:
            if d.startswith("libpod-"):
                found.add(os.path.join(dirpath, d))
        if len(depth) >= 3:
            dirnames[:] = []
    return found


class Podman:
    def __init__(self, base):
        self.base = Path(base)
        self.share = self.base / "share"
        self.share.mkdir()
        self.argv = [PODMAN,
                     "--root", str(self.base / "storage"),
                     "--runroot", str(self.base / "runroot"),
                     "--tmpdir", str(self.base / "tmp"),
                     "--network-config-dir", str(self.base / "net"),
                     "--volumepath", str(self.base / "volumes"),
                     "--storage-driver", "vfs",
                     "--runtime", str(RUNTIME),
                     "--cgroup-manager", "cgroupfs",
                     "--events-backend", "none"]

    def __call__(self, *args, timeout=60, input=None):
        """Run podman ARGS; stdout/stderr go to files (a detached container may keep a
        pipe open), stdin is /dev/null unless input is given."""
        cmd = self.argv + [str(a) for a in args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.run(cmd, input=input.encode() if isinstance(input, str) else input,
                               stdin=subprocess.DEVNULL if input is None else None,
                               stdout=out, stderr=err, timeout=timeout)
            out.seek(0)
            err.seek(0)
            p.stdout = out.read().decode(errors="replace")
            p.stderr = err.read().decode(errors="replace")
        return p

    def run(self, *args, timeout=60):
        return self("run", *RUN_OPTS, *args, timeout=timeout)

    def state(self, name):
        p = self("inspect", "--format", "{{.State.Status}}", name, timeout=30)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def wait_state(self, name, want, timeout=15):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.state(name)
            if st == want:
                return st
            time.sleep(0.1)
        return st


@pytest.fixture(scope="module")
def podman_env(busybox_rootfs):
    if not os.access(RUNTIME, os.X_OK):
        pytest.fail(f"no runtime binary at {RUNTIME} (run make, or set BERTH_RUNTIME)",
                    pytrace=False)
    cgroups_before = _libpod_cgroups()
    base = Path(tempfile.mkdtemp(prefix="berth-podman-", dir="/tmp"))
    pm = Podman(base)
    try:
        tar = base / "busybox.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(busybox_rootfs), "-cf", str(tar),
                        "."], check=True, timeout=60)
        p = pm("info", "--format", "{{.Host.OCIRuntime.Path}}", timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == str(RUNTIME), p.stdout
        p = pm("import", "--quiet", str(tar), IMAGE, timeout=120)
        assert p.returncode == 0, p.stderr
        tar.unlink()
        yield pm
    finally:
        problems = _teardown(pm, cgroups_before)
    if problems:
        pytest.fail("podman tests left things behind: " + "; ".join(problems), pytrace=False)


def _teardown(pm, cgroups_before):
    problems = []
    base = pm.base
    for args in (("rm", "-af", "-t", "0"), ("rmi", "-af"), ("system", "reset", "-f")):
        try:
            p = pm(*args, timeout=120)
            if p.returncode != 0:
                problems.append(f"podman {' '.join(args)} failed: {p.stderr.strip()[-300:]}")
        except subprocess.TimeoutExpired:
            problems.append(f"podman {' '.join(args)} timed out")
    pids = helpers.find_leftover_processes([base], [str(base)])
    if pids:
        problems.append(f"processes left running: {pids}")
        left = helpers.kill_processes(pids)
        if left:
            problems.append(f"processes that would not die: {left}")
    mps = helpers.mounts_under(base)
    if mps:
        problems.append("mounts left: " + ", ".join(mps))
        helpers.unmount_all_under(base)
    new_cgroups = _libpod_cgroups() - cgroups_before
    if new_cgroups:
        problems.append("cgroups left: " + ", ".join(sorted(new_cgroups)))
        for cg in sorted(new_cgroups, key=len, reverse=True):
            try:
                os.rmdir(cg)
            except OSError:
                pass
    if not helpers.mounts_under(base):
        shutil.rmtree(base, ignore_errors=True)
    return problems


@pytest.fixture
def podman(podman_env):
    yield podman_env
    # Each test leaves no containers for the next one.
    podman_env("rm", "-af", "-t", "0", timeout=120)


# ------------------------------------------------------------------------------ tests

def test_run_echo(podman):
    p = podman.run("--rm", IMAGE, "echo", "hi")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hi\n"


def test_exit_code(podman):
    p = podman.run("--rm", IMAGE, "sh", "-c", "exit 3")
    assert p.returncode == 3, p.stderr


def _run_in_pty(argv, send, wait_for, timeout=30):
    """Run argv with a pty as its controlling terminal; when `wait_for` shows up in the
    output, type `send`. Return (exit status, output)."""
    master, slave = pty.openpty()

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=child_setup, close_fds=True)
    os.close(slave)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every slave fd closed
                    break
                if not chunk:
                    break
                out += chunk
            if not sent and wait_for in out:
                time.sleep(0.2)
                os.write(master, send)
                sent = True
            if proc.poll() is not None and not r:
                break
        rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError(f"{argv[-4:]} under a pty timed out; output: {out!r}")
    finally:
        os.close(master)
    return rc, out.decode(errors="replace")


def test_interactive_tty(podman):
    argv = podman.argv + ["run", "-it", "--rm", *RUN_OPTS, IMAGE, "sh"]
    rc, out = _run_in_pty(argv, b"tty; exit 7\r", wait_for=b"# ")
    assert "/dev/pts/0" in out, out
    assert rc == 7, out


def test_memory_limit(podman):
    p = podman.run("--rm", "--memory", "64m", IMAGE, "sh", "-c",
                   "cat /sys/fs/cgroup/memory.max 2>/dev/null"
                   " || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "67108864"


def test_pids_limit(podman):
    p = podman.run("--rm", "--pids-limit", "50", IMAGE, "sh", "-c",
                   "cat /sys/fs/cgroup/pids.max 2>/dev/null"
                   " || cat /sys/fs/cgroup/pids/pids.max")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "50"


def test_cap_drop_all(podman):
    p = podman.run("--rm", "--cap-drop", "all", IMAGE, "cat", "/proc/self/status")
    assert p.returncode == 0, p.stderr
    caps = {}
    for line in p.stdout.splitlines():
        key, _, val = line.partition(":")
        caps[key] = val.strip()
    for key in ("CapEff", "CapBnd", "CapPrm"):
        assert int(caps[key], 16) == 0, (key, caps[key])


def test_user(podman):
    p = podman.run("--rm", "--user", "1000:1000", IMAGE, "id")
    assert p.returncode == 0, p.stderr
    assert "uid=1000" in p.stdout and "gid=1000" in p.stdout, p.stdout


def test_read_only(podman):
    p = podman.run("--rm", "--read-only", IMAGE, "touch", "/x")
    assert p.returncode != 0
    assert "Read-only file system" in p.stdout + p.stderr


def test_detached_exec(podman):
    p = podman.run("-d", "--name", "bt-exec", IMAGE, "sleep", "1000")
    assert p.returncode == 0, p.stderr
    assert podman.state("bt-exec") == "running"
    p = podman("exec", "bt-exec", "sh", "-c", "echo in-exec $(cat /proc/1/cmdline | tr '\\0' ' ')")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "in-exec sleep 1000\n"
    p = podman("exec", "bt-exec", "sh", "-c", "exit 5")
    assert p.returncode == 5, p.stderr


def test_stop(podman):
    p = podman.run("-d", "--name", "bt-stop", IMAGE, "sleep", "1000")
    assert p.returncode == 0, p.stderr
    t0 = time.monotonic()
    # busybox sleep as PID 1 ignores SIGTERM: podman kills it after the 2 s timeout.
    p = podman("stop", "-t", "2", "bt-stop")
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    assert elapsed < 20, elapsed
    assert podman.wait_state("bt-stop", "exited") == "exited"


def _read_counter(path):
    try:
        return int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def test_pause_unpause(podman):
    counter = podman.share / "counter"
    p = podman.run("-d", "--name", "bt-pause", "-v", f"{podman.share}:/share", IMAGE,
                   "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /share/counter;"
                   " sleep 0.05; done")
    assert p.returncode == 0, p.stderr
    deadline = time.monotonic() + 10
    while _read_counter(counter) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _read_counter(counter) >= 3, "the counter loop never ran"

    p = podman("pause", "bt-pause")
    assert p.returncode == 0, p.stderr
    assert podman.state("bt-pause") == "paused"
    time.sleep(0.2)
    first = _read_counter(counter)
    time.sleep(0.6)
    second = _read_counter(counter)
    assert first == second, f"counter advanced while paused: {first} -> {second}"

    p = podman("unpause", "bt-pause")
    assert p.returncode == 0, p.stderr
    assert podman.state("bt-pause") == "running"
    deadline = time.monotonic() + 10
    while _read_counter(counter) <= second and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _read_counter(counter) > second, "counter did not advance after unpause"


def test_rm_leaves_nothing(podman):
    before = set(os.listdir(RUNTIME_ROOT)) if RUNTIME_ROOT.is_dir() else set()
    cidfile = podman.base / "rm.cid"
    p = podman.run("--rm", "--cidfile", str(cidfile), "--name", "bt-rm", IMAGE, "echo", "gone")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "gone\n"
    p = podman("ps", "-a", "--format", "{{.ID}} {{.Names}}")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ""
    after = set(os.listdir(RUNTIME_ROOT)) if RUNTIME_ROOT.is_dir() else set()
    assert after - before == set(), f"berth-runtime state left: {after - before}"
    if cidfile.exists():
        cid = cidfile.read_text().strip()
        if cid:
            assert not (RUNTIME_ROOT / cid).exists()
