//! Ethereum Node Records (ENR, EIP-778): parsing, validation and decoding of
//! the keys peerscope cares about.
//!
//! Parsing ([`parse_enr`]) accepts the textual `enr:<base64url>` form (and
//! [`decode_enr_rlp`] the raw RLP bytes peer exchange carries), verifies
//! the record signature and rejects anything that is not a well-formed `v4`
//! record of at most [`MAX_ENR_SIZE`] bytes. [`DecodedEnr::from_enr`] then
//! extracts everything below into a plain, serializable struct. It never
//! fails: a known key whose value is malformed is skipped and reported as one
//! line in [`DecodedEnr::issues`], and the remaining keys are still decoded.
//!
//! # Keys
//!
//! Standard keys (validated by the `enr` crate while decoding):
//! `id` (must be `v4`), `secp256k1` / `ed25519` (public key), `ip`, `tcp`,
//! `udp`, `ip6`, `tcp6`, `udp6`.
//!
//! Waku keys (RFC 31 "WAKU2-ENR" and RFC 51 "WAKU2-RELAY-SHARDING"):
//!
//! * `waku2`: one byte of capability flags, see [`Waku2`]. Like nwaku, any
//!   length other than exactly one byte is rejected.
//! * `rs`: relay shards as an index list,
//!   `u16_be cluster || u8 n || n × u16_be shard`, see [`decode_rs`].
//! * `rsv`: relay shards as a bit vector, `u16_be cluster || 128 bytes`, see
//!   [`decode_rsv`]. The RFC describes the vector loosely ("the right-most bit
//!   represents shard 0"); this module follows what nwaku actually writes
//!   (`vec[shard div 8].setBit(shard mod 8)`): shard `s` is bit `s % 8`,
//!   counted from the least significant bit, of byte `s / 8` — the same bit
//!   order as an SSZ `Bitvector`.
//! * `multiaddrs`: a sequence of `u16_be length || binary multiaddr` entries,
//!   see [`decode_multiaddrs`].
//!
//! When a record carries both `rs` and `rsv`, `rs` wins and `rsv` is only used
//! if `rs` is absent or malformed, matching nwaku's `relaySharding` accessor.
//!
//! Ethereum consensus keys (consensus-specs, phase 0 / Altair p2p interface):
//!
//! * `eth2`: SSZ `ENRForkID` (16 bytes), see [`decode_eth2`].
//! * `attnets`: SSZ `Bitvector[64]` (8 bytes) of attestation subnets.
//! * `syncnets`: SSZ `Bitvector[4]` (1 byte) of sync committee subnets.
//!
//! Ethereum execution clients publish `eth` (an RLP list holding the EIP-2124
//! fork id); only its presence is recorded ([`DecodedEnr::has_eth`]).
//!
//! Apart from `eth`, custom key values are stored as RLP byte strings, the
//! convention every client uses; a value that is an RLP list where a byte
//! string is expected is reported as malformed.
//!
//! The encoders ([`encode_rs`], [`encode_rsv`], [`encode_multiaddrs`]) and
//! [`build_waku_enr`] produce records that nwaku reads back unchanged.

use std::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
    str::FromStr,
};

use alloy_rlp::Bytes;
use enr::CombinedKey;
use libp2p::{identity, multiaddr::Protocol, Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

/// An ENR signed with either a secp256k1 or an ed25519 key.
pub type Enr = enr::Enr<CombinedKey>;

/// Maximum size of an encoded record in bytes (EIP-778).
pub const MAX_ENR_SIZE: usize = 300;

/// Maximum length of the base64 part of a record's text form: unpadded
/// base64 of [`MAX_ENR_SIZE`] bytes.
const MAX_ENR_BASE64_LEN: usize = (MAX_ENR_SIZE * 4).div_ceil(3);

/// Highest relay shard index a Waku record may advertise.
pub const MAX_SHARD_INDEX: u16 = 1023;

/// From this many shards on, [`build_waku_enr`] writes `rsv` instead of `rs`
/// (nwaku's `ShardingIndicesListMaxLength`).
pub const RS_MAX_LIST_LEN: usize = 64;

/// Size of the `rsv` bit vector in bytes (1024 shards).
const RSV_VECTOR_LEN: usize = 128;

/// ENR key of the Waku capability bitfield.
pub const KEY_WAKU2: &str = "waku2";
/// ENR key of the Waku relay shard index list.
pub const KEY_RS: &str = "rs";
/// ENR key of the Waku relay shard bit vector.
pub const KEY_RSV: &str = "rsv";
/// ENR key of the Waku multiaddr list.
pub const KEY_MULTIADDRS: &str = "multiaddrs";
/// ENR key of the Ethereum fork id.
pub const KEY_ETH2: &str = "eth2";
/// ENR key of the Ethereum execution-layer fork id (EIP-2124).
pub const KEY_ETH: &str = "eth";
/// ENR key of the Ethereum attestation subnet bit vector.
pub const KEY_ATTNETS: &str = "attnets";
/// ENR key of the Ethereum sync committee subnet bit vector.
pub const KEY_SYNCNETS: &str = "syncnets";
/// ENR key of a secp256k1 public key.
pub const KEY_SECP256K1: &str = "secp256k1";
/// ENR key of an ed25519 public key.
pub const KEY_ED25519: &str = "ed25519";

/// Errors produced while parsing, decoding or building records.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// The record text could not be turned into a valid record: bad base64,
    /// bad RLP, unsupported identity scheme or key type, oversize, trailing
    /// data or a signature that does not verify. The message carries the
    /// `enr` crate's reason where there is one.
    #[error("invalid ENR: {0}")]
    InvalidEnr(String),
    /// A known key is present but its value is malformed.
    #[error("ENR key `{key}`: {reason}")]
    Key {
        /// The ENR key, e.g. `"rs"`.
        key: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
    /// A Waku capability name is not one of `relay`, `store`, `filter`,
    /// `lightpush`, `sync` or `mix`.
    #[error(
        "unknown Waku capability `{0}` (expected relay, store, filter, lightpush, sync or mix)"
    )]
    UnknownCapability(String),
    /// A shard passed to [`build_waku_enr`] is above [`MAX_SHARD_INDEX`].
    #[error("ENR keys `rs`/`rsv`: shard {shard} exceeds the maximum index 1023")]
    ShardOutOfRange {
        /// The offending shard index.
        shard: u16,
    },
    /// The `enr` crate refused to build or sign the record (for example
    /// because it would exceed [`MAX_ENR_SIZE`] bytes).
    #[error("cannot build ENR: {0}")]
    Build(String),
}

impl RecordError {
    fn key(key: &'static str, reason: impl Into<String>) -> Self {
        Self::Key {
            key,
            reason: reason.into(),
        }
    }

    /// One line suitable for [`DecodedEnr::issues`]: `"<key>: <reason>"` for
    /// key errors, the display form otherwise.
    pub fn issue_line(&self) -> String {
        match self {
            Self::Key { key, reason } => format!("{key}: {reason}"),
            other => other.to_string(),
        }
    }
}

/// Parses the text form of a record (`enr:<base64url>`; the prefix is
/// optional and surrounding whitespace is ignored) and verifies its
/// signature.
///
/// Never panics. Text longer than the encoding of a [`MAX_ENR_SIZE`]-byte
/// record is rejected before any decoding, and so is a record followed by
/// trailing bytes.
pub fn parse_enr(text: &str) -> Result<Enr, RecordError> {
    let text = text.trim();
    let body = text.strip_prefix("enr:").unwrap_or(text);
    // Tolerate (non-canonical) base64 padding.
    let body = body.trim_end_matches('=');
    if body.is_empty() {
        return Err(RecordError::InvalidEnr("empty record text".into()));
    }
    if body.len() > MAX_ENR_BASE64_LEN {
        return Err(RecordError::InvalidEnr(format!(
            "text has {} base64 characters, a record of at most {MAX_ENR_SIZE} bytes has at most \
             {MAX_ENR_BASE64_LEN}",
            body.len()
        )));
    }
    if let Some(c) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(RecordError::InvalidEnr(format!(
            "character {c:?} is not in the base64url alphabet"
        )));
    }
    let enr = Enr::from_str(body).map_err(RecordError::InvalidEnr)?;
    // The decoder ignores anything after the outer RLP list; unpadded base64
    // of `len` characters carries exactly `len * 6 / 8` bytes.
    let decoded_len = body.len() * 6 / 8;
    let record_len = enr.size();
    if record_len != decoded_len {
        return Err(RecordError::InvalidEnr(format!(
            "text decodes to {decoded_len} bytes but the record is {record_len} bytes \
             (trailing data)"
        )));
    }
    // The `enr` crate verifies on decode; checked again so that this function
    // does not depend on that implementation detail.
    if !enr.verify() {
        return Err(RecordError::InvalidEnr("signature does not verify".into()));
    }
    Ok(enr)
}

