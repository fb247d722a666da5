"""Networks through berthd (issue 5), as root.

berthd runs inside a network namespace the test makes (it stands in for the host): the
default bridge berth0, user bridges, veths, the nft table and published ports all live
there, and every request the test sends goes to that namespace's loopback or to the
containers' addresses in it. Nothing is routed anywhere else: the namespace has no
interface but lo and the bridges berthd makes. Teardown removes the containers and the
namespace and checks that berthd's own teardown left no veth and no port rule behind.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import engine

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network tests need root"),
    pytest.mark.skipif(not shutil.which("ip") or not shutil.which("nft"), reason="needs ip and nft"),
]

PY = "/usr/bin/python3"


# ---- the namespace standing in for the host -----------------------------------

class Netns:
    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.run("ip", "link", "set", "lo", "up")

    def run(self, *args, check=True, timeout=30, input=None):
        p = subprocess.run(["ip", "netns", "exec", self.name] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"{args}: rc={p.returncode} {p.stderr}")
        return p

    def links(self):
        out = self.run("ip", "-o", "link", "show").stdout
        return [re.split(r"[:@]", l.split(": ", 1)[1])[0] for l in out.splitlines()]

    def veths(self, settle=5.0):
        """The host ends of veth pairs. A container's pair goes when the kernel tears its
        namespace down, shortly after its last process: wait for that (bounded)."""
        deadline = time.monotonic() + settle
        while True:
            left = [l for l in self.links() if l.startswith("veth")]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.05)

    def nft(self):
        return self.run("nft", "list", "ruleset").stdout

    def http_get(self, port, path="/", host="127.0.0.1", timeout=3.0):
        """GET from the namespace's side (the "host"), bounded by timeout."""
        code = ("import urllib.request,sys\n"
                f"print(urllib.request.urlopen('http://{host}:{port}{path}', timeout={timeout}).read().decode())")
        return self.run(PY, "-c", code, check=False, timeout=timeout + 10)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@contextlib.contextmanager
