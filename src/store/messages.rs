//! Relay message counts: `msg_counts` (totals per pubsub and content topic),
//! `msg_buckets` (the same per minute, for windowed rates, with retention) and
//! `msg_undecodable` (data on a pubsub topic that was not a Waku message).
//!
//! A flush of counts ([`Store::apply_message_deltas`]) is one transaction over the three
//! trees, which also marks every row it changes for the export (see
//! [`export`](crate::store::export)).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::messages::OTHER_CONTENT_TOPIC;
use crate::model::{MessageCount, UndecodableCount, UnixMillis};
use crate::store::export::{self, Changed};
use crate::store::keys::{
    bucket_key, bucket_prefix, bucket_value, decode, encode, parse_bucket, topic_key,
};
use crate::store::{tx_error, Store, StoreError};
use sled::transaction::{ConflictableTransactionError, Transactional};

/// Counts to add to one (pubsub, content) row, with their per-minute split.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageDelta {
    pub messages: u64,
    pub bytes: u64,
    pub first: UnixMillis,
    pub last: UnixMillis,
    /// minute since the epoch → (messages, bytes).
    pub buckets: BTreeMap<u64, (u64, u64)>,
}

impl MessageDelta {
    /// Adds one message.
    pub fn add(&mut self, bytes: u64, at: UnixMillis) {
        if self.messages == 0 || at < self.first {
            self.first = at;
        }
        self.last = self.last.max(at);
        self.messages += 1;
        self.bytes += bytes;
        let b = self.buckets.entry(at / 60_000).or_default();
        b.0 += 1;
        b.1 += bytes;
    }
}

impl Store {
    /// The content topics stored per pubsub topic.
    pub fn message_topics(&self) -> Result<HashMap<String, HashSet<String>>, StoreError> {
        let mut out: HashMap<String, HashSet<String>> = Default::default();
        for item in self.msg_counts.iter() {
            let (_, v) = item?;
            let row: MessageCount = decode("msg_counts", &v)?;
            if row.content_topic != OTHER_CONTENT_TOPIC {
                out.entry(row.pubsub_topic)
                    .or_default()
                    .insert(row.content_topic);
            }
        }
        Ok(out)
    }

