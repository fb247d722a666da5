"""Registries through berthd (issue 4, acceptance 1-4): the docker CLI 28 and berth against a
private berthd and Debian's docker-registry on 127.0.0.1 (plain HTTP, TLS with a CA and client
certificates from a certs.d folder, htpasswd basic auth, the bearer-token flow), and small
loopback servers playing what a real registry cannot (attacks, throttled blobs).

Every registry, server and berthd started here is stopped in a finally block (context
managers), also when a test fails; every wait is bounded.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import pty
import select
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

import engine
import test_registry as tr

PASSWORD = tr.PASSWORD

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="engine tests need root"),
    pytest.mark.skipif(not shutil.which("docker-registry"), reason="docker-registry is not installed"),
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = ", ".join([OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX,
                    "application/vnd.docker.distribution.manifest.list.v2+json"])


# ---- berthd with a daemon.json ---------------------------------------------------------

@contextmanager
def berthd_with(daemon_json=None, busybox=True):
    """A private berthd (like the berthd fixture) started with --config-file daemon.json."""
    tmp = tempfile.mkdtemp(prefix="bdr-", dir="/tmp")
    cfg = Path(tmp) / "daemon.json"
    cfg.write_text(json.dumps(daemon_json or {}))
    d = engine.Berthd(tmp, extra_args=["--config-file", str(cfg)])
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


@pytest.fixture
def bd():
    with berthd_with() as d:
        yield d


@pytest.fixture
def plain(tmp_path):
    with tr.registry(tmp_path / "reg") as r:
        yield r


def berth(d, *args, **kw):
    """berth with a client config dir of its own (credentials of `berth login`)."""
    return d.berth("--config", d.tmp / "berth-config", *args, **kw)


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def image_id(d, ref):
    st, _, body = d.api("GET", f"/v1.50/images/{ref}/json")
    return json.loads(body)["Id"] if st == 200 else None


def snapshot(d):
    """What must not change when a pull fails: the images and the committed layers."""
    st, _, body = d.api("GET", "/v1.50/images/json?all=1")
    assert st == 200
    imgs = sorted((i["Id"], tuple(sorted(i.get("RepoTags") or [])),
                   tuple(sorted(i.get("RepoDigests") or []))) for i in json.loads(body))
    layers_dir = d.data / "layers"
    layers = sorted(p.name for p in layers_dir.iterdir()) if layers_dir.exists() else []
    return imgs, layers


def assert_unchanged(d, before, kept=()):
    """The images are as before, no layer is half-written, and the only new layers are those
    in kept: chain ids of layers the pull verified (it commits each one at once, for the next
    pull to reuse). Nothing unverified is ever committed."""
    imgs, layers = snapshot(d)
    assert imgs == before[0]
    assert not [n for n in layers if n.startswith("tmp")], layers
    new = {c[7:] for c in kept} - set(before[1])
    assert set(layers) - set(before[1]) == new, (layers, before[1])
    assert set(before[1]) <= set(layers), (layers, before[1])


def layers_size(d):
    st, _, body = d.api("GET", "/v1.50/system/df")
    assert st == 200, body
    return json.loads(body)["LayersSize"]


def blob_gets(server, digest):
    return sum(1 for meth, path, _ in server.requests if meth == "GET" and path.endswith(digest))


def make_rootfs_tar(files):
    """An uncompressed tar of {path: bytes}."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def import_tar(d, tar_bytes, repo, tag="latest"):
    st, _, body = d.api("POST", f"/v1.50/images/create?fromSrc=-&repo={repo}&tag={tag}",
                        body=tar_bytes, headers={"Content-Type": "application/x-tar"}, timeout=120)
    assert st == 200, body
    return json.loads(body.decode().strip().splitlines()[-1])["status"]


