"""berthd on TCP only with TLS (dockerd's --tlsverify): the docker CLI runs containers over
it, clients without a certificate from the CA are refused, TCP without TLS is refused."""
import shutil
import socket
import subprocess
import tempfile

import pytest

import engine


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _certs(d):
    def run(*a):
        subprocess.run(a, check=True, capture_output=True, cwd=d, timeout=60)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=berth-test-ca")
    for name, subj, ext in (("server", "/CN=127.0.0.1",
                             "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                            ("client", "/CN=client", "extendedKeyUsage=clientAuth\n")):
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", subj)
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(ext)
        run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")


@pytest.fixture
def tls_berthd(busybox_rootfs):
    tmp = tempfile.mkdtemp(prefix="bdt-", dir="/tmp")
    _certs(tmp)
    port = _free_port()
    d = engine.Berthd(tmp, extra_args=[
        "-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", f"{tmp}/ca.pem",
        "--tlscert", f"{tmp}/server.pem", "--tlskey", f"{tmp}/server.key"])
    d.tcp = f"tcp://127.0.0.1:{port}"
    d.tls_args = ["--tlsverify", "--tlscacert", f"{tmp}/ca.pem", "--tlscert",
                  f"{tmp}/client.pem", "--tlskey", f"{tmp}/client.key", "-H", d.tcp]
    try:
        d.start()
        d.import_busybox()
        yield d
    finally:
        problems = d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        assert not problems, problems


def test_docker_over_tls(tls_berthd):
    d = tls_berthd
    p = d.docker(*d.tls_args, "run", "--rm", "busybox", "echo", "over-tls")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "over-tls\n"
    # a hijacked stream with stdin over TLS
    p = d.docker(*d.tls_args, "run", "-i", "--rm", "busybox", "cat", input="piped\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "piped\n"


def test_client_without_certificate_refused(tls_berthd):
    d = tls_berthd
    host = d.tcp.replace("tcp://", "")
    p = subprocess.run(["curl", "-sk", f"https://{host}/_ping"], capture_output=True, timeout=30)
    assert p.returncode != 0 and p.stdout != b"OK"
    p = subprocess.run(["curl", "-s", f"http://{host}/_ping"], capture_output=True, timeout=30)
    assert p.returncode != 0 and p.stdout != b"OK"


def test_tcp_without_tls_refused(tmp_path):
    p = subprocess.run([str(engine.BUILD / "berthd"), "--data-root", str(tmp_path / "d"),
                        "--exec-root", str(tmp_path / "r"), "-H",
                        f"tcp://127.0.0.1:{_free_port()}"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0
    assert "without TLS" in p.stderr
