//! What the testnet tells about its nodes, and how it fails: shared by the normal and the
//! hostile nodes.

use std::net::SocketAddr;
use std::str::FromStr;

use serde::Serialize;

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
    /// discv5 address; `None` for peer-exchange-only nodes.
    pub udp: Option<SocketAddr>,
    /// Reachable only through peer exchange (runs no discv5).
    pub px_only: bool,
    /// `eth2` fork digest (hex) of nodes with Ethereum keys.
    pub fork_digest: Option<String>,
    pub waku2: u8,
    pub capabilities: Vec<String>,
    pub cluster_id: u16,
    pub shards: Vec<u16>,
    /// TCP port in the ENR; `None` without libp2p.
    pub tcp: Option<u16>,
    /// False for nodes that advertise TCP but do not listen (`down_fraction`).
    pub up: bool,
    /// identify agent version (empty when not up).
    pub agent: String,
    /// Protocols identify reports, sorted (empty when not up).
    pub protocols: Vec<String>,
    /// The kind of a hostile node (see [`crate::testnet::hostile`]); `None` for normal ones.
    pub hostile: Option<HostileKind>,
}

/// The kinds of hostile node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostileKind {
    /// Accepts TCP, never speaks.
    Silent,
    /// Starts the handshake, then stalls.
    Stall,
    /// Identify larger than sane.
    BigIdentify,
    /// Relay peer flooding gossip with garbage.
    Flood,
    /// ENR key and libp2p key differ.
    WrongKey,
    /// discv5 node answering with junk records.
    JunkEnrs,
    /// discv5 node answering every FINDNODE with fresh validly signed records.
    EndlessEnrs,
}

impl HostileKind {
    /// Every kind, in the order nodes are started.
    pub const ALL: [HostileKind; 7] = [
        HostileKind::Silent,
        HostileKind::Stall,
        HostileKind::BigIdentify,
        HostileKind::Flood,
        HostileKind::WrongKey,
        HostileKind::JunkEnrs,
        HostileKind::EndlessEnrs,
    ];

    /// The name used by `--hostile`.
    pub fn as_str(self) -> &'static str {
        match self {
            HostileKind::Silent => "silent",
            HostileKind::Stall => "stall",
            HostileKind::BigIdentify => "big-identify",
            HostileKind::Flood => "flood",
            HostileKind::WrongKey => "wrong-key",
            HostileKind::JunkEnrs => "junk-enrs",
            HostileKind::EndlessEnrs => "endless-enrs",
        }
    }
}

impl FromStr for HostileKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        HostileKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = HostileKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown hostile kind {s:?} (one of {})", names.join(", "))
            })
    }
}
