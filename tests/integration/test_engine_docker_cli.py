"""The real docker CLI (28.x) against a private berthd, used as a user would: each test
runs docker commands and checks what they print and their exit codes."""

import re
import time

import pytest

import engine
from cliutil import HEX12, HEX64, events_between, popen, pty_session, table, wait_until


@pytest.fixture
def d(berthd):
    return berthd


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def test_version(d):
    out = ok(d.docker("version"))
    assert re.search(r"^Client:", out, re.M)
    assert re.search(r"^Server: berth$", out, re.M)
    assert re.search(r"^ Engine:$", out, re.M)
    assert re.search(r"^  API version:\s+1\.50 \(minimum version 1\.24\)$", out, re.M)
    assert re.search(r"^  OS/Arch:\s+linux/", out, re.M)
    assert "downgraded" not in out
    assert ok(d.docker("version", "--format", "{{.Server.APIVersion}}")) == "1.50\n"


def test_info(d):
    p = d.docker("info")
    out = ok(p)
    assert re.search(r"^Server:$", out, re.M)
    assert re.search(r"^ Containers: 0$", out, re.M)
    assert re.search(r"^ Images: 1$", out, re.M)
    assert re.search(r"^ Logging Driver: json-file$", out, re.M)
    assert re.search(r"^ Docker Root Dir: " + re.escape(str(d.data)) + "$", out, re.M)
    assert "ERROR" not in out and "errors pretty printing" not in p.stderr
    assert ok(d.docker("info", "--format", "{{.Images}} {{.OSType}}")) == "1 linux\n"


def test_images(d):
    rows = table(ok(d.docker("images")))
    assert rows[0] == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    assert len(rows) == 2
    repo, tag, iid, created, size = rows[1]
    assert (repo, tag) == ("busybox", "latest")
    assert HEX12.match(iid)
    assert created.endswith("ago")
    assert re.match(r"^[\d.]+[kM]B$", size)
    q = ok(d.docker("images", "-q")).split()
    assert q == [iid]


def test_run_rm_echo(d):
    p = d.docker("run", "--rm", "busybox", "echo", "hi")
    assert ok(p) == "hi\n"
    assert p.stderr == ""
    assert ok(d.docker("ps", "-aq")) == ""


def test_run_stdin_pipe(d):
    p = d.docker("run", "-i", "--rm", "busybox", "cat", input="abc\n")
    assert ok(p) == "abc\n"


def test_run_detached_and_ps(d):
    cid = ok(d.docker("run", "-d", "--name", "bg", "busybox", "sleep", "60")).strip()
    assert HEX64.match(cid), cid
    rows = table(ok(d.docker("ps")))
    assert rows[0] == ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert len(rows) == 2
    r = rows[1]
    assert r[0] == cid[:12]
    assert r[1] == "busybox"
    assert r[2] == '"sleep 60"'
    assert r[-1] == "bg"
    assert re.match(r"^Up ", r[4]), r
    assert ok(d.docker("ps", "-q")) == cid[:12] + "\n"
    assert ok(d.docker("ps", "-q", "--no-trunc")) == cid + "\n"
    assert ok(d.docker("rm", "-f", "bg")) == "bg\n"
    assert ok(d.docker("ps", "-aq")) == ""


def test_run_it_pty(d):
    out, rc = pty_session([engine.DOCKER, "run", "-it", "--rm", "busybox", "sh"], d.env(),
                          [(b"# ", b"tty; exit 7\r")])
    assert rc == 7, out
    assert b"/dev/pts/0\r\n" in out
    assert b"\r\r\n" not in out  # the local terminal is raw: no second CR
    assert ok(d.docker("ps", "-aq")) == ""


def test_ps_all_exited(d):
    ok(d.docker("run", "--name", "done", "busybox", "true"))
    ok(d.docker("create", "--name", "fresh", "busybox", "true"))
    rows = table(ok(d.docker("ps", "-a")))
    assert rows[0] == ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    by_name = {r[-1]: r for r in rows[1:]}
    assert set(by_name) == {"done", "fresh"}
    assert re.match(r"^Exited \(0\) .+ ago$", by_name["done"][4]), by_name["done"]
    assert by_name["fresh"][4] == "Created"
    assert by_name["done"][2] == '"true"'
    # newest first, as docker lists them
    assert [r[-1] for r in rows[1:]] == ["fresh", "done"]
    out = ok(d.docker("ps", "-a", "--format", "{{.Names}}:{{.State}}"))
    assert out.splitlines() == ["fresh:created", "done:exited"]
    assert ok(d.docker("ps")) .count("\n") == 1  # only the header: nothing running
    ok(d.docker("rm", "done", "fresh"))