    /// Adds counts (key: pubsub topic and content topic, `None` = undecodable), all in one
    /// transaction that also marks each changed row for the export, then drops buckets
    /// older than `drop_before_minute`.
    pub fn apply_message_deltas(
        &self,
        deltas: HashMap<(String, Option<String>), MessageDelta>,
        drop_before_minute: u64,
    ) -> Result<(), StoreError> {
        if deltas.is_empty() {
            return Ok(());
        }
        let id = self.change_id()?;
        (
            &self.msg_counts,
            &self.msg_buckets,
            &self.msg_undecodable,
            &self.export_dirty,
        )
            .transaction(|(counts, buckets, undecodable, dirty)| {
                for ((pubsub, content), d) in &deltas {
                    match content {
                        Some(content) => {
                            let key = topic_key(pubsub, content);
                            let mut row = counts
                                .get(&key)?
                                .and_then(|b| decode::<MessageCount>("msg_counts", &b).ok())
                                .unwrap_or_else(|| MessageCount {
                                    pubsub_topic: pubsub.clone(),
                                    content_topic: content.clone(),
                                    first_seen: d.first,
                                    ..MessageCount::default()
                                });
                            row.messages += d.messages;
                            row.bytes += d.bytes;
                            row.first_seen = row.first_seen.min(d.first);
                            row.last_seen = row.last_seen.max(d.last);
                            counts.insert(key.as_slice(), encode(&row))?;
                            export::mark(dirty, Changed::MessageCount, &key, id)?;
                            for (minute, (m, b)) in &d.buckets {
                                let bkey = bucket_key(pubsub, content, *minute);
                                let (om, ob) = buckets
                                    .get(&bkey)?
                                    .and_then(|v| parse_bucket(&v))
                                    .unwrap_or((0, 0));
                                buckets.insert(bkey.as_slice(), bucket_value(om + m, ob + b))?;
                                export::mark(dirty, Changed::MessageBucket, &bkey, id)?;
                            }
                        }
                        None => {
                            let mut row = undecodable
                                .get(pubsub.as_bytes())?
                                .and_then(|b| {
                                    decode::<UndecodableCount>("msg_undecodable", &b).ok()
                                })
                                .unwrap_or_else(|| UndecodableCount {
                                    pubsub_topic: pubsub.clone(),
                                    first_seen: d.first,
                                    ..UndecodableCount::default()
                                });
                            row.messages += d.messages;
                            row.bytes += d.bytes;
                            row.first_seen = row.first_seen.min(d.first);
                            row.last_seen = row.last_seen.max(d.last);
                            undecodable.insert(pubsub.as_bytes(), encode(&row))?;
                            export::mark(dirty, Changed::Undecodable, pubsub.as_bytes(), id)?;
                        }
                    }
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_error)?;
        // Retention: drop each row's buckets older than the window (the export keeps the
        // ones it was given).
        for (pubsub, content) in deltas.keys() {
            let Some(content) = content else {
                continue;
            };
            let prefix = bucket_prefix(pubsub, content);
            let end = bucket_key(pubsub, content, drop_before_minute);
            let old: Vec<_> = self
                .msg_buckets
                .range(prefix..end)
                .keys()
                .collect::<Result<_, _>>()?;
            if !old.is_empty() {
                let mut batch = sled::Batch::default();
                for k in old {
                    batch.remove(k);
                }
                self.msg_buckets.apply_batch(batch)?;
            }
        }
        Ok(())
    }

    /// Count rows, optionally of one pubsub topic and with a content-topic prefix, in
    /// (pubsub, content) order.
    pub fn message_counts(
        &self,
        pubsub: &str,
        content_prefix: &str,
    ) -> Result<Vec<MessageCount>, StoreError> {
        let iter = if pubsub.is_empty() {
            self.msg_counts.iter()
        } else {
            self.msg_counts.scan_prefix(topic_key(pubsub, ""))
        };
        let mut out = Vec::new();
        for item in iter {
            let (_, v) = item?;
            let row: MessageCount = decode("msg_counts", &v)?;
            if row.content_topic.starts_with(content_prefix) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Undecodable counts, of one pubsub topic or all.
    pub fn undecodable_counts(&self, pubsub: &str) -> Result<Vec<UndecodableCount>, StoreError> {
        let mut out = Vec::new();
        for item in self.msg_undecodable.iter() {
            let (_, v) = item?;
            let row: UndecodableCount = decode("msg_undecodable", &v)?;
            if pubsub.is_empty() || row.pubsub_topic == pubsub {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Messages and bytes of one row in minutes `from..to` (minutes since the epoch).
    pub fn message_window(
        &self,
        pubsub: &str,
        content: &str,
        from_minute: u64,
        to_minute: u64,
    ) -> Result<(u64, u64), StoreError> {
        let start = bucket_key(pubsub, content, from_minute);
        let end = bucket_key(pubsub, content, to_minute);
        let (mut m, mut b) = (0, 0);
        for item in self.msg_buckets.range(start..end) {
            let (_, v) = item?;
            if let Some((vm, vb)) = parse_bucket(&v) {
                m += vm;
                b += vb;
            }
        }
        Ok((m, b))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::MessageDelta;
    use crate::model::messages::OTHER_CONTENT_TOPIC;
    use crate::store::test_support::temp_store;

    const MINUTE: u64 = 60_000;

    #[test]
    fn a_delta_adds_messages_into_minute_buckets() {
        let mut d = MessageDelta::default();
        d.add(10, 5 * MINUTE + 1);
        d.add(20, 3 * MINUTE);
        d.add(5, 5 * MINUTE + 59_999);
        assert_eq!((d.messages, d.bytes), (3, 35));
        assert_eq!((d.first, d.last), (3 * MINUTE, 5 * MINUTE + 59_999));
        assert_eq!(
            d.buckets.into_iter().collect::<Vec<_>>(),
            [(3, (1, 20)), (5, (2, 15))]
        );
    }

    fn delta(at: &[(u64, u64)]) -> MessageDelta {
        let mut d = MessageDelta::default();
        for &(bytes, time) in at {
            d.add(bytes, time);
        }
        d
    }

    #[test]
    fn deltas_accumulate_into_counts_and_buckets() {
        let (_dir, store) = temp_store();
        let row = |c: &str| ("/waku/2/rs/1/0".to_string(), Some(c.to_string()));
        let mut first = HashMap::new();
        first.insert(
            row("/app/1/chat/proto"),
            delta(&[(100, 10 * MINUTE), (50, 11 * MINUTE)]),
        );
        first.insert(row(OTHER_CONTENT_TOPIC), delta(&[(7, 10 * MINUTE)]));
        store.apply_message_deltas(first, 0).unwrap();
        let mut second = HashMap::new();
        second.insert(
            row("/app/1/chat/proto"),
            delta(&[(25, 11 * MINUTE + 5), (1, 9 * MINUTE)]),
        );
        store.apply_message_deltas(second, 0).unwrap();

        let counts = store.message_counts("", "").unwrap();
        assert_eq!(counts.len(), 2);
        let chat = counts
            .iter()
            .find(|c| c.content_topic == "/app/1/chat/proto")
            .unwrap();
        assert_eq!((chat.messages, chat.bytes), (4, 176));
        assert_eq!(
            (chat.first_seen, chat.last_seen),
            (9 * MINUTE, 11 * MINUTE + 5)
        );
        // Per-minute windows: [from, to).
        let w = |from, to| {
            store
                .message_window("/waku/2/rs/1/0", "/app/1/chat/proto", from, to)
                .unwrap()
        };
        assert_eq!(w(0, 100), (4, 176));
        assert_eq!(w(11, 12), (2, 75));
        assert_eq!(w(9, 11), (2, 101));
        assert_eq!(w(12, 100), (0, 0));
        // The aggregate row is counted but is not a content topic.
        let topics = store.message_topics().unwrap();
        assert_eq!(topics.len(), 1);
        assert_eq!(
            topics["/waku/2/rs/1/0"].iter().collect::<Vec<_>>(),
            ["/app/1/chat/proto"]
        );
    }

    #[test]
    fn old_buckets_are_dropped_and_totals_kept() {
        let (_dir, store) = temp_store();
        let key = ("p".to_string(), Some("c".to_string()));
        let mut d = HashMap::new();
        d.insert(
            key.clone(),
            delta(&[(1, MINUTE), (2, 2 * MINUTE), (3, 300 * MINUTE)]),
        );
        store.apply_message_deltas(d, 0).unwrap();
        assert_eq!(store.message_window("p", "c", 0, 1_000).unwrap(), (3, 6));
        // The next flush drops buckets before minute 3 (of this row only).
        let mut d = HashMap::new();
        d.insert(key, delta(&[(4, 301 * MINUTE)]));
        d.insert(
            ("p".to_string(), Some("d".to_string())),
            delta(&[(8, MINUTE)]),
        );
        store.apply_message_deltas(d, 3).unwrap();
        assert_eq!(store.message_window("p", "c", 0, 1_000).unwrap(), (2, 7));
        assert_eq!(store.message_window("p", "c", 0, 3).unwrap(), (0, 0));
        // Row "d"'s own bucket at minute 1 is before the cut too.
        assert_eq!(store.message_window("p", "d", 0, 1_000).unwrap(), (0, 0));
        let counts = store.message_counts("p", "c").unwrap();
        assert_eq!((counts[0].messages, counts[0].bytes), (4, 10));
    }

    #[test]
    fn counts_filter_by_pubsub_and_content_prefix() {
        let (_dir, store) = temp_store();
        let mut d = HashMap::new();
        for (p, c) in [("a", "/x/1"), ("a", "/x/2"), ("a", "/y/1"), ("ab", "/x/1")] {
            d.insert((p.to_string(), Some(c.to_string())), delta(&[(1, MINUTE)]));
        }
        store.apply_message_deltas(d, 0).unwrap();
        let rows = |p, c| {
            store
                .message_counts(p, c)
                .unwrap()
                .into_iter()
                .map(|r| format!("{}{}", r.pubsub_topic, r.content_topic))
                .collect::<Vec<_>>()
        };
        // In (pubsub, content) order; "a" does not match "ab".
        assert_eq!(rows("", ""), ["a/x/1", "a/x/2", "a/y/1", "ab/x/1"]);
        assert_eq!(rows("a", ""), ["a/x/1", "a/x/2", "a/y/1"]);
        assert_eq!(rows("a", "/x"), ["a/x/1", "a/x/2"]);
        assert_eq!(rows("", "/x/1"), ["a/x/1", "ab/x/1"]);
        assert!(rows("zzz", "").is_empty());
    }

    #[test]
    fn undecodable_data_is_counted_per_pubsub_topic() {
        let (_dir, store) = temp_store();
        for round in 0..2u64 {
            let mut d = HashMap::new();
            d.insert(
                ("a".to_string(), None),
                delta(&[(10, (5 - round) * MINUTE)]),
            );
            d.insert(("b".to_string(), None), delta(&[(3, MINUTE), (4, MINUTE)]));
            store.apply_message_deltas(d, 0).unwrap();
        }
        let all = store.undecodable_counts("").unwrap();
        assert_eq!(all.len(), 2);
        let a = &store.undecodable_counts("a").unwrap()[0];
        assert_eq!((a.messages, a.bytes), (2, 20));
        assert_eq!((a.first_seen, a.last_seen), (4 * MINUTE, 5 * MINUTE));
        let b = &store.undecodable_counts("b").unwrap()[0];
        assert_eq!((b.messages, b.bytes), (4, 14));
        // Undecodable data is neither a count row nor a bucket.
        assert!(store.message_counts("", "").unwrap().is_empty());
        assert!(store.undecodable_counts("c").unwrap().is_empty());
    }
}
