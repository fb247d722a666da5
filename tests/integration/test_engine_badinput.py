"""Bad input to berthd: Docker's status and message, nothing changes, and berthd keeps serving."""

import json
import os
import socket
import threading
import time

import pytest

V = "/v1.50"


@pytest.fixture
def d(berthd):
    yield berthd
    left = ids(berthd)
    assert left <= berthd.seen_ids, f"containers nobody made: {left - berthd.seen_ids}"
    check_clean(berthd, left)


def ids(d):
    st, _, body = d.api("GET", V + "/containers/json?all=1")
    assert st == 200, body
    return {c["Id"] for c in json.loads(body)}


def check_clean(d, want=frozenset()):
    """berthd answers, and neither its list nor its data-root holds more than `want`."""
    st, _, body = d.api("GET", V + "/_ping", timeout=10)
    assert (st, body) == (200, b"OK")
    assert ids(d) == set(want)
    cdir = d.data / "containers"
    on_disk = set(os.listdir(cdir)) if cdir.is_dir() else set()
    assert on_disk == set(want), f"leftover container dirs: {on_disk - set(want)}"


def err(d, method, path, body=None, headers=None):
    st, h, out = d.api(method, path, body, headers=headers)
    assert h.get("content-type") == "application/json", (st, h, out)
    return st, json.loads(out)["message"]


def create(d, body, name=None):
    path = V + "/containers/create" + (f"?name={name}" if name else "")
    return err(d, "POST", path, body)


def base(**hc):
    b = {"Image": "busybox", "Cmd": ["true"]}
    if hc:
        b["HostConfig"] = hc
    return b


