//! A loopback DNS server that publishes EIP-1459 trees, for tests and the test network.
//!
//! [`TreeServer::start`] binds UDP and TCP on the same port of 127.0.0.1 and answers
//! authoritatively for every name from the records it was given (one zone at the DNS root,
//! served by hickory-server's catalog and in-memory store); other names get NXDOMAIN. Texts
//! longer than 255 bytes are served as several character-strings, as a real zone would.
//! [`TreeServer::set_records`] swaps the whole record set at once, for tests that change or
//! tamper with a published tree. Records carry TTL 0 so that resolvers do not cache them.
//!
//! The server runs as tasks on the caller's tokio runtime until [`TreeServer::shutdown`]
//! or until it is dropped.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::rdata::{SOA, TXT};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordSet, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use crate::protocol::dns::txt_strings;

/// TTL of every served record: 0, so that a changed record is seen at once.
const TTL: u32 = 0;

/// How long a TCP client may stay idle before the server closes the connection.
const TCP_IDLE: Duration = Duration::from_secs(5);

/// Responses buffered per TCP connection.
const TCP_RESPONSE_BUFFER: usize = 16;

/// Ports tried before giving up on finding one free for both UDP and TCP.
const BIND_ATTEMPTS: usize = 20;

/// Why the server could not start or take records.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum TreeServerError {
    /// Binding the loopback sockets failed.
    #[error("binding 127.0.0.1 for DNS: {0}")]
    Bind(#[from] std::io::Error),
    /// A record name is not a DNS name.
    #[error("record name {name:?}: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// Why it is not a DNS name.
        reason: String,
    },
    /// The in-memory zone rejected a record.
    #[error("zone rejected the record at {0}")]
    Rejected(String),
    /// The server's tasks ended with an error.
    #[error("DNS server: {0}")]
    Server(String),
}

/// A running loopback DNS server for EIP-1459 records.
pub struct TreeServer {
    addr: SocketAddr,
    /// The zone the catalog serves; shared so that records can be swapped while serving.
    zone: Arc<InMemoryZoneHandler>,
    /// Serial of the next record set (the zone's SOA serial).
    serial: AtomicU32,
    server: Server<Catalog>,
}

impl TreeServer {
    /// Starts serving `records` (DNS name, TXT text; several texts may share a name) on a
    /// free port of 127.0.0.1, UDP and TCP.
    ///
    /// # Errors
    ///
    /// [`TreeServerError::BadName`] for a name that is not a DNS name, [`TreeServerError::Bind`]
    /// when no port could be bound.
    pub async fn start(records: Vec<(String, String)>) -> Result<TreeServer, TreeServerError> {
        let serial = 1;
        let map = record_map(&records, serial)?;
        let zone = InMemoryZoneHandler::new(Name::root(), map, ZoneType::Primary, AxfrPolicy::Deny)
            .map_err(|e| TreeServerError::Rejected(e.to_string()))?;
        let zone = Arc::new(zone);

        let mut catalog = Catalog::new();
        let handler: Arc<dyn ZoneHandler> = zone.clone();
        catalog.upsert(LowerName::from(Name::root()), vec![handler]);

        let (udp, tcp) = bind_pair().await?;
        let addr = udp.local_addr()?;
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE, TCP_RESPONSE_BUFFER);
        Ok(TreeServer {
            addr,
            zone,
            serial: AtomicU32::new(serial + 1),
            server,
        })
    }

    /// The address the server answers on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces every served record with `records`, at once.
    ///
    /// # Errors
    ///
    /// [`TreeServerError::BadName`] for a name that is not a DNS name; the old records are
    /// then kept.
    pub async fn set_records(&self, records: Vec<(String, String)>) -> Result<(), TreeServerError> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let map = record_map(&records, serial)?;
        let map = map.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        *self.zone.records_mut().await = map;
        Ok(())
    }

    /// Stops the server and waits for its tasks to end.
    ///
    /// # Errors
    ///
    /// [`TreeServerError::Server`] when a server task ended with an error.
    pub async fn shutdown(mut self) -> Result<(), TreeServerError> {
        self.server
            .shutdown_gracefully()
            .await
            .map_err(|e| TreeServerError::Server(e.to_string()))
    }
}

impl Drop for TreeServer {
    fn drop(&mut self) {
        // Stops the tasks if `shutdown` was not called.
        self.server.shutdown_token().cancel();
    }
}

/// Binds UDP on a free loopback port and TCP on the same port.
async fn bind_pair() -> Result<(UdpSocket, TcpListener), TreeServerError> {
    let mut last_error = None;
    for _ in 0..BIND_ATTEMPTS {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = udp.local_addr()?.port();
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(TreeServerError::Bind(last_error.unwrap_or_else(|| {
        std::io::Error::other("no free port for both UDP and TCP")
    })))
}

/// The zone's record sets: an SOA for the root zone plus one TXT record per entry.
fn record_map(
    records: &[(String, String)],
    serial: u32,
) -> Result<BTreeMap<RrKey, RecordSet>, TreeServerError> {
    let mut map: BTreeMap<RrKey, RecordSet> = BTreeMap::new();
    let mut add = |record: Record| -> Result<(), TreeServerError> {
        let key = RrKey::new(LowerName::from(&record.name), record.record_type());
        let name = record.name.to_string();
        let set = map
            .entry(key)
            .or_insert_with(|| RecordSet::new(record.name.clone(), record.record_type(), serial));
        if set.insert(record, serial) {
            Ok(())
        } else {
            Err(TreeServerError::Rejected(name))
        }
    };

    let soa = SOA::new(
        Name::from_ascii("ns.peerscope.test.").map_err(|e| bad_name("ns.peerscope.test.", e))?,
        Name::from_ascii("hostmaster.peerscope.test.")
            .map_err(|e| bad_name("hostmaster.peerscope.test.", e))?,
        serial,
        3600,
        600,
        86400,
        TTL,
    );
    add(Record::from_rdata(Name::root(), TTL, RData::SOA(soa)))?;

    for (name, text) in records {
        let fqdn = if name.ends_with('.') {
            name.clone()
        } else {
            format!("{name}.")
        };
        let dns_name = Name::from_ascii(&fqdn).map_err(|e| bad_name(name, e))?;
        let txt = TXT::new(txt_strings(text).into_iter().map(str::to_owned).collect());
        add(Record::from_rdata(dns_name, TTL, RData::TXT(txt)))?;
    }
    Ok(map)
}

fn bad_name(name: &str, err: impl std::fmt::Display) -> TreeServerError {
    TreeServerError::BadName {
        name: name.to_owned(),
        reason: err.to_string(),
    }
}
