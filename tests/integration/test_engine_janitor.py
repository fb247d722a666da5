"""Removal answers first and deletes after (src/daemon/janitor.c): a removed container's
directories are renamed into trash/ and unmounted and deleted by a background thread; an
AutoRemove container's overlay is mounted "volatile" (no sync at its unmount). What a
client sees must not change: the name is free at once, nothing is listed, nothing is left
on disk or mounted once the janitor is done, and a crash between the two leaves nothing
after the next start."""

import io
import os
import subprocess
import tarfile

import helpers
from helpers import wait_for


def trash(d):
    return [d.data / "trash", d.run_dir / "trash"]


def trash_empty(d):
    return all(not t.exists() or not os.listdir(t) for t in trash(d))


def overlay_opts(merged):
    """The super options of the overlay mounted at merged, or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            if helpers._unescape(parts[4]) == str(merged):
                return parts[-1].split(",")
    return None


def test_run_rm_leaves_nothing(berthd):
    for i in range(5):
        p = berthd.docker("run", "--rm", "--name", "jan", "busybox", "sh", "-c",
                          f"echo {i} > /f; cat /f")
        assert p.returncode == 0, p.stderr
        assert p.stdout == f"{i}\n"  # the name was free again at once, the layer fresh
    assert berthd.docker("ps", "-aq").stdout == ""
    wait_for(lambda: trash_empty(berthd), what="the trash to empty")
    assert os.listdir(berthd.data / "containers") == []
    assert os.listdir(berthd.run_dir / "c") == []
    assert helpers.mounts_under(berthd.data) == []


def test_rm_of_stopped_and_running(berthd):
    a = berthd.docker("run", "-d", "busybox", "sleep", "60").stdout.strip()
    b = berthd.docker("create", "busybox", "true").stdout.strip()
    assert berthd.docker("start", "-a", b).returncode == 0
    merged = berthd.data / "containers" / a / "merged"
    assert overlay_opts(merged) is not None
    assert berthd.docker("rm", "-f", a, b).returncode == 0
    assert berthd.docker("ps", "-aq").stdout == ""
    assert berthd.docker("inspect", a).returncode != 0
    wait_for(lambda: trash_empty(berthd), what="the trash to empty")
    assert helpers.mounts_under(berthd.data) == []
    assert os.listdir(berthd.data / "containers") == []


def test_volatile_only_for_autoremove(berthd):
    rm = berthd.docker("run", "-d", "--rm", "busybox", "sleep", "60").stdout.strip()
    keep = berthd.docker("run", "-d", "busybox", "sleep", "60").stdout.strip()
    assert rm and keep
    o_rm = overlay_opts(berthd.data / "containers" / rm / "merged")
    o_keep = overlay_opts(berthd.data / "containers" / keep / "merged")
    assert o_rm is not None and o_keep is not None
    # newer kernels show the option as fsync=volatile
    assert {"volatile", "fsync=volatile"} & set(o_rm)
    assert not {"volatile", "fsync=volatile"} & set(o_keep)
    # what the container writes is there while it runs (volatile is about syncs only)
    assert berthd.docker("exec", rm, "sh", "-c", "echo x > /w && cat /w").stdout == "x\n"
    assert berthd.docker("stop", "-t", "0", rm).returncode == 0
    wait_for(lambda: berthd.docker("ps", "-aq", "--no-trunc").stdout.split() == [keep],
             what="the --rm container to go")
    wait_for(lambda: trash_empty(berthd), what="the trash to empty")
    assert overlay_opts(berthd.data / "containers" / keep / "merged") is not None
    assert [m for m in helpers.mounts_under(berthd.data) if rm in m] == []


def test_crash_leftovers_swept_at_start(berthd):
    """What a kill -9 between the rename and the delete leaves: a trash entry with its
    overlay still mounted, and a run directory. The next start removes both."""
    berthd.kill9()
    planted = berthd.data / "trash" / ("f" * 64)
    (planted / "merged").mkdir(parents=True)
    (planted / "upper").mkdir()
    (planted / "upper" / "file").write_text("x")
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(planted / "merged")], check=True)
    try:
        (planted / "merged" / "in-mount").write_text("y")
        run_planted = berthd.run_dir / "trash" / ("f" * 64)
        run_planted.mkdir(parents=True)
        (run_planted / "config.json").write_text("{}")
        berthd.start()
        wait_for(lambda: not planted.exists() and not run_planted.exists(),
                 what="the leftovers to go")
        assert helpers.mounts_under(planted.parent) == []
    finally:
        helpers.unmount_all_under(planted.parent)


def test_rmi_right_after_run_rm(berthd):
    """An image with a layer of its own, removed right after a --rm container ran on it:
    the removal waits for the janitor, so no overlay still stands on the layer."""
    # the busybox rootfs plus one file makes a layer no other image has
    import engine
    base = tarfile.open(str(engine.busybox_tar()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:
        for m in base.getmembers():
            out.addfile(m, base.extractfile(m) if m.isfile() else None)
        data = b"only here\n"
        ti = tarfile.TarInfo("janitor-marker")
        ti.size = len(data)
        out.addfile(ti, io.BytesIO(data))
    st, _, body = berthd.api("POST", "/v1.50/images/create?fromSrc=-&repo=jan&tag=one",
                             body=buf.getvalue(), headers={"Content-Type": "application/x-tar"},
                             timeout=120)
    assert st == 200, body
    layers = berthd.data / "layers"
    layers_before = set(os.listdir(layers))
    for _ in range(3):
        p = berthd.docker("run", "--rm", "jan:one", "cat", "/janitor-marker")
        assert p.returncode == 0, p.stderr
        assert p.stdout == "only here\n"
        p = berthd.docker("rmi", "jan:one")
        assert p.returncode == 0, p.stderr
        assert helpers.mounts_under(berthd.data) == []
        assert trash_empty(berthd)
        # the image's own layer went with it
        assert len(set(os.listdir(layers)) - layers_before) == 0
        assert len(os.listdir(layers)) == len(layers_before) - 1
        st, _, body = berthd.api("POST", "/v1.50/images/create?fromSrc=-&repo=jan&tag=one",
                                 body=buf.getvalue(),
                                 headers={"Content-Type": "application/x-tar"}, timeout=120)
        assert st == 200, body
    assert set(os.listdir(layers)) == layers_before


def test_janitor_does_not_follow_links_out(berthd, tmp_path):
    """A container's layer full of symlinks to host paths: the janitor
    deletes the links, never what they point at."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("precious")
    p = berthd.docker("run", "--rm", "busybox", "sh", "-c",
                      f"ln -s {victim} /to-dir; ln -s {victim}/keep /to-file; "
                      f"mkdir -p /deep/a; ln -s {victim} /deep/a/b; echo ok")
    assert p.returncode == 0, p.stderr
    wait_for(lambda: trash_empty(berthd), what="the trash to empty")
    assert (victim / "keep").read_text() == "precious"


def test_a_very_deep_tree_is_removed(berthd):
    """A container can nest directories as deep as it likes in its layer (here 2,500 levels,
    past PATH_MAX); the janitor removes the tree without a stack frame or an open
    directory per level, and berthd serves on."""
    # each round nests the tree one level deeper by renames: no long path is ever named
    p = berthd.docker("run", "--name", "deep", "busybox", "sh", "-c",
                      "mkdir /top && touch /top/f; i=0; while [ $i -lt 2500 ]; do "
                      "mkdir /n && mv /top /n/d && mv /n /top || exit 1; i=$((i+1)); done",
                      timeout=120)
    assert p.returncode == 0, p.stderr
    assert berthd.docker("rm", "deep").returncode == 0
    wait_for(lambda: trash_empty(berthd), timeout=60, what="the deep tree removed")
    assert berthd.docker("run", "--rm", "busybox", "true").returncode == 0
