// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { Long } from '@grpc/proto-loader';

/**
 * Bounds on one crawl.
 */
export interface CrawlLimits {
  /**
   * Most distinct nodes the crawl keeps track of. Once it knows this many, records of
   * further nodes are dropped (counted in `CrawlProgress.dropped_over_cap`, not stored,
   * never contacted) and the crawl goes on with the nodes it knows: a CONTINUOUS crawl
   * keeps running, a ONESHOT crawl finishes once they are walked. Zero or unset: the
   * default, 50000 (there is no unbounded setting: strangers choose what records they
   * send). At most 10000000.
   */
  'maxPeers'?: (number | string | Long);
  /**
   * Finish once the crawl has run this long. Zero or unset: no bound. At most 365 days;
   * must not be negative.
   */
  'maxDuration'?: (_google_protobuf_Duration | null);
  /**
   * New nodes one responder may introduce per round: a node answering FINDNODE or peer
   * exchange (identities answering from one address share one budget), or discv5's
   * random lookups together. Records over it are dropped for that round (counted in
   * `CrawlProgress.dropped_over_budget`). An honest node cannot introduce more than
   * about 350 nodes a round (18 FINDNODE answers of at most 16 records, a peer-exchange
   * answer of at most 60), so the default, 512, never drops what an honest node says.
   * Must be 1..=1000000 when set.
   */
  'maxNewPerResponder'?: (number);
  '_maxNewPerResponder'?: "maxNewPerResponder";
}

/**
 * Bounds on one crawl.
 */
export interface CrawlLimits__Output {
  /**
   * Most distinct nodes the crawl keeps track of. Once it knows this many, records of
   * further nodes are dropped (counted in `CrawlProgress.dropped_over_cap`, not stored,
   * never contacted) and the crawl goes on with the nodes it knows: a CONTINUOUS crawl
   * keeps running, a ONESHOT crawl finishes once they are walked. Zero or unset: the
   * default, 50000 (there is no unbounded setting: strangers choose what records they
   * send). At most 10000000.
   */
  'maxPeers': (string);
  /**
   * Finish once the crawl has run this long. Zero or unset: no bound. At most 365 days;
   * must not be negative.
   */
  'maxDuration': (_google_protobuf_Duration__Output | null);
  /**
   * New nodes one responder may introduce per round: a node answering FINDNODE or peer
   * exchange (identities answering from one address share one budget), or discv5's
   * random lookups together. Records over it are dropped for that round (counted in
   * `CrawlProgress.dropped_over_budget`). An honest node cannot introduce more than
   * about 350 nodes a round (18 FINDNODE answers of at most 16 records, a peer-exchange
   * answer of at most 60), so the default, 512, never drops what an honest node says.
   * Must be 1..=1000000 when set.
   */
  'maxNewPerResponder'?: (number);
  '_maxNewPerResponder'?: "maxNewPerResponder";
}
