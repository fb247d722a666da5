"""berth-runtime mounts: config mounts and their options, root.readonly, rootfsPropagation,
devices, default devices, maskedPaths and readonlyPaths."""

import contextlib
import os
import subprocess

import pytest

from rtutil import create, exec_ok, mountinfo, run, sh, uid


def _bind(dest, src, *opts, type_="bind"):
    return {"destination": dest, "type": "none" if type_ == "bind" else type_,
            "source": str(src), "options": [type_] + list(opts)}


@contextlib.contextmanager
def host_mount(*args):
    """mount ARGS on the host; unmount (recursively, lazily) afterwards."""
    target = args[-1]
    subprocess.run(["mount", *args], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-R", "-l", str(target)], stderr=subprocess.DEVNULL)


# ------------------------------------------------------------------ bind mounts

def test_bind_mount_options(bundle, rt, tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    (src / "hello").write_text("hello from the host\n")
    bundle.config["mounts"] += [
        _bind("/mnt/ro", src, "ro", "nosuid", "nodev", "noexec"),
        _bind("/mnt/rw", src, "rw"),
    ]
    out = sh(rt, bundle, "cat /mnt/ro/hello; cat /proc/self/mountinfo; "
             "touch /mnt/ro/x 2>&1 && echo TOUCHED-RO; touch /mnt/rw/y && echo TOUCHED-RW")
    assert out.startswith("hello from the host\n")
    mi = mountinfo(out)
    assert {"ro", "nosuid", "nodev", "noexec"} <= mi["/mnt/ro"]["opts"]
    assert "rw" in mi["/mnt/rw"]["opts"]
    assert not {"nosuid", "noexec"} & mi["/mnt/rw"]["opts"]
    assert "Read-only file system" in out
    assert "TOUCHED-RO" not in out
    assert "TOUCHED-RW" in out
    assert (src / "y").exists() and not (src / "x").exists()


def test_bind_noexec_prevents_exec(bundle, rt, tmp_path):
    src = tmp_path / "bin"
    src.mkdir()
    # A copy of busybox: executable everywhere but under noexec.
    subprocess.run(["cp", str(bundle.rootfs / "bin" / "busybox"), str(src / "busybox")],
                   check=True)
    bundle.config["mounts"] += [_bind("/mnt/ne", src, "noexec"), _bind("/mnt/ex", src)]
    out = sh(rt, bundle, "/mnt/ex/busybox echo exec-ok; /mnt/ne/busybox echo bad 2>&1; "
             "echo rc=$?")
    assert "exec-ok" in out
    assert "Permission denied" in out
    assert "bad" not in out.replace("rc=", "")


def test_bind_ro_recursive_and_nonrecursive(bundle, rt, tmp_path):
    src = tmp_path / "tree"
    sub = src / "sub"
    sub.mkdir(parents=True)
    with host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(sub)):
        (sub / "f").write_text("in submount\n")
        bundle.config["mounts"] += [_bind("/mnt/r", src, "ro", type_="rbind"),
                                    _bind("/mnt/b", src, "ro")]
        out = sh(rt, bundle, "cat /mnt/r/sub/f; ls /mnt/b/sub | wc -l")
        assert out.split("\n")[:2] == ["in submount", "0"]


@pytest.mark.parametrize("prop,expect", [("rslave", "master:"), ("rshared", "shared:"),
                                         ("rprivate", None)])
def test_bind_propagation(bundle, rt, tmp_path, prop, expect):
    src = tmp_path / "shared"
    src.mkdir()
    with host_mount("--bind", str(src), str(src)):
        subprocess.run(["mount", "--make-shared", str(src)], check=True)
        bundle.config["mounts"].append(_bind("/mnt/p", src, prop, type_="rbind"))
        cid = create(rt, bundle, start=True)
        info = mountinfo(exec_ok(rt, cid, "cat", "/proc/self/mountinfo"))["/mnt/p"]
        optional = " ".join(info["optional"])
        if expect:
            assert expect in optional
        else:
            assert "shared:" not in optional and "master:" not in optional
        # Propagation in action: a host mount made afterwards appears inside unless private.
        (src / "late").mkdir()
        with host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(src / "late")):
            (src / "late" / "marker").write_text("x")
            out = exec_ok(rt, cid, "ls", "/mnt/p/late")
            assert ("marker" in out) == (expect is not None)
        rt("delete", "--force", cid)


def test_file_bind_mount(bundle, rt, tmp_path):
    f = tmp_path / "file.conf"
    f.write_text("key=value\n")
    bundle.config["mounts"].append(_bind("/etc/app.conf", f, "ro"))
    out = sh(rt, bundle, "cat /etc/app.conf; test -f /etc/app.conf && echo is-file")
    assert out == "key=value\nis-file\n"


def test_relative_bind_source(bundle, rt):
    (bundle.path / "reldata").mkdir()
    (bundle.path / "reldata" / "r").write_text("relative\n")
    bundle.config["mounts"].append({"destination": "/rel", "type": "bind",
                                    "source": "reldata", "options": ["rbind", "ro"]})
    # Run from elsewhere: the source is relative to the bundle, not the runtime's cwd.
    assert sh(rt, bundle, "cat /rel/r") == "relative\n"


