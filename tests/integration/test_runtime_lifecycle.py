"""berth-runtime lifecycle commands: create/start/state/kill/delete/list/ps/pause/resume/
update/events/spec/features, pid files, detach, exec and its options."""

import json
import os
import shutil
import signal
import subprocess

import pytest

from rtutil import (ConsoleSocket, cgroup_dirs_named, create, decode_caps, exec_ok, state,
                    status_fields, uid, wait_for, wait_status)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ------------------------------------------------------------------ create / start / state

def test_create_state_start(bundle, rt):
    bundle.config["annotations"] = {"org.example.key": "value"}
    cid = create(rt, bundle)
    st = state(rt, cid)
    assert st["ociVersion"] == "1.2.0"
    assert st["id"] == cid
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)
    assert st["annotations"] == {"org.example.key": "value"}
    pid = st["pid"]
    assert _alive(pid)
    # Created: the user's process has not run yet (still the runtime's init, not sleep).
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert b"sleep" not in f.read()

    p = rt("start", cid)
    assert p.returncode == 0, p.stderr
    st = state(rt, cid)
    assert st["status"] == "running"
    assert st["pid"] == pid
    wait_for(lambda: b"sleep" in open(f"/proc/{pid}/cmdline", "rb").read(), 5,
             what="sleep to exec")

    # A second start is refused.
    p = rt("start", cid)
    assert p.returncode != 0
    assert "running" in p.stderr or "created" in p.stderr


def test_state_of_unknown_container(rt):
    p = rt("state", "does-not-exist")
    assert p.returncode != 0
    assert "does-not-exist" in p.stderr


def test_state_after_exit_is_stopped(bundle, rt):
    cid = create(rt, bundle, args=("true",), start=True)
    wait_status(rt, cid, "stopped")
    st = state(rt, cid)
    assert st["status"] == "stopped"
    p = rt("delete", cid)
    assert p.returncode == 0, p.stderr
    assert not (rt.__self__.root / cid).exists()
    assert rt("state", cid).returncode != 0


# ------------------------------------------------------------------ kill

@pytest.mark.parametrize("sig,expect", [("KILL", signal.SIGKILL), ("SIGTERM", signal.SIGTERM),
                                        ("9", signal.SIGKILL), ("15", signal.SIGTERM)])
def test_kill_by_name_and_number(bundle, rt, sig, expect):
    # sh as pid 1 ignores SIGTERM unless it traps it: trap and report via exit code.
    cid = create(rt, bundle, args=("sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"),
                 start=True)
    pid = state(rt, cid)["pid"]
    p = rt("kill", cid, sig)
    assert p.returncode == 0, p.stderr
    wait_status(rt, cid, "stopped")
    assert not _alive(pid)


def test_kill_default_signal_is_term(bundle, rt):
    cid = create(rt, bundle, args=("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"),
                 start=True)
    assert rt("kill", cid).returncode == 0
    wait_status(rt, cid, "stopped")


def test_kill_bad_signal(bundle, rt):
    cid = create(rt, bundle, start=True)
    p = rt("kill", cid, "SIGNOTREAL")
    assert p.returncode != 0
    assert "SIGNOTREAL" in p.stderr or "signal" in p.stderr.lower()
    assert state(rt, cid)["status"] == "running"


def test_kill_all(bundle, rt):
    # A container sharing the host pid namespace: --all must reach every process.
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                           if n["type"] != "pid"]
    cid = create(rt, bundle, args=("sh", "-c", "sleep 1000 & sleep 1000 & wait"), start=True)
    p = wait_for(lambda: (lambda r: r if r.returncode == 0 and
                          len(json.loads(r.stdout)) >= 3 else None)(
        rt("ps", "--format", "json", cid)), 5, what="3 processes")
    pids = json.loads(p.stdout)
    p = rt("kill", "--all", cid, "KILL")
    assert p.returncode == 0, p.stderr
    wait_for(lambda: not any(_alive(x) for x in pids), 5, what="all processes to die")
    wait_status(rt, cid, "stopped")


