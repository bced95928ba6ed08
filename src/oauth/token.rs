//! The token endpoint (RFC 6749 §3.2, §4.1.3, §6): `authorization_code`, `refresh_token` and
//! the device code grant (RFC 8628 §3.4).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::error::{OAuthError, no_store_json};
use super::oxide::{self, CodeExchange};
use super::request::{form, resources};
use super::{client_auth, client_metadata};
use crate::http::{AppState, client_ip};
use crate::ops::grants::device::{self, Refused};
use crate::ops::grants::{self, IssuedTokens, RefreshAsk, RefreshRefused};

/// RFC 8628 §3.4.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth/token").post(token));
}

/// RFC 6749 §5.1 (`expires_in` and `refresh_token` only for apps with expiring tokens).
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

impl From<IssuedTokens> for TokenResponse {
    fn from(tokens: IssuedTokens) -> Self {
        TokenResponse {
            access_token: tokens.access_token,
            token_type: "bearer",
            scope: tokens.scope.as_str(),
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
        }
    }
}

async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let params = form(&req, payload).await?;
    let presented = client_auth::presented(&req, &params)?;
    if let Some(repeated) = params.first_repeated(&[
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "device_code",
    ]) {
        return Err(repeated.into());
    }
    let grant_type =
        params.get("grant_type")?.ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?.to_owned();
    if !["authorization_code", "refresh_token", DEVICE_CODE_GRANT].contains(&grant_type.as_str()) {
        return Err(OAuthError::unsupported_grant_type(format!(
            "supported: authorization_code, refresh_token, {DEVICE_CODE_GRANT}"
        )));
    }
    let requested = resources(&params)?;
    client_metadata::resolve_for_endpoint(&req, &state, presented.public_id()).await?;
    let policy = state.settings.policy;
    let ip = client_ip(&req);
    let issued = state
        .db(move |conn| -> Result<IssuedTokens, OAuthError> {
            let app = client_auth::authenticate_app(conn, &presented, true)?;
            if grant_type == "authorization_code" {
                let code = params.get("code")?.ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
                let redirect_uri = params.get("redirect_uri")?.ok_or_else(|| {
                    OAuthError::invalid_request("redirect_uri is missing (it was part of the authorization request)")
                })?;
                let exchange = CodeExchange {
                    code,
                    redirect_uri,
                    code_verifier: params.get("code_verifier")?,
                    resources: requested.as_ref(),
                };
                oxide::exchange_code(conn, &app, &policy, &exchange, ip)
            } else if grant_type == DEVICE_CODE_GRANT {
                let device_code =
                    params.get("device_code")?.ok_or_else(|| OAuthError::invalid_request("device_code is missing"))?;
                match device::poll(conn, &app, device_code, requested.as_ref(), &policy, ip, crate::db::now()) {
                    Ok(Ok(tokens)) => Ok(tokens),
                    Ok(Err(refused)) => Err(poll_error(refused)),
                    Err(error) => Err(OAuthError::server_error(error)),
                }
            } else {
                let refresh_token = params
                    .get("refresh_token")?
                    .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
                let ask = RefreshAsk { scope: params.get("scope")?, audience: requested.as_ref() };
                match grants::refresh(conn, &app, refresh_token, &ask, &policy, ip, crate::db::now()) {
                    Ok(Ok(tokens)) => Ok(tokens),
                    Ok(Err(RefreshRefused::InvalidGrant)) => {
                        Err(OAuthError::invalid_grant("the refresh token is invalid, expired, revoked or already used"))
                    }
                    Ok(Err(RefreshRefused::InvalidScope)) => {
                        Err(OAuthError::invalid_scope("the requested scope exceeds the original grant"))
                    }
                    Ok(Err(RefreshRefused::InvalidTarget(refused))) => Err(OAuthError::invalid_target(refused.0)),
                    Err(error) => Err(OAuthError::server_error(error)),
                }
            }
        })
        .await??;
    Ok(no_store_json(TokenResponse::from(issued)))
}

/// RFC 8628 §3.5.
fn poll_error(refused: Refused) -> OAuthError {
    match refused {
        Refused::AuthorizationPending => {
            OAuthError::bad_request("authorization_pending", "the user has not yet approved or denied this device")
        }
        Refused::SlowDown => OAuthError::bad_request(
            "slow_down",
            "polling too fast: the interval for this device code is now 5 seconds longer",
        ),
        Refused::AccessDenied => OAuthError::bad_request("access_denied", "the user denied this device"),
        Refused::ExpiredToken => {
            OAuthError::bad_request("expired_token", "the device code has expired: start a new device authorization")
        }
        Refused::InvalidGrant => {
            OAuthError::invalid_grant("the device code is invalid, already used, or was issued to another client")
        }
        Refused::InvalidTarget(refused) => OAuthError::invalid_target(refused.0),
    }
}
