/**
 * A small promise/async-iterator layer over the @grpc/grpc-js `CrawlerClient`.
 *
 * For any RPC or option not wrapped here, use `client.raw` (the typed grpc-js client) with
 * the generated types. Failed calls reject with the grpc-js `ServiceError`: `err.code` is a
 * `status` value, `err.details` the server's message (for INVALID_ARGUMENT it names the
 * offending field).
 *
 * Representation (see LOADER_OPTIONS): 64-bit integers are decimal strings on output (pass
 * a number, string or bigint on input), enums are their names, timestamps and durations
 * are `{ seconds: string, nanos: number }`.
 */
import * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { Crawl__Output } from "./gen/peerscope/v1/Crawl";
import type { CrawlerClient } from "./gen/peerscope/v1/Crawler";
import { CrawlMode } from "./gen/peerscope/v1/CrawlMode";
import { CrawlState, type CrawlState__Output } from "./gen/peerscope/v1/CrawlState";
import type { GetCrawlRequest } from "./gen/peerscope/v1/GetCrawlRequest";
import type { GetCrawlResponse__Output } from "./gen/peerscope/v1/GetCrawlResponse";
import type { GetMessageCountsRequest } from "./gen/peerscope/v1/GetMessageCountsRequest";
import type { GetMessageCountsResponse__Output } from "./gen/peerscope/v1/GetMessageCountsResponse";
import type { GetNetworkStatsRequest } from "./gen/peerscope/v1/GetNetworkStatsRequest";
import type { GetNetworkStatsResponse__Output } from "./gen/peerscope/v1/GetNetworkStatsResponse";
import type { GetPeerRequest } from "./gen/peerscope/v1/GetPeerRequest";
import type { GetPeerResponse__Output } from "./gen/peerscope/v1/GetPeerResponse";
import type { ListCrawlsRequest } from "./gen/peerscope/v1/ListCrawlsRequest";
import type { ListCrawlsResponse__Output } from "./gen/peerscope/v1/ListCrawlsResponse";
import type { ListPeersRequest } from "./gen/peerscope/v1/ListPeersRequest";
import type { ListPeersResponse__Output } from "./gen/peerscope/v1/ListPeersResponse";
import type { Peer__Output } from "./gen/peerscope/v1/Peer";
import type { PeerEvent__Output } from "./gen/peerscope/v1/PeerEvent";
import type { StartCrawlRequest } from "./gen/peerscope/v1/StartCrawlRequest";
import type { StartCrawlResponse__Output } from "./gen/peerscope/v1/StartCrawlResponse";
import type { StopCrawlRequest } from "./gen/peerscope/v1/StopCrawlRequest";
import type { StopCrawlResponse__Output } from "./gen/peerscope/v1/StopCrawlResponse";
import type { StreamPeerEventsRequest } from "./gen/peerscope/v1/StreamPeerEventsRequest";
import type { StreamPeerEventsResponse__Output } from "./gen/peerscope/v1/StreamPeerEventsResponse";
import type { WatchCrawlResponse__Output } from "./gen/peerscope/v1/WatchCrawlResponse";
import { checkHealth, type ServingStatus } from "./health";
import { load } from "./proto";

/** Where `peerscope serve` listens by default. */
export const DEFAULT_ADDRESS = "127.0.0.1:50051";

/** Crawl states a crawl never leaves. */
export const FINAL_STATES: ReadonlySet<CrawlState__Output> = new Set<CrawlState__Output>([
  CrawlState.CRAWL_STATE_FINISHED,
  CrawlState.CRAWL_STATE_STOPPED,
  CrawlState.CRAWL_STATE_FAILED,
  CrawlState.CRAWL_STATE_INTERRUPTED,
]);

/**
 * `undefined` → `$PEERSCOPE_SERVER` or {@link DEFAULT_ADDRESS}; `http://host:port` (the
 * spelling of the `peerscope` CLI) → `host:port`.
 */
export function normalizeAddress(address?: string): string {
  let a = address || process.env.PEERSCOPE_SERVER || DEFAULT_ADDRESS;
  if (a.startsWith("https://")) {
    throw new Error("TLS: pass credentials (grpc.credentials.createSsl()) and a host:port address");
  }
  if (a.startsWith("http://")) a = a.slice("http://".length);
  return a.replace(/\/+$/, "");
}

/** True when `err` is a gRPC error with this status code. */
export function isStatus(err: unknown, code: status): err is grpc.ServiceError {
  return typeof err === "object" && err !== null && (err as grpc.ServiceError).code === code;
}

