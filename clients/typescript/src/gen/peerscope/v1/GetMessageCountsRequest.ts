// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

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
}
