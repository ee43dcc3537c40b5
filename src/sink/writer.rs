//! One export batch: read what is pending in the store, make it durable there, and write
//! it to PostgreSQL in one transaction that also advances the vantage's high-water marks.
//!
//! Rows go through per-connection temporary staging tables with binary `COPY`, then into
//! the real tables with `INSERT … SELECT … ON CONFLICT`: append-only tables (events,
//! visits, relay messages) `DO NOTHING`, upserted ones (peers, crawls, ENR versions, relay
//! counts and buckets) `DO UPDATE`. The high-water marks make a batch happen once; the
//! keys make a repeated one (after a backfill) harmless.

use std::collections::BTreeMap;
use std::pin::pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;

use super::SinkError;
use crate::model::{
    Crawl, CrawlMode, CrawlState, EventFilter, MessageCount, PeerEvent, PeerEventKind, PeerRecord,
    Profile, UndecodableCount, UnixMillis, VisitReport,
};
use crate::store::export::{Change, Changed, FeedEntry, MessageBucket, MessageSighting};
use crate::store::Store;

/// What happens to a staged row whose key is already in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnConflict {
    /// Keep the stored row (append-only tables).
    Nothing,
    /// Overwrite it with the staged one (rows that change).
    Update,
}

/// An exported table: its columns (with the types binary `COPY` sends) and its key.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Type)],
    pub key: &'static [&'static str],
    pub on_conflict: OnConflict,
}

const CRAWLS: Table = Table {
    name: "crawls",
    columns: &[
        ("vantage", Type::TEXT),
        ("crawl_id", Type::INT8),
        ("name", Type::TEXT),
        ("state", Type::TEXT),
        ("mode", Type::TEXT),
        ("network", Type::TEXT),
        ("cluster_id", Type::INT4),
        ("created_at", Type::TIMESTAMPTZ),
        ("finished_at", Type::TIMESTAMPTZ),
        ("discovered", Type::INT8),
        ("dials", Type::INT8),
        ("connected", Type::INT8),
        ("messages", Type::INT8),
        ("error", Type::TEXT),
        ("labels", Type::JSONB),
        ("settings", Type::JSONB),
        ("progress", Type::JSONB),
        ("chain_id", Type::TEXT),
    ],
    key: &["vantage", "crawl_id"],
    on_conflict: OnConflict::Update,
};

const PEERS: Table = Table {
    name: "peers",
    columns: &[
        ("vantage", Type::TEXT),
        ("node_id", Type::BYTEA),
        ("peer_id", Type::TEXT),
        ("enr", Type::TEXT),
        ("enr_seq", Type::INT8),
        ("ip4", Type::INET),
        ("tcp4", Type::INT4),
        ("udp4", Type::INT4),
        ("ip6", Type::INET),
        ("tcp6", Type::INT4),
        ("udp6", Type::INT4),
        ("waku2", Type::TEXT_ARRAY),
        ("cluster_id", Type::INT4),
        ("shards", Type::INT4_ARRAY),
        ("multiaddrs", Type::TEXT_ARRAY),
        ("eth2_fork_digest", Type::TEXT),
        ("has_eth", Type::BOOL),
        ("enr_issues", Type::TEXT_ARRAY),
        ("first_seen", Type::TIMESTAMPTZ),
        ("last_seen", Type::TIMESTAMPTZ),
        ("crawls", Type::INT8_ARRAY),
        ("enr_versions", Type::INT4),
        ("sources", Type::JSONB),
        ("state", Type::TEXT),
        ("reachable", Type::BOOL),
        ("attempts", Type::INT8),
        ("last_dial", Type::TIMESTAMPTZ),
        ("last_connected", Type::TIMESTAMPTZ),
        ("last_error_class", Type::TEXT),
        ("last_error", Type::TEXT),
        ("rtt_last_us", Type::INT8),
        ("rtt_avg_us", Type::INT8),
        ("up_since", Type::TIMESTAMPTZ),
        ("down_since", Type::TIMESTAMPTZ),
        ("sessions", Type::INT4),
        ("uptime_ms", Type::INT8),
        ("agent_version", Type::TEXT),
        ("protocol_version", Type::TEXT),
        ("protocols", Type::TEXT_ARRAY),
        ("listen_addrs", Type::TEXT_ARRAY),
        ("observed_addr", Type::TEXT),
        ("metadata_cluster_id", Type::INT4),
        ("metadata_shards", Type::INT4_ARRAY),
        ("metadata_error", Type::TEXT),
        ("country", Type::TEXT),
        ("country_code", Type::TEXT),
        ("city", Type::TEXT),
        ("asn", Type::TEXT),
        ("isp", Type::TEXT),
        ("org", Type::TEXT),
        ("geo_private", Type::BOOL),
        ("node_info", Type::JSONB),
        ("chain_id", Type::TEXT),
    ],
    key: &["vantage", "node_id"],
    on_conflict: OnConflict::Update,
};

