"""Containers' sizes with the real docker CLI (28.x) and the API against a private berthd, as
dockerd's overlay2 reports them: SizeRw is what the writable layer (the overlay's upper dir)
holds, each hard-linked inode once; SizeRootFs adds the image's size. ps -s, inspect -s and
system df show them; nothing walks a layer unless sizes are asked for."""

import json
import os
import stat
import threading

import pytest

from cliutil import table

V = "/v1.50"
KB500 = 500 * 1024  # dd bs=1k count=500


@pytest.fixture
def d(berthd):
    return berthd


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def human(n, precision=3):
    """go-units' HumanSizeWithPrecision (decimal units), as the docker CLI prints sizes."""
    units = ["B", "kB", "MB", "GB", "TB"]
    v, i = float(n), 0
    while v >= 1000 and i < len(units) - 1:
        v /= 1000
        i += 1
    return f"{v:.{precision}g}{units[i]}"


def image_size(d):
    return int(ok(d.docker("image", "inspect", "-f", "{{.Size}}", "busybox")).strip())


def inspect_sizes(d, name):
    rw, rootfs = ok(d.docker("inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", name)).split()
    return int(rw), int(rootfs)


def api_json(d, path):
    st, _, body = d.api("GET", V + path)
    assert st == 200, body
    return json.loads(body)


def test_ps_size_counts_the_writable_layer(d):
    ok(d.docker("run", "--name", "w", "busybox", "dd", "if=/dev/zero", "of=/f", "bs=1k",
                "count=500"))
    rw, rootfs = inspect_sizes(d, "w")
    assert KB500 <= rw < KB500 + 4096, rw
    img = image_size(d)
    assert img > 0 and rootfs == rw + img
    want = f"{human(rw)} (virtual {human(rootfs)})"
    assert human(rw) == "512kB"
    assert ok(d.docker("ps", "-a", "-s", "--format", "{{.Size}}")) == want + "\n"
    # --format with .Size asks for sizes by itself
    assert ok(d.docker("ps", "-a", "--format", "{{.Names}} {{.Size}}")) == f"w {want}\n"
    rows = table(ok(d.docker("ps", "-a", "-s")))
    assert rows[0][-1] == "SIZE" and rows[1][-1] == want, rows
    # the API: only when asked
    c = api_json(d, "/containers/json?all=1&size=1")[0]
    assert (c["SizeRw"], c["SizeRootFs"]) == (rw, rootfs)
    c = api_json(d, "/containers/json?all=1")[0]
    assert "SizeRw" not in c and "SizeRootFs" not in c
    assert "Size" not in ok(d.docker("ps", "-a"))


