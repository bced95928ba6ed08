//! Every response: a request id, security headers, one log line (method, path, status,
//! duration — never the query string, headers or body, which may carry secrets), and the
//! request metrics (by route pattern, never by path). HEAD requests are served as GET.

use std::fmt;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

use crate::telemetry::metrics;

/// Identifies a request in logs and on error pages (16 hex digits).
#[derive(Debug, Clone, Copy)]
pub struct RequestId(u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

tokio::task_local! {
    /// The id of the request being handled, for error bodies built without the request
    /// (`ResponseError::error_response`).
    static CURRENT: RequestId;
}

impl RequestId {
    /// The id of the request this task is handling, if any.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(|id| *id).ok()
    }
}

/// Pages must never be framed (clickjacking) nor leak URLs through `Referer`; nothing we
/// serve needs other origins' scripts, styles or frames.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // Not a secret: a fast user-space generator is enough (no syscall per request).
    let id = RequestId(rand::random());
    req.extensions_mut().insert(id);
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.path());
    // HEAD is GET without the body (RFC 9110 §9.3.2): route it as GET; actix's encoder already
    // leaves the body out of the answer to a HEAD request.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let started = Instant::now();
    let mut res = CURRENT.scope(id, next.call(req).instrument(span.clone())).await?;
    let status = res.status();
    let elapsed = started.elapsed();
    let route = res.request().match_pattern();
    metrics::http_request(
        route.as_deref().unwrap_or("unmatched"),
        method_label(res.request().method()),
        status.as_u16(),
        elapsed,
    );
    let elapsed_us = elapsed.as_micros();
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), elapsed_us, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_us, "request");
        }
    });
    let headers = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if let Ok(value) = HeaderValue::try_from(id.to_string()) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// The method as a metric label: the standard ones (RFC 9110 §9, and PATCH) by name, any
/// other — a client may send whatever token it likes — as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}
