// Original file: proto/peerscope/v1/peerscope.proto

import type { EnrFields as _peerscope_v1_EnrFields, EnrFields__Output as _peerscope_v1_EnrFields__Output } from '../../peerscope/v1/EnrFields';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { GeoInfo as _peerscope_v1_GeoInfo, GeoInfo__Output as _peerscope_v1_GeoInfo__Output } from '../../peerscope/v1/GeoInfo';
import type { PeerSource as _peerscope_v1_PeerSource, PeerSource__Output as _peerscope_v1_PeerSource__Output } from '../../peerscope/v1/PeerSource';
import type { CometBftNodeInfo as _peerscope_v1_CometBftNodeInfo, CometBftNodeInfo__Output as _peerscope_v1_CometBftNodeInfo__Output } from '../../peerscope/v1/CometBftNodeInfo';
import type { Long } from '@grpc/proto-loader';

/**
 * A peer as the store knows it.
 */
export interface Peer {
  /**
   * discv5 node id, hex.
   */
  'nodeId'?: (string);
  /**
   * libp2p peer id derived from the ENR public key; empty when the key type has none.
   */
  'peerId'?: (string);
  /**
   * The newest ENR seen, as `enr:` text.
   */
  'enr'?: (string);
  /**
   * The fields decoded from that ENR.
   */
  'enrFields'?: (_peerscope_v1_EnrFields | null);
  /**
   * libp2p addresses built from the ENR (`ip`/`tcp`, `ip6`/`tcp6`) and its `multiaddrs`.
   */
  'multiaddrs'?: (string)[];
  /**
   * Waku capabilities from the ENR `waku2` field: relay, store, filter, lightpush, sync, mix.
   */
  'capabilities'?: (string)[];
  /**
   * Cluster from the ENR `rs`/`rsv` field.
   */
  'clusterId'?: (number);
  /**
   * Shards from the ENR `rs`/`rsv` field.
   */
  'shards'?: (number)[];
  /**
   * When any crawl first discovered it.
   */
  'firstSeen'?: (_google_protobuf_Timestamp | null);
  /**
   * When any crawl last saw it (discovered it, or it answered).
   */
  'lastSeen'?: (_google_protobuf_Timestamp | null);
  /**
   * The newest crawls that saw it, at most 16 (ListPeers with `crawl_id` finds a peer by
   * any crawl that saw it).
   */
  'crawlIds'?: (string)[];
  /**
   * Number of distinct ENR versions (seq values) seen; the newest 16 are kept.
   */
  'enrVersions'?: (number);
  /**
   * identify: agent version, e.g. `nwaku-v0.36.0`. Empty before the first identify.
   * At most 256 bytes are kept (longer ones are cut; `last_error` then says so).
   */
  'agentVersion'?: (string);
  /**
   * identify: protocol version (at most 256 bytes kept).
   */
  'protocolVersion'?: (string);
  /**
   * identify: protocols the peer supports: the first 64 distinct ones in the order sent,
   * names over 128 bytes left out.
   */
  'protocols'?: (string)[];
  /**
   * identify: addresses the peer listens on (the first 16 distinct ones).
   */
  'listenAddrs'?: (string)[];
  /**
   * identify: our address as the peer saw it.
   */
  'observedAddr'?: (string);
  /**
   * Waku metadata: the cluster the peer reports.
   */
  'metadataClusterId'?: (number);
  /**
   * Waku metadata: the shards the peer reports.
   */
  'metadataShards'?: (number)[];
  /**
   * Why metadata is missing (not supported, no answer, undecodable); empty otherwise.
   */
  'metadataError'?: (string);
  /**
   * Last ping round-trip time.
   */
  'rttLast'?: (_google_protobuf_Duration | null);
  /**
   * Moving average of the ping RTT (the newest sample weighs 1/4).
   */
  'rttAvg'?: (_google_protobuf_Duration | null);
  /**
   * Dials made, all crawls.
   */
  'dialAttempts'?: (number | string | Long);
  /**
   * When it was last dialed.
   */
  'lastDial'?: (_google_protobuf_Timestamp | null);
  /**
   * When a dial last connected.
   */
  'lastConnected'?: (_google_protobuf_Timestamp | null);
  /**
   * Class of the last dial failure (see PeerEvent.error_class); empty when the last dial
   * connected. `out_of_scope` for a peer never dialed because its record names an address
   * outside a crawl's address scope (`last_error` says which).
   */
  'lastErrorClass'?: (string);
  /**
   * Raw text of the last error; for a dial that connected, what did not answer or was
   * cut (e.g. `identify capped: agent 1000 -> 256 bytes`).
   */
  'lastError'?: (string);
  /**
   * Whether the last dial connected; unset before the first dial.
   */
  'reachable'?: (boolean);
  /**
   * Address-book state in the crawl that dialed the peer last (each crawl keeps its own
   * address book): new, vetted, failing, bad or banned.
   */
  'state'?: (string);
  /**
   * Start of the current session, while reachable.
   */
  'upSince'?: (_google_protobuf_Timestamp | null);
  /**
   * Since when it has been unreachable, after being reachable or at the first failure.
   */
  'downSince'?: (_google_protobuf_Timestamp | null);
  /**
   * Sessions seen (times it became reachable).
   */
  'sessions'?: (number);
  /**
   * Total time up over ended sessions plus the current one.
   */
  'uptime'?: (_google_protobuf_Duration | null);
  /**
   * Where the peer's IP is; unset until geolocated (or when the server runs without
   * geolocation). The IP is the ENR's `ip` (else `ip6`), or for a record without one the
   * address a dial connected to.
   */
  'geo'?: (_peerscope_v1_GeoInfo | null);
  /**
   * How its records were learned, oldest first (at most 16).
   */
  'sources'?: (_peerscope_v1_PeerSource)[];
  /**
   * CometBFT: the newest NodeInfo the peer sent (also when it is on another network);
   * unset before one was read. For a CometBFT peer, `enr` holds its `id@ip:port`
   * address, `peer_id` its node id, and the events' `IDENTIFIED` detail is
   * `network=<chain> version=<v> moniker=<m>`.
   */
  'cometbft'?: (_peerscope_v1_CometBftNodeInfo | null);
  '_clusterId'?: "clusterId";
  '_metadataClusterId'?: "metadataClusterId";
  '_reachable'?: "reachable";
}

