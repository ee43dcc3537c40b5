//! A loopback CometBFT network: N nodes on 127.0.0.1 built on the same crates as the
//! driver (`tendermint-p2p`'s SecretConnection, `tendermint-proto`'s messages), each with
//! an Ed25519 key, a NodeInfo and an address book, answering PEX the way a CometBFT node
//! does. For `peerscope testnet --cometbft`, the integration tests and the benchmark.
//!
//! Node kinds ([`CometKind`]):
//! - `normal`: serves SecretConnection + NodeInfo, refuses peers of another network or
//!   block protocol (after sending its NodeInfo, as CometBFT does), answers `PexRequest`
//!   with `GetSelection` of its book (`max(min(32, n), 23% of n)` addresses, at most 250);
//! - `down`: its address is in books but nothing listens (connection refused);
//! - `silent`: accepts TCP and never speaks;
//! - `oversized`: answers with 300 addresses (above the 250 an honest node sends);
//! - `malformed`: answers with a list holding an entry whose id is not a node id.
//!
//! The first `chain_b` nodes after the chain-A ones are on chain B; they know one another
//! and every one of them is also in some chain-A node's book (a misconfigured peer list,
//! as real networks have), so a crawl of chain A meets them. Chain-A normal nodes form a
//! ring (node *i* knows node *i+1*) plus `degree` random chain-A peers; every down, silent
//! and abusive node is in some normal node's book. Keys and assignments come from `seed`,
//! so a run is reproducible apart from ports.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::engine::cometbft::conn::{self, LocalNode, PEX};
use crate::engine::cometbft::select::{GET_SELECTION_PERCENT, MIN_GET_SELECTION};
use crate::engine::cometbft::visit::{visit, PexOutcome, VisitSettings};
use crate::protocol::cometbft::node_info::{NodeInfo, BLOCK_PROTOCOL, P2P_PROTOCOL};
use crate::protocol::cometbft::pex::{self, PexMessage, MAX_GET_SELECTION};
use crate::protocol::cometbft::{pb, CometId, PeerAddr, PEX_CHANNEL};

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CometKind {
    Normal,
    Down,
    Silent,
    Oversized,
    Malformed,
}

impl CometKind {
    /// The name printed and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CometKind::Normal => "normal",
            CometKind::Down => "down",
            CometKind::Silent => "silent",
            CometKind::Oversized => "oversized",
            CometKind::Malformed => "malformed",
        }
    }
}

/// Testnet shape.
#[derive(Clone, Debug)]
pub struct CometTestnetConfig {
    /// Nodes in all (every kind, both chains).
    pub nodes: usize,
    /// Of which on chain B (normal nodes).
    pub chain_b: usize,
    /// Of which down (chain A addresses nothing listens on).
    pub down: usize,
    /// Of which silent.
    pub silent: usize,
    /// Of which abusive (alternately oversized and malformed answers), chain A.
    pub abusive: usize,
    /// Random extra book entries per node.
    pub degree: usize,
    pub seed: u64,
    pub chain_a: String,
    pub chain_b_id: String,
    /// How long a node serves one connection.
    pub conn_timeout: Duration,
}

impl Default for CometTestnetConfig {
    fn default() -> Self {
        CometTestnetConfig {
            nodes: 64,
            chain_b: 0,
            down: 0,
            silent: 0,
            abusive: 0,
            degree: 6,
            seed: 1,
            chain_a: "testchain-a".into(),
            chain_b_id: "testchain-b".into(),
            conn_timeout: Duration::from_secs(10),
        }
    }
}

/// One node as the testnet reports it.
#[derive(Clone, Debug, Serialize)]
pub struct CometNode {
    pub index: usize,
    pub id: String,
    /// `id@127.0.0.1:port`.
    pub address: String,
    pub chain_id: String,
    pub kind: CometKind,
    pub moniker: String,
    pub version: String,
}

impl CometNode {
    /// The parsed address.
    pub fn addr(&self) -> PeerAddr {
        self.address
            .parse()
            .expect("the testnet prints valid addresses")
    }
}

