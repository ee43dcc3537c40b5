//! Pure decisions of the CometBFT driver: the seed's answer (`GetSelectionWithBias` over
//! vetted peers), the address scope of a crawl, and the seed's per-requester rate limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use tokio::time::Instant;

use crate::protocol::cometbft::{pb, CometId};

/// Smallest answer when the pool has that many (CometBFT's `minGetSelection`).
pub const MIN_GET_SELECTION: usize = 32;
/// Share of the pool in one answer, percent (`getSelectionPercent`).
pub const GET_SELECTION_PERCENT: usize = 23;

/// One peer the seed may hand out: vetted, of the crawl's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolEntry {
    pub id: CometId,
    pub addr: pb::NetAddress,
    /// Vetted in two or more crawl passes ("old" in CometBFT's book); otherwise vetted
    /// once ("new").
    pub old: bool,
}

/// The seed's answer: CometBFT's `GetSelectionWithBias` over the pool of vetted peers of
/// the chain. The size is `max(min(32, n), 23% of n)`, capped at `cap`; at least
/// `bias_new`% of it (and everything the old peers cannot fill) comes from the new peers,
/// the rest from the old ones, each part drawn uniformly at random; a part that runs short
/// is filled from the other. `exclude` (the requester) is never in it.
pub fn selection_with_bias<R: Rng>(
    pool: &[PoolEntry],
    cap: usize,
    bias_new: u8,
    exclude: Option<CometId>,
    rng: &mut R,
) -> Vec<pb::NetAddress> {
    let (mut new, mut old): (Vec<&PoolEntry>, Vec<&PoolEntry>) = pool
        .iter()
        .filter(|e| Some(e.id) != exclude)
        .partition(|e| !e.old);
    let n = new.len() + old.len();
    if n == 0 || cap == 0 {
        return Vec::new();
    }
    let want = (MIN_GET_SELECTION.min(n))
        .max(n * GET_SELECTION_PERCENT / 100)
        .min(cap);
    let bias = usize::from(bias_new.min(100));
    let from_new = ((bias * want + 50) / 100).max(want.saturating_sub(old.len()));
    new.shuffle(rng);
    old.shuffle(rng);
    let take_new = from_new.min(new.len());
    let take_old = (want - take_new).min(old.len());
    let mut out: Vec<pb::NetAddress> = new[..take_new]
        .iter()
        .chain(old[..take_old].iter())
        .map(|e| e.addr.clone())
        .collect();
    // A part that ran short is filled from what is left of the other.
    let short = want - out.len();
    if short > 0 {
        out.extend(new[take_new..].iter().take(short).map(|e| e.addr.clone()));
    }
    out
}

/// Which addresses a crawl may contact: the scope of its bootstrap addresses. Loopback
/// bootstrap → loopback only; private (RFC 1918, unique-local, link-local, CGNAT) →
/// private only; public → public only. A mixed bootstrap allows the union of its kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub loopback: bool,
    pub private: bool,
    pub public: bool,
}

/// The kind of address for the scope, `None` for addresses never dialed (unspecified,
/// multicast, documentation, reserved).
fn kind(ip: IpAddr) -> Option<&'static str> {
    match crate::engine::geo::non_public_scope(ip) {
        None => Some("public"),
        Some("loopback") => Some("loopback"),
        Some("private" | "link-local" | "cgnat" | "unique-local") => Some("private"),
        Some(_) => None,
    }
}

impl Scope {
    /// The scope of `bootstrap`.
    pub fn of(bootstrap: impl IntoIterator<Item = IpAddr>) -> Scope {
        let mut s = Scope::default();
        for ip in bootstrap {
            match kind(ip) {
                Some("loopback") => s.loopback = true,
                Some("private") => s.private = true,
                Some(_) => s.public = true,
                None => {}
            }
        }
        s
    }

    /// Whether `ip` may be contacted.
    pub fn allows(&self, ip: IpAddr) -> bool {
        match kind(ip) {
            Some("loopback") => self.loopback,
            Some("private") => self.private,
            Some(_) => self.public,
            None => false,
        }
    }
}

