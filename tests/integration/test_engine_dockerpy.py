"""docker-py (Debian's python3-docker) against berthd: the flows real Python clients use."""

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

import pytest

docker = pytest.importorskip("docker")


@pytest.fixture
def client(berthd):
    c = docker.DockerClient(base_url="unix://" + str(berthd.sock), version="auto", timeout=60)
    try:
        yield c
    finally:
        c.close()


def names(client, **kw):
    return sorted(c.name for c in client.containers.list(**kw))


def test_ping_version(client):
    assert client.ping() is True
    v = client.version()
    assert v["ApiVersion"] == "1.50"
    assert v["Os"] == "linux"
    assert any(c["Name"] == "Engine" for c in v.get("Components", []))
    assert client.api.api_version == "1.50"


def test_run_attached_returns_output(client):
    out = client.containers.run("busybox", ["sh", "-c", "echo hello; echo world"], remove=True)
    assert out == b"hello\nworld\n"
    out = client.containers.run("busybox", "echo hi", remove=True)
    assert out == b"hi\n"
    assert client.containers.list(all=True) == []


def test_run_attached_failure_raises(client):
    with pytest.raises(docker.errors.ContainerError) as ei:
        client.containers.run("busybox", ["sh", "-c", "echo oops >&2; exit 3"], remove=True)
    assert ei.value.exit_status == 3
    assert b"oops" in ei.value.stderr
    assert client.containers.list(all=True) == []


def test_run_missing_image(client):
    with pytest.raises(docker.errors.ImageNotFound):
        client.api.create_container("nosuchimage:latest", "true")
    assert client.containers.list(all=True) == []


def test_run_detached_wait_logs_remove(client):
    c = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2; exit 7"],
                              detach=True)
    assert isinstance(c, docker.models.containers.Container)
    res = c.wait(timeout=30)
    assert res["StatusCode"] == 7
    assert c.logs(stdout=True, stderr=False) == b"out\n"
    assert c.logs(stdout=False, stderr=True) == b"err\n"
    assert c.logs() == b"out\nerr\n"
    c.reload()
    assert c.status == "exited"
    assert c.attrs["State"]["ExitCode"] == 7
    c.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(c.id)
    assert client.containers.list(all=True) == []


def test_list_all_and_filters(client):
    a = client.containers.run("busybox", "sleep 60", detach=True, name="pya",
                              labels={"tier": "one"})
    b = client.containers.create("busybox", "true", name="pyb", labels={"tier": "two"})
    try:
        assert names(client) == ["pya"]
        assert names(client, all=True) == ["pya", "pyb"]
        assert names(client, all=True, filters={"label": "tier=two"}) == ["pyb"]
        assert names(client, all=True, filters={"label": ["tier"]}) == ["pya", "pyb"]
        assert names(client, all=True, filters={"status": "created"}) == ["pyb"]
        assert names(client, filters={"status": "running"}) == ["pya"]
        assert names(client, all=True, filters={"name": "pya"}) == ["pya"]
        assert names(client, all=True, filters={"id": b.id[:12]}) == ["pyb"]
        assert names(client, all=True, filters={"ancestor": "busybox"}) == ["pya", "pyb"]
        assert [c.id for c in client.containers.list(all=True, limit=1)] == [b.id]
        got = client.containers.get("pya")
        assert got.id == a.id and got.status == "running"
        assert got.labels == {"tier": "one"}
        assert got.image.tags == ["busybox:latest"]
    finally:
        a.remove(force=True)
        b.remove()
    assert client.containers.list(all=True) == []


def test_exec_run(client):
    c = client.containers.run("busybox", "sleep 60", detach=True)
    try:
        r = c.exec_run(["sh", "-c", "echo in-exec; exit 4"])
        assert r.exit_code == 4
        assert r.output == b"in-exec\n"
        r = c.exec_run("cat /etc/hostname")
        assert r.exit_code == 0
        assert r.output.strip() == c.id[:12].encode()
        r = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
        assert r.exit_code == 0
        assert r.output == (b"o\n", b"e\n")
        r = c.exec_run(["sh", "-c", "echo $FOO"], environment={"FOO": "bar"}, workdir="/tmp")
        assert r.output == b"bar\n"
        r = c.exec_run("nosuchcmd")
        assert r.exit_code in (126, 127)
        # stream=True: a generator of chunks; exit code only by inspect afterwards
        r = c.exec_run(["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.1; done"],
                       stream=True)
        assert r.exit_code is None
        data = b"".join(r.output)
        assert data == b"line1\nline2\nline3\n"
        # tty exec: raw bytes, no frames
        r = c.exec_run(["echo", "tty"], tty=True)
        assert r.exit_code == 0
        assert r.output == b"tty\r\n"
    finally:
        c.remove(force=True)


