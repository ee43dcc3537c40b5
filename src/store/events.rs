//! The peer event log: the `events` tree, sequence numbers, retention, the in-memory window
//! of the newest events, and subscriptions that replay the log and then follow it live.
//!
//! **Sequence numbers** are consecutive per append and never reused, not even after a
//! crash: they are reserved on disk in blocks ([`EVENT_SEQUENCE_BLOCK`]), the end of the
//! reserved range (`event_high_water` in `meta`) written and flushed before any number in
//! it is handed out. Opening the store reserves the first block; from then on the next block
//! is reserved as soon as less than a block is left, its flush running in the background
//! (on a blocking thread), so an append does not wait for the disk unless it outruns that
//! flush. [`Store::close`] releases the unused rest, so a clean restart continues without
//! a gap; after a crash numbering resumes past the reserved range (at most two blocks on).
//!
//! **The window** holds the newest [`RECENT_EVENTS`] events decoded, each as a
//! [`SharedEvent`] with room for its wire encoding, so that subscribers who keep up read
//! from memory instead of each scanning and decoding the log, and encode each event once.
//! Retention ([`Store::trim_events_async`], [`Store::trim_events`]) drops events from the
//! log and the window alike, in steps of at most [`TRIM_BATCH`] events (one sled batch
//! each).
//!
//! **Subscriptions** ([`Store::subscribe_events`]) start after a sequence number the
//! caller has seen (or at the end of the log), replay what follows from the window or, when
//! the reader is further behind, from the log, and then wait for appends: every event after
//! the start is delivered once, in order, with no gap. A start whose successors were
//! dropped by retention fails with [`SubscribeError::Trimmed`], naming the oldest event
//! still stored. The log is the buffer: a slow subscriber delays only itself, never the
//! writer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use prost::bytes::Bytes;
use tokio::sync::watch;

use crate::model::{EventFilter, NewPeerEvent, PeerEvent, UnixMillis};
use crate::store::keys::{be, decode, encode, u64_key};
use crate::store::{Store, StoreError};

/// Event sequence numbers are reserved on disk in blocks of this many: the end of the
/// block is written and flushed before any number in it is handed out, so a number that
/// reached a subscriber is never given to another event, even if the process dies before
/// the event itself was flushed. After a crash numbering resumes past the reserved blocks
/// (a gap of at most two blocks: the one in use and the one reserved ahead); a clean
/// shutdown ([`Store::close`]) leaves no gap.
pub const EVENT_SEQUENCE_BLOCK: u64 = 4096;

/// Events retention drops per step (one sled batch). Between steps
/// [`Store::trim_events_async`] lets other tasks run, so retention of a large backlog never
/// holds a thread for long; 1024 events take a few milliseconds.
pub const TRIM_BATCH: usize = 1024;

/// Events kept decoded in memory for live subscribers.
pub const RECENT_EVENTS: usize = 16_384;

/// Events a subscription reads per batch (from the window or the log).
pub const SUBSCRIPTION_BATCH: usize = 256;

/// A subscription that has caught up waits this long after being woken by an append
/// before it reads, so that it takes the events of many appends in one batch.
///
/// 100 ms: without it every append woke every subscriber, and the crawl (which appends a
/// few events per dial) paid for one wake-up, read and socket write per subscriber per
/// append. Live events therefore reach a subscriber about 100 ms after they are written.
pub const LIVE_BATCH_DELAY: Duration = Duration::from_millis(100);

/// The `meta` key of the end of the reserved block of sequence numbers.
const HIGH_WATER: &str = "event_high_water";

/// An event as the store hands it to readers: decoded, with room for its wire encoding.
#[derive(Debug)]
pub struct SharedEvent {
    pub event: PeerEvent,
    /// The event as the API streams it: encoded by the first subscriber that sends it and
    /// shared by every other one (the store never looks inside).
    encoded: OnceLock<Bytes>,
}

impl SharedEvent {
    /// An event whose encoding is not made yet.
    pub fn new(event: PeerEvent) -> SharedEvent {
        SharedEvent {
            event,
            encoded: OnceLock::new(),
        }
    }

    /// The event's encoding: made by `encode` on the first call, shared afterwards (by
    /// every subscriber holding this event).
    pub fn encoded_with(&self, encode: impl FnOnce(&PeerEvent) -> Bytes) -> &Bytes {
        self.encoded.get_or_init(|| encode(&self.event))
    }
}

/// The event log's state besides the tree.
pub(crate) struct EventLog {
    /// The database, for the background flushes that reserve sequence numbers.
    db: sled::Db,
    /// The `events` tree.
    tree: sled::Tree,
    /// Serializes appends; holds the next sequence number and the end of the block of
    /// numbers reserved on disk.
    sequencer: Mutex<Sequencer>,
    /// Serializes retention steps.
    trimming: Mutex<()>,
    /// The last sequence written (0 before the first event); wakes subscribers.
    last_sequence: watch::Sender<u64>,
    /// The newest events, oldest first, at most `window` of them.
    recent: RwLock<VecDeque<Arc<SharedEvent>>>,
    /// Capacity of `recent`.
    window: usize,
    /// Test builds: blocks of sequence numbers reserved by a synchronous flush in an append.
    #[cfg(test)]
    pub(crate) sync_reservations: std::sync::atomic::AtomicU64,
}