const ENR_VERSIONS: Table = Table {
    name: "enr_versions",
    columns: &[
        ("vantage", Type::TEXT),
        ("node_id", Type::BYTEA),
        ("seq", Type::INT8),
        ("enr", Type::TEXT),
    ],
    key: &["vantage", "node_id", "seq"],
    on_conflict: OnConflict::Update,
};

const VISITS: Table = Table {
    name: "visits",
    columns: &[
        ("vantage", Type::TEXT),
        ("node_id", Type::BYTEA),
        ("started", Type::TIMESTAMPTZ),
        ("crawl_id", Type::INT8),
        ("duration_ms", Type::INT8),
        ("address", Type::TEXT),
        ("reachable", Type::BOOL),
        ("error_class", Type::TEXT),
        ("error", Type::TEXT),
        ("rtt_us", Type::INT8),
        ("agent_version", Type::TEXT),
        ("protocols", Type::TEXT_ARRAY),
        ("metadata_cluster_id", Type::INT4),
        ("metadata_shards", Type::INT4_ARRAY),
        ("metadata_error", Type::TEXT),
        ("node_info", Type::JSONB),
    ],
    key: &["vantage", "node_id", "started", "crawl_id"],
    on_conflict: OnConflict::Nothing,
};

const EVENTS: Table = Table {
    name: "events",
    columns: &[
        ("vantage", Type::TEXT),
        ("sequence", Type::INT8),
        ("time", Type::TIMESTAMPTZ),
        ("kind", Type::TEXT),
        ("crawl_id", Type::INT8),
        ("node_id", Type::BYTEA),
        ("peer_id", Type::TEXT),
        ("enr_seq", Type::INT8),
        ("enr", Type::TEXT),
        ("error_class", Type::TEXT),
        ("detail", Type::TEXT),
    ],
    key: &["vantage", "sequence"],
    on_conflict: OnConflict::Nothing,
};

const RELAY_COUNTS: Table = Table {
    name: "relay_counts",
    columns: &[
        ("vantage", Type::TEXT),
        ("pubsub_topic", Type::TEXT),
        ("content_topic", Type::TEXT),
        ("messages", Type::INT8),
        ("bytes", Type::INT8),
        ("first_seen", Type::TIMESTAMPTZ),
        ("last_seen", Type::TIMESTAMPTZ),
    ],
    key: &["vantage", "pubsub_topic", "content_topic"],
    on_conflict: OnConflict::Update,
};

const RELAY_BUCKETS: Table = Table {
    name: "relay_buckets",
    columns: &[
        ("vantage", Type::TEXT),
        ("pubsub_topic", Type::TEXT),
        ("content_topic", Type::TEXT),
        ("minute", Type::TIMESTAMPTZ),
        ("messages", Type::INT8),
        ("bytes", Type::INT8),
    ],
    key: &["vantage", "pubsub_topic", "content_topic", "minute"],
    on_conflict: OnConflict::Update,
};

