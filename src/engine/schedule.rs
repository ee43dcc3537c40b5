//! The address book and its dial policy, after the Tendermint PEX reactor in seed/crawler
//! mode, adapted to discv5 peers.
//!
//! Every dialable peer has a state:
//!
//! | state     | meaning                                           | next dial                                |
//! |-----------|---------------------------------------------------|------------------------------------------|
//! | `New`     | never dialed successfully                         | now                                      |
//! | `Vetted`  | the last dial connected                           | `min_redial` after it (never sooner)     |
//! | `Failing` | the last dials failed, fewer than `max_attempts`  | 2^attempts s (capped) plus jitter        |
//! | `Bad`     | `max_attempts` failures in a row, or a failure the class says not to retry | never (until a newer ENR)|
//! | `Banned`  | banned (peer id mismatch: someone else's key)     | when the ban expires, as `New`           |
//!
//! Selection of whom to dial next is biased: when both new and known (vetted or failing)
//! peers are due, a new one is taken with probability `new_bias_percent`.
//!
//! **Kept across restarts.** A book that tracks its changes ([`AddressBook::track_changes`])
//! names the peers whose state changed since the last [`AddressBook::take_changed`]; their
//! [`BookEntry`]s (wall-clock times) are what a CONTINUOUS crawl writes to the store, and
//! [`AddressBook::restore_stored`] takes them back after a restart: bans and backoffs
//! keep their wall-clock deadlines, and peers that fell due while the process was down are
//! spread over `restart_spread` instead of being dialed at once.
//!
//! Everything is a pure function of the `now` passed in, so the policy is unit-tested with
//! tokio's paused clock.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::model::{BookEntry, ErrorClass, NodeId, PeerState, UnixMillis};

/// Dial policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A vetted peer is not dialed again sooner than this.
    pub min_redial: Duration,
    /// Backoff base: the n-th consecutive failure waits `base * 2^n`.
    pub backoff_base: Duration,
    /// Backoff cap (before jitter).
    pub backoff_cap: Duration,
    /// Consecutive failures after which a peer is marked bad.
    pub max_attempts: u32,
    /// How long a ban lasts.
    pub ban_duration: Duration,
    /// Percent chance of picking a new peer when new and known peers are both due.
    pub new_bias_percent: u8,
    /// After a restart, overdue peers are spread uniformly over this window.
    pub restart_spread: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_redial: Duration::from_secs(300),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(600),
            max_attempts: 6,
            ban_duration: Duration::from_secs(3600),
            new_bias_percent: 50,
            restart_spread: Duration::from_secs(60),
        }
    }
}

/// One peer in the book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub state: PeerState,
    /// Consecutive failed dials.
    pub attempts: u32,
    pub last_dial: Option<Instant>,
    /// When the peer may be dialed next; `None` = never (bad) or in flight.
    pub next_due: Option<Instant>,
    pub ban_until: Option<Instant>,
    pub in_flight: bool,
}

/// What a state change means for the event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    None,
    Banned,
    Unbanned,
    MarkedBad,
}

/// The book: entries and the due queues.
#[derive(Debug, Default)]
pub struct AddressBook {
    policy: Policy,
    entries: HashMap<NodeId, Entry>,
    /// Due times of never-vetted peers.
    due_new: BTreeSet<(Instant, NodeId)>,
    /// Due times of vetted and failing peers.
    due_known: BTreeSet<(Instant, NodeId)>,
    /// Banned peers by expiry.
    bans: BTreeSet<(Instant, NodeId)>,
    /// Whether changes are tracked in `changed`.
    track: bool,
    /// Peers whose state changed since the last [`AddressBook::take_changed`] (a subset of
    /// `entries`, so bounded by the book).
    changed: HashSet<NodeId>,
}

