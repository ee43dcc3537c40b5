//! Visits: the `visits` tree (the last [`VISITS_PER_PEER`] dial reports of each peer) and
//! how a visit folds into the peer's dial aggregates and sessions.

use crate::model::{DialInfo, NodeId, PeerRecord, PeerState, VisitReport};
use crate::store::export::{self, Changed};
use crate::store::keys::{decode, encode, visit_key};
use crate::store::{tx_error, Store, StoreError};
use sled::transaction::{ConflictableTransactionError, Transactional};

/// Visit records kept per peer.
pub const VISITS_PER_PEER: usize = 100;

/// How a visit changed a peer's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionChange {
    /// Still up, still down, or a first failure.
    None,
    /// Reachable after being down or unknown: a session starts.
    Up,
    /// Unreachable after being up: the session ends.
    Down,
}

/// Folds one visit into a peer's dial info; returns the session change.
fn apply_visit(dial: &mut DialInfo, visit: &VisitReport, state: PeerState) -> SessionChange {
    dial.attempts += 1;
    dial.last_dial = Some(visit.started);
    dial.state = state;
    if visit.node_info.is_some() {
        dial.node_info = visit.node_info.as_deref().cloned();
    }
    let end = visit.started + visit.duration_ms;
    if visit.reachable() {
        dial.reachable = Some(true);
        dial.last_connected = Some(end);
        dial.last_error_class = None;
        dial.last_error = visit.error.clone();
        if visit.identify.is_some() {
            dial.identify = visit.identify.clone();
        }
        if visit.metadata.is_some() {
            dial.metadata = visit.metadata.clone();
            dial.metadata_error = None;
        } else if visit.metadata_error.is_some() {
            dial.metadata_error = visit.metadata_error.clone();
        }
        if let Some(rtt) = visit.rtt_us {
            dial.rtt_last_us = Some(rtt);
            dial.rtt_avg_us = Some(match dial.rtt_avg_us {
                Some(avg) => (avg * 3 + rtt) / 4,
                None => rtt,
            });
        }
        if dial.up_since.is_none() {
            dial.up_since = Some(visit.started);
            dial.down_since = None;
            dial.sessions += 1;
            return SessionChange::Up;
        }
        SessionChange::None
    } else {
        dial.reachable = Some(false);
        dial.last_error_class = visit.error_class;
        dial.last_error = visit.error.clone();
        if let Some(up) = dial.up_since.take() {
            dial.uptime_ms += visit.started.saturating_sub(up);
            dial.down_since = Some(visit.started);
            return SessionChange::Down;
        }
        if dial.down_since.is_none() {
            dial.down_since = Some(visit.started);
        }
        SessionChange::None
    }
}

impl Store {
    /// Applies a visit to its peer (dial info, session) and stores the visit record, both
    /// in one transaction, which also marks the peer changed and feeds the visit to the
    /// export. The peer's oldest visits beyond [`VISITS_PER_PEER`] are dropped afterwards
    /// (a crash in between leaves a few extra, dropped by the next visit).
    pub fn record_visit(
        &self,
        visit: &VisitReport,
        state: PeerState,
    ) -> Result<SessionChange, StoreError> {
        let key = visit_key(&visit.node_id, visit.started, visit.crawl_id);
        let value = encode(visit);
        let entry = export::visit_entry(visit);
        let id = self.change_id()?;
        let change = self.with_feed_seq(|seq| {
            let change = (
                &self.peers,
                &self.visits,
                &self.export_dirty,
                &self.export_feed,
            )
                .transaction(|(peers, visits, dirty, feed)| {
                    let mut change = SessionChange::None;
                    if let Some(bytes) = peers.get(visit.node_id)? {
                        // A record that does not decode is left as it is; the visit is kept.
                        if let Ok(mut record) = decode::<PeerRecord>("peers", &bytes) {
                            change = apply_visit(&mut record.dial, visit, state);
                            record.last_seen = record.last_seen.max(visit.started);
                            peers.insert(&visit.node_id[..], encode(&record))?;
                            export::mark(dirty, Changed::Peer, &visit.node_id, id)?;
                        }
                    }
                    self.failpoint("record_visit")
                        .map_err(ConflictableTransactionError::Abort)?;
                    visits.insert(&key[..], value.as_slice())?;
                    export::feed(feed, seq, &entry)?;
                    Ok(change)
                })
                .map_err(tx_error)?;
            Ok((change, true))
        })?;
        let stored = self.visits.scan_prefix(visit.node_id).count();
        if stored > VISITS_PER_PEER {
            let mut batch = sled::Batch::default();
            for k in self
                .visits
                .scan_prefix(visit.node_id)
                .keys()
                .take(stored - VISITS_PER_PEER)
            {
                batch.remove(k?);
            }
            self.visits.apply_batch(batch)?;
        }
        Ok(change)
    }