def test_logs_follow(d):
    cid = ok(d.docker("run", "-d", "busybox", "sh", "-c",
                      "for i in 1 2 3 4; do echo line$i; sleep 0.2; done; echo err >&2")).strip()
    t0 = time.monotonic()
    p = d.docker("logs", "-f", cid, timeout=20)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "line1\nline2\nline3\nline4\n"
    assert p.stderr == "err\n"
    assert time.monotonic() - t0 < 15
    # again, after the exit: the whole log at once; --tail and -t
    p = d.docker("logs", "--tail", "2", cid)  # both streams count
    assert (ok(p), p.stderr) == ("line4\n", "err\n")
    ts = ok(d.docker("logs", "-t", cid)).splitlines()
    assert len(ts) == 4
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line1$", ts[0]), ts[0]
    ok(d.docker("rm", cid))


def test_logs_follow_streams_live(d):
    """logs -f prints lines while the container still runs, then ends with it."""
    cid = ok(d.docker("run", "-d", "busybox", "sh", "-c",
                      "echo first; read x < /dev/zero & sleep 1; echo second")).strip()
    pr = popen([engine.DOCKER, "logs", "-f", cid], d.env())
    try:
        first = pr.stdout.readline()
        assert first == "first\n"
        out, err = pr.communicate(timeout=15)
        assert out == "second\n"
        assert pr.returncode == 0, err
    finally:
        if pr.poll() is None:
            pr.kill()
            pr.wait(5)
    ok(d.docker("rm", "-f", cid))


def test_exec(d):
    ok(d.docker("run", "-d", "--name", "ex", "busybox", "sleep", "60"))
    assert ok(d.docker("exec", "ex", "echo", "hello")) == "hello\n"
    assert d.docker("exec", "ex", "sh", "-c", "exit 4").returncode == 4
    p = d.docker("exec", "ex", "nosuchcmd")
    assert p.returncode == 127
    assert "executable file not found" in p.stdout + p.stderr
    p = d.docker("exec", "-i", "ex", "cat", input="piped\n")
    assert ok(p) == "piped\n"
    assert ok(d.docker("exec", "-e", "A=b", "-w", "/etc", "ex", "sh", "-c", "echo $A $PWD")) \
        == "b /etc\n"
    out, rc = pty_session([engine.DOCKER, "exec", "-it", "ex", "sh"], d.env(),
                          [(b"# ", b"tty; echo $((6*7)); exit 3\r")])
    assert rc == 3, out
    assert re.search(rb"/dev/pts/\d+\r\n42\r\n", out), out
    ok(d.docker("rm", "-f", "ex"))


def test_stop_and_rm_f(d):
    ok(d.docker("run", "-d", "--name", "st", "busybox", "sleep", "60"))
    t0 = time.monotonic()
    assert ok(d.docker("stop", "-t", "1", "st")) == "st\n"
    assert time.monotonic() - t0 < 8
    assert ok(d.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "st")) \
        == "exited 137\n"
    # a process that handles SIGTERM stops at once
    ok(d.docker("run", "-d", "--name", "st2", "busybox", "sh", "-c",
                "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"))
    # PID 1 ignores TERM until the trap is set
    wait_until(lambda: d.docker("logs", "st2").stdout == "ready\n", timeout=10, what="trap")
    t0 = time.monotonic()
    assert ok(d.docker("stop", "st2")) == "st2\n"
    assert time.monotonic() - t0 < 5
    assert ok(d.docker("inspect", "-f", "{{.State.ExitCode}}", "st2")) == "0\n"
    ok(d.docker("start", "st"))
    assert ok(d.docker("rm", "-f", "st", "st2")) == "st\nst2\n"
    p = d.docker("rm", "nosuch")
    assert p.returncode == 1
    assert p.stderr.strip() == "Error response from daemon: No such container: nosuch"
    assert d.docker("rm", "-f", "nosuch").returncode == 0
    assert ok(d.docker("ps", "-aq")) == ""


def test_rm_running_refused(d):
    ok(d.docker("run", "-d", "--name", "busy", "busybox", "sleep", "60"))
    p = d.docker("rm", "busy")
    assert p.returncode == 1
    assert "cannot remove container" in p.stderr.lower() or "stop the container" in p.stderr
    ok(d.docker("rm", "-f", "busy"))


