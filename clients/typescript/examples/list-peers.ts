/**
 * List stored peers, page by page, with optional filters.
 *
 *   node dist/examples/list-peers.js --server 127.0.0.1:50051 [--capability relay] [--cluster-id 1] [--crawl-id 1]
 *
 * Prints `NODE_ID PEER_ID cluster=C shards=S caps=A,B agent=X` per peer, in node-id order,
 * then `N peers`.
 */
import { parseArgs } from "node:util";
import { PeerscopeClient } from "../src";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      "page-size": { type: "string", default: "100" },
      capability: { type: "string", default: "" },
      "cluster-id": { type: "string" },
      "crawl-id": { type: "string", default: "" },
    },
  });
  const client = new PeerscopeClient(values.server);
  let count = 0;
  try {
    for await (const p of client.listAllPeers({
      pageSize: Number(values["page-size"]),
      capability: values.capability,
      crawlId: values["crawl-id"],
      // An `optional` field: undefined means no filter, 0 means cluster 0.
      clusterId: values["cluster-id"] === undefined ? undefined : Number(values["cluster-id"]),
    })) {
      const cluster = p.clusterId ?? "-";
      const shards = p.shards.join(",") || "-";
      const caps = p.capabilities.join(",") || "-";
      console.log(`${p.nodeId} ${p.peerId || "-"} cluster=${cluster} shards=${shards} caps=${caps} agent=${p.agentVersion || "-"}`);
      count += 1;
    }
  } catch (err: any) {
    console.error(`error: ${err.code !== undefined ? `${err.code} ${err.details}` : err.message}`);
    return 1;
  } finally {
    client.close();
  }
  console.log(`${count} peers`);
  return 0;
}

main().then((code) => (process.exitCode = code));
