//! Seed mode's answers to peer-exchange requests, pure (the time and the random source are
//! passed in): who may ask how often, which records an answer holds, and which requests
//! are written to the event log.
//!
//! **Limits.** Every request counts, whatever it asks (one with no query, or for no peers,
//! too): at most one per requester per `requester_interval`, and at most
//! `requests_per_ip` per IP address per interval (a peer id is free to mint; an address is
//! not). A request over either limit gets status 429; a counted request for no peers gets
//! 400. The requesters and addresses remembered are bounded ([`MAX_REQUESTERS`],
//! [`MAX_IPS`]); when they are full of recent ones, new ones get 429 too.
//!
//! **Answers.** An answer holds at most `min(num_peers, 60)` records, drawn at random from
//! the *vetted* peers of the requester's cluster, each weighted by how recently it was
//! vetted (`1 / (1 + minutes since)`). The requester's cluster comes from its metadata;
//! when unknown, the crawl profile's cluster is used (for non-Waku profiles: any cluster).
//! Never the requester itself, and never new, failing, bad or banned peers.
//!
//! **The event log.** Every answer is logged (the limits bound them). Refusals are
//! counted, and logged at most once per IP address (per requester when its address is
//! unknown) per interval: the logged one says how many went unlogged before it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use libp2p::PeerId;
use rand::seq::SliceRandom;
use rand::Rng;
use tokio::time::Instant;

use crate::engine::schedule::AddressBook;
use crate::model::{NodeId, PeerState};
use crate::protocol::enr::Enr;
use crate::protocol::waku::{node_id_of_peer, px_status, PxPeerInfo, PxRpc, PX_MAX_PEERS};

/// Requesters remembered at most (those outside the interval are forgotten first).
pub(super) const MAX_REQUESTERS: usize = 10_000;
/// IP addresses remembered at most, for the per-IP limit and for sampling refusals.
pub(super) const MAX_IPS: usize = 10_000;

/// The age given to a vetted peer with no dial time (one day).
const UNDATED: Duration = Duration::from_secs(86_400);

/// A peer-exchange request as the dialer hands it over.
#[derive(Clone, Debug)]
pub(super) struct PxRequest {
    pub peer: PeerId,
    /// The address the request came from, when the connection tells it.
    pub ip: Option<IpAddr>,
    /// The requester's cluster, when its metadata told us.
    pub cluster: Option<u32>,
    /// `query.num_peers`; `None` when the request had no query.
    pub num_peers: Option<u64>,
}

/// What the answers are drawn from.
pub(super) struct Peers<'a> {
    /// Each peer's dial state.
    pub book: &'a AddressBook,
    /// Each known node's cluster, from its record.
    pub clusters: &'a HashMap<NodeId, Option<u16>>,
    /// Each known node's newest record.
    pub records: &'a HashMap<NodeId, Enr>,
}

/// How a request was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Records sent (possibly none).
    Ok,
    /// The requester asked again too soon (429).
    Refused,
    /// Its IP address asked too often (429).
    RefusedIp,
    /// Too many recent requesters or addresses to tell apart (429).
    Busy,
    /// Asked for no peers (400).
    BadRequest,
}

impl Outcome {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::RefusedIp => "refused_ip",
            Outcome::Busy => "busy",
            Outcome::BadRequest => "bad_request",
        }
    }
}

/// An answer, with what the event log says of it.
#[derive(Clone, Debug)]
pub(super) struct Served {
    pub rpc: PxRpc,
    pub outcome: Outcome,
    /// The requester's node id, when its peer id carries its key.
    pub requester: Option<NodeId>,
    pub detail: String,
    /// Whether to write it to the event log (see the module docs).
    pub log: bool,
}

/// Requests counted against one IP address in the current interval.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: Instant,
    count: u32,
}

/// When a refusal was last logged for a requester or address, and how many were not
/// logged since.
#[derive(Clone, Copy, Debug)]
struct Logged {
    at: Instant,
    unlogged: u64,
}

/// Whom refusals are sampled per: the address, else the requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Origin {
    Ip(IpAddr),
    Peer(PeerId),
}

