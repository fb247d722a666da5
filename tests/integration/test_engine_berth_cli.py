"""berth, our docker-compatible client, against a private berthd: every command as a user
runs it, with its output, exit code and error wording; where it means something, the
output is compared with the real docker CLI's against the same daemon."""

import json
import re
import time

import pytest

import engine
from cliutil import HEX12, HEX64, events_between, popen, pty_session, table, wait_until

BERTH = str(engine.BUILD / "berth")


@pytest.fixture
def d(berthd):
    return berthd


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def same_as_docker(d, *args, unordered=False):
    """berth ARGS and docker ARGS print the same (times can tick over a second: retry).
    unordered: rows may come in any order (docker walks a Go map for an image's tags)."""
    def norm(out):
        if not unordered:
            return out
        lines = out.splitlines()
        return lines[:1] + sorted(lines[1:])
    for _ in range(3):
        b, k = ok(d.berth(*args)), ok(d.docker(*args))
        if norm(b) == norm(k):
            return b
    assert b == k, f"berth {args}:\n{b}\ndocker:\n{k}"


def run_d(d, *args):
    cid = ok(d.berth("run", "-d", *args)).strip()
    assert HEX64.match(cid), cid
    return cid


# ---- version, info -------------------------------------------------------------------

def test_version(d):
    out = ok(d.berth("version"))
    assert re.search(r"^Client:\n Version:\s+\S+\n API version:\s+1\.50\n", out, re.M), out
    assert re.search(r"^Server: berth\n Engine:\n  Version:", out, re.M), out
    assert re.search(r"^  API version:\s+1\.50 \(minimum version 1\.24\)$", out, re.M)
    assert ok(d.berth("version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}")) \
        == "1.50 1.50\n"
    v = json.loads(ok(d.berth("version", "--format", "{{json .}}")))
    assert v["Server"]["Components"][0]["Name"] == "Engine"
    # the server half reads as docker's
    assert out[out.index("Server:"):] == ok(d.docker("version"))[
        ok(d.docker("version")).index("Server:"):]


def test_info(d):
    out = ok(d.berth("info"))
    k = ok(d.docker("info"))
    # the server section is the same as docker's
    assert out[out.index("Server:"):] == k[k.index("Server:"):]
    assert re.search(r"^ Images: 1$", out, re.M)
    assert ok(d.berth("info", "--format", "{{.Images}} {{.Containers}} {{.Driver}}")) \
        == "1 0 overlay2\n"
    info = json.loads(ok(d.berth("info", "--format", "{{json .}}")))
    assert info["DockerRootDir"] == str(d.data)


# ---- run -----------------------------------------------------------------------------

