"""Small helpers shared by the test_runtime_*.py suites (not fixtures: see conftest.py)."""

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")

# Capability numbers, as in linux/capability.h.
CAP_NAMES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]


def uid(prefix="t"):
    """A container id unique across concurrently running test sessions (the default
    cgroup path is shared by every --root)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_for(pred, timeout=5.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def state(rt, cid):
    p = rt("state", cid)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def wait_status(rt, cid, status, timeout=5.0):
    return wait_for(lambda: state(rt, cid)["status"] == status, timeout,
                    what=f"{cid} to be {status}")


def run(rt, bundle, cid, *args, timeout=30, **kw):
    """Set the bundle's args, run it in the foreground; return the CompletedProcess."""
    if args:
        bundle.set_args(*args)
    bundle.write()
    return rt("run", "--bundle", bundle.path, cid, timeout=timeout, **kw)


def run_ok(rt, bundle, *args, cid=None, **kw):
    p = run(rt, bundle, cid or uid("run"), *args, **kw)
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def sh(rt, bundle, script, **kw):
    """Run `sh -c script` in a container from bundle; return stdout (asserting success)."""
    return run_ok(rt, bundle, "sh", "-c", script, **kw)


def create(rt, bundle, cid=None, args=("sleep", "1000"), start=False, extra=()):
    cid = cid or uid("c")
    if args is not None:
        bundle.set_args(*args)
    bundle.write()
    p = rt("create", "--bundle", bundle.path, *extra, cid)
    assert p.returncode == 0, p.stderr
    if start:
        p = rt("start", cid)
        assert p.returncode == 0, p.stderr
    return cid


def exec_ok(rt, cid, *cmd, **kw):
    p = rt("exec", cid, *cmd, **kw)
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def decode_caps(hexval):
    v = int(hexval, 16)
    return {CAP_NAMES[i] if i < len(CAP_NAMES) else f"cap{i}" for i in range(64) if v >> i & 1}


def status_fields(text):
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def mountinfo(text):
    """Parse mountinfo text: {mountpoint: (mount options set, super options set, fstype)};
    the last mount on a mount point wins."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 10:
            continue
        sep = parts.index("-")
        mp = parts[4].replace("\\040", " ")
        opts = set(parts[5].split(","))
        fstype = parts[sep + 1]
        sopts = set(parts[sep + 3].split(",")) if len(parts) > sep + 3 else set()
        optional = parts[6:sep]
        out[mp] = {"opts": opts, "super": sopts, "type": fstype, "optional": optional,
                   "root": parts[3]}
    return out


def cgroup_dirs_named(fragment):
    """Every directory under /sys/fs/cgroup/*/ (v1 controllers and unified) whose path
    contains fragment (a container id or a custom cgroupsPath component)."""
    found = []
    for ctrl in CGROUP_ROOT.iterdir():
        try:
            if not ctrl.is_dir():
                continue
        except OSError:
            continue
        for dirpath, dirnames, _ in os.walk(ctrl):
            for d in dirnames:
                if fragment in d:
                    found.append(os.path.join(dirpath, d))
            # Do not descend too deep: containers' cgroups sit a few levels down.
            if dirpath.count("/") > 8:
                dirnames[:] = []
    return found


def procs_mentioning(needle):
    pids = []
    for e in os.scandir("/proc"):
        if not e.name.isdigit():
            continue
        try:
            with open(f"/proc/{e.name}/cmdline", "rb") as f:
                if needle.encode() in f.read():
                    pids.append(int(e.name))
        except OSError:
            pass
    return pids


class ConsoleSocket:
    """An AF_UNIX listener that receives the pty master (SCM_RIGHTS) from the runtime and
    collects everything the container writes to its terminal."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.master = None
        self.output = bytearray()
        self.error = None
        self.got_fd = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(20)
                msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
                if not fds:
                    raise RuntimeError(f"no fd received (message {msg!r})")
                self.master = fds[0]
                for extra in fds[1:]:
                    os.close(extra)
            self.got_fd.set()
            while True:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO once every slave fd is closed
                    break
                if not chunk:
                    break
                self.output += chunk
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.got_fd.set()
            self.done.set()

    def write(self, data):
        assert self.got_fd.wait(10) and self.master is not None, self.error
        os.write(self.master, data)

    def wait_output(self, needle, timeout=10):
        wait_for(lambda: needle in self.output or self.done.is_set(), timeout,
                 what=f"{needle!r} on the console")
        return bytes(self.output)

    def close(self):
        self.sock.close()
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def ns_inode(pid, ns):
    return os.stat(f"/proc/{pid}/ns/{ns}").st_ino


def host_ns_inode(ns):
    return os.stat(f"/proc/self/ns/{ns}").st_ino


def start_host_sleeper(*unshare_args):
    """A sleeping host process (optionally under `unshare ARGS`); returns the Popen. The
    caller must kill and wait it."""
    cmd = ["unshare", *unshare_args, "sleep", "1000"] if unshare_args else ["sleep", "1000"]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL)


def stop(proc):
    proc.kill()
    proc.wait(5)
