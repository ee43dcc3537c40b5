//! The walk of one crawl as pure state: the nodes it knows, the queue of nodes to walk this
//! round, the FINDNODE requests ready to send, what an answer or a failure changes, the
//! request timeout adapted to the round trips seen, and when a round is complete. It sends
//! nothing and waits on nothing: the crawl loop asks it which requests to send
//! ([`Walk::next_requests`]) and how long each may take ([`Walk::timeout`]), tells it how
//! each ended ([`Walk::answered`], [`Walk::failed`]), and passes the time in.
//!
//! **A node's walk.** A probe first, FINDNODE at distance 0, which returns the node's own
//! current record (so ENR updates are seen every round). A node that answers it is then
//! scanned from distance 256 down, one distance per request: one at a time while the
//! crawl has other work for its slots, and up to [`PER_NODE`] of them in flight at once
//! (on the session the probe set up) when slots would otherwise stay idle — at the start
//! and the end of a walk, or when `concurrency` exceeds the work. The scan stops early once
//! its answers, contiguous from 256, end in [`EMPTY_RUN`] empty distances: the distances
//! below (down to `find_node_distances`) are then asked *together* in one request, the
//! **rest check**. An empty answer shows all of them empty, and the node is done. A
//! non-empty one names, through its records' distances, buckets that hold nodes: each is
//! asked alone, and the distances still unresolved are checked together again. So every
//! distance is either asked alone or shown empty by an answer that names it: the walk
//! learns every record a walk of all `find_node_distances` distances would (an answer
//! carries only the first NODES packet, see the crawl module, so a bucket asked alone
//! gives the most it can), with a fraction of the requests. A node with no UDP endpoint
//! counts as walked and unresponsive at once.
//!
//! **Timeouts and retries.** Each request may take [`Walk::timeout`]: [`TIMEOUT_FACTOR`] ×
//! the 99th percentile of recent round trips (answered requests), at least
//! [`TIMEOUT_FLOOR`], at most the crawl's `request_timeout` (used until
//! [`MIN_SAMPLES`] answers are in). The timeout applies to the requests in flight as it
//! changes: one sent before the round trips were known times out as soon as they show it
//! late ([`Walk::expire`]). A request that times out is retried at once, ahead of
//! everything else, up to [`ATTEMPTS`] tries. A probe that fails every try makes its node a
//! straggler: it gets a second chance (a fresh probe) once `request_timeout` has passed —
//! by then discv5 has given up its first handshake and sends a new one — but only while
//! other nodes are being walked or wait: no round waits for it. A node that never answers
//! thus delays the end of a round by at most its tries, about [`ATTEMPTS`] adapted
//! timeouts after the answer that named it. Until some node has answered (a bootstrap
//! node slow to answer its first request), every straggler gets its second chance and
//! the round waits for it.
//!
//! **Rounds.** A round is complete when nothing is queued, ready or in flight (random
//! lookups do not count), and (ONESHOT) the dials are done too; stragglers still waiting
//! for their second chance count as unresponsive. ONESHOT then finishes; CONTINUOUS starts
//! the next round `recrawl_interval` later, requeueing every known node. Nodes learned
//! between rounds are walked as they come.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::model::{CrawlMode, NodeId};
use crate::protocol::enr::Enr;

/// Tries per FINDNODE request.
pub(super) const ATTEMPTS: u8 = 2;

/// Distances of one node asked alone and in flight at once.
pub(super) const PER_NODE: u32 = 4;

/// Empty distances in a row, at the end of the scan's answers, after which the rest is
/// checked at once.
pub(super) const EMPTY_RUN: u16 = 2;

/// The adapted timeout is never shorter than this.
pub(super) const TIMEOUT_FLOOR: Duration = Duration::from_millis(100);

/// The adapted timeout is this many times the 99th percentile of recent round trips.
pub(super) const TIMEOUT_FACTOR: u32 = 3;

/// Round trips needed before the timeout adapts (until then it is `request_timeout`).
pub(super) const MIN_SAMPLES: usize = 16;

/// Round trips kept (the most recent).
const RTT_WINDOW: usize = 256;

/// What the walk needs of a crawl's settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct WalkConfig {
    /// Requests in flight at most (the crawl's random lookups count too).
    pub concurrency: usize,
    /// Distances a node's walk covers (256 down); the deepest is `257 - distances`.
    pub distances: u32,
    pub mode: CrawlMode,
    /// CONTINUOUS: pause between the end of a round and the next.
    pub recrawl_interval: Duration,
    /// The longest a request may take (the adapted timeout's cap), and how long a
    /// straggler waits for its second chance.
    pub request_timeout: Duration,
}

/// A set of FINDNODE distances (1..=256), one bit each.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(super) struct Distances([u64; 4]);

impl Distances {
    /// The distances `low..=high` (within 1..=256).
    pub fn range(low: u16, high: u16) -> Distances {
        let mut set = Distances::default();
        for d in low.max(1)..=high.min(256) {
            set.insert(d);
        }
        set
    }

    fn slot(d: u16) -> (usize, u64) {
        let i = usize::from(d - 1);
        (i / 64, 1u64 << (i % 64))
    }

    pub fn insert(&mut self, d: u16) {
        if (1..=256).contains(&d) {
            let (w, bit) = Distances::slot(d);
            self.0[w] |= bit;
        }
    }

    pub fn remove(&mut self, d: u16) {
        if (1..=256).contains(&d) {
            let (w, bit) = Distances::slot(d);
            self.0[w] &= !bit;
        }
    }

    pub fn contains(&self, d: u16) -> bool {
        if !(1..=256).contains(&d) {
            return false;
        }
        let (w, bit) = Distances::slot(d);
        self.0[w] & bit != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    #[cfg(test)]
    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// The distances, highest first.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (1..=256u16).rev().filter(|d| self.contains(*d))
    }
}

impl std::fmt::Debug for Distances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The log2 distance between two node ids (1..=256), `None` for the same id.
pub(super) fn log2_distance(a: &NodeId, b: &NodeId) -> Option<u16> {
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        let xor = x ^ y;
        if xor != 0 {
            return Some(256 - (i as u16) * 8 - xor.leading_zeros() as u16);
        }
    }
    None
}

/// What one request asks of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Ask {
    /// Distance 0: the node's own record.
    Probe,
    /// One distance, alone.
    One(u16),
    /// Every distance of the set in one request (the rest check).
    Rest(Distances),
}

/// One FINDNODE request: a node, what it asks, which try.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Request {
    pub node: NodeId,
    pub ask: Ask,
    pub attempt: u8,
}

impl Request {
    /// The request for the node's own record.
    pub fn is_probe(&self) -> bool {
        self.ask == Ask::Probe
    }

    /// The distances to put on the wire, highest first.
    pub fn distances(&self) -> Vec<u64> {
        match self.ask {
            Ask::Probe => vec![0],
            Ask::One(d) => vec![u64::from(d)],
            Ask::Rest(set) => set.iter().map(u64::from).collect(),
        }
    }
}

/// What a record did to the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Learned {
    /// Not newer than the record held: ignored.
    Stale,
    /// A node the crawl did not know: queued for this round.
    New,
    /// A newer record of a known node: kept.
    Newer,
}

/// What a failed request led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// Sent again at once (tries left).
    Retry,
    /// The probe failed every try: the node gets a second chance later, if the walk still
    /// runs then.
    Straggler,
    /// The probe failed on its second chance too: the node is unresponsive this round.
    Unresponsive,
    /// A distance (or a rest check) failed every try: given up, the node's walk goes on.
    GaveUp,
    /// The request was no longer in flight (it had timed out already).
    Ignored,
}

