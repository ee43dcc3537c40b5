//! The CLI commands that talk to a running `peerscope serve` over gRPC.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use peerscope::proto::pb;
use peerscope::proto::pb::crawler_client::CrawlerClient;

/// Where the server is and how to talk to it.
#[derive(Args, Clone)]
pub struct ServerArg {
    /// gRPC address of `peerscope serve` (https:// for TLS).
    #[arg(
        long,
        global = true,
        env = "PEERSCOPE_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// Bearer token, when the server requires one.
    #[arg(long, global = true, env = "PEERSCOPE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// PEM CA certificate to trust for https:// (e.g. a self-signed server certificate).
    #[arg(long, global = true, env = "PEERSCOPE_CA_CERT")]
    ca_cert: Option<std::path::PathBuf>,
    /// Print proto3 JSON instead of tables: one object per line (field names as in the
    /// proto, every field present).
    #[arg(long, global = true)]
    json: bool,
}

/// Prints `message` as one line of JSON.
fn print_json<M: prost::Message>(message: &M, full_name: &str) {
    println!("{}", peerscope::proto::to_json(message, full_name));
}

/// Prints `message` as one line of JSON, or `human` when --json is off.
fn emit<M: prost::Message>(
    json: bool,
    message: &M,
    full_name: &str,
    human: impl FnOnce() -> String,
) {
    if json {
        print_json(message, full_name);
    } else {
        println!("{}", human());
    }
}

