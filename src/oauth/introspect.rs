//! Token introspection (RFC 7662) for backends and for apps asking about their own tokens.
//! Every answer comes from [`crate::ops::verify`]: the database's, as of this request.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::client_auth::{self, Caller};
use super::error::{OAuthError, no_store_json};
use super::request::{TokenRequest, token_request};
use crate::db::now;
use crate::domain::Audience;
use crate::http::AppState;
use crate::ops::verify::Verified;
use crate::telemetry::metrics;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oauth/introspect").post(introspect));
}

/// RFC 7662 §2.2. Inactive is exactly `{"active": false}`: every other member is omitted.
/// Borrows from the verified credential: answering allocates nothing but the body.
#[derive(Serialize, Default)]
pub struct Introspection<'a> {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// A string (RFC 7662), written from the id without formatting it first.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_string")]
    pub sub: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_slug: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_slug: Option<&'a str>,
    /// RFC 7662 §2.2 / RFC 8707: the resource server the token is for, or an array of them.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_aud")]
    pub aud: Option<&'a Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_roles: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_admin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<&'static str>>,
}

fn as_string<S: serde::Serializer>(id: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => serializer.collect_str(id),
        None => serializer.serialize_none(),
    }
}

fn as_aud<S: serde::Serializer>(audience: &Option<&Audience>, serializer: S) -> Result<S::Ok, S::Error> {
    match audience.map(Audience::uris) {
        Some([only]) => serializer.serialize_str(only.as_str()),
        Some(uris) => serializer.collect_seq(uris.iter().map(|uri| uri.as_str())),
        None => serializer.serialize_none(),
    }
}

fn unix(at: time::PrimitiveDateTime) -> i64 {
    at.assume_utc().unix_timestamp()
}

impl<'a> Introspection<'a> {
    pub fn inactive() -> Self {
        Introspection::default()
    }

    pub fn of(verified: &'a Verified) -> Self {
        let base = Introspection {
            active: true,
            token_type: Some("Bearer"),
            credential_type: Some(verified.type_name()),
            team_id: Some(verified.team_id()),
            ..Introspection::default()
        };
        match verified {
            Verified::AppToken(token) => Introspection {
                iat: Some(unix(token.issued_at)),
                exp: token.expires_at.map(unix),
                sub: Some(token.user_id),
                team_slug: Some(&token.team_slug),
                project_id: token.project_id,
                project_slug: token.project_slug.as_deref(),
                aud: token.audience.as_ref(),
                client_id: Some(&token.client_id),
                scope: Some(token.scope.as_str()),
                username: Some(&token.user_email),
                role: Some(token.role.as_str()),
                custom_roles: (!token.custom_roles.is_empty() || token.role == crate::domain::MemberRole::Custom)
                    .then(|| token.custom_roles.iter().map(|r| r.name.as_str()).collect()),
                project_admin: token.project_id.map(|_| token.project_admin),
                ..base
            },
            Verified::DeployKey(key) => Introspection {
                iat: Some(unix(key.created_at)),
                exp: key.expires_at.map(unix),
                sub: Some(key.id),
                team_slug: Some(&key.team_slug),
                project_id: Some(key.project_id),
                project_slug: Some(&key.project_slug),
                deployment: key.deployment.as_ref().map(|d| d.name.as_str()),
                allowed_actions: Some(key.allowed_actions().into_iter().map(|a| a.as_str()).collect()),
                ..base
            },
            Verified::AdminKey(key) => Introspection {
                iat: Some(unix(key.created_at)),
                sub: Some(key.deployment.id),
                team_slug: Some(&key.team_slug),
                project_id: Some(key.project_id),
                project_slug: Some(&key.project_slug),
                deployment: Some(&key.deployment.name),
                allowed_actions: Some(
                    crate::authz::Action::of_kind(crate::authz::ResourceKind::Deployment).map(|a| a.as_str()).collect(),
                ),
                ..base
            },
        }
    }
}

async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let TokenRequest { presented, token } = token_request(&req, payload).await?;
    let fresh = state.verifier.fresh().await;
    // A backend we know, asking about a credential kept in memory: no trip to the database.
    let recalled = client_auth::known_caller(&presented, &state.backends)
        .and_then(|_| state.verifier.recall(fresh, &token, now()));
    let verified = match recalled {
        Some(verified) => verified,
        None => {
            let (backends, verifier) = (state.backends.clone(), state.verifier.clone());
            state
                .db_read(move |conn| -> Result<Option<Arc<Verified>>, OAuthError> {
                    let caller = client_auth::authenticate_caller(conn, &presented, &backends)?;
                    let verified = verifier.verify(conn, fresh, &token, now()).map_err(OAuthError::server_error)?;
                    Ok(verified.filter(|v| match (&caller, &**v) {
                        (Caller::Backend, _) => true,
                        // An app may introspect its own tokens only.
                        (Caller::App(app), Verified::AppToken(token)) => token.client_id == app.client_id,
                        (Caller::App(_), _) => false,
                    }))
                })
                .await??
        }
    };
    metrics::introspection(verified.is_some());
    Ok(match verified {
        Some(verified) => {
            state.usage.note_use(&verified);
            no_store_json(Introspection::of(&verified))
        }
        None => no_store_json(Introspection::inactive()),
    })
}
