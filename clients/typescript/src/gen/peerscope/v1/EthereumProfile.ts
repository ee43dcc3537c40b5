// Original file: proto/peerscope/v1/peerscope.proto


/**
 * Ethereum consensus-layer discovery.
 */
export interface EthereumProfile {
}

/**
 * Ethereum consensus-layer discovery.
 */
export interface EthereumProfile__Output {
}
