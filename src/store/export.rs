//! The export feed: what the PostgreSQL sink ([`crate::sink`]) reads to copy the store into
//! a database exactly once, kept in sled so that it survives crashes and never makes a
//! writer wait for the database.
//!
//! | tree           | key                        | value                         |
//! |----------------|----------------------------|-------------------------------|
//! | `export_feed`  | sequence (u64 BE)          | [`FeedEntry`] (JSON)          |
//! | `export_dirty` | [`Changed`] kind ‖ row key | change id (u64 BE)            |
//!
//! **One transaction.** Every write of a row the sink exports feeds the export in the sled
//! transaction that writes the row, next to the trees that write already spans: a peer
//! record with its indexes (`peers.rs`), a visit with its peer (`visits.rs`), a peer's
//! `last_seen` time, a crawl (`crawls.rs`), a flush of relay counts (`messages.rs`). After
//! a crash (`kill -9`) a row and its export entry are both there or neither is. sled's
//! transactions are also atomic for readers (they exclude every other read and write while
//! they commit), so the sink never sees an entry without its row or the other way round.
//! The peers of every driver (discv5, CometBFT) go through these same functions.
//!
//! **Append-only rows** (visits, ENR versions, relay message sightings) get an entry in
//! `export_feed` under a sequence number from sled's crash-safe id generator. Feed entries
//! become visible in sequence order (one lock orders the appends: a number is taken and its
//! transaction committed before the next is handed out), so a reader that has seen
//! sequence `n` has seen every entry below `n`: the sink keeps one number per vantage, its
//! high-water mark, and advances it in the same database transaction that writes the rows.
//!
//! **Mutable rows** (peers, crawls, relay counts, per-minute buckets, undecodable counts)
//! are marked changed in `export_dirty`, the mark holding a change id that is fresh for
//! each transaction. The sink upserts the row's current value and then removes the mark
//! only if its change id is still the one it read ([`Store::clear_changes`]), so a change
//! made meanwhile is exported again.
//!
//! Events need neither: they carry their own sequence numbers.
//!
//! **Only while exporting.** A store that no sink exports (the default) pays nothing: its
//! writes mark and feed nothing ([`Store::set_export`] is off). The first write made so
//! notes a gap (`export_feed_trimmed` in `meta`), so that the next sink to start queues
//! the whole store ([`Store::backfill_export`]). The service turns the export on when it
//! opens the store with a sink configured, before any crawl writes, and leaves it on.
//!
//! **Bounds.** `export_dirty` holds at most one key per stored row. `export_feed` is
//! trimmed by the sink once exported; without a sink (or while it cannot write) it keeps
//! at most [`FEED_CAP`] entries, the oldest dropped first. A dropped entry is recorded
//! (`export_feed_trimmed` in `meta`); the sink then re-feeds every stored visit and ENR
//! version ([`Store::backfill_export`]). Relay message sightings are fed only while a sink
//! runs ([`Store::set_message_log`]). A visit or ENR version that the store's own bounds
//! ([`VISITS_PER_PEER`](crate::store::VISITS_PER_PEER),
//! [`ENR_HISTORY_PER_NODE`](crate::store::ENR_HISTORY_PER_NODE)) dropped before the sink
//! read its entry is not exported (the database keeps every row it was given).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use crate::model::{CrawlId, MessageCount, NodeId, UndecodableCount, UnixMillis, VisitReport};
use crate::store::keys::{be, decode, encode, enr_key, parse_bucket, u64_key, visit_key};
use crate::store::{Store, StoreError};

/// Feed entries kept at most while no sink trims them (about 100 bytes each).
pub const FEED_CAP: u64 = 2_000_000;

/// Feed entries appended between two checks of [`FEED_CAP`].
const CAP_CHECK_EVERY: u64 = 4096;

/// Marks (or feed entries) per batch when [`Store::backfill_export`] queues the store.
const BACKFILL_BATCH: usize = 4096;

/// The export's state besides its trees (one per store, shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct ExportState {
    /// Orders feed appends (an entry is visible before the next sequence is handed out);
    /// counts the entries appended since the store was opened.
    order: Mutex<u64>,
    /// Whether relay message sightings are fed (only while a sink runs).
    log_messages: AtomicBool,
    /// Whether writes feed the export at all ([`Store::set_export`]).
    on: AtomicBool,
    /// A write went unfed since the export was last turned on, and the store has noted it.
    gap_noted: AtomicBool,
}

