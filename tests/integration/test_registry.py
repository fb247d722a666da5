"""The registry client (src/registry) against Debian's docker-registry and small loopback
servers, driven through the CLI mode of the registry unit-test binary:

    build/tests/test-registry cli [options] push|pull|login|... (see tests/unit/test-registry.c)

Every registry and server started here listens on 127.0.0.1 on a free port and is stopped in a
finally block, also when the test fails. Needs root (the stores unpack layers as root) and
docker-registry, htpasswd (apache2-utils) and openssl.
"""

import base64
import hashlib
import http.server
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

import engine
import helpers

CLI = Path(os.environ.get("BERTH_REGISTRY_CLI") or helpers.REPO / "build" / "tests" / "test-registry")
PASSWORD = "s3cret-Pa55word"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="registry tests need root"),
    pytest.mark.skipif(not shutil.which("docker-registry"), reason="docker-registry is not installed"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def cli(*args, ok=True, env=None, timeout=120):
    assert CLI.exists(), f"{CLI} missing: run make"
    p = subprocess.run([str(CLI), "cli", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, **(env or {})})
    if ok and p.returncode != 0:
        raise AssertionError(f"cli {args} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def last_word(p, key):
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(key + " "):
            return line.split()[1]
    raise AssertionError(f"no {key} in {p.stdout}")


def progress(p):
    out = []
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def inspect(store, ref):
    return json.loads(cli("inspect", store, ref).stdout)


def store_is_empty(store, kept=()):
    """No image, no temp layer dir, and no committed layer but those in kept: chain ids of
    layers the pull verified (it commits each one at once, for the next pull to reuse)."""
    assert cli("images", store).stdout.strip() == ""
    layers = store / "layers"
    left = sorted(p.name for p in layers.iterdir()) if layers.exists() else []
    assert sorted(n for n in left if n not in ("empty", "l")) == sorted(c[7:] for c in kept), left


# ---- processes and servers -----------------------------------------------------

class Registry:
    def __init__(self, tmp, tls=None, htpasswd=None, token=None):
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.data = self.tmp / "data"
        http_cfg = {"addr": self.host, "secret": "berth-test"}
        if tls:
            http_cfg["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
        cfg = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
               "storage": {"filesystem": {"rootdirectory": str(self.data)},
                           "delete": {"enabled": True}},
               "http": http_cfg}
        if htpasswd:
            cfg["auth"] = {"htpasswd": {"realm": "berth-test", "path": str(htpasswd)}}
        if token:
            cfg["auth"] = {"token": token}
        # YAML is a superset of JSON
        (self.tmp / "config.yml").write_text(json.dumps(cfg))
        self.log = open(self.tmp / "registry.log", "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(self.tmp / "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            raise

    def blob_path(self, digest):
        hexd = digest.split(":", 1)[1]
        return self.data / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"

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
def registry(tmp, **kw):
    r = Registry(tmp, **kw)
    try:
        yield r
    finally:
        r.stop()


class Server:
    """A loopback HTTP server in a thread; handler(req) answers, every request's headers are
    recorded in .requests as (method, path, {header: value})."""

    def __init__(self, handler):
        outer = self
        self.requests = []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                outer.requests.append((self.command, self.path, dict(self.headers.items())))
                n = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(n) if n else b""
                handler(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = _any

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@contextmanager
def server(handler):
    s = Server(handler)
    try:
        yield s
    finally:
        s.stop()


def reply(h, status, body=b"", headers=None):
    if isinstance(body, str):
        body = body.encode()
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d):
    """A CA and a server certificate for 127.0.0.1 / localhost; returns (ca.crt, srv.crt, srv.key)."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=berth test CA", cwd=d)
    openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.crt", "-days", "2", "-extfile", "ext", cwd=d)
    return d / "ca.crt", d / "srv.crt", d / "srv.key"


# ---- fixtures ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def busybox_tar():
    return engine.busybox_tar()


@pytest.fixture
def plain(tmp_path):
    with registry(tmp_path / "reg") as r:
        yield r


def import_busybox(store, ref, tar):
    return cli("import", store, tar, ref).stdout.strip()


def push_busybox(tmp_path, reg, tar, name="busybox", *opts):
    src = tmp_path / f"src-{name.replace('/', '-')}"
    ref = f"{reg.host}/{name}:latest"
    image_id = import_busybox(src, ref, tar)
    p = cli(*opts, "push", src, ref)
    return image_id, last_word(p, "DIGEST"), ref


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# ---- plain HTTP (an insecure registry) -----------------------------------------------

def test_push_pull_roundtrip(tmp_path, plain, busybox_tar):
    image_id, digest, ref = push_busybox(tmp_path, plain, busybox_tar)
    dst = tmp_path / "dst"
    p = cli("pull", dst, ref)
    assert last_word(p, "ID") == image_id
    msgs = progress(p)
    statuses = [m.get("status") for m in msgs]
    for s in ("Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete",
              "Extracting", "Pull complete"):
        assert s in statuses, statuses
    assert f"Digest: {digest}" in statuses
    assert f"Status: Downloaded newer image for {ref}" in statuses
    dl = [m for m in msgs if m.get("status") == "Downloading"]
    assert all(len(m["id"]) == 12 and m["progressDetail"]["total"] > 0 for m in dl)
    info = inspect(dst, ref)
    assert info["Id"] == image_id
    assert info["RepoTags"] == [ref]
    assert info["RepoDigests"] == [f"{plain.host}/busybox@{digest}"]
    # the same image's busybox runs from the pulled layer
    layer = next(p for p in (dst / "layers").iterdir() if len(p.name) == 64)
    assert (layer / "diff/bin/busybox").is_file()

    # again: nothing to fetch
    p = cli("pull", dst, ref)
    statuses = [m.get("status") for m in progress(p)]
    assert "Already exists" in statuses and "Downloading" not in statuses
    assert f"Status: Image is up to date for {ref}" in statuses

    # by digest, into a fresh store: only the RepoDigest names it
    dst2 = tmp_path / "dst2"
    p = cli("pull", dst2, f"{ref.rsplit(':', 1)[0]}@{digest}")
    assert last_word(p, "ID") == image_id
    info = inspect(dst2, image_id)
    assert info["RepoTags"] == [] and info["RepoDigests"] == [f"{plain.host}/busybox@{digest}"]

    # a second push finds every blob there
    p = cli("push", tmp_path / "src-busybox", ref)
    assert "Layer already exists" in [m.get("status") for m in progress(p)]
    assert last_word(p, "DIGEST") == digest


def test_chunked_push_and_search(tmp_path, plain, busybox_tar):
    image_id, digest, ref = push_busybox(tmp_path, plain, busybox_tar, "team/chunky",
                                         "--chunk-size", "65536")
    dst = tmp_path / "dst"
    assert last_word(cli("pull", dst, ref), "ID") == image_id
    res = json.loads(cli("search", f"{plain.host}/chun").stdout)
    assert [r["name"] for r in res] == [f"{plain.host}/team/chunky"]
    assert set(res[0]) == {"name", "description", "star_count", "is_official", "is_automated"}


def test_cross_repo_mount(tmp_path, plain, busybox_tar):
    image_id, digest, ref = push_busybox(tmp_path, plain, busybox_tar, "a/one")
    dst = tmp_path / "dst"
    cli("pull", dst, ref)
    # the pulled image has a RepoDigest in a/one: pushing it to b/two mounts the layer
    other = f"{plain.host}/b/two:latest"
    cli("tag", dst, ref, other)
    p = cli("push", dst, other)
    assert "Mounted from a/one" in [m.get("status") for m in progress(p)], p.stdout
    assert last_word(p, "DIGEST") == digest
    assert last_word(cli("pull", tmp_path / "dst2", other), "ID") == image_id


def test_missing_tag_and_secure_plain_http(tmp_path, plain, busybox_tar):
    push_busybox(tmp_path, plain, busybox_tar)
    p = cli("pull", tmp_path / "d", f"{plain.host}/busybox:nope", ok=False)
    assert p.returncode == 1 and "not found" in p.stderr and "manifest unknown" in p.stderr
    # not insecure: no plain-HTTP fallback (CVE-2014-5277)
    p = cli("--secure", "pull", tmp_path / "d", f"{plain.host}/busybox:latest", ok=False)
    assert p.returncode == 1 and "https://" in p.stderr
    store_is_empty(tmp_path / "d")


def test_tampered_blob_fails_and_commits_nothing(tmp_path, plain, busybox_tar):
    image_id, digest, ref = push_busybox(tmp_path, plain, busybox_tar)
    man = json.loads(urllib.request.urlopen(urllib.request.Request(
        f"http://{plain.host}/v2/busybox/manifests/latest",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}), timeout=10).read())
    layer = man["layers"][0]["digest"]
    path = plain.blob_path(layer)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    dst = tmp_path / "dst"
    p = cli("--retries", "0", "pull", dst, ref, ok=False)
    assert p.returncode == 1
    assert "verification failed" in p.stderr and layer in p.stderr, p.stderr
    store_is_empty(dst)


def test_multi_platform_index(tmp_path, plain, busybox_tar):
    amd_id, amd_digest, _ = push_busybox(tmp_path, plain, busybox_tar, "multi")
    # a second, different image for "arm64": busybox plus a file
    small = tmp_path / "small.tar"
    rootfs = tmp_path / "small"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc/arch").write_text("arm64\n")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(small), "."], check=True)
    arm_ref = f"{plain.host}/multi:arm"
    arm_id = import_busybox(tmp_path / "src-arm", arm_ref, small)
    arm_digest = last_word(cli("push", tmp_path / "src-arm", arm_ref), "DIGEST")

    def size_of(digest):
        req = urllib.request.Request(f"http://{plain.host}/v2/multi/manifests/{digest}",
                                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        return len(urllib.request.urlopen(req, timeout=10).read())

    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [
                 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm_digest,
                  "size": size_of(arm_digest),
                  "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd_digest,
                  "size": size_of(amd_digest), "platform": {"os": "linux", "architecture": "amd64"}},
             ]}
    body = json.dumps(index).encode()
    req = urllib.request.Request(f"http://{plain.host}/v2/multi/manifests/all", data=body,
                                 method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    assert urllib.request.urlopen(req, timeout=10).status == 201
    index_digest = "sha256:" + hashlib.sha256(body).hexdigest()

    ref = f"{plain.host}/multi:all"
    host_arch = os.uname().machine
    if host_arch == "x86_64":
        p = cli("pull", tmp_path / "d1", ref)
        assert last_word(p, "ID") == amd_id
        # the RepoDigest is the index's
        assert inspect(tmp_path / "d1", ref)["RepoDigests"] == [f"{plain.host}/multi@{index_digest}"]
    p = cli("--platform", "linux/arm64", "pull", tmp_path / "d2", ref)
    assert last_word(p, "ID") == arm_id
    p = cli("--platform", "linux/s390x", "pull", tmp_path / "d3", ref, ok=False)
    assert "no matching manifest for linux/s390x" in p.stderr
    store_is_empty(tmp_path / "d3")


# ---- a fake registry: attacks the real one cannot play -------------------------------

def fetch_image(reg):
    """manifest bytes, config bytes, {digest: blob} of busybox:latest in reg."""
    def get(path, accept=None):
        req = urllib.request.Request(f"http://{reg.host}{path}",
                                     headers={"Accept": accept} if accept else {})
        return urllib.request.urlopen(req, timeout=10).read()
    man = get("/v2/busybox/manifests/latest", "application/vnd.oci.image.manifest.v1+json")
    m = json.loads(man)
    cfg = get(f"/v2/busybox/blobs/{m['config']['digest']}")
    blobs = {d["digest"]: get(f"/v2/busybox/blobs/{d['digest']}") for d in m["layers"]}
    return man, cfg, blobs


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer_tar(files):
    """An uncompressed layer tar of {path: bytes}."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def chain_ids(diff_ids):
    """The store's names of the layers: each diff id over the chain under it."""
    out = []
    for d in diff_ids:
        out.append(d if not out else sha(f"{out[-1]} {d}".encode()))
    return out


def oci_image(tars, diff_ids=None):
    """An OCI image of uncompressed layer tars: (manifest bytes, config bytes, {digest: blob}
    of config and layers, the layers' blob digests, their chain ids). diff_ids (the config's)
    default to the layers' own."""
    diff_ids = diff_ids or [sha(t) for t in tars]
    cfg = json.dumps({"architecture": "amd64" if os.uname().machine == "x86_64" else "arm64",
                      "os": "linux", "created": "2026-01-01T00:00:00Z", "config": {},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids},
                      "history": [{"created_by": f"layer {i}"} for i in range(len(tars))]}).encode()
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg),
                    "size": len(cfg)},
         "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(t),
                     "size": len(t)} for t in tars]}
    blobs = {sha(cfg): cfg, **{sha(t): t for t in tars}}
    return json.dumps(m).encode(), cfg, blobs, [sha(t) for t in tars], chain_ids(diff_ids)