/// Decodes a record from its RLP bytes (the form peer exchange carries) and
/// verifies its signature.
///
/// Never panics. Input longer than [`MAX_ENR_SIZE`] is rejected before any
/// decoding, and so is a record followed by trailing bytes.
pub fn decode_enr_rlp(bytes: &[u8]) -> Result<Enr, RecordError> {
    use alloy_rlp::Decodable;
    if bytes.len() > MAX_ENR_SIZE {
        return Err(RecordError::InvalidEnr(format!(
            "{} bytes, a record has at most {MAX_ENR_SIZE}",
            bytes.len()
        )));
    }
    let mut rest = bytes;
    let enr = Enr::decode(&mut rest).map_err(|e| RecordError::InvalidEnr(e.to_string()))?;
    if !rest.is_empty() {
        return Err(RecordError::InvalidEnr(format!(
            "{} bytes after the record (trailing data)",
            rest.len()
        )));
    }
    if !enr.verify() {
        return Err(RecordError::InvalidEnr("signature does not verify".into()));
    }
    Ok(enr)
}

/// Derives the libp2p [`PeerId`] from the record's public key: secp256k1 keys
/// give `16Uiu2HAm…` ids, ed25519 keys give `12D3KooW…` ids.
///
/// Reads the key straight from the record content, so it never panics even on
/// a record without a usable key.
pub fn peer_id_of(enr: &Enr) -> Result<PeerId, RecordError> {
    let public = if let Some(raw) = enr_bytes(enr, KEY_SECP256K1) {
        let raw = raw?;
        identity::secp256k1::PublicKey::try_from_bytes(&raw)
            .map(identity::PublicKey::from)
            .map_err(|e| RecordError::key(KEY_SECP256K1, e.to_string()))?
    } else if let Some(raw) = enr_bytes(enr, KEY_ED25519) {
        let raw = raw?;
        identity::ed25519::PublicKey::try_from_bytes(&raw)
            .map(identity::PublicKey::from)
            .map_err(|e| RecordError::key(KEY_ED25519, e.to_string()))?
    } else {
        return Err(RecordError::InvalidEnr(
            "record has neither a secp256k1 nor an ed25519 public key".into(),
        ));
    };
    Ok(PeerId::from_public_key(&public))
}

/// Whether `text` is a libp2p peer id in its text form (`16Uiu2HAm…`, `12D3KooW…`).
/// Base58 decoding is quadratic in the length: callers bound the length first.
pub fn is_peer_id(text: &str) -> bool {
    text.parse::<PeerId>().is_ok()
}

/// Waku capability bitfield (`waku2` key). Bit 0 (least significant) is
/// relay, then store, filter, lightpush, sync and mix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Waku2(pub u8);

impl Waku2 {
    /// Relay (bit 0).
    pub const RELAY: u8 = 1;
    /// Store (bit 1).
    pub const STORE: u8 = 1 << 1;
    /// Filter (bit 2).
    pub const FILTER: u8 = 1 << 2;
    /// Light push (bit 3).
    pub const LIGHTPUSH: u8 = 1 << 3;
    /// Store sync (bit 4).
    pub const SYNC: u8 = 1 << 4;
    /// Mix (bit 5).
    pub const MIX: u8 = 1 << 5;

    /// Every defined capability with its name, in bit order.
    const CAPABILITIES: [(u8, &'static str); 6] = [
        (Self::RELAY, "relay"),
        (Self::STORE, "store"),
        (Self::FILTER, "filter"),
        (Self::LIGHTPUSH, "lightpush"),
        (Self::SYNC, "sync"),
        (Self::MIX, "mix"),
    ];

    /// Names of the defined capabilities whose bit is set, in bit order.
    /// Undefined bits (6 and 7) are not listed.
    pub fn names(&self) -> Vec<&'static str> {
        Self::CAPABILITIES
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|&(_, name)| name)
            .collect()
    }

    /// Whether every bit of `bits` (one or more of the associated constants)
    /// is set.
    pub fn has(&self, bits: u8) -> bool {
        self.0 & bits == bits
    }

    /// Builds a bitfield from capability names (see [`capability_bit`]).
    pub fn from_names<I, S>(names: I) -> Result<Self, RecordError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names.into_iter().try_fold(Self(0), |acc, name| {
            let name = name.as_ref();
            capability_bit(name)
                .map(|bit| Self(acc.0 | bit))
                .ok_or_else(|| RecordError::UnknownCapability(name.to_owned()))
        })
    }
}

/// The [`Waku2`] bit (one of its associated constants) of a capability name
/// (`relay`, `store`, `filter`, `lightpush`, `sync`, `mix`); case-insensitive,
/// surrounding whitespace ignored.
pub fn capability_bit(name: &str) -> Option<u8> {
    let name = name.trim();
    Waku2::CAPABILITIES
        .iter()
        .find(|(_, known)| known.eq_ignore_ascii_case(name))
        .map(|&(bit, _)| bit)
}

impl fmt::Display for Waku2 {
    /// Comma-separated capability names, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join(","))
        }
    }
}

/// Which key a [`Shards`] value was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardEncoding {
    /// The `rs` index list.
    Rs,
    /// The `rsv` bit vector.
    Rsv,
}

/// Waku relay shards advertised by a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shards {
    /// Cluster id.
    pub cluster: u16,
    /// Shard indices, sorted ascending and deduplicated.
    pub shards: Vec<u16>,
    /// The key the shards were read from.
    pub encoding: ShardEncoding,
    /// The key's value bytes, without the RLP header.
    pub raw: Vec<u8>,
}

/// Ethereum consensus fork id (`eth2` key, SSZ `ENRForkID`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eth2 {
    /// Digest of the current fork version and genesis validators root.
    pub fork_digest: [u8; 4],
    /// Version of the next scheduled fork (the current one if none is).
    pub next_fork_version: [u8; 4],
    /// Epoch of the next scheduled fork (`u64::MAX` if none is).
    pub next_fork_epoch: u64,
}

/// Everything peerscope reads out of one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecodedEnr {
    /// Canonical text form (`enr:…`).
    pub text: String,
    /// Node id (keccak256 of the uncompressed public key for secp256k1).
    pub node_id: [u8; 32],
    /// libp2p peer id (base58), `None` if the public key cannot be mapped to
    /// a libp2p key.
    pub peer_id: Option<String>,
    /// Sequence number.
    pub seq: u64,
    /// IPv4 address (`ip`).
    pub ip4: Option<Ipv4Addr>,
    /// IPv4 TCP port (`tcp`).
    pub tcp4: Option<u16>,
    /// IPv4 UDP port (`udp`).
    pub udp4: Option<u16>,
    /// IPv6 address (`ip6`).
    pub ip6: Option<Ipv6Addr>,
    /// IPv6 TCP port (`tcp6`).
    pub tcp6: Option<u16>,
    /// IPv6 UDP port (`udp6`).
    pub udp6: Option<u16>,
    /// Waku capabilities (`waku2`).
    pub waku2: Option<Waku2>,
    /// Waku multiaddrs (`multiaddrs`) in text form.
    pub multiaddrs: Vec<String>,
    /// Waku relay shards, from `rs`, or from `rsv` when `rs` is absent or
    /// malformed.
    pub shards: Option<Shards>,
    /// Ethereum fork id (`eth2`).
    pub eth2: Option<Eth2>,
    /// Ethereum attestation subnets (`attnets`), raw 8 bytes.
    pub attnets: Option<Vec<u8>>,
    /// Ethereum sync committee subnets (`syncnets`), raw 1 byte.
    pub syncnets: Option<Vec<u8>>,
    /// Whether the record carries an `eth` key (execution-layer fork id,
    /// EIP-2124), the mark of an Ethereum execution client. Its value is not
    /// decoded.
    #[serde(default)]
    pub has_eth: bool,
    /// One line per known key that was present but malformed, e.g.
    /// `"rs: length 4 is not 3 + 2n for n = 2"`.
    pub issues: Vec<String>,
}

