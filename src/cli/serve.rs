//! `peerscope serve`: resolves the settings (flags, environment, file, defaults), binds the
//! listeners, starts the service and stops it in order on SIGINT or SIGTERM.

use tokio_util::sync::CancellationToken;

use peerscope::config::ServeArgs;
use peerscope::service::{Listeners, Service};

/// Runs the service until a signal, or until the gRPC server fails.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.resolve()?;
    crate::init_tracing(config.log_format, crate::DEFAULT_LOG);
    let service = config.service()?;
    let listeners = Listeners::bind(config.grpc_addr, config.http_addr).await?;
    let mut handle = Service::start(service, listeners, CancellationToken::new())?;
    // Machine-readable lines for scripts that start the server with port 0.
    println!("grpc listening on {}", handle.grpc_addr());
    println!("http listening on {}", handle.http_addr());
    tokio::select! {
        () = crate::shutdown_signal() => tracing::info!("shutting down"),
        () = handle.grpc_ended() => {}
    }
    // What overran or failed is logged; as before, only a failed flush fails the command.
    let _report = handle.shutdown().await?;
    Ok(())
}
