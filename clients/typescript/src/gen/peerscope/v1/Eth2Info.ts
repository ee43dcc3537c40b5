// Original file: proto/peerscope/v1/peerscope.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Ethereum consensus `eth2` field (SSZ ENRForkID).
 */
export interface Eth2Info {
  /**
   * 4-byte fork digest, hex.
   */
  'forkDigest'?: (string);
  /**
   * 4-byte next fork version, hex.
   */
  'nextForkVersion'?: (string);
  /**
   * Next fork epoch; 18446744073709551615 means none scheduled.
   */
  'nextForkEpoch'?: (number | string | Long);
}

/**
 * Ethereum consensus `eth2` field (SSZ ENRForkID).
 */
export interface Eth2Info__Output {
  /**
   * 4-byte fork digest, hex.
   */
  'forkDigest': (string);
  /**
   * 4-byte next fork version, hex.
   */
  'nextForkVersion': (string);
  /**
   * Next fork epoch; 18446744073709551615 means none scheduled.
   */
  'nextForkEpoch': (string);
}
