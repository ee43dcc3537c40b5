#!/usr/bin/env python3
"""List stored peers, page by page, with optional filters.

    python list_peers.py --server 127.0.0.1:50051 [--capability relay] [--cluster-id 1] [--crawl-id 1]

Prints `NODE_ID PEER_ID cluster=C shards=S caps=A,B agent=X` per peer, in node-id order,
then `N peers`.
"""

import argparse
import sys

import grpc

from peerscope_client import Client


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="host:port (default $PEERSCOPE_SERVER or 127.0.0.1:50051)")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--capability", default="", help="relay, store, filter, lightpush, sync or mix")
    ap.add_argument("--cluster-id", type=int, help="only peers whose ENR names this cluster")
    ap.add_argument("--crawl-id", default="", help="only peers seen by this crawl")
    args = ap.parse_args()

    filters = {"capability": args.capability, "crawl_id": args.crawl_id}
    if args.cluster_id is not None:
        filters["cluster_id"] = args.cluster_id  # an `optional` field: unset means no filter

    count = 0
    with Client(args.server) as client:
        try:
            for p in client.list_all_peers(page_size=args.page_size, **filters):
                cluster = p.cluster_id if p.HasField("cluster_id") else "-"
                shards = ",".join(map(str, p.shards)) or "-"
                caps = ",".join(p.capabilities) or "-"
                print(f"{p.node_id} {p.peer_id or '-'} cluster={cluster} shards={shards} caps={caps} agent={p.agent_version or '-'}")
                count += 1
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    print(f"{count} peers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