/// Where the round stands, as [`Walk::check_round`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Round {
    /// Work is queued, ready or in flight, or (CONTINUOUS) the next round is not due yet.
    Open,
    /// CONTINUOUS: the round is complete; the next starts at [`Walk::next_round`].
    Done,
    /// ONESHOT: the round is complete and so is the crawl.
    Finished,
}

/// Recent round trips and the timeout they give.
#[derive(Debug)]
pub(super) struct Rtt {
    cap: Duration,
    samples: VecDeque<Duration>,
    timeout: Duration,
    /// Samples since the timeout was last computed.
    fresh: usize,
}

impl Rtt {
    pub fn new(cap: Duration) -> Rtt {
        Rtt {
            cap,
            samples: VecDeque::with_capacity(RTT_WINDOW),
            timeout: cap,
            fresh: 0,
        }
    }

    /// Takes one round trip.
    pub fn observe(&mut self, rtt: Duration) {
        if self.samples.len() == RTT_WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(rtt);
        self.fresh += 1;
        // Recomputed with every sample at first, then every 16.
        if self.samples.len() >= MIN_SAMPLES && (self.samples.len() < 64 || self.fresh >= 16) {
            self.fresh = 0;
            let mut sorted: Vec<Duration> = self.samples.iter().copied().collect();
            sorted.sort_unstable();
            let p99 = sorted[(sorted.len() * 99).div_ceil(100) - 1];
            self.timeout = (p99 * TIMEOUT_FACTOR).clamp(TIMEOUT_FLOOR.min(self.cap), self.cap);
        }
    }

    /// The timeout of a request sent now.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// The walk of one node this round, once its probe was answered.
#[derive(Debug)]
struct NodeWalk {
    /// Requests not finished (answered or given up), ready ones included.
    open: u32,
    /// Scan requests (single distances, top-down) not finished.
    scanning: u32,
    /// The next distance the scan asks; below the deepest once it has asked them all.
    next: u16,
    /// The scan stopped early: the rest is being checked.
    stopped: bool,
    /// The scan's answers, contiguous from 256, end in an empty distance.
    ends_empty: bool,
    /// Queued for a speculative scan request.
    speculating: bool,
    /// Distances the scan asked…
    scanned: Distances,
    /// …those answered (empty or not, or given up)…
    answered: Distances,
    /// …and those answered empty.
    empty: Distances,
    /// Distances neither asked alone nor shown empty, under the rest check in flight.
    unresolved: Distances,
}

impl NodeWalk {
    /// Whether the scan may take another request now: it goes on, fewer than
    /// [`PER_NODE`] of its requests are out, and its last answer was not empty (an empty
    /// one may end it).
    fn may_speculate(&self, lowest: u16) -> bool {
        !self.stopped && !self.ends_empty && self.scanning < PER_NODE && self.next >= lowest
    }

    /// The scan's next request.
    fn take_next(&mut self, node: NodeId) -> Request {
        let d = self.next;
        self.scanned.insert(d);
        self.next -= 1;
        self.scanning += 1;
        self.open += 1;
        Request {
            node,
            ask: Ask::One(d),
            attempt: 1,
        }
    }
}

/// The walk state of one crawl.
pub(super) struct Walk {
    config: WalkConfig,
    /// The deepest distance asked (`257 - distances`).
    lowest: u16,
    /// Every node the crawl knows, with its newest record.
    known: HashMap<NodeId, Enr>,
    /// Nodes waiting to be walked this round.
    queue: VecDeque<NodeId>,
    /// Nodes queued or walked this round.
    scheduled: HashSet<NodeId>,
    /// Requests ready to send (retries first, then the next requests of nodes being walked).
    ready: VecDeque<Request>,
    /// Requests in flight, and when each was sent…
    out: HashMap<Request, Instant>,
    /// …in the order they were sent (finished ones are skipped when met).
    out_order: VecDeque<(Instant, Request)>,
    /// Requests that timed out and may still be answered, and when each was sent.
    late: HashMap<Request, Instant>,
    /// Nodes whose probe is out (with its retries).
    probing: HashSet<NodeId>,
    /// Nodes being walked (probe answered), with their walk state.
    walking: HashMap<NodeId, NodeWalk>,
    /// Nodes whose scan may take a request beyond the one it has out, when a slot is
    /// free.
    speculative: VecDeque<NodeId>,
    /// Nodes whose probe failed, and when they get their second chance.
    stragglers: VecDeque<(NodeId, Instant)>,
    /// Nodes given their second chance this round.
    second_chance: HashSet<NodeId>,
    /// Nodes counted unresponsive this round.
    silent: HashSet<NodeId>,
    rtt: Rtt,
    /// When the last request of the round was answered.
    last_answer: Option<Instant>,
    /// How long the walk last waited, once drained, after its last answer.
    tail: Option<Duration>,
    /// The walk has nothing queued, ready or in flight since the tail was taken.
    drained: bool,
    /// Nodes walked this round, and how many of them did not answer.
    queried: u64,
    unresponsive: u64,
    /// Requests that timed out, all rounds.
    timeouts: u64,
    /// Rounds completed.
    rounds: u64,
    /// CONTINUOUS: when the next round starts.
    next_round: Option<Instant>,
}

impl Walk {
    pub fn new(config: WalkConfig) -> Walk {
        let distances = config.distances.clamp(1, 256) as u16;
        Walk {
            config,
            lowest: 257 - distances,
            known: HashMap::new(),
            queue: VecDeque::new(),
            scheduled: HashSet::new(),
            ready: VecDeque::new(),
            out: HashMap::new(),
            out_order: VecDeque::new(),
            late: HashMap::new(),
            probing: HashSet::new(),
            walking: HashMap::new(),
            speculative: VecDeque::new(),
            stragglers: VecDeque::new(),
            second_chance: HashSet::new(),
            silent: HashSet::new(),
            rtt: Rtt::new(config.request_timeout),
            last_answer: None,
            tail: None,
            drained: false,
            queried: 0,
            unresponsive: 0,
            timeouts: 0,
            rounds: 0,
            next_round: None,
        }
    }

    /// Takes a record: kept when newer than the one held, its node queued when new.
    pub fn learn(&mut self, enr: Enr) -> Learned {
        let id = enr.node_id().raw();
        if self
            .known
            .get(&id)
            .is_some_and(|old| old.seq() >= enr.seq())
        {
            return Learned::Stale;
        }
        if self.known.insert(id, enr).is_some() {
            return Learned::Newer;
        }
        if self.scheduled.insert(id) {
            self.queue.push_back(id);
        }
        Learned::New
    }

    /// The newest record of a node.
    pub fn record(&self, node: &NodeId) -> Option<&Enr> {
        self.known.get(node)
    }

    /// Every known node's newest record.
    pub fn records(&self) -> &HashMap<NodeId, Enr> {
        &self.known
    }

    /// Nodes known.
    pub fn known(&self) -> usize {
        self.known.len()
    }

    /// Nodes waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Nodes walked this round.
    pub fn queried(&self) -> u64 {
        self.queried
    }

    /// Nodes walked this round that did not answer.
    pub fn unresponsive(&self) -> u64 {
        self.unresponsive
    }

    /// Requests that timed out, all rounds.
    pub fn timeouts(&self) -> u64 {
        self.timeouts
    }

    /// Rounds completed.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// How long the walk of the last round waited after its last answer before it had
    /// nothing left to do (what nodes that never answered cost at its end).
    pub fn tail(&self) -> Option<Duration> {
        self.tail
    }

    /// Nodes whose walk this round is not done: queued, probed, being walked, or
    /// stragglers.
    pub fn remaining(&self) -> u64 {
        (self.queue.len() + self.probing.len() + self.walking.len() + self.stragglers.len()) as u64
    }

