//! The `peerscope` binary: `serve` runs the service, `testnet` runs a local network.

mod cli;

use cli::client;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rand::SeedableRng as _;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use peerscope::config::{FileConfig, LogFormat, ServeConfig};
use peerscope::engine::{Engine, EngineConfig};
use peerscope::store::Store;
use peerscope::testnet::{Testnet, TestnetConfig, STATUS_INTERVAL};

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
    Testnet(TestnetArgs),
    /// Benchmark a ONESHOT crawl of an in-process testnet against a bare baseline.
    Bench(BenchArgs),
    /// The subscriber side of `bench --subscribers` (started by it).
    #[command(hide = true)]
    BenchSubscribers(BenchSubscribersArgs),
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

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file (flags and environment override it).
    #[arg(long, env = "PEERSCOPE_CONFIG")]
    config: Option<PathBuf>,
    /// Database directory [default: $XDG_DATA_HOME/peerscope or ~/.local/share/peerscope].
    #[arg(long, env = "PEERSCOPE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// gRPC listen address; port 0 picks a free port [default: 127.0.0.1:50051].
    #[arg(long, env = "PEERSCOPE_GRPC_ADDR")]
    grpc_addr: Option<std::net::SocketAddr>,
    /// Default UDP address of crawls' discv5 sockets [default: 0.0.0.0:0].
    #[arg(long, env = "PEERSCOPE_DISCV5_ADDR")]
    discv5_addr: Option<std::net::SocketAddr>,
    /// Log format [default: text]. The level comes from PEERSCOPE_LOG or RUST_LOG (default info).
    #[arg(long, env = "PEERSCOPE_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Interval of the store's background fsync, in milliseconds [default: 500].
    #[arg(long, env = "PEERSCOPE_FLUSH_EVERY_MS")]
    flush_every_ms: Option<u64>,
    /// sled page cache in MiB; resident memory stays near it as the database grows
    /// [default: 64].
    #[arg(long, env = "PEERSCOPE_STORE_CACHE_MB")]
    store_cache_mb: Option<u64>,
    /// Seconds allowed for crawls and streams to end at shutdown [default: 10].
    #[arg(long, env = "PEERSCOPE_SHUTDOWN_GRACE_SECS")]
    shutdown_grace_secs: Option<u64>,
    /// Distinct content topics counted per pubsub topic; further ones are summed under
    /// "(other)" [default: 1000].
    #[arg(long, env = "PEERSCOPE_MAX_CONTENT_TOPICS")]
    max_content_topics: Option<usize>,
    /// HTTP address of /metrics, /allpeersinfo and /contenttopics [default: 127.0.0.1:8008].
    #[arg(long, env = "PEERSCOPE_HTTP_ADDR")]
    http_addr: Option<std::net::SocketAddr>,
    /// Bearer token required on every gRPC call (except health) and HTTP request.
    #[arg(long, env = "PEERSCOPE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// File holding the bearer token.
    #[arg(long, env = "PEERSCOPE_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// PEM certificate chain: serve gRPC over TLS (with --tls-key).
    #[arg(long, env = "PEERSCOPE_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "PEERSCOPE_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Peer events kept in the log; older ones are dropped [default: 10000000].
    #[arg(long, env = "PEERSCOPE_EVENT_RETENTION")]
    event_retention: Option<u64>,
    /// Peer events older than this many days are dropped [default: 30].
    #[arg(long, env = "PEERSCOPE_EVENT_MAX_AGE_DAYS")]
    event_max_age_days: Option<u64>,
    /// Nameserver (ip:port) for EIP-1459 trees; repeat for several [default: the system's].
    #[arg(
        long = "dns-nameserver",
        env = "PEERSCOPE_DNS_NAMESERVERS",
        value_delimiter = ','
    )]
    dns_nameservers: Vec<std::net::SocketAddr>,
    /// Geolocate peers' IPs through ip-api (true or false) [default: true].
    #[arg(long, env = "PEERSCOPE_GEOLOCATION", action = clap::ArgAction::Set)]
    geolocation: Option<bool>,
    /// Base URL of the ip-api service, http:// only [default: http://ip-api.com].
    #[arg(long, env = "PEERSCOPE_GEO_BASE_URL")]
    geo_base_url: Option<String>,
    /// Hours a cached geolocation is used before the address is looked up again
    /// [default: 168].
    #[arg(long, env = "PEERSCOPE_GEO_CACHE_TTL_HOURS")]
    geo_cache_ttl_hours: Option<u64>,
    /// Export the store into this PostgreSQL database, e.g.
    /// postgres://peerscope@db.example:5432/peerscope (or host=… user=… dbname=…) [default: off].
    #[arg(long, env = "PEERSCOPE_SINK", hide_env_values = true)]
    sink: Option<String>,
    /// File holding the database password for --sink.
    #[arg(long, env = "PEERSCOPE_SINK_PASSWORD_FILE")]
    sink_password_file: Option<PathBuf>,
    /// This server's vantage name in the database: letters, digits, '.', '_', '-'
    /// [default: the host name].
    #[arg(long, env = "PEERSCOPE_VANTAGE")]
    vantage: Option<String>,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Testnet size.
    #[arg(long, default_value_t = 1000)]
    nodes: usize,
    /// Runs of each side (alternating).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// discv5 requests in flight.
    #[arg(long, default_value_t = peerscope::model::DEFAULT_CONCURRENCY)]
    concurrency: u32,
    /// Dials in flight.
    #[arg(long, default_value_t = peerscope::model::DEFAULT_DIAL_CONCURRENCY)]
    dial_concurrency: u32,
    /// Instead: compare crawls with and without this many StreamPeerEvents subscribers
    /// (one of them slow) attached over gRPC.
    #[arg(long)]
    subscribers: Option<usize>,
    /// With --subscribers: run the subscribers in the crawl's own process, competing with
    /// it for CPU, instead of in a child process at the lowest CPU priority (which stands
    /// in for clients on other machines).
    #[arg(long, requires = "subscribers")]
    subscribers_in_process: bool,
    /// Instead: compare crawls with and without the PostgreSQL sink exporting into this
    /// database (use a scratch one: every sink run writes under a vantage of its own).
    #[arg(long, conflicts_with = "subscribers")]
    sink: Option<String>,
    /// File holding the password for --sink.
    #[arg(long, requires = "sink")]
    sink_password_file: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct BenchSubscribersArgs {
    /// The server's gRPC URL.
    #[arg(long)]
    url: String,
    /// Subscribers to connect.
    #[arg(long)]
    count: usize,
}

