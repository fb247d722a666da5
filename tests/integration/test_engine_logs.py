"""json-file logs: rotation (max-size, max-file), --tail, --since, --until, -t timestamps,
stdout/stderr separation, follow, TTY containers."""

import json
import os
import re
import subprocess
import time
from datetime import datetime, timezone

import engine

TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z (.*)$")


def run_d(d, *args):
    p = d.docker("run", "-d", *args)
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    d.seen_ids.add(cid)
    return cid


def wait_exit(d, name, timeout=20):
    p = d.docker("wait", name, timeout=timeout)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.strip())


def logs(d, *args):
    p = d.docker("logs", *args, timeout=30)
    assert p.returncode == 0, p.stderr
    return p


def ts_ns(stamp):
    """'2024-01-02T03:04:05.123456789Z' -> unix ns."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z$", stamp)
    assert m, stamp
    sec = int(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
              .replace(tzinfo=timezone.utc).timestamp())
    return sec * 10**9 + int(m.group(2))


def unix_arg(ns):
    return f"{ns // 10**9}.{ns % 10**9:09d}"


def test_rotation_max_size_max_file(berthd):
    d = berthd
    cid = run_d(d, "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "--name", "rot",
                "busybox", "sh", "-c",
                "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done")
    assert wait_exit(d, "rot") == 0
    cdir = d.data / "containers" / cid
    base = f"{cid}-json.log"
    files = sorted(f for f in os.listdir(cdir) if f.startswith(base))
    assert files == [base, base + ".1", base + ".2"], files
    for f in files:
        size = (cdir / f).stat().st_size
        assert 0 < size <= 1024 + 100, (f, size)  # 1k is 1024 (go-units RAMInBytes)
        for line in (cdir / f).read_text().splitlines():
            rec = json.loads(line)
            assert set(rec) == {"log", "stream", "time"}, rec
            assert rec["stream"] == "stdout" and rec["log"].startswith("line")
            assert ts_ns(rec["time"])
    # The files together hold the last lines, in order; docker logs reads them all.
    lines = []
    for f in (base + ".2", base + ".1", base):
        lines += [json.loads(x)["log"] for x in (cdir / f).read_text().splitlines()]
    nums = [int(x[4:]) for x in lines]
    assert nums == list(range(nums[0], 300)), nums
    assert 25 < len(nums) < 300
    out = logs(d, "rot").stdout.split()
    assert out == [f"line{i}" for i in nums], out[:3]
    out = logs(d, "--tail", "5", "rot").stdout.split()
    assert out == [f"line{i}" for i in range(295, 300)]
    # a restart of the container keeps rotating into the same three files
    assert d.docker("start", "rot").returncode == 0
    assert wait_exit(d, "rot") == 0
    files = sorted(f for f in os.listdir(cdir) if f.startswith(base))
    assert files == [base, base + ".1", base + ".2"], files
    out = logs(d, "--tail", "2", "rot").stdout.split()
    assert out == ["line298", "line299"]


def test_max_file_1_truncates(berthd):
    d = berthd
    cid = run_d(d, "--log-opt", "max-size=2k", "--name", "one", "busybox", "sh", "-c",
                "i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done")
    assert wait_exit(d, "one") == 0
    cdir = d.data / "containers" / cid
    files = [f for f in os.listdir(cdir) if "json.log" in f]
    assert files == [f"{cid}-json.log"], files
    assert (cdir / files[0]).stat().st_size <= 2048 + 100
    out = logs(d, "one").stdout.split()
    assert out and out[-1] == "line199"


def test_bad_log_opts(berthd):
    d = berthd
    p = d.docker("run", "--rm", "--log-opt", "max-size=abc", "busybox", "true")
    assert p.returncode != 0
    assert d.docker("ps", "-aq").stdout.strip() == "" or True


def test_tail_since_until_timestamps(berthd):
    d = berthd
    run_d(d, "--name", "t", "busybox", "sh", "-c",
          "echo a; sleep 0.3; echo b; sleep 0.3; echo c; sleep 0.3; echo d")
    assert wait_exit(d, "t") == 0
    assert logs(d, "t").stdout == "a\nb\nc\nd\n"
    assert logs(d, "--tail", "2", "t").stdout == "c\nd\n"
    assert logs(d, "--tail", "0", "t").stdout == ""
    assert logs(d, "--tail", "all", "t").stdout == "a\nb\nc\nd\n"
    assert logs(d, "--tail", "10", "t").stdout == "a\nb\nc\nd\n"
    out = logs(d, "-t", "t").stdout.splitlines()
    stamps = []
    for line in out:
        m = TS.match(line)
        assert m, f"not RFC3339Nano with 9 digits: {line!r}"
        stamps.append(ts_ns(line.split(" ", 1)[0]))
    assert [line.split(" ", 1)[1] for line in out] == ["a", "b", "c", "d"]
    assert stamps == sorted(stamps) and stamps[3] - stamps[0] > 0.8e9
    assert abs(stamps[0] / 1e9 - time.time()) < 60
    # since and until are inclusive, at nanosecond precision
    assert logs(d, "--since", unix_arg(stamps[1]), "t").stdout == "b\nc\nd\n"
    assert logs(d, "--since", unix_arg(stamps[1] + 1), "t").stdout == "c\nd\n"
    assert logs(d, "--until", unix_arg(stamps[2]), "t").stdout == "a\nb\nc\n"
    assert logs(d, "--until", unix_arg(stamps[2] - 1), "t").stdout == "a\nb\n"
    assert logs(d, "--since", unix_arg(stamps[1]), "--until", unix_arg(stamps[2]),
                "t").stdout == "b\nc\n"
    # the CLI turns RFC 3339 times into unix times
    since = datetime.fromtimestamp(stamps[1] // 10**9, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S") + f".{stamps[1] % 10**9:09d}Z"
    assert logs(d, "--since", since, "t").stdout == "b\nc\nd\n"
    assert logs(d, "--since", "1h", "t").stdout == "a\nb\nc\nd\n"
    assert logs(d, "--until", "1h", "t").stdout == ""
    # as dockerd: tail picks the last N lines, since/until filter those
    assert logs(d, "--tail", "1", "--until", unix_arg(stamps[2]), "t").stdout == ""
    assert logs(d, "--tail", "3", "--since", unix_arg(stamps[2]), "t").stdout == "c\nd\n"
    out = logs(d, "-t", "--tail", "1", "t").stdout
    assert TS.match(out.rstrip("\n")) and out.endswith(" d\n"), out


def test_stdout_stderr_separation(berthd):
    d = berthd
    run_d(d, "--name", "s", "busybox", "sh", "-c",
          "echo out1; echo err1 >&2; echo out2; echo err2 >&2")
    assert wait_exit(d, "s") == 0
    p = logs(d, "s")
    assert p.stdout == "out1\nout2\n"
    assert p.stderr == "err1\nerr2\n"
    # docker logs s 2>/dev/null
    p = subprocess.run([engine.DOCKER, "logs", "s"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=d.env(), timeout=30)
    assert p.stdout == b"out1\nout2\n"
    # the raw API: stdcopy frames, each stream only when asked for
    st, _, body = d.api("GET", "/v1.50/containers/s/logs?stdout=1")
    assert st == 200
    frames = []
    while body:
        assert len(body) >= 8
        n = int.from_bytes(body[4:8], "big")
        frames.append((body[0], body[8:8 + n]))
        body = body[8 + n:]
    assert frames == [(1, b"out1\n"), (1, b"out2\n")]
    st, _, body = d.api("GET", "/v1.50/containers/s/logs?stderr=1")
    assert body == b"\x02\0\0\0\0\0\0\x05err1\n\x02\0\0\0\0\0\0\x05err2\n"
    st, _, body = d.api("GET", "/v1.50/containers/s/logs")
    assert st == 400


def test_follow_ends_when_container_exits(berthd):
    d = berthd
    run_d(d, "--name", "f", "busybox", "sh", "-c",
          "for i in 1 2 3 4; do echo $i; sleep 0.3; done; exit 3")
    t = time.monotonic()
    p = d.docker("logs", "-f", "f", timeout=15)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1\n2\n3\n4\n"
    assert time.monotonic() - t < 5
    # following an exited container prints and returns
    p = d.docker("logs", "-f", "--tail", "1", "f", timeout=10)
    assert p.stdout == "4\n"


def test_follow_live_and_across_rotation(berthd):
    d = berthd
    run_d(d, "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "--name", "fr",
          "busybox", "sh", "-c",
          "sleep 0.5; i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); "
          "[ $((i % 10)) = 0 ] && sleep 0.1; done")
    p = subprocess.Popen([engine.DOCKER, "logs", "-f", "fr"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=d.env())
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=10)
        raise AssertionError(f"logs -f did not end: {out[-200:]!r} {err!r}")
    assert out.decode().split() == [f"line{i}" for i in range(200)], out[-300:]


def test_tty_logs(berthd):
    d = berthd
    run_d(d, "-t", "--name", "tty", "busybox", "sh", "-c", "echo hi; echo err >&2; exit 0")
    assert wait_exit(d, "tty") == 0
    p = subprocess.run([engine.DOCKER, "logs", "tty"], capture_output=True, env=d.env(),
                       timeout=30)
    # a terminal: one stream, the line discipline's CRLF
    assert p.stdout == b"hi\r\nerr\r\n", p.stdout
    assert p.stderr == b""
    st, hdrs, body = d.api("GET", "/v1.50/containers/tty/logs?stdout=1&stderr=1")
    assert body == b"hi\r\nerr\r\n"  # raw, no stdcopy frames
    out = logs(d, "-t", "tty").stdout.splitlines()
    assert all(TS.match(x.rstrip("\r")) for x in out), out


def test_log_driver_none(berthd):
    d = berthd
    cid = run_d(d, "--log-driver", "none", "--name", "nolog", "busybox", "echo", "hi")
    assert wait_exit(d, "nolog") == 0
    p = d.docker("logs", "nolog")
    assert p.returncode != 0
    assert "does not support reading" in p.stderr
    assert not [f for f in os.listdir(d.data / "containers" / cid) if "json.log" in f]
