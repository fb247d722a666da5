#!/usr/bin/python3
"""berth beside Debian's docker.io (dockerd + containerd) and podman: run latency, run -d and
rm -f of many containers, ps with many containers, and the memory of daemons and shims.
Run by bench/engine-vs-docker.sh, which prepares BASE (a private temp folder) and sweeps it
afterwards; this script starts and stops the daemons itself and removes what it made.

    engine_bench.py BASE BUSYBOX_TAR
    env: RUNS=30 COUNT=100 PS_SMALL=100 PS_BIG=1000 PS_REPS=10 MAX_SECONDS=2400
         BIG_SECONDS=240 (bound per engine for creating the PS_BIG containers)
         DOCKER_CLI=/usr/bin/docker  SKIP_DOCKER=1  SKIP_PODMAN=1
"""

import http.client
import json
import random
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("BERTH_BUILD") or REPO / "build" / "bin")
BASE = Path(sys.argv[1])
TAR = Path(sys.argv[2])


def env_int(name, default):
    return int(os.environ.get(name) or default)


RUNS = env_int("RUNS", 30)
COUNT = env_int("COUNT", 100)
PS_SMALL = env_int("PS_SMALL", 100)
PS_BIG = env_int("PS_BIG", 1000)
PS_REPS = env_int("PS_REPS", 10)
MAX_SECONDS = env_int("MAX_SECONDS", 2400)
BIG_SECONDS = env_int("BIG_SECONDS", 240)
DOCKER_CLI = os.environ.get("DOCKER_CLI") or (
    "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else shutil.which("docker"))
T_END = time.monotonic() + MAX_SECONDS
# podman on these machines: root lacks CAP_SYS_RESOURCE, so its default rlimits fail
PODMAN_RUN_OPTS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]
# dockerd without host networking: no bridge, no iptables, no sysctls (the default of Docker)
DOCKER_NO_NET = ["--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
                 "--userland-proxy=false"]


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def time_left():
    return T_END - time.monotonic()


# ---- statistics ---------------------------------------------------------------------

def med(xs):
    xs = sorted(xs)
    n = len(xs)
    if not n:
        return float("nan")
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[max(0, math.ceil(q * len(xs)) - 1)]  # nearest rank


def fmt(x, unit="", prec=1):
    return "n/a" if x != x else f"{x:.{prec}f}{unit}"


# ---- processes and memory -----------------------------------------------------------

