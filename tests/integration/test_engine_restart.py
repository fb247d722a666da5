"""Restart policies: no, always, on-failure[:N], unless-stopped (also across berthd
restarts), the back-off between restarts, docker stop of a restarting container, and the
die/start events they make."""

import json
import time

from helpers import wait_for


def inspect(d, name):
    p = d.docker("inspect", name, check=True)
    return json.loads(p.stdout)[0]


def run_d(d, *args):
    p = d.docker("run", "-d", *args)
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    d.seen_ids.add(cid)
    return cid


def events(d, name, since, until=None):
    """(action, timeNano) of a container's events between since and until (unix s)."""
    p = d.docker("events", "--since", f"{since:.9f}", "--until",
                 f"{(until or time.time()):.9f}", "--filter", f"container={name}",
                 "--format", "{{json .}}", timeout=20)
    assert p.returncode == 0, p.stderr
    out = []
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        out.append((ev["Action"], ev["timeNano"], ev["Actor"]["Attributes"]))
    return out


def stable(d, name, seconds=1.0):
    """The RestartCount and status do not change for a while."""
    a = inspect(d, name)
    time.sleep(seconds)
    b = inspect(d, name)
    assert a["RestartCount"] == b["RestartCount"], (a["RestartCount"], b["RestartCount"])
    assert a["State"]["Status"] == b["State"]["Status"]
    return b


def test_restart_no(berthd):
    d = berthd
    run_d(d, "--restart", "no", "--name", "n", "busybox", "sh", "-c", "exit 1")
    wait_for(lambda: inspect(d, "n")["State"]["Status"] == "exited", what="exit")
    c = stable(d, "n", 0.5)
    assert c["RestartCount"] == 0 and c["State"]["ExitCode"] == 1
    assert c["HostConfig"]["RestartPolicy"]["Name"] == "no"


def test_restart_always_and_stop(berthd):
    d = berthd
    t0 = time.time()
    run_d(d, "--restart", "always", "--name", "a", "busybox", "sh", "-c", "sleep 0.2; exit 0")
    # RestartCount counts decisions (as dockerd's): a restart may still be pending
    wait_for(lambda: len([e for e in events(d, "a", t0) if e[0] == "start"]) >= 3, 15,
             what="two restarts")
    p = d.docker("stop", "-t", "1", "a")
    assert p.returncode == 0, p.stderr
    c = stable(d, "a", 1.0)
    assert c["State"]["Status"] == "exited" and not c["State"]["Restarting"]
    evs = events(d, "a", t0)
    actions = [a for a, _, _ in evs if a in ("start", "die")]
    # start, die, start, die, start ..., then the stop's die
    assert actions[:4] == ["start", "die", "start", "die"], actions
    assert actions.count("start") >= 3, actions
    dies = [attrs for a, _, attrs in evs if a == "die"]
    assert all(x.get("exitCode") in ("0", "137", "143") for x in dies), dies
    assert dies[0]["exitCode"] == "0" and dies[0]["name"] == "a"


