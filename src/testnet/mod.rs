//! An in-process network of real discv5 + libp2p nodes on 127.0.0.1, for demos, tests and
//! benchmarks.
//!
//! Every node binds its own UDP socket on loopback and carries a signed Waku ENR with varied
//! capabilities (`waku2`), clusters and shards (`rs`, or `rsv` for nodes on 64+ shards).
//! Unless libp2p is off, every node also runs a libp2p swarm on TCP (Noise + Yamux) with the
//! same secp256k1 key: identify (one of a few agent strings), ping, the Waku protocols its
//! `waku2` bits stand for, and metadata — served for its cluster and enforced as nwaku does
//! (it asks every new connection for its cluster and drops peers that report another one).
//! With `down_fraction`, that share of nodes advertise a TCP port in their ENR on which
//! nothing listens.
//! With `peer_exchange`, every libp2p node also serves Waku peer exchange, answering with
//! (a random sample of at most 60 of) the records of the nodes it knows: its discv5
//! neighbours, plus the peer-exchange-only nodes it hosts. `px_only` adds that many nodes
//! that run libp2p but no discv5 at all (their ENR has ip/tcp and no udp, no table holds
//! them): each is known to two random discv5 nodes' peer exchange, so a crawl can find
//! them only through peer exchange.
//! With `named_topic`, the network has the shape of Waku networks that predate sharding:
//! records carry no `rs`/`rsv`, nodes neither serve nor ask for metadata (so nobody can
//! tell their cluster), and relay nodes subscribe to the one named pubsub topic
//! [`NAMED_TOPIC`].
//! With `eth2`, records carry Ethereum consensus keys (`eth2` with one of
//! [`ETH2_FORK_DIGESTS`], `attnets`, `syncnets`) instead of Waku keys; use it with the
//! protocol id `discv5`.
//! Bootstrap is sparse: node *i* knows node *i+1* (a ring, so every node is reachable) and
//! `degree` random others — nobody knows everyone. Assignments come from a seeded RNG so a
//! run is reproducible; node keys are fresh each run.
//! With `clustered`, the last that many nodes get node ids sharing their first
//! [`CLUSTER_BITS`] bits: they sit close to one another, in low buckets of each other's
//! tables, where random ids never do.
//! With `dead`, that many records of nodes that never answer (`udp` is a port on 127.0.0.1
//! bound by the testnet and never read; `tcp`, with libp2p, a port bound and never
//! listened on) are placed in [`DEAD_HOLDERS`] random nodes' tables each, as real networks
//! carry stale entries. [`Testnet::dead`] lists them.
//!
//! [`cometbft`] is a CometBFT network of its own (Tendermint P2P, PEX), for the CometBFT
//! driver.

pub mod cometbft;
pub mod dns;
pub mod geo;
pub mod host;
pub mod hostile;
pub mod mmdb;
pub mod node;

pub use host::loopback_host;
pub use node::{HostileKind, NodeInfo, TestnetError};

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use discv5::{ConfigBuilder, Discv5, ListenConfig, ProtocolIdentity};
use enr::CombinedKey;
use futures::StreamExt;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, identity, ping, request_response, Multiaddr, StreamProtocol};
use prost::Message as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::model::node_id_hex;
use crate::protocol::enr::{build_waku_enr, DecodedEnr, Enr, Waku2};
use crate::protocol::waku::relay::{gossipsub_behaviour, pubsub_topic, WakuMessage};
use crate::protocol::waku::{
    self, px_status, MetadataCodec, PxCodec, PxPeerInfo, PxRpc, WakuMetadata,
};

/// Fork digests testnet nodes with `eth2` keys carry (a third of nodes the second one).
pub const ETH2_FORK_DIGESTS: [[u8; 4]; 2] = [[0xf5, 0xa5, 0xfd, 0x42], [0x6a, 0x95, 0xa1, 0xa9]];

/// The pubsub topic relay nodes of a `named_topic` network subscribe to.
pub const NAMED_TOPIC: &str = "/waku/2/default-waku/proto";

/// Records a testnet node hands out over peer exchange (RLP bytes).
type PxList = Arc<std::sync::RwLock<Vec<Vec<u8>>>>;

/// The 2022 named pubsub topic, which every relay node subscribes to besides its shards'
/// topics (as nwaku nodes did by default before sharding).
pub const NAMED_PUBSUB_TOPIC: &str = NAMED_TOPIC;

/// Content topics the test network's publisher uses.
pub const CONTENT_TOPICS: [&str; 5] = [
    "/toychat/2/huilong/proto",
    "/peerscope/1/status/json",
    "/waku/2/default-content/proto",
    "/status/1/community/proto",
    "/app/1/chat/proto",
];

