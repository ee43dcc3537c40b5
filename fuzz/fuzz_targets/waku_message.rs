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
use peerscope::engine::counter::MessageCounter;
use peerscope::model::messages::OTHER_CONTENT_TOPIC;
use peerscope::protocol::waku::relay::decode_waku_message;
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

#[derive(Default)]
struct Want {
    named: HashMap<String, (u64, u64)>,
    other: (u64, u64),
    undecodable: (u64, u64),
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
    // What the API must return, per pubsub topic: the first MAX_CONTENT_TOPICS distinct
    // content topics by name, the rest in the aggregate row, undecodable data apart.
    let mut want: HashMap<&str, Want> = HashMap::new();
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
        let slot = match &decoded {
            None => &mut w.undecodable,
            Some(m) if w.named.contains_key(&m.content_topic) => {
                w.named.get_mut(&m.content_topic).expect("present")
            }
            Some(m) if w.named.len() < MAX_CONTENT_TOPICS => {
                w.named.entry(m.content_topic.clone()).or_default()
            }
            Some(_) => &mut w.other,
        };
        slot.0 += 1;
        slot.1 += bytes;
    }
    assert_eq!(counter.recorded(), messages.len() as u64);
    counter.flush().expect("flush");

    for pubsub in TOPICS {
        let w = want.remove(pubsub).unwrap_or_default();
        let rows = store.message_counts(pubsub, "").expect("counts");
        let mut got: HashMap<String, (u64, u64)> = HashMap::new();
        for row in &rows {
            assert_eq!(row.pubsub_topic, pubsub);
            let old = got.insert(row.content_topic.clone(), (row.messages, row.bytes));
            assert!(old.is_none(), "two rows for {:?}", row.content_topic);
            // Every message lies in the window that spans all time.
            let window = store
                .message_window(&row.pubsub_topic, &row.content_topic, 0, u64::MAX)
                .expect("window");
            assert_eq!(
                window,
                (row.messages, row.bytes),
                "window of {:?}",
                row.content_topic
            );
        }
        let other = got.remove(OTHER_CONTENT_TOPIC).unwrap_or_default();
        assert_eq!(other, w.other, "the aggregate row of {pubsub}");
        assert_eq!(got, w.named, "the named rows of {pubsub}");
        let und = store.undecodable_counts(pubsub).expect("undecodable");
        let und = und
            .iter()
            .fold((0, 0), |(m, b), u| (m + u.messages, b + u.bytes));
        assert_eq!(und, w.undecodable, "undecodable on {pubsub}");
    }
});