def test_bind_missing_destination_created(bundle, rt, tmp_path):
    src = tmp_path / "d"
    src.mkdir()
    bundle.config["mounts"].append(_bind("/new/deep/dir", src))
    assert sh(rt, bundle, "test -d /new/deep/dir && echo ok") == "ok\n"


def test_bind_missing_source_fails(bundle, rt, tmp_path):
    bundle.config["mounts"].append(_bind("/x", tmp_path / "nonexistent"))
    bundle.set_args("true")
    cid = uid("nosrc")
    p = run(rt, bundle, cid)
    assert p.returncode != 0
    assert "nonexistent" in p.stderr or "/x" in p.stderr
    assert rt("state", cid).returncode != 0


# ------------------------------------------------------------------ other filesystems

def test_tmpfs_size_mode(bundle, rt):
    bundle.config["mounts"].append({"destination": "/scratch", "type": "tmpfs",
                                    "source": "tmpfs",
                                    "options": ["size=2m", "mode=1770", "nosuid"]})
    out = sh(rt, bundle, "stat -c %a /scratch; df -k /scratch | tail -1; "
             "cat /proc/self/mountinfo")
    lines = out.splitlines()
    assert lines[0] == "1770"
    assert lines[1].split()[1] == "2048"
    mi = mountinfo(out)["/scratch"]
    assert mi["type"] == "tmpfs" and "nosuid" in mi["opts"]


def test_standard_filesystems(bundle, rt):
    out = sh(rt, bundle, "cat /proc/self/mountinfo; touch /sys/fs/cgroup/x 2>&1; "
             "ls /sys/fs/cgroup; ls /dev/pts; cat /proc/self/status | grep ^Name")
    mi = mountinfo(out)
    assert mi["/proc"]["type"] == "proc"
    assert mi["/sys"]["type"] == "sysfs" and "ro" in mi["/sys"]["opts"]
    assert mi["/dev/pts"]["type"] == "devpts"
    assert "newinstance" in mi["/dev/pts"]["super"] or "ptmxmode=666" in mi["/dev/pts"]["super"]
    assert mi["/dev/mqueue"]["type"] == "mqueue"
    assert mi["/dev/shm"]["type"] == "tmpfs"
    assert mi["/dev"]["type"] == "tmpfs"
    cg = [mp for mp in mi if mp.startswith("/sys/fs/cgroup")]
    assert cg, "no cgroup mount"
    assert all("ro" in mi[mp]["opts"] for mp in cg if mi[mp]["type"].startswith("cgroup"))
    assert "Read-only file system" in out
    assert "memory" in out.split() and "pids" in out.split()
    assert "ptmx" in out.split()
    assert "Name:\tcat" in out


def test_proc_is_own_pid_namespace(bundle, rt):
    out = sh(rt, bundle, "ls /proc | grep -E '^[0-9]+$' | sort -n")
    assert out.split()[0] == "1"
    assert len(out.split()) <= 4


# ------------------------------------------------------------------ root

def test_root_readonly(bundle, rt):
    bundle.config["root"]["readonly"] = True
    out = sh(rt, bundle, "touch /newfile 2>&1; echo rc=$?; touch /dev/shm/ok && echo shm-ok; "
             "awk '$5 == \"/\"' /proc/self/mountinfo")
    assert "Read-only file system" in out
    assert "rc=1" in out
    assert "shm-ok" in out
    assert " ro," in out.splitlines()[-1] or " ro " in out.splitlines()[-1]
    assert not (bundle.rootfs / "newfile").exists()


@pytest.mark.parametrize("prop,expect", [("shared", "shared:"), ("private", None),
                                         ("slave", None)])
def test_rootfs_propagation(bundle, rt, prop, expect):
    bundle.config["linux"]["rootfsPropagation"] = prop
    out = sh(rt, bundle, "awk '$5 == \"/\"' /proc/self/mountinfo")
    line = out.strip()
    if expect:
        assert expect in line, line
    else:
        assert "shared:" not in line, line


def test_rootfs_propagation_invalid(bundle, rt):
    bundle.config["linux"]["rootfsPropagation"] = "sideways"
    p = run(rt, bundle, uid("prop"), "true")
    assert p.returncode != 0
    assert "rootfsPropagation" in p.stderr or "sideways" in p.stderr


# ------------------------------------------------------------------ devices

def test_linux_devices(bundle, rt):
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640,
         "uid": 1000, "gid": 1001},
        {"path": "/dev/custom/null2", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
    ]
    bundle.config["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    out = sh(rt, bundle, "stat -c '%F %t %T %a %u %g' /dev/fuse /dev/custom/null2; "
             "echo data > /dev/custom/null2 && echo wrote")
    lines = out.splitlines()
    assert lines[0] == "character special file a e5 640 1000 1001"
    assert lines[1].startswith("character special file 1 3 666")
    assert lines[2] == "wrote"


