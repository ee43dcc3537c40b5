//! Domain types shared by the engine, the store and the API edge.
//!
//! Nothing here knows about protobuf, tonic, sled or discv5: the API converts these to and
//! from `peerscope.v1` messages, the store serializes them, the engine produces them.

pub mod book;
pub mod messages;
pub mod scope;

pub use book::BookEntry;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::protocol::enr::DecodedEnr;

/// A discv5 node id (32 bytes).
pub type NodeId = [u8; 32];

/// Crawl ids are assigned by the store from a persistent counter, starting at 1.
pub type CrawlId = u64;

/// Milliseconds since the Unix epoch.
pub type UnixMillis = u64;

/// The current wall-clock time in milliseconds since the Unix epoch.
pub fn now_millis() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Formats a node id as 64 lowercase hex characters.
pub fn node_id_hex(id: &NodeId) -> String {
    hex::encode(id)
}

/// Parses a node id from 64 hex characters, with or without a `0x` prefix.
pub fn parse_node_id(text: &str) -> Option<NodeId> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

/// The discv5 protocol id of Waku networks ([`WAKU_PROTOCOL_ID`]); older nwaku releases
/// speak discv5 with Ethereum's `discv5` instead (see [`Profile::Waku`]).
pub const WAKU_PROTOCOL_ID: [u8; 6] = *b"d5waku";

fn waku_protocol_id() -> [u8; 6] {
    WAKU_PROTOCOL_ID
}

/// The network a crawl speaks to; it decides the discv5 protocol id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    /// Waku: protocol id `d5waku` by default; `protocol_id` overrides it for networks of
    /// older nwaku releases, which speak discv5 with `discv5`.
    Waku {
        cluster_id: u16,
        shards: Vec<u16>,
        #[serde(default = "waku_protocol_id")]
        protocol_id: [u8; 6],
    },
    /// Ethereum consensus layer: protocol id `discv5`.
    Ethereum,
    /// Any discv5 network with the given 6-byte protocol id.
    Custom { protocol_id: [u8; 6] },
    /// A CometBFT / Tendermint chain, crawled over PEX on the Tendermint P2P stack (no
    /// discv5): see [`crate::engine::cometbft`].
    CometBft(Box<CometBftSettings>),
}

impl Profile {
    /// The discv5 static-header protocol id of this network.
    pub fn protocol_id(&self) -> [u8; 6] {
        match self {
            Profile::Waku { protocol_id, .. } => *protocol_id,
            Profile::Ethereum => *b"discv5",
            Profile::Custom { protocol_id } => *protocol_id,
            // Not a discv5 network: the value is never used on the wire.
            Profile::CometBft(_) => *b"cmtbft",
        }
    }

    /// The CometBFT settings, for a CometBFT crawl.
    pub fn cometbft(&self) -> Option<&CometBftSettings> {
        match self {
            Profile::CometBft(c) => Some(c),
            _ => None,
        }
    }
}

/// Default pause between two crawl passes of a CometBFT crawl (the PEX seed's
/// `crawlPeerPeriod`).
pub const DEFAULT_COMET_CRAWL_INTERVAL: Duration = Duration::from_secs(30);
/// Default minimum time between two crawls of one CometBFT peer (`minTimeBetweenCrawls`).
pub const DEFAULT_COMET_MIN_RECRAWL: Duration = Duration::from_secs(120);
/// Default consecutive failed dials after which a CometBFT peer is given up on
/// (`maxAttemptsToDial`; with the 2^n s backoff the last one comes ~18 h after the first).
pub const DEFAULT_COMET_MAX_ATTEMPTS: u32 = 16;
/// Default ban of a CometBFT peer that misbehaves (`defaultBanTime`).
pub const DEFAULT_COMET_BAN: Duration = Duration::from_secs(24 * 3600);
/// Default chance, in percent, of dialing a new peer over a known one when both are due,
/// and the share of "new" peers in a seed answer (`biasToSelectNewPeers`).
pub const DEFAULT_COMET_NEW_BIAS: u8 = 30;
/// Default bound on the exchange after a TCP connect: SecretConnection handshake, NodeInfo
/// and the PEX answer. The crawler disconnects as soon as it has the answer.
pub const DEFAULT_COMET_EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a CometBFT seed waits for an inbound peer's request before it disconnects
/// (the seed answers once and disconnects at once after that).
pub const DEFAULT_COMET_SEED_IDLE: Duration = Duration::from_secs(30);
/// Default minimum time between two PEX requests of one peer to the seed (CometBFT's
/// `ensurePeersPeriod / 3`); a faster repeat is refused and the peer banned.
pub const DEFAULT_COMET_REQUEST_INTERVAL: Duration = Duration::from_secs(10);
/// Default cap on the addresses of one seed answer (`maxGetSelection`).
pub const DEFAULT_COMET_MAX_REPLY: u32 = 250;
/// Default cap on inbound connections served at once by a CometBFT seed.
pub const DEFAULT_COMET_MAX_INBOUND: u32 = 64;

/// A CometBFT crawl: which chain, where to start, and the PEX seed/crawler policy. Every
/// duration and count defaults to the CometBFT PEX reactor's seed-mode constant of the same
/// role (see the `DEFAULT_COMET_*` constants).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CometBftSettings {
    /// The chain id (`NodeInfo.network`) the crawl announces and vets peers of; peers of
    /// another network are stored and labelled with theirs, never vetted.
    pub chain_id: String,
    /// Where to start: `id@ip:port` addresses (validated).
    pub peers: Vec<String>,
    /// A crawl pass (re-dialing the peers that are due) runs this often.
    pub crawl_interval: Duration,
    /// A peer is not crawled again sooner than this.
    pub min_recrawl: Duration,
    /// Consecutive failed dials before a peer is given up on; the n-th failure waits
    /// 2^n s plus jitter.
    pub max_dial_attempts: u32,
    /// How long a ban lasts (unsolicited or oversized address lists, malformed lists,
    /// requests too often, a key that is not the address's id).
    pub ban_duration: Duration,
    /// Percent of new peers (see [`DEFAULT_COMET_NEW_BIAS`]).
    pub new_bias_percent: u8,
    /// Bound on handshake + NodeInfo + PEX answer after the TCP connect.
    pub exchange_timeout: Duration,
    /// Most addresses accepted in one PEX answer; a longer list is oversized (ban).
    pub max_addrs: u32,
    /// `protocol_version.block` announced (peers on another block protocol drop us).
    pub block_version: u64,
    /// `protocol_version.p2p` announced.
    pub p2p_version: u64,
    /// The moniker announced.
    pub moniker: String,
    /// Seed mode: accept inbound connections and answer PEX requests; `None` = off.
    pub seed: Option<CometSeedSettings>,
}

