"""The berth client against a fake daemon: request shapes and order, output, exit codes.

Runs without root: the fake daemon (fake_daemon.py) listens on a unix socket in the test's
tmp folder. BERTH_CLI overrides the client binary (default build/bin/berth).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_daemon import FakeDaemon, ID, IMAGE_ID  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_CLI") or str(REPO / "build" / "bin" / "berth")


@pytest.fixture
def fake(tmp_path):
    d = FakeDaemon(tmp_path / "fake.sock").start()
    yield d
    d.stop()


@pytest.fixture
def berth(fake, tmp_path):
    def run(*args, input=None, env=None, timeout=20):
        e = dict(os.environ)
        e.pop("BERTH_HOST", None)
        e["HOME"] = str(tmp_path)
        e["BERTH_HOST"] = fake.host
        e["TZ"] = "UTC"
        if env:
            e.update(env)
        return subprocess.run([BERTH, *args], input=input, capture_output=True, env=e,
                              timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
    return run


def calls(fake):
    return [p for p in fake.paths() if not p.startswith("HEAD /_ping")]


# ---- run ----------------------------------------------------------------------------------

def test_run_rm_order_and_output(fake, berth):
    fake.add_container(output=[(1, b"hi\n")], exit_code=0)
    r = berth("run", "--rm", "busybox", "echo", "hi")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hi\n"
    paths = fake.paths()
    assert paths[0] == "HEAD /_ping"
    assert fake.requests[0].raw_path == "/_ping"
    assert all(q.raw_path.startswith("/v1.50/") for q in fake.requests[1:])
    assert calls(fake) == [
        "POST /containers/create",
        f"POST /containers/{ID}/attach?stderr=1&stdout=1&stream=1",
        f"POST /containers/{ID}/wait?condition=removed",
        f"POST /containers/{ID}/start",
    ]
    att = fake.requests[2]
    assert att.header("Upgrade") == "tcp"
    assert att.header("Connection") == "Upgrade"
    create = fake.requests[1]
    assert create.header("Content-Type") == "application/json"
    assert create.header("Host") == "api.moby.localhost"
    body = create.json()
    assert body["Cmd"] == ["echo", "hi"]
    assert body["Image"] == "busybox"
    assert body["AttachStdout"] and body["AttachStderr"] and not body["AttachStdin"]
    assert body["Tty"] is False and body["OpenStdin"] is False
    assert body["Env"] is None and body["Entrypoint"] is None
    hc = body["HostConfig"]
    assert hc["AutoRemove"] is True
    assert hc["NetworkMode"] == "default"
    assert hc["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert hc["MemorySwappiness"] == -1
    assert hc["ConsoleSize"] == [0, 0]
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"default": {}}}


def test_run_exit_code_and_stderr(fake, berth):
    fake.add_container(output=[(1, b"out\n"), (2, b"err\n")], exit_code=3)
    r = berth("run", "busybox", "sh", "-c", "exit 3")
    assert r.returncode == 3
    assert r.stdout == b"out\n"
    assert r.stderr == b"err\n"
    assert f"POST /containers/{ID}/wait?condition=next-exit" in calls(fake)


def test_run_detach_prints_id(fake, berth):
    fake.add_container()
    r = berth("run", "-d", "--name", "web", "busybox", "sleep", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == ID + "\n"
    assert calls(fake) == [
        "POST /containers/create?name=web",
        f"POST /containers/{ID}/wait?condition=next-exit",
        f"POST /containers/{ID}/start",
    ]
    body = fake.requests[1].json()
    assert not body["AttachStdout"] and not body["AttachStderr"]


def test_run_stdin_piped(fake, berth):
    fake.add_container(echo_stdin=True)
    r = berth("run", "-i", "--rm", "busybox", "cat", input=b"abc\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"abc\n"
    c = calls(fake)
    assert c[1] == f"POST /containers/{ID}/attach?stderr=1&stdin=1&stdout=1&stream=1"
    body = fake.requests[1].json()
    assert body["OpenStdin"] and body["StdinOnce"] and body["AttachStdin"]


def test_run_options_in_body(fake, berth, tmp_path):
    envfile = tmp_path / "env"
    envfile.write_text("# comment\nFROM_FILE=1\n\n")
    r = berth("run", "--rm", "-e", "A=1", "--env-file", str(envfile), "-w", "/tmp", "-u", "1000",
              "--entrypoint", "/bin/sh", "-l", "k=v", "--restart", "no", "-m", "512m",
              "--memory-swap", "1g", "--cpus", "1.5", "--cpu-shares", "512",
              "--cpuset-cpus", "0-1", "--pids-limit", "100", "--cap-add", "NET_ADMIN",
              "--cap-drop", "ALL", "--privileged", "--read-only", "--security-opt",
              "no-new-privileges", "--ulimit", "nofile=1024:2048", "--tmpfs", "/run:size=64m",
              "--sysctl", "net.ipv4.ip_forward=1", "--shm-size", "64m", "--init",
              "-v", "/src:/dst:ro", "-v", "/anon", "--network", "none", "--stop-signal",
              "SIGINT", "--stop-timeout", "5", "--log-opt", "max-size=1m", "--hostname", "h1",
              "-p", "8080:80", "busybox", "true")
    assert r.returncode == 0, r.stderr
    b = fake.requests[1].json()
    hc = b["HostConfig"]
    assert b["Env"] == ["FROM_FILE=1", "A=1"]
    assert b["WorkingDir"] == "/tmp" and b["User"] == "1000" and b["Hostname"] == "h1"
    assert b["Entrypoint"] == ["/bin/sh"] and b["Cmd"] == ["true"]
    assert b["Labels"] == {"k": "v"}
    assert b["StopSignal"] == "SIGINT" and b["StopTimeout"] == 5
    assert b["Volumes"] == {"/anon": {}}
    assert b["ExposedPorts"] == {"80/tcp": {}}
    assert hc["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert hc["Memory"] == 512 * 1024 * 1024 and hc["MemorySwap"] == 1024 ** 3
    assert hc["NanoCpus"] == 1500000000 and hc["CpuShares"] == 512
    assert hc["CpusetCpus"] == "0-1" and hc["PidsLimit"] == 100
    assert hc["CapAdd"] == ["NET_ADMIN"] and hc["CapDrop"] == ["ALL"]
    assert hc["Privileged"] is True and hc["ReadonlyRootfs"] is True
    assert hc["SecurityOpt"] == ["no-new-privileges"]
    assert hc["Ulimits"] == [{"Name": "nofile", "Hard": 2048, "Soft": 1024}]
    assert hc["Tmpfs"] == {"/run": "size=64m"}
    assert hc["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert hc["ShmSize"] == 64 * 1024 * 1024 and hc["Init"] is True
    assert hc["Binds"] == ["/src:/dst:ro"] and hc["NetworkMode"] == "none"
    assert hc["LogConfig"] == {"Type": "", "Config": {"max-size": "1m"}}
    assert b["NetworkingConfig"] == {"EndpointsConfig": {}}


def test_run_flags_stop_at_image(fake, berth):
    r = berth("run", "--rm", "busybox", "ls", "-l", "--rm")
    assert r.returncode == 0, r.stderr
    assert fake.requests[1].json()["Cmd"] == ["ls", "-l", "--rm"]


def test_run_pulls_missing_image(fake, berth):
    fake.images_present.discard("alpine")
    r = berth("run", "--rm", "alpine", "true")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert "Unable to find image 'alpine:latest' locally" in err
    assert "Pull complete" in err and "Downloading" not in err
    c = calls(fake)
    assert c[0] == "POST /containers/create"
    assert c[1] == "POST /images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=latest"
    assert c[2] == "POST /containers/create"
    assert fake.requests[2].header("X-Registry-Auth") == "e30="


def test_run_missing_image_pull_fails(fake, berth):
    r = berth("run", "--rm", "nosuch", "true")
    assert r.returncode == 125
    err = r.stderr.decode()
    assert "Unable to find image 'nosuch:latest' locally" in err
    assert "berth: Error response from daemon: pull access denied for nosuch" in err
    assert "Run 'berth run --help' for more information" in err


def test_run_create_error_is_125(fake, berth):
    fake.route("POST", "/containers/create", lambda f, r: (409, {"message": "Conflict. The container name \"/x\" is already in use"}))
    r = berth("run", "--name", "x", "busybox", "true")
    assert r.returncode == 125
    assert r.stderr.decode().startswith("berth: Error response from daemon: Conflict.")


def test_run_start_error_codes(fake, berth):
    fake.add_container()
    fake.route("POST", f"/containers/{ID}/start", lambda f, r: (
        400, {"message": "failed to create task: exec: \"nope\": executable file not found in $PATH"}))
    r = berth("run", "--rm", "busybox", "nope")
    assert r.returncode == 127
    fake.route("POST", f"/containers/{ID}/start", lambda f, r: (
        400, {"message": "exec /etc/passwd: permission denied"}))
    r = berth("run", "--rm", "busybox", "/etc/passwd")
    assert r.returncode == 126
    fake.route("POST", f"/containers/{ID}/start", lambda f, r: (500, {"message": "boom"}))
    r = berth("run", "--rm", "busybox", "x")
    assert r.returncode == 125


def test_create_prints_id(fake, berth):
    r = berth("create", "--name", "c1", "busybox")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == ID + "\n"
    assert fake.requests[1].json()["Cmd"] is None


# ---- --mount and the health flags -------------------------------------------------------------

def test_mount_and_health_body(fake, berth, tmp_path):
    r = berth("run", "-d", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777",
              "--mount", "type=bind,src=/a,target=/b,ro,bind-propagation=rslave",
              "--mount", "target=/v,volume-label=b=2,volume-label=a=1,volume-nocopy",
              "--health-cmd", "test -e /x", "--health-interval", "1m30s",
              "--health-timeout", "2.01s", "--health-retries", "3", "busybox")
    assert r.returncode == 0, r.stderr
    b = fake.requests[1].json()
    assert b["HostConfig"]["Mounts"] == [
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o1777}},
        {"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True,
         "BindOptions": {"Propagation": "rslave"}},
        {"Type": "volume", "Target": "/v",
         "VolumeOptions": {"NoCopy": True, "Labels": {"a": "1", "b": "2"}, "DriverConfig": {}}}]
    assert b["Healthcheck"] == {"Test": ["CMD-SHELL", "test -e /x"], "Interval": 90 * 10**9,
                                "Timeout": 2010000000, "Retries": 3}
    r = berth("create", "--no-healthcheck", "busybox")
    assert r.returncode == 0, r.stderr
    b = fake.requests[-1].json()
    assert b["Healthcheck"] == {"Test": ["NONE"]} and "Mounts" not in b["HostConfig"]
    r = berth("create", "--mount", "type=bind,dst=/x", "--mount", "type=bind", "busybox")
    assert r.returncode == 125
    assert r.stderr.decode() == (
        'invalid argument "type=bind" for "--mount" flag: target is required\n\n'
        "Usage:  berth create [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
        "Run 'berth create --help' for more information\n")
    r = berth("run", "--health-cmd", "true", "--no-healthcheck", "busybox")
    assert r.returncode == 125
    assert r.stderr.decode() == ("berth: --no-healthcheck conflicts with --health-* options\n\n"
                                 "Run 'berth run --help' for more information\n")
    assert len([q for q in fake.requests if q.path == "/containers/create"]) == 2


DOCKER = shutil.which("docker", path="/usr/local/bin")

MOUNT_HEALTH_CASES = [
    # --mount: what docker sends
    "create --mount type=bind,src=/a,dst=/b busybox",
    "run -d --mount type=bind,source=/a,target=/b,readonly "
    "--mount type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1777 busybox",
    "create --mount target=/v busybox",
    "create --mount type=volume,src=vol,dst=/v,volume-driver=d,volume-label=b=2,volume-label=a=1,"
    "volume-label==x,volume-opt=o=v,volume-opt=k,volume-nocopy,volume-subpath=sub busybox",
    "create --mount type=volume,dst=/v,volume-nocopy=false busybox",
    "create --mount type=bind,src=.,dst=/b --mount type=bind,src=./x/../y//z/,dst=/c "
    "--mount src=..,dst=/d --mount src=.hidden,dst=/e --mount src=a/./b,dst=/f busybox",
    "create --mount TYPE=Bind,SRC=/a,DST=/b,RO=true,bind-propagation=RSlave,consistency=Cached "
    "busybox",
    "create --mount type=bind,src=/a,dst=/b,ro=t,readonly=F,bind-nonrecursive busybox",
    # the key=value form warns that it is deprecated
    "create --mount type=bind,src=/a,dst=/b,bind-nonrecursive=true busybox",
    "create --mount type=bind,src=/a,dst=/b,bind-recursive=disabled "
    "--mount type=bind,src=/a,dst=/c,bind-recursive=writable,ro=1 "
    "--mount type=bind,src=/a,dst=/d,bind-recursive=readonly,readonly,bind-propagation=RPrivate "
    "--mount type=bind,src=/a,dst=/e,bind-recursive=enabled busybox",
    "create --mount type=image,src=img,dst=/i,image-subpath=/sub busybox",
    "create --mount type=npipe,src=/p,dst=/n --mount type=cluster,src=c,dst=/c busybox",
    "create --mount type=Other,dst=/o busybox",
    "create --mount type=tmpfs,dst=/t,tmpfs-size=0,tmpfs-mode=0 busybox",
    "create --mount type=tmpfs,dst=/t,tmpfs-size=1.5g,tmpfs-mode=37777777777 busybox",
    "create --mount 'type=tmpfs,dst=/t,tmpfs-size=2 KiB' busybox",
    "create --mount type=bind,src=/a,dst=/b,src=/c,target=/d,type=tmpfs,type=bind busybox",
    # Go's encoding/csv: quoted fields, doubled quotes, a first record over lines
    """create --mount 'type=bind,"src=/a,b",dst=/x' busybox""",
    """create --mount 'type=bind,"src=/a""b","dst=/x"' busybox""",
    "create --mount $'\\ntype=bind,src=/a,dst=/x\\r\\nnext' busybox",
    """create --mount $'type=bind,"src=/a\\nb",dst=/x' busybox""",
    # --mount: docker's errors
    "create --mount src=x busybox",
    "create --mount type=,dst=/x busybox",
    "run --rm --mount '' busybox",
    "create --mount $'\\r\\n' busybox",
    "create --mount type=bind,dst=/x,foo=bar busybox",
    "create --mount type=bind,dst=/x,Foo busybox",
    "create --mount type=bind,dst=/x, busybox",
    "create --mount ' type=bind,dst=/x' busybox",
    "create --mount type=tmpfs,dst=/x,bind-propagation=rshared busybox",
    "create --mount dst=/x,tmpfs-size=1m busybox",
    "create --mount type=bind,dst=/x,volume-subpath=a busybox",
    "create --mount type=volume,dst=/x,image-subpath=a busybox",
    "create --mount type=image,dst=/x,bind-nonrecursive=0 busybox",
    "create --mount type=tmpfs,dst=/x,tmpfs-size=1kbb busybox",
    "create --mount type=tmpfs,dst=/x,tmpfs-size=-1 busybox",
    "create --mount type=tmpfs,dst=/x,tmpfs-mode=0o700 busybox",
    "create --mount type=tmpfs,dst=/x,tmpfs-mode=40000000000 busybox",
    "create --mount type=bind,src=/a,dst=/x,ro=no busybox",
    "create --mount type=bind,src=/a,dst=/x,bind-recursive=Enabled busybox",
    "create --mount type=bind,src=/a,dst=/x,bind-recursive=writable busybox",
    "create --mount type=bind,src=/a,dst=/x,bind-recursive=readonly,ro busybox",
    "create --mount type=bind,src=/a,dst=/x,bind-nonrecursive=maybe busybox",
    "create --mount type=volume,dst=/x,volume-nocopy=2 busybox",
    """create --mount 'type=bind,src=/a"b,dst=/x' busybox""",
    """create --mount 'type=bind,"src=/a"x,dst=/x' busybox""",
    """create --mount 'type=bind,"src=/a,dst=/x' busybox""",
    """create --mount $'type=bind,dst=/x,"src=/a\\nb' busybox""",
    "create --mount type=bind,dst=/a --mount type=bind busybox",
    # health: what docker sends
    "create --health-cmd 'curl -f http://localhost/ || exit 1' busybox",
    "run -d --health-cmd true --health-interval 1.5s --health-timeout 300ms "
    "--health-start-period 1m --health-start-interval 2.01s --health-retries 3 busybox",
    "create --health-interval 1h2m3.000000004s --health-timeout .5us busybox",
    "create --health-retries 0x1_0 --health-start-interval 1µs busybox",
    "create --no-healthcheck busybox",
    "create --no-healthcheck --health-retries 0 --health-interval 0s busybox",
    "create --health-cmd '' --health-timeout 0 busybox",
    # health: docker's errors
    "create --health-cmd x --no-healthcheck busybox",
    "run -d --no-healthcheck --health-interval 1s busybox",
    "create --health-interval -1s busybox",
    "create --health-timeout=-1ns busybox",
    "create --health-retries -1 busybox",
    "create --health-start-period -1s busybox",
    "create --health-start-interval -1m busybox",
    "create --health-start-period -1s --health-timeout -1s busybox",
    "create --health-interval x busybox",
    "create --health-interval 1 busybox",
    "create --health-interval 1x busybox",
    "create --health-interval 9999999h busybox",
    "create --health-interval 1µ busybox",
    "create --health-interval= busybox",
    "create --health-retries x busybox",
    "create --health-retries 99999999999999999999 busybox",
    "create --health-retries 1__0 busybox",
]


def run_tool(tool, args, tmp_path):
    d = FakeDaemon(tmp_path / f"{tool}.sock").start()
    try:
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TZ": "UTC"}
        if tool == "docker":
            env["DOCKER_HOST"] = d.host
            env["DOCKER_CONFIG"] = str(tmp_path / ".docker")
        else:
            env["BERTH_HOST"] = d.host
        r = subprocess.run([DOCKER if tool == "docker" else BERTH, *args], capture_output=True,
                           env=env, cwd=tmp_path, timeout=20, stdin=subprocess.DEVNULL)
        bodies = [q.json() for q in d.requests if q.path == "/containers/create"]
    finally:
        d.stop()
    return r, [(b.get("Healthcheck"), b["HostConfig"].get("Mounts")) for b in bodies]


def bash_words(line):
    """shlex.split, with bash's $'...' quoting (\\n, \\r) for the values with newlines."""
    out = subprocess.run(["bash", "-c", 'for a in ' + line + '; do printf "%s\\0" "$a"; done'],
                         capture_output=True, check=True).stdout
    return out.decode().split("\0")[:-1]


