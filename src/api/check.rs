//! `POST /v1/check`: authorization decisions for platform backends (SPEC §4). Backends
//! authenticate with their credentials (HTTP Basic); an invalid or inactive credential under
//! test is `allowed: false`, never an error.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::authz::{Action, Decision, DeploymentRef, ProjectRef, Resource, decide};
use crate::db::models::{deployments, projects, teams};
use crate::db::{DbConnection, now};
use crate::domain::DeploymentType;
use crate::http::{AppState, body};
use crate::oauth::client_auth::{self, Caller, Presented};
use crate::ops::verify;

const BASIC: &str = r#"Basic realm="portcullis""#;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/check").post(check));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    token: String,
    action: String,
    resource: ResourceRequest,
    #[serde(default)]
    context: Option<Context>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceRequest {
    team: Option<String>,
    project: Option<String>,
    deployment: Option<String>,
}

#[derive(Deserialize, Default)]
struct Context {
    release_id: Option<String>,
}

#[derive(Serialize)]
struct CheckResponse {
    allowed: bool,
    reason: String,
}

impl From<Decision> for CheckResponse {
    fn from(decision: Decision) -> Self {
        CheckResponse { allowed: decision.allowed, reason: decision.reason }
    }
}

fn denied(reason: &str) -> CheckResponse {
    CheckResponse { allowed: false, reason: reason.to_owned() }
}

/// Looks the resource up; `None` when it does not exist.
fn resolve(conn: &mut DbConnection, resource: &ResourceRequest) -> diesel::QueryResult<Option<Resource>> {
    Ok(match (&resource.team, &resource.project, &resource.deployment) {
        (None, None, Some(name)) => {
            deployments::find_in_context_by_name(conn, name)?.map(|found| Resource::Deployment {
                team_id: found.team_id,
                project: ProjectRef { id: found.deployment.project_id, slug: found.project_slug },
                deployment: DeploymentRef {
                    id: found.deployment.id,
                    name: found.deployment.name,
                    deployment_type: DeploymentType::parse(&found.deployment.deployment_type)
                        .unwrap_or(DeploymentType::Custom),
                },
            })
        }
        (Some(team), project, None) => {
            let Some(team) = teams::find_by_slug(conn, team)? else {
                return Ok(None);
            };
            match project {
                None => Some(Resource::Team { team_id: team.id }),
                Some(slug) => projects::find(conn, team.id, slug)?
                    .map(|p| Resource::Project { team_id: team.id, project: ProjectRef { id: p.id, slug: p.slug } }),
            }
        }
        _ => None,
    })
}

async fn check(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let body = body::read(&req, payload, 16 * 1024).await.map_err(|error| match error {
        body::BodyError::TooLarge => ApiError::PayloadTooLarge("request body too large".into()),
        body::BodyError::Broken => ApiError::BadRequest("the request body could not be read".into()),
    })?;
    let presented = match client_auth::basic(&req) {
        Ok(Some((id, secret))) => Presented::Basic { id, secret },
        _ => return Err(ApiError::Unauthorized("backend credentials (HTTP Basic) are required".into(), BASIC)),
    };
    let request: CheckRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("invalid check request: {e}")))?;
    let action: Action = request.action.parse().map_err(ApiError::BadRequest)?;
    let shape_ok = matches!(
        (&request.resource.team, &request.resource.project, &request.resource.deployment),
        (Some(_), _, None) | (None, None, Some(_))
    );
    if !shape_ok {
        return Err(ApiError::BadRequest(
            "resource must be {\"team\"}, {\"team\", \"project\"} or {\"deployment\"}".into(),
        ));
    }
    let (usage, backends, verifier) = (state.usage.clone(), state.backends.clone(), state.verifier.clone());
    let response = state
        .db_read(move |conn| -> Result<CheckResponse, ApiError> {
            match client_auth::authenticate_caller(conn, &presented, &backends) {
                Ok(Caller::Backend) => {}
                Ok(Caller::App(_)) => {
                    return Err(ApiError::Forbidden("OAuth application credentials cannot ask for decisions".into()));
                }
                Err(_) => return Err(ApiError::Unauthorized("invalid backend credentials".into(), BASIC)),
            }
            let Some(verified) = verifier.verify(conn, &request.token, now()).map_err(ApiError::internal)? else {
                return Ok(denied("the credential is invalid, expired or revoked"));
            };
            usage.note_use(&verified);
            let Some(resource) = resolve(conn, &request.resource).map_err(ApiError::internal)? else {
                return Ok(denied("no such resource"));
            };
            let subject = verify::subject(conn, &verified).map_err(ApiError::internal)?;
            let release_id = request.context.unwrap_or_default().release_id;
            Ok(decide(&subject, action, &resource, release_id.as_deref()).into())
        })
        .await??;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(response))
}