def proc_kb(pid, field, fname="status"):
    try:
        with open(f"/proc/{pid}/{fname}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_kb(pid):
    return proc_kb(pid, "VmRSS")


def pss_kb(pid):
    return proc_kb(pid, "Pss", "smaps_rollup")


def procs_matching(exe_base, needle):
    """pids whose argv[0] ends in exe_base and whose command line contains needle."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]).decode(errors="replace") == exe_base and \
                needle.encode() in b"\0".join(argv):
            out.append(int(p))
    return out


def read_pid(path):
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def stop_pid(pid, timeout=30, popen=None):
    """SIGTERM, wait, then SIGKILL: a daemon this script started (popen: our child, so a
    zombie is reaped rather than taken for alive)."""
    if popen is not None:
        alive_ = lambda _: popen.poll() is None
    else:
        alive_ = alive
    if not pid or not alive_(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive_(pid):
        time.sleep(0.05)
    if alive_(pid):
        log(f"pid {pid} ignored SIGTERM for {timeout}s: SIGKILL")
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def mounts_under(prefix):
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == str(prefix) or mp.startswith(str(prefix) + "/"):
                out.append(mp)
    return out


def overlay_count():
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if " - overlay " in line)


# ---- a tiny HTTP client over a unix socket --------------------------------------------

class UnixConn(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path_ = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path_)


def api(sock, method, path, body=None, timeout=30):
    c = UnixConn(str(sock), timeout)
    try:
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# ---- engines --------------------------------------------------------------------------

class Peer:
    """One client + engine pair that is timed: argv prefix, env, extra run options."""

    def __init__(self, name, argv, env=None, run_opts=(), engine=None):
        self.name, self.argv, self.env = name, list(argv), env
        self.run_opts = list(run_opts)
        self.engine = engine

    def cmd(self, *args, timeout=60, capture=False):
        t0 = time.perf_counter_ns()
        try:
            p = subprocess.run(self.argv + list(args), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=self.env, timeout=timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", b"", b""
        dt = (time.perf_counter_ns() - t0) / 1e6
        return rc, dt, (out or b"").decode(errors="replace"), err.decode(errors="replace")


class Berth:
    """berthd with private roots. wrap: a prefix of its argv (e.g. nsenter into a network
    namespace); args: more daemon flags (default: no default bridge, so the host's network
    is not touched, as DOCKER_NO_NET does for dockerd)."""
    name = "berth"

    def __init__(self, wrap=(), args=("--bridge", "none")):
        self.wrap, self.args = list(wrap), list(args)
        self.dir = BASE / "berth"
        self.data, self.run = self.dir / "data", self.dir / "run"
        self.sock = self.run / "berthd.sock"
        self.pidfile = self.dir / "berthd.pid"
        self.pid = None
        self.ids = set()

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        logf = open(self.dir / "berthd.log", "ab")
        p = subprocess.Popen(self.wrap + [str(BIN / "berthd"), "--data-root", str(self.data),
                                          "--exec-root", str(self.run), "-H",
                                          f"unix://{self.sock}", "--pidfile", str(self.pidfile)]
                             + self.args, stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        self.popen = p
        self.pid = p.pid
        wait_ping(self.sock, p, 15, self.dir / "berthd.log")

    def daemon_pids(self):
        return {"berthd": self.pid}

    def shim_pids(self):
        return procs_matching("berth-shim", str(self.run))

    def stop(self):
        stop_pid(self.pid, 30, getattr(self, "popen", None))


class Docker:
    """dockerd (with its containerd) with private roots. wrap: a prefix of its argv;
    net_args: its network flags (default: none of the host's networking touched)."""
    name = "docker"

    def __init__(self, wrap=(), net_args=DOCKER_NO_NET):
        self.wrap, self.net_args = list(wrap), list(net_args)
        self.dir = BASE / "docker"
        self.data, self.run = self.dir / "data", self.dir / "run"
        self.sock = self.dir / "docker.sock"
        self.pidfile = self.dir / "dockerd.pid"
        self.pid = None
        self.ids = set()

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        cfg = self.dir / "daemon.json"
        # not the host's /etc/docker/daemon.json; the trust key not in /etc/docker
        cfg.write_text(json.dumps({"deprecated-key-path": str(self.dir / "key.json")}) + "\n")
        logf = open(self.dir / "dockerd.log", "ab")
        p = subprocess.Popen(self.wrap + ["dockerd", "--config-file", str(cfg), "--data-root",
                                          str(self.data), "--exec-root", str(self.run), "-H",
                                          f"unix://{self.sock}", "--pidfile", str(self.pidfile)]
                             + self.net_args + ["--log-level=warn"],
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                             start_new_session=True)
        logf.close()
        self.popen = p
        self.pid = p.pid
        wait_ping(self.sock, p, 60, self.dir / "dockerd.log")

    def containerd_pid(self):
        pid = read_pid(self.run / "containerd" / "containerd.pid")
        if pid and alive(pid):
            return pid
        ps = procs_matching("containerd", str(self.run))
        return ps[0] if ps else None

    def daemon_pids(self):
        return {"dockerd": self.pid, "containerd": self.containerd_pid()}

    def shim_pids(self):
        return procs_matching("containerd-shim-runc-v2", str(self.run))

    def stop(self):
        ctd = self.containerd_pid()
        stop_pid(self.pid, 60, getattr(self, "popen", None))
        if ctd and alive(ctd):  # dockerd stops its containerd; make sure
            stop_pid(ctd, 20)


class Podman:
    """podman with private roots and network configuration. wrap: a prefix of every podman
    command (podman has no daemon: its containers' networks are set up by the command)."""
    name = "podman"

    def __init__(self, wrap=()):
        self.dir = BASE / "podman"
        self.ids = set()
        self.argv = list(wrap) + [
            "podman", "--root", str(self.dir / "root"), "--runroot", str(self.dir / "runroot"),
            "--tmpdir", str(self.dir / "tmp"), "--network-config-dir", str(self.dir / "net"),
            "--cgroup-manager", "cgroupfs", "--events-backend", "none", "--storage-driver",
            "overlay"]
        if os.environ.get("PODMAN_RUNTIME"):
            self.argv += ["--runtime", os.environ["PODMAN_RUNTIME"]]

    def start(self):
        for d in ("root", "runroot", "tmp", "net"):
            (self.dir / d).mkdir(parents=True, exist_ok=True)

    def daemon_pids(self):
        return {}

    def shim_pids(self):
        return procs_matching("conmon", str(self.dir))

    def stop(self):
        pass


def wait_ping(sock, popen, timeout, logpath):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{logpath.name}: daemon exited: "
                               + logpath.read_text(errors="replace")[-1500:])
        if sock.exists():
            try:
                if api(sock, "GET", "/_ping", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"daemon did not answer /_ping in {timeout}s: "
                       + logpath.read_text(errors="replace")[-1500:])


def docker_env(tag):
    d = BASE / f"docker-config-{tag}"
    d.mkdir(parents=True, exist_ok=True)
    e = dict(os.environ)
    e["DOCKER_CONFIG"] = str(d)
    for k in ("DOCKER_HOST", "DOCKER_API_VERSION", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        e.pop(k, None)
    return e


# ---- the benchmark ----------------------------------------------------------------------

_ORDER_RNG = random.Random(env_int("SEED", 1))


def rotate(xs, k):
    """The peers in a fresh order for round k: shuffled (seeded), so no peer always runs
    right after the same other one (its leftover work would be charged to it)."""
    order = list(xs)
    _ORDER_RNG.shuffle(order)
    return order


def check_peer(p):
    rc, dt, out, err = p.cmd("run", "--rm", "--network", "none", *p.run_opts, "busybox",
                             "echo", "berth-bench-ok", capture=True, timeout=120)
    if rc != 0 or out != "berth-bench-ok\n":
        log(f"{p.name} does not run containers correctly: exit {rc}, stdout {out[:100]!r}, "
            f"stderr {err.strip()[-300:]!r}")
        return False
    return True


def bench_run_rm(peers, results):
    """`run --rm --network none busybox true`, alternating, order rotated each round."""
    times = {p.name: [] for p in peers}
    fails = {p.name: 0 for p in peers}
    errs = {}
    for p in peers:  # one untimed warm-up each
        p.cmd("run", "--rm", "--network", "none", *p.run_opts, "busybox", "true")
    done = 0
    for i in range(RUNS):
        if time_left() < 0:
            log(f"run --rm: stopped after {i} rounds (MAX_SECONDS)")
            break
        for p in rotate(peers, i):
            rc, dt, _, err = p.cmd("run", "--rm", "--network", "none", *p.run_opts, "busybox",
                                   "true")
            if rc == 0:
                times[p.name].append(dt)
            else:
                fails[p.name] += 1
                errs.setdefault(p.name, f"exit {rc}: {err.strip()[-300:]}")
        done += 1
    results["run_rm"] = {"rounds": done, "times": times, "fails": fails, "errs": errs}


def list_ids(peer, all_=True):
    args = ["ps", "-q", "--no-trunc"] + (["-a"] if all_ else [])
    rc, _, out, err = peer.cmd(*args, capture=True, timeout=120)
    if rc != 0:
        log(f"{peer.name} ps failed: {err.strip()[-200:]}")
        return None
    return [x for x in out.split() if x]


def mem_snapshot(engine):
    """VmRSS and PSS (KiB) of the daemons; medians over the per-container processes; the
    RssAnon/RssFile split tells heap and stacks from mapped binaries and libraries."""
    d = {}
    for name, pid in engine.daemon_pids().items():
        d[name] = (rss_kb(pid) if pid else None, pss_kb(pid) if pid else None,
                   proc_kb(pid, "RssAnon") if pid else None,
                   proc_kb(pid, "RssFile") if pid else None)
    # zombies of the daemons: exited children (shims) not reaped yet
    zombies = 0
    dpids = {p for p in engine.daemon_pids().values() if p}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if st[0] == "Z" and int(st[1]) in dpids:
                zombies += 1
    shims = engine.shim_pids()
    vals = lambda f: [x for x in (f(s) for s in shims) if x is not None]
    return {"daemons": d, "nshims": len(shims), "zombies": zombies, "shim_rss": med(vals(rss_kb)),
            "shim_pss": med(vals(pss_kb)), "shim_anon": med(vals(lambda s: proc_kb(s, "RssAnon"))),
            "shim_file": med(vals(lambda s: proc_kb(s, "RssFile")))}


def bench_run_d(peers, results):
    """COUNT sequential `run -d ... sleep 600` per engine, alternating; memory with them
    running; then one `rm -f` of them all, timed."""
    times = {p.name: [] for p in peers}
    fails = {p.name: 0 for p in peers}
    errs = {}
    ids = {p.name: [] for p in peers}
    done = 0
    for i in range(COUNT):
        if time_left() < 0:
            log(f"run -d: stopped after {i} rounds (MAX_SECONDS)")
            break
        for p in rotate(peers, i):
            rc, dt, out, err = p.cmd("run", "-d", "--network", "none", *p.run_opts, "busybox",
                                     "sleep", "600", capture=True)
            if rc == 0:
                times[p.name].append(dt)
                cid = out.strip()
                ids[p.name].append(cid)
                p.engine.ids.add(cid)
            else:
                fails[p.name] += 1
                errs.setdefault(p.name, f"exit {rc}: {err.strip()[-300:]}")
        done += 1
    time.sleep(1)  # let the shims settle after their last start
    running = {}
    mem = {}
    for p in peers:
        r = list_ids(p, all_=False)
        running[p.name] = len(r) if r is not None else None
        mem[p.name] = mem_snapshot(p.engine)
    rm = {}
    for k, p in enumerate(rotate(peers, 0)):
        if not ids[p.name]:
            continue
        # docker's rm -f kills at once; podman's waits --time (10 s) after SIGTERM first
        extra = ["-t", "0"] if isinstance(p.engine, Podman) else []
        rc, dt, _, err = p.cmd("rm", "-f", *extra, *ids[p.name],
                               timeout=max(60, min(600, time_left())))
        rm[p.name] = (dt, len(ids[p.name]), rc, err.strip()[-300:] if rc else "")
        left = list_ids(p) or []
        if left:
            log(f"{p.name}: {len(left)} containers left after rm -f")
    results["run_d"] = {"rounds": done, "times": times, "fails": fails, "errs": errs,
                        "running": running, "mem": mem, "rm": rm}


def create_api(engine, n, deadline):
    """Create containers through the Engine API (berthd, dockerd), 2 at a time."""
    body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}}

    def one(_):
        if time.monotonic() > deadline:
            return None
        st, b = api(engine.sock, "POST", "/containers/create", body, timeout=60)
        if st != 201:
            raise RuntimeError(f"{engine.name} create: {st} {b[:200]!r}")
        return json.loads(b)["Id"]

    made = 0
    with ThreadPoolExecutor(2) as ex:
        for cid in ex.map(one, range(n)):
            if cid:
                engine.ids.add(cid)
                made += 1
    return made


