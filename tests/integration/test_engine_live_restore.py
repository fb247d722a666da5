"""berthd restarts: containers outlive a SIGKILLed daemon (their shims hold them), logs
have no gap, attach/exec/stop work afterwards; exits while the daemon was away are
recorded (the real code, or 255 when the shim died too); --live-restore and SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import time

import engine
from helpers import wait_for


def inspect(d, name):
    p = d.docker("inspect", name, check=True)
    return json.loads(p.stdout)[0]


def state(d, name):
    return inspect(d, name)["State"]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def shim_pid(d, cid):
    """The berth-shim of a container: found by its command line."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if (any(a.endswith(b"berth-shim") for a in argv[:1]) and cid.encode() in argv
                and str(d.run_dir).encode() in b" ".join(argv) and b"--exec-id" not in argv):
            return int(pid)
    return None


def run_d(d, *args):
    p = d.docker("run", "-d", *args)
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    d.seen_ids.add(cid)
    return cid


def api_attach(d, name, seconds=1.5):
    """POST attach with logs=0 stream=1, read what comes for a bounded time."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(d.sock))
    s.sendall(f"POST /v1.50/containers/{name}/attach?logs=0&stream=1&stdout=1&stderr=1 "
              "HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
              "Content-Length: 0\r\n\r\n".encode())
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
        if len(data) > 1 << 20:
            break
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def counter_numbers(text):
    return [int(x) for x in text.split()]


def test_kill9_containers_survive(berthd):
    d = berthd
    tty = run_d(d, "-t", "--name", "tty", "busybox", "sh", "-c",
                "i=0; while true; do echo tty$i; i=$((i+1)); sleep 0.1; done")
    cnt = run_d(d, "--name", "cnt", "busybox", "sh", "-c",
                "i=0; while true; do echo $i; i=$((i+1)); done")
    rst = run_d(d, "--restart", "always", "--name", "rst", "busybox", "sleep", "1000")
    names = ("tty", "cnt", "rst")
    pids = {}
    for n in names:
        st = state(d, n)
        assert st["Running"], (n, st)
        pids[n] = st["Pid"]
        assert alive(pids[n])
    log = d.data / "containers" / cnt / f"{cnt}-json.log"
    wait_for(lambda: log.exists() and log.stat().st_size > 10000, what="counter output")

    d.kill9()
    time.sleep(0.2)  # the containers go on without the daemon
    size_down = log.stat().st_size
    time.sleep(0.1)
    assert log.stat().st_size > size_down, "the shim stopped logging while berthd was down"
    d.start()

    for n in names:
        st = state(d, n)
        assert st["Running"] and st["Status"] == "running", (n, st)
        assert st["Pid"] == pids[n], (n, st["Pid"], pids[n])
        assert alive(pids[n])
    assert inspect(d, "rst")["RestartCount"] == 0
    ps = d.docker("ps", "--format", "{{.Names}} {{.Status}}", check=True).stdout.splitlines()
    assert len(ps) == 3, ps
    for line in ps:
        assert line.split()[1] == "Up", ps

    # attach through the API (logs=0 stream=1) to the counter: live output
    head, body = api_attach(d, "cnt", 0.5)
    assert b" 101 " in head.split(b"\r\n")[0] or b" 200 " in head.split(b"\r\n")[0], head
    assert len(body) > 100, body[:200]
    assert body[0] == 1  # a stdcopy stdout frame

    # the counter's log has no gap across the restart
    assert d.docker("stop", "-t", "1", "cnt").returncode == 0
    p = d.docker("logs", "cnt", timeout=120)
    assert p.returncode == 0, p.stderr
    nums = counter_numbers(p.stdout)
    assert nums and nums[0] == 0
    gaps = [i for i in range(1, len(nums)) if nums[i] != nums[i - 1] + 1]
    assert not gaps, f"gap at {gaps[:3]}: {[nums[i-1:i+1] for i in gaps[:3]]}"
    assert log.stat().st_size > size_down

    # docker attach to the tty container
    p = subprocess.Popen([engine.DOCKER, "attach", "--no-stdin", "tty"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=d.env())
    try:
        out, err = p.communicate(timeout=1.5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=10)
    assert b"tty" in out, (out, err)

    # exec
    for n in ("tty", "rst"):
        p = d.docker("exec", n, "echo", "ok")
        assert p.returncode == 0 and p.stdout.strip() == "ok", (n, p.stdout, p.stderr)

    # stop
    for n in ("tty", "rst"):
        p = d.docker("stop", "-t", "1", n)
        assert p.returncode == 0, p.stderr
    for n in names:
        st = state(d, n)
        assert st["Status"] == "exited" and not st["Running"], (n, st)
        assert not alive(pids[n])
    assert inspect(d, "rst")["RestartCount"] == 0


def test_exit_while_down_keeps_code(berthd):
    d = berthd
    run_d(d, "--name", "ex", "busybox", "sh", "-c", "sleep 1; exit 42")
    d.kill9()
    time.sleep(2)
    d.start()
    st = state(d, "ex")
    assert st["Status"] == "exited" and st["ExitCode"] == 42, st
    assert not st["Running"] and st["Pid"] == 0
    assert st["FinishedAt"] > st["StartedAt"], st
    p = d.docker("wait", "ex", timeout=10)
    assert p.stdout.strip() == "42"
    assert d.docker("ps", "-q").stdout == ""
    # it can start again
    assert d.docker("start", "ex").returncode == 0
    assert d.docker("wait", "ex", timeout=10).stdout.strip() == "42"


def test_shim_killed_while_down_is_255(berthd):
    """moby's TestHardRestartWhenContainerIsRunning: the container and its monitor
    die with the daemon: the container is exited with code 255."""
    d = berthd
    cid = run_d(d, "--name", "hard", "busybox", "sleep", "1000")
    pid = state(d, "hard")["Pid"]
    spid = shim_pid(d, cid)
    assert spid, "no shim found"
    d.kill9()
    os.kill(spid, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid) and not alive(spid), 5, what="container and shim to die")
    d.start()
    st = state(d, "hard")
    assert st["Status"] == "exited" and st["ExitCode"] == 255, st
    assert not st["Running"]
    # it starts again
    assert d.docker("start", "hard").returncode == 0
    assert state(d, "hard")["Running"]
    assert d.docker("stop", "-t", "1", "hard").returncode == 0
    assert state(d, "hard")["ExitCode"] == 137


def test_restart_policy_container_exits_while_down(berthd):
    """A --restart always container that dies while berthd is away is restarted when
    berthd comes back."""
    d = berthd
    run_d(d, "--restart", "always", "--name", "ra", "busybox", "sh", "-c",
          "test -e /stamp && exec sleep 1000; touch /stamp; sleep 1; exit 3")
    d.kill9()
    time.sleep(2)
    d.start()
    wait_for(lambda: state(d, "ra")["Running"], 10, what="restart after berthd came back")
    assert inspect(d, "ra")["RestartCount"] == 1
    assert d.docker("stop", "-t", "1", "ra").returncode == 0


def test_live_restore_sigterm_keeps_running(berthd):
    d = berthd
    d.stop()
    d.extra_args.append("--live-restore")
    d.start()
    run_d(d, "--name", "lr", "busybox", "sleep", "1000")
    run_d(d, "-t", "--name", "lrt", "busybox", "sleep", "1000")
    pids = {n: state(d, n)["Pid"] for n in ("lr", "lrt")}
    t = time.monotonic()
    d.stop()
    assert time.monotonic() - t < 5, "a live-restore shutdown does not stop containers"
    for pid in pids.values():
        assert alive(pid)
    d.start()
    for n, pid in pids.items():
        st = state(d, n)
        assert st["Running"] and st["Pid"] == pid, st
    assert json.loads(d.docker("info", "--format", "{{json .LiveRestoreEnabled}}").stdout)
    p = d.docker("exec", "lr", "echo", "ok")
    assert p.stdout.strip() == "ok", p.stderr
    for n in pids:
        assert d.docker("stop", "-t", "1", n).returncode == 0


def test_sigterm_without_live_restore_stops_containers(berthd):
    d = berthd
    run_d(d, "--stop-timeout", "2", "--name", "a", "busybox", "sleep", "1000")
    run_d(d, "--stop-timeout", "2", "-t", "--name", "b", "busybox", "sleep", "1000")
    run_d(d, "--stop-timeout", "2", "--restart", "unless-stopped", "--name", "c", "busybox",
          "sleep", "1000")
    pids = {n: state(d, n)["Pid"] for n in ("a", "b", "c")}
    t = time.monotonic()
    d.stop()
    assert time.monotonic() - t < 8, "containers are stopped in parallel"
    for pid in pids.values():
        assert not alive(pid)
    d.start()
    for n in ("a", "b"):
        st = state(d, n)
        assert st["Status"] == "exited" and not st["Running"], st
        assert st["ExitCode"] in (137, 143), st
    # Docker: a daemon shutdown is not a manual stop; unless-stopped comes back.
    wait_for(lambda: state(d, "c")["Running"], 10, what="unless-stopped restarted")
    assert d.docker("stop", "-t", "1", "c").returncode == 0


def test_adopts_container_started_but_not_recorded(berthd):
    """berthd died between starting a container and recording it: the record says
    exited, the runtime and the shim say running. The container is adopted."""
    import sqlite3
    d = berthd
    cid = run_d(d, "--name", "ad", "busybox", "sleep", "1000")
    pid = state(d, "ad")["Pid"]
    d.kill9()
    db = sqlite3.connect(str(d.data / "state.db"))
    try:
        doc = json.loads(db.execute("SELECT doc FROM containers WHERE id = ?", (cid,))
                         .fetchone()[0])
        doc["Status"], doc["Pid"] = 4, 0  # exited, as before the start was recorded
        db.execute("UPDATE containers SET doc = ? WHERE id = ?", (json.dumps(doc), cid))
        db.commit()
    finally:
        db.close()
    d.start()
    st = state(d, "ad")
    assert st["Running"] and st["Pid"] == pid, st
    assert d.docker("stop", "-t", "0", "ad").returncode == 0
    st = state(d, "ad")
    assert st["Status"] == "exited" and st["ExitCode"] == 137, st
    assert not alive(pid)
