"""The committed stubs are what generate.sh produces from ../../proto today."""

import os
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent
FILES = ["peerscope_pb2.py", "peerscope_pb2.pyi", "peerscope_pb2_grpc.py"]


def test_stubs_are_up_to_date(tmp_path):
    import grpc_tools  # noqa: F401  (from the [test] extra; generate.sh needs it)

    env = dict(os.environ, OUT=str(tmp_path), PYTHON=sys.executable)
    subprocess.run(["bash", str(PKG / "generate.sh")], env=env, check=True, capture_output=True, timeout=120)
    for name in FILES:
        fresh = (tmp_path / name).read_text()
        committed = (PKG / "src" / "peerscope_client" / "v1" / name).read_text()
        assert committed == fresh, f"{name} is stale: run clients/python/generate.sh"


def test_installed_package_uses_the_committed_stubs():
    from peerscope_client.v1 import peerscope_pb2, peerscope_pb2_grpc

    assert peerscope_pb2.DESCRIPTOR.package == "peerscope.v1"
    assert "Crawler" in peerscope_pb2.DESCRIPTOR.services_by_name
    assert hasattr(peerscope_pb2_grpc, "CrawlerStub")