impl DecodedEnr {
    /// Decodes every known key of `enr`. Never fails and never panics:
    /// malformed values are left out and described in
    /// [`issues`](Self::issues).
    pub fn from_enr(enr: &Enr) -> DecodedEnr {
        let mut issues = Vec::new();

        let peer_id = match peer_id_of(enr) {
            Ok(peer_id) => Some(peer_id.to_string()),
            Err(e) => {
                issues.push(e.issue_line());
                None
            }
        };
        let waku2 = decode_key(enr, KEY_WAKU2, decode_waku2, &mut issues);
        let multiaddrs = decode_key(enr, KEY_MULTIADDRS, decode_multiaddrs, &mut issues)
            .map(|addrs| addrs.iter().map(Multiaddr::to_string).collect())
            .unwrap_or_default();
        // Both are decoded so that a malformed `rsv` is reported even when
        // `rs` is used.
        let rs = decode_key(enr, KEY_RS, decode_rs, &mut issues);
        let rsv = decode_key(enr, KEY_RSV, decode_rsv, &mut issues);
        let eth2 = decode_key(enr, KEY_ETH2, decode_eth2, &mut issues);
        let attnets = decode_key(enr, KEY_ATTNETS, decode_attnets, &mut issues);
        let syncnets = decode_key(enr, KEY_SYNCNETS, decode_syncnets, &mut issues);

        DecodedEnr {
            text: enr.to_base64(),
            node_id: enr.node_id().raw(),
            peer_id,
            seq: enr.seq(),
            ip4: enr.ip4(),
            tcp4: enr.tcp4(),
            udp4: enr.udp4(),
            ip6: enr.ip6(),
            tcp6: enr.tcp6(),
            udp6: enr.udp6(),
            waku2,
            multiaddrs,
            shards: rs.or(rsv),
            eth2,
            attnets,
            syncnets,
            has_eth: enr.get_raw_rlp(KEY_ETH).is_some(),
            issues,
        }
    }

    /// Attestation subnet ids set in [`attnets`](Self::attnets), ascending.
    pub fn attnet_ids(&self) -> Vec<u8> {
        subnet_ids(self.attnets.as_deref())
    }

    /// Sync committee subnet ids set in [`syncnets`](Self::syncnets),
    /// ascending.
    pub fn syncnet_ids(&self) -> Vec<u8> {
        subnet_ids(self.syncnets.as_deref())
    }

    /// The node id as 64 lowercase hex digits.
    pub fn node_id_hex(&self) -> String {
        hex::encode(self.node_id)
    }
}

fn subnet_ids(bytes: Option<&[u8]>) -> Vec<u8> {
    bytes
        .map(bitvector_ids)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|id| u8::try_from(id).ok())
        .collect()
}

/// The value of `key` as an RLP byte string, if present.
fn enr_bytes(enr: &Enr, key: &'static str) -> Option<Result<Bytes, RecordError>> {
    enr.get_decodable::<Bytes>(key).map(|value| {
        value.map_err(|e| RecordError::key(key, format!("value is not an RLP byte string: {e}")))
    })
}

/// Decodes `key` with `decode` if present, recording a failure in `issues`.
fn decode_key<T>(
    enr: &Enr,
    key: &'static str,
    decode: impl FnOnce(&[u8]) -> Result<T, RecordError>,
    issues: &mut Vec<String>,
) -> Option<T> {
    match enr_bytes(enr, key)?.and_then(|value| decode(&value)) {
        Ok(decoded) => Some(decoded),
        Err(e) => {
            issues.push(e.issue_line());
            None
        }
    }
}

/// Decodes a `waku2` value: exactly one byte (nwaku rejects anything else).
pub fn decode_waku2(value: &[u8]) -> Result<Waku2, RecordError> {
    match value {
        [flags] => Ok(Waku2(*flags)),
        _ => Err(RecordError::key(
            KEY_WAKU2,
            format!("length {} is not 1", value.len()),
        )),
    }
}

/// Decodes an `rs` value: `u16_be cluster || u8 n || n × u16_be shard`.
///
/// The length must be exactly `3 + 2n` and every shard at most
/// [`MAX_SHARD_INDEX`].
pub fn decode_rs(value: &[u8]) -> Result<Shards, RecordError> {
    let [c0, c1, n, list @ ..] = value else {
        return Err(RecordError::key(
            KEY_RS,
            format!("length {} is shorter than the 3-byte header", value.len()),
        ));
    };
    let n = usize::from(*n);
    if list.len() != 2 * n {
        return Err(RecordError::key(
            KEY_RS,
            format!("length {} is not 3 + 2n for n = {n}", value.len()),
        ));
    }
    let mut shards = Vec::with_capacity(n);
    for pair in list.chunks_exact(2) {
        let shard = u16::from_be_bytes([pair[0], pair[1]]);
        if shard > MAX_SHARD_INDEX {
            return Err(RecordError::key(
                KEY_RS,
                format!("shard {shard} exceeds the maximum index {MAX_SHARD_INDEX}"),
            ));
        }
        shards.push(shard);
    }
    shards.sort_unstable();
    shards.dedup();
    Ok(Shards {
        cluster: u16::from_be_bytes([*c0, *c1]),
        shards,
        encoding: ShardEncoding::Rs,
        raw: value.to_vec(),
    })
}

/// Decodes an `rsv` value: `u16_be cluster || 128-byte bit vector`, shard `s`
/// being bit `s % 8` (from the least significant bit) of byte `s / 8`.
pub fn decode_rsv(value: &[u8]) -> Result<Shards, RecordError> {
    match value {
        [c0, c1, vector @ ..] if vector.len() == RSV_VECTOR_LEN => Ok(Shards {
            cluster: u16::from_be_bytes([*c0, *c1]),
            shards: bitvector_ids(vector),
            encoding: ShardEncoding::Rsv,
            raw: value.to_vec(),
        }),
        _ => Err(RecordError::key(
            KEY_RSV,
            format!(
                "length {} is not {} (2-byte cluster + {RSV_VECTOR_LEN}-byte bit vector)",
                value.len(),
                2 + RSV_VECTOR_LEN
            ),
        )),
    }
}

/// Decodes a `multiaddrs` value: a sequence of `u16_be length || binary
/// multiaddr` entries.
///
/// A zero length or an entry running past the end of the value is an error.
/// Entries that are not valid multiaddrs are skipped, as nwaku does. An
/// address ending in `/p2p/<relay id>` is a circuit relay address whose
/// `/p2p-circuit` suffix was left out to save space; the suffix is restored.
pub fn decode_multiaddrs(value: &[u8]) -> Result<Vec<Multiaddr>, RecordError> {
    let mut addrs = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let offset = value.len() - rest.len();
        let [hi, lo, tail @ ..] = rest else {
            return Err(RecordError::key(
                KEY_MULTIADDRS,
                format!("truncated length prefix at offset {offset}"),
            ));
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if len == 0 {
            return Err(RecordError::key(
                KEY_MULTIADDRS,
                format!("zero-length entry at offset {offset}"),
            ));
        }
        if tail.len() < len {
            return Err(RecordError::key(
                KEY_MULTIADDRS,
                format!(
                    "entry at offset {offset} declares {len} bytes but only {} remain",
                    tail.len()
                ),
            ));
        }
        let (entry, next) = tail.split_at(len);
        if let Ok(addr) = Multiaddr::try_from(entry.to_vec()) {
            addrs.push(restore_circuit(addr));
        }
        rest = next;
    }
    Ok(addrs)
}

fn restore_circuit(addr: Multiaddr) -> Multiaddr {
    if matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
        addr.with(Protocol::P2pCircuit)
    } else {
        addr
    }
}

/// Decodes an `eth2` value: SSZ `ENRForkID`, i.e. `fork_digest (4) ||
/// next_fork_version (4) || next_fork_epoch (u64 little-endian)`.
pub fn decode_eth2(value: &[u8]) -> Result<Eth2, RecordError> {
    let [d0, d1, d2, d3, v0, v1, v2, v3, epoch @ ..] = value else {
        return Err(eth2_length_error(value));
    };
    let epoch = <[u8; 8]>::try_from(epoch).map_err(|_| eth2_length_error(value))?;
    Ok(Eth2 {
        fork_digest: [*d0, *d1, *d2, *d3],
        next_fork_version: [*v0, *v1, *v2, *v3],
        next_fork_epoch: u64::from_le_bytes(epoch),
    })
}

