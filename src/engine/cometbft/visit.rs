//! One crawl visit: dial `id@ip:port`, handshake, NodeInfo, one `PexRequest`, the
//! `PexAddrs` answer, disconnect.
//!
//! What counts as abuse (the crawler bans the peer and uses nothing it sent): an answer
//! with more than `max_addrs` addresses or above the PEX message limit, an answer with a
//! malformed entry (checked by the crawler), a packet the reader refuses (unknown channel,
//! oversized, undecodable). A peer that sends nothing in time, or closes, simply gave no
//! answer. Unsolicited lists are the seed server's concern: the crawler disconnects as
//! soon as it has its answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::{self, Conn, ConnError, LocalNode, PEX};
use crate::model::{now_millis, UnixMillis};
use crate::protocol::cometbft::node_info::NodeInfo;
use crate::protocol::cometbft::pex::{self, PexError, PexMessage};
use crate::protocol::cometbft::{pb, PeerAddr};

/// Bounds of one visit.
#[derive(Clone, Copy, Debug)]
pub struct VisitSettings {
    /// TCP connect.
    pub connect_timeout: Duration,
    /// Everything after the connect.
    pub exchange_timeout: Duration,
    /// Most addresses accepted in the answer.
    pub max_addrs: usize,
}

/// What the PEX exchange gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PexOutcome {
    /// The answer (not validated beyond its size).
    Addrs(Vec<pb::NetAddress>),
    /// No answer: why.
    NoAnswer(String),
    /// The peer broke the rules: ban it, use nothing it sent.
    Abuse(String),
}

/// The result of one visit.
#[derive(Debug)]
pub struct Visit {
    pub target: PeerAddr,
    pub started: UnixMillis,
    pub duration: Duration,
    pub result: Result<(NodeInfo, PexOutcome), ConnError>,
}

/// Visits `target` as `local`. Never panics; every path ends within connect timeout +
/// exchange timeout (plus scheduling).
pub async fn visit(target: PeerAddr, local: Arc<LocalNode>, settings: VisitSettings) -> Visit {
    let started = now_millis();
    let t0 = Instant::now();
    let result = match conn::connect(target.addr, settings.connect_timeout).await {
        Err(e) => Err(e),
        Ok(stream) => {
            let deadline = Instant::now() + settings.exchange_timeout;
            let dog = stream.try_clone().ok().map(|c| conn::watchdog(c, deadline));
            let expected = target.id;
            let max = settings.max_addrs;
            let joined = tokio::task::spawn_blocking(move || {
                let mut c = conn::establish(stream, &local, Some(expected), deadline)?;
                let outcome = ask(&mut c, max);
                let info = c.remote_info().clone();
                c.close();
                Ok((info, outcome))
            })
            .await;
            if let Some(d) = dog {
                d.abort();
            }
            joined.unwrap_or_else(|e| {
                Err(ConnError::Handshake {
                    reason: format!("visit task failed: {e}"),
                    timed_out: false,
                })
            })
        }
    };
    Visit {
        target,
        started,
        duration: t0.elapsed(),
        result,
    }
}

/// Sends one `PexRequest` and reads until the answer.
pub fn ask(c: &mut Conn, max_addrs: usize) -> PexOutcome {
    if let Err(e) = c.send(PEX, &pex::encode_request()) {
        return PexOutcome::NoAnswer(format!("sending the request: {e}"));
    }
    loop {
        let (channel, data) = match c.recv() {
            Ok(m) => m,
            Err(e) if e.is_violation() => return PexOutcome::Abuse(e.to_string()),
            Err(e) => return PexOutcome::NoAnswer(e.to_string()),
        };
        if channel != PEX {
            continue;
        }
        match pex::decode(&data) {
            Err(e) => return PexOutcome::Abuse(e.to_string()),
            // The peer asks us back: answer with nothing (a crawler vouches for no one).
            Ok(PexMessage::Request) => {
                if c.send(PEX, &pex::encode_addrs(Vec::new())).is_err() {
                    return PexOutcome::NoAnswer("closed".into());
                }
            }
            Ok(PexMessage::Addrs(list)) => {
                if list.len() > max_addrs {
                    return PexOutcome::Abuse(
                        PexError::Oversized {
                            len: list.len(),
                            max: max_addrs,
                        }
                        .to_string(),
                    );
                }
                return PexOutcome::Addrs(list);
            }
        }
    }
}