    /// CONTINUOUS: when the next round starts, once the current one is complete.
    #[cfg(test)]
    pub fn next_round(&self) -> Option<Instant> {
        self.next_round
    }

    /// When the walk next has something to do without any answer coming in: a request
    /// times out, a straggler's second chance, or the next round.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let straggler = self.stragglers.front().map(|(_, due)| *due);
        [self.next_expiry(), straggler, self.next_round]
            .into_iter()
            .flatten()
            .min()
    }

    /// The timeout of a request: adapted to the round trips seen so far. It applies to
    /// requests already in flight too.
    pub fn timeout(&self) -> Duration {
        self.rtt.timeout()
    }

    /// Requests of the walk in flight.
    pub fn in_flight(&self) -> usize {
        self.out.len()
    }

    /// When the oldest request in flight times out.
    fn next_expiry(&self) -> Option<Instant> {
        self.out_order
            .iter()
            .find(|(sent, r)| self.out.get(r) == Some(sent))
            .map(|(sent, _)| *sent + self.timeout())
    }

    /// The requests in flight that have timed out at `now` (sent at least
    /// [`Walk::timeout`] ago), failed as such; the caller stops waiting for them.
    pub fn expire(&mut self, now: Instant) -> Vec<(Request, Failure)> {
        let timeout = self.timeout();
        let mut expired = Vec::new();
        while let Some((sent, request)) = self.out_order.front().copied() {
            if self.out.get(&request) != Some(&sent) {
                self.out_order.pop_front();
                continue;
            }
            if sent + timeout > now {
                break;
            }
            self.out_order.pop_front();
            self.out.remove(&request);
            self.late.insert(request, sent);
            expired.push(request);
        }
        expired
            .into_iter()
            .map(|r| (r, self.give_up(r, true, now)))
            .collect()
    }

    /// The requests to send now, sent at `now`, with `others` requests (random lookups)
    /// besides the walk's own out, up to the concurrency limit: retries and the next
    /// requests of nodes being walked first, then stragglers due for their second chance,
    /// then probes of queued nodes, then further distances of nodes being scanned.
    pub fn next_requests(&mut self, others: usize, now: Instant) -> Vec<Request> {
        let mut out = Vec::new();
        while self.out.len() + others + out.len() < self.config.concurrency {
            if let Some(request) = self.ready.pop_front() {
                out.push(request);
                continue;
            }
            // A second chance only beside live work (nodes being walked or waiting), so
            // that it never extends a round: once only first tries are out, none is given.
            // Until some node has answered, there is no live work to measure against, and
            // every node gets its second chance.
            let live =
                !self.walking.is_empty() || !self.queue.is_empty() || self.last_answer.is_none();
            if let Some((node, _)) = self
                .stragglers
                .front()
                .filter(|(_, due)| live && *due <= now)
            {
                let node = *node;
                self.stragglers.pop_front();
                self.second_chance.insert(node);
                self.probing.insert(node);
                out.push(Request {
                    node,
                    ask: Ask::Probe,
                    attempt: 1,
                });
                continue;
            }
            let Some(node) = self.queue.pop_front() else {
                // Nothing else to do: a further distance of a node being scanned.
                let Some(node) = self.speculative.pop_front() else {
                    break;
                };
                let lowest = self.lowest;
                if let Some(walk) = self.walking.get_mut(&node) {
                    walk.speculating = false;
                    if walk.may_speculate(lowest) {
                        out.push(walk.take_next(node));
                        if walk.may_speculate(lowest) {
                            walk.speculating = true;
                            self.speculative.push_back(node);
                        }
                    }
                }
                continue;
            };
            let Some(enr) = self.known.get(&node) else {
                continue;
            };
            if enr.udp4_socket().is_none() && enr.udp6_socket().is_none() {
                // Nothing to send to: counts as walked, unresponsive.
                self.queried += 1;
                self.unresponsive += 1;
                continue;
            }
            self.probing.insert(node);
            out.push(Request {
                node,
                ask: Ask::Probe,
                attempt: 1,
            });
        }
        for r in &out {
            self.out.insert(*r, now);
            self.out_order.push_back((now, *r));
        }
        out
    }

    /// A request was answered at `now`, with records of the nodes `found`. A request that
    /// had timed out may still be answered: its round trip counts (so that the timeout
    /// learns of slower answers), and a late probe answer walks its node after all (a
    /// stall, not a dead node); other late answers change nothing (their retry is out).
    pub fn answered(&mut self, request: Request, found: &[NodeId], now: Instant) {
        let (sent, late) = match self.out.remove(&request) {
            Some(sent) => (sent, false),
            None => match self.late.remove(&request) {
                Some(sent) => (sent, true),
                None => return,
            },
        };
        self.rtt.observe(now.saturating_duration_since(sent));
        self.last_answer = Some(now);
        if late && !request.is_probe() {
            return;
        }
        let node = request.node;
        match request.ask {
            Ask::Probe => {
                if !self.probing.remove(&node) && !self.revive(node) {
                    return;
                }
                let mut walk = NodeWalk {
                    open: 0,
                    scanning: 0,
                    next: 256,
                    stopped: false,
                    ends_empty: false,
                    speculating: false,
                    scanned: Distances::default(),
                    answered: Distances::default(),
                    empty: Distances::default(),
                    unresolved: Distances::default(),
                };
                self.scan(node, &mut walk);
                self.settle(node, walk);
            }
            Ask::One(d) => {
                let Some(mut walk) = self.walking.remove(&node) else {
                    return;
                };
                walk.open -= 1;
                if walk.scanned.contains(d) && !walk.answered.contains(d) {
                    // An answer of the scan (not of a bucket the rest check revealed).
                    walk.scanning -= 1;
                    walk.answered.insert(d);
                    if found.is_empty() {
                        walk.empty.insert(d);
                    }
                    self.scan(node, &mut walk);
                }
                self.settle(node, walk);
            }
            Ask::Rest(asked) => {
                let Some(mut walk) = self.walking.remove(&node) else {
                    return;
                };
                walk.open -= 1;
                let mut revealed = Distances::default();
                for id in found {
                    if let Some(d) = log2_distance(&node, id).filter(|d| asked.contains(*d)) {
                        revealed.insert(d);
                    }
                }
                if found.is_empty() {
                    // Every distance it named is empty.
                    walk.unresolved = Distances::default();
                } else if revealed.is_empty() {
                    // Records of distances not asked for: no proof of anything; each
                    // distance is asked alone.
                    let all = walk.unresolved;
                    walk.unresolved = Distances::default();
                    self.ask_alone(node, &mut walk, all);
                } else {
                    for d in revealed.iter() {
                        walk.unresolved.remove(d);
                    }
                    self.ask_alone(node, &mut walk, revealed);
                    self.check_rest(node, &mut walk);
                }
                self.settle(node, walk);
            }
        }
    }

    /// A request timed out (`timed_out`) or failed otherwise, at `now`. A failure of a
    /// request no longer in flight (it timed out already) is ignored.
    pub fn failed(&mut self, request: Request, timed_out: bool, now: Instant) -> Failure {
        if self.out.remove(&request).is_none() {
            self.late.remove(&request);
            return Failure::Ignored;
        }
        self.give_up(request, timed_out, now)
    }

    /// A node whose probe failed answers after all: back from the stragglers or the
    /// unresponsive of this round. Returns whether it was one of them.
    fn revive(&mut self, node: NodeId) -> bool {
        if let Some(i) = self.stragglers.iter().position(|(n, _)| *n == node) {
            self.stragglers.remove(i);
            return true;
        }
        if self.silent.remove(&node) {
            self.queried -= 1;
            self.unresponsive -= 1;
            return true;
        }
        false
    }

