//! What every HTTP area shares: application state, the text boundary and strict form
//! parsing, bounded body reading, security headers and request logging, last-used bookkeeping.

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