impl Default for CometBftSettings {
    fn default() -> Self {
        CometBftSettings {
            chain_id: String::new(),
            peers: Vec::new(),
            crawl_interval: DEFAULT_COMET_CRAWL_INTERVAL,
            min_recrawl: DEFAULT_COMET_MIN_RECRAWL,
            max_dial_attempts: DEFAULT_COMET_MAX_ATTEMPTS,
            ban_duration: DEFAULT_COMET_BAN,
            new_bias_percent: DEFAULT_COMET_NEW_BIAS,
            exchange_timeout: DEFAULT_COMET_EXCHANGE_TIMEOUT,
            max_addrs: crate::protocol::cometbft::pex::MAX_GET_SELECTION as u32,
            block_version: crate::protocol::cometbft::node_info::BLOCK_PROTOCOL,
            p2p_version: crate::protocol::cometbft::node_info::P2P_PROTOCOL,
            moniker: "peerscope".into(),
            seed: None,
        }
    }
}

/// CometBFT seed mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CometSeedSettings {
    /// TCP address to listen on (port 0 picks one); `None` = the IP of the server's default
    /// crawl address, port 0.
    pub listen_addr: Option<SocketAddr>,
    /// The address announced in `NodeInfo.listen_addr`; `None` = the bound address (which
    /// must then not be unspecified).
    pub external_addr: Option<SocketAddr>,
    /// Minimum time between two requests of one peer; a faster repeat is refused and the
    /// peer banned for `ban_duration`.
    pub request_interval: Duration,
    /// Most addresses in one answer.
    pub max_reply: u32,
    /// Inbound connections served at once; more are closed on accept.
    pub max_inbound: u32,
    /// How long an inbound peer may stay connected without asking.
    pub idle_timeout: Duration,
}

impl Default for CometSeedSettings {
    fn default() -> Self {
        CometSeedSettings {
            listen_addr: None,
            external_addr: None,
            request_interval: DEFAULT_COMET_REQUEST_INTERVAL,
            max_reply: DEFAULT_COMET_MAX_REPLY,
            max_inbound: DEFAULT_COMET_MAX_INBOUND,
            idle_timeout: DEFAULT_COMET_SEED_IDLE,
        }
    }
}

/// How a crawl runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CrawlMode {
    /// Enumerate once and finish.
    Oneshot,
    /// Enumerate in rounds until stopped.
    Continuous,
}

/// Where a crawl is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CrawlState {
    Running,
    Finished,
    Stopped,
    Failed,
    Interrupted,
}

impl CrawlState {
    /// True for every state a crawl never leaves.
    pub fn is_final(self) -> bool {
        !matches!(self, CrawlState::Running)
    }
}

/// Default maximum discv5 requests in flight per crawl.
///
/// 64 keeps FINDNODE timeouts rare on 2 cores with a thousand loopback peers, while a real
/// network (tens of ms RTT) still sees a few thousand requests per second.
pub const DEFAULT_CONCURRENCY: u32 = 64;
/// Default timeout of one discv5 request (discv5's own default).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// Default depth of every node's walk: distances 256 down to 240 (Nebula asks these 17).
pub const DEFAULT_FIND_NODE_DISTANCES: u32 = 17;
/// Default random-target lookups per round of a CONTINUOUS crawl.
pub const DEFAULT_RANDOM_LOOKUPS: u32 = 8;
/// Default random-target lookups of a ONESHOT crawl: none (on the testnet's shapes they
/// found no node the walk did not, and slowed the crawl down).
pub const DEFAULT_ONESHOT_RANDOM_LOOKUPS: u32 = 0;
/// Default pause between two rounds of a continuous crawl.
pub const DEFAULT_RECRAWL_INTERVAL: Duration = Duration::from_secs(300);
/// Default cap on the distinct nodes one crawl keeps track of (`limits.max_peers`).
///
/// Records of further nodes are dropped and counted. Public discv5 networks hold a few
/// thousand (Waku) to a few tens of thousands (Ethereum) nodes; at about 2 KiB of crawl
/// state per node the cap bounds a crawl near 100 MiB however many records strangers send.
pub const DEFAULT_MAX_PEERS: u64 = 50_000;
/// Largest `limits.max_peers` accepted.
pub const MAX_MAX_PEERS: u64 = 10_000_000;
/// Default budget of new nodes one responder may introduce per round
/// (`limits.max_new_per_responder`).
///
/// The walk asks a node 18 FINDNODE questions a round (a probe and 17 distances), each
/// answered with at most 16 records, and a peer-exchange answer holds at most 60: an honest
/// node cannot introduce more than about 350 nodes a round, so the budget never drops what
/// an honest node says. It bounds what one responder (a node answering FINDNODE, a peer
/// answering peer exchange, or discv5's random lookups together) can add to the crawl's
/// state per round; new records over it are dropped and counted.
pub const DEFAULT_MAX_NEW_PER_RESPONDER: u32 = 512;

/// Default dials in flight per crawl.
pub const DEFAULT_DIAL_CONCURRENCY: u32 = 32;
/// Default bound on TCP connect + Noise + Yamux.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Default dials in flight to one IP (nwaku accepts 5 peers per IP; stay below).
pub const DEFAULT_DIALS_PER_IP: u32 = 4;

/// Dial settings of one crawl.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DialSettings {
    pub enabled: bool,
    pub concurrency: u32,
    pub timeout: Duration,
    pub per_ip: u32,
    /// Minimum time between two dials of a vetted peer; `None` = the recrawl interval.
    pub min_redial: Option<Duration>,
}

impl Default for DialSettings {
    fn default() -> Self {
        DialSettings {
            enabled: true,
            concurrency: DEFAULT_DIAL_CONCURRENCY,
            timeout: DEFAULT_DIAL_TIMEOUT,
            per_ip: DEFAULT_DIALS_PER_IP,
            min_redial: None,
        }
    }
}

