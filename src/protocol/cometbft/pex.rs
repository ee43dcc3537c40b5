//! PEX messages (channel `0x00`): `tendermint.p2p.Message` holding a `PexRequest` or a
//! `PexAddrs`, and the validation of the addresses a `PexAddrs` carries.
//!
//! Validation follows CometBFT's reactor and address book:
//! - an entry that does not parse (id not 40 hex characters, IP text that is not an IP,
//!   port above 65535) makes the whole list **malformed**: CometBFT drops it and bans the
//!   sender ([`PexError::Malformed`]);
//! - an entry that parses but cannot be dialed (port 0, an unspecified, multicast or
//!   broadcast IP) is **skipped** and counted ([`Validated::unusable`]);
//! - a list longer than the caller's cap is **oversized** ([`PexError::Oversized`]): no
//!   honest node sends more than 250 (`maxGetSelection`).
//!
//! Whether an address is in the crawl's scope, or is the crawler itself, is the engine's
//! decision.

use std::net::{IpAddr, SocketAddr};

use prost::Message as _;

use super::pb;
use super::pb::message::Sum;
use super::{CometId, PeerAddr};

/// Most addresses an honest node puts in one answer (CometBFT's `maxGetSelection`).
pub const MAX_GET_SELECTION: usize = 250;

/// A decoded PEX message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PexMessage {
    Request,
    Addrs(Vec<pb::NetAddress>),
}

/// Why a PEX message or its list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PexError {
    /// Not a `tendermint.p2p.Message`, or one with neither field set.
    #[error("undecodable PEX message: {0}")]
    Undecodable(String),
    /// More addresses than the cap.
    #[error("{len} addresses, at most {max} accepted")]
    Oversized { len: usize, max: usize },
    /// An entry does not parse; the whole list is refused.
    #[error("address {index}: {reason}")]
    Malformed { index: usize, reason: String },
}

/// Decodes a PEX channel message.
pub fn decode(bytes: &[u8]) -> Result<PexMessage, PexError> {
    let m = pb::Message::decode(bytes).map_err(|e| PexError::Undecodable(e.to_string()))?;
    match m.sum {
        Some(Sum::PexRequest(_)) => Ok(PexMessage::Request),
        Some(Sum::PexAddrs(a)) => Ok(PexMessage::Addrs(a.addrs)),
        None => Err(PexError::Undecodable("no request and no addresses".into())),
    }
}

/// A `PexRequest`, encoded (not framed).
pub fn encode_request() -> Vec<u8> {
    pb::Message {
        sum: Some(Sum::PexRequest(pb::PexRequest {})),
    }
    .encode_to_vec()
}

/// A `PexAddrs` with `addrs`, encoded (not framed).
pub fn encode_addrs(addrs: Vec<pb::NetAddress>) -> Vec<u8> {
    pb::Message {
        sum: Some(Sum::PexAddrs(pb::PexAddrs { addrs })),
    }
    .encode_to_vec()
}

/// The dialable addresses of a list, and how many entries were skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validated {
    pub addrs: Vec<PeerAddr>,
    /// Entries that parsed but cannot be dialed (port 0, unspecified, multicast,
    /// broadcast), with duplicates.
    pub unusable: usize,
}

/// Parses one entry; `Err` is why it is malformed, `Ok(None)` that it cannot be dialed.
fn parse_entry(a: &pb::NetAddress) -> Result<Option<PeerAddr>, String> {
    let id = CometId::parse(&a.id).map_err(|e| e.to_string())?;
    let ip: IpAddr = a.ip.parse().map_err(|_| {
        let mut end = a.ip.len().min(64);
        while !a.ip.is_char_boundary(end) {
            end -= 1;
        }
        format!("{:?} is not an IP address", &a.ip[..end])
    })?;
    let port = u16::try_from(a.port).map_err(|_| format!("port {} is above 65535", a.port))?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let unusable = port == 0
        || ip.is_unspecified()
        || ip.is_multicast()
        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    Ok((!unusable).then_some(PeerAddr {
        id,
        addr: SocketAddr::new(ip, port),
    }))
}

