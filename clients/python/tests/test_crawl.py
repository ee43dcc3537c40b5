from collections import Counter

from conftest import NODES
from peerscope_client import pb


def test_oneshot_crawl_discovers_every_node(oneshot_crawl):
    crawl = oneshot_crawl
    assert crawl.state == pb.CRAWL_STATE_FINISHED, crawl
    assert crawl.mode == pb.CRAWL_MODE_ONESHOT
    assert crawl.progress.discovered == NODES
    assert crawl.progress.queried == NODES
    # Every testnet node is up: every dial connects and identify answers.
    assert crawl.progress.connected == NODES
    assert crawl.progress.identified == NODES
    assert crawl.error == ""
    assert crawl.HasField("finished_at")
    assert crawl.finished_at.ToNanoseconds() >= crawl.created_at.ToNanoseconds()


def test_crawl_keeps_request_fields_and_defaults(oneshot_crawl, testnet):
    crawl = oneshot_crawl
    assert crawl.name == "pytest oneshot"
    assert dict(crawl.labels) == {"suite": "python"}
    assert crawl.profile.WhichOneof("profile") == "waku"
    assert crawl.profile.waku.cluster_id == 1
    assert list(crawl.bootstrap_enrs) == testnet.bootstrap_enrs
    # Defaults documented in the proto.
    assert crawl.settings.concurrency == 64
    assert crawl.settings.find_node_distances == 17
    assert crawl.settings.request_timeout.ToMilliseconds() == 1000
    assert crawl.settings.dial is True
    assert crawl.listen_addr.startswith("127.0.0.1:")


def test_get_and_list_crawls_agree(client, stub, oneshot_crawl):
    got = client.get_crawl(oneshot_crawl.id)
    assert got.id == oneshot_crawl.id
    assert got.state == pb.CRAWL_STATE_FINISHED
    assert got.progress.discovered == NODES
    listed = stub.ListCrawls(pb.ListCrawlsRequest(state=pb.CRAWL_STATE_FINISHED), timeout=10).crawls
    assert oneshot_crawl.id in [c.id for c in listed]


def test_network_stats_match_testnet(stub, oneshot_crawl, testnet):
    stats = stub.GetNetworkStats(pb.GetNetworkStatsRequest(crawl_id=oneshot_crawl.id), timeout=10)
    assert stats.peers == NODES
    assert stats.reachable == NODES
    assert stats.unreachable == 0
    want_caps = Counter(cap for n in testnet.nodes for cap in n["capabilities"])
    assert dict(stats.by_capability) == dict(want_caps)
    want_clusters = Counter(n["cluster_id"] for n in testnet.nodes if n["cluster_id"] is not None)
    assert dict(stats.by_cluster) == dict(want_clusters)
    want_agents = Counter(n["agent"] for n in testnet.nodes)
    assert dict(stats.by_agent) == dict(want_agents)