/// One entry of the export feed: a reference to an append-only row, or the row itself
/// when the store keeps no other copy (relay message sightings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedEntry {
    /// A visit, by its key in `visits`.
    Visit {
        /// Node id, hex.
        node: String,
        started: UnixMillis,
        crawl: CrawlId,
    },
    /// An ENR version, by its key in `enrs`.
    Enr {
        /// Node id, hex.
        node: String,
        seq: u64,
    },
    /// A relay message as one vantage saw it.
    Message(MessageSighting),
}

/// One relay message delivered to the relay monitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSighting {
    /// The gossipsub message id (Waku: SHA-256 of the data), hex. Equal on every vantage
    /// that sees the message, which is what lets a database count it once.
    pub id: String,
    pub pubsub_topic: String,
    /// The message's content topic; `None` when the data did not decode.
    pub content_topic: Option<String>,
    pub bytes: u64,
    pub seen_at: UnixMillis,
}

/// Kinds of mutable rows tracked in `export_dirty` (the first byte of the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Changed {
    /// Key: node id.
    Peer = b'p' as isize,
    /// Key: crawl id (u64 BE).
    Crawl = b'c' as isize,
    /// Key: the `msg_counts` key (pubsub ‖ 0 ‖ content).
    MessageCount = b'm' as isize,
    /// Key: the `msg_buckets` key (pubsub ‖ 0 ‖ content ‖ 0 ‖ minute).
    MessageBucket = b'b' as isize,
    /// Key: the pubsub topic.
    Undecodable = b'u' as isize,
}

impl Changed {
    fn from_byte(b: u8) -> Option<Changed> {
        Some(match b {
            b'p' => Changed::Peer,
            b'c' => Changed::Crawl,
            b'm' => Changed::MessageCount,
            b'b' => Changed::MessageBucket,
            b'u' => Changed::Undecodable,
            _ => return None,
        })
    }
}

/// A mutable row marked changed, with the change id read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: Changed,
    /// The row's key in its tree.
    pub key: Vec<u8>,
    pub id: u64,
}

impl Change {
    /// The mark's key in `export_dirty` (a cursor for [`Store::changes`]).
    pub fn stored_key(&self) -> Vec<u8> {
        dirty_key(self.kind, &self.key)
    }
}

/// One per-minute bucket of relay counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageBucket {
    pub pubsub_topic: String,
    pub content_topic: String,
    /// Minutes since the Unix epoch.
    pub minute: u64,
    pub messages: u64,
    pub bytes: u64,
}

/// What [`Store::backfill_export`] queued.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backfill {
    /// Mutable rows marked changed.
    pub marked: u64,
    /// Visits and ENR versions fed.
    pub fed: u64,
}

fn dirty_key(kind: Changed, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(kind as u8);
    k.extend_from_slice(key);
    k
}

/// A big-endian u64 key (a crawl id in a [`Change`]).
pub fn u64_of(key: &[u8]) -> Option<u64> {
    u64_key(key)
}

/// Marks a mutable row changed, inside the transaction that writes it (`dirty` is the
/// transaction's view of `export_dirty`; `id` from [`Store::change_id`], 0 while the export
/// is off: nothing is marked).
pub(crate) fn mark(
    dirty: &TransactionalTree,
    kind: Changed,
    key: &[u8],
    id: u64,
) -> Result<(), UnabortableTransactionError> {
    if id != 0 {
        dirty.insert(dirty_key(kind, key), &be(id)[..])?;
    }
    Ok(())
}

/// Appends `entry` under `seq` (from [`Store::with_feed_seq`], 0 while the export is off:
/// nothing is appended), inside the transaction that writes its row (`feed` is the
/// transaction's view of `export_feed`).
pub(crate) fn feed(
    feed: &TransactionalTree,
    seq: u64,
    entry: &FeedEntry,
) -> Result<(), UnabortableTransactionError> {
    if seq != 0 {
        feed.insert(&be(seq)[..], encode(entry))?;
    }
    Ok(())
}

/// The feed entry of the visit `visit`.
pub(crate) fn visit_entry(visit: &VisitReport) -> FeedEntry {
    FeedEntry::Visit {
        node: hex::encode(visit.node_id),
        started: visit.started,
        crawl: visit.crawl_id,
    }
}

/// The feed entry of ENR version `seq` of `node`.
pub(crate) fn enr_entry(node: &NodeId, seq: u64) -> FeedEntry {
    FeedEntry::Enr {
        node: hex::encode(node),
        seq,
    }
}

impl Store {
    // ---- writers (the store's own write paths call these) -------------------------------

