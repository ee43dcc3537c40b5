//! Waku wire facts: libp2p protocol ids, the metadata protocol and its framing.
//!
//! Metadata (`/vac/waku/metadata/1.0.0`, RFC 66): one unsigned-varint length-prefixed
//! protobuf each way. The requester writes its request and reads exactly one response
//! frame — nwaku does not half-close, so reading to EOF would hang. nwaku writes `shards`
//! twice (field 2 unpacked, field 3 packed); prost reads field 2 in either encoding and
//! skips field 3.

pub mod relay;

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use prost::Message;

/// Relay (gossipsub).
pub const RELAY: &str = "/vac/waku/relay/2.0.0";
/// Store v3.
pub const STORE: &str = "/vac/waku/store-query/3.0.0";
/// Filter subscribe.
pub const FILTER: &str = "/vac/waku/filter-subscribe/2.0.0-beta1";
/// Filter push (served by filter clients).
pub const FILTER_PUSH: &str = "/vac/waku/filter-push/2.0.0-beta1";
/// Lightpush v3.
pub const LIGHTPUSH: &str = "/vac/waku/lightpush/3.0.0";
/// Store sync.
pub const SYNC: &str = "/vac/waku/reconciliation/1.0.0";
/// Mix.
pub const MIX: &str = "/mix/1.0.0";
/// Metadata.
pub const METADATA: &str = "/vac/waku/metadata/1.0.0";
/// Peer exchange.
pub const PEER_EXCHANGE: &str = "/vac/waku/peer-exchange/2.0.0-alpha1";

/// Waku fleets' EIP-1459 trees by preset name: (name, cluster, URL). Documented by
/// nwaku/logos-delivery (sandbox, test) and Status (prod, cluster 16).
pub const FLEET_PRESETS: [(&str, u16, &str); 3] = [
    (
        "sandbox",
        1,
        "enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im",
    ),
    (
        "test",
        1,
        "enrtree://AOGYWMBYOUIMOENHXCHILPKY3ZRFEULMFI4DOM442QSZ73TT2A7VI@test.waku.nodes.status.im",
    ),
    (
        "status",
        16,
        "enrtree://AMOJVZX4V6EXP7NTJPMAYJYST2QP6AJXYW76IU6VGJS7UVSNDYZG4@boot.prod.status.nodes.status.im",
    ),
];

/// The cluster and tree URL of a fleet preset.
pub fn fleet_preset(name: &str) -> Option<(u16, &'static str)> {
    FLEET_PRESETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, u)| (*c, *u))
}

/// The protocol each `waku2` bit stands for, in bit order.
pub const CAPABILITY_PROTOCOLS: [&str; 6] = [RELAY, STORE, FILTER, LIGHTPUSH, SYNC, MIX];

/// Largest metadata frame accepted (nwaku's `RpcResponseMaxBytes`).
pub const METADATA_MAX_BYTES: usize = 1024;

/// The metadata protocol id.
pub fn metadata_protocol() -> StreamProtocol {
    StreamProtocol::new(METADATA)
}

/// `WakuMetadataRequest` and `WakuMetadataResponse` share this shape.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct WakuMetadata {
    /// The sender's cluster.
    #[prost(uint32, optional, tag = "1")]
    pub cluster_id: Option<u32>,
    /// The sender's shards.
    #[prost(uint32, repeated, tag = "2")]
    pub shards: Vec<u32>,
}

/// Reads one unsigned-varint length-prefixed frame of at most `max` bytes.
pub async fn read_frame<T: AsyncRead + Unpin>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let mut b = [0u8; 1];
        io.read_exact(&mut b).await?;
        let bits = u64::from(b[0] & 0x7f);
        // The tenth byte holds bit 63 only; anything above it would be shifted out.
        if shift == 63 && bits > 1 {
            return Err(varint_overflow());
        }
        len |= bits << shift;
        if b[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return Err(varint_overflow());
        }
    }
    if len > max as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the limit of {max}"),
        ));
    }
    let mut buf = vec![0u8; len as usize];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

fn varint_overflow() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "length prefix overflows u64")
}

/// Writes one unsigned-varint length-prefixed frame.
pub async fn write_frame<T: AsyncWrite + Unpin>(io: &mut T, data: &[u8]) -> io::Result<()> {
    let mut prefix = Vec::with_capacity(10);
    let mut n = data.len() as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            prefix.push(b);
            break;
        }
        prefix.push(b | 0x80);
    }
    io.write_all(&prefix).await?;
    io.write_all(data).await?;
    io.flush().await
}

