// Original file: proto/peerscope/v1/peerscope.proto


export interface StopCrawlRequest {
  /**
   * The crawl to stop. Required.
   */
  'crawlId'?: (string);
}

export interface StopCrawlRequest__Output {
  /**
   * The crawl to stop. Required.
   */
  'crawlId': (string);
}
