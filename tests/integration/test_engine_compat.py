"""Where berthd follows dockerd's rules rather than the obvious ones, checked with the real
docker CLI 28: update keeps what it is not given, prune filters refuse what they don't know,
ps filters (name regex, publish, status values), events with labels and image ids, and what
create refuses up front."""

import json
import socket
import time

import pytest

from cliutil import events_between, wait_until


@pytest.fixture
def d(berthd):
    return berthd


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def err(p, rc=1):
    assert p.returncode == rc, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stderr


def hc(d, name, *keys):
    h = json.loads(ok(d.docker("inspect", name)))[0]["HostConfig"]
    return [h[k] for k in keys]


def hijack_attach(d, name, query):
    """POST /containers/NAME/attach?QUERY upgraded to a raw stream: the socket."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(str(d.sock))
    s.sendall(f"POST /v1.50/containers/{name}/attach?{query} HTTP/1.1\r\nHost: x\r\n"
              "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def test_update_keeps_what_it_is_not_given(d):
    ok(d.docker("run", "-d", "--name", "up1", "--memory", "64m", "--cpus", "0.5",
                "--restart", "on-failure:3", "--pids-limit", "50", "busybox", "sleep", "60"))
    # docker run -m without --memory-swap: twice as much, and HostConfig says so
    assert hc(d, "up1", "Memory", "MemorySwap") == [64 << 20, 128 << 20]
    ok(d.docker("update", "--pids-limit", "40", "up1"))
    mem, swap, cpus, rp, pids = hc(d, "up1", "Memory", "MemorySwap", "NanoCpus",
                                   "RestartPolicy", "PidsLimit")
    assert (mem, swap, cpus, pids) == (64 << 20, 128 << 20, 500000000, 40)
    assert rp == {"Name": "on-failure", "MaximumRetryCount": 3}
    ok(d.docker("update", "--memory", "96m", "up1"))
    assert hc(d, "up1", "Memory", "MemorySwap", "PidsLimit") == [96 << 20, 128 << 20, 40]
    ok(d.docker("update", "--restart", "always", "up1"))
    assert hc(d, "up1", "RestartPolicy", "Memory") == [{"Name": "always", "MaximumRetryCount": 0},
                                                      96 << 20]
    # dockerd's conflicts
    e = err(d.docker("update", "--memory", "200m", "up1"))
    assert "Memory limit should be smaller than already set memoryswap limit, update the " \
        "memoryswap at the same time" in e
    e = err(d.docker("update", "--cpu-period", "100000", "up1"))
    assert "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been " \
        "set" in e
    # nothing changed by the refused updates; the limits survive a restart
    assert hc(d, "up1", "Memory", "CpuPeriod") == [96 << 20, 0]
    ok(d.docker("restart", "-t", "0", "up1"))
    out = ok(d.docker("exec", "up1", "sh", "-c",
                      "cat /sys/fs/cgroup/memory.max 2>/dev/null || "
                      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"))
    assert out.strip() == str(96 << 20)
    ok(d.docker("run", "-d", "--rm", "--name", "up2", "busybox", "sleep", "60"))
    e = err(d.docker("update", "--restart", "always", "up2"))
    assert "Restart policy cannot be updated because AutoRemove is enabled for the " \
        "container" in e
    ok(d.docker("rm", "-f", "up1", "up2"))


def test_container_prune_filters(d):
    ok(d.docker("create", "--name", "p-keep", "--label", "keep=1", "busybox", "true"))
    ok(d.docker("create", "--name", "p-go", "busybox", "true"))
    names = lambda: sorted(ok(d.docker("ps", "-a", "--format", "{{.Names}}")).split())
    # an unknown key deletes nothing
    e = err(d.docker("container", "prune", "-f", "--filter", "bogus=1"))
    assert "invalid filter 'bogus'" in e
    e = err(d.docker("container", "prune", "-f", "--filter", "until=soon"))
    assert 'failed to parse value as time or duration: "soon"' in e
    assert names() == ["p-go", "p-keep"]
    # until: a Go duration, an RFC 3339 time; both older than these containers
    ok(d.docker("container", "prune", "-f", "--filter", "until=1h"))
    ok(d.docker("container", "prune", "-f", "--filter", "until=2001-02-03T04:05:06Z"))
    assert names() == ["p-go", "p-keep"]
    out = ok(d.docker("container", "prune", "-f", "--filter", "label!=keep"))
    assert names() == ["p-keep"], out
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    ok(d.docker("container", "prune", "-f", "--filter", f"until={future}"))
    assert names() == []
    # system prune takes the same filters
    ok(d.docker("create", "--name", "p-sys", "busybox", "true"))
    e = err(d.docker("system", "prune", "-f", "--filter", "until=whenever"))
    assert "failed to parse value as time or duration" in e
    assert names() == ["p-sys"]
    ok(d.docker("system", "prune", "-f", "--filter", "until=0s"))
    assert names() == []


def test_ps_filters(d):
    for n in ("mnt1", "mnt2", "mnt3", "other"):
        ok(d.docker("create", "--name", n, "busybox", "true"))
    ok(d.docker("create", "--name", "web", "-p", "127.0.0.1:18080:80", "--expose", "90",
                "--network", "bridge", "busybox", "true"))
    ps = lambda *f: sorted(ok(d.docker("ps", "-a", "--format", "{{.Names}}", *f)).split())
    assert ps("--filter", "name=^mnt") == ["mnt1", "mnt2", "mnt3"]
    assert ps("--filter", "name=mnt3$") == ["mnt3"]
    assert ps("--filter", "name=^/other$") == ["other"]
    assert ps("--filter", "name=nt") == ["mnt1", "mnt2", "mnt3"]
    assert ps("--filter", "publish=80") == ["web"]
    assert ps("--filter", "publish=79-81/tcp") == ["web"]
    assert ps("--filter", "publish=80/udp") == []
    assert ps("--filter", "expose=90") == ["web"]
    assert ps("--filter", "expose=80") == ["web"]
    assert ps("--filter", "is-task=true") == []
    assert len(ps("--filter", "is-task=false")) == 5
    assert len(ps("--filter", "isolation=default")) == 5
    assert "invalid filter 'status=foo'" in err(d.docker("ps", "--filter", "status=foo"))
    assert 'strconv.Atoi: parsing "abc": invalid syntax' in \
        err(d.docker("ps", "-a", "--filter", "exited=abc"))
    assert "invalid filter 'nope'" in err(d.docker("ps", "--filter", "nope=1"))
    ok(d.docker("rm", "mnt1", "mnt2", "mnt3", "other", "web"))


def test_events_carry_labels_and_image_ids(d):
    since = time.time() - 0.5
    ok(d.docker("run", "--rm", "--name", "evl", "--label", "com.docker.compose.project=p1",
                "busybox", "true"))
    ok(d.docker("tag", "busybox", "evtag:1"))
    ok(d.docker("rmi", "evtag:1"))
    until = time.time() + 0.2
    wait_until(lambda: time.time() > until + 0.05, timeout=2, what="until")
    out = events_between(d.docker, since, until, "--filter",
                         "label=com.docker.compose.project=p1", "--format",
                         "{{.Action}} {{.Actor.Attributes.name}}")
    actions = [l.split()[0] for l in out.splitlines()]
    for a in ("create", "start", "die", "destroy"):
        assert a in actions, out
    image_id = ok(d.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip()
    out = events_between(d.docker, since, until, "--filter", "type=image", "--filter",
                         "event=tag", "--filter", "event=untag", "--format",
                         "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}")
    assert out.splitlines() == [f"tag {image_id} evtag:1", f"untag {image_id} {image_id}"], out


def test_create_refuses_up_front(d):
    before = ok(d.docker("ps", "-aq"))
    e = err(d.docker("create", "-w", "rel", "busybox", "true"))
    assert "the working directory 'rel' is invalid, it needs to be an absolute path" in e
    e = err(d.docker("create", "--stop-signal", "NOPE", "busybox", "true"))
    assert "Invalid signal: NOPE" in e
    e = err(d.docker("run", "--log-opt", "bogus=1", "busybox", "true"), 125)
    assert "unknown log opt 'bogus' for json-file log driver" in e
    e = err(d.docker("run", "--log-driver", "bogus", "busybox", "true"), 125)
    assert "logger: no log driver named 'bogus' is registered" in e
    assert ok(d.docker("run", "--rm", "--log-driver", "none", "busybox", "echo", "x")) == "x\n"
    assert ok(d.docker("ps", "-aq")) == before
    # --entrypoint '' resets the entrypoint: the command runs as given
    assert ok(d.docker("run", "--rm", "--entrypoint", "", "busybox", "echo", "ep")) == "ep\n"
    assert json.loads(ok(d.docker("create", "--name", "ep0", "--entrypoint", "", "busybox",
                                  "true")) and ok(d.docker("inspect", "-f",
                                                           "{{json .Config.Entrypoint}}",
                                                           "ep0"))) is None
    ok(d.docker("rm", "ep0"))
    # host networking: the host's name, as dockerd
    assert ok(d.docker("run", "--rm", "--network", "host", "busybox", "hostname")).strip() == \
        socket.gethostname()


def test_images_reference_filter_lists_matching_tags_only(d):
    ok(d.docker("tag", "busybox", "busybox:v2"))
    ok(d.docker("tag", "busybox", "myrepo/bb:1"))
    rows = lambda *a: ok(d.docker("images", "--format", "{{.Repository}}:{{.Tag}}", *a)).split()
    assert sorted(rows("busybox")) == ["busybox:latest", "busybox:v2"]
    assert rows("--filter", "reference=*/bb") == ["myrepo/bb:1"]
    assert rows("--filter", "reference=busybox:v*") == ["busybox:v2"]
    assert len(ok(d.docker("images", "-q", "busybox:v2")).split()) == 1
    assert rows("--filter", "reference=nomatch") == []
    ok(d.docker("rmi", "busybox:v2", "myrepo/bb:1"))


def test_events_filters_checked(d):
    e = err(d.docker("events", "--since", "0", "--until", "1", "--filter", "bogus=1"))
    assert "invalid filter 'bogus'" in e
    ok(d.docker("events", "--since", "0", "--until", "1", "--filter", "network=x",
                "--filter", "scope=local"))


def test_volume_commands_without_named_volumes(d):
    assert ok(d.docker("volume", "ls")) == "DRIVER    VOLUME NAME\n"
    e = err(d.docker("volume", "inspect", "nope"))
    assert "get nope: no such volume" in e
    e = err(d.docker("volume", "create", "v1"))
    assert "named volumes are not supported by berth yet" in e
    assert ok(d.docker("volume", "prune", "-f")).startswith("Total reclaimed space: 0B")


def test_logs_details(d):
    ok(d.docker("run", "--name", "det", "busybox", "sh", "-c", "echo out; echo err >&2"))
    p = d.docker("logs", "--details", "det")
    assert (p.stdout, p.stderr) == (" out\n", " err\n")
    p = d.docker("logs", "--details", "-t", "det")
    assert p.stdout.count("Z  out") == 1, p.stdout
    ok(d.docker("rm", "det"))


def test_exec_unknown_user_fails_at_start_with_126(d):
    ok(d.docker("run", "-d", "--name", "xu", "busybox", "sleep", "60"))
    p = d.docker("exec", "-u", "nosuch", "xu", "true")
    assert p.returncode == 126, (p.returncode, p.stderr)
    assert "unable to find user nosuch: no matching entries in passwd file" in p.stderr
    assert ok(d.docker("exec", "-u", "1000", "xu", "id", "-u")) == "1000\n"
    ok(d.docker("rm", "-f", "xu"))


def test_stdin_before_start_larger_than_a_pipe(d):
    """A client attaches with stdin and sends more than a pipe holds (64 KiB) before the
    container starts: the init reads nothing until START, so the shim must keep the rest and
    still answer START (it blocked in write() and the start hung)."""
    st, _, body = d.api("POST", "/v1.50/containers/create?name=bigin",
                        {"Image": "busybox", "Cmd": ["wc", "-c"], "OpenStdin": True,
                         "StdinOnce": True, "AttachStdin": True, "AttachStdout": True,
                         "AttachStderr": True})
    assert st == 201, body
    s = hijack_attach(d, "bigin", "stream=1&stdin=1&stdout=1&stderr=1")
    data = b"y" * (300 * 1024)
    sender = __import__("threading").Thread(target=lambda: (s.sendall(data),
                                                           s.shutdown(socket.SHUT_WR)))
    sender.start()
    time.sleep(0.5)  # the data is in the shim's pipe and socket before the start
    st, _, body = d.api("POST", "/v1.50/containers/bigin/start", timeout=20)
    assert st == 204, body
    sender.join(20)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    # stdout frames: 8-byte headers, then the count
    payload, i = b"", 0
    while i + 8 <= len(out):
        n = int.from_bytes(out[i + 4:i + 8], "big")
        payload += out[i + 8:i + 8 + n]
        i += 8 + n
    assert payload.strip() == str(len(data)).encode(), out[:200]
    st, _, body = d.api("POST", "/v1.50/containers/bigin/wait", timeout=20)
    assert json.loads(body)["StatusCode"] == 0
    d.api("DELETE", "/v1.50/containers/bigin")


def test_cpuset_checked_at_create(d):
    online = open("/sys/devices/system/cpu/online").read().strip()
    e = err(d.docker("create", "--cpuset-cpus", "700", "busybox", "true"))
    assert f"Requested CPUs are not available - requested 700, available: {online}" in e
    e = err(d.docker("create", "--cpuset-cpus", "1-0", "busybox", "true"))
    assert "Invalid value 1-0 for cpuset cpus" in e
    ok(d.docker("run", "--rm", "--cpuset-cpus", "0", "busybox", "true"))


def test_stdin_nobody_reads_does_not_stall_output(d):
    """A running container that does not read its stdin while a client pours data into it:
    once the pipe is full, the shim keeps the rest and goes on serving (output, logs, other
    clients); it used to block in write() until the process exited."""
    import threading
    st, _, body = d.api("POST", "/v1.50/containers/create?name=noread",
                        {"Image": "busybox", "OpenStdin": True,
                         "Cmd": ["sh", "-c", "i=0; while [ $i -lt 60 ]; do echo line$i; "
                                 "i=$((i+1)); sleep 0.1; done"]})
    assert st == 201, body
    st, _, body = d.api("POST", "/v1.50/containers/noread/start")
    assert st == 204, body
    s = hijack_attach(d, "noread", "stream=1&stdin=1")
    def pour():
        try:
            s.sendall(b"z" * (1024 * 1024))
        except OSError:
            pass  # closed at the end of the test, still blocked
    threading.Thread(target=pour, daemon=True).start()
    time.sleep(0.5)
    first = ok(d.docker("logs", "noread")).count("line")
    time.sleep(1.5)
    # the output still flows into the log while the stdin pipe is full
    assert ok(d.docker("logs", "noread")).count("line") >= first + 8
    # and the shim still answers: a second attach sees the stream
    p = d.docker("attach", "--no-stdin", "noread", timeout=20)
    assert p.returncode == 0 and "line59" in p.stdout, p
    s.close()
    ok(d.docker("rm", "-f", "noread"))


def test_ps_shows_the_image_id_once_the_reference_moved(d):
    ok(d.docker("tag", "busybox", "bb-old:1"))
    ok(d.docker("create", "--name", "moved", "bb-old:1", "true"))
    fmt = ["ps", "-a", "--filter", "name=moved", "--format", "{{.Image}}"]
    assert ok(d.docker(*fmt)) == "bb-old:1\n"
    image_id = ok(d.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip()
    ok(d.docker("rmi", "bb-old:1"))  # untagged; the image stays (busybox:latest)
    assert ok(d.docker(*fmt)) == image_id.split(":")[1][:12] + "\n"
    assert json.loads(ok(d.docker("ps", "-a", "--filter", "name=moved", "--format",
                                  "{{json .}}")))["Image"] == image_id.split(":")[1][:12]
    ok(d.docker("rm", "moved"))


def test_load_over_a_tag_in_use_says_so(d, tmp_path):
    since = time.time() - 0.2
    tar = tmp_path / "bb.tar"
    ok(d.docker("save", "-o", str(tar), "busybox"))
    image_id = ok(d.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip()
    # another image takes the tag: an import of the same rootfs with another config
    ok(d.docker("import", "-c", "ENV X=1", str(engine_tar()), "busybox:latest"))
    other = ok(d.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip()
    assert other != image_id
    out = ok(d.docker("load", "-i", str(tar)))
    assert out == ("The image busybox:latest already exists, renaming the old one with ID "
                   f"{other} to empty string\nLoaded image: busybox:latest\n"), out
    assert ok(d.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip() == image_id
    until = time.time() + 0.2
    wait_until(lambda: time.time() > until + 0.05, timeout=2, what="until")
    out = events_between(d.docker, since, until, "--filter", "event=load", "--format",
                         "{{.Actor.ID}}")
    assert out.split() == [image_id], out
    ok(d.docker("rmi", other))


def engine_tar():
    import engine
    return engine.busybox_tar()


def test_container_prune_reports_the_space_it_reclaims(d):
    ok(d.docker("run", "--name", "pr1", "busybox", "dd", "if=/dev/zero", "of=/f", "bs=1024",
                "count=300"))
    ok(d.docker("create", "--name", "pr2", "busybox", "true"))
    out = ok(d.docker("container", "prune", "-f"))
    assert out.endswith("Total reclaimed space: 307.2kB\n"), out
    assert ok(d.docker("ps", "-aq")) == ""
    out = ok(d.docker("container", "prune", "-f"))
    assert out == "Total reclaimed space: 0B\n", out


@pytest.mark.parametrize("args", [
    ["volume", "ls"], ["volume", "ls", "-q"], ["volume", "ls", "--format", "{{.Name}} {{.Driver}}"],
    ["volume", "ls", "--filter", "dangling=true"], ["volume", "inspect", "nope"],
    ["volume", "inspect", "-f", "{{.Name}}", "nope"], ["volume", "create", "v1"],
    ["volume", "create", "--name", "a", "b"], ["volume", "rm", "nope"],
    ["volume", "rm", "-f", "nope"], ["volume", "prune", "-f"], ["volume", "prune", "-a", "-f"],
])
def test_berth_volume_commands_answer_as_docker(d, args):
    b, k = d.berth(*args), d.docker(*args)
    assert (b.returncode, b.stdout) == (k.returncode, k.stdout), (args, b, k)
    norm = b.stderr.replace("berth: ", "docker: ").replace("berth volume", "docker volume")
    assert norm == k.stderr, (args, b.stderr, k.stderr)