/// Adds the bearer token to every request.
#[derive(Clone)]
pub struct TokenInterceptor(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for TokenInterceptor {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

type Client =
    CrawlerClient<tonic::service::interceptor::InterceptedService<Channel, TokenInterceptor>>;

#[derive(Subcommand)]
pub enum CrawlCommand {
    /// Start a crawl.
    Start(Box<StartArgs>),
    /// Stop a running crawl.
    Stop { id: String },
    /// List crawls, newest first.
    List,
    /// Show one crawl.
    Show { id: String },
    /// Follow a crawl's progress until it ends.
    Watch { id: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ProfileArg {
    Waku,
    Ethereum,
}

#[derive(Args)]
pub struct StartArgs {
    /// Bootstrap ENR (`enr:…`); repeat for several. Required unless --bootstrap-file,
    /// --dns-tree or --preset gives records.
    #[arg(long = "bootstrap", required_unless_present_any = ["bootstrap_file", "dns_tree", "preset"])]
    bootstrap: Vec<String>,
    /// File of bootstrap ENRs, one per line (as `peerscope testnet --enr-file` writes).
    #[arg(long)]
    bootstrap_file: Option<std::path::PathBuf>,
    /// EIP-1459 tree URL (`enrtree://KEY@domain`); repeat for several.
    #[arg(long = "dns-tree")]
    dns_tree: Vec<String>,
    /// A Waku fleet's DNS tree by name: sandbox, test (The Waku Network, cluster 1) or
    /// status (Status prod, cluster 16). Sets the cluster unless --cluster is given.
    #[arg(long)]
    preset: Option<String>,
    /// Seed mode: serve Waku peer exchange from the crawl's libp2p host.
    #[arg(long)]
    seed: bool,
    /// Seed mode: TCP address to listen on (default: the discv5 IP, a free port).
    #[arg(long, requires = "seed")]
    seed_listen: Option<String>,
    /// Seed mode: IP published in the crawl's ENR (default: the listen IP).
    #[arg(long, requires = "seed")]
    seed_advertise_ip: Option<String>,
    /// Do not ask peers for records over peer exchange.
    #[arg(long)]
    no_peer_exchange: bool,
    /// Network profile.
    #[arg(long, value_enum, default_value = "waku")]
    profile: ProfileArg,
    /// Custom discv5 protocol id (6 ASCII characters); overrides --profile.
    #[arg(long)]
    protocol_id: Option<String>,
    /// Waku profile: the discv5 protocol id the network speaks (default d5waku; older
    /// nwaku releases speak discv5).
    #[arg(long, conflicts_with = "protocol_id")]
    waku_protocol_id: Option<String>,
    /// Contact only addresses in this CIDR (repeat for several); default: the scope of the
    /// bootstrap records (public, loopback or private).
    #[arg(long = "allow-cidr")]
    allow_cidr: Vec<String>,
    /// Waku cluster id [default: 1, or the preset's cluster].
    #[arg(long)]
    cluster: Option<u32>,
    /// Crawl continuously, re-enumerating every --recrawl-secs.
    #[arg(long)]
    continuous: bool,
    /// Seconds between rounds of a continuous crawl.
    #[arg(long)]
    recrawl_secs: Option<u64>,
    /// discv5 requests in flight.
    #[arg(long)]
    concurrency: Option<u32>,
    /// Most distinct nodes the crawl keeps track of; records of further nodes are dropped
    /// and counted [server default: 50000].
    #[arg(long)]
    max_peers: Option<u64>,
    /// New nodes one responder may introduce per round [server default: 512].
    #[arg(long)]
    max_new_per_responder: Option<u32>,
    /// Finish the crawl after this many seconds.
    #[arg(long)]
    max_duration_secs: Option<u64>,
    /// UDP address for the crawl's discv5 socket (server default when unset).
    #[arg(long)]
    listen: Option<String>,
    /// A name for the crawl.
    #[arg(long, default_value = "")]
    name: String,
    /// Follow progress until the crawl ends.
    #[arg(long)]
    wait: bool,
}

#[derive(Subcommand)]
pub enum PeersCommand {
    /// List peers in node-id order.
    List(ListPeersArgs),
    /// Show one peer by node id or peer id.
    Show { id: String },
}

#[derive(Args)]
pub struct ListPeersArgs {
    /// Only peers of this crawl.
    #[arg(long)]
    crawl: Option<String>,
    /// Only peers with this Waku capability.
    #[arg(long)]
    capability: Option<String>,
    /// Only peers of this cluster.
    #[arg(long)]
    cluster: Option<u32>,
    /// Only peers on this shard.
    #[arg(long)]
    shard: Option<u32>,
    /// Only peers whose identify lists this protocol.
    #[arg(long)]
    protocol: Option<String>,
    /// Only peers whose agent version starts with this.
    #[arg(long)]
    agent: Option<String>,
    /// Only reachable (true) or unreachable (false) peers.
    #[arg(long)]
    reachable: Option<bool>,
    /// Only peers geolocated in this country (name or ISO code), or of this non-public
    /// kind (loopback, private…).
    #[arg(long)]
    country: Option<String>,
    /// Only CometBFT peers whose NodeInfo names this chain id.
    #[arg(long)]
    chain_id: Option<String>,
    /// Stop after this many peers (0 = all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
}

#[derive(Args)]
pub struct TreeArgs {
    /// Domain the tree is published under.
    #[arg(long)]
    domain: String,
    /// File with the tree-signing secp256k1 key (64 hex characters); created with a new
    /// random key if it does not exist.
    #[arg(long)]
    key_file: std::path::PathBuf,
    /// Tree sequence number (raise it for every new version).
    #[arg(long, default_value_t = 1)]
    seq: u64,
    /// Only peers of this cluster.
    #[arg(long)]
    cluster: Option<u32>,
    /// Only peers with this Waku capability.
    #[arg(long)]
    capability: Option<String>,
    /// Only peers seen within this many seconds.
    #[arg(long)]
    seen_within: Option<u64>,
    /// Only peers of this crawl.
    #[arg(long)]
    crawl: Option<String>,
}

#[derive(Args)]
pub struct CountsArgs {
    /// Only this pubsub topic.
    #[arg(long, default_value = "")]
    pubsub_topic: String,
    /// Only content topics with this prefix.
    #[arg(long, default_value = "")]
    content_prefix: String,
    /// Sum rows by these dimensions (comma-separated: pubsub-topic, application,
    /// content-topic) [default: pubsub topic and content topic, as stored].
    #[arg(long, value_enum, value_delimiter = ',')]
    by: Vec<DimensionArg>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DimensionArg {
    PubsubTopic,
    Application,
    ContentTopic,
}

#[derive(Args)]
pub struct EventsArgs {
    /// Replay stored events after this sequence number first.
    #[arg(long)]
    after: Option<u64>,
    /// Keep streaming new events (otherwise stop once caught up).
    #[arg(long)]
    follow: bool,
    /// Only events of this crawl.
    #[arg(long)]
    crawl: Option<String>,
}

async fn connect(server: &ServerArg) -> anyhow::Result<Client> {
    let mut endpoint = Channel::from_shared(server.server.clone())
        .with_context(|| format!("{:?} is not a server URL", server.server))?;
    if server.server.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new();
        if let Some(ca) = &server.ca_cert {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        endpoint = endpoint.tls_config(tls)?;
    }
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach peerscope at {}", server.server))?;
    let token = match &server.token {
        Some(t) => Some(
            format!("Bearer {}", t.trim())
                .parse()
                .context("the token has characters a header cannot carry")?,
        ),
        None => None,
    };
    Ok(CrawlerClient::with_interceptor(
        channel,
        TokenInterceptor(token),
    ))
}

fn status_line(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", s.code(), s.message())
}

fn state_name(state: i32) -> &'static str {
    match pb::CrawlState::try_from(state) {
        Ok(pb::CrawlState::Running) => "running",
        Ok(pb::CrawlState::Finished) => "finished",
        Ok(pb::CrawlState::Stopped) => "stopped",
        Ok(pb::CrawlState::Failed) => "failed",
        Ok(pb::CrawlState::Interrupted) => "interrupted",
        _ => "unknown",
    }
}

fn secs(d: &Option<prost_types::Duration>) -> f64 {
    d.as_ref()
        .map(|d| d.seconds as f64 + f64::from(d.nanos) / 1e9)
        .unwrap_or(0.0)
}

fn progress_line(c: &pb::Crawl) -> String {
    let p = c.progress.clone().unwrap_or_default();
    let eta = p
        .estimated_remaining
        .map(|d| format!("  ~{:.0}s left", secs(&Some(d))))
        .unwrap_or_default();
    format!(
        "crawl {} {:<11} discovered {:>6}  queried {:>6}  queued {:>6}  unresponsive {:>5}  dialed {:>6}  connected {:>6}  failed {:>6}  round {}  {:.1}s{eta}",
        c.id,
        state_name(c.state),
        p.discovered,
        p.queried,
        p.queued,
        p.unresponsive,
        p.dials,
        p.connected,
        p.failed_by_class.values().sum::<u64>(),
        p.rounds,
        secs(&p.elapsed)
    )
}

/// Seconds between plain progress lines when stdout is not a terminal.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// A crawl's walk as a bar: nodes walked out of those known this round, and the rest of
/// the counters as its message.
fn progress_bar(id: &str) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stdout());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} crawl {prefix} [{elapsed_precise}] [{bar:30}] {pos}/{len} walked  {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(id.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn update_bar(bar: &indicatif::ProgressBar, c: &pb::Crawl) {
    let p = c.progress.clone().unwrap_or_default();
    bar.set_length(p.queried + p.queued + p.in_flight);
    bar.set_position(p.queried);
    let eta = p
        .estimated_remaining
        .map(|d| format!("  ~{:.0}s left", secs(&Some(d))))
        .unwrap_or_default();
    bar.set_message(format!(
        "{}  discovered {}  dialed {}  connected {}  failed {}{eta}",
        state_name(c.state),
        p.discovered,
        p.dials,
        p.connected,
        p.failed_by_class.values().sum::<u64>(),
    ));
}

/// Follows a crawl until it ends: a progress bar on a terminal, a plain progress line
/// every few seconds otherwise (and the final line either way), or one JSON object per
/// snapshot with `--json`.
async fn watch(client: &mut Client, id: &str, json: bool) -> anyhow::Result<pb::Crawl> {
    let mut stream = client
        .watch_crawl(pb::WatchCrawlRequest {
            crawl_id: id.into(),
            interval: Some(prost_types::Duration {
                seconds: 0,
                nanos: 250_000_000,
            }),
        })
        .await
        .map_err(status_line)?
        .into_inner();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let bar = (tty && !json).then(|| progress_bar(id));
    let mut last: Option<pb::Crawl> = None;
    let mut printed: Option<std::time::Instant> = None;
    while let Some(msg) = stream.next().await {
        let crawl = match msg {
            Ok(m) => m.crawl.unwrap_or_default(),
            Err(e) => {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                return Err(status_line(e));
            }
        };
        if json {
            print_json(&crawl, CRAWL);
        } else if let Some(bar) = &bar {
            update_bar(bar, &crawl);
        } else if crawl.state == pb::CrawlState::Running as i32
            && printed.is_none_or(|t| t.elapsed() >= PLAIN_PROGRESS_EVERY)
        {
            println!("{}", progress_line(&crawl));
            printed = Some(std::time::Instant::now());
        }
        last = Some(crawl);
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let last = last.context("the server sent no snapshot")?;
    if !json {
        println!("{}", progress_line(&last));
    }
    std::io::stdout().flush().ok();
    Ok(last)
}

const CRAWL: &str = "peerscope.v1.Crawl";

pub async fn crawl(server: ServerArg, cmd: CrawlCommand) -> anyhow::Result<()> {
    let mut client = connect(&server).await?;
    let json = server.json;
    match cmd {
        CrawlCommand::Start(a) => {
            use pb::network_profile::Profile;
            let mut bootstrap = a.bootstrap;
            if let Some(path) = &a.bootstrap_file {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading --bootstrap-file {}", path.display()))?;
                let before = bootstrap.len();
                bootstrap.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(String::from),
                );
                if bootstrap.len() == before {
                    bail!("--bootstrap-file {} holds no ENR", path.display());
                }
            }
            let profile = match (&a.protocol_id, a.profile) {
                (Some(id), _) => Profile::Custom(pb::CustomProfile {
                    protocol_id: id.clone(),
                }),
                (None, ProfileArg::Waku) => Profile::Waku(pb::WakuProfile {
                    // 0 lets the preset's cluster apply.
                    cluster_id: a.cluster.unwrap_or(if a.preset.is_some() { 0 } else { 1 }),
                    shards: vec![],
                    preset: a.preset.clone().unwrap_or_default(),
                    protocol_id: a.waku_protocol_id.clone().unwrap_or_default(),
                }),
                (None, ProfileArg::Ethereum) => Profile::Ethereum(pb::EthereumProfile {}),
            };
            let req = pb::StartCrawlRequest {
                profile: Some(pb::NetworkProfile {
                    profile: Some(profile),
                }),
                bootstrap_enrs: bootstrap,
                dns_tree_urls: a.dns_tree,
                peer_exchange: (a.seed || a.no_peer_exchange).then(|| pb::PeerExchangeOptions {
                    client: a.no_peer_exchange.then_some(false),
                    interval: None,
                    seed: a.seed.then(|| pb::SeedOptions {
                        listen_addr: a.seed_listen.clone().unwrap_or_default(),
                        advertise_ip: a.seed_advertise_ip.clone().unwrap_or_default(),
                        requester_interval: None,
                        requests_per_ip: None,
                    }),
                }),
                mode: if a.continuous {
                    pb::CrawlMode::Continuous
                } else {
                    pb::CrawlMode::Oneshot
                } as i32,
                recrawl_interval: a.recrawl_secs.map(|s| prost_types::Duration {
                    seconds: s as i64,
                    nanos: 0,
                }),
                concurrency: a.concurrency,
                limits: (a.max_peers.is_some()
                    || a.max_new_per_responder.is_some()
                    || a.max_duration_secs.is_some())
                .then(|| pb::CrawlLimits {
                    max_peers: a.max_peers.unwrap_or(0),
                    max_duration: a.max_duration_secs.map(|s| prost_types::Duration {
                        seconds: s as i64,
                        nanos: 0,
                    }),
                    max_new_per_responder: a.max_new_per_responder,
                }),
                listen_addr: a.listen.unwrap_or_default(),
                name: a.name,
                allowed_cidrs: a.allow_cidr,
                ..Default::default()
            };
            let crawl = client
                .start_crawl(req)
                .await
                .map_err(status_line)?
                .into_inner()
                .crawl
                .unwrap_or_default();
            emit(json, &crawl, CRAWL, || {
                format!("crawl {} started on {}", crawl.id, crawl.listen_addr)
            });
            if !json && !crawl.seed_addr.is_empty() {
                println!(
                    "serving peer exchange on {} as {}",
                    crawl.seed_addr, crawl.local_enr
                );
            }
            if a.wait {
                let done = watch(&mut client, &crawl.id, json).await?;
                if done.state == pb::CrawlState::Failed as i32 {
                    bail!("crawl {} failed: {}", done.id, done.error);
                }
            }
        }
        CrawlCommand::Stop { id } => {
            let c = client
                .stop_crawl(pb::StopCrawlRequest { crawl_id: id })
                .await
                .map_err(status_line)?
                .into_inner()
                .crawl
                .unwrap_or_default();
            emit(json, &c, CRAWL, || progress_line(&c));
        }
        CrawlCommand::List => {
            let mut token = String::new();
            let mut table = Table::new(&[
                ("ID", false),
                ("NAME", false),
                ("MODE", false),
                ("STATE", false),
                ("DISCOVERED", true),
                ("DIALED", true),
                ("CONNECTED", true),
                ("FAILED", true),
                ("ELAPSED", true),
                ("CREATED", false),
            ]);
            loop {
                let page = client
                    .list_crawls(pb::ListCrawlsRequest {
                        page_token: token.clone(),
                        ..Default::default()
                    })
                    .await
                    .map_err(status_line)?
                    .into_inner();
                for c in &page.crawls {
                    if json {
                        print_json(c, CRAWL);
                        continue;
                    }
                    let p = c.progress.clone().unwrap_or_default();
                    table.row(vec![
                        c.id.clone(),
                        c.name.clone(),
                        pb::CrawlMode::try_from(c.mode)
                            .map(|m| {
                                m.as_str_name()
                                    .trim_start_matches("CRAWL_MODE_")
                                    .to_lowercase()
                            })
                            .unwrap_or_default(),
                        state_name(c.state).to_string(),
                        p.discovered.to_string(),
                        p.dials.to_string(),
                        p.connected.to_string(),
                        p.failed_by_class.values().sum::<u64>().to_string(),
                        format!("{:.1}s", secs(&p.elapsed)),
                        c.created_at.as_ref().map(timestamp).unwrap_or_default(),
                    ]);
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
            if !json {
                table.print();
            }
        }
        CrawlCommand::Show { id } => {
            let c = client
                .get_crawl(pb::GetCrawlRequest { crawl_id: id })
                .await
                .map_err(status_line)?
                .into_inner()
                .crawl
                .unwrap_or_default();
            if json {
                print_json(&c, CRAWL);
                return Ok(());
            }
            println!("{}", progress_line(&c));
            let p = c.progress.clone().unwrap_or_default();
            println!(
                "  FINDNODE requests {} (failed {}), lookups {}, ENR updates {}, identified {}",
                p.find_node_requests, p.find_node_failures, p.lookups, p.enr_updates, p.identified
            );
            if c.settings.as_ref().is_some_and(|s| s.relay) {
                println!(
                    "  relay: {} peers, smallest mesh {}, {} messages counted",
                    p.relay_peers, p.relay_mesh_peers, p.messages
                );
            }
            for (class, n) in &p.failed_by_class {
                println!("  dials failed ({class}): {n}");
            }
            if !c.error.is_empty() {
                println!("  error: {}", c.error);
            }
        }
        CrawlCommand::Watch { id } => {
            watch(&mut client, &id, json).await?;
        }
    }
    Ok(())
}

/// A table printed with a header row and aligned columns; cells are cut to [`MAX_CELL`]
/// characters with `…`.
struct Table {
    /// (title, right-aligned)
    columns: Vec<(&'static str, bool)>,
    rows: Vec<Vec<String>>,
}

/// Widest a cell is printed.
const MAX_CELL: usize = 40;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Table {
    fn new(columns: &[(&'static str, bool)]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; empty cells print as `-`.
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| {
                    if c.is_empty() {
                        "-".into()
                    } else {
                        cut(&c, MAX_CELL)
                    }
                })
                .collect(),
        );
    }

    /// The header and the rows as lines (trailing spaces trimmed).
    fn lines(&self) -> Vec<String> {
        let mut widths: Vec<usize> = self.columns.iter().map(|(t, _)| t.len()).collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let mut out = String::new();
            for (i, ((c, (_, right)), w)) in
                cells.iter().zip(&self.columns).zip(&widths).enumerate()
            {
                if i > 0 {
                    out.push_str("  ");
                }
                let pad = w.saturating_sub(c.chars().count());
                if *right {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    out.push_str(&" ".repeat(pad));
                }
            }
            out.trim_end().to_string()
        };
        let mut out = vec![line(self.columns.iter().map(|(t, _)| *t).collect())];
        for r in &self.rows {
            out.push(line(r.iter().map(String::as_str).collect()));
        }
        out
    }

    fn print(&self) {
        for l in self.lines() {
            println!("{l}");
        }
    }
}

fn timestamp(t: &prost_types::Timestamp) -> String {
    let secs = t.seconds.max(0) as u64;
    let days = secs / 86_400;
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}Z")
}

/// The columns of `peers list`.
const PEER_COLUMNS: [(&str, bool); 10] = [
    ("NODE ID", false),
    ("PEER ID", false),
    ("ADDRESS", false),
    ("REACHABLE", false),
    ("AGENT", false),
    ("RTT", true),
    ("LAST ERROR", false),
    ("COUNTRY", false),
    ("CLUSTER/SHARDS", false),
    ("CAPABILITIES", false),
];

fn peer_cells(p: &pb::Peer) -> Vec<String> {
    let f = p.enr_fields.clone().unwrap_or_default();
    let short_peer = if p.peer_id.len() > 20 {
        format!("{}…{}", &p.peer_id[..12], &p.peer_id[p.peer_id.len() - 6..])
    } else {
        p.peer_id.clone()
    };
    let address = if !f.ip4.is_empty() {
        format!("{}:{}", f.ip4, if f.tcp4 > 0 { f.tcp4 } else { f.udp4 })
    } else if !f.ip6.is_empty() {
        format!("[{}]:{}", f.ip6, if f.tcp6 > 0 { f.tcp6 } else { f.udp6 })
    } else {
        "-".into()
    };
    let shards = p
        .shards
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    vec![
        p.node_id[..16.min(p.node_id.len())].to_string(),
        short_peer,
        address,
        match p.reachable {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "not dialed".into(),
        },
        or_dash(&p.agent_version),
        p.rtt_avg
            .map(|d| format!("{:.1}ms", secs(&Some(d)) * 1000.0))
            .unwrap_or_else(|| "-".into()),
        or_dash(&p.last_error_class),
        p.geo
            .as_ref()
            .map(|g| {
                or_dash(if g.country_code.is_empty() {
                    &g.country
                } else {
                    &g.country_code
                })
            })
            .unwrap_or_else(|| "-".into()),
        match p.cluster_id {
            Some(c) => format!("{c}/{}", or_dash(&shards)),
            None => "-".into(),
        },
        or_dash(&p.capabilities.join(",")),
    ]
}

const PEER: &str = "peerscope.v1.Peer";

pub async fn peers(server: ServerArg, cmd: PeersCommand) -> anyhow::Result<()> {
    let mut client = connect(&server).await?;
    match cmd {
        PeersCommand::List(a) => {
            let mut token = String::new();
            let mut shown = 0usize;
            let mut table = Table::new(&PEER_COLUMNS);
            'pages: loop {
                let page = client
                    .list_peers(pb::ListPeersRequest {
                        page_size: 500,
                        page_token: token.clone(),
                        capability: a.capability.clone().unwrap_or_default(),
                        cluster_id: a.cluster,
                        shard: a.shard,
                        crawl_id: a.crawl.clone().unwrap_or_default(),
                        protocol: a.protocol.clone().unwrap_or_default(),
                        agent: a.agent.clone().unwrap_or_default(),
                        reachable: a.reachable,
                        seen_since: None,
                        country: a.country.clone().unwrap_or_default(),
                        chain_id: a.chain_id.clone().unwrap_or_default(),
                    })
                    .await
                    .map_err(status_line)?
                    .into_inner();
                for p in &page.peers {
                    if server.json {
                        print_json(p, PEER);
                    } else {
                        table.row(peer_cells(p));
                    }
                    shown += 1;
                    if a.limit > 0 && shown >= a.limit {
                        break 'pages;
                    }
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
            if !server.json {
                table.print();
                eprintln!("{shown} peers");
            }
        }
        PeersCommand::Show { id } => {
            use pb::get_peer_request::Key;
            let key = if id.len() == 64 || id.starts_with("0x") {
                Key::NodeId(id)
            } else {
                Key::PeerId(id)
            };
            let p = client
                .get_peer(pb::GetPeerRequest { key: Some(key) })
                .await
                .map_err(status_line)?
                .into_inner()
                .peer
                .unwrap_or_default();
            // Every field, indented, for people; one line for scripts.
            emit(server.json, &p, PEER, || {
                serde_json::to_string_pretty(&peerscope::proto::to_json(&p, PEER))
                    .unwrap_or_default()
            });
        }
    }
    Ok(())
}

pub async fn events(server: ServerArg, a: EventsArgs) -> anyhow::Result<()> {
    let mut client = connect(&server).await?;
    let mut stream = client
        .stream_peer_events(pb::StreamPeerEventsRequest {
            after_sequence: Some(a.after.unwrap_or(0)).filter(|_| a.after.is_some() || !a.follow),
            crawl_id: a.crawl.unwrap_or_default(),
            ..Default::default()
        })
        .await
        .map_err(status_line)?
        .into_inner();
    if !server.json {
        println!(
            "{:>8}  {:<5} {:<20} {:<64}  {:>6}  DETAIL",
            "SEQUENCE", "CRAWL", "KIND", "NODE ID", "ENR SEQ"
        );
    }
    loop {
        let next = if a.follow {
            stream.next().await
        } else {
            // Without --follow, stop once the stored events are printed.
            tokio::time::timeout(Duration::from_millis(500), stream.next())
                .await
                .unwrap_or_default()
        };
        let Some(msg) = next else { break };
        let ev = msg.map_err(status_line)?.event.unwrap_or_default();
        if server.json {
            print_json(&ev, "peerscope.v1.PeerEvent");
            continue;
        }
        let kind = pb::PeerEventKind::try_from(ev.kind)
            .map(|k| {
                k.as_str_name()
                    .trim_start_matches("PEER_EVENT_KIND_")
                    .to_string()
            })
            .unwrap_or_else(|_| ev.kind.to_string());
        let detail = if ev.error_class.is_empty() {
            ev.detail.clone()
        } else {
            format!("{}: {}", ev.error_class, ev.detail)
        };
        println!(
            "{:>8}  {:<5} {:<20} {:<64}  {:>7}  {}",
            ev.sequence,
            ev.crawl_id,
            kind,
            ev.node_id,
            ev.enr_seq,
            cut(&detail, 80)
        );
    }
    Ok(())
}

pub async fn counts(server: ServerArg, a: CountsArgs) -> anyhow::Result<()> {
    let mut client = connect(&server).await?;
    let r = client
        .get_message_counts(pb::GetMessageCountsRequest {
            pubsub_topic: a.pubsub_topic,
            content_topic_prefix: a.content_prefix,
            group_by: a
                .by
                .iter()
                .map(|d| match d {
                    DimensionArg::PubsubTopic => pb::MessageDimension::PubsubTopic,
                    DimensionArg::Application => pb::MessageDimension::Application,
                    DimensionArg::ContentTopic => pb::MessageDimension::ContentTopic,
                } as i32)
                .collect(),
            ..Default::default()
        })
        .await
        .map_err(status_line)?
        .into_inner();
    if server.json {
        print_json(&r, "peerscope.v1.GetMessageCountsResponse");
        return Ok(());
    }
    let grouped = !a.by.is_empty();
    let show = |d: DimensionArg| {
        !grouped
            || a.by
                .iter()
                .any(|b| std::mem::discriminant(b) == std::mem::discriminant(&d))
    };
    let mut columns = Vec::new();
    if show(DimensionArg::PubsubTopic) {
        columns.push(("PUBSUB TOPIC", false));
    }
    let app = grouped && show(DimensionArg::Application);
    if app {
        columns.push(("APPLICATION", false));
    }
    if show(DimensionArg::ContentTopic) {
        columns.push(("CONTENT TOPIC", false));
    }
    columns.extend([("MESSAGES", true), ("BYTES", true), ("MSG/MIN", true)]);
    if grouped {
        columns.push(("CONTENT TOPICS", true));
    }
    let mut table = Table::new(&columns);
    for c in &r.counts {
        let mut row = Vec::new();
        if show(DimensionArg::PubsubTopic) {
            row.push(c.pubsub_topic.clone());
        }
        if app {
            row.push(c.application.clone());
        }
        if show(DimensionArg::ContentTopic) {
            row.push(c.content_topic.clone());
        }
        row.extend([
            c.messages.to_string(),
            c.bytes.to_string(),
            format!("{:.1}", c.messages_per_minute),
        ]);
        if grouped {
            row.push(c.content_topics.to_string());
        }
        table.row(row);
    }
    table.print();
    if !r.undecodable.is_empty() {
        let mut t = Table::new(&[
            ("PUBSUB TOPIC", false),
            ("UNDECODABLE MESSAGES", true),
            ("BYTES", true),
        ]);
        for u in &r.undecodable {
            t.row(vec![
                u.pubsub_topic.clone(),
                u.messages.to_string(),
                u.bytes.to_string(),
            ]);
        }
        println!();
        t.print();
    }
    eprintln!(
        "{} rows; at most {} content topics per pubsub topic, the rest under (other)",
        r.counts.len(),
        r.max_content_topics
    );
    Ok(())
}

/// Reads or creates the tree-signing key.
fn tree_key(path: &std::path::Path) -> anyhow::Result<k256::ecdsa::SigningKey> {
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .with_context(|| format!("{} does not hold hex", path.display()))?;
        return k256::ecdsa::SigningKey::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{} is not a secp256k1 key: {e}", path.display()));
    }
    let key = peerscope::protocol::dns::random_signing_key();
    std::fs::write(path, hex::encode(key.to_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("created a new tree key in {}", path.display());
    Ok(key)
}

pub async fn tree(server: ServerArg, a: TreeArgs) -> anyhow::Result<()> {
    let key = tree_key(&a.key_file)?;
    let mut client = connect(&server).await?;
    let seen_since = a.seen_within.map(|s| {
        let t = std::time::SystemTime::now() - Duration::from_secs(s);
        let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        prost_types::Timestamp {
            seconds: d.as_secs() as i64,
            nanos: 0,
        }
    });
    let mut enrs = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_peers(pb::ListPeersRequest {
                page_size: 1000,
                page_token: token.clone(),
                capability: a.capability.clone().unwrap_or_default(),
                cluster_id: a.cluster,
                crawl_id: a.crawl.clone().unwrap_or_default(),
                seen_since,
                // Vetted peers only: the last dial connected.
                reachable: Some(true),
                ..Default::default()
            })
            .await
            .map_err(status_line)?
            .into_inner();
        for p in &page.peers {
            match peerscope::protocol::enr::parse_enr(&p.enr) {
                Ok(e) => enrs.push(e),
                Err(e) => eprintln!("skipping {}: {e}", p.node_id),
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    if enrs.is_empty() {
        bail!("no vetted peer matches the filters: nothing to publish");
    }
    let tree = peerscope::protocol::dns::build_tree(&enrs, &[], a.seq, &key, &a.domain)
        .map_err(|e| anyhow::anyhow!(e))?;
    eprintln!(
        "{} records; publish the zone below, then use {}",
        enrs.len(),
        tree.url
    );
    print!("{}", tree.zone_file());
    println!("; {}", tree.url);
    Ok(())
}

#[derive(Args)]
pub struct StatsArgs {
    /// Only the peers of this crawl (default: the whole store).
    #[arg(long)]
    crawl: Option<String>,
    /// Print every entry of each section (default: the largest ones).
    #[arg(long)]
    all: bool,
    /// Entries per section without --all.
    #[arg(long, default_value_t = 5)]
    top: usize,
}

/// Prints `title`, then one `count  key` line per entry, largest first: `top` of them (all
/// with `None`), and how many more there are.
fn print_counts<K: std::fmt::Display>(
    title: &str,
    map: impl IntoIterator<Item = (K, u64)>,
    top: Option<usize>,
) {
    let mut rows: Vec<(String, u64)> = map.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("{title} ({} distinct):", rows.len());
    let shown = top.unwrap_or(rows.len()).min(rows.len());
    for (k, n) in &rows[..shown] {
        println!("  {n:>8}  {k}");
    }
    if shown < rows.len() {
        let rest: u64 = rows[shown..].iter().map(|(_, n)| n).sum();
        println!(
            "  {rest:>8}  … {} more (--all shows every entry)",
            rows.len() - shown
        );
    }
}

pub async fn stats(server: ServerArg, a: StatsArgs) -> anyhow::Result<()> {
    let mut client = connect(&server).await?;
    let r = client
        .get_network_stats(pb::GetNetworkStatsRequest {
            crawl_id: a.crawl.unwrap_or_default(),
        })
        .await
        .map_err(status_line)?
        .into_inner();
    if server.json {
        print_json(&r, "peerscope.v1.GetNetworkStatsResponse");
        return Ok(());
    }
    println!(
        "{} peers: {} reachable, {} unreachable, {} not dialed; {} without Waku capabilities",
        r.peers, r.reachable, r.unreachable, r.not_dialed, r.without_capabilities
    );
    let top = (!a.all).then_some(a.top);
    print_counts("record kinds", r.by_record_kind, top);
    print_counts("capabilities (ENR)", r.by_capability, top);
    print_counts("clusters (ENR, cluster id)", r.by_cluster, top);
    print_counts(
        "shards (ENR, cluster/shard)",
        r.by_shard
            .iter()
            .map(|s| (format!("{}/{}", s.cluster_id, s.shard), s.peers)),
        top,
    );
    print_counts(
        "shards (metadata, cluster/shard)",
        r.by_metadata_shard
            .iter()
            .map(|s| (format!("{}/{}", s.cluster_id, s.shard), s.peers)),
        top,
    );
    print_counts("fork digests (eth2)", r.by_fork_digest, top);
    print_counts("protocols (identify)", r.by_protocol, top);
    print_counts("agents (identify)", r.by_agent, top);
    print_counts("unreachable by error class", r.by_error_class, top);
    print_counts("countries", r.by_country, top);
    print_counts("sources", r.by_source, top);
    if !r.by_pubsub_topic.is_empty() {
        println!("relay traffic:");
        let mut t = Table::new(&[
            ("PUBSUB TOPIC", false),
            ("MESSAGES", true),
            ("BYTES", true),
            ("CONTENT TOPICS", true),
            ("UNDECODABLE", true),
        ]);
        let mut topics = r.by_pubsub_topic.clone();
        topics.sort_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then_with(|| a.pubsub_topic.cmp(&b.pubsub_topic))
        });
        let shown = top.unwrap_or(topics.len()).min(topics.len());
        for x in &topics[..shown] {
            t.row(vec![
                x.pubsub_topic.clone(),
                x.messages.to_string(),
                x.bytes.to_string(),
                x.content_topics.to_string(),
                x.undecodable.to_string(),
            ]);
        }
        for l in t.lines() {
            println!("  {l}");
        }
        if shown < topics.len() {
            println!(
                "  … {} more (--all shows every entry)",
                topics.len() - shown
            );
        }
    }
    Ok(())
}

/// `peerscope sink`: the PostgreSQL export's status (GetSinkStatus).
pub async fn sink(server: ServerArg) -> anyhow::Result<()> {
    let mut client = connect(&server).await?;
    let r = client
        .get_sink_status(pb::GetSinkStatusRequest {})
        .await
        .map_err(status_line)?
        .into_inner();
    if server.json {
        print_json(&r, "peerscope.v1.GetSinkStatusResponse");
        return Ok(());
    }
    if !r.enabled {
        println!("no sink: the server runs without --sink");
        return Ok(());
    }
    println!(
        "vantage {} -> {}: {}",
        r.vantage,
        r.database,
        if r.connected {
            "connected"
        } else {
            "not connected"
        }
    );
    println!(
        "waiting: {} events, {} feed entries, {} changed rows{}",
        r.lag_events,
        r.lag_feed,
        r.pending_changes,
        if r.caught_up { " (caught up)" } else { "" }
    );
    println!(
        "events exported up to sequence {} of {}; {} batches, {} errors, {} backfills since start",
        r.exported_event_sequence, r.last_event_sequence, r.batches, r.errors, r.backfills
    );
    if !r.last_error.is_empty() {
        println!("last error: {}", r.last_error);
    }
    print_counts("rows written since start", r.rows, None);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_under_their_headers_and_cut_long_cells() {
        let mut t = Table::new(&[("NAME", false), ("N", true)]);
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["x".repeat(50), "12345".into()]);
        let lines = t.lines();
        assert_eq!(lines[0], format!("NAME{}      N", " ".repeat(MAX_CELL - 4)));
        assert_eq!(lines[1], format!("a{}      1", " ".repeat(MAX_CELL - 1)));
        assert_eq!(lines[2].chars().count(), MAX_CELL + 2 + 5);
        assert!(lines[2].contains('…'));
    }

    #[test]
    fn timestamps_print_as_utc() {
        let t = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        };
        assert_eq!(timestamp(&t), "2023-11-14 22:13:20Z");
        let t = prost_types::Timestamp {
            seconds: 951_782_400,
            nanos: 0,
        };
        assert_eq!(timestamp(&t), "2000-02-29 00:00:00Z");
    }
}
