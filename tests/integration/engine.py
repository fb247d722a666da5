"""A private berthd for engine tests: its own data-root, exec-root and socket in a
temporary folder, the busybox image imported, and a teardown that leaves nothing behind
(containers, shims, mounts, cgroups, the daemon itself).

    d = Berthd(tmpdir); d.start(); d.import_busybox()
    d.berth("run", "--rm", "busybox", "echo", "hi")      # our CLI
    d.docker("ps", "-a")                                  # the real docker CLI
    d.kill9(); d.start()                                  # live-restore tests
    d.stop()                                              # teardown
"""

import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import helpers

REPO = helpers.REPO
BUILD = Path(os.environ.get("BERTH_BUILD") or REPO / "build" / "bin")
DOCKER = os.environ.get("DOCKER_CLI") or shutil.which("docker") or "/usr/local/bin/docker"


def busybox_tar(cache=None):
    """A tarball of the cached busybox rootfs (made once)."""
    rootfs = helpers.build_busybox()
    out = Path(cache or helpers.CACHE) / "busybox-rootfs.tar"
    stamp = out.with_suffix(".stamp")
    want = str(os.stat(rootfs / "bin" / "busybox").st_mtime_ns)
    if not out.exists() or not stamp.exists() or stamp.read_text() != want:
        tmp = out.with_suffix(".tmp")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tmp), "."], check=True)
        os.replace(tmp, out)
        stamp.write_text(want)
    return out


