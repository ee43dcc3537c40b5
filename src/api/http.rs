//! The HTTP side: Prometheus `/metrics`, the seed monitor's JSON endpoints
//! (`/allpeersinfo`, `/contenttopics`, same field names), and the web dashboard at `/` with
//! its JSON API under `/api/v1` (see [`crate::api::dashboard`]). With a token configured
//! every endpoint requires `Authorization: Bearer <token>` (the dashboard also takes its
//! session cookie).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::auth::Token;
use crate::engine::Engine;
use crate::model::{PeerFilter, PeerRecord};

#[derive(Clone)]
struct AppState {
    engine: Engine,
    token: Option<Token>,
}

/// One entry of `/allpeersinfo`, with the seed monitor's field names. Times are Unix
/// seconds, durations milliseconds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomPeerInfo {
    last_time_discovered: u64,
    discovered: u64,
    peer_id: String,
    enr: String,
    ip: String,
    enr_capabilities: Vec<String>,
    country: String,
    city: String,
    last_time_connected: u64,
    retries: u64,
    supported_protocols: Vec<String>,
    user_agent: String,
    last_ping_duration: f64,
    avg_ping_duration: f64,
    conn_error: String,
}

impl From<&PeerRecord> for CustomPeerInfo {
    fn from(p: &PeerRecord) -> Self {
        let d = &p.dial;
        let id = d.identify.as_ref();
        CustomPeerInfo {
            last_time_discovered: p.last_seen / 1000,
            discovered: u64::from(p.enr_versions),
            peer_id: p.enr.peer_id.clone().unwrap_or_default(),
            enr: p.enr.text.clone(),
            ip: p
                .enr
                .ip4
                .map(|i| i.to_string())
                .or_else(|| p.enr.ip6.map(|i| i.to_string()))
                .unwrap_or_default(),
            enr_capabilities: p
                .enr
                .waku2
                .map(|w| w.names().iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            country: p
                .geo
                .as_ref()
                .map(|g| g.country.clone())
                .unwrap_or_default(),
            city: p.geo.as_ref().map(|g| g.city.clone()).unwrap_or_default(),
            last_time_connected: d.last_connected.unwrap_or(0) / 1000,
            retries: d.attempts,
            supported_protocols: id.map(|i| i.protocols.clone()).unwrap_or_default(),
            user_agent: id.map(|i| i.agent_version.clone()).unwrap_or_default(),
            last_ping_duration: d.rtt_last_us.map(|u| u as f64 / 1000.0).unwrap_or(0.0),
            avg_ping_duration: d.rtt_avg_us.map(|u| u as f64 / 1000.0).unwrap_or(0.0),
            conn_error: d.last_error.clone().unwrap_or_default(),
        }
    }
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    match &state.token {
        None => true,
        Some(t) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| t.matches_header(v)),
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "missing or wrong bearer token\n",
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "HTTP endpoint failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let engine = state.engine.clone();
    match tokio::task::spawn_blocking(move || engine.render_metrics()).await {
        Ok(Ok(text)) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn all_peers_info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let store = state.engine.store().clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let (page, more) = store.list_peers(&PeerFilter::default(), after, 1000)?;
            out.extend(page.iter().map(CustomPeerInfo::from));
            match (more, page.last()) {
                (true, Some(last)) => after = Some(last.enr.node_id),
                _ => return Ok::<_, crate::store::StoreError>(out),
            }
        }
    })
    .await;
    match result {
        Ok(Ok(peers)) => Json(peers).into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn content_topics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    if let Err(e) = state.engine.flushed_counter() {
        return internal(e);
    }
    let store = state.engine.store().clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut out: BTreeMap<String, u64> = BTreeMap::new();
        for row in store.message_counts("", "")? {
            *out.entry(row.content_topic).or_default() += row.messages;
        }
        Ok::<_, crate::store::StoreError>(out)
    })
    .await;
    match result {
        Ok(Ok(map)) => Json(map).into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// Serves the HTTP endpoints and the dashboard on `listener` until `shutdown` (which also
/// stops the dashboard's history sampler).
pub async fn serve_http(
    listener: TcpListener,
    engine: Engine,
    token: Option<Token>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let dashboard = crate::api::dashboard::router(engine.clone(), token.clone(), shutdown.clone());
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/allpeersinfo", get(all_peers_info))
        .route("/contenttopics", get(content_topics))
        .with_state(AppState { engine, token })
        .merge(dashboard);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
