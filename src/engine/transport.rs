//! The crawler's libp2p transport, the swarms built on it, and what a failed dial means.
//!
//! [`tcp_transport`] is TCP (nodelay) + Noise + Yamux with each phase bounded;
//! [`build_swarm`] puts it under a swarm. A dial failure keeps its types all the way to
//! [`classify_dial_error`]: libp2p's `DialError` and `TransportError`, the phase that failed
//! ([`TransportFailure`]), the crate's own timeouts ([`PhaseTimeout`]), multistream-select's
//! `NegotiationError`, Noise's error and the `io::ErrorKind` of the socket. The
//! classification reads those types, never message text.
//!
//! The wrappers here display as what they wrap (as libp2p's own wrappers do), so the raw
//! error text of a visit reads as libp2p makes it.

use std::error::Error;
use std::fmt;
use std::io;
use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::timeout::{TransportTimeout, TransportTimeoutError};
use libp2p::core::transport::{Boxed, Transport as _};
use libp2p::core::upgrade::{self, NegotiationError};
use libp2p::swarm::{DialError, NetworkBehaviour};
use libp2p::{identity, noise, tcp, yamux, PeerId, TransportError};

use crate::model::ErrorClass;

/// Error text of a TCP connect that did not finish within the dial timeout.
pub const TCP_CONNECT_TIMEOUT: &str = "TCP connect timed out";
/// Error text of a handshake (multistream-select, Noise, Yamux) that did not finish in time
/// after TCP connected.
pub const HANDSHAKE_TIMEOUT: &str = "handshake (multistream, Noise, Yamux) did not finish in time";

/// Bound on a whole connection attempt, on top of the phase bounds of [`tcp_transport`]:
/// 10 s, the value libp2p's `SwarmBuilder` sets. With a dial timeout above 5 s it ends the
/// handshake phase early, and such a dial is a [`ErrorClass::Timeout`].
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Inbound streams one connection negotiates at once, at most (libp2p's default is 128).
/// A crawler connection runs a handful of protocols (identify, ping, metadata, peer
/// exchange, relay), so more in negotiation at once is a peer flooding it.
pub const MAX_NEGOTIATING_INBOUND_STREAMS: usize = 16;

/// A phase of [`tcp_transport`] that did not finish within its bound. Carried inside an
/// `io::Error` of kind `TimedOut`; displays as [`TCP_CONNECT_TIMEOUT`] or
/// [`HANDSHAKE_TIMEOUT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseTimeout {
    /// The TCP connect.
    Connect,
    /// multistream-select, Noise and Yamux, after TCP connected.
    Handshake,
}

impl fmt::Display for PhaseTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PhaseTimeout::Connect => TCP_CONNECT_TIMEOUT,
            PhaseTimeout::Handshake => HANDSHAKE_TIMEOUT,
        })
    }
}

impl Error for PhaseTimeout {}

/// The phase of [`tcp_transport`] that failed, with that phase's error. Transparent: it
/// displays as, and has the sources of, the error it holds.
#[derive(Debug)]
pub enum TransportFailure {
    /// The TCP connect (its socket error, or [`PhaseTimeout::Connect`] inside a `TimedOut`).
    Connect(io::Error),
    /// Noise: negotiating it (multistream-select) or its handshake. libp2p's upgrade error,
    /// whose type libp2p keeps private: its source is the `NegotiationError` or Noise's own
    /// error.
    Security(Box<dyn Error + Send + Sync>),
    /// Yamux: negotiating it or setting it up (libp2p's upgrade error, as for `Security`).
    Muxer(Box<dyn Error + Send + Sync>),
}

impl TransportFailure {
    fn inner(&self) -> &(dyn Error + 'static) {
        match self {
            TransportFailure::Connect(e) => e,
            TransportFailure::Security(e) | TransportFailure::Muxer(e) => e.as_ref(),
        }
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner(), f)
    }
}

impl Error for TransportFailure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.inner().source()
    }
}

/// The TCP connect's bound, as an `io::Error` the upgrade layers carry.
fn connect_error(e: TransportTimeoutError<io::Error>) -> io::Error {
    match e {
        TransportTimeoutError::Timeout => {
            io::Error::new(io::ErrorKind::TimedOut, PhaseTimeout::Connect)
        }
        TransportTimeoutError::TimerError(e) | TransportTimeoutError::Other(e) => e,
    }
}

