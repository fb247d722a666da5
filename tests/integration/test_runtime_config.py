"""berth-runtime config: namespaces (new, joined by path, user with mappings, time, cgroup),
sysctls, annotations, and bad input (each refused with a message naming the problem and
leaving nothing behind)."""

import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

import helpers

from rtutil import (cgroup_dirs_named, create, exec_ok, host_ns_inode, procs_mentioning, run,
                    sh, start_host_sleeper, state, stop, uid, wait_for)

NS_FILES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
            "cgroup": "cgroup", "time": "time"}


def _ns_inodes(out):
    """`readlink /proc/self/ns/X` lines like 'net:[4026531840]' -> {'net': 4026531840}."""
    found = {}
    for m in re.finditer(r"(\w+):\[(\d+)\]", out):
        found[m.group(1)] = int(m.group(2))
    return found


def _set_ns(bundle, *types, **paths):
    ns = [{"type": t} for t in types]
    for t, p in paths.items():
        ns.append({"type": t, "path": str(p)})
    bundle.config["linux"]["namespaces"] = ns
    if "uts" not in types:
        # A hostname needs a new uts namespace.
        bundle.config.pop("hostname", None)


# ------------------------------------------------------------------ namespaces

def test_new_namespaces_differ_from_host(bundle, rt):
    _set_ns(bundle, "pid", "network", "ipc", "uts", "mount", "cgroup", "time")
    out = sh(rt, bundle, "for n in pid net ipc uts mnt cgroup time; do "
             "readlink /proc/self/ns/$n; done")
    inside = _ns_inodes(out)
    for n in ("pid", "net", "ipc", "uts", "mnt", "cgroup", "time"):
        assert inside[n] != host_ns_inode(n), n


def test_without_namespaces_shares_host(bundle, rt):
    _set_ns(bundle, "mount")
    out = sh(rt, bundle, "for n in pid net ipc uts; do readlink /proc/self/ns/$n; done")
    inside = _ns_inodes(out)
    for n in ("pid", "net", "ipc", "uts"):
        assert inside[n] == host_ns_inode(n), n


def test_join_network_namespace_by_path(bundle, rt):
    holder = start_host_sleeper("--net")
    try:
        path = f"/proc/{holder.pid}/ns/net"
        wait_for(lambda: os.stat(path).st_ino != host_ns_inode("net"), 5,
                 what="unshare to enter its namespace")
        want = os.stat(path).st_ino
        _set_ns(bundle, "pid", "mount", "ipc", "uts", network=path)
        out = sh(rt, bundle, "readlink /proc/self/ns/net")
        assert _ns_inodes(out)["net"] == want
    finally:
        stop(holder)


def test_join_named_netns(bundle, rt):
    name = uid("berthns")
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        path = f"/run/netns/{name}"
        want = os.stat(path).st_ino
        _set_ns(bundle, "pid", "mount", network=path)
        out = sh(rt, bundle, "readlink /proc/self/ns/net; cat /proc/net/dev | wc -l")
        assert _ns_inodes(out)["net"] == want
    finally:
        subprocess.run(["ip", "netns", "delete", name])


def test_join_uts_and_ipc_of_another_container(bundle, make_bundle, rt):
    bundle.config["hostname"] = "first-box"
    first = create(rt, bundle, start=True)
    pid = state(rt, first)["pid"]
    b2 = make_bundle()
    b2.config.pop("hostname")
    _set_ns(b2, "pid", "mount", "network", uts=f"/proc/{pid}/ns/uts",
            ipc=f"/proc/{pid}/ns/ipc")
    out = sh(rt, b2, "hostname; readlink /proc/self/ns/ipc")
    assert out.splitlines()[0] == "first-box"
    assert _ns_inodes(out)["ipc"] == os.stat(f"/proc/{pid}/ns/ipc").st_ino


def test_join_bad_namespace_path(bundle, rt, tmp_path):
    notns = tmp_path / "not-a-namespace"
    notns.write_text("")
    _set_ns(bundle, "pid", "mount", network=notns)
    cid = uid("badns")
    p = run(rt, bundle, cid, "true")
    assert p.returncode != 0
    assert "not-a-namespace" in p.stderr
    assert rt("state", cid).returncode != 0


