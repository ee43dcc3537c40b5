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
    let mut last = None;
    while let Some(msg) = stream.next().await {
        let crawl = msg.map_err(status_line)?.crawl.unwrap_or_default();
        if json {
            print_json(&crawl, CRAWL);
        } else if tty {
            print!("\r{}", progress_line(&crawl));
            std::io::stdout().flush().ok();
        }
        last = Some(crawl);
    }
    let last = last.context("the server sent no snapshot")?;
    if json {
    } else if tty {
        println!();
    } else {
        println!("{}", progress_line(&last));
    }
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
                listen_addr: a.listen.unwrap_or_default(),
                name: a.name,
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
                    emit(json, c, CRAWL, || {
                        format!("{}  {}", progress_line(c), c.name)
                    });
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
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

fn peer_row(p: &pb::Peer) -> String {
    let f = p.enr_fields.clone().unwrap_or_default();
    let shards = p
        .shards
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "{}  {:<53}  {:>15}:{:<5}  cluster {:<5} shards {:<12} {:<8} {}",
        &p.node_id[..16.min(p.node_id.len())],
        p.peer_id,
        f.ip4,
        f.udp4,
        p.cluster_id
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
        if shards.is_empty() {
            "-".into()
        } else {
            shards
        },
        p.geo
            .as_ref()
            .map(|g| if g.country_code.is_empty() {
                g.country.clone()
            } else {
                g.country_code.clone()
            })
            .unwrap_or_else(|| "-".into()),
        p.capabilities.join(",")
    )
}

const PEER: &str = "peerscope.v1.Peer";

pub async fn peers(server: ServerArg, cmd: PeersCommand) -> anyhow::Result<()> {
    let mut client = connect(&server).await?;
    match cmd {
        PeersCommand::List(a) => {
            let mut token = String::new();
            let mut shown = 0usize;
            loop {
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
                    })
                    .await
                    .map_err(status_line)?
                    .into_inner();
                for p in &page.peers {
                    emit(server.json, p, PEER, || peer_row(p));
                    shown += 1;
                    if a.limit > 0 && shown >= a.limit {
                        return Ok(());
                    }
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
            if !server.json {
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
        println!(
            "{:>8}  crawl {:<4} {:<12} {}  seq {}",
            ev.sequence, ev.crawl_id, kind, ev.node_id, ev.enr_seq
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
            ..Default::default()
        })
        .await
        .map_err(status_line)?
        .into_inner();
    if server.json {
        print_json(&r, "peerscope.v1.GetMessageCountsResponse");
        return Ok(());
    }
    println!(
        "{:<22} {:<40} {:>10} {:>12} {:>10}",
        "pubsub topic", "content topic", "messages", "bytes", "msg/min"
    );
    for c in &r.counts {
        println!(
            "{:<22} {:<40} {:>10} {:>12} {:>10.1}",
            c.pubsub_topic, c.content_topic, c.messages, c.bytes, c.messages_per_minute
        );
    }
    for u in &r.undecodable {
        println!(
            "{:<22} {:<40} {:>10} {:>12}",
            u.pubsub_topic, "(undecodable)", u.messages, u.bytes
        );
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
}

/// Prints `title`, then one `count  key` line per entry, largest first.
fn print_counts<K: std::fmt::Display>(title: &str, map: impl IntoIterator<Item = (K, u64)>) {
    let mut rows: Vec<(String, u64)> = map.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("{title}:");
    for (k, n) in rows {
        println!("  {n:>8}  {k}");
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
    print_counts("record kinds", r.by_record_kind);
    print_counts("capabilities (ENR)", r.by_capability);
    print_counts("clusters (ENR)", r.by_cluster);
    print_counts(
        "shards (ENR)",
        r.by_shard
            .iter()
            .map(|s| (format!("{}/{}", s.cluster_id, s.shard), s.peers)),
    );
    print_counts(
        "shards (metadata)",
        r.by_metadata_shard
            .iter()
            .map(|s| (format!("{}/{}", s.cluster_id, s.shard), s.peers)),
    );
    print_counts("fork digests (eth2)", r.by_fork_digest);
    print_counts("protocols (identify)", r.by_protocol);
    print_counts("agents (identify)", r.by_agent);
    print_counts("unreachable by error class", r.by_error_class);
    if !r.by_pubsub_topic.is_empty() {
        println!("relay traffic:");
        for t in &r.by_pubsub_topic {
            println!(
                "  {:<22} {:>10} messages {:>12} bytes  {} content topics  {} undecodable",
                t.pubsub_topic, t.messages, t.bytes, t.content_topics, t.undecodable
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
    print_counts("rows written since start", r.rows);
    Ok(())
}
