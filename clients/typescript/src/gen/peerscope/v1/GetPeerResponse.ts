// Original file: proto/peerscope/v1/peerscope.proto

import type { Peer as _peerscope_v1_Peer, Peer__Output as _peerscope_v1_Peer__Output } from '../../peerscope/v1/Peer';

export interface GetPeerResponse {
  'peer'?: (_peerscope_v1_Peer | null);
}

export interface GetPeerResponse__Output {
  'peer': (_peerscope_v1_Peer__Output | null);
}
