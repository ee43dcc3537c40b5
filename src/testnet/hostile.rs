//! Hostile nodes for the test network: peers that misbehave on purpose, so that a crawl
//! against them can be checked to finish, stay bounded and classify each one.
//!
//! Every hostile node binds 127.0.0.1 only and runs a real discv5 node (same protocol id
//! as the testnet) with a validly signed Waku record (cluster [`HOSTILE_CLUSTER`]). Its
//! record is added to the routing tables of a few normal nodes, so a normal crawl finds
//! it; it knows a few normal nodes itself. What differs is its TCP side:
//!
//! | kind | what it does | what a crawler should see |
//! | --- | --- | --- |
//! | `silent` | accepts TCP and never sends a byte (holds at most [`MAX_HELD`] connections, each for at most [`HOLD_FOR`]) | handshake timeout |
//! | `stall` | answers multistream-select for `/noise`, then sends the first 18 bytes of a Noise frame that claims 96 and stops | handshake timeout |
//! | `big-identify` | a real libp2p host (Noise, Yamux, identify, ping) whose identify comes close to the 4 KiB libp2p reads of it: an agent of [`BIG_AGENT_LEN`] bytes, a protocol version of [`BIG_PROTOCOL_VERSION_LEN`] bytes, [`BIG_PROTOCOLS`] protocols plus one name of [`BIG_LONG_PROTOCOL_LEN`] bytes, [`BIG_LISTEN_ADDRS`] extra listen addresses (`/ip4/127.0.0.1/tcp/1…`) | identified, with the stored fields capped |
//! | `flood` | a Waku relay node (identify, ping, metadata, gossipsub on [`flood_topic`]) that publishes [`FLOOD_MESSAGES`] messages of garbage, one per [`FLOOD_INTERVAL`], once a peer subscribes; see [`flood_data`] | identified; its messages counted only as undecodable |
//! | `wrong-key` | its record is signed by one key, its libp2p host (identify, ping) uses another | peer id mismatch |
//! | `junk-enrs` | its routing table holds only [`junk_records`] (validly signed, junk values), so its NODES answers carry them; its own record has no TCP | records stored decoded, with issues; the node itself: no address |
//! | `endless-enrs` | every [`ENDLESS_REFRESH`] its routing table is emptied and refilled with [`ENDLESS_BATCH`] freshly minted, validly signed Waku records, so every NODES answer carries records never seen before, for as long as it runs; its own record has no TCP | the crawl stays within its known-node cap and per-responder budget and counts what it dropped |
//!
//! discv5 0.12 cannot be made to send records that do not verify: its `Enr` values are
//! always signed and decoded ones are checked, so `junk-enrs` sends validly signed records
//! with junk values. They all keep `ip` = 127.0.0.1 and `udp` = a socket the node binds
//! and never reads (discv5 only tables records with a UDP address), so nothing a crawler
//! learns from them points off loopback. `endless-enrs` records point there too, with a
//! `tcp` port that is bound and never listened on (a dial is refused at once).

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use alloy_rlp::Bytes;
use discv5::{ConfigBuilder, Discv5, ListenConfig, ProtocolIdentity};
use enr::CombinedKey;
use futures::StreamExt;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, identity, ping, request_response, Multiaddr, StreamProtocol};
use prost::Message as _;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::model::node_id_hex;
use crate::protocol::enr::{
    build_waku_enr, encode_rs, DecodedEnr, Enr, Waku2, KEY_ATTNETS, KEY_ETH2, KEY_MULTIADDRS,
    KEY_RS, KEY_SYNCNETS, KEY_WAKU2,
};
use crate::protocol::waku::relay::{gossipsub_behaviour, pubsub_topic, WakuMessage};
use crate::protocol::waku::{self, MetadataCodec, WakuMetadata};
use crate::testnet::host::loopback_host;
pub use crate::testnet::node::HostileKind;
use crate::testnet::node::{NodeInfo, TestnetError};

/// Most hostile nodes of one kind.
pub const MAX_PER_KIND: usize = 16;
/// The cluster every hostile record and metadata answer names.
pub const HOSTILE_CLUSTER: u16 = 1;
/// The shard hostile nodes sit on (flood publishes on it).
pub const HOSTILE_SHARD: u16 = 0;
/// Connections a `silent` or `stall` node holds at once; further ones are closed at once.
pub const MAX_HELD: usize = 64;
/// How long a `silent` or `stall` node holds a connection before closing it.
pub const HOLD_FOR: Duration = Duration::from_secs(60);
/// Normal nodes whose tables get each hostile record.
pub const KNOWN_BY: usize = 4;

