//! Relay messages: `relay::decode_waku_message` on arbitrary gossipsub data, then what the
//! relay monitor does with it: count it per (pubsub topic, content topic) in a
//! `MessageCounter`, flush to the store, and read the counts back as the API does.
//!
//! Input: the whole input is one message's data; it is also read as a batch of messages,
//! each `u8 topic || u16_be len || data`, counted on one of four pubsub topics in a fresh
//! store, after which every count the API returns must add up.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use peerscope::model::now_millis;
use peerscope::relay::{decode_waku_message, MessageCounter, OTHER_CONTENT_TOPIC};
use peerscope::store::Store;
use prost::Message;

const TOPICS: [&str; 4] = [
    "/waku/2/rs/1/0",
    "/waku/2/rs/1/1",
    "/waku/2/rs/16/32",
    "/waku/2/default-waku/proto",
];
/// Small, so that the aggregate row is reached.
const MAX_CONTENT_TOPICS: usize = 3;
const MAX_BATCH: usize = 16;

fn batch(data: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut rest = data;
    while let [t, hi, lo, tail @ ..] = rest {
        if out.len() == MAX_BATCH {
            break;
        }
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (msg, next) = tail.split_at(len);
        out.push((usize::from(*t) % TOPICS.len(), msg));
        rest = next;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if let Some(m) = decode_waku_message(data) {
        assert!(!m.content_topic.is_empty());
        assert_eq!(decode_waku_message(&m.encode_to_vec()).as_ref(), Some(&m));
    }

    let messages = batch(data);
    if messages.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), 60_000).expect("store opens");
    let counter = MessageCounter::new(store.clone(), MAX_CONTENT_TOPICS).expect("counter");
    // What the monitor records, per pubsub topic: (decoded messages, bytes), undecodable.
    let mut want: HashMap<&str, ((u64, u64), (u64, u64))> = HashMap::new();
    let at = now_millis();
    for (topic, msg) in &messages {
        let pubsub = TOPICS[*topic];
        let decoded = decode_waku_message(msg);
        let bytes = msg.len() as u64;
        counter.record(
            pubsub,
            decoded.as_ref().map(|m| m.content_topic.as_str()),
            bytes,
            at,
        );
        let w = want.entry(pubsub).or_default();
        let slot = if decoded.is_some() {
            &mut w.0
        } else {
            &mut w.1
        };
        slot.0 += 1;
        slot.1 += bytes;
    }
    assert_eq!(counter.recorded(), messages.len() as u64);
    counter.flush().expect("flush");

    let from = 0;
    let to = u64::MAX;
    for pubsub in TOPICS {
        let ((messages, bytes), (und_messages, und_bytes)) =
            want.get(pubsub).copied().unwrap_or_default();
        let rows = store.message_counts(pubsub, "").expect("counts");
        assert!(rows.iter().all(|r| r.pubsub_topic == pubsub));
        let named = rows
            .iter()
            .filter(|r| r.content_topic != OTHER_CONTENT_TOPIC)
            .count();
        assert!(named <= MAX_CONTENT_TOPICS, "{named} content topics kept");
        assert_eq!(rows.iter().map(|r| r.messages).sum::<u64>(), messages);
        assert_eq!(rows.iter().map(|r| r.bytes).sum::<u64>(), bytes);
        for row in &rows {
            // Every message lies in the window that spans all time.
            let window = store
                .message_window(&row.pubsub_topic, &row.content_topic, from, to)
                .expect("window");
            assert_eq!(
                window,
                (row.messages, row.bytes),
                "window of {:?}",
                row.content_topic
            );
        }
        let und = store.undecodable_counts(pubsub).expect("undecodable");
        assert_eq!(und.iter().map(|u| u.messages).sum::<u64>(), und_messages);
        assert_eq!(und.iter().map(|u| u.bytes).sum::<u64>(), und_bytes);
    }
});
