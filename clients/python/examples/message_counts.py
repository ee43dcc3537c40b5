#!/usr/bin/env python3
"""Print relay message counts per pubsub and content topic.

    python message_counts.py --server 127.0.0.1:50051 [--pubsub-topic T] [--content-topic-prefix P]

A server without relay counts answers UNIMPLEMENTED: this prints the server's
explanation and exits with status 2 (other errors: 1).
"""

import argparse
import sys

import grpc

from peerscope_client import Client, pb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="host:port (default $PEERSCOPE_SERVER or 127.0.0.1:50051)")
    ap.add_argument("--pubsub-topic", default="")
    ap.add_argument("--content-topic-prefix", default="")
    args = ap.parse_args()

    req = pb.GetMessageCountsRequest(
        pubsub_topic=args.pubsub_topic, content_topic_prefix=args.content_topic_prefix
    )
    with Client(args.server) as client:
        try:
            resp = client.stub.GetMessageCounts(req, timeout=client.timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                print(f"message counts are not available from this server: {e.details()}", file=sys.stderr)
                return 2
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    for c in resp.counts:
        print(f"{c.pubsub_topic} {c.content_topic} messages={c.messages} bytes={c.bytes}")
    print(f"{len(resp.counts)} topics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