/// Seed mode's peer-exchange server state.
pub(super) struct PxServer {
    interval: Duration,
    per_ip: u32,
    /// The cluster served to requesters whose own is unknown (the crawl profile's).
    default_cluster: Option<u32>,
    /// When each requester's last counted request came.
    asked: HashMap<PeerId, Instant>,
    /// Requests per IP address in its current interval.
    ips: HashMap<IpAddr, Window>,
    /// Refusal logging per origin.
    logged: HashMap<Origin, Logged>,
}

impl PxServer {
    pub fn new(interval: Duration, per_ip: u32, default_cluster: Option<u32>) -> PxServer {
        PxServer {
            interval,
            per_ip,
            default_cluster,
            asked: HashMap::new(),
            ips: HashMap::new(),
            logged: HashMap::new(),
        }
    }

    /// The answer to `request` at `now`.
    pub fn answer<R: Rng>(
        &mut self,
        request: &PxRequest,
        peers: &Peers<'_>,
        now: Instant,
        rng: &mut R,
    ) -> Served {
        let requester = node_id_of_peer(&request.peer);
        if let Some((outcome, desc)) = self.limit(request, now) {
            let origin = request
                .ip
                .map(Origin::Ip)
                .unwrap_or(Origin::Peer(request.peer));
            let (log, unlogged) = self.sample(origin, now);
            let mut detail = format!("refused: 429 {desc}");
            if unlogged > 0 {
                detail.push_str(&format!(
                    " ({unlogged} refusals from {} not logged before this one)",
                    match origin {
                        Origin::Ip(ip) => ip.to_string(),
                        Origin::Peer(_) => "this requester".to_string(),
                    }
                ));
            }
            return Served {
                rpc: PxRpc::response(Vec::new(), px_status::TOO_MANY_REQUESTS, Some(desc)),
                outcome,
                requester,
                detail,
                log,
            };
        }
        let n = match request.num_peers {
            None | Some(0) => {
                let origin = request
                    .ip
                    .map(Origin::Ip)
                    .unwrap_or(Origin::Peer(request.peer));
                let (log, _) = self.sample(origin, now);
                return Served {
                    rpc: PxRpc::response(
                        Vec::new(),
                        px_status::BAD_REQUEST,
                        Some("the request asks for no peers (query.num_peers > 0 required)".into()),
                    ),
                    outcome: Outcome::BadRequest,
                    requester,
                    detail: "refused: 400 no query".to_string(),
                    log,
                };
            }
            Some(n) => n,
        };
        let cluster = request.cluster.or(self.default_cluster);
        let max = n.min(PX_MAX_PEERS) as usize;
        let infos: Vec<PxPeerInfo> = select(peers, requester, cluster, max, now, rng)
            .iter()
            .filter_map(|id| peers.records.get(id))
            .map(|enr| PxPeerInfo {
                enr: alloy_rlp::encode(enr),
            })
            .collect();
        let detail = format!(
            "answered {} records (asked {n}, cluster {})",
            infos.len(),
            cluster
                .map(|c| c.to_string())
                .unwrap_or_else(|| "any".into())
        );
        Served {
            rpc: PxRpc::response(infos, px_status::OK, None),
            outcome: Outcome::Ok,
            requester,
            detail,
            log: true,
        }
    }

    /// Counts `request` against its requester and its address; `Some` (the outcome and
    /// why) when either limit refuses it. A refused request is not counted.
    fn limit(&mut self, request: &PxRequest, now: Instant) -> Option<(Outcome, String)> {
        let interval = self.interval;
        if let Some(waited) = self
            .asked
            .get(&request.peer)
            .map(|t| now.duration_since(*t))
            .filter(|waited| *waited < interval)
        {
            return Some((
                Outcome::Refused,
                format!(
                    "one request per {}s per requester; asked again after {}s",
                    interval.as_secs(),
                    waited.as_secs()
                ),
            ));
        }
        if let Some(ip) = request.ip {
            let window = self.ips.get(&ip).copied();
            let count = match window {
                Some(w) if now.duration_since(w.start) < interval => w.count,
                _ => 0,
            };
            if count >= self.per_ip {
                return Some((
                    Outcome::RefusedIp,
                    format!(
                        "at most {} requests per {}s from one address",
                        self.per_ip,
                        interval.as_secs()
                    ),
                ));
            }
            if window.is_none() && self.ips.len() >= MAX_IPS {
                self.ips
                    .retain(|_, w| now.duration_since(w.start) < interval);
                if self.ips.len() >= MAX_IPS {
                    return Some((Outcome::Busy, "too many recent requesters".into()));
                }
            }
        }
        if !self.asked.contains_key(&request.peer) && self.asked.len() >= MAX_REQUESTERS {
            self.asked.retain(|_, t| now.duration_since(*t) < interval);
            if self.asked.len() >= MAX_REQUESTERS {
                return Some((Outcome::Busy, "too many recent requesters".into()));
            }
        }
        self.asked.insert(request.peer, now);
        if let Some(ip) = request.ip {
            let w = self.ips.entry(ip).or_insert(Window {
                start: now,
                count: 0,
            });
            if now.duration_since(w.start) >= interval {
                *w = Window {
                    start: now,
                    count: 0,
                };
            }
            w.count += 1;
        }
        None
    }

