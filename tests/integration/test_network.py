"""The network module on its own (not yet through berthd), as root.

Everything happens inside network namespaces the test makes: one stands in for the host
(bridge, nft table, DNS server), two play containers, one plays another machine
connected to the "host" by a veth pair. The module is driven by
build/tests/test-network-tool (tests/unit/test-network-tool.c) run inside the "host"
namespace. Traffic goes only between these namespaces and to their loopbacks; every
server is bounded in connections and time; teardown removes every namespace and checks
that the module's own teardown left no veth, bridge or nft table behind.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = Path(os.environ.get("BERTH_NETWORK_TOOL") or REPO / "build" / "tests" / "test-network-tool")
BUSYBOX = shutil.which("busybox")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network tests need root"),
    pytest.mark.skipif(not shutil.which("ip") or not shutil.which("nft"), reason="needs ip and nft"),
]

# A TCP server answering "hello from NAME" to at most N connections, for at most T s.
TCP_SERVER = r"""
import socket, sys, time
name, port, n, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port)); s.listen(8); s.settimeout(1.0)
print("listening", flush=True)
end = time.monotonic() + t
while n > 0 and time.monotonic() < end:
    try:
        c, peer = s.accept()
    except socket.timeout:
        continue
    c.sendall(("hello from %s to %s\n" % (name, peer[0])).encode()); c.close(); n -= 1
"""

# A UDP server answering "udp NAME: DATA", bounded the same way.
UDP_SERVER = r"""
import socket, sys, time
name, port, n, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port)); s.settimeout(1.0)
print("listening", flush=True)
end = time.monotonic() + t
while n > 0 and time.monotonic() < end:
    try:
        d, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    s.sendto(b"udp " + name.encode() + b": " + d, peer); n -= 1
"""

# The "host's resolver" on 127.0.0.1:5300 of the host namespace: example.test is
# 192.0.2.53, every other name NXDOMAIN.
UPSTREAM_DNS = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5300)); s.settimeout(1.0)
print("listening", flush=True)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    off, labels = 12, []
    while q[off]:
        labels.append(q[off + 1:off + 1 + q[off]].decode()); off += 1 + q[off]
    qend = off + 5
    name = ".".join(labels).lower()
    if name == "example.test":
        hdr = q[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0)
        ans = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([192, 0, 2, 53])
    else:
        hdr = q[:2] + b"\x81\x83" + struct.pack(">HHHH", 1, 0, 0, 0)
        ans = b""
    s.sendto(hdr + q[12:qend] + ans, peer)
"""

# Ask 127.0.0.11 for NAME (type A); print the addresses, or "rcode N".
DNS_CLIENT = r"""
import random, socket, struct, sys
name = sys.argv[1]
qid = random.randrange(65536)
q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
for l in name.split("."):
    q += bytes([len(l)]) + l.encode()
q += b"\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
for attempt in range(3):
    s.sendto(q, ("127.0.0.11", 53))
    try:
        r = s.recv(4096); break
    except socket.timeout:
        continue
else:
    print("timeout"); sys.exit(0)
rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
assert rid == qid, "id"
if flags & 0xf:
    print("rcode %d" % (flags & 0xf)); sys.exit(0)
off = len(q)
out = []
for i in range(an):
    if r[off] & 0xc0 == 0xc0:
        off += 2
    else:
        while r[off]:
            off += 1 + r[off]
        off += 1
    t, c, ttl, rl = struct.unpack(">HHIH", r[off:off + 10]); off += 10
    if t == 1:
        out.append(socket.inet_ntoa(r[off:off + rl]))
    off += rl
print(" ".join(out) if out else "empty")
"""

CLIENT_TCP = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(c.recv(200).decode().strip())
"""

CLIENT_UDP = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
for attempt in range(3):
    s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(200).decode()); break
    except socket.timeout:
        continue
else:
    print("timeout")
"""


def run(*args, check=True, timeout=30, input=None):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p


