// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { Long } from '@grpc/proto-loader';

/**
 * Bounds on one crawl. Zero or unset means no bound.
 */
export interface CrawlLimits {
  /**
   * Finish once this many distinct nodes were discovered.
   */
  'maxPeers'?: (number | string | Long);
  /**
   * Finish once the crawl has run this long. At most 365 days; must not be negative.
   */
  'maxDuration'?: (_google_protobuf_Duration | null);
}

/**
 * Bounds on one crawl. Zero or unset means no bound.
 */
export interface CrawlLimits__Output {
  /**
   * Finish once this many distinct nodes were discovered.
   */
  'maxPeers': (string);
  /**
   * Finish once the crawl has run this long. At most 365 days; must not be negative.
   */
  'maxDuration': (_google_protobuf_Duration__Output | null);
}
