//! One CometBFT connection: TCP, `tendermint-p2p`'s SecretConnection (blocking I/O), the
//! key check against the dialed id, the NodeInfo exchange and MConnection packets on the
//! PEX channel.
//!
//! The SecretConnection crate is synchronous, so every exchange runs on tokio's blocking
//! pool ([`tokio::task::spawn_blocking`]); callers bound how many run at once. Every
//! exchange has a deadline: reads and writes time out at it, and a watchdog task shuts
//! the socket down when it passes, so a peer that drips bytes cannot hold a thread longer.
//!
//! Used by the crawler (outbound), the seed server (inbound), the loopback testnet's nodes
//! and the benchmark's baseline.

use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tendermint_p2p::secret_connection::{SecretConnection, Version};

use crate::model::ErrorClass;
use crate::protocol::cometbft::node_info::{NodeInfo, NodeInfoError};
use crate::protocol::cometbft::packet::{
    self, message_packets, read_delimited, write_delimited, Incoming, PacketReader, WireError,
    MAX_NODE_INFO, MAX_PAYLOAD,
};
use crate::protocol::cometbft::{pb, CometId, PEX_CHANNEL};

/// The local side: its key, id and the NodeInfo it announces.
#[derive(Clone)]
pub struct LocalNode {
    key: ed25519_consensus::SigningKey,
    id: CometId,
    info: NodeInfo,
}

impl std::fmt::Debug for LocalNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalNode")
            .field("id", &self.id)
            .field("info", &self.info)
            .finish()
    }
}

impl LocalNode {
    /// A node with `key`, announcing `info` (its `node_id` is set from the key).
    pub fn new(key: ed25519_consensus::SigningKey, mut info: NodeInfo) -> LocalNode {
        let id = CometId::from_ed25519(&key.verification_key().to_bytes());
        info.node_id = id.to_string();
        LocalNode { key, id, info }
    }

    /// A node with a fresh random key.
    pub fn generate(info: NodeInfo) -> LocalNode {
        LocalNode::new(ed25519_consensus::SigningKey::new(rand::thread_rng()), info)
    }

    /// The node id.
    pub fn id(&self) -> CometId {
        self.id
    }

    /// The NodeInfo it announces.
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// Sets the announced listen address (once the listener is bound).
    pub fn set_listen_addr(&mut self, addr: SocketAddr) {
        self.info.listen_addr = addr.to_string();
    }
}

/// Why a connection did not get as far as a compatible peer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnError {
    /// The TCP connect failed.
    #[error("connect: {0}")]
    Connect(io::Error),
    /// The TCP connect did not finish in time.
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The SecretConnection handshake failed or did not finish in time.
    #[error("secret connection: {reason}")]
    Handshake { reason: String, timed_out: bool },
    /// The authenticated key is not the dialed id's.
    #[error("dialed {expected}, the key is {got}'s")]
    KeyMismatch { expected: CometId, got: CometId },
    /// The NodeInfo could not be read (closed, timed out, too large, undecodable).
    #[error("NodeInfo: {0}")]
    NodeInfoRead(WireError),
    /// The NodeInfo was read but is invalid or incompatible; `info` is what it said.
    #[error("{error}")]
    NodeInfo {
        error: NodeInfoError,
        info: Box<NodeInfo>,
    },
}

impl ConnError {
    /// The class stored for the failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            ConnError::Connect(e) => match e.kind() {
                io::ErrorKind::ConnectionRefused => ErrorClass::Refused,
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorClass::Timeout,
                io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                    ErrorClass::Unreachable
                }
                _ => ErrorClass::Other,
            },
            ConnError::ConnectTimeout(_) => ErrorClass::Timeout,
            ConnError::Handshake {
                timed_out: true, ..
            } => ErrorClass::HandshakeTimeout,
            ConnError::Handshake { .. } => ErrorClass::SecretConnection,
            ConnError::KeyMismatch { .. } => ErrorClass::PeerIdMismatch,
            ConnError::NodeInfoRead(e) if e.is_timeout() => ErrorClass::HandshakeTimeout,
            ConnError::NodeInfoRead(WireError::Io(_)) => ErrorClass::SecretConnection,
            ConnError::NodeInfoRead(_) => ErrorClass::NodeInfoMismatch,
            ConnError::NodeInfo { error, .. } => match error {
                NodeInfoError::WrongNetwork { .. } => ErrorClass::WrongNetwork,
                NodeInfoError::BlockVersion { .. } | NodeInfoError::NoCommonChannel(_) => {
                    ErrorClass::ProtocolNegotiation
                }
                _ => ErrorClass::NodeInfoMismatch,
            },
        }
    }

    /// The NodeInfo the peer sent, when it got that far.
    pub fn node_info(&self) -> Option<&NodeInfo> {
        match self {
            ConnError::NodeInfo { info, .. } => Some(info),
            _ => None,
        }
    }
}

/// Reads from a SecretConnection go through a buffer of this size. `tendermint-p2p`
/// 0.41's `read_and_decrypt` panics when a read asks for fewer bytes than the frame it
/// decrypts holds (its leftover buffer is copied into a slice of the wrong length), so
/// every read the crate sees must ask for a whole frame (1024 data bytes) or more.
const READ_BUFFER: usize = 4096;

/// An established connection to a compatible peer.
pub struct Conn {
    /// Reads through [`READ_BUFFER`]; writes through `get_mut()`.
    sc: BufReader<SecretConnection<TcpStream>>,
    /// A second handle on the socket, for timeouts and shutdown.
    ctl: TcpStream,
    remote_id: CometId,
    remote: NodeInfo,
    reader: PacketReader,
    deadline: Instant,
}

