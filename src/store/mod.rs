//! The embedded store (sled).
//!
//! One database directory, one tree per entity:
//!
//! | tree          | key                               | value                    |
//! |---------------|-----------------------------------|--------------------------|
//! | `meta`        | name                              | schema version, counters |
//! | `crawls`      | crawl id (u64 BE)                 | [`Crawl`] (JSON)         |
//! | `peers`       | node id (32 bytes)                | [`PeerRecord`] (JSON)    |
//! | `peer_ids`    | libp2p peer id (text)             | node id                  |
//! | `enrs`        | node id ‖ seq (u64 BE)            | `enr:` text              |
//! | `crawl_peers` | crawl id (u64 BE) ‖ node id       | empty                    |
//! | `events`      | sequence (u64 BE)                 | [`PeerEvent`] (JSON)     |
//! | `visits`      | node id ‖ time (ms, BE) ‖ crawl   | [`VisitReport`] (JSON)   |
//! | `msg_counts`  | pubsub ‖ 0 ‖ content              | [`MessageCount`] (JSON)  |
//! | `msg_buckets` | pubsub ‖ 0 ‖ content ‖ 0 ‖ minute | messages, bytes (u64 BE) |
//! | `msg_undecodable` | pubsub                        | [`UndecodableCount`]     |
//! | `geo_cache`   | IP (4 or 16 bytes)                | [`GeoInfo`] (JSON)       |
//!
//! and the export feed's two trees (see [`export`]), which every write of a row that the
//! PostgreSQL sink exports goes through.
//!
//! Geolocation answers are cached per IP; [`Store::cached_geo`] ignores entries older than
//! the caller's TTL (they are overwritten by the next lookup).
//! Visits are kept per peer up to [`VISITS_PER_PEER`], oldest dropped first; the peer
//! record keeps the aggregates (attempts, sessions, uptime, RTT average) for ever.
//!
//! Big-endian integer keys keep sled's byte order equal to numeric order, so ranges and
//! pages are plain key scans.
//!
//! **Flush policy.** sled writes to its log at once and fsyncs every `flush_every_ms`
//! (default 500 ms); crawl state changes (start, stop, finish) are flushed before they are
//! acknowledged. A crash (`kill -9`) can lose at most the writes of the last flush interval.
//! Event sequence numbers are reserved on disk in blocks ([`EVENT_SEQUENCE_BLOCK`]) flushed
//! before use, so a number is never reused, even one whose event was streamed and then lost.

pub mod export;

use std::path::Path;
use std::sync::Arc;

use serde::{de::DeserializeOwned, Serialize};
use tokio::sync::watch;

use crate::model::{
    Crawl, CrawlId, CrawlState, DialInfo, EventFilter, GeoInfo, MessageCount, NetworkStats,
    NewPeerEvent, NodeId, PeerEvent, PeerFilter, PeerRecord, PeerSource, PeerState,
    UndecodableCount, UnixMillis, VisitReport,
};

/// Counts to add to one (pubsub, content) row, with their per-minute split.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageDelta {
    pub messages: u64,
    pub bytes: u64,
    pub first: UnixMillis,
    pub last: UnixMillis,
    /// minute since the epoch → (messages, bytes).
    pub buckets: std::collections::BTreeMap<u64, (u64, u64)>,
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

fn topic_key(pubsub: &str, content: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(pubsub.len() + content.len() + 1);
    k.extend_from_slice(pubsub.as_bytes());
    k.push(0);
    k.extend_from_slice(content.as_bytes());
    k
}

/// Visit records kept per peer.
pub const VISITS_PER_PEER: usize = 100;

/// How a visit changed a peer's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionChange {
    /// Still up, still down, or a first failure.
    None,
    /// Reachable after being down or unknown: a session starts.
    Up,
    /// Unreachable after being up: the session ends.
    Down,
}
use crate::protocol::enr::DecodedEnr;

/// Version of the on-disk layout; bumped with a migration when it changes.
pub const SCHEMA_VERSION: u64 = 1;

/// Default interval between sled's background fsyncs.
pub const DEFAULT_FLUSH_EVERY_MS: u64 = 500;

/// Default sled page cache, in MiB. sled's own default is 1 GiB, which a long-running
/// crawler fills: resident memory then grows with the database up to that size.
pub const DEFAULT_CACHE_MB: u64 = 64;

