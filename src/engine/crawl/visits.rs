//! The crawl's side of dialing: starting the dials that are due, and what the dialer
//! reports back — visit progress and results (address book, store, events, relay
//! monitor, geolocation), peer-exchange answers (their records join discovery), and
//! seed-mode peer-exchange requests (answered by [`seed`](super::seed)).

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};

use super::dials::ip_of;
use super::seed::{Outcome, Peers, PxRequest};
use super::Crawler;
use crate::engine::dialer::DialerEvent;
use crate::engine::error::PxError;
use crate::engine::schedule::Transition;
use crate::model::{
    now_millis, ErrorClass, NewPeerEvent, NodeId, PeerEventKind, PeerState, Profile, SourceKind,
    VisitReport,
};
use crate::protocol::enr::DecodedEnr;
use crate::protocol::waku::{px_status, PxResponse, PxRpc};
use crate::store::{SessionChange, StoreError};

impl Crawler {
    /// Starts dials while fewer than `dial_concurrency` are in flight: due peers from the
    /// book (biased between new and known), at most `per_ip` at once per IP.
    pub(super) fn fill_dials(&mut self) -> Result<(), StoreError> {
        if self.io.dialer.is_none() {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        for node in self.dials.book.expire_bans(now) {
            self.store.set_peer_state(&node, PeerState::New)?;
            self.event(PeerEventKind::Unbanned, node);
        }
        let limit = self.settings.dial.concurrency as usize;
        while let Some(dialer) = self.io.dialer.as_mut() {
            if dialer.in_flight() >= limit {
                break;
            }
            let Some(dial) = self.dials.next(now, &mut self.rng) else {
                break;
            };
            dialer.dial(self.crawl.id, dial.node, dial.peer, dial.addrs);
            self.crawl.progress.dials += 1;
        }
        Ok(())
    }

    pub(super) fn on_dial_event(&mut self, ev: DialerEvent) -> Result<(), StoreError> {
        match ev {
            DialerEvent::Connected { node, address } => {
                self.event(PeerEventKind::Connected, node).detail = Some(address);
            }
            DialerEvent::Identified { node, info } => {
                self.crawl.progress.identified += 1;
                self.event(PeerEventKind::Identified, node).detail = Some(info.agent_version);
            }
            DialerEvent::Metadata { node, info } => {
                let shards: Vec<String> = info.shards.iter().map(|s| s.to_string()).collect();
                self.event(PeerEventKind::Metadata, node).detail = Some(format!(
                    "cluster={} shards={}",
                    info.cluster_id.map(|c| c.to_string()).unwrap_or_default(),
                    shards.join(",")
                ));
            }
            DialerEvent::Disconnected { node } => {
                self.event(PeerEventKind::Disconnected, node);
            }
            DialerEvent::PeerExchange { node, peer, result } => {
                self.on_px_answer(node, peer, result)?;
            }
            DialerEvent::PxRequest {
                peer,
                ip,
                cluster,
                num_peers,
                channel,
            } => {
                let answer = self.px_answer(PxRequest {
                    peer,
                    ip,
                    cluster,
                    num_peers,
                });
                if let Some(d) = self.io.dialer.as_mut() {
                    d.respond_px(channel, answer);
                }
            }
            DialerEvent::InboundRefused { reason } => {
                self.crawl.progress.px_connections_refused += 1;
                self.metrics.seed_connection_refused(reason);
            }
            DialerEvent::Done(report) => self.on_visit(report)?,
        }
        Ok(())
    }

    fn on_visit(&mut self, report: VisitReport) -> Result<(), StoreError> {
        let node = report.node_id;
        self.dials.done(&node);
        let now = tokio::time::Instant::now();
        self.metrics.dial(
            report
                .error_class
                .map(ErrorClass::as_str)
                .unwrap_or("connected"),
        );
        if let Some(us) = report.rtt_us {
            self.metrics.ping(Duration::from_micros(us));
        }
        let transition = match report.error_class {
            None => {
                self.crawl.progress.connected += 1;
                self.locate_dialed(&report);
                self.dials.book.on_success(node, now);
                self.offer_relay(&report);
                Transition::None
            }
            Some(class) => {
                *self
                    .crawl
                    .progress
                    .failed_by_class
                    .entry(class.as_str().to_string())
                    .or_default() += 1;
                let ev = self.event(PeerEventKind::DialFailed, node);
                ev.error_class = Some(class);
                ev.detail = report.error.clone();
                if class == ErrorClass::Canceled {
                    Transition::None
                } else {
                    self.dials.book.on_failure(node, class, now, &mut self.rng)
                }
            }
        };
        let state = self
            .dials
            .book
            .get(&node)
            .map(|e| e.state)
            .unwrap_or_default();
        match transition {
            Transition::Banned => {
                self.event(PeerEventKind::Banned, node).detail = report.error.clone();
            }
            Transition::MarkedBad | Transition::None | Transition::Unbanned => {}
        }
        match self.store.record_visit(&report, state)? {
            SessionChange::Up => {
                self.event(PeerEventKind::PeerUp, node);
            }
            SessionChange::Down => {
                let ev = self.event(PeerEventKind::PeerDown, node);
                ev.error_class = report.error_class;
                ev.detail = report.error.clone();
            }
            SessionChange::None => {}
        }
        Ok(())
    }

    /// A peer-exchange answer from a visited peer: its records join discovery.
    fn on_px_answer(
        &mut self,
        node: NodeId,
        peer: PeerId,
        result: Result<PxResponse, PxError>,
    ) -> Result<(), StoreError> {
        self.crawl.progress.px_requests += 1;
        let detail = match result {
            Err(e) => {
                self.crawl.progress.px_failures += 1;
                self.metrics.px_request("failed", 0);
                format!("failed: {e}")
            }
            Ok(r) if r.status_code != 0 && r.status_code != px_status::OK => {
                self.crawl.progress.px_failures += 1;
                self.metrics.px_request("refused", 0);
                format!(
                    "refused: status {} {}",
                    r.status_code,
                    r.status_desc.unwrap_or_default()
                )
            }
            Ok(r) => {
                let via = Some(peer.to_string());
                let decoded = crate::protocol::waku::px_records(&r);
                let (good, bad) = (decoded.records.len() as u64, decoded.undecodable);
                let from = self.responder(&node);
                self.on_enrs(decoded.records, SourceKind::PeerExchange, via, from)?;
                self.crawl.progress.px_enrs += good;
                self.metrics.px_request("ok", good);
                if bad > 0 {
                    format!("{good} records, {bad} undecodable")
                } else {
                    format!("{good} records")
                }
            }
        };
        self.event(PeerEventKind::PeerExchange, node).detail = Some(detail);
        Ok(())
    }

    /// Seed mode: answers a peer-exchange request (see [`seed`](super::seed)), counts it
    /// and logs it (refusals sampled).
    fn px_answer(&mut self, request: PxRequest) -> PxRpc {
        let peers = Peers {
            book: &self.dials.book,
            clusters: &self.clusters,
            records: self.walk.records(),
        };
        let served = self
            .seed
            .answer(&request, &peers, tokio::time::Instant::now(), &mut self.rng);
        self.metrics.px_served(served.outcome.as_str());
        if served.outcome == Outcome::Ok {
            self.crawl.progress.px_served += 1;
        } else {
            self.crawl.progress.px_refused += 1;
            if !served.log {
                self.crawl.progress.px_refused_unlogged += 1;
            }
        }
        if let (Some(node), true) = (served.requester, served.log) {
            self.events.push(NewPeerEvent {
                time: now_millis(),
                kind: PeerEventKind::PeerExchangeServed,
                crawl_id: self.crawl.id,
                node_id: node,
                peer_id: Some(request.peer.to_string()),
                enr_seq: 0,
                enr: None,
                error_class: None,
                detail: Some(served.detail),
            });
        }
        served.rpc
    }

    /// A peer whose record has no IP is located by the address a dial connected to.
    fn locate_dialed(&self, report: &VisitReport) {
        let Some(geo) = &self.io.geo else {
            return;
        };
        let has_enr_ip = self
            .walk
            .record(&report.node_id)
            .is_some_and(|e| e.ip4().is_some() || e.ip6().is_some());
        if has_enr_ip {
            return;
        }
        let ip = report
            .address
            .as_deref()
            .and_then(|a| a.parse::<Multiaddr>().ok())
            .and_then(|ma| ip_of(&ma));
        if let Some(ip) = ip {
            geo.submit(report.node_id, ip);
        }
    }

    /// Offers a reachable relay peer to the relay monitor: one of the crawl's cluster
    /// outright; one whose cluster is unknown (no metadata answer and no `rs` in its
    /// record, as on networks that relay on named topics) or 0 on trial, kept only if its
    /// gossipsub subscriptions cover a monitored topic. A peer of another cluster is not
    /// offered.
    fn offer_relay(&mut self, report: &VisitReport) {
        let Some(relay) = self.io.relay.as_mut() else {
            return;
        };
        let Profile::Waku { cluster_id, .. } = &self.crawl.spec.profile else {
            return;
        };
        let relays = report.identify.as_ref().is_some_and(|i| {
            i.protocols
                .iter()
                .any(|p| p == crate::protocol::waku::RELAY)
        });
        if !relays {
            return;
        }
        let cluster = report
            .metadata
            .as_ref()
            .and_then(|m| m.cluster_id)
            .or_else(|| {
                self.walk
                    .record(&report.node_id)
                    .and_then(|e| DecodedEnr::from_enr(e).shards.map(|s| u32::from(s.cluster)))
            });
        let Some(t) = self.dials.target(&report.node_id) else {
            return;
        };
        match cluster {
            Some(c) if c == u32::from(*cluster_id) => relay.offer(t.peer, t.addrs.clone()),
            None | Some(0) => relay.offer_on_trial(t.peer, t.addrs.clone()),
            Some(_) => {}
        }
    }
}
