// Original file: proto/peerscope/v1/peerscope.proto

import type { CrawlState as _peerscope_v1_CrawlState, CrawlState__Output as _peerscope_v1_CrawlState__Output } from '../../peerscope/v1/CrawlState';
import type { CrawlMode as _peerscope_v1_CrawlMode, CrawlMode__Output as _peerscope_v1_CrawlMode__Output } from '../../peerscope/v1/CrawlMode';
import type { NetworkProfile as _peerscope_v1_NetworkProfile, NetworkProfile__Output as _peerscope_v1_NetworkProfile__Output } from '../../peerscope/v1/NetworkProfile';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { CrawlProgress as _peerscope_v1_CrawlProgress, CrawlProgress__Output as _peerscope_v1_CrawlProgress__Output } from '../../peerscope/v1/CrawlProgress';
import type { CrawlSettings as _peerscope_v1_CrawlSettings, CrawlSettings__Output as _peerscope_v1_CrawlSettings__Output } from '../../peerscope/v1/CrawlSettings';

/**
 * One crawl.
 */
export interface Crawl {
  /**
   * Server-assigned id.
   */
  'id'?: (string);
  /**
   * Name from StartCrawl.
   */
  'name'?: (string);
  /**
   * Labels from StartCrawl.
   */
  'labels'?: ({[key: string]: string});
  /**
   * Current state.
   */
  'state'?: (_peerscope_v1_CrawlState);
  /**
   * Mode from StartCrawl.
   */
  'mode'?: (_peerscope_v1_CrawlMode);
  /**
   * The network profile.
   */
  'profile'?: (_peerscope_v1_NetworkProfile | null);
  /**
   * Bootstrap ENRs as given, plus those resolved from `dns_tree_urls`.
   */
  'bootstrapEnrs'?: (string)[];
  /**
   * When StartCrawl accepted it.
   */
  'createdAt'?: (_google_protobuf_Timestamp | null);
  /**
   * When it reached a final state; unset while running.
   */
  'finishedAt'?: (_google_protobuf_Timestamp | null);
  /**
   * Counters; for a finished crawl, its summary.
   */
  'progress'?: (_peerscope_v1_CrawlProgress | null);
  /**
   * Why the crawl failed, for FAILED; empty otherwise.
   */
  'error'?: (string);
  /**
   * The discv5 UDP address the crawl is bound to.
   */
  'listenAddr'?: (string);
  /**
   * Effective settings (defaults filled in).
   */
  'settings'?: (_peerscope_v1_CrawlSettings | null);
  /**
   * EIP-1459 tree URLs as given.
   */
  'dnsTreeUrls'?: (string)[];
  /**
   * Seed mode: the TCP address peer exchange is served on; empty otherwise. For a
   * CometBFT seed, its `id@ip:port` address (what other nodes put in their `seeds`).
   */
  'seedAddr'?: (string);
  /**
   * The crawl's local ENR (`enr:` text): no ip/udp unless in seed mode. For a CometBFT
   * crawl, its node id.
   */
  'localEnr'?: (string);
}

/**
 * One crawl.
 */
export interface Crawl__Output {
  /**
   * Server-assigned id.
   */
  'id': (string);
  /**
   * Name from StartCrawl.
   */
  'name': (string);
  /**
   * Labels from StartCrawl.
   */
  'labels': ({[key: string]: string});
  /**
   * Current state.
   */
  'state': (_peerscope_v1_CrawlState__Output);
  /**
   * Mode from StartCrawl.
   */
  'mode': (_peerscope_v1_CrawlMode__Output);
  /**
   * The network profile.
   */
  'profile': (_peerscope_v1_NetworkProfile__Output | null);
  /**
   * Bootstrap ENRs as given, plus those resolved from `dns_tree_urls`.
   */
  'bootstrapEnrs': (string)[];
  /**
   * When StartCrawl accepted it.
   */
  'createdAt': (_google_protobuf_Timestamp__Output | null);
  /**
   * When it reached a final state; unset while running.
   */
  'finishedAt': (_google_protobuf_Timestamp__Output | null);
  /**
   * Counters; for a finished crawl, its summary.
   */
  'progress': (_peerscope_v1_CrawlProgress__Output | null);
  /**
   * Why the crawl failed, for FAILED; empty otherwise.
   */
  'error': (string);
  /**
   * The discv5 UDP address the crawl is bound to.
   */
  'listenAddr': (string);
  /**
   * Effective settings (defaults filled in).
   */
  'settings': (_peerscope_v1_CrawlSettings__Output | null);
  /**
   * EIP-1459 tree URLs as given.
   */
  'dnsTreeUrls': (string)[];
  /**
   * Seed mode: the TCP address peer exchange is served on; empty otherwise. For a
   * CometBFT seed, its `id@ip:port` address (what other nodes put in their `seeds`).
   */
  'seedAddr': (string);
  /**
   * The crawl's local ENR (`enr:` text): no ip/udp unless in seed mode. For a CometBFT
   * crawl, its node id.
   */
  'localEnr': (string);
}
