//! The JSON API under `/v1` and the operational endpoints (`/healthz`, `/readyz`; `/metrics`,
//! composed by startup on the listener it belongs to).

mod auth;
mod check;
mod deploy_keys;
pub mod error;
mod health;
pub mod metrics;
mod openapi;
mod token_details;

pub use self::error::ApiError;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    health::configure(cfg);
    token_details::configure(cfg);
    check::configure(cfg);
    deploy_keys::configure(cfg);
    openapi::configure(cfg);
}
