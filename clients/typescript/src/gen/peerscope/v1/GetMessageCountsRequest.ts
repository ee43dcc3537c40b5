// Original file: proto/peerscope/v1/peerscope.proto


export interface GetMessageCountsRequest {
  /**
   * Only this pubsub topic (empty: all).
   */
  'pubsubTopic'?: (string);
  /**
   * Only content topics starting with this prefix.
   */
  'contentTopicPrefix'?: (string);
}

export interface GetMessageCountsRequest__Output {
  /**
   * Only this pubsub topic (empty: all).
   */
  'pubsubTopic': (string);
  /**
   * Only content topics starting with this prefix.
   */
  'contentTopicPrefix': (string);
}
