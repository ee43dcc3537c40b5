// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ListPeersRequest {
  /**
   * Maximum peers per page. Default 100; values above 1000 are treated as 1000.
   */
  'pageSize'?: (number);
  /**
   * `next_page_token` of the previous page; empty for the first page. Pass the same
   * filters with it.
   */
  'pageToken'?: (string);
  /**
   * Only peers whose ENR `waku2` field has this capability: relay, store, filter,
   * lightpush, sync or mix.
   */
  'capability'?: (string);
  /**
   * Only peers whose ENR names this cluster (from `rs`/`rsv`).
   */
  'clusterId'?: (number);
  /**
   * Only peers whose ENR lists this shard (any cluster, unless `cluster_id` is set).
   */
  'shard'?: (number);
  /**
   * Only peers seen by this crawl. An unknown crawl fails NOT_FOUND.
   */
  'crawlId'?: (string);
  /**
   * Only peers last seen at or after this time (1970..=9999).
   */
  'seenSince'?: (_google_protobuf_Timestamp | null);
  /**
   * Only peers whose identify lists this protocol, e.g. `/vac/waku/store-query/3.0.0`.
   * At most 256 bytes.
   */
  'protocol'?: (string);
  /**
   * Only peers whose identify agent version starts with this. At most 256 bytes.
   */
  'agent'?: (string);
  /**
   * Only peers whose last dial connected (true) or failed (false).
   */
  'reachable'?: (boolean);
  /**
   * Only geolocated peers in this country, by name (`Germany`) or ISO code (`DE`), or with
   * this non-public kind (`loopback`, `private`…), or `unknown` for failed lookups;
   * case-insensitive. At most 256 bytes.
   */
  'country'?: (string);
  /**
   * CometBFT: only peers whose NodeInfo names this network (chain id). At most 256 bytes.
   */
  'chainId'?: (string);
  '_clusterId'?: "clusterId";
  '_shard'?: "shard";
  '_reachable'?: "reachable";
}

export interface ListPeersRequest__Output {
  /**
   * Maximum peers per page. Default 100; values above 1000 are treated as 1000.
   */
  'pageSize': (number);
  /**
   * `next_page_token` of the previous page; empty for the first page. Pass the same
   * filters with it.
   */
  'pageToken': (string);
  /**
   * Only peers whose ENR `waku2` field has this capability: relay, store, filter,
   * lightpush, sync or mix.
   */
  'capability': (string);
  /**
   * Only peers whose ENR names this cluster (from `rs`/`rsv`).
   */
  'clusterId'?: (number);
  /**
   * Only peers whose ENR lists this shard (any cluster, unless `cluster_id` is set).
   */
  'shard'?: (number);
  /**
   * Only peers seen by this crawl. An unknown crawl fails NOT_FOUND.
   */
  'crawlId': (string);
  /**
   * Only peers last seen at or after this time (1970..=9999).
   */
  'seenSince': (_google_protobuf_Timestamp__Output | null);
  /**
   * Only peers whose identify lists this protocol, e.g. `/vac/waku/store-query/3.0.0`.
   * At most 256 bytes.
   */
  'protocol': (string);
  /**
   * Only peers whose identify agent version starts with this. At most 256 bytes.
   */
  'agent': (string);
  /**
   * Only peers whose last dial connected (true) or failed (false).
   */
  'reachable'?: (boolean);
  /**
   * Only geolocated peers in this country, by name (`Germany`) or ISO code (`DE`), or with
   * this non-public kind (`loopback`, `private`…), or `unknown` for failed lookups;
   * case-insensitive. At most 256 bytes.
   */
  'country': (string);
  /**
   * CometBFT: only peers whose NodeInfo names this network (chain id). At most 256 bytes.
   */
  'chainId': (string);
  '_clusterId'?: "clusterId";
  '_shard'?: "shard";
  '_reachable'?: "reachable";
}
