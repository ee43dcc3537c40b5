//! The relay message counter, shared by every crawl and flushed to the store periodically.
//!
//! **Counting.** Per (pubsub topic, content topic): messages, bytes (the size of the
//! encoded `WakuMessage`, i.e. the gossipsub data), first and last seen, and per-minute
//! buckets. A message delivered twice (same id) is counted once, however many relay crawls
//! (each with its own gossipsub swarm and duplicate cache) receive it: the counter keeps the
//! ids it has counted per pubsub topic in a [`SeenSet`], for [`SEEN_WINDOW`] and at most
//! [`DEFAULT_SEEN_CAPACITY`] ids (see there for what bounds it). Data that does not
//! decode as a `WakuMessage` with a usable content topic (starting with `/`, no NUL, at most
//! [`MAX_CONTENT_TOPIC_LEN`](crate::protocol::waku::relay::MAX_CONTENT_TOPIC_LEN) bytes; see [`decode_waku_message`](crate::protocol::waku::relay::decode_waku_message)) is counted per pubsub topic
//! as undecodable: one row per pubsub topic, however much garbage a peer sends.
//!
//! **Bounded memory, nothing silent.** At most `max_content_topics` distinct content topics
//! are kept per pubsub topic; messages on further content topics are added to the explicit
//! aggregate [`OTHER_CONTENT_TOPIC`], which the API returns like any other row, so the sum
//! over a pubsub topic's rows is always exact. Per-minute buckets are kept for
//! [`BUCKET_RETENTION_MINUTES`].
//!
//! **Sightings.** While a PostgreSQL sink runs ([`Store::message_log`]), every message
//! counted through [`MessageCounter::record_message`] (a duplicate is not) is also kept as
//! a sighting with its id and written to the export feed with the counts, at most
//! [`MAX_PENDING_SIGHTINGS`] between two flushes (further ones are counted as dropped and
//! logged).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::model::messages::{BUCKET_RETENTION_MINUTES, OTHER_CONTENT_TOPIC};
use crate::model::{now_millis, UnixMillis};
use crate::store::export::MessageSighting;
use crate::store::{MessageDelta, Store, StoreError};

/// Sightings held between two flushes (one flush a second; a busy Waku network delivers
/// tens of messages a second).
pub const MAX_PENDING_SIGHTINGS: usize = 100_000;

/// How long a counted message id is remembered. Gossipsub re-delivers a message within its
/// own duplicate-cache time (60 s) and its history window (a few heartbeats); two minutes
/// covers both, and a crawl stopped and restarted within that time.
pub const SEEN_WINDOW: Duration = Duration::from_secs(120);

/// Most message ids remembered at once, over all pubsub topics. Each costs about 80 bytes
/// (a 32-byte key in a hash set and in the expiry queue), so the set stays under 20 MiB.
/// It holds every id of the last [`SEEN_WINDOW`] up to a relay rate of about 2,000 messages
/// per second; at higher rates the oldest ids leave early (counted in
/// [`MessageCounter::evicted_early`]) and a duplicate arriving after that is counted again.
pub const DEFAULT_SEEN_CAPACITY: usize = 250_000;

/// The message ids counted recently, per pubsub topic: bounded by time and by count.
#[derive(Debug)]
pub struct SeenSet {
    window: u64,
    capacity: usize,
    /// sha256(pubsub ‖ 0 ‖ message id) of every remembered id.
    keys: HashSet<[u8; 32]>,
    /// The same keys in the order they were counted, with the time.
    order: VecDeque<(UnixMillis, [u8; 32])>,
    /// Ids dropped before their window ended because the set was full.
    evicted_early: u64,
}

impl SeenSet {
    /// A set remembering ids for `window`, at most `capacity` at once (at least 1).
    pub fn new(window: Duration, capacity: usize) -> SeenSet {
        SeenSet {
            window: window.as_millis() as u64,
            capacity: capacity.max(1),
            keys: HashSet::new(),
            order: VecDeque::new(),
            evicted_early: 0,
        }
    }

