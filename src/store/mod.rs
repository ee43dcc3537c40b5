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
//! | `enrs`            | `peers.rs`     | node id ‖ seq (u64 BE)            | `enr:` text (newest 16)  |
//! | `crawl_peers`     | `peers.rs`     | crawl id (u64 BE) ‖ node id       | empty                    |
//! | `last_seen`       | `peers.rs`     | node id                           | time (ms, u64 BE)        |
//! | `visits`          | `visits.rs`    | node id ‖ time (ms, BE) ‖ crawl   | [`VisitReport`] (JSON)   |
//! | `msg_counts`      | `messages.rs`  | pubsub ‖ 0 ‖ content              | [`MessageCount`] (JSON)  |
//! | `msg_buckets`     | `messages.rs`  | pubsub ‖ 0 ‖ content ‖ 0 ‖ minute | messages, bytes (u64 BE) |
//! | `msg_undecodable` | `messages.rs`  | pubsub                            | [`UndecodableCount`]     |
//! | `geo_cache`       | `geo_cache.rs` | IP (4 or 16 bytes)                | [`GeoInfo`] (JSON)       |
//! | `events`          | `events.rs`    | sequence (u64 BE)                 | [`PeerEvent`] (JSON)     |
//! | `book`            | `book.rs`      | crawl id (u64 BE) ‖ node id       | [`BookEntry`] (JSON)     |
//! | `crawl_keys`      | `book.rs`      | crawl id (u64 BE)                 | secret key bytes         |
//! | `export_feed`     | `export.rs`    | sequence (u64 BE)                 | [`FeedEntry`] (JSON)     |
//! | `export_dirty`    | `export.rs`    | change kind ‖ row key             | change id (u64 BE)       |
//!
//! **Atomic updates.** A change that spans trees — a peer record and its indexes
//! (`enrs`, `crawl_peers`, `peer_ids`), a visit and the peer's dial aggregates — is one
//! sled transaction, so a crash leaves all of it or none of it. The export trees, which the
//! PostgreSQL sink reads, take part in the same transactions: every write of a row the sink
//! exports (crawls, peers and their `last_seen`, ENR versions, visits, relay counts) marks
//! the row changed or appends it to the feed in the transaction that writes it (see
//! [`export`]).
//!
//! The key and value encodings are in `keys.rs`, upgrades of older layouts in `migrate.rs`.
//! Big-endian integer keys keep sled's byte order equal to numeric order, so ranges and
//! pages are plain key scans.
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
//! acknowledged. A crash (`kill -9`) can lose the writes of about the last flush interval:
//! sled writes its log buffer out when it fills and once per interval, then fsyncs, so a
//! disk whose fsync takes longer than the interval stretches that window by the excess.
//! Event sequence numbers are reserved on disk in blocks ([`EVENT_SEQUENCE_BLOCK`]) flushed
//! before use, so a number is never reused, even one whose event was streamed and then lost.
//! [`Store::close`] flushes for a clean shutdown (no gap in the numbers after a restart).

use std::path::Path;
use std::sync::Arc;

#[cfg(doc)]
use crate::model::{
    BookEntry, Crawl, GeoInfo, MessageCount, PeerEvent, PeerRecord, UndecodableCount, VisitReport,
};
#[cfg(doc)]
use export::FeedEntry;

mod book;
mod crawls;
pub mod events;
pub mod export;
mod geo_cache;
mod keys;
mod messages;
mod migrate;
mod peers;
mod visits;

pub use book::BOOK_DELETE_BATCH;
pub use events::{
    EventSubscription, SharedEvent, SubscribeError, EVENT_SEQUENCE_BLOCK, LIVE_BATCH_DELAY,
    RECENT_EVENTS, SUBSCRIPTION_BATCH, TRIM_BATCH,
};
pub use messages::MessageDelta;
pub use peers::{Dropped, Upsert, CRAWLS_PER_PEER, ENR_HISTORY_PER_NODE};
pub use visits::{SessionChange, VISITS_PER_PEER};

use events::EventLog;
use keys::{be, u64_key};