const RELAY_UNDECODABLE: Table = Table {
    name: "relay_undecodable",
    columns: &[
        ("vantage", Type::TEXT),
        ("pubsub_topic", Type::TEXT),
        ("messages", Type::INT8),
        ("bytes", Type::INT8),
        ("first_seen", Type::TIMESTAMPTZ),
        ("last_seen", Type::TIMESTAMPTZ),
    ],
    key: &["vantage", "pubsub_topic"],
    on_conflict: OnConflict::Update,
};

const RELAY_MESSAGES: Table = Table {
    name: "relay_messages",
    columns: &[
        ("vantage", Type::TEXT),
        ("seq", Type::INT8),
        ("message_id", Type::BYTEA),
        ("pubsub_topic", Type::TEXT),
        ("content_topic", Type::TEXT),
        ("bytes", Type::INT8),
        ("seen_at", Type::TIMESTAMPTZ),
    ],
    key: &["vantage", "seq"],
    on_conflict: OnConflict::Nothing,
};

/// Every exported table, in the order a batch writes them.
pub const TABLES: &[&Table] = &[
    &CRAWLS,
    &PEERS,
    &ENR_VERSIONS,
    &VISITS,
    &EVENTS,
    &RELAY_COUNTS,
    &RELAY_BUCKETS,
    &RELAY_UNDECODABLE,
    &RELAY_MESSAGES,
];

type Value = Box<dyn ToSql + Sync + Send>;
type Row = Vec<Value>;

fn v<T: ToSql + Sync + Send + 'static>(x: T) -> Value {
    Box::new(x)
}

/// Text as PostgreSQL accepts it: `text` cannot hold NUL, which a hostile peer can put in
/// an agent string or an error.
fn text(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s.to_string()
    }
}

fn opt_text(s: &Option<String>) -> Value {
    v(s.as_deref().map(text))
}

fn texts<'a>(items: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    items.into_iter().map(|s| text(s)).collect()
}

/// JSON as `jsonb` accepts it (no NUL in strings).
fn json(mut value: serde_json::Value) -> serde_json::Value {
    fn clean(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => *s = text(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(clean),
            serde_json::Value::Object(o) => {
                let bad: Vec<String> = o.keys().filter(|k| k.contains('\0')).cloned().collect();
                for k in bad {
                    if let Some(x) = o.remove(&k) {
                        o.insert(text(&k), x);
                    }
                }
                o.values_mut().for_each(clean);
            }
            _ => {}
        }
    }
    clean(&mut value);
    value
}

fn to_json<T: serde::Serialize>(x: &T) -> serde_json::Value {
    json(serde_json::to_value(x).unwrap_or(serde_json::Value::Null))
}

/// Latest time `timestamptz` is given (the end of year 9999): later values are clamped.
const MAX_MILLIS: u64 = 253_402_300_799_999;

fn ts(ms: UnixMillis) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.min(MAX_MILLIS))
}

/// Counters and durations: saturate at `i64::MAX` (never reached in practice).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Identifiers (sequence numbers): the same 64 bits, read as signed, so that distinct
/// values stay distinct.
pub fn id(n: u64) -> i64 {
    n as i64
}

fn event_kind(k: PeerEventKind) -> &'static str {
    match k {
        PeerEventKind::Discovered => "discovered",
        PeerEventKind::EnrUpdated => "enr_updated",
        PeerEventKind::Connected => "connected",
        PeerEventKind::Identified => "identified",
        PeerEventKind::Metadata => "metadata",
        PeerEventKind::DialFailed => "dial_failed",
        PeerEventKind::Disconnected => "disconnected",
        PeerEventKind::Banned => "banned",
        PeerEventKind::Unbanned => "unbanned",
        PeerEventKind::PeerUp => "peer_up",
        PeerEventKind::PeerDown => "peer_down",
        PeerEventKind::PeerExchange => "peer_exchange",
        PeerEventKind::PeerExchangeServed => "peer_exchange_served",
        PeerEventKind::Resumed => "resumed",
    }
}

