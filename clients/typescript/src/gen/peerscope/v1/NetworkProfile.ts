// Original file: proto/peerscope/v1/peerscope.proto

import type { WakuProfile as _peerscope_v1_WakuProfile, WakuProfile__Output as _peerscope_v1_WakuProfile__Output } from '../../peerscope/v1/WakuProfile';
import type { EthereumProfile as _peerscope_v1_EthereumProfile, EthereumProfile__Output as _peerscope_v1_EthereumProfile__Output } from '../../peerscope/v1/EthereumProfile';
import type { CustomProfile as _peerscope_v1_CustomProfile, CustomProfile__Output as _peerscope_v1_CustomProfile__Output } from '../../peerscope/v1/CustomProfile';

/**
 * The network a crawl speaks to. Exactly one must be set.
 */
export interface NetworkProfile {
  /**
   * A Waku network: discv5 protocol id `d5waku`.
   */
  'waku'?: (_peerscope_v1_WakuProfile | null);
  /**
   * Ethereum consensus layer: discv5 protocol id `discv5`.
   */
  'ethereum'?: (_peerscope_v1_EthereumProfile | null);
  /**
   * Any other discv5 network, by protocol id.
   */
  'custom'?: (_peerscope_v1_CustomProfile | null);
  'profile'?: "waku"|"ethereum"|"custom";
}

/**
 * The network a crawl speaks to. Exactly one must be set.
 */
export interface NetworkProfile__Output {
  /**
   * A Waku network: discv5 protocol id `d5waku`.
   */
  'waku'?: (_peerscope_v1_WakuProfile__Output | null);
  /**
   * Ethereum consensus layer: discv5 protocol id `discv5`.
   */
  'ethereum'?: (_peerscope_v1_EthereumProfile__Output | null);
  /**
   * Any other discv5 network, by protocol id.
   */
  'custom'?: (_peerscope_v1_CustomProfile__Output | null);
  'profile'?: "waku"|"ethereum"|"custom";
}