/// What the seed does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestVerdict {
    /// Answer it.
    Answer,
    /// Refuse it and ban the peer: it asked again after only this long.
    TooSoon(Duration),
    /// The peer is banned.
    Banned,
}

/// The seed's memory of requesters: when each was last answered, and who is banned.
/// Bounded: at most `max_entries` of each (expired entries are dropped first; when still
/// full, a new requester is refused as if banned, so memory cannot be exhausted).
#[derive(Debug)]
pub struct Requesters {
    interval: Duration,
    ban: Duration,
    max_entries: usize,
    last: HashMap<CometId, Instant>,
    bans: HashMap<CometId, Instant>,
}

impl Requesters {
    /// Empty, with the minimum interval between two requests and the ban duration.
    pub fn new(interval: Duration, ban: Duration, max_entries: usize) -> Requesters {
        Requesters {
            interval,
            ban,
            max_entries: max_entries.max(1),
            last: HashMap::new(),
            bans: HashMap::new(),
        }
    }

    /// Whether `id` is banned at `now`.
    pub fn is_banned(&self, id: &CometId, now: Instant) -> bool {
        self.bans.get(id).is_some_and(|until| *until > now)
    }

    /// Bans `id` from `now` on.
    pub fn ban(&mut self, id: CometId, now: Instant) {
        if self.bans.len() >= self.max_entries {
            self.bans.retain(|_, until| *until > now);
        }
        if self.bans.len() < self.max_entries || self.bans.contains_key(&id) {
            self.bans.insert(id, now + self.ban);
        }
    }

    /// Lifts a ban (the crawl's book lifted it).
    pub fn unban(&mut self, id: &CometId) {
        self.bans.remove(id);
    }

