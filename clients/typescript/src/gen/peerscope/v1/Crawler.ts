// Original file: proto/peerscope/v1/peerscope.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetCrawlRequest as _peerscope_v1_GetCrawlRequest, GetCrawlRequest__Output as _peerscope_v1_GetCrawlRequest__Output } from '../../peerscope/v1/GetCrawlRequest';
import type { GetCrawlResponse as _peerscope_v1_GetCrawlResponse, GetCrawlResponse__Output as _peerscope_v1_GetCrawlResponse__Output } from '../../peerscope/v1/GetCrawlResponse';
import type { GetMessageCountsRequest as _peerscope_v1_GetMessageCountsRequest, GetMessageCountsRequest__Output as _peerscope_v1_GetMessageCountsRequest__Output } from '../../peerscope/v1/GetMessageCountsRequest';
import type { GetMessageCountsResponse as _peerscope_v1_GetMessageCountsResponse, GetMessageCountsResponse__Output as _peerscope_v1_GetMessageCountsResponse__Output } from '../../peerscope/v1/GetMessageCountsResponse';
import type { GetNetworkStatsRequest as _peerscope_v1_GetNetworkStatsRequest, GetNetworkStatsRequest__Output as _peerscope_v1_GetNetworkStatsRequest__Output } from '../../peerscope/v1/GetNetworkStatsRequest';
import type { GetNetworkStatsResponse as _peerscope_v1_GetNetworkStatsResponse, GetNetworkStatsResponse__Output as _peerscope_v1_GetNetworkStatsResponse__Output } from '../../peerscope/v1/GetNetworkStatsResponse';
import type { GetPeerRequest as _peerscope_v1_GetPeerRequest, GetPeerRequest__Output as _peerscope_v1_GetPeerRequest__Output } from '../../peerscope/v1/GetPeerRequest';
import type { GetPeerResponse as _peerscope_v1_GetPeerResponse, GetPeerResponse__Output as _peerscope_v1_GetPeerResponse__Output } from '../../peerscope/v1/GetPeerResponse';
import type { GetSinkStatusRequest as _peerscope_v1_GetSinkStatusRequest, GetSinkStatusRequest__Output as _peerscope_v1_GetSinkStatusRequest__Output } from '../../peerscope/v1/GetSinkStatusRequest';
import type { GetSinkStatusResponse as _peerscope_v1_GetSinkStatusResponse, GetSinkStatusResponse__Output as _peerscope_v1_GetSinkStatusResponse__Output } from '../../peerscope/v1/GetSinkStatusResponse';
import type { ListCrawlsRequest as _peerscope_v1_ListCrawlsRequest, ListCrawlsRequest__Output as _peerscope_v1_ListCrawlsRequest__Output } from '../../peerscope/v1/ListCrawlsRequest';
import type { ListCrawlsResponse as _peerscope_v1_ListCrawlsResponse, ListCrawlsResponse__Output as _peerscope_v1_ListCrawlsResponse__Output } from '../../peerscope/v1/ListCrawlsResponse';
import type { ListPeersRequest as _peerscope_v1_ListPeersRequest, ListPeersRequest__Output as _peerscope_v1_ListPeersRequest__Output } from '../../peerscope/v1/ListPeersRequest';
import type { ListPeersResponse as _peerscope_v1_ListPeersResponse, ListPeersResponse__Output as _peerscope_v1_ListPeersResponse__Output } from '../../peerscope/v1/ListPeersResponse';
import type { StartCrawlRequest as _peerscope_v1_StartCrawlRequest, StartCrawlRequest__Output as _peerscope_v1_StartCrawlRequest__Output } from '../../peerscope/v1/StartCrawlRequest';
import type { StartCrawlResponse as _peerscope_v1_StartCrawlResponse, StartCrawlResponse__Output as _peerscope_v1_StartCrawlResponse__Output } from '../../peerscope/v1/StartCrawlResponse';
import type { StopCrawlRequest as _peerscope_v1_StopCrawlRequest, StopCrawlRequest__Output as _peerscope_v1_StopCrawlRequest__Output } from '../../peerscope/v1/StopCrawlRequest';
import type { StopCrawlResponse as _peerscope_v1_StopCrawlResponse, StopCrawlResponse__Output as _peerscope_v1_StopCrawlResponse__Output } from '../../peerscope/v1/StopCrawlResponse';
import type { StreamPeerEventsRequest as _peerscope_v1_StreamPeerEventsRequest, StreamPeerEventsRequest__Output as _peerscope_v1_StreamPeerEventsRequest__Output } from '../../peerscope/v1/StreamPeerEventsRequest';
import type { StreamPeerEventsResponse as _peerscope_v1_StreamPeerEventsResponse, StreamPeerEventsResponse__Output as _peerscope_v1_StreamPeerEventsResponse__Output } from '../../peerscope/v1/StreamPeerEventsResponse';
import type { WatchCrawlRequest as _peerscope_v1_WatchCrawlRequest, WatchCrawlRequest__Output as _peerscope_v1_WatchCrawlRequest__Output } from '../../peerscope/v1/WatchCrawlRequest';
import type { WatchCrawlResponse as _peerscope_v1_WatchCrawlResponse, WatchCrawlResponse__Output as _peerscope_v1_WatchCrawlResponse__Output } from '../../peerscope/v1/WatchCrawlResponse';

