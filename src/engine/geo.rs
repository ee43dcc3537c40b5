//! Geolocation of peer IPs through ip-api (<https://ip-api.com/docs>), rate-limited and
//! cached in the store; or, with [`GeoConfig::database`] set, offline from a MaxMind-format
//! file ([`crate::engine::geo_db`]), in which case nothing is ever sent (the file wins
//! over ip-api when both are configured).
//!
//! ```text
//! crawl ──submit(node, ip)──▶ pending (bounded, deduplicated; never waits)
//!                                  │ worker task
//!                                  ├─ non-public address ─▶ labelled ("loopback", "private"…), never sent
//!                                  ├─ database configured ─▶ looked up in the file, nothing sent
//!                                  ├─ fresh in geo_cache ─▶ copied to the peer, nothing sent
//!                                  └─ else: GET {base}/json/{ip} (45/min) or, with several
//!                                     pending, POST {base}/batch (up to 100 IPs, 15/min)
//!                                     ─▶ geo_cache + the peers with that IP
//! ```
//!
//! **Rate limits.** Each endpoint has its own window. The worker counts its own requests
//! per window and also follows what the service reports with every answer: `X-Rl` (requests
//! left in the window) and `X-Ttl` (seconds until it resets). At `X-Rl: 0` it sends nothing
//! more to that endpoint for `X-Ttl` seconds; a 429 answer blocks the endpoint the same way
//! and the addresses are retried after it. One request is in flight at a time.
//!
//! **Transport.** ip-api's free service is plain HTTP (HTTPS is part of its paid plan,
//! which needs a key), so the client speaks HTTP only and the base URL must be `http://`.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::geo_db::{GeoDb, GeoDbError};
use crate::model::{now_millis, GeoInfo, NodeId};
use crate::store::Store;

/// ip-api's documented endpoint (free tier, plain HTTP).
pub const DEFAULT_BASE_URL: &str = "http://ip-api.com";
/// Default time a cached answer is used before the address is looked up again (7 days).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// ip-api: requests per window to `/json/{ip}`.
pub const SINGLE_LIMIT: u32 = 45;
/// ip-api: requests per window to `/batch`.
pub const BATCH_LIMIT: u32 = 15;
/// ip-api: the rate-limit window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// ip-api: addresses per batch request.
pub const BATCH_SIZE: usize = 100;
/// Fields asked of ip-api.
pub const FIELDS: &str = "status,message,country,countryCode,city,as,isp,org,query";

/// Addresses that fail this many requests in a row (transport errors, bad answers) are
/// dropped until they are submitted again.
const MAX_ATTEMPTS: u32 = 3;

/// Settings of the geolocator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeoConfig {
    /// Base URL of the ip-api service (`http://` only).
    pub base_url: String,
    /// Cached answers younger than this are used instead of asking again.
    pub cache_ttl: Duration,
    /// Requests per `window` to the single-address endpoint.
    pub single_limit: u32,
    /// Requests per `window` to the batch endpoint.
    pub batch_limit: u32,
    /// The rate-limit window.
    pub window: Duration,
    /// Addresses per batch request (at most 100, ip-api's limit).
    pub batch_size: usize,
    /// Pending (peer, address) pairs kept; further submissions are dropped and counted.
    pub queue_capacity: usize,
    /// Bound on one HTTP request.
    pub request_timeout: Duration,
    /// A MaxMind-format database (GeoLite2 or DB-IP Lite `.mmdb`). When set, every public
    /// address is looked up in it and ip-api is never asked. Default: none.
    pub database: Option<PathBuf>,
}

impl Default for GeoConfig {
    fn default() -> Self {
        GeoConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            cache_ttl: DEFAULT_CACHE_TTL,
            single_limit: SINGLE_LIMIT,
            batch_limit: BATCH_LIMIT,
            window: WINDOW,
            batch_size: BATCH_SIZE,
            queue_capacity: 100_000,
            request_timeout: Duration::from_secs(10),
            database: None,
        }
    }
}

/// Geolocator failures (at start only; lookups fail softly and are logged).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GeoError {
    /// The base URL is not an `http://` URL with a host.
    #[error("geolocation base URL {url:?}: {reason}")]
    BaseUrl { url: String, reason: String },
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
    /// The geolocation database could not be read.
    #[error(transparent)]
    Database(#[from] GeoDbError),
}

