"""Healthchecks (Config.Healthcheck, State.Health) with the real docker CLI and docker-py: the
probes run as execs in the container, State.Health and `ps` follow them as dockerd's do
(moby daemon/health.go), and health_status events come when the status changes. Intervals
are short and every wait is bounded."""

import json
import re
import time

import pytest

import engine
from cliutil import events_between, table, wait_until


@pytest.fixture
def d(berthd):
    return berthd


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def health(d, name):
    return json.loads(ok(d.docker("inspect", "-f", "{{json .State.Health}}", name)))


def wait_status(d, name, status, timeout=10):
    def check():
        h = health(d, name)
        return h if h and h["Status"] == status else None
    return wait_until(check, timeout=timeout, what=f"{name} {status}")


def ps_status(d, name):
    return ok(d.docker("ps", "-a", "--filter", f"name={name}", "--format", "{{.Status}}")).strip()


def ps_names(d, *filters):
    args = []
    for f in filters:
        args += ["--filter", f]
    return sorted(ok(d.docker("ps", *args, "--format", "{{.Names}}")).split())


def test_healthy_ps_and_filter(d):
    ok(d.docker("run", "-d", "--name", "hok", "--health-cmd", "echo fine",
                "--health-interval", "200ms", "busybox", "sleep", "60"))
    ok(d.docker("run", "-d", "--name", "plain", "busybox", "sleep", "60"))
    assert health(d, "plain") is None  # no healthcheck: no State.Health
    h = wait_status(d, "hok", "healthy")
    assert h["FailingStreak"] == 0
    last = h["Log"][-1]
    assert last["ExitCode"] == 0 and last["Output"] == "fine\n"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", last["Start"]), last
    assert last["End"] >= last["Start"]
    assert re.match(r"^Up .+ \(healthy\)$", ps_status(d, "hok")), ps_status(d, "hok")
    assert "(" not in ps_status(d, "plain")
    rows = table(ok(d.docker("ps")))
    assert any(r[-1] == "hok" and r[4].endswith("(healthy)") for r in rows[1:]), rows
    assert ps_names(d, "health=healthy") == ["hok"]
    assert ps_names(d, "health=none") == ["plain"]
    assert ps_names(d, "health=unhealthy") == []
    p = d.docker("ps", "--filter", "health=bogus")
    assert p.returncode != 0
    assert "Unrecognised filter value for health: bogus" in p.stderr
    # the log keeps the last five results; the probes' execs do not pile up
    wait_until(lambda: len(health(d, "hok")["Log"]) == 5, timeout=10, what="five results")
    time.sleep(0.5)
    assert len(health(d, "hok")["Log"]) == 5
    # (a probe in flight is listed, as dockerd lists it)
    assert len(json.loads(ok(d.docker("inspect", "-f", "{{json .ExecIDs}}", "hok"))) or []) <= 1
    # stopped: no more probes, and dockerd's "unhealthy" once its monitor stops
    ok(d.docker("stop", "-t", "0", "hok"))
    h = health(d, "hok")
    assert h["Status"] == "unhealthy"
    n = h["Log"][-1]["End"]
    time.sleep(0.6)
    assert health(d, "hok")["Log"][-1]["End"] == n
    assert ps_names(d, "health=unhealthy") == []  # ps lists running containers only
    # started again: starting over, then healthy
    ok(d.docker("start", "hok"))
    wait_status(d, "hok", "healthy")
    ok(d.docker("rm", "-f", "hok", "plain"))


def test_unhealthy_after_retries(d):
    ok(d.docker("run", "-d", "--name", "hbad", "--health-cmd", "echo bad >&2; exit 3",
                "--health-interval", "200ms", "--health-retries", "2", "busybox", "sleep", "60"))
    h = wait_status(d, "hbad", "unhealthy")
    assert h["FailingStreak"] >= 2
    assert all(r["ExitCode"] == 3 and r["Output"] == "bad\n" for r in h["Log"]), h
    assert len(h["Log"]) <= 5
    assert re.match(r"^Up .+ \(unhealthy\)$", ps_status(d, "hbad"))
    assert ps_names(d, "health=unhealthy") == ["hbad"]
    assert ps_names(d, "health=healthy") == []
    ok(d.docker("rm", "-f", "hbad"))