def test_default_devices(bundle, rt):
    out = sh(rt, bundle, r"""
for d in null zero full random urandom tty; do stat -c "$d %F %t %T" /dev/$d; done
echo x > /dev/null && echo null-ok
test "$(head -c 4 /dev/zero | od -An -tx1 | tr -d ' ')" = 00000000 && echo zero-ok
echo x > /dev/full 2>/dev/null || echo full-ok
test "$(head -c 16 /dev/urandom | wc -c)" = 16 && echo urandom-ok
test "$(head -c 16 /dev/random | wc -c)" = 16 && echo random-ok
for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done
""")
    assert "null character special file 1 3" in out
    assert "zero character special file 1 5" in out
    assert "full character special file 1 7" in out
    assert "random character special file 1 8" in out
    assert "urandom character special file 1 9" in out
    assert "tty character special file 5 0" in out
    for ok in ("null-ok", "zero-ok", "full-ok", "urandom-ok", "random-ok"):
        assert ok in out
    assert "fd -> /proc/self/fd" in out
    assert "stdin -> /proc/self/fd/0" in out
    assert "stdout -> /proc/self/fd/1" in out
    assert "stderr -> /proc/self/fd/2" in out
    assert "ptmx -> pts/ptmx" in out


def test_device_cgroup_denies_unlisted(bundle, rt):
    # Default rules deny everything else: mknod of a disk works (CAP_MKNOD) but opening it not.
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_MKNOD")
    bundle.config["process"]["capabilities"]["effective"].append("CAP_MKNOD")
    bundle.config["process"]["capabilities"]["permitted"].append("CAP_MKNOD")
    out = sh(rt, bundle, "mknod /tmp/sda b 8 0 && echo made; head -c1 /tmp/sda 2>&1; true")
    assert "Operation not permitted" in out


# ------------------------------------------------------------------ masked / readonly paths

def test_masked_paths(bundle, rt):
    bundle.config["linux"]["maskedPaths"] += ["/etc/hostname-secret", "/secretdir"]
    (bundle.rootfs / "etc" / "hostname-secret").write_text("secret\n")
    (bundle.rootfs / "secretdir").mkdir()
    (bundle.rootfs / "secretdir" / "s").write_text("secret\n")
    out = sh(rt, bundle, """
echo "kcore=[$(head -c 10 /proc/kcore | wc -c)]"
echo "file=[$(cat /etc/hostname-secret)]"
echo "dir=[$(ls /secretdir)]"
touch /secretdir/new 2>&1
echo "fw=[$(ls /sys/firmware)]"
""")
    assert "kcore=[0]" in out
    assert "file=[]" in out
    assert "dir=[]" in out
    assert "Read-only file system" in out
    assert "fw=[]" in out


def test_masked_nonexistent_path_ignored(bundle, rt):
    bundle.config["linux"]["maskedPaths"].append("/does/not/exist")
    assert sh(rt, bundle, "echo ok") == "ok\n"


def test_readonly_paths(bundle, rt):
    bundle.config["linux"]["readonlyPaths"].append("/data")
    (bundle.rootfs / "data").mkdir()
    (bundle.rootfs / "data" / "f").write_text("keep\n")
    out = sh(rt, bundle, """
echo 1 > /proc/sys/kernel/ns_last_pid 2>&1 || echo proc-sys-refused
echo x >> /data/f 2>&1 || echo data-refused
cat /data/f
touch /tmp/ok && echo tmp-ok
touch /data/new 2>&1
true
""")
    assert "proc-sys-refused" in out and "data-refused" in out
    assert "keep\n" in out
    assert "tmp-ok" in out
    assert "Read-only file system" in out
    assert (bundle.rootfs / "data" / "f").read_text() == "keep\n"


def test_idmapped_bind_mount(bundle, rt, tmp_path):
    """mounts[].uidMappings/gidMappings: an idmapped bind mount (runc's mapping semantics:
    an on-disk id equal to containerID shows as hostID)."""
    src = tmp_path / "idm"
    src.mkdir()
    (src / "f").write_text("x\n")
    os.chown(src / "f", 0, 0)
    m = _bind("/m", src, "rbind")
    m["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 10}]
    m["gidMappings"] = [{"containerID": 0, "hostID": 2000, "size": 10}]
    bundle.config["mounts"] += [m, _bind("/plain", src)]
    out = sh(rt, bundle, "stat -c '%u:%g' /m/f /plain/f")
    assert out.split() == ["1000:2000", "0:0"]
    # the host's view is untouched
    st = os.stat(src / "f")
    assert (st.st_uid, st.st_gid) == (0, 0)


def test_idmap_refused_on_non_bind(bundle, rt):
    bundle.config["mounts"].append({"destination": "/t", "type": "tmpfs", "source": "tmpfs",
                                    "options": ["idmap"],
                                    "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
                                    "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]})
    bundle.write()
    p = rt("run", "--bundle", bundle.path, uid("idm"))
    assert p.returncode != 0
    assert "only bind mounts can be idmapped" in p.stderr


def test_personality_linux32(bundle, rt):
    bundle.config["linux"]["personality"] = {"domain": "LINUX32"}
    out = sh(rt, bundle, "uname -m")
    assert out.strip() in ("i686", "i386", "armv7l", "armv8l")
