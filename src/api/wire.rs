//! Events encoded once for every subscriber.
//!
//! `StreamPeerEvents` sends the same event to every subscriber that is caught up. Instead
//! of each subscriber converting and encoding it again, the server
//! ([`crate::proto::server`]) sends [`EncodedEvent`]: the bytes of a
//! `StreamPeerEventsResponse`, encoded by the first subscriber that needs them and shared
//! (reference-counted) with the rest. On the wire nothing changes: clients decode an
//! ordinary `StreamPeerEventsResponse`.

use prost::bytes::{Buf, BufMut, Bytes};
use prost::encoding::{DecodeContext, WireType};
use prost::{DecodeError, Message};

use crate::model::PeerEvent;
use crate::proto::pb;
use crate::store::SharedEvent;

/// An encoded `peerscope.v1.StreamPeerEventsResponse`, sent as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncodedEvent(Bytes);

impl EncodedEvent {
    /// Encodes `event` as a `StreamPeerEventsResponse`.
    pub fn encode(event: &PeerEvent) -> EncodedEvent {
        let response = pb::StreamPeerEventsResponse {
            event: Some(event.into()),
        };
        EncodedEvent(Bytes::from(response.encode_to_vec()))
    }

    /// The encoding of a store event, made by the first subscriber that sends it and shared
    /// (not copied) with every other one.
    pub fn shared(event: &SharedEvent) -> EncodedEvent {
        EncodedEvent(event.encoded_with(|e| EncodedEvent::encode(e).0).clone())
    }

    /// The encoded bytes (shared, not copied).
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }
}

impl From<Bytes> for EncodedEvent {
    fn from(bytes: Bytes) -> EncodedEvent {
        EncodedEvent(bytes)
    }
}

impl Message for EncodedEvent {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    /// The server never decodes one; fields are skipped.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0 = Bytes::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewPeerEvent, PeerEventKind};

    fn sample() -> PeerEvent {
        PeerEvent {
            sequence: 42,
            event: NewPeerEvent {
                time: 1_700_000_000_000,
                kind: PeerEventKind::Discovered,
                crawl_id: 3,
                node_id: [7; 32],
                peer_id: Some("16Uiu2HAmTest".into()),
                enr_seq: 5,
                enr: Some("enr:-test".into()),
                error_class: None,
                detail: Some("hello".into()),
            },
        }
    }

    #[test]
    fn a_shared_event_is_encoded_once_for_every_subscriber() {
        let event = crate::store::SharedEvent::new(sample());
        let first = EncodedEvent::shared(&event);
        let second = EncodedEvent::shared(&event);
        // The same buffer, not an equal copy.
        assert_eq!(first.bytes().as_ptr(), second.bytes().as_ptr());
        assert_eq!(first, EncodedEvent::encode(&sample()));
    }

    #[test]
    fn decodes_as_the_response_it_stands_for() {
        let event = sample();
        let encoded = EncodedEvent::encode(&event);
        let mut framed = Vec::new();
        encoded.encode(&mut framed).unwrap();
        assert_eq!(framed.len(), encoded.encoded_len());
        let decoded = pb::StreamPeerEventsResponse::decode(framed.as_slice()).unwrap();
        let want = pb::StreamPeerEventsResponse {
            event: Some((&event).into()),
        };
        assert_eq!(decoded, want);
        assert_eq!(decoded.event.unwrap().sequence, 42);
    }
}
