// Original file: proto/peerscope/v1/peerscope.proto

import type { Peer as _peerscope_v1_Peer, Peer__Output as _peerscope_v1_Peer__Output } from '../../peerscope/v1/Peer';

export interface ListPeersResponse {
  /**
   * Peers in ascending node-id order.
   */
  'peers'?: (_peerscope_v1_Peer)[];
  /**
   * Token for the next page; empty when this is the last page.
   */
  'nextPageToken'?: (string);
}

export interface ListPeersResponse__Output {
  /**
   * Peers in ascending node-id order.
   */
  'peers': (_peerscope_v1_Peer__Output)[];
  /**
   * Token for the next page; empty when this is the last page.
   */
  'nextPageToken': (string);
}