/// Version of the on-disk layout; bumped with a migration when it changes (see `migrate.rs`).
pub const SCHEMA_VERSION: u64 = 2;

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
    /// Test builds: a failure injected at a named point (see `Store::arm_failpoint`).
    #[cfg(test)]
    #[error("injected failure at {0}")]
    Injected(&'static str),
}

/// The error of a sled transaction whose closure aborts with a [`StoreError`].
pub(crate) fn tx_error(e: sled::transaction::TransactionError<StoreError>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => StoreError::Db(e),
    }
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
    last_seen: sled::Tree,
    visits: sled::Tree,
    msg_counts: sled::Tree,
    msg_buckets: sled::Tree,
    msg_undecodable: sled::Tree,
    geo_cache: sled::Tree,
    book: sled::Tree,
    crawl_keys: sled::Tree,
    export_feed: sled::Tree,
    export_dirty: sled::Tree,
    /// The order of feed appends and whether relay message sightings are fed.
    export: Arc<export::ExportState>,
    /// The `events` tree, sequence numbers and the in-memory window.
    log: Arc<EventLog>,
    /// What was dropped to keep histories and records bounded.
    dropped: Arc<peers::DropCounters>,
    /// Test builds: the point at which the next write fails (see `Store::arm_failpoint`).
    #[cfg(test)]
    failpoint: Arc<std::sync::Mutex<Option<&'static str>>>,
}