/// Checks a base URL: `http://host[:port][/path]`, without a trailing slash after trimming.
pub fn check_base_url(url: &str) -> Result<String, GeoError> {
    let bad = |reason: &str| GeoError::BaseUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(bad(
                "only http:// is supported (ip-api's free service is plain HTTP)",
            ))
        }
        other => return Err(bad(&format!("unsupported scheme {other:?}"))),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("no query or fragment allowed"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The kind of a non-public address, or `None` for a public one. Non-public addresses are
/// never sent to the geolocation service; peers with one get this as their `country`.
///
/// | label           | IPv4                                    | IPv6                     |
/// |-----------------|-----------------------------------------|--------------------------|
/// | `unspecified`   | 0.0.0.0/8                               | ::                       |
/// | `loopback`      | 127.0.0.0/8                             | ::1                      |
/// | `private`       | 10/8, 172.16/12, 192.168/16             |                          |
/// | `link-local`    | 169.254/16                              | fe80::/10                |
/// | `cgnat`         | 100.64/10                               |                          |
/// | `unique-local`  |                                         | fc00::/7                 |
/// | `multicast`     | 224/4                                   | ff00::/8                 |
/// | `documentation` | 192.0.2/24, 198.51.100/24, 203.0.113/24 | 2001:db8::/32            |
/// | `reserved`      | 192.0.0/24, 198.18/15, 240/4 (+ broadcast) | outside 2000::/3, 100::/64 |
///
/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are classified as their IPv4 address.
pub fn non_public_scope(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_scope(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_scope(v4),
            None => v6_scope(v6),
        },
    }
}

fn v4_scope(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(if a == 0 {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if a == 100 && (64..128).contains(&b) {
        "cgnat"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_documentation() {
        "documentation"
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (b == 18 || b == 19)) || a >= 240 {
        "reserved"
    } else {
        return None;
    })
}

fn v6_scope(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if ip.is_unicast_link_local() {
        "link-local"
    } else if ip.is_unique_local() {
        "unique-local"
    } else if ip.is_multicast() {
        "multicast"
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        "documentation"
    } else if s[0] & 0xe000 != 0x2000 || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) {
        "reserved"
    } else {
        return None;
    })
}

/// The label of a non-public address, as stored on its peers.
pub fn non_public_geo(ip: IpAddr, scope: &str) -> GeoInfo {
    GeoInfo {
        ip: ip.to_string(),
        country: scope.to_string(),
        private: true,
        looked_up_at: now_millis(),
        ..GeoInfo::default()
    }
}

/// One answer of ip-api (single or batch), with the fields of [`FIELDS`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct IpApiAnswer {
    /// "success" or "fail".
    pub status: String,
    /// Why it failed: "private range", "reserved range", "invalid query".
    pub message: Option<String>,
    pub country: String,
    #[serde(rename = "countryCode")]
    pub country_code: String,
    pub city: String,
    #[serde(rename = "as")]
    pub asn: String,
    pub isp: String,
    pub org: String,
    /// The address asked about.
    pub query: String,
}

impl IpApiAnswer {
    /// The geolocation this answer gives `ip`.
    pub fn to_geo(&self, ip: IpAddr) -> GeoInfo {
        let ok = self.status == "success";
        GeoInfo {
            ip: ip.to_string(),
            country: self.country.clone(),
            country_code: self.country_code.clone(),
            city: self.city.clone(),
            asn: self.asn.clone(),
            isp: self.isp.clone(),
            org: self.org.clone(),
            private: false,
            looked_up_at: now_millis(),
            error: (!ok).then(|| {
                self.message
                    .clone()
                    .unwrap_or_else(|| format!("status {:?}", self.status))
            }),
        }
    }
}

/// Requests per window to one endpoint, as counted here and as the service reports.
#[derive(Clone, Debug)]
pub struct Limiter {
    limit: u32,
    window: Duration,
    start: Option<Instant>,
    used: u32,
    blocked_until: Option<Instant>,
}

impl Limiter {
    /// `limit` requests per `window`.
    pub fn new(limit: u32, window: Duration) -> Limiter {
        Limiter {
            limit: limit.max(1),
            window,
            start: None,
            used: 0,
            blocked_until: None,
        }
    }

    /// The earliest time a request may be sent (`now` when it may be sent now).
    pub fn ready_at(&self, now: Instant) -> Instant {
        let mut t = now;
        if let Some(b) = self.blocked_until {
            t = t.max(b);
        }
        if let Some(s) = self.start {
            if now < s + self.window && self.used >= self.limit {
                t = t.max(s + self.window);
            }
        }
        t
    }

