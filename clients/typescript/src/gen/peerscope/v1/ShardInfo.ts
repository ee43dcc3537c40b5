// Original file: proto/peerscope/v1/peerscope.proto

import type { ShardEncoding as _peerscope_v1_ShardEncoding, ShardEncoding__Output as _peerscope_v1_ShardEncoding__Output } from '../../peerscope/v1/ShardEncoding';

/**
 * Waku shard membership from an ENR.
 */
export interface ShardInfo {
  'clusterId'?: (number);
  'shards'?: (number)[];
  'encoding'?: (_peerscope_v1_ShardEncoding);
  /**
   * The raw value of the key.
   */
  'raw'?: (Buffer | Uint8Array | string);
}

/**
 * Waku shard membership from an ENR.
 */
export interface ShardInfo__Output {
  'clusterId': (number);
  'shards': (number)[];
  'encoding': (_peerscope_v1_ShardEncoding__Output);
  /**
   * The raw value of the key.
   */
  'raw': (Buffer);
}