/**
 * The crawler control plane.
 */
export interface CrawlerClient extends grpc.Client {
  /**
   * Returns one crawl with its live progress counters.
   */
  GetCrawl(argument: _peerscope_v1_GetCrawlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  GetCrawl(argument: _peerscope_v1_GetCrawlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  GetCrawl(argument: _peerscope_v1_GetCrawlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  GetCrawl(argument: _peerscope_v1_GetCrawlRequest, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Returns one crawl with its live progress counters.
   */
  getCrawl(argument: _peerscope_v1_GetCrawlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  getCrawl(argument: _peerscope_v1_GetCrawlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  getCrawl(argument: _peerscope_v1_GetCrawlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  getCrawl(argument: _peerscope_v1_GetCrawlRequest, callback: grpc.requestCallback<_peerscope_v1_GetCrawlResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Relay message counts per pubsub and content topic, as counted by the relay monitors of
   * all crawls (see `StartCrawlRequest.relay`), with undecodable data counted apart;
   * optionally summed per application or pubsub topic (`group_by`).
   */
  GetMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  GetMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  GetMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  GetMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Relay message counts per pubsub and content topic, as counted by the relay monitors of
   * all crawls (see `StartCrawlRequest.relay`), with undecodable data counted apart;
   * optionally summed per application or pubsub topic (`group_by`).
   */
  getMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  getMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  getMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  getMessageCounts(argument: _peerscope_v1_GetMessageCountsRequest, callback: grpc.requestCallback<_peerscope_v1_GetMessageCountsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Aggregates over the stored peers, for one crawl or for the whole store.
   */
  GetNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  GetNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  GetNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  GetNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Aggregates over the stored peers, for one crawl or for the whole store.
   */
  getNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  getNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  getNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  getNetworkStats(argument: _peerscope_v1_GetNetworkStatsRequest, callback: grpc.requestCallback<_peerscope_v1_GetNetworkStatsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Returns one peer by node id or peer id.
   */
  GetPeer(argument: _peerscope_v1_GetPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  GetPeer(argument: _peerscope_v1_GetPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  GetPeer(argument: _peerscope_v1_GetPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  GetPeer(argument: _peerscope_v1_GetPeerRequest, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Returns one peer by node id or peer id.
   */
  getPeer(argument: _peerscope_v1_GetPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  getPeer(argument: _peerscope_v1_GetPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  getPeer(argument: _peerscope_v1_GetPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  getPeer(argument: _peerscope_v1_GetPeerRequest, callback: grpc.requestCallback<_peerscope_v1_GetPeerResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The export to PostgreSQL (`peerscope serve --sink`): this server's vantage name, how far
   * the export got, how far behind the store it is, and its errors. The crawl never waits
   * for the database: while it is unreachable the lag grows and the export catches up
   * when it returns, each row once.
   */
  GetSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  GetSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  GetSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  GetSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The export to PostgreSQL (`peerscope serve --sink`): this server's vantage name, how far
   * the export got, how far behind the store it is, and its errors. The crawl never waits
   * for the database: while it is unreachable the lag grows and the export catches up
   * when it returns, each row once.
   */
  getSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  getSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  getSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  getSinkStatus(argument: _peerscope_v1_GetSinkStatusRequest, callback: grpc.requestCallback<_peerscope_v1_GetSinkStatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Lists crawls, newest first.
   */
  ListCrawls(argument: _peerscope_v1_ListCrawlsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  ListCrawls(argument: _peerscope_v1_ListCrawlsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  ListCrawls(argument: _peerscope_v1_ListCrawlsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  ListCrawls(argument: _peerscope_v1_ListCrawlsRequest, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Lists crawls, newest first.
   */
  listCrawls(argument: _peerscope_v1_ListCrawlsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  listCrawls(argument: _peerscope_v1_ListCrawlsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  listCrawls(argument: _peerscope_v1_ListCrawlsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  listCrawls(argument: _peerscope_v1_ListCrawlsRequest, callback: grpc.requestCallback<_peerscope_v1_ListCrawlsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Lists peers in node-id order, filtered and paged.
   */
  ListPeers(argument: _peerscope_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _peerscope_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _peerscope_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _peerscope_v1_ListPeersRequest, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Lists peers in node-id order, filtered and paged.
   */
  listPeers(argument: _peerscope_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _peerscope_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _peerscope_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _peerscope_v1_ListPeersRequest, callback: grpc.requestCallback<_peerscope_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Starts a crawl and returns it in state RUNNING.
   */
  StartCrawl(argument: _peerscope_v1_StartCrawlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  StartCrawl(argument: _peerscope_v1_StartCrawlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  StartCrawl(argument: _peerscope_v1_StartCrawlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  StartCrawl(argument: _peerscope_v1_StartCrawlRequest, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Starts a crawl and returns it in state RUNNING.
   */
  startCrawl(argument: _peerscope_v1_StartCrawlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  startCrawl(argument: _peerscope_v1_StartCrawlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  startCrawl(argument: _peerscope_v1_StartCrawlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  startCrawl(argument: _peerscope_v1_StartCrawlRequest, callback: grpc.requestCallback<_peerscope_v1_StartCrawlResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Stops a running crawl; it ends in state STOPPED. Stopping a crawl that already ended
   * returns it unchanged.
   */
  StopCrawl(argument: _peerscope_v1_StopCrawlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  StopCrawl(argument: _peerscope_v1_StopCrawlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  StopCrawl(argument: _peerscope_v1_StopCrawlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  StopCrawl(argument: _peerscope_v1_StopCrawlRequest, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Stops a running crawl; it ends in state STOPPED. Stopping a crawl that already ended
   * returns it unchanged.
   */
  stopCrawl(argument: _peerscope_v1_StopCrawlRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  stopCrawl(argument: _peerscope_v1_StopCrawlRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  stopCrawl(argument: _peerscope_v1_StopCrawlRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  stopCrawl(argument: _peerscope_v1_StopCrawlRequest, callback: grpc.requestCallback<_peerscope_v1_StopCrawlResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Streams peer events. Every event is written to the store with a sequence number before
   * it is streamed; with `after_sequence` set, the stream first replays the stored events
   * after that number and then continues live, with no gap and no duplicate. The crawl
   * never waits for a subscriber: each one reads the stored log at its own pace. Live
   * events are sent in batches, about 100 ms after they were written. A value
   * whose successors were dropped by retention, or beyond the last sequence, answers
   * OUT_OF_RANGE.
   */
  StreamPeerEvents(argument: _peerscope_v1_StreamPeerEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_StreamPeerEventsResponse__Output>;
  StreamPeerEvents(argument: _peerscope_v1_StreamPeerEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_StreamPeerEventsResponse__Output>;
  /**
   * Streams peer events. Every event is written to the store with a sequence number before
   * it is streamed; with `after_sequence` set, the stream first replays the stored events
   * after that number and then continues live, with no gap and no duplicate. The crawl
   * never waits for a subscriber: each one reads the stored log at its own pace. Live
   * events are sent in batches, about 100 ms after they were written. A value
   * whose successors were dropped by retention, or beyond the last sequence, answers
   * OUT_OF_RANGE.
   */
  streamPeerEvents(argument: _peerscope_v1_StreamPeerEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_StreamPeerEventsResponse__Output>;
  streamPeerEvents(argument: _peerscope_v1_StreamPeerEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_StreamPeerEventsResponse__Output>;
  
  /**
   * Streams progress snapshots of one crawl at a fixed interval. The stream ends after the
   * snapshot that shows the crawl in a final state (FINISHED, STOPPED, FAILED, INTERRUPTED).
   */
  WatchCrawl(argument: _peerscope_v1_WatchCrawlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_WatchCrawlResponse__Output>;
  WatchCrawl(argument: _peerscope_v1_WatchCrawlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_WatchCrawlResponse__Output>;
  /**
   * Streams progress snapshots of one crawl at a fixed interval. The stream ends after the
   * snapshot that shows the crawl in a final state (FINISHED, STOPPED, FAILED, INTERRUPTED).
   */
  watchCrawl(argument: _peerscope_v1_WatchCrawlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_WatchCrawlResponse__Output>;
  watchCrawl(argument: _peerscope_v1_WatchCrawlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peerscope_v1_WatchCrawlResponse__Output>;
  
}

/**
 * The crawler control plane.
 */
export interface CrawlerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Returns one crawl with its live progress counters.
   */
  GetCrawl: grpc.handleUnaryCall<_peerscope_v1_GetCrawlRequest__Output, _peerscope_v1_GetCrawlResponse>;
  
  /**
   * Relay message counts per pubsub and content topic, as counted by the relay monitors of
   * all crawls (see `StartCrawlRequest.relay`), with undecodable data counted apart;
   * optionally summed per application or pubsub topic (`group_by`).
   */
  GetMessageCounts: grpc.handleUnaryCall<_peerscope_v1_GetMessageCountsRequest__Output, _peerscope_v1_GetMessageCountsResponse>;
  
  /**
   * Aggregates over the stored peers, for one crawl or for the whole store.
   */
  GetNetworkStats: grpc.handleUnaryCall<_peerscope_v1_GetNetworkStatsRequest__Output, _peerscope_v1_GetNetworkStatsResponse>;
  
  /**
   * Returns one peer by node id or peer id.
   */
  GetPeer: grpc.handleUnaryCall<_peerscope_v1_GetPeerRequest__Output, _peerscope_v1_GetPeerResponse>;
  
  /**
   * The export to PostgreSQL (`peerscope serve --sink`): this server's vantage name, how far
   * the export got, how far behind the store it is, and its errors. The crawl never waits
   * for the database: while it is unreachable the lag grows and the export catches up
   * when it returns, each row once.
   */
  GetSinkStatus: grpc.handleUnaryCall<_peerscope_v1_GetSinkStatusRequest__Output, _peerscope_v1_GetSinkStatusResponse>;
  
  /**
   * Lists crawls, newest first.
   */
  ListCrawls: grpc.handleUnaryCall<_peerscope_v1_ListCrawlsRequest__Output, _peerscope_v1_ListCrawlsResponse>;
  
  /**
   * Lists peers in node-id order, filtered and paged.
   */
  ListPeers: grpc.handleUnaryCall<_peerscope_v1_ListPeersRequest__Output, _peerscope_v1_ListPeersResponse>;
  
  /**
   * Starts a crawl and returns it in state RUNNING.
   */
  StartCrawl: grpc.handleUnaryCall<_peerscope_v1_StartCrawlRequest__Output, _peerscope_v1_StartCrawlResponse>;
  
  /**
   * Stops a running crawl; it ends in state STOPPED. Stopping a crawl that already ended
   * returns it unchanged.
   */
  StopCrawl: grpc.handleUnaryCall<_peerscope_v1_StopCrawlRequest__Output, _peerscope_v1_StopCrawlResponse>;
  
  /**
   * Streams peer events. Every event is written to the store with a sequence number before
   * it is streamed; with `after_sequence` set, the stream first replays the stored events
   * after that number and then continues live, with no gap and no duplicate. The crawl
   * never waits for a subscriber: each one reads the stored log at its own pace. Live
   * events are sent in batches, about 100 ms after they were written. A value
   * whose successors were dropped by retention, or beyond the last sequence, answers
   * OUT_OF_RANGE.
   */
  StreamPeerEvents: grpc.handleServerStreamingCall<_peerscope_v1_StreamPeerEventsRequest__Output, _peerscope_v1_StreamPeerEventsResponse>;
  
  /**
   * Streams progress snapshots of one crawl at a fixed interval. The stream ends after the
   * snapshot that shows the crawl in a final state (FINISHED, STOPPED, FAILED, INTERRUPTED).
   */
  WatchCrawl: grpc.handleServerStreamingCall<_peerscope_v1_WatchCrawlRequest__Output, _peerscope_v1_WatchCrawlResponse>;
  
}

export interface CrawlerDefinition extends grpc.ServiceDefinition {
  GetCrawl: MethodDefinition<_peerscope_v1_GetCrawlRequest, _peerscope_v1_GetCrawlResponse, _peerscope_v1_GetCrawlRequest__Output, _peerscope_v1_GetCrawlResponse__Output>
  GetMessageCounts: MethodDefinition<_peerscope_v1_GetMessageCountsRequest, _peerscope_v1_GetMessageCountsResponse, _peerscope_v1_GetMessageCountsRequest__Output, _peerscope_v1_GetMessageCountsResponse__Output>
  GetNetworkStats: MethodDefinition<_peerscope_v1_GetNetworkStatsRequest, _peerscope_v1_GetNetworkStatsResponse, _peerscope_v1_GetNetworkStatsRequest__Output, _peerscope_v1_GetNetworkStatsResponse__Output>
  GetPeer: MethodDefinition<_peerscope_v1_GetPeerRequest, _peerscope_v1_GetPeerResponse, _peerscope_v1_GetPeerRequest__Output, _peerscope_v1_GetPeerResponse__Output>
  GetSinkStatus: MethodDefinition<_peerscope_v1_GetSinkStatusRequest, _peerscope_v1_GetSinkStatusResponse, _peerscope_v1_GetSinkStatusRequest__Output, _peerscope_v1_GetSinkStatusResponse__Output>
  ListCrawls: MethodDefinition<_peerscope_v1_ListCrawlsRequest, _peerscope_v1_ListCrawlsResponse, _peerscope_v1_ListCrawlsRequest__Output, _peerscope_v1_ListCrawlsResponse__Output>
  ListPeers: MethodDefinition<_peerscope_v1_ListPeersRequest, _peerscope_v1_ListPeersResponse, _peerscope_v1_ListPeersRequest__Output, _peerscope_v1_ListPeersResponse__Output>
  StartCrawl: MethodDefinition<_peerscope_v1_StartCrawlRequest, _peerscope_v1_StartCrawlResponse, _peerscope_v1_StartCrawlRequest__Output, _peerscope_v1_StartCrawlResponse__Output>
  StopCrawl: MethodDefinition<_peerscope_v1_StopCrawlRequest, _peerscope_v1_StopCrawlResponse, _peerscope_v1_StopCrawlRequest__Output, _peerscope_v1_StopCrawlResponse__Output>
  StreamPeerEvents: MethodDefinition<_peerscope_v1_StreamPeerEventsRequest, _peerscope_v1_StreamPeerEventsResponse, _peerscope_v1_StreamPeerEventsRequest__Output, _peerscope_v1_StreamPeerEventsResponse__Output>
  WatchCrawl: MethodDefinition<_peerscope_v1_WatchCrawlRequest, _peerscope_v1_WatchCrawlResponse, _peerscope_v1_WatchCrawlRequest__Output, _peerscope_v1_WatchCrawlResponse__Output>
}
