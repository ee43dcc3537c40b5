//! Conversions between `peerscope.v1` messages and domain types, with input validation.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::api::status::RequestError;
use crate::model::{
    node_id_hex, now_millis, parse_node_id, Crawl, CrawlId, CrawlMode, CrawlProgress,
    CrawlSettings, CrawlSpec, CrawlState, EventFilter, NetworkStats, NodeId, PeerEvent,
    PeerEventKind, PeerFilter, PeerRecord, Profile, UnixMillis,
};
use crate::proto::pb;
use crate::protocol::enr::{capability_bit, parse_enr, ShardEncoding};

const MAX_NAME: usize = 200;
const MAX_LABELS: usize = 32;
const MAX_BOOTSTRAP: usize = 1024;
/// `StartCrawlRequest.dns_tree_urls`: entries, and bytes of one URL (scheme, a 53-character
/// key and a 253-character domain fit well within it).
const MAX_TREE_URLS: usize = 64;
const MAX_TREE_URL_LEN: usize = 512;
/// `WakuProfile.shards` entries (one per shard index at most, duplicates aside).
const MAX_SHARDS: usize = 1024;
/// `StartCrawlRequest.pubsub_topics`: entries, and bytes of one topic.
const MAX_TOPICS: usize = 64;
const MAX_TOPIC_LEN: usize = 256;
/// Bytes of one string filter (protocol, agent, country, topics).
const MAX_FILTER_LEN: usize = 256;
/// `StreamPeerEventsRequest.kinds` entries.
const MAX_KINDS: usize = 64;
/// `CrawlLimits.max_duration`: at most a year (unset runs without a bound).
const MAX_CRAWL_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The longest interval settings (`recrawl_interval`, `min_redial_interval`,
/// `peer_exchange.interval`): 30 days.
const MAX_INTERVAL: Duration = Duration::from_secs(30 * 24 * 3600);
/// The latest valid `google.protobuf.Timestamp`, 9999-12-31T23:59:59Z.
const MAX_TIMESTAMP_SECS: i64 = 253_402_300_799;
/// Bytes of a peer id's text (the longest real ones, identity-hashed keys, are about 60).
const MAX_PEER_ID_LEN: usize = 128;
/// Bytes of a rejected value quoted back in an error message.
const MAX_SHOWN: usize = 64;
/// `StartCrawlRequest.allowed_cidrs`: entries, and bytes of one entry (the longest IPv6
/// CIDR is 43 characters).
const MAX_CIDRS: usize = 256;
const MAX_CIDR_LEN: usize = 64;

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> RequestError {
    RequestError::invalid(field, reason)
}

/// `text` quoted for an error message: whole when short, else its start and its length, so
/// that a huge argument never makes a huge status.
fn shown(text: &str) -> String {
    if text.len() <= MAX_SHOWN {
        return format!("{text:?}");
    }
    let mut end = MAX_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &text[..end], text.len())
}

/// An optional string filter (empty = none) of at most `max` bytes.
fn filter_text(field: &str, text: &str, max: usize) -> Result<Option<String>, RequestError> {
    if text.len() > max {
        return Err(invalid(
            field,
            format!("{} bytes, at most {max} allowed", text.len()),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// Converts a protobuf duration, naming `field` when it is negative or malformed.
fn duration(field: &str, d: &prost_types::Duration) -> Result<Duration, RequestError> {
    if d.seconds < 0 || d.nanos < 0 || d.nanos >= 1_000_000_000 {
        return Err(invalid(field, "must be a non-negative duration"));
    }
    Ok(Duration::new(d.seconds as u64, d.nanos as u32))
}

/// Converts a duration that must lie in `min..=max`.
pub fn duration_in(
    field: &str,
    d: &prost_types::Duration,
    min: Duration,
    max: Duration,
) -> Result<Duration, RequestError> {
    let v = duration(field, d)?;
    if v < min || v > max {
        return Err(invalid(
            field,
            format!("{v:?} is outside the allowed range {min:?}..={max:?}"),
        ));
    }
    Ok(v)
}

/// Encodes a duration for the wire.
pub fn to_pb_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// Encodes a Unix-millisecond time for the wire.
/// The sink's status as the API reports it.
pub fn sink_status(s: &crate::sink::SinkStatus) -> pb::GetSinkStatusResponse {
    pb::GetSinkStatusResponse {
        enabled: true,
        vantage: s.vantage.clone(),
        database: s.database.clone(),
        connected: s.connected,
        lag_events: s.lag_events,
        lag_feed: s.lag_feed,
        pending_changes: s.pending_changes,
        caught_up: s.caught_up(),
        exported_event_sequence: s.exported_event_sequence,
        last_event_sequence: s.last_event_sequence,
        rows: s.rows.clone().into_iter().collect(),
        batches: s.batches,
        errors: s.errors,
        last_error: s.last_error.clone().unwrap_or_default(),
        last_error_time: s.last_error_at.map(to_pb_time),
        last_export_time: s.last_export_at.map(to_pb_time),
        backfills: s.backfills,
    }
}

pub fn to_pb_time(ms: UnixMillis) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

/// Converts a protobuf timestamp, which must lie in 1970..=9999 with nanos in range.
fn from_pb_time(field: &str, t: &prost_types::Timestamp) -> Result<UnixMillis, RequestError> {
    if t.seconds < 0 {
        return Err(invalid(field, "must not be before 1970"));
    }
    if t.seconds > MAX_TIMESTAMP_SECS {
        return Err(invalid(field, "must not be after 9999-12-31T23:59:59Z"));
    }
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err(invalid(
            field,
            format!("nanos {} is not in 0..=999999999", t.nanos),
        ));
    }
    // At most 253402300799999: no overflow.
    Ok(t.seconds as u64 * 1000 + t.nanos as u64 / 1_000_000)
}

/// Parses a required crawl id.
pub fn crawl_id(field: &str, text: &str) -> Result<CrawlId, RequestError> {
    if text.is_empty() {
        return Err(invalid(field, "required"));
    }
    optional_crawl_id(field, text).map(|id| id.unwrap_or_default())
}

/// Parses an optional crawl id (empty = none).
pub fn optional_crawl_id(field: &str, text: &str) -> Result<Option<CrawlId>, RequestError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>()
        .ok()
        .filter(|&id| id > 0)
        .map(Some)
        .ok_or_else(|| {
            invalid(
                field,
                format!("{} is not a crawl id (a positive decimal)", shown(text)),
            )
        })
}

fn node_id(field: &str, text: &str) -> Result<NodeId, RequestError> {
    parse_node_id(text).ok_or_else(|| {
        invalid(
            field,
            format!("{} is not a node id (64 hex characters)", shown(text)),
        )
    })
}

fn peer_id(field: &str, text: &str) -> Result<String, RequestError> {
    // Checked before decoding: base58 decoding is quadratic in the length.
    if text.len() > MAX_PEER_ID_LEN {
        return Err(invalid(
            field,
            format!(
                "{} bytes, a peer id is at most {MAX_PEER_ID_LEN}",
                text.len()
            ),
        ));
    }
    if let Ok(id) = crate::protocol::cometbft::CometId::parse(text) {
        return Ok(id.to_string());
    }
    if !crate::protocol::enr::is_peer_id(text) {
        return Err(invalid(
            field,
            format!(
                "{} is not a libp2p peer id or a CometBFT node id",
                shown(text)
            ),
        ));
    }
    Ok(text.to_string())
}

/// The profile, and the tree URL of its fleet preset if it names one.
fn profile(p: Option<pb::NetworkProfile>) -> Result<(Profile, Option<&'static str>), RequestError> {
    use pb::network_profile::Profile as P;
    match p.and_then(|p| p.profile) {
        None => Err(invalid(
            "profile",
            "required: set one of waku, ethereum, custom or cometbft",
        )),
        Some(P::Cometbft(c)) => Ok((Profile::CometBft(Box::new(cometbft_profile(&c)?)), None)),
        Some(P::Waku(w)) => {
            let preset = if w.preset.is_empty() {
                None
            } else {
                Some(
                    crate::protocol::waku::fleet_preset(&w.preset).ok_or_else(|| {
                        let names: Vec<&str> = crate::protocol::waku::FLEET_PRESETS
                            .iter()
                            .map(|p| p.0)
                            .collect();
                        invalid(
                            "profile.waku.preset",
                            format!("{} is not one of {}", shown(&w.preset), names.join(", ")),
                        )
                    })?,
                )
            };
            let cluster_id = u16::try_from(w.cluster_id).map_err(|_| {
                invalid(
                    "profile.waku.cluster_id",
                    format!("{} is above 65535", w.cluster_id),
                )
            })?;
            if w.shards.len() > MAX_SHARDS {
                return Err(invalid(
                    "profile.waku.shards",
                    format!("{} entries, at most {MAX_SHARDS}", w.shards.len()),
                ));
            }
            let mut shards = Vec::with_capacity(w.shards.len());
            for (i, s) in w.shards.iter().enumerate() {
                if *s > 1023 {
                    return Err(invalid(
                        format!("profile.waku.shards[{i}]"),
                        format!("{s} is above the maximum shard index 1023"),
                    ));
                }
                shards.push(*s as u16);
            }
            shards.sort_unstable();
            shards.dedup();
            let cluster_id = match preset {
                Some((c, _)) if cluster_id == 0 => c,
                _ => cluster_id,
            };
            let protocol_id = if w.protocol_id.is_empty() {
                crate::model::WAKU_PROTOCOL_ID
            } else {
                protocol_id_of("profile.waku.protocol_id", &w.protocol_id)?
            };
            Ok((
                Profile::Waku {
                    cluster_id,
                    shards,
                    protocol_id,
                },
                preset.map(|(_, url)| url),
            ))
        }
        Some(P::Ethereum(_)) => Ok((Profile::Ethereum, None)),
        Some(P::Custom(c)) => Ok((
            Profile::Custom {
                protocol_id: protocol_id_of("profile.custom.protocol_id", &c.protocol_id)?,
            },
            None,
        )),
    }
}

/// A discv5 protocol id: exactly 6 ASCII characters.
fn protocol_id_of(field: &str, text: &str) -> Result<[u8; 6], RequestError> {
    match <[u8; 6]>::try_from(text.as_bytes()) {
        Ok(id) if text.is_ascii() => Ok(id),
        _ => Err(invalid(
            field,
            format!("{} is not 6 ASCII characters", shown(text)),
        )),
    }
}

/// Validates `StartCrawlRequest.allowed_cidrs`.
fn allowed_cidrs(cidrs: &[String]) -> Result<Vec<ipnet::IpNet>, RequestError> {
    if cidrs.len() > MAX_CIDRS {
        return Err(invalid(
            "allowed_cidrs",
            format!("{} entries, at most {MAX_CIDRS}", cidrs.len()),
        ));
    }
    cidrs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            if text.len() > MAX_CIDR_LEN {
                return Err(invalid(
                    format!("allowed_cidrs[{i}]"),
                    format!("{} bytes, at most {MAX_CIDR_LEN} allowed", text.len()),
                ));
            }
            crate::model::scope::parse_cidr(text).map_err(|_| {
                invalid(
                    format!("allowed_cidrs[{i}]"),
                    format!(
                        "{} is not a CIDR (e.g. 10.0.0.0/8) or an IP address",
                        shown(text)
                    ),
                )
            })
        })
        .collect()
}

