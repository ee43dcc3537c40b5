//! EIP-1459 trees served by a real DNS server on 127.0.0.1 and resolved over UDP with real
//! signatures. Names are under the reserved `.test` domain and only the loopback server is
//! ever asked.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::time::Duration;

use enr::CombinedKey;
use k256::ecdsa::SigningKey;
use libp2p::Multiaddr;
use peerscope::protocol::dns::{
    build_tree, resolve_all, resolve_all_report, resolve_tree, subdomain_hash, BuiltTree,
    DnsClient, DnsError, Entry, ResolverSettings, Root, TreeUrl,
};
use peerscope::protocol::enr::{build_waku_enr, Enr, Waku2};
use peerscope::testnet::dns::TreeServer;
use rand::Rng;

use crate::common::within;

/// Bound on every test's DNS work.
const LIMIT: Duration = Duration::from_secs(30);

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A random tree-signing key.
fn signing_key() -> SigningKey {
    loop {
        let bytes: [u8; 32] = rand::thread_rng().gen();
        // All but a negligible share of 32-byte strings are valid scalars.
        if let Ok(key) = SigningKey::from_slice(&bytes) {
            return key;
        }
    }
}

/// `n` Waku records with random keys on 127.0.0.1; every other one also carries two
/// `multiaddrs`, which makes its text longer than one 255-byte DNS character-string.
fn waku_enrs(n: usize) -> Vec<Enr> {
    let wss: Vec<Multiaddr> = [
        "/dns4/node-01.do-ams3.waku.sandbox.peerscope.test/tcp/30303",
        "/dns4/node-01.do-ams3.waku.sandbox.peerscope.test/tcp/8000/wss",
    ]
    .iter()
    .map(|a| a.parse().expect("valid multiaddr"))
    .collect();
    (0..n)
        .map(|i| {
            let port = 20_000 + i as u16;
            let multiaddrs = if i % 2 == 0 { &wss[..] } else { &[] };
            build_waku_enr(
                &CombinedKey::generate_secp256k1(),
                Ipv4Addr::LOCALHOST,
                port,
                Some(port),
                Waku2(0x01),
                1,
                &[0, 1],
                multiaddrs,
            )
            .expect("valid record")
        })
        .collect()
}

fn settings(server: &TreeServer) -> ResolverSettings {
    ResolverSettings {
        nameservers: vec![server.addr()],
        timeout: Duration::from_secs(2),
        ..ResolverSettings::default()
    }
}

fn node_ids(enrs: &[Enr]) -> BTreeSet<[u8; 32]> {
    enrs.iter().map(|e| e.node_id().raw()).collect()
}

/// The tree's records with `name`'s text replaced.
fn replace(tree: &BuiltTree, name: &str, text: String) -> Vec<(String, String)> {
    let mut records = tree.records.clone();
    let record = records
        .iter_mut()
        .find(|(n, _)| n == name)
        .expect("record present");
    record.1 = text;
    records
}

