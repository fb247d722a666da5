#!/usr/bin/python3
"""`pull` of a big multi-layer image from a local registry: berth beside Debian's docker.io
(dockerd + containerd) and podman, alternating, the image removed between runs. Run by
bench/pull-vs-docker.sh, which prepares BASE (a private temp folder) and sweeps it afterwards.
The engines are engine_bench.py's (same private roots and flags).

    pull_bench.py BASE
    env: RUNS=3 LAYERS=6 LAYER_MB=28 (random data, so compressed ~= uncompressed)
         MAX_SECONDS=1800  SKIP_DOCKER=1 SKIP_PODMAN=1  DOCKER_CLI=/usr/bin/docker
"""

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

BASE = Path(sys.argv[1])
sys.argv = [sys.argv[0], str(BASE), "/dev/null"]  # engine_bench reads BASE and a tar path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_bench as eb  # noqa: E402

RUNS = eb.env_int("RUNS", 3)
LAYERS = eb.env_int("LAYERS", 6)
LAYER_MB = eb.env_int("LAYER_MB", 28)
MAX_SECONDS = eb.env_int("MAX_SECONDS", 1800)
T_END = time.monotonic() + MAX_SECONDS
log = eb.log


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def build_archive(path, repo_tag):
    """A docker-archive tar: LAYERS layers of LAYER_MB random bytes each, in a few files."""
    layers = []
    for i in range(LAYERS):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for j in range(4):
                data = os.urandom(LAYER_MB * (1 << 20) // 4)
                ti = tarfile.TarInfo(f"data/l{i}/f{j}")
                ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
                t.addfile(ti, io.BytesIO(data))
        layers.append(buf.getvalue())
    arch = "amd64" if os.uname().machine == "x86_64" else "arm64"
    cfg = json.dumps({"architecture": arch, "os": "linux", "created": "2026-01-01T00:00:00Z",
                      "config": {"Cmd": ["/bin/sh"]},
                      "rootfs": {"type": "layers", "diff_ids": [sha(x) for x in layers]},
                      "history": [{"created": "2026-01-01T00:00:00Z", "created_by": f"layer {i}"}
                                  for i in range(LAYERS)]}).encode()
    with tarfile.open(path, mode="w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add(f"{sha(cfg)[7:]}.json", cfg)
        names = []
        for x in layers:
            n = f"{sha(x)[7:]}/layer.tar"
            add(n, x)
            names.append(n)
        add("manifest.json", json.dumps([{"Config": f"{sha(cfg)[7:]}.json",
                                          "RepoTags": [repo_tag], "Layers": names}]).encode())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    def __init__(self):
        self.dir = BASE / "registry"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        cfg = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
               "storage": {"filesystem": {"rootdirectory": str(self.dir / "data")}},
               "http": {"addr": self.host, "secret": "berth-bench"}}
        (self.dir / "config.yml").write_text(json.dumps(cfg))
        self.logf = open(self.dir / "registry.log", "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(self.dir / "config.yml")],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("docker-registry exited")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not listen")

    def stop(self):
        eb.stop_pid(self.proc.pid, 10, self.proc)
        self.logf.close()

    def compressed_bytes(self, repo):
        import urllib.request
        req = urllib.request.Request(
            f"http://{self.host}/v2/{repo}/manifests/latest",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                               "application/vnd.docker.distribution.manifest.v2+json"})
        m = json.loads(urllib.request.urlopen(req, timeout=10).read())
        return sum(x["size"] for x in m["layers"]), len(m["layers"])