fn mode(value: i32) -> Result<CrawlMode, RequestError> {
    match pb::CrawlMode::try_from(value) {
        Ok(pb::CrawlMode::Unspecified) | Ok(pb::CrawlMode::Oneshot) => Ok(CrawlMode::Oneshot),
        Ok(pb::CrawlMode::Continuous) => Ok(CrawlMode::Continuous),
        Err(_) => Err(invalid("mode", format!("unknown crawl mode {value}"))),
    }
}

/// Most start addresses of a CometBFT crawl.
const MAX_COMET_PEERS: usize = 1024;

/// Printable ASCII of 1..=`max` bytes.
fn ascii_field(field: &str, text: &str, max: usize) -> Result<(), RequestError> {
    if text.is_empty() || text.len() > max || !text.bytes().all(|b| (32..=126).contains(&b)) {
        return Err(invalid(
            field,
            format!("{} must be 1..={max} bytes of printable ASCII", shown(text)),
        ));
    }
    Ok(())
}

/// Validates `NetworkProfile.cometbft`.
fn cometbft_profile(
    c: &pb::CometBftProfile,
) -> Result<crate::model::CometBftSettings, RequestError> {
    use crate::model::{CometBftSettings, CometSeedSettings};
    let mut out = CometBftSettings::default();
    ascii_field("profile.cometbft.chain_id", &c.chain_id, 50)?;
    out.chain_id = c.chain_id.clone();
    if c.peers.is_empty() {
        return Err(invalid(
            "profile.cometbft.peers",
            "required: at least one id@ip:port address",
        ));
    }
    if c.peers.len() > MAX_COMET_PEERS {
        return Err(invalid(
            "profile.cometbft.peers",
            format!("{} addresses, at most {MAX_COMET_PEERS}", c.peers.len()),
        ));
    }
    for (i, p) in c.peers.iter().enumerate() {
        let addr = crate::protocol::cometbft::PeerAddr::parse(p)
            .map_err(|e| invalid(format!("profile.cometbft.peers[{i}]"), e.to_string()))?;
        out.peers.push(addr.to_string());
    }
    let day = Duration::from_secs(86_400);
    if let Some(d) = &c.crawl_interval {
        out.crawl_interval = duration_in(
            "profile.cometbft.crawl_interval",
            d,
            Duration::from_secs(1),
            day,
        )?;
    }
    if let Some(d) = &c.min_recrawl {
        out.min_recrawl = duration_in(
            "profile.cometbft.min_recrawl",
            d,
            Duration::from_secs(1),
            MAX_INTERVAL,
        )?;
    }
    if let Some(n) = c.max_dial_attempts {
        if n == 0 || n > 64 {
            return Err(invalid(
                "profile.cometbft.max_dial_attempts",
                format!("{n} is not in 1..=64"),
            ));
        }
        out.max_dial_attempts = n;
    }
    if let Some(d) = &c.ban_duration {
        out.ban_duration = duration_in(
            "profile.cometbft.ban_duration",
            d,
            Duration::from_secs(1),
            day * 365,
        )?;
    }
    if let Some(n) = c.new_bias_percent {
        out.new_bias_percent = u8::try_from(n).ok().filter(|n| *n <= 100).ok_or_else(|| {
            invalid(
                "profile.cometbft.new_bias_percent",
                format!("{n} is not in 0..=100"),
            )
        })?;
    }
    if let Some(d) = &c.exchange_timeout {
        out.exchange_timeout = duration_in(
            "profile.cometbft.exchange_timeout",
            d,
            Duration::from_millis(100),
            Duration::from_secs(120),
        )?;
    }
    if let Some(n) = c.max_addrs {
        if n == 0 || n > 10_000 {
            return Err(invalid(
                "profile.cometbft.max_addrs",
                format!("{n} is not in 1..=10000"),
            ));
        }
        out.max_addrs = n;
    }
    if let Some(v) = c.block_version {
        out.block_version = v;
    }
    if let Some(v) = c.p2p_version {
        out.p2p_version = v;
    }
    if !c.moniker.is_empty() {
        ascii_field("profile.cometbft.moniker", &c.moniker, 64)?;
        out.moniker = c.moniker.clone();
    }
    if let Some(seed) = &c.seed {
        let mut s = CometSeedSettings::default();
        let addr = |field: &str, text: &str| -> Result<Option<SocketAddr>, RequestError> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<SocketAddr>()
                .map(Some)
                .map_err(|_| invalid(field, format!("{} is not an ip:port address", shown(text))))
        };
        s.listen_addr = addr("profile.cometbft.seed.listen_addr", &seed.listen_addr)?;
        s.external_addr = addr("profile.cometbft.seed.external_addr", &seed.external_addr)?;
        if let Some(e) = s.external_addr {
            if e.ip().is_unspecified() || e.port() == 0 {
                return Err(invalid(
                    "profile.cometbft.seed.external_addr",
                    "must name a dialable ip and port",
                ));
            }
        }
        if s.external_addr.is_none() && s.listen_addr.is_some_and(|a| a.ip().is_unspecified()) {
            return Err(invalid(
                "profile.cometbft.seed.external_addr",
                "required when the seed listens on an unspecified address (0.0.0.0 or ::)",
            ));
        }
        if let Some(d) = &seed.request_interval {
            s.request_interval = duration_in(
                "profile.cometbft.seed.request_interval",
                d,
                Duration::from_secs(1),
                day,
            )?;
        }
        if let Some(n) = seed.max_reply {
            if n == 0 || n > 250 {
                return Err(invalid(
                    "profile.cometbft.seed.max_reply",
                    format!("{n} is not in 1..=250"),
                ));
            }
            s.max_reply = n;
        }
        if let Some(n) = seed.max_inbound {
            if n == 0 || n > 4096 {
                return Err(invalid(
                    "profile.cometbft.seed.max_inbound",
                    format!("{n} is not in 1..=4096"),
                ));
            }
            s.max_inbound = n;
        }
        if let Some(d) = &seed.idle_timeout {
            s.idle_timeout = duration_in(
                "profile.cometbft.seed.idle_timeout",
                d,
                Duration::from_millis(100),
                Duration::from_secs(3600),
            )?;
        }
        out.seed = Some(s);
    }
    Ok(out)
}

