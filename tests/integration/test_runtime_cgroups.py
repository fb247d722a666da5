"""berth-runtime cgroups (v1 hierarchies on this machine): resources read back inside the
container and on the host, custom cgroupsPath, removal on delete."""

import os
from pathlib import Path

import pytest

from rtutil import CGROUP_ROOT, cgroup_dirs_named, create, exec_ok, state, uid, wait_for


def _v1():
    return (CGROUP_ROOT / "memory" / "memory.limit_in_bytes").exists()


pytestmark = pytest.mark.skipif(not _v1(), reason="these tests expect cgroup v1 hierarchies")


def _host_cg(ctrl, pid):
    """The host path of pid's cgroup in controller ctrl."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrl in ctrls.split(","):
                return CGROUP_ROOT / ctrl / path.lstrip("/")
    raise AssertionError(f"no {ctrl} cgroup for {pid}")


def _read(path):
    return Path(path).read_text().strip()


def test_resources_applied(bundle, rt):
    res = bundle.config["linux"]["resources"]
    res["memory"] = {"limit": 100 << 20, "reservation": 50 << 20}
    res["cpu"] = {"shares": 256, "quota": 50000, "period": 100000, "cpus": "0"}
    res["pids"] = {"limit": 42}
    cid = create(rt, bundle, start=True)
    pid = state(rt, cid)["pid"]
    # On the host, in the container's cgroups.
    assert int(_read(_host_cg("memory", pid) / "memory.limit_in_bytes")) == 100 << 20
    assert int(_read(_host_cg("memory", pid) / "memory.soft_limit_in_bytes")) == 50 << 20
    assert _read(_host_cg("cpu", pid) / "cpu.shares") == "256"
    assert _read(_host_cg("cpu", pid) / "cpu.cfs_quota_us") == "50000"
    assert _read(_host_cg("cpu", pid) / "cpu.cfs_period_us") == "100000"
    assert _read(_host_cg("cpuset", pid) / "cpuset.cpus") == "0"
    assert _read(_host_cg("pids", pid) / "pids.max") == "42"
    # Inside, through the container's /sys/fs/cgroup.
    out = exec_ok(rt, cid, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                  "/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
                  "/sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/pids/pids.max; "
                  "grep Cpus_allowed_list /proc/self/status")
    lines = out.split("\n")
    assert lines[:5] == [str(100 << 20), "256", "50000", "0", "42"]
    assert lines[5].split()[-1] == "0"


def test_pids_limit_enforced(bundle, rt):
    bundle.config["linux"]["resources"]["pids"] = {"limit": 5}
    cid = create(rt, bundle, start=True)
    p = rt("exec", cid, "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done 2>&1; "
           "echo done")
    assert "can't fork" in p.stdout + p.stderr
    assert "done" not in p.stdout


def test_memory_limit_oom(bundle, rt):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 16 << 20, "swap": 16 << 20}
    bundle.set_args("sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived")
    bundle.write()
    p = rt("run", "--bundle", bundle.path, uid("oom"), timeout=60)
    assert "survived" not in p.stdout
    assert p.returncode == 128 + 9, p.stderr


def test_blkio(bundle, rt):
    st = os.stat("/dev/vda") if os.path.exists("/dev/vda") else None
    res = bundle.config["linux"]["resources"]
    weight_file = next((f for f in ("blkio.weight", "blkio.bfq.weight")
                        if (CGROUP_ROOT / "blkio" / f).exists()), None)
    if weight_file:
        res["blockIO"] = {"weight": 300}
    if st is None and not weight_file:
        pytest.skip("no blkio weight file and no /dev/vda for throttling")
    if st is not None:
        res.setdefault("blockIO", {})["throttleReadBpsDevice"] = [
            {"major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev), "rate": 1048576}]
    cid = create(rt, bundle, start=True)
    cg = _host_cg("blkio", state(rt, cid)["pid"])
    if weight_file:
        assert "300" in _read(cg / weight_file)
    if st is not None:
        assert _read(cg / "blkio.throttle.read_bps_device") == \
            f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)} 1048576"


def test_custom_cgroups_path_removed_on_delete(bundle, rt):
    name = uid("custom")
    bundle.config["linux"]["cgroupsPath"] = f"/berth-test/{name}"
    bundle.config["linux"]["resources"]["pids"] = {"limit": 99}
    cid = create(rt, bundle, start=True)
    pid = state(rt, cid)["pid"]
    for ctrl in ("memory", "pids", "cpu", "freezer", "devices"):
        assert str(_host_cg(ctrl, pid)) == str(CGROUP_ROOT / ctrl / "berth-test" / name)
    assert _read(CGROUP_ROOT / "pids" / "berth-test" / name / "pids.max") == "99"
    assert pid in [int(x) for x in _read(CGROUP_ROOT / "pids" / "berth-test" / name /
                                         "cgroup.procs").split()]
    assert rt("kill", cid, "KILL").returncode == 0
    wait_for(lambda: state(rt, cid)["status"] == "stopped", 5, what="stopped")
    assert rt("delete", cid).returncode == 0
    assert cgroup_dirs_named(name) == []


def test_default_cgroup_removed_after_run(bundle, rt):
    cid = uid("dflt")
    bundle.set_args("sh", "-c", "cat /proc/self/cgroup").write()
    p = rt("run", "--bundle", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    assert cid in p.stdout
    assert cgroup_dirs_named(cid) == []


def test_relative_cgroups_path(bundle, rt):
    name = uid("rel")
    bundle.config["linux"]["cgroupsPath"] = f"berth-test/{name}"
    cid = create(rt, bundle, start=True)
    pid = state(rt, cid)["pid"]
    assert name in str(_host_cg("pids", pid))
    rt("delete", "--force", cid)
    assert cgroup_dirs_named(name) == []


def test_device_cgroup_rules(bundle, rt):
    # Deny all, allow one block device for reading: the rule lands in devices.list.
    bundle.config["linux"]["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "b", "major": 7, "minor": 200, "access": "r"},
    ]
    cid = create(rt, bundle, start=True)
    cg = _host_cg("devices", state(rt, cid)["pid"])
    rules = _read(cg / "devices.list").splitlines()
    assert "b 7:200 r" in rules
    assert "a *:* rwm" not in rules
    out = exec_ok(rt, cid, "sh", "-c", "head -c1 /dev/zero | wc -c")
    assert out.strip() == "1"