/// `big-identify`: agent version length in bytes.
pub const BIG_AGENT_LEN: usize = 1000;
/// `big-identify`: protocol version length in bytes.
pub const BIG_PROTOCOL_VERSION_LEN: usize = 300;
/// `big-identify`: extra protocols served (`/x/000` …), besides identify and ping.
pub const BIG_PROTOCOLS: usize = 100;
/// `big-identify`: length of the one extra protocol name that is longer than sane.
pub const BIG_LONG_PROTOCOL_LEN: usize = 200;
/// `big-identify`: extra listen addresses announced (`/ip4/127.0.0.1/tcp/1` …), besides
/// its real one: as many as a libp2p swarm keeps as external addresses.
pub const BIG_LISTEN_ADDRS: usize = 20;

/// `flood`: messages published per node (successful publishes; none while no peer is
/// subscribed).
pub const FLOOD_MESSAGES: u64 = 300;
/// `flood`: pause between two publishes (the rate bound: 50 per second).
pub const FLOOD_INTERVAL: Duration = Duration::from_millis(20);

/// `endless-enrs`: fresh records minted per refresh.
pub const ENDLESS_BATCH: usize = 48;
/// `endless-enrs`: how often its table is refilled with fresh records.
pub const ENDLESS_REFRESH: Duration = Duration::from_millis(250);

/// The agent versions of the hostile libp2p hosts.
pub const BIG_AGENT_PREFIX: &str = "hostile-big-identify/";
pub const FLOOD_AGENT: &str = "hostile-flood/1";
pub const WRONG_KEY_AGENT: &str = "hostile-wrong-key/1";

/// How many hostile nodes of each kind to run (none by default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostileCounts {
    pub silent: usize,
    pub stall: usize,
    pub big_identify: usize,
    pub flood: usize,
    pub wrong_key: usize,
    pub junk_enrs: usize,
    pub endless_enrs: usize,
}

impl HostileCounts {
    /// The count of `kind`.
    pub fn get(&self, kind: HostileKind) -> usize {
        match kind {
            HostileKind::Silent => self.silent,
            HostileKind::Stall => self.stall,
            HostileKind::BigIdentify => self.big_identify,
            HostileKind::Flood => self.flood,
            HostileKind::WrongKey => self.wrong_key,
            HostileKind::JunkEnrs => self.junk_enrs,
            HostileKind::EndlessEnrs => self.endless_enrs,
        }
    }

    fn get_mut(&mut self, kind: HostileKind) -> &mut usize {
        match kind {
            HostileKind::Silent => &mut self.silent,
            HostileKind::Stall => &mut self.stall,
            HostileKind::BigIdentify => &mut self.big_identify,
            HostileKind::Flood => &mut self.flood,
            HostileKind::WrongKey => &mut self.wrong_key,
            HostileKind::JunkEnrs => &mut self.junk_enrs,
            HostileKind::EndlessEnrs => &mut self.endless_enrs,
        }
    }

    /// One of each kind that hands out a fixed set of records (every kind but
    /// `endless-enrs`), so that a crawl of them has a known end.
    pub fn one_each() -> HostileCounts {
        let mut c = HostileCounts::default();
        for k in HostileKind::ALL {
            if k != HostileKind::EndlessEnrs {
                *c.get_mut(k) = 1;
            }
        }
        c
    }

    /// Hostile nodes in all.
    pub fn total(&self) -> usize {
        HostileKind::ALL.iter().map(|k| self.get(*k)).sum()
    }
}

impl FromStr for HostileCounts {
    type Err = String;
    /// Parses `KIND=N[,KIND=N...]`, e.g. `silent=1,flood=2` (a kind named twice adds up).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut c = HostileCounts::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, n) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not KIND=N"))?;
            let kind: HostileKind = kind.trim().parse()?;
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: {n:?} is not a count"))?;
            let slot = c.get_mut(kind);
            *slot += n;
            if *slot > MAX_PER_KIND {
                return Err(format!(
                    "at most {MAX_PER_KIND} hostile nodes of kind {}",
                    kind.as_str()
                ));
            }
        }
        Ok(c)
    }
}

/// One hostile node as the testnet reports it.
#[derive(Clone, Debug, Serialize)]
pub struct HostileNode {
    pub kind: HostileKind,
    /// Its entry in [`crate::testnet::Testnet::nodes`] (with `hostile` set).
    pub info: NodeInfo,
    /// The peer id its TCP port really answers with (`wrong-key`: not the record's);
    /// `None` where nothing completes a handshake.
    pub actual_peer_id: Option<String>,
}