def corrupt(b):
    bad = bytearray(b)
    bad[len(bad) // 2] ^= 0xFF
    return bytes(bad)


class FakeRegistry:
    """Requires Basic auth (user/PASSWORD), serves the manifests/blobs it is given; blobs may
    be redirected to another server."""

    def __init__(self, manifests, blobs, blob_redirect=None, delay=None):
        self.manifests = manifests  # reference -> (bytes, content type)
        self.blobs = blobs
        self.blob_redirect = blob_redirect
        self.delay = delay or {}  # digest -> seconds before the blob is served
        self.auth = "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()

    def __call__(self, h):
        if h.headers.get("Authorization") != self.auth:
            return reply(h, 401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                         {"WWW-Authenticate": 'Basic realm="fake"', "Content-Type": "application/json"})
        path = urllib.parse.urlparse(h.path).path
        if path == "/v2/":
            return reply(h, 200, "{}")
        if path.startswith("/v2/busybox/manifests/"):
            ref = path.rsplit("/", 1)[1]
            if ref not in self.manifests:
                return reply(h, 404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            body, ct = self.manifests[ref]
            return reply(h, 200, body, {"Content-Type": ct})
        if path.startswith("/v2/busybox/blobs/"):
            d = path.rsplit("/", 1)[1]
            if d not in self.blobs:
                return reply(h, 404, "")
            if self.blob_redirect:
                return reply(h, 307, "", {"Location": f"{self.blob_redirect}/blob/{d}"})
            time.sleep(self.delay.get(d, 0))
            return reply(h, 200, self.blobs[d])
        return reply(h, 404, "")


def blob_server(blobs, cut=()):
    """Serves /blob/<digest>; honours Range; cuts the first answer for each digest in cut
    half-way."""
    state = {"cut": set(cut)}

    def handle(h):
        d = h.path.rsplit("/", 1)[1]
        data = blobs.get(d)
        if data is None:
            return reply(h, 404, "")
        rng = h.headers.get("Range")
        if d in state["cut"]:
            state["cut"].discard(d)
            h.send_response(200)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            return reply(h, 206, data[start:], {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        return reply(h, 200, data)

    return handle


def user_args():
    return ["--user", "user", "--password", PASSWORD]


def test_redirect_never_carries_credentials(tmp_path, plain, busybox_tar):
    image_id, digest, ref = push_busybox(tmp_path, plain, busybox_tar)
    man, cfg, blobs = fetch_image(plain)
    allb = {**blobs, sha(cfg): cfg}
    ct = "application/vnd.oci.image.manifest.v1+json"
    with server(blob_server(allb, cut=blobs)) as b:
        fake = FakeRegistry({"latest": (man, ct)}, allb, blob_redirect=b.url)
        with server(fake) as a:
            dst = tmp_path / "dst"
            p = cli(*user_args(), "--retry-delay-ms", "50", "pull", dst,
                    f"127.0.0.1:{a.port}/busybox:latest")
            assert last_word(p, "ID") == image_id
            # A saw the credentials; B (another origin) never did, also not on the retry
            assert any("Authorization" in hd for _, _, hd in a.requests)
            assert b.requests, "the blobs did not come from the second server"
            for _, _, hd in b.requests:
                assert "Authorization" not in hd and "authorization" not in {k.lower() for k in hd}
            # the cut transfer was resumed with a Range request
            assert any("Range" in hd for _, _, hd in b.requests)
            assert "Retrying in" in p.stdout
            assert PASSWORD not in p.stdout + p.stderr


def test_fake_registry_attacks(tmp_path, plain, busybox_tar):
    image_id, digest, ref = push_busybox(tmp_path, plain, busybox_tar)
    man, cfg, blobs = fetch_image(plain)
    ct = "application/vnd.oci.image.manifest.v1+json"
    m = json.loads(man)

    # a config whose diff id does not match the layer
    cfg2 = json.loads(cfg)
    cfg2["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
    cfg2b = json.dumps(cfg2).encode()
    m2 = json.loads(man)
    m2["config"] = {"mediaType": m["config"]["mediaType"], "digest": sha(cfg2b), "size": len(cfg2b)}
    man2 = json.dumps(m2).encode()

    # a malformed digest
    m3 = json.loads(man)
    m3["layers"][0]["digest"] = "sha256:../../../etc/passwd"
    man3 = json.dumps(m3).encode()

    # a blob larger than its descriptor says
    m4 = json.loads(man)
    m4["layers"][0]["size"] = 100
    man4 = json.dumps(m4).encode()

    # both layers and manifests; a mediaType that contradicts the Content-Type
    m5 = json.loads(man)
    m5["manifests"] = []
    man5 = json.dumps(m5).encode()

    manifests = {
        "difid": (man2, ct), "baddigest": (man3, ct), "toolong": (man4, ct),
        "both": (man5, ct), "mismatch": (man, "application/vnd.oci.image.index.v1+json"),
        # altered bytes under the digest of the real manifest
        digest: (man.replace(b'"schemaVersion":2', b'"schemaVersion": 2'), ct),
    }
    allb = {**blobs, sha(cfg): cfg, sha(cfg2b): cfg2b}
    with server(FakeRegistry(manifests, allb)) as a:
        host = f"127.0.0.1:{a.port}"
        cases = [
            ("difid", "layers from manifest don't match image configuration"),
            ("baddigest", "invalid digest"),
            ("toolong", "verification failed"),
            ("both", "both"),
            ("mismatch", "does not match"),
        ]
        for tag, want in cases:
            dst = tmp_path / f"dst-{tag}"
            p = cli(*user_args(), "--retries", "0", "pull", dst, f"{host}/busybox:{tag}", ok=False)
            assert p.returncode == 1 and want in p.stderr, (tag, p.stderr)
            store_is_empty(dst)
        dst = tmp_path / "dst-digest"
        p = cli(*user_args(), "pull", dst, f"{host}/busybox@{digest}", ok=False)
        assert "manifest verification failed" in p.stderr, p.stderr
        store_is_empty(dst)
        # without credentials: the 401 comes back as the registry worded it
        p = cli("pull", tmp_path / "anon", f"{host}/busybox:difid", ok=False)
        assert "unauthorized: authentication required" in p.stderr
        # "sha256:../../x" never reaches the server
        paths = [path for _, path, _ in a.requests]
        assert not any(".." in x for x in paths), paths


def test_verified_layers_are_kept_for_the_next_pull(tmp_path):
    """A pull commits each layer once it is verified and the layers under it are: a pull that
    fails keeps them and the next one does not fetch them again; nothing unverified is kept."""
    data = [os.urandom(128 << 10) for _ in range(2)]
    tars = [layer_tar({f"data/{i}": b}) for i, b in enumerate(data)]
    man, cfg, blobs, digests, chains = oci_image(tars)
    ct = "application/vnd.oci.image.manifest.v1+json"
    # the top layer comes late: a failure cancels the other downloads, and the bottom one is
    # verified by then
    fake = FakeRegistry({"latest": (man, ct)}, {**blobs, digests[1]: corrupt(blobs[digests[1]])},
                        delay={digests[1]: 0.5})
    with server(fake) as a:
        ref = f"127.0.0.1:{a.port}/busybox:latest"

        def gets(digest):
            return sum(1 for meth, path, _ in a.requests if meth == "GET" and path.endswith(digest))

        # the top blob is corrupt: the bottom layer stays, no trace of the top one
        dst = tmp_path / "dst"
        p = cli(*user_args(), "--retries", "0", "pull", dst, ref, ok=False)
        assert p.returncode == 1 and "verification failed" in p.stderr and digests[1] in p.stderr, p.stderr
        store_is_empty(dst, kept=chains[:1])
        # the registry is repaired: only the top layer is fetched
        fake.blobs = blobs
        n = gets(digests[0])
        p = cli(*user_args(), "pull", dst, ref)
        assert last_word(p, "ID") == sha(cfg)
        assert gets(digests[0]) == n and gets(digests[1]) == 2
        seen = {(x.get("id"), x.get("status")) for x in progress(p)}
        assert (digests[0][7:19], "Already exists") in seen, seen
        assert (digests[1][7:19], "Pull complete") in seen, seen
        assert inspect(dst, ref)["Layers"] == 2
        for i, c in enumerate(chains):
            assert (dst / "layers" / c[7:] / "diff" / f"data/{i}").read_bytes() == data[i]

        # the bottom blob is corrupt: the top layer, verified but over nothing, is not kept
        fake.blobs = {**blobs, digests[0]: corrupt(blobs[digests[0]])}
        dst = tmp_path / "dst2"
        p = cli(*user_args(), "--retries", "0", "pull", dst, ref, ok=False)
        assert p.returncode == 1 and "verification failed" in p.stderr and digests[0] in p.stderr, p.stderr
        store_is_empty(dst)


# ---- TLS and basic auth --------------------------------------------------------------

def test_tls_ca_and_htpasswd(tmp_path, busybox_tar):
    ca, crt, key = make_ca(tmp_path / "pki")
    hp = subprocess.run(["htpasswd", "-Bbn", "user", PASSWORD], check=True, capture_output=True,
                        text=True).stdout
    (tmp_path / "htpasswd").write_text(hp)
    with registry(tmp_path / "reg", tls=(crt, key), htpasswd=tmp_path / "htpasswd") as reg:
        certs = tmp_path / "certs.d"
        (certs / reg.host).mkdir(parents=True)
        shutil.copy(ca, certs / reg.host / "ca.crt")
        sec = ["--secure", "--certs-dir", certs]

        # login: right and wrong password
        assert "Login Succeeded" in cli(*sec, *user_args(), "login", reg.host).stdout
        p = cli(*sec, "--user", "user", "--password", "wrong-password", "login", reg.host, ok=False)
        assert p.returncode == 1 and "401 Unauthorized" in p.stderr, p.stderr
        assert "wrong-password" not in p.stderr

        image_id, digest, ref = push_busybox(tmp_path, reg, busybox_tar, "busybox", *sec, *user_args())
        dst = tmp_path / "dst"
        assert last_word(cli(*sec, *user_args(), "pull", dst, ref), "ID") == image_id

        # wrong password: the registry's 401
        p = cli(*sec, "--user", "user", "--password", "wrong-password", "pull", tmp_path / "d2", ref, ok=False)
        assert p.returncode == 1 and "unauthorized" in p.stderr, p.stderr
        assert "wrong-password" not in p.stdout + p.stderr
        store_is_empty(tmp_path / "d2")

        # a secure registry without its CA: the certificate is refused
        p = cli("--secure", *user_args(), "pull", tmp_path / "d3", ref, ok=False)
        assert p.returncode == 1 and "certificate" in p.stderr.lower(), p.stderr
        # loopback is insecure by default: TLS without verification works
        assert last_word(cli(*user_args(), "pull", tmp_path / "d4", ref), "ID") == image_id
        log = (reg.tmp / "registry.log").read_text()
        assert PASSWORD not in log


# ---- bearer tokens --------------------------------------------------------------------

class TokenService:
    """GET /token?service=..&scope=..: an RS256 JWT with x5c, signed by a key whose self-signed
    certificate is the registry's rootcertbundle. Basic user/PASSWORD gets what it asks for;
    anonymous gets pull on nothing."""

    def __init__(self, d):
        self.d = Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "tok.key",
                "-out", "tok.crt", "-days", "2", "-subj", "/CN=berth test token", cwd=self.d)
        der = subprocess.run(["openssl", "x509", "-in", "tok.crt", "-outform", "DER"], cwd=self.d,
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.auth = "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()
        self.seen = []

    def sign(self, claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        msg = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.d / "tok.key")],
                             input=msg.encode(), check=True, capture_output=True).stdout
        return msg + "." + b64url(sig)

    def __call__(self, h):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(h.path).query)
        authz = h.headers.get("Authorization")
        self.seen.append(authz)
        if authz is not None and authz != self.auth:
            return reply(h, 401, '{"details":"bad credentials"}')
        access = []
        if authz:
            for sc in q.get("scope", []):
                parts = sc.split(":")
                if len(parts) == 3 and parts[0] == "repository":
                    access.append({"type": "repository", "name": parts[1],
                                   "actions": parts[2].split(",")})
        now = int(time.time())
        tok = self.sign({"iss": "berth-test-issuer", "sub": "user" if authz else "",
                         "aud": q.get("service", [""])[0], "exp": now + 300, "nbf": now - 10,
                         "iat": now, "jti": os.urandom(8).hex(), "access": access})
        reply(h, 200, json.dumps({"token": tok, "expires_in": 300}), {"Content-Type": "application/json"})


def test_bearer_token_flow(tmp_path, busybox_tar):
    ts = TokenService(tmp_path / "tok")
    with server(ts) as tsrv:
        token_cfg = {"realm": f"{tsrv.url}/token", "service": "berth-test-registry",
                     "issuer": "berth-test-issuer", "rootcertbundle": str(ts.d / "tok.crt")}
        with registry(tmp_path / "reg", token=token_cfg) as reg:
            image_id, digest, ref = push_busybox(tmp_path, reg, busybox_tar, "busybox", *user_args())
            assert ts.seen and all(a == ts.auth for a in ts.seen if a)
            p = cli(*user_args(), "pull", tmp_path / "dst", ref)
            assert last_word(p, "ID") == image_id
            assert "Login Succeeded" in cli(*user_args(), "login", reg.host).stdout
            p = cli("--user", "user", "--password", "nope", "login", reg.host, ok=False)
            assert "401 Unauthorized" in p.stderr
            p = cli("--user", "user", "--password", "nope", "pull", tmp_path / "d2", ref, ok=False)
            assert p.returncode == 1 and "unauthorized" in p.stderr
            store_is_empty(tmp_path / "d2")
            # anonymous: a token without access, the registry refuses
            p = cli("pull", tmp_path / "d3", ref, ok=False)
            assert p.returncode == 1 and ("unauthorized" in p.stderr or "denied" in p.stderr), p.stderr
            store_is_empty(tmp_path / "d3")