/// The CometBFT profile as the API shows it (defaults filled in).
fn pb_cometbft(c: &crate::model::CometBftSettings) -> pb::CometBftProfile {
    pb::CometBftProfile {
        chain_id: c.chain_id.clone(),
        peers: c.peers.clone(),
        crawl_interval: Some(to_pb_duration(c.crawl_interval)),
        min_recrawl: Some(to_pb_duration(c.min_recrawl)),
        max_dial_attempts: Some(c.max_dial_attempts),
        ban_duration: Some(to_pb_duration(c.ban_duration)),
        new_bias_percent: Some(u32::from(c.new_bias_percent)),
        exchange_timeout: Some(to_pb_duration(c.exchange_timeout)),
        max_addrs: Some(c.max_addrs),
        block_version: Some(c.block_version),
        p2p_version: Some(c.p2p_version),
        moniker: c.moniker.clone(),
        seed: c.seed.as_ref().map(|s| pb::CometBftSeedOptions {
            listen_addr: s.listen_addr.map(|a| a.to_string()).unwrap_or_default(),
            external_addr: s.external_addr.map(|a| a.to_string()).unwrap_or_default(),
            request_interval: Some(to_pb_duration(s.request_interval)),
            max_reply: Some(s.max_reply),
            max_inbound: Some(s.max_inbound),
            idle_timeout: Some(to_pb_duration(s.idle_timeout)),
        }),
    }
}

