//! The JSON endpoints under `/api/v1`, shared by the dashboard and scripts.
//!
//! Most are the gRPC API over HTTP: the query string becomes the RPC's request, the RPC runs
//! through the same service code as a gRPC call, and its response is written as proto3 JSON
//! (the CLI's `--json` form: proto field names, every field present). Errors are the gRPC
//! status mapped to an HTTP status, with `{"code", "message"}` as the body. Three endpoints
//! have no RPC: the chart history, the RTT histogram and a peer's stored visits.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use prost::Message;
use serde::Serialize;
use serde_json::{json, Value};
use tonic::Request;

use super::DashState;
use crate::model::{NodeId, PeerFilter, VisitReport};
use crate::proto::pb;
use crate::proto::server::crawler_server::Crawler;

type Params = Query<BTreeMap<String, String>>;

/// How long an RTT histogram is reused.
const RTT_TTL: Duration = Duration::from_secs(5);
/// Upper bounds (ms) of the RTT histogram's buckets; one more bucket takes the rest.
pub const RTT_BOUNDS_MS: [f64; 14] = [
    0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];
/// Stored events a feed opened with `tail` replays at most.
const MAX_TAIL: u64 = 10_000;

/// A gRPC status as an HTTP response.
pub fn status_response(s: tonic::Status) -> Response {
    use tonic::Code;
    let code = match s.code() {
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = json!({"code": format!("{:?}", s.code()), "message": s.message()});
    (code, Json(body)).into_response()
}

/// A query parameter that does not parse.
struct BadParam {
    name: String,
    reason: String,
}

impl BadParam {
    fn new(name: &str, reason: impl std::fmt::Display) -> BadParam {
        BadParam {
            name: name.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl IntoResponse for BadParam {
    fn into_response(self) -> Response {
        status_response(tonic::Status::invalid_argument(format!(
            "{}: {}",
            self.name, self.reason
        )))
    }
}

/// Proto3 JSON of an RPC's reply, or its error.
fn reply<M: Message>(result: Result<tonic::Response<M>, tonic::Status>, name: &str) -> Response {
    match result {
        Ok(r) => Json(crate::proto::to_json(r.get_ref(), name)).into_response(),
        Err(s) => status_response(s),
    }
}

fn text(q: &BTreeMap<String, String>, name: &str) -> String {
    q.get(name).cloned().unwrap_or_default()
}

fn number<T: std::str::FromStr>(
    q: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<T>, BadParam>
where
    T::Err: std::fmt::Display,
{
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|e| BadParam::new(name, e)),
    }
}

/// A comma-separated list of enum names, with or without their prefix, case-insensitive.
fn enum_list(
    q: &BTreeMap<String, String>,
    name: &str,
    prefix: &str,
    parse: fn(&str) -> Option<i32>,
) -> Result<Vec<i32>, BadParam> {
    let mut out = Vec::new();
    for item in text(q, name)
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let upper = item.to_ascii_uppercase();
        let full = if upper.starts_with(prefix) {
            upper
        } else {
            format!("{prefix}{upper}")
        };
        match parse(&full) {
            Some(v) => out.push(v),
            None => return Err(BadParam::new(name, format!("unknown value {item:?}"))),
        }
    }
    Ok(out)
}

/// `GET /api/v1/crawls` — `ListCrawls` (`page_size`, `page_token`, `state`).
pub async fn list_crawls(State(s): State<DashState>, Query(q): Params) -> Response {
    let state = match enum_list(&q, "state", "CRAWL_STATE_", |n| {
        pb::CrawlState::from_str_name(n).map(|v| v as i32)
    }) {
        Ok(v) => v.first().copied().unwrap_or(0),
        Err(r) => return r.into_response(),
    };
    let page_size = match number(&q, "page_size") {
        Ok(v) => v.unwrap_or(0),
        Err(r) => return r.into_response(),
    };
    let req = pb::ListCrawlsRequest {
        page_size,
        page_token: text(&q, "page_token"),
        state,
    };
    reply(
        s.api.list_crawls(Request::new(req)).await,
        "peerscope.v1.ListCrawlsResponse",
    )
}

/// `GET /api/v1/crawls/{id}` — `GetCrawl`.
pub async fn get_crawl(State(s): State<DashState>, Path(id): Path<String>) -> Response {
    reply(
        s.api
            .get_crawl(Request::new(pb::GetCrawlRequest { crawl_id: id }))
            .await,
        "peerscope.v1.GetCrawlResponse",
    )
}

/// `GET /api/v1/peers` — `ListPeers` (`page_size`, `page_token`, `capability`,
/// `cluster_id`, `shard`, `crawl_id`, `protocol`, `agent`, `reachable`, `country`).
pub async fn list_peers(State(s): State<DashState>, Query(q): Params) -> Response {
    let parsed = (|| {
        Ok::<_, BadParam>(pb::ListPeersRequest {
            page_size: number(&q, "page_size")?.unwrap_or(0),
            page_token: text(&q, "page_token"),
            capability: text(&q, "capability"),
            cluster_id: number(&q, "cluster_id")?,
            shard: number(&q, "shard")?,
            crawl_id: text(&q, "crawl_id"),
            protocol: text(&q, "protocol"),
            agent: text(&q, "agent"),
            reachable: number(&q, "reachable")?,
            seen_since: None,
            country: text(&q, "country"),
            chain_id: text(&q, "chain_id"),
        })
    })();
    match parsed {
        Ok(req) => reply(
            s.api.list_peers(Request::new(req)).await,
            "peerscope.v1.ListPeersResponse",
        ),
        Err(r) => r.into_response(),
    }
}

/// A node id (64 hex digits, `0x` allowed) or else a peer id.
fn peer_request(id: &str) -> pb::GetPeerRequest {
    use pb::get_peer_request::Key;
    let hex = id.strip_prefix("0x").unwrap_or(id);
    let key = if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Key::NodeId(id.to_string())
    } else {
        Key::PeerId(id.to_string())
    };
    pb::GetPeerRequest { key: Some(key) }
}

/// `GET /api/v1/peers/{id}` — `GetPeer` by node id or peer id.
pub async fn get_peer(State(s): State<DashState>, Path(id): Path<String>) -> Response {
    reply(
        s.api.get_peer(Request::new(peer_request(&id))).await,
        "peerscope.v1.GetPeerResponse",
    )
}

/// One stored visit (dial) of a peer.
#[derive(Serialize)]
struct VisitJson {
    crawl_id: String,
    /// Unix milliseconds.
    started_ms: u64,
    duration_ms: u64,
    address: Option<String>,
    reachable: bool,
    /// The failure class; `null` when the dial connected.
    error_class: Option<&'static str>,
    error: Option<String>,
    agent_version: Option<String>,
    rtt_us: Option<u64>,
}

impl From<&VisitReport> for VisitJson {
    fn from(v: &VisitReport) -> Self {
        VisitJson {
            crawl_id: v.crawl_id.to_string(),
            started_ms: v.started,
            duration_ms: v.duration_ms,
            address: v.address.clone(),
            reachable: v.reachable(),
            error_class: v.error_class.map(|c| c.as_str()),
            error: v.error.clone(),
            agent_version: v.identify.as_ref().map(|i| i.agent_version.clone()),
            rtt_us: v.rtt_us,
        }
    }
}

/// `GET /api/v1/peers/{id}/visits` — the peer's stored visits (the newest 100), newest
/// first: `{"node_id", "visits": [{crawl_id, started_ms, duration_ms, address, reachable,
/// error_class, error, agent_version, rtt_us}]}`.
pub async fn peer_visits(State(s): State<DashState>, Path(id): Path<String>) -> Response {
    // Resolve the id as GetPeer does (same validation and NOT_FOUND).
    let peer = match s.api.get_peer(Request::new(peer_request(&id))).await {
        Ok(r) => r.into_inner().peer.unwrap_or_default(),
        Err(e) => return status_response(e),
    };
    let mut node: NodeId = [0; 32];
    if hex::decode_to_slice(&peer.node_id, &mut node).is_err() {
        return status_response(tonic::Status::internal("stored node id is not hex"));
    }
    let store = s.engine.store().clone();
    match tokio::task::spawn_blocking(move || store.visits(&node)).await {
        Ok(Ok(mut visits)) => {
            visits.sort_by_key(|v| std::cmp::Reverse(v.started));
            let visits: Vec<VisitJson> = visits.iter().map(VisitJson::from).collect();
            Json(json!({"node_id": peer.node_id, "visits": visits})).into_response()
        }
        Ok(Err(e)) => status_response(e.into()),
        Err(e) => status_response(tonic::Status::internal(e.to_string())),
    }
}

/// `GET /api/v1/stats` — `GetNetworkStats` (`crawl_id`).
pub async fn stats(State(s): State<DashState>, Query(q): Params) -> Response {
    let req = pb::GetNetworkStatsRequest {
        crawl_id: text(&q, "crawl_id"),
    };
    reply(
        s.api.get_network_stats(Request::new(req)).await,
        "peerscope.v1.GetNetworkStatsResponse",
    )
}

/// `GET /api/v1/messages` — `GetMessageCounts` (`pubsub_topic`, `content_topic_prefix`,
/// `group_by` as a comma-separated list of `pubsub_topic`, `application`,
/// `content_topic`, `window_minutes`: the rate window ending now).
pub async fn messages(State(s): State<DashState>, Query(q): Params) -> Response {
    let group_by = match enum_list(&q, "group_by", "MESSAGE_DIMENSION_", |n| {
        pb::MessageDimension::from_str_name(n).map(|v| v as i32)
    }) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let since = match number::<u64>(&q, "window_minutes") {
        Ok(Some(m)) => {
            let now = crate::model::now_millis();
            Some(crate::api::convert::to_pb_time(
                now.saturating_sub(m.saturating_mul(60_000)),
            ))
        }
        Ok(None) => None,
        Err(r) => return r.into_response(),
    };
    let req = pb::GetMessageCountsRequest {
        pubsub_topic: text(&q, "pubsub_topic"),
        content_topic_prefix: text(&q, "content_topic_prefix"),
        since,
        until: None,
        group_by,
    };
    reply(
        s.api.get_message_counts(Request::new(req)).await,
        "peerscope.v1.GetMessageCountsResponse",
    )
}

/// `GET /api/v1/history` — the sampled time series:
/// `{"interval_secs", "samples": [{time, peers, reachable, unreachable, not_dialed,
/// messages, undecodable, by_pubsub_topic: {..}, by_application: {..}}]}`.
pub async fn history(State(s): State<DashState>) -> Response {
    Json(json!({
        "interval_secs": super::history::SAMPLE_INTERVAL.as_secs(),
        "samples": s.history.samples(),
    }))
    .into_response()
}

/// Cache of the last RTT histogram.
#[derive(Clone, Default)]
pub struct RttCache(Arc<Mutex<BTreeMap<String, (Instant, Value)>>>);

/// `GET /api/v1/rtt` — peers per bucket of their average ping RTT (`crawl_id` optional):
/// `{"peers", "peers_with_rtt", "buckets": [{"le_ms", "peers"}]}`; the last bucket's
/// `le_ms` is `null` (everything above). Recomputed at most every 5 s.
pub async fn rtt(State(s): State<DashState>, Query(q): Params) -> Response {
    let crawl_id = text(&q, "crawl_id");
    let crawl = match crate::api::convert::optional_crawl_id("crawl_id", &crawl_id) {
        Ok(c) => c,
        Err(e) => return status_response(e.into()),
    };
    if let Some(id) = crawl {
        if let Err(e) = s
            .api
            .get_crawl(Request::new(pb::GetCrawlRequest {
                crawl_id: id.to_string(),
            }))
            .await
        {
            return status_response(e);
        }
    }
    {
        let cache = s.rtt.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, v)) = cache.get(&crawl_id) {
            if at.elapsed() < RTT_TTL {
                return Json(v.clone()).into_response();
            }
        }
    }
    let store = s.engine.store().clone();
    let computed = tokio::task::spawn_blocking(move || {
        let filter = PeerFilter {
            crawl_id: crawl,
            ..PeerFilter::default()
        };
        let mut counts = [0u64; RTT_BOUNDS_MS.len() + 1];
        let (mut peers, mut with_rtt) = (0u64, 0u64);
        let mut after = None;
        loop {
            let (page, more) = store.list_peers(&filter, after, 1000)?;
            for p in &page {
                peers += 1;
                if let Some(us) = p.dial.rtt_avg_us {
                    with_rtt += 1;
                    let ms = us as f64 / 1000.0;
                    let i = RTT_BOUNDS_MS
                        .iter()
                        .position(|b| ms <= *b)
                        .unwrap_or(RTT_BOUNDS_MS.len());
                    counts[i] += 1;
                }
            }
            match (more, page.last()) {
                (true, Some(last)) => after = Some(last.enr.node_id),
                _ => break,
            }
        }
        let buckets: Vec<Value> = counts
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"le_ms": RTT_BOUNDS_MS.get(i), "peers": n}))
            .collect();
        Ok::<_, crate::store::StoreError>(
            json!({"peers": peers, "peers_with_rtt": with_rtt, "buckets": buckets}),
        )
    })
    .await;
    match computed {
        Ok(Ok(v)) => {
            let mut cache = s.rtt.0.lock().unwrap_or_else(|e| e.into_inner());
            // One entry per crawl asked about; bounded by dropping everything when large.
            if cache.len() >= 64 {
                cache.clear();
            }
            cache.insert(crawl_id, (Instant::now(), v.clone()));
            Json(v).into_response()
        }
        Ok(Err(e)) => status_response(e.into()),
        Err(e) => status_response(tonic::Status::internal(e.to_string())),
    }
}

