//! Upgrades of databases written by older schema versions, run once by [`Store::open`]
//! before the store is used.
//!
//! | from | to | what                                                                      |
//! |------|----|---------------------------------------------------------------------------|
//! | 1    | 2  | rebuild the peer indexes from the records; bound histories and crawl ids  |
//!
//! **1 → 2.** Version 1 wrote a peer record and its indexes one tree after another, so a
//! crash in between could leave a peer outside the crawl that saw it (and later sightings
//! did not repair it). Every record's crawls, newest ENR and peer id are put back into
//! the indexes (`crawl_peers`, `enrs`, `peer_ids`); version 2 writes them in one
//! transaction. Version 1 also kept every ENR version and every crawl id in the record:
//! histories are cut to [`ENR_HISTORY_PER_NODE`](crate::store::ENR_HISTORY_PER_NODE) and records to [`CRAWLS_PER_PEER`] crawl
//! ids (counted in [`Store::dropped`]). A record rewritten is marked changed and an ENR
//! version put back is fed for the export (see [`export`](crate::store::export)); both are
//! written before the rows they name, so a crash during the migration, which then runs
//! again, loses neither.

use crate::model::PeerRecord;
use crate::store::export::{self, Changed};
use crate::store::keys::{crawl_peer_key, decode, encode, enr_key};
use crate::store::{Store, StoreError, CRAWLS_PER_PEER};

/// Peer records handled per batch of index writes.
const BATCH: usize = 1024;

/// What a migration changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Migrated {
    /// Peer records read.
    pub peers: u64,
    /// Index entries that were missing and were written.
    pub repaired: u64,
    /// ENR versions dropped beyond [`ENR_HISTORY_PER_NODE`](crate::store::ENR_HISTORY_PER_NODE).
    pub enr_versions_dropped: u64,
    /// Crawl ids dropped from records beyond [`CRAWLS_PER_PEER`].
    pub crawl_ids_dropped: u64,
}

impl Store {
    /// Brings a database of version `from` up to the current layout.
    pub(crate) fn migrate(&self, from: u64) -> Result<Migrated, StoreError> {
        let mut done = Migrated::default();
        if from < 2 {
            self.rebuild_peer_indexes(&mut done)?;
        }
        Ok(done)
    }

    /// 1 → 2: puts every record's crawls, newest ENR and peer id into the indexes, and
    /// bounds histories and crawl ids.
    fn rebuild_peer_indexes(&self, done: &mut Migrated) -> Result<(), StoreError> {
        let mut batches = Batches::default();
        for item in self.peers.iter() {
            let (k, v) = item?;
            let mut record: PeerRecord = decode("peers", &v)?;
            let node = record.enr.node_id;
            done.peers += 1;
            for &crawl in &record.crawls {
                let key = crawl_peer_key(crawl, &node);
                if !self.crawl_peers.contains_key(&key)? {
                    batches.crawl_peers.insert(key, &[]);
                    done.repaired += 1;
                }
            }
            let key = enr_key(&node, record.enr.seq);
            if !self.enrs.contains_key(&key)? {
                batches.enrs.insert(key, record.enr.text.as_bytes());
                batches.fed.push(export::enr_entry(&node, record.enr.seq));
                done.repaired += 1;
            }
            if let Some(pid) = &record.enr.peer_id {
                if self.peer_ids.get(pid.as_bytes())?.as_deref() != Some(&node[..]) {
                    batches.peer_ids.insert(pid.as_bytes(), &node[..]);
                    done.repaired += 1;
                }
            }
            done.enr_versions_dropped += self.trim_enr_history(&node)?;
            if record.crawls.len() > CRAWLS_PER_PEER {
                while record.crawls.len() > CRAWLS_PER_PEER {
                    record.crawls.pop_first();
                    done.crawl_ids_dropped += 1;
                }
                batches.peers.insert(k, encode(&record));
                batches.marked.push(node);
            }
            batches.pending += 1;
            if batches.pending >= BATCH {
                std::mem::take(&mut batches).apply(self)?;
            }
        }
        batches.apply(self)?;
        self.dropped
            .crawl_ids
            .fetch_add(done.crawl_ids_dropped, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Index writes gathered over up to [`BATCH`] records.
#[derive(Default)]
struct Batches {
    peers: sled::Batch,
    crawl_peers: sled::Batch,
    enrs: sled::Batch,
    peer_ids: sled::Batch,
    /// Peers whose record is rewritten: marked changed for the export.
    marked: Vec<crate::model::NodeId>,
    /// ENR versions put back: fed to the export.
    fed: Vec<export::FeedEntry>,
    pending: usize,
}

impl Batches {
    fn apply(self, store: &Store) -> Result<(), StoreError> {
        if !self.marked.is_empty() {
            store.mark_changed_batch(Changed::Peer, self.marked.iter().map(|n| &n[..]))?;
        }
        store.append_feed(self.fed)?;
        store.peers.apply_batch(self.peers)?;
        store.crawl_peers.apply_batch(self.crawl_peers)?;
        store.enrs.apply_batch(self.enrs)?;
        store.peer_ids.apply_batch(self.peer_ids)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::keys::{be, crawl_peer_key, encode, enr_key};
    use crate::store::test_support::{enr, temp_store};
    use crate::store::{Dropped, CRAWLS_PER_PEER, ENR_HISTORY_PER_NODE};

    #[test]
    fn opening_a_version_1_store_bounds_enr_history_and_crawl_ids() {
        let (dir, store) = temp_store();
        let node = enr(1, 0).node_id;
        store.upsert_peer(1, &enr(1, 1), 1).unwrap();
        store.upsert_peer(1, &enr(2, 1), 1).unwrap();
        // What version 1 wrote for a long-lived node: every version and every crawl.
        let versions = ENR_HISTORY_PER_NODE as u64 + 9;
        let crawls = CRAWLS_PER_PEER as u64 + 7;
        let mut record = store.get_peer(&node).unwrap().unwrap();
        for seq in 1..=versions {
            store
                .enrs
                .insert(enr_key(&node, seq), enr(1, seq).text.as_bytes())
                .unwrap();
        }
        for crawl in 1..=crawls {
            record.crawls.insert(crawl);
            store
                .crawl_peers
                .insert(crawl_peer_key(crawl, &node), &[])
                .unwrap();
        }
        record.enr = enr(1, versions);
        store.peers.insert(node, encode(&record)).unwrap();
        store.meta.insert("schema_version", &be(1)).unwrap();
        drop(store);

        let store = crate::store::test_support::reopen(dir.path());
        let seqs: Vec<u64> = store
            .enr_history(&node)
            .unwrap()
            .iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(seqs, (10..=versions).collect::<Vec<_>>());
        let p = store.get_peer(&node).unwrap().unwrap();
        assert_eq!(
            p.crawls.iter().copied().collect::<Vec<_>>(),
            (8..=crawls).collect::<Vec<_>>()
        );
        assert_eq!(
            store.dropped(),
            Dropped {
                enr_versions: 9,
                crawl_ids: 7
            }
        );
        // The other peer is as it was.
        assert_eq!(store.enr_history(&enr(2, 0).node_id).unwrap().len(), 1);
    }
}