/// A running testnet; dropping it (or [`CometTestnet::stop`]) stops every node.
pub struct CometTestnet {
    nodes: Vec<CometNode>,
    cancel: CancellationToken,
    /// Connections served, all nodes (for the benchmark and tests).
    served: Arc<std::sync::atomic::AtomicU64>,
}

impl Drop for CometTestnet {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// A deterministic node key.
fn key_of(seed: u64, index: usize) -> ed25519_consensus::SigningKey {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"peerscope-cometbft-testnet");
    h.update(seed.to_be_bytes());
    h.update((index as u64).to_be_bytes());
    let bytes: [u8; 32] = h.finalize().into();
    ed25519_consensus::SigningKey::from(bytes)
}

/// The NodeInfo of a testnet node.
fn info_of(index: usize, chain: &str, version: &str) -> NodeInfo {
    NodeInfo {
        p2p_version: P2P_PROTOCOL,
        block_version: BLOCK_PROTOCOL,
        app_version: 1,
        node_id: String::new(),
        listen_addr: String::new(),
        network: chain.to_string(),
        version: version.to_string(),
        // PEX, consensus, mempool, evidence: what a full node lists.
        channels: vec![PEX_CHANNEL, 0x20, 0x21, 0x22, 0x23, 0x30, 0x38],
        moniker: format!("node-{index}"),
        tx_index: if index % 2 == 0 { "on" } else { "off" }.into(),
        rpc_address: "tcp://127.0.0.1:26657".into(),
    }
}

/// `GetSelection`: a random `max(min(32, n), 23% of n)` of the book, at most 250.
fn get_selection<R: Rng>(book: &[PeerAddr], rng: &mut R) -> Vec<pb::NetAddress> {
    let n = book.len();
    let k = MIN_GET_SELECTION
        .min(n)
        .max(n * GET_SELECTION_PERCENT / 100)
        .min(MAX_GET_SELECTION);
    book.choose_multiple(rng, k).map(|a| a.to_proto()).collect()
}