def create_cli(peer, n, deadline):
    """podman has no daemon: `podman create`, 4 at a time."""
    def one(_):
        if time.monotonic() > deadline:
            return None
        rc, _, out, err = peer.cmd("create", "--network", "none", *peer.run_opts, "busybox",
                                   "true", capture=True, timeout=120)
        if rc != 0:
            raise RuntimeError(f"{peer.name} create: {rc} {err[-200:]}")
        return out.strip()

    made = 0
    with ThreadPoolExecutor(4) as ex:
        for cid in ex.map(one, range(n)):
            if cid:
                peer.engine.ids.add(cid)
                made += 1
    return made


def bench_ps(peers, create_peers, results):
    """ps and ps -a with PS_SMALL, then PS_BIG created containers per engine."""
    out = {}
    have = {p.engine.name: 0 for p in create_peers}
    for size in (PS_SMALL, PS_BIG):
        if time_left() < 60:
            log(f"ps: skipping {size} containers (MAX_SECONDS)")
            break
        t0 = time.monotonic()
        for p in create_peers:
            e = p.engine
            want = size - have[e.name]
            if want <= 0:
                continue
            deadline = min(time.monotonic() + BIG_SECONDS, T_END - 30)
            made = create_api(e, want, deadline) if hasattr(e, "sock") else \
                create_cli(p, want, deadline)
            have[e.name] += made
            log(f"{e.name}: {have[e.name]} containers (made {made} in "
                f"{time.monotonic() - t0:.0f}s)")
            t0 = time.monotonic()
        counts = {}
        for p in peers:
            ids = list_ids(p)
            counts[p.name] = len(ids) if ids is not None else None
        times = {(p.name, v): [] for p in peers for v in ("ps", "ps -a")}
        for i in range(PS_REPS):
            if time_left() < 10:
                break
            for p in rotate(peers, i):
                for v in ("ps", "ps -a"):
                    rc, dt, _, err = p.cmd(*v.split(), timeout=120)
                    if rc == 0:
                        times[(p.name, v)].append(dt)
                    else:
                        log(f"{p.name} {v} failed: {err.strip()[-200:]}")
        out[size] = {"counts": counts, "times": times}
    results["ps"] = out
    for p in create_peers:  # remove them, untimed
        remove_all(p)