fn eth2_length_error(value: &[u8]) -> RecordError {
    RecordError::key(KEY_ETH2, format!("length {} is not 16", value.len()))
}

/// Decodes an `attnets` value: SSZ `Bitvector[64]`, exactly 8 bytes.
pub fn decode_attnets(value: &[u8]) -> Result<Vec<u8>, RecordError> {
    if value.len() == 8 {
        Ok(value.to_vec())
    } else {
        Err(RecordError::key(
            KEY_ATTNETS,
            format!("length {} is not 8", value.len()),
        ))
    }
}

/// Decodes a `syncnets` value: SSZ `Bitvector[4]`, exactly 1 byte whose four
/// high bits are clear.
pub fn decode_syncnets(value: &[u8]) -> Result<Vec<u8>, RecordError> {
    match value {
        [bits] if bits & 0xf0 == 0 => Ok(value.to_vec()),
        [bits] => Err(RecordError::key(
            KEY_SYNCNETS,
            format!("bits above subnet 3 are set ({bits:#04x})"),
        )),
        _ => Err(RecordError::key(
            KEY_SYNCNETS,
            format!("length {} is not 1", value.len()),
        )),
    }
}

/// Indices of the set bits of an SSZ bit vector, ascending: bit `i` is bit
/// `i % 8` (from the least significant bit) of byte `i / 8`. Bytes beyond
/// index 65535 are ignored.
pub fn bitvector_ids(bytes: &[u8]) -> Vec<u16> {
    bytes
        .iter()
        .enumerate()
        .flat_map(|(index, byte)| {
            (0..8)
                .filter(move |bit| byte & (1 << bit) != 0)
                .map(move |bit| index * 8 + bit)
        })
        .map_while(|id| u16::try_from(id).ok())
        .collect()
}

/// Sorted, deduplicated copy of `shards`.
fn canonical_shards(shards: &[u16]) -> Vec<u16> {
    let mut shards = shards.to_vec();
    shards.sort_unstable();
    shards.dedup();
    shards
}

/// Encodes an `rs` value. Shards are sorted and deduplicated; an index list
/// holds at most 255 shards, so only the 255 lowest are written (use
/// [`encode_rsv`] for more).
pub fn encode_rs(cluster: u16, shards: &[u16]) -> Vec<u8> {
    let shards = canonical_shards(shards);
    let shards = &shards[..shards.len().min(usize::from(u8::MAX))];
    let mut out = Vec::with_capacity(3 + 2 * shards.len());
    out.extend_from_slice(&cluster.to_be_bytes());
    // At most 255 after the truncation above.
    out.push(u8::try_from(shards.len()).unwrap_or(u8::MAX));
    for shard in shards {
        out.extend_from_slice(&shard.to_be_bytes());
    }
    out
}

/// Encodes an `rsv` value (see [`decode_rsv`] for the bit order). Shards
/// above [`MAX_SHARD_INDEX`] cannot be represented and are ignored.
pub fn encode_rsv(cluster: u16, shards: &[u16]) -> Vec<u8> {
    let mut out = vec![0; 2 + RSV_VECTOR_LEN];
    out[..2].copy_from_slice(&cluster.to_be_bytes());
    for &shard in shards {
        let shard = usize::from(shard);
        if let Some(byte) = out.get_mut(2 + shard / 8) {
            *byte |= 1 << (shard % 8);
        }
    }
    out
}

/// Encodes a `multiaddrs` value.
///
/// A trailing `/p2p-circuit` is dropped ([`decode_multiaddrs`] restores it).
/// Empty addresses and addresses longer than 65535 bytes cannot be encoded
/// and are skipped.
pub fn encode_multiaddrs(addrs: &[Multiaddr]) -> Vec<u8> {
    let mut out = Vec::new();
    for addr in addrs {
        let mut addr = addr.clone();
        if matches!(addr.iter().last(), Some(Protocol::P2pCircuit)) {
            addr.pop();
        }
        let bytes = addr.to_vec();
        match u16::try_from(bytes.len()) {
            Ok(len) if len > 0 => {
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&bytes);
            }
            _ => {}
        }
    }
    out
}