/**
 * A peer as the store knows it.
 */
export interface Peer__Output {
  /**
   * discv5 node id, hex.
   */
  'nodeId': (string);
  /**
   * libp2p peer id derived from the ENR public key; empty when the key type has none.
   */
  'peerId': (string);
  /**
   * The newest ENR seen, as `enr:` text.
   */
  'enr': (string);
  /**
   * The fields decoded from that ENR.
   */
  'enrFields': (_peerscope_v1_EnrFields__Output | null);
  /**
   * libp2p addresses built from the ENR (`ip`/`tcp`, `ip6`/`tcp6`) and its `multiaddrs`.
   */
  'multiaddrs': (string)[];
  /**
   * Waku capabilities from the ENR `waku2` field: relay, store, filter, lightpush, sync, mix.
   */
  'capabilities': (string)[];
  /**
   * Cluster from the ENR `rs`/`rsv` field.
   */
  'clusterId'?: (number);
  /**
   * Shards from the ENR `rs`/`rsv` field.
   */
  'shards': (number)[];
  /**
   * When any crawl first discovered it.
   */
  'firstSeen': (_google_protobuf_Timestamp__Output | null);
  /**
   * When any crawl last saw it (discovered it, or it answered).
   */
  'lastSeen': (_google_protobuf_Timestamp__Output | null);
  /**
   * The newest crawls that saw it, at most 16 (ListPeers with `crawl_id` finds a peer by
   * any crawl that saw it).
   */
  'crawlIds': (string)[];
  /**
   * Number of distinct ENR versions (seq values) seen; the newest 16 are kept.
   */
  'enrVersions': (number);
  /**
   * identify: agent version, e.g. `nwaku-v0.36.0`. Empty before the first identify.
   * At most 256 bytes are kept (longer ones are cut; `last_error` then says so).
   */
  'agentVersion': (string);
  /**
   * identify: protocol version (at most 256 bytes kept).
   */
  'protocolVersion': (string);
  /**
   * identify: protocols the peer supports: the first 64 distinct ones in the order sent,
   * names over 128 bytes left out.
   */
  'protocols': (string)[];
  /**
   * identify: addresses the peer listens on (the first 16 distinct ones).
   */
  'listenAddrs': (string)[];
  /**
   * identify: our address as the peer saw it.
   */
  'observedAddr': (string);
  /**
   * Waku metadata: the cluster the peer reports.
   */
  'metadataClusterId'?: (number);
  /**
   * Waku metadata: the shards the peer reports.
   */
  'metadataShards': (number)[];
  /**
   * Why metadata is missing (not supported, no answer, undecodable); empty otherwise.
   */
  'metadataError': (string);
  /**
   * Last ping round-trip time.
   */
  'rttLast': (_google_protobuf_Duration__Output | null);
  /**
   * Moving average of the ping RTT (the newest sample weighs 1/4).
   */
  'rttAvg': (_google_protobuf_Duration__Output | null);
  /**
   * Dials made, all crawls.
   */
  'dialAttempts': (string);
  /**
   * When it was last dialed.
   */
  'lastDial': (_google_protobuf_Timestamp__Output | null);
  /**
   * When a dial last connected.
   */
  'lastConnected': (_google_protobuf_Timestamp__Output | null);
  /**
   * Class of the last dial failure (see PeerEvent.error_class); empty when the last dial
   * connected. `out_of_scope` for a peer never dialed because its record names an address
   * outside a crawl's address scope (`last_error` says which).
   */
  'lastErrorClass': (string);
  /**
   * Raw text of the last error; for a dial that connected, what did not answer or was
   * cut (e.g. `identify capped: agent 1000 -> 256 bytes`).
   */
  'lastError': (string);
  /**
   * Whether the last dial connected; unset before the first dial.
   */
  'reachable'?: (boolean);
  /**
   * Address-book state in the crawl that dialed the peer last (each crawl keeps its own
   * address book): new, vetted, failing, bad or banned.
   */
  'state': (string);
  /**
   * Start of the current session, while reachable.
   */
  'upSince': (_google_protobuf_Timestamp__Output | null);
  /**
   * Since when it has been unreachable, after being reachable or at the first failure.
   */
  'downSince': (_google_protobuf_Timestamp__Output | null);
  /**
   * Sessions seen (times it became reachable).
   */
  'sessions': (number);
  /**
   * Total time up over ended sessions plus the current one.
   */
  'uptime': (_google_protobuf_Duration__Output | null);
  /**
   * Where the peer's IP is; unset until geolocated (or when the server runs without
   * geolocation). The IP is the ENR's `ip` (else `ip6`), or for a record without one the
   * address a dial connected to.
   */
  'geo': (_peerscope_v1_GeoInfo__Output | null);
  /**
   * How its records were learned, oldest first (at most 16).
   */
  'sources': (_peerscope_v1_PeerSource__Output)[];
  /**
   * CometBFT: the newest NodeInfo the peer sent (also when it is on another network);
   * unset before one was read. For a CometBFT peer, `enr` holds its `id@ip:port`
   * address, `peer_id` its node id, and the events' `IDENTIFIED` detail is
   * `network=<chain> version=<v> moniker=<m>`.
   */
  'cometbft': (_peerscope_v1_CometBftNodeInfo__Output | null);
  '_clusterId'?: "clusterId";
  '_metadataClusterId'?: "metadataClusterId";
  '_reachable'?: "reachable";
}
