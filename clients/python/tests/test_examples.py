"""The scripts in examples/ run against the live server and print what they promise."""

import subprocess
import sys
from pathlib import Path

import grpc

from conftest import NODES
from peerscope_client import pb

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script, *args, timeout=120):
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_start_crawl_example(server, testnet):
    enrs = [a for enr in testnet.bootstrap_enrs for a in ("--enr", enr)]
    out = run("start_crawl.py", "--server", server.address, *enrs, "--name", "example", "--timeout", "120")
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert " FINISHED: discovered 32," in last, out.stdout
    assert f"connected {NODES}," in last


def test_list_peers_example(server, testnet, oneshot_crawl):
    out = run("list_peers.py", "--server", server.address, "--page-size", "6", "--crawl-id", oneshot_crawl.id)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == f"{NODES} peers"
    ids = [l.split()[0] for l in lines[:-1]]
    assert ids == sorted(testnet.by_node_id)
    relay = run("list_peers.py", "--server", server.address, "--capability", "relay", "--crawl-id", oneshot_crawl.id)
    want = sum(1 for n in testnet.nodes if "relay" in n["capabilities"])
    assert relay.stdout.strip().splitlines()[-1] == f"{want} peers"


def test_follow_events_example_resumes_from_its_state_file(server, oneshot_crawl, tmp_path):
    state = tmp_path / "last-seq.txt"
    common = ["--server", server.address, "--state-file", str(state), "--after", "0", "--duration", "30"]
    first = run("follow_events.py", *common, "--max-events", "40")
    assert first.returncode == 0, first.stderr
    assert state.read_text().strip() == "40"
    second = run("follow_events.py", *common, "--max-events", "25")
    assert second.returncode == 0, second.stderr
    seqs = [int(l.split()[0]) for l in (first.stdout + second.stdout).splitlines()]
    assert seqs == list(range(1, 66))
    assert state.read_text().strip() == "65"


def test_message_counts_example(server, stub):
    out = run("message_counts.py", "--server", server.address, timeout=30)
    assert "Traceback" not in out.stderr
    try:
        resp = stub.GetMessageCounts(pb.GetMessageCountsRequest(), timeout=10)
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.UNIMPLEMENTED
        # The example explains instead of crashing.
        assert out.returncode == 2, out.stderr
        assert "not available" in out.stderr and e.details() in out.stderr
    else:
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().splitlines()[-1] == f"{len(resp.counts)} topics"