class Lab:
    """The namespaces, and the processes started in them."""

    def __init__(self, tmp):
        tag = f"berth-test-{os.getpid()}"
        self.host, self.c1, self.c2, self.other = (f"{tag}-{n}" for n in ("host", "c1", "c2", "other"))
        self.all = [self.host, self.c1, self.c2, self.other]
        self.tmp = Path(tmp)
        self.procs = []

    def ns_path(self, ns):
        return f"/run/netns/{ns}"

    def ex(self, ns, *args, **kw):
        return run("ip", "netns", "exec", ns, *args, **kw)

    def tool(self, *args, **kw):
        return self.ex(self.host, TOOL, *args, **kw)

    def py(self, ns, script, *args, **kw):
        return self.ex(ns, sys.executable, "-c", script, *args, **kw)

    def start(self, ns, script, *args):
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", script, *map(str, args)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        assert line.strip() == "listening", p.stderr.read() if p.poll() is not None else line
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []

    def links(self, ns):
        out = run("ip", "-n", ns, "-o", "link", "show").stdout
        return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]


@pytest.fixture
def lab(tmp_path):
    if not TOOL.exists():
        pytest.fail(f"no {TOOL} (run make)", pytrace=False)
    lab = Lab(tmp_path)
    try:
        for ns in lab.all:
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        yield lab
    finally:
        lab.stop_all()
        # the module's own cleanup first (the test checks it did its job); this is the net
        lab.ex(lab.host, TOOL, "nat-remove", check=False) if lab.host in netns_list() else None
        for ns in lab.all:
            run("ip", "netns", "del", ns, check=False)
        left = [ns for ns in netns_list() if ns in lab.all]
        assert not left, f"namespaces left behind: {left}"


