// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { CrawlLimits as _peerscope_v1_CrawlLimits, CrawlLimits__Output as _peerscope_v1_CrawlLimits__Output } from '../../peerscope/v1/CrawlLimits';

/**
 * The effective settings of a crawl.
 */
export interface CrawlSettings {
  'concurrency'?: (number);
  'requestTimeout'?: (_google_protobuf_Duration | null);
  'findNodeDistances'?: (number);
  'randomLookups'?: (number);
  'recrawlInterval'?: (_google_protobuf_Duration | null);
  'limits'?: (_peerscope_v1_CrawlLimits | null);
  'dial'?: (boolean);
  'dialConcurrency'?: (number);
  'dialTimeout'?: (_google_protobuf_Duration | null);
  'dialsPerIp'?: (number);
  'minRedialInterval'?: (_google_protobuf_Duration | null);
  'relay'?: (boolean);
  'relayPeers'?: (number);
  'pubsubTopics'?: (string)[];
  /**
   * Peer exchange client on.
   */
  'pxClient'?: (boolean);
  /**
   * Minimum time between two peer-exchange requests to one peer.
   */
  'pxInterval'?: (_google_protobuf_Duration | null);
  /**
   * Seed mode on.
   */
  'seed'?: (boolean);
  /**
   * Seed mode: one request per requester per this interval.
   */
  'seedRequesterInterval'?: (_google_protobuf_Duration | null);
  /**
   * Seed mode: requests per IP address per `seed_requester_interval`.
   */
  'seedRequestsPerIp'?: (number);
  /**
   * The explicit allow-list, as given (normalized); empty when the scope comes from the
   * bootstrap records.
   */
  'allowedCidrs'?: (string)[];
  /**
   * The effective address scope: the allow-list (`127.0.0.1/32,10.0.0.0/8`), or the
   * classes of the bootstrap addresses (`public`, `loopback`, `private+public`…).
   */
  'addressScope'?: (string);
}

/**
 * The effective settings of a crawl.
 */
export interface CrawlSettings__Output {
  'concurrency': (number);
  'requestTimeout': (_google_protobuf_Duration__Output | null);
  'findNodeDistances': (number);
  'randomLookups': (number);
  'recrawlInterval': (_google_protobuf_Duration__Output | null);
  'limits': (_peerscope_v1_CrawlLimits__Output | null);
  'dial': (boolean);
  'dialConcurrency': (number);
  'dialTimeout': (_google_protobuf_Duration__Output | null);
  'dialsPerIp': (number);
  'minRedialInterval': (_google_protobuf_Duration__Output | null);
  'relay': (boolean);
  'relayPeers': (number);
  'pubsubTopics': (string)[];
  /**
   * Peer exchange client on.
   */
  'pxClient': (boolean);
  /**
   * Minimum time between two peer-exchange requests to one peer.
   */
  'pxInterval': (_google_protobuf_Duration__Output | null);
  /**
   * Seed mode on.
   */
  'seed': (boolean);
  /**
   * Seed mode: one request per requester per this interval.
   */
  'seedRequesterInterval': (_google_protobuf_Duration__Output | null);
  /**
   * Seed mode: requests per IP address per `seed_requester_interval`.
   */
  'seedRequestsPerIp': (number);
  /**
   * The explicit allow-list, as given (normalized); empty when the scope comes from the
   * bootstrap records.
   */
  'allowedCidrs': (string)[];
  /**
   * The effective address scope: the allow-list (`127.0.0.1/32,10.0.0.0/8`), or the
   * classes of the bootstrap addresses (`public`, `loopback`, `private+public`…).
   */
  'addressScope': (string);
}
