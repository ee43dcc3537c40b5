// Original file: proto/peerscope/v1/peerscope.proto

import type { NetworkProfile as _peerscope_v1_NetworkProfile, NetworkProfile__Output as _peerscope_v1_NetworkProfile__Output } from '../../peerscope/v1/NetworkProfile';
import type { CrawlMode as _peerscope_v1_CrawlMode, CrawlMode__Output as _peerscope_v1_CrawlMode__Output } from '../../peerscope/v1/CrawlMode';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';
import type { CrawlLimits as _peerscope_v1_CrawlLimits, CrawlLimits__Output as _peerscope_v1_CrawlLimits__Output } from '../../peerscope/v1/CrawlLimits';
import type { PeerExchangeOptions as _peerscope_v1_PeerExchangeOptions, PeerExchangeOptions__Output as _peerscope_v1_PeerExchangeOptions__Output } from '../../peerscope/v1/PeerExchangeOptions';

export interface StartCrawlRequest {
  /**
   * The network to crawl. Required.
   */
  'profile'?: (_peerscope_v1_NetworkProfile | null);
  /**
   * Bootstrap records, as `enr:` text. Each must parse and carry a valid signature and a
   * UDP endpoint; a record is at most 300 bytes. At least one record or one `dns_tree_urls`
   * entry is required, and at most 1024 records.
   */
  'bootstrapEnrs'?: (string)[];
  /**
   * EIP-1459 tree URLs (`enrtree://KEY@domain`), resolved when the crawl starts through the
   * server's nameservers (`--dns-nameserver`): the root signature and every entry's hash
   * are verified, branches and links followed, with loop and size guards. Every tree must
   * verify, or StartCrawl fails FAILED_PRECONDITION naming the URL and what failed, and
   * nothing from it is used. The records found join `bootstrap_enrs`. At most 64 URLs (a
   * `profile.waku.preset` counts as one), each at most 512 bytes; a malformed URL fails
   * INVALID_ARGUMENT before any lookup.
   */
  'dnsTreeUrls'?: (string)[];
  /**
   * ONESHOT (default) or CONTINUOUS.
   */
  'mode'?: (_peerscope_v1_CrawlMode);
  /**
   * CONTINUOUS only: pause between two enumeration rounds. Default 5 minutes; must be
   * 1s..=30 days when set.
   */
  'recrawlInterval'?: (_google_protobuf_Duration | null);
  /**
   * Maximum discv5 requests in flight. Default 64; must be 1..=4096 when set.
   */
  'concurrency'?: (number);
  /**
   * The longest a discv5 request may take: the walk times requests out sooner, as the
   * round trips it sees allow (see `CrawlProgress.request_timeout`). Default 1s; must be
   * 10ms..=60s when set.
   */
  'requestTimeout'?: (_google_protobuf_Duration | null);
  /**
   * Depth of every node's walk, in FINDNODE distances counted down from 256 (17 covers
   * 256..=240, as Nebula asks). Each distance is asked alone, or shown empty by one
   * request naming all those left once the answers end in two empty distances. Default
   * 17; must be 1..=256 when set.
   */
  'findNodeDistances'?: (number);
  /**
   * Random-target lookups per round, on top of the routing-table walk: a CONTINUOUS crawl
   * runs them once each round's walk is done (default 8), a ONESHOT one beside its walk
   * (default 0). They never hold a round open. Must be 0..=1024 when set.
   */
  'randomLookups'?: (number);
  /**
   * Limits.
   */
  'limits'?: (_peerscope_v1_CrawlLimits | null);
  /**
   * A free-form name shown in listings. At most 200 bytes.
   */
  'name'?: (string);
  /**
   * Free-form labels. At most 32 entries; keys 1..=200 bytes, values at most 200 bytes.
   */
  'labels'?: ({[key: string]: string});
  /**
   * UDP address the crawl's discv5 socket binds to. Default: the server's configured
   * discv5 address (`--discv5-addr`). Port 0 picks a free port. Must be `ip:port`; an
   * address that cannot be bound fails FAILED_PRECONDITION.
   */
  'listenAddr'?: (string);
  /**
   * Dial every discovered peer over libp2p (TCP + Noise + Yamux) to read identify, Waku
   * metadata and ping. Default true.
   */
  'dial'?: (boolean);
  /**
   * Dials in flight at once. Default 32; must be 1..=1024 when set.
   */
  'dialConcurrency'?: (number);
  /**
   * Bound on TCP connect + Noise + Yamux of one dial. Default 5s; must be 100ms..=60s.
   */
  'dialTimeout'?: (_google_protobuf_Duration | null);
  /**
   * Dials in flight to one IP address at once (politeness). Default 4; must be
   * 1..=1024 when set.
   */
  'dialsPerIp'?: (number);
  /**
   * CONTINUOUS only: a peer whose last dial connected is not dialed again sooner than
   * this. Default: `recrawl_interval`. Failed dials back off 2^n s plus jitter (capped at
   * 10 min); after 6 failures in a row a peer is given up on. Must be 1s..=30 days when set.
   */
  'minRedialInterval'?: (_google_protobuf_Duration | null);
  /**
   * Waku only: run the relay monitor — keep long-lived gossipsub connections
   * (`/vac/waku/relay/2.0.0`) to vetted relay peers of the cluster and count every message
   * on `pubsub_topics`. Default: true for CONTINUOUS Waku crawls, false otherwise. Needs
   * `dial` (peers are vetted by dialing them): true without it, or for another profile,
   * fails INVALID_ARGUMENT.
   */
  'relay'?: (boolean);
  /**
   * Long-lived relay connections to keep. Default 8; must be 1..=64 when set.
   */
  'relayPeers'?: (number);
  /**
   * Pubsub topics to count. Default: `/waku/2/rs/<cluster>/<shard>` for the profile's
   * shards, or shards 0..=7 when it names none. At most 64, each 1..=256 bytes without NUL.
   */
  'pubsubTopics'?: (string)[];
  /**
   * Waku peer exchange (`/vac/waku/peer-exchange/2.0.0-alpha1`): asking peers for records,
   * and seed mode (serving them). Unset: the client side on, seed mode off.
   */
  'peerExchange'?: (_peerscope_v1_PeerExchangeOptions | null);
  /**
   * The addresses the crawl may contact, as CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or
   * single addresses (`127.0.0.1`). A record naming an address (`ip` or `ip6`) outside
   * the scope is stored — with a DISCOVERED event whose `error_class` is `out_of_scope`,
   * and `out_of_scope` as the peer's `last_error_class` — and never contacted: no
   * FINDNODE, no dial, no peer-exchange dial; discv5's random lookups skip it too.
   * `multiaddrs` entries outside the scope are not dialed. Empty: the scope of the
   * bootstrap records (given and resolved from `dns_tree_urls`): public bootstrap
   * addresses allow public addresses, loopback ones loopback, private ones (10/8,
   * 172.16/12, 192.168/16, 100.64/10, fc00::/7) private; link-local and special
   * addresses only ever through this list. The scope is decided when the crawl starts
   * and shown in `CrawlSettings.address_scope`. At most 256 entries; one that is neither
   * a CIDR nor an address fails INVALID_ARGUMENT naming it (`allowed_cidrs[2]: ...`).
   */
  'allowedCidrs'?: (string)[];
  '_concurrency'?: "concurrency";
  '_findNodeDistances'?: "findNodeDistances";
  '_randomLookups'?: "randomLookups";
  '_dial'?: "dial";
  '_dialConcurrency'?: "dialConcurrency";
  '_dialsPerIp'?: "dialsPerIp";
  '_relay'?: "relay";
  '_relayPeers'?: "relayPeers";
}