def main():
    berth, docker, podman = eb.Berth(), eb.Docker(), eb.Podman()
    engines = [berth]
    if not os.environ.get("SKIP_DOCKER"):
        engines.append(docker)
    if not os.environ.get("SKIP_PODMAN"):
        engines.append(podman)
    started, problems, times, reg = [], [], {}, None
    size = (0, 0)
    try:
        reg = Registry()
        for e in engines:
            e.start()
            started.append(e)
        ref = f"{reg.host}/bench/big:latest"
        peers = {"berth": eb.Peer("berth", [str(eb.BIN / "berth"), "-H", f"unix://{berth.sock}"],
                                  engine=berth)}
        if docker in started:
            peers["docker-cli>berthd"] = eb.Peer("docker-cli>berthd",
                                                 [eb.DOCKER_CLI, "-H", f"unix://{berth.sock}"],
                                                 env=eb.docker_env("b"), engine=berth)
            peers["docker"] = eb.Peer("docker", [eb.DOCKER_CLI, "-H", f"unix://{docker.sock}"],
                                      env=eb.docker_env("d"), engine=docker)
        if podman in started:
            peers["podman"] = eb.Peer("podman", podman.argv, engine=podman)
        arch = BASE / "big.tar"
        log(f"building a {LAYERS} x {LAYER_MB} MB image (random data)")
        build_archive(arch, ref)
        rc, dt, _, err = peers["berth"].cmd("load", "-i", str(arch), timeout=600)
        if rc != 0:
            raise RuntimeError(f"berth load: {err.strip()[-300:]}")
        arch.unlink()
        log(f"berth load: {dt / 1000:.1f} s; pushing")
        rc, dt, _, err = peers["berth"].cmd("push", ref, timeout=900)
        if rc != 0:
            raise RuntimeError(f"berth push: {err.strip()[-300:]}")
        log(f"berth push: {dt / 1000:.1f} s")
        size = reg.compressed_bytes("bench/big")
        peers["berth"].cmd("rmi", ref, timeout=120)
        order = list(peers.values())
        pull_args = {"podman": ["pull", "--tls-verify=false", "-q", ref]}
        for i in range(RUNS):
            for p in eb.rotate(order, i):
                if time.monotonic() > T_END:
                    raise RuntimeError("MAX_SECONDS reached")
                rc, dt, out, err = p.cmd(*pull_args.get(p.name, ["pull", ref]), timeout=600,
                                         capture=True)
                if rc != 0:
                    problems.append(f"{p.name}: pull failed: {err.strip()[-300:]}")
                elif "Already exists" in out:
                    problems.append(f"{p.name}: a layer was still there (not timed)")
                else:
                    times.setdefault(p.name, []).append(dt / 1000)
                rc, _, _, err = p.cmd("rmi", "-f", ref, timeout=120)
                if rc != 0:
                    problems.append(f"{p.name}: rmi failed: {err.strip()[-200:]}")
                log(f"run {i + 1}/{RUNS} {p.name}: {dt / 1000:.2f} s")
    except KeyboardInterrupt:
        problems.append("interrupted")
    except Exception as ex:
        problems.append(f"aborted: {ex}")
        log(f"aborted: {ex!r}")
    finally:
        for e in started:
            try:
                e.stop()
            except Exception as ex:
                problems.append(f"{e.name}: stop failed: {ex!r}")
        if any(isinstance(e, eb.Podman) for e in started):
            subprocess.run(eb.Podman().argv + ["system", "reset", "-f"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)
        if reg:
            reg.stop()
    P = lambda *a: print(*a, flush=True)
    mb = size[0] / 1e6
    P(f"\n== pull of a {size[1]}-layer image, {mb:.0f} MB compressed, from a registry on "
      f"127.0.0.1 ({RUNS} runs each, alternating, removed between runs) ==")
    P(f"{'peer':<20} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7} {'MB/s':>7}")
    for n, xs in times.items():
        P(f"{n:<20} {len(xs):>4} {eb.med(xs):>9.2f} {min(xs):>7.2f} {max(xs):>7.2f} "
          f"{mb / eb.med(xs):>7.0f}")
    b = eb.med(times.get("berth", []))
    P("\nmarkdown rows for the README:\n")
    P(f"| pull, {size[1]} layers, {mb:.0f} MB compressed, local registry (median of {RUNS}) "
      "| berth | docker CLI > berthd | docker (docker.io) | podman |")
    P("| --- | --- | --- | --- | --- |")
    cells = [eb.fmt(eb.med(times.get(n, [])), " s", 2)
             for n in ("berth", "docker-cli>berthd", "docker", "podman")]
    P("| time | " + " | ".join(cells) + " |")
    ratios = []
    for n in ("berth", "docker-cli>berthd", "docker", "podman"):
        x = eb.med(times.get(n, []))
        ratios.append("n/a" if x != x or b != b else f"{x / b:.2f}x")
        # ratio: that peer's time over berth's
    P("| time / berth's | " + " | ".join(ratios) + " |")
    d = eb.med(times.get("docker", []))
    if d == d and b == b:
        P(f"\ngoal (at least twice as fast as docker): {'met' if d / b >= 2 else 'NOT met'} "
          f"({d / b:.2f}x)")
    for pr in problems:
        P(f"problem: {pr}")
    return 1 if problems or "berth" not in times else 0


if __name__ == "__main__":
    sys.exit(main())
