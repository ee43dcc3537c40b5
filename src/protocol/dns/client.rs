//! Resolving trees over DNS: root, signature, branches, leaves, links.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::{stream, StreamExt, TryStreamExt};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use rand::seq::SliceRandom;
use tracing::debug;

use super::entry::{decode_hash, hash_matches, subdomain_hash, Entry, Root, ROOT_PREFIX};
use super::url::TreeUrl;
use super::DnsError;
use crate::protocol::enr::Enr;

/// Default for [`ResolverSettings::timeout`]: 5 seconds, the usual resolver default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default for [`ResolverSettings::max_entries`]: 10 000 entries per tree.
///
/// Large public lists (Ethereum mainnet's) hold a few thousand records; Waku fleets tens.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// Default for [`ResolverSettings::max_depth`]: 16 levels.
///
/// With 13 children per branch, 4 levels already hold 28 561 leaves; deeper trees only
/// arise from hostile chains of one-child branches.
pub const DEFAULT_MAX_DEPTH: usize = 16;

/// Default for [`ResolverSettings::max_trees`]: 32 trees per [`resolve_all`].
pub const DEFAULT_MAX_TREES: usize = 32;

/// Default for [`ResolverSettings::concurrency`]: 16 lookups in flight per tree.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Attempts per query (hickory retries a query that timed out once).
const ATTEMPTS: usize = 2;

/// Log target of this module.
const TARGET: &str = "peerscope::protocol::dns";

/// How to reach DNS and how much of a tree to accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverSettings {
    /// Nameservers to ask, each over UDP and (for truncated answers) TCP on the same port.
    /// Empty means the system configuration (`/etc/resolv.conf`). Default: empty.
    pub nameservers: Vec<SocketAddr>,
    /// Time allowed for one attempt of one query; a query is tried twice, so one lookup
    /// gives up after about twice this. Default: [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// Most entries (branches and leaves, both subtrees) resolved per tree. Default:
    /// [`DEFAULT_MAX_ENTRIES`].
    pub max_entries: usize,
    /// Most levels below the root record (the subtree roots are level 1). Default:
    /// [`DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
    /// Most trees resolved by one [`resolve_all`] call, links included. Default:
    /// [`DEFAULT_MAX_TREES`].
    pub max_trees: usize,
    /// Lookups in flight at once while walking a tree (at least 1). Default:
    /// [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
}