/// Default long-lived relay connections per crawl.
pub const DEFAULT_RELAY_PEERS: u32 = 8;

/// Relay-monitor settings of one crawl.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelaySettings {
    pub enabled: bool,
    /// Long-lived connections to keep.
    pub peers: u32,
    /// Pubsub topics to subscribe to.
    pub topics: Vec<String>,
}

/// Default answers per requester in seed mode: at most one per this interval.
pub const DEFAULT_SEED_REQUESTER_INTERVAL: Duration = Duration::from_secs(60);
/// Default minimum time between two peer-exchange requests to the same peer.
pub const DEFAULT_PX_INTERVAL: Duration = Duration::from_secs(300);
/// ENRs asked of a peer per peer-exchange request (nwaku's cap on one answer).
pub const PX_REQUEST_PEERS: u64 = 60;

/// Waku peer exchange: the client side (asking peers for ENRs) and seed mode (serving them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerExchangeSettings {
    /// Ask connected peers that list peer exchange in identify for ENRs.
    pub client: bool,
    /// A peer is not asked again sooner than this.
    pub interval: Duration,
    /// Seed mode: serve peer exchange on a TCP listener and publish ip/tcp/udp in the
    /// crawl's local ENR.
    pub seed: Option<SeedSettings>,
}

impl Default for PeerExchangeSettings {
    fn default() -> Self {
        PeerExchangeSettings {
            client: true,
            interval: DEFAULT_PX_INTERVAL,
            seed: None,
        }
    }
}

/// Seed mode settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedSettings {
    /// TCP address the libp2p host listens on (port 0 picks one); `None` = the IP of the
    /// crawl's discv5 address, port 0.
    pub listen_addr: Option<SocketAddr>,
    /// IP published in the local ENR; `None` = the listen IP (which must then not be
    /// unspecified).
    pub advertise_ip: Option<std::net::IpAddr>,
    /// One answer per requester per interval; faster repeats get status 429.
    pub requester_interval: Duration,
    /// Requests answered per IP address per `requester_interval`, whatever peer ids they
    /// come from (a peer id is free to mint); the rest get status 429.
    #[serde(default = "default_seed_requests_per_ip")]
    pub requests_per_ip: u32,
}

/// Default requests answered per IP per requester interval in seed mode.
pub const DEFAULT_SEED_REQUESTS_PER_IP: u32 = 8;

fn default_seed_requests_per_ip() -> u32 {
    DEFAULT_SEED_REQUESTS_PER_IP
}

fn default_max_new_per_responder() -> u32 {
    DEFAULT_MAX_NEW_PER_RESPONDER
}

/// Effective settings of one crawl (defaults already applied and validated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlSettings {
    pub concurrency: u32,
    pub request_timeout: Duration,
    pub find_node_distances: u32,
    pub random_lookups: u32,
    pub recrawl_interval: Duration,
    /// Most distinct nodes the crawl keeps track of; `None` (crawls stored before the cap
    /// existed) means [`DEFAULT_MAX_PEERS`].
    pub max_peers: Option<u64>,
    pub max_duration: Option<Duration>,
    #[serde(default)]
    pub dial: DialSettings,
    #[serde(default)]
    pub relay: RelaySettings,
    #[serde(default)]
    pub peer_exchange: PeerExchangeSettings,
    /// New nodes one responder may introduce per round (see
    /// [`DEFAULT_MAX_NEW_PER_RESPONDER`]).
    #[serde(default = "default_max_new_per_responder")]
    pub max_new_per_responder: u32,
    /// An explicit address scope: only addresses inside these networks are contacted.
    /// Empty: the scope of the bootstrap records (see [`scope`]).
    #[serde(default)]
    pub allowed_cidrs: Vec<ipnet::IpNet>,
}

impl CrawlSettings {
    /// The cap on known nodes.
    pub fn max_peers(&self) -> u64 {
        self.max_peers.unwrap_or(DEFAULT_MAX_PEERS)
    }
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            concurrency: DEFAULT_CONCURRENCY,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            find_node_distances: DEFAULT_FIND_NODE_DISTANCES,
            random_lookups: DEFAULT_RANDOM_LOOKUPS,
            recrawl_interval: DEFAULT_RECRAWL_INTERVAL,
            max_peers: Some(DEFAULT_MAX_PEERS),
            max_duration: None,
            dial: DialSettings::default(),
            relay: RelaySettings::default(),
            peer_exchange: PeerExchangeSettings::default(),
            max_new_per_responder: DEFAULT_MAX_NEW_PER_RESPONDER,
            allowed_cidrs: Vec::new(),
        }
    }
}

/// What a user asked for when starting a crawl (validated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub profile: Profile,
    /// Bootstrap records as `enr:` text (each was parsed and verified on input); records
    /// resolved from `dns_tree_urls` are added when the crawl starts.
    pub bootstrap_enrs: Vec<String>,
    /// EIP-1459 tree URLs (`enrtree://KEY@domain`), resolved and verified at start.
    #[serde(default)]
    pub dns_tree_urls: Vec<String>,
    /// Index in `bootstrap_enrs` from which the records came from `dns_tree_urls`.
    #[serde(default)]
    pub dns_from: Option<usize>,
    pub mode: CrawlMode,
    pub settings: CrawlSettings,
    /// UDP address to bind; `None` uses the server's default.
    pub listen_addr: Option<SocketAddr>,
}

impl CrawlSpec {
    /// The addresses this crawl may contact: the explicit allow-list when there is one,
    /// otherwise the scope of its bootstrap records (given and from DNS trees, which
    /// [`crate::engine::Engine::start_crawl`] adds to `bootstrap_enrs` before the crawl
    /// runs). Records that do not parse add nothing.
    pub fn address_scope(&self) -> scope::AddressScope {
        if !self.settings.allowed_cidrs.is_empty() {
            return scope::AddressScope::allow(self.settings.allowed_cidrs.clone());
        }
        let ips = self
            .bootstrap_enrs
            .iter()
            .filter_map(|t| crate::protocol::enr::parse_enr(t).ok())
            .flat_map(|e| {
                [
                    e.ip4().map(std::net::IpAddr::V4),
                    e.ip6().map(std::net::IpAddr::V6),
                ]
            })
            .flatten();
        scope::AddressScope::of_bootstrap(ips)
    }
}

