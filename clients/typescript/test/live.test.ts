/**
 * Tests against a real `peerscope serve` and a real 32-node `peerscope testnet`, both on
 * 127.0.0.1 (PEERSCOPE_BIN names the binary).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type Crawl__Output as Crawl,
  CrawlMode,
  CrawlState,
  type ListPeersRequest,
  type PeerEvent__Output as PeerEvent,
  PeerEventKind,
  PeerscopeClient,
  type Peer__Output as Peer,
  type StreamPeerEventsRequest,
  type StreamPeerEventsResponse__Output,
  duration,
  isStatus,
  status,
  toDate,
} from "../src";
import { Server, Testnet, type TestnetNode } from "./harness";

const NODES = 32;

let dir: string;
let testnet: Testnet | undefined;
let server: Server | undefined;
let client: PeerscopeClient;
let crawl: Crawl;

before(
  async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "peerscope-ts-"));
    testnet = await Testnet.start(NODES, dir);
    server = await Server.start(path.join(dir, "data"), path.join(dir, "server.log"));
    client = new PeerscopeClient(server.address, { timeoutMs: 15_000 });
    await client.waitForReady(15_000);
    const started = await client.startCrawl(testnet.bootstrapEnrs, { name: "node oneshot" });
    assert.equal(started.state, CrawlState.CRAWL_STATE_RUNNING);
    crawl = await client.waitForCrawl(started.id, 120_000);
  },
  { timeout: 180_000 },
);

after(
  async () => {
    client?.close();
    await server?.stop();
    await testnet?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  },
  { timeout: 60_000 },
);

/** Reads exactly `count` events from one StreamPeerEvents call, then hangs up. */
async function readEvents(
  count: number,
  req: StreamPeerEventsRequest,
  timeoutMs = 30_000,
): Promise<PeerEvent[]> {
  const call = client.raw.streamPeerEvents(req, { deadline: Date.now() + timeoutMs });
  const events: PeerEvent[] = [];
  try {
    for await (const res of call as AsyncIterable<StreamPeerEventsResponse__Output>) {
      events.push(res.event!);
      if (events.length === count) break;
    }
  } finally {
    call.on("error", () => {});
    call.cancel();
  }
  assert.equal(events.length, count, `stream ended after ${events.length} of ${count} events`);
  return events;
}

/** Every stored event after `afterSequence`: reads for `ms`, then hangs up. */
async function replayAll(afterSequence = "0", ms = 3000): Promise<PeerEvent[]> {
  const events: PeerEvent[] = [];
  try {
    for await (const ev of client.followEvents({ afterSequence, durationMs: ms })) events.push(ev);
  } catch (err) {
    assert.fail(`replay failed: ${err}`);
  }
  return events;
}

/** Sequences are uint64 as decimal strings: `first`, `first + 1`, … with no gap or duplicate. */
function assertConsecutive(events: PeerEvent[], first: bigint): void {
  events.forEach((e, i) => assert.equal(BigInt(e.sequence), first + BigInt(i), `gap or duplicate at index ${i}`));
}

function assertMatchesTestnet(peer: Peer, node: TestnetNode): void {
  assert.equal(peer.peerId, node.peer_id);
  assert.equal(peer.enr, node.enr);
  assert.deepEqual([...peer.capabilities].sort(), [...node.capabilities].sort());
  assert.equal(peer.clusterId, node.cluster_id ?? undefined); // an unset `optional` is absent
  assert.deepEqual([...peer.shards].sort((a, b) => a - b), [...node.shards].sort((a, b) => a - b));
  assert.equal(peer.enrFields!.waku2, node.waku2 ?? undefined);
  assert.equal(`127.0.0.1:${peer.enrFields!.udp4}`, node.udp);
  assert.equal(peer.enrFields!.tcp4, node.tcp);
  assert.equal(peer.agentVersion, node.agent);
  assert.deepEqual([...peer.protocols].sort(), [...node.protocols].sort());
  assert.equal(peer.reachable, true);
}

