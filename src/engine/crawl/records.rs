//! What a record from any source (bootstrap, DNS, discv5, peer exchange) does to the
//! crawl: the walk keeps it if it is newer, the store and the event log get it, the dials
//! and the geolocator learn the node's addresses, and its source is written once per node,
//! source kind and origin.
//!
//! **What a record may add.** Strangers choose what their answers hold, so before a record
//! of a node the crawl does not know joins anything, [`Intake`] checks two bounds:
//!
//! - the **known-node cap** (`limits.max_peers`, default
//!   [`DEFAULT_MAX_PEERS`](crate::model::DEFAULT_MAX_PEERS)): once the crawl knows that
//!   many nodes, records of further nodes are dropped;
//! - the **per-responder budget** (`limits.max_new_per_responder`, default
//!   [`DEFAULT_MAX_NEW_PER_RESPONDER`](crate::model::DEFAULT_MAX_NEW_PER_RESPONDER)): one
//!   [`Responder`] introduces at most that many new nodes per round; the rest of what it
//!   says that round is dropped. Identities answering from one address share one budget.
//!
//! Dropped records are counted (`dropped_over_cap`, `dropped_over_budget` and the
//! `peerscope_records_dropped` metric), never stored. Newer records of known nodes are
//! always taken.
//!
//! **Address scope.** A record that names an address outside the crawl's scope (see
//! [`scope`](super::scope)) is stored, with a DISCOVERED event and the peer's error class
//! `out_of_scope`, and goes no further: not to the walk (no FINDNODE), not to the dials,
//! not to discv5.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use super::dials::ip_of;
use super::scope::{out_of_scope_ip, permits_addr};
use super::walk::Learned;
use super::Crawler;
use crate::model::{
    now_millis, ErrorClass, NewPeerEvent, NodeId, PeerEventKind, PeerSource, SourceKind,
};
use crate::protocol::enr::{parse_enr, DecodedEnr, Enr};
use crate::store::{StoreError, Upsert};

/// Sources remembered as written (see [`Crawler::add_source`]).
const MAX_SOURCES_SEEN: usize = 200_000;

/// Who introduced a record, for the per-responder budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Responder {
    /// The crawl's own bootstrap records (given and from DNS trees): no budget.
    Bootstrap,
    /// A node answering FINDNODE or peer exchange, by the address it was asked at: every
    /// identity answering from one address shares one budget.
    Addr(SocketAddr),
    /// A node with no address to tell it by.
    Node(NodeId),
    /// discv5's random lookups and its session events together (discv5 does not say which
    /// node named a record it reports).
    Lookups,
}

impl Responder {
    /// The responder of an answer from `enr`'s node: its UDP address (`udp`, else `udp6`),
    /// else its node id.
    pub(super) fn of(enr: &Enr) -> Responder {
        enr.udp4_socket()
            .map(SocketAddr::V4)
            .or_else(|| enr.udp6_socket().map(SocketAddr::V6))
            .map(Responder::Addr)
            .unwrap_or_else(|| Responder::Node(enr.node_id().raw()))
    }
}

/// Why a record of a new node was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dropped {
    /// The crawl knows `max_peers` nodes.
    OverCap,
    /// The responder introduced its budget of new nodes this round.
    OverBudget,
}

impl Dropped {
    /// The metrics label.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Dropped::OverCap => "known_cap",
            Dropped::OverBudget => "responder_budget",
        }
    }
}

/// The bounds on what records may add to one crawl, pure (the round is passed in).
pub(super) struct Intake {
    /// Most nodes known (walked ones and out-of-scope ones together).
    cap: u64,
    /// New nodes per responder per round.
    budget: u32,
    /// The round `used` counts for.
    round: u64,
    /// New nodes each responder introduced this round. At most one entry per responder
    /// that introduced a node, so bounded by the cap (plus [`Responder::Lookups`]); cleared
    /// every round.
    used: HashMap<Responder, u32>,
    /// Nodes the crawl knows only by an out-of-scope record, with that record's seq.
    out_of_scope: HashMap<NodeId, u64>,
}

impl Intake {
    pub(super) fn new(cap: u64, budget: u32) -> Intake {
        Intake {
            cap,
            budget,
            round: 0,
            used: HashMap::new(),
            out_of_scope: HashMap::new(),
        }
    }

