// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

/**
 * Undecodable data on one pubsub topic.
 */
export interface UndecodableCount {
  'pubsubTopic'?: (string);
  'messages'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  'firstSeen'?: (_google_protobuf_Timestamp | null);
  'lastSeen'?: (_google_protobuf_Timestamp | null);
}

/**
 * Undecodable data on one pubsub topic.
 */
export interface UndecodableCount__Output {
  'pubsubTopic': (string);
  'messages': (string);
  'bytes': (string);
  'firstSeen': (_google_protobuf_Timestamp__Output | null);
  'lastSeen': (_google_protobuf_Timestamp__Output | null);
}