/// A junk record a `junk-enrs` node hands out.
#[derive(Clone, Debug, Serialize)]
pub struct JunkRecord {
    /// What is wrong with it.
    pub what: &'static str,
    /// The key whose issue a decoder reports (`None`: decodes without issues).
    pub issue_key: Option<&'static str>,
    pub node_id: String,
    pub enr: String,
}

/// What the `endless-enrs` nodes minted so far.
#[derive(Debug, Default)]
pub struct EndlessStats {
    /// Fresh records put in their tables.
    pub minted: AtomicU64,
}

/// What the `flood` nodes published so far.
#[derive(Debug, Default)]
pub struct FloodStats {
    /// Messages published (accepted by gossipsub for at least one peer).
    pub messages: AtomicU64,
    /// Their bytes (the gossipsub data).
    pub bytes: AtomicU64,
}

/// The running hostile nodes of a testnet. Dropping it stops them.
#[derive(Default)]
pub struct HostileNet {
    nodes: Vec<HostileNode>,
    junk: Vec<JunkRecord>,
    discv5: Vec<Discv5>,
    tasks: Vec<JoinHandle<()>>,
    flood: Arc<FloodStats>,
    endless: Arc<EndlessStats>,
    /// UDP sockets the junk and endless records point at, bound and never read.
    _sinks: Vec<tokio::net::UdpSocket>,
    /// TCP ports the endless records name, bound and never listened on.
    _closed_tcp: Vec<tokio::net::TcpSocket>,
    cancel: CancellationToken,
}

/// The pubsub topic `flood` nodes publish on.
pub fn flood_topic() -> String {
    pubsub_topic(HOSTILE_CLUSTER, HOSTILE_SHARD)
}

/// The data of `flood` message `n` of node `node`: never a valid Waku message, and
/// unique. In turn: bytes that are not protobuf (a field with wire type 7); a WakuMessage
/// without content topic; one whose content topic is the counter's aggregate name
/// `(other)`; one whose content topic does not start with `/`; one whose content topic is
/// 1000 bytes long; a WakuMessage cut in the middle; and 16 KiB of such non-protobuf
/// bytes.
pub fn flood_data(node: usize, n: u64) -> Vec<u8> {
    let tag = format!("flood {node} {n}");
    let message = |content_topic: String| WakuMessage {
        payload: tag.clone().into_bytes(),
        content_topic,
        timestamp: Some(n as i64),
        ..Default::default()
    };
    let not_protobuf = |len: usize| {
        let mut v = vec![0x07];
        v.extend_from_slice(tag.as_bytes());
        v.resize(len.max(v.len()), 0xa5);
        v
    };
    match n % 7 {
        0 => not_protobuf(256),
        1 => message(String::new()).encode_to_vec(),
        2 => message(crate::model::messages::OTHER_CONTENT_TOPIC.to_string()).encode_to_vec(),
        3 => message(format!("garbage-{node}-{n}")).encode_to_vec(),
        4 => message(format!("/{}", "z".repeat(999))).encode_to_vec(),
        5 => {
            let mut v = message("/app/1/chat/proto".to_string()).encode_to_vec();
            v.truncate(v.len() / 2);
            v
        }
        _ => not_protobuf(16 * 1024),
    }
}

