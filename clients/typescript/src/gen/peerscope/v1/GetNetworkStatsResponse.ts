// Original file: proto/peerscope/v1/peerscope.proto

import type { ShardCount as _peerscope_v1_ShardCount, ShardCount__Output as _peerscope_v1_ShardCount__Output } from '../../peerscope/v1/ShardCount';
import type { PubsubTopicSummary as _peerscope_v1_PubsubTopicSummary, PubsubTopicSummary__Output as _peerscope_v1_PubsubTopicSummary__Output } from '../../peerscope/v1/PubsubTopicSummary';
import type { Long } from '@grpc/proto-loader';

export interface GetNetworkStatsResponse {
  /**
   * Peers counted.
   */
  'peers'?: (number | string | Long);
  /**
   * Peers per Waku capability (a peer counts once under each capability it has).
   */
  'byCapability'?: ({[key: string]: number | string | Long});
  /**
   * Peers per cluster id from the ENR.
   */
  'byCluster'?: ({[key: number]: number | string | Long});
  /**
   * Peers per (cluster, shard), sorted by cluster then shard.
   */
  'byShard'?: (_peerscope_v1_ShardCount)[];
  /**
   * Peers per record kind: `waku` (has waku2/rs/rsv), `eth2` (consensus), `eth`
   * (execution), `cometbft` (a CometBFT peer), `other`.
   */
  'byRecordKind'?: ({[key: string]: number | string | Long});
  /**
   * Peers per eth2 fork digest (4 bytes, hex, from the ENR `eth2` key), e.g.
   * `f5a5fd42`. Peers without `eth2` are not counted.
   */
  'byForkDigest'?: ({[key: string]: number | string | Long});
  /**
   * Peers with no `waku2` key, or with all its bits zero.
   */
  'withoutCapabilities'?: (number | string | Long);
  /**
   * Peers per protocol from identify.
   */
  'byProtocol'?: ({[key: string]: number | string | Long});
  /**
   * Peers per identify agent version.
   */
  'byAgent'?: ({[key: string]: number | string | Long});
  /**
   * Unreachable peers per class of their last dial failure, and under `out_of_scope` the
   * peers never dialed because their record names an address outside a crawl's address
   * scope.
   */
  'byErrorClass'?: ({[key: string]: number | string | Long});
  /**
   * Peers per (cluster, shard) as their metadata answers report.
   */
  'byMetadataShard'?: (_peerscope_v1_ShardCount)[];
  /**
   * Peers whose last dial connected.
   */
  'reachable'?: (number | string | Long);
  /**
   * Peers whose last dial failed.
   */
  'unreachable'?: (number | string | Long);
  /**
   * Peers never dialed.
   */
  'notDialed'?: (number | string | Long);
  /**
   * Relay traffic per pubsub topic (all time, all crawls).
   */
  'byPubsubTopic'?: (_peerscope_v1_PubsubTopicSummary)[];
  /**
   * Geolocated peers per country name; non-public addresses count under their kind
   * (`loopback`, `private`, … see `GeoInfo.country`) and failed lookups under `unknown`.
   * Peers not geolocated (yet) are not counted.
   */
  'byCountry'?: ({[key: string]: number | string | Long});
  /**
   * Peers per source kind (see `PeerSource.kind`); a peer counts once under each kind.
   */
  'bySource'?: ({[key: string]: number | string | Long});
  /**
   * CometBFT: peers per network (chain id) their NodeInfo names.
   */
  'byChainId'?: ({[key: string]: number | string | Long});
  /**
   * CometBFT: peers per software version (NodeInfo.version).
   */
  'bySoftwareVersion'?: ({[key: string]: number | string | Long});
  /**
   * CometBFT: peers per P2P protocol version.
   */
  'byP2pVersion'?: ({[key: number]: number | string | Long});
  /**
   * CometBFT: peers per block protocol version.
   */
  'byBlockVersion'?: ({[key: number]: number | string | Long});
  /**
   * CometBFT: peers whose last visit connected, per chain id.
   */
  'reachableByChainId'?: ({[key: string]: number | string | Long});
}

export interface GetNetworkStatsResponse__Output {
  /**
   * Peers counted.
   */
  'peers': (string);
  /**
   * Peers per Waku capability (a peer counts once under each capability it has).
   */
  'byCapability': ({[key: string]: string});
  /**
   * Peers per cluster id from the ENR.
   */
  'byCluster': ({[key: number]: string});
  /**
   * Peers per (cluster, shard), sorted by cluster then shard.
   */
  'byShard': (_peerscope_v1_ShardCount__Output)[];
  /**
   * Peers per record kind: `waku` (has waku2/rs/rsv), `eth2` (consensus), `eth`
   * (execution), `cometbft` (a CometBFT peer), `other`.
   */
  'byRecordKind': ({[key: string]: string});
  /**
   * Peers per eth2 fork digest (4 bytes, hex, from the ENR `eth2` key), e.g.
   * `f5a5fd42`. Peers without `eth2` are not counted.
   */
  'byForkDigest': ({[key: string]: string});
  /**
   * Peers with no `waku2` key, or with all its bits zero.
   */
  'withoutCapabilities': (string);
  /**
   * Peers per protocol from identify.
   */
  'byProtocol': ({[key: string]: string});
  /**
   * Peers per identify agent version.
   */
  'byAgent': ({[key: string]: string});
  /**
   * Unreachable peers per class of their last dial failure, and under `out_of_scope` the
   * peers never dialed because their record names an address outside a crawl's address
   * scope.
   */
  'byErrorClass': ({[key: string]: string});
  /**
   * Peers per (cluster, shard) as their metadata answers report.
   */
  'byMetadataShard': (_peerscope_v1_ShardCount__Output)[];
  /**
   * Peers whose last dial connected.
   */
  'reachable': (string);
  /**
   * Peers whose last dial failed.
   */
  'unreachable': (string);
  /**
   * Peers never dialed.
   */
  'notDialed': (string);
  /**
   * Relay traffic per pubsub topic (all time, all crawls).
   */
  'byPubsubTopic': (_peerscope_v1_PubsubTopicSummary__Output)[];
  /**
   * Geolocated peers per country name; non-public addresses count under their kind
   * (`loopback`, `private`, … see `GeoInfo.country`) and failed lookups under `unknown`.
   * Peers not geolocated (yet) are not counted.
   */
  'byCountry': ({[key: string]: string});
  /**
   * Peers per source kind (see `PeerSource.kind`); a peer counts once under each kind.
   */
  'bySource': ({[key: string]: string});
  /**
   * CometBFT: peers per network (chain id) their NodeInfo names.
   */
  'byChainId': ({[key: string]: string});
  /**
   * CometBFT: peers per software version (NodeInfo.version).
   */
  'bySoftwareVersion': ({[key: string]: string});
  /**
   * CometBFT: peers per P2P protocol version.
   */
  'byP2pVersion': ({[key: number]: string});
  /**
   * CometBFT: peers per block protocol version.
   */
  'byBlockVersion': ({[key: number]: string});
  /**
   * CometBFT: peers whose last visit connected, per chain id.
   */
  'reachableByChainId': ({[key: string]: string});
}
