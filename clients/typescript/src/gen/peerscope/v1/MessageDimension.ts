// Original file: proto/peerscope/v1/peerscope.proto

/**
 * A dimension GetMessageCounts can group by.
 */
export const MessageDimension = {
  MESSAGE_DIMENSION_UNSPECIFIED: 'MESSAGE_DIMENSION_UNSPECIFIED',
  /**
   * The pubsub topic, as subscribed: sharded (`/waku/2/rs/<cluster>/<shard>`) or named
   * (e.g. the 2022 default topic `/waku/2/default-waku/proto`).
   */
  MESSAGE_DIMENSION_PUBSUB_TOPIC: 'MESSAGE_DIMENSION_PUBSUB_TOPIC',
  /**
   * The application: the first segment of a content topic
   * `/{application}/{version}/{name}/{encoding}` (with the autosharding generation
   * prefix `/{generation}/{application}/...`, the segment after it). Content topics of
   * another shape count under `(invalid)`, the `(other)` row under `(other)`.
   */
  MESSAGE_DIMENSION_APPLICATION: 'MESSAGE_DIMENSION_APPLICATION',
  /**
   * The content topic (implies its application).
   */
  MESSAGE_DIMENSION_CONTENT_TOPIC: 'MESSAGE_DIMENSION_CONTENT_TOPIC',
} as const;

/**
 * A dimension GetMessageCounts can group by.
 */
export type MessageDimension =
  | 'MESSAGE_DIMENSION_UNSPECIFIED'
  | 0
  /**
   * The pubsub topic, as subscribed: sharded (`/waku/2/rs/<cluster>/<shard>`) or named
   * (e.g. the 2022 default topic `/waku/2/default-waku/proto`).
   */
  | 'MESSAGE_DIMENSION_PUBSUB_TOPIC'
  | 1
  /**
   * The application: the first segment of a content topic
   * `/{application}/{version}/{name}/{encoding}` (with the autosharding generation
   * prefix `/{generation}/{application}/...`, the segment after it). Content topics of
   * another shape count under `(invalid)`, the `(other)` row under `(other)`.
   */
  | 'MESSAGE_DIMENSION_APPLICATION'
  | 2
  /**
   * The content topic (implies its application).
   */
  | 'MESSAGE_DIMENSION_CONTENT_TOPIC'
  | 3

/**
 * A dimension GetMessageCounts can group by.
 */
export type MessageDimension__Output = typeof MessageDimension[keyof typeof MessageDimension]
