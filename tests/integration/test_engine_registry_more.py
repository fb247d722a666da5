"""Registries through berthd, the rest of issue 4: registry-mirrors for docker.io, TLS
verification with certs.d on a registry that is not on loopback, `push --all-tags`, and images
from foreign tars keeping their ids through push and pull.

Network safety: a test in which berthd could try Docker Hub (a pull of a docker.io image, for
which the origin comes after the mirrors) runs berthd, and the registries it talks to, inside a
network namespace the test creates, with lo and at most a veth pair whose both ends stay in it:
no route leads out of it, so nothing can leave the machine. The test's own requests to those
registries are made from a thread that joined the namespace. Tests without docker.io images
use 127.0.0.1 only.

Every namespace, process and folder made here is removed in finally blocks (context managers),
also when a test fails, and checked for; every wait is bounded.
"""

import ctypes
import gzip
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

import engine
import test_engine_registry as ter
import test_registry as tr

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="engine tests need root"),
    pytest.mark.skipif(not shutil.which("docker-registry"), reason="docker-registry is not installed"),
    pytest.mark.skipif(not shutil.which("nsenter") or not shutil.which("ip"), reason="needs ip and nsenter"),
]

ok, berth, image_id, snapshot, assert_unchanged, sha = (ter.ok, ter.berth, ter.image_id, ter.snapshot,
                                                        ter.assert_unchanged, ter.sha)
ACCEPT = ter.ACCEPT
HUB = 'Get "https://registry-1.docker.io/v2/": '

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    """The clients run in the host's namespace: nothing may make them go out by themselves
    (content trust asks a notary server), nor send berthd's requests through a proxy."""
    for k in ("DOCKER_CONTENT_TRUST", "DOCKER_CONTENT_TRUST_SERVER", "http_proxy", "https_proxy",
              "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)


# ---- a network namespace of the test ----------------------------------------------------

class Netns:
    """A namespace with lo up and, given addr (one or a list), a veth pair d0/d0p (both ends
    inside) with addr on d0: addresses that are not loopback, from which no route leads
    anywhere."""

    def __init__(self, addr=None):
        self.name = f"berth-reg-{os.getpid()}-{os.urandom(3).hex()}"
        self.path = f"/run/netns/{self.name}"
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True, timeout=30)
        try:
            self.ip("link", "set", "lo", "up")
            if addr:
                self.ip("link", "add", "d0", "type", "veth", "peer", "name", "d0p")
                for a in [addr] if isinstance(addr, str) else addr:
                    self.ip("addr", "add", f"{a}/24", "dev", "d0")
                self.ip("link", "set", "d0", "up")
                self.ip("link", "set", "d0p", "up")
            routes = subprocess.run(["ip", "-n", self.name, "route", "show", "default"],
                                    capture_output=True, text=True, timeout=30).stdout
            assert routes.strip() == "", routes
        except BaseException:
            self.close()
            raise

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True, timeout=30)

    def popen(self, args, **kw):
        return subprocess.Popen(["nsenter", f"--net={self.path}", *args], **kw)

    def call(self, fn, timeout=60):
        """fn() on a thread inside the namespace (its sockets are the namespace's)."""
        out = {}

        def run():
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        e = ctypes.get_errno()
                        raise OSError(e, os.strerror(e))
                finally:
                    os.close(fd)
                out["v"] = fn()
            except BaseException as e:  # handed to the caller
                out["e"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise TimeoutError(f"{fn} in {self.name} took more than {timeout}s")
        if "e" in out:
            raise out["e"]
        return out.get("v")

    def wait_port(self, host, port, proc, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                self.call(lambda: socket.create_connection((host, port), timeout=0.5).close(), timeout=5)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nothing listens on {host}:{port} in {self.name}")

    def get(self, url, accept=None, context=None):
        req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
        return self.call(lambda: urllib.request.urlopen(req, timeout=20, context=context).read())

    def close(self):
        """Remove the namespace; returns what had to be cleaned up that should not have been."""
        problems = []
        p = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True, timeout=30)
        for pid in p.stdout.split():
            problems.append(f"process {pid} left in {self.name}")
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        subprocess.run(["ip", "-n", self.name, "link", "del", "d0"], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)
        left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30).stdout
        if self.name in left.split():
            problems.append(f"netns {self.name} not deleted")
        return problems


