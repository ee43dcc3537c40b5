//! Prometheus metrics: the seed monitor's (`networkmonitor_*`, same names and labels) and
//! peerscope's own (`peerscope_*`).
//!
//! The `networkmonitor_*` gauges describe the stored peers and are recomputed from the
//! store when scraped (at most every [`STATS_TTL`]); `networkmonitor_peer_ping` and the
//! `peerscope_*` counters are updated as crawls run. Labels stay bounded: error classes and
//! capabilities are fixed sets, and the free-text labels (protocols, user agents,
//! countries, pubsub topics, CometBFT chain ids and versions) keep the [`MAX_LABEL_VALUES`] most frequent values and sum the
//! rest under `other`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::model::NetworkStats;

/// Most distinct values kept per free-text label.
pub const MAX_LABEL_VALUES: usize = 100;
/// Ping histogram buckets in milliseconds (the seed monitor's).
const PING_BUCKETS_MS: [f64; 11] = [
    100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 2000.0,
];

/// How long scraped peer aggregates are reused.
pub const STATS_TTL: Duration = Duration::from_secs(5);

type Labels = Vec<(String, String)>;

fn label(name: &str, value: impl Into<String>) -> Labels {
    vec![(name.to_string(), value.into())]
}

/// All metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    peer_type_as_per_enr: Family<Labels, Gauge>,
    peer_cluster_as_per_enr: Family<Labels, Gauge>,
    peer_type_as_per_protocol: Family<Labels, Gauge>,
    peer_user_agents: Family<Labels, Gauge>,
    peer_ping: Histogram,
    peer_count: Family<Labels, Gauge>,
    peer_country_count: Family<Labels, Gauge>,
    dials: Family<Labels, Counter>,
    find_node_requests: Counter,
    find_node_failures: Counter,
    relay_messages: Family<Labels, Counter>,
    relay_duplicates: Counter,
    relay_topics: Mutex<std::collections::HashSet<String>>,
    relay_app_messages: Family<Labels, Counter>,
    relay_apps: Mutex<std::collections::HashSet<String>>,
    events_written: Counter,
    subscribers: Gauge,
    store_size: Gauge,
    peers_stored: Gauge,
    crawls_running: Gauge,
    crawl_discovered: Gauge,
    px_requests: Family<Labels, Counter>,
    px_enrs: Counter,
    px_served: Family<Labels, Counter>,
    seed_connections_refused: Family<Labels, Counter>,
    records_dropped: Family<Labels, Counter>,
    records_out_of_scope: Counter,
    peers_by_fork_digest: Family<Labels, Gauge>,
    cometbft_peers_by_chain: Family<Labels, Gauge>,
    cometbft_peers_by_version: Family<Labels, Gauge>,
    sink_lag_events: Gauge,
    sink_rows: Family<Labels, Counter>,
    sink_errors: Counter,
    last_stats: Mutex<Option<Instant>>,
}

/// `value` while `seen` holds it or has room for it (up to [`MAX_LABEL_VALUES`]), else
/// "other": a label's values are the first ones seen, so counters never move between
/// labels.
fn bounded_label<'a>(seen: &Mutex<std::collections::HashSet<String>>, value: &'a str) -> &'a str {
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    if seen.contains(value) || seen.len() < MAX_LABEL_VALUES {
        if !seen.contains(value) {
            seen.insert(value.to_string());
        }
        value
    } else {
        "other"
    }
}

