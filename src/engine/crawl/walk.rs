//! The walk of one crawl as pure state: the nodes it knows, the queue of nodes to walk this
//! round, the FINDNODE requests ready to send, what an answer or a failure changes, and
//! when a round is complete. It sends nothing and waits on nothing: the crawl loop asks it
//! which requests to send ([`Walk::next_requests`]), tells it how each ended
//! ([`Walk::answered`], [`Walk::failed`]), and passes the time in where rounds are timed
//! ([`Walk::check_round`], [`Walk::start_round_if_due`]).
//!
//! **A node's walk.** A probe first, FINDNODE at distance 0, which returns the node's own
//! current record (so ENR updates are seen every round). A node that answers it is then
//! asked one distance at a time, from 256 down (`find_node_distances` of them); a node
//! with no UDP endpoint counts as walked and unresponsive at once. Every request is tried
//! [`ATTEMPTS`] times. A probe that fails every attempt makes the node a straggler: it is
//! probed once more when the round's queue drains (loss under load is common: UDP
//! buffers, busy peers), and if that fails too it is unresponsive for the round.
//!
//! **Rounds.** A round is complete when nothing is queued, ready or in flight, no
//! straggler waits, and (ONESHOT) the dials are done too. ONESHOT then finishes;
//! CONTINUOUS starts the next round `recrawl_interval` later, requeueing every known node.
//! Nodes learned between rounds are walked as they come.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::model::{CrawlMode, NodeId};
use crate::protocol::enr::Enr;

/// Attempts per FINDNODE request (discv5 itself also retransmits once per attempt).
pub(super) const ATTEMPTS: u8 = 2;

/// FINDNODE distance 0 asks a node for its own record.
pub(super) const PROBE: u64 = 0;

/// What the walk needs of a crawl's settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct WalkConfig {
    /// Requests in flight at most (the crawl's random lookups count too).
    pub concurrency: usize,
    /// Distances asked of each node after its probe (256 down).
    pub distances: u32,
    pub mode: CrawlMode,
    /// CONTINUOUS: pause between the end of a round and the next.
    pub recrawl_interval: Duration,
}

/// One FINDNODE request: a node, one distance, which attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Request {
    pub node: NodeId,
    pub distance: u64,
    pub attempt: u8,
}

impl Request {
    /// The request for the node's own record.
    pub fn is_probe(&self) -> bool {
        self.distance == PROBE
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
    /// Queued again (attempts left).
    Retry,
    /// The probe failed: the node is probed once more when the queue drains.
    Straggler,
    /// The probe failed on its second chance too: the node is unresponsive this round.
    Unresponsive,
    /// A distance failed every attempt: given up, the node's walk goes on.
    GaveUp,
}

/// Where the round stands, as [`Walk::check_round`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Round {
    /// Work is queued or in flight, or (CONTINUOUS) the next round is not due yet.
    Open,
    /// The queue drained and the stragglers were queued for their second chance: send
    /// requests.
    Requeued,
    /// CONTINUOUS: the round is complete; the next starts at [`Walk::next_round`].
    Done,
    /// ONESHOT: the round is complete and so is the crawl.
    Finished,
}

/// The walk state of one crawl.
pub(super) struct Walk {
    config: WalkConfig,
    /// Every node the crawl knows, with its newest record.
    known: HashMap<NodeId, Enr>,
    /// Nodes waiting to be walked this round.
    queue: VecDeque<NodeId>,
    /// Nodes queued or walked this round.
    scheduled: HashSet<NodeId>,
    /// Requests ready to send (later distances of nodes being walked, retries).
    ready: VecDeque<Request>,
    /// Nodes being walked, with their requests not yet finished (answered or given up).
    walking: HashMap<NodeId, u32>,
    /// Nodes whose probe failed, to be probed once more when the round's queue drains.
    stragglers: Vec<NodeId>,
    /// Nodes given their second chance this round.
    second_chance: HashSet<NodeId>,
    /// Nodes walked this round, and how many of them did not answer.
    queried: u64,
    unresponsive: u64,
    /// Rounds completed.
    rounds: u64,
    /// CONTINUOUS: when the next round starts.
    next_round: Option<Instant>,
}

