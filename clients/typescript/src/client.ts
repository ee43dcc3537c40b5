/**
 * A small promise/async-iterator layer over the generated `CrawlerClient` (@grpc/grpc-js).
 *
 * For any RPC or option not wrapped here, use `client.raw` (the generated client) with the
 * generated message types. Failed calls reject with the grpc-js `ServiceError`: `err.code`
 * is a `status` value, `err.details` the server's message (for INVALID_ARGUMENT it names
 * the offending field).
 */
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  type CallOptions,
  type ChannelCredentials,
  type ClientReadableStream,
  type ServiceError,
  credentials as grpcCredentials,
  Metadata,
  status,
} from "@grpc/grpc-js";
import {
  type Crawl,
  CrawlerClient,
  CrawlMode,
  CrawlState,
  type DeepPartial,
  GetCrawlRequest,
  type GetCrawlResponse,
  GetMessageCountsRequest,
  type GetMessageCountsResponse,
  GetNetworkStatsRequest,
  type GetNetworkStatsResponse,
  GetPeerRequest,
  type GetPeerResponse,
  ListCrawlsRequest,
  type ListCrawlsResponse,
  ListPeersRequest,
  type ListPeersResponse,
  type Peer,
  type PeerEvent,
  StartCrawlRequest,
  type StartCrawlResponse,
  StopCrawlRequest,
  type StopCrawlResponse,
  StreamPeerEventsRequest,
  type StreamPeerEventsResponse,
  WatchCrawlRequest,
  type WatchCrawlResponse,
} from "./gen/peerscope/v1/peerscope";

/** Where `peerscope serve` listens by default. */
export const DEFAULT_ADDRESS = "127.0.0.1:50051";

