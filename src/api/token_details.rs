//! `GET /v1/token_details`: what the presented credential is (SPEC §4).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiError;
use super::auth::bearer;
use super::error::ErrorBody;
use crate::http::AppState;
use crate::ops::verify::Verified;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/token_details").get(token_details));
}

/// What a credential is (SPEC §4).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TokenDetails {
    /// `projectToken`, `teamToken`, `deployKey` or `adminKey`.
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    team_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_name: Option<String>,
    name: String,
    /// Milliseconds since the Unix epoch.
    create_time: i64,
}

fn millis(at: time::PrimitiveDateTime) -> i64 {
    (at.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl From<&Verified> for TokenDetails {
    fn from(verified: &Verified) -> Self {
        let kind = verified.type_name();
        let team_id = verified.team_id();
        match verified {
            Verified::AppToken(token) => TokenDetails {
                kind,
                id: token.grant_id,
                team_id,
                project_id: token.project_id,
                deployment_name: None,
                name: token.app_name.clone(),
                create_time: millis(token.grant_created_at),
            },
            Verified::DeployKey(key) => TokenDetails {
                kind,
                id: key.id,
                team_id,
                project_id: Some(key.project_id),
                deployment_name: key.deployment.as_ref().map(|d| d.name.clone()),
                name: key.name.clone(),
                create_time: millis(key.created_at),
            },
            Verified::AdminKey(key) => TokenDetails {
                kind,
                id: key.deployment.id,
                team_id,
                project_id: Some(key.project_id),
                deployment_name: Some(key.deployment.name.clone()),
                name: key.deployment.name.clone(),
                create_time: millis(key.created_at),
            },
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/token_details",
    operation_id = "getTokenDetails",
    tag = "credentials",
    responses(
        (status = 200, description = "The presented credential", body = TokenDetails),
        (status = 401, description = "Missing, invalid or inactive credential", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(super) async fn token_details(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let verified = bearer(&req, &state).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenDetails::from(&*verified)))
}