    /// Decides on a request from `id` at `now` and records it; a refusal bans.
    pub fn on_request(&mut self, id: CometId, now: Instant) -> RequestVerdict {
        if self.is_banned(&id, now) {
            return RequestVerdict::Banned;
        }
        if let Some(t) = self.last.get(&id) {
            let since = now.saturating_duration_since(*t);
            if since < self.interval {
                self.ban(id, now);
                return RequestVerdict::TooSoon(since);
            }
        }
        if self.last.len() >= self.max_entries {
            let interval = self.interval;
            self.last
                .retain(|_, t| now.saturating_duration_since(*t) < interval);
            if self.last.len() >= self.max_entries {
                return RequestVerdict::Banned;
            }
        }
        self.last.insert(id, now);
        RequestVerdict::Answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn entry(n: u16, old: bool) -> PoolEntry {
        let mut id = [0u8; 20];
        id[..2].copy_from_slice(&n.to_be_bytes());
        PoolEntry {
            id: CometId(id),
            addr: pb::NetAddress {
                id: hex::encode(id),
                ip: "127.0.0.1".into(),
                port: u32::from(n) + 1,
            },
            old,
        }
    }

    #[test]
    fn selection_size_follows_the_book_rules_and_the_cap() {
        let mut rng = StdRng::seed_from_u64(1);
        let pool: Vec<_> = (0..1000).map(|n| entry(n, n % 2 == 0)).collect();
        // 23% of 1000 = 230.
        assert_eq!(
            selection_with_bias(&pool, 250, 30, None, &mut rng).len(),
            230
        );
        assert_eq!(selection_with_bias(&pool, 50, 30, None, &mut rng).len(), 50);
        // Small pools: min(32, n).
        assert_eq!(
            selection_with_bias(&pool[..10], 250, 30, None, &mut rng).len(),
            10
        );
        assert_eq!(
            selection_with_bias(&pool[..100], 250, 30, None, &mut rng).len(),
            32
        );
        assert!(selection_with_bias(&[], 250, 30, None, &mut rng).is_empty());
        assert!(selection_with_bias(&pool, 0, 30, None, &mut rng).is_empty());
        // Huge pools stop at the cap.
        let big: Vec<_> = (0..5000).map(|n| entry(n, true)).collect();
        assert_eq!(
            selection_with_bias(&big, 250, 30, None, &mut rng).len(),
            250
        );
    }

    #[test]
    fn selection_is_biased_distinct_and_never_names_the_requester() {
        let mut rng = StdRng::seed_from_u64(2);
        let pool: Vec<_> = (0..400).map(|n| entry(n, n >= 100)).collect();
        let requester = pool[5].id;
        for _ in 0..50 {
            let s = selection_with_bias(&pool, 100, 30, Some(requester), &mut rng);
            assert_eq!(s.len(), 91, "23% of 399");
            let new = s.iter().filter(|a| a.port <= 100).count();
            // round(30% of 91) = 27 new ones.
            assert_eq!(new, 27);
            let distinct: std::collections::HashSet<_> = s.iter().map(|a| &a.id).collect();
            assert_eq!(distinct.len(), s.len());
            assert!(s.iter().all(|a| a.id != requester.to_string()));
        }
        // Few old peers: the new ones fill the rest.
        let mostly_new: Vec<_> = (0..100).map(|n| entry(n, n < 3)).collect();
        let s = selection_with_bias(&mostly_new, 250, 30, None, &mut rng);
        assert_eq!(s.len(), 32);
    }

    #[test]
    fn scope_follows_the_bootstrap() {
        let lo = Scope::of(["127.0.0.1".parse().unwrap()]);
        assert!(lo.allows("127.0.0.9".parse().unwrap()));
        assert!(lo.allows("::1".parse().unwrap()));
        assert!(!lo.allows("10.0.0.1".parse().unwrap()));
        assert!(!lo.allows("8.8.8.8".parse().unwrap()));
        let public = Scope::of(["8.8.8.8".parse().unwrap()]);
        assert!(!public.allows("192.168.1.1".parse().unwrap()));
        assert!(!public.allows("127.0.0.1".parse().unwrap()));
        assert!(!public.allows("224.0.0.1".parse().unwrap()));
        assert!(!public.allows("0.0.0.0".parse().unwrap()));
        let private = Scope::of(["10.1.2.3".parse().unwrap()]);
        assert!(private.allows("172.16.0.1".parse().unwrap()));
        assert!(!private.allows("1.1.1.1".parse().unwrap()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_request_within_the_interval_is_refused_and_banned() {
        let mut r = Requesters::new(Duration::from_secs(10), Duration::from_secs(3600), 100);
        let a = CometId([1; 20]);
        let b = CometId([2; 20]);
        let t0 = Instant::now();
        assert_eq!(r.on_request(a, t0), RequestVerdict::Answer);
        assert_eq!(r.on_request(b, t0), RequestVerdict::Answer);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(
            r.on_request(a, Instant::now()),
            RequestVerdict::TooSoon(Duration::from_secs(3))
        );
        assert!(r.is_banned(&a, Instant::now()));
        // Banned for the ban duration, even after the interval.
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(r.on_request(a, Instant::now()), RequestVerdict::Banned);
        assert_eq!(r.on_request(b, Instant::now()), RequestVerdict::Answer);
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(r.on_request(a, Instant::now()), RequestVerdict::Answer);
    }

    #[tokio::test(start_paused = true)]
    async fn requester_memory_is_bounded() {
        let mut r = Requesters::new(Duration::from_secs(10), Duration::from_secs(60), 4);
        for n in 0..4u8 {
            assert_eq!(
                r.on_request(CometId([n; 20]), Instant::now()),
                RequestVerdict::Answer
            );
        }
        // Full of fresh entries: a fifth requester is turned away.
        assert_eq!(
            r.on_request(CometId([9; 20]), Instant::now()),
            RequestVerdict::Banned
        );
        // Once they expire there is room again.
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(
            r.on_request(CometId([9; 20]), Instant::now()),
            RequestVerdict::Answer
        );
        assert!(r.last.len() <= 4);
    }
}
