//! `NodeInfo` (`tendermint.p2p.DefaultNodeInfo`): what each side sends right after the
//! SecretConnection handshake, its validity rules and the compatibility check CometBFT
//! applies before it keeps a peer.
//!
//! [`NodeInfo`] is the form peerscope stores: every field, with texts cut to
//! [`MAX_TEXT`] bytes (the wire limit of the whole message is 10,240 bytes).

use serde::{Deserialize, Serialize};

use super::{pb, CometId, PEX_CHANNEL};

/// Longest text field kept, in bytes (cut at a character boundary).
pub const MAX_TEXT: usize = 256;
/// Most channels a valid `NodeInfo` lists (CometBFT's `maxNumChannels`).
pub const MAX_CHANNELS: usize = 16;

/// The CometBFT P2P protocol version of v0.34..v1.0.
pub const P2P_PROTOCOL: u64 = 8;
/// The block protocol version of v0.34..v1.0.
pub const BLOCK_PROTOCOL: u64 = 11;

/// A node's self-description.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeInfo {
    /// `protocol_version.p2p`.
    pub p2p_version: u64,
    /// `protocol_version.block`.
    pub block_version: u64,
    /// `protocol_version.app`.
    pub app_version: u64,
    /// `default_node_id`: the id the node claims (checked against its key).
    pub node_id: String,
    /// `listen_addr`: where it says it listens (`host:port`, sometimes `tcp://…`).
    pub listen_addr: String,
    /// `network`: the chain id.
    pub network: String,
    /// `version`: the software version, e.g. `0.38.12`.
    pub version: String,
    /// `channels`: the reactor channels it speaks (`0x00` = PEX).
    pub channels: Vec<u8>,
    /// `moniker`: the operator's name for it.
    pub moniker: String,
    /// `other.tx_index`: `on`, `off` or empty.
    pub tx_index: String,
    /// `other.rpc_address`.
    pub rpc_address: String,
}

/// Why a `NodeInfo` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeInfoError {
    /// It breaks CometBFT's validity rules.
    #[error("invalid NodeInfo: {0}")]
    Invalid(String),
    /// `default_node_id` is not the id of the key that authenticated the connection.
    #[error("NodeInfo id {claimed} is not the connection's key id {authenticated}")]
    IdMismatch {
        claimed: String,
        authenticated: CometId,
    },
    /// Another chain.
    #[error("peer is on network {theirs:?}, not {ours:?}")]
    WrongNetwork { theirs: String, ours: String },
    /// Another block protocol version.
    #[error("peer is on block protocol {theirs}, not {ours}")]
    BlockVersion { theirs: u64, ours: u64 },
    /// No channel in common.
    #[error("peer has no channel in common (it lists {0:?})")]
    NoCommonChannel(Vec<u8>),
}