    /// Gives up waiting for `request` (no longer in flight): retried, or its node's walk
    /// goes on without it.
    fn give_up(&mut self, request: Request, timed_out: bool, now: Instant) -> Failure {
        if timed_out {
            self.timeouts += 1;
        }
        let node = request.node;
        if request.is_probe() && !self.probing.contains(&node) {
            // An earlier try was answered late: the node is walked already.
            return Failure::Ignored;
        }
        if request.attempt < ATTEMPTS {
            self.ready.push_front(Request {
                attempt: request.attempt + 1,
                ..request
            });
            return Failure::Retry;
        }
        match request.ask {
            Ask::Probe => {
                self.probing.remove(&node);
                if self.second_chance.contains(&node) {
                    self.silent.insert(node);
                    self.queried += 1;
                    self.unresponsive += 1;
                    Failure::Unresponsive
                } else {
                    self.stragglers
                        .push_back((node, now + self.config.request_timeout));
                    Failure::Straggler
                }
            }
            Ask::One(d) => {
                if let Some(mut walk) = self.walking.remove(&node) {
                    walk.open -= 1;
                    if walk.scanned.contains(d) && !walk.answered.contains(d) {
                        // A scan distance: counts as not empty, the scan goes on.
                        walk.scanning -= 1;
                        walk.answered.insert(d);
                        self.scan(node, &mut walk);
                    }
                    self.settle(node, walk);
                }
                Failure::GaveUp
            }
            Ask::Rest(_) => {
                if let Some(mut walk) = self.walking.remove(&node) {
                    walk.open -= 1;
                    walk.unresolved = Distances::default();
                    self.settle(node, walk);
                }
                Failure::GaveUp
            }
        }
    }

    /// Advances a node's scan: stops it once its answers, contiguous from 256, end in
    /// [`EMPTY_RUN`] empty distances (and checks the rest), else asks further distances
    /// while fewer than [`PER_NODE`] are out.
    fn scan(&mut self, node: NodeId, walk: &mut NodeWalk) {
        if walk.stopped {
            return;
        }
        // The contiguous answered run from 256, and the empty distances at its end.
        let mut low = 257u16;
        while low > 1 && walk.answered.contains(low - 1) {
            low -= 1;
        }
        let mut run = 0u16;
        while run < EMPTY_RUN && low + run <= 256 && walk.empty.contains(low + run) {
            run += 1;
        }
        walk.ends_empty = run > 0;
        if run >= EMPTY_RUN {
            walk.stopped = true;
            if walk.next >= self.lowest {
                walk.unresolved = Distances::range(self.lowest, walk.next);
                walk.next = self.lowest - 1;
                self.check_rest(node, walk);
            }
            return;
        }
        if walk.scanning == 0 && walk.next >= self.lowest {
            let request = walk.take_next(node);
            self.ready.push_back(request);
        }
        if !walk.speculating && walk.may_speculate(self.lowest) {
            walk.speculating = true;
            self.speculative.push_back(node);
        }
    }

    /// Sends the rest check of a node's unresolved distances, if any.
    fn check_rest(&mut self, node: NodeId, walk: &mut NodeWalk) {
        if !walk.unresolved.is_empty() {
            self.ready.push_back(Request {
                node,
                ask: Ask::Rest(walk.unresolved),
                attempt: 1,
            });
            walk.open += 1;
        }
    }

    /// Asks each distance of `set` alone.
    fn ask_alone(&mut self, node: NodeId, walk: &mut NodeWalk, set: Distances) {
        for d in set.iter() {
            self.ready.push_back(Request {
                node,
                ask: Ask::One(d),
                attempt: 1,
            });
            walk.open += 1;
        }
    }

    /// Keeps a node's walk, or counts the node walked when nothing of it is open.
    fn settle(&mut self, node: NodeId, walk: NodeWalk) {
        if walk.open == 0 {
            self.queried += 1;
        } else {
            self.walking.insert(node, walk);
        }
    }

    /// Where the round stands, `dials_idle` telling whether the crawl's dials are done,
    /// at `now` (random lookups in flight do not count). A complete round
    /// is counted (stragglers not given their second chance count as unresponsive);
    /// CONTINUOUS then waits `recrawl_interval` for the next.
    pub fn check_round(&mut self, dials_idle: bool, now: Instant) -> Round {
        let waiting = self.last_answer.is_none() && !self.stragglers.is_empty();
        if !self.out.is_empty() || !self.ready.is_empty() || !self.queue.is_empty() || waiting {
            self.drained = false;
            return Round::Open;
        }
        if !self.drained && self.next_round.is_none() {
            self.drained = true;
            self.tail = self.last_answer.map(|t| now.saturating_duration_since(t));
        }
        let oneshot = self.config.mode == CrawlMode::Oneshot;
        if self.next_round.is_some() || (oneshot && !dials_idle) {
            return Round::Open;
        }
        // Stragglers not due yet: no second chance this round.
        for (node, _) in self.stragglers.drain(..) {
            self.second_chance.insert(node);
            self.silent.insert(node);
            self.queried += 1;
            self.unresponsive += 1;
        }
        self.rounds += 1;
        if oneshot {
            return Round::Finished;
        }
        self.next_round = Some(now + self.config.recrawl_interval);
        Round::Done
    }