@pytest.mark.skipif(not DOCKER, reason="no docker CLI")
@pytest.mark.parametrize("line", MOUNT_HEALTH_CASES)
def test_mount_and_health_match_docker(tmp_path, line):
    args = bash_words(line)
    d, dbodies = run_tool("docker", args, tmp_path)
    b, bbodies = run_tool("berth", args, tmp_path)
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout), (b.stderr, d.stderr)
    # logrus's warnings carry the time: the two runs may be a second apart
    when = re.compile(r'^time="[^"]*"', re.M)
    assert when.sub("time=", b.stderr.decode()) == \
        when.sub("time=", d.stderr.decode().replace("docker", "berth"))
    assert bbodies == dbodies


# ---- flags, usage, errors -------------------------------------------------------------------

def test_unknown_flag_is_125(fake, berth):
    r = berth("ps", "--foo")
    assert r.returncode == 125
    assert r.stderr.decode() == ("unknown flag: --foo\n\nUsage:  berth ps [OPTIONS]\n\n"
                                 "Run 'berth ps --help' for more information\n")
    r = berth("ps", "-n", "x")
    assert r.returncode == 125
    assert r.stderr.decode().startswith('invalid argument "x" for "-n, --last" flag')


def test_missing_args(fake, berth):
    r = berth("stop")
    assert r.returncode == 1
    assert r.stderr.decode().startswith("berth: 'berth stop' requires at least 1 argument\n")
    assert fake.requests == []