    /// Counts a request sent at `now`.
    pub fn record(&mut self, now: Instant) {
        if self.start.is_none_or(|s| now >= s + self.window) {
            self.start = Some(now);
            self.used = 0;
        }
        self.used += 1;
    }

    /// Applies the service's `X-Rl` / `X-Ttl` of an answer received at `now`: with no
    /// request left, nothing is sent until the window resets.
    pub fn observe(&mut self, remaining: Option<u32>, ttl_secs: Option<u64>, now: Instant) {
        if remaining == Some(0) {
            self.block(now, ttl_secs);
        }
    }

    /// Blocks the endpoint for `ttl_secs` (at least one second; the whole window when the
    /// service did not say).
    pub fn block(&mut self, now: Instant, ttl_secs: Option<u64>) {
        let wait = ttl_secs
            .map(|s| Duration::from_secs(s.max(1)))
            .unwrap_or(self.window);
        let until = now + wait;
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
    }
}

/// Counters of the geolocator (for tests and logs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeoStats {
    /// Requests sent to the single-address endpoint.
    pub single_requests: u64,
    /// Requests sent to the batch endpoint.
    pub batch_requests: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Requests that failed (transport error, unexpected status, undecodable body).
    pub failed_requests: u64,
    /// Addresses answered from the cache.
    pub cache_hits: u64,
    /// Addresses labelled non-public without a lookup.
    pub non_public: u64,
    /// Addresses looked up.
    pub looked_up: u64,
    /// Of those, addresses looked up in the database file.
    pub db_lookups: u64,
    /// Submissions dropped because the queue was full.
    pub dropped: u64,
    /// Peer records updated.
    pub peers_updated: u64,
}

#[derive(Default)]
struct Counters {
    single_requests: AtomicU64,
    batch_requests: AtomicU64,
    rate_limited: AtomicU64,
    failed_requests: AtomicU64,
    cache_hits: AtomicU64,
    non_public: AtomicU64,
    looked_up: AtomicU64,
    db_lookups: AtomicU64,
    dropped: AtomicU64,
    peers_updated: AtomicU64,
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

#[derive(Default)]
struct Pending {
    queue: VecDeque<(NodeId, IpAddr)>,
    set: HashSet<(NodeId, IpAddr)>,
    /// Addresses the worker holds (waiting for a request slot or in flight).
    working: usize,
}

struct Shared {
    pending: Mutex<Pending>,
    notify: Notify,
    counters: Counters,
    capacity: usize,
}

impl Shared {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        // Every update is a few plain field writes; a panicking holder leaves them valid.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handle to the geolocation worker; cheap to clone.
#[derive(Clone)]
pub struct Geolocator {
    shared: Arc<Shared>,
}

impl Geolocator {
    /// Starts the worker; it runs until `cancel`.
    pub fn start(
        config: GeoConfig,
        store: Store,
        cancel: CancellationToken,
    ) -> Result<Geolocator, GeoError> {
        let base = check_base_url(&config.base_url)?;
        let db = match &config.database {
            Some(path) => {
                let db = GeoDb::open(path)?;
                tracing::info!(path = %path.display(), kind = db.database_type(), "geolocating from a database file; ip-api is not used");
                Some(db)
            }
            None => None,
        };
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(concat!("peerscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GeoError::Client(e.to_string()))?;
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            notify: Notify::new(),
            counters: Counters::default(),
            capacity: config.queue_capacity.max(1),
        });
        let worker = Worker {
            shared: shared.clone(),
            single: Limiter::new(config.single_limit, config.window),
            batch: Limiter::new(config.batch_limit, config.window),
            config: GeoConfig {
                batch_size: config.batch_size.clamp(1, BATCH_SIZE),
                ..config
            },
            base,
            client,
            store,
            waiting: BTreeMap::new(),
            retry_at: None,
            db,
        };
        tokio::spawn(worker.run(cancel));
        Ok(Geolocator { shared })
    }

    /// Queues `ip` of peer `node` for geolocation. Never waits: a pair already pending is
    /// not queued twice, and when the queue is full the pair is dropped (and counted).
    /// Returns whether it was queued.
    pub fn submit(&self, node: NodeId, ip: IpAddr) -> bool {
        {
            let mut p = self.shared.pending();
            if p.set.contains(&(node, ip)) {
                return false;
            }
            if p.queue.len() >= self.shared.capacity {
                drop(p);
                inc(&self.shared.counters.dropped);
                return false;
            }
            p.set.insert((node, ip));
            p.queue.push_back((node, ip));
        }
        self.shared.notify.notify_one();
        true
    }