@pytest.fixture
def open_bundle(busybox_rootfs, runtime):
    """A bundle under a world-traversable folder (pytest's tmp folders are 0700, which a
    process in a user namespace mapped to an unprivileged host uid cannot enter)."""
    d = tempfile.mkdtemp(prefix="berth-userns-")
    os.chmod(d, 0o755)
    b = helpers.Bundle(os.path.join(d, "bundle"), busybox_rootfs)
    try:
        yield b
    finally:
        runtime.delete_all()
        helpers.kill_processes(helpers.find_leftover_processes([d]))
        helpers.unmount_all_under(d)
        shutil.rmtree(d, ignore_errors=True)


def test_user_namespace_mappings(open_bundle, rt):
    bundle = open_bundle
    _set_ns(bundle, "pid", "mount", "ipc", "uts", "network", "user")
    bundle.config["hostname"] = "userns"
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000,
                                              "size": 65536}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000,
                                              "size": 65536}]
    # cgroup v1 hierarchies cannot be mounted from a user namespace.
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["type"] != "cgroup"]
    # The rootfs stays root-owned: readable and executable by "others", as here.
    cid = create(rt, bundle, start=True)
    pid = state(rt, cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        fields = dict(ln.split(":", 1) for ln in f.read().splitlines())
    assert fields["Uid"].split()[0] == "100000"
    assert fields["Gid"].split()[0] == "100000"
    out = exec_ok(rt, cid, "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; "
                  "readlink /proc/self/ns/user; hostname")
    lines = out.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2].split() == ["0", "100000", "65536"]
    assert _ns_inodes(out)["user"] != host_ns_inode("user")
    assert lines[-1] == "userns"
    rt("delete", "--force", cid)


def test_user_mappings_without_user_namespace_refused(bundle, rt):
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1}]
    cid = uid("map")
    p = run(rt, bundle, cid, "true")
    assert p.returncode != 0
    assert "uidMappings" in p.stderr or "user namespace" in p.stderr
    _assert_nothing_left(rt, cid)


def test_time_namespace_offsets(bundle, rt):
    _set_ns(bundle, "pid", "mount", "time")
    bundle.config["linux"]["timeOffsets"] = {"monotonic": {"secs": 864000, "nanosecs": 0},
                                             "boottime": {"secs": 1728000, "nanosecs": 0}}
    out = sh(rt, bundle, "cat /proc/self/timens_offsets; cut -d' ' -f1 /proc/uptime")
    lines = out.splitlines()
    offs = {ln.split()[0]: ln.split()[1:] for ln in lines[:-1]}
    assert offs["monotonic"] == ["864000", "0"]
    assert offs["boottime"] == ["1728000", "0"]
    with open("/proc/uptime") as f:
        host_uptime = float(f.read().split()[0])
    assert float(lines[-1]) >= host_uptime + 1728000 - 5


def test_time_offsets_without_time_namespace_refused(bundle, rt):
    bundle.config["linux"]["timeOffsets"] = {"monotonic": {"secs": 10, "nanosecs": 0}}
    cid = uid("time")
    p = run(rt, bundle, cid, "true")
    assert p.returncode != 0
    assert "time" in p.stderr
    _assert_nothing_left(rt, cid)


def test_cgroup_namespace(bundle, rt):
    _set_ns(bundle, "pid", "mount", "network", "cgroup")
    out = sh(rt, bundle, "cat /proc/self/cgroup")
    lines = [ln for ln in out.splitlines() if ln]
    assert lines
    for ln in lines:
        assert ln.split(":", 2)[2] == "/", ln


def test_no_cgroup_namespace_shows_host_paths(bundle, rt):
    cid = uid("nocgns")
    out = sh(rt, bundle, "cat /proc/self/cgroup", cid=cid)
    assert any(cid in ln for ln in out.splitlines()), out


# ------------------------------------------------------------------ sysctl, annotations

def test_sysctl_in_new_netns(bundle, rt):
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1",
                                        "net.ipv4.ping_group_range": "0 2147483647",
                                        "kernel.shmmax": "123456789"}
    out = sh(rt, bundle, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ping_group_range"
             " /proc/sys/kernel/shmmax")
    assert out.split() == ["1", "0", "2147483647", "123456789"]
    with open("/proc/sys/kernel/shmmax") as f:
        assert f.read().strip() != "123456789"