export interface StartCrawlRequest__Output {
  /**
   * The network to crawl. Required.
   */
  'profile': (_peerscope_v1_NetworkProfile__Output | null);
  /**
   * Bootstrap records, as `enr:` text. Each must parse and carry a valid signature and a
   * UDP endpoint; a record is at most 300 bytes. At least one record or one `dns_tree_urls`
   * entry is required, and at most 1024 records.
   */
  'bootstrapEnrs': (string)[];
  /**
   * EIP-1459 tree URLs (`enrtree://KEY@domain`), resolved when the crawl starts through the
   * server's nameservers (`--dns-nameserver`): the root signature and every entry's hash
   * are verified, branches and links followed, with loop and size guards. Every tree must
   * verify, or StartCrawl fails FAILED_PRECONDITION naming the URL and what failed, and
   * nothing from it is used. The records found join `bootstrap_enrs`. At most 64 URLs (a
   * `profile.waku.preset` counts as one), each at most 512 bytes; a malformed URL fails
   * INVALID_ARGUMENT before any lookup.
   */
  'dnsTreeUrls': (string)[];
  /**
   * ONESHOT (default) or CONTINUOUS.
   */
  'mode': (_peerscope_v1_CrawlMode__Output);
  /**
   * CONTINUOUS only: pause between two enumeration rounds. Default 5 minutes; must be
   * 1s..=30 days when set.
   */
  'recrawlInterval': (_google_protobuf_Duration__Output | null);
  /**
   * Maximum discv5 requests in flight. Default 64; must be 1..=4096 when set.
   */
  'concurrency'?: (number);
  /**
   * The longest a discv5 request may take: the walk times requests out sooner, as the
   * round trips it sees allow (see `CrawlProgress.request_timeout`). Default 1s; must be
   * 10ms..=60s when set.
   */
  'requestTimeout': (_google_protobuf_Duration__Output | null);
  /**
   * Depth of every node's walk, in FINDNODE distances counted down from 256 (17 covers
   * 256..=240, as Nebula asks). Each distance is asked alone, or shown empty by one
   * request naming all those left once the answers end in two empty distances. Default
   * 17; must be 1..=256 when set.
   */
  'findNodeDistances'?: (number);
  /**
   * Random-target lookups per round, on top of the routing-table walk: a CONTINUOUS crawl
   * runs them once each round's walk is done (default 8), a ONESHOT one beside its walk
   * (default 0). They never hold a round open. Must be 0..=1024 when set.
   */
  'randomLookups'?: (number);
  /**
   * Limits.
   */
  'limits': (_peerscope_v1_CrawlLimits__Output | null);
  /**
   * A free-form name shown in listings. At most 200 bytes.
   */
  'name': (string);
  /**
   * Free-form labels. At most 32 entries; keys 1..=200 bytes, values at most 200 bytes.
   */
  'labels': ({[key: string]: string});
  /**
   * UDP address the crawl's discv5 socket binds to. Default: the server's configured
   * discv5 address (`--discv5-addr`). Port 0 picks a free port. Must be `ip:port`; an
   * address that cannot be bound fails FAILED_PRECONDITION.
   */
  'listenAddr': (string);
  /**
   * Dial every discovered peer over libp2p (TCP + Noise + Yamux) to read identify, Waku
   * metadata and ping. Default true.
   */
  'dial'?: (boolean);
  /**
   * Dials in flight at once. Default 32; must be 1..=1024 when set.
   */
  'dialConcurrency'?: (number);
  /**
   * Bound on TCP connect + Noise + Yamux of one dial. Default 5s; must be 100ms..=60s.
   */
  'dialTimeout': (_google_protobuf_Duration__Output | null);
  /**
   * Dials in flight to one IP address at once (politeness). Default 4; must be
   * 1..=1024 when set.
   */
  'dialsPerIp'?: (number);
  /**
   * CONTINUOUS only: a peer whose last dial connected is not dialed again sooner than
   * this. Default: `recrawl_interval`. Failed dials back off 2^n s plus jitter (capped at
   * 10 min); after 6 failures in a row a peer is given up on. Must be 1s..=30 days when set.
   */
  'minRedialInterval': (_google_protobuf_Duration__Output | null);
  /**
   * Waku only: run the relay monitor — keep long-lived gossipsub connections
   * (`/vac/waku/relay/2.0.0`) to vetted relay peers of the cluster and count every message
   * on `pubsub_topics`. Default: true for CONTINUOUS Waku crawls, false otherwise. Needs
   * `dial` (peers are vetted by dialing them): true without it, or for another profile,
   * fails INVALID_ARGUMENT.
   */
  'relay'?: (boolean);
  /**
   * Long-lived relay connections to keep. Default 8; must be 1..=64 when set.
   */
  'relayPeers'?: (number);
  /**
   * Pubsub topics to count. Default: `/waku/2/rs/<cluster>/<shard>` for the profile's
   * shards, or shards 0..=7 when it names none. At most 64, each 1..=256 bytes without NUL.
   */
  'pubsubTopics': (string)[];
  /**
   * Waku peer exchange (`/vac/waku/peer-exchange/2.0.0-alpha1`): asking peers for records,
   * and seed mode (serving them). Unset: the client side on, seed mode off.
   */
  'peerExchange': (_peerscope_v1_PeerExchangeOptions__Output | null);
  /**
   * The addresses the crawl may contact, as CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or
   * single addresses (`127.0.0.1`). A record naming an address (`ip` or `ip6`) outside
   * the scope is stored — with a DISCOVERED event whose `error_class` is `out_of_scope`,
   * and `out_of_scope` as the peer's `last_error_class` — and never contacted: no
   * FINDNODE, no dial, no peer-exchange dial; discv5's random lookups skip it too.
   * `multiaddrs` entries outside the scope are not dialed. Empty: the scope of the
   * bootstrap records (given and resolved from `dns_tree_urls`): public bootstrap
   * addresses allow public addresses, loopback ones loopback, private ones (10/8,
   * 172.16/12, 192.168/16, 100.64/10, fc00::/7) private; link-local and special
   * addresses only ever through this list. The scope is decided when the crawl starts
   * and shown in `CrawlSettings.address_scope`. At most 256 entries; one that is neither
   * a CIDR nor an address fails INVALID_ARGUMENT naming it (`allowed_cidrs[2]: ...`).
   */
  'allowedCidrs': (string)[];
  '_concurrency'?: "concurrency";
  '_findNodeDistances'?: "findNodeDistances";
  '_randomLookups'?: "randomLookups";
  '_dial'?: "dial";
  '_dialConcurrency'?: "dialConcurrency";
  '_dialsPerIp'?: "dialsPerIp";
  '_relay'?: "relay";
  '_relayPeers'?: "relayPeers";
}
