//! The `book` tree: each CONTINUOUS crawl's address book (see
//! [`schedule`](crate::engine::schedule)), one [`BookEntry`] per crawl and node, so that a
//! resumed crawl keeps its dial schedule, bans and failures in a row. A crawl writes the
//! entries that changed since its last write, in one batch; the book is deleted when the
//! crawl ends for good.
//!
//! The book is per crawl on purpose: two crawls that dial the same peer each keep their own
//! state for it, while the peer record's `dial.state` only says what the crawl that dialed
//! it last made of it.

use crate::model::{BookEntry, CrawlId};
use crate::store::keys::{be, crawl_peer_key, decode, encode};
use crate::store::{Store, StoreError};

impl Store {
    /// Writes (inserts or replaces) entries of crawl `crawl`'s book, in one batch.
    pub fn put_book_entries(&self, crawl: CrawlId, batch: &[BookEntry]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut b = sled::Batch::default();
        for entry in batch {
            b.insert(crawl_peer_key(crawl, &entry.node_id), encode(entry));
        }
        self.book.apply_batch(b)?;
        Ok(())
    }

    /// Every entry of crawl `crawl`'s book, in node-id order.
    pub fn load_book(&self, crawl: CrawlId) -> Result<Vec<BookEntry>, StoreError> {
        self.book
            .scan_prefix(be(crawl))
            .values()
            .map(|v| decode("book", &v?))
            .collect()
    }

    /// Deletes crawl `crawl`'s book; returns how many entries it held.
    pub fn delete_book(&self, crawl: CrawlId) -> Result<usize, StoreError> {
        let mut b = sled::Batch::default();
        let mut n = 0;
        for key in self.book.scan_prefix(be(crawl)).keys() {
            b.remove(key?);
            n += 1;
        }
        self.book.apply_batch(b)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{BookEntry, ErrorClass, PeerState, VisitReport};
    use crate::store::test_support::{enr, temp_store};

    fn entry(n: u8, state: PeerState, failures: u32) -> BookEntry {
        BookEntry {
            node_id: [n; 32],
            state,
            failures,
            next_due: (state != PeerState::Bad).then_some(5_000 + u64::from(n)),
            ban_until: (state == PeerState::Banned).then_some(9_000),
        }
    }

    #[test]
    fn books_are_kept_per_crawl_and_updated_in_place() {
        let (dir, store) = temp_store();
        store
            .put_book_entries(
                1,
                &[
                    entry(2, PeerState::Failing, 3),
                    entry(1, PeerState::Vetted, 0),
                ],
            )
            .unwrap();
        // Crawl 256 shares no key prefix byte-wise confusion with crawl 1.
        store
            .put_book_entries(256, &[entry(1, PeerState::Banned, 1)])
            .unwrap();
        store
            .put_book_entries(1, &[entry(2, PeerState::Bad, 6)])
            .unwrap();
        store.put_book_entries(1, &[]).unwrap();
        assert_eq!(
            store.load_book(1).unwrap(),
            [entry(1, PeerState::Vetted, 0), entry(2, PeerState::Bad, 6)]
        );
        assert_eq!(
            store.load_book(256).unwrap(),
            [entry(1, PeerState::Banned, 1)]
        );
        assert!(store.load_book(2).unwrap().is_empty());
        // Kept across a reopen.
        drop(store);
        let store = crate::store::Store::open(dir.path(), 100).unwrap();
        assert_eq!(store.load_book(1).unwrap().len(), 2);
        assert_eq!(store.delete_book(1).unwrap(), 2);
        assert!(store.load_book(1).unwrap().is_empty());
        assert_eq!(store.load_book(256).unwrap().len(), 1);
        assert_eq!(store.delete_book(1).unwrap(), 0);
    }

    /// A visit by one crawl updates the shared peer record, never another crawl's book.
    #[test]
    fn a_visit_by_one_crawl_leaves_another_crawls_book_alone() {
        let (_dir, store) = temp_store();
        let node = enr(1, 1).node_id;
        store.upsert_peer(1, &enr(1, 1), 0).unwrap();
        store.upsert_peer(2, &enr(1, 1), 0).unwrap();
        let banned = entry(1, PeerState::Banned, 1);
        store
            .put_book_entries(1, std::slice::from_ref(&banned))
            .unwrap();
        store
            .put_book_entries(2, &[entry(1, PeerState::Failing, 2)])
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
        };
        store.record_visit(&visit, PeerState::Vetted).unwrap();
        store
            .record_visit(
                &VisitReport {
                    started: 2_000,
                    error_class: Some(ErrorClass::Refused),
                    ..visit
                },
                PeerState::Failing,
            )
            .unwrap();
        assert_eq!(store.load_book(1).unwrap(), [banned]);
        let p = store.get_peer(&node).unwrap().unwrap();
        assert_eq!(p.dial.state, PeerState::Failing, "the last visit's crawl");
    }
}