    /// Whether a new node may join, with `known` nodes walked and the round at `round`;
    /// charges `from`'s budget when it may.
    pub(super) fn admit(
        &mut self,
        from: Responder,
        known: usize,
        round: u64,
    ) -> Result<(), Dropped> {
        if (known + self.out_of_scope.len()) as u64 >= self.cap {
            return Err(Dropped::OverCap);
        }
        if from == Responder::Bootstrap {
            return Ok(());
        }
        if round != self.round {
            self.round = round;
            self.used.clear();
        }
        let used = self.used.entry(from).or_default();
        if *used >= self.budget {
            return Err(Dropped::OverBudget);
        }
        *used += 1;
        Ok(())
    }

    /// Nodes known only by an out-of-scope record.
    pub(super) fn out_of_scope(&self) -> usize {
        self.out_of_scope.len()
    }
}

impl Crawler {
    /// Takes the crawl's bootstrap records (the DNS trees' after the given ones).
    pub(super) fn bootstrap(&mut self) -> Result<(), StoreError> {
        let dns_from = self.crawl.spec.dns_from.unwrap_or(usize::MAX);
        for (i, text) in self
            .crawl
            .spec
            .bootstrap_enrs
            .clone()
            .into_iter()
            .enumerate()
        {
            let source = if i >= dns_from {
                SourceKind::Dns
            } else {
                SourceKind::Bootstrap
            };
            match parse_enr(&text) {
                Ok(enr) => {
                    if out_of_scope_ip(&self.io.scope, &enr).is_none() {
                        self.io.add_enr(enr.clone());
                    }
                    self.on_enr(enr, source, None, Responder::Bootstrap)?;
                }
                Err(e) => tracing::warn!(error = %e, "skipping bad bootstrap ENR"),
            }
        }
        Ok(())
    }

    /// The responder a known node's answers count against (see [`Responder::of`]).
    pub(super) fn responder(&self, node: &NodeId) -> Responder {
        self.walk
            .record(node)
            .map(Responder::of)
            .unwrap_or(Responder::Node(*node))
    }

    /// Handles records `from` one responder (see [`Crawler::on_enr`]).
    pub(super) fn on_enrs(
        &mut self,
        enrs: Vec<Enr>,
        source: SourceKind,
        via: Option<String>,
        from: Responder,
    ) -> Result<(), StoreError> {
        for enr in enrs {
            self.on_enr(enr, source, via.clone(), from)?;
        }
        Ok(())
    }

    /// Handles a record from any source: checks its scope and (for a new node) the cap and
    /// `from`'s budget, stores it, emits events, queues new nodes, and records where it
    /// came from (once per node, source kind and origin).
    pub(super) fn on_enr(
        &mut self,
        enr: Enr,
        source: SourceKind,
        via: Option<String>,
        from: Responder,
    ) -> Result<(), StoreError> {
        let id = enr.node_id().raw();
        if id == self.io.local_id {
            return Ok(());
        }
        if let Some(ip) = out_of_scope_ip(&self.io.scope, &enr) {
            return self.on_out_of_scope(enr, ip, source, via, from);
        }
        if self.walk.record(&id).is_none() {
            match self.intake.out_of_scope.get(&id) {
                Some(held) if *held >= enr.seq() => return self.add_source(id, source, via),
                // Known out of scope, now in scope: the walk takes the node over.
                Some(_) => {
                    self.intake.out_of_scope.remove(&id);
                }
                None => {
                    if let Err(why) = self
                        .intake
                        .admit(from, self.walk.known(), self.walk.rounds())
                    {
                        self.drop_record(why);
                        return Ok(());
                    }
                }
            }
        }
        let learned = self.walk.learn(enr);
        if learned != Learned::Stale {
            let record = self.walk.record(&id).expect("just learned");
            let decoded = DecodedEnr::from_enr(record);
            // The source goes in with the record: one write of the peer.
            let source = self.new_source(id, source, via);
            self.on_new_record(id, decoded, learned == Learned::New, source.as_ref())
        } else {
            self.add_source(id, source, via)
        }
    }

    /// Counts a dropped record.
    fn drop_record(&mut self, why: Dropped) {
        match why {
            Dropped::OverCap => self.crawl.progress.dropped_over_cap += 1,
            Dropped::OverBudget => self.crawl.progress.dropped_over_budget += 1,
        }
        self.metrics.record_dropped(why.as_str());
    }