impl Default for ResolverSettings {
    fn default() -> Self {
        ResolverSettings {
            nameservers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_depth: DEFAULT_MAX_DEPTH,
            max_trees: DEFAULT_MAX_TREES,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// A resolved and fully verified tree.
#[derive(Clone, Debug)]
pub struct Tree {
    /// The tree's URL in canonical form.
    pub url: String,
    /// The tree's domain (lower case, no trailing dot).
    pub domain: String,
    /// The root's sequence number.
    pub seq: u64,
    /// The node records of the ENR subtree, in the (random) order they were found.
    pub enrs: Vec<Enr>,
    /// The `enrtree://` URLs of the link subtree, in canonical form.
    pub links: Vec<String>,
}

/// What [`resolve_all_report`] found: the trees that verified and, separately, each URL
/// that failed and why.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Verified trees, the given URLs first, then linked ones breadth-first.
    pub trees: Vec<Tree>,
    /// URLs (given or linked) that could not be used, with the reason.
    pub failures: Vec<(String, DnsError)>,
}

/// Which subtree a walk is in; decides which leaves are allowed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Subtree {
    Enrs,
    Links,
}

/// A DNS client for trees. Keeps one hickory resolver (and its cache) and the highest
/// sequence number seen per tree, so that an older root is refused later.
///
/// `Send + Sync`: share it behind an `Arc`. Creating one needs no runtime; its lookups
/// must run on a tokio runtime, where hickory spawns its connection tasks. Those tasks
/// belong to the client and end when it is dropped.
pub struct DnsClient {
    resolver: TokioResolver,
    settings: ResolverSettings,
    /// Highest `seq` seen on a validly signed root, keyed by canonical URL. Never held
    /// across an await.
    seen_seq: Mutex<HashMap<String, u64>>,
}

impl DnsClient {
    /// A client that asks `settings.nameservers` (or the system's).
    ///
    /// # Errors
    ///
    /// [`DnsError::Resolver`] when the system configuration cannot be read.
    pub fn new(settings: ResolverSettings) -> Result<DnsClient, DnsError> {
        let mut builder = if settings.nameservers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| DnsError::Resolver {
                reason: format!("reading the system DNS configuration: {e}"),
            })?
        } else {
            let servers = settings
                .nameservers
                .iter()
                .map(|addr| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
                })
                .collect();
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            )
        };
        let options = builder.options_mut();
        options.timeout = settings.timeout;
        options.attempts = ATTEMPTS;
        options.use_hosts_file = ResolveHosts::Never;
        // Names are always given fully qualified; never append search domains.
        options.ndots = 0;
        let resolver = builder.build().map_err(|e| DnsError::Resolver {
            reason: e.to_string(),
        })?;
        Ok(DnsClient {
            resolver,
            settings,
            seen_seq: Mutex::new(HashMap::new()),
        })
    }

    /// The settings this client was made with.
    pub fn settings(&self) -> &ResolverSettings {
        &self.settings
    }

    /// The highest sequence number seen on a validly signed root of `url`'s tree.
    pub fn last_seq(&self, url: &TreeUrl) -> Option<u64> {
        self.seen_seq
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&url.to_string())
            .copied()
    }

    /// Resolves and verifies one tree; links are listed, not followed.
    ///
    /// # Errors
    ///
    /// Any [`DnsError`]; the tree is used all or nothing.
    pub async fn resolve_tree(&self, url: &str) -> Result<Tree, DnsError> {
        let url: TreeUrl = url.parse()?;
        self.resolve(&url).await
    }

    /// Resolves `urls` and every tree they link to, each domain once, at most
    /// [`ResolverSettings::max_trees`] trees; fails with the first failure, if any.
    ///
    /// # Errors
    ///
    /// The first [`DnsError`] met, given or linked tree alike. Use
    /// [`DnsClient::resolve_all_report`] to keep what did verify.
    pub async fn resolve_all(&self, urls: &[String]) -> Result<Vec<Tree>, DnsError> {
        let resolution = self.resolve_all_report(urls).await;
        match resolution.failures.into_iter().next() {
            Some((_, err)) => Err(err),
            None => Ok(resolution.trees),
        }
    }

    /// Resolves `urls` and every tree they link to (breadth-first, each domain once, so
    /// link loops end; at most [`ResolverSettings::max_trees`] trees). Trees that fail are
    /// reported in [`Resolution::failures`] and their links are not followed; the others
    /// are returned.
    pub async fn resolve_all_report(&self, urls: &[String]) -> Resolution {
        let mut resolution = Resolution::default();
        let mut queue: VecDeque<String> = urls.iter().cloned().collect();
        let mut domains = HashSet::new();
        let mut attempted = 0;
        while let Some(text) = queue.pop_front() {
            let url = match text.parse::<TreeUrl>() {
                Ok(url) => url,
                Err(err) => {
                    resolution.failures.push((text, err));
                    continue;
                }
            };
            if !domains.insert(url.domain.clone()) {
                debug!(target: TARGET, %url, "domain already resolved, skipping");
                continue;
            }
            if attempted == self.settings.max_trees {
                let err = DnsError::TooManyTrees {
                    url: text.clone(),
                    max_trees: self.settings.max_trees,
                };
                debug!(target: TARGET, pending = queue.len(), "{err}");
                resolution.failures.push((text, err));
                break;
            }
            attempted += 1;
            match self.resolve(&url).await {
                Ok(tree) => {
                    queue.extend(tree.links.iter().cloned());
                    resolution.trees.push(tree);
                }
                Err(err) => {
                    debug!(target: TARGET, %url, %err, "tree rejected");
                    resolution.failures.push((text, err));
                }
            }
        }
        resolution
    }

    /// Resolves one parsed tree.
    async fn resolve(&self, url: &TreeUrl) -> Result<Tree, DnsError> {
        let root = self.resolve_root(url).await?;
        let mut used = 0;
        let links = self
            .walk(&url.domain, &root.link_root, Subtree::Links, &mut used)
            .await?;
        let enrs = self
            .walk(&url.domain, &root.enr_root, Subtree::Enrs, &mut used)
            .await?;
        let links = links
            .into_iter()
            .filter_map(|entry| match entry {
                Entry::Link(link) => Some(link.to_string()),
                _ => None,
            })
            .collect();
        let enrs: Vec<Enr> = enrs
            .into_iter()
            .filter_map(|entry| match entry {
                Entry::Enr(enr) => Some(*enr),
                _ => None,
            })
            .collect();
        debug!(
            target: TARGET, %url, seq = root.seq, enrs = enrs.len(), entries = used,
            "tree verified"
        );
        Ok(Tree {
            url: url.to_string(),
            domain: url.domain.clone(),
            seq: root.seq,
            enrs,
            links,
        })
    }

    /// Fetches the root, checks its signature against the URL's key and the seq rule.
    async fn resolve_root(&self, url: &TreeUrl) -> Result<Root, DnsError> {
        let domain = &url.domain;
        let texts = self.lookup_txt(domain).await?;
        let root = root_from_txt(domain, &texts)?;
        if !root.verify(&url.public_key) {
            return Err(DnsError::BadSignature {
                domain: domain.clone(),
            });
        }
        let mut seen = self.seen_seq.lock().unwrap_or_else(PoisonError::into_inner);
        let last = seen.entry(url.to_string()).or_insert(root.seq);
        if root.seq < *last {
            return Err(DnsError::StaleSeq {
                domain: domain.clone(),
                seq: root.seq,
                last_seen: *last,
            });
        }
        *last = root.seq;
        Ok(root)
    }

    /// Walks one subtree breadth-first from `root_hash`, each level in random order with
    /// up to [`ResolverSettings::concurrency`] lookups in flight, and returns its leaves.
    /// `used` counts entries resolved for the tree so far, against `max_entries`.
    async fn walk(
        &self,
        domain: &str,
        root_hash: &str,
        subtree: Subtree,
        used: &mut usize,
    ) -> Result<Vec<Entry>, DnsError> {
        let name = |hash: &str| format!("{hash}.{domain}");
        // Every hash met so far, with the branch that named it (None for the subtree root).
        // Each hash is inserted once, with a parent inserted before it, so following parents
        // always ends at the root.
        let mut parents: HashMap<String, Option<String>> = HashMap::new();
        parents.insert(root_hash.to_owned(), None);
        let mut level = vec![root_hash.to_owned()];
        let mut depth = 0;
        let mut leaves = Vec::new();

        while !level.is_empty() {
            depth += 1;
            if depth > self.settings.max_depth {
                return Err(DnsError::TooDeep {
                    name: name(&level[0]),
                    max_depth: self.settings.max_depth,
                });
            }
            if *used + level.len() > self.settings.max_entries {
                return Err(DnsError::TooLarge {
                    domain: domain.to_owned(),
                    max_entries: self.settings.max_entries,
                });
            }
            *used += level.len();
            level.shuffle(&mut rand::thread_rng());

            let resolved: Vec<(String, Entry)> = stream::iter(level)
                .map(|hash| async move {
                    let entry = self.resolve_entry(domain, &hash).await?;
                    Ok::<_, DnsError>((hash, entry))
                })
                .buffer_unordered(self.settings.concurrency.max(1))
                .try_collect()
                .await?;

            let mut next = Vec::new();
            for (hash, entry) in resolved {
                match entry {
                    Entry::Branch(children) => {
                        for child in children {
                            if parents.contains_key(&child) {
                                if is_ancestor(&parents, &hash, &child) {
                                    return Err(DnsError::Loop {
                                        name: name(&hash),
                                        ancestor: name(&child),
                                    });
                                }
                                debug!(target: TARGET, entry = %name(&child), "named twice, skipping");
                                continue;
                            }
                            parents.insert(child.clone(), Some(hash.clone()));
                            next.push(child);
                        }
                    }
                    Entry::Enr(_) if subtree == Subtree::Links => {
                        return Err(DnsError::BadEntry {
                            name: name(&hash),
                            reason: "node record in the link subtree".into(),
                        });
                    }
                    Entry::Link(_) if subtree == Subtree::Enrs => {
                        return Err(DnsError::BadEntry {
                            name: name(&hash),
                            reason: "link in the ENR subtree".into(),
                        });
                    }
                    leaf => leaves.push(leaf),
                }
            }
            level = next;
        }
        Ok(leaves)
    }

    /// Fetches `<hash>.<domain>`, checks the text's hash and parses it.
    async fn resolve_entry(&self, domain: &str, hash: &str) -> Result<Entry, DnsError> {
        let name = format!("{hash}.{domain}");
        // A malformed hash is refused before any lookup.
        decode_hash(hash).map_err(|reason| DnsError::BadEntry {
            name: name.clone(),
            reason,
        })?;
        let texts = self.lookup_txt(&name).await?;
        entry_from_txt(domain, hash, &texts)
    }

    /// The TXT records at `name`, each one's character-strings concatenated.
    async fn lookup_txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let lookup_error = |reason: String| DnsError::Lookup {
            name: name.to_owned(),
            reason,
        };
        // hickory bounds each attempt by `timeout`; this outer bound only guards against
        // a lookup that would hang regardless.
        let deadline = self.settings.timeout * ATTEMPTS as u32 + Duration::from_secs(1);
        let lookup = tokio::time::timeout(deadline, self.resolver.txt_lookup(format!("{name}.")))
            .await
            .map_err(|_| lookup_error(format!("no answer within {deadline:?}")))?
            .map_err(|e| lookup_error(e.to_string()))?;
        let texts = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => Some(txt_text(&txt.txt_data)),
                _ => None,
            })
            .collect::<Vec<_>>();
        if texts.is_empty() {
            return Err(lookup_error("no TXT record".into()));
        }
        Ok(texts)
    }
}