/// Validates a `StartCrawlRequest` into a crawl spec.
pub fn crawl_spec(mut req: pb::StartCrawlRequest) -> Result<CrawlSpec, RequestError> {
    let (profile, preset_url) = profile(req.profile.take())?;
    if profile.cometbft().is_some() {
        if !req.bootstrap_enrs.is_empty() {
            return Err(invalid(
                "bootstrap_enrs",
                "must be empty for a cometbft profile (set profile.cometbft.peers)",
            ));
        }
        if !req.dns_tree_urls.is_empty() {
            return Err(invalid(
                "dns_tree_urls",
                "must be empty for a cometbft profile (set profile.cometbft.peers)",
            ));
        }
        if req.relay == Some(true) {
            return Err(invalid("relay", "the relay monitor needs the waku profile"));
        }
        if req.peer_exchange.is_some() {
            return Err(invalid(
                "peer_exchange",
                "Waku peer exchange does not apply to a cometbft profile (see profile.cometbft.seed)",
            ));
        }
    }
    if let Some(url) = preset_url {
        if !req.dns_tree_urls.iter().any(|u| u == url) {
            req.dns_tree_urls.push(url.to_string());
        }
    }
    if req.dns_tree_urls.len() > MAX_TREE_URLS {
        return Err(invalid(
            "dns_tree_urls",
            format!(
                "{} URLs, at most {MAX_TREE_URLS} (a preset counts as one)",
                req.dns_tree_urls.len()
            ),
        ));
    }
    for (i, url) in req.dns_tree_urls.iter().enumerate() {
        let field = format!("dns_tree_urls[{i}]");
        if url.len() > MAX_TREE_URL_LEN {
            return Err(invalid(
                field,
                format!("{} bytes, at most {MAX_TREE_URL_LEN} allowed", url.len()),
            ));
        }
        url.parse::<crate::protocol::dns::TreeUrl>()
            .map_err(|e| match e {
                crate::protocol::dns::DnsError::BadUrl { reason, .. } => invalid(
                    &field,
                    format!("{} is not an enrtree URL: {reason}", shown(url)),
                ),
                e => invalid(&field, e.to_string()),
            })?;
    }
    if req.bootstrap_enrs.is_empty() && req.dns_tree_urls.is_empty() && profile.cometbft().is_none()
    {
        return Err(invalid(
            "bootstrap_enrs",
            "required: at least one enr: record (or a dns_tree_urls entry)",
        ));
    }
    if req.bootstrap_enrs.len() > MAX_BOOTSTRAP {
        return Err(invalid(
            "bootstrap_enrs",
            format!(
                "{} records, at most {MAX_BOOTSTRAP}",
                req.bootstrap_enrs.len()
            ),
        ));
    }
    let mut bootstrap_enrs = Vec::with_capacity(req.bootstrap_enrs.len());
    for (i, text) in req.bootstrap_enrs.iter().enumerate() {
        let field = format!("bootstrap_enrs[{i}]");
        let enr = parse_enr(text).map_err(|e| invalid(&field, e.to_string()))?;
        if enr.udp4_socket().is_none() && enr.udp6_socket().is_none() {
            return Err(invalid(
                &field,
                "the record has no UDP endpoint (ip/udp or ip6/udp6) to query",
            ));
        }
        bootstrap_enrs.push(enr.to_base64());
    }
    let mode = mode(req.mode)?;
    let mut settings = CrawlSettings::default();
    if mode == CrawlMode::Oneshot {
        settings.random_lookups = crate::model::DEFAULT_ONESHOT_RANDOM_LOOKUPS;
    }
    if let Some(c) = req.concurrency {
        if c == 0 || c > 4096 {
            return Err(invalid("concurrency", format!("{c} is not in 1..=4096")));
        }
        settings.concurrency = c;
    }
    if let Some(d) = &req.request_timeout {
        settings.request_timeout = duration_in(
            "request_timeout",
            d,
            Duration::from_millis(10),
            Duration::from_secs(60),
        )?;
    }
    if let Some(n) = req.find_node_distances {
        if n == 0 || n > 256 {
            return Err(invalid(
                "find_node_distances",
                format!("{n} is not in 1..=256"),
            ));
        }
        settings.find_node_distances = n;
    }
    if let Some(n) = req.random_lookups {
        if n > 1024 {
            return Err(invalid("random_lookups", format!("{n} is above 1024")));
        }
        settings.random_lookups = n;
    }
    if let Some(d) = &req.recrawl_interval {
        settings.recrawl_interval =
            duration_in("recrawl_interval", d, Duration::from_secs(1), MAX_INTERVAL)?;
    }
    if let Some(limits) = &req.limits {
        if limits.max_peers > crate::model::MAX_MAX_PEERS {
            return Err(invalid(
                "limits.max_peers",
                format!(
                    "{} is above {}",
                    limits.max_peers,
                    crate::model::MAX_MAX_PEERS
                ),
            ));
        }
        if limits.max_peers > 0 {
            settings.max_peers = Some(limits.max_peers);
        }
        if let Some(n) = limits.max_new_per_responder {
            if n == 0 || n > 1_000_000 {
                return Err(invalid(
                    "limits.max_new_per_responder",
                    format!("{n} is not in 1..=1000000"),
                ));
            }
            settings.max_new_per_responder = n;
        }
        if let Some(d) = &limits.max_duration {
            let d = duration_in("limits.max_duration", d, Duration::ZERO, MAX_CRAWL_DURATION)?;
            settings.max_duration = (!d.is_zero()).then_some(d);
        }
    }
    if req.name.len() > MAX_NAME {
        return Err(invalid(
            "name",
            format!("{} bytes, at most {MAX_NAME}", req.name.len()),
        ));
    }
    if req.labels.len() > MAX_LABELS {
        return Err(invalid(
            "labels",
            format!("{} entries, at most {MAX_LABELS}", req.labels.len()),
        ));
    }
    for (k, v) in &req.labels {
        if k.is_empty() || k.len() > MAX_NAME || v.len() > MAX_NAME {
            return Err(invalid(
                format!("labels[{}]", shown(k)),
                format!("keys must be 1..={MAX_NAME} bytes and values at most {MAX_NAME}"),
            ));
        }
    }
    if let Some(dial) = req.dial {
        settings.dial.enabled = dial;
    }
    if let Some(c) = req.dial_concurrency {
        if c == 0 || c > 1024 {
            return Err(invalid(
                "dial_concurrency",
                format!("{c} is not in 1..=1024"),
            ));
        }
        settings.dial.concurrency = c;
    }
    if let Some(c) = req.dials_per_ip {
        if c == 0 || c > 1024 {
            return Err(invalid("dials_per_ip", format!("{c} is not in 1..=1024")));
        }
        settings.dial.per_ip = c;
    }
    if let Some(d) = &req.dial_timeout {
        settings.dial.timeout = duration_in(
            "dial_timeout",
            d,
            Duration::from_millis(100),
            Duration::from_secs(60),
        )?;
    }
    if let Some(d) = &req.min_redial_interval {
        settings.dial.min_redial = Some(duration_in(
            "min_redial_interval",
            d,
            Duration::from_secs(1),
            MAX_INTERVAL,
        )?);
    }
    settings.allowed_cidrs = allowed_cidrs(&req.allowed_cidrs)?;
    let waku = match &profile {
        Profile::Waku {
            cluster_id, shards, ..
        } => Some((*cluster_id, shards.clone())),
        _ => None,
    };
    settings.relay.enabled = match (req.relay, &waku) {
        (Some(true), None) => {
            return Err(invalid("relay", "the relay monitor needs the waku profile"));
        }
        (Some(true), Some(_)) if !settings.dial.enabled => {
            return Err(invalid(
                "relay",
                "the relay monitor needs dial (relay peers are vetted by dialing them)",
            ));
        }
        (Some(r), _) => r,
        (None, Some(_)) => mode == CrawlMode::Continuous && settings.dial.enabled,
        (None, None) => false,
    };
    settings.relay.peers = match req.relay_peers {
        Some(n) if n == 0 || n > 64 => {
            return Err(invalid("relay_peers", format!("{n} is not in 1..=64")));
        }
        Some(n) => n,
        None => crate::model::DEFAULT_RELAY_PEERS,
    };
    if req.pubsub_topics.len() > MAX_TOPICS {
        return Err(invalid(
            "pubsub_topics",
            format!("{} topics, at most {MAX_TOPICS}", req.pubsub_topics.len()),
        ));
    }
    for (i, t) in req.pubsub_topics.iter().enumerate() {
        if t.is_empty() || t.len() > MAX_TOPIC_LEN || t.contains('\0') {
            return Err(invalid(
                format!("pubsub_topics[{i}]"),
                format!("must be 1..={MAX_TOPIC_LEN} bytes without NUL"),
            ));
        }
    }
    settings.relay.topics = if !req.pubsub_topics.is_empty() {
        req.pubsub_topics.clone()
    } else if let Some((cluster, shards)) = &waku {
        let shards: Vec<u16> = if shards.is_empty() {
            (0..8).collect()
        } else {
            shards.clone()
        };
        shards
            .iter()
            .map(|s| crate::protocol::waku::relay::pubsub_topic(*cluster, *s))
            .collect()
    } else {
        Vec::new()
    };
    if let Some(px) = &req.peer_exchange {
        settings.peer_exchange = peer_exchange(px, settings.dial.enabled)?;
    }
    let listen_addr = if req.listen_addr.is_empty() {
        None
    } else {
        Some(req.listen_addr.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "listen_addr",
                format!("{} is not an ip:port address", shown(&req.listen_addr)),
            )
        })?)
    };
    if let Some(seed) = &settings.peer_exchange.seed {
        let listen_ip = seed.listen_addr.or(listen_addr).map(|a| a.ip());
        if seed.advertise_ip.is_none() && listen_ip.is_some_and(|ip| ip.is_unspecified()) {
            return Err(invalid(
                "peer_exchange.seed.advertise_ip",
                "required when seed mode listens on an unspecified address (0.0.0.0 or ::)",
            ));
        }
    }
    Ok(CrawlSpec {
        dns_tree_urls: req.dns_tree_urls,
        dns_from: None,
        name: req.name,
        labels: req.labels.into_iter().collect::<BTreeMap<_, _>>(),
        profile,
        bootstrap_enrs,
        mode,
        settings,
        listen_addr,
    })
}

/// Validates `StartCrawlRequest.peer_exchange`.
fn peer_exchange(
    px: &pb::PeerExchangeOptions,
    dial: bool,
) -> Result<crate::model::PeerExchangeSettings, RequestError> {
    let mut out = crate::model::PeerExchangeSettings::default();
    if let Some(c) = px.client {
        if c && !dial {
            return Err(invalid(
                "peer_exchange.client",
                "peer exchange needs dial (peers are asked over libp2p)",
            ));
        }
        out.client = c;
    }
    if let Some(d) = &px.interval {
        out.interval = duration_in(
            "peer_exchange.interval",
            d,
            Duration::from_secs(1),
            MAX_INTERVAL,
        )?;
    }
    if let Some(seed) = &px.seed {
        if !dial {
            return Err(invalid(
                "peer_exchange.seed",
                "seed mode needs dial (peers are vetted by dialing them)",
            ));
        }
        let listen_addr = if seed.listen_addr.is_empty() {
            None
        } else {
            Some(seed.listen_addr.parse::<SocketAddr>().map_err(|_| {
                invalid(
                    "peer_exchange.seed.listen_addr",
                    format!("{} is not an ip:port address", shown(&seed.listen_addr)),
                )
            })?)
        };
        let advertise_ip = if seed.advertise_ip.is_empty() {
            None
        } else {
            let ip = seed.advertise_ip.parse::<std::net::IpAddr>().map_err(|_| {
                invalid(
                    "peer_exchange.seed.advertise_ip",
                    format!("{} is not an IP address", shown(&seed.advertise_ip)),
                )
            })?;
            if ip.is_unspecified() {
                return Err(invalid(
                    "peer_exchange.seed.advertise_ip",
                    "must not be unspecified",
                ));
            }
            Some(ip)
        };
        let requester_interval = match &seed.requester_interval {
            Some(d) => duration_in(
                "peer_exchange.seed.requester_interval",
                d,
                Duration::from_secs(1),
                Duration::from_secs(24 * 3600),
            )?,
            None => crate::model::DEFAULT_SEED_REQUESTER_INTERVAL,
        };
        let requests_per_ip = match seed.requests_per_ip {
            Some(n) if n == 0 || n > 100_000 => {
                return Err(invalid(
                    "peer_exchange.seed.requests_per_ip",
                    format!("{n} is not in 1..=100000"),
                ));
            }
            Some(n) => n,
            None => crate::model::DEFAULT_SEED_REQUESTS_PER_IP,
        };
        out.seed = Some(crate::model::SeedSettings {
            listen_addr,
            advertise_ip,
            requester_interval,
            requests_per_ip,
        });
    }
    Ok(out)
}