/// Next event sequence number and the reserved range's end.
struct Sequencer {
    next: u64,
    /// Numbers up to this one are reserved on disk (written and flushed).
    reserved: u64,
    /// A reservation written to `meta` whose flush runs in the background: its ticket and
    /// its end. It counts once the flush is done and the ticket is still this one.
    pending: Option<(u64, u64)>,
    /// The last ticket given to a background reservation.
    tickets: u64,
}

impl EventLog {
    /// Opens the `events` tree of `db`; numbering continues after the last stored event or
    /// the persisted high-water mark, whichever is higher.
    pub(crate) fn open(
        db: &sled::Db,
        meta: &sled::Tree,
        window: usize,
    ) -> Result<EventLog, StoreError> {
        let tree = db.open_tree("events")?;
        let last = match tree.last()? {
            Some((k, _)) => u64_key(&k).unwrap_or(0),
            None => 0,
        };
        // Never reuse a number, even one whose event was lost in a crash after it was
        // streamed: the high-water mark is persisted too.
        let persisted = meta.get(HIGH_WATER)?.and_then(|v| u64_key(&v)).unwrap_or(0);
        let last = last.max(persisted);
        // Reserve the first block now (opening may block), not in the first append.
        let reserved = last + EVENT_SEQUENCE_BLOCK;
        meta.insert(HIGH_WATER, &be(reserved))?;
        db.flush()?;
        let (last_sequence, _) = watch::channel(last);
        Ok(EventLog {
            db: db.clone(),
            tree,
            sequencer: Mutex::new(Sequencer {
                next: last + 1,
                reserved,
                pending: None,
                tickets: 0,
            }),
            trimming: Mutex::new(()),
            last_sequence,
            recent: RwLock::default(),
            window,
            #[cfg(test)]
            sync_reservations: Default::default(),
        })
    }
}