    /// CONTINUOUS: starts the next round when it is due at `now`, requeueing every known
    /// node (in id order). Returns whether it started one.
    pub fn start_round_if_due(&mut self, now: Instant) -> bool {
        if self.next_round.is_none_or(|t| t > now) {
            return false;
        }
        self.next_round = None;
        self.scheduled.clear();
        self.second_chance.clear();
        self.silent.clear();
        self.late.clear();
        self.last_answer = None;
        self.queried = 0;
        self.unresponsive = 0;
        let mut ids: Vec<NodeId> = self.known.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.scheduled.insert(id);
            self.queue.push_back(id);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::net::Ipv4Addr;

    use enr::CombinedKey;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    fn config(mode: CrawlMode, concurrency: usize, distances: u32) -> WalkConfig {
        WalkConfig {
            concurrency,
            distances,
            mode,
            recrawl_interval: Duration::from_secs(60),
            request_timeout: SECOND,
        }
    }

    /// A record with a loopback UDP endpoint (`udp`), or none.
    fn record(udp: Option<u16>) -> Enr {
        record_with_key(&CombinedKey::generate_secp256k1(), udp)
    }

    fn record_with_key(key: &CombinedKey, udp: Option<u16>) -> Enr {
        let mut b = Enr::builder();
        if let Some(port) = udp {
            b.ip4(Ipv4Addr::LOCALHOST).udp4(port);
        }
        b.build(key).unwrap()
    }

    /// A record whose node id shares at least the `bits` first bits of `prefix`, within
    /// the default walk's depth (distance 240 or more).
    fn record_near(prefix: &NodeId, bits: u16, udp: u16) -> Enr {
        loop {
            let enr = record(Some(udp));
            let id = enr.node_id().raw();
            if log2_distance(prefix, &id).is_some_and(|d| (240..=256 - bits).contains(&d)) {
                return enr;
            }
        }
    }

    fn nodes(walk: &mut Walk, n: usize) -> Vec<NodeId> {
        (0..n)
            .map(|i| {
                let enr = record(Some(9000 + i as u16));
                let id = enr.node_id().raw();
                assert_eq!(walk.learn(enr), Learned::New);
                id
            })
            .collect()
    }

    /// A network as the walk sees it: each node's routing table, the nodes that never
    /// answer, and how many records fit an answer (its first NODES packet).
    struct Model {
        records: HashMap<NodeId, Enr>,
        tables: HashMap<NodeId, Vec<NodeId>>,
        dead: HashSet<NodeId>,
        per_answer: usize,
    }

    impl Model {
        fn new(per_answer: usize) -> Model {
            Model {
                records: HashMap::new(),
                tables: HashMap::new(),
                dead: HashSet::new(),
                per_answer,
            }
        }

        fn add(&mut self, enr: Enr) -> NodeId {
            let id = enr.node_id().raw();
            self.records.insert(id, enr);
            self.tables.entry(id).or_default();
            id
        }

        fn link(&mut self, from: NodeId, to: NodeId) {
            let t = self.tables.entry(from).or_default();
            if from != to && !t.contains(&to) {
                t.push(to);
            }
        }

        /// The records `node` answers `ask` with; `None` if it never answers. Buckets are
        /// listed in ascending distance, as discv5 does, and cut to one packet.
        fn answer(&self, node: &NodeId, ask: Ask) -> Option<Vec<NodeId>> {
            if self.dead.contains(node) {
                return None;
            }
            let set = match ask {
                Ask::Probe => return Some(vec![*node]),
                Ask::One(d) => Distances::range(d, d),
                Ask::Rest(set) => set,
            };
            let mut out: Vec<(u16, NodeId)> = self.tables[node]
                .iter()
                .filter_map(|id| {
                    let d = log2_distance(node, id)?;
                    set.contains(d).then_some((d, *id))
                })
                .collect();
            out.sort_by_key(|(d, _)| *d);
            Some(
                out.into_iter()
                    .take(self.per_answer)
                    .map(|(_, id)| id)
                    .collect(),
            )
        }

        /// What a walk asking every distance of `range` alone learns from `bootstrap`.
        fn full_walk(&self, bootstrap: NodeId, lowest: u16) -> (BTreeSet<NodeId>, usize) {
            let mut known = BTreeSet::from([bootstrap]);
            let mut todo = vec![bootstrap];
            let mut requests = 0;
            while let Some(node) = todo.pop() {
                requests += 1;
                if self.answer(&node, Ask::Probe).is_none() {
                    continue;
                }
                for d in lowest..=256 {
                    requests += 1;
                    for id in self.answer(&node, Ask::One(d)).unwrap() {
                        if known.insert(id) {
                            todo.push(id);
                        }
                    }
                }
            }
            (known, requests)
        }
    }

    /// Runs the walk against `model` from `bootstrap` (answers after 1 ms; a dead node's
    /// requests time out after the walk's timeout) until the round ends; returns every
    /// request sent, in order.
    fn run(walk: &mut Walk, model: &Model, bootstrap: NodeId, mut now: Instant) -> Vec<Request> {
        walk.learn(model.records[&bootstrap].clone());
        let mut sent = Vec::new();
        for _ in 0..100_000 {
            let batch = walk.next_requests(0, now);
            if batch.is_empty() {
                match walk.check_round(true, now) {
                    Round::Open => {
                        now = walk.next_wakeup().expect("something to wait for");
                        continue;
                    }
                    _ => return sent,
                }
            }
            for r in batch {
                sent.push(r);
                match model.answer(&r.node, r.ask) {
                    Some(found) => {
                        now += MS;
                        walk.answered(r, &found, now);
                        for id in found {
                            walk.learn(model.records[&id].clone());
                        }
                    }
                    None => {
                        now += walk.timeout();
                        walk.failed(r, true, now);
                    }
                }
            }
        }
        panic!("the walk did not end");
    }

    /// Answers every request the walk asks for (probes of `failing` nodes fail instead)
    /// until it has nothing to send; every distance is empty. Returns the requests sent.
    fn drive(walk: &mut Walk, failing: &[NodeId], now: Instant) -> Vec<Request> {
        let mut sent = Vec::new();
        for _ in 0..10_000 {
            let batch = walk.next_requests(0, now);
            if batch.is_empty() {
                return sent;
            }
            for r in batch {
                sent.push(r);
                if r.is_probe() && failing.contains(&r.node) {
                    walk.failed(r, true, now);
                } else {
                    walk.answered(r, &[], now);
                }
            }
        }
        panic!("the walk did not drain");
    }

    #[test]
    fn distance_sets_and_log2_distances() {
        let mut set = Distances::range(240, 256);
        assert_eq!(set.len(), 17);
        set.remove(250);
        assert!(!set.contains(250) && set.contains(256) && set.contains(240));
        assert!(!set.contains(0) && !set.contains(257));
        assert_eq!(set.iter().next(), Some(256));
        assert_eq!(set.iter().last(), Some(240));
        set.insert(1);
        assert_eq!(set.iter().last(), Some(1));
        assert!(Distances::range(5, 4).is_empty());

        let a = [0u8; 32];
        let mut b = [0u8; 32];
        assert_eq!(log2_distance(&a, &b), None);
        b[31] = 1;
        assert_eq!(log2_distance(&a, &b), Some(1));
        b[0] = 0x80;
        assert_eq!(log2_distance(&a, &b), Some(256));
        b[0] = 0x01;
        assert_eq!(log2_distance(&a, &b), Some(249));
        // The same distance discv5 computes.
        let (x, y) = (record(None).node_id(), record(None).node_id());
        assert_eq!(
            log2_distance(&x.raw(), &y.raw()).map(u64::from),
            discv5::Key::from(x).log2_distance(&discv5::Key::from(y))
        );
    }

    #[test]
    fn the_scan_stops_after_two_empty_distances_and_checks_the_rest_at_once() {
        let mut model = Model::new(7);
        let node = model.add(record(Some(9000)));
        // Table entries at 256 and 255 only.
        let mut far = Vec::new();
        while far.len() < 2 {
            let enr = record(Some(9001));
            let d = log2_distance(&node, &enr.node_id().raw()).unwrap();
            if (d == 256 && far.is_empty()) || (d == 255 && far.len() == 1) {
                far.push(model.add(enr));
            }
        }
        model.link(node, far[0]);
        model.link(node, far[1]);
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 64, 17));
        let sent = run(&mut walk, &model, node, Instant::now());
        let asked: Vec<Ask> = sent
            .iter()
            .filter(|r| r.node == node)
            .map(|r| r.ask)
            .collect();
        // The probe, four distances at once, then the rest (252..=240) in one request.
        assert_eq!(
            asked,
            vec![
                Ask::Probe,
                Ask::One(256),
                Ask::One(255),
                Ask::One(254),
                Ask::One(253),
                Ask::Rest(Distances::range(240, 252)),
            ]
        );
        assert_eq!(walk.known(), 3);
        assert_eq!(walk.queried(), 3);
        assert_eq!(walk.unresponsive(), 0);
    }

    #[test]
    fn a_rest_check_that_finds_records_asks_their_buckets_alone() {
        let mut model = Model::new(7);
        let node = model.add(record(Some(9000)));
        // Nothing far; three nodes close by (distance 246 or less).
        let near: Vec<NodeId> = (0..3)
            .map(|i| model.add(record_near(&node, 10, 9001 + i)))
            .collect();
        for id in &near {
            model.link(node, *id);
        }
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 64, 17));
        let sent = run(&mut walk, &model, node, Instant::now());
        let asked: Vec<Ask> = sent
            .iter()
            .filter(|r| r.node == node)
            .map(|r| r.ask)
            .collect();
        assert_eq!(
            asked[..5],
            [
                Ask::Probe,
                Ask::One(256),
                Ask::One(255),
                Ask::One(254),
                Ask::One(253)
            ]
        );
        assert_eq!(asked[5], Ask::Rest(Distances::range(240, 252)));
        // Every bucket the check revealed was asked alone, then the rest checked again.
        let buckets: BTreeSet<u16> = near
            .iter()
            .map(|id| log2_distance(&node, id).unwrap())
            .collect();
        for d in &buckets {
            assert!(
                asked.contains(&Ask::One(*d)),
                "{d} not asked alone: {asked:?}"
            );
        }
        let Some(Ask::Rest(last)) = asked.iter().rev().find(|a| matches!(a, Ask::Rest(_))) else {
            unreachable!()
        };
        let mut expected = Distances::range(240, 252);
        for d in &buckets {
            expected.remove(*d);
        }
        assert_eq!(*last, expected);
        assert_eq!(walk.known(), 4);
    }

    /// Random tables, a cluster of close ids, full buckets cut to one packet, dead nodes:
    /// the adaptive walk learns exactly what asking every distance alone learns, with
    /// fewer requests.
    #[test]
    fn adaptive_stopping_learns_what_every_distance_would() {
        let mut rng = StdRng::seed_from_u64(3);
        for (n, degree, cluster, dead, per_answer) in [
            (150, 6, 0, 0, 7),
            (150, 30, 0, 0, 3),
            (120, 4, 24, 0, 7),
            (120, 6, 0, 5, 7),
            (100, 10, 16, 4, 2),
        ] {
            let mut model = Model::new(per_answer);
            let mut ids: Vec<NodeId> = (0..n)
                .map(|i| model.add(record(Some(10_000 + i as u16))))
                .collect();
            // A cluster: nodes sharing their first 10 bits with one node, known only to
            // each other (a ring) and reachable through one far node.
            let anchor = ids[0];
            let cluster_ids: Vec<NodeId> = (0..cluster)
                .map(|i| model.add(record_near(&anchor, 10, 20_000 + i as u16)))
                .collect();
            for w in cluster_ids.windows(2) {
                model.link(w[0], w[1]);
            }
            if let Some(first) = cluster_ids.first() {
                model.link(ids[1], *first);
                model.link(anchor, *first);
            }
            for i in 0..n {
                model.link(ids[i], ids[(i + 1) % n]);
                for _ in 0..degree {
                    let j = rng.gen_range(0..n);
                    model.link(ids[i], ids[j]);
                }
            }
            for i in 0..dead {
                let id = model.add(record(Some(30_000 + i as u16)));
                model.dead.insert(id);
                for _ in 0..3 {
                    let j = rng.gen_range(0..n);
                    model.link(ids[j], id);
                }
            }
            ids.extend(cluster_ids);
            let (expected, full_requests) = model.full_walk(ids[0], 240);
            let mut walk = Walk::new(config(CrawlMode::Oneshot, 64, 17));
            let sent = run(&mut walk, &model, ids[0], Instant::now());
            let learned: BTreeSet<NodeId> = walk.records().keys().copied().collect();
            assert_eq!(
                learned.len(),
                expected.len(),
                "n {n}, degree {degree}, cluster {cluster}, dead {dead}"
            );
            assert_eq!(learned, expected);
            // Every dead node found (a full bucket may hide one from both walks) is
            // unresponsive.
            let dead_found = model
                .dead
                .iter()
                .filter(|id| expected.contains(*id))
                .count();
            assert_eq!(walk.unresponsive(), dead_found as u64);
            eprintln!(
                "n {n}, degree {degree}, cluster {cluster}, dead {dead}, per answer {per_answer}: \
                 {} nodes, {} requests ({full_requests} asking every distance alone)",
                learned.len(),
                sent.len()
            );
            assert!(
                sent.len() * 10 < full_requests * 7,
                "{} requests, {full_requests} asking every distance",
                sent.len()
            );
        }
    }

    #[test]
    fn several_distances_of_a_node_are_in_flight_at_once() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 6, 17));
        let ids = nodes(&mut walk, 3);
        let now = Instant::now();
        let probes = walk.next_requests(0, now);
        assert_eq!(probes.len(), 3);
        walk.answered(probes[0], &[], now);
        // Two probes and a lookup out: three slots left, all the answered node's next
        // distances.
        let next = walk.next_requests(1, now);
        assert_eq!(
            next.iter().map(|r| (r.node, r.ask)).collect::<Vec<_>>(),
            vec![
                (ids[0], Ask::One(256)),
                (ids[0], Ask::One(255)),
                (ids[0], Ask::One(254)),
            ]
        );
        // One more is ready: PER_NODE at once.
        let more = walk.next_requests(0, now);
        assert_eq!(more.len(), 1);
        assert_eq!(more[0].ask, Ask::One(253));
        // No more of that node until one of its answers is in.
        assert!(walk.next_requests(0, now).is_empty());
        walk.answered(next[0], &[ids[1]], now);
        let after = walk.next_requests(0, now);
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].ask, Ask::One(252));
    }

    #[test]
    fn concurrency_limit_is_respected() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 3, 17));
        nodes(&mut walk, 10);
        let now = Instant::now();
        let first = walk.next_requests(0, now);
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(Request::is_probe));
        assert!(walk.next_requests(3, now).is_empty());
        // Lookups in flight count against the limit too.
        assert!(walk.next_requests(5, now).is_empty());
        walk.answered(first[0], &[], now);
        // One slot free: the answered node's next distance goes before new probes.
        let next = walk.next_requests(0, now);
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].node, first[0].node);
        assert_eq!(next[0].ask, Ask::One(256));
        assert_eq!(walk.queued(), 7);
    }

    #[test]
    fn the_timeout_adapts_to_round_trips_within_floor_and_cap() {
        let mut rtt = Rtt::new(SECOND);
        // Too few samples: the cap.
        for _ in 0..MIN_SAMPLES - 1 {
            rtt.observe(2 * MS);
        }
        assert_eq!(rtt.timeout(), SECOND);
        // Fast answers: the floor.
        rtt.observe(2 * MS);
        assert_eq!(rtt.timeout(), TIMEOUT_FLOOR);
        // Slower ones: 3 × the 99th percentile.
        for _ in 0..RTT_WINDOW {
            rtt.observe(80 * MS);
        }
        assert_eq!(rtt.timeout(), 240 * MS);
        // One slow answer in a hundred sets the percentile.
        for i in 0..RTT_WINDOW {
            rtt.observe(if i % 100 == 0 { 150 * MS } else { 10 * MS });
        }
        assert_eq!(rtt.timeout(), 450 * MS);
        // Never above the cap.
        for _ in 0..RTT_WINDOW {
            rtt.observe(700 * MS);
        }
        assert_eq!(rtt.timeout(), SECOND);
        // The window slides back.
        for _ in 0..RTT_WINDOW {
            rtt.observe(MS);
        }
        assert_eq!(rtt.timeout(), TIMEOUT_FLOOR);
        // A cap under the floor wins.
        let mut small = Rtt::new(50 * MS);
        for _ in 0..MIN_SAMPLES {
            small.observe(MS);
        }
        assert_eq!(small.timeout(), 50 * MS);
    }

    #[test]
    fn the_walk_times_requests_out_as_its_answers_say() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 64, 17));
        nodes(&mut walk, 40);
        let now = Instant::now();
        assert_eq!(walk.timeout(), SECOND);
        for r in walk.next_requests(0, now) {
            walk.answered(r, &[], now);
        }
        assert_eq!(walk.timeout(), TIMEOUT_FLOOR);
    }

    #[test]
    fn a_timed_out_request_is_retried_at_once_ahead_of_other_work() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 8, 2));
        let ids = nodes(&mut walk, 3);
        let now = Instant::now();
        let probes = walk.next_requests(0, now);
        walk.answered(probes[0], &[], now);
        let distances = walk.next_requests(2, now);
        assert_eq!(distances.len(), 2);
        assert_eq!(walk.failed(distances[0], true, now), Failure::Retry);
        // The retry goes first, even before the node's other requests.
        walk.answered(distances[1], &[], now);
        // Two probes and five lookups out: one slot.
        let next = walk.next_requests(5, now);
        assert_eq!(
            next,
            vec![Request {
                node: ids[0],
                ask: Ask::One(256),
                attempt: 2
            }]
        );
        assert_eq!(walk.failed(next[0], false, now), Failure::GaveUp);
        assert_eq!(walk.timeouts(), 1);
        // Walked (a distance given up does not make the node unresponsive).
        assert_eq!(walk.queried(), 1);
        assert_eq!(walk.unresponsive(), 0);
    }

    /// A node that never answers costs its two tries, each one adapted timeout, and the
    /// round does not wait for its second chance.
    #[test]
    fn a_dead_node_costs_its_tries_and_does_not_hold_the_round() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 8, 1));
        let ids = nodes(&mut walk, 30);
        let dead = ids[29];
        let t0 = Instant::now();
        // The live nodes answer fast: the timeout adapts down to the floor.
        let mut now = t0;
        drive(&mut walk, &[dead], now);
        assert_eq!(walk.timeout(), TIMEOUT_FLOOR);
        assert_eq!(walk.timeouts(), 2);
        // All live work done; the dead node waits for a second chance that is not due.
        now += 2 * walk.timeout();
        assert_eq!(walk.remaining(), 1);
        assert_eq!(walk.check_round(true, now), Round::Finished);
        assert_eq!(walk.unresponsive(), 1);
        assert_eq!(walk.queried(), 30);
        assert_eq!(walk.tail(), Some(2 * TIMEOUT_FLOOR));
        assert_eq!(walk.next_wakeup(), None);
    }

    #[test]
    fn a_straggler_gets_its_second_chance_while_the_walk_runs() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 2, 1));
        let ids = nodes(&mut walk, 3);
        let slow = ids[1];
        let now = Instant::now();
        // First pass: the slow node's probe fails both tries; the others answer.
        let sent = drive(&mut walk, &[slow], now);
        let slow_probes: Vec<u8> = sent
            .iter()
            .filter(|r| r.node == slow)
            .map(|r| r.attempt)
            .collect();
        assert_eq!(slow_probes, vec![1, 2]);
        assert_eq!(walk.queried(), 2);
        assert_eq!(walk.remaining(), 1);
        let due = now + SECOND;
        assert_eq!(walk.next_wakeup(), Some(due));
        // The walk goes on: a node learned meanwhile.
        walk.learn(record(Some(9100)));
        assert_eq!(walk.check_round(true, now), Round::Open);
        // Not before it is due.
        let before = walk.next_requests(0, due - MS);
        assert_eq!(before.len(), 1);
        assert_ne!(before[0].node, slow);
        walk.answered(before[0], &[], due - MS);
        // Due, with a node still being walked: probed again, and walked.
        let second = walk.next_requests(0, due);
        assert!(
            second.contains(&Request {
                node: slow,
                ask: Ask::Probe,
                attempt: 1
            }),
            "{second:?}"
        );
        for r in second {
            walk.answered(r, &[], due);
        }
        drive(&mut walk, &[], due);
        assert_eq!(walk.queried(), 4);
        assert_eq!(walk.unresponsive(), 0);
        assert_eq!(walk.check_round(true, due), Round::Finished);
    }

    #[test]
    fn second_chance_is_given_only_once() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 2, 1));
        let dead = nodes(&mut walk, 1)[0];
        let now = Instant::now();
        drive(&mut walk, &[dead], now);
        let due = now + SECOND;
        // Another node to walk: the second chance is given beside it.
        walk.learn(record(Some(9100)));
        let sent = drive(&mut walk, &[dead], due);
        let tries = sent.iter().filter(|r| r.node == dead).count();
        assert_eq!(tries, 2, "two tries on the second chance: {sent:?}");
        assert_eq!(walk.queried(), 2);
        assert_eq!(walk.unresponsive(), 1);
        // No third chance: the round completes.
        assert_eq!(walk.next_wakeup(), None);
        assert_eq!(walk.check_round(true, due), Round::Finished);
    }

    /// Until some node has answered, a straggler's second chance is waited for: a slow
    /// bootstrap node is not given up after its first tries.
    #[test]
    fn before_any_answer_the_round_waits_for_second_chances() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 8, 1));
        let bootstrap = nodes(&mut walk, 1)[0];
        let t0 = Instant::now();
        drive(&mut walk, &[bootstrap], t0);
        assert_eq!(walk.check_round(true, t0), Round::Open);
        let due = t0 + SECOND;
        assert_eq!(walk.next_wakeup(), Some(due));
        assert!(walk.next_requests(0, due - MS).is_empty());
        let second = walk.next_requests(0, due);
        assert_eq!(second.len(), 1);
        walk.answered(second[0], &[], due);
        drive(&mut walk, &[], due);
        assert_eq!((walk.queried(), walk.unresponsive()), (1, 0));
        assert_eq!(walk.check_round(true, due), Round::Finished);
    }

    /// Requests in flight time out at the timeout adapted now, also those sent before
    /// the round trips were known; the retry goes out at once.
    #[test]
    fn requests_in_flight_expire_at_the_adapted_timeout() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 64, 1));
        let ids = nodes(&mut walk, 20);
        let t0 = Instant::now();
        let probes = walk.next_requests(0, t0);
        assert_eq!(probes.len(), 20);
        assert_eq!(walk.in_flight(), 20);
        // Nothing known yet: the cap.
        assert_eq!(walk.next_wakeup(), Some(t0 + SECOND));
        // 19 answer within 5 ms; the timeout adapts to the floor, for the 20th too.
        for r in probes.iter().filter(|r| r.node != ids[19]) {
            walk.answered(*r, &[], t0 + 5 * MS);
        }
        assert_eq!(walk.timeout(), TIMEOUT_FLOOR);
        // The distances asked after the probes are out too (sent at 5 ms).
        let distances = walk.next_requests(0, t0 + 5 * MS);
        assert_eq!(distances.len(), 19);
        assert_eq!(walk.next_wakeup(), Some(t0 + TIMEOUT_FLOOR));
        assert!(walk.expire(t0 + TIMEOUT_FLOOR - MS).is_empty());
        let probe = Request {
            node: ids[19],
            ask: Ask::Probe,
            attempt: 1,
        };
        assert_eq!(
            walk.expire(t0 + TIMEOUT_FLOOR),
            vec![(probe, Failure::Retry)]
        );
        assert_eq!(walk.timeouts(), 1);
        // The retry goes out first.
        let retry = walk.next_requests(0, t0 + TIMEOUT_FLOOR);
        assert_eq!(
            retry[0],
            Request {
                attempt: 2,
                ..probe
            }
        );
        // Next: the distances, sent at 5 ms, then the retry.
        assert_eq!(walk.next_wakeup(), Some(t0 + 5 * MS + TIMEOUT_FLOOR));
        for r in distances {
            walk.answered(r, &[], t0 + 6 * MS);
        }
        assert_eq!(walk.next_wakeup(), Some(t0 + 2 * TIMEOUT_FLOOR));
        let expired = walk.expire(t0 + 2 * TIMEOUT_FLOOR);
        assert_eq!(expired, vec![(retry[0], Failure::Straggler)]);
        assert_eq!(walk.in_flight(), 0);
        assert_eq!(walk.timeouts(), 2);
        // A failure of a request that timed out already changes nothing.
        assert_eq!(walk.failed(probe, true, t0 + SECOND), Failure::Ignored);
        assert_eq!(walk.timeouts(), 2);
    }

    /// An answer after the timeout still counts: its round trip raises the timeout, and a
    /// late probe answer walks its node (a stall, not a dead node), even once it was a
    /// straggler or unresponsive.
    #[test]
    fn late_answers_count() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 64, 1));
        let ids = nodes(&mut walk, 20);
        let t0 = Instant::now();
        let probes = walk.next_requests(0, t0);
        for r in probes.iter().filter(|r| r.node != ids[19]) {
            walk.answered(*r, &[], t0 + MS);
        }
        assert_eq!(walk.timeout(), TIMEOUT_FLOOR);
        let probe = Request {
            node: ids[19],
            ask: Ask::Probe,
            attempt: 1,
        };
        walk.expire(t0 + TIMEOUT_FLOOR);
        let retry = walk.next_requests(0, t0 + TIMEOUT_FLOOR);
        assert!(retry.contains(&Request {
            attempt: 2,
            ..probe
        }));
        // The first try is answered at 150 ms after all: walked, and the timeout grows.
        walk.answered(probe, &[], t0 + 150 * MS);
        assert_eq!(walk.timeout(), 450 * MS);
        let next = walk.next_requests(0, t0 + 150 * MS);
        assert!(next
            .iter()
            .any(|r| r.node == ids[19] && r.ask == Ask::One(256)));
        // Its retry no longer matters.
        assert_eq!(
            walk.failed(
                Request {
                    attempt: 2,
                    ..probe
                },
                true,
                t0 + 200 * MS
            ),
            Failure::Ignored
        );

        // A straggler answering late is walked too.
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 64, 1));
        let ids = nodes(&mut walk, 2);
        let probes = walk.next_requests(0, t0);
        walk.answered(probes[0], &[], t0);
        drive(&mut walk, &[], t0);
        let slow = probes[1];
        walk.expire(t0 + SECOND);
        let retry = walk.next_requests(0, t0 + SECOND)[0];
        assert_eq!(walk.failed(retry, true, t0 + SECOND), Failure::Straggler);
        assert_eq!(walk.remaining(), 1);
        walk.answered(slow, &[], t0 + SECOND + MS);
        assert_eq!(walk.next_wakeup(), None, "no second chance needed");
        drive(&mut walk, &[], t0 + SECOND);
        assert_eq!((walk.queried(), walk.unresponsive()), (2, 0));
        assert_eq!(walk.check_round(true, t0 + SECOND), Round::Finished);
        assert!(ids.contains(&slow.node));
    }

    #[test]
    fn records_found_on_the_way_are_walked_in_the_same_round() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 2, 1));
        let first = nodes(&mut walk, 1)[0];
        let later = record(Some(9100));
        let later_id = later.node_id().raw();
        let now = Instant::now();
        let probe = walk.next_requests(0, now);
        assert_eq!(probe.len(), 1);
        walk.answered(probe[0], &[first], now);
        // The answer at distance 256 brings a new node.
        let distance = walk.next_requests(0, now);
        assert_eq!(distance[0].ask, Ask::One(256));
        assert_eq!(walk.learn(later.clone()), Learned::New);
        assert_eq!(walk.learn(later), Learned::Stale);
        walk.answered(distance[0], &[later_id], now);
        let sent = drive(&mut walk, &[], now);
        assert!(sent.iter().any(|r| r.node == later_id && r.is_probe()));
        assert!(!sent.iter().any(|r| r.node == first));
        assert_eq!(walk.queried(), 2);
        assert_eq!(walk.check_round(true, now), Round::Finished);
    }

    #[test]
    fn not_complete_while_requests_are_out_or_oneshot_dials_run() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 4, 3));
        nodes(&mut walk, 5);
        let now = Instant::now();
        assert_eq!(walk.check_round(true, now), Round::Open);
        drive(&mut walk, &[], now);
        assert_eq!(walk.queried(), 5);
        assert_eq!(walk.remaining(), 0);
        // A node found late: open while its probe is out.
        walk.learn(record(Some(9100)));
        let probe = walk.next_requests(0, now);
        assert_eq!(walk.check_round(true, now), Round::Open);
        walk.answered(probe[0], &[], now);
        drive(&mut walk, &[], now);
        assert_eq!(walk.check_round(false, now), Round::Open);
        assert_eq!(walk.check_round(true, now), Round::Finished);
        assert_eq!(walk.rounds(), 1);
    }

    #[test]
    fn a_node_without_udp_is_unresponsive_without_a_request() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 4, 1));
        walk.learn(record(None));
        let now = Instant::now();
        assert!(walk.next_requests(0, now).is_empty());
        assert_eq!((walk.queried(), walk.unresponsive()), (1, 1));
        assert_eq!(walk.check_round(true, now), Round::Finished);
    }

    #[test]
    fn continuous_rounds_wait_for_the_recrawl_interval() {
        let mut walk = Walk::new(config(CrawlMode::Continuous, 4, 1));
        let ids = nodes(&mut walk, 3);
        let t0 = Instant::now();
        drive(&mut walk, &[ids[0]], t0);
        // CONTINUOUS does not wait for the dials, nor for a second chance not yet due.
        assert_eq!(walk.check_round(false, t0), Round::Done);
        assert_eq!(walk.rounds(), 1);
        assert_eq!(walk.unresponsive(), 1);
        assert_eq!(walk.next_round(), Some(t0 + Duration::from_secs(60)));
        // Between rounds: nothing to do, not counted again.
        assert_eq!(walk.check_round(false, t0 + SECOND), Round::Open);
        assert!(!walk.start_round_if_due(t0 + Duration::from_secs(59)));
        // A node found between rounds is walked at once.
        let late = record(Some(9200));
        walk.learn(late);
        assert_eq!(walk.next_requests(0, t0).len(), 1);

        assert!(walk.start_round_if_due(t0 + Duration::from_secs(60)));
        assert_eq!(walk.next_round(), None);
        assert_eq!((walk.queried(), walk.unresponsive()), (0, 0));
        assert_eq!(walk.queued(), 4);
        // Every known node is probed again, in id order; the once-unresponsive node gets
        // a new second chance.
        let mut sorted = walk.records().keys().copied().collect::<Vec<_>>();
        sorted.sort_unstable();
        let t1 = t0 + Duration::from_secs(61);
        // (The late node's probe is still out.)
        let probes = walk.next_requests(0, t1);
        let probed: Vec<NodeId> = probes.iter().map(|r| r.node).collect();
        assert_eq!(probed, sorted[..3].to_vec());
        for r in probes {
            if r.node == ids[0] {
                walk.failed(r, true, t1);
            } else {
                walk.answered(r, &[], t1);
            }
        }
        drive(&mut walk, &[ids[0]], t1);
        assert_eq!(walk.next_wakeup(), Some(t1 + SECOND));
        // Due, but no other node is being walked or waits: no second chance, and the round
        // is complete without it.
        assert!(walk.next_requests(0, t1 + SECOND).is_empty());
        assert_eq!(walk.check_round(false, t1 + SECOND), Round::Done);
        assert_eq!(walk.unresponsive(), 1);
    }

    #[test]
    fn newer_records_replace_older_ones() {
        let key = CombinedKey::generate_secp256k1();
        let mut enr = record_with_key(&key, Some(9000));
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 4, 1));
        assert_eq!(walk.learn(enr.clone()), Learned::New);
        assert_eq!(walk.learn(enr.clone()), Learned::Stale);
        enr.set_udp4(9001, &key).unwrap();
        assert_eq!(walk.learn(enr.clone()), Learned::Newer);
        assert_eq!(walk.known(), 1);
        assert_eq!(
            walk.queued(),
            1,
            "a newer record does not queue its node again"
        );
        assert_eq!(
            walk.record(&enr.node_id().raw()).unwrap().udp4(),
            Some(9001)
        );
    }
}