    /// Whether `id` on `pubsub` is new at `at`; a new id is remembered.
    pub fn first_sight(&mut self, pubsub: &str, id: &[u8], at: UnixMillis) -> bool {
        while let Some(&(t, key)) = self.order.front() {
            if t.saturating_add(self.window) > at {
                break;
            }
            self.order.pop_front();
            self.keys.remove(&key);
        }
        let mut h = Sha256::new();
        h.update(pubsub.as_bytes());
        h.update([0]);
        h.update(id);
        let key: [u8; 32] = h.finalize().into();
        if !self.keys.insert(key) {
            return false;
        }
        if self.order.len() >= self.capacity {
            if let Some((_, old)) = self.order.pop_front() {
                self.keys.remove(&old);
                self.evicted_early += 1;
            }
        }
        self.order.push_back((at, key));
        true
    }

    /// Ids remembered now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[derive(Default)]
struct Pending {
    /// (pubsub, content or None for undecodable) → delta.
    deltas: HashMap<(String, Option<String>), MessageDelta>,
    /// Counted messages with their ids, for the export feed (only while the message log
    /// is on).
    sightings: Vec<MessageSighting>,
    /// Sightings dropped because [`MAX_PENDING_SIGHTINGS`] were pending.
    dropped_sightings: u64,
}

struct Inner {
    store: Store,
    max_content_topics: usize,
    /// Distinct content topics kept per pubsub topic (loaded from the store at start).
    known: HashMap<String, HashSet<String>>,
    pending: Pending,
    /// Messages recorded since start (all topics, including undecodable).
    recorded: u64,
    /// Ids counted recently, so a message received by two crawls is counted once.
    seen: SeenSet,
    /// Messages not counted because their id was counted already.
    duplicates: u64,
}

impl Inner {
    fn add(&mut self, pubsub: &str, content: Option<&str>, bytes: u64, at: UnixMillis) {
        self.recorded += 1;
        let key = match content {
            None => None,
            Some(c) => {
                let cap = self.max_content_topics;
                let set = self.known.entry(pubsub.to_string()).or_default();
                if set.contains(c) {
                    Some(c.to_string())
                } else if set.len() < cap {
                    set.insert(c.to_string());
                    Some(c.to_string())
                } else {
                    Some(OTHER_CONTENT_TOPIC.to_string())
                }
            }
        };
        let d = self
            .pending
            .deltas
            .entry((pubsub.to_string(), key))
            .or_default();
        d.add(bytes, at);
    }
}

/// Counts relay messages; shared by every crawl, flushed to the store periodically.
#[derive(Clone)]
pub struct MessageCounter {
    inner: Arc<Mutex<Inner>>,
}

impl MessageCounter {
    /// A counter over `store`, resuming the content-topic sets it holds.
    pub fn new(store: Store, max_content_topics: usize) -> Result<MessageCounter, StoreError> {
        let known = store.message_topics()?;
        Ok(MessageCounter {
            inner: Arc::new(Mutex::new(Inner {
                store,
                max_content_topics: max_content_topics.max(1),
                known,
                pending: Pending::default(),
                recorded: 0,
                seen: SeenSet::new(SEEN_WINDOW, DEFAULT_SEEN_CAPACITY),
                duplicates: 0,
            })),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every update is a single map operation; a poisoned lock still holds valid maps.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cap on distinct content topics per pubsub topic.
    pub fn max_content_topics(&self) -> usize {
        self.lock().max_content_topics
    }

    /// Messages recorded since the process started.
    pub fn recorded(&self) -> u64 {
        self.lock().recorded
    }

    /// Messages not counted because their id had been counted already.
    pub fn duplicates(&self) -> u64 {
        self.lock().duplicates
    }

    /// Ids that left the seen-set before their window ended because it was full.
    pub fn evicted_early(&self) -> u64 {
        self.lock().seen.evicted_early
    }

    /// Records one message with gossipsub message id `id`, unless that id was counted on
    /// `pubsub` within [`SEEN_WINDOW`]; returns whether it was counted. A counted message
    /// is also kept as a sighting for the export feed while the store's message log is on.
    pub fn record_message(
        &self,
        pubsub: &str,
        id: &[u8],
        content: Option<&str>,
        bytes: u64,
        at: UnixMillis,
    ) -> bool {
        let mut inner = self.lock();
        if !inner.seen.first_sight(pubsub, id, at) {
            inner.duplicates += 1;
            return false;
        }
        inner.add(pubsub, content, bytes, at);
        if inner.store.message_log() {
            let pending = &mut inner.pending;
            if pending.sightings.len() >= MAX_PENDING_SIGHTINGS {
                pending.dropped_sightings += 1;
            } else {
                pending.sightings.push(MessageSighting {
                    id: hex::encode(id),
                    pubsub_topic: pubsub.to_string(),
                    content_topic: content.map(str::to_string),
                    bytes,
                    seen_at: at,
                });
            }
        }
        true
    }

    /// Records one message of `bytes` bytes seen on `pubsub`: `content` is its content
    /// topic, or `None` when the data did not decode. No duplicate check: see
    /// [`MessageCounter::record_message`].
    pub fn record(&self, pubsub: &str, content: Option<&str>, bytes: u64, at: UnixMillis) {
        self.lock().add(pubsub, content, bytes, at);
    }

    /// Writes pending counts (and sightings) to the store.
    pub fn flush(&self) -> Result<(), StoreError> {
        let (store, deltas, sightings, dropped) = {
            let mut inner = self.lock();
            let deltas = std::mem::take(&mut inner.pending.deltas);
            let sightings = std::mem::take(&mut inner.pending.sightings);
            let dropped = std::mem::take(&mut inner.pending.dropped_sightings);
            (inner.store.clone(), deltas, sightings, dropped)
        };
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "relay message sightings dropped for the export: more than {MAX_PENDING_SIGHTINGS} between two flushes"
            );
        }
        store.log_messages(sightings)?;
        if deltas.is_empty() {
            return Ok(());
        }
        let min_minute = now_millis() / 60_000;
        store.apply_message_deltas(deltas, min_minute.saturating_sub(BUCKET_RETENTION_MINUTES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_set_remembers_ids_for_its_window_and_within_its_capacity() {
        let mut seen = SeenSet::new(Duration::from_secs(10), 3);
        assert!(seen.first_sight("/t/a", b"m1", 1_000));
        assert!(
            !seen.first_sight("/t/a", b"m1", 2_000),
            "same id, same topic"
        );
        assert!(
            seen.first_sight("/t/b", b"m1", 2_000),
            "same id, other topic"
        );
        // The window ends: m1 on /t/a may be counted again.
        assert!(seen.first_sight("/t/a", b"m1", 11_000));
        assert_eq!(seen.len(), 2, "the expired key left the set");
        // Capacity 3: a fourth and fifth id push the oldest out early.
        assert!(seen.first_sight("/t/a", b"m2", 11_001));
        assert!(seen.first_sight("/t/a", b"m3", 11_002));
        assert_eq!(seen.len(), 3);
        assert_eq!(seen.evicted_early, 1);
        assert!(
            seen.first_sight("/t/b", b"m1", 11_003),
            "evicted before its window ended"
        );
    }

    #[test]
    fn a_message_received_twice_is_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 100).unwrap();
        let counter = MessageCounter::new(store.clone(), 10).unwrap();
        let t = now_millis();
        assert!(counter.record_message("/waku/2/rs/1/0", b"id-1", Some("/a/1/x/proto"), 7, t));
        // The same message through a second crawl's swarm, a second later.
        assert!(!counter.record_message(
            "/waku/2/rs/1/0",
            b"id-1",
            Some("/a/1/x/proto"),
            7,
            t + 1_000
        ));
        assert!(counter.record_message("/waku/2/rs/1/0", b"id-2", Some("/a/1/x/proto"), 5, t));
        assert_eq!(counter.duplicates(), 1);
        counter.flush().unwrap();
        let rows = store.message_counts("", "").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].messages, rows[0].bytes), (2, 12));
    }
    use crate::protocol::waku::relay::{decode_waku_message, WakuMessage, MAX_CONTENT_TOPIC_LEN};
    use prost::Message;