#[derive(clap::Args)]
struct TestnetArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 64)]
    nodes: usize,
    /// Random extra neighbours per node (besides its ring successor).
    #[arg(long, default_value_t = 6)]
    degree: usize,
    /// Seed of the capability/cluster/shard assignment.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Bootstrap ENRs to print.
    #[arg(long, default_value_t = 1)]
    bootstrap: usize,
    /// discv5 protocol id (6 ASCII characters).
    #[arg(long, default_value = "d5waku")]
    protocol_id: String,
    /// Share of nodes (0.0..=1.0) that advertise TCP in their ENR but do not listen.
    #[arg(long, default_value_t = 0.0)]
    down: f64,
    /// Run discv5 only (no libp2p swarms, no TCP in the ENRs).
    #[arg(long)]
    no_libp2p: bool,
    /// Relay messages per second to publish from random relay nodes on their pubsub topics
    /// (0: none). What was published is printed with every status line.
    #[arg(long, default_value_t = 0.0)]
    publish_rate: f64,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
    /// Also serve the bootstrap ENRs as a signed EIP-1459 tree from a DNS server on
    /// 127.0.0.1 (prints its enrtree:// URL and the server address).
    #[arg(long)]
    dns: bool,
    /// Every libp2p node serves Waku peer exchange (answering with the records of the
    /// nodes it knows).
    #[arg(long)]
    peer_exchange: bool,
    /// Extra nodes reachable only through peer exchange: libp2p only, no discv5 (implies
    /// --peer-exchange).
    #[arg(long, default_value_t = 0)]
    px_only: usize,
    /// Give nodes Ethereum consensus keys (eth2, attnets, syncnets) instead of Waku keys;
    /// use with --protocol-id discv5.
    #[arg(long)]
    eth2: bool,
    /// Churn: every --churn-every seconds this many nodes leave the network (discv5 and
    /// libp2p stop) and the ones that left the step before come back with the same
    /// identity, record and ports. Bootstrap nodes never leave. 0: no churn.
    #[arg(long, default_value_t = 0)]
    churn: usize,
    /// Seconds between churn steps.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    churn_every: u64,
    /// Hostile nodes to add, as KIND=N[,KIND=N...] with kinds silent (accepts TCP, never
    /// speaks), stall (stalls mid-handshake), big-identify (identify larger than sane),
    /// flood (relay peer flooding garbage), wrong-key (libp2p key is not the ENR's) and
    /// junk-enrs (discv5 answers with junk records); at most 16 per kind.
    #[arg(long, default_value = "")]
    hostile: peerscope::testnet::hostile::HostileCounts,
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// Once every node is up, write the bootstrap ENRs to this file, one per line (for
    /// `peerscope crawl start --bootstrap-file`). Written atomically.
    #[arg(long)]
    enr_file: Option<PathBuf>,
}

