// Original file: proto/peerscope/v1/peerscope.proto


export interface GetPeerRequest {
  /**
   * Hex node id.
   */
  'nodeId'?: (string);
  /**
   * libp2p peer id.
   */
  'peerId'?: (string);
  /**
   * Which peer. Exactly one must be set.
   */
  'key'?: "nodeId"|"peerId";
}

export interface GetPeerRequest__Output {
  /**
   * Hex node id.
   */
  'nodeId'?: (string);
  /**
   * libp2p peer id.
   */
  'peerId'?: (string);
  /**
   * Which peer. Exactly one must be set.
   */
  'key'?: "nodeId"|"peerId";
}