def reg_get(host, path, accept=None, scheme="http"):
    req = urllib.request.Request(f"{scheme}://{host}{path}", headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.read(), r.headers.get("Content-Type"), r.headers.get("Docker-Content-Digest")


def push_victim(d, reg, name="victim", content=b"victim\n"):
    """A small image of its own layer (not busybox's), pushed to reg by berth and removed
    locally; returns (image id, manifest digest, ref)."""
    ref = f"{reg.host}/{name}:latest"
    iid = import_tar(d, make_rootfs_tar({"etc/victim": content, "etc/nonce": os.urandom(16).hex().encode()}),
                     f"{reg.host}/{name}")
    p = ok(berth(d, "push", ref))
    digest = [ln for ln in p.stdout.splitlines() if ": digest: " in ln][-1].split()[2]
    ok(berth(d, "rmi", ref))
    return iid, digest, ref


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


# ---- 1, 4: plain HTTP, docker CLI and berth --------------------------------------------

def test_push_pull_run_search_plain(bd, plain):
    d, host = bd, plain.host
    ref = f"{host}/busybox:latest"
    bb = image_id(d, "busybox")
    ok(d.docker("tag", "busybox", ref))

    # docker push: the daemon's progress as docker prints it
    p = ok(d.docker("push", ref))
    assert f"The push refers to repository [{host}/busybox]" in p.stdout, p.stdout
    assert "Pushed" in p.stdout
    last = [ln for ln in p.stdout.splitlines() if ": digest: " in ln][-1]
    assert last.startswith("latest: digest: sha256:") and " size: " in last, last
    digest = last.split()[2]

    # berth push: the blobs are there already
    p = ok(berth(d, "push", ref))
    assert f"The push refers to repository [{host}/busybox]" in p.stdout
    assert "Layer already exists" in p.stdout and f"latest: digest: {digest}" in p.stdout, p.stdout
    p = ok(berth(d, "push", f"{host}/busybox"))
    assert p.stdout.startswith("Using default tag: latest\n")

    # docker pull of an image whose layer is not here: docker's plain progress lines
    vref = f"{host}/team/victim:v1"
    vid = import_tar(d, make_rootfs_tar({"etc/victim": os.urandom(300000)}), f"{host}/team/victim", "v1")
    p = ok(d.docker("push", vref))
    vdigest = [ln for ln in p.stdout.splitlines() if ": digest: " in ln][-1].split()[2]
    ok(d.docker("rmi", vref))
    p = ok(d.docker("pull", vref))
    lines = p.stdout.splitlines()
    assert lines[0] == "v1: Pulling from team/victim", p.stdout
    for want in (": Pulling fs layer", ": Download complete", ": Pull complete"):
        assert any(ln.endswith(want) for ln in lines), (want, p.stdout)
    assert f"Digest: {vdigest}" in lines
    assert f"Status: Downloaded newer image for {vref}" in lines
    assert lines[-1] == vref
    assert image_id(d, vref) == vid
    p = ok(d.docker("pull", vref))
    assert f"Status: Image is up to date for {vref}" in p.stdout
    ok(d.docker("rmi", ref))
    p = ok(d.docker("pull", ref))
    assert ": Already exists" in p.stdout and f"Status: Downloaded newer image for {ref}" in p.stdout

    # by digest, with berth; images --digests shows it
    ok(d.docker("rmi", ref))
    p = ok(berth(d, "pull", f"{host}/busybox@{digest}"))
    assert p.stdout.splitlines()[-1] == f"{host}/busybox@{digest}", p.stdout
    assert image_id(d, f"{host}/busybox@{digest}") == bb
    p = ok(berth(d, "images", "--digests", f"{host}/busybox"))
    assert p.stdout.splitlines()[0].split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    assert digest in p.stdout, p.stdout
    st, _, body = d.api("GET", f"/v1.50/images/{host}/busybox@{digest}/json")
    assert f"{host}/busybox@{digest}" in json.loads(body)["RepoDigests"]

    # run / create of an image not pulled yet: pulled first, as docker does
    ok(d.docker("rmi", "-f", f"{host}/busybox@{digest}"))
    assert image_id(d, ref) is None
    p = ok(berth(d, "run", "--rm", ref, "echo", "hi"))
    assert p.stdout == "hi\n"
    assert f"Unable to find image '{ref}' locally" in p.stderr
    assert f"Status: Downloaded newer image for {ref}" in p.stderr
    ok(d.docker("rmi", ref))
    p = ok(d.docker("run", "--rm", ref, "echo", "hi"))
    assert p.stdout == "hi\n"
    assert f"Unable to find image '{ref}' locally" in p.stderr, p.stderr
    ok(d.docker("rmi", ref))
    p = ok(berth(d, "create", "--name", "c1", ref, "true"))
    assert f"Unable to find image '{ref}' locally" in p.stderr
    ok(berth(d, "rm", "c1"))
    p = d.docker("run", "--rm", "--pull", "never", f"{host}/nosuch:latest", "true")
    assert p.returncode == 125

    # search: the registry's catalog filtered by the term, docker's table
    ok(d.docker("tag", "busybox", f"{host}/team/busytools:1"))
    ok(berth(d, "push", f"{host}/team/busytools:1"))
    for cli in (lambda *a: d.docker(*a), lambda *a: berth(d, *a)):
        p = ok(cli("search", f"{host}/busy"))
        lines = p.stdout.splitlines()
        assert lines[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"], p.stdout
        names = sorted(ln.split()[0] for ln in lines[1:])
        assert names == [f"{host}/busybox", f"{host}/team/busytools"], p.stdout
        p = ok(cli("search", f"{host}/victim"))
        assert [ln.split()[0] for ln in p.stdout.splitlines()[1:]] == [f"{host}/team/victim"]
        p = ok(cli("search", "--limit", "1", f"{host}/busy"))
        assert len(p.stdout.splitlines()) == 2
        p = ok(cli("search", "--filter", "stars=1", f"{host}/busy"))
        assert len(p.stdout.splitlines()) == 1, p.stdout
        p = ok(cli("search", "--filter", "is-official=true", f"{host}/busy"))
        assert len(p.stdout.splitlines()) == 1, p.stdout
        p = ok(cli("search", "--no-trunc", "--format", "{{.Name}}", f"{host}/tools"))
        assert p.stdout.split() == [f"{host}/team/busytools"]


def test_berth_progress_on_a_terminal(bd, plain):
    """On a terminal berth draws docker's bars: one line a layer, the cursor moved to it."""
    d = bd
    iid, digest, ref = push_victim(d, plain)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([str(engine.BUILD / "berth"), "-H", d.host, "pull", ref],
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                                env=d.env())
        os.close(slave)
        slave = -1
        out = b""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 1)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    text = out.decode(errors="replace")
    assert "\x1b[2K" in text and "\x1b[1A" in text and "\x1b[1B" in text, repr(text)
    assert "Pull complete" in text and f"Status: Downloaded newer image for {ref}" in text
    assert image_id(d, ref) == iid


def test_multi_platform_index(bd, plain):
    d, host = bd, plain.host
    amd_id, amd_digest, _ = push_victim(d, plain, "multi", b"amd64\n")
    arm_id = import_tar(d, make_rootfs_tar({"etc/arch": b"arm64\n"}), f"{host}/multi", "arm")
    p = ok(berth(d, "push", f"{host}/multi:arm"))
    arm_digest = [ln for ln in p.stdout.splitlines() if ": digest: " in ln][-1].split()[2]
    ok(berth(d, "rmi", f"{host}/multi:arm"))

    def desc(digest, plat):
        body, ct, _ = reg_get(host, f"/v2/multi/manifests/{digest}", ACCEPT)
        return {"mediaType": ct, "digest": digest, "size": len(body), "platform": plat}

    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        desc(arm_digest, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
        desc(amd_digest, {"os": "linux", "architecture": "amd64"})]}
    body = json.dumps(index).encode()
    req = urllib.request.Request(f"http://{host}/v2/multi/manifests/all", data=body, method="PUT",
                                 headers={"Content-Type": OCI_INDEX})
    assert urllib.request.urlopen(req, timeout=10).status == 201
    index_digest = sha(body)
    ref = f"{host}/multi:all"
    if os.uname().machine == "x86_64":
        p = ok(d.docker("pull", ref))
        assert f"Digest: {index_digest}" in p.stdout
        assert image_id(d, ref) == amd_id
        st, _, b = d.api("GET", f"/v1.50/images/{ref}/json")
        assert f"{host}/multi@{index_digest}" in json.loads(b)["RepoDigests"]
        ok(d.docker("rmi", ref))
    ok(berth(d, "pull", "--platform", "linux/arm64", ref))
    assert image_id(d, ref) == arm_id
    ok(d.docker("rmi", ref))
    before = snapshot(d)
    p = berth(d, "pull", "--platform", "linux/s390x", ref)
    assert p.returncode == 1 and "no matching manifest for linux/s390x" in p.stderr, p.stderr
    p = d.docker("pull", "--platform", "linux/s390x", ref)
    assert p.returncode == 1 and "no matching manifest" in p.stderr
    assert_unchanged(d, before)