/// Store failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (I/O, corruption, lock held by another process).
    #[error("database: {0}")]
    Db(#[from] sled::Error),
    /// A stored value could not be decoded.
    #[error("corrupt value in tree {tree}: {reason}")]
    Corrupt { tree: &'static str, reason: String },
    /// The database was written by a newer peerscope.
    #[error("database schema version {found} is newer than this build's {SCHEMA_VERSION}")]
    SchemaTooNew { found: u64 },
}

/// What an upsert did to a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    /// The node was not in the store.
    New,
    /// Known to the store, first seen by this crawl.
    NewToCrawl,
    /// The record has a higher seq than the stored one.
    Updated { previous_seq: u64 },
    /// Same or older record; only `last_seen` moved.
    Seen,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
    crawls: sled::Tree,
    peers: sled::Tree,
    peer_ids: sled::Tree,
    enrs: sled::Tree,
    crawl_peers: sled::Tree,
    events: sled::Tree,
    visits: sled::Tree,
    msg_counts: sled::Tree,
    msg_buckets: sled::Tree,
    msg_undecodable: sled::Tree,
    geo_cache: sled::Tree,
    /// Serializes event appends; holds the next sequence number and the end of the block
    /// of numbers reserved on disk.
    next_sequence: Arc<std::sync::Mutex<Sequencer>>,
    /// The last sequence written (0 before the first event).
    last_sequence: watch::Sender<u64>,
    /// The newest events, decoded, so that subscribers who keep up read them from memory
    /// instead of each scanning and decoding the log.
    recent: Arc<std::sync::RwLock<std::collections::VecDeque<Arc<RecentEvent>>>>,
    /// The export feed and change marks (see [`export`]).
    export: Arc<export::ExportTrees>,
}

/// An event of the in-memory window, with room for its wire encoding.
#[derive(Debug)]
pub struct RecentEvent {
    pub event: PeerEvent,
    /// The event as the API streams it: encoded by the first subscriber that sends it and
    /// shared by every other one (the store never looks inside).
    pub encoded: std::sync::OnceLock<prost::bytes::Bytes>,
}

/// Events kept decoded in memory for live subscribers.
const RECENT_EVENTS: usize = 16_384;

/// Event sequence numbers are reserved on disk in blocks of this many: the end of the
/// block is written and flushed before any number in it is handed out, so a number that
/// reached a subscriber is never given to another event, even if the process dies before
/// the event itself was flushed. After a crash numbering resumes past the reserved block
/// (a gap of at most this many numbers); a clean shutdown leaves no gap.
pub const EVENT_SEQUENCE_BLOCK: u64 = 4096;

/// Next event sequence number and the reserved block's end.
struct Sequencer {
    next: u64,
    reserved: u64,
}

fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        reason: e.to_string(),
    })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain data types to JSON cannot fail (no maps with non-string keys,
    // no custom serializers that error).
    serde_json::to_vec(value).expect("domain types serialize to JSON")
}

/// Folds one visit into a peer's dial info; returns the session change.
fn apply_visit(dial: &mut DialInfo, visit: &VisitReport, state: PeerState) -> SessionChange {
    dial.attempts += 1;
    dial.last_dial = Some(visit.started);
    dial.state = state;
    let end = visit.started + visit.duration_ms;
    if visit.reachable() {
        dial.reachable = Some(true);
        dial.last_connected = Some(end);
        dial.last_error_class = None;
        dial.last_error = visit.error.clone();
        if visit.identify.is_some() {
            dial.identify = visit.identify.clone();
        }
        if visit.metadata.is_some() {
            dial.metadata = visit.metadata.clone();
            dial.metadata_error = None;
        } else if visit.metadata_error.is_some() {
            dial.metadata_error = visit.metadata_error.clone();
        }
        if let Some(rtt) = visit.rtt_us {
            dial.rtt_last_us = Some(rtt);
            dial.rtt_avg_us = Some(match dial.rtt_avg_us {
                Some(avg) => (avg * 3 + rtt) / 4,
                None => rtt,
            });
        }
        if dial.up_since.is_none() {
            dial.up_since = Some(visit.started);
            dial.down_since = None;
            dial.sessions += 1;
            return SessionChange::Up;
        }
        SessionChange::None
    } else {
        dial.reachable = Some(false);
        dial.last_error_class = visit.error_class;
        dial.last_error = visit.error.clone();
        if let Some(up) = dial.up_since.take() {
            dial.uptime_ms += visit.started.saturating_sub(up);
            dial.down_since = Some(visit.started);
            return SessionChange::Down;
        }
        if dial.down_since.is_none() {
            dial.down_since = Some(visit.started);
        }
        SessionChange::None
    }
}