def test_inspect(d):
    cid = ok(d.docker("run", "-d", "--name", "ins", "-e", "FOO=bar", "--label", "k=v",
                      "busybox", "sleep", "60")).strip()
    import json
    arr = json.loads(ok(d.docker("inspect", "ins")))
    assert isinstance(arr, list) and len(arr) == 1
    c = arr[0]
    assert c["Id"] == cid
    assert c["Name"] == "/ins"
    assert c["Path"] == "sleep" and c["Args"] == ["60"]
    assert c["State"]["Status"] == "running" and c["State"]["Running"] is True
    assert c["State"]["Pid"] > 0
    assert c["Config"]["Image"] == "busybox"
    assert "FOO=bar" in c["Config"]["Env"]
    assert c["Config"]["Labels"] == {"k": "v"}
    assert c["HostConfig"]["LogConfig"]["Type"] == "json-file"
    assert c["Image"].startswith("sha256:")
    fmt = "{{.Name}} {{.State.Running}} {{.Config.Labels.k}} {{index .Config.Cmd 0}}"
    assert ok(d.docker("inspect", "--format", fmt, "ins")) == "/ins true v sleep\n"
    assert ok(d.docker("inspect", "-f", "{{json .Config.Cmd}}", "ins")) == '["sleep","60"]\n'
    assert ok(d.docker("container", "inspect", "-f", "{{.Id}}", cid[:12])) == cid + "\n"
    # an image through the same command
    img = json.loads(ok(d.docker("inspect", "busybox")))[0]
    assert img["Id"].startswith("sha256:") and "busybox:latest" in img["RepoTags"]
    assert ok(d.docker("image", "inspect", "-f", "{{index .RepoTags 0}}", "busybox")) \
        == "busybox:latest\n"
    p = d.docker("inspect", "nosuch")
    assert p.returncode == 1
    assert p.stdout.strip() == "[]"
    assert "Error: No such object: nosuch" in p.stderr
    ok(d.docker("rm", "-f", "ins"))


def test_top(d):
    ok(d.docker("run", "-d", "--name", "tp", "busybox", "sleep", "60"))
    rows = table(ok(d.docker("top", "tp")))
    assert rows[0][:3] == ["UID", "PID", "PPID"] and rows[0][-1] == "CMD"
    assert any(r[-1] == "sleep 60" for r in rows[1:]), rows
    rows = table(ok(d.docker("top", "tp", "-o", "pid,comm")))
    assert rows[0] == ["PID", "COMMAND"]
    assert rows[1][1] == "sleep"
    ok(d.docker("rm", "-f", "tp"))


