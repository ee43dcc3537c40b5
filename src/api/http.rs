//! The HTTP side: Prometheus `/metrics`, the seed monitor's JSON endpoints
//! (`/allpeersinfo`, `/contenttopics`, same field names), and the web dashboard at `/` with
//! its JSON API under `/api/v1` (see [`crate::api::dashboard`]). With a token configured
//! every endpoint requires `Authorization: Bearer <token>` (the dashboard also takes its
//! session cookie). With TLS configured for the service, [`serve_https`] serves the same
//! endpoints over TLS, so the token never travels in the clear.

use std::collections::BTreeMap;
use std::sync::Arc;

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
    axum::serve(listener, router(engine, token, shutdown.clone()))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Every HTTP endpoint; the dashboard's event streams end on `shutdown`.
fn router(engine: Engine, token: Option<Token>, shutdown: CancellationToken) -> Router {
    let dashboard = crate::api::dashboard::router(engine.clone(), token.clone(), shutdown);
    Router::new()
        .route("/metrics", get(metrics))
        .route("/allpeersinfo", get(all_peers_info))
        .route("/contenttopics", get(content_topics))
        .with_state(AppState { engine, token })
        .merge(dashboard)
}

/// How long a client has to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A rustls server configuration from a PEM certificate chain and private key (the same
/// files as the gRPC side's `--tls-cert` and `--tls-key`), offering HTTP/1.1.
///
/// # Errors
/// The PEM does not hold a certificate or a key, or rustls refuses the pair.
pub fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading the TLS certificate: {e}"))?;
    if certs.is_empty() {
        return Err("the TLS certificate file holds no certificate".into());
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("reading the TLS key: {e}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("the TLS certificate and key do not make a pair: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the HTTP endpoints over TLS until `shutdown`; open connections are then closed
/// gracefully. A client that does not finish its handshake within
/// [`TLS_HANDSHAKE_TIMEOUT`] is dropped.
pub async fn serve_https(
    listener: TcpListener,
    engine: Engine,
    token: Option<Token>,
    tls: Arc<rustls::ServerConfig>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::service::TowerToHyperService;
    let app = router(engine, token, shutdown.clone());
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let (tcp, _) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTPS accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (acceptor, app, shutdown) = (acceptor.clone(), app.clone(), shutdown.clone());
        connections.spawn(async move {
            let stream =
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "HTTPS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}
