// Original file: proto/peerscope/v1/peerscope.proto

import type { Crawl as _peerscope_v1_Crawl, Crawl__Output as _peerscope_v1_Crawl__Output } from '../../peerscope/v1/Crawl';

export interface GetCrawlResponse {
  'crawl'?: (_peerscope_v1_Crawl | null);
}

export interface GetCrawlResponse__Output {
  'crawl': (_peerscope_v1_Crawl__Output | null);
}