/// request-response codec for a Waku protocol that exchanges one protobuf message `M` each
/// way, in a single uvarint-length-prefixed frame of at most `MAX` bytes; the responder
/// closes its side after the answer.
pub struct FramedProto<M, const MAX: usize>(std::marker::PhantomData<fn() -> M>);

impl<M, const MAX: usize> Clone for FramedProto<M, MAX> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, const MAX: usize> Copy for FramedProto<M, MAX> {}

impl<M, const MAX: usize> Default for FramedProto<M, MAX> {
    fn default() -> Self {
        FramedProto(std::marker::PhantomData)
    }
}

impl<M, const MAX: usize> std::fmt::Debug for FramedProto<M, MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FramedProto<{}, {MAX}>", std::any::type_name::<M>())
    }
}

/// Reads one frame of at most `max` bytes and decodes it as `M`: what both directions of a
/// [`FramedProto`] codec do with what the remote sends.
pub async fn read_message<M: Message + Default, T: AsyncRead + Unpin>(
    io: &mut T,
    max: usize,
) -> io::Result<M> {
    let frame = read_frame(io, max).await?;
    M::decode(frame.as_slice()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl<M, const MAX: usize> libp2p::request_response::Codec for FramedProto<M, MAX>
where
    M: Message + Default + Send + 'static,
{
    type Protocol = StreamProtocol;
    type Request = M;
    type Response = M;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<M>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, MAX).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<M>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, MAX).await
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: M) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req.encode_to_vec()).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, res: M) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res.encode_to_vec()).await?;
        io.close().await
    }
}

/// request-response codec for the metadata protocol.
pub type MetadataCodec = FramedProto<WakuMetadata, METADATA_MAX_BYTES>;

/// Peer exchange (`/vac/waku/peer-exchange/2.0.0-alpha1`, RFC 34): one unsigned-varint
/// length-prefixed `PeerExchangeRPC` each way. The requester sends `query`; the responder
/// answers with `response` (nwaku's `status_code`/`status_desc` extension included).
pub fn peer_exchange_protocol() -> StreamProtocol {
    StreamProtocol::new(PEER_EXCHANGE)
}

/// Most ENRs one peer-exchange answer carries (nwaku's `MaxPeersCacheSize`).
pub const PX_MAX_PEERS: u64 = 60;

/// Largest peer-exchange frame accepted: what nwaku's client allows
/// (`10 * 150 KiB + 64 KiB`). 60 ENRs of at most 300 bytes fit many times over.
pub const PX_MAX_BYTES: usize = 10 * 150 * 1024 + 64 * 1024;

/// Peer-exchange status codes (nwaku extension).
pub mod px_status {
    /// The answer carries peers.
    pub const OK: u32 = 200;
    /// The request had no query, or asked for no peers.
    pub const BAD_REQUEST: u32 = 400;
    /// The requester asked again too soon.
    pub const TOO_MANY_REQUESTS: u32 = 429;
    /// The responder serves no peers now.
    pub const SERVICE_UNAVAILABLE: u32 = 503;
}

/// `PeerInfo`: one RLP-encoded ENR (the bytes, not the `enr:` text).
#[derive(Clone, PartialEq, Eq, Message)]
pub struct PxPeerInfo {
    #[prost(bytes = "vec", tag = "1")]
    pub enr: Vec<u8>,
}

/// `PeerExchangeQuery`.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct PxQuery {
    #[prost(uint64, tag = "1")]
    pub num_peers: u64,
}

/// `PeerExchangeResponse`.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct PxResponse {
    #[prost(message, repeated, tag = "1")]
    pub peer_infos: Vec<PxPeerInfo>,
    #[prost(uint32, tag = "10")]
    pub status_code: u32,
    #[prost(string, optional, tag = "11")]
    pub status_desc: Option<String>,
}

/// `PeerExchangeRPC`: a query or a response.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct PxRpc {
    #[prost(message, optional, tag = "1")]
    pub query: Option<PxQuery>,
    #[prost(message, optional, tag = "2")]
    pub response: Option<PxResponse>,
}

impl PxRpc {
    /// A query for `num_peers` records.
    pub fn query(num_peers: u64) -> PxRpc {
        PxRpc {
            query: Some(PxQuery { num_peers }),
            response: None,
        }
    }

    /// A response.
    pub fn response(peer_infos: Vec<PxPeerInfo>, status_code: u32, desc: Option<String>) -> PxRpc {
        PxRpc {
            query: None,
            response: Some(PxResponse {
                peer_infos,
                status_code,
                status_desc: desc,
            }),
        }
    }
}

