import time
from collections import Counter

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from conftest import NODES
from peerscope_client import pb


def read_events(stub, count, *, after_sequence=None, timeout=30.0, **filters):
    """Reads exactly `count` events from one StreamPeerEvents call, then hangs up."""
    req = pb.StreamPeerEventsRequest(**filters)
    if after_sequence is not None:
        req.after_sequence = after_sequence
    call = stub.StreamPeerEvents(req, timeout=timeout)
    events = []
    try:
        for resp in call:
            events.append(resp.event)
            if len(events) == count:
                break
    finally:
        call.cancel()
    assert len(events) == count, f"stream ended after {len(events)} of {count} events"
    return events


def replay_all(stub, after_sequence=0, seconds=3.0):
    """Every stored event after `after_sequence` (reads for `seconds`, then hangs up)."""
    events = []
    try:
        for resp in stub.StreamPeerEvents(
            pb.StreamPeerEventsRequest(after_sequence=after_sequence), timeout=seconds
        ):
            events.append(resp.event)
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e
    return events


def assert_consecutive(events, first):
    seqs = [e.sequence for e in events]
    assert seqs == list(range(first, first + len(events))), f"gap or duplicate in {seqs[:5]}..{seqs[-5:]}"


def test_oneshot_crawl_events_are_stored_in_order(stub, oneshot_crawl, testnet):
    events = [e for e in replay_all(stub) if e.crawl_id == oneshot_crawl.id]
    kinds = Counter(e.kind for e in events)
    # One DISCOVERED per node, with its record, and every dial connected.
    assert kinds[pb.PEER_EVENT_KIND_DISCOVERED] == NODES
    assert kinds[pb.PEER_EVENT_KIND_CONNECTED] == NODES
    assert kinds[pb.PEER_EVENT_KIND_IDENTIFIED] == NODES
    assert kinds[pb.PEER_EVENT_KIND_DIAL_FAILED] == 0
    discovered = {e.node_id: e for e in events if e.kind == pb.PEER_EVENT_KIND_DISCOVERED}
    assert set(discovered) == set(testnet.by_node_id)
    for node_id, ev in discovered.items():
        assert ev.enr == testnet.by_node_id[node_id]["enr"]
        assert ev.peer_id == testnet.by_node_id[node_id]["peer_id"]
    identified = [e for e in events if e.kind == pb.PEER_EVENT_KIND_IDENTIFIED]
    for ev in identified:
        assert ev.detail == testnet.by_node_id[ev.node_id]["agent"]
    seqs = [e.sequence for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_resume_after_disconnect_gets_exactly_the_missed_events(client, stub, oneshot_crawl, testnet):
    """Reader A follows a live CONTINUOUS crawl, hangs up, and while it is away the crawl
    keeps writing events; reader B resumes with after_sequence = A's last. A + B must be
    exactly the stored log: consecutive sequences, no gap, no duplicate."""
    stored = replay_all(stub)
    assert stored, "the ONESHOT crawl stored no events"
    assert_consecutive(stored, 1)
    base = stored[-1].sequence

    crawl = client.start_crawl(
        testnet.bootstrap_enrs,
        mode=pb.CRAWL_MODE_CONTINUOUS,
        recrawl_interval=Duration(seconds=1),
        min_redial_interval=Duration(seconds=1),
        name="pytest resume",
    )
    try:
        a = read_events(stub, 100, after_sequence=base)
        # Away long enough for the crawl's next rounds (32 nodes re-dialed every second).
        time.sleep(1.5)
        reconnect_at = time.time()
        b = read_events(stub, 400, after_sequence=a[-1].sequence)
    finally:
        stopped = client.stop_crawl(crawl.id)
    assert stopped.state == pb.CRAWL_STATE_STOPPED

    assert_consecutive(a, base + 1)
    assert b[0].sequence == a[-1].sequence + 1
    assert_consecutive(b, base + 1 + len(a))
    # B got both events written while nobody listened (replayed) and live ones.
    times = [e.time.ToNanoseconds() / 1e9 for e in b]
    assert min(times) < reconnect_at - 0.2, "no event was written while reader A was away"
    assert max(times) > reconnect_at + 0.2, "reader B saw no live event"
    # And they are the very events a single reader of the log sees.
    reference = read_events(stub, len(a) + len(b), after_sequence=base)
    assert a + b == reference
    assert any(e.crawl_id == crawl.id for e in a)
    assert {e.crawl_id for e in b} == {crawl.id}


def test_wrapper_follow_events_resumes(client, stub, oneshot_crawl):
    first = []
    gen = client.follow_events(0, duration=30)
    for ev in gen:
        first.append(ev)
        if len(first) == 50:
            break
    gen.close()
    rest = []
    for ev in client.follow_events(first[-1].sequence, duration=30):
        rest.append(ev)
        if len(rest) == 50:
            break
    assert_consecutive(first + rest, 1)
    assert first + rest == read_events(stub, 100, after_sequence=0)


def test_filtered_stream_only_has_matching_events(stub, oneshot_crawl, testnet):
    node = testnet.nodes[5]
    events = read_events(
        stub,
        1,
        after_sequence=0,
        crawl_id=oneshot_crawl.id,
        kinds=[pb.PEER_EVENT_KIND_DISCOVERED],
        node_id=node["node_id"],
    )
    assert events[0].node_id == node["node_id"]
    assert events[0].kind == pb.PEER_EVENT_KIND_DISCOVERED
    assert events[0].enr == node["enr"]


def test_resume_point_beyond_the_log_is_out_of_range(stub, oneshot_crawl):
    with pytest.raises(grpc.RpcError) as info:
        read_events(stub, 1, after_sequence=10**12, timeout=10)
    assert info.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "after_sequence" in info.value.details()