/// Validates the filters of `GetMessageCounts`.
pub fn count_filters(req: &pb::GetMessageCountsRequest) -> Result<(), RequestError> {
    filter_text("pubsub_topic", &req.pubsub_topic, MAX_TOPIC_LEN)?;
    filter_text(
        "content_topic_prefix",
        &req.content_topic_prefix,
        MAX_FILTER_LEN,
    )?;
    Ok(())
}

/// Validates the time window of `GetMessageCounts`: minutes since the epoch, `from..to`.
pub fn count_window(req: &pb::GetMessageCountsRequest) -> Result<(u64, u64), RequestError> {
    let until = match &req.until {
        Some(t) => from_pb_time("until", t)?,
        None => now_millis(),
    };
    let since = match &req.since {
        Some(t) => from_pb_time("since", t)?,
        None => until.saturating_sub(5 * 60_000),
    };
    if since >= until {
        return Err(invalid("since", "must be before until"));
    }
    Ok((since / 60_000, until.div_ceil(60_000)))
}

/// Converts a crawl-state filter (UNSPECIFIED = all).
pub fn state_filter(value: i32) -> Result<Option<CrawlState>, RequestError> {
    Ok(match pb::CrawlState::try_from(value) {
        Ok(pb::CrawlState::Unspecified) => None,
        Ok(pb::CrawlState::Running) => Some(CrawlState::Running),
        Ok(pb::CrawlState::Finished) => Some(CrawlState::Finished),
        Ok(pb::CrawlState::Stopped) => Some(CrawlState::Stopped),
        Ok(pb::CrawlState::Failed) => Some(CrawlState::Failed),
        Ok(pb::CrawlState::Interrupted) => Some(CrawlState::Interrupted),
        Err(_) => return Err(invalid("state", format!("unknown crawl state {value}"))),
    })
}

/// Parses a `ListCrawls` page token: the id of the last crawl of the previous page.
pub fn crawl_page_token(text: &str) -> Result<Option<CrawlId>, RequestError> {
    optional_crawl_id("page_token", text)
        .map_err(|_| invalid("page_token", "not a token returned by ListCrawls"))
}

/// Page size: `default` for 0, at most `max`.
pub fn page_size(value: u32, default: usize, max: usize) -> usize {
    match value as usize {
        0 => default,
        n => n.min(max),
    }
}

/// Validates `ListPeersRequest` filters and page token.
pub fn peer_query(
    req: &pb::ListPeersRequest,
) -> Result<(PeerFilter, Option<NodeId>), RequestError> {
    let capability = if req.capability.is_empty() {
        None
    } else {
        Some(capability_bit(&req.capability).ok_or_else(|| {
            invalid(
                "capability",
                format!(
                    "{} is not one of relay, store, filter, lightpush, sync, mix",
                    shown(&req.capability)
                ),
            )
        })?)
    };
    let cluster_id = req
        .cluster_id
        .map(|c| u16::try_from(c).map_err(|_| invalid("cluster_id", format!("{c} is above 65535"))))
        .transpose()?;
    let shard = req
        .shard
        .map(|s| {
            if s > 1023 {
                Err(invalid("shard", format!("{s} is above 1023")))
            } else {
                Ok(s as u16)
            }
        })
        .transpose()?;
    let seen_since = req
        .seen_since
        .as_ref()
        .map(|t| from_pb_time("seen_since", t))
        .transpose()?;
    let after = if req.page_token.is_empty() {
        None
    } else {
        Some(
            parse_node_id(&req.page_token)
                .ok_or_else(|| invalid("page_token", "not a token returned by ListPeers"))?,
        )
    };
    Ok((
        PeerFilter {
            capability,
            cluster_id,
            shard,
            crawl_id: optional_crawl_id("crawl_id", &req.crawl_id)?,
            seen_since,
            protocol: filter_text("protocol", &req.protocol, MAX_FILTER_LEN)?,
            agent_prefix: filter_text("agent", &req.agent, MAX_FILTER_LEN)?,
            reachable: req.reachable,
            country: filter_text("country", &req.country, MAX_FILTER_LEN)?,
            chain_id: filter_text("chain_id", &req.chain_id, MAX_FILTER_LEN)?,
        },
        after,
    ))
}

/// Validates `GetPeerRequest`: the node id or the peer id.
pub enum PeerKey {
    Node(NodeId),
    Peer(String),
}

pub fn peer_key(req: pb::GetPeerRequest) -> Result<PeerKey, RequestError> {
    use pb::get_peer_request::Key;
    match req.key {
        Some(Key::NodeId(t)) if t.is_empty() => Err(invalid("node_id", "must not be empty")),
        Some(Key::NodeId(t)) => Ok(PeerKey::Node(node_id("node_id", &t)?)),
        Some(Key::PeerId(t)) if t.is_empty() => Err(invalid("peer_id", "must not be empty")),
        Some(Key::PeerId(t)) => Ok(PeerKey::Peer(peer_id("peer_id", &t)?)),
        None => Err(invalid("key", "set node_id or peer_id")),
    }
}

/// Validates `StreamPeerEventsRequest` filters.
pub fn event_filter(req: &pb::StreamPeerEventsRequest) -> Result<EventFilter, RequestError> {
    if req.kinds.len() > MAX_KINDS {
        return Err(invalid(
            "kinds",
            format!("{} entries, at most {MAX_KINDS}", req.kinds.len()),
        ));
    }
    let mut kinds = Vec::new();
    for (i, k) in req.kinds.iter().enumerate() {
        let kind = pb::PeerEventKind::try_from(*k)
            .ok()
            .and_then(|k| PeerEventKind::ALL.into_iter().find(|d| pb_kind(*d) == k));
        kinds.push(kind.ok_or_else(|| {
            invalid(
                format!("kinds[{i}]"),
                format!("{k} is not a peer event kind"),
            )
        })?);
    }
    let node = if req.node_id.is_empty() {
        None
    } else {
        Some(node_id("node_id", &req.node_id)?)
    };
    Ok(EventFilter {
        crawl_id: optional_crawl_id("crawl_id", &req.crawl_id)?,
        kinds,
        node_id: node,
        peer_id: if req.peer_id.is_empty() {
            None
        } else {
            Some(peer_id("peer_id", &req.peer_id)?)
        },
    })
}

/// The wire value of an event kind.
pub fn pb_kind(k: PeerEventKind) -> pb::PeerEventKind {
    match k {
        PeerEventKind::Discovered => pb::PeerEventKind::Discovered,
        PeerEventKind::EnrUpdated => pb::PeerEventKind::EnrUpdated,
        PeerEventKind::Connected => pb::PeerEventKind::Connected,
        PeerEventKind::Identified => pb::PeerEventKind::Identified,
        PeerEventKind::Metadata => pb::PeerEventKind::Metadata,
        PeerEventKind::DialFailed => pb::PeerEventKind::DialFailed,
        PeerEventKind::Disconnected => pb::PeerEventKind::Disconnected,
        PeerEventKind::Banned => pb::PeerEventKind::Banned,
        PeerEventKind::Unbanned => pb::PeerEventKind::Unbanned,
        PeerEventKind::PeerUp => pb::PeerEventKind::PeerUp,
        PeerEventKind::PeerDown => pb::PeerEventKind::PeerDown,
        PeerEventKind::PeerExchange => pb::PeerEventKind::PeerExchange,
        PeerEventKind::PeerExchangeServed => pb::PeerEventKind::PeerExchangeServed,
        PeerEventKind::Resumed => pb::PeerEventKind::Resumed,
    }
}

