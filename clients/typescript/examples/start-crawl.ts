/**
 * Start a ONESHOT crawl and watch it until it ends.
 *
 *   node dist/examples/start-crawl.js --server 127.0.0.1:50051 --enr enr:-KG4Q... [--enr ...] [--cluster-id 1]
 *
 * Prints one progress line per WatchCrawl snapshot, then a summary line:
 *   crawl 3 FINISHED: discovered 32, queried 32, connected 32, identified 32
 * Exit status: 0 when the crawl FINISHED, 1 otherwise (or on a gRPC error).
 */
import { parseArgs } from "node:util";
import {
  type Crawl__Output,
  CrawlState,
  FINAL_STATES,
  PeerscopeClient,
  type WatchCrawlResponse__Output,
  duration,
} from "../src";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      enr: { type: "string", multiple: true },
      "cluster-id": { type: "string", default: "1" },
      name: { type: "string", default: "" },
      timeout: { type: "string", default: "300" },
    },
  });
  if (!values.enr?.length) {
    console.error("usage: start-crawl --enr ENR [--enr ENR ...] [--server host:port] [--cluster-id N]");
    return 1;
  }
  const timeoutMs = Number(values.timeout) * 1000;
  const client = new PeerscopeClient(values.server);
  try {
    let crawl: Crawl__Output = await client.startCrawl(values.enr, {
      profile: { waku: { clusterId: Number(values["cluster-id"]) } },
      name: values.name,
    });
    console.log(`started crawl ${crawl.id} on ${crawl.listenAddr}`);
    // WatchCrawl sends a snapshot every `interval` and ends after the final one.
    const call = client.raw.watchCrawl(
      { crawlId: crawl.id, interval: duration(250) },
      { deadline: Date.now() + timeoutMs },
    );
    for await (const snap of call as AsyncIterable<WatchCrawlResponse__Output>) {
      crawl = snap.crawl!;
      const p = crawl.progress!;
      console.log(
        `  ${crawl.state}: discovered ${p.discovered}, queried ${p.queried}, queued ${p.queued}, connected ${p.connected}`,
      );
    }
    if (!FINAL_STATES.has(crawl.state)) {
      console.error(`crawl ${crawl.id} still running`);
      return 1;
    }
    const p = crawl.progress!;
    const state = crawl.state.replace(/^CRAWL_STATE_/, "");
    console.log(
      `crawl ${crawl.id} ${state}: discovered ${p.discovered}, queried ${p.queried}, connected ${p.connected}, identified ${p.identified}` +
        (crawl.error ? ` (${crawl.error})` : ""),
    );
    return crawl.state === CrawlState.CRAWL_STATE_FINISHED ? 0 : 1;
  } catch (err: any) {
    console.error(`error: ${err.code !== undefined ? `${err.code} ${err.details}` : err.message}`);
    return 1;
  } finally {
    client.close();
  }
}

main().then((code) => (process.exitCode = code));
