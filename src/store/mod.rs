//! The embedded store (sled): one database directory, one tree per entity.
//!
//! This file owns [`Store`] itself (opening, the schema version, flushing, size) and
//! [`StoreError`]; each group of trees has its own file with the `Store` methods over it:
//!
//! | tree              | file           | key                               | value                    |
//! |-------------------|----------------|-----------------------------------|--------------------------|
//! | `meta`            | `mod.rs`       | name                              | schema version, counters |
//! | `crawls`          | `crawls.rs`    | crawl id (u64 BE)                 | [`Crawl`] (JSON)         |
//! | `peers`           | `peers.rs`     | node id (32 bytes)                | [`PeerRecord`] (JSON)    |
//! | `peer_ids`        | `peers.rs`     | libp2p peer id (text)             | node id                  |
//! | `enrs`            | `peers.rs`     | node id ‖ seq (u64 BE)            | `enr:` text              |
//! | `crawl_peers`     | `peers.rs`     | crawl id (u64 BE) ‖ node id       | empty                    |
//! | `visits`          | `visits.rs`    | node id ‖ time (ms, BE) ‖ crawl   | [`VisitReport`] (JSON)   |
//! | `msg_counts`      | `messages.rs`  | pubsub ‖ 0 ‖ content              | [`MessageCount`] (JSON)  |
//! | `msg_buckets`     | `messages.rs`  | pubsub ‖ 0 ‖ content ‖ 0 ‖ minute | messages, bytes (u64 BE) |
//! | `msg_undecodable` | `messages.rs`  | pubsub                            | [`UndecodableCount`]     |
//! | `geo_cache`       | `geo_cache.rs` | IP (4 or 16 bytes)                | [`GeoInfo`] (JSON)       |
//! | `events`          | `events.rs`    | sequence (u64 BE)                 | [`PeerEvent`] (JSON)     |
//! | `book`            | `book.rs`      | crawl id (u64 BE) ‖ node id       | [`BookEntry`] (JSON)     |
//!
//! The key and value encodings are in `keys.rs`. Big-endian integer keys keep sled's byte
//! order equal to numeric order, so ranges and pages are plain key scans.
//!
//! Geolocation answers are cached per IP; [`Store::cached_geo`] ignores entries older than
//! the caller's TTL (they are overwritten by the next lookup).
//! Visits are kept per peer up to [`VISITS_PER_PEER`], oldest dropped first; the peer
//! record keeps the aggregates (attempts, sessions, uptime, RTT average) for ever.
//! Events are also kept decoded in memory (the newest [`RECENT_EVENTS`]) for live readers;
//! [`Store::subscribe_events`] replays the log from a sequence number and then follows it
//! (see [`events`]).
//!
//! **Flush policy.** sled writes to its log at once and fsyncs every `flush_every_ms`
//! (default 500 ms); crawl state changes (start, stop, finish) are flushed before they are
//! acknowledged. A crash (`kill -9`) can lose at most the writes of the last flush interval.
//! Event sequence numbers are reserved on disk in blocks ([`EVENT_SEQUENCE_BLOCK`]) flushed
//! before use, so a number is never reused, even one whose event was streamed and then lost.

use std::path::Path;
use std::sync::Arc;

#[cfg(doc)]
use crate::model::{
    BookEntry, Crawl, GeoInfo, MessageCount, PeerEvent, PeerRecord, UndecodableCount, VisitReport,
};

mod book;
mod crawls;
pub mod events;
mod geo_cache;
mod keys;
mod messages;
mod peers;
mod visits;

pub use events::{
    EventSubscription, SharedEvent, SubscribeError, EVENT_SEQUENCE_BLOCK, LIVE_BATCH_DELAY,
    RECENT_EVENTS, SUBSCRIPTION_BATCH,
};
pub use messages::MessageDelta;
pub use peers::Upsert;
pub use visits::{SessionChange, VISITS_PER_PEER};

