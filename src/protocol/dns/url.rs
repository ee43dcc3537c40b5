//! `enrtree://<base32 key>@<domain>` URLs.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use k256::ecdsa::VerifyingKey;

use super::DnsError;

/// The URL scheme, with its separator.
pub(super) const SCHEME: &str = "enrtree://";

/// Length of a compressed secp256k1 public key.
const COMPRESSED_KEY_LEN: usize = 33;

/// Longest DNS name in text form (RFC 1035 §2.3.4: 255 octets on the wire).
const MAX_DOMAIN_LEN: usize = 253;

/// Longest DNS label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// What is wrong with an `enrtree://` URL.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL does not start with `enrtree://`.
    #[error("scheme must be enrtree://")]
    Scheme,
    /// There is no `<key>@` part.
    #[error("no public key: expected enrtree://<key>@<domain>")]
    MissingKey,
    /// The key is not valid unpadded upper-case base32.
    #[error("public key is not valid base32 (RFC 4648, no padding): {0}")]
    KeyEncoding(String),
    /// The key decodes to the wrong number of bytes.
    #[error("public key is {0} bytes, expected a 33-byte compressed secp256k1 key")]
    KeyLength(usize),
    /// The key's 33 bytes are not a point on secp256k1.
    #[error("public key is not a valid compressed secp256k1 point")]
    KeyNotAPoint,
    /// Nothing follows the `@`.
    #[error("domain is empty")]
    EmptyDomain,
    /// The domain is not a DNS name.
    #[error("domain is not a valid DNS name: {0}")]
    BadDomain(String),
}

/// A parsed `enrtree://` URL: the key that signs the tree and the domain it lives at.
///
/// The domain is kept in lower case without a trailing dot; [`fmt::Display`] gives the
/// canonical URL text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeUrl {
    /// The tree signer's public key.
    pub public_key: VerifyingKey,
    /// The domain of the tree's root record (lower case, no trailing dot).
    pub domain: String,
}

impl TreeUrl {
    /// The URL for `public_key` at `domain` (validated like a parsed URL's domain).
    ///
    /// # Errors
    ///
    /// [`DnsError::BadUrl`] when `domain` is not a DNS name.
    pub fn new(public_key: VerifyingKey, domain: &str) -> Result<TreeUrl, DnsError> {
        let domain = normalize_domain(domain).map_err(|reason| DnsError::BadUrl {
            url: format!("{SCHEME}{}@{domain}", encode_key(&public_key)),
            reason,
        })?;
        Ok(TreeUrl { public_key, domain })
    }

    /// The base32 text of the public key, as it appears in the URL.
    pub fn key_text(&self) -> String {
        encode_key(&self.public_key)
    }
}

impl fmt::Display for TreeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}@{}", self.key_text(), self.domain)
    }
}

impl FromStr for TreeUrl {
    type Err = DnsError;

    /// Parses `enrtree://<key>@<domain>`. The scheme is matched case-insensitively; the key
    /// must be canonical unpadded upper-case base32 of a 33-byte compressed key.
    fn from_str(text: &str) -> Result<TreeUrl, DnsError> {
        parse(text.trim()).map_err(|reason| DnsError::BadUrl {
            url: text.to_owned(),
            reason,
        })
    }
}

fn parse(text: &str) -> Result<TreeUrl, UrlError> {
    let rest = match text.get(..SCHEME.len()) {
        Some(scheme) if scheme.eq_ignore_ascii_case(SCHEME) => &text[SCHEME.len()..],
        _ => return Err(UrlError::Scheme),
    };
    let (key, domain) = rest.split_once('@').ok_or(UrlError::MissingKey)?;
    if key.is_empty() {
        return Err(UrlError::MissingKey);
    }
    let bytes = BASE32_NOPAD
        .decode(key.as_bytes())
        .map_err(|e| UrlError::KeyEncoding(e.to_string()))?;
    if bytes.len() != COMPRESSED_KEY_LEN {
        return Err(UrlError::KeyLength(bytes.len()));
    }
    let public_key = VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| UrlError::KeyNotAPoint)?;
    let domain = normalize_domain(domain)?;
    Ok(TreeUrl { public_key, domain })
}

/// The base32 text of a compressed public key.
pub(super) fn encode_key(key: &VerifyingKey) -> String {
    BASE32_NOPAD.encode(&key.to_sec1_point(true).to_bytes())
}