/// The text of one TXT record: its character-strings concatenated (records longer than 255
/// bytes arrive split), invalid UTF-8 replaced by U+FFFD (such text never parses as an
/// entry).
pub fn txt_text<S: AsRef<[u8]>>(strings: &[S]) -> String {
    let bytes: Vec<u8> = strings
        .iter()
        .flat_map(|s| s.as_ref().iter().copied())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The root among the TXT records at `domain`: the first text that starts with
/// `enrtree-root:v1`, parsed. The signature is not checked here ([`Root::verify`]).
///
/// # Errors
///
/// [`DnsError::BadRoot`] when no text is a root or the root is malformed.
pub fn root_from_txt(domain: &str, texts: &[String]) -> Result<Root, DnsError> {
    let text = texts
        .iter()
        .find(|t| t.starts_with(ROOT_PREFIX))
        .ok_or_else(|| DnsError::BadRoot {
            domain: domain.to_owned(),
            reason: format!(
                "none of its {} TXT records starts with {ROOT_PREFIX:?}",
                texts.len()
            ),
        })?;
    Root::parse(text).map_err(|reason| DnsError::BadRoot {
        domain: domain.to_owned(),
        reason,
    })
}

/// The entry among the TXT records at `<hash>.<domain>`: of the texts that are tree
/// entries (other TXT records may share the name), the first whose keccak256 starts with
/// the bytes of `hash`, parsed.
///
/// # Errors
///
/// [`DnsError::BadEntry`] for a malformed hash, no entry text, or an entry that does not
/// parse; [`DnsError::HashMismatch`] when no entry text hashes to `hash`.
pub fn entry_from_txt(domain: &str, hash: &str, texts: &[String]) -> Result<Entry, DnsError> {
    let name = format!("{hash}.{domain}");
    let want = decode_hash(hash).map_err(|reason| DnsError::BadEntry {
        name: name.clone(),
        reason,
    })?;
    let mut entries = texts.iter().filter(|t| Entry::is_entry_text(t)).peekable();
    let Some(first) = entries.peek().copied() else {
        return Err(DnsError::BadEntry {
            reason: format!("none of its {} TXT records is a tree entry", texts.len()),
            name,
        });
    };
    match entries.find(|t| hash_matches(&want, t)) {
        Some(text) => Entry::parse(text).map_err(|reason| DnsError::BadEntry { name, reason }),
        None => Err(DnsError::HashMismatch {
            name,
            expected: hash.to_owned(),
            got: subdomain_hash(first),
        }),
    }
}

/// Whether `target` is `from` or one of its ancestors.
fn is_ancestor(parents: &HashMap<String, Option<String>>, from: &str, target: &str) -> bool {
    let mut current = Some(from);
    while let Some(hash) = current {
        if hash == target {
            return true;
        }
        current = parents.get(hash).and_then(|p| p.as_deref());
    }
    false
}

/// Resolves and verifies one tree with a fresh [`DnsClient`]; links are listed in
/// [`Tree::links`], not followed.
///
/// # Errors
///
/// Any [`DnsError`]; nothing of a tree that fails is returned.
pub async fn resolve_tree(url: &str, settings: &ResolverSettings) -> Result<Tree, DnsError> {
    DnsClient::new(settings.clone())?.resolve_tree(url).await
}

/// Resolves `urls` and the trees they link to with a fresh [`DnsClient`]: see
/// [`DnsClient::resolve_all`].
///
/// # Errors
///
/// The first [`DnsError`] met, for a given or a linked tree.
pub async fn resolve_all(
    urls: &[String],
    settings: &ResolverSettings,
) -> Result<Vec<Tree>, DnsError> {
    DnsClient::new(settings.clone())?.resolve_all(urls).await
}

/// Resolves `urls` and the trees they link to with a fresh [`DnsClient`], keeping the
/// trees that verify: see [`DnsClient::resolve_all_report`].
///
/// # Errors
///
/// Only [`DnsError::Resolver`], when the resolver cannot be set up.
pub async fn resolve_all_report(
    urls: &[String],
    settings: &ResolverSettings,
) -> Result<Resolution, DnsError> {
    Ok(DnsClient::new(settings.clone())?
        .resolve_all_report(urls)
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parents(pairs: &[(&str, Option<&str>)]) -> HashMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(h, p)| (h.to_string(), p.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn ancestry() {
        let p = parents(&[
            ("R", None),
            ("A", Some("R")),
            ("B", Some("A")),
            ("C", Some("R")),
        ]);
        assert!(is_ancestor(&p, "B", "B"));
        assert!(is_ancestor(&p, "B", "A"));
        assert!(is_ancestor(&p, "B", "R"));
        assert!(!is_ancestor(&p, "B", "C"));
        assert!(!is_ancestor(&p, "C", "A"));
    }

    #[test]
    fn client_and_futures_can_cross_tasks() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let client = DnsClient::new(ResolverSettings {
            nameservers: vec![SocketAddr::from(([127, 0, 0, 1], 9))],
            ..ResolverSettings::default()
        })
        .expect("no runtime needed to build");
        send_sync(&client);
        // Futures are only built, never polled: no lookup is sent.
        send(&client.resolve_tree("enrtree://x@y"));
        send(&client.resolve_all_report(&[]));
        let settings = ResolverSettings::default();
        send(&resolve_all(&[], &settings));
    }

    #[test]
    fn default_settings() {
        let s = ResolverSettings::default();
        assert!(s.nameservers.is_empty());
        assert_eq!(s.max_entries, 10_000);
        assert_eq!(s.timeout, Duration::from_secs(5));
    }

    #[test]
    fn fuzz_corpus_eip1459_txt_replays() {
        let domain = "n";
        let mut entries = 0;
        for (name, bytes) in crate::fuzz_corpus::seeds("eip1459_txt") {
            // Character-strings are separated by newlines in the seeds.
            let strings: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
            let text = txt_text(&strings);
            let texts = vec![text.clone()];
            let hash = subdomain_hash(&text);
            if name.starts_with("valid-eip-root") {
                let root = root_from_txt(domain, &texts).unwrap();
                let signer: TreeUrl =
                    "enrtree://AKPYQIUQIL7PSIACI32J7FGZW56E5FKHEFCCOFHILBIMW3M6LWXS2@n"
                        .parse()
                        .unwrap();
                assert!(root.verify(&signer.public_key));
            } else if name.starts_with("valid-url-") {
                let url: TreeUrl = text.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(url.to_string(), text);
            } else if name.starts_with("valid-") {
                let entry =
                    entry_from_txt(domain, &hash, &texts).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(subdomain_hash(&entry.text()), hash, "{name}");
                entries += 1;
            } else if name.starts_with("invalid-") {
                assert!(root_from_txt(domain, &texts).is_err(), "{name}");
                assert!(entry_from_txt(domain, &hash, &texts).is_err(), "{name}");
            }
        }
        assert!(entries >= 7, "{entries} entries");
        // The leaf split into two character-strings is one record once joined.
        let split = crate::fuzz_corpus::seed("eip1459_txt", "valid-split-leaf.txt");
        let strings: Vec<&[u8]> = split.split(|b| *b == b'\n').collect();
        assert_eq!(strings.len(), 2);
        let text = txt_text(&strings);
        let entry = entry_from_txt(domain, &subdomain_hash(&text), &[text]).unwrap();
        assert!(matches!(entry, Entry::Enr(_)));
        // Under a hash it does not have, a valid entry is a mismatch.
        let branch = "enrtree-branch:".to_string();
        let err = entry_from_txt(domain, "JWXYDBPXYWG6FX3GMDIBFA6CJ4", &[branch]).unwrap_err();
        assert!(matches!(err, DnsError::HashMismatch { .. }), "{err}");
    }
}