/// The records a `junk-enrs` node holds (and so answers with). Each carries `ip`
/// 127.0.0.1 and `udp` = `sink_port` besides what is listed:
/// `waku2` of 4 bytes; `rs` claiming 5 shards with none; `rs` with shard 65535;
/// `multiaddrs` of garbage bytes; `multiaddrs` that is an RLP list, not bytes; `eth2` of
/// 3 bytes; `attnets` of 2 bytes and `syncnets` of 9; a valid relay record with `tcp` 0;
/// one with `udp` 0 instead of the sink (and `tcp` 0); an unknown key `junk` of
/// [`JUNK_VALUE_LEN`] bytes (the record near the 300-byte limit, otherwise valid).
///
/// Their keys are drawn so that at most [`JUNK_PER_BUCKET`] of them sit at one distance
/// from `holder`: a designated FINDNODE answer reaches a crawler in its first NODES
/// packet only (see the crawl module), and random ids would put half of them in one
/// bucket, more than one packet holds, where nothing else could reveal the rest (only
/// `holder` holds them).
pub fn junk_records(
    sink_port: u16,
    holder: &enr::NodeId,
) -> Result<Vec<(JunkRecord, Enr)>, String> {
    type Fill = fn(&mut enr::Builder<CombinedKey>);
    let rs = Bytes::from(encode_rs(HOSTILE_CLUSTER, &[HOSTILE_SHARD]));
    let variants: Vec<(&'static str, Option<&'static str>, Fill)> = vec![
        ("waku2 of 4 bytes", Some(KEY_WAKU2), |b| {
            b.add_value(KEY_WAKU2, &Bytes::from(vec![0xff; 4]));
        }),
        ("rs claims 5 shards, carries none", Some(KEY_RS), |b| {
            b.add_value(KEY_RS, &Bytes::from(vec![0, 1, 5]));
        }),
        ("rs with shard 65535", Some(KEY_RS), |b| {
            b.add_value(KEY_RS, &Bytes::from(vec![0, 1, 1, 0xff, 0xff]));
        }),
        ("multiaddrs of garbage bytes", Some(KEY_MULTIADDRS), |b| {
            b.add_value(KEY_MULTIADDRS, &Bytes::from(vec![0x00, 0x09, 0xde, 0xad]));
        }),
        ("multiaddrs as an RLP list", Some(KEY_MULTIADDRS), |b| {
            b.add_value(KEY_MULTIADDRS, &vec![1u64, 2, 3]);
        }),
        ("eth2 of 3 bytes", Some(KEY_ETH2), |b| {
            b.add_value(KEY_ETH2, &Bytes::from(vec![1, 2, 3]));
        }),
        (
            "attnets of 2 bytes, syncnets of 9",
            Some(KEY_ATTNETS),
            |b| {
                b.add_value(KEY_ATTNETS, &Bytes::from(vec![0xff; 2]));
                b.add_value(KEY_SYNCNETS, &Bytes::from(vec![0xff; 9]));
            },
        ),
        ("relay record with tcp 0", None, |b| {
            b.tcp4(0);
        }),
        ("udp 0 and tcp 0", None, |b| {
            b.udp4(0).tcp4(0);
        }),
        ("unknown key near the size limit", None, |b| {
            b.add_value("junk", &Bytes::from(vec![0xaa; JUNK_VALUE_LEN]));
        }),
    ];
    let mut out = Vec::with_capacity(variants.len());
    let holder = discv5::Key::from(*holder);
    for (i, (what, issue_key, fill)) in variants.into_iter().enumerate() {
        let distance = 256 - (i / JUNK_PER_BUCKET) as u64;
        let key = loop {
            let key = CombinedKey::generate_secp256k1();
            let id = enr::NodeId::from(enr::EnrKey::public(&key));
            if holder.log2_distance(&discv5::Key::from(id)) == Some(distance) {
                break key;
            }
        };
        let mut b = Enr::builder();
        b.ip4(Ipv4Addr::LOCALHOST).udp4(sink_port);
        if issue_key.is_none() {
            // Otherwise a plain relay record on the hostile cluster.
            b.add_value(KEY_WAKU2, &Bytes::from(vec![Waku2::RELAY]));
            b.add_value(KEY_RS, &rs);
        }
        fill(&mut b);
        let enr = b
            .build(&key)
            .map_err(|e| format!("junk record {what}: {e}"))?;
        let decoded = DecodedEnr::from_enr(&enr);
        out.push((
            JunkRecord {
                what,
                issue_key,
                node_id: node_id_hex(&decoded.node_id),
                enr: decoded.text,
            },
            enr,
        ));
    }
    Ok(out)
}

/// Junk records at one distance from their holder at most (see [`junk_records`]).
pub const JUNK_PER_BUCKET: usize = 2;

/// Length of the `junk` value of the record near the ENR size limit.
pub const JUNK_VALUE_LEN: usize = 120;

impl HostileNet {
    /// Starts the hostile nodes of `counts`, numbered from `first_index`, and adds each
    /// record to the tables of [`KNOWN_BY`] of `neighbours` (the normal nodes' discv5);
    /// each hostile discv5 node knows the same few. Does nothing for zero counts.
    pub async fn start(
        counts: &HostileCounts,
        protocol_id: [u8; 6],
        first_index: usize,
        neighbours: &[&Discv5],
        cancel: CancellationToken,
    ) -> Result<HostileNet, TestnetError> {
        let mut net = HostileNet::default();
        net.cancel = cancel;
        if counts.total() == 0 {
            return Ok(net);
        }
        if neighbours.is_empty() {
            return Err(TestnetError::Config(
                "hostile nodes need normal discv5 nodes to be known by".into(),
            ));
        }
        let mut index = first_index;
        for kind in HostileKind::ALL {
            for k in 0..counts.get(kind) {
                let err = |reason: String| TestnetError::Node { index, reason };
                let (node, enr) = net.start_one(kind, index, protocol_id).await.map_err(err)?;
                // Known by KNOWN_BY normal nodes, spread over the list.
                let n = neighbours.len();
                let mut known = Vec::new();
                for j in 0..KNOWN_BY.min(n) {
                    let i = (index * 7 + k * 3 + j * n.div_ceil(KNOWN_BY)) % n;
                    if neighbours[i].add_enr(enr.clone()).is_ok() {
                        known.push(i);
                    }
                }
                if known.is_empty() {
                    return Err(err("no normal node's table took its record".into()));
                }
                if let Some(d) = net.discv5.last() {
                    if kind == HostileKind::JunkEnrs {
                        // Its table holds only its junk.
                    } else {
                        for &i in &known {
                            let _ = d.add_enr(neighbours[i].local_enr());
                        }
                    }
                }
                if kind == HostileKind::EndlessEnrs {
                    let d = net.discv5.pop().expect("just started");
                    net.spawn_endless(d).await.map_err(err)?;
                }
                net.nodes.push(node);
                index += 1;
            }
        }
        Ok(net)
    }