def netns_list():
    out = run("ip", "netns", "list").stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def test_bridge_nat_dns(lab):
    # IPAM against the "host's" routes: nothing routed yet, so Docker's first pool
    assert lab.tool("pick-subnet").stdout.strip() == "172.17.0.0/16"
    lab.tool("forwarding")
    lab.tool("bridge-up", "br-test", "172.17.0.1/16")
    # the bridge's route is now there: the next network gets the next pool
    assert lab.tool("pick-subnet").stdout.strip() == "172.18.0.0/16"

    lab.tool("attach", "br-test", "veth-c1", lab.ns_path(lab.c1), "172.17.0.2/16", "172.17.0.1", "hairpin")
    lab.tool("attach", "br-test", "veth-c2", lab.ns_path(lab.c2), "172.17.0.3/16", "172.17.0.1", "hairpin")
    assert {"br-test", "veth-c1", "veth-c2"} <= set(lab.links(lab.host))
    assert "eth0" in lab.links(lab.c1) and "eth0" not in lab.links(lab.host)
    route = run("ip", "-n", lab.c1, "route", "show", "default").stdout
    assert "via 172.17.0.1 dev eth0" in route

    # "another machine": a veth pair between it and the "host"
    run("ip", "-n", lab.host, "link", "add", "vother", "type", "veth", "peer", "name", "eth0",
        "netns", lab.other)
    run("ip", "-n", lab.host, "addr", "add", "10.250.0.1/30", "dev", "vother")
    run("ip", "-n", lab.host, "link", "set", "vother", "up")
    run("ip", "-n", lab.other, "addr", "add", "10.250.0.2/30", "dev", "eth0")
    run("ip", "-n", lab.other, "link", "set", "eth0", "up")
    run("ip", "-n", lab.other, "route", "add", "default", "via", "10.250.0.1")

    # containers reach each other and the gateway
    if BUSYBOX:
        lab.ex(lab.c1, BUSYBOX, "ping", "-c", "1", "-W", "3", "172.17.0.3", timeout=15)
        lab.ex(lab.c2, BUSYBOX, "ping", "-c", "1", "-W", "3", "172.17.0.1", timeout=15)
    lab.start(lab.c1, TCP_SERVER, "c1", 80, 10, 60)
    lab.start(lab.c1, UDP_SERVER, "c1", 81, 5, 60)
    assert lab.py(lab.c2, CLIENT_TCP, "172.17.0.2", 80).stdout.strip() == "hello from c1 to 172.17.0.3"

    # published ports: 8080/tcp -> c1:80, 8081/udp -> c1:81
    lab.tool("nat", "br-test", "172.17.0.0/16", "tcp:8080:172.17.0.2:80", "udp:8081:172.17.0.2:81")
    tables = lab.ex(lab.host, "nft", "list", "tables").stdout
    assert "table ip berth" in tables
    # from the "host's" loopback (masqueraded to the bridge's address)
    assert lab.py(lab.host, CLIENT_TCP, "127.0.0.1", 8080).stdout.strip() == "hello from c1 to 172.17.0.1"
    # from the "host's" own address
    assert lab.py(lab.host, CLIENT_TCP, "10.250.0.1", 8080).stdout.strip().startswith("hello from c1")
    # from another machine: no masquerade, the container sees the client
    assert lab.py(lab.other, CLIENT_TCP, "10.250.0.1", 8080).stdout.strip() == "hello from c1 to 10.250.0.2"
    # hairpin: another container, and the container itself, through the published port
    assert lab.py(lab.c2, CLIENT_TCP, "10.250.0.1", 8080).stdout.strip() == "hello from c1 to 172.17.0.1"
    assert lab.py(lab.c1, CLIENT_TCP, "172.17.0.1", 8080).stdout.strip() == "hello from c1 to 172.17.0.1"
    # udp, from the loopback and from outside
    assert lab.py(lab.host, CLIENT_UDP, "127.0.0.1", 8081).stdout.strip() == "udp c1: ping"
    assert lab.py(lab.other, CLIENT_UDP, "10.250.0.1", 8081).stdout.strip() == "udp c1: ping"
    # the container reaches "outside" (masqueraded to the host's address there)
    lab.start(lab.other, TCP_SERVER, "other", 9000, 2, 60)
    assert lab.py(lab.c2, CLIENT_TCP, "10.250.0.2", 9000).stdout.strip() == "hello from other to 10.250.0.1"
    # packets for 127.0.0.0/8 that come in from the bridge are dropped (route_localnet is on)
    lab.start(lab.host, TCP_SERVER, "hostlo", 9100, 2, 60)
    run("ip", "-n", lab.c2, "route", "add", "127.0.0.42/32", "via", "172.17.0.1", "dev", "eth0",
        "onlink", check=False)
    p = lab.py(lab.c2, CLIENT_TCP, "127.0.0.42", 9100, check=False, timeout=20)
    assert "hello" not in p.stdout

    # DNS: records of one network, a listener in each container, forwarding to the
    # "host's" resolver
    lab.start(lab.host, UPSTREAM_DNS, 60)
    dns = subprocess.Popen(
        ["ip", "netns", "exec", lab.host, str(TOOL), "dns", "127.0.0.1:5300",
         "record", "net1", "c1", "172.17.0.2", "record", "net1", "web-alias", "172.17.0.2",
         "record", "net1", "c2", "172.17.0.3", "record", "net2", "elsewhere", "172.17.0.9",
         "listen", "c1", lab.ns_path(lab.c1), "net1", "listen", "c2", lab.ns_path(lab.c2), "net1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lab.procs.append(dns)
    assert dns.stdout.readline().strip() == "ready", dns.stderr.read()
    assert lab.py(lab.c2, DNS_CLIENT, "c1").stdout.strip() == "172.17.0.2"
    assert lab.py(lab.c2, DNS_CLIENT, "WEB-ALIAS").stdout.strip() == "172.17.0.2"
    assert lab.py(lab.c1, DNS_CLIENT, "c2").stdout.strip() == "172.17.0.3"
    # a name of another network is not seen: forwarded, and the upstream does not know it
    assert lab.py(lab.c1, DNS_CLIENT, "elsewhere").stdout.strip() == "rcode 3"
    assert lab.py(lab.c1, DNS_CLIENT, "example.test").stdout.strip() == "192.0.2.53"
    if BUSYBOX:
        out = lab.ex(lab.c2, BUSYBOX, "nslookup", "c1", "127.0.0.11", timeout=20).stdout
        assert "172.17.0.2" in out
    dns.stdin.close()
    dns.wait(timeout=10)
    assert dns.returncode == 0

    # teardown by the module: nothing of it stays in the "host"
    lab.tool("detach", "veth-c1")
    assert "eth0" not in lab.links(lab.c1)
    # the sweep takes what a crash would leave (c2's veth here), keeping what it is told
    assert lab.tool("sweep", "br-test", "veth-keep").stdout.strip() == "1"
    lab.tool("detach", "veth-c2")  # gone already: fine
    lab.tool("nat-remove")
    lab.tool("nat-remove")  # absent: fine
    lab.tool("bridge-down", "br-test")
    run("ip", "-n", lab.host, "link", "del", "vother")
    assert lab.links(lab.host) == ["lo"]
    assert lab.links(lab.c2) == ["lo"]
    assert "berth" not in lab.ex(lab.host, "nft", "list", "tables").stdout
    assert run("ip", "-n", lab.host, "-4", "route", "show").stdout.strip() == ""
