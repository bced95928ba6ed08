//! The token endpoint (RFC 6749 §3.2, §4.1.3, §6): `authorization_code` and `refresh_token`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::client_auth;
use super::error::{OAuthError, no_store_json};
use super::oxide::{self, CodeExchange};
use super::request::form;
use crate::http::{AppState, client_ip};
use crate::ops::grants::{self, IssuedTokens, RefreshRefused};

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
    if let Some(repeated) =
        params.first_repeated(&["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"])
    {
        return Err(repeated.into());
    }
    let grant_type =
        params.get("grant_type")?.ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?.to_owned();
    if grant_type != "authorization_code" && grant_type != "refresh_token" {
        return Err(OAuthError::unsupported_grant_type("supported: authorization_code, refresh_token"));
    }
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
                let exchange = CodeExchange { code, redirect_uri, code_verifier: params.get("code_verifier")? };
                oxide::exchange_code(conn, &app, &policy, &exchange, ip)
            } else {
                let refresh_token = params
                    .get("refresh_token")?
                    .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
                match grants::refresh(conn, &app, refresh_token, params.get("scope")?, &policy, ip, crate::db::now()) {
                    Ok(Ok(tokens)) => Ok(tokens),
                    Ok(Err(RefreshRefused::InvalidGrant)) => {
                        Err(OAuthError::invalid_grant("the refresh token is invalid, expired, revoked or already used"))
                    }
                    Ok(Err(RefreshRefused::InvalidScope)) => {
                        Err(OAuthError::invalid_scope("the requested scope exceeds the original grant"))
                    }
                    Err(error) => Err(OAuthError::server_error(error)),
                }
            }
        })
        .await??;
    Ok(no_store_json(TokenResponse::from(issued)))
}
