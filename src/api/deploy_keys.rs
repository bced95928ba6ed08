//! Deploy keys through an application's project token (SPEC §3: "a deploy key minted by an OAuth
//! application through its project token is a real, separately revocable key, linked to that
//! grant").
//!
//! - `POST /v1/deploy_keys` mints a key for a deployment of the token's project (or, with
//!   `"preview": true`, the project's preview deploy key); 201 with the key, shown once.
//! - `GET /v1/deploy_keys` lists the keys of the token's project (`deployKey:view`).
//! - `DELETE /v1/deploy_keys/{id}` revokes one (`deployKey:manage` where the key acts).
//!
//! The caller's standing is its user's, as it is now, within the token's scope.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use super::auth::{bearer, bearer_token};
use super::error::ErrorBody;
use crate::authz::{Action, Resource, decide};
use crate::db::DbConnection;
use crate::domain::{DeploymentName, DisplayName, RoleName, Slug};
use crate::http::{AppState, body, client_ip, text};
use crate::ops::access;
use crate::ops::decisions::ResourceName;
use crate::ops::deploy_keys::{
    self, CreatedKeyOut, ExpiresIn, KeyActions, KeyOut, KeyTarget, NewKeyParams, RevokedKeyOut,
};
use crate::ops::verify::{self, AppToken, Verified};
use crate::ops::{Actor, OpError};

const BODY_LIMIT: usize = 16 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/deploy_keys").post(create).get(list))
        .service(web::resource("/v1/deploy_keys/{id}").delete(revoke));
}

/// A deploy key to mint through a project token (give `deployment` or `"preview": true`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateRequest {
    name: String,
    /// A deployment of the token's project.
    deployment: Option<String>,
    /// The project's preview deploy key (`preview:<team>:<project>`) instead.
    #[serde(default)]
    preview: bool,
    /// Deployment actions; the SPEC §3 defaults when absent.
    actions: Option<Vec<String>>,
    role: Option<String>,
    /// Seconds from now, at least 1800.
    #[schema(minimum = 1800)]
    expires_in: Option<i64>,
}

/// The application token behind the request, or 403 for any other credential.
fn app_token(verified: &Verified) -> Result<&AppToken, ApiError> {
    match verified {
        Verified::AppToken(token) => Ok(token),
        _ => Err(ApiError::Forbidden("deploy keys are managed here through an application's project token".into())),
    }
}

fn params(request: CreateRequest, token: &AppToken) -> Result<NewKeyParams, ApiError> {
    let invalid = |e: crate::domain::Invalid| ApiError::Unprocessable(e.0);
    let target = match (request.deployment, request.preview) {
        (Some(name), false) => KeyTarget::Deployment(DeploymentName::parse(&name).map_err(invalid)?),
        (None, true) => match (&token.project_slug, Slug::parse(&token.team_slug)) {
            (Some(project), Ok(team)) => {
                KeyTarget::PreviewProject { team, project: Slug::parse(project).map_err(invalid)? }
            }
            _ => return Err(ApiError::Forbidden("only a project token can mint deploy keys".into())),
        },
        _ => return Err(ApiError::Unprocessable("give either \"deployment\" or \"preview\": true".into())),
    };
    let actions = request
        .actions
        .map(|names| names.iter().map(|n| n.parse::<Action>()).collect::<Result<Vec<_>, _>>())
        .transpose()
        .map_err(ApiError::Unprocessable)?;
    Ok(NewKeyParams {
        target,
        name: DisplayName::parse(&request.name).map_err(invalid)?,
        actions: KeyActions::new(actions.as_deref()).map_err(invalid)?,
        role: request.role.as_deref().map(RoleName::parse).transpose().map_err(invalid)?,
        expires_in: request.expires_in.map(ExpiresIn::seconds).transpose().map_err(invalid)?,
    })
}

