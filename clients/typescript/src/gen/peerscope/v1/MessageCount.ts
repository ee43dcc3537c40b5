// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

/**
 * Relay traffic on one (pubsub topic, content topic).
 */
export interface MessageCount {
  'pubsubTopic'?: (string);
  'contentTopic'?: (string);
  'messages'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  'firstSeen'?: (_google_protobuf_Timestamp | null);
  'lastSeen'?: (_google_protobuf_Timestamp | null);
}

/**
 * Relay traffic on one (pubsub topic, content topic).
 */
export interface MessageCount__Output {
  'pubsubTopic': (string);
  'contentTopic': (string);
  'messages': (string);
  'bytes': (string);
  'firstSeen': (_google_protobuf_Timestamp__Output | null);
  'lastSeen': (_google_protobuf_Timestamp__Output | null);
}
