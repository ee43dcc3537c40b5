//! Waku wire facts: libp2p protocol ids, the metadata protocol and its framing.
//!
//! Metadata (`/vac/waku/metadata/1.0.0`, RFC 66): one unsigned-varint length-prefixed
//! protobuf each way. The requester writes its request and reads exactly one response
//! frame — nwaku does not half-close, so reading to EOF would hang. nwaku writes `shards`
//! twice (field 2 unpacked, field 3 packed); prost reads field 2 in either encoding and
//! skips field 3.

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
        len |= u64::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "length prefix overflows u64",
            ));
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

/// request-response codec for the metadata protocol.
#[derive(Clone, Copy, Debug, Default)]
pub struct MetadataCodec;

async fn read_metadata<T: AsyncRead + Unpin>(io: &mut T) -> io::Result<WakuMetadata> {
    let frame = read_frame(io, METADATA_MAX_BYTES).await?;
    WakuMetadata::decode(frame.as_slice())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl libp2p::request_response::Codec for MetadataCodec {
    type Protocol = StreamProtocol;
    type Request = WakuMetadata;
    type Response = WakuMetadata;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WakuMetadata>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_metadata(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<WakuMetadata>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_metadata(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: WakuMetadata,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req.encode_to_vec()).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: WakuMetadata,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res.encode_to_vec()).await?;
        io.close().await
    }
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
    fn reads_nwaku_metadata_with_shards_written_twice() {
        // cluster 16; shards [1, 32] unpacked in field 2 and packed in field 3, as nwaku
        // writes them.
        let wire = [0x08, 16, 0x10, 1, 0x10, 32, 0x1a, 2, 1, 32];
        let m = WakuMetadata::decode(&wire[..]).unwrap();
        assert_eq!(m.cluster_id, Some(16));
        assert_eq!(m.shards, vec![1, 32]);
    }
}
