// Original file: proto/peerscope/v1/peerscope.proto

/**
 * Which rsv/rs key the shards came from.
 */
export const ShardEncoding = {
  SHARD_ENCODING_UNSPECIFIED: 'SHARD_ENCODING_UNSPECIFIED',
  /**
   * Index list (`rs`).
   */
  SHARD_ENCODING_RS: 'SHARD_ENCODING_RS',
  /**
   * Bit vector (`rsv`), decoded in nwaku's bit order (bit s%8 from the least significant).
   */
  SHARD_ENCODING_RSV: 'SHARD_ENCODING_RSV',
} as const;

/**
 * Which rsv/rs key the shards came from.
 */
export type ShardEncoding =
  | 'SHARD_ENCODING_UNSPECIFIED'
  | 0
  /**
   * Index list (`rs`).
   */
  | 'SHARD_ENCODING_RS'
  | 1
  /**
   * Bit vector (`rsv`), decoded in nwaku's bit order (bit s%8 from the least significant).
   */
  | 'SHARD_ENCODING_RSV'
  | 2

/**
 * Which rsv/rs key the shards came from.
 */
export type ShardEncoding__Output = typeof ShardEncoding[keyof typeof ShardEncoding]