/// The handshake's bound, and any failure of the connection attempt, as the `io::Error` a
/// boxed transport yields.
fn handshake_error(e: TransportTimeoutError<TransportFailure>) -> io::Error {
    match e {
        TransportTimeoutError::Timeout => {
            io::Error::new(io::ErrorKind::TimedOut, PhaseTimeout::Handshake)
        }
        other => io::Error::other(other),
    }
}

/// The crawler's libp2p transport: TCP (nodelay) + Noise + Yamux, each phase bounded. The
/// TCP connect must finish within `timeout` (the TCP transport has no connect timeout of
/// its own); connect and handshake together within `2 × timeout`, so a handshake always
/// gets at least `timeout`. The two timeouts are distinct [`PhaseTimeout`]s: a peer that
/// accepts TCP and never speaks, or stalls mid-handshake, is
/// [`ErrorClass::HandshakeTimeout`], not [`ErrorClass::Timeout`].
pub fn tcp_transport(
    key: &identity::Keypair,
    timeout: Duration,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, noise::Error> {
    let tcp = TransportTimeout::new(
        tcp::tokio::Transport::new(tcp::Config::default().nodelay(true)),
        timeout,
    )
    .map_err(connect_error);
    upgrade(tcp, key, timeout)
}

/// Noise + Yamux over `base`, connect and handshake together bounded by `2 × timeout`;
/// failures become [`TransportFailure`]s (and [`PhaseTimeout::Handshake`]).
fn upgrade<T, C>(
    base: T,
    key: &identity::Keypair,
    timeout: Duration,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, noise::Error>
where
    T: libp2p::Transport<Output = C, Error = io::Error> + Send + Unpin + 'static,
    T::Dial: Send + 'static,
    T::ListenerUpgrade: Send + 'static,
    C: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
{
    let noise = noise::Config::new(key)?;
    let upgraded = base
        .upgrade(upgrade::Version::V1Lazy)
        .authenticate(noise)
        .multiplex(yamux::Config::default())
        .map_err(|e| {
            e.either(
                |e| {
                    e.either(TransportFailure::Connect, |e| {
                        TransportFailure::Security(Box::new(e))
                    })
                },
                |e| TransportFailure::Muxer(Box::new(e)),
            )
        });
    Ok(TransportTimeout::new(upgraded, timeout.saturating_mul(2))
        .map_err(handshake_error)
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
        .boxed())
}

/// A swarm over [`tcp_transport`] (tokio executor, the whole attempt bounded by
/// [`CONNECTION_TIMEOUT`]), closing connections idle for `idle`. Built as libp2p's
/// `SwarmBuilder` builds one, without the builder's extra transport layers, so that every
/// dial failure reaches [`classify_dial_error`] with its types intact.
pub fn build_swarm<B: NetworkBehaviour>(
    key: &identity::Keypair,
    behaviour: B,
    timeout: Duration,
    idle: Duration,
) -> Result<libp2p::Swarm<B>, noise::Error> {
    Ok(swarm_over(
        tcp_transport(key, timeout)?,
        key,
        behaviour,
        idle,
    ))
}

/// A swarm over `transport` (tokio executor, the whole attempt bounded by
/// [`CONNECTION_TIMEOUT`]). Built as libp2p's `SwarmBuilder` builds one, without the
/// builder's extra transport layers, so that every dial failure reaches
/// [`classify_dial_error`] with its types intact.
fn swarm_over<B: NetworkBehaviour>(
    transport: Boxed<(PeerId, StreamMuxerBox)>,
    key: &identity::Keypair,
    behaviour: B,
    idle: Duration,
) -> libp2p::Swarm<B> {
    libp2p::Swarm::new(
        TransportTimeout::new(transport, CONNECTION_TIMEOUT).boxed(),
        behaviour,
        key.public().to_peer_id(),
        libp2p::swarm::Config::with_tokio_executor()
            .with_idle_connection_timeout(idle)
            .with_max_negotiating_inbound_streams(MAX_NEGOTIATING_INBOUND_STREAMS),
    )
}

/// Maps a dial error to its class and raw text.
pub fn classify_dial_error(error: &DialError) -> (ErrorClass, String) {
    let text = error_chain(error);
    let class = match error {
        DialError::NoAddresses => ErrorClass::NoAddress,
        DialError::WrongPeerId { .. } => ErrorClass::PeerIdMismatch,
        DialError::Aborted => ErrorClass::Canceled,
        DialError::LocalPeerId { .. } | DialError::Denied { .. } => ErrorClass::Other,
        DialError::DialPeerConditionFalse(_) => ErrorClass::Other,
        DialError::Transport(errors) => errors
            .iter()
            .map(|(_, e)| classify_transport(e))
            // With several addresses, report the most informative failure.
            .min_by_key(|c| match c {
                ErrorClass::PeerIdMismatch => 0,
                ErrorClass::Handshake => 1,
                ErrorClass::HandshakeTimeout => 2,
                ErrorClass::Timeout => 3,
                ErrorClass::Refused => 4,
                ErrorClass::Unreachable => 5,
                _ => 6,
            })
            .unwrap_or(ErrorClass::Other),
    };
    (class, text)
}

/// The class of one address's failure.
fn classify_transport(error: &TransportError<io::Error>) -> ErrorClass {
    match error {
        TransportError::MultiaddrNotSupported(_) => ErrorClass::NoAddress,
        TransportError::Other(e) => {
            let mut evidence = Evidence::default();
            evidence.visit(e, 0);
            evidence.class()
        }
    }
}

/// How deep [`Evidence::visit`] follows an error's causes.
const MAX_DEPTH: usize = 32;

/// What the typed causes of one failed connection attempt show.
#[derive(Debug, Default)]
struct Evidence {
    /// [`PhaseTimeout::Handshake`].
    handshake_timeout: bool,
    /// [`PhaseTimeout::Connect`], the whole attempt's bound, or a socket `TimedOut`.
    timed_out: bool,
    /// A socket `ConnectionRefused`.
    refused: bool,
    /// A socket `HostUnreachable`, `NetworkUnreachable` or `AddrNotAvailable`.
    unreachable: bool,
    /// An upgrade (Noise, Yamux) failed: in multistream-select (`Some(true)`) or in the
    /// protocol itself (`Some(false)`).
    negotiation: Option<bool>,
}

impl Evidence {
    /// Walks `e` and its causes. An `io::Error` is entered through the error it wraps
    /// (its `source` skips that error), and the crate's and libp2p's wrappers through
    /// their variants.
    fn visit(&mut self, e: &(dyn Error + 'static), depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            self.kind(io.kind());
            if let Some(inner) = io.get_ref() {
                self.visit(inner, depth + 1);
            }
            return;
        }
        if let Some(t) = e.downcast_ref::<PhaseTimeout>() {
            match t {
                PhaseTimeout::Connect => self.timed_out = true,
                PhaseTimeout::Handshake => self.handshake_timeout = true,
            }
            return;
        }
        // The whole attempt's bound (`CONNECTION_TIMEOUT`) over the boxed transport.
        if let Some(t) = e.downcast_ref::<TransportTimeoutError<io::Error>>() {
            match t {
                TransportTimeoutError::Timeout => self.timed_out = true,
                TransportTimeoutError::TimerError(e) | TransportTimeoutError::Other(e) => {
                    self.visit(e, depth + 1)
                }
            }
            return;
        }
        // The handshake's bound over the upgraded transport.
        if let Some(t) = e.downcast_ref::<TransportTimeoutError<TransportFailure>>() {
            match t {
                TransportTimeoutError::Timeout => self.handshake_timeout = true,
                TransportTimeoutError::TimerError(e) => self.visit(e, depth + 1),
                TransportTimeoutError::Other(f) => self.visit(f, depth + 1),
            }
            return;
        }
        if let Some(f) = e.downcast_ref::<TransportFailure>() {
            match f {
                TransportFailure::Connect(io) => self.visit(io, depth + 1),
                TransportFailure::Security(u) | TransportFailure::Muxer(u) => {
                    // libp2p's upgrade error: its source is multistream-select's error
                    // (the protocol was not agreed on) or the protocol's own.
                    let cause = u.source();
                    let negotiation = cause.is_some_and(|c| c.is::<NegotiationError>());
                    self.negotiation.get_or_insert(negotiation);
                    if let Some(c) = cause {
                        self.visit(c, depth + 1);
                    }
                }
            }
            return;
        }
        if let Some(noise::Error::Io(io)) = e.downcast_ref::<noise::Error>() {
            // Transparent: its source skips the io::Error it holds.
            self.visit(io, depth + 1);
            return;
        }
        if let Some(s) = e.source() {
            self.visit(s, depth + 1);
        }
    }

    fn kind(&mut self, kind: io::ErrorKind) {
        use io::ErrorKind::*;
        match kind {
            ConnectionRefused => self.refused = true,
            TimedOut => self.timed_out = true,
            HostUnreachable | NetworkUnreachable | AddrNotAvailable => self.unreachable = true,
            _ => {}
        }
    }

    /// The class, most specific evidence first: the crate's handshake bound, then what the
    /// socket said, then the upgrade that failed.
    fn class(&self) -> ErrorClass {
        if self.handshake_timeout {
            ErrorClass::HandshakeTimeout
        } else if self.refused {
            ErrorClass::Refused
        } else if self.timed_out {
            ErrorClass::Timeout
        } else if self.unreachable {
            ErrorClass::Unreachable
        } else {
            match self.negotiation {
                Some(false) => ErrorClass::Handshake,
                Some(true) => ErrorClass::ProtocolNegotiation,
                None => ErrorClass::Other,
            }
        }
    }
}

/// An error and its sources, joined with ": ".
fn error_chain(e: &dyn Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;

    use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
    use libp2p::core::transport::memory::{Channel, MemoryTransport, MemoryTransportError};
    use libp2p::core::transport::{ListenerId, TransportEvent};
    use libp2p::multiaddr::Protocol;
    use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
    use libp2p::swarm::{dummy, ConnectionDenied, SwarmEvent};
    use libp2p::{Multiaddr, Transport};

    use super::*;

    fn addr() -> Multiaddr {
        "/ip4/127.0.0.1/tcp/9".parse().unwrap()
    }

    /// A failure of the upgraded transport as the swarm sees it: boxed by
    /// `tcp_transport`, then under the whole attempt's bound, boxed again.
    fn as_swarm_sees(e: io::Error) -> TransportError<io::Error> {
        TransportError::Other(io::Error::other(TransportTimeoutError::Other(
            io::Error::other(e),
        )))
    }

    fn dial_error(e: io::Error) -> DialError {
        DialError::Transport(vec![(addr(), as_swarm_sees(e))])
    }

    /// A TCP connect that failed with `e`.
    fn connect_failed(e: io::Error) -> DialError {
        dial_error(handshake_error(TransportTimeoutError::Other(
            TransportFailure::Connect(e),
        )))
    }

    fn class(e: &DialError) -> ErrorClass {
        classify_dial_error(e).0
    }

    #[test]
    fn phase_timeouts_read_as_their_texts() {
        assert_eq!(PhaseTimeout::Connect.to_string(), TCP_CONNECT_TIMEOUT);
        assert_eq!(PhaseTimeout::Handshake.to_string(), HANDSHAKE_TIMEOUT);
    }

    #[test]
    fn the_crate_s_timeouts_are_told_apart() {
        let connect = connect_failed(connect_error(TransportTimeoutError::Timeout));
        let (c, text) = classify_dial_error(&connect);
        assert_eq!(c, ErrorClass::Timeout);
        assert!(text.contains(TCP_CONNECT_TIMEOUT), "{text}");

        let handshake = dial_error(handshake_error(TransportTimeoutError::Timeout));
        let (c, text) = classify_dial_error(&handshake);
        assert_eq!(c, ErrorClass::HandshakeTimeout);
        assert!(text.contains(HANDSHAKE_TIMEOUT), "{text}");

        // The whole attempt's bound.
        let whole = DialError::Transport(vec![(
            addr(),
            TransportError::Other(io::Error::other(
                TransportTimeoutError::<io::Error>::Timeout,
            )),
        )]);
        assert_eq!(class(&whole), ErrorClass::Timeout);
    }

    #[test]
    fn socket_errors_are_classified_by_kind() {
        use io::ErrorKind::*;
        for (kind, expected) in [
            (ConnectionRefused, ErrorClass::Refused),
            (TimedOut, ErrorClass::Timeout),
            (HostUnreachable, ErrorClass::Unreachable),
            (NetworkUnreachable, ErrorClass::Unreachable),
            (AddrNotAvailable, ErrorClass::Unreachable),
            (ConnectionReset, ErrorClass::Other),
            (PermissionDenied, ErrorClass::Other),
        ] {
            let e = connect_failed(io::Error::from(kind));
            assert_eq!(class(&e), expected, "{kind:?}");
        }
        // The kind decides, not the words: a refusal that says "timed out".
        let e = connect_failed(io::Error::new(ConnectionRefused, "timed out"));
        assert_eq!(class(&e), ErrorClass::Refused);
        let e = connect_failed(io::Error::other("connection refused"));
        assert_eq!(class(&e), ErrorClass::Other);
    }

    #[test]
    fn swarm_level_dial_errors() {
        let peer = PeerId::random();
        for (e, expected) in [
            (DialError::NoAddresses, ErrorClass::NoAddress),
            (DialError::Aborted, ErrorClass::Canceled),
            (
                DialError::WrongPeerId {
                    obtained: peer,
                    address: addr(),
                },
                ErrorClass::PeerIdMismatch,
            ),
            (
                DialError::LocalPeerId { address: addr() },
                ErrorClass::Other,
            ),
            (
                DialError::DialPeerConditionFalse(PeerCondition::Disconnected),
                ErrorClass::Other,
            ),
            (
                DialError::Denied {
                    cause: ConnectionDenied::new(io::Error::from(io::ErrorKind::TimedOut)),
                },
                ErrorClass::Other,
            ),
            (
                DialError::Transport(vec![(
                    addr(),
                    TransportError::MultiaddrNotSupported(addr()),
                )]),
                ErrorClass::NoAddress,
            ),
            (DialError::Transport(vec![]), ErrorClass::Other),
        ] {
            assert_eq!(class(&e), expected, "{e}");
        }
    }

    #[test]
    fn with_several_addresses_the_most_informative_failure_counts() {
        let refused = || {
            as_swarm_sees(handshake_error(TransportTimeoutError::Other(
                TransportFailure::Connect(io::ErrorKind::ConnectionRefused.into()),
            )))
        };
        let stalled = || as_swarm_sees(handshake_error(TransportTimeoutError::Timeout));
        let e = DialError::Transport(vec![(addr(), refused()), (addr(), stalled())]);
        assert_eq!(class(&e), ErrorClass::HandshakeTimeout);
        let e = DialError::Transport(vec![
            (addr(), TransportError::MultiaddrNotSupported(addr())),
            (addr(), refused()),
        ]);
        assert_eq!(class(&e), ErrorClass::Refused);
    }

    // The same transport over libp2p's in-memory channels (no sockets): real libp2p
    // upgrade errors, through the same layers as a TCP dial.

    const PHASE: Duration = Duration::from_millis(300);

    fn memory_address() -> Multiaddr {
        Multiaddr::empty().with(Protocol::Memory(rand::random::<u64>().max(1)))
    }

    /// The upgraded transport over memory channels; a port nobody listens on is refused
    /// (as a closed TCP port is).
    fn memory_transport(key: &identity::Keypair) -> Boxed<(PeerId, StreamMuxerBox)> {
        let base = MemoryTransport::default().map_err(|e| match e {
            MemoryTransportError::Unreachable => {
                io::Error::new(io::ErrorKind::ConnectionRefused, e)
            }
            other => io::Error::other(other),
        });
        let base = TransportTimeout::new(base, PHASE).map_err(connect_error);
        upgrade(base, key, PHASE).unwrap()
    }

    /// Dials `peer` at `addr` from a memory swarm and returns how the dial failed.
    async fn dial(addr: Multiaddr, peer: PeerId) -> DialError {
        let key = identity::Keypair::generate_ed25519();
        let mut swarm = swarm_over(memory_transport(&key), &key, dummy::Behaviour, PHASE);
        swarm
            .dial(
                DialOpts::peer_id(peer)
                    .addresses(vec![addr])
                    .condition(PeerCondition::Always)
                    .build(),
            )
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::OutgoingConnectionError { error, .. } => return error,
                    SwarmEvent::ConnectionEstablished { .. } => panic!("the dial succeeded"),
                    _ => {}
                }
            }
        })
        .await
        .expect("the dial ends")
    }

    /// Accepts one connection on a fresh memory address and hands it to `serve`.
    fn raw_listener<F, Fut>(serve: F) -> Multiaddr
    where
        F: FnOnce(Channel<Vec<u8>>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let mut t = MemoryTransport::default();
        let addr = memory_address();
        t.listen_on(ListenerId::next(), addr.clone()).unwrap();
        tokio::spawn(async move {
            let accepted = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    let ev = futures::future::poll_fn(|cx| Pin::new(&mut t).poll(cx)).await;
                    if let TransportEvent::Incoming { upgrade, .. } = ev {
                        return upgrade.await.ok();
                    }
                }
            })
            .await;
            if let Ok(Some(conn)) = accepted {
                serve(conn).await;
            }
        });
        addr
    }

    fn someone() -> PeerId {
        identity::Keypair::generate_ed25519().public().to_peer_id()
    }

    #[tokio::test]
    async fn nothing_listening_is_refused() {
        let e = dial(memory_address(), someone()).await;
        assert_eq!(class(&e), ErrorClass::Refused, "{e}");
    }

    #[tokio::test]
    async fn a_peer_that_never_speaks_is_a_handshake_timeout() {
        let addr = raw_listener(|conn| async move {
            tokio::time::sleep(PHASE * 4).await;
            drop(conn);
        });
        let (c, text) = classify_dial_error(&dial(addr, someone()).await);
        assert_eq!(c, ErrorClass::HandshakeTimeout, "{text}");
        assert!(text.contains(HANDSHAKE_TIMEOUT), "{text}");
    }

    #[tokio::test]
    async fn a_peer_that_answers_garbage_fails_the_handshake() {
        let addr = raw_listener(|mut conn| async move {
            let _ = conn.write_all(&[0xff; 64]).await;
            let _ = conn.flush().await;
            let mut buf = [0u8; 256];
            let _ = tokio::time::timeout(PHASE * 4, conn.read(&mut buf)).await;
        });
        let (c, text) = classify_dial_error(&dial(addr, someone()).await);
        assert_eq!(c, ErrorClass::Handshake, "{text}");
    }

    #[tokio::test]
    async fn a_peer_that_hangs_up_fails_the_handshake() {
        let addr = raw_listener(|conn| async move { drop(conn) });
        let (c, text) = classify_dial_error(&dial(addr, someone()).await);
        assert_eq!(c, ErrorClass::Handshake, "{text}");
    }

    #[tokio::test]
    async fn a_peer_that_refuses_noise_fails_the_handshake() {
        // multistream-select: the header, then "na" for the proposed protocol.
        let addr = raw_listener(|mut conn| async move {
            let mut buf = [0u8; 256];
            let _ = conn.read(&mut buf).await;
            let mut answer = Vec::new();
            for line in ["/multistream/1.0.0\n", "na\n"] {
                answer.push(line.len() as u8);
                answer.extend_from_slice(line.as_bytes());
            }
            let _ = conn.write_all(&answer).await;
            let _ = conn.flush().await;
            let _ = tokio::time::timeout(PHASE * 4, conn.read(&mut buf)).await;
        });
        let (c, text) = classify_dial_error(&dial(addr, someone()).await);
        assert_eq!(c, ErrorClass::Handshake, "{text}");
    }

    #[tokio::test]
    async fn another_key_is_a_peer_id_mismatch() {
        let key = identity::Keypair::generate_ed25519();
        let mut listener = swarm_over(memory_transport(&key), &key, dummy::Behaviour, PHASE);
        let addr = memory_address();
        listener.listen_on(addr.clone()).unwrap();
        let serving = tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    listener.select_next_some().await;
                }
            })
            .await;
        });
        let e = dial(addr, someone()).await;
        serving.abort();
        assert_eq!(class(&e), ErrorClass::PeerIdMismatch, "{e}");
    }
}
