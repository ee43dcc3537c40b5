//! What the crawl reports: its progress (the walk's counters, the dials, the relay
//! monitor, ONESHOT's estimate), the live snapshot and the persisted record, and the
//! events it writes to the store.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::estimate::Work;
use super::Crawler;
use crate::model::{Crawl, CrawlMode};
use crate::store::StoreError;

/// How often the live snapshot of a running crawl is published.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

impl Crawler {
    pub(super) fn flush_events(&mut self) -> Result<(), StoreError> {
        if !self.events.is_empty() {
            let n = self.events.len() as u64;
            self.store.append_events(std::mem::take(&mut self.events))?;
            self.metrics.events_written(n);
        }
        Ok(())
    }

    /// Copies the walk's round counters into the crawl's progress.
    pub(super) fn sync_walk(&mut self) {
        let p = &mut self.crawl.progress;
        p.queried = self.walk.queried();
        p.unresponsive = self.walk.unresponsive();
        p.rounds = self.rounds_before + self.walk.rounds();
        p.find_node_timeouts = self.walk.timeouts();
        p.request_timeout_ms = Some(self.walk.timeout().as_millis() as u64);
        p.walk_tail_ms = self.walk.tail().map(|t| t.as_millis() as u64);
        p.lookup_only = self.lookup_only.len() as u64;
    }

    pub(super) fn update_progress(&mut self) {
        self.sync_walk();
        let p = &mut self.crawl.progress;
        p.discovered = (self.walk.known() + self.intake.out_of_scope()) as u64;
        p.queued = self.walk.queued() as u64;
        p.in_flight = (self.walk.in_flight() + self.io.lookups_in_flight()) as u64;
        p.dialing = self.io.dialer.as_ref().map_or(0, |d| d.in_flight() as u64);
        p.dial_queued = self.dials.undialed() as u64;
        if let Some(r) = &self.io.relay {
            p.relay_peers = r.connected() as u64;
            p.relay_mesh_peers = r.min_mesh_peers() as u64;
            p.messages = r.messages();
        }
        self.crawl.progress.estimated_remaining_ms = self.estimate_remaining();
    }

    /// ONESHOT: time until the known work is done at the recent pace; `None` without
    /// enough throughput to tell.
    fn estimate_remaining(&mut self) -> Option<u64> {
        if self.crawl.spec.mode != CrawlMode::Oneshot {
            return None;
        }
        let p = &self.crawl.progress;
        let done = Work {
            walk: p.queried,
            dials: p.connected + p.failed_by_class.values().sum::<u64>(),
        };
        let left = Work {
            walk: self.walk.remaining(),
            dials: self.dials.undialed() as u64 + p.dialing,
        };
        self.throughput.estimate(Instant::now(), done, left)
    }
}

/// When the live snapshot was last published and the crawl last persisted.
pub(super) struct Reports {
    persist_every: Duration,
    last_publish: Instant,
    last_persist: Instant,
    /// Something happened since the last publish (it was not due yet).
    unpublished: bool,
}

impl Reports {
    pub(super) fn new(persist_every: Duration) -> Reports {
        Reports {
            persist_every,
            last_publish: Instant::now(),
            last_persist: Instant::now(),
            unpublished: false,
        }
    }

    /// When the loop must wake to publish what happened since the last snapshot, so that
    /// an idle crawl's snapshot is not left behind; `None` when nothing is waiting.
    pub(super) fn next_publish(&self) -> Option<tokio::time::Instant> {
        self.unpublished
            .then(|| tokio::time::Instant::from_std(self.last_publish + PUBLISH_INTERVAL))
    }

    /// Publishes the snapshot every [`PUBLISH_INTERVAL`] (what happens in between is
    /// published at [`Reports::next_publish`]) and persists the crawl (and a CONTINUOUS
    /// crawl's changed book entries) every `persist_every`.
    pub(super) fn due(
        &mut self,
        c: &mut Crawler,
        snapshots: &watch::Sender<Crawl>,
    ) -> Result<(), StoreError> {
        if self.last_publish.elapsed() >= PUBLISH_INTERVAL {
            snapshots.send_replace(c.crawl.clone());
            self.last_publish = Instant::now();
            self.unpublished = false;
        } else {
            self.unpublished = true;
        }
        if self.last_persist.elapsed() >= self.persist_every {
            c.persist_book()?;
            c.store.put_crawl(&c.crawl)?;
            self.last_persist = Instant::now();
        }
        Ok(())
    }
}