/// request-response codec for peer exchange. Both directions read exactly one frame of at
/// most [`PX_MAX_BYTES`].
pub type PxCodec = FramedProto<PxRpc, PX_MAX_BYTES>;

/// The records of a peer-exchange answer, decoded.
#[derive(Debug, Default)]
pub struct PxRecords {
    /// Records that decoded and whose signature verifies.
    pub records: Vec<crate::protocol::enr::Enr>,
    /// Entries that did not (bad RLP, oversize, trailing bytes, bad signature).
    pub undecodable: u64,
}

/// Decodes the ENRs of a peer-exchange answer ([`crate::protocol::enr::decode_enr_rlp`]). Only the
/// first [`PX_MAX_PEERS`] entries are looked at: the crawler never asks for more, and
/// anything beyond is ignored.
pub fn px_records(response: &PxResponse) -> PxRecords {
    let mut out = PxRecords::default();
    for info in response.peer_infos.iter().take(PX_MAX_PEERS as usize) {
        match crate::protocol::enr::decode_enr_rlp(&info.enr) {
            Ok(enr) => out.records.push(enr),
            Err(_) => out.undecodable += 1,
        }
    }
    out
}

/// The discv5 node id of a libp2p peer with a secp256k1 key (keccak256 of the uncompressed
/// key, as ENR `v4` identities have it); `None` for other key types.
pub fn node_id_of_peer(peer: &libp2p::PeerId) -> Option<[u8; 32]> {
    let mh: &libp2p::multihash::Multihash<64> = peer.as_ref();
    if mh.code() != 0 {
        return None; // hashed key: not recoverable
    }
    let key = libp2p::identity::PublicKey::try_decode_protobuf(mh.digest()).ok()?;
    let secp = key.try_into_secp256k1().ok()?;
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&secp.to_bytes()).ok()?;
    Some(enr::NodeId::from(vk).raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversize_is_rejected() {
        futures::executor::block_on(async {
            let mut buf = Vec::new();
            let big = vec![7u8; 300];
            write_frame(&mut buf, &big).await.unwrap();
            assert_eq!(&buf[..2], &[0xac, 0x02]);
            let mut r = futures::io::Cursor::new(buf.clone());
            assert_eq!(read_frame(&mut r, 1024).await.unwrap(), big);
            let mut r = futures::io::Cursor::new(buf);
            assert!(read_frame(&mut r, 100).await.is_err());
            let mut r = futures::io::Cursor::new(vec![0xff; 11]);
            assert!(read_frame(&mut r, 100).await.is_err());
        });
    }

    #[test]
    fn length_prefix_overflowing_u64_is_refused() {
        futures::executor::block_on(async {
            // Ten bytes whose last carries bit 64: it used to be shifted out, giving a
            // zero-length frame.
            let mut wrapped = vec![0x80; 9];
            wrapped.push(0x02);
            let mut r = futures::io::Cursor::new(wrapped);
            let err = read_frame(&mut r, 1024).await.expect_err("overflow");
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            // Bit 63 itself still fits (and is then over the limit).
            let mut top = vec![0x80; 9];
            top.push(0x01);
            let err = read_frame(&mut futures::io::Cursor::new(top), 1024)
                .await
                .expect_err("over the limit");
            assert!(err.to_string().contains("exceeds the limit"), "{err}");
            // A zero length padded to ten bytes is still zero.
            let mut padded = vec![0x80; 9];
            padded.push(0x00);
            let frame = read_frame(&mut futures::io::Cursor::new(padded), 1024).await;
            assert_eq!(frame.unwrap(), Vec::<u8>::new());
        });
    }

    #[test]
    fn fleet_presets_are_valid_tree_urls() {
        for (name, _, url) in FLEET_PRESETS {
            assert!(
                url.parse::<crate::protocol::dns::TreeUrl>().is_ok(),
                "{name}"
            );
        }
        assert_eq!(fleet_preset("status").map(|p| p.0), Some(16));
        assert!(fleet_preset("nope").is_none());
    }

    #[test]
    fn px_messages_match_the_wire_layout() {
        // query{num_peers=60}: field 1 (len 2) holding field 1 varint 60.
        assert_eq!(PxRpc::query(60).encode_to_vec(), vec![0x0a, 0x02, 0x08, 60]);
        let r = PxRpc::response(
            vec![PxPeerInfo { enr: vec![1, 2, 3] }],
            px_status::TOO_MANY_REQUESTS,
            Some("slow down".into()),
        );
        let wire = r.encode_to_vec();
        // response is field 2; inside: peer_infos (1), status_code (10 -> tag 0x50),
        // status_desc (11 -> tag 0x5a).
        assert_eq!(wire[0], 0x12);
        assert!(wire.windows(3).any(|w| w == [0x50, 0xad, 0x03]));
        assert_eq!(PxRpc::decode(wire.as_slice()).unwrap(), r);
    }

    #[test]
    fn node_id_of_a_peer_matches_its_enr() {
        let key = enr::CombinedKey::generate_secp256k1();
        let record = enr::Enr::<enr::CombinedKey>::builder().build(&key).unwrap();
        let decoded = crate::protocol::enr::DecodedEnr::from_enr(&record);
        let peer: libp2p::PeerId = decoded.peer_id.unwrap().parse().unwrap();
        assert_eq!(node_id_of_peer(&peer), Some(record.node_id().raw()));
    }

    #[test]
    fn reads_nwaku_metadata_with_shards_written_twice() {
        // cluster 16; shards [1, 32] unpacked in field 2 and packed in field 3, as nwaku
        // writes them.
        let wire = [0x08, 16, 0x10, 1, 0x10, 32, 0x1a, 2, 1, 32];
        let m = WakuMetadata::decode(&wire[..]).unwrap();
        assert_eq!(m.cluster_id, Some(16));
        assert_eq!(m.shards, vec![1, 32]);
    }

    fn read_seed<M: Message + Default>(bytes: &[u8], max: usize) -> io::Result<M> {
        futures::executor::block_on(read_message::<M, _>(
            &mut futures::io::Cursor::new(bytes),
            max,
        ))
    }

    #[test]
    fn fuzz_corpus_metadata_replays() {
        for (name, bytes) in crate::fuzz_corpus::seeds("metadata") {
            let read = read_seed::<WakuMetadata>(&bytes, METADATA_MAX_BYTES);
            if name.starts_with("valid-") {
                read.unwrap_or_else(|e| panic!("{name}: {e}"));
            } else if name.starts_with("invalid-") {
                let err = read.expect_err(&name);
                assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{name}: {err}");
            }
        }
        let nwaku = crate::fuzz_corpus::seed("metadata", "valid-nwaku-shards-twice.bin");
        let m = read_seed::<WakuMetadata>(&nwaku, METADATA_MAX_BYTES).unwrap();
        assert_eq!((m.cluster_id, m.shards), (Some(16), vec![1, 32]));
    }

    #[test]
    fn fuzz_corpus_peer_exchange_replays() {
        for (name, bytes) in crate::fuzz_corpus::seeds("peer_exchange") {
            let read = read_seed::<PxRpc>(&bytes, PX_MAX_BYTES);
            if name.starts_with("valid-") {
                read.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        let seed = |name| {
            read_seed::<PxRpc>(
                &crate::fuzz_corpus::seed("peer_exchange", name),
                PX_MAX_BYTES,
            )
            .unwrap()
        };
        assert_eq!(seed("valid-query-60.bin"), PxRpc::query(60));
        let ok = seed("valid-response-ok.bin").response.expect("response");
        let records = px_records(&ok);
        assert_eq!((records.records.len(), records.undecodable), (3, 0));
        let twn = crate::protocol::enr::parse_enr(
            &String::from_utf8(crate::fuzz_corpus::seed(
                "enr_text",
                "valid-twn-bootstrap.txt",
            ))
            .unwrap(),
        )
        .unwrap();
        assert!(records.records.contains(&twn));
        let bad = seed("valid-response-undecodable.bin")
            .response
            .expect("response");
        let records = px_records(&bad);
        assert_eq!((records.records.len(), records.undecodable), (0, 1));
        let slow = seed("valid-response-429.bin").response.expect("response");
        assert_eq!(slow.status_code, px_status::TOO_MANY_REQUESTS);
    }

    #[test]
    fn px_records_looks_at_the_first_60_entries_only() {
        let enr = crate::protocol::enr::parse_enr(
            &String::from_utf8(crate::fuzz_corpus::seed(
                "enr_text",
                "valid-nwaku-vector.txt",
            ))
            .unwrap(),
        )
        .unwrap();
        let info = PxPeerInfo {
            enr: alloy_rlp::encode(&enr),
        };
        let response = PxResponse {
            peer_infos: vec![info; 100],
            status_code: px_status::OK,
            status_desc: None,
        };
        let records = px_records(&response);
        assert_eq!(records.records.len(), PX_MAX_PEERS as usize);
        assert_eq!(records.undecodable, 0);
    }
}
