// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

/**
 * Relay traffic on one (pubsub topic, content topic), all time and in the window.
 */
export interface MessageCount {
  'pubsubTopic'?: (string);
  /**
   * The content topic, or "(other)" for the aggregate of content topics beyond the cap.
   */
  'contentTopic'?: (string);
  /**
   * Messages counted (a message delivered twice is counted once).
   */
  'messages'?: (number | string | Long);
  /**
   * Bytes of the encoded WakuMessages.
   */
  'bytes'?: (number | string | Long);
  'firstSeen'?: (_google_protobuf_Timestamp | null);
  'lastSeen'?: (_google_protobuf_Timestamp | null);
  /**
   * True for the "(other)" aggregate row.
   */
  'other'?: (boolean);
  /**
   * Messages in the requested window.
   */
  'windowMessages'?: (number | string | Long);
  /**
   * Bytes in the requested window.
   */
  'windowBytes'?: (number | string | Long);
  /**
   * `window_messages` per minute of the window.
   */
  'messagesPerMinute'?: (number | string);
}

/**
 * Relay traffic on one (pubsub topic, content topic), all time and in the window.
 */
export interface MessageCount__Output {
  'pubsubTopic': (string);
  /**
   * The content topic, or "(other)" for the aggregate of content topics beyond the cap.
   */
  'contentTopic': (string);
  /**
   * Messages counted (a message delivered twice is counted once).
   */
  'messages': (string);
  /**
   * Bytes of the encoded WakuMessages.
   */
  'bytes': (string);
  'firstSeen': (_google_protobuf_Timestamp__Output | null);
  'lastSeen': (_google_protobuf_Timestamp__Output | null);
  /**
   * True for the "(other)" aggregate row.
   */
  'other': (boolean);
  /**
   * Messages in the requested window.
   */
  'windowMessages': (string);
  /**
   * Bytes in the requested window.
   */
  'windowBytes': (string);
  /**
   * `window_messages` per minute of the window.
   */
  'messagesPerMinute': (number);
}