/// `GET /api/v1/events/stream` — `StreamPeerEvents` as server-sent events: one `message`
/// per event, its `id` the sequence and its data the `PeerEvent` as proto3 JSON.
/// Parameters: `after` (replay stored events after this sequence, then follow), or `tail`
/// (replay the last N stored events, at most 10,000, then follow), else live events
/// only; `kinds` (comma-separated, e.g. `DISCOVERED,DIAL_FAILED`), `crawl_id`, `node_id`,
/// `peer_id`. A reconnecting `EventSource` sends `Last-Event-ID`, which resumes after that
/// sequence. An error ends the stream with an `error` event holding `{"code", "message"}`.
pub async fn event_stream(
    State(s): State<DashState>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let kinds = match enum_list(&q, "kinds", "PEER_EVENT_KIND_", |n| {
        pb::PeerEventKind::from_str_name(n).map(|v| v as i32)
    }) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let after = match (
        last_event_id,
        number::<u64>(&q, "after"),
        number::<u64>(&q, "tail"),
    ) {
        (Some(id), _, _) => Some(id),
        (None, Ok(Some(a)), _) => Some(a),
        (None, Ok(None), Ok(Some(tail))) => {
            let store = s.engine.store();
            let last = store.last_sequence();
            let first = match store.first_sequence() {
                Ok(f) => f.unwrap_or(last + 1),
                Err(e) => return status_response(e.into()),
            };
            Some(
                last.saturating_sub(tail.min(MAX_TAIL))
                    .max(first.saturating_sub(1)),
            )
        }
        (None, Ok(None), Ok(None)) => None,
        (None, Err(r), _) | (None, _, Err(r)) => return r.into_response(),
    };
    let req = pb::StreamPeerEventsRequest {
        after_sequence: after,
        crawl_id: text(&q, "crawl_id"),
        kinds,
        node_id: text(&q, "node_id"),
        peer_id: text(&q, "peer_id"),
    };
    let stream = match s.api.stream_peer_events(Request::new(req)).await {
        Ok(r) => r.into_inner(),
        Err(e) => return status_response(e),
    };
    let events = stream.map(|item| {
        let event = match item {
            Ok(encoded) => match pb::StreamPeerEventsResponse::decode(encoded.bytes().clone()) {
                Ok(r) => {
                    let ev = r.event.unwrap_or_default();
                    Event::default()
                        .id(ev.sequence.to_string())
                        .data(crate::proto::to_json(&ev, "peerscope.v1.PeerEvent").to_string())
                }
                Err(e) => Event::default()
                    .event("error")
                    .data(json!({"code": "Internal", "message": e.to_string()}).to_string()),
            },
            Err(status) => Event::default().event("error").data(
                json!({"code": format!("{:?}", status.code()), "message": status.message()})
                    .to_string(),
            ),
        };
        Ok::<_, Infallible>(event)
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