/// Keeps the `MAX_LABEL_VALUES` largest entries and sums the rest under "other".
fn top(map: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = map.iter().map(|(k, n)| (k.clone(), *n)).collect();
    if v.len() <= MAX_LABEL_VALUES {
        return v;
    }
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rest: u64 = v[MAX_LABEL_VALUES..].iter().map(|(_, n)| n).sum();
    v.truncate(MAX_LABEL_VALUES);
    v.push(("other".to_string(), rest));
    v
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let inner = Inner {
            peer_type_as_per_enr: Family::default(),
            peer_cluster_as_per_enr: Family::default(),
            peer_type_as_per_protocol: Family::default(),
            peer_user_agents: Family::default(),
            // Milliseconds, the seed monitor's buckets.
            peer_ping: Histogram::new(PING_BUCKETS_MS),
            peer_count: Family::default(),
            peer_country_count: Family::default(),
            dials: Family::default(),
            find_node_requests: Counter::default(),
            find_node_failures: Counter::default(),
            relay_messages: Family::default(),
            relay_duplicates: Counter::default(),
            relay_topics: Mutex::default(),
            relay_app_messages: Family::default(),
            relay_apps: Mutex::default(),
            events_written: Counter::default(),
            subscribers: Gauge::default(),
            store_size: Gauge::default(),
            peers_stored: Gauge::default(),
            crawls_running: Gauge::default(),
            crawl_discovered: Gauge::default(),
            px_requests: Family::default(),
            px_enrs: Counter::default(),
            px_served: Family::default(),
            seed_connections_refused: Family::default(),
            records_dropped: Family::default(),
            records_out_of_scope: Counter::default(),
            peers_by_fork_digest: Family::default(),
            cometbft_peers_by_chain: Family::default(),
            cometbft_peers_by_version: Family::default(),
            sink_lag_events: Gauge::default(),
            sink_rows: Family::default(),
            sink_errors: Counter::default(),
            last_stats: Mutex::new(None),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "networkmonitor_peer_type_as_per_enr",
            "Number of peers supporting each capability according to the ENR",
            inner.peer_type_as_per_enr.clone(),
        );
        r.register(
            "networkmonitor_peer_cluster_as_per_enr",
            "Number of peers on each cluster according to the ENR",
            inner.peer_cluster_as_per_enr.clone(),
        );
        r.register(
            "networkmonitor_peer_type_as_per_protocol",
            "Number of peers supporting each protocol, after a successful connection",
            inner.peer_type_as_per_protocol.clone(),
        );
        r.register(
            "networkmonitor_peer_user_agents",
            "Number of peers with each user agent",
            inner.peer_user_agents.clone(),
        );
        r.register(
            "networkmonitor_peer_ping",
            "Histogram tracking ping durations (ms) for discovered peers",
            inner.peer_ping.clone(),
        );
        r.register(
            "networkmonitor_peer_count",
            "Number of discovered peers",
            inner.peer_count.clone(),
        );
        r.register(
            "networkmonitor_peer_country_count",
            "Number of peers per country",
            inner.peer_country_count.clone(),
        );
        r.register(
            "peerscope_dials",
            "Dials by outcome: connected or the failure class",
            inner.dials.clone(),
        );
        r.register(
            "peerscope_find_node_requests",
            "discv5 FINDNODE requests sent",
            inner.find_node_requests.clone(),
        );
        r.register(
            "peerscope_find_node_failures",
            "discv5 FINDNODE requests that failed",
            inner.find_node_failures.clone(),
        );
        r.register(
            "peerscope_relay_messages",
            "Relay messages counted per pubsub topic",
            inner.relay_messages.clone(),
        );
        r.register(
            "peerscope_relay_duplicates",
            "Relay messages not counted because another crawl had counted their id",
            inner.relay_duplicates.clone(),
        );
        r.register(
            "peerscope_relay_application_messages",
            "Relay messages counted per pubsub topic and application (the first segment of the \
             content topic; `(invalid)` for other shapes, `(undecodable)` for data that is not a \
             WakuMessage)",
            inner.relay_app_messages.clone(),
        );
        r.register(
            "peerscope_events_written",
            "Peer events written to the store",
            inner.events_written.clone(),
        );
        r.register(
            "peerscope_event_subscribers",
            "StreamPeerEvents subscribers connected",
            inner.subscribers.clone(),
        );
        r.register(
            "peerscope_store_size_bytes",
            "Size of the store on disk",
            inner.store_size.clone(),
        );
        r.register(
            "peerscope_peers_stored",
            "Peers in the store",
            inner.peers_stored.clone(),
        );
        r.register(
            "peerscope_crawls_running",
            "Crawls running",
            inner.crawls_running.clone(),
        );
        r.register(
            "peerscope_crawl_discovered",
            "Nodes discovered by the running crawls (sum)",
            inner.crawl_discovered.clone(),
        );
        r.register(
            "peerscope_px_requests",
            "Peer-exchange requests sent, by outcome (ok, failed, refused)",
            inner.px_requests.clone(),
        );
        r.register(
            "peerscope_px_enrs",
            "ENRs received in peer-exchange answers",
            inner.px_enrs.clone(),
        );
        r.register(
            "peerscope_px_served",
            "Seed mode: peer-exchange requests answered, by outcome (ok; refused: the requester \
             asked too soon; refused_ip: its address asked too often; busy: too many recent \
             requesters; bad_request)",
            inner.px_served.clone(),
        );
        r.register(
            "peerscope_seed_connections_refused",
            "Seed mode: inbound connections refused, by reason (limit: too many connections; \
             per_ip: too many from one address)",
            inner.seed_connections_refused.clone(),
        );
        r.register(
            "peerscope_records_dropped",
            "Records of new nodes dropped, by reason (known_cap: the crawl knows max_peers \
             nodes; responder_budget: the responder introduced its budget this round)",
            inner.records_dropped.clone(),
        );
        r.register(
            "peerscope_records_out_of_scope",
            "Records naming an address outside their crawl's address scope (stored, never \
             contacted)",
            inner.records_out_of_scope.clone(),
        );
        r.register(
            "peerscope_peers_by_fork_digest",
            "Stored peers per eth2 fork digest (hex)",
            inner.peers_by_fork_digest.clone(),
        );
        r.register(
            "peerscope_cometbft_peers_by_chain",
            "Stored CometBFT peers per chain id of their NodeInfo",
            inner.cometbft_peers_by_chain.clone(),
        );
        r.register(
            "peerscope_cometbft_peers_by_version",
            "Stored CometBFT peers per software version of their NodeInfo",
            inner.cometbft_peers_by_version.clone(),
        );
        r.register(
            "peerscope_sink_lag_events",
            "Stored peer events the PostgreSQL sink has not exported yet",
            inner.sink_lag_events.clone(),
        );
        r.register(
            "peerscope_sink_rows",
            "Rows the PostgreSQL sink wrote (inserted or updated), per table",
            inner.sink_rows.clone(),
        );
        r.register(
            "peerscope_sink_errors",
            "Failed attempts of the PostgreSQL sink (connect, migrate, write)",
            inner.sink_errors.clone(),
        );
        let inner = Inner { registry, ..inner };
        Metrics {
            inner: Arc::new(inner),
        }
    }

    /// A dial ended: `outcome` is "connected" or an error class name.
    pub fn dial(&self, outcome: &str) {
        self.inner
            .dials
            .get_or_create(&label("outcome", outcome))
            .inc();
    }

    /// The sink wrote `n` rows of `table`.
    pub fn sink_rows(&self, table: &str, n: u64) {
        self.inner
            .sink_rows
            .get_or_create(&label("table", table))
            .inc_by(n);
    }

    /// A sink attempt failed.
    pub fn sink_error(&self) {
        self.inner.sink_errors.inc();
    }

    /// Stored events the sink has not exported.
    pub fn set_sink_lag(&self, events: u64) {
        self.inner
            .sink_lag_events
            .set(i64::try_from(events).unwrap_or(i64::MAX));
    }

    /// A ping answered.
    pub fn ping(&self, rtt: Duration) {
        self.inner.peer_ping.observe(rtt.as_secs_f64() * 1000.0);
    }

    /// FINDNODE requests sent and failed.
    pub fn find_node(&self, requests: u64, failures: u64) {
        self.inner.find_node_requests.inc_by(requests);
        self.inner.find_node_failures.inc_by(failures);
    }

    /// A relay message counted on `pubsub`.
    pub fn relay_message(&self, pubsub: &str) {
        let name = bounded_label(&self.inner.relay_topics, pubsub);
        self.inner
            .relay_messages
            .get_or_create(&label("pubsub_topic", name))
            .inc();
    }

    /// A relay message not counted: its id was counted already.
    pub fn relay_duplicate(&self) {
        self.inner.relay_duplicates.inc();
    }

    /// A relay message of `application` (see
    /// [`crate::model::messages::application_of`]; `None`: undecodable) counted on
    /// `pubsub`. Both labels keep their first [`MAX_LABEL_VALUES`] values; later ones
    /// count under `other`.
    pub fn relay_application_message(&self, pubsub: &str, application: Option<&str>) {
        let topic = bounded_label(&self.inner.relay_topics, pubsub);
        let app = match application {
            Some(a) => bounded_label(&self.inner.relay_apps, a),
            None => "(undecodable)",
        };
        self.inner
            .relay_app_messages
            .get_or_create(&vec![
                ("pubsub_topic".to_string(), topic.to_string()),
                ("application".to_string(), app.to_string()),
            ])
            .inc();
    }

    /// A peer-exchange request ended (`outcome`: ok, failed, refused) with `enrs` records.
    pub fn px_request(&self, outcome: &str, enrs: u64) {
        self.inner
            .px_requests
            .get_or_create(&label("outcome", outcome))
            .inc();
        self.inner.px_enrs.inc_by(enrs);
    }

    /// Seed mode answered a request (`outcome`: ok, refused, refused_ip, busy,
    /// bad_request).
    pub fn px_served(&self, outcome: &str) {
        self.inner
            .px_served
            .get_or_create(&label("outcome", outcome))
            .inc();
    }

    /// Seed mode refused an inbound connection (`reason`: limit, per_ip).
    pub fn seed_connection_refused(&self, reason: &str) {
        self.inner
            .seed_connections_refused
            .get_or_create(&label("reason", reason))
            .inc();
    }

    /// A record of a new node was dropped (`reason`: known_cap, responder_budget).
    pub fn record_dropped(&self, reason: &str) {
        self.inner
            .records_dropped
            .get_or_create(&label("reason", reason))
            .inc();
    }

    /// A record outside its crawl's address scope was seen (a new node or a newer record).
    pub fn record_out_of_scope(&self) {
        self.inner.records_out_of_scope.inc();
    }

    /// Events written.
    pub fn events_written(&self, n: u64) {
        self.inner.events_written.inc_by(n);
    }

    /// A subscriber connected; the guard counts it until dropped.
    pub fn subscriber(&self) -> SubscriberGuard {
        self.inner.subscribers.inc();
        SubscriberGuard {
            gauge: self.inner.subscribers.clone(),
        }
    }

    /// Whether the peer aggregates are due for a refresh.
    pub fn stats_stale(&self) -> bool {
        let last = self
            .inner
            .last_stats
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        last.is_none_or(|t| t.elapsed() >= STATS_TTL)
    }

    /// Sets the store-derived gauges.
    pub fn set_stats(&self, s: &NetworkStats, store_bytes: u64, peers: u64) {
        let i = &self.inner;
        i.peer_type_as_per_enr.clear();
        for (cap, n) in &s.by_capability {
            i.peer_type_as_per_enr
                .get_or_create(&label("capability", cap.clone()))
                .set(*n as i64);
        }
        i.peer_cluster_as_per_enr.clear();
        for (c, n) in &s.by_cluster {
            i.peer_cluster_as_per_enr
                .get_or_create(&label("cluster", c.to_string()))
                .set(*n as i64);
        }
        i.peer_type_as_per_protocol.clear();
        for (p, n) in top(&s.by_protocol) {
            i.peer_type_as_per_protocol
                .get_or_create(&label("protocols", p))
                .set(n as i64);
        }
        i.peer_user_agents.clear();
        for (a, n) in top(&s.by_agent) {
            i.peer_user_agents
                .get_or_create(&label("user_agent", a))
                .set(n as i64);
        }
        i.peers_by_fork_digest.clear();
        for (d, n) in top(&s.by_fork_digest) {
            i.peers_by_fork_digest
                .get_or_create(&label("fork_digest", d))
                .set(n as i64);
        }
        i.cometbft_peers_by_chain.clear();
        for (c, n) in top(&s.by_chain_id) {
            i.cometbft_peers_by_chain
                .get_or_create(&label("chain_id", c))
                .set(n as i64);
        }
        i.cometbft_peers_by_version.clear();
        for (v, n) in top(&s.by_software_version) {
            i.cometbft_peers_by_version
                .get_or_create(&label("version", v))
                .set(n as i64);
        }
        i.peer_count.clear();
        i.peer_count
            .get_or_create(&label("connected", "true"))
            .set(s.reachable as i64);
        i.peer_count
            .get_or_create(&label("connected", "false"))
            .set((s.peers - s.reachable) as i64);
        i.peer_country_count.clear();
        for (c, n) in top(&s.by_country) {
            i.peer_country_count
                .get_or_create(&label("country", c))
                .set(n as i64);
        }
        i.store_size.set(store_bytes as i64);
        i.peers_stored.set(peers as i64);
        *i.last_stats.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Sets the crawl gauges.
    pub fn set_crawls(&self, running: u64, discovered: u64) {
        self.inner.crawls_running.set(running as i64);
        self.inner.crawl_discovered.set(discovered as i64);
    }

    /// The OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.inner.registry);
        out
    }
}

