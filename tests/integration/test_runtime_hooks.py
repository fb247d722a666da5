"""berth-runtime hooks: the six kinds, their order, the state they read on stdin, where they
run, failures and timeouts."""

import json
import time

from rtutil import (cgroup_dirs_named, create, procs_mentioning, state, uid, wait_for,
                    wait_status)

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]


def _host_hook(kind, log, outdir, extra=""):
    """A hook run from the host's /bin/sh: appends its kind to log, saves its stdin."""
    return {"path": "/bin/sh",
            "args": ["sh", "-c", f'echo {kind} >> {log}; cat > {outdir}/{kind}.json; '
                     f'echo "$HOOKVAR" > {outdir}/{kind}.env {extra}'],
            "env": ["PATH=/bin:/usr/bin", f"HOOKVAR={kind}-env"]}


def _setup_hooks(bundle):
    log = bundle.rootfs / "hooklog"
    outdir = bundle.rootfs
    hooks = {k: [_host_hook(k, log, outdir)] for k in KINDS if k != "startContainer"}
    # startContainer runs in the container: its paths are the container's.
    hooks["startContainer"] = [{
        "path": "/bin/sh",
        "args": ["sh", "-c", "echo startContainer >> /hooklog; cat > /startContainer.json; "
                 "hostname > /startContainer.where; readlink /proc/self/ns/mnt >> "
                 "/startContainer.where; echo \"$HOOKVAR\" > /startContainer.env"],
        "env": ["PATH=/bin", "HOOKVAR=startContainer-env"]}]
    bundle.config["hooks"] = hooks
    bundle.config["hostname"] = "hooked"
    bundle.config["annotations"] = {"hook.test": "yes"}
    return log


def _order(log):
    return log.read_text().split() if log.exists() else []


def _st(bundle, kind):
    return json.loads((bundle.rootfs / f"{kind}.json").read_text())


def test_all_hooks_order_and_state(bundle, rt):
    log = _setup_hooks(bundle)
    cid = create(rt, bundle, args=("sleep", "1000"))
    assert _order(log) == ["prestart", "createRuntime", "createContainer"]
    pid = state(rt, cid)["pid"]
    assert rt("start", cid).returncode == 0
    # (The order of startContainer vs poststart: test_poststart_after_start_container.)
    wait_for(lambda: len(_order(log)) == 5, 5, what="startContainer and poststart")
    assert sorted(_order(log)[3:]) == ["poststart", "startContainer"]
    assert rt("kill", cid, "KILL").returncode == 0
    wait_status(rt, cid, "stopped")
    p = rt("delete", cid)
    assert p.returncode == 0, p.stderr
    assert _order(log)[-1] == "poststop" and sorted(_order(log)) == sorted(KINDS)

    expect_status = {"prestart": {"creating"}, "createRuntime": {"creating"},
                     "createContainer": {"creating", "created"},
                     "startContainer": {"created", "running"}, "poststart": {"running"},
                     "poststop": {"stopped"}}
    for kind in KINDS:
        st = _st(bundle, kind)
        assert st["id"] == cid, kind
        assert st["ociVersion"], kind
        assert st["status"] in expect_status[kind], (kind, st["status"])
        assert st["bundle"].rstrip("/") == str(bundle.path), kind
        assert st.get("annotations") == {"hook.test": "yes"}, kind
        if kind in ("createContainer", "startContainer"):
            # Run in the container's namespaces: the pid as the container sees it (1 in
            # its pid namespace); runc passes the host's.
            assert st["pid"] in (1, pid), (kind, st["pid"])
        elif kind != "poststop":
            assert st["pid"] == pid, kind
        # The hook's own env and args reached it.
        assert (bundle.rootfs / f"{kind}.env").read_text().strip() == f"{kind}-env"

    # startContainer ran inside the container: container hostname, container mount ns.
    where = (bundle.rootfs / "startContainer.where").read_text().split()
    assert where[0] == "hooked"
    with open("/proc/self/ns/mnt") as f:  # noqa: F841 - just to be sure /proc works
        pass
    import os
    assert where[1] != os.readlink("/proc/self/ns/mnt")


def test_run_runs_all_hooks(bundle, rt):
    log = _setup_hooks(bundle)
    bundle.set_args("true").write()
    p = rt("run", "--bundle", bundle.path, uid("hk"))
    assert p.returncode == 0, p.stderr
    assert sorted(_order(log)) == sorted(KINDS)
    assert _order(log)[:3] == KINDS[:3] and _order(log)[-1] == "poststop"


