//! An in-process network of real discv5 nodes on 127.0.0.1, for demos, tests and benchmarks.
//!
//! Every node binds its own UDP socket on loopback and carries a signed Waku ENR with varied
//! capabilities (`waku2`), clusters and shards (`rs`, or `rsv` for nodes on 64+ shards).
//! Bootstrap is sparse: node *i* knows node *i+1* (a ring, so every node is reachable) and
//! `degree` random others — nobody knows everyone. Assignments come from a seeded RNG so a
//! run is reproducible; node keys are fresh each run.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use discv5::{ConfigBuilder, Discv5, ListenConfig, ProtocolIdentity};
use enr::CombinedKey;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::model::node_id_hex;
use crate::record::{build_waku_enr, DecodedEnr, Enr, Waku2};

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
}

impl Default for TestnetConfig {
    fn default() -> Self {
        TestnetConfig {
            nodes: 64,
            degree: 6,
            seed: 1,
            protocol_id: *b"d5waku",
            bootstrap_count: 1,
        }
    }
}

/// Testnet failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestnetError {
    /// A setting is out of range.
    #[error("invalid testnet setting: {0}")]
    Config(String),
    /// A node could not start.
    #[error("node {index}: {reason}")]
    Node { index: usize, reason: String },
}

/// What the testnet assigned to one node (the JSON form printed by `peerscope testnet --json`).
#[derive(Clone, Debug, Serialize)]
pub struct NodeInfo {
    pub index: usize,
    pub node_id: String,
    pub peer_id: String,
    pub enr: String,
    pub udp: SocketAddr,
    pub waku2: u8,
    pub capabilities: Vec<String>,
    pub cluster_id: u16,
    pub shards: Vec<u16>,
}

struct Node {
    discv5: Discv5,
    info: NodeInfo,
}

/// A running test network. Dropping it (or calling [`Testnet::shutdown`]) stops every node.
pub struct Testnet {
    nodes: Vec<Node>,
    bootstrap: Vec<String>,
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
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut nodes = Vec::with_capacity(config.nodes);
        for index in 0..config.nodes {
            let err = |reason: String| TestnetError::Node { index, reason };
            let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(|e| err(e.to_string()))?;
            let udp = socket.local_addr().map_err(|e| err(e.to_string()))?;
            let key = CombinedKey::generate_secp256k1();
            let (caps, cluster, shards) = assign(&mut rng, index);
            let enr = build_waku_enr(
                &key,
                Ipv4Addr::LOCALHOST,
                udp.port(),
                None,
                caps,
                cluster,
                &shards,
                &[],
            )
            .map_err(|e| err(e.to_string()))?;
            let listen = ListenConfig::FromSockets {
                ipv4: Some(Arc::new(socket)),
                ipv6: None,
            };
            let cfg = ConfigBuilder::new(listen)
                .protocol_identity(ProtocolIdentity {
                    protocol_id: config.protocol_id,
                    protocol_version: 1u16.to_be_bytes(),
                })
                .session_cache_capacity(4096)
                .build();
            let mut discv5 = Discv5::new(enr.clone(), key, cfg).map_err(|e| err(e.to_string()))?;
            discv5.start().await.map_err(|e| err(e.to_string()))?;
            let decoded = DecodedEnr::from_enr(&enr);
            let info = NodeInfo {
                index,
                node_id: node_id_hex(&decoded.node_id),
                peer_id: decoded.peer_id.clone().unwrap_or_default(),
                enr: decoded.text.clone(),
                udp,
                waku2: caps.0,
                capabilities: caps.names().iter().map(|s| s.to_string()).collect(),
                cluster_id: cluster,
                shards,
            };
            nodes.push(Node { discv5, info });
        }
        let n = nodes.len();
        let enrs: Vec<Enr> = nodes.iter().map(|n| n.discv5.local_enr()).collect();
        for (i, node) in nodes.iter().enumerate() {
            let mut neighbours = vec![(i + 1) % n];
            for _ in 0..config.degree.min(n.saturating_sub(1)) {
                neighbours.push(rng.gen_range(0..n));
            }
            for j in neighbours {
                if j != i {
                    // A full bucket refuses further entries; that is how real tables look.
                    let _ = node.discv5.add_enr(enrs[j].clone());
                }
            }
        }
        let bootstrap = nodes
            .iter()
            .take(config.bootstrap_count)
            .map(|n| n.info.enr.clone())
            .collect();
        Ok(Testnet { nodes, bootstrap })
    }

    /// The bootstrap records (`enr:` text).
    pub fn bootstrap_enrs(&self) -> &[String] {
        &self.bootstrap
    }

    /// What every node was assigned, in index order.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        self.nodes.iter().map(|n| n.info.clone()).collect()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True for a network with no nodes (never, once started).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of routing-table entries per node (connected or not), in index order.
    pub fn table_sizes(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .map(|n| n.discv5.table_entries_id().len())
            .collect()
    }

    /// Direct access to node `index`'s discv5 instance (tests use it to shape tables).
    pub fn discv5(&self, index: usize) -> Option<&Discv5> {
        self.nodes.get(index).map(|n| &n.discv5)
    }

    /// Stops every node.
    pub fn shutdown(&mut self) {
        for n in &mut self.nodes {
            n.discv5.shutdown();
        }
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How long `peerscope testnet` waits between status lines.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(30);
