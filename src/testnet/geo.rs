//! A local stand-in for ip-api on 127.0.0.1, for tests and demos: it speaks ip-api's
//! documented JSON and rate limiting, and answers with deterministic made-up locations.
//!
//! - `GET /json/{ip}?fields=…` answers one object; `POST /batch?fields=…` takes a JSON
//!   array of up to 100 addresses (strings or `{"query": ip}` objects) and answers an
//!   array in the same order. `fields` is honoured as a comma-separated list of names.
//! - Each endpoint has its own window (default 45 and 15 requests per 60 s, as ip-api): the
//!   window starts with its first request; every answer carries `X-Rl` (requests left) and
//!   `X-Ttl` (seconds until the window resets, rounded up); past the limit it answers 429
//!   with the same headers.
//! - Public addresses get a location derived from the address bytes (the same address
//!   always gets the same answer, see [`fake_answer`]); private and reserved ones get
//!   ip-api's `"fail"` answers ("private range", "reserved range"); anything else
//!   "invalid query".
//!
//! Every request is logged (time, endpoint, addresses, status) so tests can check what the
//! client sent and when.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Which endpoint a request went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /json/{ip}`.
    Single,
    /// `POST /batch`.
    Batch,
}

/// One request as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    pub at: Instant,
    pub endpoint: Endpoint,
    /// Addresses asked about, as sent.
    pub queries: Vec<String>,
    /// 200, 429, or 422 for a malformed batch.
    pub status: u16,
    /// When the endpoint's window (the one this request counted in) resets.
    pub window_end: Instant,
}

/// Rate limits of the stand-in.
#[derive(Clone, Copy, Debug)]
pub struct StandInConfig {
    pub single_limit: u32,
    pub batch_limit: u32,
    pub window: Duration,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            single_limit: crate::engine::geo::SINGLE_LIMIT,
            batch_limit: crate::engine::geo::BATCH_LIMIT,
            window: crate::engine::geo::WINDOW,
        }
    }
}

#[derive(Default)]
struct Window {
    start: Option<Instant>,
    used: u32,
}

struct StandInState {
    config: StandInConfig,
    single: Window,
    batch: Window,
    log: Vec<LoggedRequest>,
}

type Shared = Arc<Mutex<StandInState>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, StandInState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running stand-in.
pub struct GeoStandIn {
    addr: SocketAddr,
    state: Shared,
    cancel: CancellationToken,
}

impl GeoStandIn {
    /// Serves on `127.0.0.1:port` (0 picks a free port) until dropped.
    pub async fn start(port: u16, config: StandInConfig) -> std::io::Result<GeoStandIn> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let state: Shared = Arc::new(Mutex::new(StandInState {
            config,
            single: Window::default(),
            batch: Window::default(),
            log: Vec::new(),
        }));
        let app = Router::new()
            .route("/json/{ip}", get(single))
            .route("/json/", get(single_empty))
            .route("/batch", post(batch))
            .with_state(state.clone());
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        Ok(GeoStandIn {
            addr,
            state,
            cancel,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure as the geolocation service.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.state).log.clone()
    }

    /// Uses up the current window of `endpoint` (opening one if none is open), as another
    /// client behind the same address would: the next request gets 429.
    pub fn exhaust(&self, endpoint: Endpoint) {
        let mut s = lock(&self.state);
        let (limit, window) = match endpoint {
            Endpoint::Single => (s.config.single_limit, s.config.window),
            Endpoint::Batch => (s.config.batch_limit, s.config.window),
        };
        let w = match endpoint {
            Endpoint::Single => &mut s.single,
            Endpoint::Batch => &mut s.batch,
        };
        let now = Instant::now();
        if w.start.is_none_or(|st| now >= st + window) {
            w.start = Some(now);
        }
        w.used = limit;
    }
}

