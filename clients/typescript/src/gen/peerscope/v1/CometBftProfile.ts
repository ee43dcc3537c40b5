// Original file: proto/peerscope/v1/peerscope.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { CometBftSeedOptions as _peerscope_v1_CometBftSeedOptions, CometBftSeedOptions__Output as _peerscope_v1_CometBftSeedOptions__Output } from '../../peerscope/v1/CometBftSeedOptions';
import type { Long } from '@grpc/proto-loader';

/**
 * A CometBFT crawl, after the PEX reactor in seed/crawler mode. Every visit: TCP connect,
 * SecretConnection (the remote key must hash to the dialed id, or the peer is banned),
 * NodeInfo both ways (stored on the peer), one PexRequest, the PexAddrs answer, disconnect.
 * Received addresses are validated (id format, IP, port; a malformed entry refuses the
 * whole list and bans the sender, an undialable one is skipped) and kept only within the
 * scope of the start addresses (loopback → loopback, private → private, public → public).
 * Peers of another network are stored with their NodeInfo (error class `wrong_network`)
 * and never vetted. Defaults are the reactor's constants.
 */
export interface CometBftProfile {
  /**
   * The chain id announced in NodeInfo.network; peers are vetted only on it. Required,
   * 1..=50 bytes of printable ASCII.
   */
  'chainId'?: (string);
  /**
   * Where to start: `id@ip:port` (IPv6 as `[ip]:port`; IP literals only). At least one,
   * at most 1024.
   */
  'peers'?: (string)[];
  /**
   * A crawl pass (visiting the known peers that are due again) runs this often;
   * CONTINUOUS only. Default 30s; 1s..=1 day when set.
   */
  'crawlInterval'?: (_google_protobuf_Duration | null);
  /**
   * A peer is not crawled again sooner than this. Default 2 minutes; 1s..=30 days.
   */
  'minRecrawl'?: (_google_protobuf_Duration | null);
  /**
   * Failed dials in a row after which a peer is given up on; the n-th failure waits 2^n s
   * plus jitter. Default 16; 1..=64.
   */
  'maxDialAttempts'?: (number);
  /**
   * How long a ban lasts: a key that is not the dialed id's, an unsolicited, oversized or
   * malformed address list, PEX requests too often. Default 24h; 1s..=365 days.
   */
  'banDuration'?: (_google_protobuf_Duration | null);
  /**
   * Percent chance of dialing a new peer over a known one when both are due, and the
   * share of once-vetted peers in a seed answer. Default 30; 0..=100.
   */
  'newBiasPercent'?: (number);
  /**
   * Bound on everything after the TCP connect (handshake, NodeInfo, PEX answer).
   * Default 10s; 100ms..=120s.
   */
  'exchangeTimeout'?: (_google_protobuf_Duration | null);
  /**
   * Most addresses accepted in one PexAddrs; a longer list is oversized and bans the
   * sender. Default 250 (the reactor's maxGetSelection); 1..=10000.
   */
  'maxAddrs'?: (number);
  /**
   * `protocol_version.block` announced; peers on another block protocol refuse us.
   * Default 11 (CometBFT v0.34..v1.0).
   */
  'blockVersion'?: (number | string | Long);
  /**
   * `protocol_version.p2p` announced. Default 8.
   */
  'p2pVersion'?: (number | string | Long);
  /**
   * The moniker announced. Default `peerscope`; at most 64 bytes of printable ASCII.
   */
  'moniker'?: (string);
  /**
   * Seed mode: listen for inbound peers and answer their PexRequest. Unset: off.
   */
  'seed'?: (_peerscope_v1_CometBftSeedOptions | null);
  '_maxDialAttempts'?: "maxDialAttempts";
  '_newBiasPercent'?: "newBiasPercent";
  '_maxAddrs'?: "maxAddrs";
  '_blockVersion'?: "blockVersion";
  '_p2pVersion'?: "p2pVersion";
}

/**
 * A CometBFT crawl, after the PEX reactor in seed/crawler mode. Every visit: TCP connect,
 * SecretConnection (the remote key must hash to the dialed id, or the peer is banned),
 * NodeInfo both ways (stored on the peer), one PexRequest, the PexAddrs answer, disconnect.
 * Received addresses are validated (id format, IP, port; a malformed entry refuses the
 * whole list and bans the sender, an undialable one is skipped) and kept only within the
 * scope of the start addresses (loopback → loopback, private → private, public → public).
 * Peers of another network are stored with their NodeInfo (error class `wrong_network`)
 * and never vetted. Defaults are the reactor's constants.
 */
export interface CometBftProfile__Output {
  /**
   * The chain id announced in NodeInfo.network; peers are vetted only on it. Required,
   * 1..=50 bytes of printable ASCII.
   */
  'chainId': (string);
  /**
   * Where to start: `id@ip:port` (IPv6 as `[ip]:port`; IP literals only). At least one,
   * at most 1024.
   */
  'peers': (string)[];
  /**
   * A crawl pass (visiting the known peers that are due again) runs this often;
   * CONTINUOUS only. Default 30s; 1s..=1 day when set.
   */
  'crawlInterval': (_google_protobuf_Duration__Output | null);
  /**
   * A peer is not crawled again sooner than this. Default 2 minutes; 1s..=30 days.
   */
  'minRecrawl': (_google_protobuf_Duration__Output | null);
  /**
   * Failed dials in a row after which a peer is given up on; the n-th failure waits 2^n s
   * plus jitter. Default 16; 1..=64.
   */
  'maxDialAttempts'?: (number);
  /**
   * How long a ban lasts: a key that is not the dialed id's, an unsolicited, oversized or
   * malformed address list, PEX requests too often. Default 24h; 1s..=365 days.
   */
  'banDuration': (_google_protobuf_Duration__Output | null);
  /**
   * Percent chance of dialing a new peer over a known one when both are due, and the
   * share of once-vetted peers in a seed answer. Default 30; 0..=100.
   */
  'newBiasPercent'?: (number);
  /**
   * Bound on everything after the TCP connect (handshake, NodeInfo, PEX answer).
   * Default 10s; 100ms..=120s.
   */
  'exchangeTimeout': (_google_protobuf_Duration__Output | null);
  /**
   * Most addresses accepted in one PexAddrs; a longer list is oversized and bans the
   * sender. Default 250 (the reactor's maxGetSelection); 1..=10000.
   */
  'maxAddrs'?: (number);
  /**
   * `protocol_version.block` announced; peers on another block protocol refuse us.
   * Default 11 (CometBFT v0.34..v1.0).
   */
  'blockVersion'?: (string);
  /**
   * `protocol_version.p2p` announced. Default 8.
   */
  'p2pVersion'?: (string);
  /**
   * The moniker announced. Default `peerscope`; at most 64 bytes of printable ASCII.
   */
  'moniker': (string);
  /**
   * Seed mode: listen for inbound peers and answer their PexRequest. Unset: off.
   */
  'seed': (_peerscope_v1_CometBftSeedOptions__Output | null);
  '_maxDialAttempts'?: "maxDialAttempts";
  '_newBiasPercent'?: "newBiasPercent";
  '_maxAddrs'?: "maxAddrs";
  '_blockVersion'?: "blockVersion";
  '_p2pVersion'?: "p2pVersion";
}
