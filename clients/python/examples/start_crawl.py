#!/usr/bin/env python3
"""Start a ONESHOT crawl and watch it until it ends.

    python start_crawl.py --server 127.0.0.1:50051 --enr enr:-KG4Q... [--enr ...] [--cluster-id 1]

Prints one progress line per WatchCrawl snapshot, then a summary line:
    crawl 3 FINISHED: discovered 32, queried 32, connected 32, identified 32
Exit status: 0 when the crawl FINISHED, 1 otherwise (or on a gRPC error).
"""

import argparse
import sys

import grpc
from google.protobuf.duration_pb2 import Duration

from peerscope_client import Client, pb
from peerscope_client.client import FINAL_STATES


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="host:port (default $PEERSCOPE_SERVER or 127.0.0.1:50051)")
    ap.add_argument("--enr", action="append", required=True, help="bootstrap ENR (repeatable)")
    ap.add_argument("--cluster-id", type=int, default=1, help="Waku cluster id (default 1)")
    ap.add_argument("--name", default="", help="a name shown in listings")
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for the crawl (default 300)")
    args = ap.parse_args()

    with Client(args.server) as client:
        try:
            crawl = client.start_crawl(
                args.enr,
                profile=pb.NetworkProfile(waku=pb.WakuProfile(cluster_id=args.cluster_id)),
                name=args.name,
            )
            print(f"started crawl {crawl.id} on {crawl.listen_addr}", flush=True)
            # WatchCrawl sends a snapshot every `interval` and ends after the final one.
            req = pb.WatchCrawlRequest(crawl_id=crawl.id, interval=Duration(nanos=250_000_000))
            for snap in client.stub.WatchCrawl(req, timeout=args.timeout):
                crawl = snap.crawl
                p = crawl.progress
                print(
                    f"  {pb.CrawlState.Name(crawl.state)}: discovered {p.discovered}, queried {p.queried}, "
                    f"queued {p.queued}, connected {p.connected}",
                    flush=True,
                )
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1

    if crawl.state not in FINAL_STATES:
        print(f"crawl {crawl.id} still running after {args.timeout}s", file=sys.stderr)
        return 1
    p = crawl.progress
    state = pb.CrawlState.Name(crawl.state).removeprefix("CRAWL_STATE_")
    print(
        f"crawl {crawl.id} {state}: discovered {p.discovered}, queried {p.queried}, "
        f"connected {p.connected}, identified {p.identified}"
        + (f" ({crawl.error})" if crawl.error else "")
    )
    return 0 if crawl.state == pb.CRAWL_STATE_FINISHED else 1


if __name__ == "__main__":
    sys.exit(main())
