/**
 * Print relay message counts per pubsub and content topic.
 *
 *   node dist/examples/message-counts.js --server 127.0.0.1:50051 [--pubsub-topic T] [--content-topic-prefix P]
 *
 * A server without relay counts answers UNIMPLEMENTED: this prints the server's
 * explanation and exits with status 2 (other errors: 1).
 */
import { parseArgs } from "node:util";
import { PeerscopeClient, isStatus, status } from "../src";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      "pubsub-topic": { type: "string", default: "" },
      "content-topic-prefix": { type: "string", default: "" },
    },
  });
  const client = new PeerscopeClient(values.server);
  try {
    const res = await client.getMessageCounts({
      pubsubTopic: values["pubsub-topic"],
      contentTopicPrefix: values["content-topic-prefix"],
    });
    for (const c of res.counts) {
      console.log(`${c.pubsubTopic} ${c.contentTopic} messages=${c.messages} bytes=${c.bytes}`);
    }
    console.log(`${res.counts.length} topics`);
    return 0;
  } catch (err: any) {
    if (isStatus(err, status.UNIMPLEMENTED)) {
      console.error(`message counts are not available from this server: ${err.details}`);
      return 2;
    }
    console.error(`error: ${err.code !== undefined ? `${err.code} ${err.details}` : err.message}`);
    return 1;
  } finally {
    client.close();
  }
}

main().then((code) => (process.exitCode = code));
