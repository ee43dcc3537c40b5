// Original file: proto/peerscope/v1/peerscope.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Peers on one shard.
 */
export interface ShardCount {
  'clusterId'?: (number);
  'shard'?: (number);
  'peers'?: (number | string | Long);
}

/**
 * Peers on one shard.
 */
export interface ShardCount__Output {
  'clusterId': (number);
  'shard': (number);
  'peers': (string);
}