/** A protobuf Timestamp (as received) as a Date (millisecond precision). */
export function toDate(ts: { seconds?: string | number | null; nanos?: number | null } | null | undefined): Date | undefined {
  if (!ts) return undefined;
  return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

/** A duration in milliseconds as a protobuf Duration for requests. */
export function duration(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: Math.round((ms % 1000) * 1e6) };
}

export interface ClientOptions {
  /** Deadline of every unary call made through the helpers, in ms (default 10 000). */
  timeoutMs?: number;
  /** Channel credentials (default: insecure, which is what the server speaks). */
  credentials?: grpc.ChannelCredentials;
}

export interface FollowEventsOptions {
  /** Start after this sequence (0: replay the whole log). Unset: live events only. */
  afterSequence?: string | number | bigint;
  /** Bound on the whole iteration, in ms; it then ends quietly. Unset: no bound. */
  durationMs?: number;
  /** Failed reconnects in a row before giving up (default 5). */
  maxReconnects?: number;
  /** First reconnect delay in ms, doubled on every failure in a row (default 1000). */
  reconnectDelayMs?: number;
  /** StreamPeerEventsRequest filters: crawlId, kinds, nodeId, peerId. */
  filter?: Omit<StreamPeerEventsRequest, "afterSequence" | "_afterSequence">;
}

