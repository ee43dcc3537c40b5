//! Bearer-token authentication for the gRPC and HTTP endpoints, and the dashboard's
//! session cookie derived from the token.
//!
//! The token is compared in constant time: both sides are hashed with SHA-256 first, so
//! neither the content nor the length of the expected token leaks through timing.

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

/// The configured token (only its digest is kept).
#[derive(Clone)]
pub struct Token {
    digest: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

fn digest(s: &[u8]) -> [u8; 32] {
    Sha256::digest(s).into()
}

impl Token {
    /// A token; surrounding whitespace (a trailing newline in a token file) is ignored.
    /// Empty tokens are refused.
    pub fn new(secret: &str) -> Option<Token> {
        let secret = secret.trim();
        (!secret.is_empty()).then(|| Token {
            digest: digest(secret.as_bytes()),
        })
    }

    /// Constant-time comparison with a presented token.
    pub fn matches(&self, presented: &str) -> bool {
        let d = digest(presented.as_bytes());
        d.iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// The value of the dashboard's session cookie: derived from the token (its digest,
    /// hashed again under a label), so the cookie never carries the token itself and stops
    /// working when the token changes.
    pub fn session_value(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"peerscope dashboard session\0");
        h.update(self.digest);
        hex::encode(h.finalize())
    }

    /// Constant-time comparison of a presented session cookie value.
    pub fn matches_session(&self, presented: &str) -> bool {
        let want = digest(self.session_value().as_bytes());
        let got = digest(presented.trim().as_bytes());
        got.iter()
            .zip(want.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Checks an `Authorization` header value (`Bearer <token>`).
    pub fn matches_header(&self, value: &str) -> bool {
        let mut parts = value.trim().splitn(2, ' ');
        match (parts.next(), parts.next()) {
            (Some(scheme), Some(tok)) if scheme.eq_ignore_ascii_case("bearer") => {
                self.matches(tok.trim())
            }
            _ => false,
        }
    }
}

/// A tonic interceptor that requires the token when one is configured.
#[derive(Clone)]
pub struct AuthInterceptor {
    pub token: Option<Token>,
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.token else {
            return Ok(request);
        };
        let ok = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| token.matches_header(v));
        if ok {
            Ok(request)
        } else {
            Err(Status::unauthenticated(
                "missing or wrong bearer token (metadata `authorization: Bearer <token>`)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_match_exactly() {
        let t = Token::new("s3cret\n").unwrap();
        assert!(t.matches_header("Bearer s3cret"));
        assert!(t.matches_header("bearer  s3cret "));
        assert!(!t.matches_header("Bearer s3cre"));
        assert!(!t.matches_header("Bearer s3cret2"));
        assert!(!t.matches_header("Basic s3cret"));
        assert!(!t.matches_header("s3cret"));
        assert!(Token::new("  ").is_none());
        // The session cookie is not the token, and depends on it.
        let v = t.session_value();
        assert!(t.matches_session(&v));
        assert!(!t.matches_session("s3cret"));
        assert!(!Token::new("other").unwrap().matches_session(&v));
    }
}