def test_starting_during_start_period(d):
    ok(d.docker("run", "-d", "--name", "hstart", "--health-cmd", "false",
                "--health-interval", "200ms", "--health-retries", "1",
                "--health-start-period", "60s", "--health-start-interval", "200ms",
                "busybox", "sleep", "60"))
    wait_until(lambda: len((health(d, "hstart") or {}).get("Log") or []) >= 3, timeout=10,
               what="three failed probes")
    h = health(d, "hstart")
    # failures within the start period do not count while it is starting
    assert h["Status"] == "starting" and h["FailingStreak"] == 0, h
    assert all(r["ExitCode"] == 1 for r in h["Log"])
    assert re.match(r"^Up .+ \(health: starting\)$", ps_status(d, "hstart"))
    assert ps_names(d, "health=starting") == ["hstart"]
    ok(d.docker("rm", "-f", "hstart"))


def test_timeout_kills_the_probe(d):
    ok(d.docker("run", "-d", "--name", "hslow", "--health-cmd", "echo slow; sleep 30",
                "--health-interval", "200ms", "--health-timeout", "300ms",
                "--health-retries", "1", "busybox", "sleep", "60"))
    h = wait_status(d, "hslow", "unhealthy")
    r = h["Log"][0]
    assert r["ExitCode"] == -1
    assert r["Output"] == "Health check exceeded timeout (300ms): slow\n", r
    # the result comes at the timeout, not when the probe's sleep would end
    ok(d.docker("rm", "-f", "hslow"))


def test_health_status_and_exec_events(d):
    since = time.time()
    ok(d.docker("run", "-d", "--name", "hev", "--health-cmd", "test ! -e /tmp/bad",
                "--health-interval", "200ms", "--health-retries", "1", "busybox", "sleep", "60"))
    wait_status(d, "hev", "healthy")
    ok(d.docker("exec", "hev", "touch", "/tmp/bad"))
    wait_status(d, "hev", "unhealthy")
    until = time.time() + 0.2
    time.sleep(0.3)
    out = events_between(d.docker, since, until, "--filter", "event=health_status",
                         "--format", "{{.Action}} {{.Actor.Attributes.name}}")
    assert out.splitlines() == ["health_status: healthy hev", "health_status: unhealthy hev"], out
    out = events_between(d.docker, since, until, "--filter", "container=hev",
                         "--format", "{{.Action}}|{{.Actor.Attributes.execID}}")
    lines = [l.split("|") for l in out.splitlines()]
    probe = "/bin/sh -c test ! -e /tmp/bad"
    creates = [x for a, x in lines if a == f"exec_create: {probe}"]
    starts = {x for a, x in lines if a == f"exec_start: {probe}"}
    dies = {x for a, x in lines if a == "exec_die"}
    assert creates and creates[0] in starts and creates[0] in dies, out
    assert "exec_create: touch /tmp/bad" in [a for a, _ in lines]  # a user's exec: the same
    ok(d.docker("rm", "-f", "hev"))


def test_image_healthcheck_and_no_healthcheck(d):
    ok(d.docker("import", "-c", "HEALTHCHECK --interval=200ms --retries=1 CMD false",
                str(engine.busybox_tar()), "hcimg:1"))
    cfg = json.loads(ok(d.docker("image", "inspect", "-f", "{{json .Config.Healthcheck}}",
                                 "hcimg:1")))
    assert cfg == {"Test": ["CMD-SHELL", "false"], "Interval": 200000000, "Retries": 1}
    ok(d.docker("run", "-d", "--name", "fromimg", "hcimg:1", "sleep", "60"))
    ok(d.docker("run", "-d", "--name", "nocheck", "--no-healthcheck", "hcimg:1", "sleep", "60"))
    # the request's test over the image's interval and retries
    ok(d.docker("run", "-d", "--name", "override", "--health-cmd", "true", "hcimg:1",
                "sleep", "60"))
    wait_status(d, "fromimg", "unhealthy")
    wait_status(d, "override", "healthy")
    assert json.loads(ok(d.docker("inspect", "-f", "{{json .Config.Healthcheck}}",
                                  "override"))) == \
        {"Test": ["CMD-SHELL", "true"], "Interval": 200000000, "Retries": 1}
    time.sleep(0.5)
    assert health(d, "nocheck") is None
    assert "(" not in ps_status(d, "nocheck")
    assert json.loads(ok(d.docker("inspect", "-f", "{{json .Config.Healthcheck.Test}}",
                                  "nocheck"))) == ["NONE"]
    p = d.docker("import", "-c", "HEALTHCHECK --interval=10us CMD true",
                 str(engine.busybox_tar()), "hcimg:2")
    assert p.returncode != 0 and 'Interval "interval" cannot be less than 1ms' in p.stderr
    ok(d.docker("rm", "-f", "fromimg", "nocheck", "override"))


