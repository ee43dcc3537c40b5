// Original file: proto/peerscope/v1/peerscope.proto

/**
 * How a crawl runs.
 */
export const CrawlMode = {
  /**
   * Not set; StartCrawl treats it as CRAWL_MODE_ONESHOT.
   */
  CRAWL_MODE_UNSPECIFIED: 'CRAWL_MODE_UNSPECIFIED',
  /**
   * Enumerate the network once: the crawl finishes when every known node has been queried
   * and nothing new appears, and keeps its final counters as a summary.
   */
  CRAWL_MODE_ONESHOT: 'CRAWL_MODE_ONESHOT',
  /**
   * Enumerate, wait `recrawl_interval`, enumerate again, until stopped or a limit is hit.
   */
  CRAWL_MODE_CONTINUOUS: 'CRAWL_MODE_CONTINUOUS',
} as const;

/**
 * How a crawl runs.
 */
export type CrawlMode =
  /**
   * Not set; StartCrawl treats it as CRAWL_MODE_ONESHOT.
   */
  | 'CRAWL_MODE_UNSPECIFIED'
  | 0
  /**
   * Enumerate the network once: the crawl finishes when every known node has been queried
   * and nothing new appears, and keeps its final counters as a summary.
   */
  | 'CRAWL_MODE_ONESHOT'
  | 1
  /**
   * Enumerate, wait `recrawl_interval`, enumerate again, until stopped or a limit is hit.
   */
  | 'CRAWL_MODE_CONTINUOUS'
  | 2

/**
 * How a crawl runs.
 */
export type CrawlMode__Output = typeof CrawlMode[keyof typeof CrawlMode]