    /// Writes where a record came from, once per node, source kind and origin (see
    /// [`Crawler::new_source`]).
    fn add_source(
        &mut self,
        id: NodeId,
        source: SourceKind,
        via: Option<String>,
    ) -> Result<(), StoreError> {
        if let Some(source) = self.new_source(id, source, via) {
            self.store.add_peer_source(&id, source)?;
        }
        Ok(())
    }

    /// The source to write for a record, unless this crawl wrote it already. What was
    /// written is remembered up to [`MAX_SOURCES_SEEN`] entries, then forgotten at once (the
    /// store keeps a source once, so a repeat costs a write, not a duplicate).
    fn new_source(
        &mut self,
        id: NodeId,
        source: SourceKind,
        via: Option<String>,
    ) -> Option<PeerSource> {
        if self.sources_seen.len() >= MAX_SOURCES_SEEN {
            self.sources_seen.clear();
        }
        self.sources_seen
            .insert((id, source, via.clone()))
            .then(|| PeerSource {
                kind: source,
                via,
                first_seen: now_millis(),
            })
    }

    /// A record naming `ip`, outside the crawl's scope: stored and logged with the class
    /// `out_of_scope` when it is newer than what the crawl holds, never contacted.
    fn on_out_of_scope(
        &mut self,
        enr: Enr,
        ip: IpAddr,
        source: SourceKind,
        via: Option<String>,
        from: Responder,
    ) -> Result<(), StoreError> {
        let id = enr.node_id().raw();
        let seq = enr.seq();
        let held = self
            .intake
            .out_of_scope
            .get(&id)
            .copied()
            .or_else(|| self.walk.record(&id).map(|e| e.seq()));
        if held.is_some_and(|s| s >= seq) {
            return self.add_source(id, source, via);
        }
        let first = held.is_none();
        if first {
            if let Err(why) = self
                .intake
                .admit(from, self.walk.known(), self.walk.rounds())
            {
                self.drop_record(why);
                return Ok(());
            }
            self.crawl.progress.out_of_scope += 1;
        }
        if self.walk.record(&id).is_none() {
            self.intake.out_of_scope.insert(id, seq);
        }
        self.io.forget(&id);
        self.metrics.record_out_of_scope();
        let decoded = DecodedEnr::from_enr(&enr);
        let outcome = self
            .store
            .upsert_peer(self.crawl.id, &decoded, now_millis())?;
        let detail = format!(
            "not contacted: {ip} is outside the crawl's address scope ({})",
            self.io.scope.describe()
        );
        self.store.mark_out_of_scope(&id, &detail)?;
        let kind = if first {
            PeerEventKind::Discovered
        } else if matches!(outcome, Upsert::Updated { .. }) {
            self.crawl.progress.enr_updates += 1;
            PeerEventKind::EnrUpdated
        } else {
            return self.add_source(id, source, via);
        };
        tracing::debug!(node = %hex::encode(id), %ip, "record out of the address scope");
        self.events.push(NewPeerEvent {
            time: now_millis(),
            kind,
            crawl_id: self.crawl.id,
            node_id: id,
            peer_id: decoded.peer_id.clone(),
            enr_seq: decoded.seq,
            enr: Some(decoded.text.clone()),
            error_class: Some(ErrorClass::OutOfScope),
            detail: Some(detail),
        });
        self.add_source(id, source, via)
    }

