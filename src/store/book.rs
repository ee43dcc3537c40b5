//! Address books: the `book` tree (each crawl's [`BookEntry`]s, keyed by crawl id ‖ node
//! id), and `crawl_keys` (the secret key a crawl's discv5 and libp2p identity was made
//! from), which together with the crawl's stored spec are what a crawl needs to resume
//! after a restart as itself.
//!
//! A book holds one entry per peer the crawl knows, so its size is bounded by the crawl's
//! own cap on known nodes. Saving a batch of entries is atomic (one sled batch); deleting a
//! book runs in batches of [`BOOK_DELETE_BATCH`].

use crate::model::{BookEntry, CrawlId};
use crate::store::keys::{be, crawl_peer_key, decode, encode};
use crate::store::{Store, StoreError};

/// Entries removed per batch by [`Store::delete_book`].
pub const BOOK_DELETE_BATCH: usize = 1024;

impl Store {
    /// Saves entries of crawl `crawl`'s book, replacing those of the same peers; all or
    /// none of them are written.
    pub fn put_book_entries(
        &self,
        crawl: CrawlId,
        entries: &[BookEntry],
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for entry in entries {
            batch.insert(crawl_peer_key(crawl, &entry.node_id), encode(entry));
        }
        self.book.apply_batch(batch)?;
        Ok(())
    }

    /// Every saved entry of crawl `crawl`'s book, in node-id order.
    pub fn load_book(&self, crawl: CrawlId) -> Result<Vec<BookEntry>, StoreError> {
        self.book
            .scan_prefix(be(crawl))
            .values()
            .map(|v| decode("book", &v?))
            .collect()
    }