fn crawl_state(s: CrawlState) -> &'static str {
    match s {
        CrawlState::Running => "running",
        CrawlState::Finished => "finished",
        CrawlState::Stopped => "stopped",
        CrawlState::Failed => "failed",
        CrawlState::Interrupted => "interrupted",
    }
}

fn crawl_row(vantage: &str, c: &Crawl) -> Row {
    let (network, cluster, chain) = match &c.spec.profile {
        Profile::Waku { cluster_id, .. } => ("waku", Some(i32::from(*cluster_id)), None),
        Profile::Ethereum => ("ethereum", None, None),
        Profile::Custom { .. } => ("custom", None, None),
        Profile::CometBft(s) => ("cometbft", None, Some(text(&s.chain_id))),
    };
    let mode = match c.spec.mode {
        CrawlMode::Oneshot => "oneshot",
        CrawlMode::Continuous => "continuous",
    };
    let p = &c.progress;
    vec![
        v(vantage.to_string()),
        v(id(c.id)),
        v(text(&c.spec.name)),
        v(crawl_state(c.state)),
        v(mode),
        v(network),
        v(cluster),
        v(ts(c.created_at)),
        v(c.finished_at.map(ts)),
        v(count(p.discovered)),
        v(count(p.dials)),
        v(count(p.connected)),
        v(count(p.messages)),
        opt_text(&c.error),
        v(to_json(&c.spec.labels)),
        v(to_json(&c.spec.settings)),
        v(to_json(p)),
        v(chain),
    ]
}

fn peer_row(vantage: &str, p: &PeerRecord) -> Row {
    let e = &p.enr;
    let d = &p.dial;
    let id_info = d.identify.as_ref();
    let md = d.metadata.as_ref();
    let geo = p.geo.as_ref();
    let geo_text =
        |f: fn(&crate::model::GeoInfo) -> &String| -> Value { v(geo.map(|g| text(f(g)))) };
    vec![
        v(vantage.to_string()),
        v(e.node_id.to_vec()),
        opt_text(&e.peer_id),
        v(text(&e.text)),
        v(id(e.seq)),
        v(e.ip4.map(std::net::IpAddr::V4)),
        v(e.tcp4.map(i32::from)),
        v(e.udp4.map(i32::from)),
        v(e.ip6.map(std::net::IpAddr::V6)),
        v(e.tcp6.map(i32::from)),
        v(e.udp6.map(i32::from)),
        v(e.waku2.map(|w| {
            w.names()
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })),
        v(e.shards.as_ref().map(|s| i32::from(s.cluster))),
        v(e.shards
            .as_ref()
            .map(|s| s.shards.iter().map(|&x| i32::from(x)).collect::<Vec<_>>())),
        v(texts(&e.multiaddrs)),
        v(e.eth2.as_ref().map(|x| hex::encode(x.fork_digest))),
        v(e.has_eth),
        v(texts(&e.issues)),
        v(ts(p.first_seen)),
        v(ts(p.last_seen)),
        v(p.crawls.iter().map(|&c| id(c)).collect::<Vec<_>>()),
        v(i32::try_from(p.enr_versions).unwrap_or(i32::MAX)),
        v(to_json(&p.sources)),
        v(d.state.as_str()),
        v(d.reachable),
        v(count(d.attempts)),
        v(d.last_dial.map(ts)),
        v(d.last_connected.map(ts)),
        v(d.last_error_class.map(|c| c.as_str())),
        opt_text(&d.last_error),
        v(d.rtt_last_us.map(count)),
        v(d.rtt_avg_us.map(count)),
        v(d.up_since.map(ts)),
        v(d.down_since.map(ts)),
        v(i32::try_from(d.sessions).unwrap_or(i32::MAX)),
        v(count(d.uptime_ms)),
        v(id_info.map(|i| text(&i.agent_version))),
        v(id_info.map(|i| text(&i.protocol_version))),
        v(id_info.map(|i| texts(&i.protocols))),
        v(id_info.map(|i| texts(&i.listen_addrs))),
        v(id_info.map(|i| text(&i.observed_addr))),
        v(md.and_then(|m| m.cluster_id).map(|c| c as i32)),
        v(md.map(|m| m.shards.iter().map(|&s| s as i32).collect::<Vec<_>>())),
        opt_text(&d.metadata_error),
        geo_text(|g| &g.country),
        geo_text(|g| &g.country_code),
        geo_text(|g| &g.city),
        geo_text(|g| &g.asn),
        geo_text(|g| &g.isp),
        geo_text(|g| &g.org),
        v(geo.map(|g| g.private)),
        v(d.node_info.as_ref().map(to_json)),
        v(d.node_info.as_ref().map(|i| text(&i.network))),
    ]
}