/// Shuts `ctl` down at `deadline` unless aborted first (drop the handle's task with
/// [`tokio::task::JoinHandle::abort`]). Needs a tokio runtime.
pub fn watchdog(ctl: TcpStream, deadline: Instant) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep_until(deadline.into()).await;
        let _ = ctl.shutdown(Shutdown::Both);
    })
}

/// Sets both socket timeouts to what is left until `deadline` (at least 1 ms: zero means
/// "no timeout" to the OS).
fn set_timeouts(s: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    s.set_read_timeout(Some(left))?;
    s.set_write_timeout(Some(left))
}

/// Runs the handshake and NodeInfo exchange on a connected socket. `expected` is the
/// dialed id (outbound); inbound connections pass `None`.
pub fn establish(
    stream: TcpStream,
    local: &LocalNode,
    expected: Option<CometId>,
    deadline: Instant,
) -> Result<Conn, ConnError> {
    let timed_out = || Instant::now() + Duration::from_millis(20) >= deadline;
    let handshake_err = |reason: String| ConnError::Handshake {
        reason,
        timed_out: timed_out(),
    };
    let _ = stream.set_nodelay(true);
    set_timeouts(&stream, deadline).map_err(|e| handshake_err(e.to_string()))?;
    let ctl = stream
        .try_clone()
        .map_err(|e| handshake_err(e.to_string()))?;
    // 1. SecretConnection: ephemeral keys, transcript, signatures.
    let sc = SecretConnection::new(stream, local.key.clone(), Version::V0_34)
        .map_err(|e| handshake_err(e.to_string()))?;
    // 2. The key must be the dialed id's (CometBFT checks this before NodeInfo).
    let mut sc = BufReader::with_capacity(READ_BUFFER, sc);
    let key_id = CometId(
        sc.get_ref()
            .remote_pubkey()
            .peer_id()
            .as_bytes()
            .try_into()
            .map_err(|_| handshake_err("peer id is not 20 bytes".into()))?,
    );
    if let Some(expected) = expected {
        if expected != key_id {
            let _ = ctl.shutdown(Shutdown::Both);
            return Err(ConnError::KeyMismatch {
                expected,
                got: key_id,
            });
        }
    }
    // 3. NodeInfo both ways (each side writes first, so neither waits on the other).
    set_timeouts(&ctl, deadline).map_err(|e| ConnError::NodeInfoRead(e.into()))?;
    sc.get_mut()
        .write_all(&write_delimited(&local.info.to_proto()))
        .map_err(|e| ConnError::NodeInfoRead(e.into()))?;
    let raw: pb::DefaultNodeInfo =
        read_delimited(&mut sc, MAX_NODE_INFO, "NodeInfo").map_err(ConnError::NodeInfoRead)?;
    let info = NodeInfo::from_proto(&raw);
    // 4. Valid, claims the key's id, and compatible with ours.
    if let Err(error) = NodeInfo::validate(&raw).and_then(|()| info.check_peer(key_id, &local.info))
    {
        let _ = ctl.shutdown(Shutdown::Both);
        return Err(ConnError::NodeInfo {
            error,
            info: Box::new(info),
        });
    }
    Ok(Conn {
        sc,
        ctl,
        remote_id: key_id,
        remote: info,
        reader: PacketReader::pex(),
        deadline,
    })
}

/// Connects to `addr` within `connect_timeout`, as a blocking socket (async, so the
/// caller's runtime drives the connect).
pub async fn connect(addr: SocketAddr, connect_timeout: Duration) -> Result<TcpStream, ConnError> {
    let s = tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| ConnError::ConnectTimeout(connect_timeout))?
        .map_err(ConnError::Connect)?;
    let s = s.into_std().map_err(ConnError::Connect)?;
    s.set_nonblocking(false).map_err(ConnError::Connect)?;
    Ok(s)
}

impl Conn {
    /// The authenticated peer id.
    pub fn remote_id(&self) -> CometId {
        self.remote_id
    }

    /// The peer's NodeInfo.
    pub fn remote_info(&self) -> &NodeInfo {
        &self.remote
    }

    /// Moves the deadline (for a long-lived connection).
    pub fn extend(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Sends `msg` on `channel`, split into packets.
    pub fn send(&mut self, channel: u8, msg: &[u8]) -> io::Result<()> {
        set_timeouts(&self.ctl, self.deadline)?;
        let w = self.sc.get_mut();
        w.write_all(&message_packets(channel, msg, MAX_PAYLOAD))?;
        w.flush()
    }

    /// Sends a ping.
    pub fn ping(&mut self) -> io::Result<()> {
        set_timeouts(&self.ctl, self.deadline)?;
        self.sc.get_mut().write_all(&packet::ping())
    }

    /// Reads the next complete message, answering pings on the way. Fails at the
    /// deadline, on a closed connection, and on anything the packet reader refuses.
    pub fn recv(&mut self) -> Result<(u8, Vec<u8>), WireError> {
        loop {
            set_timeouts(&self.ctl, self.deadline)?;
            match self.reader.next(&mut self.sc)? {
                Incoming::Ping => self.sc.get_mut().write_all(&packet::pong())?,
                Incoming::Pong => {}
                Incoming::Message { channel, data } => return Ok((channel, data)),
            }
        }
    }

    /// Packets read so far.
    pub fn packets_read(&self) -> u64 {
        self.reader.packets()
    }

    /// Closes the connection (both directions).
    pub fn close(self) {
        let _ = self.ctl.shutdown(Shutdown::Both);
    }
}

/// The PEX channel id, for callers that build messages.
pub const PEX: u8 = PEX_CHANNEL;
