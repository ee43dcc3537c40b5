// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { PeerEventKind as _peerscope_v1_PeerEventKind, PeerEventKind__Output as _peerscope_v1_PeerEventKind__Output } from '../../peerscope/v1/PeerEventKind';
import type { Long } from '@grpc/proto-loader';

/**
 * One peer event.
 */
export interface PeerEvent {
  /**
   * Position in the server's event log; strictly increasing, never reused.
   */
  'sequence'?: (number | string | Long);
  /**
   * When the event happened.
   */
  'time'?: (_google_protobuf_Timestamp | null);
  /**
   * What happened.
   */
  'kind'?: (_peerscope_v1_PeerEventKind);
  /**
   * The crawl that produced it.
   */
  'crawlId'?: (string);
  /**
   * The peer's node id.
   */
  'nodeId'?: (string);
  /**
   * The peer's libp2p peer id, when its key maps to one.
   */
  'peerId'?: (string);
  /**
   * The ENR seq at the time of the event.
   */
  'enrSeq'?: (number | string | Long);
  /**
   * The record, for DISCOVERED and ENR_UPDATED.
   */
  'enr'?: (string);
  /**
   * For DIAL_FAILED and PEER_DOWN: the error class (timeout, refused, unreachable,
   * handshake, peer_id_mismatch, protocol_negotiation, wrong_cluster, no_address,
   * canceled, other, handshake_timeout, secret_connection, node_info_mismatch,
   * wrong_network). timeout: the TCP connect (or the whole dial) did not finish in time;
   * handshake_timeout: TCP connected but the multistream, Noise and Yamux handshake (for
   * CometBFT: the SecretConnection handshake or NodeInfo) did not finish in time (a peer
   * that never speaks or stalls). CometBFT: secret_connection, the SecretConnection
   * handshake failed; node_info_mismatch, the NodeInfo is invalid or claims another id
   * than the connection's key; wrong_network, the peer is on another chain;
   * protocol_negotiation, another block protocol or no channel in common;
   * peer_id_mismatch, the key is not the dialed id's (banned).
   * For DISCOVERED and ENR_UPDATED: `out_of_scope` when the record names an address
   * outside the crawl's address scope (the node is never contacted; `detail` names the
   * address and the scope), empty otherwise.
   */
  'errorClass'?: (string);
  /**
   * Human-readable detail (see each kind).
   */
  'detail'?: (string);
}

/**
 * One peer event.
 */
export interface PeerEvent__Output {
  /**
   * Position in the server's event log; strictly increasing, never reused.
   */
  'sequence': (string);
  /**
   * When the event happened.
   */
  'time': (_google_protobuf_Timestamp__Output | null);
  /**
   * What happened.
   */
  'kind': (_peerscope_v1_PeerEventKind__Output);
  /**
   * The crawl that produced it.
   */
  'crawlId': (string);
  /**
   * The peer's node id.
   */
  'nodeId': (string);
  /**
   * The peer's libp2p peer id, when its key maps to one.
   */
  'peerId': (string);
  /**
   * The ENR seq at the time of the event.
   */
  'enrSeq': (string);
  /**
   * The record, for DISCOVERED and ENR_UPDATED.
   */
  'enr': (string);
  /**
   * For DIAL_FAILED and PEER_DOWN: the error class (timeout, refused, unreachable,
   * handshake, peer_id_mismatch, protocol_negotiation, wrong_cluster, no_address,
   * canceled, other, handshake_timeout, secret_connection, node_info_mismatch,
   * wrong_network). timeout: the TCP connect (or the whole dial) did not finish in time;
   * handshake_timeout: TCP connected but the multistream, Noise and Yamux handshake (for
   * CometBFT: the SecretConnection handshake or NodeInfo) did not finish in time (a peer
   * that never speaks or stalls). CometBFT: secret_connection, the SecretConnection
   * handshake failed; node_info_mismatch, the NodeInfo is invalid or claims another id
   * than the connection's key; wrong_network, the peer is on another chain;
   * protocol_negotiation, another block protocol or no channel in common;
   * peer_id_mismatch, the key is not the dialed id's (banned).
   * For DISCOVERED and ENR_UPDATED: `out_of_scope` when the record names an address
   * outside the crawl's address scope (the node is never contacted; `detail` names the
   * address and the scope), empty otherwise.
   */
  'errorClass': (string);
  /**
   * Human-readable detail (see each kind).
   */
  'detail': (string);
}