/// Progress counters of a crawl. See `CrawlProgress` in the proto for each meaning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrawlProgress {
    pub discovered: u64,
    pub queried: u64,
    pub queued: u64,
    pub in_flight: u64,
    pub find_node_requests: u64,
    pub find_node_failures: u64,
    pub unresponsive: u64,
    pub lookups: u64,
    pub enr_updates: u64,
    pub rounds: u64,
    pub dials: u64,
    pub dialing: u64,
    pub connected: u64,
    pub failed_by_class: BTreeMap<String, u64>,
    pub identified: u64,
    pub dial_queued: u64,
    pub relay_peers: u64,
    pub relay_mesh_peers: u64,
    pub messages: u64,
    pub px_requests: u64,
    pub px_failures: u64,
    pub px_enrs: u64,
    pub px_served: u64,
    pub px_refused: u64,
    /// CometBFT: addresses in PEX answers that were dropped (undialable, out of scope,
    /// duplicates, the crawler itself).
    pub invalid_addrs: u64,
    /// CometBFT: peers banned by this crawl.
    pub banned: u64,
    /// Seed mode: refused requests not written to the event log (sampled out).
    pub px_refused_unlogged: u64,
    /// Seed mode: inbound connections refused (too many, or too many from one address).
    pub px_connections_refused: u64,
    /// Records of new nodes dropped: the crawl knew `max_peers` nodes already.
    pub dropped_over_cap: u64,
    /// Records of new nodes dropped: their responder had used its budget for the round.
    pub dropped_over_budget: u64,
    /// Nodes whose record names an address outside the crawl's address scope: stored,
    /// never contacted.
    pub out_of_scope: u64,
    /// FINDNODE requests that got no answer in time (counted in `find_node_failures` too).
    pub find_node_timeouts: u64,
    /// The timeout the walk gives a FINDNODE request now, adapted to the round trips seen.
    pub request_timeout_ms: Option<u64>,
    /// Time from the last answer of a round to the moment its walk had nothing left to do.
    pub walk_tail_ms: Option<u64>,
    /// Nodes random lookups returned that no answer of the walk returned.
    pub lookup_only: u64,
    /// ONESHOT only, while running: estimated time until the crawl finishes, from the work
    /// known to remain and the recent throughput; `None` when it cannot be estimated yet.
    pub estimated_remaining_ms: Option<u64>,
}

/// One crawl as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crawl {
    pub id: CrawlId,
    pub spec: CrawlSpec,
    pub state: CrawlState,
    pub created_at: UnixMillis,
    pub finished_at: Option<UnixMillis>,
    pub progress: CrawlProgress,
    pub error: Option<String>,
    /// The UDP address the crawl's discv5 socket is bound to.
    pub listen_addr: Option<String>,
    /// Seed mode: the TCP address peer exchange is served on.
    #[serde(default)]
    pub seed_addr: Option<String>,
    /// The crawl's local ENR (`enr:` text).
    #[serde(default)]
    pub local_enr: Option<String>,
}

impl Crawl {
    /// Time the crawl has run: until `finished_at`, or until now while running.
    pub fn elapsed(&self) -> Duration {
        let end = self.finished_at.unwrap_or_else(now_millis);
        Duration::from_millis(end.saturating_sub(self.created_at))
    }
}

/// A peer as stored: its newest record and when and by whom it was seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerRecord {
    pub enr: DecodedEnr,
    pub first_seen: UnixMillis,
    pub last_seen: UnixMillis,
    /// The newest crawls that saw it, at most [`CRAWLS_PER_PEER`](crate::store::CRAWLS_PER_PEER)
    /// (the store's `crawl_peers` index knows every crawl that saw it).
    pub crawls: BTreeSet<CrawlId>,
    /// Distinct ENR seq values seen for this node (its history keeps the newest
    /// [`ENR_HISTORY_PER_NODE`](crate::store::ENR_HISTORY_PER_NODE)).
    pub enr_versions: u32,
    /// What dialing learned; empty until the first dial.
    #[serde(default)]
    pub dial: DialInfo,
    /// Where its IP is; `None` until geolocated.
    #[serde(default)]
    pub geo: Option<GeoInfo>,
    /// How its records were learned, oldest first (at most [`MAX_PEER_SOURCES`]).
    #[serde(default)]
    pub sources: Vec<PeerSource>,
}

/// Most distinct sources kept per peer.
pub const MAX_PEER_SOURCES: usize = 16;

/// Where a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SourceKind {
    /// `StartCrawlRequest.bootstrap_enrs`.
    Bootstrap,
    /// An EIP-1459 tree.
    Dns,
    /// discv5 (FINDNODE answers, lookups, sessions).
    Discv5,
    /// A Waku peer-exchange answer, or a CometBFT PEX answer.
    PeerExchange,
    /// The peer connected to a CometBFT seed and announced its listen address.
    Inbound,
}

impl SourceKind {
    /// The lowercase name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Bootstrap => "bootstrap",
            SourceKind::Dns => "dns",
            SourceKind::Discv5 => "discv5",
            SourceKind::PeerExchange => "peer_exchange",
            SourceKind::Inbound => "inbound",
        }
    }
}

/// One way a peer's record was learned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeerSource {
    pub kind: SourceKind,
    /// For peer exchange: the libp2p peer id of the peer that answered.
    pub via: Option<String>,
    /// When this source first delivered the record.
    pub first_seen: UnixMillis,
}

/// Geolocation of a peer's IP (see [`crate::engine::geo`]).
///
/// A public address is looked up; `country` and the rest are what the geolocation service
/// answered, or empty with `error` set when it answered "fail". A non-public address
/// (loopback, private, link-local, CGNAT, unique-local…) is never sent anywhere: `private`
/// is true and `country` holds the kind of address (see [`crate::engine::geo::non_public_scope`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeoInfo {
    /// The address this describes.
    pub ip: String,
    /// Country name in English, e.g. "Germany"; for a non-public address its kind, e.g.
    /// "loopback" or "private".
    pub country: String,
    /// ISO 3166-1 alpha-2 code, e.g. "DE".
    pub country_code: String,
    pub city: String,
    /// Autonomous system, e.g. "AS14061 DigitalOcean, LLC".
    pub asn: String,
    /// Internet service provider name.
    pub isp: String,
    /// Organization name.
    pub org: String,
    /// A non-public address: not looked up.
    pub private: bool,
    /// When the answer was fetched (for a non-public address: when it was labelled).
    pub looked_up_at: UnixMillis,
    /// The service's message when it could not locate the address (e.g. "reserved range").
    pub error: Option<String>,
}

