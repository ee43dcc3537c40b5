// Original file: proto/peerscope/v1/peerscope.proto

import type { MessageCount as _peerscope_v1_MessageCount, MessageCount__Output as _peerscope_v1_MessageCount__Output } from '../../peerscope/v1/MessageCount';
import type { UndecodableCount as _peerscope_v1_UndecodableCount, UndecodableCount__Output as _peerscope_v1_UndecodableCount__Output } from '../../peerscope/v1/UndecodableCount';

export interface GetMessageCountsResponse {
  /**
   * One row per (pubsub topic, content topic), in that order.
   */
  'counts'?: (_peerscope_v1_MessageCount)[];
  /**
   * Data that did not decode as a WakuMessage with a content topic, per pubsub topic.
   */
  'undecodable'?: (_peerscope_v1_UndecodableCount)[];
  /**
   * The server's cap on distinct content topics per pubsub topic; messages on further
   * content topics are counted in the row whose `other` is true.
   */
  'maxContentTopics'?: (number);
}

export interface GetMessageCountsResponse__Output {
  /**
   * One row per (pubsub topic, content topic), in that order.
   */
  'counts': (_peerscope_v1_MessageCount__Output)[];
  /**
   * Data that did not decode as a WakuMessage with a content topic, per pubsub topic.
   */
  'undecodable': (_peerscope_v1_UndecodableCount__Output)[];
  /**
   * The server's cap on distinct content topics per pubsub topic; messages on further
   * content topics are counted in the row whose `other` is true.
   */
  'maxContentTopics': (number);
}
