// Original file: proto/peerscope/v1/peerscope.proto


export interface GetNetworkStatsRequest {
  /**
   * Aggregate over the peers of this crawl; empty for the whole store. An unknown crawl
   * fails NOT_FOUND.
   */
  'crawlId'?: (string);
}

export interface GetNetworkStatsRequest__Output {
  /**
   * Aggregate over the peers of this crawl; empty for the whole store. An unknown crawl
   * fails NOT_FOUND.
   */
  'crawlId': (string);
}
