"""Network namespaces made ahead of need (src/daemon/netpool.c): each container with a
network of its own gets a fresh one, never shared or reused, with lo up as Docker has it;
berthd holds only the few it keeps ready, and none of a container's after its start."""

import os
import time


def netns_fds(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            t = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if t.startswith("net:["):
            out[int(fd)] = t
    return out


def test_none_has_lo_up(berthd):
    for _ in range(4):  # pooled namespaces and, once the pool is empty, the runtime's own
        p = berthd.docker("run", "--rm", "--network", "none", "busybox", "sh", "-c",
                          "ip -o link; ip -o addr show lo")
        assert p.returncode == 0, p.stderr
        links = [l for l in p.stdout.splitlines() if ": " in l and "link/" in l]
        assert len(links) == 1 and " lo: " in links[0], p.stdout
        assert "UP" in links[0].split("<")[1].split(">")[0].split(","), p.stdout
        assert "inet 127.0.0.1/8" in p.stdout, p.stdout


def test_each_container_its_own_namespace(berthd):
    pid = berthd.proc.pid
    own = os.readlink(f"/proc/{pid}/ns/net")
    ids = []
    for _ in range(5):
        p = berthd.docker("run", "-d", "--network", "none", "busybox", "sleep", "60")
        assert p.returncode == 0, p.stderr
        ids.append(p.stdout.strip())
    seen = set()
    for cid in ids:
        ipid = berthd.docker("inspect", "-f", "{{.State.Pid}}", cid).stdout.strip()
        ns = os.readlink(f"/proc/{ipid}/ns/net")
        assert ns != own
        assert ns not in seen
        seen.add(ns)
    # berthd holds none of them: only what it keeps ready
    held = set(netns_fds(pid).values())
    assert not held & seen
    assert len(held) <= 2
    # the container's namespace goes with it
    assert berthd.docker("rm", "-f", *ids).returncode == 0


def test_no_fd_growth(berthd):
    pid = berthd.proc.pid
    berthd.docker("run", "--rm", "--network", "none", "busybox", "true")
    time.sleep(0.3)
    before = len(os.listdir(f"/proc/{pid}/fd"))
    for _ in range(20):
        p = berthd.docker("run", "--rm", "--network", "none", "busybox", "true")
        assert p.returncode == 0, p.stderr
    time.sleep(0.3)
    after = len(os.listdir(f"/proc/{pid}/fd"))
    assert after <= before, (before, after)
    assert len(netns_fds(pid)) <= 2


def test_host_and_shared_modes_not_pooled(berthd):
    pid = berthd.proc.pid
    a = berthd.docker("run", "-d", "--network", "none", "busybox", "sleep", "60").stdout.strip()
    p = berthd.docker("run", "--rm", "--network", f"container:{a}", "busybox",
                      "readlink", "/proc/self/ns/net")
    assert p.returncode == 0, p.stderr
    apid = berthd.docker("inspect", "-f", "{{.State.Pid}}", a).stdout.strip()
    assert p.stdout.strip() == os.readlink(f"/proc/{apid}/ns/net")
    p = berthd.docker("run", "--rm", "--network", "host", "busybox", "readlink",
                      "/proc/self/ns/net")
    assert p.stdout.strip() == os.readlink(f"/proc/{pid}/ns/net")
    assert berthd.docker("rm", "-f", a).returncode == 0


def test_lo_up_without_the_pool(tmp_path_factory, busybox_rootfs):
    """With no namespaces kept ready (BERTH_NETNS_POOL=0) the runtime makes each one, and
    berthd sets its lo up before the process starts."""
    import shutil
    import tempfile
    import engine
    tmp = tempfile.mkdtemp(prefix="np-", dir="/tmp")
    d = engine.Berthd(tmp)
    old = os.environ.get("BERTH_NETNS_POOL")
    os.environ["BERTH_NETNS_POOL"] = "0"
    try:
        d.start()
        d.import_busybox()
        assert netns_fds(d.proc.pid) == {}
        p = d.docker("run", "--rm", "--network", "none", "busybox", "ip", "-o", "addr",
                     "show", "lo")
        assert p.returncode == 0, p.stderr
        assert "inet 127.0.0.1/8" in p.stdout, p.stdout
    finally:
        if old is None:
            os.environ.pop("BERTH_NETNS_POOL", None)
        else:
            os.environ["BERTH_NETNS_POOL"] = old
        problems = d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        assert not problems, problems