@pytest.mark.parametrize("key,drop", [("kernel.shmmax", "ipc"),
                                      ("net.ipv4.ip_forward", "network"),
                                      ("vm.swappiness", None),
                                      ("kernel.domainname", "uts")])
def test_sysctl_outside_namespace_refused(bundle, rt, key, drop):
    if drop == "uts":
        bundle.config.pop("hostname", None)
    if drop:
        bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                               if n["type"] != drop]
    bundle.config["linux"]["sysctl"] = {key: "1"}
    cid = uid("sysctl")
    p = run(rt, bundle, cid, "true")
    assert p.returncode != 0
    assert key in p.stderr
    _assert_nothing_left(rt, cid)


def test_annotations_in_state(bundle, rt):
    bundle.config["annotations"] = {"com.example.a": "1", "com.example.b": "two words"}
    cid = create(rt, bundle)
    assert state(rt, cid)["annotations"] == {"com.example.a": "1", "com.example.b": "two words"}
    p = rt("list", "--format", "json")
    assert json.loads(p.stdout)[0]["annotations"]["com.example.b"] == "two words"


# ------------------------------------------------------------------ bad input

def _assert_nothing_left(rt, cid, extra_dirs=()):
    root = rt.__self__.root
    assert not (root / cid).exists(), f"state dir {root / cid} left behind"
    assert rt("state", cid).returncode != 0
    p = rt("list", "-q")
    assert cid not in p.stdout.split()
    assert cgroup_dirs_named(cid) == [], "cgroup left behind"
    for d in extra_dirs:
        assert cgroup_dirs_named(d) == [], "cgroup left behind"
    assert procs_mentioning(cid) == []
    with open("/proc/self/mountinfo") as f:
        assert cid not in f.read()


def _refused(rt, bundle, cid, *words, cmd="create"):
    p = rt(cmd, "--bundle", bundle.path, cid)
    assert p.returncode != 0, f"{cmd} accepted it: {p.stdout} {p.stderr}"
    err = p.stderr.strip()
    assert err, "no message"
    assert any(w in err for w in words), f"message {err!r} names none of {words}"
    assert "Traceback" not in err and "Segmentation" not in err
    _assert_nothing_left(rt, cid)
    return err


@pytest.mark.parametrize("cmd", ["create", "run"])
def test_malformed_json(bundle, rt, cmd):
    (bundle.path / "config.json").write_text('{"ociVersion": "1.0.2", "process": {')
    cid = uid("bad")
    _refused(rt, bundle, cid, "config.json", "JSON", "json", "parse", cmd=cmd)


def test_missing_config(bundle, rt):
    os.unlink(bundle.path / "config.json")
    _refused(rt, bundle, uid("bad"), "config.json")


@pytest.mark.parametrize("path,value,field", [
    (("process", "args"), "sh", "args"),
    (("process", "user", "uid"), "root", "uid"),
    (("process", "terminal"), "yes", "terminal"),
    (("hostname",), 42, "hostname"),
    (("root", "path"), ["rootfs"], "path"),
    (("mounts",), {"destination": "/x"}, "mounts"),
    (("linux", "namespaces"), "pid", "namespaces"),
    (("process", "rlimits"), [{"type": "RLIMIT_NOFILE", "hard": "many", "soft": 1}], "hard"),
    (("process", "oomScoreAdj"), 5000, "oomScoreAdj"),
    (("linux", "resources", "memory", "limit"), "1G", "limit"),
])
def test_wrong_types(bundle, rt, path, value, field):
    d = bundle.config
    for k in path[:-1]:
        d = d.setdefault(k, {})
    d[path[-1]] = value
    bundle.write()
    _refused(rt, bundle, uid("type"), field)


def test_missing_process_refused_by_run(bundle, rt):
    del bundle.config["process"]
    bundle.write()
    _refused(rt, bundle, uid("noproc"), "process", cmd="run")


