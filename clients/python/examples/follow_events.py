#!/usr/bin/env python3
"""Follow peer events, resuming where the previous run (or connection) stopped.

    python follow_events.py --server 127.0.0.1:50051 --state-file last-seq.txt [--max-events 100]

Each event prints as `SEQUENCE KIND NODE_ID DETAIL`. With --state-file, the sequence of the
last event printed is saved there, and the next run starts right after it (no gap, no
duplicate); without a state file, --after N starts after sequence N (0 = the whole log),
and the default is live events only. Within one run, a lost connection is resumed the same
way by Client.follow_events. --max-events and --duration bound the run.
"""

import argparse
import os
import sys
from pathlib import Path

import grpc

from peerscope_client import Client, pb


def save(path: Path, sequence: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{sequence}\n")
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", help="host:port (default $PEERSCOPE_SERVER or 127.0.0.1:50051)")
    ap.add_argument("--after", type=int, help="start after this sequence (0: replay everything)")
    ap.add_argument("--state-file", type=Path, help="file holding the last sequence seen")
    ap.add_argument("--max-events", type=int, help="stop after this many events")
    ap.add_argument("--duration", type=float, help="stop after this many seconds")
    ap.add_argument("--crawl-id", default="", help="only this crawl's events")
    ap.add_argument(
        "--kind", action="append", default=[], help="only this kind, e.g. DISCOVERED (repeatable)"
    )
    args = ap.parse_args()

    after = args.after
    if args.state_file and args.state_file.exists():
        after = int(args.state_file.read_text().strip())
    kinds = [pb.PeerEventKind.Value("PEER_EVENT_KIND_" + k.upper()) for k in args.kind]

    seen = 0
    with Client(args.server) as client:
        try:
            for ev in client.follow_events(after, duration=args.duration, crawl_id=args.crawl_id, kinds=kinds):
                kind = pb.PeerEventKind.Name(ev.kind).removeprefix("PEER_EVENT_KIND_")
                detail = ev.error_class + (": " if ev.error_class else "") + ev.detail
                print(f"{ev.sequence} {kind} {ev.node_id} {detail}".rstrip(), flush=True)
                if args.state_file:
                    save(args.state_file, ev.sequence)
                seen += 1
                if args.max_events is not None and seen >= args.max_events:
                    break
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
        except ConnectionError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            pass
    print(f"{seen} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
