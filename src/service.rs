//! The whole service wired in one place: the store, the engine, the gRPC and HTTP edges,
//! and the order they stop in. `peerscope serve`, the integration tests and the benchmark
//! all start it through [`Service::start`].
//!
//! ```text
//!             shutdown token (cancelled by ServiceHandle::shutdown or by the caller)
//!            /               |                    \
//!   gRPC server (api)   HTTP server (api)     Engine ── crawl tasks
//!            \               |                    /
//!             `────────── Store (sled) ──────────'
//!                            |
//!                  PostgreSQL sink (optional)
//! ```
//!
//! Shutdown, each step bounded by the grace period: cancel the token (crawls stop, streams
//! end, both servers stop accepting), wait for the crawls to persist their state, let the
//! gRPC server drain, let the HTTP server drain, let the sink export what is left (when its
//! database is reachable; otherwise it waits in the store for the next start), then flush
//! the store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, ServeOptions};
use crate::engine::{Engine, EngineConfig, EngineError};
use crate::store::{Store, StoreError};

/// Default time each shutdown step is allowed (see [`ServiceConfig::shutdown_grace`]).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the service needs besides its listeners.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// sled database directory; created if missing.
    pub data_dir: PathBuf,
    /// sled fsync interval in milliseconds. Default [`crate::store::DEFAULT_FLUSH_EVERY_MS`].
    pub flush_every_ms: u64,
    /// sled page cache in MiB. Default [`crate::store::DEFAULT_CACHE_MB`].
    pub store_cache_mb: u64,
    /// Engine-wide settings. Default [`EngineConfig::default`].
    pub engine: EngineConfig,
    /// Bearer token and TLS of the gRPC server; the token guards HTTP too. Default none.
    pub api: ServeOptions,
    /// Time allowed for each shutdown step. Default [`DEFAULT_SHUTDOWN_GRACE`].
    pub shutdown_grace: Duration,
    /// Export the store into PostgreSQL; `None` (the default): no sink. The running sink is
    /// what the gRPC server's `GetSinkStatus` reports (it replaces `api.sink`).
    pub sink: Option<crate::sink::SinkConfig>,
}

impl ServiceConfig {
    /// The defaults, with the database in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServiceConfig {
        ServiceConfig {
            data_dir: data_dir.into(),
            flush_every_ms: crate::store::DEFAULT_FLUSH_EVERY_MS,
            store_cache_mb: crate::store::DEFAULT_CACHE_MB,
            engine: EngineConfig::default(),
            api: ServeOptions::default(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            sink: None,
        }
    }
}

/// The bound sockets of the two servers (bound by the caller, so port 0 and tests' loopback
/// addresses need nothing special).
#[derive(Debug)]
pub struct Listeners {
    /// gRPC (`peerscope.v1.Crawler`, health, reflection).
    pub grpc: TcpListener,
    /// HTTP (`/metrics` and the JSON endpoints).
    pub http: TcpListener,
}

impl Listeners {
    /// Binds both addresses.
    pub async fn bind(grpc: SocketAddr, http: SocketAddr) -> Result<Listeners, ServiceError> {
        let bind = |what: &'static str, addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServiceError::Bind { what, addr, source })
        };
        Ok(Listeners {
            grpc: bind("gRPC", grpc).await?,
            http: bind("HTTP", http).await?,
        })
    }

    /// Both servers on free ports of 127.0.0.1.
    pub async fn loopback() -> Result<Listeners, ServiceError> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Listeners::bind(any, any).await
    }
}

