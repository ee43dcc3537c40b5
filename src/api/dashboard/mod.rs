//! The web dashboard on the HTTP address: the page at `/`, its embedded assets under
//! `/assets/`, and the JSON endpoints under `/api/v1` that it polls (and scripts share).
//!
//! ```text
//! browser ── GET / , /assets/* ──────────────▶ embedded files (assets.rs)
//!         ── GET /api/v1/* (polled) ─────────▶ json.rs ─▶ CrawlerApi (the gRPC service code)
//!         ── GET /api/v1/events/stream (SSE) ─▶ json.rs ─▶ StreamPeerEvents
//!         ── GET /api/v1/history ─────────────▶ history.rs (samples of the store, in memory)
//! ```
//!
//! **Access.** With a token configured every request needs it, as on the other HTTP
//! endpoints: either `Authorization: Bearer <token>` (scripts) or the session cookie a
//! browser gets by posting the token to `/login` (the form `/` shows while the request is
//! not authorized). The cookie holds a value derived from the token (never the token
//! itself, which also opens the gRPC API), is `HttpOnly` and `SameSite=Strict`, and stops
//! working when the token changes. Without a token everything is open, as the rest of the
//! HTTP side is.

mod assets;
pub mod history;
mod json;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use tokio_util::sync::CancellationToken;

use crate::api::auth::Token;
use crate::api::CrawlerApi;
use crate::engine::Engine;

/// Name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "peerscope_session";

/// What every dashboard handler shares.
#[derive(Clone)]
pub(crate) struct DashState {
    api: std::sync::Arc<CrawlerApi>,
    engine: Engine,
    token: Option<Token>,
    history: history::History,
    rtt: json::RttCache,
}

/// The dashboard's routes; starts the history sampler, which runs until `shutdown`.
pub fn router(engine: Engine, token: Option<Token>, shutdown: CancellationToken) -> Router {
    let state = DashState {
        api: std::sync::Arc::new(CrawlerApi::new(engine.clone(), shutdown.clone())),
        history: history::History::start(engine.clone(), shutdown),
        engine,
        token,
        rtt: json::RttCache::default(),
    };
    let protected = Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
        .route("/api/v1/crawls", get(json::list_crawls))
        .route("/api/v1/crawls/{id}", get(json::get_crawl))
        .route("/api/v1/peers", get(json::list_peers))
        .route("/api/v1/peers/{id}", get(json::get_peer))
        .route("/api/v1/peers/{id}/visits", get(json::peer_visits))
        .route("/api/v1/stats", get(json::stats))
        .route("/api/v1/messages", get(json::messages))
        .route("/api/v1/history", get(json::history))
        .route("/api/v1/rtt", get(json::rtt))
        .route("/api/v1/events/stream", get(json::event_stream))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_access,
        ));
    Router::new()
        .route("/login", get(login_form).post(login))
        .merge(protected)
        .with_state(state)
}

/// Whether `headers` carry the bearer token or a valid session cookie (always true
/// without a token).
fn authorized(token: &Option<Token>, headers: &HeaderMap) -> bool {
    let Some(token) = token else {
        return true;
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| token.matches_header(v));
    bearer
        || headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .any(|(name, value)| name == SESSION_COOKIE && token.matches_session(value))
}

async fn require_access(State(s): State<DashState>, request: Request, next: Next) -> Response {
    if authorized(&s.token, request.headers()) {
        let mut response = next.run(request).await;
        secure_headers(response.headers_mut());
        return response;
    }
    if request.uri().path() == "/" {
        // A person at a browser: the token form.
        return login_page(StatusCode::UNAUTHORIZED, "");
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "missing or wrong bearer token\n",
    )
        .into_response()
}

/// Headers of every dashboard answer: no framing, no sniffing, scripts and styles from
/// this origin only (inline styles are allowed for the charts' sizing).
fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

async fn index() -> Html<&'static str> {
    Html(assets::INDEX_HTML)
}

async fn asset(Path(name): Path<String>) -> Response {
    match assets::find(&name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                // Embedded in this binary: they change only with it.
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            a.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

fn login_page(status: StatusCode, message: &str) -> Response {
    let message = if message.is_empty() {
        String::new()
    } else {
        format!("<p class=\"error\" id=\"login-error\">{message}</p>")
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>peerscope: sign in</title>\
         <style>body{{font:14px system-ui,sans-serif;background:#f6f7f9;display:flex;justify-content:center;padding-top:12vh}}\
         form{{background:#fff;border:1px solid #d9dde5;border-radius:6px;padding:20px 24px;min-width:320px}}\
         h1{{font-size:18px;margin:0 0 12px}}input{{width:100%;padding:6px;margin:6px 0 12px}}.error{{color:#d64545}}</style>\
         </head><body><form method=\"post\" action=\"/login\" id=\"login\"><h1>peerscope</h1>{message}\
         <label>Token (as given to <code>serve --token</code>)<input type=\"password\" name=\"token\" id=\"token\" autofocus></label>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form></body></html>"
    );
    let mut response = (status, Html(page)).into_response();
    secure_headers(response.headers_mut());
    response
}

async fn login_form(State(s): State<DashState>, headers: HeaderMap) -> Response {
    if authorized(&s.token, &headers) {
        return Redirect::to("/").into_response();
    }
    login_page(StatusCode::OK, "")
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(s): State<DashState>, Form(form): Form<LoginForm>) -> Response {
    let Some(token) = &s.token else {
        return Redirect::to("/").into_response();
    };
    if !token.matches(form.token.trim()) {
        tracing::warn!("dashboard sign-in with a wrong token");
        return login_page(StatusCode::UNAUTHORIZED, "Wrong token.");
    }
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        token.session_value()
    );
    let mut response = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}