    #[test]
    fn decodes_waku_messages_and_rejects_garbage() {
        let m = WakuMessage {
            payload: b"hi".to_vec(),
            content_topic: "/toychat/2/huilong/proto".into(),
            timestamp: Some(-5),
            ephemeral: Some(true),
            ..Default::default()
        };
        let data = m.encode_to_vec();
        assert_eq!(decode_waku_message(&data), Some(m));
        assert_eq!(decode_waku_message(&[0xff, 0xff, 0xff]), None);
        // Valid protobuf without a content topic is not a Waku message.
        let no_topic = WakuMessage {
            payload: b"x".to_vec(),
            ..Default::default()
        };
        assert_eq!(decode_waku_message(&no_topic.encode_to_vec()), None);
        // Content topics that are not Waku's shape, or too long, are not counted as one.
        for ct in [
            OTHER_CONTENT_TOPIC.to_string(),
            "toychat/2/huilong/proto".to_string(),
            format!("/{}", "x".repeat(MAX_CONTENT_TOPIC_LEN)),
        ] {
            let m = WakuMessage {
                payload: b"x".to_vec(),
                content_topic: ct.clone(),
                ..Default::default()
            };
            assert_eq!(decode_waku_message(&m.encode_to_vec()), None, "{ct}");
        }
        let longest = WakuMessage {
            content_topic: format!("/{}", "x".repeat(MAX_CONTENT_TOPIC_LEN - 1)),
            ..Default::default()
        };
        assert!(decode_waku_message(&longest.encode_to_vec()).is_some());
    }

