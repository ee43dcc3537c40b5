// Original file: proto/peerscope/v1/peerscope.proto

import type { MessageCount as _peerscope_v1_MessageCount, MessageCount__Output as _peerscope_v1_MessageCount__Output } from '../../peerscope/v1/MessageCount';

export interface GetMessageCountsResponse {
  'counts'?: (_peerscope_v1_MessageCount)[];
}

export interface GetMessageCountsResponse__Output {
  'counts': (_peerscope_v1_MessageCount__Output)[];
}