/// Validates a received list of at most `max` entries (see the module doc). Duplicate ids
/// keep their first address.
pub fn validate(addrs: &[pb::NetAddress], max: usize) -> Result<Validated, PexError> {
    if addrs.len() > max {
        return Err(PexError::Oversized {
            len: addrs.len(),
            max,
        });
    }
    let mut out = Validated::default();
    let mut seen = std::collections::HashSet::new();
    for (index, a) in addrs.iter().enumerate() {
        match parse_entry(a) {
            Err(reason) => return Err(PexError::Malformed { index, reason }),
            Ok(None) => out.unusable += 1,
            Ok(Some(p)) => {
                if seen.insert(p.id) {
                    out.addrs.push(p);
                } else {
                    out.unusable += 1;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn na(id: &str, ip: &str, port: u32) -> pb::NetAddress {
        pb::NetAddress {
            id: id.into(),
            ip: ip.into(),
            port,
        }
    }

    const ID: &str = "00112233445566778899aabbccddeeff00112233";
    const ID2: &str = "ffeeddccbbaa99887766554433221100ffeeddcc";

    #[test]
    fn messages_round_trip() {
        assert_eq!(decode(&encode_request()), Ok(PexMessage::Request));
        let list = vec![na(ID, "127.0.0.1", 26656)];
        assert_eq!(
            decode(&encode_addrs(list.clone())),
            Ok(PexMessage::Addrs(list))
        );
        assert!(matches!(decode(&[]), Err(PexError::Undecodable(_))));
        assert!(matches!(
            decode(&[0xff, 0xff]),
            Err(PexError::Undecodable(_))
        ));
    }

    #[test]
    fn lists_are_validated_like_the_reactor_does() {
        let ok = validate(
            &[
                na(ID, "127.0.0.1", 26656),
                na(ID2, "::ffff:127.0.0.2", 1),
                na(ID2, "127.0.0.3", 2),
                na(ID, "0.0.0.0", 5),
                na(ID, "127.0.0.1", 0),
                na(ID, "224.0.0.1", 5),
            ],
            10,
        )
        .unwrap();
        assert_eq!(ok.addrs.len(), 2);
        assert_eq!(ok.addrs[1].addr, "127.0.0.2:1".parse().unwrap());
        // The duplicate id, unspecified, port 0 and multicast entries.
        assert_eq!(ok.unusable, 4);
        assert_eq!(
            validate(&[na(ID, "127.0.0.1", 1), na("xyz", "127.0.0.1", 1)], 10),
            Err(PexError::Malformed {
                index: 1,
                reason: "\"xyz\" is not a node id (40 hex characters)".into()
            })
        );
        assert!(matches!(
            validate(&[na(ID, "localhost", 1)], 10),
            Err(PexError::Malformed { index: 0, .. })
        ));
        assert!(matches!(
            validate(&[na(ID, "127.0.0.1", 70_000)], 10),
            Err(PexError::Malformed { index: 0, .. })
        ));
        let many = vec![na(ID, "127.0.0.1", 1); 11];
        assert_eq!(
            validate(&many, 10),
            Err(PexError::Oversized { len: 11, max: 10 })
        );
    }

    #[test]
    fn fuzz_corpus_pex_replays() {
        for (name, bytes) in crate::fuzz_corpus::seeds("cometbft_pex") {
            let decoded = decode(&bytes);
            if name.starts_with("valid-") {
                let m = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
                if let PexMessage::Addrs(list) = m {
                    validate(&list, MAX_GET_SELECTION).unwrap_or_else(|e| panic!("{name}: {e}"));
                }
            } else if let Ok(PexMessage::Addrs(list)) = decoded {
                assert!(
                    validate(&list, MAX_GET_SELECTION).is_err(),
                    "{name}: an invalid seed validated"
                );
            }
        }
    }
}
