// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

/**
 * Seed mode (the Tendermint PEX seed, on Waku's peer-exchange protocol). The crawl's
 * libp2p host listens on TCP and answers peer-exchange requests with a random selection of
 * the crawl's *vetted* peers (the last dial connected) of the requester's cluster, weighted
 * towards the most recently vetted; never new, failing, bad or banned peers. The
 * requester's cluster is the one its metadata reports (the request it sends us, or its
 * answer to ours); when it is unknown, the crawl profile's cluster (any cluster for
 * non-Waku profiles). An answer holds at most min(num_peers, 60) records.
 * 
 * Limits. Every request counts, whatever it asks: at most one per requester per
 * `requester_interval` and at most `requests_per_ip` per IP address per interval (a peer
 * id is free to mint); a request over either answers status 429 with a `status_desc`. A
 * counted request with no query or num_peers 0 answers status 400. Inbound connections
 * are capped: 256 established and 64 in their handshake at once, 8 at once from one IP
 * address (further ones are closed at once, counted in
 * `CrawlProgress.px_connections_refused`), 16 streams negotiating at once per
 * connection.
 * 
 * Events. Every answer (status 200) is a PEER_EXCHANGE_SERVED event of the requester.
 * Refusals (400, 429) are counted (`CrawlProgress.px_refused`, the
 * `peerscope_px_served_total` metric) and logged as an event at most once per IP address
 * per interval; the logged one's `detail` says how many went unlogged before it
 * (`CrawlProgress.px_refused_unlogged` counts them).
 * 
 * The crawl's local ENR then carries ip/tcp/udp (without seed mode it has none: a passive
 * crawler). Needs `dial`.
 */
export interface SeedOptions {
  /**
   * TCP address to listen on, `ip:port` (port 0 picks one). Default: the IP of the
   * crawl's discv5 address, port 0.
   */
  'listenAddr'?: (string);
  /**
   * IP published in the local ENR. Default: the listen IP, which must then not be
   * unspecified (0.0.0.0 or ::): INVALID_ARGUMENT when the request's listen address is,
   * FAILED_PRECONDITION when the server's default discv5 address is. Must not be
   * unspecified itself.
   */
  'advertiseIp'?: (string);
  /**
   * One request per requester per this interval. Default 60s; must be 1s..=1 day when set.
   */
  'requesterInterval'?: (_google_protobuf_Duration | null);
  /**
   * Requests per IP address per `requester_interval`, whatever peer ids they come from.
   * Default 8; must be 1..=100000 when set.
   */
  'requestsPerIp'?: (number);
  '_requestsPerIp'?: "requestsPerIp";
}

/**
 * Seed mode (the Tendermint PEX seed, on Waku's peer-exchange protocol). The crawl's
 * libp2p host listens on TCP and answers peer-exchange requests with a random selection of
 * the crawl's *vetted* peers (the last dial connected) of the requester's cluster, weighted
 * towards the most recently vetted; never new, failing, bad or banned peers. The
 * requester's cluster is the one its metadata reports (the request it sends us, or its
 * answer to ours); when it is unknown, the crawl profile's cluster (any cluster for
 * non-Waku profiles). An answer holds at most min(num_peers, 60) records.
 * 
 * Limits. Every request counts, whatever it asks: at most one per requester per
 * `requester_interval` and at most `requests_per_ip` per IP address per interval (a peer
 * id is free to mint); a request over either answers status 429 with a `status_desc`. A
 * counted request with no query or num_peers 0 answers status 400. Inbound connections
 * are capped: 256 established and 64 in their handshake at once, 8 at once from one IP
 * address (further ones are closed at once, counted in
 * `CrawlProgress.px_connections_refused`), 16 streams negotiating at once per
 * connection.
 * 
 * Events. Every answer (status 200) is a PEER_EXCHANGE_SERVED event of the requester.
 * Refusals (400, 429) are counted (`CrawlProgress.px_refused`, the
 * `peerscope_px_served_total` metric) and logged as an event at most once per IP address
 * per interval; the logged one's `detail` says how many went unlogged before it
 * (`CrawlProgress.px_refused_unlogged` counts them).
 * 
 * The crawl's local ENR then carries ip/tcp/udp (without seed mode it has none: a passive
 * crawler). Needs `dial`.
 */
export interface SeedOptions__Output {
  /**
   * TCP address to listen on, `ip:port` (port 0 picks one). Default: the IP of the
   * crawl's discv5 address, port 0.
   */
  'listenAddr': (string);
  /**
   * IP published in the local ENR. Default: the listen IP, which must then not be
   * unspecified (0.0.0.0 or ::): INVALID_ARGUMENT when the request's listen address is,
   * FAILED_PRECONDITION when the server's default discv5 address is. Must not be
   * unspecified itself.
   */
  'advertiseIp': (string);
  /**
   * One request per requester per this interval. Default 60s; must be 1s..=1 day when set.
   */
  'requesterInterval': (_google_protobuf_Duration__Output | null);
  /**
   * Requests per IP address per `requester_interval`, whatever peer ids they come from.
   * Default 8; must be 1..=100000 when set.
   */
  'requestsPerIp'?: (number);
  '_requestsPerIp'?: "requestsPerIp";
}
