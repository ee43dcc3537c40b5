// Original file: proto/peerscope/v1/peerscope.proto

/**
 * Where a crawl is in its life.
 */
export const CrawlState = {
  /**
   * Never returned by the server.
   */
  CRAWL_STATE_UNSPECIFIED: 'CRAWL_STATE_UNSPECIFIED',
  /**
   * Discovering. A CONTINUOUS crawl that is running when the server stops (crash, kill or
   * shutdown) resumes by itself at the next start, with the same id, settings and node
   * identity (node id, peer id) and its address book (who is due for a dial when, bans,
   * failures in a row), and a PEER_EVENT_KIND_RESUMED event; unless the server starts with
   * `--no-resume`.
   */
  CRAWL_STATE_RUNNING: 'CRAWL_STATE_RUNNING',
  /**
   * A ONESHOT crawl that enumerated the network, or a crawl that reached one of its limits.
   */
  CRAWL_STATE_FINISHED: 'CRAWL_STATE_FINISHED',
  /**
   * Stopped by StopCrawl, or a ONESHOT crawl by server shutdown.
   */
  CRAWL_STATE_STOPPED: 'CRAWL_STATE_STOPPED',
  /**
   * Could not run (for example its UDP socket could not be bound); see `Crawl.error`.
   */
  CRAWL_STATE_FAILED: 'CRAWL_STATE_FAILED',
  /**
   * The server stopped while the crawl was running and the crawl was not resumed: a
   * ONESHOT crawl whose server process ended (crash or kill), or a CONTINUOUS one when
   * the next start had `--no-resume`. Found so at the next start.
   */
  CRAWL_STATE_INTERRUPTED: 'CRAWL_STATE_INTERRUPTED',
} as const;

/**
 * Where a crawl is in its life.
 */
export type CrawlState =
  /**
   * Never returned by the server.
   */
  | 'CRAWL_STATE_UNSPECIFIED'
  | 0
  /**
   * Discovering. A CONTINUOUS crawl that is running when the server stops (crash, kill or
   * shutdown) resumes by itself at the next start, with the same id, settings and node
   * identity (node id, peer id) and its address book (who is due for a dial when, bans,
   * failures in a row), and a PEER_EVENT_KIND_RESUMED event; unless the server starts with
   * `--no-resume`.
   */
  | 'CRAWL_STATE_RUNNING'
  | 1
  /**
   * A ONESHOT crawl that enumerated the network, or a crawl that reached one of its limits.
   */
  | 'CRAWL_STATE_FINISHED'
  | 2
  /**
   * Stopped by StopCrawl, or a ONESHOT crawl by server shutdown.
   */
  | 'CRAWL_STATE_STOPPED'
  | 3
  /**
   * Could not run (for example its UDP socket could not be bound); see `Crawl.error`.
   */
  | 'CRAWL_STATE_FAILED'
  | 4
  /**
   * The server stopped while the crawl was running and the crawl was not resumed: a
   * ONESHOT crawl whose server process ended (crash or kill), or a CONTINUOUS one when
   * the next start had `--no-resume`. Found so at the next start.
   */
  | 'CRAWL_STATE_INTERRUPTED'
  | 5

/**
 * Where a crawl is in its life.
 */
export type CrawlState__Output = typeof CrawlState[keyof typeof CrawlState]
