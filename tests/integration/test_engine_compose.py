"""docker-compose 1.29.2 (Debian's, on docker-py 5) against a private berthd with networking.

berthd runs in a network namespace standing in for the host, as in test_engine_network.py
(its Netns and wait_http are reused): the project's default network, veths, published ports
and nft rules live there. compose runs with DOCKER_HOST on berthd's socket, a private HOME,
`-p <project> -f <file>` in a tmp folder and a timeout on every call.

compose 1.x asks GET /version and then speaks the daemon's newest API (1.50 here); from 1.45
on dockerd no longer sends an image's ContainerConfig, which compose 1.x reads when it
recreates a container (KeyError 'ContainerConfig' against dockerd 26 and later too). Its
users pin COMPOSE_API_VERSION below 1.45, and so do these tests; berthd then sends the
legacy fields as dockerd does.
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import engine
import helpers
from test_engine_network import netns_daemon, wait_http

COMPOSE = shutil.which("docker-compose") or "/usr/bin/docker-compose"
API = "1.44"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="compose tests need root"),
    pytest.mark.skipif(not shutil.which("ip") or not shutil.which("nft"), reason="needs ip and nft"),
    pytest.mark.skipif(not os.path.exists(COMPOSE), reason="needs docker-compose"),
]


@pytest.fixture(scope="module")
def compose_daemon(busybox_rootfs):
    with netns_daemon(f"berth-c{os.getpid()}", prefix="bc-", what="compose test") as d:
        yield d


def api_json(d, path):
    st, _, body = d.api("GET", path)
    assert st == 200, body
    return json.loads(body)


def containers(d):
    return api_json(d, "/v1.50/containers/json?all=1")


def user_networks(d):
    return [n["Name"] for n in api_json(d, "/v1.50/networks")
            if n["Name"] not in ("bridge", "host", "none")]


class Compose:
    def __init__(self, d, tmp, project):
        self.d = d
        self.api = API  # None: compose negotiates (GET /version), as most users run it
        self.project = project
        self.dir = Path(tmp) / project
        self.dir.mkdir()
        self.home = Path(tmp) / "home"
        self.home.mkdir(exist_ok=True)
        self.file = self.dir / "docker-compose.yml"

    def write(self, text):
        self.file.write_text(text)

    def env(self):
        # run and exec go through the docker CLI, compose's default (its own
        # COMPOSE_INTERACTIVE_NO_CLI path attaches only after the start: a fast container's
        # output is lost, against any engine)
        path = os.path.dirname(engine.DOCKER) + ":" + os.environ.get("PATH", "/usr/bin:/bin")
        return {"PATH": path, "HOME": str(self.home), "DOCKER_HOST": self.d.host,
                **({"COMPOSE_API_VERSION": self.api} if self.api else {})}

    def __call__(self, *args, check=True, timeout=90):
        p = subprocess.run([COMPOSE, "--no-ansi", "-p", self.project, "-f", str(self.file)]
                           + [str(a) for a in args], cwd=self.dir, env=self.env(),
                           capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"docker-compose {args}: rc={p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}")
        return p

    def inspect(self, service, index=1):
        return api_json(self.d, f"/v1.50/containers/{self.project}_{service}_{index}/json")


@pytest.fixture
def compose(compose_daemon, tmp_path):
    """A project in a fresh folder; afterwards nothing of it may be left: containers,
    networks, veths (what a test leaves is removed, then reported)."""
    c = Compose(compose_daemon, tmp_path, f"cp{os.getpid() % 1000}{int(time.monotonic() * 1000) % 10000}")
    yield c
    d = compose_daemon
    problems = []
    left = containers(d)
    if left:
        problems.append("containers: " + ", ".join(n for x in left for n in x["Names"]))
        c("down", "-t", "1", "--remove-orphans", check=False)
        for x in containers(d):
            d.api("DELETE", f"/v1.50/containers/{x['Id']}?force=1")
    nets = user_networks(d)
    if nets:
        problems.append(f"networks: {nets}")
        for n in nets:
            d.api("DELETE", f"/v1.50/networks/{n}")
    veths = d.ns.veths()
    if veths:
        problems.append(f"veths: {veths}")
    assert not problems, "left behind: " + "; ".join(problems)


def lab_hash(c):
    return c["Config"]["Labels"].get("com.docker.compose.config-hash")


def wait_until(what, cond, timeout=30.0, step=0.1):
    return helpers.wait_for(cond, timeout=timeout, step=step, what=what)


APP = """\
version: "3.8"
services:
  web:
    image: busybox
    command: httpd -f -p 80 -h /www
    stop_grace_period: 1s
    volumes:
      - ./www:/www:ro
    ports:
      - "127.0.0.1:18080:80"
    environment:
      GREETING: {greeting}
    labels:
      com.example.role: web
    tmpfs:
      - /scratch
    restart: always
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 1s
      timeout: 2s
      retries: 20
  client:
    image: busybox
    command: ["sh", "-c", "wget -qO- http://web/; trap 'exit 0' TERM; sleep 300 & wait"]
    stop_grace_period: 1s
    depends_on:
      web:
        condition: service_healthy
