//! The text forms of tree entries: parsing, hashing and the root signature.

use std::fmt;

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};

use super::url::{TreeUrl, SCHEME};
use crate::protocol::enr::{parse_enr, Enr};

/// Prefix of the root record.
pub(super) const ROOT_PREFIX: &str = "enrtree-root:v1";
/// Prefix of a branch entry.
pub(super) const BRANCH_PREFIX: &str = "enrtree-branch:";
/// Prefix of a node-record leaf.
pub(super) const ENR_PREFIX: &str = "enr:";

/// Bytes of keccak256 kept in the hashes this module writes (base32: 26 characters).
pub(super) const HASH_LEN: usize = 16;
/// Shortest hash accepted when reading (as go-ethereum).
const MIN_HASH_LEN: usize = 12;
/// Longest hash accepted when reading: all of keccak256.
const MAX_HASH_LEN: usize = 32;
/// Length of the root signature: r || s || v.
const SIG_LEN: usize = 65;

/// The name of an entry: base32(keccak256(`text`)\[..16\]), 26 upper-case characters.
pub fn subdomain_hash(text: &str) -> String {
    let digest = Keccak256::digest(text.as_bytes());
    BASE32_NOPAD.encode(&digest[..HASH_LEN])
}

/// Decodes a hash label: canonical unpadded base32 of 12 to 32 bytes.
pub(super) fn decode_hash(label: &str) -> Result<Vec<u8>, String> {
    let bytes = BASE32_NOPAD
        .decode(label.as_bytes())
        .map_err(|e| format!("hash {label:?} is not valid base32: {e}"))?;
    if !(MIN_HASH_LEN..=MAX_HASH_LEN).contains(&bytes.len()) {
        return Err(format!(
            "hash {label:?} is {} bytes, expected {MIN_HASH_LEN} to {MAX_HASH_LEN}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// Whether `text` hashes to the (already validated) hash label `label`.
pub(super) fn hash_matches(label_bytes: &[u8], text: &str) -> bool {
    Keccak256::digest(text.as_bytes()).starts_with(label_bytes)
}

/// A parsed root record. Parsing does not verify the signature: see [`Root::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// Hash of the ENR subtree's root entry.
    pub enr_root: String,
    /// Hash of the link subtree's root entry.
    pub link_root: String,
    /// The tree's sequence number.
    pub seq: u64,
    /// The 65-byte signature r || s || v.
    pub signature: Vec<u8>,
}

impl Root {
    /// Parses `enrtree-root:v1 e=<hash> l=<hash> seq=<n> sig=<base64url>`.
    ///
    /// # Errors
    ///
    /// A message saying which field is missing or malformed.
    pub fn parse(text: &str) -> Result<Root, String> {
        let mut fields = text.split_ascii_whitespace();
        if fields.next() != Some(ROOT_PREFIX) {
            return Err(format!("does not start with {ROOT_PREFIX:?}"));
        }
        let mut field = |key: &str| -> Result<&str, String> {
            fields
                .next()
                .and_then(|f| f.strip_prefix(key))
                .ok_or_else(|| format!("expected field {key}… in order e=, l=, seq=, sig="))
        };
        let enr_root = field("e=")?;
        let link_root = field("l=")?;
        let seq = field("seq=")?;
        let sig = field("sig=")?;
        if fields.next().is_some() {
            return Err("unexpected text after sig=".into());
        }
        decode_hash(enr_root).map_err(|e| format!("e=: {e}"))?;
        decode_hash(link_root).map_err(|e| format!("l=: {e}"))?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("seq={seq:?} is not a decimal number"));
        }
        let seq = seq
            .parse::<u64>()
            .map_err(|e| format!("seq={seq:?}: {e}"))?;
        let signature = BASE64URL_NOPAD
            .decode(sig.as_bytes())
            .map_err(|e| format!("sig= is not valid unpadded base64url: {e}"))?;
        if signature.len() != SIG_LEN {
            return Err(format!(
                "sig= is {} bytes, expected {SIG_LEN}",
                signature.len()
            ));
        }
        Ok(Root {
            enr_root: enr_root.to_owned(),
            link_root: link_root.to_owned(),
            seq,
            signature,
        })
    }

    /// Builds and signs a root.
    pub fn sign(enr_root: String, link_root: String, seq: u64, key: &SigningKey) -> Root {
        let mut root = Root {
            enr_root,
            link_root,
            seq,
            signature: Vec::new(),
        };
        let (sig, recovery) = key.sign_prehash_recoverable(&root.signing_hash());
        root.signature = sig.to_bytes().to_vec();
        root.signature.push(recovery.to_byte());
        root
    }

    /// The text that is signed: the record without ` sig=…`.
    pub fn signed_text(&self) -> String {
        format!(
            "{ROOT_PREFIX} e={} l={} seq={}",
            self.enr_root, self.link_root, self.seq
        )
    }

    /// keccak256 of [`Root::signed_text`].
    fn signing_hash(&self) -> [u8; 32] {
        Keccak256::digest(self.signed_text().as_bytes()).into()
    }

    /// Whether the signature (its first 64 bytes, r || s) verifies against `key`.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        let Some(rs) = self.signature.get(..SIG_LEN - 1) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(rs) else {
            return false;
        };
        key.verify_prehash(&self.signing_hash(), &sig).is_ok()
    }
}