# ------------------------------------------------------------------ delete

def test_delete_running_refused(bundle, rt):
    cid = create(rt, bundle, start=True)
    p = rt("delete", cid)
    assert p.returncode != 0
    assert "running" in p.stderr and cid in p.stderr
    assert state(rt, cid)["status"] == "running"


@pytest.mark.parametrize("how", ["created", "running", "paused"])
def test_delete_force(bundle, rt, how):
    cid = create(rt, bundle, start=how != "created")
    if how == "paused":
        assert rt("pause", cid).returncode == 0
        wait_status(rt, cid, "paused")
    pid = state(rt, cid)["pid"]
    p = rt("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    wait_for(lambda: not _alive(pid), 5, what="container process to die")
    assert rt("state", cid).returncode != 0
    assert not (rt.__self__.root / cid).exists()
    assert cgroup_dirs_named(cid) == []


def test_delete_unknown(rt):
    p = rt("delete", "nope-x")
    assert p.returncode != 0
    assert "nope-x" in p.stderr


# ------------------------------------------------------------------ list / ps

def test_list_table_and_json(bundle, make_bundle, rt):
    a = create(rt, bundle, start=True)
    b = create(rt, make_bundle())
    p = rt("list")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "PID", "STATUS"]
    rows = {ln.split()[0]: ln.split() for ln in lines[1:]}
    assert rows[a][2] == "running" and rows[b][2] == "created"
    p = rt("list", "--format", "json")
    assert p.returncode == 0, p.stderr
    doc = {c["id"]: c for c in json.loads(p.stdout)}
    assert doc[a]["status"] == "running" and doc[b]["status"] == "created"
    assert doc[a]["pid"] == state(rt, a)["pid"]
    p = rt("list", "-q")
    assert sorted(p.stdout.split()) == sorted([a, b])


def test_list_empty_json(rt):
    p = rt("list", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) in ([], None)


def test_ps_json(bundle, rt):
    cid = create(rt, bundle, args=("sh", "-c", "sleep 1000 & wait"), start=True)
    pid = state(rt, cid)["pid"]
    p = wait_for(lambda: (lambda r: r if r.returncode == 0 and
                          len(json.loads(r.stdout)) == 2 else None)(
        rt("ps", "--format", "json", cid)), 5, what="2 processes")
    pids = json.loads(p.stdout)
    assert pid in pids
    assert all(isinstance(x, int) for x in pids)
    p = rt("ps", cid)
    assert p.returncode == 0, p.stderr
    assert "PID" in p.stdout and "sleep" in p.stdout


# ------------------------------------------------------------------ pause / resume