@contextmanager
def netns(addr=None):
    ns = Netns(addr)
    problems = []
    try:
        yield ns
    finally:
        problems = ns.close()
    if problems:
        pytest.fail("left behind: " + "; ".join(problems), pytrace=False)


class NsRegistry:
    """Debian's docker-registry inside ns, on addr:port, with its access log."""

    def __init__(self, ns, tmp, addr="127.0.0.1", port=5000, tls=None, clientca=None, listen=None):
        self.ns, self.tmp = ns, Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.host = f"{addr}:{port}"
        self.data = self.tmp / "data"
        http_cfg = {"addr": f"{listen or addr}:{port}", "secret": "berth-test"}
        if tls:
            http_cfg["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
            if clientca:
                http_cfg["tls"]["clientcas"] = [str(clientca)]
        cfg = {"version": 0.1, "log": {"level": "warn", "accesslog": {"disabled": False}},
               "storage": {"filesystem": {"rootdirectory": str(self.data)}, "delete": {"enabled": True}},
               "http": http_cfg}
        (self.tmp / "config.yml").write_text(json.dumps(cfg))
        self.logpath = self.tmp / "registry.log"
        self.log = open(self.logpath, "w")
        self.proc = ns.popen(["docker-registry", "serve", str(self.tmp / "config.yml")], stdout=self.log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            ns.wait_port(addr, port, self.proc)
        except BaseException:
            self.stop()
            raise

    def requests(self):
        """(method, path) of every request in the access log, in order."""
        return re.findall(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/', self.logpath.read_text())

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


@contextmanager
def ns_registry(ns, tmp, **kw):
    r = NsRegistry(ns, tmp, **kw)
    try:
        yield r
    finally:
        r.stop()


@contextmanager
def ns_berthd(ns, daemon_json, busybox=True):
    """A private berthd inside ns (under nsenter) with --config-file daemon.json; no bridge."""
    tmp = tempfile.mkdtemp(prefix="bdn-", dir="/tmp")
    cfg = Path(tmp) / "daemon.json"
    cfg.write_text(json.dumps(daemon_json))
    d = engine.Berthd(tmp, netns=ns.name, extra_args=["--config-file", str(cfg), "--bridge", "none"])
    problems = []
    try:
        d.start()
        if busybox:
            d.import_busybox()
        yield d
    finally:
        problems = d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    if problems:
        pytest.fail("berthd test left things behind: " + "; ".join(problems), pytrace=False)


def digest_of(p):
    return [ln for ln in p.stdout.splitlines() if ": digest: " in ln][-1].split()[2]


# ---- 1: registry-mirrors ------------------------------------------------------------

def test_mirror_first_then_origin(tmp_path):
    """docker.io images come from the first mirror that can give them (a dead one is skipped,
    one with a corrupt blob is left for the next); when none can, the origin is asked, which
    this namespace cannot reach: Docker's error, nothing committed. Other registries and
    pushes never go to a mirror."""
    mirrors = ["http://127.0.0.1:5999", "http://127.0.0.1:5000/", "http://127.0.0.1:5002"]
    with netns() as ns, ns_registry(ns, tmp_path / "a") as a, \
            ns_registry(ns, tmp_path / "b", port=5002) as b, \
            ns_berthd(ns, {"registry-mirrors": mirrors}) as d:
        bb = image_id(d, "busybox")
        # both mirrors hold library/busybox, as a mirror of Docker Hub names it
        for m in (a, b):
            mref = f"{m.host}/library/busybox:latest"
            ok(berth(d, "tag", "busybox", mref))
            digest = digest_of(ok(berth(d, "push", mref)))
        man = json.loads(ns.get(f"http://{a.host}/v2/library/busybox/manifests/{digest}", ACCEPT))
        layer, config = man["layers"][0]["digest"], man["config"]["digest"]
        ok(berth(d, "rmi", "-f", bb))
        assert image_id(d, bb) is None
        na, nb = len(a.requests()), len(b.requests())

        # docker pull busybox: from the first mirror that answers
        p = ok(d.docker("pull", "busybox", timeout=120))
        lines = p.stdout.splitlines()
        assert lines[0] == "Using default tag: latest", p.stdout
        assert lines[1] == "latest: Pulling from library/busybox", p.stdout
        assert f"Digest: {digest}" in lines
        assert "Status: Downloaded newer image for busybox:latest" in lines
        assert lines[-1] == "docker.io/library/busybox:latest"
        assert image_id(d, "busybox") == bb
        st, _, body = d.api("GET", "/v1.50/images/busybox/json")
        assert f"busybox@{digest}" in json.loads(body)["RepoDigests"]
        got = a.requests()[na:]
        for want in ("/v2/library/busybox/manifests/latest", f"/v2/library/busybox/blobs/{layer}",
                     f"/v2/library/busybox/blobs/{config}"):
            assert ("GET", want) in got, got
        assert b.requests()[nb:] == []
        log = d.log.read_text()
        assert "registry mirror http://127.0.0.1:5999" in log and "ignored" in log, log[-3000:]

        # berth: up to date; by digest, through the mirror again
        na = len(a.requests())
        p = ok(berth(d, "pull", "busybox", timeout=120))
        assert "Status: Image is up to date for busybox:latest" in p.stdout, p.stdout
        p = ok(berth(d, "pull", f"docker.io/library/busybox@{digest}", timeout=120))
        assert p.stdout.splitlines()[-1] == f"docker.io/library/busybox@{digest}", p.stdout
        assert ("GET", f"/v2/library/busybox/manifests/{digest}") in a.requests()[na:]

        # the first mirror serves a corrupt layer: the next one gives the image
        blob = a.data / "docker/registry/v2/blobs/sha256" / layer[7:9] / layer[7:] / "data"
        blob.write_bytes(tr.corrupt(blob.read_bytes()))
        ok(berth(d, "rmi", "-f", bb))
        before = snapshot(d)
        na, nb = len(a.requests()), len(b.requests())
        p = ok(d.docker("pull", "busybox", timeout=120))
        assert "Status: Downloaded newer image for busybox:latest" in p.stdout, p.stdout
        assert image_id(d, "busybox") == bb
        assert ("GET", f"/v2/library/busybox/blobs/{layer}") in a.requests()[na:]
        assert ("GET", f"/v2/library/busybox/blobs/{layer}") in b.requests()[nb:]
        assert f"registry mirror http://127.0.0.1:5000/: filesystem layer verification failed for digest {layer}" \
            in d.log.read_text()

        # no mirror has the tag: the origin is next, and it cannot be reached from here
        before = snapshot(d)
        na, nb = len(a.requests()), len(b.requests())
        t0 = time.monotonic()
        p = d.docker("pull", "busybox:nosuch", timeout=180)
        assert p.returncode == 1, p.stdout
        assert f"Error response from daemon: {HUB}" in p.stderr, p.stderr
        assert time.monotonic() - t0 < 120
        for m, n in ((a, na), (b, nb)):
            assert ("GET", "/v2/library/busybox/manifests/nosuch") in m.requests()[n:]
        assert_unchanged(d, before)
        p = berth(d, "pull", "alpine:3", timeout=180)
        assert p.returncode == 1 and HUB in p.stderr, p.stderr
        assert ("GET", "/v2/library/alpine/manifests/3") in a.requests()[na:]
        assert_unchanged(d, before)
        # docker.io/user/x by digest: through the mirrors too
        p = berth(d, "pull", "someone/tool@sha256:" + "a" * 64, timeout=180)
        assert p.returncode == 1 and HUB in p.stderr, p.stderr
        assert ("GET", "/v2/someone/tool/manifests/sha256:" + "a" * 64) in b.requests()[nb:]

        # another registry: never a mirror
        na, nb = len(a.requests()), len(b.requests())
        p = berth(d, "pull", "127.0.0.1:5001/library/busybox:latest", timeout=120)
        assert p.returncode == 1, p.stdout
        assert 'Get "http://127.0.0.1:5001/v2/": dial tcp 127.0.0.1:5001: connect: connection refused' in p.stderr, \
            p.stderr
        assert a.requests()[na:] == [] and b.requests()[nb:] == []
        assert_unchanged(d, before)

        # nor a push
        ok(berth(d, "tag", "busybox", "someone/pushed:1"))
        p = d.docker("push", "someone/pushed:1", timeout=180)
        assert p.returncode == 1 and HUB in p.stdout + p.stderr, (p.stdout, p.stderr)
        assert a.requests()[na:] == [] and b.requests()[nb:] == []


# ---- 2: TLS verification with certs.d, on an address that is not loopback --------------

def make_pki(d, ip):
    """A CA, a server certificate for ip, a client certificate; returns paths."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    tr.openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
               "-subj", "/CN=berth test CA", cwd=d)
    tr.openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", f"/CN={ip}", cwd=d)
    (d / "ext").write_text(f"subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\n")
    tr.openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
               "-CAcreateserial", "-out", "srv.crt", "-days", "2", "-extfile", "ext", cwd=d)
    ccert, ckey = ter.make_client_cert(d)
    return {"ca": d / "ca.crt", "crt": d / "srv.crt", "key": d / "srv.key", "ccert": ccert, "ckey": ckey}


def certs_dir(root, host, *files):
    (root / host).mkdir(parents=True)
    for src, name in files:
        shutil.copy(src, root / host / name)
    return root


def test_certs_d_verification(tmp_path):
    """127.0.0.0/8 is insecure by default; on 10.99.0.1 berthd verifies: the CA from certs.d
    and a client certificate make the pull work, a missing CA is Docker's x509 error and
    commits nothing, a missing client certificate is refused by the registry, and
    insecure-registries with the CIDR skips the verification."""
    ip = "10.99.0.1"
    pki = make_pki(tmp_path / "pki", ip)
    host = f"{ip}:5000"
    ref = f"{host}/busybox:latest"
    good = certs_dir(tmp_path / "good", host, (pki["ca"], "ca.crt"), (pki["ccert"], "client.cert"),
                     (pki["ckey"], "client.key"))
    noca = certs_dir(tmp_path / "noca", host, (pki["ccert"], "client.cert"), (pki["ckey"], "client.key"))
    nocert = certs_dir(tmp_path / "nocert", host, (pki["ca"], "ca.crt"))
    # 10.99.0.2 is another name for the same registry: its certificate is not for that one
    other = "10.99.0.2:5000"
    certs_dir(good, other, (pki["ca"], "ca.crt"), (pki["ccert"], "client.cert"), (pki["ckey"], "client.key"))
    with netns(addr=[ip, "10.99.0.2"]) as ns, \
            ns_registry(ns, tmp_path / "reg", addr=ip, listen="0.0.0.0", tls=(pki["crt"], pki["key"]),
                        clientca=pki["ca"]) as reg:
        with ns_berthd(ns, {"certs-dir": str(good)}) as d:
            bb = image_id(d, "busybox")
            ok(d.docker("tag", "busybox", ref))
            p = ok(d.docker("push", ref, timeout=120))
            assert f"The push refers to repository [{host}/busybox]" in p.stdout
            digest = digest_of(p)
            ok(d.docker("rmi", ref, "busybox"))
            assert image_id(d, bb) is None
            p = ok(d.docker("pull", ref, timeout=120))
            assert f"Digest: {digest}" in p.stdout and f"Status: Downloaded newer image for {ref}" in p.stdout
            assert image_id(d, ref) == bb
            p = ok(berth(d, "pull", ref, timeout=120))
            assert f"Status: Image is up to date for {ref}" in p.stdout
            assert ("GET", "/v2/busybox/manifests/latest") in reg.requests()
            # the CA signed it, but for another address
            before = snapshot(d)
            n = len(reg.requests())
            p = d.docker("pull", f"{other}/busybox:latest", timeout=120)
            assert p.returncode == 1, p.stdout
            assert (f'Error response from daemon: Get "https://{other}/v2/": tls: failed to verify '
                    "certificate: x509: certificate is not valid for 10.99.0.2") in p.stderr, p.stderr
            assert reg.requests()[n:] == []
            assert_unchanged(d, before)

        want = f'Get "https://{host}/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority'
        with ns_berthd(ns, {"certs-dir": str(noca)}) as d:
            ok(d.docker("tag", "busybox", ref))
            before = snapshot(d)
            n = len(reg.requests())
            p = d.docker("pull", ref, timeout=120)
            assert p.returncode == 1 and f"Error response from daemon: {want}" in p.stderr, p.stderr
            p = berth(d, "pull", ref, timeout=120)
            assert p.returncode == 1 and want in p.stderr, p.stderr
            # no plain-HTTP fallback, no request past the handshake
            assert reg.requests()[n:] == []
            assert_unchanged(d, before)
            p = d.docker("push", ref, timeout=120)
            assert p.returncode == 1 and want in p.stdout + p.stderr, (p.stdout, p.stderr)
            p = d.docker("login", "-u", "x", "-p", "y", host, timeout=120)
            assert p.returncode == 1 and "x509: certificate signed by unknown authority" in p.stderr, p.stderr

        with ns_berthd(ns, {"certs-dir": str(nocert)}, busybox=False) as d:
            # the registry refuses the handshake with an alert (curl does not always get to
            # read it before the connection is gone: its words vary)
            before = snapshot(d)
            n = len(reg.requests())
            p = d.docker("pull", ref, timeout=120)
            assert p.returncode == 1 and f'Error response from daemon: Get "https://{host}/v2/": ' in p.stderr, p.stderr
            assert "x509" not in p.stderr, p.stderr
            if " alert " in p.stderr or "remote error" in p.stderr:
                assert "remote error: tls: bad certificate" in p.stderr, p.stderr
            assert reg.requests()[n:] == []
            assert_unchanged(d, before)

        with ns_berthd(ns, {"certs-dir": str(noca), "insecure-registries": ["10.99.0.0/24"]},
                       busybox=False) as d:
            p = ok(d.docker("pull", ref, timeout=120))
            assert f"Digest: {digest}" in p.stdout
            assert image_id(d, ref) == bb
            st, _, body = d.api("GET", "/v1.50/info")
            assert st == 200


# ---- 3: push --all-tags -------------------------------------------------------------

def tags_of(host, repo):
    body, _, _ = ter.reg_get(host, f"/v2/{repo}/tags/list")
    return sorted(json.loads(body)["tags"] or [])


def catalog(host):
    body, _, _ = ter.reg_get(host, "/v2/_catalog")
    return sorted(json.loads(body)["repositories"])


def test_push_all_tags(tmp_path):
    with tr.registry(tmp_path / "reg") as reg, ter.berthd_with() as d:
        host = reg.host
        repo = f"{host}/team/app"
        one = ter.import_tar(d, ter.make_rootfs_tar({"v": b"one\n"}), repo, "1.0")
        two = ter.import_tar(d, ter.make_rootfs_tar({"v": b"two\n"}), repo, "2.0")
        ok(berth(d, "tag", f"{repo}:2.0", f"{repo}:latest"))
        # names that share a prefix with the repository are other repositories
        for other in (f"{host}/team/app-x:1", f"{host}/team/app/sub:1", f"{host}/team/ap:1"):
            ok(berth(d, "tag", "busybox", other))

        p = ok(d.docker("push", "-a", repo, timeout=120))
        lines = p.stdout.splitlines()
        assert lines.count(f"The push refers to repository [{repo}]") == 1, p.stdout
        assert lines[0] == f"The push refers to repository [{repo}]", p.stdout
        assert "Using default tag" not in p.stdout
        done = [ln.split(":")[0] for ln in lines if ": digest: sha256:" in ln]
        assert done == ["1.0", "2.0", "latest"], p.stdout
        digests = {ln.split()[0][:-1]: ln.split()[2] for ln in lines if ": digest: " in ln}
        assert digests["2.0"] == digests["latest"]
        assert tags_of(host, "team/app") == ["1.0", "2.0", "latest"]
        assert catalog(host) == ["team/app"]
        for tag, want in (("1.0", one), ("2.0", two), ("latest", two)):
            body, _, dg = ter.reg_get(host, f"/v2/team/app/manifests/{tag}", ACCEPT)
            assert sha(body) == digests[tag]
            assert json.loads(body)["config"]["digest"] == want

        # berth --all-tags, to another repository of the registry: the layers are mounted
        for t in ("1.0", "2.0"):
            ok(berth(d, "tag", f"{repo}:{t}", f"{host}/copy/app:{t}"))
        p = ok(berth(d, "push", "--all-tags", f"{host}/copy/app", timeout=120))
        assert "Using default tag" not in p.stdout
        assert [ln.split(":")[0] for ln in p.stdout.splitlines() if ": digest: " in ln] == ["1.0", "2.0"]
        assert "Mounted from team/app" in p.stdout, p.stdout
        assert tags_of(host, "copy/app") == ["1.0", "2.0"]
        for cli in (d.docker, lambda *a, **kw: berth(d, *a, **kw)):
            p = ok(cli("push", "-a", "-q", f"{host}/copy/app", timeout=120))
            assert p.stdout == f"{host}/copy/app\n", p.stdout
            p = ok(cli("push", "-q", f"{host}/copy/app:1.0", timeout=120))
            assert p.stdout == f"{host}/copy/app:1.0\n", p.stdout

        # the API without a tag, as docker-py and older clients send it: every tag too
        st, _, body = d.api("POST", f"/v1.41/images/{host}/copy/app/push",
                            headers={"X-Registry-Auth": "e30="}, timeout=120)
        assert st == 200 and body.count(b'"Tag"') == 2, body

        # errors, as docker words them
        p = d.docker("push", "-a", f"{repo}:1.0")
        assert p.returncode == 1 and "tag can't be used with --all-tags/-a" in p.stderr, p.stderr
        p = berth(d, "push", "--all-tags", f"{repo}:1.0")
        assert p.returncode == 1 and "tag can't be used with --all-tags/-a" in p.stderr, p.stderr
        for cli in (d.docker, lambda *a: berth(d, *a)):
            p = cli("push", "-a", f"{host}/nothing/here")
            assert p.returncode == 1, p.stdout
            assert f"An image does not exist locally with the tag: {host}/nothing/here" in p.stderr, p.stderr

        # every tag pulls back as it was
        ok(berth(d, "rmi", f"{repo}:1.0", f"{repo}:2.0", f"{repo}:latest"))
        for tag, want in (("1.0", one), ("2.0", two), ("latest", two)):
            ok(d.docker("pull", f"{repo}:{tag}", timeout=120))
            assert image_id(d, f"{repo}:{tag}") == want


# ---- 4: an image from a foreign `docker save` keeps its id through push and pull --------

def gnu_layer(tmp, files, mtime=1600000000):
    """A layer tar as GNU tar writes it (owner names, GNU long names, its own order)."""
    root = Path(tmp)
    root.mkdir(parents=True)
    for name, data in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    subprocess.run(["touch", "-h", "-d", f"@{mtime}", *[str(p) for p in root.rglob("*")]], check=True)
    return subprocess.run(["tar", "-C", str(root), "--format=gnu", "--owner=someone:1234",
                           "--group=staff:50", "-cf", "-", "."], check=True, capture_output=True).stdout


def py_layer(files, fmt):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime, ti.uname, ti.uid = len(data), 0o640, 1500000000.5, "x", 7
            t.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo("hard")
        ti.type, ti.linkname = tarfile.LNKTYPE, list(files)[0]
        t.addfile(ti)
    return buf.getvalue()


def test_foreign_image_keeps_its_id(tmp_path):
    long = "deep/" + "d" * 120 + "/" + "f" * 110
    layers = [
        gnu_layer(tmp_path / "l0", {"etc/os-release": b"foreign\n", long: os.urandom(3000),
                                    "bin/tool": os.urandom(70000)}),
        py_layer({"opt/pax/" + "p" * 150: os.urandom(1000), "opt/x": b"x"}, tarfile.PAX_FORMAT),
        py_layer({"srv/a": os.urandom(513), "srv/b": b""}, tarfile.USTAR_FORMAT),
    ]
    with tr.registry(tmp_path / "reg") as reg, ter.berthd_with() as d:
        host = reg.host
        ref = f"{host}/foreign/img:1"
        arch, want_id = ter.docker_archive(layers, ref)
        p = d.berth("load", input=arch, timeout=120)
        assert p.returncode == 0, p.stderr
        assert image_id(d, ref) == want_id

        p = ok(d.docker("push", ref, timeout=120))
        digest = digest_of(p)
        body, ct, _ = ter.reg_get(host, f"/v2/foreign/img/manifests/{digest}", ACCEPT)
        m = json.loads(body)
        # the config as loaded, and layers whose content is the tars as loaded
        assert m["config"]["digest"] == want_id
        for i, desc in enumerate(m["layers"]):
            blob, _, _ = ter.reg_get(host, f"/v2/foreign/img/blobs/{desc['digest']}")
            assert gzip.decompress(blob) == layers[i], f"layer {i} differs"
        st, _, b = d.api("GET", f"/v1.50/images/{ref}/json")
        assert f"{host}/foreign/img@{digest}" in json.loads(b)["RepoDigests"]

        # pulled back: the same id, the same layers
        ok(d.docker("rmi", ref))
        assert image_id(d, want_id) is None
        p = ok(d.docker("pull", ref, timeout=120))
        assert image_id(d, ref) == want_id
        st, _, b = d.api("GET", f"/v1.50/images/{ref}/json")
        assert json.loads(b)["RootFS"]["Layers"] == [sha(t) for t in layers]

        # the pulled image pushed again: the blobs it came in, found or mounted
        p = ok(berth(d, "push", ref, timeout=120))
        assert p.stdout.count("Layer already exists") == 3, p.stdout
        assert digest_of(p) == digest
        other = f"{host}/elsewhere/img:1"
        ok(berth(d, "tag", ref, other))
        p = ok(d.docker("push", other, timeout=120))
        assert p.stdout.count("Mounted from foreign/img") == 3, p.stdout
        assert digest_of(p) == digest

        # docker save keeps it too
        out = tmp_path / "saved.tar"
        ok(d.docker("save", "-o", out, ref))
        with tarfile.open(out) as t:
            mj = json.loads(t.extractfile("manifest.json").read())
            assert mj[0]["Config"] == f"blobs/sha256/{want_id[7:]}"
            for i, lp in enumerate(mj[0]["Layers"]):
                assert t.extractfile(lp).read() == layers[i]