def remove_all(peer):
    e = peer.engine
    if isinstance(e, Podman):
        peer.cmd("rm", "-f", "-t", "0", "-a", timeout=600)
        return
    ids = list_ids(peer) or []
    for k in range(0, len(ids), 200):
        peer.cmd("rm", "-f", *ids[k:k + 200], timeout=600)


def main():
    results = {"overlay_before": overlay_count()}
    berth, docker, podman = Berth(), Docker(), Podman()
    engines = [berth]
    if not os.environ.get("SKIP_DOCKER"):
        engines.append(docker)
    if not os.environ.get("SKIP_PODMAN"):
        engines.append(podman)
    started = []
    peers = {}
    problems = []
    try:
        for e in engines:
            t0 = time.monotonic()
            e.start()
            started.append(e)
            results.setdefault("start_s", {})[e.name] = time.monotonic() - t0
        peers["berth"] = Peer("berth", [str(BIN / "berth"), "-H", f"unix://{berth.sock}"],
                              engine=berth)
        if docker in started:
            peers["docker-cli>berthd"] = Peer("docker-cli>berthd",
                                              [DOCKER_CLI, "-H", f"unix://{berth.sock}"],
                                              env=docker_env("b"), engine=berth)
            peers["docker"] = Peer("docker", [DOCKER_CLI, "-H", f"unix://{docker.sock}"],
                                   env=docker_env("d"), engine=docker)
        if podman in started:
            peers["podman"] = Peer("podman", podman.argv, run_opts=PODMAN_RUN_OPTS,
                                   engine=podman)
        # The busybox image, imported from the same tarball everywhere.
        for n in ("berth", "docker", "podman"):
            if n in peers:
                rc, dt, _, err = peers[n].cmd("import", str(TAR), "busybox:latest", timeout=300)
                if rc != 0:
                    raise RuntimeError(f"{n} import: {err.strip()[-300:]}")
                results.setdefault("import_ms", {})[n] = dt
        # Each peer must really run the container before it is timed.
        ok = [p for p in peers.values() if check_peer(p)]
        for n in set(peers) - {p.name for p in ok}:
            problems.append(f"{n}: does not run containers correctly (see above); not timed")
        if "berth" not in [p.name for p in ok]:
            raise RuntimeError("berth does not run containers; nothing to compare")
        time.sleep(1)
        results["mem_idle"] = {e.name: mem_snapshot(e) for e in started}

        log(f"1/3 run --rm x{RUNS} ({len(ok)} peers)")
        bench_run_rm(ok, results)
        results["mem_idle_after"] = {e.name: mem_snapshot(e) for e in started}

        engine_peers = [p for p in ok if p.name != "docker-cli>berthd"]
        log(f"2/3 run -d x{COUNT}, rm -f")
        bench_run_d(engine_peers, results)

        log(f"3/3 ps with {PS_SMALL} and {PS_BIG} created containers")
        bench_ps(ok, engine_peers, results)
        time.sleep(1)
        results["mem_end"] = {e.name: mem_snapshot(e) for e in started}
    except KeyboardInterrupt:
        problems.append("interrupted")
        log("interrupted: cleaning up")
    except Exception as ex:  # report, then clean up
        problems.append(f"aborted: {ex}")
        log(f"aborted: {ex!r}")
    finally:
        problems += cleanup(started, peers)
    results["overlay_after"] = overlay_count()
    report(results, problems, peers)
    return 1 if problems or "run_rm" not in results else 0