def test_restart_on_failure_max(berthd):
    d = berthd
    run_d(d, "--restart", "on-failure:2", "--name", "f", "busybox", "sh", "-c", "exit 7")
    wait_for(lambda: inspect(d, "f")["State"]["Status"] == "exited" and
             inspect(d, "f")["RestartCount"] == 2, 15, what="two retries, then exited")
    c = stable(d, "f", 1.0)
    assert c["RestartCount"] == 2 and c["State"]["ExitCode"] == 7, c["State"]
    assert c["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    # a start by the user resets the count (Docker resets its restart manager)
    t0 = time.time()
    assert d.docker("start", "f").returncode == 0
    wait_for(lambda: inspect(d, "f")["State"]["Status"] == "exited" and
             inspect(d, "f")["RestartCount"] == 2, 15, what="two more retries")
    starts = [a for a, _, _ in events(d, "f", t0) if a == "start"]
    assert len(starts) == 3, starts


def test_restart_on_failure_success_is_final(berthd):
    d = berthd
    run_d(d, "--restart", "on-failure", "--name", "s", "busybox", "sh", "-c", "exit 0")
    wait_for(lambda: inspect(d, "s")["State"]["Status"] == "exited", what="exit")
    c = stable(d, "s", 0.7)
    assert c["RestartCount"] == 0 and c["State"]["ExitCode"] == 0


def test_unless_stopped(berthd):
    d = berthd
    run_d(d, "--restart", "unless-stopped", "--name", "u", "busybox", "sh", "-c",
          "sleep 0.3; exit 2")
    wait_for(lambda: inspect(d, "u")["RestartCount"] >= 1, 10, what="a restart")
    wait_for(lambda: inspect(d, "u")["State"]["Running"], 10, what="running again")
    assert d.docker("stop", "-t", "1", "u").returncode == 0
    c = stable(d, "u", 1.0)
    assert c["State"]["Status"] == "exited"
    # not even across a berthd restart (hard, then clean)
    d.kill9()
    d.start()
    c = stable(d, "u", 1.0)
    assert c["State"]["Status"] == "exited"
    d.stop()
    d.start()
    assert stable(d, "u", 0.5)["State"]["Status"] == "exited"
    # a start by the user brings the policy back
    assert d.docker("start", "u").returncode == 0
    wait_for(lambda: inspect(d, "u")["RestartCount"] >= 1, 10, what="a restart after start")
    assert d.docker("stop", "-t", "1", "u").returncode == 0


def test_always_comes_back_with_berthd(berthd):
    """docker stop, then a berthd restart: 'always' starts again, unless-stopped not."""
    d = berthd
    run_d(d, "--restart", "always", "--name", "al", "busybox", "sleep", "1000")
    run_d(d, "--restart", "unless-stopped", "--name", "us", "busybox", "sleep", "1000")
    for n in ("al", "us"):
        assert d.docker("stop", "-t", "0", n).returncode == 0
    d.kill9()
    d.start()
    wait_for(lambda: inspect(d, "al")["State"]["Running"], 10, what="'always' restarted")
    assert stable(d, "us", 0.5)["State"]["Status"] == "exited"
    assert d.docker("stop", "-t", "0", "al").returncode == 0


def test_backoff_grows(berthd):
    d = berthd
    t0 = time.time()
    run_d(d, "--restart", "always", "--name", "b", "busybox", "sh", "-c", "exit 1")
    wait_for(lambda: len([e for e in events(d, "b", t0) if e[0] == "start"]) >= 5, 20,
             what="four restarts")
    seen_restarting = False
    for _ in range(40):
        st = inspect(d, "b")["State"]
        if st["Restarting"]:
            assert st["Status"] == "restarting"
            seen_restarting = True
            break
        time.sleep(0.05)
    assert seen_restarting
    ps = d.docker("ps", "--filter", "name=b", "--format", "{{.Status}}").stdout
    assert ps.startswith("Restarting (1)"), ps
    assert d.docker("stop", "-t", "1", "b").returncode == 0
    evs = [(a, t) for a, t, _ in events(d, "b", t0) if a in ("start", "die")]
    # gaps between a die and the next start: the back-off delays (100, 200, 400, 800 ms)
    gaps = [(evs[i + 1][1] - evs[i][1]) / 1e9 for i in range(len(evs) - 1)
            if evs[i][0] == "die" and evs[i + 1][0] == "start"]
    assert len(gaps) >= 4, evs
    for i in range(1, 4):
        assert gaps[i] > gaps[i - 1] * 1.3, gaps
    assert gaps[0] >= 0.09 and gaps[3] >= 0.7, gaps
    c = stable(d, "b", 1.0)
    assert c["State"]["Status"] == "exited"


def test_stop_restarting_container(berthd):
    d = berthd
    run_d(d, "--restart", "always", "--name", "r", "busybox", "sh", "-c", "exit 1")
    # restart 5 waits 3.2 s: catch it restarting
    wait_for(lambda: inspect(d, "r")["RestartCount"] >= 5, 20, what="five restarts")
    wait_for(lambda: inspect(d, "r")["State"]["Restarting"], 5, what="restarting")
    t = time.monotonic()
    p = d.docker("stop", "r")
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t < 2, "stop of a restarting container does not wait"
    c = inspect(d, "r")
    assert c["State"]["Status"] == "exited" and not c["State"]["Restarting"]
    n = c["RestartCount"]
    time.sleep(4)  # past the pending restart's delay
    c = inspect(d, "r")
    assert c["State"]["Status"] == "exited" and c["RestartCount"] == n
    # docker kill of a restarting container: the same
    run_d(d, "--restart", "always", "--name", "k", "busybox", "sh", "-c", "exit 1")
    wait_for(lambda: inspect(d, "k")["RestartCount"] >= 4, 20, what="four restarts")
    wait_for(lambda: inspect(d, "k")["State"]["Restarting"], 5, what="restarting")
    d.docker("kill", "k")
    c = stable(d, "k", 2.0)
    assert c["State"]["Status"] == "exited"


def test_remove_restarting_container(berthd):
    d = berthd
    run_d(d, "--restart", "always", "--name", "rm", "busybox", "sh", "-c", "exit 1")
    wait_for(lambda: inspect(d, "rm")["RestartCount"] >= 4, 20, what="four restarts")
    wait_for(lambda: inspect(d, "rm")["State"]["Restarting"], 5, what="restarting")
    p = d.docker("rm", "-f", "rm")
    assert p.returncode == 0, p.stderr
    time.sleep(2)
    assert d.docker("ps", "-aq").stdout == ""


def test_pending_restart_across_berthd_kill(berthd):
    """A restart waiting out its back-off when berthd dies happens when it comes back."""
    d = berthd
    t0 = time.time()
    run_d(d, "--restart", "always", "--name", "p", "busybox", "sh", "-c", "sleep 0.1; exit 1")
    wait_for(lambda: inspect(d, "p")["RestartCount"] >= 5, 20, what="five restarts")
    wait_for(lambda: inspect(d, "p")["State"]["Restarting"], 5, what="restarting")
    d.kill9()
    t1 = time.time()
    d.start()
    # the pending restart (a 1.6-3.2 s back-off) happens soon after berthd is back
    wait_for(lambda: inspect(d, "p")["RestartCount"] >= 6, 10, what="the pending restart")
    assert d.docker("stop", "-t", "0", "p").returncode == 0
    c = stable(d, "p", 1.0)
    assert c["State"]["Status"] == "exited"
    assert t1 > t0
