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
