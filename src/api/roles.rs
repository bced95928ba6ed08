//! A team's custom roles (SPEC §2): `GET`/`POST /v1/teams/{team}/roles` and
//! `GET`/`PUT`/`DELETE /v1/teams/{team}/roles/{name}`. Reading needs `team:view`, changing
//! `customRole:manage` (never delegated to an application token). An edit applies to every
//! member and key holding the role on their next request.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::caller::actor;
use super::error::ErrorBody;
use super::input::{self, PAGE, Query, slug};
use super::{ApiError, no_store};
use crate::authz::Action;
use crate::domain::{RoleName, Slug};
use crate::http::AppState;
use crate::ops::page::Page;
use crate::ops::roles::{self, DeletedRoleOut, RoleOut};
use crate::ops::{OpError, OpResult, access};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/teams/{team}/roles").get(list).post(create))
        .service(web::resource("/v1/teams/{team}/roles/{name}").get(show).put(replace).delete(delete));
}

fn path_of(path: (String, String)) -> Result<(Slug, RoleName), ApiError> {
    let name = RoleName::parse(&path.1).map_err(|_| ApiError::NotFound("no such role".into()))?;
    Ok((slug(&path.0, "team")?, name))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/roles",
    operation_id = "listRoles",
    tag = "roles",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "From the previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "The team's roles, by id", body = Page<RoleOut>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view the team", body = ErrorBody),
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
    let out = state
        .db_read(move |conn| -> OpResult<Page<RoleOut>> {
            access::team(conn, &actor, &team, Action::TeamView)?;
            Ok(Page::of(roles::list(conn, &team)?, &page, |role| role.id))
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

/// A role's definition.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleDefinition {
    /// SPEC §2 statements: `{"effect": "allow"|"deny", "actions": [..] | "*", "resource": R}`.
    #[schema(value_type = Vec<Object>)]
    statements: Value,
}

/// A new role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewRole {
    name: String,
    #[schema(value_type = Vec<Object>)]
    statements: Value,
}

#[utoipa::path(
    post,
    path = "/v1/teams/{team}/roles",
    operation_id = "createRole",
    tag = "roles",
    params(("team" = String, Path, description = "The team's slug")),
    request_body = NewRole,
    responses(
        (status = 201, description = "Created", body = RoleOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not manage roles", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 409, description = "The team has a role by that name", body = ErrorBody),
        (status = 422, description = "Invalid name or statements", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let team = slug(&path, "team")?;
    let new: NewRole = input::json(&req, payload).await?;
    let name = RoleName::parse(&new.name).map_err(OpError::from)?;
    let statements = new.statements.to_string();
    let out = state.db(move |conn| roles::create(conn, &actor, &team, &name, &statements)).await??;
    Ok(no_store(HttpResponse::Created()).json(out))
}

#[utoipa::path(
    get,
    path = "/v1/teams/{team}/roles/{name}",
    operation_id = "getRole",
    tag = "roles",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("name" = String, Path, description = "The role's name"),
    ),
    responses(
        (status = 200, description = "The role, with who holds it", body = RoleOut),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not view the team", body = ErrorBody),
        (status = 404, description = "No such team or role", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, name) = path_of(path.into_inner())?;
    let out = state
        .db_read(move |conn| {
            access::team(conn, &actor, &team, Action::TeamView)?;
            roles::show(conn, &team, &name)
        })
        .await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    put,
    path = "/v1/teams/{team}/roles/{name}",
    operation_id = "replaceRole",
    tag = "roles",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("name" = String, Path, description = "The role's name"),
    ),
    request_body = RoleDefinition,
    responses(
        (status = 200, description = "The role as it is now", body = RoleOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not manage roles", body = ErrorBody),
        (status = 404, description = "No such team or role", body = ErrorBody),
        (status = 422, description = "Invalid statements", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let (team, name) = path_of(path.into_inner())?;
    let definition: RoleDefinition = input::json(&req, payload).await?;
    let statements = definition.statements.to_string();
    let out = state.db(move |conn| roles::update(conn, &actor, &team, &name, &statements)).await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}

#[utoipa::path(
    delete,
    path = "/v1/teams/{team}/roles/{name}",
    operation_id = "deleteRole",
    tag = "roles",
    params(
        ("team" = String, Path, description = "The team's slug"),
        ("name" = String, Path, description = "The role's name"),
        ("force" = Option<bool>, Query, description = "Take the role from its members and keys first"),
    ),
    responses(
        (status = 200, description = "Deleted", body = DeletedRoleOut),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "No session and no credential", body = ErrorBody),
        (status = 403, description = "The caller may not manage roles", body = ErrorBody),
        (status = 404, description = "No such team or role", body = ErrorBody),
        (status = 409, description = "Still held, and force was not given", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub(super) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &state).await?;
    let force = match Query::parse(&req, &["force"])?.get("force")? {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::BadRequest("force must be true or false".into())),
    };
    let (team, name) = path_of(path.into_inner())?;
    let out = state.db(move |conn| roles::delete(conn, &actor, &team, &name, force)).await??;
    Ok(no_store(HttpResponse::Ok()).json(out))
}