/// Decrements the subscriber gauge when dropped.
pub struct SubscriberGuard {
    gauge: Gauge,
}

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_seed_monitor_names_with_bounded_labels() {
        let m = Metrics::new();
        let mut s = NetworkStats::default();
        for i in 0..150 {
            s.by_agent.insert(format!("agent-{i:03}"), 1 + i as u64);
        }
        s.by_country.insert("Germany".into(), 3);
        s.peers = 10;
        s.reachable = 7;
        m.set_stats(&s, 1234, 10);
        m.ping(Duration::from_millis(150));
        m.dial("refused");
        let text = m.render();
        assert!(
            text.contains("networkmonitor_peer_country_count{country=\"Germany\"} 3"),
            "{text}"
        );
        assert!(text.contains("networkmonitor_peer_count{connected=\"true\"} 7"));
        assert!(text.contains("networkmonitor_peer_count{connected=\"false\"} 3"));
        assert!(text.contains("networkmonitor_peer_ping_count 1"));
        assert!(text.contains("peerscope_dials_total{outcome=\"refused\"} 1"));
        let agents = text
            .lines()
            .filter(|l| l.starts_with("networkmonitor_peer_user_agents{"))
            .count();
        assert_eq!(agents, MAX_LABEL_VALUES + 1, "top values plus other");
        // The 50 smallest (1..=50) are summed under other.
        assert!(text.contains("networkmonitor_peer_user_agents{user_agent=\"other\"} 1275"));
        // Applications: the first 100 keep their label, later ones count under other.
        for i in 0..105 {
            m.relay_application_message("/waku/2/rs/1/0", Some(&format!("app{i}")));
        }
        m.relay_application_message("/waku/2/rs/1/0", None);
        let text = m.render();
        let apps = text
            .lines()
            .filter(|l| l.starts_with("peerscope_relay_application_messages_total{"))
            .count();
        assert_eq!(
            apps,
            MAX_LABEL_VALUES + 2,
            "first values, other and undecodable"
        );
        assert!(text.contains(
            "peerscope_relay_application_messages_total{pubsub_topic=\"/waku/2/rs/1/0\",application=\"other\"} 5"
        ));
    }
}
