// Original file: proto/peerscope/v1/peerscope.proto

/**
 * Kinds of peer events.
 */
export const PeerEventKind = {
  PEER_EVENT_KIND_UNSPECIFIED: 'PEER_EVENT_KIND_UNSPECIFIED',
  /**
   * A node seen for the first time by this crawl. `enr` holds its record.
   */
  PEER_EVENT_KIND_DISCOVERED: 'PEER_EVENT_KIND_DISCOVERED',
  /**
   * A newer record (higher seq) of a known node. `enr` holds the new record.
   */
  PEER_EVENT_KIND_ENR_UPDATED: 'PEER_EVENT_KIND_ENR_UPDATED',
  /**
   * A libp2p connection was established; `detail` is the address.
   */
  PEER_EVENT_KIND_CONNECTED: 'PEER_EVENT_KIND_CONNECTED',
  /**
   * identify answered; `detail` is the agent version.
   */
  PEER_EVENT_KIND_IDENTIFIED: 'PEER_EVENT_KIND_IDENTIFIED',
  /**
   * Waku metadata answered; `detail` is `cluster=<id> shards=<list>`.
   */
  PEER_EVENT_KIND_METADATA: 'PEER_EVENT_KIND_METADATA',
  /**
   * A dial failed; `error_class` says why and `detail` has the raw error.
   */
  PEER_EVENT_KIND_DIAL_FAILED: 'PEER_EVENT_KIND_DIAL_FAILED',
  /**
   * The connection closed.
   */
  PEER_EVENT_KIND_DISCONNECTED: 'PEER_EVENT_KIND_DISCONNECTED',
  /**
   * The peer was banned (it answered with another key than its ENR's).
   */
  PEER_EVENT_KIND_BANNED: 'PEER_EVENT_KIND_BANNED',
  /**
   * A ban expired.
   */
  PEER_EVENT_KIND_UNBANNED: 'PEER_EVENT_KIND_UNBANNED',
  /**
   * The peer became reachable: a session starts.
   */
  PEER_EVENT_KIND_PEER_UP: 'PEER_EVENT_KIND_PEER_UP',
  /**
   * A reachable peer failed a dial: the session ends.
   */
  PEER_EVENT_KIND_PEER_DOWN: 'PEER_EVENT_KIND_PEER_DOWN',
  /**
   * We asked the peer for records over peer exchange; `detail` is `<n> records` or why
   * none came (`failed: ...`, `refused: status ...`).
   */
  PEER_EVENT_KIND_PEER_EXCHANGE: 'PEER_EVENT_KIND_PEER_EXCHANGE',
  /**
   * Seed mode: the peer asked us for records; `detail` is `answered <n> records (asked
   * <m>, cluster <c>)` or `refused: <status> <reason>`. `node_id` is derived from the
   * requester's secp256k1 key (requesters with other key types are not recorded here).
   */
  PEER_EVENT_KIND_PEER_EXCHANGE_SERVED: 'PEER_EVENT_KIND_PEER_EXCHANGE_SERVED',
  /**
   * The crawl resumed after the server restarted (see CRAWL_STATE_RUNNING): same id,
   * settings and node identity, its address book restored. `node_id` is the crawl's own
   * discv5 node id and `detail` is `address book restored: <n> peers (<v> vetted, <f>
   * failing, <b> bad, <x> banned, <w> new)`.
   */
  PEER_EVENT_KIND_RESUMED: 'PEER_EVENT_KIND_RESUMED',
} as const;

/**
 * Kinds of peer events.
 */
export type PeerEventKind =
  | 'PEER_EVENT_KIND_UNSPECIFIED'
  | 0
  /**
   * A node seen for the first time by this crawl. `enr` holds its record.
   */
  | 'PEER_EVENT_KIND_DISCOVERED'
  | 1
  /**
   * A newer record (higher seq) of a known node. `enr` holds the new record.
   */
  | 'PEER_EVENT_KIND_ENR_UPDATED'
  | 2
  /**
   * A libp2p connection was established; `detail` is the address.
   */
  | 'PEER_EVENT_KIND_CONNECTED'
  | 3
  /**
   * identify answered; `detail` is the agent version.
   */
  | 'PEER_EVENT_KIND_IDENTIFIED'
  | 4
  /**
   * Waku metadata answered; `detail` is `cluster=<id> shards=<list>`.
   */
  | 'PEER_EVENT_KIND_METADATA'
  | 5
  /**
   * A dial failed; `error_class` says why and `detail` has the raw error.
   */
  | 'PEER_EVENT_KIND_DIAL_FAILED'
  | 6
  /**
   * The connection closed.
   */
  | 'PEER_EVENT_KIND_DISCONNECTED'
  | 7
  /**
   * The peer was banned (it answered with another key than its ENR's).
   */
  | 'PEER_EVENT_KIND_BANNED'
  | 8
  /**
   * A ban expired.
   */
  | 'PEER_EVENT_KIND_UNBANNED'
  | 9
  /**
   * The peer became reachable: a session starts.
   */
  | 'PEER_EVENT_KIND_PEER_UP'
  | 10
  /**
   * A reachable peer failed a dial: the session ends.
   */
  | 'PEER_EVENT_KIND_PEER_DOWN'
  | 11
  /**
   * We asked the peer for records over peer exchange; `detail` is `<n> records` or why
   * none came (`failed: ...`, `refused: status ...`).
   */
  | 'PEER_EVENT_KIND_PEER_EXCHANGE'
  | 12
  /**
   * Seed mode: the peer asked us for records; `detail` is `answered <n> records (asked
   * <m>, cluster <c>)` or `refused: <status> <reason>`. `node_id` is derived from the
   * requester's secp256k1 key (requesters with other key types are not recorded here).
   */
  | 'PEER_EVENT_KIND_PEER_EXCHANGE_SERVED'
  | 13
  /**
   * The crawl resumed after the server restarted (see CRAWL_STATE_RUNNING): same id,
   * settings and node identity, its address book restored. `node_id` is the crawl's own
   * discv5 node id and `detail` is `address book restored: <n> peers (<v> vetted, <f>
   * failing, <b> bad, <x> banned, <w> new)`.
   */
  | 'PEER_EVENT_KIND_RESUMED'
  | 14

/**
 * Kinds of peer events.
 */
export type PeerEventKind__Output = typeof PeerEventKind[keyof typeof PeerEventKind]
