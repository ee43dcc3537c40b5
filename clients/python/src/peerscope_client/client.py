"""A small convenience layer over the generated ``peerscope.v1`` stubs.

Everything here is a few lines over :class:`~peerscope_client.v1.peerscope_pb2_grpc.CrawlerStub`;
for any RPC or option not wrapped, use ``Client.stub`` directly with the messages of
:mod:`peerscope_client.v1.peerscope_pb2`. Errors are the ``grpc.RpcError`` of the call
(``err.code()`` is a ``grpc.StatusCode``, ``err.details()`` the server's message, which names
the offending field for INVALID_ARGUMENT).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Iterable, Iterator, Optional

import grpc
from google.protobuf import duration_pb2

from .v1 import peerscope_pb2 as pb
from .v1 import peerscope_pb2_grpc as pb_grpc

__all__ = ["Client", "DEFAULT_ADDRESS", "FINAL_STATES", "normalize_address"]

log = logging.getLogger(__name__)

#: Where ``peerscope serve`` listens by default.
DEFAULT_ADDRESS = "127.0.0.1:50051"

#: Crawl states a crawl never leaves.
FINAL_STATES = frozenset(
    {
        pb.CRAWL_STATE_FINISHED,
        pb.CRAWL_STATE_STOPPED,
        pb.CRAWL_STATE_FAILED,
        pb.CRAWL_STATE_INTERRUPTED,
    }
)


def normalize_address(address: Optional[str]) -> str:
    """Turns ``None``/``http://host:port``/``host:port`` into the ``host:port`` grpcio wants.

    ``None`` means ``$PEERSCOPE_SERVER`` or :data:`DEFAULT_ADDRESS` (the same variable the
    ``peerscope`` CLI reads, which spells addresses as ``http://host:port``).
    """
    if address is None:
        address = os.environ.get("PEERSCOPE_SERVER") or DEFAULT_ADDRESS
    if address.startswith("https://"):
        raise ValueError("TLS: build a grpc.secure_channel yourself and pass it as channel=")
    if address.startswith("http://"):
        address = address[len("http://") :]
    return address.rstrip("/")


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


class Client:
    """A connection to a peerscope server.

    ``Client(address)`` opens an insecure channel (the server speaks plaintext gRPC);
    ``Client(channel=...)`` wraps a channel you built. ``timeout`` is the deadline, in
    seconds, of every unary call made through the helpers. Use it as a context manager, or
    call :meth:`close`.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        *,
        channel: Optional[grpc.Channel] = None,
        timeout: float = 10.0,
    ) -> None:
        self.address = normalize_address(address) if channel is None else address
        self._channel = channel if channel is not None else grpc.insecure_channel(self.address)
        #: The generated stub: every RPC of the API.
        self.stub = pb_grpc.CrawlerStub(self._channel)
        self.timeout = timeout

    @property
    def channel(self) -> grpc.Channel:
        return self._channel

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel connects; raises ``grpc.FutureTimeoutError`` after ``timeout``."""
        grpc.channel_ready_future(self._channel).result(timeout=timeout)

    # Crawls ---------------------------------------------------------------------------

    def start_crawl(
        self,
        bootstrap_enrs: Iterable[str],
        *,
        profile: Optional[pb.NetworkProfile] = None,
        mode: int = pb.CRAWL_MODE_ONESHOT,
        **fields: object,
    ) -> pb.Crawl:
        """Starts a crawl and returns it (state RUNNING).

        ``profile`` defaults to Waku cluster 1 (``NetworkProfile(waku=WakuProfile(cluster_id=1))``).
        Any other ``StartCrawlRequest`` field can be passed by name, e.g. ``name="nightly"``,
        ``dial=False``, ``limits=pb.CrawlLimits(max_peers=1000)``.
        """
        if profile is None:
            profile = pb.NetworkProfile(waku=pb.WakuProfile(cluster_id=1))
        req = pb.StartCrawlRequest(
            profile=profile, bootstrap_enrs=list(bootstrap_enrs), mode=mode, **fields
        )
        return self.stub.StartCrawl(req, timeout=self.timeout).crawl

    def get_crawl(self, crawl_id: str) -> pb.Crawl:
        return self.stub.GetCrawl(pb.GetCrawlRequest(crawl_id=crawl_id), timeout=self.timeout).crawl

    def stop_crawl(self, crawl_id: str) -> pb.Crawl:
        return self.stub.StopCrawl(pb.StopCrawlRequest(crawl_id=crawl_id), timeout=self.timeout).crawl

    def wait_for_crawl(
        self, crawl_id: str, *, timeout: float = 300.0, interval: float = 0.5
    ) -> pb.Crawl:
        """Waits until the crawl reaches a final state and returns that last snapshot.

        Uses ``WatchCrawl`` (one snapshot every ``interval`` seconds; the server ends the
        stream after the final one). Raises ``TimeoutError`` if the crawl is still running
        after ``timeout`` seconds; the crawl itself keeps running.
        """
        req = pb.WatchCrawlRequest(crawl_id=crawl_id, interval=_duration(interval))
        last: Optional[pb.Crawl] = None
        try:
            for snap in self.stub.WatchCrawl(req, timeout=timeout):
                last = snap.crawl
                if last.state in FINAL_STATES:
                    return last
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise TimeoutError(f"crawl {crawl_id} still running after {timeout}s") from e
            raise
        # The stream ended without a final snapshot (server shutting down): ask once more.
        crawl = self.get_crawl(crawl_id)
        if crawl.state in FINAL_STATES:
            return crawl
        raise RuntimeError(f"WatchCrawl of crawl {crawl_id} ended while it is still running")

    # Peers ----------------------------------------------------------------------------

    def list_all_peers(self, *, page_size: int = 100, **filters: object) -> Iterator[pb.Peer]:
        """Yields every peer that matches ``filters`` (``ListPeersRequest`` fields, e.g.
        ``capability="relay"``, ``crawl_id="1"``), in node-id order, one page at a time."""
        token = ""
        seen_tokens = set()
        while True:
            req = pb.ListPeersRequest(page_size=page_size, page_token=token, **filters)
            resp = self.stub.ListPeers(req, timeout=self.timeout)
            yield from resp.peers
            token = resp.next_page_token
            if not token:
                return
            if token in seen_tokens:
                raise RuntimeError(f"ListPeers returned page token {token!r} twice")
            seen_tokens.add(token)

    # Events ---------------------------------------------------------------------------

    def follow_events(
        self,
        after_sequence: Optional[int] = None,
        *,
        duration: Optional[float] = None,
        max_reconnects: int = 5,
        reconnect_delay: float = 1.0,
        **filters: object,
    ) -> Iterator[pb.PeerEvent]:
        """Yields peer events, reconnecting with ``after_sequence`` = the last one seen.

        ``after_sequence=None`` starts with live events only; ``0`` replays the whole stored
        log first. When the stream breaks (``UNAVAILABLE``, or the server ended it), the
        generator reconnects asking for the events after the last one it yielded, so the
        caller sees no gap and no duplicate; it gives up with ``ConnectionError`` after
        ``max_reconnects`` failed attempts in a row (delay doubling from
        ``reconnect_delay``). ``duration`` bounds the whole generator in seconds (``None``:
        no bound). ``filters`` are ``StreamPeerEventsRequest`` fields (``crawl_id``,
        ``kinds``, ``node_id``, ``peer_id``).

        Note: before the first event is seen, a reconnect from ``after_sequence=None`` is
        live-only again; pass a number to be gap-free from the start. A resume point beyond
        the server's last sequence (e.g. its data dir was wiped) fails with OUT_OF_RANGE.
        """
        last = after_sequence
        deadline = None if duration is None else time.monotonic() + duration
        failures = 0
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            req = pb.StreamPeerEventsRequest(**filters)
            if last is not None:
                req.after_sequence = last
            call = self.stub.StreamPeerEvents(req, timeout=remaining)
            try:
                for resp in call:
                    last = resp.event.sequence
                    failures = 0
                    yield resp.event
                reason = "the server ended the stream"
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and deadline is not None:
                    return
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                reason = f"UNAVAILABLE: {e.details()}"
            finally:
                call.cancel()
            failures += 1
            if failures > max_reconnects:
                raise ConnectionError(
                    f"event stream lost {failures} times in a row, last after sequence {last}: {reason}"
                )
            delay = reconnect_delay * 2 ** (failures - 1)
            if deadline is not None:
                delay = min(delay, max(0.0, deadline - time.monotonic()))
            log.info("event stream lost (%s); resuming after sequence %s in %.1fs", reason, last, delay)
            time.sleep(delay)
