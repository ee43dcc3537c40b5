//! The `crawls` tree and the crawl id counter (kept in `meta`).

use sled::transaction::{ConflictableTransactionError, Transactional};

use crate::model::{Crawl, CrawlId, CrawlState, UnixMillis};
use crate::store::export::{self, Changed};
use crate::store::keys::{be, decode, encode, u64_key};
use crate::store::{tx_error, Store, StoreError};

impl Store {
    /// Allocates a new crawl id.
    pub fn next_crawl_id(&self) -> Result<CrawlId, StoreError> {
        let v = self.meta.update_and_fetch("crawl_counter", |old| {
            let n = old.and_then(u64_key).unwrap_or(0) + 1;
            Some(be(n).to_vec())
        })?;
        Ok(v.and_then(|v| u64_key(&v)).unwrap_or(1))
    }

    /// Inserts or replaces a crawl, marking it changed for the export in the same
    /// transaction.
    pub fn put_crawl(&self, crawl: &Crawl) -> Result<(), StoreError> {
        let key = be(crawl.id);
        let value = encode(crawl);
        let id = self.change_id()?;
        (&self.crawls, &self.export_dirty)
            .transaction(|(crawls, dirty)| {
                crawls.insert(&key[..], value.as_slice())?;
                export::mark(dirty, Changed::Crawl, &key, id)?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_error)?;
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

    /// Marks every crawl stored as running as interrupted, except those `resume` picks,
    /// which stay running (called at start-up, when no crawl can be running yet). Returns
    /// the ids marked and the crawls kept, oldest first.
    pub fn mark_running_interrupted(
        &self,
        now: UnixMillis,
        resume: impl Fn(&Crawl) -> bool,
    ) -> Result<(Vec<CrawlId>, Vec<Crawl>), StoreError> {
        let mut ids = Vec::new();
        let mut kept = Vec::new();
        for item in self.crawls.iter() {
            let (_, v) = item?;
            let mut crawl: Crawl = decode("crawls", &v)?;
            if crawl.state != CrawlState::Running {
                continue;
            }
            if resume(&crawl) {
                kept.push(crawl);
                continue;
            }
            crawl.state = CrawlState::Interrupted;
            crawl.finished_at = Some(now);
            crawl.progress.in_flight = 0;
            self.put_crawl(&crawl)?;
            ids.push(crawl.id);
        }
        Ok((ids, kept))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{CrawlMode, CrawlState, Profile};
    use crate::store::test_support::{crawl, temp_store};

    #[test]
    fn crawl_ids_count_up_and_survive_reopen() {
        let (dir, store) = temp_store();
        assert_eq!(store.next_crawl_id().unwrap(), 1);
        assert_eq!(store.next_crawl_id().unwrap(), 2);
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        assert_eq!(store.next_crawl_id().unwrap(), 3);
    }

    #[test]
    fn crawls_round_trip_and_replace() {
        let (_dir, store) = temp_store();
        assert_eq!(store.get_crawl(1).unwrap(), None);
        let mut c = crawl(1, CrawlState::Running);
        c.spec.profile = Profile::Waku {
            cluster_id: 2,
            shards: vec![0, 5],
            protocol_id: *b"discv5",
        };
        c.spec.labels.insert("team".into(), "blue".into());
        c.progress.failed_by_class.insert("timeout".into(), 3);
        store.put_crawl(&c).unwrap();
        assert_eq!(store.get_crawl(1).unwrap(), Some(c.clone()));
        c.state = CrawlState::Finished;
        c.finished_at = Some(99);
        store.put_crawl(&c).unwrap();
        assert_eq!(store.get_crawl(1).unwrap(), Some(c));
    }

    #[test]
    fn list_crawls_pages_newest_first_and_filters_by_state() {
        let (_dir, store) = temp_store();
        // Ids past 255 check that the order is numeric, not by the first byte.
        for id in [1, 2, 3, 255, 256, 300] {
            let state = if id % 2 == 0 {
                CrawlState::Finished
            } else {
                CrawlState::Running
            };
            store.put_crawl(&crawl(id, state)).unwrap();
        }
        let ids = |v: Vec<crate::model::Crawl>| v.iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.list_crawls(None, None, 10).unwrap()),
            [300, 256, 255, 3, 2, 1]
        );
        assert_eq!(ids(store.list_crawls(None, None, 2).unwrap()), [300, 256]);
        assert_eq!(
            ids(store.list_crawls(Some(256), None, 2).unwrap()),
            [255, 3]
        );
        assert_eq!(
            ids(store
                .list_crawls(None, Some(CrawlState::Finished), 10)
                .unwrap()),
            [300, 256, 2]
        );
        assert_eq!(
            ids(store
                .list_crawls(Some(300), Some(CrawlState::Running), 1)
                .unwrap()),
            [255]
        );
        assert!(store.list_crawls(Some(1), None, 10).unwrap().is_empty());
    }

    #[test]
    fn running_crawls_become_interrupted_unless_resumed() {
        let (_dir, store) = temp_store();
        let mut running = crawl(1, CrawlState::Running);
        running.progress.in_flight = 7;
        store.put_crawl(&running).unwrap();
        store.put_crawl(&crawl(2, CrawlState::Finished)).unwrap();
        store.put_crawl(&crawl(3, CrawlState::Running)).unwrap();
        let mut continuous = crawl(4, CrawlState::Running);
        continuous.spec.mode = CrawlMode::Continuous;
        store.put_crawl(&continuous).unwrap();
        let (ids, kept) = store
            .mark_running_interrupted(5_000, |c| c.spec.mode == CrawlMode::Continuous)
            .unwrap();
        assert_eq!(ids, [1, 3]);
        assert_eq!(kept, [continuous.clone()]);
        assert_eq!(store.get_crawl(4).unwrap(), Some(continuous));
        let c = store.get_crawl(1).unwrap().unwrap();
        assert_eq!(c.state, CrawlState::Interrupted);
        assert_eq!(c.finished_at, Some(5_000));
        assert_eq!(c.progress.in_flight, 0);
        assert_eq!(
            store.get_crawl(2).unwrap().unwrap(),
            crawl(2, CrawlState::Finished)
        );
        let (ids, kept) = store.mark_running_interrupted(6_000, |_| false).unwrap();
        assert_eq!((ids, kept.len()), (vec![4], 0));
        assert!(store
            .mark_running_interrupted(7_000, |_| true)
            .unwrap()
            .0
            .is_empty());
    }
}
