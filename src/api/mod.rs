//! The gRPC edge: `peerscope.v1.Crawler`, `grpc.health.v1` and server reflection (v1 and
//! v1alpha, so every grpcurl version works without the .proto); and the HTTP side
//! (`http`: metrics, the seed monitor's JSON, and the web `dashboard` with its JSON API).
//!
//! This layer sees the engine handle, the store and domain types only; it never touches
//! discv5 or libp2p types.

pub mod auth;
pub mod convert;
pub mod dashboard;
pub mod http;
pub mod rollup;
mod service;
pub mod status;
pub mod wire;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

pub use auth::{AuthInterceptor, Token};
pub use http::serve_http;
pub use service::CrawlerApi;

use crate::engine::Engine;
use crate::proto::pb;
use crate::proto::server::crawler_server::CrawlerServer;

/// Largest request message the service decodes (tonic's default, made explicit because the
/// proto documents it); a larger one is refused with OUT_OF_RANGE before it is read.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Failures of the gRPC server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The reflection service could not load a descriptor set.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The server failed while serving.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Security options of the gRPC server.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Bearer token required on every call except health.
    pub token: Option<Token>,
    /// PEM certificate chain and private key: serve TLS.
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
    /// The PostgreSQL sink whose status `GetSinkStatus` reports; `None`: no sink.
    pub sink: Option<crate::sink::Sink>,
}

/// Serves the API on `listener` until `shutdown` is cancelled, without token or TLS.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    shutdown: CancellationToken,
) -> Result<(), ApiError> {
    serve_with(listener, engine, shutdown, ServeOptions::default()).await
}

/// Serves the API on `listener` until `shutdown` is cancelled. Streams end on shutdown, so
/// the server drains promptly. Health stays open without a token, so orchestrators can
/// probe it.
pub async fn serve_with(
    listener: TcpListener,
    engine: Engine,
    shutdown: CancellationToken,
    options: ServeOptions,
) -> Result<(), ApiError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<CrawlerServer<CrawlerApi>>().await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let api = CrawlerApi::new(engine, shutdown.clone()).with_sink(options.sink.clone());
    let on_shutdown = {
        let shutdown = shutdown.clone();
        async move {
            shutdown.cancelled().await;
            health.set_not_serving::<CrawlerServer<CrawlerApi>>().await;
        }
    };
    let auth = AuthInterceptor {
        token: options.token.clone(),
    };
    let mut builder = Server::builder();
    if let Some((cert, key)) = &options.tls {
        builder =
            builder.tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))?;
    }
    builder
        .add_service(health_service)
        .add_service(InterceptedService::new(reflection_v1, auth.clone()))
        .add_service(InterceptedService::new(reflection_v1alpha, auth.clone()))
        .add_service(InterceptedService::new(
            CrawlerServer::new(api).max_decoding_message_size(MAX_REQUEST_BYTES),
            auth,
        ))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), on_shutdown)
        .await?;
    Ok(())
}