use events::EventLog;
use keys::{be, u64_key};

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
    visits: sled::Tree,
    msg_counts: sled::Tree,
    msg_buckets: sled::Tree,
    msg_undecodable: sled::Tree,
    geo_cache: sled::Tree,
    book: sled::Tree,
    /// The `events` tree, sequence numbers and the in-memory window.
    log: Arc<EventLog>,
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
        Store::open_with_window(dir, flush_every_ms, cache_bytes, RECENT_EVENTS)
    }

    /// Opens the database keeping the newest `window` events in memory.
    fn open_with_window(
        dir: &Path,
        flush_every_ms: u64,
        cache_bytes: u64,
        window: usize,
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
        let log = Arc::new(EventLog::open(&db, &meta, window)?);
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
            book: db.open_tree("book")?,
            log,
            meta,
            db,
        })
    }

    /// Writes everything to disk. The unused rest of the reserved block of event sequence
    /// numbers is released first, so a clean restart continues without a gap.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.release_unused_sequences()?;
        self.db.flush_async().await?;
        Ok(())
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

/// Stores in temporary directories and sample values for the unit tests of every tree.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::model::{
        Crawl, CrawlId, CrawlMode, CrawlProgress, CrawlSpec, CrawlState, NewPeerEvent,
        PeerEventKind, Profile, UnixMillis,
    };
    use crate::protocol::enr::DecodedEnr;

    use super::{Store, DEFAULT_CACHE_MB, RECENT_EVENTS};

    /// A new store in a new temporary directory (removed when the guard drops).
    pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
        temp_store_with_window(RECENT_EVENTS)
    }

    /// Like [`temp_store`], keeping only the newest `window` events in memory.
    pub(crate) fn temp_store_with_window(window: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open_with_window(dir.path(), 100, DEFAULT_CACHE_MB << 20, window)
            .expect("open store");
        (dir, store)
    }

    /// A record of node `[n; 32]` at `seq`, with a peer id.
    pub(crate) fn enr(n: u8, seq: u64) -> DecodedEnr {
        DecodedEnr {
            text: format!("enr:-node{n}-seq{seq}"),
            node_id: [n; 32],
            peer_id: Some(format!("16Uiu2HAmNode{n}")),
            seq,
            ip4: Some(std::net::Ipv4Addr::new(127, 0, 0, n)),
            tcp4: Some(60_000),
            udp4: Some(9_000),
            ip6: None,
            tcp6: None,
            udp6: None,
            waku2: None,
            multiaddrs: Vec::new(),
            shards: None,
            eth2: None,
            attnets: None,
            syncnets: None,
            has_eth: false,
            issues: Vec::new(),
        }
    }

    /// A crawl with id `id` in `state`.
    pub(crate) fn crawl(id: CrawlId, state: CrawlState) -> Crawl {
        Crawl {
            id,
            spec: CrawlSpec {
                name: format!("crawl {id}"),
                labels: Default::default(),
                profile: Profile::Ethereum,
                bootstrap_enrs: vec![enr(1, 1).text],
                dns_tree_urls: Vec::new(),
                dns_from: None,
                mode: CrawlMode::Oneshot,
                settings: Default::default(),
                listen_addr: Some("127.0.0.1:0".parse().unwrap()),
            },
            state,
            created_at: 1_000 * id,
            finished_at: None,
            progress: CrawlProgress::default(),
            error: None,
            listen_addr: Some("127.0.0.1:9000".into()),
            seed_addr: None,
            local_enr: None,
        }
    }

    /// Event number `i` of a batch, at `time`: DISCOVERED for even `i`, CONNECTED for odd.
    pub(crate) fn event(i: usize, time: UnixMillis) -> NewPeerEvent {
        NewPeerEvent {
            time,
            kind: if i % 2 == 1 {
                PeerEventKind::Connected
            } else {
                PeerEventKind::Discovered
            },
            crawl_id: 1,
            node_id: [(i % 251) as u8; 32],
            peer_id: None,
            enr_seq: i as u64,
            enr: None,
            error_class: None,
            detail: Some(format!("event {i}")),
        }
    }

    /// `n` events at `time` (see [`event`]).
    pub(crate) fn events(n: usize, time: UnixMillis) -> Vec<NewPeerEvent> {
        (0..n).map(|i| event(i, time)).collect()
    }
}