fn pb_profile(p: &Profile) -> pb::NetworkProfile {
    use pb::network_profile::Profile as P;
    let profile = match p {
        Profile::Waku {
            cluster_id,
            shards,
            protocol_id,
        } => P::Waku(pb::WakuProfile {
            cluster_id: u32::from(*cluster_id),
            shards: shards.iter().map(|s| u32::from(*s)).collect(),
            preset: String::new(),
            protocol_id: String::from_utf8_lossy(protocol_id).into_owned(),
        }),
        Profile::Ethereum => P::Ethereum(pb::EthereumProfile {}),
        Profile::Custom { protocol_id } => P::Custom(pb::CustomProfile {
            protocol_id: String::from_utf8_lossy(protocol_id).into_owned(),
        }),
        Profile::CometBft(c) => P::Cometbft(pb_cometbft(c)),
    };
    pb::NetworkProfile {
        profile: Some(profile),
    }
}

fn pb_state(s: CrawlState) -> pb::CrawlState {
    match s {
        CrawlState::Running => pb::CrawlState::Running,
        CrawlState::Finished => pb::CrawlState::Finished,
        CrawlState::Stopped => pb::CrawlState::Stopped,
        CrawlState::Failed => pb::CrawlState::Failed,
        CrawlState::Interrupted => pb::CrawlState::Interrupted,
    }
}

fn pb_limits(s: &CrawlSettings) -> pb::CrawlLimits {
    pb::CrawlLimits {
        max_peers: s.max_peers(),
        max_duration: s.max_duration.map(to_pb_duration),
        max_new_per_responder: Some(s.max_new_per_responder),
    }
}

fn pb_progress(p: &CrawlProgress, elapsed: Duration) -> pb::CrawlProgress {
    pb::CrawlProgress {
        discovered: p.discovered,
        queried: p.queried,
        queued: p.queued,
        in_flight: p.in_flight,
        find_node_requests: p.find_node_requests,
        find_node_failures: p.find_node_failures,
        unresponsive: p.unresponsive,
        lookups: p.lookups,
        enr_updates: p.enr_updates,
        rounds: p.rounds,
        elapsed: Some(to_pb_duration(elapsed)),
        dials: p.dials,
        dialing: p.dialing,
        connected: p.connected,
        failed_by_class: p.failed_by_class.clone().into_iter().collect(),
        identified: p.identified,
        dial_queued: p.dial_queued,
        relay_peers: p.relay_peers,
        relay_mesh_peers: p.relay_mesh_peers,
        messages: p.messages,
        px_requests: p.px_requests,
        px_failures: p.px_failures,
        px_enrs: p.px_enrs,
        px_served: p.px_served,
        px_refused: p.px_refused,
        invalid_addrs: p.invalid_addrs,
        banned: p.banned,
        px_refused_unlogged: p.px_refused_unlogged,
        px_connections_refused: p.px_connections_refused,
        dropped_over_cap: p.dropped_over_cap,
        dropped_over_budget: p.dropped_over_budget,
        out_of_scope: p.out_of_scope,
        find_node_timeouts: p.find_node_timeouts,
        request_timeout: p
            .request_timeout_ms
            .map(|ms| to_pb_duration(Duration::from_millis(ms))),
        walk_tail: p
            .walk_tail_ms
            .map(|ms| to_pb_duration(Duration::from_millis(ms))),
        lookup_only: p.lookup_only,
        estimated_remaining: p
            .estimated_remaining_ms
            .map(|ms| to_pb_duration(Duration::from_millis(ms))),
    }
}

impl From<&Crawl> for pb::Crawl {
    fn from(c: &Crawl) -> pb::Crawl {
        let s = &c.spec.settings;
        pb::Crawl {
            id: c.id.to_string(),
            name: c.spec.name.clone(),
            labels: c.spec.labels.clone().into_iter().collect(),
            state: pb_state(c.state) as i32,
            mode: match c.spec.mode {
                CrawlMode::Oneshot => pb::CrawlMode::Oneshot,
                CrawlMode::Continuous => pb::CrawlMode::Continuous,
            } as i32,
            profile: Some(pb_profile(&c.spec.profile)),
            bootstrap_enrs: c.spec.bootstrap_enrs.clone(),
            dns_tree_urls: c.spec.dns_tree_urls.clone(),
            created_at: Some(to_pb_time(c.created_at)),
            finished_at: c.finished_at.map(to_pb_time),
            progress: Some(pb_progress(&c.progress, c.elapsed())),
            error: c.error.clone().unwrap_or_default(),
            listen_addr: c.listen_addr.clone().unwrap_or_default(),
            seed_addr: c.seed_addr.clone().unwrap_or_default(),
            local_enr: c.local_enr.clone().unwrap_or_default(),
            settings: Some(pb::CrawlSettings {
                concurrency: s.concurrency,
                request_timeout: Some(to_pb_duration(s.request_timeout)),
                find_node_distances: s.find_node_distances,
                random_lookups: s.random_lookups,
                recrawl_interval: Some(to_pb_duration(s.recrawl_interval)),
                limits: Some(pb_limits(s)),
                dial: s.dial.enabled,
                dial_concurrency: s.dial.concurrency,
                dial_timeout: Some(to_pb_duration(s.dial.timeout)),
                dials_per_ip: s.dial.per_ip,
                min_redial_interval: Some(to_pb_duration(
                    s.dial.min_redial.unwrap_or(s.recrawl_interval),
                )),
                relay: s.relay.enabled,
                relay_peers: s.relay.peers,
                pubsub_topics: s.relay.topics.clone(),
                px_client: s.peer_exchange.client,
                px_interval: Some(to_pb_duration(s.peer_exchange.interval)),
                seed: s.peer_exchange.seed.is_some(),
                seed_requester_interval: s
                    .peer_exchange
                    .seed
                    .as_ref()
                    .map(|x| to_pb_duration(x.requester_interval)),
                seed_requests_per_ip: s
                    .peer_exchange
                    .seed
                    .as_ref()
                    .map_or(0, |x| x.requests_per_ip),
                allowed_cidrs: s.allowed_cidrs.iter().map(|n| n.to_string()).collect(),
                address_scope: c.spec.address_scope().describe(),
            }),
        }
    }
}

