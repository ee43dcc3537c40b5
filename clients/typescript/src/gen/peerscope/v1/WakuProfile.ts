// Original file: proto/peerscope/v1/peerscope.proto


/**
 * Waku network parameters.
 */
export interface WakuProfile {
  /**
   * Cluster id (0 = global, 1 = The Waku Network, 16 = Status). Recorded with the crawl;
   * peers of every cluster are still enumerated and labelled with their own cluster.
   */
  'clusterId'?: (number);
  /**
   * Shards of interest in the cluster (0..=1023).
   */
  'shards'?: (number)[];
}

/**
 * Waku network parameters.
 */
export interface WakuProfile__Output {
  /**
   * Cluster id (0 = global, 1 = The Waku Network, 16 = Status). Recorded with the crawl;
   * peers of every cluster are still enumerated and labelled with their own cluster.
   */
  'clusterId': (number);
  /**
   * Shards of interest in the cluster (0..=1023).
   */
  'shards': (number)[];
}