#[utoipa::path(
    post,
    path = "/v1/deploy_keys",
    operation_id = "createDeployKey",
    tag = "deploy keys",
    request_body = CreateRequest,
    responses(
        (status = 201, description = "The key, shown once", body = CreatedKeyOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Missing or inactive credential", body = ErrorBody),
        (status = 403, description = "Not a project token, or its user may not grant this", body = ErrorBody),
        (status = 404, description = "No such deployment or role", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid name, actions or expiry", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(super) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = body::read(&req, payload, BODY_LIMIT).await;
    let verified = bearer(&req, &state).await?;
    let token = app_token(&verified)?;
    let request = body
        .map_err(|error| match error {
            body::BodyError::TooLarge => ApiError::PayloadTooLarge("request body too large".into()),
            body::BodyError::Broken => ApiError::BadRequest("the request body could not be read".into()),
        })
        .and_then(|body| Ok(text::json::<CreateRequest>(&body)?))?;
    let params = params(request, token)?;
    let presented = bearer_token(&req)?;
    let actor = Actor::App { client_id: token.client_id.clone(), client_ip: client_ip(&req) };
    let created = state.db(move |conn| deploy_keys::create_for_app(conn, &actor, &presented, &params)).await??;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(created))
}

#[derive(Serialize, ToSchema)]
pub(super) struct KeyList {
    deploy_keys: Vec<KeyOut>,
}

/// The token's user's standing, judged on `resource` (the token's scope applies).
fn allowed(conn: &mut DbConnection, verified: &Verified, action: Action, resource: &Resource) -> Result<bool, OpError> {
    let subject = verify::subject(conn, verified)?;
    Ok(decide(&subject, action, resource, None).allowed)
}

#[utoipa::path(
    get,
    path = "/v1/deploy_keys",
    operation_id = "listDeployKeys",
    tag = "deploy keys",
    responses(
        (status = 200, description = "The token's project's keys, newest first", body = KeyList),
        (status = 401, description = "Missing or inactive credential", body = ErrorBody),
        (status = 403, description = "Not a project token, or its user may not view keys", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(super) async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let verified = bearer(&req, &state).await?;
    let token = app_token(&verified)?;
    let (Some(project_id), Some(project_slug)) = (token.project_id, token.project_slug.as_deref()) else {
        return Err(ApiError::Forbidden("only a project token can list deploy keys".into()));
    };
    let slug = |s: &str| Slug::parse(s).map_err(OpError::from);
    let project = ResourceName::Project(slug(&token.team_slug)?, slug(project_slug)?);
    let keys = state
        .db_read(move |conn| -> Result<KeyList, OpError> {
            let project = access::resource(conn, &project)?;
            if !allowed(conn, &verified, Action::DeployKeyView, &project)? {
                return Err(OpError::Forbidden("the token's user may not view this project's deploy keys".into()));
            }
            Ok(KeyList { deploy_keys: deploy_keys::list_in_project(conn, project_id)? })
        })
        .await??;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(keys))
}

#[utoipa::path(
    delete,
    path = "/v1/deploy_keys/{id}",
    operation_id = "revokeDeployKey",
    tag = "deploy keys",
    params(("id" = i64, Path, description = "The key's id")),
    responses(
        (status = 200, description = "Revoked (or already revoked)", body = RevokedKeyOut),
        (status = 401, description = "Missing or inactive credential", body = ErrorBody),
        (status = 403, description = "Its user may not manage this key", body = ErrorBody),
        (status = 404, description = "No such key in the token's project", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(super) async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let verified = bearer(&req, &state).await?;
    let token = app_token(&verified)?;
    let missing = || OpError::NotFound("no such deploy key".into());
    let id: i64 = path.parse().map_err(|_| missing())?;
    let actor = Actor::App { client_id: token.client_id.clone(), client_ip: client_ip(&req) };
    let project_id = token.project_id;
    let revoked = state
        .db(move |conn| {
            let key = deploy_keys::show(conn, id)?;
            if Some(key.project_id) != project_id {
                return Err(missing());
            }
            let resource = access::resource(conn, &key.acts_on()?)?;
            if !allowed(conn, &verified, Action::DeployKeyManage, &resource)? {
                return Err(OpError::Forbidden("the token's user may not manage this deploy key".into()));
            }
            deploy_keys::revoke(conn, &actor, id)
        })
        .await??;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(revoked))
}
