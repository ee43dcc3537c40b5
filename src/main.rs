//! The `peerscope` binary: the command line, logging, signals and dispatch to the commands
//! in `cli/`: `serve` runs the service, the client commands talk to a running one, and (with
//! the `testnet` feature, on by default) `testnet` runs a loopback network and `bench`
//! benchmarks a crawl of one.

mod cli;

use cli::client;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use peerscope::config::{LogFormat, ServeArgs};

#[derive(Parser)]
#[command(
    name = "peerscope",
    version,
    about = "Crawl and monitor peer-to-peer networks, driven over gRPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC control-plane service.
    Serve(Box<ServeArgs>),
    /// Run a local network of discv5 nodes on 127.0.0.1 to crawl.
    #[cfg(feature = "testnet")]
    Testnet(cli::testnet::TestnetArgs),
    /// Benchmark a ONESHOT crawl of an in-process testnet against a bare baseline.
    #[cfg(feature = "testnet")]
    Bench(cli::bench::BenchArgs),
    /// The subscriber side of `bench --subscribers` (started by it).
    #[cfg(feature = "testnet")]
    #[command(hide = true)]
    BenchSubscribers(cli::bench::BenchSubscribersArgs),
    /// Start, stop, list, show and watch crawls (client of a running server).
    Crawl {
        #[command(flatten)]
        server: client::ServerArg,
        #[command(subcommand)]
        command: client::CrawlCommand,
    },
    /// List and show peers (client of a running server).
    Peers {
        #[command(flatten)]
        server: client::ServerArg,
        #[command(subcommand)]
        command: client::PeersCommand,
    },
    /// Sign an EIP-1459 tree of the peers a server has vetted and print it as a zone file
    /// (client of a running server).
    Tree {
        #[command(flatten)]
        server: client::ServerArg,
        #[command(flatten)]
        args: client::TreeArgs,
    },
    /// Print relay message counts per pubsub and content topic (client of a running server).
    Counts {
        #[command(flatten)]
        server: client::ServerArg,
        #[command(flatten)]
        args: client::CountsArgs,
    },
    /// Print network statistics: capabilities, clusters, shards, protocols, agents, failures
    /// (client of a running server).
    Stats {
        #[command(flatten)]
        server: client::ServerArg,
        #[command(flatten)]
        args: client::StatsArgs,
    },
    /// Print the PostgreSQL export's status: vantage, lag, rows, errors (client of a running
    /// server).
    Sink {
        #[command(flatten)]
        server: client::ServerArg,
    },
    /// Print peer events; --follow keeps streaming (client of a running server).
    Events {
        #[command(flatten)]
        server: client::ServerArg,
        #[command(flatten)]
        args: client::EventsArgs,
    },
}

/// Log filter of `serve` and `bench` when neither PEERSCOPE_LOG nor RUST_LOG is set.
const DEFAULT_LOG: &str = "info,hickory_server=warn";
/// Log filter of `testnet` when neither is set: its own lines at info, its dependencies
/// (discv5 logs a line per node started) at warn.
#[cfg(feature = "testnet")]
const TESTNET_LOG: &str = "warn,peerscope=info";

/// Logs to stderr in `format`; the filter comes from PEERSCOPE_LOG or RUST_LOG, else
/// `default_filter`.
fn init_tracing(format: LogFormat, default_filter: &str) {
    let filter = std::env::var("PEERSCOPE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Client commands end quietly when their output is closed (`peerscope events | head`), as
/// other Unix tools do: the default SIGPIPE action ends the process instead of a panic in
/// `println!`. Only stdout and stderr can raise it: std and tokio write to sockets with
/// `MSG_NOSIGNAL`, so the gRPC connection is unaffected.
fn end_quietly_when_output_closes() {
    #[cfg(unix)]
    // SAFETY: `signal` only sets the process's disposition of SIGPIPE back to its default;
    // no handler runs and no memory is shared.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Crawl { .. }
            | Command::Peers { .. }
            | Command::Events { .. }
            | Command::Counts { .. }
            | Command::Stats { .. }
            | Command::Sink { .. }
            | Command::Tree { .. }
    ) {
        end_quietly_when_output_closes();
    }
    let result = match cli.command {
        Command::Serve(args) => cli::serve::run(*args).await,
        #[cfg(feature = "testnet")]
        Command::Testnet(args) => cli::testnet::run(args).await,
        #[cfg(feature = "testnet")]
        Command::Bench(args) => cli::bench::run_command(args).await,
        #[cfg(feature = "testnet")]
        Command::BenchSubscribers(args) => cli::bench::run_subscriber_process(args).await,
        Command::Crawl { server, command } => client::crawl(server, command).await,
        Command::Peers { server, command } => client::peers(server, command).await,
        Command::Events { server, args } => client::events(server, args).await,
        Command::Counts { server, args } => client::counts(server, args).await,
        Command::Stats { server, args } => client::stats(server, args).await,
        Command::Sink { server } => client::sink(server).await,
        Command::Tree { server, args } => client::tree(server, args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn testnet_commands_follow_the_feature() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        for name in ["testnet", "bench", "bench-subscribers"] {
            assert_eq!(
                cmd.find_subcommand(name).is_some(),
                cfg!(feature = "testnet"),
                "{name}"
            );
        }
    }
}