def cleanup(started, peers):
    problems = []
    berth = peers["berth"].engine if "berth" in peers else None
    if berth and berth.ids:  # for the wrapper's cgroup sweep
        (BASE / "berth-ids").write_text("".join(i + "\n" for i in sorted(berth.ids)))
    for name in ("berth", "docker", "podman"):
        p = peers.get(name)
        if not p or p.engine not in started:
            continue
        try:
            remove_all(p)
            left = list_ids(p) or []
            if left:
                problems.append(f"{name}: {len(left)} containers left after rm -f")
            rc, _, _, err = p.cmd("rmi", "-f", "busybox:latest", timeout=120)
            if rc != 0:
                problems.append(f"{name}: rmi failed: {err.strip()[-200:]}")
        except Exception as ex:
            problems.append(f"{name}: cleanup failed: {ex!r}")
    for e in started:
        try:
            e.stop()
        except Exception as ex:
            problems.append(f"{e.name}: stop failed: {ex!r}")
        for pid in e.shim_pids():
            problems.append(f"{e.name}: shim {pid} still running after stop: killed")
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    for e in started:
        if isinstance(e, Podman):
            # c/storage keeps its overlay home mounted; a reset unmounts it
            subprocess.run(e.argv + ["system", "reset", "-f"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)
    left = mounts_under(BASE)
    if left:
        problems.append(f"mounts left under {BASE}: {len(left)} (the wrapper unmounts them): "
                        + ", ".join(left[:5]))
    return problems


# ---- the report ------------------------------------------------------------------------

def report(r, problems, peers):
    P = lambda *a: print(*a, flush=True)
    P("\n== berth vs docker (Debian docker.io) vs podman ==")
    P(f"docker CLI: {DOCKER_CLI}; berth: {BIN}; podman runtime: "
      f"{os.environ.get('PODMAN_RUNTIME') or 'default (crun)'}")
    if "import_ms" in r:
        P("import busybox: " + ", ".join(f"{k} {v:.0f} ms" for k, v in r["import_ms"].items()))
    md = []
    rr = r.get("run_rm")
    if rr:
        P(f"\n1. run --rm --network none busybox true ({rr['rounds']} rounds, alternating)")
        P(f"{'peer':<20} {'ok':>4} {'fail':>4} {'median ms':>10} {'p90 ms':>8} {'min ms':>8}")
        for n, xs in rr["times"].items():
            P(f"{n:<20} {len(xs):>4} {rr['fails'][n]:>4} {fmt(med(xs)):>10} "
              f"{fmt(pct(xs, .9)):>8} {fmt(min(xs) if xs else float('nan')):>8}")
        for n, e in rr["errs"].items():
            P(f"  {n} failed: {e}")
        m = {n: med(xs) for n, xs in rr["times"].items()}
        if "docker" in m:
            P(f"docker / berth: {m['docker'] / m['berth']:.1f}x   "
              f"(same docker CLI: docker / docker-cli>berthd "
              f"{m['docker'] / m.get('docker-cli>berthd', float('nan')):.1f}x)")
        if "podman" in m:
            P(f"podman / berth: {m['podman'] / m['berth']:.1f}x")

        def c(n):
            xs = rr["times"].get(n, [])
            return f"{med(xs):.1f} ms (p90 {pct(xs, .9):.1f})" if xs else "n/a"
        ratio = m.get("docker", float("nan")) / m["berth"]
        md.append(f"| `run --rm` busybox `true`, median of {rr['rounds']} | {c('berth')} "
                  f"| {c('docker-cli>berthd')} | {c('docker')} | {c('podman')} | "
                  f"{fmt(ratio, 'x')} |")
    rd = r.get("run_d")
    if rd:
        P(f"\n2. run -d --network none busybox sleep 600, {rd['rounds']} sequential each")
        P(f"{'engine':<10} {'ok':>4} {'fail':>4} {'median ms':>10} {'p90 ms':>8} "
          f"{'running':>8} {'rm -f all s':>12} {'rm ms/ctr':>10}")
        for n, xs in rd["times"].items():
            rm = rd["rm"].get(n)
            rms = f"{rm[0] / 1000:.2f}" if rm else "n/a"
            rmc = f"{rm[0] / max(1, rm[1]):.1f}" if rm else "n/a"
            P(f"{n:<10} {len(xs):>4} {rd['fails'][n]:>4} {fmt(med(xs)):>10} "
              f"{fmt(pct(xs, .9)):>8} {str(rd['running'].get(n)):>8} {rms:>12} {rmc:>10}")
            if rm and rm[2]:
                P(f"  {n} rm -f failed: {rm[2]} {rm[3]}")
        for n, e in rd["errs"].items():
            P(f"  {n} failed: {e}")
        m = {n: med(xs) for n, xs in rd["times"].items()}

        def c2(n):
            xs = rd["times"].get(n, [])
            rm = rd["rm"].get(n)
            s = f"{med(xs):.1f} ms" if xs else "n/a"
            return s + (f"; rm -f {rm[0] / 1000:.2f} s" if rm else "")
        md.append(f"| `run -d` busybox `sleep`, {rd['rounds']} in a row (median); one `rm -f` of "
                  f"all | {c2('berth')} | | {c2('docker')} | {c2('podman')} | "
                  f"{fmt(m.get('docker', float('nan')) / m.get('berth', float('nan')), 'x')} |")
    ps = r.get("ps")
    if ps:
        P(f"\n3. ps / ps -a with N created (not running) containers, median of {PS_REPS}")
        P(f"{'peer':<20} {'N':>6} {'listed':>7} {'ps ms':>8} {'ps -a ms':>9}")
        for size, d in ps.items():
            names = sorted({n for n, _ in d["times"]}, key=list(peers).index)
            for n in names:
                P(f"{n:<20} {size:>6} {str(d['counts'].get(n)):>7} "
                  f"{fmt(med(d['times'][(n, 'ps')])):>8} "
                  f"{fmt(med(d['times'][(n, 'ps -a')])):>9}")
            mb = med(d["times"].get(("berth", "ps -a"), []))
            md_c = lambda n: (f"{med(d['times'][(n, 'ps -a')]):.1f} ms"
                              f" ({d['counts'].get(n)})" if d["times"].get((n, "ps -a")) else "n/a")
            md.append(f"| `ps -a` with {size} created containers (median of {PS_REPS}; listed) | "
                      f"{md_c('berth')} | {md_c('docker-cli>berthd')} | {md_c('docker')} | "
                      f"{md_c('podman')} | "
                      f"{fmt(med(d['times'].get(('docker', 'ps -a'), [])) / mb, 'x')} |")
    mi, mi2 = r.get("mem_idle"), r.get("mem_idle_after")
    mr = (rd or {}).get("mem")
    me = r.get("mem_end")
    goals = {}
    if mi:
        P("\n4. memory, KiB: VmRSS [PSS] aRssAnon/fRssFile")
        P(f"{'process':<26} {'idle':>26} {'idle after 1.':>26} {'with run -d ctrs':>26} "
          f"{'idle at the end':>26}")

        def cell(snap, eng, dn):
            if not snap or eng not in snap or dn not in snap[eng]["daemons"]:
                return "n/a"
            rss, pss, anon, file = snap[eng]["daemons"][dn]
            return "n/a" if rss is None else f"{rss} [{pss}] a{anon}/f{file}"
        for eng, dn in (("berth", "berthd"), ("docker", "dockerd"), ("docker", "containerd")):
            if eng in mi:
                P(f"{dn:<26} {cell(mi, eng, dn):>26} {cell(mi2, eng, dn):>26} "
                  f"{cell(mr, eng, dn):>26} {cell(me, eng, dn):>26}")
        for eng, sn in (("berth", "berth-shim"), ("docker", "containerd-shim-runc-v2"),
                        ("podman", "conmon")):
            if mr and eng in mr:
                s = mr[eng]
                v = (f"{fmt(s['shim_rss'], '', 0)} [{fmt(s['shim_pss'], '', 0)}] "
                     f"a{fmt(s['shim_anon'], '', 0)}/f{fmt(s['shim_file'], '', 0)}")
                P(f"{sn + ', median of ' + str(s['nshims']):<54} {'':>26} {v:>26}")
        zs = {k: v["zombies"] for k, v in (mr or {}).items() if v["zombies"]}
        if zs:
            P(f"unreaped (zombie) children of the daemons with the run -d containers: {zs}")
        bi = mi["berth"]["daemons"]["berthd"][0]
        b100 = mr["berth"]["daemons"]["berthd"][0] if mr else None
        sh = mr["berth"]["shim_rss"] if mr else float("nan")
        if "docker" in mi:
            di = sum(v[0] or 0 for v in mi["docker"]["daemons"].values())
            d100 = sum(v[0] or 0 for v in mr["docker"]["daemons"].values()) if mr else None
            dsh = mr["docker"]["shim_rss"] if mr else float("nan")
        else:
            di = d100 = None
            dsh = float("nan")
        psh = mr["podman"]["shim_rss"] if mr and "podman" in mr else float("nan")
        kib = lambda x: "n/a" if x is None or x != x else f"{x / 1024:.1f} MiB"
        n = rd["rounds"] if rd else 0
        md.append(f"| daemon RSS idle / with {n} running | berthd {kib(bi)} / {kib(b100)} | | "
                  f"dockerd+containerd {kib(di)} / {kib(d100)} | no daemon | "
                  f"{fmt(di / bi if di else float('nan'), 'x')} |")
        md.append(f"| RSS per container (median): shim | berth-shim {kib(sh)} | | "
                  f"containerd-shim-runc-v2 {kib(dsh)} | conmon {kib(psh)} | "
                  f"{fmt(dsh / sh, 'x')} |")
        goals["berthd idle < 5 MiB"] = (bi is not None and bi < 5 * 1024, kib(bi))
        goals["< 1 MiB per shim (RSS)"] = (sh == sh and sh < 1024, kib(sh))
    if rr:
        bm = med(rr["times"]["berth"])
        dm = med(rr["times"].get("docker", []))
        goals["run under 15 ms median"] = (bm < 15, f"{bm:.1f} ms")
        goals[">= 10x faster than Docker"] = (dm == dm and dm / bm >= 10,
                                              f"{dm / bm:.1f}x" if dm == dm else "n/a")
    P(f"\noverlay mounts on the host (all, any owner): before {r['overlay_before']}, "
      f"after {r['overlay_after']}")
    P("\nMarkdown (README):\n")
    P("| benchmark | berth | docker CLI → berthd | docker (dockerd 20.10) | podman 4.3 | "
      "docker/berth |")
    P("|---|---|---|---|---|---|")
    for line in md:
        P(line)
    order = ["run under 15 ms median", ">= 10x faster than Docker", "berthd idle < 5 MiB",
             "< 1 MiB per shim (RSS)"]
    P("\nGoals: " + "; ".join(f"{g}: {'HOLDS' if goals[g][0] else 'MISSED'} ({goals[g][1]})"
                              for g in order if g in goals))
    if problems:
        P("\nProblems:")
        for p in problems:
            P("  - " + p)


if __name__ == "__main__":
    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    sys.exit(main())