fn enr_row(vantage: &str, node: &[u8], seq: u64, enr: &str) -> Row {
    vec![
        v(vantage.to_string()),
        v(node.to_vec()),
        v(id(seq)),
        v(text(enr)),
    ]
}

fn visit_row(vantage: &str, r: &VisitReport) -> Row {
    let id_info = r.identify.as_ref();
    let md = r.metadata.as_ref();
    vec![
        v(vantage.to_string()),
        v(r.node_id.to_vec()),
        v(ts(r.started)),
        v(id(r.crawl_id)),
        v(count(r.duration_ms)),
        opt_text(&r.address),
        v(r.reachable()),
        v(r.error_class.map(|c| c.as_str())),
        opt_text(&r.error),
        v(r.rtt_us.map(count)),
        v(id_info.map(|i| text(&i.agent_version))),
        v(id_info.map(|i| texts(&i.protocols))),
        v(md.and_then(|m| m.cluster_id).map(|c| c as i32)),
        v(md.map(|m| m.shards.iter().map(|&s| s as i32).collect::<Vec<_>>())),
        opt_text(&r.metadata_error),
        v(r.node_info.as_deref().map(to_json)),
    ]
}

fn event_row(vantage: &str, e: &PeerEvent) -> Row {
    let x = &e.event;
    vec![
        v(vantage.to_string()),
        v(id(e.sequence)),
        v(ts(x.time)),
        v(event_kind(x.kind)),
        v(id(x.crawl_id)),
        v(x.node_id.to_vec()),
        opt_text(&x.peer_id),
        v(id(x.enr_seq)),
        opt_text(&x.enr),
        v(x.error_class.map(|c| c.as_str())),
        opt_text(&x.detail),
    ]
}

fn count_row(vantage: &str, c: &MessageCount) -> Row {
    vec![
        v(vantage.to_string()),
        v(text(&c.pubsub_topic)),
        v(text(&c.content_topic)),
        v(count(c.messages)),
        v(count(c.bytes)),
        v(ts(c.first_seen)),
        v(ts(c.last_seen)),
    ]
}

fn bucket_row(vantage: &str, b: &MessageBucket) -> Row {
    vec![
        v(vantage.to_string()),
        v(text(&b.pubsub_topic)),
        v(text(&b.content_topic)),
        v(ts(b.minute.saturating_mul(60_000))),
        v(count(b.messages)),
        v(count(b.bytes)),
    ]
}

fn undecodable_row(vantage: &str, u: &UndecodableCount) -> Row {
    vec![
        v(vantage.to_string()),
        v(text(&u.pubsub_topic)),
        v(count(u.messages)),
        v(count(u.bytes)),
        v(ts(u.first_seen)),
        v(ts(u.last_seen)),
    ]
}