    /// Turns the export on or off. On: every write marks or feeds what it changed, for a
    /// sink to read. Off (how a store opens): writes mark and feed nothing, and the first
    /// such write notes a gap that makes the next sink queue the whole store.
    pub fn set_export(&self, on: bool) {
        if on {
            self.export.gap_noted.store(false, Ordering::SeqCst);
        }
        self.export.on.store(on, Ordering::SeqCst);
    }

    /// Whether writes feed the export ([`Store::set_export`]).
    pub fn exporting(&self) -> bool {
        self.export.on.load(Ordering::SeqCst)
    }

    /// Notes, once per time the export was off, that writes went unfed: the next sink
    /// queues the whole store ([`Store::feed_trimmed_through`] is then above any mark).
    /// Written before the unfed write, so that a store holding the write holds the note.
    fn note_gap(&self) -> Result<(), StoreError> {
        // Read first: after the note, writes only read the flag (no cache-line writes).
        if !self.export.gap_noted.load(Ordering::Relaxed)
            && !self.export.gap_noted.swap(true, Ordering::SeqCst)
        {
            self.meta.insert("export_feed_trimmed", &be(u64::MAX))?;
        }
        Ok(())
    }

    /// A fresh change id for the marks of one transaction (never 0), or 0 while the export
    /// is off (nothing is marked; the gap is noted). Taken before the transaction starts:
    /// its closure may run more than once, and sled may persist its id counter (a flush)
    /// while handing one out, which must not happen under a transaction's lock.
    pub(crate) fn change_id(&self) -> Result<u64, StoreError> {
        if !self.exporting() {
            self.note_gap()?;
            return Ok(0);
        }
        Ok(self.db.generate_id()? + 1)
    }

    /// Runs `write` with a fresh feed sequence number (never 0, never reused, even after a
    /// crash), holding the feed's append order until it returns, so that the entry it
    /// appends becomes visible before any later sequence is handed out. `write` returns
    /// its result and whether it appended the entry; a sequence it did not use is a gap,
    /// which readers skip. While the export is off, `write` gets 0 (append nothing).
    pub(crate) fn with_feed_seq<T>(
        &self,
        write: impl FnOnce(u64) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        if !self.exporting() {
            self.note_gap()?;
            return Ok(write(0)?.0);
        }
        let mut order = self.export.order.lock().unwrap_or_else(|e| e.into_inner());
        let seq = self.next_feed_seq()?;
        let (out, appended) = write(seq)?;
        if appended {
            self.after_append(&mut order, 1)?;
        }
        Ok(out)
    }