fn init_tracing(format: LogFormat) {
    let filter = std::env::var("PEERSCOPE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,hickory_server=warn"));
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

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let cli = FileConfig {
        data_dir: args.data_dir,
        grpc_addr: args.grpc_addr,
        discv5_addr: args.discv5_addr,
        log_format: args.log_format,
        flush_every_ms: args.flush_every_ms,
        store_cache_mb: args.store_cache_mb,
        shutdown_grace_secs: args.shutdown_grace_secs,
        max_content_topics: args.max_content_topics,
        http_addr: args.http_addr,
        token: args.token,
        token_file: args.token_file,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        event_retention: args.event_retention,
        event_max_age_days: args.event_max_age_days,
        dns_nameservers: Some(args.dns_nameservers),
        geolocation: args.geolocation,
        geo_base_url: args.geo_base_url,
        geo_cache_ttl_hours: args.geo_cache_ttl_hours,
        sink: args.sink,
        sink_password_file: args.sink_password_file,
        vantage: args.vantage,
    };
    let config = ServeConfig::resolve(cli, file)?;
    init_tracing(config.log_format);

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let store = Store::open_with_cache(
        &config.data_dir,
        config.flush_every_ms,
        config.store_cache_mb << 20,
    )
    .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    let root = CancellationToken::new();
    let engine = Engine::new(
        store.clone(),
        EngineConfig {
            default_discv5_addr: config.discv5_addr,
            max_content_topics: config.max_content_topics,
            event_retention: config.event_retention,
            event_max_age: config.event_max_age,
            dns: peerscope::protocol::dns::ResolverSettings {
                nameservers: config.dns_nameservers.clone(),
                ..peerscope::protocol::dns::ResolverSettings::default()
            },
            geo: config.geo.clone(),
            ..EngineConfig::default()
        },
        root.clone(),
    )?;
    let sink = config
        .sink
        .clone()
        .map(|s| peerscope::sink::Sink::start(store.clone(), engine.metrics().clone(), s));
    let listener = tokio::net::TcpListener::bind(config.grpc_addr)
        .await
        .with_context(|| format!("binding gRPC address {}", config.grpc_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        grpc = %addr,
        data_dir = %config.data_dir.display(),
        peers = store.peer_count(),
        "peerscope serving"
    );
    // Machine-readable line for scripts that start the server with port 0.
    println!("grpc listening on {addr}");

    let token = config.token.as_deref().and_then(peerscope::api::Token::new);
    for (what, a) in [("gRPC", addr), ("HTTP", config.http_addr)] {
        if !a.ip().is_loopback() && token.is_none() {
            tracing::warn!(addr = %a, "{what} listens beyond loopback without a token: anyone who can reach it controls peerscope");
        }
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some((
            std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?,
            std::fs::read(key).with_context(|| format!("reading {}", key.display()))?,
        )),
        None => None,
    };
    let http = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("binding HTTP address {}", config.http_addr))?;
    let http_addr = http.local_addr()?;
    tracing::info!(http = %http_addr, "metrics and JSON endpoints serving");
    println!("http listening on {http_addr}");
    let http_task = tokio::spawn(peerscope::api::serve_http(
        http,
        engine.clone(),
        token.clone(),
        root.clone(),
    ));
    let mut server = tokio::spawn(peerscope::api::serve_with(
        listener,
        engine.clone(),
        root.clone(),
        peerscope::api::ServeOptions {
            token,
            tls,
            sink: sink.clone(),
        },
    ));
    let early = tokio::select! {
        _ = shutdown_signal() => { tracing::info!("shutting down"); None }
        res = &mut server => Some(res),
    };
    root.cancel();
    let grace = config.shutdown_grace;
    if tokio::time::timeout(grace, engine.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(?grace, "crawls did not stop within the grace period");
    }
    let result = match early {
        Some(res) => Ok(res),
        None => tokio::time::timeout(grace, server).await,
    };
    match result {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "gRPC server failed"),
        Ok(Err(e)) => tracing::error!(error = %e, "gRPC server task failed"),
        Err(_) => tracing::warn!(?grace, "gRPC server did not drain within the grace period"),
    }
    if tokio::time::timeout(grace, http_task).await.is_err() {
        tracing::warn!("HTTP server did not drain within the grace period");
    }
    if let Some(sink) = &sink {
        // The crawls' last writes go out before the process ends (when the database is
        // reachable; otherwise they wait in the store for the next start).
        sink.finish(grace).await;
    }
    store.flush().await.context("flushing the store")?;
    tracing::info!("stopped");
    Ok(())
}