    /// Deletes crawl `crawl`'s book and its saved key; returns how many entries were
    /// deleted.
    pub fn delete_book(&self, crawl: CrawlId) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let keys = self
                .book
                .scan_prefix(be(crawl))
                .keys()
                .take(BOOK_DELETE_BATCH)
                .collect::<Result<Vec<_>, _>>()?;
            if keys.is_empty() {
                break;
            }
            deleted += keys.len() as u64;
            let mut batch = sled::Batch::default();
            for k in keys {
                batch.remove(k);
            }
            self.book.apply_batch(batch)?;
        }
        self.crawl_keys.remove(be(crawl))?;
        Ok(deleted)
    }

    /// Saves the secret key crawl `crawl`'s node identity is made from, so that a resumed
    /// crawl keeps its node id and peer id (peers and seed clients know it by them).
    pub fn put_crawl_key(&self, crawl: CrawlId, secret: &[u8]) -> Result<(), StoreError> {
        self.crawl_keys.insert(be(crawl), secret)?;
        Ok(())
    }

    /// The saved secret key of crawl `crawl`, if any.
    pub fn crawl_key(&self, crawl: CrawlId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.crawl_keys.get(be(crawl))?.map(|v| v.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::BOOK_DELETE_BATCH;
    use crate::model::{BookEntry, CrawlMode, CrawlState, PeerState};
    use crate::store::test_support::{crawl, reopen, temp_store};

    fn entry(n: u8, state: PeerState) -> BookEntry {
        BookEntry {
            node_id: [n; 32],
            state,
            attempts: 0,
            last_dial: None,
            next_due: Some(1_000 + u64::from(n)),
            ban_until: None,
            in_flight: false,
        }
    }

    #[test]
    fn books_round_trip_per_crawl_and_survive_a_restart() {
        let (dir, store) = temp_store();
        assert!(store.load_book(1).unwrap().is_empty());
        let mut failing = entry(3, PeerState::Failing);
        failing.attempts = 4;
        failing.last_dial = Some(900);
        failing.next_due = Some(17_000);
        let mut bad = entry(2, PeerState::Bad);
        bad.attempts = 6;
        bad.next_due = None;
        let mut banned = entry(4, PeerState::Banned);
        banned.next_due = None;
        banned.ban_until = Some(3_600_000);
        let mut dialing = entry(5, PeerState::Vetted);
        dialing.in_flight = true;
        dialing.next_due = None;
        let book1 = vec![
            entry(1, PeerState::New),
            bad.clone(),
            failing.clone(),
            banned.clone(),
            dialing,
        ];
        // Given out of order; loaded in node-id order.
        let mut shuffled = book1.clone();
        shuffled.reverse();
        store.put_book_entries(1, &shuffled).unwrap();
        // Another crawl's entry for the same peer is its own; a crawl id past 255 checks
        // that one crawl's prefix does not reach into another's.
        let mut other = entry(3, PeerState::Vetted);
        other.last_dial = Some(5);
        store.put_book_entries(2, &[other.clone()]).unwrap();
        store
            .put_book_entries(256, &[entry(9, PeerState::New)])
            .unwrap();
        assert_eq!(store.load_book(1).unwrap(), book1);
        assert_eq!(store.load_book(2).unwrap(), [other.clone()]);
        // A later save replaces the peer's entry.
        failing.attempts = 5;
        failing.next_due = Some(49_000);
        store.put_book_entries(1, &[failing.clone()]).unwrap();
        drop(store);
        let store = reopen(dir.path());
        let loaded = store.load_book(1).unwrap();
        assert_eq!(loaded.len(), 5);
        assert_eq!(loaded[2], failing);
        assert_eq!(loaded[3], banned);
        assert_eq!(store.load_book(256).unwrap().len(), 1);
        // Deleting one crawl's book leaves the others.
        assert_eq!(store.delete_book(1).unwrap(), 5);
        assert!(store.load_book(1).unwrap().is_empty());
        assert_eq!(store.load_book(2).unwrap(), [other]);
        assert_eq!(store.delete_book(1).unwrap(), 0);
    }

    #[test]
    fn a_large_book_is_saved_whole_and_deleted_in_batches() {
        let (_dir, store) = temp_store();
        let n = 3 * BOOK_DELETE_BATCH + 7;
        let entries: Vec<BookEntry> = (0..n)
            .map(|i| {
                let mut e = entry(0, PeerState::New);
                e.node_id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                e
            })
            .collect();
        store.put_book_entries(7, &entries).unwrap();
        store.put_book_entries(8, &entries[..3]).unwrap();
        assert_eq!(store.load_book(7).unwrap(), entries);
        assert_eq!(store.delete_book(7).unwrap(), n as u64);
        assert!(store.load_book(7).unwrap().is_empty());
        assert_eq!(store.load_book(8).unwrap().len(), 3);
    }

    #[test]
    fn a_crawl_keeps_its_key_until_its_book_is_deleted() {
        let (dir, store) = temp_store();
        assert_eq!(store.crawl_key(1).unwrap(), None);
        store.put_crawl_key(1, &[7; 32]).unwrap();
        store.put_crawl_key(2, &[8; 32]).unwrap();
        drop(store);
        let store = reopen(dir.path());
        assert_eq!(store.crawl_key(1).unwrap(), Some(vec![7; 32]));
        store.delete_book(1).unwrap();
        assert_eq!(store.crawl_key(1).unwrap(), None);
        assert_eq!(store.crawl_key(2).unwrap(), Some(vec![8; 32]));
    }

    /// What resuming needs besides the book: the crawl's id, spec (with the records its DNS
    /// trees gave at start), progress and creation time are stored, and an interrupted
    /// crawl is found by state.
    #[test]
    fn an_interrupted_crawl_keeps_everything_a_resume_needs() {
        let (dir, store) = temp_store();
        let mut c = crawl(4, CrawlState::Running);
        c.spec.mode = CrawlMode::Continuous;
        c.spec.dns_tree_urls = vec![
            "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@nodes.example.org"
                .into(),
        ];
        c.spec.dns_from = Some(1);
        c.spec.bootstrap_enrs.push("enr:-from-dns".into());
        c.spec.settings.max_peers = Some(500);
        c.progress.rounds = 12;
        c.progress.discovered = 340;
        store.put_crawl(&c).unwrap();
        drop(store);
        let store = reopen(dir.path());
        let (ids, kept) = store.mark_running_interrupted(9_000, |_| false).unwrap();
        assert_eq!((ids, kept.len()), (vec![4], 0));
        let interrupted = store
            .list_crawls(None, Some(CrawlState::Interrupted), 10)
            .unwrap();
        assert_eq!(interrupted.len(), 1);
        let got = &interrupted[0];
        assert_eq!((got.id, got.created_at), (c.id, c.created_at));
        assert_eq!(got.spec, c.spec);
        assert_eq!(got.progress.rounds, 12);
        assert_eq!(got.progress.discovered, 340);
    }

    /// A visit by one crawl updates the shared peer record (its `dial.state` is the last
    /// dialing crawl's), never another crawl's book.
    #[test]
    fn a_visit_by_one_crawl_leaves_another_crawls_book_alone() {
        use crate::model::{ErrorClass, VisitReport};
        let (_dir, store) = temp_store();
        let node = crate::store::test_support::enr(1, 1).node_id;
        for c in [1, 2] {
            store
                .upsert_peer(c, &crate::store::test_support::enr(1, 1), 0)
                .unwrap();
        }
        let mut banned = entry(1, PeerState::Banned);
        banned.next_due = None;
        banned.ban_until = Some(3_600_000);
        store
            .put_book_entries(1, std::slice::from_ref(&banned))
            .unwrap();
        store
            .put_book_entries(2, &[entry(1, PeerState::Failing)])
            .unwrap();
        let visit = VisitReport {
            node_id: node,
            crawl_id: 2,
            started: 1_000,
            duration_ms: 5,
            address: None,
            error_class: None,
            error: None,
            identify: None,
            metadata: None,
            metadata_error: None,
            rtt_us: None,
            node_info: None,
        };
        store.record_visit(&visit, PeerState::Vetted).unwrap();
        let failed = VisitReport {
            started: 2_000,
            error_class: Some(ErrorClass::Refused),
            ..visit
        };
        store.record_visit(&failed, PeerState::Failing).unwrap();
        assert_eq!(store.load_book(1).unwrap(), [banned]);
        let p = store.get_peer(&node).unwrap().unwrap();
        assert_eq!(p.dial.state, PeerState::Failing, "the last visit's crawl");
    }
}