    async fn start_one(
        &mut self,
        kind: HostileKind,
        index: usize,
        protocol_id: [u8; 6],
    ) -> Result<(HostileNode, Enr), String> {
        let key = CombinedKey::generate_secp256k1();
        let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| e.to_string())?;
        let udp = socket.local_addr().map_err(|e| e.to_string())?;
        let cancel = self.cancel.child_token();
        let caps = match kind {
            HostileKind::Flood => Waku2(Waku2::RELAY),
            _ => Waku2(Waku2::RELAY | Waku2::STORE),
        };
        let secret = match &key {
            CombinedKey::Secp256k1(k) => k.to_bytes().to_vec(),
            _ => return Err("hostile keys are secp256k1".into()),
        };
        let mut actual_peer_id = None;
        let mut agent = String::new();
        let mut protocols = Vec::new();
        let tcp = match kind {
            HostileKind::Silent => Some(self.spawn_holder(false, cancel).await?),
            HostileKind::Stall => Some(self.spawn_holder(true, cancel).await?),
            HostileKind::JunkEnrs | HostileKind::EndlessEnrs => None,
            HostileKind::BigIdentify | HostileKind::Flood | HostileKind::WrongKey => {
                let keypair = if kind == HostileKind::WrongKey {
                    identity::Keypair::generate_secp256k1()
                } else {
                    libp2p_keypair(&secret)?
                };
                actual_peer_id = Some(keypair.public().to_peer_id().to_string());
                let host = Host::new(kind, index);
                agent = host.agent.clone();
                protocols = host.protocols();
                let (port, task) = host
                    .start(keypair, self.flood.clone(), cancel)
                    .await
                    .map_err(|e| format!("{}: {e}", kind.as_str()))?;
                self.tasks.push(task);
                Some(port)
            }
        };
        let enr = build_waku_enr(
            &key,
            Ipv4Addr::LOCALHOST,
            udp.port(),
            tcp,
            caps,
            HOSTILE_CLUSTER,
            &[HOSTILE_SHARD],
            &[],
        )
        .map_err(|e| e.to_string())?;
        let cfg = ConfigBuilder::new(ListenConfig::FromSockets {
            ipv4: Some(Arc::new(socket)),
            ipv6: None,
        })
        .protocol_identity(ProtocolIdentity {
            protocol_id,
            protocol_version: 1u16.to_be_bytes(),
        })
        .build();
        let mut discv5 = Discv5::new(enr.clone(), key, cfg).map_err(|e| e.to_string())?;
        discv5.start().await.map_err(|e| e.to_string())?;
        if kind == HostileKind::JunkEnrs {
            let sink = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(|e| e.to_string())?;
            let sink_port = sink.local_addr().map_err(|e| e.to_string())?.port();
            self._sinks.push(sink);
            for (record, junk_enr) in junk_records(sink_port, &enr.node_id())? {
                discv5
                    .add_enr(junk_enr)
                    .map_err(|e| format!("junk record {}: {e}", record.what))?;
                self.junk.push(record);
            }
        }
        self.discv5.push(discv5);
        let decoded = DecodedEnr::from_enr(&enr);
        let identified = matches!(kind, HostileKind::BigIdentify | HostileKind::Flood);
        let info = NodeInfo {
            index,
            node_id: node_id_hex(&decoded.node_id),
            peer_id: decoded.peer_id.clone().unwrap_or_default(),
            enr: decoded.text.clone(),
            udp: Some(udp),
            px_only: false,
            fork_digest: None,
            waku2: caps.0,
            capabilities: caps.names().iter().map(|s| s.to_string()).collect(),
            cluster_id: HOSTILE_CLUSTER,
            shards: vec![HOSTILE_SHARD],
            tcp,
            up: identified,
            agent: if identified { agent } else { String::new() },
            protocols: if identified { protocols } else { Vec::new() },
            hostile: Some(kind),
        };
        Ok((
            HostileNode {
                kind,
                info,
                actual_peer_id,
            },
            enr,
        ))
    }

    /// A TCP listener that accepts and holds connections: silent, or (`stall`) answering
    /// multistream-select for Noise and stopping inside the first Noise frame.
    async fn spawn_holder(
        &mut self,
        stall: bool,
        cancel: CancellationToken,
    ) -> Result<u16, String> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        self.tasks.push(tokio::spawn(async move {
            let mut held: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
            let mut silent: VecDeque<(tokio::time::Instant, tokio::net::TcpStream)> =
                VecDeque::new();
            let mut sweep = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = sweep.tick() => {
                        while silent.front().is_some_and(|(t, _)| t.elapsed() >= HOLD_FOR) {
                            silent.pop_front();
                        }
                    }
                    Some(_) = held.join_next(), if !held.is_empty() => {}
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        if silent.len() + held.len() >= MAX_HELD {
                            drop(stream);
                        } else if stall {
                            held.spawn(stall_connection(stream));
                        } else {
                            silent.push_back((tokio::time::Instant::now(), stream));
                        }
                    }
                }
            }
        }));
        Ok(port)
    }

    /// `endless-enrs`: a task that, every [`ENDLESS_REFRESH`] until cancelled, replaces the
    /// fresh records of `discv5`'s table (its neighbours stay) with [`ENDLESS_BATCH`] new
    /// ones. The task owns the node; it shuts down when the task ends.
    async fn spawn_endless(&mut self, discv5: Discv5) -> Result<(), String> {
        let sink = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| e.to_string())?;
        let udp = sink.local_addr().map_err(|e| e.to_string())?.port();
        self._sinks.push(sink);
        let closed = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
        closed
            .bind((Ipv4Addr::LOCALHOST, 0).into())
            .map_err(|e| e.to_string())?;
        let tcp = closed.local_addr().map_err(|e| e.to_string())?.port();
        self._closed_tcp.push(closed);
        let cancel = self.cancel.child_token();
        let stats = self.endless.clone();
        self.tasks.push(tokio::spawn(async move {
            let mut fresh: Vec<enr::NodeId> = Vec::new();
            let mut tick = tokio::time::interval(ENDLESS_REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tick.tick() => {}
                }
                for id in fresh.drain(..) {
                    discv5.remove_node(&id);
                }
                for _ in 0..ENDLESS_BATCH {
                    let key = CombinedKey::generate_secp256k1();
                    let Ok(enr) = build_waku_enr(
                        &key,
                        Ipv4Addr::LOCALHOST,
                        udp,
                        Some(tcp),
                        Waku2(Waku2::RELAY),
                        HOSTILE_CLUSTER,
                        &[HOSTILE_SHARD],
                        &[],
                    ) else {
                        continue;
                    };
                    let id = enr.node_id();
                    // A full bucket refuses it; the next batch has other ids.
                    if discv5.add_enr(enr).is_ok() {
                        fresh.push(id);
                        stats.minted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            drop(discv5);
        }));
        Ok(())
    }

    /// Fresh records the `endless-enrs` nodes have put in their tables so far.
    pub fn endless_minted(&self) -> u64 {
        self.endless.minted.load(Ordering::Relaxed)
    }

    /// The hostile nodes, in index order.
    pub fn nodes(&self) -> &[HostileNode] {
        &self.nodes
    }

    /// The records `junk-enrs` nodes hand out.
    pub fn junk_records(&self) -> &[JunkRecord] {
        &self.junk
    }

    /// What the `flood` nodes published: (messages, bytes).
    pub fn flood_published(&self) -> (u64, u64) {
        (
            self.flood.messages.load(Ordering::Relaxed),
            self.flood.bytes.load(Ordering::Relaxed),
        )
    }

    /// Stops every hostile node.
    pub fn shutdown(&mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            t.abort();
        }
        for d in &mut self.discv5 {
            d.shutdown();
        }
    }
}