impl From<&PeerRecord> for pb::Peer {
    fn from(p: &PeerRecord) -> pb::Peer {
        let e = &p.enr;
        let d = &p.dial;
        let id = d.identify.as_ref();
        let mut multiaddrs = Vec::new();
        if let (Some(ip), Some(tcp)) = (e.ip4, e.tcp4) {
            multiaddrs.push(format!("/ip4/{ip}/tcp/{tcp}"));
        }
        if let (Some(ip), Some(tcp)) = (e.ip6, e.tcp6) {
            multiaddrs.push(format!("/ip6/{ip}/tcp/{tcp}"));
        }
        multiaddrs.extend(e.multiaddrs.iter().cloned());
        let shards = e.shards.as_ref().map(|s| pb::ShardInfo {
            cluster_id: u32::from(s.cluster),
            shards: s.shards.iter().map(|x| u32::from(*x)).collect(),
            encoding: match s.encoding {
                ShardEncoding::Rs => pb::ShardEncoding::Rs,
                ShardEncoding::Rsv => pb::ShardEncoding::Rsv,
            } as i32,
            raw: s.raw.clone(),
        });
        pb::Peer {
            node_id: node_id_hex(&e.node_id),
            peer_id: e.peer_id.clone().unwrap_or_default(),
            enr: e.text.clone(),
            enr_fields: Some(pb::EnrFields {
                seq: e.seq,
                ip4: e.ip4.map(|i| i.to_string()).unwrap_or_default(),
                tcp4: e.tcp4.map(u32::from).unwrap_or(0),
                udp4: e.udp4.map(u32::from).unwrap_or(0),
                ip6: e.ip6.map(|i| i.to_string()).unwrap_or_default(),
                tcp6: e.tcp6.map(u32::from).unwrap_or(0),
                udp6: e.udp6.map(u32::from).unwrap_or(0),
                waku2: e.waku2.map(|w| u32::from(w.0)),
                multiaddrs: e.multiaddrs.clone(),
                shards: shards.clone(),
                eth2: e.eth2.as_ref().map(|x| pb::Eth2Info {
                    fork_digest: hex::encode(x.fork_digest),
                    next_fork_version: hex::encode(x.next_fork_version),
                    next_fork_epoch: x.next_fork_epoch,
                }),
                attnets: e.attnet_ids().into_iter().map(u32::from).collect(),
                syncnets: e.syncnet_ids().into_iter().map(u32::from).collect(),
                issues: e.issues.clone(),
            }),
            multiaddrs,
            capabilities: e
                .waku2
                .map(|w| w.names().iter().map(|n| n.to_string()).collect())
                .unwrap_or_default(),
            cluster_id: shards.as_ref().map(|s| s.cluster_id),
            shards: shards.map(|s| s.shards).unwrap_or_default(),
            first_seen: Some(to_pb_time(p.first_seen)),
            last_seen: Some(to_pb_time(p.last_seen)),
            crawl_ids: p.crawls.iter().map(|c| c.to_string()).collect(),
            enr_versions: p.enr_versions,
            agent_version: id.map(|i| i.agent_version.clone()).unwrap_or_default(),
            protocol_version: id.map(|i| i.protocol_version.clone()).unwrap_or_default(),
            protocols: id.map(|i| i.protocols.clone()).unwrap_or_default(),
            listen_addrs: id.map(|i| i.listen_addrs.clone()).unwrap_or_default(),
            observed_addr: id.map(|i| i.observed_addr.clone()).unwrap_or_default(),
            metadata_cluster_id: d.metadata.as_ref().and_then(|m| m.cluster_id),
            metadata_shards: d
                .metadata
                .as_ref()
                .map(|m| m.shards.clone())
                .unwrap_or_default(),
            metadata_error: d.metadata_error.clone().unwrap_or_default(),
            rtt_last: d
                .rtt_last_us
                .map(|us| to_pb_duration(Duration::from_micros(us))),
            rtt_avg: d
                .rtt_avg_us
                .map(|us| to_pb_duration(Duration::from_micros(us))),
            dial_attempts: d.attempts,
            last_dial: d.last_dial.map(to_pb_time),
            last_connected: d.last_connected.map(to_pb_time),
            last_error_class: d
                .last_error_class
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            last_error: d.last_error.clone().unwrap_or_default(),
            reachable: d.reachable,
            state: d.state.as_str().to_string(),
            up_since: d.up_since.map(to_pb_time),
            down_since: d.down_since.map(to_pb_time),
            sessions: d.sessions,
            uptime: Some(to_pb_duration(Duration::from_millis(
                d.uptime_ms
                    + d.up_since
                        .map(|u| now_millis().saturating_sub(u))
                        .unwrap_or(0),
            ))),
            sources: p
                .sources
                .iter()
                .map(|s| pb::PeerSource {
                    kind: s.kind.as_str().to_string(),
                    via_peer_id: s.via.clone().unwrap_or_default(),
                    first_seen: Some(to_pb_time(s.first_seen)),
                })
                .collect(),
            cometbft: p.dial.node_info.as_ref().map(|i| pb::CometBftNodeInfo {
                p2p_version: i.p2p_version,
                block_version: i.block_version,
                app_version: i.app_version,
                node_id: i.node_id.clone(),
                listen_addr: i.listen_addr.clone(),
                network: i.network.clone(),
                version: i.version.clone(),
                channels: i.channels.iter().map(|c| u32::from(*c)).collect(),
                moniker: i.moniker.clone(),
                tx_index: i.tx_index.clone(),
                rpc_address: i.rpc_address.clone(),
            }),
            geo: p.geo.as_ref().map(|g| pb::GeoInfo {
                ip: g.ip.clone(),
                country: g.country.clone(),
                country_code: g.country_code.clone(),
                city: g.city.clone(),
                asn: g.asn.clone(),
                isp: g.isp.clone(),
                org: g.org.clone(),
                private: g.private,
                looked_up_at: (g.looked_up_at > 0).then(|| to_pb_time(g.looked_up_at)),
                error: g.error.clone().unwrap_or_default(),
            }),
        }
    }
}

impl From<&PeerEvent> for pb::PeerEvent {
    fn from(ev: &PeerEvent) -> pb::PeerEvent {
        let e = &ev.event;
        pb::PeerEvent {
            sequence: ev.sequence,
            time: Some(to_pb_time(e.time)),
            kind: pb_kind(e.kind) as i32,
            crawl_id: e.crawl_id.to_string(),
            node_id: node_id_hex(&e.node_id),
            peer_id: e.peer_id.clone().unwrap_or_default(),
            enr_seq: e.enr_seq,
            enr: e.enr.clone().unwrap_or_default(),
            error_class: e
                .error_class
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            detail: e.detail.clone().unwrap_or_default(),
        }
    }
}