impl CometTestnet {
    /// Starts every node; returns once all listen.
    ///
    /// # Errors
    /// A listener that cannot be bound on 127.0.0.1, or counts that do not add up.
    pub async fn start(config: CometTestnetConfig) -> Result<CometTestnet, String> {
        let special = config.chain_b + config.down + config.silent + config.abusive;
        if special >= config.nodes {
            return Err(format!(
                "{} nodes cannot hold {special} chain-B, down, silent and abusive ones and a chain-A node",
                config.nodes
            ));
        }
        let mut rng = StdRng::seed_from_u64(config.seed);
        let n_a_normal = config.nodes - special;
        // Kinds in index order: chain-A normal, chain B, down, silent, abusive.
        let mut kinds = Vec::with_capacity(config.nodes);
        kinds.extend(std::iter::repeat_n((CometKind::Normal, true), n_a_normal));
        kinds.extend(std::iter::repeat_n(
            (CometKind::Normal, false),
            config.chain_b,
        ));
        kinds.extend(std::iter::repeat_n((CometKind::Down, true), config.down));
        kinds.extend(std::iter::repeat_n(
            (CometKind::Silent, true),
            config.silent,
        ));
        for i in 0..config.abusive {
            let k = if i % 2 == 0 {
                CometKind::Oversized
            } else {
                CometKind::Malformed
            };
            kinds.push((k, true));
        }
        // 1. Bind every listener (down nodes release theirs: nothing listens there).
        let mut listeners = Vec::with_capacity(config.nodes);
        let mut nodes = Vec::with_capacity(config.nodes);
        let mut locals = Vec::with_capacity(config.nodes);
        for (index, (kind, on_a)) in kinds.iter().enumerate() {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| format!("binding node {index}: {e}"))?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            let chain = if *on_a {
                &config.chain_a
            } else {
                &config.chain_b_id
            };
            let version = match (on_a, index % 3) {
                (false, _) => "0.34.28",
                (true, 0) => "0.37.4",
                (true, _) => "0.38.12",
            };
            let mut local =
                LocalNode::new(key_of(config.seed, index), info_of(index, chain, version));
            local.set_listen_addr(addr);
            nodes.push(CometNode {
                index,
                id: local.id().to_string(),
                address: PeerAddr {
                    id: local.id(),
                    addr,
                }
                .to_string(),
                chain_id: chain.clone(),
                kind: *kind,
                moniker: local.info().moniker.clone(),
                version: version.to_string(),
            });
            locals.push(local);
            listeners.push((*kind != CometKind::Down).then_some(l));
        }
        // 2. Books.
        let addr = |i: usize| nodes[i].addr();
        let a_normal: Vec<usize> = (0..n_a_normal).collect();
        let b_nodes: Vec<usize> = (n_a_normal..n_a_normal + config.chain_b).collect();
        let mut books: Vec<Vec<PeerAddr>> = vec![Vec::new(); config.nodes];
        let add = |books: &mut Vec<Vec<PeerAddr>>, i: usize, j: usize| {
            let a = addr(j);
            if i != j && !books[i].contains(&a) {
                books[i].push(a);
            }
        };
        for (pos, &i) in a_normal.iter().enumerate() {
            add(&mut books, i, a_normal[(pos + 1) % a_normal.len()]);
            for _ in 0..config.degree {
                let j = a_normal[rng.gen_range(0..a_normal.len())];
                add(&mut books, i, j);
            }
        }
        for (pos, &i) in b_nodes.iter().enumerate() {
            add(&mut books, i, b_nodes[(pos + 1) % b_nodes.len()]);
            if let Some(&j) = b_nodes.choose(&mut rng) {
                add(&mut books, i, j);
            }
        }
        // Every chain-B, down, silent and abusive node is in one or two chain-A books.
        for j in n_a_normal..config.nodes {
            for _ in 0..2 {
                let i = a_normal[rng.gen_range(0..a_normal.len())];
                add(&mut books, i, j);
            }
        }
        // 3. Serve.
        let cancel = CancellationToken::new();
        let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for (index, listener) in listeners.into_iter().enumerate() {
            let Some(listener) = listener else { continue };
            let node = Arc::new(NodeState {
                local: locals[index].clone(),
                book: std::mem::take(&mut books[index]),
                kind: nodes[index].kind,
                conn_timeout: config.conn_timeout,
                seed: config.seed ^ index as u64,
            });
            tokio::spawn(serve_node(listener, node, cancel.clone(), served.clone()));
        }
        tracing::info!(target: "peerscope::testnet", nodes = config.nodes, chain_a = %config.chain_a, "CometBFT testnet up");
        Ok(CometTestnet {
            nodes,
            cancel,
            served,
        })
    }

    /// Every node.
    pub fn nodes(&self) -> &[CometNode] {
        &self.nodes
    }

    /// The address a crawl of chain A starts from: node 0.
    pub fn bootstrap(&self) -> String {
        self.nodes[0].address.clone()
    }

    /// Connections the nodes accepted so far.
    pub fn connections_served(&self) -> u64 {
        self.served.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops every node.
    pub fn stop(self) {
        self.cancel.cancel();
    }
}

struct NodeState {
    local: LocalNode,
    book: Vec<PeerAddr>,
    kind: CometKind,
    conn_timeout: Duration,
    seed: u64,
}

async fn serve_node(
    listener: TcpListener,
    node: Arc<NodeState>,
    cancel: CancellationToken,
    served: Arc<std::sync::atomic::AtomicU64>,
) {
    loop {
        let (stream, _) = tokio::select! {
            _ = cancel.cancelled() => return,
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if node.kind == CometKind::Silent {
            // Hold the socket, say nothing, until the peer gives up or the testnet stops.
            let (cancel, limit) = (cancel.clone(), node.conn_timeout * 2);
            tokio::spawn(async move {
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = tokio::time::sleep(limit) => {}
                }
                drop(stream);
            });
            continue;
        }
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let node = node.clone();
        let deadline = Instant::now() + node.conn_timeout;
        let dog = stream.try_clone().ok().map(|c| conn::watchdog(c, deadline));
        tokio::spawn(async move {
            let _ = tokio::task::spawn_blocking(move || serve_conn(stream, &node, deadline)).await;
            if let Some(d) = dog {
                d.abort();
            }
        });
    }
}

