//! Errors of the token, introspection and revocation endpoints (RFC 6749 §5.2): a JSON body
//! `{"error", "error_description"}`, `Cache-Control: no-store`, 400 — or 401 with
//! `WWW-Authenticate` for client authentication failures.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::http::body::BodyError;
use crate::http::params::Repeated;
use crate::http::text::Malformed;
use crate::http::{DbError, set_retry_after};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// Send `WWW-Authenticate: Basic` (the client tried, or should try, HTTP Basic).
    pub challenge_basic: bool,
    /// Send `Retry-After` with these seconds (a 429).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into(), challenge_basic: false, retry_after: None }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// RFC 6749 §5.2: 401, with `WWW-Authenticate` naming the scheme the client used
    /// (we send it whenever Basic was used, and when no credentials came at all).
    pub fn invalid_client(description: impl Into<String>, challenge_basic: bool) -> Self {
        OAuthError { challenge_basic, ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description) }
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    /// RFC 8707 §2: a `resource` that is malformed, unknown, or not granted.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", description)
    }

    /// A 400 with another RFC error code: RFC 8628 §3.5's `authorization_pending`,
    /// `slow_down`, `access_denied`, `expired_token`.
    pub fn bad_request(error: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, description)
    }

    /// 429 `invalid_request` with `Retry-After` (RFC 6585 §4): this address asked too often
    /// for something that costs the server a row or an outbound request.
    pub fn too_many_requests(description: impl Into<String>, retry_after: std::time::Duration) -> Self {
        OAuthError {
            retry_after: Some(retry_after.as_secs()),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "invalid_request", description)
        }
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", description)
    }

    /// A fault on our side; the cause is logged, not sent.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "server error on an OAuth endpoint");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the server could not complete the request")
    }

    /// A known protocol endpoint asked with another method (the `Allow` header says which).
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "this endpoint does not accept that HTTP method")
    }

    pub fn body_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "request body too large")
    }
}

impl From<Repeated> for OAuthError {
    fn from(repeated: Repeated) -> Self {
        OAuthError::invalid_request(format!("parameter {} is repeated", repeated.0))
    }
}

/// Malformed input on an OAuth endpoint is `invalid_request` (RFC 6749 §5.2).
impl From<Malformed> for OAuthError {
    fn from(malformed: Malformed) -> Self {
        OAuthError::invalid_request(malformed.0)
    }
}

impl From<DbError> for OAuthError {
    fn from(error: DbError) -> Self {
        OAuthError::server_error(error)
    }
}

impl From<BodyError> for OAuthError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge => OAuthError::body_too_large(),
            BodyError::Broken => OAuthError::invalid_request("the request body could not be read"),
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
        if self.challenge_basic {
            response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="portcullis", charset="UTF-8""#));
        }
        let mut response = response.json(Body { error: self.error, error_description: &self.description });
        if let Some(seconds) = self.retry_after {
            set_retry_after(&mut response, seconds);
        }
        response
    }
}

/// A successful JSON answer from an OAuth endpoint: never cached (RFC 6749 §5.1).
pub fn no_store_json(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(body)
}
