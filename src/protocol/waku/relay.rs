//! Waku relay on the wire: the gossipsub configuration Waku expects and `WakuMessage`.
//!
//! **Gossipsub.** Protocol id exactly `/vac/waku/relay/2.0.0` (not a prefix), message id =
//! raw sha256 of the message data (as nwaku, go-waku and js-waku compute it), anonymous
//! messages (StrictNoSign), max transmit size 1 MiB. The crawler validates every message
//! itself and reports `Ignore`: it observes and never forwards, and nobody is penalised.

use std::time::Duration;

use libp2p::gossipsub;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::protocol::waku;

/// Largest relay message accepted (Status allows 1024 KiB payloads).
pub const MAX_TRANSMIT_SIZE: usize = 1 << 20;

/// A Waku message (14/WAKU2-MESSAGE).
#[derive(Clone, PartialEq, Eq, Message)]
pub struct WakuMessage {
    #[prost(bytes = "vec", tag = "1")]
    pub payload: Vec<u8>,
    #[prost(string, tag = "2")]
    pub content_topic: String,
    #[prost(uint32, optional, tag = "3")]
    pub version: Option<u32>,
    /// Unix epoch nanoseconds.
    #[prost(sint64, optional, tag = "10")]
    pub timestamp: Option<i64>,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub meta: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "21")]
    pub rate_limit_proof: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "31")]
    pub ephemeral: Option<bool>,
}

/// Longest content topic counted as one, in bytes. Waku content topics
/// (`/{application}/{version}/{name}/{encoding}`) are a few dozen bytes; without a bound a
/// peer could make every one of the [`DEFAULT_MAX_CONTENT_TOPICS`](crate::model::messages::DEFAULT_MAX_CONTENT_TOPICS) kept names up to
/// [`MAX_TRANSMIT_SIZE`] long.
pub const MAX_CONTENT_TOPIC_LEN: usize = 256;

/// Decodes gossipsub data as a `WakuMessage`; `None` for anything that cannot be counted
/// under its content topic: no content topic, one that does not start with `/` (as every
/// Waku content topic does, so it never collides with [`OTHER_CONTENT_TOPIC`](crate::model::messages::OTHER_CONTENT_TOPIC)), one that
/// holds a NUL (the store's key separator), or one longer than [`MAX_CONTENT_TOPIC_LEN`].
pub fn decode_waku_message(data: &[u8]) -> Option<WakuMessage> {
    WakuMessage::decode(data).ok().filter(|m| {
        m.content_topic.starts_with('/')
            && !m.content_topic.contains('\0')
            && m.content_topic.len() <= MAX_CONTENT_TOPIC_LEN
    })
}

/// The static-sharding pubsub topic of a cluster and shard.
pub fn pubsub_topic(cluster: u16, shard: u16) -> String {
    format!("/waku/2/rs/{cluster}/{shard}")
}

/// Gossipsub configured as Waku relay. `observer` turns on manual validation (the crawler
/// reports `Ignore` and never forwards); without it messages are accepted and forwarded
/// (the test network's nodes).
pub fn gossipsub_config(observer: bool) -> Result<gossipsub::Config, String> {
    let mut b = gossipsub::ConfigBuilder::default();
    b.protocol_id(waku::RELAY, gossipsub::Version::V1_1)
        .message_id_fn(|m| gossipsub::MessageId::new(&Sha256::digest(&m.data)))
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .max_transmit_size(MAX_TRANSMIT_SIZE)
        .heartbeat_interval(Duration::from_secs(1))
        .duplicate_cache_time(Duration::from_secs(60));
    if observer {
        b.validate_messages();
    }
    b.build().map_err(|e| e.to_string())
}

/// A gossipsub behaviour configured as Waku relay.
pub fn gossipsub_behaviour(observer: bool) -> Result<gossipsub::Behaviour, String> {
    gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Anonymous,
        gossipsub_config(observer)?,
    )
    .map_err(|e| e.to_string())
}
