//! The OAuth 2.0 endpoints: authorization (with consent), token, introspection, revocation,
//! and discovery metadata.

mod authorize;
pub mod client_auth;
pub mod error;
pub mod introspect;
mod metadata;
mod oxide;
mod request;
mod revoke;
mod token;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    authorize::configure(cfg);
    token::configure(cfg);
    introspect::configure(cfg);
    revoke::configure(cfg);
    metadata::configure(cfg);
}
