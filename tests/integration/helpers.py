"""Helpers for berth's runtime integration tests (run under /usr/bin/python3 with pytest).

Bundle: an OCI bundle in a temporary folder (rootfs copied from the busybox image, config
loaded from tests/images/config.template.json). Runtime: berth-runtime with a private
--root. Cleanup: find what a test left behind (containers, processes, mounts) and remove it.
"""

import copy
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("BERTH_CACHE") or REPO / ".cache")
TEMPLATE = REPO / "tests" / "images" / "config.template.json"
BUILD_BUSYBOX = REPO / "tests" / "images" / "build-busybox.sh"


def build_busybox(outdir=None):
    """Build (or reuse) the cached busybox rootfs; return its path."""
    outdir = Path(outdir or CACHE / "busybox")
    subprocess.run(["bash", str(BUILD_BUSYBOX), str(outdir)], check=True,
                   stdin=subprocess.DEVNULL, timeout=300)
    rootfs = outdir / "rootfs"
    assert (rootfs / "bin" / "busybox").is_file(), rootfs
    return rootfs


def load_template():
    with open(TEMPLATE) as f:
        return json.load(f)


class Bundle:
    """An OCI bundle: .path (folder), .rootfs, .config (dict); .write() saves config.json."""

    def __init__(self, path, rootfs_src, args=None):
        self.path = Path(path)
        self.rootfs = self.path / "rootfs"
        self.path.mkdir(parents=True, exist_ok=True)
        # cp -a keeps owners, modes and the applet symlinks; about 2 MB, a few ms.
        subprocess.run(["cp", "-a", str(rootfs_src), str(self.rootfs)], check=True)
        self.config = copy.deepcopy(load_template())
        if args is not None:
            self.config["process"]["args"] = list(args)
        self.write()

    def set_args(self, *args):
        self.config["process"]["args"] = list(args)
        return self

    def write(self):
        tmp = self.path / "config.json.tmp"
        with open(tmp, "w") as f:
            json.dump(self.config, f, indent=2)
        os.replace(tmp, self.path / "config.json")
        return self

    def __str__(self):
        return str(self.path)

    def __fspath__(self):
        return str(self.path)


# Options of runc's create/run/exec that take a value (to find the container id argument).
_VALUE_OPTS = {"--bundle", "-b", "--pid-file", "--console-socket", "--preserve-fds",
               "--process", "-p", "--cwd", "--env", "-e", "--user", "-u", "--cap", "-c",
               "--apparmor", "--process-label", "--additional-gids", "-g", "--log",
               "--log-format", "--root", "--criu", "--rootless", "--cgroup"}
_CREATING = {"run", "create"}


