// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

/**
 * One way a peer's record was learned.
 */
export interface PeerSource {
  /**
   * `bootstrap` (StartCrawlRequest.bootstrap_enrs), `dns` (an EIP-1459 tree), `discv5`
   * (FINDNODE answers and lookups), `peer_exchange` (for CometBFT: a PEX answer), or
   * `inbound` (CometBFT seed mode: the peer connected and announced its listen address).
   */
  'kind'?: (string);
  /**
   * For `peer_exchange`: the peer id (CometBFT: node id) of the peer whose answer held
   * the record.
   */
  'viaPeerId'?: (string);
  /**
   * When this source first delivered the record.
   */
  'firstSeen'?: (_google_protobuf_Timestamp | null);
}

/**
 * One way a peer's record was learned.
 */
export interface PeerSource__Output {
  /**
   * `bootstrap` (StartCrawlRequest.bootstrap_enrs), `dns` (an EIP-1459 tree), `discv5`
   * (FINDNODE answers and lookups), `peer_exchange` (for CometBFT: a PEX answer), or
   * `inbound` (CometBFT seed mode: the peer connected and announced its listen address).
   */
  'kind': (string);
  /**
   * For `peer_exchange`: the peer id (CometBFT: node id) of the peer whose answer held
   * the record.
   */
  'viaPeerId': (string);
  /**
   * When this source first delivered the record.
   */
  'firstSeen': (_google_protobuf_Timestamp__Output | null);
}
