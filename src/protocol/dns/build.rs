//! Laying out and signing a tree for publication.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use k256::ecdsa::SigningKey;

use super::entry::{subdomain_hash, Root, BRANCH_PREFIX};
use super::url::{normalize_domain, TreeUrl};
use super::DnsError;
use crate::protocol::enr::Enr;

/// Most hashes in one `enrtree-branch:` entry: 13, as go-ethereum.
///
/// A hash takes 26 base32 characters plus a comma; go-ethereum allows 370 characters of
/// hashes so that a branch record (at most 15 + 13 × 27 − 1 = 365 characters) fits a
/// 512-byte UDP answer together with the header, the question and the answer's name.
pub const MAX_BRANCH_CHILDREN: usize = 13;

/// TTL written into [`BuiltTree::zone_file`], in seconds.
const ZONE_TTL: u32 = 300;

/// Longest DNS character-string (RFC 1035 §3.3: one length octet).
const MAX_CHARACTER_STRING: usize = 255;

/// A signed tree, ready to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltTree {
    /// The tree's URL, `enrtree://<key>@<domain>`.
    pub url: String,
    /// The TXT records: (DNS name without trailing dot, record text). The root comes first,
    /// then the entries sorted by name.
    pub records: Vec<(String, String)>,
}

impl BuiltTree {
    /// The records in zone-file form, one `name. 300 IN TXT "…"` line each, with absolute
    /// names. Texts longer than 255 bytes are written as several quoted character-strings
    /// on the same line, which resolvers hand back as pieces to concatenate.
    pub fn zone_file(&self) -> String {
        let mut out = String::new();
        for (name, text) in &self.records {
            let _ = write!(out, "{name}. {ZONE_TTL} IN TXT");
            for piece in txt_strings(text) {
                out.push_str(" \"");
                for c in piece.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            out.push('\n');
        }
        out
    }
}

/// Splits a record text into DNS character-strings of at most 255 bytes, never inside a
/// UTF-8 character. An empty text gives one empty string.
pub fn txt_strings(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.len() > MAX_CHARACTER_STRING {
        let mut cut = MAX_CHARACTER_STRING;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// Lays out and signs a tree of `enrs` and `links` (`enrtree://` URLs) with sequence number
/// `seq`, to be published at `domain` and verified with `key`'s public key.
///
/// As go-ethereum does, records are sorted by node id (of several records of one node, the
/// one with the highest `seq` is kept), links are sorted and deduplicated, and each subtree
/// is cut into branches of at most [`MAX_BRANCH_CHILDREN`] hashes; a subtree of a single
/// leaf is that leaf, and an empty one is the empty branch `enrtree-branch:`.
///
/// # Errors
///
/// [`DnsError::Build`] when `domain` is not a DNS name or a link is not an `enrtree://`
/// URL.
pub fn build_tree(
    enrs: &[Enr],
    links: &[String],
    seq: u64,
    key: &SigningKey,
    domain: &str,
) -> Result<BuiltTree, DnsError> {
    let build_error = |reason: String| DnsError::Build {
        domain: domain.to_owned(),
        reason,
    };
    let domain_name = normalize_domain(domain).map_err(|e| build_error(e.to_string()))?;

    // 1. Leaves: one record per node (highest seq), sorted by node id.
    let mut by_node: BTreeMap<[u8; 32], &Enr> = BTreeMap::new();
    for enr in enrs {
        let id = enr.node_id().raw();
        match by_node.get(&id) {
            Some(kept) if kept.seq() >= enr.seq() => {}
            _ => {
                by_node.insert(id, enr);
            }
        }
    }
    let enr_texts: Vec<String> = by_node.values().map(|enr| enr.to_base64()).collect();

    let mut link_texts = links
        .iter()
        .map(|link| {
            link.parse::<TreeUrl>()
                .map(|url| url.to_string())
                .map_err(|e| build_error(format!("link {link:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    link_texts.sort();
    link_texts.dedup();

    // 2. Subtrees, entries keyed by hash.
    let mut entries = BTreeMap::new();
    let enr_root = subtree(enr_texts, &mut entries);
    let link_root = subtree(link_texts, &mut entries);
    let enr_root_hash = insert(&mut entries, enr_root);
    let link_root_hash = insert(&mut entries, link_root);

    // 3. The signed root, then the entries under the domain.
    let root = Root::sign(enr_root_hash, link_root_hash, seq, key);
    let url = TreeUrl {
        public_key: *key.verifying_key(),
        domain: domain_name.clone(),
    };
    let mut records = Vec::with_capacity(entries.len() + 1);
    records.push((domain_name.clone(), root.to_string()));
    records.extend(
        entries
            .into_iter()
            .map(|(hash, text)| (format!("{hash}.{domain_name}"), text)),
    );
    Ok(BuiltTree {
        url: url.to_string(),
        records,
    })
}

/// Adds an entry and returns its hash.
fn insert(entries: &mut BTreeMap<String, String>, text: String) -> String {
    let hash = subdomain_hash(&text);
    entries.insert(hash.clone(), text);
    hash
}

/// Builds the subtree over `texts` and returns the text of its root entry; every entry
/// below that root is added to `entries`.
fn subtree(mut texts: Vec<String>, entries: &mut BTreeMap<String, String>) -> String {
    if texts.len() == 1 {
        if let Some(only) = texts.pop() {
            return only;
        }
    }
    if texts.len() <= MAX_BRANCH_CHILDREN {
        let hashes: Vec<String> = texts
            .into_iter()
            .map(|text| insert(entries, text))
            .collect();
        return format!("{BRANCH_PREFIX}{}", hashes.join(","));
    }
    let children = texts
        .chunks(MAX_BRANCH_CHILDREN)
        .map(|chunk| subtree(chunk.to_vec(), entries))
        .collect();
    subtree(children, entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::dns::entry::Entry;
    use enr::CombinedKey;

    fn enr(seed: u8, udp: u16) -> Enr {
        let key = CombinedKey::secp256k1_from_bytes(&mut [seed; 32]).expect("valid key");
        Enr::builder()
            .ip4([127, 0, 0, 1].into())
            .udp4(udp)
            .build(&key)
            .expect("build")
    }

    fn signing_key() -> SigningKey {
        SigningKey::from_slice(&[3u8; 32]).expect("valid key")
    }

    #[test]
    fn splits_long_txt_into_255_byte_strings() {
        assert_eq!(txt_strings(""), [""]);
        assert_eq!(txt_strings("abc"), ["abc"]);
        let exact = "x".repeat(255);
        assert_eq!(txt_strings(&exact), [exact.as_str()]);
        let long = format!("{}{}{}", "a".repeat(255), "b".repeat(255), "c".repeat(10));
        assert_eq!(
            txt_strings(&long),
            ["a".repeat(255), "b".repeat(255), "c".repeat(10)]
        );
        // Never inside a character: 254 ASCII bytes then a 2-byte character.
        let utf8 = format!("{}é", "a".repeat(254));
        let pieces = txt_strings(&utf8);
        assert_eq!(pieces, ["a".repeat(254), "é".to_owned()]);
    }

    #[test]
    fn zone_file_quotes_and_splits() {
        let tree = BuiltTree {
            url: String::new(),
            records: vec![
                ("short.example.org".into(), "enrtree-branch:".into()),
                (
                    "long.example.org".into(),
                    format!("enr:{}", "A".repeat(400)),
                ),
                ("odd.example.org".into(), "say \"hi\" \\o/".into()),
            ],
        };
        let zone = tree.zone_file();
        let lines: Vec<&str> = zone.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "short.example.org. 300 IN TXT \"enrtree-branch:\""
        );
        assert_eq!(
            lines[1],
            format!(
                "long.example.org. 300 IN TXT \"enr:{}\" \"{}\"",
                "A".repeat(251),
                "A".repeat(149)
            )
        );
        assert_eq!(lines[2], r#"odd.example.org. 300 IN TXT "say \"hi\" \\o/""#);
    }

    #[test]
    fn builds_a_verifiable_tree() {
        let enrs: Vec<Enr> = (1..=40).map(|i| enr(i, 9000 + u16::from(i))).collect();
        let link =
            "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org";
        let tree = build_tree(
            &enrs,
            &[link.into()],
            5,
            &signing_key(),
            "Nodes.Example.org.",
        )
        .expect("builds");
        let url: TreeUrl = tree.url.parse().expect("valid URL");
        assert_eq!(url.domain, "nodes.example.org");
        assert_eq!(&url.public_key, signing_key().verifying_key());

        let (root_name, root_text) = &tree.records[0];
        assert_eq!(root_name, "nodes.example.org");
        let root = Root::parse(root_text).expect("root parses");
        assert_eq!(root.seq, 5);
        assert!(root.verify(&url.public_key));

        // Every entry sits under its own hash, and fits a branch's limit.
        let mut leaves = 0;
        for (name, text) in &tree.records[1..] {
            let hash = name
                .strip_suffix(".nodes.example.org")
                .expect("under domain");
            assert_eq!(subdomain_hash(text), hash);
            match Entry::parse(text).expect("entry parses") {
                Entry::Branch(children) => assert!(children.len() <= MAX_BRANCH_CHILDREN),
                Entry::Enr(_) => leaves += 1,
                Entry::Link(l) => assert_eq!(l.to_string(), link),
            }
        }
        assert_eq!(leaves, 40);
        // 40 leaves = 13 + 13 + 13 + 1: three full branches and the lone leaf sit under a
        // top branch (4 branches); the single link is its own subtree. Plus the root.
        assert_eq!(tree.records.len(), 1 + 40 + 4 + 1);
    }

    #[test]
    fn keeps_the_newest_record_per_node() {
        let key = CombinedKey::secp256k1_from_bytes(&mut [9u8; 32]).unwrap();
        let old = enr(9, 1000);
        let mut new = old.clone();
        new.set_udp4(2000, &key).unwrap();
        let tree = build_tree(&[new.clone(), old], &[], 1, &signing_key(), "x.org").unwrap();
        // A single leaf is its own subtree root; the link subtree is the empty branch.
        let texts: Vec<&str> = tree.records.iter().map(|(_, t)| t.as_str()).collect();
        assert!(texts.contains(&new.to_base64().as_str()));
        assert!(texts.contains(&"enrtree-branch:"));
        assert_eq!(tree.records.len(), 3);
    }

    #[test]
    fn rejects_bad_domain_and_links() {
        let err = build_tree(&[], &[], 1, &signing_key(), "").unwrap_err();
        assert!(matches!(err, DnsError::Build { .. }), "{err}");
        let err =
            build_tree(&[], &["https://x.org".into()], 1, &signing_key(), "x.org").unwrap_err();
        assert!(err.to_string().contains("https://x.org"), "{err}");
    }
}
