//! The JSON API under `/v1` and the operational endpoints (`/healthz`, `/readyz`; `/metrics`,
//! composed by startup on the listener it belongs to).
//!
//! The management API (teams, members, projects, deployments, OAuth apps, roles, grants,
//! audit) authenticates its callers in [`caller`] and leaves every decision to the use cases
//! in `ops`, which the CLI and the pages share.

mod apps;
mod auth;
mod caller;
mod check;
mod deploy_keys;
pub mod error;
mod grants;
mod health;
mod input;
mod members;
pub mod metrics;
mod openapi;
mod projects;
mod roles;
mod teams;
mod token_details;

use actix_web::HttpResponseBuilder;
use actix_web::http::header::{self, HeaderValue};

pub use self::caller::CSRF_HEADER;
pub use self::error::ApiError;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    health::configure(cfg);
    token_details::configure(cfg);
    check::configure(cfg);
    deploy_keys::configure(cfg);
    teams::configure(cfg);
    members::configure(cfg);
    projects::configure(cfg);
    apps::configure(cfg);
    roles::configure(cfg);
    grants::configure(cfg);
    openapi::configure(cfg);
}

/// Answers about credentials and teams are never cached (RFC 9111 §5.2.2.5).
fn no_store(mut response: HttpResponseBuilder) -> HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    response
}