def test_help_and_unknown_command(berth):
    r = berth("ps", "--help")
    assert r.returncode == 0
    out = r.stdout.decode()
    assert out.startswith("Usage:  berth ps [OPTIONS]\n\nList containers\n")
    assert "berth container ls, berth container list, berth container ps, berth ps" in out
    assert "-a, --all" in out
    r = berth("nope")
    assert r.returncode == 1
    assert "unknown command: berth nope" in r.stderr.decode()


def test_cannot_connect(tmp_path):
    r = subprocess.run([BERTH, "-H", f"unix://{tmp_path}/none.sock", "ps"], capture_output=True)
    assert r.returncode == 1
    assert r.stderr.decode() == (f"Cannot connect to the berth daemon at unix://{tmp_path}/none.sock."
                                 " Is the berth daemon running?\n")
    r = subprocess.run([BERTH, "-H", f"unix://{tmp_path}/none.sock", "run", "busybox"],
                       capture_output=True)
    assert r.returncode == 125


def test_host_flag_and_env(fake, tmp_path):
    r = subprocess.run([BERTH, "-H", fake.host, "ps", "-q"], capture_output=True,
                       env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert "GET /containers/json" in calls(fake)


def test_api_downgrade(tmp_path):
    d = FakeDaemon(tmp_path / "old.sock", api_version="1.41").start()
    try:
        r = subprocess.run([BERTH, "-H", d.host, "ps", "-q"], capture_output=True)
        assert r.returncode == 0, r.stderr
        assert d.requests[-1].raw_path == "/v1.41/containers/json"
    finally:
        d.stop()


# ---- ps / images / tables ---------------------------------------------------------------------

def ps_list(now):
    return [
        {"Id": ID, "Names": ["/web"], "Image": "nginx:latest", "ImageID": IMAGE_ID,
         "Command": "nginx -g 'daemon off;'", "Created": now - 3 * 3600,
         "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                   {"PrivatePort": 443, "Type": "tcp"}],
         "Labels": {"b": "2", "a": "1"}, "State": "running", "Status": "Up 3 hours",
         "HostConfig": {"NetworkMode": "bridge"},
         "NetworkSettings": {"Networks": {"bridge": {}}}, "Mounts": []},
        {"Id": "f" * 64, "Names": ["/db"], "Image": "sha256:" + "f" * 64,
         "ImageID": "sha256:" + "f" * 64, "Command": "sleep 1000",
         "Created": now - 10, "Ports": [], "Labels": {}, "State": "exited",
         "Status": "Exited (0) 3 seconds ago", "HostConfig": {"NetworkMode": "bridge"},
         "NetworkSettings": {"Networks": {}}, "Mounts": []},
    ]


def test_ps_table(fake, berth):
    now = int(time.time())
    fake.route("GET", "/containers/json", lambda f, r: (200, ps_list(now)))
    r = berth("ps", "-a")
    assert r.returncode == 0, r.stderr
    assert calls(fake) == ["GET /containers/json?all=1"]
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                "PORTS", "NAMES"]
    assert lines[0].startswith("CONTAINER ID   IMAGE          COMMAND                  CREATED")
    assert lines[1].startswith("0123456789ab   nginx:latest   \"nginx -g 'daemon of…\"   3 hours ago")
    assert "443/tcp, 0.0.0.0:8080->80/tcp" in lines[1]
    assert lines[1].endswith("   web")
    # the list says now - 10 s; the clock may tick over to 11 before the CLI formats it
    assert re.match(r'ffffffffffff   ffffffffffff   "sleep 1000"             1[01] seconds ago',
                    lines[2]), lines[2]
    r = berth("ps", "-q", "--no-trunc")
    assert r.stdout.decode() == ID + "\n" + "f" * 64 + "\n"
    r = berth("ps", "--format", "{{.Names}} {{.Label \"a\"}} {{.Labels}} {{json .Ports}}")
    assert r.stdout.decode().splitlines()[0] == 'web 1 a=1,b=2 "443/tcp, 0.0.0.0:8080->80/tcp"'
    r = berth("ps", "--format", "table {{.ID}}\t{{.Status}}")
    assert r.stdout.decode() == ("CONTAINER ID   STATUS\n0123456789ab   Up 3 hours\n"
                                 "ffffffffffff   Exited (0) 3 seconds ago\n")
    r = berth("ps", "--format", "{{.Nope}}")
    assert r.returncode == 1 and b"can't evaluate field Nope" in r.stderr


