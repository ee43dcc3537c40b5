// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

export interface WatchCrawlRequest {
  /**
   * The crawl. Required.
   */
  'crawlId'?: (string);
  /**
   * Time between snapshots. Default 1s; must be 50ms..=1h when set.
   */
  'interval'?: (_google_protobuf_Duration | null);
}

export interface WatchCrawlRequest__Output {
  /**
   * The crawl. Required.
   */
  'crawlId': (string);
  /**
   * Time between snapshots. Default 1s; must be 50ms..=1h when set.
   */
  'interval': (_google_protobuf_Duration__Output | null);
}
