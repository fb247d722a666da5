"""The shim's hand-over: once a container (or an exec) has run for a moment, berth-shim
execve()s berth-shim-monitor (same pid). Everything berthd and the user see must go on
across it: logs (and rotation), attach with stdin, resize, exec, the exit code, the runtime
clean-up after the exit, and live-restore adopting the monitor."""

import json
import os
import signal
import socket
import subprocess
import time

import engine
from helpers import wait_for


def run_d(d, *args):
    p = d.docker("run", "-d", *args)
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    d.seen_ids.add(cid)
    return cid


def shims(d, cid, exec_shims=False):
    """{pid: executable's name} of a container's shims (or of its exec shims)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        except OSError:
            continue
        if (argv[0] == b"berth-shim" and cid.encode() in argv
                and str(d.run_dir).encode() in b" ".join(argv)
                and (b"--exec-id" in argv) == exec_shims):
            out[int(pid)] = exe
    return out


def handed_over(d, cid, exec_shims=False):
    """The pid of the container's shim once it runs as berth-shim-monitor."""
    s = shims(d, cid, exec_shims)
    return next((p for p, exe in s.items() if exe == "berth-shim-monitor"), None)


def wait_handed_over(d, cid, exec_shims=False):
    return wait_for(lambda: handed_over(d, cid, exec_shims), what="the hand-over to the monitor")


def logs(d, name):
    p = d.docker("logs", name, timeout=30)
    assert p.returncode == 0, p.stderr
    return p


GATE = "while [ ! -e /tmp/go ]; do sleep 0.05; done"


def test_same_pid_logs_exit_code_and_cleanup(berthd):
    d = berthd
    cid = run_d(d, "--name", "m", "busybox", "sh", "-c",
                f"echo before; {GATE}; echo after; echo oops >&2; exit 42")
    first = list(shims(d, cid))
    assert len(first) == 1, first
    pid = wait_handed_over(d, cid)
    assert pid == first[0], "the hand-over must keep the shim's pid"
    assert d.docker("exec", "m", "touch", "/tmp/go").returncode == 0
    p = d.docker("wait", "m", timeout=20)
    assert p.stdout.strip() == "42", (p.stdout, p.stderr)
    out = logs(d, "m")
    assert (out.stdout, out.stderr) == ("before\nafter\n", "oops\n")
    # After the exit the monitor becomes berth-shim --delete: the runtime forgets the
    # container, and the shim is gone.
    wait_for(lambda: not (d.run_dir / "runtime" / cid).exists(), what="the runtime state to go")
    wait_for(lambda: not shims(d, cid), what="the shim to exit")
    # so that it starts again
    assert d.docker("start", "m").returncode == 0
    assert d.docker("wait", "m", timeout=20).stdout.strip() == "42"


