// Original file: proto/peerscope/v1/peerscope.proto

import type { Long } from '@grpc/proto-loader';

/**
 * What a CometBFT node says about itself (`tendermint.p2p.DefaultNodeInfo`). Texts are
 * kept up to 256 bytes.
 */
export interface CometBftNodeInfo {
  /**
   * protocol_version.p2p.
   */
  'p2pVersion'?: (number | string | Long);
  /**
   * protocol_version.block.
   */
  'blockVersion'?: (number | string | Long);
  /**
   * protocol_version.app.
   */
  'appVersion'?: (number | string | Long);
  /**
   * default_node_id: the id it claims (40 hex characters).
   */
  'nodeId'?: (string);
  /**
   * listen_addr: where it says it listens.
   */
  'listenAddr'?: (string);
  /**
   * network: the chain id.
   */
  'network'?: (string);
  /**
   * version: the software version, e.g. `0.38.12`.
   */
  'version'?: (string);
  /**
   * channels: the reactor channels it speaks (0 = PEX, 32..35 consensus, 48 mempool, …).
   */
  'channels'?: (number)[];
  /**
   * moniker: the operator's name for the node.
   */
  'moniker'?: (string);
  /**
   * other.tx_index: `on`, `off` or empty.
   */
  'txIndex'?: (string);
  /**
   * other.rpc_address.
   */
  'rpcAddress'?: (string);
}

/**
 * What a CometBFT node says about itself (`tendermint.p2p.DefaultNodeInfo`). Texts are
 * kept up to 256 bytes.
 */
export interface CometBftNodeInfo__Output {
  /**
   * protocol_version.p2p.
   */
  'p2pVersion': (string);
  /**
   * protocol_version.block.
   */
  'blockVersion': (string);
  /**
   * protocol_version.app.
   */
  'appVersion': (string);
  /**
   * default_node_id: the id it claims (40 hex characters).
   */
  'nodeId': (string);
  /**
   * listen_addr: where it says it listens.
   */
  'listenAddr': (string);
  /**
   * network: the chain id.
   */
  'network': (string);
  /**
   * version: the software version, e.g. `0.38.12`.
   */
  'version': (string);
  /**
   * channels: the reactor channels it speaks (0 = PEX, 32..35 consensus, 48 mempool, …).
   */
  'channels': (number)[];
  /**
   * moniker: the operator's name for the node.
   */
  'moniker': (string);
  /**
   * other.tx_index: `on`, `off` or empty.
   */
  'txIndex': (string);
  /**
   * other.rpc_address.
   */
  'rpcAddress': (string);
}
