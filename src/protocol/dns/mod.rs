//! EIP-1459 node lists: resolving, verifying and building `enrtree://` trees.
//!
//! A node list lives in DNS TXT records under one domain and is named by a URL
//! `enrtree://<key>@<domain>`, where `<key>` is the base32 (RFC 4648, no padding) form of
//! the list signer's 33-byte compressed secp256k1 public key. The root record at
//! `<domain>` reads
//!
//! ```text
//! enrtree-root:v1 e=<enr-root> l=<link-root> seq=<n> sig=<base64url 65-byte r||s||v>
//! ```
//!
//! and every other entry sits at `<hash>.<domain>`, where `<hash>` is
//! base32(keccak256(entry text)\[..16\]): `enrtree-branch:<h1>,<h2>,…` (inner node),
//! `enr:<base64url RLP>` (a node record, only under `e=`) or `enrtree://…` (a link to
//! another list, only under `l=`).
//!
//! # What is verified
//!
//! - **The root signature.** `sig` is checked against the key in the URL over
//!   keccak256(`enrtree-root:v1 e=… l=… seq=…`); the trailing recovery byte is ignored and,
//!   as in go-ethereum, only low-S signatures are accepted. A root that fails is
//!   [`DnsError::BadSignature`] and nothing of the tree is used.
//! - **Every entry's hash.** The concatenated TXT text found at `<hash>.<domain>` must hash
//!   to `<hash>` (a prefix of keccak256, 12 to 32 bytes long; trees built here and by geth
//!   use 16). A mismatch is [`DnsError::HashMismatch`] naming the DNS name, and the whole
//!   tree is rejected: a tree is used all or nothing.
//! - **Every record.** `enr:` leaves are decoded and their own signatures checked by
//!   [`crate::protocol::enr::parse_enr`]; links are parsed as [`TreeUrl`]s. A leaf of the wrong
//!   kind for its subtree is [`DnsError::BadEntry`].
//!
//! # Guards against hostile DNS data
//!
//! - Each hash is resolved at most once per tree. A branch that names one of its own
//!   ancestors is [`DnsError::Loop`]; a hash met twice elsewhere (a DAG) is skipped.
//! - At most [`ResolverSettings::max_entries`] entries per tree ([`DnsError::TooLarge`],
//!   checked before the lookups are sent) and [`ResolverSettings::max_depth`] levels
//!   ([`DnsError::TooDeep`]).
//! - [`resolve_all`] follows links breadth-first, resolves each domain once (so link loops
//!   such as A → B → A end) and at most [`ResolverSettings::max_trees`] trees.
//! - Every lookup is bounded by [`ResolverSettings::timeout`]; nothing here panics on what
//!   a DNS server returns.
//!
//! # Sequence numbers
//!
//! A [`DnsClient`] remembers the highest `seq` it has seen on a validly signed root per
//! domain. A later root with a lower `seq` is refused with [`DnsError::StaleSeq`] (a replay
//! of an old list); an equal or higher one is accepted. The free functions
//! [`resolve_tree`] and [`resolve_all`] use a fresh client, so for them the rule applies
//! only within one call: keep a [`DnsClient`] to apply it across calls.
//!
//! # Building trees
//!
//! [`build_tree`] lays out and signs a tree the way go-ethereum's `dnsdisc` does (records
//! sorted by node id, at most [`MAX_BRANCH_CHILDREN`] hashes per branch so that every TXT
//! record fits a 512-byte UDP answer) and returns the TXT records plus a zone file.
//!
//! # Runtime
//!
//! Lookups run on the caller's tokio runtime (either flavour); hickory spawns its
//! per-connection tasks there, owned by the [`DnsClient`] and ended when it is dropped. Only
//! the nameservers in [`ResolverSettings::nameservers`] are contacted, each over UDP and,
//! for truncated answers, TCP on the same port; with an empty list the system
//! configuration (`/etc/resolv.conf`) is used. Names are always queried fully qualified,
//! so no search domain is ever appended.

mod build;
mod client;
mod entry;
mod url;

pub use build::{build_tree, txt_strings, BuiltTree, MAX_BRANCH_CHILDREN};