def test_ps_query(fake, berth):
    berth("ps", "-n", "3", "-s", "--filter", "status=exited", "-f", "label=a=b")
    q = fake.requests[-1]
    assert q.path == "/containers/json"
    assert q.query["limit"] == ["3"] and q.query["size"] == ["1"]
    assert json.loads(q.query["filters"][0]) == {"status": {"exited": True}, "label": {"a=b": True}}
    berth("ps", "-l")
    assert fake.requests[-1].query["limit"] == ["1"]


def test_ps_matches_docker(fake, berth, tmp_path):
    docker = shutil.which("docker")
    if not docker:
        pytest.skip("no docker CLI")
    now = int(time.time())
    listed = ps_list(now)
    # two CLIs format "Created" at two moments: seconds ago would tick between them, so
    # put it mid-way through a minute bucket ("32 minutes ago" holds for a minute)
    listed[1]["Created"] = now - 32 * 60 - 30
    fake.route("GET", "/containers/json", lambda f, r: (200, listed))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKER_HOST": fake.host,
           "TZ": "UTC"}
    for args in (["ps", "-a"], ["ps", "-a", "--no-trunc"], ["ps", "--format", "{{json .}}"],
                 ["ps", "--format", "table {{.Names}}\t{{.Ports}}\t{{.State}}"]):
        d = subprocess.run([docker, *args], capture_output=True, env=env)
        b = berth(*args)
        if "json" in args[-1]:
            # docker's Go map order differs; compare parsed
            assert [json.loads(x) for x in b.stdout.splitlines()][0]["Names"] == \
                [json.loads(x) for x in d.stdout.splitlines()][0]["Names"]
            continue
        assert b.stdout.decode() == d.stdout.decode(), args