async function pageThrough(pageSize: number, filter: ListPeersRequest = {}): Promise<Peer[][]> {
  const pages: Peer[][] = [];
  let pageToken = "";
  for (let i = 0; i < NODES + 2; i++) {
    const res = await client.listPeers({ ...filter, pageSize, pageToken });
    pages.push(res.peers);
    pageToken = res.nextPageToken;
    if (pageToken === "") return pages;
  }
  assert.fail(`ListPeers still had a next page after ${NODES + 2} pages`);
}

async function expectStatus(p: Promise<unknown>, code: status, needle: string): Promise<void> {
  await assert.rejects(p, (err: any) => {
    assert.equal(err.code, code, `got ${err.code}: ${err.details}`);
    assert.ok(String(err.details).includes(needle), `"${err.details}" does not name ${needle}`);
    return true;
  });
}

describe("server", () => {
  test("health check answers SERVING", async () => {
    assert.equal(await client.health(""), "SERVING");
    assert.equal(await client.health("peerscope.v1.Crawler"), "SERVING");
  });
});

describe("crawl", () => {
  test("a ONESHOT crawl discovers every testnet node", async () => {
    assert.equal(crawl.state, CrawlState.CRAWL_STATE_FINISHED);
    assert.equal(crawl.mode, CrawlMode.CRAWL_MODE_ONESHOT);
    // uint64 counters arrive as decimal strings.
    assert.equal(crawl.progress!.discovered, String(NODES));
    assert.equal(crawl.progress!.queried, String(NODES));
    assert.equal(crawl.progress!.connected, String(NODES));
    assert.equal(crawl.error, "");
    assert.ok(toDate(crawl.finishedAt)!.getTime() >= toDate(crawl.createdAt)!.getTime());
    assert.equal(crawl.name, "node oneshot");
    assert.deepEqual(crawl.bootstrapEnrs, testnet!.bootstrapEnrs);
    const again = await client.getCrawl(crawl.id);
    assert.equal(again.progress!.discovered, String(NODES));
  });

  test("network stats count the testnet's capabilities", async () => {
    const stats = await client.getNetworkStats(crawl.id);
    assert.equal(stats.peers, String(NODES));
    const want: Record<string, string> = {};
    for (const n of testnet!.nodes) for (const c of n.capabilities) want[c] = String(Number(want[c] ?? 0) + 1);
    assert.deepEqual(stats.byCapability, want);
  });
});

describe("peers", () => {
  for (const pageSize of [5, 7, 1000]) {
    test(`paging by ${pageSize} returns every node exactly once, in order`, async () => {
      const pages = await pageThrough(pageSize, { crawlId: crawl.id });
      assert.equal(pages.length, Math.ceil(NODES / pageSize));
      pages.slice(0, -1).forEach((p) => assert.equal(p.length, pageSize));
      const ids = pages.flat().map((p) => p.nodeId);
      assert.equal(ids.length, NODES);
      assert.equal(new Set(ids).size, NODES, "a node id came back twice");
      const byId = testnet!.byNodeId();
      assert.deepEqual([...ids].sort(), [...byId.keys()].sort());
      assert.deepEqual(ids, [...ids].sort(), "peers are not in node-id order");
      for (const peer of pages.flat()) assertMatchesTestnet(peer, byId.get(peer.nodeId)!);
    });
  }

  test("listAllPeers with a capability filter is exact", async () => {
    for (const cap of ["relay", "store", "filter", "lightpush", "sync", "mix"]) {
      const got: string[] = [];
      for await (const p of client.listAllPeers({ pageSize: 4, capability: cap, crawlId: crawl.id })) got.push(p.nodeId);
      const want = testnet!.nodes.filter((n) => n.capabilities.includes(cap)).map((n) => n.node_id);
      assert.deepEqual(got, [...want].sort(), cap);
    }
  });

  test("GetPeer finds a node by node id and by peer id", async () => {
    const node = testnet!.nodes[3];
    const a = (await client.getPeer({ nodeId: node.node_id })).peer!;
    const b = (await client.getPeer({ peerId: node.peer_id })).peer!;
    assert.equal(a.nodeId, node.node_id);
    assert.equal(b.nodeId, node.node_id);
    assertMatchesTestnet(b, node);
  });
});