impl GeoInfo {
    /// The key this peer counts under in `by_country`: the country, the kind of a
    /// non-public address, or "unknown" when the lookup failed.
    pub fn country_key(&self) -> &str {
        if self.country.is_empty() {
            "unknown"
        } else {
            &self.country
        }
    }
}

/// Kinds of peer events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PeerEventKind {
    /// First sighting of a node by a crawl.
    Discovered,
    /// A newer record (higher seq) of a known node.
    EnrUpdated,
    /// A libp2p connection was established.
    Connected,
    /// identify answered (agent, protocols).
    Identified,
    /// Waku metadata answered (cluster, shards).
    Metadata,
    /// A dial failed; `error_class` says why.
    DialFailed,
    /// The connection closed.
    Disconnected,
    /// The peer was banned (it answered with someone else's key).
    Banned,
    /// A ban expired.
    Unbanned,
    /// The peer became reachable (a session starts).
    PeerUp,
    /// A reachable peer stopped answering (the session ends).
    PeerDown,
    /// We asked the peer for records over peer exchange; `detail` says how many came back.
    PeerExchange,
    /// Seed mode: the peer asked us for records; `detail` says what it was answered.
    PeerExchangeServed,
    /// The crawl resumed after the server restarted; `node_id` is the crawl's own discv5
    /// node id and `detail` says what its address book restored.
    Resumed,
}

impl PeerEventKind {
    /// Every kind.
    pub const ALL: [PeerEventKind; 14] = [
        PeerEventKind::Discovered,
        PeerEventKind::EnrUpdated,
        PeerEventKind::Connected,
        PeerEventKind::Identified,
        PeerEventKind::Metadata,
        PeerEventKind::DialFailed,
        PeerEventKind::Disconnected,
        PeerEventKind::Banned,
        PeerEventKind::Unbanned,
        PeerEventKind::PeerUp,
        PeerEventKind::PeerDown,
        PeerEventKind::PeerExchange,
        PeerEventKind::PeerExchangeServed,
        PeerEventKind::Resumed,
    ];
}

/// A peer event, before the store assigns its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPeerEvent {
    pub time: UnixMillis,
    pub kind: PeerEventKind,
    pub crawl_id: CrawlId,
    pub node_id: NodeId,
    pub peer_id: Option<String>,
    pub enr_seq: u64,
    pub enr: Option<String>,
    /// Class of a DIAL_FAILED (or of a PEER_DOWN's last failure).
    #[serde(default)]
    pub error_class: Option<ErrorClass>,
    /// Human-readable detail: the error text, the agent, the cluster…
    #[serde(default)]
    pub detail: Option<String>,
}

/// A stored peer event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerEvent {
    pub sequence: u64,
    #[serde(flatten)]
    pub event: NewPeerEvent,
}

/// Filters of `ListPeers` and `GetNetworkStats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerFilter {
    /// Waku capability bit (see [`crate::protocol::enr::Waku2`]).
    pub capability: Option<u8>,
    pub cluster_id: Option<u16>,
    pub shard: Option<u16>,
    pub crawl_id: Option<CrawlId>,
    pub seen_since: Option<UnixMillis>,
    /// Only peers whose identify lists this protocol.
    pub protocol: Option<String>,
    /// Only peers whose agent version starts with this.
    pub agent_prefix: Option<String>,
    /// Only peers whose last dial connected (true) or failed (false).
    pub reachable: Option<bool>,
    /// Only peers geolocated in this country (name or ISO code, case-insensitive) or with
    /// this non-public kind ("loopback", "private"…).
    pub country: Option<String>,
    /// CometBFT: only peers whose NodeInfo names this network (chain id).
    pub chain_id: Option<String>,
}

impl PeerFilter {
    /// Whether a peer passes every filter but `crawl_id` (the store applies that one
    /// through its crawl index).
    pub fn matches(&self, peer: &PeerRecord) -> bool {
        if let Some(bit) = self.capability {
            if peer.enr.waku2.is_none_or(|w| w.0 & bit == 0) {
                return false;
            }
        }
        if let Some(cluster) = self.cluster_id {
            if peer
                .enr
                .shards
                .as_ref()
                .is_none_or(|s| s.cluster != cluster)
            {
                return false;
            }
        }
        if let Some(shard) = self.shard {
            if peer
                .enr
                .shards
                .as_ref()
                .is_none_or(|s| !s.shards.contains(&shard))
            {
                return false;
            }
        }
        if let Some(since) = self.seen_since {
            if peer.last_seen < since {
                return false;
            }
        }
        let id = peer.dial.identify.as_ref();
        if let Some(p) = &self.protocol {
            if id.is_none_or(|i| !i.protocols.contains(p)) {
                return false;
            }
        }
        if let Some(a) = &self.agent_prefix {
            if id.is_none_or(|i| !i.agent_version.starts_with(a.as_str())) {
                return false;
            }
        }
        if let Some(r) = self.reachable {
            if peer.dial.reachable != Some(r) {
                return false;
            }
        }
        if let Some(chain) = &self.chain_id {
            if peer
                .dial
                .node_info
                .as_ref()
                .is_none_or(|i| &i.network != chain)
            {
                return false;
            }
        }
        if let Some(c) = &self.country {
            let hit = peer.geo.as_ref().is_some_and(|g| {
                g.country_key().eq_ignore_ascii_case(c)
                    || (!g.country_code.is_empty() && g.country_code.eq_ignore_ascii_case(c))
            });
            if !hit {
                return false;
            }
        }
        true
    }
}

/// Filters of `StreamPeerEvents`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub crawl_id: Option<CrawlId>,
    pub kinds: Vec<PeerEventKind>,
    pub node_id: Option<NodeId>,
    pub peer_id: Option<String>,
}