    /// Whether a refusal from `origin` at `now` is logged (one per origin per interval),
    /// and how many went unlogged before it.
    fn sample(&mut self, origin: Origin, now: Instant) -> (bool, u64) {
        let interval = self.interval;
        if let Some(l) = self.logged.get_mut(&origin) {
            if now.duration_since(l.at) < interval {
                l.unlogged += 1;
                return (false, 0);
            }
            let unlogged = l.unlogged;
            *l = Logged {
                at: now,
                unlogged: 0,
            };
            return (true, unlogged);
        }
        if self.logged.len() >= MAX_IPS {
            self.logged
                .retain(|_, l| now.duration_since(l.at) < interval);
            if self.logged.len() >= MAX_IPS {
                return (false, 0);
            }
        }
        self.logged.insert(
            origin,
            Logged {
                at: now,
                unlogged: 0,
            },
        );
        (true, 0)
    }
}

/// Up to `max` vetted peers of `cluster` (any when `None`), not `requester`, drawn at random
/// weighted by how recently each was vetted.
pub(super) fn select<R: Rng>(
    peers: &Peers<'_>,
    requester: Option<NodeId>,
    cluster: Option<u32>,
    max: usize,
    now: Instant,
    rng: &mut R,
) -> Vec<NodeId> {
    let candidates: Vec<(NodeId, f64)> = peers
        .book
        .entries()
        .filter(|(id, e)| e.state == PeerState::Vetted && Some(**id) != requester)
        .filter(|(id, _)| {
            cluster.is_none_or(|w| {
                peers.clusters.get(*id).copied().flatten().map(u32::from) == Some(w)
            })
        })
        .map(|(id, e)| {
            let age = e
                .last_dial
                .map(|t| now.saturating_duration_since(t))
                .unwrap_or(UNDATED);
            (*id, 1.0 / (1.0 + age.as_secs_f64() / 60.0))
        })
        .collect();
    let k = max.min(candidates.len());
    candidates
        .choose_multiple_weighted(rng, k, |c| c.1)
        .map(|it| it.map(|c| c.0).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use enr::CombinedKey;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::engine::crawl::io::libp2p_key;
    use crate::engine::schedule::Policy;
    use crate::model::ErrorClass;

    const MINUTE: Duration = Duration::from_secs(60);

    /// A crawl's view of `n` peers per state, all on `cluster`.
    struct View {
        book: AddressBook,
        clusters: HashMap<NodeId, Option<u16>>,
        records: HashMap<NodeId, Enr>,
        keys: HashMap<NodeId, CombinedKey>,
    }

    impl View {
        fn new() -> View {
            View {
                book: AddressBook::new(Policy::default()),
                clusters: HashMap::new(),
                records: HashMap::new(),
                keys: HashMap::new(),
            }
        }

        /// Adds a peer of `cluster`, dialed at `now`: vetted when `ok`, failed otherwise.
        /// Peers added before and due at `now` are drawn (dialed) too.
        fn add(&mut self, cluster: Option<u16>, ok: bool, now: Instant) -> NodeId {
            let key = CombinedKey::generate_secp256k1();
            let enr = Enr::builder().build(&key).unwrap();
            let id = enr.node_id().raw();
            let mut rng = StdRng::seed_from_u64(0);
            self.book.add(id, now);
            // Due now: drawn from the book like a real dial.
            while self.book.next_due(now, &mut rng).is_some_and(|n| n != id) {}
            if ok {
                self.book.on_success(id, now);
            } else {
                self.book.on_failure(id, ErrorClass::Refused, now, &mut rng);
            }
            self.clusters.insert(id, cluster);
            self.records.insert(id, enr);
            self.keys.insert(id, key);
            id
        }

        /// Adds a peer the crawl knows but never dialed (new).
        fn add_new(&mut self, cluster: Option<u16>, now: Instant) -> NodeId {
            let key = CombinedKey::generate_secp256k1();
            let enr = Enr::builder().build(&key).unwrap();
            let id = enr.node_id().raw();
            self.book.add(id, now);
            self.clusters.insert(id, cluster);
            self.records.insert(id, enr);
            id
        }

        fn peers(&self) -> Peers<'_> {
            Peers {
                book: &self.book,
                clusters: &self.clusters,
                records: &self.records,
            }
        }

        /// The libp2p peer id of a node of this view.
        fn peer_of(&self, id: &NodeId) -> PeerId {
            libp2p_key(&self.keys[id]).unwrap().public().to_peer_id()
        }
    }

    fn request(peer: PeerId, cluster: Option<u32>, num_peers: Option<u64>) -> PxRequest {
        PxRequest {
            peer,
            ip: None,
            cluster,
            num_peers,
        }
    }

    fn from_ip(peer: PeerId, ip: [u8; 4], num_peers: Option<u64>) -> PxRequest {
        PxRequest {
            peer,
            ip: Some(IpAddr::from(ip)),
            cluster: None,
            num_peers,
        }
    }

    /// The node ids of the records an answer holds.
    fn answered_ids(served: &Served) -> HashSet<NodeId> {
        let response = served.rpc.response.as_ref().unwrap();
        response
            .peer_infos
            .iter()
            .map(|p| {
                let enr: Enr = alloy_rlp::Decodable::decode(&mut p.enr.as_slice()).unwrap();
                enr.node_id().raw()
            })
            .collect()
    }

    #[test]
    fn only_vetted_peers_of_the_cluster_are_served() {
        let now = Instant::now();
        let mut view = View::new();
        let vetted: HashSet<NodeId> = (0..5).map(|_| view.add(Some(1), true, now)).collect();
        for _ in 0..5 {
            view.add(Some(1), false, now); // failing
            view.add_new(Some(1), now); // never dialed
            view.add(Some(2), true, now); // vetted, other cluster
            view.add(None, true, now); // vetted, no cluster in its record
        }
        let mut server = PxServer::new(MINUTE, 100, Some(1));
        let mut rng = StdRng::seed_from_u64(7);
        let served = server.answer(
            &request(PeerId::random(), None, Some(60)),
            &view.peers(),
            now,
            &mut rng,
        );
        assert_eq!(served.outcome, Outcome::Ok);
        assert_eq!(
            served.rpc.response.as_ref().unwrap().status_code,
            px_status::OK
        );
        assert_eq!(answered_ids(&served), vetted);
        assert_eq!(served.detail, "answered 5 records (asked 60, cluster 1)");

        // The requester's own cluster wins over the profile's.
        let served = server.answer(
            &request(PeerId::random(), Some(2), Some(60)),
            &view.peers(),
            now,
            &mut rng,
        );
        assert_eq!(answered_ids(&served).len(), 5);
        assert!(answered_ids(&served).is_disjoint(&vetted));

        // No cluster at all (non-Waku profile): every vetted peer.
        let mut any = PxServer::new(MINUTE, 100, None);
        let served = any.answer(
            &request(PeerId::random(), None, Some(60)),
            &view.peers(),
            now,
            &mut rng,
        );
        assert_eq!(answered_ids(&served).len(), 15);
        assert!(served.detail.ends_with("cluster any)"), "{}", served.detail);
    }

    #[test]
    fn the_requester_is_not_served_to_itself() {
        let now = Instant::now();
        let mut view = View::new();
        let ids: Vec<NodeId> = (0..3).map(|_| view.add(Some(1), true, now)).collect();
        let asker = view.peer_of(&ids[0]);
        let mut server = PxServer::new(MINUTE, 100, Some(1));
        let served = server.answer(
            &request(asker, Some(1), Some(10)),
            &view.peers(),
            now,
            &mut StdRng::seed_from_u64(1),
        );
        assert_eq!(served.requester, Some(ids[0]));
        assert_eq!(answered_ids(&served), ids[1..].iter().copied().collect());
    }

    #[test]
    fn answers_are_capped() {
        let now = Instant::now();
        let mut view = View::new();
        for _ in 0..70 {
            view.add(Some(1), true, now);
        }
        let mut server = PxServer::new(MINUTE, 100, Some(1));
        let mut rng = StdRng::seed_from_u64(3);
        let ask = |server: &mut PxServer, rng: &mut StdRng, n| {
            let served = server.answer(
                &request(PeerId::random(), None, Some(n)),
                &view.peers(),
                now,
                rng,
            );
            answered_ids(&served).len()
        };
        assert_eq!(ask(&mut server, &mut rng, 5), 5);
        assert_eq!(ask(&mut server, &mut rng, 100), PX_MAX_PEERS as usize);
        assert_eq!(ask(&mut server, &mut rng, u64::MAX), PX_MAX_PEERS as usize);
    }

    #[test]
    fn one_answer_per_requester_per_interval() {
        let t0 = Instant::now();
        let mut view = View::new();
        view.add(Some(1), true, t0);
        let mut server = PxServer::new(MINUTE, 100, Some(1));
        let mut rng = StdRng::seed_from_u64(4);
        let (a, b) = (PeerId::random(), PeerId::random());
        let mut ask =
            |peer, at| server.answer(&request(peer, None, Some(10)), &view.peers(), at, &mut rng);

        assert_eq!(ask(a, t0).outcome, Outcome::Ok);
        let again = ask(a, t0 + Duration::from_secs(59));
        assert_eq!(again.outcome, Outcome::Refused);
        let response = again.rpc.response.as_ref().unwrap();
        assert_eq!(response.status_code, px_status::TOO_MANY_REQUESTS);
        assert!(response.peer_infos.is_empty());
        assert_eq!(
            again.detail,
            "refused: 429 one request per 60s per requester; asked again after 59s"
        );
        // Another requester is not held back by the first.
        assert_eq!(ask(b, t0 + Duration::from_secs(59)).outcome, Outcome::Ok);
        // A refusal does not restart the interval.
        assert_eq!(ask(a, t0 + MINUTE).outcome, Outcome::Ok);
        assert_eq!(
            ask(a, t0 + MINUTE + Duration::from_secs(1)).outcome,
            Outcome::Refused
        );
    }

    #[test]
    fn a_request_for_no_peers_is_a_bad_request_and_counts() {
        let now = Instant::now();
        let view = View::new();
        let mut server = PxServer::new(MINUTE, 100, None);
        let mut rng = StdRng::seed_from_u64(5);
        for n in [None, Some(0)] {
            let served = server.answer(
                &request(PeerId::random(), None, n),
                &view.peers(),
                now,
                &mut rng,
            );
            assert_eq!(served.outcome, Outcome::BadRequest);
            assert_eq!(
                served.rpc.response.as_ref().unwrap().status_code,
                px_status::BAD_REQUEST
            );
        }
        // A bad request counts against the requester's interval like any other.
        let peer = PeerId::random();
        let served = server.answer(&request(peer, None, None), &view.peers(), now, &mut rng);
        assert_eq!(served.outcome, Outcome::BadRequest);
        let served = server.answer(&request(peer, None, Some(1)), &view.peers(), now, &mut rng);
        assert_eq!(served.outcome, Outcome::Refused);
        let later = now + MINUTE;
        let served = server.answer(
            &request(peer, None, Some(1)),
            &view.peers(),
            later,
            &mut rng,
        );
        assert_eq!(served.outcome, Outcome::Ok);
        assert!(served.rpc.response.unwrap().peer_infos.is_empty());
    }

    #[test]
    fn fresh_peer_ids_from_one_address_share_its_limit() {
        let t0 = Instant::now();
        let mut view = View::new();
        view.add(Some(1), true, t0);
        let mut server = PxServer::new(MINUTE, 3, Some(1));
        let mut rng = StdRng::seed_from_u64(8);
        let mut outcomes = Vec::new();
        for i in 0..10 {
            // Every other request has no query: it counts all the same.
            let n = (i % 2 == 0).then_some(10);
            let served = server.answer(
                &from_ip(PeerId::random(), [10, 0, 0, 1], n),
                &view.peers(),
                t0,
                &mut rng,
            );
            outcomes.push(served.outcome);
        }
        assert_eq!(
            outcomes[..3],
            [Outcome::Ok, Outcome::BadRequest, Outcome::Ok]
        );
        assert!(outcomes[3..].iter().all(|o| *o == Outcome::RefusedIp));
        // Another address is not held back; the first is served again after the interval.
        let ask = |server: &mut PxServer, rng: &mut StdRng, ip, at| {
            server
                .answer(
                    &from_ip(PeerId::random(), ip, Some(1)),
                    &view.peers(),
                    at,
                    rng,
                )
                .outcome
        };
        assert_eq!(ask(&mut server, &mut rng, [10, 0, 0, 2], t0), Outcome::Ok);
        assert_eq!(
            ask(&mut server, &mut rng, [10, 0, 0, 1], t0 + MINUTE),
            Outcome::Ok
        );
    }

    #[test]
    fn refusals_are_logged_once_per_address_per_interval() {
        let t0 = Instant::now();
        let view = View::new();
        let mut server = PxServer::new(MINUTE, 1, None);
        let mut rng = StdRng::seed_from_u64(9);
        let mut ask = |ip, at| {
            server.answer(
                &from_ip(PeerId::random(), ip, Some(5)),
                &view.peers(),
                at,
                &mut rng,
            )
        };
        let first = ask([10, 0, 0, 1], t0);
        assert_eq!((first.outcome, first.log), (Outcome::Ok, true));
        let refused: Vec<Served> = (0..50).map(|_| ask([10, 0, 0, 1], t0)).collect();
        assert!(refused.iter().all(|s| s.outcome == Outcome::RefusedIp));
        assert_eq!(refused.iter().filter(|s| s.log).count(), 1);
        assert!(refused[0].log);
        // Another address's refusals are sampled apart.
        ask([10, 0, 0, 2], t0);
        assert!(ask([10, 0, 0, 2], t0).log);
        // A minute on: served again, and the next refusal logged says what went unlogged.
        let later = t0 + MINUTE;
        assert_eq!(ask([10, 0, 0, 1], later).outcome, Outcome::Ok);
        let next = ask([10, 0, 0, 1], later);
        assert!(next.log);
        assert!(
            next.detail
                .ends_with("(49 refusals from 10.0.0.1 not logged before this one)"),
            "{}",
            next.detail
        );
    }

    #[test]
    fn remembered_requesters_are_bounded() {
        let t0 = Instant::now();
        let view = View::new();
        let mut server = PxServer::new(MINUTE, u32::MAX, None);
        let mut rng = StdRng::seed_from_u64(10);
        for _ in 0..MAX_REQUESTERS {
            server.answer(
                &request(PeerId::random(), None, Some(1)),
                &view.peers(),
                t0,
                &mut rng,
            );
        }
        let busy = server.answer(
            &request(PeerId::random(), None, Some(1)),
            &view.peers(),
            t0,
            &mut rng,
        );
        assert_eq!(busy.outcome, Outcome::Busy);
        assert_eq!(server.asked.len(), MAX_REQUESTERS);
        // Once the interval passed, old requesters are forgotten to make room.
        let later = t0 + MINUTE;
        let ok = server.answer(
            &request(PeerId::random(), None, Some(1)),
            &view.peers(),
            later,
            &mut rng,
        );
        assert_eq!(ok.outcome, Outcome::Ok);
        assert_eq!(server.asked.len(), 1);
    }

    #[test]
    fn recently_vetted_peers_are_drawn_more_often() {
        let t0 = Instant::now();
        let now = t0 + 60 * MINUTE;
        let mut view = View::new();
        // Vetted now, and an hour ago (added second: nothing else is due at t0).
        let fresh = view.add(Some(1), true, now);
        let old = view.add(Some(1), true, t0);
        let mut rng = StdRng::seed_from_u64(6);
        let mut fresh_first = 0;
        for _ in 0..1_000 {
            let drawn = select(&view.peers(), None, Some(1), 1, now, &mut rng);
            assert_eq!(drawn.len(), 1);
            if drawn[0] == fresh {
                fresh_first += 1;
            } else {
                assert_eq!(drawn[0], old);
            }
        }
        // Weights 1 and 1/61: the fresh peer about 98% of the time.
        assert!(fresh_first > 950, "{fresh_first}");
    }
}
