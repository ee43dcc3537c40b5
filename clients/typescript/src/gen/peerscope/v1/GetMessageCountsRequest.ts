// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { MessageDimension as _peerscope_v1_MessageDimension, MessageDimension__Output as _peerscope_v1_MessageDimension__Output } from '../../peerscope/v1/MessageDimension';

export interface GetMessageCountsRequest {
  /**
   * Only this pubsub topic (empty: all). At most 256 bytes.
   */
  'pubsubTopic'?: (string);
  /**
   * Only content topics starting with this prefix (empty: all). The "(other)" row matches
   * only an empty prefix. At most 256 bytes.
   */
  'contentTopicPrefix'?: (string);
  /**
   * Count `window_messages`/`window_bytes` from this time (minute resolution); unset: 5
   * minutes before `until`. Must be before `until`; both lie in 1970..=9999.
   */
  'since'?: (_google_protobuf_Timestamp | null);
  /**
   * End of the window (minute resolution; the minute holding it is included); unset: now.
   */
  'until'?: (_google_protobuf_Timestamp | null);
  /**
   * Sum the stored rows by these dimensions (any order, repeats allowed); the dimensions
   * not named are summed over and left empty in the rows. Empty: one row per (pubsub
   * topic, content topic), as stored. E.g. [APPLICATION]: messages per application over
   * all pubsub topics; [PUBSUB_TOPIC]: per pubsub topic; [PUBSUB_TOPIC, APPLICATION]: per
   * application on each pubsub topic. The filters above apply first. UNSPECIFIED or an
   * unknown value fails INVALID_ARGUMENT naming the entry. At most 3 entries.
   */
  'groupBy'?: (_peerscope_v1_MessageDimension)[];
}

export interface GetMessageCountsRequest__Output {
  /**
   * Only this pubsub topic (empty: all). At most 256 bytes.
   */
  'pubsubTopic': (string);
  /**
   * Only content topics starting with this prefix (empty: all). The "(other)" row matches
   * only an empty prefix. At most 256 bytes.
   */
  'contentTopicPrefix': (string);
  /**
   * Count `window_messages`/`window_bytes` from this time (minute resolution); unset: 5
   * minutes before `until`. Must be before `until`; both lie in 1970..=9999.
   */
  'since': (_google_protobuf_Timestamp__Output | null);
  /**
   * End of the window (minute resolution; the minute holding it is included); unset: now.
   */
  'until': (_google_protobuf_Timestamp__Output | null);
  /**
   * Sum the stored rows by these dimensions (any order, repeats allowed); the dimensions
   * not named are summed over and left empty in the rows. Empty: one row per (pubsub
   * topic, content topic), as stored. E.g. [APPLICATION]: messages per application over
   * all pubsub topics; [PUBSUB_TOPIC]: per pubsub topic; [PUBSUB_TOPIC, APPLICATION]: per
   * application on each pubsub topic. The filters above apply first. UNSPECIFIED or an
   * unknown value fails INVALID_ARGUMENT naming the entry. At most 3 entries.
   */
  'groupBy': (_peerscope_v1_MessageDimension__Output)[];
}
