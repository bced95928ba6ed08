//! What every HTTP area shares: application state, the text boundary and strict form
//! parsing, bounded body reading, per-address limits, security headers and request logging, last-used bookkeeping.

pub mod address_limit;
pub mod body;
pub mod middleware;
pub mod params;
pub mod state;
pub mod text;
pub mod usage;

pub use self::state::{AppState, DbError};

/// The client's address as seen on the socket (proxies are not trusted: put the real
/// address in front of Portcullis with a proxy that terminates there, see README).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<String> {
    req.peer_addr().map(|addr| addr.ip().to_string())
}

/// Sets `Retry-After` (RFC 9110 §10.2.3) on a 429 or 503: `seconds` from now, at least 1.
pub fn set_retry_after(response: &mut actix_web::HttpResponse, seconds: u64) {
    response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, seconds.max(1).into());
}
