//! The gRPC edge: `peerscope.v1.Crawler`, `grpc.health.v1` and server reflection (v1 and
//! v1alpha, so every grpcurl version works without the .proto).
//!
//! This layer sees the engine handle, the store and domain types only; it never touches
//! discv5 or libp2p types.

pub mod convert;
mod service;
pub mod status;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

pub use service::CrawlerApi;

use crate::engine::Engine;
use crate::proto::pb;

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

/// Serves the API on `listener` until `shutdown` is cancelled. Streams end on shutdown, so
/// the server drains promptly.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    shutdown: CancellationToken,
) -> Result<(), ApiError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::crawler_server::CrawlerServer<CrawlerApi>>()
        .await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let api = CrawlerApi::new(engine, shutdown.clone());
    let on_shutdown = {
        let shutdown = shutdown.clone();
        async move {
            shutdown.cancelled().await;
            health
                .set_not_serving::<pb::crawler_server::CrawlerServer<CrawlerApi>>()
                .await;
        }
    };
    Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(pb::crawler_server::CrawlerServer::new(api))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), on_shutdown)
        .await?;
    Ok(())
}
