//! Seed mode: accept inbound CometBFT connections and answer `PexRequest` the way the PEX
//! reactor's seed does.
//!
//! Per connection (at most `max_inbound` at once; more are closed on accept):
//! 1. handshake and NodeInfo (a banned peer is closed right after the handshake; a peer of
//!    another network after NodeInfo);
//! 2. the first `PexRequest` is answered with a selection of the crawl's **vetted** peers
//!    of its chain ([`selection_with_bias`]), then the connection is closed;
//! 3. a request sooner than `request_interval` after the previous one (on any connection),
//!    an unsolicited `PexAddrs`, or a packet the reader refuses bans the peer for the ban
//!    duration and closes the connection; nothing is answered.
//!
//! The crawl loop owns the pool of answerable peers and refreshes it in [`SeedShared`];
//! what happened goes back to the loop as [`SeedEvent`]s on a bounded channel (events that
//! do not fit are counted as dropped, never waited for).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use super::conn::{self, Conn, LocalNode, PEX};
use super::select::{selection_with_bias, PoolEntry, RequestVerdict, Requesters};
use crate::model::ErrorClass;
use crate::protocol::cometbft::node_info::NodeInfo;
use crate::protocol::cometbft::pex::{self, PexMessage};
use crate::protocol::cometbft::CometId;

/// Seed settings the server applies.
#[derive(Clone, Copy, Debug)]
pub struct SeedConfig {
    pub max_reply: usize,
    pub new_bias: u8,
    pub max_inbound: usize,
    /// Handshake + NodeInfo bound.
    pub handshake_timeout: Duration,
    /// How long a connected peer may take to ask.
    pub idle_timeout: Duration,
}

/// State shared between the crawl loop and the connection handlers.
pub struct SeedShared {
    /// Vetted peers of the chain (refreshed by the loop).
    pub pool: Vec<PoolEntry>,
    pub requesters: Requesters,
    rng: StdRng,
}

impl SeedShared {
    /// Empty pool.
    pub fn new(requesters: Requesters) -> SeedShared {
        SeedShared {
            pool: Vec::new(),
            requesters,
            rng: StdRng::from_entropy(),
        }
    }
}

/// Locks the shared state; a handler that panicked left it consistent (every update is a
/// single assignment or map operation).
pub fn lock(shared: &Mutex<SeedShared>) -> std::sync::MutexGuard<'_, SeedShared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an inbound connection came to.
#[derive(Clone, Debug)]
pub enum SeedEvent {
    /// Answered with `sent` addresses.
    Served {
        id: CometId,
        info: Box<NodeInfo>,
        sent: usize,
    },
    /// Refused; `banned` when this refusal banned it (it was not banned before).
    Refused {
        id: CometId,
        info: Option<Box<NodeInfo>>,
        reason: String,
        banned: bool,
    },
    /// The handshake or NodeInfo failed (another network, bad NodeInfo, a stranger that
    /// did not finish); `id` when the key was authenticated.
    Failed {
        id: Option<CometId>,
        info: Option<Box<NodeInfo>>,
        class: ErrorClass,
        reason: String,
    },
    /// Closed on accept: too many inbound connections.
    Overloaded,
}

/// Serves `listener` until `cancel`.
pub async fn serve(
    listener: TcpListener,
    local: Arc<LocalNode>,
    shared: Arc<Mutex<SeedShared>>,
    config: SeedConfig,
    events: mpsc::Sender<SeedEvent>,
    cancel: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(config.max_inbound.max(1)));
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(target: "peerscope::cometbft", error = %e, "accept failed");
                // E.g. EMFILE: back off a little instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            let _ = events.try_send(SeedEvent::Overloaded);
            continue;
        };
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let (local, shared, events) = (local.clone(), shared.clone(), events.clone());
        let deadline = Instant::now() + config.handshake_timeout + config.idle_timeout;
        let dog = stream.try_clone().ok().map(|c| conn::watchdog(c, deadline));
        tokio::spawn(async move {
            let done = tokio::task::spawn_blocking(move || {
                handle(stream, peer, &local, &shared, config, &events)
            })
            .await;
            if let Some(d) = dog {
                d.abort();
            }
            if let Err(e) = done {
                tracing::error!(target: "peerscope::cometbft", error = %e, "seed handler failed");
            }
            drop(permit);
        });
    }
}