/// Builds and signs a Waku record: identity scheme `v4` with `key` (nwaku
/// uses secp256k1), `ip` + `udp` (+ `tcp`), `waku2` = `caps`, the relay
/// shards when `shards` is non-empty (`rs`, or `rsv` from
/// [`RS_MAX_LIST_LEN`] distinct shards on, as nwaku does) and `multiaddrs`
/// when non-empty.
///
/// Fails if a shard exceeds [`MAX_SHARD_INDEX`] or the record would exceed
/// [`MAX_ENR_SIZE`] bytes.
#[allow(clippy::too_many_arguments)]
pub fn build_waku_enr(
    key: &CombinedKey,
    ip: Ipv4Addr,
    udp: u16,
    tcp: Option<u16>,
    caps: Waku2,
    cluster: u16,
    shards: &[u16],
    multiaddrs: &[Multiaddr],
) -> Result<Enr, RecordError> {
    if let Some(&shard) = shards.iter().find(|&&shard| shard > MAX_SHARD_INDEX) {
        return Err(RecordError::ShardOutOfRange { shard });
    }
    let shards = canonical_shards(shards);

    let mut builder = Enr::builder();
    builder.ip4(ip).udp4(udp);
    if let Some(tcp) = tcp {
        builder.tcp4(tcp);
    }
    builder.add_value(KEY_WAKU2, &Bytes::from(vec![caps.0]));
    if shards.len() >= RS_MAX_LIST_LEN {
        builder.add_value(KEY_RSV, &Bytes::from(encode_rsv(cluster, &shards)));
    } else if !shards.is_empty() {
        builder.add_value(KEY_RS, &Bytes::from(encode_rs(cluster, &shards)));
    }
    if !multiaddrs.is_empty() {
        builder.add_value(KEY_MULTIADDRS, &Bytes::from(encode_multiaddrs(multiaddrs)));
    }
    builder.build(key).map_err(|e| {
        RecordError::Build(match e {
            enr::Error::ExceedsMaxSize => format!("record exceeds {MAX_ENR_SIZE} bytes"),
            enr::Error::InvalidRlpData(rlp) => format!("invalid RLP data: {rlp}"),
            other => other.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// nwaku's ENR test vector (status.prod store node).
    const NWAKU_VECTOR: &str = "enr:-QEMuEAs8JmmyUI3b9v_ADqYtELHUYAsAMS21lA2BMtrzF86tVmyy9cCrhmzfHGHx_g3nybn7jIRybzXTGNj3C2KzrriAYJpZIJ2NIJpcISf3_Jeim11bHRpYWRkcnO4XAArNiZzdG9yZS0wMS5kby1hbXMzLnN0YXR1cy5wcm9kLnN0YXR1cy5pbQZ2XwAtNiZzdG9yZS0wMS5kby1hbXMzLnN0YXR1cy5wcm9kLnN0YXR1cy5pbQYBu94DgnJzjQAQBQABACAAQACAAQCJc2VjcDI1NmsxoQLfoaQH3oSYW59yxEBfeAZbltmUnC4BzYkHqer2VQMTyoN0Y3CCdl-DdWRwgiMohXdha3UyAw";

    /// The Waku Network (sandbox) bootstrap node.
    const TWN_VECTOR: &str = "enr:-QESuED0qW1BCmF-oH_ARGPr97Nv767bl_43uoy70vrbah3EaCAdK3Q0iRQ6wkSTTpdrg_dU_NC2ydO8leSlRpBX4pxiAYJpZIJ2NIJpcIRA4VDAim11bHRpYWRkcnO4XAArNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwAtNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQOTd-h5owwj-cx7xrmbvQKU8CV3Fomfdvcv1MBc-67T5oN0Y3CCdl-DdWRwgiMohXdha3UyDw";

    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// Unpadded base64url encoding (the ENR text alphabet).
    fn b64_encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(char::from(B64[(n >> (18 - 6 * i)) as usize & 63]));
            }
        }
        out
    }

    fn b64_decode(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in text.bytes() {
            let v = B64.iter().position(|&x| x == c).expect("base64url") as u32;
            acc = acc << 6 | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }

    fn record_bytes(text: &str) -> Vec<u8> {
        b64_decode(text.strip_prefix("enr:").expect("prefix"))
    }

    fn secp_key(seed: u8) -> CombinedKey {
        CombinedKey::secp256k1_from_bytes(&mut [seed; 32]).expect("valid secret key")
    }

    fn ma(text: &str) -> Multiaddr {
        text.parse().expect("valid multiaddr")
    }

    /// Builds a signed record with arbitrary custom values.
    fn custom_enr(values: &[(&str, Vec<u8>)]) -> Enr {
        let mut builder = Enr::builder();
        builder.ip4(Ipv4Addr::new(10, 0, 0, 1)).udp4(9000);
        for (key, value) in values {
            builder.add_value(key, &Bytes::from(value.clone()));
        }
        builder.build(&secp_key(7)).expect("build")
    }

    fn assert_secp_peer_id(enr: &Enr, decoded: &DecodedEnr) {
        let peer_id = peer_id_of(enr).expect("peer id");
        assert!(peer_id.to_string().starts_with("16Uiu2HAm"), "{peer_id}");
        assert_eq!(
            decoded.peer_id.as_deref(),
            Some(peer_id.to_string().as_str())
        );
        // The identity multihash embeds the protobuf public key: it must be the
        // record's compressed secp256k1 key.
        let public = identity::PublicKey::try_decode_protobuf(peer_id.as_ref().digest())
            .expect("inline key");
        let secp = public.try_into_secp256k1().expect("secp256k1 key");
        let raw = enr
            .get_decodable::<Bytes>(KEY_SECP256K1)
            .expect("key")
            .expect("bytes");
        assert_eq!(secp.to_bytes().as_slice(), raw.as_ref());
    }

    #[test]
    fn nwaku_vector() {
        let enr = parse_enr(NWAKU_VECTOR).expect("valid vector");
        let decoded = DecodedEnr::from_enr(&enr);
        assert_eq!(decoded.text, NWAKU_VECTOR);
        assert_eq!(decoded.seq, 1);
        assert_eq!(decoded.ip4, Some(Ipv4Addr::new(159, 223, 242, 94)));
        assert_eq!(decoded.tcp4, Some(30303));
        assert_eq!(decoded.udp4, Some(9000));
        assert_eq!(decoded.ip6, None);
        assert_eq!(
            decoded.multiaddrs,
            [
                "/dns4/store-01.do-ams3.status.prod.status.im/tcp/30303",
                "/dns4/store-01.do-ams3.status.prod.status.im/tcp/443/wss",
            ]
        );
        let shards = decoded.shards.as_ref().expect("rs");
        assert_eq!(shards.cluster, 16);
        assert_eq!(shards.shards, [1, 32, 64, 128, 256]);
        assert_eq!(shards.encoding, ShardEncoding::Rs);
        assert_eq!(shards.raw, encode_rs(16, &[1, 32, 64, 128, 256]));
        assert_eq!(decoded.waku2, Some(Waku2(0x03)));
        assert_eq!(decoded.waku2.expect("waku2").names(), ["relay", "store"]);
        let raw_key = enr
            .get_decodable::<Bytes>(KEY_SECP256K1)
            .expect("key")
            .expect("bytes");
        assert_eq!(
            hex::encode(raw_key),
            "02dfa1a407de84985b9f72c4405f78065b96d9949c2e01cd8907a9eaf6550313ca"
        );
        assert_secp_peer_id(&enr, &decoded);
        assert_eq!(decoded.node_id, enr.node_id().raw());
        assert_eq!(decoded.node_id_hex(), hex::encode(enr.node_id().raw()));
        assert!(decoded.eth2.is_none() && decoded.attnets.is_none());
        assert!(decoded.issues.is_empty(), "{:?}", decoded.issues);
    }

    #[test]
    fn twn_bootstrap_vector() {
        let enr = parse_enr(TWN_VECTOR).expect("valid vector");
        let decoded = DecodedEnr::from_enr(&enr);
        assert_eq!(decoded.text, TWN_VECTOR);
        assert_eq!(decoded.seq, 1);
        assert_eq!(decoded.ip4, Some(Ipv4Addr::new(64, 225, 80, 192)));
        assert_eq!(decoded.tcp4, Some(30303));
        assert_eq!(decoded.udp4, Some(9000));
        assert_eq!(
            decoded.multiaddrs,
            [
                "/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/30303",
                "/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/8000/wss",
            ]
        );
        let shards = decoded.shards.as_ref().expect("rs");
        assert_eq!(shards.cluster, 1);
        assert_eq!(shards.shards, (0..=7).collect::<Vec<u16>>());
        assert_eq!(decoded.waku2, Some(Waku2(0x0f)));
        assert_eq!(
            decoded.waku2.expect("waku2").names(),
            ["relay", "store", "filter", "lightpush"]
        );
        assert_secp_peer_id(&enr, &decoded);
        assert!(decoded.issues.is_empty(), "{:?}", decoded.issues);
    }

    #[test]
    fn parse_accepts_prefixless_and_whitespace() {
        let bare = NWAKU_VECTOR.strip_prefix("enr:").expect("prefix");
        let expected = parse_enr(NWAKU_VECTOR).expect("valid");
        assert_eq!(parse_enr(bare).expect("no prefix"), expected);
        assert_eq!(
            parse_enr(&format!("  \n{NWAKU_VECTOR}\t ")).expect("whitespace"),
            expected
        );
    }

    #[test]
    fn parse_rejects_malformed_text() {
        let truncated = &NWAKU_VECTOR[..NWAKU_VECTOR.len() - 10];
        let oversize = format!("enr:{}", "A".repeat(MAX_ENR_BASE64_LEN + 1));
        let huge = "x".repeat(10 << 20);
        let cases = [
            "",
            "   ",
            "enr:",
            "enr",
            "enr:A",
            "enr:AAAA",
            "enr:!!!!not base64!!!!",
            "enr:-QEMuEAs8JmmyUI3b9v_ADqYtELHUYAsAMS21lA2BMtrz",
            "enr:3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            truncated,
            oversize.as_str(),
            huge.as_str(),
        ];
        for case in cases {
            let err = parse_enr(case).expect_err(&case[..case.len().min(40)]);
            assert!(matches!(err, RecordError::InvalidEnr(_)), "{err:?}");
        }
        let doubled = format!("enr:{NWAKU_VECTOR}");
        let err = parse_enr(&doubled).expect_err("double prefix");
        assert!(err.to_string().contains("base64url alphabet"), "{err}");
        let err = parse_enr(&oversize).expect_err("oversize");
        assert!(err.to_string().contains("base64 characters"), "{err}");
    }

    #[test]
    fn parse_rejects_trailing_bytes() {
        let mut bytes = record_bytes(NWAKU_VECTOR);
        bytes.extend_from_slice(&[0xc0, 0x00, 0x01]);
        let err = parse_enr(&format!("enr:{}", b64_encode(&bytes))).expect_err("trailing");
        assert!(err.to_string().contains("trailing"), "{err}");
    }

    #[test]
    fn parse_rejects_bad_signature() {
        let enr = build_waku_enr(
            &secp_key(1),
            Ipv4Addr::new(10, 1, 2, 3),
            9000,
            Some(60000),
            Waku2(Waku2::RELAY),
            1,
            &[0],
            &[],
        )
        .expect("build");
        let mut bytes = alloy_rlp::encode(&enr);
        // Sanity check: the untouched bytes round-trip.
        assert_eq!(parse_enr(&b64_encode(&bytes)).expect("valid"), enr);
        // Flip the waku2 value (single-byte RLP string 0x01 right after the
        // key) to 0x03: still well-formed RLP, but the content changed.
        let key = b"\x85waku2";
        let at = bytes
            .windows(key.len())
            .position(|w| w == key)
            .expect("waku2 key")
            + key.len();
        assert_eq!(bytes[at], 0x01);
        bytes[at] = 0x03;
        let err = parse_enr(&format!("enr:{}", b64_encode(&bytes))).expect_err("tampered");
        assert!(err.to_string().contains("Invalid Signature"), "{err}");

        // A flipped signature byte is rejected as well.
        let mut bytes = record_bytes(TWN_VECTOR);
        bytes[10] ^= 0x01;
        assert!(parse_enr(&b64_encode(&bytes)).is_err());
    }

    #[test]
    fn parse_never_panics_on_random_input() {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let valid = record_bytes(NWAKU_VECTOR);
        for round in 0..3000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                let len = rng.gen_range(0..320);
                (0..len).map(|_| rng.gen()).collect()
            } else {
                // Mutations of a valid record exercise deeper decoding paths.
                let mut bytes = valid.clone();
                for _ in 0..rng.gen_range(1..4) {
                    let i = rng.gen_range(0..bytes.len());
                    bytes[i] = rng.gen();
                }
                bytes.truncate(rng.gen_range(1..=bytes.len()));
                bytes
            };
            if let Ok(enr) = parse_enr(&b64_encode(&bytes)) {
                let _ = DecodedEnr::from_enr(&enr);
            }
            let text: String = (0..rng.gen_range(0..500))
                .map(|_| char::from(B64[rng.gen_range(0..64)]))
                .collect();
            let _ = parse_enr(&text);
        }
    }

    #[test]
    fn field_decoders_never_panic_on_random_input() {
        let mut rng = StdRng::seed_from_u64(42);
        for _ in 0..5000 {
            let len = rng.gen_range(0..200);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let _ = decode_waku2(&bytes);
            let _ = decode_rs(&bytes);
            let _ = decode_rsv(&bytes);
            let _ = decode_multiaddrs(&bytes);
            let _ = decode_eth2(&bytes);
            let _ = decode_attnets(&bytes);
            let _ = decode_syncnets(&bytes);
            let _ = bitvector_ids(&bytes);
        }
    }

    #[test]
    fn rs_and_rsv_vectors() {
        let rs = decode_rs(&[0, 73, 2, 0, 1, 0, 10]).expect("rs");
        assert_eq!((rs.cluster, rs.shards.as_slice()), (73, &[1, 10][..]));
        assert_eq!(rs.encoding, ShardEncoding::Rs);
        assert_eq!(rs.raw, [0, 73, 2, 0, 1, 0, 10]);

        let mut rsv_bytes = vec![0, 73, 2, 4];
        rsv_bytes.extend_from_slice(&[0; 126]);
        let rsv = decode_rsv(&rsv_bytes).expect("rsv");
        assert_eq!((rsv.cluster, rsv.shards.as_slice()), (73, &[1, 10][..]));
        assert_eq!(rsv.encoding, ShardEncoding::Rsv);
        assert_eq!(rsv.raw, rsv_bytes);

        assert_eq!(encode_rs(73, &[10, 1, 10]), [0, 73, 2, 0, 1, 0, 10]);
        assert_eq!(encode_rsv(73, &[1, 10]), rsv_bytes);
    }

    #[test]
    fn rs_rejects_malformed() {
        for bad in [&[][..], &[0, 1], &[0, 1, 2, 0, 1], &[0, 1, 1, 0, 1, 0]] {
            let err = decode_rs(bad).expect_err("bad length");
            assert!(matches!(err, RecordError::Key { key: "rs", .. }), "{err:?}");
        }
        let err = decode_rs(&[0, 1, 2, 0]).expect_err("bad length");
        assert_eq!(err.issue_line(), "rs: length 4 is not 3 + 2n for n = 2");
        let err = decode_rs(&[0, 1, 1, 0x04, 0x00]).expect_err("shard 1024");
        assert!(err.to_string().contains("1024"), "{err}");
        assert_eq!(
            decode_rs(&[0, 1, 1, 0x03, 0xff]).expect("1023").shards,
            [1023]
        );
        // Zero shards is well-formed.
        assert!(decode_rs(&[0, 1, 0]).expect("empty").shards.is_empty());
    }

    #[test]
    fn rs_sorts_and_deduplicates() {
        let shards = decode_rs(&[0, 5, 3, 0, 9, 0, 2, 0, 9]).expect("rs");
        assert_eq!(shards.shards, [2, 9]);
    }

    #[test]
    fn rsv_rejects_wrong_length() {
        for len in [0, 2, 129, 131] {
            let err = decode_rsv(&vec![0; len]).expect_err("bad length");
            assert!(
                matches!(err, RecordError::Key { key: "rsv", .. }),
                "{err:?}"
            );
        }
        let all = decode_rsv(&[[0u8, 1].as_slice(), &[0xff; 128]].concat()).expect("all");
        assert_eq!(all.shards, (0..=1023).collect::<Vec<u16>>());
    }

    #[test]
    fn waku2_decoding_and_names() {
        assert_eq!(decode_waku2(&[0x3f]).expect("one byte"), Waku2(0x3f));
        for bad in [&[][..], &[1, 2]] {
            let err = decode_waku2(bad).expect_err("bad length");
            assert!(
                matches!(err, RecordError::Key { key: "waku2", .. }),
                "{err:?}"
            );
        }
        let all = Waku2(0xff);
        assert_eq!(
            all.names(),
            ["relay", "store", "filter", "lightpush", "sync", "mix"]
        );
        assert_eq!(Waku2(Waku2::STORE | Waku2::MIX).names(), ["store", "mix"]);
        assert!(Waku2(0).names().is_empty());
        assert_eq!(Waku2(0).to_string(), "none");
        assert_eq!(Waku2(0x03).to_string(), "relay,store");
        assert!(Waku2(0x0f).has(Waku2::FILTER | Waku2::LIGHTPUSH));
        assert!(!Waku2(0x0f).has(Waku2::SYNC));

        assert_eq!(capability_bit("LightPush"), Some(Waku2::LIGHTPUSH));
        assert_eq!(capability_bit(" mix "), Some(Waku2::MIX));
        assert_eq!(capability_bit("gossip"), None);
        assert_eq!(
            Waku2::from_names(["relay", "sync"]).expect("names"),
            Waku2(Waku2::RELAY | Waku2::SYNC)
        );
        assert_eq!(
            Waku2::from_names(Vec::<String>::new()).expect("empty"),
            Waku2(0)
        );
        assert_eq!(
            Waku2::from_names(["relay", "bogus"]),
            Err(RecordError::UnknownCapability("bogus".into()))
        );
    }

    #[test]
    fn multiaddrs_decoding() {
        let addrs = [
            ma("/ip4/1.2.3.4/tcp/30303"),
            ma("/dns4/example.org/tcp/443/wss"),
        ];
        let encoded = encode_multiaddrs(&addrs);
        assert_eq!(decode_multiaddrs(&encoded).expect("valid"), addrs);
        assert!(decode_multiaddrs(&[]).expect("empty").is_empty());

        // Zero length, truncated length prefix, truncated entry.
        for bad in [&[0u8, 0][..], &[0], &[0, 5, 4, 1, 2]] {
            let err = decode_multiaddrs(bad).expect_err("malformed");
            assert!(
                matches!(
                    err,
                    RecordError::Key {
                        key: "multiaddrs",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        let mut trailing = encoded.clone();
        trailing.push(0);
        assert!(decode_multiaddrs(&trailing).is_err());

        // An entry that is not a valid multiaddr is skipped.
        let mut with_garbage = vec![0, 3, 0xff, 0xff, 0xff];
        with_garbage.extend_from_slice(&encoded);
        assert_eq!(decode_multiaddrs(&with_garbage).expect("skips"), addrs);
    }

    #[test]
    fn multiaddrs_circuit_relay() {
        let relay_id = PeerId::from_public_key(&identity::Keypair::generate_secp256k1().public());
        let bare = format!("/ip4/1.2.3.4/tcp/60000/p2p/{relay_id}");
        let circuit = format!("{bare}/p2p-circuit");
        // The encoder leaves the suffix out, the decoder restores it.
        assert_eq!(
            encode_multiaddrs(&[ma(&circuit)]),
            encode_multiaddrs(&[ma(&bare)])
        );
        for input in [&bare, &circuit] {
            let decoded = decode_multiaddrs(&encode_multiaddrs(&[ma(input)])).expect("valid");
            assert_eq!(decoded, [ma(&circuit)]);
        }
    }

    #[test]
    fn eth2_vector() {
        let value = hex::decode("f5a5fd4200000000ffffffffffffffff").expect("hex");
        let eth2 = decode_eth2(&value).expect("eth2");
        assert_eq!(eth2.fork_digest, [0xf5, 0xa5, 0xfd, 0x42]);
        assert_eq!(eth2.next_fork_version, [0; 4]);
        assert_eq!(eth2.next_fork_epoch, u64::MAX);

        let mut le = value.clone();
        le[8..].copy_from_slice(&0x0102u64.to_le_bytes());
        assert_eq!(decode_eth2(&le).expect("eth2").next_fork_epoch, 0x0102);

        for len in [0, 8, 15, 17] {
            let err = decode_eth2(&vec![0; len]).expect_err("bad length");
            assert_eq!(err.issue_line(), format!("eth2: length {len} is not 16"));
        }
    }

    #[test]
    fn bitvector_order() {
        assert!(bitvector_ids(&[]).is_empty());
        assert_eq!(bitvector_ids(&[0x01]), [0]);
        assert_eq!(bitvector_ids(&[0x80]), [7]);
        assert_eq!(bitvector_ids(&[0x05, 0x00, 0x81]), [0, 2, 16, 23]);
        assert_eq!(bitvector_ids(&[0xff; 8]).len(), 64);
        // Ids that do not fit in u16 are dropped rather than wrapped.
        assert_eq!(bitvector_ids(&vec![0xff; 9000]).len(), 65536);
    }

    #[test]
    fn ethereum_record_round_trip() {
        let eth2 = hex::decode("f5a5fd4200000000ffffffffffffffff").expect("hex");
        let attnets = vec![0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80];
        let enr = custom_enr(&[
            ("eth2", eth2),
            ("attnets", attnets.clone()),
            ("syncnets", vec![0x0a]),
        ]);
        let parsed = parse_enr(&enr.to_base64()).expect("parse");
        let decoded = DecodedEnr::from_enr(&parsed);
        assert!(decoded.issues.is_empty(), "{:?}", decoded.issues);
        let fork = decoded.eth2.as_ref().expect("eth2");
        assert_eq!(fork.fork_digest, [0xf5, 0xa5, 0xfd, 0x42]);
        assert_eq!(fork.next_fork_epoch, u64::MAX);
        assert_eq!(decoded.attnets.as_deref(), Some(attnets.as_slice()));
        assert_eq!(decoded.attnet_ids(), [0, 63]);
        assert_eq!(decoded.syncnets.as_deref(), Some(&[0x0a][..]));
        assert_eq!(decoded.syncnet_ids(), [1, 3]);
        assert!(decoded.waku2.is_none() && decoded.shards.is_none());
        assert!(decoded.multiaddrs.is_empty());
        assert!(!decoded.has_eth);
    }

    #[test]
    fn eth_key_presence() {
        let mut builder = Enr::builder();
        builder.ip4(Ipv4Addr::LOCALHOST).udp4(30303);
        // [[fork_hash, fork_next]] as an execution client writes it.
        builder.add_value_rlp(
            KEY_ETH,
            Bytes::from_static(&[0xc7, 0xc6, 0x84, 0xfc, 0x64, 0xec, 0x04, 0x80]),
        );
        let enr = builder.build(&secp_key(11)).expect("build");
        let decoded = DecodedEnr::from_enr(&parse_enr(&enr.to_base64()).expect("parse"));
        assert!(decoded.has_eth);
        assert!(decoded.issues.is_empty(), "{:?}", decoded.issues);
        assert!(!DecodedEnr::from_enr(&parse_enr(TWN_VECTOR).expect("parse")).has_eth);
    }

    #[test]
    fn ethereum_malformed_keys_are_issues() {
        let enr = custom_enr(&[
            ("attnets", vec![0xff; 7]),
            ("eth2", vec![0; 4]),
            ("syncnets", vec![0x10]),
        ]);
        let decoded = DecodedEnr::from_enr(&enr);
        assert_eq!(
            decoded.issues,
            [
                "eth2: length 4 is not 16",
                "attnets: length 7 is not 8",
                "syncnets: bits above subnet 3 are set (0x10)",
            ]
        );
        assert!(decoded.eth2.is_none() && decoded.attnets.is_none() && decoded.syncnets.is_none());
        assert!(decoded.attnet_ids().is_empty() && decoded.syncnet_ids().is_empty());
        assert_eq!(decoded.udp4, Some(9000));
    }

    #[test]
    fn waku_record_round_trip_rs() {
        let key = secp_key(3);
        let addrs = [
            ma("/dns4/node.example.org/tcp/30303"),
            ma("/dns4/node.example.org/tcp/8000/wss"),
        ];
        let enr = build_waku_enr(
            &key,
            Ipv4Addr::new(192, 0, 2, 7),
            9000,
            Some(30303),
            Waku2(0x3f),
            2,
            &[7, 3, 3, 900],
            &addrs,
        )
        .expect("build");
        let text = enr.to_base64();
        let parsed = parse_enr(&text).expect("parse");
        assert_eq!(parsed, enr);
        let decoded = DecodedEnr::from_enr(&parsed);
        assert_eq!(decoded.text, text);
        assert_eq!(decoded.ip4, Some(Ipv4Addr::new(192, 0, 2, 7)));
        assert_eq!((decoded.udp4, decoded.tcp4), (Some(9000), Some(30303)));
        assert_eq!(decoded.waku2, Some(Waku2(0x3f)));
        assert_eq!(
            decoded.waku2.expect("waku2").names(),
            ["relay", "store", "filter", "lightpush", "sync", "mix"]
        );
        let shards = decoded.shards.as_ref().expect("shards");
        assert_eq!(shards.encoding, ShardEncoding::Rs);
        assert_eq!(
            (shards.cluster, shards.shards.as_slice()),
            (2, &[3, 7, 900][..])
        );
        assert!(parsed.get_raw_rlp(KEY_RSV).is_none());
        assert_eq!(
            decoded.multiaddrs,
            addrs.iter().map(Multiaddr::to_string).collect::<Vec<_>>()
        );
        assert_secp_peer_id(&parsed, &decoded);
        assert!(decoded.issues.is_empty(), "{:?}", decoded.issues);

        // Serializable for the store.
        let json = serde_json::to_string(&decoded).expect("serialize");
        let back: DecodedEnr = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, decoded);
    }

    #[test]
    fn waku_record_round_trip_rsv() {
        let shards: Vec<u16> = (0..64).map(|i| i * 16).collect();
        let enr = build_waku_enr(
            &secp_key(4),
            Ipv4Addr::new(198, 51, 100, 1),
            60000,
            None,
            Waku2(Waku2::RELAY),
            5,
            &shards,
            &[],
        )
        .expect("build");
        let parsed = parse_enr(&enr.to_base64()).expect("parse");
        assert!(parsed.get_raw_rlp(KEY_RS).is_none());
        let decoded = DecodedEnr::from_enr(&parsed);
        let got = decoded.shards.as_ref().expect("shards");
        assert_eq!(got.encoding, ShardEncoding::Rsv);
        assert_eq!(got.cluster, 5);
        assert_eq!(got.shards, shards);
        assert_eq!(got.raw, encode_rsv(5, &shards));
        assert_eq!(decoded.tcp4, None);
        assert!(decoded.multiaddrs.is_empty());
        assert!(decoded.issues.is_empty(), "{:?}", decoded.issues);

        // 63 distinct shards (duplicates do not count) still use `rs`.
        let mut few: Vec<u16> = (0..63).collect();
        few.push(0);
        let enr = build_waku_enr(
            &secp_key(4),
            Ipv4Addr::LOCALHOST,
            1,
            None,
            Waku2(0),
            5,
            &few,
            &[],
        )
        .expect("build");
        let decoded = DecodedEnr::from_enr(&enr);
        assert_eq!(decoded.shards.expect("rs").encoding, ShardEncoding::Rs);
    }

    #[test]
    fn build_rejects_bad_input() {
        let key = secp_key(5);
        let err = build_waku_enr(
            &key,
            Ipv4Addr::LOCALHOST,
            1,
            None,
            Waku2(1),
            1,
            &[1024],
            &[],
        )
        .expect_err("shard 1024");
        assert_eq!(err, RecordError::ShardOutOfRange { shard: 1024 });

        let many: Vec<Multiaddr> = (0..10)
            .map(|i| {
                ma(&format!(
                    "/dns4/host-{i}.a-rather-long-domain.example.org/tcp/443/wss"
                ))
            })
            .collect();
        let err = build_waku_enr(&key, Ipv4Addr::LOCALHOST, 1, None, Waku2(1), 1, &[1], &many)
            .expect_err("too large");
        assert!(matches!(err, RecordError::Build(_)), "{err:?}");
    }

    #[test]
    fn ed25519_peer_id() {
        let key = CombinedKey::generate_ed25519();
        let enr = build_waku_enr(
            &key,
            Ipv4Addr::LOCALHOST,
            9000,
            None,
            Waku2(Waku2::RELAY),
            1,
            &[],
            &[],
        )
        .expect("build");
        let parsed = parse_enr(&enr.to_base64()).expect("parse");
        let peer_id = peer_id_of(&parsed).expect("peer id");
        assert!(peer_id.to_string().starts_with("12D3KooW"), "{peer_id}");
        let decoded = DecodedEnr::from_enr(&parsed);
        assert_eq!(decoded.peer_id, Some(peer_id.to_string()));
        assert!(decoded.shards.is_none());
    }

    #[test]
    fn malformed_waku_keys_are_issues() {
        let enr = custom_enr(&[
            ("multiaddrs", vec![0, 0]),
            ("rs", vec![0, 1, 2, 0]),
            ("waku2", vec![1, 2]),
        ]);
        let decoded = DecodedEnr::from_enr(&parse_enr(&enr.to_base64()).expect("parse"));
        assert_eq!(
            decoded.issues,
            [
                "waku2: length 2 is not 1",
                "multiaddrs: zero-length entry at offset 0",
                "rs: length 4 is not 3 + 2n for n = 2",
            ]
        );
        assert!(decoded.waku2.is_none());
        assert!(decoded.multiaddrs.is_empty());
        assert!(decoded.shards.is_none());
        assert!(decoded.peer_id.is_some());
        assert_eq!(decoded.udp4, Some(9000));
    }

    #[test]
    fn rs_wins_over_rsv() {
        let enr = custom_enr(&[("rs", encode_rs(1, &[2])), ("rsv", encode_rsv(9, &[4, 5]))]);
        let shards = DecodedEnr::from_enr(&enr).shards.expect("shards");
        assert_eq!((shards.cluster, shards.encoding), (1, ShardEncoding::Rs));

        // A malformed rs falls back to rsv (and is reported).
        let enr = custom_enr(&[("rs", vec![0, 1, 2, 0]), ("rsv", encode_rsv(9, &[4, 5]))]);
        let decoded = DecodedEnr::from_enr(&enr);
        let shards = decoded.shards.expect("rsv fallback");
        assert_eq!((shards.cluster, shards.encoding), (9, ShardEncoding::Rsv));
        assert_eq!(shards.shards, [4, 5]);
        assert_eq!(decoded.issues, ["rs: length 4 is not 3 + 2n for n = 2"]);

        // A malformed rsv is still reported when rs is used.
        let enr = custom_enr(&[("rs", encode_rs(1, &[2])), ("rsv", vec![0; 3])]);
        let decoded = DecodedEnr::from_enr(&enr);
        assert_eq!(decoded.shards.expect("rs").encoding, ShardEncoding::Rs);
        assert_eq!(decoded.issues.len(), 1);
        assert!(
            decoded.issues[0].starts_with("rsv: length 3"),
            "{:?}",
            decoded.issues
        );
    }

    #[test]
    fn truncated_multiaddrs_and_list_values_are_issues() {
        let mut builder = Enr::builder();
        builder.ip4(Ipv4Addr::LOCALHOST).udp4(1);
        builder.add_value(KEY_MULTIADDRS, &Bytes::from(vec![0, 9, 1, 2]));
        // An RLP list where a byte string is expected: [0x01].
        builder.add_value_rlp(KEY_WAKU2, Bytes::from_static(&[0xc1, 0x01]));
        let enr = builder.build(&secp_key(9)).expect("build");
        let decoded = DecodedEnr::from_enr(&parse_enr(&enr.to_base64()).expect("parse"));
        assert_eq!(decoded.issues.len(), 2, "{:?}", decoded.issues);
        assert!(decoded.issues[0].starts_with("waku2: value is not an RLP byte string"));
        assert_eq!(
            decoded.issues[1],
            "multiaddrs: entry at offset 0 declares 9 bytes but only 2 remain"
        );
    }

    #[test]
    fn fuzz_corpus_enr_text_replays() {
        let mut valid = 0;
        for (name, bytes) in crate::fuzz_corpus::seeds("enr_text") {
            let text = String::from_utf8_lossy(&bytes);
            let parsed = parse_enr(&text);
            if name.starts_with("valid-") {
                let enr = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
                let decoded = DecodedEnr::from_enr(&enr);
                assert_eq!(parse_enr(&decoded.text).as_ref(), Ok(&enr), "{name}");
                assert!(decoded.peer_id.is_some(), "{name}");
                valid += 1;
            } else if name.starts_with("invalid-") {
                assert!(parsed.is_err(), "{name} parsed");
            }
        }
        assert!(valid >= 9, "{valid} valid seeds");
        let twn = String::from_utf8(crate::fuzz_corpus::seed(
            "enr_text",
            "valid-twn-bootstrap.txt",
        ))
        .expect("text");
        assert_eq!(twn, TWN_VECTOR);
        let shards = DecodedEnr::from_enr(&parse_enr(&twn).expect("twn"))
            .shards
            .expect("rs");
        assert_eq!((shards.cluster, shards.shards), (1, (0..8).collect()));
    }

    #[test]
    fn fuzz_corpus_enr_rlp_replays() {
        let mut valid = 0;
        for (name, bytes) in crate::fuzz_corpus::seeds("enr_rlp") {
            let decoded = decode_enr_rlp(&bytes);
            if let Some(stem) = name
                .strip_prefix("valid-")
                .and_then(|n| n.strip_suffix(".rlp"))
            {
                let enr = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
                // The same record as the text seed of the same name.
                let text = crate::fuzz_corpus::seed("enr_text", &format!("valid-{stem}.txt"));
                let from_text = parse_enr(&String::from_utf8_lossy(&text)).expect("text seed");
                assert_eq!(enr, from_text, "{name}");
                valid += 1;
            } else if name.starts_with("invalid-") {
                assert!(decoded.is_err(), "{name} decoded");
            }
        }
        assert!(valid >= 9, "{valid} valid seeds");
        let seed = |name| crate::fuzz_corpus::seed("enr_rlp", name);
        let rs = decode_rs(&seed("value-rs-nwaku.bin")).expect("rs");
        let rsv = decode_rsv(&seed("value-rsv-nwaku.bin")).expect("rsv");
        assert_eq!((rs.cluster, &rs.shards[..]), (73, &[1, 10][..]));
        assert_eq!((rsv.cluster, rsv.shards), (73, rs.shards));
        let status = decode_rs(&seed("value-rs-status.bin")).expect("rs");
        assert_eq!(status.shards, [1, 32, 64, 128, 256]);
        assert_eq!(
            decode_eth2(&seed("value-eth2.bin"))
                .expect("eth2")
                .next_fork_epoch,
            u64::MAX
        );
        assert_eq!(
            decode_multiaddrs(&seed("value-multiaddrs.bin"))
                .expect("multiaddrs")
                .len(),
            2
        );
        let malformed = DecodedEnr::from_enr(
            &decode_enr_rlp(&seed("valid-malformed-waku-keys.rlp")).expect("record"),
        );
        assert_eq!(malformed.issues.len(), 4, "{:?}", malformed.issues);
    }

    #[test]
    fn decode_enr_rlp_rejects_oversize_trailing_and_forged() {
        let enr = parse_enr(NWAKU_VECTOR).expect("vector");
        let rlp = alloy_rlp::encode(&enr);
        assert_eq!(decode_enr_rlp(&rlp), Ok(enr));
        let mut trailing = rlp.clone();
        trailing.push(0);
        let err = decode_enr_rlp(&trailing).expect_err("trailing byte");
        assert!(err.to_string().contains("trailing"), "{err}");
        let err = decode_enr_rlp(&[0xc0; MAX_ENR_SIZE + 1]).expect_err("oversize");
        assert!(err.to_string().contains("at most 300"), "{err}");
        // A flipped byte of the signature.
        let mut forged = rlp;
        forged[5] ^= 1;
        assert!(decode_enr_rlp(&forged).is_err());
        assert!(decode_enr_rlp(&[]).is_err());
    }
}