def test_size_of_a_running_container(d):
    ok(d.docker("run", "-d", "--name", "r", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/f bs=1k count=500 && touch /done && sleep 60"))
    for _ in range(100):
        if d.docker("exec", "r", "test", "-e", "/done").returncode == 0:
            break
    rw, rootfs = inspect_sizes(d, "r")
    assert KB500 <= rw < KB500 + 4096, rw
    assert rootfs == rw + image_size(d)
    out = ok(d.docker("ps", "-s", "--format", "{{.Names}} {{.Size}}"))
    assert out == f"r {human(rw)} (virtual {human(rootfs)})\n"
    ok(d.docker("rm", "-f", "r"))


def test_inspect_size_only_when_asked(d):
    ok(d.docker("run", "--name", "w", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/f bs=1k count=500 && mkdir -p /a/b/c && echo hi > /a/b/c/x"))
    rw, rootfs = inspect_sizes(d, "w")
    assert KB500 + 3 <= rw < KB500 + 4096, rw
    assert rootfs == rw + image_size(d)
    o = api_json(d, "/containers/w/json?size=1")
    assert (o["SizeRw"], o["SizeRootFs"]) == (rw, rootfs)
    o = api_json(d, "/containers/w/json")
    assert "SizeRw" not in o and "SizeRootFs" not in o
    o = json.loads(ok(d.docker("inspect", "--size", "w")))[0]
    assert (o["SizeRw"], o["SizeRootFs"]) == (rw, rootfs)


def test_hard_links_count_once(d):
    ok(d.docker("run", "--name", "links", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/f bs=1k count=500 && ln /f /g && mkdir /d && ln /f /d/h"))
    ok(d.docker("run", "--name", "copies", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/f bs=1k count=500 && cp /f /g"))
    links, _ = inspect_sizes(d, "links")
    copies, _ = inspect_sizes(d, "copies")
    assert KB500 <= links < KB500 + 4096, links
    assert 2 * KB500 <= copies < 2 * KB500 + 4096, copies


def test_symlinks_are_not_followed(d):
    # a link to the image's /bin, or to the host through /proc, counts as the link itself
    # (its target's length, as lstat gives it), not as what it points at
    ok(d.docker("run", "--name", "sl", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/f bs=1k count=10 && ln -s /bin /l && ln -s /proc/self/root /r"))
    assert inspect_sizes(d, "sl")[0] == 10 * 1024 + len("/bin") + len("/proc/self/root")


def test_never_started_is_zero(d):
    ok(d.docker("create", "--name", "c", "busybox", "true"))
    img = image_size(d)
    assert inspect_sizes(d, "c") == (0, img)
    assert ok(d.docker("ps", "-a", "-s", "--format", "{{.Size}}")) == f"0B (virtual {human(img)})\n"
    # moby's Summary leaves a 0 out (omitempty)
    c = api_json(d, "/containers/json?all=1&size=1")[0]
    assert "SizeRw" not in c and c["SizeRootFs"] == img


def test_system_df(d):
    ok(d.docker("run", "--name", "gone", "busybox", "dd", "if=/dev/zero", "of=/f", "bs=1k",
                "count=500"))
    ok(d.docker("run", "-d", "--name", "up", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/f bs=1k count=300 && touch /done && sleep 60"))
    for _ in range(100):
        if d.docker("exec", "up", "test", "-e", "/done").returncode == 0:
            break
    ok(d.docker("create", "--name", "new", "busybox", "true"))
    gone, _ = inspect_sizes(d, "gone")
    up, _ = inspect_sizes(d, "up")
    assert KB500 <= gone < KB500 + 4096 and 300 * 1024 <= up < 300 * 1024 + 4096

    o = api_json(d, "/system/df")
    by_name = {c["Names"][0]: c for c in o["Containers"]}
    img = image_size(d)
    assert by_name["/gone"]["SizeRw"] == gone and by_name["/gone"]["SizeRootFs"] == gone + img
    assert by_name["/up"]["SizeRw"] == up
    assert "SizeRw" not in by_name["/new"] and by_name["/new"]["SizeRootFs"] == img

    # the summary: every container's writable layer; what stopped ones hold is reclaimable
    rows = table(ok(d.docker("system", "df")))
    total = gone + up
    assert rows[2] == ["Containers", "3", "1", human(total, 4),
                       f"{human(gone, 4)} ({gone * 100 // total}%)"], rows

    out = ok(d.docker("system", "df", "-v"))
    section = out.split("Containers space usage:")[1].split("Local Volumes")[0]
    rows = {r[-1]: r for r in table(section.strip())[1:]}
    assert rows["gone"][4] == human(gone), rows  # the virtual size is not shown here
    assert rows["up"][4] == human(up) and rows["new"][4] == "0B"
    ok(d.docker("rm", "-f", "up"))


def test_sizes_while_containers_go(d):
    """The layers are walked without the engine lock: containers removed meanwhile count
    what was left of them (0 once gone), and every answer is whole."""
    ids = []
    for i in range(6):
        ok(d.docker("run", "--name", f"c{i}", "busybox", "sh", "-c",
                    "mkdir -p /a/b && dd if=/dev/zero of=/a/b/f bs=1k count=500 2>/dev/null"))
        ids.append(f"c{i}")
    first = api_json(d, "/containers/json?all=1&size=1")
    assert [c["SizeRw"] for c in first] == [KB500] * 6
    errors = []

    def remove():
        for name in ids:
            st, _, body = d.api("DELETE", f"{V}/containers/{name}?force=1")
            if st != 204:
                errors.append((name, st, body))

    t = threading.Thread(target=remove)
    t.start()
    try:
        while True:
            cs = api_json(d, "/containers/json?all=1&size=1")
            for c in cs:
                assert 0 <= c.get("SizeRw", 0) <= KB500, c
            o = api_json(d, "/system/df")
            assert len(o["Containers"]) <= 6
            if not cs:
                break
    finally:
        t.join()
    assert errors == []


def test_berth_cli_as_docker(d):
    """berth prints sizes as the docker CLI does, and asks for them when docker does: -s, a
    template reading .Size or handing the whole row to json, unless --size=false."""
    ok(d.docker("run", "--name", "w", "busybox", "dd", "if=/dev/zero", "of=/f", "bs=1k",
                "count=500"))
    ok(d.docker("create", "--name", "c", "busybox", "true"))
    cases = [("ps", "-a", "-s"), ("ps", "-a", "--format", "{{.Names}} {{.Size}}"),
             ("ps", "-a", "--format", "{{json .}}"), ("ps", "-a", "--format", "{{ json . }}"),
             ("ps", "-a", "--format", "{{with .}}{{json .}}{{end}}"),
             ("ps", "-a", "--format", "json"), ("ps", "-a", "--size=false", "--format", "{{json .}}"),
             ("ps", "-a", "--format", "table {{.Names}}\t{{.Size}}"),
             ("inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "w", "c"),
             ("system", "df"), ("system", "df", "-v")]
    for args in cases:
        for _ in range(3):  # "N seconds ago" can tick over between the two
            b, k = ok(d.berth(*args)), ok(d.docker(*args))
            if b == k:
                break
        assert b == k, f"{args}:\nberth:\n{b}\ndocker:\n{k}"
    assert "(virtual " in ok(d.berth("ps", "-a", "--format", "{{json .}}"))
    assert "virtual" not in ok(d.berth("ps", "-a", "--format", "json"))


def test_dockerpy_sizes(d):
    docker = pytest.importorskip("docker")
    ok(d.docker("run", "--name", "w", "busybox", "dd", "if=/dev/zero", "of=/f", "bs=1k",
                "count=500"))
    rw, rootfs = inspect_sizes(d, "w")
    assert rw >= KB500
    c = docker.DockerClient(base_url=f"unix://{d.sock}", version="1.50")
    try:
        (s,) = c.api.containers(all=True, size=True)
        assert (s["SizeRw"], s["SizeRootFs"]) == (rw, rootfs)
        assert "SizeRw" not in c.api.containers(all=True)[0]
        assert [x["SizeRw"] for x in c.df()["Containers"]] == [rw]
    finally:
        c.close()


def test_size_is_the_upper_dir(d):
    """What is counted is the container's overlay upper dir on the host, as moby counts it:
    everything but directories (a whiteout is 0), each inode once."""
    ok(d.docker("run", "--name", "w", "busybox", "sh", "-c",
                "dd if=/dev/zero of=/f bs=1k count=10 && rm /bin/ls && ln -s /f /s"))
    upper = ok(d.docker("inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", "w")).strip()
    total, seen = 0, set()
    for root, dirs, files in os.walk(upper):
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            if not stat.S_ISDIR(st.st_mode) and st.st_size and st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    assert total >= 10 * 1024 + 2
    assert inspect_sizes(d, "w")[0] == total
