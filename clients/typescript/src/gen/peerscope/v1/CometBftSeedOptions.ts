// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

/**
 * CometBFT seed mode. Each inbound peer is answered once, then disconnected: the answer
 * holds max(min(32, n), 23% of n) addresses (at most `max_reply`) drawn from the n peers
 * this crawl has *vetted* on its chain (the last visit connected and the NodeInfo named
 * the chain), `new_bias_percent` of them from peers vetted in one visit only and the rest
 * from peers vetted in several (GetSelectionWithBias); never new, failing, bad, banned or
 * other-chain peers, never the requester. A peer that asks again sooner than
 * `request_interval` (on any connection), sends an address list, or breaks the packet
 * limits is refused, disconnected and banned for `ban_duration`; a banned peer is
 * disconnected right after the handshake. Every request is a PEER_EXCHANGE_SERVED event;
 * an inbound peer's announced listen address joins the crawl (source `inbound`).
 */
export interface CometBftSeedOptions {
  /**
   * TCP address to listen on, `ip:port` (port 0 picks one). Default: the IP of the
   * server's default crawl address, port 0.
   */
  'listenAddr'?: (string);
  /**
   * The address announced in NodeInfo.listen_addr, `ip:port`. Default: the bound
   * address, which must then not be unspecified.
   */
  'externalAddr'?: (string);
  /**
   * Minimum time between two requests of one peer. Default 10s (the reactor's
   * ensurePeersPeriod / 3); 1s..=1 day.
   */
  'requestInterval'?: (_google_protobuf_Duration | null);
  /**
   * Most addresses in one answer. Default 250; 1..=250.
   */
  'maxReply'?: (number);
  /**
   * Inbound connections served at once; more are closed on accept. Default 64;
   * 1..=4096.
   */
  'maxInbound'?: (number);
  /**
   * How long an inbound peer may stay connected without asking. Default 30s;
   * 100ms..=1h.
   */
  'idleTimeout'?: (_google_protobuf_Duration | null);
  '_maxReply'?: "maxReply";
  '_maxInbound'?: "maxInbound";
}

/**
 * CometBFT seed mode. Each inbound peer is answered once, then disconnected: the answer
 * holds max(min(32, n), 23% of n) addresses (at most `max_reply`) drawn from the n peers
 * this crawl has *vetted* on its chain (the last visit connected and the NodeInfo named
 * the chain), `new_bias_percent` of them from peers vetted in one visit only and the rest
 * from peers vetted in several (GetSelectionWithBias); never new, failing, bad, banned or
 * other-chain peers, never the requester. A peer that asks again sooner than
 * `request_interval` (on any connection), sends an address list, or breaks the packet
 * limits is refused, disconnected and banned for `ban_duration`; a banned peer is
 * disconnected right after the handshake. Every request is a PEER_EXCHANGE_SERVED event;
 * an inbound peer's announced listen address joins the crawl (source `inbound`).
 */
export interface CometBftSeedOptions__Output {
  /**
   * TCP address to listen on, `ip:port` (port 0 picks one). Default: the IP of the
   * server's default crawl address, port 0.
   */
  'listenAddr': (string);
  /**
   * The address announced in NodeInfo.listen_addr, `ip:port`. Default: the bound
   * address, which must then not be unspecified.
   */
  'externalAddr': (string);
  /**
   * Minimum time between two requests of one peer. Default 10s (the reactor's
   * ensurePeersPeriod / 3); 1s..=1 day.
   */
  'requestInterval': (_google_protobuf_Duration__Output | null);
  /**
   * Most addresses in one answer. Default 250; 1..=250.
   */
  'maxReply'?: (number);
  /**
   * Inbound connections served at once; more are closed on accept. Default 64;
   * 1..=4096.
   */
  'maxInbound'?: (number);
  /**
   * How long an inbound peer may stay connected without asking. Default 30s;
   * 100ms..=1h.
   */
  'idleTimeout': (_google_protobuf_Duration__Output | null);
  '_maxReply'?: "maxReply";
  '_maxInbound'?: "maxInbound";
}
