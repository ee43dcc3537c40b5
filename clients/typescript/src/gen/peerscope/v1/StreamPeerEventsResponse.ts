// Original file: proto/peerscope/v1/peerscope.proto

import type { PeerEvent as _peerscope_v1_PeerEvent, PeerEvent__Output as _peerscope_v1_PeerEvent__Output } from '../../peerscope/v1/PeerEvent';

export interface StreamPeerEventsResponse {
  'event'?: (_peerscope_v1_PeerEvent | null);
}

export interface StreamPeerEventsResponse__Output {
  'event': (_peerscope_v1_PeerEvent__Output | null);
}
