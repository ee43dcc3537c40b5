// Original file: proto/peerscope/v1/peerscope.proto

import type { WakuProfile as _peerscope_v1_WakuProfile, WakuProfile__Output as _peerscope_v1_WakuProfile__Output } from '../../peerscope/v1/WakuProfile';
import type { EthereumProfile as _peerscope_v1_EthereumProfile, EthereumProfile__Output as _peerscope_v1_EthereumProfile__Output } from '../../peerscope/v1/EthereumProfile';
import type { CustomProfile as _peerscope_v1_CustomProfile, CustomProfile__Output as _peerscope_v1_CustomProfile__Output } from '../../peerscope/v1/CustomProfile';
import type { CometBftProfile as _peerscope_v1_CometBftProfile, CometBftProfile__Output as _peerscope_v1_CometBftProfile__Output } from '../../peerscope/v1/CometBftProfile';

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
  /**
   * A CometBFT / Tendermint chain, crawled over PEX on the Tendermint P2P stack
   * (SecretConnection, NodeInfo, MConnection) instead of discv5. `bootstrap_enrs` and
   * `dns_tree_urls` must be empty (the start addresses are `cometbft.peers`); the discv5
   * settings (`concurrency`, `request_timeout`, `find_node_distances`,
   * `random_lookups`), `relay` and `peer_exchange` do not apply. `dial_concurrency`
   * bounds the visits in flight and `dial_timeout` the TCP connect; `mode`, `limits`,
   * `name` and `labels` apply as to any crawl.
   */
  'cometbft'?: (_peerscope_v1_CometBftProfile | null);
  'profile'?: "waku"|"ethereum"|"custom"|"cometbft";
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
  /**
   * A CometBFT / Tendermint chain, crawled over PEX on the Tendermint P2P stack
   * (SecretConnection, NodeInfo, MConnection) instead of discv5. `bootstrap_enrs` and
   * `dns_tree_urls` must be empty (the start addresses are `cometbft.peers`); the discv5
   * settings (`concurrency`, `request_timeout`, `find_node_distances`,
   * `random_lookups`), `relay` and `peer_exchange` do not apply. `dial_concurrency`
   * bounds the visits in flight and `dial_timeout` the TCP connect; `mode`, `limits`,
   * `name` and `labels` apply as to any crawl.
   */
  'cometbft'?: (_peerscope_v1_CometBftProfile__Output | null);
  'profile'?: "waku"|"ethereum"|"custom"|"cometbft";
}