    /// The next feed sequence: sled's id generator (monotonic across crashes) plus one, so
    /// that 0 stays "nothing exported".
    fn next_feed_seq(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()? + 1)
    }

    /// Marks the rows `keys` of kind `kind` changed, in one batch (for writes outside a
    /// transaction: the migration and the backfill, which mark before they write).
    pub(crate) fn mark_changed_batch<'a>(
        &self,
        kind: Changed,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<u64, StoreError> {
        let id = self.change_id()?;
        if id == 0 {
            return Ok(0);
        }
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for key in keys {
            batch.insert(dirty_key(kind, key), &be(id)[..]);
            n += 1;
        }
        self.export_dirty.apply_batch(batch)?;
        Ok(n)
    }

    /// Appends entries that have no other copy in the store (relay message sightings), or
    /// re-feeds stored rows ([`Store::backfill_export`], the migration), in one batch.
    pub(crate) fn append_feed(&self, entries: Vec<FeedEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        if !self.exporting() {
            return self.note_gap();
        }
        let mut order = self.export.order.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = sled::Batch::default();
        let n = entries.len() as u64;
        for entry in entries {
            batch.insert(&be(self.next_feed_seq()?), encode(&entry));
        }
        self.export_feed.apply_batch(batch)?;
        self.after_append(&mut order, n)
    }

    /// Counts appends and applies [`FEED_CAP`] every [`CAP_CHECK_EVERY`] of them.
    fn after_append(&self, appended: &mut u64, n: u64) -> Result<(), StoreError> {
        let before = *appended;
        *appended += n;
        if before / CAP_CHECK_EVERY == *appended / CAP_CHECK_EVERY {
            return Ok(());
        }
        let feed = &self.export_feed;
        let (Some((first, _)), Some((last, _))) = (feed.first()?, feed.last()?) else {
            return Ok(());
        };
        let (first, last) = (u64_key(&first).unwrap_or(0), u64_key(&last).unwrap_or(0));
        if last.saturating_sub(first) < FEED_CAP {
            return Ok(());
        }
        let through = last - FEED_CAP;
        let dropped = self.remove_feed_through(through)?;
        let trimmed = self.feed_trimmed_through().max(through);
        self.meta.insert("export_feed_trimmed", &be(trimmed))?;
        tracing::warn!(
            dropped,
            through,
            "export feed over its cap: oldest entries dropped before export; the sink will re-feed visits and ENR versions"
        );
        Ok(())
    }

    fn remove_feed_through(&self, through: u64) -> Result<u64, StoreError> {
        let mut removed = 0;
        loop {
            let keys: Vec<_> = self
                .export_feed
                .range(..=be(through))
                .keys()
                .take(4096)
                .collect::<Result<_, _>>()?;
            if keys.is_empty() {
                return Ok(removed);
            }
            let mut batch = sled::Batch::default();
            for k in &keys {
                batch.remove(k.clone());
            }
            self.export_feed.apply_batch(batch)?;
            removed += keys.len() as u64;
        }
    }

    /// Turns the feeding of relay message sightings on or off (on while a sink runs).
    pub fn set_message_log(&self, on: bool) {
        self.export.log_messages.store(on, Ordering::Relaxed);
    }

    /// Whether relay message sightings are fed.
    pub fn message_log(&self) -> bool {
        self.export.log_messages.load(Ordering::Relaxed)
    }

    /// Feeds relay message sightings (nothing when the message log is off).
    pub fn log_messages(&self, sightings: Vec<MessageSighting>) -> Result<(), StoreError> {
        if !self.message_log() {
            return Ok(());
        }
        self.append_feed(sightings.into_iter().map(FeedEntry::Message).collect())
    }

    // ---- readers (the sink) -------------------------------------------------------------

    /// Feed entries with a sequence above `after`, in order, at most `limit`.
    pub fn feed_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, FeedEntry)>, StoreError> {
        let mut out = Vec::new();
        for item in self.export_feed.range(be(after.saturating_add(1))..) {
            let (k, v) = item?;
            out.push((u64_key(&k).unwrap_or(0), decode("export_feed", &v)?));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The last feed sequence stored (0 when the feed is empty).
    pub fn feed_last(&self) -> Result<u64, StoreError> {
        Ok(self
            .export_feed
            .last()?
            .and_then(|(k, _)| u64_key(&k))
            .unwrap_or(0))
    }

    /// Feed entries above `after` (what a sink at `after` has still to export).
    pub fn feed_pending(&self, after: u64) -> usize {
        self.export_feed
            .range(be(after.saturating_add(1))..)
            .count()
    }

    /// The highest sequence dropped by [`FEED_CAP`] before it was exported (0: none).
    pub fn feed_trimmed_through(&self) -> u64 {
        self.meta
            .get("export_feed_trimmed")
            .ok()
            .flatten()
            .and_then(|v| u64_key(&v))
            .unwrap_or(0)
    }

    /// Drops feed entries up to `through` (the sink has committed them).
    pub fn trim_feed_through(&self, through: u64) -> Result<u64, StoreError> {
        self.remove_feed_through(through)
    }

    /// Mutable rows marked changed, at most `limit`, in key order from after `cursor`
    /// (the last key of the previous read), wrapping around to the first key, so that
    /// rows changed again and again cannot starve the others.
    pub fn changes(&self, cursor: Option<&[u8]>, limit: usize) -> Result<Vec<Change>, StoreError> {
        use std::ops::Bound;
        let dirty = &self.export_dirty;
        let (tail, head) = match cursor {
            Some(c) => (
                dirty.range::<&[u8], _>((Bound::Excluded(c), Bound::Unbounded)),
                Some(dirty.range::<&[u8], _>((Bound::Unbounded, Bound::Included(c)))),
            ),
            None => (dirty.iter(), None),
        };
        let mut out = Vec::new();
        for item in tail.chain(head.into_iter().flatten()) {
            let (k, v) = item?;
            let Some(kind) = k.first().copied().and_then(Changed::from_byte) else {
                // Not a key this build writes: drop it rather than stall the export.
                dirty.remove(&k)?;
                continue;
            };
            out.push(Change {
                kind,
                key: k[1..].to_vec(),
                id: u64_key(&v).unwrap_or(0),
            });
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Rows marked changed.
    pub fn changes_pending(&self) -> usize {
        self.export_dirty.len()
    }

    /// Removes the marks of exported rows whose change id is still the one read; a row
    /// changed meanwhile keeps its mark.
    pub fn clear_changes(&self, done: &[Change]) -> Result<(), StoreError> {
        for c in done {
            let _ = self.export_dirty.compare_and_swap(
                dirty_key(c.kind, &c.key),
                Some(&be(c.id)[..]),
                None as Option<&[u8]>,
            )?;
        }
        Ok(())
    }

    /// The visit a [`FeedEntry::Visit`] refers to (`None` once retention dropped it).
    pub fn fed_visit(
        &self,
        node: &str,
        started: UnixMillis,
        crawl: CrawlId,
    ) -> Result<Option<VisitReport>, StoreError> {
        let Some(node) = crate::model::parse_node_id(node) else {
            return Ok(None);
        };
        self.visits
            .get(visit_key(&node, started, crawl))?
            .map(|v| decode("visits", &v))
            .transpose()
    }

    /// The `enr:` text a [`FeedEntry::Enr`] refers to.
    pub fn fed_enr(&self, node: &str, seq: u64) -> Result<Option<String>, StoreError> {
        let Some(node) = crate::model::parse_node_id(node) else {
            return Ok(None);
        };
        Ok(self
            .enrs
            .get(enr_key(&node, seq))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// One `msg_counts` row by key.
    pub fn message_count_at(&self, key: &[u8]) -> Result<Option<MessageCount>, StoreError> {
        self.msg_counts
            .get(key)?
            .map(|v| decode("msg_counts", &v))
            .transpose()
    }

    /// One per-minute bucket by key (`None` once retention dropped it).
    pub fn message_bucket_at(&self, key: &[u8]) -> Result<Option<MessageBucket>, StoreError> {
        let Some(v) = self.msg_buckets.get(key)? else {
            return Ok(None);
        };
        let Some((messages, bytes)) = parse_bucket(&v).filter(|_| key.len() >= 10) else {
            return Err(StoreError::Corrupt {
                tree: "msg_buckets",
                reason: "bucket key or value of the wrong length".into(),
            });
        };
        let (topic, minute) = key.split_at(key.len() - 9);
        // Content topics never hold a NUL (the decoder refuses them): the last NUL of the
        // topic key separates the pubsub topic from the content topic.
        let split = topic
            .iter()
            .rposition(|&b| b == 0)
            .ok_or(StoreError::Corrupt {
                tree: "msg_buckets",
                reason: "no topic separator".into(),
            })?;
        Ok(Some(MessageBucket {
            pubsub_topic: String::from_utf8_lossy(&topic[..split]).into_owned(),
            content_topic: String::from_utf8_lossy(&topic[split + 1..]).into_owned(),
            minute: u64_key(&minute[1..]).unwrap_or(0),
            messages,
            bytes,
        }))
    }

    /// Every per-minute bucket, in key order (for comparisons and tools).
    pub fn message_buckets(&self) -> Result<Vec<MessageBucket>, StoreError> {
        let mut out = Vec::new();
        for k in self.msg_buckets.iter().keys() {
            if let Some(b) = self.message_bucket_at(&k?)? {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// One undecodable-count row by pubsub topic.
    pub fn undecodable_at(&self, pubsub: &[u8]) -> Result<Option<UndecodableCount>, StoreError> {
        self.msg_undecodable
            .get(pubsub)?
            .map(|v| decode("msg_undecodable", &v))
            .transpose()
    }

    /// Every visit, in key order (node, time, crawl), for comparisons and tools.
    pub fn all_visits(&self) -> Result<Vec<VisitReport>, StoreError> {
        self.visits
            .iter()
            .values()
            .map(|v| decode("visits", &v?))
            .collect()
    }

    /// Every ENR version: node id, seq, `enr:` text, in key order.
    pub fn all_enr_versions(&self) -> Result<Vec<(NodeId, u64, String)>, StoreError> {
        let mut out = Vec::new();
        for item in self.enrs.iter() {
            let (k, v) = item?;
            let Ok(node) = <NodeId>::try_from(&k[..32.min(k.len())]) else {
                continue;
            };
            let seq = u64_key(&k[32..]).unwrap_or(0);
            out.push((node, seq, String::from_utf8_lossy(&v).into_owned()));
        }
        Ok(out)
    }

    /// This store's identity: random, made once, kept in `meta`. The sink binds a vantage
    /// to it so that two stores never write under one vantage name.
    pub fn store_id(&self) -> Result<String, StoreError> {
        if let Some(v) = self.meta.get("store_id")? {
            return Ok(String::from_utf8_lossy(&v).into_owned());
        }
        let id = hex::encode(rand::random::<[u8; 16]>());
        // Two first callers race: the first write wins and both read it back.
        let _ =
            self.meta
                .compare_and_swap("store_id", None as Option<&[u8]>, Some(id.as_bytes()))?;
        Ok(self
            .meta
            .get("store_id")?
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or(id))
    }

    /// The sink's high-water marks (event, feed) as last committed, kept here for status
    /// reports before the database answers again.
    pub fn export_progress(&self) -> (u64, u64) {
        match self.meta.get("export_progress").ok().flatten() {
            Some(v) if v.len() == 16 => {
                (u64_key(&v[..8]).unwrap_or(0), u64_key(&v[8..]).unwrap_or(0))
            }
            _ => (0, 0),
        }
    }

    /// Records the sink's high-water marks (see [`Store::export_progress`]).
    pub fn set_export_progress(&self, event_seq: u64, feed_seq: u64) -> Result<(), StoreError> {
        let mut v = be(event_seq).to_vec();
        v.extend_from_slice(&be(feed_seq));
        self.meta.insert("export_progress", v)?;
        Ok(())
    }

    /// Makes everything written so far durable (the sink calls it before it commits, so
    /// the database never holds a row the store could lose in a crash).
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.flush().await
    }

    /// Queues the whole store for export: marks every mutable row changed and feeds every
    /// stored visit and ENR version. The sink calls it when its database has nothing of
    /// this store yet, or when the feed lost entries before export; rows already exported
    /// are written again as the same values (the database ignores or overwrites them).
    pub fn backfill_export(&self) -> Result<Backfill, StoreError> {
        let mut out = Backfill::default();
        let trees: [(&sled::Tree, Changed); 5] = [
            (&self.peers, Changed::Peer),
            (&self.crawls, Changed::Crawl),
            (&self.msg_counts, Changed::MessageCount),
            (&self.msg_buckets, Changed::MessageBucket),
            (&self.msg_undecodable, Changed::Undecodable),
        ];
        for (tree, kind) in trees {
            let mut keys = tree.iter().keys().peekable();
            while keys.peek().is_some() {
                let chunk = keys
                    .by_ref()
                    .take(BACKFILL_BATCH)
                    .collect::<Result<Vec<_>, _>>()?;
                out.marked += self.mark_changed_batch(kind, chunk.iter().map(|k| &k[..]))?;
            }
        }
        let mut entries = Vec::new();
        let visits = self.visits.iter().keys().filter_map(|k| match k {
            Ok(k) if k.len() == 48 => Some(Ok(FeedEntry::Visit {
                node: hex::encode(&k[..32]),
                started: u64_key(&k[32..40]).unwrap_or(0),
                crawl: u64_key(&k[40..]).unwrap_or(0),
            })),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        });
        let enrs = self.enrs.iter().keys().filter_map(|k| match k {
            Ok(k) if k.len() == 40 => Some(Ok(FeedEntry::Enr {
                node: hex::encode(&k[..32]),
                seq: u64_key(&k[32..]).unwrap_or(0),
            })),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        });
        for entry in visits.chain(enrs) {
            entries.push(entry?);
            if entries.len() == BACKFILL_BATCH {
                out.fed += entries.len() as u64;
                self.append_feed(std::mem::take(&mut entries))?;
            }
        }
        out.fed += entries.len() as u64;
        self.append_feed(entries)?;
        // Entries dropped before are covered now.
        self.meta.remove("export_feed_trimmed")?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CrawlState, PeerState};
    use crate::store::test_support::{crawl, enr, temp_store};

    fn visit(node: u8, started: u64) -> VisitReport {
        VisitReport {
            node_id: [node; 32],
            crawl_id: 1,
            started,
            duration_ms: 5,
            address: Some("/ip4/127.0.0.1/tcp/1".into()),
            error_class: None,
            error: None,
            identify: None,
            metadata: None,
            metadata_error: None,
            rtt_us: Some(100),
            node_info: None,
        }
    }

    /// A temporary store whose writes feed the export (as with a sink configured).
    fn exporting_store() -> (tempfile::TempDir, Store) {
        let (dir, store) = temp_store();
        store.set_export(true);
        (dir, store)
    }

    fn marked(store: &Store, kind: Changed, key: &[u8]) -> bool {
        store
            .changes(None, 1000)
            .unwrap()
            .iter()
            .any(|c| c.kind == kind && c.key == key)
    }

    #[test]
    fn visits_are_fed_in_order_and_marks_survive_a_concurrent_change() {
        let (_dir, store) = exporting_store();
        for i in 0..5 {
            store
                .record_visit(&visit(1, 1000 + i), PeerState::Vetted)
                .unwrap();
        }
        let feed = store.feed_after(0, 100).unwrap();
        assert_eq!(feed.len(), 5);
        assert!(feed.windows(2).all(|w| w[0].0 < w[1].0));
        for (i, (_, e)) in feed.iter().enumerate() {
            let FeedEntry::Visit {
                node,
                started,
                crawl,
            } = e
            else {
                panic!("{e:?}");
            };
            let v = store.fed_visit(node, *started, *crawl).unwrap().unwrap();
            assert_eq!(v.started, 1000 + i as u64);
        }
        // Resuming after the third returns the last two.
        let rest = store.feed_after(feed[2].0, 100).unwrap();
        assert_eq!(rest, feed[3..].to_vec());
        assert_eq!(store.feed_pending(feed[2].0), 2);
        store.trim_feed_through(feed[2].0).unwrap();
        assert_eq!(store.feed_after(0, 100).unwrap(), feed[3..].to_vec());

        // A crawl write marks the crawl changed; a change made after the sink read the
        // mark keeps it marked.
        let mut c = crawl(7, CrawlState::Running);
        store.put_crawl(&c).unwrap();
        let read = store.changes(None, 100).unwrap();
        assert!(read
            .iter()
            .any(|c| c.kind == Changed::Crawl && c.key == be(7)));
        c.state = CrawlState::Finished;
        store.put_crawl(&c).unwrap();
        store.clear_changes(&read).unwrap();
        let left = store.changes(None, 100).unwrap();
        assert!(left
            .iter()
            .any(|c| c.kind == Changed::Crawl && c.key == be(7)));
        store.clear_changes(&left).unwrap();
        assert_eq!(store.changes_pending(), 0);
    }

    /// Every write path of a peer marks it, and new ENR versions are fed, each in the
    /// write's own transaction; writes that change nothing mark nothing.
    #[test]
    fn every_peer_write_marks_the_peer_and_new_versions_are_fed() {
        let (_dir, store) = exporting_store();
        let node = enr(1, 1).node_id;
        let clear = |store: &Store| {
            let all = store.changes(None, 1000).unwrap();
            store.clear_changes(&all).unwrap();
        };
        store.upsert_peer(1, &enr(1, 1), 100).unwrap();
        assert!(marked(&store, Changed::Peer, &node));
        let fed = store.feed_after(0, 10).unwrap();
        assert_eq!(fed.len(), 1);
        assert_eq!(fed[0].1, enr_entry(&node, 1));
        assert_eq!(
            store.fed_enr(&hex::encode(node), 1).unwrap(),
            Some(enr(1, 1).text)
        );
        // A newer record: marked and fed; the same record again by the crawl that saw
        // it: only `last_seen` moves, which marks the peer too (it is exported).
        clear(&store);
        store.upsert_peer(1, &enr(1, 2), 200).unwrap();
        assert!(marked(&store, Changed::Peer, &node));
        assert_eq!(store.feed_after(fed[0].0, 10).unwrap().len(), 1);
        for write in 0..6 {
            clear(&store);
            match write {
                0 => {
                    store.upsert_peer(1, &enr(1, 2), 300).unwrap();
                }
                1 => store.touch_peer(&node, 400).unwrap(),
                2 => store.set_peer_state(&node, PeerState::Banned).unwrap(),
                3 => store.mark_out_of_scope(&node, "outside").unwrap(),
                4 => {
                    let geo = crate::model::GeoInfo {
                        ip: "127.0.0.1".into(),
                        ..Default::default()
                    };
                    assert!(store.set_peer_geo(&node, &geo).unwrap());
                }
                _ => store
                    .add_peer_source(
                        &node,
                        crate::model::PeerSource {
                            kind: crate::model::SourceKind::Discv5,
                            via: None,
                            first_seen: 1,
                        },
                    )
                    .unwrap(),
            }
            assert!(marked(&store, Changed::Peer, &node), "write {write}");
        }
        // Writes that change nothing leave no mark.
        clear(&store);
        store.touch_peer(&node, 10).unwrap();
        store.set_peer_state(&node, PeerState::Banned).unwrap();
        store.touch_peer(&[9; 32], 500).unwrap();
        assert_eq!(store.changes_pending(), 0);
        // A visit marks its peer and is fed.
        let last = store.feed_last().unwrap();
        store
            .record_visit(&visit(1, 600), PeerState::Vetted)
            .unwrap();
        assert!(marked(&store, Changed::Peer, &node));
        let fed = store.feed_after(last, 10).unwrap();
        assert!(matches!(
            &fed[..],
            [(_, FeedEntry::Visit { started: 600, .. })]
        ));
    }

    #[test]
    fn relay_counts_mark_their_rows() {
        let (_dir, store) = exporting_store();
        let mut d = crate::store::MessageDelta::default();
        d.add(10, 120_000);
        let mut deltas = std::collections::HashMap::new();
        deltas.insert(
            ("/p".to_string(), Some("/c/1/x/proto".to_string())),
            d.clone(),
        );
        deltas.insert(("/p".to_string(), None), d);
        store.apply_message_deltas(deltas, 0).unwrap();
        let kinds: Vec<Changed> = store
            .changes(None, 10)
            .unwrap()
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                Changed::MessageBucket,
                Changed::MessageCount,
                Changed::Undecodable
            ]
        );
        let bucket = store.message_buckets().unwrap();
        assert_eq!(
            bucket,
            [MessageBucket {
                pubsub_topic: "/p".into(),
                content_topic: "/c/1/x/proto".into(),
                minute: 2,
                messages: 1,
                bytes: 10,
            }]
        );
    }

    #[test]
    fn messages_are_fed_only_while_the_log_is_on_and_backfill_refeeds() {
        let (_dir, store) = exporting_store();
        let m = |i: u8| MessageSighting {
            id: hex::encode([i; 32]),
            pubsub_topic: "/waku/2/rs/1/0".into(),
            content_topic: Some("/a/1/b/proto".into()),
            bytes: 10,
            seen_at: 5,
        };
        store.log_messages(vec![m(1)]).unwrap();
        assert_eq!(store.feed_last().unwrap(), 0);
        store.set_message_log(true);
        store.log_messages(vec![m(2), m(3)]).unwrap();
        let feed = store.feed_after(0, 10).unwrap();
        assert_eq!(
            feed.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
            vec![FeedEntry::Message(m(2)), FeedEntry::Message(m(3))]
        );
        store.record_visit(&visit(2, 9), PeerState::New).unwrap();
        let last = store.feed_last().unwrap();
        store.trim_feed_through(last).unwrap();
        let b = store.backfill_export().unwrap();
        assert_eq!(b.fed, 1, "the one stored visit");
        let refed = store.feed_after(last, 10).unwrap();
        assert_eq!(refed.len(), 1);
        assert!(matches!(&refed[0].1, FeedEntry::Visit { started: 9, .. }));
        assert!(refed[0].0 > last, "sequences never go back");
    }

    /// A write stopped midway (as a crash there would stop it) leaves neither the row nor
    /// its export entry.
    #[test]
    fn a_write_stopped_midway_leaves_no_export_entry() {
        let (dir, store) = exporting_store();
        store.arm_failpoint("upsert_peer");
        assert!(store.upsert_peer(1, &enr(1, 1), 1).is_err());
        store.arm_failpoint("record_visit");
        assert!(store.record_visit(&visit(1, 5), PeerState::New).is_err());
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        store.set_export(true);
        assert_eq!(store.changes_pending(), 0);
        assert_eq!(store.feed_last().unwrap(), 0);
        assert_eq!(store.get_peer(&[1; 32]).unwrap(), None);
    }

    #[test]
    fn store_id_is_made_once_and_kept() {
        let (dir, store) = temp_store();
        let a = store.store_id().unwrap();
        assert_eq!(a, store.store_id().unwrap());
        assert_eq!(a.len(), 32);
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        assert_eq!(store.store_id().unwrap(), a);
    }

    /// Without a sink the store marks and feeds nothing (a default server pays nothing for
    /// the export), notes the gap once, and a sink starting later queues everything.
    #[test]
    fn without_export_nothing_is_marked_or_fed_and_the_gap_is_noted() {
        let (dir, store) = temp_store();
        assert!(!store.exporting());
        assert_eq!(store.feed_trimmed_through(), 0);
        store.upsert_peer(1, &enr(1, 1), 1).unwrap();
        store
            .record_visit(&visit(1, 1000), PeerState::Vetted)
            .unwrap();
        store.upsert_peer(1, &enr(1, 2), 2).unwrap();
        assert_eq!(store.changes_pending(), 0);
        assert_eq!(store.feed_last().unwrap(), 0);
        assert_eq!(store.feed_trimmed_through(), u64::MAX);
        // The note survives a restart, and a backfill covers what went unfed.
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        assert_eq!(store.feed_trimmed_through(), u64::MAX);
        store.set_export(true);
        let b = store.backfill_export().unwrap();
        assert_eq!(store.feed_trimmed_through(), 0);
        assert!(marked(&store, Changed::Peer, &[1; 32]));
        // One visit and two ENR versions.
        assert_eq!(b.fed, 3);
        assert_eq!(store.feed_after(0, 100).unwrap().len(), 3);
        // From now on writes feed the export.
        store
            .record_visit(&visit(1, 2000), PeerState::Vetted)
            .unwrap();
        assert_eq!(store.feed_after(0, 100).unwrap().len(), 4);
    }
}
