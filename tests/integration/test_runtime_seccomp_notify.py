"""SCMP_ACT_NOTIFY: the listener fd reaches linux.seccomp.listenerPath with the process state."""
import json
import os
import socket
import threading


def _listener(path, result, answer_close=True):
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1)
    s.settimeout(15)
    try:
        c, _ = s.accept()
        msg, fds, _, _ = socket.recv_fds(c, 65536, 1)
        result["msg"] = json.loads(msg.decode())
        result["fds"] = fds
        # Closing the listener makes the notified syscalls fail with ENOSYS.
        for fd in fds:
            os.close(fd)
        c.close()
    except Exception as e:  # reported through result
        result["error"] = repr(e)
    finally:
        s.close()


def test_notify_listener_gets_fd_and_state(bundle, rt, tmp_path):
    sock = str(tmp_path / "listener.sock")
    bundle.set_args("sh", "-c", "mkdir /tmp/x; echo mkdir=$?")
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock,
        "listenerMetadata": "meta-42",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }
    bundle.write()
    result = {}
    t = threading.Thread(target=_listener, args=(sock, result))
    t.start()
    try:
        p = rt("run", "--bundle", bundle.path, "notify1")
    finally:
        t.join(20)
    assert "error" not in result, result
    assert len(result["fds"]) == 1
    msg = result["msg"]
    assert msg["fds"] == ["seccompFd"]
    assert msg["metadata"] == "meta-42"
    assert msg["state"]["id"] == "notify1"
    assert p.returncode == 0, p.stderr
    assert "mkdir=1" in p.stdout
    assert "Function not implemented" in p.stderr


def test_notify_without_listener_path_fails(bundle, rt, runtime):
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
    }
    bundle.write()
    p = rt("run", "--bundle", bundle.path, "notify2")
    assert p.returncode != 0
    assert "listenerPath" in p.stderr
    assert not os.path.exists(os.path.join(runtime.root, "notify2"))