/// A random secp256k1 key for signing trees.
pub fn random_signing_key() -> k256::ecdsa::SigningKey {
    use rand::Rng;
    loop {
        let bytes: [u8; 32] = rand::thread_rng().gen();
        // All but a negligible share of 32-byte strings are valid scalars.
        if let Ok(key) = k256::ecdsa::SigningKey::from_slice(&bytes) {
            return key;
        }
    }
}
pub use client::{
    entry_from_txt, resolve_all, resolve_all_report, resolve_tree, root_from_txt, txt_text,
    DnsClient, Resolution, ResolverSettings, Tree, DEFAULT_CONCURRENCY, DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TREES, DEFAULT_TIMEOUT,
};
pub use entry::{subdomain_hash, Entry, Root};
pub use url::{TreeUrl, UrlError};

/// Why resolving or building a tree failed. Every message names the DNS name or domain
/// concerned.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum DnsError {
    /// An `enrtree://` URL is malformed.
    #[error("bad enrtree URL {url:?}: {reason}")]
    BadUrl {
        /// The URL text as given.
        url: String,
        /// What is wrong with it.
        #[source]
        reason: UrlError,
    },
    /// The resolver could not be set up (for example, unreadable system configuration).
    #[error("DNS resolver setup failed: {reason}")]
    Resolver {
        /// The underlying error.
        reason: String,
    },
    /// A TXT lookup failed: no such name, no TXT record, timeout, server failure.
    #[error("TXT lookup of {name} failed: {reason}")]
    Lookup {
        /// The DNS name queried.
        name: String,
        /// The underlying error.
        reason: String,
    },
    /// The domain has no usable `enrtree-root:v1` record.
    #[error("bad tree root at {domain}: {reason}")]
    BadRoot {
        /// The tree's domain.
        domain: String,
        /// What is wrong with the root.
        reason: String,
    },
    /// The root's signature does not verify against the key in the URL.
    #[error("root signature at {domain} does not verify against the URL's public key")]
    BadSignature {
        /// The tree's domain.
        domain: String,
    },
    /// An entry's text does not hash to the name it was found under.
    #[error("hash mismatch at {name}: entry text hashes to {got}, expected {expected}")]
    HashMismatch {
        /// The DNS name of the entry.
        name: String,
        /// The hash label the entry was looked up under.
        expected: String,
        /// The (16-byte, base32) hash of the text actually found there.
        got: String,
    },
    /// An entry cannot be parsed, or is of the wrong kind for its subtree.
    #[error("bad entry at {name}: {reason}")]
    BadEntry {
        /// The DNS name of the entry.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The tree has more entries than [`ResolverSettings::max_entries`].
    #[error("tree at {domain} has more than {max_entries} entries")]
    TooLarge {
        /// The tree's domain.
        domain: String,
        /// The limit that was hit.
        max_entries: usize,
    },
    /// The tree is deeper than [`ResolverSettings::max_depth`].
    #[error("entry {name} lies deeper than {max_depth} levels")]
    TooDeep {
        /// The DNS name of the first entry beyond the limit.
        name: String,
        /// The limit that was hit.
        max_depth: usize,
    },
    /// Following links would resolve more than [`ResolverSettings::max_trees`] trees.
    #[error("not resolving {url}: already resolved {max_trees} trees")]
    TooManyTrees {
        /// The link that was not followed.
        url: String,
        /// The limit that was hit.
        max_trees: usize,
    },
    /// A branch names one of its own ancestors.
    #[error("loop in tree: {name} refers back to its ancestor {ancestor}")]
    Loop {
        /// The DNS name of the branch that closes the loop.
        name: String,
        /// The DNS name it refers back to.
        ancestor: String,
    },
    /// The root's sequence number is lower than one seen before for the same domain.
    #[error("stale root at {domain}: seq {seq} is lower than {last_seen}, seen before")]
    StaleSeq {
        /// The tree's domain.
        domain: String,
        /// The sequence number found now.
        seq: u64,
        /// The highest sequence number seen before.
        last_seen: u64,
    },
    /// [`build_tree`] was given something it cannot publish.
    #[error("cannot build tree for {domain}: {reason}")]
    Build {
        /// The domain the tree was meant for.
        domain: String,
        /// What is wrong.
        reason: String,
    },
}