def test_images_table(fake, berth, tmp_path):
    now = int(time.time())
    imgs = [{"Id": IMAGE_ID, "ParentId": "", "RepoTags": ["busybox:latest", "busybox:1.36"],
             "RepoDigests": ["busybox@sha256:" + "cd" * 32], "Created": now - 2 * 86400 - 100,
             "Size": 4261550, "SharedSize": -1, "Labels": None, "Containers": -1},
            {"Id": "sha256:" + "ee" * 32, "ParentId": "", "RepoTags": [], "RepoDigests": [],
             "Created": now - 32 * 60 - 30, "Size": 1234, "SharedSize": -1, "Labels": None,
             "Containers": -1}]
    fake.route("GET", "/images/json", lambda f, r: (200, imgs))
    r = berth("images")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (
        "REPOSITORY   TAG       IMAGE ID       CREATED          SIZE\n"
        "busybox      latest    abababababab   2 days ago       4.26MB\n"
        "busybox      1.36      abababababab   2 days ago       4.26MB\n"
        "<none>       <none>    eeeeeeeeeeee   32 minutes ago   1.23kB\n")
    r = berth("images", "-q")
    assert r.stdout.decode() == "abababababab\nabababababab\neeeeeeeeeeee\n"
    r = berth("image", "ls", "--digests", "--format", "{{.Repository}}:{{.Tag}}@{{.Digest}}")
    assert r.stdout.decode().splitlines()[0] == "busybox:latest@sha256:" + "cd" * 32
    berth("images", "-a", "busybox")
    q = fake.requests[-1]
    assert q.query["all"] == ["1"]
    assert json.loads(q.query["filters"][0]) == {"reference": {"busybox": True}}
    docker = shutil.which("docker")
    if docker:
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKER_HOST": fake.host}
        for args in (["images"], ["images", "--digests"], ["images", "--no-trunc"]):
            d = subprocess.run([docker, *args], capture_output=True, env=env)
            assert berth(*args).stdout.decode() == d.stdout.decode(), args