/// How long opening waits for the database's file lock while another holder lets go of
/// it: a process that is exiting, or a store of this process whose last background flush
/// is finishing.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the database, waiting up to [`LOCK_WAIT`] for its file lock. sled reports a held
/// lock only as an I/O error of kind `Other` with this text, so that is what is matched;
/// any other error, or a lock still held after the wait, is returned as it is.
fn open_db(config: sled::Config) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::Other
                    && e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            r => return Ok(r?),
        }
    }
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
        let db = open_db(
            sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .flush_every_ms(Some(flush_every_ms.max(1))),
        )?;
        let meta = db.open_tree("meta")?;
        let found = match meta.get("schema_version")? {
            Some(v) => u64_key(&v).unwrap_or(0),
            None => {
                meta.insert("schema_version", &be(SCHEMA_VERSION))?;
                SCHEMA_VERSION
            }
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found });
        }
        let log = Arc::new(EventLog::open(&db, &meta, window)?);
        let store = Store {
            crawls: db.open_tree("crawls")?,
            peers: db.open_tree("peers")?,
            peer_ids: db.open_tree("peer_ids")?,
            enrs: db.open_tree("enrs")?,
            crawl_peers: db.open_tree("crawl_peers")?,
            last_seen: db.open_tree("last_seen")?,
            visits: db.open_tree("visits")?,
            msg_counts: db.open_tree("msg_counts")?,
            msg_buckets: db.open_tree("msg_buckets")?,
            msg_undecodable: db.open_tree("msg_undecodable")?,
            geo_cache: db.open_tree("geo_cache")?,
            book: db.open_tree("book")?,
            crawl_keys: db.open_tree("crawl_keys")?,
            export_feed: db.open_tree("export_feed")?,
            export_dirty: db.open_tree("export_dirty")?,
            export: Arc::default(),
            log,
            dropped: Arc::default(),
            meta,
            db,
            #[cfg(test)]
            failpoint: Arc::default(),
        };
        if found < SCHEMA_VERSION {
            let done = store.migrate(found)?;
            store.meta.insert("schema_version", &be(SCHEMA_VERSION))?;
            store.db.flush()?;
            tracing::info!(
                from = found,
                to = SCHEMA_VERSION,
                peers = done.peers,
                repaired = done.repaired,
                "store migrated"
            );
        }
        Ok(store)
    }

    /// Writes everything to disk (on sled's threads).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Writes everything to disk before the process ends: the unused rest of the reserved
    /// event sequence numbers is released first, so a clean restart continues without a
    /// gap. The store stays usable (an append after it reserves numbers again).
    pub async fn close(&self) -> Result<(), StoreError> {
        self.release_unused_sequences()?;
        self.db.flush_async().await?;
        Ok(())
    }

    /// Test builds: makes the next pass through the point `name` fail with
    /// [`StoreError::Injected`], as a crash there would stop the write (one shot).
    #[cfg(test)]
    pub(crate) fn arm_failpoint(&self, name: &'static str) {
        *self.failpoint.lock().unwrap() = Some(name);
    }

    /// Fails if the point `name` is armed (test builds only; a no-op otherwise).
    #[cfg(test)]
    pub(crate) fn failpoint(&self, name: &'static str) -> Result<(), StoreError> {
        let mut armed = self.failpoint.lock().unwrap();
        if *armed == Some(name) {
            *armed = None;
            return Err(StoreError::Injected(name));
        }
        Ok(())
    }

    /// Fails if the point `name` is armed (test builds only; a no-op otherwise).
    #[cfg(not(test))]
    #[inline(always)]
    pub(crate) fn failpoint(&self, _name: &'static str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

#[cfg(test)]
mod tests {
    use super::keys::{be, u64_key};
    use super::test_support::{enr, temp_store};
    use super::{StoreError, SCHEMA_VERSION};
    use crate::model::PeerFilter;

    #[test]
    fn opening_a_version_1_store_repairs_the_peer_indexes_a_crash_tore() {
        let (dir, store) = temp_store();
        let node = enr(1, 1).node_id;
        store.upsert_peer(5, &enr(1, 1), 1).unwrap();
        store.upsert_peer(6, &enr(1, 2), 2).unwrap();
        store.upsert_peer(6, &enr(2, 1), 2).unwrap();
        // What version 1 could leave after crashes between trees: records without their
        // indexes (and one whole peer, node 2, as it should be).
        store
            .crawl_peers
            .remove(super::keys::crawl_peer_key(5, &node))
            .unwrap();
        store
            .crawl_peers
            .remove(super::keys::crawl_peer_key(6, &node))
            .unwrap();
        store.enrs.remove(super::keys::enr_key(&node, 2)).unwrap();
        store.peer_ids.remove(enr(1, 1).peer_id.unwrap()).unwrap();
        store.meta.insert("schema_version", &be(1)).unwrap();
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        let version = store.meta.get("schema_version").unwrap().unwrap();
        assert_eq!(u64_key(&version), Some(SCHEMA_VERSION));
        for (crawl, want) in [(5, vec![1u8]), (6, vec![1, 2])] {
            let filter = PeerFilter {
                crawl_id: Some(crawl),
                ..PeerFilter::default()
            };
            let (page, _) = store.list_peers(&filter, None, 10).unwrap();
            let got: Vec<u8> = page.iter().map(|p| p.enr.node_id[0]).collect();
            assert_eq!(got, want, "crawl {crawl}");
        }
        let history = store.enr_history(&node).unwrap();
        assert_eq!(history.last().map(|h| h.0), Some(2));
        let by_id = store
            .get_peer_by_peer_id(&enr(1, 1).peer_id.unwrap())
            .unwrap();
        assert_eq!(by_id.map(|p| p.enr.node_id), Some(node));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (dir, store) = temp_store();
        store
            .meta
            .insert("schema_version", &be(SCHEMA_VERSION + 1))
            .unwrap();
        drop(store);
        match crate::store::test_support::reopen_result(dir.path()) {
            Err(StoreError::SchemaTooNew { found }) => assert_eq!(found, SCHEMA_VERSION + 1),
            other => panic!("{:?}", other.err()),
        }
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

    /// Opens the store in `dir` again after the test dropped it (as a restart would).
    pub(crate) fn reopen(dir: &std::path::Path) -> Store {
        reopen_result(dir).expect("reopen store")
    }

    /// Like [`reopen`], returning the error. sled's background threads may hold the
    /// directory's lock for a moment after the last handle is dropped (a write or flush
    /// they were finishing): a lock error is retried for up to 10 s.
    pub(crate) fn reopen_result(dir: &std::path::Path) -> Result<Store, super::StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Store::open(dir, 100) {
                Err(super::StoreError::Db(sled::Error::Io(e)))
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other,
            }
        }
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