def test_poststart_after_start_container(bundle, rt):
    # runtime-spec lifecycle: startContainer hooks (step 7), then the user program (8),
    # then poststart (9). A slow startContainer hook must not be overtaken by poststart.
    log = bundle.rootfs / "hooklog"
    bundle.config["hooks"] = {
        "startContainer": [{"path": "/bin/sh",
                            "args": ["sh", "-c", "sleep 0.3; echo startContainer >> /hooklog"]}],
        "poststart": [_host_hook("poststart", log, bundle.rootfs)],
    }
    cid = create(rt, bundle, args=("sleep", "1000"))
    assert rt("start", cid).returncode == 0
    wait_for(lambda: len(_order(log)) == 2, 5, what="both hooks")
    assert _order(log) == ["startContainer", "poststart"]


def test_failing_create_runtime_hook(bundle, rt):
    log = bundle.rootfs / "hooklog"
    name = uid("hookcg")
    bundle.config["linux"]["cgroupsPath"] = f"/berth-test/{name}"
    bundle.config["hooks"] = {
        "createRuntime": [{"path": "/bin/sh",
                           "args": ["sh", "-c", "echo hook-went-wrong >&2; exit 3"]}],
        "createContainer": [_host_hook("createContainer", log, bundle.rootfs)],
        "poststop": [_host_hook("poststop", log, bundle.rootfs)],
    }
    bundle.set_args("sleep", "1000").write()
    cid = uid("hookfail")
    p = rt("create", "--bundle", bundle.path, cid)
    assert p.returncode != 0
    assert "createRuntime" in p.stderr
    assert "hook-went-wrong" in p.stderr or "status 3" in p.stderr
    # Nothing went on after it, and nothing is left.
    assert "createContainer" not in _order(log)
    assert not (rt.__self__.root / cid).exists()
    assert rt("state", cid).returncode != 0
    assert cgroup_dirs_named(name) == []
    assert procs_mentioning(cid) == []


def test_failing_create_runtime_hook_runs_poststop(bundle, rt):
    # runtime-spec: when a createRuntime hook fails, the container is stopped and the
    # poststop hooks run.
    log = bundle.rootfs / "hooklog"
    bundle.config["hooks"] = {
        "createRuntime": [{"path": "/bin/false"}],
        "poststop": [_host_hook("poststop", log, bundle.rootfs)],
    }
    bundle.set_args("sleep", "1000").write()
    p = rt("create", "--bundle", bundle.path, uid("hookfail"))
    assert p.returncode != 0
    assert _order(log) == ["poststop"]


def test_hook_timeout(bundle, rt):
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"],
                                            "timeout": 1}]}
    bundle.set_args("true").write()
    cid = uid("hookto")
    t0 = time.monotonic()
    p = rt("create", "--bundle", bundle.path, cid, timeout=20)
    took = time.monotonic() - t0
    assert p.returncode != 0
    assert "timed out" in p.stderr
    assert took < 10
    assert not (rt.__self__.root / cid).exists()
    assert procs_mentioning("sleep\x0030") == []


def test_hook_missing_binary(bundle, rt):
    bundle.config["hooks"] = {"createRuntime": [{"path": "/no/such/hook"}]}
    bundle.set_args("true").write()
    cid = uid("hookmiss")
    p = rt("create", "--bundle", bundle.path, cid)
    assert p.returncode != 0
    assert "/no/such/hook" in p.stderr
    assert not (rt.__self__.root / cid).exists()


def test_hook_relative_path_refused(bundle, rt):
    bundle.config["hooks"] = {"prestart": [{"path": "bin/true"}]}
    bundle.set_args("true").write()
    cid = uid("hookrel")
    p = rt("create", "--bundle", bundle.path, cid)
    assert p.returncode != 0
    assert "bin/true" in p.stderr or "path" in p.stderr
    assert not (rt.__self__.root / cid).exists()


def test_failing_poststop_hook_does_not_block_delete(bundle, rt):
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/false"}]}
    cid = create(rt, bundle, args=("true",), start=True)
    wait_status(rt, cid, "stopped")
    p = rt("delete", cid)
    assert p.returncode == 0, p.stderr
    assert rt("state", cid).returncode != 0


def test_failing_start_container_hook(bundle, rt):
    bundle.config["hooks"] = {"startContainer": [{"path": "/bin/false"}]}
    cid = create(rt, bundle, args=("sleep", "1000"))
    p = rt("start", cid)
    # The user's process never runs: start fails, or the container stops at once.
    if p.returncode == 0:
        wait_status(rt, cid, "stopped")
    else:
        assert "startContainer" in p.stderr
