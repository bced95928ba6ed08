//! Who calls the management API (SPEC §4 `/v1/...`): a person through their login session,
//! or an application through its access token (`Authorization: Bearer`, RFC 6750). Either
//! becomes an [`Actor`], and the use cases decide what it may do inside their own transactions
//! (`ops::access::authorize`), so the API, the pages and the CLI share one rule.
//!
//! A session may change things only from our own origin: the request must carry the session's
//! CSRF token in `X-CSRF-Token` (a header no other origin can set without a CORS preflight,
//! which we never grant), and must not be labelled cross-site by `Sec-Fetch-Site` or `Origin`.

use actix_web::HttpRequest;
use actix_web::http::{Method, header};
use secrecy::SecretString;

use super::ApiError;
use super::auth::{bearer, bearer_token};
use crate::http::{AppState, client_ip};
use crate::ops::Actor;
use crate::ops::verify::Verified;
use crate::ui::{is_cross_site, session};

const CHALLENGE: &str = r#"Bearer realm="portcullis""#;

/// The header a same-origin page sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Who is calling, and — for a session — the CSRF token its changes must carry.
pub struct Caller {
    pub actor: Actor,
    pub csrf_token: Option<String>,
}

/// The actor behind a `/v1` management request, or 401 (no credential) / 403 (a credential
/// that does not manage teams, or a session change without its CSRF token).
pub async fn actor(req: &HttpRequest, state: &AppState) -> Result<Actor, ApiError> {
    Ok(caller(req, state).await?.actor)
}

/// [`actor`], with the session's CSRF token.
pub async fn caller(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        let verified = bearer(req, state).await?;
        let Verified::AppToken(token) = &*verified else {
            return Err(ApiError::Forbidden(
                "deploy keys and admin keys do not manage teams: use an application's access token or a session".into(),
            ));
        };
        let actor = Actor::Token {
            credential: SecretString::from(bearer_token(req)?),
            client_id: token.client_id.clone(),
            user_id: token.user_id,
            client_ip: client_ip(req),
        };
        return Ok(Caller { actor, csrf_token: None });
    }
    let Some(user) = session::current(req, state).await? else {
        return Err(ApiError::Unauthorized("sign in, or send an application's access token".into(), CHALLENGE));
    };
    if !is_safe(req.method()) {
        let presented = req.headers().get(CSRF_HEADER).and_then(|value| value.to_str().ok());
        if is_cross_site(req, &state.settings.issuer) || !user.csrf_matches(presented) {
            return Err(ApiError::Forbidden(format!(
                "a change through the session needs its CSRF token in {CSRF_HEADER}, from this origin"
            )));
        }
    }
    Ok(Caller {
        actor: Actor::User { id: user.user.id, client_ip: client_ip(req) },
        csrf_token: Some(user.csrf_token()),
    })
}

/// RFC 9110 §9.2.1: methods that change nothing.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}