impl From<&NetworkStats> for pb::GetNetworkStatsResponse {
    fn from(s: &NetworkStats) -> pb::GetNetworkStatsResponse {
        pb::GetNetworkStatsResponse {
            peers: s.peers,
            by_capability: s.by_capability.clone().into_iter().collect(),
            by_cluster: s
                .by_cluster
                .iter()
                .map(|(k, v)| (u32::from(*k), *v))
                .collect(),
            by_shard: s
                .by_shard
                .iter()
                .map(|((c, sh), n)| pb::ShardCount {
                    cluster_id: u32::from(*c),
                    shard: u32::from(*sh),
                    peers: *n,
                })
                .collect(),
            by_record_kind: s.by_record_kind.clone().into_iter().collect(),
            by_fork_digest: s.by_fork_digest.clone().into_iter().collect(),
            without_capabilities: s.without_capabilities,
            by_protocol: s.by_protocol.clone().into_iter().collect(),
            by_agent: s.by_agent.clone().into_iter().collect(),
            by_error_class: s.by_error_class.clone().into_iter().collect(),
            by_metadata_shard: s
                .by_metadata_shard
                .iter()
                .map(|((c, sh), n)| pb::ShardCount {
                    cluster_id: *c,
                    shard: *sh,
                    peers: *n,
                })
                .collect(),
            reachable: s.reachable,
            unreachable: s.unreachable,
            not_dialed: s.not_dialed,
            by_pubsub_topic: Vec::new(),
            by_source: s.by_source.clone().into_iter().collect(),
            by_country: s.by_country.clone().into_iter().collect(),
            by_chain_id: s.by_chain_id.clone().into_iter().collect(),
            by_software_version: s.by_software_version.clone().into_iter().collect(),
            by_p2p_version: s.by_p2p_version.clone().into_iter().collect(),
            by_block_version: s.by_block_version.clone().into_iter().collect(),
            reachable_by_chain_id: s.reachable_by_chain_id.clone().into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waku(cluster_id: u32, preset: &str) -> pb::StartCrawlRequest {
        pb::StartCrawlRequest {
            profile: Some(pb::NetworkProfile {
                profile: Some(pb::network_profile::Profile::Waku(pb::WakuProfile {
                    cluster_id,
                    shards: vec![],
                    preset: preset.into(),
                    ..Default::default()
                })),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn presets_expand_to_their_tree_url_and_cluster() {
        let spec = crawl_spec(waku(0, "status")).unwrap();
        assert_eq!(
            spec.profile,
            Profile::Waku {
                cluster_id: 16,
                shards: vec![],
                protocol_id: *b"d5waku",
            }
        );
        assert_eq!(
            spec.dns_tree_urls,
            vec!["enrtree://AMOJVZX4V6EXP7NTJPMAYJYST2QP6AJXYW76IU6VGJS7UVSNDYZG4@boot.prod.status.nodes.status.im"]
        );
        let spec = crawl_spec(waku(0, "sandbox")).unwrap();
        assert!(matches!(spec.profile, Profile::Waku { cluster_id: 1, .. }));
        assert!(spec.dns_tree_urls[0].ends_with("@sandbox.waku.nodes.status.im"));
        let spec = crawl_spec(waku(0, "test")).unwrap();
        assert!(spec.dns_tree_urls[0].ends_with("@test.waku.nodes.status.im"));
        // An explicit cluster wins.
        let spec = crawl_spec(waku(5, "sandbox")).unwrap();
        assert!(matches!(spec.profile, Profile::Waku { cluster_id: 5, .. }));
        let err = crawl_spec(waku(0, "nope")).unwrap_err();
        assert!(format!("{err:?}").contains("profile.waku.preset"));
    }

    /// Found by the `grpc_requests` fuzz target: a `ListPeersRequest` whose `seen_since` is
    /// 6 989 584 972 411 568 127 s wrapped around u64 milliseconds and filtered on a time
    /// nobody asked for.
    #[test]
    fn time_after_year_9999_is_refused_not_wrapped() {
        use prost::Message;
        let input = [
            0x70, 0x5d, 0x3a, 0x0a, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xcf, 0xff, 0xff, 0x60,
        ];
        let req = pb::ListPeersRequest::decode(&input[..]).unwrap();
        assert_eq!(
            req.seen_since.as_ref().map(|t| t.seconds),
            Some(6_989_584_972_411_568_127)
        );
        let err = peer_query(&req).expect_err("refused");
        assert!(format!("{err:?}").contains("seen_since"), "{err:?}");

        let at = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
        let mut req = pb::ListPeersRequest {
            seen_since: Some(at(MAX_TIMESTAMP_SECS)),
            ..Default::default()
        };
        let (filter, _) = peer_query(&req).unwrap();
        assert_eq!(filter.seen_since, Some(MAX_TIMESTAMP_SECS as u64 * 1000));
        req.seen_since = Some(at(MAX_TIMESTAMP_SECS + 1));
        assert!(peer_query(&req).is_err());
        let counts = pb::GetMessageCountsRequest {
            since: Some(at(0)),
            until: Some(at(i64::MAX)),
            ..Default::default()
        };
        let err = count_window(&counts).expect_err("until refused");
        assert!(format!("{err:?}").contains("until"), "{err:?}");
    }

    /// A `limits.max_duration` of i64::MAX seconds used to be accepted, and the crawl's
    /// deadline `Instant::now() + max_duration` then panicked. The `grpc_requests` fuzz
    /// target checks that every accepted duration can be added to now.
    #[test]
    fn max_duration_is_bounded_so_the_deadline_cannot_overflow() {
        let mut req = waku(0, "sandbox");
        let limit = |seconds| pb::CrawlLimits {
            max_peers: 0,
            max_duration: Some(prost_types::Duration { seconds, nanos: 0 }),
            ..Default::default()
        };
        req.limits = Some(limit(i64::MAX));
        let err = crawl_spec(req.clone()).expect_err("refused");
        assert!(
            format!("{err:?}").contains("limits.max_duration"),
            "{err:?}"
        );
        let max = MAX_CRAWL_DURATION.as_secs() as i64;
        req.limits = Some(limit(max));
        let spec = crawl_spec(req.clone()).unwrap();
        let d = spec.settings.max_duration.expect("a limit");
        assert!(std::time::Instant::now().checked_add(d).is_some());
        req.limits = Some(limit(max + 1));
        assert!(crawl_spec(req.clone()).is_err());
        req.limits = Some(limit(0));
        assert_eq!(crawl_spec(req).unwrap().settings.max_duration, None);
    }

    #[test]
    fn fuzz_corpus_grpc_requests_replays() {
        use prost::Message;
        let seed = |name: &str| crate::fuzz_corpus::seed("grpc_requests", name);
        // Every seed goes through every conversion without a panic, as in the fuzz target.
        for (_, bytes) in crate::fuzz_corpus::seeds("grpc_requests") {
            if let Ok(req) = pb::StartCrawlRequest::decode(bytes.as_slice()) {
                let _ = crawl_spec(req);
            }
            if let Ok(req) = pb::ListPeersRequest::decode(bytes.as_slice()) {
                let _ = peer_query(&req);
            }
            if let Ok(req) = pb::StreamPeerEventsRequest::decode(bytes.as_slice()) {
                let _ = event_filter(&req);
            }
            if let Ok(req) = pb::GetMessageCountsRequest::decode(bytes.as_slice()) {
                let _ = count_window(&req);
            }
            if let Ok(req) = pb::GetPeerRequest::decode(bytes.as_slice()) {
                let _ = peer_key(req);
            }
        }
        let decode = |name: &str| pb::StartCrawlRequest::decode(seed(name).as_slice()).unwrap();
        let spec = crawl_spec(decode("valid-start-crawl-waku.bin")).unwrap();
        assert_eq!(
            spec.profile,
            Profile::Waku {
                cluster_id: 1,
                shards: vec![0, 1, 7],
                protocol_id: *b"d5waku",
            }
        );
        assert_eq!(spec.settings.max_duration, Some(Duration::from_secs(3600)));
        assert!(spec.settings.relay.enabled && spec.settings.peer_exchange.seed.is_some());
        assert_eq!(spec.bootstrap_enrs.len(), 1);
        let spec = crawl_spec(decode("valid-start-crawl-ethereum.bin")).unwrap();
        assert_eq!(spec.profile, Profile::Ethereum);
        let spec = crawl_spec(decode("valid-start-crawl-custom-dns.bin")).unwrap();
        assert_eq!(
            spec.profile,
            Profile::Custom {
                protocol_id: *b"d5waku"
            }
        );

        let req = pb::ListPeersRequest::decode(seed("valid-list-peers.bin").as_slice()).unwrap();
        let (filter, after) = peer_query(&req).unwrap();
        assert_eq!((filter.cluster_id, filter.shard), (Some(1), Some(3)));
        assert_eq!(after, Some([0; 32]));
        let req = pb::StreamPeerEventsRequest::decode(seed("valid-stream-events.bin").as_slice())
            .unwrap();
        assert_eq!(event_filter(&req).unwrap().kinds.len(), 3);
        let req = pb::GetMessageCountsRequest::decode(seed("valid-message-counts.bin").as_slice())
            .unwrap();
        let (from, to) = count_window(&req).unwrap();
        assert_eq!(to - from, 11);
        for name in ["valid-get-peer-node.bin", "valid-get-peer-peer-id.bin"] {
            let req = pb::GetPeerRequest::decode(seed(name).as_slice()).unwrap();
            assert!(peer_key(req).is_ok(), "{name}");
        }
        let req = pb::WatchCrawlRequest::decode(seed("valid-watch-crawl.bin").as_slice()).unwrap();
        assert_eq!(crawl_id("crawl_id", &req.crawl_id).unwrap(), 3);
        let req = pb::ListCrawlsRequest::decode(seed("valid-list-crawls.bin").as_slice()).unwrap();
        assert_eq!(state_filter(req.state).unwrap(), Some(CrawlState::Running));
        let req =
            pb::GetNetworkStatsRequest::decode(seed("valid-network-stats.bin").as_slice()).unwrap();
        assert_eq!(
            optional_crawl_id("crawl_id", &req.crawl_id).unwrap(),
            Some(2)
        );
    }
}