describe("events", () => {
  test("the ONESHOT crawl stored one DISCOVERED event per node", async () => {
    const events = (await replayAll()).filter((e) => e.crawlId === crawl.id);
    const discovered = events.filter((e) => e.kind === PeerEventKind.PEER_EVENT_KIND_DISCOVERED);
    assert.equal(discovered.length, NODES);
    const byId = testnet!.byNodeId();
    assert.deepEqual(discovered.map((e) => e.nodeId).sort(), [...byId.keys()].sort());
    for (const e of discovered) assert.equal(e.enr, byId.get(e.nodeId)!.enr);
  });

  test(
    "a reader that reconnects with afterSequence gets exactly the missed events",
    { timeout: 90_000 },
    async () => {
      const stored = await replayAll();
      assert.ok(stored.length > 0);
      assertConsecutive(stored, 1n);
      const base = BigInt(stored[stored.length - 1].sequence);

      const continuous = await client.startCrawl(testnet!.bootstrapEnrs, {
        mode: CrawlMode.CRAWL_MODE_CONTINUOUS,
        recrawlInterval: duration(1000),
        minRedialInterval: duration(1000),
        name: "node resume",
      });
      let a: PeerEvent[];
      let b: PeerEvent[];
      let reconnectAt: number;
      try {
        a = await readEvents(100, { afterSequence: String(base) });
        // Away while the crawl's next rounds write events (32 nodes re-dialed every second).
        await new Promise((r) => setTimeout(r, 1500));
        reconnectAt = Date.now();
        b = await readEvents(400, { afterSequence: a[a.length - 1].sequence });
      } finally {
        const stopped = await client.stopCrawl(continuous.id);
        assert.equal(stopped.state, CrawlState.CRAWL_STATE_STOPPED);
      }
      assertConsecutive(a, base + 1n);
      assert.equal(BigInt(b[0].sequence), BigInt(a[a.length - 1].sequence) + 1n);
      assertConsecutive(b, base + 1n + BigInt(a.length));
      const times = b.map((e) => toDate(e.time)!.getTime());
      assert.ok(Math.min(...times) < reconnectAt - 200, "no event was written while the reader was away");
      assert.ok(Math.max(...times) > reconnectAt + 200, "the resumed reader saw no live event");
      assert.ok(b.every((e) => e.crawlId === continuous.id));
      const reference = await readEvents(a.length + b.length, { afterSequence: String(base) });
      assert.deepEqual([...a, ...b], reference);
    },
  );

  test("followEvents resumes where a previous iteration stopped", async () => {
    const first: PeerEvent[] = [];
    for await (const ev of client.followEvents({ afterSequence: 0, durationMs: 30_000 })) {
      first.push(ev);
      if (first.length === 50) break;
    }
    const rest: PeerEvent[] = [];
    for await (const ev of client.followEvents({ afterSequence: first[49].sequence, durationMs: 30_000 })) {
      rest.push(ev);
      if (rest.length === 50) break;
    }
    assertConsecutive([...first, ...rest], 1n);
    assert.deepEqual([...first, ...rest], await readEvents(100, { afterSequence: 0 }));
  });

  test("a resume point beyond the log is OUT_OF_RANGE", async () => {
    await expectStatus(readEvents(1, { afterSequence: "1000000000000" }, 10_000), status.OUT_OF_RANGE, "after_sequence");
  });
});