/// Failures of starting, running or stopping the service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A listen address could not be bound.
    #[error("binding {what} address {addr}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// A listener's bound address could not be read.
    #[error("reading the bound {what} address")]
    LocalAddr {
        what: &'static str,
        source: std::io::Error,
    },
    /// The data directory could not be created.
    #[error("creating data directory {}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error("opening the store in {}", path.display())]
    Store { path: PathBuf, source: StoreError },
    /// The engine could not start.
    #[error("starting the engine")]
    Engine(#[source] EngineError),
    /// The gRPC server failed.
    #[error("gRPC server failed")]
    Grpc(#[source] ApiError),
    /// The TLS certificate or key cannot serve HTTP.
    #[error("TLS for the HTTP endpoints: {0}")]
    HttpTls(String),
    /// The HTTP server failed.
    #[error("HTTP server failed")]
    Http(#[source] std::io::Error),
    /// A server task panicked or was aborted.
    #[error("{what} server task failed")]
    Task {
        what: &'static str,
        source: JoinError,
    },
    /// The store could not be flushed at shutdown.
    #[error("flushing the store")]
    Flush(#[source] StoreError),
}

/// Namespace of [`Service::start`].
#[derive(Debug)]
pub struct Service;

impl Service {
    /// Opens the store, starts the engine and serves gRPC and HTTP on `listeners` until
    /// `shutdown` is cancelled (by the caller, or by [`ServiceHandle::shutdown`]). Must be
    /// called within a tokio runtime.
    pub fn start(
        config: ServiceConfig,
        listeners: Listeners,
        shutdown: CancellationToken,
    ) -> Result<ServiceHandle, ServiceError> {
        let local = |what: &'static str, l: &TcpListener| {
            l.local_addr()
                .map_err(|source| ServiceError::LocalAddr { what, source })
        };
        let grpc_addr = local("gRPC", &listeners.grpc)?;
        let http_addr = local("HTTP", &listeners.http)?;
        // With TLS configured, HTTP is served over TLS with the same certificate, so the
        // bearer token never travels in the clear on either edge.
        let http_tls = match &config.api.tls {
            Some((cert, key)) => {
                Some(crate::api::http::tls_config(cert, key).map_err(ServiceError::HttpTls)?)
            }
            None => None,
        };
        let data_dir = &config.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| ServiceError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store =
            Store::open_with_cache(data_dir, config.flush_every_ms, config.store_cache_mb << 20)
                .map_err(|source| ServiceError::Store {
                    path: data_dir.clone(),
                    source,
                })?;
        if config.sink.is_some() {
            // Before any crawl resumes and writes: every write feeds the export.
            store.set_export(true);
        }
        let engine = Engine::new(store.clone(), config.engine, shutdown.clone())
            .map_err(ServiceError::Engine)?;
        let sink = config
            .sink
            .map(|s| crate::sink::Sink::start(store.clone(), engine.metrics().clone(), s));
        let mut api = config.api;
        api.sink = sink.clone();
        tracing::info!(
            grpc = %grpc_addr,
            http = %http_addr,
            data_dir = %data_dir.display(),
            peers = store.peer_count(),
            "peerscope serving"
        );
        for (what, addr) in [("gRPC", grpc_addr), ("HTTP", http_addr)] {
            if !addr.ip().is_loopback() && api.token.is_none() {
                tracing::warn!(%addr, "{what} listens beyond loopback without a token: anyone who can reach it controls peerscope");
            }
        }
        let http = match http_tls {
            Some(tls) => tokio::spawn(crate::api::http::serve_https(
                listeners.http,
                engine.clone(),
                api.token.clone(),
                tls,
                shutdown.clone(),
            )),
            None => tokio::spawn(crate::api::serve_http(
                listeners.http,
                engine.clone(),
                api.token.clone(),
                shutdown.clone(),
            )),
        };
        let grpc = tokio::spawn(crate::api::serve_with(
            listeners.grpc,
            engine.clone(),
            shutdown.clone(),
            api,
        ));
        Ok(ServiceHandle {
            grpc_addr,
            http_addr,
            engine,
            store,
            shutdown,
            grace: config.shutdown_grace,
            grpc,
            grpc_ended: None,
            http,
            sink,
        })
    }
}

/// A running service.
pub struct ServiceHandle {
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    engine: Engine,
    store: Store,
    shutdown: CancellationToken,
    grace: Duration,
    grpc: JoinHandle<Result<(), ApiError>>,
    /// The gRPC server's result once [`ServiceHandle::grpc_ended`] has seen it end.
    grpc_ended: Option<Result<Result<(), ApiError>, JoinError>>,
    http: JoinHandle<std::io::Result<()>>,
    sink: Option<crate::sink::Sink>,
}

/// How a shutdown went; every problem in it has been logged.
#[derive(Debug, Default)]
#[must_use]
pub struct ShutdownReport {
    /// Steps that did not finish within the grace period: `crawls`, `gRPC server`,
    /// `HTTP server`, `sink`.
    pub overran: Vec<&'static str>,
    /// Failures of the servers.
    pub failures: Vec<ServiceError>,
}

impl ShutdownReport {
    /// Every step finished in time and no server failed.
    pub fn is_clean(&self) -> bool {
        self.overran.is_empty() && self.failures.is_empty()
    }
}

impl std::fmt::Debug for ServiceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHandle")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl ServiceHandle {
    /// The gRPC server's bound address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The HTTP server's bound address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The PostgreSQL sink, when one runs.
    pub fn sink(&self) -> Option<&crate::sink::Sink> {
        self.sink.as_ref()
    }

    /// Resolves when the gRPC server has stopped by itself (it failed, or the shutdown
    /// token was cancelled). Cancel-safe.
    pub async fn grpc_ended(&mut self) {
        if self.grpc_ended.is_none() {
            let result = (&mut self.grpc).await;
            self.grpc_ended = Some(result);
        }
    }

    /// Stops the service in order (see the module doc), logging what overran or failed.
    /// Errs only if the store could not be flushed.
    pub async fn shutdown(self) -> Result<ShutdownReport, ServiceError> {
        let ServiceHandle {
            engine,
            store,
            shutdown,
            grace,
            grpc,
            grpc_ended,
            http,
            sink,
            ..
        } = self;
        let mut report = ShutdownReport::default();
        shutdown.cancel();
        if tokio::time::timeout(grace, engine.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(?grace, "crawls did not stop within the grace period");
            report.overran.push("crawls");
        }
        let grpc = match grpc_ended {
            Some(result) => Ok(result),
            None => tokio::time::timeout(grace, grpc).await,
        };
        match grpc {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %e, "gRPC server failed");
                report.failures.push(ServiceError::Grpc(e));
            }
            Ok(Err(source)) => {
                tracing::error!(error = %source, "gRPC server task failed");
                report.failures.push(ServiceError::Task {
                    what: "gRPC",
                    source,
                });
            }
            Err(_) => {
                tracing::warn!(?grace, "gRPC server did not drain within the grace period");
                report.overran.push("gRPC server");
            }
        }
        match tokio::time::timeout(grace, http).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %e, "HTTP server failed");
                report.failures.push(ServiceError::Http(e));
            }
            Ok(Err(source)) => {
                tracing::error!(error = %source, "HTTP server task failed");
                report.failures.push(ServiceError::Task {
                    what: "HTTP",
                    source,
                });
            }
            Err(_) => {
                tracing::warn!(?grace, "HTTP server did not drain within the grace period");
                report.overran.push("HTTP server");
            }
        }
        if let Some(sink) = &sink {
            // The crawls' last writes go out before the process ends.
            if !sink.finish(grace).await {
                report.overran.push("sink");
            }
        }
        store.close().await.map_err(ServiceError::Flush)?;
        tracing::info!("stopped");
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Crawls on 127.0.0.1, the database in `tmp/db`.
    fn config(tmp: &Path) -> ServiceConfig {
        ServiceConfig {
            flush_every_ms: 100,
            engine: EngineConfig {
                default_discv5_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                ..EngineConfig::default()
            },
            shutdown_grace: Duration::from_secs(20),
            ..ServiceConfig::new(tmp.join("db"))
        }
    }

    async fn within<F: std::future::Future>(fut: F) -> F::Output {
        tokio::time::timeout(Duration::from_secs(30), fut)
            .await
            .expect("did not finish within 30 s")
    }

    /// A plain HTTP/1.1 GET; returns the status line.
    async fn http_status(addr: SocketAddr, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        within(s.read_to_end(&mut buf)).await.unwrap();
        String::from_utf8_lossy(&buf)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_both_edges_and_stops_cleanly_releasing_the_store() {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
        let tmp = tempfile::tempdir().unwrap();
        let listeners = Listeners::loopback().await.unwrap();
        let handle =
            Service::start(config(tmp.path()), listeners, CancellationToken::new()).unwrap();
        for addr in [handle.grpc_addr(), handle.http_addr()] {
            assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
        }
        assert_eq!(handle.store().peer_count(), 0);
        let channel =
            tonic::transport::Channel::from_shared(format!("http://{}", handle.grpc_addr()))
                .unwrap()
                .connect()
                .await
                .unwrap();
        let mut health = HealthClient::new(channel);
        let status = health
            .check(HealthCheckRequest {
                service: "peerscope.v1.Crawler".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32);
        let line = http_status(handle.http_addr(), "/metrics").await;
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        drop(health);

        let report = within(handle.shutdown()).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
        // The database is closed: it opens again.
        Store::open(&tmp.path().join("db"), 100).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelling_the_token_stops_the_servers() {
        let tmp = tempfile::tempdir().unwrap();
        let token = CancellationToken::new();
        let listeners = Listeners::loopback().await.unwrap();
        let mut handle = Service::start(config(tmp.path()), listeners, token.clone()).unwrap();
        token.cancel();
        within(handle.grpc_ended()).await;
        // Seen once, still seen (serve selects on it next to the signal).
        within(handle.grpc_ended()).await;
        let report = within(handle.shutdown()).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
    }

    /// TLS material that cannot serve is refused before anything listens, with the reason.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_tls_material_is_refused_at_start() {
        let tmp = tempfile::tempdir().unwrap();
        let config = ServiceConfig {
            api: ServeOptions {
                token: None,
                tls: Some((b"not a certificate".to_vec(), b"not a key".to_vec())),
                sink: None,
            },
            ..config(tmp.path())
        };
        let listeners = Listeners::loopback().await.unwrap();
        let Err(err) = Service::start(config, listeners, CancellationToken::new()) else {
            panic!("bad TLS material was accepted");
        };
        assert!(matches!(err, ServiceError::HttpTls(_)), "{err}");
        assert!(err.to_string().contains("certificate"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_data_dir_that_cannot_be_created_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a file");
        std::fs::write(&file, "not a directory").unwrap();
        let config = ServiceConfig::new(file.join("db"));
        let listeners = Listeners::loopback().await.unwrap();
        let err = Service::start(config, listeners, CancellationToken::new()).unwrap_err();
        assert!(matches!(err, ServiceError::DataDir { .. }), "{err}");
        assert!(err.to_string().contains("a file"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_taken_address_is_a_bind_error_naming_it() {
        let taken = Listeners::loopback().await.unwrap();
        let addr = taken.grpc.local_addr().unwrap();
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let err = Listeners::bind(addr, any).await.unwrap_err();
        assert!(
            matches!(err, ServiceError::Bind { what: "gRPC", .. }),
            "{err}"
        );
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }
}