impl AddressBook {
    /// An empty book.
    pub fn new(policy: Policy) -> AddressBook {
        AddressBook {
            policy,
            ..AddressBook::default()
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// From now on, remembers which peers' state changed (see
    /// [`AddressBook::take_changed`]).
    pub fn track_changes(&mut self) {
        self.track = true;
    }

    /// The peers whose state changed (added, dialed, banned, unbanned, revived) since the
    /// last call; empty unless [`AddressBook::track_changes`] was called.
    pub fn take_changed(&mut self) -> Vec<NodeId> {
        self.changed.drain().collect()
    }

    fn touch(&mut self, node: NodeId) {
        if self.track {
            self.changed.insert(node);
        }
    }

    /// `node`'s entry in its stored form, its times converted to wall-clock by the pair
    /// (`now`, `wall`) of the same moment. `None` for a peer not in the book.
    pub fn stored(&self, node: &NodeId, now: Instant, wall: UnixMillis) -> Option<BookEntry> {
        let to_wall = |t: Instant| -> UnixMillis {
            if t >= now {
                wall.saturating_add((t - now).as_millis() as u64)
            } else {
                wall.saturating_sub((now - t).as_millis() as u64)
            }
        };
        let e = self.entries.get(node)?;
        Some(BookEntry {
            node_id: *node,
            state: e.state,
            attempts: e.attempts,
            last_dial: e.last_dial.map(to_wall),
            next_due: e.next_due.map(to_wall),
            ban_until: e.ban_until.map(to_wall),
            in_flight: e.in_flight,
        })
    }

    /// Takes back a stored entry (see [`AddressBook::restore`]), its times converted back
    /// by the pair (`now`, `wall`) of the same moment: a ban and a due time still ahead are
    /// kept; a peer overdue, or stored while being dialed (its outcome unknown), is spread
    /// over `restart_spread`; a ban that expired meanwhile ends within the spread too.
    pub fn restore_stored<R: Rng>(
        &mut self,
        entry: &BookEntry,
        now: Instant,
        wall: UnixMillis,
        rng: &mut R,
    ) {
        let until = match entry.state {
            PeerState::Banned => entry.ban_until,
            _ if entry.in_flight => None,
            _ => entry.next_due,
        };
        let due_in = until.map(|t| Duration::from_millis(t.saturating_sub(wall)));
        self.restore(entry.node_id, entry.state, entry.attempts, due_in, now, rng);
        if let Some(e) = self.entries.get_mut(&entry.node_id) {
            e.last_dial = entry
                .last_dial
                .and_then(|t| now.checked_sub(Duration::from_millis(wall.saturating_sub(t))));
        }
    }

    /// Number of peers in the book.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the book is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry.
    pub fn entries(&self) -> impl Iterator<Item = (&NodeId, &Entry)> {
        self.entries.iter()
    }

    /// One entry.
    pub fn get(&self, node: &NodeId) -> Option<&Entry> {
        self.entries.get(node)
    }

    fn queue_of(&mut self, state: PeerState) -> &mut BTreeSet<(Instant, NodeId)> {
        if state == PeerState::New {
            &mut self.due_new
        } else {
            &mut self.due_known
        }
    }

    fn unqueue(&mut self, node: &NodeId) {
        if let Some(e) = self.entries.get(node) {
            if let Some(due) = e.next_due {
                let state = e.state;
                self.queue_of(state).remove(&(due, *node));
            }
        }
    }

    fn set_due(&mut self, node: NodeId, due: Option<Instant>) {
        self.unqueue(&node);
        let Some(e) = self.entries.get_mut(&node) else {
            return;
        };
        e.next_due = due;
        let state = e.state;
        if let Some(d) = due {
            self.queue_of(state).insert((d, node));
        }
    }

    /// Adds a peer as new and due now; a known peer is left as it is. Returns whether it
    /// was added.
    pub fn add(&mut self, node: NodeId, now: Instant) -> bool {
        if self.entries.contains_key(&node) {
            return false;
        }
        self.entries.insert(
            node,
            Entry {
                state: PeerState::New,
                attempts: 0,
                last_dial: None,
                next_due: None,
                ban_until: None,
                in_flight: false,
            },
        );
        self.set_due(node, Some(now));
        self.touch(node);
        true
    }

    /// Gives a bad peer a new chance (its record changed): it becomes new and due now.
    pub fn revive(&mut self, node: NodeId, now: Instant) {
        if let Some(e) = self.entries.get(&node) {
            if e.state == PeerState::Bad {
                self.unqueue(&node);
                if let Some(e) = self.entries.get_mut(&node) {
                    e.state = PeerState::New;
                    e.attempts = 0;
                }
                self.set_due(node, Some(now));
                self.touch(node);
            }
        }
    }

    /// Restores a peer from the store after a restart. Overdue peers are spread over
    /// `restart_spread` so a restart does not dial everyone at once.
    pub fn restore<R: Rng>(
        &mut self,
        node: NodeId,
        state: PeerState,
        attempts: u32,
        due_in: Option<Duration>,
        now: Instant,
        rng: &mut R,
    ) {
        self.unqueue(&node);
        let due = match state {
            PeerState::Bad => None,
            _ => Some(match due_in {
                Some(d) if !d.is_zero() => now + d,
                _ => now + rng.gen_range(Duration::ZERO..=self.policy.restart_spread),
            }),
        };
        let ban_until = (state == PeerState::Banned).then(|| due.unwrap_or(now));
        self.entries.insert(
            node,
            Entry {
                state,
                attempts,
                last_dial: None,
                next_due: None,
                ban_until,
                in_flight: false,
            },
        );
        if state == PeerState::Banned {
            if let Some(until) = ban_until {
                self.bans.insert((until, node));
            }
        } else {
            self.set_due(node, due);
        }
    }

    /// The earliest time something becomes due (a dial or a ban expiry).
    pub fn next_wakeup(&self) -> Option<Instant> {
        [
            self.due_new.first().map(|(t, _)| *t),
            self.due_known.first().map(|(t, _)| *t),
            self.bans.first().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Lifts expired bans; returns the peers unbanned (they are new and due now).
    pub fn expire_bans(&mut self, now: Instant) -> Vec<NodeId> {
        let mut out = Vec::new();
        while let Some(&(until, node)) = self.bans.first() {
            if until > now {
                break;
            }
            self.bans.pop_first();
            if let Some(e) = self.entries.get_mut(&node) {
                e.state = PeerState::New;
                e.attempts = 0;
                e.ban_until = None;
            }
            self.set_due(node, Some(now));
            self.touch(node);
            out.push(node);
        }
        out
    }

    /// Picks the next peer to dial, if one is due, and marks it in flight.
    pub fn next_due<R: Rng>(&mut self, now: Instant, rng: &mut R) -> Option<NodeId> {
        let new_due = self.due_new.first().is_some_and(|(t, _)| *t <= now);
        let known_due = self.due_known.first().is_some_and(|(t, _)| *t <= now);
        let take_new = match (new_due, known_due) {
            (false, false) => return None,
            (true, false) => true,
            (false, true) => false,
            (true, true) => rng.gen_range(0..100u8) < self.policy.new_bias_percent,
        };
        let (_, node) = if take_new {
            self.due_new.pop_first()?
        } else {
            self.due_known.pop_first()?
        };
        if let Some(e) = self.entries.get_mut(&node) {
            e.next_due = None;
            e.in_flight = true;
            e.last_dial = Some(now);
        }
        Some(node)
    }

    /// Puts a picked peer back, due at `at` (used when a per-IP limit defers it).
    pub fn defer(&mut self, node: NodeId, at: Instant) {
        if let Some(e) = self.entries.get_mut(&node) {
            e.in_flight = false;
        }
        self.set_due(node, Some(at));
    }

    /// Records a dial that connected: vetted, due again after `min_redial`.
    pub fn on_success(&mut self, node: NodeId, now: Instant) {
        self.unqueue(&node);
        let Some(e) = self.entries.get_mut(&node) else {
            return;
        };
        e.in_flight = false;
        e.state = PeerState::Vetted;
        e.attempts = 0;
        let due = now + self.policy.min_redial;
        self.set_due(node, Some(due));
        self.touch(node);
    }

    /// Bans a peer for the policy's ban duration for misbehaving after it connected (an
    /// unsolicited, oversized or malformed address list; requests too often). A peer not in
    /// the book is added banned. Returns `Banned`, or `None` when it already was.
    pub fn ban(&mut self, node: NodeId, now: Instant) -> Transition {
        if self
            .entries
            .get(&node)
            .is_some_and(|e| e.state == PeerState::Banned)
        {
            return Transition::None;
        }
        self.unqueue(&node);
        let until = now + self.policy.ban_duration;
        let e = self.entries.entry(node).or_insert(Entry {
            state: PeerState::New,
            attempts: 0,
            last_dial: None,
            next_due: None,
            ban_until: None,
            in_flight: false,
        });
        e.state = PeerState::Banned;
        e.ban_until = Some(until);
        e.next_due = None;
        self.bans.insert((until, node));
        Transition::Banned
    }

    /// Records a failed dial. Returns the transition for the event log.
    pub fn on_failure<R: Rng>(
        &mut self,
        node: NodeId,
        class: ErrorClass,
        now: Instant,
        rng: &mut R,
    ) -> Transition {
        self.unqueue(&node);
        let policy = self.policy.clone();
        if self.track && self.entries.contains_key(&node) {
            self.changed.insert(node);
        }
        let Some(e) = self.entries.get_mut(&node) else {
            return Transition::None;
        };
        e.in_flight = false;
        e.attempts += 1;
        if class == ErrorClass::PeerIdMismatch {
            e.state = PeerState::Banned;
            let until = now + policy.ban_duration;
            e.ban_until = Some(until);
            e.next_due = None;
            self.bans.insert((until, node));
            return Transition::Banned;
        }
        if !class.retryable() || e.attempts >= policy.max_attempts {
            e.state = PeerState::Bad;
            e.next_due = None;
            return Transition::MarkedBad;
        }
        e.state = PeerState::Failing;
        let due = now + backoff(&policy, e.attempts, rng);
        self.set_due(node, Some(due));
        Transition::None
    }
}

/// Backoff after the n-th consecutive failure: `base * 2^n`, capped, plus a uniform jitter
/// of up to half of that.
pub fn backoff<R: Rng>(policy: &Policy, attempts: u32, rng: &mut R) -> Duration {
    let exp = policy
        .backoff_base
        .saturating_mul(1u32.checked_shl(attempts.min(31)).unwrap_or(u32::MAX))
        .min(policy.backoff_cap);
    let jitter = rng.gen_range(Duration::ZERO..=exp / 2);
    exp + jitter
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn id(n: u8) -> NodeId {
        [n; 32]
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_exponentially_within_jitter_bounds() {
        let policy = Policy::default();
        let mut rng = StdRng::seed_from_u64(1);
        for n in 1..=12u32 {
            let base = (policy.backoff_base * 2u32.pow(n)).min(policy.backoff_cap);
            for _ in 0..200 {
                let d = backoff(&policy, n, &mut rng);
                assert!(d >= base && d <= base + base / 2, "n={n} d={d:?}");
            }
        }
        // The cap holds for absurd attempt counts.
        assert!(backoff(&policy, 1000, &mut rng) <= policy.backoff_cap * 3 / 2);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_then_mark_the_peer_bad() {
        let policy = Policy {
            max_attempts: 3,
            ..Policy::default()
        };
        let mut book = AddressBook::new(policy.clone());
        let mut rng = StdRng::seed_from_u64(2);
        let start = Instant::now();
        book.add(id(1), start);
        for attempt in 1..=2u32 {
            let now = Instant::now();
            assert_eq!(book.next_due(now, &mut rng), Some(id(1)));
            assert_eq!(
                book.next_due(now, &mut rng),
                None,
                "in flight, not due twice"
            );
            let t = book.on_failure(id(1), ErrorClass::Refused, now, &mut rng);
            assert_eq!(t, Transition::None);
            let e = book.get(&id(1)).unwrap();
            assert_eq!(e.state, PeerState::Failing);
            let wait = e.next_due.unwrap() - now;
            let base = policy.backoff_base * 2u32.pow(attempt);
            assert!(wait >= base && wait <= base + base / 2, "{wait:?}");
            // Not due before the backoff elapses.
            tokio::time::advance(base - Duration::from_millis(1)).await;
            assert_eq!(book.next_due(Instant::now(), &mut rng), None);
            tokio::time::advance(base / 2 + Duration::from_millis(2)).await;
        }
        let now = Instant::now();
        assert_eq!(book.next_due(now, &mut rng), Some(id(1)));
        let t = book.on_failure(id(1), ErrorClass::Timeout, now, &mut rng);
        assert_eq!(t, Transition::MarkedBad);
        assert_eq!(book.get(&id(1)).unwrap().state, PeerState::Bad);
        tokio::time::advance(Duration::from_secs(100_000)).await;
        assert_eq!(
            book.next_due(Instant::now(), &mut rng),
            None,
            "bad peers are never dialed"
        );
        assert_eq!(book.next_wakeup(), None);
        // A newer record revives it.
        book.revive(id(1), Instant::now());
        assert_eq!(book.next_due(Instant::now(), &mut rng), Some(id(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_failures_mark_bad_at_once() {
        let mut book = AddressBook::new(Policy::default());
        let mut rng = StdRng::seed_from_u64(3);
        book.add(id(1), Instant::now());
        book.next_due(Instant::now(), &mut rng).unwrap();
        let t = book.on_failure(id(1), ErrorClass::NoAddress, Instant::now(), &mut rng);
        assert_eq!(t, Transition::MarkedBad);
    }

    #[tokio::test(start_paused = true)]
    async fn bans_expire_and_the_peer_is_new_again() {
        let policy = Policy {
            ban_duration: Duration::from_secs(60),
            ..Policy::default()
        };
        let mut book = AddressBook::new(policy);
        let mut rng = StdRng::seed_from_u64(4);
        book.add(id(9), Instant::now());
        book.next_due(Instant::now(), &mut rng).unwrap();
        let t = book.on_failure(id(9), ErrorClass::PeerIdMismatch, Instant::now(), &mut rng);
        assert_eq!(t, Transition::Banned);
        assert_eq!(book.get(&id(9)).unwrap().state, PeerState::Banned);
        assert_eq!(
            book.next_wakeup(),
            Some(Instant::now() + Duration::from_secs(60))
        );
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(book.expire_bans(Instant::now()).is_empty());
        assert_eq!(book.next_due(Instant::now(), &mut rng), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(book.expire_bans(Instant::now()), vec![id(9)]);
        assert_eq!(book.get(&id(9)).unwrap().state, PeerState::New);
        assert_eq!(book.next_due(Instant::now(), &mut rng), Some(id(9)));
    }

    #[tokio::test(start_paused = true)]
    async fn misbehaving_peers_are_banned_once_and_the_ban_expires() {
        let policy = Policy {
            ban_duration: Duration::from_secs(30),
            ..Policy::default()
        };
        let mut book = AddressBook::new(policy);
        let mut rng = StdRng::seed_from_u64(8);
        book.add(id(3), Instant::now());
        assert_eq!(book.ban(id(3), Instant::now()), Transition::Banned);
        assert_eq!(book.ban(id(3), Instant::now()), Transition::None);
        // A stranger (e.g. an inbound requester) is added banned.
        assert_eq!(book.ban(id(4), Instant::now()), Transition::Banned);
        assert_eq!(book.get(&id(4)).unwrap().state, PeerState::Banned);
        assert_eq!(book.next_due(Instant::now(), &mut rng), None);
        tokio::time::advance(Duration::from_secs(30)).await;
        let mut lifted = book.expire_bans(Instant::now());
        lifted.sort();
        assert_eq!(lifted, vec![id(3), id(4)]);
    }

    #[tokio::test(start_paused = true)]
    async fn vetted_peers_wait_the_minimum_redial_interval() {
        let policy = Policy {
            min_redial: Duration::from_secs(30),
            ..Policy::default()
        };
        let mut book = AddressBook::new(policy);
        let mut rng = StdRng::seed_from_u64(5);
        book.add(id(2), Instant::now());
        book.next_due(Instant::now(), &mut rng).unwrap();
        book.on_success(id(2), Instant::now());
        assert_eq!(book.get(&id(2)).unwrap().state, PeerState::Vetted);
        tokio::time::advance(Duration::from_millis(29_999)).await;
        assert_eq!(book.next_due(Instant::now(), &mut rng), None);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(book.next_due(Instant::now(), &mut rng), Some(id(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn selection_is_biased_between_new_and_known_peers() {
        let policy = Policy {
            new_bias_percent: 80,
            ..Policy::default()
        };
        let mut book = AddressBook::new(policy);
        let mut rng = StdRng::seed_from_u64(6);
        let now = Instant::now();
        // 500 vetted-and-due peers and 500 new ones.
        for n in 0..500u16 {
            let mut known = [0u8; 32];
            known[..2].copy_from_slice(&n.to_be_bytes());
            known[2] = 1;
            book.restore(
                known,
                PeerState::Vetted,
                0,
                Some(Duration::from_nanos(1)),
                now,
                &mut rng,
            );
            let mut new = known;
            new[2] = 2;
            book.add(new, now);
        }
        tokio::time::advance(Duration::from_millis(1)).await;
        let mut picked_new = 0;
        for _ in 0..400 {
            let node = book.next_due(Instant::now(), &mut rng).unwrap();
            if node[2] == 2 {
                picked_new += 1;
            }
        }
        // 80% ± a generous margin.
        assert!(
            (290..=350).contains(&picked_new),
            "{picked_new} of 400 were new"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_restart_does_not_cause_a_dial_storm() {
        let policy = Policy {
            restart_spread: Duration::from_secs(60),
            ..Policy::default()
        };
        let mut book = AddressBook::new(policy);
        let mut rng = StdRng::seed_from_u64(7);
        let now = Instant::now();
        // 1000 vetted peers, all overdue while the process was down.
        for n in 0..1000u16 {
            let mut node = [0u8; 32];
            node[..2].copy_from_slice(&n.to_be_bytes());
            book.restore(node, PeerState::Vetted, 0, None, now, &mut rng);
        }
        let mut per_second = Vec::new();
        for _ in 0..61 {
            let mut n = 0;
            while book.next_due(Instant::now(), &mut rng).is_some() {
                n += 1;
            }
            per_second.push(n);
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(per_second.iter().sum::<usize>(), 1000);
        let max = *per_second.iter().max().unwrap();
        // Uniform over 60 s is ~17 per second; far from 1000 at once.
        assert!(max <= 45, "a second saw {max} dials: {per_second:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn changes_are_named_once_until_taken_when_tracked() {
        let mut rng = StdRng::seed_from_u64(8);
        let mut untracked = AddressBook::new(Policy::default());
        untracked.add(id(1), Instant::now());
        assert!(untracked.take_changed().is_empty());

        let mut book = AddressBook::new(Policy::default());
        book.track_changes();
        let now = Instant::now();
        book.add(id(1), now);
        book.add(id(2), now);
        book.add(id(1), now);
        let mut changed = book.take_changed();
        changed.sort();
        assert_eq!(changed, [id(1), id(2)]);
        assert!(book.take_changed().is_empty());
        // Picking a peer is not a change worth writing; its outcome is.
        let picked = book.next_due(now, &mut rng).unwrap();
        assert!(book.take_changed().is_empty());
        book.on_failure(picked, ErrorClass::PeerIdMismatch, now, &mut rng);
        assert_eq!(book.take_changed(), [picked]);
        let other = book.next_due(now, &mut rng).unwrap();
        book.on_success(other, now);
        assert_eq!(book.take_changed(), [other]);
        tokio::time::advance(book.policy().ban_duration).await;
        assert_eq!(book.expire_bans(Instant::now()), [picked]);
        assert_eq!(book.take_changed(), [picked]);
    }

    /// A book written before a restart and read back after it: bans and backoffs keep
    /// their wall-clock deadlines, bad peers stay bad, and peers that fell due while the
    /// process was down are spread over `restart_spread`.
    #[tokio::test(start_paused = true)]
    async fn a_stored_book_keeps_its_deadlines_and_spreads_the_overdue() {
        let policy = Policy {
            restart_spread: Duration::from_secs(60),
            min_redial: Duration::from_secs(10),
            // Known peers first, so the order of the picks below is fixed.
            new_bias_percent: 0,
            ..Policy::default()
        };
        let mut rng = StdRng::seed_from_u64(9);
        let mut book = AddressBook::new(policy.clone());
        let t0 = Instant::now();
        // 1: banned; 2: failing twice; 3: bad; 4: vetted; 5..: new, never dialed.
        for n in 1..=40 {
            book.add(id(n), t0);
        }
        let outcomes = [
            Some(ErrorClass::PeerIdMismatch),
            Some(ErrorClass::Refused),
            Some(ErrorClass::NoAddress),
            None,
        ];
        for (n, outcome) in (1..).zip(outcomes) {
            assert_eq!(book.next_due(t0, &mut rng), Some(id(n)));
            match outcome {
                Some(class) => {
                    book.on_failure(id(n), class, t0, &mut rng);
                }
                None => book.on_success(id(n), t0),
            }
        }
        tokio::time::advance(Duration::from_secs(3)).await;
        let now = Instant::now();
        assert_eq!(book.next_due(now, &mut rng), Some(id(2)));
        book.on_failure(id(2), ErrorClass::Refused, now, &mut rng);
        // `now` is `wall0` on the wall clock.
        let wall0: UnixMillis = 1_700_000_000_000;
        let stored: Vec<BookEntry> = (1..=40)
            .map(|n| book.stored(&id(n), now, wall0).unwrap())
            .collect();
        assert_eq!(stored[0].state, PeerState::Banned);
        assert_eq!(stored[0].ban_until, Some(wall0 + 3_600_000 - 3_000));
        assert_eq!(
            (stored[1].state, stored[1].attempts, stored[1].last_dial),
            (PeerState::Failing, 2, Some(wall0))
        );
        let failing_due = stored[1].next_due.unwrap();
        assert!((wall0 + 4_000..=wall0 + 6_000).contains(&failing_due));
        assert_eq!(
            (stored[2].state, stored[2].next_due),
            (PeerState::Bad, None)
        );
        assert_eq!(stored[3].next_due, Some(wall0 + 7_000));
        assert_eq!(stored[4].next_due, Some(wall0 - 3_000), "overdue");
        assert!(stored.iter().all(|e| !e.in_flight));
        // One being dialed when the book is written: restored as overdue, whenever it
        // was due before.
        let mut dialing = stored[3].clone();
        dialing.in_flight = true;
        dialing.node_id = id(41);
        assert_eq!(book.stored(&id(99), now, wall0), None);

        // The process was down 2 s; the new one has its own monotonic clock.
        tokio::time::advance(Duration::from_secs(1_000)).await;
        let t1 = Instant::now();
        let wall1 = wall0 + 2_000;
        let mut again = AddressBook::new(policy.clone());
        for e in stored.iter().chain([&dialing]) {
            again.restore_stored(e, t1, wall1, &mut rng);
        }
        let banned = again.get(&id(1)).unwrap();
        assert_eq!(banned.state, PeerState::Banned);
        assert_eq!(
            banned.ban_until,
            Some(t1 + Duration::from_millis(3_600_000 - 3_000 - 2_000))
        );
        let failing = again.get(&id(2)).unwrap();
        assert_eq!((failing.state, failing.attempts), (PeerState::Failing, 2));
        assert_eq!(failing.last_dial, Some(t1 - Duration::from_secs(2)));
        assert_eq!(
            failing.next_due,
            Some(t1 + Duration::from_millis(failing_due - wall1))
        );
        assert_eq!(again.get(&id(3)).unwrap().next_due, None);
        assert_eq!(
            again.get(&id(4)).unwrap().next_due,
            Some(t1 + Duration::from_secs(5))
        );
        assert_ne!(
            again.get(&id(41)).unwrap().next_due,
            Some(t1 + Duration::from_secs(5)),
            "a dial in flight is not trusted to have rescheduled the peer"
        );
        // Nothing is restored as a change to write back.
        assert!(again.take_changed().is_empty());

        // A second at a time for the spread and a bit more: the new peers come spread
        // out, the failing one at its deadline, the banned and the bad one never.
        let mut first_dial: HashMap<NodeId, Duration> = HashMap::new();
        for _ in 0..=70 {
            let now = Instant::now();
            while let Some(node) = again.next_due(now, &mut rng) {
                first_dial.entry(node).or_insert(now - t1);
                again.on_success(node, now);
            }
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert!(!first_dial.contains_key(&id(1)) && !first_dial.contains_key(&id(3)));
        let at = |n: u8| first_dial[&id(n)];
        assert!(at(2) >= Duration::from_millis(failing_due - wall1));
        assert_eq!(at(4), Duration::from_secs(5));
        assert!(at(41) <= policy.restart_spread);
        let new: Vec<Duration> = (5..=40).map(at).collect();
        assert!(new.iter().all(|d| *d <= policy.restart_spread));
        let early = new.iter().filter(|d| **d < Duration::from_secs(10)).count();
        assert!(
            early <= 15,
            "{early} of {} in the first 10 s: {new:?}",
            new.len()
        );
    }
}
