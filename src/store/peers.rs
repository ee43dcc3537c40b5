//! Peers: the `peers` tree (newest record, dial aggregates, geolocation, sources), its
//! indexes `peer_ids` (libp2p peer id → node id), `enrs` (the newest
//! [`ENR_HISTORY_PER_NODE`] record versions of each node) and `crawl_peers` (which crawls
//! saw which node), and `last_seen` (node id → when it was last seen).
//!
//! **Bounds.** A node's ENR history keeps its newest [`ENR_HISTORY_PER_NODE`] versions and
//! a record's `crawls` its newest [`CRAWLS_PER_PEER`] crawl ids (every crawl's membership
//! stays in `crawl_peers`); what was dropped is counted ([`Store::dropped`]).
//!
//! **Cheap sightings.** Most sightings change nothing but the time a peer was last seen;
//! they write 8 bytes to `last_seen` instead of rewriting the whole record. A peer's
//! `last_seen`, as read, is the later of the record's and that tree's.
//!
//! **Export.** Every write here marks the peer changed for the PostgreSQL sink, and a new
//! ENR version is appended to the export feed, in the transaction of the write (see
//! [`export`](crate::store::export)).

use crate::model::{
    CrawlId, DialInfo, GeoInfo, NetworkStats, NodeId, PeerFilter, PeerRecord, PeerSource,
    PeerState, UnixMillis,
};
use crate::protocol::enr::DecodedEnr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::export::{self, Changed};
use crate::store::keys::{be, crawl_peer_key, decode, encode, enr_key, u64_key};
use crate::store::{tx_error, Store, StoreError};
use sled::transaction::{ConflictableTransactionError, Transactional};

/// ENR versions kept per node in the history (`enrs`), newest seq first; older ones are
/// dropped and counted in [`Dropped::enr_versions`]. 16: enough to follow a node's address
/// changes, while a hostile node re-signing its record endlessly costs a bounded 16 rows.
pub const ENR_HISTORY_PER_NODE: usize = 16;

/// Crawl ids kept in a peer record's `crawls` (the newest); the ones dropped are counted in
/// [`Dropped::crawl_ids`]. Which crawls saw a peer is kept completely in `crawl_peers`
/// (listing a crawl's peers uses it); the record carries the recent ones for display, so
/// that it does not grow with every crawl of a long-running service.
pub const CRAWLS_PER_PEER: usize = 16;

/// What the store dropped to stay within its bounds since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// ENR versions dropped from histories beyond [`ENR_HISTORY_PER_NODE`].
    pub enr_versions: u64,
    /// Crawl ids dropped from peer records beyond [`CRAWLS_PER_PEER`].
    pub crawl_ids: u64,
}

/// The counters behind [`Dropped`].
#[derive(Debug, Default)]
pub(crate) struct DropCounters {
    pub(crate) enr_versions: AtomicU64,
    pub(crate) crawl_ids: AtomicU64,
}

