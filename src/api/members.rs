//! A team's members (SPEC §2), through the same use cases as the CLI and the pages:
//!
//! - `GET /v1/teams/{team}/members` (`member:view`), paginated by user id;
//! - `POST /v1/teams/{team}/members` adds an existing user (`member:invite`);
//! - `PATCH /v1/teams/{team}/members/{user_id}` sets a built-in role or custom roles
//!   (`member:updateRole`);
//! - `PUT`/`DELETE /v1/teams/{team}/members/{user_id}/project_admin/{project}`;
//! - `DELETE /v1/teams/{team}/members/{user_id}` removes the member and revokes their grants.
//!
//! Nobody changes their own standing, and only a team admin hands out admin, project admin or
//! custom roles (`ops::access::authorize_member_change`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::actor;
use super::error::ErrorBody;
use super::input::{self, PAGE, Query, slug};
use super::{ApiError, no_store};
use crate::authz::Action;
use crate::db::models::users;
use crate::domain::{Email, RoleName, Slug, TeamRole};
use crate::http::AppState;
use crate::ops::members::{self, CustomRolesOut, MemberOut, Membership, ProjectAdminOut, RemovedOut};
use crate::ops::page::Page;
use crate::ops::{Actor, OpError, OpResult, access};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/teams/{team}/members").get(list).post(add))
        .service(web::resource("/v1/teams/{team}/members/{user_id}").patch(change).delete(remove))
        .service(
            web::resource("/v1/teams/{team}/members/{user_id}/project_admin/{project}")
                .put(grant_project_admin)
                .delete(revoke_project_admin),
        );
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/members",
    operation_id = "listMembers",
    tag = "members",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "Members, by user id", body = Page<Membership>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view members", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let page = Query::parse(&req, PAGE)?.page()?;
    let team = slug(&path, "team")?;
    let members = state
        .db_read(move |conn| -> OpResult<Page<Membership>> {
            let team = access::team(conn, &actor, &team, Action::MemberView)?;
            Ok(Page::of(members::list(conn, team.id)?, &page, |m| m.user_id))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(members))
}

/// An existing user to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewMember {
    email: String,
    /// `admin` or `developer` (custom roles are given afterwards).
    #[serde(default = "developer")]
    role: String,
}

fn developer() -> String {
    "developer".into()
}

#[utoipa::path(
    post,
    path = "/v1/teams/{team}/members",
    operation_id = "addMember",
    tag = "members",
    params(("team" = String, Path, description = "The team's slug")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added", body = MemberOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not add members, or not with this role", body = ErrorBody),
        (status = 404, description = "No such team or user", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
        (status = 422, description = "Invalid email or role", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let team = slug(&path, "team")?;
    let new: NewMember = input::json(&req, payload).await?;
    let email = Email::parse(&new.email).map_err(OpError::from)?;
    let role = TeamRole::parse(&new.role).map_err(OpError::from)?;
    let out = state.db(move |conn| members::add(conn, &actor, &team, &email, role)).await??;
    Ok(no_store(HttpResponse::Created()).json(out))
}

/// A new standing: give exactly one of `role` (built-in) or `custom_roles`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MemberChange {
    /// `admin` or `developer`; drops any custom roles.
    role: Option<String>,
    /// Names of the team's custom roles, in place of a built-in role.
    custom_roles: Option<Vec<String>>,
}

/// What a role change answers.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(super) enum RoleChanged {
    BuiltIn(MemberOut),
    Custom(CustomRolesOut),
}

/// The member's email, from the path's team and user id (`NotFound` for either).
fn member_email(conn: &mut crate::db::DbConnection, actor: &Actor, team: &Slug, user_id: &str) -> OpResult<Email> {
    let missing = || OpError::NotFound("no such member".into());
    let team = access::team(conn, actor, team, Action::MemberView)?;
    let user_id: i64 = user_id.parse().map_err(|_| missing())?;
    let user = users::find_by_id(conn, user_id)?.ok_or_else(missing)?;
    if crate::db::models::members::find(conn, team.id, user.id)?.is_none() {
        return Err(missing());
    }
    Email::parse(&user.email).map_err(|_| missing())
}