def test_exec_low_level_inspect(client):
    c = client.containers.run("busybox", "sleep 60", detach=True)
    try:
        ex = client.api.exec_create(c.id, ["sh", "-c", "exit 9"])
        assert client.api.exec_start(ex["Id"]) == b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            info = client.api.exec_inspect(ex["Id"])
            if not info["Running"]:
                break
            time.sleep(0.05)
        assert info["ExitCode"] == 9
        assert info["ContainerID"] == c.id
        # detached exec
        ex = client.api.exec_create(c.id, ["sh", "-c", "echo x > /tmp/detached"])
        client.api.exec_start(ex["Id"], detach=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and client.api.exec_inspect(ex["Id"])["Running"]:
            time.sleep(0.05)
        assert c.exec_run("cat /tmp/detached").output == b"x\n"
    finally:
        c.remove(force=True)


def test_logs_stream_running_container(client):
    c = client.containers.run(
        "busybox", ["sh", "-c", "i=0; while [ $i -lt 200 ]; do echo tick$i; i=$((i+1)); sleep 0.05; done"],
        detach=True)
    try:
        got = []
        stream = c.logs(stream=True, follow=True)
        deadline = time.monotonic() + 20
        buf = b""
        for chunk in stream:
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                got.append(line)
            if len(got) >= 5 or time.monotonic() > deadline:
                break
        stream.close()
        assert got[:5] == [b"tick0", b"tick1", b"tick2", b"tick3", b"tick4"]
        # berthd still serves after the client dropped the follow stream
        assert client.ping()
        c.kill()
        assert c.wait(timeout=30)["StatusCode"] == 137
    finally:
        c.remove(force=True)


def test_logs_stream_ends_with_container(client):
    c = client.containers.run("busybox", ["sh", "-c", "echo a; sleep 0.3; echo b"], detach=True)
    try:
        chunks = list(c.logs(stream=True, follow=True))
        assert b"".join(chunks) == b"a\nb\n"
    finally:
        c.remove(force=True)


def test_attach_stream(client):
    c = client.containers.create("busybox", ["sh", "-c", "sleep 0.3; echo one; echo two >&2"])
    try:
        s = c.attach(stdout=True, stderr=True, stream=True, logs=False)
        c.start()
        data = b""
        deadline = time.monotonic() + 20
        for chunk in s:
            data += chunk
            if time.monotonic() > deadline:
                break
        assert data == b"one\ntwo\n"
        assert c.wait(timeout=30)["StatusCode"] == 0
    finally:
        c.remove(force=True)


def test_attach_socket_stdin(client):
    cid = client.api.create_container("busybox", "cat", stdin_open=True)["Id"]
    c = client.containers.get(cid)
    try:
        sock = client.api.attach_socket(c.id, params={"stdin": 1, "stdout": 1, "stream": 1})
        c.start()
        raw = sock._sock
        raw.sendall(b"ping\n")
        raw.shutdown(1)  # half-close: stdin EOF
        raw.settimeout(20)
        data = b""
        while True:
            d = raw.recv(4096)
            if not d:
                break
            data += d
        raw.close()
        # multiplexed: one stdout frame
        assert data[:1] == b"\x01"
        assert data[8:] == b"ping\n"
        assert c.wait(timeout=30)["StatusCode"] == 0
    finally:
        c.remove(force=True)


def test_images_list_get(client):
    imgs = client.images.list()
    assert len(imgs) == 1
    img = imgs[0]
    assert img.tags == ["busybox:latest"]
    assert img.id.startswith("sha256:")
    assert client.images.get("busybox").id == img.id
    assert client.images.get(img.short_id).id == img.id
    assert client.images.list(name="busybox")[0].id == img.id
    assert client.images.list(name="nosuch") == []
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("nosuch:latest")


def _roundtrip_load(client, tar_bytes, expect_tag):
    client.images.remove("busybox:latest")
    assert client.images.list() == []
    loaded = client.images.load(tar_bytes)
    assert [i.tags for i in loaded] == [[expect_tag]]
    assert client.containers.run(expect_tag, "echo back", remove=True) == b"back\n"


def test_images_save_load(client):
    img = client.images.get("busybox")
    data = b"".join(img.save(named=True))
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        names_ = t.getnames()
    assert "manifest.json" in names_
    # a second tag so that removal of busybox:latest leaves the image...
    img.tag("saved", "v1")
    client.images.remove("saved:v1")
    _roundtrip_load(client, data, "busybox:latest")
    assert client.images.get("busybox").id == img.id


def test_images_load_from_docker_cli_save(berthd, client, tmp_path):
    out = tmp_path / "bb.tar"
    p = berthd.docker("save", "-o", str(out), "busybox:latest", timeout=120)
    assert p.returncode == 0, p.stderr
    _roundtrip_load(client, out.read_bytes(), "busybox:latest")


def test_container_remove_running_conflict(client):
    c = client.containers.run("busybox", "sleep 60", detach=True)
    with pytest.raises(docker.errors.APIError) as ei:
        c.remove()
    assert ei.value.status_code == 409
    c.remove(force=True)
    with pytest.raises(docker.errors.NotFound):
        c.reload()
    assert client.containers.list(all=True) == []


def test_run_with_mounts(client):
    from docker.types import Mount
    h = tempfile.mkdtemp(prefix="berth-mnt-", dir="/tmp")
    try:
        with open(os.path.join(h, "f"), "w") as f:
            f.write("hello\n")
        mounts = [Mount("/x", h, type="bind", read_only=True),
                  Mount("/t", None, type="tmpfs", tmpfs_size="1m", tmpfs_mode=0o1770)]
        script = "cat /x/f; grep ' /t ' /proc/mounts | cut -d' ' -f4; touch /x/new"
        with pytest.raises(docker.errors.ContainerError) as ei:
            client.containers.run("busybox", ["sh", "-c", script], mounts=mounts, remove=True)
        assert b"Read-only file system" in ei.value.stderr
        assert not os.path.exists(os.path.join(h, "new"))
        c = client.containers.run("busybox", ["sh", "-c", script.rsplit(";", 1)[0]],
                                  mounts=mounts, detach=True)
        assert c.wait()["StatusCode"] == 0
        out = c.logs().decode().splitlines()
        assert out[0] == "hello"
        opts = out[1].split(",")
        assert opts[0] == "rw" and {"size=1024k", "mode=1770"} <= set(opts), out
        got = sorted(c.attrs["Mounts"], key=lambda m: m["Destination"])
        assert got == [{"Type": "tmpfs", "Source": "", "Destination": "/t", "Mode": "",
                        "RW": True, "Propagation": ""},
                       {"Type": "bind", "Source": h, "Destination": "/x", "Mode": "",
                        "RW": False, "Propagation": "rprivate"}]
        assert [x.id for x in client.containers.list(all=True, filters={"volume": "/x"})] \
            == [c.id]
        c.remove()
        # a bind whose source is missing is refused at create, and nothing is made
        with pytest.raises(docker.errors.APIError) as ei:
            client.containers.create("busybox", "true",
                                     mounts=[Mount("/x", h + "/missing", type="bind")])
        assert ei.value.status_code == 400
        assert ei.value.explanation == ('invalid mount config for type "bind": bind source '
                                        f"path does not exist: {h}/missing")
        assert client.containers.list(all=True) == []
    finally:
        shutil.rmtree(h, ignore_errors=True)


def test_run_auto_remove_detached(client):
    c = client.containers.run("busybox", "sleep 0.5", detach=True, auto_remove=True)
    deadline = time.monotonic() + 20
    # the low-level list: containers.list() inspects each entry, racing with the removal
    while time.monotonic() < deadline:
        if client.api.containers(all=True) == []:
            break
        time.sleep(0.05)
    assert client.api.containers(all=True) == []
    with pytest.raises(docker.errors.NotFound):
        c.reload()


def test_stop_restart_kill(client):
    c = client.containers.run("busybox", "sleep 60", detach=True)
    try:
        c.stop(timeout=1)
        c.reload()
        assert c.status == "exited"
        c.start()
        c.reload()
        assert c.status == "running"
        c.restart(timeout=1)
        c.reload()
        assert c.status == "running"
        c.kill()
        assert c.wait(timeout=30)["StatusCode"] == 137
    finally:
        c.remove(force=True)