def test_pause_resume(bundle, rt, tmp_path):
    cid = create(rt, bundle, args=("sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; "
                                   "sleep 0.02; done"), start=True)
    counter = bundle.rootfs / "tmp" / "n"
    wait_for(counter.exists, 5, what="counter")
    assert rt("pause", cid).returncode == 0
    assert state(rt, cid)["status"] == "paused"
    pid = state(rt, cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        assert status_fields(f.read())["State"].startswith(("D", "S"))
    v1 = counter.read_text()
    import time
    time.sleep(0.2)
    assert counter.read_text() == v1, "the container kept running while paused"
    # Pausing twice is refused; delete without --force too.
    assert rt("pause", cid).returncode != 0
    assert rt("delete", cid).returncode != 0
    assert rt("resume", cid).returncode == 0
    assert state(rt, cid)["status"] == "running"
    wait_for(lambda: counter.read_text() != v1, 5, what="counter to move after resume")
    assert rt("resume", cid).returncode != 0


# ------------------------------------------------------------------ update / events

def _cg_file(ctrl, cid, name):
    dirs = [d for d in cgroup_dirs_named(cid) if d.startswith(f"/sys/fs/cgroup/{ctrl}/")]
    assert dirs, f"no {ctrl} cgroup for {cid}"
    with open(os.path.join(dirs[0], name)) as f:
        return f.read().strip()


def test_update_flags(bundle, rt):
    cid = create(rt, bundle, start=True)
    p = rt("update", "--memory", "64M", "--pids-limit", "77", cid)
    assert p.returncode == 0, p.stderr
    assert int(_cg_file("memory", cid, "memory.limit_in_bytes")) == 64 << 20
    assert _cg_file("pids", cid, "pids.max") == "77"
    # ... and inside the container, through its cgroup mount.
    out = exec_ok(rt, cid, "cat", "/sys/fs/cgroup/pids/pids.max")
    assert out.strip() == "77"


def test_update_resources_file(bundle, rt, tmp_path):
    cid = create(rt, bundle, start=True)
    res = tmp_path / "resources.json"
    res.write_text(json.dumps({"memory": {"limit": 96 << 20}, "pids": {"limit": 55},
                               "cpu": {"shares": 512}}))
    p = rt("update", "-r", res, cid)
    assert p.returncode == 0, p.stderr
    assert int(_cg_file("memory", cid, "memory.limit_in_bytes")) == 96 << 20
    assert _cg_file("pids", cid, "pids.max") == "55"
    assert _cg_file("cpu", cid, "cpu.shares") == "512"
    # From stdin with "-r -".
    p = rt("update", "-r", "-", cid, input=json.dumps({"pids": {"limit": 66}}))
    assert p.returncode == 0, p.stderr
    assert _cg_file("pids", cid, "pids.max") == "66"


def test_update_bad_input(bundle, rt, tmp_path):
    cid = create(rt, bundle, start=True)
    res = tmp_path / "resources.json"
    res.write_text("{not json")
    p = rt("update", "-r", res, cid)
    assert p.returncode != 0
    assert p.stderr.strip()
    p = rt("update", "--memory", "lots", cid)
    assert p.returncode != 0
    assert "lots" in p.stderr or "memory" in p.stderr


def test_events_stats(bundle, rt):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 128 << 20}
    bundle.config["linux"]["resources"]["pids"] = {"limit": 100}
    cid = create(rt, bundle, start=True)
    p = rt("events", "--stats", cid)
    assert p.returncode == 0, p.stderr
    ev = json.loads(p.stdout.splitlines()[0])
    assert ev["type"] == "stats"
    assert ev["id"] == cid
    data = ev["data"]
    assert data["pids"]["current"] >= 1
    assert data["pids"].get("limit") == 100
    mem = data["memory"]
    assert mem["usage"]["usage"] > 0
    assert mem["usage"]["limit"] == 128 << 20


# ------------------------------------------------------------------ spec / features

def test_spec_then_run(rt, tmp_path, busybox_rootfs):
    b = tmp_path / "specbundle"
    b.mkdir()
    p = rt("spec", "--bundle", b)
    assert p.returncode == 0, p.stderr
    cfg = json.loads((b / "config.json").read_text())
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    # Refuses to overwrite.
    p = rt("spec", "--bundle", b)
    assert p.returncode != 0
    assert "exists" in p.stderr
    subprocess.run(["cp", "-a", str(busybox_rootfs), str(b / "rootfs")], check=True)
    try:
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = ["echo", "from-spec"]
        (b / "config.json").write_text(json.dumps(cfg))
        p = rt("run", "--bundle", b, uid("spec"))
        assert p.returncode == 0, p.stderr
        assert p.stdout == "from-spec\n"
    finally:
        shutil.rmtree(b / "rootfs", ignore_errors=True)


