// Original file: proto/peerscope/v1/peerscope.proto

import type { PeerEventKind as _peerscope_v1_PeerEventKind, PeerEventKind__Output as _peerscope_v1_PeerEventKind__Output } from '../../peerscope/v1/PeerEventKind';
import type { Long } from '@grpc/proto-loader';

export interface StreamPeerEventsRequest {
  /**
   * Replay stored events with a sequence greater than this, then continue live. Unset:
   * live events only.
   */
  'afterSequence'?: (number | string | Long);
  /**
   * Only events of this crawl (empty: all crawls). An unknown crawl fails NOT_FOUND.
   */
  'crawlId'?: (string);
  /**
   * Only these kinds (empty: all kinds). At most 64 entries; UNSPECIFIED or an unknown
   * value fails INVALID_ARGUMENT.
   */
  'kinds'?: (_peerscope_v1_PeerEventKind)[];
  /**
   * Only events of this node id (empty: all nodes).
   */
  'nodeId'?: (string);
  /**
   * Only events of this peer id (empty: all peers); must be a valid peer id.
   */
  'peerId'?: (string);
  '_afterSequence'?: "afterSequence";
}

export interface StreamPeerEventsRequest__Output {
  /**
   * Replay stored events with a sequence greater than this, then continue live. Unset:
   * live events only.
   */
  'afterSequence'?: (string);
  /**
   * Only events of this crawl (empty: all crawls). An unknown crawl fails NOT_FOUND.
   */
  'crawlId': (string);
  /**
   * Only these kinds (empty: all kinds). At most 64 entries; UNSPECIFIED or an unknown
   * value fails INVALID_ARGUMENT.
   */
  'kinds': (_peerscope_v1_PeerEventKind__Output)[];
  /**
   * Only events of this node id (empty: all nodes).
   */
  'nodeId': (string);
  /**
   * Only events of this peer id (empty: all peers); must be a valid peer id.
   */
  'peerId': (string);
  '_afterSequence'?: "afterSequence";
}