class Berthd:
    def __init__(self, tmpdir, extra_args=(), netns=None):
        self.tmp = Path(tmpdir)
        self.data = self.tmp / "data"
        self.run_dir = self.tmp / "run"
        self.sock = self.run_dir / "berthd.sock"
        self.host = f"unix://{self.sock}"
        self.log = self.tmp / "berthd.log"
        self.docker_config = self.tmp / "docker-config"
        self.docker_config.mkdir(parents=True, exist_ok=True)
        self.extra_args = list(extra_args)
        # netns: the name of a namespace under /run/netns (made by the test) that stands in
        # for the host: bridges, veths, NAT and published ports live there. Without one
        # the daemon runs in the host's namespace with no default bridge (--bridge none):
        # the default mode is then an isolated namespace with lo only.
        self.netns = netns
        if netns is None and not any(a.startswith("--bridge") or a == "-b" for a in self.extra_args):
            self.extra_args += ["--bridge", "none"]
        self.proc = None
        self.seen_ids = set()  # tests may add ids of containers they made

    # ---- the daemon ---------------------------------------------------------
    def start(self, timeout=10):
        args = [str(BUILD / "berthd"), "--data-root", str(self.data), "--exec-root",
                str(self.run_dir), "-H", self.host] + self.extra_args
        if self.netns:
            args = ["nsenter", f"--net=/run/netns/{self.netns}"] + args
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"berthd exited: {self.log.read_text()[-2000:]}")
            if self.sock.exists():
                try:
                    r = self.api("GET", "/_ping", timeout=2)
                    if r[0] == 200:
                        return self
                except OSError:
                    pass
            time.sleep(0.02)
        raise RuntimeError("berthd did not come up: " + self.log.read_text()[-2000:])

    def kill9(self):
        """SIGKILL the daemon (not its shims): live-restore tests."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        # the pid file stays behind (a crash); the lock went with the process

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "logf", None):
            self.logf.close()

    # ---- clients ----------------------------------------------------------
    def env(self):
        e = dict(os.environ)
        e["DOCKER_HOST"] = self.host
        e["BERTH_HOST"] = self.host
        e["DOCKER_CONFIG"] = str(self.docker_config)
        e.pop("DOCKER_API_VERSION", None)
        return e

    def berth(self, *args, input=None, timeout=60, check=False):
        p = subprocess.run([str(BUILD / "berth"), "-H", self.host] + [str(a) for a in args],
                           input=input, capture_output=True, text=isinstance(input, str) or input is None,
                           timeout=timeout, env=self.env())
        if check and p.returncode != 0:
            raise AssertionError(f"berth {args}: rc={p.returncode} {p.stderr}")
        return p

    def docker(self, *args, input=None, timeout=60, check=False):
        p = subprocess.run([DOCKER] + [str(a) for a in args], input=input, capture_output=True,
                           text=isinstance(input, str) or input is None, timeout=timeout,
                           env=self.env())
        if check and p.returncode != 0:
            raise AssertionError(f"docker {args}: rc={p.returncode} {p.stderr}")
        return p

    def api(self, method, path, body=None, timeout=30, headers=None):
        """A raw request over the socket: (status, headers dict, body bytes)."""
        import http.client
        import socket

        class Conn(http.client.HTTPConnection):
            def __init__(s, sockpath):
                super().__init__("localhost", timeout=timeout)
                s.sockpath = sockpath

            def connect(s):
                s.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.sock.settimeout(timeout)
                s.sock.connect(s.sockpath)

        c = Conn(str(self.sock))
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        c.close()
        return out

    def import_busybox(self, tag="busybox:latest"):
        tar = busybox_tar()
        repo, _, t = tag.partition(":")
        with open(tar, "rb") as f:
            st, _, body = self.api("POST", f"/v1.50/images/create?fromSrc=-&repo={repo}&tag={t or 'latest'}",
                                   body=f.read(), headers={"Content-Type": "application/x-tar"},
                                   timeout=120)
        assert st == 200, body
        return json.loads(body.decode().strip().splitlines()[-1])["status"]

    # ---- teardown ---------------------------------------------------------
    def cleanup(self):
        """Force-remove every container through the API, stop berthd, then sweep what a
        crash could leave: shims, mounts, cgroups. Returns a list of problems."""
        problems = []
        ids = set()
        if self.proc and self.proc.poll() is not None and self.data.is_dir():
            # A test that left the daemon down (SIGKILLed, stopped): bring it back on
            # the same roots so that it removes its containers the usual way.
            try:
                self.start()
            except Exception as e:
                problems.append(f"restarting berthd for the cleanup failed: {e!r}")
        if self.proc and self.proc.poll() is None:
            try:
                st, _, body = self.api("GET", "/v1.50/containers/json?all=1", timeout=10)
                for c in json.loads(body) if st == 200 else []:
                    ids.add(c["Id"])
                    self.api("DELETE", f"/v1.50/containers/{c['Id']}?force=1", timeout=30)
            except Exception as e:  # a broken daemon must not stop the sweep
                problems.append(f"cleanup through the API failed: {e!r}")
        self.stop()

        # Shims are not berthd's children: find them by their socket dir. A shim whose
        # container was just removed may still be deleting its runtime state (berth-shim
        # --delete): give those a bounded moment.
        def shims():
            found = []
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read()
                    with open(f"/proc/{pid}/stat") as f:
                        zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
                except OSError:
                    continue
                if str(self.run_dir).encode() in cmd and b"berth-shim" in cmd and not zombie:
                    found.append(int(pid))
            return found
        deadline = time.monotonic() + 5
        pids = shims()
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = shims()
        if pids:
            problems.append(f"shims left running: {pids}")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        # Containers the shims ran: the runtime state under exec-root.
        rt_root = self.run_dir / "runtime"
        if rt_root.is_dir():
            for cid in os.listdir(rt_root):
                if cid.startswith("."):
                    continue
                subprocess.run([str(BUILD / "berth-runtime"), "--root", str(rt_root), "delete",
                                "--force", cid], capture_output=True, timeout=30)
                problems.append(f"container left in the runtime: {cid}")
        mps = helpers.mounts_under(self.tmp)
        if mps:
            problems.append("mounts left: " + ", ".join(mps))
            helpers.unmount_all_under(self.tmp)
        # cgroups named after containers of this daemon
        for ctrl in Path("/sys/fs/cgroup").iterdir():
            d = ctrl / "berth"
            if not d.is_dir():
                continue
            for sub in d.iterdir():
                if sub.is_dir() and (sub.name in ids or sub.name in self.seen_ids):
                    problems.append(f"cgroup left: {sub}")
                    try:
                        sub.rmdir()
                    except OSError:
                        pass
        return problems