/// Checks that `domain` is a DNS name (labels of 1–63 letters, digits, `-` or `_`; at most
/// 253 characters) and returns it in lower case without a trailing dot.
pub(super) fn normalize_domain(domain: &str) -> Result<String, UrlError> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return Err(UrlError::EmptyDomain);
    }
    if domain.len() > MAX_DOMAIN_LEN {
        return Err(UrlError::BadDomain(format!(
            "{} characters, at most {MAX_DOMAIN_LEN} allowed",
            domain.len()
        )));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(UrlError::BadDomain(format!("empty label in {domain:?}")));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(UrlError::BadDomain(format!(
                "label {label:?} is longer than {MAX_LABEL_LEN} characters"
            )));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(UrlError::BadDomain(format!(
                "character {c:?} is not allowed in a DNS label"
            )));
        }
    }
    Ok(domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example URL of EIP-1459.
    const EIP_URL: &str =
        "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@nodes.example.org";

    fn reason(text: &str) -> UrlError {
        match text.parse::<TreeUrl>() {
            Err(DnsError::BadUrl { reason, url }) => {
                assert_eq!(url, text, "the error names the URL");
                reason
            }
            other => panic!("{text:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn parses_the_eip_example() {
        let url: TreeUrl = EIP_URL.parse().expect("valid");
        assert_eq!(url.domain, "nodes.example.org");
        // The key's 33 bytes (decoded independently with Python's base64.b32decode). The
        // uncompressed key printed in the EIP's prose (0x049f88…) does not belong to this
        // URL; the EIP's example signatures and hashes do check out (see `entry`).
        assert_eq!(
            hex::encode(url.public_key.to_sec1_point(true).as_bytes()),
            "033a514176466fa815ed481ffad09110a2d344f6c9b78c1d14afc351c3a51be33d"
        );
        assert_eq!(url.to_string(), EIP_URL, "Display round-trips");
    }

    #[test]
    fn parses_the_waku_sandbox_key() {
        let url: TreeUrl =
            "enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im"
                .parse()
                .expect("valid");
        assert_eq!(
            hex::encode(url.public_key.to_sec1_point(true).to_bytes()),
            "0223587463070a5b2e2111d36a59cef5fd2e6679e87defae1e0269e793035c47d7"
        );
    }

    #[test]
    fn normalizes_case_and_trailing_dot() {
        let url: TreeUrl =
            "ENRTREE://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@Nodes.Example.ORG."
                .parse()
                .expect("valid");
        assert_eq!(url.domain, "nodes.example.org");
    }

    #[test]
    fn rejects_bad_scheme() {
        assert_eq!(
            reason(
                "https://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@nodes.example.org"
            ),
            UrlError::Scheme
        );
        assert_eq!(reason("enrtree:"), UrlError::Scheme);
        assert_eq!(reason(""), UrlError::Scheme);
    }

    #[test]
    fn rejects_missing_key() {
        assert_eq!(reason("enrtree://nodes.example.org"), UrlError::MissingKey);
        assert_eq!(reason("enrtree://@nodes.example.org"), UrlError::MissingKey);
    }

    #[test]
    fn rejects_bad_base32() {
        // Lower case, a digit outside the alphabet, and padding are all invalid.
        for key in [
            "am5fcqlwizx2qfpnjap7vuerccrngrhwzg3yyhiuv7bvdq5fdprt2",
            "AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT1",
            "AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2===",
        ] {
            let text = format!("enrtree://{key}@nodes.example.org");
            assert!(
                matches!(reason(&text), UrlError::KeyEncoding(_)),
                "{key} must fail as an encoding error"
            );
        }
    }

    #[test]
    fn rejects_wrong_key_length() {
        // 32 bytes of base32 (a bare x coordinate, say).
        let short = BASE32_NOPAD.encode(&[2u8; 32]);
        assert_eq!(
            reason(&format!("enrtree://{short}@nodes.example.org")),
            UrlError::KeyLength(32)
        );
        let long = BASE32_NOPAD.encode(&[4u8; 65]);
        assert_eq!(
            reason(&format!("enrtree://{long}@nodes.example.org")),
            UrlError::KeyLength(65)
        );
    }

    #[test]
    fn rejects_key_not_on_curve() {
        // Prefix 0x05 is no SEC1 compressed point; x = p - 1 with prefix 0x02 has no y
        // either way, so both fail.
        let mut bad = [0xffu8; 33];
        bad[0] = 0x05;
        let text = format!("enrtree://{}@nodes.example.org", BASE32_NOPAD.encode(&bad));
        assert_eq!(reason(&text), UrlError::KeyNotAPoint);
    }

    #[test]
    fn rejects_bad_domains() {
        let key = "AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2";
        assert_eq!(reason(&format!("enrtree://{key}@")), UrlError::EmptyDomain);
        assert_eq!(reason(&format!("enrtree://{key}@.")), UrlError::EmptyDomain);
        for domain in [
            "a..b",
            "nodes.example.org/path",
            "x@y",
            "has space.org",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    reason(&format!("enrtree://{key}@{domain}")),
                    UrlError::BadDomain(_)
                ),
                "{domain:?} must be rejected"
            );
        }
    }
}