async fn testnet(args: TestnetArgs) -> anyhow::Result<()> {
    init_tracing(LogFormat::Text);
    let protocol_id: [u8; 6] = args
        .protocol_id
        .as_bytes()
        .try_into()
        .ok()
        .filter(|_| args.protocol_id.is_ascii())
        .with_context(|| {
            format!(
                "--protocol-id {:?} is not 6 ASCII characters",
                args.protocol_id
            )
        })?;
    let mut net = Testnet::start(TestnetConfig {
        nodes: args.nodes,
        degree: args.degree,
        seed: args.seed,
        protocol_id,
        bootstrap_count: args.bootstrap,
        libp2p: !args.no_libp2p,
        down_fraction: args.down,
        peer_exchange: args.peer_exchange || args.px_only > 0,
        px_only: args.px_only,
        eth2: args.eth2,
        hostile: args.hostile,
    })
    .await?;
    let dns = if args.dns {
        let (server, url) = net
            .serve_dns_tree("nodes.peerscope.test")
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        Some((server, url))
    } else {
        None
    };
    if let Some(path) = &args.enr_file {
        let tmp = path.with_extension("tmp");
        let text: String = net
            .bootstrap_enrs()
            .iter()
            .map(|e| format!("{e}\n"))
            .collect();
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing --enr-file {}", path.display()))?;
    }
    if args.json {
        let mut line = serde_json::json!({
            "bootstrap_enrs": net.bootstrap_enrs(),
            "nodes": net.nodes(),
        });
        if let Some((server, url)) = &dns {
            line["dns_tree_url"] = serde_json::json!(url);
            line["dns_server"] = serde_json::json!(server.addr().to_string());
        }
        println!("{line}");
    } else {
        let nodes = net.nodes();
        let relay = nodes.iter().filter(|n| n.waku2 & 1 != 0).count();
        let up = nodes.iter().filter(|n| n.up).count();
        let mut clusters = std::collections::BTreeMap::<u16, usize>::new();
        for n in &nodes {
            *clusters.entry(n.cluster_id).or_default() += 1;
        }
        println!(
            "testnet: {} discv5 nodes on 127.0.0.1 (protocol id {}), {} with libp2p up, {} with relay, per cluster {:?}",
            nodes.len(),
            args.protocol_id,
            up,
            relay,
            clusters
        );
        println!("bootstrap ENRs:");
        for e in net.bootstrap_enrs() {
            println!("  {e}");
        }
        for h in net.hostile().nodes() {
            println!(
                "hostile {} node {}: udp {}, tcp {}",
                h.kind.as_str(),
                h.info.index,
                h.info.udp.map(|u| u.to_string()).unwrap_or_default(),
                h.info
                    .tcp
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into())
            );
        }
        if let Some((server, url)) = &dns {
            println!("DNS tree: {url}");
            println!(
                "  served by 127.0.0.1 DNS at {} (peerscope serve --dns-nameserver {})",
                server.addr(),
                server.addr()
            );
        }
    }
    let deadline = async {
        match args.duration {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut status = tokio::time::interval(STATUS_INTERVAL);
    status.tick().await;
    if !(0.0..=10_000.0).contains(&args.publish_rate) {
        anyhow::bail!("--publish-rate must be within 0..=10000");
    }
    let mut publish = (args.publish_rate > 0.0).then(|| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / args.publish_rate));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let relay_topics: Vec<(String, Vec<usize>)> = {
        let mut topics = std::collections::BTreeSet::new();
        for n in net.nodes() {
            for s in &n.shards {
                topics.insert(peerscope::protocol::waku::relay::pubsub_topic(
                    n.cluster_id,
                    *s,
                ));
            }
        }
        topics
            .into_iter()
            .map(|t| {
                let nodes = net.relay_nodes_on(&t);
                (t, nodes)
            })
            .filter(|(_, nodes)| nodes.len() >= 2)
            .collect()
    };
    let mut sent = 0u64;
    let print_status = |net: &Testnet| {
        let sizes = net.table_sizes();
        let avg = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
        let published: Vec<_> = net
            .published()
            .into_iter()
            .map(|((p, c), (m, b))| {
                serde_json::json!({"pubsub_topic": p, "content_topic": c, "messages": m, "bytes": b})
            })
            .collect();
        if args.json {
            println!(
                "{}",
                serde_json::json!({"status": {"nodes": sizes.len(), "avg_table_size": avg, "published": published}})
            );
        } else {
            let total: u64 = net.published().values().map(|v| v.0).sum();
            println!(
                "testnet: {} nodes up, {avg:.1} routing-table entries on average, {total} relay messages published",
                sizes.len()
            );
        }
    };
    let mut churn = (args.churn > 0).then(|| {
        let every = Duration::from_secs(args.churn_every);
        tokio::time::interval_at(tokio::time::Instant::now() + every, every)
    });
    let mut churn_rng = rand::rngs::StdRng::seed_from_u64(args.seed.wrapping_add(1));
    loop {
        tokio::select! {
            _ = shutdown_signal() => break,
            _ = &mut deadline => break,
            _ = status.tick() => print_status(&net),
            _ = async {
                match churn.as_mut() {
                    Some(t) => { t.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                let step = net.churn(args.churn, &mut churn_rng).await;
                if args.json {
                    println!("{}", serde_json::json!({"churn": step}));
                } else {
                    println!(
                        "testnet: churn: {} nodes left, {} came back, {} in the network",
                        step.left.len(),
                        step.joined.len(),
                        net.online()
                    );
                }
            }
            _ = async {
                match publish.as_mut() {
                    Some(t) => { t.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                if relay_topics.is_empty() {
                    continue;
                }
                sent += 1;
                let (topic, nodes) = &relay_topics[(sent as usize) % relay_topics.len()];
                let node = nodes[(sent as usize / relay_topics.len()) % nodes.len()];
                let ct = peerscope::testnet::CONTENT_TOPICS
                    [(sent as usize) % peerscope::testnet::CONTENT_TOPICS.len()];
                let payload = format!("testnet message {sent}").into_bytes();
                if let Err(e) = net.publish(node, topic, ct, payload).await {
                    tracing::debug!(error = %e, "publish failed (no peers on the topic yet?)");
                }
            }
        }
    }
    print_status(&net);
    drop(net);
    Ok(())
}

/// Connects the subscribers, prints `ready`, reads the last sequence to wait for from
/// stdin, then prints what each subscriber received as a JSON array.
async fn bench_subscribers(args: BenchSubscribersArgs) -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt;
    let (target_tx, target_rx) = tokio::sync::watch::channel(u64::MAX);
    let subs = cli::bench::subscribe(&args.url, args.count, target_rx)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    println!("ready");
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .context("reading the target sequence")?;
    let target: u64 = line
        .trim()
        .parse()
        .with_context(|| format!("{line:?} is not a sequence number"))?;
    target_tx.send_replace(target);
    let received = cli::bench::received(subs).await;
    println!("{}", serde_json::to_string(&received)?);
    Ok(())
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    init_tracing(LogFormat::Text);
    let mut settings = cli::bench::default_settings();
    settings.concurrency = args.concurrency;
    settings.dial.concurrency = args.dial_concurrency;
    settings.dial.per_ip = args.dial_concurrency;
    let config = cli::bench::BenchConfig {
        nodes: args.nodes,
        rounds: args.rounds,
        settings,
    };
    if let Some(url) = &args.sink {
        let password = match &args.sink_password_file {
            Some(p) => Some(
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            ),
            None => None,
        };
        let sink = peerscope::sink::SinkConfig::new(url, password.as_deref(), Some("bench"))?;
        let r = cli::bench::run_sink(config, sink)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            let times = |on: bool| -> Vec<String> {
                r.runs
                    .iter()
                    .filter(|x| x.sink == on)
                    .map(|x| format!("{:.2}", x.secs))
                    .collect()
            };
            println!(
                "ONESHOT crawl of {} nodes with dials: sink off {:?} s, sink on {:?} s; ratio of medians {:.3}",
                r.nodes,
                times(false),
                times(true),
                r.ratio
            );
            println!(
                "export: {:.0} rows/s during the crawl, {:.0} rows/s until caught up ({} rows per crawl, caught up {:.2} s after it ended); a finished crawl's store as a backlog: {:.0} rows/s",
                r.rows_per_sec_during_crawl,
                r.rows_per_sec_to_caught_up,
                r.runs.iter().filter(|x| x.sink).map(|x| x.rows).max().unwrap_or(0),
                r.runs
                    .iter()
                    .filter(|x| x.sink)
                    .map(|x| x.catch_up_secs)
                    .fold(0.0, f64::max),
                r.backlog_rows_per_sec
            );
        }
        return Ok(());
    }
    if let Some(n) = args.subscribers {
        let r = cli::bench::run_subscribers(config, n, args.subscribers_in_process)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            println!(
                "ONESHOT crawl of {} nodes served over gRPC: without subscribers {:?} s, with {} subscribers (one slow, {}) {:?} s; ratio of medians {:.3}; every subscriber received every event: {}",
                r.nodes,
                r.without_secs,
                r.subscribers,
                if r.in_process { "in process" } else { "in a child process at nice 19" },
                r.with_secs,
                r.ratio,
                r.all_received
            );
        }
        anyhow::ensure!(r.all_received, "a subscriber missed events");
        return Ok(());
    }
    let report = cli::bench::run(config)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "ONESHOT crawl of {} nodes (discover + dial + identify + metadata), concurrency {} / dials {}",
            report.nodes, report.concurrency, report.dial_concurrency
        );
        println!(
            "baseline (bare discv5 + libp2p): median {:.2}s; peerscope crawl: median {:.2}s; ratio {:.2}",
            report.baseline_median_secs, report.crawl_median_secs, report.ratio
        );
        let peak = |k: &str| {
            report
                .runs
                .iter()
                .filter(|r| r.kind == k)
                .filter_map(|r| r.peak_rss_kib)
                .max()
                .unwrap_or(0)
        };
        println!(
            "peak RSS: testnet alone {} KiB, baseline phase {} KiB, crawl phase {} KiB",
            report.testnet_rss_kib.unwrap_or(0),
            peak("baseline"),
            peak("crawl")
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Testnet(args) => testnet(args).await,
        Command::Bench(args) => bench(args).await,
        Command::BenchSubscribers(args) => bench_subscribers(args).await,
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
