//! MConnection framing: uvarint length-delimited `tendermint.p2p.Packet`s (ping, pong, or a
//! `PacketMsg` slice of one channel's message), a message split over packets of at most
//! [`MAX_PAYLOAD`] bytes with `eof` on the last, and the reader that reassembles them.
//!
//! Limits, all checked before allocating:
//! - a length prefix above the reader's `max_packet` is refused (CometBFT's own limit is
//!   the size of a packet with a 1024-byte payload; [`DEFAULT_MAX_PACKET`] leaves room for
//!   nodes configured with larger payloads);
//! - a varint longer than 10 bytes is refused;
//! - a channel's reassembled message above its capacity is refused (the PEX channel's is
//!   [`PEX_MAX_MSG`], CometBFT's `maxMsgSize`);
//! - packets on channels the reader was not told about are refused, as MConnection does.

use std::io::{self, Read};

use prost::Message;

use super::pb;
use super::pb::packet::Sum;

/// Payload bytes per packet we send (CometBFT's default `max_packet_msg_payload_size`).
pub const MAX_PAYLOAD: usize = 1024;

/// Largest packet accepted by default, in bytes after the length prefix.
pub const DEFAULT_MAX_PACKET: usize = 64 * 1024;

/// Largest PEX message: 256 bytes per address times 250 addresses (CometBFT's
/// `maxAddressSize * maxGetSelection`).
pub const PEX_MAX_MSG: usize = 256 * 250;

/// Largest `NodeInfo` (CometBFT's `maxNodeInfoSize`).
pub const MAX_NODE_INFO: usize = 10_240;

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The connection failed or closed.
    #[error("read: {0}")]
    Io(#[from] io::Error),
    /// The length prefix is not a varint of at most 10 bytes.
    #[error("malformed length prefix")]
    BadVarint,
    /// The length prefix is above the limit.
    #[error("frame of {len} bytes, at most {max} accepted")]
    TooLarge { len: u64, max: usize },
    /// The frame is not the expected protobuf.
    #[error("undecodable {what}: {reason}")]
    Decode { what: &'static str, reason: String },
    /// A packet with no ping, pong or msg.
    #[error("empty packet")]
    Empty,
    /// A packet on a channel the connection did not open.
    #[error("packet on unknown channel {0}")]
    UnknownChannel(i32),
    /// A reassembled message above its channel's capacity.
    #[error("message on channel {channel} exceeds {cap} bytes")]
    MessageTooLarge { channel: u8, cap: usize },
}

impl WireError {
    /// True for a timeout of the underlying read (no data in time).
    pub fn is_timeout(&self) -> bool {
        matches!(self, WireError::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }

    /// True when the peer sent something the protocol forbids or that breaks a limit
    /// (not a plain disconnect or timeout).
    pub fn is_violation(&self) -> bool {
        !matches!(self, WireError::Io(_))
    }
}

/// Reads one uvarint length prefix, refusing values above `max`.
fn read_len<R: Read>(r: &mut R, max: usize) -> Result<usize, WireError> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        let low = u64::from(b[0] & 0x7f);
        if i == 9 && b[0] > 1 {
            return Err(WireError::BadVarint);
        }
        value |= low << (7 * i);
        if b[0] & 0x80 == 0 {
            if value > max as u64 {
                return Err(WireError::TooLarge { len: value, max });
            }
            return Ok(value as usize);
        }
    }
    Err(WireError::BadVarint)
}

/// Reads one uvarint length-delimited message of at most `max` bytes.
pub fn read_delimited<M: Message + Default, R: Read>(
    r: &mut R,
    max: usize,
    what: &'static str,
) -> Result<M, WireError> {
    let len = read_len(r, max)?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    M::decode(buf.as_slice()).map_err(|e| WireError::Decode {
        what,
        reason: e.to_string(),
    })
}

/// A message with its uvarint length prefix.
pub fn write_delimited<M: Message>(m: &M) -> Vec<u8> {
    m.encode_length_delimited_to_vec()
}