    /// A peer's stored visits, oldest first.
    pub fn visits(&self, node: &NodeId) -> Result<Vec<VisitReport>, StoreError> {
        self.visits
            .scan_prefix(node)
            .values()
            .map(|v| decode("visits", &v?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{SessionChange, VISITS_PER_PEER};
    use crate::model::{ErrorClass, IdentifyInfo, MetadataInfo, PeerState, VisitReport};
    use crate::store::test_support::{enr, temp_store};

    fn visit(node: u8, started: u64, error: Option<ErrorClass>) -> VisitReport {
        VisitReport {
            node_id: [node; 32],
            crawl_id: 1,
            started,
            duration_ms: 10,
            address: Some("/ip4/127.0.0.1/tcp/60000".into()),
            error_class: error,
            error: error.map(|c| c.as_str().to_string()),
            identify: None,
            metadata: None,
            metadata_error: None,
            rtt_us: None,
            node_info: None,
        }
    }

    #[test]
    fn visits_drive_sessions_and_dial_aggregates() {
        let (_dir, store) = temp_store();
        let node = enr(1, 1).node_id;
        store.upsert_peer(1, &enr(1, 1), 0).unwrap();
        // A first failure opens no session but marks the peer down.
        let change = store
            .record_visit(
                &visit(1, 1_000, Some(ErrorClass::Refused)),
                PeerState::Failing,
            )
            .unwrap();
        assert_eq!(change, SessionChange::None);
        let d = store.get_peer(&node).unwrap().unwrap().dial;
        assert_eq!(d.reachable, Some(false));
        assert_eq!(d.down_since, Some(1_000));
        assert_eq!(d.last_error_class, Some(ErrorClass::Refused));
        // Up: a session starts; identify, metadata and RTT are kept.
        let mut up = visit(1, 2_000, None);
        up.identify = Some(IdentifyInfo {
            agent_version: "nwaku".into(),
            ..IdentifyInfo::default()
        });
        up.metadata = Some(MetadataInfo {
            cluster_id: Some(1),
            shards: vec![0],
        });
        up.rtt_us = Some(400);
        assert_eq!(
            store.record_visit(&up, PeerState::Vetted).unwrap(),
            SessionChange::Up
        );
        // Still up: no change; the RTT average moves a quarter of the way.
        let mut again = visit(1, 3_000, None);
        again.rtt_us = Some(800);
        again.metadata_error = Some("no answer".into());
        assert_eq!(
            store.record_visit(&again, PeerState::Vetted).unwrap(),
            SessionChange::None
        );
        let p = store.get_peer(&node).unwrap().unwrap();
        assert_eq!(p.dial.rtt_last_us, Some(800));
        assert_eq!(p.dial.rtt_avg_us, Some(500));
        assert_eq!(p.dial.identify.as_ref().unwrap().agent_version, "nwaku");
        assert_eq!(p.dial.metadata.as_ref().unwrap().cluster_id, Some(1));
        assert_eq!(p.dial.metadata_error.as_deref(), Some("no answer"));
        assert_eq!((p.dial.sessions, p.dial.up_since), (1, Some(2_000)));
        assert_eq!(p.dial.last_connected, Some(3_010));
        assert_eq!(p.last_seen, 3_000);
        // Down: the session ends and its length is added to the uptime.
        assert_eq!(
            store
                .record_visit(
                    &visit(1, 7_000, Some(ErrorClass::Timeout)),
                    PeerState::Failing
                )
                .unwrap(),
            SessionChange::Down
        );
        let d = store.get_peer(&node).unwrap().unwrap().dial;
        assert_eq!(d.uptime_ms, 5_000);
        assert_eq!((d.up_since, d.down_since), (None, Some(7_000)));
        assert_eq!(d.attempts, 4);
        assert_eq!(d.state, PeerState::Failing);
        // Every visit was stored, oldest first.
        let stored: Vec<u64> = store
            .visits(&node)
            .unwrap()
            .iter()
            .map(|v| v.started)
            .collect();
        assert_eq!(stored, [1_000, 2_000, 3_000, 7_000]);
        assert_eq!(store.visits(&node).unwrap()[1], up);
    }

    /// A visit stopped between the peer's aggregates and the visit record (as a crash
    /// there would stop it) counts in neither.
    #[test]
    fn a_visit_stopped_midway_counts_in_neither_the_peer_nor_its_visits() {
        let (dir, store) = temp_store();
        let node = enr(1, 1).node_id;
        store.upsert_peer(1, &enr(1, 1), 0).unwrap();
        store.arm_failpoint("record_visit");
        assert!(store
            .record_visit(&visit(1, 1_000, None), PeerState::Vetted)
            .is_err());
        drop(store);
        let store = crate::store::test_support::reopen(dir.path());
        let dial = store.get_peer(&node).unwrap().unwrap().dial;
        let visits = store.visits(&node).unwrap();
        assert_eq!(
            (dial.attempts, dial.sessions, visits.len()),
            (0, 0, 0),
            "a visit half applied"
        );
        // Done again, it counts once.
        store
            .record_visit(&visit(1, 1_000, None), PeerState::Vetted)
            .unwrap();
        let dial = store.get_peer(&node).unwrap().unwrap().dial;
        assert_eq!((dial.attempts, dial.sessions), (1, 1));
        assert_eq!(store.visits(&node).unwrap().len(), 1);
    }

    #[test]
    fn visits_are_capped_per_peer_oldest_dropped() {
        let (_dir, store) = temp_store();
        let extra = 25u64;
        for i in 0..VISITS_PER_PEER as u64 + extra {
            // Times past 255 ms check the numeric order of the time part.
            store
                .record_visit(&visit(1, 1_000 + i * 300, None), PeerState::Vetted)
                .unwrap();
        }
        store
            .record_visit(&visit(2, 5, None), PeerState::Vetted)
            .unwrap();
        let kept = store.visits(&[1; 32]).unwrap();
        assert_eq!(kept.len(), VISITS_PER_PEER);
        assert_eq!(kept[0].started, 1_000 + extra * 300);
        assert!(kept.windows(2).all(|w| w[0].started < w[1].started));
        // Another peer's visits are neither counted nor dropped with these.
        assert_eq!(store.visits(&[2; 32]).unwrap().len(), 1);
        // Visits of a peer not in the store are kept too (the peer record is untouched).
        assert_eq!(store.get_peer(&[1; 32]).unwrap(), None);
    }
}
