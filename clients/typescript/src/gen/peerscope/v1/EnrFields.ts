// Original file: proto/peerscope/v1/peerscope.proto

import type { ShardInfo as _peerscope_v1_ShardInfo, ShardInfo__Output as _peerscope_v1_ShardInfo__Output } from '../../peerscope/v1/ShardInfo';
import type { Eth2Info as _peerscope_v1_Eth2Info, Eth2Info__Output as _peerscope_v1_Eth2Info__Output } from '../../peerscope/v1/Eth2Info';
import type { Long } from '@grpc/proto-loader';

/**
 * Fields decoded from an ENR. Absent keys leave fields empty.
 */
export interface EnrFields {
  'seq'?: (number | string | Long);
  'ip4'?: (string);
  'tcp4'?: (number);
  'udp4'?: (number);
  'ip6'?: (string);
  'tcp6'?: (number);
  'udp6'?: (number);
  /**
   * Raw `waku2` byte; unset when the key is absent.
   */
  'waku2'?: (number);
  /**
   * The `multiaddrs` key, decoded.
   */
  'multiaddrs'?: (string)[];
  'shards'?: (_peerscope_v1_ShardInfo | null);
  'eth2'?: (_peerscope_v1_Eth2Info | null);
  /**
   * Attestation subnets set in `attnets`.
   */
  'attnets'?: (number)[];
  /**
   * Sync-committee subnets set in `syncnets`.
   */
  'syncnets'?: (number)[];
  /**
   * One line per known key that was present but malformed.
   */
  'issues'?: (string)[];
  '_waku2'?: "waku2";
}

/**
 * Fields decoded from an ENR. Absent keys leave fields empty.
 */
export interface EnrFields__Output {
  'seq': (string);
  'ip4': (string);
  'tcp4': (number);
  'udp4': (number);
  'ip6': (string);
  'tcp6': (number);
  'udp6': (number);
  /**
   * Raw `waku2` byte; unset when the key is absent.
   */
  'waku2'?: (number);
  /**
   * The `multiaddrs` key, decoded.
   */
  'multiaddrs': (string)[];
  'shards': (_peerscope_v1_ShardInfo__Output | null);
  'eth2': (_peerscope_v1_Eth2Info__Output | null);
  /**
   * Attestation subnets set in `attnets`.
   */
  'attnets': (number)[];
  /**
   * Sync-committee subnets set in `syncnets`.
   */
  'syncnets': (number)[];
  /**
   * One line per known key that was present but malformed.
   */
  'issues': (string)[];
  '_waku2'?: "waku2";
}
