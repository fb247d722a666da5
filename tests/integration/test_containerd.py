"""containerd (Debian 1.6) and ctr running containers with berth-runtime as the runc binary.

The module starts its own containerd with a private config: root, state, gRPC and ttrpc
sockets and the opt folder all live in a temporary folder, the CRI plugin is disabled. The
image is a docker-archive (manifest.json + config + one layer) made here from the busybox
rootfs and loaded with `ctr images import`. ctr runs in a namespace of its own, with
--runc-root and --fifo-dir in the temporary folder, so berth-runtime's state stays there
too.

Teardown removes containers and images, stops containerd (SIGTERM, then SIGKILL), kills
leftover shims, and fails if processes, mounts or cgroups made here were left behind.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import helpers

CONTAINERD = shutil.which("containerd")
CTR = shutil.which("ctr")
if CONTAINERD is None or CTR is None:
    pytest.skip("containerd or ctr is not installed (scripts/install-deps.sh installs them)",
                allow_module_level=True)
if shutil.which("containerd-shim-runc-v2") is None:
    pytest.skip("containerd-shim-runc-v2 is not installed", allow_module_level=True)

RUNTIME = Path(os.environ.get("BERTH_RUNTIME") or helpers.REPO / "build" / "bin" / "berth-runtime")
IMAGE = "docker.io/library/berth-busybox:latest"
CGROUP_ROOT = Path("/sys/fs/cgroup")

CONFIG = """\
version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{base}/containerd.sock"

[ttrpc]
  address = "{base}/containerd.sock.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


def _sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_docker_archive(rootfs, out, workdir, repo_tag):
    """Write a `docker save`-style archive of rootfs as a single-layer image."""
    stage = Path(workdir) / "archive"
    stage.mkdir()
    layer = stage / "layer.tar"
    subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(layer), "."],
                   check=True, timeout=60)
    with open(layer, "rb") as f:
        diff_id = _sha256(f.read())
    config = {
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine,
                                                                     os.uname().machine),
        "os": "linux",
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "berth test fixture"}],
    }
    config_bytes = json.dumps(config).encode()
    config_name = _sha256(config_bytes).split(":", 1)[1] + ".json"
    (stage / config_name).write_bytes(config_bytes)
    manifest = [{"Config": config_name, "RepoTags": [repo_tag], "Layers": ["layer.tar"]}]
    (stage / "manifest.json").write_text(json.dumps(manifest))
    subprocess.run(["tar", "-C", str(stage), "-cf", str(out), "manifest.json", config_name,
                    "layer.tar"], check=True, timeout=60)
    shutil.rmtree(stage)


def _run(cmd, timeout=60, input=None):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=out,
                           stderr=err, timeout=timeout)
        out.seek(0)
        err.seek(0)
        p.stdout = out.read().decode(errors="replace")
        p.stderr = err.read().decode(errors="replace")
    return p


class Containerd:
    def __init__(self, base):
        self.base = Path(base)
        self.sock = self.base / "containerd.sock"
        self.ns = f"berth-test-{os.getpid()}"
        self.runc_root = self.base / "runc-root"
        self.fifo_dir = self.base / "fifo"
        self.proc = None

    def ctr(self, *args, timeout=60):
        return _run([CTR, "-a", self.sock, "-n", self.ns, *args], timeout=timeout)

    def run_args(self):
        """ctr run options that send berth-runtime's state and the IO fifos to our folder."""
        return ["--runc-binary", str(RUNTIME), "--runc-root", str(self.runc_root),
                "--fifo-dir", str(self.fifo_dir)]

    def task_status(self, cid):
        p = self.ctr("task", "ls", timeout=30)
        for line in p.stdout.splitlines()[1:]:
            parts = line.split()
            if parts and parts[0] == cid:
                return parts[-1]
        return None

    def wait_status(self, cid, want, timeout=15):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.task_status(cid)
            if st == want:
                return st
            time.sleep(0.1)
        return st


def _ns_cgroups(ns):
    """cgroup folders named after our namespace (ctr's default cgroupsPath is /NS/ID)."""
    out = []
    if not CGROUP_ROOT.is_dir():
        return out
    for ctl in os.scandir(CGROUP_ROOT):
        if ctl.is_dir(follow_symlinks=False):
            p = Path(ctl.path) / ns
            if p.is_dir():
                out.append(p)
    unified = CGROUP_ROOT / ns
    if unified.is_dir() and unified not in out:
        out.append(unified)
    return out


