// Original file: proto/peerscope/v1/peerscope.proto

import type { Crawl as _peerscope_v1_Crawl, Crawl__Output as _peerscope_v1_Crawl__Output } from '../../peerscope/v1/Crawl';

export interface StopCrawlResponse {
  /**
   * The crawl after it stopped.
   */
  'crawl'?: (_peerscope_v1_Crawl | null);
}

export interface StopCrawlResponse__Output {
  /**
   * The crawl after it stopped.
   */
  'crawl': (_peerscope_v1_Crawl__Output | null);
}