impl Drop for HostileNet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One `stall` connection: read the dialer's multistream header and `/noise` proposal
/// (V1Lazy sends them with its first Noise message), confirm both, send 18 bytes of a
/// Noise frame that claims 96, then hold the connection for [`HOLD_FOR`].
async fn stall_connection(mut stream: tokio::net::TcpStream) {
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    if !matches!(read, Ok(Ok(n)) if n > 0) {
        return;
    }
    let mut answer = Vec::new();
    for line in ["/multistream/1.0.0\n", "/noise\n"] {
        answer.push(line.len() as u8);
        answer.extend_from_slice(line.as_bytes());
    }
    answer.extend_from_slice(&[0x00, 0x60]);
    answer.extend_from_slice(&[0u8; 16]);
    if stream.write_all(&answer).await.is_err() {
        return;
    }
    // Hold, draining what the dialer sends so its writes never block, until it gives up
    // or HOLD_FOR passes.
    let _ = tokio::time::timeout(HOLD_FOR, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
}

fn libp2p_keypair(secret: &[u8]) -> Result<identity::Keypair, String> {
    let mut secret = secret.to_vec();
    let sk =
        identity::secp256k1::SecretKey::try_from_bytes(&mut secret).map_err(|e| e.to_string())?;
    Ok(identity::Keypair::from(identity::secp256k1::Keypair::from(
        sk,
    )))
}

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct HostBehaviour {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    /// Metadata, served (flood).
    metadata: Toggle<request_response::Behaviour<MetadataCodec>>,
    /// Waku relay (flood).
    relay: Toggle<gossipsub::Behaviour>,
    /// Inbound-only protocols that only make identify's list long (big-identify), and relay
    /// again on flood hosts, after gossipsub, so that identify lists it on every connection
    /// (see the testnet's `NodeBehaviour::services`).
    extra: Toggle<request_response::Behaviour<MetadataCodec>>,
}

/// A hostile libp2p host: `big-identify`, `flood` or `wrong-key`.
struct Host {
    kind: HostileKind,
    index: usize,
    agent: String,
    protocol_version: String,
    extra: Vec<String>,
}

impl Host {
    fn new(kind: HostileKind, index: usize) -> Host {
        let (agent, protocol_version, extra) = match kind {
            HostileKind::BigIdentify => {
                let mut agent = format!("{BIG_AGENT_PREFIX}{index}/");
                agent.push_str(&"a".repeat(BIG_AGENT_LEN - agent.len()));
                let mut extra: Vec<String> =
                    (0..BIG_PROTOCOLS).map(|i| format!("/x/{i:03}")).collect();
                extra.push(format!("/{}", "l".repeat(BIG_LONG_PROTOCOL_LEN - 1)));
                (agent, "v".repeat(BIG_PROTOCOL_VERSION_LEN), extra)
            }
            HostileKind::Flood => (FLOOD_AGENT.to_string(), "ipfs/0.1.0".to_string(), vec![]),
            _ => (
                WRONG_KEY_AGENT.to_string(),
                "ipfs/0.1.0".to_string(),
                vec![],
            ),
        };
        Host {
            kind,
            index,
            agent,
            protocol_version,
            extra,
        }
    }

    /// The protocols identify reports, sorted.
    fn protocols(&self) -> Vec<String> {
        let mut out: Vec<String> = ["/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        out.extend(self.extra.iter().cloned());
        if self.kind == HostileKind::Flood {
            out.push(waku::METADATA.to_string());
            out.push(waku::RELAY.to_string());
        }
        out.sort();
        out
    }

    async fn start(
        self,
        key: identity::Keypair,
        flood: Arc<FloodStats>,
        cancel: CancellationToken,
    ) -> Result<(u16, JoinHandle<()>), String> {
        let is_flood = self.kind == HostileKind::Flood;
        let topic = gossipsub::IdentTopic::new(flood_topic());
        let mut relay = if is_flood {
            Some(gossipsub_behaviour(false)?)
        } else {
            None
        };
        if let Some(g) = relay.as_mut() {
            g.subscribe(&topic).map_err(|e| e.to_string())?;
        }
        let mut extra: Vec<StreamProtocol> = self
            .extra
            .iter()
            .map(|p| StreamProtocol::try_from_owned(p.clone()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        if is_flood {
            extra.push(StreamProtocol::new(waku::RELAY));
        }
        let (agent, protocol_version) = (self.agent.clone(), self.protocol_version.clone());
        let (mut swarm, port) = loopback_host(key, 0, |key| HostBehaviour {
            identify: identify::Behaviour::new(
                identify::Config::new(protocol_version, key.public())
                    .with_agent_version(agent)
                    .with_push_listen_addr_updates(false),
            ),
            ping: ping::Behaviour::new(ping::Config::new()),
            metadata: Toggle::from(is_flood.then(|| {
                request_response::Behaviour::new(
                    [(
                        waku::metadata_protocol(),
                        request_response::ProtocolSupport::Inbound,
                    )],
                    request_response::Config::default(),
                )
            })),
            relay: Toggle::from(relay),
            extra: Toggle::from((!extra.is_empty()).then(|| {
                request_response::Behaviour::new(
                    extra
                        .into_iter()
                        .map(|p| (p, request_response::ProtocolSupport::Inbound)),
                    request_response::Config::default(),
                )
            })),
        })
        .await?;
        if self.kind == HostileKind::BigIdentify {
            for p in 1..=BIG_LISTEN_ADDRS {
                let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{p}")
                    .parse()
                    .expect("valid multiaddr");
                swarm.add_external_address(addr);
            }
        }
        let own = WakuMetadata {
            cluster_id: Some(u32::from(HOSTILE_CLUSTER)),
            shards: vec![u32::from(HOSTILE_SHARD)],
        };
        let index = self.index;
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLOOD_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut sent = 0u64;
            let mut n = 0u64;
            loop {
                let flooding = is_flood && sent < FLOOD_MESSAGES;
                let ev = tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tick.tick(), if flooding => {
                        let data = flood_data(index, n);
                        let len = data.len() as u64;
                        if let Some(g) = swarm.behaviour_mut().relay.as_mut() {
                            // Fails (and is not counted) while nobody is subscribed.
                            if g.publish(topic.clone(), data).is_ok() {
                                sent += 1;
                                n += 1;
                                flood.messages.fetch_add(1, Ordering::Relaxed);
                                flood.bytes.fetch_add(len, Ordering::Relaxed);
                            }
                        }
                        continue;
                    }
                    ev = swarm.select_next_some() => ev,
                };
                if let SwarmEvent::Behaviour(HostBehaviourEvent::Metadata(
                    request_response::Event::Message {
                        message: request_response::Message::Request { channel, .. },
                        ..
                    },
                )) = ev
                {
                    if let Some(m) = swarm.behaviour_mut().metadata.as_mut() {
                        let _ = m.send_response(channel, own.clone());
                    }
                }
            }
        });
        Ok((port, task))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse_and_reject_nonsense() {
        let c: HostileCounts =
            "silent=1, stall=2,big-identify=1,flood=1,wrong-key=3,junk-enrs=1,endless-enrs=2"
                .parse()
                .unwrap();
        assert_eq!(
            c,
            HostileCounts {
                silent: 1,
                stall: 2,
                big_identify: 1,
                flood: 1,
                wrong_key: 3,
                junk_enrs: 1,
                endless_enrs: 2,
            }
        );
        assert_eq!(c.total(), 11);
        assert_eq!("".parse::<HostileCounts>().unwrap().total(), 0);
        assert_eq!(
            "silent=1,silent=2".parse::<HostileCounts>().unwrap().silent,
            3
        );
        assert!("evil=1"
            .parse::<HostileCounts>()
            .unwrap_err()
            .contains("unknown"));
        assert!("silent".parse::<HostileCounts>().is_err());
        assert!("silent=x".parse::<HostileCounts>().is_err());
        assert!("flood=17".parse::<HostileCounts>().is_err());
        assert_eq!(
            HostileCounts::one_each().total(),
            HostileKind::ALL.len() - 1
        );
        assert_eq!(HostileCounts::one_each().endless_enrs, 0);
    }

    #[test]
    fn flood_data_is_never_a_waku_message_and_always_unique() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..70 {
            let d = flood_data(3, n);
            assert!(
                crate::protocol::waku::relay::decode_waku_message(&d).is_none(),
                "message {n}"
            );
            assert!(d.len() <= 16 * 1024);
            assert!(seen.insert(d), "message {n} repeats");
        }
    }

    #[test]
    fn junk_records_decode_with_the_expected_issues() {
        let holder = enr::NodeId::new(&[7; 32]);
        let junk = junk_records(9, &holder).unwrap();
        assert_eq!(junk.len(), 10);
        // At most two at one distance from their holder (one NODES packet's worth).
        let mut per_distance = std::collections::HashMap::new();
        for (_, e) in &junk {
            let d = discv5::Key::from(holder)
                .log2_distance(&discv5::Key::from(e.node_id()))
                .unwrap();
            *per_distance.entry(d).or_insert(0) += 1;
        }
        assert!(
            per_distance.values().all(|n| *n <= JUNK_PER_BUCKET),
            "{per_distance:?}"
        );
        for (r, enr) in &junk {
            let d = DecodedEnr::from_enr(enr);
            assert_eq!(d.ip4, Some(Ipv4Addr::LOCALHOST), "{}", r.what);
            match r.issue_key {
                Some(key) => assert!(
                    d.issues.iter().any(|i| i.starts_with(&format!("{key}:"))),
                    "{}: {:?}",
                    r.what,
                    d.issues
                ),
                None => assert!(d.issues.is_empty(), "{}: {:?}", r.what, d.issues),
            }
            assert!(alloy_rlp::encode(enr).len() <= 300);
            // Parsed back from text: same record.
            assert_eq!(crate::protocol::enr::parse_enr(&r.enr).unwrap(), *enr);
        }
    }
}