/// Commands to a node's libp2p task.
enum NodeCommand {
    Dial(Multiaddr),
    Publish {
        topic: String,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// Agent versions the testnet's nodes report, one per node in turn of the seeded RNG.
pub const AGENTS: [&str; 4] = [
    "nwaku-v0.36.0",
    "logos-delivery-v0.38.1",
    "go-waku-v0.9.1",
    "js-waku/0.0.32",
];

/// Protocols every libp2p testnet node supports besides those of its capabilities.
pub const BASE_PROTOCOLS: [&str; 4] = [
    "/ipfs/id/1.0.0",
    "/ipfs/id/push/1.0.0",
    "/ipfs/ping/1.0.0",
    waku::METADATA,
];

/// Test network settings.
#[derive(Clone, Debug)]
pub struct TestnetConfig {
    /// Number of nodes.
    pub nodes: usize,
    /// Random extra neighbours each node knows (besides its ring successor).
    pub degree: usize,
    /// Seed of the assignment RNG (capabilities, clusters, shards, neighbours).
    pub seed: u64,
    /// discv5 protocol id; Waku's `d5waku` by default.
    pub protocol_id: [u8; 6],
    /// How many nodes' ENRs are printed as bootstrap records.
    pub bootstrap_count: usize,
    /// Run libp2p on every node.
    pub libp2p: bool,
    /// Share of nodes (0.0..=1.0) that advertise TCP but do not listen.
    pub down_fraction: f64,
    /// Every libp2p node serves Waku peer exchange.
    pub peer_exchange: bool,
    /// Extra nodes reachable only through peer exchange (no discv5); needs libp2p and
    /// `peer_exchange`.
    pub px_only: usize,
    /// Records carry Ethereum consensus keys instead of Waku keys.
    pub eth2: bool,
    /// Relay on [`NAMED_TOPIC`], records without `rs`, no metadata (see the module docs).
    pub named_topic: bool,
    /// Hostile nodes to add, per kind (see [`crate::testnet::hostile`]).
    pub hostile: crate::testnet::hostile::HostileCounts,
    /// How many of the last nodes get ids sharing their first [`CLUSTER_BITS`] bits.
    pub clustered: usize,
    /// Records of nodes that never answer, placed in live nodes' tables.
    pub dead: usize,
}

/// Leading bits the node ids of `clustered` nodes share.
pub const CLUSTER_BITS: u32 = 10;

/// How many nodes' tables hold each dead record.
pub const DEAD_HOLDERS: usize = 3;

/// A record of a node that never answers, and the nodes whose tables hold it.
#[derive(Clone, Debug, Serialize)]
pub struct DeadRecord {
    pub node_id: String,
    pub enr: String,
    /// Bound on 127.0.0.1 by the testnet and never read.
    pub udp: SocketAddr,
    /// Bound and never listened on (with libp2p).
    pub tcp: Option<u16>,
    /// Indexes of the nodes whose tables hold it.
    pub held_by: Vec<usize>,
}

impl Default for TestnetConfig {
    fn default() -> Self {
        TestnetConfig {
            nodes: 64,
            degree: 6,
            seed: 1,
            protocol_id: *b"d5waku",
            bootstrap_count: 1,
            libp2p: true,
            down_fraction: 0.0,
            peer_exchange: false,
            px_only: 0,
            eth2: false,
            named_topic: false,
            hostile: Default::default(),
            clustered: 0,
            dead: 0,
        }
    }
}

struct Node {
    /// `None` for peer-exchange-only nodes, and while the node is away (churn).
    discv5: Option<Discv5>,
    enr: Enr,
    /// What the node serves over peer exchange.
    px: Option<PxList>,
    info: NodeInfo,
    /// Stops this node's libp2p swarm.
    libp2p_stop: Option<CancellationToken>,
    /// Commands to the libp2p task.
    commands: Option<mpsc::Sender<NodeCommand>>,
    /// The node's secp256k1 secret (ENR and libp2p identity).
    secret: Vec<u8>,
    /// How to start its libp2p host again; `None` for nodes without one.
    libp2p: Option<Libp2pSpec>,
    /// False while the node has left the network (churn).
    online: bool,
    /// The nodes whose records this node's routing table starts with.
    neighbours: Vec<usize>,
}

/// Counters of what the libp2p nodes did.
#[derive(Debug, Default)]
pub struct TestnetStats {
    /// Connections dropped because the peer reported another cluster (or none).
    pub metadata_drops: AtomicU64,
    /// Metadata requests answered.
    pub metadata_served: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Peer-exchange requests answered.
    pub px_served: AtomicU64,
    /// Relay messages published: (pubsub topic, content topic) → (messages, bytes of the
    /// encoded WakuMessages). Undecodable data is listed under content topic "".
    pub published: std::sync::Mutex<std::collections::BTreeMap<(String, String), (u64, u64)>>,
}

/// A running test network. Dropping it (or calling [`Testnet::shutdown`]) stops every node.
pub struct Testnet {
    nodes: Vec<Node>,
    bootstrap: Vec<String>,
    stats: Arc<TestnetStats>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    /// TCP ports of down nodes and dead records, bound and never listened on.
    _reserved: Vec<tokio::net::TcpSocket>,
    /// UDP sockets of the dead records, bound and never read.
    _sinks: Vec<tokio::net::UdpSocket>,
    dead: Vec<DeadRecord>,
    /// discv5 protocol id, for nodes that rejoin.
    protocol_id: [u8; 6],
    /// Nodes that left at the last churn step and rejoin at the next.
    away: Vec<usize>,
    hostile: crate::testnet::hostile::HostileNet,
    /// Relay on [`NAMED_TOPIC`] (see [`TestnetConfig::named_topic`]).
    named_topic: bool,
}

/// What one churn step did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChurnStep {
    /// Nodes that left the network (discv5 and libp2p stopped).
    pub left: Vec<usize>,
    /// Nodes that came back (same identity, record and ports).
    pub joined: Vec<usize>,
}

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct NodeBehaviour {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    /// Metadata, served and asked (off in a `named_topic` network).
    metadata: Toggle<request_response::Behaviour<MetadataCodec>>,
    /// Peer exchange, served.
    px: Toggle<request_response::Behaviour<PxCodec>>,
    /// Waku relay, on relay nodes.
    relay: Toggle<gossipsub::Behaviour>,
    /// The node's capability protocols, inbound only: listed by identify, and a stream opened
    /// on one reads a frame and closes. Relay is listed here too, after the gossipsub
    /// behaviour: gossipsub withdraws its protocol from a connection whose remote does not
    /// speak it (as the crawler's dialer does not), which would otherwise drop relay from
    /// identify's answer whenever that happens first. nwaku lists every mounted protocol on
    /// every connection. While gossipsub is active it is listed first and so takes the
    /// inbound relay streams.
    services: request_response::Behaviour<MetadataCodec>,
}

/// What a node's libp2p host is made of; kept so that a churned node can come back as the
/// same host on the same port.
#[derive(Clone)]
struct Libp2pSpec {
    secret: Vec<u8>,
    agent: &'static str,
    caps: Waku2,
    cluster: u16,
    shards: Vec<u16>,
    px: Option<PxList>,
    /// Relay on [`NAMED_TOPIC`] and no metadata.
    named_topic: bool,
}

/// Starts a node's libp2p swarm on 127.0.0.1 (`port` 0: any free port) and returns its TCP
/// port and task.
async fn start_libp2p(
    spec: &Libp2pSpec,
    port: u16,
    stats: Arc<TestnetStats>,
    cancel: CancellationToken,
) -> Result<(u16, JoinHandle<()>, mpsc::Sender<NodeCommand>), String> {
    let Libp2pSpec {
        secret,
        agent,
        caps,
        cluster,
        shards,
        px,
        named_topic,
    } = spec.clone();
    let shards = &shards[..];
    let mut secret = secret;
    let sk =
        identity::secp256k1::SecretKey::try_from_bytes(&mut secret).map_err(|e| e.to_string())?;
    let key = identity::Keypair::from(identity::secp256k1::Keypair::from(sk));
    let agent = agent.to_string();
    let relay = caps.0 & Waku2::RELAY != 0;
    let protocols: Vec<StreamProtocol> = waku::CAPABILITY_PROTOCOLS
        .iter()
        .enumerate()
        .filter(|(bit, _)| caps.0 & (1 << bit) != 0)
        .map(|(_, p)| StreamProtocol::new(p))
        .collect();
    let mut gossip = if relay {
        Some(gossipsub_behaviour(false)?)
    } else {
        None
    };
    if let Some(g) = gossip.as_mut() {
        let topics: Vec<String> = if named_topic {
            vec![NAMED_TOPIC.to_string()]
        } else {
            shards.iter().map(|s| pubsub_topic(cluster, *s)).collect()
        };
        for topic in topics {
            g.subscribe(&gossipsub::IdentTopic::new(topic))
                .map_err(|e| e.to_string())?;
        }
        g.subscribe(&gossipsub::IdentTopic::new(NAMED_PUBSUB_TOPIC))
            .map_err(|e| e.to_string())?;
    }
    let (mut swarm, port) = loopback_host(key, port, |key| NodeBehaviour {
        identify: identify::Behaviour::new(
            identify::Config::new("ipfs/0.1.0".into(), key.public())
                .with_agent_version(agent)
                .with_push_listen_addr_updates(false),
        ),
        ping: ping::Behaviour::new(ping::Config::new()),
        metadata: Toggle::from((!named_topic).then(|| {
            request_response::Behaviour::new(
                [(
                    waku::metadata_protocol(),
                    request_response::ProtocolSupport::Full,
                )],
                request_response::Config::default().with_request_timeout(Duration::from_secs(5)),
            )
        })),
        services: request_response::Behaviour::new(
            protocols
                .into_iter()
                .map(|p| (p, request_response::ProtocolSupport::Inbound)),
            request_response::Config::default(),
        ),
        relay: Toggle::from(gossip),
        px: Toggle::from(px.is_some().then(|| {
            request_response::Behaviour::new(
                [(
                    waku::peer_exchange_protocol(),
                    request_response::ProtocolSupport::Inbound,
                )],
                request_response::Config::default(),
            )
        })),
    })
    .await?;
    let own = WakuMetadata {
        cluster_id: Some(u32::from(cluster)),
        shards: shards.iter().map(|s| u32::from(*s)).collect(),
    };
    let (commands, mut command_rx) = mpsc::channel::<NodeCommand>(64);
    let task = tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                _ = cancel.cancelled() => return,
                Some(cmd) = command_rx.recv() => {
                    match cmd {
                        NodeCommand::Dial(addr) => {
                            let _ = swarm.dial(addr);
                        }
                        NodeCommand::Publish { topic, data, reply } => {
                            let result = match swarm.behaviour_mut().relay.as_mut() {
                                Some(g) => g
                                    .publish(gossipsub::IdentTopic::new(topic), data)
                                    .map(|_| ())
                                    .map_err(|e| e.to_string()),
                                None => Err("not a relay node".to_string()),
                            };
                            let _ = reply.send(result);
                        }
                    }
                    continue;
                }
                ev = swarm.select_next_some() => ev,
            };
            match ev {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                    stats.connections.fetch_add(1, Ordering::Relaxed);
                    // As nwaku: ask every new peer for its cluster.
                    if let Some(m) = swarm.behaviour_mut().metadata.as_mut() {
                        m.send_request(&peer_id, own.clone());
                    }
                }
                SwarmEvent::Behaviour(NodeBehaviourEvent::Px(
                    request_response::Event::Message {
                        message:
                            request_response::Message::Request {
                                request, channel, ..
                            },
                        ..
                    },
                )) => {
                    stats.px_served.fetch_add(1, Ordering::Relaxed);
                    let answer = match (request.query.map(|q| q.num_peers), &px) {
                        (Some(n), Some(list)) if n > 0 => {
                            let list = list.read().unwrap_or_else(|e| e.into_inner());
                            let k = (n.min(waku::PX_MAX_PEERS) as usize).min(list.len());
                            let mut rng = rand::thread_rng();
                            let infos = list
                                .choose_multiple(&mut rng, k)
                                .map(|enr| PxPeerInfo { enr: enr.clone() })
                                .collect();
                            PxRpc::response(infos, px_status::OK, None)
                        }
                        _ => PxRpc::response(
                            Vec::new(),
                            px_status::BAD_REQUEST,
                            Some("no query".into()),
                        ),
                    };
                    if let Some(b) = swarm.behaviour_mut().px.as_mut() {
                        let _ = b.send_response(channel, answer);
                    }
                }
                SwarmEvent::Behaviour(NodeBehaviourEvent::Metadata(ev)) => {
                    use request_response::{Event, Message};
                    match ev {
                        Event::Message {
                            message: Message::Request { channel, .. },
                            ..
                        } => {
                            stats.metadata_served.fetch_add(1, Ordering::Relaxed);
                            if let Some(m) = swarm.behaviour_mut().metadata.as_mut() {
                                let _ = m.send_response(channel, own.clone());
                            }
                        }
                        Event::Message {
                            peer,
                            message: Message::Response { response, .. },
                            ..
                        } if response.cluster_id != own.cluster_id => {
                            stats.metadata_drops.fetch_add(1, Ordering::Relaxed);
                            let _ = swarm.disconnect_peer_id(peer);
                        }
                        Event::OutboundFailure {
                            peer,
                            error: request_response::OutboundFailure::UnsupportedProtocols,
                            ..
                        } => {
                            // nwaku drops peers that do not serve metadata.
                            stats.metadata_drops.fetch_add(1, Ordering::Relaxed);
                            let _ = swarm.disconnect_peer_id(peer);
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    });
    Ok((port, task, commands))
}

/// Starts a discv5 node on `socket` with record `enr`.
async fn start_discv5(
    socket: tokio::net::UdpSocket,
    enr: &Enr,
    key: CombinedKey,
    protocol_id: [u8; 6],
) -> Result<Discv5, String> {
    let listen = ListenConfig::FromSockets {
        ipv4: Some(Arc::new(socket)),
        ipv6: None,
    };
    let cfg = ConfigBuilder::new(listen)
        .protocol_identity(ProtocolIdentity {
            protocol_id,
            protocol_version: 1u16.to_be_bytes(),
        })
        .session_cache_capacity(4096)
        .build();
    let mut discv5 = Discv5::new(enr.clone(), key, cfg).map_err(|e| e.to_string())?;
    discv5.start().await.map_err(|e| e.to_string())?;
    Ok(discv5)
}

/// A secp256k1 key whose node id starts with the [`CLUSTER_BITS`] high bits of `prefix`
/// (about 2^CLUSTER_BITS keys are drawn for one).
fn clustered_key(prefix: u16) -> CombinedKey {
    let want = prefix >> (16 - CLUSTER_BITS);
    loop {
        let key = CombinedKey::generate_secp256k1();
        let id = enr::NodeId::from(enr::EnrKey::public(&key)).raw();
        if u16::from_be_bytes([id[0], id[1]]) >> (16 - CLUSTER_BITS) == want {
            return key;
        }
    }
}

/// Picks the Waku profile of node `index`: capabilities 1..=63, and one of three clusters
/// with shards in the ranges real fleets use; one node in 16 sits on 64+ shards (`rsv`).
fn assign(rng: &mut StdRng, index: usize) -> (Waku2, u16, Vec<u16>) {
    let caps = Waku2(rng.gen_range(1..=63u8));
    let (cluster, mut shards): (u16, Vec<u16>) = if index % 16 == 15 {
        (2, (0..rng.gen_range(64..=100u16)).collect())
    } else {
        match rng.gen_range(0..10) {
            0..=5 => {
                let all: Vec<u16> = (0..8).collect();
                let n = rng.gen_range(1..=all.len());
                (1, all.choose_multiple(rng, n).copied().collect())
            }
            6..=8 => {
                let all = [1u16, 32, 64, 128, 256];
                let n = rng.gen_range(1..=all.len());
                (16, all.choose_multiple(rng, n).copied().collect())
            }
            _ => (0, vec![0]),
        }
    };
    shards.sort_unstable();
    (caps, cluster, shards)
}

/// A Waku record with ip/tcp and no udp: the node runs no discv5.
fn build_tcp_only_waku_enr(
    key: &CombinedKey,
    tcp: Option<u16>,
    caps: Waku2,
    cluster: u16,
    shards: &[u16],
) -> Result<Enr, String> {
    use alloy_rlp::Bytes;
    let mut b = Enr::builder();
    b.ip4(Ipv4Addr::LOCALHOST);
    if let Some(tcp) = tcp {
        b.tcp4(tcp);
    }
    b.add_value(crate::protocol::enr::KEY_WAKU2, &Bytes::from(vec![caps.0]));
    if shards.len() >= crate::protocol::enr::RS_MAX_LIST_LEN {
        b.add_value(
            crate::protocol::enr::KEY_RSV,
            &Bytes::from(crate::protocol::enr::encode_rsv(cluster, shards)),
        );
    } else if !shards.is_empty() {
        b.add_value(
            crate::protocol::enr::KEY_RS,
            &Bytes::from(crate::protocol::enr::encode_rs(cluster, shards)),
        );
    }
    b.build(key).map_err(|e| e.to_string())
}

/// An Ethereum consensus record: ip/udp/tcp, `eth2` (the fork digest, next fork version =
/// none scheduled), random `attnets` and `syncnets`.
fn build_eth2_enr(
    key: &CombinedKey,
    udp: Option<u16>,
    tcp: Option<u16>,
    fork_digest: [u8; 4],
    rng: &mut StdRng,
) -> Result<Enr, String> {
    use alloy_rlp::Bytes;
    let mut b = Enr::builder();
    b.ip4(Ipv4Addr::LOCALHOST);
    if let Some(udp) = udp {
        b.udp4(udp);
    }
    if let Some(tcp) = tcp {
        b.tcp4(tcp);
    }
    let mut eth2 = Vec::with_capacity(16);
    eth2.extend_from_slice(&fork_digest);
    eth2.extend_from_slice(&[0, 0, 0, 0]);
    eth2.extend_from_slice(&u64::MAX.to_le_bytes());
    b.add_value(crate::protocol::enr::KEY_ETH2, &Bytes::from(eth2));
    let attnets: [u8; 8] = rng.gen();
    b.add_value(
        crate::protocol::enr::KEY_ATTNETS,
        &Bytes::from(attnets.to_vec()),
    );
    b.add_value(
        crate::protocol::enr::KEY_SYNCNETS,
        &Bytes::from(vec![rng.gen::<u8>() & 0x0f]),
    );
    b.build(key).map_err(|e| e.to_string())
}

impl Testnet {
    /// Starts the network and wires the sparse bootstrap.
    pub async fn start(config: TestnetConfig) -> Result<Testnet, TestnetError> {
        if config.nodes == 0 {
            return Err(TestnetError::Config("nodes must be at least 1".into()));
        }
        if config.bootstrap_count == 0 || config.bootstrap_count > config.nodes {
            return Err(TestnetError::Config(format!(
                "bootstrap count must be 1..={}",
                config.nodes
            )));
        }
        if !(0.0..=1.0).contains(&config.down_fraction) {
            return Err(TestnetError::Config(
                "down fraction must be within 0.0..=1.0".into(),
            ));
        }
        if config.clustered > config.nodes {
            return Err(TestnetError::Config(format!(
                "clustered nodes must be 0..={}",
                config.nodes
            )));
        }
        if config.px_only > 0 && !(config.libp2p && config.peer_exchange) {
            return Err(TestnetError::Config(
                "peer-exchange-only nodes need libp2p and peer exchange".into(),
            ));
        }
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut nodes = Vec::with_capacity(config.nodes + config.px_only);
        let stats = Arc::new(TestnetStats::default());
        let cancel = CancellationToken::new();
        let mut tasks = Vec::new();
        let mut reserved = Vec::new();
        let down = (config.nodes as f64 * config.down_fraction).round() as usize;
        // Down nodes are spread by the RNG, but never node 0 (the first bootstrap).
        let mut down_set: Vec<usize> = (1..config.nodes).collect();
        down_set.shuffle(&mut rng);
        down_set.truncate(down.min(config.nodes.saturating_sub(1)));
        let cluster_prefix: u16 = rng.gen();
        for index in 0..config.nodes + config.px_only {
            let err = |reason: String| TestnetError::Node { index, reason };
            let px_only = index >= config.nodes;
            let socket = if px_only {
                None
            } else {
                Some(
                    tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                        .await
                        .map_err(|e| err(e.to_string()))?,
                )
            };
            let udp = socket
                .as_ref()
                .map(|s| s.local_addr())
                .transpose()
                .map_err(|e| err(e.to_string()))?;
            let key = if index < config.nodes && index >= config.nodes - config.clustered {
                clustered_key(cluster_prefix)
            } else {
                CombinedKey::generate_secp256k1()
            };
            let secret = match &key {
                CombinedKey::Secp256k1(k) => k.to_bytes().to_vec(),
                _ => return Err(err("testnet keys are secp256k1".into())),
            };
            let (caps, cluster, shards) = assign(&mut rng, index);
            // A named-topic network has no clusters or shards to tell.
            let (cluster, shards) = if config.named_topic {
                (0, Vec::new())
            } else {
                (cluster, shards)
            };
            let fork_digest = config
                .eth2
                .then(|| ETH2_FORK_DIGESTS[usize::from(rng.gen_range(0..3) == 0)]);
            let agent = AGENTS[rng.gen_range(0..AGENTS.len())];
            let up = !down_set.contains(&index);
            let node_cancel = cancel.child_token();
            let mut commands = None;
            let mut libp2p_spec = None;
            let px = (config.peer_exchange && config.libp2p && up).then(PxList::default);
            let tcp = match (config.libp2p, up) {
                (false, _) => None,
                (true, true) => {
                    let spec = Libp2pSpec {
                        secret: secret.clone(),
                        agent,
                        caps,
                        cluster,
                        shards: shards.clone(),
                        px: px.clone(),
                        named_topic: config.named_topic,
                    };
                    let (port, task, tx) =
                        start_libp2p(&spec, 0, stats.clone(), node_cancel.clone())
                            .await
                            .map_err(err)?;
                    tasks.push(task);
                    commands = Some(tx);
                    libp2p_spec = Some(spec);
                    Some(port)
                }
                (true, false) => {
                    // A port bound but never listened on: dials are refused, and holding
                    // the socket keeps any other listener off the port.
                    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| err(e.to_string()))?;
                    socket
                        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                        .map_err(|e| err(e.to_string()))?;
                    let port = socket.local_addr().map_err(|e| err(e.to_string()))?.port();
                    reserved.push(socket);
                    Some(port)
                }
            };
            let enr = match (fork_digest, udp) {
                (Some(digest), _) => {
                    build_eth2_enr(&key, udp.map(|u| u.port()), tcp, digest, &mut rng)
                }
                (None, Some(udp)) => build_waku_enr(
                    &key,
                    Ipv4Addr::LOCALHOST,
                    udp.port(),
                    tcp,
                    caps,
                    cluster,
                    &shards,
                    &[],
                )
                .map_err(|e| e.to_string()),
                (None, None) => build_tcp_only_waku_enr(&key, tcp, caps, cluster, &shards),
            }
            .map_err(err)?;
            let discv5 = match socket {
                Some(socket) => Some(
                    start_discv5(socket, &enr, key, config.protocol_id)
                        .await
                        .map_err(err)?,
                ),
                None => None,
            };
            let decoded = DecodedEnr::from_enr(&enr);
            let is_up = up && tcp.is_some();
            let mut protocols = if is_up {
                expected_protocols(caps)
            } else {
                Vec::new()
            };
            if config.named_topic {
                protocols.retain(|p| p != waku::METADATA);
            }
            if is_up && px.is_some() {
                protocols.push(waku::PEER_EXCHANGE.to_string());
                protocols.sort();
            }
            let info = NodeInfo {
                index,
                node_id: node_id_hex(&decoded.node_id),
                peer_id: decoded.peer_id.clone().unwrap_or_default(),
                enr: decoded.text.clone(),
                udp,
                px_only,
                fork_digest: fork_digest.map(hex::encode),
                waku2: caps.0,
                capabilities: caps.names().iter().map(|s| s.to_string()).collect(),
                cluster_id: cluster,
                shards,
                tcp,
                up: is_up,
                agent: if is_up {
                    agent.to_string()
                } else {
                    String::new()
                },
                protocols,
                hostile: None,
            };
            let libp2p_stop = info.up.then_some(node_cancel);
            nodes.push(Node {
                discv5,
                enr,
                px,
                info,
                libp2p_stop,
                commands,
                secret,
                libp2p: libp2p_spec,
                online: true,
                neighbours: Vec::new(),
            });
        }
        let n = config.nodes;
        let enrs: Vec<Enr> = nodes.iter().map(|n| n.enr.clone()).collect();
        let mut known: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for (i, node) in nodes.iter().enumerate().take(n) {
            let mut neighbours = vec![(i + 1) % n];
            for _ in 0..config.degree.min(n.saturating_sub(1)) {
                neighbours.push(rng.gen_range(0..n));
            }
            for j in neighbours {
                if j != i {
                    // A full bucket refuses further entries; that is how real tables look.
                    if let Some(d) = &node.discv5 {
                        let _ = d.add_enr(enrs[j].clone());
                    }
                    known[i].push(j);
                }
            }
        }
        for (i, node) in nodes.iter_mut().enumerate().take(n) {
            node.neighbours = known[i].clone();
        }
        // Peer-exchange-only nodes: two discv5 nodes that serve peer exchange host each;
        // each knows three random others itself.
        let hosts: Vec<usize> = (0..n).filter(|i| nodes[*i].px.is_some()).collect();
        for j in n..nodes.len() {
            if hosts.is_empty() {
                return Err(TestnetError::Config(
                    "peer-exchange-only nodes need a node serving peer exchange".into(),
                ));
            }
            for _ in 0..2 {
                let h = hosts[rng.gen_range(0..hosts.len())];
                known[h].push(j);
            }
            for _ in 0..3 {
                let k = rng.gen_range(0..nodes.len());
                if k != j {
                    known[j].push(k);
                }
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            if let Some(list) = &node.px {
                let mut ks = known[i].clone();
                ks.sort_unstable();
                ks.dedup();
                let mut w = list.write().unwrap_or_else(|e| e.into_inner());
                *w = ks.iter().map(|k| alloy_rlp::encode(&enrs[*k])).collect();
            }
        }
        // Relay mesh: for every pubsub topic, its relay nodes in a ring plus a chord, so
        // each topic's nodes form one connected gossipsub overlay.
        let mut by_topic: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
        for (i, n) in nodes.iter().enumerate() {
            if n.info.up && n.info.waku2 & Waku2::RELAY != 0 {
                for topic in node_topics(&n.info, config.named_topic) {
                    by_topic.entry(topic).or_default().push(i);
                }
            }
        }
        for members in by_topic.values() {
            let m = members.len();
            if m < 2 {
                continue;
            }
            for (k, &i) in members.iter().enumerate() {
                for step in [1, m / 2] {
                    let j = members[(k + step) % m];
                    if j == i {
                        continue;
                    }
                    if let (Some(tx), Some(port)) = (&nodes[i].commands, nodes[j].info.tcp) {
                        let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}")
                            .parse()
                            .expect("valid multiaddr");
                        let _ = tx.try_send(NodeCommand::Dial(addr));
                    }
                }
            }
        }
        let mut sinks = Vec::new();
        let mut dead = Vec::new();
        for i in 0..config.dead {
            let err = |reason: String| TestnetError::Node {
                index: nodes.len() + i,
                reason,
            };
            let sink = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(|e| err(e.to_string()))?;
            let udp = sink.local_addr().map_err(|e| err(e.to_string()))?;
            let tcp = if config.libp2p {
                let socket = tokio::net::TcpSocket::new_v4().map_err(|e| err(e.to_string()))?;
                socket
                    .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                    .map_err(|e| err(e.to_string()))?;
                let port = socket.local_addr().map_err(|e| err(e.to_string()))?.port();
                reserved.push(socket);
                Some(port)
            } else {
                None
            };
            let key = CombinedKey::generate_secp256k1();
            let (caps, cluster, shards) = assign(&mut rng, i);
            let enr = build_waku_enr(
                &key,
                Ipv4Addr::LOCALHOST,
                udp.port(),
                tcp,
                caps,
                cluster,
                &shards,
                &[],
            )
            .map_err(|e| err(e.to_string()))?;
            // Into DEAD_HOLDERS tables that take it (a full bucket refuses it).
            let mut held_by = Vec::new();
            for _ in 0..n * 4 {
                if held_by.len() >= DEAD_HOLDERS.min(n) {
                    break;
                }
                let j = rng.gen_range(0..n);
                if held_by.contains(&j) {
                    continue;
                }
                if let Some(d) = &nodes[j].discv5 {
                    if d.add_enr(enr.clone()).is_ok() {
                        held_by.push(j);
                    }
                }
            }
            held_by.sort_unstable();
            sinks.push(sink);
            dead.push(DeadRecord {
                node_id: node_id_hex(&enr.node_id().raw()),
                enr: enr.to_base64(),
                udp,
                tcp,
                held_by,
            });
        }
        let hostile = crate::testnet::hostile::HostileNet::start(
            &config.hostile,
            config.protocol_id,
            nodes.len(),
            &nodes
                .iter()
                .filter_map(|n| n.discv5.as_ref())
                .collect::<Vec<_>>(),
            cancel.child_token(),
        )
        .await?;
        let bootstrap = nodes
            .iter()
            .take(config.bootstrap_count)
            .map(|n| n.info.enr.clone())
            .collect();
        Ok(Testnet {
            nodes,
            bootstrap,
            stats,
            cancel,
            tasks,
            _reserved: reserved,
            _sinks: sinks,
            dead,
            protocol_id: config.protocol_id,
            away: Vec::new(),
            hostile,
            named_topic: config.named_topic,
        })
    }

