/**
 * Follow peer events, resuming where the previous run (or connection) stopped.
 *
 *   node dist/examples/follow-events.js --server 127.0.0.1:50051 --state-file last-seq.txt [--max-events 100]
 *
 * Each event prints as `SEQUENCE KIND NODE_ID DETAIL`. With --state-file, the sequence of
 * the last event printed is saved there, and the next run starts right after it (no gap, no
 * duplicate); without a state file, --after N starts after sequence N (0 = the whole log),
 * and the default is live events only. Within one run, a lost connection is resumed the
 * same way by PeerscopeClient.followEvents. --max-events and --duration bound the run.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { PeerEventKind, PeerscopeClient } from "../src";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      after: { type: "string" },
      "state-file": { type: "string" },
      "max-events": { type: "string" },
      duration: { type: "string" },
      "crawl-id": { type: "string", default: "" },
      kind: { type: "string", multiple: true, default: [] },
    },
  });
  const stateFile = values["state-file"];
  // Sequence numbers are uint64: kept as decimal strings, as the client returns them.
  let after = values.after;
  if (stateFile && fs.existsSync(stateFile)) after = fs.readFileSync(stateFile, "utf8").trim();
  const maxEvents = values["max-events"] === undefined ? undefined : Number(values["max-events"]);
  const kinds = values.kind!.map((k) => "PEER_EVENT_KIND_" + k.toUpperCase());
  const unknown = kinds.filter((k) => !(k in PeerEventKind));
  if (unknown.length) {
    console.error(`unknown event kind: ${unknown.join(", ")} (kinds: ${Object.keys(PeerEventKind).join(", ")})`);
    return 1;
  }

  const client = new PeerscopeClient(values.server);
  let seen = 0;
  try {
    for await (const ev of client.followEvents({
      afterSequence: after,
      durationMs: values.duration === undefined ? undefined : Number(values.duration) * 1000,
      filter: { crawlId: values["crawl-id"], kinds: kinds as (keyof typeof PeerEventKind)[] },
    })) {
      const kind = ev.kind.replace(/^PEER_EVENT_KIND_/, "");
      const detail = ev.errorClass ? `${ev.errorClass}: ${ev.detail}` : ev.detail;
      console.log(`${ev.sequence} ${kind} ${ev.nodeId} ${detail}`.trimEnd());
      if (stateFile) {
        fs.writeFileSync(`${stateFile}.tmp`, `${ev.sequence}\n`);
        fs.renameSync(`${stateFile}.tmp`, stateFile);
      }
      seen += 1;
      if (maxEvents !== undefined && seen >= maxEvents) break;
    }
  } catch (err: any) {
    console.error(`error: ${err.code !== undefined ? `${err.code} ${err.details}` : err.message}`);
    return 1;
  } finally {
    client.close();
  }
  console.error(`${seen} events`);
  return 0;
}

main().then((code) => (process.exitCode = code));
