// Original file: proto/peerscope/v1/peerscope.proto


export interface GetCrawlRequest {
  /**
   * The crawl. Required.
   */
  'crawlId'?: (string);
}

export interface GetCrawlRequest__Output {
  /**
   * The crawl. Required.
   */
  'crawlId': (string);
}
