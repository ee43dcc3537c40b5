"""Client.follow_events rides out a server restart: it reconnects to the new process with
after_sequence = the last event it yielded and misses nothing that was stored, while the
CONTINUOUS crawl resumes by itself on the new process."""

import threading
import time

from google.protobuf.duration_pb2 import Duration

from harness import Server, free_port
from peerscope_client import Client, pb


def continuous(client, testnet, name):
    return client.start_crawl(
        testnet.bootstrap_enrs,
        mode=pb.CRAWL_MODE_CONTINUOUS,
        recrawl_interval=Duration(seconds=1),
        min_redial_interval=Duration(seconds=1),
        name=name,
    )


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_follow_events_survives_a_server_restart(testnet, tmp_path):
    port = free_port()
    data = tmp_path / "data"
    servers = [Server(data, tmp_path / "server-1.log", port=port)]
    address = servers[0].address
    received = []
    failure = []
    stop = threading.Event()

    def consume():
        try:
            with Client(address) as follower:
                for ev in follower.follow_events(0, duration=60, max_reconnects=12, reconnect_delay=0.1):
                    received.append(ev)
                    if stop.is_set():
                        return
        except BaseException as e:  # reported by the main thread
            failure.append(e)

    consumer = threading.Thread(target=consume, daemon=True)
    try:
        with Client(address) as c:
            c.wait_until_ready(30)
            first = continuous(c, testnet, "before restart")
        consumer.start()
        wait_until(lambda: len(received) >= 150 or failure, 30, "events from the first server")

        assert servers[0].stop() == 0, servers[0].proc.log_tail()
        seen_at_stop = len(received)
        last_at_stop = received[-1].sequence
        time.sleep(0.5)  # the follower is now retrying against a closed port
        servers.append(Server(data, tmp_path / "server-2.log", port=port))
        with Client(address) as c:
            c.wait_until_ready(30)
            # The CONTINUOUS crawl resumed by itself (same id); the log carries on after
            # the events of the first process.
            wait_until(
                lambda: c.get_crawl(first.id).state == pb.CRAWL_STATE_RUNNING,
                30,
                "the crawl to resume",
            )
            wait_until(
                lambda: sum(e.sequence > last_at_stop for e in received) >= 100 or failure,
                30,
                "events of the resumed crawl on the second server",
            )
            # The follower checks `stop` at its next event; the crawl keeps producing them.
            stop.set()
            consumer.join(timeout=20)
            c.stop_crawl(first.id)
        assert not consumer.is_alive(), "follower did not stop"
        assert not failure, failure
        assert len(received) > seen_at_stop

        seqs = [e.sequence for e in received]
        assert seqs == list(range(1, len(seqs) + 1)), "gap or duplicate across the restart"
        assert {e.crawl_id for e in received} == {first.id}
        resumed = [e for e in received if e.kind == pb.PEER_EVENT_KIND_RESUMED]
        assert len(resumed) == 1 and resumed[0].sequence > last_at_stop, resumed
        # What the follower got is exactly the stored log.
        with Client(address) as c:
            log = []
            for ev in c.follow_events(0, duration=20):
                log.append(ev)
                if len(log) == len(received):
                    break
        assert log == received
    finally:
        stop.set()
        for s in servers:
            s.stop()
        if consumer.ident is not None:
            consumer.join(timeout=20)
