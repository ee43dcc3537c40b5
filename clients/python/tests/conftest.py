"""Fixtures: one 32-node testnet and one server for the session, both real processes on
127.0.0.1, plus the ONESHOT crawl of that testnet that most tests look at."""

from __future__ import annotations

import pytest

from harness import Server, Testnet
from peerscope_client import Client, pb

NODES = 32


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("peerscope")


@pytest.fixture(scope="session")
def testnet(workdir):
    net = Testnet(NODES, workdir)
    yield net
    net.stop()


@pytest.fixture(scope="session")
def server(workdir):
    srv = Server(workdir / "data", workdir / "server.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(server):
    with Client(server.address, timeout=15) as c:
        c.wait_until_ready(timeout=15)
        yield c


@pytest.fixture(scope="session")
def stub(client):
    return client.stub


@pytest.fixture(scope="session")
def oneshot_crawl(client, testnet):
    """A finished ONESHOT crawl of the testnet (started once for the whole session)."""
    started = client.start_crawl(testnet.bootstrap_enrs, name="pytest oneshot", labels={"suite": "python"})
    assert started.state == pb.CRAWL_STATE_RUNNING
    return client.wait_for_crawl(started.id, timeout=120)