# ---- 1, 4: TLS with a CA and client certificates from certs.d; htpasswd; login ---------

def make_client_cert(pki):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    tr.openssl("req", *ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=berth client",
               cwd=pki)
    (pki / "cext").write_text("extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    tr.openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
               "-CAcreateserial", "-out", "client.cert", "-days", "2", "-extfile", "cext", cwd=pki)
    return pki / "client.cert", pki / "client.key"


def tls_registry(tmp, crt, key, ca, htpasswd):
    # tr.Registry writes its config and starts; add clientcas by rewriting the config first
    r = tr.Registry.__new__(tr.Registry)
    tmp = Path(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    r.tmp, r.port = tmp, tr.free_port()
    r.host, r.data = f"127.0.0.1:{r.port}", tmp / "data"
    cfg = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
           "storage": {"filesystem": {"rootdirectory": str(r.data)}, "delete": {"enabled": True}},
           "http": {"addr": r.host, "secret": "berth-test",
                    "tls": {"certificate": str(crt), "key": str(key), "clientcas": [str(ca)]}},
           "auth": {"htpasswd": {"realm": "berth-test", "path": str(htpasswd)}}}
    (tmp / "config.yml").write_text(json.dumps(cfg))
    r.log = open(tmp / "registry.log", "w")
    r.proc = subprocess.Popen(["docker-registry", "serve", str(tmp / "config.yml")], stdout=r.log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        tr.wait_port(r.port, r.proc)
    except Exception:
        r.stop()
        raise
    return r


def test_tls_client_certs_and_htpasswd_login(tmp_path):
    pki = tmp_path / "pki"
    ca, crt, key = tr.make_ca(pki)
    ccert, ckey = make_client_cert(pki)
    hp = subprocess.run(["htpasswd", "-Bbn", "user", PASSWORD], check=True, capture_output=True,
                        text=True).stdout
    (tmp_path / "htpasswd").write_text(hp)
    reg = tls_registry(tmp_path / "reg", crt, key, ca, tmp_path / "htpasswd")
    try:
        certs = tmp_path / "certs.d"
        (certs / reg.host).mkdir(parents=True)
        shutil.copy(ca, certs / reg.host / "ca.crt")
        shutil.copy(ccert, certs / reg.host / "client.cert")
        shutil.copy(ckey, certs / reg.host / "client.key")
        host, ref = reg.host, f"{reg.host}/busybox:latest"

        # without the certs.d folder: no client certificate, the TLS handshake fails
        with berthd_with({"certs-dir": str(tmp_path / "empty-certs.d")}, busybox=False) as d:
            p = berth(d, "login", "-u", "user", "-p", PASSWORD, host)
            assert p.returncode == 1, p.stdout
            assert PASSWORD not in p.stdout + p.stderr

        with berthd_with({"certs-dir": str(certs)}) as d:
            bb = image_id(d, "busybox")
            # berth login: wrong, then right; stored as docker stores it
            p = d.berth("--config", d.tmp / "berth-config", "login", "-u", "user",
                        "--password-stdin", host, input="wrong-password\n")
            assert p.returncode == 1 and "unauthorized" in p.stderr.lower(), p.stderr
            assert "wrong-password" not in p.stdout + p.stderr
            assert not (d.tmp / "berth-config/config.json").exists()
            p = d.berth("--config", d.tmp / "berth-config", "login", "-u", "user",
                        "--password-stdin", host, input=PASSWORD + "\n")
            assert p.returncode == 0 and "Login Succeeded" in p.stdout, p.stderr
            conf = json.loads((d.tmp / "berth-config/config.json").read_text())
            assert conf["auths"][host]["auth"] == base64.b64encode(f"user:{PASSWORD}".encode()).decode()

            # push and pull with the stored credentials (X-Registry-Auth)
            ok(d.docker("tag", "busybox", ref))
            p = ok(berth(d, "push", ref))
            digest = [ln for ln in p.stdout.splitlines() if ": digest: " in ln][-1].split()[2]
            ok(berth(d, "rmi", ref))
            ok(berth(d, "pull", ref))
            assert image_id(d, ref) == bb
            ok(berth(d, "rmi", ref))
            ok(berth(d, "pull", f"{host}/busybox@{digest}"))
            ok(berth(d, "rmi", f"{host}/busybox@{digest}"))

            # docker CLI: not logged in -> refused; login, pull, run
            p = d.docker("pull", ref)
            assert p.returncode == 1 and ("no basic auth credentials" in p.stderr or "unauthorized" in p.stderr), p.stderr
            p = d.docker("login", "-u", "user", "--password-stdin", host, input=PASSWORD + "\n")
            assert p.returncode == 0 and "Login Succeeded" in p.stdout, p.stderr
            p = ok(d.docker("run", "--rm", ref, "echo", "ok"))
            assert p.stdout == "ok\n" and f"Unable to find image '{ref}' locally" in p.stderr
            p = ok(d.docker("search", f"{host}/busy"))
            assert f"{host}/busybox" in p.stdout
            p = ok(berth(d, "search", f"{host}/busy"))
            assert f"{host}/busybox" in p.stdout

            # logout: the stored credentials go, pulls are refused again
            p = ok(berth(d, "logout", host))
            assert p.stdout.strip() == f"Removing login credentials for {host}"
            assert host not in json.loads((d.tmp / "berth-config/config.json").read_text())["auths"]
            ok(berth(d, "rmi", ref))
            before = snapshot(d)
            p = berth(d, "pull", ref)
            assert p.returncode == 1 and "unauthorized" in p.stderr.lower(), p.stderr
            assert_unchanged(d, before)
            assert ok(berth(d, "logout", host)).stdout.strip() == f"Not logged in to {host}"
            assert PASSWORD not in d.log.read_text()
        assert PASSWORD not in (reg.tmp / "registry.log").read_text()
    finally:
        reg.stop()


# ---- 1: the bearer-token flow --------------------------------------------------------

def test_bearer_token_flow(tmp_path):
    ts = tr.TokenService(tmp_path / "tok")
    with tr.server(ts) as tsrv:
        token_cfg = {"realm": f"{tsrv.url}/token", "service": "berth-test-registry",
                     "issuer": "berth-test-issuer", "rootcertbundle": str(ts.d / "tok.crt")}
        with tr.registry(tmp_path / "reg", token=token_cfg) as reg, berthd_with() as d:
            host, ref = reg.host, f"{reg.host}/team/busybox:v1"
            bb = image_id(d, "busybox")
            ok(d.docker("tag", "busybox", ref))
            p = berth(d, "push", ref)
            assert p.returncode == 1 and ("unauthorized" in p.stderr.lower() or "denied" in p.stderr), p.stderr
            ok(berth(d, "login", "-u", "user", "-p", PASSWORD, host))
            p = ok(berth(d, "push", ref))
            assert "v1: digest: sha256:" in p.stdout
            assert ts.seen and all(a == ts.auth for a in ts.seen if a)
            ok(berth(d, "rmi", ref))
            ok(berth(d, "pull", ref))
            assert image_id(d, ref) == bb
            # the docker CLI, logged in by its own config
            ok(d.docker("rmi", ref))
            p = d.docker("login", "-u", "user", "-p", "nope", host)
            assert p.returncode == 1, p.stdout
            ok(d.docker("login", "-u", "user", "-p", PASSWORD, host))
            p = ok(d.docker("pull", ref))
            assert f"Status: Downloaded newer image for {ref}" in p.stdout
            # anonymous: a token without access
            ok(berth(d, "logout", host))
            ok(d.docker("rmi", ref))
            before = snapshot(d)
            p = berth(d, "pull", ref)
            assert p.returncode == 1 and ("unauthorized" in p.stderr or "denied" in p.stderr), p.stderr
            assert_unchanged(d, before)
            assert PASSWORD not in d.log.read_text()


# ---- 2: attacks through berthd --------------------------------------------------------

class Fake:
    """A registry that serves what it is given for any repository; optional Basic auth;
    blobs optionally redirected to another server or throttled (bytes/second)."""

    def __init__(self, manifests, blobs, auth=True, blob_redirect=None, throttle=None, fast=()):
        self.manifests, self.blobs = manifests, blobs
        self.auth = "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode() if auth else None
        self.blob_redirect, self.throttle, self.fast = blob_redirect, throttle, set(fast)
        self.sent = {}

    def __call__(self, h):
        if self.auth and h.headers.get("Authorization") != self.auth:
            return tr.reply(h, 401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                            {"WWW-Authenticate": 'Basic realm="fake"', "Content-Type": "application/json"})
        path = urllib.parse.urlparse(h.path).path
        if path == "/v2/":
            return tr.reply(h, 200, "{}")
        if "/manifests/" in path:
            ref = path.rsplit("/", 1)[1]
            if ref not in self.manifests:
                return tr.reply(h, 404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            body, ct = self.manifests[ref]
            return tr.reply(h, 200, body, {"Content-Type": ct})
        if "/blobs/" in path:
            dg = path.rsplit("/", 1)[1]
            if dg not in self.blobs:
                return tr.reply(h, 404, "")
            if self.blob_redirect:
                return tr.reply(h, 307, "", {"Location": f"{self.blob_redirect}/blob/{dg}"})
            data = self.blobs[dg]
            if not self.throttle or dg in self.fast or h.command == "HEAD":
                return tr.reply(h, 200, data)
            start = 0
            rng = h.headers.get("Range")
            h.send_response(206 if rng else 200)
            if rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            h.send_header("Content-Length", str(len(data) - start))
            h.end_headers()
            step = max(1, self.throttle // 20)
            try:
                for off in range(start, len(data), step):
                    h.wfile.write(data[off:off + step])
                    self.sent[dg] = self.sent.get(dg, 0) + min(step, len(data) - off)
                    time.sleep(0.05)
            except OSError:
                pass
            return
        return tr.reply(h, 404, "")


def image_parts(host, repo, ref="latest"):
    man, _, _ = reg_get(host, f"/v2/{repo}/manifests/{ref}", OCI_MANIFEST + ", " + DOCKER_MANIFEST)
    m = json.loads(man)
    cfg, _, _ = reg_get(host, f"/v2/{repo}/blobs/{m['config']['digest']}")
    blobs = {x["digest"]: reg_get(host, f"/v2/{repo}/blobs/{x['digest']}")[0] for x in m["layers"]}
    return man, m, cfg, blobs


def test_attacks_leave_the_store_unchanged(bd, plain):
    d = bd
    iid, digest, ref = push_victim(d, plain)
    man, m, cfg, blobs = image_parts(plain.host, "victim")
    ct = m.get("mediaType") or OCI_MANIFEST

    # a blob altered in the registry's storage
    before = snapshot(d)
    layer = m["layers"][0]["digest"]
    path = plain.blob_path(layer)
    good = path.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    path.write_bytes(bytes(bad))
    p = berth(d, "pull", ref, timeout=120)
    assert p.returncode == 1 and "verification failed" in p.stderr, p.stderr
    assert_unchanged(d, before)
    path.write_bytes(good)

    # a fake registry for the rest
    cfg2 = json.loads(cfg)
    cfg2["rootfs"]["diff_ids"] = ["sha256:" + "1" * 64]
    cfg2b = json.dumps(cfg2).encode()
    m2 = dict(m, config=dict(m["config"], digest=sha(cfg2b), size=len(cfg2b)))
    m3 = json.loads(man)
    m3["layers"][0]["digest"] = "sha256:../../../etc/passwd"
    m4 = json.loads(man)
    m4["layers"][0]["digest"] = "sha256:abcd"
    m5 = json.loads(man)
    m5["config"]["digest"] = "sha256:" + "A" * 64
    manifests = {
        "diffid": (json.dumps(m2).encode(), ct),
        "dotdot": (json.dumps(m3).encode(), ct),
        "short": (json.dumps(m4).encode(), ct),
        "upper": (json.dumps(m5).encode(), ct),
        # other bytes under the real manifest's digest
        digest: (man.replace(b'"schemaVersion":2', b'"schemaVersion": 2', 1) if b'"schemaVersion":2' in man
                 else man + b" ", ct),
    }
    allb = {**blobs, sha(cfg): cfg, sha(cfg2b): cfg2b}
    fake = Fake(manifests, allb)
    with tr.server(fake) as a:
        host = f"127.0.0.1:{a.port}"
        ok(berth(d, "login", "-u", "user", "-p", PASSWORD, host))
        cases = [("diffid", "layers from manifest don't match image configuration"),
                 ("dotdot", "invalid digest"), ("short", "invalid digest"), ("upper", "invalid digest")]
        for tag, want in cases:
            before = snapshot(d)
            p = berth(d, "pull", f"{host}/victim:{tag}", timeout=120)
            assert p.returncode == 1 and want in p.stderr, (tag, p.stderr)
            assert_unchanged(d, before)
        before = snapshot(d)
        p = berth(d, "pull", f"{host}/victim@{digest}", timeout=120)
        assert p.returncode == 1 and "verification failed" in p.stderr, p.stderr
        assert_unchanged(d, before)
        # malformed digests given to berthd directly
        auth = base64.urlsafe_b64encode(json.dumps({"username": "user", "password": PASSWORD}).encode()).decode()
        for bad_tag in ("sha256:../../x", "sha256:abcd", "sha256:" + "g" * 64):
            st, _, body = d.api("POST", f"/v1.50/images/create?fromImage={host}/victim&tag={urllib.parse.quote(bad_tag)}",
                                headers={"X-Registry-Auth": auth}, timeout=60)
            assert st >= 400 or b"errorDetail" in body, (bad_tag, st, body)
        p = d.docker("pull", f"{host}/victim@sha256:abcd")
        assert p.returncode != 0
        assert_unchanged(d, before)
        paths = [x for _, x, _ in a.requests]
        assert not any(".." in x for x in paths), paths

    # a redirect of every blob to a second loopback server: it never sees credentials
    seen_b = []
    with tr.server(tr.blob_server(allb)) as b:
        seen_b = b.requests
        with tr.server(Fake({"latest": (man, ct)}, allb, blob_redirect=b.url)) as a:
            host = f"127.0.0.1:{a.port}"
            ok(berth(d, "login", "-u", "user", "-p", PASSWORD, host))
            p = ok(berth(d, "pull", f"{host}/victim:latest", timeout=120))
            assert image_id(d, f"{host}/victim:latest") == iid
            assert any("Authorization" in hd for _, _, hd in a.requests)
            assert seen_b, "the blobs did not come from the second server"
            for _, _, hd in seen_b:
                assert "authorization" not in {k.lower() for k in hd}, hd
            assert PASSWORD not in p.stdout + p.stderr + d.log.read_text()


def test_attacks_on_one_layer_keep_only_verified_layers(bd):
    """A pull commits each layer once it is verified and the layers under it are: a failed
    pull keeps those (the next pull does not fetch them again, a prune removes them), never
    the layer that failed, nor one above it."""
    d = bd
    data = [os.urandom(256 << 10) for _ in range(2)]
    tars = [make_rootfs_tar({f"data/{i}": b}) for i, b in enumerate(data)]
    man, cfg, blobs, digests, chains = tr.oci_image(tars)
    # a config that names another top layer than the one served
    wrong = [tr.sha(tars[0]), "sha256:" + "1" * 64]
    man_w, cfg_w, blobs_w, _, chains_w = tr.oci_image(tars, diff_ids=wrong)
    # the top layer comes slowly: a failure cancels the other downloads, and the bottom one is
    # verified by then
    fake = Fake({"latest": (man, OCI_MANIFEST), "wrong": (man_w, OCI_MANIFEST)},
                {**blobs, **blobs_w, digests[1]: tr.corrupt(blobs[digests[1]])}, auth=False,
                throttle=1 << 20, fast=digests[:1])
    with tr.server(fake) as a:
        ref = f"127.0.0.1:{a.port}/two:latest"
        before, size0 = snapshot(d), layers_size(d)

        # the top blob is corrupt: the verified bottom layer stays, the top leaves no trace
        p = berth(d, "pull", ref, timeout=120)
        assert p.returncode == 1 and "verification failed" in p.stderr and digests[1] in p.stderr, p.stderr
        assert_unchanged(d, before, kept=chains[:1])
        assert layers_size(d) >= size0 + (256 << 10)

        # repaired: the bottom layer is not fetched again, the image is right
        fake.blobs[digests[1]] = blobs[digests[1]]
        n0 = blob_gets(a, digests[0])
        p = ok(berth(d, "pull", ref, timeout=120))
        assert f"{digests[0][7:19]}: Already exists" in p.stdout, p.stdout
        assert blob_gets(a, digests[0]) == n0
        st, _, body = d.api("GET", f"/v1.50/images/{ref}/json")
        assert st == 200 and json.loads(body)["Id"] == sha(cfg)
        assert json.loads(body)["RootFS"]["Layers"] == [sha(t) for t in tars]
        for i, c in enumerate(chains):
            assert (d.data / "layers" / c[7:] / "diff" / "data" / str(i)).read_bytes() == data[i]
        # rmi takes the layers with the image
        ok(berth(d, "rmi", ref))
        assert_unchanged(d, before)

        # the bottom blob is corrupt: the top layer, verified but over nothing, is not kept
        fake.blobs[digests[0]] = tr.corrupt(blobs[digests[0]])
        p = berth(d, "pull", ref, timeout=120)
        assert p.returncode == 1 and "verification failed" in p.stderr and digests[0] in p.stderr, p.stderr
        assert_unchanged(d, before)
        fake.blobs[digests[0]] = blobs[digests[0]]

        # the config names another top layer: the bottom layer stays, the top one does not
        p = berth(d, "pull", f"127.0.0.1:{a.port}/two:wrong", timeout=120)
        assert p.returncode == 1 and "layers from manifest don't match image configuration" in p.stderr, p.stderr
        assert chains_w[0] == chains[0]
        assert_unchanged(d, before, kept=chains[:1])

        # a prune removes what failed pulls left; tagged images stay
        st, _, body = d.api("POST", "/v1.50/images/prune", timeout=60)
        assert st == 200, body
        res = json.loads(body)
        assert {"Deleted": chains[0]} in (res["ImagesDeleted"] or []), res
        assert res["SpaceReclaimed"] >= 256 << 10, res
        assert_unchanged(d, before)
        assert layers_size(d) == size0


def test_running_pull_keeps_its_layers(bd):
    """rmi and prune during a pull delete none of the layers it found or committed."""
    d = bd
    data = [os.urandom(256 << 10), os.urandom(256 << 10), os.urandom(4 << 20)]
    tars = [make_rootfs_tar({f"data/{i}": b}) for i, b in enumerate(data)]
    man1, _, blobs1, _, _ = tr.oci_image(tars[:1])
    man, cfg, blobs, digests, chains = tr.oci_image(tars)
    fake = Fake({"one": (man1, OCI_MANIFEST), "three": (man, OCI_MANIFEST)}, {**blobs1, **blobs},
                auth=False, throttle=1 << 20, fast=digests[:2])
    with tr.server(fake) as a:
        one, three = f"127.0.0.1:{a.port}/img:one", f"127.0.0.1:{a.port}/img:three"
        before = snapshot(d)
        ok(berth(d, "pull", one, timeout=120))
        # layer 0 is in the store (img:one's), layer 1 comes fast, layer 2 slowly
        proc = subprocess.Popen([str(engine.BUILD / "berth"), "-H", d.host, "pull", three],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=d.env())
        try:
            end = time.monotonic() + 30
            while time.monotonic() < end and not (d.data / "layers" / chains[1][7:]).exists():
                time.sleep(0.05)
            assert (d.data / "layers" / chains[1][7:]).exists(), "layer 1 was not committed"
            assert proc.poll() is None, "the pull ended too soon"
            # the last image with layer 0 goes; a prune finds layer 1 in no image
            p = ok(berth(d, "rmi", one))
            assert chains[0] not in p.stdout, p.stdout
            st, _, body = d.api("POST", "/v1.50/images/prune", timeout=60)
            assert st == 200 and chains[1] not in body.decode() and chains[0] not in body.decode(), body
            assert proc.poll() is None, "the pull ended too soon"
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert proc.returncode == 0, err
        assert f"Status: Downloaded newer image for {three}" in out
        st, _, body = d.api("GET", f"/v1.50/images/{three}/json")
        assert st == 200 and json.loads(body)["Id"] == sha(cfg)
        for i, c in enumerate(chains):
            assert (d.data / "layers" / c[7:] / "diff" / "data" / str(i)).read_bytes() == data[i]
        ok(berth(d, "rmi", three))
        assert_unchanged(d, before)


def test_decompression_bomb(tmp_path):
    """A layer of ~100 KiB gzip that unpacks to 128 MiB; berthd's max-layer-size is 16 MiB."""
    zeros = make_rootfs_tar({"bomb": b"\0" * (128 << 20)})
    layer = gzip.compress(zeros, 9)
    assert len(layer) < 1 << 20
    cfg = json.dumps({"architecture": "amd64" if os.uname().machine == "x86_64" else "arm64",
                      "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [sha(zeros)]},
                      "history": [{"created_by": "bomb"}]}).encode()
    del zeros
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
         "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(layer),
                     "size": len(layer)}]}
    fake = Fake({"latest": (json.dumps(m).encode(), OCI_MANIFEST)}, {sha(cfg): cfg, sha(layer): layer}, auth=False)
    with tr.server(fake) as a, berthd_with({"max-layer-size": 16 << 20}) as d:
        before = snapshot(d)
        t0 = time.monotonic()
        p = berth(d, "pull", f"127.0.0.1:{a.port}/bomb:latest", timeout=120)
        assert p.returncode == 1, p.stdout
        assert time.monotonic() - t0 < 60
        assert_unchanged(d, before)
        assert "exceeds the size limit" in p.stderr, p.stderr
        # disk use (busybox's applets are hard links: each inode once)
        inodes = {}
        for f in d.data.rglob("*"):
            if f.is_file() and not f.is_symlink():
                st = f.lstat()
                inodes[(st.st_dev, st.st_ino)] = st.st_blocks * 512
        assert sum(inodes.values()) < 64 << 20, sum(inodes.values())