# ---- lifecycle verbs ----------------------------------------------------------------------------

def test_stop_kill_rm_print_args(fake, berth):
    fake.add_container(name="/web")
    r = berth("stop", "-t", "3", "web")
    assert r.returncode == 0 and r.stdout == b"web\n"
    assert fake.requests[-1].target == "/v1.50/containers/web/stop?t=3"
    r = berth("kill", "-s", "HUP", "web")
    assert r.stdout == b"web\n"
    assert fake.requests[-1].target == "/v1.50/containers/web/kill?signal=HUP"
    r = berth("rm", "-f", "-v", "web", "nosuch")
    assert r.returncode == 0 and r.stdout == b"web\n"
    assert r.stderr == b"Error response from daemon: No such container: nosuch\n"
    assert fake.requests[-2].target == "/v1.50/containers/web?force=1&v=1"
    r = berth("rm", "web", "nosuch")
    assert r.returncode == 1
    assert r.stdout == b"web\n"
    assert r.stderr == b"Error response from daemon: No such container: nosuch\n"
    r = berth("restart", "web")
    assert r.stdout == b"web\n" and fake.requests[-1].path == "/containers/web/restart"
    r = berth("container", "pause", "web")
    assert r.stdout == b"web\n" and fake.requests[-1].path == "/containers/web/pause"


