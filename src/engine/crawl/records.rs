//! What a record from any source (bootstrap, DNS, discv5, peer exchange) does to the
//! crawl: the walk keeps it if it is newer, the store and the event log get it, the dials
//! and the geolocator learn the node's addresses, and its source is written once per node,
//! source kind and origin.

use std::net::IpAddr;

use super::walk::Learned;
use super::Crawler;
use crate::model::{now_millis, NewPeerEvent, NodeId, PeerEventKind, PeerSource, SourceKind};
use crate::protocol::enr::{parse_enr, DecodedEnr, Enr};
use crate::store::{StoreError, Upsert};

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
                    self.io.add_enr(enr.clone());
                    self.on_enr(enr, source, None)?;
                }
                Err(e) => tracing::warn!(error = %e, "skipping bad bootstrap ENR"),
            }
        }
        Ok(())
    }

    /// Handles a record from any source: stores it, emits events, queues new nodes, and
    /// records where it came from (once per node, source kind and origin).
    pub(super) fn on_enr(
        &mut self,
        enr: Enr,
        source: SourceKind,
        via: Option<String>,
    ) -> Result<(), StoreError> {
        let id = enr.node_id().raw();
        if id == self.io.local_id {
            return Ok(());
        }
        let learned = self.walk.learn(enr);
        let source = if self.sources_seen.contains(&(id, source, via.clone())) {
            None
        } else {
            self.sources_seen.insert((id, source, via.clone()));
            Some(PeerSource {
                kind: source,
                via,
                first_seen: now_millis(),
            })
        };
        if learned != Learned::Stale {
            let record = self.walk.record(&id).expect("just learned");
            let decoded = DecodedEnr::from_enr(record);
            // The source goes in with the record: one write of the peer.
            self.on_new_record(id, decoded, learned == Learned::New, source.as_ref())?;
        } else if let Some(source) = source {
            self.store.add_peer_source(&id, source)?;
        }
        Ok(())
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
            self.dials
                .learn(id, &decoded, first_sighting, tokio::time::Instant::now());
        }
        if first_sighting {
            if let Some(max) = self.settings.max_peers {
                if self.walk.known() as u64 >= max {
                    self.limit_hit = true;
                }
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