fn ip_key(ip: std::net::IpAddr) -> Vec<u8> {
    match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn u64_key(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

impl Store {
    /// Opens (or creates) the database in `dir`, with the default page cache.
    pub fn open(dir: &Path, flush_every_ms: u64) -> Result<Store, StoreError> {
        Store::open_with_cache(dir, flush_every_ms, DEFAULT_CACHE_MB << 20)
    }

    /// Opens (or creates) the database in `dir` with a page cache of `cache_bytes`.
    pub fn open_with_cache(
        dir: &Path,
        flush_every_ms: u64,
        cache_bytes: u64,
    ) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(flush_every_ms.max(1)))
            .open()?;
        let meta = db.open_tree("meta")?;
        match meta.get("schema_version")? {
            Some(v) => {
                let found = u64_key(&v).unwrap_or(0);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::SchemaTooNew { found });
                }
            }
            None => {
                meta.insert("schema_version", &be(SCHEMA_VERSION))?;
            }
        }
        let events = db.open_tree("events")?;
        let last = match events.last()? {
            Some((k, _)) => u64_key(&k).unwrap_or(0),
            None => 0,
        };
        // Never reuse a number, even one whose event was lost in a crash after it was
        // streamed: the high-water mark is persisted too.
        let persisted = meta
            .get("event_high_water")?
            .and_then(|v| u64_key(&v))
            .unwrap_or(0);
        let last = last.max(persisted);
        let (last_sequence, _) = watch::channel(last);
        Ok(Store {
            crawls: db.open_tree("crawls")?,
            peers: db.open_tree("peers")?,
            peer_ids: db.open_tree("peer_ids")?,
            enrs: db.open_tree("enrs")?,
            crawl_peers: db.open_tree("crawl_peers")?,
            visits: db.open_tree("visits")?,
            msg_counts: db.open_tree("msg_counts")?,
            msg_buckets: db.open_tree("msg_buckets")?,
            msg_undecodable: db.open_tree("msg_undecodable")?,
            geo_cache: db.open_tree("geo_cache")?,
            export: export::ExportTrees::open(&db)?,
            events,
            meta,
            db,
            next_sequence: Arc::new(std::sync::Mutex::new(Sequencer {
                next: last + 1,
                reserved: last,
            })),
            last_sequence,
            recent: Arc::default(),
        })
    }

    /// Writes everything to disk. The unused rest of the reserved block of event sequence
    /// numbers is released first, so a clean restart continues without a gap.
    pub async fn flush(&self) -> Result<(), StoreError> {
        {
            let mut seq = self.next_sequence.lock().unwrap_or_else(|e| e.into_inner());
            let last = seq.next - 1;
            if seq.reserved > last {
                self.meta.insert("event_high_water", &be(last))?;
                seq.reserved = last;
            }
        }
        self.db.flush_async().await?;
        Ok(())
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    // ---- crawls -------------------------------------------------------------------------

    /// Allocates a new crawl id.
    pub fn next_crawl_id(&self) -> Result<CrawlId, StoreError> {
        let v = self.meta.update_and_fetch("crawl_counter", |old| {
            let n = old.and_then(u64_key).unwrap_or(0) + 1;
            Some(be(n).to_vec())
        })?;
        Ok(v.and_then(|v| u64_key(&v)).unwrap_or(1))
    }

    /// Inserts or replaces a crawl.
    pub fn put_crawl(&self, crawl: &Crawl) -> Result<(), StoreError> {
        self.mark_changed(export::Changed::Crawl, &be(crawl.id))?;
        self.crawls.insert(be(crawl.id), encode(crawl))?;
        self.mark_changed(export::Changed::Crawl, &be(crawl.id))?;
        Ok(())
    }

    /// One crawl.
    pub fn get_crawl(&self, id: CrawlId) -> Result<Option<Crawl>, StoreError> {
        self.crawls
            .get(be(id))?
            .map(|v| decode("crawls", &v))
            .transpose()
    }

    /// Crawls with an id below `before` (all when `None`), newest first, at most `limit`.
    pub fn list_crawls(
        &self,
        before: Option<CrawlId>,
        state: Option<CrawlState>,
        limit: usize,
    ) -> Result<Vec<Crawl>, StoreError> {
        let range = match before {
            Some(b) => self.crawls.range(..be(b)),
            None => self.crawls.range::<&[u8], _>(..),
        };
        let mut out = Vec::new();
        for item in range.rev() {
            let (_, v) = item?;
            let crawl: Crawl = decode("crawls", &v)?;
            if state.is_none_or(|s| s == crawl.state) {
                out.push(crawl);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Marks every crawl stored as running as interrupted (called at start-up, when no
    /// crawl can be running yet). Returns their ids.
    pub fn mark_running_interrupted(&self, now: UnixMillis) -> Result<Vec<CrawlId>, StoreError> {
        let mut ids = Vec::new();
        for item in self.crawls.iter() {
            let (_, v) = item?;
            let mut crawl: Crawl = decode("crawls", &v)?;
            if crawl.state == CrawlState::Running {
                crawl.state = CrawlState::Interrupted;
                crawl.finished_at = Some(now);
                crawl.progress.in_flight = 0;
                self.put_crawl(&crawl)?;
                ids.push(crawl.id);
            }
        }
        Ok(ids)
    }

    // ---- peers --------------------------------------------------------------------------

    /// Records that crawl `crawl` saw the record `enr` at `now`.
    pub fn upsert_peer(
        &self,
        crawl: CrawlId,
        enr: &DecodedEnr,
        now: UnixMillis,
    ) -> Result<Upsert, StoreError> {
        let mut outcome = Upsert::Seen;
        let mut corrupt = None;
        self.mark_changed(export::Changed::Peer, &enr.node_id)?;
        self.peers.fetch_and_update(enr.node_id, |old| {
            let (record, result) = match old {
                None => (
                    PeerRecord {
                        enr: enr.clone(),
                        first_seen: now,
                        last_seen: now,
                        crawls: [crawl].into(),
                        enr_versions: 1,
                        dial: DialInfo::default(),
                        geo: None,
                        sources: Vec::new(),
                    },
                    Upsert::New,
                ),
                Some(bytes) => {
                    let mut record: PeerRecord = match decode("peers", bytes) {
                        Ok(r) => r,
                        Err(e) => {
                            corrupt = Some(e);
                            return Some(bytes.to_vec());
                        }
                    };
                    let mut result = if record.crawls.insert(crawl) {
                        Upsert::NewToCrawl
                    } else {
                        Upsert::Seen
                    };
                    if enr.seq > record.enr.seq {
                        let previous_seq = record.enr.seq;
                        record.enr = enr.clone();
                        record.enr_versions += 1;
                        if result != Upsert::NewToCrawl {
                            result = Upsert::Updated { previous_seq };
                        }
                    }
                    record.last_seen = record.last_seen.max(now);
                    (record, result)
                }
            };
            outcome = result;
            Some(encode(&record))
        })?;
        self.mark_changed(export::Changed::Peer, &enr.node_id)?;
        if let Some(e) = corrupt {
            return Err(e);
        }
        if outcome != Upsert::Seen {
            let key = export::enr_key(&enr.node_id, enr.seq);
            if self.enrs.get(&key)?.as_deref() != Some(enr.text.as_bytes()) {
                let entry = export::FeedEntry::Enr {
                    node: hex::encode(enr.node_id),
                    seq: enr.seq,
                };
                self.insert_fed(&self.enrs, &key, enr.text.as_bytes(), &entry)?;
            }
            let mut key = Vec::with_capacity(40);
            key.extend_from_slice(&be(crawl));
            key.extend_from_slice(&enr.node_id);
            self.crawl_peers.insert(key, &[])?;
            if let Some(pid) = &enr.peer_id {
                self.peer_ids.insert(pid.as_bytes(), &enr.node_id)?;
            }
        }
        Ok(outcome)
    }

    /// Records that a stored peer's record was learned from `source`; a source of the same
    /// kind and origin already recorded is kept as it is. At most
    /// [`MAX_PEER_SOURCES`](crate::model::MAX_PEER_SOURCES) are kept (the oldest).
    pub fn add_peer_source(&self, node: &NodeId, source: PeerSource) -> Result<(), StoreError> {
        self.mark_changed(export::Changed::Peer, node)?;
        self.peers.fetch_and_update(node, |old| {
            let bytes = old?;
            let Ok(mut record) = decode::<PeerRecord>("peers", bytes) else {
                return Some(bytes.to_vec());
            };
            let known = record
                .sources
                .iter()
                .any(|s| s.kind == source.kind && s.via == source.via);
            if known || record.sources.len() >= crate::model::MAX_PEER_SOURCES {
                return Some(bytes.to_vec());
            }
            record.sources.push(source.clone());
            Some(encode(&record))
        })?;
        self.mark_changed(export::Changed::Peer, node)?;
        Ok(())
    }

    /// Moves `last_seen` of a stored peer forward.
    pub fn touch_peer(&self, node: &NodeId, now: UnixMillis) -> Result<(), StoreError> {
        self.mark_changed(export::Changed::Peer, node)?;
        self.peers.fetch_and_update(node, |old| {
            let bytes = old?;
            let Ok(mut record) = decode::<PeerRecord>("peers", bytes) else {
                return Some(bytes.to_vec());
            };
            record.last_seen = record.last_seen.max(now);
            Some(encode(&record))
        })?;
        self.mark_changed(export::Changed::Peer, node)?;
        Ok(())
    }

    /// Applies a visit to its peer (dial info, session) and stores the visit record.
    pub fn record_visit(
        &self,
        visit: &VisitReport,
        state: PeerState,
    ) -> Result<SessionChange, StoreError> {
        let mut change = SessionChange::None;
        self.mark_changed(export::Changed::Peer, &visit.node_id)?;
        self.peers.fetch_and_update(visit.node_id, |old| {
            let bytes = old?;
            let Ok(mut record) = decode::<PeerRecord>("peers", bytes) else {
                return Some(bytes.to_vec());
            };
            change = apply_visit(&mut record.dial, visit, state);
            record.last_seen = record.last_seen.max(visit.started);
            Some(encode(&record))
        })?;
        self.mark_changed(export::Changed::Peer, &visit.node_id)?;
        let key = export::visit_key(&visit.node_id, visit.started, visit.crawl_id);
        let entry = export::FeedEntry::Visit {
            node: hex::encode(visit.node_id),
            started: visit.started,
            crawl: visit.crawl_id,
        };
        self.insert_fed(&self.visits, &key, &encode(visit), &entry)?;
        let stored = self.visits.scan_prefix(visit.node_id).count();
        if stored > VISITS_PER_PEER {
            let excess: Vec<_> = self
                .visits
                .scan_prefix(visit.node_id)
                .keys()
                .take(stored - VISITS_PER_PEER)
                .collect::<Result<_, _>>()?;
            for k in excess {
                self.visits.remove(k)?;
            }
        }
        Ok(change)
    }

    /// Records a peer's address-book state (bans, bad) outside a visit.
    pub fn set_peer_state(&self, node: &NodeId, state: PeerState) -> Result<(), StoreError> {
        self.mark_changed(export::Changed::Peer, node)?;
        self.peers.fetch_and_update(node, |old| {
            let bytes = old?;
            let Ok(mut record) = decode::<PeerRecord>("peers", bytes) else {
                return Some(bytes.to_vec());
            };
            record.dial.state = state;
            Some(encode(&record))
        })?;
        self.mark_changed(export::Changed::Peer, node)?;
        Ok(())
    }

    /// Sets a peer's geolocation; a peer not in the store is left alone. Returns whether
    /// the peer was found.
    pub fn set_peer_geo(&self, node: &NodeId, geo: &GeoInfo) -> Result<bool, StoreError> {
        let mut found = false;
        self.mark_changed(export::Changed::Peer, node)?;
        self.peers.fetch_and_update(node, |old| {
            let bytes = old?;
            let Ok(mut record) = decode::<PeerRecord>("peers", bytes) else {
                return Some(bytes.to_vec());
            };
            found = true;
            record.geo = Some(geo.clone());
            Some(encode(&record))
        })?;
        self.mark_changed(export::Changed::Peer, node)?;
        Ok(found)
    }

    // ---- geolocation cache --------------------------------------------------------------

    /// The cached geolocation of `ip` if it was fetched at or after `fresh_since`.
    pub fn cached_geo(
        &self,
        ip: std::net::IpAddr,
        fresh_since: UnixMillis,
    ) -> Result<Option<GeoInfo>, StoreError> {
        let Some(v) = self.geo_cache.get(ip_key(ip))? else {
            return Ok(None);
        };
        let geo: GeoInfo = decode("geo_cache", &v)?;
        Ok((geo.looked_up_at >= fresh_since).then_some(geo))
    }

    /// Caches the geolocation of `ip`.
    pub fn put_cached_geo(&self, ip: std::net::IpAddr, geo: &GeoInfo) -> Result<(), StoreError> {
        self.geo_cache.insert(ip_key(ip), encode(geo))?;
        Ok(())
    }

    /// A peer's stored visits, oldest first.
    pub fn visits(&self, node: &NodeId) -> Result<Vec<VisitReport>, StoreError> {
        self.visits
            .scan_prefix(node)
            .values()
            .map(|v| decode("visits", &v?))
            .collect()
    }

    /// One peer by node id.
    pub fn get_peer(&self, node: &NodeId) -> Result<Option<PeerRecord>, StoreError> {
        self.peers
            .get(node)?
            .map(|v| decode("peers", &v))
            .transpose()
    }

    /// One peer by libp2p peer id.
    pub fn get_peer_by_peer_id(&self, peer_id: &str) -> Result<Option<PeerRecord>, StoreError> {
        match self.peer_ids.get(peer_id.as_bytes())? {
            Some(node) => match <NodeId>::try_from(node.as_ref()) {
                Ok(node) => self.get_peer(&node),
                Err(_) => Err(StoreError::Corrupt {
                    tree: "peer_ids",
                    reason: "node id is not 32 bytes".into(),
                }),
            },
            None => Ok(None),
        }
    }

    /// Every stored `enr:` text of a node, oldest seq first.
    pub fn enr_history(&self, node: &NodeId) -> Result<Vec<(u64, String)>, StoreError> {
        let mut out = Vec::new();
        for item in self.enrs.scan_prefix(node) {
            let (k, v) = item?;
            let seq = u64_key(&k[32..]).unwrap_or(0);
            out.push((seq, String::from_utf8_lossy(&v).into_owned()));
        }
        Ok(out)
    }

    /// Peers matching `filter` with a node id above `after`, in node-id order, at most
    /// `limit`. Returns the page and whether more matching peers follow.
    pub fn list_peers(
        &self,
        filter: &PeerFilter,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<(Vec<PeerRecord>, bool), StoreError> {
        let mut out = Vec::new();
        let mut more = false;
        let mut push = |record: PeerRecord| {
            if !filter.matches(&record) {
                return true;
            }
            if out.len() == limit {
                more = true;
                return false;
            }
            out.push(record);
            true
        };
        match filter.crawl_id {
            Some(crawl) => {
                let prefix = be(crawl);
                let start = match after {
                    Some(a) => {
                        let mut k = prefix.to_vec();
                        k.extend_from_slice(&a);
                        k.push(0);
                        k
                    }
                    None => prefix.to_vec(),
                };
                let end = be(crawl + 1);
                for item in self.crawl_peers.range(start..end.to_vec()) {
                    let (k, _) = item?;
                    let Ok(node) = <NodeId>::try_from(&k[8..]) else {
                        continue;
                    };
                    if let Some(record) = self.get_peer(&node)? {
                        if !push(record) {
                            break;
                        }
                    }
                }
            }
            None => {
                let iter = match after {
                    Some(a) => {
                        let mut k = a.to_vec();
                        k.push(0);
                        self.peers.range(k..)
                    }
                    None => self.peers.iter(),
                };
                for item in iter {
                    let (_, v) = item?;
                    if !push(decode("peers", &v)?) {
                        break;
                    }
                }
            }
        }
        Ok((out, more))
    }

    /// Number of peers in the store.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Aggregates over the peers of one crawl, or of the whole store.
    pub fn network_stats(&self, crawl: Option<CrawlId>) -> Result<NetworkStats, StoreError> {
        let mut stats = NetworkStats::default();
        let filter = PeerFilter {
            crawl_id: crawl,
            ..PeerFilter::default()
        };
        let mut after = None;
        loop {
            let (page, more) = self.list_peers(&filter, after, 1024)?;
            for p in &page {
                stats.add(p);
            }
            match (more, page.last()) {
                (true, Some(last)) => after = Some(last.enr.node_id),
                _ => break,
            }
        }
        Ok(stats)
    }

    // ---- relay message counts -----------------------------------------------------------

    /// The content topics stored per pubsub topic.
    pub fn message_topics(
        &self,
    ) -> Result<std::collections::HashMap<String, std::collections::HashSet<String>>, StoreError>
    {
        let mut out: std::collections::HashMap<String, std::collections::HashSet<String>> =
            Default::default();
        for item in self.msg_counts.iter() {
            let (_, v) = item?;
            let row: MessageCount = decode("msg_counts", &v)?;
            if row.content_topic != crate::model::messages::OTHER_CONTENT_TOPIC {
                out.entry(row.pubsub_topic)
                    .or_default()
                    .insert(row.content_topic);
            }
        }
        Ok(out)
    }

    /// Adds counts (key: pubsub topic and content topic, `None` = undecodable) and drops
    /// buckets older than `drop_before_minute`.
    pub fn apply_message_deltas(
        &self,
        deltas: std::collections::HashMap<(String, Option<String>), MessageDelta>,
        drop_before_minute: u64,
    ) -> Result<(), StoreError> {
        for ((pubsub, content), d) in deltas {
            match content {
                Some(content) => {
                    let key = topic_key(&pubsub, &content);
                    self.mark_changed(export::Changed::MessageCount, &key)?;
                    self.msg_counts.fetch_and_update(&key, |old| {
                        let mut row = old
                            .and_then(|b| decode::<MessageCount>("msg_counts", b).ok())
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
                        Some(encode(&row))
                    })?;
                    self.mark_changed(export::Changed::MessageCount, &key)?;
                    for (minute, (m, b)) in &d.buckets {
                        let mut bkey = key.clone();
                        bkey.push(0);
                        bkey.extend_from_slice(&be(*minute));
                        self.mark_changed(export::Changed::MessageBucket, &bkey)?;
                        self.msg_buckets.fetch_and_update(&bkey, |old| {
                            let (om, ob) = old
                                .filter(|o| o.len() == 16)
                                .map(|o| {
                                    (u64_key(&o[..8]).unwrap_or(0), u64_key(&o[8..]).unwrap_or(0))
                                })
                                .unwrap_or((0, 0));
                            let mut v = be(om + m).to_vec();
                            v.extend_from_slice(&be(ob + b));
                            Some(v)
                        })?;
                        self.mark_changed(export::Changed::MessageBucket, &bkey)?;
                    }
                    // Retention: drop this row's buckets older than the window.
                    let mut prefix = key.clone();
                    prefix.push(0);
                    let mut end = prefix.clone();
                    end.extend_from_slice(&be(drop_before_minute));
                    let old: Vec<_> = self
                        .msg_buckets
                        .range(prefix.clone()..end)
                        .keys()
                        .collect::<Result<_, _>>()?;
                    for k in old {
                        self.msg_buckets.remove(k)?;
                    }
                }
                None => {
                    self.mark_changed(export::Changed::Undecodable, pubsub.as_bytes())?;
                    self.msg_undecodable
                        .fetch_and_update(pubsub.as_bytes(), |old| {
                            let mut row = old
                                .and_then(|b| decode::<UndecodableCount>("msg_undecodable", b).ok())
                                .unwrap_or_else(|| UndecodableCount {
                                    pubsub_topic: pubsub.clone(),
                                    first_seen: d.first,
                                    ..UndecodableCount::default()
                                });
                            row.messages += d.messages;
                            row.bytes += d.bytes;
                            row.first_seen = row.first_seen.min(d.first);
                            row.last_seen = row.last_seen.max(d.last);
                            Some(encode(&row))
                        })?;
                    self.mark_changed(export::Changed::Undecodable, pubsub.as_bytes())?;
                }
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
        let mut start = topic_key(pubsub, content);
        start.push(0);
        let mut end = start.clone();
        start.extend_from_slice(&be(from_minute));
        end.extend_from_slice(&be(to_minute));
        let (mut m, mut b) = (0, 0);
        for item in self.msg_buckets.range(start..end) {
            let (_, v) = item?;
            if v.len() == 16 {
                m += u64_key(&v[..8]).unwrap_or(0);
                b += u64_key(&v[8..]).unwrap_or(0);
            }
        }
        Ok((m, b))
    }

    // ---- events -------------------------------------------------------------------------

    /// Appends events, assigning consecutive sequence numbers, and wakes subscribers.
    pub fn append_events(&self, events: Vec<NewPeerEvent>) -> Result<Vec<u64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // The lock only orders appends; a poisoned lock still holds a valid counter.
        let mut seq = self.next_sequence.lock().unwrap_or_else(|e| e.into_inner());
        let last = seq.next + events.len() as u64 - 1;
        if last > seq.reserved {
            // Reserve the next block durably before handing out any number in it.
            let reserved = last + EVENT_SEQUENCE_BLOCK;
            self.meta.insert("event_high_water", &be(reserved))?;
            self.db.flush()?;
            seq.reserved = reserved;
        }
        let mut batch = sled::Batch::default();
        let mut written = Vec::with_capacity(events.len());
        for event in events {
            let sequence = seq.next;
            seq.next += 1;
            let event = PeerEvent { sequence, event };
            batch.insert(&be(sequence), encode(&event));
            written.push(Arc::new(RecentEvent {
                event,
                encoded: Default::default(),
            }));
        }
        self.events.apply_batch(batch)?;
        let seqs = written.iter().map(|e| e.event.sequence).collect();
        {
            let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
            recent.extend(written);
            let excess = recent.len().saturating_sub(RECENT_EVENTS);
            recent.drain(..excess);
        }
        self.last_sequence.send_replace(last);
        Ok(seqs)
    }

    /// Drops the oldest events so that at most `keep` remain, and events older than
    /// `min_time` (Unix ms). Returns how many were dropped. Sequence numbers are never
    /// reused: the high-water mark is kept in `meta`.
    pub fn trim_events(&self, keep: u64, min_time: UnixMillis) -> Result<u64, StoreError> {
        let last = self.last_sequence();
        let keep_from = last.saturating_sub(keep).saturating_add(1);
        let mut dropped = 0;
        for item in self.events.iter() {
            let (k, v) = item?;
            let seq = u64_key(&k).unwrap_or(0);
            let old = if seq < keep_from {
                true
            } else {
                let ev: PeerEvent = decode("events", &v)?;
                ev.event.time < min_time
            };
            if !old {
                break;
            }
            self.events.remove(k)?;
            dropped += 1;
        }
        if dropped > 0 {
            let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
            while recent
                .front()
                .is_some_and(|e| e.event.sequence < keep_from || e.event.event.time < min_time)
            {
                recent.pop_front();
            }
        }
        Ok(dropped)
    }

    /// The last sequence number written (0 before any event).
    pub fn last_sequence(&self) -> u64 {
        *self.last_sequence.borrow()
    }

    /// The smallest stored sequence number, if any event is stored.
    pub fn first_sequence(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.events.first()?.and_then(|(k, _)| u64_key(&k)))
    }

    /// A receiver that changes whenever events are appended; its value is the last
    /// sequence number.
    pub fn watch_events(&self) -> watch::Receiver<u64> {
        self.last_sequence.subscribe()
    }

    /// Like [`Store::events_after`], from the in-memory window of the newest events: `None`
    /// when events after `after` have left the window (read the log instead). Never blocks
    /// on I/O.
    pub fn recent_events_after(
        &self,
        after: u64,
        filter: &EventFilter,
        limit: usize,
    ) -> Option<(Vec<Arc<RecentEvent>>, u64)> {
        let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
        let Some(front) = recent.front() else {
            // Nothing in memory (e.g. just after a restart): only a reader who has seen
            // everything can be answered from here.
            return (after >= self.last_sequence()).then(|| (Vec::new(), after));
        };
        if front.event.sequence > after.saturating_add(1) {
            return None;
        }
        let skip = (after + 1 - front.event.sequence) as usize;
        let mut out = Vec::new();
        let mut last = after;
        for ev in recent.iter().skip(skip) {
            last = ev.event.sequence;
            if filter.matches(&ev.event) {
                out.push(ev.clone());
                if out.len() >= limit {
                    break;
                }
            }
        }
        Some((out, last))
    }

    /// Stored events with a sequence above `after` that pass `filter`, at most `limit`;
    /// also returns the last sequence examined, so a filtered reader can move on.
    pub fn events_after(
        &self,
        after: u64,
        filter: &EventFilter,
        limit: usize,
    ) -> Result<(Vec<PeerEvent>, u64), StoreError> {
        let mut out = Vec::new();
        let mut last = after;
        for item in self.events.range(be(after.saturating_add(1))..) {
            let (k, v) = item?;
            last = u64_key(&k).unwrap_or(last);
            let ev: PeerEvent = decode("events", &v)?;
            if filter.matches(&ev) {
                out.push(ev);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok((out, last))
    }
}
