//! The walk's requests on the wire: sending what the walk asks for, and what an answer
//! or a failure does (the walk's bookkeeping, the peer seen, the records it holds).

use std::time::Duration;

use super::io::Job;
use super::records::Responder;
use super::Crawler;
use crate::model::{now_millis, SourceKind};
use crate::store::StoreError;

impl Crawler {
    /// Sends the FINDNODE requests the walk has room for.
    pub(super) fn send_requests(&mut self) {
        // discv5 times requests out itself; this outer bound only guards against a lost
        // callback.
        let guard = self.settings.request_timeout * 3 + Duration::from_secs(1);
        for request in self.walk.next_requests(self.io.in_flight()) {
            let Some(enr) = self.walk.record(&request.node).cloned() else {
                continue;
            };
            self.crawl.progress.find_node_requests += 1;
            self.metrics.find_node(1, 0);
            self.io.send(request, enr, guard);
        }
    }

    pub(super) fn on_job(&mut self, job: Job) -> Result<(), StoreError> {
        match job {
            Job::Lookup(result) => {
                self.crawl.progress.lookups += 1;
                if let Ok(enrs) = result {
                    self.on_enrs(enrs, SourceKind::Discv5, None, Responder::Lookups)?;
                }
            }
            Job::FindNode {
                request,
                result: Ok(enrs),
            } => {
                if request.is_probe() {
                    // It answered: seen now (once per walk, not per request).
                    self.store.touch_peer(&request.node, now_millis())?;
                }
                self.walk.answered(request);
                let from = self.responder(&request.node);
                self.on_enrs(enrs, SourceKind::Discv5, None, from)?;
            }
            Job::FindNode {
                request,
                result: Err(reason),
            } => {
                self.crawl.progress.find_node_failures += 1;
                self.metrics.find_node(0, 1);
                let outcome = self.walk.failed(request);
                tracing::trace!(
                    node = %hex::encode(request.node),
                    distance = request.distance,
                    %reason,
                    ?outcome,
                    "FINDNODE failed"
                );
            }
        }
        Ok(())
    }
}