/// A ping packet, framed.
pub fn ping() -> Vec<u8> {
    write_delimited(&pb::Packet {
        sum: Some(Sum::PacketPing(pb::PacketPing {})),
    })
}

/// A pong packet, framed.
pub fn pong() -> Vec<u8> {
    write_delimited(&pb::Packet {
        sum: Some(Sum::PacketPong(pb::PacketPong {})),
    })
}

/// `msg` on `channel` as framed packets of at most `max_payload` bytes each, the last with
/// `eof`. An empty message is one empty packet with `eof`.
pub fn message_packets(channel: u8, msg: &[u8], max_payload: usize) -> Vec<u8> {
    let max_payload = max_payload.max(1);
    let mut out = Vec::with_capacity(msg.len() + msg.len() / max_payload * 8 + 8);
    let mut chunks = msg.chunks(max_payload).peekable();
    if chunks.peek().is_none() {
        out.extend(write_delimited(&packet_msg(channel, true, Vec::new())));
        return out;
    }
    while let Some(chunk) = chunks.next() {
        let eof = chunks.peek().is_none();
        out.extend(write_delimited(&packet_msg(channel, eof, chunk.to_vec())));
    }
    out
}

fn packet_msg(channel: u8, eof: bool, data: Vec<u8>) -> pb::Packet {
    pb::Packet {
        sum: Some(Sum::PacketMsg(pb::PacketMsg {
            channel_id: i32::from(channel),
            eof,
            data,
        })),
    }
}

/// What the reader hands back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// The peer pinged: answer with [`pong`].
    Ping,
    /// The peer answered a ping.
    Pong,
    /// A complete message on a channel.
    Message { channel: u8, data: Vec<u8> },
}

/// Reads packets and reassembles messages, within the limits of the module doc.
#[derive(Debug)]
pub struct PacketReader {
    max_packet: usize,
    /// (channel, capacity, bytes of the message being reassembled).
    channels: Vec<(u8, usize, Vec<u8>)>,
    /// Packets read so far.
    packets: u64,
}

impl PacketReader {
    /// A reader accepting packets of at most `max_packet` bytes on `channels` (each with
    /// its message capacity).
    pub fn new(max_packet: usize, channels: &[(u8, usize)]) -> PacketReader {
        PacketReader {
            max_packet,
            channels: channels
                .iter()
                .map(|(c, cap)| (*c, *cap, Vec::new()))
                .collect(),
            packets: 0,
        }
    }

    /// A reader for the PEX channel alone, with the default packet limit.
    pub fn pex() -> PacketReader {
        PacketReader::new(DEFAULT_MAX_PACKET, &[(super::PEX_CHANNEL, PEX_MAX_MSG)])
    }

    /// Packets read so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Reads until a ping, a pong or a complete message.
    pub fn next<R: Read>(&mut self, r: &mut R) -> Result<Incoming, WireError> {
        loop {
            let packet: pb::Packet = read_delimited(r, self.max_packet, "packet")?;
            self.packets += 1;
            match packet.sum {
                None => return Err(WireError::Empty),
                Some(Sum::PacketPing(_)) => return Ok(Incoming::Ping),
                Some(Sum::PacketPong(_)) => return Ok(Incoming::Pong),
                Some(Sum::PacketMsg(m)) => {
                    if let Some(done) = self.push(m)? {
                        return Ok(done);
                    }
                }
            }
        }
    }

    /// Adds one `PacketMsg`; returns the message when it is complete.
    pub fn push(&mut self, m: pb::PacketMsg) -> Result<Option<Incoming>, WireError> {
        let id = m.channel_id;
        let Some((channel, cap, buf)) = u8::try_from(id)
            .ok()
            .and_then(|c| self.channels.iter_mut().find(|(ch, _, _)| *ch == c))
        else {
            return Err(WireError::UnknownChannel(id));
        };
        if buf.len() + m.data.len() > *cap {
            return Err(WireError::MessageTooLarge {
                channel: *channel,
                cap: *cap,
            });
        }
        buf.extend_from_slice(&m.data);
        if m.eof {
            return Ok(Some(Incoming::Message {
                channel: *channel,
                data: std::mem::take(buf),
            }));
        }
        Ok(None)
    }
}

