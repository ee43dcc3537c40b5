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
   * Shards of interest in the cluster (0..=1023), at most 1024 entries.
   */
  'shards'?: (number)[];
  /**
   * A Waku fleet's EIP-1459 tree, by name; its URL is added to `dns_tree_urls`, and when
   * `cluster_id` is 0 the fleet's cluster replaces it. Known presets:
   * - `sandbox` (The Waku Network, cluster 1):
   * enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im
   * - `test` (The Waku Network, cluster 1):
   * enrtree://AOGYWMBYOUIMOENHXCHILPKY3ZRFEULMFI4DOM442QSZ73TT2A7VI@test.waku.nodes.status.im
   * - `status` (Status prod, cluster 16):
   * enrtree://AMOJVZX4V6EXP7NTJPMAYJYST2QP6AJXYW76IU6VGJS7UVSNDYZG4@boot.prod.status.nodes.status.im
   * Any other name fails INVALID_ARGUMENT. Empty: none.
   */
  'preset'?: (string);
  /**
   * The discv5 protocol id the network speaks: 6 ASCII characters. Default `d5waku`;
   * networks of older nwaku releases speak `discv5` (Ethereum's). The profile stays Waku
   * whatever the id: records are read as Waku records, the relay monitor runs and Waku
   * stats are kept. Anything but 6 ASCII characters fails INVALID_ARGUMENT.
   */
  'protocolId'?: (string);
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
   * Shards of interest in the cluster (0..=1023), at most 1024 entries.
   */
  'shards': (number)[];
  /**
   * A Waku fleet's EIP-1459 tree, by name; its URL is added to `dns_tree_urls`, and when
   * `cluster_id` is 0 the fleet's cluster replaces it. Known presets:
   * - `sandbox` (The Waku Network, cluster 1):
   * enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im
   * - `test` (The Waku Network, cluster 1):
   * enrtree://AOGYWMBYOUIMOENHXCHILPKY3ZRFEULMFI4DOM442QSZ73TT2A7VI@test.waku.nodes.status.im
   * - `status` (Status prod, cluster 16):
   * enrtree://AMOJVZX4V6EXP7NTJPMAYJYST2QP6AJXYW76IU6VGJS7UVSNDYZG4@boot.prod.status.nodes.status.im
   * Any other name fails INVALID_ARGUMENT. Empty: none.
   */
  'preset': (string);
  /**
   * The discv5 protocol id the network speaks: 6 ASCII characters. Default `d5waku`;
   * networks of older nwaku releases speak `discv5` (Ethereum's). The profile stays Waku
   * whatever the id: records are read as Waku records, the relay monitor runs and Waku
   * stats are kept. Anything but 6 ASCII characters fails INVALID_ARGUMENT.
   */
  'protocolId': (string);
}