fn message_row(vantage: &str, seq: u64, m: &MessageSighting) -> Row {
    vec![
        v(vantage.to_string()),
        v(id(seq)),
        v(hex::decode(&m.id).unwrap_or_else(|_| m.id.as_bytes().to_vec())),
        v(text(&m.pubsub_topic)),
        v(m.content_topic.as_deref().map(text)),
        v(count(m.bytes)),
        v(ts(m.seen_at)),
    ]
}

/// Rows of one batch, per table, deduplicated by key (a row changed twice in one batch
/// is written once, with its latest value).
#[derive(Default)]
pub struct Batch {
    rows: BTreeMap<&'static str, BTreeMap<Vec<u8>, Row>>,
    /// Event high-water mark after this batch.
    pub event_seq: u64,
    /// Feed high-water mark after this batch.
    pub feed_seq: u64,
    /// Marks to clear once committed.
    pub changes: Vec<Change>,
    /// Rows read from the store (before deduplication).
    pub read: usize,
    /// Whether a source filled its limit (more is waiting).
    pub full: bool,
}

impl Batch {
    fn push(&mut self, table: &Table, key: Vec<u8>, row: Row) {
        self.read += 1;
        self.rows.entry(table.name).or_default().insert(key, row);
    }

    /// Nothing read and no high-water mark moved.
    pub fn is_empty(&self, event_seq: u64, feed_seq: u64) -> bool {
        self.read == 0
            && self.changes.is_empty()
            && self.event_seq == event_seq
            && self.feed_seq == feed_seq
    }
}

fn key_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::new();
    for p in parts {
        k.extend_from_slice(&(p.len() as u32).to_be_bytes());
        k.extend_from_slice(p);
    }
    k
}

/// Reads one batch from the store: events after `event_seq`, feed entries after
/// `feed_seq`, and marked rows from after `cursor` (wrapping), at most `limit` of each.
pub fn read_batch(
    store: &Store,
    vantage: &str,
    event_seq: u64,
    feed_seq: u64,
    cursor: Option<&[u8]>,
    limit: usize,
) -> Result<Batch, SinkError> {
    let mut b = Batch {
        event_seq,
        feed_seq,
        ..Batch::default()
    };
    let (events, last) = store.events_after(event_seq, &EventFilter::default(), limit)?;
    b.full |= events.len() >= limit;
    for e in &events {
        b.push(
            &EVENTS,
            e.sequence.to_be_bytes().to_vec(),
            event_row(vantage, e),
        );
    }
    b.event_seq = last;
    let feed = store.feed_after(feed_seq, limit)?;
    b.full |= feed.len() >= limit;
    for (seq, entry) in &feed {
        b.feed_seq = *seq;
        match entry {
            FeedEntry::Visit {
                node,
                started,
                crawl,
            } => {
                // Gone when retention dropped it since (the database keeps what it has).
                if let Some(r) = store.fed_visit(node, *started, *crawl)? {
                    let key = key_of(&[&r.node_id, &r.started.to_be_bytes(), &crawl.to_be_bytes()]);
                    b.push(&VISITS, key, visit_row(vantage, &r));
                }
            }
            FeedEntry::Enr { node, seq } => {
                if let Some(text) = store.fed_enr(node, *seq)? {
                    let node = hex::decode(node).unwrap_or_default();
                    let key = key_of(&[&node, &seq.to_be_bytes()]);
                    b.push(&ENR_VERSIONS, key, enr_row(vantage, &node, *seq, &text));
                }
            }
            FeedEntry::Message(m) => {
                b.push(
                    &RELAY_MESSAGES,
                    seq.to_be_bytes().to_vec(),
                    message_row(vantage, *seq, m),
                );
            }
        }
    }
    let changes = store.changes(cursor, limit)?;
    b.full |= changes.len() >= limit;
    for c in &changes {
        match c.kind {
            Changed::Peer => {
                if let Some(p) = <[u8; 32]>::try_from(c.key.as_slice())
                    .ok()
                    .map(|n| store.get_peer(&n))
                    .transpose()?
                    .flatten()
                {
                    b.push(&PEERS, c.key.clone(), peer_row(vantage, &p));
                }
            }
            Changed::Crawl => {
                if let Some(crawl) = crate::store::export::u64_of(&c.key)
                    .map(|id| store.get_crawl(id))
                    .transpose()?
                    .flatten()
                {
                    b.push(&CRAWLS, c.key.clone(), crawl_row(vantage, &crawl));
                }
            }
            Changed::MessageCount => {
                if let Some(m) = store.message_count_at(&c.key)? {
                    b.push(&RELAY_COUNTS, c.key.clone(), count_row(vantage, &m));
                }
            }
            Changed::MessageBucket => {
                if let Some(m) = store.message_bucket_at(&c.key)? {
                    b.push(&RELAY_BUCKETS, c.key.clone(), bucket_row(vantage, &m));
                }
            }
            Changed::Undecodable => {
                if let Some(u) = store.undecodable_at(&c.key)? {
                    b.push(
                        &RELAY_UNDECODABLE,
                        c.key.clone(),
                        undecodable_row(vantage, &u),
                    );
                }
            }
        }
    }
    b.changes = changes;
    Ok(b)
}

