"""Smoke tests: berth-runtime runs a busybox bundle and passes on the exit status."""


def test_run_echo(bundle, rt):
    bundle.set_args("echo", "hello").write()
    p = rt("run", "--bundle", bundle.path, "smoke-echo")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello\n"


def test_run_exit_code(bundle, rt):
    bundle.set_args("sh", "-c", "exit 3").write()
    p = rt("run", "--bundle", bundle.path, "smoke-exit")
    assert p.returncode == 3, p.stderr