# ---- 3: kill -9 during a pull ---------------------------------------------------------

def docker_archive(layers, repo_tag):
    """A docker-archive (docker save) tar of uncompressed layer tars."""
    diff_ids = [sha(t) for t in layers]
    cfg = json.dumps({"architecture": "amd64" if os.uname().machine == "x86_64" else "arm64",
                      "os": "linux", "created": "2026-01-01T00:00:00Z",
                      "config": {"Cmd": ["/bin/sh"]},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids},
                      "history": [{"created": "2026-01-01T00:00:00Z", "created_by": f"layer {i}"}
                                  for i in range(len(layers))]}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add(f"{sha(cfg)[7:]}.json", cfg)
        names = []
        for lt in layers:
            n = f"{sha(lt)[7:]}/layer.tar"
            add(n, lt)
            names.append(n)
        add("manifest.json", json.dumps([{"Config": f"{sha(cfg)[7:]}.json", "RepoTags": [repo_tag],
                                          "Layers": names}]).encode())
    return buf.getvalue(), sha(cfg)


def test_kill9_during_pull_then_restart(bd, plain):
    d = bd
    ref = f"{plain.host}/big:latest"
    files = [os.urandom(6 << 20) for _ in range(5)]
    layers = [make_rootfs_tar({f"data/{i}": b}) for i, b in enumerate(files)]
    arch, want_id = docker_archive(layers, ref)
    p = d.berth("load", input=arch, timeout=120)
    assert p.returncode == 0, p.stderr
    assert image_id(d, ref) == want_id
    ok(berth(d, "push", ref, timeout=300))
    ok(berth(d, "rmi", ref))
    man, m, cfg, blobs = image_parts(plain.host, "big")
    # the store kept the layout of the loaded tars: the pushed config is the loaded one
    diff_ids = json.loads(cfg)["rootfs"]["diff_ids"]
    assert diff_ids == [sha(t) for t in layers]
    assert m["config"]["digest"] == want_id
    chains = tr.chain_ids(diff_ids)
    # served by a throttled copy of the registry: the first layer fast, the rest slowly
    first = m["layers"][0]["digest"]
    fake = Fake({"latest": (man, m.get("mediaType") or OCI_MANIFEST)}, {**blobs, sha(cfg): cfg},
                auth=False, throttle=2 << 20, fast=[first])
    with tr.server(fake) as a:
        sref = f"127.0.0.1:{a.port}/big:latest"
        proc = subprocess.Popen([str(engine.BUILD / "berth"), "-H", d.host, "pull", sref],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=d.env())
        try:
            end = time.monotonic() + 60
            while time.monotonic() < end and (sum(fake.sent.values()) < (3 << 20) or
                                              not (d.data / "layers" / chains[0][7:]).exists()):
                time.sleep(0.1)
            assert sum(fake.sent.values()) >= (3 << 20), "the pull did not start"
            assert (d.data / "layers" / chains[0][7:]).exists(), "the first layer was not committed"
            time.sleep(0.5)
            d.kill9()
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert proc.returncode != 0
        fake.throttle = None
        d.start()
        # no partial image, no half-unpacked layer: only the layer verified before the kill
        assert image_id(d, sref) is None
        imgs, layers_now = snapshot(d)
        assert want_id not in [i[0] for i in imgs]
        assert not [n for n in layers_now if n.startswith("tmp")], layers_now
        assert chains[0][7:] in layers_now
        assert not [c for c in chains[1:] if c[7:] in layers_now], layers_now
        ok(berth(d, "images"))
        gets_before = {x["digest"]: blob_gets(a, x["digest"]) for x in m["layers"]}
        p = ok(berth(d, "pull", sref, timeout=300))
        assert f"Status: Downloaded newer image for {sref}" in p.stdout
        assert image_id(d, sref) == m["config"]["digest"]
        # the layer verified before the kill is not fetched again; the others are
        assert f"{first[7:19]}: Already exists" in p.stdout, p.stdout
        assert blob_gets(a, first) == gets_before[first]
        for x in m["layers"][1:]:
            assert blob_gets(a, x["digest"]) == gets_before[x["digest"]] + 1, x["digest"]
        # the image is the pushed one, layer by layer
        st, _, body = d.api("GET", f"/v1.50/images/{sref}/json")
        assert st == 200 and json.loads(body)["RootFS"]["Layers"] == diff_ids
        st, _, body = d.api("GET", f"/v1.50/images/{sref}/history")
        assert st == 200 and len(json.loads(body)) == 5
        for i, c in enumerate(chains):
            got = (d.data / "layers" / c[7:] / "diff" / "data" / str(i)).read_bytes()
            assert got == files[i], f"layer {i} differs"
        ok(berth(d, "rmi", sref))
        assert not [c for c in chains if c[7:] in snapshot(d)[1]]
