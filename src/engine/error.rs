//! The engine's error types: what a caller of [`Engine`](super::Engine) sees
//! ([`EngineError`]), why a crawl could not start ([`StartError`]), why a libp2p swarm could
//! not be built or listen ([`SwarmError`]), and why a discv5 request ([`FindNodeError`]) or
//! a peer-exchange request ([`PxError`]) failed.
//!
//! Every wrapped error is kept as a value. Those that implement `std::error::Error` are
//! sources; discv5's errors implement only `Debug` and `Display`, so they are carried
//! without `#[source]` and their text is part of the message.
//!
//! Dial failures are not errors of the crawl: they are classified into
//! [`ErrorClass`](crate::model::ErrorClass) by [`transport`](super::transport).

use std::net::SocketAddr;

use crate::model::CrawlId;
use crate::protocol::dns::DnsError;
use crate::store::StoreError;

/// Engine failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No crawl has this id.
    #[error("crawl {0} not found")]
    UnknownCrawl(CrawlId),
    /// An EIP-1459 tree could not be resolved or did not verify; nothing from it is used.
    #[error("{url}: {source}")]
    DnsTree {
        /// The tree's URL (all of the crawl's URLs when the resolver itself failed).
        url: String,
        #[source]
        source: DnsError,
    },
    /// The crawl's trees resolved and verified but hold no records.
    #[error("{urls}: the trees hold no records")]
    EmptyDnsTrees {
        /// The crawl's tree URLs, comma-separated.
        urls: String,
    },
    /// The crawl could not start: its discv5 socket, its swarms or its seed listener.
    #[error("could not start discv5 on {addr}: {source}")]
    Start {
        /// The UDP address the crawl was to bind.
        addr: SocketAddr,
        #[source]
        source: Box<StartError>,
    },
    /// A CometBFT seed could not listen on its address.
    #[error("could not start the seed on {addr}: {reason}")]
    Listen {
        /// The TCP address the seed was to listen on.
        addr: SocketAddr,
        /// Why not.
        reason: String,
    },
    /// The engine is shutting down and takes no new work.
    #[error("the engine is shutting down")]
    ShuttingDown,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The geolocator could not start (bad base URL).
    #[error(transparent)]
    Geo(#[from] crate::engine::geo::GeoError),
}

/// Why a crawl could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The UDP socket could not be bound.
    #[error(transparent)]
    Socket(std::io::Error),
    /// The crawl key is not a secp256k1 key (libp2p identities are derived from it).
    #[error("crawl keys are secp256k1")]
    KeyType,
    /// The crawl key was refused as a libp2p identity.
    #[error(transparent)]
    Key(#[from] libp2p::identity::DecodingError),
    /// The local ENR could not be built.
    #[error(transparent)]
    Record(#[from] enr::Error),
    /// discv5 refused its configuration (its own message).
    #[error("{0}")]
    Discv5Config(&'static str),
    /// discv5 did not start, or gave no event stream (discv5's error; it has no
    /// `std::error::Error` impl, so it is not a source).
    #[error("{0}")]
    Discv5(discv5::Error),
    /// The dialer's or the relay monitor's swarm.
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    /// Seed mode would advertise an unspecified address.
    #[error("seed mode listens on an unspecified address: set advertise_ip")]
    UnspecifiedSeedAddress,
    /// Seed mode serves peer exchange from the dialer's swarm.
    #[error("seed mode needs dial")]
    SeedWithoutDial,
}

/// Why a libp2p swarm (the dialer's, the relay monitor's) could not be built or listen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SwarmError {
    /// Noise could not be configured with the key.
    #[error(transparent)]
    Noise(#[from] libp2p::noise::Error),
    /// Gossipsub could not be configured (its builder's message).
    #[error("{0}")]
    Gossipsub(String),
    /// A pubsub topic could not be subscribed to.
    #[error("subscribing to {topic}: {source}")]
    Subscribe {
        /// The pubsub topic.
        topic: String,
        #[source]
        source: libp2p::gossipsub::SubscriptionError,
    },
    /// The listen address was refused.
    #[error(transparent)]
    Listen(#[from] libp2p::TransportError<std::io::Error>),
    /// The listener failed or closed with an error.
    #[error(transparent)]
    Listener(std::io::Error),
    /// The listener closed before it reported an address.
    #[error("listener closed")]
    ListenerClosed,
    /// No listen address was reported in time.
    #[error("no TCP listener on {0} in time")]
    ListenTimeout(SocketAddr),
}

/// Why a discv5 request of the walk (FINDNODE to one node) or a random lookup failed.
/// discv5's errors have no `std::error::Error` impl; they are kept as values.
#[derive(Debug, thiserror::Error)]
pub enum FindNodeError {
    /// The designated FINDNODE failed (discv5's error, `Debug` form).
    #[error("{0:?}")]
    Request(discv5::RequestError),
    /// The iterative lookup failed (discv5's error, `Debug` form).
    #[error("{0:?}")]
    Query(discv5::QueryError),
}

/// Why a peer-exchange request to a visited peer got no records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PxError {
    /// The visit ended before the answer came.
    #[error("no answer in time")]
    NoAnswer,
    /// The answer holds no response part.
    #[error("the answer holds no response")]
    EmptyAnswer,
    /// The request failed (stream, protocol, timeout).
    #[error(transparent)]
    Request(#[from] libp2p::request_response::OutboundFailure),
    /// The connection closed first.
    #[error("connection closed: {cause}")]
    ConnectionClosed {
        /// Why it closed, as libp2p tells it.
        cause: String,
    },
}