def test_spec_in_cwd(rt, tmp_path):
    b = tmp_path / "cwdspec"
    b.mkdir()
    p = subprocess.run([rt.__self__.binary, "spec"], cwd=b, capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0, p.stderr
    assert json.loads((b / "config.json").read_text())["process"]["args"]


def test_spec_rootless(rt, tmp_path):
    b = tmp_path / "rl"
    b.mkdir()
    p = rt("spec", "--rootless", "--bundle", b)
    assert p.returncode == 0, p.stderr
    cfg = json.loads((b / "config.json").read_text())
    types = [n["type"] for n in cfg["linux"]["namespaces"]]
    assert "user" in types
    assert "network" not in types
    assert cfg["linux"]["uidMappings"] and cfg["linux"]["gidMappings"]
    assert cfg["linux"]["uidMappings"][0]["hostID"] == os.getuid()


def test_features(rt):
    p = rt("features")
    assert p.returncode == 0, p.stderr
    f = json.loads(p.stdout)
    assert f["ociVersionMax"] == "1.2.0"
    assert set(f["hooks"]) == {"prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop"}
    assert {"pid", "network", "mount", "user", "time", "cgroup"} <= set(f["linux"]["namespaces"])
    assert "CAP_SYS_ADMIN" in f["linux"]["capabilities"]
    assert f["linux"]["seccomp"]["enabled"] is True
    assert "bind" in f["mountOptions"]


# ------------------------------------------------------------------ pid files, detach

def test_pid_file_create(bundle, rt, tmp_path):
    pf = tmp_path / "c.pid"
    cid = create(rt, bundle, extra=("--pid-file", pf))
    assert int(pf.read_text().strip()) == state(rt, cid)["pid"]


def test_run_detach_pid_file(bundle, rt, tmp_path):
    pf = tmp_path / "r.pid"
    cid = uid("det")
    bundle.set_args("sleep", "1000").write()
    p = rt("run", "--detach", "--pid-file", pf, "--bundle", bundle.path, cid, timeout=10)
    assert p.returncode == 0, p.stderr
    st = state(rt, cid)
    assert st["status"] == "running"
    assert int(pf.read_text()) == st["pid"]
    # -d short form works too.
    cid2 = uid("det")
    p = rt("run", "-d", "-b", bundle.path, cid2, timeout=10)
    assert p.returncode == 0, p.stderr
    assert state(rt, cid2)["status"] == "running"


def test_run_removes_container_after_exit(bundle, rt):
    cid = uid("run")
    bundle.set_args("true").write()
    assert rt("run", "--bundle", bundle.path, cid).returncode == 0
    assert rt("state", cid).returncode != 0
    assert cgroup_dirs_named(cid) == []


def test_run_exit_by_signal(bundle, rt):
    # Not pid 1 of a pid namespace (which cannot be killed from inside): share the host's.
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                           if n["type"] != "pid"]
    bundle.set_args("sh", "-c", "kill -KILL $$").write()
    p = rt("run", "--bundle", bundle.path, uid("sig"))
    assert p.returncode == 128 + 9


# ------------------------------------------------------------------ exec

def test_exec_basic_and_status(bundle, rt):
    cid = create(rt, bundle, start=True)
    assert exec_ok(rt, cid, "echo", "hi") == "hi\n"
    p = rt("exec", cid, "sh", "-c", "exit 7")
    assert p.returncode == 7
    # It joins the container's namespaces: same pid namespace, sees pid 1 = sleep.
    assert "sleep" in exec_ok(rt, cid, "cat", "/proc/1/cmdline")


def test_exec_detach_pid_file(bundle, rt, tmp_path):
    cid = create(rt, bundle, start=True)
    pf = tmp_path / "e.pid"
    p = rt("exec", "--detach", "--pid-file", pf, cid, "sleep", "999", timeout=10)
    assert p.returncode == 0, p.stderr
    pid = int(pf.read_text())
    assert _alive(pid)
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"999"]
    p = rt("ps", "--format", "json", cid)
    assert pid in json.loads(p.stdout)


def test_exec_process_json(bundle, rt, tmp_path):
    cid = create(rt, bundle, start=True)
    proc = {"terminal": False, "user": {"uid": 1000, "gid": 1000},
            "args": ["sh", "-c", "echo $FOO; pwd; id -u; id -g"],
            "env": ["PATH=/bin:/usr/bin", "FOO=bar"], "cwd": "/tmp"}
    f = tmp_path / "process.json"
    f.write_text(json.dumps(proc))
    out = exec_ok(rt, "--process", f, cid)
    assert out.split() == ["bar", "/tmp", "1000", "1000"]


