//! Seed mode's answers to peer-exchange requests, pure (the time and the random source are
//! passed in): who may ask how often, and which records an answer holds.
//!
//! At most one answer per requester per `requester_interval`; a faster repeat gets status
//! 429, a request for no peers 400. An answer holds at most `min(num_peers, 60)` records,
//! drawn at random from the *vetted* peers of the requester's cluster, each weighted by how
//! recently it was vetted (`1 / (1 + minutes since)`). The requester's cluster comes from
//! its metadata; when unknown, the crawl profile's cluster is used (for non-Waku profiles:
//! any cluster). Never the requester itself, and never new, failing, bad or banned peers.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::PeerId;
use rand::seq::SliceRandom;
use rand::Rng;
use tokio::time::Instant;

use crate::engine::schedule::AddressBook;
use crate::model::{NodeId, PeerState};
use crate::protocol::enr::Enr;
use crate::protocol::waku::{node_id_of_peer, px_status, PxPeerInfo, PxRpc, PX_MAX_PEERS};

/// Requesters remembered before those outside the interval are forgotten.
const MAX_REQUESTERS: usize = 10_000;

/// The age given to a vetted peer with no dial time (one day).
const UNDATED: Duration = Duration::from_secs(86_400);

/// A peer-exchange request as the dialer hands it over.
#[derive(Clone, Debug)]
pub(super) struct PxRequest {
    pub peer: PeerId,
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
    /// Asked again too soon (429).
    Refused,
    /// Asked for no peers (400).
    BadRequest,
}

impl Outcome {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
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
}

/// Seed mode's peer-exchange server state: when each requester was last answered.
pub(super) struct PxServer {
    interval: Duration,
    /// The cluster served to requesters whose own is unknown (the crawl profile's).
    default_cluster: Option<u32>,
    answered: HashMap<PeerId, Instant>,
}

impl PxServer {
    pub fn new(interval: Duration, default_cluster: Option<u32>) -> PxServer {
        PxServer {
            interval,
            default_cluster,
            answered: HashMap::new(),
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
        let served = |rpc, outcome, detail| Served {
            rpc,
            outcome,
            requester,
            detail,
        };
        let n = match request.num_peers {
            None | Some(0) => {
                return served(
                    PxRpc::response(
                        Vec::new(),
                        px_status::BAD_REQUEST,
                        Some("the request asks for no peers (query.num_peers > 0 required)".into()),
                    ),
                    Outcome::BadRequest,
                    "refused: 400 no query".to_string(),
                )
            }
            Some(n) => n,
        };
        if let Some(waited) = self
            .answered
            .get(&request.peer)
            .map(|t| now.duration_since(*t))
            .filter(|waited| *waited < self.interval)
        {
            let desc = format!(
                "one answer per {}s per requester; asked again after {}s",
                self.interval.as_secs(),
                waited.as_secs()
            );
            return served(
                PxRpc::response(Vec::new(), px_status::TOO_MANY_REQUESTS, Some(desc.clone())),
                Outcome::Refused,
                format!("refused: 429 {desc}"),
            );
        }
        if self.answered.len() > MAX_REQUESTERS {
            let interval = self.interval;
            self.answered
                .retain(|_, t| now.duration_since(*t) < interval);
        }
        self.answered.insert(request.peer, now);
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
        served(
            PxRpc::response(infos, px_status::OK, None),
            Outcome::Ok,
            detail,
        )
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
            cluster,
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
        let mut server = PxServer::new(MINUTE, Some(1));
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
        let mut any = PxServer::new(MINUTE, None);
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
        let mut server = PxServer::new(MINUTE, Some(1));
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
        let mut server = PxServer::new(MINUTE, Some(1));
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
        let mut server = PxServer::new(MINUTE, Some(1));
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
            "refused: 429 one answer per 60s per requester; asked again after 59s"
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
    fn a_request_for_no_peers_is_a_bad_request() {
        let now = Instant::now();
        let view = View::new();
        let mut server = PxServer::new(MINUTE, None);
        let mut rng = StdRng::seed_from_u64(5);
        let peer = PeerId::random();
        for n in [None, Some(0)] {
            let served = server.answer(&request(peer, None, n), &view.peers(), now, &mut rng);
            assert_eq!(served.outcome, Outcome::BadRequest);
            assert_eq!(
                served.rpc.response.as_ref().unwrap().status_code,
                px_status::BAD_REQUEST
            );
        }
        // Bad requests do not count against the requester's interval.
        let served = server.answer(&request(peer, None, Some(1)), &view.peers(), now, &mut rng);
        assert_eq!(served.outcome, Outcome::Ok);
        assert!(served.rpc.response.unwrap().peer_infos.is_empty());
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