type UnaryMethod<Req, Res> = (
  req: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  cb: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A connection to a peerscope server. Call {@link close} when done. */
export class PeerscopeClient {
  /** The typed @grpc/grpc-js client: every RPC of the API. */
  readonly raw: CrawlerClient;
  readonly address: string;
  readonly timeoutMs: number;

  constructor(address?: string, options: ClientOptions = {}) {
    this.address = normalizeAddress(address);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const Crawler = load().peerscope.v1.Crawler;
    this.raw = new Crawler(this.address, options.credentials ?? grpc.credentials.createInsecure());
  }

  close(): void {
    this.raw.close();
  }

  /** Resolves once the channel is connected; rejects after `timeoutMs`. */
  waitForReady(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.raw.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** `grpc.health.v1.Health/Check` for `service` ("" = the whole server). */
  health(service = ""): Promise<ServingStatus> {
    return checkHealth(this.raw, service, Date.now() + this.timeoutMs);
  }

  private unary<Req, Res>(method: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.raw, req, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res!),
      );
    });
  }

  // Crawls ----------------------------------------------------------------------------

  /**
   * Starts a crawl and returns it (state RUNNING). The profile defaults to Waku cluster 1
   * and the mode to ONESHOT; any other StartCrawlRequest field can be given in `fields`.
   */
  async startCrawl(bootstrapEnrs: string[], fields: StartCrawlRequest = {}): Promise<Crawl__Output> {
    const req: StartCrawlRequest = {
      profile: { waku: { clusterId: 1 } },
      mode: CrawlMode.CRAWL_MODE_ONESHOT,
      ...fields,
      bootstrapEnrs,
    };
    return (await this.unary<StartCrawlRequest, StartCrawlResponse__Output>(this.raw.startCrawl, req)).crawl!;
  }

  async getCrawl(crawlId: string): Promise<Crawl__Output> {
    return (await this.unary<GetCrawlRequest, GetCrawlResponse__Output>(this.raw.getCrawl, { crawlId })).crawl!;
  }

  async stopCrawl(crawlId: string): Promise<Crawl__Output> {
    return (await this.unary<StopCrawlRequest, StopCrawlResponse__Output>(this.raw.stopCrawl, { crawlId })).crawl!;
  }

  listCrawls(req: ListCrawlsRequest = {}): Promise<ListCrawlsResponse__Output> {
    return this.unary<ListCrawlsRequest, ListCrawlsResponse__Output>(this.raw.listCrawls, req);
  }

  /**
   * Waits for the crawl to reach a final state and returns that snapshot, via WatchCrawl
   * (a snapshot every `intervalMs`; the server ends the stream after the final one).
   * Rejects with an Error after `timeoutMs`; the crawl itself keeps running.
   */
  async waitForCrawl(crawlId: string, timeoutMs = 300_000, intervalMs = 500): Promise<Crawl__Output> {
    const call = this.raw.watchCrawl({ crawlId, interval: duration(intervalMs) }, { deadline: Date.now() + timeoutMs });
    try {
      for await (const snap of call as AsyncIterable<WatchCrawlResponse__Output>) {
        if (snap.crawl && FINAL_STATES.has(snap.crawl.state)) return snap.crawl;
      }
    } catch (err) {
      if (isStatus(err, status.DEADLINE_EXCEEDED)) {
        throw new Error(`crawl ${crawlId} still running after ${timeoutMs} ms`);
      }
      throw err;
    } finally {
      cancelQuietly(call);
    }
    const crawl = await this.getCrawl(crawlId);
    if (FINAL_STATES.has(crawl.state)) return crawl;
    throw new Error(`WatchCrawl of crawl ${crawlId} ended while it is still running`);
  }

  // Peers -----------------------------------------------------------------------------

  listPeers(req: ListPeersRequest = {}): Promise<ListPeersResponse__Output> {
    return this.unary<ListPeersRequest, ListPeersResponse__Output>(this.raw.listPeers, req);
  }

  /** Every peer matching `filter` (ListPeersRequest fields), in node-id order, page by page. */
  async *listAllPeers(filter: Omit<ListPeersRequest, "pageToken"> = {}): AsyncGenerator<Peer__Output, void, undefined> {
    let pageToken = "";
    const seen = new Set<string>();
    for (;;) {
      const res = await this.listPeers({ pageSize: 100, ...filter, pageToken });
      yield* res.peers;
      pageToken = res.nextPageToken;
      if (pageToken === "") return;
      if (seen.has(pageToken)) throw new Error(`ListPeers returned page token ${pageToken} twice`);
      seen.add(pageToken);
    }
  }

  getPeer(key: GetPeerRequest): Promise<GetPeerResponse__Output> {
    return this.unary<GetPeerRequest, GetPeerResponse__Output>(this.raw.getPeer, key);
  }

  getNetworkStats(crawlId = ""): Promise<GetNetworkStatsResponse__Output> {
    return this.unary<GetNetworkStatsRequest, GetNetworkStatsResponse__Output>(this.raw.getNetworkStats, { crawlId });
  }

  /** Answers UNIMPLEMENTED until the server has a relay monitor. */
  getMessageCounts(req: GetMessageCountsRequest = {}): Promise<GetMessageCountsResponse__Output> {
    return this.unary<GetMessageCountsRequest, GetMessageCountsResponse__Output>(this.raw.getMessageCounts, req);
  }

  // Events ----------------------------------------------------------------------------

  /**
   * Peer events, reconnecting with `afterSequence` = the last event yielded, so the caller
   * sees no gap and no duplicate across lost connections (UNAVAILABLE, or the server ending
   * the stream). Gives up after `maxReconnects` failures in a row. Breaking out of the loop
   * cancels the call.
   *
   * Before the first event, a reconnect from an unset `afterSequence` is live-only again:
   * pass a number to be gap-free from the start. A resume point beyond the server's last
   * sequence (e.g. its data dir was wiped) fails with OUT_OF_RANGE.
   */
  async *followEvents(opts: FollowEventsOptions = {}): AsyncGenerator<PeerEvent__Output, void, undefined> {
    let last: string | undefined = opts.afterSequence === undefined ? undefined : String(opts.afterSequence);
    const deadline = opts.durationMs === undefined ? undefined : Date.now() + opts.durationMs;
    const maxReconnects = opts.maxReconnects ?? 5;
    const baseDelay = opts.reconnectDelayMs ?? 1000;
    let failures = 0;
    for (;;) {
      if (deadline !== undefined && Date.now() >= deadline) return;
      const req: StreamPeerEventsRequest = { ...opts.filter };
      if (last !== undefined) req.afterSequence = last;
      const call = this.raw.streamPeerEvents(req, deadline === undefined ? {} : { deadline });
      let reason = "the server ended the stream";
      try {
        for await (const res of call as AsyncIterable<StreamPeerEventsResponse__Output>) {
          const ev = res.event!;
          last = ev.sequence;
          failures = 0;
          yield ev;
        }
      } catch (err) {
        if (deadline !== undefined && isStatus(err, status.DEADLINE_EXCEEDED)) return;
        if (!isStatus(err, status.UNAVAILABLE)) throw err;
        reason = `UNAVAILABLE: ${err.details}`;
      } finally {
        cancelQuietly(call);
      }
      failures += 1;
      if (failures > maxReconnects) {
        throw new Error(`event stream lost ${failures} times in a row, last after sequence ${last}: ${reason}`);
      }
      let delay = baseDelay * 2 ** (failures - 1);
      if (deadline !== undefined) delay = Math.min(delay, Math.max(0, deadline - Date.now()));
      await sleep(delay);
    }
  }
}

/** Cancels a stream the caller is done with, without an unhandled 'error' event. */
function cancelQuietly(call: grpc.ClientReadableStream<unknown>): void {
  call.on("error", () => {});
  call.cancel();
}