class Runtime:
    """berth-runtime (or another OCI runtime) with a private --root folder."""

    def __init__(self, binary, root):
        self.binary = str(binary)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.created = []  # container ids passed to run/create, in order

    def _note_ids(self, args):
        args = [str(a) for a in args]
        for i, a in enumerate(args):
            if a in _CREATING:
                rest = args[i + 1:]
                j = 0
                while j < len(rest):
                    r = rest[j]
                    if r == "--":
                        j += 1
                        break
                    if r.startswith("-"):
                        j += 2 if (r in _VALUE_OPTS and "=" not in r) else 1
                        continue
                    break
                if j < len(rest) and rest[j] not in self.created:
                    self.created.append(rest[j])
                return

    def rt(self, *args, input=None, timeout=30, text=True, check=False, env=None):
        """Run `berth-runtime --root ROOT ARGS...`; return the CompletedProcess.

        stdin is /dev/null unless input is given. stdout and stderr go to temporary files,
        not pipes, so a command that leaves a container holding them (create, run -d)
        returns when the runtime exits instead of when the container closes them.
        """
        self._note_ids(args)
        cmd = [self.binary, "--root", str(self.root)] + [str(a) for a in args]
        if isinstance(input, str):
            input = input.encode()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.run(cmd, input=input,
                               stdin=subprocess.DEVNULL if input is None else None,
                               stdout=out, stderr=err, timeout=timeout, env=env)
            out.seek(0)
            err.seek(0)
            p.stdout, p.stderr = out.read(), err.read()
        if text:
            p.stdout = p.stdout.decode(errors="replace")
            p.stderr = p.stderr.decode(errors="replace")
        if check:
            p.check_returncode()
        return p

    __call__ = rt

    def container_ids(self):
        """Everything this runtime may still know about: what tests created, `list -q`,
        and the entries of the state folder (runc and crun keep one folder per id)."""
        ids = list(self.created)
        try:
            p = self.rt("list", "-q", timeout=10)
            if p.returncode == 0:
                ids += [line.strip() for line in p.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
        try:
            ids += [e.name for e in os.scandir(self.root) if e.is_dir()]
        except OSError:
            pass
        seen, out = set(), []
        for i in ids:
            if i not in seen:
                seen.add(i)
                out.append(i)
        return out

    def delete_all(self):
        for cid in self.container_ids():
            try:
                self.rt("delete", "--force", cid, timeout=15)
            except (OSError, subprocess.SubprocessError):
                pass


# ------------------------------------------------------------------ processes and mounts

def _ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def _same_file(a, b):
    return a is not None and b is not None and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _stat(path):
    try:
        return os.stat(path)
    except OSError:
        return None


def find_leftover_processes(dirs, needles=()):
    """PIDs whose root or cwd is one of `dirs` or inside one of them (compared by inode, so
    a container that pivot_root'ed into a bind mount of the rootfs is found too), or whose
    command line mentions one of `needles` (for example a runtime's --root folder)."""
    dirs = [Path(d) for d in dirs]
    dir_stats = [s for s in (_stat(d) for d in dirs) if s is not None]
    prefixes = [str(d) for d in dirs]
    mine = _ancestors()
    found = []
    for e in os.scandir("/proc"):
        if not e.name.isdigit():
            continue
        pid = int(e.name)
        if pid in mine:
            continue
        hit = False
        for link in ("root", "cwd"):
            p = f"/proc/{pid}/{link}"
            try:
                target = os.readlink(p)
            except OSError:
                continue
            if any(target == x or target.startswith(x + "/") for x in prefixes):
                hit = True
                break
            st = _stat(p)
            if any(_same_file(st, ds) for ds in dir_stats):
                hit = True
                break
        if not hit and needles:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().decode(errors="replace")
                hit = any(n in cmdline for n in needles)
            except OSError:
                pass
        if hit:
            found.append(pid)
    return found


def kill_processes(pids, wait=5.0):
    """SIGKILL pids and wait (bounded) for them to go; return those still there."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + wait
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if _alive(p)]
        if left:
            time.sleep(0.05)
    return left


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _unescape(s):
    # mountinfo escapes space, tab, newline and backslash as octal.
    return (s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            .replace("\\134", "\\"))


def mounts_under(path, mountinfo="/proc/self/mountinfo"):
    """Mount points at or below path, deepest first."""
    path = str(Path(path).resolve())
    out = []
    with open(mountinfo) as f:
        for line in f:
            mp = _unescape(line.split()[4])
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return sorted(out, key=len, reverse=True)


def unmount_all_under(path):
    for mp in mounts_under(path):
        subprocess.run(["umount", "-l", mp], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def cleanup(tmpdir, runtimes, rootfs_dirs):
    """Remove what a test left: containers (delete --force), processes, mounts. Return a
    list of problems found (leftover processes or mounts), empty when it was clean."""
    problems = []
    for r in runtimes:
        r.delete_all()
    needles = [str(r.root) for r in runtimes]
    pids = find_leftover_processes([tmpdir] + list(rootfs_dirs), needles)
    if pids:
        desc = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                desc.append(f"{pid}: {cmd[:80]}")
            except OSError:
                desc.append(str(pid))
        problems.append("processes left running: " + ", ".join(desc))
        left = kill_processes(pids)
        if left:
            problems.append(f"processes that would not die: {left}")
    mps = mounts_under(tmpdir)
    if mps:
        problems.append("mounts left: " + ", ".join(mps))
        unmount_all_under(tmpdir)
    return problems


def wait_for(cond, timeout=10.0, step=0.05, what="condition"):
    """cond() until it is true (returned), for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
