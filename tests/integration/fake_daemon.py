"""A fake Docker Engine API daemon on a unix socket, for client tests.

It answers canned, Docker-shaped JSON and records every request (method, target, headers,
body) in order, so tests can check the request sequence a client sends. Containers are
scripted: what a container writes once started, what it reads from stdin, its exit code.

    fake = FakeDaemon(tmp_path / "d.sock"); fake.start()
    fake.add_container("abc...", output=[(1, b"hi\\n")], exit_code=0)
    ...
    fake.requests  -> [Request(method, target, path, query, headers, body), ...]
    fake.stop()

Routes can be overridden per test: fake.route("GET", r"/containers/json", handler) where
handler(fake, req) returns (status, body) with body bytes/str/JSON-able, or None after
writing the response itself (req.wfile).
"""

import json
import os
import re
import socket
import socketserver
import threading
import time
import urllib.parse

API = "1.50"
ID = "0123456789ab" + "cdef" * 13  # 64 hex
IMAGE_ID = "sha256:" + "ab" * 32


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        u = urllib.parse.urlsplit(target)
        self.path = re.sub(r"^/v[0-9.]+", "", u.path)
        self.raw_path = u.path
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        self.raw_query = u.query
        self.headers = headers
        self.body = body
        self.wfile = None
        self.sock = None

    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"{self.method} {self.target}"


class Container:
    def __init__(self, cid, name="/test", output=(), exit_code=0, tty=False, echo_stdin=False,
                 running=False, image="busybox"):
        self.id = cid
        self.name = name
        self.output = list(output)
        self.exit_code = exit_code
        self.tty = tty
        self.echo_stdin = echo_stdin
        self.running = running
        self.image = image
        self.started = threading.Event()
        self.exited = threading.Event()
        self.attached = False
        self.stdin = b""
        self.stdin_done = threading.Event()
        self.create_body = None

    def inspect(self):
        return {
            "Id": self.id, "Name": self.name, "Created": "2025-01-01T00:00:00.000000000Z",
            "Path": "sh", "Args": [],
            "State": {"Status": "running" if self.running else "created",
                      "Running": self.running, "Paused": False, "Restarting": False,
                      "OOMKilled": False, "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "",
                      "StartedAt": "0001-01-01T00:00:00Z",
                      "FinishedAt": "0001-01-01T00:00:00Z"},
            "Image": IMAGE_ID,
            "Config": {"Tty": self.tty, "OpenStdin": False, "StdinOnce": False,
                       "Image": self.image, "Cmd": ["sh"], "Env": None, "Labels": {}},
            "HostConfig": {"AutoRemove": False, "LogConfig": {"Type": "json-file"},
                           "NetworkMode": "bridge"},
            "NetworkSettings": {"Ports": {}, "Networks": {}},
            "Mounts": [],
        }


