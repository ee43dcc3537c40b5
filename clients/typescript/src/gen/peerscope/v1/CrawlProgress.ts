// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { Long } from '@grpc/proto-loader';

/**
 * Progress counters of a crawl.
 */
export interface CrawlProgress {
  /**
   * Distinct nodes discovered (those out of the address scope included; at most
   * `limits.max_peers`).
   */
  'discovered'?: (number | string | Long);
  /**
   * Nodes whose routing table was walked (all distances asked), in the current round.
   */
  'queried'?: (number | string | Long);
  /**
   * Nodes known but not yet walked in the current round.
   */
  'queued'?: (number | string | Long);
  /**
   * discv5 requests in flight now.
   */
  'inFlight'?: (number | string | Long);
  /**
   * FINDNODE requests sent, all rounds.
   */
  'findNodeRequests'?: (number | string | Long);
  /**
   * FINDNODE requests that failed (timeout or error), all rounds.
   */
  'findNodeFailures'?: (number | string | Long);
  /**
   * Nodes none of whose FINDNODE requests were answered, in the current round.
   */
  'unresponsive'?: (number | string | Long);
  /**
   * Random lookups completed, all rounds.
   */
  'lookups'?: (number | string | Long);
  /**
   * ENR records newer than the stored one (higher seq) seen.
   */
  'enrUpdates'?: (number | string | Long);
  /**
   * Enumeration rounds completed.
   */
  'rounds'?: (number | string | Long);
  /**
   * Time since the crawl started.
   */
  'elapsed'?: (_google_protobuf_Duration | null);
  /**
   * Dials started, all rounds.
   */
  'dials'?: (number | string | Long);
  /**
   * Dials in flight now.
   */
  'dialing'?: (number | string | Long);
  /**
   * Dials that connected, all rounds.
   */
  'connected'?: (number | string | Long);
  /**
   * Dials that failed, all rounds, by error class (see `Peer.last_error_class`).
   */
  'failedByClass'?: ({[key: string]: number | string | Long});
  /**
   * Peers identified (identify answered), all rounds.
   */
  'identified'?: (number | string | Long);
  /**
   * Discovered peers not dialed yet in the current round.
   */
  'dialQueued'?: (number | string | Long);
  /**
   * Relay connections held now.
   */
  'relayPeers'?: (number | string | Long);
  /**
   * Smallest gossipsub mesh over the subscribed pubsub topics (0 until every topic has one).
   */
  'relayMeshPeers'?: (number | string | Long);
  /**
   * Relay messages counted by this crawl.
   */
  'messages'?: (number | string | Long);
  /**
   * ONESHOT crawls only, while RUNNING: estimated time until the crawl finishes. It is the
   * work known to remain (nodes queued or being walked, peers waiting for or in a dial)
   * divided by the throughput of the last 10 seconds, for the walk and the dials apart,
   * whichever takes longer; nodes not discovered yet are not counted, so it can grow
   * while new nodes appear. Never negative. Unset for CONTINUOUS crawls, in a crawl's
   * final summary, and while there is no throughput to estimate from (the first moments
   * of a crawl).
   */
  'estimatedRemaining'?: (_google_protobuf_Duration | null);
  /**
   * Peer-exchange requests sent, all rounds.
   */
  'pxRequests'?: (number | string | Long);
  /**
   * Peer-exchange requests that failed or were refused (status other than 200).
   */
  'pxFailures'?: (number | string | Long);
  /**
   * Valid ENRs received in peer-exchange answers (a record may arrive many times).
   */
  'pxEnrs'?: (number | string | Long);
  /**
   * Seed mode: requests answered with records (status 200).
   */
  'pxServed'?: (number | string | Long);
  /**
   * Seed mode: requests refused (status 400 or 429; CometBFT: refused and disconnected).
   */
  'pxRefused'?: (number | string | Long);
  /**
   * CometBFT: addresses in PEX answers that were dropped (undialable, out of scope,
   * duplicates, the crawler itself, over the crawl's peer cap).
   */
  'invalidAddrs'?: (number | string | Long);
  /**
   * CometBFT: peers this crawl banned.
   */
  'banned'?: (number | string | Long);
  /**
   * Seed mode: refused requests not written to the event log (at most one refusal per IP
   * address per interval is).
   */
  'pxRefusedUnlogged'?: (number | string | Long);
  /**
   * Seed mode: inbound connections refused (too many at once, or too many from one IP
   * address).
   */
  'pxConnectionsRefused'?: (number | string | Long);
  /**
   * Records of new nodes dropped because the crawl knew `limits.max_peers` nodes.
   */
  'droppedOverCap'?: (number | string | Long);
  /**
   * Records of new nodes dropped because their responder had introduced
   * `limits.max_new_per_responder` nodes that round.
   */
  'droppedOverBudget'?: (number | string | Long);
  /**
   * Nodes whose record names an address outside the crawl's address scope (see
   * `StartCrawlRequest.allowed_cidrs`): stored, never contacted.
   */
  'outOfScope'?: (number | string | Long);
  /**
   * FINDNODE requests that got no answer in time, all rounds (counted in
   * `find_node_failures` too).
   */
  'findNodeTimeouts'?: (number | string | Long);
  /**
   * The timeout the walk gives a FINDNODE request now: 3 × the 99th percentile of the
   * round trips of the last 256 answers, at least 100 ms and at most the crawl's
   * `request_timeout` (which it is until 16 answers are in). A request that times out is
   * retried at once.
   */
  'requestTimeout'?: (_google_protobuf_Duration | null);
  /**
   * Time from the last answered FINDNODE request of a round to the moment its walk had
   * nothing left to do (dials may go on): what nodes that never answered cost at its end,
   * about two request timeouts at most. Unset until the walk of the first round is done.
   */
  'walkTail'?: (_google_protobuf_Duration | null);
  /**
   * Nodes that random lookups returned and no FINDNODE answer of the walk did, all
   * rounds (what the lookups found beyond the walk).
   */
  'lookupOnly'?: (number | string | Long);
}

