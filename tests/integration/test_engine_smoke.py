"""berthd smoke tests: the docker CLI and berth run containers from a local image."""


def test_docker_run_rm_echo(berthd):
    p = berthd.docker("run", "--rm", "busybox", "echo", "hi")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hi\n"


def test_berth_run_rm_echo(berthd):
    p = berthd.berth("run", "--rm", "busybox", "echo", "hi")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hi\n"


def test_exit_codes(berthd):
    assert berthd.docker("run", "--rm", "busybox", "sh", "-c", "exit 3").returncode == 3
    p = berthd.docker("run", "--rm", "busybox", "nosuchcmd")
    assert p.returncode == 127
    assert "executable file not found" in p.stderr
    p = berthd.berth("run", "--rm", "busybox", "nosuchcmd")
    assert p.returncode == 127
    assert berthd.docker("ps", "-aq").stdout == ""


def test_run_init(berthd):
    """--init: berth-init is PID 1, the command its child; the exit status passes through."""
    p = berthd.docker("run", "--rm", "--init", "busybox", "sh", "-c",
                      "cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 3")
    assert p.returncode == 3, p.stderr
    assert p.stdout.startswith("/sbin/docker-init -- sh -c")


def test_heavy_libraries_load_on_first_use(tmp_path_factory, busybox_rootfs):
    """berthd maps libcurl, libarchive and zlib only once it needs them (src/lazy), closes
    libarchive and zlib again when no request is in flight, and maps libcrypto not for image
    work or containers: digests are nettle's, linked statically (only TLS needs libcrypto)."""
    import shutil
    import socket
    import tempfile
    import threading
    import engine
    from helpers import wait_for
    tmp = tempfile.mkdtemp(prefix="bl-", dir="/tmp")
    d = engine.Berthd(tmp)

    def mapped():
        with open(f"/proc/{d.proc.pid}/maps") as f:
            return {l.split("/")[-1].split(".so")[0] for l in f if ".so" in l}
    closed = {"libarchive", "libxml2", "libicuuc", "libz", "liblzma", "libzstd", "libnettle"}

    def all_closed():
        # the reply is out before the request ends and the libraries close: wait a little
        wait_for(lambda: not mapped() & closed, timeout=5, what="libarchive closed")
    try:
        d.start()
        st, _, _ = d.api("GET", "/v1.50/containers/json")
        assert st == 200
        assert not mapped() & {"libcurl", "libarchive", "libcrypto", "libssl", "libz",
                               "libnettle"}
        # a stream that stays open does not keep the libraries loaded
        events = socket.socket(socket.AF_UNIX)
        events.connect(str(d.sock))
        events.sendall(b"GET /v1.50/events HTTP/1.1\r\nHost: x\r\n\r\n")
        d.import_busybox()
        all_closed()
        assert not mapped() & {"libcurl", "libcrypto", "libssl"}
        out = d.docker("run", "--rm", "busybox", "echo", "still works", check=True).stdout
        assert out == "still works\n"
        # loaded again on the next use, closed again after it
        st, _, saved = d.api("GET", "/v1.50/images/busybox/get")
        assert st == 200 and len(saved) > 100000
        all_closed()
        # a load in flight keeps libarchive while other image requests come and go; it
        # finishes with the library it started with
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(60)
        s.connect(str(d.sock))
        s.sendall(b"POST /v1.50/images/load?quiet=1 HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n")
        half = len(saved) // 2
        s.sendall(b"%x\r\n%s\r\n" % (half, saved[:half]))
        engine_ok = threading.Event()

        def other():
            for _ in range(3):
                st, _, _ = d.api("GET", "/v1.50/images/json")
                assert st == 200
            engine_ok.set()
        t = threading.Thread(target=other)
        t.start()
        t.join(30)
        assert engine_ok.is_set()
        assert "libarchive" in mapped(), "closed under a load in flight"
        s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(saved) - half, saved[half:]))
        reply = b""
        while b"\r\n0\r\n\r\n" not in reply:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
        s.close()
        assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
        assert b"Loaded image" in reply, reply
        assert b"errorDetail" not in reply, reply
        all_closed()
        out = d.docker("run", "--rm", "busybox", "echo", "again", check=True).stdout
        assert out == "again\n"
        events.close()
    finally:
        problems = d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        assert not problems, problems
