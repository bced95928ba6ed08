//! The device authorization endpoint (RFC 8628 §3.1–3.2, SPEC §7).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::error::{OAuthError, no_store_json};
use super::request::{form, resources};
use super::{client_auth, client_metadata};
use crate::domain::Scope;
use crate::http::AppState;
use crate::ops::grants::device::{self, DEVICE_NAME_MAX, Started};
use crate::ops::resources::check_targets;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth/device_authorization").post(device_authorization));
}

/// RFC 8628 §3.2.
#[derive(Serialize)]
struct DeviceAuthorizationResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: i64,
    interval: i64,
}

/// `device_name` (what the grant will be called next to the app's name, as Convex's CLI sends
/// it): trimmed; empty is none.
fn device_name(raw: Option<&str>) -> Result<Option<String>, OAuthError> {
    let Some(name) = raw.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > DEVICE_NAME_MAX {
        return Err(OAuthError::invalid_request(format!("device_name is longer than {DEVICE_NAME_MAX} characters")));
    }
    Ok(Some(name.to_owned()))
}

/// `POST /oauth/device_authorization`: `client_id` (with the client's authentication, as at
/// the token endpoint; `none` for public clients), `scope` (`project`, the default, or `team`),
/// an optional `device_name` and any number of RFC 8707 `resource`s.
async fn device_authorization(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let params = form(&req, payload).await?;
    let presented = client_auth::presented(&req, &params)?;
    if let Some(repeated) = params.first_repeated(&["scope", "device_name"]) {
        return Err(repeated.into());
    }
    let scope = match params.get("scope")? {
        None => Scope::Project,
        Some(requested) => {
            Scope::parse(requested).map_err(|_| OAuthError::invalid_scope("scope must be \"project\" or \"team\""))?
        }
    };
    let device_name = device_name(params.get("device_name")?)?;
    let resources = resources(&params)?;
    client_metadata::resolve_for_endpoint(&req, &state, presented.public_id()).await?;
    let policy = state.settings.policy;
    let started: Started = state
        .db(move |conn| -> Result<Started, OAuthError> {
            let app = client_auth::authenticate_app(conn, &presented, true)?;
            match check_targets(conn, resources.as_ref(), scope, None) {
                Ok(Ok(())) => {}
                Ok(Err(refused)) => return Err(OAuthError::invalid_target(refused.0)),
                Err(error) => return Err(OAuthError::server_error(error)),
            }
            device::start(conn, &app, scope, device_name.as_deref(), resources.as_ref(), &policy)
                .map_err(OAuthError::server_error)
        })
        .await??;
    let verification_uri = state.settings.url("/device");
    let user_code = started.user_code.display();
    Ok(no_store_json(DeviceAuthorizationResponse {
        device_code: started.device_code,
        verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
        verification_uri,
        user_code,
        expires_in: started.expires_in,
        interval: started.interval,
    }))
}