def test_run_attached(d):
    p = d.berth("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert (ok(p), p.stderr) == ("out\n", "err\n")
    p = d.berth("run", "--rm", "-e", "A=1", "-w", "/tmp", "--entrypoint", "sh", "busybox",
                "-c", "echo $A $PWD $(hostname)")
    a, pwd, host = ok(p).split()
    assert (a, pwd) == ("1", "/tmp") and HEX12.match(host)
    p = d.berth("run", "--rm", "-u", "65534:65534", "--hostname", "hh", "busybox", "sh", "-c",
                "id -u; hostname")
    assert ok(p) == "65534\nhh\n"
    assert ok(d.berth("ps", "-aq")) == ""


def test_run_stdin(d):
    assert ok(d.berth("run", "-i", "--rm", "busybox", "cat", input="abc\n")) == "abc\n"
    assert ok(d.berth("run", "-i", "--rm", "busybox", "wc", "-c", input="x" * 100000)).strip() \
        == "100000"


def test_run_it_pty(d):
    out, rc = pty_session([BERTH, "-H", d.host, "run", "-it", "--rm", "busybox", "sh"], d.env(),
                          [(b"# ", b"tty; stty size; exit 7\r")])
    assert rc == 7, out
    assert b"/dev/pts/0\r\n" in out
    assert b"\r\r\n" not in out  # our terminal is raw, as docker makes it
    assert ok(d.berth("ps", "-aq")) == ""


def test_run_detached_name_conflict(d):
    cid = run_d(d, "--name", "web", "busybox", "sleep", "60")
    p = d.berth("run", "-d", "--name", "web", "busybox", "true")
    assert p.returncode == 125
    assert p.stderr.startswith(
        f'berth: Error response from daemon: Conflict. The container name "/web" is already in '
        f'use by container "{cid}". You have to remove (or rename) that container to be able '
        f"to reuse that name.\n"), p.stderr
    assert "Run 'berth run --help' for more information" in p.stderr


def test_exit_codes_and_errors(d):
    assert d.berth("run", "--rm", "busybox", "sh", "-c", "exit 42").returncode == 42
    # 127: not found; 126: can't be run; 125: berth's own failures
    p = d.berth("run", "--rm", "busybox", "nosuchcmd")
    assert p.returncode == 127
    assert 'exec: "nosuchcmd": executable file not found in $PATH' in p.stderr
    p = d.berth("run", "--rm", "busybox", "/etc")
    assert p.returncode == 126
    assert d.docker("run", "--rm", "busybox", "/etc").returncode == 126
    assert d.berth("run", "--rm", "busybox", "/etc/passwd").returncode == 126
    p = d.berth("run", "--bogus", "busybox")
    assert p.returncode == 125
    assert p.stderr == ("unknown flag: --bogus\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] "
                        "[ARG...]\n\nRun 'berth run --help' for more information\n")
    p = d.berth("run", "--rm", "nosuchimage:1", "true")
    assert p.returncode == 125
    assert "Unable to find image 'nosuchimage:1' locally" in p.stderr
    # (a missing host path of -v is made, as dockerd does; a named volume is refused)
    p = d.berth("run", "--rm", "-v", "nosuchvolume:/x", "busybox", "true")
    assert p.returncode == 125
    assert p.stderr.startswith("berth: Error response from daemon: ")
    # argument counts read as docker 28's
    p = d.berth("logs")
    assert p.returncode == 1
    assert p.stderr == ("berth: 'berth logs' requires 1 argument\n\nUsage:  berth logs [OPTIONS] "
                        "CONTAINER\n\nRun 'berth logs --help' for more information\n")
    assert d.docker("logs").stderr == p.stderr.replace("berth", "docker")
    for args in (("ps", "x"), ("rm",), ("tag", "a"), ("rename", "a")):
        b, k = d.berth(*args), d.docker(*args)
        assert b.returncode == k.returncode == 1
        assert b.stderr.replace("berth", "docker") == k.stderr, args
    # daemon errors, verb by verb, with docker's wording
    for args in (("stop", "x"), ("kill", "x"), ("pause", "x"), ("unpause", "x"),
                 ("restart", "x"), ("wait", "x"), ("top", "x"), ("logs", "x"),
                 ("rename", "x", "y"), ("start", "x"), ("rm", "x"), ("rmi", "nosuch:1"),
                 ("exec", "x", "true"), ("inspect", "x")):
        b, k = d.berth(*args), d.docker(*args)
        assert (b.returncode, b.stdout, b.stderr) == (k.returncode, k.stdout, k.stderr), args
    assert ok(d.berth("ps", "-aq")) == ""


# ---- the container lifecycle -----------------------------------------------------------

def test_create_start_stop_restart_kill_rm(d):
    cid = ok(d.berth("create", "--name", "lc", "busybox", "sh", "-c",
                     "trap 'exit 3' TERM; echo up; while :; do sleep 0.1; done")).strip()
    assert HEX64.match(cid)
    assert ok(d.berth("ps", "-a", "--format", "{{.Names}} {{.Status}}")) == "lc Created\n"
    assert ok(d.berth("start", "lc")) == "lc\n"
    assert ok(d.berth("ps", "--format", "{{.Status}}")).startswith("Up ")
    # "up" is printed once the TERM trap is set (PID 1 ignores TERM until then)
    ups = lambda n: wait_until(lambda: d.berth("logs", "lc").stdout.count("up") == n,  # noqa
                               timeout=10, what=f"{n} starts")
    ups(1)
    t0 = time.monotonic()
    assert ok(d.berth("stop", "lc")) == "lc\n"
    assert time.monotonic() - t0 < 5
    assert ok(d.berth("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "lc")) \
        == "exited 3\n"
    assert ok(d.berth("restart", "-t", "1", "lc")) == "lc\n"
    assert ok(d.berth("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "lc")) \
        .startswith("true ")
    ups(2)
    assert ok(d.berth("kill", "-s", "TERM", "lc")) == "lc\n"
    assert ok(d.berth("wait", "lc", timeout=20)) == "3\n"
    ok(d.berth("start", cid[:12]))
    ups(3)
    assert ok(d.berth("kill", "lc")) == "lc\n"
    assert ok(d.berth("wait", "lc")) == "137\n"
    p = d.berth("kill", "lc")
    assert p.returncode == 1
    assert p.stderr == (f"Error response from daemon: Cannot kill container: lc: container {cid} "
                        f"is not running\n")
    assert ok(d.berth("logs", "lc")) == "up\nup\nup\n"
    assert ok(d.berth("rm", "lc")) == "lc\n"
    assert ok(d.berth("ps", "-aq")) == ""


def test_rm_force_and_running(d):
    run_d(d, "--name", "r1", "busybox", "sleep", "60")
    p = d.berth("rm", "r1")
    assert p.returncode == 1
    assert p.stderr == d.docker("rm", "r1").stderr
    assert p.stderr == ('Error response from daemon: cannot remove container "/r1": container '
                        "is running: stop the container before removing or force remove\n")
    assert ok(d.berth("rm", "-f", "r1", "nosuch")) == "r1\n"
    assert ok(d.berth("ps", "-aq")) == ""


def test_ps(d):
    a = run_d(d, "--name", "alpha", "--label", "tier=web", "busybox", "sleep", "60")
    assert d.berth("run", "--name", "beta", "busybox", "sh", "-c", "exit 2").returncode == 2
    ok(d.berth("create", "--name", "gamma", "busybox", "true"))
    # tables as docker prints them
    same_as_docker(d, "ps")
    same_as_docker(d, "ps", "-a")
    same_as_docker(d, "ps", "-a", "--no-trunc")
    same_as_docker(d, "ps", "-as")
    rows = table(ok(d.berth("ps", "-a")))
    assert rows[0] == ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    st = {r[-1]: r[4] for r in rows[1:]}
    assert st["gamma"] == "Created"
    assert re.match(r"^Exited \(2\) .+ ago$", st["beta"])
    assert st["alpha"].startswith("Up ")
    # -q, filters, -n/-l
    assert ok(d.berth("ps", "-q")) == a[:12] + "\n"
    assert sorted(ok(d.berth("ps", "-aq")).split()) == sorted(ok(d.docker("ps", "-aq")).split())
    assert ok(d.berth("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}")) \
        == "beta\n"
    assert ok(d.berth("ps", "--filter", "label=tier=web", "-q", "--no-trunc")) == a + "\n"
    assert ok(d.berth("ps", "-a", "-f", "name=gam", "--format", "{{.Names}}")) == "gamma\n"
    assert ok(d.berth("ps", "-l", "--format", "{{.Names}}")) == "gamma\n"
    assert ok(d.berth("ps", "-n", "2", "--format", "{{.Names}}")) == "gamma\nbeta\n"
    # --format: fields, json, table, range/index-style functions
    assert ok(d.berth("ps", "--format", "{{.ID}}")) == a[:12] + "\n"
    assert ok(d.berth("ps", "--format", "{{.Label \"tier\"}} {{.Labels}}")) == "web tier=web\n"
    for fmt in ("{{json .}}", "table {{.Names}}\t{{.Status}}", "{{.Names}}\t{{.Command}}",
                "{{json .Names}} {{upper .State}} {{len .Names}}",
                "table {{.ID}}\t{{.Image}}\t{{.Labels}}"):
        same_as_docker(d, "ps", "-a", "--format", fmt)
    j = json.loads(ok(d.berth("ps", "--format", "{{json .}}")))
    assert j["Names"] == "alpha" and j["State"] == "running"
    # a bad template: docker's wording, exit 1
    p = d.berth("ps", "--format", "{{.Nope}}")
    assert p.returncode != 0 and "can't evaluate field Nope" in p.stderr
    ok(d.berth("rm", "-f", "alpha", "beta", "gamma"))


def test_logs(d):
    cid = run_d(d, "--name", "lg", "busybox", "sh", "-c",
                "for i in 1 2 3; do echo line$i; sleep 0.2; done; echo oops >&2")
    t0 = time.monotonic()
    p = d.berth("logs", "-f", "lg", timeout=20)
    assert (ok(p), p.stderr) == ("line1\nline2\nline3\n", "oops\n")
    assert time.monotonic() - t0 < 15
    p = d.berth("logs", "--tail", "2", "lg")
    assert (ok(p), p.stderr) == ("line3\n", "oops\n")
    lines = ok(d.berth("logs", "-t", cid)).splitlines()
    assert len(lines) == 3
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line1$", lines[0])
    # the same as docker's, stream by stream
    b, k = d.berth("logs", "lg"), d.docker("logs", "lg")
    assert (b.stdout, b.stderr) == (k.stdout, k.stderr)
    ok(d.berth("rm", "lg"))


def test_logs_follow_live(d):
    run_d(d, "--name", "lv", "busybox", "sh", "-c", "echo first; sleep 1; echo second")
    pr = popen([BERTH, "-H", d.host, "logs", "-f", "lv"], d.env())
    try:
        assert pr.stdout.readline() == "first\n"
        out, err = pr.communicate(timeout=15)
        assert (out, pr.returncode) == ("second\n", 0), err
    finally:
        if pr.poll() is None:
            pr.kill()
            pr.wait(5)
    ok(d.berth("rm", "-f", "lv"))


def test_exec(d):
    run_d(d, "--name", "ex", "busybox", "sleep", "60")
    assert ok(d.berth("exec", "ex", "echo", "hello")) == "hello\n"
    assert d.berth("exec", "ex", "sh", "-c", "exit 4").returncode == 4
    p = d.berth("exec", "ex", "nosuchcmd")
    assert p.returncode == 127
    assert "executable file not found" in p.stdout + p.stderr
    assert ok(d.berth("exec", "-i", "ex", "cat", input="piped\n")) == "piped\n"
    assert ok(d.berth("exec", "-e", "A=b", "-w", "/etc", "-u", "65534", "ex", "sh", "-c",
                      "echo $A $PWD $(id -u)")) == "b /etc 65534\n"
    assert ok(d.berth("exec", "-d", "ex", "sh", "-c", "echo bg > /tmp/bg")) == ""
    wait_until(lambda: d.berth("exec", "ex", "cat", "/tmp/bg").stdout == "bg\n", timeout=10,
               what="detached exec")
    out, rc = pty_session([BERTH, "-H", d.host, "exec", "-it", "ex", "sh"], d.env(),
                          [(b"# ", b"tty; echo $((6*7)); exit 3\r")])
    assert rc == 3, out
    assert re.search(rb"/dev/pts/\d+\r\n42\r\n", out), out
    ok(d.berth("rm", "-f", "ex"))


def test_attach_and_start_a(d):
    ok(d.berth("create", "--name", "sa", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"))
    p = d.berth("start", "-a", "sa")
    assert (p.returncode, p.stdout, p.stderr) == (3, "out\n", "err\n")
    ok(d.berth("create", "-i", "--name", "si", "busybox", "cat"))
    assert ok(d.berth("start", "-ai", "si", input="hello\n")) == "hello\n"
    run_d(d, "--name", "at", "busybox", "sh", "-c",
          "read x < /dev/zero & sleep 0.5; echo attached; exit 5")
    p = d.berth("attach", "at", timeout=20)
    assert (p.returncode, p.stdout) == (5, "attached\n")
    p = d.berth("attach", "at")
    assert p.returncode == 1
    assert p.stderr == "You cannot attach to a stopped container, start it first\n"
    ok(d.berth("rm", "sa", "si", "at"))


def test_top(d):
    run_d(d, "--name", "tp", "busybox", "sleep", "60")
    out = same_as_docker(d, "top", "tp")
    rows = table(out)
    assert rows[0][:3] == ["UID", "PID", "PPID"] and rows[0][-1] == "CMD"
    assert rows[1][-1] == "sleep 60"
    assert same_as_docker(d, "top", "tp", "-o", "pid,comm").splitlines()[0].split() \
        == ["PID", "COMMAND"]
    ok(d.berth("rm", "-f", "tp"))


def test_inspect(d):
    cid = run_d(d, "--name", "ins", "-e", "FOO=bar", "--label", "k=v", "busybox", "sleep", "60")
    same_as_docker(d, "inspect", "ins")
    same_as_docker(d, "container", "inspect", cid[:10])
    c = json.loads(ok(d.berth("inspect", "ins")))[0]
    assert c["Id"] == cid and c["Name"] == "/ins"
    assert c["State"]["Running"] is True and c["State"]["Pid"] > 0
    assert "FOO=bar" in c["Config"]["Env"]
    for fmt, want in (
            ("{{.Name}} {{.State.Status}} {{.Config.Labels.k}}", "/ins running v"),
            ("{{.ID}}", cid),
            ("{{json .Config.Cmd}}", '["sleep","60"]'),
            ("{{index .Config.Cmd 1}}", "60"),
            ("{{index .Config.Labels \"k\"}}", "v"),
            ("{{range .Config.Cmd}}<{{.}}>{{end}}", "<sleep><60>"),
            ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{end}}", "k=v"),
            ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
            ("{{len .Args}} {{join .Args \",\"}} {{upper .Path}}", "1 60 SLEEP"),
            ("{{printf \"%d-%s\" .State.ExitCode .Name}}", "0-/ins"),
            ("{{.Name | printf \"%q\"}}", '"/ins"'),
    ):
        assert ok(d.berth("inspect", "-f", fmt, "ins")) == want + "\n", fmt
        assert ok(d.docker("inspect", "-f", fmt, "ins")) == want + "\n", fmt
    # several objects, --type, and errors
    out = ok(d.berth("inspect", "-f", "{{.Name}}", "ins", "busybox"))
    assert out.splitlines()[0] == "/ins"
    assert ok(d.berth("inspect", "--type", "image", "-f", "{{index .RepoTags 0}}", "busybox")) \
        == "busybox:latest\n"
    p = d.berth("inspect", "ins", "nosuch")
    assert p.returncode == 1 and p.stderr == "Error: No such object: nosuch\n"
    assert json.loads(p.stdout)[0]["Id"] == cid
    ok(d.berth("rm", "-f", "ins"))


def test_run_mount_tmpfs(d):
    p = d.berth("run", "--rm", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m", "busybox",
                "sh", "-c", 'grep " /t " /proc/mounts')
    line = ok(p).strip()
    assert re.match(r"^tmpfs /t tmpfs \S*\bsize=1024k\b", line), line
    assert ok(d.berth("ps", "-aq")) == ""
    # docker's errors for the value, before anything is sent
    p = d.berth("run", "--rm", "--mount", "type=tmpfs,tmpfs-size=1m", "busybox", "true")
    assert p.returncode == 125
    assert p.stderr.startswith('invalid argument "type=tmpfs,tmpfs-size=1m" for "--mount" '
                               "flag: target is required\n")


def test_run_healthcheck_flags(d):
    run_d(d, "--name", "hc", "--health-cmd", "true", "--health-interval", "200ms",
          "busybox", "sleep", "60")
    cfg = json.loads(ok(d.berth("inspect", "-f", "{{json .Config.Healthcheck}}", "hc")))
    assert cfg == {"Test": ["CMD-SHELL", "true"], "Interval": 200000000}

    def healthy():
        st = ok(d.berth("ps", "--filter", "name=hc", "--format", "{{.Status}}")).strip()
        return st if st.endswith("(healthy)") else None
    assert re.match(r"^Up .+ \(healthy\)$", wait_until(healthy, timeout=15, what="healthy"))
    h = json.loads(ok(d.berth("inspect", "hc")))[0]["State"]["Health"]
    assert h["Status"] == "healthy" and h["FailingStreak"] == 0
    assert h["Log"] and h["Log"][-1]["ExitCode"] == 0 and h["Log"][-1]["Output"] == ""
    assert ok(d.berth("ps", "--filter", "health=healthy", "--format", "{{.Names}}")) == "hc\n"
    # once the probes stop, berth's inspect is docker's, State.Health included
    ok(d.berth("kill", "hc"))
    out = same_as_docker(d, "inspect", "hc")
    assert json.loads(out)[0]["State"]["Health"]["Log"]
    # --no-healthcheck: the image's and any other check off
    ok(d.berth("create", "--name", "nohc", "--no-healthcheck", "busybox", "true"))
    assert ok(d.berth("inspect", "-f", "{{json .Config.Healthcheck}}", "nohc")) \
        == '{"Test":["NONE"]}\n'
    ok(d.berth("rm", "-f", "hc", "nohc"))


def test_stats(d):
    run_d(d, "--name", "sts", "busybox", "sleep", "60")
    t0 = time.monotonic()
    rows = table(ok(d.berth("stats", "--no-stream")))
    assert time.monotonic() - t0 < 10
    assert rows[0] == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
                       "NET I/O", "BLOCK I/O", "PIDS"]
    assert rows[1][1] == "sts" and rows[1][-1] == "1"
    assert re.match(r"^\d+\.\d\d%$", rows[1][2])
    assert ok(d.berth("stats", "--no-stream", "--format", "{{.Name}}:{{.PIDs}}", "sts")) \
        == "sts:1\n"
    assert table(ok(d.docker("stats", "--no-stream")))[0] == rows[0]
    j = json.loads(ok(d.berth("stats", "--no-stream", "--format", "{{json .}}")))
    assert j["Name"] == "sts"
    ok(d.berth("rm", "-f", "sts"))


def test_wait_rename_update(d):
    run_d(d, "--name", "w1", "busybox", "sh", "-c", "sleep 0.3; exit 9")
    ok(d.berth("create", "--name", "w2", "busybox", "true"))
    ok(d.berth("start", "w2"))
    assert ok(d.berth("wait", "w1", "w2", timeout=20)) == "9\n0\n"
    assert ok(d.berth("rename", "w1", "renamed")) == ""
    assert ok(d.berth("ps", "-a", "--filter", "name=renamed", "--format", "{{.Names}}")) \
        == "renamed\n"
    p = d.berth("rename", "renamed", "w2")
    assert p.returncode == 1 and "is already in use" in p.stderr
    run_d(d, "--name", "up", "busybox", "sleep", "60")
    assert ok(d.berth("update", "--memory", "64m", "--cpu-shares", "512", "up")) == "up\n"
    assert ok(d.berth("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}",
                      "up")) == "67108864 512\n"
    ok(d.berth("rm", "-f", "renamed", "w2", "up"))


def test_pause_unpause(d):
    cid = run_d(d, "--name", "pz", "busybox", "sleep", "60")
    assert ok(d.berth("pause", "pz")) == "pz\n"
    assert ok(d.berth("ps", "--format", "{{.Status}}")).rstrip().endswith("(Paused)")
    assert ok(d.berth("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "pz")) \
        == "paused true\n"
    same_as_docker(d, "ps")
    p = d.berth("pause", "pz")
    assert p.returncode == 1
    assert p.stderr == f"Error response from daemon: Container {cid} is already paused\n"
    assert ok(d.berth("unpause", "pz")) == "pz\n"
    assert ok(d.berth("exec", "pz", "echo", "alive")) == "alive\n"
    ok(d.berth("rm", "-f", "pz"))


def test_container_prune(d):
    c1 = ok(d.berth("create", "busybox", "true")).strip()
    ok(d.berth("run", "--name", "ex1", "busybox", "true"))
    c2 = ok(d.berth("inspect", "-f", "{{.Id}}", "ex1")).strip()
    run_d(d, "--name", "keep", "busybox", "sleep", "60")
    out = ok(d.berth("container", "prune", "-f"))
    assert out.startswith("Deleted Containers:\n")
    assert sorted(out.splitlines()[1:3]) == sorted([c1, c2])
    assert out.endswith("\nTotal reclaimed space: 0B\n")
    assert ok(d.berth("ps", "-a", "--format", "{{.Names}}")) == "keep\n"
    # without -f it asks; "n" cancels
    ok(d.berth("create", "busybox", "true"))
    p = d.berth("container", "prune", input="n\n")
    assert "Are you sure you want to continue? [y/N]" in p.stdout
    assert ok(d.berth("ps", "-aq")).count("\n") == 2
    ok(d.berth("rm", "-f", *ok(d.berth("ps", "-aq")).split()))


# ---- images --------------------------------------------------------------------------

def test_images_tag_rmi_history(d):
    same_as_docker(d, "images")
    assert ok(d.berth("tag", "busybox", "mine/box:v1")) == ""
    assert ok(d.berth("image", "tag", "busybox", "localhost:5000/x/y")) == ""
    same_as_docker(d, "images", unordered=True)
    same_as_docker(d, "images", "-a", "--no-trunc", unordered=True)
    same_as_docker(d, "images", "--digests", unordered=True)
    same_as_docker(d, "images", "mine/box")
    for fmt in ("{{json .}}", "table {{.Repository}}:{{.Tag}}\t{{.ID}}", "{{.ID}} {{.Size}}"):
        same_as_docker(d, "images", "--format", fmt, unordered=True)
    rows = table(ok(d.berth("images")))
    assert rows[0] == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    assert {(r[0], r[1]) for r in rows[1:]} == {("busybox", "latest"), ("mine/box", "v1"),
                                                ("localhost:5000/x/y", "latest")}
    assert len(set(ok(d.berth("images", "-q")).split())) == 1
    assert ok(d.berth("run", "--rm", "mine/box:v1", "echo", "tagged")) == "tagged\n"
    same_as_docker(d, "history", "busybox")
    same_as_docker(d, "history", "--no-trunc", "busybox")
    h = ok(d.berth("history", "-q", "busybox")).split()
    assert len(h) >= 1 and HEX12.match(h[0])
    assert ok(d.berth("rmi", "mine/box:v1")) == "Untagged: mine/box:v1\n"
    assert ok(d.berth("image", "rm", "localhost:5000/x/y")) == "Untagged: localhost:5000/x/y:latest\n"
    p = d.berth("rmi", "mine/box:v1")
    assert p.returncode == 1
    assert p.stderr == d.docker("rmi", "mine/box:v1").stderr
    assert "No such image: mine/box:v1" in p.stderr
    # in use by a container: refused; -f still untags
    ok(d.berth("create", "--name", "user", "busybox", "true"))
    p = d.berth("rmi", "busybox")
    assert p.returncode == 1 and "conflict" in p.stderr.lower()
    ok(d.berth("rm", "user"))
    iid = ok(d.berth("images", "-q", "--no-trunc")).strip()
    out = ok(d.berth("rmi", "busybox"))
    assert out.splitlines()[0] == "Untagged: busybox:latest"
    assert f"Deleted: {iid}" in out.splitlines()
    assert ok(d.berth("images", "-q")) == ""


def test_image_inspect(d):
    same_as_docker(d, "image", "inspect", "busybox")
    img = json.loads(ok(d.berth("image", "inspect", "busybox")))[0]
    assert img["Id"].startswith("sha256:") and img["RepoTags"] == ["busybox:latest"]
    assert img["Os"] == "linux" and img["RootFS"]["Type"] == "layers"
    assert ok(d.berth("image", "inspect", "-f", "{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}",
                      "busybox")) == ok(d.docker("image", "inspect", "-f",
                                                 "{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}",
                                                 "busybox"))
    p = d.berth("image", "inspect", "nosuch")
    assert p.returncode == 1
    assert p.stderr == d.docker("image", "inspect", "nosuch").stderr


def test_import_save_load(d, tmp_path):
    # import a tarball as an image, from a file and from stdin, with a change
    src = tmp_path / "root"
    (src / "bin").mkdir(parents=True)
    (src / "hello.txt").write_text("imported\n")
    import subprocess
    tar = tmp_path / "root.tar"
    subprocess.run(["tar", "-C", str(src), "-cf", str(tar), "."], check=True)
    out = ok(d.berth("import", tar, "imp:1"))
    assert re.match(r"^sha256:[0-9a-f]{64}\n$", out)
    out = ok(d.berth("image", "import", "-c", "CMD [\"/bin/true\"]", "-", "imp:2",
                     input=tar.read_bytes()))
    assert isinstance(out, bytes) and re.match(rb"^sha256:[0-9a-f]{64}\n$", out)
    assert ok(d.berth("image", "inspect", "-f", "{{json .Config.Cmd}}", "imp:2")) \
        == '["/bin/true"]\n'
    assert ok(d.berth("images", "--format", "{{.Repository}}:{{.Tag}}", "imp")).split() \
        == ["imp:2", "imp:1"] or sorted(ok(d.berth("images", "--format",
                                                    "{{.Repository}}:{{.Tag}}", "imp")).split()) \
        == ["imp:1", "imp:2"]
    # save to a file, remove, load back, run
    bb = tmp_path / "bb.tar"
    assert ok(d.berth("save", "-o", bb, "busybox")) == ""
    iid = ok(d.berth("images", "-q", "busybox")).strip()
    ok(d.berth("rmi", "busybox"))
    assert ok(d.berth("images", "-q", "busybox")) == ""
    assert ok(d.berth("load", "-i", bb)) == "Loaded image: busybox:latest\n"
    assert ok(d.berth("images", "-q", "busybox")) == iid + "\n"
    assert ok(d.berth("run", "--rm", "busybox", "echo", "loaded")) == "loaded\n"
    # save to stdout, load from stdin; -q
    p = d.berth("save", "busybox", input=b"")
    assert p.returncode == 0 and len(p.stdout) > 100000
    ok(d.berth("rmi", "busybox"))
    q = d.berth("load", "-q", input=p.stdout)
    assert q.returncode == 0 and q.stdout == b"Loaded image: busybox:latest\n"
    # saving to a terminal is refused, like docker
    p = d.berth("save", "nosuch:1", input=b"")
    assert p.returncode == 1
    ok(d.berth("rmi", "imp:1", "imp:2"))


def test_image_prune(d, tmp_path):
    import subprocess
    src = tmp_path / "r"
    src.mkdir()
    (src / "f").write_text("x")
    tar = tmp_path / "r.tar"
    subprocess.run(["tar", "-C", str(src), "-cf", str(tar), "."], check=True)
    ok(d.berth("import", tar, "dangler:1"))
    ok(d.berth("import", tar, "dangler:1"))  # the old one: same content, same id?
    ok(d.berth("tag", "busybox", "extra:1"))
    out = ok(d.berth("image", "prune", "-f"))
    assert out.endswith("Total reclaimed space: 0B\n") or "Deleted" in out
    assert ok(d.berth("images", "--format", "{{.Repository}}", "dangler")) == "dangler\n"
    # -a: everything no container uses; busybox stays while a container uses it
    ok(d.berth("create", "--name", "keepbb", "busybox", "true"))
    out = ok(d.berth("image", "prune", "-a", "-f"))
    assert out.startswith("Deleted Images:\n")
    assert "untagged: dangler:1\n" in out
    assert re.search(r"^deleted: sha256:[0-9a-f]{64}$", out, re.M)
    assert re.search(r"^Total reclaimed space: \S+$", out, re.M)
    left = ok(d.berth("images", "--format", "{{.Repository}}:{{.Tag}}")).split()
    assert "busybox:latest" in left and "dangler:1" not in left
    ok(d.berth("rm", "keepbb"))


# ---- system --------------------------------------------------------------------------

def test_events(d):
    since = time.time() - 0.5
    ok(d.berth("run", "--rm", "--name", "evt", "busybox", "true"))
    ok(d.berth("tag", "busybox", "evtag:1"))
    ok(d.berth("rmi", "evtag:1"))
    until = time.time() + 0.2
    wait_until(lambda: time.time() > until + 0.05, timeout=2, what="until")
    out = events_between(d.berth, since, until, "--filter", "container=evt")
    actions = [line.split()[2] for line in out.splitlines()]
    for a in ("create", "start", "die", "destroy"):
        assert a in actions, out
    assert actions.index("create") < actions.index("start") < actions.index("die") \
        < actions.index("destroy")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create [0-9a-f]{64} "
                    r"\(image=busybox, name=evt\)$", out.splitlines()[0]), out
    # the same as docker's rendering of the same events
    k = events_between(d.docker, since, until, "--filter", "container=evt")
    assert out == k
    fmt = "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"
    out = events_between(d.berth, since, until, "--filter", "type=image", "--format", fmt)
    assert re.search(r"^image tag \S*evtag:1$", out, re.M) and "image untag" in out, out
    j = [json.loads(x) for x in events_between(d.berth, since, until, "--filter",
                                                "event=die", "--format",
                                                "{{json .}}").splitlines()]
    assert len(j) == 1 and j[0]["Actor"]["Attributes"]["exitCode"] == "0"


def test_events_live(d):
    pr = popen([BERTH, "-H", d.host, "events", "--format",
                "{{.Action}} {{.Actor.Attributes.name}}"], d.env())
    try:
        time.sleep(0.3)  # let it connect
        ok(d.berth("run", "--rm", "--name", "live", "busybox", "true"))
        lines = []

        def got_destroy():
            lines.append(pr.stdout.readline().strip())
            return lines[-1] == "destroy live"
        wait_until(got_destroy, timeout=10, what="destroy event")
        assert "create live" in lines and "start live" in lines and "die live" in lines
    finally:
        pr.kill()
        pr.wait(5)


def test_system_df(d):
    run_d(d, "--name", "dfc", "busybox", "sleep", "60")
    ok(d.berth("create", "busybox", "true"))
    out = same_as_docker(d, "system", "df")
    rows = table(out)
    assert rows[0] == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert rows[1][:2] == ["Images", "1"]
    assert rows[2][:3] == ["Containers", "2", "1"]
    same_as_docker(d, "system", "df", "-v")
    same_as_docker(d, "system", "df", "--format", "{{.Type}} {{.TotalCount}}")
    ok(d.berth("rm", "-f", *ok(d.berth("ps", "-aq")).split()))


def test_system_prune(d):
    ok(d.berth("create", "--name", "dead", "busybox", "true"))
    ok(d.berth("tag", "busybox", "spare:1"))
    out = ok(d.berth("system", "prune", "-f"))
    assert out.startswith("Deleted Containers:\n")
    assert out.endswith("Total reclaimed space: 0B\n")
    assert ok(d.berth("ps", "-aq")) == ""
    assert "spare" in ok(d.berth("images"))  # tagged images survive without -a
    out = ok(d.berth("system", "prune", "-a", "-f", "--volumes"))
    assert "Deleted Images:\n" in out and "untagged: spare:1\n" in out
    assert ok(d.berth("images", "-q")) == ""
    p = d.berth("system", "prune", input="n\n")
    assert "WARNING! This will remove:" in p.stdout
