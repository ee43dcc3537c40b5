// Original file: proto/peerscope/v1/peerscope.proto

import type { Crawl as _peerscope_v1_Crawl, Crawl__Output as _peerscope_v1_Crawl__Output } from '../../peerscope/v1/Crawl';

export interface ListCrawlsResponse {
  /**
   * Crawls, newest first.
   */
  'crawls'?: (_peerscope_v1_Crawl)[];
  /**
   * Token for the next page; empty when there is none.
   */
  'nextPageToken'?: (string);
}

export interface ListCrawlsResponse__Output {
  /**
   * Crawls, newest first.
   */
  'crawls': (_peerscope_v1_Crawl__Output)[];
  /**
   * Token for the next page; empty when there is none.
   */
  'nextPageToken': (string);
}