/// One inbound connection, blocking.
fn handle(
    stream: std::net::TcpStream,
    peer: SocketAddr,
    local: &LocalNode,
    shared: &Mutex<SeedShared>,
    config: SeedConfig,
    events: &mpsc::Sender<SeedEvent>,
) {
    let emit = |e: SeedEvent| {
        // Never block a handler on the loop: a full channel drops the event.
        let _ = events.try_send(e);
    };
    let handshake_deadline = Instant::now() + config.handshake_timeout;
    let mut c = match conn::establish(stream, local, None, handshake_deadline) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(target: "peerscope::cometbft", %peer, error = %e, "inbound refused");
            emit(SeedEvent::Failed {
                id: None,
                info: e.node_info().cloned().map(Box::new),
                class: e.class(),
                reason: e.to_string(),
            });
            return;
        }
    };
    let id = c.remote_id();
    let info = Box::new(c.remote_info().clone());
    if lock(shared)
        .requesters
        .is_banned(&id, tokio::time::Instant::now())
    {
        c.close();
        emit(SeedEvent::Refused {
            id,
            info: Some(info),
            reason: "banned".into(),
            banned: false,
        });
        return;
    }
    c.extend(Instant::now() + config.idle_timeout);
    let outcome = serve_requests(&mut c, shared, config);
    c.close();
    emit(match outcome {
        Ok(sent) => SeedEvent::Served { id, info, sent },
        Err((reason, banned)) => SeedEvent::Refused {
            id,
            info: Some(info),
            reason,
            banned,
        },
    });
}

/// Reads until the first request and answers it; `Err((reason, banned))` otherwise.
fn serve_requests(
    c: &mut Conn,
    shared: &Mutex<SeedShared>,
    config: SeedConfig,
) -> Result<usize, (String, bool)> {
    let id = c.remote_id();
    let ban = |reason: String| {
        let mut s = lock(shared);
        let now = tokio::time::Instant::now();
        let fresh = !s.requesters.is_banned(&id, now);
        s.requesters.ban(id, now);
        (reason, fresh)
    };
    loop {
        let (channel, data) = match c.recv() {
            Ok(m) => m,
            Err(e) if e.is_violation() => return Err(ban(e.to_string())),
            Err(e) => return Err((format!("no request: {e}"), false)),
        };
        if channel != PEX {
            continue;
        }
        match pex::decode(&data) {
            Err(e) => return Err(ban(e.to_string())),
            Ok(PexMessage::Addrs(list)) => {
                return Err(ban(format!(
                    "unsolicited address list ({} addresses)",
                    list.len()
                )))
            }
            Ok(PexMessage::Request) => {
                let answer = {
                    let mut s = lock(shared);
                    let now = tokio::time::Instant::now();
                    match s.requesters.on_request(id, now) {
                        RequestVerdict::Answer => {
                            let SeedShared { pool, rng, .. } = &mut *s;
                            Ok(selection_with_bias(
                                pool,
                                config.max_reply,
                                config.new_bias,
                                Some(id),
                                rng,
                            ))
                        }
                        RequestVerdict::TooSoon(after) => Err((
                            format!(
                                "asked again after {} ms, sooner than the minimum interval",
                                after.as_millis()
                            ),
                            true,
                        )),
                        RequestVerdict::Banned => Err(("banned".into(), false)),
                    }
                };
                let list = answer?;
                let n = list.len();
                c.send(PEX, &pex::encode_addrs(list))
                    .map_err(|e| (format!("sending the answer: {e}"), false))?;
                return Ok(n);
            }
        }
    }
}
