//! `POST /v1/check`: authorization decisions for platform backends (SPEC §4). Backends
//! authenticate with their credentials (HTTP Basic); an invalid or inactive credential under
//! test is `allowed: false` with `reason: "inactive"`, never an error, and a resource that does
//! not or cannot exist is `no_such_resource`. The answer is [`Decision`], its `reason` one of
//! the strings [`Reason`] lists.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiError;
use super::error::ErrorBody;
use crate::authz::{Action, Decision, Reason};
use crate::db::now;
use crate::domain::{DeploymentName, Slug};
use crate::http::{AppState, body, text};
use crate::oauth::client_auth::{self, Caller, Presented};
use crate::ops::decisions::{self, ResourceName};
use crate::ops::verify::{AppToken, Verified};

const BASIC: &str = r#"Basic realm="portcullis""#;
const BODY_LIMIT: usize = 16 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/check").post(check));
}

/// What to decide: may `token` perform `action` on `resource`?
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckRequest {
    /// Any credential of SPEC §3.
    token: String,
    /// An action of the vocabulary (SPEC §2), e.g. `deployment:deploy`.
    #[schema(schema_with = super::openapi::action)]
    action: String,
    resource: ResourceRequest,
    #[serde(default)]
    context: Option<Context>,
    /// The resource server asking (RFC 8707): a token bound to other resource servers is
    /// `allowed: false` (`wrong_audience`). A token bound to none is judged as usual.
    #[serde(default)]
    resource_server: Option<String>,
}

/// `{"team"}`, `{"team", "project"}` (slugs) or `{"deployment"}` (name).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ResourceRequest {
    team: Option<String>,
    project: Option<String>,
    deployment: Option<String>,
}

/// Facts about the request being decided.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct Context {
    /// The release being promoted (`releases:promote` by a deploy key needs one).
    release_id: Option<String>,
}

/// A request that parsed: what to decide. `resource` is `None` when it names something that
/// cannot exist (a malformed slug or deployment name): that is a denial, like a resource that
/// does not exist.
struct Question {
    token: String,
    action: Action,
    resource: Option<ResourceName>,
    release_id: Option<String>,
    resource_server: Option<String>,
}

impl TryFrom<CheckRequest> for Question {
    type Error = ApiError;

    fn try_from(request: CheckRequest) -> Result<Self, ApiError> {
        let action: Action = request.action.parse().map_err(ApiError::BadRequest)?;
        let slug = |s: &str| Slug::parse(s).ok();
        let resource = match (request.resource.team, request.resource.project, request.resource.deployment) {
            (Some(team), None, None) => slug(&team).map(ResourceName::Team),
            (Some(team), Some(project), None) => {
                slug(&team).zip(slug(&project)).map(|(t, p)| ResourceName::Project(t, p))
            }
            (None, None, Some(name)) => DeploymentName::parse(&name).ok().map(ResourceName::Deployment),
            _ => {
                return Err(ApiError::BadRequest(
                    "resource must be {\"team\"}, {\"team\", \"project\"} or {\"deployment\"}".into(),
                ));
            }
        };
        let release_id = request.context.unwrap_or_default().release_id;
        Ok(Question { token: request.token, action, resource, release_id, resource_server: request.resource_server })
    }
}

/// Authenticates the backend first (missing or wrong credentials are 401 whatever the body
/// says), then judges the body. The body is read before anything else all the same, so that
/// the connection stays usable (actix closes one whose request body was left unread).
#[utoipa::path(
    post,
    path = "/v1/check",
    operation_id = "check",
    tag = "decisions",
    request_body = CheckRequest,
    responses(
        (status = 200, description = "The decision; an invalid or inactive credential is `allowed: false`", body = Decision),
        (status = 400, description = "Malformed body or unknown action", body = ErrorBody),
        (status = 401, description = "Missing or wrong backend credentials", body = ErrorBody),
        (status = 403, description = "An OAuth application's credentials", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    ),
    security(("backend" = [])),
)]
pub(super) async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = body::read(&req, payload, BODY_LIMIT).await;
    let presented = match client_auth::basic(&req) {
        Ok(Some((id, secret))) => Presented::Basic { id, secret },
        _ => return Err(ApiError::Unauthorized("backend credentials (HTTP Basic) are required".into(), BASIC)),
    };
    let question = body
        .map_err(|error| match error {
            body::BodyError::TooLarge => ApiError::PayloadTooLarge("request body too large".into()),
            body::BodyError::Broken => ApiError::BadRequest("the request body could not be read".into()),
        })
        .and_then(|body| Ok(text::json::<CheckRequest>(&body)?))
        .and_then(Question::try_from);
    let fresh = state.verifier.fresh().await;
    let (usage, backends, verifier) = (state.usage.clone(), state.backends.clone(), state.verifier.clone());
    let decision = state
        .db_read(move |conn| -> Result<Decision, ApiError> {
            match client_auth::authenticate_caller(conn, &presented, &backends) {
                Ok(Caller::Backend) => {}
                Ok(Caller::App(_)) => {
                    return Err(ApiError::Forbidden("OAuth application credentials cannot ask for decisions".into()));
                }
                Err(_) => return Err(ApiError::Unauthorized("invalid backend credentials".into(), BASIC)),
            }
            let question = question?;
            let Some(verified) = verifier.verify(conn, fresh, &question.token, now()).map_err(ApiError::internal)?
            else {
                return Ok(Reason::Inactive.into());
            };
            usage.note_use(&verified);
            if let (Some(asking), Verified::AppToken(AppToken { audience: Some(audience), .. })) =
                (&question.resource_server, verified.as_ref())
                && !audience.contains(asking)
            {
                return Ok(Reason::WrongAudience.into());
            }
            let Some(resource) = &question.resource else {
                return Ok(Reason::NoSuchResource.into());
            };
            decisions::check(conn, &verified, question.action, resource, question.release_id.as_deref())
                .map_err(ApiError::internal)
        })
        .await??;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(decision))
}