def netns_daemon(ns_name, prefix="bn-", what="network test"):
    """A berthd (busybox imported) in a fresh namespace ns_name, as d.ns; afterwards the
    daemon's cleanup, then a check that no veth is left, then the namespace goes."""
    ns = Netns(ns_name)
    tmp = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    d = engine.Berthd(tmp, netns=ns.name)
    d.ns = ns
    try:
        d.start()
        d.import_busybox()
        yield d
    finally:
        problems = d.cleanup()
        # berthd is down: what it made for containers must be gone
        left = ns.veths()
        ns.delete()
        shutil.rmtree(tmp, ignore_errors=True)
        if left:
            problems.append(f"veths left: {left}")
        if problems:
            pytest.fail(f"{what} left things behind: " + "; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def net_daemon(tmp_path_factory, busybox_rootfs):
    with netns_daemon(f"berth-t{os.getpid()}") as d:
        yield d


@pytest.fixture
def nd(net_daemon):
    """The module's daemon; each test removes its containers and networks."""
    yield net_daemon
    st, _, body = net_daemon.api("GET", "/v1.50/containers/json?all=1")
    for c in json.loads(body):
        net_daemon.api("DELETE", f"/v1.50/containers/{c['Id']}?force=1")
    st, _, body = net_daemon.api("GET", "/v1.50/networks")
    for n in json.loads(body):
        if n["Name"] not in ("bridge", "host", "none"):
            net_daemon.api("DELETE", f"/v1.50/networks/{n['Id']}")
    assert net_daemon.ns.veths() == []


def b(d, *args, check=True, timeout=60):
    return d.berth(*args, check=check, timeout=timeout)


def dk(d, *args, check=True, timeout=60):
    return d.docker(*args, check=check, timeout=timeout)


def api_json(d, method, path, body=None):
    st, _, out = d.api(method, path, body=json.dumps(body).encode() if body is not None else None,
                       headers={"Content-Type": "application/json"} if body is not None else None)
    return st, (json.loads(out) if out.strip() else None)


def inspect(d, ref):
    st, o = api_json(d, "GET", f"/v1.50/containers/{ref}/json")
    assert st == 200, o
    return o


def wait_http(ns, port, path="/", tries=50):
    last = None
    for _ in range(tries):
        last = ns.http_get(port, path, timeout=1.0)
        if last.returncode == 0:
            return last.stdout
        time.sleep(0.1)
    raise AssertionError(f"no answer on port {port}: {last.stderr[-500:]}")


# ---- acceptance 1: names, aliases, modes, connect and disconnect ---------------

def test_user_network_names_and_aliases(nd):
    dk(nd, "network", "create", "appnet")
    dk(nd, "run", "-d", "--name", "db", "--network", "appnet", "--network-alias", "database",
       "busybox", "sleep", "60")
    out = dk(nd, "run", "--rm", "--network", "appnet", "busybox", "sh", "-c",
             "ping -c1 -W2 db >/dev/null && echo byname; ping -c1 -W2 database >/dev/null && echo byalias;"
             " nslookup db 127.0.0.11 | grep -c Address").stdout
    assert "byname" in out and "byalias" in out
    ip = inspect(nd, "db")["NetworkSettings"]["Networks"]["appnet"]["IPAddress"]
    assert ip.startswith("172.")
    # the resolver also answers for the short id
    short = inspect(nd, "db")["Id"][:12]
    out = dk(nd, "run", "--rm", "--network", "appnet", "busybox", "nslookup", short, "127.0.0.11").stdout
    assert ip in out


def test_default_bridge_does_not_resolve_names(nd):
    dk(nd, "run", "-d", "--name", "peer", "busybox", "sleep", "60")
    peer_ip = inspect(nd, "peer")["NetworkSettings"]["IPAddress"]
    assert peer_ip
    p = dk(nd, "run", "--rm", "busybox", "ping", "-c1", "-W1", "peer", check=False)
    assert p.returncode != 0
    # ...but the address itself is reachable on the bridge
    out = dk(nd, "run", "--rm", "busybox", "ping", "-c1", "-W2", peer_ip).stdout
    assert "1 packets received" in out
    r = dk(nd, "run", "--rm", "busybox", "cat", "/etc/resolv.conf").stdout
    assert "127.0.0.11" not in r


def test_none_has_only_lo_and_host_sees_the_host(nd):
    out = dk(nd, "run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net").stdout.split()
    assert out == ["lo"]
    links = set(nd.ns.links())
    out = set(dk(nd, "run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net").stdout.split())
    assert "berth0" in out and out >= {"lo"} and out == links


def test_default_bridge_address_and_hosts(nd):
    dk(nd, "run", "-d", "--name", "c1", "--hostname", "alpha", "--add-host", "db.example:10.9.8.7",
       "busybox", "sleep", "60")
    ns = inspect(nd, "c1")["NetworkSettings"]
    assert ns["Networks"]["bridge"]["IPAddress"] == ns["IPAddress"]
    assert ns["Gateway"] and ns["MacAddress"].startswith("02:42:")
    hosts = dk(nd, "exec", "c1", "cat", "/etc/hosts").stdout
    assert re.search(rf"^{re.escape(ns['IPAddress'])}\talpha$", hosts, re.M)
    assert "10.9.8.7\tdb.example" in hosts
    addr = dk(nd, "exec", "c1", "ip", "-4", "-o", "addr", "show", "eth0").stdout
    assert ns["IPAddress"] + "/" in addr
    route = dk(nd, "exec", "c1", "ip", "route").stdout
    assert f"default via {ns['Gateway']}" in route


def test_legacy_links_on_the_default_bridge(nd):
    """--link name:alias: the child's address in /etc/hosts (alias, hostname, name) and its
    variables in the environment, as dockerd gives them; rm --link drops the link only."""
    dk(nd, "run", "-d", "--name", "ldb", "--expose", "5432", "--expose", "53/udp",
       "--expose", "7000-7002", "-e", "SECRET=s3", "busybox", "sleep", "60")
    child = inspect(nd, "ldb")
    ip = child["NetworkSettings"]["IPAddress"]
    hn = child["Config"]["Hostname"]
    dk(nd, "run", "-d", "--name", "lweb", "--link", "ldb:my-db", "busybox", "sleep", "60")
    assert inspect(nd, "lweb")["HostConfig"]["Links"] == ["/ldb:/lweb/my-db"]
    hosts = dk(nd, "exec", "lweb", "cat", "/etc/hosts").stdout
    assert f"{ip}\tmy-db {hn} ldb\n" in hosts, hosts
    env = dict(l.split("=", 1) for l in dk(nd, "exec", "lweb", "env").stdout.split("\n") if "=" in l)
    assert env["MY_DB_PORT"] == f"tcp://{ip}:53" or env["MY_DB_PORT"] == f"udp://{ip}:53"
    assert env["MY_DB_PORT_5432_TCP"] == f"tcp://{ip}:5432"
    assert env["MY_DB_PORT_5432_TCP_ADDR"] == ip
    assert env["MY_DB_PORT_5432_TCP_PORT"] == "5432"
    assert env["MY_DB_PORT_5432_TCP_PROTO"] == "tcp"
    assert env["MY_DB_PORT_53_UDP_PROTO"] == "udp"
    assert env["MY_DB_NAME"] == "/lweb/my-db"
    assert env["MY_DB_ENV_SECRET"] == "s3"
    # three consecutive ports: a range as well
    assert env["MY_DB_PORT_7000_TCP_START"] == f"tcp://{ip}:7000"
    assert env["MY_DB_PORT_7000_TCP_END"] == f"tcp://{ip}:7002"
    assert env["MY_DB_PORT_7000_TCP_PORT_START"] == "7000"
    assert env["MY_DB_PORT_7000_TCP_PORT_END"] == "7002"
    assert env["MY_DB_PORT_7001_TCP_ADDR"] == ip
    assert "MY_DB_ENV_PATH" not in env
    out = dk(nd, "exec", "lweb", "ping", "-c1", "-W2", "my-db").stdout
    assert "1 packets received" in out
    # without an alias the name is the alias (and not written twice)
    out = dk(nd, "run", "--rm", "--link", "ldb", "busybox", "grep", "ldb", "/etc/hosts").stdout
    assert out == f"{ip}\tldb {hn}\n"
    # rm --link: the link goes, both containers stay
    dk(nd, "rm", "--link", "/lweb/my-db")
    assert inspect(nd, "lweb")["HostConfig"]["Links"] is None
    assert inspect(nd, "ldb")["State"]["Running"]


def test_link_errors(nd):
    p = dk(nd, "run", "--rm", "--link", "nosuch:x", "busybox", "true", check=False)
    assert p.returncode == 125
    assert "could not get container for nosuch" in p.stderr
    assert "Unable to find image" not in p.stderr
    dk(nd, "create", "--name", "lstopped", "busybox", "true")
    p = dk(nd, "run", "--rm", "--link", "lstopped:s", "busybox", "true", check=False)
    assert p.returncode != 0
    assert "Cannot link to a non running container: /lstopped AS " in p.stderr
    p = dk(nd, "run", "--rm", "--network", "host", "--link", "lstopped:s", "busybox", "true",
           check=False)
    assert p.returncode == 125
    assert "conflicting options: host type networking can't be used with links" in p.stderr
    p = dk(nd, "rm", "--link", "/lstopped/nolink", check=False)
    assert p.returncode != 0
    assert inspect(nd, "lstopped")["Name"] == "/lstopped"


def test_connect_disconnect_running(nd):
    dk(nd, "network", "create", "--subnet", "10.123.0.0/24", "side")
    dk(nd, "run", "-d", "--name", "srv", "--network", "side", "--ip", "10.123.0.50", "busybox", "sleep", "60")
    dk(nd, "run", "-d", "--name", "cli", "busybox", "sleep", "60")
    assert dk(nd, "exec", "cli", "ping", "-c1", "-W1", "10.123.0.50", check=False).returncode != 0
    dk(nd, "network", "connect", "--alias", "sidekick", "side", "cli")
    cinfo = inspect(nd, "cli")["NetworkSettings"]["Networks"]
    assert set(cinfo) == {"bridge", "side"}
    assert cinfo["side"]["IPAddress"].startswith("10.123.0.")
    out = dk(nd, "exec", "cli", "ping", "-c1", "-W2", "srv").stdout
    assert "10.123.0.50" in out
    out = dk(nd, "exec", "srv", "nslookup", "sidekick", "127.0.0.11").stdout
    assert cinfo["side"]["IPAddress"] in out
    members = json.loads(dk(nd, "network", "inspect", "side").stdout)[0]["Containers"]
    assert {v["Name"] for v in members.values()} == {"srv", "cli"}
    dk(nd, "network", "disconnect", "side", "cli")
    assert set(inspect(nd, "cli")["NetworkSettings"]["Networks"]) == {"bridge"}
    assert dk(nd, "exec", "cli", "ping", "-c1", "-W1", "10.123.0.50", check=False).returncode != 0
    assert "eth1" not in dk(nd, "exec", "cli", "ls", "/sys/class/net").stdout
    p = dk(nd, "network", "disconnect", "side", "cli", check=False)
    assert p.returncode != 0 and "is not connected to network side" in p.stderr


def test_container_mode_shares_the_namespace(nd):
    dk(nd, "run", "-d", "--name", "owner", "busybox", "sleep", "60")
    ip = inspect(nd, "owner")["NetworkSettings"]["IPAddress"]
    out = dk(nd, "run", "--rm", "--network", "container:owner", "busybox", "ip", "-4", "-o", "addr").stdout
    assert ip + "/" in out


# ---- acceptance 2: published ports --------------------------------------------------

def test_publish_httpd_on_loopback(nd):
    dk(nd, "run", "-d", "--name", "web", "-p", "127.0.0.1:8080:80", "busybox",
       "sh", "-c", "echo hello-from-web > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    assert "hello-from-web" in wait_http(nd.ns, 8080, "/index.html")
    assert dk(nd, "port", "web").stdout.strip() == "80/tcp -> 127.0.0.1:8080"
    ports = inspect(nd, "web")["NetworkSettings"]["Ports"]
    assert ports == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    # a second container cannot take the same host port
    p = dk(nd, "run", "-d", "--name", "web2", "-p", "127.0.0.1:8080:80", "busybox", "sleep", "5", check=False)
    assert p.returncode != 0 and "port is already allocated" in p.stderr
    dk(nd, "rm", "-f", "web")
    assert "8080" not in nd.ns.nft()


def test_publish_random_port_and_publish_all(nd):
    dk(nd, "run", "-d", "--name", "rnd", "-p", "80", "--expose", "81", "-P", "busybox",
       "sh", "-c", "echo rnd > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    ports = inspect(nd, "rnd")["NetworkSettings"]["Ports"]
    hp = int(ports["80/tcp"][0]["HostPort"])
    assert hp > 0 and ports["80/tcp"][0]["HostIp"] == "0.0.0.0"
    assert int(ports["81/tcp"][0]["HostPort"]) > 0
    line = dk(nd, "port", "rnd", "80").stdout.splitlines()[0]
    assert line == f"0.0.0.0:{hp}"
    assert "rnd" in wait_http(nd.ns, hp, "/index.html")
    ps = json.loads(dk(nd, "ps", "--format", "{{json .}}").stdout.splitlines()[0])
    assert f"0.0.0.0:{hp}->80/tcp" in ps["Ports"]


UDP_ECHO_C = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
/* udp-echo PORT: print what arrives and send it back; at most 20 datagrams, 60 s. */
int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[512];
	alarm(60);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 1;
	for (int i = 0; i < 20; i++) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&peer, &pl);
		if (n < 0)
			return 1;
		buf[n] = 0;
		printf("udp got %s", buf);
		fflush(stdout);
		sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&peer, pl);
	}
	return 0;
}
"""


@pytest.fixture(scope="module")
def udp_echo(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("needs a C compiler for the static UDP echo server")
    d = tmp_path_factory.mktemp("udpecho")
    (d / "udp-echo.c").write_text(UDP_ECHO_C)
    subprocess.run([cc, "-static", "-O2", "-o", str(d / "udp-echo"), str(d / "udp-echo.c")], check=True)
    return d


def test_publish_udp(nd, udp_echo):
    dk(nd, "run", "-d", "--name", "udp", "-p", "127.0.0.1:9053:53/udp", "-v", f"{udp_echo}:/x:ro",
       "busybox", "/x/udp-echo", "53")
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(0.5)\n"
            "for i in range(20):\n"
            "    s.sendto(b'ping-over-udp\\n',('127.0.0.1',9053))\n"
            "    try:\n"
            "        print(s.recvfrom(512)[0].decode()); break\n"
            "    except socket.timeout: pass\n")
    out = nd.ns.run(PY, "-c", code).stdout
    assert "ping-over-udp" in out
    assert "udp got ping-over-udp" in dk(nd, "logs", "udp").stdout
    assert dk(nd, "port", "udp").stdout.strip() == "53/udp -> 127.0.0.1:9053"


# ---- acceptance 3: docker CLI and docker-py -------------------------------------

def test_docker_cli_network_commands(nd):
    out = dk(nd, "network", "create", "--subnet", "10.124.0.0/24", "--gateway", "10.124.0.254",
             "--label", "team=blue", "clinet").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", out)
    ls = dk(nd, "network", "ls").stdout
    assert re.search(r"^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$", ls, re.M)
    for name, drv in (("bridge", "bridge"), ("host", "host"), ("none", "null"), ("clinet", "bridge")):
        assert re.search(rf"^[0-9a-f]{{12}}\s+{name}\s+{drv}\s+local$", ls, re.M), ls
    assert dk(nd, "network", "ls", "-q", "--filter", "label=team=blue").stdout.strip() == out[:12]
    info = json.loads(dk(nd, "network", "inspect", "clinet").stdout)[0]
    assert info["IPAM"]["Config"] == [{"Subnet": "10.124.0.0/24", "Gateway": "10.124.0.254"}]
    assert info["Labels"] == {"team": "blue"}
    p = dk(nd, "network", "create", "clinet", check=False)
    assert p.returncode != 0 and "network with name clinet already exists" in p.stderr
    p = dk(nd, "network", "create", "--subnet", "10.124.0.0/25", "overlap", check=False)
    assert p.returncode != 0 and "overlaps" in p.stderr
    dk(nd, "run", "-d", "--name", "m1", "--network", "clinet", "busybox", "sleep", "60")
    assert inspect(nd, "m1")["NetworkSettings"]["Networks"]["clinet"]["Gateway"] == "10.124.0.254"
    p = dk(nd, "network", "rm", "clinet", check=False)
    assert p.returncode != 0 and "has active endpoints" in p.stderr
    p = dk(nd, "network", "rm", "bridge", check=False)
    assert p.returncode != 0 and "pre-defined network and cannot be removed" in p.stderr
    dk(nd, "network", "connect", "bridge", "m1")
    dk(nd, "network", "disconnect", "bridge", "m1")
    dk(nd, "rm", "-f", "m1")
    assert dk(nd, "network", "rm", "clinet").stdout.strip() == "clinet"
    p = dk(nd, "network", "inspect", "clinet", check=False)
    assert p.returncode != 0 and "network clinet not found" in p.stderr
    assert [l for l in nd.ns.links() if l.startswith("br-")] == []


def test_docker_cli_network_prune(nd):
    dk(nd, "network", "create", "unused1")
    dk(nd, "network", "create", "used1")
    dk(nd, "create", "--name", "holder", "--network", "used1", "busybox", "true")
    out = dk(nd, "network", "prune", "-f").stdout
    assert "unused1" in out and "used1\n" not in out.replace("unused1", "")
    names = dk(nd, "network", "ls", "--format", "{{.Name}}").stdout.split()
    assert "used1" in names and "unused1" not in names


def test_dockerpy_networks(nd):
    docker = pytest.importorskip("docker")
    c = docker.DockerClient(base_url="unix://" + str(nd.sock), version="auto", timeout=60)
    try:
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.125.0.0/24")])
        net = c.networks.create("pynet", driver="bridge", ipam=ipam, labels={"x": "1"})
        assert net.name == "pynet"
        assert "pynet" in [n.name for n in c.networks.list()]
        assert [n.name for n in c.networks.list(names=["pynet"])] == ["pynet"]
        ctr = c.containers.run("busybox", ["sleep", "60"], detach=True, name="pyc")
        net.connect(ctr, ipv4_address="10.125.0.77", aliases=["pyalias"])
        net.reload()
        assert [x.name for x in net.containers] == ["pyc"]
        ctr.reload()
        assert ctr.attrs["NetworkSettings"]["Networks"]["pynet"]["IPAddress"] == "10.125.0.77"
        out = c.containers.run("busybox", ["ping", "-c1", "-W2", "pyalias"], network="pynet", remove=True)
        assert b"10.125.0.77" in out
        net.disconnect(ctr)
        ctr.reload()
        assert "pynet" not in ctr.attrs["NetworkSettings"]["Networks"]
        web = c.containers.run("busybox", ["sh", "-c", "echo py > /tmp/index.html; exec httpd -f -p 80 -h /tmp"],
                               detach=True, ports={"80/tcp": ("127.0.0.1", None)}, name="pyweb")
        web.reload()
        hp = web.ports["80/tcp"][0]["HostPort"]
        assert "py" in wait_http(nd.ns, hp, "/index.html")
        web.remove(force=True)
        ctr.remove(force=True)
        net.remove()
        assert "pynet" not in [n.name for n in c.networks.list()]
    finally:
        c.close()


# ---- acceptance 4: no leaks; crash and restart ---------------------------------

def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_hundred_cycles_leave_nothing(nd):
    dk(nd, "network", "create", "cyc")
    base_fds = fd_count(nd.proc.pid)
    for i in range(100):
        st, o = api_json(nd, "POST", f"/v1.50/containers/create?name=cy{i}",
                         {"Image": "busybox", "Cmd": ["true"],
                          "HostConfig": {"NetworkMode": "cyc", "PortBindings": {"80/tcp": [{"HostPort": ""}]}}})
        assert st == 201, o
        st, o = api_json(nd, "POST", f"/v1.50/containers/cy{i}/start")
        assert st == 204, o
        st, o = api_json(nd, "POST", f"/v1.50/containers/cy{i}/wait")
        assert st == 200 and o["StatusCode"] == 0
        st, _, _ = nd.api("DELETE", f"/v1.50/containers/cy{i}?force=1")
        assert st == 204
    assert nd.ns.veths() == []
    assert "dnat to" not in nd.ns.nft()
    info = json.loads(dk(nd, "network", "inspect", "cyc").stdout)[0]
    assert info["Containers"] == {}
    # no descriptor kept per container (DNS sockets, host ports)
    assert fd_count(nd.proc.pid) <= base_fds + 3
    # the addresses went back: the network still hands out addresses
    dk(nd, "run", "--rm", "--network", "cyc", "busybox", "true")


def test_kill9_with_published_ports_then_restart(nd):
    dk(nd, "network", "create", "crash")
    dk(nd, "run", "-d", "--name", "keep", "--network", "crash", "-p", "127.0.0.1:8088:80", "busybox",
       "sh", "-c", "echo kept > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    dk(nd, "run", "-d", "--name", "dies", "-p", "127.0.0.1:8089:80", "busybox", "sleep", "300")
    assert "kept" in wait_http(nd.ns, 8088, "/index.html")
    dies_pid = inspect(nd, "dies")["State"]["Pid"]
    nd.kill9()
    # while berthd is down: one container dies, and a stale veth appears on the bridge
    os.kill(dies_pid, signal.SIGKILL)
    nd.ns.run("ip", "link", "add", "vethdead0", "type", "veth", "peer", "name", "vethdead1")
    nd.ns.run("ip", "link", "set", "vethdead0", "master", "berth0")
    nd.start()
    assert "kept" in wait_http(nd.ns, 8088, "/index.html")
    assert "vethdead0" not in nd.ns.links()
    assert "vethdead1" not in nd.ns.links()
    st = inspect(nd, "dies")["State"]
    assert st["Running"] is False
    assert "8089" not in nd.ns.nft()
    # the port of the container that died is free again
    dk(nd, "run", "-d", "--name", "again", "-p", "127.0.0.1:8089:80", "busybox",
       "sh", "-c", "echo again > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    assert "again" in wait_http(nd.ns, 8089, "/index.html")
    # the kept container's port is still held: nobody else gets it
    p = dk(nd, "run", "-d", "-p", "127.0.0.1:8088:80", "busybox", "true", check=False)
    assert p.returncode != 0 and "already allocated" in p.stderr
    # DNS on the user network works after the restart
    out = dk(nd, "run", "--rm", "--network", "crash", "busybox", "ping", "-c1", "-W2", "keep").stdout
    assert "1 packets received" in out
    dk(nd, "rm", "-f", "keep", "dies", "again")
    assert nd.ns.veths() == []
    assert "dnat to" not in nd.ns.nft()


# ---- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("body,status,msg", [
    ({"Name": ""}, 400, "name"),
    ({"Name": "bad/name"}, 400, "invalid network name"),
    ({"Name": "x1", "Driver": "overlay"}, 404, 'plugin "overlay" not found'),
    ({"Name": "x2", "IPAM": {"Config": [{"Subnet": "10.0.0.300/24"}]}}, 400, "invalid subnet"),
    ({"Name": "x3", "IPAM": {"Config": [{"Subnet": "10.126.0.0/24", "Gateway": "10.127.0.1"}]}}, 400,
     "no matching subnet for gateway"),
    ({"Name": "x4", "IPAM": {"Config": [{"Subnet": "10.126.0.0/24", "IPRange": "10.127.0.0/25"}]}}, 400,
     "ip-range"),
    ({"Name": "x5", "Options": {"com.docker.network.bridge.name": "bad name!"}}, 400, "invalid bridge name"),
    ({"Name": "host"}, 409, "already exists"),
])
def test_network_create_bad_input(nd, body, status, msg):
    before = nd.ns.links()
    st, o = api_json(nd, "POST", "/v1.50/networks/create", body)
    assert st == status, o
    assert msg in o["message"]
    st, nets = api_json(nd, "GET", "/v1.50/networks")
    assert sorted(n["Name"] for n in nets) == ["bridge", "host", "none"]
    assert nd.ns.links() == before


def test_create_on_unknown_network_and_bad_ip(nd):
    p = dk(nd, "create", "--network", "nosuch", "busybox", "true", check=False)
    assert p.returncode != 0 and "network nosuch not found" in p.stderr
    p = dk(nd, "create", "--ip", "172.17.0.9", "busybox", "true", check=False)
    assert p.returncode != 0 and "user defined networks only" in p.stderr
    st, cs = api_json(nd, "GET", "/v1.50/containers/json?all=1")
    assert cs == []


# ---- more of the scope -----------------------------------------------------------

def test_internal_network_mac_and_dns_options(nd):
    dk(nd, "network", "create", "--internal", "inside")
    dk(nd, "run", "-d", "--name", "in1", "--network", "inside", "--mac-address", "02:42:de:ad:be:ef",
       "--dns-search", "example.test", "--dns-option", "timeout:2", "busybox", "sleep", "60")
    ep = inspect(nd, "in1")["NetworkSettings"]["Networks"]["inside"]
    assert ep["MacAddress"] == "02:42:de:ad:be:ef"
    link = dk(nd, "exec", "in1", "cat", "/sys/class/net/eth0/address").stdout.strip()
    assert link == "02:42:de:ad:be:ef"
    # an internal network has no default route out
    assert "default" not in dk(nd, "exec", "in1", "ip", "route").stdout
    rc = dk(nd, "exec", "in1", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 127.0.0.11" in rc and "search example.test" in rc and "timeout:2" in rc
    # containers on it still find each other
    out = dk(nd, "run", "--rm", "--network", "inside", "busybox", "ping", "-c1", "-W2", "in1").stdout
    assert "1 packets received" in out


def test_restart_keeps_networking(nd):
    dk(nd, "network", "create", "rs")
    dk(nd, "run", "-d", "--name", "r1", "--network", "rs", "-p", "127.0.0.1:8090:80", "busybox",
       "sh", "-c", "echo r1 > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    assert "r1" in wait_http(nd.ns, 8090, "/index.html")
    dk(nd, "restart", "-t", "1", "r1")
    assert "r1" in wait_http(nd.ns, 8090, "/index.html")
    out = dk(nd, "run", "--rm", "--network", "rs", "busybox", "ping", "-c1", "-W2", "r1").stdout
    assert "1 packets received" in out
    dk(nd, "stop", "-t", "1", "r1")
    assert inspect(nd, "r1")["NetworkSettings"]["Ports"] == {}
    assert nd.ns.veths() == []
    # a graceful daemon restart keeps the networks
    nd.stop()
    nd.start()
    names = dk(nd, "network", "ls", "--format", "{{.Name}}").stdout.split()
    assert "rs" in names
    dk(nd, "start", "r1")
    assert "r1" in wait_http(nd.ns, 8090, "/index.html")


def test_bip_and_address_pools(tmp_path_factory, busybox_rootfs):
    ns = Netns(f"berth-p{os.getpid()}")
    tmp = tempfile.mkdtemp(prefix="bp-", dir="/tmp")
    d = engine.Berthd(tmp, netns=ns.name, extra_args=[
        "--bip", "10.210.0.1/24", "--default-address-pool", "base=10.220.0.0/16,size=24"])
    try:
        d.start()
        d.import_busybox()
        br = json.loads(dk(d, "network", "inspect", "bridge").stdout)[0]
        assert br["IPAM"]["Config"] == [{"Subnet": "10.210.0.0/24", "Gateway": "10.210.0.1"}]
        assert br["Options"]["com.docker.network.bridge.name"] == "berth0"
        dk(d, "network", "create", "p1")
        dk(d, "network", "create", "p2")
        subs = [json.loads(dk(d, "network", "inspect", n).stdout)[0]["IPAM"]["Config"][0]["Subnet"]
                for n in ("p1", "p2")]
        assert subs == ["10.220.0.0/24", "10.220.1.0/24"]
        out = dk(d, "run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0").stdout
        assert "10.210.0.2/24" in out
        # a route of the host's covering the next pool subnet is skipped
        ns.run("ip", "link", "add", "hr0", "type", "veth", "peer", "name", "hr1")
        ns.run("ip", "addr", "add", "10.220.2.1/24", "dev", "hr0")
        ns.run("ip", "link", "set", "hr0", "up")
        ns.run("ip", "link", "set", "hr1", "up")
        dk(d, "network", "create", "p3")
        sub = json.loads(dk(d, "network", "inspect", "p3").stdout)[0]["IPAM"]["Config"][0]["Subnet"]
        assert sub == "10.220.3.0/24"
    finally:
        problems = d.cleanup()
        left = ns.veths()
        ns.delete()
        shutil.rmtree(tmp, ignore_errors=True)
        assert not problems and not left, (problems, left)


def test_berth_cli_networks_match_docker(nd):
    """berth's network commands and port columns print what docker 28 prints."""
    out = b(nd, "network", "create", "--subnet", "10.130.0.0/24", "--label", "k=v", "bn1").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", out)
    assert b(nd, "network", "ls").stdout == dk(nd, "network", "ls").stdout
    assert b(nd, "network", "ls", "-q", "-f", "label=k=v").stdout == out[:12] + "\n"
    bi = json.loads(b(nd, "network", "inspect", "bn1").stdout)
    di = json.loads(dk(nd, "network", "inspect", "bn1").stdout)
    assert bi == di
    b(nd, "run", "-d", "--name", "bw", "--network", "bn1", "--ip", "10.130.0.9", "-p", "127.0.0.1:8095:80",
      "busybox", "sh", "-c", "echo bw > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    assert "bw" in wait_http(nd.ns, 8095, "/index.html")
    assert b(nd, "port", "bw").stdout == dk(nd, "port", "bw").stdout == "80/tcp -> 127.0.0.1:8095\n"
    for _ in range(3):  # CREATED and STATUS can tick over a second between the two
        bp, dp = b(nd, "ps").stdout, dk(nd, "ps").stdout
        if bp == dp:
            break
    assert bp == dp
    assert "127.0.0.1:8095->80/tcp" in b(nd, "ps").stdout
    b(nd, "run", "-d", "--name", "bc", "busybox", "sleep", "60")
    b(nd, "network", "connect", "--alias", "bee", "bn1", "bc")
    out = b(nd, "exec", "bc", "ping", "-c1", "-W2", "bw").stdout
    assert "10.130.0.9" in out
    b(nd, "network", "disconnect", "bn1", "bc")
    p = b(nd, "network", "rm", "bn1", check=False)
    assert p.returncode == 1 and "has active endpoints" in p.stderr
    b(nd, "rm", "-f", "bw", "bc")
    assert b(nd, "network", "rm", "bn1").stdout == "bn1\n"
    b(nd, "network", "create", "bn2")
    assert b(nd, "network", "prune", "-f").stdout == "Deleted Networks:\nbn2\n\n"
