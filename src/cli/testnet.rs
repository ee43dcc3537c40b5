//! `peerscope testnet`: starts a loopback network of discv5 (and libp2p) nodes, prints how
//! to crawl it, and keeps it running: status lines, relay traffic (`--publish-rate`),
//! churn (`--churn`), an EIP-1459 tree over DNS (`--dns`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use rand::SeedableRng as _;

use peerscope::config::LogFormat;
use peerscope::testnet::{Testnet, TestnetConfig, STATUS_INTERVAL};

/// Options of `peerscope testnet`.
#[derive(clap::Args)]
pub struct TestnetArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 64)]
    pub nodes: usize,
    /// Random extra neighbours per node (besides its ring successor).
    #[arg(long, default_value_t = 6)]
    pub degree: usize,
    /// Seed of the capability/cluster/shard assignment.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Bootstrap ENRs to print.
    #[arg(long, default_value_t = 1)]
    pub bootstrap: usize,
    /// discv5 protocol id (6 ASCII characters).
    #[arg(long, default_value = "d5waku")]
    pub protocol_id: String,
    /// Share of nodes (0.0..=1.0) that advertise TCP in their ENR but do not listen.
    #[arg(long, default_value_t = 0.0)]
    pub down: f64,
    /// Run discv5 only (no libp2p swarms, no TCP in the ENRs).
    #[arg(long)]
    pub no_libp2p: bool,
    /// Relay messages per second to publish from random relay nodes on their pubsub topics
    /// (0: none). What was published is printed with every status line.
    #[arg(long, default_value_t = 0.0)]
    pub publish_rate: f64,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Also serve the bootstrap ENRs as a signed EIP-1459 tree from a DNS server on
    /// 127.0.0.1 (prints its enrtree:// URL and the server address).
    #[arg(long)]
    pub dns: bool,
    /// Every libp2p node serves Waku peer exchange (answering with the records of the
    /// nodes it knows).
    #[arg(long)]
    pub peer_exchange: bool,
    /// Extra nodes reachable only through peer exchange: libp2p only, no discv5 (implies
    /// --peer-exchange).
    #[arg(long, default_value_t = 0)]
    pub px_only: usize,
    /// Give nodes Ethereum consensus keys (eth2, attnets, syncnets) instead of Waku keys;
    /// use with --protocol-id discv5.
    #[arg(long)]
    pub eth2: bool,
    /// Shape the network as Waku networks that predate sharding: relay on the named topic
    /// /waku/2/default-waku/proto, records without `rs`, no metadata served or asked.
    #[arg(long)]
    pub named_topic: bool,
    /// Churn: every --churn-every seconds this many nodes leave the network (discv5 and
    /// libp2p stop) and the ones that left the step before come back with the same
    /// identity, record and ports. Bootstrap nodes never leave. 0: no churn.
    #[arg(long, default_value_t = 0)]
    pub churn: usize,
    /// Seconds between churn steps.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub churn_every: u64,
    /// Hostile nodes to add, as KIND=N[,KIND=N...] with kinds silent (accepts TCP, never
    /// speaks), stall (stalls mid-handshake), big-identify (identify larger than sane),
    /// flood (relay peer flooding garbage), wrong-key (libp2p key is not the ENR's),
    /// junk-enrs (discv5 answers with junk records) and endless-enrs (discv5 answers every
    /// FINDNODE with freshly minted records); at most 16 per kind.
    #[arg(long, default_value = "")]
    pub hostile: peerscope::testnet::hostile::HostileCounts,
    /// Records of nodes that never answer (a UDP port on 127.0.0.1 with nothing behind
    /// it) to place in live nodes' tables, each in 3 of them, as real networks carry stale
    /// entries.
    #[arg(long, default_value_t = 0)]
    pub dead: usize,
    /// Give the last this many nodes node ids sharing their first 10 bits (nodes close to
    /// one another, in low buckets of each other's tables).
    #[arg(long, default_value_t = 0)]
    pub clustered: usize,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
    /// Run a CometBFT network instead (Tendermint P2P, PEX): `--nodes` nodes, `--down` of
    /// them down, `--chain-b` on another chain, `--abusive` answering PEX abusively;
    /// prints their `id@127.0.0.1:port` addresses.
    #[arg(long)]
    pub cometbft: bool,
    /// With --cometbft: nodes on the second chain (`testchain-b`).
    #[arg(long, default_value_t = 0, requires = "cometbft")]
    pub chain_b: usize,
    /// With --cometbft: nodes answering PEX with oversized or malformed lists.
    #[arg(long, default_value_t = 0, requires = "cometbft")]
    pub abusive: usize,
    /// Once every node is up, write the bootstrap ENRs to this file, one per line (for
    /// `peerscope crawl start --bootstrap-file`). Written atomically.
    #[arg(long)]
    pub enr_file: Option<PathBuf>,
}

/// Runs the testnet until a signal or `--duration`, printing its status.
pub async fn run(args: TestnetArgs) -> anyhow::Result<()> {
    crate::init_tracing(LogFormat::Text, crate::TESTNET_LOG);
    if args.cometbft {
        let shape = crate::cli::cometbft::TestnetShape {
            nodes: args.nodes,
            chain_b: args.chain_b,
            down: (args.down * args.nodes as f64).round() as usize,
            abusive: args.abusive,
            degree: args.degree,
            seed: args.seed,
        };
        return crate::cli::cometbft::testnet(
            shape,
            args.json,
            args.duration.map(Duration::from_secs),
        )
        .await;
    }
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
        named_topic: args.named_topic,
        hostile: args.hostile,
        clustered: args.clustered,
        dead: args.dead,
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
            "dead": net.dead(),
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
        for (i, d) in net.dead().iter().enumerate() {
            println!(
                "dead record {i}: node {}, udp {} (never answers), held by nodes {:?}",
                d.node_id, d.udp, d.held_by
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
            _ = crate::shutdown_signal() => break,
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
