//! Reading protocol requests: form bodies (RFC 6749 §3.2) and single-token requests
//! (introspection, RFC 7662 §2.1; revocation, RFC 7009 §2.1).

use actix_web::{HttpRequest, web};

use super::client_auth::{self, Presented};
use super::error::OAuthError;
use crate::domain::Audience;
use crate::http::body;
use crate::http::params::Params;

/// Protocol requests are small; anything bigger is not one.
const BODY_LIMIT: usize = 16 * 1024;

/// Reads a form-encoded body (POST, `application/x-www-form-urlencoded`).
pub async fn form(req: &HttpRequest, payload: web::Payload) -> Result<Params, OAuthError> {
    // Read before judging, so the connection stays usable for the client's next request.
    let body = body::read(req, payload, BODY_LIMIT).await?;
    if !body::is_form(req) {
        return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    Ok(Params::parse(&body)?)
}

/// A request about one token, with the caller's credentials (not yet checked).
pub struct TokenRequest {
    pub presented: Presented,
    pub token: String,
}

/// Reads `token` (required) and the caller's credentials. `token_type_hint` is read only to
/// refuse repeats: it never changes the answer.
pub async fn token_request(req: &HttpRequest, payload: web::Payload) -> Result<TokenRequest, OAuthError> {
    let params = form(req, payload).await?;
    let presented = client_auth::presented(req, &params)?;
    if let Some(repeated) = params.first_repeated(&["token", "token_type_hint"]) {
        return Err(repeated.into());
    }
    let token = params.get("token")?.ok_or_else(|| OAuthError::invalid_request("token is missing"))?.to_owned();
    Ok(TokenRequest { presented, token })
}

/// The RFC 8707 `resource` parameters of a request (any number), parsed; a malformed one is
/// `invalid_target` (§2). Whether they are registered is for the use case to judge.
pub fn resources(params: &Params) -> Result<Option<Audience>, OAuthError> {
    Audience::parse_all(params.all("resource")).map_err(|invalid| OAuthError::invalid_target(invalid.0))
}