describe("errors", () => {
  test("a malformed ENR is INVALID_ARGUMENT naming bootstrap_enrs[0]", async () => {
    await expectStatus(client.startCrawl(["enr:not-a-record"]), status.INVALID_ARGUMENT, "bootstrap_enrs[0]");
  });
  test("a missing profile is INVALID_ARGUMENT naming profile", async () => {
    await expectStatus(
      client.startCrawl(testnet!.bootstrapEnrs, { profile: undefined }),
      status.INVALID_ARGUMENT,
      "profile",
    );
  });
  test("an unknown capability is INVALID_ARGUMENT naming capability", async () => {
    await expectStatus(client.listPeers({ capability: "gossip" }), status.INVALID_ARGUMENT, "capability");
  });
  test("an unknown crawl is NOT_FOUND", async () => {
    await expectStatus(client.getCrawl("987654"), status.NOT_FOUND, "987654");
  });
  test("GetMessageCounts answers, or explains UNIMPLEMENTED", async () => {
    // UNIMPLEMENTED until the server has a relay monitor; then an answer, and no crawl of
    // this suite runs a relay monitor, so nothing was counted.
    const res = await client.getMessageCounts().catch((e) => e);
    if (isStatus(res, status.UNIMPLEMENTED)) {
      assert.match(res.details, /GetMessageCounts.*relay monitor/);
    } else {
      assert.ok(!(res instanceof Error), String(res));
      assert.equal(res.counts.reduce((n: number, c: { messages: string }) => n + Number(c.messages), 0), 0);
    }
  });
});

describe("examples", () => {
  const examples = path.resolve(__dirname, "..", "examples");

  function run(script: string, args: string[], timeoutMs = 120_000) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(examples, script), ...args],
        { timeout: timeoutMs },
        (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? -1) : 0, stdout, stderr }),
      );
    });
  }

  test("start-crawl", async () => {
    const enrs = testnet!.bootstrapEnrs.flatMap((e) => ["--enr", e]);
    const out = await run("start-crawl.js", ["--server", server!.address, ...enrs, "--timeout", "120"]);
    assert.equal(out.code, 0, out.stderr);
    const last = out.stdout.trim().split("\n").pop()!;
    assert.match(last, new RegExp(` FINISHED: discovered ${NODES}, .*connected ${NODES},`));
  });

  test("list-peers", async () => {
    const out = await run("list-peers.js", ["--server", server!.address, "--page-size", "6", "--crawl-id", crawl.id]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split("\n");
    assert.equal(lines.pop(), `${NODES} peers`);
    assert.deepEqual(
      lines.map((l) => l.split(" ")[0]),
      [...testnet!.byNodeId().keys()].sort(),
    );
  });

  test("follow-events resumes from its state file", async () => {
    const state = path.join(dir, "last-seq.txt");
    const common = ["--server", server!.address, "--state-file", state, "--after", "0", "--duration", "30"];
    const first = await run("follow-events.js", [...common, "--max-events", "40"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(fs.readFileSync(state, "utf8").trim(), "40");
    const second = await run("follow-events.js", [...common, "--max-events", "25"]);
    assert.equal(second.code, 0, second.stderr);
    const seqs = (first.stdout + second.stdout)
      .trim()
      .split("\n")
      .map((l) => Number(l.split(" ")[0]));
    assert.deepEqual(seqs, Array.from({ length: 65 }, (_, i) => i + 1));
  });

  test("message-counts prints counts, or explains UNIMPLEMENTED", async () => {
    const out = await run("message-counts.js", ["--server", server!.address], 30_000);
    const res = await client.getMessageCounts().catch((e) => e);
    if (isStatus(res, status.UNIMPLEMENTED)) {
      assert.equal(out.code, 2, out.stderr);
      assert.ok(out.stderr.includes(`not available from this server: ${res.details}`), out.stderr);
    } else {
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.trim().split("\n").pop(), `${res.counts.length} topics`);
    }
  });
});