    /// Addresses queued or held by the worker (0 when everything submitted is done).
    pub fn backlog(&self) -> usize {
        let p = self.shared.pending();
        p.queue.len() + p.working
    }

    /// The counters so far.
    pub fn stats(&self) -> GeoStats {
        let c = &self.shared.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        GeoStats {
            single_requests: l(&c.single_requests),
            batch_requests: l(&c.batch_requests),
            rate_limited: l(&c.rate_limited),
            failed_requests: l(&c.failed_requests),
            cache_hits: l(&c.cache_hits),
            non_public: l(&c.non_public),
            looked_up: l(&c.looked_up),
            db_lookups: l(&c.db_lookups),
            dropped: l(&c.dropped),
            peers_updated: l(&c.peers_updated),
        }
    }
}

/// An address waiting for a lookup, with the peers that have it.
struct Waiting {
    nodes: Vec<NodeId>,
    attempts: u32,
}

enum Endpoint {
    Single,
    Batch,
}

/// Why a request got no answers.
enum RequestError {
    /// 429: blocked for this many seconds (if the service said).
    RateLimited(Option<u64>),
    /// Anything else.
    Other(String),
}

struct Worker {
    shared: Arc<Shared>,
    config: GeoConfig,
    base: String,
    client: reqwest::Client,
    store: Store,
    single: Limiter,
    batch: Limiter,
    waiting: BTreeMap<IpAddr, Waiting>,
    /// After a failed request: nothing is sent before this.
    retry_at: Option<Instant>,
    /// The database file, when configured: it answers every public address.
    db: Option<GeoDb>,
}

impl Worker {
    async fn run(mut self, cancel: CancellationToken) {
        loop {
            self.take_pending();
            if self.waiting.is_empty() {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = self.shared.notify.notified() => continue,
                }
            }
            let now = Instant::now();
            let floor = self.retry_at.unwrap_or(now).max(now);
            let batch_at = (self.waiting.len() > 1).then(|| self.batch.ready_at(floor));
            let single_at = self.single.ready_at(floor);
            let (endpoint, at) = match batch_at {
                Some(b) if b <= now => (Endpoint::Batch, b),
                _ if single_at <= now => (Endpoint::Single, single_at),
                Some(b) if b <= single_at => (Endpoint::Batch, b),
                _ => (Endpoint::Single, single_at),
            };
            if at > now {
                // Wait for a slot; new submissions are taken in meanwhile (a cache hit or a
                // label needs no slot).
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep_until(at) => {}
                    _ = self.shared.notify.notified() => {}
                }
                continue;
            }
            self.retry_at = None;
            let take = match endpoint {
                Endpoint::Single => 1,
                Endpoint::Batch => self.config.batch_size,
            };
            let ips: Vec<IpAddr> = self.waiting.keys().take(take).copied().collect();
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = self.request(&endpoint, &ips) => r,
            };
            match result {
                Ok(answers) => {
                    for (ip, answer) in answers {
                        let geo = answer.to_geo(ip);
                        inc(&self.shared.counters.looked_up);
                        if let Err(e) = self.store.put_cached_geo(ip, &geo) {
                            tracing::error!(error = %e, "could not cache a geolocation");
                        }
                        if let Some(w) = self.waiting.remove(&ip) {
                            self.apply(&w.nodes, &geo);
                            self.release(w.nodes.len());
                        }
                    }
                    // Addresses the answer did not cover stay waiting, as after a failure.
                    self.count_attempt(&ips);
                }
                Err(RequestError::RateLimited(ttl)) => {
                    inc(&self.shared.counters.rate_limited);
                    tracing::warn!(ttl_secs = ?ttl, "geolocation service answered 429; backing off");
                    let limiter = match endpoint {
                        Endpoint::Single => &mut self.single,
                        Endpoint::Batch => &mut self.batch,
                    };
                    limiter.block(Instant::now(), ttl);
                }
                Err(RequestError::Other(e)) => {
                    inc(&self.shared.counters.failed_requests);
                    tracing::warn!(error = %e, addresses = ips.len(), "geolocation request failed");
                    let worst = self.count_attempt(&ips);
                    self.retry_at = Some(Instant::now() + Duration::from_secs(1 << worst.min(6)));
                }
            }
        }
    }

    /// One more failed attempt for the addresses of `ips` still waiting; those past
    /// [`MAX_ATTEMPTS`] are dropped. Returns the highest attempt count.
    fn count_attempt(&mut self, ips: &[IpAddr]) -> u32 {
        let mut worst = 0;
        for ip in ips {
            let Some(w) = self.waiting.get_mut(ip) else {
                continue;
            };
            w.attempts += 1;
            worst = worst.max(w.attempts);
            if w.attempts >= MAX_ATTEMPTS {
                tracing::warn!(%ip, "giving up geolocating an address for now");
                if let Some(w) = self.waiting.remove(ip) {
                    self.release(w.nodes.len());
                }
            }
        }
        worst
    }

    /// Moves submissions into `waiting`, answering labels and cache hits at once.
    fn take_pending(&mut self) {
        let batch: Vec<(NodeId, IpAddr)> = {
            let mut p = self.shared.pending();
            let items: Vec<_> = p.queue.drain(..).collect();
            for item in &items {
                p.set.remove(item);
            }
            p.working += items.len();
            items
        };
        if batch.is_empty() {
            return;
        }
        let fresh_since = now_millis()
            .saturating_sub(self.config.cache_ttl.as_millis().min(u64::MAX as u128) as u64);
        for (node, ip) in batch {
            if let Some(scope) = non_public_scope(ip) {
                inc(&self.shared.counters.non_public);
                self.apply(&[node], &non_public_geo(ip, scope));
                self.release(1);
                continue;
            }
            if let Some(db) = &self.db {
                let geo = db.lookup(ip);
                inc(&self.shared.counters.looked_up);
                inc(&self.shared.counters.db_lookups);
                self.apply(&[node], &geo);
                self.release(1);
                continue;
            }
            if let Some(w) = self.waiting.get_mut(&ip) {
                if !w.nodes.contains(&node) {
                    w.nodes.push(node);
                } else {
                    self.release(1);
                }
                continue;
            }
            match self.store.cached_geo(ip, fresh_since) {
                Ok(Some(geo)) => {
                    inc(&self.shared.counters.cache_hits);
                    self.apply(&[node], &geo);
                    self.release(1);
                }
                Ok(None) => {
                    self.waiting.insert(
                        ip,
                        Waiting {
                            nodes: vec![node],
                            attempts: 0,
                        },
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not read the geolocation cache");
                    self.release(1);
                }
            }
        }
    }

    fn release(&self, n: usize) {
        let mut p = self.shared.pending();
        p.working = p.working.saturating_sub(n);
    }

    fn apply(&self, nodes: &[NodeId], geo: &GeoInfo) {
        for node in nodes {
            match self.store.set_peer_geo(node, geo) {
                Ok(true) => inc(&self.shared.counters.peers_updated),
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "could not store a peer's geolocation"),
            }
        }
    }

    /// Sends one request; returns the answers per address.
    async fn request(
        &mut self,
        endpoint: &Endpoint,
        ips: &[IpAddr],
    ) -> Result<Vec<(IpAddr, IpApiAnswer)>, RequestError> {
        let now = Instant::now();
        let request = match endpoint {
            Endpoint::Single => {
                self.single.record(now);
                inc(&self.shared.counters.single_requests);
                self.client
                    .get(format!("{}/json/{}?fields={FIELDS}", self.base, ips[0]))
            }
            Endpoint::Batch => {
                self.batch.record(now);
                inc(&self.shared.counters.batch_requests);
                let body: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
                self.client
                    .post(format!("{}/batch?fields={FIELDS}", self.base))
                    .json(&body)
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| RequestError::Other(e.to_string()))?;
        let header = |name: &str| -> Option<u64> {
            response
                .headers()
                .get(name)?
                .to_str()
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        let (rl, ttl) = (header("x-rl"), header("x-ttl"));
        let received = Instant::now();
        let limiter = match endpoint {
            Endpoint::Single => &mut self.single,
            Endpoint::Batch => &mut self.batch,
        };
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(RequestError::RateLimited(ttl));
        }
        limiter.observe(rl.map(|r| r.min(u32::MAX as u64) as u32), ttl, received);
        if !status.is_success() {
            return Err(RequestError::Other(format!("HTTP {status}")));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| RequestError::Other(e.to_string()))?;
        let answers: Vec<IpApiAnswer> = match endpoint {
            Endpoint::Single => vec![serde_json::from_slice(&bytes)
                .map_err(|e| RequestError::Other(format!("undecodable answer: {e}")))?],
            Endpoint::Batch => serde_json::from_slice(&bytes)
                .map_err(|e| RequestError::Other(format!("undecodable answer: {e}")))?,
        };
        // Answers come in request order; `query` names the address when present.
        let mut out = Vec::with_capacity(answers.len());
        for (i, answer) in answers.into_iter().enumerate() {
            let ip = match answer.query.parse::<IpAddr>() {
                Ok(ip) if ips.contains(&ip) => ip,
                _ => match ips.get(i) {
                    Some(ip) if answer.query.is_empty() => *ip,
                    _ => continue,
                },
            };
            out.push((ip, answer));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Option<&'static str> {
        non_public_scope(s.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_classified() {
        for (ip, want) in [
            ("0.0.0.0", "unspecified"),
            ("127.0.0.1", "loopback"),
            ("127.3.4.5", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.254", "private"),
            ("192.168.1.1", "private"),
            ("169.254.10.1", "link-local"),
            ("100.64.0.1", "cgnat"),
            ("100.127.255.254", "cgnat"),
            ("224.0.0.251", "multicast"),
            ("255.255.255.255", "reserved"),
            ("240.0.0.1", "reserved"),
            ("198.18.0.1", "reserved"),
            ("192.0.0.8", "reserved"),
            ("192.0.2.1", "documentation"),
            ("203.0.113.7", "documentation"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fd12:3456::1", "unique-local"),
            ("fc00::1", "unique-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("::ffff:192.168.0.1", "private"),
            ("::ffff:127.0.0.1", "loopback"),
            ("100::1", "reserved"),
            ("4000::1", "reserved"),
        ] {
            assert_eq!(scope(ip), Some(want), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "2a01:4f8::1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(scope(ip), None, "{ip}");
        }
    }

    #[test]
    fn base_url_must_be_plain_http() {
        assert_eq!(
            check_base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(check_base_url(DEFAULT_BASE_URL).unwrap(), DEFAULT_BASE_URL);
        for bad in [
            "https://pro.ip-api.com",
            "ftp://x",
            "not a url",
            "http://h/?a=1",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_counts_its_window_and_follows_the_service() {
        let w = Duration::from_secs(60);
        let mut l = Limiter::new(2, w);
        let t0 = Instant::now();
        assert_eq!(l.ready_at(t0), t0);
        l.record(t0);
        l.record(t0 + Duration::from_secs(1));
        // Both used: wait for the window that started at t0 to end.
        assert_eq!(l.ready_at(t0 + Duration::from_secs(2)), t0 + w);
        l.record(t0 + w);
        assert_eq!(l.ready_at(t0 + w), t0 + w);
        // The service says nothing is left for 30 s: blocked although one is left here.
        l.observe(Some(0), Some(30), t0 + w);
        assert_eq!(l.ready_at(t0 + w), t0 + w + Duration::from_secs(30));
        // X-Rl above 0 changes nothing; a 429 without X-Ttl blocks a whole window.
        let mut l = Limiter::new(45, w);
        l.observe(Some(3), Some(10), t0);
        assert_eq!(l.ready_at(t0), t0);
        l.block(t0, None);
        assert_eq!(l.ready_at(t0), t0 + w);
        // X-Ttl 0 still waits a second.
        let mut l = Limiter::new(45, w);
        l.observe(Some(0), Some(0), t0);
        assert_eq!(l.ready_at(t0), t0 + Duration::from_secs(1));
    }

    #[test]
    fn answers_decode_as_ip_api_sends_them() {
        let a: IpApiAnswer = serde_json::from_str(
            r#"{"status":"success","country":"Germany","countryCode":"DE","city":"Falkenstein","as":"AS24940 Hetzner Online GmbH","isp":"Hetzner Online GmbH","org":"","query":"88.99.1.2"}"#,
        )
        .unwrap();
        let g = a.to_geo("88.99.1.2".parse().unwrap());
        assert_eq!(g.country, "Germany");
        assert_eq!(g.country_code, "DE");
        assert_eq!(g.asn, "AS24940 Hetzner Online GmbH");
        assert_eq!(g.error, None);
        let a: IpApiAnswer = serde_json::from_str(
            r#"{"status":"fail","message":"reserved range","query":"240.0.0.1"}"#,
        )
        .unwrap();
        let g = a.to_geo("240.0.0.1".parse().unwrap());
        assert_eq!(g.error.as_deref(), Some("reserved range"));
        assert_eq!(g.country_key(), "unknown");
    }
}
