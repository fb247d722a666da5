"""Fixtures for berth's runtime integration tests. Run as root with Debian's pytest:

    /usr/bin/python3 -m pytest -q tests/integration

Fixtures:
  busybox_rootfs  (session) path of the cached busybox rootfs (tests/images/build-busybox.sh)
  make_bundle     factory: make_bundle(args=None, name="bundle") -> helpers.Bundle
  bundle          one fresh bundle (args from the template: ["sh"])
  runtime         helpers.Runtime for build/bin/berth-runtime (env BERTH_RUNTIME overrides)
                  with a private --root in the test's tmp folder
  rt              runtime.rt: rt(*args, input=None, timeout=30) -> CompletedProcess

After each test that used them: every container the runtime still knows is deleted with
--force, leftover processes (root or cwd in the test's folders) are killed, and the test
errors if processes or mounts under its tmp folder were left behind.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import helpers  # noqa: E402


# Parent cgroups the runtime tests (cgroupsPath /berth-test/...) and the engine tests (berthd's
# "berth") make and, as runc, never remove: the session removes those it made, once empty.
_CG_PARENTS = ("berth-test", "berth")


def _cg_parent_dirs():
    root = Path("/sys/fs/cgroup")
    if not root.is_dir():
        return set()
    return {d / name for d in [root] + [x for x in root.iterdir() if x.is_dir()]
            for name in _CG_PARENTS if (d / name).is_dir()}


@pytest.fixture(scope="session", autouse=True)
def _cgroup_parents_cleanup():
    before = _cg_parent_dirs()
    yield
    for d in sorted(_cg_parent_dirs() - before, key=lambda p: len(str(p)), reverse=True):
        try:
            d.rmdir()  # only when empty: a cgroup with children or tasks stays
        except OSError:
            pass


def _runtime_path():
    return Path(os.environ.get("BERTH_RUNTIME") or helpers.REPO / "build" / "bin" / "berth-runtime")


@pytest.fixture(scope="session")
def busybox_rootfs():
    if os.geteuid() != 0:
        pytest.skip("runtime tests need root")
    return helpers.build_busybox()


class _Tracker:
    """What one test made, so teardown can check and clean it."""

    def __init__(self, tmpdir):
        self.tmpdir = Path(tmpdir)
        self.runtimes = []
        self.rootfs_dirs = []


@pytest.fixture
def _berth_tracker(tmp_path):
    tracker = _Tracker(tmp_path)
    yield tracker
    problems = helpers.cleanup(tracker.tmpdir, tracker.runtimes, tracker.rootfs_dirs)
    if problems:
        pytest.fail("test left things behind: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def make_bundle(busybox_rootfs, tmp_path, _berth_tracker):
    counter = [0]

    def make(args=None, name=None):
        counter[0] += 1
        b = helpers.Bundle(tmp_path / (name or f"bundle{counter[0]}"), busybox_rootfs, args)
        _berth_tracker.rootfs_dirs.append(b.rootfs)
        return b

    return make


@pytest.fixture
def bundle(make_bundle):
    return make_bundle(name="bundle")


@pytest.fixture
def runtime(tmp_path, _berth_tracker):
    path = _runtime_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"no runtime binary at {path} (run make, or set BERTH_RUNTIME)", pytrace=False)
    r = helpers.Runtime(path, tmp_path / "rt-root")
    _berth_tracker.runtimes.append(r)
    return r


@pytest.fixture
def rt(runtime):
    return runtime.rt


# ---- berthd ------------------------------------------------------------------

@pytest.fixture
def berthd(tmp_path_factory, busybox_rootfs):
    """A private berthd with the busybox image; torn down (and checked) after the test.
    The folder is short: shim sockets live under it (sun_path holds 108 bytes)."""
    import engine
    import tempfile
    tmp = tempfile.mkdtemp(prefix="bd-", dir="/tmp")
    d = engine.Berthd(tmp)
    try:
        d.start()
        d.import_busybox()
        yield d
    finally:
        problems = d.cleanup()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
        if problems:
            pytest.fail("berthd test left things behind: " + "; ".join(problems), pytrace=False)
