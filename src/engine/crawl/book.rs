//! The address book kept across restarts, for CONTINUOUS crawls: the entries that changed
//! are written to the store's `book` tree with the crawl's periodic persist (one batch),
//! and a resumed crawl takes its book back with the restart spread
//! ([`AddressBook::restore_stored`](crate::engine::schedule::AddressBook::restore_stored)),
//! together with the stored record of each of its peers, so it dials them where it left
//! off and does not announce them as discovered again.

use std::collections::BTreeMap;

use super::dials::dial_target;
use super::Crawler;
use crate::model::{now_millis, CrawlMode, PeerEventKind, PeerState};
use crate::protocol::enr::{parse_enr, DecodedEnr};
use crate::store::StoreError;

impl Crawler {
    /// Writes the book entries that changed since the last write (CONTINUOUS crawls; a
    /// ONESHOT crawl is never resumed and keeps no book).
    pub(super) fn persist_book(&mut self) -> Result<(), StoreError> {
        let changed = self.dials.book.take_changed();
        if changed.is_empty() || self.crawl.spec.mode != CrawlMode::Continuous {
            return Ok(());
        }
        let (now, wall) = (tokio::time::Instant::now(), now_millis());
        let entries: Vec<_> = changed
            .iter()
            .filter_map(|node| self.dials.book.stored(node, now, wall))
            .collect();
        self.store.put_book_entries(self.crawl.id, &entries)
    }

    /// A resumed crawl: takes back its stored book (entries whose peer has no usable
    /// stored record are dropped) and announces the resumption with a RESUMED event. A
    /// book that cannot be read is logged and the crawl goes on with an empty one.
    pub(super) fn restore_book(&mut self) {
        let entries = if self.io.dialer.is_some() {
            match self.store.load_book(self.crawl.id) {
                Ok(entries) => entries,
                Err(e) => {
                    tracing::warn!(crawl = self.crawl.id, error = %e, "address book unreadable; starting with an empty one");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let (now, wall) = (tokio::time::Instant::now(), now_millis());
        let mut by_state: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut restored = 0u64;
        for entry in &entries {
            let record = match self.store.get_peer(&entry.node_id) {
                Ok(Some(p)) => p.enr,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(crawl = self.crawl.id, error = %e, "peer record unreadable; its book entry is dropped");
                    continue;
                }
            };
            let Ok(enr) = parse_enr(&record.text) else {
                continue;
            };
            if enr.node_id().raw() != entry.node_id {
                continue;
            }
            let decoded = DecodedEnr::from_enr(&enr);
            if dial_target(&decoded).is_none() {
                continue;
            }
            self.dials
                .book
                .restore_stored(entry, now, wall, &mut self.rng);
            self.clusters
                .insert(entry.node_id, decoded.shards.as_ref().map(|s| s.cluster));
            self.walk.learn(enr);
            // Already in the book: only its dial target is taken.
            self.dials.learn(entry.node_id, &decoded, true, now);
            *by_state.entry(entry.state.as_str()).or_default() += 1;
            restored += 1;
        }
        let count = |s: PeerState| by_state.get(s.as_str()).copied().unwrap_or(0);
        let detail = format!(
            "address book restored: {restored} peers ({} vetted, {} failing, {} bad, {} banned, {} new)",
            count(PeerState::Vetted),
            count(PeerState::Failing),
            count(PeerState::Bad),
            count(PeerState::Banned),
            count(PeerState::New),
        );
        tracing::info!(crawl = self.crawl.id, stored = entries.len(), %detail, "crawl resumed");
        let local = self.io.local_id;
        self.event(PeerEventKind::Resumed, local).detail = Some(detail);
    }

    /// The crawl ended for good: its stored book is of no further use.
    pub(super) fn drop_book(&self) {
        if self.crawl.spec.mode != CrawlMode::Continuous {
            return;
        }
        if let Err(e) = self.store.delete_book(self.crawl.id) {
            tracing::warn!(crawl = self.crawl.id, error = %e, "could not delete the address book");
        }
    }
}
