//! ONESHOT's completion estimate: how long the known work still takes at the recent pace.
//!
//! The walk and the dials are estimated apart, each as `work left × time per unit of work
//! done over the last [`WINDOW`]`, and the longer one counts. Pure: the time is passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Samples are taken at most one per this interval…
pub(super) const SAMPLE: Duration = Duration::from_millis(250);
/// …and kept over this window.
pub(super) const WINDOW: Duration = Duration::from_secs(10);

/// Work done so far, or still to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Work {
    /// Nodes walked.
    pub walk: u64,
    /// Dials.
    pub dials: u64,
}

/// Recent (time, work done) samples.
#[derive(Debug, Default)]
pub(super) struct Throughput {
    samples: VecDeque<(Instant, Work)>,
}

impl Throughput {
    /// Records `done` at `now` (at most one sample per [`SAMPLE`]) and returns the time
    /// until `left` is done at the pace of the last [`WINDOW`], in milliseconds; `None`
    /// before two sample intervals have passed, or while work is left of a kind that saw
    /// no progress in the window.
    pub fn estimate(&mut self, now: Instant, done: Work, left: Work) -> Option<u64> {
        if self
            .samples
            .back()
            .is_none_or(|(t, _)| now.duration_since(*t) >= SAMPLE)
        {
            self.samples.push_back((now, done));
            while self.samples.len() > 2 && now.duration_since(self.samples[1].0) >= WINDOW {
                self.samples.pop_front();
            }
        }
        let (t0, first) = *self.samples.front()?;
        let span = now.duration_since(t0);
        if span < SAMPLE * 2 {
            return None;
        }
        let mut eta = 0.0f64;
        for (left, progress) in [
            (left.walk, done.walk.saturating_sub(first.walk)),
            (left.dials, done.dials.saturating_sub(first.dials)),
        ] {
            if left == 0 {
                continue;
            }
            if progress == 0 {
                return None;
            }
            eta = eta.max(left as f64 * span.as_secs_f64() / progress as f64);
        }
        Some((eta * 1000.0).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(walk: u64, dials: u64) -> Work {
        Work { walk, dials }
    }

    #[test]
    fn no_estimate_before_two_sample_intervals() {
        let mut t = Throughput::default();
        let t0 = Instant::now();
        assert_eq!(t.estimate(t0, work(0, 0), work(10, 10)), None);
        assert_eq!(t.estimate(t0 + SAMPLE, work(5, 5), work(5, 5)), None);
    }

    #[test]
    fn the_slower_of_walk_and_dials_counts() {
        let mut t = Throughput::default();
        let t0 = Instant::now();
        t.estimate(t0, work(0, 0), work(100, 100));
        // 1 s: 10 nodes walked, 2 dials done.
        let eta = t.estimate(t0 + Duration::from_secs(1), work(10, 2), work(90, 8));
        // Walk: 90 left at 10/s = 9 s; dials: 8 left at 2/s = 4 s.
        assert_eq!(eta, Some(9_000));
        // Nothing left to dial: the walk alone.
        let eta = t.estimate(t0 + Duration::from_secs(2), work(20, 10), work(40, 0));
        assert_eq!(eta, Some(4_000));
        // Done.
        let eta = t.estimate(t0 + Duration::from_secs(3), work(60, 10), work(0, 0));
        assert_eq!(eta, Some(0));
    }

    #[test]
    fn work_left_without_progress_gives_no_estimate() {
        let mut t = Throughput::default();
        let t0 = Instant::now();
        t.estimate(t0, work(0, 0), work(10, 10));
        assert_eq!(
            t.estimate(t0 + Duration::from_secs(1), work(5, 0), work(5, 10)),
            None
        );
    }

    #[test]
    fn samples_are_spaced_and_the_window_slides() {
        let mut t = Throughput::default();
        let t0 = Instant::now();
        // Calls closer than SAMPLE add no sample.
        for i in 0..10u32 {
            t.estimate(t0 + Duration::from_millis(10) * i, work(0, 0), work(1, 0));
        }
        assert_eq!(t.samples.len(), 1);
        // A slow start, then a fast pace: after the window slides the old pace is gone.
        let mut now = t0;
        let mut walked = 0;
        for _ in 0..100 {
            now += SAMPLE;
            walked += 1;
            t.estimate(now, work(walked, 0), work(1_000, 0));
        }
        for _ in 0..100 {
            now += SAMPLE;
            walked += 10;
            t.estimate(now, work(walked, 0), work(1_000, 0));
        }
        assert!(now.duration_since(t.samples.front().unwrap().0) <= WINDOW + SAMPLE);
        // 10 nodes per 250 ms = 40/s: 1000 left ≈ 25 s.
        let eta = t
            .estimate(now + SAMPLE, work(walked + 10, 0), work(1_000, 0))
            .unwrap();
        assert!((24_000..=26_000).contains(&eta), "{eta}");
    }
}