def test_stats_no_stream(d):
    ok(d.docker("run", "-d", "--name", "sts", "busybox", "sleep", "60"))
    t0 = time.monotonic()
    rows = table(ok(d.docker("stats", "--no-stream")))
    assert time.monotonic() - t0 < 10
    assert rows[0] == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
                       "NET I/O", "BLOCK I/O", "PIDS"]
    assert len(rows) == 2
    assert rows[1][1] == "sts"
    assert re.match(r"^\d+\.\d\d%$", rows[1][2])
    assert rows[1][-1] == "1"
    out = ok(d.docker("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "sts"))
    assert out == "sts 1\n"
    ok(d.docker("rm", "-f", "sts"))


def test_tag_rmi(d):
    assert ok(d.docker("tag", "busybox", "mine/box:v1")) == ""
    rows = table(ok(d.docker("images")))
    tags = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert tags[("mine/box", "v1")] == tags[("busybox", "latest")]
    assert ok(d.docker("run", "--rm", "mine/box:v1", "echo", "tagged")) == "tagged\n"
    assert ok(d.docker("rmi", "mine/box:v1")) == "Untagged: mine/box:v1\n"
    p = d.docker("rmi", "mine/box:v1")
    assert p.returncode == 1
    assert "No such image: mine/box:v1" in p.stderr
    # the last tag: the image goes
    ok(d.docker("tag", "busybox", "other:1"))
    ok(d.docker("rmi", "busybox"))
    out = ok(d.docker("rmi", "other:1"))
    assert out.splitlines()[0] == "Untagged: other:1"
    assert re.match(r"^Deleted: sha256:[0-9a-f]{64}$", out.splitlines()[-1])
    assert ok(d.docker("images", "-q")) == ""


def test_rmi_in_use(d):
    ok(d.docker("create", "--name", "user", "busybox", "true"))
    p = d.docker("rmi", "busybox")
    assert p.returncode == 1
    assert "conflict" in p.stderr.lower() or "being used" in p.stderr
    ok(d.docker("rm", "user"))


def test_save_load(d, tmp_path):
    tar = tmp_path / "bb.tar"
    assert ok(d.docker("save", "-o", tar, "busybox")) == ""
    assert tar.stat().st_size > 100000
    iid = ok(d.docker("images", "-q", "busybox")).strip()
    out = ok(d.docker("rmi", "busybox"))
    assert "Deleted: sha256:" + iid in out
    assert ok(d.docker("images", "-q")) == ""
    assert ok(d.docker("load", "-i", tar)) == "Loaded image: busybox:latest\n"
    assert ok(d.docker("images", "-q")) == iid + "\n"
    assert ok(d.docker("run", "--rm", "busybox", "echo", "loaded")) == "loaded\n"
    # save to stdout piped into load through stdin
    data = d.docker("save", "busybox", input=b"")
    assert data.returncode == 0
    ok(d.docker("rmi", "busybox"))
    p = d.docker("load", input=data.stdout)
    assert p.returncode == 0, p.stderr
    assert b"Loaded image: busybox:latest" in p.stdout


def test_events(d):
    since = time.time() - 0.5
    ok(d.docker("run", "--rm", "--name", "evt", "busybox", "true"))
    until = time.time() + 0.2
    # wait until the until-time is in the past: events then returns by itself
    wait_until(lambda: time.time() > until + 0.05, timeout=2, what="until")
    out = events_between(d.docker, since, until, "--filter", "container=evt")
    actions = [line.split()[2] for line in out.splitlines() if " container " in line]
    for a in ("create", "attach", "start", "die", "destroy"):
        assert a in actions, out
    assert actions.index("create") < actions.index("attach") < actions.index("start") \
        < actions.index("die") < actions.index("destroy")
    assert re.search(r"container die [0-9a-f]{64} \(.*exitCode=0.*name=evt", out), out
    out = events_between(d.docker, since, until, "--filter", "event=start", "--format",
                         "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    assert out.splitlines() == ["container start evt"]


def test_events_top_and_resize(d):
    """dockerd's events that change no state: top and resize (with the new size)."""
    cid = ok(d.docker("run", "-d", "-t", "--name", "evt2", "busybox", "sleep", "30")).strip()
    since = time.time() - 0.5
    ok(d.docker("top", "evt2"))
    st, _, body = d.api("POST", f"/v1.50/containers/{cid}/resize?h=33&w=101")
    assert st == 200, body
    until = time.time() + 0.2
    wait_until(lambda: time.time() > until + 0.05, timeout=2, what="until")
    out = events_between(d.docker, since, until, "--filter", "container=evt2", "--format",
                         "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.height}}"
                         " {{.Actor.Attributes.width}}")
    lines = out.splitlines()
    assert "top evt2 <no value> <no value>" in lines, out
    assert "resize evt2 33 101" in lines, out
    ok(d.docker("rm", "-f", "evt2"))


def test_events_live(d):
    """docker events without --until streams live; killed after a bounded time."""
    pr = popen([engine.DOCKER, "events", "--format", "{{.Action}} {{.Actor.Attributes.name}}"],
               d.env())
    try:
        time.sleep(0.3)  # let it connect
        ok(d.docker("run", "--rm", "--name", "live", "busybox", "true"))
        lines = []

        def got_destroy():
            lines.append(pr.stdout.readline().strip())
            return lines[-1] == "destroy live"
        wait_until(got_destroy, timeout=10, what="destroy event")
        assert lines[:2] == ["create live", "attach live"] or "create live" in lines
        assert "start live" in lines and "die live" in lines
    finally:
        pr.kill()
        pr.wait(5)


def test_exit_codes(d):
    assert d.docker("run", "--rm", "busybox", "sh", "-c", "exit 42").returncode == 42
    p = d.docker("run", "--rm", "busybox", "nosuchcmd")
    assert p.returncode == 127
    p = d.docker("run", "--rm", "busybox", "/etc")
    assert p.returncode == 126
    p = d.docker("run", "--bogus", "busybox")
    assert p.returncode == 125
    assert "unknown flag: --bogus" in p.stderr
    p = d.docker("run", "--rm", "nosuchimage:1", "true")
    assert p.returncode == 125
    assert "Unable to find image 'nosuchimage:1' locally" in p.stderr
    assert ok(d.docker("ps", "-aq")) == ""
