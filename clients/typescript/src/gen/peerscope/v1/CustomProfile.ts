// Original file: proto/peerscope/v1/peerscope.proto


/**
 * A custom discv5 network.
 */
export interface CustomProfile {
  /**
   * The 6-byte ASCII protocol id of the discv5 static header, e.g. `discv5`.
   */
  'protocolId'?: (string);
}

/**
 * A custom discv5 network.
 */
export interface CustomProfile__Output {
  /**
   * The 6-byte ASCII protocol id of the discv5 static header, e.g. `discv5`.
   */
  'protocolId': (string);
}