    /// One churn step: the nodes that left at the previous step come back, then `count`
    /// other nodes (never a bootstrap node, never a peer-exchange-only one) leave. A node
    /// that leaves stops answering discv5 and refuses TCP; one that comes back has the same
    /// key, record and ports, and starts from its original neighbours.
    pub async fn churn(&mut self, count: usize, rng: &mut impl Rng) -> ChurnStep {
        let mut step = ChurnStep::default();
        self.tasks.retain(|t| !t.is_finished());
        for index in std::mem::take(&mut self.away) {
            match self.join(index).await {
                Ok(()) => step.joined.push(index),
                Err(reason) => {
                    tracing::warn!(target: "peerscope::testnet", index, %reason, "node could not rejoin");
                    // Try again at the next step.
                    self.away.push(index);
                }
            }
        }
        let first = self.bootstrap.len();
        let mut candidates: Vec<usize> = (first..self.nodes.len())
            .filter(|i| {
                let n = &self.nodes[*i];
                n.online && n.discv5.is_some() && !self.away.contains(i) && !step.joined.contains(i)
            })
            .collect();
        candidates.shuffle(rng);
        for index in candidates.into_iter().take(count) {
            self.leave(index);
            step.left.push(index);
        }
        self.away.extend(step.left.iter().copied());
        step
    }

