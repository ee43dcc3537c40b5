//! The engine's periodic upkeep, one task for the engine's life: relay counts written to
//! the store every [`COUNT_FLUSH_INTERVAL`], crawl tasks that ended by themselves let go at
//! the same pace, event retention (count and age) applied every [`RETENTION_EVERY`]
//! flushes, starting with the first.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::counter::MessageCounter;
use crate::model::now_millis;
use crate::store::Store;

/// How often relay counts are written to the store.
pub const COUNT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Event retention runs once per this many count flushes (every minute).
pub const RETENTION_EVERY: u64 = 60;

/// What the upkeep task keeps.
pub(super) struct Housekeeping {
    pub counter: MessageCounter,
    /// The engine's crawl tasks; the ended ones are dropped.
    pub crawls: super::Crawls,
    pub store: Store,
    /// Events kept in the log (the oldest are dropped first).
    pub event_retention: u64,
    /// Events older than this are dropped.
    pub event_max_age: Duration,
}

impl Housekeeping {
    /// Runs until `shutdown` is cancelled. The engine writes the counts once more when it
    /// shuts down.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(COUNT_FLUSH_INTERVAL);
        let mut n = 0u64;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    if let Err(e) = self.counter.flush() {
                        tracing::error!(error = %e, "could not write relay counts");
                    }
                    let reaped = self.crawls.reap();
                    if reaped > 0 {
                        tracing::debug!(crawls = reaped, "ended crawl tasks let go");
                    }
                    if n % RETENTION_EVERY == 0 {
                        self.retain().await;
                    }
                    n += 1;
                }
            }
        }
    }

    /// Drops the events beyond the count kept or older than the age kept, in bounded steps
    /// on blocking threads, so a large backlog never holds a runtime worker.
    async fn retain(&self) {
        let min_time = now_millis().saturating_sub(self.event_max_age.as_millis() as u64);
        match self
            .store
            .trim_events_async(self.event_retention, min_time)
            .await
        {
            Ok(0) => {}
            Ok(d) => tracing::info!(dropped = d, "event retention"),
            Err(e) => tracing::error!(error = %e, "event retention failed"),
        }
    }
}
