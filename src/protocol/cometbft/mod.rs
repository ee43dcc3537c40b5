//! CometBFT / Tendermint P2P wire facts, with no sockets: node ids and `id@host:port`
//! addresses, MConnection packet framing (`packet`), the PEX messages and the validation of
//! the addresses they carry (`pex`), and `NodeInfo` (`node_info`).
//!
//! The message types are `tendermint-proto`'s (re-exported as [`pb`]); the engine drives
//! them over `tendermint-p2p`'s SecretConnection. Everything here reads from any
//! [`std::io::Read`] and bounds what it allocates, so the fuzz targets and the unit tests
//! call exactly what the crawler calls.
//!
//! - **Node id**: lowercase hex of the first 20 bytes of SHA-256 of the Ed25519 public key
//!   ([`CometId`]). peerscope stores a CometBFT peer under a 32-byte node id: the 20 id bytes
//!   followed by 12 zero bytes ([`CometId::to_node_id`]).
//! - **Address**: `id@ip:port` ([`PeerAddr`]); only IP literals are accepted (no names to
//!   resolve).

pub mod node_info;
pub mod packet;
pub mod pex;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `tendermint.p2p` protobuf types (CometBFT v0.38 line; the P2P messages are the same in
/// v0.34 and v0.37).
pub use tendermint_proto::v0_38::p2p as pb;

/// The PEX channel.
pub const PEX_CHANNEL: u8 = 0x00;

/// Bytes of a node id.
pub const ID_LEN: usize = 20;

/// A CometBFT node id: the first 20 bytes of SHA-256 of the node's Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CometId(pub [u8; ID_LEN]);

/// Why an id or address text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrError {
    /// The id is not 40 hex characters.
    #[error("{0:?} is not a node id (40 hex characters)")]
    BadId(String),
    /// No `@` between id and host.
    #[error("{0:?} is not id@ip:port")]
    NoAt(String),
    /// The host part is not an IP literal with a port.
    #[error("{0:?} is not ip:port (IP literals only; IPv6 in brackets)")]
    BadHost(String),
    /// Port 0 cannot be dialed.
    #[error("port 0 cannot be dialed")]
    ZeroPort,
}

/// At most this many bytes of a rejected text are quoted back.
const QUOTE: usize = 64;

fn quoted(text: &str) -> String {
    let mut end = text.len().min(QUOTE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

impl CometId {
    /// Parses 40 hex characters (either case).
    pub fn parse(text: &str) -> Result<CometId, AddrError> {
        if text.len() != 2 * ID_LEN {
            return Err(AddrError::BadId(quoted(text)));
        }
        let bytes = hex::decode(text).map_err(|_| AddrError::BadId(quoted(text)))?;
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&bytes);
        Ok(CometId(id))
    }

    /// The 32-byte node id peerscope stores the peer under: the id and 12 zero bytes.
    pub fn to_node_id(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[..ID_LEN].copy_from_slice(&self.0);
        out
    }

    /// The CometBFT id inside a stored node id, if it is one (12 zero bytes at the end).
    pub fn from_node_id(node: &[u8; 32]) -> Option<CometId> {
        if node[ID_LEN..].iter().any(|b| *b != 0) {
            return None;
        }
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&node[..ID_LEN]);
        Some(CometId(id))
    }

    /// The id of a node from its raw Ed25519 public key bytes (what the testnet and tests
    /// use to name keys they generate; a connection's key is checked with
    /// `tendermint-p2p`'s own `PublicKey::peer_id`).
    pub fn from_ed25519(public_key: &[u8; 32]) -> CometId {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(public_key);
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&digest[..ID_LEN]);
        CometId(id)
    }
}

impl fmt::Display for CometId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for CometId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CometId({self})")
    }
}

impl FromStr for CometId {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CometId::parse(s)
    }
}

/// A dialable CometBFT address: `id@ip:port`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeerAddr {
    pub id: CometId,
    pub addr: SocketAddr,
}

impl PeerAddr {
    /// Parses `id@ip:port` (IPv6 as `[ip]:port`). Port 0 is refused.
    pub fn parse(text: &str) -> Result<PeerAddr, AddrError> {
        let (id, host) = text
            .split_once('@')
            .ok_or_else(|| AddrError::NoAt(quoted(text)))?;
        let id = CometId::parse(id)?;
        let addr: SocketAddr = host.parse().map_err(|_| AddrError::BadHost(quoted(host)))?;
        if addr.port() == 0 {
            return Err(AddrError::ZeroPort);
        }
        Ok(PeerAddr { id, addr })
    }

    /// The address as a PEX `NetAddress`.
    pub fn to_proto(&self) -> pb::NetAddress {
        pb::NetAddress {
            id: self.id.to_string(),
            ip: self.addr.ip().to_string(),
            port: u32::from(self.addr.port()),
        }
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.addr)
    }
}

impl fmt::Debug for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for PeerAddr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PeerAddr::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_addresses_parse_and_print_back() {
        let text = "2a2c87e3a2bd0e1d2b0c6ad9c2b0a1e5d9f1e7c0@127.0.0.1:26656";
        let a = PeerAddr::parse(text).unwrap();
        assert_eq!(a.to_string(), text);
        assert_eq!(a.addr.port(), 26656);
        // Upper case is accepted and printed lower case.
        let upper = text.to_uppercase();
        assert_eq!(PeerAddr::parse(&upper).unwrap(), a);
        let v6 = "2a2c87e3a2bd0e1d2b0c6ad9c2b0a1e5d9f1e7c0@[::1]:1";
        assert_eq!(PeerAddr::parse(v6).unwrap().to_string(), v6);
        let node = a.id.to_node_id();
        assert_eq!(CometId::from_node_id(&node), Some(a.id));
        assert_eq!(CometId::from_node_id(&[1u8; 32]), None);
    }

    #[test]
    fn malformed_addresses_say_what_is_wrong() {
        let id = "2a2c87e3a2bd0e1d2b0c6ad9c2b0a1e5d9f1e7c0";
        assert!(matches!(
            PeerAddr::parse("127.0.0.1:1"),
            Err(AddrError::NoAt(_))
        ));
        assert!(matches!(
            PeerAddr::parse(&format!("{}@127.0.0.1:1", &id[1..])),
            Err(AddrError::BadId(_))
        ));
        assert!(matches!(
            PeerAddr::parse(&format!("{}zz@127.0.0.1:1", &id[2..])),
            Err(AddrError::BadId(_))
        ));
        assert!(matches!(
            PeerAddr::parse(&format!("{id}@example.org:1")),
            Err(AddrError::BadHost(_))
        ));
        assert!(matches!(
            PeerAddr::parse(&format!("{id}@127.0.0.1:0")),
            Err(AddrError::ZeroPort)
        ));
        // A long rejected text is quoted shortened.
        let long = "x".repeat(1000);
        match PeerAddr::parse(&format!("{long}@1")) {
            Err(AddrError::BadId(q)) => assert_eq!(q.len(), 64),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_id_is_the_sha256_prefix_of_the_key() {
        // The key and id pair of CometBFT's `p2p/key_test.go`-style derivation, checked
        // against sha256 computed independently.
        let key = [7u8; 32];
        use sha2::Digest;
        let d = sha2::Sha256::digest(key);
        assert_eq!(CometId::from_ed25519(&key).0, d[..20]);
    }
}