/// Reads `bytes` as a stream of packets until it ends or fails; returns what was read and
/// the error that stopped it (`Io(UnexpectedEof)` at a clean end). What the fuzz target
/// and the corpus replay call.
pub fn read_all(bytes: &[u8], reader: &mut PacketReader) -> (Vec<Incoming>, WireError) {
    let mut cursor = io::Cursor::new(bytes);
    let mut out = Vec::new();
    // Every successful read consumes at least one byte, so this ends.
    loop {
        match reader.next(&mut cursor) {
            Ok(i) => out.push(i),
            Err(e) => return (out, e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_split_and_reassembled() {
        let msg: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut wire = ping();
        wire.extend(message_packets(0, &msg, MAX_PAYLOAD));
        wire.extend(pong());
        let mut reader = PacketReader::pex();
        let (got, end) = read_all(&wire, &mut reader);
        assert_eq!(
            got,
            vec![
                Incoming::Ping,
                Incoming::Message {
                    channel: 0,
                    data: msg
                },
                Incoming::Pong
            ]
        );
        // 5 packets of payload (4 full + 1), a ping and a pong.
        assert_eq!(reader.packets(), 7);
        assert!(matches!(end, WireError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn an_empty_message_is_one_eof_packet() {
        let wire = message_packets(0, &[], MAX_PAYLOAD);
        let (got, _) = read_all(&wire, &mut PacketReader::pex());
        assert_eq!(
            got,
            vec![Incoming::Message {
                channel: 0,
                data: vec![]
            }]
        );
    }

    #[test]
    fn limits_are_enforced_before_allocating() {
        // A length prefix of 2^40 is refused without reading further.
        let mut huge = Vec::new();
        prost::encoding::encode_varint(1 << 40, &mut huge);
        let (_, e) = read_all(&huge, &mut PacketReader::pex());
        assert!(matches!(e, WireError::TooLarge { .. }), "{e}");
        // An overlong varint.
        let (_, e) = read_all(&[0xff; 11], &mut PacketReader::pex());
        assert!(matches!(e, WireError::BadVarint), "{e}");
        // A message above the channel capacity, sent in small packets.
        let mut reader = PacketReader::new(DEFAULT_MAX_PACKET, &[(0, 3000)]);
        let wire = message_packets(0, &[1u8; 3001], MAX_PAYLOAD);
        let (got, e) = read_all(&wire, &mut reader);
        assert!(got.is_empty());
        assert!(
            matches!(
                e,
                WireError::MessageTooLarge {
                    channel: 0,
                    cap: 3000
                }
            ),
            "{e}"
        );
        assert!(e.is_violation());
        // Unknown channels and empty packets.
        let (_, e) = read_all(&message_packets(0x20, b"x", 10), &mut PacketReader::pex());
        assert!(matches!(e, WireError::UnknownChannel(0x20)), "{e}");
        let empty = write_delimited(&pb::Packet { sum: None });
        let (_, e) = read_all(&empty, &mut PacketReader::pex());
        assert!(matches!(e, WireError::Empty), "{e}");
        let bad = vec![3, 0xff, 0xff, 0xff];
        let (_, e) = read_all(&bad, &mut PacketReader::pex());
        assert!(matches!(e, WireError::Decode { .. }), "{e}");
    }

    #[test]
    fn fuzz_corpus_mconnection_replays() {
        for (name, bytes) in crate::fuzz_corpus::seeds("cometbft_packets") {
            let mut reader = PacketReader::pex();
            let (got, end) = read_all(&bytes, &mut reader);
            if name.starts_with("valid-") {
                assert!(!got.is_empty(), "{name}: nothing read");
                assert!(
                    matches!(&end, WireError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
                    "{name}: {end}"
                );
            } else {
                assert!(end.is_violation(), "{name}: {end}");
            }
        }
    }
}