def test_wait_prints_code(fake, berth):
    c = fake.add_container(name="/w", exit_code=7)
    c.exited.set()
    r = berth("wait", "w")
    assert r.returncode == 0 and r.stdout == b"7\n"


def test_logs_demux(fake, berth):
    fake.add_container(name="/l")

    def logs(f, req):
        f.send(req, 200, b"\x01\x00\x00\x00\x00\x00\x00\x04out\n\x02\x00\x00\x00\x00\x00\x00\x04err\n",
               "application/vnd.docker.multiplexed-stream")
        return None
    fake.route("GET", f"/containers/{ID}/logs", logs)
    r = berth("logs", "-t", "--tail", "5", "l")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"out\n" and r.stderr == b"err\n"
    assert calls(fake)[0] == "GET /containers/l/json"
    assert calls(fake)[1] == f"GET /containers/{ID}/logs?stderr=1&stdout=1&tail=5&timestamps=1"


def test_exec_exit_code(fake, berth):
    fake.add_container(name="/e", running=True)
    fake.route("POST", f"/containers/{ID}/exec", lambda f, r: (201, {"Id": "e" * 64}))

    def start(f, req):
        req.wfile.write(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
                        b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" +
                        b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n")
        req.wfile.flush()
        return None
    fake.route("POST", "/exec/e+/start", start)
    fake.route("GET", "/exec/e+/json", lambda f, r: (200, {"ID": "e" * 64, "Running": False,
                                                         "ExitCode": 42}))
    r = berth("exec", "-e", "A=1", "-w", "/", "e", "sh", "-c", "echo hi")
    assert r.returncode == 42, r.stderr
    assert r.stdout == b"hi\n"
    body = fake.requests[2].json()
    assert body["Cmd"] == ["sh", "-c", "echo hi"] and body["Env"] == ["A=1"]
    assert body["AttachStdout"] and not body["AttachStdin"] and body["WorkingDir"] == "/"
    assert fake.requests[3].json() == {"Detach": False, "Tty": False, "ConsoleSize": [0, 0]}
    assert fake.requests[3].header("Upgrade") == "tcp"


def test_inspect_probes_types(fake, berth):
    fake.route("GET", "/images/busybox/json", lambda f, r: (200, {"Id": IMAGE_ID, "RepoTags": ["busybox:latest"], "Size": 1}))
    r = berth("inspect", "busybox")
    assert r.returncode == 0, r.stderr
    assert calls(fake) == ["GET /containers/busybox/json", "GET /images/busybox/json"]
    assert r.stdout.decode() == ('[\n    {\n        "Id": "%s",\n        "RepoTags": [\n'
                                 '            "busybox:latest"\n        ],\n        "Size": 1\n'
                                 '    }\n]\n' % IMAGE_ID)
    r = berth("inspect", "-f", "{{.Id}} {{index .RepoTags 0}}", "busybox")
    assert r.stdout.decode() == IMAGE_ID + " busybox:latest\n"
    r = berth("inspect", "nothing")
    assert r.returncode == 1
    assert r.stdout == b"[]\n"
    assert r.stderr == b"Error: No such object: nothing\n"
    r = berth("container", "inspect", "nothing")
    # docker 28 prints a typed inspect's error as the daemon gave it
    assert r.returncode == 1 and r.stderr == b"Error response from daemon: No such container: nothing\n"


def test_rmi_and_tag(fake, berth):
    fake.route("DELETE", "/images/busybox", lambda f, r: (200, [{"Untagged": "busybox:latest"},
                                                               {"Deleted": IMAGE_ID}]))
    fake.route("POST", "/images/busybox/tag", lambda f, r: (201, None))
    r = berth("rmi", "-f", "busybox")
    assert r.stdout.decode() == f"Untagged: busybox:latest\nDeleted: {IMAGE_ID}\n"
    assert fake.requests[-1].target == "/v1.50/images/busybox?force=1"
    r = berth("tag", "busybox", "myrepo/bb:v1")
    assert r.returncode == 0, r.stderr
    assert fake.requests[-1].query == {"repo": ["docker.io/myrepo/bb"], "tag": ["v1"]}


def test_version(fake, berth):
    r = berth("version")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("Client:\n Version:           0.1.0\n API version:       1.50\n")
    assert "Server: Fake Engine\n Engine:\n  Version:          28.2.2\n" in out
    assert "  API version:      1.50 (minimum version 1.24)\n" in out
    assert "  Built:            Fri May 30 12:07:18 2025\n" in out
    r = berth("version", "--format", "{{.Server.Version}}")
    assert r.stdout == b"28.2.2\n"


def test_info(fake, berth):
    r = berth("info")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert " Containers: 1\n  Running: 1\n" in out
    assert " Total Memory: 8GiB\n" in out
    assert r.stderr == b"WARNING: fake\n"
    assert berth("info", "--format", "{{.NCPU}}").stdout == b"2\n"


def test_events(fake, berth):
    def events(f, req):
        f.stream_begin(req)
        f.stream_chunk(req, json.dumps({"Type": "container", "Action": "start",
                                        "Actor": {"ID": ID, "Attributes": {"name": "x", "image": "busybox"}},
                                        "time": 1700000000, "timeNano": 1700000000123456789}) + "\n")
        f.stream_end(req)
        return None
    fake.route("GET", "/events", events)
    r = berth("events", "--since", "1700000000", "--until", "1700000001")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (f"2023-11-14T22:13:20.123456789Z container start {ID} "
                                 "(image=busybox, name=x)\n")
    assert fake.requests[-1].query["since"] == ["1700000000"]
    r = berth("events", "--format", "{{.Action}}")
    assert r.stdout == b"start\n"


def test_system_df(fake, berth):
    fake.route("GET", "/system/df", lambda f, r: (200, {
        "LayersSize": 4261550,
        "Images": [{"Id": IMAGE_ID, "Containers": 1, "Size": 4261550, "SharedSize": 0}],
        "Containers": [{"Id": ID, "State": "exited", "SizeRw": 10}],
        "Volumes": [], "BuildCache": []}))
    r = berth("system", "df")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
        "Images          1         1         4.262MB   0B (0%)\n"
        "Containers      1         0         10B       10B (100%)\n"
        "Local Volumes   0         0         0B        0B\n"
        "Build Cache     0         0         0B        0B\n")