"""


def test_project_lifecycle(compose):
    d = compose.d
    (compose.dir / "www").mkdir()
    (compose.dir / "www" / "index.html").write_text("hello-compose\n")
    compose.write(APP.format(greeting="hi"))

    out = compose("up", "-d")
    assert "Creating network" in out.stderr, out.stderr
    web, client = compose.inspect("web"), compose.inspect("client")
    # depends_on with service_healthy: web was healthy before client was created
    assert web["State"]["Health"]["Status"] == "healthy"
    assert client["State"]["Running"] and client["State"]["StartedAt"] > web["State"]["StartedAt"]
    assert lab_hash(web) and lab_hash(client)
    assert compose.project + "_default" in user_networks(d)
    assert set(web["NetworkSettings"]["Networks"]) == {compose.project + "_default"}
    # what compose set on the container, as docker inspect shows it
    lab = web["Config"]["Labels"]
    assert lab["com.example.role"] == "web"
    assert lab["com.docker.compose.project"] == compose.project
    assert lab["com.docker.compose.service"] == "web"
    assert "GREETING=hi" in web["Config"]["Env"]
    assert web["Config"]["Cmd"] == ["httpd", "-f", "-p", "80", "-h", "/www"]
    assert web["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert web["HostConfig"]["Tmpfs"] == {"/scratch": ""}
    assert any(m["Type"] == "bind" and m["Destination"] == "/www" and m["RW"] is False
               for m in web["Mounts"]), web["Mounts"]

    # the client reached web by its service name on the project network
    logs = wait_until("client's output",
                      lambda: (lambda o: "hello-compose" in o and o)(compose("logs", "--no-color", "client").stdout))
    assert "client_1" in logs
    # the published port, from the host's side
    assert "hello-compose" in wait_http(d.ns, 18080, "/index.html")

    ps = compose("ps").stdout
    assert f"{compose.project}_web_1" in ps and "Up (healthy)" in ps
    assert "127.0.0.1:18080->80/tcp" in ps
    assert len(compose("ps", "-q").stdout.split()) == 2

    out = compose("exec", "-T", "web", "sh", "-c", "echo $GREETING; grep ' /scratch ' /proc/mounts").stdout
    assert out.startswith("hi\n") and "tmpfs" in out
    p = compose("exec", "-T", "web", "sh", "-c", "exit 7", check=False)
    assert p.returncode == 7

    out = compose("run", "--rm", "-T", "client", "sh", "-c", "wget -qO- http://web/ && echo ran-ok").stdout
    assert "hello-compose" in out and "ran-ok" in out
    assert sorted(n for x in containers(d) for n in x["Names"]) == \
        sorted([f"/{compose.project}_web_1", f"/{compose.project}_client_1"])

    compose("stop", "-t", "2")
    assert {x["State"] for x in containers(d)} == {"exited"}
    compose("start")
    wait_until("web healthy again", lambda: compose.inspect("web")["State"].get("Health", {}).get("Status") == "healthy")
    assert "hello-compose" in wait_http(d.ns, 18080, "/index.html")

    # up again with nothing changed: nothing recreated (compose compares its config-hash label)
    ids = {s: compose.inspect(s)["Id"] for s in ("web", "client")}
    out = compose("up", "-d")
    assert "is up-to-date" in out.stderr and "Recreating" not in out.stderr, out.stderr
    assert {s: compose.inspect(s)["Id"] for s in ("web", "client")} == ids

    # a change to web recreates web only
    compose.write(APP.format(greeting="changed"))
    out = compose("up", "-d")
    assert f"Recreating {compose.project}_web_1" in out.stderr, out.stderr
    assert compose.inspect("web")["Id"] != ids["web"]
    assert compose.inspect("client")["Id"] == ids["client"]
    assert compose("exec", "-T", "web", "sh", "-c", "echo $GREETING").stdout == "changed\n"
    assert "hello-compose" in wait_http(d.ns, 18080, "/index.html")
    assert len(containers(d)) == 2

    out = compose("down", "-t", "2")
    assert f"Removing network {compose.project}_default" in out.stderr, out.stderr
    assert containers(d) == [] and user_networks(d) == []
    assert d.ns.veths() == []
    assert "18080" not in d.ns.nft()
    # the host folder stays, as with dockerd
    assert (compose.dir / "www" / "index.html").read_text() == "hello-compose\n"


def test_restart_always_restarts_a_service_that_exits(compose):
    """Also compose as most run it: the API version it negotiates (1.50), no pin."""
    d = compose.d
    compose.api = None
    (compose.dir / "data").mkdir()
    compose.write("""\
version: "3.8"
services:
  flaky:
    image: busybox
    command: ["sh", "-c", "echo run >> /data/runs; sleep 0.2; exit 3"]
    restart: always
    volumes:
      - ./data:/data
""")
    compose("up", "-d")
    runs = compose.dir / "data" / "runs"
    wait_until("two restarts", lambda: runs.exists() and runs.read_text().count("run") >= 3)
    assert compose.inspect("flaky")["RestartCount"] >= 2
    compose("down", "-t", "1")
    assert containers(d) == [] and user_networks(d) == []


def test_named_volume_fails_clearly(compose):
    """Named volumes are not supported yet: compose stops at the volume with berthd's
    message, and no container is made. (compose makes the project network before it
    turns to volumes, against dockerd too; `down` removes it.)"""
    d = compose.d
    compose.write("""\
version: "3.8"
services:
  app:
    image: busybox
    command: sleep 300
    volumes:
      - data:/data
volumes:
  data: {}
""")
    p = compose("up", "-d", check=False)
    assert p.returncode != 0
    assert "named volumes are not supported by berth yet" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    assert containers(d) == []
    assert api_json(d, "/v1.50/volumes")["Volumes"] in (None, [])
    compose("down", "-t", "1")
    assert containers(d) == [] and user_networks(d) == []


def test_legacy_image_fields_below_1_45(compose_daemon):
    """The ContainerConfig compose 1.x needs for a recreate: sent below API 1.45 only,
    as dockerd does."""
    d = compose_daemon
    old = api_json(d, "/v1.44/images/busybox/json")
    assert old["ContainerConfig"]["Volumes"] is None and old["Container"] == ""
    new = api_json(d, "/v1.45/images/busybox/json")
    assert "ContainerConfig" not in new and "Container" not in new