/// One inbound connection of a testnet node, blocking.
fn serve_conn(stream: std::net::TcpStream, node: &NodeState, deadline: Instant) {
    // Incompatible peers (another network or block protocol) are dropped inside.
    let Ok(mut c) = conn::establish(stream, &node.local, None, deadline) else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(node.seed ^ rand::random::<u64>());
    while let Ok((channel, data)) = c.recv() {
        if channel != PEX {
            continue;
        }
        match pex::decode(&data) {
            Ok(PexMessage::Request) => {
                let list = match node.kind {
                    CometKind::Oversized => (0..300u32)
                        .map(|i| pb::NetAddress {
                            id: hex::encode(rng.gen::<[u8; 20]>()),
                            ip: "127.0.0.1".into(),
                            port: 1 + i,
                        })
                        .collect(),
                    CometKind::Malformed => {
                        let mut list = get_selection(&node.book, &mut rng);
                        list.push(pb::NetAddress {
                            id: "not-a-node-id".into(),
                            ip: "127.0.0.1".into(),
                            port: 26656,
                        });
                        list
                    }
                    _ => get_selection(&node.book, &mut rng),
                };
                if c.send(PEX, &pex::encode_addrs(list)).is_err() {
                    break;
                }
            }
            // Lists sent to a testnet node are not used.
            Ok(PexMessage::Addrs(_)) => {}
            Err(_) => break,
        }
    }
    c.close();
}

/// What a node that joins with only seed addresses learns (see [`discover_from`]).
#[derive(Clone, Debug, Default)]
pub struct JoinReport {
    /// Every valid address learned, by id.
    pub book: HashMap<CometId, PeerAddr>,
    /// What each seed answered, per seed.
    pub seed_answers: Vec<Result<Vec<PeerAddr>, String>>,
    /// Peers asked (seeds included).
    pub asked: usize,
    /// Peers that answered with addresses.
    pub answered: usize,
}

/// A node that starts with only `seeds`: asks each seed for addresses (PEX), then every
/// address it learns, breadth first, `concurrency` at a time, until nothing new appears,
/// `max_asks` peers were asked or `limit` passed — what a CometBFT node's PEX reactor does
/// after contacting its seeds, done eagerly.
pub async fn discover_from(
    seeds: &[PeerAddr],
    local: LocalNode,
    concurrency: usize,
    max_asks: usize,
    limit: Duration,
) -> JoinReport {
    let settings = VisitSettings {
        connect_timeout: Duration::from_secs(2),
        exchange_timeout: Duration::from_secs(5),
        max_addrs: MAX_GET_SELECTION,
    };
    let local = Arc::new(local);
    let mut report = JoinReport::default();
    let deadline = tokio::time::Instant::now() + limit;
    for seed in seeds {
        report.asked += 1;
        let v = visit(*seed, local.clone(), settings).await;
        let answer = match v.result {
            Ok((_, PexOutcome::Addrs(list))) => pex::validate(&list, MAX_GET_SELECTION)
                .map(|v| v.addrs)
                .map_err(|e| e.to_string()),
            Ok((_, other)) => Err(format!("{other:?}")),
            Err(e) => Err(e.to_string()),
        };
        report.seed_answers.push(answer);
    }
    let mut queue: VecDeque<PeerAddr> = VecDeque::new();
    let seed_ids: HashSet<CometId> = seeds.iter().map(|s| s.id).collect();
    for a in report.seed_answers.iter().flatten().flatten() {
        if report.book.insert(a.id, *a).is_none() {
            queue.push_back(*a);
        }
    }
    let mut jobs = JoinSet::new();
    while (!queue.is_empty() || !jobs.is_empty()) && tokio::time::Instant::now() < deadline {
        while jobs.len() < concurrency && report.asked < max_asks {
            let Some(a) = queue.pop_front() else { break };
            report.asked += 1;
            jobs.spawn(visit(a, local.clone(), settings));
        }
        let Ok(Some(done)) = tokio::time::timeout_at(deadline, jobs.join_next()).await else {
            break;
        };
        let Ok(v) = done else { continue };
        if let Ok((_, PexOutcome::Addrs(list))) = v.result {
            report.answered += 1;
            if let Ok(valid) = pex::validate(&list, MAX_GET_SELECTION) {
                for a in valid.addrs {
                    if a.id != local.id()
                        && !seed_ids.contains(&a.id)
                        && report.book.insert(a.id, a).is_none()
                    {
                        queue.push_back(a);
                    }
                }
            }
        }
        if report.asked >= max_asks && jobs.is_empty() {
            break;
        }
    }
    jobs.abort_all();
    report
}

