"""Bad input is refused with the documented status code and a message naming the field."""

import grpc
import pytest

from peerscope_client import pb


def tamper(enr: str) -> str:
    """The same record with one character of its signature changed: still valid base64,
    but the signature no longer verifies."""
    i = len("enr:") + 10
    return enr[:i] + ("A" if enr[i] != "A" else "B") + enr[i + 1 :]


def call_error(fn):
    with pytest.raises(grpc.RpcError) as info:
        fn()
    return info.value


def waku():
    return pb.NetworkProfile(waku=pb.WakuProfile(cluster_id=1))


CASES = {
    "malformed ENR": (
        lambda s, t: s.StartCrawl(pb.StartCrawlRequest(profile=waku(), bootstrap_enrs=["enr:not-a-record"]), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "bootstrap_enrs[0]",
    ),
    "ENR with a bad signature, second in the list": (
        lambda s, t: s.StartCrawl(
            pb.StartCrawlRequest(profile=waku(), bootstrap_enrs=[t.bootstrap_enrs[0], tamper(t.bootstrap_enrs[0])]),
            timeout=10,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "bootstrap_enrs[1]",
    ),
    "no bootstrap ENR": (
        lambda s, t: s.StartCrawl(pb.StartCrawlRequest(profile=waku()), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "bootstrap_enrs",
    ),
    "no profile": (
        lambda s, t: s.StartCrawl(pb.StartCrawlRequest(bootstrap_enrs=t.bootstrap_enrs), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "profile",
    ),
    "concurrency out of range": (
        lambda s, t: s.StartCrawl(
            pb.StartCrawlRequest(profile=waku(), bootstrap_enrs=t.bootstrap_enrs, concurrency=0), timeout=10
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "concurrency",
    ),
    "malformed DNS tree URL": (
        lambda s, t: s.StartCrawl(
            pb.StartCrawlRequest(
                profile=waku(), bootstrap_enrs=t.bootstrap_enrs, dns_tree_urls=["enrtree://not-a-key@nodes.peerscope.test"]
            ),
            timeout=10,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "dns_tree_urls[0]",
    ),
    "crawl id not a number": (
        lambda s, t: s.GetCrawl(pb.GetCrawlRequest(crawl_id="abc"), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "crawl_id",
    ),
    "unknown crawl": (
        lambda s, t: s.GetCrawl(pb.GetCrawlRequest(crawl_id="987654"), timeout=10),
        grpc.StatusCode.NOT_FOUND,
        "987654",
    ),
    "unknown capability": (
        lambda s, t: s.ListPeers(pb.ListPeersRequest(capability="gossip"), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "capability",
    ),
    "forged page token": (
        lambda s, t: s.ListPeers(pb.ListPeersRequest(page_token="not-a-token"), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token",
    ),
    "malformed node id": (
        lambda s, t: s.GetPeer(pb.GetPeerRequest(node_id="xyz"), timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
        "node_id",
    ),
    "unknown node id": (
        lambda s, t: s.GetPeer(pb.GetPeerRequest(node_id="00" * 32), timeout=10),
        grpc.StatusCode.NOT_FOUND,
        "00" * 32,
    ),
    "watch interval too short": (
        lambda s, t: list(
            s.WatchCrawl(pb.WatchCrawlRequest(crawl_id="1", interval={"nanos": 1000}), timeout=10)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "interval",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_request_is_refused(stub, testnet, case):
    fn, code, needle = CASES[case]
    err = call_error(lambda: fn(stub, testnet))
    assert err.code() == code, err.details()
    assert needle in err.details()


def test_refused_crawls_leave_no_trace(stub, testnet):
    before = stub.ListCrawls(pb.ListCrawlsRequest(page_size=1000), timeout=10).crawls
    call_error(lambda: CASES["malformed ENR"][0](stub, testnet))
    after = stub.ListCrawls(pb.ListCrawlsRequest(page_size=1000), timeout=10).crawls
    assert [c.id for c in after] == [c.id for c in before]


def test_message_counts_answer(stub):
    """No crawl of this session runs a relay monitor: the answer is empty, with the cap."""
    resp = stub.GetMessageCounts(pb.GetMessageCountsRequest(), timeout=10)
    assert sum(c.messages for c in resp.counts) == 0
    assert resp.max_content_topics >= 1
