//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3.1: `client_secret_basic`, `client_secret_post`; `none` for public clients).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::OAuthError;
use crate::db::DbConnection;
use crate::db::models::apps::{self, App};
use crate::db::models::backends;
use crate::http::params::Params;
use crate::http::text;
use crate::tokens::{SecretDigest, SecretHash};

/// The credentials a request carries, before any database lookup.
#[derive(Debug, Clone)]
pub enum Presented {
    /// `Authorization: Basic` (`client_secret_basic`).
    Basic {
        id: String,
        secret: String,
    },
    /// `client_id` and `client_secret` in the body (`client_secret_post`).
    Body {
        id: String,
        secret: String,
    },
    /// Only a `client_id` (`none`: public clients).
    IdOnly {
        id: String,
    },
    Nothing,
}

impl Presented {
    fn used_basic(&self) -> bool {
        matches!(self, Presented::Basic { .. })
    }

    /// The `client_id` of a client authenticating with `none` (a public client).
    pub fn public_id(&self) -> Option<&str> {
        match self {
            Presented::IdOnly { id } => Some(id),
            _ => None,
        }
    }
}

/// The `client_id` and `client_secret` of `Authorization: Basic`, each
/// `application/x-www-form-urlencoded` before base64 (RFC 6749 §2.3.1) and decoded at the
/// text boundary like every other field. `None` when another scheme (or none) is used.
pub fn basic(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("malformed Basic credentials", true);
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let colon = decoded.iter().position(|&b| b == b':').ok_or_else(malformed)?;
    let part = |raw: &[u8]| text::form_component(raw).map_err(|_| malformed());
    Ok(Some((part(&decoded[..colon])?, part(&decoded[colon + 1..])?)))
}

/// Reads the credentials. Using two methods at once is refused (§2.3: "MUST NOT use more
/// than one authentication method"), except that a body `client_id` equal to the Basic one
/// is accepted.
pub fn presented(req: &HttpRequest, params: &Params) -> Result<Presented, OAuthError> {
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
    match (basic(req)?, body_id, body_secret) {
        (Some(_), _, Some(_)) => {
            Err(OAuthError::invalid_request("use either HTTP Basic or client_secret in the body, not both"))
        }
        (Some((id, _)), Some(body_id), None) if body_id != id => {
            Err(OAuthError::invalid_request("client_id in the body does not match the Basic credentials"))
        }
        (Some((id, secret)), _, None) => Ok(Presented::Basic { id, secret }),
        (None, Some(id), Some(secret)) => Ok(Presented::Body { id: id.to_owned(), secret: secret.to_owned() }),
        (None, None, Some(_)) => Err(OAuthError::invalid_request("client_secret without client_id")),
        (None, Some(id), None) => Ok(Presented::IdOnly { id: id.to_owned() }),
        (None, None, None) => Ok(Presented::Nothing),
    }
}

fn failed(presented: &Presented) -> OAuthError {
    // Say the same thing for an unknown client and a wrong secret.
    OAuthError::invalid_client("client authentication failed", presented.used_basic())
}

/// Authenticates an OAuth application: confidential clients by secret, public clients by
/// `client_id` alone (when `allow_public`).
pub fn authenticate_app(conn: &mut DbConnection, presented: &Presented, allow_public: bool) -> Result<App, OAuthError> {
    let lookup =
        |conn: &mut DbConnection, id: &str| apps::find_by_client_id(conn, id).map_err(OAuthError::server_error);
    match presented {
        Presented::Basic { id, secret } | Presented::Body { id, secret } => {
            let app = lookup(conn, id)?.ok_or_else(|| failed(presented))?;
            match &app.secret_hash {
                Some(stored) if SecretHash::matches_stored(stored, secret) => Ok(app),
                _ => Err(failed(presented)),
            }
        }
        Presented::IdOnly { id } => {
            let app = lookup(conn, id)?.ok_or_else(|| failed(presented))?;
            if app.is_public() && allow_public {
                Ok(app)
            } else {
                Err(OAuthError::invalid_client("client authentication required", true))
            }
        }
        Presented::Nothing => Err(OAuthError::invalid_client("client authentication required", true)),
    }
}

/// Who may call introspection and `/v1/check`.
pub enum Caller {
    Backend,
    /// Boxed: an app row is large next to nothing at all.
    App(Box<App>),
}

/// Backend credentials recently proven, so that a platform service introspecting on every one
/// of its requests does not cost a credential lookup each time. Entries hold the SHA-256 of
/// the secret that was proven and expire after [`BackendCache::TTL`]; a wrong secret always
/// goes to the database. Only backend credentials are cached (they can be neither rotated nor
/// revoked today); application credentials and the credentials being verified never are.
#[derive(Default)]
pub struct BackendCache {
    entries: Mutex<HashMap<String, (SecretDigest, Instant)>>,
}

impl BackendCache {
    pub const TTL: Duration = Duration::from_secs(10);
    const CAPACITY: usize = 1024;

    fn knows(&self, id: &str, secret: &str) -> bool {
        let Ok(entries) = self.entries.lock() else {
            return false;
        };
        entries.get(id).is_some_and(|(digest, proven)| proven.elapsed() < Self::TTL && digest.matches(secret))
    }

    fn remember(&self, id: &str, secret: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::CAPACITY {
                entries.retain(|_, (_, proven)| proven.elapsed() < Self::TTL);
            }
            if entries.len() < Self::CAPACITY {
                entries.insert(id.to_owned(), (SecretDigest::of(secret), Instant::now()));
            }
        }
    }
}

/// The caller, when [`authenticate_caller`] would know it without the database: a backend
/// whose secret was proven recently.
pub fn known_caller(presented: &Presented, cache: &BackendCache) -> Option<Caller> {
    let (Presented::Basic { id, secret } | Presented::Body { id, secret }) = presented else {
        return None;
    };
    cache.knows(id, secret).then_some(Caller::Backend)
}

/// Authenticates a backend credential or a confidential app (never by id alone).
pub fn authenticate_caller(
    conn: &mut DbConnection,
    presented: &Presented,
    cache: &BackendCache,
) -> Result<Caller, OAuthError> {
    if let Some(caller) = known_caller(presented, cache) {
        return Ok(caller);
    }
    let (Presented::Basic { id, secret } | Presented::Body { id, secret }) = presented else {
        return Err(OAuthError::invalid_client("client authentication required", true));
    };
    if let Some(backend) = backends::find_by_client_id(conn, id).map_err(OAuthError::server_error)? {
        return if backend.revoked_at.is_none() && SecretHash::matches_stored(&backend.secret_hash, secret) {
            cache.remember(id, secret);
            Ok(Caller::Backend)
        } else {
            Err(failed(presented))
        };
    }
    authenticate_app(conn, presented, false).map(|app| Caller::App(Box::new(app)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_cache_only_knows_the_secret_that_was_proven() {
        let cache = BackendCache::default();
        assert!(!cache.knows("backend-1", "s3cret"));
        cache.remember("backend-1", "s3cret");
        assert!(cache.knows("backend-1", "s3cret"));
        assert!(!cache.knows("backend-1", "s3cret2"));
        assert!(!cache.knows("backend-2", "s3cret"));
    }
}
