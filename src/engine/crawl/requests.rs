//! The walk's requests on the wire: sending what the walk asks for with the timeout it
//! gives, and what an answer or a failure does (the walk's bookkeeping, the peer seen, the
//! records it holds); and the records random lookups bring, with what they find that the
//! walk does not.

use std::time::Duration;

use super::io::Job;
use super::records::Responder;
use super::walk::{Failure, Request, ATTEMPTS};
use super::Crawler;
use crate::model::{now_millis, NodeId, SourceKind};
use crate::protocol::enr::Enr;
use crate::store::StoreError;

/// A node that answers is written as seen at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

impl Crawler {
    /// Sends the FINDNODE requests the walk has room for.
    pub(super) fn send_requests(&mut self) {
        let now = tokio::time::Instant::now();
        for request in self.walk.next_requests(self.io.lookups_in_flight(), now) {
            let Some(enr) = self.walk.record(&request.node).cloned() else {
                // Records are never dropped; should one be missing, the request ends here.
                self.walk.failed(
                    Request {
                        attempt: ATTEMPTS,
                        ..request
                    },
                    false,
                    now,
                );
                continue;
            };
            self.crawl.progress.find_node_requests += 1;
            self.metrics.find_node(1, 0);
            self.io.send(request, enr);
        }
    }

    /// Stops waiting for the requests that timed out (the walk retries them).
    pub(super) fn expire_requests(&mut self) {
        for (request, outcome) in self.walk.expire(tokio::time::Instant::now()) {
            self.crawl.progress.find_node_failures += 1;
            self.metrics.find_node(0, 1);
            tracing::trace!(
                node = %hex::encode(request.node),
                ask = ?request.ask,
                attempt = request.attempt,
                ?outcome,
                "FINDNODE timed out"
            );
        }
    }

    pub(super) fn on_job(&mut self, job: Job) -> Result<(), StoreError> {
        match job {
            Job::Lookup(result) => {
                self.crawl.progress.lookups += 1;
                if let Ok(enrs) = result {
                    for enr in enrs {
                        self.on_lookup_enr(enr)?;
                    }
                }
            }
            Job::FindNode {
                request,
                result: Ok(enrs),
            } => {
                if request.is_probe() {
                    // It answered: seen now, written at most once per TOUCH_EVERY (the
                    // crawl's first sighting of a node stored it as seen moments ago).
                    let now = tokio::time::Instant::now();
                    match self.touched.get(&request.node) {
                        Some(t) if now.duration_since(*t) < TOUCH_EVERY => {}
                        Some(_) => {
                            self.store.touch_peer(&request.node, now_millis())?;
                            self.touched.insert(request.node, now);
                        }
                        None => {
                            self.touched.insert(request.node, now);
                        }
                    }
                }
                let found: Vec<NodeId> = enrs.iter().map(|e| e.node_id().raw()).collect();
                self.walk
                    .answered(request, &found, tokio::time::Instant::now());
                let from = self.responder(&request.node);
                for (enr, id) in enrs.into_iter().zip(found) {
                    if self.walk_found.insert(id) {
                        self.lookup_only.remove(&id);
                    }
                    self.on_enr(enr, SourceKind::Discv5, None, from)?;
                }
            }
            Job::FindNode {
                request,
                result: Err(reason),
            } => {
                let outcome =
                    self.walk
                        .failed(request, reason.is_timeout(), tokio::time::Instant::now());
                if outcome == Failure::Ignored {
                    // It had timed out already.
                    return Ok(());
                }
                self.crawl.progress.find_node_failures += 1;
                self.metrics.find_node(0, 1);
                tracing::trace!(
                    node = %hex::encode(request.node),
                    ask = ?request.ask,
                    attempt = request.attempt,
                    %reason,
                    ?outcome,
                    "FINDNODE failed"
                );
            }
        }
        Ok(())
    }

    /// A record a random lookup came across: noted when no answer of the walk had it.
    pub(super) fn on_lookup_enr(&mut self, enr: Enr) -> Result<(), StoreError> {
        let id = enr.node_id().raw();
        if !self.walk_found.contains(&id) && id != self.io.local_id {
            self.lookup_only.insert(id);
        }
        self.on_enr(enr, SourceKind::Discv5, None, Responder::Lookups)
    }
}
