//! Time series for the dashboard's charts: a sampler that reads the store's aggregates
//! every [`SAMPLE_INTERVAL`] and keeps the last [`MAX_SAMPLES`] samples in memory.
//!
//! A sample holds cumulative figures (stored peers, reachable, unreachable, not dialed,
//! relay messages in all, per pubsub topic and per application, undecodable messages);
//! rates are differences between samples, computed by whoever reads them. History starts
//! when the server starts: it is not stored (the store's per-minute message buckets back
//! `GetMessageCounts` windows instead).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::model::messages::application_of;
use crate::model::now_millis;

/// Time between samples.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
/// Samples kept: two hours at [`SAMPLE_INTERVAL`].
pub const MAX_SAMPLES: usize = 1440;
/// Keys kept per breakdown (pubsub topics, applications) in one sample; the smallest of
/// the rest are summed under [`REST`].
pub const MAX_KEYS: usize = 32;
/// The key of what [`MAX_KEYS`] leaves out.
pub const REST: &str = "(rest)";

/// One sample of cumulative figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sample {
    /// Unix time, seconds.
    pub time: f64,
    /// Peers stored.
    pub peers: u64,
    /// Peers whose last dial connected.
    pub reachable: u64,
    /// Peers whose last dial failed.
    pub unreachable: u64,
    /// Peers never dialed.
    pub not_dialed: u64,
    /// Decodable relay messages counted, all pubsub topics.
    pub messages: u64,
    /// Undecodable relay messages counted, all pubsub topics.
    pub undecodable: u64,
    /// Decodable messages per pubsub topic.
    pub by_pubsub_topic: BTreeMap<String, u64>,
    /// Decodable messages per application.
    pub by_application: BTreeMap<String, u64>,
}

/// The samples so far; cheap to clone.
#[derive(Clone, Default)]
pub struct History {
    samples: Arc<Mutex<VecDeque<Sample>>>,
}

impl History {
    /// Starts sampling `engine`'s store every [`SAMPLE_INTERVAL`] until `shutdown`.
    pub fn start(engine: Engine, shutdown: CancellationToken) -> History {
        let history = History::default();
        let h = history.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                match take_sample(&engine).await {
                    Ok(s) => h.push(s),
                    Err(e) => tracing::warn!(error = %e, "dashboard history sample failed"),
                }
            }
        });
        history
    }

    fn push(&self, sample: Sample) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() >= MAX_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.iter().cloned().collect()
    }
}

/// Keeps the [`MAX_KEYS`] largest entries and sums the rest under [`REST`].
fn bounded(map: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    if map.len() <= MAX_KEYS {
        return map;
    }
    let mut v: Vec<(String, u64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rest: u64 = v[MAX_KEYS..].iter().map(|(_, n)| n).sum();
    v.truncate(MAX_KEYS);
    let mut out: BTreeMap<String, u64> = v.into_iter().collect();
    *out.entry(REST.to_string()).or_default() += rest;
    out
}

async fn take_sample(engine: &Engine) -> Result<Sample, String> {
    // Counts still held by the relay counter are written first, so samples and the API agree.
    engine.flushed_counter().map_err(|e| e.to_string())?;
    let store = engine.store().clone();
    tokio::task::spawn_blocking(move || {
        let stats = store.network_stats(None).map_err(|e| e.to_string())?;
        let mut sample = Sample {
            time: now_millis() as f64 / 1000.0,
            peers: stats.peers,
            reachable: stats.reachable,
            unreachable: stats.unreachable,
            not_dialed: stats.not_dialed,
            ..Sample::default()
        };
        let mut by_pubsub: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_app: BTreeMap<String, u64> = BTreeMap::new();
        for row in store.message_counts("", "").map_err(|e| e.to_string())? {
            sample.messages += row.messages;
            *by_pubsub.entry(row.pubsub_topic.clone()).or_default() += row.messages;
            *by_app
                .entry(application_of(&row.content_topic).to_string())
                .or_default() += row.messages;
        }
        for u in store.undecodable_counts("").map_err(|e| e.to_string())? {
            sample.undecodable += u.messages;
        }
        sample.by_pubsub_topic = bounded(by_pubsub);
        sample.by_application = bounded(by_app);
        Ok(sample)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdowns_stay_bounded_and_keep_their_sum() {
        let map: BTreeMap<String, u64> = (0..100).map(|i| (format!("app{i:03}"), i)).collect();
        let total: u64 = map.values().sum();
        let b = bounded(map);
        assert_eq!(b.len(), MAX_KEYS + 1);
        assert_eq!(b.values().sum::<u64>(), total);
        assert!(b.contains_key("app099") && !b.contains_key("app000"));
    }

    #[test]
    fn the_ring_keeps_the_newest_samples() {
        let h = History::default();
        for i in 0..(MAX_SAMPLES + 5) {
            h.push(Sample {
                time: i as f64,
                ..Sample::default()
            });
        }
        let s = h.samples();
        assert_eq!(s.len(), MAX_SAMPLES);
        assert_eq!(s[0].time, 5.0);
        assert_eq!(s.last().unwrap().time, (MAX_SAMPLES + 4) as f64);
    }
}
