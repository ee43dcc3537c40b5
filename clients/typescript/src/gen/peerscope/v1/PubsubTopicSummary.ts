// Original file: proto/peerscope/v1/peerscope.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Relay traffic on one pubsub topic.
 */
export interface PubsubTopicSummary {
  'pubsubTopic'?: (string);
  'messages'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  /**
   * Distinct content topics counted (not including "(other)").
   */
  'contentTopics'?: (number | string | Long);
  /**
   * Messages in the "(other)" row.
   */
  'otherMessages'?: (number | string | Long);
  /**
   * Undecodable messages.
   */
  'undecodable'?: (number | string | Long);
}

/**
 * Relay traffic on one pubsub topic.
 */
export interface PubsubTopicSummary__Output {
  'pubsubTopic': (string);
  'messages': (string);
  'bytes': (string);
  /**
   * Distinct content topics counted (not including "(other)").
   */
  'contentTopics': (string);
  /**
   * Messages in the "(other)" row.
   */
  'otherMessages': (string);
  /**
   * Undecodable messages.
   */
  'undecodable': (string);
}
