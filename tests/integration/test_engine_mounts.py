"""Binds and mounts with the real docker CLI (28.x) against a private berthd: -v and --mount
(HostConfig.Binds and HostConfig.Mounts) as dockerd takes them, checks them, lists them in
inspect and ps, and filters ps by them."""

import json
import os
import shutil
import tempfile

import pytest

V = "/v1.50"


@pytest.fixture
def d(berthd):
    return berthd


@pytest.fixture
def host_dir():
    """A host folder to bind from, with a file in it; removed after the test."""
    h = tempfile.mkdtemp(prefix="berth-mnt-", dir="/tmp")
    with open(os.path.join(h, "f"), "w") as f:
        f.write("hello\n")
    try:
        yield h
    finally:
        shutil.rmtree(h, ignore_errors=True)


def ok(p):
    assert p.returncode == 0, f"rc={p.returncode} stdout={p.stdout!r} stderr={p.stderr!r}"
    return p.stdout


def test_mount_bind_readonly_and_rw(d, host_dir):
    p = d.docker("run", "--rm", "--mount", f"type=bind,src={host_dir},dst=/x,readonly",
                 "busybox", "sh", "-c", "cat /x/f && touch /x/new")
    assert p.returncode == 1, p
    assert p.stdout == "hello\n"
    assert "Read-only file system" in p.stderr
    assert not os.path.exists(os.path.join(host_dir, "new"))
    # writable by default; what the container writes is on the host
    ok(d.docker("run", "--rm", "--mount", f"type=bind,source={host_dir},target=/x",
                "busybox", "sh", "-c", "echo hi > /x/new"))
    with open(os.path.join(host_dir, "new")) as f:
        assert f.read() == "hi\n"
    assert ok(d.docker("ps", "-aq")) == ""


def test_mount_tmpfs_size_and_mode(d):
    out = ok(d.docker("run", "--rm", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
                      "busybox", "sh", "-c", "grep ' /t ' /proc/mounts; stat -c %a /t"))
    line, mode = out.splitlines()
    fields = line.split()
    assert fields[:3] == ["tmpfs", "/t", "tmpfs"], line
    opts = fields[3].split(",")
    assert "size=1024k" in opts and "mode=1770" in opts, line
    # Docker's defaults for a tmpfs
    assert {"rw", "nosuid", "nodev", "noexec"} <= set(opts), line
    assert mode == "1770"
    out = ok(d.docker("run", "--rm", "--mount", "type=tmpfs,dst=/t,readonly", "busybox",
                      "grep", " /t ", "/proc/mounts"))
    assert out.split()[3].split(",")[0] == "ro", out


def test_mounts_nested_in_order(d, host_dir):
    # /t (a --tmpfs) is mounted before /t/b (a --mount bind), as Docker sorts them by depth
    out = ok(d.docker("run", "--rm", "--mount", f"type=bind,src={host_dir},dst=/t/b",
                      "--tmpfs", "/t", "busybox", "cat", "/t/b/f"))
    assert out == "hello\n"