/// Creates this connection's staging tables (temporary: gone with the connection).
pub async fn prepare(client: &Client) -> Result<(), SinkError> {
    let mut sql = String::new();
    for t in TABLES {
        sql.push_str(&format!(
            "CREATE TEMPORARY TABLE IF NOT EXISTS stage_{0} (LIKE {0}) ON COMMIT DELETE ROWS;\n",
            t.name
        ));
    }
    client.batch_execute(&sql).await?;
    Ok(())
}

fn insert_sql(t: &Table) -> String {
    let cols: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
    let cols = cols.join(", ");
    let key = t.key.join(", ");
    let action = match t.on_conflict {
        OnConflict::Nothing => "NOTHING".to_string(),
        OnConflict::Update => {
            let set: Vec<String> = t
                .columns
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| !t.key.contains(c))
                .map(|c| format!("{c} = EXCLUDED.{c}"))
                .collect();
            format!("UPDATE SET {}", set.join(", "))
        }
    };
    format!(
        "INSERT INTO {0} ({cols}) SELECT {cols} FROM stage_{0} ON CONFLICT ({key}) DO {action}",
        t.name
    )
}

/// What a committed batch wrote: rows per table (inserted or updated).
pub type Written = BTreeMap<&'static str, u64>;

/// Writes `batch` and the new high-water marks in one transaction. Fails with
/// [`SinkError::Conflict`] when the marks in the database are not `expected` (another
/// process wrote under this vantage).
pub async fn write_batch(
    client: &mut Client,
    vantage: &str,
    expected: (u64, u64),
    batch: Batch,
) -> Result<Written, SinkError> {
    let tx = client.transaction().await?;
    let mut written = Written::new();
    for t in TABLES {
        let Some(rows) = batch.rows.get(t.name) else {
            continue;
        };
        if rows.is_empty() {
            continue;
        }
        let cols: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
        let sink = tx
            .copy_in(&format!(
                "COPY stage_{} ({}) FROM STDIN (FORMAT binary)",
                t.name,
                cols.join(", ")
            ))
            .await?;
        let types: Vec<Type> = t.columns.iter().map(|(_, ty)| ty.clone()).collect();
        let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
        for row in rows.values() {
            let refs: Vec<&(dyn ToSql + Sync)> = row
                .iter()
                .map(|x| x.as_ref() as &(dyn ToSql + Sync))
                .collect();
            writer.as_mut().write(&refs).await?;
        }
        writer.finish().await?;
        let n = tx.execute(&insert_sql(t), &[]).await?;
        written.insert(t.name, n);
    }
    let updated = tx
        .execute(
            "UPDATE sink_state SET event_seq = $2, feed_seq = $3, updated_at = now()
             WHERE vantage = $1 AND event_seq = $4 AND feed_seq = $5",
            &[
                &vantage,
                &id(batch.event_seq),
                &id(batch.feed_seq),
                &id(expected.0),
                &id(expected.1),
            ],
        )
        .await?;
    if updated != 1 {
        return Err(SinkError::Conflict {
            vantage: vantage.to_string(),
        });
    }
    tx.commit().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_have_one_value_per_column() {
        let vantage = "a";
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 100).unwrap();
        let _ = store;
        let visit = VisitReport {
            node_id: [1; 32],
            crawl_id: 1,
            started: 5,
            duration_ms: 1,
            address: None,
            error_class: None,
            error: Some("a\0b".into()),
            identify: None,
            metadata: None,
            metadata_error: None,
            rtt_us: None,
            node_info: None,
        };
        assert_eq!(visit_row(vantage, &visit).len(), VISITS.columns.len());
        let ev = PeerEvent {
            sequence: 1,
            event: crate::model::NewPeerEvent {
                time: 1,
                kind: PeerEventKind::Discovered,
                crawl_id: 1,
                node_id: [0; 32],
                peer_id: None,
                enr_seq: 1,
                enr: None,
                error_class: None,
                detail: None,
            },
        };
        assert_eq!(event_row(vantage, &ev).len(), EVENTS.columns.len());
        assert_eq!(
            count_row(vantage, &MessageCount::default()).len(),
            RELAY_COUNTS.columns.len()
        );
        assert_eq!(
            undecodable_row(vantage, &UndecodableCount::default()).len(),
            RELAY_UNDECODABLE.columns.len()
        );
        let b = MessageBucket {
            pubsub_topic: "p".into(),
            content_topic: "c".into(),
            minute: 1,
            messages: 1,
            bytes: 1,
        };
        assert_eq!(bucket_row(vantage, &b).len(), RELAY_BUCKETS.columns.len());
        let m = MessageSighting {
            id: "00".into(),
            pubsub_topic: "p".into(),
            content_topic: None,
            bytes: 1,
            seen_at: 1,
        };
        assert_eq!(
            message_row(vantage, 1, &m).len(),
            RELAY_MESSAGES.columns.len()
        );
        assert_eq!(
            enr_row(vantage, &[0; 32], 1, "enr:").len(),
            ENR_VERSIONS.columns.len()
        );
    }

    #[test]
    fn text_and_json_lose_their_nul_bytes_only() {
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
        assert_eq!(text("plain"), "plain");
        let j = json(serde_json::json!({"k\0": ["x\0", 1, {"y": "z\0"}]}));
        assert_eq!(
            j,
            serde_json::json!({"k\u{FFFD}": ["x\u{FFFD}", 1, {"y": "z\u{FFFD}"}]})
        );
        assert_eq!(id(u64::MAX), -1);
        assert_eq!(count(u64::MAX), i64::MAX);
        assert_eq!(ts(u64::MAX), ts(MAX_MILLIS));
    }

    #[test]
    fn upserts_update_every_column_but_the_key() {
        let sql = insert_sql(&RELAY_UNDECODABLE);
        assert_eq!(
            sql,
            "INSERT INTO relay_undecodable (vantage, pubsub_topic, messages, bytes, first_seen, last_seen) \
             SELECT vantage, pubsub_topic, messages, bytes, first_seen, last_seen FROM stage_relay_undecodable \
             ON CONFLICT (vantage, pubsub_topic) DO UPDATE SET messages = EXCLUDED.messages, \
             bytes = EXCLUDED.bytes, first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen"
        );
        assert!(insert_sql(&EVENTS).ends_with("DO NOTHING"));
    }
}
