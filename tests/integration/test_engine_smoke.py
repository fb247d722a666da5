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
    """berthd maps libcurl, libarchive and zlib only once it needs them (src/lazy), and
    libcrypto not for image work or containers: digests are nettle's, linked statically (only
    TLS needs libcrypto)."""
    import shutil
    import tempfile
    import engine
    tmp = tempfile.mkdtemp(prefix="bl-", dir="/tmp")
    d = engine.Berthd(tmp)

    def mapped():
        with open(f"/proc/{d.proc.pid}/maps") as f:
            return {l.split("/")[-1].split(".so")[0] for l in f if ".so" in l}
    try:
        d.start()
        st, _, _ = d.api("GET", "/v1.50/containers/json")
        assert st == 200
        assert not mapped() & {"libcurl", "libarchive", "libcrypto", "libssl", "libz",
                               "libnettle"}
        d.import_busybox()
        assert "libarchive" in mapped()
        assert not mapped() & {"libcurl", "libcrypto", "libssl"}
        out = d.docker("run", "--rm", "busybox", "echo", "still works", check=True).stdout
        assert out == "still works\n"
        assert not mapped() & {"libcurl", "libcrypto", "libssl"}
    finally:
        problems = d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        assert not problems, problems