impl Drop for GeoStandIn {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Counts a request; returns (allowed, remaining, ttl seconds, window end).
fn admit(s: &mut StandInState, endpoint: Endpoint) -> (bool, u32, u64, Instant) {
    let window = s.config.window;
    let limit = match endpoint {
        Endpoint::Single => s.config.single_limit,
        Endpoint::Batch => s.config.batch_limit,
    };
    let w = match endpoint {
        Endpoint::Single => &mut s.single,
        Endpoint::Batch => &mut s.batch,
    };
    let now = Instant::now();
    if w.start.is_none_or(|st| now >= st + window) {
        w.start = Some(now);
        w.used = 0;
    }
    let end = w.start.unwrap_or(now) + window;
    let allowed = w.used < limit;
    if allowed {
        w.used += 1;
    }
    let left = end.saturating_duration_since(now);
    let ttl = left.as_millis().div_ceil(1000) as u64;
    (allowed, limit - w.used, ttl, end)
}

fn headers(remaining: u32, ttl: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-rl", HeaderValue::from(remaining));
    h.insert("x-ttl", HeaderValue::from(ttl));
    h
}

#[derive(serde::Deserialize)]
struct FieldsQuery {
    fields: Option<String>,
}

fn select(answer: Value, fields: &Option<String>) -> Value {
    let Some(fields) = fields else {
        return answer;
    };
    let Value::Object(all) = answer else {
        return answer;
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let out: Map<String, Value> = all
        .into_iter()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .collect();
    Value::Object(out)
}

async fn single(
    State(state): State<Shared>,
    Path(ip): Path<String>,
    Query(q): Query<FieldsQuery>,
) -> Response {
    answer_single(state, ip, q).await
}

async fn single_empty(State(state): State<Shared>, Query(q): Query<FieldsQuery>) -> Response {
    // ip-api answers for the caller's own address here; the stand-in has none to give.
    answer_single(state, String::new(), q).await
}

async fn answer_single(state: Shared, ip: String, q: FieldsQuery) -> Response {
    let mut s = lock(&state);
    let (allowed, rl, ttl, window_end) = admit(&mut s, Endpoint::Single);
    let status = if allowed { 200 } else { 429 };
    s.log.push(LoggedRequest {
        at: Instant::now(),
        endpoint: Endpoint::Single,
        queries: vec![ip.clone()],
        status,
        window_end,
    });
    drop(s);
    if !allowed {
        return (StatusCode::TOO_MANY_REQUESTS, headers(rl, ttl)).into_response();
    }
    (headers(rl, ttl), Json(select(fake_answer(&ip), &q.fields))).into_response()
}

async fn batch(
    State(state): State<Shared>,
    Query(q): Query<FieldsQuery>,
    body: axum::body::Bytes,
) -> Response {
    let parsed: Result<Vec<Value>, _> = serde_json::from_slice(&body);
    let queries: Option<Vec<String>> = parsed.ok().and_then(|items| {
        items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                Value::Object(o) => o.get("query").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .collect()
    });
    let mut s = lock(&state);
    let (allowed, rl, ttl, window_end) = admit(&mut s, Endpoint::Batch);
    let (status, queries) = match (&queries, allowed) {
        (_, false) => (429, queries.clone().unwrap_or_default()),
        (Some(qs), true) if qs.len() <= 100 => (200, qs.clone()),
        (qs, true) => (422, qs.clone().unwrap_or_default()),
    };
    s.log.push(LoggedRequest {
        at: Instant::now(),
        endpoint: Endpoint::Batch,
        queries: queries.clone(),
        status,
        window_end,
    });
    drop(s);
    match status {
        429 => (StatusCode::TOO_MANY_REQUESTS, headers(rl, ttl)).into_response(),
        422 => (
            StatusCode::UNPROCESSABLE_ENTITY,
            headers(rl, ttl),
            "expected a JSON array of at most 100 addresses",
        )
            .into_response(),
        _ => {
            let answers: Vec<Value> = queries
                .iter()
                .map(|ip| select(fake_answer(ip), &q.fields))
                .collect();
            (headers(rl, ttl), Json(Value::Array(answers))).into_response()
        }
    }
}

const PLACES: [(&str, &str, &str); 6] = [
    ("Germany", "DE", "Falkenstein"),
    ("Netherlands", "NL", "Amsterdam"),
    ("United States", "US", "Ashburn"),
    ("Japan", "JP", "Tokyo"),
    ("Brazil", "BR", "São Paulo"),
    ("Singapore", "SG", "Singapore"),
];

/// The stand-in's answer for `query`, with every field: a made-up location chosen by the
/// address bytes for a public address, ip-api's "fail" answers otherwise.
pub fn fake_answer(query: &str) -> Value {
    let Ok(ip) = query.parse::<IpAddr>() else {
        return json!({"status": "fail", "message": "invalid query", "query": query});
    };
    if let Some(scope) = crate::engine::geo::non_public_scope(ip) {
        let message = match scope {
            "private" | "unique-local" | "link-local" | "cgnat" => "private range",
            _ => "reserved range",
        };
        return json!({"status": "fail", "message": message, "query": query});
    }
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let sum: u32 = bytes.iter().map(|b| u32::from(*b)).sum();
    let (country, code, city) = PLACES[sum as usize % PLACES.len()];
    let asn = 64_500 + (sum % 20);
    json!({
        "status": "success",
        "country": country,
        "countryCode": code,
        "city": city,
        "as": format!("AS{asn} Example Network {asn}"),
        "isp": format!("Example ISP {}", sum % 7),
        "org": format!("Example Org {}", sum % 5),
        "lat": 0.0,
        "lon": 0.0,
        "query": query,
    })
}