def test_exec_process_json_invalid(bundle, rt, tmp_path):
    cid = create(rt, bundle, start=True)
    f = tmp_path / "process.json"
    f.write_text(json.dumps({"args": "not-a-list", "cwd": "/"}))
    p = rt("exec", "--process", f, cid)
    assert p.returncode != 0
    assert "args" in p.stderr


def test_exec_env_cwd_user(bundle, rt):
    cid = create(rt, bundle, start=True)
    out = exec_ok(rt, "--env", "A=1", "-e", "B=two", "--cwd", "/etc", "--user", "123:456", cid,
                  "sh", "-c", 'echo "$A $B"; pwd; id -u; id -g')
    assert out.split("\n")[:4] == ["1 two", "/etc", "123", "456"]


def test_exec_cap(bundle, rt):
    cid = create(rt, bundle, start=True)
    out = exec_ok(rt, "--cap", "CAP_NET_ADMIN", cid, "cat", "/proc/self/status")
    f = status_fields(out)
    assert "CAP_NET_ADMIN" in decode_caps(f["CapEff"])
    assert "CAP_NET_ADMIN" in decode_caps(f["CapBnd"])
    out = exec_ok(rt, cid, "cat", "/proc/self/status")
    assert "CAP_NET_ADMIN" not in decode_caps(status_fields(out)["CapEff"])


def test_exec_tty_console_socket(bundle, rt, tmp_path):
    cid = create(rt, bundle, start=True)
    with ConsoleSocket(tmp_path / "console.sock") as cs:
        p = rt("exec", "--tty", "--console-socket", cs.path, cid, "sh", "-c",
               "tty; echo done-$((40+2))", timeout=20)
        assert p.returncode == 0, p.stderr
        out = cs.wait_output(b"done-42")
        assert cs.error is None, cs.error
    assert b"/dev/pts/" in out
    assert b"done-42" in out


def test_exec_on_stopped_container_refused(bundle, rt):
    cid = create(rt, bundle, args=("true",), start=True)
    wait_status(rt, cid, "stopped")
    p = rt("exec", cid, "true")
    assert p.returncode != 0
    assert "stopped" in p.stderr or "not running" in p.stderr


# ------------------------------------------------------------------ LISTEN_FDS, preserve-fds

def test_preserve_fds(bundle, rt, tmp_path):
    f1 = tmp_path / "one"
    f1.write_text("first file\n")
    f2 = tmp_path / "two"
    f2.write_text("second file\n")
    fd1 = os.open(f1, os.O_RDONLY)
    fd2 = os.open(f2, os.O_RDONLY)
    try:
        # Make them 3 and 4 in the runtime process.
        def pre():
            os.dup2(fd1, 3)
            os.dup2(fd2, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)
        bundle.set_args("sh", "-c", "cat <&3; cat <&4; ls /proc/self/fd").write()
        cmd = [rt.__self__.binary, "--root", str(rt.__self__.root), "run", "--preserve-fds", "2",
               "--bundle", str(bundle.path), uid("fds")]
        p = subprocess.run(cmd, preexec_fn=pre, capture_output=True, text=True, timeout=30, close_fds=False,
                           stdin=subprocess.DEVNULL)
    finally:
        os.close(fd1)
        os.close(fd2)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("first file\nsecond file\n")


def test_listen_fds(bundle, rt, tmp_path):
    f1 = tmp_path / "sock-stand-in"
    f1.write_text("listen fd\n")
    fd1 = os.open(f1, os.O_RDONLY)
    try:
        def pre():
            os.dup2(fd1, 3)
            os.set_inheritable(3, True)
        bundle.set_args("sh", "-c", 'echo "$LISTEN_FDS $LISTEN_PID"; cat <&3').write()
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
        cmd = [rt.__self__.binary, "--root", str(rt.__self__.root), "run",
               "--bundle", str(bundle.path), uid("lfd")]
        p = subprocess.run(cmd, preexec_fn=pre, capture_output=True, text=True, timeout=30,
                           close_fds=False, stdin=subprocess.DEVNULL, env=env)
    finally:
        os.close(fd1)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "1 1"
    assert lines[1] == "listen fd"
