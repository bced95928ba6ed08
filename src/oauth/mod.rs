//! The OAuth 2.0 endpoints: authorization (with consent), device authorization, token,
//! introspection, revocation, and discovery metadata.

mod authorize;
pub mod client_auth;
pub mod client_metadata;
mod device;
pub mod error;
pub mod introspect;
mod metadata;
mod oxide;
pub mod register;
mod request;
mod revoke;
mod token;

pub use self::token::DEVICE_CODE_GRANT;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    authorize::configure(cfg);
    token::configure(cfg);
    device::configure(cfg);
    introspect::configure(cfg);
    revoke::configure(cfg);
    metadata::configure(cfg);
}