impl EventFilter {
    /// Whether an event passes the filter.
    pub fn matches(&self, ev: &PeerEvent) -> bool {
        let e = &ev.event;
        self.crawl_id.is_none_or(|c| c == e.crawl_id)
            && (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && self.node_id.is_none_or(|n| n == e.node_id)
            && self
                .peer_id
                .as_ref()
                .is_none_or(|p| e.peer_id.as_ref() == Some(p))
    }
}

/// Aggregates over stored peers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    pub peers: u64,
    pub by_capability: BTreeMap<String, u64>,
    pub by_cluster: BTreeMap<u16, u64>,
    pub by_shard: BTreeMap<(u16, u16), u64>,
    pub by_record_kind: BTreeMap<String, u64>,
    pub by_fork_digest: BTreeMap<String, u64>,
    pub without_capabilities: u64,
    /// Peers per protocol from identify.
    pub by_protocol: BTreeMap<String, u64>,
    /// Peers per agent version from identify.
    pub by_agent: BTreeMap<String, u64>,
    /// Peers per class of their last dial failure (unreachable peers only), and under
    /// `out_of_scope` the peers never dialed because their address is outside a crawl's
    /// address scope.
    pub by_error_class: BTreeMap<String, u64>,
    /// Peers per (cluster, shard) as their metadata answer reports.
    pub by_metadata_shard: BTreeMap<(u32, u32), u64>,
    pub reachable: u64,
    pub unreachable: u64,
    /// Peers never dialed.
    pub not_dialed: u64,
    /// Peers per country (geolocated peers only): the country name, the kind of a
    /// non-public address ("loopback", "private"…), or "unknown" when the lookup failed.
    pub by_country: BTreeMap<String, u64>,
    /// Peers per source kind (a peer counts once under each kind it was learned from).
    pub by_source: BTreeMap<String, u64>,
    /// CometBFT: peers per network (chain id) of their NodeInfo.
    pub by_chain_id: BTreeMap<String, u64>,
    /// CometBFT: peers per software version of their NodeInfo.
    pub by_software_version: BTreeMap<String, u64>,
    /// CometBFT: peers per P2P protocol version.
    pub by_p2p_version: BTreeMap<u64, u64>,
    /// CometBFT: peers per block protocol version.
    pub by_block_version: BTreeMap<u64, u64>,
    /// CometBFT: reachable peers (last dial connected) per chain id.
    pub reachable_by_chain_id: BTreeMap<String, u64>,
}

impl NetworkStats {
    /// Adds one peer to the aggregates.
    pub fn add(&mut self, peer: &PeerRecord) {
        let enr = &peer.enr;
        self.peers += 1;
        match enr.waku2 {
            Some(w) if w.0 != 0 => {
                for name in w.names() {
                    *self.by_capability.entry(name.to_string()).or_default() += 1;
                }
            }
            _ => self.without_capabilities += 1,
        }
        if let Some(s) = &enr.shards {
            *self.by_cluster.entry(s.cluster).or_default() += 1;
            for shard in &s.shards {
                *self.by_shard.entry((s.cluster, *shard)).or_default() += 1;
            }
        }
        let kind = if peer.dial.node_info.is_some() || !enr.text.starts_with("enr:") {
            "cometbft"
        } else if enr.waku2.is_some() || enr.shards.is_some() {
            "waku"
        } else if enr.eth2.is_some() {
            "eth2"
        } else if enr.has_eth {
            "eth"
        } else {
            "other"
        };
        *self.by_record_kind.entry(kind.to_string()).or_default() += 1;
        if let Some(eth2) = &enr.eth2 {
            *self
                .by_fork_digest
                .entry(hex::encode(eth2.fork_digest))
                .or_default() += 1;
        }
        let kinds: BTreeSet<SourceKind> = peer.sources.iter().map(|s| s.kind).collect();
        for k in kinds {
            *self.by_source.entry(k.as_str().to_string()).or_default() += 1;
        }
        let dial = &peer.dial;
        match dial.reachable {
            Some(true) => self.reachable += 1,
            Some(false) => {
                self.unreachable += 1;
                let class = dial.last_error_class.unwrap_or(ErrorClass::Other);
                *self
                    .by_error_class
                    .entry(class.as_str().to_string())
                    .or_default() += 1;
            }
            None => {
                self.not_dialed += 1;
                if dial.last_error_class == Some(ErrorClass::OutOfScope) {
                    *self
                        .by_error_class
                        .entry(ErrorClass::OutOfScope.as_str().to_string())
                        .or_default() += 1;
                }
            }
        }
        if let Some(g) = &peer.geo {
            *self
                .by_country
                .entry(g.country_key().to_string())
                .or_default() += 1;
        }
        if let Some(id) = &dial.identify {
            for p in &id.protocols {
                *self.by_protocol.entry(p.clone()).or_default() += 1;
            }
            *self.by_agent.entry(id.agent_version.clone()).or_default() += 1;
        }
        if let Some(info) = &dial.node_info {
            *self.by_chain_id.entry(info.network.clone()).or_default() += 1;
            *self
                .by_software_version
                .entry(info.version.clone())
                .or_default() += 1;
            *self.by_p2p_version.entry(info.p2p_version).or_default() += 1;
            *self.by_block_version.entry(info.block_version).or_default() += 1;
            if dial.reachable == Some(true) {
                *self
                    .reachable_by_chain_id
                    .entry(info.network.clone())
                    .or_default() += 1;
            }
        }
        if let Some(MetadataInfo {
            cluster_id: Some(c),
            shards,
        }) = &dial.metadata
        {
            for s in shards {
                *self.by_metadata_shard.entry((*c, *s)).or_default() += 1;
            }
        }
    }
}

/// Why a dial or visit failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ErrorClass {
    /// No answer in time: the TCP connect, or the visit as a whole before it connected.
    Timeout,
    /// The TCP connection was refused (nothing listens).
    Refused,
    /// No route to the host or network.
    Unreachable,
    /// The Noise handshake or the muxer negotiation failed.
    Handshake,
    /// The remote key is not the one in its ENR.
    PeerIdMismatch,
    /// Connected, but a required protocol could not be negotiated.
    ProtocolNegotiation,
    /// The remote is on another cluster and dropped the connection.
    WrongCluster,
    /// The ENR has no TCP address to dial.
    NoAddress,
    /// The dial was aborted (crawl stopped).
    Canceled,
    /// Anything else; the raw error text says what.
    Other,
    /// TCP connected, but the multistream/Noise/Yamux handshake did not finish in time (a
    /// peer that accepts and never speaks, or stalls mid-handshake).
    HandshakeTimeout,
    /// CometBFT: the SecretConnection handshake failed (bad key exchange or signature, a
    /// peer that closed during it).
    SecretConnection,
    /// CometBFT: the NodeInfo is invalid, undecodable, or claims another id than the key
    /// that authenticated the connection.
    NodeInfoMismatch,
    /// CometBFT: the peer is on another network (chain id); its NodeInfo is kept.
    WrongNetwork,
    /// Never contacted: the record names an address outside the crawl's address scope
    /// (see [`scope`]).
    OutOfScope,
}