fn cut(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Printable ASCII (CometBFT's `IsASCIIText`: bytes 32..=126).
fn ascii_text(s: &str) -> bool {
    s.bytes().all(|b| (32..=126).contains(&b))
}

impl NodeInfo {
    /// The stored form of a received `NodeInfo`, with texts cut to [`MAX_TEXT`] bytes and
    /// at most [`MAX_CHANNELS`] * 2 channels kept.
    pub fn from_proto(p: &pb::DefaultNodeInfo) -> NodeInfo {
        let v = p.protocol_version.unwrap_or_default();
        let other = p.other.clone().unwrap_or_default();
        NodeInfo {
            p2p_version: v.p2p,
            block_version: v.block,
            app_version: v.app,
            node_id: cut(&p.default_node_id),
            listen_addr: cut(&p.listen_addr),
            network: cut(&p.network),
            version: cut(&p.version),
            channels: p.channels.iter().copied().take(MAX_CHANNELS * 2).collect(),
            moniker: cut(&p.moniker),
            tx_index: cut(&other.tx_index),
            rpc_address: cut(&other.rpc_address),
        }
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::DefaultNodeInfo {
        pb::DefaultNodeInfo {
            protocol_version: Some(pb::ProtocolVersion {
                p2p: self.p2p_version,
                block: self.block_version,
                app: self.app_version,
            }),
            default_node_id: self.node_id.clone(),
            listen_addr: self.listen_addr.clone(),
            network: self.network.clone(),
            version: self.version.clone(),
            channels: self.channels.clone(),
            moniker: self.moniker.clone(),
            other: Some(pb::DefaultNodeInfoOther {
                tx_index: self.tx_index.clone(),
                rpc_address: self.rpc_address.clone(),
            }),
        }
    }

    /// CometBFT's `DefaultNodeInfo.Validate` on the received message: the id and listen
    /// address form a valid address, texts are printable ASCII, the moniker is not blank,
    /// channels are few and distinct, `tx_index` is `on`, `off` or empty.
    pub fn validate(p: &pb::DefaultNodeInfo) -> Result<(), NodeInfoError> {
        let bad = |s: String| Err(NodeInfoError::Invalid(s));
        if CometId::parse(&p.default_node_id).is_err() {
            return bad(format!(
                "default_node_id {:?} is not 40 hex characters",
                cut(&p.default_node_id)
            ));
        }
        let listen = p
            .listen_addr
            .strip_prefix("tcp://")
            .unwrap_or(&p.listen_addr);
        if listen
            .rsplit_once(':')
            .is_none_or(|(h, port)| h.is_empty() || port.parse::<u16>().is_err())
        {
            return bad(format!(
                "listen_addr {:?} is not host:port",
                cut(&p.listen_addr)
            ));
        }
        if !p.version.is_empty() && (!ascii_text(&p.version) || p.version.trim().is_empty()) {
            return bad("version is not printable ASCII".into());
        }
        if p.channels.len() > MAX_CHANNELS {
            return bad(format!(
                "{} channels, at most {MAX_CHANNELS}",
                p.channels.len()
            ));
        }
        let mut seen = [false; 256];
        for c in &p.channels {
            if std::mem::replace(&mut seen[*c as usize], true) {
                return bad(format!("channel {c:#04x} listed twice"));
            }
        }
        if !ascii_text(&p.moniker) || p.moniker.trim().is_empty() {
            return bad("moniker is empty or not printable ASCII".into());
        }
        let other = p.other.clone().unwrap_or_default();
        if !matches!(other.tx_index.as_str(), "" | "on" | "off") {
            return bad(format!(
                "other.tx_index {:?} is not on, off or empty",
                cut(&other.tx_index)
            ));
        }
        if !other.rpc_address.is_empty()
            && (!ascii_text(&other.rpc_address) || other.rpc_address.trim().is_empty())
        {
            return bad("other.rpc_address is not printable ASCII".into());
        }
        Ok(())
    }

    /// Whether a peer with this `NodeInfo`, authenticated as `key_id`, can be kept by a node
    /// described by `ours`: the claimed id is the key's, then CometBFT's `CompatibleWith`
    /// (same block protocol, same network, a channel in common). The id is checked first:
    /// an impostor's other claims mean nothing.
    pub fn check_peer(&self, key_id: CometId, ours: &NodeInfo) -> Result<(), NodeInfoError> {
        if CometId::parse(&self.node_id).ok() != Some(key_id) {
            return Err(NodeInfoError::IdMismatch {
                claimed: self.node_id.clone(),
                authenticated: key_id,
            });
        }
        if self.block_version != ours.block_version {
            return Err(NodeInfoError::BlockVersion {
                theirs: self.block_version,
                ours: ours.block_version,
            });
        }
        if self.network != ours.network {
            return Err(NodeInfoError::WrongNetwork {
                theirs: self.network.clone(),
                ours: ours.network.clone(),
            });
        }
        if !ours.channels.is_empty() && !self.channels.iter().any(|c| ours.channels.contains(c)) {
            return Err(NodeInfoError::NoCommonChannel(self.channels.clone()));
        }
        Ok(())
    }

    /// Whether the node speaks PEX.
    pub fn has_pex(&self) -> bool {
        self.channels.contains(&PEX_CHANNEL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: &str) -> pb::DefaultNodeInfo {
        NodeInfo {
            p2p_version: P2P_PROTOCOL,
            block_version: BLOCK_PROTOCOL,
            app_version: 0,
            node_id: id.into(),
            listen_addr: "tcp://127.0.0.1:26656".into(),
            network: "chain-a".into(),
            version: "0.38.12".into(),
            channels: vec![0x00, 0x20, 0x21],
            moniker: "node-1".into(),
            tx_index: "on".into(),
            rpc_address: "tcp://127.0.0.1:26657".into(),
        }
        .to_proto()
    }

    const ID: &str = "00112233445566778899aabbccddeeff00112233";

    /// A change that makes a NodeInfo invalid.
    type Change = Box<dyn Fn(&mut pb::DefaultNodeInfo)>;

    #[test]
    fn a_sane_node_info_validates_and_round_trips() {
        let p = sample(ID);
        NodeInfo::validate(&p).unwrap();
        let info = NodeInfo::from_proto(&p);
        assert_eq!(info.to_proto(), p);
        assert!(info.has_pex());
        let ours = info.clone();
        info.check_peer(CometId::parse(ID).unwrap(), &ours).unwrap();
    }

    #[test]
    fn validity_rules_reject_what_cometbft_rejects() {
        let cases: Vec<(&str, Change)> = vec![
            ("id", Box::new(|p| p.default_node_id = "xyz".into())),
            ("listen", Box::new(|p| p.listen_addr = "nowhere".into())),
            ("moniker", Box::new(|p| p.moniker = "  ".into())),
            ("moniker tab", Box::new(|p| p.moniker = "a\tb".into())),
            ("channels", Box::new(|p| p.channels = vec![1; 2])),
            (
                "many channels",
                Box::new(|p| p.channels = (0..17).collect()),
            ),
            (
                "tx_index",
                Box::new(|p| p.other.as_mut().unwrap().tx_index = "maybe".into()),
            ),
            ("version", Box::new(|p| p.version = "\u{7f}".into())),
        ];
        for (what, change) in cases {
            let mut p = sample(ID);
            change(&mut p);
            assert!(
                matches!(NodeInfo::validate(&p), Err(NodeInfoError::Invalid(_))),
                "{what}"
            );
        }
    }

    #[test]
    fn peers_of_another_chain_or_key_are_told_apart() {
        let ours = NodeInfo::from_proto(&sample(ID));
        let key = CometId::parse(ID).unwrap();
        let mut other = ours.clone();
        other.network = "chain-b".into();
        assert!(matches!(
            other.check_peer(key, &ours),
            Err(NodeInfoError::WrongNetwork { .. })
        ));
        let impostor = CometId([9; 20]);
        assert!(matches!(
            ours.check_peer(impostor, &ours),
            Err(NodeInfoError::IdMismatch { .. })
        ));
        let mut old = ours.clone();
        old.block_version = 10;
        assert!(matches!(
            old.check_peer(key, &ours),
            Err(NodeInfoError::BlockVersion {
                theirs: 10,
                ours: 11
            })
        ));
        let mut mute = ours.clone();
        mute.channels = vec![0x40];
        assert!(matches!(
            mute.check_peer(key, &ours),
            Err(NodeInfoError::NoCommonChannel(_))
        ));
    }

    #[test]
    fn long_texts_are_cut_for_storage() {
        let mut p = sample(ID);
        p.moniker = "é".repeat(300);
        let info = NodeInfo::from_proto(&p);
        assert!(info.moniker.len() <= MAX_TEXT);
        assert!(info.moniker.chars().all(|c| c == 'é'));
    }
}
