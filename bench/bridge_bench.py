#!/usr/bin/python3
"""`run --rm busybox true` on the default bridge network: berth beside Debian's docker.io
(dockerd + containerd, with its docker0 bridge and iptables) and podman (rootful default
network), alternating, the order shuffled each round; the same with --network none in the same
run. Run by bench/bridge-vs-docker.sh, which makes BASE (a private temp folder) and NETNS (a
network namespace of its own) and sweeps both afterwards. The engines are engine_bench.py's,
their daemons (and every podman command) started in NETNS with nsenter.

    bridge_bench.py BASE BUSYBOX_TAR NETNS
    env: RUNS=50 MAX_SECONDS=900 SEED=1 NONE_PEERS=all|berth  SKIP_DOCKER=1 SKIP_PODMAN=1
         DOCKER_CLI=/usr/bin/docker  PODMAN_RUNTIME=crun|runc
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE, TAR, NETNS = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
sys.argv = [sys.argv[0], str(BASE), str(TAR)]  # engine_bench reads BASE and the tar path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_bench as eb  # noqa: E402

RUNS = eb.env_int("RUNS", 50)
SEED = eb.env_int("SEED", 1)
MAX_SECONDS = eb.env_int("MAX_SECONDS", 900)
NONE_PEERS = os.environ.get("NONE_PEERS") or "all"
T_END = time.monotonic() + MAX_SECONDS
NSENTER = ["nsenter", f"--net=/run/netns/{NETNS}"]
# The bridge each engine's default network uses (podman: netavark's podman0, CNI's cni-podman0).
BRIDGE_OF = {"berth": ("berth0",), "docker": ("docker0",), "podman": ("podman", "cni-podman")}
log = eb.log
med, pct, fmt = eb.med, eb.pct, eb.fmt


def time_left():
    return T_END - time.monotonic()


def netns_links():
    """The links of NETNS with their IPv4 addresses and masters (ip -j addr)."""
    p = subprocess.run(["ip", "-n", NETNS, "-j", "addr", "show"], capture_output=True,
                       timeout=10)
    try:
        return json.loads(p.stdout or b"[]")
    except ValueError:
        return []


# ---- is the container really on the bridge? ------------------------------------------

def check_bridge(p, engine):
    """One untimed container prints its eth0 address and routes and stays up 2 s; meanwhile
    NETNS is polled. It passes when eth0 has an IPv4 address and a default route whose
    gateway is an address of the engine's bridge in NETNS, and that bridge had a port (the
    host end of a veth) while the container ran. Returns a description or None."""
    argv = p.argv + ["run", "--rm", *p.run_opts, "busybox", "sh", "-c",
                     "ip -4 addr show eth0; ip route; sleep 2"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=p.env)
    out = {}
    reader = threading.Thread(target=lambda: out.update(
        zip(("out", "err"), (x.decode(errors="replace") for x in proc.communicate()))))
    reader.start()
    snaps = []
    deadline = time.monotonic() + 90
    while reader.is_alive() and time.monotonic() < deadline:
        snaps.append(netns_links())
        time.sleep(0.1)
    reader.join(max(0.0, deadline - time.monotonic()))
    if reader.is_alive():
        proc.kill()
        reader.join(10)
        log(f"{p.name}: the check container did not finish in 90 s")
        return None
    text = out.get("out", "")
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/(\d+)", text)
    g = re.search(r"default via (\d+\.\d+\.\d+\.\d+)", text)
    if proc.returncode != 0 or not m or not g:
        log(f"{p.name}: no eth0 address or default route in the container: exit "
            f"{proc.returncode}, stdout {text[-300:]!r}, stderr {out.get('err', '')[-300:]!r}")
        return None
    addr, plen, gw = m.group(1), m.group(2), g.group(1)
    for snap in snaps:
        for link in snap:
            name = link.get("ifname", "")
            if not any(a.get("local") == gw for a in link.get("addr_info", [])):
                continue
            ports = [x["ifname"] for x in snap if x.get("master") == name]
            if not name.startswith(BRIDGE_OF[engine]):
                log(f"{p.name}: the gateway {gw} is on {name}, not the engine's bridge")
                return None
            if ports:
                return f"eth0 {addr}/{plen}, gateway {gw} on {name} (ports then: {len(ports)})"
    log(f"{p.name}: eth0 {addr}/{plen} via {gw}, but no bridge in {NETNS} with that address "
        "and a port was seen while it ran")
    return None


def check_none(p):
    rc, _, out, err = p.cmd("run", "--rm", *p.run_opts, "busybox", "sh", "-c",
                            "ip -o link | wc -l; ip -4 addr show eth0 2>/dev/null | wc -l",
                            capture=True, timeout=120)
    if rc != 0 or out.split() != ["1", "0"]:
        log(f"{p.name}: with --network none the container should see lo only: exit {rc}, "
            f"stdout {out[-200:]!r}, stderr {err.strip()[-200:]!r}")
        return False
    return True


# ---- the benchmark ----------------------------------------------------------------------

def bench(peers, results):
    """RUNS rounds; in each, every peer once, in an order shuffled per round (seeded): the
    peers share a kernel and a netns, and a run pays for what the one before it left to do
    (its namespace's teardown, its engine's cleanup), so no peer may always follow the same
    one, as a rotated order would make it."""
    rng = random.Random(SEED)
    times = {p.name: [] for p in peers}
    fails = {p.name: 0 for p in peers}
    errs = {}
    after = {}  # (peer, the peer timed just before it) -> times: what the previous run costs
    prev = None
    for p in peers:  # one untimed warm-up each
        p.cmd("run", "--rm", *p.run_opts, "busybox", "true", timeout=120)
    done = 0
    try:
        for i in range(RUNS):
            if time_left() < 60:  # a minute kept for the cleanup
                log(f"stopped after {i} rounds (MAX_SECONDS)")
                break
            order = list(peers)
            rng.shuffle(order)
            for p in order:
                rc, dt, _, err = p.cmd("run", "--rm", *p.run_opts, "busybox", "true",
                                       timeout=120)
                if rc == 0:
                    times[p.name].append(dt)
                    if prev:
                        after.setdefault((p.name, prev), []).append(dt)
                else:
                    fails[p.name] += 1
                    errs.setdefault(p.name, f"exit {rc}: {err.strip()[-300:]}")
                prev = p.name
            done += 1
            if (i + 1) % 10 == 0:
                log(f"round {i + 1}/{RUNS}: " + ", ".join(
                    f"{n} {med(xs):.0f}" for n, xs in times.items() if xs)
                    + " ms (medians so far)")
    finally:  # an interrupted run still reports the rounds it finished
        results["run"] = {"rounds": done, "times": times, "fails": fails, "errs": errs,
                          "after": after}


def main():
    results = {}
    problems = []
    berth = eb.Berth(wrap=NSENTER, args=())
    docker = eb.Docker(wrap=NSENTER, net_args=[])  # Docker's defaults: docker0, iptables
    podman = eb.Podman(wrap=NSENTER)
    # dockerd first: berthd picks a subnet no route uses (docker0 takes 172.17.0.0/16).
    engines = []
    if not os.environ.get("SKIP_DOCKER"):
        engines.append(docker)
    engines.append(berth)
    if not os.environ.get("SKIP_PODMAN"):
        engines.append(podman)
    started, peers, checks = [], {}, {}
    try:
        for e in engines:
            t0 = time.monotonic()
            started.append(e)  # before start(): a half-started daemon is stopped too
            e.start()
            results.setdefault("start_s", {})[e.name] = time.monotonic() - t0
        none = ["--network", "none"]
        b = [str(eb.BIN / "berth"), "-H", f"unix://{berth.sock}"]
        peers["berth"] = eb.Peer("berth", b, engine=berth)
        peers["berth none"] = eb.Peer("berth none", b, run_opts=none, engine=berth)
        if docker in started:
            peers["docker-cli>berthd"] = eb.Peer(
                "docker-cli>berthd", [eb.DOCKER_CLI, "-H", f"unix://{berth.sock}"],
                env=eb.docker_env("b"), engine=berth)
            d = [eb.DOCKER_CLI, "-H", f"unix://{docker.sock}"]
            peers["docker"] = eb.Peer("docker", d, env=eb.docker_env("d"), engine=docker)
            if NONE_PEERS == "all":
                peers["docker none"] = eb.Peer("docker none", d, env=eb.docker_env("d"),
                                               run_opts=none, engine=docker)
        if podman in started:
            peers["podman"] = eb.Peer("podman", podman.argv, run_opts=eb.PODMAN_RUN_OPTS,
                                      engine=podman)
            if NONE_PEERS == "all":
                peers["podman none"] = eb.Peer("podman none", podman.argv,
                                               run_opts=none + eb.PODMAN_RUN_OPTS,
                                               engine=podman)
        for n in ("berth", "docker", "podman"):
            if n in peers:
                rc, dt, _, err = peers[n].cmd("import", str(TAR), "busybox:latest", timeout=300)
                if rc != 0:
                    raise RuntimeError(f"{n} import: {err.strip()[-300:]}")
        ok = []
        for p in peers.values():
            if p.name.endswith(" none"):
                good = check_none(p)
                checks[p.name] = "lo only" if good else None
            else:
                checks[p.name] = check_bridge(p, p.engine.name)
                good = checks[p.name] is not None
            if good:
                ok.append(p)
                log(f"{p.name}: {checks[p.name]}")
            else:
                problems.append(f"{p.name}: not working as it should (see above); not timed")
        if "berth" not in [p.name for p in ok]:
            raise RuntimeError("berth does not put containers on its bridge; nothing to compare")
        inet = lambda x: ",".join(f"{a['local']}/{a['prefixlen']}"
                                  for a in x.get("addr_info", []) if a.get("family") == "inet")
        results["bridges"] = sorted(
            f"{x['ifname']} {inet(x)}" for x in netns_links()
            if x.get("link_type") == "ether" and not x.get("master")
            and x.get("ifname", "").startswith(("berth", "docker", "podman", "cni")))
        log(f"timing run --rm busybox true x{RUNS} ({len(ok)} peers, alternating)")
        results["load"] = [os.getloadavg()[0]]
        bench(ok, results)
        results["load"].append(os.getloadavg()[0])
        left = [x["ifname"] for x in netns_links() if x.get("master")]
        results["ports_left"] = left
        if left:
            problems.append(f"bridge ports left in {NETNS} after the run: {', '.join(left)}")
    except KeyboardInterrupt:
        problems.append("interrupted")
        log("interrupted: cleaning up")
    except Exception as ex:  # report, then clean up
        problems.append(f"aborted: {ex}")
        log(f"aborted: {ex!r}")
    finally:
        problems += eb.cleanup(started, peers)
    report(results, problems, checks)
    return 1 if problems or "run" not in results else 0


# ---- the report ------------------------------------------------------------------------

def report(r, problems, checks):
    P = lambda *a: print(*a, flush=True)
    P("\n== run --rm busybox true on the default bridge: berth vs docker (docker.io) vs podman ==")
    P(f"all in netns {NETNS}; docker CLI: {eb.DOCKER_CLI}; berth: {eb.BIN}; podman runtime: "
      f"{os.environ.get('PODMAN_RUNTIME') or 'default (crun)'}")
    for n, c in checks.items():
        P(f"  {n:<18} {c or 'NOT WORKING'}")
    if r.get("bridges"):
        P("  bridges in the namespace: " + "; ".join(r["bridges"]))
    rr = r.get("run")
    md = []
    goal = None
    if rr:
        T = rr["times"]
        P(f"\nrun --rm busybox true ({rr['rounds']} rounds, alternating, order shuffled; "
          f"load average {' -> '.join(f'{x:.2f}' for x in r.get('load', []))} on "
          f"{os.cpu_count()} CPUs)")
        P(f"{'peer':<20} {'ok':>4} {'fail':>4} {'median ms':>10} {'p90 ms':>8} {'min ms':>8}")
        for n, xs in T.items():
            P(f"{n:<20} {len(xs):>4} {rr['fails'][n]:>4} {fmt(med(xs)):>10} "
              f"{fmt(pct(xs, .9)):>8} {fmt(min(xs) if xs else float('nan')):>8}")
        for n, e in rr["errs"].items():
            P(f"  {n} failed: {e}")
        # The peers share a kernel (and a netns): what ran just before shows in the figures.
        A = rr["after"]
        P("\nby the peer timed just before (median ms, n):")
        for n in ("berth", "berth none"):
            if n in T:
                P(f"  {n:<11} " + "; ".join(f"after {q} {fmt(med(A[(n, q)]))} ({len(A[(n, q)])})"
                                            for q in T if (n, q) in A))
        m = {n: med(xs) for n, xs in T.items()}
        nan = float("nan")
        g = lambda n: m.get(n, nan)
        P(f"\nbridge: docker / berth {fmt(g('docker') / g('berth'), 'x')}, podman / berth "
          f"{fmt(g('podman') / g('berth'), 'x')}; same docker CLI: docker / docker-cli>berthd "
          f"{fmt(g('docker') / g('docker-cli>berthd'), 'x')}")
        P(f"none:   docker / berth {fmt(g('docker none') / g('berth none'), 'x')}, podman / berth "
          f"{fmt(g('podman none') / g('berth none'), 'x')}")
        P("cost of the bridge (median bridge - median none): " + ", ".join(
            f"{e} {fmt(g(e) - g(e + ' none'), ' ms')}" for e in ("berth", "docker", "podman")
            if e in m))

        def c(n):
            xs = T.get(n, [])
            return f"{med(xs):.1f} ms (p90 {pct(xs, .9):.1f})" if xs else "n/a"
        k = rr["rounds"]
        md.append(f"| `run --rm` busybox `true`, default bridge, median of {k} | {c('berth')} | "
                  f"{c('docker-cli>berthd')} | {c('docker')} | {c('podman')} | "
                  f"{fmt(g('docker') / g('berth'), 'x')} | {fmt(g('podman') / g('berth'), 'x')} |")
        md.append(f"| the same with `--network none` | {c('berth none')} | | {c('docker none')} "
                  f"| {c('podman none')} | {fmt(g('docker none') / g('berth none'), 'x')} | "
                  f"{fmt(g('podman none') / g('berth none'), 'x')} |")
        d = lambda e: fmt(g(e) - g(e + " none"), " ms")
        md.append(f"| cost of the bridge (median bridge − none) | {d('berth')} | | {d('docker')} "
                  f"| {d('podman')} | | |")
        goal = g("berth") if T.get("berth") else None
    P("\nMarkdown (README):\n")
    P("| benchmark | berth | docker CLI → berthd | docker (dockerd 20.10) | podman 4.3 | "
      "docker/berth | podman/berth |")
    P("|---|---|---|---|---|---|---|")
    for line in md:
        P(line)
    if goal is not None:
        P(f"\nGoal: berth under 25 ms median on the bridge: "
          f"{'HOLDS' if goal < 25 else 'MISSED'} ({goal:.1f} ms)")
    if problems:
        P("\nProblems:")
        for p in problems:
            P("  - " + p)


if __name__ == "__main__":
    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    sys.exit(main())
