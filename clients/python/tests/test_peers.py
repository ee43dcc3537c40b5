import math

import pytest

from conftest import NODES
from peerscope_client import pb


def page_through(stub, page_size, **filters):
    """All pages of ListPeers, as a list of lists of peers (bounded page count)."""
    pages, token = [], ""
    for _ in range(NODES + 2):
        resp = stub.ListPeers(pb.ListPeersRequest(page_size=page_size, page_token=token, **filters), timeout=10)
        pages.append(list(resp.peers))
        token = resp.next_page_token
        if not token:
            return pages
    pytest.fail(f"ListPeers still had a next page after {NODES + 2} pages")


def assert_matches_testnet(peer, node):
    assert peer.peer_id == node["peer_id"]
    assert peer.enr == node["enr"]
    assert sorted(peer.capabilities) == sorted(node["capabilities"])
    if node["cluster_id"] is None:
        assert not peer.HasField("cluster_id")
    else:
        assert peer.HasField("cluster_id")
        assert peer.cluster_id == node["cluster_id"]
    assert sorted(peer.shards) == sorted(node["shards"])
    if node["waku2"] is not None:
        assert peer.enr_fields.waku2 == node["waku2"]
    assert peer.enr_fields.ip4 == "127.0.0.1"
    assert f"127.0.0.1:{peer.enr_fields.udp4}" == node["udp"]
    assert peer.enr_fields.tcp4 == node["tcp"]
    # identify answered by the testnet node.
    assert peer.agent_version == node["agent"]
    assert sorted(peer.protocols) == sorted(node["protocols"])
    assert peer.reachable is True


@pytest.mark.parametrize("page_size", [5, 7, 32, 1000])
def test_paging_returns_every_node_exactly_once(stub, oneshot_crawl, testnet, page_size):
    pages = page_through(stub, page_size, crawl_id=oneshot_crawl.id)
    assert len(pages) == math.ceil(NODES / page_size)
    assert all(len(p) == page_size for p in pages[:-1])
    ids = [peer.node_id for page in pages for peer in page]
    assert len(ids) == NODES
    assert len(set(ids)) == NODES, "a node id came back twice"
    assert set(ids) == set(testnet.by_node_id)
    assert ids == sorted(ids), "peers are not in node-id order"
    for page in pages:
        for peer in page:
            assert_matches_testnet(peer, testnet.by_node_id[peer.node_id])
            assert oneshot_crawl.id in peer.crawl_ids


def test_wrapper_pages_like_the_stub(client, oneshot_crawl, testnet):
    peers = list(client.list_all_peers(page_size=3, crawl_id=oneshot_crawl.id))
    assert [p.node_id for p in peers] == sorted(testnet.by_node_id)


@pytest.mark.parametrize("capability", ["relay", "store", "filter", "lightpush", "sync", "mix"])
def test_capability_filter_is_exact(stub, oneshot_crawl, testnet, capability):
    want = {n["node_id"] for n in testnet.nodes if capability in n["capabilities"]}
    pages = page_through(stub, 4, crawl_id=oneshot_crawl.id, capability=capability)
    got = [p.node_id for page in pages for p in page]
    assert len(got) == len(set(got))
    assert set(got) == want


def test_cluster_filter_is_exact(stub, oneshot_crawl, testnet):
    clusters = {n["cluster_id"] for n in testnet.nodes if n["cluster_id"] is not None}
    assert clusters, "testnet has no cluster ids"
    total = 0
    for cluster in clusters:
        want = {n["node_id"] for n in testnet.nodes if n["cluster_id"] == cluster}
        pages = page_through(stub, 5, crawl_id=oneshot_crawl.id, cluster_id=cluster)
        got = [p.node_id for page in pages for p in page]
        assert sorted(got) == sorted(want)
        total += len(got)
    assert total == sum(1 for n in testnet.nodes if n["cluster_id"] is not None)


def test_get_peer_by_node_id_and_peer_id(stub, oneshot_crawl, testnet):
    node = testnet.nodes[3]
    by_node = stub.GetPeer(pb.GetPeerRequest(node_id=node["node_id"]), timeout=10).peer
    by_peer = stub.GetPeer(pb.GetPeerRequest(peer_id=node["peer_id"]), timeout=10).peer
    # A `0x` prefix is accepted on input.
    by_0x = stub.GetPeer(pb.GetPeerRequest(node_id="0x" + node["node_id"]), timeout=10).peer
    assert by_node.node_id == by_peer.node_id == by_0x.node_id == node["node_id"]
    assert_matches_testnet(by_peer, node)