/// Depth of the ENR subtree (the subtree root is level 1), from the built records.
fn enr_depth(tree: &BuiltTree) -> usize {
    let texts: HashMap<&str, &str> = tree
        .records
        .iter()
        .map(|(n, t)| (n.split('.').next().unwrap(), t.as_str()))
        .collect();
    let root = Root::parse(&tree.records[0].1).unwrap();
    let mut level = vec![root.enr_root];
    let mut depth = 0;
    while !level.is_empty() {
        depth += 1;
        level = level
            .iter()
            .flat_map(|h| match Entry::parse(texts[h.as_str()]).unwrap() {
                Entry::Branch(children) => children,
                _ => vec![],
            })
            .collect();
    }
    depth
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_a_200_record_tree() {
    init_tracing();
    let enrs = waku_enrs(200);
    let key = signing_key();
    let tree = build_tree(&enrs, &[], 7, &key, "nodes.peerscope.test").unwrap();
    assert!(
        enr_depth(&tree) >= 3,
        "200 records need several branch levels"
    );
    assert!(
        tree.records.iter().any(|(_, text)| text.len() > 255),
        "some records arrive as several character-strings"
    );

    // A foreign TXT record at the root name is ignored.
    let mut records = tree.records.clone();
    records.push(("nodes.peerscope.test".into(), "v=spf1 -all".into()));
    let server = TreeServer::start(records).await.unwrap();

    let got = within(LIMIT, resolve_tree(&tree.url, &settings(&server)))
        .await
        .expect("tree resolves");
    assert_eq!(got.enrs.len(), 200);
    assert_eq!(node_ids(&got.enrs), node_ids(&enrs));
    for enr in &got.enrs {
        let original = enrs.iter().find(|e| e.node_id() == enr.node_id()).unwrap();
        assert_eq!(enr.to_base64(), original.to_base64());
    }
    assert_eq!(got.seq, 7);
    assert!(got.links.is_empty());
    assert_eq!(got.domain, "nodes.peerscope.test");
    assert_eq!(got.url, tree.url);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_root_signature_is_rejected() {
    init_tracing();
    let enrs = waku_enrs(20);
    let key = signing_key();
    let tree = build_tree(&enrs, &[], 1, &key, "signed.peerscope.test").unwrap();

    // (a) The same layout signed by another key; (b) one signature byte flipped.
    let other = build_tree(&enrs, &[], 1, &signing_key(), "signed.peerscope.test").unwrap();
    let mut flipped = Root::parse(&tree.records[0].1).unwrap();
    flipped.signature[10] ^= 0x40;
    for root_text in [other.records[0].1.clone(), flipped.to_string()] {
        let records = replace(&tree, "signed.peerscope.test", root_text);
        let server = TreeServer::start(records).await.unwrap();
        let err = within(LIMIT, resolve_tree(&tree.url, &settings(&server)))
            .await
            .expect_err("must be rejected");
        match &err {
            DnsError::BadSignature { domain } => assert_eq!(domain, "signed.peerscope.test"),
            other => panic!("expected BadSignature, got {other}"),
        }
        assert!(err.to_string().contains("signed.peerscope.test"), "{err}");

        let report = within(
            LIMIT,
            resolve_all_report(std::slice::from_ref(&tree.url), &settings(&server)),
        )
        .await
        .unwrap();
        assert!(report.trees.is_empty(), "nothing of the tree is used");
        assert_eq!(report.failures.len(), 1);
        server.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_leaf_is_rejected_by_hash() {
    init_tracing();
    let enrs = waku_enrs(30);
    let tree = build_tree(&enrs, &[], 1, &signing_key(), "tamper.peerscope.test").unwrap();

    // Swap one leaf's text for another validly signed record under the same name.
    let (leaf_name, _) = tree
        .records
        .iter()
        .find(|(_, text)| text.starts_with("enr:"))
        .unwrap()
        .clone();
    let intruder = waku_enrs(1).remove(0);
    let records = replace(&tree, &leaf_name, intruder.to_base64());
    let server = TreeServer::start(records).await.unwrap();

    let err = within(LIMIT, resolve_tree(&tree.url, &settings(&server)))
        .await
        .expect_err("must be rejected");
    match &err {
        DnsError::HashMismatch {
            name,
            expected,
            got,
        } => {
            assert_eq!(name, &leaf_name);
            assert_eq!(leaf_name, format!("{expected}.tamper.peerscope.test"));
            assert_eq!(got, &subdomain_hash(&intruder.to_base64()));
        }
        other => panic!("expected HashMismatch, got {other}"),
    }
    assert!(err.to_string().contains(&leaf_name), "{err}");

    let report = within(
        LIMIT,
        resolve_all_report(std::slice::from_ref(&tree.url), &settings(&server)),
    )
    .await
    .unwrap();
    assert!(
        report.trees.is_empty(),
        "nothing of the tampered tree is used"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_followed_and_a_link_loop_ends() {
    init_tracing();
    let (key_a, key_b) = (signing_key(), signing_key());
    let url_a = TreeUrl::new(*key_a.verifying_key(), "a.peerscope.test")
        .unwrap()
        .to_string();
    let url_b = TreeUrl::new(*key_b.verifying_key(), "b.peerscope.test")
        .unwrap()
        .to_string();
    let (enrs_a, enrs_b) = (waku_enrs(15), waku_enrs(4));
    // A links to B, B links back to A and to itself.
    let tree_a = build_tree(
        &enrs_a,
        std::slice::from_ref(&url_b),
        1,
        &key_a,
        "a.peerscope.test",
    )
    .unwrap();
    let tree_b = build_tree(
        &enrs_b,
        &[url_a.clone(), url_b.clone()],
        1,
        &key_b,
        "b.peerscope.test",
    )
    .unwrap();
    assert_eq!(tree_a.url, url_a);
    let mut records = tree_a.records.clone();
    records.extend(tree_b.records.clone());
    let server = TreeServer::start(records).await.unwrap();

    // resolve_tree lists links without following them.
    let only_a = within(LIMIT, resolve_tree(&url_a, &settings(&server)))
        .await
        .unwrap();
    assert_eq!(only_a.links, std::slice::from_ref(&url_b));
    assert_eq!(only_a.enrs.len(), 15);

    let trees = within(
        LIMIT,
        resolve_all(std::slice::from_ref(&url_a), &settings(&server)),
    )
    .await
    .expect("both trees resolve");
    let urls: Vec<&str> = trees.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(urls, [url_a.as_str(), url_b.as_str()]);
    let all: Vec<Enr> = trees.iter().flat_map(|t| t.enrs.clone()).collect();
    let mut expected = enrs_a.clone();
    expected.extend(enrs_b.clone());
    assert_eq!(all.len(), 19);
    assert_eq!(node_ids(&all), node_ids(&expected));

    // Giving both URLs resolves each domain once.
    let trees = within(
        LIMIT,
        resolve_all(&[url_b.clone(), url_a], &settings(&server)),
    )
    .await
    .unwrap();
    assert_eq!(trees.len(), 2);

    // With room for one tree only, the link is reported, not followed.
    let tight = ResolverSettings {
        max_trees: 1,
        ..settings(&server)
    };
    let err = within(LIMIT, resolve_all(std::slice::from_ref(&url_b), &tight))
        .await
        .expect_err("second tree over the limit");
    assert!(matches!(err, DnsError::TooManyTrees { .. }), "{err}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_and_overdeep_trees_are_refused() {
    init_tracing();
    let enrs = waku_enrs(200);
    let tree = build_tree(&enrs, &[], 1, &signing_key(), "big.peerscope.test").unwrap();
    let server = TreeServer::start(tree.records.clone()).await.unwrap();

    let small = ResolverSettings {
        max_entries: 50,
        ..settings(&server)
    };
    let err = within(LIMIT, resolve_tree(&tree.url, &small))
        .await
        .expect_err("over max_entries");
    match &err {
        DnsError::TooLarge {
            domain,
            max_entries,
        } => {
            assert_eq!(domain, "big.peerscope.test");
            assert_eq!(*max_entries, 50);
        }
        other => panic!("expected TooLarge, got {other}"),
    }

    let shallow = ResolverSettings {
        max_depth: 2,
        ..settings(&server)
    };
    let err = within(LIMIT, resolve_tree(&tree.url, &shallow))
        .await
        .expect_err("over max_depth");
    assert!(
        matches!(err, DnsError::TooDeep { max_depth: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("big.peerscope.test"), "{err}");
    server.shutdown().await.unwrap();
}

/// A hand-made tree whose ENR subtree is the branch `children` (hashes) over `entries`.
fn hand_made(
    key: &SigningKey,
    domain: &str,
    children: &[String],
    entries: &[String],
) -> Vec<(String, String)> {
    let branch = format!("enrtree-branch:{}", children.join(","));
    let empty = "enrtree-branch:".to_owned();
    let root = Root::sign(subdomain_hash(&branch), subdomain_hash(&empty), 1, key);
    let mut records = vec![(domain.to_owned(), root.to_string())];
    for text in entries.iter().chain([&branch, &empty]) {
        records.push((format!("{}.{domain}", subdomain_hash(text)), text.clone()));
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_layouts() {
    init_tracing();
    let key = signing_key();
    let url = TreeUrl::new(*key.verifying_key(), "odd.peerscope.test")
        .unwrap()
        .to_string();
    let enr = waku_enrs(1).remove(0).to_base64();
    let link = TreeUrl::new(*signing_key().verifying_key(), "x.peerscope.test")
        .unwrap()
        .to_string();
    let h = subdomain_hash(&enr);
    let server = TreeServer::start(vec![]).await.unwrap();
    let settings = settings(&server);
    let resolve = || within(LIMIT, resolve_tree(&url, &settings));

    // The same leaf named three times is resolved and returned once.
    let records = hand_made(
        &key,
        "odd.peerscope.test",
        &[h.clone(), h.clone(), h.clone()],
        std::slice::from_ref(&enr),
    );
    server.set_records(records).await.unwrap();
    let tree = resolve().await.unwrap();
    assert_eq!(tree.enrs.len(), 1);

    // A link in the ENR subtree is refused, naming the entry.
    let records = hand_made(
        &key,
        "odd.peerscope.test",
        &[subdomain_hash(&link)],
        std::slice::from_ref(&link),
    );
    server.set_records(records).await.unwrap();
    let err = resolve().await.unwrap_err();
    assert!(
        matches!(&err, DnsError::BadEntry { name, .. } if name.starts_with(&subdomain_hash(&link))),
        "{err}"
    );

    // A missing entry fails the lookup of its name.
    let mut records = hand_made(
        &key,
        "odd.peerscope.test",
        std::slice::from_ref(&h),
        std::slice::from_ref(&enr),
    );
    records.retain(|(name, _)| !name.starts_with(&h));
    server.set_records(records).await.unwrap();
    let err = resolve().await.unwrap_err();
    assert!(
        matches!(&err, DnsError::Lookup { name, .. } if *name == format!("{h}.odd.peerscope.test")),
        "{err}"
    );

    // Garbage under a valid hash name.
    let garbage = "enr:not-a-record".to_owned();
    let records = hand_made(
        &key,
        "odd.peerscope.test",
        &[subdomain_hash(&garbage)],
        std::slice::from_ref(&garbage),
    );
    server.set_records(records).await.unwrap();
    let err = resolve().await.unwrap_err();
    assert!(matches!(err, DnsError::BadEntry { .. }), "{err}");

    // No root at all.
    server
        .set_records(vec![("odd.peerscope.test".into(), "hello".into())])
        .await
        .unwrap();
    let err = resolve().await.unwrap_err();
    assert!(matches!(err, DnsError::BadRoot { .. }), "{err}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_sequence_number_is_refused() {
    init_tracing();
    let key = signing_key();
    let enrs = waku_enrs(5);
    let domain = "seq.peerscope.test";
    let v5 = build_tree(&enrs, &[], 5, &key, domain).unwrap();
    let server = TreeServer::start(v5.records.clone()).await.unwrap();
    let client = DnsClient::new(settings(&server)).unwrap();

    let tree = within(LIMIT, client.resolve_tree(&v5.url)).await.unwrap();
    assert_eq!(tree.seq, 5);
    assert_eq!(client.last_seq(&v5.url.parse().unwrap()), Some(5));

    // A replayed older list, validly signed, is refused by the same client...
    let v3 = build_tree(&enrs[..2], &[], 3, &key, domain).unwrap();
    server.set_records(v3.records.clone()).await.unwrap();
    let err = within(LIMIT, client.resolve_tree(&v5.url))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DnsError::StaleSeq {
                seq: 3,
                last_seen: 5,
                ..
            }
        ),
        "{err}"
    );
    // ...while the same seq and newer ones are accepted.
    server.set_records(v5.records.clone()).await.unwrap();
    within(LIMIT, client.resolve_tree(&v5.url)).await.unwrap();
    let v6 = build_tree(&enrs[..1], &[], 6, &key, domain).unwrap();
    server.set_records(v6.records.clone()).await.unwrap();
    let tree = within(LIMIT, client.resolve_tree(&v5.url)).await.unwrap();
    assert_eq!((tree.seq, tree.enrs.len()), (6, 1));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_nameserver_times_out() {
    init_tracing();
    // A UDP socket that never answers (and no TCP listener).
    let silent = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let settings = ResolverSettings {
        nameservers: vec![silent.local_addr().unwrap()],
        timeout: Duration::from_millis(300),
        ..ResolverSettings::default()
    };
    let url = TreeUrl::new(*signing_key().verifying_key(), "silent.peerscope.test")
        .unwrap()
        .to_string();
    let started = std::time::Instant::now();
    let err = within(Duration::from_secs(10), resolve_tree(&url, &settings))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DnsError::Lookup { name, .. } if name == "silent.peerscope.test"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// An answer too large for one UDP datagram (the root name also carries bulky foreign TXT
/// records) arrives truncated, and the resolver retries over TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_fall_back_to_tcp() {
    init_tracing();
    let tree = build_tree(&waku_enrs(3), &[], 1, &signing_key(), "tcp.peerscope.test").unwrap();
    let mut records = tree.records.clone();
    for i in 0..12 {
        records.push((
            "tcp.peerscope.test".into(),
            format!("filler-{i}-{}", "x".repeat(400)),
        ));
    }
    let server = TreeServer::start(records).await.unwrap();
    let got = within(LIMIT, resolve_tree(&tree.url, &settings(&server)))
        .await
        .expect("resolves over TCP");
    assert_eq!(got.enrs.len(), 3);
    server.shutdown().await.unwrap();
}