def test_missing_process_create_then_start(bundle, rt):
    # The spec allows create without process; start then has nothing to run.
    del bundle.config["process"]
    bundle.write()
    cid = uid("noproc")
    p = rt("create", "--bundle", bundle.path, cid)
    if p.returncode == 0:
        p = rt("start", cid)
        assert p.returncode != 0
        assert "process" in p.stderr
        rt("delete", "--force", cid)
    else:
        assert "process" in p.stderr
    _assert_nothing_left(rt, cid)


def test_missing_args(bundle, rt):
    bundle.config["process"]["args"] = []
    bundle.write()
    _refused(rt, bundle, uid("noargs"), "args")


def test_unknown_namespace_type(bundle, rt):
    bundle.config["linux"]["namespaces"].append({"type": "wormhole"})
    bundle.write()
    _refused(rt, bundle, uid("ns"), "wormhole")


def test_duplicate_namespace(bundle, rt):
    bundle.config["linux"]["namespaces"].append({"type": "network"})
    bundle.write()
    _refused(rt, bundle, uid("ns"), "network", "duplicate")


def test_relative_cwd(bundle, rt):
    bundle.config["process"]["cwd"] = "tmp"
    bundle.write()
    _refused(rt, bundle, uid("cwd"), "cwd")


def test_relative_mount_destination(bundle, rt):
    # Deprecated but allowed by the spec: relative to "/".
    bundle.config["mounts"].append({"destination": "relative/dest", "type": "tmpfs",
                                    "source": "tmpfs"})
    out = sh(rt, bundle, "grep ' /relative/dest ' /proc/self/mountinfo")
    assert "tmpfs" in out


def test_nonexistent_rootfs(bundle, rt):
    bundle.config["root"]["path"] = "no-such-rootfs"
    bundle.write()
    _refused(rt, bundle, uid("root"), "no-such-rootfs")


def test_nonexistent_bundle(rt, tmp_path):
    cid = uid("nob")
    p = rt("create", "--bundle", tmp_path / "nowhere", cid)
    assert p.returncode != 0
    assert "nowhere" in p.stderr
    _assert_nothing_left(rt, cid)


def test_unsupported_oci_version(bundle, rt):
    bundle.config["ociVersion"] = "2.0.0"
    bundle.write()
    _refused(rt, bundle, uid("ver"), "ociVersion", "2.0.0")


@pytest.mark.parametrize("bad", ["../x", "a/b", ".", "..", "sp ace", "x" * 1025])
def test_invalid_id(bundle, rt, bad):
    bundle.write()
    p = rt("create", "--bundle", bundle.path, bad)
    assert p.returncode != 0
    assert "id" in p.stderr
    assert list(rt.__self__.root.iterdir()) == []
    assert not (rt.__self__.root.parent / "x").exists()


def test_empty_id(bundle, rt):
    bundle.write()
    p = rt("create", "--bundle", bundle.path, "")
    assert p.returncode != 0
    assert "id" in p.stderr
    assert list(rt.__self__.root.iterdir()) == []


def test_duplicate_id(bundle, make_bundle, rt):
    cid = create(rt, bundle)
    pid = state(rt, cid)["pid"]
    b2 = make_bundle()
    b2.write()
    p = rt("create", "--bundle", b2.path, cid)
    assert p.returncode != 0
    assert cid in p.stderr and "exist" in p.stderr
    # The first container is untouched.
    st = state(rt, cid)
    assert st["status"] == "created" and st["pid"] == pid
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)
    # Only one container's processes exist.
    assert rt("list", "-q").stdout.split() == [cid]


def test_failed_create_leaves_no_cgroup_custom_path(bundle, rt):
    name = uid("cgfail")
    bundle.config["linux"]["cgroupsPath"] = f"/berth-test/{name}"
    bundle.config["process"]["cwd"] = "relative"
    bundle.write()
    cid = uid("cg")
    _refused(rt, bundle, cid, "cwd")
    assert cgroup_dirs_named(name) == []


def test_failure_late_in_setup_leaves_nothing(bundle, rt):
    # Fails in the container's init after the cgroup and namespaces exist.
    name = uid("late")
    bundle.config["linux"]["cgroupsPath"] = f"/berth-test/{name}"
    bundle.config["process"]["args"] = ["/no/such/binary"]
    bundle.write()
    cid = uid("late")
    _refused(rt, bundle, cid, "/no/such/binary")
    assert cgroup_dirs_named(name) == []