@pytest.mark.parametrize("field,value,msg", [
    ("Interval", 500000, "Interval in Healthcheck cannot be less than 1ms"),
    ("Timeout", -1, "Timeout in Healthcheck cannot be less than 1ms"),
    ("Retries", -1, "Retries in Healthcheck cannot be negative"),
    ("StartPeriod", 10, "StartPeriod in Healthcheck cannot be less than 1ms"),
    ("StartInterval", 999999, "StartInterval in Healthcheck cannot be less than 1ms"),
    ("Interval", "1s", "json: cannot unmarshal string into Go struct field "
                       "HealthConfig.Healthcheck.Interval of type time.Duration"),
])
def test_create_validation(d, field, value, msg):
    body = {"Image": "busybox", "Cmd": ["true"],
            "Healthcheck": {"Test": ["CMD", "true"], field: value}}
    st, _, out = d.api("POST", "/v1.50/containers/create", body)
    assert st == 400, out
    assert json.loads(out)["message"] == msg
    assert ok(d.docker("ps", "-aq")) == ""


def test_docker_cli_rejects_short_interval(d):
    p = d.docker("run", "--rm", "--health-cmd", "true", "--health-interval", "500us",
                 "busybox", "true")
    assert p.returncode != 0
    assert "Interval in Healthcheck cannot be less than 1ms" in p.stderr


def test_pause_stops_probes(d):
    ok(d.docker("run", "-d", "--name", "hp", "--health-cmd", "true",
                "--health-interval", "200ms", "busybox", "sleep", "60"))
    wait_status(d, "hp", "healthy")
    ok(d.docker("pause", "hp"))
    h = health(d, "hp")
    assert h["Status"] == "unhealthy"  # dockerd's, once the monitor stops
    assert ps_status(d, "hp").endswith("(Paused)")
    time.sleep(0.6)
    assert health(d, "hp")["Log"][-1]["End"] == h["Log"][-1]["End"]
    ok(d.docker("unpause", "hp"))
    wait_status(d, "hp", "healthy")
    ok(d.docker("rm", "-f", "hp"))


def test_probes_resume_after_berthd_restart(d):
    ok(d.docker("run", "-d", "--name", "hr", "--health-cmd", "test ! -e /tmp/bad",
                "--health-interval", "200ms", "--health-retries", "1", "busybox", "sleep", "60"))
    wait_status(d, "hr", "healthy")
    ok(d.docker("exec", "hr", "touch", "/tmp/bad"))
    wait_status(d, "hr", "unhealthy")
    d.kill9()
    d.start()
    # the stored state is back, and the probes go on (the status starting over, as dockerd's)
    h = health(d, "hr")
    assert h["Log"] and h["Log"][-1]["ExitCode"] == 1
    wait_status(d, "hr", "unhealthy")
    ok(d.docker("exec", "hr", "rm", "/tmp/bad"))
    wait_status(d, "hr", "healthy")
    ok(d.docker("rm", "-f", "hr"))


def test_dockerpy_healthcheck(d):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + str(d.sock), version="auto", timeout=60)
    try:
        c = client.containers.run("busybox", "sleep 60", detach=True, name="hpy",
                                  healthcheck={"test": ["CMD", "echo", "ok"],
                                               "interval": 200_000_000, "retries": 2})
        deadline = time.monotonic() + 10
        while True:
            c.reload()
            h = c.attrs["State"].get("Health")
            if h and h["Status"] == "healthy" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert h and h["Status"] == "healthy", c.attrs["State"]
        assert h["Log"][-1]["Output"] == "ok\n"
        assert c.attrs["Config"]["Healthcheck"]["Test"] == ["CMD", "echo", "ok"]
        c.remove(force=True)
    finally:
        client.close()