#[utoipa::path(
    patch,
    path = "/v1/teams/{team}/members/{user_id}",
    operation_id = "changeMemberRole",
    tag = "members",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("user_id" = i64, Path, description = "The member's user id"),
    ),
    request_body = MemberChange,
    responses(
        (status = 200, description = "The member's new standing", body = RoleChanged),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not make this change (their own role, or escalation)", body = ErrorBody),
        (status = 404, description = "No such team, member or role", body = ErrorBody),
        (status = 422, description = "Neither or both of role and custom_roles, or an invalid name", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, user_id) = path.into_inner();
    let team = slug(&team, "team")?;
    let change: MemberChange = input::json(&req, payload).await?;
    enum To {
        BuiltIn(TeamRole),
        Custom(Vec<RoleName>),
    }
    let to = match (change.role, change.custom_roles) {
        (Some(role), None) => To::BuiltIn(TeamRole::parse(&role).map_err(OpError::from)?),
        (None, Some(names)) => {
            To::Custom(names.iter().map(|name| RoleName::parse(name)).collect::<Result<_, _>>().map_err(OpError::from)?)
        }
        _ => return Err(ApiError::Unprocessable("give exactly one of \"role\" and \"custom_roles\"".into())),
    };
    let out = state
        .db(move |conn| -> OpResult<RoleChanged> {
            let email = member_email(conn, &actor, &team, &user_id)?;
            Ok(match to {
                To::BuiltIn(role) => RoleChanged::BuiltIn(members::set_role(conn, &actor, &team, &email, role)?),
                To::Custom(names) => {
                    RoleChanged::Custom(members::set_custom_roles(conn, &actor, &team, &email, &names)?)
                }
            })
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    delete,
    path = "/v1/teams/{team}/members/{user_id}",
    operation_id = "removeMember",
    tag = "members",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("user_id" = i64, Path, description = "The member's user id"),
    ),
    responses(
        (status = 200, description = "Removed; their grants in the team are revoked", body = RemovedOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not remove this member", body = ErrorBody),
        (status = 404, description = "No such team or member", body = ErrorBody),
        (status = 409, description = "The team's last admin", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, user_id) = path.into_inner();
    let team = slug(&team, "team")?;
    let out = state
        .db(move |conn| {
            let email = member_email(conn, &actor, &team, &user_id)?;
            members::remove(conn, &actor, &team, &email)
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

async fn project_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    on: bool,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, user_id, project) = path.into_inner();
    let team = slug(&team, "team")?;
    let project = slug(&project, "project")?;
    let out = state
        .db(move |conn| {
            let email = member_email(conn, &actor, &team, &user_id)?;
            members::set_project_admin(conn, &actor, &team, &project, &email, on)
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    put,
    path = "/v1/teams/{team}/members/{user_id}/project_admin/{project}",
    operation_id = "grantProjectAdmin",
    tag = "members",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("user_id" = i64, Path, description = "The member's user id"),
        ("project" = String, Path, description = "The project's slug"),
    ),
    responses(
        (status = 200, description = "The member is project admin of the project", body = ProjectAdminOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "Only a team admin grants project admin, never to themselves", body = ErrorBody),
        (status = 404, description = "No such team, member or project", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn grant_project_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    project_admin(req, state, path, true).await
}

#[utoipa::path(
    delete,
    path = "/v1/teams/{team}/members/{user_id}/project_admin/{project}",
    operation_id = "revokeProjectAdmin",
    tag = "members",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("user_id" = i64, Path, description = "The member's user id"),
        ("project" = String, Path, description = "The project's slug"),
    ),
    responses(
        (status = 200, description = "The member is no longer project admin of the project", body = ProjectAdminOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "Only a team admin changes project admin, never their own", body = ErrorBody),
        (status = 404, description = "No such team, member or project", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn revoke_project_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    project_admin(req, state, path, false).await
}
