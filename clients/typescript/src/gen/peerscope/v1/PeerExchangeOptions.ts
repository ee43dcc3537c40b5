// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { SeedOptions as _peerscope_v1_SeedOptions, SeedOptions__Output as _peerscope_v1_SeedOptions__Output } from '../../peerscope/v1/SeedOptions';

/**
 * Peer exchange settings of a crawl.
 */
export interface PeerExchangeOptions {
  /**
   * Ask every visited peer whose identify lists peer exchange for up to 60 ENRs; the
   * records join discovery (they are dialed and stored, with source `peer_exchange`).
   * Default true (and off without `dial`). Needs `dial`: true with `dial` false fails
   * INVALID_ARGUMENT.
   */
  'client'?: (boolean);
  /**
   * A peer is not asked again sooner than this (politeness across visits and rounds).
   * Default 5 minutes; must be 1s..=30 days when set.
   */
  'interval'?: (_google_protobuf_Duration | null);
  /**
   * Seed mode: serve peer exchange. Unset: off.
   */
  'seed'?: (_peerscope_v1_SeedOptions | null);
  '_client'?: "client";
}

/**
 * Peer exchange settings of a crawl.
 */
export interface PeerExchangeOptions__Output {
  /**
   * Ask every visited peer whose identify lists peer exchange for up to 60 ENRs; the
   * records join discovery (they are dialed and stored, with source `peer_exchange`).
   * Default true (and off without `dial`). Needs `dial`: true with `dial` false fails
   * INVALID_ARGUMENT.
   */
  'client'?: (boolean);
  /**
   * A peer is not asked again sooner than this (politeness across visits and rounds).
   * Default 5 minutes; must be 1s..=30 days when set.
   */
  'interval': (_google_protobuf_Duration__Output | null);
  /**
   * Seed mode: serve peer exchange. Unset: off.
   */
  'seed': (_peerscope_v1_SeedOptions__Output | null);
  '_client'?: "client";
}