impl ErrorClass {
    /// Every class, for stats and tests.
    pub const ALL: [ErrorClass; 15] = [
        ErrorClass::Timeout,
        ErrorClass::Refused,
        ErrorClass::Unreachable,
        ErrorClass::Handshake,
        ErrorClass::PeerIdMismatch,
        ErrorClass::ProtocolNegotiation,
        ErrorClass::WrongCluster,
        ErrorClass::NoAddress,
        ErrorClass::Canceled,
        ErrorClass::Other,
        ErrorClass::HandshakeTimeout,
        ErrorClass::SecretConnection,
        ErrorClass::NodeInfoMismatch,
        ErrorClass::WrongNetwork,
        ErrorClass::OutOfScope,
    ];

    /// The lowercase name used in the API and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Timeout => "timeout",
            ErrorClass::Refused => "refused",
            ErrorClass::Unreachable => "unreachable",
            ErrorClass::Handshake => "handshake",
            ErrorClass::PeerIdMismatch => "peer_id_mismatch",
            ErrorClass::ProtocolNegotiation => "protocol_negotiation",
            ErrorClass::WrongCluster => "wrong_cluster",
            ErrorClass::NoAddress => "no_address",
            ErrorClass::Canceled => "canceled",
            ErrorClass::Other => "other",
            ErrorClass::HandshakeTimeout => "handshake_timeout",
            ErrorClass::SecretConnection => "secret_connection",
            ErrorClass::NodeInfoMismatch => "node_info_mismatch",
            ErrorClass::WrongNetwork => "wrong_network",
            ErrorClass::OutOfScope => "out_of_scope",
        }
    }

    /// Whether trying again later can help. A missing address, a key mismatch or an
    /// address out of scope will not change until the ENR does; a wrong cluster will not
    /// change at all.
    pub fn retryable(self) -> bool {
        !matches!(
            self,
            ErrorClass::NoAddress
                | ErrorClass::PeerIdMismatch
                | ErrorClass::WrongCluster
                | ErrorClass::NodeInfoMismatch
                | ErrorClass::WrongNetwork
                | ErrorClass::OutOfScope
        )
    }
}

/// A peer's place in the address book.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PeerState {
    /// Never dialed successfully.
    #[default]
    New,
    /// The last dial connected.
    Vetted,
    /// The last dials failed; retried with backoff.
    Failing,
    /// Given up on.
    Bad,
    /// Banned until a time.
    Banned,
}

impl PeerState {
    /// The lowercase name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerState::New => "new",
            PeerState::Vetted => "vetted",
            PeerState::Failing => "failing",
            PeerState::Bad => "bad",
            PeerState::Banned => "banned",
        }
    }
}

/// Longest identify agent version kept, in bytes (longer ones are cut at a character
/// boundary). Real agents are well under 100 bytes.
pub const MAX_AGENT_LEN: usize = 256;
/// Longest identify protocol version kept, in bytes (cut like the agent).
pub const MAX_PROTOCOL_VERSION_LEN: usize = 256;
/// Most protocols kept from one identify answer (the first ones, in the order sent,
/// duplicates dropped). A Waku node lists about 15.
pub const MAX_PROTOCOLS: usize = 64;
/// Longest protocol name kept, in bytes; longer names are dropped, not cut.
pub const MAX_PROTOCOL_LEN: usize = 128;
/// Most listen addresses kept from one identify answer (the first ones, duplicates
/// dropped). A Waku node announces a handful (TCP, websocket, DNS names).
pub const MAX_LISTEN_ADDRS: usize = 16;

/// What identify told us, within [`MAX_AGENT_LEN`], [`MAX_PROTOCOL_VERSION_LEN`],
/// [`MAX_PROTOCOLS`], [`MAX_PROTOCOL_LEN`] and [`MAX_LISTEN_ADDRS`] (see
/// [`IdentifyInfo::capped`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifyInfo {
    pub agent_version: String,
    pub protocol_version: String,
    pub protocols: Vec<String>,
    pub listen_addrs: Vec<String>,
    pub observed_addr: String,
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The first `max` distinct items of `items` that `keep` accepts; also how many distinct
/// accepted items there were in all.
fn first_distinct(
    items: impl IntoIterator<Item = String>,
    max: usize,
    mut keep: impl FnMut(&str) -> bool,
) -> (Vec<String>, usize) {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for item in items {
        if keep(&item) && seen.insert(item.clone()) && out.len() < max {
            out.push(item);
        }
    }
    (out, seen.len())
}

impl IdentifyInfo {
    /// Builds what is stored from an identify answer, applying the caps. The second value
    /// says what was cut (empty when nothing was), e.g. `"agent 1200 -> 256 bytes"`.
    pub fn capped(
        agent_version: String,
        protocol_version: String,
        protocols: impl IntoIterator<Item = String>,
        listen_addrs: impl IntoIterator<Item = String>,
        observed_addr: String,
    ) -> (IdentifyInfo, Vec<String>) {
        let mut notes = Vec::new();
        let agent_len = agent_version.len();
        let agent_version = cut(agent_version, MAX_AGENT_LEN);
        if agent_version.len() < agent_len {
            notes.push(format!(
                "agent {agent_len} -> {} bytes",
                agent_version.len()
            ));
        }
        let pv_len = protocol_version.len();
        let protocol_version = cut(protocol_version, MAX_PROTOCOL_VERSION_LEN);
        if protocol_version.len() < pv_len {
            notes.push(format!(
                "protocol version {pv_len} -> {} bytes",
                protocol_version.len()
            ));
        }
        let mut too_long = 0usize;
        let (protocols, total) = first_distinct(protocols, MAX_PROTOCOLS, |p| {
            let ok = p.len() <= MAX_PROTOCOL_LEN;
            if !ok {
                too_long += 1;
            }
            ok
        });
        if total > protocols.len() {
            notes.push(format!("protocols {total} -> {}", protocols.len()));
        }
        if too_long > 0 {
            notes.push(format!(
                "{too_long} protocol names over {MAX_PROTOCOL_LEN} bytes dropped"
            ));
        }
        let (listen_addrs, total) = first_distinct(listen_addrs, MAX_LISTEN_ADDRS, |_| true);
        if total > listen_addrs.len() {
            notes.push(format!("listen addrs {total} -> {}", listen_addrs.len()));
        }
        let info = IdentifyInfo {
            agent_version,
            protocol_version,
            protocols,
            listen_addrs,
            observed_addr,
        };
        (info, notes)
    }
}

