//! Dynamic client registration (RFC 7591 §3, SPEC §7), when
//! `PORTCULLIS_DYNAMIC_REGISTRATION=open`: anyone may register a *public* client, which is
//! unverified and owned by no team. Throttled per address: [`registration_limit`].

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value};

use super::client_metadata::{string, strings, web_url};
use super::error::{OAuthError, no_store_json};
use super::token::DEVICE_CODE_GRANT;
use crate::domain::{AppName, RedirectUris};
use crate::http::address_limit::AddressLimit;
use crate::http::{AppState, body, client_ip};
use crate::ops::Actor;
use crate::ops::apps::{self, Registration};

/// Registrations are small; anything bigger is not one.
const BODY_LIMIT: usize = 16 * 1024;
const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", DEVICE_CODE_GRANT];

/// Only registered when registration is open: otherwise the path is an ordinary 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth/register").post(register));
}

/// Registrations per client address: a registration costs a row, not a secret, so the limit
/// bounds table growth from one address, not guessing.
const REGISTRATIONS_PER_HOUR: usize = 10;
const REGISTRATION_WINDOW: Duration = Duration::from_secs(3600);

/// The limit on registrations this instance accepts per address.
pub fn registration_limit() -> AddressLimit {
    AddressLimit::new(REGISTRATIONS_PER_HOUR, REGISTRATION_WINDOW)
}

/// RFC 7591 §3.2.1: the client information response.
#[derive(Serialize)]
struct Registered {
    client_id: String,
    client_id_issued_at: i64,
    client_name: String,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    response_types: Vec<String>,
    token_endpoint_auth_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo_uri: Option<String>,
}

/// RFC 7591 §3.2.2 `invalid_client_metadata`.
fn invalid_metadata(description: impl Into<String>) -> OAuthError {
    OAuthError::bad_request("invalid_client_metadata", description)
}

/// The requested metadata (RFC 7591 §2), validated; unknown members are ignored (§2).
struct Requested {
    name: AppName,
    redirect_uris: RedirectUris,
    grant_types: Vec<String>,
    response_types: Vec<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
}

fn requested(metadata: &Map<String, Value>) -> Result<Requested, OAuthError> {
    // Public clients only: no secret is ever issued here (SPEC §7).
    if string(metadata, "token_endpoint_auth_method").map_err(invalid_metadata)?.is_some_and(|method| method != "none")
    {
        return Err(invalid_metadata("only public clients register here: token_endpoint_auth_method must be \"none\""));
    }
    let uris = strings(metadata, "redirect_uris")
        .map_err(|e| OAuthError::bad_request("invalid_redirect_uri", e))?
        .ok_or_else(|| OAuthError::bad_request("invalid_redirect_uri", "redirect_uris is required"))?;
    let redirect_uris = RedirectUris::parse(&uris).map_err(|e| OAuthError::bad_request("invalid_redirect_uri", e.0))?;
    // Required: the consent page names the app, and nobody else vouches for it.
    let name = string(metadata, "client_name")
        .map_err(invalid_metadata)?
        .ok_or_else(|| invalid_metadata("client_name is required"))?;
    let name = AppName::parse(&name).map_err(|e| invalid_metadata(format!("client_name: {}", e.0)))?;
    let grant_types = strings(metadata, "grant_types")
        .map_err(invalid_metadata)?
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(unsupported) = grant_types.iter().find(|grant| !GRANT_TYPES.contains(&grant.as_str())) {
        return Err(invalid_metadata(format!(
            "grant type {unsupported:?} is not supported (supported: {})",
            GRANT_TYPES.join(", ")
        )));
    }
    let response_types =
        strings(metadata, "response_types").map_err(invalid_metadata)?.unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|response_type| response_type != "code") {
        return Err(invalid_metadata("response_types must be [\"code\"]"));
    }
    Ok(Requested {
        name,
        redirect_uris,
        grant_types,
        response_types,
        client_uri: web_url(metadata, "client_uri").map_err(invalid_metadata)?,
        logo_uri: web_url(metadata, "logo_uri").map_err(invalid_metadata)?,
    })
}

/// `POST /oauth/register`: a JSON object of client metadata → 201 with the client information
/// (RFC 7591 §3.1–3.2). Errors are 400 `{"error","error_description"}`, no-store (§3.2.2).
async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let body = body::read(&req, payload, BODY_LIMIT).await?;
    let address = client_ip(&req);
    if let Err(retry_after) = state.registrations.take(address.as_deref(), Instant::now()) {
        return Err(OAuthError::too_many_requests(
            "too many registrations from this address: try again later",
            retry_after,
        ));
    }
    let metadata = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(metadata)) if req.content_type().eq_ignore_ascii_case("application/json") => metadata,
        _ => return Err(invalid_metadata("the body must be a JSON object (application/json)")),
    };
    let requested = requested(&metadata)?;
    let actor = Actor::Anonymous { client_ip: address };
    let (app, requested) = state
        .db(move |conn| {
            let registration = Registration {
                name: &requested.name,
                redirect_uris: &requested.redirect_uris,
                client_uri: requested.client_uri.as_deref(),
                logo_uri: requested.logo_uri.as_deref(),
            };
            apps::register(conn, &actor, &registration).map(|app| (app, requested))
        })
        .await?
        .map_err(OAuthError::server_error)?;
    let mut response = no_store_json(Registered {
        client_id: app.client_id,
        client_id_issued_at: app.created_at.assume_utc().unix_timestamp(),
        client_name: app.name,
        redirect_uris: requested.redirect_uris.iter().map(|uri| uri.as_str().to_owned()).collect(),
        grant_types: requested.grant_types,
        response_types: requested.response_types,
        token_endpoint_auth_method: "none",
        client_uri: app.client_uri,
        logo_uri: app.logo_uri,
    });
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}