@pytest.mark.parametrize("args,msg", [
    (["--mount", "type=bind,src={h}/missing,dst=/x"],
     'invalid mount config for type "bind": bind source path does not exist: {h}/missing'),
    (["--mount", "type=bind,dst=/x"],
     'invalid mount config for type "bind": field Source must not be empty'),
    (["--mount", "type=tmpfs,src={h},dst=/x"],
     'invalid mount config for type "tmpfs": field Source must not be specified'),
    (["--mount", "type=bind,src={h},dst=x"],
     "invalid mount config for type \"bind\": invalid mount path: 'x' mount path must be "
     "absolute"),
    (["--mount", "type=bind,src={h},dst=/"],
     "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
    (["--mount", "type=bind,src={h},dst=/x,bind-propagation=sideways"],
     'invalid mount config for type "bind": invalid propagation mode: sideways'),
    (["-v", "{h}:/x", "--mount", "type=bind,src={h},dst=/x"], "Duplicate mount point: /x"),
    (["--mount", "type=tmpfs,dst=/x", "--mount", "type=bind,src={h},dst=/x"],
     "Duplicate mount point: /x"),
    (["--tmpfs", "/x", "-v", "{h}:/x/"], "Duplicate mount point: /x"),
    (["--tmpfs", "/x", "--mount", "type=tmpfs,dst=/x"], "Duplicate mount point: /x"),
    (["-v", "{h}:/x", "-v", "{h}/:/x:ro"], "Duplicate mount point: /x"),
    (["--mount", "type=volume,src=data,dst=/x"],
     'invalid mount config for type "volume": named volumes are not supported by berth yet'),
    (["--mount", "type=volume,dst=/x"],
     'invalid mount config for type "volume": anonymous volumes are not supported by berth '
     'yet'),
    (["-v", "data:/x"],
     "invalid volume specification: 'data:/x': invalid mount config for type \"volume\": "
     "named volumes are not supported by berth yet"),
    (["-v", "{h}:x"],
     "invalid volume specification: '{h}:x': invalid mount config for type \"bind\": invalid "
     "mount path: 'x' mount path must be absolute"),
    (["-v", "{h}:/x:rw,ro"], "invalid mode: rw,ro"),
])
def test_mount_errors_at_create(d, host_dir, args, msg):
    args = [a.format(h=host_dir) for a in args]
    p = d.docker("create", *args, "busybox", "true")
    assert p.returncode == 1, p
    assert p.stderr == f"Error response from daemon: {msg.format(h=host_dir)}\n"
    assert ok(d.docker("ps", "-aq")) == ""
    assert os.listdir(host_dir) == ["f"]


@pytest.mark.parametrize("mount,msg", [
    ({"Type": "bind", "Source": "/tmp"},
     'invalid mount config for type "bind": field Target must not be empty'),
    ({"Type": "tmpfs", "Target": "/x", "BindOptions": {"Propagation": "rprivate"}},
     'invalid mount config for type "tmpfs": field BindOptions must not be specified'),
    ({"Type": "bind", "Source": "tmp", "Target": "/x"},
     "invalid mount config for type \"bind\": invalid mount path: 'tmp' mount path must be "
     "absolute"),
    ({"Type": "npipe", "Source": "/tmp", "Target": "/x"},
     'invalid mount config for type "npipe": mount type unknown'),
    ({"Source": "/tmp", "Target": "/x"}, 'invalid mount config for type "": mount type unknown'),
])
def test_mount_errors_api(d, mount, msg):
    st, _, out = d.api("POST", V + "/containers/create",
                       {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Mounts": [mount]}})
    assert st == 400, out
    assert json.loads(out)["message"] == msg
    st, _, out = d.api("GET", V + "/containers/json?all=1")
    assert json.loads(out) == []


def test_binds_missing_source_is_made(d, host_dir):
    src = os.path.join(host_dir, "new", "sub")
    out = ok(d.docker("run", "--rm", "-v", f"{src}:/x", "busybox", "sh", "-c",
                      "echo hi > /x/g && ls /x"))
    assert out == "g\n"
    # MkdirAll(src, 0755), as dockerd does at start
    for p in (os.path.join(host_dir, "new"), src):
        assert os.stat(p).st_mode & 0o7777 == 0o755
    with open(os.path.join(src, "g")) as f:
        assert f.read() == "hi\n"
    # created at start, not at create
    later = os.path.join(host_dir, "later")
    cid = ok(d.docker("create", "-v", f"{later}:/x", "busybox", "true")).strip()
    assert not os.path.exists(later)
    ok(d.docker("start", "-a", cid))
    assert os.path.isdir(later)
    ok(d.docker("rm", cid))


def pairs(body):
    """JSON with the objects as lists of (key, value), to see the order of the keys."""
    return json.loads(body, object_pairs_hook=list)


def test_inspect_and_ps_mounts(d, host_dir):
    h = host_dir
    cid = ok(d.docker("create", "--name", "m", "-v", f"{h}:/a:ro", "-v", f"{h}/:/b//:z",
                      "--mount", f"type=bind,src={h},dst=/c,bind-propagation=rslave",
                      "--mount", f"type=bind,src={h}/f,dst=/d,readonly",
                      "--mount", "type=tmpfs,dst=/e,tmpfs-size=1m",
                      "--tmpfs", "/run", "busybox", "true")).strip()

    def mp(typ, src, dst, mode, rw, prop):
        return [("Type", typ), ("Source", src), ("Destination", dst), ("Mode", mode),
                ("RW", rw), ("Propagation", prop)]
    # Docker's types.MountPoint, key for key (Name and Driver are omitted when empty);
    # --tmpfs mounts are not listed
    want = [mp("bind", h, "/a", "ro", False, "rprivate"),
            mp("bind", h, "/b", "z", True, "rprivate"),
            mp("bind", h, "/c", "", True, "rslave"),
            mp("bind", f"{h}/f", "/d", "", False, "rprivate"),
            mp("tmpfs", "", "/e", "", True, "")]
    st, _, out = d.api("GET", V + f"/containers/{cid}/json")
    got = dict(pairs(out))["Mounts"]
    # dockerd keeps them in a map: the order of the list is not Docker's to promise
    assert sorted(got, key=lambda m: m[2][1]) == want
    st, _, out = d.api("GET", V + "/containers/json?all=1")
    (c,) = pairs(out)
    assert sorted(dict(c)["Mounts"], key=lambda m: m[2][1]) == want
    got = json.loads(ok(d.docker("inspect", "-f", "{{json .Mounts}}", "m")))
    assert sorted(m["Destination"] for m in got) == ["/a", "/b", "/c", "/d", "/e"]
    # ps shows each mount's source, truncated
    out = ok(d.docker("ps", "-a", "--no-trunc", "--format", "{{.Mounts}}"))
    assert sorted(out.strip().split(",")) == sorted([h, h, h, f"{h}/f", ""])
    # the container runs with them
    ok(d.docker("start", "-a", cid))


def test_ps_filter_volume(d, host_dir):
    a = ok(d.docker("create", "-v", f"{host_dir}:/data", "busybox", "true")).strip()
    b = ok(d.docker("create", "--mount", "type=tmpfs,dst=/scratch", "busybox", "true")).strip()
    c = ok(d.docker("create", "--tmpfs", "/data2", "busybox", "true")).strip()

    def ps(*filters):
        args = []
        for f in filters:
            args += ["--filter", f"volume={f}"]
        return sorted(ok(d.docker("ps", "-aq", "--no-trunc", *args)).split())
    assert ps("/data") == [a]
    assert ps(host_dir) == [a]
    assert ps("/scratch") == [b]
    assert ps("/data", "/scratch") == sorted([a, b])
    assert ps("/dat") == []
    assert ps("/data2") == []  # --tmpfs mounts are no mount points for Docker
    assert ps() == sorted([a, b, c])
