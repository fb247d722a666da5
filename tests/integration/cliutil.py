"""Helpers for the CLI tests (docker CLI and berth against a private berthd): commands
under a pseudo-terminal, bounded polling, and event collection."""

import os
import pty
import re
import select
import signal
import subprocess
import time

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX12 = re.compile(r"^[0-9a-f]{12}$")


def pty_session(argv, env, steps, timeout=20):
    """Run argv under a new pty. steps: [(wait_for_bytes, send_bytes), ...]: wait until
    wait_for_bytes appeared in the output (after the previous step's match), then send.
    Returns (output bytes, exit code). Everything is bounded by timeout."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the command with the pty as its terminal
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    pos = 0
    steps = list(steps)
    deadline = time.monotonic() + timeout
    status = None
    try:
        while time.monotonic() < deadline:
            if steps:
                want, send = steps[0]
                i = out.find(want, pos)
                if i >= 0:
                    pos = i + len(want)
                    os.write(fd, send)
                    steps.pop(0)
                    continue
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    b = os.read(fd, 4096)
                except OSError:  # EIO: the other side is gone
                    break
                if not b:
                    break
                out += b
        # the command exits right after its terminal's last output
        end = time.monotonic() + max(0.0, min(10.0, deadline - time.monotonic()))
        while time.monotonic() < end:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(st)
                break
            time.sleep(0.02)
    finally:
        if status is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(pid, 0)
        os.close(fd)
    assert status is not None, f"{argv} did not finish under the pty: {out!r}"
    assert not steps, f"{argv}: never saw {steps[0][0]!r} in {out!r}"
    return out, status


def wait_until(fn, timeout=10, interval=0.05, what="condition"):
    """Poll fn() until it returns a true value (returned), bounded by timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def table(text):
    """A docker table (columns separated by 3+ spaces) as a list of rows of cells."""
    return [re.split(r" {2,}", line.rstrip()) for line in text.splitlines() if line.strip()]


def events_between(run, since, until, *extra):
    """`<cli> events --since S --until U` (both in the past or now): bounded output."""
    p = run("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}", *extra, timeout=20)
    assert p.returncode == 0, p.stderr
    return p.stdout


def popen(argv, env, **kw):
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)