impl Walk {
    pub fn new(config: WalkConfig) -> Walk {
        Walk {
            config,
            known: HashMap::new(),
            queue: VecDeque::new(),
            scheduled: HashSet::new(),
            ready: VecDeque::new(),
            walking: HashMap::new(),
            stragglers: Vec::new(),
            second_chance: HashSet::new(),
            queried: 0,
            unresponsive: 0,
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

    /// Rounds completed.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// Nodes whose walk this round is not done: queued, being walked, or stragglers.
    pub fn remaining(&self) -> u64 {
        (self.queue.len() + self.walking.len() + self.stragglers.len()) as u64
    }

    /// CONTINUOUS: when the next round starts, once the current one is complete.
    pub fn next_round(&self) -> Option<Instant> {
        self.next_round
    }

    /// The requests to send now, with `in_flight` requests (and lookups) already out: the
    /// remaining distances and retries of nodes being walked first, then probes of queued
    /// nodes, up to the concurrency limit.
    pub fn next_requests(&mut self, in_flight: usize) -> Vec<Request> {
        let mut out = Vec::new();
        while in_flight + out.len() < self.config.concurrency {
            if let Some(request) = self.ready.pop_front() {
                out.push(request);
                continue;
            }
            let Some(node) = self.queue.pop_front() else {
                break;
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
            self.walking.insert(node, self.config.distances + 1);
            out.push(Request {
                node,
                distance: PROBE,
                attempt: 1,
            });
        }
        out
    }

    /// A request was answered. An answered probe readies the node's distances.
    pub fn answered(&mut self, request: Request) {
        if request.is_probe() {
            let lowest = 257 - u64::from(self.config.distances);
            for distance in (lowest..=256).rev() {
                self.ready.push_back(Request {
                    node: request.node,
                    distance,
                    attempt: 1,
                });
            }
        }
        self.finish(request.node);
    }

    /// A request failed (no answer, or an error).
    pub fn failed(&mut self, request: Request) -> Failure {
        if request.attempt < ATTEMPTS {
            self.ready.push_back(Request {
                attempt: request.attempt + 1,
                ..request
            });
            Failure::Retry
        } else if request.is_probe() {
            self.walking.remove(&request.node);
            if self.second_chance.insert(request.node) {
                self.stragglers.push(request.node);
                Failure::Straggler
            } else {
                self.queried += 1;
                self.unresponsive += 1;
                Failure::Unresponsive
            }
        } else {
            self.finish(request.node);
            Failure::GaveUp
        }
    }

    /// One request of a node's walk is done (answered, or given up after retries).
    fn finish(&mut self, node: NodeId) {
        if let Some(remaining) = self.walking.get_mut(&node) {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.walking.remove(&node);
                self.queried += 1;
            }
        }
    }

    /// Where the round stands with `in_flight` requests and lookups out, `dials_idle`
    /// telling whether the crawl's dials are done, at `now`. When nothing is left to ask
    /// but stragglers, they are queued for their second chance. A complete round is
    /// counted; CONTINUOUS then waits `recrawl_interval` for the next.
    pub fn check_round(&mut self, in_flight: usize, dials_idle: bool, now: Instant) -> Round {
        let drained = in_flight == 0 && self.ready.is_empty() && self.queue.is_empty();
        if !drained {
            return Round::Open;
        }
        if !self.stragglers.is_empty() {
            self.queue.extend(self.stragglers.drain(..));
            return Round::Requeued;
        }
        let oneshot = self.config.mode == CrawlMode::Oneshot;
        if self.next_round.is_some() || (oneshot && !dials_idle) {
            return Round::Open;
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
    use std::net::Ipv4Addr;

    use enr::CombinedKey;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn config(mode: CrawlMode, concurrency: usize, distances: u32) -> WalkConfig {
        WalkConfig {
            concurrency,
            distances,
            mode,
            recrawl_interval: Duration::from_secs(60),
        }
    }

    /// A record with a loopback UDP endpoint (`udp`), or none.
    fn record(udp: Option<u16>) -> Enr {
        let key = CombinedKey::generate_secp256k1();
        let mut b = Enr::builder();
        if let Some(port) = udp {
            b.ip4(Ipv4Addr::LOCALHOST).udp4(port);
        }
        b.build(&key).unwrap()
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

    /// Answers every request the walk asks for (the first `fail` probes of `failing` fail
    /// instead) until it has nothing to send; returns the requests sent.
    fn drive(walk: &mut Walk, failing: &[NodeId]) -> Vec<Request> {
        let mut sent = Vec::new();
        for _ in 0..10_000 {
            let batch = walk.next_requests(0);
            if batch.is_empty() {
                return sent;
            }
            for r in batch {
                sent.push(r);
                if r.is_probe() && failing.contains(&r.node) {
                    walk.failed(r);
                } else {
                    walk.answered(r);
                }
            }
        }
        panic!("the walk did not drain");
    }

    #[test]
    fn walk_completes_after_every_node_and_distance() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 4, 3));
        let ids = nodes(&mut walk, 5);
        let now = Instant::now();
        assert_eq!(walk.check_round(0, true, now), Round::Open);
        let sent = drive(&mut walk, &[]);
        // A probe and 3 distances (256, 255, 254) per node.
        assert_eq!(sent.len(), 5 * 4);
        for id in &ids {
            let mut asked: Vec<u64> = sent
                .iter()
                .filter(|r| r.node == *id)
                .map(|r| r.distance)
                .collect();
            asked.sort_unstable();
            assert_eq!(asked, vec![0, 254, 255, 256]);
        }
        assert_eq!(walk.queried(), 5);
        assert_eq!(walk.unresponsive(), 0);
        assert_eq!(walk.remaining(), 0);
        // Not complete while a request (or lookup) is out, nor while ONESHOT dials run.
        assert_eq!(walk.check_round(1, true, now), Round::Open);
        assert_eq!(walk.check_round(0, false, now), Round::Open);
        assert_eq!(walk.check_round(0, true, now), Round::Finished);
        assert_eq!(walk.rounds(), 1);
    }

    #[test]
    fn records_found_on_the_way_are_walked_in_the_same_round() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 2, 1));
        let first = nodes(&mut walk, 1)[0];
        let later = record(Some(9100));
        let later_id = later.node_id().raw();
        let probe = walk.next_requests(0);
        assert_eq!(probe.len(), 1);
        walk.answered(probe[0]);
        // The answer at distance 256 brings a new node.
        let distance = walk.next_requests(0);
        assert_eq!(distance[0].distance, 256);
        assert_eq!(walk.learn(later.clone()), Learned::New);
        assert_eq!(walk.learn(later), Learned::Stale);
        walk.answered(distance[0]);
        let sent = drive(&mut walk, &[]);
        assert!(sent.iter().any(|r| r.node == later_id && r.is_probe()));
        assert!(!sent.iter().any(|r| r.node == first));
        assert_eq!(walk.queried(), 2);
        assert_eq!(walk.check_round(0, true, Instant::now()), Round::Finished);
    }

    #[test]
    fn concurrency_limit_is_respected() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 3, 17));
        nodes(&mut walk, 10);
        let first = walk.next_requests(0);
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(Request::is_probe));
        assert!(walk.next_requests(3).is_empty());
        // Lookups in flight count against the limit too.
        assert!(walk.next_requests(5).is_empty());
        walk.answered(first[0]);
        // One slot free: the answered node's next distance goes before new probes.
        let next = walk.next_requests(2);
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].node, first[0].node);
        assert_eq!(next[0].distance, 256);
        assert_eq!(walk.queued(), 7);
    }

    #[test]
    fn a_failed_request_is_retried_then_given_up() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 8, 2));
        let id = nodes(&mut walk, 1)[0];
        let probe = walk.next_requests(0)[0];
        walk.answered(probe);
        let d256 = walk.next_requests(0);
        assert_eq!(d256.len(), 2);
        assert_eq!(walk.failed(d256[0]), Failure::Retry);
        let retry = walk.next_requests(1);
        assert_eq!(
            retry,
            vec![Request {
                node: id,
                distance: 256,
                attempt: 2
            }]
        );
        assert_eq!(walk.failed(retry[0]), Failure::GaveUp);
        walk.answered(d256[1]);
        // Walked (a distance given up does not make the node unresponsive).
        assert_eq!(walk.queried(), 1);
        assert_eq!(walk.unresponsive(), 0);
    }

    #[test]
    fn a_straggler_is_probed_once_more_when_the_queue_drains() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 2, 1));
        let ids = nodes(&mut walk, 3);
        let slow = ids[1];
        let now = Instant::now();
        // First pass: the slow node's probe fails both attempts; the others answer.
        let sent = drive(&mut walk, &[slow]);
        let slow_probes: Vec<u8> = sent
            .iter()
            .filter(|r| r.node == slow)
            .map(|r| r.attempt)
            .collect();
        assert_eq!(slow_probes, vec![1, 2]);
        assert_eq!(walk.queried(), 2);
        assert_eq!(walk.remaining(), 1);
        // Not while something is in flight: the straggler waits for the queue to drain.
        assert_eq!(walk.check_round(1, true, now), Round::Open);
        assert_eq!(walk.check_round(0, true, now), Round::Requeued);
        // Second chance: it answers now and is walked.
        let sent = drive(&mut walk, &[]);
        assert_eq!(
            sent.iter()
                .filter(|r| r.node == slow && r.is_probe())
                .count(),
            1
        );
        assert_eq!(walk.queried(), 3);
        assert_eq!(walk.unresponsive(), 0);
        assert_eq!(walk.check_round(0, true, now), Round::Finished);
    }

    #[test]
    fn second_chance_is_given_only_once() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 2, 1));
        let dead = nodes(&mut walk, 1)[0];
        let now = Instant::now();
        drive(&mut walk, &[dead]);
        assert_eq!(walk.check_round(0, true, now), Round::Requeued);
        let sent = drive(&mut walk, &[dead]);
        assert_eq!(sent.len(), 2, "two attempts on the second chance: {sent:?}");
        assert_eq!(walk.queried(), 1);
        assert_eq!(walk.unresponsive(), 1);
        // No third chance: the round completes.
        assert_eq!(walk.check_round(0, true, now), Round::Finished);
        assert!(walk.next_requests(0).is_empty());
    }

    #[test]
    fn a_node_without_udp_is_unresponsive_without_a_request() {
        let mut walk = Walk::new(config(CrawlMode::Oneshot, 4, 1));
        walk.learn(record(None));
        assert!(walk.next_requests(0).is_empty());
        assert_eq!((walk.queried(), walk.unresponsive()), (1, 1));
        assert_eq!(walk.check_round(0, true, Instant::now()), Round::Finished);
    }

    #[test]
    fn continuous_rounds_wait_for_the_recrawl_interval() {
        let mut walk = Walk::new(config(CrawlMode::Continuous, 4, 1));
        let ids = nodes(&mut walk, 3);
        let t0 = Instant::now();
        drive(&mut walk, &[ids[0]]);
        assert_eq!(walk.check_round(0, false, t0), Round::Requeued);
        drive(&mut walk, &[ids[0]]);
        // CONTINUOUS does not wait for the dials.
        assert_eq!(walk.check_round(0, false, t0), Round::Done);
        assert_eq!(walk.rounds(), 1);
        assert_eq!(walk.next_round(), Some(t0 + Duration::from_secs(60)));
        // Between rounds: nothing to do, not counted again.
        assert_eq!(walk.check_round(0, false, t0 + SECOND), Round::Open);
        assert!(!walk.start_round_if_due(t0 + Duration::from_secs(59)));
        // A node found between rounds is walked at once.
        let late = record(Some(9200));
        walk.learn(late);
        assert_eq!(walk.next_requests(0).len(), 1);

        assert!(walk.start_round_if_due(t0 + Duration::from_secs(60)));
        assert_eq!(walk.next_round(), None);
        assert_eq!((walk.queried(), walk.unresponsive()), (0, 0));
        assert_eq!(walk.queued(), 4);
        // Every known node is probed again, in id order; the once-unresponsive node gets
        // a new second chance.
        let mut sorted = walk.records().keys().copied().collect::<Vec<_>>();
        sorted.sort_unstable();
        let probes = walk.next_requests(1);
        let probed: Vec<NodeId> = probes.iter().map(|r| r.node).collect();
        assert_eq!(probed, sorted[..3].to_vec());
        for r in probes {
            if r.node == ids[0] {
                walk.failed(r);
            } else {
                walk.answered(r);
            }
        }
        let t1 = t0 + Duration::from_secs(61);
        drive(&mut walk, &[ids[0]]);
        assert_eq!(walk.check_round(1, false, t1), Round::Open);
        assert_eq!(walk.check_round(0, false, t1), Round::Requeued);
    }

    #[test]
    fn newer_records_replace_older_ones() {
        let key = CombinedKey::generate_secp256k1();
        let mut enr = Enr::builder().udp4(9000).build(&key).unwrap();
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