def test_prune_prompts(fake, berth):
    fake.route("POST", "/containers/prune", lambda f, r: (200, {"ContainersDeleted": [ID], "SpaceReclaimed": 2000}))
    r = berth("container", "prune", input=b"n\n")
    assert r.returncode == 1
    assert calls(fake) == []
    r = berth("container", "prune", "-f")
    assert r.returncode == 0
    assert r.stdout.decode() == f"Deleted Containers:\n{ID}\n\nTotal reclaimed space: 2kB\n"


def test_load_and_save(fake, berth, tmp_path):
    def load(f, req):
        f.stream_begin(req)
        f.stream_chunk(req, json.dumps({"stream": "Loaded image: busybox:latest\n"}) + "\r\n")
        f.stream_end(req)
        return None
    fake.route("POST", "/images/load", load)
    tar = tmp_path / "img.tar"
    tar.write_bytes(b"x" * 100000)
    r = berth("load", "-i", str(tar))
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"Loaded image: busybox:latest\n"
    req = fake.requests[-1]
    assert req.body == b"x" * 100000
    assert req.header("Transfer-Encoding") == "chunked"
    assert req.header("Content-Type") == "application/x-tar"
    fake.route("GET", "/images/get", lambda f, r: (200, b"TARDATA"))
    out = tmp_path / "out.tar"
    r = berth("save", "-o", str(out), "busybox", "alpine")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == b"TARDATA"
    assert fake.requests[-1].query["names"] == ["busybox", "alpine"]


def test_pull(fake, berth):
    r = berth("pull", "alpine")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("Using default tag: latest\nlatest: Pulling from library/alpine\n")
    assert out.endswith("Status: Downloaded newer image for alpine:latest\ndocker.io/library/alpine:latest\n")
    assert fake.requests[-1].target == "/v1.50/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=latest"
