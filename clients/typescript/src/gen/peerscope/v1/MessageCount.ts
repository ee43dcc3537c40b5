// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

/**
 * Relay traffic on one (pubsub topic, content topic), all time and in the window; or on a
 * group of them (GetMessageCountsRequest.group_by), with the sums of the rows it holds and
 * the earliest `first_seen` and latest `last_seen` among them.
 */
export interface MessageCount {
  /**
   * The pubsub topic; empty when grouped without PUBSUB_TOPIC.
   */
  'pubsubTopic'?: (string);
  /**
   * The content topic, or "(other)" for the aggregate of content topics beyond the cap;
   * empty when grouped without CONTENT_TOPIC.
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
   * True for the "(other)" aggregate row (for a group: when it holds only such rows).
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
  /**
   * The content topic's application (see MessageDimension.APPLICATION); empty when the
   * request's `group_by` neither names APPLICATION nor CONTENT_TOPIC.
   */
  'application'?: (string);
  /**
   * Distinct content topics summed into this row, not counting `(other)` (1 for a stored
   * row of one content topic, 0 for the `(other)` row).
   */
  'contentTopics'?: (number | string | Long);
}

/**
 * Relay traffic on one (pubsub topic, content topic), all time and in the window; or on a
 * group of them (GetMessageCountsRequest.group_by), with the sums of the rows it holds and
 * the earliest `first_seen` and latest `last_seen` among them.
 */
export interface MessageCount__Output {
  /**
   * The pubsub topic; empty when grouped without PUBSUB_TOPIC.
   */
  'pubsubTopic': (string);
  /**
   * The content topic, or "(other)" for the aggregate of content topics beyond the cap;
   * empty when grouped without CONTENT_TOPIC.
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
   * True for the "(other)" aggregate row (for a group: when it holds only such rows).
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
  /**
   * The content topic's application (see MessageDimension.APPLICATION); empty when the
   * request's `group_by` neither names APPLICATION nor CONTENT_TOPIC.
   */
  'application': (string);
  /**
   * Distinct content topics summed into this row, not counting `(other)` (1 for a stored
   * row of one content topic, 0 for the `(other)` row).
   */
  'contentTopics': (string);
}