/// The NodeInfo of a node that joins chain `chain` (for [`discover_from`]); it announces
/// `listen` (or no dialable address).
pub fn joining_node(chain: &str, listen: Option<SocketAddr>) -> LocalNode {
    let mut info = info_of(9999, chain, "0.38.12");
    info.moniker = "joining-node".into();
    info.listen_addr = listen.map_or("0.0.0.0:0".to_string(), |a| a.to_string());
    LocalNode::generate(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_testnet_answers_pex_and_refuses_other_chains() {
        let net = CometTestnet::start(CometTestnetConfig {
            nodes: 12,
            chain_b: 2,
            down: 1,
            abusive: 2,
            degree: 3,
            ..CometTestnetConfig::default()
        })
        .await
        .unwrap();
        let settings = VisitSettings {
            connect_timeout: Duration::from_secs(2),
            exchange_timeout: Duration::from_secs(5),
            max_addrs: MAX_GET_SELECTION,
        };
        let me = Arc::new(joining_node("testchain-a", None));
        let by_kind = |k: CometKind, chain: &str| {
            net.nodes()
                .iter()
                .find(|n| n.kind == k && n.chain_id == chain)
                .unwrap()
                .addr()
        };
        // A normal chain-A node answers with (all of) its small book.
        let v = visit(
            by_kind(CometKind::Normal, "testchain-a"),
            me.clone(),
            settings,
        )
        .await;
        let (info, outcome) = v.result.unwrap();
        assert_eq!(info.network, "testchain-a");
        assert_eq!(info.moniker, "node-0");
        assert!(matches!(outcome, PexOutcome::Addrs(l) if !l.is_empty()));
        // Chain B: NodeInfo read, then refused as another network.
        let v = visit(
            by_kind(CometKind::Normal, "testchain-b"),
            me.clone(),
            settings,
        )
        .await;
        let e = v.result.unwrap_err();
        assert_eq!(e.class(), crate::model::ErrorClass::WrongNetwork);
        assert_eq!(e.node_info().unwrap().network, "testchain-b");
        // Down: refused.
        let v = visit(
            by_kind(CometKind::Down, "testchain-a"),
            me.clone(),
            settings,
        )
        .await;
        assert_eq!(
            v.result.unwrap_err().class(),
            crate::model::ErrorClass::Refused
        );
        // Oversized: 300 > 250 is abuse.
        let v = visit(
            by_kind(CometKind::Oversized, "testchain-a"),
            me.clone(),
            settings,
        )
        .await;
        assert!(matches!(v.result.unwrap().1, PexOutcome::Abuse(_)));
        // Malformed: decodes, fails validation.
        let v = visit(
            by_kind(CometKind::Malformed, "testchain-a"),
            me.clone(),
            settings,
        )
        .await;
        match v.result.unwrap().1 {
            PexOutcome::Addrs(list) => assert!(pex::validate(&list, 250).is_err()),
            other => panic!("{other:?}"),
        }
        // A wrong expected id: the key check bans before NodeInfo.
        let mut wrong = by_kind(CometKind::Normal, "testchain-a");
        wrong.id = CometId([1; 20]);
        let v = visit(wrong, me, settings).await;
        assert_eq!(
            v.result.unwrap_err().class(),
            crate::model::ErrorClass::PeerIdMismatch
        );
    }
}
