// Original file: proto/peerscope/v1/peerscope.proto

import type { CrawlState as _peerscope_v1_CrawlState, CrawlState__Output as _peerscope_v1_CrawlState__Output } from '../../peerscope/v1/CrawlState';

export interface ListCrawlsRequest {
  /**
   * Maximum crawls to return. Default 50; values above 1000 are treated as 1000.
   */
  'pageSize'?: (number);
  /**
   * `next_page_token` of a previous response; empty for the first page.
   */
  'pageToken'?: (string);
  /**
   * Only crawls in this state (unset: all).
   */
  'state'?: (_peerscope_v1_CrawlState);
}

export interface ListCrawlsRequest__Output {
  /**
   * Maximum crawls to return. Default 50; values above 1000 are treated as 1000.
   */
  'pageSize': (number);
  /**
   * `next_page_token` of a previous response; empty for the first page.
   */
  'pageToken': (string);
  /**
   * Only crawls in this state (unset: all).
   */
  'state': (_peerscope_v1_CrawlState__Output);
}