    /// Node `index` leaves: its discv5 and libp2p stop.
    fn leave(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        if let Some(mut d) = node.discv5.take() {
            d.shutdown();
        }
        if let Some(token) = node.libp2p_stop.take() {
            token.cancel();
        }
        node.commands = None;
        node.online = false;
    }

    /// Node `index` comes back on its old ports with its old record.
    async fn join(&mut self, index: usize) -> Result<(), String> {
        let udp = self.nodes[index].info.udp.ok_or("no discv5 address")?;
        // The old socket closes once discv5's task has wound down: retry the bind briefly.
        let mut socket = None;
        for _ in 0..50 {
            match tokio::net::UdpSocket::bind(udp).await {
                Ok(s) => {
                    socket = Some(s);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let socket = socket.ok_or_else(|| format!("udp {udp} stayed in use"))?;
        let node = &self.nodes[index];
        let mut secret = node.secret.clone();
        let key = CombinedKey::secp256k1_from_bytes(&mut secret).map_err(|e| e.to_string())?;
        let discv5 = start_discv5(socket, &node.enr, key, self.protocol_id).await?;
        for j in &node.neighbours {
            let _ = discv5.add_enr(self.nodes[*j].enr.clone());
        }
        let mut stop = None;
        let mut commands = None;
        if let (Some(spec), true) = (&node.libp2p, node.info.up) {
            let port = node.info.tcp.ok_or("no tcp port")?;
            let token = self.cancel.child_token();
            let mut started = Err(String::new());
            for _ in 0..50 {
                started = start_libp2p(spec, port, self.stats.clone(), token.clone()).await;
                if started.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let (_, task, tx) = started.map_err(|e| format!("libp2p on tcp {port}: {e}"))?;
            self.tasks.push(task);
            stop = Some(token);
            commands = Some(tx);
        }
        let node = &mut self.nodes[index];
        node.discv5 = Some(discv5);
        node.libp2p_stop = stop;
        node.commands = commands;
        node.online = true;
        Ok(())
    }

    /// How many nodes are in the network now (not away after a churn step).
    pub fn online(&self) -> usize {
        self.nodes.iter().filter(|n| n.online).count()
    }

    /// Stops node `index`'s libp2p swarm (its TCP port then refuses connections); discv5
    /// keeps running. Returns false if the node has no running swarm.
    pub fn stop_libp2p(&mut self, index: usize) -> bool {
        match self.nodes.get_mut(index).and_then(|n| n.libp2p_stop.take()) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Relay nodes (index) subscribed to a pubsub topic (every relay node is on
    /// [`NAMED_PUBSUB_TOPIC`]).
    pub fn relay_nodes_on(&self, topic: &str) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.info.up
                    && n.info.waku2 & Waku2::RELAY != 0
                    && (topic == NAMED_PUBSUB_TOPIC
                        || node_topics(&n.info, self.named_topic)
                            .iter()
                            .any(|t| t == topic))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Publishes `data` as-is on `topic` from node `index` and records it as published
    /// under `content_topic` ("" for data that is not a WakuMessage).
    async fn publish_data(
        &self,
        index: usize,
        topic: &str,
        content_topic: &str,
        data: Vec<u8>,
    ) -> Result<(), String> {
        let tx = self
            .nodes
            .get(index)
            .and_then(|n| n.commands.clone())
            .ok_or_else(|| format!("node {index} runs no libp2p"))?;
        let len = data.len() as u64;
        let (reply, rx) = oneshot::channel();
        tx.send(NodeCommand::Publish {
            topic: topic.to_string(),
            data,
            reply,
        })
        .await
        .map_err(|_| format!("node {index} stopped"))?;
        rx.await.map_err(|_| format!("node {index} stopped"))??;
        let mut p = self
            .stats
            .published
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let e = p
            .entry((topic.to_string(), content_topic.to_string()))
            .or_default();
        e.0 += 1;
        e.1 += len;
        Ok(())
    }

    /// Publishes a WakuMessage from relay node `index` on `topic`. Payloads must differ
    /// between messages (the message id is the hash of the data). Returns its encoded size.
    pub async fn publish(
        &self,
        index: usize,
        topic: &str,
        content_topic: &str,
        payload: Vec<u8>,
    ) -> Result<u64, String> {
        let msg = WakuMessage {
            payload,
            content_topic: content_topic.to_string(),
            timestamp: Some(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as i64)
                    .unwrap_or(0),
            ),
            ..Default::default()
        };
        let data = msg.encode_to_vec();
        let len = data.len() as u64;
        self.publish_data(index, topic, content_topic, data).await?;
        Ok(len)
    }

    /// Publishes bytes that are not a WakuMessage.
    pub async fn publish_garbage(
        &self,
        index: usize,
        topic: &str,
        data: Vec<u8>,
    ) -> Result<(), String> {
        self.publish_data(index, topic, "", data).await
    }

    /// What was published so far: (pubsub topic, content topic) → (messages, bytes).
    pub fn published(&self) -> std::collections::BTreeMap<(String, String), (u64, u64)> {
        self.stats
            .published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Signs a tree of the bootstrap ENRs for `domain` and serves it from a DNS server on
    /// 127.0.0.1. Returns the server (keep it) and the `enrtree://` URL.
    pub async fn serve_dns_tree(
        &self,
        domain: &str,
    ) -> Result<(crate::testnet::dns::TreeServer, String), String> {
        let enrs: Vec<Enr> = self
            .bootstrap
            .iter()
            .filter_map(|t| crate::protocol::enr::parse_enr(t).ok())
            .collect();
        let key = crate::protocol::dns::random_signing_key();
        let tree = crate::protocol::dns::build_tree(&enrs, &[], 1, &key, domain)
            .map_err(|e| e.to_string())?;
        let server = crate::testnet::dns::TreeServer::start(tree.records.clone())
            .await
            .map_err(|e| e.to_string())?;
        Ok((server, tree.url))
    }

    /// What the libp2p nodes did so far.
    pub fn stats(&self) -> &TestnetStats {
        &self.stats
    }

    /// The bootstrap records (`enr:` text).
    pub fn bootstrap_enrs(&self) -> &[String] {
        &self.bootstrap
    }

    /// What every node was assigned, in index order (hostile nodes last).
    pub fn nodes(&self) -> Vec<NodeInfo> {
        let hostile = self.hostile.nodes().iter().map(|h| h.info.clone());
        self.nodes
            .iter()
            .map(|n| n.info.clone())
            .chain(hostile)
            .collect()
    }

    /// The records of nodes that never answer, and who holds them.
    pub fn dead(&self) -> &[DeadRecord] {
        &self.dead
    }

    /// The hostile nodes and what they hand out.
    pub fn hostile(&self) -> &crate::testnet::hostile::HostileNet {
        &self.hostile
    }

    /// Number of nodes (hostile ones included, as in [`Testnet::nodes`]).
    pub fn len(&self) -> usize {
        self.nodes.len() + self.hostile.nodes().len()
    }

    /// True for a network with no nodes (never, once started).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of routing-table entries per node (connected or not), in index order.
    pub fn table_sizes(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .map(|n| n.discv5.as_ref().map_or(0, |d| d.table_entries_id().len()))
            .collect()
    }

    /// Direct access to node `index`'s discv5 instance (tests use it to shape tables).
    pub fn discv5(&self, index: usize) -> Option<&Discv5> {
        self.nodes.get(index).and_then(|n| n.discv5.as_ref())
    }

    /// Adds `enr` to what node `index` serves over peer exchange (tests use it to shape
    /// answers). Returns false if the node serves no peer exchange.
    pub fn add_px_record(&self, index: usize, enr: &Enr) -> bool {
        let Some(list) = self.nodes.get(index).and_then(|n| n.px.as_ref()) else {
            return false;
        };
        list.write()
            .unwrap_or_else(|e| e.into_inner())
            .push(alloy_rlp::encode(enr));
        true
    }

    /// Stops every node.
    pub fn shutdown(&mut self) {
        self.cancel.cancel();
        self.hostile.shutdown();
        for t in self.tasks.drain(..) {
            t.abort();
        }
        for n in &mut self.nodes {
            if let Some(d) = n.discv5.as_mut() {
                d.shutdown();
            }
        }
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The pubsub topics a relay node subscribes to: its shards' topics, or [`NAMED_TOPIC`].
fn node_topics(info: &NodeInfo, named_topic: bool) -> Vec<String> {
    if named_topic {
        vec![NAMED_TOPIC.to_string()]
    } else {
        info.shards
            .iter()
            .map(|s| pubsub_topic(info.cluster_id, *s))
            .collect()
    }
}

/// The protocols identify reports for a libp2p node with capabilities `caps`, sorted.
pub fn expected_protocols(caps: Waku2) -> Vec<String> {
    let mut out: Vec<String> = BASE_PROTOCOLS.iter().map(|s| s.to_string()).collect();
    for (bit, p) in waku::CAPABILITY_PROTOCOLS.iter().enumerate() {
        if caps.0 & (1 << bit) != 0 {
            out.push(p.to_string());
        }
    }
    out.sort();
    out
}

/// How long `peerscope testnet` waits between status lines.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(30);