/// Why a subscription cannot start where it was asked to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The start is past the last event written.
    #[error("{after} is beyond the last event sequence {last}")]
    Beyond { after: u64, last: u64 },
    /// Events after the start were dropped by retention; `oldest` is the oldest one
    /// stored, so `oldest - 1` is the earliest start that can still be served.
    #[error(
        "events up to {} were dropped by retention; the oldest stored is {oldest}",
        oldest.saturating_sub(1)
    )]
    Trimmed { oldest: u64 },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Releases the unused rest of the reserved sequence numbers (before the last flush),
    /// so that a clean restart continues without a gap. Appends after it reserve again.
    pub(crate) fn release_unused_sequences(&self) -> Result<(), StoreError> {
        let mut seq = self.log.sequencer.lock().unwrap_or_else(|e| e.into_inner());
        let last = seq.next - 1;
        if seq.reserved > last || seq.pending.is_some() {
            self.meta.insert(HIGH_WATER, &be(last))?;
            seq.reserved = last;
            // A background reservation still flushing no longer counts.
            seq.pending = None;
        }
        Ok(())
    }

    /// Test builds: waits (up to 10 s) until no reservation of sequence numbers is flushing.
    #[cfg(test)]
    pub(crate) async fn settle_reservations(&self) {
        for _ in 0..1_000 {
            if self.log.sequencer.lock().unwrap().pending.is_none() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("a reservation of sequence numbers is still flushing after 10 s");
    }

    /// Appends events, assigning consecutive sequence numbers, and wakes subscribers.
    ///
    /// Does not wait for the disk, unless the appends outran the background reservation of
    /// sequence numbers (more than [`EVENT_SEQUENCE_BLOCK`] events during one flush) or
    /// follow a [`Store::close`]: then this append reserves and flushes itself.
    pub fn append_events(&self, events: Vec<NewPeerEvent>) -> Result<Vec<u64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // The lock only orders appends; a poisoned lock still holds a valid counter.
        let mut seq = self.log.sequencer.lock().unwrap_or_else(|e| e.into_inner());
        let last = seq.next + events.len() as u64 - 1;
        if last > seq.reserved {
            // Reserve durably before handing out any number past the reserved range. This
            // covers any reservation still flushing (it ends before `last`).
            let reserved = last + EVENT_SEQUENCE_BLOCK;
            self.meta.insert(HIGH_WATER, &be(reserved))?;
            self.db.flush()?;
            #[cfg(test)]
            self.log
                .sync_reservations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            seq.reserved = reserved;
            seq.pending = None;
        }
        let mut batch = sled::Batch::default();
        let mut written = Vec::with_capacity(events.len());
        for event in events {
            let sequence = seq.next;
            seq.next += 1;
            let event = PeerEvent { sequence, event };
            batch.insert(&be(sequence), encode(&event));
            written.push(Arc::new(SharedEvent::new(event)));
        }
        self.log.tree.apply_batch(batch)?;
        if seq.pending.is_none() && seq.reserved - last < EVENT_SEQUENCE_BLOCK {
            self.reserve_ahead(&mut seq)?;
        }
        drop(seq);
        let seqs = written.iter().map(|e| e.event.sequence).collect();
        {
            let mut recent = self.log.recent.write().unwrap_or_else(|e| e.into_inner());
            recent.extend(written);
            let excess = recent.len().saturating_sub(self.log.window);
            recent.drain(..excess);
        }
        self.log.last_sequence.send_replace(last);
        Ok(seqs)
    }

    /// Reserves the block after the reserved range: writes its end now and flushes on a
    /// blocking thread of the current runtime; the block counts once the flush is done.
    /// Without a runtime, flushes here.
    fn reserve_ahead(&self, seq: &mut Sequencer) -> Result<(), StoreError> {
        let end = seq.reserved + EVENT_SEQUENCE_BLOCK;
        self.meta.insert(HIGH_WATER, &be(end))?;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.db.flush()?;
            seq.reserved = end;
            return Ok(());
        };
        seq.tickets += 1;
        let ticket = seq.tickets;
        seq.pending = Some((ticket, end));
        // A weak handle: a flush that has not started does not keep a closed store open.
        let log = Arc::downgrade(&self.log);
        runtime.spawn_blocking(move || {
            let Some(log) = log.upgrade() else {
                return;
            };
            let flushed = log.db.flush();
            let mut seq = log.sequencer.lock().unwrap_or_else(|e| e.into_inner());
            if seq.pending.is_some_and(|(t, _)| t == ticket) {
                seq.pending = None;
                match flushed {
                    Ok(_) => seq.reserved = seq.reserved.max(end),
                    Err(e) => {
                        tracing::error!(error = %e, "could not reserve event sequence numbers")
                    }
                }
            }
        });
        Ok(())
    }

    /// Drops the oldest events so that at most `keep` remain, and events older than
    /// `min_time` (Unix ms). Returns how many were dropped. Sequence numbers are never
    /// reused: the high-water mark is kept in `meta`.
    ///
    /// Blocks until done (in steps of [`TRIM_BATCH`]); on the async threads use
    /// [`Store::trim_events_async`].
    pub fn trim_events(&self, keep: u64, min_time: UnixMillis) -> Result<u64, StoreError> {
        let keep_from = self.keep_from(keep);
        let mut dropped = 0;
        loop {
            let (n, done) = self.trim_step(keep_from, min_time)?;
            dropped += n;
            if done {
                return Ok(dropped);
            }
        }
    }

    /// Like [`Store::trim_events`], each step of at most [`TRIM_BATCH`] events on the
    /// blocking threads, letting other tasks run between steps.
    pub async fn trim_events_async(
        &self,
        keep: u64,
        min_time: UnixMillis,
    ) -> Result<u64, StoreError> {
        let keep_from = self.keep_from(keep);
        let mut dropped = 0;
        loop {
            let store = self.clone();
            let step =
                tokio::task::spawn_blocking(move || store.trim_step(keep_from, min_time)).await;
            let (n, done) = match step {
                Ok(step) => step?,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // The runtime is shutting down: what was dropped so far.
                Err(_) => return Ok(dropped),
            };
            dropped += n;
            if done {
                return Ok(dropped);
            }
            tokio::task::yield_now().await;
        }
    }

    /// The first sequence retention keeps by count, when it keeps `keep` events.
    fn keep_from(&self, keep: u64) -> u64 {
        self.last_sequence().saturating_sub(keep).saturating_add(1)
    }

    /// One step of retention: drops up to [`TRIM_BATCH`] of the oldest events that are
    /// below `keep_from` or older than `min_time`, from the log and then from the window.
    /// Returns how many, and whether nothing more is to drop.
    fn trim_step(&self, keep_from: u64, min_time: UnixMillis) -> Result<(u64, bool), StoreError> {
        let _one = self.log.trimming.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = sled::Batch::default();
        let mut n = 0u64;
        let mut last_dropped = None;
        let mut done = true;
        for item in self.log.tree.iter() {
            let (k, v) = item?;
            let seq = u64_key(&k).unwrap_or(0);
            let old = seq < keep_from || {
                let ev: PeerEvent = decode("events", &v)?;
                ev.event.time < min_time
            };
            if !old {
                break;
            }
            if n == TRIM_BATCH as u64 {
                done = false;
                break;
            }
            batch.remove(k);
            n += 1;
            last_dropped = Some(seq);
        }
        if let Some(last_dropped) = last_dropped {
            self.log.tree.apply_batch(batch)?;
            let mut recent = self.log.recent.write().unwrap_or_else(|e| e.into_inner());
            while recent
                .front()
                .is_some_and(|e| e.event.sequence <= last_dropped)
            {
                recent.pop_front();
            }
        }
        Ok((n, done))
    }

    /// The last sequence number written (0 before any event).
    pub fn last_sequence(&self) -> u64 {
        *self.log.last_sequence.borrow()
    }

    /// The smallest stored sequence number, if any event is stored.
    pub fn first_sequence(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.log.tree.first()?.and_then(|(k, _)| u64_key(&k)))
    }

    /// The last event sequence present in the log, if any event is stored. Unlike
    /// [`Store::last_sequence`], never the reserved high-water mark a restart continues
    /// after.
    pub fn last_stored_event(&self) -> Option<u64> {
        self.log
            .tree
            .last()
            .ok()
            .flatten()
            .and_then(|(k, _)| u64_key(&k))
    }

    /// A receiver that changes whenever events are appended; its value is the last
    /// sequence number.
    pub fn watch_events(&self) -> watch::Receiver<u64> {
        self.log.last_sequence.subscribe()
    }

    /// Like [`Store::events_after`], from the in-memory window of the newest events: `None`
    /// when events after `after` have left the window (read the log instead). Never blocks
    /// on I/O.
    pub fn recent_events_after(
        &self,
        after: u64,
        filter: &EventFilter,
        limit: usize,
    ) -> Option<(Vec<Arc<SharedEvent>>, u64)> {
        let recent = self.log.recent.read().unwrap_or_else(|e| e.into_inner());
        let Some(front) = recent.front() else {
            // Nothing in memory (e.g. just after a restart): only a reader who has seen
            // everything can be answered from here.
            return (after >= self.last_sequence()).then(|| (Vec::new(), after));
        };
        if front.event.sequence > after.saturating_add(1) {
            return None;
        }
        let skip = (after + 1 - front.event.sequence) as usize;
        let mut out = Vec::new();
        let mut last = after;
        for ev in recent.iter().skip(skip) {
            last = ev.event.sequence;
            if filter.matches(&ev.event) {
                out.push(ev.clone());
                if out.len() >= limit {
                    break;
                }
            }
        }
        Some((out, last))
    }

    /// Stored events with a sequence above `after` that pass `filter`, at most `limit`;
    /// also returns the last sequence examined, so a filtered reader can move on.
    pub fn events_after(
        &self,
        after: u64,
        filter: &EventFilter,
        limit: usize,
    ) -> Result<(Vec<PeerEvent>, u64), StoreError> {
        let mut out = Vec::new();
        let mut last = after;
        for item in self.log.tree.range(be(after.saturating_add(1))..) {
            let (k, v) = item?;
            last = u64_key(&k).unwrap_or(last);
            let ev: PeerEvent = decode("events", &v)?;
            if filter.matches(&ev) {
                out.push(ev);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok((out, last))
    }

    /// Follows the log from just after `after` (from the end of the log when `None`): the
    /// events stored after it first, then new ones as they are appended, each once and in
    /// order, those passing `filter` only.
    ///
    /// Fails with [`SubscribeError::Beyond`] when `after` is past the last sequence, and
    /// with [`SubscribeError::Trimmed`] when events after it were dropped by retention.
    pub fn subscribe_events(
        &self,
        after: Option<u64>,
        filter: EventFilter,
    ) -> Result<EventSubscription, SubscribeError> {
        // Subscribe before reading the position, so that no append goes unnoticed.
        let appended = self.watch_events();
        let last = self.last_sequence();
        let start = match after {
            None => last,
            Some(after) if after > last => return Err(SubscribeError::Beyond { after, last }),
            Some(after) => {
                // Resuming is exact only if nothing after `after` was dropped by retention.
                if let Some(oldest) = self.first_sequence()? {
                    if after.saturating_add(1) < oldest {
                        return Err(SubscribeError::Trimmed { oldest });
                    }
                }
                after
            }
        };
        Ok(EventSubscription {
            store: self.clone(),
            filter,
            after: start,
            appended,
            caught_up: false,
            delay_pending: false,
            batch: SUBSCRIPTION_BATCH,
            live_delay: LIVE_BATCH_DELAY,
        })
    }
}

/// A reader of the event log from a position on: see [`Store::subscribe_events`].
pub struct EventSubscription {
    store: Store,
    filter: EventFilter,
    /// The last sequence examined (delivered, or skipped by the filter).
    after: u64,
    appended: watch::Receiver<u64>,
    /// The last read returned less than a full batch: wait for an append before the next.
    caught_up: bool,
    /// Woken by an append; [`EventSubscription::live_delay`] still to wait.
    delay_pending: bool,
    batch: usize,
    live_delay: Duration,
}

impl EventSubscription {
    /// How long to wait after being woken by an append before reading (default
    /// [`LIVE_BATCH_DELAY`]).
    pub fn with_live_delay(mut self, delay: Duration) -> EventSubscription {
        self.live_delay = delay;
        self
    }

    /// The most events one [`EventSubscription::next_batch`] returns (default
    /// [`SUBSCRIPTION_BATCH`], at least 1).
    pub fn with_batch(mut self, batch: usize) -> EventSubscription {
        self.batch = batch.max(1);
        self
    }

    /// The last sequence examined: every event up to it that passes the filter has been
    /// returned.
    pub fn position(&self) -> u64 {
        self.after
    }

    /// The next events, in sequence order: never empty; waits for appends when the
    /// subscription has caught up. `None` when the subscription cannot go on (the runtime
    /// is shutting down). Cancel-safe: dropping the future loses no event.
    pub async fn next_batch(&mut self) -> Option<Result<Vec<Arc<SharedEvent>>, StoreError>> {
        loop {
            if self.caught_up {
                // The store (and so the sender) lives as long as this subscription, so the
                // channel cannot close.
                self.appended.changed().await.ok()?;
                self.caught_up = false;
                self.delay_pending = true;
            }
            if self.delay_pending {
                tokio::time::sleep(self.live_delay).await;
                self.delay_pending = false;
            }
            // Mark the current value seen before reading, so that an append racing with
            // the read wakes the next wait.
            self.appended.borrow_and_update();
            let (events, last) = match self.read().await? {
                Ok(read) => read,
                Err(e) => return Some(Err(e)),
            };
            self.caught_up = events.len() < self.batch;
            // The last sequence examined: past events the filter skipped too.
            self.after = last;
            if !events.is_empty() {
                return Some(Ok(events));
            }
        }
    }

    /// One read after `after`: from the window, or from the log when the subscription is
    /// behind the window. Returns the events and the last sequence examined; `None` when
    /// the log reader could not run.
    async fn read(&self) -> Option<Result<(Vec<Arc<SharedEvent>>, u64), StoreError>> {
        if let Some(read) = self
            .store
            .recent_events_after(self.after, &self.filter, self.batch)
        {
            return Some(Ok(read));
        }
        // Off the async threads: the log is on disk.
        let store = self.store.clone();
        let filter = self.filter.clone();
        let (after, batch) = (self.after, self.batch);
        let read =
            tokio::task::spawn_blocking(move || store.events_after(after, &filter, batch)).await;
        match read {
            Ok(Ok((events, last))) => {
                let events = events
                    .into_iter()
                    .map(|e| Arc::new(SharedEvent::new(e)))
                    .collect();
                Some(Ok((events, last)))
            }
            Ok(Err(e)) => Some(Err(e)),
            Err(e) => {
                if e.is_panic() {
                    tracing::error!(error = %e, "event log reader panicked");
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::{SubscribeError, EVENT_SEQUENCE_BLOCK, SUBSCRIPTION_BATCH, TRIM_BATCH};
    use crate::model::{EventFilter, PeerEventKind};
    use crate::store::test_support::{event, events, temp_store, temp_store_with_window};

    /// The sequences of a batch read.
    fn seqs(batch: &[std::sync::Arc<super::SharedEvent>]) -> Vec<u64> {
        batch.iter().map(|e| e.event.sequence).collect()
    }

    /// What a subscription delivers until its position reaches `to`; then checks that it
    /// has nothing more.
    async fn drain_to(sub: &mut super::EventSubscription, to: u64) -> Vec<u64> {
        let mut out = Vec::new();
        while sub.position() < to {
            let batch = tokio::time::timeout(Duration::from_secs(10), sub.next_batch())
                .await
                .expect("subscription stalled")
                .unwrap()
                .unwrap();
            out.extend(seqs(&batch));
        }
        assert!(
            tokio::time::timeout(Duration::from_millis(50), sub.next_batch())
                .await
                .is_err(),
            "more than the log holds"
        );
        out
    }

    #[test]
    fn appends_number_events_consecutively() {
        let (_dir, store) = temp_store();
        assert_eq!(store.last_sequence(), 0);
        assert_eq!(store.first_sequence().unwrap(), None);
        assert!(store.append_events(Vec::new()).unwrap().is_empty());
        assert_eq!(store.append_events(events(3, 1_000)).unwrap(), [1, 2, 3]);
        assert_eq!(store.append_events(events(2, 1_000)).unwrap(), [4, 5]);
        assert_eq!(store.last_sequence(), 5);
        assert_eq!(store.first_sequence().unwrap(), Some(1));
        let (log, last) = store.events_after(0, &EventFilter::default(), 100).unwrap();
        assert_eq!(last, 5);
        assert_eq!(
            log.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        // The log holds the events as appended.
        assert_eq!(log[3].event, events(2, 1_000)[0]);
    }

    #[test]
    fn filtered_log_reads_report_how_far_they_looked() {
        let (_dir, store) = temp_store();
        let mut evs = events(10, 1_000);
        for (i, e) in evs.iter_mut().enumerate() {
            e.crawl_id = if i % 3 == 0 { 7 } else { 8 };
        }
        store.append_events(evs).unwrap();
        let seven = EventFilter {
            crawl_id: Some(7),
            ..EventFilter::default()
        };
        let (got, last) = store.events_after(0, &seven, 2).unwrap();
        assert_eq!(
            (got.iter().map(|e| e.sequence).collect::<Vec<_>>(), last),
            (vec![1, 4], 4)
        );
        let (got, last) = store.events_after(4, &seven, 100).unwrap();
        assert_eq!(
            (got.iter().map(|e| e.sequence).collect::<Vec<_>>(), last),
            (vec![7, 10], 10)
        );
        let (got, last) = store.events_after(10, &seven, 100).unwrap();
        assert_eq!((got.len(), last), (0, 10));
        let (mem, mem_last) = store.recent_events_after(4, &seven, 100).unwrap();
        assert_eq!((seqs(&mem), mem_last), (vec![7, 10], 10));
    }

    #[test]
    fn retention_trims_by_count() {
        let (_dir, store) = temp_store();
        store.append_events(events(100, 1_000)).unwrap();
        assert_eq!(store.trim_events(1_000, 0).unwrap(), 0);
        assert_eq!(store.trim_events(30, 0).unwrap(), 70);
        assert_eq!(store.first_sequence().unwrap(), Some(71));
        assert_eq!(store.trim_events(30, 0).unwrap(), 0);
        // The window forgets them too: a reader from before the cut goes to the log.
        let all = EventFilter::default();
        assert!(store.recent_events_after(0, &all, 10).is_none());
        assert!(store.recent_events_after(69, &all, 10).is_none());
        let (kept, last) = store.recent_events_after(70, &all, 1_000).unwrap();
        assert_eq!((kept.len(), last), (30, 100));
        // Numbers go on from the last one, not from the count kept.
        assert_eq!(store.append_events(events(1, 1_000)).unwrap(), [101]);
        assert_eq!(store.trim_events(0, 0).unwrap(), 31);
        assert_eq!(store.first_sequence().unwrap(), None);
        assert_eq!(store.append_events(events(1, 1_000)).unwrap(), [102]);
    }

    /// Retention of a large log runs in steps of at most [`TRIM_BATCH`] events, letting
    /// other tasks of the same thread run between them, and drops exactly the events it
    /// should, by count and by age.
    #[tokio::test(flavor = "current_thread")]
    async fn retention_of_100k_events_runs_in_bounded_steps_and_keeps_exactly_the_newest() {
        let (_dir, store) = temp_store_with_window(1_000);
        // 100 appends of 1000 events; append `c` at time 1000 + c.
        for c in 0..100u64 {
            store.append_events(events(1_000, 1_000 + c)).unwrap();
        }
        // A task on the same thread watches the oldest stored event while retention runs.
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (store, stop) = (store.clone(), stop.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    seen.push(store.first_sequence().unwrap().unwrap_or(0));
                    tokio::task::yield_now().await;
                }
                seen
            })
        };
        let watched = |seen: Vec<u64>, dropped: u64| {
            let steps: Vec<u64> = seen
                .windows(2)
                .map(|w| w[1] - w[0])
                .filter(|&d| d > 0)
                .collect();
            assert!(
                steps.iter().all(|&d| d <= TRIM_BATCH as u64),
                "a step dropped more than {TRIM_BATCH}: {:?}",
                steps.iter().max()
            );
            assert!(
                steps.len() as u64 >= dropped / TRIM_BATCH as u64,
                "{} steps seen",
                steps.len()
            );
        };
        tokio::task::yield_now().await;
        assert_eq!(store.trim_events_async(30_000, 0).await.unwrap(), 70_000);
        stop.store(true, Ordering::Relaxed);
        watched(watcher.await.unwrap(), 70_000);
        let all = EventFilter::default();
        let (log, last) = store.events_after(0, &all, 200_000).unwrap();
        assert_eq!(last, 100_000);
        assert_eq!(
            log.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            (70_001..=100_000).collect::<Vec<_>>()
        );
        assert_eq!(log[0].event, events(1_000, 1_070)[0]);
        // By age: the appends before time 1080 go.
        assert_eq!(
            store.trim_events_async(u64::MAX, 1_080).await.unwrap(),
            10_000
        );
        assert_eq!(store.first_sequence().unwrap(), Some(80_001));
        assert_eq!(store.trim_events_async(u64::MAX, 1_080).await.unwrap(), 0);
        // The window agrees: its newest 1000 are kept, nothing older is served from it.
        let (mem, mem_last) = store.recent_events_after(99_000, &all, 2_000).unwrap();
        assert_eq!((mem.len(), mem_last), (1_000, 100_000));
        assert!(store.recent_events_after(98_000, &all, 10).is_none());
    }

    /// Appends reserve the next block of sequence numbers before they need it, flushing in
    /// the background: none of them waits for a flush.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_never_wait_for_a_flush_to_reserve_numbers() {
        let (dir, store) = temp_store();
        let total = 3 * EVENT_SEQUENCE_BLOCK + 100;
        while store.last_sequence() < total {
            store.append_events(events(256, 1_000)).unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(store.log.sync_reservations.load(Ordering::Relaxed), 0);
        // Numbers handed out are never handed out again after a crash.
        let last = store.last_sequence();
        store.settle_reservations().await;
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        let next = store.append_events(events(1, 1_000)).unwrap()[0];
        assert!(next > last, "{next} reused (last handed out {last})");
        assert!(
            next <= last + 2 * EVENT_SEQUENCE_BLOCK + 1,
            "{next}: a gap of more than two blocks"
        );
    }

    #[test]
    fn retention_trims_by_age_from_the_oldest() {
        let (_dir, store) = temp_store();
        // Times 1000, 2000, … 10000.
        for i in 1..=10u64 {
            store.append_events(events(1, i * 1_000)).unwrap();
        }
        assert_eq!(store.trim_events(u64::MAX, 3_500).unwrap(), 3);
        assert_eq!(store.first_sequence().unwrap(), Some(4));
        // Age stops at the first event young enough, as count does.
        store.append_events(events(1, 500)).unwrap();
        assert_eq!(store.trim_events(u64::MAX, 5_000).unwrap(), 1);
        assert_eq!(store.first_sequence().unwrap(), Some(5));
        // Count and age together: whichever drops more.
        assert_eq!(store.trim_events(3, 6_000).unwrap(), 4);
        assert_eq!(store.first_sequence().unwrap(), Some(9));
        let (kept, _) = store
            .recent_events_after(8, &EventFilter::default(), 100)
            .unwrap();
        assert_eq!(seqs(&kept), [9, 10, 11]);
    }

    #[test]
    fn the_window_matches_the_log_and_sends_readers_behind_it_to_the_log() {
        let (_dir, store) = temp_store_with_window(50);
        let all = EventFilter::default();
        // Empty store: an up-to-date reader is answered from memory.
        assert_eq!(store.recent_events_after(0, &all, 10).unwrap().0.len(), 0);
        for _ in 0..12 {
            store.append_events(events(10, 1_000)).unwrap();
        }
        // 120 events, the window holds 71..=120.
        let connected = EventFilter {
            kinds: vec![PeerEventKind::Connected],
            ..EventFilter::default()
        };
        for after in [0, 69, 70, 71, 100, 119, 120] {
            for filter in [&all, &connected] {
                let (log, log_last) = store.events_after(after, filter, 20).unwrap();
                match store.recent_events_after(after, filter, 20) {
                    Some((mem, mem_last)) => {
                        assert!(after >= 70, "{after}");
                        assert_eq!(mem_last, log_last, "after {after}");
                        let mem: Vec<_> = mem.iter().map(|e| e.event.clone()).collect();
                        assert_eq!(mem, log, "after {after}");
                    }
                    None => assert!(after < 70, "{after} not served from memory"),
                }
            }
        }
    }

    #[tokio::test]
    async fn sequences_are_never_reused_across_reopen() {
        let (dir, store) = temp_store();
        store.append_events(events(10, 1_000)).unwrap();
        // A crash: the store goes away without `close`; the reserved numbers are skipped
        // (the block in use, and the one reserved ahead).
        store.settle_reservations().await;
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        let resumed = store.last_sequence();
        assert_eq!(resumed, 2 * EVENT_SEQUENCE_BLOCK);
        let next = store.append_events(events(1, 1_000)).unwrap()[0];
        assert_eq!(next, resumed + 1);
        // A clean shutdown: no gap.
        store.close().await.unwrap();
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        assert_eq!(store.append_events(events(1, 1_000)).unwrap(), [next + 1]);
        // Everything trimmed: the numbers still go on.
        store.trim_events(0, 0).unwrap();
        store.close().await.unwrap();
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        assert_eq!(store.first_sequence().unwrap(), None);
        assert_eq!(store.last_sequence(), next + 1);
        assert_eq!(store.append_events(events(1, 1_000)).unwrap(), [next + 2]);
        // A plain flush keeps the reservation: appends after it do not wait for the disk.
        store.flush().await.unwrap();
        store.append_events(events(1, 1_000)).unwrap();
        assert_eq!(store.log.sync_reservations.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn blocks_are_reserved_as_appends_cross_them() {
        let (dir, store) = temp_store();
        let big = EVENT_SEQUENCE_BLOCK + 10;
        // One append larger than a block reserves past its own end.
        store.append_events(events(big as usize, 1_000)).unwrap();
        store.append_events(events(5, 1_000)).unwrap();
        assert_eq!(store.log.sync_reservations.load(Ordering::Relaxed), 1);
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        let next = store.append_events(events(1, 1_000)).unwrap()[0];
        assert!(next > big + 5, "{next} reuses a number");
        assert!(next <= big + 5 + 2 * EVENT_SEQUENCE_BLOCK + 1, "{next}");
    }

    #[test]
    fn subscriptions_refuse_starts_beyond_the_log_or_trimmed() {
        let (_dir, store) = temp_store();
        store.append_events(events(100, 1_000)).unwrap();
        let all = EventFilter::default();
        match store.subscribe_events(Some(101), all.clone()) {
            Err(SubscribeError::Beyond {
                after: 101,
                last: 100,
            }) => {}
            other => panic!("{:?}", other.err()),
        }
        assert!(matches!(
            store.subscribe_events(Some(u64::MAX), all.clone()),
            Err(SubscribeError::Beyond { .. })
        ));
        store.trim_events(10, 0).unwrap();
        let err = store.subscribe_events(Some(5), all.clone()).err().unwrap();
        assert!(
            matches!(err, SubscribeError::Trimmed { oldest: 91 }),
            "{err}"
        );
        assert!(err.to_string().contains("90"), "{err}");
        assert!(matches!(
            store.subscribe_events(Some(89), all.clone()),
            Err(SubscribeError::Trimmed { oldest: 91 })
        ));
        // From the retention edge on, and at the end, resuming works.
        assert!(store.subscribe_events(Some(90), all.clone()).is_ok());
        assert!(store.subscribe_events(Some(100), all.clone()).is_ok());
        assert!(store.subscribe_events(None, all).is_ok());
    }

    #[tokio::test]
    async fn subscriptions_resume_from_the_window_and_from_the_log() {
        let (_dir, store) = temp_store_with_window(50);
        for _ in 0..20 {
            store.append_events(events(10, 1_000)).unwrap();
        }
        // 200 events; the window holds 151..=200.
        let all = EventFilter::default();
        for after in [0, 3, 149, 150, 170, 199, 200] {
            let mut sub = store
                .subscribe_events(Some(after), all.clone())
                .unwrap()
                .with_batch(64);
            let got = drain_to(&mut sub, 200).await;
            assert_eq!(got, (after + 1..=200).collect::<Vec<_>>(), "after {after}");
            assert_eq!(sub.position(), 200);
        }
        // Filtered: only matching events, and the position moves past the others.
        let connected = EventFilter {
            kinds: vec![PeerEventKind::Connected],
            ..EventFilter::default()
        };
        let mut sub = store.subscribe_events(Some(100), connected).unwrap();
        let got = drain_to(&mut sub, 200).await;
        let want: Vec<u64> = (101..=200).filter(|s| s % 2 == 0).collect();
        assert_eq!(got, want);
        assert_eq!(sub.position(), 200);
    }

    #[tokio::test]
    async fn a_subscription_from_the_end_gets_only_new_events() {
        let (_dir, store) = temp_store();
        store.append_events(events(5, 1_000)).unwrap();
        let mut sub = store
            .subscribe_events(None, EventFilter::default())
            .unwrap()
            .with_live_delay(Duration::ZERO);
        assert!(
            tokio::time::timeout(Duration::from_millis(200), sub.next_batch())
                .await
                .is_err(),
            "nothing new yet"
        );
        store.append_events(events(2, 1_000)).unwrap();
        let batch = tokio::time::timeout(Duration::from_secs(5), sub.next_batch())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(seqs(&batch), [6, 7]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn live_subscribers_see_every_append_once_in_order() {
        let (_dir, store) = temp_store_with_window(64);
        store.append_events(events(30, 1_000)).unwrap();
        let total = 2_000u64 + 30;
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..200u64 {
                    store.append_events(events(10, 1_000)).unwrap();
                    if i % 20 == 0 {
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    } else {
                        tokio::task::yield_now().await;
                    }
                }
            })
        };
        // One reader from the start (log, then window, then live), one from mid-way, one
        // that reads slowly and falls out of the window.
        let mut readers = Vec::new();
        for (after, slow) in [(0u64, false), (20, false), (0, true)] {
            let mut sub = store
                .subscribe_events(Some(after), EventFilter::default())
                .unwrap()
                .with_batch(32)
                .with_live_delay(Duration::from_millis(5));
            readers.push(tokio::spawn(async move {
                let mut got = Vec::new();
                let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
                while got.last().copied().unwrap_or(after) < total {
                    let batch = tokio::time::timeout_at(deadline, sub.next_batch())
                        .await
                        .expect("subscription stalled")
                        .unwrap()
                        .unwrap();
                    got.extend(seqs(&batch));
                    if slow {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                (after, got)
            }));
        }
        writer.await.unwrap();
        for reader in readers {
            let (after, got) = reader.await.unwrap();
            assert_eq!(got, (after + 1..=total).collect::<Vec<_>>(), "from {after}");
        }
    }

    #[tokio::test]
    async fn live_events_are_shared_between_subscribers() {
        let (_dir, store) = temp_store();
        let mut a = store
            .subscribe_events(None, EventFilter::default())
            .unwrap()
            .with_live_delay(Duration::ZERO);
        let mut b = store
            .subscribe_events(None, EventFilter::default())
            .unwrap()
            .with_live_delay(Duration::ZERO);
        store.append_events(vec![event(1, 1_000)]).unwrap();
        let ea = a.next_batch().await.unwrap().unwrap().remove(0);
        let eb = b.next_batch().await.unwrap().unwrap().remove(0);
        assert!(std::sync::Arc::ptr_eq(&ea, &eb));
        // The first subscriber to send it encodes it; the other one reuses the bytes.
        let first = ea
            .encoded_with(|e| e.sequence.to_be_bytes().to_vec().into())
            .clone();
        let second = eb.encoded_with(|_| panic!("encoded twice")).clone();
        assert_eq!(first, second);
        assert_eq!(first.as_ref(), 1u64.to_be_bytes());
    }

    #[tokio::test]
    async fn batches_are_bounded() {
        let (_dir, store) = temp_store();
        let n = 2 * SUBSCRIPTION_BATCH + 88;
        store.append_events(events(n, 1_000)).unwrap();
        let mut sub = store
            .subscribe_events(Some(0), EventFilter::default())
            .unwrap();
        let mut sizes = Vec::new();
        while sub.position() < n as u64 {
            let batch = tokio::time::timeout(Duration::from_secs(10), sub.next_batch())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            sizes.push(batch.len());
        }
        assert_eq!(sizes, [SUBSCRIPTION_BATCH, SUBSCRIPTION_BATCH, 88]);
    }
}