    #[test]
    fn content_topics_beyond_the_cap_go_to_other_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 100).unwrap();
        let counter = MessageCounter::new(store.clone(), 2).unwrap();
        let t = now_millis();
        for (i, ct) in ["/a/1/x/p", "/b/1/x/p", "/c/1/x/p", "/d/1/x/p", "/a/1/x/p"]
            .iter()
            .enumerate()
        {
            counter.record("/waku/2/rs/1/0", Some(ct), 10 + i as u64, t);
        }
        counter.record("/waku/2/rs/1/0", None, 3, t);
        counter.flush().unwrap();
        let rows = store.message_counts("", "").unwrap();
        let get = |c: &str| rows.iter().find(|r| r.content_topic == c).cloned();
        assert_eq!(get("/a/1/x/p").unwrap().messages, 2);
        assert_eq!(get("/a/1/x/p").unwrap().bytes, 10 + 14);
        assert_eq!(get("/b/1/x/p").unwrap().messages, 1);
        let other = get(OTHER_CONTENT_TOPIC).unwrap();
        assert_eq!((other.messages, other.bytes), (2, 12 + 13));
        assert!(get("/c/1/x/p").is_none());
        let und = store.undecodable_counts("").unwrap();
        assert_eq!(und.len(), 1);
        assert_eq!((und[0].messages, und[0].bytes), (1, 3));
        // A new counter over the same store keeps the cap's membership.
        let again = MessageCounter::new(store.clone(), 2).unwrap();
        again.record("/waku/2/rs/1/0", Some("/b/1/x/p"), 1, t);
        again.record("/waku/2/rs/1/0", Some("/e/1/x/p"), 1, t);
        again.flush().unwrap();
        let rows = store.message_counts("", "").unwrap();
        assert_eq!(
            rows.iter()
                .find(|r| r.content_topic == "/b/1/x/p")
                .unwrap()
                .messages,
            2
        );
        assert_eq!(
            rows.iter()
                .find(|r| r.content_topic == OTHER_CONTENT_TOPIC)
                .unwrap()
                .messages,
            3
        );
        let total: u64 = rows.iter().map(|r| r.messages).sum();
        assert_eq!(total, 7);
    }

    /// Counts a `waku_message` fuzz input (`u8 topic || u16_be len || data` each) on one
    /// pubsub topic in a fresh store.
    fn count_batch(batch: &[u8]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 100).unwrap();
        let counter = MessageCounter::new(store.clone(), 3).unwrap();
        let mut rest = batch;
        let t = now_millis();
        while let [_topic, hi, lo, tail @ ..] = rest {
            let (msg, next) = tail.split_at(usize::from(u16::from_be_bytes([*hi, *lo])));
            let m = decode_waku_message(msg);
            counter.record(
                "/waku/2/rs/1/0",
                m.as_ref().map(|m| m.content_topic.as_str()),
                msg.len() as u64,
                t,
            );
            rest = next;
        }
        counter.flush().unwrap();
        (dir, store)
    }

    /// Found with the `waku_message` fuzz target's accounting check: a message whose
    /// content topic is `(other)` was counted into the aggregate row of the content topics
    /// beyond the cap.
    #[test]
    fn content_topic_named_like_the_aggregate_is_undecodable() {
        let input = [
            0x00, 0x00, 0x0d, 0x0a, 0x02, 0x68, 0x69, 0x12, 0x07, 0x28, 0x6f, 0x74, 0x68, 0x65,
            0x72, 0x29,
        ];
        assert_eq!(decode_waku_message(&input[3..]), None);
        let (_dir, store) = count_batch(&input);
        assert!(store.message_counts("", "").unwrap().is_empty());
        let und = store.undecodable_counts("/waku/2/rs/1/0").unwrap();
        assert_eq!((und[0].messages, und[0].bytes), (1, 13));
    }

    /// Found with the `waku_message` fuzz target's window check: a content topic `/a` NUL
    /// … shares the store's key prefix of `/a`'s minute buckets, so `/a`'s window counted
    /// the other topic's messages too (and retention could drop its buckets).
    #[test]
    fn content_topic_with_nul_is_undecodable_and_leaves_other_windows_alone() {
        let input = [
            0x00, 0x00, 0x08, 0x0a, 0x02, 0x68, 0x69, 0x12, 0x02, 0x2f, 0x61, 0x00, 0x00, 0x11,
            0x0a, 0x02, 0x68, 0x69, 0x12, 0x0b, 0x2f, 0x61, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
            0x06, 0x07, 0x08,
        ];
        let (_dir, store) = count_batch(&input);
        let rows = store.message_counts("/waku/2/rs/1/0", "").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].content_topic.as_str(), rows[0].messages),
            ("/a", 1)
        );
        let window = store
            .message_window("/waku/2/rs/1/0", "/a", 0, u64::MAX)
            .unwrap();
        assert_eq!(window, (1, 8));
        assert_eq!(store.undecodable_counts("").unwrap()[0].messages, 1);
    }

    #[test]
    fn overlong_content_topic_is_undecodable() {
        let m = |len| WakuMessage {
            content_topic: format!("/{}", "x".repeat(len - 1)),
            ..Default::default()
        };
        assert!(decode_waku_message(&m(MAX_CONTENT_TOPIC_LEN).encode_to_vec()).is_some());
        assert!(decode_waku_message(&m(MAX_CONTENT_TOPIC_LEN + 1).encode_to_vec()).is_none());
    }

    #[test]
    fn fuzz_corpus_waku_message_replays() {
        for (name, bytes) in crate::fuzz_corpus::seeds("waku_message") {
            let decoded = decode_waku_message(&bytes);
            if name.starts_with("valid-") {
                let m = decoded.unwrap_or_else(|| panic!("{name} does not decode"));
                assert!(m.content_topic.starts_with('/'), "{name}");
            } else if name.starts_with("invalid-") {
                assert_eq!(decoded, None, "{name}");
            }
        }
        let rfc = decode_waku_message(&crate::fuzz_corpus::seed(
            "waku_message",
            "valid-rfc14-vector.bin",
        ))
        .expect("decodes");
        assert_eq!(rfc.timestamp, Some(0x175789bfa23f8400));
        assert_eq!(rfc.meta.as_deref(), Some(&b"super-secret"[..]));

        // The batch seed, counted as the fuzz target counts it.
        let batch = crate::fuzz_corpus::seed("waku_message", "batch-mixed.bin");
        let (_dir, store) = count_batch(&batch);

        let rows = store.message_counts("/waku/2/rs/1/0", "").unwrap();
        assert_eq!(rows.iter().map(|r| r.messages).sum::<u64>(), 3);
        let toy = rows
            .iter()
            .find(|r| r.content_topic == "/toychat/2/huilong/proto")
            .unwrap();
        assert_eq!(toy.messages, 2);
        assert_eq!(store.undecodable_counts("").unwrap()[0].messages, 2);
    }
}