impl fmt::Display for Root {
    /// The full record text, `sig=` included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sig={}",
            self.signed_text(),
            BASE64URL_NOPAD.encode(&self.signature)
        )
    }
}

/// A non-root entry.
#[derive(Clone, Debug)]
pub enum Entry {
    /// `enrtree-branch:<h1>,<h2>,…`: hashes of child entries (possibly none).
    Branch(Vec<String>),
    /// `enr:<base64url>`: a node record, signature verified.
    Enr(Box<Enr>),
    /// `enrtree://<key>@<domain>`: a link to another tree.
    Link(TreeUrl),
}

impl Entry {
    /// Whether `text` starts with one of the entry prefixes, so that it is meant as an
    /// entry (other TXT records at the same name are ignored).
    pub(super) fn is_entry_text(text: &str) -> bool {
        text.starts_with(BRANCH_PREFIX)
            || text.starts_with(ENR_PREFIX)
            || text
                .get(..SCHEME.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME))
    }

    /// Parses an entry's text.
    ///
    /// # Errors
    ///
    /// A message saying what is wrong: unknown prefix, bad hash, bad record, bad link.
    pub fn parse(text: &str) -> Result<Entry, String> {
        if let Some(list) = text.strip_prefix(BRANCH_PREFIX) {
            if list.is_empty() {
                return Ok(Entry::Branch(Vec::new()));
            }
            let hashes = list
                .split(',')
                .map(|h| decode_hash(h).map(|_| h.to_owned()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Entry::Branch(hashes))
        } else if text.starts_with(ENR_PREFIX) {
            parse_enr(text)
                .map(|enr| Entry::Enr(Box::new(enr)))
                .map_err(|e| format!("bad node record: {e}"))
        } else if Entry::is_entry_text(text) {
            text.parse::<TreeUrl>()
                .map(Entry::Link)
                .map_err(|e| format!("bad link: {e}"))
        } else {
            let shown: String = text.chars().take(40).collect();
            Err(format!("unknown entry type: {shown:?}"))
        }
    }

    /// The entry's text, the form that is hashed and published.
    pub fn text(&self) -> String {
        match self {
            Entry::Branch(hashes) => format!("{BRANCH_PREFIX}{}", hashes.join(",")),
            Entry::Enr(enr) => enr.to_base64(),
            Entry::Link(url) => url.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example tree of EIP-1459 (as zone records: name, text). go-ethereum's client
    /// tests resolve the same records under the domain `n` with the URL key
    /// [`EIP_SIGNER`].
    const EIP_ROOT: &str = "enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA";
    const EIP_ENTRIES: [(&str, &str); 5] = [
        ("C7HRFPF3BLGF3YR4DY5KX3SMBE", "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org"),
        ("JWXYDBPXYWG6FX3GMDIBFA6CJ4", "enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY,MHTDO6TMUBRIA2XWG5LUDACK24"),
        ("2XS2367YHAXJFGLZHVAWLQD4ZY", "enr:-HW4QOFzoVLaFJnNhbgMoDXPnOvcdVuj7pDpqRvh6BRDO68aVi5ZcjB3vzQRZH2IcLBGHzo8uUN3snqmgTiE56CH3AMBgmlkgnY0iXNlY3AyNTZrMaECC2_24YYkYHEgdzxlSNKQEnHhuNAbNlMlWJxrJxbAFvA"),
        ("H4FHT4B454P6UXFD7JCYQ5PWDY", "enr:-HW4QAggRauloj2SDLtIHN1XBkvhFZ1vtf1raYQp9TBW2RD5EEawDzbtSmlXUfnaHcvwOizhVYLtr7e6vw7NAf6mTuoCgmlkgnY0iXNlY3AyNTZrMaECjrXI8TLNXU0f8cthpAMxEshUyQlK-AM0PW2wfrnacNI"),
        ("MHTDO6TMUBRIA2XWG5LUDACK24", "enr:-HW4QLAYqmrwllBEnzWWs7I5Ev2IAs7x_dZlbYdRdMUx5EyKHDXp7AV5CkuPGUPdvbv1_Ms1CPfhcGCvSElSosZmyoqAgmlkgnY0iXNlY3AyNTZrMaECriawHKWdDRk2xeZkrOXBQ0dfMFLHY4eENZwdufn1S1o"),
    ];
    /// The key that signed [`EIP_ROOT`].
    const EIP_SIGNER: &str = "AKPYQIUQIL7PSIACI32J7FGZW56E5FKHEFCCOFHILBIMW3M6LWXS2";

    fn key(b32: &str) -> VerifyingKey {
        format!("enrtree://{b32}@n")
            .parse::<TreeUrl>()
            .expect("valid key")
            .public_key
    }

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).expect("a constant below the group order")
    }

    /// keccak256("") is the well-known
    /// c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470. Its first 16
    /// bytes, c5d24601 86f7233c 927e7db2 dcc703c0 (128 bits), padded with two zero bits to
    /// 130 and cut into 26 groups of 5 from the most significant bit:
    /// 11000 10111 01001 00100 01100 00000 01100 00110 11110 11100 10001 10011 11001
    /// 00100 10011 11110 01111 10110 11001 01101 11001 10001 11000 00011 11000 00000,
    /// that is 24 23 9 4 12 0 12 6 30 28 17 19 25 4 19 30 15 22 25 13 25 17 24 3 24 0, read
    /// in the RFC 4648 alphabet (A=0 … Z=25, 2=26 … 7=31) give the label below.
    #[test]
    fn hash_of_empty_text_by_hand() {
        assert_eq!(subdomain_hash(""), "YXJEMAMG64RTZET6PWZNZRYDYA");
        // The same digest, checked byte-wise.
        assert_eq!(
            hex::encode(Keccak256::digest(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn hashes_of_the_eip_example() {
        for (name, text) in EIP_ENTRIES {
            assert_eq!(subdomain_hash(text), name, "hash of {text}");
            assert!(hash_matches(&decode_hash(name).unwrap(), text));
        }
    }

    #[test]
    fn the_eip_root_verifies() {
        let root = Root::parse(EIP_ROOT).expect("parses");
        assert_eq!(root.enr_root, "JWXYDBPXYWG6FX3GMDIBFA6CJ4");
        assert_eq!(root.link_root, "C7HRFPF3BLGF3YR4DY5KX3SMBE");
        assert_eq!(root.seq, 1);
        assert_eq!(root.to_string(), EIP_ROOT, "Display round-trips");
        assert!(root.verify(&key(EIP_SIGNER)));
    }

    #[test]
    fn signature_check_fails_on_flipped_byte_or_other_key() {
        let root = Root::parse(EIP_ROOT).unwrap();
        for i in 0..64 {
            let mut bad = root.clone();
            bad.signature[i] ^= 0x01;
            assert!(!bad.verify(&key(EIP_SIGNER)), "flipped byte {i}");
        }
        // v is not used.
        let mut other_v = root.clone();
        other_v.signature[64] ^= 0x01;
        assert!(other_v.verify(&key(EIP_SIGNER)));
        // The URL key of the EIP example did not sign this root.
        assert!(!root.verify(&key(
            "AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2"
        )));
        // A changed field breaks the signature.
        let mut bumped = root.clone();
        bumped.seq = 2;
        assert!(!bumped.verify(&key(EIP_SIGNER)));
    }

    #[test]
    fn sign_then_verify() {
        let sk = signing_key(7);
        let root = Root::sign(
            subdomain_hash("enrtree-branch:"),
            subdomain_hash("enrtree-branch:"),
            42,
            &sk,
        );
        assert_eq!(root.signature.len(), 65);
        assert!(root.signature[64] <= 1, "v is the recovery id");
        let text = root.to_string();
        let parsed = Root::parse(&text).unwrap();
        assert_eq!(parsed, root);
        assert!(parsed.verify(sk.verifying_key()));
        assert!(!parsed.verify(signing_key(8).verifying_key()));
    }

    /// (r, n − s) verifies mathematically whenever (r, s) does; like go-ethereum, only the
    /// low-S form is accepted.
    #[test]
    fn high_s_signature_is_refused() {
        let sk = signing_key(7);
        let hash = subdomain_hash("enrtree-branch:");
        let root = Root::sign(hash.clone(), hash, 1, &sk);
        let low = Signature::from_slice(&root.signature[..64]).unwrap();
        let (r, s) = low.split_scalars();
        let high = Signature::from_scalars(r, -s).unwrap();
        assert_ne!(high, low);
        let mut flipped = root.clone();
        flipped.signature[..64].copy_from_slice(&high.to_bytes());
        assert!(root.verify(sk.verifying_key()));
        assert!(!flipped.verify(sk.verifying_key()));
    }

    #[test]
    fn root_parse_errors_name_the_field() {
        let good = Root::parse(EIP_ROOT).unwrap();
        let sig = BASE64URL_NOPAD.encode(&good.signature);
        let h = "JWXYDBPXYWG6FX3GMDIBFA6CJ4";
        for (text, needle) in [
            (
                "enrtree-root:v2 e=A l=B seq=1 sig=x".to_owned(),
                "enrtree-root:v1",
            ),
            (format!("enrtree-root:v1 l={h} e={h} seq=1 sig={sig}"), "e="),
            (format!("enrtree-root:v1 e={h} l={h} seq=1"), "sig="),
            (format!("enrtree-root:v1 e=ABC l={h} seq=1 sig={sig}"), "e="),
            (
                format!("enrtree-root:v1 e={h} l={h} seq=-1 sig={sig}"),
                "seq=",
            ),
            (
                format!("enrtree-root:v1 e={h} l={h} seq=99999999999999999999 sig={sig}"),
                "seq=",
            ),
            (
                format!("enrtree-root:v1 e={h} l={h} seq=1 sig={sig}AA"),
                "sig=",
            ),
            (format!("enrtree-root:v1 e={h} l={h} seq=1 sig=!!"), "sig="),
            (
                format!("enrtree-root:v1 e={h} l={h} seq=1 sig={sig} x=1"),
                "after sig=",
            ),
        ] {
            let err = Root::parse(&text).expect_err(&text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn parses_entries() {
        match Entry::parse(EIP_ENTRIES[1].1).unwrap() {
            Entry::Branch(h) => assert_eq!(
                h,
                [
                    "2XS2367YHAXJFGLZHVAWLQD4ZY",
                    "H4FHT4B454P6UXFD7JCYQ5PWDY",
                    "MHTDO6TMUBRIA2XWG5LUDACK24"
                ]
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Entry::parse("enrtree-branch:").unwrap(),
            Entry::Branch(h) if h.is_empty()
        ));
        match Entry::parse(EIP_ENTRIES[0].1).unwrap() {
            Entry::Link(url) => assert_eq!(url.domain, "morenodes.example.org"),
            other => panic!("{other:?}"),
        }
        for (_, text) in &EIP_ENTRIES[2..] {
            let entry = Entry::parse(text).unwrap();
            assert!(matches!(entry, Entry::Enr(_)));
            assert_eq!(entry.text(), *text, "text round-trips");
        }
    }

    #[test]
    fn rejects_garbage_entries() {
        for (text, needle) in [
            ("v=spf1 -all", "unknown entry type"),
            ("", "unknown entry type"),
            ("enrtree-branch:AAAA", "bytes"),
            (
                "enrtree-branch:JWXYDBPXYWG6FX3GMDIBFA6CJ4,",
                "hash \"\" is 0 bytes",
            ),
            ("enrtree-branch:jwxydbpxywg6fx3gmdibfa6cj4", "base32"),
            ("enr:AAAA", "bad node record"),
            ("enr:", "bad node record"),
            ("enrtree://@x", "bad link"),
            (
                "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@",
                "bad link",
            ),
        ] {
            let err = Entry::parse(text).expect_err(text);
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