def _attach(d, cid):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(str(d.sock))
    s.sendall(f"POST /v1.50/containers/{cid}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
              "Host: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
              "Content-Length: 0\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    return s


def _echo(s, line):
    """Send a line to cat's stdin and read it back (one stdout frame or more)."""
    s.sendall(line)
    data = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        payload, rest = b"", data
        while len(rest) >= 8 and len(rest) >= 8 + int.from_bytes(rest[4:8], "big"):
            n = int.from_bytes(rest[4:8], "big")
            assert rest[0] == 1, rest
            payload += rest[8:8 + n]
            rest = rest[8 + n:]
        if payload == line:
            return
        data += s.recv(65536)
    raise AssertionError(f"no echo of {line!r}: {data!r}")


def test_attach_stdin_holds_the_hand_over(berthd):
    """A client feeding stdin holds the hand-over back (no stdin stream crosses an execve):
    the shim keeps serving it, and the stream ends with its EOF as without a hand-over."""
    d = berthd
    st, _, body = d.api("POST", "/v1.50/containers/create?name=cat",
                        {"Image": "busybox", "Cmd": ["cat"], "OpenStdin": True,
                         "StdinOnce": True})
    assert st == 201, body
    cid = json.loads(body)["Id"]
    d.seen_ids.add(cid)
    s = _attach(d, cid)
    assert d.api("POST", f"/v1.50/containers/{cid}/start")[0] == 204
    _echo(s, b"one\n")
    time.sleep(1.2)
    assert handed_over(d, cid) is None
    _echo(s, b"two\n")
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
    assert d.docker("wait", "cat", timeout=20).stdout.strip() == "0"
    assert logs(d, "cat").stdout == "one\ntwo\n"


def test_tty_and_rotation_after_hand_over(berthd):
    d = berthd
    cid = run_d(d, "-t", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "--name", "tt",
                "busybox", "sh", "-c",
                f"{GATE}; i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done; "
                "sleep 1000")
    wait_handed_over(d, cid)
    assert d.docker("exec", "tt", "touch", "/tmp/go").returncode == 0
    wait_for(lambda: "line199" in logs(d, "tt").stdout, what="the last line")
    cdir = d.data / "containers" / cid
    base = f"{cid}-json.log"
    files = sorted(f for f in os.listdir(cdir) if f.startswith(base))
    assert files == [base, base + ".1"], files
    for f in files:
        assert 0 < (cdir / f).stat().st_size <= 1024 + 100, f
    last = json.loads((cdir / base).read_text().splitlines()[-1])
    assert (last["log"], last["stream"]) == ("line199\r\n", "stdout"), last
    assert d.docker("stop", "-t", "1", "tt").returncode == 0
    assert d.docker("inspect", "-f", "{{.State.ExitCode}}", "tt").stdout.strip() == "137"
    wait_for(lambda: not shims(d, cid), what="the shim to exit")


def test_resize_reaches_the_tty(berthd):
    d = berthd
    cid = run_d(d, "-t", "--name", "sz", "busybox", "sh", "-c", f"{GATE}; stty size; sleep 1000")
    wait_handed_over(d, cid)
    st, _, body = d.api("POST", "/v1.50/containers/sz/resize?h=33&w=101")
    assert st == 200, body
    assert d.docker("exec", "sz", "touch", "/tmp/go").returncode == 0
    wait_for(lambda: "33 101" in logs(d, "sz").stdout, what="the new size")
    assert d.docker("rm", "-f", "sz").returncode == 0
    wait_for(lambda: not shims(d, cid), what="the shim to exit")


def test_exec_hands_over_too(berthd):
    d = berthd
    cid = run_d(d, "--name", "ex", "busybox", "sleep", "1000")
    p = subprocess.Popen([engine.DOCKER, "exec", "ex", "sh", "-c",
                          f"echo early; {GATE}; echo late; exit 3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=d.env())
    try:
        wait_handed_over(d, cid, exec_shims=True)
        assert d.docker("exec", "ex", "touch", "/tmp/go").returncode == 0
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert (p.returncode, out, err) == (3, "early\nlate\n", "")
    wait_for(lambda: not shims(d, cid, exec_shims=True), what="the exec shim to exit")


def test_live_restore_adopts_the_monitor(berthd):
    d = berthd
    cid = run_d(d, "--name", "lr", "busybox", "sh", "-c", f"{GATE}; echo done; exit 7")
    pid = wait_handed_over(d, cid)
    cpid = json.loads(d.docker("inspect", "lr", check=True).stdout)[0]["State"]["Pid"]
    d.kill9()
    d.start()
    st = json.loads(d.docker("inspect", "lr", check=True).stdout)[0]["State"]
    assert st["Running"] and st["Pid"] == cpid, st
    assert handed_over(d, cid) == pid
    assert d.docker("exec", "lr", "touch", "/tmp/go").returncode == 0
    assert d.docker("wait", "lr", timeout=20).stdout.strip() == "7"
    assert logs(d, "lr").stdout == "done\n"
    wait_for(lambda: not (d.run_dir / "runtime" / cid).exists(), what="the runtime state to go")


def test_monitor_killed_is_255(berthd):
    """A monitor that dies is a shim that dies: the container is exited with 255."""
    d = berthd
    cid = run_d(d, "--name", "k", "busybox", "sleep", "1000")
    pid = wait_handed_over(d, cid)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: json.loads(d.docker("inspect", "k", check=True).stdout)[0]["State"]
             ["Status"] == "exited", what="the container to be exited")
    assert d.docker("inspect", "-f", "{{.State.ExitCode}}", "k").stdout.strip() == "255"