@pytest.fixture(scope="module")
def containerd(busybox_rootfs):
    if not os.access(RUNTIME, os.X_OK):
        pytest.fail(f"no runtime binary at {RUNTIME} (run make, or set BERTH_RUNTIME)",
                    pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="berth-ctrd-", dir="/tmp"))
    cd = Containerd(base)
    problems = []
    try:
        cfg = base / "config.toml"
        cfg.write_text(CONFIG.format(base=base))
        log = open(base / "containerd.log", "wb")
        cd.proc = subprocess.Popen([CONTAINERD, "--config", str(cfg)], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if cd.proc.poll() is not None:
                pytest.fail("containerd exited: " + _tail(base / "containerd.log"),
                            pytrace=False)
            if cd.sock.exists() and cd.ctr("version", timeout=10).returncode == 0:
                break
            if time.monotonic() > deadline:
                pytest.fail("containerd did not come up in 30 s: " +
                            _tail(base / "containerd.log"), pytrace=False)
            time.sleep(0.1)

        archive = base / "busybox-docker.tar"
        make_docker_archive(busybox_rootfs, archive, base, "berth-busybox:latest")
        p = cd.ctr("images", "import", archive, timeout=120)
        assert p.returncode == 0, p.stderr
        archive.unlink()
        p = cd.ctr("images", "ls", "-q")
        assert IMAGE in p.stdout.split(), p.stdout
        yield cd
    finally:
        problems = _teardown(cd)
    if problems:
        pytest.fail("containerd tests left things behind: " + "; ".join(problems),
                    pytrace=False)


def _tail(path, n=1500):
    try:
        return Path(path).read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _remove_all(cd):
    """Kill and delete every task and container in our namespace."""
    if cd.proc is None or cd.proc.poll() is not None:
        return
    p = cd.ctr("containers", "ls", "-q", timeout=30)
    for cid in p.stdout.split():
        if cd.task_status(cid) not in (None, "STOPPED"):
            cd.ctr("task", "kill", "-s", "SIGKILL", cid, timeout=30)
            cd.wait_status(cid, "STOPPED", timeout=10)
        cd.ctr("task", "rm", "-f", cid, timeout=30)
        cd.ctr("containers", "rm", cid, timeout=30)


def _teardown(cd):
    problems = []
    base = cd.base
    if cd.proc is not None and cd.proc.poll() is None:
        try:
            _remove_all(cd)
            left = cd.ctr("containers", "ls", "-q", timeout=30).stdout.split()
            if left:
                problems.append(f"containers left: {left}")
            cd.ctr("images", "rm", IMAGE, timeout=60)
            cd.ctr("namespaces", "rm", cd.ns, timeout=30)
        except subprocess.TimeoutExpired as e:
            problems.append(f"cleanup command timed out: {e.cmd}")
        cd.proc.send_signal(signal.SIGTERM)
        try:
            cd.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            problems.append("containerd ignored SIGTERM for 10 s")
            cd.proc.kill()
            cd.proc.wait(timeout=10)
    # Shims (their command line names our socket), container processes (root in our folder).
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
    # berth-runtime creates /NS/ID; the per-container cgroups must be gone, and the
    # namespace's parent folders (made here, empty) are removed.
    for parent in _ns_cgroups(cd.ns):
        kids = [d.name for d in os.scandir(parent) if d.is_dir()]
        if kids:
            problems.append(f"cgroups left under {parent}: {kids}")
            for k in kids:
                try:
                    os.rmdir(parent / k)
                except OSError:
                    pass
        try:
            os.rmdir(parent)
        except OSError as e:
            problems.append(f"cannot remove cgroup {parent}: {e}")
    if not helpers.mounts_under(base):
        shutil.rmtree(base, ignore_errors=True)
    return problems


@pytest.fixture
def ctrd(containerd):
    yield containerd
    _remove_all(containerd)


# ------------------------------------------------------------------------------ tests

def test_run_echo(ctrd):
    p = ctrd.ctr("run", *ctrd.run_args(), "--rm", IMAGE, "bt-echo", "echo", "hi")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hi\n"
    assert ctrd.ctr("containers", "ls", "-q").stdout.split() == []
    assert not (ctrd.runc_root / ctrd.ns / "bt-echo").exists()
    assert not (ctrd.runc_root / "bt-echo").exists()


def test_run_exit_code(ctrd):
    p = ctrd.ctr("run", *ctrd.run_args(), "--rm", IMAGE, "bt-exit", "sh", "-c", "exit 3")
    assert p.returncode == 3, p.stderr


def test_detached_exec_kill(ctrd):
    cid = "bt-detached"
    p = ctrd.ctr("run", *ctrd.run_args(), "-d", "--null-io", IMAGE, cid, "sleep", "1000")
    assert p.returncode == 0, p.stderr
    assert ctrd.wait_status(cid, "RUNNING") == "RUNNING"
    # The shim really used berth-runtime: its state root (runc-root/NS) knows the container.
    p = _run([RUNTIME, "--root", ctrd.runc_root / ctrd.ns, "state", cid], timeout=30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"] == "running"

    p = ctrd.ctr("task", "exec", "--exec-id", "x", cid, "echo", "in-exec")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "in-exec\n"
    p = ctrd.ctr("task", "exec", "--exec-id", "y", cid, "sh", "-c", "exit 4")
    assert p.returncode == 4, p.stderr

    p = ctrd.ctr("task", "kill", "-s", "SIGKILL", cid)
    assert p.returncode == 0, p.stderr
    assert ctrd.wait_status(cid, "STOPPED") == "STOPPED"
    p = ctrd.ctr("task", "rm", cid)
    assert p.returncode == 0, p.stderr
    assert ctrd.task_status(cid) is None
    p = ctrd.ctr("containers", "rm", cid)
    assert p.returncode == 0, p.stderr
    assert ctrd.ctr("containers", "ls", "-q").stdout.split() == []
    assert not (ctrd.runc_root / ctrd.ns / cid).exists()
