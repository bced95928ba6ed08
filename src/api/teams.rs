//! The caller and their teams:
//!
//! - `GET /v1/me`: who is calling, their teams (a token: its own team only) and, for a
//!   session, the CSRF token its changes must carry.
//! - `GET /v1/teams/{team}` (`team:view`), `PATCH /v1/teams/{team}` (`team:update`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::{actor, caller};
use super::error::ErrorBody;
use super::input::{self, slug};
use super::{ApiError, no_store};
use crate::authz::Action;
use crate::db::models::users;
use crate::domain::{DisplayName, Slug};
use crate::http::AppState;
use crate::ops::teams::{self, TeamOut};
use crate::ops::{Actor, OpError, access};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/me").get(me)).service(web::resource("/v1/teams/{team}").get(show).patch(update));
}

#[derive(Serialize, ToSchema)]
pub(super) struct Me {
    id: i64,
    email: String,
    name: String,
    teams: Vec<MyTeam>,
    /// Send as `X-CSRF-Token` with every change made through the session; absent for a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct MyTeam {
    slug: String,
    name: String,
    /// The caller's built-in role: `admin`, `developer` or `custom`.
    role: String,
}

#[utoipa::path(
    get,
    path = "/v1/me",
    operation_id = "getMe",
    tag = "teams",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "A credential that does not manage teams", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn me(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let caller = caller(&req, &state).await?;
    let (user_id, only_team) = match &caller.actor {
        Actor::Token { user_id, .. } => (*user_id, token_team(&req, &state).await?),
        actor => (actor.person().ok_or_else(|| ApiError::Forbidden("not a person".into()))?, None),
    };
    let csrf_token = caller.csrf_token;
    let me = state
        .db_read(move |conn| -> Result<Me, OpError> {
            let user = users::find_by_id(conn, user_id)?.ok_or_else(|| OpError::NotFound("no such user".into()))?;
            let teams = teams::memberships(conn, user_id)?
                .into_iter()
                .filter(|(team, _)| only_team.is_none_or(|id| id == team.id))
                .map(|(team, role)| MyTeam { slug: team.slug, name: team.name, role: role.as_str().to_owned() })
                .collect();
            Ok(Me { id: user.id, email: user.email, name: user.name, teams, csrf_token })
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(me))
}

/// The team an application token acts in.
async fn token_team(req: &HttpRequest, state: &AppState) -> Result<Option<i64>, ApiError> {
    Ok(Some(super::auth::bearer(req, state).await?.team_id()))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}",
    operation_id = "getTeam",
    tag = "teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The team", body = TeamOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view it", body = ErrorBody),
        (status = 404, description = "No such team (or not the caller's)", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let team = slug(&path, "team")?;
    let out = state
        .db_read(move |conn| access::team(conn, &actor, &team, Action::TeamView).map(|team| TeamOut::from(&team)))
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

/// Changes to a team; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamChange {
    /// A new slug. Tokens keep working: their prefixes record the slug at issue time.
    slug: Option<String>,
    name: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/v1/teams/{team}",
    operation_id = "updateTeam",
    tag = "teams",
    params(("team" = String, Path, description = "The team's slug")),
    request_body = TeamChange,
    responses(
        (status = 200, description = "The team as it is now", body = TeamOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not update it", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        (status = 422, description = "Invalid slug or name", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let team = slug(&path, "team")?;
    let change: TeamChange = input::json(&req, payload).await?;
    let new_slug = change.slug.as_deref().map(Slug::parse).transpose().map_err(OpError::from)?;
    let name = change.name.as_deref().map(DisplayName::parse).transpose().map_err(OpError::from)?;
    let out = state.db(move |conn| teams::update(conn, &actor, &team, new_slug.as_ref(), name.as_ref())).await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}