/** Crawl states a crawl never leaves. */
export const FINAL_STATES: ReadonlySet<CrawlState> = new Set([
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
  let a = address ?? process.env.PEERSCOPE_SERVER ?? DEFAULT_ADDRESS;
  if (a === "") a = DEFAULT_ADDRESS;
  if (a.startsWith("https://")) {
    throw new Error("TLS: pass credentials (grpc.credentials.createSsl()) and a host:port address");
  }
  if (a.startsWith("http://")) a = a.slice("http://".length);
  return a.replace(/\/+$/, "");
}

/** True when `err` is a gRPC error with this status code. */
export function isStatus(err: unknown, code: status): err is ServiceError {
  return typeof err === "object" && err !== null && (err as ServiceError).code === code;
}

export interface ClientOptions {
  /** Deadline of every unary call made through the helpers, in ms (default 10 000). */
  timeoutMs?: number;
  /** Channel credentials (default: insecure, which is what the server speaks). */
  credentials?: ChannelCredentials;
}

export interface FollowEventsOptions {
  /** Start after this sequence (`0n`: replay the whole log). Unset: live events only. */
  afterSequence?: bigint;
  /** Bound on the whole iteration, in ms; it then ends quietly. Unset: no bound. */
  durationMs?: number;
  /** Failed reconnects in a row before giving up (default 5). */
  maxReconnects?: number;
  /** First reconnect delay in ms, doubled on every failure in a row (default 1000). */
  reconnectDelayMs?: number;
  /** StreamPeerEventsRequest filters: crawlId, kinds, nodeId, peerId. */
  filter?: Omit<DeepPartial<StreamPeerEventsRequest>, "afterSequence">;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Unary<Req, Res> = (
  req: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** A connection to a peerscope server. Call {@link close} when done. */
export class PeerscopeClient {
  /** The generated @grpc/grpc-js client: every RPC of the API. */
  readonly raw: CrawlerClient;
  readonly address: string;
  readonly timeoutMs: number;

  constructor(address?: string, options: ClientOptions = {}) {
    this.address = normalizeAddress(address);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.raw = new CrawlerClient(this.address, options.credentials ?? grpcCredentials.createInsecure());
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

  private unary<Req, Res>(fn: Unary<Req, Res>, req: Req, timeoutMs = this.timeoutMs): Promise<Res> {
    return new Promise((resolve, reject) => {
      fn.call(this.raw, req, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  /** `grpc.health.v1.Health/Check`: "SERVING", "NOT_SERVING", … for `service` ("" = the server). */
  health(service = "", timeoutMs = this.timeoutMs): Promise<string> {
    // HealthCheckRequest { string service = 1 }, HealthCheckResponse { ServingStatus status = 1 }.
    const names = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest<string, string>(
        "/grpc.health.v1.Health/Check",
        (s) => Buffer.from(new BinaryWriter().uint32(10).string(s).finish()),
        (buf) => {
          const r = new BinaryReader(buf);
          let st = 0;
          while (r.pos < r.len) {
            const [field, wire] = r.tag();
            if (field === 1) st = r.int32();
            else r.skip(wire);
          }
          return names[st] ?? String(st);
        },
        service,
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res as string)),
      );
    });
  }

  // Crawls ----------------------------------------------------------------------------

  /**
   * Starts a crawl and returns it (state RUNNING). The profile defaults to Waku cluster 1
   * and the mode to ONESHOT; any other StartCrawlRequest field can be given in `fields`.
   */
  async startCrawl(bootstrapEnrs: string[], fields: DeepPartial<StartCrawlRequest> = {}): Promise<Crawl> {
    const req = StartCrawlRequest.fromPartial({
      profile: { waku: { clusterId: 1 } },
      mode: CrawlMode.CRAWL_MODE_ONESHOT,
      ...fields,
      bootstrapEnrs,
    });
    const res = await this.unary<StartCrawlRequest, StartCrawlResponse>(this.raw.startCrawl, req);
    return res.crawl!;
  }

  async getCrawl(crawlId: string): Promise<Crawl> {
    const res = await this.unary<GetCrawlRequest, GetCrawlResponse>(
      this.raw.getCrawl,
      GetCrawlRequest.fromPartial({ crawlId }),
    );
    return res.crawl!;
  }

  async stopCrawl(crawlId: string): Promise<Crawl> {
    const res = await this.unary<StopCrawlRequest, StopCrawlResponse>(
      this.raw.stopCrawl,
      StopCrawlRequest.fromPartial({ crawlId }),
    );
    return res.crawl!;
  }

  listCrawls(req: DeepPartial<ListCrawlsRequest> = {}): Promise<ListCrawlsResponse> {
    return this.unary<ListCrawlsRequest, ListCrawlsResponse>(this.raw.listCrawls, ListCrawlsRequest.fromPartial(req));
  }

  /**
   * Waits for the crawl to reach a final state and returns that snapshot, via WatchCrawl
   * (a snapshot every `intervalMs`; the server ends the stream after the final one).
   * Rejects with an Error after `timeoutMs`; the crawl itself keeps running.
   */
  async waitForCrawl(crawlId: string, timeoutMs = 300_000, intervalMs = 500): Promise<Crawl> {
    const req = WatchCrawlRequest.fromPartial({
      crawlId,
      interval: { seconds: BigInt(Math.floor(intervalMs / 1000)), nanos: (intervalMs % 1000) * 1e6 },
    });
    const call = this.raw.watchCrawl(req, { deadline: Date.now() + timeoutMs });
    try {
      for await (const snap of call as AsyncIterable<WatchCrawlResponse>) {
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

  listPeers(req: DeepPartial<ListPeersRequest> = {}): Promise<ListPeersResponse> {
    return this.unary<ListPeersRequest, ListPeersResponse>(this.raw.listPeers, ListPeersRequest.fromPartial(req));
  }

  /** Every peer matching `filter` (ListPeersRequest fields), in node-id order, page by page. */
  async *listAllPeers(
    filter: Omit<DeepPartial<ListPeersRequest>, "pageToken"> = {},
  ): AsyncGenerator<Peer, void, undefined> {
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

  getPeer(key: { nodeId: string } | { peerId: string }): Promise<GetPeerResponse> {
    return this.unary<GetPeerRequest, GetPeerResponse>(this.raw.getPeer, GetPeerRequest.fromPartial(key));
  }

  getNetworkStats(crawlId = ""): Promise<GetNetworkStatsResponse> {
    return this.unary<GetNetworkStatsRequest, GetNetworkStatsResponse>(
      this.raw.getNetworkStats,
      GetNetworkStatsRequest.fromPartial({ crawlId }),
    );
  }

  /** Answers UNIMPLEMENTED until the server has a relay monitor. */
  getMessageCounts(req: DeepPartial<GetMessageCountsRequest> = {}): Promise<GetMessageCountsResponse> {
    return this.unary<GetMessageCountsRequest, GetMessageCountsResponse>(
      this.raw.getMessageCounts,
      GetMessageCountsRequest.fromPartial(req),
    );
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
  async *followEvents(opts: FollowEventsOptions = {}): AsyncGenerator<PeerEvent, void, undefined> {
    let last = opts.afterSequence;
    const deadline = opts.durationMs === undefined ? undefined : Date.now() + opts.durationMs;
    const maxReconnects = opts.maxReconnects ?? 5;
    const baseDelay = opts.reconnectDelayMs ?? 1000;
    let failures = 0;
    for (;;) {
      if (deadline !== undefined && Date.now() >= deadline) return;
      const req = StreamPeerEventsRequest.fromPartial({ ...opts.filter, afterSequence: last });
      const call = this.raw.streamPeerEvents(req, deadline === undefined ? {} : { deadline });
      let reason = "the server ended the stream";
      try {
        for await (const res of call as AsyncIterable<StreamPeerEventsResponse>) {
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
function cancelQuietly(call: ClientReadableStream<unknown>): void {
  call.on("error", () => {});
  call.cancel();
}