    /// A record newer than any this crawl held for its node (`first_sighting`: the crawl
    /// did not know the node).
    fn on_new_record(
        &mut self,
        id: NodeId,
        decoded: DecodedEnr,
        first_sighting: bool,
        source: Option<&PeerSource>,
    ) -> Result<(), StoreError> {
        self.clusters
            .insert(id, decoded.shards.as_ref().map(|s| s.cluster));
        let outcome = self
            .store
            .upsert_peer_from(self.crawl.id, &decoded, source, now_millis())?;
        // First sighting by this crawl: DISCOVERED (the store has just added the crawl to
        // the peer). Otherwise a record newer than the stored one: ENR_UPDATED.
        let kind = if first_sighting {
            Some(PeerEventKind::Discovered)
        } else if matches!(outcome, Upsert::Updated { .. }) {
            self.crawl.progress.enr_updates += 1;
            Some(PeerEventKind::EnrUpdated)
        } else {
            None
        };
        if let Some(kind) = kind {
            // A new node or a new record: (re)locate its IP.
            if let (Some(geo), Some(ip)) = (&self.io.geo, enr_ip(&decoded)) {
                geo.submit(id, ip);
            }
            self.events.push(NewPeerEvent {
                time: now_millis(),
                kind,
                crawl_id: self.crawl.id,
                node_id: id,
                peer_id: decoded.peer_id.clone(),
                enr_seq: decoded.seq,
                enr: Some(decoded.text.clone()),
                error_class: None,
                detail: None,
            });
        }
        if self.io.dialer.is_some() {
            let now = tokio::time::Instant::now();
            // `multiaddrs` entries outside the scope are never dialed.
            let stray = |m: &String| {
                m.parse::<libp2p::Multiaddr>()
                    .is_ok_and(|a| ip_of(&a).is_some() && !permits_addr(&self.io.scope, &a))
            };
            if decoded.multiaddrs.iter().any(stray) {
                let mut inside = decoded.clone();
                inside.multiaddrs.retain(|m| !stray(m));
                self.dials.learn(id, &inside, first_sighting, now);
            } else {
                self.dials.learn(id, &decoded, first_sighting, now);
            }
        }
        Ok(())
    }

    /// Appends an event about `node` (its peer id and record sequence as the crawl knows
    /// them) and returns it for the caller to fill in.
    pub(super) fn event(&mut self, kind: PeerEventKind, node: NodeId) -> &mut NewPeerEvent {
        let (peer_id, enr_seq) = match self.walk.record(&node) {
            Some(enr) => (
                self.dials.target(&node).map(|t| t.peer.to_string()),
                enr.seq(),
            ),
            None => (None, 0),
        };
        self.events.push(NewPeerEvent {
            time: now_millis(),
            kind,
            crawl_id: self.crawl.id,
            node_id: node,
            peer_id,
            enr_seq,
            enr: None,
            error_class: None,
            detail: None,
        });
        self.events.last_mut().expect("just pushed")
    }
}

/// The IP of a record: `ip`, else `ip6`.
fn enr_ip(decoded: &DecodedEnr) -> Option<IpAddr> {
    decoded
        .ip4
        .map(IpAddr::V4)
        .or_else(|| decoded.ip6.map(IpAddr::V6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Responder {
        Responder::Addr(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    #[test]
    fn a_responder_introduces_at_most_its_budget_per_round() {
        let mut intake = Intake::new(1_000, 3);
        for _ in 0..3 {
            assert_eq!(intake.admit(addr(1), 0, 0), Ok(()));
        }
        assert_eq!(intake.admit(addr(1), 0, 0), Err(Dropped::OverBudget));
        // Another responder has its own budget; the bootstrap has none.
        assert_eq!(intake.admit(addr(2), 0, 0), Ok(()));
        for _ in 0..10 {
            assert_eq!(intake.admit(Responder::Bootstrap, 0, 0), Ok(()));
        }
        // The next round refills it.
        assert_eq!(intake.admit(addr(1), 0, 1), Ok(()));
    }

    #[test]
    fn no_new_node_joins_past_the_cap() {
        let mut intake = Intake::new(10, 100);
        assert_eq!(intake.admit(addr(1), 9, 0), Ok(()));
        assert_eq!(intake.admit(addr(1), 10, 0), Err(Dropped::OverCap));
        assert_eq!(
            intake.admit(Responder::Bootstrap, 10, 0),
            Err(Dropped::OverCap)
        );
        // Nodes known only out of scope count too.
        intake.out_of_scope.insert([1; 32], 1);
        assert_eq!(intake.admit(addr(1), 9, 0), Err(Dropped::OverCap));
        assert_eq!(intake.out_of_scope(), 1);
    }

    #[test]
    fn identities_at_one_address_share_a_responder() {
        let key = |_| enr::CombinedKey::generate_secp256k1();
        let at = |k: &enr::CombinedKey, port| {
            Enr::builder()
                .ip4(std::net::Ipv4Addr::LOCALHOST)
                .udp4(port)
                .build(k)
                .unwrap()
        };
        let (a, b) = (key(0), key(1));
        assert_eq!(Responder::of(&at(&a, 9000)), Responder::of(&at(&b, 9000)));
        assert_ne!(Responder::of(&at(&a, 9000)), Responder::of(&at(&a, 9001)));
        let bare = Enr::builder().build(&a).unwrap();
        assert_eq!(Responder::of(&bare), Responder::Node(bare.node_id().raw()));
    }
}