/**
 * Progress counters of a crawl.
 */
export interface CrawlProgress__Output {
  /**
   * Distinct nodes discovered (those out of the address scope included; at most
   * `limits.max_peers`).
   */
  'discovered': (string);
  /**
   * Nodes whose routing table was walked (all distances asked), in the current round.
   */
  'queried': (string);
  /**
   * Nodes known but not yet walked in the current round.
   */
  'queued': (string);
  /**
   * discv5 requests in flight now.
   */
  'inFlight': (string);
  /**
   * FINDNODE requests sent, all rounds.
   */
  'findNodeRequests': (string);
  /**
   * FINDNODE requests that failed (timeout or error), all rounds.
   */
  'findNodeFailures': (string);
  /**
   * Nodes none of whose FINDNODE requests were answered, in the current round.
   */
  'unresponsive': (string);
  /**
   * Random lookups completed, all rounds.
   */
  'lookups': (string);
  /**
   * ENR records newer than the stored one (higher seq) seen.
   */
  'enrUpdates': (string);
  /**
   * Enumeration rounds completed.
   */
  'rounds': (string);
  /**
   * Time since the crawl started.
   */
  'elapsed': (_google_protobuf_Duration__Output | null);
  /**
   * Dials started, all rounds.
   */
  'dials': (string);
  /**
   * Dials in flight now.
   */
  'dialing': (string);
  /**
   * Dials that connected, all rounds.
   */
  'connected': (string);
  /**
   * Dials that failed, all rounds, by error class (see `Peer.last_error_class`).
   */
  'failedByClass': ({[key: string]: string});
  /**
   * Peers identified (identify answered), all rounds.
   */
  'identified': (string);
  /**
   * Discovered peers not dialed yet in the current round.
   */
  'dialQueued': (string);
  /**
   * Relay connections held now.
   */
  'relayPeers': (string);
  /**
   * Smallest gossipsub mesh over the subscribed pubsub topics (0 until every topic has one).
   */
  'relayMeshPeers': (string);
  /**
   * Relay messages counted by this crawl.
   */
  'messages': (string);
  /**
   * ONESHOT crawls only, while RUNNING: estimated time until the crawl finishes. It is the
   * work known to remain (nodes queued or being walked, peers waiting for or in a dial)
   * divided by the throughput of the last 10 seconds, for the walk and the dials apart,
   * whichever takes longer; nodes not discovered yet are not counted, so it can grow
   * while new nodes appear. Never negative. Unset for CONTINUOUS crawls, in a crawl's
   * final summary, and while there is no throughput to estimate from (the first moments
   * of a crawl).
   */
  'estimatedRemaining': (_google_protobuf_Duration__Output | null);
  /**
   * Peer-exchange requests sent, all rounds.
   */
  'pxRequests': (string);
  /**
   * Peer-exchange requests that failed or were refused (status other than 200).
   */
  'pxFailures': (string);
  /**
   * Valid ENRs received in peer-exchange answers (a record may arrive many times).
   */
  'pxEnrs': (string);
  /**
   * Seed mode: requests answered with records (status 200).
   */
  'pxServed': (string);
  /**
   * Seed mode: requests refused (status 400 or 429; CometBFT: refused and disconnected).
   */
  'pxRefused': (string);
  /**
   * CometBFT: addresses in PEX answers that were dropped (undialable, out of scope,
   * duplicates, the crawler itself, over the crawl's peer cap).
   */
  'invalidAddrs': (string);
  /**
   * CometBFT: peers this crawl banned.
   */
  'banned': (string);
  /**
   * Seed mode: refused requests not written to the event log (at most one refusal per IP
   * address per interval is).
   */
  'pxRefusedUnlogged': (string);
  /**
   * Seed mode: inbound connections refused (too many at once, or too many from one IP
   * address).
   */
  'pxConnectionsRefused': (string);
  /**
   * Records of new nodes dropped because the crawl knew `limits.max_peers` nodes.
   */
  'droppedOverCap': (string);
  /**
   * Records of new nodes dropped because their responder had introduced
   * `limits.max_new_per_responder` nodes that round.
   */
  'droppedOverBudget': (string);
  /**
   * Nodes whose record names an address outside the crawl's address scope (see
   * `StartCrawlRequest.allowed_cidrs`): stored, never contacted.
   */
  'outOfScope': (string);
  /**
   * FINDNODE requests that got no answer in time, all rounds (counted in
   * `find_node_failures` too).
   */
  'findNodeTimeouts': (string);
  /**
   * The timeout the walk gives a FINDNODE request now: 3 × the 99th percentile of the
   * round trips of the last 256 answers, at least 100 ms and at most the crawl's
   * `request_timeout` (which it is until 16 answers are in). A request that times out is
   * retried at once.
   */
  'requestTimeout': (_google_protobuf_Duration__Output | null);
  /**
   * Time from the last answered FINDNODE request of a round to the moment its walk had
   * nothing left to do (dials may go on): what nodes that never answered cost at its end,
   * about two request timeouts at most. Unset until the walk of the first round is done.
   */
  'walkTail': (_google_protobuf_Duration__Output | null);
  /**
   * Nodes that random lookups returned and no FINDNODE answer of the walk did, all
   * rounds (what the lookups found beyond the walk).
   */
  'lookupOnly': (string);
}
