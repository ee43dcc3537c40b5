//! Upgrades of databases written by older schema versions, run once by [`Store::open`]
//! before the store is used.
//!
//! | from | to | what                                                                      |
//! |------|----|---------------------------------------------------------------------------|
//! | 1    | 2  | rebuild the peer indexes (`crawl_peers`, `enrs`, `peer_ids`) from the records |
//!
//! **1 → 2.** Version 1 wrote a peer record and its indexes one tree after another, so a
//! crash in between could leave a peer outside the crawl that saw it (and later sightings
//! did not repair it). Every record's crawls, newest ENR and peer id are put back into
//! the indexes. Version 2 writes them in one transaction.

use crate::model::PeerRecord;
use crate::store::keys::{crawl_peer_key, decode, enr_key};
use crate::store::{Store, StoreError};

/// Peer records handled per batch of index writes.
const BATCH: usize = 1024;

/// What a migration changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Migrated {
    /// Peer records read.
    pub peers: u64,
    /// Index entries that were missing and were written.
    pub repaired: u64,
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

    /// 1 → 2: puts every record's crawls, newest ENR and peer id into the indexes.
    fn rebuild_peer_indexes(&self, done: &mut Migrated) -> Result<(), StoreError> {
        let mut batches = Batches::default();
        for item in self.peers.iter() {
            let (_, v) = item?;
            let record: PeerRecord = decode("peers", &v)?;
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
                done.repaired += 1;
            }
            if let Some(pid) = &record.enr.peer_id {
                if self.peer_ids.get(pid.as_bytes())?.as_deref() != Some(&node[..]) {
                    batches.peer_ids.insert(pid.as_bytes(), &node[..]);
                    done.repaired += 1;
                }
            }
            batches.pending += 1;
            if batches.pending >= BATCH {
                std::mem::take(&mut batches).apply(self)?;
            }
        }
        batches.apply(self)
    }
}

/// Index writes gathered over up to [`BATCH`] records.
#[derive(Default)]
struct Batches {
    crawl_peers: sled::Batch,
    enrs: sled::Batch,
    peer_ids: sled::Batch,
    pending: usize,
}

impl Batches {
    fn apply(self, store: &Store) -> Result<(), StoreError> {
        store.crawl_peers.apply_batch(self.crawl_peers)?;
        store.enrs.apply_batch(self.enrs)?;
        store.peer_ids.apply_batch(self.peer_ids)?;
        Ok(())
    }
}