/// What Waku metadata told us.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataInfo {
    pub cluster_id: Option<u32>,
    pub shards: Vec<u32>,
}

/// The outcome of one dial and the exchanges after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitReport {
    pub node_id: NodeId,
    pub crawl_id: CrawlId,
    pub started: UnixMillis,
    pub duration_ms: u64,
    /// The address dialed (the one that connected, when one did).
    pub address: Option<String>,
    /// `None` when the peer was reachable.
    pub error_class: Option<ErrorClass>,
    /// Raw error text of the failure (or of a failed exchange after connecting).
    pub error: Option<String>,
    pub identify: Option<IdentifyInfo>,
    pub metadata: Option<MetadataInfo>,
    /// Why metadata is missing: not supported, no answer, undecodable.
    pub metadata_error: Option<String>,
    pub rtt_us: Option<u64>,
    /// CometBFT: the NodeInfo the peer sent (also when the visit failed after it, e.g. on
    /// another network).
    #[serde(default)]
    pub node_info: Option<Box<crate::protocol::cometbft::node_info::NodeInfo>>,
}

impl VisitReport {
    /// True when the dial connected.
    pub fn reachable(&self) -> bool {
        self.error_class.is_none()
    }
}

/// Everything dialing has learned about a peer (kept on [`PeerRecord`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialInfo {
    pub identify: Option<IdentifyInfo>,
    /// CometBFT: the newest NodeInfo the peer sent.
    #[serde(default)]
    pub node_info: Option<crate::protocol::cometbft::node_info::NodeInfo>,
    pub metadata: Option<MetadataInfo>,
    pub metadata_error: Option<String>,
    pub rtt_last_us: Option<u64>,
    /// Exponential moving average (weight 1/4 for the newest sample).
    pub rtt_avg_us: Option<u64>,
    /// Dials made, all crawls.
    pub attempts: u64,
    pub last_dial: Option<UnixMillis>,
    pub last_connected: Option<UnixMillis>,
    pub last_error_class: Option<ErrorClass>,
    pub last_error: Option<String>,
    /// Whether the last dial connected; `None` before the first dial.
    pub reachable: Option<bool>,
    pub state: PeerState,
    /// Current session: up since (reachable) or down since (unreachable after being up).
    pub up_since: Option<UnixMillis>,
    pub down_since: Option<UnixMillis>,
    /// Sessions seen (transitions to up).
    pub sessions: u32,
    /// Total time up over closed sessions, in ms.
    pub uptime_ms: u64,
}

/// Relay traffic on one (pubsub topic, content topic).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCount {
    pub pubsub_topic: String,
    /// The content topic, or [`crate::model::messages::OTHER_CONTENT_TOPIC`] for the aggregate of
    /// content topics beyond the cap.
    pub content_topic: String,
    pub messages: u64,
    pub bytes: u64,
    pub first_seen: UnixMillis,
    pub last_seen: UnixMillis,
}

/// Data on a pubsub topic that did not decode as a Waku message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndecodableCount {
    pub pubsub_topic: String,
    pub messages: u64,
    pub bytes: u64,
    pub first_seen: UnixMillis,
    pub last_seen: UnixMillis,
}

#[cfg(test)]
mod identify_caps_tests {
    use super::*;

    #[test]
    fn identify_fields_are_capped_and_the_cut_is_described() {
        let protocols = (0..100)
            .map(|i| format!("/p/{i}"))
            .chain(["/p/0".to_string(), format!("/{}", "l".repeat(200))]);
        let addrs = (0..40).map(|i| format!("/ip4/127.0.0.1/tcp/{i}"));
        // A multi-byte character straddles the cut.
        let agent = format!("{}é{}", "a".repeat(MAX_AGENT_LEN - 1), "b".repeat(10));
        let (info, notes) = IdentifyInfo::capped(
            agent,
            "v".repeat(300),
            protocols,
            addrs,
            "/ip4/127.0.0.1/tcp/9".into(),
        );
        assert_eq!(info.agent_version, "a".repeat(MAX_AGENT_LEN - 1));
        assert_eq!(info.protocol_version.len(), MAX_PROTOCOL_VERSION_LEN);
        assert_eq!(info.protocols.len(), MAX_PROTOCOLS);
        assert_eq!(info.protocols[0], "/p/0");
        assert_eq!(
            info.protocols[MAX_PROTOCOLS - 1],
            format!("/p/{}", MAX_PROTOCOLS - 1)
        );
        assert_eq!(info.listen_addrs.len(), MAX_LISTEN_ADDRS);
        assert_eq!(
            notes,
            vec![
                format!(
                    "agent {} -> {} bytes",
                    MAX_AGENT_LEN + 11,
                    MAX_AGENT_LEN - 1
                ),
                "protocol version 300 -> 256 bytes".to_string(),
                "protocols 100 -> 64".to_string(),
                "1 protocol names over 128 bytes dropped".to_string(),
                "listen addrs 40 -> 16".to_string(),
            ]
        );
        // Within the caps nothing changes and nothing is said.
        let (small, notes) = IdentifyInfo::capped(
            "nwaku".into(),
            "ipfs/0.1.0".into(),
            ["/a".to_string(), "/b".to_string()],
            ["/ip4/127.0.0.1/tcp/1".to_string()],
            String::new(),
        );
        assert!(notes.is_empty());
        assert_eq!(small.protocols, vec!["/a", "/b"]);
        assert_eq!(small.agent_version, "nwaku");
    }
}