def raw(d, data, timeout=10, shut=False):
    """Send raw bytes, read until the server closes (or the timeout): the reply bytes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(d.sock))
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                k = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not k:
                break
            out += k
        return out
    finally:
        s.close()


def status_of(reply):
    line = reply.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 "), reply[:200]
    return int(line.split()[1])


def body_of(reply):
    return reply.split(b"\r\n\r\n", 1)[1]


# ---- malformed requests to /containers/create ----------------------------------

@pytest.mark.parametrize("body", [b"{", b"{\"Image\":", b"not json", b"[1,2]", b"\"str\"",
                                  b"{\"Image\":\"busybox\"} trailing", b"\xff\xfe", b"null"])
def test_create_malformed_json(d, body):
    st, msg = create(d, body)
    assert st == 400, msg
    assert msg


def test_create_empty_body(d):
    st, msg = create(d, b"")
    assert st == 400
    st, msg = create(d, {})
    assert st == 400
    assert msg == "config cannot be empty in order to create a container"


def test_create_wrong_content_type(d):
    st, msg = err(d, "POST", V + "/containers/create", json.dumps(base()),
                  headers={"Content-Type": "text/plain"})
    assert st == 400
    assert msg == "unsupported Content-Type header (text/plain): must be 'application/json'"
    # the JSON types are still a match, whatever parameters come with them
    st, _, out = d.api("POST", V + "/containers/create", json.dumps(base()),
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert st == 201, out
    d.seen_ids.add(json.loads(out)["Id"])


@pytest.mark.parametrize("body,field", [
    ({"Image": "busybox", "Cmd": [1, None]}, "Cmd"),
    ({"Image": "busybox", "Cmd": {"a": 1}}, "Cmd"),
    ({"Image": "busybox", "Cmd": ["true"], "Env": "A=1"}, "Env"),
    ({"Image": "busybox", "Cmd": ["true"], "Env": ["A=1", 2]}, "Env"),
    ({"Image": "busybox", "Cmd": ["true"], "Labels": {"a": 1}}, "Labels"),
    ({"Image": "busybox", "Cmd": ["true"], "Tty": "yes"}, "Tty"),
    ({"Image": 7}, "Image"),
    ({"Image": "busybox", "Cmd": ["true"], "HostConfig": []}, "HostConfig"),
    ({"Image": "busybox", "Cmd": ["true"], "HostConfig": "x"}, "HostConfig"),
    (base(Binds="/a:/b"), "Binds"),
    (base(CapAdd=[1]), "CapAdd"),
    (base(Memory="1g"), "Memory"),
    (base(Memory=1.5e9), "Memory"),
    (base(Ulimits={"Name": "nofile"}), "Ulimits"),
    (base(Ulimits=["nofile=1:2"]), "Ulimits"),
    (base(Tmpfs=["/run"]), "Tmpfs"),
    (base(Sysctls={"a": 1}), "Sysctls"),
    (base(RestartPolicy="always"), "RestartPolicy"),
    (base(LogConfig="json-file"), "LogConfig"),
    (base(ConsoleSize="40x80"), "ConsoleSize"),
    (base(SecurityOpt="no-new-privileges"), "SecurityOpt"),
])
def test_create_wrong_types(d, body, field):
    st, msg = create(d, body)
    assert st == 400, msg
    assert f".{field} of type" in msg or "config cannot be empty" in msg, msg


def test_create_deeply_nested(d):
    deep = {"x": None}
    for _ in range(50):
        deep = {"x": deep}
    st, _, out = d.api("POST", V + "/containers/create", base(Annotations=None, Foo=deep))
    assert st == 201, out
    d.seen_ids.add(json.loads(out)["Id"])
    # deeper than the parser takes
    st, msg = create(d, b'{"Image":"busybox","Foo":' + b"[" * 100 + b"]" * 100 + b"}")
    assert st == 400


# ---- unknown objects ---------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/containers/x/json"), ("POST", "/containers/x/start"), ("POST", "/containers/x/stop"),
    ("POST", "/containers/x/kill"), ("POST", "/containers/x/restart"), ("DELETE", "/containers/x"),
    ("POST", "/containers/x/wait"), ("GET", "/containers/x/logs?stdout=1"),
    ("POST", "/containers/x/attach?stream=1&stdout=1"), ("GET", "/containers/x/top"),
    ("POST", "/containers/x/pause"), ("POST", "/containers/x/rename?name=y"),
    ("POST", "/containers/x/resize?h=1&w=1"),
])
def test_unknown_container(d, method, path):
    st, msg = err(d, method, V + path)
    assert (st, msg) == (404, "No such container: x")


def test_unknown_container_exec(d):
    st, msg = err(d, "POST", V + "/containers/x/exec", {"Cmd": ["true"]})
    assert (st, msg) == (404, "No such container: x")
    st, msg = err(d, "POST", V + "/exec/x/start", {})
    assert (st, msg) == (404, "No such exec instance: x")
    st, msg = err(d, "GET", V + "/exec/x/json")
    assert (st, msg) == (404, "No such exec instance: x")


def test_unknown_image(d):
    assert err(d, "GET", V + "/images/x/json") == (404, "No such image: x:latest")
    assert err(d, "GET", V + "/images/x:v1/history") == (404, "No such image: x:v1")
    assert err(d, "DELETE", V + "/images/x") == (404, "No such image: x:latest")
    assert err(d, "POST", V + "/images/x/tag?repo=y") == (404, "No such image: x:latest")
    assert create(d, {"Image": "nosuch", "Cmd": ["true"]}) == (404, "No such image: nosuch:latest")
    assert create(d, {"Image": "nosuch:v2", "Cmd": ["true"]}) == (404, "No such image: nosuch:v2")
    st, msg = create(d, {"Image": "Bad:Ref!!", "Cmd": ["true"]})
    assert st == 400 and "invalid reference format" in msg
    # the image store is untouched
    st, _, out = d.api("GET", V + "/images/json")
    assert [i["RepoTags"] for i in json.loads(out)] == [["busybox:latest"]]


def test_unknown_route(d):
    assert err(d, "GET", V + "/nosuch") == (404, "page not found")
    st, msg = err(d, "PUT", V + "/containers/json")
    assert st == 405


# ---- names ------------------------------------------------------------------

def test_name_conflict(d):
    st, _, out = d.api("POST", V + "/containers/create?name=web", base())
    assert st == 201
    cid = json.loads(out)["Id"]
    d.seen_ids.add(cid)
    for name in ("web", "/web"):
        st, msg = create(d, base(), name=name)
        assert st == 409
        assert msg == (f'Conflict. The container name "/web" is already in use by container '
                       f'"{cid}". You have to remove (or rename) that container to be able to '
                       f'reuse that name.')
    assert ids(d) == {cid}
    # rename onto a taken name
    st, _, out = d.api("POST", V + "/containers/create?name=other", base())
    other = json.loads(out)["Id"]
    d.seen_ids.add(other)
    st, msg = err(d, "POST", V + f"/containers/{other}/rename?name=web")
    assert st == 409 and 'The container name "/web" is already in use' in msg


@pytest.mark.parametrize("name", ["-bad", "_bad", ".bad", "bad%20name", "bad/name", "bad:x",
                                  "b%C3%A4d", "bad%0Aname", "%2Fa%2Fb"])
def test_invalid_names(d, name):
    st, msg = create(d, base(), name=name)
    assert st == 400, msg
    assert msg.startswith("Invalid container name (")
    assert msg.endswith("), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")


# ---- limits -------------------------------------------------------------------

NCPU = os.cpu_count()


@pytest.mark.parametrize("hc,status,msg", [
    ({"Memory": -1}, 400, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 1000}, 400, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 64 << 20, "MemorySwap": 32 << 20}, 400,
     "Minimum memoryswap limit should be larger than memory limit, see usage"),
    ({"MemorySwap": 64 << 20}, 400,
     "You should always set the Memory limit when using Memoryswap limit, see usage"),
    ({"MemoryReservation": 1000}, 400, "Minimum memory reservation allowed is 6MB"),
    ({"MemorySwappiness": 101}, 400, "Invalid value: 101, valid memory swappiness range is 0-100"),
    ({"NanoCpus": 10 ** 18}, 400,
     f"Range of CPUs is from 0.01 to {NCPU}.00, as there are only {NCPU} CPUs available"),
    ({"NanoCpus": -1}, 400,
     f"Range of CPUs is from 0.01 to {NCPU}.00, as there are only {NCPU} CPUs available"),
    ({"NanoCpus": 10 ** 9, "CpuQuota": 50000}, 400,
     "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    ({"CpuPeriod": 10}, 400,
     "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    ({"CpuQuota": 10}, 400, "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    ({"CpuShares": -5}, 400, "invalid CPU shares: must not be negative"),
    ({"ShmSize": -1}, 400, "SHM size can not be less than 0"),
    ({"OomScoreAdj": 5000}, 400, "Invalid value 5000, range for oom score adj is [-1000, 1000]"),
    ({"OomScoreAdj": -1001}, 400, "Invalid value -1001, range for oom score adj is [-1000, 1000]"),
    ({"Ulimits": [{"Name": "nofile", "Soft": 2048, "Hard": 1024}]}, 400,
     "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024"),
    ({"RestartPolicy": {"Name": "sometimes"}}, 400,
     "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
     "'on-failure', or 'unless-stopped'"),
    ({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 3}}, 400,
     "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
    ({"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": -1}}, 400,
     "invalid restart policy: maximum retry count cannot be negative"),
    ({"AutoRemove": True, "RestartPolicy": {"Name": "always"}}, 400,
     "can't create 'AutoRemove' container with restart policy"),
    ({"AutoRemove": True, "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}}, 400,
     "can't create 'AutoRemove' container with restart policy"),
    ({"NetworkMode": "nosuchnet"}, 400, "network nosuchnet not found"),
    ({"Binds": ["relative:/x"]}, 400, None),
    ({"Binds": ["/tmp"]}, 400, None),
])
def test_create_bad_limits(d, hc, status, msg):
    st, got = create(d, base(**hc))
    assert st == status, got
    if msg is not None:
        assert got == msg


def test_create_pids_limit_negative_is_unlimited(d):
    # moby: 0 and any negative PidsLimit mean "no limit", not an error
    st, _, out = d.api("POST", V + "/containers/create", base(PidsLimit=-5))
    assert st == 201, out
    cid = json.loads(out)["Id"]
    d.seen_ids.add(cid)
    st, _, out = d.api("GET", V + f"/containers/{cid}/json")
    assert json.loads(out)["HostConfig"].get("PidsLimit") in (None, 0)


def test_create_good_limits_still_work(d):
    hc = {"Memory": 64 << 20, "MemorySwap": -1, "NanoCpus": 5 * 10 ** 8, "CpuShares": 512,
          "PidsLimit": 50, "ShmSize": 1 << 20, "OomScoreAdj": 100,
          "Ulimits": [{"Name": "nofile", "Soft": 512, "Hard": 1024}],
          "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}, "MemorySwappiness": -1}
    body = {"Image": "busybox", "Cmd": ["sh", "-c", "ulimit -n; cat /sys/fs/cgroup/pids.max "
                                        "2>/dev/null || cat /sys/fs/cgroup/pids/pids.max"],
            "HostConfig": hc}
    st, _, out = d.api("POST", V + "/containers/create", body)
    assert st == 201, out
    cid = json.loads(out)["Id"]
    d.seen_ids.add(cid)
    assert d.api("POST", V + f"/containers/{cid}/start")[0] == 204
    st, _, out = d.api("POST", V + f"/containers/{cid}/wait")
    assert json.loads(out)["StatusCode"] == 0
    st, _, out = d.api("GET", V + f"/containers/{cid}/logs?stdout=1")
    assert b"512\n" in out and b"50\n" in out


# ---- API versions ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/_ping", "/containers/json", "/containers/create"])
def test_api_version_too_new(d, path):
    method = "POST" if path.endswith("create") else "GET"
    body = base() if method == "POST" else None
    assert err(d, method, "/v1.99" + path, body) == (
        400, "client version 1.99 is too new. Maximum supported API version is 1.50")
    assert err(d, method, "/v1.51" + path, body) == (
        400, "client version 1.51 is too new. Maximum supported API version is 1.50")


@pytest.mark.parametrize("path", ["/_ping", "/containers/json", "/containers/create"])
def test_api_version_too_old(d, path):
    method = "POST" if path.endswith("create") else "GET"
    body = base() if method == "POST" else None
    assert err(d, method, "/v1.12" + path, body) == (
        400, "client version 1.12 is too old. Minimum supported API version is 1.24, please "
             "upgrade your client to a newer version")


def test_api_versions_in_range(d):
    for v in ("/v1.24", "/v1.41", "/v1.50", ""):
        st, _, out = d.api("GET", v + "/_ping")
        assert (st, out) == (200, b"OK")


# ---- HTTP-level abuse ---------------------------------------------------------------

def test_oversized_header(d):
    reply = raw(d, b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
    assert status_of(reply) == 431
    assert json.loads(body_of(reply))["message"]
    # many small headers add up too
    head = b"GET /_ping HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: %s\r\n" % (i, b"b" * 700) for i in range(99)) + b"\r\n"
    assert len(head) > 64 * 1024
    assert status_of(raw(d, head)) == 431
    check_clean(d)


def test_too_many_headers(d):
    head = b"GET /_ping HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: 1\r\n" % i for i in range(200)) + b"\r\n"
    assert status_of(raw(d, head)) == 431


def test_long_uri(d):
    reply = raw(d, b"GET /containers/" + b"a" * 20000 + b"/json HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(reply) == 414


def test_oversized_body_content_length(d):
    size = 17 << 20
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(str(d.sock))
    s.sendall(b"POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: "
              b"application/json\r\nContent-Length: %d\r\n\r\n" % size)

    def feed():
        chunk = b" " * 65536
        try:
            for _ in range(size // len(chunk)):
                s.sendall(chunk)
        except OSError:
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    reply = b""
    while b"\r\n\r\n" not in reply:
        k = s.recv(4096)
        if not k:
            break
        reply += k
    assert status_of(reply) == 413
    s.close()
    t.join(30)
    check_clean(d)


def test_oversized_body_chunked(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(str(d.sock))
    s.sendall(b"POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: "
              b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    reply = b""

    def feed():
        chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
        try:
            for _ in range(300):  # 18.75 MiB
                s.sendall(chunk)
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    while b"\r\n\r\n" not in reply:
        k = s.recv(4096)
        if not k:
            break
        reply += k
    assert status_of(reply) == 413
    s.close()
    t.join(30)
    check_clean(d)


@pytest.mark.parametrize("chunks", [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n",
                                    b"-1\r\n{}\r\n0\r\n\r\n", b"fffffffffffffffffff\r\n{}\r\n",
                                    b"2\n{}\n0\n\n"])
def test_chunked_bad(d, chunks):
    reply = raw(d, b"POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks, shut=True)
    assert status_of(reply) == 400, reply
    check_clean(d)


def test_chunked_good(d):
    body = json.dumps(base()).encode()
    a, b = body[:10], body[10:]
    reply = raw(d, b"POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   b"application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + b"%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\n\r\n" % (len(a), a, len(b), b))
    assert status_of(reply) == 201, reply
    d.seen_ids.add(json.loads(body_of(reply))["Id"])


@pytest.mark.parametrize("req", [
    b"GARBAGE\r\n\r\n",
    b"GET /_ping HTTP/9.9\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"POST /containers/create HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nBad Header: x\r\n\r\n",
    b"GET /%00 HTTP/1.1\r\n\r\n",
    b"\x00\x01\x02\x03\r\n\r\n",
])
def test_garbage_requests(d, req):
    reply = raw(d, req)
    assert reply == b"" or 400 <= status_of(reply) < 600
    check_clean(d)


def test_truncated_request_then_close(d):
    for data in (b"GET /_pi", b"POST /v1.50/containers/create HTTP/1.1\r\nContent-Length: 100\r\n"
                 b"Content-Type: application/json\r\n\r\n{\"Image\":"):
        assert raw(d, data, shut=True, timeout=5) in (b"",) or True
    check_clean(d)


# ---- clients that go away mid-stream -----------------------------------------------------

def berthd_fds(d):
    return len(os.listdir(f"/proc/{d.proc.pid}/fd"))


def berthd_threads(d):
    return len(os.listdir(f"/proc/{d.proc.pid}/task"))


def run_detached(d, cmd, **extra):
    body = {"Image": "busybox", "Cmd": cmd, **extra}
    st, _, out = d.api("POST", V + "/containers/create", body)
    assert st == 201, out
    cid = json.loads(out)["Id"]
    d.seen_ids.add(cid)
    assert d.api("POST", V + f"/containers/{cid}/start")[0] == 204
    return cid


def open_stream(d, request, want=b"\r\n\r\n"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(d.sock))
    s.sendall(request)
    got = b""
    while want not in got:
        k = s.recv(4096)
        assert k, got
        got += k
    return s, got


def settle(d, fds0, threads0, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if berthd_fds(d) <= fds0 and berthd_threads(d) <= threads0:
            return
        time.sleep(0.05)
    raise AssertionError(f"berthd kept fds/threads: {berthd_fds(d)}/{fds0}, "
                         f"{berthd_threads(d)}/{threads0}")


def test_disconnect_mid_stream(d):
    cid = run_detached(d, ["sh", "-c", "while true; do echo tick; sleep 0.05; done"])
    ping = d.api("GET", "/_ping")
    assert ping[0] == 200
    time.sleep(0.2)
    fds0, threads0 = berthd_fds(d), berthd_threads(d)
    requests = [
        b"GET /v1.50/containers/%s/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n" % cid.encode(),
        b"GET /v1.50/events HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1.50/containers/%s/wait HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % cid.encode(),
        b"POST /v1.50/containers/%s/wait?condition=removed HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 0\r\n\r\n" % cid.encode(),
        b"POST /v1.50/containers/%s/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n" % cid.encode(),
        b"POST /v1.50/containers/%s/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\n"
        b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n" % cid.encode(),
        b"GET /v1.50/containers/%s/stats HTTP/1.1\r\nHost: x\r\n\r\n" % cid.encode(),
    ]
    for req in requests:
        for how in ("close", "rst", "after-data"):
            s, got = open_stream(d, req)
            if how == "after-data":
                try:
                    s.recv(100)
                except socket.timeout:
                    pass
            if how == "rst":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        st, _, out = d.api("GET", "/_ping")
        assert (st, out) == (200, b"OK"), req
    # all of them at once, then gone
    socks = [open_stream(d, req)[0] for req in requests]
    for s in socks:
        s.close()
    settle(d, fds0, threads0)
    st, _, out = d.api("GET", V + f"/containers/{cid}/json")
    assert json.loads(out)["State"]["Running"]
    # the container keeps logging for a new reader
    st, _, out = d.api("GET", V + f"/containers/{cid}/logs?stdout=1&tail=1")
    assert out.endswith(b"tick\n")
    assert d.api("DELETE", V + f"/containers/{cid}?force=1")[0] == 204
    check_clean(d)


def test_disconnect_exec_stream(d):
    cid = run_detached(d, ["sleep", "60"])
    time.sleep(0.1)
    fds0, threads0 = berthd_fds(d), berthd_threads(d)
    for _ in range(3):
        st, _, out = d.api("POST", V + f"/containers/{cid}/exec",
                           {"Cmd": ["sh", "-c", "while true; do echo x; sleep 0.05; done"],
                            "AttachStdout": True, "AttachStderr": True})
        eid = json.loads(out)["Id"]
        body = b'{"Detach":false,"Tty":false}'
        s, got = open_stream(d, b"POST /v1.50/exec/%s/start HTTP/1.1\r\nHost: x\r\nConnection: "
                                b"Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n"
                                b"Content-Length: %d\r\n\r\n%s" % (eid.encode(), len(body), body))
        assert got.startswith(b"HTTP/1.1 101")
        s.recv(100)
        s.close()
    assert d.api("GET", "/_ping")[2] == b"OK"
    assert d.api("DELETE", V + f"/containers/{cid}?force=1")[0] == 204
    settle(d, fds0, threads0)
    check_clean(d)


def test_many_bad_requests_keep_serving(d):
    """A burst of mixed garbage over parallel connections; berthd stays up."""
    bad = [b"GARBAGE\r\n\r\n", b"POST /v1.50/containers/create HTTP/1.1\r\nContent-Type: "
           b"application/json\r\nContent-Length: 3\r\n\r\n{{{",
           b"GET /v1.99/_ping HTTP/1.1\r\n\r\n", b"GET /_ping HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n"]
    errors = []

    def worker(i):
        try:
            for k in range(20):
                raw(d, bad[(i + k) % len(bad)], timeout=5)
        except Exception as e:  # noqa
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors
    check_clean(d)


# ---- image uploads ----------------------------------------------------------------

def images(d):
    st, _, out = d.api("GET", V + "/images/json?all=1")
    assert st == 200
    return sorted((i["Id"], tuple(i["RepoTags"] or ())) for i in json.loads(out))


def stream_error(out):
    msgs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    return [m["errorDetail"]["message"] for m in msgs if "errorDetail" in m]


@pytest.mark.parametrize("body", [b"", b"not a tar at all", b"\x00" * 1024,
                                  b"\x1f\x8b\x08\x00garbage-gzip"])
def test_load_garbage(d, body):
    before = images(d)
    st, _, out = d.api("POST", V + "/images/load?quiet=1", body,
                       headers={"Content-Type": "application/x-tar"})
    assert st in (200, 400, 500), out
    if st == 200:
        assert stream_error(out), out
    assert images(d) == before
    check_clean(d)


def test_load_truncated_save(d):
    st, _, tar = d.api("GET", V + "/images/get?names=busybox", timeout=60)
    assert st == 200 and len(tar) > 4096
    before = images(d)
    for cut in (512, 3000, len(tar) // 2):
        st, _, out = d.api("POST", V + "/images/load?quiet=1", tar[:cut],
                           headers={"Content-Type": "application/x-tar"})
        assert st != 200 or stream_error(out), (cut, out)
        assert images(d) == before
    check_clean(d)


def test_import_garbage(d):
    before = images(d)
    st, msg = err(d, "POST", V + "/images/create?fromSrc=-&repo=junk", b"garbage" * 100,
                  headers={"Content-Type": "application/x-tar"})
    assert 400 <= st < 600
    assert images(d) == before
    check_clean(d)
