"""berth network and the run/create networking flags against a fake daemon.

Checks the requests (method, path, query, JSON body) and what the client prints, as docker
CLI 28 does both. Runs without root: the fake daemon (fake_daemon.py) listens on a unix
socket in the test's tmp folder. When the real docker CLI is installed, the last tests run
it against the same fake daemon and compare its requests and output with berth's.
BERTH_CLI overrides the client binary (default build/bin/berth).
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_daemon import FakeDaemon, ID  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_CLI") or str(REPO / "build" / "bin" / "berth")
DOCKER = shutil.which("docker", path="/usr/local/bin") or None

# the fake's network IDs: the name's hex repeated (bridge -> 627269646765...)
BRIDGE_ID = ("bridge".encode().hex() * 64)[:64]
N10_ID = ("n10".encode().hex() * 64)[:64]


def seed(fake):
    fake.add_network("bridge", subnet="172.17.0.0/16", gateway="172.17.0.1",
                     options={"com.docker.network.bridge.default_bridge": "true"})
    fake.add_network("host", driver="host", created="2025-03-04T05:06:07Z")
    fake.add_network("none", driver="null", created="2025-03-04T05:06:07.000000001+02:00")
    fake.add_network("n10", labels={"b": "2", "a": "1"}, created="2025-03-04T05:06:07.5Z")
    fake.add_network("n9", driver="macvlan", internal=True, ipv6=True)
    fake.add_container(name="/web")


@pytest.fixture
def fake(tmp_path):
    d = FakeDaemon(tmp_path / "fake.sock").start()
    seed(d)
    yield d
    d.stop()


def env_for(fake, tmp_path, docker=False):
    e = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TZ": "UTC"}
    if docker:
        e["DOCKER_HOST"] = fake.host
        e["DOCKER_CONFIG"] = str(tmp_path / ".docker")
    else:
        e["BERTH_HOST"] = fake.host
    return e


@pytest.fixture
def berth(fake, tmp_path):
    def run(*args, input=None):
        return subprocess.run([BERTH, *args], input=input, capture_output=True,
                              env=env_for(fake, tmp_path), timeout=20,
                              stdin=None if input is not None else subprocess.DEVNULL)
    return run


def calls(fake):
    return [p for p in fake.paths() if not p.startswith("HEAD /_ping")]


def last(fake, path_prefix):
    return [r for r in fake.requests if r.path.startswith(path_prefix)][-1]


def out(r):
    return r.stdout.decode()


def err(r):
    return r.stderr.decode()


# ---- network create ---------------------------------------------------------------------------

def test_create_plain_body_and_id(fake, berth):
    r = berth("network", "create", "n1")
    assert r.returncode == 0, r.stderr
    assert out(r) == ("n1".encode().hex() * 64)[:64] + "\n"
    assert calls(fake) == ["POST /networks/create"]
    req = fake.requests[-1]
    assert req.header("Content-Type") == "application/json"
    # byte for byte what docker 28 sends
    assert req.body == (b'{"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},'
                        b'"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,'
                        b'"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},'
                        b'"Name":"n1"}')


def test_create_all_flags(fake, berth):
    r = berth("network", "create", "-d", "macvlan", "--subnet", "10.1.0.0/16",
              "--gateway", "10.1.0.1", "--ip-range", "10.1.2.0/24", "--internal",
              "--label", "a=b", "--label", "c", "-o", "com.x=1", "--opt", "y", "--ipv6",
              "--attachable", "--aux-address", "host1=10.1.0.5", "--subnet", "fd00::/64",
              "--ipam-driver", "ipd", "--ipam-opt", "k=v", "--scope", "local", "n2")
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    b = fake.requests[-1].json()
    assert b == {
        "Driver": "macvlan", "Scope": "local", "EnableIPv6": True,
        "IPAM": {"Driver": "ipd", "Options": {"k": "v"},
                 "Config": [{"Subnet": "10.1.0.0/16", "IPRange": "10.1.2.0/24",
                             "Gateway": "10.1.0.1",
                             "AuxiliaryAddresses": {"host1": "10.1.0.5"}},
                            {"Subnet": "fd00::/64"}]},
        "Internal": True, "Attachable": True, "Ingress": False, "ConfigOnly": False,
        "ConfigFrom": None, "Options": {"com.x": "1", "y": ""}, "Labels": {"a": "b", "c": ""},
        "Name": "n2"}
    # EnableIPv4/EnableIPv6 are only sent when the flag is given
    assert "EnableIPv4" not in b
    berth("network", "create", "--ipv4=false", "--ipv6=false", "--config-from", "base",
          "--config-only", "--ingress", "n3")
    b = fake.requests[-1].json()
    assert b["EnableIPv4"] is False and b["EnableIPv6"] is False
    assert b["ConfigFrom"] == {"Network": "base"}
    assert b["ConfigOnly"] is True and b["Ingress"] is True


def test_create_comma_lists_pair_gateways_with_subnets(fake, berth):
    r = berth("network", "create", "--subnet", "10.0.0.0/8,fd00::/64",
              "--gateway", "10.0.0.1,fd00::1", "--ip-range", "10.0.0.0/24", "n3")
    assert r.returncode == 0, r.stderr
    assert fake.requests[-1].json()["IPAM"]["Config"] == [
        {"Subnet": "10.0.0.0/8", "IPRange": "10.0.0.0/24", "Gateway": "10.0.0.1"},
        {"Subnet": "fd00::/64", "Gateway": "fd00::1"}]


@pytest.mark.parametrize("args,message", [
    (["--gateway", "10.0.0.1"], "every ip-range or gateway must have a corresponding subnet"),
    (["--subnet", "10.0.0.0/8", "--gateway", "11.0.0.1"], "no matching subnet for gateway 11.0.0.1"),
    (["--subnet", "10.0.0.0/8", "--gateway", "bad"], "no matching subnet for gateway bad"),
    (["--subnet", "10.0.0.0/8", "--ip-range", "11.0.0.0/24"],
     "no matching subnet for range 11.0.0.0/24"),
    (["--subnet", "10.0.0.0/8", "--ip-range", "bad"], "invalid CIDR address: bad"),
    (["--subnet", "10.0.0.0/8", "--aux-address", "a=11.0.0.1"],
     "no matching subnet for aux-address 11.0.0.1"),
    (["--subnet", "10.0.0.0/8", "--subnet", "10.1.0.0/16"],
     "multiple overlapping subnet configuration is not supported"),
    (["--subnet", "bad", "--subnet", "10.1.0.0/16"], "invalid subnet: invalid CIDR address: bad"),
    (["--subnet", "10.0.0.0/8", "--subnet", "11.0.0.0/8", "--gateway", "10.0.0.1",
      "--gateway", "10.0.0.2"],
     "cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet (10.0.0.0/8)"),
])
def test_create_ipam_errors(fake, berth, args, message):
    r = berth("network", "create", *args, "nx")
    assert r.returncode == 1
    assert err(r) == message + "\n"
    assert calls(fake) == []


def test_create_flag_and_argument_errors(fake, berth):
    r = berth("network", "create", "--label", "=x", "n4")
    assert r.returncode == 125
    assert err(r) == ("invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name\n"
                      "\nUsage:  berth network create [OPTIONS] NETWORK\n\n"
                      "Run 'berth network create --help' for more information\n")
    r = berth("network", "create", "--label", "a b=c", "n4")
    assert r.returncode == 125
    assert err(r).startswith("invalid argument \"a b=c\" for \"--label\" flag: "
                             "label 'a b' contains whitespaces\n")
    r = berth("network", "create")
    assert r.returncode == 1
    assert err(r) == ("berth: 'berth network create' requires 1 argument\n\n"
                      "Usage:  berth network create [OPTIONS] NETWORK\n\n"
                      "Run 'berth network create --help' for more information\n")
    assert calls(fake) == []
    r = berth("network", "create", "bridge")
    assert r.returncode == 1
    assert err(r) == "Error response from daemon: network with name bridge already exists\n"


# ---- network ls -------------------------------------------------------------------------------

def test_ls_table_sorted_naturally(fake, berth):
    r = berth("network", "ls")
    assert r.returncode == 0, r.stderr
    assert calls(fake) == ["GET /networks"]
    assert out(r) == ("NETWORK ID     NAME      DRIVER    SCOPE\n"
                      "627269646765   bridge    bridge    local\n"
                      "686f7374686f   host      host      local\n"
                      "6e396e396e39   n9        macvlan   local\n"
                      "6e31306e3130   n10       bridge    local\n"
                      "6e6f6e656e6f   none      null      local\n")
    assert out(berth("network", "list", "-q")) == (
        "627269646765\n686f7374686f\n6e396e396e39\n6e31306e3130\n6e6f6e656e6f\n")
    r = berth("network", "ls", "--no-trunc", "-q")
    assert out(r).splitlines()[0] == BRIDGE_ID
    r = berth("network", "ls", "--no-trunc")
    assert out(r).splitlines()[1] == BRIDGE_ID + "   bridge    bridge    local"


def test_ls_filters_query(fake, berth):
    berth("network", "ls", "-f", "driver=bridge", "--filter", "name=n1", "-f", "name=n2",
          "-f", "Label=a=b")
    q = fake.requests[-1]
    assert q.path == "/networks"
    assert json.loads(q.query["filters"][0]) == {
        "driver": {"bridge": True}, "name": {"n1": True, "n2": True}, "label": {"a=b": True}}
    r = berth("network", "ls", "-f", "bad")
    assert r.returncode == 125
    assert err(r).startswith('invalid argument "bad" for "-f, --filter" flag: '
                             "bad format of filter (expected name=value)\n\n"
                             "Usage:  berth network ls [OPTIONS]\n")
    r = berth("network", "ls", "extra")
    assert r.returncode == 1
    assert err(r).startswith("berth: 'berth network ls' accepts no arguments\n")


def test_ls_formats(fake, berth, tmp_path):
    r = berth("network", "ls", "--format", "{{json .}}")
    rows = [json.loads(x) for x in out(r).splitlines()]
    assert list(rows[3]) == sorted(rows[3])  # Go marshals the context with sorted keys
    assert rows[3] == {"CreatedAt": "2025-03-04 05:06:07.5 +0000 UTC", "Driver": "bridge",
                       "ID": "6e31306e3130", "IPv4": "true", "IPv6": "false",
                       "Internal": "false", "Labels": "a=1,b=2", "Name": "n10",
                       "Scope": "local"}
    assert out(berth("network", "ls", "--format", "json")) == out(r)
    r = berth("network", "ls", "--format",
              "table {{.Name}}\t{{.IPv6}}\t{{.Internal}}\t{{.Labels}}\t{{.CreatedAt}}")
    assert out(r) == (
        "NAME      IPV6      INTERNAL   LABELS    CREATED AT\n"
        "bridge    false     false                2025-01-02 03:04:05.123456789 +0000 UTC\n"
        "host      false     false                2025-03-04 05:06:07 +0000 UTC\n"
        "n9        true      true                 2025-01-02 03:04:05.123456789 +0000 UTC\n"
        "n10       false     false      a=1,b=2   2025-03-04 05:06:07.5 +0000 UTC\n"
        "none      false     false                2025-03-04 05:06:07.000000001 +0200 +0200\n")
    r = berth("network", "ls", "--format", '{{.Name}}={{.Label "a"}}')
    assert out(r) == "bridge=\nhost=\nn9=\nn10=1\nnone=\n"
    # -q wins over "table" only
    assert out(berth("network", "ls", "-q", "--format", "table")).splitlines()[0] == "627269646765"
    assert out(berth("network", "ls", "-q", "--format", "{{.Name}}")).splitlines()[0] == "bridge"
    r = berth("network", "ls", "--format", "{{.Nope}}")
    assert r.returncode == 1
    assert err(r) == ('template parsing error: template: :1:2: executing "" at <.Nope>: '
                      "can't evaluate field Nope in type *network.networkContext\n")
    # networksFormat from the client's config file
    cfg = tmp_path / ".berth"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({"networksFormat": "{{.Name}}"}))
    assert out(berth("network", "ls")).splitlines() == ["bridge", "host", "n9", "n10", "none"]


# ---- network inspect --------------------------------------------------------------------------

def test_inspect(fake, berth):
    fake.networks = {}
    fake.add_network("n10", labels={"a": "1"})
    r = berth("network", "inspect", "n10")
    assert r.returncode == 0, r.stderr
    assert calls(fake) == ["GET /networks/n10"]
    assert out(r) == (
        '[\n    {\n        "Name": "n10",\n        "Id": "%s",\n'
        '        "Created": "2025-01-02T03:04:05.123456789Z",\n        "Scope": "local",\n'
        '        "Driver": "bridge",\n        "EnableIPv4": true,\n        "EnableIPv6": false,\n'
        '        "IPAM": {\n            "Driver": "default",\n            "Options": null,\n'
        '            "Config": []\n        },\n        "Internal": false,\n'
        '        "Attachable": false,\n        "Ingress": false,\n'
        '        "ConfigFrom": {\n            "Network": ""\n        },\n'
        '        "ConfigOnly": false,\n        "Containers": {},\n        "Options": {},\n'
        '        "Labels": {\n            "a": "1"\n        }\n    }\n]\n' % N10_ID)
    berth("network", "inspect", "-v", "n10")
    assert fake.requests[-1].target == "/v1.50/networks/n10?verbose=true"


def test_inspect_formats_and_errors(fake, berth):
    r = berth("network", "inspect", "-f", "{{.Name}} {{.Driver}} {{.IPAM.Driver}}", "n10", "bridge")
    assert r.returncode == 0, r.stderr
    assert out(r) == "n10 bridge default\nbridge bridge default\n"
    r = berth("network", "inspect", "--format", "json", "n10", "bridge")
    docs = json.loads(out(r))
    assert out(r).count("\n") == 1 and [d["Name"] for d in docs] == ["n10", "bridge"]
    r = berth("network", "inspect", "n10", "nosuch")
    assert r.returncode == 1
    assert json.loads(out(r))[0]["Name"] == "n10"
    assert err(r) == "Error response from daemon: network nosuch not found\n"
    r = berth("network", "inspect", "nosuch")
    assert r.returncode == 1 and out(r) == "[]\n"
    # a template with nothing to show still ends the output with a newline
    r = berth("network", "inspect", "-f", "{{.Name}}", "nosuch")
    assert r.returncode == 1 and out(r) == "\n"
    r = berth("network", "inspect")
    assert r.returncode == 1
    assert err(r).startswith("berth: 'berth network inspect' requires at least 1 argument\n")
    # the generic inspect finds networks too
    r = berth("inspect", "-f", "{{.Name}}", "n10")
    assert out(r) == "n10\n"
    assert calls(fake)[-3:] == ["GET /containers/n10/json", "GET /images/n10/json",
                                "GET /networks/n10"]


# ---- network rm / prune -----------------------------------------------------------------------

def test_rm(fake, berth):
    r = berth("network", "rm", "n10", "nosuch", "n9")
    assert r.returncode == 1
    assert out(r) == "n10\nn9\n"
    assert err(r) == "Error response from daemon: network nosuch not found\nexit status 1\n"
    # docker looks each network up before removing it
    assert calls(fake) == ["GET /networks/n10", "DELETE /networks/n10",
                           "GET /networks/nosuch", "DELETE /networks/nosuch",
                           "GET /networks/n9", "DELETE /networks/n9"]
    fake.add_network("n10")
    r = berth("network", "remove", "-f", "nosuch", "n10")
    assert r.returncode == 0 and out(r) == "n10\n" and r.stderr == b""
    r = berth("network", "rm", "bridge")
    assert r.returncode == 1
    assert err(r) == ("Error response from daemon: bridge is a pre-defined network and cannot "
                      "be removed\nexit status 1\n")
    r = berth("network", "rm")
    assert r.returncode == 1
    assert err(r) == ("berth: 'berth network rm' requires at least 1 argument\n\n"
                      "Usage:  berth network rm NETWORK [NETWORK...]\n\n"
                      "See 'berth network rm --help' for more information\n")


PRUNE_PROMPT = ("WARNING! This will remove all custom networks not used by at least one "
                "container.\nAre you sure you want to continue? [y/N] ")


def test_prune(fake, berth):
    r = berth("network", "prune", input=b"n\n")
    # a "no" is not an error for docker 28
    assert r.returncode == 0 and out(r) == PRUNE_PROMPT and r.stderr == b""
    assert calls(fake) == []
    r = berth("network", "prune")  # no answer at all
    assert r.returncode == 0 and out(r) == PRUNE_PROMPT
    assert calls(fake) == []
    r = berth("network", "prune", "--filter", "until=1h", "--filter", "label=a", input=b" Y \n")
    assert r.returncode == 0, r.stderr
    assert out(r) == PRUNE_PROMPT + "Deleted Networks:\nn10\nn9\n\n"
    q = fake.requests[-1]
    assert q.method == "POST" and q.path == "/networks/prune"
    assert json.loads(q.query["filters"][0]) == {"until": {"1h": True}, "label": {"a": True}}
    r = berth("network", "prune", "-f")
    assert r.returncode == 0 and out(r) == ""
    assert calls(fake)[-1] == "POST /networks/prune"
    r = berth("network", "prune", "--filter", "bad", "-f")
    assert r.returncode == 125
    assert err(r).startswith('invalid argument "bad" for "--filter" flag: bad format of filter')


# ---- network connect / disconnect ------------------------------------------------------------

EMPTY_EP = {"IPAMConfig": {}, "Links": None, "Aliases": [], "MacAddress": "", "DriverOpts": {},
            "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "",
            "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def test_connect(fake, berth):
    r = berth("network", "connect", "n10", "web")
    assert r.returncode == 0, r.stderr
    assert out(r) == "" and r.stderr == b""
    assert calls(fake) == ["POST /networks/n10/connect"]
    assert fake.requests[-1].json() == {"Container": "web", "EndpointConfig": EMPTY_EP}
    r = berth("network", "connect", "--ip", "10.0.0.5", "--ip6", "fd00::5", "--alias", "a1",
              "--alias", "a2,a3", "--link", "other:o", "--driver-opt", "k=v",
              "--driver-opt", "x=y,z=w", "--link-local-ip", "169.254.1.1",
              "--gw-priority", "5", "n10", "web")
    assert r.returncode == 0, r.stderr
    assert fake.requests[-1].json()["EndpointConfig"] == dict(
        EMPTY_EP, IPAMConfig={"IPv4Address": "10.0.0.5", "IPv6Address": "fd00::5",
                              "LinkLocalIPs": ["169.254.1.1"]},
        Links=["other:o"], Aliases=["a1", "a2", "a3"],
        DriverOpts={"k": "v", "x": "y", "z": "w"}, GwPriority=5)


def test_connect_errors(fake, berth):
    r = berth("network", "connect", "nosuch", "web")
    assert r.returncode == 1
    assert err(r) == "Error response from daemon: network nosuch not found\n"
    r = berth("network", "connect", "n10", "nosuch")
    assert r.returncode == 1
    assert err(r) == "Error response from daemon: No such container: nosuch\n"
    n = len(fake.requests)
    r = berth("network", "connect", "--driver-opt", "bad", "n10", "web")
    assert r.returncode == 1
    assert err(r) == "invalid key/value pair format in driver options\n"
    r = berth("network", "connect", "--link", "a:b:c", "n10", "web")
    assert r.returncode == 125
    assert err(r).startswith('invalid argument "a:b:c" for "--link" flag: '
                             "bad format for links: a:b:c\n")
    r = berth("network", "connect", "n10")
    assert r.returncode == 1
    assert err(r) == ("berth: 'berth network connect' requires 2 arguments\n\n"
                      "Usage:  berth network connect [OPTIONS] NETWORK CONTAINER\n\n"
                      "Run 'berth network connect --help' for more information\n")
    assert len([q for q in fake.requests[n:] if q.path != "/_ping"]) == 0


def test_disconnect(fake, berth):
    r = berth("network", "disconnect", "n10", "web")
    assert r.returncode == 0, r.stderr
    assert calls(fake) == ["POST /networks/n10/disconnect"]
    assert fake.requests[-1].body == b'{"Container":"web","Force":false}'
    berth("network", "disconnect", "-f", "n10", "web")
    assert fake.requests[-1].json() == {"Container": "web", "Force": True}
    r = berth("network", "disconnect", "nosuch", "web")
    assert r.returncode == 1
    assert err(r) == "Error response from daemon: network nosuch not found\n"


# ---- help -------------------------------------------------------------------------------------

GROUP_HELP = ("Usage:  berth network COMMAND\n\nManage networks\n\nCommands:\n"
              "  connect     Connect a container to a network\n"
              "  create      Create a network\n"
              "  disconnect  Disconnect a container from a network\n"
              "  inspect     Display detailed information on one or more networks\n"
              "  ls          List networks\n"
              "  prune       Remove all unused networks\n"
              "  rm          Remove one or more networks\n\n"
              "Run 'berth network COMMAND --help' for more information on a command.\n")


def test_group_help(berth):
    r = berth("network", "--help")
    assert r.returncode == 0 and out(r) == GROUP_HELP
    # docker prints the bare group's help on stderr
    r = berth("network")
    assert r.returncode == 0 and err(r) == GROUP_HELP and out(r) == ""
    r = berth("network", "nope")
    assert r.returncode == 1
    assert err(r).startswith("berth: unknown command: berth network nope\n")
    r = berth("network", "ls", "--help")
    assert out(r).startswith("Usage:  berth network ls [OPTIONS]\n\nList networks\n\n"
                             "Aliases:\n  berth network ls, berth network list\n")
    assert "  network     Manage networks\n" in out(berth("--help"))


# ---- run / create: networking flags -----------------------------------------------------------

def create_body(fake):
    return last(fake, "/containers/create").json()


def test_run_default_network_body(fake, berth):
    r = berth("run", "-d", "busybox")
    assert r.returncode == 0, r.stderr
    b = create_body(fake)
    hc = b["HostConfig"]
    assert hc["NetworkMode"] == "default"
    assert hc["Dns"] == [] and hc["DnsOptions"] == [] and hc["DnsSearch"] == []
    assert hc["ExtraHosts"] is None and hc["Links"] is None
    assert b["Domainname"] == "" and "MacAddress" not in b
    # docker always sends the "default" endpoint when no --network is given
    assert b["NetworkingConfig"] == {"EndpointsConfig": {"default": {}}}


def test_run_network_flags_body(fake, berth):
    r = berth("run", "-d", "--network", "n10", "--ip", "10.0.0.5", "--ip6", "fd00::5",
              "--network-alias", "a1", "--net-alias", "a2", "--mac-address", "02:42:ac:11:00:02",
              "--add-host", "h:1.2.3.4", "--add-host", "gw:host-gateway", "--add-host", "v6=[::1]",
              "--dns", "8.8.8.8", "--dns-search", "example.com", "--dns-option", "ndots:2",
              "--dns-opt", "x", "--domainname", "example.org", "--link", "web:w", "--link", "other",
              "-h", "myhost", "busybox")
    assert r.returncode == 0, r.stderr
    b = create_body(fake)
    hc = b["HostConfig"]
    assert b["Hostname"] == "myhost" and b["Domainname"] == "example.org"
    assert "MacAddress" not in b  # API >= 1.44: only in the endpoint
    assert hc["NetworkMode"] == "n10"
    assert hc["Dns"] == ["8.8.8.8"] and hc["DnsSearch"] == ["example.com"]
    assert hc["DnsOptions"] == ["ndots:2", "x"]
    assert hc["ExtraHosts"] == ["h:1.2.3.4", "gw:host-gateway", "v6:::1"]
    assert hc["Links"] == ["web:w", "other"]
    assert b["NetworkingConfig"] == {"EndpointsConfig": {"n10": {
        "IPAMConfig": {"IPv4Address": "10.0.0.5", "IPv6Address": "fd00::5"},
        "Links": ["web:w", "other"], "Aliases": ["a1", "a2"],
        "MacAddress": "02:42:ac:11:00:02"}}}


@pytest.mark.parametrize("args,mode,endpoints", [
    # a single network without endpoint options: no endpoint is sent
    (["--network", "n10"], "n10", {}),
    (["--net", "none"], "none", {}),
    (["--network", "host"], "host", {}),
    (["--network", "container:web"], "container:web", {}),
    (["--network", "bridge", "--link", "a:b"], "bridge", {}),
    (["--ip", "10.0.0.5"], "default", {"default": {"IPAMConfig": {"IPv4Address": "10.0.0.5"}}}),
    (["--mac-address", "02:42:ac:11:00:02"], "default",
     {"default": {"MacAddress": "02:42:ac:11:00:02"}}),
    # several: the first is the mode and takes the plain flags
    (["--network", "n10", "--network", "n9", "--ip", "10.0.0.5", "--network-alias", "a"], "n10",
     {"n10": {"IPAMConfig": {"IPv4Address": "10.0.0.5"}, "Aliases": ["a"]}, "n9": {}}),
    (["--network", "n10", "--link", "a:b", "--network", "n9"], "n10",
     {"n10": {"Links": ["a:b"]}, "n9": {}}),
    # docker's long form, lowercased as docker 28 does
    (["--network", "name=N10,alias=X,ip=10.1.1.1,driver-opt=K=V,mac-address=02:42:AC:11:00:03",
      "--network", "n9"], "n10",
     {"n10": {"IPAMConfig": {"IPv4Address": "10.1.1.1"}, "Aliases": ["x"],
              "MacAddress": "02:42:ac:11:00:03", "DriverOpts": {"k": "v"}}, "n9": {}}),
    (["--network", "name=n10,gw-priority=3,link-local-ip=169.254.0.1,ip6=fd00::1"], "n10",
     {"n10": {"IPAMConfig": {"IPv6Address": "fd00::1", "LinkLocalIPs": ["169.254.0.1"]},
              "GwPriority": 3}}),
])
def test_run_network_endpoints(fake, berth, args, mode, endpoints):
    r = berth("run", "-d", *args, "busybox")
    assert r.returncode == 0, r.stderr
    b = create_body(fake)
    assert b["HostConfig"]["NetworkMode"] == mode
    assert b["NetworkingConfig"] == {"EndpointsConfig": endpoints}


@pytest.mark.parametrize("args,message", [
    (["--network", "n10", "--network", "n10"], 'network "n10" is specified multiple times'),
    (["--network", "host", "--network", "n10"],
     "conflicting options: cannot attach both user-defined and non-user-defined network-modes"),
    (["--network-alias", "a"], "network-scoped aliases are only supported for user-defined networks"),
    (["--network", "bridge", "--network-alias", "q"],
     "network-scoped aliases are only supported for user-defined networks"),
    (["--network", "name=n10,alias=a", "--network-alias", "b"],
     "conflicting options: cannot specify both --network-alias and per-network alias"),
    (["--mac-address", "bad"], "bad is not a valid mac address"),
    (["--network", "name=n10,mac-address=zz"], "zz is not a valid mac address"),
    (["--network="], "no name set for network"),
])
def test_run_network_errors(fake, berth, args, message):
    r = berth("run", "-d", *args, "busybox")
    assert r.returncode == 125
    assert err(r) == f"berth: {message}\n\nRun 'berth run --help' for more information\n"
    assert calls(fake) == []


@pytest.mark.parametrize("flag,value,message", [
    ("--add-host", "bad", 'bad format for add-host: "bad"'),
    ("--add-host", ":1.2.3.4", 'bad format for add-host: ":1.2.3.4"'),
    ("--add-host", "a:notip", 'invalid IP address in add-host: "notip"'),
    ("--dns", "bad", "IP address is not correctly formatted: bad"),
    ("--dns-search", "bad_dom", "bad_dom is not a valid domain"),
    ("--link", "a:b:c", "bad format for links: a:b:c"),
    ("--network", "name=n10,foo=bar", "invalid field key foo"),
    ("--network", "alias=x", "network name/id is not specified"),
    ("--network", "name=n10,bad", "invalid field bad"),
    ("--network", "name=n10,driver-opt==x", "invalid key value pair format in driver options"),
    ("--network", "name=n10,gw-priority=x", "invalid gw-priority (x): invalid syntax"),
])
def test_run_flag_validation(fake, berth, flag, value, message):
    r = berth("create", flag, value, "busybox")
    assert r.returncode == 125
    assert err(r) == (f'invalid argument "{value}" for "{flag}" flag: {message}\n\n'
                      "Usage:  berth create [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
                      "Run 'berth create --help' for more information\n")
    assert calls(fake) == []


@pytest.mark.parametrize("args,exposed,bindings", [
    (["-p", "8000-8002:80-82"], ["80/tcp", "81/tcp", "82/tcp"],
     {"80/tcp": [["", "8000"]], "81/tcp": [["", "8001"]], "82/tcp": [["", "8002"]]}),
    (["-p", "8000-8001:80"], ["80/tcp"], {"80/tcp": [["", "8000-8001"]]}),
    (["-p", "80-81"], ["80/tcp", "81/tcp"], {"80/tcp": [["", ""]], "81/tcp": [["", ""]]}),
    (["-p", "127.0.0.1::80"], ["80/tcp"], {"80/tcp": [["127.0.0.1", ""]]}),
    (["-p", "127.0.0.1:8080:80/udp"], ["80/udp"], {"80/udp": [["127.0.0.1", "8080"]]}),
    (["-p", "53:53/UDP", "-p", "80/sctp"], ["53/udp", "80/sctp"],
     {"53/udp": [["", "53"]], "80/sctp": [["", ""]]}),
    (["-p", "[::1]:5000:5000", "-p", "::1:6000:6000"], ["5000/tcp", "6000/tcp"],
     {"5000/tcp": [["::1", "5000"]], "6000/tcp": [["::1", "6000"]]}),
    (["-p", "8080:80", "-p", "8081:80"], ["80/tcp"], {"80/tcp": [["", "8080"], ["", "8081"]]}),
    (["-p", "published=8080,target=80,protocol=udp"], ["80/udp"], {"80/udp": [["", "8080"]]}),
    (["-P", "--expose", "7000-7001", "--expose", "99/udp"], ["7000/tcp", "7001/tcp", "99/udp"],
     {}),
])
def test_run_publish(fake, berth, args, exposed, bindings):
    r = berth("run", "-d", *args, "busybox")
    assert r.returncode == 0, r.stderr
    b = create_body(fake)
    assert sorted(b["ExposedPorts"]) == sorted(exposed)
    assert b["HostConfig"]["PortBindings"] == {
        k: [{"HostIp": ip, "HostPort": port} for ip, port in v] for k, v in bindings.items()}
    assert b["HostConfig"]["PublishAllPorts"] is ("-P" in args)


@pytest.mark.parametrize("args,message", [
    (["-p", "8000-8002:80-81"],
     "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"),
    (["-p", "80/bad"], "invalid proto: bad"),
    (["-p", "80:"], "no port specified: 80:<empty>"),
    (["-p", "abc"], "invalid containerPort: abc"),
    (["-p", "1.2.3.4:80"], "invalid hostPort: 1.2.3.4"),
    (["-p", "70000:80"], "invalid hostPort: 70000"),
    (["-p", "1.2.3:80:80"], "invalid IP address: 1.2.3"),
    (["--expose", "abc"],
     'invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": '
     "invalid syntax"),
    (["--expose", "80:80"], "invalid port format for --expose: 80:80"),
])
def test_run_publish_errors(fake, berth, args, message):
    r = berth("run", "-d", *args, "busybox")
    assert r.returncode == 125
    assert err(r) == f"berth: {message}\n\nRun 'berth run --help' for more information\n"


# ---- port -------------------------------------------------------------------------------------

PORTS = {"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"},
                      {"HostIp": "::", "HostPort": "32768"}],
         "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32769"},
                    {"HostIp": "::", "HostPort": "32769"}],
         "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}],
         "90/tcp": None}


def route_ports(fake):
    c = fake.find("web")

    def inspect(f, req):
        d = c.inspect()
        d["NetworkSettings"]["Ports"] = PORTS
        return 200, d
    fake.route("GET", "/containers/web/json", inspect)


def test_port(fake, berth):
    route_ports(fake)
    r = berth("port", "web")
    assert r.returncode == 0, r.stderr
    # natural order, IPv6 in brackets
    assert out(r) == ("53/udp -> 127.0.0.1:53\n80/tcp -> 0.0.0.0:32769\n80/tcp -> [::]:32769\n"
                      "8080/tcp -> 0.0.0.0:32768\n8080/tcp -> [::]:32768\n")
    assert out(berth("port", "web", "80")) == "0.0.0.0:32769\n[::]:32769\n"
    assert out(berth("container", "port", "web", "53/udp")) == "127.0.0.1:53\n"
    r = berth("port", "web", "90")
    assert r.returncode == 1 and err(r) == "Error: No public port '90' published for web\n"
    r = berth("port", "web", "abc")
    assert r.returncode == 1
    assert err(r) == ('Error: invalid port (abc): strconv.ParseUint: parsing "abc": '
                      "invalid syntax\n")


# ---- the docker CLI as the oracle ------------------------------------------------------------

ZERO_EP = {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "",
           "DriverOpts": None, "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "",
           "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
           "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def networking_view(body):
    """The parts of a create body the networking flags decide; docker's all-zero endpoint
    members dropped (berth leaves them out)."""
    if body is None or "HostConfig" not in body:
        return body
    hc = body["HostConfig"]
    v = {k: body.get(k) for k in ("Hostname", "Domainname", "ExposedPorts", "MacAddress")}
    v.update({k: hc.get(k) for k in ("NetworkMode", "PortBindings", "PublishAllPorts", "Dns",
                                     "DnsOptions", "DnsSearch", "ExtraHosts", "Links")})
    v["Endpoints"] = {name: {k: x for k, x in ep.items() if ZERO_EP.get(k, "-") != x}
                      for name, ep in body["NetworkingConfig"]["EndpointsConfig"].items()}
    return v


def run_client(tool, args, tmp_path, input=None):
    d = FakeDaemon(tmp_path / f"{tool}.sock").start()
    try:
        seed(d)
        exe = DOCKER if tool == "docker" else BERTH
        r = subprocess.run([exe, *args], capture_output=True, timeout=20, input=input,
                           env=env_for(d, tmp_path, docker=tool == "docker"),
                           stdin=None if input is not None else subprocess.DEVNULL)
        reqs = [(q.method, q.path, q.raw_query, networking_view(q.json()) if q.body else None)
                for q in d.requests if q.path != "/_ping"]
    finally:
        d.stop()
    return r, reqs


ORACLE_CASES = [
    "network create n1",
    "network create -d macvlan --subnet 10.1.0.0/16 --gateway 10.1.0.1 --ip-range 10.1.2.0/24 "
    "--internal --label a=b --label c -o com.x=1 --ipv6 --attachable --aux-address h=10.1.0.5 n2",
    "network create --subnet 10.0.0.0/8 --gateway 11.0.0.1 n3",
    "network create --label =x n4",
    "network ls",
    "network ls --no-trunc -f driver=bridge",
    "network ls -q",
    "network ls --format 'table {{.Name}}\t{{.IPv4}}\t{{.IPv6}}\t{{.Internal}}\t{{.CreatedAt}}'",
    "network inspect n10 nosuch",
    "network inspect -v -f '{{.Name}} {{.Scope}}' n10 bridge",
    "network inspect --format json n9",
    "network rm n10 nosuch n9",
    "network rm -f nosuch n10",
    "network prune -f",
    "network connect --ip 10.0.0.5 --alias a1,a2 --link other:o --driver-opt k=v n10 web",
    "network connect nosuch web",
    "network disconnect -f n10 web",
    "network",
    "run -d busybox",
    "run -d --network n10 --ip 10.0.0.5 --network-alias a --mac-address 02:42:ac:11:00:02 "
    "--add-host h:1.2.3.4 --add-host gw:host-gateway --dns 8.8.8.8 --dns-search example.com "
    "--dns-option ndots:2 --domainname example.org --link web:w -p 8000-8002:80-82 "
    "-p 127.0.0.1::90 -p 53:53/udp -p [::1]:5000:5000 --expose 7000-7001 busybox",
    "run -d --network n10 --network n9 --ip 10.0.0.5 busybox",
    "run -d --network name=N10,alias=X,driver-opt=K=V --network n9 busybox",
    "run -d --network none busybox",
    "run -d --network host --network n10 busybox",
    "run -d --add-host a:notip busybox",
    "run -d -p 8000-8002:80-81 busybox",
    "create --network bridge --link a:b --dns-opt x busybox",
]


@pytest.mark.skipif(not DOCKER, reason="no docker CLI")
@pytest.mark.parametrize("line", ORACLE_CASES)
def test_matches_docker(tmp_path, line):
    args = shlex.split(line)
    d, dreqs = run_client("docker", args, tmp_path)
    b, breqs = run_client("berth", args, tmp_path)
    assert b.returncode == d.returncode, (b.stderr, d.stderr)
    assert b.stdout == d.stdout
    assert b.stderr.decode() == d.stderr.decode().replace("docker", "berth")
    relevant = ("/containers/create", "/networks")
    assert [q for q in breqs if q[1].startswith(relevant)] == \
        [q for q in dreqs if q[1].startswith(relevant)]


@pytest.mark.skipif(not DOCKER, reason="no docker CLI")
def test_prune_prompt_matches_docker(tmp_path):
    for answer in (b"n\n", b"y\n"):
        d, dreqs = run_client("docker", ["network", "prune"], tmp_path, input=answer)
        b, breqs = run_client("berth", ["network", "prune"], tmp_path, input=answer)
        assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)
        assert breqs == dreqs