/// Adds `source` to a peer's sources unless one of the same kind and origin is there or
/// the list is full; returns whether it did.
fn add_source(record: &mut PeerRecord, source: &PeerSource) -> bool {
    let known = record
        .sources
        .iter()
        .any(|s| s.kind == source.kind && s.via == source.via);
    if known || record.sources.len() >= crate::model::MAX_PEER_SOURCES {
        return false;
    }
    record.sources.push(source.clone());
    true
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

impl Store {
    /// Records that crawl `crawl` saw the record `enr` at `now`.
    ///
    /// A sighting of a known record by a crawl that already saw the peer only moves
    /// `last_seen` (8 bytes in `last_seen`). Anything else rewrites the record and its
    /// indexes (`enrs`, `crawl_peers`, `peer_ids`) in one transaction: after a crash either
    /// all of them are there or none. The same transaction marks the peer changed for the
    /// export and feeds a new ENR version. A new record version then drops the node's
    /// versions beyond [`ENR_HISTORY_PER_NODE`] (a crash in between leaves a few extra,
    /// dropped with the next version).
    pub fn upsert_peer(
        &self,
        crawl: CrawlId,
        enr: &DecodedEnr,
        now: UnixMillis,
    ) -> Result<Upsert, StoreError> {
        self.upsert_peer_from(crawl, enr, None, now)
    }

    /// [`Store::upsert_peer`] that also adds `source` to the peer's sources, in the same
    /// write of the peer when the record is rewritten anyway.
    pub fn upsert_peer_from(
        &self,
        crawl: CrawlId,
        enr: &DecodedEnr,
        source: Option<&PeerSource>,
        now: UnixMillis,
    ) -> Result<Upsert, StoreError> {
        let node = enr.node_id;
        let member = crawl_peer_key(crawl, &node);
        if self
            .newest_enr_seq(&node)?
            .is_some_and(|seq| seq >= enr.seq)
            && self.crawl_peers.contains_key(&member)?
        {
            self.bump_last_seen(&node, now)?;
            if let Some(source) = source {
                self.add_peer_source(&node, source.clone())?;
            }
            return Ok(Upsert::Seen);
        }
        let change = self.change_id()?;
        let (outcome, new_version, dropped_crawls) = self.with_feed_seq(|seq| {
            let trees = (
                &self.peers,
                &self.enrs,
                &self.crawl_peers,
                &self.peer_ids,
                &self.export_dirty,
                &self.export_feed,
            );
            let (outcome, new_version, dropped_crawls, fed) = trees
                .transaction(|(peers, enrs, crawl_peers, peer_ids, dirty, feed)| {
                    let mut dropped_crawls = 0;
                    let mut fed = false;
                    let new_to_crawl = crawl_peers.get(&member)?.is_none();
                    let (mut record, outcome, new_version) = match peers.get(node)? {
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
                            true,
                        ),
                        Some(bytes) => {
                            let mut record: PeerRecord = decode("peers", &bytes)
                                .map_err(ConflictableTransactionError::Abort)?;
                            let mut result = Upsert::Seen;
                            if new_to_crawl {
                                record.crawls.insert(crawl);
                                while record.crawls.len() > CRAWLS_PER_PEER {
                                    record.crawls.pop_first();
                                    dropped_crawls += 1;
                                }
                                result = Upsert::NewToCrawl;
                            }
                            let newer = enr.seq > record.enr.seq;
                            if newer {
                                let previous_seq = record.enr.seq;
                                record.enr = enr.clone();
                                record.enr_versions += 1;
                                if result != Upsert::NewToCrawl {
                                    result = Upsert::Updated { previous_seq };
                                }
                            }
                            record.last_seen = record.last_seen.max(now);
                            (record, result, newer)
                        }
                    };
                    if let Some(source) = source {
                        add_source(&mut record, source);
                    }
                    peers.insert(&node[..], encode(&record))?;
                    export::mark(dirty, Changed::Peer, &node, change)?;
                    self.failpoint("upsert_peer")
                        .map_err(ConflictableTransactionError::Abort)?;
                    if new_version {
                        let key = enr_key(&node, enr.seq);
                        if enrs.get(&key)?.as_deref() != Some(enr.text.as_bytes()) {
                            enrs.insert(key, enr.text.as_bytes())?;
                            export::feed(feed, seq, &export::enr_entry(&node, enr.seq))?;
                            fed = true;
                        }
                        if let Some(pid) = &enr.peer_id {
                            peer_ids.insert(pid.as_bytes(), &node[..])?;
                        }
                    }
                    if new_to_crawl {
                        crawl_peers.insert(&member[..], &[])?;
                    }
                    Ok((outcome, new_version, dropped_crawls, fed))
                })
                .map_err(tx_error)?;
            Ok(((outcome, new_version, dropped_crawls), fed))
        })?;
        self.dropped
            .crawl_ids
            .fetch_add(dropped_crawls, Ordering::Relaxed);
        if new_version && outcome != Upsert::New {
            self.trim_enr_history(&node)?;
        }
        Ok(outcome)
    }

    /// The highest seq in a node's ENR history (that of its stored record).
    fn newest_enr_seq(&self, node: &NodeId) -> Result<Option<u64>, StoreError> {
        match self.enrs.scan_prefix(node).next_back() {
            Some(item) => Ok(u64_key(&item?.0[32..])),
            None => Ok(None),
        }
    }

    /// Drops a node's ENR versions beyond the newest [`ENR_HISTORY_PER_NODE`]; returns how
    /// many.
    pub(crate) fn trim_enr_history(&self, node: &NodeId) -> Result<u64, StoreError> {
        let keys = self
            .enrs
            .scan_prefix(node)
            .keys()
            .collect::<Result<Vec<_>, _>>()?;
        let excess = keys.len().saturating_sub(ENR_HISTORY_PER_NODE);
        if excess == 0 {
            return Ok(0);
        }
        let mut batch = sled::Batch::default();
        for k in keys.into_iter().take(excess) {
            batch.remove(k);
        }
        self.enrs.apply_batch(batch)?;
        self.dropped
            .enr_versions
            .fetch_add(excess as u64, Ordering::Relaxed);
        Ok(excess as u64)
    }

    /// Moves a peer's `last_seen` forward in the `last_seen` tree (not in the record), and
    /// marks the peer changed for the export in the same transaction.
    fn bump_last_seen(&self, node: &NodeId, now: UnixMillis) -> Result<(), StoreError> {
        let behind =
            |seen: Option<sled::IVec>| seen.and_then(|v| u64_key(&v)).is_none_or(|s| s < now);
        // Sightings within the same millisecond change nothing: no transaction.
        if !behind(self.last_seen.get(node)?) {
            return Ok(());
        }
        let change = self.change_id()?;
        if change == 0 {
            // No export: the 8 bytes alone.
            self.last_seen.insert(&node[..], &be(now)[..])?;
            return Ok(());
        }
        (&self.last_seen, &self.export_dirty)
            .transaction(|(last_seen, dirty)| {
                if behind(last_seen.get(node)?) {
                    last_seen.insert(&node[..], &be(now)[..])?;
                    export::mark(dirty, Changed::Peer, node, change)?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_error)
    }

    /// Rewrites a stored peer's record with `change` and marks the peer changed for the
    /// export, in one transaction. A peer not in the store, or whose record does not
    /// decode, is left alone, and so is a record `change` returns `false` for (it made no
    /// change). Returns whether the record was rewritten.
    fn update_peer(
        &self,
        node: &NodeId,
        change: impl Fn(&mut PeerRecord) -> bool,
    ) -> Result<bool, StoreError> {
        let id = self.change_id()?;
        (&self.peers, &self.export_dirty)
            .transaction(|(peers, dirty)| {
                let Some(bytes) = peers.get(node)? else {
                    return Ok(false);
                };
                let Ok(mut record) = decode::<PeerRecord>("peers", &bytes) else {
                    return Ok(false);
                };
                if !change(&mut record) {
                    return Ok(false);
                }
                peers.insert(&node[..], encode(&record))?;
                export::mark(dirty, Changed::Peer, node, id)?;
                Ok::<_, ConflictableTransactionError<StoreError>>(true)
            })
            .map_err(tx_error)
    }

    /// A record as read: `last_seen` is the later of the record's and the `last_seen`
    /// tree's.
    fn with_last_seen(&self, mut record: PeerRecord) -> Result<PeerRecord, StoreError> {
        if let Some(seen) = self.last_seen.get(record.enr.node_id)? {
            record.last_seen = record.last_seen.max(u64_key(&seen).unwrap_or(0));
        }
        Ok(record)
    }

    /// What the store dropped to stay within its bounds since it was opened.
    pub fn dropped(&self) -> Dropped {
        Dropped {
            enr_versions: self.dropped.enr_versions.load(Ordering::Relaxed),
            crawl_ids: self.dropped.crawl_ids.load(Ordering::Relaxed),
        }
    }

    /// Records that a stored peer's record was learned from `source`; a source of the same
    /// kind and origin already recorded is kept as it is. At most
    /// [`MAX_PEER_SOURCES`](crate::model::MAX_PEER_SOURCES) are kept (the oldest).
    pub fn add_peer_source(&self, node: &NodeId, source: PeerSource) -> Result<(), StoreError> {
        self.update_peer(node, |record| add_source(record, &source))?;
        Ok(())
    }

    /// Moves `last_seen` of a stored peer forward (8 bytes in `last_seen`; the record is
    /// not rewritten).
    pub fn touch_peer(&self, node: &NodeId, now: UnixMillis) -> Result<(), StoreError> {
        if self.peers.contains_key(node)? {
            self.bump_last_seen(node, now)?;
        }
        Ok(())
    }

    /// Records a peer's address-book state (bans, bad) outside a visit.
    pub fn set_peer_state(&self, node: &NodeId, state: PeerState) -> Result<(), StoreError> {
        self.update_peer(node, |record| {
            let changed = record.dial.state != state;
            record.dial.state = state;
            changed
        })?;
        Ok(())
    }

    /// Records that a crawl will not contact a stored peer because its record names an
    /// address outside the crawl's scope: its error class becomes `out_of_scope`, with
    /// `detail` as its error, unless it was ever dialed (what a dial learned stays).
    pub fn mark_out_of_scope(&self, node: &NodeId, detail: &str) -> Result<(), StoreError> {
        self.update_peer(node, |record| {
            let class = Some(crate::model::ErrorClass::OutOfScope);
            if record.dial.reachable.is_some()
                || (record.dial.last_error_class == class
                    && record.dial.last_error.as_deref() == Some(detail))
            {
                return false;
            }
            record.dial.last_error_class = class;
            record.dial.last_error = Some(detail.to_string());
            true
        })?;
        Ok(())
    }

    /// Sets a peer's geolocation; a peer not in the store is left alone. Returns whether
    /// the peer was found.
    pub fn set_peer_geo(&self, node: &NodeId, geo: &GeoInfo) -> Result<bool, StoreError> {
        self.update_peer(node, |record| {
            record.geo = Some(geo.clone());
            true
        })
    }

    /// One peer by node id.
    pub fn get_peer(&self, node: &NodeId) -> Result<Option<PeerRecord>, StoreError> {
        match self.peers.get(node)? {
            Some(v) => Ok(Some(self.with_last_seen(decode("peers", &v)?)?)),
            None => Ok(None),
        }
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

    /// The stored `enr:` texts of a node (the newest [`ENR_HISTORY_PER_NODE`]), oldest seq
    /// first.
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
                        let mut k = crawl_peer_key(crawl, &a);
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
                    if !push(self.with_last_seen(decode("peers", &v)?)?) {
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
}

#[cfg(test)]
mod tests {
    use super::{Upsert, CRAWLS_PER_PEER, ENR_HISTORY_PER_NODE};
    use crate::model::{GeoInfo, PeerFilter, PeerSource, PeerState, SourceKind};
    use crate::store::test_support::{enr, temp_store};

    #[test]
    fn upsert_reports_new_seen_updated_and_new_to_crawl() {
        let (_dir, store) = temp_store();
        let v1 = enr(1, 1);
        assert_eq!(store.upsert_peer(10, &v1, 1_000).unwrap(), Upsert::New);
        assert_eq!(store.upsert_peer(10, &v1, 2_000).unwrap(), Upsert::Seen);
        // An older record changes nothing but `last_seen`.
        let v0 = enr(1, 0);
        assert_eq!(store.upsert_peer(10, &v0, 2_500).unwrap(), Upsert::Seen);
        let v3 = enr(1, 3);
        assert_eq!(
            store.upsert_peer(10, &v3, 3_000).unwrap(),
            Upsert::Updated { previous_seq: 1 }
        );
        // First sighting by another crawl wins over the update.
        let v4 = enr(1, 4);
        assert_eq!(
            store.upsert_peer(11, &v4, 4_000).unwrap(),
            Upsert::NewToCrawl
        );
        let p = store.get_peer(&v1.node_id).unwrap().unwrap();
        assert_eq!(p.enr, v4);
        assert_eq!(p.first_seen, 1_000);
        assert_eq!(p.last_seen, 4_000);
        assert_eq!(p.enr_versions, 3);
        assert_eq!(p.crawls.iter().copied().collect::<Vec<_>>(), [10, 11]);
        // Time never goes back.
        assert_eq!(store.upsert_peer(11, &v4, 100).unwrap(), Upsert::Seen);
        assert_eq!(
            store.get_peer(&v1.node_id).unwrap().unwrap().last_seen,
            4_000
        );
        assert_eq!(store.peer_count(), 1);
    }

    /// A write stopped between the peer record and its indexes (as a crash there would
    /// stop it) leaves all or nothing: never a peer missing from its crawl for good.
    #[test]
    fn a_write_stopped_midway_never_leaves_a_peer_outside_its_crawl() {
        let (dir, store) = temp_store();
        let v1 = enr(1, 1);
        let node = v1.node_id;
        let of_crawl = |c| PeerFilter {
            crawl_id: Some(c),
            ..PeerFilter::default()
        };
        let consistent = |store: &crate::store::Store, crawl, seq| {
            let in_crawl = store.list_peers(&of_crawl(crawl), None, 10).unwrap().0;
            let peer = store.get_peer(&node).unwrap();
            let history = store.enr_history(&node).unwrap();
            match &peer {
                Some(p) => {
                    assert_eq!(in_crawl.len(), 1, "the peer is listed in crawl {crawl}");
                    assert_eq!(history.last().map(|h| h.0), Some(p.enr.seq));
                    assert!(store
                        .get_peer_by_peer_id(v1.peer_id.as_ref().unwrap())
                        .unwrap()
                        .is_some());
                }
                None => assert!(in_crawl.is_empty() && history.is_empty()),
            }
            peer.map(|p| p.enr.seq == seq)
        };
        // A new peer: stopped midway, then what a restart finds.
        store.arm_failpoint("upsert_peer");
        assert!(store.upsert_peer(7, &v1, 1_000).is_err());
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        consistent(&store, 7, 1);
        // The crawl sees it again: it is in the crawl now.
        store.upsert_peer(7, &v1, 2_000).unwrap();
        assert_eq!(consistent(&store, 7, 1), Some(true));
        // A known peer seen by another crawl with a newer record, stopped midway.
        let v2 = enr(1, 2);
        store.arm_failpoint("upsert_peer");
        assert!(store.upsert_peer(8, &v2, 3_000).is_err());
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        let updated = consistent(&store, 7, 2) == Some(true);
        let in_8 = !store
            .list_peers(&of_crawl(8), None, 10)
            .unwrap()
            .0
            .is_empty();
        assert_eq!(
            updated, in_8,
            "record and membership of crawl 8 go together"
        );
        store.upsert_peer(8, &v2, 4_000).unwrap();
        assert_eq!(consistent(&store, 8, 2), Some(true));
        assert_eq!(consistent(&store, 7, 2), Some(true));
    }

    #[test]
    fn enr_history_keeps_the_newest_versions_and_counts_the_dropped() {
        let (_dir, store) = temp_store();
        let node = enr(7, 0).node_id;
        let extra = 5u64;
        let versions = ENR_HISTORY_PER_NODE as u64 + extra;
        for seq in 1..=versions {
            store.upsert_peer(1, &enr(7, seq), seq).unwrap();
        }
        store.upsert_peer(1, &enr(8, 1), 1).unwrap();
        let history = store.enr_history(&node).unwrap();
        let seqs: Vec<u64> = history.iter().map(|h| h.0).collect();
        assert_eq!(seqs, (extra + 1..=versions).collect::<Vec<_>>());
        assert_eq!(history.last().unwrap().1, enr(7, versions).text);
        assert_eq!(store.dropped().enr_versions, extra);
        // The record counts every version it saw, and another node keeps its own.
        let p = store.get_peer(&node).unwrap().unwrap();
        assert_eq!((p.enr.seq, p.enr_versions), (versions, versions as u32));
        assert_eq!(store.enr_history(&enr(8, 0).node_id).unwrap().len(), 1);
    }

    #[test]
    fn peer_records_keep_the_newest_crawls_and_every_crawl_still_lists_the_peer() {
        let (_dir, store) = temp_store();
        let v = enr(1, 1);
        let extra = 4u64;
        let crawls = CRAWLS_PER_PEER as u64 + extra;
        assert_eq!(store.upsert_peer(1, &v, 1).unwrap(), Upsert::New);
        for crawl in 2..=crawls {
            assert_eq!(
                store.upsert_peer(crawl, &v, crawl).unwrap(),
                Upsert::NewToCrawl
            );
        }
        let p = store.get_peer(&v.node_id).unwrap().unwrap();
        assert_eq!(
            p.crawls.iter().copied().collect::<Vec<_>>(),
            (extra + 1..=crawls).collect::<Vec<_>>()
        );
        assert_eq!(store.dropped().crawl_ids, extra);
        // An early crawl still lists it, and sees it again as already known.
        for crawl in [1, 2, crawls] {
            let filter = PeerFilter {
                crawl_id: Some(crawl),
                ..PeerFilter::default()
            };
            assert_eq!(store.list_peers(&filter, None, 10).unwrap().0.len(), 1);
        }
        assert_eq!(store.upsert_peer(1, &v, 100).unwrap(), Upsert::Seen);
        let again = store.get_peer(&v.node_id).unwrap().unwrap();
        assert_eq!(again.crawls, p.crawls);
        assert_eq!(again.last_seen, 100);
    }

    #[test]
    fn a_sighting_that_only_moves_last_seen_does_not_rewrite_the_record() {
        let (_dir, store) = temp_store();
        let v = enr(1, 3);
        store.upsert_peer(1, &v, 1_000).unwrap();
        let raw = || store.peers.get(v.node_id).unwrap().unwrap();
        let before = raw();
        assert_eq!(store.upsert_peer(1, &v, 2_000).unwrap(), Upsert::Seen);
        assert_eq!(
            store.upsert_peer(1, &enr(1, 2), 2_500).unwrap(),
            Upsert::Seen
        );
        store.touch_peer(&v.node_id, 3_000).unwrap();
        assert!(raw() == before, "the record was rewritten");
        // Readers see the new time everywhere.
        assert_eq!(
            store.get_peer(&v.node_id).unwrap().unwrap().last_seen,
            3_000
        );
        let since = PeerFilter {
            seen_since: Some(3_000),
            ..PeerFilter::default()
        };
        assert_eq!(store.list_peers(&since, None, 10).unwrap().0.len(), 1);
        let by_crawl = PeerFilter {
            crawl_id: Some(1),
            ..since
        };
        let (page, _) = store.list_peers(&by_crawl, None, 10).unwrap();
        assert_eq!(page[0].last_seen, 3_000);
        // Time never goes back; a change of the record still writes it.
        store.touch_peer(&v.node_id, 10).unwrap();
        assert_eq!(
            store.get_peer(&v.node_id).unwrap().unwrap().last_seen,
            3_000
        );
        store.upsert_peer(1, &enr(1, 4), 4_000).unwrap();
        assert!(raw() != before);
        assert_eq!(
            store.get_peer(&v.node_id).unwrap().unwrap().last_seen,
            4_000
        );
    }

    #[test]
    fn enr_history_keeps_every_seq_in_order() {
        let (_dir, store) = temp_store();
        for seq in [5, 1, 300, 2] {
            store.upsert_peer(1, &enr(7, seq), seq).unwrap();
        }
        // seq 1 and 2 came after 5, so they were "Seen" and not recorded.
        let history = store.enr_history(&enr(7, 0).node_id).unwrap();
        assert_eq!(
            history,
            [(5, enr(7, 5).text), (300, enr(7, 300).text)].to_vec()
        );
        assert!(store.enr_history(&[0xee; 32]).unwrap().is_empty());
        // Another node's history is apart.
        store.upsert_peer(1, &enr(8, 9), 1).unwrap();
        assert_eq!(store.enr_history(&enr(8, 0).node_id).unwrap().len(), 1);
        assert_eq!(store.enr_history(&enr(7, 0).node_id).unwrap().len(), 2);
    }

    #[test]
    fn peer_id_index_finds_the_node() {
        let (_dir, store) = temp_store();
        let with_id = enr(3, 1);
        let mut without_id = enr(4, 1);
        without_id.peer_id = None;
        store.upsert_peer(1, &with_id, 1).unwrap();
        store.upsert_peer(1, &without_id, 1).unwrap();
        let pid = with_id.peer_id.clone().unwrap();
        let found = store.get_peer_by_peer_id(&pid).unwrap().unwrap();
        assert_eq!(found.enr.node_id, with_id.node_id);
        assert_eq!(store.get_peer_by_peer_id("16Uiu2HAmNobody").unwrap(), None);
        // A corrupt index entry is reported, not mistaken for a peer.
        store.peer_ids.insert("broken", &[1u8, 2, 3][..]).unwrap();
        assert!(store.get_peer_by_peer_id("broken").is_err());
    }

    #[test]
    fn crawl_membership_drives_list_peers_by_crawl() {
        let (_dir, store) = temp_store();
        for n in 1..=6u8 {
            store.upsert_peer(1, &enr(n, 1), 1).unwrap();
        }
        for n in [2u8, 4, 6] {
            store.upsert_peer(2, &enr(n, 1), 2).unwrap();
        }
        let ids =
            |v: &[crate::model::PeerRecord]| v.iter().map(|p| p.enr.node_id[0]).collect::<Vec<_>>();
        let of_crawl = |c| PeerFilter {
            crawl_id: Some(c),
            ..PeerFilter::default()
        };
        let (page, more) = store.list_peers(&of_crawl(2), None, 10).unwrap();
        assert_eq!((ids(&page), more), (vec![2, 4, 6], false));
        // Paging by crawl: two, then the rest after the last node id.
        let (page, more) = store.list_peers(&of_crawl(2), None, 2).unwrap();
        assert_eq!((ids(&page), more), (vec![2, 4], true));
        let last = page.last().unwrap().enr.node_id;
        let (page, more) = store.list_peers(&of_crawl(2), Some(last), 2).unwrap();
        assert_eq!((ids(&page), more), (vec![6], false));
        // A crawl that saw nothing, and one whose id borders another's keys.
        assert!(store
            .list_peers(&of_crawl(3), None, 10)
            .unwrap()
            .0
            .is_empty());
        // Without a crawl: every peer, in node-id order, paged.
        let all = PeerFilter::default();
        let (page, more) = store.list_peers(&all, None, 4).unwrap();
        assert_eq!((ids(&page), more), (vec![1, 2, 3, 4], true));
        let (page, more) = store
            .list_peers(&all, Some(page.last().unwrap().enr.node_id), 4)
            .unwrap();
        assert_eq!((ids(&page), more), (vec![5, 6], false));
        // Exactly `limit` matches: no more.
        let (page, more) = store.list_peers(&of_crawl(2), None, 3).unwrap();
        assert_eq!((page.len(), more), (3, false));
        assert_eq!(store.network_stats(Some(2)).unwrap().peers, 3);
        assert_eq!(store.network_stats(None).unwrap().peers, 6);
    }

    #[test]
    fn list_peers_applies_the_other_filters() {
        let (_dir, store) = temp_store();
        for n in 1..=4u8 {
            store
                .upsert_peer(1, &enr(n, 1), u64::from(n) * 1_000)
                .unwrap();
        }
        let since = PeerFilter {
            seen_since: Some(3_000),
            ..PeerFilter::default()
        };
        let (page, _) = store.list_peers(&since, None, 10).unwrap();
        assert_eq!(page.len(), 2);
        // Filtered out peers do not count towards `more`.
        let (page, more) = store.list_peers(&since, None, 2).unwrap();
        assert_eq!((page.len(), more), (2, false));
    }

    #[test]
    fn sources_are_deduplicated_and_capped() {
        let (_dir, store) = temp_store();
        let node = enr(1, 1).node_id;
        // Unknown peers are left alone.
        let src = |kind, via: Option<&str>, at| PeerSource {
            kind,
            via: via.map(Into::into),
            first_seen: at,
        };
        store
            .add_peer_source(&node, src(SourceKind::Discv5, None, 1))
            .unwrap();
        assert_eq!(store.get_peer(&node).unwrap(), None);
        store.upsert_peer(1, &enr(1, 1), 1).unwrap();
        store
            .add_peer_source(&node, src(SourceKind::Discv5, None, 1))
            .unwrap();
        store
            .add_peer_source(&node, src(SourceKind::Discv5, None, 2))
            .unwrap();
        store
            .add_peer_source(&node, src(SourceKind::PeerExchange, Some("a"), 3))
            .unwrap();
        store
            .add_peer_source(&node, src(SourceKind::PeerExchange, Some("b"), 4))
            .unwrap();
        let sources = store.get_peer(&node).unwrap().unwrap().sources;
        assert_eq!(
            sources,
            [
                src(SourceKind::Discv5, None, 1),
                src(SourceKind::PeerExchange, Some("a"), 3),
                src(SourceKind::PeerExchange, Some("b"), 4),
            ]
        );
        for i in 0..100u64 {
            let via = format!("p{i}");
            store
                .add_peer_source(&node, src(SourceKind::PeerExchange, Some(&via), 10 + i))
                .unwrap();
        }
        let sources = store.get_peer(&node).unwrap().unwrap().sources;
        assert_eq!(sources.len(), crate::model::MAX_PEER_SOURCES);
        // The oldest are kept.
        assert_eq!(sources[3].via.as_deref(), Some("p0"));
    }

    #[test]
    fn a_record_and_its_source_go_in_together() {
        let (_dir, store) = temp_store();
        let node = enr(1, 1).node_id;
        let src = |kind, via: Option<&str>, at| PeerSource {
            kind,
            via: via.map(Into::into),
            first_seen: at,
        };
        let discv5 = src(SourceKind::Discv5, None, 1);
        assert_eq!(
            store
                .upsert_peer_from(1, &enr(1, 1), Some(&discv5), 1)
                .unwrap(),
            Upsert::New
        );
        let peer = store.get_peer(&node).unwrap().unwrap();
        assert_eq!(peer.sources, std::slice::from_ref(&discv5));
        assert_eq!(peer.crawls, [1].into());
        // A newer record from another source, seen by another crawl.
        let px = src(SourceKind::PeerExchange, Some("a"), 2);
        assert_eq!(
            store.upsert_peer_from(2, &enr(1, 2), Some(&px), 2).unwrap(),
            Upsert::NewToCrawl
        );
        // The same source again is not added twice.
        store
            .upsert_peer_from(2, &enr(1, 3), Some(&src(SourceKind::Discv5, None, 3)), 3)
            .unwrap();
        let peer = store.get_peer(&node).unwrap().unwrap();
        assert_eq!(peer.sources, [discv5, px]);
        assert_eq!((peer.enr.seq, peer.enr_versions, peer.last_seen), (3, 3, 3));
    }

    #[test]
    fn touch_state_and_geo_update_a_stored_peer_only() {
        let (_dir, store) = temp_store();
        let node = enr(1, 1).node_id;
        let geo = GeoInfo {
            ip: "127.0.0.1".into(),
            country: "loopback".into(),
            private: true,
            looked_up_at: 5,
            ..GeoInfo::default()
        };
        assert!(!store.set_peer_geo(&node, &geo).unwrap());
        store.touch_peer(&node, 9).unwrap();
        store.set_peer_state(&node, PeerState::Bad).unwrap();
        assert_eq!(store.peer_count(), 0);

        store.upsert_peer(1, &enr(1, 1), 100).unwrap();
        store.touch_peer(&node, 500).unwrap();
        store.touch_peer(&node, 200).unwrap();
        store.set_peer_state(&node, PeerState::Banned).unwrap();
        assert!(store.set_peer_geo(&node, &geo).unwrap());
        let p = store.get_peer(&node).unwrap().unwrap();
        assert_eq!(p.last_seen, 500);
        assert_eq!(p.dial.state, PeerState::Banned);
        assert_eq!(p.geo, Some(geo));
        assert_eq!(store.network_stats(None).unwrap().by_country["loopback"], 1);
    }
}