def frame(stream, data):
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        fake = self.server.fake
        while True:
            line = self.rfile.readline()
            if not line:
                return
            line = line.decode("latin-1").rstrip("\r\n")
            if not line:
                continue
            try:
                method, target, _ = line.split(" ", 2)
            except ValueError:
                return
            headers = []
            while True:
                h = self.rfile.readline().decode("latin-1").rstrip("\r\n")
                if not h:
                    break
                k, _, v = h.partition(":")
                headers.append((k.strip(), v.strip()))
            hmap = {k.lower(): v for k, v in headers}
            body = b""
            if hmap.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline().strip():
                            pass
                        break
                    body += self.rfile.read(size)
                    self.rfile.readline()
            elif "content-length" in hmap:
                body = self.rfile.read(int(hmap["content-length"]))
            req = Request(method, target, headers, body)
            req.wfile = self.wfile
            req.rfile = self.rfile
            req.sock = self.request
            with fake.lock:
                fake.requests.append(req)
            try:
                keep = fake.dispatch(req)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client hung up (run -d abandons its /wait)
            if not keep:
                return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeDaemon:
    def __init__(self, path, api_version=API):
        self.path = str(path)
        self.api_version = api_version
        self.requests = []
        self.lock = threading.Lock()
        self.routes = []
        self.containers = {}
        self.images_present = {"busybox", "busybox:latest"}
        self.pulls = []
        self.server = None
        self.networks = {}  # name -> Docker-shaped network (GET /networks/{id})
        self.network_bodies = []  # POST /networks/create bodies

    # ---- lifecycle
    def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.server = _Server(self.path, _Handler)
        self.server.fake = self
        t = threading.Thread(target=self.server.serve_forever, daemon=True)
        t.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def host(self):
        return "unix://" + self.path

    def add_container(self, cid=ID, **kw):
        c = Container(cid, **kw)
        self.containers[cid] = c
        return c

    def add_network(self, name, nid=None, driver="bridge", scope="local", created=None,
                    subnet=None, gateway=None, labels=None, internal=False, ipv6=False,
                    containers=None, options=None):
        nid = nid or (name.encode().hex() * 64)[:64]
        ipam = []
        if subnet:
            ipam.append({"Subnet": subnet, "Gateway": gateway or ""})
        n = {"Name": name, "Id": nid, "Created": created or "2025-01-02T03:04:05.123456789Z",
             "Scope": scope, "Driver": driver, "EnableIPv4": True, "EnableIPv6": ipv6,
             "IPAM": {"Driver": "default", "Options": None, "Config": ipam},
             "Internal": internal, "Attachable": False, "Ingress": False,
             "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
             "Containers": containers or {}, "Options": options or {}, "Labels": labels or {}}
        self.networks[name] = n
        return n

    def find_network(self, ref):
        ref = urllib.parse.unquote(ref)
        for n in self.networks.values():
            if n["Name"] == ref or n["Id"] == ref:
                return n
        for n in self.networks.values():
            if n["Id"].startswith(ref):
                return n
        return None

    def network_route(self, req):
        """The /networks endpoints, moby's answers and messages."""
        p, m = req.path, req.method
        if p == "/networks" and m == "GET":
            return self.send(req, 200, [{k: v for k, v in n.items() if k != "Containers"}
                                        | {"Containers": {}} for n in self.networks.values()])
        if p == "/networks/create" and m == "POST":
            body = req.json()
            self.network_bodies.append(body)
            name = body.get("Name", "")
            if name in self.networks:
                return self.error(req, 409, f"network with name {name} already exists")
            n = self.add_network(name, driver=body.get("Driver") or "bridge",
                                 labels=body.get("Labels"))
            return self.send(req, 201, {"Id": n["Id"], "Warning": ""})
        if p == "/networks/prune" and m == "POST":
            gone = [n["Name"] for n in self.networks.values()
                    if n["Name"] not in ("bridge", "host", "none") and not n["Containers"]]
            for name in gone:
                del self.networks[name]
            return self.send(req, 200, {"NetworksDeleted": gone or None})
        mm = re.match(r"^/networks/([^/]+)(?:/(connect|disconnect))?$", p)
        if not mm:
            return None
        n = self.find_network(mm.group(1))
        if n is None:
            return self.error(req, 404, f"network {urllib.parse.unquote(mm.group(1))} not found")
        if mm.group(2) and m == "POST":
            c = self.find(req.json().get("Container", ""))
            if c is None:
                return self.error(req, 404, f"No such container: {req.json().get('Container')}")
            return self.send(req, 200)
        if m == "GET":
            return self.send(req, 200, n)
        if m == "DELETE":
            if n["Name"] in ("bridge", "host", "none"):
                return self.error(req, 403, f"{n['Name']} is a pre-defined network and "
                                            "cannot be removed")
            del self.networks[n["Name"]]
            return self.send(req, 204)
        return None

    def route(self, method, pattern, handler):
        self.routes.insert(0, (method, re.compile("^" + pattern + "$"), handler))

    def paths(self):
        """The requests as 'METHOD /path?query' without the version prefix."""
        return [f"{r.method} {r.path}" + (f"?{r.raw_query}" if r.raw_query else "")
                for r in self.requests]

    # ---- responses
    def send(self, req, status, body=None, content_type="application/json", extra=()):
        reason = {200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified",
                  400: "Bad Request", 404: "Not Found", 409: "Conflict",
                  500: "Internal Server Error"}.get(status, "OK")
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = (json.dumps(body) + "\n").encode()
        head = [f"HTTP/1.1 {status} {reason}", f"Api-Version: {self.api_version}",
                "Ostype: linux", "Server: Docker/28.2.2 (linux)", "Docker-Experimental: false"]
        if data or status not in (204, 304):
            if body is not None:
                head.append(f"Content-Type: {content_type}")
        head.extend(extra)
        head.append(f"Content-Length: {len(data)}")
        req.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + (b"" if req.method == "HEAD" else data))
        req.wfile.flush()
        return True

    def error(self, req, status, message):
        return self.send(req, status, {"message": message})

    def stream_begin(self, req, content_type="application/json"):
        head = [f"HTTP/1.1 200 OK", f"Api-Version: {self.api_version}",
                f"Content-Type: {content_type}", "Transfer-Encoding: chunked"]
        req.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode())
        req.wfile.flush()

    def stream_chunk(self, req, data):
        if isinstance(data, str):
            data = data.encode()
        if not data:
            return
        req.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        req.wfile.flush()

    def stream_end(self, req):
        req.wfile.write(b"0\r\n\r\n")
        req.wfile.flush()

    def dispatch(self, req):
        for method, pat, handler in self.routes:
            if method == req.method and pat.match(req.path):
                res = handler(self, req)
                if res is None:
                    return False
                status, body = res
                return self.send(req, status, body)
        return self.default(req)

    def find(self, ref):
        ref = urllib.parse.unquote(ref)
        for c in self.containers.values():
            if c.id.startswith(ref) or c.name.lstrip("/") == ref.lstrip("/"):
                return c
        return None

    def default(self, req):
        p, m = req.path, req.method
        if p == "/_ping":
            return self.send(req, 200, "OK", "text/plain; charset=utf-8",
                             ["Builder-Version: 1", "Swarm: inactive"])
        if p == "/version":
            return self.send(req, 200, {
                "Platform": {"Name": "Fake Engine"}, "Version": "28.2.2",
                "ApiVersion": self.api_version, "MinAPIVersion": "1.24", "GitCommit": "fake",
                "GoVersion": "go1.24", "Os": "linux", "Arch": "amd64",
                "KernelVersion": "6.1.0", "BuildTime": "2025-05-30T12:07:18.000000000+00:00"})
        if p == "/info":
            return self.send(req, 200, {"Containers": 1, "ContainersRunning": 1,
                                        "ContainersPaused": 0, "ContainersStopped": 0,
                                        "Images": 1, "ServerVersion": "28.2.2",
                                        "Driver": "overlay2", "NCPU": 2,
                                        "MemTotal": 8 * 1024 ** 3, "Name": "fake",
                                        "OSType": "linux", "Warnings": ["WARNING: fake"]})
        if p in ("/containers/json", "/images/json") and m == "GET":
            return self.send(req, 200, [])
        if p == "/containers/create" and m == "POST":
            body = req.json()
            image = body.get("Image", "")
            if image not in self.images_present:
                tag = image if ":" in image.split("/")[-1] else image + ":latest"
                return self.error(req, 404, f"No such image: {tag}")
            name = req.query.get("name", [None])[0]
            c = self.containers.get(ID) or self.add_container(ID)
            if name:
                c.name = "/" + name
            c.create_body = body
            c.tty = body.get("Tty", False)
            return self.send(req, 201, {"Id": c.id, "Warnings": []})
        if p == "/images/create" and m == "POST":
            self.pulls.append(req.query)
            name = req.query.get("fromImage", [""])[0]
            if "nosuch" in name:
                return self.error(req, 404, "pull access denied for nosuch, repository does "
                                            "not exist or may require 'docker login'")
            short = name.rsplit("/", 1)[-1]
            self.images_present.add(short)
            self.stream_begin(req)
            tag = req.query.get("tag", ["latest"])[0]
            for msg in [{"status": f"Pulling from library/{short}", "id": tag},
                        {"status": "Pulling fs layer", "progressDetail": {}, "id": "a46fbb00284b"},
                        {"status": "Downloading", "progressDetail": {"current": 10, "total": 20},
                         "progress": "[==>  ]", "id": "a46fbb00284b"},
                        {"status": "Pull complete", "progressDetail": {}, "id": "a46fbb00284b"},
                        {"status": "Digest: sha256:" + "cd" * 32},
                        {"status": f"Status: Downloaded newer image for {short}:{tag}"}]:
                self.stream_chunk(req, json.dumps(msg) + "\r\n")
            self.stream_end(req)
            return True
        if p.startswith("/networks"):
            res = self.network_route(req)
            if res is not None:
                return res
        mm = re.match(r"^/containers/([^/]+)/(\w+)$", p)
        if mm:
            c = self.find(mm.group(1))
            verb = mm.group(2)
            if c is None:
                return self.error(req, 404, f"No such container: {urllib.parse.unquote(mm.group(1))}")
            return self.container_verb(req, c, verb)
        mm = re.match(r"^/containers/([^/]+)$", p)
        if mm and m == "DELETE":
            c = self.find(mm.group(1))
            if c is None:
                return self.error(req, 404, f"No such container: {urllib.parse.unquote(mm.group(1))}")
            return self.send(req, 204)
        return self.error(req, 404, f"page not found: {m} {p}")

    def container_verb(self, req, c, verb):
        if verb == "json":
            return self.send(req, 200, c.inspect())
        if verb == "attach":
            return self.attach(req, c)
        if verb == "wait":
            self.stream_begin(req)
            c.exited.wait(20)
            self.stream_chunk(req, json.dumps({"StatusCode": c.exit_code, "Error": None}) + "\n")
            self.stream_end(req)
            return True
        if verb == "start":
            c.started.set()
            if not c.attached:
                threading.Thread(target=lambda: (time.sleep(0.05), c.exited.set()),
                                 daemon=True).start()
            return self.send(req, 204)
        if verb in ("stop", "restart", "kill", "pause", "unpause", "resize", "rename"):
            return self.send(req, 204 if verb != "resize" else 200)
        return self.error(req, 404, f"page not found: {verb}")

    def attach(self, req, c):
        ctype = ("application/vnd.docker.raw-stream" if c.tty
                 else "application/vnd.docker.multiplexed-stream")
        req.wfile.write(("HTTP/1.1 101 UPGRADED\r\nContent-Type: " + ctype +
                         "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n").encode())
        req.wfile.flush()
        c.attached = True
        want_stdin = req.query.get("stdin", ["0"])[0] == "1"

        def read_stdin():
            data = b""
            while True:
                try:
                    chunk = req.rfile.read1(65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            c.stdin = data
            c.stdin_done.set()

        reader = threading.Thread(target=read_stdin, daemon=True)
        reader.start()
        c.started.wait(20)
        if want_stdin and c.echo_stdin:
            c.stdin_done.wait(5)
            c.output = list(c.output) + [(1, c.stdin)]
        for stream, data in c.output:
            req.wfile.write(data if c.tty else frame(stream, data))
        req.wfile.flush()
        try:
            req.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        c.stdin_done.wait(2)
        c.exited.set()
        return False
